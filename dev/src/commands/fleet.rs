//! `fleet status` and `fleet upgrade`: many databases at once (one per tenant, user or
//! device), named by paths, `sqlite://` URLs, quoted globs or `--from FILE`.
//!
//! Exit codes, the same in every format: 0 when every database is at head (status) or at the
//! target (upgrade); 1 when some are behind (status), or failed, were stopped or were never
//! started (upgrade); 4 when nothing else is wrong but some databases were skipped (missing,
//! not SQLite, unreadable, locked, unknown history, a replica); 130 when a signal stopped an
//! upgrade; 2 and 3 as for every command.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::apply::loaded::Loaded;
use crate::commands::cli::TextOrJson;
use crate::commands::database::Safety;
use crate::commands::report::Document;
use crate::commands::Outcome;
use crate::error::Result;
use crate::fleet::survey::{Skip, Skipped, Standing, Survey};
use crate::fleet::upgrade::{self, Options, Summary};
use crate::fleet::{members, plan, survey_all};
use crate::project::Project;
use crate::support::ask;
use crate::support::output::{errln, outln, thousands};

/// A count of databases as people read it.
fn count(n: usize) -> String {
    thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The databases of a fleet, and how many are worked on at once.
#[derive(clap::Args, Debug, Clone)]
pub struct FleetArgs {
    /// The databases: paths, sqlite:// URLs or quoted globs ('tenants/*.sqlite3').
    #[arg(value_name = "FLEET")]
    pub databases: Vec<String>,
    /// Add the databases FILE lists, one path or URL per line (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub from: Option<String>,
    /// Databases worked on at once [default: the number of cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

impl FleetArgs {
    fn members(&self) -> Result<Vec<PathBuf>> {
        members::gather(&self.databases, self.from.as_deref())
    }

    fn jobs(&self) -> usize {
        self.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        )
    }
}

/// The fleet commands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum FleetCommand {
    /// Where each database stands: its applied version, how many are pending, unknown ones.
    Status {
        /// Which databases.
        #[command(flatten)]
        fleet: FleetArgs,
        /// Also compare each database with the schema its versions give (a replay each).
        #[arg(long)]
        drift: bool,
        /// A table (text), one JSON document (json), or a JSON line per database (jsonl).
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Upgrade every database to head, or to --to TARGET.
    Upgrade(UpgradeArgs),
}

/// The formats of `fleet status`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFormat {
    /// For people: the counts, then a table.
    Text,
    /// One JSON document.
    Json,
    /// One JSON line per database, then one with the counts.
    Jsonl,
}

