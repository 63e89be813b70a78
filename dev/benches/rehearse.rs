//! What `upgrade --rehearse` costs next to the upgrade it rehearses: a database with one
//! table of N rows (2,000,000 unless told) and a pending generated rebuild of it (a column
//! made nullable, so the rows are copied and checked), measured with the release `dev`
//! binary. The upgrade runs on a fresh copy of the database each time; the rehearsal runs
//! the version up, down and up again on its own copy and compares every row by key after
//! each step. Median of 3 runs each, with peak memory.
//!
//!     cargo bench -p dev --bench rehearse                # 2,000,000 rows
//!     cargo bench -p dev --bench rehearse -- 500000      # another row count

use std::fs;
use std::path::Path;
use std::time::Duration;

mod child;

const BIN: &str = env!("CARGO_BIN_EXE_dev");
const REPEAT: usize = 3;

fn main() {
    let rows = child::rows_arg(2_000_000);
    let dir = tempfile::tempdir().unwrap();
    let (project, tmp) = child::project_making_name_nullable(BIN, dir.path(), write_project);

    let database = dir.path().join("app.sqlite3");
    let db = database.to_str().unwrap();
    run(
        &project,
        &tmp,
        &["upgrade", "create_events", "--database", db],
    );
    let conn = rusqlite::Connection::open(&database).unwrap();
    conn.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
         INSERT INTO events (id, name, size) SELECT i, 'event ' || i, i * 7 FROM n;"
    ))
    .unwrap();
    drop(conn);
    let bytes = fs::metadata(&database).unwrap().len();

    let copy = dir.path().join("copy.sqlite3");
    let copy_arg = copy.to_str().unwrap();
    let upgrades = child::median((0..REPEAT).map(|_| {
        fs::copy(&database, &copy).unwrap();
        run(&project, &tmp, &["upgrade", "--database", copy_arg])
    }));
    let rehearsals = child::median(
        (0..REPEAT).map(|_| run(&project, &tmp, &["upgrade", "--rehearse", "--database", db])),
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| rows | database | upgrade | upgrade --rehearse | ratio | peak memory, upgrade | peak memory, rehearse |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {rows} | {:.0} MB | {:.0} ms | {:.0} ms | {:.2}x | {} MiB | {} MiB |",
        bytes as f64 / 1e6,
        ms(upgrades.0),
        ms(rehearsals.0),
        ms(rehearsals.0) / ms(upgrades.0),
        upgrades.1 / 1024,
        rehearsals.1 / 1024
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(project: &Path, tmp: &Path, args: &[&str]) -> (Duration, i64) {
    child::ok(BIN, project, tmp, args)
}

fn write_project(root: &Path) {
    fs::create_dir_all(root.join("schema")).unwrap();
    fs::create_dir_all(root.join("versions/2026-01-01-000000_create_events")).unwrap();
    fs::write(
        root.join("diesel.toml"),
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    )
    .unwrap();
    fs::write(
        root.join("versions/2026-01-01-000000_create_events/up.sql"),
        "CREATE TABLE events (\n    id INTEGER NOT NULL PRIMARY KEY,\n    name TEXT NOT NULL,\n    size BIGINT\n);\n",
    )
    .unwrap();
    fs::write(
        root.join("versions/2026-01-01-000000_create_events/down.sql"),
        "DROP TABLE events;\n",
    )
    .unwrap();
    fs::write(
        root.join("schema/schema.rs"),
        "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    events (id) {\n        id -> Integer,\n        name -> Text,\n        size -> Nullable<BigInt>,\n    }\n}\n",
    )
    .unwrap();
}
