//! The contributor workflow: history integrity, the schema diagram, the stairway test, the
//! pre-commit hook and the onboarding script, each on a temporary project or git clone.

mod common;

use std::path::Path;

use common::Project;

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec![
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.com",
        "-c",
        "init.defaultBranch=main",
    ];
    full.extend_from_slice(args);
    duct::cmd("git", &full)
        .dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("DEV_BIN", common::BIN)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap()
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let output = git(dir, args);
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The blog fixture with one generated version, so versions/dev.sum exists.
fn recorded_project() -> Project {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    project.assert_check_passes();
    project
}

fn check_fails_with(project: &Project, expected: &str) -> String {
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(expected), "{run:?}");
    run.stderr
}

#[test]
fn edited_version_is_caught_and_rehash_accepts_it() {
    let project = recorded_project();
    let first = "versions/2026-01-01-000000_create_blog/up.sql";
    project.write(first, &format!("{}\n-- a comment\n", project.read(first)));
    let stderr = check_fails_with(
        &project,
        "version 2026-01-01-000000_create_blog changed after it was recorded",
    );
    assert!(
        stderr.contains("never edit a migration others may have applied"),
        "{stderr}"
    );
    assert!(stderr.contains("cargo run -p dev -- rehash"), "{stderr}");

    let refused = project.assert_rejected(&["generate", "--empty", "more"]);
    assert!(
        refused.stderr.contains("does not match dev.sum"),
        "{refused:?}"
    );

    let rehash = project.run(&["rehash"]);
    assert_eq!(rehash.code, Some(0), "{rehash:?}");
    project.assert_check_passes();
}

#[test]
fn removed_and_out_of_order_versions_are_caught() {
    let project = recorded_project();
    let newest = project.newest();
    std::fs::remove_dir_all(project.file(&newest)).unwrap();
    project.edit_schema("        views -> Nullable<BigInt>,\n", "");
    check_fails_with(&project, "was recorded but is gone from versions/");

    let project = recorded_project();
    project.write("versions/2026-01-02-000000_late/up.sql", "SELECT 1;\n");
    project.write("versions/2026-01-02-000000_late/down.sql", "SELECT 1;\n");
    let stderr = check_fails_with(
        &project,
        "version 2026-01-02-000000_late is older than versions recorded before it arrived",
    );
    assert!(stderr.contains("run `generate` again"), "{stderr}");
}

#[test]
fn two_branches_adding_a_version_on_the_same_parent_are_caught_after_the_merge() {
    let project = recorded_project();
    let repo = project.path();
    git_ok(repo, &["init", "-q"]);
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "base"]);
    git_ok(repo, &["checkout", "-q", "-b", "theirs"]);
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        level -> Nullable<Text>,\n",
    );
    let theirs = project.generate("add audit level");
    // Their version a year later than ours will be, whatever this machine's clock says.
    std::fs::rename(
        project.file(&theirs),
        project.file("versions/2099-01-01-000000_add_audit_level"),
    )
    .unwrap();
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "theirs"]);
    git_ok(repo, &["checkout", "-q", "main"]);
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        bio -> Nullable<Text>,\n",
    );
    project.generate("add user bio");
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "ours"]);
    let merge = git(repo, &["merge", "-q", "theirs"]);
    assert!(!merge.status.success(), "dev.sum must conflict: {merge:?}");
    assert!(
        String::from_utf8_lossy(&merge.stdout).contains("dev.sum"),
        "{merge:?}"
    );
    let stderr = check_fails_with(
        &project,
        "two branches each added a version on the same parent",
    );
    assert!(
        stderr.contains("run `generate` again so yours comes after theirs"),
        "{stderr}"
    );
}

#[test]
fn diagram_is_written_between_markers_and_checked_for_freshness() {
    let project = recorded_project();
    project.write(
        "schema/README.md",
        "# Blog schema\n\nHand-written words stay.\n",
    );
    let run = project.run(&["diagram"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let readme = project.read("schema/README.md");
    assert!(
        readme.starts_with("# Blog schema\n\nHand-written words stay.\n\n<!-- dev diagram: begin"),
        "{readme}"
    );
    assert!(
        readme.contains("erDiagram\n    audit {\n        Integer id PK\n"),
        "{readme}"
    );
    assert!(
        readme.contains("    users ||--o{ posts : \"user_id\"\n"),
        "{readme}"
    );
    project.assert_check_passes();

    project.edit_schema(
        "        views -> Nullable<BigInt>,\n",
        "        views -> Nullable<BigInt>,\n        likes -> Nullable<BigInt>,\n",
    );
    project.generate("add likes");
    let stderr = check_fails_with(&project, "the diagram in schema/README.md is out of date");
    assert!(stderr.contains("cargo run -p dev -- diagram"), "{stderr}");
    project.run(&["diagram"]);
    project.assert_check_passes();
    assert!(project
        .read("schema/README.md")
        .contains("BigInt likes \"nullable\""));
}

#[test]
fn verify_walks_the_history_and_catches_a_broken_down() {
    let project = recorded_project();
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("Verified 2 versions"), "{run:?}");
    project.assert_no_temp_leftovers();

    let newest = project.newest();
    project.write(&format!("{newest}/down.sql"), "SELECT 1;\n");
    let broken = project.run(&["verify"]);
    assert_eq!(broken.code, Some(1), "{broken:?}");
    assert!(
        broken
            .stderr
            .contains("does not come back down to the schema before it"),
        "{broken:?}"
    );
    assert!(
        broken
            .stderr
            .contains(newest.trim_start_matches("versions/")),
        "{broken:?}"
    );

    project.write(
        &format!("{newest}/down.sql"),
        "ALTER TABLE posts DROP COLUMN views;\nDELETE FROM audit;\n",
    );
    let lossy = project.run(&["verify"]);
    assert_eq!(lossy.code, Some(1), "{lossy:?}");
    assert!(lossy.stderr.contains("loses data"), "{lossy:?}");
    project.assert_no_temp_leftovers();
}

/// A git repository holding the fixture, this repository's hook and onboarding script, and a
/// Cargo.toml naming the toolchain it needs.
fn repository(rust_version: &str) -> Project {
    let project = Project::fixture("blog");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["hooks/pre-commit", "onboard.sh"] {
        let target = project.file(&format!("dev/{file}"));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), &target).unwrap();
    }
    project.write(
        "Cargo.toml",
        &format!("[workspace.package]\nrust-version = \"{rust_version}\"\n"),
    );
    project.write(".gitignore", "/local/\n/target\n");
    git_ok(project.path(), &["init", "-q"]);
    git_ok(project.path(), &["add", "-A"]);
    git_ok(project.path(), &["commit", "-q", "-m", "start"]);
    project
}

