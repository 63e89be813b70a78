//! The in-memory copy of a database's schema that a migration file runs on, one statement
//! at a time, with an authorizer that reports what each statement touches; and the
//! following of every table and column of the database through the file, which says what
//! it drops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::Connection;

use crate::sqlite::catalog::Kind;
use crate::sqlite::db;
use crate::sqlite::lexer;

use super::{reaches_outside, Drops, Loss, Unknown};
use crate::sqlite::stored::{Entry, StoredSchema};

/// What the authorizer saw while one statement was prepared.
#[derive(Debug, Default)]
struct Seen {
    /// Tables of `main` an `ALTER TABLE` acts on.
    altered: Vec<String>,
    /// Whether the statement writes a table of `main` (INSERT, UPDATE, CREATE TABLE ... AS).
    writes: bool,
    /// Columns of `main` it reads, as `(table, column)`.
    reads: Vec<(String, String)>,
    /// Whether it can make or remove a table of `main`: CREATE, DROP or ALTER TABLE, or a
    /// write to `sqlite_schema` itself. Other statements leave the list of tables alone, so
    /// it is not read around them.
    changes_tables: bool,
    /// Whether it can change any `sqlite_schema` entry of `main`: the above, or an index,
    /// trigger or view made or dropped. A file without one leaves the schema as it was.
    changes_schema: bool,
}

/// One table of the database, followed through the file.
#[derive(Debug)]
struct Tracked {
    /// Its name in the database.
    name: String,
    /// Its name now, or `None` once it was dropped.
    current: Option<String>,
    /// Every name it had before its current one, oldest first: a table renamed away and
    /// dropped was rebuilt under the latest of them that exists at the end.
    former: Vec<String>,
    columns: Vec<TrackedColumn>,
}

/// One column of a tracked table.
#[derive(Debug)]
struct TrackedColumn {
    name: String,
    /// Its name now, or `None` once it was dropped.
    current: Option<String>,
    /// Whether a statement that writes a table read its values.
    copied: bool,
}

/// The in-memory copy of the schema, with the authorizer installed.
pub struct InMemoryCopy {
    conn: Connection,
    seen: Arc<Mutex<Seen>>,
    /// Its schema entries, sorted, and its tables with their columns, as they stand: the next
    /// file starts from them.
    entries: Vec<Entry>,
    tables: Tables,
}

