//! Naming why a step failed on a real database, as what it is. Another process holding the
//! database locked is not a problem with the migration. A migration that fails only because
//! of the rows it meets (a reference to a parent row that does not exist, a duplicate for a
//! new UNIQUE, a NULL for a new NOT NULL, a row a CHECK added in place refuses) is the data's
//! problem: the file runs again on a copy of the database in a scratch directory, where
//! SQLite names the statement, `pragma_foreign_key_check` names the rows that reference
//! nothing, and `refused` the rows a constraint added in place refuses, so the user knows
//! which rows to fix.

use std::collections::BTreeSet;
use std::path::Path;

use crate::apply::database;
use crate::apply::duplicates;
use crate::apply::losses;
use crate::apply::refused;
use crate::apply::step::{Direction, VersionStep};
use crate::error::{Error, Location, Result};
use crate::generate::replay;
use crate::sqlite::db;
use crate::sqlite::lexer;
use crate::sqlite::quote::quote;
use crate::support::scratch::Scratch;

/// Names why `step` failed on the database at `path` (`sql` being its file's text and
/// `position` the newest version still applied): another process's lock, rows the
/// migration cannot take, or the migration's own SQL. The step's file runs again on a copy
/// of the database to find the statement and the rows; the database itself is left as the
/// harness left it.
pub fn explain_failure(
    path: &Path,
    position: &str,
    step: &VersionStep,
    sql: &str,
    harness_message: &str,
) -> Error {
    let VersionStep { version, direction } = step;
    let file = &step.file();
    let position = format!("the database is at {position}");
    if database::is_locked_message(harness_message) {
        return database::locked(path).note(position);
    }
    let diagnosis = match diagnose(path, sql, replay::own_transaction(version)) {
        Ok(diagnosis) => diagnosis,
        Err(err) if err.message == database::LOCKED => return err.note(position),
        Err(_) => {
            return replay::failure(path, version, file, harness_message)
                .note(position)
                .help("fix the migration, then run the command again: it goes on from there")
        }
    };
    let Some(diagnosis) = diagnosis else {
        return replay::failed_at(version, file, sql, None, harness_message)
            .note(position)
            .note("the same file runs on a copy of the database, so the database file or its surroundings failed (disk space, permissions)")
            .help("fix that, then run the command again: it goes on from there");
    };
    let location = Location::at_offset(file, sql, diagnosis.offset);
    let message = db::sqlite_message(&diagnosis.error);
    let run = match direction {
        Direction::Up => "upgrade",
        Direction::Down => "downgrade",
    };
    let broken = &diagnosis.broken;
    if broken.total() > 0 {
        let mut err = Error::input(format!(
            "migration `{}` cannot {run} this data: {}",
            version.dir_name,
            broken.summary()
        ))
        .at(location);
        for reference in &broken.shown {
            err = err.note(reference.to_string());
        }
        if broken.total() > broken.shown.len() {
            err = err.note(format!("and {} more", broken.total() - broken.shown.len()));
        }
        return err
            .note(format!("SQLite's message: {message}"))
            .note(position)
            .help(format!(
                "the migration is not at fault: those rows point at rows of {} that do not exist. Delete them, point them at rows that exist, or add the missing rows, then run the command again",
                broken.parents()
            ));
    }
    if diagnosis.is_constraint() {
        let mut err = Error::input(format!(
            "migration `{}` cannot {run} this data: {message}",
            version.dir_name
        ))
        .at(location);
        if let Some(key) = &diagnosis.shared_key {
            err = err.note(format!("rows already share a key of the new index: {key}"));
        }
        for refused in &diagnosis.refused {
            err = err.note(refused.clone());
        }
        return err
            .note(position)
        .help("rows already in the database break a constraint this migration adds: change or remove those rows, then run the command again (if the migration writes those values itself, fix the migration)");
    }
    replay::failed_at(
        version,
        file,
        sql,
        Some((diagnosis.offset, message)),
        harness_message,
    )
    .note(position)
    .help("fix the migration, then run the command again: it goes on from there")
}

/// How many rows that reference nothing a failure lists; the rest are counted.
const SHOWN_ROWS: i64 = 10;

