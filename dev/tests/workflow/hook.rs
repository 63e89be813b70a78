//! The pre-commit hook: it judges what is staged, says what to stage or generate, and says
//! when the check could not run instead of blaming the commit.

use crate::common::{git, git_ok, git_with, Project};
use crate::{fake_cargo, hooked_repository, path_with, repository, stderr_of};

#[test]
fn hook_blocks_a_commit_without_its_migration_then_lets_it_through() {
    let project = repository("1.70");
    let install = project.run(&["install-hooks"]);
    assert_eq!(install.code, Some(0), "{install:?}");
    assert_eq!(
        git_ok(project.path(), &["config", "core.hooksPath"]).trim(),
        "dev/hooks"
    );

    project.add_posts_views();
    git_ok(project.path(), &["add", "-A"]);
    let blocked = git(project.path(), &["commit", "-q", "-m", "views"]);
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert!(
        stderr.contains("cargo run -p dev -- generate \"add posts.views\""),
        "{stderr}"
    );

    project.generate("add views");
    git_ok(project.path(), &["add", "-A"]);
    git_ok(project.path(), &["commit", "-q", "-m", "views"]);

    // Nothing under schema/ or versions/ staged: the hook does no work, not even find the tool.
    project.write("NOTES.md", "notes\n");
    git_ok(project.path(), &["add", "NOTES.md"]);
    let quick = duct::cmd(
        "git",
        [
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "notes",
        ],
    )
    .dir(project.path())
    .env("DEV_BIN", "/nonexistent/dev")
    .stderr_capture()
    .unchecked()
    .run()
    .unwrap();
    assert!(quick.status.success(), "{quick:?}");
}

#[test]
fn hook_judges_what_is_staged_not_the_working_tree() {
    let project = hooked_repository();
    let repo = project.path();
    project.add_posts_views();
    let version = project.generate("add views");
    git_ok(repo, &["add", "schema/schema.rs"]);
    let blocked = git(repo, &["commit", "-q", "-m", "views"]);
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = stderr_of(&blocked);
    assert!(
        stderr.contains("commit blocked by the check above"),
        "{stderr}"
    );
    assert!(stderr.contains("add column posts.views"), "{stderr}");
    assert!(
        stderr.contains("these files have changes that are not staged")
            && stderr.contains(&format!("{version}/up.sql"))
            && stderr.contains("versions/dev.sum"),
        "the unstaged migration is named: {stderr}"
    );
    assert_eq!(git_ok(repo, &["log", "--oneline"]).lines().count(), 1);

    // Staging the version too lets the commit through, even with a broken working tree: what
    // is judged is what the commit holds.
    git_ok(repo, &["add", "versions"]);
    project.write("schema/schema.rs", "this is not Rust\n");
    std::fs::remove_file(project.file(&format!("{version}/up.sql"))).unwrap();
    let commit = git(repo, &["commit", "-q", "-m", "views"]);
    assert!(commit.status.success(), "{commit:?}");
    let committed = git_ok(repo, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        committed.contains(&format!("{version}/up.sql")),
        "{committed}"
    );
    project.assert_no_temp_leftovers();
}

/// The other half: the version staged, schema.rs not. The staged check said "Generate it
/// with: generate ..." (whose migration would undo the staged one); the fix is to stage
/// schema.rs, and it says so first.
#[test]
fn a_staged_version_without_its_schema_rs_is_told_to_stage_schema_rs() {
    let project = hooked_repository();
    let repo = project.path();
    project.add_posts_views();
    project.generate("add views");
    git_ok(repo, &["add", "versions"]);
    let run = project.run(&["check", "--staged"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains(
            "schema/schema.rs has changes that are not staged. If the staged migration was generated from them, stage them:\n  git add schema/schema.rs\nOtherwise, generate it with:"
        ),
        "{run:?}"
    );
    git_ok(repo, &["add", "schema/schema.rs"]);
    let run = project.run(&["check", "--staged"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn staged_check_reports_the_users_paths_and_leaves_nothing_behind() {
    let project = repository("1.70");
    let schema = project.read("schema/schema.rs");
    project.write(
        "schema/schema.rs",
        &schema.replace("title -> Text", "title -> Txet"),
    );
    git_ok(project.path(), &["add", "schema/schema.rs"]);
    project.write("schema/schema.rs", &schema);
    let run = project.run(&["check", "--staged"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    // The user's file, shown from where they ran the command, never the index's copy.
    assert!(run.stderr.contains("--> schema/schema.rs:"), "{run:?}");
    assert!(!run.stderr.contains("/index/"), "{run:?}");
    assert!(
        run.stderr.contains("title -> Txet"),
        "the staged line: {run:?}"
    );
    assert!(run.stderr.contains("checked what is staged"), "{run:?}");
    assert!(
        !run.stderr.contains("dev-migrate-"),
        "a temporary path: {run:?}"
    );
    project.assert_no_temp_leftovers();
    // The working tree itself is fine.
    project.assert_check_passes();

    let outside = Project::fixture("blog");
    let run = outside.run(&["check", "--staged"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("reads git's index"), "{run:?}");
    outside.assert_no_temp_leftovers();
}

#[test]
fn hook_says_when_the_check_could_not_run_instead_of_blaming_the_commit() {
    let project = hooked_repository();
    project.add_posts_views();
    project.generate("add views");
    git_ok(project.path(), &["add", "-A"]);

    let broken_build = fake_cargo(101);
    let blocked = git_with(project.path(), &["commit", "-q", "-m", "views"], |git| {
        git.env("PATH", path_with(&broken_build))
            .env_remove("DEV_BIN")
    });
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = stderr_of(&blocked);
    assert!(
        stderr.contains("the dev tool does not build (see above), so nothing was checked"),
        "{stderr}"
    );
    assert!(stderr.contains("could not compile"), "{stderr}");
    assert!(!stderr.contains("blocked by the check above"), "{stderr}");

    let missing = git_with(project.path(), &["commit", "-q", "-m", "views"], |git| {
        git.env("DEV_BIN", "/nonexistent/dev")
    });
    assert!(!missing.status.success(), "{missing:?}");
    let stderr = stderr_of(&missing);
    assert!(
        stderr.contains("the check could not run (the dev tool exited with status 127)"),
        "{stderr}"
    );
    assert!(!stderr.contains("blocked by the check above"), "{stderr}");

    let commit = git(project.path(), &["commit", "-q", "-m", "views"]);
    assert!(commit.status.success(), "{commit:?}");
}

#[test]
fn hook_judges_the_staged_objects_sql() {
    let project = hooked_repository();
    let repo = project.path();
    assert_eq!(project.run(&["objects"]).code, Some(0));
    git_ok(repo, &["add", "schema/objects.sql"]);
    git_ok(repo, &["commit", "-q", "-m", "adopt objects.sql"]);

    project.write(
        "schema/objects.sql",
        &(project.read("schema/objects.sql") + "\nCREATE INDEX posts_title ON posts (title);\n"),
    );
    let version = project.generate("index titles");
    git_ok(repo, &["add", "schema/objects.sql"]);
    let blocked = git(repo, &["commit", "-q", "-m", "index"]);
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = stderr_of(&blocked);
    assert!(
        stderr.contains("create index posts_title on posts"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{version}/up.sql")), "{stderr}");

    git_ok(repo, &["add", "versions"]);
    let commit = git(repo, &["commit", "-q", "-m", "index"]);
    assert!(commit.status.success(), "{commit:?}");
    project.assert_no_temp_leftovers();
}
