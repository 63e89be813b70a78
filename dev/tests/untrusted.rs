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
        let run = project.run(&["--time-limit", "1", command]);
        assert_eq!(run.code, Some(2), "{command}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("migration `{VERSION}` failed")),
            "{command}: {run:?}"
        );
        assert!(
            run.stderr
                .contains("a statement ran longer than the time limit of 1 s"),
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
    let run = project.run(&["--memory-limit", "64", "check"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("migration `{VERSION}` failed: out of memory")),
        "{run:?}"
    );
}
