//! Moving a real database between versions: upgrade, downgrade, redo, stamp, current, each
//! through diesel_migrations' harness exactly as the application runs migrations.
//!
//! Safety rules, in order: a database that applied a version `versions/` does not have is
//! refused; before a file that drops a table or column runs, the rows and values it would
//! drop are counted and shown (`losses` finds them by running the file on a copy of the
//! schema), and anything to lose needs a yes (a terminal's, or `--yes`); `--backup` copies
//! the database first; a failure stops at the last version that succeeded and says which.
//! `--sql` prints what would run and touches nothing. A step that fails is named by
//! `diagnose`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use diesel_migrations::MigrationHarness;

use crate::apply::database;
use crate::apply::diagnose;
use crate::apply::losses;
use crate::apply::rehearse::{Rehearsal, TableChange};
use crate::apply::step::{Direction, VersionStep};
use crate::error::{Error, Location, Result};
use crate::generate::replay;
use crate::history::header;
use crate::history::squash::{self, PartWay};
use crate::history::versions::{self, Version};
use crate::project::Project;
use crate::sqlite::stored::StoredSchema;
use crate::support::ask::Prompt;
use crate::support::output::errln;

/// A command's view of one database and the project's versions.
pub struct Session<'a> {
    /// The project whose `versions/` the database moves through.
    pub project: &'a Project,
    /// The SQLite database file, from `--database` or `DATABASE_URL`; it may not exist yet.
    pub database: PathBuf,
    /// Every version in `versions/`, oldest first.
    pub versions: Vec<Version>,
    /// Versions the database has applied (Diesel's keys), less those a squashed history's
    /// baseline accounts for.
    pub applied: Vec<String>,
    /// Set when the database is part-way through the versions a baseline replaced: nothing
    /// but `stamp` may move it.
    pub part_way: Option<PartWay>,
    /// `--yes`: run a file that drops data without asking.
    pub yes: bool,
    /// Who confirms a step that drops data; `None` when nobody can be asked: it is refused.
    pub prompt: Option<&'a mut dyn Prompt>,
    /// Where progress goes: stderr as the database moves, stdout for `current` and `stamp`.
    pub report: &'a mut dyn FnMut(String),
}

