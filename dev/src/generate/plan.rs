//! Turning changes into SQLite statements for `up.sql` and `down.sql`.
//!
//! Up is planned change by change on a planning copy of the disposable database: each
//! statement runs there as soon as it is planned, so a later statement (a rebuild after a
//! rename) is planned from the schema as it really is at that point. Down is planned by
//! difference: whatever up dropped is recreated from its stored text, whatever it changed is
//! rebuilt to its stored text, whatever it created is dropped. Every statement must keep the
//! rows of a real database, not only pass on an empty one; table rebuilds live in `rebuild`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{Error, Result};
use crate::generate::diff::{head_table, Change};
use crate::generate::rebuild::{self, Rebuild};
use crate::schema::introspect::TableFilter;
use crate::schema::introspect::{self, inspect, schema_entries, Database, SchemaEntry};
use crate::schema::model::{self, Column, Joinable, Schema, Table};
use crate::schema::types::SqlType;
use crate::sqlite::db::sqlite_message;
use crate::sqlite::ddl::{self, Clause, ColumnDef, CreateTable, Edits, Item};
use crate::sqlite::quote::{comment, quote, quoted_list};
use crate::{generate::seed, sqlite::objects};

/// The SQL of one direction of a migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// Statements, each complete and ending in `;`, with comment lines above it.
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

/// Values for rows that a NOT NULL column needs: `TABLE.COLUMN` to a SQL expression.
pub type Defaults = BTreeMap<String, String>;

/// The keys (`TABLE.COLUMN`) of the columns in `changes` that need a value for existing rows:
/// NOT NULL columns added to existing tables or made NOT NULL (for up), and NOT NULL columns
/// without a DEFAULT that up drops (for down, which adds them back). `head` is head as stored.
pub fn needs_default(changes: &[Change], head: &Database) -> Vec<String> {
    let stored_table = |table: &str| head.table(head_table(changes, table));
    changes
        .iter()
        .filter_map(|c| match c {
            Change::AddColumn { table, column, .. } if !column.nullable => {
                Some(format!("{table}.{}", column.name))
            }
            Change::AlterColumn { table, from, to } if from.nullable && !to.nullable => {
                Some(format!("{table}.{}", to.name))
            }
            Change::DropColumn { table, column } => stored_table(table)
                .and_then(|t| t.column(column))
                .filter(|c| c.not_null && c.default.is_none() && !c.generated)
                .map(|_| format!("{table}.{column}")),
            _ => None,
        })
        .collect()
}

/// Plans `changes` (from head, the database at `head` whose tables are `before`, to
/// `target`). `work` is where the planning copy is made; it is the caller's to remove.
pub fn plan(
    changes: &[Change],
    target: &Schema,
    defaults: &Defaults,
    integer_primary_key_is_bigint: bool,
    before: &Database,
    head: &Path,
    work: &Path,
) -> Result<Plan> {
    std::fs::copy(head, work).map_err(|e| Error::io("copy the disposable database to", work, e))?;
    let conn = crate::sqlite::db::open_rusqlite(work)?;
    // Rows, as a real database has them: some statements (ADD COLUMN with a non-constant
    // default, a NOT NULL column without one) succeed on an empty table and fail on rows.
    seed::seed_for(&conn, before, changes);
    let before_entries = schema_entries(&conn)?;
    let planner = Planner {
        conn: &conn,
        target,
        defaults,
        integer_primary_key_is_bigint,
    };
    let broken_at_head = strict(&conn, || objects::broken(&conn))?;
    let up = planner.up(changes, before)?;
    let broken = objects::newly_broken(&broken_at_head, strict(&conn, || objects::broken(&conn))?);
    if !broken.is_empty() {
        let what: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        return Err(objects::refuse(&what.join(", "), &broken));
    }
    let after = inspect(&conn, &TableFilter::All)?;
    let after_entries = schema_entries(&conn)?;
    let down = restore(
        before,
        &before_entries,
        &after,
        &after_entries,
        changes,
        defaults,
    );
    try_down_values(&conn, &down, changes, defaults, before)?;
    Ok(Plan { up, down })
}

