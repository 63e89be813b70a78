//! Process-level helpers that know nothing about SQL: disposable directories and signals,
//! the project lock, terminal questions, stage timings, how the user runs the tool, and
//! output that a closed pipe does not turn into a panic.

pub mod ask;
pub mod files;
pub mod invocation;
pub mod kept;
pub mod lock;
pub mod output;
pub mod scratch;
pub mod timing;
