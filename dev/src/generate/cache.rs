//! Snapshots of head, so a run replays only the versions added since the last one.
//!
//! A snapshot is the disposable database file right after replay. In a cargo project it is
//! in `dev-cache/` of the directory cargo builds into, found as cargo finds it, so a
//! `CARGO_TARGET_DIR` or `build.target-dir` that moves the build output out of the tree
//! moves the cache with it. A Diesel project that is no cargo project keeps it in the user's
//! cache directory (`dev-migrate/` of `$XDG_CACHE_HOME`, `~/Library/Caches`, `%LOCALAPPDATA%`),
//! one directory per project: nothing is ever written into its tree. Its key hashes the whole history up to that version (the
//! chain of `integrity`, over every file of every version) with the tool's and SQLite's
//! versions, so any edit, removal or reordering misses. A snapshot is trusted only when its
//! bytes match the checksum stored beside it and its migrations table lists exactly the
//! versions its key stands for; anything else is deleted and the history is replayed.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::history::checksums::{sha256_hex, Link};

/// How many snapshots to keep; older ones are removed.
const KEEP: usize = 4;

/// Versions replayed on top of a snapshot at most; further back, a full in-memory replay is
/// faster than committing each version to the file.
const MAX_REPLAY_ON_SNAPSHOT: usize = 64;

/// The snapshot store of one project.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// Whether the versions read with it are the project's own files, whose metadata the
    /// hash index records; not for a copy of them (`check --staged`).
    own_files: bool,
}

impl Cache {
    /// The store of the project at `root`: in the target directory of its cargo workspace,
    /// else in the user's cache directory.
    pub fn for_root(root: &Path) -> Cache {
        let cwd = std::env::current_dir().unwrap_or_else(|_| root.to_path_buf());
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
        let target = target_dir(
            root,
            |name| std::env::var_os(name),
            &cwd,
            cargo_home.as_deref(),
        );
        Cache {
            dir: match target {
                Some(target) => target.join("dev-cache"),
                None => user_cache(root),
            },
            own_files: true,
        }
    }

    /// The store of the project at `root`, for a copy of its files (git's index, which
    /// `check --staged` checks out): snapshots and kept values are keyed by content and
    /// serve it, but the copy's file metadata is not the tree's, so the hash index neither
    /// serves the copy nor records it.
    pub fn for_copy_of(root: &Path) -> Cache {
        Cache {
            own_files: false,
            ..Cache::for_root(root)
        }
    }

    /// The key of every prefix of a history, from its `checksums::links`: key i stands for
    /// versions 0..=i.
    pub fn keys(links: &[Link]) -> Vec<String> {
        links.iter().map(key_of).collect()
    }

    /// The key of the whole history (the last of `keys`), alone; `None` for no version.
    pub fn head_key(links: &[Link]) -> Option<String> {
        links.last().map(key_of)
    }

    /// Where `checksums::index` keeps what each version's files hashed to; `None` for a
    /// copy of the project's files.
    pub fn hash_index(&self) -> Option<PathBuf> {
        self.own_files.then(|| self.dir.join("versions.index"))
    }

    /// Where head's tables are kept, read, for the snapshot they were read from
    /// (`support::kept`).
    pub fn kept_heads(&self) -> PathBuf {
        self.dir.join("heads")
    }

