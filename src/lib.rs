//! flowstate: the state store of a federated-learning coordinator (runs, nodes, messages in
//! and out, logs, run contexts, content-addressed objects, tokens), kept in SQLite.
//!
//! `schema/schema.rs` is the single source of truth for the tables; `versions/` holds the
//! migrations the `dev` tool generates from it, embedded here so that [`open`] brings any
//! database file up to date without losing a row.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::migration::{Migration, MigrationSource};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub mod migration_lock;
pub mod squashed;

use squashed::Squashed;

include!(concat!(env!("OUT_DIR"), "/squashed.rs"));

/// The Diesel schema, generated into `schema/schema.rs`.
#[allow(missing_docs)]
pub mod schema {
    include!("../schema/schema.rs");
}

/// Every migration in `versions/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("versions");

/// Settings every connection gets: foreign keys enforced, and a wait rather than an
/// immediate "database is locked" when another process writes.
pub const CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the path `{0}` is not valid UTF-8")]
    Path(String),
    #[error("cannot open `{path}`: {source}")]
    Connect {
        path: String,
        source: diesel::ConnectionError,
    },
    #[error("cannot use `{path}`: {message}")]
    Database { path: String, message: String },
    #[error("`{path}` has applied {}, which this build does not know: newer code migrated it; run that code, or restore a backup", versions.join(", "))]
    UnknownVersions { path: String, versions: Vec<String> },
    #[error("`{path}` is part-way through the versions squashed into {baseline}: it applied {applied} of the {replaced} replaced; bring it to {last_replaced} with a build from before the squash, then open it with this one")]
    PartWay {
        path: String,
        baseline: String,
        applied: usize,
        replaced: usize,
        last_replaced: String,
    },
    #[error("`{path}` is not at head: {} pending ({}); upgrade it first (`open()` or the dev tool's `upgrade`), then serve it", versions.len(), versions.join(", "))]
    Pending { path: String, versions: Vec<String> },
    #[error("`{path}` holds tables but no migrations table, and differs from the first version's schema: missing {}. Migrate it by hand to that schema (or start from an empty file); open() then stamps and upgrades it", missing.join(", "))]
    NotFirstVersion { path: String, missing: Vec<String> },
}

