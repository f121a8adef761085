//! `missionctl acceptance …`: a mission's acceptance matrix.

mod verdict;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `acceptance` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AcceptanceCommand {
    /// Record one acceptance criterion's result in acceptance-matrix.json and commit it
    Verdict(verdict::VerdictArgs),
}

/// Runs `missionctl acceptance`.
pub(crate) fn run_acceptance_command(
    ui: &mut Ui,
    command: &AcceptanceCommand,
) -> Result<(), CliError> {
    match command {
        AcceptanceCommand::Verdict(args) => verdict::cmd_verdict(ui, args),
    }
}
