//! `merge`: a mission's lanes merged into its mission branch in dependency order, then the
//! mission branch into the target branch, without ever losing a line of either.
//!
//! 1. **Gates** first, writing nothing: every work package approved or done, no terminal work
//!    package whose last review asked for changes, lane branches present and lane worktrees
//!    clean, the target branch checked out and not behind its upstream, no Spec Kitty merge
//!    running.
//! 2. **Integration by plumbing** ([`integrate`]): each merge is a plain three-way
//!    `git merge-tree --write-tree`, never a `-X theirs`/`-X ours` strategy option; only the
//!    bookkeeping under `kitty-specs/` is reconciled (event logs unioned, `status.json`
//!    derived, planning artifacts from the planning surface). Objects only: no ref moves.
//! 3. **A conflict stops the merge before the target moves**, naming the lane (or the target)
//!    and the files; the merge waits in a workspace (`.worktrees/<mission>-merge`) with git's
//!    conflict markers, its state saved ([`state`]). `--resume` takes the resolution and goes
//!    on; `--abort` removes the workspace and the state: nothing else had changed.
//! 4. **Landing** is one write-door transaction: the mission branch, then the target branch
//!    (its checkout following) move by compare-and-swap; the target's move is the commit point.
//! 5. **Finishing**, each step idempotent and resumable: `approved → done` through the status
//!    aggregate with the merge commit as evidence, `baseline_merge_commit` and `status_phase`
//!    in `meta.json`, the coordination log projected back, the retrospective, then the lane
//!    worktrees, workspace context files and branches removed (and a coordination mission
//!    flattened), the state removed last.
//!
//! A kill at any instant is settled by the write door's recovery, and `--resume` (or
//! `--abort`, before landing) completes what is left. See `docs/adr/0011-merge-never-drops-a-line.md`.

mod finish;
mod integrate;
mod preflight;
mod retrospective;
mod run;
mod state;

use std::path::PathBuf;

use missionctl_core::lifecycle::merge::{MergeStrategy, Retention};
use missionctl_core::planning::lanes_manifest::ExecutionLane;
use serde::Serialize;

pub use run::merge_mission;
pub use state::{MergePhase, MergeState, SavedConflict, StateError};

use crate::clock::Clock;
use crate::fs_util::PathError;
use crate::git::GitError;
use crate::mission::context::ResolveError;
use crate::repo::RepoError;
use crate::status::{StatusLoadError, StatusWriteError};
use crate::write::WriteError;

/// What `merge` is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMode {
    /// Merge (refused while a merge of the mission is saved: `MERGE_IN_PROGRESS`).
    Run,
    /// Print the plan and forecast conflicts; write nothing.
    DryRun,
    /// Go on with a saved merge (after resolving its conflict); without one, merge.
    Resume,
    /// Drop a merge stopped at a conflict: remove its workspace and state.
    Abort,
}

/// A merge request.
pub struct MergeRequest<'a> {
    /// The mission handle.
    pub handle: &'a str,
    /// What to do.
    pub mode: MergeMode,
    /// `--strategy` (else `.kittify/config.yaml`'s `merge.strategy`, else squash).
    pub strategy: Option<MergeStrategy>,
    /// `--delete-branch` / `--keep-branch`.
    pub delete_branch: Option<bool>,
    /// `--remove-worktree` / `--keep-worktree`.
    pub remove_worktree: Option<bool>,
    /// `--push`: push the target branch to `origin` once merged.
    pub push: bool,
    /// The branches status is never committed to.
    pub protected_branches: &'a crate::repo::protection::ProtectedBranches,
    /// The clock of the rows and commits.
    pub clock: &'a dyn Clock,
}

/// What one lane does in a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneAction {
    /// Merged into the mission branch with a merge commit.
    Merge,
    /// The mission branch fast-forwards to it.
    FastForward,
    /// Already in the mission branch.
    AlreadyIntegrated,
    /// Every work package of the lane is canceled: nothing to integrate.
    Canceled,
    /// The planning lane: its work is on the target branch already.
    Planning,
    /// Conflicts with the mission branch: the merge stops here.
    Conflict,
    /// Not reached: an earlier lane conflicts.
    Pending,
}

/// One lane of a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaneReport {
    /// The lane.
    pub lane_id: String,
    /// Its branch.
    pub branch: String,
    /// Its work packages.
    pub wp_ids: Vec<String>,
    /// What the merge does with it.
    pub action: LaneAction,
    /// The files it conflicts on.
    pub conflicts: Vec<String>,
}

