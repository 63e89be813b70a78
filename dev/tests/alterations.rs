//! Changes SQLite cannot ALTER, renames and NOT NULL values: each generated, then applied
//! and reverted on a database with rows in every table.

mod common;

use common::{
    application_database, apply_and_revert_newest, assert_blog_rows, count, schema_of, seeded_blog,
    Entry, Project,
};
use diesel::connection::SimpleConnection;
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

#[test]
fn type_change_rebuilds_a_parent_keeping_cascading_children_and_every_byte_it_does_not_describe() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);
    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> Nullable<BigInt>,",
    );
    let dir = project.generate("widen age");
    assert!(project
        .read(&format!("{dir}/metadata.toml"))
        .contains("run_in_transaction = false"));
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("PRAGMA foreign_keys = OFF;"), "{up}");
    project.assert_check_passes();

    common::upgrade(&mut conn, &project);
    let after = schema_of(&mut conn);
    assert_eq!(
        stored(&after, "users"),
        stored(&before, "users").replace("age INTEGER CHECK", "age BIGINT CHECK"),
        "only the declared type may change"
    );
    for kept in ["users_audit", "users_name", "posts", "posts_user_id"] {
        assert_eq!(stored(&after, kept), stored(&before, kept), "{kept}");
    }
    let fk: i64 = count(
        &mut conn,
        "SELECT foreign_keys AS n FROM pragma_foreign_keys",
    );
    assert_eq!(fk, 1);
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    apply_and_revert_newest(&mut conn, &project, &before, "");
}

#[test]
fn lossy_type_change_is_loud_and_fails_atomically_on_values_that_do_not_convert() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);
    project.edit_schema("        title -> Text,", "        title -> Integer,");
    let before_run = project.snapshot();
    let run = project.run(&["generate", "titles are numbers"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains(
            "warning[W004] (up.sql): changes posts.title from Text to Integer, which can lose values"
        ),
        "{run:?}"
    );
    assert_ne!(before_run, project.snapshot());
    let up = project.read(&format!("{}/up.sql", project.newest()));
    assert!(
        up.contains("-- WARNING: changes posts.title from Text to Integer"),
        "{up}"
    );

    // The blog's titles are words: the copy cannot keep them as integers.
    let err = upgrade_fails(&mut conn, &project);
    assert!(
        err.contains(
            "posts.title of the row id = 1 holds 'a', which Diesel cannot read as Integer (i32)"
        ),
        "{err}"
    );
    drop(conn);
    let mut reopened = application_database(&_db.path().join("app.sqlite3"));
    assert_eq!(
        schema_of(&mut reopened),
        before,
        "the failed migration changed the schema"
    );
    assert_blog_rows(&mut reopened);
}

#[test]
fn a_retyped_column_whose_default_no_longer_fits_gets_a_new_one() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        status -> Text,\n",
    );
    project.generate_with(&["add status", "--default", "audit.status='new'"]);
    project.edit_schema("        status -> Text,\n", "        status -> Integer,\n");
    let run = project.assert_rejected(&["generate", "status as integer"]);
    assert!(
        run.stderr
            .contains("column audit.status becomes Integer, but its DEFAULT is no such value"),
        "{run:?}"
    );
    let dir = project.generate_with(&["status as integer", "--default", "audit.status=0"]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("status INTEGER NOT NULL DEFAULT (0)"), "{up}");
    let down = project.read(&format!("{dir}/down.sql"));
    assert!(
        down.contains("status TEXT NOT NULL DEFAULT ('new')"),
        "{down}"
    );
    project.assert_check_passes();
}

#[test]
fn a_default_the_table_refuses_is_refused_before_production_meets_it() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> Integer,",
    );
    // users.age has CHECK (age >= 0): backfilling a NULL age with -1 fails on any real row.
    let run = project.assert_rejected(&["generate", "age required", "--default", "users.age=-1"]);
    assert!(
        run.stderr.contains("CHECK constraint failed: age >= 0"),
        "{run:?}"
    );
    assert!(run.stderr.contains("COALESCE(age, (-1))"), "{run:?}");
}

