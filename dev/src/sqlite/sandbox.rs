//! Confinement of the SQL this process runs on disposable databases.
//!
//! `check` runs every migration of a pull request, which may come from anybody. Every
//! connection the tool opens in memory or on a file inside one of its scratch directories is
//! confined as SQLite opens it (an auto-extension, `ffi::confine_new_connections`, which
//! asks this module's policy):
//!
//! - an authorizer refuses every way SQL can reach another file or load code: `ATTACH` of a
//!   file outside the scratch directories (and `VACUUM INTO` one, which attaches its
//!   target), a `file:` URI (which may name another VFS), `load_extension()`, and the
//!   pragmas that move SQLite's temporary files;
//! - a progress handler ends any statement that runs longer than the time limit (a trigger's
//!   statements count as part of the statement that fired them), and any migration file
//!   whose statements together do (`migration`);
//! - SQLite's heap in this process is capped (`sqlite3_hard_heap_limit64`), so a migration
//!   that allocates without end fails with "out of memory" instead of taking the machine.
//!
//! A connection on any other file (the database `upgrade` moves, which the user chose to run
//! their own migrations on) is left as the application would open it. What was refused is
//! kept for the error that reports the failed migration (`take_breach`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::support::scratch::is_inside_scratch;

use super::ffi;

/// How far a disposable database's SQL may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest one statement may run.
    pub statement_time: Duration,
    /// SQLite's heap in this process, in bytes.
    pub heap_bytes: i64,
}

impl Default for Limits {
    /// Generous: five minutes a statement, 4 GiB of heap.
    fn default() -> Limits {
        Limits {
            statement_time: Duration::from_secs(300),
            heap_bytes: 4 << 30,
        }
    }
}

/// What a confined connection was stopped from doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// It asked to reach a file outside the scratch directories, or to load code; the text
    /// says what (`ATTACH of '/tmp/x.db'`).
    Outside(String),
    /// A statement ran longer than the limit.
    TooLong(Duration),
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Breach::Outside(what) => write!(
                f,
                "{what} would reach outside the disposable database, which migrations run by this tool cannot"
            ),
            Breach::TooLong(limit) => write!(
                f,
                "it ran longer than the time limit of {} s and was stopped; it may never end",
                limit.as_secs_f64()
            ),
        }
    }
}

static STATEMENT_MILLIS: AtomicU64 = AtomicU64::new(300_000);
/// When the migration `migration` runs started (`ffi::now_millis`, plus one so that 0 means
/// none).
static MIGRATION_STARTED: AtomicU64 = AtomicU64::new(0);
static BREACH: Mutex<Option<Breach>> = Mutex::new(None);
/// Set once `install` has confined new connections: only then does `touching` know.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The tables confined connections wrote or changed while `touching` runs, lower-cased.
static TOUCHED: Mutex<Option<BTreeSet<String>>> = Mutex::new(None);

/// Confines every connection this process opens from now on on a disposable database, and
/// caps SQLite's heap. Called once, before any connection opens.
pub fn install(limits: Limits) {
    let millis = u64::try_from(limits.statement_time.as_millis()).unwrap_or(u64::MAX);
    STATEMENT_MILLIS.store(millis.max(1), Ordering::SeqCst);
    ffi::limit_heap(limits.heap_bytes);
    ffi::confine_new_connections(ffi::Confinement {
        confines,
        refusal,
        refused: |what| record(Breach::Outside(what)),
        statement_limit,
        migration_started: || match MIGRATION_STARTED.load(Ordering::SeqCst) {
            0 => None,
            started => Some(started),
        },
        stopped: |limit| record(Breach::TooLong(limit)),
    });
    INSTALLED.store(true, Ordering::SeqCst);
}

/// Runs `run`, and says which tables the statements of confined connections wrote to,
/// altered, created or dropped meanwhile (lower-cased), as SQLite's authorizer names them
/// while it prepares each statement: the writes of the triggers they fire and of the
/// foreign-key actions they cause (`ON DELETE CASCADE`) included. `None` when connections
/// are not confined, so there is no authorizer to ask.
pub fn touching<T>(run: impl FnOnce() -> T) -> (T, Option<BTreeSet<String>>) {
    if !INSTALLED.load(Ordering::SeqCst) {
        return (run(), None);
    }
    *touched() = Some(BTreeSet::new());
    let outcome = run();
    let found = touched().take();
    (outcome, found)
}

/// What two runs of `touching` found together: `None` when either could not say.
pub fn together(
    first: Option<BTreeSet<String>>,
    second: Option<BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    let (mut all, more) = (first?, second?);
    all.extend(more);
    Some(all)
}

fn touched() -> std::sync::MutexGuard<'static, Option<BTreeSet<String>>> {
    TOUCHED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Notes the table `action` writes or changes, while `touching` runs.
