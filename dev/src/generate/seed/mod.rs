//! Rows for the proof: a few rows in every table of the disposable database, so a migration
//! is proven on data, not only on an empty schema (where `ADD COLUMN ... NOT NULL` without a
//! default, or with a non-constant one, succeeds and then fails on rows), and snapshots of
//! their values.
//!
//! Values follow each column's declared type and are chosen to find loss (`SqlType::seed`:
//! the ends of each Rust type's range, text that looks like a number, a NUL); they are
//! distinct per row (so keys and UNIQUE hold), NOT NULL is honoured, a hidden rowid has gaps,
//! an AUTOINCREMENT sequence runs ahead of its rows, and foreign keys point at seeded parent
//! rows (checked once every table has its rows, so cycles are seeded too). A CHECK that
//! refuses a value gets one the table's own text names (`checked`). A table that cannot be
//! seeded is reported with SQLite's reason, never skipped silently.

use std::collections::{BTreeMap, HashSet};

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::generate::diff::{head_column, head_table, Change};
use crate::schema::introspect::{Database, StoredTable};
use crate::schema::model::{ColumnKey, Schema};
use crate::schema::types::SqlType;
use crate::sqlite::catalog::{self, Kind};
use crate::sqlite::db::sqlite_message;
use crate::sqlite::quote::quote;

mod checked;
mod snapshot;

pub use snapshot::{snapshot, Row, Rowid, Snapshot};

/// Rows seeded per table.
pub const ROWS: i64 = 3;

/// How far an AUTOINCREMENT table's sequence is left past its seeded rows.
const SEQUENCE_AHEAD: i64 = 7;

/// The rowids of the seeded rows of a table whose rowid is hidden: with gaps.
const ROWIDS: [i64; ROWS as usize] = [10, 20, 35];

/// What seeding did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seeded {
    /// Tables holding seed rows: those already present, then each one seeded, in order.
    pub tables: Vec<String>,
    /// Rows this call inserted: `ROWS` per table it seeded.
    pub rows: usize,
    /// Tables (and triggers) that could not be seeded or set aside.
    pub failed: Vec<Unseeded>,
}

/// A table that could not be seeded, or a trigger that could not be set aside, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unseeded {
    /// Which table or trigger, by its SQL name.
    pub name: String,
    /// SQLite's message; for a trigger, also whether it was not set aside or not put back.
    pub reason: String,
}

/// Seeds every table of `db` but those in `present` (which already hold seed rows, and so
/// count as seeded parents), parents before children.
pub fn seed(conn: &Connection, db: &Database, present: &[String]) -> Seeded {
    seed_with(conn, db, present, &Asked::default())
}

/// What a change asks of the seeds, by head's names.
#[derive(Debug, Default)]
struct Asked {
    /// Columns whose type changes, with their type before and after; and the parent key a
    /// retyped reference names, whose values the reference holds and must keep too.
    retyped: BTreeMap<ColumnKey, (SqlType, SqlType)>,
    /// Columns that come to reference a table up creates, empty: NULL is the only value a
    /// row can keep there, and a NOT NULL one no row can.
    new_parent: BTreeMap<ColumnKey, String>,
}

/// Seeds every table of `db` (head) with values that survive `changes`: a column whose type
/// changes gets values both types keep (`SqlType::seed_across`): a real value of the old
/// type that does not convert fails at upgrade, naming its row, and the proof's other half
/// shows that. A column that comes to reference a table up creates holds NULL, and one that
/// comes to reference a table of `target` keeps only values its rows have (seeds decide what
/// is tested, never what is planned: see `forget_dangling`).
pub fn seed_for(conn: &Connection, db: &Database, changes: &[Change], target: &Schema) -> Seeded {
    let head_key = |table: &str, column: &str| {
        ColumnKey::new(
            head_table(changes, table),
            head_column(changes, table, column),
        )
    };
    let mut asked = Asked::default();
    for change in changes {
        match change {
            Change::AlterColumn { table, from, to } if from.ty != to.ty => {
                let key = head_key(table, &to.name);
                // Bool keeps two values, too few for distinct keys: the reference then
                // names the parent's plain row (`value_for`).
                let distinct = from.ty != SqlType::Bool && to.ty != SqlType::Bool;
                if let Some(parent_key) = referenced_key(db, &key).filter(|_| distinct) {
                    asked.retyped.insert(parent_key, (from.ty, to.ty));
                }
                asked.retyped.insert(key, (from.ty, to.ty));
            }
            Change::AddJoinable { table, joinable } if db.table(&joinable.parent).is_none() => {
                asked
                    .new_parent
                    .insert(head_key(table, &joinable.column), joinable.parent.clone());
            }
            _ => {}
        }
    }
    let seeded = seed_with(conn, db, &[], &asked);
    forget_dangling_for(conn, db, changes, target);
    seeded
}

