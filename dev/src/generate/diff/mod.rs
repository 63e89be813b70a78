//! Comparing the database (as print-schema reads it) with `schema.rs`, into explicit change
//! values the planner turns into SQL. Column order is not a change.

use std::fmt;

use crate::schema::model::{Column, Joinable, Schema, Table};
use crate::schema::objects_sql::{ObjectKind, SqlObject};

mod renames;

pub use renames::{
    column_after, diff_with_renames, head_column, head_table, rename_suggestions, table_after,
    ColumnRename, Renames, Suggestion, TableRename,
};

/// One difference between head and `schema.rs`, described as what must happen to head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `--rename-table`: a table of head takes a new name and keeps its rows.
    RenameTable {
        /// Head's name for the table.
        from: String,
        /// schema.rs's name for it.
        to: String,
    },
    /// `table` is the table's name after any table rename.
    RenameColumn {
        /// The table, by schema.rs's name.
        table: String,
        /// Head's name for the column.
        from: String,
        /// schema.rs's name for it.
        to: String,
    },
    /// A table schema.rs declares and head lacks, as schema.rs declares it.
    CreateTable(Table),
    /// A table of head that schema.rs no longer declares, by head's name.
    DropTable(String),
    /// A column schema.rs declares that head's table lacks.
    AddColumn {
        /// The table, by schema.rs's name.
        table: String,
        /// The column as schema.rs declares it.
        column: Column,
        /// The joinable `schema.rs` declares on the new column.
        joinable: Option<Joinable>,
    },
    /// A column of head that schema.rs no longer declares.
    DropColumn {
        /// The table, by schema.rs's name.
        table: String,
        /// Head's name for the column.
        column: String,
    },
    /// Type or nullability differ.
    AlterColumn {
        /// The table, by schema.rs's name.
        table: String,
        /// The column as head has it, after any rename.
        from: Column,
        /// The column as schema.rs declares it.
        to: Column,
    },
    /// The primary key's columns differ; their order alone is no change.
    AlterPrimaryKey {
        /// The table, by schema.rs's name.
        table: String,
        /// Head's key columns in key order, named as after any column rename.
        from: Vec<String>,
        /// schema.rs's key columns in key order.
        to: Vec<String>,
    },
    /// A `joinable!` schema.rs declares on a column head already has.
    AddJoinable {
        /// The child table, by schema.rs's name.
        table: String,
        /// The joinable as schema.rs declares it.
        joinable: Joinable,
    },
    /// A `joinable!` of head that schema.rs no longer declares, on a column it keeps.
    DropJoinable {
        /// The child table, by schema.rs's name.
        table: String,
        /// The joinable as head has it, after any rename.
        joinable: Joinable,
    },
    /// An index, view or trigger `objects.sql` declares and head lacks.
    CreateObject(SqlObject),
    /// An index, view or trigger of head that `objects.sql` does not declare.
    DropObject(SqlObject),
    /// An object both have, whose SQL differs: dropped, then created as declared.
    ReplaceObject {
        /// The object as head stores it.
        from: SqlObject,
        /// The object as `objects.sql` declares it.
        to: SqlObject,
    },
}

impl Change {
    /// A few words for a commit-style message, e.g. `add users.bio`.
    pub fn headline(&self) -> String {
        match self {
            Change::RenameTable { from, to } => format!("rename {from} to {to}"),
            Change::RenameColumn { table, from, to } => {
                format!("rename {table}.{from} to {to}")
            }
            Change::CreateTable(t) => format!("create {}", t.name),
            Change::DropTable(name) => format!("drop {name}"),
            Change::AddColumn { table, column, .. } => format!("add {table}.{}", column.name),
            Change::DropColumn { table, column } => format!("drop {table}.{column}"),
            Change::AlterColumn { table, to, .. } => format!("change {table}.{}", to.name),
            Change::AlterPrimaryKey { table, .. } => format!("change {table} primary key"),
            Change::AddJoinable { table, joinable } => {
                format!("link {table}.{} to {}", joinable.column, joinable.parent)
            }
            Change::DropJoinable { table, joinable } => {
                format!("unlink {table}.{}", joinable.column)
            }
            Change::CreateObject(o) => format!("add {} {}", o.kind, o.name),
            Change::DropObject(o) => format!("drop {} {}", o.kind, o.name),
            Change::ReplaceObject { to, .. } => format!("change {} {}", to.kind, to.name),
        }
    }

    /// Whether the change is to an index, view or trigger of `objects.sql`.
    pub fn is_object(&self) -> bool {
        matches!(
            self,
            Change::CreateObject(_) | Change::DropObject(_) | Change::ReplaceObject { .. }
        )
    }

