//! `install-hooks`: makes git run `dev/hooks/pre-commit` (`git config core.hooksPath
//! dev/hooks`), so a commit whose migrations do not match schema.rs is refused.

use crate::commands::Outcome;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::support::output::outln;

/// Points git's hooks at the project's `dev/hooks`.
pub fn run(project: &Project) -> Result<Outcome> {
    let hooks = project.root.join("dev/hooks");
    if !hooks.join("pre-commit").is_file() {
        return Err(Error::input(format!(
            "there is no hook at `{}`",
            hooks.join("pre-commit").display()
        )));
    }
    duct::cmd!("git", "config", "core.hooksPath", "dev/hooks")
        .dir(&project.root)
        .stdout_null()
        .run()
        .map_err(|e| {
            Error::input(format!("cannot configure git's hooks: {e}"))
                .help("run it inside the project's git clone")
        })?;
    outln!("git now runs dev/hooks/pre-commit before each commit");
    Ok(Outcome::Clean)
}
