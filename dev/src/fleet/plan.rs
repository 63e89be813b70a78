//! `fleet upgrade --sql`: the SQL an upgrade of the fleet would run, once for each distinct
//! run of pending versions with how many databases would run it, and above each version the
//! rows and bytes its rebuilds copy, added up over those databases; nothing is touched.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::apply::cost::Copied;
use crate::apply::script;
use crate::apply::step::VersionStep;
use crate::error::Result;
use crate::fleet::survey::Survey;
use crate::fleet::survey_all;
use crate::fleet::upgrade::{target_name, verified_versions};
use crate::project::Project;

/// The script for `members` up to `target` (head when `None`), surveyed on `jobs` threads.
pub fn script(
    project: &Project,
    members: &[PathBuf],
    target: Option<&str>,
    jobs: usize,
) -> Result<String> {
    let loaded = verified_versions(project)?;
    let target_dir = target_name(&loaded, target)?;
    let mut survey = Survey::new(project, loaded, target.map(str::to_owned), true, false);
    survey.costs = true;
    let mut runs: BTreeMap<Vec<String>, Run> = BTreeMap::new();
    let (mut there, mut skipped) = (0, 0);
    for (_, found) in survey_all(&survey, members, jobs, false) {
        match found {
            Err(_) => skipped += 1,
            Ok(standing) if standing.steps.is_empty() => there += 1,
            Ok(standing) => {
                let names = standing
                    .steps
                    .iter()
                    .map(|s| s.version.dir_name.clone())
                    .collect();
                let run = runs.entry(names).or_insert_with(|| Run {
                    position: standing.position.clone().unwrap_or_else(|| "base".into()),
                    steps: standing.steps.clone(),
                    databases: 0,
                    copies: BTreeMap::new(),
                });
                run.databases += 1;
                for copied in standing.copies {
                    let total = run
                        .copies
                        .entry((copied.step, copied.table.clone()))
                        .or_insert(Copied {
                            databases: 0,
                            rows: 0,
                            bytes: 0,
                            ..copied.clone()
                        });
                    total.rows += copied.rows;
                    total.bytes += copied.bytes;
                    total.databases += 1;
                }
            }
        }
    }
    let mut text = format!(
        "-- fleet upgrade to {target_dir}: {} database(s) to upgrade, in {} run(s) of versions; {there} at the target already, {skipped} skipped (`fleet status` says why)\n",
        runs.values().map(|run| run.databases).sum::<usize>(),
        runs.len(),
    );
    for run in runs.values() {
        let whom = format!("{} database(s) at {}", run.databases, run.position);
        let copies: Vec<Copied> = run.copies.values().cloned().collect();
        text.push('\n');
        text.push_str(&script::script(&whom, &run.steps, &copies)?);
    }
    Ok(text)
}

/// The databases that run the same versions from the same place, and what those copy there.
struct Run {
    position: String,
    steps: Vec<VersionStep>,
    databases: usize,
    /// By step and table, added up over the databases.
    copies: BTreeMap<(usize, String), Copied>,
}
