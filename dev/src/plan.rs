//! Turning changes into SQLite statements for `up.sql` and `down.sql`.
//!
//! Every statement here must survive `../shared/sqlite-and-diesel-facts.md`: a down that
//! restores a table does so from the table's stored CREATE text (fact 8), with foreign keys
//! off outside any transaction (facts 4 to 6), with `legacy_alter_table` on so that renaming
//! the old table away leaves other tables' REFERENCES alone (fact 7), and with a check that
//! turns a foreign-key violation into an error (fact 9).

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::Change;
use crate::error::{Error, Result};
use crate::introspect::{self, Database};
use crate::model::{self, Column, Joinable, Schema, SqlType, Table};
use crate::replay::sqlite_message;

/// The SQL of one direction of a migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// Statements, each a complete SQL statement ending in `;`, with optional comment lines
    /// above it.
    pub statements: Vec<String>,
    /// Whether a statement rebuilds a table, which needs foreign keys off (and so the file
    /// must run outside the harness's transaction).
    pub rebuilds: bool,
}

/// Both directions of a migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub up: Script,
    pub down: Script,
}

impl Plan {
    /// Whether the migration needs `run_in_transaction = false` in metadata.toml.
    pub fn outside_transaction(&self) -> bool {
        self.up.rebuilds || self.down.rebuilds
    }
}

/// Values for NOT NULL columns added to tables that may hold rows: `TABLE.COLUMN` to a SQL
/// expression.
pub type Defaults = BTreeMap<String, String>;

/// Plans `changes` (from `diff(head, target)`). `head_db` is head as stored, and `conn` a
/// connection to head on which feasibility is tried inside savepoints.
pub fn plan(
    changes: &[Change],
    head_db: &Database,
    target: &Schema,
    defaults: &Defaults,
    integer_primary_key_is_bigint: bool,
    conn: &rusqlite::Connection,
) -> Result<Plan> {
    let dropped: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    refuse_dropping_referenced(head_db, &dropped, changes)?;
    refuse_unsupported(changes)?;
    let created: Vec<&Table> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(t) => Some(t),
            _ => None,
        })
        .collect();
    let mut altered: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for change in changes {
        if matches!(change, Change::AddColumn { .. } | Change::DropColumn { .. }) {
            altered.entry(change.table()).or_default().push(change);
        }
    }

    let mut plan = Plan::default();
    let renderer = Renderer {
        target,
        integer_primary_key_is_bigint,
    };

    // Up: create parents before children, then alter, then drop children before parents.
    let created_order = parents_first(
        created
            .iter()
            .map(|t| (t.name.as_str(), parents_of(t)))
            .collect(),
    );
    for name in &created_order {
        let table = created
            .iter()
            .find(|t| t.name == *name)
            .expect("ordered from created");
        plan.up.statements.push(renderer.create_table(table));
    }
    for change in altered.values().flatten() {
        plan.up
            .statements
            .push(renderer.alter(change, defaults, conn)?);
    }
    let dropped_tables: Vec<&introspect::Table> = dropped
        .iter()
        .map(|name| head_db.table(name).expect("dropped tables come from head"))
        .collect();
    let drop_order = parents_first(
        dropped_tables
            .iter()
            .map(|t| (t.name.as_str(), stored_parents(t)))
            .collect(),
    );
    for name in drop_order.iter().rev() {
        plan.up.statements.push(format!(
            "-- WARNING: drops table {name} and every row in it\nDROP TABLE {};",
            quote(name)
        ));
    }

    // Down: recreate dropped tables, restore altered tables, drop created tables.
    for name in &drop_order {
        let table = head_db.table(name).expect("dropped tables come from head");
        plan.down.statements.push(restore_table(table));
    }
    for (table, table_changes) in &altered {
        let stored = head_db.table(table).expect("altered tables come from head");
        if let Some(columns) = simply_added(table_changes) {
            for column in columns.iter().rev() {
                plan.down.statements.push(format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    quote(table),
                    quote(column)
                ));
            }
        } else {
            plan.down
                .statements
                .push(rebuild_as_stored(stored, table_changes));
            plan.down.rebuilds = true;
        }
    }
    for name in created_order.iter().rev() {
        plan.down.statements.push(format!(
            "-- WARNING: drops table {name} and every row in it\nDROP TABLE {};",
            quote(name)
        ));
    }
    Ok(plan)
}

/// Changes SQLite cannot ALTER need a table rebuild, which this version does not write.
fn refuse_unsupported(changes: &[Change]) -> Result<()> {
    let unsupported: Vec<String> = changes
        .iter()
        .filter(|c| {
            matches!(
                c,
                Change::AlterColumn { .. }
                    | Change::AlterPrimaryKey { .. }
                    | Change::AddJoinable { .. }
                    | Change::DropJoinable { .. }
            )
        })
        .map(|c| format!("{c}"))
        .collect();
    if unsupported.is_empty() {
        return Ok(());
    }
    Err(Error::input(
        "these changes need a table rebuild, which `generate` does not write yet".to_string(),
    )
    .note(unsupported.join("\n"))
    .help("revert them in schema.rs, or write the migration by hand: `cargo run -p dev -- generate --empty \"message\"` creates the files"))
}

