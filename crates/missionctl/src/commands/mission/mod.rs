//! `missionctl mission …`: creating, listing, showing and flattening missions.

pub(super) mod create;
mod flatten;
mod list;
mod show;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `mission` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum MissionCommand {
    /// Create a mission and commit it on the target branch
    Create(create::MissionCreateArgs),
    /// Drop the coordination branch from a mission's shape
    Flatten(flatten::MissionFlattenArgs),
    /// List the missions of the repository
    List(list::MissionListArgs),
    /// Show one mission
    Show(show::MissionShowArgs),
}

/// Runs a parsed `mission` subcommand.
pub(crate) fn run_mission_command(ui: &mut Ui, command: &MissionCommand) -> Result<(), CliError> {
    match command {
        MissionCommand::Create(args) => create::cmd_mission_create(ui, args),
        MissionCommand::Flatten(args) => flatten::cmd_mission_flatten(ui, args),
        MissionCommand::List(args) => list::cmd_mission_list(ui, args),
        MissionCommand::Show(args) => show::cmd_mission_show(ui, args),
    }
}
