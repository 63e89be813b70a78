//! `current`: the newest version the user's database has applied, and whether it is head
//! or which versions are pending.

use std::process::ExitCode;

use crate::commands::database::existing;
use crate::error::Result;
use crate::project::Project;
use crate::support::output::{errln, outln};

/// Prints where the database `database` (`--database`, else `DATABASE_URL`) names stands,
/// and warns about versions it applied that `versions/` does not contain.
pub fn run(project: &Project, database: Option<&str>) -> Result<ExitCode> {
    let mut report = |line: String| outln!("{line}");
    let session = existing(project, database, &mut report)?;
    let pending: Vec<&str> = session
        .versions
        .iter()
        .filter(|v| !session.applied.contains(&v.key))
        .map(|v| v.dir_name.as_str())
        .collect();
    let position = session.position();
    if pending.is_empty() {
        outln!("{position} (head)");
    } else {
        outln!(
            "{position} ({} pending: {})",
            pending.len(),
            pending.join(", ")
        );
    }
    for version in session.unknown_applied() {
        errln!("warning: the database applied {version}, which versions/ does not contain");
    }
    Ok(ExitCode::SUCCESS)
}
