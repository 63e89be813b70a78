//! The SQL of a squash's baseline: what a replayed history made, made again in one version.
//!
//! Every object is created from the exact text SQLite stored for it (so the baseline's
//! `sqlite_schema` is the history's, byte for byte), in an order SQLite accepts: tables, then
//! indexes, views and triggers. Rows the history's own statements inserted (reference data)
//! are inserted after the tables and before any trigger exists, so no trigger fires twice;
//! each value is written by SQLite's `quote()`, which round-trips every type, REAL included.
//! An `AUTOINCREMENT` table's sequence is set as the history left it: a row deleted after its
//! id was taken still keeps that id from being reused.
//!
//! Foreign keys are checked at COMMIT (`defer_foreign_keys`), so rows and tables may come in
//! any order, cycles included. The down file drops everything and forgets the replaced
//! versions in Diesel's table too, so a database taken below the baseline is at base and not
//! "part-way" through versions it no longer has.

use crate::sqlite::catalog::{self, Kind};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::generate::diff::{diff, diff_objects, Change};
use crate::schema::introspect::{inspect, Database, TableFilter};
use crate::schema::model::{self, Schema};
use crate::schema::objects_sql;
use crate::sqlite::db;
use crate::sqlite::quote::{literal, quote};
use crate::sqlite::stored::{sequences, Entry, StoredSchema};

/// Diesel's bookkeeping table: the harness makes it, so the baseline must not.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// The baseline's SQL, without headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSql {
    /// Makes the schema and rows on an empty database.
    pub up: String,
    /// Drops all of it, and forgets the replaced versions.
    pub down: String,
    /// What up makes, in `check`'s vocabulary, for the header.
    pub changes: Vec<Change>,
    /// Tables whose rows up inserts, with how many.
    pub rows: Vec<(String, usize)>,
}

/// The baseline of the database behind `conn` (a replayed history); `replaced_keys` are the
/// Diesel versions its down file removes from the bookkeeping table.
pub fn baseline(
    conn: &Connection,
    replaced_keys: &[String],
    integer_primary_key_is_bigint: bool,
) -> Result<BaselineSql> {
    let failed = |e: rusqlite::Error| {
        Error::internal(format!(
            "cannot read the replayed history: {}",
            db::sqlite_message(&e)
        ))
        .caused_by(e)
    };
    let schema = StoredSchema::read(conn).map_err(failed)?;
    let entries: Vec<&Entry> = schema
        .entries()
        .iter()
        .filter(|e| e.name != MIGRATIONS_TABLE && !catalog::is_platform_table(&e.table))
        .collect();
    let tables: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::Table)
        .collect();
    let mut up = String::from("PRAGMA defer_foreign_keys = ON;\n\n");
    for entry in &tables {
        up.push_str(&format!("{};\n\n", entry.sql));
    }
    let mut sequences = sequences(conn)?;
    sequences.retain(|(table, _)| !catalog::is_platform_table(table));
    for (table, seq) in &sequences {
        up.push_str(&format!(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ({}, {seq});\n",
            literal(table)
        ));
    }
    let database = inspect(conn, &TableFilter::All)?;
    let mut rows = Vec::new();
    for entry in &tables {
        let inserts =
            inserts(conn, &entry.name, hidden_rowid(&database, &entry.name)).map_err(failed)?;
        if !inserts.is_empty() {
            rows.push((entry.name.clone(), inserts.len()));
            up.push_str(&inserts.join(""));
        }
    }
    if !sequences.is_empty() || !rows.is_empty() {
        up.push('\n');
    }
    for entry in entries.iter().filter(|e| e.kind != Kind::Table) {
        up.push_str(&format!("{};\n\n", entry.sql));
    }

    let mut down = String::from("PRAGMA defer_foreign_keys = ON;\n\n");
    for entry in entries.iter().rev().filter(|e| e.kind == Kind::View) {
        down.push_str(&format!("DROP VIEW {};\n", quote(&entry.name)));
    }
    for entry in tables.iter().rev() {
        down.push_str(&format!("DROP TABLE {};\n", quote(&entry.name)));
    }
    if !replaced_keys.is_empty() {
        let keys: Vec<String> = replaced_keys.iter().map(|k| literal(k)).collect();
        down.push_str(&format!(
            "\n-- The versions this baseline replaced, which a database migrated before the squash lists.\nDELETE FROM {MIGRATIONS_TABLE} WHERE version IN ({});\n",
            keys.join(", ")
        ));
    }

    let mut changes = diff(
        &Schema::default(),
        &model::from_database(&database, integer_primary_key_is_bigint)?,
    );
    changes.extend(diff_objects(
        &[],
        &objects_sql::managed(&catalog::entries(conn)?, &TableFilter::All),
    ));
    Ok(BaselineSql {
        up: up.trim_end().to_owned() + "\n",
        down: down.trim_end().to_owned() + "\n",
        changes,
        rows,
    })
}

