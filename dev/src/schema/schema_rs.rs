//! Reading `schema.rs`: the `table!` and `joinable!` macros, exactly as diesel print-schema
//! writes them or a person edits them, into the schema model.
//!
//! The file is parsed with syn and each `table!` body with Diesel's own table grammar
//! (`diesel_table_macro_syntax`), so anything Diesel compiles reads here too. Every error
//! points at `schema.rs:LINE:COLUMN`.
//!
//! What Diesel's macros would refuse at `cargo build`, this module refuses first, because a
//! migration generated from a schema.rs that does not compile is a migration nobody can use:
//!
//! - `table!` turns every column into an item of the table's module, so a column whose Rust
//!   name is the table's own is a `compile_error!` ("cannot be named the same as its table").
//!   Diesel's escape is to rename the Rust side and keep the SQL name with `#[sql_name]`.
//! - `joinable!(child -> parent (fk))` implements `JoinTo` in both directions with the ON
//!   clause `child.fk = parent.<primary key>`. That only type-checks when the parent's primary
//!   key is one column whose Diesel SQL type is the foreign key's (nullability aside), when
//!   child and parent differ, and when no other `joinable!` joins the same two tables (each one
//!   implements the same two traits, so a second one conflicts).
//!
//! Column types are the names `diesel::sql_types` exports, with or without that path. Many
//! are `pub type` aliases (`Int4` is `Integer`, `Float8` is `Double`, `VarChar` is `Text`,
//! `Blob` is `Binary`); each is read as the type it aliases, so the migration declares the
//! column with that type's SQL name and print-schema reads it back as the same Diesel type.
//! `Numeric` (and its alias `Decimal`) is a type of its own that Diesel sends to SQLite as a
//! double; print-schema never writes it, so its column is declared like `Double`'s and reads
//! back as `Double`, which Diesel sends to SQLite the same way. Types Diesel can send to SQLite
//! but print-schema never writes for it (`Json`, `Jsonb`, `TimestamptzSqlite`) are refused:
//! whatever their column is declared as, it reads back as another type, so `check` could never
//! pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use proc_macro2::Span;
use syn::spanned::Spanned;

use crate::error::{Error, Location, Result};
use crate::schema::model::{Column, Joinable, Schema, SqlType, Table};

/// Every name in `diesel::sql_types` that compiles for SQLite and that a column can be read
/// back as: the name, the Diesel type it stands for (aliases are `pub type`s), and the type
/// print-schema reads its column back as.
const DIESEL_TYPES: [(&str, &str, SqlType); 32] = [
    ("Bool", "Bool", SqlType::Bool),
    ("SmallInt", "SmallInt", SqlType::SmallInt),
    ("Int2", "SmallInt", SqlType::SmallInt),
    ("Smallint", "SmallInt", SqlType::SmallInt),
    ("Integer", "Integer", SqlType::Integer),
    ("Int4", "Integer", SqlType::Integer),
    ("BigInt", "BigInt", SqlType::BigInt),
    ("Int8", "BigInt", SqlType::BigInt),
    ("Bigint", "BigInt", SqlType::BigInt),
    ("Float", "Float", SqlType::Float),
    ("Float4", "Float", SqlType::Float),
    ("Double", "Double", SqlType::Double),
    ("Float8", "Double", SqlType::Double),
    ("Numeric", "Numeric", SqlType::Double),
    ("Decimal", "Numeric", SqlType::Double),
    ("Text", "Text", SqlType::Text),
    ("VarChar", "Text", SqlType::Text),
    ("Varchar", "Text", SqlType::Text),
    ("Char", "Text", SqlType::Text),
    ("Tinytext", "Text", SqlType::Text),
    ("Mediumtext", "Text", SqlType::Text),
    ("Longtext", "Text", SqlType::Text),
    ("Binary", "Binary", SqlType::Binary),
    ("Blob", "Binary", SqlType::Binary),
    ("Tinyblob", "Binary", SqlType::Binary),
    ("Mediumblob", "Binary", SqlType::Binary),
    ("Longblob", "Binary", SqlType::Binary),
    ("Varbinary", "Binary", SqlType::Binary),
    ("Bit", "Binary", SqlType::Binary),
    ("Timestamp", "Timestamp", SqlType::Timestamp),
    ("Date", "Date", SqlType::Date),
    ("Time", "Time", SqlType::Time),
];

