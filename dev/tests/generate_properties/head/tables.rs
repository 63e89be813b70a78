//! One table of head: its `CREATE TABLE` as a person writes it, and what the test knows of it.

use std::collections::{BTreeMap, BTreeSet};

use super::{check_clause, head_default, ident};
use crate::model::{Col, Model, Tbl};
use crate::strategies::{Case, ColGen, TableGen, COLUMNS};
use crate::types::Ty;

/// A head column as it was declared (no DEFAULT, CHECK or generated expression).
fn declared(name: &str, ty: Ty, nullable: bool, alias: usize) -> Col {
    Col {
        name: name.to_owned(),
        ty,
        nullable,
        origin: Some(name.to_owned()),
        alias,
        default: None,
        generated: false,
        check: false,
    }
}

/// The table being written: its column lines, the table constraints after them, and the
/// model of it.
struct TableSql<'a> {
    gen: &'a TableGen,
    lines: Vec<String>,
    trailing: Vec<String>,
    table: Tbl,
}

/// Table `i` of the case: its `CREATE TABLE` statement and its model. `model` holds the
/// tables made before it (and `quoted` whether their authors quoted every name); `unique`
/// gains the columns it declares UNIQUE.
pub fn head_table(
    case: &Case,
    i: usize,
    model: &Model,
    quoted: &BTreeMap<String, bool>,
    unique: &mut BTreeSet<(String, String)>,
) -> (String, Tbl) {
    let gen = &case.tables[i];
    let mut sql = TableSql::keyed(gen, case.names[i]);
    sql.self_reference();
    sql.parent_reference(case, i, model, quoted);
    sql.forward_reference(case, i);
    for c in gen.columns() {
        sql.column(c, unique);
    }
    sql.table_constraint();
    sql.finish()
}

impl<'a> TableSql<'a> {
    fn q(&self, name: &str) -> String {
        ident(name, self.gen.quoted)
    }