/// The parent column `column` (of head) references, when it is a foreign key.
fn referenced_key(db: &Database, column: &ColumnKey) -> Option<ColumnKey> {
    let table = db.table(&column.table)?;
    let fk = table
        .foreign_keys
        .iter()
        .find(|fk| fk.column == column.column)?;
    let target = match &fk.parent_column {
        Some(target) => target.clone(),
        None => db.table(&fk.parent)?.primary_key().first()?.name.clone(),
    };
    Some(ColumnKey::new(&fk.parent, &target))
}

impl Asked {
    /// The k-th value of a column: one both types keep when the change retypes it (or a
    /// reference to it), else the type's own seed.
    fn value(&self, key: &ColumnKey, declared: &str, k: i64) -> Value {
        match self.retyped.get(key) {
            Some((from, to)) => from.seed_across(*to, k),
            None => typed_value(declared, k),
        }
    }
}

fn seed_with(conn: &Connection, db: &Database, present: &[String], asked: &Asked) -> Seeded {
    let mut seeded = Seeded {
        tables: present.to_vec(),
        ..Seeded::default()
    };
    let pending = unseeded(db, present);
    // Every table holds its rows already (`verify`, from its second version on): nothing to
    // set aside, seed or check.
    if pending.is_empty() {
        return seeded;
    }
    // Seeds stand for rows a database already holds, not for rows being inserted now: a
    // trigger firing on them would add rows of its own (with NULL where a seed never has
    // one, or with keys later seeds collide with). The disposable database's triggers are
    // set aside while seeding and put back from their stored text.
    let triggers: Vec<(String, String)> = catalog::entries(conn)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.kind == Kind::Trigger)
        .filter_map(|e| Some((e.name, e.sql?)))
        .collect();
    let mut set_aside = Vec::new();
    for (name, sql) in triggers {
        match conn.execute_batch(&format!("DROP TRIGGER {}", quote(&name))) {
            Ok(()) => set_aside.push((name, sql)),
            Err(e) => seeded.failed.push(Unseeded {
                name,
                reason: format!("trigger not set aside: {}", sqlite_message(&e)),
            }),
        }
    }
    // Foreign keys are checked when all tables hold their rows, so tables that reference
    // each other in a cycle are seeded too; rows left referencing a parent that could not
    // be seeded are taken out again, and their table named.
    let deferred = conn.execute_batch("SAVEPOINT dev_seed_all; PRAGMA defer_foreign_keys = ON;");
    seed_tables(conn, db, asked, &mut seeded, pending);
    if deferred.is_ok() {
        let batch: Vec<String> = seeded.tables[present.len()..].to_vec();
        if let Err(e) = unseed_broken(conn, &batch, &mut seeded)
            .and_then(|()| conn.execute_batch("RELEASE dev_seed_all"))
        {
            let _ = conn.execute_batch("ROLLBACK TO dev_seed_all; RELEASE dev_seed_all");
            for name in seeded.tables.drain(present.len()..) {
                seeded.failed.push(Unseeded {
                    name,
                    reason: format!("its rows could not be kept: {}", sqlite_message(&e)),
                });
            }
            seeded.rows = 0;
        }
    }
    for (name, sql) in set_aside {
        if let Err(e) = conn.execute_batch(&sql) {
            seeded.failed.push(Unseeded {
                name,
                reason: format!("trigger not put back: {}", sqlite_message(&e)),
            });
        }
    }
    seeded
}

