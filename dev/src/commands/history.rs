//! `history`: every version, oldest first, with its message; with a database, which of them
//! it has applied; with `--verbose`, each version's changes.

use crate::apply::database::{self, DATABASE_URL};
use crate::commands::report::{Document, Format};
use crate::commands::Outcome;
use crate::error::Result;
use crate::history::header;
use crate::history::squash;
use crate::history::versions;
use crate::project::Project;
use crate::support::output::outln;

/// Lists the history, marking what the database `flag` (`--database`, else
/// `DATABASE_URL`) names has applied; without either, no marks. As JSON, every version
/// with its message, its changes and (with a database) whether it is applied.
pub fn run(
    project: &Project,
    flag: Option<&str>,
    verbose: bool,
    format: Format,
) -> Result<Outcome> {
    let versions = versions::scan(&project.versions_dir)?;
    let applied = match flag.or(std::env::var(DATABASE_URL).ok().as_deref()) {
        Some(given) => {
            let path = database::locate(Some(given))?;
            database::open(&path, false)?;
            let applied = squash::recognise(&versions, database::applied(&path)?)
                .map_err(|part_way| part_way.error(&path))?;
            Some(applied)
        }
        None => None,
    };
    let baseline = squash::baseline(&versions);
    let replaces = |version: &versions::Version| match &baseline {
        Some(b) if b.version == *version => b.replaced.clone(),
        _ => Vec::new(),
    };
    if format == Format::Json {
        let versions = versions
            .iter()
            .map(|version| {
                let header = header::header(version);
                VersionJson {
                    version: &version.dir_name,
                    key: &version.key,
                    message: header.message,
                    applied: applied.as_ref().map(|a| a.contains(&version.key)),
                    changes: header.changes,
                    replaces: replaces(version),
                }
            })
            .collect();
        Document::new("history", "ok", 0, HistoryJson { versions }).print();
        return Ok(Outcome::Clean);
    }
    for version in &versions {
        let header = header::header(version);
        let mark = match &applied {
            Some(applied) if applied.contains(&version.key) => "[x] ",
            Some(_) => "[ ] ",
            None => "",
        };
        let replaced = replaces(version);
        let squashed = match replaced.len() {
            0 => String::new(),
            n => format!(" (baseline: replaces {n} versions)"),
        };
        outln!("{mark}{}  {}{squashed}", version.dir_name, header.message);
        if verbose {
            for change in &header.changes {
                outln!("      - {change}");
            }
        }
    }
    Ok(Outcome::Clean)
}

/// The fields of `history --format json`.
#[derive(serde::Serialize)]
struct HistoryJson<'a> {
    versions: Vec<VersionJson<'a>>,
}

/// One version in `history --format json`.
#[derive(serde::Serialize)]
struct VersionJson<'a> {
    version: &'a str,
    key: &'a str,
    message: String,
    /// `None` without a database.
    applied: Option<bool>,
    changes: Vec<String>,
    replaces: Vec<String>,
}