impl InMemoryCopy {
    /// Makes the copy of `schema`; the error says which entry SQLite would not recreate.
    pub fn new(schema: &StoredSchema) -> Result<InMemoryCopy, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        conn.execute_batch(db::APPLICATION_PRAGMAS)
            .map_err(|e| e.to_string())?;
        for Entry {
            kind, name, sql, ..
        } in schema.entries()
        {
            conn.execute_batch(sql).map_err(|e| {
                format!(
                    "its {kind} {name} cannot be recreated from its stored text: {}",
                    db::sqlite_message(&e)
                )
            })?;
        }
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = Arc::clone(&seen);
        conn.authorizer(Some(move |context: AuthContext<'_>| {
            let mut seen = record.lock().unwrap_or_else(PoisonError::into_inner);
            let main = context.database_name == Some("main");
            match context.action {
                action if reaches_outside(&action) => return Authorization::Deny,
                AuthAction::AlterTable {
                    database_name: "main",
                    table_name,
                } => {
                    seen.altered.push(table_name.to_owned());
                    seen.changes_tables = true;
                }
                AuthAction::DropTable { .. }
                | AuthAction::DropVtable { .. }
                | AuthAction::CreateVtable { .. }
                    if main =>
                {
                    seen.changes_tables = true
                }
                AuthAction::CreateTable { .. } if main => {
                    seen.writes = true;
                    seen.changes_tables = true;
                }
                AuthAction::Insert { table_name }
                | AuthAction::Update { table_name, .. }
                | AuthAction::Delete { table_name }
                    if main =>
                {
                    if is_schema_table(table_name) {
                        seen.changes_tables = true;
                    } else if !matches!(context.action, AuthAction::Delete { .. }) {
                        seen.writes = true;
                    }
                }
                AuthAction::CreateIndex { .. }
                | AuthAction::CreateTrigger { .. }
                | AuthAction::CreateView { .. }
                | AuthAction::DropIndex { .. }
                | AuthAction::DropTrigger { .. }
                | AuthAction::DropView { .. }
                    if main =>
                {
                    seen.changes_schema = true
                }
                AuthAction::Read {
                    table_name,
                    column_name,
                } if main => seen
                    .reads
                    .push((table_name.to_owned(), column_name.to_owned())),
                _ => {}
            }
            seen.changes_schema |= seen.changes_tables;
            Authorization::Allow
        }))
        .map_err(|e| e.to_string())?;
        let entries = schema.sorted();
        let tables = Tables::read(&conn, &entries, None).map_err(|e| e.to_string())?;
        Ok(InMemoryCopy {
            conn,
            seen,
            entries,
            tables,
        })
    }

    /// Whether the copy's schema is exactly `schema` (in any order).
    pub fn is_copy_of(&self, schema: &StoredSchema) -> bool {
        self.entries == schema.sorted()
    }

    /// Runs `sql` statement by statement, following every table of the database, as the
    /// harness runs a file: inside a transaction it commits, unless the file manages its own.
    pub fn run(&mut self, sql: &str, own_transaction: bool) -> Drops {
        let stopped = |offset: Option<usize>, e: rusqlite::Error| Unknown {
            offset,
            reason: db::sqlite_message(&e),
        };
        let mut tracked = self.tracked();
        let mut unknown = None;
        if !own_transaction {
            if let Err(e) = self.conn.execute_batch("BEGIN") {
                unknown = Some(stopped(Some(0), e));
            }
        }
        let mut changed = false;
        if unknown.is_none() {
            for range in lexer::split_statements(sql) {
                match self.step(&mut tracked, &sql[range.clone()]) {
                    Ok(changes) => changed |= changes,
                    Err(e) => {
                        unknown = Some(stopped(Some(range.start), e));
                        break;
                    }
                }
            }
        }
        if unknown.is_none() && !own_transaction && !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("COMMIT") {
                unknown = Some(stopped(Some(sql.len()), e));
            }
        }
        let refreshed = if changed { self.refresh() } else { Ok(()) };
        let losses = match refreshed {
            Ok(()) => losses(&tracked, &self.tables),
            Err(e) => {
                unknown.get_or_insert(stopped(None, e));
                Vec::new()
            }
        };
        let mut copied: Vec<String> = tracked
            .iter()
            .filter(|t| t.columns.iter().any(|c| c.copied))
            .map(|t| t.name.clone())
            .collect();
        copied.sort();
        Drops {
            losses,
            unknown,
            copied,
        }
    }

    /// Reads the schema entries again after a file ran, and the columns of the tables whose
    /// stored text changed (a table's text decides its columns).
    fn refresh(&mut self) -> rusqlite::Result<()> {
        let entries = StoredSchema::read(&self.conn)?.sorted();
        self.tables = Tables::read(&self.conn, &entries, Some((&self.entries, &self.tables)))?;
        self.entries = entries;
        Ok(())
    }

    /// Every table of `main` with its columns, to follow through a file.
    fn tracked(&self) -> Vec<Tracked> {
        self.tables
            .0
            .values()
            .map(|(name, columns)| Tracked {
                name: name.clone(),
                current: Some(name.clone()),
                former: Vec::new(),
                columns: columns
                    .iter()
                    .map(|c| TrackedColumn {
                        name: c.clone(),
                        current: Some(c.clone()),
                        copied: false,
                    })
                    .collect(),
            })
            .collect()
    }

    /// Runs one statement and follows what it did to the tracked tables; says whether it
    /// may have changed the schema.
    fn step(&self, tracked: &mut [Tracked], statement: &str) -> rusqlite::Result<bool> {
        *self.lock() = Seen::default();
        let mut stmt = self.conn.prepare(statement)?;
        let seen = std::mem::take(&mut *self.lock());
        // A lone `;` prepares to no statement at all.
        if stmt.expanded_sql().is_none() {
            return Ok(false);
        }
        let before = if seen.changes_tables {
            Some(Names::read(&self.conn)?)
        } else {
            None
        };
        let mut columns_before = Vec::new();
        for table in &seen.altered {
            columns_before.push((table.clone(), columns(&self.conn, table)?));
        }
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
        drop(rows);
        drop(stmt);
        if seen.writes {
            for (table, column) in &seen.reads {
                if let Some(column) = tracked
                    .iter_mut()
                    .find(|t| is(&t.current, table))
                    .and_then(|t| t.columns.iter_mut().find(|c| is(&c.current, column)))
                {
                    column.copied = true;
                }
            }
        }
        let Some(before) = before else {
            return Ok(seen.changes_schema);
        };
        let after = Names::read(&self.conn)?;
        let created: Vec<&String> = after
            .0
            .iter()
            .filter(|(folded, _)| !before.0.contains_key(*folded))
            .map(|(_, name)| name)
            .collect();
        for (table, old_columns) in &columns_before {
            let Some(altered) = tracked.iter_mut().find(|t| is(&t.current, table)) else {
                continue;
            };
            if after.contains(table) {
                let new_columns = columns(&self.conn, table)?;
                let removed: Vec<&String> = old_columns
                    .iter()
                    .filter(|c| !contains(&new_columns, c))
                    .collect();
                let added: Vec<&String> = new_columns
                    .iter()
                    .filter(|c| !contains(old_columns, c))
                    .collect();
                let renamed_to = match (removed.as_slice(), added.as_slice()) {
                    ([_], [new]) => Some((*new).clone()),
                    _ => None,
                };
                for column in &mut altered.columns {
                    if removed.iter().any(|r| is(&column.current, r)) {
                        column.current = renamed_to.clone();
                    }
                }
            } else if let [new] = created.as_slice() {
                altered.former.extend(altered.current.take());
                altered.current = Some((*new).clone());
            }
        }
        for table in tracked.iter_mut() {
            if table
                .current
                .as_ref()
                .is_some_and(|name| !after.contains(name))
            {
                table.current = None;
            }
        }
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a file dropped, from the tables it was followed through and those `at_end`.
fn losses(tracked: &[Tracked], at_end: &Tables) -> Vec<Loss> {
    let mut losses = Vec::new();
    for table in tracked {
        let rebuilt = table.current.is_none();
        let now = match &table.current {
            Some(current) => current.as_str(),
            None => table
                .former
                .iter()
                .rev()
                .find(|name| at_end.0.contains_key(&fold(name)))
                .unwrap_or(&table.name),
        };
        let kept = at_end
            .0
            .get(&fold(now))
            .map(|(_, columns)| columns)
            .filter(|_| !rebuilt || table.columns.iter().any(|c| c.copied));
        let Some(kept) = kept else {
            losses.push(Loss::Table(table.name.clone()));
            continue;
        };
        for column in &table.columns {
            let exists = column.current.as_ref().is_some_and(|c| contains(kept, c));
            if !exists || (rebuilt && !column.copied) {
                losses.push(Loss::Column(table.name.clone(), column.name.clone()));
            }
        }
    }
    losses.sort();
    losses
}

/// SQLite compares names of tables and columns without regard to ASCII case.
fn contains(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn is(current: &Option<String>, name: &str) -> bool {
    current
        .as_ref()
        .is_some_and(|c| c.eq_ignore_ascii_case(name))
}

/// Whether `table` is `sqlite_schema` (or its older name), whose rows are the schema.
fn is_schema_table(table: &str) -> bool {
    ["sqlite_schema", "sqlite_master"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(table))
}

/// A name as SQLite compares names of tables: without regard to ASCII case.
fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The tables of `main` (SQLite's own bookkeeping tables aside), by folded name.
struct Names(HashMap<String, String>);

impl Names {
    fn read(conn: &Connection) -> rusqlite::Result<Names> {
        let mut stmt = conn.prepare_cached(
            "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|name| name.map(|name| (fold(&name), name)))
            .collect::<rusqlite::Result<_>>()
            .map(Names)
    }

    fn contains(&self, name: &str) -> bool {
        self.0.contains_key(&fold(name))
    }
}

/// The tables of a schema with their stored columns, by folded name.
#[derive(Default)]
struct Tables(HashMap<String, (String, Vec<String>)>);

impl Tables {
    /// The tables among `entries`, with their columns: from `known` (earlier entries and
    /// their tables) for a table whose stored text is unchanged, else read from `conn`.
    fn read(
        conn: &Connection,
        entries: &[Entry],
        known: Option<(&[Entry], &Tables)>,
    ) -> rusqlite::Result<Tables> {
        let mut tables = HashMap::new();
        for entry in entries.iter().filter(|e| e.kind == Kind::Table) {
            let name = &entry.name;
            let unchanged = known
                .filter(|(earlier, _)| earlier.binary_search(entry).is_ok())
                .and_then(|(_, tables)| tables.0.get(&fold(name)));
            let columns = match unchanged {
                Some((_, columns)) => columns.clone(),
                None => columns(conn, name)?,
            };
            tables.insert(fold(name), (name.clone(), columns));
        }
        Ok(Tables(tables))
    }
}

/// The stored columns of a table of `main` (generated columns hold no data of their own).
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_info(?1, 'main')")?;
    let rows = stmt.query_map([table], |r| r.get(0))?;
    rows.collect()
}
