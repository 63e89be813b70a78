//! The baseline of a squashed history, read from `versions/`: what lets [`crate::open`]
//! recognise a database migrated before `cargo run -p dev -- squash` replaced the versions it
//! applied.
//!
//! A baseline is the oldest version, and carries the number of the newest version it
//! replaced; its up.sql header lists every replaced directory under `-- Replaces:`, one per
//! `--   - ` line. The build script reads it with this same file, so the application and the
//! header can never disagree.

use std::path::Path;

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
    let names = replaced_in(&std::fs::read_to_string(first.join("up.sql"))?);
    let Some(last_replaced) = names.last().cloned() else {
        return Ok(None);
    };
    let replaced = names
        .iter()
        .map(|name| key_of(name))
        .filter(|key| *key != baseline)
        .collect();
    Ok(Some(Squashed {
        baseline,
        replaced,
        last_replaced,
    }))
}

/// The directory names listed under `-- Replaces:` in the header (the leading comments).
fn replaced_in(up_sql: &str) -> Vec<String> {
    up_sql
        .lines()
        .take_while(|line| line.starts_with("--"))
        .skip_while(|line| *line != "-- Replaces:")
        .skip(1)
        .map_while(|line| line.strip_prefix("--   - "))
        .map(str::to_owned)
        .collect()
}

/// The version Diesel records for a directory name: the part before `_`, without dashes.
fn key_of(dir_name: &str) -> String {
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
