//! `generate` and `check` end to end: the real binary on temporary copies of fixture
//! projects, and the migrations it writes applied as applications apply them.

mod common;

use common::{
    application_database, apply_and_revert_newest, assert_blog_rows, count, schema_of, seed_blog,
    seeded_blog, upgrade, Project,
};
use diesel::connection::SimpleConnection;
use diesel_migrations::MigrationHarness;

#[test]
fn unchanged_schema_checks_clean_and_generates_nothing() {
    let project = Project::fixture("blog");
    project.assert_check_passes();
    let before = project.snapshot();
    let run = project.run(&["generate", "nothing to do"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout.trim(), "No changes in schema detected.");
    assert_eq!(before, project.snapshot());
    project.assert_no_temp_leftovers();
}

#[test]
fn first_migration_of_a_fresh_project_creates_versions() {
    let project = Project::fixture("fresh");
    assert!(!project.file("versions").exists());
    let dir = project.generate("create notes");
    assert!(dir.ends_with("_create_notes"), "{dir}");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.starts_with("-- Message: create notes\n-- Version: "),
        "{up}"
    );
    assert!(up.contains("CREATE TABLE notes (\n    id INTEGER NOT NULL PRIMARY KEY,\n    body TEXT NOT NULL,\n    archived BOOLEAN NOT NULL\n);"), "{up}");
    assert!(project
        .read(&format!("{dir}/down.sql"))
        .contains("DROP TABLE notes;"));
    project.assert_check_passes();
}

#[test]
fn new_table_with_joinable_gets_its_foreign_key_and_applies() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::table! {\n    comments (id) {\n        id -> Integer,\n        post_id -> Integer,\n        body -> Text,\n    }\n}\n\ndiesel::joinable!(comments -> posts (post_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    let check = project.run(&["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(check.stdout.contains("create table comments"), "{check:?}");
    assert!(
        check.stdout.contains("cargo run -p dev -- generate \""),
        "{check:?}"
    );

    let dir = project.generate("add comments");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("post_id INTEGER NOT NULL REFERENCES posts (id)"),
        "{up}"
    );
    project.assert_check_passes();

    let db = tempfile::tempdir().unwrap();
    let mut conn = application_database(&db.path().join("app.sqlite3"));
    upgrade(&mut conn, &project);
    let orphan = conn.batch_execute("INSERT INTO comments (post_id, body) VALUES (42, 'x')");
    assert!(orphan.is_err(), "the foreign key must be enforced");
}

#[test]
fn add_nullable_column_then_revert_keeps_rows_and_schema() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);

    project.edit_schema(
        "        age -> Nullable<Integer>,\n",
        "        age -> Nullable<Integer>,\n        bio -> Nullable<Text>,\n",
    );
    let dir = project.generate("add bio to users");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("ALTER TABLE users ADD COLUMN bio TEXT;"),
        "{up}"
    );
    project.assert_check_passes();

    apply_and_revert_newest(
        &mut conn,
        &project,
        &before,
        "UPDATE users SET bio = 'hi' WHERE id = 1",
    );
}

#[test]
fn drop_column_keeps_every_row_and_down_restores_the_table_exactly() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);

    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    let dir = project.generate("drop age from users");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("-- WARNING: drops column users.age and its values\n"),
        "{up}"
    );
    assert!(up.contains("ALTER TABLE users DROP COLUMN age;"), "{up}");
    assert!(project
        .read(&format!("{dir}/metadata.toml"))
        .contains("run_in_transaction = false"));
    project.assert_check_passes();

    // CHECK, COLLATE, DEFAULT, the index and the trigger come back as text.
    apply_and_revert_newest(&mut conn, &project, &before, "");
    let fk_on: i64 = count(
        &mut conn,
        "SELECT foreign_keys AS n FROM pragma_foreign_keys",
    );
    assert_eq!(fk_on, 1, "down must turn foreign keys back on");
    // Up again after down: the redo path.
    upgrade(&mut conn, &project);
    assert_blog_rows(&mut conn);
}

#[test]
fn drop_table_down_recreates_it_with_index_and_trigger() {
    let project = Project::fixture("blog");
    let db = tempfile::tempdir().unwrap();
    let mut conn = application_database(&db.path().join("app.sqlite3"));
    upgrade(&mut conn, &project);
    let before = schema_of(&mut conn);

    project.edit_schema("diesel::joinable!(posts -> users (user_id));\n", "");
    let schema = project.read("schema/schema.rs");
    let start = schema.find("diesel::table! {\n    posts").unwrap();
    let end = start + schema[start..].find("}\n}\n").unwrap() + 4;
    project.write(
        "schema/schema.rs",
        &format!("{}{}", &schema[..start], &schema[end..])
            .replace("audit, posts, users", "audit, users"),
    );

    let dir = project.generate("drop posts");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("-- WARNING: drops table posts and every row in it\nDROP TABLE posts;"),
        "{up}"
    );
    let down = project.read(&format!("{dir}/down.sql"));
    assert!(
        down.contains("CREATE INDEX posts_user_id ON posts (user_id);"),
        "{down}"
    );
    project.assert_check_passes();

    upgrade(&mut conn, &project);
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
}

