//! What the commands that rewrite the history's records (`generate`, `rehash`) do before
//! they write: take the project lock, and finish or undo what a run that died left half
//! written, in `versions/` and beside the diagram.

use crate::error::Result;
use crate::generate::write;
use crate::project::Project;
use crate::support::lock::ProjectLock;

/// Takes the project lock, waiting for another run (and saying so through `report`), then
/// recovers what a dead run left. The history is the writer's while the lock is held.
pub fn lock(project: &Project, report: &mut dyn FnMut(String)) -> Result<ProjectLock> {
    let lock = ProjectLock::acquire(&project.versions_dir, report)?;
    let diagram_dir = project
        .schema_file
        .parent()
        .unwrap_or(project.root.as_path());
    write::recover(&project.versions_dir, &[diagram_dir]);
    Ok(lock)
}
