//! Process-level helpers that know nothing about SQL: disposable directories and signals,
//! the project lock, terminal questions, stage timings.

pub mod ask;
pub mod files;
pub mod lock;
pub mod scratch;
pub mod timing;