/// The mission branch into the target branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetReport {
    /// `squash`, `merge`, `fast_forward`, `already_applied` (the target has every change),
    /// `conflict`, `pending` (an earlier lane conflicts) or `none` (no mission branch).
    pub action: &'static str,
    /// The files the target conflicts on with the mission.
    pub conflicts: Vec<String>,
}

/// A conflict that stops a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictReport {
    /// The mission.
    pub mission_slug: String,
    /// The lane whose branch conflicts; `None` when the target branch conflicts with the
    /// mission.
    pub lane_id: Option<String>,
    /// The branch that conflicts.
    pub branch: String,
    /// What it conflicts with (the mission branch, with the lanes integrated so far).
    pub with: String,
    /// The conflicting files.
    pub paths: Vec<String>,
    /// The workspace where the merge waits (absolute).
    pub workspace: PathBuf,
    /// The lanes integrated before it.
    pub integrated_lanes: Vec<String>,
}

/// The plan `--dry-run` prints: Spec Kitty's dry-run document, and the forecast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergePlan {
    /// The mission.
    pub mission_slug: String,
    /// The target branch.
    pub target_branch: String,
    /// The strategy.
    pub strategy: MergeStrategy,
    /// Whether branches are deleted afterwards.
    pub delete_branch: bool,
    /// Whether worktrees are removed afterwards.
    pub remove_worktree: bool,
    /// Whether the target branch is pushed.
    pub push: bool,
    /// The mission branch.
    pub mission_branch: String,
    /// The lanes, as `lanes.json` has them.
    pub lanes: Vec<ExecutionLane>,
    /// The number Spec Kitty would assign (`max + 1` over the target branch's missions; its
    /// own merge then keeps the target's `null`, and so does missionctl).
    pub would_assign_mission_number: Option<i64>,
    /// Spec Kitty's retention document.
    pub retention: RetentionReport,
    /// What the merge would do, lane by lane, and where it would conflict.
    pub forecast: Forecast,
}

/// Spec Kitty's `retention` object of the dry-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Where the branch decision comes from.
    pub branch_source: missionctl_core::lifecycle::merge::RetentionSource,
    /// Where the worktree decision comes from.
    pub worktree_source: missionctl_core::lifecycle::merge::RetentionSource,
    /// Its warnings.
    pub warnings: Vec<String>,
}

impl From<&Retention> for RetentionReport {
    fn from(retention: &Retention) -> RetentionReport {
        RetentionReport {
            branch_source: retention.branch_source,
            worktree_source: retention.worktree_source,
            warnings: retention.warnings.clone(),
        }
    }
}

/// The forecast of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forecast {
    /// True when the merge would complete without a conflict.
    pub clean: bool,
    /// Each lane.
    pub lanes: Vec<LaneReport>,
    /// The mission branch into the target.
    pub target: TargetReport,
    /// Planning artifacts a lane changed that the merge keeps as the planning surface has them.
    pub planning_kept: Vec<String>,
    /// The work packages that would move to `done`.
    pub would_mark_done: Vec<String>,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// The mission.
    pub mission_slug: String,
    /// Its topology.
    pub topology: String,
    /// The strategy.
    pub strategy: MergeStrategy,
    /// The target branch.
    pub target_branch: String,
    /// The mission branch.
    pub mission_branch: String,
    /// True when a saved merge was resumed.
    pub resumed: bool,
    /// True when the mission was merged already (a resume after the last step).
    pub already_merged: bool,
    /// The target branch before the merge (`baseline_merge_commit`).
    pub baseline: Option<String>,
    /// The commit the mission landed as on the target (`None`: the target had every change).
    pub merge_commit: Option<String>,
    /// Each lane.
    pub lanes: Vec<LaneReport>,
    /// The work packages moved to `done`, in order.
    pub done: Vec<String>,
    /// The commit recording `meta.json`'s merge fields (and the projected status).
    pub record_commit: Option<String>,
    /// The retrospective's commit.
    pub retrospective_commit: Option<String>,
    /// The worktrees removed (absolute).
    pub removed_worktrees: Vec<PathBuf>,
    /// The workspace context files removed (absolute).
    pub removed_contexts: Vec<PathBuf>,
    /// The branches deleted.
    pub deleted_branches: Vec<String>,
    /// The commit flattening a coordination mission's `meta.json`.
    pub flatten_commit: Option<String>,
    /// Whether the target branch was pushed.
    pub pushed: bool,
    /// Planning artifacts a lane changed that were kept as the planning surface has them.
    pub planning_kept: Vec<String>,
    /// What did not go as asked without failing the merge (a kept worktree, …).
    pub warnings: Vec<String>,
}

