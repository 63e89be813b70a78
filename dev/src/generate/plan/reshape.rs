//! Editing a table's stored `CREATE TABLE` text for up's changes, column by column, so that
//! only what schema.rs describes changes and every other byte (CHECKs, COLLATE, DEFAULTs,
//! declared types) stays; and deciding, by trial, which indexes the rebuilt table keeps.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::schema::introspect;
use crate::schema::model::ColumnKey;
use crate::sqlite::create_table::{self, ColumnDef, CreateTable, Item};
use crate::sqlite::quote::quoted_list;

use super::defaults::usable_as_default;
use super::rebuild::{carried_rowid, row_key, Copied, Rebuild};
use super::table_edit::{ColumnItem, Draft, Requested};
use super::up::Planner;
use crate::sqlite::catalog::has_autoincrement;

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
        let requested = Requested::of(changes);
        let leaving_key = self.columns_leaving_a_without_rowid_key(current, &requested)?;
        let mut draft = Draft::default();
        for joinable in requested.added_joinables.values() {
            // Rows a real database holds may name no row of the parent: the rebuild's
            // guard stops the migration on them, and the file says so.
            draft.effects.push(Effect::ChecksReference {
                table: name.clone(),
                column: joinable.column.clone(),
                parent: joinable.parent.clone(),
            });
        }
        for (index, item) in table.items.iter().enumerate() {
            let range = item.range().clone();
            let text = &table.sql[range.clone()];
            match item {
                Item::Column { name: column, .. }
                    if requested.dropped.contains(column.as_str()) =>
                {
                    draft
                        .edits
                        .replace(create_table::removal_range(&table, index), "");
                    draft.effects.push(Effect::DropsColumn {
                        table: name.clone(),
                        column: column.clone(),
                    });
                }
                Item::Column { name: column, .. } => {
                    let item = ColumnItem {
                        name: column,
                        text,
                        range,
                        def: ColumnDef::parse(text).expect("a column item has a name"),
                    };
                    let keeps_not_null = leaving_key.contains(column.as_str());
                    self.edit_column(
                        current,
                        &table,
                        &requested,
                        &item,
                        keeps_not_null,
                        &mut draft,
                    );
                }
                Item::Constraint { .. } => {
                    self.edit_constraint(current, &table, &requested, index, text, &mut draft);
                }
            }
        }
        self.add_columns_and_key(name, &table, changes, requested.new_key, &mut draft);
        self.finish_rebuild(current, &table, changes, draft)
    }

    /// The columns that leave the primary key of a WITHOUT ROWID table and stay NOT NULL.
    /// SQLite keeps every key column of such a table NOT NULL, declared so or not, and
    /// print-schema reads it so: a key column cannot be made nullable, and one that leaves
    /// the key keeps its NOT NULL only by declaring it.
    fn columns_leaving_a_without_rowid_key(
        &self,
        current: &introspect::StoredTable,
        requested: &Requested,
    ) -> Result<BTreeSet<String>> {
        if !current.without_rowid {
            return Ok(BTreeSet::new());
        }
        let name = &current.name;
        let old_key: Vec<String> = current
            .primary_key()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let key_after = requested.new_key.unwrap_or(&old_key);
        let wants_null = |column: &str| {
            self.target
                .tables
                .get(name)
                .and_then(|t| t.column(column))
                .is_some_and(|c| c.nullable)
        };
        if let Some(column) = key_after.iter().find(|k| wants_null(k)) {
            return Err(Error::input(format!(
                "schema.rs makes {name}.{column} nullable, but it is in the primary key of {name}, a WITHOUT ROWID table, which SQLite keeps NOT NULL (and print-schema reads it so)"
            ))
            .help(format!(
                "declare {name}.{column} without `Nullable<...>` in schema.rs"
            )));
        }
        Ok(old_key
            .iter()
            .filter(|k| !key_after.contains(k) && !wants_null(k))
            .cloned()
            .collect())
    }

    /// Appends the added columns after the last column, and the new primary key at the end.
    fn add_columns_and_key(
        &self,
        name: &str,
        table: &CreateTable,
        changes: &[&Change],
        new_key: Option<&Vec<String>>,
        draft: &mut Draft,
    ) {
        let separator = create_table::separator(table);
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
                draft.edits.insert(
                    last_column_end,
                    format!(
                        "{separator}{}",
                        self.added_column(name, column, joinable.as_ref())
                    ),
                );
                // A value no DEFAULT may hold (it reads a table) reaches the rows here.
                let given = self.defaults.get(&ColumnKey::new(name, &column.name));
                if let Some(expr) = given.filter(|e| !usable_as_default(self.conn, e)) {
                    draft.copy.push(Copied {
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
            draft.edits.insert(
                end,
                format!("{separator}PRIMARY KEY ({})", quoted_list(key)),
            );
        }
    }

    /// The rebuild of the edited text: checked by SQLite on its own, then tried on head with
    /// the table's indexes and triggers.
    fn finish_rebuild(
        &self,
        current: &introspect::StoredTable,
        table: &CreateTable,
        changes: &[&Change],
        draft: Draft,
    ) -> Result<Rebuild> {
        let name = &current.name;
        let Draft {
            edits,
            mut effects,
            copy,
            converted,
        } = draft;
        let create_sql = edits.apply(&table.sql);
        let had_autoincrement = has_autoincrement(&current.sql);
        let has_it = has_autoincrement(&create_sql);
        if had_autoincrement && !has_it {
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
            sequence: had_autoincrement || has_it,
            create_sql,
            copy,
            rowid,
            objects: Vec::new(),
            notes: vec![format!("Rebuilds {name}: {}", describe(changes))],
            effects,
            converted,
            row_key: row_key(current),
        };
        self.recreate_indexes_and_triggers(&mut rebuild, current)?;
        Ok(rebuild)
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
