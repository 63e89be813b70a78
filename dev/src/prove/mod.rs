//! Proving a migration before it is written, on a disposable database at head with rows in
//! every table: up runs through the harness on the rows; integrity and foreign keys are
//! clean; every kept table keeps its rows and every kept column its values; the database now
//! matches `schema.rs`; down restores every `sqlite_schema` entry exactly and the values of
//! every column up did not drop; up runs again. After each step every view and trigger that
//! compiled at head still compiles (`objects`).
//!
//! `verify` proves the whole history the same way, and `squash` a squash's baseline.

pub mod invariants;
mod refusal;
pub mod round_trip;
pub mod squash;
pub mod verify;

use crate::sqlite::catalog::{self, Entry};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use diesel::migration::{Migration, MigrationSource};
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::error::{Error, Result};
use crate::generate::diff::{
    column_after, diff, diff_objects, head_column, head_table, table_after, Change,
};
use crate::generate::plan::Defaults;
use crate::generate::render::Files;
use crate::generate::seed;
use crate::generate::write::write_files;
use crate::project::Project;
use crate::schema::introspect::Database;
use crate::schema::model::ColumnKey;
use crate::schema::model::{self, Schema};
use crate::schema::objects_sql::{self, Declared, SqlObject};
use crate::sqlite::sandbox;
use crate::sqlite::stored;
use invariants::snapshots;
use round_trip::{round_trip, Before, Failure, Step, Trip};

/// What a proof ran on, for the summary line and `generate --format json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// Tables seeded with rows before up ran.
    pub tables: usize,
    /// Rows seeded, in all.
    pub rows: usize,
    /// Tables that could not be seeded, each with SQLite's reason: their rows were not part
    /// of the proof.
    pub unseeded: Vec<(String, String)>,
    /// Of those, the tables the migration changes: it is not proven on rows for them.
    pub unproven: Vec<String>,
}

impl std::fmt::Display for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let checks = "up, integrity and foreign keys, views and triggers compile, rows and values kept, schema.rs matched, down restored schema and values, up again.";
        if self.unproven.is_empty() {
            write!(
                f,
                "Proven on seeded data ({} tables, {} rows): {checks}",
                self.tables, self.rows
            )?;
        } else {
            write!(
                f,
                "Not proven on rows for {}: the migration changes {} and {} could not be seeded (below). Proven on seeded data for the other tables ({} tables, {} rows): {checks}",
                self.unproven.join(", "),
                if self.unproven.len() == 1 { "it" } else { "them" },
                if self.unproven.len() == 1 { "it" } else { "they" },
                self.tables,
                self.rows
            )?;
        }
        for (name, reason) in &self.unseeded {
            let why = if self.unproven.contains(name) {
                "the migration changes it, on no rows"
            } else {
                "the migration does not change it"
            };
            write!(f, "\nnot seeded: {name} ({reason}); {why}")?;
        }
        Ok(())
    }
}

/// What a generated migration is proven against: head, what schema.rs and objects.sql ask
/// for, and the changes and `--convert`s the plan was made of.
pub struct Goal<'a> {
    /// Reads the database as schema.rs describes it (its sections and filter).
    pub project: &'a Project,
    /// The database at head, where the proof starts, every table read
    /// (`TableFilter::All`).
    pub head: &'a Database,
    /// What schema.rs asks for: up must reach it.
    pub target: &'a Schema,
    /// What objects.sql declares, when the project has one: up must reach it too.
    pub declared: Option<&'a [Declared]>,
    /// The changes the plan was made of, renames included.
    pub changes: &'a [Change],
    /// `--convert`: the columns whose values up converts.
    pub conversions: &'a Defaults,
}

