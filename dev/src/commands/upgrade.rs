//! `upgrade`: applies the pending versions to the user's database, up to head, a version, or
//! the next N (`+N`). The only command that may create the database file it is given.
//! `--rehearse` runs them on a copy instead, and reports what each does to the rows.

use crate::commands::database::{existing, migrate, Missing, Safety};
use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;

/// Applies pending versions up to `target` (head when `None`) on the database `database`
/// (`--database`, else `DATABASE_URL`) names.
pub fn run(
    project: &Project,
    database: Option<&str>,
    target: Option<&str>,
    safety: &Safety,
) -> Result<Outcome> {
    migrate(project, database, safety, Missing::Create, |session| {
        session.upgrade_steps(target)
    })
}

/// `upgrade --rehearse`: every pending version up to `target`, up, down and up again on a
/// copy of the database, each compared row by row with the copy before it; the database is
/// only read. Exit 1 when a row or value does not survive a step.
pub fn rehearse(
    project: &Project,
    database: Option<&str>,
    target: Option<&str>,
) -> Result<Outcome> {
    let mut report = |line: String| crate::support::output::errln!("{line}");
    let mut session = existing(project, database, &mut report)?;
    let steps = session.upgrade_steps(target)?;
    let survived = session.rehearse(&steps)?;
    Ok(if survived {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
