//! Lane worktrees: `implement` creates or reuses the worktree of a work package's lane and
//! moves the work package to `in_progress`; `worktree repair` rebuilds missing lane and
//! coordination worktrees from their branches.
//!
//! A lane worktree is `.worktrees/<mission-dir>-<lane_id>` on the branch
//! `kitty/mission-<human-slug>-<mid8>-<lane_id>`, shared by the lane's work packages in turn.
//! A new lane branch starts from the coordination branch (`lanes_with_coord`, with a sparse
//! checkout hiding the status files) or from the mission branch (`lanes`, created from the
//! target branch when absent); then the planning commit and the branches of the lanes it
//! depends on are merged in, and a conflict undoes the whole allocation. Work packages of the
//! planning lane, and of the `single_branch` and `coord` topologies, work in the primary
//! checkout.
//!
//! `implement --base <ref>` cuts a new lane from that ref instead; it is refused
//! (`UNHONORABLE_BASE`, before anything is written) where Spec Kitty refuses it: a lane whose
//! worktree or branch exists, a lane that depends on other lanes, and a base that shares no
//! history with the planning commit of `lanes.json`.
//!
//! Each lane worktree has a workspace context file, `.kittify/workspaces/<mission-dir>-<lane>.json`
//! (see [`crate::worktree::workspace_context`]), written when the lane is cut and updated when a later
//! work package of the lane starts. A work package sent back by review is resumed in the
//! lane's existing worktree. [`check_review_commits`] is Spec Kitty's gate that keeps a lane
//! work package without a commit of its own out of review.
//!
//! A directory is never trusted because it exists: git's worktree registry
//! (`git worktree list --porcelain`) must list it on the expected branch. A directory git does
//! not know is a husk and is reported, never reused or deleted. A lane whose branch is gone
//! while its worktree is registered, or after its work started (any work package of the lane
//! ever went past `planned`), is an error: recreating it from the base would silently drop
//! that work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use missionctl_core::mission::meta::{KITTY_SPECS_DIR, WORKTREES_DIR};
use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::mission::workspace_context::{
    CREATED_BY_IMPLEMENT, VCS_BACKEND_GIT, WORKSPACES_DIR, WorkspaceContext, lane_test_env,
};
use missionctl_core::planning::lanes_manifest::{
    ExecutionLane, LanesManifest, PLANNING_LANE_ID, lane_branch_name, lane_worktree_dir_name,
    mission_branch_name,
};
use missionctl_core::status::event_log::EventLog;
use missionctl_core::status::lane::Lane;
use serde::Serialize;

use crate::clock::{Clock, isoformat, unix_seconds};
use crate::fs_util::PathError;
use crate::git::{GitError, git};
use crate::mission::context::{ResolveError, ResolvedMissionContext, resolve_mission_context};
use crate::mission::dir::StatusReadError;
use crate::mission::index::{LookupError, list_missions};
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::planning::work_package::WorkPackageFileError;
use crate::repo::containment::Containment;
use crate::repo::{Repo, RepoError};
use crate::status::{CommitReceipt, MissionStatus, StatusLoadError, StatusWriteError};
use crate::worktree::workspace_context;
use crate::write::{Scope, WriteError, WriteTransaction};

/// Why a lane worktree could not be allocated, or `implement` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorktreeError {
    /// The mission cannot be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The missions cannot be listed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The status aggregate cannot be loaded.
    #[error(transparent)]
    StatusLoad(#[from] StatusLoadError),
    /// The status write was refused or failed.
    #[error(transparent)]
    Status(#[from] StatusWriteError),
    /// The repository cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A work-package file cannot be read.
    #[error(transparent)]
    WorkPackage(#[from] WorkPackageFileError),
    /// A lane topology without `lanes.json`.
    #[error("Mission `{mission_slug}` has no lanes.json: its lanes are not computed yet")]
    LanesMissing {
        /// The mission.
        mission_slug: String,
    },
    /// `lanes.json` cannot be read.
    #[error("Cannot read `{}`: {message}", path.display())]
    LanesCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The work package is in no lane.
    #[error("{wp_id} is in no lane of `{mission_slug}`'s lanes.json")]
    NotInLanes {
        /// The work package.
        wp_id: String,
        /// The mission.
        mission_slug: String,
    },
    /// `git worktree list` failed.
    #[error("Cannot read git's worktree registry")]
    RegistryUnavailable(#[source] Box<GitError>),
    /// A directory where a worktree belongs that git does not know.
    #[error("`{}` exists but is not a worktree git knows (a husk)", path.display())]
    Husk {
        /// The directory.
        path: PathBuf,
    },
    /// A registered worktree has another branch checked out.
    #[error(
        "`{}` has {} checked out, not `{expected}`",
        path.display(),
        actual.as_deref().map_or_else(|| "a detached HEAD".to_owned(), |branch| format!("`{branch}`"))
    )]
    BranchMismatch {
        /// The worktree.
        path: PathBuf,
        /// The lane's branch.
        expected: String,
        /// What is checked out.
        actual: Option<String>,
    },
    /// The lane's branch is gone while its worktree is registered or its work started.
    #[error(
        "The branch `{branch}` of {lane_id} no longer exists, but {}",
        if *registered { format!("its worktree `{}` is still registered", path.display()) } else { "work in that lane has started".to_owned() }
    )]
    LaneBranchMissing {
        /// The lane.
        lane_id: String,
        /// The missing branch.
        branch: String,
        /// The worktree.
        path: PathBuf,
        /// Whether git still lists the worktree.
        registered: bool,
    },
    /// The branch a new lane starts from does not exist.
    #[error("Cannot start {lane_id}: its base branch `{base}` does not exist")]
    BaseMissing {
        /// The lane.
        lane_id: String,
        /// The base branch.
        base: String,
    },
    /// Merging the planning commit or a dependency lane into the new lane conflicts.
    #[error("Merging `{merged}` into {lane_id} conflicts; the lane was not created")]
    MergeConflict {
        /// The lane.
        lane_id: String,
        /// What was being merged.
        merged: String,
        /// What git reported.
        #[source]
        source: Box<GitError>,
    },
    /// The write door refused or failed; what the write changed was undone.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// An explicit `--base` names no commit.
    #[error("--base `{base}` does not name a commit")]
    BaseNotFound {
        /// The base as given.
        base: String,
    },
    /// An explicit `--base` that the lane's allocation route cannot honor (Spec Kitty's
    /// `UnhonorableBaseError`).
    #[error("Cannot honor --base `{base}` for {wp_id} ({} route): {detail}", route.as_str())]
    UnhonorableBase {
        /// Why: the route that cannot apply a base.
        route: BaseRoute,
        /// The work package.
        wp_id: String,
        /// The mission.
        mission_slug: String,
        /// The base as given.
        base: String,
        /// The route's explanation.
        detail: String,
    },
    /// A lane work package has no commit of its own on its lane branch, so it cannot go to
    /// review.
    #[error(
        "{wp_id} cannot move to for_review: no implementation commit on {lane_id} (`{branch}`) \
         beyond `{base}`"
    )]
    NoImplementationCommit {
        /// The work package.
        wp_id: String,
        /// Its lane.
        lane_id: String,
        /// The lane branch.
        branch: String,
        /// The ref the lane was cut from.
        base: String,
        /// The lane worktree.
        workspace: PathBuf,
    },
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

