//! Every unsafe call into SQLite, each with the reason it is sound. The rest of the tool
//! reaches SQLite through rusqlite and Diesel.

use std::ffi::CString;

/// Process-wide SQLite settings, before any connection opens: memory statistics on, as
/// the heap limit of `sandbox` needs them (SQLite enforces `sqlite3_hard_heap_limit64`
/// only while it counts).
pub fn configure_sqlite() {
    // SAFETY: sqlite3_config is called before SQLite initialises (no connection is open yet
    // in this process); if it already has, SQLite refuses with SQLITE_MISUSE and nothing
    // changes.
    unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
            1 as std::ffi::c_int,
        );
    }
}

/// Configures SQLite for a fleet's threads, before it initialises: each connection is used
/// by one thread only, so none needs a mutex of its own; and no allocation statistics,
/// which take a process-wide mutex at every allocation (no heap cap without them: a fleet
/// runs the user's own versions on their own databases, which are never confined).
pub fn configure_for_threads() {
    // SAFETY: as in `configure_sqlite`: before SQLite initialises, or refused with
    // SQLITE_MISUSE, changing nothing.
    unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
            0 as std::ffi::c_int,
        );
        libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD);
    }
}

/// Whether SQLite's own tokenizer sees `sql` as ending in a complete statement.
pub fn is_complete(sql: &str) -> bool {
    let Ok(c) = CString::new(sql) else {
        return false;
    };
    // SAFETY: sqlite3_complete only reads the NUL-terminated string.
    unsafe { libsqlite3_sys::sqlite3_complete(c.as_ptr()) != 0 }
}

/// Whether SQLite reserves `name` as a keyword, so it must be quoted as an identifier.
pub fn is_keyword(name: &str) -> bool {
    let Ok(len) = i32::try_from(name.len()) else {
        return false;
    };
    // SAFETY: SQLite reads exactly `len` bytes of the name.
    unsafe { libsqlite3_sys::sqlite3_keyword_check(name.as_ptr().cast(), len) != 0 }
}

/// Caps SQLite's heap in this process (`sandbox`): an allocation past it fails the
/// statement with "out of memory".
pub fn limit_heap(bytes: i64) {
    // SAFETY: sqlite3_hard_heap_limit64 only sets a process-wide number, at any time.
    unsafe {
        libsqlite3_sys::sqlite3_hard_heap_limit64(bytes);
    }
}

/// What confining a connection asks of its policy (`sandbox`), given once.
pub struct Confinement {
    /// Whether a connection whose main database is this file (empty in memory, `None` when
    /// not UTF-8) is confined.
    pub confines: fn(Option<&str>) -> bool,
    /// Why an action (SQLite's code and first two arguments) is refused, if it is.
    pub refusal: fn(i32, Option<&str>, Option<&str>) -> Option<String>,
    /// Told what was refused.
    pub refused: fn(String),
    /// The longest a statement may run.
    pub statement_limit: fn() -> std::time::Duration,
    /// When the migration being run started (`now_millis`), if one is: the limit then holds
    /// for all of its statements together.
    pub migration_started: fn() -> Option<u64>,
    /// Told that a statement was stopped at that limit.
    pub stopped: fn(std::time::Duration),
}

static CONFINEMENT: std::sync::OnceLock<Confinement> = std::sync::OnceLock::new();

/// Has SQLite confine, by `confinement`, every connection this process opens from now on.
pub fn confine_new_connections(confinement: Confinement) {
    if CONFINEMENT.set(confinement).is_err() {
        return;
    }
    // SAFETY: `confine` has the signature SQLite calls an auto-extension with, and lives as
    // long as the process.
    unsafe {
        libsqlite3_sys::sqlite3_auto_extension(Some(confine));
    }
}

fn confinement() -> &'static Confinement {
    CONFINEMENT
        .get()
        .expect("confine is registered only once the confinement is set")
}

