//! `missionctl mission show --mission <MISSION>`: one mission, named by any handle.

use clap::Args;
use missionctl_core::mission::meta::HandleRule;
use missionctl_store::mission::index::{MissionSummary, resolve_handle, summarize};
use serde::Serialize;

use crate::cli::MissionOrPositional;
use crate::command_error::CliError;
use crate::mission_view::render_summary;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl mission show`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Show a mission by slug, mid8 or number\n  missionctl mission show -m invoice-export\n  missionctl mission show -m 01KXKHVZ"
)]
pub(crate) struct MissionShowArgs {
    /// The mission (`--mission`, or the older positional form)
    #[command(flatten)]
    mission: MissionOrPositional,
}

/// The `data` of `mission show --json`: the summary `mission list` gives, and how the handle
/// matched.
#[derive(Debug, Serialize)]
struct ShowData {
    #[serde(flatten)]
    summary: MissionSummary,
    handle_rule: HandleRule,
}

/// Shows one mission.
pub(crate) fn cmd_mission_show(ui: &mut Ui, args: &MissionShowArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let resolved = resolve_handle(&repo, args.mission.handle()?)?;
    let data = ShowData {
        summary: summarize(&repo, &resolved.dir)?,
        handle_rule: resolved.rule,
    };
    ui.emit(&data, || render_summary(&data.summary))
}
