//! What each version's files hashed to, kept with the files' metadata at the time, so that
//! a run reads only the versions whose files changed: git's index, for `versions/`.
//!
//! A version's hash is reused when its directory and each of its files have the same size,
//! modification and change times and inode as when they were hashed. Adding, removing or
//! renaming a file in the directory changes the directory's times; writing a file changes
//! its own, and its change time cannot be set back (`touch -d` sets only the modification
//! time, and sets the change time to now). The metadata is read before the files are, so an
//! edit made while they are read shows next time.
//!
//! As in git, an entry is trusted only when its times are older than the index file by more
//! than the coarsest clock a file system keeps (2 s, FAT's): a file written twice within one
//! tick of its file system's clock keeps its times, and an entry recorded within that tick
//! would miss the second write. Such an entry is hashed again, and recorded again, until it
//! is old enough.
//!
//! The index is a cache, stored as kept values are (`support::kept::write_sealed`: behind the
//! SHA-256 of its bytes): one that cannot be read or does not match is ignored, one that
//! cannot be written costs the next run its shortcut, and the hashes it gives are exactly those `links` computes, so
//! `dev.sum` and the snapshot keys do not depend on it.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{file_names, hash_files, linked, on_every_core, Link};
use crate::error::Result;
use crate::history::versions::{self, Version};
use crate::support::{files, kept};

/// The format of the index this tool reads and writes, stored first in it.
const FORMAT: u32 = 2;

/// The file every version has.
const UP_SQL: &str = "up.sql";

/// How much older than the index an entry's times must be to be trusted, in nanoseconds.
const TICK: i128 = 2_000_000_000;

/// A version's hash: the index's, or its files' read again (with the entry recording it,
/// unless its metadata could not be read).
enum Looked<'a> {
    Reused(&'a Entry),
    Hashed(String, Option<Entry>),
}

/// A version's files hashed, with the metadata they had just before they were read.
fn hashed(version: &Version) -> Result<(String, Option<Entry>)> {
    let dir = Stamp::of(&version.path);
    let names = file_names(version)?;
    if !names.iter().any(|name| name == UP_SQL) {
        return Err(versions::no_up_sql(version));
    }
    let files: Option<Vec<(String, Stamp)>> = names
        .iter()
        .map(|name| Some((name.clone(), Stamp::of(&version.path.join(name))?)))
        .collect();
    let hash = hash_files(version, &names)?;
    let entry = dir.zip(files).map(|(dir, files)| Entry {
        hash: hash.clone(),
        dir,
        files,
    });
    Ok((hash, entry))
}

