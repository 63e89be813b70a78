//! The `dev` command line: `generate` and `check`.
//!
//! Everything goes out through `out!`/`outln!` (stdout) and `err!`/`errln!` (stderr), never
//! `println!`, which panics when the reader has gone: `dev history | head -1` must end
//! quietly, and its temporary directories must still be removed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use dev::apply::database::{self, DATABASE_URL};
use dev::apply::migrate::{Session, Step};
use dev::commands::{self, GenerateOptions, Generated};
use dev::error::Error;
use dev::generate::diff::Renames;
use dev::history::header;
use dev::history::staged::Staged;
use dev::project::Project;
use dev::support::ask;
use dev::support::timing::Timings;

/// Writes to stdout through `output`, which never panics.
macro_rules! out {
    ($($arg:tt)*) => { output::write(format_args!($($arg)*)) };
}

/// `out!` with a newline.
macro_rules! outln {
    ($($arg:tt)*) => { output::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes to stderr. Errors are ignored: stderr is where a failure would be reported.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// `err!` with a newline.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// The command's output on stdout. A reader that stops reading (`dev history | head -1`) is
/// not a failure: the rest of the output is dropped and the command finishes as it would
/// have, cleanup included. Any other failure to write (a full disk) is kept, and reported
/// when the command ends.
mod output {
    use std::io::{ErrorKind, Write};
    use std::sync::Mutex;

    use dev::error::Error;

    enum State {
        Open,
        Closed,
        Failed(std::io::Error),
    }

    static STATE: Mutex<State> = Mutex::new(State::Open);

    fn state() -> std::sync::MutexGuard<'static, State> {
        STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn settle(state: &mut State, written: std::io::Result<()>) {
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => *state = State::Closed,
            Err(e) => *state = State::Failed(e),
        }
    }

    /// Writes `args` to stdout unless it already failed or was closed.
    pub fn write(args: std::fmt::Arguments<'_>) {
        let mut state = state();
        if matches!(*state, State::Open) {
            settle(&mut state, std::io::stdout().lock().write_fmt(args));
        }
    }

    /// Flushes stdout; a write that failed for another reason than a closed reader is the
    /// error.
    pub fn finish() -> Result<(), Error> {
        let mut state = state();
        if matches!(*state, State::Open) {
            settle(&mut state, std::io::stdout().lock().flush());
        }
        match &*state {
            State::Failed(e) => Err(Error::input(format!("cannot write the output: {e}"))
                .help("write it somewhere with room (check the disk or the file it goes to)")),
            _ => Ok(()),
        }
    }
}

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
    /// The database to work on (a path or sqlite:// URL); DATABASE_URL is read otherwise.
    #[arg(long, value_name = "PATH", global = true)]
    database: Option<String>,
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
        defaults: Vec<(dev::generate::plan::ColumnKey, String)>,
        /// Rename a column instead of dropping and adding it (repeatable).
        #[arg(long = "rename", value_name = "TABLE.OLD=NEW", value_parser = commands::parse_column_rename)]
        renames: Vec<(String, String, String)>,
        /// Rename a table instead of dropping and creating it (repeatable).
        #[arg(long = "rename-table", value_name = "OLD=NEW", value_parser = commands::parse_table_rename)]
        table_renames: Vec<(String, String)>,
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
        safety: Safety,
    },
    /// Revert applied versions down to TARGET: -N steps, a version (kept), or base.
    Downgrade {
        #[arg(allow_hyphen_values = true)]
        target: String,
        #[command(flatten)]
        safety: Safety,
    },
    /// Revert the newest applied version and apply it again.
    Redo {
        #[command(flatten)]
        safety: Safety,
    },
    /// The newest applied version, and whether it is head.
    Current,
    /// Every version, oldest first, with its message (and, with a database, which are applied).
    History {
        /// Also list each version's changes.
        #[arg(long, short)]
        verbose: bool,
    },
    /// A version's header, up.sql and down.sql.
    Show { version: String },
    /// Mark versions applied up to VERSION without running anything (`base` clears).
    Stamp { target: String },
    /// Write the Mermaid diagram of head into the README beside schema.rs.
    Diagram,
    /// Record the checksums of versions/ again, accepting an intended edit.
    Rehash,
    /// Walk every version up, down and up again on a disposable database with rows.
    Verify,
    /// Make git run dev/hooks/pre-commit (git config core.hooksPath dev/hooks).
    InstallHooks,
}

