//! Reading `diesel.toml` as diesel_cli 2.3 reads it.
//!
//! `[print_schema]` holds either one schema's keys, or named sections `[print_schema.KEY]`,
//! each with its own `file`, `filter`, `patch_file`, ... (its keys at the top level then form
//! the section diesel_cli calls `default`). diesel_cli rejects unknown keys, so the same key
//! set is accepted here, and nothing of the tool's own is ever stored in the file.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::schema::introspect::TableFilter;

/// The file that marks a project's root.
pub const CONFIG_FILE: &str = "diesel.toml";

/// One `[print_schema]` (or `[print_schema.KEY]`) section: a schema file, the tables
/// print-schema writes into it, and how.
#[derive(Debug, Clone)]
pub struct Section {
    /// `None` for a project with one section; else the KEY (`default` for the top-level
    /// keys), as `--schema-key` names it.
    pub key: Option<String>,
    /// The schema file print-schema writes for this section.
    pub file: PathBuf,
    /// The tables it describes.
    pub filter: TableFilter,
    /// `patch_file`: a unified diff applied to print-schema's output before it is written.
    pub patch_file: Option<PathBuf>,
    /// Which tables print-schema lists in `allow_tables_to_appear_in_same_query!`.
    pub allow_tables: AllowTables,
}

impl Section {
    /// The section as diesel.toml names it, for messages.
    pub fn header(&self) -> String {
        match &self.key {
            Some(key) => format!("[print_schema.{key}]"),
            None => "[print_schema]".to_owned(),
        }
    }
}

/// `allow_tables_to_appear_in_same_query_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowTables {
    /// Every table in one invocation (diesel_cli's default).
    AllTables,
    /// One invocation per group of tables related by foreign keys.
    FkRelatedTables,
    /// No invocation.
    None,
}

/// What `diesel.toml` says, paths resolved from the project root.
pub(super) struct Config {
    /// Every `[print_schema]` section that names a file, by key (`default` first).
    pub sections: Vec<Section>,
    /// `[migrations_directory] dir`, else Diesel's `migrations`.
    pub versions_dir: PathBuf,
    /// `sqlite_integer_primary_key_is_bigint`, the same in every section.
    pub integer_primary_key_is_bigint: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    print_schema: Option<toml::Table>,
    #[serde(default)]
    migrations_directory: Option<RawMigrationsDirectory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrationsDirectory {
    dir: PathBuf,
}

/// Every key diesel_cli 2.3 accepts in a `[print_schema]` section; the ones the tool does not
/// need are kept only so that a valid file is not refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawPrintSchema {
    file: Option<PathBuf>,
    filter: Option<RawFilter>,
    sqlite_integer_primary_key_is_bigint: Option<bool>,
    with_docs: Option<toml::Value>,
    allow_tables_to_appear_in_same_query_config: Option<String>,
    column_sorting: Option<toml::Value>,
    schema: Option<toml::Value>,
    patch_file: Option<PathBuf>,
    import_types: Option<toml::Value>,
    generate_missing_sql_type_definitions: Option<toml::Value>,
    except_custom_type_definitions: Option<toml::Value>,
    custom_type_derives: Option<toml::Value>,
    pg_domains_as_custom_types: Option<toml::Value>,
    include_views: Option<toml::Value>,
    experimental_infer_nullable_for_views: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    only_tables: Option<Vec<String>>,
    except_tables: Option<Vec<String>>,
}

