//! Drift: how a live database differs from what its applied versions should have made of it.
//!
//! The expected schema is what replaying exactly the versions the database applied gives (the
//! snapshot cache makes that a restore for a history it has seen). Both sides are read with
//! print-schema's rules and compared in `check`'s vocabulary, their indexes, views and
//! triggers by their SQL, and each table's stored definition byte for byte, so a CHECK or a
//! DEFAULT changed by hand shows too. The database is opened read-only: nothing is written.

use crate::sqlite::catalog::{self, Entry};
use std::path::Path;

use crate::apply::database;
use crate::error::{Error, Result};
use crate::generate::cache::Cache;
use crate::generate::diff::{diff, diff_objects, Change};
use crate::generate::replay;
use crate::history::checksums;
use crate::history::squash;
use crate::history::versions::{self, Version};
use crate::project::Project;
use crate::schema::introspect::{inspect, Database};
use crate::schema::model;
use crate::schema::objects_sql;
use crate::sqlite::db;
use crate::support::scratch::Scratch;
use crate::support::timing::Timings;

/// What differs between a database and the versions it applied.
#[derive(Debug, Default)]
pub struct Drift {
    /// How many of the database's applied versions `versions/` holds.
    pub applied: usize,
    /// Applied versions `versions/` does not contain (newer code, or a deleted version).
    pub unknown: Vec<String>,
    /// Versions older than the newest applied one that the database never applied.
    pub skipped: Vec<String>,
    /// What was done out of band, as changes from the expected schema to the database's.
    pub changes: Vec<Change>,
    /// Tables whose stored `CREATE TABLE` differs where print-schema sees no change.
    pub redefined: Vec<String>,
}

impl Drift {
    /// Whether the database is exactly what its applied versions make.
    pub fn is_clean(&self) -> bool {
        self.unknown.is_empty() && !self.changed_out_of_band()
    }

    /// Whether its schema or its applied versions changed outside the migrations `versions/`
    /// holds: everything but applied versions `versions/` lacks.
    pub fn changed_out_of_band(&self) -> bool {
        !self.skipped.is_empty() || !self.changes.is_empty() || !self.redefined.is_empty()
    }
}

/// Compares the database at `path` with the schema its applied versions give.
pub fn drift(
    project: &Project,
    path: &Path,
    cache: Option<&Cache>,
    timings: &mut Timings,
) -> Result<Drift> {
    if !path.is_file() {
        return Err(Error::input(format!("`{}` does not exist", path.display()))
            .help("name an existing database with --database or DATABASE_URL"));
    }
    let versions = versions::scan(&project.versions_dir)?;
    let applied = squash::recognise(&versions, database::applied(path)?)
        .map_err(|part_way| part_way.error(path))?;
    let known: Vec<&Version> = versions
        .iter()
        .filter(|v| applied.contains(&v.key))
        .collect();
    let newest = known.last().map(|v| v.key.clone());
    let mut drift = Drift {
        applied: known.len(),
        unknown: applied
            .iter()
            .filter(|a| !versions.iter().any(|v| &&v.key == a))
            .cloned()
            .collect(),
        skipped: versions
            .iter()
            .filter(|v| !applied.contains(&v.key) && newest.as_ref().is_some_and(|n| &v.key < n))
            .map(|v| v.dir_name.clone())
            .collect(),
        ..Drift::default()
    };
    let replayed: Vec<Version> = known.into_iter().cloned().collect();
    let scratch = Scratch::create()?;
    let keys = match cache {
        Some(_) => Cache::keys(&checksums::links(&replayed)?),
        None => Vec::new(),
    };
    let harness = replay::upgrade_to_head(
        &scratch.database(),
        &project.versions_dir,
        &replayed,
        cache.map(|c| (c, keys.as_slice())),
        timings,
    )?;
    drop(harness);
    let expected = db::open_rusqlite(&scratch.database())?;
    let actual = database::reader(path)?;
    let (expected_db, expected_entries) = read(&expected, project)?;
    let (actual_db, actual_entries) = read(&actual, project)
        .map_err(|e| e.note(format!("while reading `{}`", path.display())))?;
    let bigint = project.integer_primary_key_is_bigint;
    drift.changes = diff(
        &model::from_database(&expected_db, bigint)?,
        &model::from_database(&actual_db, bigint)?,
    );
    drift.changes.extend(diff_objects(
        &objects_sql::managed(&expected_entries, &project.filter),
        &objects_sql::managed(&actual_entries, &project.filter),
    ));
    drift.redefined = expected_db
        .tables
        .iter()
        .filter(|t| !drift.changes.iter().any(|c| c.table() == t.name))
        .filter(|t| actual_db.table(&t.name).is_some_and(|a| a.sql != t.sql))
        .map(|t| t.name.clone())
        .collect();
    Ok(drift)
}

/// A database's tables as print-schema reads them, and its `sqlite_schema`.
fn read(conn: &rusqlite::Connection, project: &Project) -> Result<(Database, Vec<Entry>)> {
    Ok((inspect(conn, &project.filter)?, catalog::entries(conn)?))
}
