//! Every unsafe call into SQLite, each with the reason it is sound. The rest of the tool
//! reaches SQLite through rusqlite and Diesel.

use std::ffi::CString;

/// Process-wide SQLite settings, before any connection opens: no memory statistics, which
/// SQLite otherwise keeps under a mutex on every allocation (and replaying DDL re-parses the
/// whole schema after each ALTER, allocating all the while). Nothing here reads them.
pub fn configure_sqlite() {
    // SAFETY: sqlite3_config is called before SQLite initialises (no connection is open yet
    // in this process); if it already has, SQLite refuses with SQLITE_MISUSE and nothing
    // changes.
    unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
            0 as std::ffi::c_int,
        );
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
