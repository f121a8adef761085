//! `missionctl mission flatten --mission <MISSION>`: drop the coordination branch from a mission's shape.
//!
//! Rewrites the primary `meta.json` as Spec Kitty's flatten does (`coordination_branch` and
//! `topology` removed, `flattened: true`; the coordination-less topology is then derived) and
//! commits nothing; the branch and any coordination worktree, now a husk, are left alone.

use clap::Args;
use missionctl_store::mission::flatten::{FlattenedMission, flatten_mission};

use crate::cli::MissionOrPositional;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl mission flatten`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Drop the coordination branch from a mission's shape\n  missionctl mission flatten -m invoice-export"
)]
pub(crate) struct MissionFlattenArgs {
    /// The mission (`--mission`, or the older positional form)
    #[command(flatten)]
    mission: MissionOrPositional,
}

fn render(flattened: &FlattenedMission) -> String {
    let meta = flattened.meta_path.display();
    let mut out = if flattened.changed {
        let removed = flattened
            .removed_coordination_branch
            .as_deref()
            .unwrap_or("-");
        format!(
            "Flattened `{}`: coordination branch `{removed}` dropped from its shape, topology \
             now `{}`\n`{meta}` is rewritten and not committed: review it and commit it\n",
            flattened.mission_slug, flattened.topology
        )
    } else {
        format!(
            "`{}` has no coordination branch (topology `{}`); nothing to flatten\n",
            flattened.mission_slug, flattened.topology
        )
    };
    if let Some(worktree) = &flattened.leftover_worktree {
        out.push_str(&format!(
            "`{}` is now a husk that nothing reads; remove it with `git worktree remove {}`\n",
            worktree.display(),
            worktree.display()
        ));
    }
    out
}

/// Flattens a mission and says what changed.
pub(crate) fn cmd_mission_flatten(ui: &mut Ui, args: &MissionFlattenArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let flattened = flatten_mission(&repo, args.mission.handle()?)?;
    ui.emit(&flattened, || render(&flattened))
}
