//! The merge's run: the integration and its two possible ends before the target moves — a
//! conflict saved in a workspace, or the landing — then the finishing steps.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use missionctl_core::lifecycle::merge::{
    BOOKKEEPING_DRIVERS, MergeStrategy, Retention, branch_merge_message, lane_merge_message,
    squash_message,
};
use missionctl_core::status::lane::Lane;

use super::integrate::{Integrator, TreeMerge};
use super::preflight::{LaneStep, Mission};
use super::state::{
    MergePhase, MergeState, STATE_VERSION, SavedConflict, progress_ref, read_state, state_dir,
    state_path,
};
use super::{
    AbortReport, ConflictReport, Forecast, LaneAction, LaneReport, MergeError, MergeMode,
    MergeOutcome, MergePlan, MergeReport, MergeRequest, RetentionReport, TargetReport,
};
use crate::clock::isoformat;
use crate::repo::Repo;
use crate::write::{AdvanceRequest, Scope, WriteTransaction};

/// Runs a merge request (see the [module](super) documentation).
pub fn merge_mission(repo: &Repo, request: &MergeRequest<'_>) -> Result<MergeOutcome, MergeError> {
    let mission = Mission::load(repo, request)?;
    match request.mode {
        MergeMode::DryRun => {
            dry_run(&mission, request).map(|plan| MergeOutcome::Planned(Box::new(plan)))
        }
        MergeMode::Abort => abort(&mission).map(MergeOutcome::Aborted),
        MergeMode::Run | MergeMode::Resume => {
            run(&mission, request).map(|report| MergeOutcome::Merged(Box::new(report)))
        }
    }
}

/// The integration of a mission: its lanes into the mission branch, then the mission branch
/// into the target branch.
struct Integration {
    /// The mission branch's integrated tip (`None`: the mission has no mission branch).
    chain: Option<ObjectId>,
    lanes: Vec<LaneReport>,
    integrated: Vec<String>,
    planning_kept: Vec<String>,
    end: End,
}

/// How an integration ends.
enum End {
    /// A merge conflicts: `branch` (at `other`) into the integration at `onto`.
    Conflict {
        lane_id: Option<String>,
        branch: String,
        other: ObjectId,
        onto: ObjectId,
        merge: TreeMerge,
    },
    /// The target branch moves to `merge_commit` (`None`: it has every change already).
    Land {
        merge_commit: Option<ObjectId>,
        action: &'static str,
    },
}

impl Integration {
    fn target_report(&self) -> TargetReport {
        match &self.end {
            End::Conflict {
                lane_id: None,
                merge,
                ..
            } => TargetReport {
                action: "conflict",
                conflicts: merge.conflicts.clone(),
            },
            End::Conflict { .. } => TargetReport {
                action: "pending",
                conflicts: Vec::new(),
            },
            End::Land { action, .. } => TargetReport {
                action,
                conflicts: Vec::new(),
            },
        }
    }
}

