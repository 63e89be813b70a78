//! `squash`: a history of versions with rows replaced by one proven baseline, and databases
//! migrated before the squash (at the squashed version, beyond it, part-way) met afterwards
//! by the tool and by the application's `open()`.

mod common;

use common::*;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use std::path::{Path, PathBuf};

/// The blog fixture grown to six versions: columns added, reference rows inserted by a
/// hand-written version, a table added, then one more column.
fn six_versions() -> Project {
    let project = Project::fixture("blog");
    // A diagram the project keeps, which `check` verifies after the squash.
    project.write("schema/README.md", "# Schema\n");
    assert_eq!(project.run(&["diagram"]).code, Some(0));
    project.add_posts_views();
    project.generate("add views");
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        level -> Nullable<Integer>,\n",
    );
    project.generate("add level");
    let seed = project.generate_with(&["--empty", "seed audit"]);
    let up = project.read(&format!("{seed}/up.sql"));
    project.write(
        &format!("{seed}/up.sql"),
        // ANALYZE leaves statistics tables, which describe rows, not the schema.
        &format!(
            "{up}INSERT INTO audit (note, level) VALUES ('seeded', 1), ('it''s', NULL);\nANALYZE;\n"
        ),
    );
    let down = project.read(&format!("{seed}/down.sql"));
    project.write(
        &format!("{seed}/down.sql"),
        &format!("{down}DELETE FROM audit WHERE note IN ('seeded', 'it''s');\n"),
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.edit_schema(
        "diesel::joinable!",
        "diesel::table! {\n    tags (id) {\n        id -> Integer,\n        label -> Text,\n    }\n}\n\ndiesel::joinable!",
    );
    project.edit_schema("(audit, posts, users,)", "(audit, posts, tags, users,)");
    project.generate("add tags");
    project.edit_schema(
        "        age -> Nullable<Integer>,\n",
        "        age -> Nullable<Integer>,\n        bio -> Nullable<Text>,\n",
    );
    project.generate("add bio");
    assert_eq!(project.versions().len(), 6);
    project
}

/// A database file that applied the first `applied` versions of the history as it is now,
/// with the blog's rows.
fn migrated(project: &Project, applied: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sqlite3");
    let mut conn = application_database(&path);
    conn.applied_migrations().unwrap();
    for migration in &project.migrations()[..applied] {
        conn.run_migration(&**migration).unwrap();
    }
    seed_blog(&mut conn);
    (dir, path)
}

fn open(project: &Project, path: &Path) -> Result<diesel::SqliteConnection, flowstate::OpenError> {
    let versions = project.file("versions");
    let squashed = flowstate::squashed::read(&versions).unwrap();
    let source = FileBasedMigrations::from_path(&versions).unwrap();
    flowstate::open_with(path, &source, squashed.as_ref())
}

