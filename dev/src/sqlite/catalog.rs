//! `sqlite_schema`, typed: the kinds of object it holds, the one reader of its entries, and
//! the one place that knows how each kind is dropped. A new kind of object is added here, and
//! every `match` on [`Kind`] then says where it needs a decision.

use std::collections::BTreeSet;
use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::sqlite::db::sqlite_message;
use crate::sqlite::lexer;
use crate::sqlite::quote::quote;

/// What an entry of `sqlite_schema` is (its `type` column). Ordered as SQLite sorts the
/// names, so entries sorted by kind and name sort as `ORDER BY type, name` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An index, automatic (`sqlite_autoindex_...`, no SQL) or made by `CREATE INDEX`.
    Index,
    /// A table, virtual tables and SQLite's own included.
    Table,
    /// A trigger.
    Trigger,
    /// A view.
    View,
}

impl Kind {
    /// Every kind, in `type` order.
    pub const ALL: [Kind; 4] = [Kind::Index, Kind::Table, Kind::Trigger, Kind::View];

    /// The kind `type` names; `None` for a value SQLite never writes there.
    pub fn from_type(type_: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == type_)
    }

    /// Its `type` value: `table`, `index`, `view` or `trigger`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Table => "table",
            Kind::Trigger => "trigger",
            Kind::View => "view",
        }
    }

    /// The statement that drops the object `name` of this kind.
    pub fn drop_statement(self, name: &str) -> String {
        let keyword = match self {
            Kind::Index => "INDEX",
            Kind::Table => "TABLE",
            Kind::Trigger => "TRIGGER",
            Kind::View => "VIEW",
        };
        format!("DROP {keyword} {};", quote(name))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromSql for Kind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Kind::from_type(text).ok_or_else(|| {
            FromSqlError::Other(format!("`{text}` is no type of sqlite_schema entry").into())
        })
    }
}

/// One entry of `sqlite_schema`, but its root page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// What the object is.
    pub kind: Kind,
    /// The object's own name.
    pub name: String,
    /// The table it belongs to (its own name for a table or view).
    pub table: String,
    /// The stored `CREATE` statement; `None` for an automatic index.
    pub sql: Option<String>,
}

/// Tables that replication and hosting platforms keep inside the user's database, with
/// who keeps them: never part of the schema (no drift, no change, not copied by `squash`).
/// SQLite's own (`sqlite_sequence`, `sqlite_stat1` to `sqlite_stat4`) are left out by their
/// prefix. Listed in `dev/docs/commands.md` ("Beside replication").
pub const PLATFORM_TABLES: [(&str, &str); 4] = [
    ("_litestream_seq", "Litestream"),
    ("_litestream_lock", "Litestream"),
    ("_cf_KV", "Cloudflare D1"),
    ("d1_migrations", "Cloudflare D1"),
];

/// Whether `table` is one of [`PLATFORM_TABLES`] (SQLite compares names without case).
pub fn is_platform_table(table: &str) -> bool {
    PLATFORM_TABLES
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(table))
}

/// Every entry of the main schema, sorted by kind and name: two databases with equal entries
/// have the same schema, text for text.
pub fn entries(conn: &Connection) -> Result<Vec<Entry>> {
    let read = || -> rusqlite::Result<Vec<Entry>> {
        conn.prepare_cached("SELECT type, name, tbl_name, sql FROM main.sqlite_schema")?
            .query_map([], |row| {
                Ok(Entry {
                    kind: row.get(0)?,
                    name: row.get(1)?,
                    table: row.get(2)?,
                    sql: row.get(3)?,
                })
            })?
            .collect()
    };
    // Sorted here rather than by SQLite, which would copy every entry's text into a sorter
    // first: `verify` reads the schema after each step. `Kind` and byte order sort as
    // `ORDER BY type, name` does.
    let mut entries = read().map_err(unreadable)?;
    entries.sort_unstable_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(entries)
}

