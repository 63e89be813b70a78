//! For a constraint added in place that rows already in the database break (`ALTER TABLE t
//! ALTER COLUMN c SET NOT NULL`, `ALTER TABLE t ADD CONSTRAINT name CHECK (...)`, SQLite 3.53
//! and later): the rows, by key. SQLite's own message is only "constraint failed".
//!
//! SQLite says what the statement does: it runs on an empty copy of the tables, where it
//! succeeds, with an authorizer that names the table it alters; the table's stored text and
//! columns before and after say which columns became NOT NULL and which CHECKs are new. The
//! rows are then found as SQLite's own scan finds them (`c IS NULL`, `(expr) IS NOT TRUE`).

use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, Authorization};
use rusqlite::Connection;

use crate::apply::losses;
use crate::generate::plan::row_key;
use crate::schema::introspect::shape_of;
use crate::sqlite::create_table::CreateTable;
use crate::sqlite::lexer::{inside, is_word, tokenize, Token};
use crate::sqlite::quote::quote;

/// How many refused rows a message names; the rest are counted.
const SHOWN: i64 = 5;

/// `statement` failed with "constraint failed" on `conn` (a copy of the database, as the
/// file left it): the notes that name the rows it refused, one per constraint; empty when it
/// adds no constraint in place (or SQLite cannot say which).
pub fn refused_rows(conn: &Connection, statement: &str) -> Vec<String> {
    let Some((table, before, after)) = altered(conn, statement) else {
        return Vec::new();
    };
    let (Ok(old), Ok(new)) = (shape_of(&before), shape_of(&after)) else {
        return Vec::new();
    };
    let key = row_key(&old);
    let mut notes = Vec::new();
    for column in new.columns.iter().filter(|c| c.not_null) {
        if old.column(&column.name).is_some_and(|c| !c.not_null) {
            let condition = format!("{} IS NULL", quote(&column.name));
            let what = format!("{table}.{}, which becomes NOT NULL, is NULL", column.name);
            notes.extend(rows(conn, &table, &key, &condition, &what));
        }
    }
    let constraints = |sql: &str| -> Vec<String> {
        CreateTable::parse(sql).map_or_else(Vec::new, |t| {
            t.constraints().map(|(_, text)| text.to_owned()).collect()
        })
    };
    let existing = constraints(&before);
    for constraint in constraints(&after) {
        if existing.contains(&constraint) {
            continue;
        }
        let Some(expr) = check_expression(&constraint) else {
            continue;
        };
        // What SQLite's ALTER asks of every row: a NULL fails it too, unlike an INSERT's CHECK.
        let condition = format!("({expr}) IS NOT TRUE");
        let what = format!("the new `{constraint}` of {table} is not true");
        notes.extend(rows(conn, &table, &key, &condition, &what));
    }
    notes
}

/// The table `statement` alters, its stored text before, and after the statement ran on an
/// empty copy of the tables.
fn altered(conn: &Connection, statement: &str) -> Option<(String, String, String)> {
    let tables: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .ok()?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .ok()?
        .collect::<rusqlite::Result<_>>()
        .ok()?;
    let empty = Connection::open_in_memory().ok()?;
    empty.execute_batch("PRAGMA foreign_keys = OFF;").ok()?;
    for (_, sql) in &tables {
        // A virtual table whose module is not here cannot be made, and no ALTER names one.
        let _ = empty.execute_batch(sql);
    }
    let named: Arc<Mutex<Option<String>>> = Arc::default();
    let record = Arc::clone(&named);
    empty
        .authorizer(Some(move |context: rusqlite::hooks::AuthContext<'_>| {
            if losses::reaches_outside(&context.action) {
                return Authorization::Deny;
            }
            if let AuthAction::AlterTable { table_name, .. } = context.action {
                let mut record = record.lock().unwrap_or_else(|e| e.into_inner());
                record.get_or_insert_with(|| table_name.to_owned());
            }
            Authorization::Allow
        }))
        .ok()?;
    empty.execute_batch(statement).ok()?;
    let table = named.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
    let (name, before) = tables
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&table))?;
    let after: String = empty
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [&name],
            |r| r.get(0),
        )
        .ok()?;
    Some((name, before, after))
}