#[test]
fn hook_blocks_a_commit_without_its_migration_then_lets_it_through() {
    let project = repository("1.70");
    let install = project.run(&["install-hooks"]);
    assert_eq!(install.code, Some(0), "{install:?}");
    assert_eq!(
        git_ok(project.path(), &["config", "core.hooksPath"]).trim(),
        "dev/hooks"
    );

    project.add_posts_views();
    git_ok(project.path(), &["add", "-A"]);
    let blocked = git(project.path(), &["commit", "-q", "-m", "views"]);
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert!(
        stderr.contains("cargo run -p dev -- generate \"add posts.views\""),
        "{stderr}"
    );

    project.generate("add views");
    git_ok(project.path(), &["add", "-A"]);
    git_ok(project.path(), &["commit", "-q", "-m", "views"]);

    // Nothing under schema/ or versions/ staged: the hook does no work, not even find the tool.
    project.write("NOTES.md", "notes\n");
    git_ok(project.path(), &["add", "NOTES.md"]);
    let quick = duct::cmd(
        "git",
        [
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "notes",
        ],
    )
    .dir(project.path())
    .env("DEV_BIN", "/nonexistent/dev")
    .stderr_capture()
    .unchecked()
    .run()
    .unwrap();
    assert!(quick.status.success(), "{quick:?}");
}

#[test]
fn onboarding_sets_up_a_fresh_clone_and_is_safe_to_run_twice() {
    let origin = repository("1.70");
    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git_ok(
        clones.path(),
        &["clone", "-q", origin.path().to_str().unwrap(), "clone"],
    );
    for round in 1..=2 {
        let output = duct::cmd("bash", ["dev/onboard.sh"])
            .dir(&clone)
            .env("DEV_BIN", common::BIN)
            .env("TMPDIR", origin.tmp.path())
            .env_remove("DATABASE_URL")
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "round {round}: {text}");
        assert!(text.contains("onboard: ready"), "{text}");
        assert!(text.contains("schema.rs matches versions/"), "{text}");
    }
    assert_eq!(
        git_ok(&clone, &["config", "core.hooksPath"]).trim(),
        "dev/hooks"
    );
    let conn = rusqlite::Connection::open(clone.join("local/app.sqlite3")).unwrap();
    let applied: i64 = conn
        .query_row("SELECT count(*) FROM __diesel_schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(applied, 1);
    assert_eq!(
        git_ok(&clone, &["status", "--porcelain"]),
        "",
        "onboarding left files git sees"
    );
    origin.assert_no_temp_leftovers();
}

#[test]
fn onboarding_stops_on_a_toolchain_that_is_too_old() {
    let origin = repository("99.0");
    let output = duct::cmd("bash", ["dev/onboard.sh"])
        .dir(origin.path())
        .env("DEV_BIN", common::BIN)
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("older than the workspace's rust-version 99.0"),
        "{stderr}"
    );
    assert!(stderr.contains("rustup update"), "{stderr}");
}

#[test]
fn this_repository_verifies_its_own_history_checksums_and_diagram() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let project = dev::project::Project::load(root).unwrap();
    let summary = dev::verify::verify(&project).unwrap();
    assert!(summary.starts_with("Verified "), "{summary}");
    let comparison =
        dev::commands::compare(&project, false, false, &mut dev::timing::Timings::default())
            .unwrap();
    assert!(
        comparison.changes.is_empty(),
        "schema.rs has no migration: run generate"
    );
    let problems = dev::commands::history_problems(&project, &comparison).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(dev::integrity::recorded(&project.versions_dir));
    assert!(
        dev::commands::diagram_problem(&project, &comparison).is_none(),
        "run `cargo run -p dev -- diagram`"
    );
}
