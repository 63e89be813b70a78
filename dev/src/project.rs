//! Finding a Diesel project and reading its `diesel.toml`.
//!
//! The tool takes every path from `diesel.toml`, the file diesel_cli reads, so both tools
//! work on the same tree. diesel_cli rejects unknown keys, so the same key set is accepted
//! here and nothing of the tool's own is ever stored in that file.

use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::schema::introspect::TableFilter;

/// The file that marks a project's root.
pub const CONFIG_FILE: &str = "diesel.toml";

/// A Diesel project: where its schema file and migrations are, and how print-schema reads
/// its database.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `diesel.toml`; the paths in it are resolved from here.
    pub root: PathBuf,
    /// The schema.rs file, from `[print_schema] file`.
    pub schema_file: PathBuf,
    /// The migrations directory: `[migrations_directory] dir`, else Diesel's `migrations`.
    pub versions_dir: PathBuf,
    /// Which tables print-schema describes (`[print_schema] filter`); no other is managed.
    pub filter: TableFilter,
    /// `sqlite_integer_primary_key_is_bigint`: print-schema reads rowid keys, and columns
    /// referencing them, as `BigInt`.
    pub integer_primary_key_is_bigint: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    print_schema: Option<RawPrintSchema>,
    #[serde(default)]
    migrations_directory: Option<RawMigrationsDirectory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrationsDirectory {
    dir: PathBuf,
}

/// Every key diesel_cli 2.3 accepts in `[print_schema]`; the ones the tool does not need are
/// kept only so that a valid file is not refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawPrintSchema {
    file: Option<PathBuf>,
    filter: Option<RawFilter>,
    sqlite_integer_primary_key_is_bigint: Option<bool>,
    with_docs: Option<toml::Value>,
    allow_tables_to_appear_in_same_query_config: Option<toml::Value>,
    column_sorting: Option<toml::Value>,
    schema: Option<toml::Value>,
    patch_file: Option<toml::Value>,
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

impl Project {
    /// `objects.sql` beside schema.rs: the indexes, views and triggers schema.rs cannot
    /// declare, when the project keeps them there.
    pub fn objects_file(&self) -> PathBuf {
        self.schema_file
            .parent()
            .unwrap_or(Path::new("."))
            .join(crate::schema::objects_sql::OBJECTS_FILE)
    }

    /// Finds the project containing `start` by walking up to the nearest `diesel.toml`.
    pub fn discover(start: &Path) -> Result<Project> {
        Project::load(&Project::root_above(start)?)
    }

    /// The nearest directory at or above `start` that holds a `diesel.toml`, as git finds
    /// its work tree.
    pub fn root_above(start: &Path) -> Result<PathBuf> {
        let start = start
            .canonicalize()
            .map_err(|e| Error::io("open the directory", start, e))?;
        let root = start
            .ancestors()
            .find(|dir| dir.join(CONFIG_FILE).is_file())
            .ok_or_else(|| {
                Error::input(format!(
                    "no {CONFIG_FILE} in `{}` or any directory above it",
                    start.display()
                ))
                .help(format!(
                    "run inside a Diesel project, pass `-C <project dir>`, or create {CONFIG_FILE} with\n  [print_schema]\n  file = \"schema/schema.rs\"\n\n  [migrations_directory]\n  dir = \"versions\""
                ))
            })?;
        Ok(root.to_path_buf())
    }

