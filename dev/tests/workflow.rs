//! The contributor workflow: history integrity, the schema diagram, the stairway test, the
//! pre-commit hook and the onboarding script, each on a temporary project or git clone.

mod common;

use std::path::Path;

use common::{git, git_ok, git_with, Project};

/// The blog fixture with one generated version, so versions/dev.sum exists.
fn recorded_project() -> Project {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    project.assert_check_passes();
    project
}

fn check_fails_with(project: &Project, expected: &str) -> String {
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(expected), "{run:?}");
    run.stderr
}

#[test]
fn edited_version_is_caught_and_rehash_accepts_it() {
    let project = recorded_project();
    let first = "versions/2026-01-01-000000_create_blog/up.sql";
    project.write(first, &format!("{}\n-- a comment\n", project.read(first)));
    let stderr = check_fails_with(
        &project,
        "version 2026-01-01-000000_create_blog changed after it was recorded",
    );
    assert!(
        stderr.contains("never edit a migration others may have applied"),
        "{stderr}"
    );
    assert!(stderr.contains("cargo run -p dev -- rehash"), "{stderr}");

    let refused = project.assert_rejected(&["generate", "--empty", "more"]);
    assert!(
        refused.stderr.contains("does not match dev.sum"),
        "{refused:?}"
    );

    let rehash = project.run(&["rehash"]);
    assert_eq!(rehash.code, Some(0), "{rehash:?}");
    project.assert_check_passes();
}

#[test]
fn removed_and_out_of_order_versions_are_caught() {
    let project = recorded_project();
    let newest = project.newest();
    std::fs::remove_dir_all(project.file(&newest)).unwrap();
    project.edit_schema("        views -> Nullable<BigInt>,\n", "");
    check_fails_with(&project, "was recorded but is gone from versions/");

    let project = recorded_project();
    project.write("versions/2026-01-02-000000_late/up.sql", "SELECT 1;\n");
    project.write("versions/2026-01-02-000000_late/down.sql", "SELECT 1;\n");
    let stderr = check_fails_with(
        &project,
        "version 2026-01-02-000000_late is older than versions recorded before it arrived",
    );
    assert!(stderr.contains("run `generate` again"), "{stderr}");
}

#[test]
fn two_branches_adding_a_version_on_the_same_parent_are_caught_after_the_merge() {
    let project = recorded_project();
    let repo = project.path();
    git_ok(repo, &["init", "-q"]);
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "base"]);
    git_ok(repo, &["checkout", "-q", "-b", "theirs"]);
    project.edit_schema(
        "        note -> Text,\n",
        "        note -> Text,\n        level -> Nullable<Text>,\n",
    );
    let theirs = project.generate("add audit level");
    // Their version a year later than ours will be, whatever this machine's clock says.
    std::fs::rename(
        project.file(&theirs),
        project.file("versions/2099-01-01-000000_add_audit_level"),
    )
    .unwrap();
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "theirs"]);
    git_ok(repo, &["checkout", "-q", "main"]);
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        bio -> Nullable<Text>,\n",
    );
    project.generate("add user bio");
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "ours"]);
    let merge = git(repo, &["merge", "-q", "theirs"]);
    assert!(!merge.status.success(), "dev.sum must conflict: {merge:?}");
    assert!(
        String::from_utf8_lossy(&merge.stdout).contains("dev.sum"),
        "{merge:?}"
    );
    let stderr = check_fails_with(
        &project,
        "two branches each added a version on the same parent",
    );
    assert!(
        stderr.contains("run `generate` again so yours comes after theirs"),
        "{stderr}"
    );
}

