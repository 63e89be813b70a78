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
        .map_err(|e| Error::input(format!("cannot open `{}`: {e}", path.display())).caused_by(e))?;
    conn.batch_execute(pragmas).map_err(|e| {
        Error::input(format!("cannot configure `{}`: {e}", path.display())).caused_by(e)
    })?;
    Ok(conn)
}

/// A rusqlite connection to the same file, for introspection and statement-level work.
pub fn open_rusqlite(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)
        .map_err(|e| Error::input(format!("cannot open `{}`: {e}", path.display())).caused_by(e))?;
    conn.execute_batch(&format!("{APPLICATION_PRAGMAS} {SCRATCH_PRAGMAS}"))
        .map_err(|e| {
            Error::input(format!("cannot configure `{}`: {e}", path.display())).caused_by(e)
        })?;
    Ok(conn)
}

/// SQLite's own message, without rusqlite's wrapping.
pub fn sqlite_message(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}