    /// Where `schema_rs::kept` keeps the schema files parsed before.
    pub fn parsed_schema_files(&self) -> PathBuf {
        self.dir.join("schema-rs")
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
            if self.restore_exactly(key, target) {
                return Some(index + 1);
            }
        }
        None
    }

    /// Copies the snapshot of `key` into `target` if there is one and its bytes verify;
    /// one that does not verify is deleted.
    pub fn restore_exactly(&self, key: &str, target: &Path) -> bool {
        let Ok(bytes) = fs::read(self.snapshot(key)) else {
            return false;
        };
        let expected = fs::read_to_string(self.checksum(key)).unwrap_or_default();
        if sha256_hex(&bytes) != expected.trim() || fs::write(target, &bytes).is_err() {
            self.forget(key);
            return false;
        }
        true
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

/// The key of the history up to and including the version of `link`: its chain hash, with
/// the tool's and SQLite's versions.
fn key_of(link: &Link) -> String {
    let salt = format!(
        "dev {} sqlite {} snapshot 1",
        env!("CARGO_PKG_VERSION"),
        rusqlite::version()
    );
    sha256_hex(format!("{salt}\n{}", link.chain).as_bytes())
}

/// The cache of a project that is no cargo project: a directory of its own (named by the
/// hash of its path) in the user's cache directory, else in the temp directory.
fn user_cache(root: &Path) -> PathBuf {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let name = sha256_hex(root.to_string_lossy().as_bytes());
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("dev-migrate")
        .join(&name[..16])
}

/// Where cargo builds the workspace at `root`, by cargo's rules: `CARGO_TARGET_DIR`, then
/// `CARGO_BUILD_TARGET_DIR` (both relative to the current directory `cwd`), then
/// `build.target-dir` from the nearest `.cargo/config.toml` at or above `root`, then from
/// `cargo_home`'s (relative to the directory holding `.cargo/`), else `target/` of the
/// workspace. `None` when `root` is in no cargo project: cargo builds nothing there.
fn target_dir(
    root: &Path,
    env: impl Fn(&str) -> Option<OsString>,
    cwd: &Path,
    cargo_home: Option<&Path>,
) -> Option<PathBuf> {
    let workspace = cargo_root(root)?;
    if let Some(dir) = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))
    {
        return Some(cwd.join(dir));
    }
    let configs = root
        .ancestors()
        .map(|dir| (dir.join(".cargo"), dir.to_path_buf()))
        .chain(cargo_home.map(|home| (home.to_path_buf(), home.to_path_buf())));
    for (config_dir, base) in configs {
        // Cargo reads the file without extension when both exist.
        let Some(text) = ["config", "config.toml"]
            .iter()
            .find_map(|name| fs::read_to_string(config_dir.join(name)).ok())
        else {
            continue;
        };
        let configured = toml::from_str::<toml::Table>(&text).ok().and_then(|table| {
            table
                .get("build")?
                .get("target-dir")?
                .as_str()
                .map(PathBuf::from)
        });
        if let Some(dir) = configured {
            return Some(base.join(dir));
        }
    }
    // A workspace member's build output is the workspace's.
    Some(workspace.join("target"))
}

/// The directory cargo puts `target/` in for a project at `root`: the nearest workspace
/// (a Cargo.toml with `[workspace]`) at or above it, else the nearest package; `None` outside
/// any cargo project.
fn cargo_root(root: &Path) -> Option<PathBuf> {
    let mut nearest = None;
    for dir in root.ancestors() {
        let Ok(text) = fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        if toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.contains_key("workspace")) {
            return Some(dir.to_path_buf());
        }
        nearest.get_or_insert_with(|| dir.to_path_buf());
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn target_dir_follows_cargo_precedence() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home/.cargo");
        let workspace = tmp.path().join("work/app");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(workspace.join(".cargo")).unwrap();
        let cwd = tmp.path().join("cwd");
        let at = |env: &dyn Fn(&str) -> Option<OsString>| {
            target_dir(&workspace, env, &cwd, Some(&home)).expect("a cargo project")
        };

        let everywhere = |_: &str| Some(OsString::from("/abs"));
        assert_eq!(
            target_dir(&workspace, everywhere, &cwd, Some(&home)),
            None,
            "no cargo project, no target directory"
        );
        fs::write(workspace.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        assert_eq!(at(&no_env), workspace.join("target"));
        fs::write(
            tmp.path().join("work/Cargo.toml"),
            "[workspace]\nmembers = [\"app\"]\n",
        )
        .unwrap();
        assert_eq!(
            at(&no_env),
            tmp.path().join("work/target"),
            "a member's target is the workspace's"
        );
        fs::remove_file(tmp.path().join("work/Cargo.toml")).unwrap();

        fs::write(
            home.join("config.toml"),
            "[build]\ntarget-dir = \"/shared/t\"\n",
        )
        .unwrap();
        assert_eq!(at(&no_env), Path::new("/shared/t"));

        // A config nearer the workspace wins over the home one, relative to its `.cargo/`'s
        // parent; a config without target-dir is skipped.
        fs::create_dir_all(tmp.path().join("work/.cargo")).unwrap();
        fs::write(
            tmp.path().join("work/.cargo/config.toml"),
            "[build]\ntarget-dir = \"out\"\n",
        )
        .unwrap();
        fs::write(
            workspace.join(".cargo/config.toml"),
            "[alias]\nx = \"run\"\n",
        )
        .unwrap();
        assert_eq!(at(&no_env), tmp.path().join("work/out"));

        // The legacy file without extension is read when both exist, as cargo does.
        fs::write(
            workspace.join(".cargo/config"),
            "[build]\ntarget-dir = \"legacy\"\n",
        )
        .unwrap();
        assert_eq!(at(&no_env), workspace.join("legacy"));

        let build_env = |name: &str| (name == "CARGO_BUILD_TARGET_DIR").then(|| "b".into());
        assert_eq!(at(&build_env), cwd.join("b"));
        let both = |name: &str| match name {
            "CARGO_TARGET_DIR" => Some("/abs".into()),
            _ => Some("b".into()),
        };
        assert_eq!(at(&both), Path::new("/abs"));
        let relative = |name: &str| (name == "CARGO_TARGET_DIR").then(|| "rel".into());
        assert_eq!(at(&relative), cwd.join("rel"));
    }
}
