//! `missionctl status materialize --mission <MISSION>`: rewrites `status.json` from the log
//! when its bytes differ, and commits it.

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::status::CommitReceipt;
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl status materialize`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Rewrite status.json from the log and commit it\n  missionctl status materialize -m invoice-export"
)]
pub(crate) struct StatusMaterializeArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
}

/// The `data` of `status materialize --json`.
#[derive(Debug, Serialize)]
struct MaterializeData {
    mission_slug: String,
    event_count: usize,
    /// Whether `status.json` was rewritten.
    changed: bool,
    receipt: CommitReceipt,
}

/// Rewrites and commits the snapshot.
pub(crate) fn cmd_status_materialize(
    ui: &mut Ui,
    args: &StatusMaterializeArgs,
) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status_for_writing(&args.mission)?;
    let outcome = status.materialize(&SystemClock)?;
    let data = MaterializeData {
        mission_slug: status.mission_slug().to_owned(),
        event_count: outcome.snapshot.event_count,
        changed: outcome.rewritten,
        receipt: outcome.receipt,
    };
    ui.emit(&data, || match (data.changed, data.receipt.is_noop) {
        (true, false) => format!(
            "Rewrote status.json of {} ({} events) and committed it on {}\n",
            data.mission_slug, data.event_count, data.receipt.destination_ref
        ),
        (true, true) => format!(
            "Rewrote status.json of {} ({} events); it matches {} already\n",
            data.mission_slug, data.event_count, data.receipt.destination_ref
        ),
        (false, false) => format!(
            "status.json of {} is up to date; committed the status files on {}\n",
            data.mission_slug, data.receipt.destination_ref
        ),
        (false, true) => format!("status.json of {} is up to date\n", data.mission_slug),
    })
}
