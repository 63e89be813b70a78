//! Reading a table's rows so that a later read can be matched to them row by row, by key:
//! each row with its rowid (when the table has one) and its values exactly as SQLite returns
//! them.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::schema::introspect::StoredTable;
use crate::sqlite::db::sqlite_message;
use crate::sqlite::quote::quote;

/// How a table's rows are identified: the rowid when no column aliases it (print-schema
/// keys such a table by it), and the declared primary key otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rowid {
    /// A WITHOUT ROWID table: its primary key is all there is.
    None,
    /// The rowid is the row's only identity.
    Hidden,
    /// This column (by the snapshot's column names) is the rowid.
    Alias(String),
}

/// One row as read: its rowid, when the table has one, and its values by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row's rowid; `None` in a WITHOUT ROWID table.
    pub rowid: Option<i64>,
    /// Every read column's value, exactly as SQLite returns it.
    pub values: BTreeMap<String, Value>,
}

/// A table's rows, read so that a later read can be matched to them row by row, by key: a
/// comparison of values as a bag would take rows renumbered, or values moved between rows,
/// for rows kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The declared primary key's columns; empty without one.
    pub key: Vec<String>,
    /// What the rowid is.
    pub rowid: Rowid,
    /// The columns read.
    pub columns: Vec<String>,
    /// The rows, in the table's order.
    pub rows: Vec<Row>,
}

impl Snapshot {
    /// The same rows with every column name passed through `rename` (a name it maps to
    /// `None` is left out, and so is a key naming it).
    pub fn renamed(self, rename: impl Fn(&str) -> Option<String>) -> Snapshot {
        let key: Option<Vec<String>> = self.key.iter().map(|c| rename(c)).collect();
        Snapshot {
            key: key.unwrap_or_default(),
            rowid: match self.rowid {
                Rowid::Alias(c) => rename(&c).map_or(Rowid::Hidden, Rowid::Alias),
                other => other,
            },
            columns: self.columns.iter().filter_map(|c| rename(c)).collect(),
            rows: self
                .rows
                .into_iter()
                .map(|row| Row {
                    rowid: row.rowid,
                    values: row
                        .values
                        .into_iter()
                        .filter_map(|(c, v)| rename(&c).map(|c| (c, v)))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Reads every row of `table`'s `columns`, with its rowid when it has one.
pub fn snapshot(
    conn: &Connection,
    table: &StoredTable,
    columns: &[String],
) -> Result<Snapshot, String> {
    let mut list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let rowid = table.rowid_name();
    if let Some(name) = rowid {
        list.insert(0, name.to_owned());
    }
    let sql = format!("SELECT {} FROM {}", list.join(", "), quote(&table.name));
    let mut stmt = conn.prepare(&sql).map_err(|e| sqlite_message(&e))?;
    let offset = usize::from(rowid.is_some());
    let rows: Vec<Row> = stmt
        .query_map([], |row| {
            Ok(Row {
                rowid: rowid.map(|_| row.get(0)).transpose()?,
                values: columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Ok((c.clone(), row.get::<_, Value>(offset + i)?)))
                    .collect::<rusqlite::Result<_>>()?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| sqlite_message(&e))?;
    Ok(Snapshot {
        key: table.primary_key().iter().map(|c| c.name.clone()).collect(),
        rowid: match (table.rowid_name(), table.rowid_alias()) {
            (None, _) => Rowid::None,
            (Some(_), Some(alias)) => Rowid::Alias(alias.name.clone()),
            (Some(_), None) => Rowid::Hidden,
        },
        columns: columns.to_vec(),
        rows,
    })
}
