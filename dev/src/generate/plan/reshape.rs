//! Editing a table's stored `CREATE TABLE` text for up's changes, column by column, so that
//! only what schema.rs describes changes and every other byte (CHECKs, COLLATE, DEFAULTs,
//! declared types) stays; and deciding, by trial, which indexes the rebuilt table keeps.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::schema::introspect;
use crate::schema::model::{Column, Joinable};
use crate::sqlite::create_table::{self, Clause, ColumnDef, CreateTable, Edits, Item};
use crate::sqlite::db::sqlite_message;
use crate::sqlite::lexer;
use crate::sqlite::quote::{quote, quoted_list};

use super::defaults::{default_fits, usable_as_default};
use super::rebuild::{
    carried_rowid, foreign_key_guard, has_word, row_key, Converted, Copied, Rebuild,
};
use super::trial::try_in_savepoint;
use super::up::Planner;
use super::{FOREIGN_KEYS_OFF, FOREIGN_KEYS_ON};
use crate::schema::model::ColumnKey;
use crate::sqlite::db::strict;

impl Planner<'_> {
    /// Rebuilds `current` with every change of `changes` made to its stored text.
    pub(super) fn rebuild_up(
        &self,
        current: &introspect::StoredTable,
        changes: &[&Change],
    ) -> Result<Rebuild> {
        let name = &current.name;
        let table = CreateTable::parse(&current.sql).ok_or_else(|| {
            Error::input(format!(
                "table {name} was made by CREATE TABLE ... AS, which cannot be rebuilt"
            ))
        })?;
        let dropped: BTreeSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropColumn { column, .. } => Some(column.as_str()),
                _ => None,
            })
            .collect();
        let altered: BTreeMap<&str, (&Column, &Column)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::AlterColumn { from, to, .. } => Some((to.name.as_str(), (from, to))),
                _ => None,
            })
            .collect();
        let new_key = changes.iter().find_map(|c| match c {
            Change::AlterPrimaryKey { to, .. } => Some(to),
            _ => None,
        });
        // SQLite keeps every key column of a WITHOUT ROWID table NOT NULL, declared so or
        // not, and print-schema reads it so: such a column cannot be nullable, and one that
        // leaves the key keeps its NOT NULL only by declaring it.
        let old_key: Vec<String> = current
            .primary_key()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let key_after = new_key.cloned().unwrap_or_else(|| old_key.clone());
        let wants_null = |column: &str| {
            self.target
                .tables
                .get(name)
                .and_then(|t| t.column(column))
                .is_some_and(|c| c.nullable)
        };
        if current.without_rowid {
            if let Some(column) = key_after.iter().find(|k| wants_null(k)) {
                return Err(Error::input(format!(
                    "schema.rs makes {name}.{column} nullable, but it is in the primary key of {name}, a WITHOUT ROWID table, which SQLite keeps NOT NULL (and print-schema reads it so)"
                ))
                .help(format!(
                    "declare {name}.{column} without `Nullable<...>` in schema.rs"
                )));
            }
        }
        let leaves_key = |column: &str| {
            current.without_rowid
                && old_key.iter().any(|k| k == column)
                && !key_after.iter().any(|k| k == column)
                && !wants_null(column)
        };
        let added_joinables: BTreeMap<&str, &Joinable> = changes
            .iter()
            .filter_map(|c| match c {
                Change::AddJoinable { joinable, .. } => Some((joinable.column.as_str(), joinable)),
                _ => None,
            })
            .collect();
        let dropped_joinables: BTreeSet<(&str, &str)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropJoinable { joinable, .. } => {
                    Some((joinable.column.as_str(), joinable.parent.as_str()))
                }
                _ => None,
            })
            .collect();

        let mut edits = Edits::default();
        let notes = vec![format!("Rebuilds {name}: {}", describe(changes))];
        let mut effects = Vec::new();
        for joinable in added_joinables.values() {
            // Rows a real database holds may name no row of the parent: the rebuild's
            // guard stops the migration on them, and the file says so.
            effects.push(Effect::ChecksReference {
                table: name.clone(),
                column: joinable.column.clone(),
                parent: joinable.parent.clone(),
            });
        }
        let mut guards = Vec::new();
        let mut copy = Vec::new();
        let mut converted = Vec::new();
        for (index, item) in table.items.iter().enumerate() {
            let range = item.range().clone();
            let text = &table.sql[range.clone()];
            match item {
                Item::Column { name: column, .. } => {
                    if dropped.contains(column.as_str()) {
                        edits.replace(create_table::removal_range(&table, index), "");
                        effects.push(Effect::DropsColumn {
                            table: name.clone(),
                            column: column.clone(),
                        });
                        continue;
                    }
                    let def = ColumnDef::parse(text).expect("a column item has a name");
                    let at =
                        |r: &std::ops::Range<usize>| range.start + r.start..range.start + r.end;
                    let remove = |edits: &mut Edits, clause: Clause| {
                        for (c, r) in &def.clauses {
                            if *c == clause {
                                edits.replace(with_space_before(text, r, range.start), "");
                            }
                        }
                    };
                    let mut source = quote(column);
                    let conversion = self.conversions.get(&ColumnKey::new(name, column));
                    if let Some((from, to)) = altered.get(column.as_str()) {
                        if let Some(expr) = conversion.filter(|_| from.ty != to.ty) {
                            source = format!("({expr})");
                            effects.push(Effect::ConvertsColumn {
                                table: name.clone(),
                                column: column.clone(),
                                expr: expr.clone(),
                            });
                        }
                        if from.ty != to.ty {
                            let ty = self.declared_type(to, false);
                            if def.declared_type.is_empty() {
                                edits.insert(range.start + def.name.end, format!(" {ty}"));
                            } else {
                                edits.replace(at(&def.declared_type), ty);
                            }
                            // A DEFAULT that is no value of the new type is replaced by the
                            // `--default` generate required for it.
                            let replaced = self.defaults.get(&ColumnKey::new(name, column));
                            let stale = current
                                .column(column)
                                .and_then(|c| c.default.as_deref())
                                .is_some_and(|d| !default_fits(d, to.ty));
                            if let (Some(expr), true) = (replaced, stale) {
                                for (clause, r) in &def.clauses {
                                    if *clause == Clause::Default {
                                        edits.replace(at(r), format!("DEFAULT ({expr})"));
                                    }
                                }
                            }
                            if !from.ty.widens_to(to.ty) {
                                effects.push(Effect::ChangesType {
                                    table: name.clone(),
                                    column: column.clone(),
                                    from: from.to_string(),
                                    to: to.to_string(),
                                });
                            }
                        }
                        if from.nullable && !to.nullable {
                            edits.insert(range.end, " NOT NULL");
                            let expr = &self.defaults[&ColumnKey::new(name, column)];
                            source = format!("COALESCE({source}, ({expr}))");
                        } else if !from.nullable && to.nullable {
                            remove(&mut edits, Clause::NotNull);
                        }
                        // A generated column takes no copied value: SQLite computes it.
                        let stored = current.column(column).filter(|c| !c.generated);
                        if let Some(stored) = stored.filter(|_| from.ty != to.ty) {
                            converted.push(Converted {
                                label: format!("{name}.{column}"),
                                before: quote(column),
                                from: source.clone(),
                                declared: self.declared_type(to, false),
                                back: stored.declared_type.clone(),
                                ty: Some(to.ty),
                                explicit: conversion.is_some(),
                            });
                        }
                    }
                    if new_key.is_some() {
                        remove(&mut edits, Clause::PrimaryKey);
                    }
                    if leaves_key(column) && !def.has(Clause::NotNull) {
                        edits.insert(range.end, " NOT NULL");
                    }
                    if let Some(parent) = current
                        .foreign_keys
                        .iter()
                        .find(|fk| {
                            &fk.column == column
                                && dropped_joinables
                                    .contains(&(fk.column.as_str(), fk.parent.as_str()))
                        })
                        .map(|fk| fk.parent.as_str())
                    {
                        if def.has(Clause::References) {
                            remove(&mut edits, Clause::References);
                        } else {
                            remove_foreign_key_constraint(&table, column, parent, &mut edits);
                        }
                    }
                    if let Some(joinable) = added_joinables.get(column.as_str()) {
                        edits.insert(range.end, self.references(joinable));
                    }
                    // A generated column takes no inserted value: SQLite computes it.
                    if !current.column(column).is_some_and(|c| c.generated) {
                        copy.push(Copied {
                            column: column.clone(),
                            from: source,
                        });
                    }
                }
                Item::Constraint { .. } => {
                    let words = constraint_words(text);
                    let is_key = words.first().is_some_and(|w| w == "primary");
                    let uses_dropped =
                        !dropped.is_empty() && !self.compiles_without(current, &dropped, text);
                    if (is_key && new_key.is_some()) || uses_dropped {
                        edits.replace(create_table::removal_range(&table, index), "");
                        if uses_dropped {
                            effects.push(Effect::DropsConstraint {
                                table: name.clone(),
                                constraint: text.to_owned(),
                            });
                        }
                    }
                }
            }
        }
        let separator = create_table::separator(&table);
        let last_column_end = table
            .columns()
            .last()
            .map(|(_, r)| r.end)
            .unwrap_or(table.items[0].range().start);
        for change in changes {
            if let Change::AddColumn {
                column, joinable, ..
            } = change
            {
                edits.insert(
                    last_column_end,
                    format!(
                        "{separator}{}",
                        self.added_column(name, column, joinable.as_ref())
                    ),
                );
                // A value no DEFAULT may hold (it reads a table) reaches the rows here.
                let given = self.defaults.get(&ColumnKey::new(name, &column.name));
                if let Some(expr) = given.filter(|e| !usable_as_default(self.conn, e)) {
                    copy.push(Copied {
                        column: column.name.clone(),
                        from: format!("({expr})"),
                    });
                }
            }
        }
        // A table left without a primary key is keyed by its rowid, which needs no clause.
        let declared_key = new_key.filter(
            |key| !matches!(key.as_slice(), [only] if crate::schema::model::is_rowid_alias(only)),
        );
        if let Some(key) = declared_key {
            let end = table
                .items
                .last()
                .map_or(last_column_end, |i| i.range().end);
            edits.insert(
                end,
                format!("{separator}PRIMARY KEY ({})", quoted_list(key)),
            );
        }
        let create_sql = edits.apply(&table.sql);

        guards.push(foreign_key_guard(name));
        let had_autoincrement = has_word(&current.sql, "autoincrement");
        if had_autoincrement && !has_word(&create_sql, "autoincrement") {
            effects.push(Effect::DropsAutoincrement {
                table: name.clone(),
            });
        }
        // The new table made on its own: what it cannot be made of (a generated column or
        // CHECK naming a column the change takes away) is the change's problem.
        let shape = introspect::shape_of(&create_sql).map_err(|e| {
            Error::input(format!(
                "the rebuild of {name} does not run on head: {}",
                e.message.trim_start_matches("cannot read the schema (a table's shape): ")
            ))
            .note(create_sql.clone())
            .help("schema.rs asks for something SQLite refuses here; adjust it (drop or change what names a column the change takes away), or write this step with `generate --empty`")
        })?;
        let rowid = carried_rowid(current, &shape);
        let mut rebuild = Rebuild {
            current: name.clone(),
            name: name.clone(),
            sequence: had_autoincrement || has_word(&create_sql, "autoincrement"),
            create_sql,
            copy,
            rowid,
            objects: Vec::new(),
            notes,
            effects,
            converted,
            row_key: row_key(current),
            guards,
        };
        self.recreate_indexes_and_triggers(&mut rebuild, current)?;
        Ok(rebuild)
    }

    /// Puts back the table's indexes and triggers after a rebuild. Which index still has its
    /// columns is asked of SQLite (the rebuild is tried on the planning copy and rolled
    /// back), not read from words: an index that cannot be recreated is dropped, with a
    /// warning. Triggers are always recreated; one that no longer compiles is found by the
    /// check on views and triggers after up, which refuses the change.
    fn recreate_indexes_and_triggers(
        &self,
        rebuild: &mut Rebuild,
        current: &introspect::StoredTable,
    ) -> Result<()> {
        let guards = std::mem::take(&mut rebuild.guards);
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
        rebuild.guards = guards;
        outcome
    }

    /// Whether the table constraint `constraint` of `table` still compiles once `dropped`
    /// are gone, asked of SQLite on a scratch table of the other columns: a name that only
    /// looks like a dropped column (the parent's key a FOREIGN KEY references, a word in a
    /// string) keeps it.
    fn compiles_without(
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

/// A change list in a few words, for a rebuild's comment.
pub(super) fn describe(changes: &[&Change]) -> String {
    changes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The range of `clause` within a definition at `offset`, with the whitespace before it.
pub(super) fn with_space_before(
    def: &str,
    clause: &std::ops::Range<usize>,
    offset: usize,
) -> std::ops::Range<usize> {
    let start = def[..clause.start].trim_end().len();
    offset + start..offset + clause.end
}

/// The lower-case words a table constraint starts with, past `CONSTRAINT name`.
pub(super) fn constraint_words(text: &str) -> Vec<String> {
    let words: Vec<String> = lexer::identifiers(text)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.first().is_some_and(|w| w == "constraint") {
        words.into_iter().skip(2).collect()
    } else {
        words
    }
}

pub(super) fn remove_foreign_key_constraint(
    table: &CreateTable,
    column: &str,
    parent: &str,
    edits: &mut Edits,
) {
    for (index, text) in table.constraints() {
        let words = constraint_words(text);
        let is_key = words.first().is_some_and(|w| w == "foreign");
        let names_column = words.get(2).is_some_and(|w| w.eq_ignore_ascii_case(column));
        if is_key && names_column && mentions_any(text, &BTreeSet::from([parent])) {
            edits.replace(create_table::removal_range(table, index), "");
        }
    }
}

/// Whether `sql` uses any of `names` as an identifier.
pub(super) fn mentions_any(sql: &str, names: &BTreeSet<&str>) -> bool {
    !names.is_empty()
        && lexer::identifiers(sql).any(|word| names.iter().any(|n| n.eq_ignore_ascii_case(&word)))
}
