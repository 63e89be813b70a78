//! git, isolated from the machine's configuration, for the hook and onboarding tests.

use std::path::Path;

use super::BIN;

/// `git ARGS` in `dir`, isolated from the machine's git configuration, the hook finding the
/// tool through `DEV_BIN`.
pub fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    git_with(dir, args, |git| git.env("DEV_BIN", BIN))
}

/// `git ARGS` in `dir`, isolated from the machine's git configuration, with `environment`
/// choosing how the hook finds the tool.
pub fn git_with(
    dir: &Path,
    args: &[&str],
    environment: impl FnOnce(duct::Expression) -> duct::Expression,
) -> std::process::Output {
    let mut full = vec![
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.com",
        "-c",
        "init.defaultBranch=main",
    ];
    full.extend_from_slice(args);
    environment(
        duct::cmd("git", &full)
            .dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env_remove("DATABASE_URL")
            .stdout_capture()
            .stderr_capture()
            .unchecked(),
    )
    .run()
    .unwrap()
}

pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let output = git(dir, args);
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
