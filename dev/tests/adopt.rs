//! `init` on a Diesel project that already has a hand-written history (rebuilds, an index, a
//! trigger, two downs that do not restore), laid out as `diesel setup` leaves it:
//! `migrations/` and `src/schema.rs`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::*;

/// The fixture in a git clone with one commit.
fn adopted_project() -> Project {
    let project = Project::fixture("adopt");
    git_ok(project.path(), &["init", "-q"]);
    git_ok(project.path(), &["add", "-A"]);
    git_ok(project.path(), &["commit", "-q", "-m", "before the tool"]);
    project
}

fn migrations(project: &Project) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    project
        .snapshot()
        .into_iter()
        .filter(|(path, _)| path.starts_with("migrations") && !path.ends_with("dev.sum"))
        .collect()
}

#[test]
fn init_adopts_a_history_without_changing_a_version_and_reports_what_it_would_refuse() {
    let project = adopted_project();
    let versions = migrations(&project);
    let before = project.run(&["check"]);
    assert!(
        before
            .stderr
            .contains("note: migrations/ has no dev.sum yet"),
        "the note names the project's own migrations directory: {before:?}"
    );
    let run = project.run(&["init", "--diagram"]);
    assert_eq!(run.code, Some(1), "findings exit 1: {run:?}");
    for line in [
        "Recorded the checksums of 10 versions in migrations/dev.sum",
        "Wrote the schema diagram into src/README.md",
        "Kept the migrations and schema files LF in every clone (.gitattributes)",
        "Installed the pre-commit hook at",
        "Walked 10 versions up, down and up again on seeded rows: 2 findings below",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:?}");
    }
    for finding in [
        // The hand rebuild's CAST turns the text '007' into 7.0.
        "error[C403]: version 2024-01-06-000006_tasks_estimate_as_real loses data: after up.sql, tasks.estimate of the row id = -2147483648 changed: '007' became 7.0",
        "error[C403]: version 2024-01-09-000009_add_account_plan does not come back down",
    ] {
        assert!(run.stderr.contains(finding), "{finding}: {run:?}");
    }
    assert_eq!(migrations(&project), versions, "init changed a version");
    project.assert_no_temp_leftovers();
    let attributes = project.read(".gitattributes");
    assert!(
        attributes.contains("migrations/** text eol=lf\nsrc/schema.rs text eol=lf\n"),
        "{attributes}"
    );

    // What init recorded passes the check, and a second run adds nothing.
    let check = project.run(&["check"]);
    assert_eq!(check.code, Some(0), "{check:?}");
    assert!(
        check
            .stdout
            .contains("schema.rs matches migrations/ (10 migrations)"),
        "{check:?}"
    );
    let before = project.snapshot();
    let again = project.run(&["init"]);
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(
        !again.stdout.contains("Recorded") && !again.stdout.contains("Installed"),
        "{again:?}"
    );
    assert_eq!(
        project.snapshot(),
        before,
        "a second init changed the project"
    );

    // The hook it installed blocks a schema change without its migration.
    git_ok(project.path(), &["add", "-A"]);
    git_ok(project.path(), &["commit", "-q", "-m", "adopt dev"]);
    let schema = project.read("src/schema.rs");
    project.write(
        "src/schema.rs",
        &schema.replace(
            "        happened -> Text,\n",
            "        happened -> Text,\n        actor -> Nullable<Text>,\n",
        ),
    );
    git_ok(project.path(), &["add", "src/schema.rs"]);
    let commit = git(project.path(), &["commit", "-q", "-m", "actor"]);
    let stderr = String::from_utf8_lossy(&commit.stderr);
    assert!(
        !commit.status.success(),
        "the hook let it through: {stderr}"
    );
    assert!(stderr.contains("add column audit.actor"), "{stderr}");
    assert!(
        stderr.contains("pre-commit: commit blocked by the check above"),
        "{stderr}"
    );
}

#[test]
fn init_leaves_another_pre_commit_hook_alone_and_says_what_to_add() {
    let project = adopted_project();
    project.write(".git/hooks/pre-commit", "#!/bin/sh\ncargo fmt --check\n");
    let run = project.run(&["init"]);
    assert!(
        run.stderr
            .contains(".git/hooks/pre-commit is another pre-commit hook"),
        "{run:?}"
    );
    assert!(run.stderr.contains("dev -C '.' check --staged"), "{run:?}");
    assert_eq!(
        project.read(".git/hooks/pre-commit"),
        "#!/bin/sh\ncargo fmt --check\n"
    );
}
