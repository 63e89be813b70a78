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

/// A Diesel connection to the disposable database (the harness runs migrations on it) and a
/// rusqlite one that reads it, on one SQLite connection where confinement lets the tool see
/// it open (`ffi::sharing_handle`): a second connection would parse the whole schema again
/// after every statement that changes it, which at hundreds of tables is most of what
/// reading the schema after each step costs. Elsewhere the two are two connections.
pub struct Paired {
    /// Reads (and seeds) the database. Declared first: it is dropped before `conn` closes
    /// the handle it may borrow.
    pub reader: rusqlite::Connection,
    /// Runs the migrations.
    pub conn: SqliteConnection,
}

impl Drop for Paired {
    /// Nothing beyond the fields' own drops, in order; being `Drop`, a `Paired` cannot be
    /// taken apart, so `reader` never outlives `conn`.
    fn drop(&mut self) {}
}

/// Opens the disposable database at `path` as a `Paired`.
pub fn open_paired(path: &Path) -> Result<Paired> {
    // SAFETY: the reader is stored in a `Paired` beside the connection whose handle it may
    // borrow, and dropped first.
    let (conn, shared) = unsafe { crate::sqlite::ffi::sharing_handle(|| open_diesel(path)) };
    let conn = conn?;
    let reader = match shared {
        Some(reader) => reader,
        None => open_rusqlite(path)?,
    };
    Ok(Paired { reader, conn })
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