/// Diesel types that compile for SQLite but that print-schema never writes for it: why no
/// declared type reads back as them, and what to write instead.
const NEVER_READ_BACK: [(&str, &str, &str); 4] = [
    (
        "Json",
        "SQLite has no JSON column type: Diesel stores `Json` as TEXT, and print-schema reads a TEXT column back as `Text`",
        "use `Text` and keep JSON documents in it",
    ),
    (
        "Jsonb",
        "SQLite has no JSONB column type: Diesel stores `Jsonb` as a BLOB, and print-schema reads a BLOB column back as `Binary`",
        "use `Binary` and keep JSONB documents in it",
    ),
    (
        "TimestamptzSqlite",
        "SQLite has no time-zone-aware column type: Diesel stores it as TEXT, and print-schema reads such a column back as `Timestamp` or `Text`",
        "use `Timestamp` (Diesel stores it as TEXT too)",
    ),
    (
        "Timestamptz",
        "SQLite has no time-zone-aware column type: Diesel stores it as TEXT, and print-schema reads such a column back as `Timestamp` or `Text`",
        "use `Timestamp` (Diesel stores it as TEXT too)",
    ),
];

/// Storage classes a custom type can declare with `#[diesel(sqlite_type(name = "..."))]`.
const SQLITE_STORAGE: [(&str, SqlType); 7] = [
    ("Binary", SqlType::Binary),
    ("Text", SqlType::Text),
    ("Float", SqlType::Float),
    ("Double", SqlType::Double),
    ("SmallInt", SqlType::SmallInt),
    ("Integer", SqlType::Integer),
    ("Long", SqlType::BigInt),
];

/// Reads the schema file at `path`.
pub fn read(path: &Path) -> Result<Schema> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        let err = Error::io("read the schema file", path, e);
        err.help("create it (diesel print-schema writes one), or fix `[print_schema] file` in diesel.toml")
    })?;
    parse(path, &source)
}

