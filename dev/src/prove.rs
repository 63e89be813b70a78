//! Proving a migration before it is written: on the disposable database at head, run up
//! through the harness and the diff against `schema.rs` must be empty; run down and every
//! `sqlite_schema` entry must be back exactly as it was.

use std::path::Path;

use diesel::migration::MigrationSource;
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::diff::diff;
use crate::error::{Error, Result};
use crate::introspect::{inspect, schema_entries, SchemaEntry};
use crate::model::{self, Schema};
use crate::project::Project;
use crate::render::Files;
use crate::write::write_files;

/// Runs the migration staged from `files` (as `dir_name` under `stage`) up and down on the
/// database behind `conn` and `inspector`.
pub fn prove(
    conn: &mut SqliteConnection,
    inspector: &rusqlite::Connection,
    project: &Project,
    target: &Schema,
    stage: &Path,
    dir_name: &str,
    files: &Files,
) -> Result<()> {
    let failed = |what: String| {
        Error::proof(format!("the generated migration failed its proof: {what}"))
            .note(format!("up.sql:\n{}", files.up))
            .note(format!("down.sql:\n{}", files.down))
            .help("this is a bug in the tool: nothing was written; please report it with the files above")
    };
    write_files(&stage.join(dir_name), files)?;
    let source = FileBasedMigrations::from_path(stage)
        .map_err(|e| failed(format!("cannot stage it: {e}")))?;
    let migration = MigrationSource::<Sqlite>::migrations(&source)
        .map_err(|e| failed(format!("cannot stage it: {e}")))?
        .pop()
        .ok_or_else(|| failed("the staged migration did not load".into()))?;

    let before = schema_entries(inspector)?;
    conn.run_migration(&*migration)
        .map_err(|e| failed(format!("up.sql failed: {e}")))?;
    let after_up = model::from_database(
        &inspect(inspector, &project.filter)?,
        project.integer_primary_key_is_bigint,
    )?;
    let remaining = diff(&after_up, target);
    if !remaining.is_empty() {
        let list: Vec<String> = remaining.iter().map(|c| format!("- {c}")).collect();
        return Err(failed(format!(
            "after up.sql the database still differs from schema.rs:\n{}",
            list.join("\n")
        )));
    }
    conn.revert_migration(&*migration)
        .map_err(|e| failed(format!("down.sql failed: {e}")))?;
    let after_down = schema_entries(inspector)?;
    if after_down != before {
        return Err(failed(format!(
            "down.sql did not restore the schema exactly:\n{}",
            describe_difference(&before, &after_down)
        )));
    }
    Ok(())
}

/// The entries that differ, each with its text before and after.
fn describe_difference(before: &[SchemaEntry], after: &[SchemaEntry]) -> String {
    let key = |e: &SchemaEntry| (e.kind.clone(), e.name.clone());
    let mut lines = Vec::new();
    for entry in before {
        match after.iter().find(|a| key(a) == key(entry)) {
            None => lines.push(format!("- {} {} is missing", entry.kind, entry.name)),
            Some(other) if other != entry => lines.push(format!(
                "- {} {} changed\n  before: {}\n  after:  {}",
                entry.kind,
                entry.name,
                entry.sql.as_deref().unwrap_or("(automatic)"),
                other.sql.as_deref().unwrap_or("(automatic)")
            )),
            Some(_) => {}
        }
    }
    for entry in after {
        if !before.iter().any(|b| key(b) == key(entry)) {
            lines.push(format!("- {} {} is left over", entry.kind, entry.name));
        }
    }
    lines.join("\n")
}
