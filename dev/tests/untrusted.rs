//! A pull request from anybody: `check` (and every command that runs migrations on a
//! disposable database) runs its migrations confined to that database. Nothing they name
//! outside it is opened or written, a statement that never ends is stopped, and one that
//! allocates without end fails; each exits 2 naming the migration.

mod common;

use common::*;

const VERSION: &str = "2030-01-01-000000_hostile";

/// The blog fixture with one more version, whose up.sql is `up` (run outside the harness's
/// transaction when `own_transaction`, as `VACUUM` must be).
fn with_version(up: &str, own_transaction: bool) -> Project {
    let project = Project::fixture("blog");
    project.add_version(VERSION, up, "SELECT 1;\n");
    if own_transaction {
        project.write(
            &format!("versions/{VERSION}/metadata.toml"),
            "run_in_transaction = false\n",
        );
    }
    project
}

#[test]
fn a_migration_reaches_no_file_outside_the_disposable_database() {
    let outside = tempfile::tempdir().unwrap();
    let target = |name: &str| outside.path().join(name).display().to_string();
    let cases = [
        (
            format!(
                "ATTACH '{}' AS e;\nCREATE TABLE e.z (a);\n",
                target("attached.db")
            ),
            false,
        ),
        // Relative to where the tool runs: the project.
        (
            "ATTACH 'evil.db' AS e;\nCREATE TABLE e.z (a);\n".to_owned(),
            false,
        ),
        (
            format!(
                "ATTACH 'file:{}?vfs=unix' AS e;\nCREATE TABLE e.z (a);\n",
                target("uri.db")
            ),
            false,
        ),
        (format!("VACUUM INTO '{}';\n", target("vacuumed.db")), true),
        (
            format!("SELECT load_extension('{}');\n", target("lib.so")),
            false,
        ),
        (
            format!(
                "PRAGMA temp_store_directory = '{}';\n",
                outside.path().display()
            ),
            false,
        ),
    ];
    for (up, own_transaction) in cases {
        let project = with_version(&up, own_transaction);
        let before = project.snapshot();
        for command in ["check", "verify"] {
            let run = project.run(&[command]);
            assert_eq!(run.code, Some(2), "{command} on {up}: {run:?}");
            assert!(
                run.stderr
                    .contains(&format!("migration `{VERSION}` failed")),
                "{command} on {up}: {run:?}"
            );
            assert!(
                run.stderr
                    .contains("would reach outside the disposable database"),
                "{command} on {up}: {run:?}"
            );
            assert!(
                run.stderr
                    .contains(&format!("--> versions/{VERSION}/up.sql:1:1")),
                "{command} on {up}: {run:?}"
            );
        }
        // squash replays the history up to the version it squashes to, and proves the
        // baseline: on the same confined database.
        let squash = project.run(&["squash", "baseline", "--to", VERSION]);
        assert_eq!(squash.code, Some(2), "squash on {up}: {squash:?}");
        assert!(
            squash
                .stderr
                .contains("would reach outside the disposable database"),
            "squash on {up}: {squash:?}"
        );
        assert_eq!(
            std::fs::read_dir(outside.path()).unwrap().count(),
            0,
            "{up} wrote outside"
        );
        assert_eq!(project.snapshot(), before, "{up} wrote into the project");
        project.assert_no_temp_leftovers();
    }
}

#[test]
fn the_tool_s_own_work_on_the_disposable_database_is_not_refused() {
    // ATTACH and VACUUM INTO of files inside the disposable directory are the tool's own
    // (an in-memory replay is written out with VACUUM INTO); a migration may attach a
    // temporary or in-memory database.
    let project = with_version(
        "ATTACH ':memory:' AS scratch;\nCREATE TABLE scratch.t (a);\nDETACH scratch;\nATTACH '' AS temporary;\nDETACH temporary;\n",
        true,
    );
    project.run(&["rehash"]);
    project.assert_check_passes();
    let verified = project.run(&["verify"]);
    assert_eq!(verified.code, Some(0), "{verified:?}");
}

#[test]
fn a_statement_that_never_ends_is_stopped_at_the_time_limit() {
    let project = with_version(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\n",
        false,
    );
    for command in ["check", "verify"] {
        let run = project.run(&[command, "--time-limit", "1"]);
        assert_eq!(run.code, Some(2), "{command}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("migration `{VERSION}` failed")),
            "{command}: {run:?}"
        );
        assert!(
            run.stderr
                .contains("it ran longer than the time limit of 1 s"),
            "{command}: {run:?}"
        );
        assert!(
            run.stderr.contains("raise --time-limit"),
            "{command}: {run:?}"
        );
    }
    project.assert_no_temp_leftovers();
}

#[test]
fn a_statement_that_allocates_without_end_fails_with_out_of_memory() {
    let project = with_version("SELECT length(randomblob(400000000));\n", false);
    let run = project.run(&["check", "--memory-limit", "64"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("migration `{VERSION}` failed: out of memory")),
        "{run:?}"
    );
}