/// Parses schema.rs source text; `path` is used in error locations.
pub fn parse(path: &Path, source: &str) -> Result<Schema> {
    let source = Source { path, text: source };
    let located = |err: syn::Error, end: Option<Span>, expected: &str| {
        Error::input(format!("{} is malformed: {err}", file_name(path)))
            .at(source.locate(err.span(), end))
            .help(expected.to_owned())
    };
    let file = syn::parse_file(source.text)
        .map_err(|e| located(e, None, "schema.rs must be valid Rust"))?;
    let custom_types = custom_types(&file.items);
    let mut reader = Reader {
        source,
        custom_types,
        tables: BTreeMap::new(),
        declared: HashMap::new(),
        joined_pairs: BTreeSet::new(),
    };
    let mut joinables = Vec::new();
    for item in &file.items {
        let syn::Item::Macro(item) = item else {
            continue;
        };
        let Some(name) = item.mac.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        // A macro body that ends too early is reported at its closing delimiter.
        let end = Some(item.mac.delimiter.span().close());
        match name.as_str() {
            "table" => {
                let decl = syn::parse2::<diesel_table_macro_syntax::TableDecl>(
                    item.mac.tokens.clone(),
                )
                .map_err(|e| {
                    located(
                        e,
                        end,
                        "expected `name (primary, key) { column -> Type, ... }` as in diesel::table!",
                    )
                })?;
                reader.table(decl)?;
            }
            "joinable" => {
                let joinable =
                    syn::parse2::<JoinableDecl>(item.mac.tokens.clone()).map_err(|e| {
                        located(e, end, "expected `child -> parent (foreign_key_column)`")
                    })?;
                joinables.push(joinable);
            }
            _ => {}
        }
    }
    for joinable in joinables {
        reader.joinable(joinable)?;
    }
    Ok(Schema {
        tables: reader.tables,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The schema.rs text, to turn spans into `file:line:column`.
#[derive(Clone, Copy)]
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// Where `span` starts. syn reports "unexpected end of input" at a span that stands for no
    /// text at all; that is placed at `end` when given, else after the file's last token.
    fn locate(&self, span: Span, end: Option<Span>) -> Location {
        if span.source_text().is_none() {
            return match end {
                Some(end) => self.locate(end, None),
                None => Location::at_offset(self.path, self.text, self.text.trim_end().len()),
            };
        }
        let start = span.start();
        // syn::parse_file drops a byte-order mark before lexing, so the first line's columns
        // come one short of the text the caret is drawn under.
        let mark = usize::from(start.line == 1 && self.text.starts_with('\u{feff}'));
        Location::in_source(self.path, self.text, start.line, start.column + 1 + mark)
    }
}

/// A `table!` as the other macros name it: by Rust names.
struct Declared {
    sql_name: String,
    /// Rust column name to the column's SQL name and type.
    columns: HashMap<String, (String, ColumnType)>,
    /// Rust names of the primary-key columns.
    primary_key: Vec<String>,
}

/// A column's type as Diesel's macros see it, and as print-schema reads it back.
#[derive(Clone)]
struct ColumnType {
    /// The Diesel type after aliases resolve (`Float8` is `Double`), or a custom type's name:
    /// `joinable!` compiles only between columns whose Diesel types are the same.
    diesel: String,
    ty: SqlType,
    nullable: bool,
}

struct Reader<'a> {
    source: Source<'a>,
    custom_types: HashMap<String, SqlType>,
    tables: BTreeMap<String, Table>,
    /// By Rust table name.
    declared: HashMap<String, Declared>,
    /// Rust names of the tables each `joinable!` so far joins, in sorted order.
    joined_pairs: BTreeSet<(String, String)>,
}

impl Reader<'_> {
    fn error_at(&self, span: Span, message: String) -> Error {
        Error::input(message).at(self.source.locate(span, None))
    }

    fn table(&mut self, decl: diesel_table_macro_syntax::TableDecl) -> Result<()> {
        let rust_name = decl.table_name.to_string();
        if self.tables.contains_key(&decl.sql_name) || self.declared.contains_key(&rust_name) {
            return Err(self.error_at(
                decl.table_name.span(),
                format!("table `{}` is declared twice", decl.sql_name),
            ));
        }
        let mut columns = Vec::new();
        let mut declared_columns = HashMap::new();
        for def in &decl.column_defs {
            let column_name = def.column_name.to_string();
            if declared_columns.contains_key(&column_name) {
                return Err(self.error_at(
                    def.column_name.span(),
                    format!("column `{column_name}` is declared twice in table `{rust_name}`"),
                ));
            }
            if column_name == rust_name {
                return Err(self
                    .error_at(
                        def.column_name.span(),
                        format!("column `{column_name}` cannot be named the same as its table"),
                    )
                    .note("diesel::table! makes each column an item of the table's module, so this does not compile")
                    .help(format!(
                        "rename it in Rust and keep its SQL name: `#[sql_name = \"{}\"] {column_name}_ -> ...`",
                        def.sql_name
                    )));
            }
            let ty = self.sql_type(&def.tpe)?;
            let max_length = def
                .max_length
                .as_ref()
                .map(|lit| {
                    lit.base10_parse::<u32>().map_err(|_| {
                        self.error_at(
                            lit.span(),
                            "`#[max_length]` must be a positive whole number".into(),
                        )
                    })
                })
                .transpose()?;
            columns.push(Column {
                name: def.sql_name.clone(),
                ty: ty.ty,
                nullable: ty.nullable,
                max_length,
            });
            declared_columns.insert(column_name, (def.sql_name.clone(), ty));
        }
        let primary_key: Vec<String> = match &decl.primary_keys {
            Some(pk) => pk
                .keys
                .iter()
                .map(|key| {
                    let key_name = key.to_string();
                    if declared_columns.contains_key(&key_name) {
                        Ok(key_name)
                    } else {
                        Err(self.error_at(
                            key.span(),
                            format!("primary key `{key}` is not a column of table `{rust_name}`"),
                        ))
                    }
                })
                .collect::<Result<_>>()?,
            None if declared_columns.contains_key("id") => vec!["id".to_owned()],
            None => {
                return Err(self
                    .error_at(
                        decl.table_name.span(),
                        format!("table `{rust_name}` names no primary key and has no `id` column"),
                    )
                    .help(format!(
                    "name its primary key after the table name: `{rust_name} (column) {{ ... }}`"
                )))
            }
        };
        self.tables.insert(
            decl.sql_name.clone(),
            Table {
                name: decl.sql_name.clone(),
                columns,
                primary_key: primary_key
                    .iter()
                    .map(|key| declared_columns[key].0.clone())
                    .collect(),
                joinables: Default::default(),
            },
        );
        self.declared.insert(
            rust_name,
            Declared {
                sql_name: decl.sql_name,
                columns: declared_columns,
                primary_key,
            },
        );
        Ok(())
    }

    /// Resolves a column type such as `Nullable<diesel::sql_types::Text>`.
    fn sql_type(&self, path: &syn::TypePath) -> Result<ColumnType> {
        let segment = path
            .path
            .segments
            .last()
            .ok_or_else(|| self.error_at(path.span(), "expected a SQL type".into()))?;
        let name = segment.ident.to_string();
        if name == "Nullable" {
            let inner = match &segment.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                    Some(syn::GenericArgument::Type(syn::Type::Path(inner))) => Some(inner),
                    _ => None,
                },
                _ => None,
            };
            let inner = inner.ok_or_else(|| {
                self.error_at(segment.span(), "expected `Nullable<SqlType>`".into())
            })?;
            let ty = self.sql_type(inner)?;
            if ty.nullable {
                return Err(self.error_at(segment.span(), "`Nullable` is nested".into()));
            }
            return Ok(ColumnType {
                nullable: true,
                ..ty
            });
        }
        let resolved = DIESEL_TYPES
            .iter()
            .find(|(known, _, _)| *known == name)
            .map(|(_, diesel, ty)| (diesel.to_string(), *ty))
            .or_else(|| self.custom_types.get(&name).map(|ty| (name.clone(), *ty)));
        if let Some((diesel, ty)) = resolved {
            return Ok(ColumnType {
                diesel,
                ty,
                nullable: false,
            });
        }
        let span = segment.ident.span();
        if let Some((_, why, instead)) = NEVER_READ_BACK.iter().find(|(n, _, _)| *n == name) {
            return Err(self
                .error_at(
                    span,
                    format!("`{name}` cannot describe a SQLite column: diesel print-schema never writes it for SQLite, so `check` could never pass"),
                )
                .note(*why)
                .help(*instead));
        }
        let mut err = self.error_at(span, format!("unknown SQL type `{name}` for SQLite"));
        if let Some(suggestion) = closest(&name) {
            err = err.note(format!("did you mean `{suggestion}`?"));
        }
        Err(err.help(
            "use a type from diesel::sql_types that compiles for SQLite: Bool, SmallInt, Integer, BigInt, Float, Double, Numeric, Text, Binary, Timestamp, Date or Time, or an alias of one (Int4, Float8, VarChar, Blob, ...); or declare a custom type in a `sql_types` module with #[diesel(sqlite_type(name = \"Text\"))]",
        ))
    }

    fn joinable(&mut self, decl: JoinableDecl) -> Result<()> {
        let lookup = |ident: &syn::Ident| {
            self.declared.get(&ident.to_string()).ok_or_else(|| {
                self.error_at(
                    ident.span(),
                    format!("`joinable!` names `{ident}`, which no `table!` declares"),
                )
            })
        };
        let child = lookup(&decl.child)?;
        let parent = lookup(&decl.parent)?;
        let (column, column_type) =
            child.columns.get(&decl.column.to_string()).ok_or_else(|| {
                self.error_at(
                    decl.column.span(),
                    format!(
                        "`{}` is not a column of table `{}`",
                        decl.column, decl.child
                    ),
                )
            })?;
        if decl.child == decl.parent {
            return Err(self
                .error_at(
                    decl.parent.span(),
                    format!("`joinable!` cannot join `{}` to itself", decl.parent),
                )
                .note("it would implement the same `JoinTo` twice for one table, which does not compile, and print-schema never writes it")
                .help("remove it, and join the table to an `alias!` of itself with an explicit `.on(...)` clause"));
        }
        let [key] = parent.primary_key.as_slice() else {
            return Err(self
                .error_at(
                    decl.parent.span(),
                    format!(
                        "`joinable!` needs `{}` to have a single-column primary key, not ({})",
                        decl.parent,
                        parent.primary_key.join(", ")
                    ),
                )
                .note("Diesel joins on `child.column = parent.primary_key`, which does not compile for a composite key, and print-schema never writes it")
                .help("remove this `joinable!` and join with an explicit `.on(...)` clause"));
        };
        let key_type = &parent.columns[key].1;
        if key_type.diesel != column_type.diesel {
            return Err(self
                .error_at(
                    decl.column.span(),
                    format!(
                        "`joinable!` joins `{}.{}` ({}) to `{}.{key}` ({}), and Diesel only compiles a join between columns of the same SQL type",
                        decl.child, decl.column, column_type.diesel, decl.parent, key_type.diesel
                    ),
                )
                .help(format!(
                    "use a column of `{}` typed `{key}` or `Nullable<{key}>` as the foreign key, or remove this `joinable!`",
                    decl.child,
                    key = key_type.diesel
                )));
        }
        let (child_name, parent_name) = (decl.child.to_string(), decl.parent.to_string());
        let pair = if child_name < parent_name {
            (child_name, parent_name)
        } else {
            (parent_name, child_name)
        };
        if self.joined_pairs.contains(&pair) {
            return Err(self
                .error_at(
                    decl.child.span(),
                    format!("a second `joinable!` between `{}` and `{}`", pair.0, pair.1),
                )
                .note("each `joinable!` implements `JoinTo` for both tables, so two of them conflict and do not compile, and print-schema never writes them")
                .help("keep one, and join on the other column with an explicit `.on(...)` clause"));
        }
        let joinable = Joinable {
            column: column.clone(),
            parent: parent.sql_name.clone(),
        };
        let child = child.sql_name.clone();
        self.joined_pairs.insert(pair);
        self.tables
            .get_mut(&child)
            .expect("declared tables are in `tables` under their SQL name")
            .joinables
            .insert(joinable);
        Ok(())
    }
}

