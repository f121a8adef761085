//! `missionctl tasks …`: a mission's work packages as one plan.

mod finalize;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `tasks` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TasksCommand {
    /// Check the work packages, seed new ones, compute lanes.json and commit the plan
    Finalize(finalize::TasksFinalizeArgs),
}

/// Runs a parsed `tasks` subcommand.
pub(crate) fn run_tasks_command(ui: &mut Ui, command: &TasksCommand) -> Result<(), CliError> {
    match command {
        TasksCommand::Finalize(args) => finalize::cmd_tasks_finalize(ui, args),
    }
}
