//! Target: head with the edits, and what `generate` needs to be told.

use crate::edits::apply_edits;
use crate::head::{plain, rust_name, Object};
use crate::model::{Col, Model, Tbl, SECTIONS};
use crate::strategies::EditGen;
use crate::types::Ty;

/// schema.rs as a model, and the flags `generate` needs to reach it from head.
pub struct Target {
    pub model: Model,
    pub flags: Vec<String>,
}

/// The head table a target table is, as `generate` will see it once the renames are made:
/// the one it was renamed from, or the one of the same name nobody was renamed from.
pub fn head_table_of<'a>(head: &'a Model, target: &Model, t: &Tbl) -> Option<&'a Tbl> {
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
pub fn head_column_of<'a>(h: &'a Tbl, t: &Tbl, c: &Col) -> Option<&'a Col> {
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
pub fn default_value(ty: Ty, whole: bool) -> &'static str {
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

pub fn target_of(head: &Model, edits: &[EditGen], whole: bool) -> Target {
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
                // So does a column schema.rs makes a reference as it makes it NOT NULL: the
                // NULLs it fills must name a row that exists.
                let references = t.joins.contains_key(&c.name)
                    || head_column
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
pub fn render_schema(model: &Model) -> Vec<(&'static str, String)> {
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
pub fn render_section(model: &Model, section: usize) -> String {
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

/// `objects` with the names `target` gives what they name (what it drops keeps a name no
/// table or column has).
pub fn carry(objects: &[Object], head: &Model, target: &Model) -> Vec<Object> {
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
pub fn rebase(head: &Model, target: &Model) -> Model {
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
