//! The journal of a fleet run: one JSON line per database, appended as each is done, so that
//! a run cut short (a failure policy, a signal, a lost machine) leaves a complete record of
//! what it did, and a rerun with the same journal skips what is done.
//!
//! A line says which database, where it was (`from`) and is (`to`), the outcome, the rows and
//! values each version dropped, and how long it took. A database is done when its newest line
//! says it reached the run's target. A line cut short by a crash is ignored on reading; the
//! database it names is simply surveyed again.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How one database's part of the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Its pending versions ran.
    Upgraded,
    /// It was at the target already.
    AtTarget,
    /// A version failed; it is at the last one that succeeded.
    Failed,
    /// A signal stopped it between two versions.
    Stopped,
    /// It could not be placed (missing, locked, ...); `error` says why.
    Skipped,
}

/// The rows and values one version dropped from one database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    /// The version's directory name.
    pub version: String,
    /// Rows and values, added up.
    pub rows: i64,
    /// Each loss as the confirmation words it.
    pub what: Vec<String>,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The database, as the fleet named it.
    pub database: String,
    /// Its newest applied version before the run touched it (`None`: base or unknown).
    pub from: Option<String>,
    /// Its newest applied version after.
    pub to: Option<String>,
    /// The version the run moves databases to.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What each version dropped.
    pub dropped: Vec<Dropped>,
    /// Milliseconds spent on it.
    pub ms: u64,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl Entry {
    /// Whether the database reached `target` (`upgraded` or `at-target` there).
    fn reached(&self, target: &str) -> bool {
        matches!(self.outcome, Outcome::Upgraded | Outcome::AtTarget) && self.target == target
    }
}

/// A journal open for appending, with what earlier runs finished.
pub struct Journal {
    path: PathBuf,
    file: File,
    done: HashSet<String>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads which databases earlier runs brought
    /// to `target`.
    pub fn open(path: &Path, target: &str) -> Result<Journal> {
        let mut latest: std::collections::HashMap<String, bool> = Default::default();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for entry in text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
                {
                    let reached = entry.reached(target);
                    latest.insert(entry.database, reached);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read the journal", path, e)),
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("open the journal", path, e))?;
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            done: latest
                .into_iter()
                .filter(|(_, d)| *d)
                .map(|(db, _)| db)
                .collect(),
        };
        journal.end_torn_line()?;
        Ok(journal)
    }

    /// Whether an earlier run brought `database` to the target.
    pub fn is_done(&self, database: &str) -> bool {
        self.done.contains(database)
    }

    /// Appends `entry` as one line, written whole, before the next database is reported.
    pub fn record(&mut self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_string(entry)
            .map_err(|e| Error::internal(format!("a journal entry does not serialise: {e}")))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| Error::io("write the journal", &self.path, e))
    }

    /// Makes the journal durable: at the end of the run.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("write the journal", &self.path, e))
    }

    /// A line a crash cut short would swallow the next one: end it.
    fn end_torn_line(&mut self) -> Result<()> {
        let text =
            std::fs::read(&self.path).map_err(|e| Error::io("read the journal", &self.path, e))?;
        if text.last().is_some_and(|&b| b != b'\n') {
            self.file
                .write_all(b"\n")
                .map_err(|e| Error::io("write the journal", &self.path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(database: &str, target: &str, outcome: Outcome) -> Entry {
        Entry {
            database: database.into(),
            from: None,
            to: Some(target.into()),
            target: target.into(),
            outcome,
            dropped: Vec::new(),
            ms: 1,
            error: None,
        }
    }

    #[test]
    fn a_database_is_done_when_its_newest_line_reached_the_same_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(&path, "v2").unwrap();
        journal
            .record(&entry("a", "v2", Outcome::Upgraded))
            .unwrap();
        journal
            .record(&entry("b", "v2", Outcome::Upgraded))
            .unwrap();
        journal.record(&entry("b", "v2", Outcome::Failed)).unwrap();
        journal
            .record(&entry("c", "v1", Outcome::AtTarget))
            .unwrap();
        journal.record(&entry("d", "v2", Outcome::Skipped)).unwrap();
        drop(journal);
        // A crash in the middle of a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"database\": \"e")
            .unwrap();
        let mut journal = Journal::open(&path, "v2").unwrap();
        let done: Vec<bool> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|d| journal.is_done(d))
            .collect();
        assert_eq!(done, [true, false, false, false, false]);
        journal
            .record(&entry("e", "v2", Outcome::AtTarget))
            .unwrap();
        drop(journal);
        assert!(Journal::open(&path, "v2").unwrap().is_done("e"));
    }
}
