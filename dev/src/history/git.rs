//! The questions the tool puts to git, run so that a hook's relative `GIT_*` paths still
//! resolve.
//!
//! Git runs hooks with environment variables (`GIT_INDEX_FILE`, `GIT_DIR`, ...) that may be
//! relative to the hook's directory; every git command here runs in the project's directory,
//! so those are made absolute first.

use std::path::Path;

/// Git's environment variables that hold paths, which a hook may receive as relative ones.
const GIT_PATH_VARIABLES: [&str; 5] = [
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
];

/// Runs `git ARGS` in `dir` and returns its stdout, or git's own complaint (or why it could
/// not start) as the error.
pub fn git(dir: &Path, args: &[&str]) -> std::result::Result<Vec<u8>, String> {
    git_with_input(dir, args, Vec::new())
}

/// `git`, with `input` on git's stdin (for commands that take `--stdin`).
pub fn git_with_input(
    dir: &Path,
    args: &[&str],
    input: Vec<u8>,
) -> std::result::Result<Vec<u8>, String> {
    let cwd = std::env::current_dir().unwrap_or_default();
    // Paths are the project's own (a version's directory name, diesel.toml's paths), never
    // patterns.
    let mut full = vec!["--literal-pathspecs"];
    full.extend_from_slice(args);
    let mut command = duct::cmd("git", full)
        .dir(dir)
        .stdin_bytes(input)
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    for name in GIT_PATH_VARIABLES {
        if let Some(value) = std::env::var_os(name) {
            command = command.env(name, cwd.join(value));
        }
    }
    let output = command.run().map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// Whether any commit git knows (on any branch, local or fetched) holds `path`; `None` when
/// git cannot tell, for example outside a git repository.
pub fn ever_committed(path: &Path) -> Option<bool> {
    let dir = path.parent()?;
    let name = path.file_name()?.to_str()?;
    let found = git(dir, &["rev-list", "-n", "1", "--all", "--", name]).ok()?;
    Some(!found.is_empty())
}
