//! `missionctl run start --mission <MISSION>`: starts the mission's run, or returns the one it
//! has (`next --result` does this on its own).

use clap::Args;
use missionctl_core::mission::run::MissionRunRef;
use missionctl_store::clock::SystemClock;
use missionctl_store::runtime::start_run_for_mission;
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl run start`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Start a mission's run (or get the one it has)\n  missionctl run start -m invoice-export"
)]
pub(crate) struct RunStartArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
}

/// The `data` of `run start --json`.
#[derive(Debug, Serialize)]
struct RunStartData {
    /// Whether this call started the run (false: the mission already had one).
    started: bool,
    run: MissionRunRef,
}

/// Starts the mission's run unless it has one, under the runtime lock.
pub(crate) fn cmd_run_start(ui: &mut Ui, args: &RunStartArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let (loaded, started) = start_run_for_mission(
        &repo,
        &args.mission,
        &workspace::template_search(),
        &SystemClock,
    )?;
    let data = RunStartData {
        started,
        run: loaded.run,
    };
    ui.emit(&data, || {
        format!(
            "{} run {} for {}\n",
            if data.started {
                "Started"
            } else {
                "Already has"
            },
            data.run.run_id,
            data.run.mission_slug.as_deref().unwrap_or("?")
        )
    })
}
