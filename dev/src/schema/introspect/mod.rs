//! Reading a SQLite database's schema as SQLite stores it: tables with their stored CREATE
//! text, columns, foreign keys, indexes and triggers.
//!
//! This stage only reports facts; how diesel print-schema would read them is `model`'s job,
//! and the exact stored text is kept for restoring tables byte for byte.

use std::collections::BTreeSet;
use std::sync::Arc;

use regex::Regex;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sqlite::catalog;
use crate::sqlite::db::sqlite_message;

/// Which tables print-schema describes, per `[print_schema] filter`.
#[derive(Debug, Clone, Default)]
pub enum TableFilter {
    /// No filter: every table.
    #[default]
    All,
    /// `only_tables`: the tables whose name one of these matches.
    Only(Vec<Regex>),
    /// `except_tables`: every table but those whose name one of these matches.
    Except(Vec<Regex>),
    /// Several schema sections: the tables any of their filters keeps.
    Any(Vec<TableFilter>),
}

impl TableFilter {
    /// Whether a table with this SQL name is described (diesel matches unanchored).
    pub fn includes(&self, table: &str) -> bool {
        match self {
            TableFilter::All => true,
            TableFilter::Only(patterns) => patterns.iter().any(|re| re.is_match(table)),
            TableFilter::Except(patterns) => !patterns.iter().any(|re| re.is_match(table)),
            TableFilter::Any(filters) => filters.iter().any(|f| f.includes(table)),
        }
    }
}

/// The tables of a database that print-schema describes, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    /// The described tables, sorted by name (byte order, as SQLite's `ORDER BY` sorts
    /// them). Shared: a database read again after a step (`reinspect`) keeps the tables it
    /// did not change without copying them.
    pub tables: Vec<Arc<StoredTable>>,
    /// Every foreign key of every user table, filtered or not: print-schema counts them all
    /// when it decides which joinables to write.
    pub all_foreign_keys: Vec<ForeignKey>,
}

impl Database {
    /// The tables `filter` lets through; foreign keys of the others still count.
    pub fn filtered(&self, filter: &TableFilter) -> Database {
        Database {
            tables: self
                .tables
                .iter()
                .filter(|t| filter.includes(&t.name))
                .cloned()
                .collect(),
            all_foreign_keys: self.all_foreign_keys.clone(),
        }
    }

    /// The described table with this name, if any.
    pub fn table(&self, name: &str) -> Option<&StoredTable> {
        self.tables
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &*self.tables[i])
    }
}

/// A table as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTable {
    /// The table's name, as `sqlite_schema` holds it.
    pub name: String,
    /// The `CREATE TABLE` statement exactly as `sqlite_schema` holds it.
    pub sql: String,
    /// In declaration (cid) order: generated columns too, virtual tables' hidden ones not.
    pub columns: Vec<StoredColumn>,
    /// A virtual table's hidden columns (fts5's own column and `rank`), which print-schema
    /// lists after the others; nothing is ever copied into them.
    pub hidden_columns: Vec<StoredColumn>,
    /// What SQLite says the table is (`PRAGMA table_list`): an ordinary table, a virtual
    /// table, or a virtual table's shadow table.
    pub kind: TableKind,
    /// The table's own foreign keys, one `PRAGMA foreign_key_list` row per column.
    pub foreign_keys: Vec<ForeignKey>,
    /// Its indexes, by name, automatic ones included.
    pub indexes: Vec<SchemaObject>,
    /// Its triggers, by name.
    pub triggers: Vec<SchemaObject>,
    /// Created `WITHOUT ROWID`: an INTEGER PRIMARY KEY is then no rowid alias.
    pub without_rowid: bool,
}

/// What a table is, as `PRAGMA table_list` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableKind {
    /// A table of rows.
    Ordinary,
    /// A virtual table (`CREATE VIRTUAL TABLE ... USING fts5(...)`): its module keeps it.
    Virtual,
    /// A table a virtual table keeps its data in (`notes_fts_data`): only the module writes it.
    Shadow,
}

