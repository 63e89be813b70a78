//! What a migration file would drop from a real database: found by running the file on a
//! copy of the database's schema, without its rows, and asking SQLite what happened, not by
//! reading the SQL as text.
//!
//! `DROP TABLE main.audit`, `DROP TABLE "audit"`, `drop table /* old */ [AUDIT]`,
//! `DROP TABLE IF EXISTS audit`, a hand-written rebuild that copies a table minus a column, a
//! `PRAGMA writable_schema` edit: SQLite resolves every spelling to the same table, and a text
//! match misses some of them. So every `sqlite_schema` entry of the database is recreated
//! from its stored text in an in-memory database (SQLite's own bookkeeping tables and
//! automatic indexes are made by SQLite itself, virtual tables' shadow tables by their
//! module), and the file runs there one statement at a time, in a transaction unless it
//! manages its own, as the harness runs it. Two things are asked of SQLite per statement:
//!
//! - An authorizer callback, which SQLite calls while preparing a statement with the
//!   database and the real name of every table it alters, writes or reads, whatever the
//!   spelling. It says which table an `ALTER TABLE` acts on, and which columns a statement
//!   that writes a table reads (an `INSERT ... SELECT` that copies rows).
//! - The tables and columns of `main` before and after the statement. A table an
//!   `ALTER TABLE` acted on that is gone afterwards, with one new table in its place, was
//!   renamed; a column an `ALTER TABLE` replaced by exactly one new column was renamed. Any
//!   other table or column of the database that disappears was dropped, however the file
//!   did it.
//!
//! A table that was dropped while a table of its name exists at the end was rebuilt (the
//! only way SQLite changes most things about a table): it keeps the columns that a statement
//! writing a table read (an `INSERT ... SELECT` that copies them) and that still exist under
//! their name, and loses the others. One
//! dropped without its rows ever being copied loses every row, even if a table of the same
//! name is created again. Data copied into a table under another name is not followed:
//! that counts as a loss, which asks for a confirmation a careful reader can give.
//!
//! The copy runs nothing that reaches outside it: `ATTACH` (and `VACUUM INTO`, which
//! attaches its target) is refused there, and the file is reported as one the copy cannot
//! run. A file the copy cannot run is never taken to lose nothing: `Drops::unknown` says
//! where and why it stopped, and the caller asks for a confirmation.
//!
//! `sqlite::stored` reads what the copy is made from; `copy` runs a file there and follows every
//! table through it.

mod copy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::hooks::AuthAction;
use rusqlite::Connection;

use crate::sqlite::quote::quote;
use crate::support::output::thousands;

use crate::sqlite::stored::StoredSchema;
use copy::InMemoryCopy;

/// Something a migration file drops, named as it is in the database before the file runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loss {
    /// A table and all its rows, by the table's name.
    Table(String),
    /// One column's values: the table's name, then the column's.
    Column(String, String),
}

impl Loss {
    /// The rows (table) or non-NULL values (column) it would drop from `conn` now: what the
    /// confirmation shows, counted on the real database.
    pub fn count(&self, conn: &Connection) -> rusqlite::Result<i64> {
        let sql = match self {
            Loss::Table(t) => format!("SELECT count(*) FROM main.{}", quote(t)),
            Loss::Column(t, c) => format!("SELECT count({}) FROM main.{}", quote(c), quote(t)),
        };
        conn.query_row(&sql, [], |r| r.get(0))
    }

    /// The loss as the confirmation shows it, with its count.
    pub fn describe(&self, n: i64) -> String {
        let plural = if n == 1 { "" } else { "s" };
        let n = thousands(n);
        match self {
            Loss::Table(t) => format!("table {t} with {n} row{plural}"),
            Loss::Column(t, c) => format!("column {t}.{c} with {n} value{plural}"),
        }
    }
}

/// Where the copy of the schema stopped running a file, and SQLite's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The byte offset of the statement in the file; `None` when the copy itself could not
    /// be made.
    pub offset: Option<usize>,
    /// SQLite's error message for that statement, or why the copy could not be made.
    pub reason: String,
}

