//! `verify`: walks every version up, down and up again on a disposable database with rows,
//! proving the whole history rather than only its newest version.

use crate::commands::report::{Document, Format};
use crate::commands::Outcome;
use crate::error::Result;
use crate::project::Project;
use crate::prove;
use crate::support::output::outln;

/// Proves the history and prints the summary, or (`--format json`) its figures.
pub fn run(project: &Project, format: Format) -> Result<Outcome> {
    let verified = prove::verify::verify(&project.versions_dir)?;
    if format == Format::Json {
        let body = VerifyJson {
            versions: verified.versions,
            rows: verified.rows,
        };
        Document::new("verify", "ok", 0, body).print();
    } else {
        outln!("{verified}");
    }
    Ok(Outcome::Clean)
}

/// The fields of `verify --format json`.
#[derive(serde::Serialize)]
struct VerifyJson {
    versions: usize,
    rows: usize,
}
