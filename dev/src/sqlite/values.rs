//! When a value is kept: the one rule, written as SQL, that a rebuild's guard checks on a
//! real database's rows and the proof checks on its seeds.
//!
//! Type affinity rewrites values on insert without an error: into an INTEGER column `'007'`
//! becomes 7, `' 5 '` becomes 5 and `'1e2'` becomes 100; into a NUMERIC one (`TIMESTAMP`)
//! `'1.50'` becomes 1.5; into a REAL one `'1e400'` becomes Inf and 9007199254740993 becomes
//! 9007199254740992.0. `typeof()` after the copy does not show it; comparing the value before
//! and after does. A value is kept when the copy holds it exactly, or holds the same number in
//! the other numeric storage class (5 and 5.0), or holds it as text or as a number whose text
//! is exactly the other side's (5 and `'5'`, 1.5 and `'1.5'`, 1.0 and `'1.0'`; never `'007'`
//! and 7, `'1.50'` and 1.5, nor `'1'` and 1.0, which comes back as `'1.0'`).

use rusqlite::types::Value;
use rusqlite::Connection;

/// SQL that is true when `after` keeps `before` exactly (both are SQL expressions); NULL is
/// kept only as NULL. Text is compared byte for byte, NULs included (`COLLATE BINARY`,
/// whatever the column declares: a `NOCASE` column would take `'A'` for `'a'`).
pub fn kept(before: &str, after: &str) -> String {
    let (text_of_after, text_of_before) = (writes(after, before), writes(before, after));
    format!(
        "(CASE \
         WHEN typeof({before}) = typeof({after}) THEN {before} IS {after} COLLATE BINARY \
         WHEN typeof({before}) IN ('integer', 'real') AND typeof({after}) IN ('integer', 'real') THEN {before} = {after} \
         WHEN typeof({before}) = 'text' AND typeof({after}) IN ('integer', 'real') THEN {text_of_after} \
         WHEN typeof({after}) = 'text' AND typeof({before}) IN ('integer', 'real') THEN {text_of_before} \
         ELSE 0 END)"
    )
}

/// SQL that is true when the text `text` is exactly how SQLite writes the number `number`
/// (`5`, `1.5`, `1.0`): then converting back gives the text again. `'1'` and 1.0 are not
/// the same value: the REAL comes back as `'1.0'`, so a type change and its down would not
/// give the text back.
fn writes(number: &str, text: &str) -> String {
    format!("CAST({number} AS TEXT) = {text} COLLATE BINARY")
}

/// SQL that is true when `a` and `b` are the same value in the same storage class, byte
/// for byte: what a conversion and its way back must give.
pub fn exact(a: &str, b: &str) -> String {
    format!("(typeof({a}) = typeof({b}) AND {a} IS {b} COLLATE BINARY)")
}

/// Whether `after` keeps `before` exactly, by the rule of `kept`, asked of SQLite.
pub fn is_kept(conn: &Connection, before: &Value, after: &Value) -> rusqlite::Result<bool> {
    if same(before, after) {
        return Ok(true);
    }
    conn.prepare_cached(&format!("SELECT {}", kept("?1", "?2")))?
        .query_row([before, after], |r| r.get::<_, Option<bool>>(0))
        .map(|kept| kept.unwrap_or(false))
}

/// The same storage class and the same bytes (REALs bit for bit).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// A value as SQL that gives it back, for messages: what SQLite's `quote()` writes, except
/// that text with a control character shows its bytes (`quote()` cuts text at a NUL).
pub fn shown(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => {
            let text = format!("{f:?}");
            match text.as_str() {
                "inf" => "9e999".to_owned(),
                "-inf" => "-9e999".to_owned(),
                _ => text,
            }
        }
        Value::Text(t) if !t.chars().any(char::is_control) => crate::sqlite::quote::literal(t),
        Value::Text(t) => format!("CAST({} AS TEXT)", hex(t.as_bytes())),
        Value::Blob(b) => hex(b),
    }
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("X'{digits}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a column declared `declared` holds once `value` is inserted into it.
    fn stored(conn: &Connection, declared: &str, value: &Value) -> Value {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS c; CREATE TABLE c (v {declared});"
        ))
        .unwrap();
        conn.execute("INSERT INTO c VALUES (?1)", [value]).unwrap();
        conn.query_row("SELECT v FROM c", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn what_affinity_rewrites_is_not_kept_and_what_it_only_represents_is() {
        let conn = Connection::open_in_memory().unwrap();
        let text = |t: &str| Value::Text(t.to_owned());
        let lost = [
            ("INTEGER", text("007")),
            ("INTEGER", text(" 5 ")),
            ("INTEGER", text("1e2")),
            ("TIMESTAMP", text("0001")),
            ("TIMESTAMP", text("1.50")),
            ("DOUBLE", text("1e400")),
            ("DOUBLE", text("00012")),
            ("DOUBLE", Value::Integer(9_007_199_254_740_993)),
            ("INTEGER", text("-0")),
            ("DOUBLE", text("1")),
        ];
        for (declared, value) in lost {
            let after = stored(&conn, declared, &value);
            assert!(
                !is_kept(&conn, &value, &after).unwrap(),
                "{value:?} into {declared} became {after:?}"
            );
        }
        let kept = [
            ("INTEGER", text("5")),
            ("INTEGER", text("-12")),
            ("DOUBLE", Value::Integer(5)),
            ("DOUBLE", text("1.5")),
            ("DOUBLE", text("-2.0")),
            ("TEXT", Value::Integer(7)),
            ("TEXT", Value::Real(2.5)),
            ("TEXT", text("a\0b")),
            ("TIMESTAMP", text("2026-01-01 10:00:00")),
            ("BIGINT", Value::Integer(i64::MIN)),
            ("BLOB", Value::Blob(vec![0, 1])),
            ("INTEGER", Value::Null),
        ];
        for (declared, value) in kept {
            let after = stored(&conn, declared, &value);
            assert!(
                is_kept(&conn, &value, &after).unwrap(),
                "{value:?} into {declared} became {after:?}"
            );
        }
        assert!(!is_kept(&conn, &text("a"), &text("A")).unwrap());
        assert!(
            !is_kept(&conn, &text("a\0b"), &text("a\0c")).unwrap(),
            "past a NUL"
        );
        assert!(!is_kept(&conn, &Value::Null, &Value::Integer(0)).unwrap());
        assert!(!is_kept(&conn, &Value::Blob(vec![0x35]), &text("5")).unwrap());
    }

    #[test]
    fn shown_values_read_back_as_themselves() {
        let conn = Connection::open_in_memory().unwrap();
        for value in [
            Value::Null,
            Value::Integer(-3),
            Value::Real(0.1),
            Value::Real(f64::INFINITY),
            Value::Text("it's".into()),
            Value::Text("a\0b\r\n".into()),
            Value::Blob(vec![0, 255]),
        ] {
            let back: Value = conn
                .query_row(&format!("SELECT {}", shown(&value)), [], |r| r.get(0))
                .unwrap();
            assert!(same(&back, &value), "{value:?} came back as {back:?}");
        }
    }
}
