//! Turning changes into SQLite statements for `up.sql` and `down.sql`, as typed steps.
//!
//! Up is planned change by change on a planning copy of the disposable database (`up`):
//! each step runs there as soon as it is planned, so a later step (a rebuild after a rename)
//! is planned from the schema as it really is at that point. What ALTER TABLE cannot do is a
//! table rebuild (`rebuild` is the step, `reshape` edits the table's stored text for it).
//! Down is planned by difference (`down`): whatever up dropped is recreated from its stored
//! text, whatever it changed is rebuilt to its stored text, whatever it created is dropped.
//! `defaults` decides the values rows get; `order` puts parents before children; `trial`
//! asks SQLite whether a statement runs, and rolls it back. Every step must keep the rows of
//! a real database, not only pass on an empty one, and says what it loses (`Effect`).

mod declared;
mod defaults;
mod down;
mod in_place;
mod order;
mod rebuild;
mod rebuild_trial;
mod rename_back;
mod reshape;
mod reshape_columns;
mod table_edit;
mod trial;
mod up;

use crate::sqlite::catalog;
use std::path::Path;

use crate::error::{Error, Result};
use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::project::oldest_sqlite::OldestSqlite;
use crate::schema::introspect::{reinspect, Database};
use crate::schema::model::Schema;
use crate::schema::objects_sql::Declared;
use crate::sqlite::objects;
use crate::sqlite::quote::{comment, quote};

pub use declared::try_declared;
pub use defaults::{
    missing_default, missing_defaults, needs_default, refuse_defaults_of_another_type,
    working_example, Defaults,
};
pub use rebuild::row_key;
pub use up::{refuse_changing_virtual, refuse_dropping_referenced};

/// One step of a migration: a statement (or a rebuild's group of statements), the notes a
/// reviewer reads above it, and what it loses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Comment lines for the reviewer, without `-- `.
    pub notes: Vec<String>,
    /// What the step loses, each written as a `-- WARNING:` line above it.
    pub effects: Vec<Effect>,
    /// Complete statements, each ending in `;`.
    pub sql: String,
    /// Whether the step rebuilds a table, which needs foreign keys off (and so the file must
    /// run outside the harness's transaction).
    pub rebuild: bool,
}

impl Step {
    /// A step that is one statement and loses nothing.
    pub fn statement(sql: String) -> Step {
        Step {
            sql,
            ..Step::default()
        }
    }

    /// The step as it stands in the file: notes, warnings, then the SQL.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for note in &self.notes {
            text.push_str(&comment(note));
            text.push('\n');
        }
        for effect in &self.effects {
            text.push_str(&effect.warning_line());
            text.push('\n');
        }
        text.push_str(&self.sql);
        text
    }
}

/// The steps of one direction of a migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// The tables whose references the file checks at its end when it rebuilds (foreign
    /// keys are off then, so SQLite checks nothing itself), by their names there: each
    /// table the file makes or changes, and each that references one of those.
    pub checked: Vec<String>,
}

impl Script {
    /// Whether a step rebuilds a table.
    pub fn rebuilds(&self) -> bool {
        self.steps.iter().any(|s| s.rebuild)
    }

    /// Everything the script loses, in order.
    pub fn effects(&self) -> impl Iterator<Item = &Effect> {
        self.steps.iter().flat_map(|s| &s.effects)
    }

    /// The steps as the file holds them, a blank line apart.
    pub fn text(&self) -> String {
        self.steps
            .iter()
            .map(Step::text)
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// What the file runs before COMMIT when it rebuilds (foreign keys are off then, so
    /// SQLite checks no reference itself): a guard that fails on a broken reference, for
    /// each `checked` table.
    pub fn guards(&self) -> Vec<String> {
        if !self.rebuilds() {
            return Vec::new();
        }
        self.checked
            .iter()
            .map(|table| {
                let check = rebuild::foreign_key_guard(table);
                rebuild::guard(&check.name, &check.holds)
            })
            .collect()
    }
}

/// Both directions of a migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// What up.sql runs: head to schema.rs.
    pub up: Script,
    /// What down.sql runs: back from schema.rs to head.
    pub down: Script,
}

