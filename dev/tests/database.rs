//! The database commands on real on-disk databases with rows, as a Flask-Migrate user would
//! run them: upgrade, downgrade, redo, current, history, show, stamp, --sql, --backup, and
//! the refusals that keep data from being lost quietly.

mod common;

use std::path::{Path, PathBuf};

use common::{ok_on as ok, run_on as run, Database, Project, Run};

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

#[test]
fn older_database_upgrades_through_every_version_keeping_rows_after_confirming_losses() {
    let project = project_with_history();
    let db = at_first_version(&project);
    assert_eq!(db.applied(), ["20260101000000"]);

    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains("up.sql of")
            && refused
                .stderr
                .contains("drops column users.age with 2 values"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("the database is at"), "{refused:?}");
    assert!(
        refused.stderr.contains("_add_comments"),
        "stopped after the last safe version: {refused:?}"
    );
    assert_eq!(
        db.count("SELECT count(age) FROM users"),
        2,
        "nothing dropped without a yes"
    );

    let upgraded = ok(&project, &db, &["upgrade", "--yes"]);
    assert!(upgraded.stderr.contains("(--yes given)"), "{upgraded:?}");
    assert_rows(&db);
    let current = ok(&project, &db, &["current"]);
    assert!(
        current.stdout.trim().ends_with("_drop_age (head)"),
        "{current:?}"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn losses_are_confirmed_on_a_terminal() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let (code, text) = project.run_on_terminal(&format!("upgrade --database {}", db.arg()), "y\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("drops column users.age with 2 values. Continue? [y/N]"),
        "{text}"
    );
    assert_eq!(db.applied().len(), 5);
}

#[test]
fn downgrade_to_base_and_back_up_and_redo() {
    let project = project_with_history();
    let db = at_first_version(&project);
    ok(&project, &db, &["upgrade", "--yes"]);
    let at_head = db.schema();

    let one = ok(&project, &db, &["downgrade", "-1"]);
    let newest = project.versions().pop().unwrap();
    assert!(
        one.stderr.contains(&format!("Downgrade {newest}")),
        "{one:?}"
    );
    assert_eq!(db.applied().len(), 4);
    assert_eq!(
        db.count("SELECT count(*) FROM users WHERE age IS NULL"),
        3,
        "age is back, empty"
    );

    let refused = run(&project, &db, &["downgrade", "base"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("drops table"), "{refused:?}");
    ok(&project, &db, &["downgrade", "base", "--yes"]);
    assert!(db.applied().is_empty());
    assert_eq!(
        db.count("SELECT count(*) FROM sqlite_schema WHERE name = 'users'"),
        0
    );

    ok(&project, &db, &["upgrade"]);
    assert_eq!(db.schema(), at_head);
    db.exec("INSERT INTO users (id, name) VALUES (1, 'ann'); INSERT INTO posts (user_id, title) VALUES (1, 'a');");
    ok(&project, &db, &["redo", "--yes"]);
    assert_eq!(db.schema(), at_head);
    assert_eq!(db.count("SELECT count(*) FROM posts"), 1);
}

#[test]
fn downgrade_to_a_version_keeps_that_version() {
    let project = project_with_history();
    let db = at_first_version(&project);
    ok(&project, &db, &["upgrade", "--yes"]);
    ok(&project, &db, &["downgrade", "add_bio", "--yes"]);
    let current = ok(&project, &db, &["current"]);
    assert!(
        current.stdout.contains("_add_bio (2 pending"),
        "{current:?}"
    );
    assert_rows(&db);
}

#[test]
fn sql_prints_what_upgrade_runs_and_touches_nothing() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let twin = Database::new();
    std::fs::copy(&db.path, &twin.path).unwrap();
    let before = std::fs::read(&db.path).unwrap();

    let printed = ok(&project, &db, &["upgrade", "--sql"]);
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "--sql changed the database"
    );
    assert!(printed.stdout.contains("-- Upgrade 2026-"), "{printed:?}");
    let script = printed.stdout;

    ok(&project, &db, &["upgrade", "--yes"]);
    twin.exec(&script);
    assert_eq!(twin.schema(), db.schema());
    assert_eq!(twin.applied(), db.applied());
    assert_eq!(twin.count("SELECT count(*) FROM posts"), 6);

    let down = ok(&project, &db, &["downgrade", "base", "--sql"]);
    twin.exec(&down.stdout);
    assert!(twin.applied().is_empty());
    let left: Vec<String> = twin.schema().into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        left,
        [
            "__diesel_schema_migrations",
            "sqlite_autoindex___diesel_schema_migrations_1"
        ]
    );
}

