//! `schema/objects.sql`: indexes, views and triggers declared beside schema.rs, adopted from
//! head, generated, proven, and applied to databases with rows.

mod common;

use common::*;
use diesel::connection::SimpleConnection;

const OBJECTS: &str = "schema/objects.sql";

/// The blog fixture with objects.sql adopted from head.
fn adopted() -> Project {
    let project = Project::fixture("blog");
    let run = project.run(&["objects"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("Wrote schema/objects.sql: 2 indexes, 0 views, 1 triggers of head"),
        "{run:?}"
    );
    project.assert_no_temp_leftovers();
    project
}

fn edit_objects(project: &Project, edit: impl FnOnce(String) -> String) {
    project.write(OBJECTS, &edit(project.read(OBJECTS)));
}

/// The stored SQL of object `name` in the database behind `conn`.
fn stored(conn: &mut diesel::SqliteConnection, name: &str) -> Option<String> {
    schema_of(conn)
        .into_iter()
        .find(|e| e.name == name)
        .and_then(|e| e.sql)
}

#[test]
fn adopting_objects_sql_on_an_existing_project_is_no_change() {
    let project = adopted();
    let text = project.read(OBJECTS);
    assert!(
        text.contains("CREATE INDEX posts_user_id ON posts (user_id);"),
        "{text}"
    );
    assert!(
        text.contains("CREATE TRIGGER users_audit AFTER INSERT ON users"),
        "{text}"
    );
    project.assert_check_passes();
    let run = project.run(&["generate", "nothing"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("No changes in schema detected."),
        "{run:?}"
    );
}

#[test]
fn indexes_are_added_changed_and_dropped_on_a_database_with_rows() {
    let project = adopted();
    let (_db, mut conn, before) = seeded_blog(&project);
    edit_objects(&project, |text| {
        text.replace(
            "CREATE INDEX posts_user_id ON posts (user_id);\n",
            "CREATE INDEX posts_title ON posts (title);\n",
        )
        .replace(
            "CREATE INDEX users_name ON users (name);",
            "CREATE INDEX users_name ON users (name, created_at DESC);\n\nCREATE UNIQUE INDEX users_unique_name ON users (name COLLATE BINARY);\n\nCREATE INDEX users_adults ON users (age) WHERE age >= 18;\n\nCREATE INDEX posts_lower_title ON posts (lower(title));",
        )
    });
    let check = project.run(&["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    for change in [
        "create index posts_title on posts",
        "change index users_name on users",
        "create index users_unique_name on users",
        "create index users_adults on users",
        "create index posts_lower_title on posts",
        "drop index posts_user_id on posts",
    ] {
        assert!(check.stdout.contains(change), "{change}: {check:?}");
    }
    let dir = project.generate("indexes");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("DROP INDEX posts_user_id;"), "{up}");
    assert!(
        up.contains("--   - create index users_adults on users\n"),
        "{up}"
    );
    project.assert_check_passes();
    let history = project.run(&["history", "--verbose"]);
    assert!(
        history
            .stdout
            .contains("      - drop index posts_user_id on posts\n"),
        "{history:?}"
    );

    upgrade(&mut conn, &project);
    assert_blog_rows(&mut conn);
    assert_eq!(
        stored(&mut conn, "users_adults").as_deref(),
        Some("CREATE INDEX users_adults ON users (age) WHERE age >= 18")
    );
    assert_eq!(stored(&mut conn, "posts_user_id"), None);
    let newest = project.migrations().pop().unwrap();
    diesel_migrations::MigrationHarness::revert_migration(&mut conn, &*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before, "down restores every entry");
    assert_blog_rows(&mut conn);
}

#[test]
fn a_unique_index_meeting_duplicates_fails_the_upgrade_atomically_naming_it() {
    let project = adopted();
    let (db, mut conn, before) = seeded_blog(&project);
    conn.batch_execute("INSERT INTO users (id, name, age) VALUES (4, 'dee', 30);")
        .unwrap();
    drop(conn);
    edit_objects(&project, |text| {
        text + "\nCREATE UNIQUE INDEX users_one_per_age ON users (age);\n"
    });
    project.generate("one user per age");
    let path = db.path().join("app.sqlite3");
    let run = project.run(&["upgrade", "--database", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("users_one_per_age"), "{run:?}");
    assert!(
        run.stderr
            .contains("rows already share a key of the new index: (age) = (30) in 2 rows"),
        "{run:?}"
    );
    let mut conn = application_database(&path);
    assert_eq!(schema_of(&mut conn), before, "the database is as it was");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM users"), 4);
}

#[test]
fn views_on_views_and_triggers_are_created_changed_and_dropped() {
    let project = adopted();
    let (_db, mut conn, before) = seeded_blog(&project);
    edit_objects(&project, |text| {
        text.replace("VALUES ('user ' || NEW.id)", "VALUES ('joined: ' || NEW.name)")
            + "\nCREATE VIEW post_titles AS SELECT user_id, title FROM posts;\n\nCREATE VIEW short_titles AS SELECT title FROM post_titles WHERE length(title) < 3;\n"
    });
    let dir = project.generate("views");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("--   - change trigger users_audit on users\n"),
        "{up}"
    );
    assert!(up.contains("--   - create view short_titles\n"), "{up}");
    project.assert_check_passes();
    upgrade(&mut conn, &project);
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM short_titles"),
        6
    );
    conn.batch_execute("INSERT INTO users (id, name) VALUES (9, 'eve');")
        .unwrap();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM audit WHERE note = 'joined: eve'"
        ),
        1
    );

    // Drop the view on the view and the trigger, change the other view.
    edit_objects(&project, |text| {
        let trigger = text.find("CREATE TRIGGER users_audit").unwrap();
        let end = text[trigger..].find("END;\n").unwrap() + trigger + "END;\n".len();
        let text = format!("{}{}", &text[..trigger], &text[end..]);
        text.replace(
            "\nCREATE VIEW short_titles AS SELECT title FROM post_titles WHERE length(title) < 3;\n",
            "",
        )
        .replace("SELECT user_id, title FROM posts", "SELECT title FROM posts")
    });
    let run = project.run(&["generate", "fewer views"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains(
            "warning[W006] (up.sql): drops trigger users_audit, which objects.sql no longer declares"
        ),
        "{run:?}"
    );
    project.assert_no_temp_leftovers();
    let dir = project.newest();
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("DROP VIEW short_titles;"), "{up}");
    assert!(up.contains("DROP TRIGGER users_audit;"), "{up}");
    project.assert_check_passes();
    upgrade(&mut conn, &project);
    assert_eq!(stored(&mut conn, "short_titles"), None);
    let migrations = project.migrations();
    for migration in migrations.iter().rev().take(2) {
        diesel_migrations::MigrationHarness::revert_migration(&mut conn, &**migration).unwrap();
    }
    conn.batch_execute(
        "DELETE FROM users WHERE id = 9; DELETE FROM audit WHERE note = 'joined: eve';",
    )
    .unwrap();
    assert_eq!(schema_of(&mut conn), before, "down restores every entry");
    assert_blog_rows(&mut conn);
}

