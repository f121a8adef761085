//! `missionctl merge-driver …`: the git merge drivers for a mission's files and their
//! registration in a repository.

mod event_log;
mod install;
mod status_json;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `merge-driver` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum MergeDriverCommand {
    /// Merge three versions of an event log into OURS (git runs it as `%O %A %B`)
    EventLog(event_log::EventLogArgs),
    /// Register the merge drivers in this repository's .gitattributes and git config
    Install(install::InstallArgs),
    /// Keep OURS as the merged status.json, to be re-materialized after the merge
    StatusJson(status_json::StatusJsonArgs),
}

/// The three versions of a file git gives a merge driver.
#[derive(Debug, Args)]
pub(crate) struct MergeInputs {
    /// The common ancestor's version (git's `%O`); a missing file is empty
    #[arg(value_name = "BASE")]
    base: PathBuf,
    /// The current branch's version (git's `%A`), where the result goes
    #[arg(value_name = "OURS")]
    ours: PathBuf,
    /// The other branch's version (git's `%B`)
    #[arg(value_name = "THEIRS")]
    theirs: PathBuf,
}

/// Runs a parsed `merge-driver` subcommand.
pub(crate) fn run_merge_driver_command(
    ui: &mut Ui,
    command: &MergeDriverCommand,
) -> Result<(), CliError> {
    match command {
        MergeDriverCommand::EventLog(args) => event_log::cmd_merge_driver_event_log(ui, args),
        MergeDriverCommand::Install(args) => install::cmd_merge_driver_install(ui, args),
        MergeDriverCommand::StatusJson(args) => status_json::cmd_merge_driver_status_json(ui, args),
    }
}
