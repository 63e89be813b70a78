//! Connections, configured the way the application configures its own, so migrations behave
//! on the disposable database exactly as they will in production.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::error::{Error, Result};

/// The settings every application connection gets, the application's own constant
/// (`flowstate::CONNECTION_PRAGMAS`). Foreign keys are stated explicitly even though the
/// bundled SQLite enables them by default, so no build can differ.
pub const APPLICATION_PRAGMAS: &str = flowstate::CONNECTION_PRAGMAS;

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
        // The statement is shown beside the message, where it is shown at all.
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// Runs `f` with SQLite's double-quoted strings off. SQLite reads a double-quoted name it
/// cannot resolve as a string literal: after a column is dropped, `CREATE INDEX ... ("c")`
/// would index the constant 'c' and a view selecting `"c"` would select it, both without an
/// error (and the next ALTER TABLE of any table fails on them). Only the planner's trials
/// and the checks of views and triggers run so; the files run as written.
pub fn strict<T>(conn: &rusqlite::Connection, f: impl FnOnce() -> T) -> T {
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
