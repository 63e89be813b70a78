//! Applying versions to real databases: finding and opening them, moving them between
//! versions through diesel_migrations' harness, and asking SQLite what a file drops.

pub mod database;
pub mod losses;
pub mod migrate;
