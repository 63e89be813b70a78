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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::project::TableFilter;
    use crate::scratch::Scratch;
    use crate::{db, replay, schema_rs};

    fn prove_files(up: &str, down: &str) -> Result<()> {
        let scratch = Scratch::create().unwrap();
        let empty = scratch.path().join("versions");
        let mut conn = replay::upgrade_to_head(&scratch.database(), &empty, &[]).unwrap();
        let inspector = db::open_rusqlite(&scratch.database()).unwrap();
        let project = Project {
            root: scratch.path().to_path_buf(),
            schema_file: scratch.path().join("schema.rs"),
            versions_dir: empty,
            filter: TableFilter::All,
            integer_primary_key_is_bigint: false,
        };
        let target = schema_rs::parse(
            Path::new("schema.rs"),
            "diesel::table! { t (id) { id -> Integer, } }",
        )
        .unwrap();
        let files = Files {
            up: up.into(),
            down: down.into(),
            metadata: None,
        };
        let stage = scratch.path().join("candidate");
        prove(
            &mut conn, &inspector, &project, &target, &stage, "1_x", &files,
        )
    }

    #[test]
    fn a_correct_migration_passes() {
        prove_files(
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);",
            "DROP TABLE t;",
        )
        .unwrap();
    }

    #[test]
    fn up_that_misses_schema_rs_is_a_tool_bug() {
        let err =
            prove_files("CREATE TABLE t (id INTEGER PRIMARY KEY);", "DROP TABLE t;").unwrap_err();
        assert_eq!(err.kind, Kind::Proof);
        assert!(err.message.contains("still differs"), "{err}");
        assert!(err.message.contains("change column t.id"), "{err}");
        assert!(err.notes[0].starts_with("up.sql:"), "{err}");
    }

    #[test]
    fn down_that_does_not_restore_is_a_tool_bug() {
        let err = prove_files(
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);",
            "CREATE TABLE leftover (x);",
        )
        .unwrap_err();
        assert_eq!(err.kind, Kind::Proof);
        assert!(err.message.contains("table leftover is left over"), "{err}");
        assert!(err.message.contains("table t is left over"), "{err}");
    }

    #[test]
    fn failing_up_is_a_tool_bug_with_sqlite_message() {
        let err = prove_files("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY", "").unwrap_err();
        assert_eq!(err.kind, Kind::Proof);
        assert!(err.message.contains("up.sql failed"), "{err}");
    }
}
