//! A project reduced to the smallest case of a bug the properties found, and what every
//! such case checks: the regressions in `regressions/` are run with these, and so is the
//! case that does more than their data can say.

use std::path::Path;

use diesel_migrations::MigrationHarness;

use crate::common::{self, application_database, Project};
use crate::reading::{entries, integrity, rows, schema_readable, views_select};

/// A project whose head is `head_sql` (one hand-written migration) and whose schema.rs is
/// `schema`, and a database file at head with `rows` inserted.
pub fn reduced(
    head_sql: &str,
    schema: &str,
    rows: &str,
) -> (Project, tempfile::TempDir, std::path::PathBuf) {
    let project = Project {
        dir: tempfile::tempdir().unwrap(),
        tmp: tempfile::tempdir().unwrap(),
    };
    project.write(
        "diesel.toml",
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    );
    project.write("schema/schema.rs", schema);
    project.write("versions/2026-01-01-000000_head/up.sql", head_sql);
    let db = tempfile::tempdir().unwrap();
    let path = db.path().join("app.sqlite3");
    let mut conn = application_database(&path);
    common::upgrade(&mut conn, &project);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(rows)
        .unwrap();
    (project, db, path)
}

/// Applies the pending migration to `path`, then reverts it: rows, views and sqlite_schema
/// must come through.
pub fn up_and_down(project: &Project, path: &Path, counts: &[(&str, i64)]) {
    let mut conn = application_database(path);
    let sql = rusqlite::Connection::open(path).unwrap();
    let before = entries(&sql);
    common::upgrade(&mut conn, project);
    integrity(&sql).unwrap();
    views_select(&sql).unwrap();
    for (table, n) in counts {
        assert_eq!(rows(&sql, table), *n, "{table} after up");
    }
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(entries(&sql), before, "down restores sqlite_schema");
    integrity(&sql).unwrap();
    views_select(&sql).unwrap();
}

/// Applies the newest migration again after `up_and_down`: SQLite must still read every
/// view and trigger, as any later ALTER TABLE needs.
pub fn up_again(project: &Project, path: &Path) {
    let sql = rusqlite::Connection::open(path).unwrap();
    common::upgrade(&mut application_database(path), project);
    integrity(&sql).unwrap();
    schema_readable(&sql).unwrap();
}

/// Found as `the rebuild of posts does not run on head: posts.notes_id of the row id =
/// -9223372036854775808 holds -9223372036854775808, which Diesel cannot read as Integer`:
/// a reference retyped from BigInt to Integer held its parent's seeds, which no i32 holds,
/// and the planning copy refused the conversion on them. Seeds decide what is proven, never
/// what is planned: the parent's keys are seeded with values both types keep.
///
/// Kept as a function rather than a case of `regressions/`: besides generate and the proof,
/// it runs the migration on real rows it cannot convert, reads the refusal, fixes the row and
/// only then goes up and down.
#[test]
fn a_reference_narrowed_to_integer_is_planned_whatever_its_parent_s_seeds_are() {
    let (project, _db, path) = reduced(
        "CREATE TABLE notes (id INT8 NOT NULL PRIMARY KEY, body TEXT);
CREATE TABLE posts (id INT8 NOT NULL PRIMARY KEY, notes_id BIGINT NOT NULL REFERENCES notes (id));
",
        "diesel::table! { notes (id) { id -> BigInt, body -> Nullable<Text>, } }
diesel::table! { posts (id) { id -> BigInt, notes_id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(notes, posts,);
",
        "INSERT INTO notes VALUES (1, 'a'), (3000000000, 'b');
INSERT INTO posts VALUES (1, 1), (2, 3000000000);",
    );
    let run = project.run(&["generate", "narrow the reference"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("Proven"), "{run:?}");
    project.assert_check_passes();
    // A real row whose reference no i32 holds stops the upgrade, naming it.
    let mut conn = application_database(&path);
    let source =
        diesel_migrations::FileBasedMigrations::from_path(project.file("versions")).unwrap();
    let refused = conn.run_pending_migrations(source).unwrap_err().to_string();
    assert!(
        refused.contains("posts.notes_id of the row id = 2 holds 3000000000"),
        "{refused}"
    );
    drop(conn);
    let sql = rusqlite::Connection::open(&path).unwrap();
    sql.execute_batch("UPDATE posts SET notes_id = 1 WHERE id = 2;")
        .unwrap();
    up_and_down(&project, &path, &[("posts", 2), ("notes", 2)]);
}
