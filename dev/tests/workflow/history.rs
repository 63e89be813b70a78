//! History integrity: versions recorded in dev.sum, edited, removed, out of order or merged
//! from two branches; the schema diagram; the stairway test; and this repository's own.

use std::path::Path;

use crate::common::{git, git_ok};
use crate::{check_fails_with, files_under, hooked_repository, recorded_project, stderr_of};

#[test]
fn edited_version_is_caught_and_rehash_accepts_it() {
    let project = recorded_project();
    let first = "versions/2026-01-01-000000_create_blog/up.sql";
    project.write(first, &format!("{}\n-- a comment\n", project.read(first)));
    let stderr = check_fails_with(&project, "C104", "2026-01-01-000000_create_blog");
    assert!(
        stderr.contains("never edit a migration others may have applied"),
        "{stderr}"
    );
    assert!(stderr.contains("cargo run -p dev -- rehash"), "{stderr}");

    let refused = project.assert_rejected(&["generate", "--empty", "more"]);
    assert!(
        refused.stderr.contains("does not match dev.sum"),
        "{refused:?}"
    );

    let rehash = project.run(&["rehash"]);
    assert_eq!(rehash.code, Some(0), "{rehash:?}");
    project.assert_check_passes();
}

#[test]
fn removed_and_out_of_order_versions_are_caught() {
    let project = recorded_project();
    let newest = project.newest();
    std::fs::remove_dir_all(project.file(&newest)).unwrap();
    project.edit_schema("        views -> Nullable<BigInt>,\n", "");
    check_fails_with(&project, "C103", newest.trim_start_matches("versions/"));

    let project = recorded_project();
    project.write("versions/2026-01-02-000000_late/up.sql", "SELECT 1;\n");
    project.write("versions/2026-01-02-000000_late/down.sql", "SELECT 1;\n");
    let stderr = check_fails_with(&project, "C105", "2026-01-02-000000_late");
    assert!(stderr.contains("run `generate` again"), "{stderr}");
}

#[test]
fn two_branches_adding_a_version_on_the_same_parent_are_caught_after_the_merge() {
    let project = recorded_project();
    let repo = project.path();
    git_ok(repo, &["init", "-q"]);
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "base"]);
    git_ok(repo, &["checkout", "-q", "-b", "theirs"]);
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        level -> Nullable<Text>,\n",
    );
    let theirs = project.generate("add audit level");
    // Their version a year later than ours will be, whatever this machine's clock says.
    std::fs::rename(
        project.file(&theirs),
        project.file("versions/2099-01-01-000000_add_audit_level"),
    )
    .unwrap();
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "theirs"]);
    git_ok(repo, &["checkout", "-q", "main"]);
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        bio -> Nullable<Text>,\n",
    );
    project.generate("add user bio");
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "ours"]);
    let merge = git(repo, &["merge", "-q", "theirs"]);
    assert!(!merge.status.success(), "dev.sum must conflict: {merge:?}");
    assert!(
        String::from_utf8_lossy(&merge.stdout).contains("dev.sum"),
        "{merge:?}"
    );
    let stderr = check_fails_with(&project, "C101", "dev.sum");
    assert!(
        stderr.contains("run `generate` again so yours comes after theirs"),
        "{stderr}"
    );
}

