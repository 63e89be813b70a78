//! The round trip every proof takes a migration through, written once: up, down and up
//! again on a database with seeded rows, with the same checks after each step. After up:
//! integrity and foreign keys are clean, every view and trigger that compiled before still
//! compiles, and every kept value is where it was. After down: the schema is exactly what it
//! was, integrity, views and triggers again, and every value up kept is back, in its storage
//! class. After up again: views and triggers, and the schema the first up gave.
//!
//! `prove` takes a generated migration through it and `verify` every version of the history;
//! a [`Trip`] says what differs between them: how a step runs, which entries count as the
//! schema, where a column is after up, the checks only one of them makes, and the words of
//! each failure.

use crate::sqlite::catalog::{self, Entry};
use std::collections::{BTreeMap, BTreeSet};

use diesel::migration::Migration;
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;

use crate::error::{Error, Result};
use crate::generate::seed::Snapshot;
use crate::prove::invariants::{
    check_integrity, compare_restored, compare_values, describe_difference, snapshots, Scope,
};
use crate::schema::introspect::{reinspect, Database};
use crate::schema::model::ColumnKey;
use crate::sqlite::objects;

/// One run of the migration's SQL on the round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// up.sql, first.
    Up,
    /// down.sql, after up.
    Down,
    /// up.sql again, after down.
    UpAgain,
}

/// A check of the round trip that failed, for the trip to put in its words.
#[derive(Debug)]
pub enum Failure {
    /// `PRAGMA integrity_check` or `foreign_key_check` after the step.
    Integrity(Step, String),
    /// Views or triggers that compiled before the round trip no longer do after the step.
    Objects(Step, String),
    /// The seeded rows could not be read after the step.
    Unreadable(Step, String),
    /// A value was lost or changed by the step.
    Lost(Step, String),
    /// Down did not give back the schema before up: the entries that differ.
    NotRestored(String),
    /// Up again gave another schema than the first up: the entries that differ.
    UpAgainDiffers(String),
}

/// What differs between the proofs that take the round trip.
pub trait Trip {
    /// Runs one step of the migration; its error is already in the trip's words.
    fn run(
        &mut self,
        conn: &mut SqliteConnection,
        migration: &dyn Migration<Sqlite>,
        step: Step,
    ) -> Result<()>;

    /// The error that says `failure`.
    fn failed(&self, failure: Failure) -> Error;

    /// The entries compared as "the schema" between steps.
    fn schema(&self, inspector: &rusqlite::Connection) -> Result<Vec<Entry>>;

    /// Where column `column` of head's `table` is after up; `None`: up dropped it.
    fn located_after_up(&self, after_up: &Database, table: &str, column: &str)
        -> Option<ColumnKey>;

    /// The head tables (lower-cased) the checks after the step just run must cover: their
    /// values, integrity and references, and the references of the tables that reference
    /// them, from what the trip saw the steps so far touch and how the schema now differs
    /// from `entries_before`. `None`: every table.
    fn scope(&self, _entries_before: &[Entry], _entries_now: &[Entry]) -> Option<BTreeSet<String>> {
        None
    }

    /// Head's tables whose rows down gives back under another key (see
    /// `compare_restored`).
    fn rekeyed(&self) -> BTreeMap<String, Vec<String>> {
        BTreeMap::new()
    }

    /// The trip's own checks once up ran and its values are checked.
    fn after_up(
        &mut self,
        _inspector: &rusqlite::Connection,
        _after_up: &Database,
        _entries: &[Entry],
    ) -> Result<()> {
        Ok(())
    }

    /// The trip's own checks once down ran and its values are checked.
    fn after_down(&mut self, _inspector: &rusqlite::Connection) -> Result<()> {
        Ok(())
    }
}

/// The database before up: head, the tables seeded, and their values by head's names (a
/// value left out of a row is one the round trip need not find again).
pub struct Before<'a> {
    /// The database as it is before up, every table read (`TableFilter::All`): after up,
    /// only the tables whose entries changed are read again.
    pub head: &'a Database,
    /// The tables holding seeded rows.
    pub seeded: &'a [String],
    /// Their values, by head's table and column names.
    pub values: &'a BTreeMap<String, Snapshot>,
    /// The schema entries as the trip reads them (`Trip::schema`), when the caller has
    /// them already: the entries a trip ended with, when no schema changed since.
    pub entries: Option<Vec<Entry>>,
}

/// The database the round trip leaves: as up left it, which up again gives too.
pub struct After {
    /// Its tables as print-schema reads them.
    pub database: Database,
    /// Its schema entries as the trip reads them.
    pub entries: Vec<Entry>,
}

