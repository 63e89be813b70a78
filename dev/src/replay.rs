//! Upgrading the disposable database to head: every migration in `versions/`, in order,
//! through diesel_migrations' harness, exactly as `diesel migration run` and the application
//! apply them.

use std::collections::HashMap;
use std::path::Path;

use diesel::migration::{Migration, MigrationSource};
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::db;
use crate::ddl;
use crate::error::{Error, Location, Result};
use crate::versions::Version;

/// Runs `versions` (oldest first, as `versions::scan` returns them) on the database at
/// `database` and returns the connection, now at head.
pub fn upgrade_to_head(
    database: &Path,
    versions_dir: &Path,
    versions: &[Version],
) -> Result<SqliteConnection> {
    let mut conn = db::open_diesel(database)?;
    // Creates `__diesel_schema_migrations`, as `run_pending_migrations` does first.
    conn.applied_migrations()
        .map_err(|e| Error::input(format!("cannot set up the disposable database: {e}")))?;
    let migrations = load(versions_dir)?;
    for (applied, version) in versions.iter().enumerate() {
        if let Err(err) = conn.run_migration(migrations.get(version)?) {
            return Err(failure(database, version, &version.up_sql(), &err.to_string())
                .note(format!(
                    "while upgrading the disposable database to head ({applied} of {} migrations applied)",
                    versions.len()
                ))
                .help("fix the SQL in that migration; the disposable database was discarded and nothing was written"));
        }
    }
    Ok(conn)
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

/// Loaded migrations, found by version.
pub struct Migrations(HashMap<String, Box<dyn Migration<Sqlite>>>);

impl Migrations {
    pub fn get(&self, version: &Version) -> Result<&dyn Migration<Sqlite>> {
        self.0.get(&version.dir_name).map(|m| &**m).ok_or_else(|| {
            Error::input(format!(
                "diesel_migrations did not load `{}`",
                version.path.display()
            ))
        })
    }
}

/// Explains a failed migration file: which statement, at which line, with SQLite's message.
/// The harness reports only the message, so when the file runs in the harness's transaction
/// it is run again statement by statement inside a savepoint that is rolled back, on the
/// database the harness left as it was.
pub fn failure(database: &Path, version: &Version, file: &Path, harness_message: &str) -> Error {
    let headline = |message: &str| format!("migration `{}` failed: {message}", version.dir_name);
    let own_transaction = version.path.join("metadata.toml").is_file();
    let Ok(sql) = std::fs::read_to_string(file) else {
        return Error::input(headline(harness_message));
    };
    match (!own_transaction)
        .then(|| locate_failing_statement(database, &sql))
        .flatten()
    {
        Some((offset, message)) => {
            Error::input(headline(&message)).at(Location::at_offset(file, &sql, offset))
        }
        None => Error::input(headline(harness_message)),
    }
}

/// The byte offset of the first statement of `sql` that fails, with SQLite's message.
fn locate_failing_statement(database: &Path, sql: &str) -> Option<(usize, String)> {
    // The application's settings: this may be a user's database, so no scratch shortcuts.
    let conn = rusqlite::Connection::open(database).ok()?;
    conn.execute_batch(db::APPLICATION_PRAGMAS).ok()?;
    conn.execute_batch("SAVEPOINT dev_locate").ok()?;
    let found = ddl::split_statements(sql).into_iter().find_map(|range| {
        conn.execute_batch(&sql[range.clone()])
            .err()
            .map(|e| (range.start, sqlite_message(&e)))
    });
    let _ = conn.execute_batch("ROLLBACK TO dev_locate; RELEASE dev_locate");
    found
}

/// SQLite's own message, without rusqlite's wrapping.
pub fn sqlite_message(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}
