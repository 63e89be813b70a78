//! What the commands over a whole history cost: `verify` (every version up, down and up
//! again on seeded rows, checked at every step) next to diesel_cli's `migration redo --all`
//! (the same walk, checking nothing, on no rows), and `squash` of the whole history into
//! one proven baseline. The project is the generate benchmark's synthetic one: T tables and
//! M migrations (one creating every table, then one `ADD COLUMN` each). One run of each,
//! with the release `dev` binary and the pinned diesel_cli (`DIESEL_CLI`, else
//! `target/tools/bin/diesel`); without diesel_cli its column says so.
//!
//!     cargo bench -p dev --bench history                 # 200x600 and 200x1000
//!     cargo bench -p dev --bench history -- 100x300      # other sizes: TABLESxMIGRATIONS

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

mod child;
mod synthetic;

const BIN: &str = env!("CARGO_BIN_EXE_dev");

fn main() {
    let mut sizes: Vec<(usize, usize)> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            let (t, m) = a.split_once('x')?;
            Some((t.parse().ok()?, m.parse().ok()?))
        })
        .collect();
    if sizes.is_empty() {
        sizes = vec![(200, 600), (200, 1000)];
    }
    let diesel = child::diesel_cli();
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| tables / migrations | verify | diesel migration redo --all | ratio | squash | peak memory, verify / squash |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut goals = Vec::new();
    for (tables, migrations) in sizes {
        let dir = tempfile::tempdir().unwrap();
        let (project, tmp) = (dir.path().join("project"), dir.path().join("tmp"));
        fs::create_dir_all(&tmp).unwrap();
        synthetic::write_project(&project, tables, migrations, false);
        child::ok(BIN, &project, &tmp, &["rehash"]);
        let verify = child::ok(BIN, &project, &tmp, &["verify"]);
        let redo = diesel
            .as_ref()
            .map(|diesel| redo_all(diesel, &project, dir.path()));
        let head = synthetic::version(migrations - 1);
        let squash = child::ok(
            BIN,
            &project,
            &tmp,
            &["squash", "--to", &head, "baseline", "--no-cache"],
        );
        let (redo_cell, ratio) = match redo {
            Some(redo) => (
                format!("{:.1} s", redo.as_secs_f64()),
                format!("{:.1}x", verify.0.as_secs_f64() / redo.as_secs_f64()),
            ),
            None => ("not measured: no diesel_cli".into(), "-".into()),
        };
        println!(
            "| {tables} / {migrations} | {:.1} s | {redo_cell} | {ratio} | {:.2} s | {} / {} MiB |",
            verify.0.as_secs_f64(),
            squash.0.as_secs_f64(),
            verify.1 / 1024,
            squash.1 / 1024
        );
        if let Some(redo) = redo {
            let times = verify.0.as_secs_f64() / redo.as_secs_f64();
            goals.push(child::goal(
                &format!("verify within 2x of redo --all at {tables} / {migrations}"),
                &format!("{times:.1}x"),
                times <= 2.0,
            ));
        }
        goals.push(child::goal(
            &format!("squash under 3 s at {tables} / {migrations}"),
            &format!("{:.2} s", squash.0.as_secs_f64()),
            squash.0.as_secs_f64() < 3.0,
        ));
    }
    for goal in goals {
        println!("{goal}");
    }
}

/// `diesel migration redo --all` on a database `diesel migration run` brought to head, timed
/// alone; run where no diesel.toml is found, so it rewrites no schema.rs.
fn redo_all(diesel: &Path, project: &Path, dir: &Path) -> Duration {
    let database = dir.join("diesel.sqlite3");
    let versions = project.join("versions");
    let diesel_run = |args: &[&str]| {
        let status = std::process::Command::new(diesel)
            .args(args)
            .args(["--database-url", database.to_str().unwrap()])
            .args(["--migration-dir", versions.to_str().unwrap()])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "diesel {args:?} failed");
    };
    diesel_run(&["migration", "run"]);
    let start = Instant::now();
    diesel_run(&["migration", "redo", "--all"]);
    start.elapsed()
}
