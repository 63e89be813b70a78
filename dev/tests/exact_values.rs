//! Every row keeps its identity and every value its exact bytes, or the migration stops and
//! says which: generated migrations applied with `upgrade` and taken back with `downgrade`
//! on real database files holding rows chosen to break them.

mod common;

use common::{ok_on, run_on, Database, Project};

/// The blog fixture with a hand-written `events` table that has no primary key (print-schema
/// keys it by `rowid`), recorded and matching schema.rs.
fn blog_with_events() -> Project {
    let project = Project::fixture("blog");
    project.add_version(
        "2026-02-01-000000_events",
        "CREATE TABLE events (\n    name TEXT NOT NULL,\n    code TEXT,\n    size BIGINT,\n    ratio DOUBLE\n);\n",
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

/// A database at the version before the newest, holding one good row and one `bad` value in
/// `column` at rowid 35.
fn before_newest(project: &Project, column: &str, good: &str, bad: &str) -> Database {
    let db = Database::new();
    let versions = project.versions();
    let previous = &versions[versions.len() - 2];
    ok_on(project, &db, &["upgrade", previous]);
    db.exec(&format!(
        "INSERT INTO events (rowid, name, {column}) VALUES (10, 'good', {good}), (35, 'bad', {bad});"
    ));
    db
}

#[test]
fn a_type_change_keeps_each_value_exactly_or_fails_naming_the_row_and_the_value() {
    // (column, from, to, a value the new type keeps, values it does not, shown as SQLite
    // shows them).
    let cases: [(&str, &str, &str, &str, &[&str]); 6] = [
        (
            "code",
            "Nullable<Text>",
            "Nullable<Integer>",
            "'5'",
            &["'007'", "' 5 '", "'1e2'", "'-0'"],
        ),
        (
            "code",
            "Nullable<Text>",
            "Nullable<Timestamp>",
            "'2026-01-01 10:00:00'",
            &["'0001'", "'1.50'"],
        ),
        (
            "code",
            "Nullable<Text>",
            "Nullable<Double>",
            "'1.5'",
            &["'1e400'", "'00012'"],
        ),
        (
            "size",
            "Nullable<BigInt>",
            "Nullable<Double>",
            "5",
            &["9007199254740993"],
        ),
        (
            "size",
            "Nullable<BigInt>",
            "Nullable<Integer>",
            "2147483647",
            &["3000000000"],
        ),
        (
            "ratio",
            "Nullable<Double>",
            "Nullable<Float>",
            "0.5",
            &["1.0e+300"],
        ),
    ];
    for (column, from, to, good, bad_values) in cases {
        let project = blog_with_events();
        project.edit_schema(
            &format!("        {column} -> {from},"),
            &format!("        {column} -> {to},"),
        );
        let dir = project.generate("retype");
        let up = project.read(&format!("{dir}/up.sql"));
        assert!(
            up.contains(&format!(
                "-- WARNING: changes events.{column} from {from} to {to}"
            )),
            "{up}"
        );
        for bad in bad_values {
            let db = before_newest(&project, column, good, bad);
            let before = (db.schema(), events(&db));
            let failed = run_on(&project, &db, &["upgrade"]);
            assert_eq!(failed.code, Some(2), "{column} {to} {bad}: {failed:?}");
            assert!(
                failed.stderr.contains(&format!(
                    "events.{column} of the row rowid = 35 holds {bad}, which"
                )),
                "{column} {to} {bad}: {failed:?}"
            );
            assert_eq!((db.schema(), events(&db)), before, "{bad}: not atomic");
        }
        // Values the new type keeps are kept exactly, and come back exactly.
        let db = before_newest(&project, column, good, "NULL");
        let before = events(&db);
        ok_on(&project, &db, &["upgrade"]);
        let kept = db.rows(&format!(
            "SELECT quote({column}) FROM events WHERE rowid = 10"
        ));
        ok_on(&project, &db, &["downgrade", "-1"]);
        assert_eq!(
            events(&db),
            before,
            "{column} {to}: down changed values ({kept:?})"
        );
    }
}

#[test]
fn the_down_of_a_type_change_is_guarded_and_warned_too() {
    let project = blog_with_events();
    project.edit_schema(
        "        size -> Nullable<BigInt>,",
        "        size -> Nullable<Text>,",
    );
    let dir = project.generate("sizes as text");
    let down = project.read(&format!("{dir}/down.sql"));
    assert!(
        down.contains("-- WARNING: changes events.size from Nullable<Text> to Nullable<BigInt>"),
        "{down}"
    );
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    for bad in ["'hello'", "'007'"] {
        db.exec(&format!(
            "DELETE FROM events; INSERT INTO events (rowid, name, size) VALUES (10, 'good', '12'), (35, 'bad', {bad});"
        ));
        let before = (db.schema(), events(&db));
        let failed = run_on(&project, &db, &["downgrade", "-1", "--yes"]);
        assert_eq!(failed.code, Some(2), "{bad}: {failed:?}");
        assert!(
            failed.stderr.contains(&format!(
                "events.size of the row rowid = 35 holds {bad}, which"
            )),
            "{bad}: {failed:?}"
        );
        assert_eq!((db.schema(), events(&db)), before, "{bad}: not atomic");
    }
}

#[test]
fn a_default_must_be_a_value_of_its_column_s_type_for_every_use() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        created_at -> Timestamp,\n",
        "        created_at -> Timestamp,\n        score -> Integer,\n",
    );
    for refused in ["'n/a'", "x'00'", "1e999"] {
        let before = project.snapshot();
        let run = project.assert_rejected(&[
            "generate",
            "add score",
            "--default",
            &format!("users.score={refused}"),
        ]);
        assert!(
            run.stderr.contains(&format!(
                "`--default users.score={refused}` is no value of Integer"
            )),
            "{refused}: {run:?}"
        );
        assert!(run.stderr.contains("--default users.score=0"), "{run:?}");
        assert_eq!(
            project.snapshot(),
            before,
            "{refused}: something was written"
        );
    }
    // The backfill of a column made NOT NULL is held to the same rule.
    project.edit_schema("        score -> Integer,\n", "");
    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> Integer,",
    );
    let run =
        project.assert_rejected(&["generate", "age required", "--default", "users.age='old'"]);
    assert!(
        run.stderr
            .contains("`--default users.age='old'` is no value of Integer"),
        "{run:?}"
    );
    project.generate_with(&["age required", "--default", "users.age=0"]);
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

