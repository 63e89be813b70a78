//! `generate`: writes the migration that brings `versions/` to schema.rs, proven on a
//! disposable database first. Renames and values for existing rows come from flags, or from
//! the person at the terminal when there is one.

use std::path::PathBuf;

use crate::commands::report::{self, ChangeJson, Document, Format};
use crate::commands::writing;
use crate::commands::Outcome;
use crate::error::Result;
use crate::generate::diff::{Change, ColumnRename, Renames, TableRename};
use crate::generate::naming;
use crate::generate::render::{self, Files};
use crate::history::checksums;
use crate::history::effect::Effect;
use crate::project::Project;
use crate::prove;
use crate::schema::diagram;
use crate::support::ask::{self, Prompt};
use crate::support::output::{errln, outln};
use crate::support::timing::Timings;
use crate::workspace::candidate::Candidate;
pub use crate::workspace::given::DefaultArg;
use crate::workspace::problems::refuse_unrecorded_history;
use crate::workspace::Workspace;

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
    /// Start from a snapshot of head when one verifies (`--no-cache` turns it off).
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
        Document::new(
            "generate",
            "ok",
            0,
            document(project, &generated, &hints, said),
        )
        .print();
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
fn document<'a>(
    project: &Project,
    generated: &'a Generated,
    hints: &'a [String],
    notes: Vec<String>,
) -> GenerateJson<'a> {
    let mut json = GenerateJson {
        created: None,
        dry_run: None,
        changes: Vec::new(),
        warnings: Vec::new(),
        hints,
        notes,
        proof: None,
    };
    if let Generated::Written {
        dir,
        not_written,
        changes,
        warnings,
        proof,
    } = generated
    {
        let shown = project.display(dir).to_string();
        match not_written {
            // Not created: the files say what would have been.
            Some(files) => {
                json.dry_run = Some(DryRunJson {
                    path: shown,
                    up: &files.up,
                    down: &files.down,
                })
            }
            None => json.created = Some(shown),
        }
        json.changes = report::changes(changes);
        json.warnings = warnings
            .iter()
            .map(|(file, effect)| WarningJson {
                file,
                code: effect.code(),
                message: effect.to_string(),
            })
            .collect();
        json.proof = proof.as_ref().map(|p| ProofJson {
            tables: p.tables,
            rows: p.rows,
            unseeded: p
                .unseeded
                .iter()
                .map(|(table, reason)| UnseededJson { table, reason })
                .collect(),
            unproven: &p.unproven,
        });
    }
    json
}

/// The fields of `generate --format json`.
#[derive(serde::Serialize)]
struct GenerateJson<'a> {
    /// The directory written; `None` with nothing written.
    created: Option<String>,
    /// `--dry-run`: where it would have been written, and the files.
    dry_run: Option<DryRunJson<'a>>,
    changes: Vec<ChangeJson>,
    warnings: Vec<WarningJson<'a>>,
    hints: &'a [String],
    notes: Vec<String>,
    proof: Option<ProofJson<'a>>,
}

#[derive(serde::Serialize)]
struct DryRunJson<'a> {
    path: String,
    up: &'a str,
    down: &'a str,
}

#[derive(serde::Serialize)]
struct WarningJson<'a> {
    file: &'a str,
    code: &'static str,
    message: String,
}

#[derive(serde::Serialize)]
struct ProofJson<'a> {
    tables: usize,
    rows: usize,
    unseeded: Vec<UnseededJson<'a>>,
    unproven: &'a [String],
}

#[derive(serde::Serialize)]
struct UnseededJson<'a> {
    table: &'a str,
    reason: &'a str,
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
        warnings: Vec<(&'static str, Effect)>,
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
    let mut workspace = Workspace::open(project, options.use_cache, true, timings)?;
    let hidden = "a new version on top of it would hide that";
    refuse_unrecorded_history(project, &workspace.versions, &workspace.links, hidden)?;
    let candidate = workspace.candidate(&slug)?;
    let message = options.message.trim();
    let made = if options.empty {
        Made {
            files: render::render_empty(message, &candidate.version),
            warnings: Vec::new(),
            changes: Vec::new(),
            proof: None,
        }
    } else {
        let renames = options.renames();
        let changes = workspace.resolve_renames(project, renames, prompt.as_deref_mut(), hints)?;
        if changes.is_empty() {
            return Ok(Generated::NoChanges);
        }
        workspace.refuse_unplannable(&changes)?;
        let given = workspace.given(&options.defaults, &options.conversions, &changes, prompt)?;
        let planned = workspace.plan(project, &candidate, message, &changes, &given, timings)?;
        let (files, warnings) = (planned.files, planned.warnings);
        let proof = workspace.prove(project, &candidate, &changes, &given, &files, timings)?;
        Made {
            files,
            warnings,
            changes,
            proof: Some(proof),
        }
    };
    let dry_run = options.dry_run;
    publish(project, &workspace, &candidate, dry_run, made, timings)
}

/// The files made for the candidate version, what they change, and their proof (`None` for
/// `--empty`: hand-written SQL is proven by `verify`).
struct Made {
    files: Files,
    /// What the files do that a reviewer must know: the file, and what.
    warnings: Vec<(&'static str, Effect)>,
    changes: Vec<Change>,
    proof: Option<prove::Proof>,
}

/// Publishes what was made (unless `dry_run`), and says what it is.
fn publish(
    project: &Project,
    workspace: &Workspace,
    candidate: &Candidate,
    dry_run: bool,
    made: Made,
    timings: &mut Timings,
) -> Result<Generated> {
    let Made {
        files,
        warnings,
        changes,
        proof,
    } = made;
    let (dir, not_written) = if dry_run {
        let dir = project.versions_dir.join(&candidate.dir_name);
        (dir, Some(Box::new(files)))
    } else {
        let dir = timings.time("write", || match proof {
            Some(_) => workspace.publish(project, candidate, &files),
            None => workspace.publish_unproven(project, candidate, &files),
        })?;
        (dir, None)
    };
    Ok(Generated::Written {
        dir,
        not_written,
        changes,
        warnings,
        proof,
    })
}

/// `warning[W002] (down.sql): ...`.
fn warning_text(file: &str, effect: &Effect) -> String {
    format!("warning[{}] ({file}): {effect}", effect.code())
}