#[test]
fn making_a_column_not_null_needs_a_value_and_backfills_with_it() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> Integer,",
    );
    let run = project.assert_rejected(&["generate", "age required"]);
    assert!(
        run.stderr
            .contains("`--default users.age=<SQL expression>`"),
        "{run:?}"
    );

    let (_db, mut conn, before) = seeded_blog(&project);
    let dir = project.generate_with(&["age required", "--default", "users.age=0"]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("COALESCE(age, (0))"), "{up}");
    project.assert_check_passes();
    common::upgrade(&mut conn, &project);
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM users WHERE age = 0"),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM users WHERE age IS NULL"
        ),
        0
    );
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
    assert_blog_rows(&mut conn);
}

#[test]
fn not_null_value_is_asked_for_on_a_terminal() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        score -> Integer,\n",
    );
    let (code, text) = project.run_on_terminal("generate 'add score'", "7\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("posts.score is NOT NULL"), "{text}");
    let up = project.read(&format!("{}/up.sql", project.newest()));
    assert!(
        up.contains("ADD COLUMN score INTEGER NOT NULL DEFAULT (7);"),
        "{up}"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn column_rename_keeps_values_and_is_only_hinted_without_the_flag() {
    let project = Project::fixture("blog");
    project.edit_schema("        name -> Text,", "        full_name -> Text,");
    let run = project.assert_rejected(&["generate", "rename name"]);
    assert!(
        run.stderr.contains("hint: Was column users.name renamed to full_name (keeping its values)? If so, pass `--rename users.name=full_name`"),
        "{run:?}"
    );

    let (_db, mut conn, before) = seeded_blog(&project);
    let dir = project.generate_with(&["rename name", "--rename", "users.name=full_name"]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("ALTER TABLE users RENAME COLUMN name TO full_name;"),
        "{up}"
    );
    assert!(!up.contains("DROP COLUMN"), "{up}");
    project.assert_check_passes();
    common::upgrade(&mut conn, &project);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM users WHERE full_name IN ('ann', 'bob', 'cy')"
        ),
        3
    );
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
    assert_blog_rows(&mut conn);
}

#[test]
fn column_rename_is_asked_on_a_terminal() {
    let project = Project::fixture("blog");
    project.edit_schema("        name -> Text,", "        full_name -> Text,");
    let (code, text) = project.run_on_terminal("generate 'rename name'", "y\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Was column users.name renamed to full_name"),
        "{text}"
    );
    let up = project.read(&format!("{}/up.sql", project.newest()));
    assert!(up.contains("RENAME COLUMN name TO full_name"), "{up}");
}

#[test]
fn table_rename_keeps_rows_and_references_and_down_restores_every_byte() {
    let project = Project::fixture("blog");
    let schema = project.read("schema/schema.rs");
    project.write(
        "schema/schema.rs",
        &schema
            .replace("    users (id) {", "    people (id) {")
            .replace("(posts -> users (user_id))", "(posts -> people (user_id))")
            .replace("(audit, posts, users,)", "(audit, people, posts,)"),
    );
    let run = project.assert_rejected(&["generate", "rename users"]);
    assert!(
        run.stderr.contains("`--rename-table users=people`"),
        "{run:?}"
    );

    let (_db, mut conn, before) = seeded_blog(&project);
    let dir = project.generate_with(&["rename users", "--rename-table", "users=people"]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("ALTER TABLE users RENAME TO people;"), "{up}");
    project.assert_check_passes();
    common::upgrade(&mut conn, &project);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM people"), 3);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM posts"), 6);
    let orphan = conn.batch_execute("INSERT INTO posts (user_id, title) VALUES (99, 'x')");
    assert!(orphan.is_err(), "posts must reference people now");
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
    assert_blog_rows(&mut conn);
}

#[test]
fn composite_primary_key_change_keeps_rows() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);
    project.edit_schema("    posts (id) {", "    posts (user_id, id) {");
    let dir = project.generate("key posts by user");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("PRIMARY KEY (user_id, id)"), "{up}");
    project.assert_check_passes();
    apply_and_revert_newest(&mut conn, &project, &before, "");
}

