//! Upgrading the disposable database to head: every migration in `versions/`, in order,
//! through diesel_migrations' harness, exactly as `diesel migration run` and the application
//! apply them.

use std::collections::HashMap;
use std::path::Path;

use diesel::migration::{Migration, MigrationSource};
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::error::{Error, Location, Result};
use crate::generate::cache::Cache;
use crate::history::versions::Version;
use crate::sqlite::db;
use crate::sqlite::lexer;
use crate::sqlite::sandbox::{self, Breach};
use crate::support::timing::Timings;

/// Runs `versions` (oldest first, as `versions::scan` returns them) and leaves head in the
/// file `database`; returns a connection to it.
///
/// With a `cache` (and the keys of every prefix of the history), the newest snapshot of a prefix of the history is copied in and only the
/// versions after it run, on the file; the result is stored as head's snapshot. Without one
/// (or when no snapshot is close enough), the harness runs every version on an in-memory
/// database, which is then written to the file in one go (`VACUUM INTO`): a thousand commits
/// to a file cost more than SQLite's own DDL does.
pub fn upgrade_to_head(
    database: &Path,
    versions_dir: &Path,
    versions: &[Version],
    cache: Option<(&Cache, &[String])>,
    timings: &mut Timings,
) -> Result<SqliteConnection> {
    let (cache, keys) = match cache {
        Some((cache, keys)) if !versions.is_empty() => (Some(cache), keys),
        _ => (None, &[][..]),
    };
    let restored = timings.time("restore cache", || {
        cache.and_then(|c| Some((c, c.restore(keys, database)?)))
    });
    let conn = match restored {
        Some((cache, held)) => match from_snapshot(database, versions, held)? {
            Some(mut conn) => {
                let rest = &versions[held..];
                timings.notes.push(format!(
                    "replayed {} of {} versions; the rest came from a snapshot",
                    rest.len(),
                    versions.len()
                ));
                let migrations = timings.time("load versions", || load_only(database, rest))?;
                timings.time("replay", || {
                    run_all(&mut conn, database, rest, &migrations, held, versions.len())
                })?;
                conn
            }
            None => {
                cache.forget(&keys[held - 1]);
                let migrations = timings.time("load versions", || load(versions_dir))?;
                in_memory(database, versions, &migrations, timings)?
            }
        },
        None => {
            let migrations = timings.time("load versions", || load(versions_dir))?;
            in_memory(database, versions, &migrations, timings)?
        }
    };
    if let (Some(cache), Some(head)) = (cache, keys.last()) {
        timings.time("store cache", || cache.store(head, database));
    }
    Ok(conn)
}

/// Head from the snapshot of `key` alone (the key of all of `versions`), with nothing
/// replayed on it: `None` when there is no such snapshot or it is not what its key says.
/// For a run that guesses head's key before it has hashed the history, so this writes no
/// snapshot. Opened as a `db::Paired`, the reader sharing the harness's connection.
pub fn restore_head(
    database: &Path,
    versions: &[Version],
    cache: &Cache,
    key: &str,
) -> Result<Option<db::Paired>> {
    if versions.is_empty() || !cache.restore_exactly(key, database) {
        return Ok(None);
    }
    let mut paired = db::open_paired(database)?;
    if holds_exactly(&mut paired.conn, versions) {
        return Ok(Some(paired));
    }
    drop(paired);
    std::fs::remove_file(database).map_err(|e| Error::io("remove", database, e))?;
    Ok(None)
}

/// Opens a restored snapshot, or `None` when its migrations table is not exactly the first
/// `held` versions (a snapshot is never trusted on its name alone).
fn from_snapshot(
    database: &Path,
    versions: &[Version],
    held: usize,
) -> Result<Option<SqliteConnection>> {
    let mut conn = db::open_diesel(database)?;
    if holds_exactly(&mut conn, &versions[..held]) {
        return Ok(Some(conn));
    }
    drop(conn);
    std::fs::remove_file(database).map_err(|e| Error::io("remove", database, e))?;
    Ok(None)
}

