//! Properties of `generate`, judged by SQLite and Diesel rather than by this crate's model.
//!
//! Each case writes a project whose head is a hand-written first migration: a few tables with
//! integer keys (inline, table-level, AUTOINCREMENT, composite, WITHOUT ROWID) or none (keyed
//! by their rowid, as print-schema does, holding rowids with gaps), columns of every type
//! print-schema reads, spelled the many ways SQL allows, named with keywords, capitals and
//! spaces; NOT NULL, DEFAULT, CHECK, COLLATE, UNIQUE and generated columns; foreign keys with
//! their actions, references to the table itself and to tables created later (often round a
//! cycle of three or more tables), table constraints; and random indexes, views and triggers
//! over real columns (one of them inserting rows elsewhere). A quarter of the projects split
//! their tables over two `[print_schema.KEY]` sections, so references cross from one schema
//! file to the other, where print-schema writes no joinable.
//! schema.rs is head with random edits: columns added, dropped, retyped, made nullable or NOT
//! NULL, tables added and dropped, joinables added and dropped, keys changed, tables and
//! columns renamed (`--rename-table`, `--rename`), every type written with a random Diesel
//! alias. `generate` runs with the `--default` flags this test works out for itself; often a
//! second `generate` follows on top of the first migration.
//!
//! - `generate` exits 0 or 2, never 3 or by a signal. Exit 2 says `error:`, is no panic, and
//!   leaves the tree and the temp dir as they were; when it names a view, trigger or
//!   referencing column, the target must really take away what that needs.
//! - On exit 0, `check` passes. On a real database file at head with rows this test inserted
//!   (NULLs, quotes, blobs, reals), the migration applied through diesel_migrations' harness
//!   keeps every row of every kept table and the values of every column it keeps unchanged
//!   (or fails atomically, only where the rows cannot be what schema.rs says). Then
//!   `PRAGMA integrity_check` and `foreign_key_check` are clean; every view selects; SQLite
//!   can still read every view and trigger (a later ALTER TABLE works); the tables are what
//!   schema.rs says, read with print-schema's rules as written here from diesel_cli's source
//!   (not with `dev::schema::model`). Reverting it restores `sqlite_schema` byte for byte (type, name,
//!   tbl_name, sql), the rows and the values; applying it again works.
//!
//! The `#[ignore]`d twin runs the real `diesel print-schema` on the upgraded database instead
//! of the emulation: its output, aliases aside, must be the schema.rs the case wrote, and
//! `check` must pass with it as schema.rs. It needs `DIESEL_CLI` (`.ci/run` sets it).
//!
//! 24 cases by default; `PROPTEST_CASES` asks for more (`.ci/run` runs 256), and
//! `SHOW_REFUSALS=1` prints every exit 2 with its case. Failures are not persisted: the shrunk
//! case is in the message, with the project files it wrote. After the properties come the
//! bugs they found, each reduced to a test of its own.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{application_database, Project, BIN};
use diesel_migrations::MigrationHarness;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// 24 cases, unless `PROPTEST_CASES` asks for more.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Types: the names schema.rs may use, and the declared SQL types print-schema reads as them.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ty {
    Bool,
    SmallInt,
    Integer,
    BigInt,
    Float,
    Double,
    Text,
    Binary,
    Timestamp,
    Date,
    Time,
}

const ALL_TYPES: [Ty; 11] = [
    Ty::Bool,
    Ty::SmallInt,
    Ty::Integer,
    Ty::BigInt,
    Ty::Float,
    Ty::Double,
    Ty::Text,
    Ty::Binary,
    Ty::Timestamp,
    Ty::Date,
    Ty::Time,
];

impl Ty {
    /// The names `diesel::sql_types` exports for it (the type and its `pub type` aliases).
    /// `Numeric`/`Decimal` are Diesel's own type, which SQLite stores and print-schema reads
    /// back as a double.
    fn rust_names(self) -> &'static [&'static str] {
        match self {
            Ty::Bool => &["Bool"],
            Ty::SmallInt => &["SmallInt", "Int2", "Smallint"],
            Ty::Integer => &["Integer", "Int4"],
            Ty::BigInt => &["BigInt", "Int8", "Bigint"],
            Ty::Float => &["Float", "Float4"],
            Ty::Double => &["Double", "Float8", "Numeric", "Decimal"],
            Ty::Text => &["Text", "VarChar", "Varchar", "Char", "Tinytext", "Longtext"],
            Ty::Binary => &["Binary", "Blob", "Varbinary", "Longblob", "Bit"],
            Ty::Timestamp => &["Timestamp"],
            Ty::Date => &["Date"],
            Ty::Time => &["Time"],
        }
    }

    /// Declared types a person writes in SQL that print-schema reads as this type.
    fn spellings(self) -> &'static [&'static str] {
        match self {
            Ty::Bool => &["BOOLEAN", "TINYINT"],
            Ty::SmallInt => &["SMALLINT", "INT2"],
            Ty::Integer => &["INTEGER", "INT", "MEDIUMINT"],
            Ty::BigInt => &["BIGINT", "INT8", "UNSIGNED BIG INT"],
            Ty::Float => &["REAL", "FLOAT"],
            Ty::Double => &["DOUBLE", "DOUBLE PRECISION", "NUMERIC(10,2)", "DECIMAL"],
            Ty::Text => &[
                "TEXT",
                "VARCHAR(255)",
                "CHARACTER(20)",
                "CLOB",
                "NVARCHAR(40)",
            ],
            Ty::Binary => &["BLOB", ""],
            Ty::Timestamp => &["TIMESTAMP", "DATETIME"],
            Ty::Date => &["DATE"],
            Ty::Time => &["TIME"],
        }
    }
}

/// How diesel print-schema reads a SQLite declared type, checked in diesel_cli's order
/// (`infer_schema_internals/sqlite.rs`): written here from that source, independently of
/// `dev::schema::model`, so the two can be compared.
fn print_schema_type(declared: &str) -> Option<Ty> {
    let t = declared.to_lowercase();
    let has = |s: &str| t.contains(s);
    Some(
        if t == "boolean" || t == "bool" || (has("tiny") && has("int")) {
            Ty::Bool
        } else if t == "int2" || (has("small") && has("int")) {
            Ty::SmallInt
        } else if t == "int8" || (has("big") && has("int")) {
            Ty::BigInt
        } else if has("int") {
            Ty::Integer
        } else if has("char") || has("clob") || has("text") {
            Ty::Text
        } else if has("blob") || has("binary") || t.is_empty() {
            Ty::Binary
        } else if has("float") || has("real") {
            Ty::Float
        } else if has("double") || has("num") || has("dec") {
            Ty::Double
        } else if t == "datetime" || t == "timestamp" {
            Ty::Timestamp
        } else if t == "date" {
            Ty::Date
        } else if t == "time" {
            Ty::Time
        } else {
            return None;
        },
    )
}

/// The Diesel type a schema.rs name stands for.
fn rust_type(name: &str) -> Option<Ty> {
    ALL_TYPES
        .into_iter()
        .find(|ty| ty.rust_names().contains(&name))
}

// ---------------------------------------------------------------------------------------------
// The model this test keeps of head and of schema.rs.

#[derive(Debug, Clone)]
struct Col {
    name: String,
    ty: Ty,
    nullable: bool,
    /// The head column this one was, when it came from head.
    origin: Option<String>,
    /// How schema.rs writes its type: an index into `rust_names`, past their count meaning
    /// with the `diesel::sql_types::` path.
    alias: usize,
    /// Head only: the DEFAULT the migration writes.
    default: Option<&'static str>,
    /// Head only: `GENERATED ALWAYS AS (...)`, which takes no inserted value.
    generated: bool,
    /// Head only: a CHECK constraint.
    check: bool,
}

impl Col {
    /// The implicit rowid print-schema keys a table without a primary key by: no column
    /// SQL declares, so no index, constraint, trigger or reference may name it.
    fn is_rowid(&self) -> bool {
        self.name == "rowid"
    }

    fn rust(&self) -> String {
        let names = self.ty.rust_names();
        let name = names[self.alias % names.len()];
        let path = if self.alias >= names.len() {
            "diesel::sql_types::"
        } else {
            ""
        };
        if self.nullable {
            format!("Nullable<{path}{name}>")
        } else {
            format!("{path}{name}")
        }
    }
}

#[derive(Debug, Clone)]
struct Tbl {
    name: String,
    origin: Option<String>,
    /// The column that holds the key the test's rows were inserted with (`id` at first).
    row_key: String,
    key: Vec<String>,
    cols: Vec<Col>,
    /// Joinables: column to parent table.
    joins: BTreeMap<String, String>,
}

impl Tbl {
    fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }

    fn col_mut(&mut self, name: &str) -> Option<&mut Col> {
        self.cols.iter_mut().find(|c| c.name == name)
    }

    /// The columns SQL declares: all but the implicit rowid.
    fn declared(&self) -> Vec<&Col> {
        self.cols.iter().filter(|c| !c.is_rowid()).collect()
    }
}

#[derive(Debug, Clone, Default)]
struct Model {
    tables: Vec<Tbl>,
    /// With two `[print_schema.KEY]` sections: the table names the second one selects (by
    /// name, so a table renamed may change section). `None`: one schema.rs.
    second: Option<BTreeSet<String>>,
}

/// The sections' keys and files: the first takes every table the second does not.
const SECTIONS: [(&str, &str); 2] = [("main", "schema/schema.rs"), ("extra", "schema/extra.rs")];

impl Model {
    /// Which section a table is in (0 without sections).
    fn section(&self, table: &str) -> usize {
        usize::from(self.second.as_ref().is_some_and(|s| s.contains(table)))
    }

    /// Whether a reference from `a` to `b` crosses sections: print-schema then writes no
    /// joinable for it, and schema.rs can neither add nor drop one.
    fn crosses(&self, a: &str, b: &str) -> bool {
        self.section(a) != self.section(b)
    }

    fn table(&self, name: &str) -> Option<&Tbl> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The type of the single declared key a foreign key can reference (never a rowid).
    fn key_type(&self, table: &str) -> Option<Ty> {
        let t = self.table(table)?;
        match t.key.as_slice() {
            [key] => t.col(key).filter(|c| !c.is_rowid()).map(|c| c.ty),
            _ => None,
        }
    }

    /// Whether references go round a cycle of tables (a self-reference is no joinable).
    fn has_cycle(&self) -> bool {
        // Tables that reference nothing, or only tables already taken out, are taken out
        // until none is left; what remains is on a cycle, or references one.
        let mut left: BTreeSet<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
        loop {
            let free: Vec<&str> = left
                .iter()
                .copied()
                .filter(|name| {
                    self.table(name)
                        .is_some_and(|t| t.joins.values().all(|p| !left.contains(p.as_str())))
                })
                .collect();
            if free.is_empty() {
                return !left.is_empty();
            }
            for name in free {
                left.remove(name);
            }
        }
    }

    /// Whether a joinable already links `a` and `b`, either way (Diesel allows one).
    fn joined(&self, a: &str, b: &str) -> bool {
        self.tables.iter().any(|t| {
            t.joins
                .values()
                .any(|p| (t.name == a && p == b) || (t.name == b && p == a))
        })
    }
}

/// What print-schema describes: per table, columns with type and nullability, the key
/// columns and the joinables. Column order and aliases do not matter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CanonTable {
    columns: BTreeMap<String, (Ty, bool)>,
    key: BTreeSet<String>,
    joins: BTreeSet<(String, String)>,
}

type Canon = BTreeMap<String, CanonTable>;

