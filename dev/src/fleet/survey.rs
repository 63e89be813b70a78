//! Where one database of a fleet stands, read without writing: the version it applied, the
//! versions pending up to the target, versions it applied that `versions/` lacks and, for an
//! upgrade, what the pending versions would drop from it.
//!
//! A database that cannot be placed is `Skipped` with the reason, never an error of the
//! run: missing, a file SQLite does not read as a database, unreadable, locked past the
//! busy timeout, a history this build does not know (newer code, or part-way through a
//! squash) and, for an upgrade, a LiteFS replica.
//!
//! What the versions drop is found on an in-memory copy of the database's schema
//! (`apply::losses::forecast`), once per distinct schema and run of versions: the tenants of
//! a fleet mostly share both, so ten thousand databases cost a few copies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::apply::cost::{self, Copied};
use crate::apply::database;
use crate::apply::drift::drift;
use crate::apply::loaded::Loaded;
use crate::apply::losses::{self, Drops, Loss};
use crate::apply::session::Session;
use crate::apply::step::{Direction, VersionStep};
use crate::generate::cache::Cache;
use crate::project::Project;
use crate::sqlite::catalog;
use crate::sqlite::db;
use crate::sqlite::stored::StoredSchema;
use crate::support::timing::Timings;

/// Why a database was left out of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skip {
    /// No file at its path.
    Missing,
    /// A file SQLite does not read as a database (or a directory).
    NotSqlite,
    /// A file this process may not open or read.
    Unreadable,
    /// Another process kept it locked past the busy timeout.
    Locked,
    /// It applied versions `versions/` lacks, or is part-way through a squash.
    UnknownHistory,
    /// On a LiteFS replica, where only the primary may write (upgrades only).
    Replica,
}

impl Skip {
    /// The words for it in a summary's counts.
    pub fn words(self) -> &'static str {
        match self {
            Skip::Missing => "missing",
            Skip::NotSqlite => "not SQLite",
            Skip::Unreadable => "unreadable",
            Skip::Locked => "locked",
            Skip::UnknownHistory => "unknown history",
            Skip::Replica => "on a replica",
        }
    }
}

/// A database left out, and SQLite's (or the tool's) reason in full.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// Which kind of reason.
    pub why: Skip,
    /// The reason, for the person reading the report.
    pub message: String,
}

/// Where a database stands.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The newest version it applied that `versions/` holds; `None` at base.
    pub position: Option<String>,
    /// The versions pending up to the target, oldest first.
    pub steps: Vec<VersionStep>,
    /// How many versions are pending up to head.
    pub behind: usize,
    /// Applied versions `versions/` lacks.
    pub unknown: Vec<String>,
    /// Whether its schema changed outside its versions; asked for with `--drift` only.
    pub drifted: Option<bool>,
    /// What the pending versions would drop from it, counted now.
    pub losses: Vec<Counted>,
    /// The first pending version whose losses the copy could not count.
    pub uncounted: Option<String>,
    /// The tables the pending versions' rebuilds copy, with their rows and bytes (`costs`).
    pub copies: Vec<Copied>,
}

/// One loss of one version, counted on one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The version's directory name.
    pub version: String,
    /// What it drops.
    pub loss: Loss,
    /// The rows or values that holds now.
    pub rows: i64,
}

/// What the survey reads, shared by every thread of the run.
pub struct Survey<'a> {
    /// The project whose versions the databases move through.
    pub project: &'a Project,
    /// Its versions, read once.
    pub loaded: Arc<Loaded>,
    /// The target version (`None`: head).
    pub target: Option<String>,
    /// Whether the run writes: a replica is then skipped, and losses are counted.
    pub writes: bool,
    /// Whether to compare each database with its versions (`--drift`).
    pub drift: bool,
    /// Whether to count what the pending versions' rebuilds copy (`--sql`).
    pub costs: bool,
    /// The snapshot cache `--drift` builds each database's expected schema from.
    cache: Cache,
    /// What runs of versions drop, by the schema they start from.
    forecasts: Mutex<Forecasts>,
}

/// What each run of versions (by name) drops, by the schema it starts from.
type Forecasts = HashMap<(StoredSchema, Vec<String>), Arc<Vec<Drops>>>;