/// What one migration file drops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drops {
    /// The tables and columns of the database it drops, sorted.
    pub losses: Vec<Loss>,
    /// Set when the copy could not run the whole file: what it drops from there on is not
    /// known, so it must not be taken as nothing.
    pub unknown: Option<Unknown>,
    /// The tables of the database whose rows it copies (a rebuild's `INSERT ... SELECT`),
    /// sorted: every page of them is written again, and shipped to replicas and backups.
    pub copied: Vec<String>,
}
/// A copy of a database's schema, kept from one migration file to the next: building it
/// costs a statement per table, and a command may run hundreds of files. It is made again
/// whenever its schema is not the database's (a file that failed on it, or a database
/// another program changed); otherwise it has run the same SQL the database has, and its
/// connection carries the same PRAGMAs, as the harness's connection does.
#[derive(Default)]
pub struct SchemaCopy {
    copy: Option<InMemoryCopy>,
    /// What files dropped on other databases of the run, when it has many.
    memo: Option<Arc<Memo>>,
}

/// What files drop, by the schema they run on and their text (and transaction): shared by
/// the databases of a fleet, which mostly share both, so that one copy serves them all.
#[derive(Default)]
pub struct Memo(Mutex<HashMap<(StoredSchema, String, bool), Drops>>);

impl Memo {
    fn found(&self) -> MutexGuard<'_, HashMap<(StoredSchema, String, bool), Drops>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SchemaCopy {
    /// A copy that first looks in `memo`, and adds what it finds there.
    pub fn shared(memo: Arc<Memo>) -> SchemaCopy {
        SchemaCopy {
            copy: None,
            memo: Some(memo),
        }
    }

    /// Runs `sql` on a copy of `schema` (that of the database the file is about to run on)
    /// and returns what it drops there. `own_transaction` is true for a file that manages
    /// its own transaction (`run_in_transaction = false`); others run inside one, as the
    /// harness runs them.
    pub fn drops(&mut self, schema: &StoredSchema, sql: &str, own_transaction: bool) -> Drops {
        let Some(memo) = self.memo.clone() else {
            return self.run(schema, sql, own_transaction);
        };
        let key = (schema.clone(), sql.to_owned(), own_transaction);
        if let Some(found) = memo.found().get(&key) {
            return found.clone();
        }
        let found = self.run(schema, sql, own_transaction);
        memo.found().insert(key, found.clone());
        found
    }

    fn run(&mut self, schema: &StoredSchema, sql: &str, own_transaction: bool) -> Drops {
        let kept = self.copy.take().filter(|copy| copy.is_copy_of(schema));
        let mut copy = match kept {
            Some(copy) => copy,
            None => match InMemoryCopy::new(schema) {
                Ok(copy) => copy,
                Err(reason) => {
                    return Drops {
                        unknown: Some(Unknown {
                            offset: None,
                            reason,
                        }),
                        ..Drops::default()
                    }
                }
            },
        };
        let drops = copy.run(sql, own_transaction);
        // A file that stopped part way left the copy where the database will not be.
        if drops.unknown.is_none() {
            self.copy = Some(copy);
        }
        drops
    }
}

/// What each of `files` (their SQL, and whether each manages its own transaction) drops when
/// they run in order on a database whose schema is `schema`: a fleet's survey, before any
/// of them runs. After a file the copy cannot run, what the next ones drop is not known
/// either.
pub fn forecast(schema: &StoredSchema, files: &[(&str, bool)]) -> Vec<Drops> {
    let unknown = |offset, reason: String| Drops {
        unknown: Some(Unknown { offset, reason }),
        ..Drops::default()
    };
    let mut copy = match InMemoryCopy::new(schema) {
        Ok(copy) => copy,
        Err(reason) => {
            return files
                .iter()
                .map(|_| unknown(None, reason.clone()))
                .collect()
        }
    };
    let mut found: Vec<Drops> = Vec::with_capacity(files.len());
    for (sql, own_transaction) in files {
        if found.last().is_some_and(|d| d.unknown.is_some()) {
            found.push(unknown(
                None,
                "a version before it stops on the copy".into(),
            ));
        } else {
            found.push(copy.run(sql, *own_transaction));
        }
    }
    found
}

