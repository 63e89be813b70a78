//! The stairway test: every version of `versions/`, oldest first, on a disposable database
//! with rows: up, down, up again. After each step the schema must be what the step before
//! it had, every view and trigger that compiled before must still compile, and no seeded row
//! may be lost where no table or column was dropped.
//!
//! SQLite's own tables are left out of "the schema": the first `AUTOINCREMENT` table creates
//! `sqlite_sequence`, which no statement may drop, so a down that drops every table its up
//! created still leaves it behind. It is SQLite's bookkeeping, not the migration's to undo.

use std::path::Path;

use crate::error::{Error, Result};
use crate::generate::replay;
use crate::generate::seed;
use crate::history::versions;
use crate::prove::invariants::{
    check_integrity, compare_restored, compare_values, describe_difference, snapshots,
};
use crate::schema::introspect::TableFilter;
use crate::schema::introspect::{inspect, schema_entries, SchemaEntry};
use crate::schema::model::ColumnKey;
use crate::sqlite::db;
use crate::sqlite::objects;
use crate::sqlite::sandbox;
use crate::support::scratch::Scratch;

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
        let mut conn = db::open_diesel(&scratch.database())?;
        conn.applied_migrations().map_err(|e| {
            Error::internal(format!("cannot set up the disposable database: {e}")).caused_by(e)
        })?;
        let inspector = db::open_rusqlite(&scratch.database())?;
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
        let mut present: Vec<String> = Vec::new();
        let mut failed_at = None;
        for (index, version) in versions.iter().enumerate().skip(start) {
            match stair(
                &mut conn,
                &inspector,
                &scratch.database(),
                &migrations,
                version,
                &mut present,
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

/// One version up, down and up again on seeded rows; `present` holds the tables seeded so
/// far, `rows` counts the rows seeded.
fn stair(
    conn: &mut diesel::SqliteConnection,
    inspector: &rusqlite::Connection,
    database: &Path,
    migrations: &replay::Migrations,
    version: &crate::history::versions::Version,
    present: &mut Vec<String>,
    rows: &mut usize,
) -> Result<()> {
    let migration = migrations.get(version)?;
    let failed = |what: String| {
        Error::check(format!("version {} {what}", version.dir_name))
            .help("fix that migration: a down that does not undo its up breaks every `downgrade` and `redo`")
    };
    // A file the sandbox stopped is the input's fault, named at its statement.
    let run_failed = |what: &str, file: std::path::PathBuf, e: &dyn std::fmt::Display| {
        if sandbox::breached() {
            replay::failure(database, version, &file, &e.to_string())
        } else {
            failed(format!("{what}: {e}"))
        }
    };
    sandbox::take_breach();
    let head = inspect(inspector, &TableFilter::All)?;
    present.retain(|t| head.table(t).is_some());
    let seeded = seed::seed(inspector, &head, present);
    *rows += seeded.rows;
    *present = seeded.tables.clone();
    let before = user_schema(inspector)?;
    let values = snapshots(inspector, &head, &head, present, |t, c| {
        Some(ColumnKey::new(t, c))
    })
    .map_err(|e| failed(format!("could not be read before up: {e}")))?;

    let broken_before = objects::broken(inspector)?;
    let compiles = |step: &str| match objects::regressions(inspector, &broken_before)? {
        None => Ok(()),
        Some(list) => Err(failed(format!(
            "breaks views or triggers going {step}:\n{list}"
        ))),
    };
    sandbox::migration(|| conn.run_migration(migration))
        .map_err(|e| run_failed("fails up on seeded rows", version.up_sql(), &e))?;
    replay::left_open(conn, version, &version.up_sql())?;
    check_integrity(inspector).map_err(|e| failed(format!("breaks the database going up: {e}")))?;
    compiles("up")?;
    let after_up = user_schema(inspector)?;
    let now = inspect(inspector, &TableFilter::All)?;
    let kept = snapshots(inspector, &head, &now, present, |t, c| {
        now.table(t)?.column(c)?;
        Some(ColumnKey::new(t, c))
    })
    .map_err(|e| failed(format!("could not be read after up: {e}")))?;
    compare_values(inspector, &values, &kept, "up.sql")
        .map_err(|e| failed(format!("loses data: {e}")))?;

    sandbox::migration(|| conn.revert_migration(migration))
        .map_err(|e| run_failed("fails down on seeded rows", version.down_sql(), &e))?;
    replay::left_open(conn, version, &version.down_sql())?;
    compiles("down")?;
    let after_down = user_schema(inspector)?;
    if after_down != before {
        return Err(failed(format!(
            "does not come back down to the schema before it:\n{}",
            describe_difference(&before, &after_down)
        )));
    }
    let restored = snapshots(inspector, &head, &head, present, |t, c| {
        kept.get(t)?
            .columns
            .iter()
            .any(|k| k == c)
            .then(|| ColumnKey::new(t, c))
    })
    .map_err(|e| failed(format!("could not be read after down: {e}")))?;
    // Against the rows before up: those a version inserted may go again with its down.
    compare_restored(
        inspector,
        &values,
        &restored,
        "down.sql",
        &Default::default(),
    )
    .map_err(|e| failed(format!("loses data: {e}")))?;

    sandbox::migration(|| conn.run_migration(migration))
        .map_err(|e| run_failed("fails up again after down", version.up_sql(), &e))?;
    compiles("up again")?;
    let again = user_schema(inspector)?;
    if again != after_up {
        return Err(failed(format!(
            "gives a different schema going up again:\n{}",
            describe_difference(&after_up, &again)
        )));
    }
    Ok(())
}

/// The schema the migrations own: every `sqlite_schema` entry except SQLite's internal tables
/// (`sqlite_sequence`, `sqlite_stat1`, ...).
fn user_schema(conn: &rusqlite::Connection) -> Result<Vec<SchemaEntry>> {
    let mut entries = schema_entries(conn)?;
    entries.retain(|e| !(e.kind == "table" && e.name.starts_with("sqlite_")));
    Ok(entries)
}
