//! The contributor workflow: history integrity, the schema diagram, the stairway test, the
//! pre-commit hook and the onboarding script, each on a temporary project or git clone.
//!
//! By concern: `history` (integrity, the diagram, the stairway test), `hook` (the
//! pre-commit hook) and `onboarding` (a fresh clone, and finding the tool through cargo).
//! The projects and repositories they share are here.

#[path = "../common/mod.rs"]
mod common;

mod history;
mod hook;
mod onboarding;

use std::path::Path;

use common::{git_ok, Project};

/// The blog fixture with one generated version, so versions/dev.sum exists.
fn recorded_project() -> Project {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    project.assert_check_passes();
    project
}

/// `check` exits 1 with the finding `code` (dev/docs/machines.md lists them) on a line that
/// names `subject`; its stderr.
fn check_fails_with(project: &Project, code: &str, subject: &str) -> String {
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let finding = format!("error[{code}]: ");
    assert!(
        run.stderr
            .lines()
            .any(|line| line.starts_with(&finding) && line.contains(subject)),
        "no {code} naming {subject}: {run:?}"
    );
    run.stderr
}

/// A git repository holding the fixture, this repository's hook, onboarding script and
/// .gitattributes, and a Cargo.toml naming the toolchain it needs.
fn repository(rust_version: &str) -> Project {
    let project = Project::fixture("blog");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for file in ["dev/hooks/pre-commit", "dev/onboard.sh", ".gitattributes"] {
        let target = project.file(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), &target).unwrap();
    }
    project.write(
        "Cargo.toml",
        &format!("[workspace.package]\nrust-version = \"{rust_version}\"\n"),
    );
    project.write(".gitignore", "/local/\n/target\n");
    git_ok(project.path(), &["init", "-q"]);
    git_ok(project.path(), &["add", "-A"]);
    git_ok(project.path(), &["commit", "-q", "-m", "start"]);
    project
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A repository from `repository` with the hook installed.
fn hooked_repository() -> Project {
    let project = repository("1.70");
    let install = project.run(&["install-hooks"]);
    assert_eq!(install.code, Some(0), "{install:?}");
    project
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A directory holding a `cargo` that stands in for the real one: `build` exits with
/// `build_status`, `run ... -- ARGS` runs the tool built for these tests with ARGS. Each call
/// is logged to `cargo.log` beside it.
fn fake_cargo(build_status: i32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cargo.log");
    let script = format!(
        "#!/usr/bin/env bash\n\
         echo \"$*\" >> '{log}'\n\
         case $1 in\n\
           build) [ {build_status} = 0 ] || echo 'error: could not compile `dev`' >&2; exit {build_status} ;;\n\
           run) while [ \"$1\" != -- ]; do shift; done; shift; exec '{bin}' \"$@\" ;;\n\
         esac\n\
         exit 101\n",
        log = log.display(),
        bin = common::BIN,
    );
    let cargo = dir.path().join("cargo");
    std::fs::write(&cargo, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// PATH with `cargo` at the front.
fn path_with(cargo: &tempfile::TempDir) -> String {
    format!(
        "{}:{}",
        cargo.path().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
