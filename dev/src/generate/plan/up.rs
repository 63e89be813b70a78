//! Planning up, change by change, on the planning copy: renames, new tables (parents
//! first), the changes of existing tables (`in_place` decides how), then drops (children first).
//! Each step runs on the copy as soon as it is planned.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::generate::diff::{head_table, table_after, Change};
use crate::history::effect::Effect;
use crate::schema::introspect::{Database, TableKind};
use crate::schema::model::{self, Column, Joinable, Schema, Table};
use crate::schema::types::SqlType;
use crate::sqlite::db::sqlite_message;
use crate::sqlite::quote::{quote, quoted_list};
use crate::support::invocation;

use super::defaults::{
    constant_default, missing_defaults, needs_default, usable_as_default, Defaults,
};
use super::order::parents_first;
use super::rebuild::{foreign_key_guard, guard};
use super::trial::try_in_savepoint;
use super::{
    drop_tables, with_foreign_keys_off, Script, Step, FOREIGN_KEYS_ON, LEGACY_OFF, LEGACY_ON,
};
use crate::project::oldest_sqlite::OldestSqlite;
use crate::schema::model::ColumnKey;
use crate::schema::objects_sql::Declared;

/// Plans up on the planning copy `conn`, towards `target`.
pub(super) struct Planner<'a> {
    pub(super) conn: &'a rusqlite::Connection,
    pub(super) target: &'a Schema,
    pub(super) defaults: &'a Defaults,
    /// `--convert`: how a retyped column's values become the new type's.
    pub(super) conversions: &'a Defaults,
    pub(super) integer_primary_key_is_bigint: bool,
    /// What `objects.sql` declares, in its order; empty without the file.
    pub(super) declared: &'a [Declared],
    /// The oldest SQLite the migrations run on: which statements they may use.
    pub(super) oldest_sqlite: &'a OldestSqlite,
}

