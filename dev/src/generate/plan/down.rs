//! Planning the down by difference: brings every `sqlite_schema` entry back to what it was
//! before up, keeping the rows of every table that exists on both sides.

use std::collections::{BTreeMap, BTreeSet};

use crate::generate::diff::{column_after, table_after, Change};
use crate::history::effect::Effect;
use crate::schema::introspect::{self, Database, SchemaEntry};
use crate::schema::types::SqlType;
use crate::sqlite::quote::quote;

use super::defaults::Defaults;
use super::order::{stored_parents_first, stored_parents_first_preferring};
use super::rebuild::{
    carried_rowid, foreign_key_guard, has_word, row_key, Converted, Copied, Rebuild,
};
use super::{drop_tables, Script, Step, LEGACY_OFF, LEGACY_ON};
use crate::schema::model::{Column, ColumnKey};

/// Plans the down: brings every `sqlite_schema` entry back to `before`, from the state up
/// leaves (`after`), keeping the rows of every table that exists on both sides.
pub(super) fn restore(
    before: &Database,
    before_entries: &[SchemaEntry],
    after: &Database,
    after_entries: &[SchemaEntry],
    changes: &[Change],
    defaults: &Defaults,
) -> Script {
    let column_after = |table: &str, column: &str| column_after(changes, table, column).to_owned();
    let now_name = |name: &str| table_after(changes, name).to_owned();

    let mut script = Script::default();
    let mut handled: BTreeSet<String> = BTreeSet::new();

    // What up created goes first: a table renamed away by up may be rebuilt back under a
    // name up gave a new table.
    let originals: BTreeSet<String> = before.tables.iter().map(|t| now_name(&t.name)).collect();
    let created: Vec<&introspect::StoredTable> = after
        .tables
        .iter()
        .filter(|t| !originals.contains(&t.name))
        .collect();
    script.steps.extend(drop_tables(created.iter().copied()));
    handled.extend(created.iter().map(|t| t.name.clone()));
    // Renames back come next, before any table is made again or rebuilt, columns first, the
    // reverse of up's order: each leaves the schema as consistent as up left it, so SQLite,
    // which reads every view and trigger again at each rename, finds them all (a trigger
    // made again from its stored text names the columns by their old names).
    let renames_at = script.steps.len();

    let missing: Vec<&introspect::StoredTable> = before
        .tables
        .iter()
        .filter(|t| after.table(&now_name(&t.name)).is_none())
        .collect();
    let order = stored_parents_first(missing.iter().copied());
    for name in order {
        let table = before.table(name).expect("listed from before");
        let mut sql = format!("{};", table.sql);
        for object in table.indexes.iter().chain(&table.triggers) {
            if let Some(text) = &object.sql {
                sql.push_str(&format!("\n{text};"));
            }
        }
        script.steps.push(Step::statement(sql));
        handled.insert(name.to_owned());
    }

    let mut in_place = Vec::new();
    let mut column_renames = Vec::new();
    let mut table_renames = Vec::new();
    let changed: Vec<&introspect::StoredTable> = before
        .tables
        .iter()
        .filter(|old| {
            let current_name = now_name(&old.name);
            after
                .table(&current_name)
                .is_some_and(|now| now.sql != old.sql || current_name != old.name)
        })
        .collect();
    // Parents first: each rebuild checks its rows' references right away. Round a cycle,
    // a table whose key comes back goes first: the tables referencing it need that key.
    let key_back: BTreeSet<&str> = changed
        .iter()
        .filter(|old| {
            let names = |t: &introspect::StoredTable| -> Vec<String> {
                t.primary_key().iter().map(|c| c.name.clone()).collect()
            };
            after
                .table(&now_name(&old.name))
                .is_some_and(|now| names(now) != names(old))
        })
        .map(|old| old.name.as_str())
        .collect();
    let order = stored_parents_first_preferring(changed.iter().copied(), &key_back);
    for name in order {
        let old = before.table(name).expect("listed from before");
        let current_name = now_name(&old.name);
        let now = after.table(&current_name).expect("listed as changed");
        handled.insert(old.name.clone());
        handled.insert(current_name.clone());
        let mapped: Vec<(String, String)> = old
            .columns
            .iter()
            .map(|c| (c.name.clone(), column_after(&current_name, &c.name)))
            .collect();
        let extra: Vec<&str> = now
            .columns
            .iter()
            .filter(|c| !mapped.iter().any(|(_, after)| after == &c.name))
            .map(|c| c.name.as_str())
            .collect();
        if let Some(steps) = drop_appended_columns(old, now, &extra, changes) {
            in_place.extend(steps);
            // Not rebuilt: its indexes and triggers (which up may have rewritten, renaming
            // what they name in another table) are restored with those of untouched tables.
            handled.remove(&old.name);
            continue;
        }
        // Renames are undone by renaming back, so that a rebuild still needed copies every
        // column under its own name, and nothing reads as dropped.
        let renamed;
        let (now, current_name, mapped) = match RenameBack::plan(old, now, &mapped, after) {
            Some(back) => {
                column_renames.extend(back.columns);
                table_renames.extend(back.table);
                if back.restores {
                    // Not rebuilt: its indexes and triggers that up's renames elsewhere
                    // rewrote are restored with those of untouched tables.
                    handled.remove(&old.name);
                    continue;
                }
                renamed = back.renamed;
                let identity = old
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.name.clone()))
                    .collect::<Vec<_>>();
                (&renamed, old.name.clone(), identity)
            }
            None => (now, current_name, mapped),
        };
        let mut copy = Vec::new();
        let mut converted = Vec::new();
        let mut effects = Vec::new();
        let mut notes = vec![format!("Restores {} exactly as it was.", old.name)];
        for (column, (_, source)) in old.columns.iter().zip(&mapped) {
            if column.generated {
                // SQLite computes it; it takes no inserted value.
                continue;
            }
            if let Some(current) = now.column(source) {
                copy.push(Copied {
                    column: column.name.clone(),
                    from: quote(source),
                });
                if !current
                    .declared_type
                    .eq_ignore_ascii_case(&column.declared_type)
                {
                    let (from, to) = (
                        SqlType::from_declared(&current.declared_type),
                        SqlType::from_declared(&column.declared_type),
                    );
                    if let (Some(from), Some(to)) = (from, to) {
                        if !from.widens_to(to) {
                            effects.push(Effect::ChangesType {
                                table: current_name.clone(),
                                column: source.clone(),
                                from: diesel_type(from, current),
                                to: diesel_type(to, column),
                            });
                        }
                    }
                    converted.push(Converted {
                        label: format!("{current_name}.{source}"),
                        before: quote(source),
                        from: quote(source),
                        declared: column.declared_type.clone(),
                        back: current.declared_type.clone(),
                        ty: to,
                        explicit: false,
                    });
                }
            } else if let Some(expr) = defaults.get(&ColumnKey::new(&current_name, &column.name)) {
                copy.push(Copied {
                    column: column.name.clone(),
                    from: format!("({expr})"),
                });
                notes.push(format!(
                    "Up dropped the values of {}; existing rows get {expr}, as --default said.",
                    column.name
                ));
            } else {
                notes.push(format!(
                    "Up dropped the values of {}; existing rows get its default.",
                    column.name
                ));
            }
        }
        if !extra.is_empty() {
            effects.push(Effect::DropsColumns {
                table: current_name.clone(),
                columns: extra.iter().map(|c| c.to_string()).collect(),
            });
        }
        let objects = old
            .indexes
            .iter()
            .chain(&old.triggers)
            .filter_map(|o| o.sql.clone())
            .collect();
        let rebuild = Rebuild {
            current: current_name,
            name: old.name.clone(),
            create_sql: old.sql.clone(),
            copy,
            rowid: carried_rowid(now, old),
            objects,
            sequence: has_word(&old.sql, "autoincrement") || has_word(&now.sql, "autoincrement"),
            notes,
            effects,
            converted,
            row_key: row_key(now),
            guards: vec![foreign_key_guard(&old.name)],
        };
        script.steps.push(rebuild.into_step());
    }
    // The file turns legacy_alter_table on for its rebuilds; renaming a table back must
    // rewrite other tables' REFERENCES, views and triggers as up's rename did.
    let legacy = script.rebuilds();
    let renames = column_renames
        .into_iter()
        .chain(table_renames.into_iter().map(|mut step| {
            if legacy {
                step.sql = format!("{LEGACY_OFF}{}\n{LEGACY_ON}", step.sql);
            }
            step
        }));
    script.steps.splice(renames_at..renames_at, renames);
    // After every rebuild: a rebuild puts a table's triggers back from their stored text, which
    // may name what another table gets back only with its own rebuild, and SQLite refuses an
    // in-place DROP COLUMN while any trigger or view names something missing.
    script.steps.extend(in_place);

    // Indexes, triggers and views of untouched tables whose text up changed or removed.
    let objects = |entries: &[SchemaEntry]| -> BTreeMap<(String, String), SchemaEntry> {
        entries
            .iter()
            .filter(|e| e.kind != "table" && e.sql.is_some())
            .filter(|e| e.kind == "view" || !handled.contains(&e.table))
            .map(|e| ((e.kind.clone(), e.name.clone()), e.clone()))
            .collect()
    };
    let (old_objects, new_objects) = (objects(before_entries), objects(after_entries));
    // Dropped before anything else is altered, recreated after: a view or trigger up carried
    // to a renamed table would otherwise name a table that no longer exists while down
    // rebuilds it under its old name, and SQLite refuses a later ALTER TABLE (a DROP COLUMN
    // of another table) while the schema holds a view it cannot read.
    let drops: Vec<Step> = new_objects
        .iter()
        .filter(|(key, entry)| old_objects.get(*key).is_none_or(|old| old.sql != entry.sql))
        .map(|(key, _)| {
            Step::statement(format!("DROP {} {};", key.0.to_uppercase(), quote(&key.1)))
        })
        .collect();
    script.steps.splice(0..0, drops);
    for (key, entry) in &old_objects {
        if new_objects.get(key).is_none_or(|new| new.sql != entry.sql) {
            script.steps.push(Step::statement(format!(
                "{};",
                entry.sql.as_deref().unwrap_or_default()
            )));
        }
    }
    script
}

