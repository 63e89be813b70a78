//! `stamp`: marks the user's database as having applied every version up to a target and
//! none after it, running nothing: for a database whose schema is already right (`base`
//! clears every mark, `head` marks all).

use crate::commands::database::existing;
use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;
use crate::support::output::outln;

/// Stamps the database `database` (`--database`, else `DATABASE_URL`) names at `target`.
pub fn run(project: &Project, database: Option<&str>, target: &str) -> Result<Outcome> {
    let mut report = |line: String| outln!("{line}");
    let mut session = existing(project, database, &mut report)?;
    session.stamp(target)?;
    Ok(Outcome::Clean)
}
