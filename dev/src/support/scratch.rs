//! The disposable database: a fresh directory under the OS temp dir, removed however the
//! command ends.
//!
//! Normal returns and panics remove it through `Drop`; SIGINT, SIGTERM and SIGHUP through a
//! handler that removes every live scratch directory before exiting; SIGKILL cannot be
//! caught, so each directory's name carries its owner's pid and every run sweeps the
//! directories whose owner is gone. Nothing is ever created in the working tree.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use crate::error::{Error, Result};

/// Prefix of every scratch directory; the owner's pid follows it.
pub const PREFIX: &str = "dev-migrate-";

/// Directories (and files) to remove if a signal ends the process.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// Exit code after a termination signal, as shells report SIGINT.
const SIGNAL_EXIT_CODE: i32 = 130;

/// A scratch directory holding the disposable SQLite database.
#[derive(Debug)]
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// Creates a scratch directory under the temp dir (`TMPDIR` honoured) after sweeping what
    /// killed runs left there.
    pub fn create() -> Result<Scratch> {
        install_signal_handler();
        let tmp = std::env::temp_dir();
        sweep_orphans(&tmp);
        // Created and registered for removal with signals held off, so no signal can fall
        // between the two.
        let dir = uninterrupted(|| {
            let dir = tempfile::Builder::new()
                .prefix(&format!("{PREFIX}{}-", std::process::id()))
                .tempdir_in(&tmp)?;
            lock_live().push(dir.path().to_path_buf());
            Ok(dir)
        })
        .map_err(|e| {
            Error::io("create a scratch directory in", &tmp, e)
                .help("set TMPDIR to a writable directory")
        })?;
        Ok(Scratch { dir: Some(dir) })
    }

    /// The scratch directory.
    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("scratch dir lives until drop")
            .path()
    }

    /// The disposable database file inside the scratch directory.
    pub fn database(&self) -> PathBuf {
        self.path().join("scratch.sqlite3")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // The run is failing because a signal's cleanup removed this directory: let the
        // handler, not the error, end the process.
        stand_aside_while_exiting();
        if let Some(dir) = self.dir.take() {
            // With signals held off: exiting halfway through the removal would leave it.
            uninterrupted(|| {
                let path = dir.path().to_path_buf();
                lock_live().retain(|p| p != &path);
                // A failure to remove is left for the next run's sweep: the pid is then gone.
                let _ = dir.close();
            });
        }
    }
}

/// Whether `path` (absolute) names a file inside one of this run's scratch directories,
/// as written or through the links its directories resolve to: what a disposable database
/// may open.
pub fn is_inside_scratch(path: &Path) -> bool {
    if path
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return false;
    }
    lock_live().iter().filter(|dir| dir.is_dir()).any(|dir| {
        path.starts_with(dir) || dir.canonicalize().is_ok_and(|real| path.starts_with(real))
    })
}

/// Has a termination signal remove `path` (a file of this run's, such as its lock) too.
pub fn remove_on_signal(path: &Path) {
    install_signal_handler();
    lock_live().push(path.to_path_buf());
}

/// Undoes `remove_on_signal` once `path` is gone or no longer this run's.
pub fn keep_on_signal(path: &Path) {
    lock_live().retain(|p| p != path);
}

fn lock_live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn install_signal_handler() {
    HANDLER.call_once(|| {
        // Another handler already installed (an embedding program's) keeps precedence;
        // such runs rely on Drop and the sweep.
        let _ = ctrlc::set_handler(|| {
            if DRAINING.load(Ordering::SeqCst) && !STOPPING.swap(true, Ordering::SeqCst) {
                let _ = writeln!(
                    std::io::stderr(),
                    "stopping: no new database is started, and each running one stops after its current version (a second signal ends the run at once)"
                );
                return;
            }
            if DEFERRING.load(Ordering::SeqCst) {
                INTERRUPTED.store(true, Ordering::SeqCst);
                return;
            }
            exit_interrupted();
        });
    });
}

/// Set by `drain_on_signal`.
static DRAINING: AtomicBool = AtomicBool::new(false);
/// A signal asked a draining run to stop.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// For a run over many databases: from now on the first SIGINT, SIGTERM or SIGHUP does not
/// end the process but sets `stopping`, so that no new database is started, each running
/// one stops after its current version, and the run's journal and summary are written. A
/// second signal ends the process as usual.
pub fn drain_on_signal() {
    install_signal_handler();
    DRAINING.store(true, Ordering::SeqCst);
}

