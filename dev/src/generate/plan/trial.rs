//! Asking SQLite, on the planning copy, whether a statement runs: tried in a savepoint and
//! rolled back, with double-quoted strings off so a name that no longer resolves fails.

use crate::error::{Error, Result};
use crate::schema::introspect::{self, inspect, TableFilter};
use crate::sqlite::db::sqlite_message;

/// One table of the planning copy, as it is now.
pub(super) fn inspect_one(
    conn: &rusqlite::Connection,
    name: &str,
) -> Result<introspect::StoredTable> {
    inspect(conn, &TableFilter::All)?
        .tables
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::internal(format!("table {name} is not in the planning copy")))
}

/// Runs `f` with SQLite's double-quoted strings off. SQLite reads a double-quoted name it
/// cannot resolve as a string literal: after a column is dropped, `CREATE INDEX ... ("c")`
/// would index the constant 'c' and a view selecting `"c"` would select it, both without an
/// error (and the next ALTER TABLE of any table fails on them). Only the planner's trials
/// and checks run so; the files run as written.
pub(super) fn strict<T>(conn: &rusqlite::Connection, f: impl FnOnce() -> T) -> T {
    use rusqlite::config::DbConfig::{SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML};
    let set = |on: bool| {
        for option in [SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML] {
            let _ = conn.set_db_config(option, on);
        }
    };
    set(false);
    let outcome = f();
    set(true);
    outcome
}

/// Runs `sql` on `conn` and rolls it back, returning SQLite's message if it fails.
pub(super) fn try_in_savepoint(
    conn: &rusqlite::Connection,
    sql: &str,
) -> std::result::Result<(), String> {
    conn.execute_batch("SAVEPOINT dev_try")
        .map_err(|e| sqlite_message(&e))?;
    let outcome = conn.execute_batch(sql).map_err(|e| sqlite_message(&e));
    conn.execute_batch("ROLLBACK TO dev_try; RELEASE dev_try")
        .map_err(|e| sqlite_message(&e))?;
    outcome
}
