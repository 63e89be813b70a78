//! Changes SQLite cannot ALTER, renames and NOT NULL values: each generated, then applied
//! and reverted on a database with rows in every table.
//!
//! By concern: `columns` (types, defaults, NOT NULL), `in_place` (NOT NULL changed without a
//! copy, where the oldest SQLite the project runs on allows), `renames` and `keys` (primary
//! keys, references and joinables). The helpers they share are here.

#[path = "../common/mod.rs"]
mod common;

mod columns;
mod in_place;
mod keys;
mod renames;

use common::{Entry, Project};
use diesel::SqliteConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

fn stored(schema: &[Entry], name: &str) -> String {
    schema
        .iter()
        .find(|e| e.name == name)
        .and_then(|e| e.sql.clone())
        .unwrap_or_else(|| panic!("no {name} in {schema:?}"))
}

/// Runs the pending migrations and returns the error they must fail with.
fn upgrade_fails(conn: &mut SqliteConnection, project: &Project) -> String {
    let source = FileBasedMigrations::from_path(project.file("versions")).unwrap();
    conn.run_pending_migrations(source)
        .expect_err("the migration must fail")
        .to_string()
}
