//! The snapshot cache in cargo's target directory: used when it verifies, ignored (and
//! replaced) when it is corrupt or stale, bypassed by --no-cache, never able to change an
//! answer, and kept wherever CARGO_TARGET_DIR or build.target-dir puts the build; in the
//! user's cache directory for a project that is no cargo project.
//!
//! Each run here gets CARGO_TARGET_DIR=<project>/target, so a CARGO_TARGET_DIR set for
//! `cargo test` itself cannot send these projects' snapshots to a directory they share.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Project, Run};

/// The blog fixture as a cargo project (a Cargo.toml beside diesel.toml), whose snapshots
/// live in its target directory.
fn blog() -> Project {
    let project = Project::fixture("blog");
    project.write(
        "Cargo.toml",
        "[package]\nname = \"blog\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    project
}

/// Runs `dev ARGS` with the project's own target directory.
fn dev(project: &Project, args: &[&str]) -> Run {
    dev_with(project, args, |command| {
        command.env("CARGO_TARGET_DIR", project.file("target"))
    })
}

/// Runs `dev ARGS` with `environment` deciding where cargo's target directory is.
fn dev_with(
    project: &Project,
    args: &[&str],
    environment: impl FnOnce(duct::Expression) -> duct::Expression,
) -> Run {
    // duct applies an outer expression's environment first, so `environment` (inner) wins.
    let output = environment(project.command(common::BIN, args))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .run()
        .unwrap();
    Run::from(output)
}

fn check_passes(project: &Project) {
    let run = dev(project, &["check"]);
    assert_eq!(run.code, Some(0), "check failed: {run:?}");
    project.assert_no_temp_leftovers();
}

fn generate(project: &Project, message: &str) {
    let run = dev(project, &["generate", message]);
    assert_eq!(run.code, Some(0), "generate failed: {run:?}");
}

/// Edits the blog's only version in place: posts gets a column `slug`.
fn edit_history_adding_slug(project: &Project) {
    let up = "versions/2026-01-01-000000_create_blog/up.sql";
    project.write(
        up,
        &project
            .read(up)
            .replace("title TEXT NOT NULL", "title TEXT NOT NULL,\n    slug TEXT"),
    );
}

fn snapshots(project: &Project) -> Vec<PathBuf> {
    snapshots_in(&project.file("target/dev-cache"))
}

fn snapshots_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "sqlite3"));
    found.sort();
    found
}

#[test]
fn snapshot_is_stored_then_used_and_a_new_version_replays_on_top() {
    let project = blog();
    check_passes(&project);
    assert_eq!(snapshots(&project).len(), 1, "check stores head's snapshot");

    project.add_posts_views();
    generate(&project, "add views");
    check_passes(&project);
    assert_eq!(
        snapshots(&project).len(),
        2,
        "the new head is stored beside the old"
    );

    let uncached = dev(&project, &["check", "--no-cache", "--timings"]);
    let cached = dev(&project, &["check", "--timings"]);
    assert_eq!(uncached.code, Some(0));
    assert_eq!(cached.code, Some(0));
    assert_eq!(uncached.stdout, cached.stdout);
    // check opens no database: head's tables come as read from the snapshot before.
    assert!(
        cached.stderr.contains(
            "timing: replayed 0 of 2 versions; head's tables came as kept from its snapshot"
        ),
        "{cached:?}"
    );
    assert!(!uncached.stderr.contains("from a snapshot"), "{uncached:?}");
}

