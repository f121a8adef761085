//! `missionctl review unblock <WP> --mission <MISSION> --reason R`: unblock a work package
//! without a fabricated review.

use clap::Args;
use missionctl_store::review::unblock;

use super::release::run_recovery;
use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl review unblock`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Unblock WP01 without a review\n  missionctl review unblock WP01 -m invoice-export --reason \"dependency fixed\""
)]
pub(crate) struct UnblockArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Why it is unblocked (recorded in the log)
    #[arg(long, value_name = "REASON")]
    reason: Option<String>,
    /// Who unblocks it (default: `MISSIONCTL_ACTOR`; `user` when neither is set)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
}

/// Runs `missionctl review unblock`.
pub(crate) fn cmd_unblock(ui: &mut Ui, args: &UnblockArgs) -> Result<(), CliError> {
    run_recovery(
        ui,
        unblock,
        (&args.wp_id, &args.mission),
        args.actor.as_deref(),
        args.reason.as_deref(),
    )
}