/// `child -> parent (column)`.
struct JoinableDecl {
    child: syn::Ident,
    parent: syn::Ident,
    column: syn::Ident,
}

impl syn::parse::Parse for JoinableDecl {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let child = input.parse()?;
        input.parse::<syn::Token![->]>()?;
        let parent = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let column = content.parse()?;
        Ok(JoinableDecl {
            child,
            parent,
            column,
        })
    }
}

/// Custom SQL types declared as `#[diesel(sqlite_type(name = "..."))] pub struct X;` in any
/// inline module, by struct name.
fn custom_types(items: &[syn::Item]) -> HashMap<String, SqlType> {
    let mut found = HashMap::new();
    for item in items {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, inner)) = &module.content {
                    found.extend(custom_types(inner));
                }
            }
            syn::Item::Struct(item) => {
                if let Some(ty) = item.attrs.iter().find_map(sqlite_storage) {
                    found.insert(item.ident.to_string(), ty);
                }
            }
            _ => {}
        }
    }
    found
}

fn sqlite_storage(attr: &syn::Attribute) -> Option<SqlType> {
    if !attr.path().is_ident("diesel") {
        return None;
    }
    let mut storage = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("sqlite_type") {
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("name") {
                    let name: syn::LitStr = inner.value()?.parse()?;
                    storage = SQLITE_STORAGE
                        .iter()
                        .find(|(n, _)| *n == name.value())
                        .map(|(_, ty)| *ty);
                }
                Ok(())
            })?;
        }
        Ok(())
    });
    storage
}

