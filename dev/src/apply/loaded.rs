//! The versions a command moves databases through, read once per run.
//!
//! A version's up.sql, down.sql and metadata.toml are read into memory the first time a step
//! needs them, and every database the run touches (each of a fleet's, on every thread) runs
//! that same text: a file edited while the run goes on changes nothing half-way, and a fleet
//! of ten thousand databases reads each file once, not ten thousand times.
//!
//! diesel_migrations' harness runs them as it runs the application's embedded migrations,
//! which are text in memory too, with the checks of its file-based ones: an empty file is
//! refused, and a version without down.sql cannot be reverted.

use std::fmt;
use std::sync::OnceLock;

use diesel::connection::BoxableConnection;
use diesel::migration::{Migration, MigrationMetadata, MigrationName, MigrationVersion};
use diesel::sqlite::Sqlite;
use diesel_migrations::MigrationError;

use crate::apply::step::Direction;
use crate::error::{Error, Result};
use crate::generate::replay;
use crate::history::squash::{self, Baseline, PartWay};
use crate::history::versions::{self, Version};

/// Every version of `versions/`, with the text of those a step has needed.
pub struct Loaded {
    /// Every version in `versions/`, oldest first.
    pub versions: Vec<Version>,
    /// Each version's text, by its position in `versions`, read on first use.
    scripts: Vec<OnceLock<std::result::Result<Script, String>>>,
    /// The baseline of a squashed history (`None`: never squashed), read on first use.
    baseline: OnceLock<Option<Baseline>>,
}

impl Loaded {
    /// Lists `versions_dir`; no file is read until a step needs it.
    pub fn scan(versions_dir: &std::path::Path) -> Result<Loaded> {
        let versions = versions::scan(versions_dir)?;
        let scripts = versions.iter().map(|_| OnceLock::new()).collect();
        Ok(Loaded {
            versions,
            scripts,
            baseline: OnceLock::new(),
        })
    }

    /// What a database's applied versions mean for this history (`squash::recognise`),
    /// the baseline read once for every database of the run.
    pub fn recognise(&self, applied: Vec<String>) -> std::result::Result<Vec<String>, PartWay> {
        let baseline = self
            .baseline
            .get_or_init(|| squash::baseline(&self.versions));
        squash::recognise_with(baseline.as_ref(), applied)
    }

    /// The text of `version`, read on the first call and kept for the rest of the run.
    pub fn script(&self, version: &Version) -> Result<&Script> {
        // The versions are sorted by key, and no two share one.
        let at = self
            .versions
            .binary_search_by(|v| v.key.cmp(&version.key))
            .ok()
            .filter(|&at| self.versions[at].dir_name == version.dir_name)
            .ok_or_else(|| {
                Error::input(format!("`{}` is not in versions/", version.path.display()))
            })?;
        self.scripts[at]
            .get_or_init(|| Script::read(version))
            .as_ref()
            .map_err(|message| Error::input(message.clone()))
    }
}

/// One version's files, as text: what the harness runs.
pub struct Script {
    /// The directory name, which Diesel names the migration by.
    name: String,
    /// The version as Diesel records it.
    key: String,
    up: String,
    /// `None` when the version has no down.sql.
    down: Option<String>,
    /// False when its metadata.toml says `run_in_transaction = false`.
    in_transaction: bool,
}

impl Script {
    fn read(version: &Version) -> std::result::Result<Script, String> {
        let read = |path: std::path::PathBuf| {
            std::fs::read_to_string(&path).map_err(|e| (e.kind(), Error::io("read", &path, e)))
        };
        let up = read(version.up_sql()).map_err(|(_, e)| e.to_string())?;
        let down = match read(version.down_sql()) {
            Ok(down) => Some(down),
            Err((std::io::ErrorKind::NotFound, _)) => None,
            Err((_, e)) => return Err(e.to_string()),
        };
        Ok(Script {
            name: version.dir_name.clone(),
            key: version.key.clone(),
            up,
            down,
            in_transaction: !replay::own_transaction(version),
        })
    }

    /// The SQL a step in `direction` runs; `None` for a down the version does not have.
    pub fn sql(&self, direction: Direction) -> Option<&str> {
        match direction {
            Direction::Up => Some(&self.up),
            Direction::Down => self.down.as_deref(),
        }
    }

    /// Whether the file manages its own transaction (`run_in_transaction = false`).
    pub fn own_transaction(&self) -> bool {
        !self.in_transaction
    }

    /// Runs `sql` as diesel_migrations runs a file: an empty one is an error.
    fn execute(
        &self,
        conn: &mut dyn BoxableConnection<Sqlite>,
        sql: &str,
    ) -> diesel::migration::Result<()> {
        let failed = |why: String| {
            Box::new(HarnessError(format!(
                "Failed to run {} with: {why}",
                self.name
            )))
        };
        if sql.is_empty() {
            return Err(failed("Attempted to run an empty migration.".into()));
        }
        conn.batch_execute(sql).map_err(|e| failed(e.to_string()))?;
        Ok(())
    }
}

/// A failed file, worded as diesel_migrations words its own.
#[derive(Debug)]
struct HarnessError(String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

impl Migration<Sqlite> for Script {
    fn run(&self, conn: &mut dyn BoxableConnection<Sqlite>) -> diesel::migration::Result<()> {
        self.execute(conn, &self.up)
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<Sqlite>) -> diesel::migration::Result<()> {
        match &self.down {
            Some(down) => self.execute(conn, down),
            None => Err(MigrationError::NoMigrationRevertFile.into()),
        }
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self
    }

    fn name(&self) -> &dyn MigrationName {
        self
    }
}

impl MigrationMetadata for Script {
    fn run_in_transaction(&self) -> bool {
        self.in_transaction
    }
}

impl MigrationName for Script {
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(&self.key)
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
