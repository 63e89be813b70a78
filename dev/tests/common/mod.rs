//! Running the real `dev` binary on a temporary copy of a fixture project, with a private
//! temp directory so each test can prove the run left nothing behind.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use diesel::migration::MigrationSource;
use diesel::sqlite::Sqlite;
use diesel_migrations::FileBasedMigrations;

mod database;
mod git;

// Each test binary uses the part it needs, so a part may go unused in one.
#[allow(unused_imports)]
pub use database::*;
#[allow(unused_imports)]
pub use git::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_dev");

/// A fixture project copied into a temporary directory, and the temp dir its runs use.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub tmp: tempfile::TempDir,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(output: std::process::Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Project {
    /// Copies `dev/tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> Project {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&source, dir.path());
        Project {
            dir,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// A copy of `template`'s tree, with a temp dir of its own: for a history that is
    /// expensive to make, made once per test binary and copied for each test.
    pub fn copy_of(template: &Path) -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(template, dir.path());
        Project {
            dir,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, relative: &str) -> PathBuf {
        self.path().join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.file(relative)).unwrap()
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.file(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Replaces `from` by `to` in schema/schema.rs, failing if `from` is absent.
    pub fn edit_schema(&self, from: &str, to: &str) {
        let schema = self.read("schema/schema.rs");
        assert!(schema.contains(from), "schema.rs has no `{from}`");
        self.write("schema/schema.rs", &schema.replacen(from, to, 1));
    }

    /// The pending change most tests use: a nullable `views` column on the blog's posts.
    pub fn add_posts_views(&self) {
        self.edit_schema(
            "        title -> Text,\n",
            "        title -> Text,\n        views -> Nullable<BigInt>,\n",
        );
    }

    /// Runs `dev ARGS` in the project directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.path(), args)
    }

    /// Runs `dev ARGS` with `cwd` as the working directory.
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::from(self.command_in(cwd, BIN, args).run().unwrap())
    }

    /// Runs `dev ARGS` on a pseudo-terminal (util-linux `script`), typing `input`; returns
    /// the exit code and everything the terminal showed.
    pub fn run_on_terminal(&self, args: &str, input: &str) -> (Option<i32>, String) {
        let output = self
            .command("script", &["-qec", &format!("{BIN} {args}"), "/dev/null"])
            .stdin_bytes(input.to_owned())
            .run()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    /// `program ARGS` in the project, with this project's temp dir and output captured.
    pub fn command(&self, program: &str, args: &[&str]) -> duct::Expression {
        self.command_in(self.path(), program, args)
    }

    fn command_in(&self, cwd: &Path, program: &str, args: &[&str]) -> duct::Expression {
        duct::cmd(program, args)
            .dir(cwd)
            .env("TMPDIR", self.tmp.path())
            .env("XDG_CACHE_HOME", self.cache_home())
            .env_remove("DATABASE_URL")
            .stdout_capture()
            .stderr_capture()
            .unchecked()
    }

    /// Every file of the project with its bytes, and every directory (as `None`).
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        let mut files = BTreeMap::new();
        collect(self.path(), self.path(), &mut files);
        files
    }

    /// The user's cache directory the tool is given (`XDG_CACHE_HOME`): the snapshots of a
    /// project that is no cargo project go there, never into the real one.
    pub fn cache_home(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }

    /// Asserts the run's temp directory is empty but for the cache directory.
    pub fn assert_no_temp_leftovers(&self) {
        let left: Vec<_> = fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| *name != "cache")
            .collect();
        assert!(left.is_empty(), "left in the temp dir: {left:?}");
    }

    /// The version directories, oldest first: in Diesel's order, by the text before the
    /// first `_` without dashes.
    pub fn versions(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.file("versions")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_by_key(|name| {
            let version = name.split_once('_').map_or(name.as_str(), |(v, _)| v);
            version.replace('-', "")
        });
        names
    }

    /// The newest version directory's relative path.
    pub fn newest(&self) -> String {
        format!("versions/{}", self.versions().last().expect("a version"))
    }

    /// Writes a hand-written version `dir` (`versions/<dir>`) with its up and down.
    pub fn add_version(&self, dir: &str, up: &str, down: &str) {
        self.write(&format!("versions/{dir}/up.sql"), up);
        self.write(&format!("versions/{dir}/down.sql"), down);
    }

    /// A version directory name that sorts after every version present (a year after the
    /// newest), so a test's hand-written version comes last whatever today's date is.
    pub fn later_version(&self, name: &str) -> String {
        let newest = self.versions().pop().expect("a version");
        let year: u32 = newest[..4].parse().expect("a dated version");
        format!("{}-01-01-000000_{name}", year + 1)
    }

    /// Runs `generate MESSAGE` and asserts it wrote exactly one new version directory,
    /// recorded it in versions/dev.sum and changed nothing else, with no temp leftovers;
    /// returns the directory's relative path.
    pub fn generate(&self, message: &str) -> String {
        self.generate_with(&[message])
    }

    pub fn generate_with(&self, args: &[&str]) -> String {
        self.generate_run(args).0
    }

    /// `generate_with`, and what the run printed.
    pub fn generate_run(&self, args: &[&str]) -> (String, Run) {
        let before = self.snapshot();
        let mut full = vec!["generate"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        assert_eq!(run.code, Some(0), "generate failed: {run:?}");
        let newest = self.newest();
        let after = self.snapshot();
        let mut changed: Vec<&PathBuf> = after
            .iter()
            .filter(|(path, bytes)| before.get(*path) != Some(bytes))
            .map(|(path, _)| path)
            .collect();
        // The new directory, the checksum record, `versions/` itself when generate had to
        // create it, and the schema diagram when the project keeps one.
        let keeps_diagram = before
            .get(Path::new("schema/README.md"))
            .and_then(|bytes| bytes.as_ref())
            .is_some_and(|bytes| String::from_utf8_lossy(bytes).contains("<!-- dev diagram"));
        changed.retain(|p| {
            !p.starts_with(&newest)
                && !Path::new(&newest).starts_with(p)
                && p.as_path() != Path::new("versions/dev.sum")
                && (!keeps_diagram || p.as_path() != Path::new("schema/README.md"))
        });
        assert!(
            changed.is_empty(),
            "generate changed files outside {newest}: {changed:?}"
        );
        assert!(
            before.keys().all(|p| after.contains_key(p)),
            "generate removed files"
        );
        self.assert_no_temp_leftovers();
        assert!(run.stdout.contains(&format!("Created {newest}")), "{run:?}");
        let sum = self.read("versions/dev.sum");
        let dir_name = newest.trim_start_matches("versions/");
        assert!(
            sum.contains(&format!("\n{dir_name} ")),
            "{newest} is not recorded: {sum}"
        );
        (newest, run)
    }

    /// Asserts `check` exits 0.
    pub fn assert_check_passes(&self) {
        self.assert_check_passes_with("schema.rs matches");
    }

    /// Asserts `check` exits 0 saying `files` (e.g. "the 2 schema files match") versions/.
    pub fn assert_check_passes_with(&self, files: &str) {
        let run = self.run(&["check"]);
        assert_eq!(run.code, Some(0), "check failed: {run:?}");
        assert!(
            run.stdout.contains(&format!("{files} versions/")),
            "{run:?}"
        );
        self.assert_no_temp_leftovers();
    }

    /// Asserts a run failed as bad input (exit 2) and wrote or left nothing.
    pub fn assert_rejected(&self, args: &[&str]) -> Run {
        let before = self.snapshot();
        let run = self.run(args);
        assert_eq!(run.code, Some(2), "expected exit 2: {run:?}");
        assert!(
            run.stderr.lines().any(|l| l.starts_with("error: ")),
            "{run:?}"
        );
        assert_eq!(before, self.snapshot(), "the tree changed");
        self.assert_no_temp_leftovers();
        run
    }

    /// The migrations of this project, loaded as `diesel migration run` loads them.
    pub fn migrations(&self) -> Vec<Box<dyn diesel::migration::Migration<Sqlite>>> {
        let source = FileBasedMigrations::from_path(self.file("versions")).unwrap();
        let mut migrations = MigrationSource::<Sqlite>::migrations(&source).unwrap();
        migrations.sort_by_key(|m| m.name().version().to_string());
        migrations
    }
}

/// Copies the tree at `from` into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path.strip_prefix(root).unwrap().to_path_buf();
        // Build output and the snapshot cache, ignored by git: not the working tree.
        if relative == Path::new("target") {
            continue;
        }
        if path.is_dir() {
            files.insert(relative, None);
            collect(root, &path, files);
        } else {
            files.insert(relative, Some(fs::read(&path).unwrap()));
        }
    }
}

/// The names of the entries of `dir`, sorted: what a command must not add to or take from.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
