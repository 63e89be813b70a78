//! Properties of the tool's SQL text handling, checked against SQLite itself: the tokenizer
//! and statement splitter (`dev::sqlite::lexer`, `dev::sqlite::create_table`) never panic and find the statements SQLite finds, and
//! `dev::sqlite::quote::quote` makes any name into an identifier SQLite reads back as that name.
//!
//! A migration file is the user's text, so these run on arbitrary strings as well as on SQL
//! built to be valid. The default case count keeps `cargo test` quick; `PROPTEST_CASES=10000`
//! searches harder. Failures are not persisted to files: the shrunk input is in the message.

use std::ffi::{c_char, c_int, CString};
use std::ops::Range;

use dev::sqlite::create_table::{self, ColumnDef, CreateTable};
use dev::sqlite::lexer;
use dev::sqlite::quote::quote;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// 64 cases, unless `PROPTEST_CASES` asks for more.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text SQLite can see: no NUL, where SQLite's C strings end.
fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', ""))
}

/// Text made of the pieces that decide where statements end: quotes, brackets, comments,
/// semicolons, the words of a trigger, and multi-byte characters.
fn sql_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(";"),
        Just("'"),
        Just("\""),
        Just("`"),
        Just("["),
        Just("]"),
        Just("("),
        Just(")"),
        Just("--"),
        Just("/*"),
        Just("*/"),
        Just("*"),
        Just("/"),
        Just("-"),
        Just("\n"),
        Just(" "),
        Just("\t"),
        Just("\r"),
        Just("x'"),
        Just("CREATE "),
        Just("TRIGGER "),
        Just("TEMP "),
        Just("EXPLAIN "),
        Just("BEGIN "),
        Just("END"),
        Just("CASE "),
        Just("SELECT 1"),
        Just("é"),
        Just("€"),
        Just("a"),
        Just("$"),
        Just("."),
        Just(","),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn any_sql() -> impl Strategy<Value = String> {
    prop_oneof![sql_soup(), text()]
}

fn complete(sql: &str) -> bool {
    let c = CString::new(sql).expect("no NUL");
    // SAFETY: sqlite3_complete reads the NUL-terminated string only.
    unsafe { libsqlite3_sys::sqlite3_complete(c.as_ptr()) != 0 }
}

/// What `sqlite3_prepare_v2` makes of the first statement of `sql`: `Ok(Some(end))` with the
/// byte offset where it stopped reading, `Ok(None)` when there is no statement (only
/// whitespace and comments), `Err` with SQLite's message.
fn prepare_first(conn: &rusqlite::Connection, sql: &str) -> Result<Option<usize>, String> {
    let mut stmt = std::ptr::null_mut();
    let mut tail: *const c_char = std::ptr::null();
    let len = c_int::try_from(sql.len()).expect("short SQL");
    // SAFETY: the handle is open for the whole call, `sql` outlives it and `len` bytes of it
    // are read; the statement is finalized before returning.
    unsafe {
        let db = conn.handle();
        let rc =
            libsqlite3_sys::sqlite3_prepare_v2(db, sql.as_ptr().cast(), len, &mut stmt, &mut tail);
        if rc != libsqlite3_sys::SQLITE_OK {
            let message = std::ffi::CStr::from_ptr(libsqlite3_sys::sqlite3_errmsg(db));
            return Err(message.to_string_lossy().into_owned());
        }
        if stmt.is_null() {
            return Ok(None);
        }
        libsqlite3_sys::sqlite3_finalize(stmt);
        Ok(Some(tail.offset_from(sql.as_ptr().cast()) as usize))
    }
}

fn connection() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (a, b)").unwrap();
    conn
}

/// Where SQLite ends each statement of arbitrary text: the shortest prefix from the end of
/// the previous one that `sqlite3_complete` accepts, and then, if what is left holds a
/// token, the end of the text.
fn sqlite_ends(conn: &rusqlite::Connection, sql: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut start = 0;
    for end in (1..=sql.len()).filter(|&i| sql.is_char_boundary(i)) {
        if end > start && complete(&sql[start..end]) {
            ends.push(end);
            start = end;
        }
    }
    if start < sql.len() && prepare_first(conn, &sql[start..]) != Ok(None) {
        ends.push(sql.len());
    }
    ends
}

