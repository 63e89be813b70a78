//! Primary keys, references and joinables changed, and the rebuilds they need.

use diesel::connection::SimpleConnection;
use diesel_migrations::MigrationHarness;

use crate::common::{
    self, application_database, apply_and_revert_newest, assert_blog_rows, count, schema_of,
    seeded_blog, Project,
};
use crate::{stored, upgrade_fails};

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
    // Down adds user_id back with this value in every row, and no user has the id 0: a
    // reference the file's own guard would refuse (foreign keys are off while it rebuilds).
    let run = project.assert_rejected(&[
        "generate",
        "posts lose their author",
        "--default",
        "posts.user_id=0",
    ]);
    assert!(
        run.stderr.contains(
            "down.sql adds back the columns up drops with one value in every row (`--default posts.user_id=0`)"
        ) && run
            .stderr
            .contains("posts: a row references a missing parent row"),
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

/// A rebuild checks the references of the tables it changes and of those referencing them,
/// not the whole database: a broken reference elsewhere (written with foreign keys off) is
/// not the migration's to judge, and a check of every table would cost what the database
/// holds, not what the change touches.
#[test]
fn a_rebuild_checks_the_references_of_what_it_changes_and_no_more() {
    let project = Project::fixture("blog");
    // A nullability change is a rebuild of audit, which nothing references.
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Nullable<Text>,\n",
    );
    project.generate("notes may be missing");
    let (_db, mut conn, _) = seeded_blog(&project);
    conn.batch_execute("PRAGMA foreign_keys = OFF; UPDATE posts SET user_id = 99 WHERE id = 1; PRAGMA foreign_keys = ON;")
        .unwrap();
    let source =
        diesel_migrations::FileBasedMigrations::from_path(project.file("versions")).unwrap();
    conn.run_pending_migrations(source)
        .expect("a broken reference in posts is no business of a rebuild of audit");

    // A rebuild of users checks posts, which references it, and names it.
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Nullable<Text>,\n",
    );
    project.generate("names may be missing");
    let err = upgrade_fails(&mut conn, &project);
    assert!(
        err.contains("posts: a row references a missing parent row"),
        "{err}"
    );
}