/// Deletes the seed rows of every table of `batch` that references a row that does not
/// exist (its parent could not be seeded), until no such row is left.
fn unseed_broken(conn: &Connection, batch: &[String], seeded: &mut Seeded) -> rusqlite::Result<()> {
    for _ in 0..=batch.len() {
        let broken: Vec<(String, String)> = conn
            .prepare("SELECT DISTINCT \"table\", parent FROM pragma_foreign_key_check")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let broken: Vec<(String, String)> = broken
            .into_iter()
            .filter(|(table, _)| batch.contains(table) && seeded.tables.contains(table))
            .collect();
        if broken.is_empty() {
            return Ok(());
        }
        for (table, parent) in broken {
            if !seeded.tables.contains(&table) {
                continue;
            }
            conn.execute_batch(&format!("DELETE FROM {}", quote(&table)))?;
            seeded.tables.retain(|t| *t != table);
            seeded.rows -= ROWS as usize;
            seeded.failed.push(Unseeded {
                name: table,
                reason: format!("its rows reference rows of {parent}, which could not be seeded"),
            });
        }
    }
    Ok(())
}

/// The tables of `db` to seed: those not `present` (holding rows already), but no virtual
/// table, whose module keeps it and its shadow tables (rows written there by hand would
/// corrupt its index).
fn unseeded<'a>(db: &'a Database, present: &[String]) -> Vec<&'a StoredTable> {
    let present: HashSet<&str> = present.iter().map(String::as_str).collect();
    db.tables
        .iter()
        .filter(|t| !present.contains(t.name.as_str()) && !t.kind.is_virtual())
        .map(|t| &**t)
        .collect()
}

/// Seeds the `pending` tables of `db`, parents first; `seeded` says which tables hold rows
/// already, and gets those that now do.
fn seed_tables<'a>(
    conn: &Connection,
    db: &'a Database,
    asked: &Asked,
    seeded: &mut Seeded,
    mut pending: Vec<&'a StoredTable>,
) {
    let present: HashSet<String> = seeded.tables.iter().cloned().collect();
    let mut waiting: HashSet<&str> = pending.iter().map(|t| t.name.as_str()).collect();
    // The tables that hold rows or will: a reference to one of them gets a parent's key.
    let mut with_rows: HashSet<&str> = present
        .iter()
        .map(String::as_str)
        .chain(waiting.iter().copied())
        .collect();
    // SQLite makes sqlite_sequence with the first AUTOINCREMENT table, and seeding makes no
    // table: asked once, not once per table.
    let sequences = catalog::has_table(conn, "sqlite_sequence").unwrap_or(true);
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|t| {
                t.foreign_keys
                    .iter()
                    .all(|fk| fk.parent == t.name || !waiting.contains(fk.parent.as_str()))
            })
            .unwrap_or(0);
        let table = pending.remove(ready);
        waiting.remove(table.name.as_str());
        match seed_table(conn, db, table, asked, &with_rows, sequences) {
            Ok(()) => {
                seeded.tables.push(table.name.clone());
                seeded.rows += ROWS as usize;
            }
            Err(reason) => {
                with_rows.remove(table.name.as_str());
                seeded.failed.push(Unseeded {
                    name: table.name.clone(),
                    reason,
                });
            }
        }
    }
}

