//! What a hostile (or unlucky) user can feed `generate`: text that would become SQL, changes
//! that would break views and triggers, narrowing types, non-constant defaults. Each test
//! runs the real binary on a copy of the blog fixture and judges the result on a real
//! database with rows.

mod common;

use common::*;
use diesel::connection::SimpleConnection;

/// The blog fixture with a hand-written view and extra objects in its first migration, as a
/// user would have written them before adopting the tool.
fn blog_with(extra_sql: &str) -> Project {
    let project = Project::fixture("blog");
    let up = "versions/2026-01-01-000000_create_blog/up.sql";
    let text = project.read(up);
    project.write(up, &format!("{text}\n{extra_sql}\n"));
    project
}

#[test]
fn a_line_break_in_the_message_is_refused_not_written_as_sql() {
    let project = Project::fixture("blog");
    let run = project.assert_rejected(&["generate", "--empty", "tidy logs\nDELETE FROM logs;"]);
    assert!(run.stderr.contains("a message is one line"), "{run:?}");
    project.add_posts_views();
    let run = project.assert_rejected(&["generate", "add views\r\nDROP TABLE users;"]);
    assert!(run.stderr.contains("line break"), "{run:?}");
}

#[test]
fn a_line_break_in_a_sql_name_stays_inside_comments_and_quotes() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        #[sql_name = \"bio\\nDELETE FROM posts;\"]\n        bio -> Nullable<Text>,\n",
    );
    let (_db, mut conn, _) = seeded_blog(&project);
    let dir = project.generate("add bio");
    upgrade(&mut conn, &project);
    assert_blog_rows(&mut conn);
    // The name appears only as a quoted identifier and, escaped, in comments.
    let up = project.read(&format!("{dir}/up.sql"));
    let outside_quotes = up.replace("\"bio\nDELETE FROM posts;\"", "\"bio\"");
    assert!(
        !outside_quotes.contains("\nDELETE"),
        "injected statement in:\n{up}"
    );
    assert!(up.contains("bio\\nDELETE FROM posts;"), "{up}");
    project.assert_check_passes();
}

#[test]
fn dropping_a_column_a_view_selects_is_refused_naming_the_view() {
    let project = blog_with("CREATE VIEW user_ages AS SELECT id, age FROM users;");
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    let run = project.assert_rejected(&["generate", "drop age"]);
    assert!(run.stderr.contains("would break view user_ages"), "{run:?}");
    assert!(run.stderr.contains("no such column: age"), "{run:?}");
    assert!(run.stderr.contains("generate --empty"), "{run:?}");
}

#[test]
fn dropping_a_column_a_trigger_uses_is_refused_naming_the_trigger() {
    let project = blog_with(
        "CREATE TRIGGER users_age AFTER UPDATE ON users BEGIN\n    INSERT INTO audit (note) VALUES (NEW.age);\nEND;",
    );
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    let run = project.assert_rejected(&["generate", "drop age"]);
    assert!(
        run.stderr.contains("would break trigger users_age"),
        "{run:?}"
    );
}

#[test]
fn a_trigger_that_merely_names_a_dropped_column_elsewhere_is_kept() {
    // users_audit writes audit.note; users.note is dropped while users.age changes type, so
    // users is rebuilt: the trigger must come back, and only the index on users.note goes.
    let project = blog_with(
        "ALTER TABLE users ADD COLUMN note TEXT;\nCREATE INDEX users_note ON users (note);",
    );
    project.edit_schema(
        "        created_at -> Timestamp,\n",
        "        created_at -> Timestamp,\n        note -> Nullable<Text>,\n",
    );
    project.assert_check_passes();
    project.edit_schema("        note -> Nullable<Text>,\n", "");
    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> Nullable<BigInt>,",
    );
    let (_db, mut conn, _) = seeded_blog(&project);
    let dir = project.generate("drop note, widen age");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("CREATE TRIGGER users_audit"), "{up}");
    assert!(up.contains("CREATE INDEX users_name"), "{up}");
    assert!(up.contains("WARNING: drops index users_note"), "{up}");
    upgrade(&mut conn, &project);
    assert_blog_rows(&mut conn);
    conn.batch_execute("INSERT INTO users (id, name) VALUES (4, 'dee')")
        .unwrap();
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM audit"),
        4,
        "the trigger did not fire"
    );
}

/// A `stats` table with a floating-point column of type `from`, generated and applied.
fn project_with_number(from: &str) -> Project {
    let project = Project::fixture("blog");
    let schema = project.read("schema/schema.rs");
    project.write(
        "schema/schema.rs",
        &schema.replace(
            "diesel::joinable!",
            &format!("diesel::table! {{\n    stats (id) {{\n        id -> Integer,\n        ttl -> {from},\n    }}\n}}\n\ndiesel::joinable!"),
        )
        .replace("audit, posts, users,", "audit, posts, stats, users,"),
    );
    project.generate("add stats");
    project
}