/// Runs the migration staged from `files` (as `dir_name` under `stage`) on the database
/// behind `conn` and `inspector`, which `seeded` filled (`seed::seed_for` with the goal's
/// head, changes and target); says what it ran on, and gives every table of the database it
/// leaves (the new head).
pub fn prove(
    conn: &mut SqliteConnection,
    inspector: &rusqlite::Connection,
    goal: &Goal,
    stage: &Path,
    dir_name: &str,
    files: &Files,
    seeded: &seed::Seeded,
) -> Result<(Proof, Database)> {
    let (head, changes) = (goal.head, goal.changes);
    let failed = |what: String| failed_proof(files, what);
    write_files(&stage.join(dir_name), files)?;
    let source = FileBasedMigrations::from_path(stage)
        .map_err(|e| failed(format!("cannot stage it: {e}")))?;
    let migration = MigrationSource::<Sqlite>::migrations(&source)
        .map_err(|e| failed(format!("cannot stage it: {e}")))?
        .pop()
        .ok_or_else(|| failed("the staged migration did not load".into()))?;

    // A column `--convert` converts takes the values it gives: nothing to refuse, and its
    // old values are not the ones to find again.
    let converted: Vec<ColumnKey> = goal
        .conversions
        .keys()
        .map(|k| {
            ColumnKey::new(
                head_table(changes, &k.table),
                head_column(changes, &k.table, &k.column),
            )
        })
        .collect();
    refusal::refuses_what_it_cannot_keep(
        conn,
        inspector,
        head,
        &seeded.tables,
        changes,
        &converted,
        &*migration,
    )
    .map_err(&failed)?;
    let values = values_to_keep(inspector, goal, &seeded.tables, &converted)
        .map_err(|e| failed(format!("cannot read the seeded rows: {e}")))?;
    let sequences = stored::sequences(inspector).map_err(|e| failed(e.message.clone()))?;
    let mut trip = GeneratedTrip {
        goal,
        files,
        sequences,
        created: None,
        tables_after_up: BTreeSet::new(),
        touched: Some(BTreeSet::new()),
    };
    let before = Before {
        head,
        seeded: &seeded.tables,
        values: &values,
        entries: None,
    };
    let after = round_trip(conn, inspector, &*migration, &before, &mut trip)?;

    let (kept_from_head, created) = trip.created.expect("seeded once up ran");
    let unseeded: Vec<&seed::Unseeded> = seeded.failed.iter().chain(&created.failed).collect();
    let proof = Proof {
        tables: seeded.tables.len() + created.tables.len() - kept_from_head,
        rows: seeded.rows + created.rows,
        unseeded: unseeded
            .iter()
            .map(|u| (u.name.clone(), u.reason.clone()))
            .collect(),
        unproven: unseeded
            .iter()
            .map(|u| u.name.clone())
            .filter(|name| changes.iter().any(|c| touches(c, changes, name)))
            .collect(),
    };
    Ok((proof, after.database))
}

/// The error of a generated migration that failed its proof: a bug in the tool.
fn failed_proof(files: &Files, what: String) -> Error {
    Error::internal(format!("the generated migration failed its proof: {what}"))
        .note(format!("up.sql:\n{}", files.up))
        .note(format!("down.sql:\n{}", files.down))
        .help(
            "this is a bug in the tool: nothing was written; please report it with the files above",
        )
}

/// The seeded values the migration must keep. A column up makes NOT NULL gives its NULLs
/// the `--default` value: no value is lost, and down keeps the backfilled ones. A column
/// `--convert` converts takes the values it gives. Every other value must stay.
fn values_to_keep(
    inspector: &rusqlite::Connection,
    goal: &Goal,
    seeded: &[String],
    converted: &[ColumnKey],
) -> std::result::Result<BTreeMap<String, seed::Snapshot>, String> {
    let head = goal.head;
    let mut values = snapshots(inspector, head, head, seeded, |t, c| {
        Some(ColumnKey::new(t, c))
    })?;
    for ColumnKey { table, column } in backfilled(goal.changes) {
        if let Some(snapshot) = values.get_mut(&table) {
            for row in &mut snapshot.rows {
                if row.values.get(&column) == Some(&rusqlite::types::Value::Null) {
                    row.values.remove(&column);
                }
            }
        }
    }
    for ColumnKey { table, column } in converted {
        if let Some(snapshot) = values.get_mut(table) {
            for row in &mut snapshot.rows {
                row.values.remove(column);
            }
        }
    }
    Ok(values)
}

