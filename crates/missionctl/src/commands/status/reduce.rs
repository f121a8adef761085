//! `missionctl status reduce <MISSION_DIR>`: the bytes Spec Kitty would write as
//! `status.json`, computed from the mission's event log and `meta.json`; nothing is written.

use std::path::PathBuf;

use clap::Args;
use missionctl_store::mission::dir::reduce_mission_dir;
use serde::Serialize;
use serde_json::Value;

use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl status reduce`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Print the status.json Spec Kitty would write\n  missionctl status reduce kitty-specs/042-invoice-export"
)]
pub(crate) struct StatusReduceArgs {
    /// The mission directory to read, such as `kitty-specs/<mission>`; no repository is needed
    #[arg(value_name = "MISSION_DIR")]
    mission_dir: PathBuf,
}

/// The `data` of `status reduce --json`.
#[derive(Debug, Serialize)]
struct StatusReduceData<'a> {
    /// The mission directory, as given.
    mission_dir: String,
    /// The exact bytes of `status.json`.
    status_json: &'a str,
    /// The same snapshot as a JSON object.
    snapshot: Value,
}

/// Prints the mission's `status.json` (or, with `--json`, the bytes and the object).
pub(crate) fn cmd_status_reduce(ui: &mut Ui, args: &StatusReduceArgs) -> Result<(), CliError> {
    let reduced = reduce_mission_dir(&args.mission_dir)?;
    let status_json = reduced.snapshot.to_status_json();
    let data = StatusReduceData {
        mission_dir: args.mission_dir.display().to_string(),
        status_json: &status_json,
        snapshot: reduced.snapshot.to_value(),
    };
    ui.emit(&data, || status_json.clone())
}
