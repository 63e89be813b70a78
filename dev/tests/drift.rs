//! `drift`: a live database compared with what its applied versions should have made of it,
//! read-only.

mod common;

use common::*;
use diesel::connection::SimpleConnection;

/// The blog fixture and a database upgraded to head with rows, closed.
fn live() -> (Project, tempfile::TempDir, String) {
    let project = Project::fixture("blog");
    let (db, conn, _) = seeded_blog(&project);
    drop(conn);
    let path = db.path().join("app.sqlite3").to_str().unwrap().to_owned();
    (project, db, path)
}

fn out_of_band(path: &str, sql: &str) {
    application_database(std::path::Path::new(path))
        .batch_execute(sql)
        .unwrap();
}

/// Runs `drift` and asserts it changed neither the database nor its directory.
fn drift(project: &Project, db: &tempfile::TempDir, path: &str) -> Run {
    let before = (std::fs::read(path).unwrap(), file_names(db.path()));
    let run = project.run(&["drift", "--database", path]);
    assert_eq!(
        (std::fs::read(path).unwrap(), file_names(db.path())),
        before,
        "drift wrote something: {run:?}"
    );
    project.assert_no_temp_leftovers();
    run
}

#[test]
fn a_clean_database_has_no_drift() {
    let (project, db, path) = live();
    let run = drift(&project, &db, &path);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("matches the 1 version it applied"),
        "{run:?}"
    );
    let current = project.run(&["current", "--database", &path]);
    assert!(!current.stderr.contains("drifted"), "{current:?}");
}

#[test]
fn changes_made_out_of_band_are_listed_as_check_lists_changes() {
    let (project, db, path) = live();
    out_of_band(
        &path,
        "ALTER TABLE users ADD COLUMN nickname TEXT;
         DROP INDEX users_name;
         CREATE TRIGGER posts_gone AFTER DELETE ON posts BEGIN INSERT INTO audit (note) VALUES ('gone'); END;",
    );
    let run = drift(&project, &db, &path);
    assert_eq!(run.code, Some(1), "{run:?}");
    for line in [
        "has drifted from the 1 version it applied:",
        "  - add column users.nickname (Nullable<Text>)",
        "  - drop index users_name on users",
        "  - create trigger posts_gone on posts",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:?}");
    }
    let current = project.run(&["current", "--database", &path]);
    assert_eq!(current.code, Some(0), "{current:?}");
    assert!(
        current
            .stderr
            .contains("the database has drifted from the versions it applied"),
        "{current:?}"
    );
}

#[test]
fn a_table_redefined_by_hand_and_versions_applied_elsewhere_are_drift() {
    let (project, db, path) = live();
    out_of_band(
        &path,
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (age >= 0)', 'CHECK (age >= 1)') WHERE name = 'users';
         PRAGMA writable_schema = OFF;
         INSERT INTO __diesel_schema_migrations (version) VALUES ('20990101000000');",
    );
    let run = drift(&project, &db, &path);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("  - applied 20990101000000, which versions/ does not contain"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("  - table users is defined differently"),
        "{run:?}"
    );
}

#[test]
fn a_version_skipped_in_the_middle_is_drift() {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    project.edit_schema(
        "        views -> Nullable<BigInt>,\n",
        "        views -> Nullable<BigInt>,\n        likes -> Nullable<BigInt>,\n",
    );
    let newest = project.generate("add likes");
    let (db, conn, _) = seeded_blog(&project);
    drop(conn);
    let path = db.path().join("app.sqlite3").to_str().unwrap().to_owned();
    let middle = project.versions()[1].clone();
    let key: String = middle.split('_').next().unwrap().replace('-', "");
    out_of_band(
        &path,
        &format!("DELETE FROM __diesel_schema_migrations WHERE version = '{key}';"),
    );
    let run = drift(&project, &db, &path);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "  - never applied {middle}, though it applied later versions"
        )),
        "{newest}: {run:?}"
    );
}

#[test]
fn a_database_that_does_not_exist_is_bad_input() {
    let project = Project::fixture("blog");
    let run = project.run(&["drift", "--database", "nowhere.sqlite3"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("does not exist"), "{run:?}");
    assert!(!project.file("nowhere.sqlite3").exists());
}

/// `drift`, `current` and `history --database` on a database in WAL mode left `-wal` and
/// `-shm` files beside it (they read through a read-only connection, which cannot remove
/// them). Reading a database leaves no file that was not there, and its bytes as they were.
#[test]
fn reading_a_wal_database_leaves_no_file_beside_it() {
    let (project, db, path) = live();
    let wal: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(wal, "wal");
    assert!(!std::path::Path::new(&format!("{path}-wal")).exists());
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(db.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = (std::fs::read(&path).unwrap(), listing());
    for args in [&["drift"][..], &["current"], &["history", "--verbose"]] {
        let mut full = args.to_vec();
        full.extend(["--database", path.as_str()]);
        let run = project.run(&full);
        assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
        assert_eq!(
            (std::fs::read(&path).unwrap(), listing()),
            before,
            "{args:?} left something: {run:?}"
        );
    }
}
