//! The commands' output on stdout, and their messages on stderr, written so that neither
//! ever panics: `println!` does when the reader has gone, and `dev history | head -1` must
//! end quietly, with its temporary directories still removed.
//!
//! A reader that stops reading is not a failure: the rest of the output is dropped and the
//! command finishes as it would have, cleanup included. Any other failure to write (a full
//! disk) is kept, and reported by `finish` when the command ends.

use std::io::{ErrorKind, Write};
use std::sync::Mutex;

use crate::error::Error;

/// Writes to stdout through `write`, which never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::support::output::write(format_args!($($arg)*)) };
}

/// `out!` with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::support::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes to stderr through `write_err`, which never panics.
macro_rules! err {
    ($($arg:tt)*) => { $crate::support::output::write_err(format_args!($($arg)*)) };
}

/// `err!` with a newline.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::support::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {err, errln, out, outln};

enum State {
    Open,
    Closed,
    Failed(std::io::Error),
}

static STATE: Mutex<State> = Mutex::new(State::Open);

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn settle(state: &mut State, written: std::io::Result<()>) {
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => *state = State::Closed,
        Err(e) => *state = State::Failed(e),
    }
}

/// Writes `args` to stdout unless it already failed or was closed.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut state = state();
    if matches!(*state, State::Open) {
        settle(&mut state, std::io::stdout().lock().write_fmt(args));
    }
}

/// Writes `args` to stderr. Errors are ignored: stderr is where a failure would be reported.
pub fn write_err(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().write_fmt(args);
}

/// Flushes stdout; a write that failed for another reason than a closed reader is the
/// error.
pub fn finish() -> Result<(), Error> {
    let mut state = state();
    if matches!(*state, State::Open) {
        settle(&mut state, std::io::stdout().lock().flush());
    }
    match &*state {
        State::Failed(e) => Err(Error::input(format!("cannot write the output: {e}"))
            .help("write it somewhere with room (check the disk or the file it goes to)")),
        _ => Ok(()),
    }
}

/// `9812` as `9,812`: counts of databases and rows, as people read them.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A size as people read it: `4,096 bytes`, `812.0 KiB`, `96.5 MiB`, `1.2 GiB`.
pub fn bytes(n: i64) -> String {
    const KIB: f64 = 1024.0;
    let size = n as f64;
    match n {
        n if n < 10 * 1024 => format!("{} bytes", thousands(n)),
        n if n < 1 << 20 => format!("{:.1} KiB", size / KIB),
        n if n < 1 << 30 => format!("{:.1} MiB", size / KIB / KIB),
        _ => format!("{:.1} GiB", size / KIB / KIB / KIB),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sizes_read_as_people_write_them() {
        let counts: Vec<String> = [0, 7, 999, 1000, 9812, 1_234_567, -45_000]
            .into_iter()
            .map(thousands)
            .collect();
        assert_eq!(
            counts,
            ["0", "7", "999", "1,000", "9,812", "1,234,567", "-45,000"]
        );
        let sizes: Vec<String> = [4096, 10 * 1024, 101_187_584, 3 << 30]
            .into_iter()
            .map(bytes)
            .collect();
        assert_eq!(sizes, ["4,096 bytes", "10.0 KiB", "96.5 MiB", "3.0 GiB"]);
    }
}
