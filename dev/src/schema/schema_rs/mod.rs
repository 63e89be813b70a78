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
//!
//! Column types are the names `diesel::sql_types` exports, with or without that path, as
//! `schema::types` lists them: each alias is read as the type it aliases, so the migration
//! declares the column with that type's SQL name and print-schema reads it back as the same
//! Diesel type. Types print-schema never writes for SQLite are refused, because `check` could
//! never pass.

mod custom;
mod joinable;
pub mod kept;
mod suggest;
mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use proc_macro2::Span;

use crate::error::{Error, Location, Result};
use crate::schema::model::{Schema, Table};
use crate::schema::types::SqlType;

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
    Ok(parse_file(path, source)?.schema)
}

/// What a schema file declares beyond its tables: what `check` compares with what
/// print-schema would write.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Parsed {
    /// The tables, by SQL name.
    pub schema: Schema,
    /// The Rust names of the tables, in file order.
    pub rust_tables: Vec<String>,
    /// The Rust names of the tables some `joinable!` joins.
    pub joined: BTreeSet<String>,
    /// Each `allow_tables_to_appear_in_same_query!` invocation's tables, by Rust name.
    pub allow_tables: Vec<Vec<String>>,
}

/// `parse`, with what the file declares beyond its tables.
pub fn parse_file(path: &Path, source: &str) -> Result<Parsed> {
    let source = Source { path, text: source };
    let located = |err: syn::Error, end: Option<Span>, expected: &str| {
        Error::input(format!("{} is malformed: {err}", file_name(path)))
            .at(source.locate(err.span(), end))
            .help(expected.to_owned())
    };
    let file = syn::parse_file(source.text)
        .map_err(|e| located(e, None, "schema.rs must be valid Rust"))?;
    let custom_types = custom::custom_types(&file.items);
    let mut reader = Reader {
        source,
        custom_types,
        tables: BTreeMap::new(),
        declared: HashMap::new(),
        joined_pairs: BTreeSet::new(),
    };
    let Macros {
        joinables,
        allow_tables,
        allowed_here,
    } = read_macros(&file, &mut reader, &located)?;
    for (name, span) in allowed_here {
        let bare = name.trim_start_matches("r#");
        if !reader.declared.contains_key(bare) {
            return Err(reader
                .error_at(
                    span,
                    format!(
                        "`allow_tables_to_appear_in_same_query!` names `{name}`, which no `table!` in this file declares"
                    ),
                )
                .help("declare the table, or take it out of the list: Diesel does not compile this"));
        }
    }
    let mut joined = BTreeSet::new();
    for joinable in joinables {
        joined.insert(joinable.child.to_string());
        joined.insert(joinable.parent.to_string());
        reader.joinable(joinable)?;
    }
    let mut rust_tables: Vec<(usize, String)> = reader
        .declared
        .iter()
        .map(|(rust, declared)| (declared.order, rust.clone()))
        .collect();
    rust_tables.sort();
    Ok(Parsed {
        schema: Schema {
            tables: reader.tables,
        },
        rust_tables: rust_tables.into_iter().map(|(_, name)| name).collect(),
        joined,
        allow_tables,
    })
}

/// What the macros of schema.rs other than `table!` declare.
#[derive(Default)]
struct Macros {
    joinables: Vec<joinable::JoinableDecl>,
    /// Each `allow_tables_to_appear_in_same_query!` invocation's tables, by Rust name.
    allow_tables: Vec<Vec<String>>,
    /// Names `allow_tables_to_appear_in_same_query!` gives as bare identifiers: tables of
    /// this file, or Diesel does not compile it.
    allowed_here: Vec<(String, Span)>,
}

/// Reads every `table!` into `reader`, and returns the other macros Diesel's schema holds.
fn read_macros(
    file: &syn::File,
    reader: &mut Reader,
    located: &dyn Fn(syn::Error, Option<Span>, &str) -> Error,
) -> Result<Macros> {
    let mut macros = Macros::default();
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
            "allow_tables_to_appear_in_same_query" => {
                use syn::parse::Parser;
                let paths =
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated
                        .parse2(item.mac.tokens.clone())
                        .map_err(|e| located(e, end, "expected table names separated by commas"))?;
                macros.allowed_here.extend(
                    paths
                        .iter()
                        .filter_map(|p| p.get_ident())
                        .map(|ident| (ident.to_string(), ident.span())),
                );
                macros.allow_tables.push(
                    paths
                        .iter()
                        .filter_map(|p| p.segments.last().map(|s| s.ident.to_string()))
                        .collect(),
                );
            }
            "joinable" => {
                let joinable = syn::parse2::<joinable::JoinableDecl>(item.mac.tokens.clone())
                    .map_err(|e| {
                        located(e, end, "expected `child -> parent (foreign_key_column)`")
                    })?;
                macros.joinables.push(joinable);
            }
            _ => {}
        }
    }
    Ok(macros)
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
    /// Where in the file it is, among the tables.
    order: usize,
    sql_name: String,
    /// By Rust column name.
    columns: HashMap<String, DeclaredColumn>,
    /// Rust names of the primary-key columns.
    primary_key: Vec<String>,
}

/// A column of a `table!`, for the `joinable!`s that name it by its Rust name.
struct DeclaredColumn {
    sql_name: String,
    ty: ColumnType,
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

/// What the macros read so far say: `joinable!` is checked against every `table!`, wherever
/// in the file it is declared.
struct Reader<'a> {
    source: Source<'a>,
    custom_types: HashMap<String, custom::Custom>,
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
}

#[cfg(test)]
mod tests;