/// What `--abort` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbortReport {
    /// The mission.
    pub mission_slug: String,
    /// False when no merge of the mission was saved.
    pub aborted: bool,
    /// The workspace removed.
    pub removed_workspace: Option<PathBuf>,
}

/// What a merge request gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MergeOutcome {
    /// The merge completed.
    Merged(Box<MergeReport>),
    /// The plan of a dry run.
    Planned(Box<MergePlan>),
    /// The merge was aborted.
    Aborted(AbortReport),
}

/// A work package that is not ready to merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotReady {
    /// The work package.
    pub wp_id: String,
    /// Its lane.
    pub lane: String,
}

/// Why a merge could not be made. Except for [`MergeError::Conflict`] (the merge is saved) and
/// the errors of the finishing steps after landing (a resume completes them), nothing was
/// changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// The mission cannot be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The status aggregate cannot be loaded.
    #[error(transparent)]
    StatusLoad(#[from] StatusLoadError),
    /// A status write failed.
    #[error(transparent)]
    Status(#[from] StatusWriteError),
    /// The status cannot be read.
    #[error(transparent)]
    StatusRead(#[from] crate::mission::dir::StatusReadError),
    /// A write failed (undone).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The repository cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A file cannot be read.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The saved state cannot be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// An object cannot be read or written.
    #[error("Cannot {action}: {source}")]
    Objects {
        /// What was being done.
        action: &'static str,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// `lanes.json` is missing for a mission whose work packages worked in lanes.
    #[error("Mission `{mission_slug}` has no lanes.json: its lanes were never computed")]
    LanesMissing {
        /// The mission.
        mission_slug: String,
    },
    /// `lanes.json` cannot be read.
    #[error("Cannot read `{}`: {message}", path.display())]
    LanesInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `meta.json` names no target branch.
    #[error("Mission `{mission_slug}` has no target branch in meta.json")]
    TargetUnknown {
        /// The mission.
        mission_slug: String,
    },
    /// The target branch does not exist.
    #[error("Target branch '{branch}' (from meta.json) does not exist locally")]
    TargetBranchNotFound {
        /// The branch.
        branch: String,
    },
    /// The target branch is not checked out in the primary checkout.
    #[error(
        "The merge runs in the primary checkout with `{branch}` checked out; it has {}",
        checked_out.as_deref().map_or_else(|| "a detached HEAD".to_owned(), |b| format!("`{b}`"))
    )]
    TargetNotCheckedOut {
        /// The target branch.
        branch: String,
        /// What is checked out.
        checked_out: Option<String>,
    },
    /// The target branch is protected and the mission's status is written there.
    #[error("{0}")]
    ProtectedTarget(#[source] crate::repo::protection::ProtectedBranchRefusal),
    /// The mission branch does not exist.
    #[error("Missing mission branch: {branch}")]
    MissionBranchNotFound {
        /// The branch.
        branch: String,
        /// The commit to create it at (the primary checkout's `HEAD`, 12 digits).
        head: String,
    },
    /// A lane branch does not exist.
    #[error("Lane branch {branch} of {lane_id} does not exist")]
    LaneBranchNotFound {
        /// The lane.
        lane_id: String,
        /// The branch.
        branch: String,
    },
    /// A lane worktree has uncommitted changes.
    #[error(
        "The worktree of {lane_id} has uncommitted changes: {}",
        paths.join(", ")
    )]
    LaneWorktreeDirty {
        /// The lane.
        lane_id: String,
        /// Its worktree.
        worktree: PathBuf,
        /// The paths `git status` lists.
        paths: Vec<String>,
    },
    /// Work packages are not approved or done.
    #[error(
        "Every work package must be approved or done before the merge: {}",
        not_ready.iter().map(|wp| format!("{}={}", wp.wp_id, wp.lane)).collect::<Vec<_>>().join(", ")
    )]
    NotApproved {
        /// The work packages and their lanes.
        not_ready: Vec<NotReady>,
    },
    /// A terminal work package's last review verdict asks for changes.
    #[error(
        "{} approved or done, but the latest review verdict is 'changes_requested'",
        wp_ids.join(", ")
    )]
    RejectedReview {
        /// The work packages.
        wp_ids: Vec<String>,
    },
    /// The target branch is behind its upstream.
    #[error("`{branch}` is {behind} commit(s) behind `{upstream}`")]
    TargetBehind {
        /// The target branch.
        branch: String,
        /// Its upstream.
        upstream: String,
        /// How many commits.
        behind: usize,
    },
    /// Spec Kitty is merging in this repository.
    #[error("Spec Kitty holds its merge lock `{}`", path.display())]
    SpecKittyMerging {
        /// The lock file.
        path: PathBuf,
    },
    /// The merge conflicts; it waits in a workspace.
    #[error(
        "{} conflicts with {} in: {}",
        conflict.lane_id.as_ref().map_or_else(|| format!("the target branch `{}`", conflict.branch), |lane| format!("{lane} (`{}`)", conflict.branch)),
        if conflict.lane_id.is_some() { format!("the mission branch `{}`", conflict.with) } else { format!("the mission `{}`", conflict.with) },
        conflict.paths.join(", ")
    )]
    Conflict {
        /// The conflict.
        conflict: Box<ConflictReport>,
    },
    /// `--resume` found the conflict not resolved.
    #[error("The merge's conflicts are not resolved in `{}`: {}", workspace.display(), paths.join(", "))]
    Unresolved {
        /// The workspace.
        workspace: PathBuf,
        /// The paths still conflicted or holding conflict markers.
        paths: Vec<String>,
    },
    /// A merge of the mission is saved.
    #[error("A merge of `{mission_slug}` is {}", match phase { MergePhase::Conflict => "stopped at a conflict", MergePhase::Landed => "landed and not finished" })]
    InProgress {
        /// The mission.
        mission_slug: String,
        /// Where it is.
        phase: MergePhase,
    },
    /// `--resume` with another strategy than the saved merge's.
    #[error("The saved merge of `{mission_slug}` uses the {saved} strategy, not {requested}")]
    StrategyMismatch {
        /// The mission.
        mission_slug: String,
        /// The saved strategy.
        saved: MergeStrategy,
        /// The strategy asked for.
        requested: MergeStrategy,
    },
    /// A branch moved since the merge stopped.
    #[error("`{branch}` moved since the merge stopped")]
    StateStale {
        /// The branch.
        branch: String,
    },
    /// `--abort` of a merge that already landed.
    #[error("The merge of `{mission_slug}` already landed on `{target_branch}`")]
    AlreadyLanded {
        /// The mission.
        mission_slug: String,
        /// The target branch.
        target_branch: String,
    },
    /// Every work package is done and nothing is left to merge.
    #[error("Mission `{mission_slug}` is merged already")]
    AlreadyMerged {
        /// The mission.
        mission_slug: String,
    },
    /// A lane's commits are not in the mission branch after integration (a bug).
    #[error("{lane_id}'s branch is not part of the integrated mission")]
    Verification {
        /// The lane.
        lane_id: String,
    },
    /// Two commits share no history.
    #[error("{ours} and {theirs} share no history")]
    UnrelatedHistories {
        /// One commit.
        ours: String,
        /// The other.
        theirs: String,
    },
    /// `git merge-tree` printed something unexpected.
    #[error("Unexpected output of `git merge-tree`: {output}")]
    MergeTreeOutput {
        /// What it printed.
        output: String,
    },
    /// The strategy is not one missionctl merges with.
    #[error("The {strategy} strategy is not supported by missionctl")]
    StrategyUnsupported {
        /// The strategy.
        strategy: MergeStrategy,
    },
    /// `.kittify/config.yaml`'s `merge.strategy` is not a strategy.
    #[error(
        "Invalid merge.strategy '{value}' in .kittify/config.yaml. Allowed values: merge, rebase, squash"
    )]
    StrategyInvalid {
        /// The value.
        value: String,
    },
    /// The merge workspace is not where the state says.
    #[error("The merge workspace `{}` is missing", workspace.display())]
    WorkspaceMissing {
        /// The workspace.
        workspace: PathBuf,
    },
    /// `git push` failed.
    #[error("Push failed: {message}")]
    PushFailed {
        /// What git said.
        message: String,
    },
}

