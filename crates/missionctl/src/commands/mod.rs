//! The subcommands, one file each; this module holds only the enum and the dispatch.

mod demo;
mod status;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build a throwaway git repository and show what missionctl does with it
    Demo(demo::DemoArgs),
    /// Manage the status of a mission's work packages
    #[command(subcommand)]
    Status(status::StatusCommand),
}

/// Runs a parsed command.
pub(crate) fn run_command(ui: &mut Ui, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Demo(args) => demo::cmd_demo(ui, args),
        Command::Status(command) => status::run_status_command(ui, command),
    }
}
