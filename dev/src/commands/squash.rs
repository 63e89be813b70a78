//! `squash --to VERSION "message"`: replaces every version up to VERSION with one baseline
//! that makes what they made, so a long history stops costing every fresh database (and every
//! reviewer) its whole past. The baseline carries VERSION's number, so Diesel sees it applied
//! wherever VERSION was; `history::squash` says how databases are recognised, and the proof
//! (`prove::squash`) runs before anything is written. The old versions go and the baseline
//! arrives in one step, with dev.sum rewritten beside them.

use crate::commands::writing;
use crate::commands::Outcome;
use crate::error::{Error, Result};
use crate::generate::baseline::baseline;
use crate::generate::cache::Cache;
use crate::generate::naming;
use crate::generate::render::{render_baseline, Header};
use crate::generate::replay;
use crate::generate::write::{publish_replacing, write_files};
use crate::history::checksums;
use crate::history::header;
use crate::history::squash;
use crate::history::versions::{self, key_of, Version};
use crate::project::Project;
use crate::prove::squash::prove_squash;
use crate::sqlite::db;
use crate::support::files::Record;
use crate::support::output::{errln, outln};
use crate::support::scratch::Scratch;
use crate::support::timing::Timings;
use crate::workspace::problems::refuse_unrecorded_history;

/// What `squash` was asked for.
#[derive(clap::Args, Debug, Clone)]
pub struct SquashOptions {
    /// The newest version to replace: a version, a unique prefix or a unique slug.
    #[arg(long, value_name = "VERSION")]
    pub to: String,
    /// What the baseline says of itself, e.g. "baseline of 2026".
    pub message: String,
    /// Start the replay from a snapshot when one verifies (`--no-cache` turns it
    /// off).
    #[arg(skip = true)]
    pub use_cache: bool,
}

/// Squashes, proves, and publishes; prints what was replaced and the proof.
pub fn run(project: &Project, options: &SquashOptions, timings: &mut Timings) -> Result<Outcome> {
    project.ensure_writable_inside(&checksums::sum_path(&project.versions_dir))?;
    let slug = naming::slug(&options.message)?;
    let _lock = writing::lock(project, &mut |line| errln!("{line}"))?;
    let history = versions::scan(&project.versions_dir)?;
    let target = header::resolve(&history, &options.to)?.clone();
    let index = history
        .iter()
        .position(|v| v.key == target.key)
        .expect("resolve returns one of the versions");
    if index == 0 {
        return Err(Error::input(format!(
            "nothing to squash: {} is the oldest version",
            target.dir_name
        ))
        .help("name a later version with --to: every version up to it is replaced"));
    }
    // dev.sum is rewritten from the versions as they are: an edit nobody recorded would be
    // recorded silently.
    let links = checksums::links(&history)?;
    refuse_unrecorded_history(
        project,
        &history,
        &links,
        "squashing would record that silently",
    )?;
    let replaced = replaced_names(&history[..=index]);
    let replaced_keys: Vec<String> = replaced
        .iter()
        .map(|name| key_of(name))
        .filter(|key| *key != target.key)
        .collect();

    let scratch = Scratch::create()?;
    let at_target = scratch.path().join("history.sqlite3");
    let prefix = &history[..=index];
    let cache = Cache::for_root(&project.root);
    let keys = if options.use_cache {
        Cache::keys(&links[..=index])
    } else {
        Vec::new()
    };
    drop(replay::upgrade_to_head(
        &at_target,
        &project.versions_dir,
        prefix,
        options.use_cache.then_some((&cache, keys.as_slice())),
        timings,
    )?);
    let sql = baseline(
        &db::open_rusqlite(&at_target)?,
        &replaced_keys,
        project.integer_primary_key_is_bigint,
    )?;
    let files = render_baseline(
        &Header {
            message: &options.message,
            version: &target.version,
            changes: &sql.changes,
        },
        &replaced,
        &sql,
    );
    let dir_name = format!("{}_{slug}", target.version);

    let candidate_dir = scratch.path().join("versions");
    write_files(&candidate_dir.join(&dir_name), &files)?;
    for later in &history[index + 1..] {
        later.copy_into(&candidate_dir)?;
    }
    let proof = timings.time("prove", || {
        prove_squash(
            &at_target,
            &candidate_dir,
            &scratch.path().join("baseline.sqlite3"),
            &mut Timings::default(),
        )
    })?;

    let candidate = versions::scan(&candidate_dir)?;
    let records = vec![Record {
        path: checksums::sum_path(&project.versions_dir),
        text: checksums::render(&candidate, &checksums::links(&candidate)?),
    }];
    let retired: Vec<String> = prefix.iter().map(|v| v.dir_name.clone()).collect();
    let written = publish_replacing(&project.versions_dir, &dir_name, &files, &records, &retired)?;
    outln!(
        "Squashed {} versions into {}",
        retired.len(),
        project.display(&written)
    );
    outln!("{proof}");
    outln!(
        "A database at {} or later moves on from the baseline; one part-way through the replaced versions is refused until a build from before the squash brings it to {}.",
        target.dir_name,
        target.dir_name
    );
    Ok(Outcome::Clean)
}

/// Every version a database may have applied that the baseline will stand for: the
/// replaced versions, and those an earlier baseline among them stood for, oldest first.
fn replaced_names(prefix: &[Version]) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = prefix;
    if let Some(earlier) = squash::baseline(prefix) {
        names.extend(earlier.replaced);
        rest = &prefix[1..];
    }
    names.extend(rest.iter().map(|v| v.dir_name.clone()));
    names
}
