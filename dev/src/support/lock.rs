//! One writer per project. Two `generate` runs at once would both read the same head, pick
//! versions from the same clock, and write two directories (or one on top of the other's
//! dev.sum). Commands that write into the project hold an exclusive lock on
//! `versions/.dev.lock` for their whole run; a second one waits, saying who holds it, and
//! then works on top of what the first one wrote.
//!
//! The lock is `flock(2)`, so the kernel releases it when its holder dies, even by SIGKILL;
//! the file is removed on release, and a run that finds it already locked re-checks, once it
//! holds the lock, that the file it locked is still the one at the path.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The lock file, hidden inside the migrations directory (Diesel ignores dot entries).
pub const LOCK_FILE: &str = ".dev.lock";

/// How long a run waits for another one before giving up.
const PATIENCE: Duration = Duration::from_secs(120);

/// A held project lock; released (and its file removed) on drop.
#[derive(Debug)]
pub struct ProjectLock {
    path: PathBuf,
    file: Option<File>,
}

impl ProjectLock {
    /// Takes the lock of the project whose migrations live in `versions_dir`, waiting (and
    /// saying so through `report`) while another run holds it.
    pub fn acquire(versions_dir: &Path, report: &mut dyn FnMut(String)) -> Result<ProjectLock> {
        std::fs::create_dir_all(versions_dir)
            .map_err(|e| Error::io("create the migrations directory", versions_dir, e))?;
        let path = versions_dir.join(LOCK_FILE);
        let started = Instant::now();
        let mut told = false;
        loop {
            // Opening, locking and registering the file for removal on a signal happen with
            // signals held off: a signal in between would leave a lock file behind.
            let attempt = crate::support::scratch::uninterrupted(
                || -> Result<std::result::Result<File, File>> {
                    let mut file = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .open(&path)
                        .map_err(|e| {
                            Error::io("create the lock file", &path, e)
                                .help(format!("make `{}` writable", versions_dir.display()))
                        })?;
                    if !try_lock(&file) {
                        return Ok(Err(file));
                    }
                    if !same_file(&file, &path) {
                        // The holder removed it between our open and our lock: take the new one.
                        return Ok(Err(file));
                    }
                    file.set_len(0)
                        .and_then(|()| file.rewind())
                        .and_then(|()| write!(file, "{}", std::process::id()))
                        .map_err(|e| Error::io("write", &path, e))?;
                    crate::support::scratch::remove_on_signal(&path);
                    Ok(Ok(file))
                },
            )?;
            let mut file = match attempt {
                Ok(file) => {
                    return Ok(ProjectLock {
                        path,
                        file: Some(file),
                    })
                }
                Err(file) => file,
            };
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            if !told {
                report(format!(
                    "waiting for another dev run (pid {holder}) that is writing `{}`",
                    versions_dir.display()
                ));
                told = true;
            }
            if started.elapsed() > PATIENCE {
                return Err(Error::input(format!(
                    "`{}` has been locked by another dev run (pid {holder}) for over {} seconds",
                    versions_dir.display(),
                    PATIENCE.as_secs()
                ))
                .help("wait for that run to finish, or stop it; its lock goes with it"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Remove first, unlock second: a waiter that locked the old file sees it is gone.
        let _ = std::fs::remove_file(&self.path);
        crate::support::scratch::keep_on_signal(&self.path);
        drop(self.file.take());
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this process owns.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> bool {
    true
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProjectLock::acquire(dir.path(), &mut |_| {}).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let versions = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let mut said = Vec::new();
            let lock = ProjectLock::acquire(&versions, &mut |line| said.push(line)).unwrap();
            tx.send(()).unwrap();
            drop(lock);
            said
        });
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        drop(first);
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let said = waiter.join().unwrap();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains(&format!("pid {}", std::process::id())));
        assert!(!dir.path().join(LOCK_FILE).exists());
    }
}
