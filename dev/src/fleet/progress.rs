//! Progress of a fleet run on the terminal: done, failed, remaining, the rate and the time
//! left, drawn by indicatif on stderr; nothing when stderr is no terminal or the output is
//! JSON, so that logs and pipes get the summary alone.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// One bar over a stage of the run.
pub struct Progress {
    bar: ProgressBar,
    failed: u64,
    verb: &'static str,
}

impl Progress {
    /// A bar over `len` databases, drawn only when `wanted` and stderr is a terminal; `verb`
    /// says what is done to them ("upgraded", "read").
    pub fn new(wanted: bool, len: usize, verb: &'static str) -> Progress {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        let bar = if wanted && std::io::stderr().is_terminal() {
            ProgressBar::new(len)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}, {per_sec}, {eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress = Progress {
            bar,
            failed: 0,
            verb,
        };
        progress.bar.set_message(progress.message());
        progress
    }

    /// One more database done (`failed` when it failed).
    pub fn advance(&mut self, failed: bool) {
        self.failed += u64::from(failed);
        self.bar.inc(1);
        self.bar.set_message(self.message());
    }

    /// Clears the bar: the summary follows.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn message(&self) -> String {
        format!("{}, {} failed", self.verb, self.failed)
    }
}
