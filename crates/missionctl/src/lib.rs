//! The `missionctl` command-line interface: parses arguments, calls the store and the core,
//! and renders the result as text for people or as one JSON document for programs.
//!
//! Everything user-facing lives here: the error model with its exit codes
//! ([`command_error`]), the output rules ([`ui`]), the wall clock ([`clock`]) and one file per
//! subcommand under [`commands`]. It holds no domain logic of its own.

mod board;
mod cli;
mod clock;
mod command_error;
mod commands;
mod env_vars;
mod mission_view;
mod store_errors;
mod ui;
mod workspace;

use std::ffi::OsString;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind as ClapErrorKind;
use serde::Serialize;

use crate::cli::Cli;
use crate::command_error::CliError;
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
    commands::run_command(ui, &cli.command)
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
