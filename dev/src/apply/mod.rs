//! Applying versions to real databases: finding and opening them (`database`), reading the
//! versions once per run (`loaded`), moving databases between versions through
//! diesel_migrations' harness (`session`, one `step` at a time), asking SQLite what a file
//! drops (`losses`) and having it confirmed (`confirm`), what its rebuilds copy (`cost`), running versions on a copy and
//! comparing its rows by key (`rehearse`), naming why a step failed (`diagnose`), and
//! writing out the SQL a command would run (`script`); `stamp` marks versions applied
//! without running them.

pub mod confirm;
pub mod cost;
pub mod database;
pub mod diagnose;
pub mod drift;
pub mod duplicates;
pub mod loaded;
pub mod losses;
pub mod refused;
pub mod rehearse;
pub mod script;
pub mod session;
pub mod stamp;
pub mod step;
