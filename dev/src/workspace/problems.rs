//! What is wrong with what the project records beside its history, judged against head:
//! the checksums in dev.sum and the diagram. `check` reports these problems; `generate` and
//! `squash` refuse to rewrite a history that has any.

use crate::error::{Error, Finding, Result};
use crate::history::checksums::{self, Link};
use crate::history::versions::Version;
use crate::project::Project;
use crate::schema::diagram;
use crate::support::invocation;
use crate::workspace::Workspace;

/// Problems of the recorded history; none when the project records no checksums.
pub fn history_problems(project: &Project, workspace: &Workspace) -> Result<Vec<Finding>> {
    recorded_problems(project, &workspace.versions, &workspace.links)
}

/// Problems of `versions` (with their `links`) against dev.sum; none when the project
/// records no checksums.
fn recorded_problems(
    project: &Project,
    versions: &[Version],
    links: &[Link],
) -> Result<Vec<Finding>> {
    if !checksums::recorded(&project.versions_dir) {
        return Ok(Vec::new());
    }
    checksums::problems(&project.versions_dir, versions, links)
}

/// The commands that rewrite the history's records build only on one that verifies:
/// refuses when dev.sum disagrees with `versions`, saying what doing it anyway would do
/// (`consequence`, e.g. "a new version on top of it would hide that").
pub fn refuse_unrecorded_history(
    project: &Project,
    versions: &[Version],
    links: &[Link],
    consequence: &str,
) -> Result<()> {
    let problems = recorded_problems(project, versions, links)?;
    if problems.is_empty() {
        return Ok(());
    }
    let mut err = Error::input(format!(
        "versions/ does not match {}; {consequence}",
        checksums::SUM_FILE
    ));
    for problem in &problems {
        err = err.note(
            problem
                .to_string()
                .trim_end()
                .trim_start_matches("error: ")
                .to_owned(),
        );
    }
    Err(err.help(format!(
        "run `{}` and do what it says first",
        invocation::command("check")
    )))
}

/// A problem when the project keeps a diagram and it is not head's.
pub fn diagram_problem(project: &Project, workspace: &Workspace) -> Option<Finding> {
    let path = diagram::path(&project.schema_file);
    let text = std::fs::read_to_string(&path).ok()?;
    // Line endings are not a change (a checkout may have turned LF into CRLF).
    if !diagram::has_block(&text) || diagram::holds(&text, &workspace.diagram_block()) {
        return None;
    }
    Some(
        Finding::new(
            "C301",
            format!("the diagram in {} is out of date", project.display(&path)),
        )
        .help(format!(
            "run `{}` and commit the result",
            invocation::command("diagram")
        )),
    )
}
