//! `check`: exit 0 when schema.rs matches `versions/` and the recorded checksums and diagram
//! agree with the history, 1 when a migration is missing or a record is out of date. With
//! `--staged` it judges what is staged for commit (git's index), as the pre-commit hook does.

use crate::commands::Outcome;
use std::path::Path;

use crate::commands::report::{self, ChangeJson, DiagnosticJson, Document, Format};
use crate::error::{Finding, Result};
use crate::generate::cache::Cache;
use crate::generate::diff::Change;
use crate::history::checksums;
use crate::history::staged::Staged;
use crate::project::Project;
use crate::schema::introspect::Database;
use crate::sqlite::quote::quote;
use crate::support::invocation;
use crate::support::output::{err, errln, outln};
use crate::support::timing::Timings;
use crate::workspace::problems::{diagram_problem, history_problems};
use crate::workspace::{Needs, Workspace};

/// What `check` was asked for.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions<'a> {
    /// Judge git's index rather than the working tree.
    pub staged: bool,
    /// Start from a snapshot of head under `target/` when one verifies.
    pub use_cache: bool,
    /// The `-C` the user gave, repeated in the `generate` command the check suggests.
    pub project_dir: Option<&'a Path>,
    /// Text for people, JSON or GitHub annotations for machines.
    pub format: Format,
    /// `--schema-key`: check only that `[print_schema.KEY]` section.
    pub schema_key: Option<&'a str>,
}

/// Checks the project found from `start` (or, with `--staged`, the copy of git's index made
/// from it); the exit code says whether it is clean.
pub fn run(start: &Path, options: &CheckOptions<'_>, timings: &mut Timings) -> Result<Outcome> {
    if options.staged {
        let staged = Staged::materialise(start, options.schema_key)?;
        return check(staged.project(), Some(&staged), options, timings)
            .map_err(|e| staged.shown(e));
    }
    let mut project = Project::discover(start)?;
    if let Some(key) = options.schema_key {
        project = project.with_schema_key(key)?;
    }
    check(&project, None, options, timings)
}

