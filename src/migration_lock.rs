//! One migration at a time per database, between processes: the `dev` tool's `upgrade`,
//! `downgrade`, `redo` and `stamp`, and [`crate::open`], all take this lock before they read
//! which versions a database applied and hold it until they are done. A second process waits,
//! then finds the versions the first applied, so no version runs twice or runs without being
//! recorded.
//!
//! SQLite's own locks cannot do this: a migration that manages its own transaction
//! (`run_in_transaction = false`) releases them between its SQL and its record. The lock is
//! an advisory lock (`flock`, `LockFileEx`) on a file beside the database, `<database>-migrate.lock`,
//! which its holder removes before letting go (and which a waiter that finds it removed
//! takes again), so no file is left beside the database.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The lock file of the database at `database`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push("-migrate.lock");
    database.with_file_name(name)
}

/// Runs `migrate` holding the migration lock of `database`. When another process holds it,
/// `waiting` is called once, and the call waits for it.
pub fn with_migration_lock<T>(
    database: &Path,
    waiting: impl FnOnce(),
    migrate: impl FnOnce() -> T,
) -> io::Result<T> {
    // An in-memory database (or a URI, which names no file by its path) is this process's.
    let name = database.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
        return Ok(migrate());
    }
    let path = lock_path(database);
    let mut waiting = Some(waiting);
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let mut lock = fd_lock::RwLock::new(file);
        let busy = match lock.try_write() {
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            Err(e) => return Err(e),
        };
        if busy {
            if let Some(waiting) = waiting.take() {
                waiting();
            }
        }
        let guard = lock.write()?;
        // The holder before removed the file on its way out: this lock is on a file nobody
        // else will open, so take the one the path names now.
        if !still_named(&path, &guard) {
            continue;
        }
        let outcome = migrate();
        let _ = std::fs::remove_file(&path);
        drop(guard);
        return Ok(outcome);
    }
}

/// Whether `path` still names the open `file`.
#[cfg(unix)]
fn still_named(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(named), Ok(open)) => named.dev() == open.dev() && named.ino() == open.ino(),
        _ => false,
    }
}

/// Whether `path` still names the open `file`: a file open here cannot be removed, so it is.
#[cfg(not(unix))]
fn still_named(path: &Path, _file: &File) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn holders_follow_one_another_and_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (db, inside, most) = (db.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    with_migration_lock(
                        &db,
                        || {},
                        || {
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            inside.fetch_sub(1, Ordering::SeqCst);
                        },
                    )
                    .unwrap();
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(!lock_path(&db).exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
