//! The `dev` command line: parses the arguments, runs the command they name (each is a file
//! of `commands`), prints a failure through the one error renderer and exits with its code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use dev::commands::report::{self, Format};
use dev::commands::{self, database::Safety, generate};
use dev::error::Error;
use dev::generate::diff::{ColumnRename, TableRename};
use dev::project::Project;
use dev::support::output;
use dev::support::timing::Timings;

#[derive(Parser)]
#[command(
    name = "dev",
    version,
    about = "Generate and check Diesel SQLite migrations from schema.rs, proven on a disposable database"
)]
struct Cli {
    /// Run as if started in DIR (the project is found by walking up to diesel.toml).
    #[arg(short = 'C', long = "project-dir", value_name = "DIR", global = true)]
    project_dir: Option<PathBuf>,
    /// Replay every migration instead of starting from a cached snapshot of head.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Print how long each stage took (generate and check), on stderr.
    #[arg(long, global = true)]
    timings: bool,
    /// Output for people (text), one JSON document (check, generate, drift, history, current,
    /// verify), or GitHub Actions annotations (check, drift).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    format: Format,
    /// Use only the `[print_schema.KEY]` section of diesel.toml, as diesel_cli's --schema-key.
    #[arg(long, value_name = "KEY", global = true)]
    schema_key: Option<String>,
    /// The longest one migration file (or one statement) may run on a disposable database,
    /// where check, generate, verify, drift, squash and init run the migrations (a pull
    /// request's too).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    time_limit: u64,
    /// The memory SQLite may take in this process, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096, value_parser = clap::value_parser!(i64).range(1..), global = true)]
    memory_limit: i64,
    #[command(subcommand)]
    command: Command,
}

