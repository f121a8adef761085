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
//! A directory is never trusted because it exists: git's worktree registry
//! (`git worktree list --porcelain`) must list it on the expected branch. A directory git does
//! not know is a husk and is reported, never reused or deleted. A lane whose branch is gone
//! while its worktree is registered, or after its work started, is an error: recreating it
//! from the base would silently drop that work.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use missionctl_core::lane::Lane;
use missionctl_core::lanes_manifest::{
    ExecutionLane, LanesManifest, PLANNING_LANE_ID, lane_branch_name, lane_worktree_dir_name,
    mission_branch_name,
};
use missionctl_core::meta::{KITTY_SPECS_DIR, WORKTREES_DIR};
use missionctl_core::topology::MissionTopology;
use serde::Serialize;

use crate::fs_util::{self, PathError};
use crate::git::{GitError, git};
use crate::meta_store::LANES_FILE_NAME;
use crate::mission_context::{ResolveError, ResolvedMissionContext, resolve_mission_context};
use crate::mission_dir::StatusReadError;
use crate::mission_index::{LookupError, list_missions};
use crate::repo::{Repo, RepoError};
use crate::status::{CommitReceipt, EventSource, MissionStatus, StatusLoadError, StatusWriteError};
use crate::work_package::{WorkPackageFileError, find_wp_file};

