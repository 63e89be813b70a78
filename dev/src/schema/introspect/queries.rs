//! The four queries `inspect` reads a database with, joining `sqlite_schema` with the pragma
//! functions, for every table or for those a JSON array names (`reinspect`).

use rusqlite::Connection;

use super::{
    is_user_table, sql_error, ForeignKey, IndexShape, SchemaObject, StoredColumn, StoredTable,
    TableKind,
};
use crate::error::Result;

/// Every user table, or those the JSON array `only` names, with everything `inspect`
/// reads; and every foreign key of them.
pub(super) fn read(
    conn: &Connection,
    only: Option<&str>,
) -> Result<(Vec<StoredTable>, Vec<ForeignKey>)> {
    let mut tables = read_tables(conn, only)?;
    attach_columns(conn, only, &mut tables)?;
    let all_foreign_keys = attach_foreign_keys(conn, only, &mut tables)?;
    attach_indexes_and_triggers(conn, only, &mut tables)?;
    Ok((tables, all_foreign_keys))
}

/// The condition that keeps a row of `sqlite_schema` (as `s`) whose `column` is a table
/// `?1` names: any, when `?1` is NULL, else one of its JSON array.
macro_rules! only {
    ($column:literal) => {
        concat!(
            "(?1 IS NULL OR s.",
            $column,
            " IN (SELECT value FROM json_each(?1)))"
        )
    };
}

/// Where table `name` is in `tables`, sorted by name.
fn position(tables: &[StoredTable], name: &str) -> Option<usize> {
    tables.binary_search_by(|t| t.name.as_str().cmp(name)).ok()
}

/// Every user table, sorted by name, without its columns, keys and objects yet.
fn read_tables(conn: &Connection, only: Option<&str>) -> Result<Vec<StoredTable>> {
    // pragma_table_list goes through every table, its argument only filtering them: once
    // for all of them, or once for each of a few.
    let sql = match only {
        None => concat!(
            "SELECT s.name, s.sql, l.wr, l.type FROM sqlite_schema s JOIN pragma_table_list l ON l.name = s.name AND l.schema = 'main' ",
            "WHERE s.type = 'table' AND ?1 IS NULL ORDER BY s.name"
        ),
        Some(_) => concat!(
            "SELECT s.name, s.sql, l.wr, l.type FROM sqlite_schema s JOIN pragma_table_list(s.name) l ON l.name = s.name AND l.schema = 'main' ",
            "WHERE s.type = 'table' AND ",
            only!("name"),
            " ORDER BY s.name"
        ),
    };
    let mut tables: Vec<StoredTable> = query(conn, "tables", only, sql, |row| {
        Ok(StoredTable {
            name: row.get(0)?,
            sql: row.get(1)?,
            without_rowid: row.get(2)?,
            kind: match row.get_ref(3)?.as_str()? {
                "virtual" => TableKind::Virtual,
                "shadow" => TableKind::Shadow,
                _ => TableKind::Ordinary,
            },
            columns: Vec::new(),
            hidden_columns: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
        })
    })?;
    tables.retain(|t| is_user_table(&t.name));
    Ok(tables)
}

/// Gives every table its columns, in order; a virtual table's hidden ones apart.
fn attach_columns(conn: &Connection, only: Option<&str>, tables: &mut [StoredTable]) -> Result<()> {
    // hidden = 1 marks a virtual table's hidden column; generated columns (2, 3) are real.
    let columns: Vec<(String, bool, StoredColumn)> = query(
        conn,
        "columns",
        only,
        concat!(
            "SELECT s.name, c.name, c.type, c.\"notnull\", c.dflt_value, c.pk, c.hidden ",
            "FROM sqlite_schema s JOIN pragma_table_xinfo(s.name) c ",
            "WHERE s.type = 'table' AND ",
            only!("name"),
            " ORDER BY s.name, c.cid"
        ),
        |row| {
            let hidden: i64 = row.get(6)?;
            Ok((
                row.get(0)?,
                hidden == 1,
                StoredColumn {
                    name: row.get(1)?,
                    declared_type: row.get(2)?,
                    not_null: row.get(3)?,
                    default: row.get(4)?,
                    pk_position: row.get(5)?,
                    generated: hidden >= 2,
                },
            ))
        },
    )?;
    for (table, hidden, column) in columns {
        if let Some(i) = position(tables, &table) {
            if hidden {
                tables[i].hidden_columns.push(column);
            } else {
                tables[i].columns.push(column);
            }
        }
    }
    Ok(())
}