/// Dropping a table that a kept table references would fire ON DELETE actions or break the
/// reference (fact 4).
fn refuse_dropping_referenced(
    head_db: &Database,
    dropped: &BTreeSet<&str>,
    changes: &[Change],
) -> Result<()> {
    let column_dropped = |table: &str, column: &str| {
        changes.iter().any(|c| {
            matches!(c, Change::DropColumn { table: t, column: col } if t == table && col == column)
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
            .help("remove that reference in the same change (drop the column or the table), or keep the table"));
        }
    }
    Ok(())
}

/// Names of the columns of `changes` when they only add columns without foreign keys:
/// SQLite's DROP COLUMN then restores the stored text exactly.
fn simply_added<'a>(changes: &[&'a Change]) -> Option<Vec<&'a str>> {
    changes
        .iter()
        .map(|c| match c {
            Change::AddColumn {
                column,
                joinable: None,
                ..
            } => Some(column.name.as_str()),
            _ => None,
        })
        .collect()
}

fn parents_of(table: &Table) -> Vec<&str> {
    table.joinables.iter().map(|j| j.parent.as_str()).collect()
}

fn stored_parents(table: &introspect::Table) -> Vec<&str> {
    table
        .foreign_keys
        .iter()
        .map(|fk| fk.parent.as_str())
        .collect()
}

/// Orders tables so each comes after the tables it references among them; ties and cycles
/// fall back to name order, so the output is deterministic.
fn parents_first<'a>(mut pending: BTreeMap<&'a str, Vec<&'a str>>) -> Vec<&'a str> {
    let mut order = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .find(|(name, parents)| {
                parents
                    .iter()
                    .all(|p| p == *name || !pending.contains_key(p))
            })
            .map(|(name, _)| *name)
            .unwrap_or_else(|| *pending.keys().next().expect("not empty"));
        pending.remove(ready);
        order.push(ready);
    }
    order
}

struct Renderer<'a> {
    target: &'a Schema,
    integer_primary_key_is_bigint: bool,
}

impl Renderer<'_> {
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
            let keys: Vec<String> = table.primary_key.iter().map(|k| quote(k)).collect();
            lines.push(format!("    PRIMARY KEY ({})", keys.join(", ")));
        }
        format!(
            "CREATE TABLE {} (\n{}\n);",
            quote(&table.name),
            lines.join(",\n")
        )
    }

    /// `name TYPE [NOT NULL] [PRIMARY KEY]`, typed so print-schema reads it back as declared.
    fn column_definition(&self, column: &Column, is_key: bool) -> String {
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

    fn declared_type(&self, column: &Column, is_key: bool) -> String {
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

    fn references(&self, joinable: &Joinable) -> String {
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

    fn alter(
        &self,
        change: &Change,
        defaults: &Defaults,
        conn: &rusqlite::Connection,
    ) -> Result<String> {
        match change {
            Change::AddColumn {
                table,
                column,
                joinable,
            } => {
                let mut sql = format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    quote(table),
                    self.column_definition(column, false)
                );
                let key = format!("{table}.{}", column.name);
                match defaults.get(&key) {
                    Some(expr) => sql.push_str(&format!(" DEFAULT ({expr})")),
                    None if !column.nullable => {
                        return Err(Error::input(format!(
                            "column {key} is added as NOT NULL, but table {table} may already hold rows and they need a value"
                        ))
                        .help(format!(
                            "pass `--default {key}=<SQL expression>` (e.g. `--default {key}=''`), or declare it `Nullable<{}>`",
                            column.ty.diesel_name()
                        )));
                    }
                    None => {}
                }
                if let Some(j) = joinable {
                    sql.push_str(&self.references(j));
                }
                sql.push(';');
                Ok(sql)
            }
            Change::DropColumn { table, column } => {
                let sql = format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    quote(table),
                    quote(column)
                );
                try_in_savepoint(conn, &sql).map_err(|reason| {
                    Error::input(format!(
                        "SQLite cannot drop column {table}.{column} in place: {reason}"
                    ))
                    .help("such a drop needs a table rebuild, which `generate` does not write yet; remove what uses the column first (an index, a key, a trigger) in its own migration")
                })?;
                Ok(format!(
                    "-- WARNING: drops column {table}.{column} and its values\n{sql}"
                ))
            }
            other => unreachable!("refused before planning: {other}"),
        }
    }
}