/// The allocation routes that cannot honor an explicit `--base` (Spec Kitty's route names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseRoute {
    /// The lane worktree exists: an existing lane cannot be re-parented.
    Reuse,
    /// The lane branch exists without its worktree: checking it out again cannot re-parent it.
    CrashRecovery,
    /// The lane depends on other lanes, whose tips it must merge.
    DependencyLane,
    /// The base shares no history with the planning commit of `lanes.json`.
    DetachedBase,
}

impl BaseRoute {
    /// Returns Spec Kitty's name of the route.
    pub fn as_str(self) -> &'static str {
        match self {
            BaseRoute::Reuse => "reuse",
            BaseRoute::CrashRecovery => "crash_recovery",
            BaseRoute::DependencyLane => "dependency_lane",
            BaseRoute::DetachedBase => "detached_base",
        }
    }
}

impl WorktreeError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            WorktreeError::Resolve(error) => error.code(),
            WorktreeError::Lookup(error) => error.code(),
            WorktreeError::StatusLoad(error) => error.code(),
            WorktreeError::Status(error) => error.code(),
            WorktreeError::Repo(error) => error.code(),
            WorktreeError::WorkPackage(error) => error.code(),
            WorktreeError::LanesMissing { .. } => "LANES_NOT_COMPUTED",
            WorktreeError::LanesCorrupt { .. } => "LANES_CORRUPT",
            WorktreeError::NotInLanes { .. } => "WP_NOT_IN_LANES",
            WorktreeError::RegistryUnavailable(_) => "WORKTREE_REGISTRY_UNAVAILABLE",
            WorktreeError::Husk { .. } => "WORKTREE_UNREGISTERED",
            WorktreeError::BranchMismatch { .. } => "WORKTREE_BRANCH_MISMATCH",
            WorktreeError::LaneBranchMissing { .. } => "LANE_BRANCH_MISSING",
            WorktreeError::BaseMissing { .. } => "LANE_BASE_MISSING",
            WorktreeError::MergeConflict { .. } => "LANE_MERGE_CONFLICT",
            WorktreeError::BaseNotFound { .. } => "BASE_REF_NOT_FOUND",
            WorktreeError::Write(error) => error.code(),
            WorktreeError::UnhonorableBase { .. } => "UNHONORABLE_BASE",
            WorktreeError::NoImplementationCommit { .. } => "NO_IMPLEMENTATION_COMMIT",
            WorktreeError::Git(error) => error.code(),
            WorktreeError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            WorktreeError::Resolve(error) => error.hint(),
            WorktreeError::Lookup(error) => error.hint(),
            WorktreeError::StatusLoad(error) => error.hint(),
            WorktreeError::Status(error) => error.hint(),
            WorktreeError::Repo(error) => error.hint(),
            WorktreeError::WorkPackage(error) => error.hint(),
            WorktreeError::LanesMissing { mission_slug }
            | WorktreeError::NotInLanes { mission_slug, .. } => {
                format!(
                    "Run `missionctl tasks finalize --mission {mission_slug}` to compute the lanes"
                )
            }
            WorktreeError::LanesCorrupt { .. } => {
                "Run `missionctl tasks finalize --mission <mission>` to compute lanes.json again"
                    .to_owned()
            }
            WorktreeError::RegistryUnavailable(error) => error.hint(),
            WorktreeError::Husk { path } => format!(
                "Move `{}` out of the way (it may hold work: look before deleting), then run \
                 `missionctl worktree repair`",
                path.display()
            ),
            WorktreeError::BranchMismatch { path, expected, .. } => format!(
                "Run `git -C {} switch {expected}` once its changes are committed elsewhere",
                path.display()
            ),
            WorktreeError::LaneBranchMissing {
                branch,
                path,
                registered: true,
                ..
            } => format!(
                "Restore the branch (`git branch {branch} <commit>`, the commit from \
                 `git reflog`), or drop the lane with `git worktree remove --force {}` and \
                 implement again to start it afresh",
                path.display()
            ),
            WorktreeError::LaneBranchMissing { branch, .. } => format!(
                "Restore the branch (`git branch {branch} <commit>`, the commit from \
                 `git reflog`), then implement again"
            ),
            WorktreeError::BaseMissing { base, .. } => format!(
                "Restore `{base}`, or check the mission's topology with `missionctl context <mission>`"
            ),
            WorktreeError::MergeConflict { .. } => {
                "Resolve the conflict between the lanes on their branches (merge one lane into \
                 the other by hand), then implement again"
                    .to_owned()
            }
            WorktreeError::Write(error) => error.hint(),
            WorktreeError::BaseNotFound { .. } => {
                "Pass a branch, tag or commit of this repository (`git branch --list` shows the \
                 branches)"
                    .to_owned()
            }
            WorktreeError::UnhonorableBase {
                route: BaseRoute::Reuse | BaseRoute::CrashRecovery,
                wp_id,
                mission_slug,
                ..
            } => format!(
                "Run `missionctl implement {wp_id} --mission {mission_slug}` without `--base` to \
                 continue the lane on its branch"
            ),
            WorktreeError::UnhonorableBase {
                route: BaseRoute::DependencyLane,
                wp_id,
                mission_slug,
                ..
            } => format!(
                "Run `missionctl implement {wp_id} --mission {mission_slug}` without `--base`: \
                 the lane starts from the mission branch and merges the lanes it depends on"
            ),
            WorktreeError::UnhonorableBase {
                route: BaseRoute::DetachedBase,
                ..
            } => "Pass a base that shares history with the planning commit (such as the \
                  mission's target branch), or run without `--base`"
                .to_owned(),
            WorktreeError::NoImplementationCommit { workspace, .. } => format!(
                "Commit the work in `{}` first, or pass `--force --actor <you> --reason <why>` \
                 if there is genuinely nothing to commit",
                workspace.display()
            ),
            WorktreeError::Git(error) => error.hint(),
            WorktreeError::Io(error) => error.hint(),
        }
    }
}

/// One entry of git's worktree registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredWorktree {
    /// The worktree's root, as git recorded it.
    pub path: PathBuf,
    /// The branch checked out (short name), `None` when detached.
    pub branch: Option<String>,
    /// Whether git considers it prunable (its directory or `.git` file is gone).
    pub prunable: bool,
}

/// Reads git's worktree registry (`git worktree list --porcelain`), the primary checkout
/// first.
pub fn worktree_registry(repo: &Repo) -> Result<Vec<RegisteredWorktree>, WorktreeError> {
    let output = git(repo.primary_root(), ["worktree", "list", "--porcelain"])
        .map_err(|error| WorktreeError::RegistryUnavailable(Box::new(error)))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut entries = Vec::new();
    let mut current: Option<RegisteredWorktree> = None;
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            entries.extend(current.take());
            current = Some(RegisteredWorktree {
                path: PathBuf::from(path),
                branch: None,
                prunable: false,
            });
        } else if let Some(entry) = current.as_mut() {
            if let Some(branch) = line.strip_prefix("branch ") {
                entry.branch = Some(
                    branch
                        .strip_prefix("refs/heads/")
                        .unwrap_or(branch)
                        .to_owned(),
                );
            } else if line == "prunable" || line.starts_with("prunable ") {
                entry.prunable = true;
            }
        }
    }
    entries.extend(current);
    Ok(entries)
}

