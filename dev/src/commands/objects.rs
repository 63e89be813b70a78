//! `objects`: writes head's indexes, views and triggers into `objects.sql` beside schema.rs,
//! as print-schema writes head's tables into schema.rs. Run once, it adopts the file on an
//! existing project with no difference to generate; from then on the file is their truth.

use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;
use crate::schema::objects_sql::{self, ObjectKind};
use crate::support::files::{self, Record};
use crate::support::output::outln;
use crate::support::timing::Timings;
use crate::workspace::Workspace;

/// Writes the file and says what it holds.
pub fn run(project: &Project, use_cache: bool, timings: &mut Timings) -> Result<Outcome> {
    let workspace = Workspace::open(project, use_cache, false, timings)?;
    let objects = workspace.managed_objects(project)?;
    let path = project.objects_file();
    project.ensure_writable_inside(&path)?;
    files::replace(&[Record {
        path: path.clone(),
        text: objects_sql::render(&objects),
    }])?;
    let count = |kind: ObjectKind| objects.iter().filter(|o| o.kind == kind).count();
    outln!(
        "Wrote {}: {} indexes, {} views, {} triggers of head",
        project.display(&path),
        count(ObjectKind::Index),
        count(ObjectKind::View),
        count(ObjectKind::Trigger)
    );
    Ok(Outcome::Clean)
}
