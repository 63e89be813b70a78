//! Seeding on real tables: parents first, triggers set aside, what cannot be seeded named.

use super::*;
use crate::schema::introspect::inspect;
use crate::schema::introspect::TableFilter;
use crate::sqlite::values::shown;

/// One column's values, in rowid order, as SQL.
fn column(conn: &Connection, db: &Database, table: &str, column: &str) -> Vec<String> {
    snapshot(conn, db.table(table).unwrap(), &[column.to_owned()])
        .unwrap()
        .rows
        .iter()
        .map(|row| shown(&row.values[column]))
        .collect()
}

#[test]
fn seeds_parents_before_children_and_names_what_it_cannot_seed() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title VARCHAR(9) NOT NULL);
         CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email TEXT UNIQUE, score REAL, at TIMESTAMP, total INTEGER GENERATED ALWAYS AS (id * 2));
         CREATE TABLE picky (x TEXT CHECK (x LIKE '%@%' AND length(x) > 5));",
    )
    .unwrap();
    let db = inspect(&conn, &TableFilter::All).unwrap();
    let seeded = seed(&conn, &db, &[]);
    assert_eq!(seeded.tables, ["users", "posts"]);
    assert_eq!(seeded.rows, 6);
    assert_eq!(seeded.failed.len(), 1);
    assert!(
        seeded.failed[0].reason.contains("CHECK constraint failed"),
        "{seeded:?}"
    );
    let users = column(&conn, &db, "users", "email");
    // No NULL here: users has a UNIQUE column, which a backfill could make collide.
    assert_eq!(users, ["'007'", "'1'", "CAST(X'C3A90031653220' AS TEXT)"]);
}

#[test]
fn seeding_fires_no_trigger_and_keeps_every_trigger() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE log (id INTEGER PRIMARY KEY, note TEXT);
         CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TRIGGER logged AFTER INSERT ON users BEGIN INSERT INTO log (note) VALUES (NULL); END;",
    )
    .unwrap();
    let db = inspect(&conn, &TableFilter::All).unwrap();
    let schema = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_schema ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let before = schema(&conn);
    let seeded = seed(&conn, &db, &[]);
    assert!(seeded.failed.is_empty(), "{seeded:?}");
    let notes = column(&conn, &db, "log", "note");
    assert_eq!(
        notes,
        ["'007'", "NULL", "CAST(X'C3A90031653220' AS TEXT)"],
        "only seeds, no trigger rows"
    );
    assert_eq!(schema(&conn), before);
    conn.execute_batch("INSERT INTO users DEFAULT VALUES")
        .unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 4, "the trigger is back");
}