/// Runs `sql` on `conn` and rolls it back, returning SQLite's message if it fails.
fn try_in_savepoint(conn: &rusqlite::Connection, sql: &str) -> std::result::Result<(), String> {
    conn.execute_batch("SAVEPOINT dev_try")
        .map_err(|e| sqlite_message(&e))?;
    let outcome = conn.execute_batch(sql).map_err(|e| sqlite_message(&e));
    conn.execute_batch("ROLLBACK TO dev_try; RELEASE dev_try")
        .map_err(|e| sqlite_message(&e))?;
    outcome
}

/// Recreates a dropped table from its stored text, with its indexes and triggers.
fn restore_table(table: &introspect::Table) -> String {
    let mut sql = format!("{};", table.sql);
    for object in table.indexes.iter().chain(&table.triggers) {
        if let Some(text) = &object.sql {
            sql.push_str(&format!("\n{text};"));
        }
    }
    sql
}

/// Brings an altered table back to its stored text exactly: the old table is renamed away
/// (with `legacy_alter_table` on, so other tables' REFERENCES keep naming this table), the
/// stored CREATE runs again, the rows that fit are copied, and indexes and triggers are
/// recreated from their stored text.
fn rebuild_as_stored(table: &introspect::Table, changes: &[&Change]) -> String {
    let added: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AddColumn { column, .. } => Some(column.name.as_str()),
            _ => None,
        })
        .collect();
    let dropped: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropColumn { column, .. } => Some(column.as_str()),
            _ => None,
        })
        .collect();
    let old = format!("_dev_old_{}", table.name);
    let kept: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !dropped.contains(c.name.as_str()))
        .map(|c| quote(&c.name))
        .collect();
    let mut targets = kept.clone();
    let mut sources = kept;
    let mut sql = format!("-- Restores {} exactly as it was.\n", table.name);
    for column in table
        .columns
        .iter()
        .filter(|c| dropped.contains(c.name.as_str()))
    {
        let refill = if column.not_null && column.default.is_none() {
            let zero = zero_value(&column.declared_type);
            targets.push(quote(&column.name));
            sources.push(zero.to_owned());
            format!("{zero} (it is NOT NULL without a default)")
        } else {
            "its default".to_owned()
        };
        sql.push_str(&format!(
            "-- Up dropped the values of {}; existing rows get {refill}.\n",
            column.name
        ));
    }
    if !added.is_empty() {
        sql.push_str(&format!(
            "-- WARNING: drops column{} {} of {} and their values\n",
            if added.len() > 1 { "s" } else { "" },
            added.iter().copied().collect::<Vec<_>>().join(", "),
            table.name
        ));
    }
    sql.push_str(&format!(
        "ALTER TABLE {} RENAME TO {};\n{};\nINSERT INTO {} ({}) SELECT {} FROM {};\n",
        quote(&table.name),
        quote(&old),
        table.sql,
        quote(&table.name),
        targets.join(", "),
        sources.join(", "),
        quote(&old)
    ));
    if table.sql.to_ascii_lowercase().contains("autoincrement") {
        sql.push_str(&format!(
            "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = '{old}') WHERE name = '{name}';\n",
            name = table.name.replace('\'', "''"),
            old = old.replace('\'', "''"),
        ));
    }
    sql.push_str(&format!("DROP TABLE {};", quote(&old)));
    for object in table.indexes.iter().chain(&table.triggers) {
        if let Some(text) = &object.sql {
            sql.push_str(&format!("\n{text};"));
        }
    }
    sql
}

/// A value of the column's affinity for NOT NULL columns whose values up dropped.
fn zero_value(declared_type: &str) -> &'static str {
    match SqlType::from_declared(declared_type) {
        Some(SqlType::Text) => "''",
        Some(SqlType::Binary) => "X''",
        Some(SqlType::Timestamp) => "'1970-01-01 00:00:00'",
        Some(SqlType::Date) => "'1970-01-01'",
        Some(SqlType::Time) => "'00:00:00'",
        _ => "0",
    }
}

/// An identifier as SQL: bare when it is a plain word and not a keyword, else double-quoted.
pub fn quote(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !is_keyword(name) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn is_keyword(name: &str) -> bool {
    let Ok(len) = i32::try_from(name.len()) else {
        return false;
    };
    // SAFETY: SQLite reads exactly `len` bytes of the name.
    unsafe { libsqlite3_sys::sqlite3_keyword_check(name.as_ptr().cast(), len) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("users"), "users");
        assert_eq!(quote("order"), "\"order\"");
        assert_eq!(quote("full name"), "\"full name\"");
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote("1st"), "\"1st\"");
    }

    #[test]
    fn parents_come_first_and_order_is_stable() {
        let order = parents_first(BTreeMap::from([
            ("posts", vec!["users"]),
            ("comments", vec!["posts", "users"]),
            ("users", vec![]),
            ("tags", vec!["tags"]),
        ]));
        assert_eq!(order, ["tags", "users", "posts", "comments"]);
    }
}
