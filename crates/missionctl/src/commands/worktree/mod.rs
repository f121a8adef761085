//! `missionctl worktree …`: lane and coordination worktrees.

mod repair;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `worktree` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum WorktreeCommand {
    /// Rebuild missing lane and coordination worktrees from their branches
    Repair(repair::WorktreeRepairArgs),
}

/// Runs a parsed `worktree` subcommand.
pub(crate) fn run_worktree_command(ui: &mut Ui, command: &WorktreeCommand) -> Result<(), CliError> {
    match command {
        WorktreeCommand::Repair(args) => repair::cmd_worktree_repair(ui, args),
    }
}
