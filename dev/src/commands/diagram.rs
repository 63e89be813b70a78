//! `diagram`: writes the Mermaid diagram of head into the README beside schema.rs, where
//! `check` then keeps it up to date.

use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;
use crate::schema::diagram;
use crate::support::output::outln;
use crate::support::timing::Timings;
use crate::workspace::Workspace;

/// Writes head's diagram and says into which file.
pub fn run(project: &Project, use_cache: bool, timings: &mut Timings) -> Result<Outcome> {
    let workspace = Workspace::open(project, use_cache, false, timings)?;
    let path = diagram::write(&project.schema_file, &workspace.diagram_block())?;
    outln!("Wrote the diagram of head into {}", project.display(&path));
    Ok(Outcome::Clean)
}
