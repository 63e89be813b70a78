//! The model this test keeps of head and of schema.rs.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::Ty;

#[derive(Debug, Clone)]
pub struct Col {
    pub name: String,
    pub ty: Ty,
    pub nullable: bool,
    /// The head column this one was, when it came from head.
    pub origin: Option<String>,
    /// How schema.rs writes its type: an index into `rust_names`, past their count meaning
    /// with the `diesel::sql_types::` path.
    pub alias: usize,
    /// Head only: the DEFAULT the migration writes.
    pub default: Option<&'static str>,
    /// Head only: `GENERATED ALWAYS AS (...)`, which takes no inserted value.
    pub generated: bool,
    /// Head only: a CHECK constraint.
    pub check: bool,
}

impl Col {
    /// The implicit rowid print-schema keys a table without a primary key by: no column
    /// SQL declares, so no index, constraint, trigger or reference may name it.
    pub fn is_rowid(&self) -> bool {
        self.name == "rowid"
    }

    pub fn rust(&self) -> String {
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
pub struct Tbl {
    pub name: String,
    pub origin: Option<String>,
    /// The column that holds the key the test's rows were inserted with (`id` at first).
    pub row_key: String,
    pub key: Vec<String>,
    pub cols: Vec<Col>,
    /// Joinables: column to parent table.
    pub joins: BTreeMap<String, String>,
}

impl Tbl {
    pub fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }

    pub fn col_mut(&mut self, name: &str) -> Option<&mut Col> {
        self.cols.iter_mut().find(|c| c.name == name)
    }

    /// The columns SQL declares: all but the implicit rowid.
    pub fn declared(&self) -> Vec<&Col> {
        self.cols.iter().filter(|c| !c.is_rowid()).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub tables: Vec<Tbl>,
    /// With two `[print_schema.KEY]` sections: the table names the second one selects (by
    /// name, so a table renamed may change section). `None`: one schema.rs.
    pub second: Option<BTreeSet<String>>,
}

/// The sections' keys and files: the first takes every table the second does not.
pub const SECTIONS: [(&str, &str); 2] =
    [("main", "schema/schema.rs"), ("extra", "schema/extra.rs")];

impl Model {
    /// Which section a table is in (0 without sections).
    pub fn section(&self, table: &str) -> usize {
        usize::from(self.second.as_ref().is_some_and(|s| s.contains(table)))
    }

    /// Whether a reference from `a` to `b` crosses sections: print-schema then writes no
    /// joinable for it, and schema.rs can neither add nor drop one.
    pub fn crosses(&self, a: &str, b: &str) -> bool {
        self.section(a) != self.section(b)
    }

    pub fn table(&self, name: &str) -> Option<&Tbl> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The type of the single declared key a foreign key can reference (never a rowid).
    pub fn key_type(&self, table: &str) -> Option<Ty> {
        let t = self.table(table)?;
        match t.key.as_slice() {
            [key] => t.col(key).filter(|c| !c.is_rowid()).map(|c| c.ty),
            _ => None,
        }
    }

    /// Whether references go round a cycle of tables (a self-reference is no joinable).
    pub fn has_cycle(&self) -> bool {
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
    pub fn joined(&self, a: &str, b: &str) -> bool {
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
pub struct CanonTable {
    pub columns: BTreeMap<String, (Ty, bool)>,
    pub key: BTreeSet<String>,
    pub joins: BTreeSet<(String, String)>,
}

pub type Canon = BTreeMap<String, CanonTable>;

pub fn canon(model: &Model) -> Canon {
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
