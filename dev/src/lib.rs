//! `dev`: generates and checks Diesel migrations for SQLite from `schema.rs`, proving each
//! one on a disposable database before writing it.
//!
//! The modules are layers; each uses only its own and the ones listed before it:
//! `error`, `support`, `sqlite`, `schema`, `project`, `history`, `generate`, `prove`,
//! `apply`, `workspace`, `fleet`, `commands` (`dev/tests/layers.rs` keeps it so). `dev/ARCHITECTURE.md` walks
//! through the tree, says where to add a column type or a command, and states what the code
//! relies on about SQLite and Diesel.

#![warn(missing_docs)]

pub mod apply;
pub mod commands;
pub mod error;
pub mod fleet;
pub mod generate;
pub mod history;
pub mod project;
pub mod prove;
pub mod schema;
pub mod sqlite;
pub mod support;
pub mod workspace;