/// Integrates `steps` into `start` (the mission branch, or a resolved conflict's commit), then
/// the result into `target`.
fn integrate(
    ix: &Integrator<'_>,
    mission: &Mission,
    steps: &[LaneStep],
    start: Option<ObjectId>,
    target: ObjectId,
    strategy: MergeStrategy,
) -> Result<Integration, MergeError> {
    let mut chain = start;
    let mut lanes = Vec::with_capacity(steps.len());
    let mut integrated = Vec::new();
    let mut planning_kept = Vec::new();
    let mut stopped: Option<End> = None;
    for step in steps {
        let mut report = LaneReport {
            lane_id: step.lane_id.clone(),
            branch: step.branch.clone(),
            wp_ids: step.wp_ids.clone(),
            action: LaneAction::Pending,
            conflicts: Vec::new(),
        };
        if stopped.is_some() {
            lanes.push(report);
            continue;
        }
        let (Some(tip), Some(current)) = (step.tip, chain) else {
            report.action = if step.planning {
                LaneAction::Planning
            } else if step.canceled {
                LaneAction::Canceled
            } else {
                LaneAction::Pending
            };
            lanes.push(report);
            continue;
        };
        if ix.is_ancestor(tip, current)? {
            report.action = LaneAction::AlreadyIntegrated;
        } else if ix.is_ancestor(current, tip)? {
            report.action = LaneAction::FastForward;
            chain = Some(tip);
            integrated.push(step.lane_id.clone());
        } else {
            let merge = ix.merge(current, tip)?;
            planning_kept.extend(merge.planning_kept.iter().cloned());
            if merge.conflicts.is_empty() {
                let commit = ix.commit(
                    merge.tree,
                    &[current, tip],
                    &lane_merge_message(&step.branch, &mission.mission_branch),
                )?;
                chain = Some(commit);
                report.action = LaneAction::Merge;
                integrated.push(step.lane_id.clone());
            } else {
                report.action = LaneAction::Conflict;
                report.conflicts = merge.conflicts.clone();
                stopped = Some(End::Conflict {
                    lane_id: Some(step.lane_id.clone()),
                    branch: step.branch.clone(),
                    other: tip,
                    onto: current,
                    merge,
                });
            }
        }
        lanes.push(report);
    }
    let end = match (stopped, chain) {
        (Some(end), _) => end,
        (None, None) => End::Land {
            merge_commit: None,
            action: "none",
        },
        (None, Some(current)) => {
            // Every lane's commits must be in the mission branch now (failure class: "done"
            // without the work being integrated).
            for step in steps {
                if let Some(tip) = step.tip
                    && !ix.is_ancestor(tip, current)?
                {
                    return Err(MergeError::Verification {
                        lane_id: step.lane_id.clone(),
                    });
                }
            }
            let merge = ix.merge(target, current)?;
            planning_kept.extend(merge.planning_kept.iter().cloned());
            if !merge.conflicts.is_empty() {
                End::Conflict {
                    lane_id: None,
                    branch: mission.target_branch.clone(),
                    other: target,
                    onto: current,
                    merge,
                }
            } else if merge.tree == ix.tree_of(target)? {
                End::Land {
                    merge_commit: None,
                    action: "already_applied",
                }
            } else {
                match strategy {
                    MergeStrategy::Squash => End::Land {
                        merge_commit: Some(ix.commit(
                            merge.tree,
                            &[target],
                            &squash_message(&mission.mission_branch),
                        )?),
                        action: "squash",
                    },
                    MergeStrategy::Merge => {
                        if ix.is_ancestor(target, current)? && ix.tree_of(current)? == merge.tree {
                            End::Land {
                                merge_commit: Some(current),
                                action: "fast_forward",
                            }
                        } else {
                            End::Land {
                                merge_commit: Some(ix.commit(
                                    merge.tree,
                                    &[target, current],
                                    &branch_merge_message(
                                        &mission.mission_branch,
                                        &mission.target_branch,
                                    ),
                                )?),
                                action: "merge",
                            }
                        }
                    }
                    MergeStrategy::Rebase => {
                        return Err(MergeError::StrategyUnsupported { strategy });
                    }
                }
            }
        }
    };
    planning_kept.sort();
    planning_kept.dedup();
    Ok(Integration {
        chain,
        lanes,
        integrated,
        planning_kept,
        end,
    })
}

/// Returns the engine for a mission, the planning surface being the target's tip.
fn integrator<'a>(
    mission: &'a Mission,
    gix: &'a gix::Repository,
    target: ObjectId,
    seconds: i64,
) -> Result<Integrator<'a>, MergeError> {
    Ok(Integrator {
        root: mission.repo.primary_root(),
        gix,
        mission_slug: &mission.slug,
        planning_tree: crate::write::tree_of_commit(gix, target)?,
        identity: None,
        seconds,
    })
}

