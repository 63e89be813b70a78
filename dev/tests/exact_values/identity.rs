//! Every row keeps its identity: rowids with gaps, a rowid key, an AUTOINCREMENT sequence,
//! through rebuilds, squashes and renames, up and down.

use crate::common::{ok_on, run_on, Database, Project};
use crate::{blog_with_events, events, events_database};

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
    project.add_version(
        "2026-03-01-000000_seed_events",
        "INSERT INTO events (name) VALUES ('first'), ('second'), ('third');\nDELETE FROM events WHERE name = 'second';\n",
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

#[test]
fn a_rowid_key_never_becomes_a_column() {
    // audit, keyed by id, becomes a table without a primary key, which print-schema keys by
    // its rowid and lists with a `rowid` column.
    let project = Project::fixture("blog");
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    db.exec("INSERT INTO audit (id, note) VALUES (10, 'a'), (20, 'b'), (35, 'c');");
    project.edit_schema(
        "    audit (id) {\n        id -> Integer,\n        note -> Text,",
        "    audit (rowid) {\n        rowid -> Integer,\n        id -> Integer,\n        note -> Text,",
    );
    let dir = project.generate("audit keyed by rowid");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("CREATE TABLE audit (\n    id INTEGER NOT NULL,\n    note TEXT NOT NULL\n);"),
        "{up}"
    );
    assert!(!up.contains("rowid INTEGER"), "{up}");
    project.assert_check_passes();
    ok_on(&project, &db, &["upgrade"]);
    // The rows keep their identity: the old key's values are their rowids.
    assert_eq!(
        db.rows("SELECT rowid, id, note FROM audit ORDER BY rowid"),
        [["10", "10", "a"], ["20", "20", "b"], ["35", "35", "c"]]
    );
    ok_on(&project, &db, &["downgrade", "-1"]);
    assert_eq!(
        db.rows("SELECT rowid, id, note FROM audit ORDER BY rowid"),
        [["10", "10", "a"], ["20", "20", "b"], ["35", "35", "c"]]
    );
    // And back: the key becomes a real column again, not a drop of `rowid`.
    ok_on(&project, &db, &["upgrade"]);
    project.edit_schema(
        "    audit (rowid) {\n        rowid -> Integer,\n        id -> Integer,",
        "    audit (id) {\n        id -> Integer,",
    );
    let dir = project.generate("audit keyed by id again");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(!up.contains("DROP COLUMN rowid"), "{up}");
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(db.rows("SELECT count(*) FROM audit"), [["3"]]);
}

#[test]
fn autoincrement_lost_to_a_new_key_is_warned_and_its_sequence_comes_back_with_down() {
    let project = Project::fixture("blog");
    project.add_version(
        "2026-02-01-000000_counters",
        "CREATE TABLE counters (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    v TEXT NOT NULL\n);\n",
        "DROP TABLE counters;\n",
    );
    project.edit_schema(
        "diesel::joinable!",
        "diesel::table! {\n    counters (id) {\n        id -> Nullable<Integer>,\n        v -> Text,\n    }\n}\n\ndiesel::joinable!",
    );
    project.edit_schema(
        "allow_tables_to_appear_in_same_query!(audit,",
        "allow_tables_to_appear_in_same_query!(audit, counters,",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    // Ids 1 to 3 given out, the newest deleted: the next row must get 4, never 3 again.
    db.exec(
        "INSERT INTO counters (v) VALUES ('a'), ('b'), ('c'); DELETE FROM counters WHERE id = 3;",
    );
    let sequence = || db.rows("SELECT seq FROM sqlite_sequence WHERE name = 'counters'");
    assert_eq!(sequence(), [["3"]]);

    project.edit_schema("    counters (id) {", "    counters (id, v) {");
    let dir = project.generate("counters keyed by id and v");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains(
            "-- WARNING: drops AUTOINCREMENT of counters, which the new primary key cannot keep"
        ),
        "{up}"
    );
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(sequence(), [["3"]], "the sequence stays for a down");
    ok_on(&project, &db, &["downgrade", "-1"]);
    assert_eq!(sequence(), [["3"]], "down restores the sequence exactly");
    db.exec("INSERT INTO counters (v) VALUES ('d');");
    assert_eq!(
        db.rows("SELECT id FROM counters WHERE v = 'd'"),
        [["4"]],
        "a deleted id was given out again"
    );
}

#[test]
fn a_generated_rename_loses_nothing_either_way() {
    for (edit, flag) in [
        (
            ("        name -> Text,", "        full_name -> Text,"),
            "users.name=full_name",
        ),
        (("    users (id) {", "    people (id) {"), "users=people"),
    ] {
        let project = Project::fixture("blog");
        let db = Database::new();
        ok_on(&project, &db, &["upgrade"]);
        db.exec("INSERT INTO users (id, name, age) VALUES (1, 'ann', 30);");
        let before = db.schema();
        project.edit_schema(edit.0, edit.1);
        if flag.contains('.') {
            project.generate_with(&["rename", "--rename", flag]);
        } else {
            project.edit_schema("joinable!(posts -> users", "joinable!(posts -> people");
            project.edit_schema("(audit, posts, users,)", "(audit, people, posts,)");
            project.generate_with(&["rename", "--rename-table", flag]);
        }
        // Neither direction drops anything, so neither asks.
        ok_on(&project, &db, &["upgrade"]);
        let down = run_on(&project, &db, &["downgrade", "-1"]);
        assert_eq!(down.code, Some(0), "{flag}: {down:?}");
        assert_eq!(db.schema(), before, "{flag}");
        assert_eq!(
            db.rows("SELECT id, name, age FROM users"),
            [["1", "ann", "30"]],
            "{flag}"
        );
    }
}