#[test]
fn dropping_a_referenced_table_is_refused() {
    let project = Project::fixture("blog");
    let schema = project.read("schema/schema.rs");
    let start = schema.find("diesel::table! {\n    users").unwrap();
    let end = start + schema[start..].find("}\n}\n").unwrap() + 4;
    project.write(
        "schema/schema.rs",
        &format!("{}{}", &schema[..start], &schema[end..])
            .replace("diesel::joinable!(posts -> users (user_id));\n", "")
            .replace("audit, posts, users", "audit, posts"),
    );
    let run = project.assert_rejected(&["generate", "drop users"]);
    assert!(
        run.stderr.contains("posts.user_id references it"),
        "{run:?}"
    );
}

#[test]
fn not_null_column_needs_a_default_and_takes_one() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        score -> Integer,\n",
    );
    let run = project.assert_rejected(&["generate", "add score"]);
    assert!(run.stderr.contains("--default posts.score="), "{run:?}");

    let dir = project.generate_with(&["add score", "--default", "posts.score=0"]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("ADD COLUMN score INTEGER NOT NULL DEFAULT (0);"),
        "{up}"
    );

    let db = tempfile::tempdir().unwrap();
    let mut conn = application_database(&db.path().join("app.sqlite3"));
    let mut migrations = project.migrations();
    let newest = migrations.pop().unwrap();
    conn.applied_migrations().unwrap();
    conn.run_migration(&*migrations.pop().unwrap()).unwrap();
    seed_blog(&mut conn);
    conn.run_migration(&*newest).unwrap();
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM posts WHERE score = 0"),
        6
    );
}

#[test]
fn empty_migration_for_hand_written_sql() {
    let project = Project::fixture("blog");
    let dir = project.generate_with(&["backfill user names", "--empty"]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.starts_with("-- Message: backfill user names\n"), "{up}");
    assert!(up.contains("-- Write the up SQL here."), "{up}");
    assert!(
        !up.contains("proven"),
        "an empty migration is not proven: {up}"
    );
    assert!(project.file(&format!("{dir}/down.sql")).is_file());
    project.assert_check_passes();
}