/// How a worktree path stands, by the registry and the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presence {
    /// Registered and on disk with its `.git`: usable.
    Live { branch: Option<String> },
    /// Registered, but its directory or `.git` file is gone.
    Prunable { branch: Option<String> },
    /// On disk, unknown to git (or registered but without its `.git`).
    Husk,
    /// Neither registered nor on disk.
    Absent,
}

/// A symbolic link at the path, or at `.worktrees/` above it, is refused (`SYMLINK_REFUSED`):
/// a worktree is never used or created through one.
fn presence(
    containment: &Containment,
    registry: &[RegisteredWorktree],
    path: &Path,
) -> Result<Presence, PathError> {
    let on_disk = containment.exists(path)?;
    let registered = registry.iter().find(|entry| entry.path == path);
    Ok(match registered {
        Some(entry) if !entry.prunable && containment.exists(&path.join(".git"))? => {
            Presence::Live {
                branch: entry.branch.clone(),
            }
        }
        Some(_) if on_disk => Presence::Husk,
        Some(entry) => Presence::Prunable {
            branch: entry.branch.clone(),
        },
        None if on_disk => Presence::Husk,
        None => Presence::Absent,
    })
}

/// Where a work package's work happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceKind {
    /// The primary checkout (the planning lane, or a topology without lanes).
    RepoRoot,
    /// A lane worktree under `.worktrees/`.
    LaneWorkspace,
}

/// What happened to the lane worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorktreeAction {
    /// The work happens in the primary checkout: no worktree.
    None,
    /// A registered worktree on the right branch was reused.
    Reused,
    /// A new lane branch and its worktree were created.
    Created,
    /// The worktree was checked out again from its existing branch.
    Restored,
}

/// What `implement` did.
#[derive(Debug, Clone, Serialize)]
pub struct ImplementOutcome {
    /// The mission.
    pub mission_slug: String,
    /// The work package.
    pub wp_id: String,
    /// Its file (absolute): the prompt to work from.
    pub wp_file: PathBuf,
    /// Its lane in `lanes.json`, when the topology has lanes.
    pub lane_id: Option<String>,
    /// Where to work (absolute).
    pub workspace: PathBuf,
    /// The primary checkout or a lane worktree.
    pub workspace_kind: WorkspaceKind,
    /// The branch the work goes to.
    pub branch: String,
    /// What happened to the worktree.
    pub worktree: WorktreeAction,
    /// The branch a new lane started from.
    pub base: Option<String>,
    /// What was merged into a new lane (the planning commit, dependency lanes).
    pub merged: Vec<String>,
    /// The lane before.
    pub from_lane: String,
    /// The lane after (`in_progress`).
    pub to_lane: String,
    /// The status events written (none when it was already in progress).
    pub event_ids: Vec<String>,
    /// The status commit, when one was made.
    pub receipt: Option<CommitReceipt>,
    /// The lane's workspace context file (absolute), for a lane worktree.
    pub context_file: Option<PathBuf>,
    /// The per-lane test environment (`SPEC_KITTY_TEST_DB_NAME`), for a lane worktree.
    pub lane_test_env: Option<BTreeMap<String, String>>,
    /// Fix mode: the review feedback to start from, when the work package was sent back.
    pub fix_mode: Option<crate::review::FixMode>,
    /// What was asked but not applied (a `--base` for a work package of the primary checkout).
    pub warnings: Vec<String>,
}

/// What `implement` is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct ImplementRequest<'a> {
    /// The mission handle.
    pub handle: &'a str,
    /// The work package.
    pub wp_id: &'a str,
    /// Who implements it.
    pub actor: &'a str,
    /// An explicit base for a lane branch created now (`--base`); refused where it cannot be
    /// honored.
    pub base: Option<&'a str>,
    /// Branches status is never committed to.
    pub protected_branches: &'a crate::repo::protection::ProtectedBranches,
}

/// Creates or reuses a work package's workspace and moves it to `in_progress` for `actor`
/// ([`implement_with`] without a base).
pub fn implement(
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    actor: &str,
    protected_branches: &crate::repo::protection::ProtectedBranches,
    clock: &dyn Clock,
) -> Result<ImplementOutcome, WorktreeError> {
    implement_with(
        repo,
        &ImplementRequest {
            handle,
            wp_id,
            actor,
            base: None,
            protected_branches,
        },
        clock,
    )
}

/// Creates or reuses a work package's workspace, records the lane's workspace context, and
/// moves the work package to `in_progress`. See the [module](self) docs.
///
/// The status move is checked first (finalized, dependencies done, not held by another
/// actor), then the base, so a refused run allocates nothing and writes nothing. A work
/// package sent back by review (to `planned`, or to `in_progress` by the reviewer) is resumed
/// by its implementer in the lane's existing worktree. Running it again changes nothing.
pub fn implement_with(
    repo: &Repo,
    request: &ImplementRequest<'_>,
    clock: &dyn Clock,
) -> Result<ImplementOutcome, WorktreeError> {
    let wp_id = request.wp_id;
    let mission = resolve_mission_context(repo, request.handle)?;
    let status = MissionStatus::load(repo, &mission.mission_slug, request.protected_branches)?;
    let primary_dir = status.primary_mission_dir().to_path_buf();
    let wp_file = status.require_work_package(wp_id)?;
    let target_branch = mission.context.branch_ref.target_branch.clone();

    let lane = if mission.topology.has_lanes() {
        let lanes = read_lanes(repo, &mission, &primary_dir)?;
        let lane = lanes
            .lane_for_wp(wp_id)
            .cloned()
            .ok_or_else(|| WorktreeError::NotInLanes {
                wp_id: wp_id.to_owned(),
                mission_slug: mission.mission_slug.clone(),
            })?;
        Some((lanes, lane))
    } else {
        None
    };
    let lane_path = lane.as_ref().and_then(|(_, lane)| {
        (lane.lane_id != PLANNING_LANE_ID).then(|| {
            repo.worktrees_dir()
                .join(lane_worktree_dir_name(&mission.mission_slug, &lane.lane_id))
        })
    });
    let workspace = lane_path
        .clone()
        .unwrap_or_else(|| mission.primary_root.clone());
    let workspace_context = format!("worktree:{}", workspace.display());

    // Refuse before allocating anything...
    status.check_start_implementation(wp_id, request.actor, &workspace_context)?;
    let base = request
        .base
        .map(|base| resolve_base(repo, base))
        .transpose()?;
    // ...then again under the mission's lock, which every write to the mission holds: of
    // several `implement`s at once, one allocates the lane; the others find its worktree
    // (the same actor goes on in it) or another actor's claim.
    let mut transaction = WriteTransaction::begin(
        repo,
        Scope::Mission(mission.mission_slug.clone()),
        "implement",
    )?;
    status.check_start_implementation(wp_id, request.actor, &workspace_context)?;

    let mut warnings = Vec::new();
    let (workspace_kind, branch, allocation, context) = match (&lane, lane_path) {
        (Some((lanes, lane)), Some(path)) => {
            let started = lane_started(&status.read_log()?, &lane.wp_ids);
            let request = LaneRequest {
                mission: &mission,
                lanes,
                lane,
                path: &path,
                started,
                wp_id,
                base: base.as_ref(),
            };
            let allocation = ensure_lane_worktree(repo, &mut transaction, &request, clock)?;
            let context = record_lane_context(
                repo,
                &mut transaction,
                &request,
                &allocation,
                &primary_dir,
                clock,
            )?;
            (
                WorkspaceKind::LaneWorkspace,
                allocation.branch.clone(),
                allocation,
                Some(context),
            )
        }
        _ => {
            if let Some(base) = &base {
                warnings.push(format!(
                    "--base `{}` ignored: {wp_id} works in the primary checkout on `{target_branch}`",
                    base.name
                ));
            }
            (
                WorkspaceKind::RepoRoot,
                target_branch,
                Allocation {
                    branch: String::new(),
                    action: WorktreeAction::None,
                    base: None,
                    base_commit: None,
                    merged: Vec::new(),
                },
                None,
            )
        }
    };

    // The status commit is the transaction's commit point: once it holds, the lane is
    // allocated for good.
    let (outcome, transaction) = status.start_implementation_within(
        transaction,
        wp_id,
        request.actor,
        &workspace_context,
        clock,
    )?;
    transaction.finish()?;
    let (context_file, lane_test_env) = context
        .map(|(path, context)| (path, context.lane_test_env))
        .unzip();
    Ok(ImplementOutcome {
        mission_slug: mission.mission_slug.clone(),
        wp_id: wp_id.to_owned(),
        wp_file,
        lane_id: lane.map(|(_, lane)| lane.lane_id),
        workspace,
        workspace_kind,
        branch,
        worktree: allocation.action,
        base: allocation.base,
        merged: allocation.merged,
        from_lane: outcome.from.as_str().to_owned(),
        to_lane: Lane::InProgress.as_str().to_owned(),
        event_ids: outcome
            .events
            .iter()
            .map(|event| event.event_id.clone())
            .collect(),
        receipt: outcome.receipt,
        context_file,
        lane_test_env: lane_test_env.flatten(),
        fix_mode: crate::review::fix_mode(&status, wp_id),
        warnings,
    })
}