/// schema.rs text for three tables whose NOT NULL references make a cycle.
const CYCLE: &str = "diesel::table! {\n    ring_a (id) {\n        id -> Integer,\n        b_id -> Integer,\n    }\n}\n\ndiesel::table! {\n    ring_b (id) {\n        id -> Integer,\n        c_id -> Integer,\n    }\n}\n\ndiesel::table! {\n    ring_c (id) {\n        id -> Integer,\n        a_id -> Integer,\n    }\n}\n\ndiesel::joinable!(ring_a -> ring_b (b_id));\ndiesel::joinable!(ring_b -> ring_c (c_id));\ndiesel::joinable!(ring_c -> ring_a (a_id));\n";

#[test]
fn tables_in_a_foreign_key_cycle_are_seeded_proven_and_taken_down_with_their_rows() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "diesel::joinable!(posts",
        &format!("{CYCLE}diesel::joinable!(posts"),
    );
    project.edit_schema(
        "allow_tables_to_appear_in_same_query!(audit, posts, users,)",
        "allow_tables_to_appear_in_same_query!(audit, posts, ring_a, ring_b, ring_c, users,)",
    );
    let run = project.run(&["generate", "a ring"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("not seeded"), "{run:?}");
    assert!(
        run.stderr.contains("Proven on seeded data (6 tables"),
        "{run:?}"
    );

    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    db.exec(
        "BEGIN; PRAGMA defer_foreign_keys = ON;
         INSERT INTO ring_a VALUES (1, 1); INSERT INTO ring_b VALUES (1, 1); INSERT INTO ring_c VALUES (1, 1);
         COMMIT;",
    );
    let down = run_on(&project, &db, &["downgrade", "-1", "--yes"]);
    assert_eq!(down.code, Some(0), "{down:?}");
    assert_eq!(
        db.rows("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'ring%'"),
        [["0"]]
    );
}

