//! The proof on hand-written files: what it catches, and what it lets through.

use super::*;
use crate::error::Kind;
use crate::generate::replay;
use crate::schema::introspect::{inspect, TableFilter};
use crate::schema::schema_rs;
use crate::sqlite::db;
use crate::support::scratch::Scratch;

fn prove_files(up: &str, down: &str) -> Result<()> {
    prove_on("", "diesel::table! { t (id) { id -> Integer, } }", up, down).map(|_| ())
}

/// Proves `up`/`down` on a head made by `head_sql`, against the schema.rs `target`.
fn prove_on(head_sql: &str, target: &str, up: &str, down: &str) -> Result<String> {
    let scratch = Scratch::create().unwrap();
    let empty = scratch.path().join("versions");
    let mut conn = replay::upgrade_to_head(
        &scratch.database(),
        &empty,
        &[],
        None,
        &mut Default::default(),
    )
    .unwrap();
    let inspector = db::open_rusqlite(&scratch.database()).unwrap();
    inspector.execute_batch(head_sql).unwrap();
    let project = Project {
        root: scratch.path().to_path_buf(),
        schema_file: scratch.path().join("schema.rs"),
        sections: vec![crate::project::Section {
            key: None,
            file: scratch.path().join("schema.rs"),
            filter: TableFilter::All,
            patch_file: None,
            allow_tables: crate::project::AllowTables::AllTables,
        }],
        versions_dir: empty,
        filter: TableFilter::All,
        integer_primary_key_is_bigint: false,
    };
    let target = schema_rs::parse(Path::new("schema.rs"), target).unwrap();
    let files = Files {
        up: up.into(),
        down: down.into(),
        metadata: None,
    };
    let stage = scratch.path().join("candidate");
    let head = inspect(&inspector, &TableFilter::All).unwrap();
    let changes = diff(&model::from_database(&head, false).unwrap(), &target);
    let conversions = Defaults::new();
    let goal = Goal {
        project: &project,
        head: &head,
        target: &target,
        declared: None,
        changes: &changes,
        conversions: &conversions,
    };
    let seeded = seed::seed_for(&inspector, &head, &changes, &target);
    prove(&mut conn, &inspector, &goal, &stage, "1_x", &files, &seeded)
        .map(|(proof, _)| proof.to_string())
}

const HEAD: &str = "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL);";
const TARGET: &str =
    "diesel::table! { t (id) { id -> Integer, name -> Text, bio -> Nullable<Text>, } }";

#[test]
fn proof_runs_on_seeded_rows_and_says_so() {
    let line = prove_on(
        HEAD,
        TARGET,
        "ALTER TABLE t ADD COLUMN bio TEXT;",
        "ALTER TABLE t DROP COLUMN bio;",
    )
    .unwrap();
    assert!(
        line.starts_with("Proven on seeded data (1 tables, 3 rows)"),
        "{line}"
    );
}

#[test]
fn up_that_loses_rows_is_caught() {
    let err = prove_on(
        HEAD,
        TARGET,
        "ALTER TABLE t ADD COLUMN bio TEXT; DELETE FROM t WHERE id = 1;",
        "ALTER TABLE t DROP COLUMN bio;",
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("after up.sql, t lost the row id = 1 (it has 2 rows, it had 3)"),
        "{err}"
    );
}

#[test]
fn a_copy_that_numbers_rows_anew_is_caught() {
    let err = prove_on(
        "CREATE TABLE e (name TEXT NOT NULL);",
        "diesel::table! { e (rowid) { rowid -> Integer, name -> Nullable<Text>, } }",
        "ALTER TABLE e RENAME TO old; CREATE TABLE e (name TEXT); INSERT INTO e (name) SELECT name FROM old; DROP TABLE old;",
        "ALTER TABLE e RENAME TO old; CREATE TABLE e (name TEXT NOT NULL); INSERT INTO e (rowid, name) SELECT rowid, name FROM old; DROP TABLE old;",
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("after up.sql, e lost the row rowid = 10"),
        "{err}"
    );
}

#[test]
fn a_type_change_that_keeps_going_on_a_value_it_cannot_keep_is_caught() {
    let copy = |declared: &str| {
        format!("ALTER TABLE t RENAME TO old; CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name {declared} NOT NULL); INSERT INTO t SELECT * FROM old; DROP TABLE old;")
    };
    let err = prove_on(
        HEAD,
        "diesel::table! { t (id) { id -> Integer, name -> Integer, } }",
        &copy("INTEGER"),
        &copy("TEXT"),
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("up.sql kept going with '007' in t.name, which Integer cannot keep"),
        "{err}"
    );
}

#[test]
fn down_that_changes_values_is_caught() {
    let err = prove_on(
        HEAD,
        TARGET,
        "ALTER TABLE t ADD COLUMN bio TEXT;",
        "ALTER TABLE t DROP COLUMN bio; UPDATE t SET name = 'x';",
    )
    .unwrap_err();
    assert!(
        err.message.contains(
            "after down.sql, t.name of the row id = -2147483648 changed: '007' became 'x'"
        ),
        "{err}"
    );
}

#[test]
fn redo_that_fails_is_caught() {
    let err = prove_on(
        HEAD,
        TARGET,
        "ALTER TABLE t ADD COLUMN bio TEXT; CREATE TEMP TABLE once (x);",
        "ALTER TABLE t DROP COLUMN bio;",
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("up.sql failed when run again after down.sql"),
        "{err}"
    );
}

#[test]
fn a_correct_migration_passes() {
    prove_files(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);",
        "DROP TABLE t;",
    )
    .unwrap();
}

#[test]
fn up_that_misses_schema_rs_is_a_tool_bug() {
    let err = prove_files("CREATE TABLE t (id INTEGER PRIMARY KEY);", "DROP TABLE t;").unwrap_err();
    assert_eq!(err.kind(), Kind::Internal);
    assert!(err.message.contains("still differs"), "{err}");
    assert!(err.message.contains("change column t.id"), "{err}");
    assert!(err.notes[0].starts_with("up.sql:"), "{err}");
}

#[test]
fn down_that_does_not_restore_is_a_tool_bug() {
    let err = prove_files(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);",
        "CREATE TABLE leftover (x);",
    )
    .unwrap_err();
    assert_eq!(err.kind(), Kind::Internal);
    assert!(err.message.contains("table leftover is left over"), "{err}");
    assert!(err.message.contains("table t is left over"), "{err}");
}

#[test]
fn failing_up_is_a_tool_bug_with_sqlite_message() {
    let err = prove_files("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY", "").unwrap_err();
    assert_eq!(err.kind(), Kind::Internal);
    assert!(err.message.contains("up.sql failed"), "{err}");
}
