//! The performance benchmark: a synthetic Diesel project of T tables and M migrations (one
//! creating every table, each with an integer key, a few typed columns and a foreign key to
//! the previous table; then one ADD COLUMN each), with one pending change in schema.rs.
//!
//! For each size it measures, in one run: the floor (SQLite executing the same SQL on one
//! in-memory connection, fastest of 3), then the release `dev` binary's `generate` and
//! `check` without and with the cache (median of 3 runs each), each with its stage
//! breakdown (`--timings`) and peak memory.
//!
//!     cargo bench -p dev --bench generate                 # 50x100, 100x500, 200x1000
//!     cargo bench -p dev --bench generate -- 200x1000     # one size: TABLESxMIGRATIONS

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

mod child;
mod synthetic;

const BIN: &str = env!("CARGO_BIN_EXE_dev");

fn main() {
    let sizes: Vec<(usize, usize)> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| {
            let (t, m) = a.split_once('x')?;
            Some((t.parse().ok()?, m.parse().ok()?))
        })
        .collect();
    let sizes = if sizes.is_empty() {
        vec![(50, 100), (100, 500), (200, 1000)]
    } else {
        sizes
    };
    println!("machine: {} cores, {}", cores(), cpu_model());
    println!("| tables / migrations | floor | generate, no cache | ratio | check, no cache | generate, cached | check, cached | drift, cached | peak memory |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut details = String::new();
    let mut goals = Vec::new();
    for (tables, migrations) in sizes {
        let row = measure(tables, migrations, &mut details, &mut goals);
        println!("{row}");
    }
    for goal in goals {
        println!("{goal}");
    }
    print!("\n{details}");
}

fn measure(
    tables: usize,
    migrations: usize,
    details: &mut String,
    goals: &mut Vec<String>,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let tmp = dir.path().join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    synthetic::write_project(&project, tables, migrations, true);

    // The floor and the uncached generate alternate, so a machine that speeds up or slows
    // down during the run weighs on both alike; each figure is the median of its runs.
    let mut floors = Vec::new();
    let mut colds = Vec::new();
    for _ in 0..REPEAT {
        floors.push(floor(&project));
        reset(&project);
        colds.push(run_once(
            &project,
            &tmp,
            &["generate", "--no-cache", "--timings", "add pending"],
        ));
    }
    reset(&project);
    floors.sort();
    let floor = floors[REPEAT / 2];
    let cold = median(colds);
    let check_cold = run(&project, &tmp, &["check", "--no-cache", "--timings"]);
    // Warm the cache, then measure what a contributor's second run costs.
    run(&project, &tmp, &["check"]);
    let check_warm = run(&project, &tmp, &["check", "--timings"]);
    // A live database at head, then drift on it with head's snapshot in the cache.
    let live = dir.path().join("live.sqlite3");
    let live = live.to_str().unwrap();
    run_once(&project, &tmp, &["upgrade", "--database", live]);
    let drift = run(&project, &tmp, &["drift", "--timings", "--database", live]);
    let warm = run(&project, &tmp, &["generate", "--timings", "add pending"]);
    reset(&project);
    assert!(
        fs::read_dir(&tmp).unwrap().next().is_none(),
        "the runs left files in TMPDIR"
    );

    let peak = [&cold, &check_cold, &check_warm, &drift, &warm]
        .iter()
        .map(|r| r.peak_kib)
        .max()
        .unwrap();
    writeln!(details, "{tables} tables / {migrations} migrations").unwrap();
    for (name, r) in [
        ("generate --no-cache", &cold),
        ("check --no-cache", &check_cold),
        ("check (cached)", &check_warm),
        ("drift (cached)", &drift),
        ("generate (cached)", &warm),
    ] {
        writeln!(
            details,
            "  {name}: {:.1} ms wall, {} KiB peak",
            ms(r.wall),
            r.peak_kib
        )
        .unwrap();
        for line in r.timings.lines() {
            writeln!(details, "    {line}").unwrap();
        }
    }
    let size = format!("{tables} / {migrations}");
    for (what, run) in [("generate", &cold), ("check", &check_cold)] {
        let times = run.wall.as_secs_f64() / floor.as_secs_f64();
        goals.push(child::goal(
            &format!("{what} without a cache at most 1.0x the floor at {size}"),
            &format!("{times:.2}x"),
            times <= 1.0,
        ));
    }
    for (what, run, under) in [("generate", &warm, 30.0), ("check", &check_warm, 15.0)] {
        goals.push(child::goal(
            &format!("{what} with the cache under {under:.0} ms at {size}"),
            &format!("{:.0} ms", ms(run.wall)),
            ms(run.wall) < under,
        ));
    }
    format!(
        "| {tables} / {migrations} | {:.0} ms | {:.0} ms | {:.2}x | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} MiB |",
        ms(floor),
        ms(cold.wall),
        cold.wall.as_secs_f64() / floor.as_secs_f64(),
        ms(check_cold.wall),
        ms(warm.wall),
        ms(check_warm.wall),
        ms(drift.wall),
        peak as f64 / 1024.0
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Run {
    wall: Duration,
    peak_kib: i64,
    timings: String,
}

/// Runs the tool `REPEAT` times and keeps the run with the median wall time (the highest
/// peak memory of all), so one noisy run on a shared machine does not decide a figure.
fn run(project: &Path, tmp: &Path, args: &[&str]) -> Run {
    median(
        (0..REPEAT)
            .map(|_| {
                if args[0] == "generate" {
                    reset(project);
                }
                run_once(project, tmp, args)
            })
            .collect(),
    )
}

fn median(mut runs: Vec<Run>) -> Run {
    let peak = runs.iter().map(|r| r.peak_kib).max().unwrap();
    runs.sort_by_key(|r| r.wall);
    let mut median = runs.swap_remove(runs.len() / 2);
    median.peak_kib = peak;
    median
}

const REPEAT: usize = 7;

/// Runs the tool once, for its wall time, peak memory and stage breakdown.
fn run_once(project: &Path, tmp: &Path, args: &[&str]) -> Run {
    let child = child::run(BIN, project, tmp, args);
    // check exits 1 for the pending change, which is the point of the project.
    assert!(
        child.code == Some(0) || (child.code == Some(1) && args[0] == "check"),
        "dev {args:?} failed: {}",
        child.stderr
    );
    let timings = child
        .stderr
        .lines()
        .filter(|l| l.starts_with("timing:"))
        .collect::<Vec<_>>()
        .join("\n");
    Run {
        wall: child.wall,
        peak_kib: child.peak_kib,
        timings,
    }
}

/// SQLite alone executing every migration's up.sql, in order, on one in-memory connection.
fn floor(project: &Path) -> Duration {
    let sql: Vec<String> = child::version_dirs(project)
        .iter()
        .map(|d| fs::read_to_string(d.join("up.sql")).unwrap())
        .collect();
    let start = Instant::now();
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for file in &sql {
        conn.execute_batch(file).unwrap();
    }
    start.elapsed()
}

/// Removes what a generate wrote, so the next run sees the same pending change.
fn reset(project: &Path) {
    for entry in fs::read_dir(project.join("versions")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with("_add_pending")
        {
            fs::remove_dir_all(path).unwrap();
        }
    }
    let _ = fs::remove_file(project.join("versions/dev.sum"));
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
