//! The user's own database, for the commands that change real data: where it is
//! (`--database` or `DATABASE_URL`), opening it without ever creating a file nobody named,
//! reading which versions it has applied, and backing it up.

use std::path::{Path, PathBuf};

use diesel::SqliteConnection;

use crate::db;
use crate::error::{Error, Result};

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

/// A read connection to the same file, for counting and for the migrations table.
pub fn reader(path: &Path) -> Result<rusqlite::Connection> {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::input(format!("cannot open `{}`: {e}", path.display())))
}

/// The versions the database has applied (Diesel's keys, dashes removed), oldest first; none
/// when it has no migrations table or does not exist yet.
pub fn applied(path: &Path) -> Result<Vec<String>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let conn = reader(path)?;
    let read = |e: rusqlite::Error| {
        Error::input(format!(
            "cannot read the applied versions of `{}`: {e}",
            path.display()
        ))
    };
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '__diesel_schema_migrations')",
            [],
            |r| r.get(0),
        )
        .map_err(read)?;
    if !has_table {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare("SELECT version FROM __diesel_schema_migrations ORDER BY version")
        .map_err(read)?;
    let versions = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(read);
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
    let source = reader(path)?;
    let mut target = rusqlite::Connection::open(&copy)
        .map_err(|e| Error::input(format!("cannot create `{}`: {e}", copy.display())))?;
    rusqlite::backup::Backup::new(&source, &mut target)
        .and_then(|b| b.run_to_completion(256, std::time::Duration::ZERO, None))
        .map_err(|e| Error::input(format!("cannot back up `{}`: {e}", path.display())))?;
    Ok(copy)
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