/// The round trip of a generated migration: failures are the tool's bugs; up must also
/// reach schema.rs, and down give back `sqlite_sequence`.
struct GeneratedTrip<'a> {
    goal: &'a Goal<'a>,
    files: &'a Files,
    /// `sqlite_sequence` at head.
    sequences: Vec<(String, i64)>,
    /// Once up ran: how many of the tables seeded after up were head's, and the seeding.
    created: Option<(usize, seed::Seeded)>,
    /// Once up ran: the tables it left.
    tables_after_up: BTreeSet<String>,
    /// The tables the steps so far wrote to or changed (lower-cased); `None` when SQLite
    /// could not say, and every table counts.
    touched: Option<BTreeSet<String>>,
}

impl GeneratedTrip<'_> {
    fn failed_with(&self, what: String) -> Error {
        failed_proof(self.files, what)
    }

    /// The sequences of the tables up kept (a dropped table's goes with its rows, warned);
    /// a row at 0 is no row (an INSERT of no rows into an AUTOINCREMENT table writes one).
    fn of_kept_tables(&self, sequences: Vec<(String, i64)>) -> BTreeMap<String, i64> {
        let changes = self.goal.changes;
        sequences
            .into_iter()
            .filter(|(table, seq)| {
                *seq != 0 && self.tables_after_up.contains(table_after(changes, table))
            })
            .collect()
    }
}

impl Trip for GeneratedTrip<'_> {
    fn run(
        &mut self,
        conn: &mut SqliteConnection,
        migration: &dyn Migration<Sqlite>,
        step: Step,
    ) -> Result<()> {
        let (ran, touched) = sandbox::touching(|| match step {
            Step::Up | Step::UpAgain => conn.run_migration(migration).map(|_| ()),
            Step::Down => conn.revert_migration(migration).map(|_| ()),
        });
        self.touched = sandbox::together(self.touched.take(), touched);
        ran.map_err(|e| {
            self.failed_with(match step {
                Step::Up => format!("up.sql failed on seeded rows: {e}"),
                Step::Down => format!("down.sql failed on seeded rows: {e}"),
                Step::UpAgain => format!("up.sql failed when run again after down.sql: {e}"),
            })
        })
    }

    fn failed(&self, failure: Failure) -> Error {
        let after = |step: Step| match step {
            Step::Up => "up.sql",
            Step::Down => "down.sql",
            Step::UpAgain => "up.sql run again",
        };
        self.failed_with(match failure {
            Failure::Integrity(step, e) => format!("after {}, {e}", after(step)),
            Failure::Objects(step, list) => format!(
                "after {}, views or triggers no longer compile:\n{list}",
                after(step)
            ),
            Failure::Unreadable(step, e) => {
                format!("cannot read the rows after {}: {e}", after(step))
            }
            Failure::Lost(_, e) => e,
            Failure::NotRestored(difference) => {
                format!("down.sql did not restore the schema exactly:\n{difference}")
            }
            Failure::UpAgainDiffers(difference) => format!(
                "up.sql run again after down.sql did not give the schema the first up gave:\n{difference}"
            ),
        })
    }

    fn schema(&self, inspector: &rusqlite::Connection) -> Result<Vec<Entry>> {
        catalog::entries(inspector)
    }

    /// What the steps touched, and the tables of every entry that differs from before.
    fn scope(&self, entries_before: &[Entry], entries_now: &[Entry]) -> Option<BTreeSet<String>> {
        round_trip::touched_scope(self.touched.as_ref(), entries_before, entries_now)
    }

    fn located_after_up(
        &self,
        after_up: &Database,
        table: &str,
        column: &str,
    ) -> Option<ColumnKey> {
        located_after_up(self.goal.changes, after_up, table, column)
    }

    fn rekeyed(&self) -> BTreeMap<String, Vec<String>> {
        rekeyed(self.goal.changes)
    }

    /// The database now matches schema.rs (and objects.sql); then the tables up created get
    /// rows too, so that down runs on rows (a DROP TABLE deletes them first, and checks
    /// every reference to them).
    fn after_up(
        &mut self,
        inspector: &rusqlite::Connection,
        after_up: &Database,
        entries: &[Entry],
    ) -> Result<()> {
        let goal = self.goal;
        let described = goal.project.describe(after_up)?;
        let mut remaining = diff(&described, goal.target);
        if let Some(declared) = goal.declared {
            let wanted: Vec<SqlObject> = declared.iter().map(|d| d.object.clone()).collect();
            let stored = objects_sql::managed(entries, &goal.project.filter);
            remaining.extend(diff_objects(&stored, &wanted));
        }
        if !remaining.is_empty() {
            let list: Vec<String> = remaining.iter().map(|c| format!("- {c}")).collect();
            return Err(self.failed_with(format!(
                "after up.sql the database still differs from schema.rs:\n{}",
                list.join("\n")
            )));
        }
        let kept_from_head: Vec<String> = goal
            .head
            .tables
            .iter()
            .map(|t| table_after(goal.changes, &t.name).to_owned())
            .filter(|name| after_up.table(name).is_some())
            .collect();
        let created = seed::seed(inspector, after_up, &kept_from_head);
        self.tables_after_up = after_up.tables.iter().map(|t| t.name.clone()).collect();
        self.created = Some((kept_from_head.len(), created));
        Ok(())
    }

    fn after_down(&mut self, inspector: &rusqlite::Connection) -> Result<()> {
        let head_sequences = std::mem::take(&mut self.sequences);
        let sequences = self.of_kept_tables(head_sequences);
        let restored =
            stored::sequences(inspector).map_err(|e| self.failed_with(e.message.clone()))?;
        let restored = self.of_kept_tables(restored);
        if restored != sequences {
            return Err(self.failed_with(format!(
                "down.sql did not restore sqlite_sequence (the last id each AUTOINCREMENT table gave out): {sequences:?} became {restored:?}"
            )));
        }
        Ok(())
    }
}

