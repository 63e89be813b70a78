//! What `upgrade` costs to rebuild one big table next to the smallest hand-written rebuild
//! of it run by the same SQLite (the bundled one): a database with a table of N rows
//! (10,000,000 unless told) beside ten other tables of N/20 rows each, which reference one
//! another (so a check of every reference in the database would read them all) but not the
//! big one. The pending version is generated: the big table's `name` may become NULL, a
//! rebuild. `upgrade` counts what it drops, copies the rows and checks the references of the
//! table and of those referencing it; the hand-written rebuild creates, copies, drops and
//! renames, nothing else. Each runs on a fresh copy of the database; median of 3, with the
//! upgrade's peak memory, and what one check of every reference in the database costs.
//!
//!     cargo bench -p dev --bench apply                 # 10,000,000 rows
//!     cargo bench -p dev --bench apply -- 1000000      # another row count
//!
//! `DEV=path/to/dev` measures another build of the tool (an older one, for a before and
//! after); it generates the version too.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

mod child;

/// The tool: `DEV`, else this build's release binary.
fn bin() -> String {
    std::env::var("DEV").unwrap_or_else(|_| env!("CARGO_BIN_EXE_dev").to_owned())
}

const REPEAT: usize = 3;
const OTHERS: usize = 10;

fn main() {
    let rows = child::rows_arg(10_000_000);
    let dir = tempfile::tempdir().unwrap();
    let (project, tmp) = child::project_making_name_nullable(&bin(), dir.path(), write_project);

    let database = dir.path().join("app.sqlite3");
    let db = database.to_str().unwrap();
    run(
        &project,
        &tmp,
        &["upgrade", "create_tables", "--database", db],
    );
    fill(&database, rows);
    let bytes = fs::metadata(&database).unwrap().len();

    let copy = dir.path().join("copy.sqlite3");
    let copy_arg = copy.to_str().unwrap();
    let fresh = || {
        let _ = fs::remove_file(&copy);
        fs::copy(&database, &copy).unwrap();
    };
    let upgrades = child::median((0..REPEAT).map(|_| {
        fresh();
        run(&project, &tmp, &["upgrade", "--database", copy_arg])
    }));
    let by_hand = child::median((0..REPEAT).map(|_| {
        fresh();
        (hand_written_rebuild(&copy), 0)
    }));
    fresh();
    let whole_check = {
        let conn = rusqlite::Connection::open(&copy).unwrap();
        let start = Instant::now();
        let broken: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0);
        start.elapsed()
    };
    println!(
        "machine: {} cores; database {:.0} MB: events {rows} rows, {OTHERS} other tables of {} rows",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        bytes as f64 / 1e6,
        rows / 20
    );
    println!("| rows | upgrade (generated rebuild) | hand-written rebuild | ratio | peak memory, upgrade | one check of every reference |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!(
        "| {rows} | {:.2} s | {:.2} s | {:.2}x | {} MiB | {:.2} s |",
        upgrades.0.as_secs_f64(),
        by_hand.0.as_secs_f64(),
        upgrades.0.as_secs_f64() / by_hand.0.as_secs_f64(),
        upgrades.1 / 1024,
        whole_check.as_secs_f64()
    );
    let ratio = upgrades.0.as_secs_f64() / by_hand.0.as_secs_f64();
    println!(
        "{}",
        child::goal(
            "the rebuild at most 1.2x the hand-written one",
            &format!("{ratio:.2}x"),
            ratio <= 1.2
        )
    );
}

/// The smallest rebuild that makes `name` nullable, as a person would write it.
fn hand_written_rebuild(database: &Path) -> Duration {
    let conn = rusqlite::Connection::open(database).unwrap();
    let start = Instant::now();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         CREATE TABLE events_new (id INTEGER NOT NULL PRIMARY KEY, name TEXT, size BIGINT);
         INSERT INTO events_new (id, name, size) SELECT id, name, size FROM events;
         DROP TABLE events;
         ALTER TABLE events_new RENAME TO events;
         CREATE INDEX events_size ON events (size);
         COMMIT;
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    start.elapsed()
}

/// `rows` events and `rows / 20` rows in each other table, each row of table i naming a row
/// of table i - 1.
fn fill(database: &Path, rows: i64) {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut sql = format!(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
         INSERT INTO events (id, name, size) SELECT i, 'event ' || i, i * 7 FROM n;"
    );
    for table in 0..OTHERS {
        let parent = if table == 0 {
            "NULL".to_owned()
        } else {
            "i".to_owned()
        };
        sql.push_str(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})
             INSERT INTO other_{table} (id, parent_id, note) SELECT i, {parent}, 'note ' || i FROM n;",
            rows / 20
        ));
    }
    sql.push_str("COMMIT;");
    conn.execute_batch(&sql).unwrap();
}

fn run(project: &Path, tmp: &Path, args: &[&str]) -> (Duration, i64) {
    child::ok(&bin(), project, tmp, args)
}

fn write_project(root: &Path) {
    let version = root.join("versions/2026-01-01-000000_create_tables");
    fs::create_dir_all(root.join("schema")).unwrap();
    fs::create_dir_all(&version).unwrap();
    fs::write(
        root.join("diesel.toml"),
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    )
    .unwrap();
    let mut up = "CREATE TABLE events (\n    id INTEGER NOT NULL PRIMARY KEY,\n    name TEXT NOT NULL,\n    size BIGINT\n);\nCREATE INDEX events_size ON events (size);\n".to_owned();
    let mut down = "DROP TABLE events;\n".to_owned();
    let mut schema = "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    events (id) {\n        id -> Integer,\n        name -> Text,\n        size -> Nullable<BigInt>,\n    }\n}\n".to_owned();
    for table in 0..OTHERS {
        let parent = if table == 0 {
            String::new()
        } else {
            format!(" REFERENCES other_{} (id)", table - 1)
        };
        up.push_str(&format!(
            "CREATE TABLE other_{table} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    parent_id INTEGER{parent},\n    note TEXT NOT NULL\n);\n"
        ));
        down.insert_str(0, &format!("DROP TABLE other_{table};\n"));
        schema.push_str(&format!(
            "\ndiesel::table! {{\n    other_{table} (id) {{\n        id -> Integer,\n        parent_id -> Nullable<Integer>,\n        note -> Text,\n    }}\n}}\n"
        ));
    }
    for table in 1..OTHERS {
        schema.push_str(&format!(
            "\ndiesel::joinable!(other_{table} -> other_{} (parent_id));\n",
            table - 1
        ));
    }
    let names: Vec<String> = std::iter::once("events".to_owned())
        .chain((0..OTHERS).map(|t| format!("other_{t}")))
        .collect();
    schema.push_str(&format!(
        "\ndiesel::allow_tables_to_appear_in_same_query!(\n    {},\n);\n",
        names.join(",\n    ")
    ));
    fs::write(version.join("up.sql"), up).unwrap();
    fs::write(version.join("down.sql"), down).unwrap();
    fs::write(root.join("schema/schema.rs"), schema).unwrap();
}
