//! `missionctl worktree repair [--mission <MISSION>]`: rebuild what git's registry lost.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::worktree::lane::{RepairItem, RepairOutcome, repair_worktrees};
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl worktree repair`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Rebuild every missing lane and coordination worktree\n  missionctl worktree repair\n\n  # Only one mission's\n  missionctl worktree repair -m invoice-export"
)]
pub(crate) struct WorktreeRepairArgs {
    /// Only this mission (default: every mission)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
}

/// The `data` of `worktree repair --json`.
#[derive(Debug, Serialize)]
struct RepairData {
    /// Every worktree looked at, with what was found or done.
    worktrees: Vec<RepairItem>,
    /// How many were rebuilt.
    rebuilt: usize,
    /// How many need the user (husks, deleted branches, mismatches).
    problems: usize,
}

/// Repairs the worktrees and reports each one; exits 1 when something is left for the user.
pub(crate) fn cmd_worktree_repair(ui: &mut Ui, args: &WorktreeRepairArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let worktrees = repair_worktrees(&repo, args.mission.as_deref())?;
    let data = RepairData {
        rebuilt: worktrees
            .iter()
            .filter(|item| item.outcome == RepairOutcome::Rebuilt)
            .count(),
        problems: worktrees
            .iter()
            .filter(|item| item.outcome.is_problem())
            .count(),
        worktrees,
    };
    let root = repo.primary_root().to_path_buf();
    ui.emit(&data, || render(&data, &root))?;
    if data.problems > 0 {
        return Err(CliError::user(
            "WORKTREE_REPAIR_INCOMPLETE",
            format!(
                "{} worktree{} could not be repaired",
                data.problems,
                if data.problems == 1 { "" } else { "s" }
            ),
        )
        .with_hint(
            "Move husks out of `.worktrees/` (look before deleting), restore deleted branches \
             from `git reflog`, then run `missionctl worktree repair` again"
                .to_owned(),
        ));
    }
    Ok(())
}

fn render(data: &RepairData, root: &std::path::Path) -> String {
    let mut text = String::new();
    if data.worktrees.is_empty() {
        text.push_str("No lane or coordination worktrees to look at\n");
        return text;
    }
    for item in &data.worktrees {
        let path = item.path.strip_prefix(root).unwrap_or(&item.path);
        let outcome = match item.outcome {
            RepairOutcome::Healthy => "ok",
            RepairOutcome::Rebuilt => "rebuilt",
            RepairOutcome::NotStarted => "not started",
            RepairOutcome::BranchMissing => "branch deleted",
            RepairOutcome::Husk => "husk",
            RepairOutcome::BranchMismatch => "other branch",
            RepairOutcome::Unresolvable => "unresolvable",
        };
        let detail = item
            .detail
            .as_deref()
            .map(|detail| format!(": {detail}"))
            .unwrap_or_default();
        let _ = writeln!(text, "{outcome:<14} {}{detail}", path.display());
    }
    let _ = writeln!(
        text,
        "{} rebuilt, {} to look at",
        data.rebuilt, data.problems
    );
    text
}
