//! Everything the tool knows about a Diesel SQL type, kept with the type: how print-schema
//! reads a declared SQLite type, the SQL a new column is declared with, the names schema.rs
//! writes it as, the storage class a rebuild checks, which changes widen it, and the values
//! a proof seeds it with.
//!
//! Each fact is an exhaustive `match`, so adding a type is an edit to this file, and the
//! compiler names every decision the new type needs.

use rusqlite::types::Value;

/// A Diesel SQL type that print-schema can write for SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SqlType {
    /// True or false: print-schema reads `BOOLEAN`, `BOOL` and `TINYINT` as it.
    Bool,
    /// A 16-bit integer: read from `SMALLINT` or `INT2`.
    SmallInt,
    /// A 32-bit integer: read from `INTEGER` and any other type naming `INT`.
    Integer,
    /// A 64-bit integer: read from `BIGINT` or `INT8`.
    BigInt,
    /// A 32-bit float: read from `FLOAT` or `REAL`.
    Float,
    /// A 64-bit float: read from `DOUBLE`, `NUMERIC` or `DECIMAL`.
    Double,
    /// A string: read from `TEXT` and any type naming `CHAR` or `CLOB`.
    Text,
    /// Bytes: read from `BLOB`, and from a column with no declared type.
    Binary,
    /// A date and time of day: read from `TIMESTAMP` or `DATETIME`.
    Timestamp,
    /// A calendar date: read from `DATE`.
    Date,
    /// A time of day: read from `TIME`.
    Time,
}

/// A type `diesel::sql_types` exports that compiles for SQLite, with its `pub type` aliases
/// (`Int4` is `Integer`, `Float8` is `Double`, `VarChar` is `Text`, `Blob` is `Binary`).
/// schema.rs may name a column's type by any of them, with or without the module path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DieselType {
    /// The type's own name: `joinable!` compiles only between columns whose names resolve
    /// to the same one.
    pub name: &'static str,
    /// Other names for it, read as the type itself.
    pub aliases: &'static [&'static str],
}

impl DieselType {
    /// Whether schema.rs writing `written` means this type.
    fn is_written(&self, written: &str) -> bool {
        self.name == written || self.aliases.contains(&written)
    }
}

/// A type Diesel can send to SQLite but print-schema never writes for it: whatever its
/// column is declared as reads back as another type, so `check` could never pass, and
/// schema.rs naming it is refused with these reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeverReadBack {
    /// As schema.rs writes it.
    pub name: &'static str,
    /// What Diesel stores it as, and what print-schema reads that back as.
    pub why: &'static str,
    /// The type to write instead.
    pub instead: &'static str,
}

/// Diesel types that compile for SQLite but that no declared type reads back as.
pub const NEVER_READ_BACK: [NeverReadBack; 4] = [
    NeverReadBack {
        name: "Json",
        why: "SQLite has no JSON column type: Diesel stores `Json` as TEXT, and print-schema reads a TEXT column back as `Text`",
        instead: "use `Text` and keep JSON documents in it",
    },
    NeverReadBack {
        name: "Jsonb",
        why: "SQLite has no JSONB column type: Diesel stores `Jsonb` as a BLOB, and print-schema reads a BLOB column back as `Binary`",
        instead: "use `Binary` and keep JSONB documents in it",
    },
    NeverReadBack {
        name: "TimestamptzSqlite",
        why: "SQLite has no time-zone-aware column type: Diesel stores it as TEXT, and print-schema reads such a column back as `Timestamp` or `Text`",
        instead: "use `Timestamp` (Diesel stores it as TEXT too)",
    },
    NeverReadBack {
        name: "Timestamptz",
        why: "SQLite has no time-zone-aware column type: Diesel stores it as TEXT, and print-schema reads such a column back as `Timestamp` or `Text`",
        instead: "use `Timestamp` (Diesel stores it as TEXT too)",
    },
];

/// What a rebuild checks before retyping a column to a type whose values Diesel reads from
/// one storage class: a value of another class would copy over and then fail to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageCheck {
    /// The values the type holds, for the message naming the offending column.
    pub label: &'static str,
    /// The `typeof()` results it accepts, as a SQL list for `NOT IN (...)`.
    pub accepted_typeof: &'static str,
}

impl SqlType {
    /// Every type, for looking one up by a name and for going through them all in tests; a
    /// type left out is never found by the names schema.rs writes it as.
    pub const ALL: [SqlType; 11] = [
        SqlType::Bool,
        SqlType::SmallInt,
        SqlType::Integer,
        SqlType::BigInt,
        SqlType::Float,
        SqlType::Double,
        SqlType::Text,
        SqlType::Binary,
        SqlType::Timestamp,
        SqlType::Date,
        SqlType::Time,
    ];

