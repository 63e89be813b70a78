//! Head: the model, its hand-written migration, and the rows.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Col, Model};
use crate::strategies::{Case, ColGen, TableGen, COLUMNS, KEYWORDS, RENAMED_TABLES, TABLES};
use crate::types::Ty;

mod objects;
mod tables;

use objects::head_objects;
use tables::head_table;

/// An identifier as a person would write it: quoted when SQLite needs it, or when the table's
/// author quotes everything.
pub fn ident(name: &str, always: bool) -> String {
    if always || KEYWORDS.contains(&name) || !plain(name) {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

/// A name that is an identifier in SQL and in Rust as it is.
pub fn plain(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The Rust name schema.rs gives a column: its SQL name when that is an identifier, else
/// one made of it (and `#[sql_name]` keeps the SQL name).
pub fn rust_name(name: &str) -> String {
    if plain(name) {
        name.to_owned()
    } else {
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    }
}

/// The DEFAULT a hand-written NOT NULL column may have.
pub fn head_default(ty: Ty) -> &'static str {
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

pub fn check_clause(ty: Ty, column: &str) -> String {
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
pub struct Object {
    pub kind: &'static str,
    pub name: String,
    /// The table it belongs to (a view: the one it selects from).
    pub table: String,
    /// The head tables and columns it names (`None`: the table only). A view or trigger
    /// breaks when one of them goes, but a trigger goes with its own table.
    pub deps: Vec<(String, Option<String>)>,
    /// A trigger's `UPDATE OF` column, when it has one.
    pub fired_by: Option<(String, String)>,
}

pub struct Head {
    pub model: Model,
    pub up: String,
    pub down: String,
    pub objects: Vec<Object>,
    /// Columns a UNIQUE index covers: never NULL in the rows, so a backfill cannot collide.
    pub unique: BTreeSet<(String, String)>,
}

impl TableGen {
    /// Its columns, each name once.
    pub fn columns(&self) -> Vec<&ColGen> {
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
    pub fn second_key(&self) -> Option<String> {
        self.columns()
            .into_iter()
            .find(|c| c.extra != 3)
            .filter(|_| self.composite && !self.rowid_keyed)
            .map(|c| c.name.get(&COLUMNS).to_string())
    }

    /// Keyed by the implicit rowid: a rowid table asking for no primary key.
    pub fn by_rowid(&self) -> bool {
        self.rowid_keyed && !self.without_rowid && !self.composite
    }

    /// The type of `id` when it is the whole primary key, which a foreign key can reference.
    pub fn single_key(&self) -> Option<Ty> {
        let key_ty = if self.big_key {
            Ty::BigInt
        } else {
            Ty::Integer
        };
        (!self.by_rowid() && self.second_key().is_none()).then_some(key_ty)
    }
}

/// Head for `case`: its tables, then its indexes, views and triggers, as one hand-written
/// migration, with the model of it.
pub fn build_head(case: &Case) -> Head {
    let mut model = Model {
        tables: Vec::new(),
        second: second_section(case),
    };
    let mut statements = Vec::new();
    let mut quoted = BTreeMap::new();
    let mut unique = BTreeSet::new();
    for i in 0..case.tables.len() {
        let (statement, table) = head_table(case, i, &model, &quoted, &mut unique);
        statements.push(statement);
        quoted.insert(table.name.clone(), case.tables[i].quoted);
        model.tables.push(table);
    }
    let objects = head_objects(case, &model, &mut statements, &mut unique);
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

/// The table names the second schema section selects, when the case has two.
fn second_section(case: &Case) -> Option<BTreeSet<String>> {
    case.sections
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
        .filter(|second| !second.is_empty())
}

/// The value row `i` of a head column holds (a rowid: 10, 20, 35, 40). `whole`: the column changes type, so it holds
/// whole numbers, which convert to and from most types. `hostile` (row 1 of a hostile case,
/// in a column that is no key, reference or UNIQUE): a value of the column's type that
/// copies get wrong and conversions cannot keep: text that looks like a number, integers at
/// the end of the Rust type's range or past 2^53, REALs without an exact binary form or past
/// f32, a NUL in text, a lone zero byte; a type change must then keep it exactly or fail,
/// atomically, naming the column.
pub fn value(col: &Col, i: i64, whole: bool, never_null: bool, hostile: bool) -> String {
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