fn assert_only_whitespace_and_comments(
    conn: &rusqlite::Connection,
    sql: &str,
    gap: Range<usize>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        prepare_first(conn, &sql[gap.clone()]),
        Ok(None),
        "{:?} between statements is not only whitespace and comments",
        &sql[gap]
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reading_sql_never_panics(sql in any_sql()) {
        for range in lexer::split_statements(&sql) {
            prop_assert!(range.start < range.end && range.end <= sql.len());
            prop_assert!(sql.is_char_boundary(range.start) && sql.is_char_boundary(range.end));
        }
        let _ = lexer::identifiers(&sql).count();
        let _ = lexer::unquote(&sql);
        if let Some(table) = CreateTable::parse(&sql) {
            let _ = table.columns().count();
            let _ = create_table::separator(&table);
            for index in 0..table.items.len() {
                let _ = create_table::removal_range(&table, index);
            }
        }
        let _ = ColumnDef::parse(&sql);
    }

    #[test]
    fn statements_end_where_sqlite_complete_ends_them(sql in any_sql()) {
        let conn = connection();
        let ranges = lexer::split_statements(&sql);
        let ends: Vec<usize> = ranges.iter().map(|r| r.end).collect();
        prop_assert_eq!(&ends, &sqlite_ends(&conn, &sql), "in {:?}", sql);
        let mut previous = 0;
        for range in &ranges {
            assert_only_whitespace_and_comments(&conn, &sql, previous..range.start)?;
            let first = &sql[range.start..];
            let skippable = first.starts_with(|c: char| c.is_ascii_whitespace())
                || first.starts_with("--")
                || (first.starts_with("/*") && first.len() > 2);
            prop_assert!(
                !skippable,
                "statement {:?} does not start at its first token",
                &sql[range.clone()]
            );
            previous = range.end;
        }
    }

    #[test]
    fn valid_scripts_split_where_sqlite_prepare_splits_them(
        statements in prop::collection::vec((statement(), separator()), 1..8)
    ) {
        let sql: String = statements
            .iter()
            .map(|(statement, separator)| format!("{statement};{separator}"))
            .collect();
        let conn = connection();
        let mut prepared = Vec::new();
        let mut at = 0;
        while let Some(length) = prepare_first(&conn, &sql[at..])
            .map_err(|e| TestCaseError::fail(format!("{e} in {sql:?}")))?
        {
            at += length;
            prepared.push(at);
        }
        let ends: Vec<usize> = lexer::split_statements(&sql).iter().map(|r| r.end).collect();
        prop_assert_eq!(ends, prepared, "in {:?}", sql);
    }

    #[test]
    fn quoting_round_trips_through_sqlite(table in name(), column in name()) {
        prop_assume!(!table.to_ascii_lowercase().starts_with("sqlite_"));
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let (t, c) = (quote(&table), quote(&column));
        conn.execute_batch(&format!(
            "CREATE TABLE {t} ({c} INTEGER); INSERT INTO {t} ({c}) VALUES (7);"
        ))
        .map_err(|e| TestCaseError::fail(format!("{e}: CREATE TABLE {t} ({c} INTEGER)")))?;
        let stored: String = conn
            .query_row("SELECT name FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0))
            .unwrap();
        prop_assert_eq!(&stored, &table);
        let columns: String = conn
            .query_row("SELECT name FROM pragma_table_info(?1)", [&table], |r| r.get(0))
            .unwrap();
        prop_assert_eq!(&columns, &column);
        let value: i64 = conn
            .query_row(&format!("SELECT {c} FROM {t}"), [], |r| r.get(0))
            .map_err(|e| TestCaseError::fail(format!("{e}: SELECT {c} FROM {t}")))?;
        prop_assert_eq!(value, 7, "SELECT {} FROM {} read something else", c, t);
    }
}

/// A name: anything at all, or one of the words that mean something else to SQLite.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        prop::sample::select(vec![
            "select",
            "Order",
            "rowid",
            "oid",
            "_rowid_",
            "true",
            "FALSE",
            "null",
            "current_time",
            "abort",
            "key",
            "a b",
            "1st",
            "é",
            "\"",
            "'",
            "]",
            "`",
            "",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A string literal holding any text.
fn literal() -> impl Strategy<Value = String> {
    text().prop_map(|s| format!("'{}'", s.replace('\'', "''")))
}

/// An identifier holding any text, quoted each way SQLite accepts (with a prefix that keeps
/// it clear of the reserved `sqlite_` names).
fn identifier() -> impl Strategy<Value = String> {
    (text(), 0..3).prop_map(|(s, style)| match style {
        0 => format!("\"x{}\"", s.replace('"', "\"\"")),
        1 => format!("`x{}`", s.replace('`', "``")),
        _ => format!("[x{}]", s.replace(']', "")),
    })
}

/// A comment holding any text.
fn comment() -> impl Strategy<Value = String> {
    (text(), any::<bool>()).prop_map(|(s, line)| {
        if line {
            format!("-- {}\n", s.replace(['\n', '\r'], " "))
        } else {
            format!("/* {} */", s.replace("*/", ""))
        }
    })
}

/// One valid statement, without its `;`, whose strings, names and comments hold anything.
fn statement() -> impl Strategy<Value = String> {
    (literal(), literal(), identifier(), comment(), 0..10).prop_map(|(l1, l2, id, c, kind)| {
        match kind {
            0 => format!("SELECT {l1}"),
            1 => format!("SELECT {l1} AS {id}"),
            2 => format!("SELECT 1 {c} + 2"),
            3 => format!("CREATE TABLE {id} (c TEXT DEFAULT {l1} CHECK (c <> {l2}))"),
            4 => format!(
                "CREATE TRIGGER {id} AFTER INSERT ON t BEGIN SELECT {l1}; {c}UPDATE t SET a = {l2}; END"
            ),
            5 => format!("CREATE TEMP TRIGGER {id} BEFORE DELETE ON t BEGIN SELECT CASE WHEN a THEN {l1} END; END"),
            6 => format!("EXPLAIN SELECT {l1} {c}"),
            7 => format!("SELECT CASE WHEN a THEN {l1} ELSE {l2} END FROM t"),
            8 => format!("CREATE VIEW {id} AS SELECT {l1} AS v"),
            _ => format!("INSERT INTO t (a, b) VALUES ({l1}, x'00ff')"),
        }
    })
}

/// What may follow a statement's `;`.
fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("\n\n".to_owned()),
        comment(),
        comment().prop_map(|c| format!("\n{c}\n")),
    ]
}