impl OpenError {
    /// SQLite's (or the harness's) `message` about the database shown as `path`.
    fn database(path: &str, message: impl ToString) -> OpenError {
        OpenError::Database {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }
}

/// Opens (creating it if needed) the database at `path` and applies pending migrations.
///
/// A database that applied a version this build does not contain is refused, never run.
/// A database made before migrations existed (tables, no migrations table) is compared with
/// the first version's schema: when every table and column of it is there, the first version
/// is recorded as applied and the rest run; otherwise the error lists what is missing.
///
/// A database migrated before the history was squashed is recognised: one that applied the
/// baseline's version moves on from it, one part-way through the versions it replaced is
/// refused ([`OpenError::PartWay`]).
pub fn open(path: &Path) -> Result<SqliteConnection, OpenError> {
    open_with(path, &MIGRATIONS, embedded_squash().as_ref())
}

/// [`open`] with another set of migrations (`FileBasedMigrations` of a `versions/`
/// directory, say) and its baseline, as [`squashed::read`] finds it.
pub fn open_with(
    path: &Path,
    source: &dyn MigrationSource<Sqlite>,
    squashed: Option<&Squashed>,
) -> Result<SqliteConnection, OpenError> {
    let display = path.display().to_string();
    let failed = |message: String| OpenError::database(&display, message);
    let mut conn = connect(path)?;
    // Another process migrating the same database (the dev tool, another open()) goes first;
    // what it applied is then read here, and not run again.
    migration_lock::with_migration_lock(
        path,
        || {},
        || upgrade(&mut conn, &display, source, squashed),
    )
    .map_err(|e| failed(format!("cannot take its migration lock: {e}")))??;
    Ok(conn)
}

/// Opens the database at `path` only when it is at head, writing nothing: one with versions
/// pending (or no database there yet) is refused with [`OpenError::Pending`], naming them.
/// For an application that serves many databases (one per tenant) and upgrades them apart
/// from serving, as crates.io refuses to start on a database with migrations pending. An
/// unknown applied version or a database part-way through a squash is refused as by
/// [`open`].
pub fn open_at_head(path: &Path) -> Result<SqliteConnection, OpenError> {
    open_at_head_with(path, &MIGRATIONS, embedded_squash().as_ref())
}

/// [`open_at_head`] with another set of migrations and its baseline.
pub fn open_at_head_with(
    path: &Path,
    source: &dyn MigrationSource<Sqlite>,
    squashed: Option<&Squashed>,
) -> Result<SqliteConnection, OpenError> {
    let display = path.display().to_string();
    let failed = |message: String| OpenError::database(&display, message);
    let migrations = sorted(source, &display)?;
    let all = || migrations.iter().map(|m| m.name().to_string()).collect();
    if !path.is_file() {
        return Err(OpenError::Pending {
            path: display,
            versions: all(),
        });
    }
    let mut conn = connect(path)?;
    let tables = columns(&mut conn).map_err(|e| failed(e.to_string()))?;
    if !tables
        .iter()
        .any(|c| c.table == "__diesel_schema_migrations")
    {
        return Err(OpenError::Pending {
            path: display,
            versions: all(),
        });
    }
    let known: BTreeSet<String> = migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = recognised_applied(&mut conn, &display, &known, squashed)?;
    let pending: Vec<String> = migrations
        .iter()
        .filter(|m| !applied.contains(&m.name().version().to_string()))
        .map(|m| m.name().to_string())
        .collect();
    if !pending.is_empty() {
        return Err(OpenError::Pending {
            path: display,
            versions: pending,
        });
    }
    Ok(conn)
}

/// Brings the database on `conn` (shown as `display`) to the newest of `source`'s versions.
fn upgrade(
    conn: &mut SqliteConnection,
    display: &str,
    source: &dyn MigrationSource<Sqlite>,
    squashed: Option<&Squashed>,
) -> Result<(), OpenError> {
    let failed = |message: String| OpenError::database(display, message);
    let display = display.to_owned();
    let migrations = sorted(source, &display)?;
    let known: BTreeSet<String> = migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let tables = columns(conn).map_err(|e| failed(e.to_string()))?;
    let tracked = tables
        .iter()
        .any(|c| c.table == "__diesel_schema_migrations");
    if tracked {
        recognised_applied(conn, &display, &known, squashed)?;
    } else if !tables.is_empty() {
        if let Some(first) = migrations.first() {
            let missing = missing_from(&tables, &**first).map_err(failed)?;
            if !missing.is_empty() {
                return Err(OpenError::NotFirstVersion {
                    path: display,
                    missing,
                });
            }
            conn.applied_migrations()
                .map_err(|e| failed(e.to_string()))?;
            diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES (?)")
                .bind::<Text, _>(first.name().version().to_string())
                .execute(conn)
                .map_err(|e| failed(e.to_string()))?;
        }
    }
    let applied = applied(conn).map_err(failed)?;
    for migration in migrations
        .iter()
        .filter(|m| !applied.contains(&m.name().version().to_string()))
    {
        conn.run_migration(&**migration)
            .map_err(|e| failed(e.to_string()))?;
    }
    Ok(())
}

/// A connection to the database at `path`, with the settings every connection gets.
fn connect(path: &Path) -> Result<SqliteConnection, OpenError> {
    let display = path.display().to_string();
    let url = path
        .to_str()
        .ok_or_else(|| OpenError::Path(display.clone()))?;
    let mut conn = SqliteConnection::establish(url).map_err(|source| OpenError::Connect {
        path: display.clone(),
        source,
    })?;
    conn.batch_execute(CONNECTION_PRAGMAS)
        .map_err(|e| OpenError::database(&display, e))?;
    Ok(conn)
}

/// `source`'s migrations in Diesel's order (by version).
fn sorted(
    source: &dyn MigrationSource<Sqlite>,
    display: &str,
) -> Result<Vec<Box<dyn Migration<Sqlite>>>, OpenError> {
    let mut migrations = source
        .migrations()
        .map_err(|e| OpenError::database(display, e))?;
    migrations.sort_by_key(|m| m.name().version().to_string());
    Ok(migrations)
}

/// The versions the database on `conn` applied, with those a squashed history's baseline
/// accounts for left out; an applied version `known` lacks (newer code migrated it) or a
/// database part-way through squashed versions is refused.
fn recognised_applied(
    conn: &mut SqliteConnection,
    display: &str,
    known: &BTreeSet<String>,
    squashed: Option<&Squashed>,
) -> Result<Vec<String>, OpenError> {
    let mut applied = applied(conn).map_err(|message| OpenError::database(display, message))?;
    if let Some(s) = squashed {
        applied = s.recognise(applied).map_err(|part| OpenError::PartWay {
            path: display.to_owned(),
            baseline: s.baseline.clone(),
            applied: part.applied,
            replaced: part.replaced,
            last_replaced: s.last_replaced.clone(),
        })?;
    }
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !known.contains(*v))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(OpenError::UnknownVersions {
            path: display.to_owned(),
            versions: unknown,
        });
    }
    Ok(applied)
}

/// The versions the database applied, as Diesel records them.
fn applied(conn: &mut SqliteConnection) -> Result<Vec<String>, String> {
    Ok(conn
        .applied_migrations()
        .map_err(|e| e.to_string())?
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// A column of a table, as listed from `sqlite_schema` and `pragma_table_info`.
#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TableColumn {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    column: String,
}

fn columns(conn: &mut SqliteConnection) -> diesel::QueryResult<Vec<TableColumn>> {
    diesel::sql_query(
        "SELECT m.name AS \"table\", p.name AS \"column\" FROM sqlite_schema m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' ORDER BY 1, 2",
    )
    .load(conn)
}

/// What the first version creates that `tables` lacks, as `table t` or `column t.c`.
fn missing_from(
    tables: &[TableColumn],
    first: &dyn Migration<Sqlite>,
) -> Result<Vec<String>, String> {
    let mut expected_db = SqliteConnection::establish(":memory:").map_err(|e| e.to_string())?;
    first.run(&mut expected_db).map_err(|e| e.to_string())?;
    let expected = columns(&mut expected_db).map_err(|e| e.to_string())?;
    let have_table = |t: &str| tables.iter().any(|c| c.table == t);
    let mut missing = Vec::new();
    for column in &expected {
        if !have_table(&column.table) {
            let entry = format!("table {}", column.table);
            if !missing.contains(&entry) {
                missing.push(entry);
            }
        } else if !tables.contains(column) {
            missing.push(format!("column {}.{}", column.table, column.column));
        }
    }
    Ok(missing)
}
