//! `missionctl mission list`: every mission under `kitty-specs/`, sorted by directory name.

use clap::Args;
use missionctl_store::mission::index::list_missions;

use crate::command_error::CliError;
use crate::mission_view::render_list;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl mission list`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # List the missions\n  missionctl mission list\n\n  # As JSON, for a script\n  missionctl mission list --json"
)]
pub(crate) struct MissionListArgs {}

/// Lists the missions: a table for people, an array of summaries with `--json`.
pub(crate) fn cmd_mission_list(ui: &mut Ui, _args: &MissionListArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let missions = list_missions(&repo)?;
    ui.emit(&missions, || render_list(&missions))
}
