//! The stairway test: every version of `versions/`, oldest first, on a disposable database
//! with rows: up, down, up again. After each step the schema must be what the step before
//! it had, every view and trigger that compiled before must still compile, and no seeded row
//! may be lost where no table or column was dropped.
//!
//! SQLite's own tables are left out of "the schema": the first `AUTOINCREMENT` table creates
//! `sqlite_sequence`, which no statement may drop, so a down that drops every table its up
//! created still leaves it behind. It is SQLite's bookkeeping, not the migration's to undo.

use crate::sqlite::catalog::Kind;
use crate::sqlite::catalog::{self, Entry};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{Error, Result};
use crate::generate::replay;
use crate::generate::seed::{self, Snapshot};
use crate::history::versions;
use crate::history::versions::Version;
use crate::prove::invariants::snapshots;
use crate::prove::round_trip::{round_trip, touched_scope, Before, Failure, Step, Trip};
use crate::schema::introspect::{inspect, Database, TableFilter};
use crate::schema::model::ColumnKey;
use crate::sqlite::db;
use crate::sqlite::sandbox;
use crate::support::scratch::Scratch;

use diesel::migration::Migration;
use diesel::sqlite::Sqlite;
use diesel_migrations::MigrationHarness;

/// What a walk of the history proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Versions taken up, down and up again.
    pub versions: usize,
    /// Rows seeded along the way, in all.
    pub rows: usize,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Verified {} versions: each up, down and up again on seeded rows ({} rows in all); schema and rows kept at every step.",
            self.versions, self.rows
        )
    }
}

/// Walks the whole history in `versions_dir`; the first version that fails stops it.
pub fn verify(versions_dir: &Path) -> Result<Verified> {
    let (verified, mut failures) = walk(versions_dir, false)?;
    match failures.pop() {
        Some(failure) => Err(failure),
        None => Ok(verified),
    }
}

/// Walks the whole history in `versions_dir`, past failing versions: each failure is
/// returned, and the walk goes on from a database the versions up to it were applied to.
/// When a failing version cannot even be applied, the versions after it cannot be walked,
/// and the last failure says so.
pub fn verify_all(versions_dir: &Path) -> Result<(Verified, Vec<Error>)> {
    walk(versions_dir, true)
}

fn walk(versions_dir: &Path, keep_going: bool) -> Result<(Verified, Vec<Error>)> {
    let versions = versions::scan(versions_dir)?;
    let migrations = replay::load(versions_dir)?;
    let mut failures = Vec::new();
    let mut rows = 0;
    let mut start = 0;
    while start < versions.len() {
        let scratch = Scratch::create()?;
        let mut paired = db::open_paired(&scratch.database())?;
        let db::Paired {
            conn,
            reader: inspector,
        } = &mut paired;
        conn.applied_migrations().map_err(|e| {
            Error::internal(format!("cannot set up the disposable database: {e}")).caused_by(e)
        })?;
        for version in &versions[..start] {
            let migration = migrations.get(version)?;
            if let Err(e) = sandbox::migration(|| conn.run_migration(migration)) {
                let last = failures
                    .pop()
                    .unwrap_or_else(|| Error::check(e.to_string()));
                failures.push(last.note(format!(
                    "the versions after {} were not walked: it does not apply",
                    version.dir_name
                )));
                return Ok((
                    Verified {
                        versions: start,
                        rows,
                    },
                    failures,
                ));
            }
        }
        let mut known = Known::default();
        let mut failed_at = None;
        for (index, version) in versions.iter().enumerate().skip(start) {
            match stair(
                conn,
                inspector,
                &scratch.database(),
                &migrations,
                version,
                &mut known,
                &mut rows,
            ) {
                Ok(()) => {}
                Err(err) if keep_going && err.kind() == crate::error::Kind::Check => {
                    failures.push(err);
                    failed_at = Some(index);
                    break;
                }
                Err(err) => return Err(err),
            }
        }
        match failed_at {
            Some(index) => start = index + 1,
            None => break,
        }
    }
    Ok((
        Verified {
            versions: versions.len(),
            rows,
        },
        failures,
    ))
}