/// `check` on the working tree's project, or on the copy of git's index that `staged` holds.
fn check(
    project: &Project,
    staged: Option<&Staged>,
    options: &CheckOptions<'_>,
    timings: &mut Timings,
) -> Result<Outcome> {
    // The staged copy is thrown away: the working tree's cache serves it.
    let root = staged.map_or(project.root.as_path(), Staged::real_root);
    let cache = options.use_cache.then(|| match staged {
        Some(_) => Cache::for_copy_of(root),
        None => Cache::for_root(root),
    });
    // check changes no database: head may be read as a run before kept it.
    let needs = Needs {
        links: false,
        database: false,
    };
    let workspace = Workspace::open_cached(project, cache, needs, timings)?;
    let count = workspace.versions.len();
    let mut problems = match staged {
        Some(staged) => staged.history_problems(&workspace.versions, &workspace.links)?,
        None => history_problems(project, &workspace)?,
    };
    problems.extend(diagram_problem(project, &workspace));
    if !checksums::recorded(&project.versions_dir) && count > 0 {
        errln!(
            "note: {}/ has no {} yet; `generate`, `rehash` or `init` starts recording checksums",
            project.display(&project.versions_dir),
            checksums::SUM_FILE
        );
    }
    let hints = if workspace.declared.is_some() {
        unindexed_joinables(&workspace.head_db)
    } else {
        Vec::new()
    };
    let findings = Findings {
        project,
        workspace: &workspace,
        problems: &problems,
        unindexed: &hints,
        command: generate_command(&workspace.changes, options.project_dir),
    };
    match options.format {
        Format::Text => findings.text(staged),
        Format::Json => findings.json(),
        Format::Github => findings.github(),
    }
    let clean = workspace.changes.is_empty() && problems.is_empty();
    if let Some(note) = staged.filter(|_| !clean).and_then(Staged::unstaged_note) {
        err!("{note}");
    }
    Ok(if clean {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// What `check` found, to be reported in the format asked for.
struct Findings<'a> {
    project: &'a Project,
    workspace: &'a Workspace,
    problems: &'a [Finding],
    unindexed: &'a [UnindexedJoinable],
    /// The `generate` command that makes the changes found.
    command: String,
}

impl Findings<'_> {
    fn text(&self, staged: Option<&Staged>) {
        let (project, workspace, command) = (self.project, self.workspace, &self.command);
        let (problems, hints) = (self.problems, self.unindexed);
        let count = workspace.versions.len();
        if workspace.changes.is_empty() {
            let files = match project.sections.len() {
                1 => "schema.rs matches".to_owned(),
                n => format!("the {n} schema files match"),
            };
            outln!(
                "{files} {}/ ({count} migration{})",
                project.display(&project.versions_dir),
                if count == 1 { "" } else { "s" }
            );
        } else {
            let unstaged = staged.map(Staged::unstaged_declaring).unwrap_or_default();
            report_changes(project, workspace, command, &unstaged);
        }
        for problem in problems {
            err!("{problem}");
        }
        for hint in &workspace.hints {
            err!("{hint}");
        }
        for hint in hints {
            errln!(
            "hint: {}.{} is a joinable! column with no index, so every lookup by it reads all of {}; add to {}:\n  {}",
            hint.table,
            hint.column,
            hint.table,
            project.display(&project.objects_file()),
            hint.statement
        );
        }
    }

    fn json(&self) {
        let (workspace, command) = (self.workspace, &self.command);
        let (problems, hints) = (self.problems, self.unindexed);
        let count = workspace.versions.len();
        let clean = workspace.changes.is_empty() && problems.is_empty();
        let body = CheckJson {
            migrations: count,
            changes: report::changes(&workspace.changes),
            generate: (!workspace.changes.is_empty()).then_some(command),
            problems: problems
                .iter()
                .map(|p| DiagnosticJson::from(&**p))
                .collect(),
            hints,
            schema_hints: workspace
                .hints
                .iter()
                .map(|h| DiagnosticJson::from(&**h))
                .collect(),
        };
        let document = if clean {
            Document::new("check", "clean", 0, body)
                .meaning("schema.rs and the records match versions/")
        } else {
            Document::new("check", "out_of_date", 1, body).meaning("something to fix")
        };
        document.print();
    }

    fn github(&self) {
        let (project, workspace, command) = (self.project, self.workspace, &self.command);
        let (problems, hints) = (self.problems, self.unindexed);
        for change in &workspace.changes {
            let file = if change.is_object() {
                project.objects_file()
            } else {
                project.schema_file.clone()
            };
            outln!(
                "{}",
                report::annotation(
                    "error",
                    Some(&relative(project, &file)),
                    None,
                    None,
                    &format!("no migration makes this change: {change}; run: {command}"),
                )
            );
        }
        for problem in problems {
            outln!("{}", report::diagnostic_annotation(problem));
        }
        for hint in &workspace.hints {
            outln!("{}", report::diagnostic_annotation(hint));
        }
        for hint in hints {
            outln!(
                "{}",
                report::annotation(
                    "notice",
                    Some(&relative(project, &project.objects_file())),
                    None,
                    None,
                    &format!(
                        "{}.{} is a joinable! column with no index; add: {}",
                        hint.table, hint.column, hint.statement
                    ),
                )
            );
        }
    }
}

/// The fields of `check --format json`.
#[derive(serde::Serialize)]
struct CheckJson<'a> {
    migrations: usize,
    changes: Vec<ChangeJson>,
    /// The command that writes the missing migration.
    generate: Option<&'a String>,
    problems: Vec<DiagnosticJson>,
    hints: &'a [UnindexedJoinable],
    schema_hints: Vec<DiagnosticJson>,
}