/// Random migration SQL from a pull request nobody read: statements that reach for files,
/// pragmas, endless CTEs, triggers, virtual tables, transactions and garbage, cut at a
/// random byte, in or out of the harness's transaction. `check` (with a one-second limit)
/// never panics, never exits 3, ends, and writes nothing outside the disposable directory
/// or into the project. 16 cases; `PROPTEST_CASES` asks for more.
#[test]
fn check_survives_any_migration_sql() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(16);
    let outside = tempfile::tempdir().unwrap();
    let there = |name: &str| outside.path().join(name).display().to_string();
    let fragments: Vec<String> = vec![
        format!("ATTACH '{}' AS far;", there("attached.db")),
        "ATTACH 'relative.db' AS near;".into(),
        format!("ATTACH 'file:{}?mode=rwc' AS uri;", there("uri.db")),
        format!("VACUUM INTO '{}';", there("vacuumed.db")),
        format!("SELECT load_extension('{}');", there("lib.so")),
        format!(
            "PRAGMA temp_store_directory = '{}';",
            outside.path().display()
        ),
        "PRAGMA journal_mode = WAL;".into(),
        "PRAGMA foreign_keys = OFF;".into(),
        "PRAGMA writable_schema = ON;".into(),
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;"
            .into(),
        "CREATE TABLE t1 (a INTEGER PRIMARY KEY, b TEXT);".into(),
        "INSERT INTO t1 (b) SELECT randomblob(16) FROM users;".into(),
        "CREATE TRIGGER t1_loop AFTER INSERT ON t1 BEGIN INSERT INTO t1 (b) VALUES (NEW.b); END;"
            .into(),
        "CREATE VIRTUAL TABLE f1 USING fts5(body);".into(),
        "INSERT INTO f1 (body) VALUES ('x');".into(),
        "DROP TABLE users;".into(),
        "BEGIN;".into(),
        "COMMIT;".into(),
        "SELECT 1/0, zeroblob(1000000);".into(),
        "ALTER TABLE posts RENAME TO posts2;".into(),
        ");(' \"unterminated".into(),
    ];
    let strategy = (
        prop::collection::vec(prop::sample::select(fragments), 1..6),
        any::<prop::sample::Index>(),
        any::<bool>(),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(statements, cut, truncate, own_transaction)| {
            let mut sql = statements.join("\n");
            if truncate {
                let at = cut.index(sql.len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|i| sql.is_char_boundary(*i))
                    .unwrap_or(0);
                sql.truncate(at);
            }
            let project = with_version(&format!("{sql}\n"), own_transaction);
            let before = project.snapshot();
            let handle = project
                .command(BIN, &["check", "--time-limit", "1"])
                .start()
                .unwrap();
            // Not a measure of speed: a check that never ends is what this catches.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            let output = loop {
                if let Some(output) = handle.try_wait().unwrap() {
                    break output.clone();
                }
                if std::time::Instant::now() > deadline {
                    handle.kill().unwrap();
                    panic!("check did not end on:\n{sql}");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            };
            let run = Run::from(output);
            prop_assert!(
                matches!(run.code, Some(0..=2)) && !run.stderr.contains("panicked"),
                "{sql}\n{run:?}"
            );
            prop_assert_eq!(
                std::fs::read_dir(outside.path()).unwrap().count(),
                0,
                "{} wrote outside: {:?}",
                sql,
                run
            );
            prop_assert!(
                project.snapshot() == before,
                "{sql} wrote into the project: {run:?}"
            );
            project.assert_no_temp_leftovers();
            Ok(())
        })
        .unwrap();
}

/// Found by `check_survives_any_migration_sql`: a file managing its own transaction that
/// begins one and never commits made `check` blame the disposable database ("cannot VACUUM
/// from within a transaction"). In the application every later version would run inside
/// it and be rolled back on close: it is the migration's fault, said at its BEGIN.
#[test]
fn a_migration_that_leaves_a_transaction_open_is_named() {
    let project = with_version(
        "CREATE TABLE kept (a);\nBEGIN;\nCREATE TABLE lost (a);\n",
        true,
    );
    for command in ["check", "verify"] {
        let run = project.run(&[command]);
        assert_eq!(run.code, Some(2), "{command}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("migration `{VERSION}` leaves a transaction open")),
            "{command}: {run:?}"
        );
        assert!(
            run.stderr
                .contains(&format!("--> versions/{VERSION}/up.sql:2:1")),
            "{command}: {run:?}"
        );
    }
}

/// `verify` says the same of a down.sql that leaves its transaction open.
#[test]
fn verify_names_a_down_that_leaves_a_transaction_open() {
    let project = Project::fixture("blog");
    project.add_version(
        VERSION,
        "CREATE TABLE kept (a);\n",
        "BEGIN;\nDROP TABLE kept;\n",
    );
    project.write(
        &format!("versions/{VERSION}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("migration `{VERSION}` leaves a transaction open")),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains(&format!("--> versions/{VERSION}/down.sql:1:1")),
        "{run:?}"
    );
}