/// What the walk knows of the disposable database between versions: its schema as
/// print-schema reads it, the tables seeded so far, and their values as they are now. A
/// version changes only the tables it touches (SQLite's authorizer names them), so only
/// those are read again: the walk costs what the versions change, not the database's size.
#[derive(Default)]
struct Known {
    /// The schema after the last version, and its entries; `None` before the first.
    head: Option<(Database, Vec<Entry>)>,
    /// The tables holding seeded rows.
    present: Vec<String>,
    /// Their values now, by table.
    values: BTreeMap<String, Snapshot>,
}

/// One version up, down and up again on seeded rows; `known` is the database before it and
/// after it, `rows` counts the rows seeded.
fn stair(
    conn: &mut diesel::SqliteConnection,
    inspector: &rusqlite::Connection,
    database: &Path,
    migrations: &replay::Migrations,
    version: &Version,
    known: &mut Known,
    rows: &mut usize,
) -> Result<()> {
    let migration = migrations.get(version)?;
    sandbox::take_breach();
    let (head, entries) = match known.head.take() {
        Some((head, entries)) => (head, Some(entries)),
        None => (inspect(inspector, &TableFilter::All)?, None),
    };
    known.present.retain(|t| head.table(t).is_some());
    // A statement taken from the cache is not authorized again: start the seeding without
    // any, so that every table it writes is named.
    inspector.flush_prepared_statement_cache();
    let (seeded, written) = sandbox::touching(|| seed::seed(inspector, &head, &known.present));
    *rows += seeded.rows;
    // The tables seeded now, and those the seeding wrote to, are read (all of them, when
    // SQLite cannot say what it wrote).
    let stale: Vec<String> = seeded
        .tables
        .iter()
        .filter(|t| !known.values.contains_key(*t) || touches(&written, t))
        .cloned()
        .collect();
    known.present = seeded.tables.clone();
    let mut trip = VersionTrip {
        database,
        version,
        touched: Some(BTreeSet::new()),
    };
    known.values.retain(|t, _| known.present.contains(t));
    reread(inspector, &head, &stale, &mut known.values)
        .map_err(|e| trip.failed_with(format!("could not be read before up: {e}")))?;
    let before = Before {
        head: &head,
        seeded: &known.present,
        values: &known.values,
        // Seeding writes rows only: the schema is the one the last version ended with.
        entries,
    };
    let after = round_trip(conn, inspector, migration, &before, &mut trip)?;
    let after_up = after.database;
    // Up again left the database as after up: read again what the steps touched and the
    // tables whose definition changed.
    known.present.retain(|t| after_up.table(t).is_some());
    let changed: Vec<String> = known
        .present
        .iter()
        .filter(|t| {
            touches(&trip.touched, t)
                || head.table(t).map(|h| &h.sql) != after_up.table(t).map(|a| &a.sql)
        })
        .cloned()
        .collect();
    known.values.retain(|t, _| known.present.contains(t));
    reread(inspector, &after_up, &changed, &mut known.values)
        .map_err(|e| trip.failed_with(format!("could not be read after up again: {e}")))?;
    known.head = Some((after_up, after.entries));
    Ok(())
}

/// Whether `table` is among the `touched` (lower-cased); all are when SQLite could not say.
fn touches(touched: &Option<BTreeSet<String>>, table: &str) -> bool {
    touched
        .as_ref()
        .is_none_or(|set| set.contains(&table.to_ascii_lowercase()))
}

/// Reads the values of `tables` of `now` into `values`.
fn reread(
    inspector: &rusqlite::Connection,
    now: &Database,
    tables: &[String],
    values: &mut BTreeMap<String, Snapshot>,
) -> std::result::Result<(), String> {
    for table in tables {
        values.remove(table);
    }
    values.extend(snapshots(inspector, now, now, tables, |t, c| {
        Some(ColumnKey::new(t, c))
    })?);
    Ok(())
}

