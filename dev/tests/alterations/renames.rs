//! Columns and tables renamed: their values, rows and references kept, and the rename
//! only hinted without its flag.

use diesel::connection::SimpleConnection;
use diesel_migrations::MigrationHarness;

use crate::common::{self, assert_blog_rows, count, schema_of, seeded_blog, Project};

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
