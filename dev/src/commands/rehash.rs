//! `rehash`: records the checksums of `versions/` again, accepting an intended edit of a
//! version, and brings the diagram (when the project keeps one) to head, so `check` passes
//! right after.

use crate::commands::writing;
use crate::commands::Outcome;
use crate::error::Result;
use crate::history::checksums;
use crate::history::versions;
use crate::project::Project;
use crate::schema::diagram;
use crate::support::files;
use crate::support::output::{errln, outln};
use crate::support::timing::Timings;
use crate::workspace::Workspace;

/// Rewrites dev.sum (and the diagram) from the history as it stands, and says where.
pub fn run(project: &Project) -> Result<Outcome> {
    let sum = checksums::sum_path(&project.versions_dir);
    project.ensure_writable_inside(&sum)?;
    let _lock = writing::lock(project, &mut |line| errln!("{line}"))?;
    let versions = versions::scan(&project.versions_dir)?;
    let mut records = vec![files::Record {
        text: checksums::render(&versions, &checksums::links(&versions)?),
        path: sum,
    }];
    let keeps_diagram = std::fs::read_to_string(diagram::path(&project.schema_file))
        .is_ok_and(|text| diagram::has_block(&text));
    if keeps_diagram {
        let workspace = Workspace::open(project, true, false, &mut Timings::default())?;
        project.ensure_writable_inside(&diagram::path(&project.schema_file))?;
        records.extend(diagram::refreshed(
            &project.schema_file,
            &workspace.diagram_block(),
        )?);
    }
    files::replace(&records)?;
    outln!(
        "Recorded the checksums of {}/ in {}",
        project.display(&project.versions_dir),
        checksums::SUM_FILE
    );
    Ok(Outcome::Clean)
}