fn seed_table(
    conn: &Connection,
    db: &Database,
    table: &StoredTable,
    asked: &Asked,
    with_rows: &HashSet<&str>,
    sequences: bool,
) -> Result<(), String> {
    let columns: Vec<&crate::schema::introspect::StoredColumn> =
        table.columns.iter().filter(|c| !c.generated).collect();
    let mut names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    // A hidden rowid is the row's identity: seeded with gaps, as a real table's are after
    // deletes, so a copy that numbers rows anew shows.
    let rowid = table.hidden_rowid();
    names.splice(0..0, rowid.map(str::to_owned));
    let placeholders = vec!["?"; names.len()].join(", ");
    // The columns in the order of the values, and those a CHECK's alternatives keep: the
    // rowid, keys and references.
    let all: Vec<&str> = rowid
        .into_iter()
        .chain(columns.iter().map(|c| c.name.as_str()))
        .collect();
    let fixed: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(i, name)| {
            (rowid.is_some() && *i == 0)
                || table.column(name).is_some_and(|c| c.pk_position > 0)
                || table.foreign_keys.iter().any(|fk| fk.column == **name)
        })
        .map(|(i, _)| i)
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        quote(&table.name),
        names.join(", ")
    );
    conn.execute_batch("SAVEPOINT dev_seed")
        .map_err(|e| sqlite_message(&e))?;
    let outcome = (1..=ROWS).try_for_each(|k| {
        let mut values: Vec<Value> = columns
            .iter()
            .map(|column| value_for(db, table, column, k, asked, with_rows))
            .collect::<Result<_, _>>()?;
        if rowid.is_some() {
            values.insert(0, Value::Integer(ROWIDS[k as usize - 1]));
        }
        let insert = |values: &[Value]| {
            conn.prepare_cached(&sql)
                .and_then(|mut insert| insert.execute(rusqlite::params_from_iter(values)))
                .map(|_| ())
        };
        match insert(&values) {
            Ok(()) => Ok(()),
            // A CHECK that wants other values: those the table's own text names (and a
            // UNIQUE one of them took for an earlier row).
            Err(e) if refused_by_a_constraint_of_values(&e) => {
                let mut alternatives =
                    checked::alternatives(conn, table, &all, &values, &fixed, k).into_iter();
                alternatives
                    .find(|row| insert(row).is_ok())
                    .map(|_| ())
                    .ok_or_else(|| sqlite_message(&e))
            }
            Err(e) => Err(sqlite_message(&e)),
        }
    });
    // An AUTOINCREMENT table's sequence runs ahead of its rows, as one does after deletes:
    // a copy that loses it would give a new row the id of a deleted one.
    let outcome = outcome.and_then(|()| {
        if !sequences {
            return Ok(());
        }
        conn.execute(
            "UPDATE sqlite_sequence SET seq = seq + ?1 WHERE name = ?2",
            rusqlite::params![SEQUENCE_AHEAD, table.name],
        )
        .map(|_| ())
        .map_err(|e| sqlite_message(&e))
    });
    let end = if outcome.is_ok() {
        "RELEASE dev_seed"
    } else {
        "ROLLBACK TO dev_seed; RELEASE dev_seed"
    };
    conn.execute_batch(end).map_err(|e| sqlite_message(&e))?;
    outcome
}