/// Returns the current time in whole seconds, and as an ISO string.
fn now(request: &MergeRequest<'_>) -> (i64, String) {
    (
        super::finish::seconds(request),
        isoformat(request.clock.now()),
    )
}

/// `--dry-run`: the gates, the plan and the forecast; nothing is written (the integration's
/// objects are unreachable, as `git merge-tree`'s).
fn dry_run(mission: &Mission, request: &MergeRequest<'_>) -> Result<MergePlan, MergeError> {
    let strategy = mission.strategy(request.strategy)?;
    if strategy == MergeStrategy::Rebase {
        return Err(MergeError::StrategyUnsupported { strategy });
    }
    let retention = mission.retention(request);
    let snapshot = mission.status.snapshot()?;
    let steps = mission.lane_steps(&snapshot)?;
    mission.check_gates(&snapshot, &steps, request.protected_branches)?;
    let target = target_tip(mission)?;
    let gix = mission.repo.gix();
    let (seconds, _) = now(request);
    let ix = integrator(mission, &gix, target, seconds)?;
    let start = mission.tip(&mission.mission_branch)?;
    let integration = integrate(&ix, mission, &steps, start, target, strategy)?;
    let target_report = integration.target_report();
    let clean = matches!(integration.end, End::Land { .. });
    let would_mark_done = mission
        .merged_wp_ids(&snapshot)
        .into_iter()
        .filter(|wp_id| {
            snapshot
                .work_packages
                .get(wp_id)
                .is_some_and(|state| state.lane == Lane::Approved)
        })
        .collect();
    Ok(MergePlan {
        mission_slug: mission.slug.clone(),
        target_branch: mission.target_branch.clone(),
        strategy,
        delete_branch: retention.delete_branch,
        remove_worktree: retention.remove_worktree,
        push: request.push,
        mission_branch: mission.mission_branch.clone(),
        lanes: mission
            .lanes
            .as_ref()
            .map(|lanes| lanes.lanes.clone())
            .unwrap_or_default(),
        would_assign_mission_number: mission.would_assign_mission_number(),
        retention: RetentionReport::from(&retention),
        forecast: Forecast {
            clean,
            lanes: integration.lanes,
            target: target_report,
            planning_kept: integration.planning_kept,
            would_mark_done,
        },
    })
}

fn target_tip(mission: &Mission) -> Result<ObjectId, MergeError> {
    mission
        .tip(&mission.target_branch)?
        .ok_or_else(|| MergeError::TargetBranchNotFound {
            branch: mission.target_branch.clone(),
        })
}

/// Opens the merge's write transaction in the mission's scope: the lock is taken and what a
/// killed writer left is settled before anything is read.
pub(crate) fn begin(mission: &Mission, operation: &str) -> Result<WriteTransaction, MergeError> {
    Ok(WriteTransaction::begin(
        &mission.repo,
        Scope::Mission(mission.slug.clone()),
        operation,
    )?)
}