/// Whether a signal asked a draining run (`drain_on_signal`) to stop.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Set while a step that must finish whole runs (`uninterrupted`).
static DEFERRING: AtomicBool = AtomicBool::new(false);
/// A termination signal arrived while `DEFERRING`.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Set once a signal's cleanup has begun: the main thread, still running meanwhile, must
/// neither recreate what is being removed nor report the failures that removal causes.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Parks the calling thread for good when a signal's cleanup is under way: the handler ends
/// the process, with its own exit code, in a moment.
fn stand_aside_while_exiting() {
    while EXITING.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

fn exit_interrupted() -> ! {
    EXITING.store(true, Ordering::SeqCst);
    for path in lock_live().drain(..) {
        // The main thread may still be writing into a scratch directory: try again while
        // new files keep appearing in it.
        for _ in 0..20 {
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if removed.is_ok() || !path.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    let achieved = ACHIEVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let _ = match achieved {
        Some(what) => writeln!(
            std::io::stderr(),
            "interrupted after it {what}; the disposable database was removed"
        ),
        None => writeln!(
            std::io::stderr(),
            "interrupted: the disposable database was removed"
        ),
    };
    std::process::exit(SIGNAL_EXIT_CODE);
}

/// What the run has done for good, for the report a signal cuts short.
static ACHIEVED: Mutex<Option<String>> = Mutex::new(None);

/// Records what the run has done for good (`wrote versions/X and its records`), which a
/// signal's report then says instead of implying that nothing happened.
pub fn achieved(what: String) {
    *ACHIEVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(what);
}

/// Runs `step` with SIGINT, SIGTERM and SIGHUP held off: a signal that arrives meanwhile ends
/// the process (cleaning up as usual) only once `step` is done. For the renames that make a
/// new version and its records visible together; SIGKILL is left to `write::recover`.
pub fn uninterrupted<T>(step: impl FnOnce() -> T) -> T {
    install_signal_handler();
    stand_aside_while_exiting();
    DEFERRING.store(true, Ordering::SeqCst);
    let outcome = step();
    DEFERRING.store(false, Ordering::SeqCst);
    if INTERRUPTED.swap(false, Ordering::SeqCst) {
        exit_interrupted();
    }
    outcome
}

/// Removes scratch directories in `tmp` whose owning process no longer exists.
pub fn sweep_orphans(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = owner_pid(&name.to_string_lossy()) else {
            continue;
        };
        if !process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in a scratch directory name `dev-migrate-<pid>-<random>`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, random) = rest.split_once('-')?;
    if random.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` exists: what a run leaves behind (a scratch directory, a partial
/// file, a lock) is stale once its owner is gone.
#[cfg(unix)]
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence only; EPERM means it exists under another user.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether process `pid` exists; without a portable check, assumed so.
#[cfg(not(unix))]
pub fn process_alive(_pid: u32) -> bool {
    // Without a portable liveness check, never remove another run's directory.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_owner_pid_only_from_scratch_names() {
        assert_eq!(owner_pid("dev-migrate-1234-abc"), Some(1234));
        assert_eq!(owner_pid("dev-migrate-1234-"), None);
        assert_eq!(owner_pid("dev-migrate-x-abc"), None);
        assert_eq!(owner_pid("other-1234-abc"), None);
    }

    #[test]
    fn sweep_removes_dead_owners_and_keeps_live_ones() {
        let tmp = tempfile::tempdir().unwrap();
        // pid_max on Linux is at most 2^22, so this pid cannot exist.
        let dead = tmp.path().join(format!("{PREFIX}99999999-aaaa"));
        let live = tmp
            .path()
            .join(format!("{PREFIX}{}-bbbb", std::process::id()));
        let unrelated = tmp.path().join("someone-else");
        for dir in [&dead, &live, &unrelated] {
            std::fs::create_dir(dir).unwrap();
        }
        sweep_orphans(tmp.path());
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(unrelated.exists());
    }

    #[test]
    fn scratch_is_removed_on_drop_and_on_panic() {
        let scratch = Scratch::create().unwrap();
        let path = scratch.path().to_path_buf();
        std::fs::write(scratch.database(), b"x").unwrap();
        drop(scratch);
        assert!(!path.exists());

        let path = std::panic::catch_unwind(|| {
            let scratch = Scratch::create().unwrap();
            let path = scratch.path().to_path_buf();
            std::panic::panic_any(path);
        })
        .unwrap_err()
        .downcast::<PathBuf>()
        .unwrap();
        assert!(!path.exists());
    }
}
