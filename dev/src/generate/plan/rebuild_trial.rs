//! A rebuild tried on the planning copy and rolled back: which of the table's indexes it
//! keeps, whether a table constraint still compiles without the dropped columns, and whether
//! it runs only by reading a double-quoted name as a string.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::history::effect::Effect;
use crate::schema::introspect;
use crate::sqlite::db::{sqlite_message, strict};
use crate::sqlite::quote::quote;

use super::rebuild::Rebuild;
use super::trial::try_in_savepoint;
use super::up::Planner;
use super::{FOREIGN_KEYS_OFF, FOREIGN_KEYS_ON};

impl Planner<'_> {
    /// Puts back the table's indexes and triggers after a rebuild. Which index still has its
    /// columns is asked of SQLite (the rebuild is tried on the planning copy and rolled
    /// back), not read from words: an index that cannot be recreated is dropped, with a
    /// warning. Triggers are always recreated; one that no longer compiles is found by the
    /// check on views and triggers after up, which refuses the change.
    pub(super) fn recreate_indexes_and_triggers(
        &self,
        rebuild: &mut Rebuild,
        current: &introspect::StoredTable,
    ) -> Result<()> {
        // Tried as the file runs it: foreign keys off (set before the savepoint, as SQLite
        // ignores the pragma inside a transaction), or dropping the old table of a parent
        // would delete rows its children still reference and fail the trial.
        let trial = format!(
            "{FOREIGN_KEYS_OFF}SAVEPOINT dev_rebuild_trial;\n{}",
            rebuild.sql()
        );
        // Strict: a generated column, CHECK or DEFAULT naming a column the change takes away
        // must fail here, not become the text of its name.
        let tried = strict(self.conn, || self.conn.execute_batch(&trial));
        let mut outcome = Ok(());
        if tried.is_ok() {
            for index in &current.indexes {
                let Some(sql) = &index.sql else { continue };
                match strict(self.conn, || try_in_savepoint(self.conn, sql)) {
                    Ok(()) => rebuild.objects.push(sql.clone()),
                    Err(reason) => {
                        // SQLite quotes the whole statement after its reason; the name says it.
                        let reason = reason
                            .split_once(&format!(" in {sql}"))
                            .map_or(reason.as_str(), |(reason, _)| reason);
                        rebuild.effects.push(Effect::DropsIndex {
                            index: index.name.clone(),
                            reason: reason.to_owned(),
                        });
                    }
                }
            }
        }
        let undone = self.conn.execute_batch(&format!(
            "ROLLBACK TO dev_rebuild_trial; RELEASE dev_rebuild_trial;\n{FOREIGN_KEYS_ON}"
        ));
        if let Err(e) = tried.and(undone) {
            let mut err = Error::input(format!(
                "the rebuild of {} does not run on head: {}",
                rebuild.name,
                sqlite_message(&e)
            ))
            .note(rebuild.sql());
            if self.runs_only_with_double_quoted_strings(&trial) {
                err = err.note("SQLite would run it by reading a double-quoted name that names no column as a string: the table would hold other values, or accept other rows, with no error");
            }
            outcome = Err(err.help("schema.rs asks for something SQLite refuses here; adjust it (drop or change what names a column the change takes away), or write this step with `generate --empty`"));
        }
        rebuild.objects.extend(
            current
                .triggers
                .iter()
                .filter_map(|trigger| trigger.sql.clone()),
        );
        outcome
    }

    /// Whether the table constraint `constraint` of `table` still compiles once `dropped`
    /// are gone, asked of SQLite on a scratch table of the other columns: a name that only
    /// looks like a dropped column (the parent's key a FOREIGN KEY references, a word in a
    /// string) keeps it.
    pub(super) fn compiles_without(
        &self,
        table: &introspect::StoredTable,
        dropped: &BTreeSet<&str>,
        constraint: &str,
    ) -> bool {
        let kept: Vec<String> = table
            .columns
            .iter()
            .filter(|c| !dropped.iter().any(|d| d.eq_ignore_ascii_case(&c.name)))
            .map(|c| quote(&c.name))
            .collect();
        if kept.is_empty() {
            return false;
        }
        let probe = format!(
            "CREATE TEMP TABLE _dev_constraint_probe ({}, {constraint});",
            kept.join(", ")
        );
        strict(self.conn, || try_in_savepoint(self.conn, &probe)).is_ok()
    }

    /// Whether `trial` (which ends inside its savepoint) runs once double-quoted strings
    /// are allowed: it is rolled back either way.
    fn runs_only_with_double_quoted_strings(&self, trial: &str) -> bool {
        let ran = self.conn.execute_batch(trial).is_ok();
        let _ = self.conn.execute_batch(&format!(
            "ROLLBACK TO dev_rebuild_trial; RELEASE dev_rebuild_trial;\n{FOREIGN_KEYS_ON}"
        ));
        ran
    }
}
