//! Everything the tool knows about a Diesel SQL type, kept with the type: how print-schema
//! reads a declared SQLite type, the SQL a new column is declared with, the names schema.rs
//! writes it as, which stored values Diesel reads as it, which changes widen it, and the values
//! a proof seeds it with.
//!
//! Each fact is an exhaustive `match`, so adding a type is an edit to this file, and the
//! compiler names every decision the new type needs.

use rusqlite::types::Value;

/// A Diesel SQL type that print-schema can write for SQLite.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
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

    /// SQL that is true when the value `expr` is one Diesel reads as this type's Rust type
    /// without an error or a change: the storage class it decodes, within the range of the
    /// Rust number (SQLite stores 3000000000 in any INTEGER column; Diesel's `Integer` is an
    /// i32, and `Float` an f32). NULL is left to the column's NOT NULL. `None` for a type
    /// Diesel reads from any storage class.
    pub fn holds(self, expr: &str) -> Option<String> {
        let within = |class: &str, range: &str| {
            format!("({expr} IS NULL OR (typeof({expr}) IN ({class}) AND {range}))")
        };
        let integer =
            |min: i64, max: i64| within("'integer'", &format!("{expr} BETWEEN {min} AND {max}"));
        match self {
            SqlType::Bool => Some(integer(0, 1)),
            SqlType::SmallInt => Some(integer(i16::MIN.into(), i16::MAX.into())),
            SqlType::Integer => Some(integer(i32::MIN.into(), i32::MAX.into())),
            SqlType::BigInt => Some(within("'integer'", "1")),
            SqlType::Float => Some(within(
                "'integer', 'real'",
                &format!("abs({expr}) <= {:e}", f64::from(f32::MAX)),
            )),
            SqlType::Double => Some(within("'integer', 'real'", "1")),
            SqlType::Text => Some(within("'text'", "1")),
            SqlType::Binary | SqlType::Timestamp | SqlType::Date | SqlType::Time => None,
        }
    }

    /// The Rust value Diesel reads this type as, for messages: `i32`, `f32`, `String`.
    pub fn rust_type(self) -> &'static str {
        match self {
            SqlType::Bool => "bool (0 or 1)",
            SqlType::SmallInt => "i16",
            SqlType::Integer => "i32",
            SqlType::BigInt => "i64",
            SqlType::Float => "f32",
            SqlType::Double => "f64",
            SqlType::Text => "String",
            SqlType::Binary => "Vec<u8>",
            SqlType::Timestamp => "a date and time",
            SqlType::Date => "a date",
            SqlType::Time => "a time of day",
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

    /// The k-th seed value of this type (k is 1, 2 or 3), chosen to find loss: the first two
    /// sit where copies go wrong while the type still holds them, the last is plain (a
    /// nullable column's last seed row holds NULL instead, so both hostile ones are seeded
    /// everywhere). Integers at the ends of the Rust type's range (past 2^53 for a BigInt,
    /// which no REAL holds exactly), REALs past f32 and with no exact binary form, text that
    /// looks like a number (`'007'`) or holds a NUL and non-ASCII, an empty blob. Distinct per
    /// k, so keys and UNIQUE hold.
    pub fn seed(self, k: i64) -> Value {
        // Listed plain first; k = 1 takes the last.
        let pick = |values: [Value; 3]| values[((3 - k).rem_euclid(3)) as usize].clone();
        match self {
            SqlType::Bool => Value::Integer(k % 2),
            SqlType::SmallInt => pick([1, i16::MIN.into(), i16::MAX.into()].map(Value::Integer)),
            SqlType::Integer => pick([1, i32::MIN.into(), i32::MAX.into()].map(Value::Integer)),
            SqlType::BigInt => pick([1, 9_007_199_254_740_993, i64::MIN].map(Value::Integer)),
            SqlType::Float => pick([1.0, -3.0e38, 0.25].map(Value::Real)),
            SqlType::Double => pick([1.0, 0.1, 1.0e300].map(Value::Real)),
            SqlType::Text => pick(["1", "007", "é\u{0}1e2 "].map(|t| Value::Text(t.to_owned()))),
            SqlType::Binary => pick([vec![1, 1, 1], Vec::new(), vec![0, 255]].map(Value::Blob)),
            SqlType::Timestamp => Value::Text(format!("2026-01-0{k} 12:00:0{k}")),
            SqlType::Date => Value::Text(format!("2026-01-0{k}")),
            SqlType::Time => Value::Text(format!("12:00:0{k}")),
        }
    }

    /// The k-th seed value of a column retyped from this type to `to`: a value both types
    /// hold exactly, both ways (the proof runs up and down). Whole numbers are kept by every
    /// storage class (`1`, `1.0` and `'1'`), except text that becomes a REAL: `'1'` is 1.0,
    /// which reads back as `'1.0'`, so such a column gets `'1.5'`-like text, which a REAL
    /// writes back exactly. A `Bool` on either side keeps them to its own 0 and 1.
    pub fn seed_across(self, to: SqlType, k: i64) -> Value {
        let real = |t: SqlType| matches!(t, SqlType::Float | SqlType::Double);
        if self == SqlType::Bool || to == SqlType::Bool {
            Value::Integer(k % 2)
        } else if real(to) && !real(self) && self.holds_text() {
            Value::Text(format!("{k}.5"))
        } else if self == SqlType::Binary {
            // A BLOB column keeps what it is given, and so back: each value in the class the
            // new type keeps it in.
            match to {
                _ if real(to) => Value::Real(k as f64 + 0.5),
                SqlType::Text | SqlType::Timestamp | SqlType::Date | SqlType::Time => {
                    Value::Text(format!("2026-01-0{k}"))
                }
                _ => Value::Integer(k),
            }
        } else {
            Value::Integer(k)
        }
    }

    /// Whether a column of this type keeps a text seed as text (TEXT affinity and the types
    /// Diesel keeps as text).
    fn holds_text(self) -> bool {
        matches!(
            self,
            SqlType::Text | SqlType::Timestamp | SqlType::Date | SqlType::Time
        )
    }
}

#[cfg(test)]
mod tests;