impl TableKind {
    /// Whether the table belongs to a virtual table's module: no migration may alter,
    /// rebuild, copy or seed it.
    pub fn is_virtual(self) -> bool {
        self != TableKind::Ordinary
    }
}

/// The names SQLite reads a rowid by; print-schema keys a table without a primary key by
/// the first one no column takes.
pub const ROWID_NAMES: [&str; 3] = ["rowid", "oid", "_rowid_"];

impl StoredTable {
    /// Columns of the primary key in declaration (cid) order, as print-schema lists them.
    pub fn primary_key(&self) -> Vec<&StoredColumn> {
        self.columns.iter().filter(|c| c.pk_position > 0).collect()
    }

    /// The column that is the rowid under another name: the single-column `INTEGER`
    /// primary key of a rowid table. Its value is the row's identity.
    pub fn rowid_alias(&self) -> Option<&StoredColumn> {
        match self.primary_key().as_slice() {
            [only] if !self.without_rowid && only.declared_type.eq_ignore_ascii_case("integer") => {
                Some(only)
            }
            _ => None,
        }
    }

    /// The name that reads the rowid, when the table has one that no column aliases: a copy
    /// of the rows must carry it, or they are numbered anew. Without a primary key it is the
    /// row's only identity: print-schema keys the table by it, and so does the application.
    /// `None` for a WITHOUT ROWID table, a table whose INTEGER PRIMARY KEY is the rowid, and
    /// one whose columns take every rowid name.
    pub fn hidden_rowid(&self) -> Option<&'static str> {
        if self.without_rowid || self.rowid_alias().is_some() {
            return None;
        }
        self.rowid_name()
    }

    /// The first of SQLite's rowid names that no column takes; `None` for a WITHOUT ROWID
    /// table.
    pub fn rowid_name(&self) -> Option<&'static str> {
        if self.without_rowid {
            return None;
        }
        ROWID_NAMES.into_iter().find(|name| {
            !self
                .columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(name))
        })
    }

    /// The stored column with this name, if any.
    pub fn column(&self, name: &str) -> Option<&StoredColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column as `PRAGMA table_xinfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredColumn {
    /// The column's name as declared.
    pub name: String,
    /// The type as declared, e.g. `VARCHAR(255)`; empty when none was declared.
    pub declared_type: String,
    /// Whether the column has a `NOT NULL` constraint.
    pub not_null: bool,
    /// The `DEFAULT` expression as written; `None` without one.
    pub default: Option<String>,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk_position: u32,
    /// A generated column, which takes no inserted value.
    pub generated: bool,
}

/// One row of `PRAGMA foreign_key_list`: a single column of a (possibly composite) key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The table that holds the key.
    pub child: String,
    /// Which key of the child this row is part of: a composite key's rows share it.
    pub id: i64,
    /// The child's column.
    pub column: String,
    /// The referenced table.
    pub parent: String,
    /// `None` when the constraint names no column (`REFERENCES parent`).
    pub parent_column: Option<String>,
    /// The `ON UPDATE` action as SQLite spells it, e.g. `NO ACTION` or `CASCADE`.
    pub on_update: String,
    /// The `ON DELETE` action as SQLite spells it, e.g. `NO ACTION` or `CASCADE`.
    pub on_delete: String,
}

/// An index or trigger: its name and stored SQL (`None` for automatic indexes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaObject {
    /// The index's or trigger's name.
    pub name: String,
    /// The stored `CREATE` statement; `None` for an automatic index.
    pub sql: Option<String>,
    /// For an index, what `PRAGMA index_list` and `index_info` say of it; `None` for a
    /// trigger.
    pub index: Option<IndexShape>,
}

/// What an index covers, for marking columns in the diagram and hinting at missing ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexShape {
    /// UNIQUE, declared or from a UNIQUE constraint.
    pub unique: bool,
    /// Made for the table's PRIMARY KEY (`origin = 'pk'`).
    pub primary_key: bool,
    /// Partial: it has a WHERE clause.
    pub partial: bool,
    /// Its first column; `None` when the first term is an expression.
    pub leading_column: Option<String>,
    /// How many terms it has.
    pub columns: i64,
}

impl IndexShape {
    /// Whether it makes `column` alone unique in every row.
    pub fn makes_unique(&self, column: &str) -> bool {
        self.unique
            && !self.primary_key
            && !self.partial
            && self.columns == 1
            && self.leading_column.as_deref() == Some(column)
    }

    /// Whether a lookup by `column` can use it.
    pub fn leads_with(&self, column: &str) -> bool {
        self.leading_column.as_deref() == Some(column)
    }
}

/// Whether a table is the schema's: not SQLite's own (`sqlite%`), not internal (`__%`, which
/// covers `__diesel_schema_migrations`), and not one a platform keeps in the database
/// (`catalog::PLATFORM_TABLES`).
pub(super) fn is_user_table(name: &str) -> bool {
    !name.starts_with("__")
        && !name.to_ascii_lowercase().starts_with("sqlite")
        && !catalog::is_platform_table(name)
}

pub(super) fn sql_error(context: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| {
        Error::input(format!(
            "cannot read the schema ({context}): {}",
            sqlite_message(&e)
        ))
    }
}

/// Reads every table print-schema would describe under `filter`: four queries for the
/// whole database, whatever its size, joining `sqlite_schema` with the pragma functions.
pub fn inspect(conn: &Connection, filter: &TableFilter) -> Result<Database> {
    let (tables, all_foreign_keys) = queries::read(conn, None)?;
    Ok(Database {
        tables: tables
            .into_iter()
            .filter(|t| filter.includes(&t.name))
            .map(Arc::new)
            .collect(),
        all_foreign_keys,
    })
}

/// `previous`, read by `inspect` with every table (`TableFilter::All`), brought up to date:
/// the tables `changed` names (the `tbl_name` of every `sqlite_schema` entry that differs
/// since) are read again, or left out when they are gone; every other table reads as it
/// did, since what the pragmas say of a table follows from its own entries. At hundreds of
/// tables, reading the few a version changed is what keeps `verify` linear.
pub fn reinspect(
    conn: &Connection,
    previous: &Database,
    changed: &BTreeSet<String>,
) -> Result<Database> {
    let names = serde_json::to_string(changed).map_err(|e| Error::internal(e.to_string()))?;
    let (fresh, _) = queries::read(conn, Some(&names))?;
    let mut tables: Vec<Arc<StoredTable>> = previous
        .tables
        .iter()
        .filter(|t| !changed.contains(&t.name))
        .cloned()
        .chain(fresh.into_iter().map(Arc::new))
        .collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let all_foreign_keys = tables
        .iter()
        .flat_map(|t| t.foreign_keys.iter().cloned())
        .collect();
    Ok(Database {
        tables,
        all_foreign_keys,
    })
}

/// The table `name` as `inspect` reads it, reading no other; `None` when there is none.
pub fn inspect_table(conn: &Connection, name: &str) -> Result<Option<StoredTable>> {
    let names = serde_json::to_string(&[name]).map_err(|e| Error::internal(e.to_string()))?;
    let (tables, _) = queries::read(conn, Some(&names))?;
    Ok(tables.into_iter().find(|t| t.name == name))
}

/// The table `create_sql` makes, as SQLite reads it: its columns, key and rowid, for a
/// statement not yet run anywhere (a rebuild's new table). Its REFERENCES may name tables
/// that do not exist; SQLite checks them only when rows arrive.
pub fn shape_of(create_sql: &str) -> Result<StoredTable> {
    let conn = Connection::open_in_memory().map_err(sql_error("a table's shape"))?;
    conn.execute_batch(create_sql)
        .map_err(sql_error("a table's shape"))?;
    inspect(&conn, &TableFilter::All)?
        .tables
        .pop()
        .map(Arc::unwrap_or_clone)
        .ok_or_else(|| Error::internal(format!("`{create_sql}` made no table")))
}

mod queries;
#[cfg(test)]
mod tests;
