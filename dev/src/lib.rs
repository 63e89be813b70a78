//! `dev`: generates and checks Diesel migrations for SQLite from `schema.rs`, proving each
//! one on a disposable database before writing it.
//!
//! Data flows one way through one module per stage: `project` and `versions` read the tree,
//! `scratch` makes the disposable database, `replay` upgrades it to head, `introspect` reads
//! it, `schema_rs` reads schema.rs, `model` holds both in one form, `diff` compares them,
//! `plan` (with `ddl` and `rebuild`) writes SQL, `render` lays out the files, `prove` runs them
//! up and down on `seed`ed rows, `write` publishes them. `ask` puts questions to a terminal.
//! For real databases, `database` finds and opens them, `migrate` moves them between
//! versions and `history` reads what the versions say about themselves.

pub mod ask;
pub mod cache;
pub mod commands;
pub mod database;
pub mod db;
pub mod ddl;
pub mod diagram;
pub mod diff;
pub mod error;
pub mod history;
pub mod integrity;
pub mod introspect;
pub mod lock;
pub mod losses;
pub mod migrate;
pub mod model;
pub mod objects;
pub mod plan;
pub mod project;
pub mod prove;
pub mod rebuild;
pub mod render;
pub mod replay;
pub mod schema_rs;
pub mod scratch;
pub mod seed;
pub mod staged;
pub mod timing;
pub mod verify;
pub mod versions;
pub mod write;