    /// The table the change is about.
    pub fn table(&self) -> &str {
        match self {
            Change::RenameTable { to, .. } => to,
            Change::CreateTable(t) => &t.name,
            Change::DropTable(name) => name,
            Change::AddColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::AlterPrimaryKey { table, .. }
            | Change::AddJoinable { table, .. }
            | Change::DropJoinable { table, .. } => table,
            Change::CreateObject(o)
            | Change::DropObject(o)
            | Change::ReplaceObject { to: o, .. } => &o.table,
        }
    }
}

impl fmt::Display for Change {
    /// The change in plain words, for headers, summaries and `check`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::RenameTable { from, to } => write!(f, "rename table {from} to {to}"),
            Change::RenameColumn { table, from, to } => {
                write!(f, "rename column {table}.{from} to {to}")
            }
            Change::CreateTable(t) => {
                write!(f, "create table {} ({} columns", t.name, t.columns.len())?;
                for j in &t.joinables {
                    write!(f, ", {} -> {}", j.column, j.parent)?;
                }
                write!(f, ")")
            }
            Change::DropTable(name) => write!(f, "drop table {name}"),
            Change::AddColumn {
                table,
                column,
                joinable,
            } => {
                write!(f, "add column {table}.{} ({column}", column.name)?;
                if let Some(j) = joinable {
                    write!(f, ", joinable to {}", j.parent)?;
                }
                write!(f, ")")
            }
            Change::DropColumn { table, column } => write!(f, "drop column {table}.{column}"),
            Change::AlterColumn { table, from, to } => {
                write!(f, "change column {table}.{} from {from} to {to}", to.name)
            }
            Change::AlterPrimaryKey { table, from, to } => write!(
                f,
                "change primary key of {table} from ({}) to ({})",
                from.join(", "),
                to.join(", ")
            ),
            Change::AddJoinable { table, joinable } => write!(
                f,
                "add joinable {table}.{} -> {}",
                joinable.column, joinable.parent
            ),
            Change::DropJoinable { table, joinable } => write!(
                f,
                "drop joinable {table}.{} -> {}",
                joinable.column, joinable.parent
            ),
            Change::CreateObject(o) => write!(f, "create {}", described(o)),
            Change::DropObject(o) => write!(f, "drop {}", described(o)),
            Change::ReplaceObject { to, .. } => write!(f, "change {}", described(to)),
        }
    }
}

/// `index i on t`, `view v`, `trigger tr on t`.
fn described(object: &SqlObject) -> String {
    match object.kind {
        ObjectKind::View => format!("view {}", object.name),
        ObjectKind::Index | ObjectKind::Trigger => {
            format!("{} {} on {}", object.kind, object.name, object.table)
        }
    }
}