impl Plan {
    /// Whether the migration needs `run_in_transaction = false` in metadata.toml.
    pub fn outside_transaction(&self) -> bool {
        self.up.rebuilds() || self.down.rebuilds()
    }
}

/// Before a rebuild: foreign keys off (possible only outside a transaction) so no ON DELETE
/// action fires, and legacy_alter_table so renaming the old table away leaves other tables'
/// REFERENCES alone.
pub const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF;\nPRAGMA legacy_alter_table = ON;\n";
/// Around a table rename inside a file that rebuilds: the rename must rewrite other
/// tables' REFERENCES, views and triggers, which legacy_alter_table (on for the rebuilds)
/// keeps it from doing.
pub(super) const LEGACY_OFF: &str = "PRAGMA legacy_alter_table = OFF;\n";
/// Back to legacy_alter_table on, for the rebuilds that follow.
pub(super) const LEGACY_ON: &str = "PRAGMA legacy_alter_table = ON;";
/// After a rebuild: the connection as the application has it.
pub const FOREIGN_KEYS_ON: &str = "PRAGMA legacy_alter_table = OFF;\nPRAGMA foreign_keys = ON;\n";

/// DROP TABLE, with its warning.
fn drop_table(name: &str) -> Step {
    Step {
        effects: vec![Effect::DropsTable {
            table: name.to_owned(),
        }],
        ..Step::statement(format!("DROP TABLE {};", quote(name)))
    }
}

/// The drops of `tables`, children first. When one of them references another, one step
/// drops them all after `PRAGMA defer_foreign_keys = ON`: DROP TABLE deletes a table's rows
/// first and checks the references to them right away, so tables in a cycle can be dropped
/// only with the check left to COMMIT, when all of them are gone (the pragma holds inside
/// the file's transaction, and COMMIT resets it).
fn drop_tables<'a>(
    tables: impl Iterator<Item = &'a crate::schema::introspect::StoredTable> + Clone,
) -> Vec<Step> {
    let names: Vec<&str> = tables.clone().map(|t| t.name.as_str()).collect();
    let related = tables
        .clone()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t, fk)))
        .any(|(t, fk)| fk.parent != t.name && names.contains(&fk.parent.as_str()));
    let drops = order::stored_parents_first(tables)
        .into_iter()
        .rev()
        .map(drop_table);
    if !related {
        return drops.collect();
    }
    let mut together = Step::statement("PRAGMA defer_foreign_keys = ON;".to_owned());
    for drop in drops {
        together.sql.push('\n');
        together.sql.push_str(&drop.sql);
        together.effects.extend(drop.effects);
    }
    vec![together]
}

/// `sql` as the file runs it when it rebuilds: foreign keys off around its own transaction.
fn with_foreign_keys_off(sql: &str) -> String {
    format!("{FOREIGN_KEYS_OFF}BEGIN;\n{sql}\nCOMMIT;\n{FOREIGN_KEYS_ON}")
}

/// What a migration must reach: the tables schema.rs declares, and the indexes, views and
/// triggers objects.sql declares (none without the file).
#[derive(Debug, Clone, Copy)]
pub struct Goal<'a> {
    /// schema.rs's tables.
    pub tables: &'a Schema,
    /// objects.sql's objects, in its order; `None` when the project has no such file.
    pub objects: Option<&'a [Declared]>,
}

/// What the person generating gave for the rows: `--default` values, and `--convert`
/// expressions for retyped columns (both by schema.rs's table and column names).
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    /// Values for rows of columns that become NOT NULL (and DEFAULTs that no longer fit).
    pub defaults: &'a Defaults,
    /// How a retyped column's values become the new type's, as SQL over the old row.
    pub conversions: &'a Defaults,
}

/// What the project says about how its migrations are read and run.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// `sqlite_integer_primary_key_is_bigint`: how print-schema reads rowid keys.
    pub integer_primary_key_is_bigint: bool,
    /// The oldest SQLite the migrations run on: which statements they may use.
    pub oldest_sqlite: &'a OldestSqlite,
}

