//! Renames: the ones asked for (`--rename`, `--rename-table`) applied to head before the
//! diff, the drops and adds that look like one (suggested, never guessed), and following a
//! name through a change list in either direction.

use crate::error::{Error, Result};
use crate::schema::model::{Column, ColumnKey, Schema, Table};

use super::{diff, Change};

/// `--rename-table OLD=NEW`: a table renamed rather than dropped and created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRename {
    /// Head's name for the table.
    pub from: String,
    /// schema.rs's name for it.
    pub to: String,
}

impl TableRename {
    /// Parses `OLD=NEW`; the error is clap's message.
    pub fn parse(arg: &str) -> std::result::Result<TableRename, String> {
        match arg.split_once('=') {
            Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                Ok(TableRename {
                    from: from.to_owned(),
                    to: to.to_owned(),
                })
            }
            _ => Err(format!("expected OLD=NEW, got `{arg}`")),
        }
    }
}

/// `--rename TABLE.OLD=NEW`: a column renamed rather than dropped and added; `table` is
/// named as after the table renames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRename {
    /// The table, by schema.rs's name.
    pub table: String,
    /// Head's name for the column.
    pub from: String,
    /// schema.rs's name for it.
    pub to: String,
}

impl ColumnRename {
    /// Parses `TABLE.OLD=NEW`; the error is clap's message.
    pub fn parse(arg: &str) -> std::result::Result<ColumnRename, String> {
        let (old, to) = ColumnKey::parse_assignment(arg, "TABLE.OLD=NEW")?;
        Ok(ColumnRename {
            table: old.table,
            from: old.column,
            to,
        })
    }
}

/// The renames the user asked for, or accepted when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// Table renames, applied first, in the order given.
    pub tables: Vec<TableRename>,
    /// Column renames, applied after the table renames, in the order given.
    pub columns: Vec<ColumnRename>,
}

/// `diff` after applying `renames` to head, with the renames first among the changes; also
/// returns head as renamed, which later rename suggestions compare against. `hide` takes
/// out of the renamed head what the schema files cannot declare (joinables across
/// sections), which is then no change.
pub fn diff_with_renames(
    head: &Schema,
    target: &Schema,
    renames: &Renames,
    hide: impl Fn(&mut Schema),
) -> Result<(Schema, Vec<Change>)> {
    let mut renamed = head.clone();
    let mut changes = Vec::new();
    for TableRename { from, to } in &renames.tables {
        let bad = |why: String| Error::input(format!("`--rename-table {from}={to}`: {why}"));
        let mut table = renamed
            .tables
            .remove(from)
            .ok_or_else(|| bad(format!("versions/ has no table {from}")))?;
        if !target.tables.contains_key(to) {
            return Err(bad(format!("schema.rs has no table {to}")));
        }
        if renamed.tables.contains_key(to) {
            return Err(bad(format!("versions/ already has a table {to}")));
        }
        table.name = to.clone();
        renamed.tables.insert(to.clone(), table);
        for other in renamed.tables.values_mut() {
            other.joinables = std::mem::take(&mut other.joinables)
                .into_iter()
                .map(|mut j| {
                    if &j.parent == from {
                        j.parent = to.clone();
                    }
                    j
                })
                .collect();
        }
        changes.push(Change::RenameTable {
            from: from.clone(),
            to: to.clone(),
        });
    }
    for ColumnRename {
        table: table_name,
        from,
        to,
    } in &renames.columns
    {
        let bad = |why: String| Error::input(format!("`--rename {table_name}.{from}={to}`: {why}"));
        let target_table = target
            .tables
            .get(table_name)
            .ok_or_else(|| bad(format!("schema.rs has no table {table_name}")))?;
        let table = renamed
            .tables
            .get_mut(table_name)
            .ok_or_else(|| bad(format!("versions/ has no table {table_name}")))?;
        if target_table.column(to).is_none() {
            return Err(bad(format!("schema.rs has no column {table_name}.{to}")));
        }
        if table.column(to).is_some() {
            return Err(bad(format!(
                "versions/ already has a column {table_name}.{to}"
            )));
        }
        let column = table
            .columns
            .iter_mut()
            .find(|c| &c.name == from)
            .ok_or_else(|| bad(format!("versions/ has no column {table_name}.{from}")))?;
        column.name = to.clone();
        for key in table.primary_key.iter_mut().filter(|k| *k == from) {
            *key = to.clone();
        }
        table.joinables = std::mem::take(&mut table.joinables)
            .into_iter()
            .map(|mut j| {
                if &j.column == from {
                    j.column = to.clone();
                }
                j
            })
            .collect();
        changes.push(Change::RenameColumn {
            table: table_name.clone(),
            from: from.clone(),
            to: to.clone(),
        });
    }
    hide(&mut renamed);
    changes.extend(diff(&renamed, target));
    Ok((renamed, changes))
}

/// A drop and an add that look like a rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suggestion {
    /// A dropped table and the one created table with the same columns.
    Table {
        /// Head's name for the table.
        from: String,
        /// schema.rs's name for it.
        to: String,
    },
    /// A dropped column and the one column of its type added to the same table.
    Column {
        /// The table, by schema.rs's name.
        table: String,
        /// Head's name for the column.
        from: String,
        /// schema.rs's name for it.
        to: String,
    },
}

impl Suggestion {
    /// The flag that makes this rename.
    pub fn flag(&self) -> String {
        match self {
            Suggestion::Table { from, to } => format!("--rename-table {from}={to}"),
            Suggestion::Column { table, from, to } => format!("--rename {table}.{from}={to}"),
        }
    }