/// `merge` and `merge --resume`.
fn run(mission: &Mission, request: &MergeRequest<'_>) -> Result<MergeReport, MergeError> {
    let mut transaction = begin(mission, "merge")?;
    let saved = read_state(&mission.repo, &mission.slug)?;
    let saved = match (saved, request.mode) {
        (Some(saved), MergeMode::Run) => {
            return Err(MergeError::InProgress {
                mission_slug: mission.slug.clone(),
                phase: saved.phase,
            });
        }
        (saved, _) => saved,
    };
    if let Some(saved) = &saved
        && let Some(requested) = request.strategy
        && requested != saved.strategy
    {
        return Err(MergeError::StrategyMismatch {
            mission_slug: mission.slug.clone(),
            saved: saved.strategy,
            requested,
        });
    }
    if let Some(landed) = saved
        .as_ref()
        .filter(|saved| saved.phase == MergePhase::Landed)
    {
        transaction.finish()?;
        return super::finish::finish(
            mission,
            request,
            landed.clone(),
            true,
            Vec::new(),
            Vec::new(),
        );
    }
    let snapshot = mission.status.snapshot()?;
    let wp_ids = mission.merged_wp_ids(&snapshot);
    if saved.is_none()
        && mission.resolved.meta.contains_key("baseline_merge_commit")
        && wp_ids.iter().all(|wp_id| {
            snapshot
                .work_packages
                .get(wp_id)
                .is_some_and(|state| state.lane == Lane::Done)
        })
    {
        if request.mode == MergeMode::Resume {
            return Ok(MergeReport {
                already_merged: true,
                resumed: true,
                ..empty_report(mission, mission.strategy(None)?)
            });
        }
        return Err(MergeError::AlreadyMerged {
            mission_slug: mission.slug.clone(),
        });
    }
    let strategy = match &saved {
        Some(saved) => saved.strategy,
        None => mission.strategy(request.strategy)?,
    };
    if strategy == MergeStrategy::Rebase {
        return Err(MergeError::StrategyUnsupported { strategy });
    }
    let retention = match &saved {
        Some(saved) => Retention {
            delete_branch: saved.delete_branch,
            remove_worktree: saved.remove_worktree,
            ..mission.retention(request)
        },
        None => mission.retention(request),
    };
    let steps = mission.lane_steps(&snapshot)?;
    mission.check_gates(&snapshot, &steps, request.protected_branches)?;
    let target = target_tip(mission)?;
    let mission_tip = mission.tip(&mission.mission_branch)?;
    let gix = mission.repo.gix();
    let (seconds, at) = now(request);
    let ix = integrator(mission, &gix, target, seconds)?;

    let mut start = mission_tip;
    let mut saved = saved;
    if let Some(state) = &mut saved {
        check_not_stale(mission, state, &steps, mission_tip)?;
        let parse = |hex: &str| {
            ObjectId::from_hex(hex.as_bytes())
                .map_err(|error| MergeError::objects("read the saved merge", error))
        };
        match state.conflict.clone() {
            Some(conflict) => match take_resolution(&ix, mission, &conflict)? {
                Some(resolution) => {
                    // Checkpoint: the resolution is saved (and reachable) before the workspace
                    // that holds it is touched again.
                    state.conflict = None;
                    state.integrated_commit = Some(resolution.to_string());
                    if let Some(lane) = &conflict.lane_id
                        && !state.integrated_lanes.contains(lane)
                    {
                        state.integrated_lanes.push(lane.clone());
                    }
                    state.updated_at = at.clone();
                    write_state(&mut transaction, mission, state)?;
                    set_progress(
                        &mut transaction,
                        mission,
                        Some(resolution),
                        "missionctl: merge conflict resolved",
                        true,
                    )?;
                    transaction.finish()?;
                    transaction = begin(mission, "merge")?;
                    start = Some(resolution);
                }
                None => {
                    // The workspace is gone or holds something else: set the conflict up again.
                    let onto = parse(&conflict.onto)?;
                    let integration =
                        integrate(&ix, mission, &steps, Some(onto), target, strategy)?;
                    return stop(
                        transaction,
                        mission,
                        integration,
                        StateBase::new(state.clone(), &at),
                    );
                }
            },
            None => {
                if let Some(commit) = &state.integrated_commit {
                    start = Some(parse(commit)?);
                }
            }
        }
    }
    let integration = integrate(&ix, mission, &steps, start, target, strategy)?;
    let resumed = saved.is_some();
    let base = match saved {
        Some(saved) => StateBase::new(saved, &at),
        None => StateBase::fresh(
            mission,
            strategy,
            &retention,
            request.push,
            &steps,
            mission_tip,
            &at,
        ),
    };
    if matches!(integration.end, End::Conflict { .. }) {
        return stop(transaction, mission, integration, base);
    }
    let End::Land {
        merge_commit,
        action,
    } = integration.end
    else {
        return Err(MergeError::Verification {
            lane_id: String::new(),
        });
    };
    let _ = action;
    // Under the lock: the approvals once more, as the log is now.
    mission.check_approvals(&mission.status.snapshot()?)?;
    let mut state = base.state;
    state.phase = MergePhase::Landed;
    state.conflict = None;
    state.integrated_commit = integration.chain.map(|id| id.to_string());
    state.baseline = Some(target.to_string());
    state.merge_commit = merge_commit.map(|id| id.to_string());
    state.updated_at = at;
    for lane in &integration.integrated {
        if !state.integrated_lanes.contains(lane) {
            state.integrated_lanes.push(lane.clone());
        }
    }
    land(
        &mut transaction,
        mission,
        &state,
        mission_tip,
        integration.chain,
        target,
        merge_commit,
    )?;
    transaction.finish()?;
    super::finish::finish(
        mission,
        request,
        state,
        resumed,
        integration.lanes,
        integration.planning_kept,
    )
}

