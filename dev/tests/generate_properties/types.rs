//! Types: the names schema.rs may use, and the declared SQL types print-schema reads as them.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    Bool,
    SmallInt,
    Integer,
    BigInt,
    Float,
    Double,
    Text,
    Binary,
    Timestamp,
    Date,
    Time,
}

pub const ALL_TYPES: [Ty; 11] = [
    Ty::Bool,
    Ty::SmallInt,
    Ty::Integer,
    Ty::BigInt,
    Ty::Float,
    Ty::Double,
    Ty::Text,
    Ty::Binary,
    Ty::Timestamp,
    Ty::Date,
    Ty::Time,
];

impl Ty {
    /// The names `diesel::sql_types` exports for it (the type and its `pub type` aliases).
    /// `Numeric`/`Decimal` are Diesel's own type, which SQLite stores and print-schema reads
    /// back as a double.
    pub fn rust_names(self) -> &'static [&'static str] {
        match self {
            Ty::Bool => &["Bool"],
            Ty::SmallInt => &["SmallInt", "Int2", "Smallint"],
            Ty::Integer => &["Integer", "Int4"],
            Ty::BigInt => &["BigInt", "Int8", "Bigint"],
            Ty::Float => &["Float", "Float4"],
            Ty::Double => &["Double", "Float8", "Numeric", "Decimal"],
            Ty::Text => &["Text", "VarChar", "Varchar", "Char", "Tinytext", "Longtext"],
            Ty::Binary => &["Binary", "Blob", "Varbinary", "Longblob", "Bit"],
            Ty::Timestamp => &["Timestamp"],
            Ty::Date => &["Date"],
            Ty::Time => &["Time"],
        }
    }

    /// Declared types a person writes in SQL that print-schema reads as this type.
    pub fn spellings(self) -> &'static [&'static str] {
        match self {
            Ty::Bool => &["BOOLEAN", "TINYINT"],
            Ty::SmallInt => &["SMALLINT", "INT2"],
            Ty::Integer => &["INTEGER", "INT", "MEDIUMINT"],
            Ty::BigInt => &["BIGINT", "INT8", "UNSIGNED BIG INT"],
            Ty::Float => &["REAL", "FLOAT"],
            Ty::Double => &["DOUBLE", "DOUBLE PRECISION", "NUMERIC(10,2)", "DECIMAL"],
            Ty::Text => &[
                "TEXT",
                "VARCHAR(255)",
                "CHARACTER(20)",
                "CLOB",
                "NVARCHAR(40)",
            ],
            Ty::Binary => &["BLOB", ""],
            Ty::Timestamp => &["TIMESTAMP", "DATETIME"],
            Ty::Date => &["DATE"],
            Ty::Time => &["TIME"],
        }
    }
}

/// How diesel print-schema reads a SQLite declared type, checked in diesel_cli's order
/// (`infer_schema_internals/sqlite.rs`): written here from that source, independently of
/// `dev::schema::model`, so the two can be compared.
pub fn print_schema_type(declared: &str) -> Option<Ty> {
    let t = declared.to_lowercase();
    let has = |s: &str| t.contains(s);
    Some(
        if t == "boolean" || t == "bool" || (has("tiny") && has("int")) {
            Ty::Bool
        } else if t == "int2" || (has("small") && has("int")) {
            Ty::SmallInt
        } else if t == "int8" || (has("big") && has("int")) {
            Ty::BigInt
        } else if has("int") {
            Ty::Integer
        } else if has("char") || has("clob") || has("text") {
            Ty::Text
        } else if has("blob") || has("binary") || t.is_empty() {
            Ty::Binary
        } else if has("float") || has("real") {
            Ty::Float
        } else if has("double") || has("num") || has("dec") {
            Ty::Double
        } else if t == "datetime" || t == "timestamp" {
            Ty::Timestamp
        } else if t == "date" {
            Ty::Date
        } else if t == "time" {
            Ty::Time
        } else {
            return None;
        },
    )
}

/// The Diesel type a schema.rs name stands for.
pub fn rust_type(name: &str) -> Option<Ty> {
    ALL_TYPES
        .into_iter()
        .find(|ty| ty.rust_names().contains(&name))
}
