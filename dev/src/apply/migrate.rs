//! Moving a real database between versions: upgrade, downgrade, redo, stamp, current, each
//! through diesel_migrations' harness exactly as the application runs migrations.
//!
//! Safety rules, in order: a database that applied a version `versions/` does not have is
//! refused; before a file that drops a table or column runs, the rows and values it would
//! drop are counted and shown (`losses` finds them by running the file on a copy of the
//! schema), and anything to lose needs a yes (a terminal's, or `--yes`); `--backup` copies
//! the database first; a failure stops at the last version that succeeded and says which.
//! `--sql` prints what would run and touches nothing.
//!
//! A failure is named as what it is. Another process holding the database locked is not a
//! problem with the migration. A migration that fails only because of the rows it meets
//! (a reference to a parent row that does not exist, a duplicate for a new UNIQUE, a NULL
//! for a new NOT NULL) is the data's problem: the file runs again on a copy of the database
//! in a scratch directory, where SQLite names the statement, and `pragma_foreign_key_check`
//! names the rows that reference nothing, so the user knows which rows to fix.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use diesel::migration::CREATE_MIGRATIONS_TABLE;
use diesel_migrations::MigrationHarness;

use crate::apply::database;
use crate::apply::losses;
use crate::error::{Error, Location, Result};
use crate::generate::replay;
use crate::history::header;
use crate::history::versions::{self, Version};
use crate::project::Project;
use crate::sqlite::db;
use crate::sqlite::quote::{literal, quote};
use crate::support::ask::Prompt;
use crate::support::scratch::Scratch;

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    fn file(self, version: &Version) -> PathBuf {
        match self {
            Direction::Up => version.up_sql(),
            Direction::Down => version.down_sql(),
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Direction::Up => "Upgrade",
            Direction::Down => "Downgrade",
        }
    }
}

/// One migration file to run: a version and a direction.
pub type Step = (Version, Direction);

/// A command's view of one database and the project's versions.
pub struct Session<'a> {
    pub project: &'a Project,
    pub database: PathBuf,
    pub versions: Vec<Version>,
    /// Versions the database has applied (Diesel's keys).
    pub applied: Vec<String>,
    pub yes: bool,
    pub prompt: Option<&'a mut dyn Prompt>,
    pub report: &'a mut dyn FnMut(String),
}