/// Whether an action would reach a file outside the connection's own database: `ATTACH`,
/// and `VACUUM INTO`, which attaches its target. Running a migration file anywhere but on
/// the real database must not write what the file names.
pub fn reaches_outside(action: &AuthAction<'_>) -> bool {
    matches!(action, AuthAction::Attach { .. })
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A database like the blog fixture's, with rows.
    fn blog() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, age INTEGER CHECK (age >= 0));
             CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, title TEXT NOT NULL);
             CREATE INDEX posts_user_id ON posts (user_id);
             CREATE TABLE audit (id INTEGER NOT NULL PRIMARY KEY, note TEXT NOT NULL);
             CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (note) VALUES ('user ' || NEW.id); END;
             CREATE VIEW names AS SELECT name FROM users;
             INSERT INTO users VALUES (1, 'ann', 30), (2, 'bob', NULL);
             INSERT INTO posts (user_id, title) VALUES (1, 'a'), (2, 'b');",
        )
        .unwrap();
        conn
    }

    fn drops(sql: &str) -> Drops {
        SchemaCopy::default().drops(&StoredSchema::read(&blog()).unwrap(), sql, false)
    }

    fn table(name: &str) -> Loss {
        Loss::Table(name.into())
    }

    fn column(t: &str, c: &str) -> Loss {
        Loss::Column(t.into(), c.into())
    }

    #[test]
    fn every_spelling_of_a_drop_counts() {
        for sql in [
            "DROP TABLE audit;",
            "DROP TABLE main.audit;",
            "DROP TABLE \"audit\";",
            "DROP TABLE [audit];",
            "DROP TABLE `main`.`audit`;",
            "DROP TABLE IF EXISTS audit;",
            "drop table /* c */ audit;",
            "DrOp TaBlE -- why\n  AUDIT;",
            "PRAGMA writable_schema = ON; DELETE FROM sqlite_schema WHERE name = 'audit';",
        ] {
            let found = drops(sql);
            assert_eq!(found.losses, [table("audit")], "{sql}");
            assert_eq!(found.unknown, None, "{sql}");
        }
        for sql in [
            "ALTER TABLE main.posts DROP COLUMN title;",
            "alter table \"POSTS\" drop \"Title\";",
        ] {
            assert_eq!(
                drops(sql),
                Drops {
                    losses: vec![column("posts", "title")],
                    unknown: None,
                    copied: Vec::new(),
                },
                "{sql}"
            );
        }
    }

    #[test]
    fn what_is_not_dropped_is_not_counted() {
        for sql in [
            "DROP TABLE IF EXISTS nowhere; DROP INDEX posts_user_id; DROP VIEW names;",
            "CREATE TEMP TABLE audit (x); DROP TABLE audit;",
            "CREATE TABLE scratch (x); DROP TABLE scratch; ALTER TABLE users ADD COLUMN bio TEXT;",
            "ALTER TABLE audit RENAME TO audit_log; ALTER TABLE users RENAME COLUMN age TO years;",
            "ALTER TABLE audit RENAME TO a2; CREATE TABLE audit (x); ALTER TABLE a2 RENAME TO a3;",
            "SELECT 1; DELETE FROM audit WHERE 0;",
        ] {
            let found = drops(sql);
            assert_eq!(found, Drops::default(), "{sql}");
        }
    }

    #[test]
    fn a_rebuild_under_the_same_name_loses_only_the_columns_it_does_not_copy() {
        let generated = "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; BEGIN;
            ALTER TABLE users RENAME TO _dev_old_users;
            CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL);
            INSERT INTO users (id, name) SELECT id, name FROM _dev_old_users;
            DROP TABLE _dev_old_users;
            CREATE TEMP TABLE _dev_guard (ok INTEGER CHECK (ok));
            INSERT INTO _dev_guard SELECT NOT EXISTS (SELECT 1 FROM pragma_foreign_key_check);
            DROP TABLE _dev_guard;
            COMMIT; PRAGMA foreign_keys = ON;";
        assert_eq!(
            SchemaCopy::default().drops(&StoredSchema::read(&blog()).unwrap(), generated, true),
            Drops {
                losses: vec![column("users", "age")],
                unknown: None,
                copied: vec!["users".to_owned()],
            }
        );
        let by_hand = "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT, views INTEGER);
            INSERT INTO posts_new (id, user_id) SELECT id, user_id FROM posts;
            DROP TABLE posts;
            ALTER TABLE posts_new RENAME TO posts;";
        assert_eq!(
            drops(by_hand),
            Drops {
                losses: vec![column("posts", "title")],
                unknown: None,
                copied: vec!["posts".to_owned()],
            }
        );
        let recreated = "DROP TABLE audit; CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);";
        assert_eq!(drops(recreated).losses, [table("audit")]);
    }

    #[test]
    fn a_file_the_copy_cannot_run_is_not_taken_to_lose_nothing() {
        let sql = "DROP TABLE audit;\nINSERT INTO nowhere VALUES (1);\nDROP TABLE posts;";
        let found = drops(sql);
        assert_eq!(found.losses, [table("audit")]);
        assert_eq!(
            found.unknown,
            Some(Unknown {
                offset: Some(18),
                reason: "no such table: nowhere".into()
            })
        );
        let dir = tempfile::tempdir().unwrap();
        for outside in [
            format!("ATTACH '{}' AS other;", dir.path().join("a.db").display()),
            format!("VACUUM INTO '{}';", dir.path().join("b.db").display()),
        ] {
            let found = drops(&outside);
            assert!(found.unknown.is_some(), "{outside}: {found:?}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the copy wrote a file"
        );
    }

    #[test]
    fn a_virtual_table_is_one_table_and_its_shadow_tables_are_its_own() {
        let real = blog();
        real.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(body); INSERT INTO docs VALUES ('a'), ('b');",
        )
        .unwrap();
        let mut copy = SchemaCopy::default();
        assert_eq!(
            copy.drops(
                &StoredSchema::read(&real).unwrap(),
                "INSERT INTO docs VALUES ('c');",
                false
            ),
            Drops::default()
        );
        let found = copy.drops(
            &StoredSchema::read(&real).unwrap(),
            "DROP TABLE docs;",
            false,
        );
        assert_eq!(found.losses, [table("docs")]);
        assert_eq!(table("docs").count(&real).unwrap(), 2);
    }

    #[test]
    fn the_copy_follows_the_database_from_file_to_file() {
        let real = blog();
        let mut copy = SchemaCopy::default();
        let mut step = |sql: &str| {
            let found = copy.drops(&StoredSchema::read(&real).unwrap(), sql, false);
            real.execute_batch(sql).unwrap();
            found.losses
        };
        assert_eq!(step("ALTER TABLE audit RENAME TO log;"), []);
        assert_eq!(step("DROP TABLE log;"), [table("log")]);
        real.execute_batch("CREATE TABLE extra (x);").unwrap();
        assert_eq!(
            step("DROP TABLE extra;"),
            [table("extra")],
            "a table made behind the copy's back"
        );
    }

    #[test]
    fn counts_rows_and_non_null_values() {
        let conn = blog();
        assert_eq!(table("posts").count(&conn).unwrap(), 2);
        assert_eq!(column("users", "age").count(&conn).unwrap(), 1);
        assert!(table("gone").count(&conn).is_err());
        assert_eq!(table("t").describe(1), "table t with 1 row");
        assert_eq!(column("t", "c").describe(2), "column t.c with 2 values");
    }
}
