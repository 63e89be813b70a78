//! Planning the down by difference: brings every `sqlite_schema` entry back to what it was
//! before up, keeping the rows of every table that exists on both sides.

use crate::sqlite::catalog::{has_autoincrement, Entry, Kind};
use std::collections::{BTreeMap, BTreeSet};

use crate::generate::diff::{column_after, table_after, Change};
use crate::history::effect::Effect;
use crate::schema::introspect::{self, Database};
use crate::schema::types::SqlType;
use crate::sqlite::quote::quote;

use super::defaults::Defaults;
use super::in_place::restore_nullability;
use super::order::{stored_parents_first, stored_parents_first_preferring};
use super::rebuild::{carried_rowid, row_key, Converted, Copied, Rebuild};
use super::rename_back::RenameBack;
use super::{drop_tables, Script, Step, LEGACY_OFF, LEGACY_ON};
use crate::schema::model::{Column, ColumnKey};

/// Plans the down: brings every `sqlite_schema` entry back to `before`, from the state up
/// leaves (`after`), keeping the rows of every table that exists on both sides; a change of
/// nullability alone in place when `alters_nullability` (`in_place`).
pub(super) fn restore(
    before: &Database,
    before_entries: &[Entry],
    after: &Database,
    after_entries: &[Entry],
    changes: &[Change],
    defaults: &Defaults,
    alters_nullability: bool,
) -> Script {
    let mut down = Down {
        before,
        after,
        changes,
        defaults,
        alters_nullability,
        script: Script::default(),
        handled: BTreeSet::new(),
        in_place: Vec::new(),
        column_renames: Vec::new(),
        table_renames: Vec::new(),
    };
    // What up created goes first: a table renamed away by up may be rebuilt back under a
    // name up gave a new table.
    down.drop_created();
    // Renames back come next, before any table is made again or rebuilt, columns first, the
    // reverse of up's order: each leaves the schema as consistent as up left it, so SQLite,
    // which reads every view and trigger again at each rename, finds them all (a trigger
    // made again from its stored text names the columns by their old names).
    let renames_at = down.script.steps.len();
    down.make_dropped_again();
    down.restore_changed();
    down.place_renames(renames_at);
    // After every rebuild: a rebuild puts a table's triggers back from their stored text, which
    // may name what another table gets back only with its own rebuild, and SQLite refuses an
    // in-place DROP COLUMN while any trigger or view names something missing.
    let in_place = std::mem::take(&mut down.in_place);
    down.script.steps.extend(in_place);
    down.restore_objects(before_entries, after_entries);
    down.script
}

/// The down being planned, and what its steps have handled so far.
struct Down<'a> {
    before: &'a Database,
    after: &'a Database,
    changes: &'a [Change],
    defaults: &'a Defaults,
    /// The oldest SQLite the migrations run on changes nullability in place.
    alters_nullability: bool,
    script: Script,
    /// Tables whose indexes and triggers their own step restores.
    handled: BTreeSet<String>,
    /// DROP COLUMNs of appended columns, which run after every rebuild.
    in_place: Vec<Step>,
    column_renames: Vec<Step>,
    table_renames: Vec<Step>,
}