impl<'a> Session<'a> {
    pub fn new(
        project: &'a Project,
        database: PathBuf,
        yes: bool,
        prompt: Option<&'a mut dyn Prompt>,
        report: &'a mut dyn FnMut(String),
    ) -> Result<Session<'a>> {
        let versions = versions::scan(&project.versions_dir)?;
        let applied = database::applied(&database)?;
        Ok(Session {
            project,
            database,
            versions,
            applied,
            yes,
            prompt,
            report,
        })
    }

    /// Applied versions that `versions/` does not contain: written by newer code.
    pub fn unknown_applied(&self) -> Vec<&str> {
        let known: BTreeSet<&str> = self.versions.iter().map(|v| v.key.as_str()).collect();
        self.applied
            .iter()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect()
    }

    fn refuse_unknown(&self) -> Result<()> {
        match self.unknown_applied().as_slice() {
            [] => Ok(()),
            unknown => Err(Error::input(format!(
                "`{}` has applied {} that versions/ does not contain: {}",
                self.database.display(),
                if unknown.len() == 1 { "a version" } else { "versions" },
                unknown.join(", ")
            ))
            .help("newer code migrated this database; run that code's migrations, or `stamp` it if you know the schema")),
        }
    }

    fn is_applied(&self, version: &Version) -> bool {
        self.applied.contains(&version.key)
    }

    /// The steps of `upgrade TARGET`: pending versions up to `target` (default head; `+N`
    /// for the next N), oldest first.
    pub fn upgrade_steps(&self, target: Option<&str>) -> Result<Vec<Step>> {
        self.refuse_unknown()?;
        let pending = self.versions.iter().filter(|v| !self.is_applied(v));
        let steps: Vec<&Version> = match target {
            None | Some("head") => pending.collect(),
            Some(spec) if spec.starts_with('+') => pending.take(count(spec)?).collect(),
            Some(spec) => {
                let last = header::resolve(&self.versions, spec)?;
                pending.filter(|v| v.key <= last.key).collect()
            }
        };
        Ok(steps
            .into_iter()
            .map(|v| (v.clone(), Direction::Up))
            .collect())
    }

    /// The steps of `downgrade TARGET`: `-N` reverts the newest N applied, `base` all of
    /// them, a version every applied version after it; newest first.
    pub fn downgrade_steps(&self, target: &str) -> Result<Vec<Step>> {
        self.refuse_unknown()?;
        let applied = self.versions.iter().rev().filter(|v| self.is_applied(v));
        let steps: Vec<&Version> = match target {
            "base" => applied.collect(),
            spec if spec.starts_with('-') => applied.take(count(spec)?).collect(),
            spec => {
                let keep = header::resolve(&self.versions, spec)?;
                applied.filter(|v| v.key > keep.key).collect()
            }
        };
        Ok(steps
            .into_iter()
            .map(|v| (v.clone(), Direction::Down))
            .collect())
    }

    /// `redo`: the newest applied version, down then up.
    pub fn redo_steps(&self) -> Result<Vec<Step>> {
        self.refuse_unknown()?;
        let newest = self
            .versions
            .iter()
            .rev()
            .find(|v| self.is_applied(v))
            .ok_or_else(|| Error::input("no version is applied, so there is nothing to redo"))?;
        Ok(vec![
            (newest.clone(), Direction::Down),
            (newest.clone(), Direction::Up),
        ])
    }

    /// The SQL `steps` would run, in order, as one script: what the harness runs, with its
    /// transactions and bookkeeping spelled out.
    pub fn sql(&self, steps: &[Step]) -> Result<String> {
        let mut script = format!(
            "-- {} step{} for {}\n",
            steps.len(),
            if steps.len() == 1 { "" } else { "s" },
            self.database.display()
        );
        if steps.iter().any(|(_, d)| *d == Direction::Up) {
            script.push_str(&format!("{}\n", CREATE_MIGRATIONS_TABLE.trim_end()));
        }
        for (version, direction) in steps {
            let file = direction.file(version);
            let sql = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
            let in_transaction = !replay::own_transaction(version);
            let bookkeeping = match direction {
                Direction::Up => format!(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ({});",
                    literal(&version.key)
                ),
                Direction::Down => format!(
                    "DELETE FROM __diesel_schema_migrations WHERE version = {};",
                    literal(&version.key)
                ),
            };
            script.push_str(&format!(
                "\n-- {} {}: {}\n",
                direction.verb(),
                version.dir_name,
                header::header(version).message
            ));
            if in_transaction {
                script.push_str(&format!(
                    "BEGIN;\n{}\n{bookkeeping}\nCOMMIT;\n",
                    sql.trim_end()
                ));
            } else {
                script.push_str(&format!("{}\n{bookkeeping}\n", sql.trim_end()));
            }
        }
        Ok(script)
    }

    /// Runs `steps` on the database, each only after what it would drop is confirmed.
    pub fn run(&mut self, steps: &[Step], backup: bool) -> Result<()> {
        if steps.is_empty() {
            (self.report)("Nothing to do: the database is already there.".into());
            return Ok(());
        }
        let creates = steps[0].1 == Direction::Up;
        if backup && self.database.is_file() {
            let copy = database::backup(&self.database)?;
            (self.report)(format!("Backed up to {}", copy.display()));
        }
        let mut conn = database::open(&self.database, creates)?;
        conn.applied_migrations()
            .map_err(|e| self.harness_error("read the migrations table of", &e.to_string()))?;
        let migrations = replay::load(&self.project.versions_dir)?;
        // One copy of the schema for every step: making one costs a statement per table.
        let mut copy = losses::SchemaCopy::default();
        for (version, direction) in steps {
            let migration = migrations.get(version)?;
            let file = direction.file(version);
            let sql = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
            let schema = losses::Schema::read_with(&mut conn)
                .map_err(|e| self.harness_error("read the schema of", &e.to_string()))?;
            let drops = copy.drops(&schema, &sql, replay::own_transaction(version));
            self.confirm_losses(drops, version, &file, &sql)?;
            let outcome = match direction {
                Direction::Up => conn.run_migration(migration),
                Direction::Down => conn.revert_migration(migration),
            };
            if let Err(e) = outcome {
                // A file that manages its own transaction can leave it open on failure;
                // closing the connection rolls it back and releases the database.
                drop(conn);
                return Err(self.explain_failure(version, *direction, &file, &sql, &e.to_string()));
            }
            match direction {
                Direction::Up => self.applied.push(version.key.clone()),
                Direction::Down => self.applied.retain(|k| k != &version.key),
            }
            (self.report)(format!("{} {}", direction.verb(), version.dir_name));
        }
        let position = self.position();
        (self.report)(format!("The database is at {position}."));
        Ok(())
    }

    /// The newest applied version, or `base`.
    pub fn position(&self) -> String {
        self.versions
            .iter()
            .rev()
            .find(|v| self.is_applied(v))
            .map_or_else(
                || "base (no version applied)".to_owned(),
                |v| v.dir_name.clone(),
            )
    }

    /// A failure of the harness's connection to the database, which reports only a message:
    /// `action` is what was being done ("read the schema of", ...).
    fn harness_error(&self, action: &str, message: &str) -> Error {
        if database::is_locked_message(message) {
            database::locked(&self.database)
        } else {
            Error::input(format!(
                "cannot {action} `{}`: {message}",
                self.database.display()
            ))
        }
    }

    /// Counts the rows and values `drops` (what `sql`, the text of `file`, drops) hold now;
    /// anything to lose needs a yes, and so does a file whose losses cannot be known.
    fn confirm_losses(
        &mut self,
        drops: losses::Drops,
        version: &Version,
        file: &Path,
        sql: &str,
    ) -> Result<()> {
        let mut counted = Vec::new();
        if !drops.losses.is_empty() {
            let reader = database::reader(&self.database)?;
            for loss in &drops.losses {
                let n = loss
                    .count(&reader)
                    .map_err(|e| database::failed(&self.database, "count the rows of", &e))?;
                if n > 0 {
                    counted.push(loss.describe(n));
                }
            }
        }
        let name = format!(
            "{} of {}",
            file.file_name().unwrap_or_default().to_string_lossy(),
            version.dir_name
        );
        let mut what = String::new();
        if !counted.is_empty() {
            what = format!("{name} drops {}", counted.join(", "));
        }
        let location = drops
            .unknown
            .as_ref()
            .and_then(|u| u.offset)
            .map(|offset| Location::at_offset(file, sql, offset));
        if let Some(unknown) = &drops.unknown {
            let at = location
                .as_ref()
                .map(|l| format!(" at line {}", l.line))
                .unwrap_or_default();
            what = if what.is_empty() {
                format!("{name} stops")
            } else {
                format!("{what}, and stops")
            };
            what.push_str(&format!(
                "{at} on a copy of the database's schema ({}), so what it drops cannot be counted",
                unknown.reason
            ));
        }
        if what.is_empty() {
            return Ok(());
        }
        if self.yes {
            (self.report)(format!("warning: {what} (--yes given)"));
            return Ok(());
        }
        if let Some(prompt) = self.prompt.as_deref_mut() {
            if prompt.confirm(&format!("{what}. Continue?")) {
                return Ok(());
            }
        }
        let help = if drops.unknown.is_some() {
            "fix that statement; if it fails only on an empty copy, back the database up (`--backup`) and pass `--yes` to run it anyway"
        } else {
            "back it up (`--backup`) and pass `--yes` to go ahead, or answer yes on a terminal"
        };
        let refusal = Error::input(format!("refusing to run: {what}"))
            .note(format!("the database is at {}", self.position()))
            .help(help);
        Err(match location {
            Some(location) => refusal.at(location),
            None => refusal,
        })
    }

    /// Names why a step failed: another process's lock, rows the migration cannot take,
    /// or the migration's own SQL. The step's file runs again on a copy of the database to
    /// find the statement and the rows; the database itself is left as the harness left it.
    fn explain_failure(
        &self,
        version: &Version,
        direction: Direction,
        file: &Path,
        sql: &str,
        harness_message: &str,
    ) -> Error {
        let position = format!("the database is at {}", self.position());
        if database::is_locked_message(harness_message) {
            return database::locked(&self.database).note(position);
        }
        let diagnosis = match diagnose(&self.database, sql, replay::own_transaction(version)) {
            Ok(diagnosis) => diagnosis,
            Err(err) if err.message == database::LOCKED => return err.note(position),
            Err(_) => {
                return replay::failure(&self.database, version, file, harness_message)
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
            return Error::input(format!(
                "migration `{}` cannot {run} this data: {message}",
                version.dir_name
            ))
            .at(location)
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

    /// `stamp TARGET`: marks every version up to `target` applied and none after it, running
    /// nothing (`base` clears every mark, `head` marks all).
    pub fn stamp(&mut self, target: &str) -> Result<()> {
        let keep: Vec<String> = if target == "base" {
            Vec::new()
        } else if target == "head" {
            self.versions.iter().map(|v| v.key.clone()).collect()
        } else {
            let last = header::resolve(&self.versions, target)?;
            self.versions
                .iter()
                .filter(|v| v.key <= last.key)
                .map(|v| v.key.clone())
                .collect()
        };
        let conn = rusqlite::Connection::open_with_flags(
            &self.database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .map_err(|e| {
            Error::input(format!(
                "there is no database at `{}`: {e}",
                self.database.display()
            ))
        })?;
        let values: Vec<String> = keep.iter().map(|k| format!("('{k}')")).collect();
        let insert = if values.is_empty() {
            String::new()
        } else {
            format!(
                "INSERT OR IGNORE INTO __diesel_schema_migrations (version) VALUES {};",
                values.join(", ")
            )
        };
        let kept: Vec<String> = keep.iter().map(|k| format!("'{k}'")).collect();
        conn.execute_batch(&format!(
            "BEGIN;\n{CREATE_MIGRATIONS_TABLE}\nDELETE FROM __diesel_schema_migrations WHERE version NOT IN ({});\n{insert}\nCOMMIT;",
            kept.join(", ")
        ))
        .map_err(|e| database::failed(&self.database, "stamp", &e))?;
        let unknown: Vec<String> = self
            .unknown_applied()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !unknown.is_empty() {
            (self.report)(format!(
                "Cleared versions versions/ does not contain: {}",
                unknown.join(", ")
            ));
        }
        self.applied = keep;
        let position = self.position();
        (self.report)(format!("Stamped: the database is at {position}."));
        Ok(())
    }
}

fn count(spec: &str) -> Result<usize> {
    spec[1..].parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::input(format!("`{spec}` is not a number of steps")).help("e.g. -1, -2 or +1")
    })
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
    broken: Broken,
}

impl Diagnosis {
    fn is_constraint(&self) -> bool {
        self.error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
    }
}

/// The rows whose foreign key names a parent row that does not exist.
#[derive(Default)]
struct Broken {
    /// `(child table, parent table, rows)`.
    counts: Vec<(String, String, usize)>,
    /// The first `SHOWN_ROWS` of them.
    shown: Vec<BrokenReference>,
}

impl Broken {
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
        Broken::default()
    };
    Ok(Some(Diagnosis {
        offset,
        error,
        broken,
    }))
}

/// The rows of `conn` whose foreign key names a missing parent row, counted, and the first
/// of them with the values that name the parent: `PRAGMA foreign_key_check` reports the
/// rows, `foreign_key_list` their columns.
fn broken_references(conn: &rusqlite::Connection) -> rusqlite::Result<Broken> {
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
    Ok(Broken { counts, shown })
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
        let one = Broken {
            counts: vec![("posts".into(), "users".into(), 1)],
            shown: Vec::new(),
        };
        assert_eq!(
            one.summary(),
            "1 row of posts references a row of users that does not exist"
        );
    }
}