/// The blog fixture with a hand-written `tasks` table (`columns` after its key, `fields`
/// schema.rs's lines for them), recorded and matching schema.rs.
fn blog_with_tasks(columns: &str, fields: &str) -> Project {
    let project = Project::fixture("blog");
    project.add_version(
        "2026-02-01-000000_tasks",
        &format!("CREATE TABLE tasks (\n    id INTEGER NOT NULL PRIMARY KEY,\n{columns}\n);\n"),
        "DROP TABLE tasks;\n",
    );
    project.edit_schema(
        "diesel::joinable!",
        &format!("diesel::table! {{\n    tasks (id) {{\n        id -> Integer,\n{fields}    }}\n}}\n\ndiesel::joinable!"),
    );
    project.edit_schema(
        "allow_tables_to_appear_in_same_query!(audit, posts,",
        "allow_tables_to_appear_in_same_query!(audit, posts, tasks,",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    project
}

#[test]
fn proven_names_what_it_proved_on_and_check_constrained_tables_get_rows() {
    // The CHECK on mail takes no value the table's text names: tasks cannot be seeded, and a
    // change to it is said not to be proven on rows.
    let project = blog_with_tasks(
        "    status TEXT NOT NULL CHECK (status IN ('active', 'done')),\n    mail TEXT CHECK (mail LIKE '%@%' AND length(mail) > 5) NOT NULL",
        "        status -> Text,\n        mail -> Text,\n",
    );
    project.edit_schema(
        "        status -> Text,",
        "        status -> Nullable<Text>,",
    );
    let run = project.run(&["generate", "status may be missing", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        document["proof"]["unproven"],
        serde_json::json!(["tasks"]),
        "{run:?}"
    );

    // CHECKs that values the table's text names satisfy: the table is seeded, the change
    // proven.
    let project = blog_with_tasks(
        "    status TEXT NOT NULL CHECK (status IN ('active', 'done')),\n    n INTEGER NOT NULL CHECK (n > 100)",
        "        status -> Text,\n        n -> Integer,\n",
    );
    project.edit_schema(
        "        status -> Text,",
        "        status -> Nullable<Text>,",
    );
    let run = project.run(&["generate", "status may be missing"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("Proven on seeded data (4 tables, 12 rows)"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("not seeded"), "{run:?}");
}

#[test]
fn a_new_reference_to_a_new_table_is_planned_whatever_the_seeds_hold() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        tag_id -> Nullable<Integer>,\n",
    );
    project.generate("audit tag");
    // tags is new, and audit.tag_id (existing, NULL in a real database) now references it.
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::table! {\n    tags (id) {\n        id -> Integer,\n        label -> Text,\n    }\n}\n\ndiesel::joinable!(audit -> tags (tag_id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    project.edit_schema(
        "allow_tables_to_appear_in_same_query!(audit, posts, users,)",
        "allow_tables_to_appear_in_same_query!(audit, posts, tags, users,)",
    );
    let dir = project.generate("tag audit");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("-- WARNING: makes audit.tag_id reference tags: a row that names no row there stops the migration; fix or clear such rows first"),
        "{up}"
    );
    // A database whose audit rows hold only NULL there takes it; one naming a tag that
    // does not exist fails, atomically, naming the row.
    let versions = project.versions();
    let previous = &versions[versions.len() - 2];
    let clean = Database::new();
    ok_on(&project, &clean, &["upgrade", previous]);
    clean.exec("INSERT INTO audit (id, note, tag_id) VALUES (1, 'a', NULL);");
    ok_on(&project, &clean, &["upgrade"]);
    let broken = Database::new();
    ok_on(&project, &broken, &["upgrade", previous]);
    broken.exec("INSERT INTO audit (id, note, tag_id) VALUES (1, 'a', NULL), (2, 'b', 5);");
    let before = (broken.schema(), broken.rows("SELECT * FROM audit"));
    let failed = run_on(&project, &broken, &["upgrade"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(failed.stderr.contains("audit"), "{failed:?}");
    assert!(failed.stderr.contains("tag_id = 5"), "{failed:?}");
    assert_eq!(
        (broken.schema(), broken.rows("SELECT * FROM audit")),
        before
    );
}

#[test]
fn convert_gives_the_conversion_a_value_cannot_make_on_its_own_with_a_warning() {
    let project = blog_with_events();
    project.edit_schema(
        "        code -> Nullable<Text>,",
        "        code -> Nullable<Integer>,",
    );
    // Only for a column whose type changes, and only one expression.
    let refused =
        project.assert_rejected(&["generate", "codes as numbers", "--convert", "events.name=1"]);
    assert!(
        refused
            .stderr
            .contains("`--convert events.name=...` names no column whose type changes"),
        "{refused:?}"
    );
    let refused = project.assert_rejected(&[
        "generate",
        "codes as numbers",
        "--convert",
        "events.code=1); DROP TABLE events; --",
    ]);
    assert!(
        refused.stderr.contains("is not one SQL expression"),
        "{refused:?}"
    );

    let dir = project.generate_with(&[
        "codes as numbers",
        "--convert",
        "events.code=CAST(trim(code) AS INTEGER)",
    ]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("-- WARNING: converts events.code with `CAST(trim(code) AS INTEGER)`: its values become what that gives"),
        "{up}"
    );
    let db = before_newest(&project, "code", "'5'", "' 007 '");
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(
        db.rows("SELECT quote(code) FROM events ORDER BY rowid"),
        [["5"], ["7"]]
    );
    // A value the expression gives that Diesel cannot read still stops it.
    let db = before_newest(&project, "code", "'5'", "'3000000000'");
    let failed = run_on(&project, &db, &["upgrade"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains("events.code of the row rowid = 35 holds '3000000000', which Diesel cannot read as Integer (i32)"),
        "{failed:?}"
    );
}