/// Plans `changes` (from head, the database at `head` whose tables are `before`, every one
/// read, to `goal`). `work` is where the planning copy is made; it is the caller's to remove.
/// `head` holds the seed rows (`seed::seed_for`, the rows the proof runs on too), as a real
/// database holds rows: some statements (ADD COLUMN with a non-constant default, a NOT NULL
/// column without one) succeed on an empty table and fail on rows.
pub fn plan(
    changes: &[Change],
    goal: Goal<'_>,
    given: Given<'_>,
    settings: Settings<'_>,
    before: &Database,
    head: &Path,
    work: &Path,
) -> Result<Plan> {
    std::fs::copy(head, work).map_err(|e| Error::io("copy the disposable database to", work, e))?;
    let conn = crate::sqlite::db::open_rusqlite(work)?;
    let before_entries = catalog::entries(&conn)?;
    let defaults = given.defaults;
    let planner = up::Planner {
        conn: &conn,
        target: goal.tables,
        defaults,
        conversions: given.conversions,
        integer_primary_key_is_bigint: settings.integer_primary_key_is_bigint,
        declared: goal.objects.unwrap_or_default(),
        oldest_sqlite: settings.oldest_sqlite,
    };
    let broken_at_head = objects::broken(&conn, &before_entries)?;
    let mut up = planner.up(changes, before)?;
    // Before is a whole reading of head, which seeding left as it was: only the tables
    // whose entries up changed are read again. (The reference checks below make temporary
    // tables only, which are no entries of the main schema.)
    let after_entries = catalog::entries(&conn)?;
    let after = reinspect(
        &conn,
        before,
        &catalog::differing_tables(&before_entries, &after_entries),
    )?;
    // The references first: a key no reference can name any more breaks whatever fires a
    // check of it (a trigger's statement too), and is the change's problem, said as such.
    up.checked = checked(before, &after);
    planner.check_references(&up)?;
    let broken = objects::newly_broken(&broken_at_head, objects::broken(&conn, &after_entries)?);
    if !broken.is_empty() {
        let what: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        let err = objects::refuse(&what.join(", "), &broken);
        let declared_broken = goal.objects.unwrap_or_default().iter().find(|d| {
            broken
                .iter()
                .any(|b| b.name.eq_ignore_ascii_case(&d.object.name))
        });
        return Err(match declared_broken {
            Some(declared) => err.at(declared.location.clone()).help(
                "change it in objects.sql so it uses only what schema.rs keeps, then generate again",
            ),
            None => err,
        });
    }
    if let Some(declared) = goal.objects {
        declared::refuse_rewritten(&after_entries, declared)?;
    }
    let mut down = down::restore(
        before,
        &before_entries,
        &after,
        &after_entries,
        changes,
        defaults,
        planner.alters_nullability(),
    );
    down.checked = checked(&after, before);
    defaults::try_down_values(&conn, &down, changes, defaults, before)?;
    Ok(Plan { up, down })
}

/// The tables of `end` a file from `start` to `end` must check the references of: those it
/// makes or changes (their stored text is not what it was, or they are new), and those that
/// reference one of them. Sorted, each once.
fn checked(start: &Database, end: &Database) -> Vec<String> {
    let changed: Vec<&str> = end
        .tables
        .iter()
        .filter(|t| start.table(&t.name).is_none_or(|s| s.sql != t.sql))
        .map(|t| t.name.as_str())
        .collect();
    let mut checked: Vec<String> = end
        .tables
        .iter()
        .filter(|t| !t.kind.is_virtual())
        .filter(|t| {
            changed.contains(&t.name.as_str())
                || t.foreign_keys
                    .iter()
                    .any(|fk| changed.iter().any(|c| c.eq_ignore_ascii_case(&fk.parent)))
        })
        .map(|t| t.name.clone())
        .collect();
    checked.sort();
    checked.dedup();
    checked
}

#[cfg(test)]
mod tests;