/// An explicit base, resolved to a commit once so the lane is cut from what was checked.
#[derive(Debug, Clone)]
struct ResolvedBase {
    /// The base as given.
    name: String,
    /// Its commit.
    commit: String,
}

/// Resolves `--base` to a commit (`BASE_REF_NOT_FOUND` when it names none, or looks like an
/// option).
fn resolve_base(repo: &Repo, base: &str) -> Result<ResolvedBase, WorktreeError> {
    let not_found = || WorktreeError::BaseNotFound {
        base: base.to_owned(),
    };
    if base.trim().is_empty() || base.starts_with('-') {
        return Err(not_found());
    }
    let peeled = format!("{base}^{{commit}}");
    let output = git(
        repo.primary_root(),
        [
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            peeled.as_str(),
        ],
    )
    .map_err(|_| not_found())?;
    let commit = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if commit.is_empty() {
        return Err(not_found());
    }
    Ok(ResolvedBase {
        name: base.to_owned(),
        commit,
    })
}

/// Returns true when a work package of the lane ever went past `claimed` (its history, not
/// only its current lane: a work package sent back to `planned` by review has work on the
/// lane branch). A claim alone puts nothing on the branch: a dependent work package claimed
/// by a forced move before its lane is cut has not started it.
fn lane_started(log: &EventLog, wp_ids: &[String]) -> bool {
    log.transitions().any(|event| {
        wp_ids.contains(&event.wp_id)
            && !matches!(
                event.to_lane,
                Lane::Planned
                    | Lane::Claimed
                    | Lane::Canceled
                    | Lane::Genesis
                    | Lane::Uninitialized
            )
    })
}

/// Writes the lane's workspace context file: a new one for a lane cut now (or a lane without
/// a valid one), otherwise the existing one with `wp_id`, `current_wp`, `dependencies` and
/// `lane_wp_ids` brought up to date. Writes nothing when the bytes would not change.
fn record_lane_context(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    request: &LaneRequest<'_>,
    allocation: &Allocation,
    primary_dir: &Path,
    clock: &dyn Clock,
) -> Result<(PathBuf, WorkspaceContext), WorktreeError> {
    let mission = request.mission;
    let lane = request.lane;
    let path =
        workspace_context::context_path(repo.primary_root(), &mission.mission_slug, &lane.lane_id);
    let dependencies = crate::planning::work_package::work_package_dependencies(
        repo.containment(),
        primary_dir,
        request.wp_id,
    )?;
    let existing = workspace_context::read_context(repo.containment(), &path)?
        .filter(|_| allocation.action != WorktreeAction::Created);
    let context = match existing {
        Some(mut context) => {
            context.wp_id = request.wp_id.to_owned();
            context.current_wp = Some(request.wp_id.to_owned());
            context.dependencies = dependencies;
            // Spec Kitty keeps the lane's roster as it was when the lane was cut; a finalize
            // since then may have changed it.
            context.lane_wp_ids = lane.wp_ids.clone();
            context
        }
        None => {
            let base_branch = allocation
                .base
                .clone()
                .unwrap_or_else(|| lane_parent(mission));
            let base_commit = allocation
                .base_commit
                .clone()
                .or_else(|| commit_of(repo, &base_branch));
            let relative = request
                .path
                .strip_prefix(repo.primary_root())
                .unwrap_or(request.path);
            WorkspaceContext {
                wp_id: request.wp_id.to_owned(),
                mission_slug: mission.mission_slug.clone(),
                worktree_path: relative.display().to_string(),
                branch_name: allocation.branch.clone(),
                base_branch,
                base_commit,
                dependencies,
                created_at: isoformat(clock.now()),
                created_by: CREATED_BY_IMPLEMENT.to_owned(),
                vcs_backend: VCS_BACKEND_GIT.to_owned(),
                lane_id: lane.lane_id.clone(),
                lane_wp_ids: lane.wp_ids.clone(),
                current_wp: Some(request.wp_id.to_owned()),
                lane_test_env: Some(lane_test_env(&mission.mission_slug, &lane.lane_id)),
                extra: serde_json::Map::new(),
            }
        }
    };
    exclude_from_status(repo, transaction, WORKSPACES_DIR)?;
    workspace_context::write_context(transaction, &path, &context)?;
    Ok((path, context))
}

/// Returns the ref a lane is cut from without `--base`: the coordination branch for a
/// coordination topology, else the mission branch.
fn lane_parent(mission: &ResolvedMissionContext) -> String {
    match &mission.context.branch_ref.coordination_branch {
        Some(coordination) if mission.topology.routes_through_coordination() => {
            coordination.clone()
        }
        _ => mission_branch(mission),
    }
}

/// Returns the commit a ref names now, `None` when it names none.
fn commit_of(repo: &Repo, reference: &str) -> Option<String> {
    resolve_base(repo, reference).ok().map(|base| base.commit)
}

