//! The steps after a merge landed, each idempotent, so a resume after a kill simply runs them
//! again: `done` rows, the merge's `meta.json` fields (and the coordination log projected
//! back), the push, the cleanup, the retrospective, and the state removed last.

use std::path::PathBuf;

use gix::ObjectId;
use missionctl_core::lifecycle::merge::{flatten_message, record_done_message};
use missionctl_core::mission::meta::{MissionMeta, WORKTREES_DIR, coordination_worktree_dir_name};
use missionctl_core::planning::lanes_manifest::lane_worktree_dir_name;
use missionctl_core::status::reducer::reduce_with_identity;
use serde_json::Value;

use super::preflight::Mission;
use super::run::{begin, empty_report};
use super::state::{MergeState, state_path};
use super::{LaneReport, MergeError, MergeReport, MergeRequest};
use crate::mission::dir::EVENT_LOG_FILE;
use crate::mission::meta_store::PrimaryMissionDir;
use crate::status::{project_rows, relative};
use crate::write::{CommitFiles, CommitRequest, WriteTransaction};

/// The name of `status.json`.
const SNAPSHOT_FILE: &str = "status.json";

/// Finishes a landed merge.
pub(crate) fn finish(
    mission: &Mission,
    request: &MergeRequest<'_>,
    state: MergeState,
    resumed: bool,
    lanes: Vec<LaneReport>,
    planning_kept: Vec<String>,
) -> Result<MergeReport, MergeError> {
    let mut report = MergeReport {
        resumed,
        baseline: state.baseline.clone(),
        merge_commit: state.merge_commit.clone(),
        lanes,
        planning_kept,
        ..empty_report(mission, state.strategy)
    };
    let snapshot = mission.status.snapshot()?;
    let wp_ids = mission.merged_wp_ids(&snapshot);
    let done = mission.status.record_merged_done(
        &wp_ids,
        &mission.target_branch,
        state.merge_commit.as_deref(),
        request.clock,
    )?;
    report.done = done.into_iter().map(|done| done.wp_id).collect();
    report.record_commit = record_done(mission, &state, request)?;
    if state.push {
        push(mission)?;
        report.pushed = true;
    }
    cleanup(mission, &state, request, &mut report)?;
    // The retrospective comes with the state's removal; see `retrospective`.
    report.retrospective_commit = super::retrospective::capture(mission, request, &state)?;
    Ok(report)
}

