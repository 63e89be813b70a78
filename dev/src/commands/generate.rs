//! `generate`: writes the migration that brings `versions/` to schema.rs, proven on a
//! disposable database first. Renames and values for existing rows come from flags, or from
//! the person at the terminal when there is one.

use crate::commands::Outcome;
use std::path::PathBuf;

use crate::commands::compare::{compare, diagram_of, Comparison};
pub use crate::commands::given::DefaultArg;
use crate::commands::given::{by_column, check_conversions, check_defaults};
use crate::commands::problems::refuse_unrecorded_history;
use crate::commands::report::{self, Format};
use crate::commands::writing;
use crate::error::{Error, Result};
use crate::generate::diff::{
    diff_with_renames, rename_suggestions, Change, ColumnRename, Renames, Suggestion, TableRename,
};
use crate::generate::plan::{self, Defaults};
use crate::generate::render::{self, Files, Header};
use crate::generate::{naming, write};
use crate::history::checksums;
use crate::history::effect::Warning;
use crate::history::versions;
use crate::project::Project;
use crate::prove;
use crate::schema::diagram;
use crate::schema::introspect::{self, TableFilter};
use crate::schema::model;
use crate::schema::model::ColumnKey;

use crate::support::ask::{self, Prompt};
use crate::support::files;
use crate::support::output::{errln, outln};
use crate::support::timing::Timings;

/// What `generate` was asked for: its command-line options, as clap reads them.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GenerateOptions {
    /// What the migration does, e.g. "add bio to users".
    pub message: String,
    /// Write an empty migration for hand-written SQL.
    #[arg(long)]
    pub empty: bool,
    /// Plan and prove the migration, print it and the proof's verdict, and write nothing
    /// (as Django's `makemigrations --dry-run`).
    #[arg(long)]
    pub dry_run: bool,
    /// Value for existing rows of a column added as, or made, NOT NULL (repeatable).
    #[arg(long = "default", value_name = "TABLE.COLUMN=SQL_EXPR", value_parser = DefaultArg::parse)]
    pub defaults: Vec<DefaultArg>,
    /// How a retyped column's values become the new type's, as SQL over the old row,
    /// when the copy cannot keep them as they are (repeatable); written into the file with
    /// a warning.
    #[arg(long = "convert", value_name = "TABLE.COLUMN=SQL_EXPR", value_parser = DefaultArg::parse)]
    pub conversions: Vec<DefaultArg>,
    /// Rename a column instead of dropping and adding it (repeatable).
    #[arg(long = "rename", value_name = "TABLE.OLD=NEW", value_parser = ColumnRename::parse)]
    pub column_renames: Vec<ColumnRename>,
    /// Rename a table instead of dropping and creating it (repeatable).
    #[arg(long = "rename-table", value_name = "OLD=NEW", value_parser = TableRename::parse)]
    pub table_renames: Vec<TableRename>,
    /// Start from a snapshot of head when one verifies (the global `--no-cache` turns it off).
    #[arg(skip = true)]
    pub use_cache: bool,
}

impl GenerateOptions {
    /// The renames in the shape the diff takes them.
    fn renames(&self) -> Renames {
        Renames {
            tables: self.table_renames.clone(),
            columns: self.column_renames.clone(),
        }
    }

    /// The defaults in the shape the planner takes them; a later flag for the same column
    /// wins.
    fn defaults(&self) -> Defaults {
        by_column(&self.defaults)
    }

    /// The conversions, in the same shape.
    fn conversions(&self) -> Defaults {
        by_column(&self.conversions)
    }
}

