//! Finding a Diesel project and reading its `diesel.toml`.
//!
//! The tool takes every path from `diesel.toml`, the file diesel_cli reads, so both tools
//! work on the same tree (`config`); the oldest SQLite its migrations run on is a Cargo setting
//! (`oldest_sqlite`). A project may split its tables over several schema
//! files, each a `[print_schema.KEY]` section; `target` reads what they declare together.

use std::fs;
use std::path::{Path, PathBuf};

mod config;
pub mod oldest_sqlite;
pub mod target;

pub use config::{AllowTables, Section, CONFIG_FILE};

use crate::error::{Error, Result};
use crate::schema::introspect::{Database, TableFilter};
use crate::schema::model::{self, Schema};

/// A Diesel project: where its schema files and migrations are, and how print-schema reads
/// its database.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `diesel.toml`; the paths in it are resolved from here.
    pub root: PathBuf,
    /// The first section's schema file: `objects.sql` and the diagram live beside it.
    pub schema_file: PathBuf,
    /// Every `[print_schema]` section with a file; one for most projects.
    pub sections: Vec<Section>,
    /// The migrations directory: `[migrations_directory] dir`, else Diesel's `migrations`.
    pub versions_dir: PathBuf,
    /// Which tables print-schema describes: those any section's filter keeps. No other is
    /// managed.
    pub filter: TableFilter,
    /// `sqlite_integer_primary_key_is_bigint`: print-schema reads rowid keys, and columns
    /// referencing them, as `BigInt`.
    pub integer_primary_key_is_bigint: bool,
}

impl Project {
    /// The database `db` as the project's schema files describe it: the tables any section
    /// keeps, read by print-schema's rules, with no `joinable!` between two tables that no
    /// one section holds both of. print-schema writes none there (each section's filter
    /// removes the other side), so its absence is no change, and no foreign key is ever
    /// dropped because a section's file cannot name it.
    pub fn describe(&self, db: &Database) -> Result<Schema> {
        let mut schema = self.describe_with_every_joinable(db)?;
        self.hide_undeclarable_joinables(&mut schema);
        Ok(schema)
    }

    /// `describe`, keeping every joinable: a table renamed into another section may make
    /// one declarable, so `generate` hides them only once head has schema.rs's names.
    pub fn describe_with_every_joinable(&self, db: &Database) -> Result<Schema> {
        model::from_database(
            &db.filtered(&self.filter),
            self.integer_primary_key_is_bigint,
        )
    }

    /// Takes out of `schema` the joinables no schema file can declare: those between two
    /// tables no one section holds both of.
    pub fn hide_undeclarable_joinables(&self, schema: &mut Schema) {
        if self.sections.len() < 2 {
            return;
        }
        for table in schema.tables.values_mut() {
            let child = table.name.clone();
            table.joinables.retain(|joinable| {
                self.sections.iter().any(|section| {
                    section.filter.includes(&child) && section.filter.includes(&joinable.parent)
                })
            });
        }
    }

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
        let config = config::read(root)?;
        let filter = match config.sections.as_slice() {
            [only] => only.filter.clone(),
            several => TableFilter::Any(several.iter().map(|s| s.filter.clone()).collect()),
        };
        Ok(Project {
            root: root.to_path_buf(),
            schema_file: config.sections[0].file.clone(),
            sections: config.sections,
            versions_dir: config.versions_dir,
            filter,
            integer_primary_key_is_bigint: config.integer_primary_key_is_bigint,
        })
    }

    /// The project restricted to the section `key` names, as diesel_cli's `--schema-key`
    /// restricts print-schema: the other sections' tables are then not managed.
    pub fn with_schema_key(mut self, key: &str) -> Result<Project> {
        let Some(section) = self
            .sections
            .iter()
            .find(|s| s.key.as_deref().unwrap_or("default") == key)
            .cloned()
        else {
            let keys: Vec<String> = self
                .sections
                .iter()
                .map(|s| s.key.clone().unwrap_or_else(|| "default".to_owned()))
                .collect();
            return Err(Error::input(format!(
                "{CONFIG_FILE} has no [print_schema.{key}] section with a file"
            ))
            .help(format!("use one of: {}", keys.join(", "))));
        };
        self.schema_file = section.file.clone();
        self.filter = section.filter.clone();
        self.sections = vec![section];
        Ok(self)
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

    const TWO_SECTIONS: &str = "[print_schema]\nwith_docs = true\n\n[print_schema.users]\nfile = \"schema/users.rs\"\nfilter = { only_tables = [\"^users$\"] }\n\n[print_schema.audit]\nfile = \"schema/audit.rs\"\npatch_file = \"schema/audit.patch\"\nfilter = { only_tables = [\"^audit\"] }\n";

    #[test]
    fn named_sections_each_keep_their_file_filter_and_patch() {
        let (dir, project) = project_with(TWO_SECTIONS);
        let project = project.unwrap();
        let keys: Vec<Option<&str>> = project.sections.iter().map(|s| s.key.as_deref()).collect();
        assert_eq!(
            keys,
            [Some("audit"), Some("users")],
            "the top level names no file"
        );
        assert_eq!(project.schema_file, dir.path().join("schema/audit.rs"));
        assert_eq!(
            project.sections[0].patch_file.as_deref(),
            Some(dir.path().join("schema/audit.patch").as_path())
        );
        assert!(project.filter.includes("users") && project.filter.includes("audit_log"));
        assert!(!project.filter.includes("posts"));

        let users = project.clone().with_schema_key("users").unwrap();
        assert_eq!(users.schema_file, dir.path().join("schema/users.rs"));
        assert!(!users.filter.includes("audit_log"));
        let err = project.with_schema_key("nope").unwrap_err();
        assert!(
            err.help.as_deref().unwrap().contains("audit, users"),
            "{err}"
        );
    }

    #[test]
    fn a_section_is_read_as_strictly_as_diesel_reads_it() {
        let (_dir, project) =
            project_with(&TWO_SECTIONS.replace("patch_file", "my_key = 1\npatch_file"));
        let err = project.unwrap_err();
        assert!(err.message.contains("[print_schema.audit]"), "{err}");
        assert!(err.message.contains("my_key"), "{err}");
        assert_eq!(err.location.as_ref().unwrap().line, 10);

        let (_dir, project) = project_with(&TWO_SECTIONS.replace(
            "file = \"schema/users.rs\"",
            "file = \"schema/users.rs\"\nsqlite_integer_primary_key_is_bigint = true",
        ));
        let err = project.unwrap_err();
        assert!(err.message.contains("disagree"), "{err}");
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