impl MergeError {
    /// Returns the error of a gix failure.
    pub(crate) fn objects(
        action: &'static str,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> MergeError {
        MergeError::Objects {
            action,
            source: gix::Error::from_error(error),
        }
    }

    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            MergeError::Resolve(error) => error.code(),
            MergeError::StatusLoad(error) => error.code(),
            MergeError::Status(error) => error.code(),
            MergeError::StatusRead(error) => error.code(),
            MergeError::Write(error) => error.code(),
            MergeError::Git(error) => error.code(),
            MergeError::Repo(error) => error.code(),
            MergeError::Io(error) => error.code(),
            MergeError::State(_) => "MERGE_STATE_INVALID",
            MergeError::Objects { .. } => "GIT_WRITE_FAILED",
            MergeError::LanesMissing { .. } => "LANES_JSON_MISSING",
            MergeError::LanesInvalid { .. } => "LANES_JSON_INVALID",
            MergeError::TargetUnknown { .. } => "TARGET_BRANCH_UNKNOWN",
            MergeError::TargetBranchNotFound { .. } => "TARGET_BRANCH_NOT_FOUND",
            MergeError::TargetNotCheckedOut { .. } => "TARGET_BRANCH_NOT_CHECKED_OUT",
            MergeError::ProtectedTarget(refusal) => refusal.code(),
            MergeError::MissionBranchNotFound { .. } => "MISSION_BRANCH_NOT_FOUND",
            MergeError::LaneBranchNotFound { .. } => "LANE_BRANCH_NOT_FOUND",
            MergeError::LaneWorktreeDirty { .. } => "LANE_WORKTREE_DIRTY",
            MergeError::NotApproved { .. } => "WORK_PACKAGES_NOT_APPROVED",
            MergeError::RejectedReview { .. } => "REJECTED_REVIEW_ARTIFACT_CONFLICT",
            MergeError::TargetBehind { .. } => "TARGET_BRANCH_NOT_SYNCHRONIZED",
            MergeError::SpecKittyMerging { .. } => "MERGE_LOCKED",
            MergeError::Conflict { .. } => "MERGE_CONFLICT",
            MergeError::Unresolved { .. } => "MERGE_CONFLICT_UNRESOLVED",
            MergeError::InProgress { .. } => "MERGE_IN_PROGRESS",
            MergeError::StrategyMismatch { .. } => "MERGE_STRATEGY_MISMATCH",
            MergeError::StateStale { .. } => "MERGE_STATE_STALE",
            MergeError::AlreadyLanded { .. } => "MERGE_ALREADY_LANDED",
            MergeError::AlreadyMerged { .. } => "MISSION_ALREADY_MERGED",
            MergeError::Verification { .. } => "MERGE_VERIFICATION_FAILED",
            MergeError::UnrelatedHistories { .. } => "MERGE_BASE_NOT_FOUND",
            MergeError::MergeTreeOutput { .. } => "GIT_FAILED",
            MergeError::StrategyUnsupported { .. } => "MERGE_STRATEGY_UNSUPPORTED",
            MergeError::StrategyInvalid { .. } => "MERGE_STRATEGY_INVALID",
            MergeError::WorkspaceMissing { .. } => "MERGE_WORKSPACE_MISSING",
            MergeError::PushFailed { .. } => "PUSH_FAILED",
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            MergeError::Resolve(error) => error.hint(),
            MergeError::StatusLoad(error) => error.hint(),
            MergeError::Status(error) => error.hint(),
            MergeError::StatusRead(error) => error.hint(),
            MergeError::Write(error) => error.hint(),
            MergeError::Git(error) => error.hint(),
            MergeError::Repo(error) => error.hint(),
            MergeError::Io(error) => error.hint(),
            MergeError::State(_) => {
                "The state file is not one this missionctl wrote: move it away, then run \
                 `missionctl merge --mission <mission>` again"
                    .to_owned()
            }
            MergeError::Objects { .. } => {
                "Check that git's object database is writable and the disk is not full".to_owned()
            }
            MergeError::LanesMissing { mission_slug } => {
                format!(
                    "Run `missionctl tasks finalize --mission {mission_slug}` to compute the lanes"
                )
            }
            MergeError::LanesInvalid { .. } => {
                "Fix lanes.json, or run `missionctl tasks finalize` again".to_owned()
            }
            MergeError::TargetUnknown { .. } => {
                "Set `target_branch` in the mission's meta.json".to_owned()
            }
            MergeError::TargetBranchNotFound { branch } => {
                format!("Create `{branch}` or fetch it (`git fetch origin {branch}:{branch}`)")
            }
            MergeError::TargetNotCheckedOut { branch, .. } => {
                format!("Run `git switch {branch}` in the primary checkout, then merge again")
            }
            MergeError::ProtectedTarget(refusal) => refusal.hint(),
            MergeError::MissionBranchNotFound { branch, head } => {
                format!("Run: git branch {branch} {head}")
            }
            MergeError::LaneBranchNotFound { lane_id, .. } => format!(
                "Run `missionctl worktree repair` (or restore the branch of {lane_id}), then merge again"
            ),
            MergeError::LaneWorktreeDirty { worktree, .. } => format!(
                "Commit or discard the changes in `{}`, then merge again",
                worktree.display()
            ),
            MergeError::NotApproved { not_ready } => {
                let first = not_ready.first().map_or("WP01", |wp| wp.wp_id.as_str());
                format!(
                    "Finish the review of each one (`missionctl review {first} --mission <mission>`, then `missionctl review approve`), or cancel it"
                )
            }
            MergeError::RejectedReview { .. } => {
                "Run another review cycle that approves the work package (`missionctl review`, \
                 `missionctl review approve`), or move it out of approved/done before the merge"
                    .to_owned()
            }
            MergeError::TargetBehind {
                branch, upstream, ..
            } => format!(
                "Bring `{branch}` up to date (`git pull --ff-only` with `{branch}` checked out, or merge `{upstream}`), then merge again"
            ),
            MergeError::SpecKittyMerging { path } => format!(
                "Wait for `spec-kitty merge` to finish; if none runs, its lock is stale: remove `{}`",
                path.display()
            ),
            MergeError::Conflict { conflict } => format!(
                "Resolve the conflicts in `{}` (edit, then `git add` them; committing is optional), \
                 then run `missionctl merge --mission {} --resume`; or `missionctl merge --mission {} --abort` \
                 to drop the merge (nothing else changed)",
                conflict.workspace.display(),
                conflict.mission_slug,
                conflict.mission_slug
            ),
            MergeError::Unresolved { workspace, .. } => format!(
                "Resolve them in `{}` and `git add` them, then run `missionctl merge --resume` again",
                workspace.display()
            ),
            MergeError::InProgress {
                mission_slug,
                phase,
            } => match phase {
                MergePhase::Conflict => format!(
                    "Run `missionctl merge --mission {mission_slug} --resume` once the conflicts are resolved, or `--abort`"
                ),
                MergePhase::Landed => {
                    format!("Run `missionctl merge --mission {mission_slug} --resume` to finish it")
                }
            },
            MergeError::StrategyMismatch { saved, .. } => format!(
                "Resume with `--strategy {saved}` (or without `--strategy`), or `--abort` and merge again"
            ),
            MergeError::StateStale { .. } => {
                "Run `missionctl merge --abort`, then merge again".to_owned()
            }
            MergeError::AlreadyLanded { mission_slug, .. } => format!(
                "Run `missionctl merge --mission {mission_slug} --resume` to finish the merge"
            ),
            MergeError::AlreadyMerged { mission_slug } => {
                format!("Run `missionctl accept --mission {mission_slug}` next")
            }
            MergeError::Verification { .. } => {
                "Nothing was changed; please report this as a bug of missionctl".to_owned()
            }
            MergeError::UnrelatedHistories { .. } => {
                "Merge the branches by hand: they were not cut from one another".to_owned()
            }
            MergeError::MergeTreeOutput { .. } => {
                "Check that git is 2.40 or newer (`git merge-tree --write-tree --merge-base`)"
                    .to_owned()
            }
            MergeError::StrategyUnsupported { .. } => {
                "Use `--strategy squash` (the default) or `--strategy merge`".to_owned()
            }
            MergeError::StrategyInvalid { .. } => {
                "Fix `merge.strategy` in .kittify/config.yaml, or pass `--strategy`".to_owned()
            }
            MergeError::WorkspaceMissing { .. } => {
                "Run `missionctl merge --abort`, then merge again".to_owned()
            }
            MergeError::PushFailed { .. } => {
                "The merge is complete locally; push the target branch by hand".to_owned()
            }
        }
    }
}