    /// How diesel print-schema reads a SQLite declared type (diesel_cli's
    /// `infer_schema_internals/sqlite.rs`), before the integer-primary-key-as-BigInt rule.
    pub fn from_declared(declared: &str) -> Option<SqlType> {
        let t = declared.to_lowercase();
        let t = if t == "generated always" {
            String::new()
        } else {
            t
        };
        let has = |s: &str| t.contains(s);
        Some(
            if t == "boolean" || t == "bool" || (has("tiny") && has("int")) {
                SqlType::Bool
            } else if t == "int2" || (has("small") && has("int")) {
                SqlType::SmallInt
            } else if t == "int8" || (has("big") && has("int")) {
                SqlType::BigInt
            } else if has("int") {
                SqlType::Integer
            } else if has("char") || has("clob") || has("text") {
                SqlType::Text
            } else if has("blob") || has("binary") || t.is_empty() {
                SqlType::Binary
            } else if has("float") || has("real") {
                SqlType::Float
            } else if has("double") || has("num") || has("dec") {
                SqlType::Double
            } else if t == "datetime" || t == "timestamp" {
                SqlType::Timestamp
            } else if t == "date" {
                SqlType::Date
            } else if t == "time" {
                SqlType::Time
            } else {
                return None;
            },
        )
    }

