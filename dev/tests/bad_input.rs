//! Every bad input gets a clear message, exit code 2, and nothing written or left behind.

mod common;

use common::Project;

fn add_migration(project: &Project, name: &str, up: Option<&str>) {
    std::fs::create_dir_all(project.file(&format!("versions/{name}"))).unwrap();
    if let Some(up) = up {
        project.write(&format!("versions/{name}/up.sql"), up);
        project.write(&format!("versions/{name}/down.sql"), "SELECT 1;\n");
    }
}

fn with_pending_change(project: &Project) {
    project.add_posts_views();
}

#[test]
fn empty_message() {
    let project = Project::fixture("blog");
    with_pending_change(&project);
    let run = project.assert_rejected(&["generate", ""]);
    assert!(
        run.stderr.contains("the migration message is empty"),
        "{run:?}"
    );
}

#[test]
fn message_without_letters_or_digits() {
    let project = Project::fixture("blog");
    with_pending_change(&project);
    let run = project.assert_rejected(&["generate", "?! -- ..."]);
    assert!(run.stderr.contains("no letters or digits"), "{run:?}");
}

#[test]
fn version_directory_without_up_sql() {
    let project = Project::fixture("blog");
    add_migration(&project, "2026-02-01-000000_half_done", None);
    project.write(
        "versions/2026-02-01-000000_half_done/down.sql",
        "SELECT 1;\n",
    );
    let run = project.assert_rejected(&["check"]);
    assert!(
        run.stderr
            .contains("2026-02-01-000000_half_done` has no up.sql"),
        "{run:?}"
    );
    assert!(run.stderr.contains("help: "), "{run:?}");
    project.assert_rejected(&["generate", "anything"]);
}

#[test]
fn two_directories_with_the_same_version() {
    let project = Project::fixture("blog");
    add_migration(&project, "2026-01-01-000000_second", Some("SELECT 1;\n"));
    let run = project.assert_rejected(&["check"]);
    assert!(
        run.stderr
            .contains("two migrations have the version 2026-01-01-000000"),
        "{run:?}"
    );
}

#[test]
fn directory_name_diesel_would_not_accept() {
    let project = Project::fixture("blog");
    add_migration(&project, "add_users_table", Some("SELECT 1;\n"));
    let run = project.assert_rejected(&["generate", "x"]);
    assert!(
        run.stderr
            .contains("not a migration directory name Diesel accepts"),
        "{run:?}"
    );
}

#[test]
fn schema_rs_missing() {
    let project = Project::fixture("blog");
    std::fs::remove_file(project.file("schema/schema.rs")).unwrap();
    let run = project.assert_rejected(&["check"]);
    assert!(
        run.stderr.contains("cannot read the schema file"),
        "{run:?}"
    );
    assert!(run.stderr.contains("schema.rs"), "{run:?}");
}

#[test]
fn schema_rs_malformed_points_at_line_and_column() {
    let project = Project::fixture("blog");
    project.edit_schema("        note -> Text,", "        note Text,");
    let run = project.assert_rejected(&["generate", "x"]);
    assert!(run.stderr.contains("schema.rs is malformed"), "{run:?}");
    assert!(run.stderr.contains("schema/schema.rs:6:14"), "{run:?}");
    assert!(run.stderr.contains("6 |         note Text,"), "{run:?}");
}

#[test]
fn unknown_sql_type_in_schema_rs() {
    let project = Project::fixture("blog");
    project.edit_schema("        note -> Text,", "        note -> Strng,");
    let run = project.assert_rejected(&["check"]);
    assert!(run.stderr.contains("unknown SQL type `Strng`"), "{run:?}");
    assert!(run.stderr.contains("schema/schema.rs:6:17"), "{run:?}");
}

#[test]
fn sql_error_in_a_migration_names_directory_line_and_message() {
    let project = Project::fixture("blog");
    add_migration(
        &project,
        "2026-03-01-000000_broken",
        Some("-- fine first\nCREATE TABLE ok (id INTEGER PRIMARY KEY);\n\nINSERT INTO missing_table VALUES (1);\n"),
    );
    let run = project.assert_rejected(&["generate", "x"]);
    assert!(
        run.stderr
            .contains("migration `2026-03-01-000000_broken` failed: no such table: missing_table"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("versions/2026-03-01-000000_broken/up.sql:4:1"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("4 | INSERT INTO missing_table VALUES (1);"),
        "{run:?}"
    );
}

#[test]
fn versions_directory_not_writable() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::fixture("blog");
    with_pending_change(&project);
    let versions = project.file("versions");
    std::fs::set_permissions(&versions, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions; run the tool as an unprivileged user then.
    let as_root = unsafe { libc::geteuid() } == 0;
    let before = project.snapshot();
    let output = if as_root {
        for path in [project.path(), project.tmp.path()] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let unprivileged = [
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            common::BIN,
        ];
        project.command(
            "setpriv",
            &[&unprivileged[..], &["generate", "add views"]].concat(),
        )
    } else {
        project.command(common::BIN, &["generate", "add views"])
    }
    .run()
    .unwrap();
    std::fs::set_permissions(&versions, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("versions"), "{stderr}");
    assert!(stderr.contains("writable"), "{stderr}");
    assert_eq!(before, project.snapshot());
    project.assert_no_temp_leftovers();
}

#[test]
fn diesel_toml_missing() {
    let project = Project::fixture("blog");
    std::fs::remove_file(project.file("diesel.toml")).unwrap();
    let run = project.assert_rejected(&["check"]);
    assert!(run.stderr.contains("no diesel.toml in"), "{run:?}");
    assert!(run.stderr.contains("-C <project dir>"), "{run:?}");
}

#[test]
fn diesel_toml_malformed() {
    let project = Project::fixture("blog");
    project.write(
        "diesel.toml",
        "[print_schema]\nfile = \"schema/schema.rs\"\nfile_typo = 1\n",
    );
    let run = project.assert_rejected(&["check"]);
    assert!(run.stderr.contains("diesel.toml is malformed"), "{run:?}");
    assert!(run.stderr.contains("diesel.toml:3:1"), "{run:?}");
    project.write("diesel.toml", "[print_schema\n");
    let run = project.assert_rejected(&["check"]);
    assert!(run.stderr.contains("diesel.toml is malformed"), "{run:?}");
}