/// A foreign-key column no index leads with, and the statement that would add one.
#[derive(serde::Serialize)]
struct UnindexedJoinable {
    table: String,
    column: String,
    statement: String,
}

/// Every single-column foreign key of `db` that no index (nor the primary key) leads with:
/// a join or a cascading delete through it reads the whole child table.
fn unindexed_joinables(db: &Database) -> Vec<UnindexedJoinable> {
    let mut found = Vec::new();
    for table in &db.tables {
        for fk in &table.foreign_keys {
            let composite = table.foreign_keys.iter().filter(|f| f.id == fk.id).count() > 1;
            let leads_key = table
                .primary_key()
                .first()
                .is_some_and(|c| c.name == fk.column);
            let indexed = table
                .indexes
                .iter()
                .filter_map(|i| i.index.as_ref())
                .any(|i| i.leads_with(&fk.column));
            if composite || leads_key || indexed {
                continue;
            }
            found.push(UnindexedJoinable {
                statement: format!(
                    "CREATE INDEX {} ON {} ({});",
                    quote(&format!("{}_{}", table.name, fk.column)),
                    quote(&table.name),
                    quote(&fk.column)
                ),
                table: table.name.clone(),
                column: fk.column.clone(),
            });
        }
    }
    found
}

/// `path` as the user's project shows it, for annotations.
fn relative(project: &Project, path: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(project.display(path).to_string())
}

/// The `generate` command that would write the missing migration.
fn generate_command(changes: &[Change], project_dir: Option<&Path>) -> String {
    let project_flag = project_dir
        .map(|d| format!("-C {} ", d.display()))
        .unwrap_or_default();
    invocation::command(&format!(
        "{}generate \"{}\"",
        project_flag.trim_start(),
        suggested_message(changes)
    ))
}

/// Prints the changes no migration makes, and the command that would write one; in a staged
/// check where the files declaring the target have unstaged changes, first that staging them
/// is the fix when the staged migration was generated from them.
fn report_changes(project: &Project, workspace: &Workspace, command: &str, unstaged: &[String]) {
    let count = workspace.versions.len();
    let mut declaring = project.display(&project.schema_file).to_string();
    if workspace.changes.iter().any(Change::is_object) {
        let objects = project.objects_file();
        declaring = if workspace.changes.iter().all(Change::is_object) {
            project.display(&objects).to_string()
        } else {
            format!("{declaring} with {}", project.display(&objects))
        };
    }
    outln!(
        "{declaring} differs from {}/ ({count} migration{}): no migration makes these changes:",
        project.display(&project.versions_dir),
        if count == 1 { "" } else { "s" }
    );
    for change in &workspace.changes {
        outln!("  - {change}");
    }
    if unstaged.is_empty() {
        outln!("\nGenerate it with:\n  {command}");
    } else {
        outln!(
            "\n{} {} changes that are not staged. If the staged migration was generated from them, stage them:\n  git add {}\nOtherwise, generate it with:\n  {command}",
            unstaged.join(", "),
            if unstaged.len() == 1 { "has" } else { "have" },
            unstaged.join(" ")
        );
    }
}

/// A message summarising `changes`, for the `generate` command `check` suggests.
fn suggested_message(changes: &[Change]) -> String {
    match changes {
        [] => String::new(),
        [only] => only.headline(),
        [first, second] => format!("{} and {}", first.headline(), second.headline()),
        [first, second, rest @ ..] => format!(
            "{}, {} and {} more",
            first.headline(),
            second.headline(),
            rest.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_message_stays_short() {
        let drop = |t: &str| Change::DropTable(t.into());
        assert_eq!(suggested_message(&[drop("a")]), "drop a");
        assert_eq!(
            suggested_message(&[drop("a"), drop("b")]),
            "drop a and drop b"
        );
        assert_eq!(
            suggested_message(&[drop("a"), drop("b"), drop("c"), drop("d")]),
            "drop a, drop b and 2 more"
        );
    }
}
