//! `missionctl wp …`: a mission's work-package files.

mod add;
mod list;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `wp` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum WpCommand {
    /// Write a new work-package file `tasks/WPxx-<slug>.md` on the planning surface
    Add(add::WpAddArgs),
    /// List a mission's work packages with their dependencies, lanes and status
    List(list::WpListArgs),
}

/// Runs a parsed `wp` subcommand.
pub(crate) fn run_wp_command(ui: &mut Ui, command: &WpCommand) -> Result<(), CliError> {
    match command {
        WpCommand::Add(args) => add::cmd_wp_add(ui, args),
        WpCommand::List(args) => list::cmd_wp_list(ui, args),
    }
}
