//! The subcommands, one file each; this module holds only the enum and the dispatch.

mod status;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Manage the status of a mission's work packages
    #[command(subcommand)]
    Status(status::StatusCommand),
}

/// Runs a parsed command.
pub(crate) fn run_command(ui: &mut Ui, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Status(command) => status::run_status_command(ui, command),
    }
}
