//! `verify`: walks every version up, down and up again on a disposable database with rows,
//! proving the whole history rather than only its newest version.

use std::process::ExitCode;

use crate::error::Result;
use crate::project::Project;
use crate::prove;
use crate::support::output::outln;

/// Proves the history and prints the summary.
pub fn run(project: &Project) -> Result<ExitCode> {
    outln!("{}", prove::verify::verify(&project.versions_dir)?);
    Ok(ExitCode::SUCCESS)
}