    /// The table with its key: `id` (inline, as a table constraint, AUTOINCREMENT or part
    /// of a composite key), or the implicit rowid.
    fn keyed(gen: &'a TableGen, name: &str) -> TableSql<'a> {
        let q = |n: &str| ident(n, gen.quoted);
        let key_ty = if gen.big_key { Ty::BigInt } else { Ty::Integer };
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
        let id = declared("id", key_ty, gen.key_nullable, gen.key_spelling.index(8));
        let mut table = Tbl {
            name: name.to_owned(),
            origin: Some(name.to_owned()),
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
        TableSql {
            gen,
            lines: vec![key_line],
            trailing,
            table,
        }
    }

    /// A nullable `parent_id` referencing the table itself, where its key is `id` alone.
    fn self_reference(&mut self) {
        let gen = self.gen;
        if !gen.self_reference || gen.single_key().is_none() {
            return;
        }
        let key_ty = if gen.big_key { Ty::BigInt } else { Ty::Integer };
        let spelling = key_ty.spellings()[0];
        self.lines.push(format!(
            "    {} {spelling} REFERENCES {} ({})",
            self.q("parent_id"),
            self.q(&self.table.name),
            self.q("id")
        ));
        self.table.cols.push(declared("parent_id", key_ty, true, 0));
    }

    /// A foreign key to a table made before (the one before in a cycle), written inline or
    /// as a table constraint, with or without the parent's column, with an action.
    fn parent_reference(
        &mut self,
        case: &Case,
        i: usize,
        model: &Model,
        quoted: &BTreeMap<String, bool>,
    ) {
        let name = self.table.name.clone();
        let parents: Vec<&Tbl> = model
            .tables
            .iter()
            .filter(|t| model.key_type(&t.name).is_some() && !model.joined(&name, &t.name))
            .filter(|t| !case.cycle || t.name == case.names[i.saturating_sub(1)])
            .collect();
        let parent = match (&self.gen.parent, parents.is_empty()) {
            (_, true) => None,
            (Some((which, nullable, form, action)), false) => Some((
                parents[which.index(parents.len())],
                *nullable,
                *form,
                *action,
            )),
            (None, false) => case.cycle.then(|| (parents[0], true, 0, 0)),
        };
        let Some((parent, nullable, form, action)) = parent else {
            return;
        };
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
        let mut line = format!("    {} {spelling}", self.q(&column));
        if !nullable {
            line.push_str(" NOT NULL");
        }
        if form == 2 {
            self.trailing.push(format!(
                "    FOREIGN KEY ({}) {reference}{action}",
                self.q(&column)
            ));
        } else {
            line.push_str(&format!(" {reference}{action}"));
        }
        self.lines.push(line);
        self.table.joins.insert(column.clone(), parent.name.clone());
        let alias = usize::from(form);
        self.table
            .cols
            .push(declared(&column, parent_ty, nullable, alias));
    }

    /// A reference to a table created later: SQLite checks references on rows, not when a
    /// table is created, so tables may reference each other round a cycle.
    fn forward_reference(&mut self, case: &Case, i: usize) {
        let tables = &case.tables;
        let later: Vec<usize> = (i + 1..tables.len())
            .filter(|&j| tables[j].single_key().is_some())
            .filter(|&j| !case.cycle || (i == 0 && j == tables.len() - 1 && j > 1))
            .collect();
        let forward = match (&self.gen.forward, later.is_empty()) {
            (_, true) => None,
            (Some((which, nullable)), false) => Some((later[which.index(later.len())], *nullable)),
            (None, false) => case.cycle.then(|| (later[0], true)),
        };
        let Some((j, nullable)) = forward else {
            return;
        };
        let parent = case.names[j].to_owned();
        let parent_ty = tables[j].single_key().expect("filtered");
        let column = format!("{parent}_id");
        let mut line = format!("    {} {}", self.q(&column), parent_ty.spellings()[0]);
        if !nullable {
            line.push_str(" NOT NULL");
        }
        line.push_str(&format!(
            " REFERENCES {} ({})",
            ident(&parent, tables[j].quoted),
            ident("id", tables[j].quoted)
        ));
        self.lines.push(line);
        self.table.joins.insert(column.clone(), parent);
        self.table
            .cols
            .push(declared(&column, parent_ty, nullable, 0));
    }

    /// A column of the case's own, with its NOT NULL, DEFAULT, CHECK, COLLATE, UNIQUE or
    /// generated expression.
    fn column(&mut self, c: &ColGen, unique: &mut BTreeSet<(String, String)>) {
        let column = c.name.get(&COLUMNS).to_string();
        let sql_type = c.spelling.get(c.ty.spellings()).to_string();
        let generated = c.extra == 3;
        let default = (!c.nullable && c.default && !generated).then(|| head_default(c.ty));
        let mut line = format!("    {}", self.q(&column));
        if !sql_type.is_empty() {
            line.push_str(&format!(" {sql_type}"));
        }
        if !c.nullable {
            line.push_str(" NOT NULL");
        }
        if generated {
            line.push_str(&format!(
                " GENERATED ALWAYS AS ({} * 2){}",
                self.q("id"),
                if c.default { " STORED" } else { "" }
            ));
        }
        if let Some(d) = default {
            line.push_str(&format!(" DEFAULT {d}"));
        }
        let check = c.check && c.ty != Ty::Binary && !generated;
        if check {
            line.push_str(&format!(" {}", check_clause(c.ty, &self.q(&column))));
        }
        if c.extra == 1 && c.ty == Ty::Text {
            line.push_str(" COLLATE NOCASE");
        }
        if c.extra == 2 && c.ty != Ty::Bool {
            line.push_str(" UNIQUE");
            unique.insert((self.table.name.clone(), column.clone()));
        }
        self.lines.push(line);
        self.table.cols.push(Col {
            default,
            generated,
            check,
            ..declared(
                &column,
                c.ty,
                c.nullable,
                c.alias.index(2 * c.ty.rust_names().len()),
            )
        });
    }

    /// A table constraint over two columns: `UNIQUE (id, c)` or a CHECK naming two.
    fn table_constraint(&mut self) {
        let name = &self.table.name;
        let columns = self.table.declared();
        let others: Vec<&&Col> = columns.iter().filter(|c| c.name != "id").collect();
        let Some((is_unique, first, second)) = &self.gen.constraint else {
            return;
        };
        if others.is_empty() {
            return;
        }
        let (a, b) = (&first.get(&others).name, &second.get(&columns).name);
        let constraint = if *is_unique {
            // With the key in it, the rows (whose keys differ) always fit.
            format!(
                "    CONSTRAINT {name}_pair UNIQUE ({}, {})",
                self.q("id"),
                self.q(a)
            )
        } else {
            format!(
                "    CONSTRAINT {name}_pair CHECK ({} IS NULL OR {} IS NULL OR 1)",
                self.q(a),
                self.q(b)
            )
        };
        self.trailing.push(constraint);
    }

    /// The statement, and the model with the NOT NULL SQLite gives a WITHOUT ROWID key.
    fn finish(mut self) -> (String, Tbl) {
        let without_rowid = self.gen.without_rowid;
        if without_rowid {
            // SQLite makes the key of a WITHOUT ROWID table NOT NULL, and says so.
            for c in &mut self.table.cols {
                if self.table.key.contains(&c.name) {
                    c.nullable = false;
                }
            }
        }
        self.lines.extend(self.trailing);
        let statement = format!(
            "CREATE TABLE {} (\n{}\n){};",
            ident(&self.table.name, self.gen.quoted),
            self.lines.join(",\n"),
            if without_rowid { " WITHOUT ROWID" } else { "" }
        );
        (statement, self.table)
    }
}
