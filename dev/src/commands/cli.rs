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
    /// Use only the `[print_schema.KEY]` section of diesel.toml, as diesel_cli's --schema-key.
    #[arg(long, value_name = "KEY", global = true)]
    pub schema_key: Option<String>,
    #[command(subcommand)]
    /// The command to run.
    pub command: Command,
}

/// The limits of the migrations a command runs on a disposable database (a pull request's
/// too), for the commands that run them there.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Limits {
    /// The longest one migration file (or one statement) may run on the disposable database.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT.time_limit, value_parser = clap::value_parser!(u64).range(1..))]
    pub time_limit: u64,
    /// The memory SQLite may take in this process, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::DEFAULT.memory_limit, value_parser = clap::value_parser!(i64).range(1..))]
    pub memory_limit: i64,
}

impl Limits {
    /// Five minutes and 4 GiB: far beyond any real migration, short of a runaway one.
    pub const DEFAULT: Limits = Limits {
        time_limit: 300,
        memory_limit: 4096,
    };
}

/// How a command that compares with head builds it on the disposable database, and times it.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Replay {
    /// Replay every migration instead of starting from a cached snapshot of head.
    #[arg(long)]
    pub no_cache: bool,
    /// Print how long each stage took, on stderr.
    #[arg(long)]
    pub timings: bool,
    /// The disposable database's limits.
    #[command(flatten)]
    pub limits: Limits,
}

/// The output of a command that prints text or one JSON document.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct JsonOutput {
    /// Output for people (text) or one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

/// The formats of [`JsonOutput`].
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOrJson {
    /// For people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The output of a command that also writes GitHub Actions annotations (a CI gate).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct GateOutput {
    /// Output for people (text), one JSON document, or GitHub Actions annotations.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    Generate {
        /// What to generate.
        #[command(flatten)]
        options: generate::GenerateOptions,
        /// How head is built.
        #[command(flatten)]
        replay: Replay,
        /// Text or JSON.
        #[command(flatten)]
        output: JsonOutput,
    },
    /// Exit 0 when schema.rs matches versions/, 1 when a migration is missing.
    Check {
        /// Check what is staged for commit (git's index), not the working tree: what the
        /// pre-commit hook runs.
        #[arg(long)]
        staged: bool,
        /// How head is built.
        #[command(flatten)]
        replay: Replay,
        /// Text, JSON or annotations.
        #[command(flatten)]
        output: GateOutput,
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
        /// The limits of `--rehearse`, which runs the versions on a copy.
        #[command(flatten)]
        limits: Limits,
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
        /// Text or JSON.
        #[command(flatten)]
        output: JsonOutput,
    },
    /// Every version, oldest first, with its message (and, with a database, which are applied).
    History {
        /// Also list each version's changes.
        #[arg(long, short)]
        verbose: bool,
        /// The database.
        #[command(flatten)]
        database: DatabaseArg,
        /// Text or JSON.
        #[command(flatten)]
        output: JsonOutput,
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
    Diagram {
        /// How head is built.
        #[command(flatten)]
        replay: Replay,
    },
    /// Record the checksums of versions/ again, accepting an intended edit.
    Rehash,
    /// Walk every version up, down and up again on a disposable database with rows.
    Verify {
        /// The disposable database's limits.
        #[command(flatten)]
        limits: Limits,
        /// Text or JSON.
        #[command(flatten)]
        output: JsonOutput,
    },
    /// Compare a database with the schema its applied versions give (exit 1 when it drifted).
    Drift {
        /// The database.
        #[command(flatten)]
        database: DatabaseArg,
        /// How the schema its versions give is built.
        #[command(flatten)]
        replay: Replay,
        /// Text, JSON or annotations.
        #[command(flatten)]
        output: GateOutput,
    },
    /// Write head's indexes, views and triggers into objects.sql beside schema.rs (adopting it).
    Objects {
        /// How head is built.
        #[command(flatten)]
        replay: Replay,
    },
    /// Replace every version up to --to with one proven baseline version.
    Squash {
        /// What to squash.
        #[command(flatten)]
        options: commands::squash::SquashOptions,
        /// How the history is built.
        #[command(flatten)]
        replay: Replay,
    },
    /// Print the shell completion script (bash, zsh, fish, elvish or powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Adopt the tool in a project with a history: dev.sum, .gitattributes, the pre-commit
    /// hook and (asked, or --diagram) the diagram; then check and verify, changing no version.
    Init {
        /// What to adopt.
        #[command(flatten)]
        options: commands::init::InitOptions,
        /// How head is built.
        #[command(flatten)]
        replay: Replay,
    },
    /// Make git run dev/hooks/pre-commit (git config core.hooksPath dev/hooks).
    InstallHooks,
    /// Many databases at once (one per tenant): where each stands, or upgrade them all.
    Fleet {
        /// `status` or `upgrade`.
        #[command(subcommand)]
        command: commands::fleet::FleetCommand,
    },
}

/// The subcommand's name, for messages and the JSON document of a failure.
pub fn command_name(command: &Command) -> &'static str {
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
        Command::Diagram { .. } => "diagram",
        Command::Rehash => "rehash",
        Command::Verify { .. } => "verify",
        Command::Squash { .. } => "squash",
        Command::Completions { .. } => "completions",
        Command::Init { .. } => "init",
        Command::Drift { .. } => "drift",
        Command::Objects { .. } => "objects",
        Command::InstallHooks => "install-hooks",
        Command::Fleet { command } => match command {
            commands::fleet::FleetCommand::Status { .. } => "fleet status",
            commands::fleet::FleetCommand::Upgrade(_) => "fleet upgrade",
        },
    }
}

impl Command {
    /// The format the command prints in (a failure too).
    pub fn format(&self) -> Format {
        match self {
            Command::Check { output, .. } | Command::Drift { output, .. } => output.format,
            Command::Generate { output, .. }
            | Command::Current { output, .. }
            | Command::History { output, .. }
            | Command::Verify { output, .. } => match output.format {
                TextOrJson::Text => Format::Text,
                TextOrJson::Json => Format::Json,
            },
            Command::Fleet { command } => command.format(),
            _ => Format::Text,
        }
    }

    /// How the command builds head, for those that build it on a disposable database.
    fn replay(&self) -> Option<&Replay> {
        match self {
            Command::Generate { replay, .. }
            | Command::Check { replay, .. }
            | Command::Diagram { replay }
            | Command::Drift { replay, .. }
            | Command::Objects { replay }
            | Command::Squash { replay, .. }
            | Command::Init { replay, .. } => Some(replay),
            _ => None,
        }
    }

    /// Whether head may come from the cache (`--no-cache` not given).
    pub fn use_cache(&self) -> bool {
        self.replay().is_none_or(|replay| !replay.no_cache)
    }

    /// The limits of the migrations the command runs on a disposable database; the defaults
    /// for a command that runs none there.
    pub fn limits(&self) -> Limits {
        match self {
            Command::Upgrade { limits, .. } | Command::Verify { limits, .. } => *limits,
            _ => self
                .replay()
                .map_or(Limits::DEFAULT, |replay| replay.limits),
        }
    }

    /// Whether `--timings` asked for the stages' times.
    pub fn timings(&self) -> bool {
        self.replay().is_some_and(|replay| replay.timings)
    }
}
