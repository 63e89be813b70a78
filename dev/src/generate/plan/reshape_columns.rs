//! Editing one column of a table's stored `CREATE TABLE` text for up's changes, and one table
//! constraint: the rest of `reshape`, column by column.

use crate::history::effect::Effect;
use crate::schema::introspect;
use crate::schema::model::{Column, ColumnKey};
use crate::sqlite::create_table::{self, Clause, CreateTable};
use crate::sqlite::quote::quote;

use super::defaults::default_fits;
use super::rebuild::{Converted, Copied};
use super::table_edit::{
    constraint_words, remove_foreign_key_constraint, ColumnItem, Draft, Requested,
};
use super::up::Planner;

impl Planner<'_> {
    /// Edits one kept column: its type, nullability, key and reference clauses, and how the
    /// copy reads its value.
    pub(super) fn edit_column(
        &self,
        current: &introspect::StoredTable,
        table: &CreateTable,
        requested: &Requested,
        item: &ColumnItem,
        keeps_not_null: bool,
        draft: &mut Draft,
    ) {
        let column = item.name;
        let mut source = quote(column);
        if let Some((from, to)) = requested.altered.get(column) {
            source = self.alter_column(current, item, from, to, source, draft);
        }
        if requested.new_key.is_some() {
            item.remove(&mut draft.edits, Clause::PrimaryKey);
        }
        if keeps_not_null && !item.def.has(Clause::NotNull) {
            draft.edits.insert(item.range.end, " NOT NULL");
        }
        let dropped_parent = current
            .foreign_keys
            .iter()
            .find(|fk| {
                fk.column == column
                    && requested
                        .dropped_joinables
                        .contains(&(fk.column.as_str(), fk.parent.as_str()))
            })
            .map(|fk| fk.parent.as_str());
        if let Some(parent) = dropped_parent {
            if item.def.has(Clause::References) {
                item.remove(&mut draft.edits, Clause::References);
            } else {
                remove_foreign_key_constraint(table, column, parent, &mut draft.edits);
            }
        }
        if let Some(joinable) = requested.added_joinables.get(column) {
            draft
                .edits
                .insert(item.range.end, self.references(joinable));
        }
        // A generated column takes no inserted value: SQLite computes it.
        if !current.column(column).is_some_and(|c| c.generated) {
            draft.copy.push(Copied {
                column: column.to_owned(),
                from: source,
            });
        }
    }

    /// Edits a column schema.rs changes from `from` to `to`, and returns what the copy reads
    /// for it in place of `source`.
    fn alter_column(
        &self,
        current: &introspect::StoredTable,
        item: &ColumnItem,
        from: &Column,
        to: &Column,
        mut source: String,
        draft: &mut Draft,
    ) -> String {
        let name = &current.name;
        let column = item.name;
        let key = ColumnKey::new(name, column);
        let conversion = self.conversions.get(&key);
        if from.ty != to.ty {
            if let Some(expr) = conversion {
                source = format!("({expr})");
                draft.effects.push(Effect::ConvertsColumn {
                    table: name.clone(),
                    column: column.to_owned(),
                    expr: expr.clone(),
                });
            }
            self.retype_column(current, item, from, to, draft);
        }
        if from.nullable && !to.nullable {
            draft.edits.insert(item.range.end, " NOT NULL");
            let expr = &self.defaults[&key];
            source = format!("COALESCE({source}, ({expr}))");
            draft.effects.push(Effect::FillsNulls {
                table: name.clone(),
                column: column.to_owned(),
                expr: expr.clone(),
            });
        } else if !from.nullable && to.nullable {
            item.remove(&mut draft.edits, Clause::NotNull);
        }
        // A generated column takes no copied value: SQLite computes it.
        let stored = current.column(column).filter(|c| !c.generated);
        if let Some(stored) = stored.filter(|_| from.ty != to.ty) {
            draft.converted.push(Converted {
                label: format!("{name}.{column}"),
                before: quote(column),
                from: source.clone(),
                declared: self.declared_type(to, false),
                back: stored.declared_type.clone(),
                ty: Some(to.ty),
                explicit: conversion.is_some(),
            });
        }
        source
    }

    /// Gives a column its new declared type, and a DEFAULT that is a value of it.
    fn retype_column(
        &self,
        current: &introspect::StoredTable,
        item: &ColumnItem,
        from: &Column,
        to: &Column,
        draft: &mut Draft,
    ) {
        let name = &current.name;
        let column = item.name;
        let ty = self.declared_type(to, false);
        if item.def.declared_type.is_empty() {
            draft
                .edits
                .insert(item.range.start + item.def.name.end, format!(" {ty}"));
        } else {
            draft.edits.replace(item.at(&item.def.declared_type), ty);
        }
        // A DEFAULT that is no value of the new type is replaced by the `--default`
        // generate required for it.
        let replaced = self.defaults.get(&ColumnKey::new(name, column));
        let stale = current
            .column(column)
            .and_then(|c| c.default.as_deref())
            .is_some_and(|d| !default_fits(d, to.ty));
        if let (Some(expr), true) = (replaced, stale) {
            for (clause, r) in &item.def.clauses {
                if *clause == Clause::Default {
                    draft.edits.replace(item.at(r), format!("DEFAULT ({expr})"));
                }
            }
        }
        if !from.ty.widens_to(to.ty) {
            draft.effects.push(Effect::ChangesType {
                table: name.clone(),
                column: column.to_owned(),
                from: from.to_string(),
                to: to.to_string(),
            });
        }
    }

    /// Takes out a table constraint that the new key replaces, or that no longer compiles
    /// without the dropped columns.
    pub(super) fn edit_constraint(
        &self,
        current: &introspect::StoredTable,
        table: &CreateTable,
        requested: &Requested,
        index: usize,
        text: &str,
        draft: &mut Draft,
    ) {
        let words = constraint_words(text);
        let is_key = words.first().is_some_and(|w| w == "primary");
        let uses_dropped = !requested.dropped.is_empty()
            && !self.compiles_without(current, &requested.dropped, text);
        if (is_key && requested.new_key.is_some()) || uses_dropped {
            draft
                .edits
                .replace(create_table::removal_range(table, index), "");
            if uses_dropped {
                draft.effects.push(Effect::DropsConstraint {
                    table: current.name.clone(),
                    constraint: text.to_owned(),
                });
            }
        }
    }
}
