//! Fleets of hundreds of real tenant databases: `fleet status` and `fleet upgrade`, run as a
//! team with one database per tenant would run them.
//!
//! By concern: `status` (where each database stands, in every format), `upgrade` (the whole
//! fleet moved, its journal and resuming from it, `--sql`, `--backup`), `policy` (failures,
//! canaries, signals, confirmations) and `skipped` (databases that cannot be placed). The
//! fleet they share is built here.

#[path = "../common/mod.rs"]
mod common;

mod policy;
mod skipped;
mod status;
mod upgrade;

use std::path::{Path, PathBuf};

use common::{applied_versions as applied, Project, Run};

/// A blog project whose history has a second version the tenants have not applied, and a
/// directory of tenant databases.
struct Fleet {
    project: Project,
    tenants: tempfile::TempDir,
    /// A tenant at the first version, with rows.
    template: PathBuf,
    /// The first version's and the second's directory names.
    first: String,
    second: String,
}

impl Fleet {
    /// The second version adds `posts.likes`.
    fn new() -> Fleet {
        Fleet::with_second(|project| {
            project.edit_schema(
                "        title -> Text,\n",
                "        title -> Text,\n        likes -> Nullable<Integer>,\n",
            );
            project.generate("add likes");
        })
    }

    /// A fleet whose second version `make` writes.
    fn with_second(make: impl FnOnce(&Project)) -> Fleet {
        let project = Project::fixture("blog");
        let tenants = tempfile::tempdir().unwrap();
        let template = tenants.path().join("template.db");
        let run = project.run(&["upgrade", "--database", template.to_str().unwrap()]);
        assert_eq!(run.code, Some(0), "{run:?}");
        rusqlite::Connection::open(&template)
            .unwrap()
            .execute_batch(
                "INSERT INTO users (id, name, age) VALUES (1, 'ann', 30), (2, 'bob', NULL);
                 INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'hello'), (2, 2, 'world');",
            )
            .unwrap();
        let first = project.versions().last().unwrap().clone();
        make(&project);
        let second = project.versions().last().unwrap().clone();
        assert_ne!(first, second);
        Fleet {
            project,
            tenants,
            template,
            first,
            second,
        }
    }

    /// `n` tenants at the first version, named `<prefix>-000.sqlite3` and on.
    fn tenants(&self, prefix: &str, n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let path = self.tenants.path().join(format!("{prefix}-{i:03}.sqlite3"));
                std::fs::copy(&self.template, &path).unwrap();
                path
            })
            .collect()
    }

    /// The glob of every tenant whose name starts with `prefix`.
    fn glob(&self, prefix: &str) -> String {
        format!("{}/{prefix}-*.sqlite3", self.tenants.path().display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tenants.path().join(name)
    }

    /// `dev fleet ARGS`.
    fn run(&self, args: &[&str]) -> Run {
        let mut full = vec!["fleet"];
        full.extend(args);
        self.project.run(&full)
    }
}

/// The key Diesel records for a version directory.
fn key(dir_name: &str) -> String {
    dir_name.split('_').next().unwrap().replace('-', "")
}

/// Every row of the tenant's users and posts, as text.
fn rows(database: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT quote(id) || ',' || quote(name) || ',' || quote(age) FROM users ORDER BY id",
        "SELECT quote(id) || ',' || quote(user_id) || ',' || quote(title) FROM posts ORDER BY id",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        rows.extend(
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap),
        );
    }
    rows
}

/// The journal's lines, parsed.
fn journal(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}
