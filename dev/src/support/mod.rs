//! Process-level helpers that know nothing about SQL: disposable directories and signals,
//! the project lock, terminal questions, stage timings, and output that a closed pipe does
//! not turn into a panic.

pub mod ask;
pub mod files;
pub mod lock;
pub mod output;
pub mod scratch;
pub mod timing;
