//! Other processes: a database another program holds is reported as locked, two migrations
//! of one database run each version once, and a migration that leaves its transaction open
//! is stopped at.

use crate::common::{self, ok_on as ok, run_on as run, Database, Project, Run};
use crate::{at_first_version, project_with_history};

/// Holds a lock on `db` from this process, as another program would, until dropped.
fn hold_lock(db: &Database, begin: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.execute_batch(&format!(
        "{begin}; INSERT INTO audit (note) VALUES ('held');"
    ))
    .unwrap();
    conn
}

fn assert_locked(run: &Run) {
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: the database is locked by another process\n"),
        "{run:?}"
    );
    assert!(run.stderr.contains("then run the command again"), "{run:?}");
    assert!(!run.stderr.contains("fix the migration"), "{run:?}");
}

#[test]
fn a_database_another_process_is_writing_is_reported_as_locked() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let holder = hold_lock(&db, "BEGIN IMMEDIATE");
    let locked = run(&project, &db, &["upgrade", "--yes"]);
    drop(holder);
    assert_locked(&locked);
    assert!(
        locked
            .stderr
            .contains("the database is at 2026-01-01-000000_create_blog"),
        "{locked:?}"
    );
    assert_eq!(db.applied(), ["20260101000000"]);
    assert_eq!(
        db.count("SELECT count(*) FROM audit"),
        3,
        "the holder's write was rolled back"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn a_database_another_process_holds_exclusively_is_reported_as_locked() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let holder = hold_lock(&db, "BEGIN EXCLUSIVE");
    let locked = run(&project, &db, &["upgrade", "--yes", "--backup"]);
    drop(holder);
    assert_locked(&locked);
    assert_eq!(db.applied(), ["20260101000000"]);
}

/// The blog fixture at head on a database, with one more version pending that takes a moment
/// and leaves a mark each time it runs; it manages its own transaction, so nothing but the
/// migration lock keeps a second process from running it again.
fn slow_pending_version() -> (Project, Database) {
    let project = Project::fixture("blog");
    let db = Database::new();
    ok(&project, &db, &["upgrade"]);
    let slow = project.later_version("slow");
    project.add_version(
        &slow,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000) SELECT count(*) FROM c;\nINSERT INTO audit (note) VALUES ('ran');\n",
        "DELETE FROM audit WHERE note = 'ran';\n",
    );
    project.write(
        &format!("versions/{slow}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    (project, db)
}

/// Two `upgrade`s of one database at once: the second ran the pending version again, failed
/// to record it (`UNIQUE constraint failed`), then misreported where the database was. One
/// migrates at a time; the other waits and finds nothing left to do.
#[test]
fn two_upgrades_at_once_run_each_version_once() {
    let (project, db) = slow_pending_version();
    let start = || {
        project
            .command(common::BIN, &["upgrade", "--yes", "--database", &db.arg()])
            .start()
            .unwrap()
    };
    let (first, second) = (start(), start());
    for handle in [first, second] {
        let output = handle.wait().unwrap();
        let run = Run::from(output.clone());
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(
            run.stderr.contains("The database is at 2027") || run.stderr.contains("Nothing to do"),
            "{run:?}"
        );
    }
    assert_eq!(db.count("SELECT count(*) FROM audit WHERE note = 'ran'"), 1);
    assert_eq!(db.applied().len(), project.versions().len());
    assert!(!std::path::Path::new(&format!("{}-migrate.lock", db.arg())).exists());
}

/// The same between the tool and the application's `open()`.
#[test]
fn an_upgrade_and_the_application_opening_the_database_run_each_version_once() {
    let (project, db) = slow_pending_version();
    let tool = project
        .command(common::BIN, &["upgrade", "--yes", "--database", &db.arg()])
        .start()
        .unwrap();
    let source =
        diesel_migrations::FileBasedMigrations::from_path(project.file("versions")).unwrap();
    flowstate::open_with(std::path::Path::new(&db.arg()), &source, None).unwrap();
    let run = Run::from(tool.wait().unwrap().clone());
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(db.count("SELECT count(*) FROM audit WHERE note = 'ran'"), 1);
    assert_eq!(db.applied().len(), project.versions().len());
}

/// `upgrade` ran a file that begins a transaction and never commits, then the next steps
/// inside it, and closing the connection rolled everything back while it reported success.
#[test]
fn an_upgrade_stops_at_a_migration_that_leaves_a_transaction_open() {
    let project = Project::fixture("blog");
    let db = Database::new();
    ok(&project, &db, &["upgrade"]);
    let open = project.later_version("left_open");
    project.add_version(&open, "BEGIN;\nCREATE TABLE lost (a);\n", "SELECT 1;\n");
    project.write(
        &format!("versions/{open}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    let refused = run(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains("leaves a transaction open")
            && refused
                .stderr
                .contains("is not recorded: the database is at 2026-01-01-000000_create_blog"),
        "{refused:?}"
    );
    assert_eq!(db.applied(), ["20260101000000"]);
    assert_eq!(
        db.count("SELECT count(*) FROM sqlite_schema WHERE name = 'lost'"),
        0
    );
}

/// The same for a down.sql: `downgrade` would run the next steps inside the transaction it
/// left open and lose them all when the connection closed.
#[test]
fn a_downgrade_stops_at_a_down_that_leaves_a_transaction_open() {
    let project = Project::fixture("blog");
    let open = project.later_version("left_open");
    project.add_version(
        &open,
        "CREATE TABLE kept (a);\n",
        "BEGIN;\nDROP TABLE kept;\n",
    );
    project.write(
        &format!("versions/{open}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    let db = Database::new();
    ok(&project, &db, &["upgrade", "--yes"]);
    let refused = run(&project, &db, &["downgrade", "-1", "--yes"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains("leaves a transaction open")
            && refused
                .stderr
                .contains(&format!("--> versions/{open}/down.sql:1:1")),
        "{refused:?}"
    );
    assert_eq!(db.applied().len(), 2, "the version is still applied");
    assert_eq!(
        db.count("SELECT count(*) FROM sqlite_schema WHERE name = 'kept'"),
        1
    );
}