fn canon(model: &Model) -> Canon {
    model
        .tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                CanonTable {
                    columns: t
                        .cols
                        .iter()
                        .map(|c| (c.name.clone(), (c.ty, c.nullable)))
                        .collect(),
                    key: t.key.iter().cloned().collect(),
                    joins: t
                        .joins
                        .iter()
                        .map(|(c, p)| (c.clone(), p.clone()))
                        .collect(),
                },
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Random cases.

const TABLES: [&str; 7] = [
    "users", "posts", "tags", "group", "notes", "items", "events",
];
const RENAMED_TABLES: [&str; 4] = ["people", "entries", "labels", "archive"];
/// Column names, with a SQL keyword, a capital and a space, which schema.rs writes with
/// `#[sql_name]`.
const COLUMNS: [&str; 16] = [
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
];
const RENAMED_COLUMNS: [&str; 5] = ["title", "total", "status", "detail", "position"];
/// Names SQLite reads as keywords, which SQL must quote.
const KEYWORDS: [&str; 2] = ["group", "order"];

#[derive(Debug, Clone)]
struct ColGen {
    name: Index,
    ty: Ty,
    spelling: Index,
    alias: Index,
    nullable: bool,
    default: bool,
    check: bool,
    /// 1: COLLATE NOCASE (text), 2: UNIQUE, 3: GENERATED ALWAYS AS (...), else nothing.
    extra: u8,
}

#[derive(Debug, Clone)]
struct TableGen {
    big_key: bool,
    key_spelling: Index,
    /// 0: `id ... PRIMARY KEY`, 1: `PRIMARY KEY (id)` at the end, 2: AUTOINCREMENT.
    key_form: u8,
    key_nullable: bool,
    cols: Vec<ColGen>,
    /// A foreign key to an earlier table: which, nullable, how it is written, its action.
    parent: Option<(Index, bool, u8, u8)>,
    quoted: bool,
    /// A nullable `parent_id` referencing the table itself (never a joinable).
    self_reference: bool,
    /// The key is `(id, first column)`.
    composite: bool,
    /// No primary key: `id` is a plain column and print-schema keys the table by `rowid`.
    rowid_keyed: bool,
    /// A foreign key to a later table (which, nullable), so that references may go round in
    /// a cycle.
    forward: Option<(Index, bool)>,
    without_rowid: bool,
    /// A table constraint over two columns: `UNIQUE (id, c)` or a CHECK naming two.
    constraint: Option<(bool, Index, Index)>,
}

#[derive(Debug, Clone)]
enum ExtraGen {
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
enum EditGen {
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
struct Case {
    names: Vec<&'static str>,
    tables: Vec<TableGen>,
    extras: Vec<ExtraGen>,
    edits: Vec<EditGen>,
    /// A second generate on top of the first one's migration, when not empty.
    more_edits: Vec<EditGen>,
    rows: i64,
    /// The first row holds values chosen to break a copy (see `value`).
    hostile: bool,
    /// Each table references the one before it, and the first the last, where keys allow.
    cycle: bool,
    /// Two schema sections: which of `TABLES` and `RENAMED_TABLES` the second selects.
    sections: Option<Vec<bool>>,
}

fn ty() -> impl Strategy<Value = Ty> {
    prop::sample::select(ALL_TYPES.to_vec())
}

fn col_gen() -> impl Strategy<Value = ColGen> {
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

fn table_gen() -> impl Strategy<Value = TableGen> {
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

fn extra_gen() -> impl Strategy<Value = ExtraGen> {
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

fn edit_gen() -> impl Strategy<Value = EditGen> {
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

fn case() -> impl Strategy<Value = Case> {
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
    )
        .prop_map(
            |(names, tables, extras, edits, more_edits, rows, hostile, cycle, sections)| Case {
                names,
                tables,
                extras,
                edits,
                more_edits,
                rows,
                hostile,
                cycle,
                sections,
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Head: the model, its hand-written migration, and the rows.

/// An identifier as a person would write it: quoted when SQLite needs it, or when the table's
/// author quotes everything.
fn ident(name: &str, always: bool) -> String {
    if always || KEYWORDS.contains(&name) || !plain(name) {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

/// A name that is an identifier in SQL and in Rust as it is.
fn plain(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The Rust name schema.rs gives a column: its SQL name when that is an identifier, else
/// one made of it (and `#[sql_name]` keeps the SQL name).
fn rust_name(name: &str) -> String {
    if plain(name) {
        name.to_owned()
    } else {
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    }
}

/// The DEFAULT a hand-written NOT NULL column may have.
fn head_default(ty: Ty) -> &'static str {
    match ty {
        Ty::Bool | Ty::SmallInt | Ty::Integer | Ty::BigInt => "0",
        Ty::Float | Ty::Double => "0.5",
        Ty::Text => "'none'",
        Ty::Binary => "x'00'",
        Ty::Timestamp => "CURRENT_TIMESTAMP",
        Ty::Date => "'2000-01-01'",
        Ty::Time => "'00:00:00'",
    }
}

fn check_clause(ty: Ty, column: &str) -> String {
    match ty {
        Ty::Bool => format!("CHECK ({column} IN (0, 1))"),
        Ty::SmallInt | Ty::Integer | Ty::BigInt | Ty::Float | Ty::Double => {
            format!("CHECK ({column} >= 0)")
        }
        _ => format!("CHECK (length({column}) < 100)"),
    }
}

/// What an index, view or trigger of head depends on.
#[derive(Debug, Clone)]
struct Object {
    kind: &'static str,
    name: String,
    /// The table it belongs to (a view: the one it selects from).
    table: String,
    /// The head tables and columns it names (`None`: the table only). A view or trigger
    /// breaks when one of them goes, but a trigger goes with its own table.
    deps: Vec<(String, Option<String>)>,
    /// A trigger's `UPDATE OF` column, when it has one.
    fired_by: Option<(String, String)>,
}

struct Head {
    model: Model,
    up: String,
    down: String,
    objects: Vec<Object>,
    /// Columns a UNIQUE index covers: never NULL in the rows, so a backfill cannot collide.
    unique: BTreeSet<(String, String)>,
}

impl TableGen {
    /// Its columns, each name once.
    fn columns(&self) -> Vec<&ColGen> {
        let mut columns: Vec<&ColGen> = Vec::new();
        for c in &self.cols {
            let column = *c.name.get(&COLUMNS);
            if !columns.iter().any(|x| *x.name.get(&COLUMNS) == column) {
                columns.push(c);
            }
        }
        columns
    }

    /// The second column of a composite key: the first column that is not generated.
    fn second_key(&self) -> Option<String> {
        self.columns()
            .into_iter()
            .find(|c| c.extra != 3)
            .filter(|_| self.composite && !self.rowid_keyed)
            .map(|c| c.name.get(&COLUMNS).to_string())
    }

    /// Keyed by the implicit rowid: a rowid table asking for no primary key.
    fn by_rowid(&self) -> bool {
        self.rowid_keyed && !self.without_rowid && !self.composite
    }

    /// The type of `id` when it is the whole primary key, which a foreign key can reference.
    fn single_key(&self) -> Option<Ty> {
        let key_ty = if self.big_key {
            Ty::BigInt
        } else {
            Ty::Integer
        };
        (!self.by_rowid() && self.second_key().is_none()).then_some(key_ty)
    }
}

fn build_head(case: &Case) -> Head {
    let mut model = Model {
        tables: Vec::new(),
        second: case
            .sections
            .as_ref()
            .map(|second| {
                TABLES
                    .iter()
                    .chain(&RENAMED_TABLES)
                    .zip(second)
                    .filter(|(_, in_second)| **in_second)
                    .map(|(name, _)| (*name).to_owned())
                    .collect::<BTreeSet<String>>()
            })
            // An empty `only_tables` selects every table: no second section then.
            .filter(|second| !second.is_empty()),
    };
    let mut statements = Vec::new();
    let mut quoted = BTreeMap::new();
    let mut unique = BTreeSet::new();
    let tables = &case.tables;
    for (i, gen) in tables.iter().enumerate() {
        let name = case.names[i].to_owned();
        let q = |n: &str| ident(n, gen.quoted);
        let key_ty = if gen.big_key { Ty::BigInt } else { Ty::Integer };
        let columns = gen.columns();
        let second_key = gen.second_key();
        let by_rowid = gen.by_rowid();
        let autoincrement = gen.key_form == 2
            && key_ty == Ty::Integer
            && second_key.is_none()
            && !by_rowid
            && !gen.without_rowid;
        let key_sql = if autoincrement {
            "INTEGER".to_owned()
        } else {
            gen.key_spelling.get(&key_ty.spellings()[..2]).to_string()
        };
        let mut key_line = format!("    {} {key_sql}", q("id"));
        if !gen.key_nullable {
            key_line.push_str(" NOT NULL");
        }
        match gen.key_form {
            _ if second_key.is_some() || by_rowid => {}
            1 => {}
            _ if autoincrement => key_line.push_str(" PRIMARY KEY AUTOINCREMENT"),
            _ => key_line.push_str(" PRIMARY KEY"),
        }
        let mut lines = vec![key_line];
        let id = Col {
            name: "id".into(),
            ty: key_ty,
            nullable: gen.key_nullable,
            origin: Some("id".into()),
            alias: gen.key_spelling.index(8),
            default: None,
            generated: false,
            check: false,
        };
        let mut table = Tbl {
            name: name.clone(),
            origin: Some(name.clone()),
            key: vec!["id".into()],
            cols: vec![id.clone()],
            joins: BTreeMap::new(),
            row_key: "id".into(),
        };
        if by_rowid {
            // print-schema puts the rowid first, as a NOT NULL Integer.
            let rowid = Col {
                name: "rowid".into(),
                ty: Ty::Integer,
                nullable: false,
                origin: Some("rowid".into()),
                alias: 0,
                ..id
            };
            table.cols.insert(0, rowid);
            table.key = vec!["rowid".into()];
            table.row_key = "rowid".into();
        }
        let mut trailing = Vec::new();
        match &second_key {
            Some(second) => {
                trailing.push(format!("    PRIMARY KEY ({}, {})", q("id"), q(second)));
                table.key.push(second.clone());
            }
            None if by_rowid => {}
            None if gen.key_form == 1 => {
                trailing.push(format!("    PRIMARY KEY ({})", q("id")));
            }
            None => {}
        }
        if gen.self_reference && gen.single_key().is_some() {
            let spelling = key_ty.spellings()[0];
            lines.push(format!(
                "    {} {spelling} REFERENCES {} ({})",
                q("parent_id"),
                q(&name),
                q("id")
            ));
            table.cols.push(Col {
                name: "parent_id".into(),
                ty: key_ty,
                nullable: true,
                origin: Some("parent_id".into()),
                alias: 0,
                default: None,
                generated: false,
                check: false,
            });
        }
        let parents: Vec<&Tbl> = model
            .tables
            .iter()
            .filter(|t| model.key_type(&t.name).is_some() && !model.joined(&name, &t.name))
            .filter(|t| !case.cycle || t.name == case.names[i.saturating_sub(1)])
            .collect();
        let parent = match (&gen.parent, parents.is_empty()) {
            (_, true) => None,
            (Some((which, nullable, form, action)), false) => Some((
                parents[which.index(parents.len())],
                *nullable,
                *form,
                *action,
            )),
            (None, false) => case.cycle.then(|| (parents[0], true, 0, 0)),
        };
        if let Some((parent, nullable, form, action)) = parent {
            let parent_ty = model.key_type(&parent.name).expect("a single key");
            let column = format!("{}_id", parent.name);
            let spelling = parent_ty.spellings()[usize::from(form) % 2].to_owned();
            let parent_quoted = quoted[&parent.name];
            let reference = match form {
                1 => format!("REFERENCES {}", ident(&parent.name, parent_quoted)),
                _ => format!(
                    "REFERENCES {} ({})",
                    ident(&parent.name, parent_quoted),
                    ident("id", parent_quoted)
                ),
            };
            let action = match action {
                1 => " ON DELETE CASCADE",
                2 => " ON DELETE SET NULL",
                3 => " ON UPDATE CASCADE ON DELETE RESTRICT",
                4 => " DEFERRABLE INITIALLY DEFERRED",
                _ => "",
            };
            let mut line = format!("    {} {spelling}", q(&column));
            if !nullable {
                line.push_str(" NOT NULL");
            }
            if form == 2 {
                trailing.push(format!(
                    "    FOREIGN KEY ({}) {reference}{action}",
                    q(&column)
                ));
            } else {
                line.push_str(&format!(" {reference}{action}"));
            }
            lines.push(line);
            table.joins.insert(column.clone(), parent.name.clone());
            table.cols.push(Col {
                name: column.clone(),
                ty: parent_ty,
                nullable,
                origin: Some(column),
                alias: usize::from(form),
                default: None,
                generated: false,
                check: false,
            });
        }
        // A reference to a table created later: SQLite checks references on rows, not
        // when a table is created, so tables may reference each other round a cycle.
        let later: Vec<usize> = (i + 1..tables.len())
            .filter(|&j| tables[j].single_key().is_some())
            .filter(|&j| !case.cycle || (i == 0 && j == tables.len() - 1 && j > 1))
            .collect();
        let forward = match (&gen.forward, later.is_empty()) {
            (_, true) => None,
            (Some((which, nullable)), false) => Some((later[which.index(later.len())], *nullable)),
            (None, false) => case.cycle.then(|| (later[0], true)),
        };
        if let Some((j, nullable)) = forward {
            let parent = case.names[j].to_owned();
            let parent_ty = tables[j].single_key().expect("filtered");
            let column = format!("{parent}_id");
            let mut line = format!("    {} {}", q(&column), parent_ty.spellings()[0]);
            if !nullable {
                line.push_str(" NOT NULL");
            }
            line.push_str(&format!(
                " REFERENCES {} ({})",
                ident(&parent, tables[j].quoted),
                ident("id", tables[j].quoted)
            ));
            lines.push(line);
            table.joins.insert(column.clone(), parent);
            table.cols.push(Col {
                name: column.clone(),
                ty: parent_ty,
                nullable,
                origin: Some(column),
                alias: 0,
                default: None,
                generated: false,
                check: false,
            });
        }
        for c in columns {
            let column = c.name.get(&COLUMNS).to_string();
            let sql_type = c.spelling.get(c.ty.spellings()).to_string();
            let generated = c.extra == 3;
            let default = (!c.nullable && c.default && !generated).then(|| head_default(c.ty));
            let mut line = format!("    {}", q(&column));
            if !sql_type.is_empty() {
                line.push_str(&format!(" {sql_type}"));
            }
            if !c.nullable {
                line.push_str(" NOT NULL");
            }
            if generated {
                line.push_str(&format!(
                    " GENERATED ALWAYS AS ({} * 2){}",
                    q("id"),
                    if c.default { " STORED" } else { "" }
                ));
            }
            if let Some(d) = default {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            let check = c.check && c.ty != Ty::Binary && !generated;
            if check {
                line.push_str(&format!(" {}", check_clause(c.ty, &q(&column))));
            }
            if c.extra == 1 && c.ty == Ty::Text {
                line.push_str(" COLLATE NOCASE");
            }
            if c.extra == 2 && c.ty != Ty::Bool {
                line.push_str(" UNIQUE");
                unique.insert((name.clone(), column.clone()));
            }
            lines.push(line);
            table.cols.push(Col {
                name: column.clone(),
                ty: c.ty,
                nullable: c.nullable,
                origin: Some(column),
                alias: c.alias.index(2 * c.ty.rust_names().len()),
                default,
                generated,
                check,
            });
        }
        let declared = table.declared();
        let others: Vec<&&Col> = declared.iter().filter(|c| c.name != "id").collect();
        if let (Some((is_unique, first, second)), false) = (&gen.constraint, others.is_empty()) {
            let (a, b) = (&first.get(&others).name, &second.get(&declared).name);
            trailing.push(if *is_unique {
                // With the key in it, the rows (whose keys differ) always fit.
                format!("    CONSTRAINT {name}_pair UNIQUE ({}, {})", q("id"), q(a))
            } else {
                format!(
                    "    CONSTRAINT {name}_pair CHECK ({} IS NULL OR {} IS NULL OR 1)",
                    q(a),
                    q(b)
                )
            });
        }
        if gen.without_rowid {
            // SQLite makes the key of a WITHOUT ROWID table NOT NULL, and says so.
            for c in &mut table.cols {
                if table.key.contains(&c.name) {
                    c.nullable = false;
                }
            }
        }
        lines.extend(trailing);
        statements.push(format!(
            "CREATE TABLE {} (\n{}\n){};",
            q(&name),
            lines.join(",\n"),
            if gen.without_rowid {
                " WITHOUT ROWID"
            } else {
                ""
            }
        ));
        quoted.insert(name, gen.quoted);
        model.tables.push(table);
    }

    let mut objects = Vec::new();
    let n = model.tables.len();
    // Indexes first, so a trigger knows which columns are UNIQUE.
    let mut extras: Vec<(usize, &ExtraGen)> = case.extras.iter().enumerate().collect();
    extras.sort_by_key(|(_, e)| !matches!(e, ExtraGen::Index { .. }));
    for (k, extra) in extras {
        match extra {
            ExtraGen::Index {
                table,
                cols,
                unique: want_unique,
                partial,
                expression,
            } => {
                let t = &model.tables[table.index(n)];
                let mut columns: Vec<&Col> = Vec::new();
                for c in cols {
                    let col = *c.get(&t.declared());
                    if !columns.iter().any(|x| x.name == col.name) {
                        columns.push(col);
                    }
                }
                // Values are distinct per row for every type but Bool.
                let is_unique = *want_unique && columns.iter().all(|c| c.ty != Ty::Bool);
                let list: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let id = ident(&c.name, false);
                        if *expression && c.ty == Ty::Text {
                            format!("lower({id})")
                        } else {
                            id
                        }
                    })
                    .collect();
                let name = format!("ix_{k}");
                let mut sql = format!(
                    "CREATE {}INDEX {name} ON {} ({})",
                    if is_unique { "UNIQUE " } else { "" },
                    ident(&t.name, false),
                    list.join(", ")
                );
                if *partial {
                    sql.push_str(&format!(
                        " WHERE {} IS NOT NULL",
                        ident(&columns[0].name, false)
                    ));
                }
                if is_unique {
                    for c in &columns {
                        unique.insert((t.name.clone(), c.name.clone()));
                    }
                }
                statements.push(format!("{sql};"));
                objects.push(Object {
                    kind: "index",
                    fired_by: None,
                    name,
                    table: t.name.clone(),
                    deps: columns
                        .iter()
                        .map(|c| (t.name.clone(), Some(c.name.clone())))
                        .collect(),
                });
            }
            ExtraGen::View { kind, table, col } => {
                let t = &model.tables[table.index(n)];
                let c = &col.get(&t.cols).name;
                let (tq, cq) = (ident(&t.name, false), ident(c, false));
                let name = format!("v_{k}");
                let join = t.joins.iter().next();
                let on = |c: &str| (t.name.clone(), Some(c.to_owned()));
                let (body, table_name, deps) = match (kind, join) {
                    (1, _) => (
                        format!("SELECT * FROM {tq}"),
                        &t.name,
                        vec![(t.name.clone(), None)],
                    ),
                    (2, _) => (
                        format!("SELECT count(*) AS n FROM {tq}"),
                        &t.name,
                        vec![(t.name.clone(), None)],
                    ),
                    (3, Some((fk, parent))) => {
                        let p = model.table(parent).expect("joined to a head table");
                        let pc = &col.get(&p.cols).name;
                        (
                            format!(
                                "SELECT c.{} AS child_id, p.{} AS parent_value FROM {tq} AS c JOIN {} AS p ON p.{} = c.{}",
                                ident("id", false),
                                ident(pc, false),
                                ident(parent, false),
                                ident("id", false),
                                ident(fk, false)
                            ),
                            &t.name,
                            vec![
                                on("id"),
                                on(fk),
                                (parent.clone(), Some("id".to_owned())),
                                (parent.clone(), Some(pc.clone())),
                            ],
                        )
                    }
                    (4, _) => (
                        format!("SELECT {cq} FROM {tq} WHERE {cq} IS NOT NULL ORDER BY {cq}"),
                        &t.name,
                        vec![on(c)],
                    ),
                    _ => (
                        format!("SELECT {}, {cq} FROM {tq}", ident("id", false)),
                        &t.name,
                        vec![on("id"), on(c)],
                    ),
                };
                statements.push(format!("CREATE VIEW {name} AS {body};"));
                objects.push(Object {
                    kind: "view",
                    fired_by: None,
                    name,
                    table: table_name.clone(),
                    deps,
                });
            }
            ExtraGen::Trigger {
                kind,
                table,
                col,
                other,
                other_col,
            } => {
                let t = &model.tables[table.index(n)];
                let c = &col.get(&t.declared()).name;
                let o = &model.tables[other.index(n)];
                // A generated column cannot be updated: a trigger doing so never compiles.
                let settable: Vec<&Col> =
                    o.declared().into_iter().filter(|x| !x.generated).collect();
                let oc = &settable[other_col.index(settable.len())].name;
                let (tq, cq) = (ident(&t.name, false), ident(c, false));
                let (oq, ocq) = (ident(&o.name, false), ident(oc, false));
                let name = format!("tr_{k}");
                // A row of `o` made from defaults alone: its key past the rows the test
                // inserts, every other column nullable, defaulted or generated, and no
                // UNIQUE column, which a default (or a backfill of its NULLs) would repeat.
                let takes_defaults = o.key.len() == 1
                    && o.cols.iter().all(|x| {
                        o.key.contains(&x.name)
                            || ((x.generated || x.nullable || x.default.is_some())
                                && !unique.contains(&(o.name.clone(), x.name.clone())))
                    });
                let kind = if *kind == 4 && !takes_defaults {
                    2
                } else {
                    *kind
                };
                let sql = match kind {
                    4 => {
                        // 0 in every column with a DEFAULT: it passes every CHECK here and
                        // converts to every type, which the DEFAULT itself may not.
                        let defaulted: Vec<&Col> =
                            o.cols.iter().filter(|x| x.default.is_some()).collect();
                        let mut names = vec![ident("id", false)];
                        names.extend(defaulted.iter().map(|x| ident(&x.name, false)));
                        let zeros = ", 0".repeat(defaulted.len());
                        format!(
                            "CREATE TRIGGER {name} AFTER INSERT ON {tq}\nBEGIN\n    INSERT INTO {oq} ({}) SELECT coalesce(max({id}), 0) + 1000{zeros} FROM {oq};\nEND;",
                            names.join(", "),
                            id = ident("id", false)
                        )
                    }
                    0 => format!(
                        "CREATE TRIGGER {name} BEFORE DELETE ON {tq}\nBEGIN\n    SELECT RAISE(ABORT, 'rows of {} are never deleted');\nEND;",
                        t.name
                    ),
                    1 => format!(
                        "CREATE TRIGGER {name} AFTER UPDATE OF {cq} ON {tq}\nBEGIN\n    UPDATE {oq} SET {ocq} = {ocq} WHERE {} = NEW.{};\nEND;",
                        ident("id", false),
                        ident("id", false)
                    ),
                    2 => format!(
                        "CREATE TRIGGER {name} AFTER INSERT ON {tq} WHEN NEW.{cq} IS NOT NULL\nBEGIN\n    SELECT NEW.{cq}, NEW.{};\nEND;",
                        ident("id", false)
                    ),
                    _ => format!(
                        "CREATE TRIGGER {name} BEFORE UPDATE ON {tq}\nBEGIN\n    SELECT RAISE(ABORT, '{} is frozen');\nEND;",
                        t.name
                    ),
                };
                statements.push(sql);
                objects.push(Object {
                    kind: "trigger",
                    fired_by: (kind == 1).then(|| (t.name.clone(), c.clone())),
                    name,
                    table: t.name.clone(),
                    deps: match kind {
                        1 => vec![
                            (t.name.clone(), Some(c.clone())),
                            (t.name.clone(), Some("id".to_owned())),
                            (o.name.clone(), Some(oc.clone())),
                            (o.name.clone(), Some("id".to_owned())),
                        ],
                        2 => vec![
                            (t.name.clone(), Some(c.clone())),
                            (t.name.clone(), Some("id".to_owned())),
                        ],
                        4 => std::iter::once("id")
                            .chain(
                                o.cols
                                    .iter()
                                    .filter(|x| x.default.is_some())
                                    .map(|x| x.name.as_str()),
                            )
                            .map(|x| (o.name.clone(), Some(x.to_owned())))
                            .collect(),
                        _ => vec![],
                    },
                });
            }
        }
    }
    let mut down: Vec<String> = objects
        .iter()
        .filter(|o| o.kind == "view")
        .map(|o| format!("DROP VIEW {};", o.name))
        .collect();
    down.extend(
        model
            .tables
            .iter()
            .rev()
            .map(|t| format!("DROP TABLE {};", ident(&t.name, false))),
    );
    Head {
        model,
        up: format!(
            "-- Written by hand, as a Diesel user would.\n{}\n",
            statements.join("\n\n")
        ),
        down: format!("{}\n", down.join("\n")),
        objects,
        unique,
    }
}

/// The value row `i` of a head column holds (a rowid: 10, 20, 35, 40). `whole`: the column changes type, so it holds
/// whole numbers, which convert to and from most types. `hostile` (row 1 of a hostile case,
/// in a column that is no key, reference or UNIQUE): a value of the column's type that
/// copies get wrong and conversions cannot keep: text that looks like a number, integers at
/// the end of the Rust type's range or past 2^53, REALs without an exact binary form or past
/// f32, a NUL in text, a lone zero byte; a type change must then keep it exactly or fail,
/// atomically, naming the column.
fn value(col: &Col, i: i64, whole: bool, never_null: bool, hostile: bool) -> String {
    if col.is_rowid() {
        // Gaps, which a copy that numbers rows anew closes.
        return format!("{}", 10 * i + 5 * (i / 3));
    }
    if col.nullable && i == 2 && !never_null {
        return "NULL".into();
    }
    if hostile && i == 1 {
        return match col.ty {
            Ty::Bool => "1",
            Ty::SmallInt => "32767",
            Ty::Integer => "2147483647",
            Ty::BigInt => "9007199254740993",
            Ty::Float => "0.1",
            Ty::Double => "1e300",
            Ty::Text if whole => "'007'",
            Ty::Text => "'a' || char(0) || 'é'",
            Ty::Binary => "x'00'",
            Ty::Timestamp | Ty::Date | Ty::Time => "'1.50'",
        }
        .to_owned();
    }
    match col.ty {
        Ty::Bool => format!("{}", i % 2),
        _ if whole => format!("{i}"),
        Ty::SmallInt | Ty::Integer | Ty::BigInt => format!("{i}"),
        Ty::Float | Ty::Double => format!("{i}.5"),
        Ty::Text => format!("'v{i} it''s'"),
        Ty::Binary => format!("x'0{i}ff'"),
        Ty::Timestamp => format!("'2025-0{i}-01 10:00:00'"),
        Ty::Date => format!("'2025-0{i}-01'"),
        Ty::Time => format!("'10:0{i}:00'"),
    }
}

// ---------------------------------------------------------------------------------------------
// Target: head with the edits, and what `generate` needs to be told.

struct Target {
    model: Model,
    flags: Vec<String>,
}

fn apply_edits(head: &Model, edits: &[EditGen]) -> Model {
    let mut m = head.clone();
    for edit in edits {
        let n = m.tables.len();
        if n == 0 && !matches!(edit, EditGen::AddTable { .. }) {
            continue;
        }
        match edit {
            EditGen::AddColumn {
                table,
                name,
                ty,
                alias,
                nullable,
                join,
            } => {
                let ti = table.index(n);
                let parent = join.as_ref().map(|j| m.tables[j.index(n)].name.clone());
                let t_name = m.tables[ti].name.clone();
                let joinable = parent.filter(|p| {
                    *p != t_name
                        && m.key_type(p).is_some()
                        && !m.joined(&t_name, p)
                        && !m.crosses(&t_name, p)
                });
                let (column, ty) = match &joinable {
                    Some(p) => (format!("{p}_id"), m.key_type(p).expect("checked")),
                    None => (name.get(&COLUMNS).to_string(), *ty),
                };
                let t = &mut m.tables[ti];
                if t.col(&column).is_some() {
                    continue;
                }
                t.cols.push(Col {
                    name: column.clone(),
                    ty,
                    nullable: *nullable,
                    origin: None,
                    alias: alias.index(2 * ty.rust_names().len()),
                    default: None,
                    generated: false,
                    check: false,
                });
                if let Some(p) = joinable {
                    t.joins.insert(column, p);
                }
            }
            EditGen::DropColumn { table, column } => {
                let t = &mut m.tables[table.index(n)];
                let c = column.get(&t.cols).name.clone();
                if t.key.contains(&c) {
                    continue;
                }
                t.cols.retain(|x| x.name != c);
                t.joins.remove(&c);
            }
            EditGen::Retype {
                table,
                column,
                ty,
                alias,
            } => {
                let ti = table.index(n);
                let t = &m.tables[ti];
                let c = column.get(&t.cols).name.clone();
                if t.key.contains(&c) {
                    continue;
                }
                // A reference across sections is none schema.rs can drop: it stays.
                let parent = t.joins.get(&c).cloned();
                if parent.is_some_and(|p| !m.crosses(&t.name, &p)) {
                    m.tables[ti].joins.remove(&c);
                }
                let t = &mut m.tables[ti];
                let col = t.col_mut(&c).expect("picked");
                col.ty = *ty;
                col.alias = alias.index(2 * ty.rust_names().len());
            }
            EditGen::Nullability { table, column } => {
                let t = &mut m.tables[table.index(n)];
                let col = column.get_mut(&mut t.cols);
                if col.is_rowid() {
                    continue;
                }
                col.nullable = !col.nullable;
            }
            EditGen::AddTable {
                name,
                cols,
                big_key,
                join,
            } => {
                let table_name = name.get(&TABLES).to_string();
                if m.table(&table_name).is_some() {
                    continue;
                }
                let key_ty = if *big_key { Ty::BigInt } else { Ty::Integer };
                let mut t = Tbl {
                    name: table_name,
                    origin: None,
                    key: vec!["id".into()],
                    cols: vec![Col {
                        name: "id".into(),
                        ty: key_ty,
                        nullable: false,
                        origin: None,
                        alias: 0,
                        default: None,
                        generated: false,
                        check: false,
                    }],
                    joins: BTreeMap::new(),
                    row_key: "id".into(),
                };
                if let Some((parent, nullable)) = join.as_ref().filter(|_| n > 0) {
                    let p = m.tables[parent.index(n)].name.clone();
                    let ty = m.key_type(&p).filter(|_| !m.crosses(&t.name, &p));
                    if let Some(ty) = ty {
                        let column = format!("{p}_id");
                        t.cols.push(Col {
                            name: column.clone(),
                            ty,
                            nullable: *nullable,
                            origin: None,
                            alias: 1,
                            default: None,
                            generated: false,
                            check: false,
                        });
                        t.joins.insert(column, p);
                    }
                }
                for (name, ty, alias, nullable) in cols {
                    let column = name.get(&COLUMNS).to_string();
                    if t.col(&column).is_none() {
                        t.cols.push(Col {
                            name: column,
                            ty: *ty,
                            nullable: *nullable,
                            origin: None,
                            alias: alias.index(2 * ty.rust_names().len()),
                            default: None,
                            generated: false,
                            check: false,
                        });
                    }
                }
                m.tables.push(t);
            }
            EditGen::DropTable {
                table,
                with_references,
            } => {
                let gone = m.tables.remove(table.index(n)).name;
                for t in &mut m.tables {
                    let children: Vec<String> = t
                        .joins
                        .iter()
                        .filter(|(_, p)| **p == gone)
                        .map(|(c, _)| c.clone())
                        .collect();
                    for c in children {
                        t.joins.remove(&c);
                        if *with_references && !t.key.contains(&c) {
                            t.cols.retain(|x| x.name != c);
                        }
                    }
                }
            }
            EditGen::AddJoinable {
                table,
                column,
                parent,
            } => {
                let ti = table.index(n);
                let p = m.tables[parent.index(n)].name.clone();
                let t_name = m.tables[ti].name.clone();
                let Some(key_ty) = m.key_type(&p) else {
                    continue;
                };
                if p == t_name || m.joined(&t_name, &p) || m.crosses(&t_name, &p) {
                    continue;
                }
                let t = &mut m.tables[ti];
                let candidates: Vec<String> = t
                    .cols
                    .iter()
                    .filter(|c| c.ty == key_ty && !c.is_rowid() && !t.joins.contains_key(&c.name))
                    .map(|c| c.name.clone())
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                t.joins.insert(column.get(&candidates).clone(), p);
            }
            EditGen::DropJoinable { table, column } => {
                let ti = table.index(n);
                let t = &m.tables[ti];
                // Only a joinable schema.rs writes can be taken out of it.
                let joined: Vec<String> = t
                    .joins
                    .iter()
                    .filter(|(_, p)| !m.crosses(&t.name, p))
                    .map(|(c, _)| c.clone())
                    .collect();
                if !joined.is_empty() {
                    m.tables[ti].joins.remove(column.get(&joined));
                }
            }
            EditGen::RenameColumn { table, column, to } => {
                let t = &mut m.tables[table.index(n)];
                let declared = t.declared();
                if declared.is_empty() {
                    continue;
                }
                let from = column.get(&declared).name.clone();
                let to = to.get(&RENAMED_COLUMNS).to_string();
                // Renaming onto a name head's table still has is refused by `generate`
                // (`versions/ already has a column`), so it is not asked for.
                let head_has = t
                    .origin
                    .as_ref()
                    .and_then(|o| head.table(o))
                    .is_some_and(|h| h.col(&to).is_some());
                if t.col(&to).is_some() || head_has {
                    continue;
                }
                t.col_mut(&from).expect("picked").name = to.clone();
                if t.row_key == from {
                    t.row_key = to.clone();
                }
                for k in &mut t.key {
                    if *k == from {
                        *k = to.clone();
                    }
                }
                if let Some(p) = t.joins.remove(&from) {
                    t.joins.insert(to, p);
                }
            }
            EditGen::RenameTable { table, to } => {
                let ti = table.index(n);
                let to = to.get(&RENAMED_TABLES).to_string();
                if m.table(&to).is_some() || head.table(&to).is_some() {
                    continue;
                }
                let from = std::mem::replace(&mut m.tables[ti].name, to.clone());
                for t in &mut m.tables {
                    for p in t.joins.values_mut() {
                        if *p == from {
                            *p = to.clone();
                        }
                    }
                }
            }
            EditGen::ChangeKey { table, column } => {
                let ti = table.index(n);
                let name = m.tables[ti].name.clone();
                if m.tables
                    .iter()
                    .any(|t| t.joins.values().any(|p| *p == name))
                {
                    continue;
                }
                let t = &mut m.tables[ti];
                // Not asked for: a declared key in place of the rowid changes which rows are
                // which by design, and this test compares rows by their head key.
                if t.key == ["rowid"] {
                    continue;
                }
                if t.key.len() > 1 {
                    t.key.truncate(1);
                } else {
                    let c = column.get(&t.cols).name.clone();
                    if t.key.contains(&c) {
                        continue;
                    }
                    t.key.push(c);
                }
            }
        }
    }
    m
}

/// The head table a target table is, as `generate` will see it once the renames are made:
/// the one it was renamed from, or the one of the same name nobody was renamed from.
fn head_table_of<'a>(head: &'a Model, target: &Model, t: &Tbl) -> Option<&'a Tbl> {
    match &t.origin {
        Some(o) => head.table(o),
        None => head.table(&t.name).filter(|h| {
            !target
                .tables
                .iter()
                .any(|x| x.origin.as_deref() == Some(h.name.as_str()))
        }),
    }
}

/// The same for a column of `t`, whose head table is `h`.
fn head_column_of<'a>(h: &'a Tbl, t: &Tbl, c: &Col) -> Option<&'a Col> {
    match &c.origin {
        Some(o) if t.origin.is_some() => h.col(o),
        Some(_) => None,
        None => h.col(&c.name).filter(|hc| {
            !t.cols
                .iter()
                .any(|x| t.origin.is_some() && x.origin.as_deref() == Some(hc.name.as_str()))
        }),
    }
}

/// The value existing rows get for a column that needs one: a parent's key for an integer
/// (it may be a foreign key), `CURRENT_TIMESTAMP` for a timestamp (a non-constant default,
/// which ADD COLUMN refuses on rows); `whole`: a number, which converts to any type a later
/// step gives the column.
fn default_value(ty: Ty, whole: bool) -> &'static str {
    match ty {
        Ty::SmallInt | Ty::Integer | Ty::BigInt => "1",
        // A later step may change the column's type: 0 converts to every one.
        _ if whole => "0",
        Ty::Bool => "0",
        Ty::Float | Ty::Double => "0",
        Ty::Text => "''",
        Ty::Binary => "x''",
        Ty::Timestamp => "CURRENT_TIMESTAMP",
        Ty::Date => "'2026-01-01'",
        Ty::Time => "'00:00:00'",
    }
}

fn target_of(head: &Model, edits: &[EditGen], whole: bool) -> Target {
    let model = apply_edits(head, edits);
    let mut flags = Vec::new();
    for t in &model.tables {
        if let Some(o) = t.origin.as_ref().filter(|o| **o != t.name) {
            flags.extend(["--rename-table".to_owned(), format!("{o}={}", t.name)]);
        }
    }
    for t in &model.tables {
        if t.origin.is_none() {
            continue;
        }
        for c in &t.cols {
            if let Some(o) = c.origin.as_ref().filter(|o| **o != c.name) {
                flags.extend(["--rename".to_owned(), format!("{}.{o}={}", t.name, c.name)]);
            }
        }
    }
    // Which columns need a value for the rows they already have, worked out from the two
    // schemas: NOT NULL columns added to kept tables or made NOT NULL, and NOT NULL columns
    // without a DEFAULT that are dropped (down adds them back).
    for t in &model.tables {
        let Some(h) = head_table_of(head, &model, t) else {
            continue;
        };
        for c in &t.cols {
            let head_column = head_column_of(h, t, c);
            let needs = match head_column {
                None => !c.nullable,
                Some(hc) => hc.nullable && !c.nullable,
            };
            if needs {
                // The column keeps its CHECK through a change of type; 0 passes every one
                // this test writes, whatever the type.
                // A foreign key at head keeps rows pointing at row 1 of its parent: down puts
                // the reference back, and the NULLs this value replaces cannot come back.
                let references = head_column
                    .is_some_and(|hc| h.joins.contains_key(&hc.name) || hc.name == "parent_id");
                let value = if references {
                    "1"
                } else if head_column.is_some_and(|hc| hc.check) {
                    "0"
                } else {
                    default_value(c.ty, whole)
                };
                flags.extend([
                    "--default".to_owned(),
                    format!("{}.{}={value}", t.name, c.name),
                ]);
            }
        }
        for hc in &h.cols {
            let kept = t
                .cols
                .iter()
                .any(|c| head_column_of(h, t, c).is_some_and(|x| x.name == hc.name));
            if !kept && !hc.nullable && hc.default.is_none() && !hc.generated && !hc.is_rowid() {
                flags.extend([
                    "--default".to_owned(),
                    format!("{}.{}={}", t.name, hc.name, default_value(hc.ty, whole)),
                ]);
            }
        }
    }
    Target { model, flags }
}

/// The schema files, as `(path, text)`: one, or one per section.
fn render_schema(model: &Model) -> Vec<(&'static str, String)> {
    match model.second {
        None => vec![(SECTIONS[0].1, render_section(model, 0))],
        Some(_) => SECTIONS
            .iter()
            .enumerate()
            .map(|(i, (_, file))| (*file, render_section(model, i)))
            .collect(),
    }
}

/// One section's file: its tables, and the joinables between two of them (print-schema
/// writes none to a table another section selects).
fn render_section(model: &Model, section: usize) -> String {
    let mut out = String::from("// Written by the property test.\n");
    let tables: Vec<&Tbl> = model
        .tables
        .iter()
        .filter(|t| model.section(&t.name) == section)
        .collect();
    for t in &tables {
        let key: Vec<String> = t.key.iter().map(|k| rust_name(k)).collect();
        out.push_str(&format!(
            "\ndiesel::table! {{\n    {} ({}) {{\n",
            t.name,
            key.join(", ")
        ));
        for c in &t.cols {
            if !plain(&c.name) {
                out.push_str(&format!("        #[sql_name = \"{}\"]\n", c.name));
            }
            out.push_str(&format!(
                "        {} -> {},\n",
                rust_name(&c.name),
                c.rust()
            ));
        }
        out.push_str("    }\n}\n");
    }
    let mut joins = Vec::new();
    for t in &tables {
        for (c, p) in t.joins.iter().filter(|(_, p)| !model.crosses(&t.name, p)) {
            joins.push(format!(
                "diesel::joinable!({} -> {p} ({}));\n",
                t.name,
                rust_name(c)
            ));
        }
    }
    if !joins.is_empty() {
        out.push('\n');
        out.push_str(&joins.concat());
    }
    if tables.len() > 1 {
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        out.push_str(&format!(
            "\ndiesel::allow_tables_to_appear_in_same_query!({},);\n",
            names.join(", ")
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading a database: print-schema's rules, sqlite_schema, values.

fn strings(conn: &rusqlite::Connection, sql: &str, param: &str) -> Vec<Vec<Option<String>>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let width = stmt.column_count();
    let params: &[&dyn rusqlite::ToSql] = if sql.contains('?') { &[&param] } else { &[] };
    stmt.query_map(params, |r| {
        (0..width)
            .map(|i| r.get::<_, rusqlite::types::Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .unwrap()
    .map(|row| {
        row.unwrap()
            .into_iter()
            .map(|v| match v {
                rusqlite::types::Value::Null => None,
                rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                rusqlite::types::Value::Real(f) => Some(f.to_string()),
                rusqlite::types::Value::Text(t) => Some(t),
                rusqlite::types::Value::Blob(b) => Some(format!("{b:?}")),
            })
            .collect()
    })
    .collect()
}

/// The tables as diesel print-schema describes them (every table but Diesel's and SQLite's
/// own; types, nullability from NOT NULL only, primary-key columns; a joinable for a foreign
/// key from one column to the parent's single key column, between two different tables with
/// no other foreign key between them).
fn read_like_print_schema(conn: &rusqlite::Connection) -> Result<Canon, String> {
    let names: Vec<String> = strings(
        conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' ORDER BY name",
        "",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect();
    let mut tables = Canon::new();
    let mut fks = Vec::new();
    for name in &names {
        let mut table = CanonTable {
            columns: BTreeMap::new(),
            key: BTreeSet::new(),
            joins: BTreeSet::new(),
        };
        // table_xinfo, as print-schema reads it: table_info leaves generated columns out.
        for row in strings(
            conn,
            "SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(?) WHERE hidden != 1",
            name,
        ) {
            let column = row[0].clone().unwrap();
            let mut declared = row[1].clone().unwrap_or_default();
            if declared.eq_ignore_ascii_case("generated always") {
                declared.clear();
            }
            let ty = print_schema_type(&declared)
                .ok_or_else(|| format!("{name}.{column}: print-schema cannot read `{declared}`"))?;
            table
                .columns
                .insert(column.clone(), (ty, row[2].as_deref() == Some("0")));
            if row[3].as_deref() != Some("0") {
                table.key.insert(column);
            }
        }
        // No primary key: the first rowid name no column takes, a NOT NULL Integer.
        if table.key.is_empty() {
            if let Some(rowid) = ["rowid", "oid", "_rowid_"]
                .into_iter()
                .find(|n| !table.columns.contains_key(*n))
            {
                table.columns.insert(rowid.to_owned(), (Ty::Integer, false));
                table.key.insert(rowid.to_owned());
            }
        }
        let rows = strings(
            conn,
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)",
            name,
        );
        for row in &rows {
            let columns_in_key = rows.iter().filter(|r| r[0] == row[0]).count();
            fks.push((
                name.clone(),
                row[1].clone().unwrap(),
                row[2].clone().unwrap(),
                row[3].clone(),
                columns_in_key,
            ));
        }
        tables.insert(name.clone(), table);
    }
    let pair = |a: &str, b: &str| {
        if a < b {
            (a.to_owned(), b.to_owned())
        } else {
            (b.to_owned(), a.to_owned())
        }
    };
    for (child, parent, column, to, width) in &fks {
        let between = fks
            .iter()
            .filter(|(c, p, ..)| pair(c, p) == pair(child, parent))
            .count();
        let Some(parent_table) = tables.get(parent) else {
            continue;
        };
        let key: Vec<&String> = parent_table.key.iter().collect();
        let targets_key = match (key.as_slice(), to) {
            ([k], Some(to)) => *k == to,
            ([_], None) => true,
            _ => false,
        };
        if child != parent && between == 1 && *width == 1 && targets_key {
            let join = (column.clone(), parent.clone());
            tables.get_mut(child).expect("listed").joins.insert(join);
        }
    }
    Ok(tables)
}

type Entries = Vec<Vec<Option<String>>>;

fn entries(conn: &rusqlite::Connection) -> Entries {
    strings(
        conn,
        "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name",
        "",
    )
}

fn values(conn: &rusqlite::Connection, table: &str, column: &str, key: &str) -> Vec<String> {
    let sql = format!(
        "SELECT quote({}) FROM {} ORDER BY {}",
        ident(column, true),
        ident(table, true),
        ident(key, true)
    );
    strings(conn, &sql, "")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

fn rows(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(
        &format!("SELECT count(*) FROM {}", ident(table, true)),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn integrity(conn: &rusqlite::Connection) -> Result<(), String> {
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let broken: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    if ok != "ok" || broken != 0 {
        return Err(format!(
            "integrity_check: {ok}; foreign_key_check: {broken} rows"
        ));
    }
    Ok(())
}

/// Whether SQLite can still read every view and trigger, as any later ALTER TABLE needs:
/// renaming a table (and rolling it back) re-reads them all, even a trigger no statement
/// fires, whose body nothing else compiles.
fn schema_readable(conn: &rusqlite::Connection) -> Result<(), String> {
    let probe = conn.execute_batch(
        "SAVEPOINT probe; ALTER TABLE __diesel_schema_migrations RENAME TO __dev_probe;",
    );
    conn.execute_batch("ROLLBACK TO probe; RELEASE probe;")
        .unwrap();
    probe.map_err(|e| format!("a later ALTER TABLE fails: {e}"))
}

fn views_select(conn: &rusqlite::Connection) -> Result<(), String> {
    let views = strings(
        conn,
        "SELECT name FROM sqlite_schema WHERE type = 'view'",
        "",
    );
    for view in views {
        let name = view[0].clone().unwrap();
        let sql = format!("SELECT * FROM {}", ident(&name, true));
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| format!("view {name} does not select: {e}"))?;
        let mut result = stmt.query([]).map_err(|e| format!("view {name}: {e}"))?;
        while result
            .next()
            .map_err(|e| format!("view {name}: {e}"))?
            .is_some()
        {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One case.

fn tool(project: &Project, args: &[String]) -> common::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = project
        .command(BIN, &args)
        .stdin_null()
        .run()
        .expect("the binary runs");
    common::Run::from(output)
}

/// What happened, for the summary line.
#[derive(Debug, Default)]
struct Tally {
    written: usize,
    unchanged: usize,
    /// Migrations that rightly failed, atomically, on rows that cannot fit schema.rs.
    failed_on_rows: usize,
    /// Of those written, how many had a table keyed by its rowid at head, references round
    /// a cycle, and a reference between two schema sections.
    with_rowid_tables: usize,
    with_cycles: usize,
    across_sections: usize,
    refused: BTreeMap<String, usize>,
}

fn run_case(case: &Case, diesel: Option<&str>, tally: &mut Tally) -> Result<(), String> {
    let head = build_head(case);
    let target = target_of(&head.model, &case.edits, !case.more_edits.is_empty());
    let files = render_schema(&target.model);
    let schema = shown(&files);

    let project = Project {
        dir: tempfile::tempdir().unwrap(),
        tmp: tempfile::tempdir().unwrap(),
    };
    project.write("diesel.toml", &diesel_toml(&head.model));
    write_schema(&project, &files);
    project.write("versions/2026-01-01-000000_head/up.sql", &head.up);
    project.write("versions/2026-01-01-000000_head/down.sql", &head.down);
    let context = |what: String| {
        format!(
            "{what}\n--- head up.sql:\n{}\n{schema}\n--- flags: {:?}",
            head.up, target.flags
        )
    };

    // A real database at head, with rows this test chose.
    let db_dir = tempfile::tempdir().unwrap();
    let db_path = db_dir.path().join("app.sqlite3");
    let mut conn = application_database(&db_path);
    common::upgrade(&mut conn, &project);
    let sql = rusqlite::Connection::open(&db_path).unwrap();
    sql.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    // The second step is known up front, so the rows are whole numbers where either step
    // changes a type.
    let head2 = rebase(&head.model, &target.model);
    let target2 = target_of(&head2, &case.more_edits, false);
    let mut retyped = retyped_columns(&head.model, &target.model);
    for (table, column) in retyped_columns(&head2, &target2.model) {
        let t = target.model.table(&table).expect("head2 is target");
        let c = t.col(&column).expect("head2 is target");
        if let Some(h) = head_table_of(&head.model, &target.model, t) {
            if let Some(hc) = head_column_of(h, t, c) {
                retyped.insert((h.name.clone(), hc.name.clone()));
            }
        }
    }
    // References are checked at the end, so rows may reference tables filled later.
    sql.execute_batch("BEGIN; PRAGMA defer_foreign_keys = ON;")
        .unwrap();
    for t in &head.model.tables {
        let inserted: Vec<&Col> = t.cols.iter().filter(|c| !c.generated).collect();
        for i in 1..=case.rows {
            let names: Vec<String> = inserted.iter().map(|c| ident(&c.name, true)).collect();
            let insert = |hostile: bool| {
                let vals: Vec<String> = inserted
                    .iter()
                    .map(|c| {
                        let key = (t.name.clone(), c.name.clone());
                        // `id` too where it is no key: generated columns and triggers use it.
                        let never_null =
                            head.unique.contains(&key) || t.key.contains(&c.name) || c.name == "id";
                        let plain =
                            never_null || t.joins.contains_key(&c.name) || c.name == "parent_id";
                        value(c, i, retyped.contains(&key), never_null, hostile && !plain)
                    })
                    .collect();
                format!(
                    "INSERT INTO {} ({}) VALUES ({});",
                    ident(&t.name, true),
                    names.join(", "),
                    vals.join(", ")
                )
            };
            // A hostile row a reference or CHECK of head refuses is inserted plain.
            if case.hostile && sql.execute_batch(&insert(true)).is_ok() {
                continue;
            }
            let insert = insert(false);
            sql.execute_batch(&insert)
                .map_err(|e| context(format!("the test's rows do not fit head: {insert}: {e}")))?;
        }
    }
    sql.execute_batch("COMMIT;")
        .map_err(|e| context(format!("the test's rows do not fit head: {e}")))?;
    let mut step = Step {
        project: &project,
        conn: &mut conn,
        sql: &sql,
        db_path: &db_path,
        diesel,
        tally,
    };
    let written = step.run(&head.model, &head.objects, &target, &context)?;
    if !written || case.more_edits.is_empty() {
        return Ok(());
    }
    // Again, on top: the first migration's tables, as SQLite stored them, are head now.
    let files2 = render_schema(&target2.model);
    write_schema(&project, &files2);
    let schema2 = shown(&files2);
    let context2 = |what: String| {
        context(format!(
            "{what}\n--- then:\n{schema2}\n--- with flags: {:?}",
            target2.flags
        ))
    };
    let objects2 = carry(&head.objects, &head.model, &target.model);
    step.run(&head2, &objects2, &target2, &context2)?;
    Ok(())
}

/// diesel.toml: one `[print_schema]`, or two sections splitting the tables by name.
fn diesel_toml(model: &Model) -> String {
    let migrations = "[migrations_directory]\ndir = \"versions\"\n";
    let Some(second) = &model.second else {
        return format!(
            "[print_schema]\nfile = \"{}\"\n\n{migrations}",
            SECTIONS[0].1
        );
    };
    // An empty `only_tables` would select every table.
    let patterns: Vec<String> = second.iter().map(|n| format!("\"^{n}$\"")).collect();
    let patterns = patterns.join(", ");
    let [(main, main_file), (extra, extra_file)] = SECTIONS;
    format!(
        "[print_schema.{main}]\nfile = \"{main_file}\"\nfilter = {{ except_tables = [{patterns}] }}\n\n\
         [print_schema.{extra}]\nfile = \"{extra_file}\"\nfilter = {{ only_tables = [{patterns}] }}\n\n{migrations}"
    )
}

fn write_schema(project: &Project, files: &[(&str, String)]) {
    for (path, text) in files {
        project.write(path, text);
    }
}

/// The schema files, for a failure's message.
fn shown(files: &[(&str, String)]) -> String {
    files
        .iter()
        .map(|(path, text)| format!("--- {path}:\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `objects` with the names `target` gives what they name (what it drops keeps a name no
/// table or column has).
fn carry(objects: &[Object], head: &Model, target: &Model) -> Vec<Object> {
    const GONE: &str = "\u{0}gone";
    let table_now = |table: &str| {
        target
            .tables
            .iter()
            .find(|t| head_table_of(head, target, t).is_some_and(|h| h.name == table))
    };
    let rename = |table: &str, column: Option<&str>| -> (String, Option<String>) {
        let Some(t) = table_now(table) else {
            return (GONE.to_owned(), column.map(|_| GONE.to_owned()));
        };
        let h = head.table(table).expect("a head table");
        let column = column.map(|c| {
            t.cols
                .iter()
                .find(|x| head_column_of(h, t, x).is_some_and(|hc| hc.name == c))
                .map_or(GONE.to_owned(), |x| x.name.clone())
        });
        (t.name.clone(), column)
    };
    objects
        .iter()
        .map(|o| Object {
            kind: o.kind,
            name: o.name.clone(),
            table: rename(&o.table, None).0,
            deps: o
                .deps
                .iter()
                .map(|(t, c)| rename(t, c.as_deref()))
                .collect(),
            fired_by: o.fired_by.as_ref().map(|(t, c)| {
                let (t, c) = rename(t, Some(c));
                (t, c.expect("a column"))
            }),
        })
        .collect()
}

/// `target` as the head of a next step: every name is its own origin; DEFAULT, CHECK and
/// generated columns are what head had, and a NOT NULL column added to a kept table has
/// the `--default` it was given as its DEFAULT.
fn rebase(head: &Model, target: &Model) -> Model {
    let mut next = target.clone();
    for t in &mut next.tables {
        let was = target.table(&t.name).expect("cloned").clone();
        let h = head_table_of(head, target, &was);
        if let Some(h) = h {
            if let Some(c) = was
                .cols
                .iter()
                .find(|c| head_column_of(h, &was, c).is_some_and(|hc| hc.name == h.row_key))
            {
                t.row_key = c.name.clone();
            }
        }
        t.origin = Some(t.name.clone());
        for (c, before) in t.cols.iter_mut().zip(&was.cols) {
            c.origin = Some(c.name.clone());
            match h.and_then(|h| head_column_of(h, &was, before)) {
                Some(hc) => {
                    c.default = hc.default;
                    c.generated = hc.generated;
                    c.check = hc.check;
                }
                None => {
                    c.default = (h.is_some() && !c.nullable).then(|| default_value(c.ty, false));
                    c.generated = false;
                    c.check = false;
                }
            }
        }
    }
    next
}

/// One `generate` and everything checked after it.
struct Step<'a> {
    project: &'a Project,
    conn: &'a mut diesel::SqliteConnection,
    sql: &'a rusqlite::Connection,
    db_path: &'a Path,
    diesel: Option<&'a str>,
    tally: &'a mut Tally,
}

impl Step<'_> {
    /// Runs generate from the database at `head` to `target`, and when it writes a
    /// migration, applies, reverts and reapplies it; `Ok(true)` when one was written.
    fn run(
        &mut self,
        head: &Model,
        objects: &[Object],
        target: &Target,
        context: &dyn Fn(String) -> String,
    ) -> Result<bool, String> {
        let (project, sql) = (self.project, self.sql);
        let files = render_schema(&target.model);
        let head_canon = read_like_print_schema(sql)?;
        if head_canon != canon(head) {
            return Err(context(format!(
                "test bug: head reads as {head_canon:#?}, not as the model {:#?}",
                canon(head)
            )));
        }
        let before_entries = entries(sql);
        // Counted, not assumed: a trigger may have added rows to another table.
        let before_rows: BTreeMap<String, i64> = head
            .tables
            .iter()
            .map(|t| (t.name.clone(), rows(sql, &t.name)))
            .collect();
        let mut before_values = BTreeMap::new();
        for t in &head.tables {
            for c in &t.cols {
                before_values.insert(
                    (t.name.clone(), c.name.clone()),
                    values(sql, &t.name, &c.name, &t.row_key),
                );
            }
        }
        // generate
        let before_tree = project.snapshot();
        let mut args = vec!["generate".to_owned(), "property case".to_owned()];
        args.extend(target.flags.iter().cloned());
        let run = tool(project, &args);
        let expect_no_changes = canon(&target.model) == head_canon;
        match run.code {
            Some(0) => {}
            Some(2) => {
                if run.stderr.contains("panicked")
                    || !run.stderr.lines().any(|l| l.starts_with("error: "))
                {
                    return Err(context(format!(
                        "exit 2 without an error line, or a panic: {run:?}"
                    )));
                }
                if project.snapshot() != before_tree {
                    return Err(context(format!("exit 2 changed the tree: {run:?}")));
                }
                project.assert_no_temp_leftovers();
                // The columns that need `--default` are worked out above from the two schemas;
                // generate must agree, and take the values given.
                let disagreement = [
                    "is NOT NULL without a DEFAULT",
                    "may already hold rows and they need a value",
                    "names no column that needs a value",
                    "is not one SQL expression",
                ];
                if disagreement.iter().any(|m| run.stderr.contains(m)) {
                    return Err(context(format!(
                        "generate and this test disagree on which columns need a value: {run:?}"
                    )));
                }
                // The file runs rebuilds with foreign keys off: a foreign key error while
                // planning one is the planner's, not the input's.
                if run.stderr.contains("FOREIGN KEY constraint failed") {
                    return Err(context(format!(
                        "refused for the planner's own reason: {run:?}"
                    )));
                }
                if expect_no_changes {
                    return Err(context(format!(
                        "refused a schema.rs equal to head: {run:?}"
                    )));
                }
                let first = run
                    .stderr
                    .lines()
                    .find(|l| l.starts_with("error: "))
                    .unwrap_or_default();
                let reason: String = first
                    .split(['`', ':'])
                    .take(2)
                    .collect::<Vec<_>>()
                    .join("…");
                refusal_is_founded(&run.stderr, head, objects, &target.model)
                    .map_err(|e| context(format!("{e}: {run:?}")))?;
                if std::env::var_os("SHOW_REFUSALS").is_some() {
                    eprintln!("{}", context(format!("refused: {}", run.stderr)));
                }
                *self.tally.refused.entry(reason).or_default() += 1;
                return Ok(false);
            }
            _ => return Err(context(format!("generate must exit 0 or 2: {run:?}"))),
        }
        project.assert_no_temp_leftovers();
        let checked = tool(project, &["check".to_owned()]);
        if checked.code != Some(0) {
            return Err(context(format!(
                "check fails right after generate: {checked:?}\ngenerate said: {run:?}"
            )));
        }
        if run.stdout.contains("No changes in schema detected.") {
            if !expect_no_changes {
                return Err(context(format!(
                    "generate saw no change, but head reads as {head_canon:#?}: {run:?}"
                )));
            }
            self.tally.unchanged += 1;
            return Ok(false);
        }
        if expect_no_changes {
            return Err(context(format!("a migration for no change: {run:?}")));
        }
        self.tally.written += 1;
        if head.tables.iter().any(|t| t.key == ["rowid"]) {
            self.tally.with_rowid_tables += 1;
        }
        if head.has_cycle() {
            self.tally.with_cycles += 1;
        }
        if head
            .tables
            .iter()
            .any(|t| t.joins.values().any(|p| head.crosses(&t.name, p)))
        {
            self.tally.across_sections += 1;
        }
        let newest = project.newest();
        let migration = format!(
            "--- {newest}/up.sql:\n{}\n--- down.sql:\n{}",
            project.read(&format!("{newest}/up.sql")),
            project.read(&format!("{newest}/down.sql"))
        );
        let context = |what: String| context(format!("{what}\n{migration}"));

        // Up, on the rows. It may fail only where the rows cannot be what schema.rs says (a
        // row a trigger added references no parent of a new joinable, a value a retyped
        // column cannot keep), and then atomically.
        if let Err(e) = upgrade(self.conn, project) {
            let founded = (e.contains("a row references a missing parent row")
                && unreferenced(sql, head, &target.model).is_some())
                || names_a_retyped_column(&e, head, &target.model);
            if !founded {
                return Err(context(format!("up fails on the rows: {e}")));
            }
            if entries(sql) != before_entries
                || head
                    .tables
                    .iter()
                    .any(|t| rows(sql, &t.name) != before_rows[&t.name])
            {
                return Err(context(format!("up failed, but not atomically: {e}")));
            }
            self.tally.failed_on_rows += 1;
            return Ok(false);
        }
        integrity(sql).map_err(|e| context(format!("after up: {e}")))?;
        schema_readable(sql).map_err(|e| context(format!("after up: {e}")))?;
        views_select(sql).map_err(|e| context(format!("after up: {e}")))?;
        let after = read_like_print_schema(sql).map_err(&context)?;
        if after != canon(&target.model) {
            return Err(context(format!(
                "after up the database reads as {after:#?}\nnot as schema.rs: {:#?}",
                canon(&target.model)
            )));
        }
        let names_after: BTreeSet<(String, String)> = entries(sql)
            .into_iter()
            .map(|e| (e[0].clone().unwrap(), e[1].clone().unwrap()))
            .collect();
        for t in &target.model.tables {
            let Some(h) = head_table_of(head, &target.model, t) else {
                continue;
            };
            let (count, was) = (rows(sql, &t.name), before_rows[&h.name]);
            if count != was {
                return Err(context(format!(
                    "after up, {} has {count} rows, not {was}",
                    t.name
                )));
            }
            // A rowid key given up for a declared one takes the rows' `id`s as their rowids
            // (by design: the key is another); `id` orders the rows as the rowid did.
            let key = [h.row_key.as_str(), "id"]
                .iter()
                .find_map(|key| {
                    t.cols
                        .iter()
                        .find(|c| head_column_of(h, t, c).is_some_and(|hc| hc.name == *key))
                })
                .expect("head keys are kept");
            for c in &t.cols {
                let Some(hc) = head_column_of(h, t, c) else {
                    continue;
                };
                if hc.ty != c.ty || (hc.nullable && !c.nullable) {
                    continue;
                }
                let now = values(sql, &t.name, &c.name, &key.name);
                let was = &before_values[&(h.name.clone(), hc.name.clone())];
                if &now != was {
                    return Err(context(format!(
                        "after up, {}.{} holds {now:?} instead of {was:?}",
                        t.name, c.name
                    )));
                }
            }
        }
        // Indexes, views and triggers of kept tables stay, unless an index lost a column.
        for object in objects {
            if !kept(head, &target.model, &object.table, None)
                || (object.kind == "index" && breaks(head, &target.model, object))
            {
                continue;
            }
            if !names_after.contains(&(object.kind.to_owned(), object.name.clone())) {
                return Err(context(format!(
                    "after up, {} {} is gone",
                    object.kind, object.name
                )));
            }
        }

        if let Some(diesel) = self.diesel {
            print_schema_agrees(project, diesel, self.db_path, &target.model, &files)
                .map_err(&context)?;
        }

        // Down: sqlite_schema byte for byte, every row, the values of every column up kept.
        let newest_migration = project.migrations().pop().expect("the new version");
        self.conn
            .revert_migration(&*newest_migration)
            .map_err(|e| context(format!("down fails on the rows: {e}")))?;
        let after_down = entries(sql);
        if after_down != before_entries {
            let missing: Vec<_> = before_entries
                .iter()
                .filter(|e| !after_down.contains(e))
                .collect();
            let extra: Vec<_> = after_down
                .iter()
                .filter(|e| !before_entries.contains(e))
                .collect();
            return Err(context(format!(
                "down did not restore sqlite_schema:\nbefore only: {missing:#?}\nafter only: {extra:#?}"
            )));
        }
        integrity(sql).map_err(|e| context(format!("after down: {e}")))?;
        schema_readable(sql).map_err(|e| context(format!("after down: {e}")))?;
        views_select(sql).map_err(|e| context(format!("after down: {e}")))?;
        for h in &head.tables {
            // A table up dropped comes back empty; every other keeps its rows.
            let Some(t) =
                target.model.tables.iter().find(|t| {
                    head_table_of(head, &target.model, t).is_some_and(|x| x.name == h.name)
                })
            else {
                continue;
            };
            let (count, was) = (rows(sql, &h.name), before_rows[&h.name]);
            if count != was {
                return Err(context(format!(
                    "after down, {} has {count} rows, not {was}",
                    h.name
                )));
            }
            for hc in &h.cols {
                let Some(c) = t
                    .cols
                    .iter()
                    .find(|c| head_column_of(h, t, c).is_some_and(|x| x.name == hc.name))
                else {
                    continue;
                };
                if hc.nullable && !c.nullable {
                    continue;
                }
                // A type change keeps every value exactly or fails: once back, each value is
                // what it was, as quote() writes it.
                let now = values(sql, &h.name, &hc.name, &h.row_key);
                let was = &before_values[&(h.name.clone(), hc.name.clone())];
                if &now != was {
                    return Err(context(format!(
                        "after down, {}.{} holds {now:?} instead of {was:?}",
                        h.name, hc.name
                    )));
                }
            }
        }

        // And up again.
        upgrade(self.conn, project).map_err(|e| context(format!("up fails again: {e}")))?;
        for t in &target.model.tables {
            if let Some(h) = head_table_of(head, &target.model, t) {
                if rows(sql, &t.name) != before_rows[&h.name] {
                    return Err(context(format!("after up again, {} lost rows", t.name)));
                }
            }
        }
        integrity(sql).map_err(|e| context(format!("after up again: {e}")))?;
        schema_readable(sql).map_err(|e| context(format!("after up again: {e}")))?;
        project.assert_no_temp_leftovers();
        Ok(true)
    }
}

/// Whether head's `table` (and its `column`) is still there in the target, under any name.
fn kept(head: &Model, target: &Model, table: &str, column: Option<&str>) -> bool {
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
fn breaks(head: &Model, target: &Model, object: &Object) -> bool {
    object.deps.iter().any(|(table, column)| {
        let owner_gone =
            object.kind == "trigger" && table == &object.table && !kept(head, target, table, None);
        !owner_gone && !kept(head, target, table, column.as_deref())
    })
}

/// A refusal this test can judge is refused for a reason the two schemas give: a view or
/// trigger it says would break names something the target drops; a table it says cannot
/// be dropped is still referenced by a column the target keeps.
fn refusal_is_founded(
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
fn unreferenced(conn: &rusqlite::Connection, head: &Model, target: &Model) -> Option<String> {
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
fn names_a_retyped_column(message: &str, head: &Model, target: &Model) -> bool {
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

/// Applies the pending migrations through the harness, as the application does.
fn upgrade(conn: &mut diesel::SqliteConnection, project: &Project) -> Result<(), String> {
    let source = diesel_migrations::FileBasedMigrations::from_path(project.file("versions"))
        .map_err(|e| e.to_string())?;
    conn.run_pending_migrations(source)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Head columns whose type schema.rs changes (keyed by head names).
fn retyped_columns(head: &Model, target: &Model) -> BTreeSet<(String, String)> {
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

// ---------------------------------------------------------------------------------------------
// The real print-schema.

/// Reads print-schema's output: `table!` blocks (with `#[sql_name]`), column types through
/// their aliases, and `joinable!` lines.
fn parse_print_schema(text: &str) -> Result<Canon, String> {
    let mut tables = Canon::new();
    let mut rust_to_sql: BTreeMap<String, String> = BTreeMap::new();
    // Per table, each column's Rust name to its SQL name: keys and joinables name the Rust one.
    let mut columns_of: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut sql_name: Option<String> = None;
    let mut in_table = false;
    let mut in_other_macro = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        // `allow_tables_to_appear_in_same_query!` and the like, on one line or several.
        if in_other_macro {
            in_other_macro = !line.ends_with(");");
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("#[sql_name = \"")
            .and_then(|r| r.strip_suffix("\"]"))
        {
            sql_name = Some(rest.to_owned());
            continue;
        }
        if line.starts_with("#[") {
            continue;
        }
        if line == "diesel::table! {" {
            in_table = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("diesel::joinable!(") {
            let rest = rest.trim_end_matches(");");
            let (child, rest) = rest.split_once(" -> ").ok_or(line)?;
            let (parent, column) = rest.split_once(" (").ok_or(line)?;
            let column = column.trim_end_matches(')');
            let child = rust_to_sql.get(child).cloned().unwrap_or(child.to_owned());
            let parent = rust_to_sql
                .get(parent)
                .cloned()
                .unwrap_or(parent.to_owned());
            let column = columns_of
                .get(&child)
                .and_then(|c| c.get(column))
                .cloned()
                .unwrap_or(column.to_owned());
            tables
                .get_mut(&child)
                .ok_or(format!("joinable for an unknown table: {line}"))?
                .joins
                .insert((column, parent));
            continue;
        }
        if line.starts_with("diesel::") {
            in_other_macro = !line.ends_with(");");
            continue;
        }
        if in_table && current.is_none() && line.ends_with('{') {
            let head = line.trim_end_matches('{').trim();
            let (rust, key) = head.split_once(" (").ok_or(line)?;
            let rust = rust.trim_start_matches("r#").to_owned();
            let name = sql_name.take().unwrap_or(rust.clone());
            let key = key.trim_end_matches(')');
            rust_to_sql.insert(rust, name.clone());
            tables.insert(
                name.clone(),
                CanonTable {
                    columns: BTreeMap::new(),
                    key: key.split(", ").map(str::to_owned).collect(),
                    joins: BTreeSet::new(),
                },
            );
            current = Some(name);
            continue;
        }
        if line == "}" {
            if current.take().is_none() {
                in_table = false;
            }
            continue;
        }
        if let (Some(table), Some((column, ty))) = (&current, line.split_once(" -> ")) {
            let rust = column.trim_start_matches("r#").to_owned();
            let column = sql_name.take().unwrap_or(rust.clone());
            columns_of
                .entry(table.clone())
                .or_default()
                .insert(rust, column.clone());
            let ty = ty.trim_end_matches(',');
            let (nullable, inner) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (true, inner.trim_end_matches('>')),
                None => (false, ty),
            };
            let inner = inner.rsplit("::").next().unwrap_or(inner);
            let ty = rust_type(inner).ok_or(format!("unknown type in `{line}`"))?;
            tables
                .get_mut(table)
                .expect("current")
                .columns
                .insert(column, (ty, nullable));
            continue;
        }
        return Err(format!(
            "unexpected line in print-schema's output: `{line}`"
        ));
    }
    for (name, table) in &mut tables {
        let names = columns_of.get(name).cloned().unwrap_or_default();
        table.key = std::mem::take(&mut table.key)
            .into_iter()
            .map(|k| names.get(&k).cloned().unwrap_or(k))
            .collect();
    }
    Ok(tables)
}

/// What diesel_cli writes for the upgraded database reads as the target, and `check`
/// passes with it as the schema files: `print-schema` for one file; with sections, the
/// files `migration run` rewrites (nothing is pending), as `print-schema` prints every
/// section at once whatever `--schema-key` says.
fn print_schema_agrees(
    project: &Project,
    diesel: &str,
    database: &Path,
    target: &Model,
    files: &[(&str, String)],
) -> Result<(), String> {
    let url = database.to_str().unwrap();
    let args: &[&str] = match target.second {
        None => &["print-schema", "--database-url", url],
        Some(_) => &["migration", "run", "--database-url", url],
    };
    let output = project
        .command(diesel, args)
        .stdin_null()
        .run()
        .map_err(|e| format!("cannot run {diesel}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "diesel {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let printed_files: Vec<(&str, String)> = match target.second {
        None => vec![(
            files[0].0,
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )],
        Some(_) => files
            .iter()
            .map(|(path, _)| (*path, project.read(path)))
            .collect(),
    };
    let mut read = Canon::new();
    for (_, printed) in &printed_files {
        read.extend(parse_print_schema(printed)?);
    }
    // Across sections print-schema writes no joinable.
    let mut expected = canon(target);
    for (name, table) in &mut expected {
        table
            .joins
            .retain(|(_, parent)| !target.crosses(name, parent));
    }
    if read != expected {
        return Err(format!(
            "diesel_cli reads the upgraded database as\n{}\nnot as the schema files",
            shown(&printed_files)
        ));
    }
    write_schema(project, &printed_files);
    let checked = tool(project, &["check".to_owned()]);
    write_schema(project, files);
    if checked.code != Some(0) {
        return Err(format!(
            "check fails with diesel_cli's output as the schema files:\n{}\n{checked:?}",
            shown(&printed_files)
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tests.

fn run_property(diesel: Option<&str>) {
    let mut runner = TestRunner::new(config());
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&case(), |case| {
        let mut scratch = Tally::default();
        let outcome = run_case(&case, diesel, &mut scratch);
        let mut total = tally.borrow_mut();
        total.written += scratch.written;
        total.unchanged += scratch.unchanged;
        total.failed_on_rows += scratch.failed_on_rows;
        total.with_rowid_tables += scratch.with_rowid_tables;
        total.with_cycles += scratch.with_cycles;
        total.across_sections += scratch.across_sections;
        for (k, v) in scratch.refused {
            *total.refused.entry(k).or_default() += v;
        }
        outcome.map_err(TestCaseError::fail)
    });
    let tally = tally.into_inner();
    eprintln!(
        "generate_properties: {} written and proven on rows ({} with a rowid-keyed table, {} with a cycle of references, {} with a reference across schema sections), {} failed atomically on rows that cannot fit, {} without changes, refused: {:#?}",
        tally.written, tally.with_rowid_tables, tally.with_cycles, tally.across_sections, tally.failed_on_rows, tally.unchanged, tally.refused
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => panic!("{reason}\nminimal case: {case:#?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn generated_migrations_keep_rows_match_schema_rs_and_revert_exactly() {
    run_property(None);
}

#[test]
#[ignore = "needs diesel_cli in DIESEL_CLI; .ci/run installs a pinned one and runs this test"]
fn diesel_print_schema_reads_the_upgraded_database_as_schema_rs() {
    let diesel = std::env::var("DIESEL_CLI").expect("DIESEL_CLI names a diesel binary");
    run_property(Some(&diesel));
}

#[test]
fn the_print_schema_reader_reads_what_print_schema_writes() {
    let text = "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    posts (id) {\n        id -> Integer,\n        user_id -> Nullable<Integer>,\n        #[sql_name = \"type\"]\n        type_ -> Text,\n    }\n}\n\ndiesel::table! {\n    users (id, name) {\n        id -> BigInt,\n        name -> Float8,\n    }\n}\n\ndiesel::joinable!(posts -> users (user_id));\n\ndiesel::allow_tables_to_appear_in_same_query!(\n    posts,\n    users,\n);\n";
    let read = parse_print_schema(text).unwrap();
    assert_eq!(read["posts"].columns["user_id"], (Ty::Integer, true));
    assert_eq!(read["posts"].columns["type"], (Ty::Text, false));
    assert_eq!(read["users"].columns["name"], (Ty::Double, false));
    assert_eq!(
        read["users"].key,
        BTreeSet::from(["id".to_owned(), "name".to_owned()])
    );
    assert!(read["posts"]
        .joins
        .contains(&("user_id".to_owned(), "users".to_owned())));
}

// ---------------------------------------------------------------------------------------------
// What the properties found, each reduced to its smallest case.

/// A project whose head is `head_sql` (one hand-written migration) and whose schema.rs is
/// `schema`, and a database file at head with `rows` inserted.
fn reduced(
    head_sql: &str,
    schema: &str,
    rows: &str,
) -> (Project, tempfile::TempDir, std::path::PathBuf) {
    let project = Project {
        dir: tempfile::tempdir().unwrap(),
        tmp: tempfile::tempdir().unwrap(),
    };
    project.write(
        "diesel.toml",
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    );
    project.write("schema/schema.rs", schema);
    project.write("versions/2026-01-01-000000_head/up.sql", head_sql);
    let db = tempfile::tempdir().unwrap();
    let path = db.path().join("app.sqlite3");
    let mut conn = application_database(&path);
    common::upgrade(&mut conn, &project);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(rows)
        .unwrap();
    (project, db, path)
}

/// Applies the pending migration to `path`, then reverts it: rows, views and sqlite_schema
/// must come through.
fn up_and_down(project: &Project, path: &Path, counts: &[(&str, i64)]) {
    let mut conn = application_database(path);
    let sql = rusqlite::Connection::open(path).unwrap();
    let before = entries(&sql);
    common::upgrade(&mut conn, project);
    integrity(&sql).unwrap();
    views_select(&sql).unwrap();
    for (table, n) in counts {
        assert_eq!(rows(&sql, table), *n, "{table} after up");
    }
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(entries(&sql), before, "down restores sqlite_schema");
    integrity(&sql).unwrap();
    views_select(&sql).unwrap();
}

const PARENT_AND_CHILD: &str = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id));
CREATE VIEW names AS SELECT id, name FROM users;
";
const PARENT_AND_CHILD_ROWS: &str = "INSERT INTO users VALUES (1, '1'), (2, NULL);
INSERT INTO posts VALUES (1, 1), (2, 2), (3, NULL);";

/// Found as `the rebuild of users does not run on head: FOREIGN KEY constraint failed`
/// (exit 2): the planner tried the rebuild of a parent with foreign keys on, so dropping the
/// old table deleted rows its children still reference.
#[test]
fn a_parent_whose_children_have_no_on_delete_action_can_be_rebuilt() {
    let (project, _db, path) = reduced(
        PARENT_AND_CHILD,
        "diesel::table! { users (id) { id -> Integer, name -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::joinable!(posts -> users (users_id));
",
        PARENT_AND_CHILD_ROWS,
    );
    project.generate("numeric names");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2), ("posts", 3)]);
}

/// Found as exit 3 (`view names: no such table: main.users`): the file turns
/// `legacy_alter_table` on for its rebuilds, and a table rename under it no longer carries
/// views, triggers and other tables' REFERENCES to the new name, unlike the rename the
/// planner ran.
#[test]
fn a_table_renamed_in_a_migration_that_rebuilds_keeps_its_views_and_references() {
    let (project, _db, path) = reduced(
        PARENT_AND_CHILD,
        "diesel::table! { people (id) { id -> Integer, name -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::joinable!(posts -> people (users_id));
",
        PARENT_AND_CHILD_ROWS,
    );
    project.generate_with(&["rename users", "--rename-table", "users=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("people", 2), ("posts", 3)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: posts: a row references a missing
/// parent row`): dropping a table with the NOT NULL column that references it, as the
/// refusal to drop a referenced table advises, gave a down that recreates the table empty
/// and re-adds the column with a value referencing nothing. Refused now, saying why; the
/// same with a nullable column works, as down re-adds it NULL.
#[test]
fn a_table_dropped_with_a_not_null_reference_to_it_is_refused_a_nullable_one_is_not() {
    let head = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER NOT NULL REFERENCES users (id));
";
    let schema = "diesel::table! { posts (id) { id -> Integer, } }\n";
    let rows = "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1);";
    let (project, _db, _path) = reduced(head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop users", "--default", "posts.users_id=1"]);
    assert!(
        run.stderr.contains("posts.users_id") && run.stderr.contains("NOT NULL"),
        "{run:?}"
    );

    let (project, _db, path) = reduced(
        &head.replace(" NOT NULL REFERENCES", " REFERENCES"),
        schema,
        rows,
    );
    project.generate("drop users");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 1)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: UNIQUE constraint failed: users.name`):
/// a dropped NOT NULL column comes back in down with the one value `--default` gives every
/// row, which a UNIQUE index (or a CHECK) may refuse. That value is the user's input, tried
/// on the planning rows now: refused with what SQLite said, while one the rows accept works.
#[test]
fn a_default_that_down_cannot_give_every_row_is_refused_one_that_can_is_not() {
    let head = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name SMALLINT NOT NULL CHECK (name >= 0));
CREATE UNIQUE INDEX users_name ON users (name);
";
    let schema = "diesel::table! { users (id) { id -> Integer, } }\n";
    let rows = "INSERT INTO users VALUES (1, 10), (2, 20);";
    let (project, _db, _path) = reduced(head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop name", "--default", "users.name=9"]);
    assert!(
        run.stderr.contains("UNIQUE constraint failed: users.name")
            && run.stderr.contains("`--default users.name=9`"),
        "{run:?}"
    );

    let head = head.replace("CREATE UNIQUE INDEX", "CREATE INDEX");
    let (project, _db, path) = reduced(&head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop name", "--default", "users.name=-1"]);
    assert!(run.stderr.contains("CHECK constraint failed"), "{run:?}");
    project.generate_with(&["drop name", "--default", "users.name=9"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: SQL logic error`): up renamed a table
/// and SQLite carried a view to the new name; down rebuilt the table back under its old
/// name, which left the view naming a table that no longer exists until down recreated it at
/// its end, and a DROP COLUMN in between failed on that view. Down now drops the views and
/// triggers it restores first, and recreates them last.
#[test]
fn down_restores_a_view_of_a_renamed_table_around_its_other_alterations() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY);
CREATE VIEW post_ids AS SELECT id FROM posts;
",
        "diesel::table! { users (id) { id -> Integer, name -> Nullable<Text>, } }
diesel::table! { people (id) { id -> Integer, } }
",
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1), (2);",
    );
    project.generate_with(&["rename posts", "--rename-table", "posts=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 1), ("people", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: table "group" already exists`): a table
/// renamed away and a new one created under its old name; down rebuilt the renamed table
/// back before dropping the new one. Down now drops what up created first.
#[test]
fn a_table_renamed_away_and_replaced_by_a_new_one_of_its_name_comes_back() {
    let (project, _db, path) = reduced(
        "CREATE TABLE \"group\" (id INTEGER NOT NULL PRIMARY KEY);\n",
        "diesel::table! { people (id) { id -> Integer, } }
diesel::table! { group (id) { id -> Integer, name -> Text, } }
",
        "INSERT INTO \"group\" VALUES (1), (2);",
    );
    project.generate_with(&["rename group", "--rename-table", "group=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("people", 2), ("group", 0)]);
}

/// Found as exit 3 (`down.sql did not restore the schema exactly: trigger tr_0 changed`): a
/// trigger of one table names a column of another that up renames, so SQLite rewrites the
/// trigger; its own table only gained a column, which down drops in place, and the trigger
/// was taken to come back with a rebuild that never happened.
#[test]
fn a_trigger_rewritten_by_a_rename_comes_back_when_its_table_only_gained_a_column() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY);
CREATE TRIGGER touch AFTER UPDATE OF id ON posts
BEGIN
    UPDATE users SET id = id WHERE id = NEW.id;
END;
",
        "diesel::table! { users (title) { title -> Integer, } }
diesel::table! { posts (id) { id -> Integer, name -> Nullable<Text>, } }
",
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1), (2);",
    );
    project.generate_with(&["rename users.id", "--rename", "users.id=title"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 1), ("posts", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: UNIQUE constraint failed: items.note`):
/// the same as above with the value coming from the column's own DEFAULT, which no flag can
/// change: refused, naming the DEFAULT.
#[test]
fn a_dropped_unique_column_whose_default_down_cannot_give_every_row_is_refused() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, note SMALLINT DEFAULT 0);
CREATE UNIQUE INDEX items_note ON items (note);
",
        "diesel::table! { items (id) { id -> Integer, } }\n",
        "INSERT INTO items VALUES (1, 10), (2, 20);",
    );
    let run = project.assert_rejected(&["generate", "drop note"]);
    assert!(
        run.stderr.contains("UNIQUE constraint failed: items.note")
            && run.stderr.contains("DEFAULT 0"),
        "{run:?}"
    );
}

/// Found as exit 3 (`cannot INSERT into generated column "name"`) when down rebuilt a table
/// with a generated column, and as a refusal (`the rebuild of posts does not run on head`)
/// when up did: both copied every column, generated ones included.
#[test]
fn a_table_with_a_generated_column_is_rebuilt_up_and_down() {
    let head = "CREATE TABLE posts (
    id INTEGER NOT NULL PRIMARY KEY,
    score TEXT,
    doubled BOOLEAN NOT NULL GENERATED ALWAYS AS (id * 2),
    stored INTEGER GENERATED ALWAYS AS (id + 1) STORED
);
";
    let rows = "INSERT INTO posts (id, score) VALUES (1, '1'), (2, NULL);";
    let (project, _db, path) = reduced(
        head,
        "diesel::table! { posts (title) { title -> Integer, score -> Nullable<Text>, doubled -> Bool, stored -> Nullable<Integer>, } }\n",
        rows,
    );
    project.generate_with(&["rename id", "--rename", "posts.id=title"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2)]);

    let (project, _db, path) = reduced(
        head,
        "diesel::table! { posts (id) { id -> Integer, score -> Nullable<BigInt>, doubled -> Bool, stored -> Nullable<Integer>, } }\n",
        rows,
    );
    project.generate("numeric scores");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2)]);
}

/// Found as exit 3 (`after up.sql, the values of users.parent_id changed: NULL became 1`):
/// seeds of a nullable column referencing its own table were NULL, and the proof took the
/// backfill of a column made NOT NULL for lost values. Seeds never hold NULL, so a row now
/// references itself.
#[test]
fn a_self_reference_made_not_null_is_proven() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER REFERENCES users (id));\n",
        "diesel::table! { users (id) { id -> Integer, parent_id -> Integer, } }\n",
        "INSERT INTO users VALUES (1, NULL), (2, 1);",
    );
    project.generate_with(&["parents required", "--default", "users.parent_id=1"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`after up.sql the database still differs from schema.rs: change column
/// posts.id from Integer to Nullable<Integer>`): SQLite keeps the key of a WITHOUT ROWID
/// table NOT NULL, declared or not, so schema.rs cannot make it nullable (refused now), and
/// a column that leaves such a key loses that NOT NULL unless the rebuild declares it.
#[test]
fn the_key_of_a_without_rowid_table_stays_not_null() {
    let head = "CREATE TABLE posts (id INTEGER PRIMARY KEY, code TEXT, PRIMARY KEY (id, code)) WITHOUT ROWID;\n";
    let head = head.replace("id INTEGER PRIMARY KEY,", "id INTEGER,");
    let rows = "INSERT INTO posts VALUES (1, 'a'), (2, 'b');";
    let (project, _db, _path) = reduced(
        &head,
        "diesel::table! { posts (id, code) { id -> Nullable<Integer>, code -> Text, } }\n",
        rows,
    );
    let run = project.assert_rejected(&["generate", "nullable id"]);
    assert!(run.stderr.contains("WITHOUT ROWID"), "{run:?}");

    let (project, _db, path) = reduced(
        &head,
        "diesel::table! { posts (id) { id -> Integer, code -> Text, } }\n",
        rows,
    );
    project.generate("key by id");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2)]);
}

/// Found by reading the refusals: `table users cannot be dropped: posts.users_id references
/// it` when the same migration renames posts and drops that column, because the check looked
/// the column up under the table's old name.
#[test]
fn a_table_can_be_dropped_with_the_reference_to_it_in_a_renamed_table() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id));
",
        "diesel::table! { people (id) { id -> Integer, } }\n",
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1), (2, NULL);",
    );
    project.generate_with(&["drop users", "--rename-table", "posts=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("people", 2)]);
}

/// Found as exit 3 (`after up.sql, the values of users.name changed: [.., "NULL", ..] became
/// [.., "0", ..]`): seeding fired a trigger that inserts rows of its own, with NULL where
/// seeds never have one, and the proof took the backfill of a column made NOT NULL for lost
/// values. Seeds stand for rows a database already holds: triggers no longer fire on them.
#[test]
fn seeds_do_not_fire_triggers() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name BOOLEAN);
CREATE TABLE log (id INTEGER NOT NULL PRIMARY KEY, name BOOLEAN);
CREATE TRIGGER logged AFTER INSERT ON users
BEGIN
    INSERT INTO log (id) SELECT coalesce(max(id), 0) + 1000 FROM log;
END;
",
        "diesel::table! { users (id) { id -> Integer, name -> Nullable<Bool>, } }
diesel::table! { log (id) { id -> Integer, name -> Bool, } }
",
        "INSERT INTO users VALUES (1, 1), (2, NULL);",
    );
    project.generate_with(&["names required", "--default", "log.name=0"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2), ("log", 2)]);
}

/// Found by the properties as exit 3 (`down.sql failed on seeded rows: SQL logic error`): a
/// trigger whose `UPDATE OF` column is dropped fires on no statement, so preparing one never
/// compiled it, and up put it back unreadable (every later ALTER TABLE then fails with
/// `error in trigger touch: no such column: name`). `objects` now looks its `UPDATE OF`
/// columns up by name, and generate refuses (exit 2) as it does for a trigger that fires.
#[test]
fn a_trigger_update_of_a_dropped_column_is_refused() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY, name BOOLEAN);
CREATE TRIGGER touch AFTER UPDATE OF name ON tags
BEGIN
    UPDATE tags SET name = name WHERE id = NEW.id;
END;
",
        "diesel::table! { tags (id) { id -> Integer, } }\n",
        "INSERT INTO tags VALUES (1, 1);",
    );
    let run = project.assert_rejected(&["generate", "drop name"]);
    assert!(run.stderr.contains("trigger touch"), "{run:?}");
}

/// Found as exit 3 in a second generate (`error in index ix_0 after drop column: no such
/// column: order`): the first one dropped a column named with a keyword, and its index
/// `ON users ("order")` was tried on the rebuilt table, where SQLite reads a double-quoted
/// name it cannot find as a string: the index came back on the constant 'order' (and every
/// later ALTER TABLE fails on it). A view selecting `"order"` would silently select the
/// string. The planner now tries them with double-quoted strings off.
#[test]
fn a_dropped_column_named_with_quotes_takes_its_index_and_is_refused_under_a_view() {
    let head = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT, \"order\" INTEGER);
CREATE INDEX users_order ON users (\"order\");
";
    let schema = "diesel::table! { users (id) { id -> Integer, name -> Nullable<Text>, } }\n";
    let rows = "INSERT INTO users VALUES (1, 'a', 1), (2, NULL, 2);";
    let (project, _db, path) = reduced(head, schema, rows);
    let dir = project.generate("drop order");
    assert!(
        project
            .read(&format!("{dir}/up.sql"))
            .contains("WARNING: drops index users_order"),
        "{}",
        project.read(&format!("{dir}/up.sql"))
    );
    up_and_down(&project, &path, &[("users", 2)]);
    let sql = rusqlite::Connection::open(&path).unwrap();
    common::upgrade(&mut application_database(&path), &project);
    schema_readable(&sql).unwrap();

    let head = format!("{head}CREATE VIEW orders AS SELECT id, \"order\" FROM users;\n");
    let (project, _db, _path) = reduced(&head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop order"]);
    assert!(run.stderr.contains("view orders"), "{run:?}");
}

/// Found as exit 3 (`down.sql failed on seeded rows: SQL logic error`): down rebuilt items
/// back with its trigger's stored text, which names tags.id while tags still had the name up
/// gave it, and then dropped a column of posts in place, which SQLite refuses while any
/// trigger names a missing column. Down now drops columns in place after every rebuild.
#[test]
fn down_drops_columns_in_place_after_its_rebuilds() {
    let (project, _db, path) = reduced(
        "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY);
CREATE TRIGGER tagged AFTER INSERT ON items
BEGIN
    INSERT INTO tags (id) SELECT coalesce(max(id), 0) + 1000 FROM tags;
END;
",
        "diesel::table! { tags (title) { title -> Integer, } }
diesel::table! { items (title) { title -> Integer, } }
diesel::table! { posts (id) { id -> Integer, name -> Nullable<Text>, } }
",
        "INSERT INTO tags VALUES (1); INSERT INTO items VALUES (1); INSERT INTO posts VALUES (1);",
    );
    project.generate_with(&[
        "rename keys",
        "--rename",
        "tags.id=title",
        "--rename",
        "items.id=title",
    ]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("tags", 2), ("items", 1), ("posts", 1)]);
}

/// Found as `Cannot add a column with non-constant default` when the migration ran on rows:
/// whether ADD COLUMN takes a default was tried on the planning copy's seeded rows, and a
/// table whose CHECK refuses the seeds has none there, so the try succeeded. Whether the
/// default is constant is now tried on a row of its own.
#[test]
fn a_non_constant_default_is_rebuilt_in_a_table_seeds_cannot_fill() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name SMALLINT NOT NULL CHECK (name IN (0, 1)));\n",
        "diesel::table! { users (id) { id -> Integer, name -> SmallInt, at -> Timestamp, } }\n",
        "INSERT INTO users VALUES (1, 0), (2, 1);",
    );
    project.generate_with(&["stamp users", "--default", "users.at=CURRENT_TIMESTAMP"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: error in trigger tr_0: no such column:
/// id`): up renamed users.id and dropped tags, whose trigger inserts into users (id); down
/// made tags and its trigger again from their stored text, which names users.id, and then
/// renamed users.title back to id, which SQLite refuses while a trigger names a missing
/// column. Down now renames back before it makes any table again.
#[test]
fn down_renames_back_before_it_makes_a_dropped_table_again() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);
CREATE TRIGGER filled AFTER INSERT ON tags
BEGIN
    INSERT INTO users (id) SELECT coalesce(max(id), 0) + 1000 FROM users;
END;
",
        "diesel::table! { users (title) { title -> Integer, } }
",
        "INSERT INTO users VALUES (1); INSERT INTO tags VALUES (1);",
    );
    project.generate_with(&["rename and drop", "--rename", "users.id=title"]);
    project.assert_check_passes();
    // The trigger added a row to users when tags got its own.
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`after down.sql, users lost the row (id, order) = (2147483647, NULL)`):
/// the key grew to (id, order) while order, made NOT NULL, was backfilled; the proof matched
/// down's rows by the new key, which the backfill changed. Rows are matched by the key
/// declared before whenever both sides still read it.
#[test]
fn a_key_that_grows_over_a_backfilled_column_is_proven_by_the_old_key() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, \"order\" BOOLEAN);\n",
        "diesel::table! { users (id, order) { id -> Integer, order -> Bool, } }\n",
        "INSERT INTO users VALUES (1, NULL), (2, 1);",
    );
    project.generate_with(&["key by id and order", "--default", "users.order=0"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: users.seen_at of the row ... holds '0',
/// which the copy as Float turns into 0.0`): a column retyped from Float to Text and made
/// NOT NULL, backfilled with `0`, which Text holds as `'0'` and which down's conversion back
/// cannot give back. Such a `--default` is now exit 2; `'0.0'` comes back.
#[test]
fn a_backfill_that_down_cannot_give_back_is_refused_before_the_proof() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, seen_at REAL);\n",
        "diesel::table! { users (id) { id -> Integer, seen_at -> Text, } }\n",
        "INSERT INTO users VALUES (1, NULL), (2, 2.5);",
    );
    let refused =
        project.assert_rejected(&["generate", "seen as text", "--default", "users.seen_at=0"]);
    assert!(
        refused
            .stderr
            .contains("`--default users.seen_at=0` does not come back from Float"),
        "{refused:?}"
    );
    project.generate_with(&["seen as text", "--default", "users.seen_at='0.0'"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as `the rebuild of posts does not run on head: posts.notes_id of the row id =
/// -9223372036854775808 holds -9223372036854775808, which Diesel cannot read as Integer`:
/// a reference retyped from BigInt to Integer held its parent's seeds, which no i32 holds,
/// and the planning copy refused the conversion on them. Seeds decide what is proven, never
/// what is planned: the parent's keys are seeded with values both types keep.
#[test]
fn a_reference_narrowed_to_integer_is_planned_whatever_its_parent_s_seeds_are() {
    let (project, _db, path) = reduced(
        "CREATE TABLE notes (id INT8 NOT NULL PRIMARY KEY, body TEXT);
CREATE TABLE posts (id INT8 NOT NULL PRIMARY KEY, notes_id BIGINT NOT NULL REFERENCES notes (id));
",
        "diesel::table! { notes (id) { id -> BigInt, body -> Nullable<Text>, } }
diesel::table! { posts (id) { id -> BigInt, notes_id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(notes, posts,);
",
        "INSERT INTO notes VALUES (1, 'a'), (3000000000, 'b');
INSERT INTO posts VALUES (1, 1), (2, 3000000000);",
    );
    let run = project.run(&["generate", "narrow the reference"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("Proven"), "{run:?}");
    project.assert_check_passes();
    // A real row whose reference no i32 holds stops the upgrade, naming it.
    let mut conn = application_database(&path);
    let source =
        diesel_migrations::FileBasedMigrations::from_path(project.file("versions")).unwrap();
    let refused = conn.run_pending_migrations(source).unwrap_err().to_string();
    assert!(
        refused.contains("posts.notes_id of the row id = 2 holds 3000000000"),
        "{refused}"
    );
    drop(conn);
    let sql = rusqlite::Connection::open(&path).unwrap();
    sql.execute_batch("UPDATE posts SET notes_id = 1 WHERE id = 2;")
        .unwrap();
    up_and_down(&project, &path, &[("posts", 2), ("notes", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: ... a row references a missing parent
/// row`) once parents' keys were seeded for a retyped reference: Bool keeps two values, so
/// the parent's keys collided and it was not seeded. A reference made Bool names the
/// parent's plain row instead.
#[test]
fn a_reference_made_bool_is_proven_on_rows() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id) ON DELETE SET NULL);
",
        "diesel::table! { users (id) { id -> Integer, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Bool, } }
diesel::allow_tables_to_appear_in_same_query!(users, posts,);
",
        "INSERT INTO users VALUES (1), (2);
INSERT INTO posts VALUES (1, 1), (2, NULL);",
    );
    let run = project.run(&[
        "generate",
        "users_id as bool",
        "--default",
        "posts.users_id=1",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("Proven on seeded data (2 tables, 6 rows)"),
        "{run:?}"
    );
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2), ("users", 2)]);
}

/// Found as `after up, posts.note holds ["0"] instead of ["2"]`: dropping `id`, which a
/// generated column computes from as `"id" * 2`, rebuilt the table with that expression,
/// and SQLite read `"id"`, no column any more, as the text 'id': every row's value changed
/// with no error. The rebuild is tried with double-quoted strings off, and refused.
#[test]
fn dropping_a_column_a_generated_column_reads_is_refused_not_turned_into_text() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE posts (\n    \"id\" INTEGER NOT NULL,\n    \"note\" BOOLEAN GENERATED ALWAYS AS (\"id\" * 2),\n    \"score\" DOUBLE\n);\n",
        "diesel::table! { posts (rowid) { rowid -> Integer, note -> Nullable<Bool>, score -> Nullable<Double>, } }\n",
        "INSERT INTO posts (rowid, id, score) VALUES (10, 1, 0.5);",
    );
    let refused = project.assert_rejected(&["generate", "drop id", "--default", "posts.id=1"]);
    assert!(
        refused
            .stderr
            .contains("the rebuild of posts does not run on head: no such column: \"id\" - should this be a string literal in single-quotes?\n"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("reading a double-quoted name"),
        "{refused:?}"
    );

    // Unquoted, the new table cannot be made at all: said of the rebuild too (it was
    // "cannot read the schema (a table's shape)").
    let (project, _db, _path) = reduced(
        "CREATE TABLE posts (id INT, note BOOLEAN GENERATED ALWAYS AS (id * 2), score DOUBLE);\n",
        "diesel::table! { posts (rowid) { rowid -> Integer, note -> Nullable<Bool>, score -> Nullable<Double>, } }\n",
        "INSERT INTO posts (rowid, id, score) VALUES (10, 1, 0.5);",
    );
    let refused = project.assert_rejected(&["generate", "drop id"]);
    assert!(
        refused
            .stderr
            .contains("the rebuild of posts does not run on head: no such column: id"),
        "{refused:?}"
    );
}

/// Found as exit 3 (`after up.sql the database still differs from schema.rs: add joinable
/// posts.users_id -> users`): dropping posts.id dropped the table constraint `FOREIGN KEY
/// (users_id) REFERENCES users (id)` as one that "uses a dropped column", read from its
/// words (`id`, the parent's key). Whether a constraint survives is now asked of SQLite.
#[test]
fn dropping_a_column_keeps_a_foreign_key_that_names_a_parent_column_of_that_name() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (
    id INTEGER NOT NULL,
    users_id INTEGER NOT NULL,
    FOREIGN KEY (users_id) REFERENCES users (id),
    CONSTRAINT posts_pair CHECK (users_id IS NULL OR id IS NULL OR 1)
);
",
        "diesel::table! { users (id) { id -> Integer, } }
diesel::table! { posts (rowid) { rowid -> Integer, users_id -> Integer, } }
diesel::joinable!(posts -> users (users_id));
diesel::allow_tables_to_appear_in_same_query!(users, posts,);
",
        "INSERT INTO users VALUES (1);
INSERT INTO posts (rowid, id, users_id) VALUES (10, 5, 1);",
    );
    let newest = project.generate_with(&["drop posts.id", "--default", "posts.id=1"]);
    let up = project.read(&format!("{newest}/up.sql"));
    assert!(
        up.contains("FOREIGN KEY (users_id) REFERENCES users (id)"),
        "{up}"
    );
    assert!(!up.contains("\n    CONSTRAINT posts_pair"), "{up}");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 1), ("users", 1)]);
}

/// Skipped by this test for a long time as a known bug: a trigger `UPDATE OF` a generated
/// column fires on no statement (no UPDATE sets one), so preparing statements never
/// compiled its body, and dropping a column the body names left a trigger SQLite cannot
/// read (every later ALTER TABLE fails). Renaming its table, tried and rolled back, makes
/// SQLite read it: the drop is refused naming it.
#[test]
fn a_trigger_update_of_a_generated_column_is_read_before_what_it_names_goes() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, g INTEGER GENERATED ALWAYS AS (a * 2));
CREATE TABLE o (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);
CREATE TRIGGER tr AFTER UPDATE OF g ON t BEGIN UPDATE o SET x = x + 1 WHERE id = NEW.id; END;
",
        "diesel::table! { t (id) { id -> Integer, a -> Nullable<Integer>, g -> Nullable<Integer>, } }
diesel::table! { o (id) { id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(t, o,);
",
        "INSERT INTO t (id, a) VALUES (1, 2); INSERT INTO o VALUES (1, 0);",
    );
    let refused = project.assert_rejected(&["generate", "drop o.x"]);
    assert!(
        refused
            .stderr
            .contains("drop column o.x would break trigger tr"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("no such column: x"), "{refused:?}");
}

/// Found by the property test in CI (exit 3: `down.sql failed on seeded rows: foreign key
/// mismatch - "posts" referencing "tags"`): round a cycle of references, down made posts
/// again (referencing tags (id)) before it gave tags back its key (id), as the cycle was
/// broken by name. A table whose key comes back now goes first.
#[test]
fn down_gives_a_key_back_before_the_cycle_s_references_to_it() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, posts_id INTEGER REFERENCES posts (id));
CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id));
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, tags_id INTEGER REFERENCES tags (id));
",
        "diesel::table! { users (id) { id -> Nullable<Integer>, posts_id -> Nullable<Integer>, } }
diesel::table! { tags (id, users_id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(users, tags, posts,);
",
        "PRAGMA foreign_keys = OFF;
INSERT INTO users VALUES (1, 1); INSERT INTO tags VALUES (1, 1); INSERT INTO posts VALUES (1, 1);",
    );
    project.generate_with(&["the cycle"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 1), ("tags", 1), ("posts", 1)]);
}