fn read_lanes(
    repo: &Repo,
    mission: &ResolvedMissionContext,
    primary_dir: &Path,
) -> Result<LanesManifest, WorktreeError> {
    let path = primary_dir.join(LANES_FILE_NAME);
    let bytes = repo
        .containment()
        .read(&path)?
        .ok_or_else(|| WorktreeError::LanesMissing {
            mission_slug: mission.mission_slug.clone(),
        })?;
    LanesManifest::parse(&bytes).map_err(|error| WorktreeError::LanesCorrupt {
        path,
        message: error.0,
    })
}

/// The names of a mission's branches.
fn mission_branch(mission: &ResolvedMissionContext) -> String {
    mission_branch_name(
        &mission.mission_slug,
        Some(mission.context.identity.mission_id()),
    )
}

struct Allocation {
    branch: String,
    action: WorktreeAction,
    /// The ref a lane cut now started from.
    base: Option<String>,
    /// The commit it pointed at then.
    base_commit: Option<String>,
    merged: Vec<String>,
}

/// One lane worktree to allocate for a work package.
struct LaneRequest<'a> {
    mission: &'a ResolvedMissionContext,
    lanes: &'a LanesManifest,
    lane: &'a ExecutionLane,
    /// Where the worktree belongs.
    path: &'a Path,
    /// Whether work in the lane started (a lane to create would then drop it).
    started: bool,
    /// The work package being implemented.
    wp_id: &'a str,
    /// An explicit base for a lane cut now.
    base: Option<&'a ResolvedBase>,
}

impl LaneRequest<'_> {
    /// Refuses an explicit base on a route that cannot apply it.
    fn refuse_base(&self, route: BaseRoute, detail: String) -> Result<(), WorktreeError> {
        match self.base {
            Some(base) => Err(WorktreeError::UnhonorableBase {
                route,
                wp_id: self.wp_id.to_owned(),
                mission_slug: self.mission.mission_slug.clone(),
                base: base.name.clone(),
                detail,
            }),
            None => Ok(()),
        }
    }
}

/// Returns a registered worktree on the lane's branch at `path`, creating or restoring it.
fn ensure_lane_worktree(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    request: &LaneRequest<'_>,
    clock: &dyn Clock,
) -> Result<Allocation, WorktreeError> {
    let (mission, lane, path) = (request.mission, request.lane, request.path);
    let mission_branch = mission_branch(mission);
    let target = &mission.context.branch_ref.target_branch;
    let branch = lane_branch_name(&mission_branch, &lane.lane_id, target);
    let branch_exists = repo.local_branch_exists(&branch)?;
    let registry = worktree_registry(repo)?;
    let sparse = mission.topology == MissionTopology::LanesWithCoord;
    let allocation = |action| Allocation {
        branch: branch.clone(),
        action,
        base: None,
        base_commit: None,
        merged: Vec::new(),
    };
    let existing_lane = || {
        format!(
            "{} already exists on `{branch}`, and an existing lane cannot be re-parented",
            lane.lane_id
        )
    };
    match presence(repo.containment(), &registry, path)? {
        Presence::Live { branch: actual } => {
            if actual.as_deref() != Some(branch.as_str()) {
                return Err(WorktreeError::BranchMismatch {
                    path: path.to_path_buf(),
                    expected: branch,
                    actual,
                });
            }
            if !branch_exists {
                return Err(WorktreeError::LaneBranchMissing {
                    lane_id: lane.lane_id.clone(),
                    branch,
                    path: path.to_path_buf(),
                    registered: true,
                });
            }
            request.refuse_base(BaseRoute::Reuse, existing_lane())?;
            Ok(allocation(WorktreeAction::Reused))
        }
        Presence::Husk => Err(WorktreeError::Husk {
            path: path.to_path_buf(),
        }),
        Presence::Prunable { .. } | Presence::Absent if branch_exists => {
            request.refuse_base(BaseRoute::CrashRecovery, existing_lane())?;
            restore_worktree(repo, transaction, path, &branch, sparse.then_some(mission))?;
            Ok(allocation(WorktreeAction::Restored))
        }
        Presence::Prunable { .. } => Err(WorktreeError::LaneBranchMissing {
            lane_id: lane.lane_id.clone(),
            branch,
            path: path.to_path_buf(),
            registered: true,
        }),
        Presence::Absent if request.started => Err(WorktreeError::LaneBranchMissing {
            lane_id: lane.lane_id.clone(),
            branch,
            path: path.to_path_buf(),
            registered: false,
        }),
        Presence::Absent => {
            create_lane(repo, transaction, request, &branch, &mission_branch, clock)
        }
    }
}

/// Keeps a directory of the primary checkout out of its `git status`: adds `/<dir>/` to the
/// repository's `info/exclude` (local to the clone, never committed) unless git already
/// ignores it.
fn exclude_from_status(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    dir: &str,
) -> Result<(), WorktreeError> {
    let probe = format!("{dir}/");
    if transaction
        .git(repo.primary_root(), &["check-ignore", "-q", probe.as_str()])
        .is_ok()
    {
        return Ok(());
    }
    let path = repo.common_dir().join("info").join("exclude");
    let mut text = repo
        .containment()
        .read(&path)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("/{dir}/\n"));
    if let Some(parent) = path.parent() {
        transaction.create_dir_all(parent)?;
    }
    transaction.write_file(&path, text.as_bytes())?;
    Ok(())
}

/// Checks out an existing branch into a missing worktree: prunes a stale registration, adds
/// the worktree, and hides the status files of a coordination mission.
fn restore_worktree(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    path: &Path,
    branch: &str,
    sparse_for: Option<&ResolvedMissionContext>,
) -> Result<(), WorktreeError> {
    // git would create the worktree through a link at `.worktrees/` or at the path.
    repo.containment().check(path)?;
    // Forgets registrations whose directory is gone (git's own bookkeeping, nothing to undo).
    transaction.git(repo.primary_root(), &["worktree", "prune"])?;
    exclude_from_status(repo, transaction, WORKTREES_DIR)?;
    transaction.add_worktree(path, branch, Some(&staging_path(path)))?;
    if let Some(mission) = sparse_for {
        hide_status_files(repo, transaction, path, mission)?;
    }
    Ok(())
}

/// Returns where a worktree is checked out before it is moved into place:
/// `.worktrees/.materializing/<name>`, so a reader never finds a half-populated checkout (a
/// husk) at its path.
fn staging_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default();
    path.with_file_name(".materializing").join(name)
}

/// Sets a non-cone sparse checkout that hides the mission's status files in a lane worktree
/// of a coordination mission (their authority is the coordination branch). Git keeps the
/// setting per worktree.
fn hide_status_files(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    path: &Path,
    mission: &ResolvedMissionContext,
) -> Result<(), WorktreeError> {
    let dir = format!("{KITTY_SPECS_DIR}/{}", mission.mission_slug);
    let events = format!("!{dir}/{}", crate::mission::dir::EVENT_LOG_FILE);
    let snapshot = format!("!{dir}/{}", crate::mission::dir::SNAPSHOT_FILE);
    // It may set `extensions.worktreeConfig` in the repository's configuration.
    let locks = [repo.common_dir().join("config.lock")];
    transaction.run_git(
        path,
        &[
            "sparse-checkout",
            "set",
            "--no-cone",
            "/*",
            events.as_str(),
            snapshot.as_str(),
        ],
        &locks,
    )?;
    Ok(())
}

