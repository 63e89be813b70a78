//! Moving a database between versions: upgrade, downgrade, redo, stamp, `--sql` and
//! `--backup`, a failing version, the database the commands open, and what current,
//! history and show say.

use std::path::PathBuf;

use crate::common::{self, ok_on as ok, run_on as run, Database};
use crate::{assert_rows, at_first_version, project_with_history};

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
