//! `completions SHELL`: the shell completion script for `dev`, from the same clap definitions
//! that parse its command line, so it never lists a command or flag that does not exist.

use crate::commands::Outcome;
use clap_complete::Shell;

use crate::error::{Error, Result};
use crate::support::output::outln;

/// Prints the completion script of `command` (the whole command line) for `shell`.
pub fn run(mut command: clap::Command, shell: Shell) -> Result<Outcome> {
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    let script = String::from_utf8(script)
        .map_err(|e| Error::internal(format!("the {shell} completion script is not UTF-8: {e}")))?;
    outln!("{}", script.trim_end());
    Ok(Outcome::Clean)
}
