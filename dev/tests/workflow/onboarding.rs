//! The onboarding script on a fresh clone, and how it and the hook find the tool through
//! cargo wherever it is built.

use std::path::Path;

use crate::common::{self, git_ok, git_with};
use crate::{fake_cargo, files_under, path_with, repository, stderr_of};

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
        let (succeeded, text) =
            onboard(&clone, origin.tmp.path(), |c| c.env("DEV_BIN", common::BIN));
        assert!(succeeded, "round {round}: {text}");
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
fn hook_and_onboarding_find_the_tool_through_cargo_wherever_it_is_built() {
    // The tool lives where cargo says (as with CARGO_TARGET_DIR), never in target/debug.
    let cargo = fake_cargo(0);
    let project = repository("1.70");
    let (succeeded, text) = onboard(project.path(), project.tmp.path(), |c| {
        c.env("PATH", path_with(&cargo)).env_remove("DEV_BIN")
    });
    assert!(succeeded, "{text}");
    assert!(text.contains("schema.rs matches versions/"), "{text}");

    let through_cargo =
        |git: duct::Expression| git.env("PATH", path_with(&cargo)).env_remove("DEV_BIN");
    project.add_posts_views();
    git_ok(project.path(), &["add", "schema"]);
    let blocked = git_with(
        project.path(),
        &["commit", "-q", "-m", "views"],
        through_cargo,
    );
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = stderr_of(&blocked);
    assert!(
        stderr.contains("commit blocked by the check above"),
        "{stderr}"
    );
    assert!(stderr.contains("generate \"add posts.views\""), "{stderr}");

    project.generate("add views");
    git_ok(project.path(), &["add", "-A"]);
    let commit = git_with(
        project.path(),
        &["commit", "-q", "-m", "views"],
        through_cargo,
    );
    assert!(commit.status.success(), "{commit:?}");
    let log = std::fs::read_to_string(cargo.path().join("cargo.log")).unwrap();
    assert!(
        log.contains("run --quiet -p dev -- check --staged"),
        "{log}"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn a_clone_with_autocrlf_gets_lf_where_it_matters_and_onboards() {
    let origin = repository("1.70");
    origin.add_posts_views();
    origin.generate("add views");
    origin.run(&["diagram"]);
    origin.write("NOTES.md", "line one\nline two\n");
    git_ok(origin.path(), &["add", "-A"]);
    git_ok(origin.path(), &["commit", "-q", "-m", "views"]);

    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git_ok(
        clones.path(),
        &[
            "clone",
            "-q",
            "-c",
            "core.autocrlf=true",
            origin.path().to_str().unwrap(),
            "clone",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("NOTES.md")).unwrap(),
        "line one\r\nline two\r\n",
        "without .gitattributes this clone converts text to CRLF"
    );
    let mut lf_files = files_under(&clone.join("versions"));
    lf_files.extend(files_under(&clone.join("schema")));
    lf_files.push(clone.join("dev/onboard.sh"));
    lf_files.push(clone.join("dev/hooks/pre-commit"));
    for file in lf_files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.contains(&b'\r'), "{} has CR", file.display());
    }
    let (succeeded, text) = onboard(&clone, origin.tmp.path(), |c| c.env("DEV_BIN", common::BIN));
    assert!(succeeded, "{text}");
    assert!(text.contains("schema.rs matches versions/"), "{text}");
    origin.assert_no_temp_leftovers();
}

/// Runs `dev/onboard.sh` in `dir` with `tmp` as TMPDIR, no DATABASE_URL, and the tool found
/// as `tool` says; whether it succeeded, and what it printed on both streams.
fn onboard(
    dir: &Path,
    tmp: &Path,
    tool: impl FnOnce(duct::Expression) -> duct::Expression,
) -> (bool, String) {
    let command = duct::cmd("bash", ["dev/onboard.sh"])
        .dir(dir)
        .env("TMPDIR", tmp)
        .env_remove("DATABASE_URL");
    let output = tool(command)
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
    (output.status.success(), text)
}