/// Whether the migrations table behind `conn` lists exactly `versions`.
fn holds_exactly(conn: &mut SqliteConnection, versions: &[Version]) -> bool {
    let mut applied: Vec<String> = conn
        .applied_migrations()
        .map(|v| v.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    applied.sort();
    let expected: Vec<&str> = versions.iter().map(|v| v.key.as_str()).collect();
    applied == expected
}

/// Every version on an in-memory database, then head written to `database`.
fn in_memory(
    database: &Path,
    versions: &[Version],
    migrations: &Migrations,
    timings: &mut Timings,
) -> Result<SqliteConnection> {
    let mut memory = db::open_diesel(Path::new(":memory:"))?;
    // Creates `__diesel_schema_migrations`, as `run_pending_migrations` does first.
    memory.applied_migrations().map_err(|e| {
        Error::internal(format!("cannot set up the disposable database: {e}")).caused_by(e)
    })?;
    timings.time("replay", || {
        run_all(
            &mut memory,
            database,
            versions,
            migrations,
            0,
            versions.len(),
        )
    })?;
    timings.time("write scratch", || save(&mut memory, database))?;
    db::open_diesel(database)
}

fn run_all(
    conn: &mut SqliteConnection,
    database: &Path,
    versions: &[Version],
    migrations: &Migrations,
    already: usize,
    total: usize,
) -> Result<()> {
    for (index, version) in versions.iter().enumerate() {
        sandbox::take_breach();
        let migration = migrations.get(version)?;
        if let Err(err) = sandbox::migration(|| conn.run_migration(migration)) {
            // The harness rolled the failing version back. An in-memory replay writes the
            // versions before it to the file, where its statement is then located.
            if !database.exists() {
                save(conn, database)?;
            }
            let err = failure(database, version, &version.up_sql(), &err.to_string()).note(
                format!(
                    "while upgrading the disposable database to head ({} of {total} migrations applied)",
                    already + index
                ),
            );
            return Err(match err.help {
                Some(_) => err,
                None => err.help("fix the SQL in that migration; the disposable database was discarded and nothing was written"),
            });
        }
        left_open(conn, version, &version.up_sql())?;
    }
    Ok(())
}

/// A migration `file` (up.sql or down.sql of `version`) that manages its own transaction and
/// leaves one open (a `BEGIN` without its `COMMIT`): every version after it would run
/// inside it, and be rolled back when the connection closes. SQLite says so when asked to
/// begin another.
pub fn left_open(conn: &mut SqliteConnection, version: &Version, file: &Path) -> Result<()> {
    use diesel::connection::SimpleConnection;
    if conn.batch_execute("BEGIN; ROLLBACK;").is_ok() {
        return Ok(());
    }
    let sql = std::fs::read_to_string(file).unwrap_or_default();
    // Pointed at the last statement that begins one.
    let begins = lexer::split_statements(&sql)
        .into_iter()
        .rev()
        .find(|range| {
            lexer::identifiers(&sql[range.clone()])
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case("begin"))
        })
        .map_or(0, |range| range.start);
    Err(Error::input(format!(
        "migration `{}` leaves a transaction open: the versions after it would run inside it, and everything would be rolled back when the connection closes",
        version.dir_name
    ))
    .at(Location::at_offset(file, &sql, begins))
    .help("end the transaction it begins with COMMIT (a file with `run_in_transaction = false` manages its own)"))
}

/// Writes an in-memory database to `path`.
fn save(memory: &mut SqliteConnection, path: &Path) -> Result<()> {
    use diesel::connection::SimpleConnection;
    let target = crate::sqlite::quote::literal(&path.to_string_lossy());
    memory
        .batch_execute(&format!("VACUUM INTO {target}"))
        .map_err(|e| {
            Error::input(format!(
                "cannot write the disposable database `{}`: {e}",
                path.display()
            ))
        })
}

/// The migrations in `versions_dir`, loaded by diesel_migrations from their files, by
/// directory name.
pub fn load(versions_dir: &Path) -> Result<Migrations> {
    if !versions_dir.is_dir() {
        return Ok(Migrations(HashMap::new()));
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::input(format!("cannot read `{}`: {e}", versions_dir.display()))
    };
    let source = FileBasedMigrations::from_path(versions_dir).map_err(|e| unreadable(&e))?;
    let migrations = MigrationSource::<Sqlite>::migrations(&source).map_err(|e| unreadable(&e))?;
    Ok(Migrations(
        migrations
            .into_iter()
            .map(|m| (m.name().to_string(), m))
            .collect(),
    ))
}

/// Loads just `versions` (the few a snapshot lacks), staged beside the disposable
/// `database`, instead of every directory of the history.
fn load_only(database: &Path, versions: &[Version]) -> Result<Migrations> {
    let stage = database.with_file_name("pending");
    for version in versions {
        version.copy_into(&stage)?;
    }
    load(&stage)
}

/// Loaded migrations, found by version.
pub struct Migrations(HashMap<String, Box<dyn Migration<Sqlite>>>);

impl Migrations {
    /// The loaded migration of `version`; an error if diesel_migrations did not load it.
    pub fn get(&self, version: &Version) -> Result<&dyn Migration<Sqlite>> {
        self.0.get(&version.dir_name).map(|m| &**m).ok_or_else(|| {
            Error::input(format!(
                "diesel_migrations did not load `{}`",
                version.path.display()
            ))
        })
    }
}

