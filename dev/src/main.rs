//! The `dev` command line: `generate` and `check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use dev::ask;
use dev::commands::{self, GenerateOptions, Generated};
use dev::diff::Renames;
use dev::error::Error;
use dev::project::Project;

#[derive(Parser)]
#[command(
    name = "dev",
    about = "Generate and check Diesel SQLite migrations from schema.rs, proven on a disposable database"
)]
struct Cli {
    /// Run as if started in DIR (the project is found by walking up to diesel.toml).
    #[arg(short = 'C', long = "project-dir", value_name = "DIR", global = true)]
    project_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the migration that brings versions/ to schema.rs.
    Generate {
        /// What the migration does, e.g. "add bio to users".
        message: String,
        /// Write an empty migration for hand-written SQL.
        #[arg(long)]
        empty: bool,
        /// Value for existing rows of a column added as, or made, NOT NULL (repeatable).
        #[arg(long = "default", value_name = "TABLE.COLUMN=SQL_EXPR", value_parser = commands::parse_default)]
        defaults: Vec<(String, String)>,
        /// Rename a column instead of dropping and adding it (repeatable).
        #[arg(long = "rename", value_name = "TABLE.OLD=NEW", value_parser = commands::parse_column_rename)]
        renames: Vec<(String, String, String)>,
        /// Rename a table instead of dropping and creating it (repeatable).
        #[arg(long = "rename-table", value_name = "OLD=NEW", value_parser = commands::parse_table_rename)]
        table_renames: Vec<(String, String)>,
    },
    /// Exit 0 when schema.rs matches versions/, 1 when a migration is missing.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprint!("{err}");
            ExitCode::from(u8::try_from(err.kind.exit_code()).unwrap_or(2))
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, Error> {
    let start = match &cli.project_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()
            .map_err(|e| Error::input(format!("cannot read the current directory: {e}")))?,
    };
    let project = Project::discover(&start)?;
    match &cli.command {
        Command::Generate {
            message,
            empty,
            defaults,
            renames,
            table_renames,
        } => {
            let options = GenerateOptions {
                message: message.clone(),
                empty: *empty,
                defaults: defaults.iter().cloned().collect(),
                renames: Renames {
                    tables: table_renames.clone(),
                    columns: renames.clone(),
                },
            };
            let mut terminal = ask::terminal();
            let prompt = terminal.as_mut().map(|t| t as &mut dyn ask::Prompt);
            let generated =
                commands::generate(&project, &options, prompt, &mut |line| eprintln!("{line}"))?;
            match generated {
                Generated::NoChanges => println!("No changes in schema detected."),
                Generated::Written { dir, changes } => {
                    println!("Created {}", project.display(&dir));
                    for change in &changes {
                        println!("  - {change}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let comparison = commands::compare(&project)?;
            let count = comparison.versions.len();
            if comparison.changes.is_empty() {
                println!(
                    "schema.rs matches {}/ ({count} migration{})",
                    project.display(&project.versions_dir),
                    if count == 1 { "" } else { "s" }
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} differs from {}/ ({count} migration{}): no migration makes these changes:",
                project.display(&project.schema_file),
                project.display(&project.versions_dir),
                if count == 1 { "" } else { "s" }
            );
            for change in &comparison.changes {
                println!("  - {change}");
            }
            let project_flag = cli
                .project_dir
                .as_ref()
                .map(|d| format!(" -C {}", d.display()))
                .unwrap_or_default();
            println!(
                "\nGenerate it with:\n  cargo run -p dev --{project_flag} generate \"{}\"",
                commands::suggested_message(&comparison.changes)
            );
            Ok(ExitCode::from(1))
        }
    }
}
