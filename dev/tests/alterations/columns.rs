//! A column's type, default and NOT NULL changed: rebuilds that keep every byte they do not
//! describe, conversions that fail atomically, and the values NOT NULL needs.

use diesel_migrations::MigrationHarness;

use crate::common::{
    self, application_database, apply_and_revert_newest, assert_blog_rows, count, schema_of,
    seeded_blog, Project,
};
use crate::{stored, upgrade_fails};

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