fn note_touched(action: i32, first: Option<&str>, second: Option<&str>) {
    use libsqlite3_sys as ffi_codes;
    let table = match action {
        ffi_codes::SQLITE_INSERT
        | ffi_codes::SQLITE_UPDATE
        | ffi_codes::SQLITE_DELETE
        | ffi_codes::SQLITE_CREATE_TABLE
        | ffi_codes::SQLITE_DROP_TABLE => first,
        ffi_codes::SQLITE_ALTER_TABLE
        | ffi_codes::SQLITE_CREATE_INDEX
        | ffi_codes::SQLITE_DROP_INDEX
        | ffi_codes::SQLITE_CREATE_TRIGGER
        | ffi_codes::SQLITE_DROP_TRIGGER => second,
        _ => return,
    };
    if let (Some(table), Some(set)) = (table, touched().as_mut()) {
        set.insert(table.to_ascii_lowercase());
    }
}

/// Runs `run` (one migration file, up or down) with the time limit holding for all of its
/// statements together: a migration of many long statements ends as surely as one endless
/// statement.
pub fn migration<T>(run: impl FnOnce() -> T) -> T {
    MIGRATION_STARTED.store(ffi::now_millis().max(1), Ordering::SeqCst);
    let outcome = run();
    MIGRATION_STARTED.store(0, Ordering::SeqCst);
    outcome
}

/// What the last refusal or stop was, once: for the error of the migration it failed.
pub fn take_breach() -> Option<Breach> {
    lock().take()
}

/// Whether a refusal or stop is recorded and not yet taken.
pub fn breached() -> bool {
    lock().is_some()
}

/// The longest one statement of a confined connection may run.
fn statement_limit() -> Duration {
    Duration::from_millis(STATEMENT_MILLIS.load(Ordering::SeqCst))
}

/// Remembers why a confined connection was stopped.
fn record(breach: Breach) {
    *lock() = Some(breach);
}

fn lock() -> std::sync::MutexGuard<'static, Option<Breach>> {
    BREACH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a connection whose main database is `filename` (empty in memory, `None` when
/// not UTF-8) is confined: in memory, or inside a scratch directory. A name that cannot be
/// read is confined too.
fn confines(filename: Option<&str>) -> bool {
    match filename {
        None => true,
        Some(name) => name.is_empty() || is_inside_scratch(Path::new(name)),
    }
}

/// Why the authorizer refuses `action` (SQLite's action code, with its first two
/// arguments), or `None` when it may run.
fn refusal(action: i32, first: Option<&str>, second: Option<&str>) -> Option<String> {
    note_touched(action, first, second);
    const ATTACH: i32 = libsqlite3_sys::SQLITE_ATTACH;
    const FUNCTION: i32 = libsqlite3_sys::SQLITE_FUNCTION;
    const PRAGMA: i32 = libsqlite3_sys::SQLITE_PRAGMA;
    match action {
        ATTACH => {
            let file = first.unwrap_or_default();
            (!attachable(file)).then(|| format!("ATTACH of '{file}'"))
        }
        FUNCTION if second.is_some_and(|f| f.eq_ignore_ascii_case("load_extension")) => {
            Some("load_extension()".to_owned())
        }
        PRAGMA
            if first.is_some_and(|p| {
                ["temp_store_directory", "data_store_directory"]
                    .iter()
                    .any(|moved| p.eq_ignore_ascii_case(moved))
            }) =>
        {
            Some(format!("PRAGMA {}", first.unwrap_or_default()))
        }
        _ => None,
    }
}

/// A file `ATTACH` may open: a temporary or in-memory database, or a file inside a scratch
/// directory named by its path (relative ones from where the process runs).
fn attachable(file: &str) -> bool {
    if file.is_empty() || file == ":memory:" {
        return true;
    }
    if file
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
    {
        return false;
    }
    std::path::absolute(file).is_ok_and(|path| is_inside_scratch(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACH: i32 = libsqlite3_sys::SQLITE_ATTACH;

    #[test]
    fn only_temporary_and_in_memory_databases_attach_outside_a_scratch_directory() {
        assert_eq!(refusal(ATTACH, Some(""), None), None);
        assert_eq!(refusal(ATTACH, Some(":memory:"), None), None);
        for outside in [
            "/tmp/x/evil.db",
            "evil.db",
            "file:/tmp/x.db?vfs=unix",
            "FILE:x.db",
        ] {
            assert_eq!(
                refusal(ATTACH, Some(outside), None),
                Some(format!("ATTACH of '{outside}'")),
                "{outside}"
            );
        }
    }

    #[test]
    fn loading_code_and_moving_temporary_files_are_refused_in_any_case() {
        let function = libsqlite3_sys::SQLITE_FUNCTION;
        let pragma = libsqlite3_sys::SQLITE_PRAGMA;
        assert!(refusal(function, None, Some("LOAD_EXTENSION")).is_some());
        assert!(refusal(function, None, Some("length")).is_none());
        assert!(refusal(pragma, Some("Temp_Store_Directory"), None).is_some());
        assert!(refusal(pragma, Some("journal_mode"), None).is_none());
    }
}
