//! `missionctl subtask done --mission <MISSION> <WP> <ID>…`: one committed annotation row.

use clap::Args;
use missionctl_core::status::lane::Lane;
use missionctl_store::clock::SystemClock;
use missionctl_store::status::CommitReceipt;
use serde::Serialize;

use crate::cli::mission_and_rest;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl subtask done`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Record two subtasks of WP01 as done\n  missionctl subtask done -m invoice-export WP01 T001 T002"
)]
pub(crate) struct SubtaskDoneArgs {
    /// The mission: its ULID, mid8, directory name, slug or number (without it, the first
    /// positional is the mission: the older form `subtask done <MISSION> <WP> <ID>…`)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The subtasks, such as `T001 T002`
    #[arg(value_name = "ID", required = true)]
    subtask_ids: Vec<String>,
    /// Who did them (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
}

/// The `data` of `subtask done --json`.
#[derive(Debug, Serialize)]
struct SubtaskDoneData {
    mission_slug: String,
    wp_id: String,
    /// The subtasks recorded now (the others were already done).
    recorded: Vec<String>,
    /// The annotation row's id, when one was written.
    event_id: Option<String>,
    receipt: Option<CommitReceipt>,
}

/// Records the subtasks as done.
pub(crate) fn cmd_subtask_done(ui: &mut Ui, args: &SubtaskDoneArgs) -> Result<(), CliError> {
    let positionals: Vec<String> = std::iter::once(args.wp_id.clone())
        .chain(args.subtask_ids.iter().cloned())
        .collect();
    let (handle, rest) = mission_and_rest(args.mission.as_deref(), &positionals)?;
    let Some((wp_id, subtask_ids)) = rest.split_first().filter(|(_, ids)| !ids.is_empty()) else {
        return Err(
            CliError::usage("The work package and at least one subtask are required").with_hint(
                "Usage: `missionctl subtask done --mission <MISSION> <WP> <ID>...`".to_owned(),
            ),
        );
    };
    let (_repo, status) = workspace::load_status_for_writing(handle)?;
    let actor = workspace::actor(args.actor.as_deref());
    let outcome = status.record_subtasks(
        wp_id,
        subtask_ids,
        Lane::Done,
        actor.as_deref(),
        &SystemClock,
    )?;
    let data = SubtaskDoneData {
        mission_slug: status.mission_slug().to_owned(),
        wp_id: wp_id.clone(),
        recorded: outcome.changed,
        event_id: outcome.annotation.map(|annotation| annotation.event_id),
        receipt: outcome.receipt,
    };
    ui.emit(&data, || match &data.receipt {
        Some(receipt) => format!(
            "{} {} done, committed {} on {}\n",
            data.wp_id,
            data.recorded.join(", "),
            crate::ui::short_sha(&receipt.commit_sha),
            receipt.destination_ref
        ),
        None => format!(
            "{} {} already done; nothing to do\n",
            data.wp_id,
            subtask_ids.join(", ")
        ),
    })
}
