//! Reading a database: print-schema's rules, sqlite_schema, values.

use std::collections::{BTreeMap, BTreeSet};

use crate::head::ident;
use crate::model::{Canon, CanonTable};
use crate::types::{print_schema_type, Ty};

pub fn strings(conn: &rusqlite::Connection, sql: &str, param: &str) -> Vec<Vec<Option<String>>> {
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
pub fn read_like_print_schema(conn: &rusqlite::Connection) -> Result<Canon, String> {
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

pub type Entries = Vec<crate::common::SchemaRow>;

pub fn entries(conn: &rusqlite::Connection) -> Entries {
    crate::common::sqlite_schema(conn)
}

pub fn values(conn: &rusqlite::Connection, table: &str, column: &str, key: &str) -> Vec<String> {
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

pub fn rows(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(
        &format!("SELECT count(*) FROM {}", ident(table, true)),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

pub fn integrity(conn: &rusqlite::Connection) -> Result<(), String> {
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
pub fn schema_readable(conn: &rusqlite::Connection) -> Result<(), String> {
    let probe = conn.execute_batch(
        "SAVEPOINT probe; ALTER TABLE __diesel_schema_migrations RENAME TO __dev_probe;",
    );
    conn.execute_batch("ROLLBACK TO probe; RELEASE probe;")
        .unwrap();
    probe.map_err(|e| format!("a later ALTER TABLE fails: {e}"))
}

pub fn views_select(conn: &rusqlite::Connection) -> Result<(), String> {
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
