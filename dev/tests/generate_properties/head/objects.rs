//! The indexes, views and triggers of head, over real columns, and what each depends on.

use std::collections::BTreeSet;

use proptest::sample::Index;

use super::{ident, Object};
use crate::model::{Col, Model, Tbl};
use crate::strategies::{Case, ExtraGen};
use crate::types::Ty;

/// The case's indexes, views and triggers on the tables of `model`: their statements are
/// added to `statements`, and `unique` gains the columns a UNIQUE index covers.
pub fn head_objects(
    case: &Case,
    model: &Model,
    statements: &mut Vec<String>,
    unique: &mut BTreeSet<(String, String)>,
) -> Vec<Object> {
    let mut objects = Vec::new();
    // Indexes first, so a trigger knows which columns are UNIQUE.
    let mut extras: Vec<(usize, &ExtraGen)> = case.extras.iter().enumerate().collect();
    extras.sort_by_key(|(_, e)| !matches!(e, ExtraGen::Index { .. }));
    for (k, extra) in extras {
        let (sql, object) = match extra {
            ExtraGen::Index {
                table,
                cols,
                unique: want_unique,
                partial,
                expression,
            } => {
                let t = &model.tables[table.index(model.tables.len())];
                let shape = (*want_unique, *partial, *expression);
                index(t, k, cols, shape, unique)
            }
            ExtraGen::View { kind, table, col } => view(model, k, *kind, table, col),
            ExtraGen::Trigger {
                kind,
                table,
                col,
                other,
                other_col,
            } => trigger(model, k, *kind, (table, col), (other, other_col), unique),
        };
        statements.push(sql);
        objects.push(object);
    }
    objects
}

/// Index `ix_k` on `t`'s columns `cols` (each once): UNIQUE when asked and no column is Bool,
/// partial, or on `lower()` of its text columns, as `(unique, partial, expression)` says.
fn index(
    t: &Tbl,
    k: usize,
    cols: &[Index],
    (want_unique, partial, expression): (bool, bool, bool),
    unique: &mut BTreeSet<(String, String)>,
) -> (String, Object) {
    let mut columns: Vec<&Col> = Vec::new();
    for c in cols {
        let col = *c.get(&t.declared());
        if !columns.iter().any(|x| x.name == col.name) {
            columns.push(col);
        }
    }
    // Values are distinct per row for every type but Bool.
    let is_unique = want_unique && columns.iter().all(|c| c.ty != Ty::Bool);
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let id = ident(&c.name, false);
            if expression && c.ty == Ty::Text {
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
    if partial {
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
    let object = Object {
        kind: "index",
        fired_by: None,
        name,
        table: t.name.clone(),
        deps: columns
            .iter()
            .map(|c| (t.name.clone(), Some(c.name.clone())))
            .collect(),
    };
    (format!("{sql};"), object)
}

/// View `v_k` of a table: every column, a count, a join to its parent, one column filtered
/// and ordered, or its key and one column.
fn view(model: &Model, k: usize, kind: u8, table: &Index, col: &Index) -> (String, Object) {
    let t = &model.tables[table.index(model.tables.len())];
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
    let object = Object {
        kind: "view",
        fired_by: None,
        name: name.clone(),
        table: table_name.clone(),
        deps,
    };
    (format!("CREATE VIEW {name} AS {body};"), object)
}

/// Trigger `tr_k` on the table `on` picks (and its column), which may touch a column of the
/// table `other` picks: it refuses deletes, updates another table's column when its column
/// is updated, selects on insert, inserts a row into the other table, or refuses updates.
fn trigger(
    model: &Model,
    k: usize,
    kind: u8,
    on: (&Index, &Index),
    other: (&Index, &Index),
    unique: &BTreeSet<(String, String)>,
) -> (String, Object) {
    let n = model.tables.len();
    let t = &model.tables[on.0.index(n)];
    let c = &on.1.get(&t.declared()).name;
    let o = &model.tables[other.0.index(n)];
    // A generated column cannot be updated: a trigger doing so never compiles.
    let settable: Vec<&Col> = o.declared().into_iter().filter(|x| !x.generated).collect();
    let oc = &settable[other.1.index(settable.len())].name;
    let name = format!("tr_{k}");
    // A row of `o` made from defaults alone: its key past the rows the test inserts, every
    // other column nullable, defaulted or generated, and no UNIQUE column, which a default
    // (or a backfill of its NULLs) would repeat.
    let takes_defaults = o.key.len() == 1
        && o.cols.iter().all(|x| {
            o.key.contains(&x.name)
                || ((x.generated || x.nullable || x.default.is_some())
                    && !unique.contains(&(o.name.clone(), x.name.clone())))
        });
    let kind = if kind == 4 && !takes_defaults {
        2
    } else {
        kind
    };
    let object = Object {
        kind: "trigger",
        fired_by: (kind == 1).then(|| (t.name.clone(), c.clone())),
        name: name.clone(),
        table: t.name.clone(),
        deps: trigger_deps(kind, t, c, o, oc),
    };
    (trigger_sql(kind, &name, t, c, o, oc), object)
}

/// The `CREATE TRIGGER` of a trigger of `kind` on `t` (column `c`), touching `o` (column
/// `oc`).
fn trigger_sql(kind: u8, name: &str, t: &Tbl, c: &str, o: &Tbl, oc: &str) -> String {
    let (tq, cq) = (ident(&t.name, false), ident(c, false));
    let (oq, ocq) = (ident(&o.name, false), ident(oc, false));
    match kind {
        4 => {
            // 0 in every column with a DEFAULT: it passes every CHECK here and converts to
            // every type, which the DEFAULT itself may not.
            let defaulted: Vec<&Col> = o.cols.iter().filter(|x| x.default.is_some()).collect();
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
    }
}

/// The head tables and columns a trigger of `kind` names.
fn trigger_deps(kind: u8, t: &Tbl, c: &str, o: &Tbl, oc: &str) -> Vec<(String, Option<String>)> {
    match kind {
        1 => vec![
            (t.name.clone(), Some(c.to_owned())),
            (t.name.clone(), Some("id".to_owned())),
            (o.name.clone(), Some(oc.to_owned())),
            (o.name.clone(), Some("id".to_owned())),
        ],
        2 => vec![
            (t.name.clone(), Some(c.to_owned())),
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
    }
}
