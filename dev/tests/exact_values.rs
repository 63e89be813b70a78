//! Every row keeps its identity and every value its exact bytes, or the migration stops and
//! says which: generated migrations applied with `upgrade` and taken back with `downgrade`
//! on real database files holding rows chosen to break them.

mod common;

use common::{ok_on, Database, Project};

/// The blog fixture with a hand-written `events` table that has no primary key (print-schema
/// keys it by `rowid`), recorded and matching schema.rs.
fn blog_with_events() -> Project {
    let project = Project::fixture("blog");
    project.write(
        "versions/2026-02-01-000000_events/up.sql",
        "CREATE TABLE events (\n    name TEXT NOT NULL,\n    code TEXT,\n    size BIGINT,\n    ratio DOUBLE\n);\n",
    );
    project.write(
        "versions/2026-02-01-000000_events/down.sql",
        "DROP TABLE events;\n",
    );
    project.edit_schema(
        "diesel::joinable!",
        "diesel::table! {\n    events (rowid) {\n        rowid -> Integer,\n        name -> Text,\n        code -> Nullable<Text>,\n        size -> Nullable<BigInt>,\n        ratio -> Nullable<Double>,\n    }\n}\n\ndiesel::joinable!",
    );
    project.edit_schema(
        "allow_tables_to_appear_in_same_query!(audit,",
        "allow_tables_to_appear_in_same_query!(audit, events,",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    project
}

/// A database at head holding `events` rows at rowids with gaps.
fn events_database(project: &Project, rows: &str) -> Database {
    let db = Database::new();
    ok_on(project, &db, &["upgrade"]);
    db.exec(&format!(
        "INSERT INTO events (rowid, name, code, size, ratio) VALUES {rows};"
    ));
    db
}

fn events(db: &Database) -> Vec<Vec<String>> {
    db.rows("SELECT quote(rowid), quote(name), quote(code), quote(size), quote(ratio) FROM events ORDER BY rowid")
}

#[test]
fn a_rebuild_keeps_every_rowid_of_a_table_without_a_primary_key_up_and_down() {
    let project = blog_with_events();
    let db = events_database(
        &project,
        "(10, 'a', '007', 1, 0.5), (20, 'b', NULL, 2, NULL), (35, 'c', ' 5 ', NULL, 1e300)",
    );
    let before = events(&db);
    assert_eq!(before[0][0], "10");

    // A nullability change is a rebuild: the copy must carry each row's rowid.
    project.edit_schema(
        "        name -> Text,\n        code",
        "        name -> Nullable<Text>,\n        code",
    );
    let dir = project.generate("names may be missing");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("INSERT INTO events (rowid, name, code, size, ratio) SELECT rowid, name, code, size, ratio FROM _dev_old_events"), "{up}");

    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(events(&db), before, "up renumbered or changed rows");
    ok_on(&project, &db, &["downgrade", "-1"]);
    assert_eq!(events(&db), before, "down renumbered or changed rows");
}

#[test]
fn a_squash_baseline_keeps_the_rowids_the_history_left() {
    let project = blog_with_events();
    project.write(
        "versions/2026-03-01-000000_seed_events/up.sql",
        "INSERT INTO events (name) VALUES ('first'), ('second'), ('third');\nDELETE FROM events WHERE name = 'second';\n",
    );
    project.write(
        "versions/2026-03-01-000000_seed_events/down.sql",
        "DELETE FROM events;\n",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    let history = Database::new();
    ok_on(&project, &history, &["upgrade"]);
    let expected = events(&history);
    assert_eq!(expected[1][0], "3", "the history left a gap: {expected:?}");

    let newest = project.versions().pop().unwrap();
    let run = project.run(&["squash", "--to", &newest, "baseline"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let fresh = Database::new();
    ok_on(&project, &fresh, &["upgrade"]);
    assert_eq!(events(&fresh), expected, "the baseline renumbered rows");
}