/// Returns the current time in whole seconds.
pub(crate) fn seconds(request: &MergeRequest<'_>) -> i64 {
    request
        .clock
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Records the merge in `meta.json` — `baseline_merge_commit` (set once) and `status_phase`
/// `"1"` — and, for a coordination mission, the coordination log's rows the target's log lacks
/// (with `status.json` derived again); commits them on the target branch as Spec Kitty does.
fn record_done(
    mission: &Mission,
    state: &MergeState,
    request: &MergeRequest<'_>,
) -> Result<Option<String>, MergeError> {
    let mut transaction = begin(mission, "merge: record done")?;
    let root = mission.repo.primary_root().to_path_buf();
    let dir = primary_dir(mission)?;
    let mut meta = dir
        .read_meta_required()
        .map_err(crate::mission::context::ResolveError::from)?;
    if meta.get("baseline_merge_commit").is_none_or(Value::is_null)
        && let Some(baseline) = &state.baseline
    {
        meta.set("baseline_merge_commit", Value::String(baseline.clone()));
    }
    meta.set("status_phase", Value::String("1".to_owned()));
    let mut paths = Vec::new();
    let meta_path = dir.meta_path();
    let meta_bytes = meta.to_canonical_bytes();
    if mission.repo.containment().read(&meta_path)?.as_deref() != Some(meta_bytes.as_slice()) {
        transaction.write_file(&meta_path, &meta_bytes)?;
    }
    paths.push(relative(&root, &meta_path));
    if mission.routes_through_coordination() {
        let log_path = mission.primary_dir.join(EVENT_LOG_FILE);
        let primary_log = mission
            .repo
            .containment()
            .read(&log_path)?
            .unwrap_or_default();
        if let Some(coordination_log) = mission.status.written_log_bytes()?
            && let Some(projected) = project_rows(&primary_log, &coordination_log)
        {
            transaction.write_file(&log_path, &projected)?;
            let log = missionctl_core::status::event_log::parse(&projected);
            if let Ok(snapshot) = reduce_with_identity(&log, Some(meta.as_map())) {
                let snapshot_path = mission.primary_dir.join(SNAPSHOT_FILE);
                transaction.write_file(&snapshot_path, snapshot.to_status_json().as_bytes())?;
                paths.push(relative(&root, &snapshot_path));
            }
            paths.push(relative(&root, &log_path));
        }
    }
    let outcome = transaction.commit(&CommitRequest {
        branch: &mission.target_branch,
        files: CommitFiles::Checkout {
            root: &root,
            paths: &paths,
        },
        message: &record_done_message(&mission.slug),
        identity: None,
        seconds: seconds(request),
        point: true,
    })?;
    transaction.finish()?;
    Ok(outcome.commit.map(|id| id.to_string()))
}

/// Pushes the target branch to `origin`.
fn push(mission: &Mission) -> Result<(), MergeError> {
    let mut transaction = begin(mission, "merge: push")?;
    let root = mission.repo.primary_root().to_path_buf();
    let outcome = transaction.run_git(&root, &["push", "origin", &mission.target_branch], &[]);
    match outcome {
        Ok(_) => {
            transaction.finish()?;
            Ok(())
        }
        Err(error) => {
            let _ = transaction.finish();
            Err(MergeError::PushFailed {
                message: error.to_string(),
            })
        }
    }
}

/// Removes what the merged mission no longer needs, as the retention decision says: lane
/// worktrees and their workspace context files, lane branches and the mission branch; for a
/// coordination mission whose branch and worktree both go, the coordination worktree and
/// branch, and `meta.json` flattened (committed). A worktree git refuses to remove (it has
/// changes) is kept with a warning, and so is a branch still checked out there.
fn cleanup(
    mission: &Mission,
    state: &MergeState,
    request: &MergeRequest<'_>,
    report: &mut MergeReport,
) -> Result<(), MergeError> {
    let mut transaction = begin(mission, "merge: cleanup")?;
    let root = mission.repo.primary_root().to_path_buf();
    let lane_ids: Vec<String> = mission
        .lanes
        .as_ref()
        .map(|lanes| {
            lanes
                .lanes
                .iter()
                .map(|lane| lane.lane_id.clone())
                .collect()
        })
        .unwrap_or_default();
    let coordination = mission.routes_through_coordination();
    let teardown = coordination && state.delete_branch && state.remove_worktree;
    let mut kept_checked_out: Vec<String> = Vec::new();
    let checkouts = mission.repo.worktree_checkouts()?;
    if state.remove_worktree {
        for lane_id in &lane_ids {
            let path = root
                .join(WORKTREES_DIR)
                .join(lane_worktree_dir_name(&mission.slug, lane_id));
            if let Some(checkout) = checkouts.iter().find(|checkout| checkout.path == path) {
                match remove_lane_worktree(&mut transaction, &root, &path) {
                    Ok(()) => report.removed_worktrees.push(path.clone()),
                    Err(error) => {
                        report
                            .warnings
                            .push(format!("kept the worktree `{}`: {error}", path.display()));
                        kept_checked_out.extend(checkout.branch.clone());
                    }
                }
            }
            let context =
                crate::worktree::workspace_context::context_path(&root, &mission.slug, lane_id);
            if mission.repo.containment().exists(&context)? {
                transaction.remove_file(&context)?;
                report.removed_contexts.push(context);
            }
        }
    } else {
        kept_checked_out.extend(
            checkouts
                .iter()
                .filter(|checkout| !checkout.is_primary)
                .filter_map(|checkout| checkout.branch.clone()),
        );
    }
    if teardown && let Some(mid8) = mission.mission_id.as_deref().and_then(|id| id.get(..8)) {
        let path = root
            .join(WORKTREES_DIR)
            .join(coordination_worktree_dir_name(&mission.slug, mid8));
        if checkouts.iter().any(|checkout| checkout.path == path) {
            match transaction.remove_worktree(&path, true) {
                Ok(()) => report.removed_worktrees.push(path),
                Err(error) => {
                    report.warnings.push(format!(
                        "kept the coordination worktree `{}`: {error}",
                        path.display()
                    ));
                    kept_checked_out.push(mission.mission_branch.clone());
                }
            }
        }
    }
    let workspace = mission.workspace();
    if std::fs::symlink_metadata(&workspace).is_ok() {
        transaction.remove_worktree(&workspace, true)?;
    }
    // The branches, the last deletion (or the flatten commit) being the commit point.
    let mut deletions: Vec<(String, ObjectId)> = Vec::new();
    if state.delete_branch {
        let mut branches: Vec<String> = mission
            .lanes
            .as_ref()
            .map(|lanes| {
                lanes
                    .lanes
                    .iter()
                    .filter(|lane| {
                        lane.lane_id != missionctl_core::planning::lanes_manifest::PLANNING_LANE_ID
                    })
                    .map(|lane| format!("{}-{}", mission.mission_branch, lane.lane_id))
                    .collect()
            })
            .unwrap_or_default();
        if !coordination || teardown {
            branches.push(mission.mission_branch.clone());
        }
        for branch in branches {
            if kept_checked_out.contains(&branch) {
                report.warnings.push(format!(
                    "kept the branch `{branch}`: it is checked out in a worktree that was kept"
                ));
                continue;
            }
            if let Some(tip) = mission.tip(&branch)? {
                deletions.push((branch, tip));
            }
        }
    }
    let flatten = if teardown {
        flattened_meta(mission)?
    } else {
        None
    };
    let last = deletions.len();
    for (index, (branch, tip)) in deletions.into_iter().enumerate() {
        let point = flatten.is_none() && index + 1 == last;
        transaction.move_branch_with(
            &branch,
            Some(tip),
            None,
            "missionctl: merged mission cleanup",
            point,
        )?;
        report.deleted_branches.push(branch);
    }
    if let Some((meta_path, bytes)) = flatten {
        transaction.write_file(&meta_path, &bytes)?;
        let paths = vec![relative(&root, &meta_path)];
        let outcome = transaction.commit(&CommitRequest {
            branch: &mission.target_branch,
            files: CommitFiles::Checkout {
                root: &root,
                paths: &paths,
            },
            message: &flatten_message(&mission.slug),
            identity: None,
            seconds: seconds(request),
            point: true,
        })?;
        report.flatten_commit = outcome.commit.map(|id| id.to_string());
    }
    transaction.finish()?;
    Ok(())
}

/// Removes a lane worktree: git refuses one with uncommitted changes (kept, for the user); one
/// a killed removal left half deleted (no `.git` file, or git can no longer read it) is
/// forgotten and its leftover files removed.
fn remove_lane_worktree(
    transaction: &mut WriteTransaction,
    root: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), crate::write::WriteError> {
    let refused = match transaction.remove_worktree(path, false) {
        Ok(()) => return Ok(()),
        Err(error) => error,
    };
    let readable =
        path.join(".git").is_file() && crate::git::git(path, ["rev-parse", "--git-dir"]).is_ok();
    if readable {
        // A removal killed half way leaves files missing and nothing else: finish it. Any other
        // change is the user's, and the worktree stays.
        if !only_deletions(path) {
            return Err(refused);
        }
        return transaction.remove_worktree(path, true);
    }
    transaction.run_git(root, &["worktree", "prune"], &[])?;
    if std::fs::symlink_metadata(path).is_ok() {
        std::fs::remove_dir_all(path).map_err(|source| crate::fs_util::PathError {
            action: "Cannot remove",
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// Returns true when `git status` lists only tracked files deleted from the worktree (and at
/// least one), as a `git worktree remove` killed while deleting leaves it.
fn only_deletions(worktree: &std::path::Path) -> bool {
    let Ok(output) = crate::git::git(
        worktree,
        ["status", "--porcelain", "-z", "--untracked-files=all"],
    ) else {
        return false;
    };
    let entries: Vec<&[u8]> = output
        .stdout
        .split(|byte| *byte == 0)
        .filter(|entry| !entry.is_empty())
        .collect();
    !entries.is_empty() && entries.iter().all(|entry| entry.starts_with(b" D "))
}

/// Returns the flattened `meta.json` of a coordination mission (its path and bytes), `None`
/// when there is nothing to flatten.
fn flattened_meta(mission: &Mission) -> Result<Option<(PathBuf, Vec<u8>)>, MergeError> {
    let dir = primary_dir(mission)?;
    let mut meta: MissionMeta = dir
        .read_meta_required()
        .map_err(crate::mission::context::ResolveError::from)?;
    let lanes = dir.lanes_json_state()?;
    if meta.flatten_coordination(lanes).is_none() {
        return Ok(None);
    }
    Ok(Some((dir.meta_path(), meta.to_canonical_bytes())))
}

/// Returns the mission's directory on the planning surface.
fn primary_dir(mission: &Mission) -> Result<PrimaryMissionDir, MergeError> {
    PrimaryMissionDir::new(&mission.repo, &mission.slug).map_err(|error| {
        MergeError::Io(crate::fs_util::PathError {
            action: "Cannot use the mission directory",
            path: mission.primary_dir.clone(),
            source: std::io::Error::other(error.to_string()),
        })
    })
}

/// Removes the state file (the merge is over) in `transaction`.
pub(crate) fn remove_state(
    transaction: &mut WriteTransaction,
    mission: &Mission,
) -> Result<(), MergeError> {
    transaction.remove_file(&state_path(&mission.repo, &mission.slug))?;
    Ok(())
}