#[test]
fn a_column_drop_and_a_rebuild_under_a_view_and_a_trigger_keep_them_working() {
    let project = adopted();
    edit_objects(&project, |text| {
        text + "\nCREATE VIEW grown_ups AS SELECT id, name, age FROM users WHERE age >= 18;\n\nCREATE TRIGGER posts_touch AFTER UPDATE OF title ON posts BEGIN UPDATE users SET age = age WHERE id = NEW.user_id; END;\n"
    });
    project.generate("view and trigger");
    let (_db, mut conn, before) = seeded_blog(&project);

    // schema.rs drops users.age and retypes posts.title (a rebuild of posts); the file
    // rewrites the view and the trigger so they no longer use the dropped column.
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Nullable<Text>,\n",
    );
    edit_objects(&project, |text| {
        text.replace(
            "SELECT id, name, age FROM users WHERE age >= 18",
            "SELECT id, name FROM users",
        )
        .replace("UPDATE users SET age = age", "UPDATE users SET name = name")
    });
    let dir = project.generate("drop age");
    let up = project.read(&format!("{dir}/up.sql"));
    let drop_view = up.find("DROP VIEW grown_ups;").expect("view dropped first");
    let rebuild = up.find("ALTER TABLE posts RENAME").expect("posts rebuilt");
    let create_view = up.find("CREATE VIEW grown_ups").expect("view recreated");
    assert!(drop_view < rebuild && rebuild < create_view, "{up}");
    project.assert_check_passes();

    upgrade(&mut conn, &project);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM grown_ups"), 3);
    // The recreated trigger fires, and names only what exists.
    conn.batch_execute(
        "UPDATE posts SET title = NULL WHERE id = 1; UPDATE posts SET title = 'a' WHERE id = 1;",
    )
    .unwrap();
    let newest = project.migrations().pop().unwrap();
    diesel_migrations::MigrationHarness::revert_migration(&mut conn, &*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before, "down restores every entry");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM users"), 3);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM posts"), 6);
}

