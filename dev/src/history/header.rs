//! What the migrations say about themselves: the message and changes in each header, and
//! which version a user means when they name one (a full version, a unique prefix, or a
//! unique slug), for `history`, `show` and the commands that take a target.

use crate::error::{Error, Result};
use crate::history::versions::Version;
use crate::sqlite::quote::uncomment;

/// A migration's header, read back from its up.sql.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The `-- Message:` line; without one, the directory's slug with `_` read as spaces.
    pub message: String,
    /// The items listed under `-- Changes:`, in order; empty without that list.
    pub changes: Vec<String>,
}

/// How the header of a generated file ends: the tool proved it on seeded rows, up and down,
/// before writing it.
pub const PROVEN: &str = "; proven up and down before it was written.";

/// Whether `sql` is a file `generate` wrote and proved: its header's comment lines, before
/// the first statement, hold the `PROVEN` line. Any other file is hand-written, and what it
/// does to rows is found by running it on a copy (`apply::rehearse`).
pub fn is_proven(sql: &str) -> bool {
    sql.lines()
        .take_while(|line| line.starts_with("--") || line.trim().is_empty())
        .any(|line| line.starts_with("-- ") && line.ends_with(PROVEN))
}

/// Reads the header `generate` writes; a hand-written migration without one is described by
/// its directory name.
pub fn header(version: &Version) -> Summary {
    let text = std::fs::read_to_string(version.up_sql()).unwrap_or_default();
    let message = text
        .lines()
        .find_map(|l| l.strip_prefix(MESSAGE_KEY))
        .map(uncomment)
        .unwrap_or_else(|| version.slug().replace('_', " "));
    let changes = text
        .lines()
        .skip_while(|l| *l != CHANGES_LINE)
        .skip(1)
        .map_while(|l| l.strip_prefix(CHANGE_ITEM))
        .map(uncomment)
        .collect();
    Summary { message, changes }
}

/// The header lines `history` and `show` read back (`generate::render` writes them): `-- <Key>: <value>`.
pub const MESSAGE_KEY: &str = "-- Message: ";
/// The header line that holds the version.
pub const VERSION_KEY: &str = "-- Version: ";

/// The header lines of a squashed history's baseline that list the versions it replaced: the
/// application's own (`flowstate::squashed`), which reads them at build time.
pub use flowstate::squashed::{REPLACED_ITEM, REPLACES_LINE};

/// The header line that opens the list of changes, and each item's prefix.
pub const CHANGES_LINE: &str = "-- Changes:";
/// The prefix of each change listed under `CHANGES_LINE`: an item as the replaced versions'.
pub const CHANGE_ITEM: &str = REPLACED_ITEM;

/// The version `spec` names: `base` is not a version; a full version (with or without
/// dashes) or directory name, else a unique prefix of a version, else a unique slug.
pub fn resolve<'a>(versions: &'a [Version], spec: &str) -> Result<&'a Version> {
    let key = spec.replace('-', "");
    let exact: Vec<&Version> = versions
        .iter()
        .filter(|v| v.dir_name == spec || v.version == spec || v.key == key)
        .collect();
    if let [only] = exact.as_slice() {
        return Ok(only);
    }
    let by_prefix: Vec<&Version> = if key.is_empty() || !key.chars().all(|c| c.is_ascii_digit()) {
        Vec::new()
    } else {
        versions
            .iter()
            .filter(|v| v.key.starts_with(&key))
            .collect()
    };
    let by_slug: Vec<&Version> = versions.iter().filter(|v| v.slug() == spec).collect();
    let candidates = if by_prefix.is_empty() {
        by_slug
    } else {
        by_prefix
    };
    match candidates.as_slice() {
        [only] => Ok(only),
        [] => Err(Error::input(format!("no version matches `{spec}`"))
            .note(list(versions.iter()))
            .help(
                "name a version, a unique prefix of one, or a unique slug; `history` lists them",
            )),
        several => Err(
            Error::input(format!("`{spec}` matches {} versions", several.len()))
                .note(list(several.iter().copied()))
                .help("give more of the version to pick one"),
        ),
    }
}

fn list<'a>(versions: impl Iterator<Item = &'a Version>) -> String {
    let names: Vec<&str> = versions.map(|v| v.dir_name.as_str()).collect();
    if names.is_empty() {
        "versions/ holds no migrations".to_owned()
    } else {
        format!("candidates:\n{}", names.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn version(dir_name: &str) -> Version {
        let (v, _) = dir_name.split_once('_').unwrap();
        Version {
            dir_name: dir_name.into(),
            version: v.into(),
            key: v.replace('-', ""),
            path: PathBuf::from(dir_name),
        }
    }

    #[test]
    fn resolves_full_prefix_and_slug_and_lists_candidates() {
        let versions = [
            version("2026-01-01-000000_create_blog"),
            version("2026-02-01-000000_add_tags"),
            version("2026-02-03-000000_drop_tags"),
        ];
        assert_eq!(
            resolve(&versions, "2026-01-01-000000").unwrap().dir_name,
            versions[0].dir_name
        );
        assert_eq!(
            resolve(&versions, "20260101000000").unwrap().dir_name,
            versions[0].dir_name
        );
        assert_eq!(
            resolve(&versions, "2026-02-03").unwrap().dir_name,
            versions[2].dir_name
        );
        assert_eq!(
            resolve(&versions, "add_tags").unwrap().dir_name,
            versions[1].dir_name
        );
        assert_eq!(
            resolve(&versions, "2026-02-01-000000_add_tags")
                .unwrap()
                .dir_name,
            versions[1].dir_name
        );
        let ambiguous = resolve(&versions, "2026-02").unwrap_err();
        assert!(
            ambiguous.message.contains("matches 2 versions"),
            "{ambiguous}"
        );
        assert!(
            ambiguous.notes[0].contains("add_tags") && ambiguous.notes[0].contains("drop_tags")
        );
        let unknown = resolve(&versions, "nope").unwrap_err();
        assert!(unknown.notes[0].contains("create_blog"), "{unknown}");
    }
}
