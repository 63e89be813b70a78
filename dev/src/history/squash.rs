//! Squashed histories: a baseline version that stands for every version it replaced.
//!
//! `squash --to VERSION` writes the baseline under VERSION's own version number, so Diesel
//! (the harness, `diesel migration run`, the application's `open()`) sees it as applied on
//! every database that applied VERSION, and runs only what came after. The versions it
//! replaced are listed in its up.sql header, under `-- Replaces:`, one directory name per
//! line; that list is what lets a database that applied them be recognised:
//!
//! - one that applied the baseline's version is at or past the baseline, and the replaced
//!   versions it also lists as applied are accounted for by it, not unknown;
//! - one that applied some replaced versions but not the baseline's is part-way through
//!   them: running the baseline there would create tables that exist, so it is refused.
//!
//! Everything before VERSION is replaced, so only the oldest version can be a baseline.

//!
//! The header's format and what a database's applied versions mean are the application's
//! (`flowstate::squashed`), so the tool, the build script and `flowstate::open` read them
//! with one parser and one rule.

use std::path::Path;

use flowstate::squashed::{self as shared, Squashed};

use crate::error::Error;
use crate::history::versions::Version;
use crate::sqlite::quote::uncomment;

/// The oldest version of a squashed history, and what it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The baseline version itself.
    pub version: Version,
    /// The directory names of the versions it replaced, oldest first; the newest has the
    /// baseline's own version number.
    pub replaced: Vec<String>,
    /// The same, as the application reads it.
    squashed: Squashed,
}

impl Baseline {
    /// The Diesel keys of the replaced versions other than the baseline's own.
    pub fn replaced_keys(&self) -> &[String] {
        &self.squashed.replaced
    }
}

/// The baseline of `versions` (oldest first), when the history was squashed.
pub fn baseline(versions: &[Version]) -> Option<Baseline> {
    let first = versions.first()?;
    let text = std::fs::read_to_string(first.up_sql()).ok()?;
    let squashed = Squashed::from_baseline(&first.key, &text)?;
    let replaced = shared::replaced_in(&text)
        .iter()
        .map(|name| uncomment(name))
        .collect();
    Some(Baseline {
        version: first.clone(),
        replaced,
        squashed,
    })
}

/// A database that applied some of the squashed versions but not the baseline's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartWay {
    /// The baseline, by directory name.
    pub baseline: String,
    /// The newest replaced version, whose number the baseline carries.
    pub last_replaced: String,
    /// How many versions the baseline replaced, and how many of them the database applied.
    pub replaced: usize,
    /// How many of them the database applied.
    pub applied: usize,
}

impl PartWay {
    /// The refusal every command gives such a database.
    pub fn error(&self, database: &Path) -> Error {
        Error::input(format!(
            "`{}` is part-way through the {} versions squashed into {}: it applied {} of them",
            database.display(),
            self.replaced,
            self.baseline,
            self.applied
        ))
        .note("running the baseline there would create tables the database already has")
        .help(format!(
            "bring it to {} with a build from before the squash (`git log -- versions/` finds it), then use this build",
            self.last_replaced
        ))
    }
}

/// What a database's applied versions (Diesel keys) mean for `versions`: the applied list
/// with the versions a baseline accounts for left out, or why it cannot be read.
pub fn recognise(versions: &[Version], applied: Vec<String>) -> Result<Vec<String>, PartWay> {
    recognise_with(baseline(versions).as_ref(), applied)
}

/// `recognise` with the history's baseline already read (`None`: never squashed): for a
/// run that places many databases in one history.
pub fn recognise_with(
    baseline: Option<&Baseline>,
    applied: Vec<String>,
) -> Result<Vec<String>, PartWay> {
    let Some(baseline) = baseline else {
        return Ok(applied);
    };
    baseline
        .squashed
        .recognise(applied)
        .map_err(|part| PartWay {
            baseline: baseline.version.dir_name.clone(),
            last_replaced: baseline.replaced.last().cloned().unwrap_or_default(),
            replaced: part.replaced,
            applied: part.applied,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn history(dir: &Path, first_up: &str) -> Vec<Version> {
        for (name, up) in [
            ("2026-01-03-000000_baseline", first_up),
            ("2026-01-04-000000_later", "SELECT 1;"),
        ] {
            fs::create_dir_all(dir.join(name)).unwrap();
            fs::write(dir.join(name).join("up.sql"), up).unwrap();
        }
        crate::history::versions::scan(dir).unwrap()
    }

    const BASELINE: &str = "-- Message: squash\n-- Replaces:\n--   - 2026-01-01-000000_a\n--   - 2026-01-02-000000_b\n--   - 2026-01-03-000000_c\n-- Changes:\n--   - create table a\n\nCREATE TABLE a (x);\n";

    #[test]
    fn reads_the_replaced_versions_from_the_header_only() {
        let dir = tempfile::tempdir().unwrap();
        let found = baseline(&history(dir.path(), BASELINE)).unwrap();
        assert_eq!(
            found.replaced,
            [
                "2026-01-01-000000_a",
                "2026-01-02-000000_b",
                "2026-01-03-000000_c"
            ]
        );
        assert_eq!(found.replaced_keys(), ["20260101000000", "20260102000000"]);
        let late = "CREATE TABLE a (x);\n-- Replaces:\n--   - x_y\n";
        let other = tempfile::tempdir().unwrap();
        assert_eq!(baseline(&history(other.path(), late)), None);
    }

    #[test]
    fn a_database_past_the_baseline_has_its_replaced_versions_accounted_for() {
        let dir = tempfile::tempdir().unwrap();
        let versions = history(dir.path(), BASELINE);
        let applied = [
            "20260101000000",
            "20260102000000",
            "20260103000000",
            "29990101000000",
        ];
        let recognised = recognise(&versions, applied.map(String::from).to_vec()).unwrap();
        assert_eq!(recognised, ["20260103000000", "29990101000000"]);
    }

    #[test]
    fn a_fresh_database_and_an_unsquashed_history_are_left_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let versions = history(dir.path(), BASELINE);
        assert!(recognise(&versions, Vec::new()).unwrap().is_empty());
        let plain = tempfile::tempdir().unwrap();
        let versions = history(plain.path(), "CREATE TABLE a (x);\n");
        let applied = vec!["20260101000000".to_owned()];
        assert_eq!(recognise(&versions, applied.clone()).unwrap(), applied);
    }

    #[test]
    fn a_database_part_way_through_the_replaced_versions_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let versions = history(dir.path(), BASELINE);
        let applied = vec!["20260101000000".to_owned(), "20260102000000".to_owned()];
        let part_way = recognise(&versions, applied).unwrap_err();
        assert_eq!(part_way.applied, 2);
        assert_eq!(part_way.replaced, 3);
        let err = part_way.error(Path::new("state.db"));
        assert!(err.message.contains("part-way"), "{err}");
        assert!(
            err.help.as_deref().unwrap().contains("2026-01-03-000000_c"),
            "{err}"
        );
    }
}
