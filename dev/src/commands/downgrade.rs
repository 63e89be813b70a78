//! `downgrade`: reverts applied versions of the user's database: the newest N (`-N`), every
//! one after a version (which is kept), or all of them (`base`).

use crate::commands::database::{migrate, Missing, Safety};
use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;

/// Reverts applied versions down to `target` on the database `database` (`--database`,
/// else `DATABASE_URL`) names.
pub fn run(
    project: &Project,
    database: Option<&str>,
    target: &str,
    safety: &Safety,
) -> Result<Outcome> {
    migrate(project, database, safety, Missing::Refuse, |session| {
        session.downgrade_steps(target)
    })
}