/// The state a merge writes, before its phase is set.
struct StateBase {
    state: MergeState,
}

impl StateBase {
    fn new(mut state: MergeState, at: &str) -> StateBase {
        state.updated_at = at.to_owned();
        StateBase { state }
    }

    fn fresh(
        mission: &Mission,
        strategy: MergeStrategy,
        retention: &Retention,
        push: bool,
        steps: &[LaneStep],
        mission_tip: Option<ObjectId>,
        at: &str,
    ) -> StateBase {
        StateBase {
            state: MergeState {
                version: STATE_VERSION,
                mission_slug: mission.slug.clone(),
                mission_id: mission.mission_id.clone(),
                phase: MergePhase::Conflict,
                strategy,
                target_branch: mission.target_branch.clone(),
                mission_branch: mission.mission_branch.clone(),
                delete_branch: retention.delete_branch,
                remove_worktree: retention.remove_worktree,
                push,
                integrated_lanes: Vec::new(),
                integrated_commit: None,
                lane_commits: steps
                    .iter()
                    .filter_map(|step| step.tip.map(|tip| (step.branch.clone(), tip.to_string())))
                    .collect(),
                mission_branch_commit: mission_tip.map(|id| id.to_string()),
                conflict: None,
                baseline: None,
                merge_commit: None,
                started_at: at.to_owned(),
                updated_at: at.to_owned(),
            },
        }
    }
}

/// Refuses to resume when a lane branch or the mission branch moved since the merge stopped.
fn check_not_stale(
    mission: &Mission,
    saved: &MergeState,
    steps: &[LaneStep],
    mission_tip: Option<ObjectId>,
) -> Result<(), MergeError> {
    for (branch, commit) in &saved.lane_commits {
        let now = steps
            .iter()
            .find(|step| &step.branch == branch)
            .and_then(|step| step.tip)
            .map(|id| id.to_string());
        if now.as_deref() != Some(commit.as_str()) {
            return Err(MergeError::StateStale {
                branch: branch.clone(),
            });
        }
    }
    if mission_tip.map(|id| id.to_string()) != saved.mission_branch_commit {
        return Err(MergeError::StateStale {
            branch: mission.mission_branch.clone(),
        });
    }
    Ok(())
}