#[test]
fn unknown_applied_version_is_refused_by_upgrade_and_downgrade() {
    let project = project_with_history();
    let db = at_first_version(&project);
    db.exec("INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')");
    for args in [&["upgrade"][..], &["downgrade", "-1"][..], &["redo"][..]] {
        let refused = run(&project, &db, args);
        assert_eq!(refused.code, Some(2), "{args:?}: {refused:?}");
        assert!(refused.stderr.contains("29990101000000"), "{refused:?}");
    }
    let current = ok(&project, &db, &["current"]);
    assert!(current.stderr.contains("29990101000000"), "{current:?}");
}

#[test]
fn stamp_marks_without_running_and_base_clears() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let schema = db.schema();
    ok(&project, &db, &["stamp", "add_comments"]);
    assert_eq!(
        db.applied().len(),
        4,
        "create_blog, pin, add_bio, add_comments"
    );
    assert_eq!(db.schema(), schema, "stamp ran SQL");
    let current = ok(&project, &db, &["current"]);
    assert!(
        current.stdout.contains("_add_comments (1 pending"),
        "{current:?}"
    );
    ok(&project, &db, &["stamp", "base"]);
    assert!(db.applied().is_empty());
    ok(&project, &db, &["stamp", "head"]);
    assert_eq!(db.applied().len(), 5);
}

#[test]
fn backup_is_an_openable_copy_with_the_same_rows() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let run = ok(&project, &db, &["upgrade", "--yes", "--backup"]);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("Backed up to "))
        .expect("backup line");
    let copy = PathBuf::from(line.trim_start_matches("Backed up to "));
    assert_eq!(copy.parent(), db.path.parent());
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let ages: i64 = conn
        .query_row("SELECT count(age) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ages, 2, "the backup is from before the upgrade");
}

#[test]
fn failing_migration_stops_at_the_last_version_that_succeeded() {
    let project = project_with_history();
    let at_head = project.newest();
    let broken = project.later_version("broken");
    project.write(
        &format!("versions/{broken}/up.sql"),
        "CREATE TABLE fine (x);\nINSERT INTO nowhere VALUES (1);\n",
    );
    project.write(&format!("versions/{broken}/down.sql"), "DROP TABLE fine;\n");
    let db = at_first_version(&project);
    let failed = run(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains("no such table: nowhere"),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("up.sql:2:1"), "{failed:?}");
    assert!(at_head.ends_with("_drop_age"));
    let at = format!(
        "the database is at {}",
        at_head.trim_start_matches("versions/")
    );
    assert!(failed.stderr.contains(&at), "{failed:?}");
    assert_eq!(db.applied().len(), 5);
    assert_eq!(
        db.count("SELECT count(*) FROM sqlite_schema WHERE name = 'fine'"),
        0
    );
}

#[test]
fn no_command_creates_a_database_nobody_named() {
    let project = project_with_history();
    for args in [
        &["upgrade"][..],
        &["current"][..],
        &["stamp", "base"][..],
        &["downgrade", "-1"][..],
    ] {
        let refused = project.run(args);
        assert_eq!(refused.code, Some(2), "{refused:?}");
        assert!(refused.stderr.contains("no database given"), "{refused:?}");
    }
    let missing = Database::new();
    for args in [
        &["current"][..],
        &["downgrade", "-1"][..],
        &["stamp", "base"][..],
    ] {
        let refused = run(&project, &missing, args);
        assert_eq!(refused.code, Some(2), "{refused:?}");
        assert!(
            refused.stderr.contains("there is no database at"),
            "{refused:?}"
        );
        assert!(!missing.path.exists());
    }
    let printed = run(&project, &missing, &["upgrade", "--sql"]);
    assert_eq!(printed.code, Some(0), "{printed:?}");
    assert!(!missing.path.exists(), "--sql created the database");
    let names: Vec<String> = std::fs::read_dir(project.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".sqlite3") && !n.ends_with(".db")),
        "{names:?}"
    );
}

