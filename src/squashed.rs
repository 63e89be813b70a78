//! The baseline of a squashed history, read from `versions/`: what lets [`crate::open`]
//! recognise a database migrated before `cargo run -p dev -- squash` replaced the versions it
//! applied.
//!
//! A baseline is the oldest version, and carries the number of the newest version it
//! replaced; its up.sql header lists every replaced directory under `-- Replaces:`, one per
//! `--   - ` line. The build script reads it with this same file, and the `dev` tool reads
//! and writes the header with it, so the tool, the build and the application can never
//! disagree on what a baseline replaced or on what a database's applied versions mean.

use std::path::Path;

/// The header line of a baseline's up.sql that opens the list of the versions it replaced.
pub const REPLACES_LINE: &str = "-- Replaces:";
/// The prefix of each replaced directory name under [`REPLACES_LINE`].
pub const REPLACED_ITEM: &str = "--   - ";

/// A squashed history's baseline, by Diesel version, and the versions it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashed {
    /// The baseline's version, as Diesel records it (digits only).
    pub baseline: String,
    /// The replaced versions other than the baseline's own number, as Diesel records them.
    pub replaced: Vec<String>,
    /// The newest replaced version's directory name, for messages.
    pub last_replaced: String,
}

/// The baseline of the migrations in `versions_dir`, or `None` when the history was never
/// squashed.
pub fn read(versions_dir: &Path) -> std::io::Result<Option<Squashed>> {
    let mut dirs: Vec<(String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(versions_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            dirs.push((key_of(&name), entry.path()));
        }
    }
    let Some((baseline, first)) = dirs.into_iter().min() else {
        return Ok(None);
    };
    let up_sql = std::fs::read_to_string(first.join("up.sql"))?;
    Ok(Squashed::from_baseline(&baseline, &up_sql))
}

/// A database part-way through the versions a baseline replaced: it applied some of them
/// but not the baseline's own, so running the baseline would create tables it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartWay {
    /// How many versions the baseline replaced, its own number's included.
    pub replaced: usize,
    /// How many of them the database applied.
    pub applied: usize,
}

impl Squashed {
    /// The baseline whose Diesel version is `baseline` and whose up.sql is `up_sql`; `None`
    /// when its header lists no replaced version (the history was never squashed).
    pub fn from_baseline(baseline: &str, up_sql: &str) -> Option<Squashed> {
        let names = replaced_in(up_sql);
        let last_replaced = names.last().cloned()?;
        let replaced = names
            .iter()
            .map(|name| key_of(name))
            .filter(|key| key != baseline)
            .collect();
        Some(Squashed {
            baseline: baseline.to_owned(),
            replaced,
            last_replaced,
        })
    }

    /// What a database's `applied` versions (Diesel keys) mean: the list without the
    /// versions the baseline accounts for, or [`PartWay`] when the database applied some of
    /// them but not the baseline.
    pub fn recognise(&self, applied: Vec<String>) -> Result<Vec<String>, PartWay> {
        if applied.contains(&self.baseline) {
            return Ok(applied
                .into_iter()
                .filter(|key| !self.replaced.contains(key))
                .collect());
        }
        let part = applied
            .iter()
            .filter(|key| self.replaced.contains(key))
            .count();
        if part == 0 {
            return Ok(applied);
        }
        Err(PartWay {
            replaced: self.replaced.len() + 1,
            applied: part,
        })
    }
}

/// The directory names listed under [`REPLACES_LINE`] in the header (the leading comments),
/// as written: the tool escapes a control character or backslash in a name as a comment does.
pub fn replaced_in(up_sql: &str) -> Vec<String> {
    up_sql
        .lines()
        .take_while(|line| line.starts_with("--"))
        .skip_while(|line| *line != REPLACES_LINE)
        .skip(1)
        .map_while(|line| line.strip_prefix(REPLACED_ITEM))
        .map(str::to_owned)
        .collect()
}

/// The version Diesel records for a directory name: the part before `_`, without dashes.
pub fn key_of(dir_name: &str) -> String {
    dir_name
        .split_once('_')
        .map_or(dir_name, |(version, _)| version)
        .replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(dir: &Path, name: &str, up: &str) {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("up.sql"), up).unwrap();
    }

    #[test]
    fn reads_the_baseline_from_the_oldest_version_only() {
        let dir = tempfile::tempdir().unwrap();
        version(
            dir.path(),
            "2026-01-03-000000_baseline",
            "-- Message: b\n-- Replaces:\n--   - 2026-01-01-000000_a\n--   - 2026-01-03-000000_c\n-- Changes:\n\nCREATE TABLE t (x);\n",
        );
        version(
            dir.path(),
            "2026-01-04-000000_later",
            "-- Replaces:\n--   - 1_x\n",
        );
        std::fs::create_dir(dir.path().join(".2026-01-01-000000_a.retired-1")).unwrap();
        let squashed = read(dir.path()).unwrap().unwrap();
        assert_eq!(squashed.baseline, "20260103000000");
        assert_eq!(squashed.replaced, ["20260101000000"]);
        assert_eq!(squashed.last_replaced, "2026-01-03-000000_c");
    }

    #[test]
    fn a_history_never_squashed_has_no_baseline() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        version(
            dir.path(),
            "2026-01-01-000000_a",
            "CREATE TABLE t (x);\n-- Replaces:\n--   - 1_x\n",
        );
        assert_eq!(read(dir.path()).unwrap(), None);
    }
}
