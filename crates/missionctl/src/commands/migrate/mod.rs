//! `missionctl migrate …`: one-time upgrades of the missions of a repository.

mod backfill_topology;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `migrate` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum MigrateCommand {
    /// Store the topology of every mission whose meta.json has none
    BackfillTopology(backfill_topology::BackfillTopologyArgs),
}

/// Runs a parsed `migrate` subcommand.
pub(crate) fn run_migrate_command(ui: &mut Ui, command: &MigrateCommand) -> Result<(), CliError> {
    match command {
        MigrateCommand::BackfillTopology(args) => {
            backfill_topology::cmd_migrate_backfill_topology(ui, args)
        }
    }
}
