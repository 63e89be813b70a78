//! Snapshots of head, so a run replays only the versions added since the last one.
//!
//! A snapshot is the disposable database file right after replay, under `target/dev-cache/`
//! (never in the working tree). Its key hashes the whole history up to that version (the
//! chain of `integrity`, over every file of every version) with the tool's and SQLite's
//! versions, so any edit, removal or reordering misses. A snapshot is trusted only when its
//! bytes match the checksum stored beside it and its migrations table lists exactly the
//! versions its key stands for; anything else is deleted and the history is replayed.

use std::fs;
use std::path::{Path, PathBuf};

use crate::integrity::sha256_hex;

/// How many snapshots to keep; older ones are removed.
const KEEP: usize = 4;

/// Versions replayed on top of a snapshot at most; further back, a full in-memory replay is
/// faster than committing each version to the file.
const MAX_REPLAY_ON_SNAPSHOT: usize = 64;

/// The snapshot store of one project.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The store under the project's `target/` (or `CARGO_TARGET_DIR`).
    pub fn for_root(root: &Path) -> Cache {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_absolute() { t } else { root.join(t) })
            .unwrap_or_else(|| root.join("target"));
        Cache {
            dir: target.join("dev-cache"),
        }
    }

    /// The key of every prefix of a history, from its `integrity::links`: key i stands for
    /// versions 0..=i.
    pub fn keys(links: &[(String, String)]) -> Vec<String> {
        let salt = format!(
            "dev {} sqlite {} snapshot 1",
            env!("CARGO_PKG_VERSION"),
            rusqlite::version()
        );
        links
            .iter()
            .map(|(_, chain)| sha256_hex(format!("{salt}\n{chain}").as_bytes()))
            .collect()
    }

    fn snapshot(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.sqlite3"))
    }

    fn checksum(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.sha256"))
    }

    /// Copies the newest snapshot whose bytes verify into `target` and returns how many
    /// versions it holds. Entries that do not verify are deleted.
    pub fn restore(&self, keys: &[String], target: &Path) -> Option<usize> {
        for (index, key) in keys
            .iter()
            .enumerate()
            .rev()
            .take(MAX_REPLAY_ON_SNAPSHOT + 1)
        {
            let Ok(bytes) = fs::read(self.snapshot(key)) else {
                continue;
            };
            let expected = fs::read_to_string(self.checksum(key)).unwrap_or_default();
            if sha256_hex(&bytes) != expected.trim() || fs::write(target, &bytes).is_err() {
                self.forget(key);
                continue;
            }
            return Some(index + 1);
        }
        None
    }

    /// Deletes an entry that turned out not to be what its key says.
    pub fn forget(&self, key: &str) {
        let _ = fs::remove_file(self.snapshot(key));
        let _ = fs::remove_file(self.checksum(key));
    }

    /// Stores `database` as the snapshot for `key`, unless one is there; a failure to store
    /// only costs the next run its shortcut.
    pub fn store(&self, key: &str, database: &Path) {
        if self.snapshot(key).is_file() || fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let Ok(bytes) = fs::read(database) else {
            return;
        };
        let partial = self.dir.join(format!(".{key}.{}", std::process::id()));
        let stored = fs::write(&partial, &bytes)
            .and_then(|()| fs::write(self.checksum(key), sha256_hex(&bytes)))
            .and_then(|()| fs::rename(&partial, self.snapshot(key)));
        if stored.is_err() {
            let _ = fs::remove_file(&partial);
            self.forget(key);
            return;
        }
        self.evict();
    }

    /// Keeps the newest `KEEP` snapshots.
    fn evict(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut snapshots: Vec<(std::time::SystemTime, String)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let key = name.strip_suffix(".sqlite3")?.to_owned();
                Some((e.metadata().ok()?.modified().ok()?, key))
            })
            .collect();
        snapshots.sort();
        let excess = snapshots.len().saturating_sub(KEEP);
        for (_, key) in snapshots.into_iter().take(excess) {
            self.forget(&key);
        }
    }
}
