//! `missionctl status …`: reading a mission's work-package status.

mod materialize;
mod reduce;
mod validate;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `status` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum StatusCommand {
    /// Rewrite a mission's status.json from its log and commit it
    Materialize(materialize::StatusMaterializeArgs),
    /// Print the status.json Spec Kitty would write for a mission directory
    Reduce(reduce::StatusReduceArgs),
    /// Check a mission's log and status.json; exit 1 on any finding
    Validate(validate::StatusValidateArgs),
}

/// Runs a parsed `status` subcommand.
pub(crate) fn run_status_command(ui: &mut Ui, command: &StatusCommand) -> Result<(), CliError> {
    match command {
        StatusCommand::Materialize(args) => materialize::cmd_status_materialize(ui, args),
        StatusCommand::Reduce(args) => reduce::cmd_status_reduce(ui, args),
        StatusCommand::Validate(args) => validate::cmd_status_validate(ui, args),
    }
}
