//! Running the real `dev` binary on a temporary copy of a fixture project, with a private
//! temp directory so each test can prove the run left nothing behind.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

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

/// A database file configured as the application configures its connections.
pub fn application_database(path: &Path) -> SqliteConnection {
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
        .unwrap();
    conn
}

/// Applies every pending migration, as the application's `open()` does.
pub fn upgrade(conn: &mut SqliteConnection, project: &Project) {
    let source = FileBasedMigrations::from_path(project.file("versions")).unwrap();
    conn.run_pending_migrations(source).unwrap();
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub sql: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn schema_of(conn: &mut SqliteConnection) -> Vec<Entry> {
    diesel::sql_query("SELECT name, sql FROM sqlite_schema ORDER BY name")
        .load(conn)
        .unwrap()
}

pub fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// Rows in every table of the blog fixture: 3 users, 2 posts each (cascading children), and
/// the audit rows the trigger wrote.
pub fn seed_blog(conn: &mut SqliteConnection) {
    conn.batch_execute(
        "INSERT INTO users (id, name, age) VALUES (1, 'ann', 30), (2, 'bob', 41), (3, 'cy', NULL);
         INSERT INTO posts (user_id, title) VALUES (1, 'a'), (1, 'b'), (2, 'c'), (2, 'd'), (3, 'e'), (3, 'f');",
    )
    .unwrap();
}

pub fn assert_blog_rows(conn: &mut SqliteConnection) {
    assert_eq!(count(conn, "SELECT count(*) AS n FROM users"), 3);
    assert_eq!(
        count(conn, "SELECT count(*) AS n FROM posts"),
        6,
        "cascading children lost"
    );
    assert_eq!(
        count(conn, "SELECT count(*) AS n FROM audit"),
        3,
        "a trigger fired again"
    );
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS n FROM users WHERE name IN ('ann', 'bob', 'cy')"
        ),
        3
    );
}

/// A database file at head with the blog's rows, and its schema before any new migration.
pub fn seeded_blog(project: &Project) -> (tempfile::TempDir, SqliteConnection, Vec<Entry>) {
    let db = tempfile::tempdir().unwrap();
    let mut conn = application_database(&db.path().join("app.sqlite3"));
    upgrade(&mut conn, project);
    seed_blog(&mut conn);
    let before = schema_of(&mut conn);
    (db, conn, before)
}

/// Applies the new migration, runs `between` (writes into new columns), reverts, and
/// asserts schema and rows are as before.
pub fn apply_and_revert_newest(
    conn: &mut SqliteConnection,
    project: &Project,
    before: &[Entry],
    between: &str,
) {
    upgrade(conn, project);
    assert_blog_rows(conn);
    conn.batch_execute(between).unwrap();
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(
        schema_of(conn),
        before,
        "down must restore every sqlite_schema entry"
    );
    assert_blog_rows(conn);
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

/// An application database file in a directory of its own.
pub struct Database {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Database {
    pub fn new() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sqlite3");
        Database { _dir: dir, path }
    }

    pub fn arg(&self) -> String {
        self.path.to_str().unwrap().to_owned()
    }

    pub fn exec(&self, sql: &str) {
        rusqlite::Connection::open(&self.path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }

    pub fn count(&self, sql: &str) -> i64 {
        rusqlite::Connection::open(&self.path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    /// Every row of `sql`, each value as text: numbers as written, NULL as `NULL` (write
    /// `quote(x)` to see values as SQL).
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        use rusqlite::types::Value;
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let text = |value: Value| match value {
            Value::Null => "NULL".to_owned(),
            Value::Integer(i) => i.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Text(t) => t,
            Value::Blob(b) => format!("{b:02x?}"),
        };
        stmt.query_map([], |r| (0..n).map(|i| r.get(i).map(text)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    pub fn schema(&self) -> Vec<(String, Option<String>)> {
        schema_of_file(&self.path)
    }

    pub fn applied(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let mut stmt = conn
            .prepare("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn schema_of_file(path: &Path) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_schema ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Runs `args` on `db` (`--database`).
pub fn run_on(project: &Project, db: &Database, args: &[&str]) -> Run {
    let mut full: Vec<&str> = args.to_vec();
    let arg = db.arg();
    full.extend(["--database", &arg]);
    project.run(&full)
}

/// Runs `args` on `db` and asserts it succeeded.
pub fn ok_on(project: &Project, db: &Database, args: &[&str]) -> Run {
    let run = run_on(project, db, args);
    assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
    run
}
