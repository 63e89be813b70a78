//! `verify`: walks every version up, down and up again on a disposable database with rows,
//! proving the whole history rather than only its newest version.

use crate::commands::report::{self, Format};
use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;
use crate::prove;
use crate::support::output::outln;

/// Proves the history and prints the summary, or (`--format json`) its figures.
pub fn run(project: &Project, format: Format) -> Result<Outcome> {
    let verified = prove::verify::verify(&project.versions_dir)?;
    if format == Format::Json {
        let document = serde_json::json!({
            "version": report::JSON_VERSION,
            "command": "verify",
            "status": "ok",
            "exit": 0,
            "versions": verified.versions,
            "rows": verified.rows,
        });
        outln!("{document:#}");
    } else {
        outln!("{verified}");
    }
    Ok(Outcome::Clean)
}