/// The name that reads `table`'s rowid when no column aliases it, which `inserts` must write
/// for every row to keep (see `StoredTable::hidden_rowid`).
pub fn hidden_rowid(database: &Database, table: &str) -> Option<&'static str> {
    database.table(table).and_then(|t| t.hidden_rowid())
}

/// One `INSERT` per row of `table`, in the table's own order; generated columns are left to
/// SQLite. A table whose rowid is hidden gets each row's rowid written by the name `rowid`
/// gives, so the rows keep their identity (the history may have left gaps). Numbers, blobs and NULL are written by SQLite's `quote()`, which round-trips every
/// REAL. Text is a plain literal unless it holds a control character (a NUL that `quote()`
/// would cut it at, a CR that a CRLF checkout would rewrite, a line break that would split a
/// reviewer's line): then it is written as its bytes, `CAST(X'..' AS TEXT)`.
pub fn inserts(
    conn: &Connection,
    table: &str,
    rowid: Option<&str>,
) -> rusqlite::Result<Vec<String>> {
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    names.splice(0..0, rowid.map(str::to_owned));
    let columns = names.len();
    let values: Vec<String> = names.iter().map(|c| format!("{c}, quote({c})")).collect();
    let head = format!(
        "INSERT INTO {} ({}) VALUES (",
        quote(table),
        names.join(", ")
    );
    conn.prepare(&format!(
        "SELECT {} FROM main.{}",
        values.join(", "),
        quote(table)
    ))?
    .query_map([], |row| {
        let literals = (0..columns)
            .map(|i| match row.get_ref(2 * i)? {
                ValueRef::Text(bytes) => Ok(text_literal(bytes)),
                _ => row.get::<_, String>(2 * i + 1),
            })
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(format!("{head}{});\n", literals.join(", ")))
    })?
    .collect()
}

