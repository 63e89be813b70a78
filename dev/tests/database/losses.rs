//! The refusals that keep data from being lost quietly: a version that drops a table, a
//! column or rows runs only with a yes, however it is written, and `--rehearse` says what
//! each version does to the rows.

use crate::common::{ok_on as ok, run_on as run};
use crate::{at_first_version, project_with_hand_written, project_with_history};

#[test]
fn every_spelling_of_a_drop_needs_a_yes() {
    let project = project_with_hand_written("", false);
    let db = at_first_version(&project);
    for up in [
        "DROP TABLE main.audit;",
        "DROP TABLE \"audit\";",
        "drop table /* old notes */ [AUDIT];",
        "DROP TABLE IF EXISTS main.\"audit\";",
    ] {
        project.write("versions/2026-02-01-000000_by_hand/up.sql", up);
        let refused = run(&project, &db, &["upgrade"]);
        assert_eq!(refused.code, Some(2), "{up}: {refused:?}");
        assert!(
            refused.stderr.contains(
                "refusing to run: up.sql of 2026-02-01-000000_by_hand drops table audit with 3 rows"
            ),
            "{up}: {refused:?}"
        );
        assert_eq!(db.count("SELECT count(*) FROM audit"), 3, "{up}");
        assert_eq!(db.applied(), ["20260101000000"], "{up}");
    }
    project.write(
        "versions/2026-02-01-000000_by_hand/up.sql",
        "ALTER TABLE main.\"posts\" DROP COLUMN Title;",
    );
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("drops column posts.title with 6 values"),
        "{refused:?}"
    );
    ok(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(
        db.count("SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'title'"),
        0
    );
    project.assert_no_temp_leftovers();
}

#[test]
fn losses_are_confirmed_on_a_terminal() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let (code, text) = project.run_on_terminal(&format!("upgrade --database {}", db.arg()), "y\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("drops column users.age with 2 values. Continue? [y/N]"),
        "{text}"
    );
    assert_eq!(db.applied().len(), 5);
}

#[test]
fn a_rebuild_by_hand_counts_the_column_it_leaves_behind_not_the_table() {
    let project = project_with_hand_written(
        "PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE posts_new (
    id INTEGER NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
INSERT INTO posts_new (id, user_id) SELECT id, user_id FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
CREATE INDEX posts_user_id ON posts (user_id);
ALTER TABLE users RENAME COLUMN age TO years;
COMMIT;
PRAGMA foreign_keys = ON;
",
        true,
    );
    let db = at_first_version(&project);
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains(
            "refusing to run: up.sql of 2026-02-01-000000_by_hand drops column posts.title with 6 values\n"
        ),
        "only the column is lost, and a renamed column is not: {refused:?}"
    );
    assert_eq!(db.count("SELECT count(title) FROM posts"), 6);
    let upgraded = ok(&project, &db, &["upgrade", "--yes"]);
    assert!(upgraded.stderr.contains("(--yes given)"), "{upgraded:?}");
    assert_eq!(db.count("SELECT count(*) FROM posts"), 6);
    assert_eq!(db.count("SELECT count(years) FROM users"), 2);
}

#[test]
fn a_file_that_cannot_be_tried_on_the_schema_needs_a_yes_and_says_why() {
    let project = project_with_hand_written(
        "DROP TABLE audit;\nINSERT INTO nowhere SELECT * FROM posts;\n",
        false,
    );
    let db = at_first_version(&project);
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("drops table audit with 3 rows, and stops at line 2 on a copy of the database's schema (no such table: nowhere), so what it drops cannot be counted"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("by_hand/up.sql:2:1"), "{refused:?}");
    assert_eq!(db.count("SELECT count(*) FROM audit"), 3);
    project.assert_no_temp_leftovers();
}

#[test]
fn a_hand_written_file_that_deletes_rows_is_confirmed_like_a_drop() {
    // A rebuild by hand whose copy leaves rows behind: no table or column goes.
    let project = project_with_hand_written(
        "CREATE TABLE posts_new (\n    id INTEGER NOT NULL PRIMARY KEY,\n    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n    title TEXT NOT NULL\n);\nINSERT INTO posts_new SELECT * FROM posts WHERE id > 2;\nDROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;\nCREATE INDEX posts_user_id ON posts (user_id);\n",
        false,
    );
    let db = at_first_version(&project);
    let before = std::fs::read(&db.path).unwrap();
    let refused = run(&project, &db, &["upgrade"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("refusing to run: up.sql of 2026-02-01-000000_by_hand drops 2 of 6 rows of posts (id = 1, id = 2)"),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "the database changed"
    );
    project.assert_no_temp_leftovers();
    ok(&project, &db, &["upgrade", "--yes"]);
    assert_eq!(db.count("SELECT count(*) FROM posts"), 4);
}

#[test]
fn rehearse_runs_every_pending_version_on_a_copy_and_says_what_each_does_to_the_rows() {
    let project = project_with_history();
    let db = at_first_version(&project);
    let before = std::fs::read(&db.path).unwrap();
    let rehearsed = run(&project, &db, &["upgrade", "--rehearse"]);
    // Dropping users.age loses values: exit 1, the version and the values named.
    assert_eq!(rehearsed.code, Some(1), "{rehearsed:?}");
    let drop_age = rehearsed
        .stderr
        .lines()
        .find(|l| l.contains("_drop_age:"))
        .unwrap_or_else(|| panic!("{rehearsed:?}"));
    assert!(
        drop_age.contains("up ")
            && drop_age.contains("loses 2 values of users.age (the column is gone)"),
        "{drop_age}"
    );
    let add_bio = rehearsed
        .stderr
        .lines()
        .find(|l| l.contains("_add_bio:"))
        .unwrap_or_else(|| panic!("{rehearsed:?}"));
    assert!(
        add_bio.contains("every row and value kept")
            && add_bio.contains("down")
            && add_bio.contains("every row and value back"),
        "{add_bio}"
    );
    assert!(
        rehearsed.stderr.contains("Peak size of the copy: "),
        "{rehearsed:?}"
    );
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "the database was touched"
    );
    assert_eq!(db.applied().len(), 1);
    project.assert_no_temp_leftovers();

    // Without a loss, exit 0.
    ok(&project, &db, &["upgrade", "--yes"]);
    let nothing = ok(&project, &db, &["upgrade", "--rehearse"]);
    assert!(
        nothing.stderr.contains("Every row and value survived."),
        "{nothing:?}"
    );
}