/// Returns the ref and commit a new lane starts from: an explicit base when it can be
/// honored (Spec Kitty's order of refusals: detached from the planning commit, then a lane
/// with dependencies), else the coordination branch or the mission branch (created from the
/// target branch when absent). Refuses before anything is written.
fn lane_start(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    request: &LaneRequest<'_>,
    mission_branch: &str,
) -> Result<(String, String), WorktreeError> {
    let (mission, lane) = (request.mission, request.lane);
    if let Some(base) = request.base {
        if let Some(sha) = &request.lanes.planning_commit_sha
            && git(repo.primary_root(), ["merge-base", &base.commit, sha]).is_err()
        {
            request.refuse_base(
                BaseRoute::DetachedBase,
                format!(
                    "it shares no history with the planning commit `{sha}` recorded in \
                     lanes.json (or that commit is missing)"
                ),
            )?;
        }
        if !lane.depends_on_lanes.is_empty() {
            request.refuse_base(
                BaseRoute::DependencyLane,
                format!(
                    "{} depends on {}, whose work it starts from",
                    lane.lane_id,
                    lane.depends_on_lanes.join(", ")
                ),
            )?;
        }
        return Ok((base.name.clone(), base.commit.clone()));
    }
    let missing = |base: &str| WorktreeError::BaseMissing {
        lane_id: lane.lane_id.clone(),
        base: base.to_owned(),
    };
    let parent = lane_parent(mission);
    if let Some(commit) = repo.branch_tip(&parent)? {
        return Ok((parent, commit));
    }
    if mission.topology.routes_through_coordination() {
        // The coordination branch holds the status: it is never recreated here.
        return Err(missing(&parent));
    }
    let target = &mission.context.branch_ref.target_branch;
    let tip = repo.branch_tip(target)?.ok_or_else(|| missing(target))?;
    let commit = object_id(&tip)?;
    transaction.create_branch(
        mission_branch,
        commit,
        &format!("missionctl: mission branch from {target}"),
    )?;
    Ok((mission_branch.to_owned(), tip))
}

/// Creates a new lane: its first commit is the lane's start with the planning commit and the
/// branches of the lanes it depends on merged in, made without a checkout (`git merge-tree`,
/// so a conflict refuses the lane before anything is written); then the lane branch is created
/// at it and checked out in the lane's worktree.
fn create_lane(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    request: &LaneRequest<'_>,
    branch: &str,
    mission_branch: &str,
    clock: &dyn Clock,
) -> Result<Allocation, WorktreeError> {
    let (mission, lanes, lane, path) = (request.mission, request.lanes, request.lane, request.path);
    let root = repo.primary_root();
    let target = &mission.context.branch_ref.target_branch;
    let sparse = mission.topology == MissionTopology::LanesWithCoord;
    let (base, base_commit) = lane_start(repo, transaction, request, mission_branch)?;
    repo.containment().check(path)?;

    let mut sources: Vec<(String, String)> = Vec::new();
    if let Some(sha) = &lanes.planning_commit_sha
        && transaction
            .git(root, &["cat-file", "-e", &format!("{sha}^{{commit}}")])
            .is_ok()
    {
        sources.push((sha.clone(), "the planning commit".to_owned()));
    }
    for dependency in &lane.depends_on_lanes {
        if dependency == PLANNING_LANE_ID {
            continue;
        }
        let dependency_branch = lane_branch_name(mission_branch, dependency, target);
        if repo.local_branch_exists(&dependency_branch)? {
            sources.push((dependency_branch, format!("dependency lane {dependency}")));
        }
    }
    let mut tip = object_id(&base_commit)?;
    let mut merged = Vec::new();
    for (what, label) in sources {
        let theirs = rev_parse(transaction, root, &what)?;
        let ancestor = transaction
            .git(
                root,
                &[
                    "merge-base",
                    "--is-ancestor",
                    &theirs.to_string(),
                    &tip.to_string(),
                ],
            )
            .is_ok();
        if ancestor {
            continue;
        }
        let tree = match transaction.git(
            root,
            &[
                "merge-tree",
                "--write-tree",
                "--no-messages",
                &tip.to_string(),
                &theirs.to_string(),
            ],
        ) {
            Ok(output) => object_id(
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default(),
            )?,
            Err(error) => {
                let source = match error {
                    WriteError::Git(source) => source,
                    other => return Err(other.into()),
                };
                return Err(WorktreeError::MergeConflict {
                    lane_id: lane.lane_id.clone(),
                    merged: what,
                    source: Box::new(source),
                });
            }
        };
        tip = transaction.write_commit(
            tree,
            &[tip, theirs],
            &format!("Merge {label} into {}\n", lane.lane_id),
            None,
            unix_seconds(clock),
        )?;
        merged.push(what);
    }
    exclude_from_status(repo, transaction, WORKTREES_DIR)?;
    transaction.create_branch(
        branch,
        tip,
        &format!("missionctl: lane {} from {base}", lane.lane_id),
    )?;
    transaction.add_worktree(path, branch, Some(&staging_path(path)))?;
    if sparse {
        hide_status_files(repo, transaction, path, mission)?;
    }
    Ok(Allocation {
        branch: branch.to_owned(),
        action: WorktreeAction::Created,
        base: Some(base),
        base_commit: Some(base_commit),
        merged,
    })
}

/// Returns the commit `reference` names, read by git under the transaction's lock.
fn rev_parse(
    transaction: &WriteTransaction,
    root: &Path,
    reference: &str,
) -> Result<gix::ObjectId, WorktreeError> {
    let peeled = format!("{reference}^{{commit}}");
    let output = transaction.git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &peeled,
        ],
    )?;
    object_id(String::from_utf8_lossy(&output.stdout).trim())
}

/// Parses a full hexadecimal object id git printed.
fn object_id(hex: &str) -> Result<gix::ObjectId, WorktreeError> {
    gix::ObjectId::from_hex(hex.trim().as_bytes()).map_err(|error| {
        WorktreeError::Write(WriteError::Objects {
            action: format!("read the object id `{hex}`"),
            source: gix::Error::from_error(error),
        })
    })
}

