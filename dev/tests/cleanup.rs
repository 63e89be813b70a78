//! The disposable database is removed however a run ends: SIGINT, SIGTERM and SIGHUP during a slow
//! migration, and SIGKILL (cleaned by the next run).

mod common;

use std::time::{Duration, Instant};

use common::Project;

/// A migration that keeps SQLite busy for far longer than the test waits.
fn add_slow_migration(project: &Project) {
    project.write(
        "versions/2026-06-01-000000_slow/up.sql",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c;\n",
    );
    project.write("versions/2026-06-01-000000_slow/down.sql", "SELECT 1;\n");
}

fn wait_for_scratch(project: &Project) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = std::fs::read_dir(project.tmp.path()).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("dev-migrate-")
        });
        if found {
            // Let the slow migration start.
            std::thread::sleep(Duration::from_millis(300));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the run never created its scratch database"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt_slow_run(signal: libc::c_int) {
    let project = Project::fixture("blog");
    add_slow_migration(&project);
    let before = project.snapshot();
    let handle = project
        .command(common::BIN, &["generate", "never finishes"])
        .start()
        .unwrap();
    wait_for_scratch(&project);
    let pid = handle.pids()[0] as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let started = Instant::now();
    let output = handle.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run did not stop promptly"
    );
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    project.assert_no_temp_leftovers();
    assert_eq!(before, project.snapshot());
}

#[test]
fn sigint_during_a_slow_migration_leaves_nothing() {
    interrupt_slow_run(libc::SIGINT);
}

#[test]
fn sigterm_during_a_slow_migration_leaves_nothing() {
    interrupt_slow_run(libc::SIGTERM);
}

#[test]
fn sighup_during_a_slow_migration_leaves_nothing() {
    interrupt_slow_run(libc::SIGHUP);
}

#[test]
fn next_run_removes_what_a_sigkilled_run_left() {
    let project = Project::fixture("blog");
    add_slow_migration(&project);
    let handle = project.command(common::BIN, &["check"]).start().unwrap();
    wait_for_scratch(&project);
    handle.kill().unwrap();
    // Reaped, so the pid is gone as it is after any real SIGKILL.
    let _ = handle.wait();
    let left = std::fs::read_dir(project.tmp.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "cache")
        .count();
    assert_eq!(
        left, 1,
        "SIGKILL cannot be caught, so the directory stays for now"
    );

    std::fs::remove_dir_all(project.file("versions/2026-06-01-000000_slow")).unwrap();
    project.assert_check_passes();
}