/// Returns the commit that resolves the saved conflict, from the workspace: the merge the user
/// committed there, or one made of what they staged. `None` when the workspace is missing or
/// holds another merge (it is then set up again). Refuses a resolution with conflicts left.
fn take_resolution(
    ix: &Integrator<'_>,
    mission: &Mission,
    conflict: &SavedConflict,
) -> Result<Option<ObjectId>, MergeError> {
    let workspace = &conflict.workspace;
    let registered = mission
        .repo
        .worktree_checkouts()?
        .iter()
        .any(|checkout| &checkout.path == workspace);
    if !registered || !workspace.is_dir() {
        return Ok(None);
    }
    let parse = |hex: &str| {
        ObjectId::from_hex(hex.as_bytes())
            .map_err(|error| MergeError::objects("read the saved merge", error))
    };
    let onto = parse(&conflict.onto)?;
    let other = parse(&conflict.branch_commit)?;
    let git_dir = crate::write::git_dir_of(workspace)?;
    let unmerged = crate::git::git(workspace, ["ls-files", "--unmerged", "-z"])?;
    let mut open: Vec<String> = unmerged
        .stdout
        .split(|byte| *byte == 0)
        .filter_map(|record| {
            let tab = record.iter().position(|byte| *byte == b'\t')?;
            Some(String::from_utf8_lossy(&record[tab + 1..]).into_owned())
        })
        .collect();
    for path in &conflict.paths {
        let Ok(bytes) = std::fs::read(workspace.join(path)) else {
            continue;
        };
        let marked = bytes
            .split(|byte| *byte == b'\n')
            .any(|line| line.starts_with(b"<<<<<<< ") || line.starts_with(b">>>>>>> "));
        if marked {
            open.push(path.clone());
        }
    }
    open.sort();
    open.dedup();
    if !open.is_empty() {
        return Err(MergeError::Unresolved {
            workspace: workspace.clone(),
            paths: open,
        });
    }
    let message = match &conflict.lane_id {
        Some(_) => lane_merge_message(&conflict.branch, &mission.mission_branch),
        None => branch_merge_message(&conflict.branch, &mission.mission_branch),
    };
    if git_dir.join("MERGE_HEAD").is_file() {
        let unstaged = crate::git::git(workspace, ["diff", "--name-only", "-z"])?;
        let unstaged = crate::git::nul_separated_paths(&unstaged.stdout);
        if !unstaged.is_empty() {
            return Err(MergeError::Unresolved {
                workspace: workspace.clone(),
                paths: unstaged,
            });
        }
        let tree = crate::git::git(workspace, ["write-tree"])?;
        let tree = parse(String::from_utf8_lossy(&tree.stdout).trim())?;
        return Ok(Some(ix.commit(tree, &[onto, other], &message)?));
    }
    let head = crate::git::git(workspace, ["rev-parse", "HEAD"])?;
    let head = parse(String::from_utf8_lossy(&head.stdout).trim())?;
    if head == onto {
        // The merge in the workspace was abandoned (`git merge --abort`): set it up again.
        return Ok(None);
    }
    if ix.is_ancestor(onto, head)? && ix.is_ancestor(other, head)? {
        return Ok(Some(head));
    }
    Ok(None)
}

/// Saves a merge stopped at a conflict: the workspace with git's conflict markers (the
/// bookkeeping already reconciled), the state, and the progress ref keeping the integration's
/// commits reachable (the transaction's commit point).
fn stop(
    mut transaction: WriteTransaction,
    mission: &Mission,
    integration: Integration,
    base: StateBase,
) -> Result<MergeReport, MergeError> {
    let End::Conflict {
        lane_id,
        branch,
        other,
        onto,
        merge,
    } = integration.end
    else {
        return Err(MergeError::Verification {
            lane_id: String::new(),
        });
    };
    let workspace = mission.workspace();
    if std::fs::symlink_metadata(&workspace).is_ok() {
        transaction.remove_worktree(&workspace, true)?;
    }
    transaction.add_detached_worktree(&workspace, onto)?;
    let message = match &lane_id {
        Some(_) => lane_merge_message(&branch, &mission.mission_branch),
        None => branch_merge_message(&branch, &mission.mission_branch),
    };
    let mut args: Vec<String> = vec!["-c".into(), "core.hooksPath=/dev/null".into()];
    for driver in BOOKKEEPING_DRIVERS {
        args.push("-c".into());
        args.push(format!("merge.{driver}.driver=false"));
    }
    args.extend([
        "merge".into(),
        "--no-ff".into(),
        "--no-commit".into(),
        "-m".into(),
        message,
        other.to_string(),
    ]);
    let index_lock = crate::write::git_dir_of(&workspace)?.join("index.lock");
    transaction.run_git_accepting(&workspace, &args, std::slice::from_ref(&index_lock), &[1])?;
    settle_in_workspace(&mut transaction, &workspace, &merge, &index_lock)?;

    let mut state = base.state;
    state.phase = MergePhase::Conflict;
    state.integrated_commit = Some(onto.to_string());
    for lane in &integration.integrated {
        if !state.integrated_lanes.contains(lane) {
            state.integrated_lanes.push(lane.clone());
        }
    }
    state.conflict = Some(SavedConflict {
        lane_id: lane_id.clone(),
        branch: branch.clone(),
        branch_commit: other.to_string(),
        onto: onto.to_string(),
        paths: merge.conflicts.clone(),
        workspace: workspace.clone(),
    });
    write_state(&mut transaction, mission, &state)?;
    set_progress(
        &mut transaction,
        mission,
        Some(onto),
        "missionctl: merge stopped at a conflict",
        true,
    )?;
    transaction.finish()?;
    Err(MergeError::Conflict {
        conflict: Box::new(ConflictReport {
            mission_slug: mission.slug.clone(),
            lane_id,
            with: mission.mission_branch.clone(),
            branch,
            paths: merge.conflicts,
            workspace,
            integrated_lanes: state.integrated_lanes,
        }),
    })
}

