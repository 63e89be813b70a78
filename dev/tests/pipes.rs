//! Output to a reader that went away (`dev history | head -1`) ends the command quietly,
//! with its usual exit code and its temporary directories removed; any other failure to
//! write the output is an error.

mod common;

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use common::Project;

/// The write end of a pipe whose read end is already closed: every write to it fails with
/// EPIPE, as `head -1` does to a writer once it has its line, but without the race.
fn closed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

/// Runs `dev ARGS` in `project` with stdout (and with `stderr_too`, stderr) into a closed
/// pipe; returns the exit code and what reached stderr otherwise.
fn run_into_closed_pipe(
    project: &Project,
    args: &[&str],
    stderr_too: bool,
) -> (Option<i32>, String) {
    let stderr = if stderr_too {
        Stdio::from(closed_pipe())
    } else {
        Stdio::piped()
    };
    let output = Command::new(common::BIN)
        .args(args)
        .current_dir(project.path())
        .env("TMPDIR", project.tmp.path())
        .env("XDG_CACHE_HOME", project.cache_home())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::from(closed_pipe()))
        .stderr(stderr)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_command_exits_quietly_into_a_closed_pipe() {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    let databases = tempfile::tempdir().unwrap();
    let database = databases.path().join("app.sqlite3");
    let database = database.to_str().unwrap();
    assert_eq!(
        project.run(&["upgrade", "+1", "--database", database]).code,
        Some(0)
    );
    let newest = project.newest();
    let version = newest.trim_start_matches("versions/");
    for (args, expected) in [
        (vec!["history"], 0),
        (vec!["history", "--verbose", "--database", database], 0),
        (vec!["show", version], 0),
        (vec!["check"], 0),
        (vec!["current", "--database", database], 0),
        (vec!["upgrade", "--sql", "--database", database], 0),
        (vec!["generate", "nothing to do"], 0),
        (vec!["verify"], 0),
        (vec!["--help"], 0),
    ] {
        let (code, stderr) = run_into_closed_pipe(&project, &args, false);
        assert_eq!(code, Some(expected), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?} complained");
        project.assert_no_temp_leftovers();
    }

    // A failing check keeps its exit code, with stderr closed too (`2>&1 | head -1`).
    project.edit_schema("        views -> Nullable<BigInt>,\n", "");
    let (code, stderr) = run_into_closed_pipe(&project, &["check"], false);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr, "");
    let (code, _) = run_into_closed_pipe(&project, &["check"], true);
    assert_eq!(code, Some(1));
    project.assert_no_temp_leftovers();
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let project = Project::fixture("blog");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = Command::new(common::BIN)
        .args(["check"])
        .current_dir(project.path())
        .env("TMPDIR", project.tmp.path())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: cannot write the output: No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    project.assert_no_temp_leftovers();
}
