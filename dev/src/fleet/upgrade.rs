//! `fleet upgrade`: every database of a fleet to one target version.
//!
//! In order: the versions are listed and verified against dev.sum once; databases an earlier
//! run's journal brought to the target are left alone; the others are surveyed (skipping
//! those that cannot be placed), and what the pending versions would drop is added up over
//! the fleet and confirmed once; then a canary group runs first, and the rest on `-j`
//! threads under the failure policy. Each database moves exactly as `upgrade` moves one
//! (`apply::session`: its migration lock, its loss counts, a failure leaving it at its last
//! good version), with the text of each version read once for all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::apply::loaded::Loaded;
use crate::apply::losses::{Loss, Memo};
use crate::apply::session::Session;
use crate::error::{Error, Result};
use crate::fleet::journal::{Dropped, Entry, Journal, Outcome};
use crate::fleet::pool::{self, Flow};
use crate::fleet::progress::Progress;
use crate::fleet::survey::{Skipped, Standing, Survey};
use crate::history::checksums;
use crate::history::header;
use crate::project::Project;
use crate::support::ask::Prompt;
use crate::support::output::thousands;
use crate::support::scratch;
use crate::workspace::problems::refuse_unrecorded_history;

/// How a fleet upgrade runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The target version (`None`: head).
    pub target: Option<String>,
    /// Databases upgraded at once.
    pub jobs: usize,
    /// How many databases run first, alone; any failure among them stops the run.
    pub canary: usize,
    /// Stop starting databases once this many failed; `None`: keep going.
    pub max_failures: Option<usize>,
    /// Where the journal is appended, and read to resume.
    pub journal: Option<PathBuf>,
    /// Back each database up before it changes.
    pub backup: bool,
    /// What the versions drop needs no confirmation.
    pub yes: bool,
    /// Draw progress on the terminal.
    pub progress: bool,
}

/// What a fleet upgrade did.
#[derive(Debug, Default)]
pub struct Summary {
    /// The version the fleet moved to.
    pub target: String,
    /// Databases whose pending versions ran.
    pub upgraded: usize,
    /// Databases that were at the target already.
    pub at_target: usize,
    /// Databases an earlier run's journal brought to the target.
    pub done_before: usize,
    /// Databases where a version failed, with why.
    pub failed: Vec<(String, String)>,
    /// Databases a signal stopped between two versions.
    pub stopped: Vec<String>,
    /// Databases left out, with why.
    pub skipped: Vec<(String, Skipped)>,
    /// Databases never started (a failure policy, a failed canary, a signal).
    pub not_started: usize,
    /// Whether a canary failed.
    pub canary_failed: bool,
    /// Whether a signal stopped the run.
    pub signalled: bool,
    /// Rows and values the versions dropped, over the fleet.
    pub rows_dropped: i64,
    /// How long the run took.
    pub elapsed: Duration,
}

/// The fleet's target: a version's directory name, never relative (`+N`), since every
/// database must end at the same place.
pub fn target_name(loaded: &Loaded, target: Option<&str>) -> Result<String> {
    match target {
        Some(spec) if spec.starts_with('+') => Err(Error::input(format!(
            "`{spec}` is relative; a fleet moves to one version"
        ))
        .help("name the version (`--to 2026-11-21-193000`), or leave --to out for head")),
        None | Some("head") => loaded
            .versions
            .last()
            .map(|v| v.dir_name.clone())
            .ok_or_else(|| Error::input("versions/ holds no version to upgrade to")),
        Some(spec) => Ok(header::resolve(&loaded.versions, spec)?.dir_name.clone()),
    }
}

/// Lists the versions and refuses a history dev.sum does not record: what runs on every
/// database of the fleet is verified once.
pub fn verified_versions(project: &Project) -> Result<Arc<Loaded>> {
    let loaded = Loaded::scan(&project.versions_dir)?;
    let links = checksums::links(&loaded.versions)?;
    refuse_unrecorded_history(
        project,
        &loaded.versions,
        &links,
        "upgrading a fleet with it would run SQL nobody recorded",
    )?;
    Ok(Arc::new(loaded))
}