#[test]
fn primary_key_change_that_meets_duplicates_fails_and_changes_nothing() {
    let project = Project::fixture("blog");
    let (db, mut conn, before) = seeded_blog(&project);
    project.edit_schema("    posts (id) {", "    posts (user_id) {");
    project.generate("one post per user");
    let err = upgrade_fails(&mut conn, &project);
    assert!(
        err.contains("UNIQUE constraint failed: posts.user_id"),
        "{err}"
    );
    drop(conn);
    let mut reopened = application_database(&db.path().join("app.sqlite3"));
    assert_eq!(schema_of(&mut reopened), before);
    assert_blog_rows(&mut reopened);
    let applied = reopened.applied_migrations().unwrap();
    assert_eq!(
        applied.len(),
        1,
        "the failed migration must not be recorded"
    );
}

#[test]
fn joinable_added_then_removed_on_an_existing_column() {
    let project = Project::fixture("blog");
    let (_db, mut conn, _) = seeded_blog(&project);
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        user_id -> Nullable<Integer>,\n",
    );
    project.generate("audit user");
    common::upgrade(&mut conn, &project);
    conn.batch_execute("UPDATE audit SET user_id = 2").unwrap();
    let with_column = schema_of(&mut conn);

    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(audit -> users (user_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    let dir = project.generate("link audit to users");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("user_id INTEGER REFERENCES users (id)"), "{up}");
    project.assert_check_passes();
    apply_and_revert_newest(&mut conn, &project, &with_column, "");
    common::upgrade(&mut conn, &project);
    let orphan = conn.batch_execute("INSERT INTO audit (note, user_id) VALUES ('x', 99)");
    assert!(orphan.is_err(), "the new foreign key must be enforced");

    project.edit_schema("diesel::joinable!(audit -> users (user_id));\n", "");
    project.generate("unlink audit");
    project.assert_check_passes();
    common::upgrade(&mut conn, &project);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM audit WHERE user_id = 2"
        ),
        3
    );
    conn.batch_execute("INSERT INTO audit (note, user_id) VALUES ('x', 99)")
        .unwrap();
}

#[test]
fn dropping_an_indexed_referencing_column_rebuilds_and_says_so() {
    let project = Project::fixture("blog");
    let (_db, mut conn, before) = seeded_blog(&project);
    project.edit_schema(
        "        user_id -> Integer,\n        title -> Text,",
        "        title -> Text,",
    );
    project.edit_schema("diesel::joinable!(posts -> users (user_id));\n", "");
    let run = project.assert_rejected(&["generate", "posts lose their author"]);
    assert!(
        run.stderr
            .contains("down.sql adds it back and needs a value"),
        "{run:?}"
    );
    let run = project.run(&[
        "generate",
        "posts lose their author",
        "--default",
        "posts.user_id=1",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("warning[W002] (up.sql): drops column posts.user_id and its values"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "warning[W005] (up.sql): drops index posts_user_id (no such column: user_id)"
        ),
        "{run:?}"
    );
    let up = project.read(&format!("{}/up.sql", project.newest()));
    assert!(
        up.contains("ALTER TABLE posts RENAME TO _dev_old_posts;"),
        "{up}"
    );
    project.assert_check_passes();
    common::upgrade(&mut conn, &project);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM posts"), 6);
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM posts WHERE user_id = 1"
        ),
        6
    );
}

