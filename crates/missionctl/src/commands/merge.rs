//! `missionctl merge --mission <MISSION> [--dry-run] [--resume] [--abort]`: the mission's lanes
//! into its mission branch in dependency order, then the mission branch into the target branch,
//! with a plain three-way merge; a conflict stops before the target moves.

use std::fmt::Write as _;

use clap::Args;
use missionctl_core::lifecycle::merge::MergeStrategy;
use missionctl_store::clock::SystemClock;
use missionctl_store::merge::{
    AbortReport, ConflictReport, LaneAction, MergeError, MergeMode, MergeOutcome, MergePlan,
    MergeReport, MergeRequest, merge_mission,
};

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl merge`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # See the plan and the conflicts it would meet; change nothing\n  missionctl merge -m invoice-export --dry-run\n\n  # Merge the lanes and land the mission on its target branch\n  missionctl merge -m invoice-export\n\n  # After resolving a conflict in `.worktrees/<mission>-merge`, go on (or drop it)\n  missionctl merge -m invoice-export --resume\n  missionctl merge -m invoice-export --abort"
)]
pub(crate) struct MergeArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// How the mission lands on the target branch (default: `.kittify/config.yaml`'s
    /// `merge.strategy`, else `squash`)
    #[arg(long, value_name = "STRATEGY", value_parser = parse_strategy)]
    strategy: Option<MergeStrategy>,
    /// Print the plan and forecast conflicts; change nothing
    #[arg(long, conflicts_with_all = ["resume", "abort"])]
    dry_run: bool,
    /// Go on with a merge that stopped at a conflict (once resolved), or finish one that was
    /// interrupted
    #[arg(long, conflicts_with = "abort")]
    resume: bool,
    /// Drop a merge that stopped at a conflict; nothing else had changed
    #[arg(long)]
    abort: bool,
    /// Delete the lane branches and the mission branch afterwards (the default)
    #[arg(long, overrides_with = "keep_branch")]
    delete_branch: bool,
    /// Keep the lane branches and the mission branch
    #[arg(long, overrides_with = "delete_branch")]
    keep_branch: bool,
    /// Remove the lane worktrees afterwards (the default)
    #[arg(long, overrides_with = "keep_worktree")]
    remove_worktree: bool,
    /// Keep the lane worktrees and their workspace context files
    #[arg(long, overrides_with = "remove_worktree")]
    keep_worktree: bool,
    /// Push the target branch to `origin` once merged
    #[arg(long)]
    push: bool,
}

fn parse_strategy(value: &str) -> Result<MergeStrategy, String> {
    MergeStrategy::parse(value)
        .filter(|strategy| strategy.as_str() == value)
        .ok_or_else(|| format!("`{value}` is not a strategy (merge, squash, rebase)"))
}

/// Returns the tri-state of a pair of opposite flags.
fn tri_state(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Merges a mission.
pub(crate) fn cmd_merge(ui: &mut Ui, args: &MergeArgs) -> Result<(), CliError> {
    let repo = if args.dry_run {
        workspace::discover_repo()?
    } else {
        workspace::discover_repo_for_writing()?
    };
    let protected = workspace::protected_branches(&repo);
    let mode = if args.dry_run {
        MergeMode::DryRun
    } else if args.abort {
        MergeMode::Abort
    } else if args.resume {
        MergeMode::Resume
    } else {
        MergeMode::Run
    };
    let request = MergeRequest {
        handle: &args.mission,
        mode,
        strategy: args.strategy,
        delete_branch: tri_state(args.delete_branch, args.keep_branch),
        remove_worktree: tri_state(args.remove_worktree, args.keep_worktree),
        push: args.push,
        protected_branches: &protected,
        clock: &SystemClock,
    };
    match merge_mission(&repo, &request) {
        Ok(MergeOutcome::Merged(report)) => {
            for warning in &report.warnings {
                ui.warn(warning);
            }
            ui.emit(&report, || render_report(&report))
        }
        Ok(MergeOutcome::Planned(plan)) => ui.emit(&plan, || render_plan(&plan)),
        Ok(MergeOutcome::Aborted(report)) => ui.emit(&report, || render_abort(&report)),
        Err(MergeError::Conflict { conflict }) => {
            ui.emit(&conflict, || render_conflict(&conflict))?;
            Err(CliError::from(MergeError::Conflict { conflict }))
        }
        Err(error) => Err(error.into()),
    }
}

fn lane_line(text: &mut String, lane_id: &str, branch: &str, action: LaneAction) {
    let what = match action {
        LaneAction::Merge => "merged",
        LaneAction::FastForward => "fast-forwarded",
        LaneAction::AlreadyIntegrated => "already integrated",
        LaneAction::Canceled => "skipped (every work package canceled)",
        LaneAction::Planning => "on the target already (planning lane)",
        LaneAction::Conflict => "CONFLICT",
        LaneAction::Pending => "not reached",
    };
    let _ = writeln!(text, "  {lane_id:<14}{what:<24}{branch}");
}

fn render_report(report: &MergeReport) -> String {
    let mut text = String::new();
    if report.already_merged {
        let _ = writeln!(
            text,
            "`{}` is merged already: nothing left to do",
            report.mission_slug
        );
        return text;
    }
    let landed = match &report.merge_commit {
        Some(commit) => format!("as {} ({})", crate::ui::short_sha(commit), report.strategy),
        None => "(the target already had every change)".to_owned(),
    };
    let _ = writeln!(
        text,
        "{} `{}` into `{}` {landed}",
        if report.resumed {
            "Finished merging"
        } else {
            "Merged"
        },
        report.mission_slug,
        report.target_branch
    );
    for lane in &report.lanes {
        lane_line(&mut text, &lane.lane_id, &lane.branch, lane.action);
    }
    if !report.done.is_empty() {
        let _ = writeln!(text, "Done: {}", report.done.join(", "));
    }
    if let Some(commit) = &report.record_commit {
        let _ = writeln!(
            text,
            "Recorded the merge in meta.json as {}",
            crate::ui::short_sha(commit)
        );
    }
    if let Some(commit) = &report.retrospective_commit {
        let _ = writeln!(
            text,
            "Captured the retrospective as {}",
            crate::ui::short_sha(commit)
        );
    }
    for path in &report.planning_kept {
        let _ = writeln!(
            text,
            "Kept the planning surface's {path} (a lane changed its own copy)"
        );
    }
    if !report.removed_worktrees.is_empty() {
        let _ = writeln!(
            text,
            "Removed {} worktree(s), deleted {} branch(es)",
            report.removed_worktrees.len(),
            report.deleted_branches.len()
        );
    } else if !report.deleted_branches.is_empty() {
        let _ = writeln!(text, "Deleted {} branch(es)", report.deleted_branches.len());
    }
    if let Some(commit) = &report.flatten_commit {
        let _ = writeln!(
            text,
            "Flattened the coordination metadata as {}",
            crate::ui::short_sha(commit)
        );
    }
    if report.pushed {
        let _ = writeln!(text, "Pushed `{}` to origin", report.target_branch);
    }
    let _ = writeln!(
        text,
        "Next: missionctl accept --mission {}",
        report.mission_slug
    );
    text
}

fn render_plan(plan: &MergePlan) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Would merge `{}` into `{}` ({}), through `{}`",
        plan.mission_slug, plan.target_branch, plan.strategy, plan.mission_branch
    );
    for lane in &plan.forecast.lanes {
        lane_line(&mut text, &lane.lane_id, &lane.branch, lane.action);
        for path in &lane.conflicts {
            let _ = writeln!(text, "      conflict: {path}");
        }
    }
    let _ = writeln!(text, "  {:<14}{}", "target", plan.forecast.target.action);
    for path in &plan.forecast.target.conflicts {
        let _ = writeln!(text, "      conflict: {path}");
    }
    if let Some(number) = plan.would_assign_mission_number {
        let _ = writeln!(
            text,
            "Spec Kitty would assign mission_number={number}; meta.json keeps the target's value"
        );
    }
    if !plan.forecast.would_mark_done.is_empty() {
        let _ = writeln!(
            text,
            "Would move to done: {}",
            plan.forecast.would_mark_done.join(", ")
        );
    }
    let _ = writeln!(
        text,
        "Afterwards: {} branches, {} worktrees",
        if plan.delete_branch { "delete" } else { "keep" },
        if plan.remove_worktree {
            "remove"
        } else {
            "keep"
        }
    );
    for warning in &plan.retention.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    let _ = writeln!(
        text,
        "{}",
        if plan.forecast.clean {
            "No conflict: the merge would complete"
        } else {
            "The merge would stop at the conflict above"
        }
    );
    text
}

fn render_abort(report: &AbortReport) -> String {
    if report.aborted {
        format!(
            "Aborted the merge of `{}`: nothing was merged{}\n",
            report.mission_slug,
            report
                .removed_workspace
                .as_ref()
                .map(|path| format!(" (removed `{}`)", path.display()))
                .unwrap_or_default()
        )
    } else {
        format!(
            "No merge of `{}` is in progress: nothing to abort\n",
            report.mission_slug
        )
    }
}

fn render_conflict(conflict: &ConflictReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "The merge of `{}` stopped before the target branch moved.",
        conflict.mission_slug
    );
    if !conflict.integrated_lanes.is_empty() {
        let _ = writeln!(
            text,
            "Integrated so far: {}",
            conflict.integrated_lanes.join(", ")
        );
    }
    let _ = writeln!(text, "Resolve in: {}", conflict.workspace.display());
    for path in &conflict.paths {
        let _ = writeln!(text, "  conflict: {path}");
    }
    text
}
