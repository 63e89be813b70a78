//! Connections, configured the way the application configures its own, so migrations behave
//! on the disposable database exactly as they will in production.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::error::{Error, Result};

/// The settings every application connection gets. Foreign keys are stated explicitly even
/// though the bundled SQLite enables them by default, so no build can differ.
pub const APPLICATION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// The disposable database needs no durability: no journal on disk, no fsync.
const SCRATCH_PRAGMAS: &str = "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;";

/// Process-wide SQLite settings, before any connection opens: no memory statistics, which
/// SQLite otherwise keeps under a mutex on every allocation (and replaying DDL re-parses the
/// whole schema after each ALTER, allocating all the while). Nothing here reads them.
pub fn configure_sqlite() {
    // SAFETY: sqlite3_config is called before SQLite initialises (no connection is open yet
    // in this process); if it already has, SQLite refuses with SQLITE_MISUSE and nothing
    // changes.
    unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
            0 as std::ffi::c_int,
        );
    }
}

/// A Diesel connection to the disposable database, as the migration harness uses.
pub fn open_diesel(path: &Path) -> Result<SqliteConnection> {
    establish(path, &format!("{APPLICATION_PRAGMAS} {SCRATCH_PRAGMAS}"))
}

/// A Diesel connection to a real database: the application's settings, full durability.
pub fn open_application(path: &Path) -> Result<SqliteConnection> {
    establish(path, APPLICATION_PRAGMAS)
}

fn establish(path: &Path, pragmas: &str) -> Result<SqliteConnection> {
    let url = path
        .to_str()
        .ok_or_else(|| Error::input(format!("the path `{}` is not valid UTF-8", path.display())))?;
    let mut conn = SqliteConnection::establish(url)
        .map_err(|e| Error::input(format!("cannot open `{}`: {e}", path.display())))?;
    conn.batch_execute(pragmas)
        .map_err(|e| Error::input(format!("cannot configure `{}`: {e}", path.display())))?;
    Ok(conn)
}

/// A rusqlite connection to the same file, for introspection and statement-level work.
pub fn open_rusqlite(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)
        .map_err(|e| Error::input(format!("cannot open `{}`: {e}", path.display())))?;
    conn.execute_batch(&format!("{APPLICATION_PRAGMAS} {SCRATCH_PRAGMAS}"))
        .map_err(|e| Error::input(format!("cannot configure `{}`: {e}", path.display())))?;
    Ok(conn)
}

/// SQLite's own message, without rusqlite's wrapping.
pub fn sqlite_message(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}
