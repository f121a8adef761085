//! `missionctl events …`: the event logs of missions, for other tools.

mod tail;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `events` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Print missions' transitions and notes as they are appended, one JSON object a line
    Tail(tail::TailArgs),
}

/// Runs a parsed `events` subcommand.
pub(crate) fn run_events_command(ui: &mut Ui, command: &EventsCommand) -> Result<(), CliError> {
    match command {
        EventsCommand::Tail(args) => tail::cmd_tail(ui, args),
    }
}
