//! Undoing up's renames by renaming back, in an order where every name back is free, and
//! asking SQLite whether the renames alone give back the table's stored text.

use crate::schema::introspect::{self, Database};
use crate::sqlite::quote::quote;

use super::Step;

/// Renaming back what up renamed: the columns, under the table's current name, then the
/// table.
pub(super) struct RenameBack {
    pub(super) columns: Vec<Step>,
    pub(super) table: Option<Step>,
    /// SQLite confirms the renames alone give back the table's stored text and its indexes'
    /// (column renames do; a table rename leaves the name quoted, so a rebuild follows).
    pub(super) restores: bool,
    /// The table as it stands after the renames.
    pub(super) renamed: introspect::StoredTable,
}

impl RenameBack {
    /// `None` when up renamed nothing of `old` (now `now`), or when renaming back would
    /// collide with a name `now` holds otherwise.
    pub(super) fn plan(
        old: &introspect::StoredTable,
        now: &introspect::StoredTable,
        mapped: &[(String, String)],
        after: &Database,
    ) -> Option<RenameBack> {
        let wanted: Vec<(&str, &str)> = mapped
            .iter()
            .filter(|(name, current)| name != current && now.column(current).is_some())
            .map(|(name, current)| (current.as_str(), name.as_str()))
            .collect();
        let columns = rename_order(now, wanted)?;
        let table = now.name != old.name;
        if (!table && columns.is_empty()) || (table && after.table(&old.name).is_some()) {
            return None;
        }
        let column_steps: Vec<Step> = columns
            .iter()
            .map(|(current, back)| {
                Step::statement(format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    quote(&now.name),
                    quote(current),
                    quote(back)
                ))
            })
            .collect();
        let table_step = table.then(|| {
            Step::statement(format!(
                "ALTER TABLE {} RENAME TO {};",
                quote(&now.name),
                quote(&old.name)
            ))
        });
        let mut renamed = now.clone();
        renamed.name = old.name.clone();
        for column in &mut renamed.columns {
            if let Some((_, back)) = columns.iter().find(|(current, _)| *current == column.name) {
                column.name = (*back).to_owned();
            }
        }
        let restores = !table && restores_text(old, now, &column_steps);
        Some(RenameBack {
            columns: column_steps,
            table: table_step,
            restores,
            renamed,
        })
    }
}

/// The column renames `wanted` (current name, name back) in an order where each name back
/// is free when its rename runs (SQLite compares column names without regard to ASCII case);
/// `None` when no order exists (two columns swapped names).
fn rename_order<'a>(
    now: &introspect::StoredTable,
    mut wanted: Vec<(&'a str, &'a str)>,
) -> Option<Vec<(&'a str, &'a str)>> {
    let mut names: Vec<String> = now
        .columns
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    let mut order = Vec::with_capacity(wanted.len());
    while !wanted.is_empty() {
        let free = wanted
            .iter()
            .position(|(_, back)| !names.contains(&back.to_ascii_lowercase()))?;
        let (current, back) = wanted.remove(free);
        names.retain(|n| *n != current.to_ascii_lowercase());
        names.push(back.to_ascii_lowercase());
        order.push((current, back));
    }
    Some(order)
}

/// Whether `steps` turn `now` (with its indexes) into exactly `old`'s stored text and
/// indexes, asked of SQLite on an in-memory copy of the table.
fn restores_text(
    old: &introspect::StoredTable,
    now: &introspect::StoredTable,
    steps: &[Step],
) -> bool {
    let texts = |conn: &rusqlite::Connection, table: &str| -> rusqlite::Result<Vec<String>> {
        conn.prepare("SELECT sql FROM sqlite_schema WHERE tbl_name = ?1 AND sql IS NOT NULL AND type IN ('table', 'index') ORDER BY type DESC, name")?
            .query_map([table], |r| r.get(0))?
            .collect()
    };
    let tried = || -> rusqlite::Result<bool> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(&now.sql)?;
        for index in now.indexes.iter().filter_map(|i| i.sql.as_ref()) {
            conn.execute_batch(index)?;
        }
        for step in steps {
            conn.execute_batch(&step.sql)?;
        }
        let expected = rusqlite::Connection::open_in_memory()?;
        expected.execute_batch(&old.sql)?;
        for index in old.indexes.iter().filter_map(|i| i.sql.as_ref()) {
            expected.execute_batch(index)?;
        }
        Ok(texts(&conn, &old.name)? == texts(&expected, &old.name)?)
    };
    tried().unwrap_or(false)
}