/// Runs `down` on the planning copy (which up left with its seeded rows) when it gives
/// dropped columns a value, as the file would run it. Down adds such a column back with one
/// value in every row, the `--default` given or the column's DEFAULT: one that a row cannot
/// take (a UNIQUE index takes no single value in more than one row, a CHECK may refuse it) is
/// a problem of the input, said now with SQLite's reason, not a failed proof.
fn try_down_values(
    conn: &rusqlite::Connection,
    down: &Script,
    changes: &[Change],
    defaults: &Defaults,
    before: &Database,
) -> Result<()> {
    let values: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropColumn { table, column } => {
                let key = format!("{table}.{column}");
                if let Some(expr) = defaults.get(&key) {
                    return Some(format!("`--default {key}={expr}`"));
                }
                let stored = before.table(head_table(changes, table))?.column(column)?;
                let default = stored.default.as_ref().filter(|_| !stored.generated)?;
                Some(format!("the DEFAULT {default} of {key}"))
            }
            _ => None,
        })
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let body = down.statements.join("\n");
    let batch = if down.rebuilds {
        format!("{FOREIGN_KEYS_OFF}BEGIN;\n{body}\nCOMMIT;\n{FOREIGN_KEYS_ON}")
    } else {
        format!("BEGIN;\n{body}\nCOMMIT;")
    };
    let Err(e) = conn.execute_batch(&batch) else {
        return Ok(());
    };
    let _ = conn.execute_batch(&format!("ROLLBACK;\n{FOREIGN_KEYS_ON}"));
    Err(Error::input(format!(
        "down.sql adds back the columns up drops with one value in every row ({}), and that fails on the rows up leaves: {}",
        values.join(", "),
        sqlite_message(&e)
    ))
    .help(format!(
        "{}before dropping the column, make it nullable without a DEFAULT, or drop the UNIQUE index on it (a hand-written migration: `generate --empty`), so that down adds it back as NULL",
        if values.iter().any(|v| v.starts_with("`--default")) {
            "give a `--default` each row accepts; or, "
        } else {
            ""
        }
    )))
}

struct Planner<'a> {
    conn: &'a rusqlite::Connection,
    target: &'a Schema,
    defaults: &'a Defaults,
    integer_primary_key_is_bigint: bool,
}