#[test]
fn diagram_is_written_between_markers_and_checked_for_freshness() {
    let project = recorded_project();
    project.write(
        "schema/README.md",
        "# Blog schema\n\nHand-written words stay.\n",
    );
    let run = project.run(&["diagram"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let readme = project.read("schema/README.md");
    assert!(
        readme.starts_with("# Blog schema\n\nHand-written words stay.\n\n<!-- dev diagram: begin"),
        "{readme}"
    );
    assert!(
        readme.contains("erDiagram\n    audit {\n        Integer id PK\n"),
        "{readme}"
    );
    assert!(
        readme.contains("    users ||--o{ posts : \"user_id\"\n"),
        "{readme}"
    );
    project.assert_check_passes();

    project.edit_schema(
        "        views -> Nullable<BigInt>,\n",
        "        views -> Nullable<BigInt>,\n        likes -> Nullable<BigInt>,\n",
    );
    // generate keeps the diagram current: check passes right after it.
    project.generate("add likes");
    project.assert_check_passes();
    let current = project.read("schema/README.md");
    assert!(current.contains("BigInt likes \"nullable\""), "{current}");
    assert!(current.starts_with("# Blog schema\n\nHand-written words stay.\n"));
    // A diagram that fell behind (edited by hand, merged badly) is caught and redrawn.
    project.write("schema/README.md", &readme);
    let stderr = check_fails_with(&project, "the diagram in schema/README.md is out of date");
    assert!(stderr.contains("cargo run -p dev -- diagram"), "{stderr}");
    project.run(&["diagram"]);
    project.assert_check_passes();
    assert_eq!(project.read("schema/README.md"), current);
}

#[test]
fn verify_walks_the_history_and_catches_a_broken_down() {
    let project = recorded_project();
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("Verified 2 versions"), "{run:?}");
    project.assert_no_temp_leftovers();

    let newest = project.newest();
    project.write(&format!("{newest}/down.sql"), "SELECT 1;\n");
    let broken = project.run(&["verify"]);
    assert_eq!(broken.code, Some(1), "{broken:?}");
    assert!(
        broken
            .stderr
            .contains("does not come back down to the schema before it"),
        "{broken:?}"
    );
    assert!(
        broken
            .stderr
            .contains(newest.trim_start_matches("versions/")),
        "{broken:?}"
    );

    project.write(
        &format!("{newest}/down.sql"),
        "ALTER TABLE posts DROP COLUMN views;\nDELETE FROM audit;\n",
    );
    let lossy = project.run(&["verify"]);
    assert_eq!(lossy.code, Some(1), "{lossy:?}");
    assert!(lossy.stderr.contains("loses data"), "{lossy:?}");
    project.assert_no_temp_leftovers();
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
fn onboarding_sets_up_a_fresh_clone_and_is_safe_to_run_twice() {
    let origin = repository("1.70");
    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git_ok(
        clones.path(),
        &["clone", "-q", origin.path().to_str().unwrap(), "clone"],
    );
    for round in 1..=2 {
        let output = duct::cmd("bash", ["dev/onboard.sh"])
            .dir(&clone)
            .env("DEV_BIN", common::BIN)
            .env("TMPDIR", origin.tmp.path())
            .env_remove("DATABASE_URL")
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "round {round}: {text}");
        assert!(text.contains("onboard: ready"), "{text}");
        assert!(text.contains("schema.rs matches versions/"), "{text}");
    }
    assert_eq!(
        git_ok(&clone, &["config", "core.hooksPath"]).trim(),
        "dev/hooks"
    );
    let conn = rusqlite::Connection::open(clone.join("local/app.sqlite3")).unwrap();
    let applied: i64 = conn
        .query_row("SELECT count(*) FROM __diesel_schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(applied, 1);
    assert_eq!(
        git_ok(&clone, &["status", "--porcelain"]),
        "",
        "onboarding left files git sees"
    );
    origin.assert_no_temp_leftovers();
}

#[test]
fn onboarding_stops_on_a_toolchain_that_is_too_old() {
    let origin = repository("99.0");
    let output = duct::cmd("bash", ["dev/onboard.sh"])
        .dir(origin.path())
        .env("DEV_BIN", common::BIN)
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("older than the workspace's rust-version 99.0"),
        "{stderr}"
    );
    assert!(stderr.contains("rustup update"), "{stderr}");
}

#[test]
fn this_repository_verifies_its_own_history_checksums_and_diagram() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let project = dev::project::Project::load(root).unwrap();
    let verified = dev::prove::verify::verify(&project.versions_dir).unwrap();
    assert_eq!(
        verified.versions,
        dev::history::versions::scan(&project.versions_dir)
            .unwrap()
            .len()
    );
    let comparison = dev::workspace::Workspace::open(
        &project,
        false,
        false,
        &mut dev::support::timing::Timings::default(),
    )
    .unwrap();
    assert!(
        comparison.changes.is_empty(),
        "schema.rs has no migration: run generate"
    );
    let problems = dev::workspace::problems::history_problems(&project, &comparison).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(dev::history::checksums::recorded(&project.versions_dir));
    assert!(
        dev::workspace::problems::diagram_problem(&project, &comparison).is_none(),
        "run `cargo run -p dev -- diagram`"
    );
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

#[test]
fn hook_and_onboarding_find_the_tool_through_cargo_wherever_it_is_built() {
    // The tool lives where cargo says (as with CARGO_TARGET_DIR), never in target/debug.
    let cargo = fake_cargo(0);
    let project = repository("1.70");
    let onboard = duct::cmd("bash", ["dev/onboard.sh"])
        .dir(project.path())
        .env("PATH", path_with(&cargo))
        .env_remove("DEV_BIN")
        .env("TMPDIR", project.tmp.path())
        .env_remove("DATABASE_URL")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&onboard.stdout),
        stderr_of(&onboard)
    );
    assert!(onboard.status.success(), "{text}");
    assert!(text.contains("schema.rs matches versions/"), "{text}");

    let through_cargo =
        |git: duct::Expression| git.env("PATH", path_with(&cargo)).env_remove("DEV_BIN");
    project.add_posts_views();
    git_ok(project.path(), &["add", "schema"]);
    let blocked = git_with(
        project.path(),
        &["commit", "-q", "-m", "views"],
        through_cargo,
    );
    assert!(!blocked.status.success(), "{blocked:?}");
    let stderr = stderr_of(&blocked);
    assert!(
        stderr.contains("commit blocked by the check above"),
        "{stderr}"
    );
    assert!(stderr.contains("generate \"add posts.views\""), "{stderr}");

    project.generate("add views");
    git_ok(project.path(), &["add", "-A"]);
    let commit = git_with(
        project.path(),
        &["commit", "-q", "-m", "views"],
        through_cargo,
    );
    assert!(commit.status.success(), "{commit:?}");
    let log = std::fs::read_to_string(cargo.path().join("cargo.log")).unwrap();
    assert!(
        log.contains("run --quiet -p dev -- check --staged"),
        "{log}"
    );
    project.assert_no_temp_leftovers();
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

