//! The commands, each a straight pipeline over the stages: read schema.rs, scan versions,
//! upgrade a disposable database to head, introspect, diff; then (generate) plan, render,
//! prove and write.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diff::{diff, Change};
use crate::error::{Error, Result};
use crate::introspect::{self, Database};
use crate::model::{self, Schema};
use crate::plan::{self, Defaults};
use crate::project::Project;
use crate::render::{self, Files, Header};
use crate::scratch::Scratch;
use crate::versions::{self, Version};
use crate::{db, prove, replay, schema_rs, write};

/// Head of `versions/` on a disposable database, compared with schema.rs.
pub struct Comparison {
    pub versions: Vec<Version>,
    pub target: Schema,
    pub head_db: Database,
    pub changes: Vec<Change>,
    scratch: Scratch,
    conn: diesel::SqliteConnection,
    inspector: rusqlite::Connection,
}

/// Stages 1 to 5: everything `check` does.
pub fn compare(project: &Project) -> Result<Comparison> {
    let mut target = schema_rs::read(&project.schema_file)?;
    // Tables the print_schema filter leaves out are not managed, on either side.
    target
        .tables
        .retain(|name, _| project.filter.includes(name));
    let versions = versions::scan(&project.versions_dir)?;
    let scratch = Scratch::create()?;
    let conn = replay::upgrade_to_head(&scratch.database(), &project.versions_dir, &versions)?;
    let inspector = db::open_rusqlite(&scratch.database())?;
    let head_db = introspect::inspect(&inspector, &project.filter)?;
    let head = model::from_database(&head_db, project.integer_primary_key_is_bigint)?;
    let changes = diff(&head, &target);
    Ok(Comparison {
        versions,
        target,
        head_db,
        changes,
        scratch,
        conn,
        inspector,
    })
}

/// What `generate` was asked for.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    pub message: String,
    /// Write an empty migration for hand-written SQL.
    pub empty: bool,
    pub defaults: Defaults,
}

/// What `generate` did.
#[derive(Debug)]
pub enum Generated {
    NoChanges,
    Written { dir: PathBuf, changes: Vec<Change> },
}

/// Generates, proves and writes the migration that brings head to schema.rs.
pub fn generate(project: &Project, options: &GenerateOptions) -> Result<Generated> {
    let slug = write::slug(&options.message)?;
    let mut comparison = compare(project)?;
    let version = write::next_version(time::OffsetDateTime::now_utc(), &comparison.versions)?;
    let dir_name = format!("{version}_{slug}");
    if options.empty {
        let files = render::render_empty(options.message.trim(), &version);
        let dir = write::publish(&project.versions_dir, &dir_name, &files)?;
        return Ok(Generated::Written {
            dir,
            changes: Vec::new(),
        });
    }
    if comparison.changes.is_empty() {
        return Ok(Generated::NoChanges);
    }
    check_defaults(&options.defaults, &comparison.changes)?;
    let plan = plan::plan(
        &comparison.changes,
        &comparison.head_db,
        &comparison.target,
        &options.defaults,
        project.integer_primary_key_is_bigint,
        &comparison.inspector,
    )?;
    let files: Files = render::render(
        &Header {
            message: options.message.trim(),
            version: &version,
            changes: &comparison.changes,
        },
        &plan,
    );
    let stage = comparison.scratch.path().join("candidate");
    prove::prove(
        &mut comparison.conn,
        &comparison.inspector,
        project,
        &comparison.target,
        &stage,
        &dir_name,
        &files,
    )?;
    let dir = write::publish(&project.versions_dir, &dir_name, &files)?;
    Ok(Generated::Written {
        dir,
        changes: comparison.changes,
    })
}

/// Every `--default` must name a column this migration adds as NOT NULL.
fn check_defaults(defaults: &Defaults, changes: &[Change]) -> Result<()> {
    let added: BTreeMap<String, ()> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AddColumn { table, column, .. } => {
                Some((format!("{table}.{}", column.name), ()))
            }
            _ => None,
        })
        .collect();
    for key in defaults.keys() {
        if !added.contains_key(key) {
            return Err(Error::input(format!(
                "`--default {key}=...` names no column this migration adds"
            ))
            .help(if added.is_empty() {
                "this migration adds no columns; drop the flag".to_owned()
            } else {
                format!(
                    "it adds: {}",
                    added.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }));
        }
    }
    Ok(())
}

/// Parses `TABLE.COLUMN=SQL_EXPR`.
pub fn parse_default(arg: &str) -> std::result::Result<(String, String), String> {
    let (key, expr) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected TABLE.COLUMN=SQL_EXPR, got `{arg}`"))?;
    let (table, column) = key
        .split_once('.')
        .ok_or_else(|| format!("expected TABLE.COLUMN before `=`, got `{key}`"))?;
    if table.is_empty() || column.is_empty() || expr.trim().is_empty() {
        return Err(format!("expected TABLE.COLUMN=SQL_EXPR, got `{arg}`"));
    }
    Ok((key.to_owned(), expr.trim().to_owned()))
}

/// A message summarising `changes`, for the `generate` command `check` suggests.
pub fn suggested_message(changes: &[Change]) -> String {
    match changes {
        [] => String::new(),
        [only] => only.headline(),
        [first, second] => format!("{} and {}", first.headline(), second.headline()),
        [first, second, rest @ ..] => format!(
            "{}, {} and {} more",
            first.headline(),
            second.headline(),
            rest.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_message_stays_short() {
        let drop = |t: &str| Change::DropTable(t.into());
        assert_eq!(suggested_message(&[drop("a")]), "drop a");
        assert_eq!(
            suggested_message(&[drop("a"), drop("b")]),
            "drop a and drop b"
        );
        assert_eq!(
            suggested_message(&[drop("a"), drop("b"), drop("c"), drop("d")]),
            "drop a, drop b and 2 more"
        );
    }

    #[test]
    fn default_flag_syntax() {
        assert_eq!(
            parse_default("users.bio=''").unwrap(),
            ("users.bio".to_owned(), "''".to_owned())
        );
        assert!(parse_default("users.bio").is_err());
        assert!(parse_default("bio=1").is_err());
        assert!(parse_default("users.bio=").is_err());
    }
}
