//! `dev`: generates and checks Diesel migrations for SQLite from `schema.rs`, proving each
//! one on a disposable database before writing it.
//!
//! Data flows one way through one module per stage: `project` and `versions` read the tree,
//! `scratch` makes the disposable database, `replay` upgrades it to head, `introspect` reads
//! it, `schema_rs` reads schema.rs, `model` holds both in one form, `diff` compares them,
//! `plan` and `render` write SQL, `prove` runs it up and down, `write` publishes it.

pub mod ask;
pub mod commands;
pub mod db;
pub mod ddl;
pub mod diff;
pub mod error;
pub mod introspect;
pub mod model;
pub mod plan;
pub mod project;
pub mod prove;
pub mod rebuild;
pub mod render;
pub mod replay;
pub mod schema_rs;
pub mod scratch;
pub mod seed;
pub mod sql_text;
pub mod versions;
pub mod write;