impl Planner<'_> {
    fn up(&self, changes: &[Change], before: &Database) -> Result<Script> {
        let dropped: BTreeSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropTable(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        refuse_dropping_referenced(before, &dropped, changes)?;
        for key in needs_default(changes, before) {
            if !self.defaults.contains_key(&key) {
                return Err(missing_default(&key, changes));
            }
        }
        let mut script = Script::default();

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
                table_renames.push(script.statements.len());
            }
            self.run(&mut script, sql, false)?;
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
            self.run(&mut script, self.create_table(created[name]), false)?;
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
            let current = inspect_one(self.conn, table)?;
            if self.needs_rebuild(table, &table_changes) {
                let rebuild = self.rebuild_up(&current, &table_changes)?;
                self.run(&mut script, rebuild.sql(), true)?;
            } else {
                for change in &table_changes {
                    let sql = self.alter(change)?;
                    self.run(&mut script, sql, false)?;
                }
            }
        }

        let drop_order = stored_parents_first(dropped.iter().filter_map(|name| before.table(name)));
        for name in drop_order.iter().rev() {
            let sql = format!("{}\nDROP TABLE {};", drop_table_warning(name), quote(name));
            self.run(&mut script, sql, false)?;
        }
        if script.rebuilds {
            // The file turns legacy_alter_table on for its rebuilds (`render`). A table
            // renamed under it would leave views, triggers and other tables' REFERENCES
            // naming the old table, unlike the rename planned here (legacy off); so each
            // rename turns it off around itself, which SQLite allows inside a transaction.
            for index in table_renames {
                let sql = &mut script.statements[index];
                *sql = format!("{LEGACY_OFF}{sql}\n{LEGACY_ON}");
            }
        }
        Ok(script)
    }

    /// Runs a planned statement on the planning copy, then adds it to the script.
    fn run(&self, script: &mut Script, sql: String, rebuilds: bool) -> Result<()> {
        let batch = if rebuilds {
            format!("{FOREIGN_KEYS_OFF}BEGIN;\n{sql}\nCOMMIT;\n{FOREIGN_KEYS_ON}")
        } else {
            sql.clone()
        };
        if let Err(e) = self.conn.execute_batch(&batch) {
            let _ = self
                .conn
                .execute_batch(&format!("ROLLBACK;\n{FOREIGN_KEYS_ON}"));
            return Err(Error::input(format!(
                "the planned SQL does not run on head: {}",
                sqlite_message(&e)
            ))
            .note(sql)
            .help("schema.rs asks for something SQLite refuses here; adjust it, or write this step with `generate --empty`"));
        }
        script.rebuilds |= rebuilds;
        script.statements.push(sql);
        Ok(())
    }

    /// Changes SQLite's ALTER TABLE cannot make, including a DROP COLUMN it refuses (a key,
    /// UNIQUE, indexed, referencing or CHECKed column, one a view or trigger uses),
    /// which is tried on the planning copy and rolled back.
    fn needs_rebuild(&self, table: &str, changes: &[&Change]) -> bool {
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
                let default = self.defaults.get(&format!("{table}.{}", column.name));
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

    /// A new column's definition with the default its existing rows get.
    fn added_column(&self, table: &str, column: &Column, joinable: Option<&Joinable>) -> String {
        let mut def = self.column_definition(column, false);
        if let Some(expr) = self.defaults.get(&format!("{table}.{}", column.name)) {
            def.push_str(&format!(" DEFAULT ({expr})"));
        }
        if let Some(j) = joinable {
            def.push_str(&self.references(j));
        }
        def
    }

    /// An in-place ALTER for a change that needs no rebuild.
    fn alter(&self, change: &Change) -> Result<String> {
        Ok(match change {
            Change::AddColumn {
                table,
                column,
                joinable,
            } => format!(
                "ALTER TABLE {} ADD COLUMN {};",
                quote(table),
                self.added_column(table, column, joinable.as_ref())
            ),
            Change::DropColumn { table, column } => format!(
                "{}\nALTER TABLE {} DROP COLUMN {};",
                comment(&format!(
                    "WARNING: drops column {table}.{column} and its values"
                )),
                quote(table),
                quote(column)
            ),
            other => unreachable!("rebuilt, not altered: {other}"),
        })
    }

    /// Rebuilds `current` with every change of `changes` made to its stored text.
    fn rebuild_up(&self, current: &introspect::Table, changes: &[&Change]) -> Result<Rebuild> {
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
        let mut comments = vec![format!("Rebuilds {name}: {}", describe(changes))];
        let mut guards = Vec::new();
        let mut copy = Vec::new();
        for (index, item) in table.items.iter().enumerate() {
            let range = item.range().clone();
            let text = &table.sql[range.clone()];
            match item {
                Item::Column { name: column, .. } => {
                    if dropped.contains(column.as_str()) {
                        edits.replace(ddl::removal_range(&table, index), "");
                        comments.push(format!(
                            "WARNING: drops column {name}.{column} and its values"
                        ));
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
                    if let Some((from, to)) = altered.get(column.as_str()) {
                        if from.ty != to.ty {
                            let ty = self.declared_type(to, false);
                            if def.declared_type.is_empty() {
                                edits.insert(range.start + def.name.end, format!(" {ty}"));
                            } else {
                                edits.replace(at(&def.declared_type), ty);
                            }
                            if let Some((label, kinds)) = storage_check(to.ty) {
                                guards.push((
                                    format!("{name}.{column}: values that are not {label}"),
                                    format!(
                                        "NOT EXISTS (SELECT 1 FROM {} WHERE typeof({}) NOT IN ({kinds}))",
                                        quote(name),
                                        quote(column)
                                    ),
                                ));
                            }
                            if !widens(from.ty, to.ty) {
                                comments.push(format!(
                                    "WARNING: changes {name}.{column} from {from} to {to}, which can lose values; a value that does not convert fails the migration"
                                ));
                            }
                        }
                        if from.nullable && !to.nullable {
                            edits.insert(range.end, " NOT NULL");
                            let expr = &self.defaults[&format!("{name}.{column}")];
                            source = format!("COALESCE({source}, ({expr}))");
                        } else if !from.nullable && to.nullable {
                            remove(&mut edits, Clause::NotNull);
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
                        copy.push((column.clone(), source));
                    }
                }
                Item::Constraint { .. } => {
                    let words = constraint_words(text);
                    let is_key = words.first().is_some_and(|w| w == "primary");
                    let uses_dropped = mentions_any(text, &dropped);
                    if (is_key && new_key.is_some()) || uses_dropped {
                        edits.replace(ddl::removal_range(&table, index), "");
                        if uses_dropped {
                            comments.push(format!(
                                "WARNING: drops the constraint `{text}`: it uses a dropped column"
                            ));
                        }
                    }
                }
            }
        }
        let separator = ddl::separator(&table);
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
            }
        }
        if let Some(key) = new_key {
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

        guards.push(rebuild::foreign_key_guard(name));
        let mut rebuild = Rebuild {
            current: name.clone(),
            name: name.clone(),
            autoincrement: has_word(&create_sql, "autoincrement"),
            create_sql,
            copy,
            objects: Vec::new(),
            comments,
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
        current: &introspect::Table,
    ) -> Result<()> {
        let guards = std::mem::take(&mut rebuild.guards);
        // Tried as the file runs it: foreign keys off (set before the savepoint, as SQLite
        // ignores the pragma inside a transaction), or dropping the old table of a parent
        // would delete rows its children still reference and fail the trial.
        let trial = format!(
            "{FOREIGN_KEYS_OFF}SAVEPOINT dev_rebuild_trial;\n{}",
            rebuild.sql()
        );
        let tried = self.conn.execute_batch(&trial);
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
                        rebuild
                            .comments
                            .push(format!("WARNING: drops index {} ({reason})", index.name));
                    }
                }
            }
        }
        let undone = self.conn.execute_batch(&format!(
            "ROLLBACK TO dev_rebuild_trial; RELEASE dev_rebuild_trial;\n{FOREIGN_KEYS_ON}"
        ));
        if let Err(e) = tried.and(undone) {
            outcome = Err(Error::input(format!(
                "the rebuild of {} does not run on head: {}",
                rebuild.name,
                sqlite_message(&e)
            ))
            .note(rebuild.sql())
            .help("schema.rs asks for something SQLite refuses here; adjust it, or write this step with `generate --empty`"));
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
}