    /// The declared type written for a new column; it reads back as this type.
    pub fn sql(self) -> &'static str {
        match self {
            SqlType::Bool => "BOOLEAN",
            SqlType::SmallInt => "SMALLINT",
            SqlType::Integer => "INTEGER",
            SqlType::BigInt => "BIGINT",
            SqlType::Float => "FLOAT",
            SqlType::Double => "DOUBLE",
            SqlType::Text => "TEXT",
            SqlType::Binary => "BLOB",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
        }
    }

    /// The name print-schema writes.
    pub fn diesel_name(self) -> &'static str {
        match self {
            SqlType::Bool => "Bool",
            SqlType::SmallInt => "SmallInt",
            SqlType::Integer => "Integer",
            SqlType::BigInt => "BigInt",
            SqlType::Float => "Float",
            SqlType::Double => "Double",
            SqlType::Text => "Text",
            SqlType::Binary => "Binary",
            SqlType::Timestamp => "Timestamp",
            SqlType::Date => "Date",
            SqlType::Time => "Time",
        }
    }

    /// The types in `diesel::sql_types` whose columns this type reads back as: its own, and
    /// for `Double` also `Numeric`, which print-schema never writes but which Diesel sends to
    /// SQLite as a double, so its column is declared like `Double`'s.
    pub fn diesel_types(self) -> &'static [DieselType] {
        match self {
            SqlType::Bool => &[DieselType {
                name: "Bool",
                aliases: &[],
            }],
            SqlType::SmallInt => &[DieselType {
                name: "SmallInt",
                aliases: &["Int2", "Smallint"],
            }],
            SqlType::Integer => &[DieselType {
                name: "Integer",
                aliases: &["Int4"],
            }],
            SqlType::BigInt => &[DieselType {
                name: "BigInt",
                aliases: &["Int8", "Bigint"],
            }],
            SqlType::Float => &[DieselType {
                name: "Float",
                aliases: &["Float4"],
            }],
            SqlType::Double => &[
                DieselType {
                    name: "Double",
                    aliases: &["Float8"],
                },
                DieselType {
                    name: "Numeric",
                    aliases: &["Decimal"],
                },
            ],
            SqlType::Text => &[DieselType {
                name: "Text",
                aliases: &[
                    "VarChar",
                    "Varchar",
                    "Char",
                    "Tinytext",
                    "Mediumtext",
                    "Longtext",
                ],
            }],
            SqlType::Binary => &[DieselType {
                name: "Binary",
                aliases: &[
                    "Blob",
                    "Tinyblob",
                    "Mediumblob",
                    "Longblob",
                    "Varbinary",
                    "Bit",
                ],
            }],
            SqlType::Timestamp => &[DieselType {
                name: "Timestamp",
                aliases: &[],
            }],
            SqlType::Date => &[DieselType {
                name: "Date",
                aliases: &[],
            }],
            SqlType::Time => &[DieselType {
                name: "Time",
                aliases: &[],
            }],
        }
    }

    /// Every name schema.rs may write a column type as: the types and their aliases.
    pub fn diesel_names() -> impl Iterator<Item = &'static str> {
        SqlType::ALL
            .into_iter()
            .flat_map(SqlType::diesel_types)
            .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
    }

    /// The type a column written as `written` in schema.rs reads back as, with the Diesel
    /// type the name resolves to.
    pub fn from_diesel_name(written: &str) -> Option<(SqlType, &'static DieselType)> {
        SqlType::ALL.into_iter().find_map(|ty| {
            ty.diesel_types()
                .iter()
                .find(|t| t.is_written(written))
                .map(|t| (ty, t))
        })
    }

    /// The name of the `diesel::sqlite::SqliteType` a custom type declares with
    /// `#[diesel(sqlite_type(name = "..."))]` to be stored as this type, if one stands for it.
    pub fn sqlite_type_name(self) -> Option<&'static str> {
        match self {
            SqlType::SmallInt => Some("SmallInt"),
            SqlType::Integer => Some("Integer"),
            SqlType::BigInt => Some("Long"),
            SqlType::Float => Some("Float"),
            SqlType::Double => Some("Double"),
            SqlType::Text => Some("Text"),
            SqlType::Binary => Some("Binary"),
            SqlType::Bool | SqlType::Timestamp | SqlType::Date | SqlType::Time => None,
        }
    }

    /// The type a custom type declaring `#[diesel(sqlite_type(name = "..."))]` reads back as.
    pub fn from_sqlite_type_name(name: &str) -> Option<SqlType> {
        SqlType::ALL
            .into_iter()
            .find(|ty| ty.sqlite_type_name() == Some(name))
    }

    /// The storage class a column retyped to this type is checked against, for a type whose
    /// values Diesel reads from one storage class.
    pub fn storage_check(self) -> Option<StorageCheck> {
        let check = |label, accepted_typeof| {
            Some(StorageCheck {
                label,
                accepted_typeof,
            })
        };
        match self {
            SqlType::Bool | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
                check("integers", "'integer', 'null'")
            }
            SqlType::Float | SqlType::Double => check("numbers", "'real', 'integer', 'null'"),
            SqlType::Text => check("text", "'text', 'null'"),
            SqlType::Binary | SqlType::Timestamp | SqlType::Date | SqlType::Time => None,
        }
    }

    /// Whether every value of this type converts to `to` without loss, so retyping a column
    /// from it to `to` needs no warning.
    pub fn widens_to(self, to: SqlType) -> bool {
        use SqlType::*;
        let wider: &[SqlType] = match self {
            Bool | SmallInt => &[SmallInt, Integer, BigInt],
            Integer => &[BigInt],
            Float => &[Double],
            BigInt | Double | Text | Binary | Timestamp | Date | Time => &[],
        };
        // A TEXT column takes a value of any type.
        self == to || to == Text || wider.contains(&to)
    }

    /// The k-th seed value of this type. Numbers are whole and text is digits, so that a seed
    /// converts to every other numeric or text type a change can give its column.
    pub fn seed(self, k: i64) -> Value {
        match self {
            SqlType::Bool => Value::Integer(k % 2),
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => Value::Integer(k),
            SqlType::Float | SqlType::Double => Value::Real(k as f64),
            SqlType::Text => Value::Text(k.to_string()),
            SqlType::Binary => Value::Blob(vec![k as u8; 3]),
            SqlType::Timestamp => Value::Text(format!("2026-01-0{k} 12:00:0{k}")),
            SqlType::Date => Value::Text(format!("2026-01-0{k}")),
            SqlType::Time => Value::Text(format!("12:00:0{k}")),
        }
    }

    /// The k-th seed value of a column retyped from this type to `to`: a value both types
    /// hold. Whole numbers are kept by every storage class and convert back without loss
    /// (`1`, `1.0` and `'1'`); a `Bool` on either side keeps them to its own 0 and 1.
    pub fn seed_across(self, to: SqlType, k: i64) -> Value {
        if self == SqlType::Bool || to == SqlType::Bool {
            Value::Integer(k % 2)
        } else {
            Value::Integer(k)
        }
    }
}

#[cfg(test)]
mod tests {
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

    /// Whether a rebuild to `ty` lets a value of this `typeof` through.
    fn accepted(ty: SqlType, kind: &str) -> bool {
        ty.storage_check()
            .is_none_or(|check| check.accepted_typeof.contains(&format!("'{kind}'")))
    }

    #[test]
    fn seeds_survive_sqlite_and_pass_the_storage_check() {
        // A proof seeds three rows.
        for ty in SqlType::ALL {
            for k in 1..=3 {
                let (value, kind) = stored(ty, ty, ty.seed(k));
                assert_eq!(value, ty.seed(k), "{ty:?} {k}");
                assert!(accepted(ty, &kind), "{ty:?} {k}: {kind}");
            }
        }
    }

    #[test]
    fn retyped_seeds_pass_the_new_type_storage_check() {
        for from in SqlType::ALL {
            for to in SqlType::ALL {
                for k in 1..=3 {
                    let (_, kind) = stored(from, to, from.seed_across(to, k));
                    assert!(accepted(to, &kind), "{from:?} to {to:?} {k}: {kind}");
                }
            }
        }
    }
}
