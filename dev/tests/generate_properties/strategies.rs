//! Random cases.

use proptest::prelude::*;
use proptest::sample::Index;

use crate::types::{Ty, ALL_TYPES};

pub const TABLES: [&str; 7] = [
    "users", "posts", "tags", "group", "notes", "items", "events",
];
pub const RENAMED_TABLES: [&str; 4] = ["people", "entries", "labels", "archive"];
/// Column names, with a SQL keyword, a capital and a space, which schema.rs writes with
/// `#[sql_name]`.
pub const COLUMNS: [&str; 17] = [
    "name",
    "score",
    "note",
    "flag",
    "seen_at",
    "data",
    "amount",
    "kind",
    "order",
    "weight",
    "label",
    "born",
    "body",
    "rank",
    "Total",
    "full name",
    // A keyword the planner once found by word in the stored SQL (AUTOINCREMENT).
    "autoincrement",
];
pub const RENAMED_COLUMNS: [&str; 5] = ["title", "total", "status", "detail", "position"];
/// Names SQLite reads as keywords, which SQL must quote.
pub const KEYWORDS: [&str; 3] = ["group", "order", "autoincrement"];

#[derive(Debug, Clone)]
pub struct ColGen {
    pub name: Index,
    pub ty: Ty,
    pub spelling: Index,
    pub alias: Index,
    pub nullable: bool,
    pub default: bool,
    pub check: bool,
    /// 1: COLLATE NOCASE (text), 2: UNIQUE, 3: GENERATED ALWAYS AS (...), else nothing.
    pub extra: u8,
}

#[derive(Debug, Clone)]
pub struct TableGen {
    pub big_key: bool,
    pub key_spelling: Index,
    /// 0: `id ... PRIMARY KEY`, 1: `PRIMARY KEY (id)` at the end, 2: AUTOINCREMENT.
    pub key_form: u8,
    pub key_nullable: bool,
    pub cols: Vec<ColGen>,
    /// A foreign key to an earlier table: which, nullable, how it is written, its action.
    pub parent: Option<(Index, bool, u8, u8)>,
    pub quoted: bool,
    /// A nullable `parent_id` referencing the table itself (never a joinable).
    pub self_reference: bool,
    /// The key is `(id, first column)`.
    pub composite: bool,
    /// No primary key: `id` is a plain column and print-schema keys the table by `rowid`.
    pub rowid_keyed: bool,
    /// A foreign key to a later table (which, nullable), so that references may go round in
    /// a cycle.
    pub forward: Option<(Index, bool)>,
    pub without_rowid: bool,
    /// A table constraint over two columns: `UNIQUE (id, c)` or a CHECK naming two.
    pub constraint: Option<(bool, Index, Index)>,
}

#[derive(Debug, Clone)]
pub enum ExtraGen {
    Index {
        table: Index,
        cols: Vec<Index>,
        unique: bool,
        partial: bool,
        expression: bool,
    },
    View {
        kind: u8,
        table: Index,
        col: Index,
    },
    Trigger {
        kind: u8,
        table: Index,
        col: Index,
        other: Index,
        other_col: Index,
    },
}

#[derive(Debug, Clone)]
pub enum EditGen {
    AddColumn {
        table: Index,
        name: Index,
        ty: Ty,
        alias: Index,
        nullable: bool,
        join: Option<Index>,
    },
    DropColumn {
        table: Index,
        column: Index,
    },
    Retype {
        table: Index,
        column: Index,
        ty: Ty,
        alias: Index,
    },
    Nullability {
        table: Index,
        column: Index,
    },
    AddTable {
        name: Index,
        cols: Vec<(Index, Ty, Index, bool)>,
        big_key: bool,
        join: Option<(Index, bool)>,
    },
    DropTable {
        table: Index,
        with_references: bool,
    },
    AddJoinable {
        table: Index,
        column: Index,
        parent: Index,
    },
    DropJoinable {
        table: Index,
        column: Index,
    },
    RenameColumn {
        table: Index,
        column: Index,
        to: Index,
    },
    RenameTable {
        table: Index,
        to: Index,
    },
    ChangeKey {
        table: Index,
        column: Index,
    },
}

#[derive(Debug, Clone)]
pub struct Case {
    pub names: Vec<&'static str>,
    pub tables: Vec<TableGen>,
    pub extras: Vec<ExtraGen>,
    pub edits: Vec<EditGen>,
    /// A second generate on top of the first one's migration, when not empty.
    pub more_edits: Vec<EditGen>,
    pub rows: i64,
    /// The first row holds values chosen to break a copy (see `value`).
    pub hostile: bool,
    /// Each table references the one before it, and the first the last, where keys allow.
    pub cycle: bool,
    /// Two schema sections: which of `TABLES` and `RENAMED_TABLES` the second selects.
    pub sections: Option<Vec<bool>>,
    /// The project says its migrations run on SQLite 3.53 or later, which changes a
    /// column's nullability in place; otherwise that SQLite is unknown, and it is rebuilt.
    pub in_place: bool,
}

pub fn ty() -> impl Strategy<Value = Ty> {
    prop::sample::select(ALL_TYPES.to_vec())
}