/// Whether `change` changes the table `name` (by head's name or its name after up).
fn touches(change: &Change, changes: &[Change], name: &str) -> bool {
    let table = change.table();
    table == name || head_table(changes, table) == name || table_after(changes, name) == table
}

/// Head's tables whose primary key up changes, with the new key by head's column names:
/// their rows are that key's from then on (a table taken from its rowid to a declared key
/// even gets that key's values as rowids, and keeps them through down).
fn rekeyed(changes: &[Change]) -> BTreeMap<String, Vec<String>> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::AlterPrimaryKey { table, to, .. }
                if !matches!(to.as_slice(), [key] if model::is_rowid_alias(key)) =>
            {
                let columns = to.iter().map(|c| head_column(changes, table, c).to_owned());
                Some((head_table(changes, table).to_owned(), columns.collect()))
            }
            _ => None,
        })
        .collect()
}

/// Head's columns that up makes NOT NULL, whose NULLs it backfills.
fn backfilled(changes: &[Change]) -> Vec<ColumnKey> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::AlterColumn { table, from, to } if from.nullable && !to.nullable => {
                Some(ColumnKey::new(
                    head_table(changes, table),
                    head_column(changes, table, &to.name),
                ))
            }
            _ => None,
        })
        .collect()
}

/// Where column `column` of head's `table` is after up, if it still exists.
fn located_after_up(
    changes: &[Change],
    after_up: &Database,
    table: &str,
    column: &str,
) -> Option<ColumnKey> {
    let table = table_after(changes, table);
    let column = column_after(changes, table, column);
    after_up.table(table)?.column(column)?;
    Some(ColumnKey::new(table, column))
}

#[cfg(test)]
mod tests;
