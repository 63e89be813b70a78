//! The proof's other half for a type change: a value the new type cannot keep must stop the
//! migration, with the database exactly as it was. The seeds show that the values a change
//! must keep are kept; here one seeded row gets a value of the old type that the new one
//! cannot keep (`'007'` for an Integer, 3000000000 for an i32, 1e300 for an f32), found by
//! asking SQLite which of a list of such values the new declared type rewrites or Diesel
//! cannot read, and up runs on it through the harness.

use crate::sqlite::catalog;
use diesel::connection::SimpleConnection;
use diesel::migration::Migration;
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use diesel_migrations::MigrationHarness;
use rusqlite::types::Value;

use crate::generate::diff::{head_column, head_table, Change};
use crate::schema::introspect::Database;
use crate::schema::model::ColumnKey;
use crate::schema::types::SqlType;
use crate::sqlite::db::{sqlite_message, APPLICATION_PRAGMAS};
use crate::sqlite::quote::quote;
use crate::sqlite::values::{self, shown};

/// Values of some type that conversions rewrite or that other types cannot hold: text that
/// looks like a number, integers past i16, i32 and 2^53, REALs with a fraction and past f32,
/// text past a DOUBLE's range, a blob.
fn candidates() -> Vec<Value> {
    let text = |t: &str| Value::Text(t.to_owned());
    vec![
        text("007"),
        text(" 5 "),
        text("1e2"),
        text("1.50"),
        text("1e400"),
        text("abc"),
        Value::Integer(9_007_199_254_740_993),
        Value::Integer(3_000_000_000),
        Value::Integer(40_000),
        Value::Integer(2),
        Value::Real(2.5),
        Value::Real(1.0e300),
        Value::Blob(vec![0, 1]),
    ]
}

/// For every column `changes` retypes, in a table with seeded rows: one such value in one
/// seeded row must make up fail and leave the schema and the table's rows as they were.
/// Columns for which no such value exists (a change to Text keeps every number) or which
/// cannot take one (a CHECK, a trigger refusing the write) are skipped; a WITHOUT ROWID
/// table too. The value is put back afterwards. Says what went wrong.
pub fn refuses_what_it_cannot_keep(
    conn: &mut SqliteConnection,
    inspector: &rusqlite::Connection,
    head: &Database,
    seeded: &[String],
    changes: &[Change],
    converted: &[ColumnKey],
    migration: &dyn Migration<Sqlite>,
) -> Result<(), String> {
    for change in changes {
        let Change::AlterColumn { table, from, to } = change else {
            continue;
        };
        if from.ty == to.ty {
            continue;
        }
        let (table, column) = (
            head_table(changes, table),
            head_column(changes, table, &to.name),
        );
        if converted.contains(&ColumnKey::new(table, column)) {
            continue;
        }
        let Some(rowid) = head
            .table(table)
            .filter(|t| seeded.contains(&t.name))
            .and_then(|t| t.rowid_name())
        else {
            continue;
        };
        let Some(poison) = unkept(inspector, from.ty, to.ty) else {
            continue;
        };
        let (table, column) = (quote(table), quote(column));
        let row = format!("{rowid} = (SELECT min({rowid}) FROM {table})");
        let read = |what: &str| {
            inspector
                .query_row(
                    &format!("SELECT {what} FROM {table} WHERE {row}"),
                    [],
                    |r| r.get::<_, Value>(0),
                )
                .map_err(|e| sqlite_message(&e))
        };
        let original = read(&column)?;
        let set = |value: &Value| {
            inspector.execute(
                &format!("UPDATE {table} SET {column} = ?1 WHERE {row}"),
                [value],
            )
        };
        if set(&poison).is_err() {
            continue;
        }
        let rows = |conn: &rusqlite::Connection| -> Result<Vec<Vec<String>>, String> {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY {rowid}"))
                .map_err(|e| sqlite_message(&e))?;
            let n = stmt.column_count();
            stmt.query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, Value>(i).map(|v| shown(&v)))
                    .collect()
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| sqlite_message(&e))
        };
        let entries = catalog::entries(inspector).map_err(|e| e.to_string())?;
        let before = rows(inspector)?;
        let ran = conn.run_migration(migration);
        // A file that manages its own transaction leaves it open when it fails, with its
        // pragmas set: the connection goes back to what the application's is.
        let _ = conn.batch_execute("ROLLBACK");
        conn.batch_execute(&format!(
            "PRAGMA legacy_alter_table = OFF; {APPLICATION_PRAGMAS}"
        ))
        .map_err(|e| e.to_string())?;
        let said = match ran {
            Ok(_) => {
                return Err(format!(
                    "up.sql kept going with {} in {table}.{column}, which {} cannot keep",
                    shown(&poison),
                    to.ty.diesel_name()
                ))
            }
            Err(e) => e.to_string(),
        };
        if catalog::entries(inspector).map_err(|e| e.to_string())? != entries
            || rows(inspector)? != before
        {
            return Err(format!(
                "up.sql failed on {} in {table}.{column} ({said}), but not atomically: the database changed",
                shown(&poison)
            ));
        }
        set(&original).map_err(|e| sqlite_message(&e))?;
    }
    Ok(())
}

