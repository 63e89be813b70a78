//! Every row keeps its identity and every value its exact bytes, or the migration stops and
//! says which: generated migrations applied with `upgrade` and taken back with `downgrade`
//! on real database files holding rows chosen to break them.
//!
//! By concern: `identity` (rows keep their rowids and keys), `values` (values keep their
//! bytes through type changes, defaults and conversions) and `proof` (what generate proves
//! on). The projects with a rowid-keyed table they share are here.

#[path = "../common/mod.rs"]
mod common;

mod identity;
mod proof;
mod values;

use common::{ok_on, Database, Project};

/// The blog fixture with a hand-written `events` table that has no primary key (print-schema
/// keys it by `rowid`), recorded and matching schema.rs.
fn blog_with_events() -> Project {
    let project = Project::fixture("blog");
    project.add_version(
        "2026-02-01-000000_events",
        "CREATE TABLE events (\n    name TEXT NOT NULL,\n    code TEXT,\n    size BIGINT,\n    ratio DOUBLE\n);\n",
        "DROP TABLE events;\n",
    );
    project.edit_schema(
        "diesel::joinable!",
        "diesel::table! {\n    events (rowid) {\n        rowid -> Integer,\n        name -> Text,\n        code -> Nullable<Text>,\n        size -> Nullable<BigInt>,\n        ratio -> Nullable<Double>,\n    }\n}\n\ndiesel::joinable!",
    );
    project.edit_schema(
        "allow_tables_to_appear_in_same_query!(audit,",
        "allow_tables_to_appear_in_same_query!(audit, events,",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    project
}

/// A database at head holding `events` rows at rowids with gaps.
fn events_database(project: &Project, rows: &str) -> Database {
    let db = Database::new();
    ok_on(project, &db, &["upgrade"]);
    db.exec(&format!(
        "INSERT INTO events (rowid, name, code, size, ratio) VALUES {rows};"
    ));
    db
}

fn events(db: &Database) -> Vec<Vec<String>> {
    db.rows("SELECT quote(rowid), quote(name), quote(code), quote(size), quote(ratio) FROM events ORDER BY rowid")
}
