//! `missionctl merge-driver event-log <BASE> <OURS> <THEIRS>`: Spec Kitty's event-log union,
//! the driver git runs for `merge=spec-kitty-event-log`.

use clap::Args;
use missionctl_store::git::merge_driver::merge_event_log_files;
use serde::Serialize;

use super::MergeInputs;
use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl merge-driver event-log`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # What git runs (registered by `missionctl merge-driver install`)\n  missionctl merge-driver event-log %O %A %B"
)]
pub(crate) struct EventLogArgs {
    #[command(flatten)]
    inputs: MergeInputs,
}

/// The `data` of `merge-driver event-log --json`.
#[derive(Debug, Serialize)]
struct EventLogData {
    /// Where the merged log was written.
    ours: String,
    /// The rows of the merged log.
    rows: usize,
    /// Whether ours was rewritten.
    changed: bool,
}

/// Writes the union of the three logs to OURS; prints nothing without `--json` (git shows a
/// driver's output in the middle of its own).
pub(crate) fn cmd_merge_driver_event_log(ui: &mut Ui, args: &EventLogArgs) -> Result<(), CliError> {
    let MergeInputs { base, ours, theirs } = &args.inputs;
    let outcome = merge_event_log_files(base, ours, theirs)?;
    let data = EventLogData {
        ours: ours.display().to_string(),
        rows: outcome.rows,
        changed: outcome.changed,
    };
    ui.emit(&data, String::new)
}