#[test]
fn narrowing_a_number_is_generated_and_fails_only_on_values_that_do_not_convert() {
    for (from, to) in [
        ("Double", "Integer"),
        ("Float", "Integer"),
        ("Double", "BigInt"),
    ] {
        let project = project_with_number(from);
        let db = tempfile::tempdir().unwrap();
        let mut conn = application_database(&db.path().join("app.sqlite3"));
        upgrade(&mut conn, &project);
        conn.batch_execute("INSERT INTO stats (id, ttl) VALUES (1, 2.0), (2, 3)")
            .unwrap();
        project.edit_schema(&format!("ttl -> {from}"), &format!("ttl -> {to}"));
        let run = project.run(&["generate", "narrow ttl"]);
        assert_eq!(run.code, Some(0), "{from} -> {to}: {run:?}");
        assert!(run.stderr.contains("can lose values"), "{run:?}");
        project.assert_check_passes();
        // Whole numbers convert.
        upgrade(&mut conn, &project);
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM stats WHERE typeof(ttl) = 'integer'"
            ),
            2
        );
        // A database holding a fraction fails atomically, naming the column.
        let other = tempfile::tempdir().unwrap();
        let path = other.path().join("app.sqlite3");
        let mut conn = application_database(&path);
        conn.batch_execute(diesel::migration::CREATE_MIGRATIONS_TABLE)
            .unwrap();
        let migrations = project.migrations();
        let (newest, older) = migrations.split_last().unwrap();
        for migration in older {
            diesel_migrations::MigrationHarness::run_migration(&mut conn, &**migration).unwrap();
        }
        conn.batch_execute("INSERT INTO stats (id, ttl) VALUES (1, 2.5)")
            .unwrap();
        let before = schema_of(&mut conn);
        let err =
            diesel_migrations::MigrationHarness::run_migration(&mut conn, &**newest).unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "stats.ttl of the row id = 1 holds 2.5, which Diesel cannot read as {to} (i"
            )),
            "{err}"
        );
        // A file that manages its own transaction leaves it open on failure: the database
        // is judged from a new connection, as the application's next start sees it.
        drop(conn);
        let mut conn = application_database(&path);
        assert_eq!(schema_of(&mut conn), before);
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM stats WHERE ttl = 2.5"),
            1
        );
    }
}

#[test]
fn a_non_constant_default_is_taken_by_a_rebuild() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        stamp -> Timestamp,\n",
    );
    let (_db, mut conn, before) = seeded_blog(&project);
    project.generate_with(&["--default", "posts.stamp=CURRENT_TIMESTAMP", "add stamp"]);
    project.assert_check_passes();
    upgrade(&mut conn, &project);
    assert_blog_rows(&mut conn);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM posts WHERE stamp IS NOT NULL"
        ),
        6
    );
    let newest = project.migrations().pop().unwrap();
    diesel_migrations::MigrationHarness::revert_migration(&mut conn, &*newest).unwrap();
    assert_eq!(schema_of(&mut conn), before);
    assert_blog_rows(&mut conn);
}

#[test]
fn a_default_that_is_not_one_expression_is_bad_input() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        stamp -> Integer,\n",
    );
    for bad in ["0); DROP TABLE users; --", "((1", "SELECT"] {
        let run = project.assert_rejected(&[
            "generate",
            "--default",
            &format!("posts.stamp={bad}"),
            "add stamp",
        ]);
        assert!(
            run.stderr.contains("is not one SQL expression"),
            "{bad}: {run:?}"
        );
    }
}

#[test]
fn verify_catches_a_hand_written_version_that_breaks_a_view_or_trigger() {
    let project = blog_with("CREATE VIEW notes AS SELECT note FROM audit;");
    let down = "versions/2026-01-01-000000_create_blog/down.sql";
    let text = project.read(down);
    project.write(down, &format!("DROP VIEW notes;\n{text}"));
    project.write(
        "versions/2026-02-01-000000_drop_audit/up.sql",
        "DROP TABLE audit;\n",
    );
    project.write(
        "versions/2026-02-01-000000_drop_audit/down.sql",
        "CREATE TABLE audit (\n    id INTEGER NOT NULL PRIMARY KEY,\n    note TEXT NOT NULL\n);\n",
    );
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("breaks views or triggers going up"),
        "{run:?}"
    );
    assert!(run.stderr.contains("view notes"), "{run:?}");
    assert!(run.stderr.contains("trigger users_audit"), "{run:?}");
    project.assert_no_temp_leftovers();
}

#[test]
fn messages_outside_ascii_name_the_directory_transliterated_and_cut_at_a_word() {
    let project = Project::fixture("blog");
    for (message, slug) in [
        ("ajouter la clé d'accès", "ajouter_la_cle_d_acces"),
        ("日本語", "ri_ben_yu"),
        (
            "add the extraordinarily long column description to users",
            "add_the_extraordinarily_long_column",
        ),
    ] {
        let dir = project.generate_with(&["--empty", message]);
        assert!(dir.ends_with(&format!("_{slug}")), "{message}: {dir}");
        assert!(
            project
                .read(&format!("{dir}/up.sql"))
                .starts_with(&format!("-- Message: {message}\n")),
            "{message}"
        );
    }
}
