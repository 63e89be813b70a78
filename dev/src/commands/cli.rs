//! The command line as clap reads it: the global options, and each command with its own
//! options (the larger ones as their command's `Args` struct, used as they are).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::database::Safety;
use crate::commands::report::Format;
use crate::commands::{self, generate};

/// The `dev` command line.
#[derive(Parser)]
#[command(
    name = "dev",
    version,
    about = "Generate and check Diesel SQLite migrations from schema.rs, proven on a disposable database"
)]
pub struct Cli {
    /// Run as if started in DIR (the project is found by walking up to diesel.toml).
    #[arg(short = 'C', long = "project-dir", value_name = "DIR", global = true)]
    pub project_dir: Option<PathBuf>,
    /// Replay every migration instead of starting from a cached snapshot of head.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Print how long each stage took (generate and check), on stderr.
    #[arg(long, global = true)]
    pub timings: bool,
    /// Output for people (text), one JSON document (check, generate, drift, history, current,
    /// verify), or GitHub Actions annotations (check, drift).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// Use only the `[print_schema.KEY]` section of diesel.toml, as diesel_cli's --schema-key.
    #[arg(long, value_name = "KEY", global = true)]
    pub schema_key: Option<String>,
    /// The longest one migration file (or one statement) may run on a disposable database,
    /// where check, generate, verify, drift, squash and init run the migrations (a pull
    /// request's too).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub time_limit: u64,
    /// The memory SQLite may take in this process, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096, value_parser = clap::value_parser!(i64).range(1..), global = true)]
    pub memory_limit: i64,
    #[command(subcommand)]
    /// The command to run.
    pub command: Command,
}

/// The database a command works on, for the commands that work on one.
#[derive(clap::Args)]
pub struct DatabaseArg {
    /// The database to work on (a path or sqlite:// URL); DATABASE_URL is read otherwise.
    #[arg(long = "database", value_name = "PATH")]
    pub path: Option<String>,
}

/// The database a command changes, and how carefully.
#[derive(clap::Args)]
pub struct DatabaseChange {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArg,
    /// `--sql`, `--backup`, `--yes`.
    #[command(flatten)]
    pub safety: Safety,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Write the migration that brings versions/ to schema.rs.
    Generate(generate::GenerateOptions),
    /// Exit 0 when schema.rs matches versions/, 1 when a migration is missing.
    Check {
        /// Check what is staged for commit (git's index), not the working tree: what the
        /// pre-commit hook runs.
        #[arg(long)]
        staged: bool,
    },
    /// Apply pending versions up to TARGET: head (default), a version, or +N.
    Upgrade {
        /// Where to: `head` (the default), a version, or `+N` versions.
        target: Option<String>,
        /// The database, and the safety flags of a change to it.
        #[command(flatten)]
        change: DatabaseChange,
        /// Run every pending version up, down and up again on a copy of the database (in the
        /// temp directory), compare every row by its key, and report; the database is not
        /// touched. Exit 1 when a value does not survive.
        #[arg(long, conflicts_with_all = ["sql", "backup", "yes"])]
        rehearse: bool,
    },
    /// Revert applied versions down to TARGET: -N steps, a version (kept), or base.
    Downgrade {
        /// Where to: `-N` versions back, a version (kept), or `base`.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// The database, and the safety flags of a change to it.
        #[command(flatten)]
        change: DatabaseChange,
    },
    /// Revert the newest applied version and apply it again.
    Redo {
        /// The database, and the safety flags of a change to it.
        #[command(flatten)]
        change: DatabaseChange,
    },
    /// The newest applied version, and whether it is head.
    Current {
        /// The database.
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Every version, oldest first, with its message (and, with a database, which are applied).
    History {
        /// Also list each version's changes.
        #[arg(long, short)]
        verbose: bool,
        /// The database.
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// A version's header, up.sql and down.sql.
    Show {
        /// The version: in full, a unique prefix, or a unique slug.
        version: String,
    },
    /// Mark versions applied up to VERSION without running anything (`base` clears).
    Stamp {
        /// The newest version to mark applied, `head`, or `base`.
        target: String,
        /// The database.
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
        /// The database.
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Write head's indexes, views and triggers into objects.sql beside schema.rs (adopting it).
    Objects,
    /// Replace every version up to --to with one proven baseline version.
    Squash(commands::squash::SquashOptions),
    /// Print the shell completion script (bash, zsh, fish, elvish or powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Adopt the tool in a project with a history: dev.sum, .gitattributes, the pre-commit
    /// hook and (asked, or --diagram) the diagram; then check and verify, changing no version.
    Init(commands::init::InitOptions),
    /// Make git run dev/hooks/pre-commit (git config core.hooksPath dev/hooks).
    InstallHooks,
}

/// The subcommand's name, for messages and the JSON document of a failure.
pub fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Generate(_) => "generate",
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
        Command::Squash(_) => "squash",
        Command::Completions { .. } => "completions",
        Command::Init(_) => "init",
        Command::Drift { .. } => "drift",
        Command::Objects => "objects",
        Command::InstallHooks => "install-hooks",
    }
}