#[test]
fn project_dir_flag_and_walking_up_find_the_project() {
    let project = Project::fixture("blog");
    let elsewhere = tempfile::tempdir().unwrap();
    let path = project.path().to_str().unwrap().to_owned();
    let run = project.run_in(elsewhere.path(), &["-C", &path, "check"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = project.run_in(&project.file("schema"), &["check"]);
    assert_eq!(run.code, Some(0), "{run:?}");

    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        slug -> Nullable<Text>,\n",
    );
    let run = project.run_in(elsewhere.path(), &["check", "--project-dir", &path]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("cargo run -p dev -- -C {path} generate")),
        "{run:?}"
    );
    project.assert_no_temp_leftovers();
    assert!(std::fs::read_dir(elsewhere.path())
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn state_db_in_the_working_tree_is_never_touched() {
    let project = Project::fixture("blog");
    project.write("state.db", "not a database, and must stay exactly this");
    let modified = std::fs::metadata(project.file("state.db"))
        .unwrap()
        .modified()
        .unwrap();
    project.add_posts_views();
    project.generate("add views");
    project.assert_check_passes();
    assert_eq!(
        project.read("state.db"),
        "not a database, and must stay exactly this"
    );
    assert_eq!(
        std::fs::metadata(project.file("state.db"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
}

#[test]
fn same_inputs_give_byte_identical_files() {
    let a = Project::fixture("blog");
    let b = Project::fixture("blog");
    for project in [&a, &b] {
        project.edit_schema("        age -> Nullable<Integer>,\n", "");
        project.write(
            "versions/2099-01-01-000000_pin_version/up.sql",
            "SELECT 1;\n",
        );
        project.write(
            "versions/2099-01-01-000000_pin_version/down.sql",
            "SELECT 1;\n",
        );
    }
    let dir_a = a.generate("drop age");
    let dir_b = b.generate("drop age");
    assert_eq!(
        dir_a, "versions/2099-01-01-000001_drop_age",
        "the version follows the newest"
    );
    assert_eq!(dir_a, dir_b);
    for file in ["up.sql", "down.sql", "metadata.toml"] {
        assert_eq!(
            a.read(&format!("{dir_a}/{file}")),
            b.read(&format!("{dir_b}/{file}")),
            "{file}"
        );
    }
}

#[test]
fn added_column_with_joinable_reverts_by_rebuild_keeping_rows() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);

    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        user_id -> Nullable<Integer>,\n",
    );
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(audit -> users (user_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    let dir = project.generate("link audit to users");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("ALTER TABLE audit ADD COLUMN user_id INTEGER REFERENCES users (id);"),
        "{up}"
    );
    let down = project.read(&format!("{dir}/down.sql"));
    assert!(
        down.contains("-- WARNING: drops column user_id of audit"),
        "{down}"
    );
    project.assert_check_passes();

    apply_and_revert_newest(&mut conn, &project, &before, "UPDATE audit SET user_id = 1");
}

#[test]
fn tables_left_out_by_the_print_schema_filter_are_not_managed() {
    let project = Project::fixture("blog");
    project.write(
        "diesel.toml",
        "[print_schema]\nfile = \"schema/schema.rs\"\nfilter = { except_tables = [\"^audit$\"] }\n\n[migrations_directory]\ndir = \"versions\"\n",
    );
    // audit exists in the database and in schema.rs; changing it is invisible to both sides.
    project.edit_schema("        note -> Text,\n", "        note -> Binary,\n");
    project.assert_check_passes();
}

/// Regenerating a real history took one failed run per value: `generate` named one missing
/// `--default` at a time, and suggested `0` for a NOT NULL reference, which it then refused
/// ("a row references a missing parent row"). Without a terminal one run names every value it
/// needs, each with a flag that works: passing exactly those writes the migration.
#[test]
fn one_run_names_every_value_it_needs_with_flags_that_work() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        rank -> Integer,\n",
    );
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        nickname -> Text,\n",
    );
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        user_id -> Integer,\n",
    );
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(audit -> users (user_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    let run = project.assert_rejected(&["generate", "three columns"]);
    assert!(
        run.stderr
            .contains("3 columns need a value for the rows they may already have"),
        "{run:?}"
    );
    for column in ["posts.rank", "users.nickname", "audit.user_id"] {
        assert!(
            run.stderr.contains(&format!("column {column} is NOT NULL")),
            "{run:?}"
        );
    }
    let help = run
        .stderr
        .lines()
        .find(|l| l.starts_with("help: "))
        .expect("a help line");
    assert!(
        help.contains("--default \"audit.user_id=(SELECT min(id) FROM users)\""),
        "{help}"
    );
    // The flags as a shell would pass them.
    let mut args = vec!["three columns".to_owned()];
    for flag in help.split("--default ").skip(2) {
        let value = flag
            .split("; or declare")
            .next()
            .unwrap()
            .trim()
            .trim_end_matches(',');
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        args.extend(["--default".to_owned(), value.to_owned()]);
    }
    assert_eq!(args.len(), 7, "{help}");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    project.generate_with(&args);
    project.assert_check_passes();
}

/// `generate --dry-run` (Django's `makemigrations --dry-run`): the plan, both files and the
/// proof's verdict, and nothing written; then the same migration is written for real.
#[test]
fn a_dry_run_prints_the_migration_and_its_proof_and_writes_nothing() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        bio -> Nullable<Text>,\n",
    );
    let before = project.snapshot();
    let run = project.run(&["generate", "add bio", "--dry-run"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("(--dry-run: nothing was written)"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("  - add column users.bio (Nullable<Text>)"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("ALTER TABLE users ADD COLUMN bio TEXT;"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("ALTER TABLE users DROP COLUMN bio;"),
        "{run:?}"
    );
    assert!(run.stderr.contains("Proven on seeded data"), "{run:?}");
    assert_eq!(project.snapshot(), before, "a dry run wrote something");
    project.assert_no_temp_leftovers();

    let json = project.run(&["generate", "add bio", "--dry-run", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["created"], serde_json::Value::Null, "{json:?}");
    assert!(
        document["dry_run"]["up"]
            .as_str()
            .is_some_and(|up| up.contains("ADD COLUMN bio")),
        "{json:?}"
    );
    assert_eq!(project.snapshot(), before, "a dry run wrote something");

    let dir = project.generate("add bio");
    let up = project.read(&format!("{dir}/up.sql"));
    let dry_up = document["dry_run"]["up"].as_str().unwrap();
    // The same file but for its version, which is the time it was made.
    let body = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("-- Version: "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(dry_up), body(&up));
}