/// Reads the `diesel.toml` in `root`.
pub(super) fn read(root: &Path) -> Result<Config> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    let malformed = |message: String, at: Option<usize>| {
        let mut err = Error::input(format!("{CONFIG_FILE} is malformed: {message}"))
            .help("diesel_cli reads this file too and rejects unknown keys; see https://diesel.rs/guides/configuring-diesel-cli");
        if let Some(offset) = at {
            err = err.at(Location::at_offset(&path, &text, offset));
        }
        err
    };
    let raw: RawConfig = toml::from_str(&text)
        .map_err(|e| malformed(e.message().to_owned(), e.span().map(|s| s.start)))?;
    let print_schema = raw.print_schema.ok_or_else(|| {
        Error::input(format!("{CONFIG_FILE} has no [print_schema] section"))
            .help("add\n  [print_schema]\n  file = \"schema/schema.rs\"")
    })?;
    let mut default = toml::Table::new();
    let mut named = Vec::new();
    for (key, value) in print_schema {
        match value {
            // `filter` is the one key of a section whose value is a table.
            toml::Value::Table(section) if key != "filter" => named.push((key, section)),
            value => {
                default.insert(key, value);
            }
        }
    }
    let multiple = !named.is_empty();
    let mut raw_sections = vec![("default".to_owned(), default)];
    raw_sections.extend(named);
    let mut sections = Vec::new();
    let mut bigint: Option<(String, bool)> = None;
    for (key, table) in raw_sections {
        let header = if key == "default" {
            "[print_schema]".to_owned()
        } else {
            format!("[print_schema.{key}]")
        };
        let section = RawPrintSchema::deserialize(toml::Value::Table(table)).map_err(|e| {
            let message = e.to_string();
            let offset = field_named(&message).and_then(|field| offset_of_key(&text, &field));
            malformed(format!("{header}: {}", message.trim()), offset)
        })?;
        let this_bigint = section
            .sqlite_integer_primary_key_is_bigint
            .unwrap_or(false);
        let Some(file) = section.file else {
            // diesel_cli writes nothing for a section without a file; the top-level keys of a
            // file with named sections often hold none.
            if multiple {
                continue;
            }
            return Err(
                Error::input(format!("{CONFIG_FILE} does not say where schema.rs is"))
                    .help("add `file = \"schema/schema.rs\"` under [print_schema]"),
            );
        };
        match &bigint {
            Some((other, value)) if *value != this_bigint => {
                return Err(Error::input(format!(
                    "{CONFIG_FILE}: {header} and {other} disagree on sqlite_integer_primary_key_is_bigint"
                ))
                .help("the tool reads head once for every section: give every section the same value"))
            }
            _ => bigint = Some((header.clone(), this_bigint)),
        }
        let allow_tables = match section
            .allow_tables_to_appear_in_same_query_config
            .as_deref()
        {
            None | Some("all_tables") => AllowTables::AllTables,
            Some("fk_related_tables") => AllowTables::FkRelatedTables,
            Some("none") => AllowTables::None,
            Some(other) => {
                return Err(malformed(
                    format!("{header}: allow_tables_to_appear_in_same_query_config = \"{other}\" is not one of all_tables, fk_related_tables, none"),
                    offset_of_key(&text, "allow_tables_to_appear_in_same_query_config"),
                ))
            }
        };
        sections.push(Section {
            key: multiple.then(|| key.clone()),
            file: root.join(file),
            filter: filter(section.filter, &header)?,
            patch_file: section.patch_file.map(|p| root.join(p)),
            allow_tables,
        });
    }
    if sections.is_empty() {
        return Err(Error::input(format!(
            "no [print_schema] section of {CONFIG_FILE} names a file"
        ))
        .help("add `file = \"src/schema.rs\"` to the section that describes your tables"));
    }
    Ok(Config {
        sections,
        versions_dir: root.join(
            raw.migrations_directory
                .map_or_else(|| PathBuf::from("migrations"), |m| m.dir),
        ),
        integer_primary_key_is_bigint: bigint.is_some_and(|(_, value)| value),
    })
}

/// The section's table filter, as diesel_cli reads it.
fn filter(raw: Option<RawFilter>, header: &str) -> Result<TableFilter> {
    Ok(match raw {
        None => TableFilter::All,
        Some(RawFilter {
            only_tables: Some(_),
            except_tables: Some(_),
        }) => {
            return Err(Error::input(format!(
                "{CONFIG_FILE}: {header} `filter` sets both only_tables and except_tables"
            ))
            .help("keep one of them, as diesel_cli requires"))
        }
        Some(RawFilter {
            only_tables: Some(patterns),
            ..
        }) => TableFilter::Only(compile(&patterns)?),
        Some(RawFilter {
            except_tables: Some(patterns),
            ..
        }) => TableFilter::Except(compile(&patterns)?),
        Some(_) => TableFilter::All,
    })
}

fn compile(patterns: &[String]) -> Result<Vec<Regex>> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                Error::input(format!(
                    "{CONFIG_FILE}: table filter `{p}` is not a valid regex: {e}"
                ))
            })
        })
        .collect()
}

/// The field serde names in "unknown field `x`, expected ...".
fn field_named(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// Where `key = ...` is first written in the file.
fn offset_of_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    None
}
