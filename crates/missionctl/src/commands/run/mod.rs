//! `missionctl run …`: the mission runs behind `next`, under `.kittify/runtime/`.

mod list;
mod show;
mod start;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `run` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum RunCommand {
    /// List the repository's mission runs
    List(list::RunListArgs),
    /// Show a run's state and events, by run id or by mission
    Show(show::RunShowArgs),
    /// Start a mission's run, or return the one it has
    Start(start::RunStartArgs),
}

/// Runs a parsed `run` subcommand.
pub(crate) fn run_run_command(ui: &mut Ui, command: &RunCommand) -> Result<(), CliError> {
    match command {
        RunCommand::List(args) => list::cmd_run_list(ui, args),
        RunCommand::Show(args) => show::cmd_run_show(ui, args),
        RunCommand::Start(args) => start::cmd_run_start(ui, args),
    }
}