/// The down of columns appended by ADD COLUMN (without REFERENCES, which SQLite cannot drop):
/// DROP COLUMN, when SQLite confirms it restores the stored text exactly (a column that up
/// added by a rebuild sits in the text differently, and is rebuilt back instead).
pub(super) fn drop_appended_columns(
    old: &introspect::StoredTable,
    now: &introspect::StoredTable,
    extra: &[&str],
    changes: &[Change],
) -> Option<Vec<Step>> {
    let only_added = changes.iter().all(|c| match c {
        Change::AddColumn {
            table, joinable, ..
        } => table != &now.name || joinable.is_none(),
        Change::RenameTable { to, .. } => to != &now.name,
        Change::RenameColumn { table, .. }
        | Change::DropColumn { table, .. }
        | Change::AlterColumn { table, .. }
        | Change::AlterPrimaryKey { table, .. }
        | Change::AddJoinable { table, .. }
        | Change::DropJoinable { table, .. } => table != &now.name,
        Change::CreateTable(_)
        | Change::DropTable(_)
        | Change::CreateObject(_)
        | Change::DropObject(_)
        | Change::ReplaceObject { .. } => true,
    });
    let appended = old.columns.len() + extra.len() == now.columns.len()
        && old
            .columns
            .iter()
            .zip(&now.columns)
            .all(|(a, b)| a.name == b.name);
    if !(only_added && appended && !extra.is_empty()) {
        return None;
    }
    let steps: Vec<Step> = extra
        .iter()
        .rev()
        .map(|c| Step {
            effects: vec![Effect::DropsColumn {
                table: now.name.clone(),
                column: c.to_string(),
            }],
            ..Step::statement(format!(
                "ALTER TABLE {} DROP COLUMN {};",
                quote(&now.name),
                quote(c)
            ))
        })
        .collect();
    let sql: Vec<&str> = steps.iter().map(|s| s.sql.as_str()).collect();
    let sql = sql.join("\n");
    let restores = || -> rusqlite::Result<bool> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(&format!("{};\n{sql}", now.sql))?;
        let text: String = conn.query_row(
            "SELECT sql FROM sqlite_schema WHERE name = ?1",
            [&now.name],
            |r| r.get(0),
        )?;
        Ok(text == old.sql)
    };
    restores().unwrap_or(false).then_some(steps)
}

