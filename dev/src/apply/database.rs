//! The user's own database, for the commands that change real data: where it is
//! (`--database` or `DATABASE_URL`), opening it without ever creating a file nobody named,
//! reading which versions it has applied, and backing it up.

use std::path::{Path, PathBuf};

use diesel::SqliteConnection;

use crate::error::{Error, Result};
use crate::sqlite::catalog;
use crate::sqlite::db;

/// Refuses to write to a database on a LiteFS replica. LiteFS puts a `.primary` file, which
/// names the primary node, in the mount directory of every node but the primary, and only
/// the primary may write: a migration on a replica would fail half-way, or diverge.
pub fn refuse_replica(path: &Path) -> Result<()> {
    let marker = path.with_file_name(".primary");
    let primary = match std::fs::read_to_string(&marker) {
        Ok(primary) => primary,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read", &marker, e)),
    };
    Err(Error::input(format!(
        "`{}` is on a LiteFS replica: only the primary, {}, may write to it",
        path.display(),
        primary.trim()
    ))
    .note(format!("LiteFS names the primary in `{}`", marker.display()))
    .help("run this on the primary node; `current`, `history`, `drift` and `upgrade --rehearse` work on a replica"))
}

/// The variable diesel_cli reads too.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// The database named by `--database`, else by `DATABASE_URL`: a path or a `sqlite://` URL.
pub fn locate(flag: Option<&str>) -> Result<PathBuf> {
    let given = match flag {
        Some(value) => value.to_owned(),
        None => std::env::var(DATABASE_URL).map_err(|_| {
            Error::input("no database given")
                .help(format!("pass `--database path/to/app.sqlite3` or set {DATABASE_URL}=path/to/app.sqlite3; nothing is created unless you name it"))
        })?,
    };
    let path = given
        .strip_prefix("sqlite://")
        .or_else(|| given.strip_prefix("sqlite:"))
        .unwrap_or(&given);
    if path.is_empty() || path == ":memory:" {
        return Err(Error::input(format!("`{given}` names no database file")));
    }
    Ok(PathBuf::from(path))
}

/// Opens the database at `path` as the application does. Only `create` lets a missing file be
/// created; otherwise its absence is an error.
pub fn open(path: &Path, create: bool) -> Result<SqliteConnection> {
    if !create && !path.is_file() {
        return Err(
            Error::input(format!("there is no database at `{}`", path.display()))
                .help("check the path; `upgrade --database PATH` creates a database you name"),
        );
    }
    db::open_application(path)
}

/// A read connection to the same file, for counting and for the migrations table. It waits
/// for another process's lock as long as the application's connections do.
///
/// It is opened for writing (never creating), with every write refused (`query_only`): a
/// read-only connection to a WAL database leaves the `-wal` and `-shm` files it makes beside
/// it, where the last writable connection to close removes them. Where the file cannot be
/// opened for writing it is opened read-only.
pub fn reader(path: &Path) -> Result<rusqlite::Connection> {
    open_reader(path).map_err(|e| failed(path, "open", &e))
}

/// `reader`, with SQLite's error as it is, for a caller that tells its kinds apart.
pub fn open_reader(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let open = |flags: OpenFlags| rusqlite::Connection::open_with_flags(path, flags);
    let conn = match open(OpenFlags::SQLITE_OPEN_READ_WRITE) {
        Ok(conn) => conn,
        Err(_) => open(OpenFlags::SQLITE_OPEN_READ_ONLY)?,
    };
    conn.execute_batch(db::APPLICATION_PRAGMAS)?;
    conn.execute_batch("PRAGMA query_only = ON;")?;
    Ok(conn)
}

/// What `locked` says, for telling its error apart.
pub const LOCKED: &str = "the database is locked by another process";

/// The error for a database another process keeps locked past the busy timeout. It is not a
/// problem with the migration or the tool, so it says what to do about the other process.
pub fn locked(path: &Path) -> Error {
    Error::input(LOCKED)
        .note(format!(
            "`{}` stayed locked for longer than the application's busy timeout",
            path.display()
        ))
        .help("another program (the application, a `sqlite3` shell, a transaction left open) is writing to it; finish or close that, then run the command again")
}