impl Planner<'_> {
    pub(super) fn up(&self, changes: &[Change], before: &Database) -> Result<Script> {
        refuse_changing_virtual(before, changes)?;
        refuse_dropping_referenced(before, changes)?;
        let dropped: BTreeSet<&str> = dropped_tables(changes);
        let missing: Vec<_> = needs_default(changes, before)
            .into_iter()
            .filter(|key| !self.defaults.contains_key(key))
            .collect();
        if !missing.is_empty() {
            return Err(missing_defaults(&missing, changes, before));
        }
        let mut script = Script::default();
        self.drop_objects(&mut script, changes)?;

        let mut table_renames = Vec::new();
        for change in changes {
            let sql = match change {
                Change::RenameTable { from, to } => {
                    format!("ALTER TABLE {} RENAME TO {};", quote(from), quote(to))
                }
                Change::RenameColumn { table, from, to } => format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    quote(table),
                    quote(from),
                    quote(to)
                ),
                _ => continue,
            };
            if matches!(change, Change::RenameTable { .. }) {
                table_renames.push(script.steps.len());
            }
            self.run(&mut script, Step::statement(sql))?;
        }

        let created: BTreeMap<&str, &Table> = changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateTable(t) => Some((t.name.as_str(), t)),
                _ => None,
            })
            .collect();
        let order = parents_first(
            created
                .values()
                .map(|t| {
                    (
                        t.name.as_str(),
                        t.joinables.iter().map(|j| j.parent.as_str()).collect(),
                    )
                })
                .collect(),
        );
        for name in order {
            self.run(
                &mut script,
                Step::statement(self.create_table(created[name])),
            )?;
        }

        let mut altered: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
        for change in changes {
            if matches!(
                change,
                Change::AddColumn { .. }
                    | Change::DropColumn { .. }
                    | Change::AlterColumn { .. }
                    | Change::AlterPrimaryKey { .. }
                    | Change::AddJoinable { .. }
                    | Change::DropJoinable { .. }
            ) {
                altered.entry(change.table()).or_default().push(change);
            }
        }
        for (table, table_changes) in altered {
            self.alter_table(&mut script, table, &table_changes)?;
        }

        for drop in drop_tables(dropped.iter().filter_map(|name| before.table(name))) {
            self.run(&mut script, drop)?;
        }
        self.create_objects(&mut script, changes)?;
        if script.rebuilds() {
            // The file turns legacy_alter_table on for its rebuilds (`render`). A table
            // renamed under it would leave views, triggers and other tables' REFERENCES
            // naming the old table, unlike the rename planned here (legacy off); so each
            // rename turns it off around itself, which SQLite allows inside a transaction.
            for index in table_renames {
                let sql = &mut script.steps[index].sql;
                *sql = format!("{LEGACY_OFF}{sql}\n{LEGACY_ON}");
            }
        }
        Ok(script)
    }

    /// Runs a planned step on the planning copy, then adds it to the script.
    pub(super) fn run(&self, script: &mut Script, step: Step) -> Result<()> {
        let batch = if step.rebuild {
            with_foreign_keys_off(&step.sql)
        } else {
            // In a transaction, as the file runs it: a deferred check waits for COMMIT.
            format!("BEGIN;\n{}\nCOMMIT;", step.sql)
        };
        if let Err(e) = self.conn.execute_batch(&batch) {
            let _ = self
                .conn
                .execute_batch(&format!("ROLLBACK;\n{FOREIGN_KEYS_ON}"));
            return Err(Error::input(format!(
                "the planned SQL does not run on head: {}",
                sqlite_message(&e)
            ))
            .note(step.text())
            .help("schema.rs asks for something SQLite refuses here; adjust it, or write this step with `generate --empty`"));
        }
        script.steps.push(step);
        Ok(())
    }

    /// Runs the reference checks the file ends with (`Script::checked`) on the planning copy,
    /// where up has run: a reference SQLite cannot check at all (a parent key that is no
    /// longer unique, "foreign key mismatch") or one the seeded rows break stops the plan
    /// here, as the step that caused it would.
    pub(super) fn check_references(&self, script: &Script) -> Result<()> {
        if !script.rebuilds() {
            return Ok(());
        }
        for table in &script.checked {
            let check = foreign_key_guard(table);
            if let Err(e) = self.conn.execute_batch(&guard(&check.name, &check.holds)) {
                let _ = self
                    .conn
                    .execute_batch("DROP TABLE IF EXISTS temp._dev_guard;");
                return Err(Error::input(format!(
                    "the planned SQL does not run on head: {}",
                    sqlite_message(&e)
                ))
                .note(script.text())
                .help("schema.rs asks for something SQLite refuses here; adjust it, or write this step with `generate --empty`"));
            }
        }
        Ok(())
    }

    /// Changes SQLite's ALTER TABLE cannot make, including a DROP COLUMN it refuses (a key,
    /// UNIQUE, indexed, referencing or CHECKed column, one a view or trigger uses),
    /// which is tried on the planning copy and rolled back.
    pub(super) fn needs_rebuild(&self, table: &str, changes: &[&Change]) -> bool {
        changes.iter().any(|change| match change {
            Change::AlterColumn { .. }
            | Change::AlterPrimaryKey { .. }
            | Change::AddJoinable { .. }
            | Change::DropJoinable { .. } => true,
            Change::AddColumn {
                column, joinable, ..
            } => {
                // SQLite cannot add a REFERENCES column with a non-NULL default, nor (on a
                // table with rows) one whose default is not constant: tried on the rows, and
                // the default on a row of its own, as the table may have no seeded rows here
                // (a CHECK refused them) and a real one has.
                let default = self.defaults.get(&ColumnKey::new(table, &column.name));
                (joinable.is_some() && !column.nullable)
                    || default.is_some_and(|expr| !constant_default(self.conn, expr))
                    || try_in_savepoint(
                        self.conn,
                        &format!(
                            "ALTER TABLE {} ADD COLUMN {};",
                            quote(table),
                            self.added_column(table, column, joinable.as_ref())
                        ),
                    )
                    .is_err()
            }
            Change::DropColumn { column, .. } => try_in_savepoint(
                self.conn,
                &format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    quote(table),
                    quote(column)
                ),
            )
            .is_err(),
            _ => false,
        })
    }

    fn create_table(&self, table: &Table) -> String {
        let implicit_rowid =
            matches!(table.primary_key.as_slice(), [pk] if model::is_rowid_alias(pk));
        let single_key = match table.primary_key.as_slice() {
            [pk] if !implicit_rowid => Some(pk.as_str()),
            _ => None,
        };
        let mut lines: Vec<String> = table
            .columns
            .iter()
            .filter(|c| !(implicit_rowid && table.primary_key[0] == c.name))
            .map(|column| {
                let is_key = single_key == Some(column.name.as_str());
                let mut line = format!("    {}", self.column_definition(column, is_key));
                if let Some(j) = table.joinables.iter().find(|j| j.column == column.name) {
                    line.push_str(&self.references(j));
                }
                line
            })
            .collect();
        if table.primary_key.len() > 1 {
            lines.push(format!(
                "    PRIMARY KEY ({})",
                quoted_list(&table.primary_key)
            ));
        }
        format!(
            "CREATE TABLE {} (\n{}\n);",
            quote(&table.name),
            lines.join(",\n")
        )
    }

    /// `name TYPE [NOT NULL] [PRIMARY KEY]`, typed so print-schema reads it back as declared.
    pub(super) fn column_definition(&self, column: &Column, is_key: bool) -> String {
        let mut def = format!(
            "{} {}",
            quote(&column.name),
            self.declared_type(column, is_key)
        );
        if !column.nullable {
            def.push_str(" NOT NULL");
        }
        if is_key {
            def.push_str(" PRIMARY KEY");
        }
        def
    }

    pub(super) fn declared_type(&self, column: &Column, is_key: bool) -> String {
        match (column.ty, column.max_length) {
            // With the BigInt setting, print-schema reads a rowid alias as BigInt: keep the
            // key a rowid alias, which needs the exact type INTEGER.
            (SqlType::BigInt, _) if is_key && self.integer_primary_key_is_bigint => {
                "INTEGER".to_owned()
            }
            (SqlType::Text, Some(n)) => format!("VARCHAR({n})"),
            (ty, _) => ty.sql().to_owned(),
        }
    }

    pub(super) fn references(&self, joinable: &Joinable) -> String {
        let parent_key = self
            .target
            .tables
            .get(&joinable.parent)
            .and_then(|p| p.primary_key.first())
            .map_or_else(|| "id".to_owned(), |k| k.clone());
        format!(
            " REFERENCES {} ({})",
            quote(&joinable.parent),
            quote(&parent_key)
        )
    }

    /// A new column's definition with the default its existing rows get.
    pub(super) fn added_column(
        &self,
        table: &str,
        column: &Column,
        joinable: Option<&Joinable>,
    ) -> String {
        let mut def = self.column_definition(column, false);
        if let Some(expr) = self.defaults.get(&ColumnKey::new(table, &column.name)) {
            if usable_as_default(self.conn, expr) {
                def.push_str(&format!(" DEFAULT ({expr})"));
            }
        }
        if let Some(j) = joinable {
            def.push_str(&self.references(j));
        }
        def
    }

    /// An in-place ALTER for a change that needs no rebuild.
    pub(super) fn alter(&self, change: &Change) -> Step {
        match change {
            Change::AddColumn {
                table,
                column,
                joinable,
            } => Step::statement(format!(
                "ALTER TABLE {} ADD COLUMN {};",
                quote(table),
                self.added_column(table, column, joinable.as_ref())
            )),
            Change::DropColumn { table, column } => Step {
                effects: vec![Effect::DropsColumn {
                    table: table.clone(),
                    column: column.clone(),
                }],
                ..Step::statement(format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    quote(table),
                    quote(column)
                ))
            },
            other => unreachable!("rebuilt, not altered: {other}"),
        }
    }
}

