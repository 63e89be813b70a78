//! The migrations `generate` writes, applied by diesel_cli itself: `diesel migration run`,
//! `redo` and `revert` on a database with rows, and the schema.rs that diesel's print-schema
//! then rewrites still passes `check`.
//!
//! Needs a `diesel` binary (`DIESEL_CLI` or PATH); `.ci/run` installs a pinned one, so this
//! runs in CI. A plain `cargo test` lists it as ignored, with this reason.

mod common;

use common::Project;

fn diesel(project: &Project, database: &str, args: &[&str]) -> String {
    let (success, text) = diesel_outcome(project, database, args);
    assert!(success, "diesel {args:?} failed: {text}");
    text
}

/// Runs diesel_cli; whether it succeeded, and everything it printed.
fn diesel_outcome(project: &Project, database: &str, args: &[&str]) -> (bool, String) {
    let program = std::env::var("DIESEL_CLI").unwrap_or_else(|_| "diesel".to_owned());
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--database-url", database])
        .collect();
    let output = project
        .command(&program, &args)
        .unchecked()
        .run()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn rows(database: &str, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// A database made by `diesel migration run` on the fixture, with 2 users and 3 posts.
fn populated(project: &Project) -> (tempfile::TempDir, String) {
    let db = tempfile::tempdir().unwrap();
    let database = db.path().join("app.sqlite3").to_str().unwrap().to_owned();
    diesel(project, &database, &["migration", "run"]);
    rusqlite::Connection::open(&database)
        .unwrap()
        .execute_batch(
            "INSERT INTO users (id, name, age) VALUES (1, 'ann', 30), (2, 'bob', NULL);
             INSERT INTO posts (user_id, title) VALUES (1, 'a'), (2, 'b'), (2, 'c');",
        )
        .unwrap();
    (db, database)
}

#[test]
#[ignore = "needs diesel_cli; .ci/run installs it and runs this test"]
fn diesel_migration_run_applies_generated_migrations_with_rows_kept() {
    let project = Project::fixture("blog");
    let (_db, database) = populated(&project);

    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::table! {\n    comments (id) {\n        id -> Integer,\n        post_id -> Integer,\n        body -> Text,\n    }\n}\n\ndiesel::joinable!(comments -> posts (post_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    project.generate("add comments");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        summary -> Nullable<Text>,\n",
    );
    project.generate("add summary to posts");
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    project.generate("drop age from users");

    let applied = diesel(&project, &database, &["migration", "run"]);
    assert!(applied.contains("_drop_age_from_users"), "{applied}");
    diesel(&project, &database, &["migration", "redo", "-n", "3"]);
    assert_eq!(rows(&database, "users"), 2);
    assert_eq!(rows(&database, "posts"), 3, "cascading children lost");
    assert_eq!(rows(&database, "audit"), 2, "the trigger fired again");

    // `migration run` rewrote schema.rs with print-schema; it must still match.
    project.assert_check_passes();
    diesel(&project, &database, &["migration", "revert", "-n", "3"]);
    assert_eq!(rows(&database, "posts"), 3);
    project.assert_no_temp_leftovers();
}

/// The schema without Diesel's bookkeeping table.
fn sqlite_schema(database: &str) -> Vec<common::SchemaRow> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut rows = common::sqlite_schema(&conn);
    rows.retain(|row| !row.name.starts_with("__"));
    rows
}

#[test]
#[ignore = "needs diesel_cli; .ci/run installs it and runs this test"]
fn diesel_migration_run_applies_rebuilds_renames_and_defaults_with_rows_kept() {
    let project = Project::fixture("blog");
    let (_db, database) = populated(&project);
    let original = sqlite_schema(&database);

    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> BigInt,",
    );
    project.generate_with(&["age is a required bigint", "--default", "users.age=0"]);
    project.edit_schema("        name -> Text,", "        full_name -> Text,");
    project.generate_with(&["rename name", "--rename", "users.name=full_name"]);
    let schema = project.read("schema/schema.rs");
    project.write(
        "schema/schema.rs",
        &schema
            .replace("    audit (id) {", "    events (id) {")
            .replace("(audit, posts, users,)", "(events, posts, users,)"),
    );
    project.generate_with(&["rename audit", "--rename-table", "audit=events"]);
    project.edit_schema("    posts (id) {", "    posts (user_id, id) {");
    project.generate("key posts by user");

    let applied = diesel(&project, &database, &["migration", "run"]);
    assert!(applied.contains("_key_posts_by_user"), "{applied}");
    assert_eq!(rows(&database, "users"), 2);
    assert_eq!(rows(&database, "posts"), 3, "cascading children lost");
    assert_eq!(
        rows(&database, "events"),
        2,
        "the trigger fired again or rows were lost"
    );
    let conn = rusqlite::Connection::open(&database).unwrap();
    let names: String = conn
        .query_row("SELECT group_concat(full_name || ':' || age, ',') FROM (SELECT * FROM users ORDER BY id)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(names, "ann:30,bob:0");
    drop(conn);
    project.assert_check_passes();

    diesel(&project, &database, &["migration", "revert", "-n", "4"]);
    assert_eq!(
        sqlite_schema(&database),
        original,
        "down must restore every entry byte for byte"
    );
    assert_eq!(rows(&database, "posts"), 3);
    assert_eq!(rows(&database, "audit"), 2);
    diesel(&project, &database, &["migration", "run"]);
    assert_eq!(rows(&database, "posts"), 3);
    project.assert_no_temp_leftovers();
}

#[test]
#[ignore = "needs diesel_cli; .ci/run installs it and runs this test"]
fn diesel_migration_run_applies_objects_sql_migrations_and_revert_restores_them() {
    let project = Project::fixture("blog");
    let (_db, database) = populated(&project);
    let original = sqlite_schema(&database);

    let adopted = project.run(&["objects"]);
    assert_eq!(adopted.code, Some(0), "{adopted:?}");
    let objects = project.read("schema/objects.sql");
    project.write(
        "schema/objects.sql",
        &(objects.replace(
            "CREATE INDEX users_name ON users (name);",
            "CREATE UNIQUE INDEX users_name ON users (lower(name)) WHERE name IS NOT NULL;",
        ) + "\nCREATE VIEW post_titles AS SELECT user_id, title FROM posts;\n\nCREATE VIEW long_titles AS SELECT title FROM post_titles WHERE length(title) > 0;\n"),
    );
    project.generate("indexes and views");
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    project.write(
        "schema/objects.sql",
        &project.read("schema/objects.sql").replace(
            "SELECT user_id, title FROM posts",
            "SELECT title FROM posts",
        ),
    );
    project.generate("drop age, narrow a view");
    project.write(
        "schema/objects.sql",
        &(project
            .read("schema/objects.sql")
            .replace("VALUES ('user ' || NEW.id)", "VALUES ('joined ' || NEW.id)")
            + "\nCREATE TRIGGER posts_touch AFTER UPDATE OF title ON posts BEGIN UPDATE users SET name = name WHERE id = NEW.user_id; END;\n"),
    );
    project.generate("triggers");
    // A rebuild of posts under its trigger and the views, and a trigger dropped.
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Nullable<Text>,\n",
    );
    let objects = project.read("schema/objects.sql");
    let trigger = objects.find("CREATE TRIGGER users_audit").unwrap();
    let end = objects[trigger..].find("END;\n").unwrap() + trigger + "END;\n".len();
    project.write(
        "schema/objects.sql",
        &format!("{}{}", &objects[..trigger], &objects[end..]),
    );
    project.generate("optional titles, no audit");

    let applied = diesel(&project, &database, &["migration", "run"]);
    assert!(applied.contains("_optional_titles_no_audit"), "{applied}");
    assert_eq!(rows(&database, "long_titles"), 3);
    diesel(&project, &database, &["migration", "redo", "-n", "4"]);
    assert_eq!(rows(&database, "posts"), 3, "cascading children lost");
    assert_eq!(rows(&database, "audit"), 2, "the trigger fired again");
    project.assert_check_passes();

    diesel(&project, &database, &["migration", "revert", "-n", "4"]);
    assert_eq!(
        sqlite_schema(&database),
        original,
        "revert restores every entry byte for byte"
    );
    project.assert_no_temp_leftovers();
}

#[test]
#[ignore = "needs diesel_cli; .ci/run installs it and runs this test"]
fn diesel_migration_run_moves_on_from_a_squash_and_fails_cleanly_part_way() {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    project.edit_schema(
        "        age -> Nullable<Integer>,\n",
        "        age -> Nullable<Integer>,\n        bio -> Nullable<Text>,\n",
    );
    project.generate("add bio");
    let (_db, at) = populated(&project);
    let part_way_dir = tempfile::tempdir().unwrap();
    let part_way = part_way_dir
        .path()
        .join("old.sqlite3")
        .to_str()
        .unwrap()
        .to_owned();
    std::fs::copy(&at, &part_way).unwrap();
    diesel(&project, &part_way, &["migration", "revert"]);
    let squashed_to = project.versions()[2].clone();
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        level -> Nullable<Integer>,\n",
    );
    let later = project.generate("add level");
    let run = project.run(&["squash", "--to", &squashed_to, "baseline"]);
    assert_eq!(run.code, Some(0), "{run:?}");

    let text = diesel(&project, &at, &["migration", "run"]);
    let later = later.trim_start_matches("versions/");
    assert!(text.contains(later), "{text}");
    assert!(
        !text.contains("baseline"),
        "diesel ran the baseline again: {text}"
    );
    assert_eq!(rows(&at, "users"), 2);
    assert_eq!(rows(&at, "posts"), 3);

    let before = std::fs::read(&part_way).unwrap();
    let (success, text) = diesel_outcome(&project, &part_way, &["migration", "run"]);
    assert!(
        !success,
        "diesel ran the baseline on a part-way database: {text}"
    );
    assert!(text.contains("already exists"), "{text}");
    assert_eq!(
        std::fs::read(&part_way).unwrap(),
        before,
        "the failed run changed it"
    );
}

