//! Every type round-tripped through SQLite: what print-schema reads, what a copy keeps, and
//! what Diesel reads back.

use super::*;

#[test]
fn declared_types_follow_print_schema_order() {
    let cases = [
        ("TINYINT", SqlType::Bool),
        ("boolean", SqlType::Bool),
        ("INT2", SqlType::SmallInt),
        ("SMALLINT", SqlType::SmallInt),
        ("BIGINT", SqlType::BigInt),
        ("INT8", SqlType::BigInt),
        ("INT", SqlType::Integer),
        ("POINT", SqlType::Integer),
        ("VARCHAR(255)", SqlType::Text),
        ("CLOB", SqlType::Text),
        ("", SqlType::Binary),
        ("BLOB", SqlType::Binary),
        ("REAL", SqlType::Float),
        ("NUMERIC(10,2)", SqlType::Double),
        ("DECIMAL", SqlType::Double),
        ("DATETIME", SqlType::Timestamp),
        ("date", SqlType::Date),
        ("TIME", SqlType::Time),
    ];
    for (declared, expected) in cases {
        assert_eq!(
            SqlType::from_declared(declared),
            Some(expected),
            "{declared}"
        );
    }
    assert_eq!(SqlType::from_declared("JSON"), None);
    assert_eq!(SqlType::from_declared("TIMESTAMPTZ"), None);
}

#[test]
fn rendered_types_read_back_as_themselves() {
    for ty in SqlType::ALL {
        assert_eq!(SqlType::from_declared(ty.sql()), Some(ty));
    }
}

#[test]
fn every_name_resolves_to_a_type_whose_diesel_name_reads_back() {
    for name in SqlType::diesel_names() {
        let (ty, diesel) = SqlType::from_diesel_name(name).unwrap();
        assert!(diesel.is_written(name), "{name}");
        assert_eq!(
            SqlType::from_diesel_name(ty.diesel_name()).map(|(t, _)| t),
            Some(ty),
            "{name}"
        );
    }
    let names: Vec<&str> = SqlType::diesel_names().collect();
    for (i, name) in names.iter().enumerate() {
        assert!(!names[..i].contains(name), "{name} is listed twice");
    }
    for never in NEVER_READ_BACK {
        assert_eq!(SqlType::from_diesel_name(never.name), None);
    }
    assert_eq!(
        SqlType::from_diesel_name("Decimal").unwrap().1.name,
        "Numeric"
    );
    assert_eq!(
        SqlType::from_diesel_name("Float8").unwrap().0,
        SqlType::Double
    );
}

#[test]
fn custom_types_read_back_as_their_storage() {
    assert_eq!(
        SqlType::from_sqlite_type_name("Long"),
        Some(SqlType::BigInt)
    );
    assert_eq!(SqlType::from_sqlite_type_name("Text"), Some(SqlType::Text));
    assert_eq!(SqlType::from_sqlite_type_name("Bool"), None);
}

#[test]
fn widening_conversions_are_not_warned() {
    assert!(SqlType::Integer.widens_to(SqlType::BigInt));
    assert!(SqlType::Double.widens_to(SqlType::Text));
    assert!(SqlType::Bool.widens_to(SqlType::Bool));
    assert!(!SqlType::Text.widens_to(SqlType::Integer));
    assert!(!SqlType::BigInt.widens_to(SqlType::Integer));
}

/// Stores `value` in a column declared as `from`, copies it into one declared as `to` as
/// a rebuild does, and returns what SQLite then holds and its `typeof`.
fn stored(from: SqlType, to: SqlType, value: Value) -> (Value, String) {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE a (c {}); CREATE TABLE b (c {});",
        from.sql(),
        to.sql()
    ))
    .unwrap();
    conn.execute("INSERT INTO a (c) VALUES (?1)", [value])
        .unwrap();
    conn.execute_batch("INSERT INTO b (c) SELECT c FROM a")
        .unwrap();
    conn.query_row("SELECT c, typeof(c) FROM b", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

/// Whether `value`, stored in a column declared as `ty`, is one Diesel reads as `ty`.
fn holds(ty: SqlType, value: &Value) -> bool {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    ty.holds("?1").is_none_or(|sql| {
        conn.query_row(&format!("SELECT {sql}"), [value], |r| r.get(0))
            .unwrap()
    })
}

#[test]
fn holds_means_the_rust_type_diesel_reads_takes_the_value() {
    let cases = [
        (SqlType::Integer, Value::Integer(2_147_483_647), true),
        (SqlType::Integer, Value::Integer(3_000_000_000), false),
        (SqlType::Integer, Value::Text("5".into()), false),
        (SqlType::SmallInt, Value::Integer(40_000), false),
        (SqlType::Bool, Value::Integer(2), false),
        (SqlType::BigInt, Value::Integer(i64::MIN), true),
        (SqlType::BigInt, Value::Real(1.0), false),
        (SqlType::Float, Value::Real(3.0e38), true),
        (SqlType::Float, Value::Real(1e300), false),
        (SqlType::Float, Value::Real(f64::INFINITY), false),
        (SqlType::Double, Value::Real(1e300), true),
        (SqlType::Double, Value::Blob(vec![1]), false),
        (SqlType::Text, Value::Blob(vec![1]), false),
        (SqlType::Text, Value::Null, true),
        (SqlType::Binary, Value::Text("x".into()), true),
    ];
    for (ty, value, expected) in cases {
        assert_eq!(holds(ty, &value), expected, "{ty:?} {value:?}");
    }
}

#[test]
fn seeds_survive_sqlite_and_are_values_of_their_type() {
    // A proof seeds three rows.
    for ty in SqlType::ALL {
        for k in 1..=3 {
            let (value, kind) = stored(ty, ty, ty.seed(k));
            assert_eq!(value, ty.seed(k), "{ty:?} {k}");
            assert!(holds(ty, &value), "{ty:?} {k}: {kind}");
        }
    }
}

#[test]
fn retyped_seeds_are_values_of_the_new_type() {
    for from in SqlType::ALL {
        for to in SqlType::ALL {
            for k in 1..=3 {
                let (value, kind) = stored(from, to, from.seed_across(to, k));
                assert!(holds(to, &value), "{from:?} to {to:?} {k}: {kind}");
            }
        }
    }
}
