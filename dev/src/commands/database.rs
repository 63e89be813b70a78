//! What the commands that work on the user's own database share: the safety flags of those
//! that change it, opening a session on the database `--database` (or `DATABASE_URL`)
//! names, and running the steps a command plans.

use crate::commands::Outcome;
use std::path::Path;

use crate::apply::cost;
use crate::apply::database::{locate, open, reader};
use crate::apply::script;
use crate::apply::session::Session;
use crate::apply::step::VersionStep;
use crate::error::Result;
use crate::project::Project;
use crate::support::ask::{self, Prompt};
use crate::support::output::{errln, out};

/// Flags of the commands that change a database.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct Safety {
    /// Print the SQL that would run, in order, and touch nothing.
    #[arg(long)]
    pub sql: bool,
    /// Copy the database beside it (SQLite online backup) before changing anything.
    #[arg(long)]
    pub backup: bool,
    /// Run SQL that drops tables or columns holding data without asking.
    #[arg(long)]
    pub yes: bool,
}

/// Whether a command may bring a database into being: only `upgrade` creates the file it
/// is given; the others refuse a database that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create the database file when it does not exist (`upgrade`).
    Create,
    /// Fail when the database file does not exist.
    Refuse,
}

/// Runs the steps `plan` picks on the database `flag` (`--database`, else `DATABASE_URL`)
/// names, or prints them with `--sql`. Progress goes to stderr; questions to the terminal
/// when a person is at it.
pub fn migrate(
    project: &Project,
    flag: Option<&str>,
    safety: &Safety,
    missing: Missing,
    plan: impl FnOnce(&Session<'_>) -> Result<Vec<VersionStep>>,
) -> Result<Outcome> {
    let mut report = |line: String| errln!("{line}");
    let mut terminal = ask::terminal();
    let prompt = terminal.as_mut().map(|t| t as &mut dyn Prompt);
    let mut session = Session::new(project, locate(flag)?, safety.yes, prompt, &mut report)?;
    if missing == Missing::Refuse {
        require_file(&session.database)?;
    }
    let steps = plan(&session)?;
    if safety.sql {
        let copies = match session.database.is_file() {
            true => cost::copies(&reader(&session.database)?, &session.loaded, &steps)?,
            false => Vec::new(),
        };
        let whom = session.database.display().to_string();
        out!("{}", script::script(&whom, &steps, &copies)?);
        return Ok(Outcome::Clean);
    }
    session.run(&steps, safety.backup)?;
    Ok(Outcome::Clean)
}

/// A session on the existing database `flag` names, for the commands that only read or
/// mark it (`current`, `stamp`) and report on stdout; nothing prompts them.
pub fn existing<'a>(
    project: &'a Project,
    flag: Option<&str>,
    report: &'a mut dyn FnMut(String),
) -> Result<Session<'a>> {
    let session = Session::new(project, locate(flag)?, false, None, report)?;
    require_file(&session.database)?;
    Ok(session)
}

/// Fails unless the database file exists (and opens).
fn require_file(database: &Path) -> Result<()> {
    open(database, false).map(|_| ())
}