/// Refuses to send a lane work package to review when its lane branch has no commit of its
/// own: Spec Kitty's `for_review` commit gate, which its CLI applies to `in_progress →
/// for_review` unless forced.
///
/// The gate applies only to a work package of a lane worktree (a lane topology with
/// `lanes.json`, not the planning lane). It counts the non-merge commits of the lane branch
/// that are not reachable from the ref the lane was cut from (the `base_branch` and
/// `base_commit` of its workspace context, else the coordination or mission branch), from the
/// planning commit, or from the lanes it depends on. Spec Kitty counts `rev-list base..HEAD`,
/// which also counts the merges `implement` itself makes when it cuts a lane; this gate does
/// not, so a lane with only those merges is refused. A lane branch or base that cannot be read
/// is refused too (fail closed).
pub fn check_review_commits(
    repo: &Repo,
    status: &MissionStatus,
    wp_id: &str,
) -> Result<(), WorktreeError> {
    let Some(LaneOfWorkPackage {
        mission,
        lanes,
        lane,
        mission_branch,
        branch,
        context,
        base,
    }) = lane_of_work_package(repo, status, wp_id)?
    else {
        return Ok(());
    };
    let target = &mission.context.branch_ref.target_branch;
    let mut excluded: Vec<String> = [Some(base.clone()), context.and_then(|c| c.base_commit)]
        .into_iter()
        .flatten()
        .filter_map(|reference| commit_of(repo, &reference))
        .collect();
    let base_known = !excluded.is_empty();
    excluded.extend(
        lanes
            .planning_commit_sha
            .iter()
            .filter_map(|sha| commit_of(repo, sha)),
    );
    for dependency in lane
        .depends_on_lanes
        .iter()
        .filter(|id| *id != PLANNING_LANE_ID)
    {
        excluded.extend(commit_of(
            repo,
            &lane_branch_name(&mission_branch, dependency, target),
        ));
    }
    let own_commits = match (base_known, repo.branch_tip(&branch)?) {
        (true, Some(tip)) => {
            let mut args = vec![
                "rev-list".to_owned(),
                "--count".to_owned(),
                "--no-merges".to_owned(),
                tip,
                "--not".to_owned(),
            ];
            args.extend(excluded);
            let output = git(repo.primary_root(), &args)?;
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse::<u64>()
                .unwrap_or(0)
        }
        _ => 0,
    };
    if own_commits > 0 {
        return Ok(());
    }
    Err(WorktreeError::NoImplementationCommit {
        wp_id: wp_id.to_owned(),
        lane_id: lane.lane_id.clone(),
        branch,
        base,
        workspace: repo
            .worktrees_dir()
            .join(lane_worktree_dir_name(&mission.mission_slug, &lane.lane_id)),
    })
}

/// A work package's lane, as the review gates and the review context see it.
struct LaneOfWorkPackage {
    mission: ResolvedMissionContext,
    lanes: LanesManifest,
    lane: ExecutionLane,
    mission_branch: String,
    /// The lane branch.
    branch: String,
    /// The lane's workspace context, when it was recorded.
    context: Option<missionctl_core::mission::workspace_context::WorkspaceContext>,
    /// The ref the lane was cut from.
    base: String,
}

/// Returns the lane of a work package of a lane worktree (a lane topology with `lanes.json`,
/// not the planning lane); `None` for a work package of the primary checkout.
fn lane_of_work_package(
    repo: &Repo,
    status: &MissionStatus,
    wp_id: &str,
) -> Result<Option<LaneOfWorkPackage>, WorktreeError> {
    let mission = resolve_mission_context(repo, status.mission_slug())?;
    if !mission.topology.has_lanes() {
        return Ok(None);
    }
    let primary_dir = status.primary_mission_dir();
    if !repo
        .containment()
        .is_file(&primary_dir.join(LANES_FILE_NAME))?
    {
        return Ok(None);
    }
    let lanes = read_lanes(repo, &mission, primary_dir)?;
    let Some(lane) = lanes
        .lane_for_wp(wp_id)
        .filter(|lane| lane.lane_id != PLANNING_LANE_ID)
        .cloned()
    else {
        return Ok(None);
    };
    let mission_branch = mission_branch(&mission);
    let target = &mission.context.branch_ref.target_branch;
    let branch = lane_branch_name(&mission_branch, &lane.lane_id, target);
    let context = workspace_context::read_context(
        repo.containment(),
        &workspace_context::context_path(repo.primary_root(), &mission.mission_slug, &lane.lane_id),
    )?;
    let base = context.as_ref().map_or_else(
        || lane_parent(&mission),
        |context| context.base_branch.clone(),
    );
    Ok(Some(LaneOfWorkPackage {
        mission,
        lanes,
        lane,
        mission_branch,
        branch,
        context,
        base,
    }))
}

/// A file the lane changed, from `git diff --numstat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    /// The path, relative to the repository.
    pub path: String,
    /// Lines added (`None` for a binary file).
    pub added: Option<u64>,
    /// Lines deleted (`None` for a binary file).
    pub deleted: Option<u64>,
}

/// What a reviewer looks at in a lane: its branch against the ref it was cut from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaneReviewContext {
    /// The lane.
    pub lane_id: String,
    /// The lane branch.
    pub branch: String,
    /// The ref the lane was cut from.
    pub base: String,
    /// The lane worktree (absolute).
    pub workspace: PathBuf,
    /// Commits on the lane branch that the base does not have.
    pub commits_ahead: u64,
    /// The files the lane changed since it left its base (`git diff base...branch`).
    pub files: Vec<ChangedFile>,
    /// Uncommitted changes in the lane worktree (`git status --porcelain` lines).
    pub uncommitted: Vec<String>,
}

/// Returns the review context of a work package of a lane worktree: commits ahead of the
/// lane's base, the files changed, and what is left uncommitted; `None` for a work package of
/// the primary checkout. A branch or base that cannot be read gives an empty summary.
pub fn lane_review_context(
    repo: &Repo,
    status: &MissionStatus,
    wp_id: &str,
) -> Result<Option<LaneReviewContext>, WorktreeError> {
    let Some(found) = lane_of_work_package(repo, status, wp_id)? else {
        return Ok(None);
    };
    let workspace = repo.worktrees_dir().join(lane_worktree_dir_name(
        &found.mission.mission_slug,
        &found.lane.lane_id,
    ));
    let readable =
        repo.branch_tip(&found.branch)?.is_some() && commit_of(repo, &found.base).is_some();
    let (commits_ahead, files) = if readable {
        let range = format!("{}..{}", found.base, found.branch);
        let count = git(repo.primary_root(), ["rev-list", "--count", range.as_str()])
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse::<u64>()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let symmetric = format!("{}...{}", found.base, found.branch);
        let files = git(
            repo.primary_root(),
            ["diff", "--numstat", "--no-renames", symmetric.as_str()],
        )
        .map(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| {
                    let mut parts = line.splitn(3, '\t');
                    let added = parts.next()?.parse().ok();
                    let deleted = parts.next()?.parse().ok();
                    Some(ChangedFile {
                        path: parts.next()?.to_owned(),
                        added,
                        deleted,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
        (count, files)
    } else {
        (0, Vec::new())
    };
    let uncommitted = if repo.containment().is_dir(&workspace)? {
        git(&workspace, ["status", "--porcelain"])
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Some(LaneReviewContext {
        lane_id: found.lane.lane_id,
        branch: found.branch,
        base: found.base,
        workspace,
        commits_ahead,
        files,
        uncommitted,
    }))
}

/// A lane worktree directory of a mission found under `.worktrees/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaneWorktreeDir {
    /// The directory (absolute).
    pub path: PathBuf,
    /// Whether git's registry lists it (otherwise it is a husk).
    pub registered: bool,
}

/// Returns the lane worktree directories `.worktrees/<mission-dir>-lane-<x>` of a mission that
/// exist on disk, sorted (`doctor` reports them once every work package is done or canceled).
pub fn lane_worktree_dirs(
    repo: &Repo,
    mission_dir: &str,
) -> Result<Vec<LaneWorktreeDir>, WorktreeError> {
    let root = repo.worktrees_dir();
    let Some(entries) = repo.containment().read_dir(&root)? else {
        return Ok(Vec::new());
    };
    let prefix = format!("{mission_dir}-lane-");
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        // `file_type` does not follow a link: a linked directory is not a worktree.
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_prefix(&prefix))
                .is_some_and(|letters| {
                    !letters.is_empty() && letters.bytes().all(|byte| byte.is_ascii_lowercase())
                })
        })
        .map(|entry| entry.path())
        .collect();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    paths.sort();
    let registry = worktree_registry(repo)?;
    paths
        .into_iter()
        .map(|path| {
            Ok(LaneWorktreeDir {
                registered: matches!(
                    presence(repo.containment(), &registry, &path)?,
                    Presence::Live { .. }
                ),
                path,
            })
        })
        .collect()
}

