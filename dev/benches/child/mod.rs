//! Running the release `dev` binary as a child and reaping it with wait4, for its wall time
//! and its own peak resident memory: what every benchmark measures a command by.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// What one run of the tool took and said.
pub struct Child {
    pub wall: Duration,
    /// Peak resident memory, KiB.
    pub peak_kib: i64,
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
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stderr: fs::read_to_string(&err_path).unwrap(),
    }
}