/// The known type name closest to a misspelt one, when it is close.
fn closest(name: &str) -> Option<&'static str> {
    DIESEL_TYPES
        .iter()
        .map(|(known, _, _)| {
            (
                edit_distance(&name.to_lowercase(), &known.to_lowercase()),
                *known,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(source: &str) -> Schema {
        parse(Path::new("schema/schema.rs"), source).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(source: &str) -> Error {
        parse(Path::new("schema/schema.rs"), source).unwrap_err()
    }

    #[test]
    fn reads_print_schema_output() {
        let schema = parse_ok(
            r#"// @generated automatically by Diesel CLI.

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        title -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        #[sql_name = "e-mail"]
        email -> Text,
    }
}

diesel::joinable!(posts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"#,
        );
        let posts = &schema.tables["posts"];
        assert_eq!(posts.primary_key, ["id"]);
        assert_eq!(posts.columns[2].to_string(), "Nullable<Text>");
        assert_eq!(
            posts.joinables.iter().next().unwrap(),
            &Joinable {
                column: "user_id".into(),
                parent: "users".into()
            }
        );
        assert_eq!(schema.tables["users"].columns[1].name, "e-mail");
    }

    #[test]
    fn reads_hand_written_forms() {
        let schema = parse_ok(
            r#"
use diesel::sql_types::*;

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;
}

table! {
    use diesel::sql_types::*;
    use super::sql_types::Uuid;

    /// Pairs of things.
    #[sql_name = "link table"]
    links (left_id, right_id) {
        /// Left side.
        left_id -> diesel::sql_types::BigInt,
        right_id -> Int8,
        token -> Uuid,
        #[max_length = 64]
        label -> diesel::sql_types::Nullable<diesel::sql_types::Varchar>,
    }
}

table! {
    things {
        id -> Integer,
    }
}

diesel::allow_columns_to_appear_in_same_group_by_clause!(things::id,);
"#,
        );
        let links = &schema.tables["link table"];
        assert_eq!(links.primary_key, ["left_id", "right_id"]);
        assert_eq!(links.columns[0].ty, SqlType::BigInt);
        assert_eq!(links.columns[2].ty, SqlType::Text);
        assert_eq!(links.columns[3].max_length, Some(64));
        assert!(links.columns[3].nullable);
        assert_eq!(schema.tables["things"].primary_key, ["id"]);
    }

    #[test]
    fn unknown_type_points_at_it_and_suggests() {
        let err = parse_err("diesel::table! {\n    users (id) {\n        id -> Integer,\n        name -> Intger,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (4, 17));
        assert!(err.message.contains("unknown SQL type `Intger`"), "{err}");
        assert!(err.notes[0].contains("`Integer`"), "{err}");
    }

    #[test]
    fn malformed_macro_reports_line_and_column() {
        let err = parse_err("diesel::table! {\n    users (id) {\n        id Integer,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!(loc.line, 3, "{err}");
        assert!(err.message.contains("malformed"), "{err}");
        assert!(err.to_string().contains("schema/schema.rs:3:"), "{err}");
    }

    #[test]
    fn invalid_rust_reports_position() {
        let err = parse_err("diesel::table! {\n    users (id) {\n");
        assert!(err.location.is_some(), "{err}");
    }

    #[test]
    fn joinable_to_unknown_table_is_an_error() {
        let err = parse_err(
            "diesel::table! { a (id) { id -> Integer, b_id -> Integer, } }\ndiesel::joinable!(a -> b (b_id));\n",
        );
        assert!(err.message.contains("`b`"), "{err}");
        assert_eq!(err.location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn missing_default_primary_key_is_explained() {
        let err = parse_err("diesel::table! { a { name -> Text, } }");
        assert!(err.message.contains("no `id` column"), "{err}");
    }

    fn table_with(column: &str) -> String {
        format!("diesel::table! {{\n    t (id) {{\n        id -> Integer,\n        {column},\n    }}\n}}\n")
    }

    #[test]
    fn every_diesel_alias_reads_as_the_type_it_aliases_and_round_trips() {
        for (name, diesel, expected) in DIESEL_TYPES {
            for written in [
                name.to_owned(),
                format!("diesel::sql_types::{name}"),
                format!("Nullable<diesel::sql_types::{name}>"),
            ] {
                let schema = parse_ok(&table_with(&format!("c -> {written}")));
                let column = &schema.tables["t"].columns[1];
                assert_eq!(column.ty, expected, "{written}");
                assert_eq!(
                    column.nullable,
                    written.starts_with("Nullable"),
                    "{written}"
                );
                // What the migration declares for it reads back, by print-schema's rules,
                // as the same type.
                assert_eq!(
                    SqlType::from_declared(column.ty.sql()),
                    Some(expected),
                    "{written}"
                );
            }
            assert!(
                DIESEL_TYPES
                    .iter()
                    .any(|(n, d, _)| *n == diesel && *d == diesel),
                "{name} aliases {diesel}, which is not listed as a type of its own"
            );
        }
        let aliased =
            |name: &str| parse_ok(&table_with(&format!("c -> {name}"))).tables["t"].columns[1].ty;
        assert_eq!(
            aliased("Float8"),
            SqlType::Double,
            "Float8 is Double, not Float"
        );
        assert_eq!(aliased("Float4"), SqlType::Float);
        assert_eq!(aliased("Decimal"), SqlType::Double);
        assert_eq!(aliased("Numeric"), SqlType::Double);
        assert_eq!(aliased("Int2"), SqlType::SmallInt);
        assert_eq!(aliased("Tinytext"), SqlType::Text);
        assert_eq!(aliased("Bit"), SqlType::Binary);
    }

    #[test]
    fn types_print_schema_never_writes_for_sqlite_are_refused_with_the_reason() {
        for name in ["Json", "Jsonb", "TimestamptzSqlite"] {
            for written in [
                name.to_owned(),
                format!("Nullable<diesel::sql_types::{name}>"),
            ] {
                let source = table_with(&format!("doc -> {written}"));
                let err = parse_err(&source);
                let loc = err.location.clone().unwrap();
                assert_eq!(loc.line, 4, "{err}");
                assert_eq!(
                    loc.column,
                    source.lines().nth(3).unwrap().find(name).unwrap() + 1,
                    "{err}"
                );
                assert!(
                    err.message
                        .contains(&format!("`{name}` cannot describe a SQLite column")),
                    "{err}"
                );
                assert!(
                    err.message.contains("print-schema never writes it"),
                    "{err}"
                );
                assert!(err.notes[0].contains("SQLite has no"), "{err}");
                assert!(err.help.is_some(), "{err}");
            }
        }
    }

    #[test]
    fn a_column_named_like_its_table_is_refused_unless_renamed() {
        let err = parse_err("diesel::table! {\n    tags (id) {\n        id -> Integer,\n        tags -> Text,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (4, 9), "{err}");
        assert!(
            err.message
                .contains("column `tags` cannot be named the same as its table"),
            "{err}"
        );
        assert!(
            err.help
                .as_deref()
                .unwrap()
                .contains("#[sql_name = \"tags\"] tags_"),
            "{err}"
        );
        let schema = parse_ok("diesel::table! {\n    tags (id) {\n        id -> Integer,\n        #[sql_name = \"tags\"]\n        tags_ -> Text,\n    }\n}\n");
        assert_eq!(schema.tables["tags"].columns[1].name, "tags");
        // The Rust names are what collide: a table renamed in Rust may keep the column.
        let schema = parse_ok("diesel::table! {\n    #[sql_name = \"tags\"]\n    tag_list (id) {\n        id -> Integer,\n        tags -> Text,\n    }\n}\n");
        assert_eq!(schema.tables["tags"].columns[1].name, "tags");
    }

    const USERS_AND_POSTS: &str = "diesel::table! {\n    users (id) {\n        id -> Integer,\n        name -> Text,\n    }\n}\n\ndiesel::table! {\n    posts (id) {\n        id -> Int4,\n        user_id -> Nullable<diesel::sql_types::Int4>,\n        title -> Text,\n        score -> BigInt,\n    }\n}\n";

    #[test]
    fn joinable_needs_the_parent_key_type_on_the_child_column() {
        let schema = parse_ok(&format!(
            "{USERS_AND_POSTS}diesel::joinable!(posts -> users (user_id));\n"
        ));
        assert_eq!(schema.tables["posts"].joinables.len(), 1);
        for (column, ty) in [("title", "Text"), ("score", "BigInt")] {
            let source =
                format!("{USERS_AND_POSTS}diesel::joinable!(posts -> users ({column}));\n");
            let err = parse_err(&source);
            let loc = err.location.clone().unwrap();
            assert_eq!((loc.line, loc.column), (16, 35), "{err}");
            assert!(
                err.message
                    .contains(&format!("`posts.{column}` ({ty}) to `users.id` (Integer)")),
                "{err}"
            );
            assert!(
                err.help
                    .as_deref()
                    .unwrap()
                    .contains("typed `Integer` or `Nullable<Integer>`"),
                "{err}"
            );
        }
        // A text key joins a text column, as print-schema writes it.
        parse_ok("diesel::table! { objects (object_id) { object_id -> Text, } }\ndiesel::table! { links (id) { id -> Integer, object_id -> VarChar, } }\ndiesel::joinable!(links -> objects (object_id));\n");
    }

    #[test]
    fn joinable_to_a_composite_key_is_refused() {
        let err = parse_err("diesel::table! { pairs (a, b) { a -> Integer, b -> Integer, } }\ndiesel::table! { notes (id) { id -> Integer, a -> Integer, } }\ndiesel::joinable!(notes -> pairs (a));\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (3, 28), "{err}");
        assert!(
            err.message
                .contains("single-column primary key, not (a, b)"),
            "{err}"
        );
    }

    #[test]
    fn joinables_diesel_would_implement_twice_are_refused() {
        let err = parse_err("diesel::table! { tree (id) { id -> Integer, parent_id -> Integer, } }\ndiesel::joinable!(tree -> tree (parent_id));\n");
        assert!(
            err.message.contains("cannot join `tree` to itself"),
            "{err}"
        );
        assert_eq!(err.location.as_ref().unwrap().line, 2);
        let err = parse_err(&format!(
            "{USERS_AND_POSTS}diesel::joinable!(posts -> users (user_id));\ndiesel::joinable!(users -> posts (id));\n"
        ));
        assert!(
            err.message
                .contains("a second `joinable!` between `posts` and `users`"),
            "{err}"
        );
        assert_eq!(err.location.as_ref().unwrap().line, 17);
    }

    #[test]
    fn a_table_declared_twice_in_rust_is_refused() {
        let err = parse_err("diesel::table! { t (id) { id -> Integer, } }\ndiesel::table! { #[sql_name = \"u\"] t (id) { id -> Integer, } }\n");
        assert!(err.message.contains("declared twice"), "{err}");
        assert_eq!(err.location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn input_that_ends_early_is_located_where_it_ends() {
        let err = parse_err("diesel::table! {\n    users (id)\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!(
            (loc.line, loc.column),
            (3, 1),
            "at the macro's closing brace: {err}"
        );
        let err =
            parse_err("diesel::table! { users (id) { id -> Integer, } }\n\ndiesel::joinable!\n\n");
        let loc = err.location.clone().unwrap();
        assert_eq!(
            (loc.line, loc.column),
            (3, 18),
            "after the last token: {err}"
        );
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_columns() {
        let err = parse_err("\u{feff}diesel::table! { t (id) { id -> Intger, } }\n");
        let loc = err.location.clone().unwrap();
        let text = loc.source_line.clone().unwrap();
        let caret: String = text.chars().skip(loc.column - 1).take(6).collect();
        assert_eq!(caret, "Intger", "{err}");
    }

    /// A schema.rs using every form the parser reads, to mutate.
    const VALID: &str = r#"// @generated automatically by Diesel CLI.
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Uuid;

    users (id) {
        id -> Integer,
        #[sql_name = "e-mail"]
        email -> Nullable<VarChar>,
        token -> Uuid,
        #[max_length = 64]
        label -> diesel::sql_types::Text,
        score -> Float8,
    }
}

diesel::table! {
    posts (id, user_id) {
        id -> Int4,
        user_id -> Integer,
        body -> Blob,
    }
}

diesel::joinable!(posts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"#;

    /// An edit to a text: delete, insert or replace one character at a position.
    #[derive(Debug, Clone)]
    enum Mutation {
        Delete(prop::sample::Index),
        Insert(prop::sample::Index, char),
        Replace(prop::sample::Index, char),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        // Characters that matter to Rust's and Diesel's grammar, and any other.
        let character = prop_oneof![
            prop::sample::select(
                "{}()<>[]#!:;,.-=\"'/\\*_ \n\tr0"
                    .chars()
                    .collect::<Vec<_>>()
            ),
            any::<char>(),
        ];
        prop_oneof![
            any::<prop::sample::Index>().prop_map(Mutation::Delete),
            (any::<prop::sample::Index>(), character.clone())
                .prop_map(|(i, c)| Mutation::Insert(i, c)),
            (any::<prop::sample::Index>(), character).prop_map(|(i, c)| Mutation::Replace(i, c)),
        ]
    }

    fn mutate(source: &str, mutations: &[Mutation]) -> String {
        let mut chars: Vec<char> = source.chars().collect();
        for mutation in mutations {
            match mutation {
                Mutation::Delete(i) if !chars.is_empty() => {
                    chars.remove(i.index(chars.len()));
                }
                Mutation::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
                Mutation::Replace(i, c) if !chars.is_empty() => {
                    let at = i.index(chars.len());
                    chars[at] = *c;
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    }

    /// Parses `source` (a panic fails the property) and checks that an error points at a
    /// line of the file.
    fn parses_or_locates(source: &str) -> std::result::Result<(), TestCaseError> {
        if let Err(err) = parse(Path::new("schema/schema.rs"), source) {
            let Some(loc) = &err.location else {
                return Err(TestCaseError::fail(format!("no location: {err}")));
            };
            prop_assert!(loc.line >= 1 && loc.column >= 1, "{err}");
            let Some(line) = &loc.source_line else {
                return Err(TestCaseError::fail(format!(
                    "not on a line of the file: {err}"
                )));
            };
            // The caret is under something written: on a character, or just after the last
            // one, never on blank space.
            let chars: Vec<char> = line.chars().collect();
            let written = |i: Option<usize>| {
                i.and_then(|i| chars.get(i))
                    .is_some_and(|c| !c.is_whitespace())
            };
            prop_assert!(
                written(Some(loc.column - 1)) || written(loc.column.checked_sub(2)),
                "under blank space: {err}"
            );
        }
        Ok(())
    }

    /// A modest number of cases so `cargo test` stays quick; `PROPTEST_CASES` raises it.
    fn config() -> ProptestConfig {
        proptest::test_runner::contextualize_config(ProptestConfig {
            cases: 128,
            ..ProptestConfig::default()
        })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn never_panics_on_arbitrary_text(source in "\\PC{0,300}") {
            parses_or_locates(&source)?;
        }

        #[test]
        fn never_panics_on_arbitrary_schema_tokens(blank in "[ \n]{1,3}", tokens in prop::collection::vec(prop::sample::select(vec![
            "diesel::table!", "table!", "diesel::joinable!", "joinable!", "{", "}", "(", ")", "<", ">", "->", ",",
            ".", "::", "#[sql_name = \"x\"]", "#[max_length = 8]", "#[max_length = -1]", "use diesel::sql_types::*;",
            "users", "posts", "id", "user_id", "Integer", "Nullable", "Json", "Float8", "Text", "Unknown", "r#type",
            "\n", "\u{feff}",
        ]), 0..60)) {
            // Leading blank space, so that an error reported at no place in particular
            // (the file's start) shows.
            parses_or_locates(&format!("{blank}{}", tokens.join(" ")))?;
        }

        #[test]
        fn never_panics_on_a_mutated_valid_schema(mutations in prop::collection::vec(mutation(), 1..8)) {
            parses_or_locates(&mutate(VALID, &mutations))?;
        }
    }

    #[test]
    fn the_mutated_schema_is_valid_to_begin_with() {
        let schema = parse_ok(VALID);
        assert_eq!(schema.tables["users"].columns[4].ty, SqlType::Double);
        assert_eq!(schema.tables["posts"].joinables.len(), 1);
    }
}
