//! `show`: a version's header, up.sql and down.sql, the version named by its number, its
//! directory, a unique prefix of its number or its slug.

use crate::commands::Outcome;
use crate::error::{Error, Result};
use crate::history::header;
use crate::history::versions;
use crate::project::Project;
use crate::support::output::outln;

/// Prints the files of the version `version` names.
pub fn run(project: &Project, version: &str) -> Result<Outcome> {
    let versions = versions::scan(&project.versions_dir)?;
    let version = header::resolve(&versions, version)?;
    for file in [version.up_sql(), version.down_sql()] {
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
        outln!("==> {} <==\n{}", project.display(&file), text.trim_end());
    }
    Ok(Outcome::Clean)
}
