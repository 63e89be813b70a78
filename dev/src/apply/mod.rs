//! Applying versions to real databases: finding and opening them (`database`), moving them
//! between versions through diesel_migrations' harness (`session`, one `step` at a time),
//! asking SQLite what a file drops (`losses`), running versions on a copy and comparing its
//! rows by key (`rehearse`), and naming why a step failed (`diagnose`).

pub mod database;
pub mod diagnose;
pub mod drift;
pub mod duplicates;
pub mod losses;
pub mod rehearse;
pub mod session;
pub mod step;
