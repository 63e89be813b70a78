//! `upgrade`: applies the pending versions to the user's database, up to head, a version, or
//! the next N (`+N`). The only command that may create the database file it is given.

use std::process::ExitCode;

use crate::commands::database::{migrate, Missing, Safety};
use crate::error::Result;
use crate::project::Project;

/// Applies pending versions up to `target` (head when `None`) on the database `database`
/// (`--database`, else `DATABASE_URL`) names.
pub fn run(
    project: &Project,
    database: Option<&str>,
    target: Option<&str>,
    safety: &Safety,
) -> Result<ExitCode> {
    migrate(project, database, safety, Missing::Create, |session| {
        session.upgrade_steps(target)
    })
}
