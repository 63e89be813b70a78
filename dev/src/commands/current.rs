//! `current`: the newest version the user's database has applied, and whether it is head
//! or which versions are pending.

use crate::apply::drift::drift;
use crate::commands::database::existing;
use crate::commands::report::{Document, Format};
use crate::commands::Outcome;
use crate::error::Result;
use crate::generate::cache::Cache;
use crate::project::Project;
use crate::support::invocation;
use crate::support::output::{errln, outln};
use crate::support::timing::Timings;

/// Prints where the database `database` (`--database`, else `DATABASE_URL`) names stands,
/// and warns about versions it applied that `versions/` does not contain, and in one line
/// when it has drifted from them (`drift` says how).
pub fn run(project: &Project, database: Option<&str>, format: Format) -> Result<Outcome> {
    let mut say = |line: String| outln!("{line}");
    let session = existing(project, database, &mut say)?;
    if let Some(part_way) = &session.part_way {
        return Err(part_way.error(&session.database));
    }
    let pending: Vec<&str> = session
        .versions()
        .iter()
        .filter(|v| !session.applied.contains(&v.key))
        .map(|v| v.dir_name.as_str())
        .collect();
    let position = session.position();
    let cache = Cache::for_root(&project.root);
    let found = drift(
        project,
        &session.database,
        Some(&cache),
        &mut Timings::default(),
    )?;
    // Unknown applied versions are reported on their own line below.
    let drifted = found.changed_out_of_band();
    if format == Format::Json {
        let body = CurrentJson {
            database: session.database.display().to_string(),
            head: pending.is_empty(),
            position,
            pending,
            unknown_applied: session.unknown_applied(),
            drifted,
        };
        Document::new("current", "ok", 0, body).print();
        return Ok(Outcome::Clean);
    }
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
    if drifted {
        errln!(
            "warning: the database has drifted from the versions it applied; `{}` lists how",
            invocation::command("drift")
        );
    }
    Ok(Outcome::Clean)
}

/// The fields of `current --format json`.
#[derive(serde::Serialize)]
struct CurrentJson<'a> {
    database: String,
    position: String,
    head: bool,
    pending: Vec<&'a str>,
    unknown_applied: Vec<&'a str>,
    drifted: bool,
}