/// The round trip of one version of the history: a failure is the version's, named by it.
struct VersionTrip<'a> {
    /// The disposable database, where a statement the sandbox stopped is found again.
    database: &'a Path,
    version: &'a Version,
    /// The tables the steps so far wrote to or changed (lower-cased); `None` when SQLite
    /// could not say, and every table counts.
    touched: Option<BTreeSet<String>>,
}

impl VersionTrip<'_> {
    fn failed_with(&self, what: String) -> Error {
        self.failed_saying(what, "fix that migration: a down that does not undo its up breaks every `downgrade` and `redo`")
    }

    /// The version's failure `what`, with `help`.
    fn failed_saying(&self, what: String, help: &str) -> Error {
        Error::check(format!("version {} {what}", self.version.dir_name)).help(help)
    }
}

impl Trip for VersionTrip<'_> {
    fn run(
        &mut self,
        conn: &mut diesel::SqliteConnection,
        migration: &dyn Migration<Sqlite>,
        step: Step,
    ) -> Result<()> {
        let version = self.version;
        let (file, what) = match step {
            Step::Up => (version.up_sql(), "fails up on seeded rows"),
            Step::Down => (version.down_sql(), "fails down on seeded rows"),
            Step::UpAgain => (version.up_sql(), "fails up again after down"),
        };
        let (ran, touched) = sandbox::touching(|| match step {
            Step::Up | Step::UpAgain => sandbox::migration(|| conn.run_migration(migration)),
            Step::Down => sandbox::migration(|| conn.revert_migration(migration)),
        });
        self.touched = sandbox::together(self.touched.take(), touched);
        if let Err(e) = ran {
            // A file the sandbox stopped is the input's fault, named at its statement.
            return Err(if sandbox::breached() {
                replay::failure(self.database, version, &file, &e.to_string())
            } else if step == Step::Up {
                // The seeded rows are values a database at the version before may hold.
                self.failed_saying(format!("{what}: {e}"), "fix that migration: the seeded rows are values a database at the version before may hold (chosen to break a migration), and a database holding them could not be upgraded")
            } else {
                self.failed_with(format!("{what}: {e}"))
            });
        }
        replay::left_open(conn, version, &file)
    }

    fn failed(&self, failure: Failure) -> Error {
        let going = |step: Step| match step {
            Step::Up => "up",
            Step::Down => "down",
            Step::UpAgain => "up again",
        };
        self.failed_with(match failure {
            Failure::Integrity(step, e) => {
                format!("breaks the database going {}: {e}", going(step))
            }
            Failure::Objects(step, list) => {
                format!("breaks views or triggers going {}:\n{list}", going(step))
            }
            Failure::Unreadable(step, e) => {
                format!("could not be read after {}: {e}", going(step))
            }
            Failure::Lost(_, e) => format!("loses data: {e}"),
            Failure::NotRestored(difference) => {
                format!("does not come back down to the schema before it:\n{difference}")
            }
            Failure::UpAgainDiffers(difference) => {
                format!("gives a different schema going up again:\n{difference}")
            }
        })
    }

    /// SQLite's own tables are not the migrations' (see the module's doc).
    fn schema(&self, inspector: &rusqlite::Connection) -> Result<Vec<Entry>> {
        user_schema(inspector)
    }

    /// What the steps touched, and the tables of every entry that differs from before.
    fn scope(&self, entries_before: &[Entry], entries_now: &[Entry]) -> Option<BTreeSet<String>> {
        touched_scope(self.touched.as_ref(), entries_before, entries_now)
    }

    fn located_after_up(
        &self,
        after_up: &Database,
        table: &str,
        column: &str,
    ) -> Option<ColumnKey> {
        after_up.table(table)?.column(column)?;
        Some(ColumnKey::new(table, column))
    }
}

/// The schema the migrations own: every `sqlite_schema` entry except SQLite's internal tables
/// (`sqlite_sequence`, `sqlite_stat1`, ...).
fn user_schema(conn: &rusqlite::Connection) -> Result<Vec<Entry>> {
    let mut entries = catalog::entries(conn)?;
    entries.retain(|e| !(e.kind == Kind::Table && e.name.starts_with("sqlite_")));
    Ok(entries)
}
