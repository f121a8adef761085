//! `missionctl context --mission <MISSION>`: where a mission's state lives — its execution
//! context with the five fragments, the coordination probe, and the resolved read and write
//! surfaces. Fails closed (`COORDINATION_BRANCH_DELETED`, `COORD_AUTHORITY_UNAVAILABLE`)
//! rather than guess a surface.

use clap::Args;
use missionctl_store::view::context::context_view;

use crate::command_error::CliError;
use crate::mission_view::render_context;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl context`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Where a mission's status is read and written\n  missionctl context -m invoice-export\n\n  # The same, for a script\n  missionctl context -m 01KXKHVZ --json"
)]
pub(crate) struct ContextArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
}

/// Resolves and prints a mission's execution context.
pub(crate) fn cmd_context(ui: &mut Ui, args: &ContextArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let data = context_view(&repo, &args.mission)?;
    ui.emit(&data, || render_context(&data))
}
