//! `init`: adopts the tool in a Diesel project that already has a history, perhaps applied
//! in production. It records what is there and never changes a version: it writes dev.sum
//! when the project has none, the diagram when asked, `.gitattributes` lines that keep the
//! migrations' bytes the same in every clone, and a pre-commit hook; then it runs `check`
//! and the stairway test over the whole history, and reports what the tool would have
//! refused in it as findings (exit 1), each with what to do, for the team to fix with new
//! versions.

use crate::commands::Outcome;
use std::path::{Path, PathBuf};

use crate::commands::writing;
use crate::error::{Error, Finding, Result};
use crate::history::checksums;
use crate::project::Project;
use crate::prove::verify::verify_all;
use crate::schema::diagram;
use crate::support::ask::Prompt;
use crate::support::files::{self, Record};
use crate::support::output::{err, errln, outln};
use crate::support::timing::Timings;
use crate::workspace::problems::{diagram_problem, history_problems};
use crate::workspace::Workspace;

/// What `init` was asked for.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct InitOptions {
    /// Keep a Mermaid diagram of the schema without asking.
    #[arg(long)]
    pub diagram: bool,
    /// Start the comparison from a snapshot when one verifies (`--no-cache` turns
    /// it off).
    #[arg(skip = true)]
    pub use_cache: bool,
}

/// The hook `init` installs: the tool on PATH (or `DEV_BIN`) judging what is staged.
const HOOK: &str = r#"#!/bin/sh
# Installed by `dev init`: blocks a commit whose schema has no migration, whose migration
# history was rewritten, or whose schema diagram is out of date. It checks what is staged, not
# the working tree. DEV_BIN names the tool when `dev` is not on PATH.
"${DEV_BIN:-dev}" -C __PROJECT__ check --staged
status=$?
case $status in
  0) exit 0 ;;
  1|2)
    echo "pre-commit: commit blocked by the check above: do what it says, stage, and commit again." >&2
    exit 1 ;;
  *)
    echo "pre-commit: commit blocked: the check could not run (status $status). Install the tool" >&2
    echo "  (cargo install --path dev) or set DEV_BIN; git commit --no-verify skips this hook." >&2
    exit 1 ;;
esac
"#;

