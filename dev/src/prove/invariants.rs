//! What must hold of a database after every step of a proof: SQLite's own integrity and
//! foreign-key checks, every kept value where it was, and the stored schema entry by entry.
//! `prove` checks a generated migration with them, `verify` every version of the history.

use std::collections::BTreeMap;

use crate::generate::seed::{self, Snapshot};
use crate::schema::introspect::{Database, SchemaEntry};
use crate::schema::model::ColumnKey;

/// Snapshots of the seeded tables, keyed by head's table and column names; `locate` says
/// where each head column is read now (`None`: not at all).
pub fn snapshots(
    conn: &rusqlite::Connection,
    head: &Database,
    seeded: &[String],
    locate: impl Fn(&str, &str) -> Option<ColumnKey>,
) -> std::result::Result<BTreeMap<String, Snapshot>, String> {
    let mut all = BTreeMap::new();
    for table in head.tables.iter().filter(|t| seeded.contains(&t.name)) {
        let located: Vec<(&str, ColumnKey)> = table
            .columns
            .iter()
            .filter_map(|c| locate(&table.name, &c.name).map(|now| (c.name.as_str(), now)))
            .collect();
        let Some((_, first)) = located.first() else {
            continue;
        };
        let now_columns: Vec<String> = located.iter().map(|(_, now)| now.column.clone()).collect();
        let values = seed::snapshot(conn, &first.table, &now_columns)?;
        let by_head_name = located
            .iter()
            .map(|(head_column, now)| (head_column.to_string(), values[&now.column].clone()))
            .collect();
        all.insert(table.name.clone(), by_head_name);
    }
    Ok(all)
}

/// Every table and column of `expected` must still hold its values in `actual`. Rows added
/// are not a loss (a version may insert reference data): every expected value must be there,
/// as often as it was.
pub fn compare_values(
    expected: &BTreeMap<String, Snapshot>,
    actual: &BTreeMap<String, Snapshot>,
    step: &str,
) -> std::result::Result<(), String> {
    for (table, columns) in actual {
        for (column, values) in columns {
            let Some(wanted) = expected.get(table).and_then(|t| t.get(column)) else {
                continue;
            };
            if values.len() < wanted.len() {
                return Err(format!(
                    "after {step}, {table} has {} rows instead of {}",
                    values.len(),
                    wanted.len()
                ));
            }
            if !contains_all(values, wanted) {
                return Err(format!(
                    "after {step}, the values of {table}.{column} changed: {wanted:?} became {values:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Whether the sorted `values` hold every one of the sorted `wanted`, as often.
fn contains_all(values: &[String], wanted: &[String]) -> bool {
    let mut values = values.iter();
    wanted.iter().all(|w| values.by_ref().any(|v| v == w))
}

/// `PRAGMA integrity_check` must say ok and `PRAGMA foreign_key_check` report nothing.
pub fn check_integrity(conn: &rusqlite::Connection) -> std::result::Result<(), String> {
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("PRAGMA integrity_check reports: {integrity}"));
    }
    let broken: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    if broken > 0 {
        return Err(format!(
            "PRAGMA foreign_key_check reports {broken} broken references"
        ));
    }
    Ok(())
}

/// The entries that differ, each with its text before and after.
pub fn describe_difference(before: &[SchemaEntry], after: &[SchemaEntry]) -> String {
    let key = |e: &SchemaEntry| (e.kind.clone(), e.name.clone());
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

    fn table(values: &[&str]) -> BTreeMap<String, Snapshot> {
        let column = values.iter().map(|v| v.to_string()).collect();
        BTreeMap::from([("t".to_owned(), Snapshot::from([("c".to_owned(), column)]))])
    }

    #[test]
    fn rows_added_are_kept_values_but_lost_or_changed_ones_are_not() {
        let before = table(&["1", "2", "2"]);
        assert!(compare_values(&before, &table(&["0", "1", "2", "2", "3"]), "up").is_ok());
        let lost = compare_values(&before, &table(&["1", "2"]), "up").unwrap_err();
        assert!(lost.contains("2 rows instead of 3"), "{lost}");
        let changed = compare_values(&before, &table(&["1", "2", "3"]), "up").unwrap_err();
        assert!(changed.contains("values of t.c changed"), "{changed}");
    }
}