/// The type of a stored column read as `ty`, as schema.rs writes it (`Nullable<Text>`).
fn diesel_type(ty: SqlType, column: &introspect::StoredColumn) -> String {
    Column {
        name: column.name.clone(),
        ty,
        nullable: !column.not_null,
        max_length: None,
    }
    .to_string()
}

/// Renaming back what up renamed: the columns, under the table's current name, then the
/// table.
struct RenameBack {
    columns: Vec<Step>,
    table: Option<Step>,
    /// SQLite confirms the renames alone give back the table's stored text and its indexes'
    /// (column renames do; a table rename leaves the name quoted, so a rebuild follows).
    restores: bool,
    /// The table as it stands after the renames.
    renamed: introspect::StoredTable,
}

impl RenameBack {
    /// `None` when up renamed nothing of `old` (now `now`), or when renaming back would
    /// collide with a name `now` holds otherwise.
    fn plan(
        old: &introspect::StoredTable,
        now: &introspect::StoredTable,
        mapped: &[(String, String)],
        after: &Database,
    ) -> Option<RenameBack> {
        let wanted: Vec<(&str, &str)> = mapped
            .iter()
            .filter(|(name, current)| name != current && now.column(current).is_some())
            .map(|(name, current)| (current.as_str(), name.as_str()))
            .collect();
        let columns = rename_order(now, wanted)?;
        let table = now.name != old.name;
        if (!table && columns.is_empty()) || (table && after.table(&old.name).is_some()) {
            return None;
        }
        let column_steps: Vec<Step> = columns
            .iter()
            .map(|(current, back)| {
                Step::statement(format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    quote(&now.name),
                    quote(current),
                    quote(back)
                ))
            })
            .collect();
        let table_step = table.then(|| {
            Step::statement(format!(
                "ALTER TABLE {} RENAME TO {};",
                quote(&now.name),
                quote(&old.name)
            ))
        });
        let mut renamed = now.clone();
        renamed.name = old.name.clone();
        for column in &mut renamed.columns {
            if let Some((_, back)) = columns.iter().find(|(current, _)| *current == column.name) {
                column.name = (*back).to_owned();
            }
        }
        let restores = !table && restores_text(old, now, &column_steps);
        Some(RenameBack {
            columns: column_steps,
            table: table_step,
            restores,
            renamed,
        })
    }
}

