//! Moving a real database between versions: upgrade, downgrade, redo, stamp, current, each
//! through diesel_migrations' harness exactly as the application runs migrations.
//!
//! Safety rules, in order: a database that applied a version `versions/` does not have is
//! refused; before a file that drops a table or column runs, the rows and values it would
//! drop are counted and shown, and anything to lose needs a yes (a terminal's, or `--yes`);
//! `--backup` copies the database first; a failure stops at the last version that succeeded
//! and says which. `--sql` prints what would run and touches nothing.

use std::collections::BTreeSet;
use std::path::PathBuf;

use diesel::migration::CREATE_MIGRATIONS_TABLE;
use diesel_migrations::MigrationHarness;

use crate::ask::Prompt;
use crate::database;
use crate::ddl;
use crate::error::{Error, Result};
use crate::history;
use crate::plan::quote;
use crate::project::Project;
use crate::render;
use crate::replay;
use crate::versions::{self, Version};

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
                let last = history::resolve(&self.versions, spec)?;
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
                let keep = history::resolve(&self.versions, spec)?;
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
            let in_transaction = !version.path.join("metadata.toml").is_file();
            let bookkeeping = match direction {
                Direction::Up => format!(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ('{}');",
                    version.key
                ),
                Direction::Down => format!(
                    "DELETE FROM __diesel_schema_migrations WHERE version = '{}';",
                    version.key
                ),
            };
            script.push_str(&format!(
                "\n-- {} {}: {}\n",
                direction.verb(),
                version.dir_name,
                history::header(version).message
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
            .map_err(|e| Error::input(format!("cannot read the migrations table: {e}")))?;
        let migrations = replay::load(&self.project.versions_dir)?;
        for (version, direction) in steps {
            let migration = migrations.get(version)?;
            let file = direction.file(version);
            let sql = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
            self.confirm_losses(version, *direction, &sql)?;
            let outcome = match direction {
                Direction::Up => conn.run_migration(migration),
                Direction::Down => conn.revert_migration(migration),
            };
            if let Err(e) = outcome {
                return Err(
                    replay::failure(&self.database, version, &file, &e.to_string())
                        .note(format!("the database is at {}", self.position()))
                        .help(
                            "fix the migration, then run the command again: it goes on from there",
                        ),
                );
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

    /// Counts what `sql` would drop now; anything to lose needs a yes.
    fn confirm_losses(&mut self, version: &Version, direction: Direction, sql: &str) -> Result<()> {
        let reader = database::reader(&self.database)?;
        let counted: Vec<String> = losses(sql)
            .into_iter()
            .filter_map(|loss| {
                loss.count(&reader)
                    .filter(|n| *n > 0)
                    .map(|n| loss.describe(n))
            })
            .collect();
        if counted.is_empty() {
            return Ok(());
        }
        let what = format!(
            "{} of {} drops {}",
            if direction == Direction::Up {
                "up.sql"
            } else {
                "down.sql"
            },
            version.dir_name,
            counted.join(", ")
        );
        if self.yes {
            (self.report)(format!("warning: {what} (--yes given)"));
            return Ok(());
        }
        if let Some(prompt) = self.prompt.as_deref_mut() {
            if prompt.confirm(&format!("{what}. Continue?")) {
                return Ok(());
            }
        }
        Err(Error::input(format!("refusing to run: {what}"))
            .note(format!("the database is at {}", self.position()))
            .help(
                "back it up (`--backup`) and pass `--yes` to go ahead, or answer yes on a terminal",
            ))
    }

    /// `stamp TARGET`: marks every version up to `target` applied and none after it, running
    /// nothing (`base` clears every mark, `head` marks all).
    pub fn stamp(&mut self, target: &str) -> Result<()> {
        let keep: Vec<String> = if target == "base" {
            Vec::new()
        } else if target == "head" {
            self.versions.iter().map(|v| v.key.clone()).collect()
        } else {
            let last = history::resolve(&self.versions, target)?;
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
        .map_err(|e| Error::input(format!("cannot stamp `{}`: {e}", self.database.display())))?;
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

/// Something a migration file drops.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loss {
    Table(String),
    Column(String, String),
}

impl Loss {
    /// The rows (table) or non-NULL values (column) it would drop now; `None` when the table
    /// or column does not exist.
    fn count(&self, conn: &rusqlite::Connection) -> Option<i64> {
        let sql = match self {
            Loss::Table(t) => format!("SELECT count(*) FROM {}", quote(t)),
            Loss::Column(t, c) => format!("SELECT count({}) FROM {}", quote(c), quote(t)),
        };
        conn.query_row(&sql, [], |r| r.get(0)).ok()
    }

    fn describe(&self, n: i64) -> String {
        match self {
            Loss::Table(t) => format!("table {t} with {n} row{}", plural(n)),
            Loss::Column(t, c) => format!("column {t}.{c} with {n} value{}", plural(n)),
        }
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What `sql` drops: from the `-- WARNING:` lines `generate` writes, and from the DROP
/// TABLE and DROP COLUMN statements of any migration, hand-written ones included.
pub fn losses(sql: &str) -> Vec<Loss> {
    let mut found = BTreeSet::new();
    for warning in render::warnings(sql) {
        if let Some(table) = warning
            .strip_prefix("drops table ")
            .and_then(|w| w.strip_suffix(" and every row in it"))
        {
            found.insert(Loss::Table(table.to_owned()));
        } else if let Some((table, column)) = warning
            .strip_prefix("drops column ")
            .and_then(|w| w.strip_suffix(" and its values"))
            .and_then(|w| w.split_once('.'))
        {
            found.insert(Loss::Column(table.to_owned(), column.to_owned()));
        } else if let Some((columns, table)) = warning
            .strip_prefix("drops columns ")
            .or_else(|| warning.strip_prefix("drops column "))
            .and_then(|w| w.strip_suffix(" and their values"))
            .and_then(|w| w.rsplit_once(" of "))
        {
            for column in columns.split(", ") {
                found.insert(Loss::Column(table.to_owned(), column.to_owned()));
            }
        }
    }
    for range in ddl::split_statements(sql) {
        let words: Vec<String> = ddl::identifiers(&sql[range]).collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let at = |i: usize| upper.get(i).map(String::as_str);
        match (at(0), at(1)) {
            (Some("DROP"), Some("TABLE")) => {
                let name = if at(2) == Some("IF") {
                    words.get(4)
                } else {
                    words.get(2)
                };
                if let Some(name) = name {
                    found.insert(Loss::Table(name.clone()));
                }
            }
            (Some("ALTER"), Some("TABLE")) if at(3) == Some("DROP") => {
                let column = if at(4) == Some("COLUMN") {
                    words.get(5)
                } else {
                    words.get(4)
                };
                if let Some(column) = column {
                    found.insert(Loss::Column(words[2].clone(), column.clone()));
                }
            }
            _ => {}
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_come_from_warnings_and_statements() {
        let sql = "-- WARNING: drops table posts and every row in it\nDROP TABLE posts;\n\
                   -- WARNING: drops columns bio, age of users and their values\n\
                   ALTER TABLE users RENAME TO _dev_old_users;\n\
                   ALTER TABLE \"tags\" DROP COLUMN \"label\";\nDROP TABLE IF EXISTS notes;\nDROP INDEX i;";
        assert_eq!(
            losses(sql),
            [
                Loss::Table("notes".into()),
                Loss::Table("posts".into()),
                Loss::Column("tags".into(), "label".into()),
                Loss::Column("users".into(), "age".into()),
                Loss::Column("users".into(), "bio".into()),
            ]
        );
    }

    #[test]
    fn counts_rows_and_non_null_values_of_what_exists() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, NULL), (2, 3);")
            .unwrap();
        assert_eq!(Loss::Table("t".into()).count(&conn), Some(2));
        assert_eq!(Loss::Column("t".into(), "b".into()).count(&conn), Some(1));
        assert_eq!(Loss::Table("gone".into()).count(&conn), None);
    }
}
