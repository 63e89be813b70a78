//! The application's `open()` on real files: creates and migrates, upgrades an older
//! database without losing rows, and enforces foreign keys.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::MigrationHarness;
use flowstate::schema::{nodes, runs};
use flowstate::{open, CONNECTION_PRAGMAS, MIGRATIONS};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut SqliteConnection, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

fn seed(conn: &mut SqliteConnection) {
    conn.batch_execute(
        "INSERT INTO runs (id, name, status, created_at) VALUES (1, 'mnist', 'running', '2026-11-21 10:00:00');
         INSERT INTO nodes (id, created_at, heartbeat_interval) VALUES (7, '2026-11-21 10:00:00', 30.0);
         INSERT INTO run_nodes (run_id, node_id, joined_at) VALUES (1, 7, '2026-11-21 10:01:00');
         INSERT INTO logs (run_id, node_id, level, message, logged_at) VALUES (1, 7, 'INFO', 'joined', '2026-11-21 10:01:00');
         INSERT INTO objects (object_id, size, content, created_at) VALUES ('abc', 3, x'010203', '2026-11-21 10:02:00');
         INSERT INTO object_children (parent_id, child_id) VALUES ('abc', 'def');",
    )
    .unwrap();
}

#[test]
fn open_creates_the_database_at_head_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    let mut conn = open(&path).unwrap();
    assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    diesel::insert_into(runs::table)
        .values((
            runs::id.eq(1),
            runs::name.eq("mnist"),
            runs::status.eq("pending"),
            runs::created_at.eq("2026-11-21 10:00:00"),
        ))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let mut again = open(&path).unwrap();
    let names: Vec<String> = runs::table.select(runs::name).load(&mut again).unwrap();
    assert_eq!(names, ["mnist"]);
    assert_eq!(
        nodes::table.count().get_result::<i64>(&mut again).unwrap(),
        0
    );
}

#[test]
fn open_upgrades_an_older_database_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    {
        let mut old = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        old.batch_execute(CONNECTION_PRAGMAS).unwrap();
        old.run_next_migration(MIGRATIONS).unwrap();
        seed(&mut old);
    }
    let mut conn = open(&path).unwrap();
    assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    for (table, rows) in [
        ("runs", 1),
        ("nodes", 1),
        ("run_nodes", 1),
        ("logs", 1),
        ("objects", 1),
        ("object_children", 1),
    ] {
        assert_eq!(count(&mut conn, table), rows, "{table}");
    }
}

#[test]
fn open_enforces_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("state.sqlite3")).unwrap();
    let orphan = conn.batch_execute(
        "INSERT INTO logs (run_id, level, message, logged_at) VALUES (99, 'INFO', 'x', '2026-11-21 10:00:00')",
    );
    assert!(orphan.unwrap_err().to_string().contains("FOREIGN KEY"));
}

fn first_version_up_sql() -> String {
    let versions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("versions");
    let mut dirs: Vec<_> = std::fs::read_dir(versions)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    std::fs::read_to_string(dirs[0].join("up.sql")).unwrap()
}

#[test]
fn open_refuses_a_database_migrated_by_newer_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    drop(open(&path).unwrap());
    {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
        )
        .unwrap();
    }
    let Err(err) = open(&path) else {
        panic!("open() ran a database with an unknown version")
    };
    assert!(
        matches!(err, flowstate::OpenError::UnknownVersions { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("29990101000000"), "{err}");
}

#[test]
fn open_stamps_a_pre_migrations_database_that_matches_the_first_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(&first_version_up_sql()).unwrap();
        conn.batch_execute(
            "INSERT INTO runs (id, name, status, created_at) VALUES (1, 'legacy', 'done', '2025-01-01 00:00:00')",
        )
        .unwrap();
    }
    let mut conn = open(&path).unwrap();
    assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    assert_eq!(conn.applied_migrations().unwrap().len(), count_versions());
    let names: Vec<String> = runs::table.select(runs::name).load(&mut conn).unwrap();
    assert_eq!(names, ["legacy"]);
}

#[test]
fn open_explains_a_pre_migrations_database_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")
            .unwrap();
    }
    let Err(err) = open(&path) else {
        panic!("open() accepted a database that differs from the first version")
    };
    let err = err.to_string();
    assert!(err.contains("table logs"), "{err}");
    assert!(err.contains("column runs.status"), "{err}");
    assert!(err.contains("Migrate it by hand"), "{err}");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    assert_eq!(
        count(&mut conn, "sqlite_schema"),
        1,
        "open() changed nothing"
    );
}

fn count_versions() -> usize {
    let versions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("versions");
    std::fs::read_dir(versions)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

/// A fleet application serves a tenant's database only at head: `open_at_head` names the
/// pending versions and writes nothing, where `open` would upgrade.
#[test]
fn open_at_head_serves_a_database_at_head_and_refuses_one_behind_writing_nothing() {
    use diesel::migration::MigrationSource;
    let names: Vec<String> = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS)
        .unwrap()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.sqlite3");
    let pending = |path: &std::path::Path| match flowstate::open_at_head(path) {
        Err(flowstate::OpenError::Pending { versions, .. }) => versions,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("served a database not at head"),
    };

    let mut all = pending(&path);
    all.sort();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert!(!path.exists(), "no database was created");

    drop(open(&path).unwrap());
    flowstate::open_at_head(&path).unwrap();

    let newest = sorted.last().unwrap().clone();
    let version: String = newest.split('_').next().unwrap().replace('-', "");
    {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(&format!(
            "DELETE FROM __diesel_schema_migrations WHERE version = '{version}'"
        ))
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let Err(err) = flowstate::open_at_head(&path) else {
        panic!("served a database one version behind")
    };
    assert!(
        err.to_string().contains("is not at head: 1 pending") && err.to_string().contains(&newest),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "open_at_head wrote");
    assert_eq!(pending(&path), [newest]);
}