/// The tables (by `tbl_name`, as stored) of every entry one of `a` and `b` holds and the
/// other does not, each sorted as `entries` sorts them: what changed between two readings
/// of a schema.
pub fn differing_tables(a: &[Entry], b: &[Entry]) -> BTreeSet<String> {
    let missing_from = |entries: &[Entry], entry: &Entry| {
        entries
            .binary_search_by(|e| (e.kind, &e.name).cmp(&(entry.kind, &entry.name)))
            .map_or(true, |i| entries[i] != *entry)
    };
    a.iter()
        .filter(|e| missing_from(b, e))
        .chain(b.iter().filter(|e| missing_from(a, e)))
        .map(|e| e.table.clone())
        .collect()
}

/// Whether the main schema has a table or view named `name` (as SQLite resolves names,
/// in any case). Asked of SQLite's own table of names, by its argument, not by a scan of
/// `sqlite_schema`: seeding asks once per table, and at thousands of tables a scan each
/// time made seeding quadratic. SQLite's error is left to the caller, which knows what file
/// it was reading (and whether another process holds it).
pub fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_list(?1) WHERE schema = 'main')",
    )?
    .query_row([name], |row| row.get(0))
}

/// Whether `create_sql` makes an AUTOINCREMENT table, asked of SQLite: it makes
/// `sqlite_sequence` along with the first such table, so the statement is run alone on an
/// empty database in memory. One that cannot run alone (a collation only the application
/// registers) is read by its tokens: the keyword outside any quote.
pub fn has_autoincrement(create_sql: &str) -> bool {
    let asked = || -> rusqlite::Result<bool> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(create_sql)?;
        has_table(&conn, "sqlite_sequence")
    };
    asked().unwrap_or_else(|_| lexer::has_keyword(create_sql, "autoincrement"))
}

fn unreadable(e: rusqlite::Error) -> Error {
    Error::input(format!("cannot read sqlite_schema: {}", sqlite_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoincrement_is_the_keyword_not_a_name() {
        assert!(has_autoincrement(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x)"
        ));
        assert!(has_autoincrement(
            "CREATE TABLE t (id INTEGER PRIMARY KEY autoincrement, x COLLATE app_only)"
        ));
        for plain in [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, \"autoincrement\" TEXT)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT DEFAULT 'AUTOINCREMENT')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, \"autoincrement\" COLLATE app_only)",
        ] {
            assert!(!has_autoincrement(plain), "{plain}");
        }
    }

    #[test]
    fn entries_compare_text_exactly() {
        let database = |sql: &str| {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(sql).unwrap();
            entries(&conn).unwrap()
        };
        let spaced = database("CREATE TABLE t (x  TEXT)");
        assert_ne!(database("CREATE TABLE t (x TEXT)"), spaced);
        assert_eq!(database("CREATE TABLE t (x  TEXT)"), spaced);
    }

    #[test]
    fn every_kind_sqlite_writes_is_read_and_dropped() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE \"a b\" (x UNIQUE); CREATE INDEX i ON \"a b\" (x);
             CREATE VIEW v AS SELECT x FROM \"a b\";
             CREATE TRIGGER t AFTER INSERT ON \"a b\" BEGIN SELECT 1; END;",
        )
        .unwrap();
        let found = entries(&conn).unwrap();
        let kinds: Vec<(Kind, &str)> = found.iter().map(|e| (e.kind, e.name.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (Kind::Index, "i"),
                (Kind::Index, "sqlite_autoindex_a b_1"),
                (Kind::Table, "a b"),
                (Kind::Trigger, "t"),
                (Kind::View, "v"),
            ]
        );
        assert_eq!(found[1].sql, None);
        assert!(has_table(&conn, "v").unwrap() && has_table(&conn, "A B").unwrap());
        assert!(!has_table(&conn, "w").unwrap() && !has_table(&conn, "i").unwrap());
        for kind in [Kind::View, Kind::Trigger, Kind::Index, Kind::Table] {
            for entry in found.iter().filter(|e| e.kind == kind && e.sql.is_some()) {
                conn.execute_batch(&entry.kind.drop_statement(&entry.name))
                    .unwrap();
            }
        }
        assert_eq!(entries(&conn).unwrap(), []);
    }
}