#[test]
fn versions_checked_out_with_crlf_still_match_their_checksums() {
    let project = recorded_project();
    for file in files_under(&project.file("versions")) {
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace('\n', "\r\n")).unwrap();
    }
    project.assert_check_passes();
}

#[test]
fn a_clone_with_autocrlf_gets_lf_where_it_matters_and_onboards() {
    let origin = repository("1.70");
    origin.add_posts_views();
    origin.generate("add views");
    origin.run(&["diagram"]);
    origin.write("NOTES.md", "line one\nline two\n");
    git_ok(origin.path(), &["add", "-A"]);
    git_ok(origin.path(), &["commit", "-q", "-m", "views"]);

    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git_ok(
        clones.path(),
        &[
            "clone",
            "-q",
            "-c",
            "core.autocrlf=true",
            origin.path().to_str().unwrap(),
            "clone",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("NOTES.md")).unwrap(),
        "line one\r\nline two\r\n",
        "without .gitattributes this clone converts text to CRLF"
    );
    let mut lf_files = files_under(&clone.join("versions"));
    lf_files.extend(files_under(&clone.join("schema")));
    lf_files.push(clone.join("dev/onboard.sh"));
    lf_files.push(clone.join("dev/hooks/pre-commit"));
    for file in lf_files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.contains(&b'\r'), "{} has CR", file.display());
    }
    let output = duct::cmd("bash", ["dev/onboard.sh"])
        .dir(&clone)
        .env("DEV_BIN", common::BIN)
        .env("TMPDIR", origin.tmp.path())
        .env_remove("DATABASE_URL")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr_of(&output)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("schema.rs matches versions/"), "{text}");
    origin.assert_no_temp_leftovers();
}

#[test]
fn sql_written_into_an_uncommitted_empty_version_needs_only_a_rehash() {
    let project = hooked_repository();
    let repo = project.path();
    // A recorded history, committed.
    project.add_posts_views();
    project.generate("add views");
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "views"]);

    let version = project.generate_with(&["--empty", "backfill views"]);
    project.write(
        &format!("{version}/up.sql"),
        "UPDATE posts SET views = 0 WHERE views IS NULL;\n",
    );
    project.write(&format!("{version}/down.sql"), "SELECT 1;\n");
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("is not committed yet"), "{run:?}");
    assert!(
        run.stderr
            .contains("record your edit with `cargo run -p dev -- rehash`"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("never edit"), "{run:?}");

    // The hook says the same of the staged copy.
    git_ok(repo, &["add", "-A"]);
    let blocked = git(repo, &["commit", "-q", "-m", "backfill"]);
    assert!(!blocked.status.success(), "{blocked:?}");
    assert!(
        stderr_of(&blocked).contains("is not committed yet"),
        "{blocked:?}"
    );

    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", "backfill"]);

    // Once committed, others may have applied it: editing it is the old mistake again.
    project.write(&format!("{version}/down.sql"), "SELECT 2;\n");
    check_fails_with(&project, "never edit a migration others may have applied");
}

#[test]
fn verify_leaves_sqlite_sequence_to_sqlite() {
    let project = recorded_project();
    let version = project.generate_with(&["--empty", "counters"]);
    project.write(
        &format!("{version}/up.sql"),
        "CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL);\n",
    );
    project.write(&format!("{version}/down.sql"), "DROP TABLE counters;\n");
    let run = project.run(&["verify"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("Verified 3 versions"), "{run:?}");
    project.assert_no_temp_leftovers();
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