/// Generates, proves and writes the migration, then prints its directory, its changes, its
/// warnings and the proof; questions go to the terminal when a person is at it (never with
/// `--format json`, whose reader is a program).
pub fn run(
    project: &Project,
    options: &GenerateOptions,
    format: Format,
    timings: &mut Timings,
) -> Result<Outcome> {
    let json = format == Format::Json;
    let mut terminal = if json { None } else { ask::terminal() };
    let prompt = terminal.as_mut().map(|t| t as &mut dyn Prompt);
    let mut said = Vec::new();
    let mut hints = Vec::new();
    let generated = generate(
        project,
        options,
        prompt,
        &mut hints,
        &mut |line| {
            if json {
                said.push(line)
            } else {
                errln!("{line}")
            }
        },
        timings,
    );
    // Said whether or not it went on to write: a refusal after them is often their reason.
    if !json {
        for hint in &hints {
            errln!("hint: {hint}");
        }
    }
    let generated = generated?;
    if json {
        outln!("{:#}", document(project, &generated, &hints, said));
        return Ok(Outcome::Clean);
    }
    match generated {
        Generated::NoChanges => outln!("No changes in schema detected."),
        Generated::Written {
            dir,
            not_written,
            changes,
            warnings,
            proof,
        } => {
            for (file, warning) in &warnings {
                errln!("{}", warning_text(file, warning));
            }
            if let Some(proof) = proof {
                errln!("{proof}");
            }
            let shown = project.display(&dir);
            match &not_written {
                None => outln!("Created {shown}"),
                Some(_) => outln!("Would create {shown} (--dry-run: nothing was written)"),
            }
            for change in &changes {
                outln!("  - {change}");
            }
            if let Some(files) = not_written {
                outln!("\n--- {shown}/up.sql\n{}", files.up);
                outln!("--- {shown}/down.sql\n{}", files.down);
            }
        }
    }
    Ok(Outcome::Clean)
}

/// `generate --format json`: what was written, its changes, warnings and hints, and the
/// proof's figures. `notes` holds the other lines a person would have read on stderr.
fn document(
    project: &Project,
    generated: &Generated,
    hints: &[String],
    notes: Vec<String>,
) -> serde_json::Value {
    let mut files = serde_json::Value::Null;
    let (created, changes, warnings, proof) = match generated {
        Generated::NoChanges => (None, Vec::new(), Vec::new(), None),
        Generated::Written {
            dir,
            not_written,
            changes,
            warnings,
            proof,
        } => (
            {
                let shown = project.display(dir).to_string();
                match not_written {
                    // Not created: the files say what would have been.
                    Some(written) => {
                        files = serde_json::json!({ "path": shown, "up": written.up, "down": written.down });
                        None
                    }
                    None => Some(shown),
                }
            },
            changes.iter().map(report::change).collect(),
            warnings
                .iter()
                .map(|(file, warning)| {
                    serde_json::json!({ "file": file, "code": warning.code(), "message": warning.to_string() })
                })
                .collect(),
            proof.as_ref().map(|p| {
                serde_json::json!({
                    "tables": p.tables,
                    "rows": p.rows,
                    "unseeded": p.unseeded.iter().map(|(table, reason)| serde_json::json!({ "table": table, "reason": reason })).collect::<Vec<_>>(),
                    "unproven": p.unproven,
                })
            }),
        ),
    };
    serde_json::json!({
        "version": report::JSON_VERSION,
        "command": "generate",
        "status": "ok",
        "exit": 0,
        "created": created,
        "dry_run": files,
        "changes": changes,
        "warnings": warnings,
        "hints": hints,
        "notes": notes,
        "proof": proof,
    })
}

