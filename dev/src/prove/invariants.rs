//! What must hold of a database after every step of a proof: SQLite's own integrity and
//! foreign-key checks, every kept value where it was, and the stored schema entry by entry.
//! `prove` checks a generated migration with them, `verify` every version of the history.

use crate::sqlite::catalog::Entry;
use std::collections::{BTreeMap, BTreeSet};

use crate::generate::seed::{self, Row, Rowid, Snapshot};
use crate::schema::introspect::Database;
use crate::schema::model::ColumnKey;
use crate::sqlite::values;

/// Snapshots of the seeded tables, keyed by head's table and column names; `locate` says
/// where each head column is read now (`None`: not at all), and `now` is the database as it
/// is.
pub fn snapshots(
    conn: &rusqlite::Connection,
    head: &Database,
    now: &Database,
    seeded: &[String],
    locate: impl Fn(&str, &str) -> Option<ColumnKey>,
) -> std::result::Result<BTreeMap<String, Snapshot>, String> {
    let mut all = BTreeMap::new();
    let seeded: BTreeSet<&str> = seeded.iter().map(String::as_str).collect();
    for table in head
        .tables
        .iter()
        .filter(|t| seeded.contains(t.name.as_str()))
    {
        // A generated column holds no data of its own: SQLite computes it, and a new type
        // may well give the same expression another representation.
        let located: Vec<(&str, ColumnKey)> = table
            .columns
            .iter()
            .filter(|c| !c.generated)
            .filter_map(|c| locate(&table.name, &c.name).map(|now| (c.name.as_str(), now)))
            .collect();
        let Some((_, first)) = located.first() else {
            continue;
        };
        let Some(stored) = now.table(&first.table) else {
            continue;
        };
        let now_columns: Vec<String> = located.iter().map(|(_, now)| now.column.clone()).collect();
        let head_name = |now_column: &str| {
            located
                .iter()
                .find(|(_, now)| now.column == now_column)
                .map(|(head, _)| head.to_string())
        };
        let read = seed::snapshot(conn, stored, &now_columns)?.renamed(head_name);
        all.insert(table.name.clone(), read);
    }
    Ok(all)
}

/// Every row of `expected` must still be in `actual`, found by its key, with every column
/// `actual` still reads holding the same value (by SQLite's rule: `sqlite::values`). Rows
/// added are not a loss (a version may insert reference data).
pub fn compare_values(
    conn: &rusqlite::Connection,
    expected: &BTreeMap<String, Snapshot>,
    actual: &BTreeMap<String, Snapshot>,
    step: &str,
) -> std::result::Result<(), String> {
    matched(conn, expected, actual, step, &BTreeMap::new(), false)
}

/// `compare_values` for a down: what comes back must be exactly what was there, the same
/// value in the same storage class (5 and 5.0 are kept by a type change, and not by its
/// down, which must give back 5), with the rows of the tables in `rekeyed` matched by the
/// columns given there: a table the migration took to another key is keyed by that key
/// from then on (its rowids may be that key's values since).
pub fn compare_restored(
    conn: &rusqlite::Connection,
    expected: &BTreeMap<String, Snapshot>,
    actual: &BTreeMap<String, Snapshot>,
    step: &str,
    rekeyed: &BTreeMap<String, Vec<String>>,
) -> std::result::Result<(), String> {
    matched(conn, expected, actual, step, rekeyed, true)
}

