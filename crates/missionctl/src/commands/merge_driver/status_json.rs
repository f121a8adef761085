//! `missionctl merge-driver status-json <BASE> <OURS> <THEIRS> [PATH]`: the driver git runs
//! for `merge=missionctl-status-json`.
//!
//! `status.json` is derived from the event log, and a driver sees only the three versions of
//! its own file, so it cannot compute the merged snapshot: it keeps ours, so the merge does not
//! stop on a derived file, and says to run `status materialize` once the merge is done.

use clap::Args;
use missionctl_store::git::merge_driver::keep_status_json;
use serde::Serialize;

use super::MergeInputs;
use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl merge-driver status-json`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # What git runs (registered by `missionctl merge-driver install`)\n  missionctl merge-driver status-json %O %A %B %P"
)]
pub(crate) struct StatusJsonArgs {
    /// Only OURS is looked at: it is kept as the result
    #[command(flatten)]
    inputs: MergeInputs,
    /// The file's path in the repository (git's `%P`), named in the message
    #[arg(value_name = "PATH")]
    path: Option<String>,
}

/// The `data` of `merge-driver status-json --json`.
#[derive(Debug, Serialize)]
struct StatusJsonData {
    /// The file kept from ours.
    ours: String,
    /// The file's path in the repository, when git gave it.
    path: Option<String>,
    /// What to run after the merge.
    next: &'static str,
}

const NEXT: &str = "missionctl status materialize --mission <mission>";

/// Keeps OURS and tells the user (on stderr, which git shows) to re-materialize.
pub(crate) fn cmd_merge_driver_status_json(
    ui: &mut Ui,
    args: &StatusJsonArgs,
) -> Result<(), CliError> {
    keep_status_json(&args.inputs.ours)?;
    let data = StatusJsonData {
        ours: args.inputs.ours.display().to_string(),
        path: args.path.clone(),
        next: NEXT,
    };
    let shown = args.path.as_deref().unwrap_or("status.json");
    ui.warn(&format!(
        "kept our `{shown}`; it is derived from the merged log: after the merge, run `{NEXT}`"
    ));
    ui.emit(&data, String::new)
}