/// The tables `changes` drop, by head's name.
fn dropped_tables(changes: &[Change]) -> BTreeSet<&str> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// A virtual table (and the shadow tables its module keeps its data in) cannot be altered,
/// and a rebuild or a drop and create would empty its index: every change schema.rs asks of
/// one is refused, with what to write by hand instead.
pub fn refuse_changing_virtual(head_db: &Database, changes: &[Change]) -> Result<()> {
    for change in changes.iter().filter(|c| !c.is_object()) {
        let name = match change {
            Change::RenameTable { from, .. } => from.as_str(),
            other => head_table(changes, other.table()),
        };
        let Some(table) = head_db.table(name).filter(|t| t.kind.is_virtual()) else {
            continue;
        };
        let what = match table.kind {
            TableKind::Shadow => format!(
                "table {name} is where a virtual table keeps its data: only SQLite's module writes it"
            ),
            _ => format!(
                "table {name} is a virtual table: SQLite cannot alter one, and a rebuild would empty its index"
            ),
        };
        return Err(Error::input(format!("{what}; schema.rs asks to {change}"))
            .note(format!("as stored: {}", table.sql))
            .help(format!(
                "keep schema.rs as print-schema reads the database, or write the change by hand: `{}` with the DROP TABLE and CREATE VIRTUAL TABLE (down.sql the reverse), then run `diesel print-schema`",
                invocation::command("generate --empty \"...\"")
            )));
    }
    Ok(())
}

