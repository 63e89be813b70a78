//! The random edits that make schema.rs out of head: each is skipped where it cannot apply
//! (a key column dropped, a name taken, a joinable across schema sections).

use std::collections::BTreeMap;

use proptest::sample::Index;

use crate::model::{Col, Model, Tbl};
use crate::strategies::{EditGen, COLUMNS, RENAMED_COLUMNS, RENAMED_TABLES, TABLES};
use crate::types::Ty;

/// `head` with `edits` applied in order.
pub fn apply_edits(head: &Model, edits: &[EditGen]) -> Model {
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
            } => add_column(&mut m, table, (name, *ty, alias, *nullable), join.as_ref()),
            EditGen::DropColumn { table, column } => drop_column(&mut m, table, column),
            EditGen::Retype {
                table,
                column,
                ty,
                alias,
            } => retype(&mut m, table, column, *ty, alias),
            EditGen::Nullability { table, column } => {
                let t = &mut m.tables[table.index(n)];
                let col = column.get_mut(&mut t.cols);
                if !col.is_rowid() {
                    col.nullable = !col.nullable;
                }
            }
            EditGen::AddTable {
                name,
                cols,
                big_key,
                join,
            } => add_table(&mut m, name, cols, *big_key, join.as_ref()),
            EditGen::DropTable {
                table,
                with_references,
            } => drop_table(&mut m, table, *with_references),
            EditGen::AddJoinable {
                table,
                column,
                parent,
            } => add_joinable(&mut m, table, column, parent),
            EditGen::DropJoinable { table, column } => drop_joinable(&mut m, table, column),
            EditGen::RenameColumn { table, column, to } => {
                rename_column(&mut m, head, table, column, to);
            }
            EditGen::RenameTable { table, to } => rename_table(&mut m, head, table, to),
            EditGen::ChangeKey { table, column } => change_key(&mut m, table, column),
        }
    }
    settle_joins_across_sections(&mut m, head);
    m
}

/// A column the edits add: no origin, no DEFAULT, CHECK or generated expression.
fn new_column(name: String, ty: Ty, nullable: bool, alias: usize) -> Col {
    Col {
        name,
        ty,
        nullable,
        origin: None,
        alias,
        default: None,
        generated: false,
        check: false,
    }
}

/// A column `(name, type, alias, nullable)`, or a joinable reference to the parent `join`
/// picks when one can be added.
fn add_column(
    m: &mut Model,
    table: &Index,
    (name, ty, alias, nullable): (&Index, Ty, &Index, bool),
    join: Option<&Index>,
) {
    let n = m.tables.len();
    let ti = table.index(n);
    let parent = join.map(|j| m.tables[j.index(n)].name.clone());
    let t_name = m.tables[ti].name.clone();
    let joinable = parent.filter(|p| {
        *p != t_name && m.key_type(p).is_some() && !m.joined(&t_name, p) && !m.crosses(&t_name, p)
    });
    let (column, ty) = match &joinable {
        Some(p) => (format!("{p}_id"), m.key_type(p).expect("checked")),
        None => (name.get(&COLUMNS).to_string(), ty),
    };
    let t = &mut m.tables[ti];
    if t.col(&column).is_some() {
        return;
    }
    let alias = alias.index(2 * ty.rust_names().len());
    t.cols.push(new_column(column.clone(), ty, nullable, alias));
    if let Some(p) = joinable {
        t.joins.insert(column, p);
    }
}

/// A column that is no key column, with its joinable.
fn drop_column(m: &mut Model, table: &Index, column: &Index) {
    let n = m.tables.len();
    let t = &mut m.tables[table.index(n)];
    let c = column.get(&t.cols).name.clone();
    if t.key.contains(&c) {
        return;
    }
    t.cols.retain(|x| x.name != c);
    t.joins.remove(&c);
}

/// A column that is no key column, given another type (and no joinable, unless it crosses
/// sections).
fn retype(m: &mut Model, table: &Index, column: &Index, ty: Ty, alias: &Index) {
    let ti = table.index(m.tables.len());
    let t = &m.tables[ti];
    let c = column.get(&t.cols).name.clone();
    if t.key.contains(&c) {
        return;
    }
    // A reference across sections is none schema.rs can drop: it stays.
    let parent = t.joins.get(&c).cloned();
    if parent.is_some_and(|p| !m.crosses(&t.name, &p)) {
        m.tables[ti].joins.remove(&c);
    }
    let t = &mut m.tables[ti];
    let col = t.col_mut(&c).expect("picked");
    col.ty = ty;
    col.alias = alias.index(2 * ty.rust_names().len());
}

/// A table of a name not taken, keyed by `id`, maybe with a joinable reference to the
/// table `join` picks, and with the columns `cols` (each name once).
fn add_table(
    m: &mut Model,
    name: &Index,
    cols: &[(Index, Ty, Index, bool)],
    big_key: bool,
    join: Option<&(Index, bool)>,
) {
    let n = m.tables.len();
    let table_name = name.get(&TABLES).to_string();
    if m.table(&table_name).is_some() {
        return;
    }
    let key_ty = if big_key { Ty::BigInt } else { Ty::Integer };
    let mut t = Tbl {
        name: table_name,
        origin: None,
        key: vec!["id".into()],
        cols: vec![new_column("id".into(), key_ty, false, 0)],
        joins: BTreeMap::new(),
        row_key: "id".into(),
    };
    if let Some((parent, nullable)) = join.filter(|_| n > 0) {
        let p = m.tables[parent.index(n)].name.clone();
        let ty = m.key_type(&p).filter(|_| !m.crosses(&t.name, &p));
        if let Some(ty) = ty {
            let column = format!("{p}_id");
            t.cols.push(new_column(column.clone(), ty, *nullable, 1));
            t.joins.insert(column, p);
        }
    }
    for (name, ty, alias, nullable) in cols {
        let column = name.get(&COLUMNS).to_string();
        if t.col(&column).is_none() {
            let alias = alias.index(2 * ty.rust_names().len());
            t.cols.push(new_column(column, *ty, *nullable, alias));
        }
    }
    m.tables.push(t);
}

