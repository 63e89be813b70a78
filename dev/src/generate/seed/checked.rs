//! Rows a CHECK constraint accepts. A seed follows its column's type; a table whose CHECK
//! wants something else (`status IN ('active', 'done')`, `x > 100`) refuses it, and the
//! proof would not cover that table. The values to try instead come from the table itself:
//! every literal its stored `CREATE TABLE` text holds (and the whole numbers beside each
//! numeric one), and each column's DEFAULT, all evaluated by SQLite; which of them the CHECK
//! accepts is left to SQLite too, by trying the row.

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::schema::introspect::StoredTable;
use crate::schema::types::SqlType;
use crate::sqlite::lexer::{inside, tokenize, Token};

/// At most this many rows are tried for one seed row.
const TRIES: usize = 400;

/// Rows to try instead of `row` (the seed row `k`, one value per column of `columns`, whose
/// indexes `fixed` must keep their values: keys, references), nearest first: one column
/// changed, then two.
pub fn alternatives(
    conn: &Connection,
    table: &StoredTable,
    columns: &[&str],
    row: &[Value],
    fixed: &[usize],
    k: i64,
) -> Vec<Vec<Value>> {
    let literals = literals(conn, &table.sql);
    let candidates: Vec<Vec<Value>> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if fixed.contains(&i) {
                return Vec::new();
            }
            let column = table.column(name);
            let mut values: Vec<Value> = column
                .and_then(|c| c.default.as_deref())
                .and_then(|default| evaluate(conn, default))
                .into_iter()
                .collect();
            values.extend(literals.iter().cloned());
            // Only values of the column's own type: a CHECK that compares text with a
            // number would take any text, which Diesel cannot read back as that number.
            let ty = column.and_then(|c| SqlType::from_declared(&c.declared_type));
            values.retain(|v| of_type(ty, v));
            values.dedup();
            // Rows differ where they can, for a UNIQUE among the columns.
            if !values.is_empty() {
                let turn = (k as usize - 1) % values.len();
                values.rotate_left(turn);
            }
            values
        })
        .collect();
    let mut rows = Vec::new();
    for (i, values) in candidates.iter().enumerate() {
        for value in values {
            let mut changed = row.to_vec();
            changed[i] = value.clone();
            rows.push(changed);
        }
    }
    for (i, first) in candidates.iter().enumerate() {
        for (j, second) in candidates.iter().enumerate().skip(i + 1) {
            for a in first {
                for b in second {
                    let mut changed = row.to_vec();
                    changed[i] = a.clone();
                    changed[j] = b.clone();
                    rows.push(changed);
                    if rows.len() >= TRIES {
                        return rows;
                    }
                }
            }
        }
    }
    rows
}

/// Whether `value` is of the kind a column of type `ty` holds.
fn of_type(ty: Option<SqlType>, value: &Value) -> bool {
    let number = matches!(value, Value::Integer(_) | Value::Real(_));
    match ty {
        Some(SqlType::Bool | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt) => {
            matches!(value, Value::Integer(_))
        }
        Some(SqlType::Float | SqlType::Double) => number,
        Some(SqlType::Text) => matches!(value, Value::Text(_)),
        Some(SqlType::Timestamp | SqlType::Date | SqlType::Time) => {
            matches!(value, Value::Text(_)) || number
        }
        Some(SqlType::Binary) | None => true,
    }
}

/// Every literal in `sql` (inside parentheses too), as SQLite evaluates it; a whole number
/// comes with its neighbours, for a CHECK that compares (`x > 100`).
fn literals(conn: &Connection, sql: &str) -> Vec<Value> {
    let mut values = Vec::new();
    collect(conn, sql, 0..sql.len(), &mut values);
    values
}

fn collect(conn: &Connection, sql: &str, range: std::ops::Range<usize>, values: &mut Vec<Value>) {
    let text = &sql[range.clone()];
    for (kind, token) in tokenize(text) {
        let absolute = range.start + token.start..range.start + token.end;
        match kind {
            Token::Group => collect(conn, sql, inside(sql, &absolute), values),
            Token::Literal => values.extend(evaluate(conn, &sql[absolute])),
            // The lexer leaves a number in pieces: the whole of it starts at a digit that
            // follows no part of a word or number.
            Token::Other
                if sql[absolute.clone()].starts_with(|c: char| c.is_ascii_digit())
                    && !sql[..absolute.start]
                        .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_') =>
            {
                let length = sql[absolute.start..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                    .unwrap_or(sql.len() - absolute.start);
                match evaluate(conn, &sql[absolute.start..absolute.start + length]) {
                    Some(Value::Integer(n)) => values
                        .extend([n, n.saturating_add(1), n.saturating_sub(1)].map(Value::Integer)),
                    Some(other) => values.push(other),
                    None => {}
                }
            }
            _ => {}
        }
    }
}

/// `expr` evaluated by SQLite, when it is a constant expression.
fn evaluate(conn: &Connection, expr: &str) -> Option<Value> {
    conn.query_row(&format!("SELECT ({expr})"), [], |r| r.get(0))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::introspect::{inspect, TableFilter};

    #[test]
    fn the_values_a_check_names_are_among_the_alternatives() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('active', 'done')), n INTEGER CHECK (n > 100))",
        )
        .unwrap();
        let table = inspect(&conn, &TableFilter::All).unwrap().tables.remove(0);
        let row = [
            Value::Integer(1),
            Value::Text("1".into()),
            Value::Integer(1),
        ];
        let rows = alternatives(&conn, &table, &["id", "status", "n"], &row, &[0], 1);
        let accepted = rows.iter().find(|row| {
            conn.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3)",
                rusqlite::params_from_iter(row.iter()),
            )
            .is_ok()
        });
        let accepted = accepted.unwrap_or_else(|| panic!("none of {rows:?}"));
        assert_eq!(accepted[0], Value::Integer(1), "the key is kept");
        assert!(matches!(&accepted[1], Value::Text(s) if s == "active" || s == "done"));
        assert_eq!(accepted[2], Value::Integer(101));
    }
}
