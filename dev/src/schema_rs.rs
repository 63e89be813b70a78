//! Reading `schema.rs`: the `table!` and `joinable!` macros, exactly as diesel print-schema
//! writes them or a person edits them, into the schema model.
//!
//! The file is parsed with syn and each `table!` body with Diesel's own table grammar
//! (`diesel_table_macro_syntax`), so anything Diesel compiles reads here too. Every error
//! points at `schema.rs:LINE:COLUMN`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use proc_macro2::Span;
use syn::spanned::Spanned;

use crate::error::{Error, Location, Result};
use crate::model::{Column, Joinable, Schema, SqlType, Table};

/// Diesel's names for the SQL types print-schema writes for SQLite, with their aliases.
const KNOWN_TYPES: [(&str, SqlType); 21] = [
    ("Bool", SqlType::Bool),
    ("SmallInt", SqlType::SmallInt),
    ("Int2", SqlType::SmallInt),
    ("Smallint", SqlType::SmallInt),
    ("Integer", SqlType::Integer),
    ("Int4", SqlType::Integer),
    ("BigInt", SqlType::BigInt),
    ("Int8", SqlType::BigInt),
    ("Bigint", SqlType::BigInt),
    ("Float", SqlType::Float),
    ("Float4", SqlType::Float),
    ("Double", SqlType::Double),
    ("Float8", SqlType::Double),
    ("Text", SqlType::Text),
    ("VarChar", SqlType::Text),
    ("Varchar", SqlType::Text),
    ("Binary", SqlType::Binary),
    ("Blob", SqlType::Binary),
    ("Timestamp", SqlType::Timestamp),
    ("Date", SqlType::Date),
    ("Time", SqlType::Time),
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
    let located = |err: syn::Error, expected: &str| {
        let start = err.span().start();
        Error::input(format!("{} is malformed: {err}", file_name(path)))
            .at(Location::in_source(
                path,
                source,
                start.line,
                start.column + 1,
            ))
            .help(expected.to_owned())
    };
    let file = syn::parse_file(source).map_err(|e| located(e, "schema.rs must be valid Rust"))?;
    let custom_types = custom_types(&file.items);
    let mut reader = Reader {
        path,
        source,
        custom_types,
        tables: BTreeMap::new(),
        rust_names: HashMap::new(),
    };
    let mut joinables = Vec::new();
    for item in &file.items {
        let syn::Item::Macro(item) = item else {
            continue;
        };
        let Some(name) = item.mac.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        match name.as_str() {
            "table" => {
                let decl = syn::parse2::<diesel_table_macro_syntax::TableDecl>(
                    item.mac.tokens.clone(),
                )
                .map_err(|e| {
                    located(
                        e,
                        "expected `name (primary, key) { column -> Type, ... }` as in diesel::table!",
                    )
                })?;
                reader.table(decl)?;
            }
            "joinable" => {
                let joinable = syn::parse2::<JoinableDecl>(item.mac.tokens.clone())
                    .map_err(|e| located(e, "expected `child -> parent (foreign_key_column)`"))?;
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

struct Reader<'a> {
    path: &'a Path,
    source: &'a str,
    custom_types: HashMap<String, SqlType>,
    tables: BTreeMap<String, Table>,
    /// Per table's Rust name: its SQL name and its columns' Rust-to-SQL names.
    rust_names: HashMap<String, (String, HashMap<String, String>)>,
}

impl Reader<'_> {
    fn error_at(&self, span: Span, message: String) -> Error {
        let start = span.start();
        Error::input(message).at(Location::in_source(
            self.path,
            self.source,
            start.line,
            start.column + 1,
        ))
    }

    fn table(&mut self, decl: diesel_table_macro_syntax::TableDecl) -> Result<()> {
        let rust_name = decl.table_name.to_string();
        if self.tables.contains_key(&decl.sql_name) {
            return Err(self.error_at(
                decl.table_name.span(),
                format!("table `{}` is declared twice", decl.sql_name),
            ));
        }
        let mut columns = Vec::new();
        let mut column_names = HashMap::new();
        for def in &decl.column_defs {
            if column_names.contains_key(&def.column_name.to_string()) {
                return Err(self.error_at(
                    def.column_name.span(),
                    format!(
                        "column `{}` is declared twice in table `{rust_name}`",
                        def.column_name
                    ),
                ));
            }
            let (ty, nullable) = self.sql_type(&def.tpe)?;
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
            column_names.insert(def.column_name.to_string(), def.sql_name.clone());
            columns.push(Column {
                name: def.sql_name.clone(),
                ty,
                nullable,
                max_length,
            });
        }
        let primary_key = match &decl.primary_keys {
            Some(pk) => pk
                .keys
                .iter()
                .map(|key| {
                    column_names.get(&key.to_string()).cloned().ok_or_else(|| {
                        self.error_at(
                            key.span(),
                            format!("primary key `{key}` is not a column of table `{rust_name}`"),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            None => vec![column_names.get("id").cloned().ok_or_else(|| {
                self.error_at(
                    decl.table_name.span(),
                    format!("table `{rust_name}` names no primary key and has no `id` column"),
                )
                .help(format!(
                    "name its primary key after the table name: `{rust_name} (column) {{ ... }}`"
                ))
            })?],
        };
        self.rust_names
            .insert(rust_name, (decl.sql_name.clone(), column_names));
        self.tables.insert(
            decl.sql_name.clone(),
            Table {
                name: decl.sql_name,
                columns,
                primary_key,
                joinables: Default::default(),
            },
        );
        Ok(())
    }

    /// Resolves a column type such as `Nullable<diesel::sql_types::Text>`.
    fn sql_type(&self, path: &syn::TypePath) -> Result<(SqlType, bool)> {
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
            let (ty, nullable) = self.sql_type(inner)?;
            if nullable {
                return Err(self.error_at(segment.span(), "`Nullable` is nested".into()));
            }
            return Ok((ty, true));
        }
        if let Some((_, ty)) = KNOWN_TYPES.iter().find(|(known, _)| *known == name) {
            return Ok((*ty, false));
        }
        if let Some(ty) = self.custom_types.get(&name) {
            return Ok((*ty, false));
        }
        let mut err = self.error_at(
            segment.ident.span(),
            format!("unknown SQL type `{name}` for SQLite"),
        );
        if let Some(suggestion) = closest(&name) {
            err = err.note(format!("did you mean `{suggestion}`?"));
        }
        Err(err.help(
            "use a type diesel print-schema writes for SQLite: Bool, SmallInt, Integer, BigInt, Float, Double, Text, Binary, Timestamp, Date or Time; or declare a custom type in a `sql_types` module with #[diesel(sqlite_type(name = \"Text\"))]",
        ))
    }

    fn joinable(&mut self, decl: JoinableDecl) -> Result<()> {
        let lookup = |ident: &syn::Ident| {
            self.rust_names.get(&ident.to_string()).ok_or_else(|| {
                self.error_at(
                    ident.span(),
                    format!("`joinable!` names `{ident}`, which no `table!` declares"),
                )
            })
        };
        let (child, child_columns) = lookup(&decl.child)?;
        let (parent, _) = lookup(&decl.parent)?;
        let column = child_columns.get(&decl.column.to_string()).ok_or_else(|| {
            self.error_at(
                decl.column.span(),
                format!(
                    "`{}` is not a column of table `{}`",
                    decl.column, decl.child
                ),
            )
        })?;
        if self.tables[parent].primary_key.len() != 1 {
            return Err(self.error_at(
                decl.parent.span(),
                format!(
                    "`joinable!` needs `{}` to have a single-column primary key",
                    decl.parent
                ),
            ));
        }
        let joinable = Joinable {
            column: column.clone(),
            parent: parent.clone(),
        };
        let child = child.clone();
        self.tables
            .get_mut(&child)
            .expect("looked up above")
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
    KNOWN_TYPES
        .iter()
        .map(|(known, _)| {
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
}