/// What must change in head's indexes, views and triggers to match `declared` (objects.sql),
/// in the file's order, then what head has and the file lacks in head's order.
pub fn diff_objects(head: &[SqlObject], declared: &[SqlObject]) -> Vec<Change> {
    let find = |objects: &[SqlObject], name: &str| {
        objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    let mut changes = Vec::new();
    for wanted in declared {
        match find(head, &wanted.name) {
            None => changes.push(Change::CreateObject(wanted.clone())),
            Some(stored) if !stored.same_as(wanted) => changes.push(Change::ReplaceObject {
                from: stored,
                to: wanted.clone(),
            }),
            Some(_) => {}
        }
    }
    for stored in head {
        if find(declared, &stored.name).is_none() {
            changes.push(Change::DropObject(stored.clone()));
        }
    }
    changes
}

/// What must change in `head` to match `target`, tables in name order; within a table,
/// primary key, then columns in the target's order, then dropped columns, then joinables.
pub fn diff(head: &Schema, target: &Schema) -> Vec<Change> {
    let mut changes = Vec::new();
    for (name, table) in &target.tables {
        match head.tables.get(name) {
            None => changes.push(Change::CreateTable(table.clone())),
            Some(current) => diff_table(current, table, &mut changes),
        }
    }
    for name in head.tables.keys() {
        if !target.tables.contains_key(name) {
            changes.push(Change::DropTable(name.clone()));
        }
    }
    changes
}

fn diff_table(head: &Table, target: &Table, changes: &mut Vec<Change>) {
    let name = &target.name;
    let same_key = {
        let mut a = head.primary_key.clone();
        let mut b = target.primary_key.clone();
        a.sort();
        b.sort();
        a == b
    };
    if !same_key {
        changes.push(Change::AlterPrimaryKey {
            table: name.clone(),
            from: head.primary_key.clone(),
            to: target.primary_key.clone(),
        });
    }
    let mut added_joinables = Vec::new();
    for column in &target.columns {
        match head.column(&column.name) {
            // The key of a table left without a primary key: its rowid, not a new column.
            None if target.is_implicit_rowid(&column.name) => {}
            None => {
                let joinable = target
                    .joinables
                    .iter()
                    .find(|j| j.column == column.name)
                    .cloned();
                added_joinables.extend(joinable.clone());
                changes.push(Change::AddColumn {
                    table: name.clone(),
                    column: column.clone(),
                    joinable,
                });
            }
            Some(current) if !current.same_as(column) => changes.push(Change::AlterColumn {
                table: name.clone(),
                from: current.clone(),
                to: column.clone(),
            }),
            Some(_) => {}
        }
    }
    for column in &head.columns {
        if target.column(&column.name).is_none() && !head.is_implicit_rowid(&column.name) {
            changes.push(Change::DropColumn {
                table: name.clone(),
                column: column.name.clone(),
            });
        }
    }
    for joinable in target.joinables.difference(&head.joinables) {
        if !added_joinables.contains(joinable) {
            changes.push(Change::AddJoinable {
                table: name.clone(),
                joinable: joinable.clone(),
            });
        }
    }
    for joinable in head.joinables.difference(&target.joinables) {
        if target.column(&joinable.column).is_some() {
            changes.push(Change::DropJoinable {
                table: name.clone(),
                joinable: joinable.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::types::SqlType;
    use std::collections::BTreeSet;

    pub(super) fn column(name: &str, ty: SqlType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable,
            max_length: None,
        }
    }

    fn table(name: &str, columns: Vec<Column>, joinables: &[(&str, &str)]) -> Table {
        Table {
            name: name.into(),
            primary_key: vec![columns[0].name.clone()],
            columns,
            joinables: joinables
                .iter()
                .map(|(c, p)| Joinable {
                    column: c.to_string(),
                    parent: p.to_string(),
                })
                .collect::<BTreeSet<_>>(),
        }
    }

    pub(super) fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
        }
    }

    pub(super) fn users(extra: Vec<Column>) -> Table {
        let mut columns = vec![
            column("id", SqlType::Integer, false),
            column("name", SqlType::Text, false),
        ];
        columns.extend(extra);
        table("users", columns, &[])
    }

    #[test]
    fn equal_schemas_ignore_column_order() {
        let a = schema(vec![users(vec![column("bio", SqlType::Text, true)])]);
        let mut b = a.clone();
        b.tables.get_mut("users").unwrap().columns.reverse();
        assert!(diff(&a, &b).is_empty());
    }

    #[test]
    fn reports_each_change_kind() {
        let head = schema(vec![
            users(vec![column("age", SqlType::Integer, true)]),
            table("old", vec![column("id", SqlType::Integer, false)], &[]),
        ]);
        let mut changed_users = users(vec![column("bio", SqlType::Text, true)]);
        changed_users.columns[1].ty = SqlType::Binary;
        let posts = table(
            "posts",
            vec![
                column("id", SqlType::Integer, false),
                column("user_id", SqlType::Integer, false),
            ],
            &[("user_id", "users")],
        );
        let target = schema(vec![changed_users, posts.clone()]);
        let changes = diff(&head, &target);
        let words: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            words,
            [
                "create table posts (2 columns, user_id -> users)",
                "change column users.name from Text to Binary",
                "add column users.bio (Nullable<Text>)",
                "drop column users.age",
                "drop table old",
            ]
        );
        assert_eq!(changes[0], Change::CreateTable(posts));
    }

    #[test]
    fn joinable_on_a_new_column_travels_with_it() {
        let head = schema(vec![
            users(vec![]),
            table("posts", vec![column("id", SqlType::Integer, false)], &[]),
        ]);
        let target = schema(vec![
            users(vec![]),
            table(
                "posts",
                vec![
                    column("id", SqlType::Integer, false),
                    column("user_id", SqlType::Integer, true),
                ],
                &[("user_id", "users")],
            ),
        ]);
        let changes = diff(&head, &target);
        assert_eq!(changes.len(), 1);
        assert!(
            matches!(&changes[0], Change::AddColumn { joinable: Some(j), .. } if j.parent == "users")
        );
    }

    #[test]
    fn joinable_and_primary_key_changes_on_existing_columns() {
        let head = schema(vec![
            users(vec![]),
            table(
                "posts",
                vec![
                    column("id", SqlType::Integer, false),
                    column("user_id", SqlType::Integer, false),
                ],
                &[],
            ),
        ]);
        let mut posts = head.tables["posts"].clone();
        posts.joinables.insert(Joinable {
            column: "user_id".into(),
            parent: "users".into(),
        });
        posts.primary_key = vec!["id".into(), "user_id".into()];
        let target = schema(vec![users(vec![]), posts]);
        let words: Vec<String> = diff(&head, &target)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            words,
            [
                "change primary key of posts from (id) to (id, user_id)",
                "add joinable posts.user_id -> users"
            ]
        );
        let back: Vec<String> = diff(&target, &head)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(back[1], "drop joinable posts.user_id -> users");
    }
}