    /// Reads the project whose `diesel.toml` is in `root`.
    pub fn load(root: &Path) -> Result<Project> {
        let config_path = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&config_path)
            .map_err(|e| Error::io("read", &config_path, e))?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let mut err = Error::input(format!("{CONFIG_FILE} is malformed: {}", e.message()))
                .help("diesel_cli reads this file too and rejects unknown keys; see https://diesel.rs/guides/configuring-diesel-cli");
            if let Some(span) = e.span() {
                err = err.at(Location::at_offset(&config_path, &text, span.start));
            }
            err
        })?;
        let print_schema = raw.print_schema.ok_or_else(|| {
            Error::input(format!("{CONFIG_FILE} has no [print_schema] section"))
                .help("add\n  [print_schema]\n  file = \"schema/schema.rs\"")
        })?;
        let schema_file = print_schema.file.ok_or_else(|| {
            Error::input(format!("{CONFIG_FILE} does not say where schema.rs is"))
                .help("add `file = \"schema/schema.rs\"` under [print_schema]")
        })?;
        let versions_dir = raw
            .migrations_directory
            .map_or_else(|| PathBuf::from("migrations"), |m| m.dir);
        let filter = match print_schema.filter {
            None => TableFilter::All,
            Some(RawFilter {
                only_tables: Some(_),
                except_tables: Some(_),
            }) => {
                return Err(Error::input(format!(
                    "{CONFIG_FILE}: `filter` sets both only_tables and except_tables"
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
        };
        Ok(Project {
            root: root.to_path_buf(),
            schema_file: root.join(schema_file),
            versions_dir: root.join(versions_dir),
            filter,
            integer_primary_key_is_bigint: print_schema
                .sqlite_integer_primary_key_is_bigint
                .unwrap_or(false),
        })
    }

    /// Refuses to write `path` when a symbolic link would carry the write elsewhere: the
    /// file itself being a link, or its directory resolving outside the project. A command
    /// writes into the project and nowhere else.
    pub fn ensure_writable_inside(&self, path: &Path) -> Result<()> {
        let shown = self.display(path).to_string();
        crate::support::files::refuse_link(path, &shown)?;
        let root = fs::canonicalize(&self.root).map_err(|e| Error::io("resolve", &self.root, e))?;
        // The nearest existing ancestor decides: the rest would be created inside it.
        let mut dir = path.parent();
        while let Some(d) = dir {
            if let Ok(real) = fs::canonicalize(d) {
                if !real.starts_with(&root) {
                    return Err(Error::input(format!(
                        "`{shown}` would be written outside the project: `{}` leads to `{}` through a symbolic link",
                        self.display(d),
                        real.display()
                    ))
                    .help("dev writes only inside the project; make that directory a real one inside it"));
                }
                return Ok(());
            }
            dir = d.parent();
        }
        Ok(())
    }

    /// A path shown relative to the project root, as a user would type it there.
    pub fn display<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.root).unwrap_or(path).display()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn project_with(config: &str) -> (tempfile::TempDir, Result<Project>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), config).unwrap();
        let project = Project::load(dir.path());
        (dir, project)
    }

    #[test]
    fn reads_paths_and_filter_relative_to_the_config() {
        let (dir, project) = project_with(
            "[print_schema]\nfile = \"schema/schema.rs\"\nfilter = { except_tables = [\"^audit_\"] }\n\n[migrations_directory]\ndir = \"versions\"\n",
        );
        let project = project.unwrap();
        assert_eq!(project.schema_file, dir.path().join("schema/schema.rs"));
        assert_eq!(project.versions_dir, dir.path().join("versions"));
        assert!(!project.filter.includes("audit_log"));
        assert!(project.filter.includes("users"));
    }

    #[test]
    fn migrations_directory_defaults_like_diesel() {
        let (dir, project) = project_with("[print_schema]\nfile = \"src/schema.rs\"\n");
        assert_eq!(project.unwrap().versions_dir, dir.path().join("migrations"));
    }

    #[test]
    fn unknown_key_is_refused_with_its_position() {
        let (_dir, project) = project_with("[print_schema]\nfile = \"s.rs\"\nmy_tool_key = true\n");
        let err = project.unwrap_err();
        assert!(err.message.contains("my_tool_key"), "{err}");
        assert_eq!(err.location.as_ref().unwrap().line, 3);
    }

    #[test]
    fn missing_schema_file_key_says_what_to_add() {
        let (_dir, project) = project_with("[migrations_directory]\ndir = \"versions\"\n");
        let err = project.unwrap_err();
        assert!(err.help.as_ref().unwrap().contains("[print_schema]"));
    }

    #[test]
    fn discover_walks_up_and_fails_clearly_without_config() {
        let (dir, _) = project_with("[print_schema]\nfile = \"schema.rs\"\n");
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let found = Project::discover(&nested).unwrap();
        assert_eq!(found.root, dir.path().canonicalize().unwrap());

        let empty = tempfile::tempdir().unwrap();
        let err = Project::discover(empty.path()).unwrap_err();
        assert!(err.message.contains("no diesel.toml"), "{err}");
    }
}