/// The database a command works on, for the commands that work on one.
#[derive(clap::Args)]
struct DatabaseArg {
    /// The database to work on (a path or sqlite:// URL); DATABASE_URL is read otherwise.
    #[arg(long = "database", value_name = "PATH")]
    path: Option<String>,
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
        #[arg(long = "default", value_name = "TABLE.COLUMN=SQL_EXPR", value_parser = generate::DefaultArg::parse)]
        defaults: Vec<generate::DefaultArg>,
        /// How a retyped column's values become the new type's, as SQL over the old row,
        /// when the copy cannot keep them as they are (repeatable); written into the file with
        /// a warning.
        #[arg(long = "convert", value_name = "TABLE.COLUMN=SQL_EXPR", value_parser = generate::DefaultArg::parse)]
        conversions: Vec<generate::DefaultArg>,
        /// Rename a column instead of dropping and adding it (repeatable).
        #[arg(long = "rename", value_name = "TABLE.OLD=NEW", value_parser = ColumnRename::parse)]
        renames: Vec<ColumnRename>,
        /// Rename a table instead of dropping and creating it (repeatable).
        #[arg(long = "rename-table", value_name = "OLD=NEW", value_parser = TableRename::parse)]
        table_renames: Vec<TableRename>,
        /// Plan and prove the migration, print it and the proof's verdict, and write nothing
        /// (as Django's `makemigrations --dry-run`).
        #[arg(long)]
        dry_run: bool,
    },
    /// Exit 0 when schema.rs matches versions/, 1 when a migration is missing.
    Check {
        /// Check what is staged for commit (git's index), not the working tree: what the
        /// pre-commit hook runs.
        #[arg(long)]
        staged: bool,
    },
    /// Apply pending versions up to TARGET: head (default), a version, or +N.
    Upgrade {
        target: Option<String>,
        #[command(flatten)]
        database: DatabaseArg,
        #[command(flatten)]
        safety: Safety,
        /// Run every pending version up, down and up again on a copy of the database (in the
        /// temp directory), compare every row by its key, and report; the database is not
        /// touched. Exit 1 when a value does not survive.
        #[arg(long, conflicts_with_all = ["sql", "backup", "yes"])]
        rehearse: bool,
    },
    /// Revert applied versions down to TARGET: -N steps, a version (kept), or base.
    Downgrade {
        #[arg(allow_hyphen_values = true)]
        target: String,
        #[command(flatten)]
        database: DatabaseArg,
        #[command(flatten)]
        safety: Safety,
    },
    /// Revert the newest applied version and apply it again.
    Redo {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(flatten)]
        safety: Safety,
    },
    /// The newest applied version, and whether it is head.
    Current {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Every version, oldest first, with its message (and, with a database, which are applied).
    History {
        /// Also list each version's changes.
        #[arg(long, short)]
        verbose: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// A version's header, up.sql and down.sql.
    Show { version: String },
    /// Mark versions applied up to VERSION without running anything (`base` clears).
    Stamp {
        target: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Write the Mermaid diagram of head into the README beside schema.rs.
    Diagram,
    /// Record the checksums of versions/ again, accepting an intended edit.
    Rehash,
    /// Walk every version up, down and up again on a disposable database with rows.
    Verify,
    /// Compare a database with the schema its applied versions give (exit 1 when it drifted).
    Drift {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Write head's indexes, views and triggers into objects.sql beside schema.rs (adopting it).
    Objects,
    /// Replace every version up to --to with one proven baseline version.
    Squash {
        /// What the baseline says of itself, e.g. "baseline of 2026".
        message: String,
        /// The newest version to replace: a version, a unique prefix or a unique slug.
        #[arg(long, value_name = "VERSION")]
        to: String,
    },
    /// Print the shell completion script (bash, zsh, fish, elvish or powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Adopt the tool in a project with a history: dev.sum, .gitattributes, the pre-commit
    /// hook and (asked, or --diagram) the diagram; then check and verify, changing no version.
    Init {
        /// Keep a Mermaid diagram of the schema without asking.
        #[arg(long)]
        diagram: bool,
    },
    /// Make git run dev/hooks/pre-commit (git config core.hooksPath dev/hooks).
    InstallHooks,
}

fn main() -> ExitCode {
    dev::sqlite::ffi::configure_sqlite();
    let cli = Cli::parse();
    dev::sqlite::sandbox::install(dev::sqlite::sandbox::Limits {
        statement_time: std::time::Duration::from_secs(cli.time_limit),
        heap_bytes: cli.memory_limit.saturating_mul(1 << 20),
    });
    let mut timings = Timings::default();
    let outcome = dispatch(&cli, &mut timings);
    if let Err(err) = &outcome {
        match cli.format {
            Format::Text => {}
            Format::Json => output::write(format_args!(
                "{:#}\n",
                report::failure(command_name(&cli.command), err)
            )),
            Format::Github => output::write(format_args!(
                "{}\n",
                report::diagnostic_annotation("error", err)
            )),
        }
    }
    if cli.timings {
        output::write_err(format_args!("{}", timings.report()));
    }
    let written = output::finish();
    match outcome.and_then(|code| written.map(|()| code)) {
        Ok(code) => code,
        Err(err) => {
            output::write_err(format_args!("{err}"));
            ExitCode::from(err.kind().exit_code())
        }
    }
}

/// Runs the command `cli` names, in the project found from `-C` or the current directory.
fn dispatch(cli: &Cli, timings: &mut Timings) -> Result<ExitCode, Error> {
    let start = match &cli.project_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()
            .map_err(|e| Error::input(format!("cannot read the current directory: {e}")))?,
    };
    let project = || {
        let project = Project::discover(&start)?;
        match &cli.schema_key {
            Some(key) => project.with_schema_key(key),
            None => Ok(project),
        }
    };
    let machine_readable = matches!(
        cli.command,
        Command::Check { .. }
            | Command::Drift { .. }
            | Command::Current { .. }
            | Command::History { .. }
            | Command::Generate { .. }
            | Command::Verify
    );
    if cli.format == Format::Github
        && !matches!(cli.command, Command::Check { .. } | Command::Drift { .. })
        || cli.format == Format::Json && !machine_readable
    {
        return Err(Error::input(format!(
            "`{}` has no --format {}: `check`, `generate`, `drift`, `history`, `current` and `verify` print JSON, `check` and `drift` GitHub annotations",
            command_name(&cli.command),
            if cli.format == Format::Json {
                "json"
            } else {
                "github"
            }
        ))
        .help("drop --format for this command"));
    }
    let use_cache = !cli.no_cache;
    match &cli.command {
        Command::Generate {
            message,
            empty,
            defaults,
            conversions,
            renames,
            table_renames,
            dry_run,
        } => {
            let options = generate::GenerateOptions {
                message: message.clone(),
                empty: *empty,
                dry_run: *dry_run,
                defaults: defaults.clone(),
                conversions: conversions.clone(),
                column_renames: renames.clone(),
                table_renames: table_renames.clone(),
                use_cache,
            };
            generate::run(&project()?, &options, cli.format, timings)
        }
        Command::Check { staged } => {
            let options = commands::check::CheckOptions {
                staged: *staged,
                use_cache,
                project_dir: cli.project_dir.as_deref(),
                format: cli.format,
                schema_key: cli.schema_key.as_deref(),
            };
            commands::check::run(&start, &options, timings)
        }
        Command::Upgrade {
            target,
            database,
            safety,
            rehearse,
        } => {
            let database = database.path.as_deref();
            let project = project()?;
            if *rehearse {
                commands::upgrade::rehearse(&project, database, target.as_deref())
            } else {
                commands::upgrade::run(&project, database, target.as_deref(), safety)
            }
        }
        Command::Downgrade {
            target,
            database,
            safety,
        } => commands::downgrade::run(&project()?, database.path.as_deref(), target, safety),
        Command::Redo { database, safety } => {
            commands::redo::run(&project()?, database.path.as_deref(), safety)
        }
        Command::Current { database } => {
            commands::current::run(&project()?, database.path.as_deref(), cli.format)
        }
        Command::Drift { database } => commands::drift::run(
            &project()?,
            database.path.as_deref(),
            use_cache,
            cli.format,
            timings,
        ),
        Command::History { verbose, database } => {
            commands::history::run(&project()?, database.path.as_deref(), *verbose, cli.format)
        }
        Command::Show { version } => commands::show::run(&project()?, version),
        Command::Stamp { target, database } => {
            commands::stamp::run(&project()?, database.path.as_deref(), target)
        }
        Command::Diagram => commands::diagram::run(&project()?, use_cache, timings),
        Command::Rehash => commands::rehash::run(&project()?),
        Command::Objects => commands::objects::run(&project()?, use_cache, timings),
        Command::Verify => commands::verify::run(&project()?, cli.format),
        Command::Init { diagram } => {
            let mut terminal = dev::support::ask::terminal();
            let prompt = terminal
                .as_mut()
                .map(|t| t as &mut dyn dev::support::ask::Prompt);
            let options = commands::init::InitOptions {
                diagram: *diagram,
                use_cache,
            };
            commands::init::run(&project()?, options, prompt, timings)
        }
        Command::Completions { shell } => commands::completions::run(Cli::command(), *shell),
        Command::Squash { message, to } => {
            let options = commands::squash::SquashOptions {
                to: to.clone(),
                message: message.clone(),
                use_cache,
            };
            commands::squash::run(&project()?, &options, timings)
        }
        Command::InstallHooks => commands::install_hooks::run(&project()?),
    }
}

/// The subcommand's name, for messages and the JSON document of a failure.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Generate { .. } => "generate",
        Command::Check { .. } => "check",
        Command::Upgrade { .. } => "upgrade",
        Command::Downgrade { .. } => "downgrade",
        Command::Redo { .. } => "redo",
        Command::Current { .. } => "current",
        Command::History { .. } => "history",
        Command::Show { .. } => "show",
        Command::Stamp { .. } => "stamp",
        Command::Diagram => "diagram",
        Command::Rehash => "rehash",
        Command::Verify => "verify",
        Command::Squash { .. } => "squash",
        Command::Completions { .. } => "completions",
        Command::Init { .. } => "init",
        Command::Drift { .. } => "drift",
        Command::Objects => "objects",
        Command::InstallHooks => "install-hooks",
    }
}