fn value_for(
    db: &Database,
    table: &StoredTable,
    column: &crate::schema::introspect::StoredColumn,
    k: i64,
    asked: &Asked,
    with_rows: &HashSet<&str>,
) -> Result<Value, String> {
    let key = ColumnKey::new(&table.name, &column.name);
    if let Some(parent) = asked.new_parent.get(&key) {
        return if column.not_null {
            Err(format!(
                "no row can keep {key}, which comes to reference {parent}, a table the migration creates empty"
            ))
        } else {
            Ok(Value::Null)
        };
    }
    if let Some(fk) = table
        .foreign_keys
        .iter()
        .find(|fk| fk.column == column.name)
    {
        // A parent seeded later (a cycle) gets the same keys: the check waits for them.
        let parent_seeded = fk.parent == table.name || with_rows.contains(fk.parent.as_str());
        let parent = db.table(&fk.parent);
        let target = fk
            .parent_column
            .clone()
            .or_else(|| parent.and_then(|p| p.primary_key().first().map(|c| c.name.clone())));
        return match (parent_seeded, parent, target) {
            (true, Some(parent), Some(target)) if fk.parent != table.name => {
                let parent_column = parent
                    .column(&target)
                    .ok_or("the referenced column does not exist")?;
                let parent_key = ColumnKey::new(&parent.name, &target);
                // A retyped reference whose parent's keys were not seeded for it (see
                // `seed_for`) names the row with the plain value, which every type keeps.
                let narrowed =
                    asked.retyped.contains_key(&key) && !asked.retyped.contains_key(&parent_key);
                let k = if narrowed { ROWS } else { k };
                Ok(asked.value(&parent_key, &parent_column.declared_type, k))
            }
            // A reference to the table's own key: the row references itself (SQLite checks
            // it when the statement ends), so a seed is never NULL, not even here.
            (_, Some(parent), Some(target)) if fk.parent == table.name && target != column.name => {
                let own = parent
                    .column(&target)
                    .ok_or("the referenced column does not exist")?;
                let own_key = ColumnKey::new(&parent.name, &target);
                Ok(asked.value(&own_key, &own.declared_type, k))
            }
            _ if !column.not_null => Ok(Value::Null),
            (true, ..) => Ok(asked.value(&key, &column.declared_type, k)),
            _ => Err(format!("its parent {} could not be seeded", fk.parent)),
        };
    }
    // The last row holds NULL wherever NULL is allowed: production rows do, and a column
    // made NOT NULL must be proven to backfill them. Not in a table with a UNIQUE index: a
    // backfilled value could then collide with a seeded one, which the planner would read as
    // the data's conflict rather than the seed's.
    let unique_index = table
        .indexes
        .iter()
        .filter_map(|i| i.index.as_ref())
        .any(|i| i.unique && !i.primary_key);
    if k == ROWS && !column.not_null && column.pk_position == 0 && !unique_index {
        return Ok(Value::Null);
    }
    Ok(asked.value(&key, &column.declared_type, k))
}

/// Seed rows of `table` whose `column` names no row of `parent` (by `key`) let go of it:
/// the value becomes NULL where the column takes one, else the row goes. For a reference
/// the column comes to make: seeds stand for rows a real database may hold, and one whose
/// rows break the new reference fails the migration, which the guard says; the rows that
/// remain show what the migration does to rows that satisfy it. A parent not made yet, or a
/// trigger refusing the write, leaves the rows as they are.
fn forget_dangling(conn: &Connection, table: &StoredTable, column: &str, parent: &str, key: &str) {
    let (name, quoted) = (quote(&table.name), quote(column));
    let dangling = format!(
        "{quoted} IS NOT NULL AND {quoted} NOT IN (SELECT {} FROM {})",
        quote(key),
        quote(parent)
    );
    let nullable = table
        .column(column)
        .is_some_and(|c| !c.not_null && !c.generated);
    let sql = if nullable {
        format!("UPDATE {name} SET {quoted} = NULL WHERE {dangling}")
    } else {
        format!("DELETE FROM {name} WHERE {dangling}")
    };
    let _ = conn.execute_batch(&sql);
}

/// `forget_dangling` for every reference `changes` make an existing column of `db` (head)
/// come to make, toward the key `target` gives its parent.
fn forget_dangling_for(conn: &Connection, db: &Database, changes: &[Change], target: &Schema) {
    for change in changes {
        let Change::AddJoinable { table, joinable } = change else {
            continue;
        };
        let key = target
            .tables
            .get(&joinable.parent)
            .and_then(|p| p.primary_key.first());
        if let (Some(stored), Some(key)) = (db.table(head_table(changes, table)), key) {
            let column = head_column(changes, table, &joinable.column);
            let parent = head_table(changes, &joinable.parent);
            forget_dangling(conn, stored, column, parent, key);
        }
    }
}

/// Whether SQLite refused a row for a CHECK constraint, or for a UNIQUE one.
fn refused_by_a_constraint_of_values(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// The k-th seed value of a declared type.
fn typed_value(declared_type: &str, k: i64) -> Value {
    value_of(SqlType::from_declared(declared_type), k)
}

/// The k-th seed value of a type; a declared type print-schema cannot read gets whole
/// numbers, as an integer column does.
fn value_of(ty: Option<SqlType>, k: i64) -> Value {
    ty.map_or(Value::Integer(k), |t| t.seed(k))
}

#[cfg(test)]
mod tests;