impl Down<'_> {
    /// The name `name` of before has after up.
    fn now_name(&self, name: &str) -> String {
        table_after(self.changes, name).to_owned()
    }

    /// Drops the tables up created.
    fn drop_created(&mut self) {
        let originals: BTreeSet<String> = self
            .before
            .tables
            .iter()
            .map(|t| self.now_name(&t.name))
            .collect();
        let created: Vec<&introspect::StoredTable> = self
            .after
            .tables
            .iter()
            .filter(|t| !originals.contains(&t.name))
            .map(|t| &**t)
            .collect();
        self.script
            .steps
            .extend(drop_tables(created.iter().copied()));
        self.handled.extend(created.iter().map(|t| t.name.clone()));
    }

    /// Makes the tables up dropped again, parents first, with their indexes and triggers.
    fn make_dropped_again(&mut self) {
        let missing: Vec<&introspect::StoredTable> = self
            .before
            .tables
            .iter()
            .filter(|t| self.after.table(&self.now_name(&t.name)).is_none())
            .map(|t| &**t)
            .collect();
        for name in stored_parents_first(missing.iter().copied()) {
            let table = self.before.table(name).expect("listed from before");
            let mut sql = format!("{};", table.sql);
            for object in table.indexes.iter().chain(&table.triggers) {
                if let Some(text) = &object.sql {
                    sql.push_str(&format!("\n{text};"));
                }
            }
            self.script.steps.push(Step::statement(sql));
            self.handled.insert(name.to_owned());
        }
    }

    /// Brings back every table up changed: by DROP COLUMN, by renames, or by a rebuild.
    fn restore_changed(&mut self) {
        let before = self.before;
        let changed: Vec<&introspect::StoredTable> = before
            .tables
            .iter()
            .filter(|old| {
                let current_name = self.now_name(&old.name);
                self.after
                    .table(&current_name)
                    .is_some_and(|now| now.sql != old.sql || current_name != old.name)
            })
            .map(|t| &**t)
            .collect();
        // Parents first: each rebuild checks its rows' references right away. Round a cycle,
        // a table whose key comes back goes first: the tables referencing it need that key.
        let key_back: BTreeSet<&str> = changed
            .iter()
            .filter(|old| {
                let names = |t: &introspect::StoredTable| -> Vec<String> {
                    t.primary_key().iter().map(|c| c.name.clone()).collect()
                };
                self.after
                    .table(&self.now_name(&old.name))
                    .is_some_and(|now| names(now) != names(old))
            })
            .map(|old| old.name.as_str())
            .collect();
        for name in stored_parents_first_preferring(changed.iter().copied(), &key_back) {
            self.restore_table(before.table(name).expect("listed from before"));
        }
    }

    /// Brings back one table up changed, `old` before up.
    fn restore_table(&mut self, old: &introspect::StoredTable) {
        let after = self.after;
        let current_name = self.now_name(&old.name);
        let now = after.table(&current_name).expect("listed as changed");
        self.handled.insert(old.name.clone());
        self.handled.insert(current_name.clone());
        let mapped: Vec<(String, String)> = old
            .columns
            .iter()
            .map(|c| {
                let now = column_after(self.changes, &current_name, &c.name);
                (c.name.clone(), now.to_owned())
            })
            .collect();
        let extra: Vec<&str> = now
            .columns
            .iter()
            .filter(|c| !mapped.iter().any(|(_, after)| after == &c.name))
            .map(|c| c.name.as_str())
            .collect();
        if let Some(steps) = drop_appended_columns(old, now, &extra, self.changes) {
            self.in_place.extend(steps);
            // Not rebuilt: its indexes and triggers (which up may have rewritten, renaming
            // what they name in another table) are restored with those of untouched tables.
            self.handled.remove(&old.name);
            return;
        }
        if let Some(step) = self
            .alters_nullability
            .then(|| restore_nullability(old, now))
            .flatten()
        {
            self.script.steps.push(step);
            // Not rebuilt: its indexes and triggers are restored with those of untouched
            // tables.
            self.handled.remove(&old.name);
            return;
        }
        // Renames are undone by renaming back, so that a rebuild still needed copies every
        // column under its own name, and nothing reads as dropped.
        let Some(back) = RenameBack::plan(old, now, &mapped, after) else {
            let rebuild = self.rebuild_back(old, now, &current_name, &mapped, &extra);
            self.script.steps.push(rebuild.into_step());
            return;
        };
        self.column_renames.extend(back.columns);
        self.table_renames.extend(back.table);
        if back.restores {
            // Not rebuilt: its indexes and triggers that up's renames elsewhere
            // rewrote are restored with those of untouched tables.
            self.handled.remove(&old.name);
            return;
        }
        let identity: Vec<(String, String)> = old
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect();
        let rebuild = self.rebuild_back(old, &back.renamed, &old.name, &identity, &extra);
        self.script.steps.push(rebuild.into_step());
    }

    /// The rebuild that makes `now` (named `current_name`) `old` again: `mapped` pairs each
    /// old column with the one now holding its values, `extra` are columns down drops.
    fn rebuild_back(
        &self,
        old: &introspect::StoredTable,
        now: &introspect::StoredTable,
        current_name: &str,
        mapped: &[(String, String)],
        extra: &[&str],
    ) -> Rebuild {
        let mut copy = Vec::new();
        let mut converted = Vec::new();
        let mut effects = Vec::new();
        let mut notes = vec![format!("Restores {} exactly as it was.", old.name)];
        for (column, (_, source)) in old.columns.iter().zip(mapped) {
            if column.generated {
                // SQLite computes it; it takes no inserted value.
                continue;
            }
            if let Some(current) = now.column(source) {
                copy.push(Copied {
                    column: column.name.clone(),
                    from: quote(source),
                });
                if column.not_null && !current.not_null {
                    effects.push(Effect::RequiresValues {
                        table: current_name.to_owned(),
                        column: source.clone(),
                    });
                }
                if !current
                    .declared_type
                    .eq_ignore_ascii_case(&column.declared_type)
                {
                    let (type_effect, conversion) =
                        retyped_back(current_name, source, current, column);
                    effects.extend(type_effect);
                    converted.push(conversion);
                }
            } else if let Some(expr) = self
                .defaults
                .get(&ColumnKey::new(current_name, &column.name))
            {
                copy.push(Copied {
                    column: column.name.clone(),
                    from: format!("({expr})"),
                });
                notes.push(format!(
                    "Up dropped the values of {}; existing rows get {expr}, as --default said.",
                    column.name
                ));
            } else {
                let value = match &column.default {
                    Some(default) => format!("its default, {default}"),
                    None => "NULL".to_owned(),
                };
                notes.push(format!(
                    "Up dropped the values of {}; existing rows get {value}.",
                    column.name
                ));
            }
        }
        if !extra.is_empty() {
            effects.push(Effect::DropsColumns {
                table: current_name.to_owned(),
                columns: extra.iter().map(|c| c.to_string()).collect(),
            });
        }
        let objects = old
            .indexes
            .iter()
            .chain(&old.triggers)
            .filter_map(|o| o.sql.clone())
            .collect();
        Rebuild {
            current: current_name.to_owned(),
            name: old.name.clone(),
            create_sql: old.sql.clone(),
            copy,
            rowid: carried_rowid(now, old),
            objects,
            sequence: has_autoincrement(&old.sql) || has_autoincrement(&now.sql),
            notes,
            effects,
            converted,
            row_key: row_key(now),
        }
    }

    /// Puts the renames back at `at`, columns first.
    fn place_renames(&mut self, at: usize) {
        // The file turns legacy_alter_table on for its rebuilds; renaming a table back must
        // rewrite other tables' REFERENCES, views and triggers as up's rename did.
        let legacy = self.script.rebuilds();
        let table_renames = std::mem::take(&mut self.table_renames);
        let renames: Vec<Step> = std::mem::take(&mut self.column_renames)
            .into_iter()
            .chain(table_renames.into_iter().map(|mut step| {
                if legacy {
                    step.sql = format!("{LEGACY_OFF}{}\n{LEGACY_ON}", step.sql);
                }
                step
            }))
            .collect();
        self.script.steps.splice(at..at, renames);
    }

    /// Indexes, triggers and views of untouched tables whose text up changed or removed.
    fn restore_objects(&mut self, before_entries: &[Entry], after_entries: &[Entry]) {
        let objects = |entries: &[Entry]| -> BTreeMap<(Kind, String), Entry> {
            entries
                .iter()
                .filter(|e| e.kind != Kind::Table && e.sql.is_some())
                .filter(|e| e.kind == Kind::View || !self.handled.contains(&e.table))
                .map(|e| ((e.kind, e.name.clone()), e.clone()))
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
            .map(|((kind, name), _)| Step::statement(kind.drop_statement(name)))
            .collect();
        self.script.steps.splice(0..0, drops);
        for (key, entry) in &old_objects {
            if new_objects.get(key).is_none_or(|new| new.sql != entry.sql) {
                self.script.steps.push(Step::statement(format!(
                    "{};",
                    entry.sql.as_deref().unwrap_or_default()
                )));
            }
        }
    }
}

/// What a column retyped by up (now `current`, `column` before) says as it is converted
/// back: the warning when the old type cannot hold every value, and the conversion proven.
fn retyped_back(
    table: &str,
    source: &str,
    current: &introspect::StoredColumn,
    column: &introspect::StoredColumn,
) -> (Option<Effect>, Converted) {
    let (from, to) = (
        SqlType::from_declared(&current.declared_type),
        SqlType::from_declared(&column.declared_type),
    );
    let effect = match (from, to) {
        (Some(from), Some(to)) if !from.widens_to(to) => Some(Effect::ChangesType {
            table: table.to_owned(),
            column: source.to_owned(),
            from: diesel_type(from, current),
            to: diesel_type(to, column),
        }),
        _ => None,
    };
    let conversion = Converted {
        label: format!("{table}.{source}"),
        before: quote(source),
        from: quote(source),
        declared: column.declared_type.clone(),
        back: current.declared_type.clone(),
        ty: to,
        explicit: false,
    };
    (effect, conversion)
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