#[test]
fn a_new_version_replays_only_itself() {
    let project = blog();
    check_passes(&project);
    project.add_posts_views();
    let run = dev(&project, &["generate", "--timings", "add views"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("timing: replayed 0 of 1 versions"),
        "{run:?}"
    );
    let check = dev(&project, &["check", "--timings"]);
    assert!(
        check
            .stderr
            .contains("timing: replayed 1 of 2 versions; the rest came from a snapshot"),
        "{check:?}"
    );
}

#[test]
fn no_cache_neither_reads_nor_writes_it() {
    let project = blog();
    let run = dev(&project, &["check", "--no-cache"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!project.file("target").exists());
}

#[test]
fn corrupt_snapshot_is_detected_ignored_and_replaced() {
    let project = blog();
    check_passes(&project);
    let snapshot = snapshots(&project).pop().unwrap();
    let mut bytes = fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&snapshot, &bytes).unwrap();

    project.add_posts_views();
    // generate restores the snapshot (check only reads head's tables as kept).
    let generate = dev(&project, &["generate", "--dry-run", "add views"]);
    assert_eq!(generate.code, Some(0), "{generate:?}");
    assert!(generate.stdout.contains("ADD COLUMN"), "{generate:?}");
    assert_ne!(
        fs::read(&snapshot).unwrap(),
        bytes,
        "the corrupt entry is not kept"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn corrupt_kept_tables_of_head_are_read_again() {
    let project = blog();
    check_passes(&project);
    let heads = project.file("target/dev-cache/heads");
    let kept: Vec<PathBuf> = fs::read_dir(&heads)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "check keeps head's tables");
    // Bytes that would decode as a head of no table, without the digest they were kept
    // with: head is read from the database again.
    let mut bytes = fs::read(&kept[0]).unwrap();
    bytes.truncate(32);
    bytes.extend([0, 0]);
    fs::write(&kept[0], bytes).unwrap();
    fs::write(project.file("target/dev-cache/heads/x.kept"), "not kept").unwrap();
    project.add_posts_views();
    let check = dev(&project, &["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(check.stdout.contains("add column posts.views"), "{check:?}");
    project.assert_no_temp_leftovers();
}

#[test]
fn snapshot_that_is_not_what_its_key_says_is_never_trusted() {
    let project = blog();
    check_passes(&project);
    let snapshot = snapshots(&project).pop().unwrap();
    // Forge the entry: a database holding a table versions/ never made, with a checksum
    // that matches, but a migrations table that does not list the key's versions.
    let forged = snapshot.with_extension("forged");
    let conn = rusqlite::Connection::open(&forged).unwrap();
    conn.execute_batch("CREATE TABLE intruder (id INTEGER PRIMARY KEY);")
        .unwrap();
    drop(conn);
    fs::rename(&forged, &snapshot).unwrap();
    let bytes = fs::read(&snapshot).unwrap();
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    fs::write(snapshot.with_extension("sha256"), digest).unwrap();

    check_passes(&project);
    let generate = dev(&project, &["generate", "nothing"]);
    assert_eq!(
        generate.stdout.trim(),
        "No changes in schema detected.",
        "{generate:?}"
    );
}

#[test]
fn edited_history_misses_the_cache() {
    let project = blog();
    check_passes(&project);
    edit_history_adding_slug(&project);
    let check = dev(&project, &["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(
        check.stdout.contains("drop column posts.slug"),
        "the edited history was replayed: {check:?}"
    );
}

#[test]
fn the_cache_follows_cargo_target_dir_and_build_target_dir() {
    let project = blog();
    let elsewhere = tempfile::tempdir().unwrap();
    let run = dev_with(&project, &["check"], |command| {
        command.env("CARGO_TARGET_DIR", elsewhere.path())
    });
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(snapshots_in(&elsewhere.path().join("dev-cache")).len(), 1);
    assert!(!project.file("target").exists(), "the tree got a target/");

    project.write(
        ".cargo/config.toml",
        "[build]\ntarget-dir = \"build-output\"\n",
    );
    let run = dev_with(&project, &["check"], |command| command);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        snapshots_in(&project.file("build-output/dev-cache")).len(),
        1
    );
    assert!(!project.file("target").exists(), "the tree got a target/");
    project.assert_no_temp_leftovers();
}

#[test]
fn the_staged_check_starts_from_the_clones_snapshots() {
    let project = blog();
    project.add_posts_views();
    generate(&project, "add views");
    common::git_ok(project.path(), &["init", "-q"]);
    common::git_ok(project.path(), &["add", "-A"]);
    check_passes(&project);
    let index = fs::read(project.file("target/dev-cache/versions.index")).unwrap();
    let staged = dev(&project, &["check", "--staged", "--timings"]);
    assert_eq!(staged.code, Some(0), "{staged:?}");
    // The copy's file metadata is not the tree's: the hash index does not record it.
    assert_eq!(
        fs::read(project.file("target/dev-cache/versions.index")).unwrap(),
        index
    );
    assert!(
        staged.stderr.contains(
            "timing: replayed 0 of 2 versions; head's tables came as kept from its snapshot"
        ),
        "{staged:?}"
    );
    project.assert_no_temp_leftovers();
}

/// `check` and `init` created `target/` in a project that is no cargo project, where it
/// showed as untracked: its snapshots go to the user's cache directory instead, and a
/// CARGO_TARGET_DIR (meant for some cargo build) does not draw them out of it.
#[test]
fn a_project_that_is_no_cargo_project_gets_no_target_directory() {
    let project = Project::fixture("blog");
    for command in [&["check"][..], &["init"][..]] {
        let run = dev_with(&project, command, |c| c);
        assert!(
            run.code == Some(0) || run.code == Some(1),
            "{command:?}: {run:?}"
        );
    }
    assert!(!project.file("target").exists(), "the tree got a target/");
    let cache = project.cache_home().join("dev-migrate");
    let dirs: Vec<PathBuf> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "one directory for the project: {dirs:?}");
    assert_eq!(snapshots_in(&dirs[0]).len(), 1);
    let elsewhere = tempfile::tempdir().unwrap();
    let run = dev_with(&project, &["check"], |c| {
        c.env("CARGO_TARGET_DIR", elsewhere.path())
    });
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert!(!project.file("target").exists(), "the tree got a target/");
}

#[test]
fn an_edit_that_keeps_the_files_size_and_time_is_seen_through_the_hash_index() {
    let project = blog();
    check_passes(&project);
    // The index of what each version hashed to is trusted only well after it was written:
    // make it look written an hour from now, so that this run trusts it.
    let index = project.file("target/dev-cache/versions.index");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    set_modified(&index, later);
    check_passes(&project);
    set_modified(&index, later);
    let up = "versions/2026-01-01-000000_create_blog/up.sql";
    let before = fs::metadata(project.file(up)).unwrap().modified().unwrap();
    let edited = project
        .read(up)
        .replacen("title TEXT NOT NULL", "title BLOB NOT NULL", 1);
    assert_eq!(edited.len(), project.read(up).len());
    project.write(up, &edited);
    set_modified(&project.file(up), before);
    let check = dev(&project, &["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(
        check.stdout.contains("posts.title"),
        "the edited history was replayed: {check:?}"
    );
}

fn set_modified(path: &Path, time: std::time::SystemTime) {
    fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

#[test]
fn schema_rs_is_kept_parsed_by_content_and_an_edit_is_read() {
    let project = blog();
    check_passes(&project);
    let kept = |project: &Project| {
        fs::read_dir(project.file("target/dev-cache/schema-rs"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    assert_eq!(kept(&project), 1);
    check_passes(&project);
    assert_eq!(kept(&project), 1);
    let schema = project.read("schema/schema.rs");
    project.write(
        "schema/schema.rs",
        &schema.replacen(
            "title -> Text,",
            "title -> Text,\n        subtitle -> Nullable<Text>,",
            1,
        ),
    );
    let check = dev(&project, &["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(
        check.stdout.contains("add column posts.subtitle"),
        "the edited schema.rs was read: {check:?}"
    );
    assert_eq!(kept(&project), 2);
    project.write("schema/schema.rs", &schema);
    check_passes(&project);
}

#[test]
fn a_head_guessed_from_the_index_is_not_used_once_a_version_changed() {
    let project = blog();
    check_passes(&project);
    // The index names the head check saw; generate restores it on the other core while it
    // hashes the history, which now says another head.
    edit_history_adding_slug(&project);
    project.edit_schema(
        "title -> Text,",
        "title -> Text,\n        slug -> Nullable<Text>,",
    );
    let run = dev(
        &project,
        &["generate", "--dry-run", "--timings", "add slug"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("No changes in schema detected."),
        "the edited history was replayed: {run:?}"
    );
    assert!(!run.stderr.contains("head came from a snapshot"), "{run:?}");
    project.assert_no_temp_leftovers();
}