/// What `generate` did.
enum Generated {
    NoChanges,
    Written {
        /// Where it was written; for `--dry-run`, where it would have been.
        dir: PathBuf,
        /// `--dry-run`: the files, which were not written.
        not_written: Option<Box<Files>>,
        changes: Vec<Change>,
        /// What the files do that a reviewer must know: the file, and what.
        warnings: Vec<(&'static str, Warning)>,
        /// `None` for `--empty`: hand-written SQL is proven by `verify`, not here.
        proof: Option<prove::Proof>,
    },
}

/// Generates, proves and writes the migration that brings head to schema.rs. Questions go
/// to `prompt` when a person is there to answer them; warnings and hints go to `report`.
fn generate(
    project: &Project,
    options: &GenerateOptions,
    mut prompt: Option<&mut dyn Prompt>,
    hints: &mut Vec<String>,
    report: &mut dyn FnMut(String),
    timings: &mut Timings,
) -> Result<Generated> {
    let slug = naming::slug(&options.message)?;
    for path in [
        project.versions_dir.join(".dev"),
        checksums::sum_path(&project.versions_dir),
        diagram::path(&project.schema_file),
    ] {
        project.ensure_writable_inside(&path)?;
    }
    // Held until the new version is published: a second run waits, then builds on it.
    let _lock = writing::lock(project, &mut *report)?;
    let mut comparison = compare(project, options.use_cache, true, timings)?;
    refuse_unrecorded_history(
        project,
        &comparison.versions,
        &comparison.links,
        "a new version on top of it would hide that",
    )?;
    let version = naming::next_version(time::OffsetDateTime::now_utc(), &comparison.versions)?;
    let dir_name = format!("{version}_{slug}");
    let stage = comparison.scratch.path().join("candidate");
    if options.empty {
        let files = render::render_empty(options.message.trim(), &version);
        if options.dry_run {
            return Ok(Generated::Written {
                dir: project.versions_dir.join(&dir_name),
                not_written: Some(Box::new(files)),
                changes: Vec::new(),
                warnings: Vec::new(),
                proof: None,
            });
        }
        let dir = timings.time("write", || -> Result<PathBuf> {
            write::write_files(&stage.join(&dir_name), &files)?;
            let records = records(project, &comparison, &stage, diagram_of(&comparison))?;
            write::publish(&project.versions_dir, &dir_name, &files, &records)
        })?;
        return Ok(Generated::Written {
            dir,
            not_written: None,
            changes: Vec::new(),
            warnings: Vec::new(),
            proof: None,
        });
    }
    let mut renames = options.renames();
    let object_changes: Vec<Change> = comparison
        .changes
        .iter()
        .filter(|c| c.is_object())
        .cloned()
        .collect();
    // Head with every joinable, hidden only once renamed: a table renamed into another
    // section takes its references along.
    let head = project.describe_with_every_joinable(&comparison.all_db)?;
    let mut changes = loop {
        let (renamed_head, changes) =
            diff_with_renames(&head, &comparison.target, &renames, |renamed| {
                project.hide_undeclarable_joinables(renamed)
            })?;
        let suggestions = rename_suggestions(&renamed_head, &changes);
        let accepted = match prompt.as_deref_mut() {
            Some(prompt) => suggestions
                .into_iter()
                .find(|s| prompt.confirm(&s.question())),
            None => {
                for suggestion in &suggestions {
                    hints.push(format!(
                        "{} If so, pass `{}` to keep the data.",
                        suggestion.question(),
                        suggestion.flag()
                    ));
                }
                None
            }
        };
        match accepted {
            Some(Suggestion::Table { from, to }) => renames.tables.push(TableRename { from, to }),
            Some(Suggestion::Column { table, from, to }) => {
                renames.columns.push(ColumnRename { table, from, to })
            }
            None => break changes,
        }
    };
    changes.extend(object_changes);
    if changes.is_empty() {
        return Ok(Generated::NoChanges);
    }
    plan::refuse_changing_virtual(&comparison.all_db, &changes)?;
    plan::refuse_dropping_referenced(&comparison.all_db, &changes)?;
    let needed = plan::needs_default(&changes, &comparison.head_db);
    let mut defaults = options.defaults();
    check_defaults(&comparison.inspector, &defaults, &needed)?;
    let missing: Vec<ColumnKey> = needed
        .into_iter()
        .filter(|key| !defaults.contains_key(key))
        .collect();
    let head_db = &comparison.head_db;
    match prompt {
        // Without a terminal, one run names every value it needs.
        None if !missing.is_empty() => {
            return Err(plan::missing_defaults(&missing, &changes, head_db));
        }
        None => {}
        Some(prompt) => {
            for key in missing {
                let question = plan::missing_default(&key, &changes, head_db)
                    .message
                    .clone();
                let example = plan::working_example(&key, &changes, head_db);
                match prompt.value(&format!("{question}. SQL value for them (e.g. {example}):")) {
                    Some(value) => defaults.insert(key, value),
                    None => return Err(plan::missing_default(&key, &changes, head_db)),
                };
            }
        }
    }
    plan::refuse_defaults_of_another_type(&defaults, &changes, &comparison.head_db)?;
    let conversions = options.conversions();
    check_conversions(&comparison.inspector, &conversions, &changes)?;
    let plan = timings.time("plan", || {
        plan::plan(
            &changes,
            plan::Goal {
                tables: &comparison.target,
                objects: comparison.declared.as_deref(),
            },
            plan::Given {
                defaults: &defaults,
                conversions: &conversions,
            },
            project.integer_primary_key_is_bigint,
            &comparison.all_db,
            &comparison.scratch.database(),
            &comparison.scratch.path().join("plan.sqlite3"),
        )
    })?;
    let files: Files = render::render(
        &Header {
            message: options.message.trim(),
            version: &version,
            changes: &changes,
        },
        &plan,
    );
    let proof = timings.time("prove", || {
        prove::prove(
            &mut comparison.conn,
            &comparison.inspector,
            project,
            &comparison.all_db,
            &comparison.target,
            comparison.declared.as_deref(),
            &changes,
            &conversions,
            &stage,
            &dir_name,
            &files,
        )
    })?;
    let warnings = warnings_of(&files);
    if options.dry_run {
        return Ok(Generated::Written {
            dir: project.versions_dir.join(&dir_name),
            not_written: Some(Box::new(files)),
            changes,
            warnings,
            proof: Some(proof),
        });
    }
    let dir = timings.time("write", || -> Result<PathBuf> {
        // The proof leaves the disposable database at the new head.
        let new_head = introspect::inspect(&comparison.inspector, &TableFilter::All)?
            .filtered(&project.filter);
        let new_schema = model::from_database(&new_head, project.integer_primary_key_is_bigint)?;
        let block = diagram::render(&new_head, &new_schema);
        let records = records(project, &comparison, &stage, block)?;
        write::publish(&project.versions_dir, &dir_name, &files, &records)
    })?;
    Ok(Generated::Written {
        dir,
        not_written: None,
        changes,
        warnings,
        proof: Some(proof),
    })
}

/// What the files do that a reviewer must know: the file, and the warning.
fn warnings_of(files: &Files) -> Vec<(&'static str, Warning)> {
    let mut warnings = Vec::new();
    for (file, text) in [("up.sql", &files.up), ("down.sql", &files.down)] {
        for warning in crate::history::effect::warnings(text) {
            warnings.push((file, warning));
        }
    }
    warnings
}

/// `warning[W002] (down.sql): ...`, the code when the tool wrote the line.
fn warning_text(file: &str, warning: &Warning) -> String {
    match warning.code() {
        Some(code) => format!("warning[{code}] ({file}): {warning}"),
        None => format!("warning ({file}): {warning}"),
    }
}

/// What is rewritten with the version staged under `stage`: the checksum file with it
/// recorded on top of the history compared against, and the diagram showing `block` when
/// the project keeps one.
fn records(
    project: &Project,
    comparison: &Comparison,
    stage: &std::path::Path,
    block: String,
) -> Result<Vec<files::Record>> {
    let mut versions = comparison.versions.clone();
    let mut links = if comparison.links.len() == versions.len() {
        comparison.links.clone()
    } else {
        checksums::links(&versions)?
    };
    let staged = versions::scan(stage)?;
    let [added] = staged.as_slice() else {
        return Err(Error::input(format!(
            "`{}` should hold exactly the new version",
            stage.display()
        )));
    };
    checksums::extend(&mut links, added)?;
    versions.push(added.clone());
    let mut records = vec![files::Record {
        path: checksums::sum_path(&project.versions_dir),
        text: checksums::render(&versions, &links),
    }];
    records.extend(diagram::refreshed(&project.schema_file, &block)?);
    Ok(records)
}
