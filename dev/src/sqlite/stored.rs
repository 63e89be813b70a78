//! The schema of a database as SQLite stores it: its `sqlite_schema` entries, in an order
//! they can be made again in, read through the harness's connection or any other. What a
//! file drops is found on a copy made from them (`apply::losses`), and a squashed history's
//! baseline is written from them (`generate::baseline`).

use rusqlite::Connection;

use crate::sqlite::catalog::{self, Kind};

/// A `sqlite_schema` entry. The fields are in the order entries sort in, which is all a
/// comparison of two schemas needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// What the object is.
    pub kind: Kind,
    /// The object's own name (the entry's `name` column).
    pub name: String,
    /// The table it belongs to (`tbl_name`; a table's or view's own name).
    pub table: String,
    /// The stored `CREATE` statement.
    pub sql: String,
}

/// The schema entries of a database that a copy is made from: tables first (an index,
/// trigger or view needs its table), then indexes, views and triggers (an INSTEAD OF
/// trigger needs its view), each in the order they were made. SQLite's own bookkeeping
/// tables, automatic indexes and virtual tables' shadow tables are left to SQLite to make.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoredSchema(Vec<Entry>);

/// The entries, with SQL names a Diesel row can carry.
const ENTRIES: &str = "SELECT type AS kind, name, tbl_name AS tbl, sql FROM main.sqlite_schema
     WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
     ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid";

const SHADOWS: &str =
    "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'";

impl StoredSchema {
    /// Reads the schema through a rusqlite connection.
    pub fn read(conn: &Connection) -> rusqlite::Result<StoredSchema> {
        let entries = conn
            .prepare_cached(ENTRIES)?
            .query_map([], |r| {
                Ok(Entry {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    table: r.get(2)?,
                    sql: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        StoredSchema::without_shadows(entries, || {
            conn.prepare_cached(SHADOWS)?
                .query_map([], |r| r.get(0))?
                .collect()
        })
    }

    /// Reads the schema through a Diesel connection: the harness's own, which has the
    /// schema in memory already, where a second connection would parse it all again after
    /// every file that changes it.
    pub fn read_with(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<StoredSchema> {
        use diesel::sql_types::Text;
        use diesel::RunQueryDsl;

        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            kind: String,
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = Text)]
            tbl: String,
            #[diesel(sql_type = Text)]
            sql: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = Text)]
            name: String,
        }
        let entries = diesel::sql_query(ENTRIES)
            .load::<Row>(conn)?
            .into_iter()
            .map(|r| {
                let kind = Kind::from_type(&r.kind).ok_or_else(|| {
                    diesel::result::Error::DeserializationError(
                        format!("`{}` is no type of sqlite_schema entry", r.kind).into(),
                    )
                })?;
                Ok(Entry {
                    kind,
                    name: r.name,
                    table: r.tbl,
                    sql: r.sql,
                })
            })
            .collect::<diesel::QueryResult<_>>()?;
        StoredSchema::without_shadows(entries, || {
            Ok(diesel::sql_query(SHADOWS)
                .load::<Name>(conn)?
                .into_iter()
                .map(|n| n.name)
                .collect())
        })
    }

    /// Leaves out virtual tables' shadow tables, which their module makes. Only a virtual
    /// table has them, and listing them costs a pass over every table.
    fn without_shadows<E>(
        mut entries: Vec<Entry>,
        shadows: impl FnOnce() -> Result<Vec<String>, E>,
    ) -> Result<StoredSchema, E> {
        if entries.iter().any(|e| e.sql.starts_with("CREATE VIRTUAL")) {
            let shadows = shadows()?;
            entries.retain(|e| !shadows.contains(&e.name));
        }
        Ok(StoredSchema(entries))
    }

    /// The entries in the order they are made in.
    pub fn entries(&self) -> &[Entry] {
        &self.0
    }

    /// The entries sorted, for comparing schemas whatever order their entries were made in.
    pub fn sorted(&self) -> Vec<Entry> {
        let mut entries = self.0.clone();
        entries.sort();
        entries
    }
}
/// The rows of `sqlite_sequence` (the last id each AUTOINCREMENT table gave out), when any
/// table uses `AUTOINCREMENT`; none otherwise.
pub fn sequences(conn: &Connection) -> crate::error::Result<Vec<(String, i64)>> {
    // SQLite makes sqlite_sequence with the first AUTOINCREMENT table.
    let read = || -> rusqlite::Result<Vec<(String, i64)>> {
        if !catalog::has_table(conn, "sqlite_sequence")? {
            return Ok(Vec::new());
        }
        conn.prepare("SELECT name, seq FROM main.sqlite_sequence ORDER BY rowid")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    };
    read().map_err(|e| {
        crate::error::Error::input(format!(
            "cannot read sqlite_sequence: {}",
            crate::sqlite::db::sqlite_message(&e)
        ))
    })
}
