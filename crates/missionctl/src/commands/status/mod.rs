//! `missionctl status …`: reading a mission's work-package status.

mod reduce;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `status` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum StatusCommand {
    /// Print the status.json Spec Kitty would write for a mission directory
    Reduce(reduce::StatusReduceArgs),
}

/// Runs a parsed `status` subcommand.
pub(crate) fn run_status_command(ui: &mut Ui, command: &StatusCommand) -> Result<(), CliError> {
    match command {
        StatusCommand::Reduce(args) => reduce::cmd_status_reduce(ui, args),
    }
}