/// Gives the workspace's index and files the reconciled bookkeeping of a merge: those paths are
/// then resolved, and only real conflicts are left to the user.
fn settle_in_workspace(
    transaction: &mut WriteTransaction,
    workspace: &Path,
    merge: &TreeMerge,
    index_lock: &Path,
) -> Result<(), MergeError> {
    if merge.reconciled.is_empty() {
        return Ok(());
    }
    let locks = [index_lock.to_path_buf()];
    let mut update: Vec<String> = vec!["update-index".into()];
    let mut present = Vec::new();
    let mut removed = Vec::new();
    for (path, entry) in &merge.reconciled {
        match entry {
            Some((mode, id)) => {
                update.push("--add".into());
                update.push("--cacheinfo".into());
                update.push(format!("{mode:o},{id},{path}"));
                present.push(path.clone());
            }
            None => removed.push(path.clone()),
        }
    }
    if !present.is_empty() {
        transaction.run_git(workspace, &update, &locks)?;
        let mut checkout: Vec<String> =
            vec!["checkout-index".into(), "--force".into(), "--".into()];
        checkout.extend(present);
        transaction.run_git(workspace, &checkout, &locks)?;
    }
    if !removed.is_empty() {
        let mut rm: Vec<String> = vec![
            "rm".into(),
            "--quiet".into(),
            "--force".into(),
            "--ignore-unmatch".into(),
            "--".into(),
        ];
        rm.extend(removed);
        transaction.run_git(workspace, &rm, &locks)?;
    }
    Ok(())
}

/// Moves the progress ref (keeping a stopped merge's commits reachable) to `to`, or deletes it
/// for `None`; nothing when it is there already.
fn set_progress(
    transaction: &mut WriteTransaction,
    mission: &Mission,
    to: Option<ObjectId>,
    message: &str,
    point: bool,
) -> Result<(), MergeError> {
    let name = progress_ref(&mission.slug);
    let current = transaction.ref_target(&name)?;
    if current != to {
        transaction.move_ref(&name, current, to, message, point)?;
    }
    Ok(())
}

/// Writes the state file in the transaction.
fn write_state(
    transaction: &mut WriteTransaction,
    mission: &Mission,
    state: &MergeState,
) -> Result<(), MergeError> {
    transaction.create_dir_all(&state_dir(&mission.repo))?;
    transaction.write_file(&state_path(&mission.repo, &mission.slug), &state.to_bytes())?;
    Ok(())
}