/// How often, in virtual machine instructions, a confined statement checks its clock.
const PROGRESS_INSTRUCTIONS: std::ffi::c_int = 10_000;

/// The clock of one confined connection: when its current statement started, in
/// milliseconds since `epoch()`, or `AT_REST` between statements.
struct Watch {
    started: std::sync::atomic::AtomicU64,
}

/// No statement is running. SQLite also checks the clock while it parses, before the next
/// statement's start is traced: that check starts the clock.
///
/// Rest is told by the statement's end (SQLite's profile event), not by a long pause between
/// two checks: a statement whose rows each take a while (a function that waits) pauses that
/// long between checks too, and would never be stopped.
const AT_REST: u64 = u64::MAX;

fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Milliseconds since this process first asked: the clock confined statements are timed by.
pub fn now_millis() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

thread_local! {
    /// The connection this thread confined last (`confine`), for `sharing_handle`.
    static OPENED: std::cell::Cell<*mut libsqlite3_sys::sqlite3> =
        const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// Runs `open`, which opens one connection on a disposable database (a Diesel one), and
/// returns it with a rusqlite connection on the same SQLite handle: reading through it
/// costs no second parse of the schema after each change the first makes. `None` when no
/// connection was confined meanwhile (confinement is not installed: the library's tests),
/// and when `open` failed (the handle it opened may be closed already).
///
/// # Safety
///
/// The rusqlite connection borrows the handle without owning it: it must be dropped before
/// what `open` returned closes the handle (`db::Paired` holds both in that order).
pub unsafe fn sharing_handle<T, E>(
    open: impl FnOnce() -> Result<T, E>,
) -> (Result<T, E>, Option<rusqlite::Connection>) {
    OPENED.with(|opened| opened.set(std::ptr::null_mut()));
    let opened = open();
    let handle = OPENED.with(|opened| opened.replace(std::ptr::null_mut()));
    if handle.is_null() || opened.is_err() {
        return (opened, None);
    }
    // SAFETY: `handle` is the connection `open` just opened and returned (the auto-extension
    // ran on this thread while it opened); rusqlite does not close a handle it does not own,
    // and the caller drops it before that connection closes. Extended result codes, as
    // rusqlite opens its own connections with: its errors say which constraint failed
    // (Diesel reads the extended code with `sqlite3_extended_errcode` either way).
    let shared = unsafe {
        libsqlite3_sys::sqlite3_extended_result_codes(handle, 1);
        rusqlite::Connection::from_handle(handle)
    }
    .ok();
    (opened, shared)
}

/// The auto-extension: confines a connection on a disposable database, as the
/// `Confinement` says.
unsafe extern "C" fn confine(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::ffi::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: SQLite calls this with the connection it is opening, whose main database is
    // open; sqlite3_db_filename returns a NUL-terminated name (empty in memory) or NULL.
    let name = unsafe { libsqlite3_sys::sqlite3_db_filename(db, c"main".as_ptr()) };
    let filename = if name.is_null() {
        Some("")
    } else {
        // SAFETY: non-null, NUL-terminated, owned by the connection while it is open.
        unsafe { std::ffi::CStr::from_ptr(name) }.to_str().ok()
    };
    if !(confinement().confines)(filename) {
        return libsqlite3_sys::SQLITE_OK;
    }
    OPENED.with(|opened| opened.set(db));
    let watch = Box::into_raw(Box::new(Watch {
        started: AT_REST.into(),
    }));
    // SAFETY: the callbacks match SQLite's signatures; `watch` is freed by `trace` on
    // SQLITE_TRACE_CLOSE, after which SQLite calls neither callback again.
    unsafe {
        libsqlite3_sys::sqlite3_set_authorizer(db, Some(authorize), std::ptr::null_mut());
        libsqlite3_sys::sqlite3_trace_v2(
            db,
            libsqlite3_sys::SQLITE_TRACE_STMT
                | libsqlite3_sys::SQLITE_TRACE_PROFILE
                | libsqlite3_sys::SQLITE_TRACE_CLOSE,
            Some(trace),
            watch.cast(),
        );
        libsqlite3_sys::sqlite3_progress_handler(
            db,
            PROGRESS_INSTRUCTIONS,
            Some(progress),
            watch.cast(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

/// The authorizer of a confined connection: the `Confinement` decides; a panic refuses.
unsafe extern "C" fn authorize(
    _context: *mut std::ffi::c_void,
    action: std::ffi::c_int,
    first: *const std::ffi::c_char,
    second: *const std::ffi::c_char,
    _database: *const std::ffi::c_char,
    _trigger: *const std::ffi::c_char,
) -> std::ffi::c_int {
    // SAFETY: SQLite passes NULL or NUL-terminated strings valid for this call.
    let text = |p: *const std::ffi::c_char| {
        (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy())
    };
    let (first, second) = (text(first), text(second));
    let policy = confinement();
    let refused =
        std::panic::catch_unwind(|| (policy.refusal)(action, first.as_deref(), second.as_deref()))
            .unwrap_or_else(|_| Some("an action the sandbox could not judge".to_owned()));
    match refused {
        None => libsqlite3_sys::SQLITE_OK,
        Some(what) => {
            (policy.refused)(what);
            libsqlite3_sys::SQLITE_DENY
        }
    }
}

/// Starts a statement's clock (not a trigger's: it runs within the statement that fired
/// it), sets it at rest when the statement ends, and frees it when the connection closes.
unsafe extern "C" fn trace(
    event: std::ffi::c_uint,
    watch: *mut std::ffi::c_void,
    _statement: *mut std::ffi::c_void,
    text: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    let watch = watch.cast::<Watch>();
    if event == libsqlite3_sys::SQLITE_TRACE_CLOSE {
        // SAFETY: `watch` came from Box::into_raw in `confine`; SQLite closes a connection
        // once, and calls no callback of it afterwards.
        drop(unsafe { Box::from_raw(watch) });
        return 0;
    }
    // SAFETY: `watch` lives until SQLITE_TRACE_CLOSE.
    let started = &unsafe { &*watch }.started;
    if event == libsqlite3_sys::SQLITE_TRACE_PROFILE {
        started.store(AT_REST, std::sync::atomic::Ordering::SeqCst);
        return 0;
    }
    // SAFETY: for SQLITE_TRACE_STMT, `text` is the statement's NUL-terminated SQL, or a
    // comment naming the trigger being run.
    let sql = text.cast::<std::ffi::c_char>();
    let trigger = !sql.is_null()
        && unsafe { std::ffi::CStr::from_ptr(sql) }
            .to_bytes()
            .starts_with(b"--");
    if !trigger {
        started.store(now_millis(), std::sync::atomic::Ordering::SeqCst);
    }
    0
}

/// Ends a statement that has run past the limit (SQLite then fails it with "interrupted").
unsafe extern "C" fn progress(watch: *mut std::ffi::c_void) -> std::ffi::c_int {
    use std::sync::atomic::Ordering::SeqCst;
    // SAFETY: `watch` lives until SQLITE_TRACE_CLOSE, after which no statement runs.
    let watch = unsafe { &*watch.cast::<Watch>() };
    let now = now_millis();
    // At rest, this is the parse of the next statement: its clock starts now.
    let statement_started = match watch.started.compare_exchange(AT_REST, now, SeqCst, SeqCst) {
        Ok(_) => now,
        Err(started) => started,
    };
    let policy = confinement();
    let limit = (policy.statement_limit)();
    let started = (policy.migration_started)().unwrap_or(statement_started);
    let ran = std::time::Duration::from_millis(now.saturating_sub(started));
    if ran > limit {
        (policy.stopped)(limit);
        1
    } else {
        0
    }
}
