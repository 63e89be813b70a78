//! The tool on its own, as `cargo install --path dev` leaves it: a version, and completion
//! scripts generated from the same definitions that parse the command line.

mod common;

use common::*;

#[test]
fn the_binary_says_its_version() {
    let project = Project::fixture("blog");
    let run = project.run(&["--version"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout.trim(),
        format!("dev {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_cover_every_command_and_global_flag() {
    let project = Project::fixture("blog");
    for shell in ["bash", "zsh", "fish"] {
        let run = project.run(&["completions", shell]);
        assert_eq!(run.code, Some(0), "{shell}: {run:?}");
        for word in [
            "generate",
            "squash",
            "drift",
            "completions",
            "schema-key",
            "format",
        ] {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let run = project.run(&["completions", "tcsh"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("possible values"), "{run:?}");
}

#[test]
fn completions_need_no_project() {
    let outside = tempfile::tempdir().unwrap();
    let project = Project::fixture("blog");
    let run = project.run_in(outside.path(), &["completions", "bash"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}
