//! `missionctl review release <WP> --mission <MISSION> --reason R`: give up a stuck review.

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::review::release;
use missionctl_store::status::RecoveryOutcome;
use serde::Serialize;

use super::review_error;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl review release`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Give up a stuck review of WP01\n  missionctl review release WP01 -m invoice-export --reason \"reviewer left\""
)]
pub(crate) struct ReleaseArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Why the review is released (recorded in the log)
    #[arg(long, value_name = "REASON")]
    reason: Option<String>,
    /// Who releases it (default: `MISSIONCTL_ACTOR`; `user` when neither is set)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
}

/// The `data` of a recovery (`release`, `unblock`).
#[derive(Debug, Serialize)]
pub(crate) struct RecoveryData {
    pub(crate) mission_slug: String,
    #[serde(flatten)]
    pub(crate) outcome: RecoveryOutcome,
}

/// The store operation behind a recovery command.
pub(crate) type Recovery =
    fn(
        &missionctl_store::repo::Repo,
        &str,
        &str,
        &str,
        &str,
        &missionctl_store::repo::protection::ProtectedBranches,
        &dyn missionctl_store::clock::Clock,
    ) -> Result<(String, RecoveryOutcome), missionctl_store::review::ReviewFlowError>;

/// Runs `missionctl review release`.
pub(crate) fn cmd_release(ui: &mut Ui, args: &ReleaseArgs) -> Result<(), CliError> {
    run_recovery(
        ui,
        release,
        (&args.wp_id, &args.mission),
        args.actor.as_deref(),
        args.reason.as_deref(),
    )
}

/// Runs a recovery (`release`, `unblock`) and prints what it recorded.
pub(crate) fn run_recovery(
    ui: &mut Ui,
    operation: Recovery,
    (wp_id, mission): (&str, &str),
    actor: Option<&str>,
    reason: Option<&str>,
) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let actor = workspace::actor(actor).unwrap_or_else(|| "user".to_owned());
    let (mission_slug, outcome) = operation(
        &repo,
        mission,
        wp_id,
        &actor,
        reason.unwrap_or_default(),
        &workspace::protected_branches(&repo),
        &SystemClock,
    )
    .map_err(|error| review_error(error, mission))?;
    let data = RecoveryData {
        mission_slug,
        outcome,
    };
    ui.emit(&data, || render(&data))
}

/// Renders a recovery move.
pub(crate) fn render(data: &RecoveryData) -> String {
    let outcome = &data.outcome;
    let receipt = &outcome.receipt;
    let what = if outcome.from_lane == outcome.to_lane {
        format!(
            "{}: rejection overridden (stays {})",
            outcome.wp_id, outcome.to_lane
        )
    } else {
        format!(
            "{} {} -> {}{}",
            outcome.wp_id,
            outcome.from_lane,
            outcome.to_lane,
            if outcome.forced {
                " (forced, reason recorded)"
            } else {
                ""
            }
        )
    };
    format!(
        "{what}, committed {} on {}\nNext:    missionctl next --mission {}\n",
        crate::ui::short_sha(&receipt.commit_sha),
        receipt.destination_ref,
        data.mission_slug
    )
}