/// Dropping a table that a kept table references would fire ON DELETE actions (DROP TABLE
/// deletes every row first) or break the reference. `generate` asks this before it asks for
/// any `--default`: no value makes such a drop possible.
pub fn refuse_dropping_referenced(head_db: &Database, changes: &[Change]) -> Result<()> {
    let dropped = dropped_tables(changes);
    // `table` is head's name; a DropColumn names the table after its rename.
    let column_dropped = |table: &str, column: &str| {
        let now = table_after(changes, table);
        changes.iter().any(|c| {
            matches!(c, Change::DropColumn { table: t, column: col } if t == now && col == column)
        })
    };
    for fk in &head_db.all_foreign_keys {
        if dropped.contains(fk.parent.as_str())
            && !dropped.contains(fk.child.as_str())
            && !column_dropped(&fk.child, &fk.column)
        {
            return Err(Error::input(format!(
                "table {} cannot be dropped: {}.{} references it",
                fk.parent, fk.child, fk.column
            ))
            .help(format!(
                "drop {}.{} (or its table) in the same migration; or first remove its joinable in a migration of its own, then drop {}: a down that recreates the table empty could not restore that reference",
                fk.child, fk.column, fk.parent
            )));
        }
        let not_null = head_db
            .table(&fk.child)
            .and_then(|t| t.column(&fk.column))
            .is_some_and(|c| c.not_null);
        if dropped.contains(fk.parent.as_str())
            && !dropped.contains(fk.child.as_str())
            && column_dropped(&fk.child, &fk.column)
            && not_null
        {
            // Down recreates the parent empty and adds the column back to the child's rows:
            // NULL references nothing, and NOT NULL leaves no value that references a row.
            return Err(Error::input(format!(
                "table {} cannot be dropped with {}.{}: the column is NOT NULL, and down.sql, which recreates {} empty, could not give the rows of {} a value that references it",
                fk.parent, fk.child, fk.column, fk.parent, fk.child
            ))
            .help(format!(
                "make {}.{} nullable in a migration of its own first (down then adds it back as NULL), or drop table {} too",
                fk.child, fk.column, fk.child
            )));
        }
    }
    Ok(())
}