/// The options of `fleet upgrade`.
#[derive(clap::Args, Debug, Clone)]
pub struct UpgradeArgs {
    /// Which databases.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The version to move every database to [default: head].
    #[arg(long, value_name = "TARGET")]
    pub to: Option<String>,
    /// Upgrade the first N databases first, and stop if any of them fails.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub canary: usize,
    /// Start no more databases once K have failed.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures: u32,
    /// Go on whatever fails (instead of --max-failures).
    #[arg(long, conflicts_with = "max_failures")]
    pub keep_going: bool,
    /// Append a JSON line per database to FILE, and skip what it says an earlier run did.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// `--sql`, `--backup`, `--yes`.
    #[command(flatten)]
    pub safety: Safety,
    /// A summary for people (text, with progress on a terminal) or one JSON document.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

impl FleetCommand {
    /// The format a failure is printed in.
    pub fn format(&self) -> crate::commands::report::Format {
        use crate::commands::report::Format;
        let json = match self {
            FleetCommand::Status { format, .. } => *format != StatusFormat::Text,
            FleetCommand::Upgrade(args) => args.format == TextOrJson::Json,
        };
        if json {
            Format::Json
        } else {
            Format::Text
        }
    }
}

/// Runs a fleet command.
pub fn run(project: &Project, command: &FleetCommand) -> Result<Outcome> {
    match command {
        FleetCommand::Status {
            fleet,
            drift,
            format,
        } => status(project, fleet, *drift, *format),
        FleetCommand::Upgrade(args) if args.safety.sql => {
            let members = args.fleet.members()?;
            let text = plan::script(project, &members, args.to.as_deref(), args.fleet.jobs())?;
            crate::support::output::out!("{text}");
            Ok(Outcome::Clean)
        }
        FleetCommand::Upgrade(args) => upgrade(project, args),
    }
}

/// One database's line of `fleet status`.
#[derive(serde::Serialize)]
struct DatabaseJson<'a> {
    database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unknown: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drifted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<Skip>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn status(
    project: &Project,
    fleet: &FleetArgs,
    drift: bool,
    format: StatusFormat,
) -> Result<Outcome> {
    let members = fleet.members()?;
    // Reading only: where a database stands needs the versions, not dev.sum's word on them.
    let loaded = std::sync::Arc::new(Loaded::scan(&project.versions_dir)?);
    let survey = Survey::new(project, loaded, None, false, drift);
    let surveyed = survey_all(
        &survey,
        &members,
        fleet.jobs(),
        format == StatusFormat::Text,
    );
    let mut groups: BTreeMap<Group, usize> = BTreeMap::new();
    let lines: Vec<DatabaseJson<'_>> = surveyed
        .iter()
        .map(|(path, found)| {
            *groups.entry(Group::of(found)).or_default() += 1;
            let database = path.display().to_string();
            match found {
                Ok(s) => DatabaseJson {
                    database,
                    applied: Some(s.position.as_deref().unwrap_or("base")),
                    pending: Some(s.behind),
                    unknown: Some(&s.unknown),
                    drifted: s.drifted,
                    skipped: None,
                    reason: None,
                },
                Err(skipped) => DatabaseJson {
                    database,
                    applied: None,
                    pending: None,
                    unknown: None,
                    drifted: None,
                    skipped: Some(skipped.why),
                    reason: Some(&skipped.message),
                },
            }
        })
        .collect();
    let counts: Vec<(String, usize)> = groups.iter().map(|(g, n)| (g.words(), *n)).collect();
    let outcome = if groups.keys().any(|g| matches!(g, Group::Skipped(_))) {
        Outcome::Partial
    } else {
        Outcome::found(groups.keys().any(|g| *g != Group::AtHead))
    };
    let summary = counts
        .iter()
        .map(|(words, n)| format!("{} {words}", count(*n)))
        .collect::<Vec<_>>()
        .join(", ");
    match format {
        StatusFormat::Text => {
            outln!("{} databases: {summary}", count(lines.len()));
            print_table(&lines);
        }
        StatusFormat::Json => Document::new(
            "fleet status",
            "ok",
            outcome.code(),
            StatusJson {
                total: lines.len(),
                groups: &counts,
                databases: &lines,
            },
        )
        .meaning(EXIT_MEANING)
        .print(),
        StatusFormat::Jsonl => {
            for line in &lines {
                outln!("{}", serde_json::to_string(line).unwrap_or_default());
            }
            let total = StatusJson {
                total: lines.len(),
                groups: &counts,
                databases: &[],
            };
            outln!("{}", serde_json::to_string(&total).unwrap_or_default());
        }
    }
    Ok(outcome)
}

const EXIT_MEANING: &str = "0: every database is at its target; 1: some are behind, failed or were not started; 4: only that some were skipped";

/// The counts and lines of `fleet status --format json`.
#[derive(serde::Serialize)]
struct StatusJson<'a> {
    total: usize,
    groups: &'a [(String, usize)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    databases: &'a [DatabaseJson<'a>],
}

/// Where a database stands, as the counts group it: at head first, then by how far behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    AtHead,
    Behind(usize),
    Unknown,
    Skipped(Skip),
}

impl Group {
    fn of(found: &std::result::Result<Standing, Skipped>) -> Group {
        match found {
            Err(skipped) => Group::Skipped(skipped.why),
            Ok(s) if !s.unknown.is_empty() => Group::Unknown,
            Ok(s) if s.behind == 0 => Group::AtHead,
            Ok(s) => Group::Behind(s.behind),
        }
    }

    fn words(self) -> String {
        match self {
            Group::AtHead => "at head".into(),
            Group::Behind(1) => "one behind".into(),
            Group::Behind(n) => format!("{n} behind"),
            Group::Unknown => "with unknown versions".into(),
            Group::Skipped(skip) => skip.words().into(),
        }
    }
}