#[test]
fn rebuild_keeps_autoincrement_sequence_unique_and_views() {
    let project = Project::fixture("blog");
    project.write(
        "versions/2026-02-01-000000_tags/up.sql",
        "CREATE TABLE tags (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    label TEXT NOT NULL UNIQUE\n);\nCREATE VIEW tag_labels AS SELECT label FROM tags;\n",
    );
    project.write(
        "versions/2026-02-01-000000_tags/down.sql",
        "DROP VIEW tag_labels;\nDROP TABLE tags;\n",
    );
    project.edit_schema(
        "diesel::joinable!",
        "diesel::table! {\n    tags (id) {\n        id -> Nullable<Integer>,\n        label -> Text,\n    }\n}\n\ndiesel::joinable!",
    );
    project.assert_check_passes();
    let (_db, mut conn, _) = seeded_blog(&project);
    conn.batch_execute(
        "INSERT INTO tags (label) VALUES ('a'), ('b'), ('c'), ('d'), ('e');
         DELETE FROM tags WHERE id > 3;",
    )
    .unwrap();
    let before = schema_of(&mut conn);

    project.edit_schema(
        "        label -> Text,\n    }\n}\n\ndiesel::joinable!",
        "        label -> Binary,\n    }\n}\n\ndiesel::joinable!",
    );
    project.generate("labels are bytes");
    common::upgrade(&mut conn, &project);
    let after = schema_of(&mut conn);
    assert_eq!(
        stored(&after, "tags"),
        stored(&before, "tags").replace("label TEXT NOT NULL UNIQUE", "label BLOB NOT NULL UNIQUE")
    );
    assert_eq!(stored(&after, "tag_labels"), stored(&before, "tag_labels"));
    conn.batch_execute("INSERT INTO tags (label) VALUES (x'66')")
        .unwrap();
    assert_eq!(
        count(&mut conn, "SELECT max(id) AS n FROM tags"),
        6,
        "the sequence went back"
    );
    let duplicate = conn.batch_execute("INSERT INTO tags (label) VALUES (x'66')");
    assert!(duplicate.is_err(), "UNIQUE must survive");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM tag_labels"), 4);
    let newest = project.migrations().pop().unwrap();
    // Down turns the labels back into text: a blob is no String, so it refuses, whole.
    let refused = conn.revert_migration(&*newest).unwrap_err().to_string();
    assert!(
        refused.contains(
            "tags.label of the row id = 6 holds X'66', which Diesel cannot read as Text (String)"
        ),
        "{refused}"
    );
    drop(conn);
    let mut conn = application_database(&_db.path().join("app.sqlite3"));
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM tags"), 4);
    conn.batch_execute("DELETE FROM tags WHERE id = 6").unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
}

#[test]
fn new_foreign_key_that_existing_rows_break_fails_naming_the_table() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        user_id -> Nullable<Integer>,\n",
    );
    project.generate("audit user");
    let (db, mut conn, _) = seeded_blog(&project);
    conn.batch_execute("UPDATE audit SET user_id = 99 WHERE id = 1")
        .unwrap();
    let before = schema_of(&mut conn);

    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(audit -> users (user_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    project.generate("link audit to users");
    let err = upgrade_fails(&mut conn, &project);
    assert!(
        err.contains("audit: a row references a missing parent row"),
        "{err}"
    );
    drop(conn);
    let mut reopened = application_database(&db.path().join("app.sqlite3"));
    assert_eq!(schema_of(&mut reopened), before);
    assert_blog_rows(&mut reopened);
    let fk: i64 = count(
        &mut reopened,
        "SELECT foreign_keys AS n FROM pragma_foreign_keys",
    );
    assert_eq!(fk, 1);
    reopened
        .batch_execute("UPDATE audit SET user_id = 1 WHERE id = 1")
        .unwrap();
    common::upgrade(&mut reopened, &project);
}

#[test]
fn dropping_a_table_with_its_not_null_reference_is_refused_before_any_default_is_asked_for() {
    let project = Project::fixture("blog");
    let schema = project.read("schema/schema.rs");
    let start = schema.find("diesel::table! {\n    users").unwrap();
    let end = start + schema[start..].find("\n}\n").unwrap() + 3;
    project.write(
        "schema/schema.rs",
        &format!("{}{}", &schema[..start], &schema[end..])
            .replace("diesel::joinable!(posts -> users (user_id));\n", "")
            .replace("(audit, posts, users,)", "(audit, posts,)")
            .replace("        user_id -> Integer,\n", ""),
    );
    // No --default could make it possible, so none is asked for.
    for args in [
        &["generate", "drop users"][..],
        &["generate", "drop users", "--default", "posts.user_id=0"],
    ] {
        let run = project.assert_rejected(args);
        assert!(
            run.stderr.contains(
                "table users cannot be dropped with posts.user_id: the column is NOT NULL"
            ),
            "{args:?}: {run:?}"
        );
        assert!(
            !run.stderr
                .contains("--default posts.user_id=<SQL expression>"),
            "{run:?}"
        );
    }
}
