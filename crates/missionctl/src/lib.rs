//! The `missionctl` command-line interface: parses arguments, calls the store and the core,
//! and renders the result as text for people or as one JSON document for programs.
//!
//! Everything user-facing lives here: the error model with its exit codes
//! ([`command_error`]), the output rules ([`ui`]), the wall clock ([`clock`]) and one file per
//! subcommand under [`commands`]. It holds no domain logic of its own.

mod board;
mod cli;
mod cli_reference;
mod clock;
mod command_error;
mod commands;
mod env_vars;
mod mission_view;
mod store_errors;
mod ui;
mod workspace;

use std::ffi::OsString;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind as ClapErrorKind;
use serde::Serialize;

use crate::cli::Cli;
use crate::command_error::{CliError, DIRECTORY_NOT_FOUND};
use crate::ui::{OutputMode, Ui};

/// Runs the command line and returns the process exit code.
///
/// Exit codes: 0 success (and a closed stdout), 1 error, 2 usage error, 255 a bug in
/// missionctl. With `--json`, stdout holds exactly one JSON document on every exit path,
/// a panic included.
pub fn run() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(spec) = std::env::var_os(env_vars::MISSIONCTL_FAILPOINT) {
        missionctl_store::write::set_failpoints(&spec.to_string_lossy());
    }
    let mut ui = Ui::new(OutputMode::from_raw_args(&args));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| run_args(&mut ui, args)));
    let result = outcome.unwrap_or_else(|payload| Err(CliError::from_panic(payload.as_ref())));
    ui.finish(result)
}

/// Parses the arguments and runs the command.
fn run_args(ui: &mut Ui, args: Vec<OsString>) -> Result<(), CliError> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return report_clap_outcome(ui, error),
    };
    if cli.global.json {
        ui.set_mode(OutputMode::Json);
    }
    for dir in &cli.global.directory {
        change_directory(dir)?;
    }
    commands::run_command(ui, &cli.command)
}

/// Moves the process into `dir` (relative to the current directory), as `git -C` does: every
/// relative path the command then reads is relative to it. An empty path changes nothing, as
/// for git.
fn change_directory(dir: &Path) -> Result<(), CliError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::env::set_current_dir(dir).map_err(|error| {
        let not_found = matches!(
            error.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
        );
        let context = format!("Cannot change to `{}`", dir.display());
        if not_found {
            CliError::user(DIRECTORY_NOT_FOUND, format!("{context}: {error}")).with_hint(
                "`-C <DIR>` names a directory that exists, relative to the current one (or to \
                 the previous `-C`)"
                    .to_owned(),
            )
        } else {
            CliError::io(&context, &error)
        }
    })
}

/// The `data` of `--help` and `--version` with `--json`.
#[derive(Debug, Serialize)]
struct HelpData {
    /// `help` or `version`.
    kind: &'static str,
    /// The text clap would print.
    text: String,
}

/// Turns clap's early exits into the run's outcome: `--help` and `--version` succeed (their
/// text is the data), everything else is a usage error.
fn report_clap_outcome(ui: &mut Ui, error: clap::Error) -> Result<(), CliError> {
    let kind = match error.kind() {
        ClapErrorKind::DisplayHelp => "help",
        ClapErrorKind::DisplayVersion => "version",
        _ => return Err(CliError::from(error)),
    };
    let data = HelpData {
        kind,
        text: error.render().to_string(),
    };
    let styled = ui.stdout_color();
    ui.emit(&data, || {
        if styled {
            error.render().ansi().to_string()
        } else {
            error.render().to_string()
        }
    })
}
