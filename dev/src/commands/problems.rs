//! What is wrong with what the project records beside its history, judged against head:
//! the checksums in dev.sum and the diagram. `check` reports these problems; `generate`
//! refuses to build on a history that has any.

use crate::commands::compare::{diagram_of, Comparison};
use crate::error::{Finding, Result};
use crate::history::checksums;
use crate::project::Project;
use crate::schema::diagram;

/// Problems of the recorded history; none when the project records no checksums.
pub fn history_problems(project: &Project, comparison: &Comparison) -> Result<Vec<Finding>> {
    if !checksums::recorded(&project.versions_dir) {
        return Ok(Vec::new());
    }
    checksums::problems(
        &project.versions_dir,
        &comparison.versions,
        &comparison.links,
    )
}

/// A problem when the project keeps a diagram and it is not head's.
pub fn diagram_problem(project: &Project, comparison: &Comparison) -> Option<Finding> {
    let path = diagram::path(&project.schema_file);
    let text = std::fs::read_to_string(&path).ok()?;
    // Line endings are not a change (a checkout may have turned LF into CRLF).
    if !diagram::has_block(&text) || text.replace("\r\n", "\n").contains(&diagram_of(comparison)) {
        return None;
    }
    Some(
        Finding::new(format!(
            "the diagram in {} is out of date",
            project.display(&path)
        ))
        .help("run `cargo run -p dev -- diagram` and commit the result"),
    )
}
