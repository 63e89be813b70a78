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
pub mod squash;
pub mod verify;

use std::collections::BTreeMap;
use std::path::Path;

use diesel::migration::MigrationSource;
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
use crate::schema::introspect::TableFilter;
use crate::schema::introspect::{inspect, schema_entries, Database};
use crate::schema::model::ColumnKey;
use crate::schema::model::{self, Schema};
use crate::schema::objects_sql::{self, Declared, SqlObject};
use crate::sqlite::objects;
use crate::sqlite::stored;
use invariants::{
    check_integrity, compare_restored, compare_values, describe_difference, snapshots,
};

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

/// Runs the migration staged from `files` (as `dir_name` under `stage`) on the database
/// behind `conn` and `inspector`; says what it ran on.
#[allow(clippy::too_many_arguments)]
pub fn prove(
    conn: &mut SqliteConnection,
    inspector: &rusqlite::Connection,
    project: &Project,
    head: &Database,
    target: &Schema,
    declared: Option<&[Declared]>,
    changes: &[Change],
    conversions: &Defaults,
    stage: &Path,
    dir_name: &str,
    files: &Files,
) -> Result<Proof> {
    let failed = |what: String| {
        Error::internal(format!("the generated migration failed its proof: {what}"))
            .note(format!("up.sql:\n{}", files.up))
            .note(format!("down.sql:\n{}", files.down))
            .help("this is a bug in the tool: nothing was written; please report it with the files above")
    };
    write_files(&stage.join(dir_name), files)?;
    let source = FileBasedMigrations::from_path(stage)
        .map_err(|e| failed(format!("cannot stage it: {e}")))?;
    let migration = MigrationSource::<Sqlite>::migrations(&source)
        .map_err(|e| failed(format!("cannot stage it: {e}")))?
        .pop()
        .ok_or_else(|| failed("the staged migration did not load".into()))?;

    let seeded = seed::seed_for(inspector, head, changes, target);
    // A column `--convert` converts takes the values it gives: nothing to refuse, and its
    // old values are not the ones to find again.
    let converted: Vec<ColumnKey> = conversions
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
    let before_entries = schema_entries(inspector)?;
    let mut before_values = snapshots(inspector, head, head, &seeded.tables, |t, c| {
        Some(ColumnKey::new(t, c))
    })
    .map_err(|e| failed(format!("cannot read the seeded rows: {e}")))?;
    // A column up makes NOT NULL gives its NULLs the `--default` value: no value is lost, and
    // down keeps the backfilled ones. Every other value must stay.
    for ColumnKey { table, column } in backfilled(changes) {
        if let Some(snapshot) = before_values.get_mut(&table) {
            for row in &mut snapshot.rows {
                if row.values.get(&column) == Some(&rusqlite::types::Value::Null) {
                    row.values.remove(&column);
                }
            }
        }
    }
    for ColumnKey { table, column } in &converted {
        if let Some(snapshot) = before_values.get_mut(table) {
            for row in &mut snapshot.rows {
                row.values.remove(column);
            }
        }
    }
    let sequences = stored::sequences(inspector)
        .map_err(|e| failed(format!("cannot read sqlite_sequence: {e}")))?;
    let broken_at_head = objects::broken(inspector)?;
    let compiles = |step: &str| match objects::regressions(inspector, &broken_at_head)? {
        None => Ok(()),
        Some(list) => Err(failed(format!(
            "after {step}, views or triggers no longer compile:\n{list}"
        ))),
    };

    conn.run_migration(&*migration)
        .map_err(|e| failed(format!("up.sql failed on seeded rows: {e}")))?;
    check_integrity(inspector).map_err(|e| failed(format!("after up.sql, {e}")))?;
    compiles("up.sql")?;
    let after_up = inspect(inspector, &TableFilter::All)?;
    let after_up_entries = schema_entries(inspector)?;
    let kept = snapshots(inspector, head, &after_up, &seeded.tables, |t, c| {
        located_after_up(changes, &after_up, t, c)
    })
    .map_err(|e| failed(format!("cannot read the rows after up.sql: {e}")))?;
    compare_values(inspector, &before_values, &kept, "up.sql").map_err(&failed)?;
    let described = project.describe(&after_up)?;
    let mut remaining = diff(&described, target);
    if let Some(declared) = declared {
        let wanted: Vec<SqlObject> = declared.iter().map(|d| d.object.clone()).collect();
        let stored = objects_sql::managed(&after_up_entries, &project.filter);
        remaining.extend(diff_objects(&stored, &wanted));
    }
    if !remaining.is_empty() {
        let list: Vec<String> = remaining.iter().map(|c| format!("- {c}")).collect();
        return Err(failed(format!(
            "after up.sql the database still differs from schema.rs:\n{}",
            list.join("\n")
        )));
    }

    // The tables up created get rows too, so that down runs on rows (a DROP TABLE deletes
    // them first, and checks every reference to them).
    let kept_from_head: Vec<String> = head
        .tables
        .iter()
        .map(|t| table_after(changes, &t.name).to_owned())
        .filter(|name| after_up.table(name).is_some())
        .collect();
    let created = seed::seed(inspector, &after_up, &kept_from_head);

    conn.revert_migration(&*migration)
        .map_err(|e| failed(format!("down.sql failed on seeded rows: {e}")))?;
    let after_down = schema_entries(inspector)?;
    if after_down != before_entries {
        return Err(failed(format!(
            "down.sql did not restore the schema exactly:\n{}",
            describe_difference(&before_entries, &after_down)
        )));
    }
    check_integrity(inspector).map_err(|e| failed(format!("after down.sql, {e}")))?;
    compiles("down.sql")?;
    // Down brings back every row with the values of every column up kept; a column up
    // dropped comes back with its default.
    let survived =
        |table: &str, column: &str| located_after_up(changes, &after_up, table, column).is_some();
    let restored = snapshots(inspector, head, head, &seeded.tables, |t, c| {
        survived(t, c).then(|| ColumnKey::new(t, c))
    })
    .map_err(|e| failed(format!("cannot read the rows after down.sql: {e}")))?;
    compare_restored(
        inspector,
        &before_values,
        &restored,
        "down.sql",
        &rekeyed(changes),
    )
    .map_err(&failed)?;

    // The sequences of the tables up kept (a dropped table's goes with its rows, warned); a
    // row at 0 is no row (an INSERT of no rows into an AUTOINCREMENT table writes one).
    let of_kept_tables = |sequences: Vec<(String, i64)>| -> BTreeMap<String, i64> {
        sequences
            .into_iter()
            .filter(|(table, seq)| {
                *seq != 0 && after_up.table(table_after(changes, table)).is_some()
            })
            .collect()
    };
    let sequences = of_kept_tables(sequences);
    let restored_sequences = of_kept_tables(
        stored::sequences(inspector)
            .map_err(|e| failed(format!("cannot read sqlite_sequence: {e}")))?,
    );
    if restored_sequences != sequences {
        return Err(failed(format!(
            "down.sql did not restore sqlite_sequence (the last id each AUTOINCREMENT table gave out): {sequences:?} became {restored_sequences:?}"
        )));
    }

    conn.run_migration(&*migration)
        .map_err(|e| failed(format!("up.sql failed when run again after down.sql: {e}")))?;
    compiles("up.sql run again")?;
    let again = schema_entries(inspector)?;
    if again != after_up_entries {
        return Err(failed(format!(
            "up.sql run again after down.sql did not give the schema the first up gave:\n{}",
            describe_difference(&after_up_entries, &again)
        )));
    }

    Ok(Proof {
        tables: seeded.tables.len() + created.tables.len() - kept_from_head.len(),
        rows: seeded.rows + created.rows,
        unseeded: seeded
            .failed
            .iter()
            .chain(&created.failed)
            .map(|u| (u.name.clone(), u.reason.clone()))
            .collect(),
        unproven: seeded
            .failed
            .iter()
            .chain(&created.failed)
            .map(|u| u.name.clone())
            .filter(|name| changes.iter().any(|c| touches(c, changes, name)))
            .collect(),
    })
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