/// Whether SQLite's message says a lock was held too long: SQLITE_BUSY ("database is
/// locked") or SQLITE_LOCKED ("database table is locked"). Diesel's harness passes on only
/// the message.
pub fn is_locked_message(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database table is locked")
}

/// An error from SQLite while working on the database at `path`, `action` being what was
/// being done ("read", "count the rows of", ...): a lock is reported as one.
pub fn failed(path: &Path, action: &str, err: &rusqlite::Error) -> Error {
    let lock = matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if lock {
        locked(path)
    } else {
        Error::input(format!("cannot {action} `{}`: {err}", path.display()))
    }
}

/// The versions the database has applied (Diesel's keys, dashes removed), oldest first; none
/// when it has no migrations table or does not exist yet.
pub fn applied(path: &Path) -> Result<Vec<String>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let conn = reader(path)?;
    applied_in(&conn).map_err(|e| failed(path, "read the applied versions of", &e))
}

/// The versions the database `conn` is open on has applied, oldest first; SQLite's error
/// as it is, for a caller that tells its kinds apart (a fleet's survey).
pub fn applied_in(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    if !catalog::has_table(conn, "__diesel_schema_migrations")? {
        return Ok(Vec::new());
    }
    let mut stmt =
        conn.prepare("SELECT version FROM __diesel_schema_migrations ORDER BY version")?;
    let versions = stmt.query_map([], |r| r.get(0))?.collect();
    versions
}

/// Writes a consistent copy of the database beside it with SQLite's online backup, and
/// returns its path.
pub fn backup(path: &Path) -> Result<PathBuf> {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .map_err(|e| Error::input(format!("cannot read the clock: {e}")))?;
    let name = path
        .file_name()
        .map_or_else(|| "database".into(), |n| n.to_string_lossy().into_owned());
    let copy = path.with_file_name(format!("{name}.backup-{stamp}"));
    if copy.exists() {
        return Err(Error::input(format!("`{}` exists already", copy.display()))
            .help("wait a second and run again, or move that file"));
    }
    copy_to(path, &copy)?;
    Ok(copy)
}

/// Writes a consistent copy of the database at `path` to the new file `target`, with
/// SQLite's online backup: for `--backup`, and for running a failed migration again where
/// it can be examined without touching the user's file.
pub fn copy_to(path: &Path, target: &Path) -> Result<()> {
    let source = reader(path)?;
    let mut copy = rusqlite::Connection::open(target)
        .map_err(|e| Error::input(format!("cannot create `{}`: {e}", target.display())))?;
    let backup = rusqlite::backup::Backup::new(&source, &mut copy)
        .map_err(|e| failed(path, "back up", &e))?;
    // One step copies every page. `run_to_completion` would retry a lock forever; the step
    // has already waited the busy timeout when it reports one.
    match backup.step(-1).map_err(|e| failed(path, "back up", &e))? {
        rusqlite::backup::StepResult::Done => Ok(()),
        _ => Err(locked(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_and_paths() {
        assert_eq!(
            locate(Some("app.sqlite3")).unwrap(),
            PathBuf::from("app.sqlite3")
        );
        assert_eq!(
            locate(Some("sqlite:///tmp/a.db")).unwrap(),
            PathBuf::from("/tmp/a.db")
        );
        assert_eq!(
            locate(Some("sqlite://rel/a.db")).unwrap(),
            PathBuf::from("rel/a.db")
        );
        assert!(locate(Some("sqlite://")).is_err());
        assert!(locate(Some(":memory:")).is_err());
    }

    #[test]
    fn opening_never_creates_an_unnamed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.sqlite3");
        let Err(err) = open(&path, false) else {
            panic!("a missing database was opened")
        };
        assert!(err.message.contains("there is no database"), "{err}");
        assert!(!path.exists());
        assert!(applied(&path).unwrap().is_empty());
        assert!(!path.exists());
    }

    #[test]
    fn backup_is_an_openable_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sqlite3");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);")
            .unwrap();
        let copy = backup(&path).unwrap();
        let rows: i64 = rusqlite::Connection::open(&copy)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
    }
}