impl<'a> Survey<'a> {
    /// A survey of databases against `loaded`, up to `target`.
    pub fn new(
        project: &'a Project,
        loaded: Arc<Loaded>,
        target: Option<String>,
        writes: bool,
        drift: bool,
    ) -> Survey<'a> {
        Survey {
            project,
            loaded,
            target,
            writes,
            drift,
            costs: false,
            cache: Cache::for_root(&project.root),
            forecasts: Mutex::new(HashMap::new()),
        }
    }

    /// Where the database at `path` stands, or why it is left out.
    pub fn stand(&self, path: &Path) -> std::result::Result<Standing, Skipped> {
        let skip = |why: Skip, message: String| Skipped { why, message };
        if !path.exists() {
            return Err(skip(
                Skip::Missing,
                format!("there is no file at `{}`", path.display()),
            ));
        }
        if path.is_dir() {
            return Err(skip(
                Skip::NotSqlite,
                format!("`{}` is a directory", path.display()),
            ));
        }
        if self.writes {
            database::refuse_replica(path).map_err(|e| skip(Skip::Replica, e.message.clone()))?;
        }
        let conn = database::open_reader(path).map_err(|e| classify(path, &e))?;
        let applied = database::applied_in(&conn).map_err(|e| classify(path, &e))?;
        let mut quiet = |_: String| {};
        let session = Session::with_applied(
            self.project,
            Arc::clone(&self.loaded),
            path.to_path_buf(),
            applied,
            false,
            None,
            &mut quiet,
        );
        if let Some(part_way) = &session.part_way {
            return Err(skip(
                Skip::UnknownHistory,
                part_way.error(path).message.clone(),
            ));
        }
        let unknown: Vec<String> = session
            .unknown_applied()
            .iter()
            .map(|k| k.to_string())
            .collect();
        if self.writes && !unknown.is_empty() {
            return Err(skip(
                Skip::UnknownHistory,
                format!(
                    "it applied versions versions/ does not contain: {}",
                    unknown.join(", ")
                ),
            ));
        }
        let behind = session
            .versions()
            .iter()
            .filter(|v| !session.applied.contains(&v.key))
            .count();
        let steps = if unknown.is_empty() {
            session
                .upgrade_steps(self.target.as_deref())
                .map_err(|e| skip(Skip::UnknownHistory, e.message.clone()))?
        } else {
            Vec::new()
        };
        let mut standing = Standing {
            position: session.newest_applied().map(|v| v.dir_name.clone()),
            steps,
            behind,
            unknown,
            drifted: None,
            losses: Vec::new(),
            uncounted: None,
            copies: Vec::new(),
        };
        if self.writes && !standing.steps.is_empty() {
            self.count_losses(&conn, &mut standing)
                .map_err(|e| classify(path, &e))?;
        }
        if self.drift {
            let found = drift(
                self.project,
                path,
                Some(&self.cache),
                &mut Timings::default(),
            )
            .map_err(|e| skip(Skip::Unreadable, e.message.clone()))?;
            standing.drifted = Some(found.changed_out_of_band());
        }
        Ok(standing)
    }

    /// Counts on `conn` what `standing`'s steps would drop.
    fn count_losses(
        &self,
        conn: &rusqlite::Connection,
        standing: &mut Standing,
    ) -> rusqlite::Result<()> {
        let schema = StoredSchema::read(conn)?;
        let names: Vec<String> = standing
            .steps
            .iter()
            .map(|s| s.version.dir_name.clone())
            .collect();
        let forecast = self.forecast(schema, names, &standing.steps);
        for (at, (step, drops)) in standing.steps.iter().zip(forecast.iter()).enumerate() {
            for loss in &drops.losses {
                let rows = loss.count(conn)?;
                if rows > 0 {
                    standing.losses.push(Counted {
                        version: step.version.dir_name.clone(),
                        loss: loss.clone(),
                        rows,
                    });
                }
            }
            for table in drops.copied.iter().filter(|_| self.costs) {
                if catalog::has_table(conn, table)? {
                    let (rows, bytes) = cost::cost(conn, table)?;
                    standing.copies.push(Copied {
                        step: at,
                        table: table.clone(),
                        rows,
                        bytes,
                        databases: 1,
                    });
                }
            }
            if drops.unknown.is_some() && standing.uncounted.is_none() {
                standing.uncounted = Some(step.version.dir_name.clone());
            }
        }
        Ok(())
    }

    /// What `steps` (named `names`) drop when run from `schema`, from the memo or found now.
    fn forecast(
        &self,
        schema: StoredSchema,
        names: Vec<String>,
        steps: &[VersionStep],
    ) -> Arc<Vec<Drops>> {
        let key = (schema, names);
        if let Some(found) = self.memo().get(&key) {
            return Arc::clone(found);
        }
        let texts: Vec<(&str, bool)> = steps
            .iter()
            .map(|step| match self.loaded.script(&step.version) {
                Ok(script) => (
                    script.sql(Direction::Up).unwrap_or_default(),
                    script.own_transaction(),
                ),
                // Read again when the step runs, where the error is reported.
                Err(_) => ("", false),
            })
            .collect();
        let found = Arc::new(losses::forecast(&key.0, &texts));
        self.memo().insert(key, Arc::clone(&found));
        found
    }

    fn memo(&self) -> MutexGuard<'_, Forecasts> {
        self.forecasts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The kind of a failure to read a database's migrations table.
fn classify(path: &Path, err: &rusqlite::Error) -> Skipped {
    use rusqlite::ErrorCode;
    let why = match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Skip::NotSqlite,
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Skip::Locked,
        _ => Skip::Unreadable,
    };
    Skipped {
        why,
        message: format!(
            "cannot read `{}`: {}",
            path.display(),
            db::sqlite_message(err)
        ),
    }
}

/// The databases of a fleet with what the survey found of each, in the fleet's order.
pub type Surveyed = Vec<(PathBuf, std::result::Result<Standing, Skipped>)>;