/// The first candidate that a column of type `from` holds as it is and a conversion to `to`
/// does not keep (it rewrites it, or Diesel cannot read the result as `to`): asked of SQLite
/// on a probe column of each type.
fn unkept(conn: &rusqlite::Connection, from: SqlType, to: SqlType) -> Option<Value> {
    candidates().into_iter().find(|value| {
        let Some(old) = stored_as(conn, from, value) else {
            return false;
        };
        let valid = values::is_kept(conn, value, &old).unwrap_or(false) && holds(conn, from, &old);
        valid
            && stored_as(conn, to, &old).is_some_and(|new| {
                let back = stored_as(conn, from, &new);
                !(values::is_kept(conn, &old, &new).unwrap_or(false)
                    && back.is_some_and(|back| values::same(&back, &old))
                    && holds(conn, to, &new))
            })
    })
}

/// `value` as a column declared as `ty` stores it.
fn stored_as(conn: &rusqlite::Connection, ty: SqlType, value: &Value) -> Option<Value> {
    let probe = || -> rusqlite::Result<Value> {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp._dev_probe; CREATE TEMP TABLE _dev_probe (v {});",
            ty.sql()
        ))?;
        conn.execute("INSERT INTO temp._dev_probe VALUES (?1)", [value])?;
        let stored = conn.query_row("SELECT v FROM temp._dev_probe", [], |r| r.get(0));
        conn.execute_batch("DROP TABLE temp._dev_probe")?;
        stored
    };
    probe().ok()
}

/// Whether Diesel reads `value` as `ty` (`SqlType::holds`).
fn holds(conn: &rusqlite::Connection, ty: SqlType, value: &Value) -> bool {
    ty.holds("?1").is_none_or(|sql| {
        conn.query_row(&format!("SELECT {sql}"), [value], |r| r.get(0))
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_found_is_one_the_old_type_holds_and_the_new_cannot_keep() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let text = |t: &str| Some(Value::Text(t.to_owned()));
        assert_eq!(unkept(&conn, SqlType::Text, SqlType::Integer), text("007"));
        assert_eq!(
            unkept(&conn, SqlType::BigInt, SqlType::Integer),
            Some(Value::Integer(9_007_199_254_740_993))
        );
        assert_eq!(
            unkept(&conn, SqlType::Double, SqlType::Float),
            Some(Value::Real(1.0e300))
        );
        assert_eq!(unkept(&conn, SqlType::Integer, SqlType::Text), None);
        assert_eq!(unkept(&conn, SqlType::Integer, SqlType::BigInt), None);
    }
}
