//! `missionctl subtask …`: the subtasks of a work package.

mod done;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `subtask` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SubtaskCommand {
    /// Record subtasks as done, so the work package can go to review
    Done(done::SubtaskDoneArgs),
}

/// Runs a parsed `subtask` subcommand.
pub(crate) fn run_subtask_command(ui: &mut Ui, command: &SubtaskCommand) -> Result<(), CliError> {
    match command {
        SubtaskCommand::Done(args) => done::cmd_subtask_done(ui, args),
    }
}
