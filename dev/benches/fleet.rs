//! What `fleet upgrade` costs next to a shell loop of `diesel migration run` over the same
//! databases: N small tenant databases (the blog fixture's schema, a few rows each), each one
//! version behind (a generated column addition). Each runs on fresh copies of the same files
//! in the same run: the release `dev` binary with the default `-j` (the number of cores)
//! and with `-j 8`, and the pinned diesel_cli (`DIESEL_CLI`, else `target/tools/bin/diesel`,
//! which `.ci/run` installs) twice: from the project, as its users run it (it rewrites
//! schema.rs after each database, as diesel.toml says), and from where no diesel.toml is
//! found (migrations only). Reports wall time, databases a second and `dev`'s peak memory.
//!
//!     cargo bench -p dev --bench fleet                   # 1,000 and 10,000 databases
//!     cargo bench -p dev --bench fleet -- 200 2000       # other fleet sizes
//!
//! Without diesel_cli the loop is not measured, and the table says so.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod child;

const BIN: &str = env!("CARGO_BIN_EXE_dev");

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    let dir = tempfile::tempdir().unwrap();
    let (project, tmp) = (dir.path().join("project"), dir.path().join("tmp"));
    fs::create_dir_all(&tmp).unwrap();
    let template = tenant_template(&project, &tmp, dir.path());
    let diesel = child::diesel_cli();
    println!(
        "machine: {} cores; each tenant {} bytes, one version behind",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        fs::metadata(&template).unwrap().len()
    );
    println!("| databases | dev fleet upgrade (-j default) | -j 8 | peak memory | diesel loop, in the project | diesel loop, migrations only | speed-up (default -j) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for n in sizes {
        let tenants = dir.path().join("tenants");
        let glob = format!("{}/*.sqlite3", tenants.display());
        let fleet = |jobs: &[&str]| {
            copies(&template, &tenants, n);
            let mut args = vec!["fleet", "upgrade", glob.as_str()];
            args.extend(jobs);
            let run = child::run(BIN, &project, &tmp, &args);
            assert_eq!(run.code, Some(0), "fleet upgrade failed: {}", run.stderr);
            run
        };
        let default = fleet(&[]);
        let eight = fleet(&["-j", "8"]);
        let rate = |d: Duration| {
            format!(
                "{:.2} s ({:.0}/s)",
                d.as_secs_f64(),
                n as f64 / d.as_secs_f64()
            )
        };
        let mut loops = Vec::new();
        for in_project in [true, false] {
            loops.push(diesel.as_ref().map(|diesel| {
                copies(&template, &tenants, n);
                diesel_loop(diesel, &project, &tenants, in_project)
            }));
        }
        let cell = |d: &Option<Duration>| d.map_or("not measured: no diesel_cli".into(), &rate);
        let speedup = |d: &Option<Duration>| {
            d.map_or("-".into(), |d| {
                format!("{:.1}x", d.as_secs_f64() / default.wall.as_secs_f64())
            })
        };
        println!(
            "| {n} | {} | {} | {:.1} MiB | {} | {} | {} / {} |",
            rate(default.wall),
            rate(eight.wall),
            default.peak_kib.max(eight.peak_kib) as f64 / 1024.0,
            cell(&loops[0]),
            cell(&loops[1]),
            speedup(&loops[0]),
            speedup(&loops[1]),
        );
        fs::remove_dir_all(&tenants).unwrap();
    }
}

/// A project with the blog fixture's first version and one generated after it, and a tenant
/// database with rows at the first version.
fn tenant_template(project: &Path, tmp: &Path, dir: &Path) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blog");
    copy_tree(&fixture, project);
    let template = dir.join("template.sqlite3");
    let db = template.to_str().unwrap();
    tool(project, tmp, &["rehash"]);
    tool(project, tmp, &["upgrade", "--database", db]);
    rusqlite::Connection::open(&template)
        .unwrap()
        .execute_batch(
            "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
             INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'hello'), (2, 2, 'world');",
        )
        .unwrap();
    let schema = project.join("schema/schema.rs");
    let text = fs::read_to_string(&schema).unwrap();
    let from = "        title -> Text,\n";
    assert!(text.contains(from));
    fs::write(
        &schema,
        text.replace(
            from,
            "        title -> Text,\n        likes -> Nullable<Integer>,\n",
        ),
    )
    .unwrap();
    tool(project, tmp, &["generate", "add likes"]);
    template
}

/// `n` copies of `template` in `tenants`, replacing what was there.
fn copies(template: &Path, tenants: &Path, n: usize) {
    let _ = fs::remove_dir_all(tenants);
    fs::create_dir_all(tenants).unwrap();
    for i in 0..n {
        fs::copy(template, tenants.join(format!("tenant-{i:05}.sqlite3"))).unwrap();
    }
}

/// A shell loop of `diesel migration run` over every tenant: `in_project`, from the project
/// as its users run it (diesel_cli then rewrites schema.rs after each database, as its
/// diesel.toml says); otherwise from where no diesel.toml is found, migrations only.
fn diesel_loop(diesel: &Path, project: &Path, tenants: &Path, in_project: bool) -> Duration {
    let script = format!(
        "for f in {}/*.sqlite3; do \"$DIESEL\" migration run --database-url \"$f\" --migration-dir {} >/dev/null || exit 1; done",
        tenants.display(),
        project.join("versions").display()
    );
    let start = Instant::now();
    let status = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("DIESEL", diesel)
        .current_dir(if in_project { project } else { tenants })
        .status()
        .unwrap();
    assert!(status.success(), "the diesel_cli loop failed");
    start.elapsed()
}

fn tool(project: &Path, tmp: &Path, args: &[&str]) {
    let child = child::run(BIN, project, tmp, args);
    assert_eq!(child.code, Some(0), "dev {args:?} failed: {}", child.stderr);
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}
