//! The commands of the `dev` command line, one file each, named after the subcommand.
//!
//! Each command's file has one entry function, `run`, which `main` calls with the project
//! and the command's flags, and which returns its `Outcome` (exit 0 or 1; `main` turns it
//! into the exit code, and a failure, an `Error`, into 2 or 3). A command is a straight
//! pipeline over the layers below: it prints its result on stdout (`outln!`) and its
//! warnings on stderr (`errln!`), never with `println!`, and returns failures as an `Error`
//! for `main` to render.
//!
//! To add a command: write `commands/NAME.rs` with a doc comment saying what the command is
//! for and a `run`, declare it below, add its variant to `Command` in `main.rs` and
//! dispatch it there. What two commands share goes in a file of its own here, never in one
//! of them: `compare` (head against schema.rs), `problems` (what `check` reports),
//! `writing` (the lock before rewriting records), `database` (the database verbs' flags and
//! session), `report` (output for machines); and `given`, the values a person gives
//! `generate` for the rows (`--default`, `--convert`).

pub mod check;
pub mod cli;
pub mod completions;
pub mod current;
pub mod database;
pub mod diagram;
pub mod downgrade;
pub mod drift;
pub mod fleet;
pub mod generate;
pub mod history;
pub mod init;
pub mod install_hooks;
pub mod objects;
pub mod redo;
pub mod rehash;
pub mod report;
pub mod show;
pub mod squash;
pub mod stamp;
pub mod upgrade;
pub mod verify;
pub mod writing;

/// How a command that ran ended: what `main` turns into the exit code (0 or 1; a failure
/// is an `Error`, whose kind gives 2 or 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or nothing to fix: exit 0.
    Clean,
    /// It ran, and found something to fix (a missing migration, drift, a value that does
    /// not survive a rehearsal): exit 1.
    Findings,
    /// A fleet command did everything else, but left some databases out (missing,
    /// unreadable, locked, ...): exit 4.
    Partial,
    /// A signal stopped a fleet upgrade, which finished what was running: exit 130, as
    /// shells report SIGINT.
    Interrupted,
}

impl Outcome {
    /// `Findings` when `found`, else `Clean`.
    pub fn found(found: bool) -> Outcome {
        if found {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }

    /// The process's exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Partial => 4,
            Outcome::Interrupted => 130,
        }
    }
}