/// Flags of the commands that change a database.
#[derive(clap::Args)]
struct Safety {
    /// Print the SQL that would run, in order, and touch nothing.
    #[arg(long)]
    sql: bool,
    /// Copy the database beside it (SQLite online backup) before changing anything.
    #[arg(long)]
    backup: bool,
    /// Run SQL that drops tables or columns holding data without asking.
    #[arg(long)]
    yes: bool,
}

fn main() -> ExitCode {
    dev::sqlite::ffi::configure_sqlite();
    let cli = Cli::parse();
    let mut timings = Timings::default();
    let outcome = run(&cli, &mut timings);
    if cli.timings {
        err!("{}", timings.report());
    }
    let written = output::finish();
    match outcome.and_then(|code| written.map(|()| code)) {
        Ok(code) => code,
        Err(err) => {
            err!("{err}");
            ExitCode::from(u8::try_from(err.kind.exit_code()).unwrap_or(2))
        }
    }
}

fn run(cli: &Cli, timings: &mut Timings) -> Result<ExitCode, Error> {
    let start = match &cli.project_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()
            .map_err(|e| Error::input(format!("cannot read the current directory: {e}")))?,
    };
    if let Command::Check { staged: true } = cli.command {
        let staged = Staged::materialise(&start)?;
        return check(cli, staged.project(), Some(&staged), timings).map_err(|e| staged.shown(e));
    }
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
                use_cache: !cli.no_cache,
            };
            let mut terminal = ask::terminal();
            let prompt = terminal.as_mut().map(|t| t as &mut dyn ask::Prompt);
            let generated = commands::generate(
                &project,
                &options,
                prompt,
                &mut |line| errln!("{line}"),
                timings,
            )?;
            match generated {
                Generated::NoChanges => outln!("No changes in schema detected."),
                Generated::Written { dir, changes } => {
                    outln!("Created {}", project.display(&dir));
                    for change in &changes {
                        outln!("  - {change}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { .. } => check(cli, &project, None, timings),
        Command::Upgrade { target, safety } => migrate(cli, &project, safety, true, |s| {
            s.upgrade_steps(target.as_deref())
        }),
        Command::Downgrade { target, safety } => {
            migrate(cli, &project, safety, false, |s| s.downgrade_steps(target))
        }
        Command::Redo { safety } => migrate(cli, &project, safety, false, |s| s.redo_steps()),
        Command::Current => {
            let mut report = |line: String| outln!("{line}");
            let session = Session::new(&project, locate(cli)?, false, None, &mut report)?;
            require_file(&session)?;
            let pending: Vec<&str> = session
                .versions
                .iter()
                .filter(|v| !session.applied.contains(&v.key))
                .map(|v| v.dir_name.as_str())
                .collect();
            let unknown: Vec<String> = session
                .unknown_applied()
                .iter()
                .map(|s| s.to_string())
                .collect();
            let position = session.position();
            if pending.is_empty() {
                outln!("{position} (head)");
            } else {
                outln!(
                    "{position} ({} pending: {})",
                    pending.len(),
                    pending.join(", ")
                );
            }
            for version in unknown {
                errln!("warning: the database applied {version}, which versions/ does not contain");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History { verbose } => {
            let versions = dev::history::versions::scan(&project.versions_dir)?;
            let applied = match cli
                .database
                .as_deref()
                .or(std::env::var(DATABASE_URL).ok().as_deref())
            {
                Some(given) => {
                    let path = database::locate(Some(given))?;
                    database::open(&path, false)?;
                    Some(database::applied(&path)?)
                }
                None => None,
            };
            for version in &versions {
                let header = header::header(version);
                let mark = match &applied {
                    Some(applied) if applied.contains(&version.key) => "[x] ",
                    Some(_) => "[ ] ",
                    None => "",
                };
                outln!("{mark}{}  {}", version.dir_name, header.message);
                if *verbose {
                    for change in &header.changes {
                        outln!("      - {change}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { version } => {
            let versions = dev::history::versions::scan(&project.versions_dir)?;
            let version = header::resolve(&versions, version)?;
            for file in [version.up_sql(), version.down_sql()] {
                let text =
                    std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
                outln!("==> {} <==\n{}", project.display(&file), text.trim_end());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diagram => {
            let comparison = commands::compare(&project, !cli.no_cache, false, timings)?;
            let path = dev::schema::diagram::write(
                &project.schema_file,
                &commands::diagram_of(&comparison),
            )?;
            outln!("Wrote the diagram of head into {}", project.display(&path));
            Ok(ExitCode::SUCCESS)
        }
        Command::Rehash => {
            commands::record(&project)?;
            outln!(
                "Recorded the checksums of {}/ in {}",
                project.display(&project.versions_dir),
                dev::history::checksums::SUM_FILE
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => {
            outln!("{}", dev::prove::verify::verify(&project)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::InstallHooks => {
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
            Ok(ExitCode::SUCCESS)
        }
        Command::Stamp { target } => {
            let mut report = |line: String| outln!("{line}");
            let mut session = Session::new(&project, locate(cli)?, false, None, &mut report)?;
            require_file(&session)?;
            session.stamp(target)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `check`: the working tree's project, or the copy of git's index that `staged` holds.
fn check(
    cli: &Cli,
    project: &Project,
    staged: Option<&Staged>,
    timings: &mut Timings,
) -> Result<ExitCode, Error> {
    // The snapshot cache belongs to the working tree's project; the staged copy is thrown
    // away, and a cache beside it with it.
    let comparison = commands::compare(project, !cli.no_cache && staged.is_none(), false, timings)?;
    let count = comparison.versions.len();
    let mut problems = match staged {
        Some(staged) => staged.history_problems(&comparison.versions, &comparison.links)?,
        None => commands::history_problems(project, &comparison)?,
    };
    problems.extend(commands::diagram_problem(project, &comparison));
    if !dev::history::checksums::recorded(&project.versions_dir) && count > 0 {
        errln!(
            "note: versions/ has no {} yet; `generate` or `rehash` starts recording checksums",
            dev::history::checksums::SUM_FILE
        );
    }
    if comparison.changes.is_empty() {
        outln!(
            "schema.rs matches {}/ ({count} migration{})",
            project.display(&project.versions_dir),
            if count == 1 { "" } else { "s" }
        );
    } else {
        outln!(
            "{} differs from {}/ ({count} migration{}): no migration makes these changes:",
            project.display(&project.schema_file),
            project.display(&project.versions_dir),
            if count == 1 { "" } else { "s" }
        );
        for change in &comparison.changes {
            outln!("  - {change}");
        }
        let project_flag = cli
            .project_dir
            .as_ref()
            .map(|d| format!(" -C {}", d.display()))
            .unwrap_or_default();
        outln!(
            "\nGenerate it with:\n  cargo run -p dev --{project_flag} generate \"{}\"",
            commands::suggested_message(&comparison.changes)
        );
    }
    for problem in &problems {
        err!("{problem}");
    }
    let clean = comparison.changes.is_empty() && problems.is_empty();
    if let Some(note) = staged.filter(|_| !clean).and_then(Staged::unstaged_note) {
        err!("{note}");
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn locate(cli: &Cli) -> Result<PathBuf, Error> {
    database::locate(cli.database.as_deref())
}

fn require_file(session: &Session<'_>) -> Result<(), Error> {
    database::open(&session.database, false).map(|_| ())
}

/// Runs the steps `plan` picks, or prints them with `--sql`. Only a command that `creates`
/// (upgrade) may work on a database file that does not exist yet.
fn migrate(
    cli: &Cli,
    project: &Project,
    safety: &Safety,
    creates: bool,
    plan: impl FnOnce(&Session<'_>) -> Result<Vec<Step>, Error>,
) -> Result<ExitCode, Error> {
    let mut report = |line: String| errln!("{line}");
    let mut terminal = ask::terminal();
    let prompt = terminal.as_mut().map(|t| t as &mut dyn ask::Prompt);
    let mut session = Session::new(project, locate(cli)?, safety.yes, prompt, &mut report)?;
    if !creates {
        require_file(&session)?;
    }
    let steps = plan(&session)?;
    if safety.sql {
        out!("{}", session.sql(&steps)?);
        return Ok(ExitCode::SUCCESS);
    }
    session.run(&steps, safety.backup)?;
    Ok(ExitCode::SUCCESS)
}