/// Upgrades the databases of `members` as `options` say; `prompt` confirms what the
/// versions drop, where a person can be asked.
pub fn upgrade(
    project: &Project,
    members: Vec<PathBuf>,
    options: &Options,
    prompt: Option<&mut dyn Prompt>,
) -> Result<Summary> {
    let started = Instant::now();
    let loaded = verified_versions(project)?;
    let target = target_name(&loaded, options.target.as_deref())?;
    let mut summary = Summary {
        target: target.clone(),
        ..Summary::default()
    };
    let mut journal = match &options.journal {
        Some(path) => Some(Journal::open(path, &target)?),
        None => None,
    };
    let members: Vec<PathBuf> = members
        .into_iter()
        .filter(|m| {
            let done = journal
                .as_ref()
                .is_some_and(|j| j.is_done(&m.display().to_string()));
            summary.done_before += usize::from(done);
            !done
        })
        .collect();
    let run = Run {
        project,
        loaded,
        options,
        target,
        members,
    };
    let (ready, totals) = run.survey(&mut journal, &mut summary)?;
    totals.confirm(options.yes, prompt)?;
    let started_count = run.move_all(&ready, &mut journal, &mut summary);
    if let Some(journal) = &journal {
        journal.sync()?;
    }
    summary.not_started = ready.len() - started_count;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// What every stage of a fleet upgrade reads.
struct Run<'a> {
    project: &'a Project,
    loaded: Arc<Loaded>,
    options: &'a Options,
    /// The target's directory name.
    target: String,
    /// The databases left to do.
    members: Vec<PathBuf>,
}

/// A database to upgrade: its place in the fleet, and its newest applied version.
type Ready = (usize, Option<String>);

impl Run<'_> {
    /// Surveys every database: those skipped and those at the target go to the journal and
    /// the summary, the others are returned in the fleet's order with what their versions
    /// would drop, added up. What is kept of each is its place and where it stands, so
    /// memory grows with the fleet by little more than its paths.
    fn survey(
        &self,
        journal: &mut Option<Journal>,
        summary: &mut Summary,
    ) -> Result<(Vec<Ready>, Totals)> {
        let survey = Survey::new(
            self.project,
            Arc::clone(&self.loaded),
            self.options.target.clone(),
            true,
            false,
        );
        let mut ready: Vec<Ready> = Vec::new();
        let mut totals = Totals::default();
        let mut failed_to_record = None;
        let mut bar = Progress::new(self.options.progress, self.members.len(), "read");
        pool::each(
            &self.members,
            self.options.jobs,
            |path| survey.stand(path),
            |at, found| {
                bar.advance(found.is_err());
                let name = self.members[at].display().to_string();
                let recorded = match found {
                    Err(skipped) => {
                        let entry = self.entry(&name, Outcome::Skipped, None);
                        let error = Some(skipped.message.clone());
                        summary.skipped.push((name, skipped));
                        record(journal, Entry { error, ..entry })
                    }
                    Ok(standing) if standing.steps.is_empty() => {
                        summary.at_target += 1;
                        record(
                            journal,
                            self.entry(&name, Outcome::AtTarget, standing.position),
                        )
                    }
                    Ok(standing) => {
                        totals.add(&standing);
                        ready.push((at, standing.position));
                        Ok(())
                    }
                };
                recorded.map_or_else(
                    |e| {
                        failed_to_record = Some(e);
                        Flow::Halt
                    },
                    |()| Flow::Go,
                )
            },
        );
        bar.finish();
        if let Some(e) = failed_to_record {
            return Err(e);
        }
        // The canary group is the first databases in the fleet's order, whatever order the
        // survey finished them in.
        ready.sort_unstable_by_key(|(at, _)| *at);
        summary.skipped.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((ready, totals))
    }

    /// A journal line for a database the run did not move, standing at `at`.
    fn entry(&self, database: &str, outcome: Outcome, at: Option<String>) -> Entry {
        Entry {
            database: database.to_owned(),
            from: at.clone(),
            to: at,
            target: self.target.clone(),
            outcome,
            dropped: Vec::new(),
            ms: 0,
            error: None,
        }
    }

    /// Moves the `ready` databases: the canary group, then the rest, under the failure
    /// policy. How many were started.
    fn move_all(
        &self,
        ready: &[Ready],
        journal: &mut Option<Journal>,
        summary: &mut Summary,
    ) -> usize {
        let memo = Arc::new(Memo::default());
        let work = |(at, from): &Ready| self.upgrade_one(&memo, &self.members[*at], from.clone());
        let canary = self.options.canary.min(ready.len());
        let max_failures = self.options.max_failures;
        let mut progress = Progress::new(self.options.progress, ready.len(), "upgraded");
        let mut failures = 0;
        let mut started = 0;
        for (group, is_canary) in [(&ready[..canary], true), (&ready[canary..], false)] {
            if summary.canary_failed
                || summary.signalled
                || max_failures.is_some_and(|k| failures >= k)
            {
                break;
            }
            started += pool::each(group, self.options.jobs, work, |_, entry: Entry| {
                let failed = entry.outcome == Outcome::Failed;
                failures += usize::from(failed);
                summary.canary_failed |= is_canary && failed;
                tally(summary, &entry);
                progress.advance(failed);
                if let Err(e) = record(journal, entry) {
                    summary.failed.push(("the journal".into(), e.to_string()));
                    return Flow::Halt;
                }
                let over = max_failures.is_some_and(|k| failures >= k);
                if over || summary.canary_failed {
                    Flow::Halt
                } else {
                    Flow::Go
                }
            });
            summary.signalled |= scratch::stopping();
        }
        progress.finish();
        started
    }
}