/// The column renames `wanted` (current name, name back) in an order where each name back
/// is free when its rename runs (SQLite compares column names without regard to ASCII case);
/// `None` when no order exists (two columns swapped names).
fn rename_order<'a>(
    now: &introspect::StoredTable,
    mut wanted: Vec<(&'a str, &'a str)>,
) -> Option<Vec<(&'a str, &'a str)>> {
    let mut names: Vec<String> = now
        .columns
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    let mut order = Vec::with_capacity(wanted.len());
    while !wanted.is_empty() {
        let free = wanted
            .iter()
            .position(|(_, back)| !names.contains(&back.to_ascii_lowercase()))?;
        let (current, back) = wanted.remove(free);
        names.retain(|n| *n != current.to_ascii_lowercase());
        names.push(back.to_ascii_lowercase());
        order.push((current, back));
    }
    Some(order)
}

/// Whether `steps` turn `now` (with its indexes) into exactly `old`'s stored text and
/// indexes, asked of SQLite on an in-memory copy of the table.
fn restores_text(
    old: &introspect::StoredTable,
    now: &introspect::StoredTable,
    steps: &[Step],
) -> bool {
    let texts = |conn: &rusqlite::Connection, table: &str| -> rusqlite::Result<Vec<String>> {
        conn.prepare("SELECT sql FROM sqlite_schema WHERE tbl_name = ?1 AND sql IS NOT NULL AND type IN ('table', 'index') ORDER BY type DESC, name")?
            .query_map([table], |r| r.get(0))?
            .collect()
    };
    let tried = || -> rusqlite::Result<bool> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(&now.sql)?;
        for index in now.indexes.iter().filter_map(|i| i.sql.as_ref()) {
            conn.execute_batch(index)?;
        }
        for step in steps {
            conn.execute_batch(&step.sql)?;
        }
        let expected = rusqlite::Connection::open_in_memory()?;
        expected.execute_batch(&old.sql)?;
        for index in old.indexes.iter().filter_map(|i| i.sql.as_ref()) {
            expected.execute_batch(index)?;
        }
        Ok(texts(&conn, &old.name)? == texts(&expected, &old.name)?)
    };
    tried().unwrap_or(false)
}
