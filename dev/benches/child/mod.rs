//! Running the release `dev` binary as a child and reaping it with wait4, for its wall time
//! and its own peak resident memory: what every benchmark measures a command by. Also what
//! the benchmarks of one database share: the row count argument, the median, a schema edit.

// Each benchmark uses the part it needs, so a part may go unused in one.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// What one run of the tool took and said.
pub struct Child {
    pub wall: Duration,
    /// Peak resident memory, KiB.
    pub peak_kib: i64,
    /// What it wrote to files, KiB, as the kernel counts it when pages are dirtied (the
    /// database, its journal or WAL): what a replica would have to ship.
    pub written_kib: i64,
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs `bin` with `args` in `project`, its temp directory `tmp`, stdout discarded.
// The child is reaped by wait4 (for its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
pub fn run(bin: &str, project: &Path, tmp: &Path, args: &[&str]) -> Child {
    let err_path = tmp.parent().unwrap().join("stderr.txt");
    let err = fs::File::create(&err_path).unwrap();
    let start = Instant::now();
    let child = std::process::Command::new(bin)
        .args(args)
        .current_dir(project)
        .env("TMPDIR", tmp)
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(reaped, pid);
    Child {
        wall,
        peak_kib: usage.ru_maxrss,
        written_kib: usage.ru_oublock / 2,
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stderr: fs::read_to_string(&err_path).unwrap(),
    }
}

/// The first argument that is a number, else `default`: the benchmarks' row count.
pub fn rows_arg(default: i64) -> i64 {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .find_map(|a| a.parse().ok())
        .unwrap_or(default)
}

/// The median wall time and the highest peak memory (KiB) of `runs`.
pub fn median(runs: impl Iterator<Item = (Duration, i64)>) -> (Duration, i64) {
    let mut runs: Vec<(Duration, i64)> = runs.collect();
    let peak = runs.iter().map(|r| r.1).max().unwrap();
    runs.sort();
    (runs[runs.len() / 2].0, peak)
}

/// Runs `bin` with `args`, which must succeed; its wall time and peak memory (KiB).
pub fn ok(bin: &str, project: &Path, tmp: &Path, args: &[&str]) -> (Duration, i64) {
    let child = run(bin, project, tmp, args);
    assert!(
        child.code == Some(0),
        "dev {args:?} failed: {}",
        child.stderr
    );
    (child.wall, child.peak_kib)
}

/// Replaces `from` (which must be there) with `to` in the project's schema.rs.
pub fn edit(project: &Path, from: &str, to: &str) {
    let path = project.join("schema/schema.rs");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from));
    fs::write(&path, text.replace(from, to)).unwrap();
}

/// The project `write` lays out in `dir`, its checksums recorded and a version generated
/// that makes `events.name` nullable (a rebuild of the table); the project and the temp
/// directory its runs use.
pub fn project_making_name_nullable(
    bin: &str,
    dir: &Path,
    write: impl FnOnce(&Path),
) -> (std::path::PathBuf, std::path::PathBuf) {
    let project = dir.join("project");
    let tmp = dir.join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    write(&project);
    ok(bin, &project, &tmp, &["rehash"]);
    edit(
        &project,
        "        name -> Text,",
        "        name -> Nullable<Text>,",
    );
    ok(bin, &project, &tmp, &["generate", "names may be missing"]);
    (project, tmp)
}

/// The pinned diesel_cli (`DIESEL_CLI`, else `target/tools/bin/diesel`, which `.ci/run`
/// installs), if it is there.
pub fn diesel_cli() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("DIESEL_CLI")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/bin/diesel")
        });
    path.is_file().then_some(path)
}

/// The version directories of `project`, oldest first.
pub fn version_dirs(project: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = fs::read_dir(project.join("versions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// A line saying whether a figure meets its goal (issue 22's numbers, which the benchmarks
/// report beside what they measure).
pub fn goal(what: &str, measured: &str, met: bool) -> String {
    format!(
        "goal: {what}: {measured}, {}",
        if met { "met" } else { "not met" }
    )
}