/// Lands the integration: the state (landed), the progress ref dropped, the mission branch
/// moved, then the target branch with its checkout (the commit point); the workspace of a
/// resolved conflict is removed afterwards.
fn land(
    transaction: &mut WriteTransaction,
    mission: &Mission,
    state: &MergeState,
    mission_tip: Option<ObjectId>,
    chain: Option<ObjectId>,
    target: ObjectId,
    merge_commit: Option<ObjectId>,
) -> Result<(), MergeError> {
    write_state(transaction, mission, state)?;
    set_progress(
        transaction,
        mission,
        None,
        "missionctl: merge landing",
        false,
    )?;
    let checkouts = mission.repo.worktree_checkouts()?;
    let checkout_of = |branch: &str| -> Option<PathBuf> {
        checkouts
            .iter()
            .find(|checkout| checkout.branch.as_deref() == Some(branch))
            .map(|checkout| checkout.path.clone())
    };
    if let (Some(old), Some(new)) = (mission_tip, chain)
        && old != new
    {
        let checkout = checkout_of(&mission.mission_branch);
        transaction.advance_branch(&AdvanceRequest {
            branch: &mission.mission_branch,
            old,
            new,
            checkout: checkout.as_deref(),
            message: "missionctl: merge lanes into the mission branch",
            point: false,
        })?;
    }
    if let Some(new) = merge_commit {
        transaction.advance_branch(&AdvanceRequest {
            branch: &mission.target_branch,
            old: target,
            new,
            checkout: Some(mission.repo.primary_root()),
            message: &format!("missionctl: merge {}", mission.mission_branch),
            point: true,
        })?;
    }
    let workspace = mission.workspace();
    if std::fs::symlink_metadata(&workspace).is_ok() {
        transaction.remove_worktree(&workspace, true)?;
    }
    Ok(())
}

/// `--abort`: a merge stopped at a conflict is dropped (its workspace, state and progress ref
/// removed; nothing else had changed). A merge that landed is refused; none saved is fine.
fn abort(mission: &Mission) -> Result<AbortReport, MergeError> {
    let mut transaction = begin(mission, "merge --abort")?;
    let Some(saved) = read_state(&mission.repo, &mission.slug)? else {
        transaction.finish()?;
        return Ok(AbortReport {
            mission_slug: mission.slug.clone(),
            aborted: false,
            removed_workspace: None,
        });
    };
    if saved.phase == MergePhase::Landed {
        return Err(MergeError::AlreadyLanded {
            mission_slug: mission.slug.clone(),
            target_branch: saved.target_branch,
        });
    }
    let workspace = saved.conflict.as_ref().map_or_else(
        || mission.workspace(),
        |conflict| conflict.workspace.clone(),
    );
    let removed_workspace = if std::fs::symlink_metadata(&workspace).is_ok() {
        transaction.remove_worktree(&workspace, true)?;
        Some(workspace)
    } else {
        None
    };
    transaction.remove_file(&state_path(&mission.repo, &mission.slug))?;
    set_progress(
        &mut transaction,
        mission,
        None,
        "missionctl: merge aborted",
        true,
    )?;
    transaction.finish()?;
    Ok(AbortReport {
        mission_slug: mission.slug.clone(),
        aborted: true,
        removed_workspace,
    })
}

/// Returns a report with nothing done yet.
pub(crate) fn empty_report(mission: &Mission, strategy: MergeStrategy) -> MergeReport {
    MergeReport {
        mission_slug: mission.slug.clone(),
        topology: mission.topology.as_str().to_owned(),
        strategy,
        target_branch: mission.target_branch.clone(),
        mission_branch: mission.mission_branch.clone(),
        resumed: false,
        already_merged: false,
        baseline: None,
        merge_commit: None,
        lanes: Vec::new(),
        done: Vec::new(),
        record_commit: None,
        retrospective_commit: None,
        removed_worktrees: Vec::new(),
        removed_contexts: Vec::new(),
        deleted_branches: Vec::new(),
        flatten_commit: None,
        pushed: false,
        planning_kept: Vec::new(),
        warnings: Vec::new(),
    }
}