#[test]
fn database_url_is_read_as_diesel_reads_it() {
    let project = project_with_history();
    let db = Database::new();
    let output = duct::cmd(common::BIN, ["upgrade", "add_bio"])
        .dir(project.path())
        .env("TMPDIR", project.tmp.path())
        .env("XDG_CACHE_HOME", project.cache_home())
        .env("DATABASE_URL", format!("sqlite://{}", db.arg()))
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(db.applied().len(), 3);
}

#[test]
fn history_and_show_describe_versions() {
    let project = project_with_history();
    let plain = project.run(&["history"]);
    assert_eq!(plain.code, Some(0), "{plain:?}");
    let lines: Vec<&str> = plain.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{plain:?}");
    assert!(
        lines[0].starts_with("2026-01-01-000000_create_blog  create blog"),
        "{plain:?}"
    );
    assert!(lines[4].ends_with("  drop age"), "{plain:?}");

    let db = at_first_version(&project);
    let marked = ok(&project, &db, &["history", "--verbose"]);
    assert!(
        marked.stdout.contains("[x] 2026-01-01-000000_create_blog"),
        "{marked:?}"
    );
    assert!(marked.stdout.contains("[ ] 2026-"), "{marked:?}");
    assert!(
        marked.stdout.contains("      - drop column users.age"),
        "{marked:?}"
    );

    let shown = project.run(&["show", "add_comments"]);
    assert_eq!(shown.code, Some(0), "{shown:?}");
    assert!(
        shown.stdout.contains("_add_comments/up.sql <=="),
        "{shown:?}"
    );
    assert!(shown.stdout.contains("CREATE TABLE comments"), "{shown:?}");
    assert!(
        shown.stdout.contains("_add_comments/down.sql <=="),
        "{shown:?}"
    );

    let ambiguous = project.assert_rejected(&["show", "2"]);
    assert!(
        ambiguous.stderr.contains("matches 5 versions"),
        "{ambiguous:?}"
    );
    assert!(ambiguous.stderr.contains("_add_bio"), "{ambiguous:?}");
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

#[test]
fn every_spelling_of_a_drop_needs_a_yes() {
    let project = project_with_hand_written("", false);
    let db = at_first_version(&project);
    for up in [
        "DROP TABLE main.audit;",
        "DROP TABLE \"audit\";",
        "drop table /* old notes */ [AUDIT];",
        "DROP TABLE IF EXISTS main.\"audit\";",
    ] {
        project.write("versions/2026-02-01-000000_by_hand/up.sql", up);
        let refused = run(&project, &db, &["upgrade"]);
        assert_eq!(refused.code, Some(2), "{up}: {refused:?}");
        assert!(
            refused.stderr.contains(
                "refusing to run: up.sql of 2026-02-01-000000_by_hand drops table audit with 3 rows"
            ),
            "{up}: {refused:?}"
        );
        assert_eq!(db.count("SELECT count(*) FROM audit"), 3, "{up}");
        assert_eq!(db.applied(), ["20260101000000"], "{up}");
    }
    project.write(
        "versions/2026-02-01-000000_by_hand/up.sql",
        "ALTER TABLE main.\"posts\" DROP COLUMN Title;",
    );
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("drops column posts.title with 6 values"),
        "{refused:?}"
    );
    ok(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(
        db.count("SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'title'"),
        0
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn a_rebuild_by_hand_counts_the_column_it_leaves_behind_not_the_table() {
    let project = project_with_hand_written(
        "PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE posts_new (
    id INTEGER NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
INSERT INTO posts_new (id, user_id) SELECT id, user_id FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
CREATE INDEX posts_user_id ON posts (user_id);
ALTER TABLE users RENAME COLUMN age TO years;
COMMIT;
PRAGMA foreign_keys = ON;
",
        true,
    );
    let db = at_first_version(&project);
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains(
            "refusing to run: up.sql of 2026-02-01-000000_by_hand drops column posts.title with 6 values\n"
        ),
        "only the column is lost, and a renamed column is not: {refused:?}"
    );
    assert_eq!(db.count("SELECT count(title) FROM posts"), 6);
    let upgraded = ok(&project, &db, &["upgrade", "--yes"]);
    assert!(upgraded.stderr.contains("(--yes given)"), "{upgraded:?}");
    assert_eq!(db.count("SELECT count(*) FROM posts"), 6);
    assert_eq!(db.count("SELECT count(years) FROM users"), 2);
}

#[test]
fn a_file_that_cannot_be_tried_on_the_schema_needs_a_yes_and_says_why() {
    let project = project_with_hand_written(
        "DROP TABLE audit;\nINSERT INTO nowhere SELECT * FROM posts;\n",
        false,
    );
    let db = at_first_version(&project);
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("drops table audit with 3 rows, and stops at line 2 on a copy of the database's schema (no such table: nowhere), so what it drops cannot be counted"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("by_hand/up.sql:2:1"), "{refused:?}");
    assert_eq!(db.count("SELECT count(*) FROM audit"), 3);
    project.assert_no_temp_leftovers();
}

/// Holds a lock on `db` from this process, as another program would, until dropped.
fn hold_lock(db: &Database, begin: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.execute_batch(&format!(
        "{begin}; INSERT INTO audit (note) VALUES ('held');"
    ))
    .unwrap();
    conn
}

fn assert_locked(run: &Run) {
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: the database is locked by another process\n"),
        "{run:?}"
    );
    assert!(run.stderr.contains("then run the command again"), "{run:?}");
    assert!(!run.stderr.contains("fix the migration"), "{run:?}");
}

#[test]
fn a_database_another_process_is_writing_is_reported_as_locked() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let holder = hold_lock(&db, "BEGIN IMMEDIATE");
    let locked = run(&project, &db, &["upgrade", "--yes"]);
    drop(holder);
    assert_locked(&locked);
    assert!(
        locked
            .stderr
            .contains("the database is at 2026-01-01-000000_create_blog"),
        "{locked:?}"
    );
    assert_eq!(db.applied(), ["20260101000000"]);
    assert_eq!(
        db.count("SELECT count(*) FROM audit"),
        3,
        "the holder's write was rolled back"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn a_database_another_process_holds_exclusively_is_reported_as_locked() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let holder = hold_lock(&db, "BEGIN EXCLUSIVE");
    let locked = run(&project, &db, &["upgrade", "--yes", "--backup"]);
    drop(holder);
    assert_locked(&locked);
    assert_eq!(db.applied(), ["20260101000000"]);
}

#[test]
fn downgrade_onto_rows_that_reference_nothing_names_them() {
    let project = Project::fixture("blog");
    project.edit_schema("diesel::joinable!(posts -> users (user_id));\n", "");
    let unlink = project.generate("unlink posts from users");
    let db = at_first_version(&project);
    ok(&project, &db, &["upgrade"]);
    db.exec("INSERT INTO posts (id, user_id, title) VALUES (40, 99, 'orphan'), (41, 98, 'stray');");

    let failed = run(&project, &db, &["downgrade", "-1"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains(
            "cannot downgrade this data: 2 rows of posts reference rows of users that do not exist"
        ),
        "{failed:?}"
    );
    assert!(
        failed
            .stderr
            .contains("posts row 40: user_id = 99 matches no row of users (id)")
            && failed
                .stderr
                .contains("posts row 41: user_id = 98 matches no row of users (id)"),
        "{failed:?}"
    );
    assert!(
        failed.stderr.contains(&format!("{unlink}/down.sql:")),
        "{failed:?}"
    );
    assert!(
        failed.stderr.contains("the migration is not at fault"),
        "{failed:?}"
    );
    assert!(!failed.stderr.contains("fix the migration"), "{failed:?}");
    assert_eq!(db.applied().len(), 2, "the downgrade changed nothing");
    assert_eq!(db.count("SELECT count(*) FROM posts"), 8);
    project.assert_no_temp_leftovers();

    db.exec("DELETE FROM posts WHERE id IN (40, 41)");
    ok(&project, &db, &["downgrade", "-1"]);
    assert_rows(&db);
}

#[test]
fn the_unique_refusal_names_a_key_rows_really_share() {
    for (index, shared) in [
        (
            "CREATE UNIQUE INDEX users_age ON users (age);",
            "(age) = (30) in 2 rows",
        ),
        (
            "CREATE UNIQUE INDEX users_lower_name ON users (lower(name));",
            "(lower(name)) = ('ann') in 2 rows",
        ),
    ] {
        let project = project_with_hand_written(&format!("{index}\n"), false);
        let db = at_first_version(&project);
        // Two NULL ages, which never conflict, and two rows sharing a real key.
        db.exec("INSERT INTO users (id, name, age) VALUES (4, 'ANN', 30), (5, 'dee', NULL);");
        let failed = run(&project, &db, &["upgrade"]);
        assert_eq!(failed.code, Some(2), "{failed:?}");
        assert!(
            failed.stderr.contains(&format!(
                "= rows already share a key of the new index: {shared}"
            )),
            "{index}: {failed:?}"
        );
        assert!(!failed.stderr.contains("NULL) in"), "{failed:?}");
    }
}

#[test]
fn rows_that_break_a_new_unique_index_are_named_as_the_data_s_problem() {
    let project = project_with_hand_written(
        "-- names must be unique from now on\nCREATE UNIQUE INDEX users_name_unique ON users (name);\n",
        false,
    );
    let db = at_first_version(&project);
    db.exec("INSERT INTO users (id, name) VALUES (4, 'ANN');");
    let failed = run(&project, &db, &["upgrade"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains(
            "migration `2026-02-01-000000_by_hand` cannot upgrade this data: UNIQUE constraint failed: users.name"
        ),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("by_hand/up.sql:2:1"), "{failed:?}");
    assert!(
        failed
            .stderr
            .contains("rows already in the database break a constraint"),
        "{failed:?}"
    );
    assert_eq!(db.applied(), ["20260101000000"]);
    project.assert_no_temp_leftovers();
}

#[test]
fn a_hand_written_file_that_deletes_rows_is_confirmed_like_a_drop() {
    // A rebuild by hand whose copy leaves rows behind: no table or column goes.
    let project = project_with_hand_written(
        "CREATE TABLE posts_new (\n    id INTEGER NOT NULL PRIMARY KEY,\n    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n    title TEXT NOT NULL\n);\nINSERT INTO posts_new SELECT * FROM posts WHERE id > 2;\nDROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;\nCREATE INDEX posts_user_id ON posts (user_id);\n",
        false,
    );
    let db = at_first_version(&project);
    let before = std::fs::read(&db.path).unwrap();
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("refusing to run: up.sql of 2026-02-01-000000_by_hand drops 2 of 6 rows of posts (id = 1, id = 2)"),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "the database changed"
    );
    project.assert_no_temp_leftovers();
    ok(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(db.count("SELECT count(*) FROM posts"), 4);
}

#[test]
fn rehearse_runs_every_pending_version_on_a_copy_and_says_what_each_does_to_the_rows() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let before = std::fs::read(&db.path).unwrap();
    let rehearsed = run(&project, &db, &["upgrade", "--rehearse"]);
    // Dropping users.age loses values: exit 1, the version and the values named.
    assert_eq!(rehearsed.code, Some(1), "{rehearsed:?}");
    let drop_age = rehearsed
        .stderr
        .lines()
        .find(|l| l.contains("_drop_age:"))
        .unwrap_or_else(|| panic!("{rehearsed:?}"));
    assert!(
        drop_age.contains("up ")
            && drop_age.contains("loses 2 values of users.age (the column is gone)"),
        "{drop_age}"
    );
    let add_bio = rehearsed
        .stderr
        .lines()
        .find(|l| l.contains("_add_bio:"))
        .unwrap_or_else(|| panic!("{rehearsed:?}"));
    assert!(
        add_bio.contains("every row and value kept")
            && add_bio.contains("down")
            && add_bio.contains("every row and value back"),
        "{add_bio}"
    );
    assert!(
        rehearsed.stderr.contains("Peak size of the copy: "),
        "{rehearsed:?}"
    );
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "the database was touched"
    );
    assert_eq!(db.applied().len(), 1);
    project.assert_no_temp_leftovers();

    // Without a loss, exit 0.
    ok(&project, &db, &["upgrade", "--yes"]);
    let nothing = ok(&project, &db, &["upgrade", "--rehearse"]);
    assert!(
        nothing.stderr.contains("Every row and value survived."),
        "{nothing:?}"
    );
}

/// The blog fixture at head on a database, with one more version pending that takes a moment
/// and leaves a mark each time it runs; it manages its own transaction, so nothing but the
/// migration lock keeps a second process from running it again.
fn slow_pending_version() -> (Project, Database) {
    let project = Project::fixture("blog");
    let db = Database::new();
    ok(&project, &db, &["upgrade"]);
    let slow = project.later_version("slow");
    project.add_version(
        &slow,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000) SELECT count(*) FROM c;\nINSERT INTO audit (note) VALUES ('ran');\n",
        "DELETE FROM audit WHERE note = 'ran';\n",
    );
    project.write(
        &format!("versions/{slow}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    (project, db)
}

/// Two `upgrade`s of one database at once: the second ran the pending version again, failed
/// to record it (`UNIQUE constraint failed`), then misreported where the database was. One
/// migrates at a time; the other waits and finds nothing left to do.
#[test]
fn two_upgrades_at_once_run_each_version_once() {
    let (project, db) = slow_pending_version();
    let start = || {
        project
            .command(common::BIN, &["upgrade", "--yes", "--database", &db.arg()])
            .start()
            .unwrap()
    };
    let (first, second) = (start(), start());
    for handle in [first, second] {
        let output = handle.wait().unwrap();
        let run = Run::from(output.clone());
        assert_eq!(run.code, Some(0), "{run:?}");
        assert!(
            run.stderr.contains("The database is at 2027") || run.stderr.contains("Nothing to do"),
            "{run:?}"
        );
    }
    assert_eq!(db.count("SELECT count(*) FROM audit WHERE note = 'ran'"), 1);
    assert_eq!(db.applied().len(), project.versions().len());
    assert!(!std::path::Path::new(&format!("{}-migrate.lock", db.arg())).exists());
}

/// The same between the tool and the application's `open()`.
#[test]
fn an_upgrade_and_the_application_opening_the_database_run_each_version_once() {
    let (project, db) = slow_pending_version();
    let tool = project
        .command(common::BIN, &["upgrade", "--yes", "--database", &db.arg()])
        .start()
        .unwrap();
    let source =
        diesel_migrations::FileBasedMigrations::from_path(project.file("versions")).unwrap();
    flowstate::open_with(std::path::Path::new(&db.arg()), &source, None).unwrap();
    let run = Run::from(tool.wait().unwrap().clone());
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(db.count("SELECT count(*) FROM audit WHERE note = 'ran'"), 1);
    assert_eq!(db.applied().len(), project.versions().len());
}

/// `upgrade` ran a file that begins a transaction and never commits, then the next steps
/// inside it, and closing the connection rolled everything back while it reported success.
#[test]
fn an_upgrade_stops_at_a_migration_that_leaves_a_transaction_open() {
    let project = Project::fixture("blog");
    let db = Database::new();
    ok(&project, &db, &["upgrade"]);
    let open = project.later_version("left_open");
    project.add_version(&open, "BEGIN;\nCREATE TABLE lost (a);\n", "SELECT 1;\n");
    project.write(
        &format!("versions/{open}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    let refused = run(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains("leaves a transaction open")
            && refused
                .stderr
                .contains("is not recorded: the database is at 2026-01-01-000000_create_blog"),
        "{refused:?}"
    );
    assert_eq!(db.applied(), ["20260101000000"]);
    assert_eq!(
        db.count("SELECT count(*) FROM sqlite_schema WHERE name = 'lost'"),
        0
    );
}

/// The same for a down.sql: `downgrade` would run the next steps inside the transaction it
/// left open and lose them all when the connection closed.
#[test]
fn a_downgrade_stops_at_a_down_that_leaves_a_transaction_open() {
    let project = Project::fixture("blog");
    let open = project.later_version("left_open");
    project.add_version(
        &open,
        "CREATE TABLE kept (a);\n",
        "BEGIN;\nDROP TABLE kept;\n",
    );
    project.write(
        &format!("versions/{open}/metadata.toml"),
        "run_in_transaction = false\n",
    );
    let db = Database::new();
    ok(&project, &db, &["upgrade", "--yes"]);
    let refused = run(&project, &db, &["downgrade", "-1", "--yes"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains("leaves a transaction open")
            && refused
                .stderr
                .contains(&format!("--> versions/{open}/down.sql:1:1")),
        "{refused:?}"
    );
    assert_eq!(db.applied().len(), 2, "the version is still applied");
    assert_eq!(
        db.count("SELECT count(*) FROM sqlite_schema WHERE name = 'kept'"),
        1
    );
}