fn matched(
    conn: &rusqlite::Connection,
    expected: &BTreeMap<String, Snapshot>,
    actual: &BTreeMap<String, Snapshot>,
    step: &str,
    rekeyed: &BTreeMap<String, Vec<String>>,
    exact: bool,
) -> std::result::Result<(), String> {
    for (table, now) in actual {
        let Some(before) = expected.get(table) else {
            continue;
        };
        let key = RowKey::common(before, now, rekeyed.get(table)).ok_or_else(|| {
            format!(
                "after {step}, the rows of {table} cannot be matched: the table has no key it kept"
            )
        })?;
        let found: BTreeMap<String, &Row> = now.rows.iter().map(|r| (key.of(r), r)).collect();
        for row in &before.rows {
            let id = key.of(row);
            let after = match found.get(&id) {
                Some(after) => Some(*after),
                // A key column a type change converts holds its value as the new type (the
                // Bool 1 is the Text '1'): the row is the one whose key SQLite says was kept.
                None if !exact => key.kept_in(conn, row, &now.rows)?,
                None => None,
            };
            let Some(after) = after else {
                return Err(format!(
                    "after {step}, {table} lost the row {} (it has {} rows, it had {})",
                    key.describe(&id),
                    now.rows.len(),
                    before.rows.len()
                ));
            };
            for (column, value) in &row.values {
                let Some(kept) = after.values.get(column) else {
                    continue;
                };
                let same = if exact {
                    values::same(value, kept)
                } else {
                    values::is_kept(conn, value, kept).map_err(|e| e.to_string())?
                };
                if !same {
                    return Err(format!(
                        "after {step}, {table}.{column} of the row {} changed: {} became {}",
                        key.describe(&id),
                        values::shown(value),
                        values::shown(kept)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What identifies a row on both sides of a comparison.
enum RowKey {
    /// The rowid.
    Rowid,
    /// These columns, a declared primary key present on both sides.
    Columns(Vec<String>),
}

impl RowKey {
    /// The key both snapshots identify rows by, as the application does: the primary key
    /// declared before, when both sides read its columns; else `rekeyed`, the key the
    /// migration gave the table; for a table without one, the rowid while it stays hidden,
    /// else the key declared now; else the rowid, when both sides have one.
    fn common(before: &Snapshot, now: &Snapshot, rekeyed: Option<&Vec<String>>) -> Option<RowKey> {
        let readable = |key: &[String]| {
            !key.is_empty()
                && key
                    .iter()
                    .all(|c| before.columns.contains(c) && now.columns.contains(c))
        };
        let both_have_rowids = before.rowid != Rowid::None && now.rowid != Rowid::None;
        if readable(&before.key) {
            Some(RowKey::Columns(before.key.clone()))
        } else if let Some(key) = rekeyed.filter(|key| readable(key)) {
            Some(RowKey::Columns(key.clone()))
        } else if before.key.is_empty() && before.rowid == now.rowid && both_have_rowids {
            Some(RowKey::Rowid)
        } else if readable(&now.key) {
            Some(RowKey::Columns(now.key.clone()))
        } else if both_have_rowids {
            Some(RowKey::Rowid)
        } else {
            None
        }
    }

    /// The one row of `rows` whose key columns each keep `row`'s value by SQLite's rule
    /// (`values::is_kept`); `None` when no row, or more than one, does.
    fn kept_in<'r>(
        &self,
        conn: &rusqlite::Connection,
        row: &Row,
        rows: &'r [Row],
    ) -> std::result::Result<Option<&'r Row>, String> {
        let RowKey::Columns(columns) = self else {
            return Ok(None);
        };
        let mut matches = Vec::new();
        for candidate in rows {
            let mut kept = true;
            for column in columns {
                let (Some(before), Some(after)) =
                    (row.values.get(column), candidate.values.get(column))
                else {
                    kept = false;
                    break;
                };
                if !values::is_kept(conn, before, after).map_err(|e| e.to_string())? {
                    kept = false;
                    break;
                }
            }
            if kept {
                matches.push(candidate);
            }
        }
        Ok(match matches.as_slice() {
            [only] => Some(*only),
            _ => None,
        })
    }

    /// The row's key as SQL values, comparable as text.
    fn of(&self, row: &Row) -> String {
        match self {
            RowKey::Rowid => row.rowid.map_or("NULL".into(), |r| r.to_string()),
            RowKey::Columns(columns) => columns
                .iter()
                .map(|c| row.values.get(c).map_or("NULL".into(), values::shown))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// `rowid = 10`, `id = 2`, `(a, b) = (1, 'x')`.
    fn describe(&self, id: &str) -> String {
        match self {
            RowKey::Rowid => format!("rowid = {id}"),
            RowKey::Columns(columns) if columns.len() == 1 => format!("{} = {id}", columns[0]),
            RowKey::Columns(columns) => format!("({}) = ({id})", columns.join(", ")),
        }
    }
}

/// `PRAGMA integrity_check` must say ok and `PRAGMA foreign_key_check` report nothing.
///
///
/// With a `scope`, only the integrity of the tables it names, and the references of those
/// and of the tables that reference one of them: what a step that touched only them can
/// have broken.
pub fn check_integrity(
    conn: &rusqlite::Connection,
    scope: Option<Scope<'_>>,
) -> std::result::Result<(), String> {
    let Some(Scope { tables, schema }) = scope else {
        return check_tables(conn, None);
    };
    let named = |name: &str| tables.contains(&name.to_ascii_lowercase());
    for table in schema.tables.iter().filter(|t| !t.kind.is_virtual()) {
        let inside = named(&table.name);
        if inside || table.foreign_keys.iter().any(|fk| named(&fk.parent)) {
            check_tables(conn, Some((&table.name, inside)))?;
        }
    }
    Ok(())
}

/// The tables a step touched (lower-cased), and the schema they are in now.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The tables, lower-cased.
    pub tables: &'a BTreeSet<String>,
    /// The database they are in, as print-schema reads it: who references whom.
    pub schema: &'a Database,
}

/// `PRAGMA integrity_check` and `foreign_key_check`: of the whole database, or of one
/// table's references (and its integrity too when `integrity`).
fn check_tables(
    conn: &rusqlite::Connection,
    table: Option<(&str, bool)>,
) -> std::result::Result<(), String> {
    let (integrity_sql, references_sql, args) = match table {
        None => (
            "SELECT integrity_check FROM pragma_integrity_check",
            "SELECT count(*) FROM pragma_foreign_key_check",
            Vec::new(),
        ),
        Some((name, _)) => (
            "SELECT integrity_check FROM pragma_integrity_check(?1)",
            "SELECT count(*) FROM pragma_foreign_key_check(?1)",
            vec![name],
        ),
    };
    let params = rusqlite::params_from_iter(args.iter());
    if table.is_none_or(|(_, integrity)| integrity) {
        let integrity: String = conn
            .query_row(integrity_sql, params.clone(), |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if integrity != "ok" {
            return Err(format!("PRAGMA integrity_check reports: {integrity}"));
        }
    }
    let broken: i64 = conn
        .query_row(references_sql, params, |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if broken > 0 {
        return Err(format!(
            "PRAGMA foreign_key_check reports {broken} broken references"
        ));
    }
    Ok(())
}

/// The entries that differ, each with its text before and after.
pub fn describe_difference(before: &[Entry], after: &[Entry]) -> String {
    let key = |e: &Entry| (e.kind, e.name.clone());
    let mut lines = Vec::new();
    for entry in before {
        match after.iter().find(|a| key(a) == key(entry)) {
            None => lines.push(format!("- {} {} is missing", entry.kind, entry.name)),
            Some(other) if other != entry => lines.push(format!(
                "- {} {} changed\n  before: {}\n  after:  {}",
                entry.kind,
                entry.name,
                entry.sql.as_deref().unwrap_or("(automatic)"),
                other.sql.as_deref().unwrap_or("(automatic)")
            )),
            Some(_) => {}
        }
    }
    for entry in after {
        if !before.iter().any(|b| key(b) == key(entry)) {
            lines.push(format!("- {} {} is left over", entry.kind, entry.name));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

    fn table(rowid: Rowid, rows: &[(i64, Value)]) -> BTreeMap<String, Snapshot> {
        let snapshot = Snapshot {
            key: Vec::new(),
            rowid,
            columns: vec!["c".into()],
            rows: rows
                .iter()
                .map(|(id, v)| Row {
                    rowid: Some(*id),
                    values: BTreeMap::from([("c".to_owned(), v.clone())]),
                })
                .collect(),
        };
        BTreeMap::from([("t".to_owned(), snapshot)])
    }

    #[test]
    fn rows_are_matched_by_key_value_by_value() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let text = |t: &str| Value::Text(t.into());
        let before = table(
            Rowid::Hidden,
            &[(10, text("a")), (20, text("b")), (35, text("007"))],
        );
        let added = table(
            Rowid::Hidden,
            &[
                (10, text("a")),
                (20, text("b")),
                (35, text("007")),
                (36, text("new")),
            ],
        );
        assert!(compare_values(&conn, &before, &added, "up").is_ok());

        let renumbered = table(
            Rowid::Hidden,
            &[(1, text("a")), (2, text("b")), (3, text("007"))],
        );
        let lost = compare_values(&conn, &before, &renumbered, "up").unwrap_err();
        assert!(lost.contains("t lost the row rowid = 10"), "{lost}");

        // The same values as a bag, moved between rows.
        let moved = table(
            Rowid::Hidden,
            &[(10, text("b")), (20, text("a")), (35, text("007"))],
        );
        let changed = compare_values(&conn, &before, &moved, "up").unwrap_err();
        assert!(
            changed.contains("t.c of the row rowid = 10 changed: 'a' became 'b'"),
            "{changed}"
        );

        let converted = table(
            Rowid::Hidden,
            &[(10, text("a")), (20, text("b")), (35, Value::Integer(7))],
        );
        let changed = compare_values(&conn, &before, &converted, "up").unwrap_err();
        assert!(changed.contains("changed: '007' became 7"), "{changed}");
    }
}