    /// The question asked on a terminal.
    pub fn question(&self) -> String {
        match self {
            Suggestion::Table { from, to } => {
                format!("Was table {from} renamed to {to} (keeping its rows)?")
            }
            Suggestion::Column { table, from, to } => {
                format!("Was column {table}.{from} renamed to {to} (keeping its values)?")
            }
        }
    }
}

/// Renames `changes` may really be: a table that loses one column and gains one of the same
/// type, or a table that disappears while one with the same columns appears.
pub fn rename_suggestions(head: &Schema, changes: &[Change]) -> Vec<Suggestion> {
    let mut suggestions = Vec::new();
    for change in changes {
        match change {
            Change::DropTable(from) => {
                let Some(old) = head.tables.get(from) else {
                    continue;
                };
                let same = |t: &Table| {
                    let mut a: Vec<_> = old
                        .columns
                        .iter()
                        .map(|c| (&c.name, c.ty, c.nullable))
                        .collect();
                    let mut b: Vec<_> = t
                        .columns
                        .iter()
                        .map(|c| (&c.name, c.ty, c.nullable))
                        .collect();
                    a.sort();
                    b.sort();
                    a == b
                };
                let created: Vec<&Table> = changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::CreateTable(t) if same(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                if let [only] = created.as_slice() {
                    suggestions.push(Suggestion::Table {
                        from: from.clone(),
                        to: only.name.clone(),
                    });
                }
            }
            Change::DropColumn { table, column } => {
                let Some(old) = head.tables.get(table).and_then(|t| t.column(column)) else {
                    continue;
                };
                let added: Vec<&Column> = changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::AddColumn {
                            table: t,
                            column: new,
                            ..
                        } if t == table && new.ty == old.ty => Some(new),
                        _ => None,
                    })
                    .collect();
                let dropped_same_type = changes
                    .iter()
                    .filter(|c| matches!(c, Change::DropColumn { table: t, column: name } if t == table && head.tables[t].column(name).is_some_and(|c| c.ty == old.ty)))
                    .count();
                if let ([only], 1) = (added.as_slice(), dropped_same_type) {
                    suggestions.push(Suggestion::Column {
                        table: table.clone(),
                        from: column.clone(),
                        to: only.name.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    suggestions
}

/// The name head gives `table` (named as after `changes`): its name before any rename.
pub fn head_table<'a>(changes: &'a [Change], table: &'a str) -> &'a str {
    renamed(changes, None, table, Direction::Back)
}

/// The name head gives `column` of `table` (both named as after `changes`).
pub fn head_column<'a>(changes: &'a [Change], table: &str, column: &'a str) -> &'a str {
    renamed(changes, Some(table), column, Direction::Back)
}

/// The name `table` of head has after `changes`: its name after any rename.
pub fn table_after<'a>(changes: &'a [Change], table: &'a str) -> &'a str {
    renamed(changes, None, table, Direction::Forward)
}

/// The name `column` has after `changes`, in `table` (named as after `changes`).
pub fn column_after<'a>(changes: &'a [Change], table: &str, column: &'a str) -> &'a str {
    renamed(changes, Some(table), column, Direction::Forward)
}

/// Which way a name is followed through the renames.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Back,
}

/// `name` (a table's when `table` is `None`, else a column's of `table` as named after
/// `changes`) followed through the renames among `changes`.
fn renamed<'a>(
    changes: &'a [Change],
    table: Option<&str>,
    name: &'a str,
    direction: Direction,
) -> &'a str {
    changes
        .iter()
        .find_map(|c| {
            let (of, from, to) = match c {
                Change::RenameTable { from, to } => (None, from, to),
                Change::RenameColumn { table, from, to } => (Some(table.as_str()), from, to),
                _ => return None,
            };
            let (old, new) = match direction {
                Direction::Forward => (from, to),
                Direction::Back => (to, from),
            };
            (of == table && old == name).then_some(new.as_str())
        })
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{column, schema, users};
    use super::*;
    use crate::schema::types::SqlType;

    #[test]
    fn renames_replace_drop_and_add_and_are_suggested_otherwise() {
        let head = schema(vec![users(vec![column("age", SqlType::Integer, true)])]);
        let mut renamed = users(vec![column("years", SqlType::Integer, true)]);
        renamed.name = "people".into();
        let target = schema(vec![renamed]);

        let mut same_columns = head.tables["users"].clone();
        same_columns.name = "people".into();
        let plain = diff(&head, &schema(vec![same_columns]));
        assert_eq!(
            rename_suggestions(&head, &plain),
            [Suggestion::Table {
                from: "users".into(),
                to: "people".into()
            }]
        );
        assert!(rename_suggestions(&head, &diff(&head, &target)).is_empty());
        let renames = Renames {
            tables: vec![TableRename::parse("users=people").unwrap()],
            columns: vec![],
        };
        let (renamed_head, after_table) =
            diff_with_renames(&head, &target, &renames, |_| {}).unwrap();
        let suggestions = rename_suggestions(&renamed_head, &after_table);
        assert_eq!(suggestions[0].flag(), "--rename people.age=years");

        let renames = Renames {
            tables: vec![TableRename::parse("users=people").unwrap()],
            columns: vec![ColumnRename::parse("people.age=years").unwrap()],
        };
        let words: Vec<String> = diff_with_renames(&head, &target, &renames, |_| {})
            .unwrap()
            .1
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            words,
            [
                "rename table users to people",
                "rename column people.age to years"
            ]
        );

        let bad = Renames {
            tables: vec![],
            columns: vec![ColumnRename::parse("users.nope=years").unwrap()],
        };
        let err = diff_with_renames(
            &head,
            &schema(vec![users(vec![column("years", SqlType::Integer, true)])]),
            &bad,
            |_| {},
        )
        .unwrap_err();
        assert!(
            err.message.contains("versions/ has no column users.nope"),
            "{err}"
        );
    }
}