/// Before a rebuild: foreign keys off (possible only outside a transaction) so no ON DELETE
/// action fires, and legacy_alter_table so renaming the old table away leaves other tables'
/// REFERENCES alone.
pub const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF;\nPRAGMA legacy_alter_table = ON;\n";
/// Around a table rename in a file that rebuilds: renames carry references to the new name.
const LEGACY_OFF: &str = "PRAGMA legacy_alter_table = OFF;\n";
const LEGACY_ON: &str = "PRAGMA legacy_alter_table = ON;";
/// After a rebuild: the connection as the application has it.
pub const FOREIGN_KEYS_ON: &str = "PRAGMA legacy_alter_table = OFF;\nPRAGMA foreign_keys = ON;\n";

/// The error for a column that needs a value and got none.
pub fn missing_default(key: &str, changes: &[Change]) -> Error {
    let (table, column) = key.split_once('.').unwrap_or((key, ""));
    let dropped = changes.iter().any(
        |c| matches!(c, Change::DropColumn { table: t, column: c } if t == table && c == column),
    );
    let message = if dropped {
        format!("column {key} is NOT NULL without a DEFAULT: down.sql adds it back and needs a value for the rows")
    } else {
        format!("column {key} is NOT NULL, but table {table} may already hold rows and they need a value")
    };
    Error::input(message).help(format!(
        "pass `--default {key}=<SQL expression>` (e.g. `--default {key}=0`){}",
        if dropped {
            ""
        } else {
            ", or declare it Nullable<...>"
        }
    ))
}

/// A change list in a few words, for a rebuild's comment.
fn describe(changes: &[&Change]) -> String {
    changes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// For a type whose values Diesel reads from one storage class, a label and the `typeof`
/// results it accepts.
fn storage_check(ty: SqlType) -> Option<(&'static str, &'static str)> {
    match ty {
        SqlType::Bool | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
            Some(("integers", "'integer', 'null'"))
        }
        SqlType::Float | SqlType::Double => Some(("numbers", "'real', 'integer', 'null'")),
        SqlType::Text => Some(("text", "'text', 'null'")),
        _ => None,
    }
}

/// Whether every value of `from` converts to `to` without loss.
fn widens(from: SqlType, to: SqlType) -> bool {
    use SqlType::*;
    matches!(
        (from, to),
        (Bool | SmallInt, SmallInt | Integer | BigInt)
            | (Integer, BigInt)
            | (Float, Double)
            | (_, Text)
    ) || from == to
}

/// The range of `clause` within a definition at `offset`, with the whitespace before it.
fn with_space_before(
    def: &str,
    clause: &std::ops::Range<usize>,
    offset: usize,
) -> std::ops::Range<usize> {
    let start = def[..clause.start].trim_end().len();
    offset + start..offset + clause.end
}

/// The lower-case words a table constraint starts with, past `CONSTRAINT name`.
fn constraint_words(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.first().is_some_and(|w| w == "constraint") {
        words.into_iter().skip(2).collect()
    } else {
        words
    }
}