/// Appends `entry` to the journal, when the run keeps one.
fn record(journal: &mut Option<Journal>, entry: Entry) -> Result<()> {
    match journal.as_mut() {
        Some(journal) => journal.record(&entry),
        None => Ok(()),
    }
}

/// Adds one database's outcome to the summary.
fn tally(summary: &mut Summary, entry: &Entry) {
    summary.rows_dropped += entry.dropped.iter().map(|d| d.rows).sum::<i64>();
    match entry.outcome {
        Outcome::Upgraded => summary.upgraded += 1,
        Outcome::AtTarget => summary.at_target += 1,
        Outcome::Stopped => summary.stopped.push(entry.database.clone()),
        Outcome::Failed | Outcome::Skipped => summary.failed.push((
            entry.database.clone(),
            entry.error.clone().unwrap_or_default(),
        )),
    }
}

/// Moves one database to the target, as `upgrade` moves it, and says how it went.
impl Run<'_> {
    fn upgrade_one(&self, memo: &Arc<Memo>, path: &Path, from: Option<String>) -> Entry {
        let started = Instant::now();
        let mut quiet = |_: String| {};
        let mut entry = Entry {
            database: path.display().to_string(),
            to: from.clone(),
            from,
            target: self.target.clone(),
            outcome: Outcome::Failed,
            dropped: Vec::new(),
            ms: 0,
            error: None,
        };
        // Confirmed for the whole fleet already (`yes`); each database's own counts go to the
        // journal. What it applied is read under its migration lock, where the versions run.
        let mut session = Session::with_applied(
            self.project,
            Arc::clone(&self.loaded),
            path.to_path_buf(),
            Vec::new(),
            true,
            None,
            &mut quiet,
        );
        session.memo = Some(Arc::clone(memo));
        let outcome = session.upgrade_to(&self.target, self.options.backup);
        entry.to = session.newest_applied().map(|v| v.dir_name.clone());
        entry.dropped = session
            .dropped
            .iter()
            .map(|d| Dropped {
                version: d.version.clone(),
                rows: d.rows,
                what: d.what.clone(),
            })
            .collect();
        let ran = outcome.map(|()| session.stopped);
        entry.outcome = match ran {
            Ok(true) => Outcome::Stopped,
            Ok(false) if entry.from == entry.to => Outcome::AtTarget,
            Ok(false) => Outcome::Upgraded,
            Err(e) => {
                entry.error = Some(e.to_string().trim_end().to_owned());
                Outcome::Failed
            }
        };
        entry.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        entry
    }
}

/// What the pending versions would drop over the fleet, added up as the survey goes.
#[derive(Default)]
struct Totals {
    /// By version and loss: in how many databases, and how many rows or values in all.
    losses: BTreeMap<(String, Loss), (usize, i64)>,
    /// By version: in how many databases the copy could not count what it drops.
    uncounted: BTreeMap<String, usize>,
}

impl Totals {
    fn add(&mut self, standing: &Standing) {
        for counted in &standing.losses {
            let total = self
                .losses
                .entry((counted.version.clone(), counted.loss.clone()))
                .or_default();
            total.0 += 1;
            total.1 += counted.rows;
        }
        if let Some(version) = &standing.uncounted {
            *self.uncounted.entry(version.clone()).or_default() += 1;
        }
    }

    /// Has the totals confirmed once: `--yes`, a person at the terminal, or a refusal that
    /// shows them.
    fn confirm(&self, yes: bool, prompt: Option<&mut dyn Prompt>) -> Result<()> {
        let databases = |n: usize| {
            format!(
                "{} database{}",
                thousands(n as i64),
                if n == 1 { "" } else { "s" }
            )
        };
        let mut what: Vec<String> = self
            .losses
            .iter()
            .map(|((version, loss), (dbs, rows))| {
                format!(
                    "{version} drops {} in {}",
                    loss.describe(*rows),
                    databases(*dbs)
                )
            })
            .collect();
        what.extend(self.uncounted.iter().map(|(version, dbs)| {
            format!(
                "what {version} drops cannot be counted in {} (it stops on a copy of their schema)",
                databases(*dbs)
            )
        }));
        if what.is_empty() {
            return Ok(());
        }
        let what = what.join("; ");
        if yes {
            crate::support::output::errln!("warning: {what} (--yes given)");
            return Ok(());
        }
        if let Some(prompt) = prompt {
            if prompt.confirm(&format!("{what}. Continue?")) {
                return Ok(());
            }
        }
        Err(Error::input(format!("refusing to upgrade the fleet: {what}"))
            .note("no database was changed")
            .help("back them up (`--backup`) and pass `--yes` to go ahead, or answer yes on a terminal"))
    }
}
