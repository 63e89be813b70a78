//! What making a column NOT NULL costs on a big table, in place (the project says its
//! migrations run on SQLite 3.53 or later: `UPDATE` of the NULL rows, then `ALTER COLUMN ...
//! SET NOT NULL`, which scans) against a copy of the table (it says 3.47: the rebuild). One
//! table of N rows (2,000,000 unless told), with no NULL and then with one row in 100 NULL,
//! the database in WAL mode as replicated databases are; each upgrade runs the release
//! `dev` binary on a fresh copy.
//! Median of 3 runs each, with peak memory and what the upgrade wrote to files (the
//! database and its WAL: what a replica ships).
//!
//!     cargo bench -p dev --bench not_null                # 2,000,000 rows
//!     cargo bench -p dev --bench not_null -- 500000      # another row count

use std::fs;
use std::path::Path;
use std::time::Duration;

mod child;

const BIN: &str = env!("CARGO_BIN_EXE_dev");
const REPEAT: usize = 3;

fn main() {
    let rows = child::rows_arg(2_000_000);
    let dir = tempfile::tempdir().unwrap();
    let projects: Vec<(&str, (std::path::PathBuf, std::path::PathBuf))> = ["3.53", "3.47"]
        .into_iter()
        .map(|oldest| (oldest, project(&dir.path().join(oldest), oldest)))
        .collect();
    println!(
        "machine: {} cores; {rows} rows",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| NULLs | oldest-sqlite | plan | upgrade | written to files | peak memory |");
    println!("| --- | --- | --- | --- | --- | --- |");
    // Values the application always wrote (the common case: the migration only says so),
    // then one row in 100 NULL, which puts a NULL on every page.
    for (nulls, every) in [("no row NULL", 0), ("1 row in 100 NULL", 100)] {
        let database = dir.path().join(format!("app-{every}.sqlite3"));
        let (project, tmp) = &projects[0].1;
        let db = database.to_str().unwrap();
        child::ok(
            BIN,
            project,
            tmp,
            &["upgrade", "create_events", "--database", db],
        );
        let null = if every == 0 {
            "0".to_owned()
        } else {
            format!("i % {every} = 0")
        };
        rusqlite::Connection::open(&database)
            .unwrap()
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
                 INSERT INTO events (id, name, size)
                 SELECT i, 'event ' || i, CASE WHEN {null} THEN NULL ELSE i * 7 END FROM n;
                 PRAGMA wal_checkpoint(TRUNCATE);"
            ))
            .unwrap();
        let mut times = Vec::new();
        for (oldest, (project, tmp)) in &projects {
            let up = fs::read_to_string(child::version_dirs(project).pop().unwrap().join("up.sql"))
                .unwrap();
            let in_place = up.contains("ALTER COLUMN size SET NOT NULL");
            assert_eq!(in_place, *oldest == "3.53", "{up}");
            let copy = dir.path().join("copy.sqlite3");
            let copy_arg = copy.to_str().unwrap().to_owned();
            let mut runs: Vec<(Duration, i64, i64)> = (0..REPEAT)
                .map(|_| {
                    fs::copy(&database, &copy).unwrap();
                    let child =
                        child::run(BIN, project, tmp, &["upgrade", "--database", &copy_arg]);
                    assert_eq!(child.code, Some(0), "{}", child.stderr);
                    (child.wall, child.peak_kib, child.written_kib)
                })
                .collect();
            let peak = runs.iter().map(|r| r.1).max().unwrap();
            runs.sort();
            let (wall, _, written) = runs[REPEAT / 2];
            times.push((wall, written));
            println!(
                "| {nulls} | {oldest} | {} | {:.0} ms | {:.1} MB | {} MiB |",
                if in_place { "in place" } else { "copy" },
                wall.as_secs_f64() * 1000.0,
                written as f64 * 1024.0 / 1e6,
                peak / 1024
            );
        }
        let ((place, place_written), (copy, copy_written)) = (times[0], times[1]);
        println!(
            "goal: a scan, not a copy ({nulls}, {:.0} MB): in place takes {:.2}x the copy's time and writes {:.2}x its bytes",
            fs::metadata(&database).unwrap().len() as f64 / 1e6,
            place.as_secs_f64() / copy.as_secs_f64(),
            place_written as f64 / copy_written.max(1) as f64
        );
    }
}

/// A project in `dir` whose migrations run on SQLite `oldest` or later, with `events` made
/// and a generated version that makes `events.size` NOT NULL (NULLs become 0); the project
/// and the temp directory its runs use.
fn project(dir: &Path, oldest: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (project, tmp) = (dir.join("project"), dir.join("tmp"));
    fs::create_dir_all(project.join("schema")).unwrap();
    fs::create_dir_all(&tmp).unwrap();
    let version = project.join("versions/2026-01-01-000000_create_events");
    fs::create_dir_all(&version).unwrap();
    fs::write(
        project.join("diesel.toml"),
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    )
    .unwrap();
    fs::write(
        project.join("Cargo.toml"),
        format!("[package]\nname = \"app\"\n\n[package.metadata.dev-migrate]\noldest-sqlite = \"{oldest}\"\n"),
    )
    .unwrap();
    fs::write(
        version.join("up.sql"),
        "CREATE TABLE events (\n    id INTEGER NOT NULL PRIMARY KEY,\n    size BIGINT,\n    name TEXT NOT NULL\n);\n",
    )
    .unwrap();
    fs::write(version.join("down.sql"), "DROP TABLE events;\n").unwrap();
    fs::write(
        project.join("schema/schema.rs"),
        "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    events (id) {\n        id -> Integer,\n        size -> Nullable<BigInt>,\n        name -> Text,\n    }\n}\n",
    )
    .unwrap();
    child::ok(BIN, &project, &tmp, &["rehash"]);
    child::edit(&project, "size -> Nullable<BigInt>,", "size -> BigInt,");
    child::ok(
        BIN,
        &project,
        &tmp,
        &["generate", "sizes are known", "--default", "events.size=0"],
    );
    (project, tmp)
}
