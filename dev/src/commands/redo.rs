//! `redo`: reverts the newest applied version of the user's database and applies it again,
//! for trying a migration being written.

use crate::commands::database::{migrate, Missing, Safety};
use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;

/// Runs the newest applied version down, then up, on the database `database`
/// (`--database`, else `DATABASE_URL`) names.
pub fn run(project: &Project, database: Option<&str>, safety: &Safety) -> Result<Outcome> {
    migrate(project, database, safety, Missing::Refuse, |session| {
        session.redo_steps()
    })
}
