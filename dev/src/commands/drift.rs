//! `drift`: whether a live database is what its applied versions should have made of it, in
//! `check`'s vocabulary. It reads the database and changes nothing: exit 0 clean, 1 drift.

use crate::apply::database::locate;
use crate::apply::drift::{drift, Drift};
use crate::commands::report::{self, Document, Format};
use crate::commands::Outcome;
use crate::error::Result;
use crate::generate::cache::Cache;
use crate::project::Project;
use crate::support::invocation;
use crate::support::output::{errln, outln};
use crate::support::timing::Timings;

/// Compares the database `database` (`--database`, else `DATABASE_URL`) names with the
/// schema its applied versions give, and lists what was done out of band.
pub fn run(
    project: &Project,
    database: Option<&str>,
    use_cache: bool,
    format: Format,
    timings: &mut Timings,
) -> Result<Outcome> {
    let path = locate(database)?;
    let cache = use_cache.then(|| Cache::for_root(&project.root));
    let found = drift(project, &path, cache.as_ref(), timings)?;
    let outcome = Outcome::found(!found.is_clean());
    let exit = outcome.code();
    match format {
        Format::Text => {}
        Format::Json => {
            let body = DriftJson {
                database: path.display().to_string(),
                applied: found.applied,
                unknown_versions: &found.unknown,
                skipped_versions: &found.skipped,
                changes: report::changes(&found.changes),
                redefined_tables: &found.redefined,
            };
            let document = if exit == 0 {
                Document::new("drift", "clean", exit, body)
                    .meaning("the database is what its applied versions make")
            } else {
                Document::new("drift", "drifted", exit, body).meaning("something to fix")
            };
            document.print();
            return Ok(outcome);
        }
        Format::Github => {
            for line in lines(&found) {
                outln!(
                    "{}",
                    report::annotation(
                        "error",
                        None,
                        None,
                        None,
                        &format!("`{}` has drifted: {line}", path.display())
                    )
                );
            }
            return Ok(outcome);
        }
    }
    let count = found.applied;
    let versions = format!(
        "the {count} version{} it applied",
        if count == 1 { "" } else { "s" }
    );
    if found.is_clean() {
        outln!("`{}` matches {versions}", path.display());
        return Ok(Outcome::Clean);
    }
    outln!("`{}` has drifted from {versions}:", path.display());
    for line in lines(&found) {
        outln!("  - {line}");
    }
    errln!(
        "help: these were made outside the migrations: undo them, or write a migration that makes them (`{}`) so every database gets them", invocation::command("generate --empty")
    );
    Ok(Outcome::Findings)
}

/// Each difference in a few words, as the text and the annotations list them.
fn lines(found: &Drift) -> Vec<String> {
    let mut lines = Vec::new();
    for version in &found.unknown {
        lines.push(format!(
            "applied {version}, which versions/ does not contain"
        ));
    }
    for version in &found.skipped {
        lines.push(format!(
            "never applied {version}, though it applied later versions"
        ));
    }
    lines.extend(found.changes.iter().map(ToString::to_string));
    for table in &found.redefined {
        lines.push(format!(
            "table {table} is defined differently (a CHECK, DEFAULT, COLLATE or constraint)"
        ));
    }
    lines
}

/// The fields of `drift --format json`.
#[derive(serde::Serialize)]
struct DriftJson<'a> {
    database: String,
    applied: usize,
    unknown_versions: &'a [String],
    skipped_versions: &'a [String],
    changes: Vec<report::ChangeJson>,
    redefined_tables: &'a [String],
}
