//! For a `CREATE UNIQUE INDEX` that rows already in the database break: one value those
//! rows hold more than once, so the error names the data to fix, not only the index.

use rusqlite::types::Value;

use crate::sqlite::lexer::{inside, keyword_at, tokenize, Token};
use crate::sqlite::quote::literal;

/// `statement` is the failed statement: when it creates a UNIQUE index, the first key its
/// rows share, as `(term, ...) = (value, ...) in N rows`; `None` otherwise.
pub fn shared_key(conn: &rusqlite::Connection, statement: &str) -> Option<String> {
    let tokens = tokenize(statement);
    let word = |i: usize| keyword_at(statement, &tokens, i);
    if (word(0)?, word(1)?, word(2)?) != ("create".into(), "unique".into(), "index".into()) {
        return None;
    }
    let on = (3..tokens.len()).find(|&i| word(i).as_deref() == Some("on"))?;
    let group = (on + 1..tokens.len()).find(|&i| tokens[i].0 == Token::Group)?;
    let table = &statement[tokens[on + 1].1.start..tokens[group - 1].1.end];
    let terms = key_terms(statement, &inside(statement, &tokens[group].1));
    let filter = match word(group + 1).as_deref() {
        Some("where") => format!(" WHERE {}", &statement[tokens[group + 2].1.start..]),
        _ => String::new(),
    };
    let list = terms.join(", ");
    // A key with a NULL in it never conflicts: SQLite's UNIQUE takes NULLs as distinct.
    let not_null: Vec<String> = terms
        .iter()
        .map(|t| format!(" AND ({t}) IS NOT NULL"))
        .collect();
    let query = format!(
        "SELECT {list}, count(*) FROM {table}{filter} GROUP BY {list} HAVING count(*) > 1{} LIMIT 1",
        not_null.concat()
    );
    conn.query_row(&query, [], |row| {
        let values = (0..terms.len())
            .map(|i| row.get::<_, Value>(i).map(|v| shown(&v)))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let rows: i64 = row.get(terms.len())?;
        Ok(format!("({list}) = ({}) in {rows} rows", values.join(", ")))
    })
    .ok()
}

/// The index's terms, each without its ASC or DESC, which a GROUP BY does not take.
fn key_terms(statement: &str, list: &std::ops::Range<usize>) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current: Vec<std::ops::Range<usize>> = Vec::new();
    let tokens = tokenize(&statement[list.clone()]);
    let mut flush = |current: &mut Vec<std::ops::Range<usize>>| {
        if let Some(last) = current.last() {
            let lowered =
                statement[list.start + last.start..list.start + last.end].to_ascii_lowercase();
            if current.len() > 1 && (lowered == "asc" || lowered == "desc") {
                current.pop();
            }
        }
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            terms.push(statement[list.start + first.start..list.start + last.end].to_owned());
        }
        current.clear();
    };
    for (kind, range) in tokens {
        if kind == Token::Other
            && &statement[list.start + range.start..list.start + range.end] == ","
        {
            flush(&mut current);
        } else {
            current.push(range);
        }
    }
    flush(&mut current);
    terms
}

/// A value as SQL would write it.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => literal(t),
        Value::Blob(b) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_one_key_the_rows_share_whatever_the_index_looks_like() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (name TEXT, age INTEGER);
             INSERT INTO users VALUES ('Ann', 30), ('ann', 30), ('bob', 41), ('cy', 41), ('dee', NULL);",
        )
        .unwrap();
        assert_eq!(
            shared_key(
                &conn,
                "CREATE UNIQUE INDEX u ON users (lower(name), age DESC)"
            )
            .as_deref(),
            Some("(lower(name), age) = ('ann', 30) in 2 rows")
        );
        assert_eq!(
            shared_key(
                &conn,
                "create unique index u on main.users (age) where age > 35"
            )
            .as_deref(),
            Some("(age) = (41) in 2 rows")
        );
        assert_eq!(
            shared_key(&conn, "CREATE UNIQUE INDEX u ON users (name)"),
            None
        );
        assert_eq!(shared_key(&conn, "CREATE INDEX u ON users (age)"), None);
    }

    #[test]
    fn nulls_never_conflict_and_expressions_name_their_key() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE people (name TEXT COLLATE NOCASE, age INTEGER, data TEXT);
             INSERT INTO people VALUES ('a', NULL, '{\"k\": 1}'), ('b', NULL, '{\"k\": 1}'), ('c', 30, '{}'), ('C', 30, '{}');",
        )
        .unwrap();
        for (index, key) in [
            (
                "CREATE UNIQUE INDEX u ON people (age)",
                "(age) = (30) in 2 rows",
            ),
            (
                "CREATE UNIQUE INDEX u ON people (name)",
                "(name) = ('c') in 2 rows",
            ),
            (
                "CREATE UNIQUE INDEX u ON people (json_extract(data, '$.k'))",
                "(json_extract(data, '$.k')) = (1) in 2 rows",
            ),
            (
                "CREATE UNIQUE INDEX u ON people ((age + 1) DESC)",
                "((age + 1)) = (31) in 2 rows",
            ),
            (
                "CREATE UNIQUE INDEX IF NOT EXISTS u ON people (age)",
                "(age) = (30) in 2 rows",
            ),
        ] {
            conn.execute_batch(index).unwrap_err();
            assert_eq!(shared_key(&conn, index).as_deref(), Some(key), "{index}");
        }
    }
}
