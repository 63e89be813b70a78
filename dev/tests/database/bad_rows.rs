//! Rows a migration cannot take are named as the data's problem, with the rows.

use crate::common::{ok_on as ok, run_on as run, Project};
use crate::{assert_rows, at_first_version, project_with_hand_written};

#[test]
fn downgrade_onto_rows_that_reference_nothing_names_them() {
    let project = Project::fixture("blog");
    project.edit_schema("diesel::joinable!(posts -> users (user_id));\n", "");
    let unlink = project.generate("unlink posts from users");
    let db = at_first_version(&project);
    ok(&project, &db, &["upgrade"]);
    db.exec("INSERT INTO posts (id, user_id, title) VALUES (40, 99, 'orphan'), (41, 98, 'stray');");

    let failed = run(&project, &db, &["downgrade", "-1"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains(
            "cannot downgrade this data: 2 rows of posts reference rows of users that do not exist"
        ),
        "{failed:?}"
    );
    assert!(
        failed
            .stderr
            .contains("posts row 40: user_id = 99 matches no row of users (id)")
            && failed
                .stderr
                .contains("posts row 41: user_id = 98 matches no row of users (id)"),
        "{failed:?}"
    );
    assert!(
        failed.stderr.contains(&format!("{unlink}/down.sql:")),
        "{failed:?}"
    );
    assert!(
        failed.stderr.contains("the migration is not at fault"),
        "{failed:?}"
    );
    assert!(!failed.stderr.contains("fix the migration"), "{failed:?}");
    assert_eq!(db.applied().len(), 2, "the downgrade changed nothing");
    assert_eq!(db.count("SELECT count(*) FROM posts"), 8);
    project.assert_no_temp_leftovers();

    db.exec("DELETE FROM posts WHERE id IN (40, 41)");
    ok(&project, &db, &["downgrade", "-1"]);
    assert_rows(&db);
}

#[test]
fn the_unique_refusal_names_a_key_rows_really_share() {
    for (index, shared) in [
        (
            "CREATE UNIQUE INDEX users_age ON users (age);",
            "(age) = (30) in 2 rows",
        ),
        (
            "CREATE UNIQUE INDEX users_lower_name ON users (lower(name));",
            "(lower(name)) = ('ann') in 2 rows",
        ),
    ] {
        let project = project_with_hand_written(&format!("{index}\n"), false);
        let db = at_first_version(&project);
        // Two NULL ages, which never conflict, and two rows sharing a real key.
        db.exec("INSERT INTO users (id, name, age) VALUES (4, 'ANN', 30), (5, 'dee', NULL);");
        let failed = run(&project, &db, &["upgrade"]);
        assert_eq!(failed.code, Some(2), "{failed:?}");
        assert!(
            failed.stderr.contains(&format!(
                "= rows already share a key of the new index: {shared}"
            )),
            "{index}: {failed:?}"
        );
        assert!(!failed.stderr.contains("NULL) in"), "{failed:?}");
    }
}

#[test]
fn rows_that_break_a_new_unique_index_are_named_as_the_data_s_problem() {
    let project = project_with_hand_written(
        "-- names must be unique from now on\nCREATE UNIQUE INDEX users_name_unique ON users (name);\n",
        false,
    );
    let db = at_first_version(&project);
    db.exec("INSERT INTO users (id, name) VALUES (4, 'ANN');");
    let failed = run(&project, &db, &["upgrade"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains(
            "migration `2026-02-01-000000_by_hand` cannot upgrade this data: UNIQUE constraint failed: users.name"
        ),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("by_hand/up.sql:2:1"), "{failed:?}");
    assert!(
        failed
            .stderr
            .contains("rows already in the database break a constraint"),
        "{failed:?}"
    );
    assert_eq!(db.applied(), ["20260101000000"]);
    project.assert_no_temp_leftovers();
}