/// What `worktree repair` found or did for one worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairOutcome {
    /// Registered, on disk, on the right branch: nothing to do.
    Healthy,
    /// Missing; checked out again from its branch.
    Rebuilt,
    /// Neither worktree nor branch exists: the lane has not started.
    NotStarted,
    /// The branch is gone: cannot be rebuilt.
    BranchMissing,
    /// A directory git does not know: left alone.
    Husk,
    /// Registered on another branch: left alone.
    BranchMismatch,
    /// The mission itself cannot be resolved (see `detail`).
    Unresolvable,
}

impl RepairOutcome {
    /// Returns true when the outcome needs the user.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            RepairOutcome::BranchMissing
                | RepairOutcome::Husk
                | RepairOutcome::BranchMismatch
                | RepairOutcome::Unresolvable
        )
    }
}

/// One worktree `worktree repair` looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairItem {
    /// The mission.
    pub mission_slug: String,
    /// `lane` or `coordination`.
    pub kind: &'static str,
    /// The lane, for a lane worktree.
    pub lane_id: Option<String>,
    /// The worktree's path (absolute).
    pub path: PathBuf,
    /// Its branch.
    pub branch: String,
    /// What was found or done.
    pub outcome: RepairOutcome,
    /// More about a problem.
    pub detail: Option<String>,
}

/// Looks at the lane and coordination worktrees of one mission (`handle`) or of every
/// mission, rebuilding each missing one whose branch exists (`git worktree prune`, then
/// `git worktree add`). Husks, branch mismatches and deleted branches are reported, never
/// touched.
pub fn repair_worktrees(
    repo: &Repo,
    handle: Option<&str>,
) -> Result<Vec<RepairItem>, WorktreeError> {
    let handles: Vec<String> = match handle {
        Some(handle) => vec![handle.to_owned()],
        None => list_missions(repo)?
            .into_iter()
            .map(|mission| mission.mission_slug)
            .collect(),
    };
    let mut items = Vec::new();
    let explicit = handle.is_some();
    for handle in handles {
        let mission = match resolve_mission_context(repo, &handle) {
            Ok(mission) => mission,
            // A mission the user named fails the command; one found by the scan is a finding.
            Err(error) if explicit => return Err(error.into()),
            Err(error) => {
                items.push(RepairItem {
                    mission_slug: handle.clone(),
                    kind: "mission",
                    lane_id: None,
                    path: repo.kitty_specs_dir().join(&handle),
                    branch: String::new(),
                    outcome: RepairOutcome::Unresolvable,
                    detail: Some(format!("{}: {error}", error.code())),
                });
                continue;
            }
        };
        repair_mission(repo, &mission, &mut items)?;
    }
    Ok(items)
}

fn repair_mission(
    repo: &Repo,
    mission: &ResolvedMissionContext,
    items: &mut Vec<RepairItem>,
) -> Result<(), WorktreeError> {
    let mut wanted: Vec<(&'static str, Option<String>, PathBuf, String)> = Vec::new();
    if mission.topology.routes_through_coordination()
        && let (Some(worktree), Some(branch)) = (
            &mission.context.workspace.coord_worktree,
            &mission.context.branch_ref.coordination_branch,
        )
    {
        wanted.push((
            "coordination",
            None,
            mission.primary_root.join(worktree),
            branch.clone(),
        ));
    }
    if mission.topology.has_lanes() {
        let primary_dir = mission
            .primary_root
            .join(&mission.context.workspace.primary_mission_dir);
        if let Some(bytes) = repo
            .containment()
            .read(&primary_dir.join(LANES_FILE_NAME))?
        {
            let lanes =
                LanesManifest::parse(&bytes).map_err(|error| WorktreeError::LanesCorrupt {
                    path: primary_dir.join(LANES_FILE_NAME),
                    message: error.0,
                })?;
            let mission_branch = mission_branch(mission);
            let target = &mission.context.branch_ref.target_branch;
            for lane in lanes
                .lanes
                .iter()
                .filter(|lane| lane.lane_id != PLANNING_LANE_ID)
            {
                wanted.push((
                    "lane",
                    Some(lane.lane_id.clone()),
                    repo.worktrees_dir()
                        .join(lane_worktree_dir_name(&mission.mission_slug, &lane.lane_id)),
                    lane_branch_name(&mission_branch, &lane.lane_id, target),
                ));
            }
        }
    }
    let sparse = mission.topology == MissionTopology::LanesWithCoord;
    // One transaction for the mission, begun before anything is looked at: its recovery settles
    // what a killed repair (or any killed writer of the mission) left, and its lock keeps a
    // concurrent repair from rebuilding the same worktree.
    let mut transaction = WriteTransaction::begin(
        repo,
        Scope::Mission(mission.mission_slug.clone()),
        "worktree repair",
    )?;
    for (kind, lane_id, path, branch) in wanted {
        let registry = worktree_registry(repo)?;
        let branch_exists = repo.local_branch_exists(&branch)?;
        let (outcome, detail) = match presence(repo.containment(), &registry, &path)? {
            Presence::Live { branch: actual } if actual.as_deref() == Some(branch.as_str()) => {
                if branch_exists {
                    (RepairOutcome::Healthy, None)
                } else {
                    (
                        RepairOutcome::BranchMissing,
                        Some(format!(
                            "the worktree is registered but `{branch}` was deleted"
                        )),
                    )
                }
            }
            Presence::Live { branch: actual } => (
                RepairOutcome::BranchMismatch,
                Some(format!(
                    "checked out: {}",
                    actual.unwrap_or_else(|| "a detached HEAD".to_owned())
                )),
            ),
            Presence::Husk => (
                RepairOutcome::Husk,
                Some("the directory exists but git does not list it as a worktree".to_owned()),
            ),
            Presence::Prunable { .. } | Presence::Absent if branch_exists => {
                let sparse_for = (kind == "lane" && sparse).then_some(mission);
                restore_worktree(repo, &mut transaction, &path, &branch, sparse_for)?;
                (RepairOutcome::Rebuilt, None)
            }
            Presence::Prunable { .. } => (
                RepairOutcome::BranchMissing,
                Some(format!(
                    "the worktree is registered but `{branch}` was deleted"
                )),
            ),
            Presence::Absent => (RepairOutcome::NotStarted, None),
        };
        items.push(RepairItem {
            mission_slug: mission.mission_slug.clone(),
            kind,
            lane_id,
            path,
            branch,
            outcome,
            detail,
        });
    }
    transaction.finish()?;
    Ok(())
}

impl From<StatusReadError> for WorktreeError {
    fn from(error: StatusReadError) -> WorktreeError {
        WorktreeError::Status(StatusWriteError::Read(error))
    }
}