/// A table, with the joinables to it (and, `with_references`, the referencing columns that
/// are no key column).
fn drop_table(m: &mut Model, table: &Index, with_references: bool) {
    let n = m.tables.len();
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
            if with_references && !t.key.contains(&c) {
                t.cols.retain(|x| x.name != c);
            }
        }
    }
}

/// A joinable on an existing column of the parent's key type, to a parent in the same
/// section that is not yet joined either way.
fn add_joinable(m: &mut Model, table: &Index, column: &Index, parent: &Index) {
    let n = m.tables.len();
    let ti = table.index(n);
    let p = m.tables[parent.index(n)].name.clone();
    let t_name = m.tables[ti].name.clone();
    let Some(key_ty) = m.key_type(&p) else {
        return;
    };
    if p == t_name || m.joined(&t_name, &p) || m.crosses(&t_name, &p) {
        return;
    }
    let t = &mut m.tables[ti];
    let candidates: Vec<String> = t
        .cols
        .iter()
        .filter(|c| c.ty == key_ty && !c.is_rowid() && !t.joins.contains_key(&c.name))
        .map(|c| c.name.clone())
        .collect();
    if candidates.is_empty() {
        return;
    }
    t.joins.insert(column.get(&candidates).clone(), p);
}

/// A joinable schema.rs writes (none across sections).
fn drop_joinable(m: &mut Model, table: &Index, column: &Index) {
    let ti = table.index(m.tables.len());
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

/// A declared column renamed to a name neither the table nor its head table has, with its
/// key and joinable.
fn rename_column(m: &mut Model, head: &Model, table: &Index, column: &Index, to: &Index) {
    let n = m.tables.len();
    let t = &mut m.tables[table.index(n)];
    let declared = t.declared();
    if declared.is_empty() {
        return;
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
        return;
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

/// A table renamed to a name neither the target nor head has, with the joinables to it.
fn rename_table(m: &mut Model, head: &Model, table: &Index, to: &Index) {
    let ti = table.index(m.tables.len());
    let to = to.get(&RENAMED_TABLES).to_string();
    if m.table(&to).is_some() || head.table(&to).is_some() {
        return;
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

/// Across schema sections print-schema writes no joinable, so schema.rs can neither add nor
/// drop a reference there: the target has exactly the references head had between the tables
/// (the database keeps them), whatever the edits did to the model's joins on the way (a
/// rename may take a table to the other section after an edit dropped or added a join).
fn settle_joins_across_sections(m: &mut Model, head: &Model) {
    let now_name = |m: &Model, head_table: &str| {
        m.tables
            .iter()
            .find(|t| t.origin.as_deref() == Some(head_table))
            .map(|t| t.name.clone())
    };
    let mut kept = Vec::new();
    for h in &head.tables {
        let Some(table) = now_name(m, &h.name) else {
            continue;
        };
        for (head_column, head_parent) in &h.joins {
            let Some(parent) = now_name(m, head_parent) else {
                continue;
            };
            let t = m.table(&table).expect("found by origin");
            let column = t
                .cols
                .iter()
                .find(|c| c.origin.as_deref() == Some(head_column.as_str()));
            if let Some(column) = column.filter(|_| m.crosses(&table, &parent)) {
                kept.push((table.clone(), column.name.clone(), parent));
            }
        }
    }
    let crossing: Vec<(String, String)> = m
        .tables
        .iter()
        .flat_map(|t| {
            t.joins
                .iter()
                .filter(|(_, parent)| m.crosses(&t.name, parent))
                .map(|(column, _)| (t.name.clone(), column.clone()))
        })
        .collect();
    for (table, column) in crossing {
        if let Some(t) = m.tables.iter_mut().find(|t| t.name == table) {
            t.joins.remove(&column);
        }
    }
    for (table, column, parent) in kept {
        if let Some(t) = m.tables.iter_mut().find(|t| t.name == table) {
            t.joins.insert(column, parent);
        }
    }
}

/// The key of a table nothing references, and that is no rowid: a composite key loses its
/// second column, a single one gains another.
fn change_key(m: &mut Model, table: &Index, column: &Index) {
    let ti = table.index(m.tables.len());
    let name = m.tables[ti].name.clone();
    if m.tables
        .iter()
        .any(|t| t.joins.values().any(|p| *p == name))
    {
        return;
    }
    let t = &mut m.tables[ti];
    // Not asked for: a declared key in place of the rowid changes which rows are which by
    // design, and this test compares rows by their head key.
    if t.key == ["rowid"] {
        return;
    }
    if t.key.len() > 1 {
        t.key.truncate(1);
    } else {
        let c = column.get(&t.cols).name.clone();
        if t.key.contains(&c) {
            return;
        }
        t.key.push(c);
    }
}
