//! flowstate: the state store of a federated-learning coordinator (runs, nodes, messages in
//! and out, logs, run contexts, content-addressed objects, tokens), kept in SQLite.
//!
//! `schema/schema.rs` is the single source of truth for the tables; `versions/` holds the
//! migrations the `dev` tool generates from it, embedded here so that [`open`] brings any
//! database file up to date without losing a row.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

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
    #[error("cannot configure `{path}`: {source}")]
    Configure {
        path: String,
        source: diesel::result::Error,
    },
    #[error("cannot migrate `{path}`: {message}")]
    Migrate { path: String, message: String },
}

/// Opens (creating it if needed) the database at `path` and applies pending migrations.
pub fn open(path: &Path) -> Result<SqliteConnection, OpenError> {
    let display = path.display().to_string();
    let url = path
        .to_str()
        .ok_or_else(|| OpenError::Path(display.clone()))?;
    let mut conn = SqliteConnection::establish(url).map_err(|source| OpenError::Connect {
        path: display.clone(),
        source,
    })?;
    conn.batch_execute(CONNECTION_PRAGMAS)
        .map_err(|source| OpenError::Configure {
            path: display.clone(),
            source,
        })?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| OpenError::Migrate {
            path: display,
            message: e.to_string(),
        })?;
    Ok(conn)
}