#[test]
fn diagram_is_written_between_markers_and_checked_for_freshness() {
    let project = recorded_project();
    project.write(
        "schema/README.md",
        "# Blog schema\n\nHand-written words stay.\n",
    );
    let run = project.run(&["diagram"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let readme = project.read("schema/README.md");
    assert!(
        readme.starts_with("# Blog schema\n\nHand-written words stay.\n\n<!-- dev diagram: begin"),
        "{readme}"
    );
    assert!(
        readme.contains("erDiagram\n    audit {\n        Integer id PK\n"),
        "{readme}"
    );
    assert!(
        readme.contains("    users ||--o{ posts : \"user_id\"\n"),
        "{readme}"
    );
    project.assert_check_passes();

    project.edit_schema(
        "        views -> Nullable<BigInt>,\n",
        "        views -> Nullable<BigInt>,\n        likes -> Nullable<BigInt>,\n",
    );
    // generate keeps the diagram current: check passes right after it.
    project.generate("add likes");
    project.assert_check_passes();
    let current = project.read("schema/README.md");
    assert!(current.contains("BigInt likes \"nullable\""), "{current}");
    assert!(current.starts_with("# Blog schema\n\nHand-written words stay.\n"));
    // A diagram that fell behind (edited by hand, merged badly) is caught and redrawn.
    project.write("schema/README.md", &readme);
    let stderr = check_fails_with(&project, "C301", "schema/README.md");
    assert!(stderr.contains("cargo run -p dev -- diagram"), "{stderr}");
    project.run(&["diagram"]);
    project.assert_check_passes();
    assert_eq!(project.read("schema/README.md"), current);
}

#[test]
fn verify_walks_the_history_and_catches_a_broken_down() {
    let project = recorded_project();
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("Verified 2 versions"), "{run:?}");
    // Every table is seeded, users' CHECK (age >= 0) included: three rows in each of three
    // tables. (Errors read without SQLite's extended codes once left users, and so posts,
    // unseeded, and nothing said so.)
    assert!(run.stdout.contains("(9 rows in all)"), "{run:?}");
    project.assert_no_temp_leftovers();

    let newest = project.newest();
    project.write(&format!("{newest}/down.sql"), "SELECT 1;\n");
    let broken = project.run(&["verify"]);
    assert_eq!(broken.code, Some(1), "{broken:?}");
    assert!(
        broken
            .stderr
            .contains("does not come back down to the schema before it"),
        "{broken:?}"
    );
    assert!(
        broken
            .stderr
            .contains(newest.trim_start_matches("versions/")),
        "{broken:?}"
    );

    project.write(
        &format!("{newest}/down.sql"),
        "ALTER TABLE posts DROP COLUMN views;\nDELETE FROM audit;\n",
    );
    let lossy = project.run(&["verify"]);
    assert_eq!(lossy.code, Some(1), "{lossy:?}");
    assert!(lossy.stderr.contains("loses data"), "{lossy:?}");
    project.assert_no_temp_leftovers();
}

/// An up that fails on the seeded rows is the migration's problem with rows a real
/// database may hold, and the help says so (not that its down is wrong).
#[test]
fn verify_says_an_up_that_fails_on_rows_would_fail_on_a_database_holding_them() {
    let project = recorded_project();
    project.add_version(
        "2026-06-01-000000_short_titles",
        "ALTER TABLE posts ADD CONSTRAINT short_title CHECK (length(title) < 2);\n",
        "ALTER TABLE posts DROP CONSTRAINT short_title;\n",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("short_titles fails up on seeded rows"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("a database holding them could not be upgraded"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("a down that does not undo its up"),
        "{run:?}"
    );
}

/// `verify` compares only the tables each step touched, as SQLite's authorizer names them:
/// the writes of the triggers a statement fires and of the foreign-key actions it causes
/// are among them, so a down that never names the table it empties is caught all the same.
#[test]
fn verify_follows_the_writes_of_triggers_and_cascades() {
    for (name, down, emptied) in [
        (
            "2026-06-01-000000_audit_by_trigger",
            "CREATE TRIGGER wipe AFTER UPDATE ON users BEGIN DELETE FROM audit; END;\nUPDATE users SET name = name;\nDROP TRIGGER wipe;\n",
            "audit",
        ),
        (
            // Every user comes back as it was; their posts go with ON DELETE CASCADE.
            "2026-06-01-000000_posts_by_cascade",
            "CREATE TEMP TABLE kept AS SELECT * FROM users;\nDELETE FROM users;\nINSERT INTO users SELECT * FROM kept;\nDROP TABLE kept;\n",
            "posts",
        ),
    ] {
        let project = recorded_project();
        project.add_version(name, "SELECT 1;\n", down);
        let run = project.run(&["rehash"]);
        assert_eq!(run.code, Some(0), "{run:?}");
        let lossy = project.run(&["verify"]);
        assert_eq!(lossy.code, Some(1), "{name}: {lossy:?}");
        assert!(
            lossy.stderr.contains(&format!("loses data: after down.sql, {emptied} lost")),
            "{name}: {lossy:?}"
        );
    }
}

#[test]
fn this_repository_verifies_its_own_history_checksums_and_diagram() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let project = dev::project::Project::load(root).unwrap();
    let verified = dev::prove::verify::verify(&project.versions_dir).unwrap();
    assert_eq!(
        verified.versions,
        dev::history::versions::scan(&project.versions_dir)
            .unwrap()
            .len()
    );
    let comparison = dev::workspace::Workspace::open(
        &project,
        false,
        false,
        &mut dev::support::timing::Timings::default(),
    )
    .unwrap();
    assert!(
        comparison.changes.is_empty(),
        "schema.rs has no migration: run generate"
    );
    let problems = dev::workspace::problems::history_problems(&project, &comparison).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(dev::history::checksums::recorded(&project.versions_dir));
    assert!(
        dev::workspace::problems::diagram_problem(&project, &comparison).is_none(),
        "run `cargo run -p dev -- diagram`"
    );
}

#[test]
fn versions_checked_out_with_crlf_still_match_their_checksums() {
    let project = recorded_project();
    for file in files_under(&project.file("versions")) {
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace('\n', "\r\n")).unwrap();
    }
    project.assert_check_passes();
}

#[test]
fn sql_written_into_an_uncommitted_empty_version_needs_only_a_rehash() {
    let project = hooked_repository();
    let repo = project.path();
    // A recorded history, committed.
    project.add_posts_views();
    project.generate("add views");
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "views"]);

    let version = project.generate_with(&["--empty", "backfill views"]);
    project.write(
        &format!("{version}/up.sql"),
        "UPDATE posts SET views = 0 WHERE views IS NULL;\n",
    );
    project.write(&format!("{version}/down.sql"), "SELECT 1;\n");
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("is not committed yet"), "{run:?}");
    assert!(
        run.stderr
            .contains("record your edit with `cargo run -p dev -- rehash`"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("never edit"), "{run:?}");

    // The hook says the same of the staged copy.
    git_ok(repo, &["add", "-A"]);
    let blocked = git(repo, &["commit", "-q", "-m", "backfill"]);
    assert!(!blocked.status.success(), "{blocked:?}");
    assert!(
        stderr_of(&blocked).contains("is not committed yet"),
        "{blocked:?}"
    );

    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "backfill"]);

    // Once committed, others may have applied it: editing it is the old mistake again.
    project.write(&format!("{version}/down.sql"), "SELECT 2;\n");
    let stderr = check_fails_with(&project, "C104", version.trim_start_matches("versions/"));
    assert!(
        stderr.contains("never edit a migration others may have applied"),
        "{stderr}"
    );
}

#[test]
fn verify_leaves_sqlite_sequence_to_sqlite() {
    let project = recorded_project();
    let version = project.generate_with(&["--empty", "counters"]);
    project.write(
        &format!("{version}/up.sql"),
        "CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL);\n",
    );
    project.write(&format!("{version}/down.sql"), "DROP TABLE counters;\n");
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("Verified 3 versions"), "{run:?}");
    project.assert_no_temp_leftovers();
}