impl<'a> Session<'a> {
    /// Reads `versions/` and what the database has applied (nothing when it is not there).
    pub fn new(
        project: &'a Project,
        database: PathBuf,
        yes: bool,
        prompt: Option<&'a mut dyn Prompt>,
        report: &'a mut dyn FnMut(String),
    ) -> Result<Session<'a>> {
        let versions = versions::scan(&project.versions_dir)?;
        let applied = database::applied(&database)?;
        let (applied, part_way) = match squash::recognise(&versions, applied.clone()) {
            Ok(recognised) => (recognised, None),
            Err(part_way) => (applied, Some(part_way)),
        };
        Ok(Session {
            project,
            database,
            versions,
            applied,
            part_way,
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

    /// Refuses a database this build cannot place in the history: part-way through a
    /// squash, or migrated by newer code.
    pub fn refuse_unknown(&self) -> Result<()> {
        if let Some(part_way) = &self.part_way {
            return Err(part_way.error(&self.database));
        }
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
    pub fn upgrade_steps(&self, target: Option<&str>) -> Result<Vec<VersionStep>> {
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
        Ok(steps.into_iter().map(VersionStep::up).collect())
    }

    /// The steps of `downgrade TARGET`: `-N` reverts the newest N applied, `base` all of
    /// them, a version every applied version after it; newest first.
    pub fn downgrade_steps(&self, target: &str) -> Result<Vec<VersionStep>> {
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
        Ok(steps.into_iter().map(VersionStep::down).collect())
    }

    /// `redo`: the newest applied version, down then up.
    pub fn redo_steps(&self) -> Result<Vec<VersionStep>> {
        self.refuse_unknown()?;
        let newest = self
            .versions
            .iter()
            .rev()
            .find(|v| self.is_applied(v))
            .ok_or_else(|| Error::input("no version is applied, so there is nothing to redo"))?;
        Ok(vec![VersionStep::down(newest), VersionStep::up(newest)])
    }

    /// Runs `f` holding the database's migration lock (`flowstate::migration_lock`, which the
    /// application's `open` takes too), with the versions it applied read again once the lock
    /// is held: another process that migrated it meanwhile has changed them.
    pub(super) fn locked<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        // Before the lock, whose file a replica's mount would not take either.
        database::refuse_replica(&self.database)?;
        let path = self.database.clone();
        let waiting = || {
            errln!(
                "waiting: another process (an upgrade, the application opening it) is migrating `{}`",
                path.display()
            )
        };
        flowstate::migration_lock::with_migration_lock(&path, waiting, || {
            self.applied = database::applied(&self.database)?;
            f(self)
        })
        .map_err(|e| {
            Error::input(format!(
                "cannot take the migration lock of `{}`: {e}",
                path.display()
            ))
            .help("its directory must be writable, as SQLite needs it to be for a migration")
        })?
    }

    /// Runs `steps` on the database, each only after what it would drop is confirmed; holding
    /// its migration lock, so steps another process did meanwhile are not done twice.
    pub fn run(&mut self, steps: &[VersionStep], backup: bool) -> Result<()> {
        self.locked(|session| {
            // Followed step by step: a redo's up comes after its own down.
            let mut applied: BTreeSet<String> = session.applied.iter().cloned().collect();
            let still: Vec<VersionStep> = steps
                .iter()
                .filter(|step| match step.direction {
                    Direction::Up => applied.insert(step.version.key.clone()),
                    Direction::Down => applied.remove(&step.version.key),
                })
                .cloned()
                .collect();
            if still.len() < steps.len() {
                (session.report)(format!(
                    "{} of the {} steps were done meanwhile by another process.",
                    steps.len() - still.len(),
                    steps.len()
                ));
            }
            session.run_locked(&still, backup)
        })
    }

    fn run_locked(&mut self, steps: &[VersionStep], backup: bool) -> Result<()> {
        if steps.is_empty() {
            (self.report)("Nothing to do: the database is already there.".into());
            return Ok(());
        }
        let creates = steps[0].direction == Direction::Up;
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
        // A hand-written file may delete rows, which no schema shows: from the first one on,
        // every step runs on a copy of the database first, where its rows are compared.
        let mut rehearsal: Option<Rehearsal> = None;
        for step in steps {
            let VersionStep { version, direction } = step;
            let migration = migrations.get(version)?;
            let file = step.file();
            let sql = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
            let schema = StoredSchema::read_with(&mut conn)
                .map_err(|e| self.harness_error("read the schema of", &e.to_string()))?;
            let drops = copy.drops(&schema, &sql, replay::own_transaction(version));
            if rehearsal.is_none() && !header::is_proven(&sql) && self.database.is_file() {
                rehearsal = Some(Rehearsal::of(&self.database)?);
            }
            let removed = match rehearsal.as_mut() {
                Some(rehearsal) => {
                    let before = rehearsal.mark("before")?;
                    match rehearsal.run(migration, *direction) {
                        Ok(_) => rehearsal.compare_with(&before)?,
                        // It fails on the real database too, which names why.
                        Err(_) => Vec::new(),
                    }
                }
                None => Vec::new(),
            };
            self.confirm_losses(drops, &removed, version, &file, &sql)?;
            let outcome = match direction {
                Direction::Up => conn.run_migration(migration),
                Direction::Down => conn.revert_migration(migration),
            };
            if let Err(e) = outcome {
                // A file that manages its own transaction can leave it open on failure;
                // closing the connection rolls it back and releases the database. Where it
                // is now is read from it, not assumed.
                drop(conn);
                if let Ok(applied) = database::applied(&self.database) {
                    self.applied = applied;
                }
                return Err(diagnose::explain_failure(
                    &self.database,
                    &self.position(),
                    step,
                    &sql,
                    &e.to_string(),
                ));
            }
            // A file that leaves its own transaction open would have the next steps run in
            // it, and all of them rolled back when the connection closes.
            if let Err(err) = replay::left_open(&mut conn, version, &file) {
                drop(conn);
                return Err(err.note(format!(
                    "what it did in the transaction it left open was rolled back, and it is not recorded: the database is at {}",
                    self.position()
                )));
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

    /// Runs each of `steps` (upgrades) up, down and up again on a copy of the database and
    /// reports, per version, how long each took and what it did to the rows, then the peak
    /// size of the copy. Whether every row and value survived.
    pub fn rehearse(&mut self, steps: &[VersionStep]) -> Result<bool> {
        let migrations = replay::load(&self.project.versions_dir)?;
        let mut copy = Rehearsal::of(&self.database)?;
        (self.report)(format!(
            "Rehearsing {} version(s) on a copy of {} ({} bytes); the database is only read.",
            steps.len(),
            self.database.display(),
            copy.peak_bytes
        ));
        let mut survived = true;
        for step in steps {
            let migration = migrations.get(&step.version)?;
            let start = copy.mark("start")?;
            let mut line = format!("{}:", step.version.dir_name);
            // Up and down are each judged against the rows before up: what up keeps, what
            // down gives back (the words for nothing lost). Up again only has to run.
            for (what, direction, judged) in [
                ("up", Direction::Up, Some("every row and value kept")),
                ("down", Direction::Down, Some("every row and value back")),
                ("up again", Direction::Up, None),
            ] {
                let took = match copy.run(migration, direction) {
                    Ok(took) => took,
                    Err(e) => {
                        (self.report)(format!("{line} {what} fails: {e}"));
                        return Ok(false);
                    }
                };
                let said = match judged {
                    None => "runs".to_owned(),
                    Some(nothing_lost) => {
                        let lost = copy.compare_with(&start)?;
                        if lost.is_empty() {
                            nothing_lost.to_owned()
                        } else {
                            survived = false;
                            let lost: Vec<String> = lost.iter().map(ToString::to_string).collect();
                            format!("loses {}", lost.join(", "))
                        }
                    }
                };
                line.push_str(&format!(" {what} {} ms, {said};", took.as_millis()));
            }
            (self.report)(line.trim_end_matches(';').to_owned());
        }
        (self.report)(format!(
            "Peak size of the copy: {} bytes. {}",
            copy.peak_bytes,
            if survived {
                "Every row and value survived."
            } else {
                "Some rows or values did not survive (above)."
            }
        ));
        Ok(survived)
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
        removed: &[TableChange],
        version: &Version,
        file: &Path,
        sql: &str,
    ) -> Result<()> {
        let mut counted = Vec::new();
        // What a run on a copy removed beyond what is dropped whole: rows gone from tables
        // and values gone from columns that stay.
        for change in removed.iter().filter_map(|c| c.beyond(&drops.losses)) {
            counted.push(change.to_string());
        }
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
}

/// The number of steps in `-N` or `+N`.
fn count(spec: &str) -> Result<usize> {
    spec[1..].parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::input(format!("`{spec}` is not a number of steps")).help("e.g. -1, -2 or +1")
    })
}