/// A TEXT value as SQL that gives back exactly its bytes.
fn text_literal(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) =>
        {
            literal(text)
        }
        _ => {
            let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            format!("CAST(X'{hex}' AS TEXT)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::quote::quote_always;

    fn replayed(sql: &str) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(db::APPLICATION_PRAGMAS).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE {MIGRATIONS_TABLE} (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\n{sql}"
        ))
        .unwrap();
        conn
    }

    fn schema_rows(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
        conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    const HISTORY: &str = "
        CREATE TABLE kinds (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL, weight REAL);
        CREATE TABLE items (id INTEGER PRIMARY KEY, kind_id INTEGER NOT NULL REFERENCES kinds (id), note TEXT);
        CREATE TABLE audit (item_id INTEGER);
        CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN INSERT INTO audit VALUES (new.id); END;
        CREATE VIEW \"heavy kinds\" AS SELECT * FROM kinds WHERE weight > 1;
        CREATE INDEX items_kind ON items (kind_id);
        INSERT INTO kinds (label, weight) VALUES ('a''b', 0.1), ('c', 1e300), ('gone', NULL);
        DELETE FROM kinds WHERE label = 'gone';
        INSERT INTO items VALUES (1, 1, x'00ff');
        INSERT INTO items VALUES (2, 1, 'crlf' || char(13) || char(10) || 'kept'), (3, 1, CAST(X'61006200' AS TEXT));";

    use proptest::prelude::*;
    use rusqlite::types::Value;

    /// A table of the history: its name, its columns' names and declared types, whether its
    /// key is `AUTOINCREMENT`, its rows, and how many of them were deleted again.
    type Table = (String, Vec<(String, String)>, bool, Vec<Vec<Value>>, usize);

    fn name() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["t", "Order", "a b", "q\"t", "ß", "select", "x_1"])
            .prop_map(str::to_owned)
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Integer),
            any::<f64>()
                .prop_filter("SQLite stores NaN as NULL", |f| !f.is_nan())
                .prop_map(Value::Real),
            ".*".prop_map(Value::Text),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(Value::Blob),
        ]
    }

    fn table() -> impl Strategy<Value = Table> {
        let types = prop::sample::select(vec![
            "INTEGER",
            "REAL",
            "TEXT",
            "BLOB",
            "NUMERIC",
            "",
            "VARCHAR(5)",
        ]);
        (
            name(),
            prop::collection::btree_map(name(), types.prop_map(str::to_owned), 1..4),
            any::<bool>(),
            0usize..3,
        )
            .prop_flat_map(|(name, columns, autoincrement, deleted)| {
                let width = columns.len();
                (
                    Just(name),
                    Just(columns.into_iter().collect::<Vec<_>>()),
                    Just(autoincrement),
                    prop::collection::vec(prop::collection::vec(value(), width), 0..5),
                    Just(deleted),
                )
            })
    }

    /// Makes the history's tables with their rows, through bound parameters (never through
    /// the quoting under test).
    fn history_of(tables: &[Table]) -> Connection {
        let conn = replayed("");
        for (name, columns, autoincrement, rows, deleted) in tables {
            let key = if *autoincrement {
                "id INTEGER PRIMARY KEY AUTOINCREMENT"
            } else {
                "id INTEGER PRIMARY KEY"
            };
            let defs: Vec<String> = columns
                .iter()
                .map(|(c, t)| format!("{} {t}", quote_always(&format!("c {c}"))))
                .collect();
            conn.execute_batch(&format!(
                "CREATE TABLE {} ({key}, {});",
                quote_always(name),
                defs.join(", ")
            ))
            .unwrap();
            let marks = vec!["?"; columns.len()].join(", ");
            let names: Vec<String> = columns
                .iter()
                .map(|(c, _)| quote_always(&format!("c {c}")))
                .collect();
            let insert = format!(
                "INSERT INTO {} ({}) VALUES ({marks})",
                quote_always(name),
                names.join(", ")
            );
            for row in rows {
                conn.execute(&insert, rusqlite::params_from_iter(row))
                    .unwrap();
            }
            conn.execute(
                &format!(
                    "DELETE FROM {0} WHERE id IN (SELECT id FROM {0} ORDER BY id DESC LIMIT {deleted})",
                    quote_always(name)
                ),
                [],
            )
            .unwrap();
        }
        conn
    }

    /// Rows of `table` in `schema` that the other database lacks, values and their storage
    /// classes compared by SQLite itself.
    fn missing(conn: &Connection, table: &str, from: &str, other: &str) -> i64 {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info(?1, '{from}')"))
            .unwrap()
            .query_map([table], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let select = |schema: &str| {
            let list: Vec<String> = columns
                .iter()
                .map(|c| format!("{0}, typeof({0}), hex({0})", quote_always(c)))
                .collect();
            format!(
                "SELECT {} FROM {schema}.{}",
                list.join(", "),
                quote_always(table)
            )
        };
        conn.query_row(
            &format!(
                "SELECT count(*) FROM ({} EXCEPT {})",
                select(from),
                select(other)
            ),
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_baseline_remakes_any_tables_and_rows_as_sqlite_reads_them(
            tables in prop::collection::btree_map(name(), table(), 1..4)
        ) {
            let tables: Vec<Table> = tables
                .into_iter()
                .map(|(name, (_, columns, autoincrement, rows, deleted))| (name, columns, autoincrement, rows, deleted))
                .collect();
            let history = history_of(&tables);
            let made = baseline(&history, &[], false).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let fresh_path = dir.path().join("fresh.sqlite3");
            let fresh = Connection::open(&fresh_path).unwrap();
            fresh.execute_batch(db::APPLICATION_PRAGMAS).unwrap();
            fresh.execute_batch(&format!(
                "CREATE TABLE {MIGRATIONS_TABLE} (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\nBEGIN;\n{}\nCOMMIT;",
                made.up
            )).unwrap();
            prop_assert_eq!(schema_rows(&fresh), schema_rows(&history));
            drop(fresh);
            history.execute("ATTACH ?1 AS fresh", [fresh_path.to_str().unwrap()]).unwrap();
            let mut names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
            if tables.iter().any(|t| t.2) {
                names.push("sqlite_sequence");
            }
            for table in names {
                prop_assert_eq!(missing(&history, table, "main", "fresh"), 0, "{} lost rows: {}", table, made.up);
                prop_assert_eq!(missing(&history, table, "fresh", "main"), 0, "{} gained rows: {}", table, made.up);
            }
        }
    }

    /// A platform's tables (Litestream's, D1's) are the database's host's, not the history's:
    /// a baseline neither makes them nor copies their rows or sequences.
    #[test]
    fn the_baseline_leaves_out_the_tables_a_platform_keeps() {
        let history = replayed(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);
             INSERT INTO notes (body) VALUES ('kept');
             CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE);
             INSERT INTO d1_migrations (name) VALUES ('0001.sql');
             CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
             INSERT INTO _litestream_seq VALUES (1, 42);",
        );
        let made = baseline(&history, &[], false).unwrap();
        assert!(made.up.contains("CREATE TABLE notes"), "{}", made.up);
        for platform in ["d1_migrations", "_litestream_seq", "sqlite_autoindex_d1"] {
            assert!(!made.up.contains(platform), "{platform}: {}", made.up);
        }
        assert_eq!(made.rows, [("notes".to_owned(), 1)]);
    }

    #[test]
    fn the_baseline_remakes_schema_rows_and_sequences_exactly() {
        let history = replayed(HISTORY);
        let made = baseline(&history, &["20260101000000".into()], false).unwrap();
        let fresh = replayed("");
        fresh
            .execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", made.up))
            .unwrap();
        assert_eq!(schema_rows(&fresh), schema_rows(&history));
        let shape = inspect(&history, &TableFilter::All).unwrap();
        for table in ["kinds", "items", "audit", "sqlite_sequence"] {
            let rowid = hidden_rowid(&shape, table);
            assert_eq!(
                inserts(&fresh, table, rowid).unwrap(),
                inserts(&history, table, rowid).unwrap(),
                "{table}"
            );
        }
        assert_eq!(
            made.rows,
            [
                ("kinds".to_owned(), 2),
                ("items".to_owned(), 3),
                ("audit".to_owned(), 3)
            ]
        );
        assert!(
            !made.up.contains(['\r', '\0']),
            "text with a CR or a NUL is written as bytes, so no checkout can change it"
        );
        assert!(made
            .changes
            .iter()
            .any(|c| c.to_string().starts_with("create table items")));
        fresh
            .execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", made.down))
            .unwrap();
        let left: Vec<String> = schema_rows(&fresh).into_iter().map(|r| r.1).collect();
        assert_eq!(
            left,
            [
                "sqlite_autoindex___diesel_schema_migrations_1",
                MIGRATIONS_TABLE,
                "sqlite_sequence"
            ]
        );
    }
}
