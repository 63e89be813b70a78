//! Writing project files so that nobody ever sees half of one: each is written and flushed
//! under a hidden name beside it (`.<name>.partial-<pid>`), then renamed over it, and a
//! later run removes what a killed one left. Nothing is written through a symbolic link.
//! Reading many small files costs few system calls (`read_into`).

use std::fs;
use std::io::Read;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `text` to `path` and flushes it to disk.
pub fn write_durably(path: &Path, text: &str) -> Result<()> {
    let mut file = fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", path, e))
}

/// A project file rewritten together with a new version: `versions/dev.sum`, the schema
/// diagram. Nobody may see the version without its record, or the record without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The file to replace.
    pub path: PathBuf,
    /// Its whole new content.
    pub text: String,
}

/// The hidden name of what process `pid` is writing for `name`, beside it.
pub fn partial(dir: &Path, name: &str, pid: u32) -> PathBuf {
    dir.join(format!(".{name}.partial-{pid}"))
}

/// Rewrites project files (no new version), each whole or not at all: written under a
/// hidden name beside it, flushed, then renamed over it. For `rehash` and `diagram`.
pub fn replace(records: &[Record]) -> Result<()> {
    let pid = std::process::id();
    for record in records {
        let partial = partial_of(&record.path, pid);
        let written = write_durably(&partial, &record.text).and_then(|()| {
            crate::support::scratch::uninterrupted(|| fs::rename(&partial, &record.path))
                .map_err(|e| Error::io("rename into place", &record.path, e))
        });
        if let Err(err) = written {
            let _ = fs::remove_file(&partial);
            return Err(err);
        }
    }
    Ok(())
}

/// The hidden name beside `path` that process `pid` writes it under.
pub fn partial_of(path: &Path, pid: u32) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    partial(dir, &name, pid)
}

/// Flushes a directory's entries, so the renames in it survive a power cut.
pub fn sync_dir(dir: &Path) {
    // Durability of the renames themselves; a failure here loses nothing already visible.
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// The entries of `dir` that a process no longer running left: those whose name `pid_of`
/// reads a pid from, with that pid.
pub fn left_by_dead_processes(
    dir: &Path,
    pid_of: impl Fn(&str) -> Option<u32>,
) -> Vec<(PathBuf, u32)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = pid_of(&entry.file_name().to_string_lossy())?;
            (!crate::support::scratch::process_alive(pid)).then(|| (entry.path(), pid))
        })
        .collect()
}

/// Removes `.<name>.partial-<pid>` entries whose process is gone.
pub fn sweep_partials(dir: &Path) {
    let partial_pid = |name: &str| {
        name.strip_prefix('.')
            .and_then(|n| n.rsplit_once(".partial-"))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
    };
    for (path, _) in left_by_dead_processes(dir, partial_pid) {
        let _ = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
    }
}

/// Refuses to write `path` (shown to the user as `shown`) when it is a symbolic link, which
/// could carry the write to any file on the machine.
pub fn refuse_link(path: &Path, shown: &str) -> Result<()> {
    if !fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(());
    }
    let target = fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_default();
    Err(Error::input(format!(
        "`{shown}` is a symbolic link (to `{target}`); dev does not write through links"
    ))
    .help(format!(
        "replace `{shown}` with a regular file (e.g. copy the target over it)"
    )))
}

/// Reads the file at `path` into `bytes`, replacing what it held. A version's files are
/// small and a history has thousands: each is one open and two reads, with no `stat` for its
/// size (which `fs::read` and `File::read_to_end` both ask first).
pub fn read_into(path: &Path, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    bytes.clear();
    let mut file = fs::File::open(path)?;
    let mut chunk = [0; 8192];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A file's inode number, which a file written anew under the same name does not keep; 0
/// where the system has none to give.
#[cfg(unix)]
pub fn inode(metadata: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    metadata.ino()
}

/// A file's inode number; 0 where the system has none to give.
#[cfg(not(unix))]
pub fn inode(_metadata: &fs::Metadata) -> u64 {
    0
}