/// Configuration for the merges `implement` makes: no signing prompt, no hooks.
const MERGE_CONFIG: [&str; 4] = [
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.hooksPath=/dev/null",
];

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
    /// The work package has no file in the mission.
    #[error("{wp_id} is not a work package of `{mission_slug}`")]
    UnknownWorkPackage {
        /// The work package.
        wp_id: String,
        /// The mission.
        mission_slug: String,
    },
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
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
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
            WorktreeError::UnknownWorkPackage { .. } => "WP_NOT_FOUND",
            WorktreeError::LanesMissing { .. } => "LANES_NOT_COMPUTED",
            WorktreeError::LanesCorrupt { .. } => "LANES_CORRUPT",
            WorktreeError::NotInLanes { .. } => "WP_NOT_IN_LANES",
            WorktreeError::RegistryUnavailable(_) => "WORKTREE_REGISTRY_UNAVAILABLE",
            WorktreeError::Husk { .. } => "WORKTREE_UNREGISTERED",
            WorktreeError::BranchMismatch { .. } => "WORKTREE_BRANCH_MISMATCH",
            WorktreeError::LaneBranchMissing { .. } => "LANE_BRANCH_MISSING",
            WorktreeError::BaseMissing { .. } => "LANE_BASE_MISSING",
            WorktreeError::MergeConflict { .. } => "LANE_MERGE_CONFLICT",
            WorktreeError::Git(error) => error.code(),
            WorktreeError::Io(_) => "IO_ERROR",
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
            WorktreeError::UnknownWorkPackage { mission_slug, .. } => {
                format!("`missionctl wp list {mission_slug}` shows its work packages")
            }
            WorktreeError::LanesMissing { mission_slug }
            | WorktreeError::NotInLanes { mission_slug, .. } => {
                format!("Run `missionctl tasks finalize {mission_slug}` to compute the lanes")
            }
            WorktreeError::LanesCorrupt { .. } => {
                "Run `missionctl tasks finalize <mission>` to compute lanes.json again".to_owned()
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
            WorktreeError::Git(error) => error.hint(),
            WorktreeError::Io(_) => "Check the path's permissions".to_owned(),
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

fn presence(registry: &[RegisteredWorktree], path: &Path) -> Presence {
    let on_disk = path.exists();
    let registered = registry.iter().find(|entry| entry.path == path);
    match registered {
        Some(entry) if !entry.prunable && path.join(".git").exists() => Presence::Live {
            branch: entry.branch.clone(),
        },
        Some(_) if on_disk => Presence::Husk,
        Some(entry) => Presence::Prunable {
            branch: entry.branch.clone(),
        },
        None if on_disk => Presence::Husk,
        None => Presence::Absent,
    }
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
}

/// Creates or reuses a work package's workspace and moves it to `in_progress` for `actor`.
/// See the [module](self) docs.
///
/// The status move is checked first (finalized, dependencies done, not held by another
/// actor), so a refused move allocates nothing. Running it again changes nothing.
pub fn implement(
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    actor: &str,
    protected_branches: &[String],
    source: &mut dyn EventSource,
) -> Result<ImplementOutcome, WorktreeError> {
    let mission = resolve_mission_context(repo, handle)?;
    let status = MissionStatus::load(repo, &mission.mission_slug, protected_branches)?;
    let primary_dir = status.primary_mission_dir().to_path_buf();
    let wp_file =
        find_wp_file(&primary_dir, wp_id)?.ok_or_else(|| WorktreeError::UnknownWorkPackage {
            wp_id: wp_id.to_owned(),
            mission_slug: mission.mission_slug.clone(),
        })?;
    let target_branch = mission.context.branch_ref.target_branch.clone();

    let lane = if mission.topology.has_lanes() {
        let lanes = read_lanes(&mission, &primary_dir)?;
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

    // Refuse before allocating anything.
    status.check_start_implementation(wp_id, actor, &workspace_context)?;

    let (workspace_kind, branch, worktree, base, merged) = match (&lane, lane_path) {
        (Some((lanes, lane)), Some(path)) => {
            let snapshot = status.snapshot()?;
            let started = lane.wp_ids.iter().any(|id| {
                snapshot
                    .work_packages
                    .get(id)
                    .is_some_and(|state| !matches!(state.lane, Lane::Planned | Lane::Uninitialized))
            });
            let allocation = ensure_lane_worktree(repo, &mission, lanes, lane, &path, started)?;
            (
                WorkspaceKind::LaneWorkspace,
                allocation.branch,
                allocation.action,
                allocation.base,
                allocation.merged,
            )
        }
        _ => (
            WorkspaceKind::RepoRoot,
            target_branch,
            WorktreeAction::None,
            None,
            Vec::new(),
        ),
    };

    let outcome = status.start_implementation(wp_id, actor, &workspace_context, source)?;
    Ok(ImplementOutcome {
        mission_slug: mission.mission_slug.clone(),
        wp_id: wp_id.to_owned(),
        wp_file,
        lane_id: lane.map(|(_, lane)| lane.lane_id),
        workspace,
        workspace_kind,
        branch,
        worktree,
        base,
        merged,
        from_lane: outcome.from.as_str().to_owned(),
        to_lane: Lane::InProgress.as_str().to_owned(),
        event_ids: outcome
            .events
            .iter()
            .map(|event| event.event_id.clone())
            .collect(),
        receipt: outcome.receipt,
    })
}

fn read_lanes(
    mission: &ResolvedMissionContext,
    primary_dir: &Path,
) -> Result<LanesManifest, WorktreeError> {
    let path = primary_dir.join(LANES_FILE_NAME);
    let bytes = fs_util::read_optional(&path)?.ok_or_else(|| WorktreeError::LanesMissing {
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
    base: Option<String>,
    merged: Vec<String>,
}

/// Returns a registered worktree on the lane's branch at `path`, creating or restoring it.
fn ensure_lane_worktree(
    repo: &Repo,
    mission: &ResolvedMissionContext,
    lanes: &LanesManifest,
    lane: &ExecutionLane,
    path: &Path,
    started: bool,
) -> Result<Allocation, WorktreeError> {
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
        merged: Vec::new(),
    };
    match presence(&registry, path) {
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
            Ok(allocation(WorktreeAction::Reused))
        }
        Presence::Husk => Err(WorktreeError::Husk {
            path: path.to_path_buf(),
        }),
        Presence::Prunable { .. } | Presence::Absent if branch_exists => {
            restore_worktree(repo, path, &branch, sparse.then_some(mission))?;
            Ok(allocation(WorktreeAction::Restored))
        }
        Presence::Prunable { .. } => Err(WorktreeError::LaneBranchMissing {
            lane_id: lane.lane_id.clone(),
            branch,
            path: path.to_path_buf(),
            registered: true,
        }),
        Presence::Absent if started => Err(WorktreeError::LaneBranchMissing {
            lane_id: lane.lane_id.clone(),
            branch,
            path: path.to_path_buf(),
            registered: false,
        }),
        Presence::Absent => create_lane(repo, mission, lanes, lane, path, &branch, &mission_branch),
    }
}

/// Keeps `.worktrees/` out of `git status` of the primary checkout: adds `/.worktrees/` to
/// the repository's `info/exclude` (local to the clone, never committed) unless git already
/// ignores it.
fn exclude_worktrees_dir(repo: &Repo) -> Result<(), WorktreeError> {
    let probe = format!("{WORKTREES_DIR}/");
    if git(repo.primary_root(), ["check-ignore", "-q", probe.as_str()]).is_ok() {
        return Ok(());
    }
    let path = repo.common_dir().join("info").join("exclude");
    let mut text = fs_util::read_optional(&path)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("/{WORKTREES_DIR}/\n"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| PathError {
            action: "Cannot create",
            path: parent.to_path_buf(),
            source,
        })?;
    }
    fs_util::atomic_write(&path, text.as_bytes())?;
    Ok(())
}

/// Checks out an existing branch into a missing worktree: prunes a stale registration, adds
/// the worktree, and hides the status files of a coordination mission.
fn restore_worktree(
    repo: &Repo,
    path: &Path,
    branch: &str,
    sparse_for: Option<&ResolvedMissionContext>,
) -> Result<(), WorktreeError> {
    git(repo.primary_root(), ["worktree", "prune"])?;
    exclude_worktrees_dir(repo)?;
    let mut args: Vec<OsString> = vec!["worktree".into(), "add".into(), "--quiet".into()];
    args.push(path.as_os_str().to_owned());
    args.push(branch.into());
    git(repo.primary_root(), &args)?;
    if let Some(mission) = sparse_for {
        hide_status_files(path, mission)?;
    }
    Ok(())
}

/// Sets a non-cone sparse checkout that hides the mission's status files in a lane worktree
/// of a coordination mission (their authority is the coordination branch). Git keeps the
/// setting per worktree.
fn hide_status_files(path: &Path, mission: &ResolvedMissionContext) -> Result<(), WorktreeError> {
    let dir = format!("{KITTY_SPECS_DIR}/{}", mission.mission_slug);
    let events = format!("!{dir}/{}", crate::mission_dir::EVENT_LOG_FILE);
    let snapshot = format!("!{dir}/{}", crate::mission_dir::SNAPSHOT_FILE);
    git(
        path,
        [
            "sparse-checkout",
            "set",
            "--no-cone",
            "/*",
            events.as_str(),
            snapshot.as_str(),
        ],
    )?;
    Ok(())
}

/// Creates a new lane branch and its worktree from the lane's base, then merges the planning
/// commit and the dependency lanes; undoes everything on a conflict.
fn create_lane(
    repo: &Repo,
    mission: &ResolvedMissionContext,
    lanes: &LanesManifest,
    lane: &ExecutionLane,
    path: &Path,
    branch: &str,
    mission_branch: &str,
) -> Result<Allocation, WorktreeError> {
    let root = repo.primary_root();
    let target = &mission.context.branch_ref.target_branch;
    let sparse = mission.topology == MissionTopology::LanesWithCoord;
    let base = match &mission.context.branch_ref.coordination_branch {
        Some(coordination) if mission.topology.routes_through_coordination() => {
            if !repo.local_branch_exists(coordination)? {
                return Err(WorktreeError::BaseMissing {
                    lane_id: lane.lane_id.clone(),
                    base: coordination.clone(),
                });
            }
            coordination.clone()
        }
        _ => {
            if !repo.local_branch_exists(mission_branch)? {
                let Some(tip) = repo.branch_tip(target)? else {
                    return Err(WorktreeError::BaseMissing {
                        lane_id: lane.lane_id.clone(),
                        base: target.clone(),
                    });
                };
                git(root, ["branch", mission_branch, tip.as_str()])?;
            }
            mission_branch.to_owned()
        }
    };
    exclude_worktrees_dir(repo)?;
    let mut args: Vec<OsString> = vec![
        "worktree".into(),
        "add".into(),
        "--quiet".into(),
        "-b".into(),
        branch.into(),
    ];
    args.push(path.as_os_str().to_owned());
    args.push(base.as_str().into());
    git(root, &args)?;
    let undo = || {
        let _ = git(
            root,
            [
                OsString::from("worktree"),
                "remove".into(),
                "--force".into(),
                path.as_os_str().to_owned(),
            ],
        );
        let _ = git(root, ["branch", "-D", branch]);
    };
    if sparse && let Err(error) = hide_status_files(path, mission) {
        undo();
        return Err(error);
    }

    let mut merged = Vec::new();
    let mut merge = |what: &str, label: &str| -> Result<(), WorktreeError> {
        let ancestor = git(path, ["merge-base", "--is-ancestor", what, "HEAD"]).is_ok();
        if ancestor {
            return Ok(());
        }
        let message = format!("Merge {label} into {}", lane.lane_id);
        let mut args: Vec<&str> = MERGE_CONFIG.to_vec();
        args.extend([
            "merge",
            "--quiet",
            "--no-edit",
            "--no-ff",
            "-m",
            &message,
            what,
        ]);
        if let Err(source) = git(path, &args) {
            let _ = git(path, ["merge", "--abort"]);
            undo();
            return Err(WorktreeError::MergeConflict {
                lane_id: lane.lane_id.clone(),
                merged: what.to_owned(),
                source: Box::new(source),
            });
        }
        merged.push(what.to_owned());
        Ok(())
    };
    if let Some(sha) = &lanes.planning_commit_sha
        && git(root, ["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_ok()
    {
        merge(sha, "the planning commit")?;
    }
    for dependency in &lane.depends_on_lanes {
        if dependency == PLANNING_LANE_ID {
            continue;
        }
        let dependency_branch = lane_branch_name(mission_branch, dependency, target);
        if repo.local_branch_exists(&dependency_branch)? {
            merge(&dependency_branch, &format!("dependency lane {dependency}"))?;
        }
    }
    Ok(Allocation {
        branch: branch.to_owned(),
        action: WorktreeAction::Created,
        base: Some(base),
        merged,
    })
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
        if let Some(bytes) = fs_util::read_optional(&primary_dir.join(LANES_FILE_NAME))? {
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
    for (kind, lane_id, path, branch) in wanted {
        let registry = worktree_registry(repo)?;
        let branch_exists = repo.local_branch_exists(&branch)?;
        let (outcome, detail) = match presence(&registry, &path) {
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
                restore_worktree(repo, &path, &branch, sparse_for)?;
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
    Ok(())
}

impl From<StatusReadError> for WorktreeError {
    fn from(error: StatusReadError) -> WorktreeError {
        WorktreeError::Status(StatusWriteError::Read(error))
    }
}