#[test]
fn what_objects_sql_cannot_hold_is_refused_at_its_line() {
    let project = adopted();
    for (text, says) in [
        (
            "CREATE TABLE extra (a);",
            "tables are declared in schema.rs",
        ),
        (
            "CREATE INDEX IF NOT EXISTS x ON users (name);",
            "IF NOT EXISTS",
        ),
        (
            "CREATE INDEX x ON nowhere (name);",
            "which schema.rs does not declare",
        ),
        ("CREATE INDEX users_name ON users (age);", "declared twice"),
        (
            "CREATE INDEX by_age ON users (age,);",
            "SQLite cannot read this statement",
        ),
    ] {
        let original = project.read(OBJECTS);
        project.write(OBJECTS, &format!("{original}\n{text}\n"));
        let line = project.read(OBJECTS).lines().count();
        let run = project.assert_rejected(&["generate", "bad object"]);
        assert!(run.stderr.contains(says), "{text}: {run:?}");
        assert!(
            run.stderr.contains(&format!("schema/objects.sql:{line}:1")),
            "{text}: {run:?}"
        );
        let checked = project.assert_rejected(&["check"]);
        assert!(checked.stderr.contains(says), "{text}: {checked:?}");
        project.write(OBJECTS, &original);
    }
    project.write(
        OBJECTS,
        &(project.read(OBJECTS) + "\nCREATE INDEX x ON users (nope);\n"),
    );
    let run = project.assert_rejected(&["generate", "bad column"]);
    assert!(run.stderr.contains("no such column: nope"), "{run:?}");
}

#[test]
fn check_hints_at_a_joinable_column_no_index_leads_with() {
    let project = adopted();
    let quiet = project.run(&["check"]);
    assert!(!quiet.stderr.contains("hint:"), "{quiet:?}");
    edit_objects(&project, |text| {
        text.replace("CREATE INDEX posts_user_id ON posts (user_id);\n", "")
    });
    project.generate("drop posts_user_id");
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(0), "a hint is not a failure: {run:?}");
    assert!(
        run.stderr.contains(
            "hint: posts.user_id is a joinable! column with no index, so every lookup by it reads all of posts; add to schema/objects.sql:\n  CREATE INDEX posts_user_id ON posts (user_id);"
        ),
        "{run:?}"
    );
}

#[test]
fn a_view_sqlite_rewrites_for_a_rename_must_be_written_as_it_reads_after() {
    let project = adopted();
    edit_objects(&project, |text| {
        text + "\nCREATE VIEW names AS SELECT name FROM users;\n"
    });
    project.generate("names view");
    project.edit_schema("        name -> Text,", "        full_name -> Text,");
    let run = project.assert_rejected(&[
        "generate",
        "rename name",
        "--rename",
        "users.name=full_name",
    ]);
    assert!(
        run.stderr.contains(
            "objects.sql: index `users_name`, view `names` are not what this migration leaves"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("reads: CREATE INDEX users_name ON users (full_name)"),
        "{run:?}"
    );
    assert!(run.stderr.contains("schema/objects.sql:"), "{run:?}");
    assert!(
        run.stderr.contains("full_name"),
        "the rewritten text is shown: {run:?}"
    );

    edit_objects(&project, |text| {
        text.replace("SELECT name FROM users", "SELECT full_name FROM users")
            .replace("ON users (name)", "ON users (full_name)")
    });
    project.generate_with(&["rename name", "--rename", "users.name=full_name"]);
    project.assert_check_passes();
}

#[test]
fn a_declared_view_left_using_a_dropped_column_is_refused_at_its_line() {
    let project = adopted();
    edit_objects(&project, |text| {
        text + "\nCREATE VIEW ages AS SELECT age FROM users;\n"
    });
    project.generate("ages view");
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    let run = project.assert_rejected(&["generate", "drop age"]);
    assert!(run.stderr.contains("would break view ages"), "{run:?}");
    assert!(run.stderr.contains("schema/objects.sql:"), "{run:?}");
    assert!(run.stderr.contains("change it in objects.sql"), "{run:?}");
}