/// Replaces the index with the entries of `versions`; a failure only costs the next run its
/// shortcut.
fn write(index: &Path, versions: &[Version], looked: &[Looked<'_>]) {
    let entries: HashMap<String, Entry> = versions
        .iter()
        .zip(looked)
        .filter_map(|(version, looked)| {
            let entry = match looked {
                Looked::Reused(entry) => Some(*entry),
                Looked::Hashed(_, entry) => entry.as_ref(),
            };
            Some((version.dir_name.clone(), entry?.clone()))
        })
        .collect();
    save(index, &entries);
}

/// Writes `entries` as the index at `index`, whole or not at all.
fn save(index: &Path, entries: &HashMap<String, Entry>) {
    kept::write_sealed(index, &(FORMAT, entries));
}

/// What was recorded: each version's entry by directory name, and when the index was
/// written (nanoseconds since the epoch, by the file system's clock).
#[derive(Debug, Default)]
pub struct Index {
    written: i128,
    entries: HashMap<String, Entry>,
}

impl Index {
    /// `super::links`, reusing the hashes recorded for versions whose files have not changed
    /// since, and recording the others in the index at `path` (where this one was read; none:
    /// nowhere). A version without up.sql is refused as `versions::scan` refuses it: its files
    /// are read here anyway, so the versions may come from `versions::list`.
    pub fn links(&self, versions: &[Version], path: Option<&Path>) -> Result<Vec<Link>> {
        let looked = on_every_core(versions, |version| {
            match self.entries.get(&version.dir_name) {
                Some(entry)
                    if entry.trusted(self.written)
                        && entry.files.iter().any(|(name, _)| name == UP_SQL)
                        && entry.unchanged(version) =>
                {
                    Ok(Looked::Reused(entry))
                }
                _ => hashed(version).map(|(hash, entry)| Looked::Hashed(hash, entry)),
            }
        })?;
        if let Some(path) = path.filter(|_| looked.iter().any(|l| matches!(l, Looked::Hashed(..))))
        {
            write(path, versions, &looked);
        }
        let hashes = looked
            .into_iter()
            .map(|l| match l {
                Looked::Reused(entry) => entry.hash.clone(),
                Looked::Hashed(hash, _) => hash,
            })
            .collect();
        Ok(linked(versions, hashes))
    }

    /// The links the recorded hashes give, without looking at the files: what `links` gives
    /// when nothing changed since. `None` when a version has no entry.
    pub fn recorded_links(&self, versions: &[Version]) -> Option<Vec<Link>> {
        let hashes = versions
            .iter()
            .map(|v| Some(self.entries.get(&v.dir_name)?.hash.clone()))
            .collect::<Option<Vec<String>>>()?;
        Some(linked(versions, hashes))
    }

    /// The index at `path`; empty when there is none or it is not one this tool wrote.
    pub fn read(path: &Path) -> Index {
        let Some(written) = fs::metadata(path).ok().and_then(|m| nanos(m.modified())) else {
            return Index::default();
        };
        let Some((FORMAT, entries)) = kept::read_sealed::<(u32, HashMap<String, Entry>)>(path)
        else {
            return Index::default();
        };
        Index { written, entries }
    }
}

/// One version's hash, and the metadata of its directory and files when they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    hash: String,
    dir: Stamp,
    /// By name, as the hash covers them.
    files: Vec<(String, Stamp)>,
}

impl Entry {
    /// Whether every time it recorded is older than the index by more than a clock's tick.
    fn trusted(&self, written: i128) -> bool {
        std::iter::once(&self.dir)
            .chain(self.files.iter().map(|(_, stamp)| stamp))
            .all(|stamp| stamp.modified.max(stamp.changed) < written - TICK)
    }

    /// Whether the version's directory and files still have the metadata recorded.
    fn unchanged(&self, version: &Version) -> bool {
        Stamp::of(&version.path) == Some(self.dir)
            && self
                .files
                .iter()
                .all(|(name, stamp)| Stamp::of(&version.path.join(name)) == Some(*stamp))
    }
}

/// A file's or directory's metadata, as far as a write changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    /// Modification time, nanoseconds since the epoch.
    modified: i128,
    /// Status change time (creation time where the system keeps no change time).
    changed: i128,
    inode: u64,
}

impl Stamp {
    /// The metadata of `path` (links followed, as the files are read); None when some of it
    /// cannot be read, so that the entry is never trusted.
    fn of(path: &Path) -> Option<Stamp> {
        let metadata = fs::metadata(path).ok()?;
        Some(Stamp {
            size: metadata.len(),
            modified: nanos(metadata.modified())?,
            changed: changed(&metadata)?,
            inode: files::inode(&metadata),
        })
    }
}

/// A time as nanoseconds since the epoch.
fn nanos(time: std::io::Result<SystemTime>) -> Option<i128> {
    let time = time.ok()?;
    Some(match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).ok()?,
        Err(before) => -i128::try_from(before.duration().as_nanos()).ok()?,
    })
}

#[cfg(unix)]
fn changed(metadata: &fs::Metadata) -> Option<i128> {
    use std::os::unix::fs::MetadataExt;
    Some(i128::from(metadata.ctime()) * 1_000_000_000 + i128::from(metadata.ctime_nsec()))
}

#[cfg(not(unix))]
fn changed(metadata: &fs::Metadata) -> Option<i128> {
    nanos(metadata.created())
}

#[cfg(test)]
mod tests;
