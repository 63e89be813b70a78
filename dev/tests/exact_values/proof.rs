//! What generate proves on: seeds for tables in a cycle of references, tables with CHECKs,
//! and new references, named in what it says.

use crate::common::{ok_on, run_on, Database, Project};

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
