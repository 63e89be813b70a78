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
use std::path::PathBuf;
use std::sync::Arc;

use diesel::SqliteConnection;
use diesel_migrations::MigrationHarness;

use crate::apply::database;
use crate::apply::diagnose;
use crate::apply::loaded::Loaded;
use crate::apply::losses;
use crate::apply::rehearse::Rehearsal;
use crate::apply::step::{Direction, VersionStep};
use crate::error::{Error, Result};
use crate::generate::replay;
use crate::history::header;
use crate::history::squash::PartWay;
use crate::history::versions::Version;
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
    /// Every version in `versions/`, oldest first, with the text of those a step ran: one
    /// copy for every database of a run.
    pub loaded: Arc<Loaded>,
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
    /// What each step that ran dropped, as counted on the database just before it ran.
    pub dropped: Vec<Dropped>,
    /// Set when a signal stopped a fleet's run between two of this database's versions.
    pub stopped: bool,
    /// What files drop, shared with the other databases of a fleet's run.
    pub memo: Option<Arc<losses::Memo>>,
}

/// What one step dropped from the database: the rows and values the confirmation counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The version's directory name.
    pub version: String,
    /// Rows of dropped tables, values of dropped columns and rows a hand-written file
    /// removed, added up.
    pub rows: i64,
    /// Each loss as the confirmation names it (`table audit with 3 rows`).
    pub what: Vec<String>,
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
        let loaded = Arc::new(Loaded::scan(&project.versions_dir)?);
        Session::on(project, loaded, database, yes, prompt, report)
    }

    /// `new` with versions already listed (and read) by the run: one of a fleet's databases.
    pub fn on(
        project: &'a Project,
        loaded: Arc<Loaded>,
        database: PathBuf,
        yes: bool,
        prompt: Option<&'a mut dyn Prompt>,
        report: &'a mut dyn FnMut(String),
    ) -> Result<Session<'a>> {
        let applied = database::applied(&database)?;
        Ok(Session::with_applied(
            project, loaded, database, applied, yes, prompt, report,
        ))
    }

    /// `on` with the versions the database has applied already read (by a caller that
    /// tells SQLite's errors apart while reading them).
    pub fn with_applied(
        project: &'a Project,
        loaded: Arc<Loaded>,
        database: PathBuf,
        applied: Vec<String>,
        yes: bool,
        prompt: Option<&'a mut dyn Prompt>,
        report: &'a mut dyn FnMut(String),
    ) -> Session<'a> {
        let (applied, part_way) = match loaded.recognise(applied.clone()) {
            Ok(recognised) => (recognised, None),
            Err(part_way) => (applied, Some(part_way)),
        };
        Session {
            project,
            database,
            loaded,
            applied,
            part_way,
            yes,
            prompt,
            report,
            dropped: Vec::new(),
            stopped: false,
            memo: None,
        }
    }

    /// Every version in `versions/`, oldest first.
    pub fn versions(&self) -> &[Version] {
        &self.loaded.versions
    }

    /// Applied versions that `versions/` does not contain: written by newer code.
    pub fn unknown_applied(&self) -> Vec<&str> {
        let known: BTreeSet<&str> = self.versions().iter().map(|v| v.key.as_str()).collect();
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
        let pending = self.versions().iter().filter(|v| !self.is_applied(v));
        let steps: Vec<&Version> = match target {
            None | Some("head") => pending.collect(),
            Some(spec) if spec.starts_with('+') => pending.take(count(spec)?).collect(),
            Some(spec) => {
                let last = header::resolve(self.versions(), spec)?;
                pending.filter(|v| v.key <= last.key).collect()
            }
        };
        Ok(steps.into_iter().map(VersionStep::up).collect())
    }

    /// The steps of `downgrade TARGET`: `-N` reverts the newest N applied, `base` all of
    /// them, a version every applied version after it; newest first.
    pub fn downgrade_steps(&self, target: &str) -> Result<Vec<VersionStep>> {
        self.refuse_unknown()?;
        let applied = self.versions().iter().rev().filter(|v| self.is_applied(v));
        let steps: Vec<&Version> = match target {
            "base" => applied.collect(),
            spec if spec.starts_with('-') => applied.take(count(spec)?).collect(),
            spec => {
                let keep = header::resolve(self.versions(), spec)?;
                applied.filter(|v| v.key > keep.key).collect()
            }
        };
        Ok(steps.into_iter().map(VersionStep::down).collect())
    }

    /// `redo`: the newest applied version, down then up.
    pub fn redo_steps(&self) -> Result<Vec<VersionStep>> {
        self.refuse_unknown()?;
        let newest = self
            .versions()
            .iter()
            .rev()
            .find(|v| self.is_applied(v))
            .ok_or_else(|| Error::input("no version is applied, so there is nothing to redo"))?;
        Ok(vec![VersionStep::down(newest), VersionStep::up(newest)])
    }

    /// Runs `f` holding the database's migration lock (`flowstate::migration_lock`, which the
    /// application's `open` takes too), with the versions it applied read again once the lock
    /// is held: another process that migrated it meanwhile has changed them.
    ///
    /// `f` is given the connection the versions were read on (`None` when the file does not
    /// exist yet), for the versions to run on.
    pub(super) fn locked<T>(
        &mut self,
        f: impl FnOnce(&mut Self, Option<SqliteConnection>) -> Result<T>,
    ) -> Result<T> {
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
            let mut conn = match self.database.is_file() {
                true => Some(database::open(&self.database, false)?),
                false => None,
            };
            let applied = match conn.as_mut() {
                Some(conn) => conn
                    .applied_migrations()
                    .map_err(|e| {
                        self.harness_error("read the migrations table of", &e.to_string())
                    })?
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                None => Vec::new(),
            };
            self.applied = self
                .loaded
                .recognise(applied)
                .map_err(|part_way| part_way.error(&self.database))?;
            f(self, conn)
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
        self.locked(|session, conn| {
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
            session.run_locked(conn, &still, backup)
        })
    }

    /// `upgrade TARGET` of one of a fleet's databases, all of it under the migration lock:
    /// what is pending is read there, on the connection the versions then run on.
    pub fn upgrade_to(&mut self, target: &str, backup: bool) -> Result<()> {
        self.locked(|session, conn| {
            let steps = session.upgrade_steps(Some(target))?;
            session.run_locked(conn, &steps, backup)
        })
    }

    fn run_locked(
        &mut self,
        conn: Option<SqliteConnection>,
        steps: &[VersionStep],
        backup: bool,
    ) -> Result<()> {
        if steps.is_empty() {
            (self.report)("Nothing to do: the database is already there.".into());
            return Ok(());
        }
        let creates = steps[0].direction == Direction::Up;
        if backup && self.database.is_file() {
            let copy = database::backup(&self.database)?;
            (self.report)(format!("Backed up to {}", copy.display()));
        }
        let mut conn = match conn {
            Some(conn) => conn,
            None => database::open(&self.database, creates)?,
        };
        conn.applied_migrations()
            .map_err(|e| self.harness_error("read the migrations table of", &e.to_string()))?;
        let loaded = Arc::clone(&self.loaded);
        // One copy of the schema for every step: making one costs a statement per table.
        let mut copy = match &self.memo {
            Some(memo) => losses::SchemaCopy::shared(Arc::clone(memo)),
            None => losses::SchemaCopy::default(),
        };
        // A hand-written file may delete rows, which no schema shows: from the first one on,
        // every step runs on a copy of the database first, where its rows are compared.
        let mut rehearsal: Option<Rehearsal> = None;
        for step in steps {
            let VersionStep { version, direction } = step;
            // A fleet run a signal asked to stop: this database stops between two versions.
            if crate::support::scratch::stopping() {
                self.stopped = true;
                return Ok(());
            }
            let migration = loaded.script(version)?;
            let file = step.file();
            let sql = migration.sql(*direction).ok_or_else(|| {
                Error::input(format!(
                    "{} has no down.sql, so it cannot be reverted",
                    version.dir_name
                ))
                .note(format!("the database is at {}", self.position()))
            })?;
            let schema = StoredSchema::read_with(&mut conn)
                .map_err(|e| self.harness_error("read the schema of", &e.to_string()))?;
            let drops = copy.drops(&schema, sql, migration.own_transaction());
            if rehearsal.is_none() && !header::is_proven(sql) && self.database.is_file() {
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
            let dropped = self.confirm_losses(drops, &removed, version, &file, sql)?;
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
                    sql,
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
            if !dropped.what.is_empty() {
                self.dropped.push(dropped);
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
        let loaded = Arc::clone(&self.loaded);
        let mut copy = Rehearsal::of(&self.database)?;
        (self.report)(format!(
            "Rehearsing {} version(s) on a copy of {} ({} bytes); the database is only read.",
            steps.len(),
            self.database.display(),
            copy.peak_bytes
        ));
        let mut survived = true;
        for step in steps {
            let migration = loaded.script(&step.version)?;
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
        self.newest_applied().map_or_else(
            || "base (no version applied)".to_owned(),
            |v| v.dir_name.clone(),
        )
    }

    /// The newest version the database applied that `versions/` holds; `None` at base.
    pub fn newest_applied(&self) -> Option<&Version> {
        self.versions().iter().rev().find(|v| self.is_applied(v))
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
}

/// The number of steps in `-N` or `+N`.
fn count(spec: &str) -> Result<usize> {
    spec[1..].parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::input(format!("`{spec}` is not a number of steps")).help("e.g. -1, -2 or +1")
    })
}