fn applied(conn: &mut diesel::SqliteConnection) -> Vec<String> {
    conn.applied_migrations()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn squashing_five_versions_keeps_every_database_migrated_before_it_working() {
    let project = six_versions();
    let old = project.versions();
    let (_head_dir, old_head) = migrated(&project, 6);
    let (_at_dir, at) = migrated(&project, 5);
    let (_beyond_dir, beyond) = migrated(&project, 6);
    let (_part_dir, part_way) = migrated(&project, 3);

    let baseline = squash_the_first_five(&project, &old);
    let head_schema = a_fresh_database_is_the_old_head(&project, &old_head);
    a_database_at_the_squashed_version_goes_to_head(&project, &at, &old, &head_schema);
    a_database_beyond_it_is_left_as_it_is(&project, &beyond, &baseline);
    the_baseline_lists_the_versions_it_replaces(&project, &old);
    a_database_part_way_is_refused_and_left_as_it_was(&project, &part_way, &old);
}

/// Squashes the first five of the six versions `old`: the baseline replaces them, lists
/// them and keeps the rows one inserted, and `check` passes. Returns its directory name.
fn squash_the_first_five(project: &Project, old: &[String]) -> String {
    let run = project.run(&["squash", "--to", &old[4], "baseline of the blog"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    project.assert_no_temp_leftovers();
    let version = old[4].split('_').next().unwrap();
    let baseline = format!("{version}_baseline_of_the_blog");
    assert_eq!(project.versions(), [baseline.clone(), old[5].clone()]);
    assert!(
        run.stdout.contains("Squashed 5 versions into versions/"),
        "{run:?}"
    );
    let up = project.read(&format!("versions/{baseline}/up.sql"));
    for name in &old[..5] {
        assert!(up.contains(&format!("--   - {name}\n")), "{name}: {up}");
    }
    assert!(up.contains("INSERT INTO audit"), "{up}");
    project.assert_check_passes();
    baseline
}

/// SQLite's own entries: automatic indexes, and the statistics ANALYZE wrote.
fn sqlite_own(name: &str) -> bool {
    name.starts_with("sqlite_autoindex") || name.starts_with("sqlite_stat")
}

/// A fresh database made from the squashed history is the old history's head exactly (the
/// database at `old_head`), rows a replaced version inserted included. Returns its schema.
fn a_fresh_database_is_the_old_head(project: &Project, old_head: &Path) -> Vec<Entry> {
    let fresh_dir = tempfile::tempdir().unwrap();
    let mut fresh = open(project, &fresh_dir.path().join("new.sqlite3")).unwrap();
    let mut reference = application_database(old_head);
    let mut reference_schema = schema_of(&mut reference);
    reference_schema.retain(|e| !sqlite_own(&e.name));
    let mut fresh_schema = schema_of(&mut fresh);
    fresh_schema.retain(|e| !sqlite_own(&e.name));
    assert_eq!(fresh_schema, reference_schema);
    assert_eq!(
        count(
            &mut fresh,
            "SELECT count(*) AS n FROM audit WHERE note IN ('seeded', 'it''s')"
        ),
        2,
        "the rows a replaced version inserted"
    );
    fresh_schema
}

/// At the squashed version: the baseline counts as applied, the newer version runs, and the
/// tool finds the database at head, without drift.
fn a_database_at_the_squashed_version_goes_to_head(
    project: &Project,
    at: &Path,
    old: &[String],
    head_schema: &[Entry],
) {
    let mut conn = open(project, at).unwrap();
    assert_blog_rows_with_seeds(&mut conn);
    let mut schema = schema_of(&mut conn);
    schema.retain(|e| !sqlite_own(&e.name));
    assert_eq!(schema, head_schema, "the old database is now head");
    assert!(applied(&mut conn).contains(&old[5].split('_').next().unwrap().replace('-', "")));
    drop(conn);
    let current = project.run(&["current", "--database", at.to_str().unwrap()]);
    assert_eq!(current.code, Some(0), "{current:?}");
    assert!(current.stdout.contains("(head)"), "{current:?}");
    assert!(!current.stderr.contains("does not contain"), "{current:?}");
    let drift = project.run(&["drift", "--database", at.to_str().unwrap()]);
    assert_eq!(drift.code, Some(0), "{drift:?}");
}

/// Beyond it: nothing to run, nothing unknown; history shows the baseline applied.
fn a_database_beyond_it_is_left_as_it_is(project: &Project, beyond: &Path, baseline: &str) {
    let before = std::fs::read(beyond).unwrap();
    let mut conn = open(project, beyond).unwrap();
    assert_blog_rows_with_seeds(&mut conn);
    drop(conn);
    assert_eq!(
        std::fs::read(beyond).unwrap(),
        before,
        "open() changed a database at head"
    );
    let history = project.run(&["history", "--database", beyond.to_str().unwrap()]);
    assert!(
        history.stdout.contains(&format!(
            "[x] {baseline}  baseline of the blog (baseline: replaces 5 versions)"
        )),
        "{history:?}"
    );
}

/// `history --format json` lists the directories the baseline replaces, and none for the
/// version after it.
fn the_baseline_lists_the_versions_it_replaces(project: &Project, old: &[String]) {
    let listed = project.run(&["history", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let replaces = document["versions"][0]["replaces"].as_array().unwrap();
    assert_eq!(replaces.len(), 5, "{document}");
    assert_eq!(replaces[4], old[4].as_str());
    assert_eq!(
        document["versions"][1]["replaces"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// Part-way: refused by open() and by the tool, and left as it was.
fn a_database_part_way_is_refused_and_left_as_it_was(
    project: &Project,
    part_way: &Path,
    old: &[String],
) {
    let before = std::fs::read(part_way).unwrap();
    let Err(err) = open(project, part_way) else {
        panic!("open() ran the baseline on a database part-way through the squashed versions");
    };
    assert!(
        matches!(
            err,
            flowstate::OpenError::PartWay {
                applied: 3,
                replaced: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(&old[4]), "{err}");
    let upgrade = project.run(&["upgrade", "--database", part_way.to_str().unwrap()]);
    assert_eq!(upgrade.code, Some(2), "{upgrade:?}");
    assert!(
        upgrade
            .stderr
            .contains("part-way through the 5 versions squashed into"),
        "{upgrade:?}"
    );
    assert!(
        upgrade.stderr.contains("build from before the squash"),
        "{upgrade:?}"
    );
    assert_eq!(
        std::fs::read(part_way).unwrap(),
        before,
        "a refused database was changed"
    );
}

fn assert_blog_rows_with_seeds(conn: &mut diesel::SqliteConnection) {
    assert_eq!(count(conn, "SELECT count(*) AS n FROM users"), 3);
    assert_eq!(count(conn, "SELECT count(*) AS n FROM posts"), 6);
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS n FROM audit WHERE note IN ('seeded', 'it''s')"
        ),
        2
    );
}

#[test]
fn going_below_the_baseline_forgets_the_replaced_versions_too() {
    let project = six_versions();
    let old = project.versions();
    let (_dir, at) = migrated(&project, 5);
    assert_eq!(
        project.run(&["squash", "--to", &old[4], "baseline"]).code,
        Some(0)
    );
    let path = at.to_str().unwrap();
    let up = project.run(&["upgrade", "--database", path]);
    assert_eq!(up.code, Some(0), "{up:?}");
    assert!(up.stderr.contains(&format!("Upgrade {}", old[5])), "{up:?}");
    assert!(
        !up.stderr.contains("baseline"),
        "the baseline ran again: {up:?}"
    );
    let down = project.run(&["downgrade", "base", "--yes", "--database", path]);
    assert_eq!(down.code, Some(0), "{down:?}");
    let mut conn = application_database(&at);
    assert!(applied(&mut conn).is_empty(), "{:?}", applied(&mut conn));
    drop(conn);
    let up = project.run(&["upgrade", "--database", path]);
    assert_eq!(up.code, Some(0), "{up:?}");
    assert!(project
        .run(&["current", "--database", path])
        .stdout
        .contains("(head)"));
}

#[test]
fn squashing_again_keeps_recognising_databases_from_before_either_squash() {
    let project = six_versions();
    let old = project.versions();
    let (_dir, before_both) = migrated(&project, 5);
    let run = project.run(&["squash", "--to", &old[1], "first"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    // The first baseline, then add level, seed audit and add tags: at old[4] again.
    let (_dir2, after_first) = migrated(&project, 4);
    let run = project.run(&["squash", "--to", &old[4], "second"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let baseline = &project.versions()[0];
    let up = project.read(&format!("versions/{baseline}/up.sql"));
    for name in &old[..5] {
        assert!(up.contains(&format!("--   - {name}\n")), "{name}: {up}");
    }
    for database in [&before_both, &after_first] {
        let mut conn = open(&project, database).unwrap();
        assert_blog_rows_with_seeds(&mut conn);
    }
    project.assert_check_passes();
}

#[test]
fn squash_refuses_what_it_cannot_do_and_writes_nothing() {
    let project = six_versions();
    let old = project.versions();
    let run = project.assert_rejected(&["squash", "--to", &old[0], "baseline"]);
    assert!(run.stderr.contains("nothing to squash"), "{run:?}");
    let run = project.assert_rejected(&["squash", "--to", "nope", "baseline"]);
    assert!(run.stderr.contains("no version matches `nope`"), "{run:?}");
    let up = project.file(&format!("versions/{}/up.sql", old[1]));
    let text = std::fs::read_to_string(&up).unwrap();
    std::fs::write(&up, format!("{text}\n-- edited\n")).unwrap();
    let run = project.assert_rejected(&["squash", "--to", &old[3], "baseline"]);
    assert!(run.stderr.contains("does not match dev.sum"), "{run:?}");
    assert!(
        run.stderr.contains("changed after it was recorded"),
        "{run:?}"
    );
}

#[test]
fn a_squash_whose_proof_fails_leaves_the_history_as_it_was() {
    let project = six_versions();
    let old = project.versions();
    // The version after the squashed ones has a down that undoes nothing (a hand-written
    // mistake): the new history fails the stairway test, so nothing may be replaced.
    let newest = project.newest();
    project.write(&format!("{newest}/down.sql"), "SELECT 1;\n");
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    let before = project.snapshot();
    let run = project.run(&["squash", "--to", &old[4], "baseline"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("does not come back down to the schema before it"),
        "{run:?}"
    );
    assert!(run.stderr.contains("nothing was written"), "{run:?}");
    assert_eq!(project.snapshot(), before, "the tree changed");
    project.assert_no_temp_leftovers();
}
