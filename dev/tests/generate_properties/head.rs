//! Head: the model, its hand-written migration, and the rows.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Col, Model, Tbl};
use crate::strategies::{
    Case, ColGen, ExtraGen, TableGen, COLUMNS, KEYWORDS, RENAMED_TABLES, TABLES,
};
use crate::types::Ty;

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

pub fn build_head(case: &Case) -> Head {
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