/// The schema files of the fixtures that stand for Diesel projects as they are, as the pinned
/// diesel_cli writes them (`migration run` writes every section's file, its patch applied):
/// the committed files are exactly that, and `check` passes on them right after.
#[test]
#[ignore = "needs diesel_cli; .ci/run installs it and runs this test"]
fn the_fixtures_schema_files_are_what_diesel_print_schema_writes() {
    for (fixture, files) in [
        ("sections", &["schema/blog.rs", "schema/audit.rs"][..]),
        ("patched", &["schema/schema.rs"][..]),
        ("print_options", &["schema/schema.rs"][..]),
        ("adopt", &["src/schema.rs"][..]),
    ] {
        let project = Project::fixture(fixture);
        let committed: Vec<String> = files.iter().map(|f| project.read(f)).collect();
        for file in files {
            std::fs::remove_file(project.file(file)).unwrap();
        }
        let db = tempfile::tempdir().unwrap();
        let database = db.path().join("app.sqlite3").to_str().unwrap().to_owned();
        diesel(&project, &database, &["migration", "run"]);
        for (file, committed) in files.iter().zip(&committed) {
            assert_eq!(
                &project.read(file),
                committed,
                "{fixture}/{file} is not what diesel print-schema writes"
            );
        }
        let check = project.run(&["check"]);
        assert_eq!(check.code, Some(0), "{fixture}: {check:?}");
    }
}

/// A foreign key from a table of one section to a table of another: print-schema writes no
/// `joinable!` for it, and `check` takes that for what it is, no change.
#[test]
#[ignore = "needs diesel_cli; .ci/run installs it and runs this test"]
fn a_reference_between_sections_passes_check_as_diesel_writes_it() {
    let project = Project::fixture("sections");
    project.add_version(
        "2026-02-01-000000_audit_user",
        "ALTER TABLE audit ADD COLUMN user_id INTEGER REFERENCES users (id);\n",
        "ALTER TABLE audit DROP COLUMN user_id;\n",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    let db = tempfile::tempdir().unwrap();
    let database = db.path().join("app.sqlite3").to_str().unwrap().to_owned();
    diesel(&project, &database, &["migration", "run"]);
    let written = project.read("schema/audit.rs") + &project.read("schema/blog.rs");
    assert!(
        written.contains("user_id -> Nullable<Integer>"),
        "{written}"
    );
    assert!(!written.contains("joinable!(audit"), "{written}");
    let check = project.run(&["check"]);
    assert_eq!(check.code, Some(0), "{check:?}");
}