/// Adopts the tool in `project`; prompts (the diagram) go to `prompt` when someone is there.
pub fn run(
    project: &Project,
    options: InitOptions,
    prompt: Option<&mut dyn Prompt>,
    timings: &mut Timings,
) -> Result<Outcome> {
    let sum = checksums::sum_path(&project.versions_dir);
    let attributes = project.root.join(".gitattributes");
    let diagram_file = diagram::path(&project.schema_file);
    for path in [&sum, &attributes, &diagram_file] {
        project.ensure_writable_inside(path)?;
    }
    let _lock = writing::lock(project, &mut |line| errln!("{line}"))?;
    let workspace = Workspace::open(project, options.use_cache, true, timings)?;
    let mut findings = Vec::new();

    if checksums::recorded(&project.versions_dir) {
        findings.extend(history_problems(project, &workspace)?);
    } else {
        files::replace(&[Record {
            path: sum.clone(),
            text: checksums::render(&workspace.versions, &workspace.links),
        }])?;
        outln!(
            "Recorded the checksums of {} versions in {}",
            workspace.versions.len(),
            project.display(&sum)
        );
    }

    let keeps_diagram =
        std::fs::read_to_string(&diagram_file).is_ok_and(|text| diagram::has_block(&text));
    let question = format!(
        "Keep a Mermaid diagram of the schema in {} (generate updates it, check verifies it)?",
        project.display(&diagram_file)
    );
    if keeps_diagram {
        findings.extend(diagram_problem(project, &workspace));
    } else if options.diagram || prompt.is_some_and(|p| p.confirm(&question)) {
        diagram::write(&project.schema_file, &workspace.diagram_block())?;
        outln!(
            "Wrote the schema diagram into {}",
            project.display(&diagram_file)
        );
    } else {
        outln!(
            "No diagram: `init --diagram` (or `diagram` after adding its markers) keeps one in {}",
            project.display(&diagram_file)
        );
    }

    if let Some(added) = gitattributes(project, &attributes)? {
        files::replace(&[added])?;
        outln!(
            "Kept the migrations and schema files LF in every clone ({})",
            project.display(&attributes)
        );
    }

    match install_hook(project)? {
        Hook::Installed(path) => outln!("Installed the pre-commit hook at {}", path.display()),
        Hook::Present => {}
        Hook::Other(path) => findings.push(
            Finding::new(
                "C401",
                format!("{} is another pre-commit hook", path.display()),
            )
            .help(format!(
                "add `dev -C {} check --staged` to it, so commits are checked",
                shell_quote(&relative_to_top(project)?)
            )),
        ),
        Hook::NoGit => outln!("Not a git clone: no pre-commit hook installed"),
    }

    for change in &workspace.changes {
        findings.push(
            Finding::new("C402", format!(
                "the schema file and the history's head differ: {change}"
            ))
            .help("`generate` writes the migration for it, or make the schema file what print-schema writes"),
        );
    }
    let (verified, failures) = verify_all(&project.versions_dir)?;
    for failure in failures {
        let mut finding = Finding::new("C403", failure.message.clone());
        for note in &failure.notes {
            finding = finding.note(note.clone());
        }
        findings.push(finding.help(
            "the version stays as it is (databases may have applied it); fix what it breaks with a new version, and see that `downgrade` past it is not used",
        ));
    }
    outln!(
        "Walked {} versions up, down and up again on seeded rows: {}",
        verified.versions,
        match findings.len() {
            0 => "nothing to report".to_owned(),
            n => format!("{n} finding{} below", if n == 1 { "" } else { "s" }),
        }
    );
    for finding in &findings {
        err!("{finding}");
    }
    Ok(if findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// `.gitattributes` with the lines that keep the migrations, the schema files and their
/// patches LF, when some are missing; `None` when all are there.
fn gitattributes(project: &Project, path: &Path) -> Result<Option<Record>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let pattern = |p: &Path| {
        let shown = project.display(p).to_string().replace('\\', "/");
        shown.replace(' ', "[[:space:]]")
    };
    let mut wanted = vec![format!("{}/** text eol=lf", pattern(&project.versions_dir))];
    for section in &project.sections {
        wanted.push(format!("{} text eol=lf", pattern(&section.file)));
        if let Some(patch) = &section.patch_file {
            wanted.push(format!("{} text eol=lf", pattern(patch)));
        }
    }
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|line| !text.lines().any(|l| l.trim() == line.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let mut updated = text.clone();
    if !updated.is_empty() && !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push_str(
        "# Migrations run as recorded in dev.sum, in every clone (added by `dev init`).\n",
    );
    for line in missing {
        updated.push_str(line);
        updated.push('\n');
    }
    Ok(Some(Record {
        path: path.to_path_buf(),
        text: updated,
    }))
}

/// What `init` found or did about the pre-commit hook.
enum Hook {
    Installed(PathBuf),
    /// One that runs the check is there already.
    Present,
    /// Another hook is there: it is left alone.
    Other(PathBuf),
    NoGit,
}

fn install_hook(project: &Project) -> Result<Hook> {
    let Ok(hooks) = git(project, &["rev-parse", "--git-path", "hooks"]) else {
        return Ok(Hook::NoGit);
    };
    let hooks = project.root.join(hooks);
    let hook = hooks.join("pre-commit");
    if let Ok(text) = std::fs::read_to_string(&hook) {
        return Ok(if text.contains("check --staged") {
            Hook::Present
        } else {
            Hook::Other(hook)
        });
    }
    let script = HOOK.replace("__PROJECT__", &shell_quote(&relative_to_top(project)?));
    std::fs::create_dir_all(&hooks).map_err(|e| Error::io("create", &hooks, e))?;
    files::write_durably(&hook, &script)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("make executable", &hook, e))?;
    }
    Ok(Hook::Installed(hook))
}

/// The project's directory relative to the git work tree's top, where hooks run (`.` at it).
fn relative_to_top(project: &Project) -> Result<String> {
    let prefix = git(project, &["rev-parse", "--show-prefix"])?;
    let prefix = prefix.trim_end_matches('/');
    Ok(if prefix.is_empty() { "." } else { prefix }.to_owned())
}

fn git(project: &Project, args: &[&str]) -> Result<String> {
    let output = duct::cmd("git", args)
        .dir(&project.root)
        .stderr_null()
        .read()
        .map_err(|e| Error::input(format!("git cannot read `{}`: {e}", project.root.display())))?;
    Ok(output.trim().to_owned())
}

/// `text` as one word for sh: single-quoted, a quote inside written as `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_one_shell_word_whatever_it_holds() {
        assert_eq!(shell_quote("apps/my db"), "'apps/my db'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
