//! What the two schemas say a refusal, or a migration failing on rows, may be founded on.

use std::collections::BTreeSet;

use crate::head::{ident, Object};
use crate::model::Model;
use crate::target::{head_column_of, head_table_of};

/// Whether head's `table` (and its `column`) is still there in the target, under any name.
pub fn kept(head: &Model, target: &Model, table: &str, column: Option<&str>) -> bool {
    let Some(h) = head.table(table) else {
        return false;
    };
    target.tables.iter().any(|t| {
        head_table_of(head, target, t).is_some_and(|x| x.name == table)
            && column.is_none_or(|c| {
                t.cols
                    .iter()
                    .any(|x| head_column_of(h, t, x).is_some_and(|hc| hc.name == c))
            })
    })
}

/// Whether the target takes away something `object` names (a trigger goes with its own
/// table, which is not breaking it).
pub fn breaks(head: &Model, target: &Model, object: &Object) -> bool {
    object.deps.iter().any(|(table, column)| {
        let owner_gone =
            object.kind == "trigger" && table == &object.table && !kept(head, target, table, None);
        !owner_gone && !kept(head, target, table, column.as_deref())
    })
}

/// A refusal this test can judge is refused for a reason the two schemas give: a view or
/// trigger it says would break names something the target drops; a table it says cannot
/// be dropped is still referenced by a column the target keeps.
pub fn refusal_is_founded(
    stderr: &str,
    head: &Model,
    objects: &[Object],
    target: &Model,
) -> Result<(), String> {
    let first = stderr.lines().next().unwrap_or_default();
    if let Some((_, broken)) = first.split_once(" would break ") {
        for named in broken.split(", ") {
            let Some((kind, name)) = named.split_once(' ') else {
                continue;
            };
            // Objects are known by their names at the case's head, before any step.
            let Some(object) = objects.iter().find(|o| o.kind == kind && o.name == name) else {
                continue;
            };
            if !breaks(head, target, object) {
                return Err(format!(
                    "refused because {kind} {name} would break, but nothing it names goes"
                ));
            }
        }
    }
    if let Some(rest) = first.strip_prefix("error: table ") {
        if let Some((_, reference)) = rest.split_once(" cannot be dropped: ") {
            let reference = reference.trim_end_matches(" references it");
            if let Some((child, column)) = reference.split_once('.') {
                if !kept(head, target, child, Some(column)) {
                    return Err(format!(
                        "refused because {reference} references a dropped table, but the target drops {reference}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A joinable of `target` that rows of the database (at `head`) cannot satisfy: a value
/// that is no key of the parent (a new parent table has no rows at all).
pub fn unreferenced(conn: &rusqlite::Connection, head: &Model, target: &Model) -> Option<String> {
    for t in &target.tables {
        let Some(h) = head_table_of(head, target, t) else {
            continue;
        };
        for (column, parent) in &t.joins {
            let c = t.col(column).expect("joined columns exist");
            let p = target.table(parent).expect("joined tables exist");
            let keys = match head_table_of(head, target, p) {
                Some(hp) => format!(
                    "SELECT {} FROM {}",
                    ident(&hp.row_key, true),
                    ident(&hp.name, true)
                ),
                None => "SELECT NULL WHERE 0".to_owned(),
            };
            // An added column holds its `--default` (always 1 for a key) in every row.
            let value = match head_column_of(h, t, c) {
                Some(hc) => ident(&hc.name, true),
                None if !c.nullable => "1".to_owned(),
                None => continue,
            };
            let sql = format!(
                "SELECT count(*) FROM {} WHERE {value} IS NOT NULL AND {value} NOT IN ({keys})",
                ident(&h.name, true),
            );
            let n: i64 = conn.query_row(&sql, [], |r| r.get(0)).unwrap();
            if n > 0 {
                return Some(format!("{}.{column} -> {parent}", t.name));
            }
        }
    }
    None
}

/// Whether `message` is a conversion's refusal naming a column whose type the change makes
/// another (by its head or its new name, in its head or new table).
pub fn names_a_retyped_column(message: &str, head: &Model, target: &Model) -> bool {
    target.tables.iter().any(|t| {
        let Some(h) = head_table_of(head, target, t) else {
            return false;
        };
        t.cols.iter().any(|c| {
            let Some(hc) = head_column_of(h, t, c).filter(|hc| hc.ty != c.ty) else {
                return false;
            };
            [&t.name, &h.name].iter().any(|table| {
                [&c.name, &hc.name].iter().any(|column| {
                    message.contains(&format!("{table}.{column} of the row "))
                        && (message.contains(", which Diesel cannot read as")
                            || message.contains(", which the copy as"))
                })
            })
        })
    })
}

/// Head columns whose type schema.rs changes (keyed by head names).
pub fn retyped_columns(head: &Model, target: &Model) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for t in &target.tables {
        let Some(h) = head_table_of(head, target, t) else {
            continue;
        };
        for c in &t.cols {
            if let Some(hc) = head_column_of(h, t, c).filter(|hc| hc.ty != c.ty) {
                out.insert((h.name.clone(), hc.name.clone()));
            }
        }
    }
    out
}