/// What running a failed file again on a copy of the database showed.
struct Diagnosis {
    /// The byte offset of the statement that failed, and SQLite's error there.
    offset: usize,
    error: rusqlite::Error,
    /// When a CHECK or foreign-key constraint failed: the rows that referenced a missing
    /// parent row at that moment (a rebuild's guard turns those into a failed CHECK).
    broken: BrokenRows,
    /// When a new UNIQUE index failed: one key the rows already share.
    shared_key: Option<String>,
    /// When a constraint added in place failed: the rows it refused (`refused`).
    refused: Vec<String>,
}

impl Diagnosis {
    fn is_constraint(&self) -> bool {
        self.error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
    }
}

/// The rows whose foreign key names a parent row that does not exist.
#[derive(Default)]
struct BrokenRows {
    /// `(child table, parent table, rows)`.
    counts: Vec<(String, String, usize)>,
    /// The first `SHOWN_ROWS` of them.
    shown: Vec<BrokenReference>,
}

impl BrokenRows {
    fn total(&self) -> usize {
        self.counts.iter().map(|(_, _, n)| n).sum()
    }

    /// "3 rows of posts reference rows of users that do not exist", for each child and
    /// parent.
    fn summary(&self) -> String {
        self.counts
            .iter()
            .map(|(table, parent, n)| {
                if *n == 1 {
                    format!("1 row of {table} references a row of {parent} that does not exist")
                } else {
                    format!("{n} rows of {table} reference rows of {parent} that do not exist")
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn parents(&self) -> String {
        let parents: BTreeSet<&str> = self.counts.iter().map(|(_, p, _)| p.as_str()).collect();
        parents.into_iter().collect::<Vec<_>>().join(", ")
    }
}

/// One row whose foreign key names a parent row that does not exist.
struct BrokenReference {
    table: String,
    /// `None` for a WITHOUT ROWID table.
    rowid: Option<i64>,
    parent: String,
    /// `(column, its value as SQL, the parent column it must match)`; the parent column is
    /// `None` when the reference names the parent's primary key implicitly.
    columns: Vec<(String, String, Option<String>)>,
}

impl std::fmt::Display for BrokenReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rowid {
            Some(rowid) => write!(f, "{} row {rowid}:", self.table)?,
            None => write!(f, "a row of {}:", self.table)?,
        }
        let values: Vec<String> = self
            .columns
            .iter()
            .map(|(column, value, _)| format!("{column} = {value}"))
            .collect();
        let targets: Vec<String> = self
            .columns
            .iter()
            .map(|(_, _, to)| to.clone().unwrap_or_else(|| "its primary key".into()))
            .collect();
        write!(
            f,
            " {} matches no row of {} ({})",
            values.join(", "),
            self.parent,
            targets.join(", ")
        )
    }
}

/// Runs `sql` again on a copy of `database` in a scratch directory, as the harness ran it
/// (in a transaction unless `own_transaction`), up to the statement that fails; `None` when
/// none does. Nothing the file names outside the copy (`ATTACH`, `VACUUM INTO`) is reached.
fn diagnose(database: &Path, sql: &str, own_transaction: bool) -> Result<Option<Diagnosis>> {
    let scratch = Scratch::create()?;
    let copy = scratch.database();
    database::copy_to(database, &copy)?;
    let conn =
        rusqlite::Connection::open(&copy).map_err(|e| database::failed(&copy, "open", &e))?;
    let setup = |e: rusqlite::Error| database::failed(&copy, "set up", &e);
    conn.execute_batch(db::APPLICATION_PRAGMAS).map_err(setup)?;
    conn.authorizer(Some(|context: rusqlite::hooks::AuthContext<'_>| {
        if losses::reaches_outside(&context.action) {
            rusqlite::hooks::Authorization::Deny
        } else {
            rusqlite::hooks::Authorization::Allow
        }
    }))
    .map_err(setup)?;
    if !own_transaction {
        conn.execute_batch("BEGIN").map_err(setup)?;
    }
    let Some((offset, error)) = replay::first_failure(&conn, sql) else {
        return Ok(None);
    };
    let references = matches!(
        &error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    );
    let broken = if references {
        broken_references(&conn).map_err(|e| database::failed(&copy, "read", &e))?
    } else {
        BrokenRows::default()
    };
    let unique = matches!(
        &error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    );
    let statement = lexer::split_statements(sql)
        .into_iter()
        .find(|r| r.start == offset)
        .map(|r| &sql[r]);
    let shared_key = statement
        .filter(|_| unique)
        .and_then(|statement| duplicates::shared_key(&conn, statement));
    // SQLite's ALTER that adds a constraint in place fails with the bare code.
    let in_place = matches!(
        &error,
        rusqlite::Error::SqliteFailure(e, _) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT
    );
    let refused = statement
        .filter(|_| in_place)
        .map(|statement| refused::refused_rows(&conn, statement))
        .unwrap_or_default();
    Ok(Some(Diagnosis {
        offset,
        error,
        broken,
        shared_key,
        refused,
    }))
}

/// The rows of `conn` whose foreign key names a missing parent row, counted, and the first
/// of them with the values that name the parent: `PRAGMA foreign_key_check` reports the
/// rows, `foreign_key_list` their columns.
fn broken_references(conn: &rusqlite::Connection) -> rusqlite::Result<BrokenRows> {
    let counts = conn
        .prepare(
            "SELECT \"table\", parent, count(*) FROM pragma_foreign_key_check GROUP BY 1, 2 ORDER BY 1, 2",
        )?
        .query_map([], |r| {
            let rows: i64 = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, usize::try_from(rows).unwrap_or(0)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let rows: Vec<(String, Option<i64>, String, i64)> = conn
        .prepare(
            "SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check ORDER BY 1, 2 LIMIT ?1",
        )?
        .query_map([SHOWN_ROWS], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut shown = Vec::new();
    for (table, rowid, parent, fkid) in rows {
        let pairs: Vec<(String, Option<String>)> = conn
            .prepare(
                "SELECT \"from\", \"to\" FROM pragma_foreign_key_list(?1) WHERE id = ?2 ORDER BY seq",
            )?
            .query_map(rusqlite::params![table, fkid], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut columns = Vec::new();
        for (from, to) in pairs {
            let value = match rowid {
                Some(rowid) => conn.query_row(
                    &format!(
                        "SELECT quote({}) FROM {} WHERE rowid = ?1",
                        quote(&from),
                        quote(&table)
                    ),
                    [rowid],
                    |r| r.get(0),
                )?,
                None => "?".to_owned(),
            };
            columns.push((from, value, to));
        }
        shown.push(BrokenReference {
            table,
            rowid,
            parent,
            columns,
        });
    }
    Ok(BrokenRows { counts, shown })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_references_name_the_rows_and_their_values() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;
             CREATE TABLE users (id INTEGER PRIMARY KEY);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), editor INTEGER REFERENCES users);
             CREATE TABLE tags (post_id INTEGER REFERENCES posts);
             INSERT INTO users VALUES (1);
             INSERT INTO posts VALUES (1, 1, NULL), (7, 99, NULL), (8, 1, 42), (9, 98, NULL);
             INSERT INTO tags VALUES (1), (5);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
             INSERT INTO tags SELECT 100 + i FROM n;",
        )
        .unwrap();
        let broken = broken_references(&conn).unwrap();
        let shown: Vec<String> = broken.shown.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 10);
        assert_eq!(
            shown[..4],
            [
                "posts row 7: user_id = 99 matches no row of users (id)",
                "posts row 8: editor = 42 matches no row of users (its primary key)",
                "posts row 9: user_id = 98 matches no row of users (id)",
                "tags row 2: post_id = 5 matches no row of posts (its primary key)",
            ]
        );
        assert_eq!(broken.total(), 24);
        assert_eq!(
            broken.summary(),
            "3 rows of posts reference rows of users that do not exist; 21 rows of tags reference rows of posts that do not exist"
        );
        assert_eq!(broken.parents(), "posts, users");
        let one = BrokenRows {
            counts: vec![("posts".into(), "users".into(), 1)],
            shown: Vec::new(),
        };
        assert_eq!(
            one.summary(),
            "1 row of posts references a row of users that does not exist"
        );
    }
}
