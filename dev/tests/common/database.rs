//! The application's database: a file configured as the application configures its
//! connections, the blog fixture's rows in it, and the tool run on it.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use super::{Project, Run};

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
        applied_versions(&self.path)
    }
}

/// The version keys the database at `path` applied, oldest first.
pub fn applied_versions(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT version FROM __diesel_schema_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// One row of `sqlite_schema`, its root page aside.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaRow {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    pub name: String,
    /// `tbl_name`.
    pub table: String,
    pub sql: Option<String>,
}

/// Every row of `sqlite_schema`, by type and name: the one reader of a stored schema the
/// tests compare, written here with SQL of its own rather than the tool's reader.
pub fn sqlite_schema(conn: &rusqlite::Connection) -> Vec<SchemaRow> {
    conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap()
        .query_map([], |r| {
            Ok(SchemaRow {
                kind: r.get(0)?,
                name: r.get(1)?,
                table: r.get(2)?,
                sql: r.get(3)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn schema_of_file(path: &Path) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut rows: Vec<(String, Option<String>)> = sqlite_schema(&conn)
        .into_iter()
        .map(|row| (row.name, row.sql))
        .collect();
    rows.sort();
    rows
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