pub fn col_gen() -> impl Strategy<Value = ColGen> {
    (
        any::<Index>(),
        ty(),
        any::<Index>(),
        any::<Index>(),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
    )
        .prop_map(
            |(name, ty, spelling, alias, nullable, default, check, extra)| ColGen {
                name,
                ty,
                spelling,
                alias,
                nullable,
                default,
                check,
                extra,
            },
        )
}

pub fn table_gen() -> impl Strategy<Value = TableGen> {
    (
        prop::bool::weighted(0.25),
        any::<Index>(),
        0u8..3,
        prop::bool::weighted(0.15),
        prop::collection::vec(col_gen(), 0..4),
        prop::option::weighted(0.6, (any::<Index>(), any::<bool>(), 0u8..3, 0u8..6)),
        prop::bool::weighted(0.2),
        (
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.15),
            prop::option::weighted(0.2, (any::<bool>(), any::<Index>(), any::<Index>())),
            prop::bool::weighted(0.2),
            prop::option::weighted(0.3, (any::<Index>(), any::<bool>())),
        ),
    )
        .prop_map(
            |(
                big_key,
                key_spelling,
                key_form,
                key_nullable,
                cols,
                parent,
                quoted,
                (self_reference, composite, without_rowid, constraint, rowid_keyed, forward),
            )| TableGen {
                big_key,
                key_spelling,
                key_form,
                key_nullable,
                cols,
                parent,
                quoted,
                self_reference,
                composite,
                without_rowid,
                constraint,
                rowid_keyed,
                forward,
            },
        )
}

pub fn extra_gen() -> impl Strategy<Value = ExtraGen> {
    prop_oneof![
        (
            any::<Index>(),
            prop::collection::vec(any::<Index>(), 1..3),
            any::<bool>(),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.2)
        )
            .prop_map(
                |(table, cols, unique, partial, expression)| ExtraGen::Index {
                    table,
                    cols,
                    unique,
                    partial,
                    expression
                }
            ),
        (0u8..5, any::<Index>(), any::<Index>()).prop_map(|(kind, table, col)| ExtraGen::View {
            kind,
            table,
            col
        }),
        (
            0u8..5,
            any::<Index>(),
            any::<Index>(),
            any::<Index>(),
            any::<Index>()
        )
            .prop_map(|(kind, table, col, other, other_col)| ExtraGen::Trigger {
                kind,
                table,
                col,
                other,
                other_col
            }),
    ]
}

pub fn edit_gen() -> impl Strategy<Value = EditGen> {
    let i = any::<Index>;
    prop_oneof![
        3 => (i(), i(), ty(), i(), any::<bool>(), prop::option::weighted(0.3, i())).prop_map(
            |(table, name, ty, alias, nullable, join)| EditGen::AddColumn {
                table,
                name,
                ty,
                alias,
                nullable,
                join
            }
        ),
        3 => (i(), i()).prop_map(|(table, column)| EditGen::DropColumn { table, column }),
        3 => (i(), i(), ty(), i()).prop_map(|(table, column, ty, alias)| EditGen::Retype {
            table,
            column,
            ty,
            alias
        }),
        2 => (i(), i()).prop_map(|(table, column)| EditGen::Nullability { table, column }),
        1 => (
            i(),
            prop::collection::vec((i(), ty(), i(), any::<bool>()), 0..3),
            any::<bool>(),
            prop::option::of((i(), any::<bool>()))
        )
            .prop_map(|(name, cols, big_key, join)| EditGen::AddTable {
                name,
                cols,
                big_key,
                join
            }),
        1 => (i(), any::<bool>()).prop_map(|(table, with_references)| EditGen::DropTable {
            table,
            with_references
        }),
        2 => (i(), i(), i()).prop_map(|(table, column, parent)| EditGen::AddJoinable {
            table,
            column,
            parent
        }),
        1 => (i(), i()).prop_map(|(table, column)| EditGen::DropJoinable { table, column }),
        2 => (i(), i(), i()).prop_map(|(table, column, to)| EditGen::RenameColumn {
            table,
            column,
            to
        }),
        1 => (i(), i()).prop_map(|(table, to)| EditGen::RenameTable { table, to }),
        1 => (i(), i()).prop_map(|(table, column)| EditGen::ChangeKey { table, column }),
    ]
}

pub fn case() -> impl Strategy<Value = Case> {
    (
        Just(TABLES.to_vec()).prop_shuffle(),
        prop::collection::vec(table_gen(), 1..5),
        prop::collection::vec(extra_gen(), 0..5),
        prop::collection::vec(edit_gen(), 1..5),
        prop::collection::vec(edit_gen(), 0..3),
        1i64..5,
        any::<bool>(),
        prop::bool::weighted(0.25),
        prop::option::weighted(
            0.25,
            prop::collection::vec(any::<bool>(), TABLES.len() + RENAMED_TABLES.len()),
        ),
        any::<bool>(),
    )
        .prop_map(
            |(
                names,
                tables,
                extras,
                edits,
                more_edits,
                rows,
                hostile,
                cycle,
                sections,
                in_place,
            )| Case {
                names,
                tables,
                extras,
                edits,
                more_edits,
                rows,
                hostile,
                cycle,
                sections,
                in_place,
            },
        )
}
