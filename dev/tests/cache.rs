//! The snapshot cache under target/: used when it verifies, ignored (and replaced) when it
//! is corrupt or stale, bypassed by --no-cache, and never able to change an answer.

mod common;

use std::fs;
use std::path::PathBuf;

use common::Project;

fn snapshots(project: &Project) -> Vec<PathBuf> {
    let dir = project.file("target/dev-cache");
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "sqlite3"));
    found.sort();
    found
}

#[test]
fn snapshot_is_stored_then_used_and_a_new_version_replays_on_top() {
    let project = Project::fixture("blog");
    project.assert_check_passes();
    assert_eq!(snapshots(&project).len(), 1, "check stores head's snapshot");

    project.add_posts_views();
    project.generate("add views");
    project.assert_check_passes();
    assert_eq!(
        snapshots(&project).len(),
        2,
        "the new head is stored beside the old"
    );

    let uncached = project.run(&["check", "--no-cache", "--timings"]);
    let cached = project.run(&["check", "--timings"]);
    assert_eq!(uncached.code, Some(0));
    assert_eq!(cached.code, Some(0));
    assert_eq!(uncached.stdout, cached.stdout);
    assert!(
        cached
            .stderr
            .contains("timing: replayed 0 of 2 versions; the rest came from a snapshot"),
        "{cached:?}"
    );
    assert!(!uncached.stderr.contains("from a snapshot"), "{uncached:?}");
}

#[test]
fn a_new_version_replays_only_itself() {
    let project = Project::fixture("blog");
    project.assert_check_passes();
    project.add_posts_views();
    let run = project.run(&["generate", "--timings", "add views"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("timing: replayed 0 of 1 versions"),
        "{run:?}"
    );
    let check = project.run(&["check", "--timings"]);
    assert!(
        check
            .stderr
            .contains("timing: replayed 1 of 2 versions; the rest came from a snapshot"),
        "{check:?}"
    );
}

#[test]
fn no_cache_neither_reads_nor_writes_it() {
    let project = Project::fixture("blog");
    let run = project.run(&["check", "--no-cache"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!project.file("target").exists());
}

#[test]
fn corrupt_snapshot_is_detected_ignored_and_replaced() {
    let project = Project::fixture("blog");
    project.assert_check_passes();
    let snapshot = snapshots(&project).pop().unwrap();
    let mut bytes = fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&snapshot, &bytes).unwrap();

    project.add_posts_views();
    let check = project.run(&["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(check.stdout.contains("add column posts.views"), "{check:?}");
    assert_ne!(
        fs::read(&snapshot).unwrap(),
        bytes,
        "the corrupt entry is not kept"
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn snapshot_that_is_not_what_its_key_says_is_never_trusted() {
    let project = Project::fixture("blog");
    project.assert_check_passes();
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

    project.assert_check_passes();
    let generate = project.run(&["generate", "nothing"]);
    assert_eq!(
        generate.stdout.trim(),
        "No changes in schema detected.",
        "{generate:?}"
    );
}

#[test]
fn edited_history_misses_the_cache() {
    let project = Project::fixture("blog");
    project.assert_check_passes();
    let up = "versions/2026-01-01-000000_create_blog/up.sql";
    project.write(
        up,
        &project
            .read(up)
            .replace("title TEXT NOT NULL", "title TEXT NOT NULL,\n    slug TEXT"),
    );
    let check = project.run(&["check"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(
        check.stdout.contains("drop column posts.slug"),
        "the edited history was replayed: {check:?}"
    );
}