fn remove_foreign_key_constraint(
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
            edits.replace(ddl::removal_range(table, index), "");
        }
    }
}

/// Whether `sql` uses any of `names` as an identifier.
fn mentions_any(sql: &str, names: &BTreeSet<&str>) -> bool {
    !names.is_empty()
        && ddl::identifiers(sql).any(|word| names.iter().any(|n| n.eq_ignore_ascii_case(&word)))
}

fn has_word(sql: &str, word: &str) -> bool {
    ddl::identifiers(sql).any(|w| w.eq_ignore_ascii_case(word))
}

/// Dropping a table that a kept table references would fire ON DELETE actions (DROP TABLE
/// deletes every row first) or break the reference.
fn refuse_dropping_referenced(
    head_db: &Database,
    dropped: &BTreeSet<&str>,
    changes: &[Change],
) -> Result<()> {
    // `table` is head's name; a DropColumn names the table after its rename.
    let column_dropped = |table: &str, column: &str| {
        let now = changes
            .iter()
            .find_map(|c| match c {
                Change::RenameTable { from, to } if from == table => Some(to.as_str()),
                _ => None,
            })
            .unwrap_or(table);
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

fn drop_table_warning(name: &str) -> String {
    comment(&format!("WARNING: drops table {name} and every row in it"))
}

/// Plans the down: brings every `sqlite_schema` entry back to `before`, from the state up
/// leaves (`after`), keeping the rows of every table that exists on both sides.
fn restore(
    before: &Database,
    before_entries: &[SchemaEntry],
    after: &Database,
    after_entries: &[SchemaEntry],
    changes: &[Change],
    defaults: &Defaults,
) -> Script {
    let renamed_to: BTreeMap<&str, &str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::RenameTable { from, to } => Some((from.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    // (table after up, column before up) -> column after up
    let column_after = |table: &str, column: &str| -> String {
        changes
            .iter()
            .find_map(|c| match c {
                Change::RenameColumn { table: t, from, to } if t == table && from == column => {
                    Some(to.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| column.to_owned())
    };
    let now_name = |name: &str| renamed_to.get(name).copied().unwrap_or(name).to_owned();

    let mut script = Script::default();
    let mut handled: BTreeSet<String> = BTreeSet::new();

    // What up created goes first: a table renamed away by up may be rebuilt back under a
    // name up gave a new table.
    let originals: BTreeSet<String> = before.tables.iter().map(|t| now_name(&t.name)).collect();
    let created: Vec<&introspect::Table> = after
        .tables
        .iter()
        .filter(|t| !originals.contains(&t.name))
        .collect();
    let order = stored_parents_first(created.iter().copied());
    for name in order.iter().rev() {
        script.statements.push(format!(
            "{}\nDROP TABLE {};",
            drop_table_warning(name),
            quote(name)
        ));
        handled.insert((*name).to_owned());
    }

    let missing: Vec<&introspect::Table> = before
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
        script.statements.push(sql);
        handled.insert(name.to_owned());
    }

    let mut in_place = Vec::new();
    let changed: Vec<&introspect::Table> = before
        .tables
        .iter()
        .filter(|old| {
            let current_name = now_name(&old.name);
            after
                .table(&current_name)
                .is_some_and(|now| now.sql != old.sql || current_name != old.name)
        })
        .collect();
    // Parents first: each rebuild checks its rows' references right away.
    let order = stored_parents_first(changed.iter().copied());
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
        if let Some(sql) = drop_appended_columns(old, now, &extra, changes) {
            in_place.push(sql);
            // Not rebuilt: its indexes and triggers (which up may have rewritten, renaming
            // what they name in another table) are restored with those of untouched tables.
            handled.remove(&old.name);
            continue;
        }
        let mut copy = Vec::new();
        let mut comments = vec![format!("Restores {} exactly as it was.", old.name)];
        for (column, (_, source)) in old.columns.iter().zip(&mapped) {
            if column.generated {
                // SQLite computes it; it takes no inserted value.
                continue;
            }
            if now.column(source).is_some() {
                copy.push((column.name.clone(), quote(source)));
            } else if let Some(expr) = defaults.get(&format!("{current_name}.{}", column.name)) {
                copy.push((column.name.clone(), format!("({expr})")));
                comments.push(format!(
                    "Up dropped the values of {}; existing rows get {expr}, as --default said.",
                    column.name
                ));
            } else if !column.generated {
                comments.push(format!(
                    "Up dropped the values of {}; existing rows get its default.",
                    column.name
                ));
            }
        }
        if !extra.is_empty() {
            comments.push(format!(
                "WARNING: drops column{} {} of {} and their values",
                if extra.len() > 1 { "s" } else { "" },
                extra.join(", "),
                current_name
            ));
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
            objects,
            autoincrement: has_word(&old.sql, "autoincrement"),
            comments,
            guards: vec![rebuild::foreign_key_guard(&old.name)],
        };
        script.statements.push(rebuild.sql());
        script.rebuilds = true;
    }
    // After every rebuild: a rebuild puts a table's triggers back from their stored text, which
    // may name what another table gets back only with its own rebuild, and SQLite refuses an
    // in-place DROP COLUMN while any trigger or view names something missing.
    script.statements.extend(in_place);

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
    let drops: Vec<String> = new_objects
        .iter()
        .filter(|(key, entry)| old_objects.get(*key).is_none_or(|old| old.sql != entry.sql))
        .map(|(key, _)| format!("DROP {} {};", key.0.to_uppercase(), quote(&key.1)))
        .collect();
    script.statements.splice(0..0, drops);
    for (key, entry) in &old_objects {
        if new_objects.get(key).is_none_or(|new| new.sql != entry.sql) {
            script
                .statements
                .push(format!("{};", entry.sql.as_deref().unwrap_or_default()));
        }
    }
    script
}

/// The down of columns appended by ADD COLUMN (without REFERENCES, which SQLite cannot drop):
/// DROP COLUMN, when SQLite confirms it restores the stored text exactly (a column that up
/// added by a rebuild sits in the text differently, and is rebuilt back instead).
fn drop_appended_columns(
    old: &introspect::Table,
    now: &introspect::Table,
    extra: &[&str],
    changes: &[Change],
) -> Option<String> {
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
        Change::CreateTable(_) | Change::DropTable(_) => true,
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
    let sql = extra
        .iter()
        .rev()
        .map(|c| {
            format!(
                "{}\nALTER TABLE {} DROP COLUMN {};",
                comment(&format!(
                    "WARNING: drops column {}.{c} and its values",
                    now.name
                )),
                quote(&now.name),
                quote(c)
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
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
    restores().unwrap_or(false).then_some(sql)
}

/// One table of the planning copy, as it is now.
fn inspect_one(conn: &rusqlite::Connection, name: &str) -> Result<introspect::Table> {
    inspect(conn, &TableFilter::All)?
        .tables
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::input(format!("table {name} is not in the database")))
}

/// Runs `f` with SQLite's double-quoted strings off. SQLite reads a double-quoted name it
/// cannot resolve as a string literal: after a column is dropped, `CREATE INDEX ... ("c")`
/// would index the constant 'c' and a view selecting `"c"` would select it, both without an
/// error (and the next ALTER TABLE of any table fails on them). Only the planner's trials
/// and checks run so; the files run as written.
fn strict<T>(conn: &rusqlite::Connection, f: impl FnOnce() -> T) -> T {
    use rusqlite::config::DbConfig::{SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML};
    let set = |on: bool| {
        for option in [SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML] {
            let _ = conn.set_db_config(option, on);
        }
    };
    set(false);
    let outcome = f();
    set(true);
    outcome
}

/// Whether ADD COLUMN takes `DEFAULT (expr)` on a table with rows, asked of SQLite on a
/// one-row temporary table (and rolled back).
fn constant_default(conn: &rusqlite::Connection, expr: &str) -> bool {
    try_in_savepoint(
        conn,
        &format!(
            "CREATE TEMP TABLE _dev_default_probe (x);\nINSERT INTO _dev_default_probe VALUES (1);\nALTER TABLE _dev_default_probe ADD COLUMN probe DEFAULT ({expr});"
        ),
    )
    .is_ok()
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

/// Stored tables ordered parents first, by their foreign keys.
fn stored_parents_first<'a>(tables: impl Iterator<Item = &'a introspect::Table>) -> Vec<&'a str> {
    parents_first(
        tables
            .map(|t| {
                let parents = t.foreign_keys.iter().map(|fk| fk.parent.as_str()).collect();
                (t.name.as_str(), parents)
            })
            .collect(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn widening_conversions_are_not_warned() {
        assert!(widens(SqlType::Integer, SqlType::BigInt));
        assert!(widens(SqlType::Double, SqlType::Text));
        assert!(!widens(SqlType::Text, SqlType::Integer));
        assert!(!widens(SqlType::BigInt, SqlType::Integer));
    }
}
