//! The database commands on real on-disk databases with rows, as a Flask-Migrate user would
//! run them: upgrade, downgrade, redo, current, history, show, stamp, --sql, --backup, and
//! the refusals that keep data from being lost quietly.
//!
//! By concern: `moves` (a database between versions, and what the commands say of it),
//! `losses` (the refusals that keep data from being lost quietly), `bad_rows` (rows a
//! migration cannot take) and `concurrency` (other processes and open transactions). The
//! projects and databases they share are here.

#[path = "../common/mod.rs"]
mod common;

mod bad_rows;
mod concurrency;
mod losses;
mod moves;

use std::path::{Path, PathBuf};

use common::{ok_on as ok, Database, Project};

/// The blog fixture with three more generated versions: add users.bio, add a comments
/// table, drop users.age. Generated once for all the tests here, and copied for each.
fn project_with_history() -> Project {
    static TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        // Under cargo's directory for tests' files, as a static is never dropped; an earlier
        // run's copy is replaced.
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("database-history");
        let _ = std::fs::remove_dir_all(&path);
        common::copy_tree(generated_history().path(), &path);
        path
    });
    Project::copy_of(template)
}

fn generated_history() -> Project {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        age -> Nullable<Integer>,\n",
        "        age -> Nullable<Integer>,\n        bio -> Nullable<Text>,\n",
    );
    project.write("versions/2026-02-01-000000_pin/up.sql", "SELECT 1;\n");
    project.write("versions/2026-02-01-000000_pin/down.sql", "SELECT 1;\n");
    project.generate("add bio");
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::table! {\n    comments (id) {\n        id -> Integer,\n        post_id -> Integer,\n        body -> Text,\n    }\n}\n\ndiesel::joinable!(comments -> posts (post_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    project.generate("add comments");
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    project.generate("drop age");
    project
}

/// A database at the first version with rows: 3 users (2 with an age), 6 posts.
fn at_first_version(project: &Project) -> Database {
    let db = Database::new();
    ok(project, &db, &["upgrade", "create_blog"]);
    db.exec(
        "INSERT INTO users (id, name, age) VALUES (1, 'ann', 30), (2, 'bob', 41), (3, 'cy', NULL);
         INSERT INTO posts (user_id, title) VALUES (1, 'a'), (1, 'b'), (2, 'c'), (2, 'd'), (3, 'e'), (3, 'f');",
    );
    db
}

fn assert_rows(db: &Database) {
    assert_eq!(db.count("SELECT count(*) FROM users"), 3);
    assert_eq!(db.count("SELECT count(*) FROM posts"), 6);
    assert_eq!(db.count("SELECT count(*) FROM audit"), 3);
}

/// The blog fixture with one hand-written version after create_blog: `up` as its up.sql (a
/// down.sql that does nothing), and `metadata.toml` when `own_transaction`.
fn project_with_hand_written(up: &str, own_transaction: bool) -> Project {
    let project = Project::fixture("blog");
    project.write("versions/2026-02-01-000000_by_hand/up.sql", up);
    project.write("versions/2026-02-01-000000_by_hand/down.sql", "SELECT 1;\n");
    if own_transaction {
        project.write(
            "versions/2026-02-01-000000_by_hand/metadata.toml",
            "run_in_transaction = false\n",
        );
    }
    project
}
