//! Asking SQLite, on the planning copy, whether a statement runs: tried in a savepoint and
//! rolled back, with double-quoted strings off so a name that no longer resolves fails.

use crate::error::{Error, Result};
use crate::schema::introspect::{self, inspect_table};
use crate::sqlite::db::sqlite_message;

/// One table of the planning copy, as it is now.
pub(super) fn inspect_one(
    conn: &rusqlite::Connection,
    name: &str,
) -> Result<introspect::StoredTable> {
    inspect_table(conn, name)?
        .ok_or_else(|| Error::internal(format!("table {name} is not in the planning copy")))
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