/// Takes `migration` up, down and up again on the database behind `conn` and `inspector`,
/// making every check of the round trip after each step (on the tables the trip's `scope`
/// names). The database after up, which up again gives too.
pub fn round_trip(
    conn: &mut SqliteConnection,
    inspector: &rusqlite::Connection,
    migration: &dyn Migration<Sqlite>,
    before: &Before,
    trip: &mut dyn Trip,
) -> Result<After> {
    let head = before.head;
    let entries_before = match &before.entries {
        Some(entries) => entries.clone(),
        None => trip.schema(inspector)?,
    };
    let broken_before = objects::broken(inspector, &entries_before)?;
    let checked = |trip: &dyn Trip,
                   step: Step,
                   entries: &[Entry],
                   integrity: Option<Option<Scope<'_>>>|
     -> Result<()> {
        if let Some(scope) = integrity {
            check_integrity(inspector, scope)
                .map_err(|e| trip.failed(Failure::Integrity(step, e)))?;
        }
        match objects::regressions(inspector, entries, &broken_before)? {
            None => Ok(()),
            Some(list) => Err(trip.failed(Failure::Objects(step, list))),
        }
    };
    // The seeded tables a scope covers.
    let in_scope = |scope: &Option<BTreeSet<String>>| -> Vec<String> {
        before
            .seeded
            .iter()
            .filter(|t| {
                scope
                    .as_ref()
                    .is_none_or(|s| s.contains(&t.to_ascii_lowercase()))
            })
            .cloned()
            .collect()
    };

    trip.run(conn, migration, Step::Up)?;
    let entries_after_up = trip.schema(inspector)?;
    let scope = trip.scope(&entries_before, &entries_after_up);
    // Head is a whole reading (`TableFilter::All`) made when the entries were
    // `entries_before`: only the tables whose entries up changed are read again.
    let after_up = reinspect(
        inspector,
        head,
        &catalog::differing_tables(&entries_before, &entries_after_up),
    )?;
    checked(
        trip,
        Step::Up,
        &entries_after_up,
        Some(scoped(&scope, &after_up)),
    )?;
    let kept = snapshots(inspector, head, &after_up, &in_scope(&scope), |t, c| {
        trip.located_after_up(&after_up, t, c)
    })
    .map_err(|e| trip.failed(Failure::Unreadable(Step::Up, e)))?;
    compare_values(inspector, before.values, &kept, "up.sql")
        .map_err(|e| trip.failed(Failure::Lost(Step::Up, e)))?;
    trip.after_up(inspector, &after_up, &entries_after_up)?;

    trip.run(conn, migration, Step::Down)?;
    let entries_after_down = trip.schema(inspector)?;
    if entries_after_down != entries_before {
        return Err(trip.failed(Failure::NotRestored(describe_difference(
            &entries_before,
            &entries_after_down,
        ))));
    }
    // What down touched counts too: the trip has seen it run.
    let scope = trip.scope(&entries_before, &entries_after_up);
    checked(
        trip,
        Step::Down,
        &entries_after_down,
        Some(scoped(&scope, head)),
    )?;
    // Down brings back every row with the values of every column up kept; a column up
    // dropped comes back with its default. Against the rows before up: those a migration
    // inserted may go again with its down.
    let restored = snapshots(inspector, head, head, &in_scope(&scope), |t, c| {
        trip.located_after_up(&after_up, t, c)
            .map(|_| ColumnKey::new(t, c))
    })
    .map_err(|e| trip.failed(Failure::Unreadable(Step::Down, e)))?;
    compare_restored(
        inspector,
        before.values,
        &restored,
        "down.sql",
        &trip.rekeyed(),
    )
    .map_err(|e| trip.failed(Failure::Lost(Step::Down, e)))?;
    trip.after_down(inspector)?;

    trip.run(conn, migration, Step::UpAgain)?;
    let again = trip.schema(inspector)?;
    checked(trip, Step::UpAgain, &again, None)?;
    if again != entries_after_up {
        return Err(trip.failed(Failure::UpAgainDiffers(describe_difference(
            &entries_after_up,
            &again,
        ))));
    }
    Ok(After {
        database: after_up,
        entries: again,
    })
}

/// The checks' scope: the tables `tables` names (every table when `None`), in `schema`.
/// The scope of a trip that has seen its steps touch `touched` (`sandbox::touching`), the
/// schema now differing from `entries_before` as `entries_now` does: those tables and the
/// tables of every entry that differs. `None` (every table) when SQLite could not say.
pub fn touched_scope(
    touched: Option<&BTreeSet<String>>,
    entries_before: &[Entry],
    entries_now: &[Entry],
) -> Option<BTreeSet<String>> {
    let mut scope = touched?.clone();
    scope.extend(
        catalog::differing_tables(entries_before, entries_now)
            .iter()
            .map(|t| t.to_ascii_lowercase()),
    );
    Some(scope)
}

fn scoped<'a>(tables: &'a Option<BTreeSet<String>>, schema: &'a Database) -> Option<Scope<'a>> {
    tables.as_ref().map(|tables| Scope { tables, schema })
}
