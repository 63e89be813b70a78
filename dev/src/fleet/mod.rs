//! Many databases at once: a fleet of SQLite databases (one per tenant, user or device)
//! read and moved together.
//!
//! The pipeline, one module per stage: `members` (which databases: paths, URLs, globs,
//! `--from`), `survey` (where each stands, or why it is left out, and what its pending
//! versions would drop), `pool` (a fixed number of threads over the fleet), `upgrade`
//! (confirmation once, canary, failure policy, each database moved by `apply::session`),
//! `plan` (`--sql`), `journal` (one JSON line per database, to resume from) and `progress`
//! (the terminal's bar). Commands print what these return.

pub mod journal;
pub mod members;
pub mod plan;
pub mod pool;
pub mod progress;
pub mod survey;
pub mod upgrade;

use std::path::PathBuf;

use crate::fleet::pool::Flow;
use crate::fleet::progress::Progress;
use crate::fleet::survey::{Survey, Surveyed};

/// Where each of `members` stands, read on `jobs` threads, in the fleet's order.
pub fn survey_all(
    survey: &Survey<'_>,
    members: &[PathBuf],
    jobs: usize,
    progress: bool,
) -> Surveyed {
    let mut found: Vec<Option<_>> = vec![None; members.len()];
    let mut bar = Progress::new(progress, members.len(), "read");
    pool::each(
        members,
        jobs,
        |path| survey.stand(path),
        |at, standing| {
            bar.advance(standing.is_err());
            found[at] = Some(standing);
            Flow::Go
        },
    );
    bar.finish();
    members
        .iter()
        .cloned()
        .zip(found)
        .filter_map(|(path, standing)| Some((path, standing?)))
        .collect()
}
