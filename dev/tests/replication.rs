//! Living beside replication and hosting platforms: the tables they keep inside the user's
//! database are no part of the schema, and a LiteFS replica is never written to.

mod common;

use common::{file_names, ok_on, run_on, Database, Project};

/// What Litestream, Cloudflare D1 and `ANALYZE` keep in a database, as they create it.
const PLATFORM_TABLES: &str = "
    CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
    CREATE TABLE _litestream_lock (id INTEGER);
    INSERT INTO _litestream_seq VALUES (1, 42);
    CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
    CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,
        applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
    INSERT INTO d1_migrations (name) VALUES ('0001_init.sql');
    ANALYZE;";

#[test]
fn tables_a_platform_keeps_are_neither_drift_nor_changes_and_survive_upgrades() {
    let project = Project::fixture("blog");
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    db.exec(PLATFORM_TABLES);
    assert!(
        db.count("SELECT count(*) FROM sqlite_stat1") > 0,
        "ANALYZE wrote statistics"
    );

    let drift = run_on(&project, &db, &["drift"]);
    assert_eq!(drift.code, Some(0), "{drift:?}");
    let current = ok_on(&project, &db, &["current", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&current.stdout).unwrap();
    assert_eq!(document["drifted"], false, "{document}");

    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        likes -> Nullable<Integer>,\n",
    );
    project.generate("add likes");
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(db.count("SELECT seq FROM _litestream_seq"), 42);
    assert_eq!(db.count("SELECT count(*) FROM d1_migrations"), 1);
    let drift = run_on(&project, &db, &["drift"]);
    assert_eq!(drift.code, Some(0), "{drift:?}");
}

#[test]
fn a_litefs_replica_is_read_and_rehearsed_but_never_written() {
    let project = Project::fixture("blog");
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        likes -> Nullable<Integer>,\n",
    );
    project.generate("add likes");
    let dir = db.path.parent().unwrap();
    std::fs::write(dir.join(".primary"), "node-a.internal\n").unwrap();
    let (files, applied) = (file_names(dir), db.applied());

    for args in [
        &["upgrade"][..],
        &["downgrade", "-1"],
        &["redo"],
        &["stamp", "head"],
    ] {
        let run = run_on(&project, &db, args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("is on a LiteFS replica")
                && run
                    .stderr
                    .contains("only the primary, node-a.internal, may write"),
            "{args:?}: {run:?}"
        );
        assert_eq!(db.applied(), applied, "{args:?} wrote to the replica");
        assert_eq!(file_names(dir), files, "{args:?} left a file in the mount");
    }

    ok_on(&project, &db, &["current"]);
    ok_on(&project, &db, &["history"]);
    let drift = run_on(&project, &db, &["drift"]);
    assert_eq!(drift.code, Some(0), "{drift:?}");
    ok_on(&project, &db, &["upgrade", "--rehearse"]);
    assert_eq!(db.applied(), applied);

    // On the primary (no `.primary` file), the same upgrade runs.
    std::fs::remove_file(dir.join(".primary")).unwrap();
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(db.applied().len(), applied.len() + 1);
}
