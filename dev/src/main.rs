//! The `dev` command line: parses the arguments, runs the command they name (each is a file
//! of `commands`), prints a failure through the one error renderer and exits with its code.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use dev::commands::cli::{command_name, Cli, Command};
use dev::commands::report::{self, Format};
use dev::commands::{self, generate, Outcome};
use dev::error::Error;
use dev::project::Project;
use dev::support::output;
use dev::support::timing::Timings;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Fleet { .. }) {
        dev::sqlite::ffi::configure_for_threads();
    } else {
        dev::sqlite::ffi::configure_sqlite();
    }
    let limits = cli.command.limits();
    dev::sqlite::sandbox::install(dev::sqlite::sandbox::Limits {
        statement_time: std::time::Duration::from_secs(limits.time_limit),
        heap_bytes: limits.memory_limit.saturating_mul(1 << 20),
    });
    let mut timings = Timings::default();
    let outcome = dispatch(&cli, &mut timings);
    if let Err(err) = &outcome {
        match cli.command.format() {
            Format::Text => {}
            Format::Json => report::print_failure(command_name(&cli.command), err),
            Format::Github => {
                output::write(format_args!("{}\n", report::diagnostic_annotation(err)))
            }
        }
    }
    if cli.command.timings() {
        output::write_err(format_args!("{}", timings.report()));
    }
    let written = output::finish();
    // The one place an outcome becomes an exit code: 0 or 1 for a command that ran, the
    // error's kind (2 bad input, 3 a bug in the tool) for one that failed.
    match outcome.and_then(|ran| written.map(|()| ran)) {
        Ok(ran) => ExitCode::from(ran.code()),
        Err(err) => {
            output::write_err(format_args!("{err}"));
            ExitCode::from(err.kind().exit_code())
        }
    }
}

/// Runs the command `cli` names, in the project found from `-C` or the current directory.
fn dispatch(cli: &Cli, timings: &mut Timings) -> Result<Outcome, Error> {
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
    let (use_cache, format) = (cli.command.use_cache(), cli.command.format());
    match &cli.command {
        Command::Generate { options, .. } => {
            let options = generate::GenerateOptions {
                use_cache,
                ..options.clone()
            };
            generate::run(&project()?, &options, format, timings)
        }
        Command::Check { staged, .. } => {
            let options = commands::check::CheckOptions {
                staged: *staged,
                use_cache,
                project_dir: cli.project_dir.as_deref(),
                format,
                schema_key: cli.schema_key.as_deref(),
            };
            commands::check::run(&start, &options, timings)
        }
        Command::Upgrade {
            target,
            change,
            rehearse,
            ..
        } => {
            let (database, safety) = (change.database.path.as_deref(), &change.safety);
            let project = project()?;
            if *rehearse {
                commands::upgrade::rehearse(&project, database, target.as_deref())
            } else {
                commands::upgrade::run(&project, database, target.as_deref(), safety)
            }
        }
        Command::Downgrade { target, change } => commands::downgrade::run(
            &project()?,
            change.database.path.as_deref(),
            target,
            &change.safety,
        ),
        Command::Redo { change } => {
            commands::redo::run(&project()?, change.database.path.as_deref(), &change.safety)
        }
        Command::Current { database, .. } => {
            commands::current::run(&project()?, database.path.as_deref(), format)
        }
        Command::Drift { database, .. } => commands::drift::run(
            &project()?,
            database.path.as_deref(),
            use_cache,
            format,
            timings,
        ),
        Command::History {
            verbose, database, ..
        } => commands::history::run(&project()?, database.path.as_deref(), *verbose, format),
        Command::Show { version } => commands::show::run(&project()?, version),
        Command::Stamp { target, database } => {
            commands::stamp::run(&project()?, database.path.as_deref(), target)
        }
        Command::Diagram { .. } => commands::diagram::run(&project()?, use_cache, timings),
        Command::Rehash => commands::rehash::run(&project()?),
        Command::Objects { .. } => commands::objects::run(&project()?, use_cache, timings),
        Command::Verify { .. } => commands::verify::run(&project()?, format),
        Command::Init { options, .. } => {
            let mut terminal = dev::support::ask::terminal();
            let prompt = terminal
                .as_mut()
                .map(|t| t as &mut dyn dev::support::ask::Prompt);
            let options = commands::init::InitOptions {
                use_cache,
                ..*options
            };
            commands::init::run(&project()?, options, prompt, timings)
        }
        Command::Completions { shell } => commands::completions::run(Cli::command(), *shell),
        Command::Squash { options, .. } => {
            let options = commands::squash::SquashOptions {
                use_cache,
                ..options.clone()
            };
            commands::squash::run(&project()?, &options, timings)
        }
        Command::InstallHooks => commands::install_hooks::run(&project()?),
        Command::Fleet { command } => commands::fleet::run(&project()?, command),
    }
}