/// The expression of a `[CONSTRAINT name] CHECK (expr)` table constraint.
fn check_expression(constraint: &str) -> Option<&str> {
    let tokens = tokenize(constraint);
    let check = tokens
        .iter()
        .position(|t| is_word(constraint, t, "check"))?;
    let group = tokens.get(check + 1).filter(|t| t.0 == Token::Group)?;
    Some(&constraint[inside(constraint, &group.1)])
}

/// The note naming the rows of `table` for which `condition` holds, each by `key` (SQL over
/// the row, `row_key`): "`what` in 2 rows: id = 3; id = 41"; `None` when there are none.
fn rows(conn: &Connection, table: &str, key: &str, condition: &str, what: &str) -> Option<String> {
    let table_sql = quote(table);
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {table_sql} WHERE {condition}"),
            [],
            |r| r.get(0),
        )
        .ok()
        .filter(|n| *n > 0)?;
    let shown: Vec<String> = conn
        .prepare(&format!(
            "SELECT {key} FROM {table_sql} WHERE {condition} LIMIT {SHOWN}"
        ))
        .ok()?
        .query_map([], |r| r.get(0))
        .ok()?
        .collect::<rusqlite::Result<_>>()
        .ok()?;
    let more = if count > SHOWN {
        format!(", and {} more", count - SHOWN)
    } else {
        String::new()
    };
    let rows = if count == 1 { "row" } else { "rows" };
    Some(format!(
        "{what} in {count} {rows}: {}{more}",
        shown.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE people (id INTEGER NOT NULL PRIMARY KEY, nick TEXT, name TEXT NOT NULL);
             CREATE TABLE tags (label TEXT);
             INSERT INTO people VALUES (3, NULL, 'Ann'), (10, 'reserved', 'Bo'), (41, NULL, 'Cy');
             INSERT INTO tags VALUES ('a'), (NULL);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn the_rows_a_column_made_not_null_refuses_are_named_by_key() {
        let conn = database();
        let statement = "ALTER TABLE \"people\" ALTER COLUMN nick SET NOT NULL";
        assert!(conn.execute_batch(statement).is_err());
        assert_eq!(
            refused_rows(&conn, statement),
            ["people.nick, which becomes NOT NULL, is NULL in 2 rows: id = 3; id = 41"]
        );
        assert_eq!(
            refused_rows(&conn, "alter table main.tags alter label set not null"),
            ["tags.label, which becomes NOT NULL, is NULL in 1 row: rowid = 2"]
        );
    }

    #[test]
    fn the_rows_a_new_check_refuses_are_named_null_included() {
        let conn = database();
        let statement =
            "ALTER TABLE people ADD CONSTRAINT plain CHECK (nick <> 'reserved') -- the rule";
        assert!(conn.execute_batch(statement).is_err());
        // SQLite's ALTER refuses a NULL too: `(expr) IS NOT TRUE`.
        assert_eq!(
            refused_rows(&conn, statement),
            ["the new `CONSTRAINT plain CHECK (nick <> 'reserved')` of people is not true in 3 rows: id = 3; id = 10; id = 41"]
        );
    }

    #[test]
    fn a_statement_that_adds_no_constraint_names_nothing() {
        let conn = database();
        for statement in [
            "INSERT INTO people VALUES (3, 'x', 'y')",
            "ALTER TABLE people ADD COLUMN bio TEXT",
            "ALTER TABLE missing ALTER COLUMN x SET NOT NULL",
            "ATTACH 'elsewhere.db' AS other",
        ] {
            assert_eq!(
                refused_rows(&conn, statement),
                Vec::<String>::new(),
                "{statement}"
            );
        }
    }
}
