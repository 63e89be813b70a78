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