/// Gives every table its foreign keys; returns every user table's, for the references
/// into tables the filter leaves out.
fn attach_foreign_keys(
    conn: &Connection,
    only: Option<&str>,
    tables: &mut [StoredTable],
) -> Result<Vec<ForeignKey>> {
    let foreign_keys: Vec<ForeignKey> = query(
        conn,
        "foreign keys",
        only,
        concat!(
            "SELECT s.name, f.id, f.\"from\", f.\"table\", f.\"to\", f.on_update, f.on_delete ",
            "FROM sqlite_schema s JOIN pragma_foreign_key_list(s.name) f ",
            "WHERE s.type = 'table' AND ",
            only!("name"),
            " ORDER BY s.name, f.id, f.seq"
        ),
        |row| {
            Ok(ForeignKey {
                child: row.get(0)?,
                id: row.get(1)?,
                column: row.get(2)?,
                parent: row.get(3)?,
                parent_column: row.get(4)?,
                on_update: row.get(5)?,
                on_delete: row.get(6)?,
            })
        },
    )?;
    let mut all = Vec::new();
    for fk in foreign_keys
        .into_iter()
        .filter(|fk| is_user_table(&fk.child))
    {
        if let Some(i) = position(tables, &fk.child) {
            tables[i].foreign_keys.push(fk.clone());
        }
        all.push(fk);
    }
    Ok(all)
}

/// Gives every table its indexes (with their shape) and triggers.
fn attach_indexes_and_triggers(
    conn: &Connection,
    only: Option<&str>,
    tables: &mut [StoredTable],
) -> Result<()> {
    let objects: Vec<(String, String, SchemaObject)> = query(
        conn,
        "indexes and triggers",
        only,
        concat!(
            "SELECT s.type, s.tbl_name, s.name, s.sql, l.\"unique\", l.origin, l.partial, ",
            "(SELECT i.name FROM pragma_index_info(s.name) i WHERE i.seqno = 0), ",
            "(SELECT count(*) FROM pragma_index_info(s.name)) ",
            "FROM sqlite_schema s LEFT JOIN pragma_index_list(s.tbl_name) l ON l.name = s.name ",
            "WHERE s.type IN ('index', 'trigger') AND ",
            only!("tbl_name"),
            " ORDER BY s.name"
        ),
        |row| {
            let kind: String = row.get(0)?;
            let index = if kind == "index" {
                Some(IndexShape {
                    unique: row.get::<_, Option<bool>>(4)?.unwrap_or(false),
                    primary_key: row.get::<_, Option<String>>(5)?.as_deref() == Some("pk"),
                    partial: row.get::<_, Option<bool>>(6)?.unwrap_or(false),
                    leading_column: row.get(7)?,
                    columns: row.get(8)?,
                })
            } else {
                None
            };
            Ok((
                kind,
                row.get(1)?,
                SchemaObject {
                    name: row.get(2)?,
                    sql: row.get(3)?,
                    index,
                },
            ))
        },
    )?;
    for (kind, table, object) in objects {
        if let Some(i) = position(tables, &table) {
            match kind.as_str() {
                "index" => tables[i].indexes.push(object),
                _ => tables[i].triggers.push(object),
            }
        }
    }
    Ok(())
}

fn query<T>(
    conn: &Connection,
    what: &str,
    only: Option<&str>,
    sql: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_map([only], row)?.collect())
        .map_err(sql_error(what))
}