fn print_table(lines: &[DatabaseJson<'_>]) {
    let width = lines
        .iter()
        .map(|l| l.database.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let drift = lines.iter().any(|l| l.drifted.is_some());
    outln!(
        "{:width$}  {:40}  PENDING  UNKNOWN{}",
        "DATABASE",
        "APPLIED",
        if drift { "  DRIFTED" } else { "" }
    );
    for line in lines {
        if let (Some(why), Some(reason)) = (line.skipped, line.reason) {
            outln!(
                "{:width$}  skipped ({}): {reason}",
                line.database,
                why.words()
            );
            continue;
        }
        let unknown = line
            .unknown
            .filter(|u| !u.is_empty())
            .map_or("-".to_owned(), |u| u.join(","));
        let drifted = match line.drifted {
            Some(true) => "  yes",
            Some(false) => "  no",
            None => "",
        };
        outln!(
            "{:width$}  {:40}  {:>7}  {unknown}{drifted}",
            line.database,
            line.applied.unwrap_or("base"),
            line.pending.unwrap_or(0)
        );
    }
}

fn upgrade(project: &Project, args: &UpgradeArgs) -> Result<Outcome> {
    let members = args.fleet.members()?;
    let options = Options {
        target: args.to.clone(),
        jobs: args.fleet.jobs(),
        canary: args.canary,
        max_failures: (!args.keep_going).then_some(args.max_failures as usize),
        journal: args.journal.clone(),
        backup: args.safety.backup,
        yes: args.safety.yes,
        progress: args.format == TextOrJson::Text,
    };
    crate::support::scratch::drain_on_signal();
    let mut terminal = ask::terminal();
    let prompt = terminal.as_mut().map(|t| t as &mut dyn ask::Prompt);
    let summary = upgrade::upgrade(project, members, &options, prompt)?;
    let outcome = if summary.signalled {
        Outcome::Interrupted
    } else if !summary.failed.is_empty() || !summary.stopped.is_empty() || summary.not_started > 0 {
        Outcome::Findings
    } else if !summary.skipped.is_empty() {
        Outcome::Partial
    } else {
        Outcome::Clean
    };
    match args.format {
        TextOrJson::Text => print_summary(&summary, args.journal.is_some()),
        TextOrJson::Json => Document::new(
            "fleet upgrade",
            "ok",
            outcome.code(),
            UpgradeJson::of(&summary),
        )
        .meaning(EXIT_MEANING)
        .print(),
    }
    Ok(outcome)
}

fn print_summary(summary: &Summary, journal: bool) {
    let seconds = summary.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        summary.upgraded as f64 / seconds
    } else {
        0.0
    };
    outln!(
        "Upgraded {} database{} to {} in {seconds:.1} s ({rate:.0} a second); {} were there already{}.",
        count(summary.upgraded),
        if summary.upgraded == 1 { "" } else { "s" },
        summary.target,
        count(summary.at_target),
        if summary.done_before > 0 { format!(", {} done by an earlier run", count(summary.done_before)) } else { String::new() }
    );
    if summary.rows_dropped > 0 {
        outln!(
            "The versions dropped {} rows and values (per database in the journal).",
            thousands(summary.rows_dropped)
        );
    }
    if !summary.failed.is_empty() {
        outln!(
            "{} failed, each left at its last good version:",
            count(summary.failed.len())
        );
        for (database, error) in &summary.failed {
            outln!(
                "  {database}: {}",
                error
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
            );
            errln!("{database}:\n{error}");
        }
    }
    if !summary.stopped.is_empty() {
        outln!(
            "{} stopped by the signal between two versions: {}",
            count(summary.stopped.len()),
            summary.stopped.join(", ")
        );
    }
    if !summary.skipped.is_empty() {
        outln!("{} skipped:", count(summary.skipped.len()));
        for (database, skipped) in &summary.skipped {
            outln!(
                "  {database}: {} ({})",
                skipped.why.words(),
                skipped.message
            );
        }
    }
    if summary.not_started > 0 {
        let why = if summary.signalled {
            "a signal stopped the run"
        } else if summary.canary_failed {
            "a canary failed"
        } else {
            "the failure limit was reached"
        };
        let resume = if journal {
            "; run the same command again to resume"
        } else {
            ""
        };
        outln!("{} not started: {why}{resume}.", count(summary.not_started));
    }
}

/// The fields of `fleet upgrade --format json`.
#[derive(serde::Serialize)]
struct UpgradeJson<'a> {
    target: &'a str,
    upgraded: usize,
    at_target: usize,
    done_before: usize,
    failed: Vec<Failure<'a>>,
    stopped: &'a [String],
    skipped: Vec<Failure<'a>>,
    not_started: usize,
    canary_failed: bool,
    signalled: bool,
    rows_dropped: i64,
    milliseconds: u128,
}

#[derive(serde::Serialize)]
struct Failure<'a> {
    database: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Skip>,
    error: &'a str,
}

impl<'a> UpgradeJson<'a> {
    fn of(summary: &'a Summary) -> Self {
        UpgradeJson {
            target: &summary.target,
            upgraded: summary.upgraded,
            at_target: summary.at_target,
            done_before: summary.done_before,
            failed: summary
                .failed
                .iter()
                .map(|(d, e)| Failure {
                    database: d,
                    reason: None,
                    error: e,
                })
                .collect(),
            stopped: &summary.stopped,
            skipped: summary
                .skipped
                .iter()
                .map(|(d, s)| Failure {
                    database: d,
                    reason: Some(s.why),
                    error: &s.message,
                })
                .collect(),
            not_started: summary.not_started,
            canary_failed: summary.canary_failed,
            signalled: summary.signalled,
            rows_dropped: summary.rows_dropped,
            milliseconds: summary.elapsed.as_millis(),
        }
    }
}