/// Whether a version runs outside the harness's transaction (`run_in_transaction = false` in
/// its metadata.toml, as Diesel reads it): its SQL manages its own transaction and PRAGMAs,
/// so it cannot be run again inside a savepoint.
pub fn own_transaction(version: &Version) -> bool {
    std::fs::read_to_string(version.path.join("metadata.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|metadata| metadata.get("run_in_transaction")?.as_bool())
        == Some(false)
}

/// Explains a failed migration file: which statement, at which line, with SQLite's message.
/// The harness reports only the message, so when the file runs in the harness's transaction
/// it is run again statement by statement inside a savepoint that is rolled back, on the
/// database the harness left as it was.
///
/// A migration the sandbox stopped says so: what it tried to reach, or that a statement ran
/// past the time limit (that statement is not run again to find it).
pub fn failure(database: &Path, version: &Version, file: &Path, harness_message: &str) -> Error {
    let breach = sandbox::take_breach();
    let sql = std::fs::read_to_string(file).unwrap_or_default();
    let located = match &breach {
        // Found without running anything: the statement SQLite refuses to prepare.
        Some(Breach::Outside(_)) => locate_refused_statement(database, &sql),
        Some(Breach::TooLong(_)) => None,
        None if own_transaction(version) => None,
        None => locate_failing_statement(database, &sql),
    };
    let breach = breach.or_else(sandbox::take_breach);
    let err = failed_at(version, file, &sql, located, harness_message);
    match breach {
        None => err,
        Some(breach @ Breach::Outside(_)) => err.note(breach.to_string()).help(
            "migrations run here are confined to the disposable database (so that check is safe on a pull request from anybody): take the ATTACH, VACUUM INTO, load_extension() or pragma out of the migration",
        ),
        Some(breach @ Breach::TooLong(_)) => err.note(breach.to_string()).help(
            "bound the statement (a recursive CTE needs a LIMIT or a WHERE that ends it); if it is meant to run this long, raise --time-limit",
        ),
    }
}

/// The error for a failed migration `file` (whose text is `sql`): SQLite's message for the
/// statement at `located` (a byte offset and the message), pointing at it, or the harness's
/// message when the statement is not known.
pub fn failed_at(
    version: &Version,
    file: &Path,
    sql: &str,
    located: Option<(usize, String)>,
    harness_message: &str,
) -> Error {
    let headline = |message: &str| format!("migration `{}` failed: {message}", version.dir_name);
    match located {
        Some((offset, message)) => {
            Error::input(headline(&message)).at(Location::at_offset(file, sql, offset))
        }
        None => Error::input(headline(harness_message)),
    }
}

/// The first statement of `sql` that fails on `conn`, run one at a time: its byte offset and
/// SQLite's error. The harness runs a file as one batch and cannot say which statement
/// failed.
pub fn first_failure(conn: &rusqlite::Connection, sql: &str) -> Option<(usize, rusqlite::Error)> {
    lexer::split_statements(sql).into_iter().find_map(|range| {
        conn.execute_batch(&sql[range.clone()])
            .err()
            .map(|e| (range.start, e))
    })
}

/// The byte offset of the first statement of `sql` the sandbox refuses, with SQLite's
/// message: the statements run one at a time on a copy of `database` beside it (confined
/// as it is), which is then removed. A refusal comes at prepare (`ATTACH`) or as the
/// statement runs (`VACUUM INTO`), so nothing short of running finds both.
fn locate_refused_statement(database: &Path, sql: &str) -> Option<(usize, String)> {
    let copy = database.with_file_name("locate.sqlite3");
    std::fs::copy(database, &copy).ok()?;
    let found = rusqlite::Connection::open(&copy).ok().and_then(|conn| {
        lexer::split_statements(sql).into_iter().find_map(|range| {
            let outcome = conn.execute_batch(&sql[range.clone()]);
            match outcome {
                Err(e) if sandbox::take_breach().is_some() => {
                    Some((range.start, db::sqlite_message(&e)))
                }
                _ => None,
            }
        })
    });
    let _ = std::fs::remove_file(&copy);
    found
}

/// The byte offset of the first statement of `sql` that fails, with SQLite's message.
fn locate_failing_statement(database: &Path, sql: &str) -> Option<(usize, String)> {
    // The application's settings: this may be a user's database, so no scratch shortcuts.
    let conn = rusqlite::Connection::open(database).ok()?;
    conn.execute_batch(db::APPLICATION_PRAGMAS).ok()?;
    conn.execute_batch("SAVEPOINT dev_locate").ok()?;
    let found = first_failure(&conn, sql).map(|(offset, e)| (offset, db::sqlite_message(&e)));
    let _ = conn.execute_batch("ROLLBACK TO dev_locate; RELEASE dev_locate");
    found
}
