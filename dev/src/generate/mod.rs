//! The generation pipeline, in the order it runs: `replay` upgrades a disposable database to
//! head (`cache` skips the replay when it can), `diff` compares head with schema.rs, `seed`
//! fills the planning copy, `plan` writes the SQL as typed steps, `render` lays out the
//! files, `naming` names the new version and `write` publishes it atomically. `baseline`
//! writes the one version a squash replaces a history with.

pub mod baseline;
pub mod cache;
pub mod diff;
pub mod naming;
pub mod plan;
pub mod render;
pub mod replay;
pub mod seed;
pub mod write;
