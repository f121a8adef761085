//! `MissionStatus`: the only door to a mission's status.
//!
//! Every status read and write goes through [`MissionStatus`]: it resolves where the
//! mission's status lives once, when it is loaded, and fails closed when that place cannot be
//! trusted. Writes validate the transition first, then apply it inside a
//! `BookkeepingTransaction` (private to this module) that re-reads and re-validates under the
//! mission's lock, appends crash-safely, rewrites `status.json` only when its bytes change,
//! commits exactly those two files and rolls back byte for byte on failure.
//!
//! The public surface of this module is the facade and its value types; a test pins it
//! (`tests/status_surface.rs`).

mod acceptance;
mod batch;
mod cache;
mod follow;
mod merge;
mod review;
mod transaction;

use std::path::{Path, PathBuf};
use std::time::Duration;

use missionctl_core::status::event::{Actor, Annotation, LogRow, StatusEvent};
use missionctl_core::status::event_log::{EventLog, decode_review_result};
use missionctl_core::status::lane::{Lane, UnknownLane};
use missionctl_core::status::reducer::reduce;
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::status::transition::{
    GuardContext, ReviewResult, TransitionRefusal, is_alias_collapse, validate_transition,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::{Clock, unix_micros};
use crate::fs_util::PathError;
use crate::mission::context::resolve_mission_context;
use crate::mission::dir::StatusReadError;
use crate::repo::Repo;
use crate::write::WriteTransaction;
pub use missionctl_core::mission::context::ReadSurface;
use transaction::{BookkeepingTransaction, StatusPlacement};

pub use acceptance::{CriterionError, CriterionOutcome, CriterionVerdict};
pub use batch::{BatchOutcome, SEED_ACTOR, SEED_REASON, StartOutcome, SubtaskOutcome};
pub use follow::{FollowUpdate, LogChange, StatusFollower};
pub(crate) use merge::relative;
pub use merge::{MergedDone, project_rows};
use missionctl_core::planning::task_plan::{UnsatisfiedDependency, dependency_readiness};
pub use missionctl_core::status::event::StatusEvent as Event;
pub use review::{ApprovalRequest, RecoveryOutcome, RejectionRequest, ReviewClaimOutcome};
pub use review::{ReviewError, Reviewer, ShellIdentity, VerdictOutcome};

/// How long a write waits for another writer's lock before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The receipt of a committed status write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitReceipt {
    /// The commit that holds the write (the current commit for a no-op).
    pub commit_sha: String,
    /// When the commit was made (for a no-op, when the files were found unchanged), in Spec
    /// Kitty's timestamp shape.
    pub committed_at: String,
    /// The short branch name the commit went to.
    pub destination_ref: String,
    /// The worktree the commit was made from.
    pub worktree_root: PathBuf,
    /// Every event id appended by the write, in order.
    pub event_ids: Vec<String>,
    /// True when there was nothing to commit.
    pub is_noop: bool,
}

/// The current state of one work package, read through the aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveWPStatus {
    /// The work package, e.g. `WP01`.
    pub wp_id: String,
    /// Its lane, from transitions only (`uninitialized` when it has none).
    pub current_lane: Lane,
    /// Its most recent transition in file order, if any.
    pub last_event: Option<StatusEvent>,
}

/// A requested lane transition, as typed by a caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransitionRequest {
    /// The work package, `WP` followed by at least two digits.
    pub wp_id: String,
    /// The target lane as typed (trimmed, case-folded, `doing` accepted).
    pub to_lane: String,
    /// Who makes the move.
    pub actor: Option<String>,
    /// Why (needed by force and by some guards).
    pub reason: Option<String>,
    /// Bypass the edge table and guards (needs actor and reason).
    pub force: bool,
    /// A reference to review feedback.
    pub review_ref: Option<String>,
    /// Done evidence, as a raw object (`{"review": {"reviewer", "verdict", "reference"}}`).
    pub evidence: Option<Value>,
    /// The structured review outcome, as a raw object.
    pub review_result: Option<Value>,
    /// A note recorded as an annotation in the same write.
    pub note: Option<String>,
    /// The lane the caller saw; the write is refused if the work package has moved since.
    pub expected_from: Option<Lane>,
    /// The workspace context for `claimed → in_progress` (defaults to the worktree).
    pub workspace_context: Option<String>,
}

/// What a transition wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionOutcome {
    /// The persisted event (`None` for an alias no-op such as `--to doing` while in progress).
    pub event: Option<StatusEvent>,
    /// The commit receipt.
    pub receipt: CommitReceipt,
    /// The snapshot after the write.
    pub snapshot: StatusSnapshot,
    /// The lane workspace context file (`.kittify/workspaces/…json`) deleted because this
    /// cancel left every work package of its lane done or canceled.
    pub released_workspace: Option<PathBuf>,
}

/// What [`MissionStatus::materialize`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterializeOutcome {
    /// The snapshot reduced from the log.
    pub snapshot: StatusSnapshot,
    /// Whether `status.json` was rewritten (its bytes differed from the reduction).
    pub rewritten: bool,
    /// The commit receipt (a no-op when both files equal the destination's tip).
    pub receipt: CommitReceipt,
}

/// Whether a move asks for the lane the work package is already in, so that nothing is written:
/// an alias of it (`doing` for `in_progress`, as Spec Kitty collapses it) whatever the flags,
/// or its own name without force (a forced move to the same lane is a recorded event).
fn is_no_op_move(request: &TransitionRequest, current: Lane) -> bool {
    is_alias_collapse(&request.to_lane, current)
        || (!request.force
            && matches!(Lane::from_input(&request.to_lane), Ok((lane, false)) if lane == current))
}

/// Why a status write was refused or failed. Nothing is left written when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusWriteError {
    /// The state machine refuses the move.
    #[error(transparent)]
    Refused(#[from] TransitionRefusal),
    /// `in_progress → for_review` while subtasks of the work package's roster are not done:
    /// the state machine's refusal, with the subtasks it is waiting for.
    #[error("{}; not done: {}", TransitionRefusal::SubtasksIncomplete, missing.join(", "))]
    SubtasksIncomplete {
        /// The mission's slug, for the command in the hint.
        mission_slug: String,
        /// The work package.
        wp_id: String,
        /// The roster's subtasks that no event records as done, in roster order.
        missing: Vec<String>,
    },
    /// The target lane is not a lane.
    #[error(transparent)]
    UnknownLane(#[from] UnknownLane),
    /// The work package id is malformed.
    #[error("Invalid work package id `{0}`: expected `WP` followed by at least two digits")]
    InvalidWpId(String),
    /// The evidence object lacks its review fields.
    #[error(
        "Moving to done requires evidence with review.reviewer review.verdict, and review.reference"
    )]
    InvalidEvidence,
    /// The review result object is malformed.
    #[error("Invalid review result: {0}")]
    InvalidReviewResult(String),
    /// The work package moved since the caller looked.
    #[error("{wp_id} is in `{actual}`, not `{expected}`: it moved since you looked")]
    StaleFromLane {
        /// The work package.
        wp_id: String,
        /// The lane the caller expected.
        expected: Lane,
        /// The lane it is in now.
        actual: Lane,
    },
    /// The destination branch is protected.
    #[error("{0}")]
    ProtectedBranch(#[source] crate::repo::protection::ProtectedBranchRefusal),
    /// The destination branch is not checked out where the status lives.
    #[error(
        "Status commits go to `{destination}`, but `{}` has {} checked out",
        worktree.display(),
        checked_out.as_deref().map_or_else(|| "a detached HEAD".to_owned(), |b| format!("`{b}`"))
    )]
    DestinationNotCheckedOut {
        /// The worktree holding the status files.
        worktree: PathBuf,
        /// The branch the commit must go to.
        destination: String,
        /// What is checked out there instead.
        checked_out: Option<String>,
    },
    /// The destination branch holds log rows its worktree lacks (it was moved without the
    /// worktree); committing would drop them.
    #[error(
        "`{branch}` has status rows that `{}` lacks: the branch moved without its worktree",
        worktree.display()
    )]
    BranchAhead {
        /// The destination branch.
        branch: String,
        /// The worktree that has it checked out.
        worktree: PathBuf,
        /// The status files, relative to the worktree.
        files: Vec<String>,
    },
    /// The appended rows did not read back.
    #[error("Event {event_id} was not found in the log after appending it")]
    PersistenceVerification {
        /// The missing event.
        event_id: String,
    },
    /// The status could not be read.
    #[error(transparent)]
    Read(#[from] StatusReadError),
    /// A status write was joined to a write transaction of another scope (a bug in the
    /// caller: the mission's lock would not be held).
    #[error("A status write of `{expected}` was joined to a transaction of `{actual}`")]
    ScopeMismatch {
        /// The mission's scope.
        expected: String,
        /// The transaction's.
        actual: String,
    },
    /// The write door refused or failed (a lock, git, the object database); everything the
    /// write did was undone.
    #[error(transparent)]
    Write(#[from] crate::write::WriteError),
    /// The write failed and not everything could be put back.
    #[error("{cause}; and the rollback is incomplete: {}", problems.join("; "))]
    RollbackIncomplete {
        /// Why the write failed.
        #[source]
        cause: Box<StatusWriteError>,
        /// What could not be restored.
        problems: Vec<String>,
    },
    /// A work-package file could not be read.
    #[error(transparent)]
    WorkPackage(#[from] crate::planning::work_package::WorkPackageFileError),
    /// `planned → claimed` while a dependency is not `done` (the ready-work gate).
    #[error(
        "{wp_id} waits for {}: a work package is claimed only when every dependency is done",
        unsatisfied.iter().map(|dep| format!("{} ({})", dep.wp_id, dep.lane)).collect::<Vec<_>>().join(", ")
    )]
    DependenciesNotReady {
        /// The work package.
        wp_id: String,
        /// Its dependencies that are not `done`, with their lanes.
        unsatisfied: Vec<UnsatisfiedDependency>,
    },
    /// The work package has no transition yet: `tasks finalize` has not seeded it.
    #[error("{wp_id} is not finalized: it has no status yet")]
    NotFinalized {
        /// The work package.
        wp_id: String,
    },
    /// Another actor holds the work package.
    #[error("{wp_id} is already claimed for implementation by `{holder}`")]
    ClaimConflict {
        /// The work package.
        wp_id: String,
        /// Who holds it.
        holder: String,
    },
    /// The work package is past implementation (in review, approved, done, …).
    #[error("{wp_id} is in `{lane}`, so implementation cannot start")]
    NotImplementable {
        /// The work package.
        wp_id: String,
        /// Its lane.
        lane: Lane,
    },
    /// A subtask id is not in the work package's roster.
    #[error("{subtask} is not a subtask of {wp_id}")]
    SubtaskUnknown {
        /// The work package.
        wp_id: String,
        /// The id given.
        subtask: String,
        /// The roster (the front matter's `subtasks`).
        roster: Vec<String>,
    },
    /// A coordination artifact's path is not a plain relative path of the mission directory.
    #[error("`{0}` is not a path inside the mission directory")]
    InvalidArtifactPath(String),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The status was loaded for reading only, from the primary checkout, because its place
    /// cannot be trusted for writing (a deleted coordination branch).
    #[error(transparent)]
    Unwritable(std::sync::Arc<crate::mission::context::ResolveError>),
}

impl StatusWriteError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            StatusWriteError::Refused(refusal) => refusal.code(),
            StatusWriteError::SubtasksIncomplete { .. } => {
                TransitionRefusal::SubtasksIncomplete.code()
            }
            StatusWriteError::UnknownLane(_) => "UNKNOWN_LANE",
            StatusWriteError::InvalidWpId(_) => "INVALID_WP_ID",
            StatusWriteError::InvalidEvidence => "INVALID_EVIDENCE",
            StatusWriteError::InvalidReviewResult(_) => "INVALID_REVIEW_RESULT",
            StatusWriteError::StaleFromLane { .. } => "STALE_FROM_LANE",
            StatusWriteError::ProtectedBranch(refusal) => refusal.code(),
            StatusWriteError::DestinationNotCheckedOut { .. } => "DESTINATION_REF_NOT_CHECKED_OUT",
            StatusWriteError::BranchAhead { .. } => "DESTINATION_AHEAD_OF_WORKTREE",
            StatusWriteError::PersistenceVerification { .. } => {
                "STATUS_EVENT_PERSISTENCE_VERIFICATION_FAILED"
            }
            StatusWriteError::Read(error) => error.code(),
            // A git or object failure of the status commit keeps Spec Kitty's code; the door's
            // own refusals (a busy git lock, a moved branch, a hook) have theirs.
            StatusWriteError::Write(
                crate::write::WriteError::Git(_) | crate::write::WriteError::Objects { .. },
            ) => "BOOKKEEPING_COMMIT_FAILED",
            StatusWriteError::Write(error) => error.code(),
            StatusWriteError::ScopeMismatch { .. } => "WRITE_SCOPE_MISMATCH",
            StatusWriteError::RollbackIncomplete { .. } => "BOOKKEEPING_ROLLBACK_INCOMPLETE",
            StatusWriteError::WorkPackage(error) => error.code(),
            StatusWriteError::DependenciesNotReady { .. } => "DEPENDENCIES_NOT_READY",
            StatusWriteError::NotFinalized { .. } => "WP_NOT_FINALIZED",
            StatusWriteError::ClaimConflict { .. } => "WORK_PACKAGE_CLAIM_CONFLICT",
            StatusWriteError::NotImplementable { .. } => "WP_NOT_IMPLEMENTABLE",
            StatusWriteError::SubtaskUnknown { .. } => "SUBTASK_UNKNOWN",
            StatusWriteError::InvalidArtifactPath(_) => "INVALID_ARTIFACT_PATH",
            StatusWriteError::Io(error) => error.code(),
            StatusWriteError::Unwritable(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            StatusWriteError::Refused(refusal) => refusal.hint(),
            StatusWriteError::SubtasksIncomplete {
                mission_slug,
                wp_id,
                missing,
            } => format!(
                "Record them when they are done with `missionctl subtask done --mission {mission_slug} {wp_id} {}`, \
                 or override with `--force --actor A --reason R`",
                missing.join(" ")
            ),
            StatusWriteError::UnknownLane(_) => format!(
                "Use one of: {}",
                Lane::DISPLAY.map(Lane::as_str).join(", ")
            ),
            StatusWriteError::InvalidWpId(_) => "Pass an id such as `WP01`".to_owned(),
            StatusWriteError::InvalidEvidence => "Pass `--evidence-json F` where F holds \
                 {\"review\": {\"reviewer\": …, \"verdict\": \"approved\", \"reference\": …}}"
                .to_owned(),
            StatusWriteError::InvalidReviewResult(_) => "Pass `--review-result-json F` where F \
                 holds {\"reviewer\": …, \"verdict\": \"approved\"|\"changes_requested\", \"reference\": …}"
                .to_owned(),
            StatusWriteError::StaleFromLane { .. } => {
                "Look at the board again, then retry the move".to_owned()
            }
            StatusWriteError::ProtectedBranch(refusal) => refusal.hint(),
            StatusWriteError::DestinationNotCheckedOut { destination, worktree, .. } => format!(
                "Check out `{destination}` in `{}` and retry",
                worktree.display()
            ),
            StatusWriteError::BranchAhead {
                worktree, files, ..
            } => format!(
                "Take the branch's status files into the worktree (`git -C {} checkout HEAD -- {}`), \
                 then retry",
                worktree.display(),
                files.join(" ")
            ),
            StatusWriteError::PersistenceVerification { .. } => {
                "Run `missionctl status validate` to see what is wrong with the log".to_owned()
            }
            StatusWriteError::Read(error) => error.hint(),
            StatusWriteError::Write(error) => error.hint(),
            StatusWriteError::ScopeMismatch { .. } => {
                "This is a bug in missionctl; please report it with the command you ran".to_owned()
            }
            StatusWriteError::RollbackIncomplete { .. } => {
                "Restore the files named above by hand (`git status` shows them), then run \
                 `missionctl status validate`"
                    .to_owned()
            }
            StatusWriteError::WorkPackage(error) => error.hint(),
            StatusWriteError::DependenciesNotReady { .. } => {
                "Finish the dependencies first (`missionctl ready` lists the work that can start), \
                 or pass `--force` with `--actor` and `--reason`"
                    .to_owned()
            }
            StatusWriteError::NotFinalized { .. } => {
                "Run `missionctl tasks finalize --mission <mission>` to seed the work packages".to_owned()
            }
            StatusWriteError::ClaimConflict { holder, .. } => format!(
                "Pass `--actor {holder}` to continue as its holder, or pick another work package \
                 (`missionctl ready`)"
            ),
            StatusWriteError::NotImplementable { wp_id, .. } => format!(
                "To rework {wp_id}, move it back with `missionctl move {wp_id} --to in_progress` \
                 (with the review reference the rules ask for)"
            ),
            StatusWriteError::SubtaskUnknown { roster, .. } if roster.is_empty() => {
                "The work package lists no `subtasks` in its front matter".to_owned()
            }
            StatusWriteError::SubtaskUnknown { roster, .. } => {
                format!("Use one of: {}", roster.join(", "))
            }
            StatusWriteError::InvalidArtifactPath(_) => {
                "This is a bug in missionctl; please report it".to_owned()
            }
            StatusWriteError::Io(error) => error.hint(),
            StatusWriteError::Unwritable(error) => error.hint(),
        }
    }
}

/// Returns true for `WP` followed by at least two digits.
pub fn is_valid_wp_id(wp_id: &str) -> bool {
    wp_id
        .strip_prefix("WP")
        .is_some_and(|digits| digits.len() >= 2 && digits.bytes().all(|byte| byte.is_ascii_digit()))
}

/// The aggregate root for one mission's status.
#[derive(Debug, Clone)]
pub struct MissionStatus {
    repo: Repo,
    mission_slug: String,
    mission_id: Option<String>,
    topology: String,
    read_surface: ReadSurface,
    read_dir: PathBuf,
    primary_mission_dir: PathBuf,
    placement: StatusPlacement,
    meta: Option<Map<String, Value>>,
    protected_branches: crate::repo::protection::ProtectedBranches,
    /// Set when loaded for reading from the primary checkout although writes must fail closed
    /// ([`MissionStatus::load_for_reading`]): every write returns this error.
    unwritable: Option<std::sync::Arc<crate::mission::context::ResolveError>>,
}

/// Why a mission's status could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusLoadError {
    /// The mission or the place its status lives cannot be resolved (fails closed).
    #[error(transparent)]
    Resolve(#[from] crate::mission::context::ResolveError),
}

impl StatusLoadError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            StatusLoadError::Resolve(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            StatusLoadError::Resolve(error) => error.hint(),
        }
    }
}

/// The branches status is never committed to unless the caller says otherwise.
pub const DEFAULT_PROTECTED_BRANCHES: [&str; 2] = ["main", "master"];

impl MissionStatus {
    /// Resolves a mission's topology once and returns its status aggregate.
    ///
    /// Fails closed: a coordination mission whose branch is gone everywhere is
    /// `COORDINATION_BRANCH_DELETED`; a coordination worktree without the mission directory is
    /// `COORD_AUTHORITY_UNAVAILABLE`. Status commits never go to `protected_branches`.
    pub fn load(
        repo: &Repo,
        handle: &str,
        protected_branches: &crate::repo::protection::ProtectedBranches,
    ) -> Result<MissionStatus, StatusLoadError> {
        let resolved = resolve_mission_context(repo, handle)?;
        Ok(MissionStatus::from_resolved(
            repo,
            resolved,
            protected_branches,
            None,
        ))
    }

    /// Resolves a mission's topology for reading, as Spec Kitty's board reads it: like
    /// [`MissionStatus::load`], except that a coordination mission whose branch was deleted
    /// (typically after merge) or whose coordination worktree lacks the mission directory is
    /// read from the primary checkout. Every write through the returned aggregate still fails
    /// closed with the error `load` returns.
    pub fn load_for_reading(repo: &Repo, handle: &str) -> Result<MissionStatus, StatusLoadError> {
        let (resolved, unwritable) =
            crate::mission::context::resolve_mission_context_for_reading(repo, handle)?;
        Ok(MissionStatus::from_resolved(
            repo,
            resolved,
            &crate::repo::protection::ProtectedBranches::none(),
            unwritable.map(std::sync::Arc::new),
        ))
    }

    /// Returns true when the status was read from the primary checkout because its
    /// coordination surface cannot be trusted ([`MissionStatus::load_for_reading`]).
    pub fn is_read_only(&self) -> bool {
        self.unwritable.is_some()
    }

    fn from_resolved(
        repo: &Repo,
        resolved: crate::mission::context::ResolvedMissionContext,
        protected_branches: &crate::repo::protection::ProtectedBranches,
        unwritable: Option<std::sync::Arc<crate::mission::context::ResolveError>>,
    ) -> MissionStatus {
        let primary_root = resolved.primary_root.clone();
        let primary_mission_dir =
            primary_root.join(&resolved.context.workspace.primary_mission_dir);
        let meta = Some(resolved.meta.clone());
        let branches = &resolved.context.branch_ref;
        let (worktree_root, materialize_branch) = match (
            resolved.context.routes_through_coordination() && unwritable.is_none(),
            &branches.coordination_branch,
            &resolved.context.workspace.coord_worktree,
        ) {
            (true, Some(branch), Some(worktree)) => {
                (primary_root.join(worktree), Some(branch.clone()))
            }
            _ => (primary_root.clone(), None),
        };
        let mission_id = resolved.context.identity.mission_id().as_str().to_owned();
        MissionStatus {
            placement: StatusPlacement {
                worktree_root,
                mission_dir: resolved.write_dir.clone(),
                destination_ref: branches.destination_ref.ref_name.clone(),
                mission_slug: resolved.mission_slug.clone(),
                materialize_branch,
                primary_root,
                primary_mission_dir: primary_mission_dir.clone(),
                info_exclude: repo.common_dir().join("info").join("exclude"),
                cache_path: cache::cache_path(repo.common_dir(), &resolved.mission_slug),
                containment: repo.containment().clone(),
            },
            repo: repo.clone(),
            mission_id: Some(mission_id),
            mission_slug: resolved.mission_slug,
            topology: resolved.topology.as_str().to_owned(),
            read_surface: resolved.read_surface,
            read_dir: resolved.read_dir,
            primary_mission_dir,
            meta,
            protected_branches: protected_branches.clone(),
            unwritable,
        }
    }

    /// Reduces the log of one mission directory as it is on disk — the primary checkout's, or the
    /// status directory Spec Kitty's readers take (`next`'s query) — with the transitions and the
    /// annotations; `None` when the directory has no log. A line that does not parse is an error.
    ///
    /// A read of a directory given by the caller, before or without loading the aggregate (a
    /// merged coordination mission whose branch is gone is still read from its primary checkout).
    /// The reduced snapshot is cached like [`MissionStatus::snapshot`]'s (same file, keyed by the
    /// log's stamp), so a long log is parsed once while it does not change. Its identity fields
    /// (`mission_number`, `mission_type`) are not filled in.
    pub fn reduce_dir_log(
        repo: &Repo,
        mission_slug: &str,
        dir: &Path,
    ) -> Result<Option<StatusSnapshot>, StatusReadError> {
        let containment = repo.containment();
        containment.check(dir)?;
        let log_path = dir.join(crate::mission::dir::EVENT_LOG_FILE);
        let cache_path = cache::cache_path(repo.common_dir(), mission_slug);
        containment.check(&cache_path)?;
        let stamp = cache::stamp(&log_path);
        if let Some(stamp) = &stamp
            && let Some(snapshot) = cache::load(&cache_path, stamp)
        {
            return Ok(Some(snapshot));
        }
        let log = match crate::mission::dir::read_event_log(dir) {
            Ok(log) => log,
            Err(StatusReadError::LogMissing(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        if let Some(error) = log.errors.first() {
            return Err(StatusReadError::LogInvalid {
                path: log_path,
                line: error.line,
                message: error.message.clone(),
            });
        }
        let snapshot = reduce(&log);
        if let Some(stamp) = stamp
            && cache::stamp(&log_path).as_ref() == Some(&stamp)
        {
            cache::store(&cache_path, &stamp, &snapshot);
        }
        Ok(Some(snapshot))
    }

    /// Returns the mission's slug (its directory name).
    pub fn mission_slug(&self) -> &str {
        &self.mission_slug
    }

    /// Returns the mission's ULID, when it has one.
    pub fn mission_id(&self) -> Option<&str> {
        self.mission_id.as_deref()
    }

    /// Returns the first eight characters of the ULID, or `""`.
    pub fn mid8(&self) -> &str {
        self.mission_id
            .as_deref()
            .map_or("", |id| id.get(..8).unwrap_or(id))
    }

    /// Returns the stored (or derived) topology's wire value.
    pub fn topology(&self) -> &str {
        &self.topology
    }

    /// Returns where status is read from: the primary checkout or the coordination worktree.
    pub fn read_surface(&self) -> ReadSurface {
        if self.current_read_dir() == self.read_dir {
            self.read_surface
        } else {
            ReadSurface::Coordination
        }
    }

    /// Returns the mission directory in the primary checkout (planning artifacts, meta.json).
    pub fn primary_mission_dir(&self) -> &Path {
        &self.primary_mission_dir
    }

    /// Returns the containment every read and write of the mission's files goes through (see
    /// [`crate::repo::containment`]).
    pub fn containment(&self) -> &crate::repo::containment::Containment {
        self.repo.containment()
    }

    /// Returns the file that defines `wp_id` in the primary `tasks/`, as Spec Kitty's
    /// `locate_work_package` finds it: `WP_NOT_FOUND` when none does (see
    /// [`crate::planning::work_package::locate_work_package`]). Every write that acts on one work
    /// package checks it first, a forced move excepted.
    pub fn require_work_package(
        &self,
        wp_id: &str,
    ) -> Result<PathBuf, crate::planning::work_package::WorkPackageFileError> {
        crate::planning::work_package::locate_work_package(
            self.repo.containment(),
            &self.primary_mission_dir,
            &self.mission_slug,
            wp_id,
        )
    }

    /// Returns the work packages of `snapshot` (ids of the event log) that no task file
    /// defines, sorted: what a forced move, or a writer that did not check, left behind.
    pub fn undefined_work_packages(
        &self,
        snapshot: &StatusSnapshot,
    ) -> Result<Vec<String>, crate::planning::work_package::WorkPackageFileError> {
        crate::planning::work_package::undefined_work_packages(
            self.repo.containment(),
            &self.primary_mission_dir,
            snapshot.work_packages.keys().map(String::as_str),
        )
    }

    /// Returns where reads go now: the load-time surface, unless this aggregate was loaded in
    /// the create-window and a write has since materialized the coordination worktree, which
    /// is then the authority.
    fn current_read_dir(&self) -> &Path {
        let written = &self.placement.mission_dir;
        if self.placement.materialize_branch.is_some()
            && written != &self.read_dir
            && written.join(crate::mission::dir::EVENT_LOG_FILE).exists()
        {
            written
        } else {
            &self.read_dir
        }
    }

    /// Returns the authoritative status directory.
    pub fn read_dir(&self) -> &Path {
        self.current_read_dir()
    }

    /// Returns the branch status commits go to.
    pub fn destination_ref(&self) -> &str {
        &self.placement.destination_ref
    }

    /// Reads the log from the authoritative directory (refusing a malformed line).
    ///
    /// A coordination mission whose worktree does not exist (the create-window, or a worktree
    /// deleted by hand) is read as its next write will see it: the log committed on the
    /// coordination branch with the rows of the primary checkout's log it lacks.
    pub fn read_log(&self) -> Result<EventLog, StatusReadError> {
        if let Some(bytes) = self.unmaterialized_log()? {
            let log = missionctl_core::status::event_log::parse(&bytes);
            if let Some(error) = log.errors.first() {
                return Err(StatusReadError::LogInvalid {
                    path: self
                        .primary_mission_dir
                        .join(crate::mission::dir::EVENT_LOG_FILE),
                    line: error.line,
                    message: error.message.clone(),
                });
            }
            return Ok(log);
        }
        let dir = self.current_read_dir();
        let log = match crate::mission::dir::read_event_log(dir) {
            Ok(log) => log,
            Err(StatusReadError::LogMissing(_)) => EventLog::default(),
            Err(error) => return Err(error),
        };
        if let Some(error) = log.errors.first() {
            return Err(StatusReadError::LogInvalid {
                path: dir.join(crate::mission::dir::EVENT_LOG_FILE),
                line: error.line,
                message: error.message.clone(),
            });
        }
        Ok(log)
    }

    /// Returns the primary checkout's root.
    pub fn primary_root(&self) -> &Path {
        &self.placement.primary_root
    }

    /// Returns the primary checkout's `meta.json` object, as read when the mission was loaded.
    pub fn primary_meta(&self) -> Option<&Map<String, Value>> {
        self.meta.as_ref()
    }

    /// Returns the committed snapshot of a merged mission read elsewhere: when `meta.json` has
    /// a `mission_number` (assigned at merge) and status is read from another directory than
    /// the primary one, the full reduction of the primary checkout's log, if it exists and
    /// parses. Spec Kitty's board takes each work package's lane from it first.
    pub fn committed_snapshot(&self) -> Option<StatusSnapshot> {
        let merged = self
            .meta
            .as_ref()
            .and_then(|meta| meta.get("mission_number"))
            .is_some_and(|number| !number.is_null());
        if !merged || self.current_read_dir() == self.primary_mission_dir {
            return None;
        }
        crate::mission::dir::read_event_log(&self.primary_mission_dir)
            .ok()
            .filter(|log| log.errors.is_empty())
            .map(|log| reduce(&log))
    }

    /// Returns the reduced snapshot. Nothing is written but a cache entry under the git
    /// common directory: a log unchanged since it was last reduced (same stamp) is not parsed
    /// again.
    pub fn snapshot(&self) -> Result<StatusSnapshot, StatusReadError> {
        if self.coordination_unmaterialized() {
            return self.reduce(&self.read_log()?);
        }
        let log_path = self
            .current_read_dir()
            .join(crate::mission::dir::EVENT_LOG_FILE);
        let stamp = cache::stamp(&log_path);
        // The cache is a hint, but a symbolic link on its way is refused, not skipped.
        self.placement
            .containment
            .check(&self.placement.cache_path)?;
        if let Some(stamp) = &stamp
            && let Some(mut snapshot) = cache::load(&self.placement.cache_path, stamp)
        {
            self.fill_identity(&mut snapshot)?;
            return Ok(snapshot);
        }
        let snapshot = self.reduce(&self.read_log()?)?;
        // Cached only when the log did not change while it was read.
        if let Some(stamp) = stamp
            && cache::stamp(&log_path).as_ref() == Some(&stamp)
        {
            cache::store(&self.placement.cache_path, &stamp, &snapshot);
        }
        Ok(snapshot)
    }

    /// Returns true for a coordination mission whose worktree does not exist now.
    fn coordination_unmaterialized(&self) -> bool {
        self.placement.materialize_branch.is_some() && !self.placement.worktree_root.exists()
    }

    /// Returns the log a coordination mission without a worktree has: the one committed on
    /// its branch, with the primary checkout's rows it lacks appended (what materializing the
    /// worktree writes); `None` for every other mission.
    fn unmaterialized_log(&self) -> Result<Option<Vec<u8>>, StatusReadError> {
        let Some(branch) = self
            .placement
            .materialize_branch
            .as_deref()
            .filter(|_| self.coordination_unmaterialized())
        else {
            return Ok(None);
        };
        let primary = transaction::read_log_file(
            &self
                .primary_mission_dir
                .join(crate::mission::dir::EVENT_LOG_FILE),
        )?;
        let relative = self
            .placement
            .mission_dir
            .strip_prefix(&self.placement.worktree_root)
            .unwrap_or(&self.placement.mission_dir)
            .join(crate::mission::dir::EVENT_LOG_FILE);
        let committed = committed_file(&self.repo.gix(), branch, &relative);
        Ok(Some(match (committed, primary) {
            (Some(committed), Some(primary)) => {
                transaction::union_rows(&committed, &primary).unwrap_or(committed)
            }
            (Some(bytes), None) | (None, Some(bytes)) => bytes,
            (None, None) => Vec::new(),
        }))
    }

    /// Fills a snapshot's identity fields from `meta.json`.
    fn fill_identity(&self, snapshot: &mut StatusSnapshot) -> Result<(), StatusReadError> {
        let identity = missionctl_core::status::snapshot::SnapshotIdentity::from_meta(
            self.meta.as_ref(),
            &snapshot.mission_slug,
        )
        .map_err(|error| StatusReadError::MetaInvalid {
            path: self
                .primary_mission_dir
                .join(crate::mission::dir::META_FILE),
            message: error.to_string(),
        })?;
        snapshot.mission_number = identity.mission_number;
        snapshot.mission_type = identity.mission_type;
        Ok(())
    }

    /// Reduces a log and fills the identity fields from `meta.json`.
    fn reduce(&self, log: &EventLog) -> Result<StatusSnapshot, StatusReadError> {
        missionctl_core::status::reducer::reduce_with_identity(log, self.meta.as_ref()).map_err(
            |error| StatusReadError::MetaInvalid {
                path: self
                    .primary_mission_dir
                    .join(crate::mission::dir::META_FILE),
                message: error.to_string(),
            },
        )
    }

    /// Returns a work package's current lane and last event (a read, despite its name).
    pub fn claim(&self, wp_id: &str) -> Result<ActiveWPStatus, StatusReadError> {
        let log = self.read_log()?;
        Ok(active_status(&log, wp_id))
    }

    /// Validates and applies a transition, then commits it. Nothing is left written when an
    /// error is returned.
    pub fn transition(
        &self,
        request: &TransitionRequest,
        clock: &dyn Clock,
    ) -> Result<TransitionOutcome, StatusWriteError> {
        self.check_writable()?;
        if !is_valid_wp_id(&request.wp_id) {
            return Err(StatusWriteError::InvalidWpId(request.wp_id.clone()));
        }
        let (to_lane, _) = Lane::from_input(&request.to_lane)?;
        // A work package no task file defines would be a phantom in the log forever: refused
        // unless the move is forced (which needs an actor and a reason).
        if !request.force {
            self.require_work_package(&request.wp_id)?;
        }
        let evidence = request.evidence.as_ref().map(parse_evidence).transpose()?;
        let review_result = request
            .review_result
            .as_ref()
            .map(|value| decode_review_result(value).map_err(StatusWriteError::InvalidReviewResult))
            .transpose()?;

        // Validate against what is on disk now, before taking the lock (from the cached
        // snapshot when it is fresh: a transition's lane is the same in the full reduction as
        // in the transitions-only one, and a work package without transitions is `genesis`
        // either way)...
        let seen = self.snapshot()?;
        let current = current_writer_lane(
            seen.work_packages
                .get(&request.wp_id)
                .map_or(Lane::Uninitialized, |state| state.lane),
        );
        if !is_no_op_move(request, current) {
            self.check(
                request,
                current,
                to_lane,
                &evidence,
                &review_result,
                &|| Ok(seen.clone()),
            )?;
        }

        // ...then again under the lock, which is authoritative.
        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?;
        let active = active_status(log, &request.wp_id);
        let from = current_writer_lane(active.current_lane);
        if let Some(expected) = request.expected_from
            && expected != from
        {
            return Err(StatusWriteError::StaleFromLane {
                wp_id: request.wp_id.clone(),
                expected,
                actual: from,
            });
        }
        let now = unix_micros(clock.now());
        let at = missionctl_core::text::timestamp::isoformat_utc(now);
        if is_no_op_move(request, from) {
            let snapshot = self.reduce(transaction.read_log()?)?;
            let receipt = transaction.noop_receipt(&at)?;
            return Ok(TransitionOutcome {
                event: None,
                receipt,
                snapshot,
                released_workspace: None,
            });
        }
        self.check(request, from, to_lane, &evidence, &review_result, &|| {
            Ok(reduce(log))
        })?;

        let event = StatusEvent {
            event_id: clock.new_event_id(),
            wp_id: request.wp_id.clone(),
            from_lane: from,
            to_lane,
            at: at.clone(),
            actor: Actor::Name(request.actor.clone().unwrap_or_default()),
            force: request.force,
            execution_mode: "worktree".to_owned(),
            mission_slug: self.mission_slug.clone(),
            mission_id: self.mission_id.clone(),
            reason: request
                .reason
                .clone()
                .filter(|reason| !reason.trim().is_empty()),
            reason_source: None,
            review_ref: request.review_ref.clone(),
            evidence: request.evidence.clone().filter(|_| evidence.is_some()),
            review_result,
            policy_metadata: None,
        };
        let mut lines = vec![event.to_json_line()];
        let mut ids = vec![event.event_id.clone()];
        if let Some(note) = request.note.as_ref().filter(|note| !note.is_empty()) {
            let mut delta = Map::new();
            delta.insert("note".to_owned(), Value::String(note.clone()));
            let annotation = Annotation {
                event_id: clock.new_event_id(),
                wp_id: request.wp_id.clone(),
                at: missionctl_core::text::timestamp::isoformat_utc(now.saturating_add(1)),
                actor: event.actor.clone(),
                delta,
            };
            lines.push(annotation.to_json_line());
            ids.push(annotation.event_id.clone());
        }
        let snapshot = transaction.append(&lines, &ids)?;
        let released_workspace = if to_lane == Lane::Canceled {
            self.release_lane_workspace(&mut transaction, &request.wp_id, &snapshot)?
        } else {
            None
        };
        let receipt = transaction.commit(&commit_message(&request.wp_id), &at, seconds(now))?;
        Ok(TransitionOutcome {
            event: Some(event),
            receipt,
            snapshot,
            released_workspace,
        })
    }

    /// With a cancel, deletes the lane's workspace context file when every work package of the
    /// lane is then done or canceled, as Spec Kitty's transactional emit does. The removal is a
    /// step of the move's transaction: a commit that fails, or a kill before it, puts the file
    /// back.
    fn release_lane_workspace(
        &self,
        transaction: &mut BookkeepingTransaction,
        wp_id: &str,
        snapshot: &StatusSnapshot,
    ) -> Result<Option<PathBuf>, StatusWriteError> {
        let Some(path) = crate::worktree::workspace_context::terminal_lane_context(
            self.repo.containment(),
            &self.placement.primary_root,
            &self.primary_mission_dir,
            &self.mission_slug,
            wp_id,
            snapshot,
        ) else {
            return Ok(None);
        };
        let removed =
            crate::worktree::workspace_context::remove_context(transaction.write_mut(), &path)?;
        Ok(removed.then_some(path))
    }

    /// Rewrites `status.json` from the log when its bytes differ, under the lock, and commits
    /// the two files when they differ from the destination's tip (a no-op receipt otherwise).
    pub fn materialize(&self, clock: &dyn Clock) -> Result<MaterializeOutcome, StatusWriteError> {
        let mut transaction = self.open_transaction()?;
        let snapshot = transaction.materialize_now()?;
        let rewritten = transaction.snapshot_written();
        let now = unix_micros(clock.now());
        let at = missionctl_core::text::timestamp::isoformat_utc(now);
        let receipt =
            transaction.commit("chore(missionctl): materialize status", &at, seconds(now))?;
        Ok(MaterializeOutcome {
            snapshot,
            rewritten,
            receipt,
        })
    }

    /// Commits the status files if they differ from the destination's tip; a clean pair
    /// gives a no-op receipt.
    pub fn save(
        &self,
        operation: &str,
        clock: &dyn Clock,
    ) -> Result<CommitReceipt, StatusWriteError> {
        let transaction = self.open_transaction()?;
        let now = unix_micros(clock.now());
        let at = missionctl_core::text::timestamp::isoformat_utc(now);
        transaction.commit(
            &format!("chore(missionctl): {operation}"),
            &at,
            seconds(now),
        )
    }

    /// Opens a transaction on this mission's status.
    fn open_transaction(&self) -> Result<BookkeepingTransaction, StatusWriteError> {
        self.check_writable()?;
        BookkeepingTransaction::acquire(
            self.placement.clone(),
            self.meta.clone(),
            &self.repo,
            &self.protected_branches,
            LOCK_TIMEOUT,
        )
    }

    /// Joins a write transaction the caller opened in this mission's scope.
    fn join_transaction(
        &self,
        write: WriteTransaction,
        point: bool,
    ) -> Result<BookkeepingTransaction, StatusWriteError> {
        self.check_writable()?;
        let scope = crate::write::Scope::Mission(self.mission_slug.clone());
        if write.scope() != &scope {
            return Err(StatusWriteError::ScopeMismatch {
                expected: scope.key(),
                actual: write.scope().key(),
            });
        }
        BookkeepingTransaction::within(
            write,
            self.placement.clone(),
            self.meta.clone(),
            &self.protected_branches,
            point,
        )
    }

    /// Refuses any write through an aggregate loaded for reading only.
    fn check_writable(&self) -> Result<(), StatusWriteError> {
        match &self.unwritable {
            Some(error) => Err(StatusWriteError::Unwritable(error.clone())),
            None => Ok(()),
        }
    }

    /// Builds the guard inputs and runs the state machine.
    fn check(
        &self,
        request: &TransitionRequest,
        from: Lane,
        to: Lane,
        evidence: &Option<missionctl_core::status::transition::DoneEvidence>,
        review_result: &Option<ReviewResult>,
        snapshot: &dyn Fn() -> Result<StatusSnapshot, StatusWriteError>,
    ) -> Result<(), StatusWriteError> {
        let guarded = from == Lane::InProgress && to == Lane::ForReview && !request.force;
        let subtasks_complete = if guarded {
            let roster = crate::planning::work_package::subtask_roster(
                self.repo.containment(),
                &self.primary_mission_dir,
                &request.wp_id,
            )?;
            let done = subtasks_done(&snapshot()?, &request.wp_id);
            let missing: Vec<String> = roster
                .iter()
                .filter(|id| !done.contains(*id))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(StatusWriteError::SubtasksIncomplete {
                    mission_slug: self.mission_slug.clone(),
                    wp_id: request.wp_id.clone(),
                    missing,
                });
            }
            Some(true)
        } else {
            None
        };
        let context = GuardContext {
            actor: request.actor.clone(),
            workspace_context: request.workspace_context.clone().or_else(|| {
                Some(format!(
                    "worktree:{}",
                    self.placement.worktree_root.display()
                ))
            }),
            subtasks_complete,
            implementation_evidence_present: Some(true),
            reason: request.reason.clone(),
            review_ref: request.review_ref.clone(),
            evidence: evidence.clone(),
            force: request.force,
            review_result: review_result.clone(),
        };
        validate_transition(from, to, &context)?;
        if from == Lane::Planned && to == Lane::Claimed && !request.force {
            self.check_dependencies(&request.wp_id, snapshot)?;
        }
        Ok(())
    }

    /// The ready-work gate of `planned → claimed`: every dependency (from the work package's
    /// front matter) must be `done`.
    fn check_dependencies(
        &self,
        wp_id: &str,
        snapshot: &dyn Fn() -> Result<StatusSnapshot, StatusWriteError>,
    ) -> Result<(), StatusWriteError> {
        let dependencies = crate::planning::work_package::work_package_dependencies(
            self.repo.containment(),
            &self.primary_mission_dir,
            wp_id,
        )?;
        if dependencies.is_empty() {
            return Ok(());
        }
        let snapshot = snapshot()?;
        let unsatisfied = dependency_readiness(dependencies.iter().map(String::as_str), |id| {
            snapshot.work_packages.get(id).map(|state| state.lane)
        });
        if unsatisfied.is_empty() {
            Ok(())
        } else {
            Err(StatusWriteError::DependenciesNotReady {
                wp_id: wp_id.to_owned(),
                unsatisfied,
            })
        }
    }
}

/// Returns the bytes of a file committed on a branch's tip; `None` when the branch, the file or
/// the repository cannot be read (the caller falls back to what the primary checkout has).
fn committed_file(repo: &gix::Repository, branch: &str, path: &Path) -> Option<Vec<u8>> {
    let mut reference = repo
        .try_find_reference(format!("refs/heads/{branch}").as_str())
        .ok()??;
    let commit = reference.peel_to_commit().ok()?;
    let tree = commit.tree().ok()?;
    let entry = tree.lookup_entry_by_path(path).ok()??;
    let object = entry.object().ok()?;
    Some(object.data.clone())
}

/// Returns whole seconds of a time in microseconds since the epoch.
fn seconds(micros: u64) -> i64 {
    i64::try_from(micros / 1_000_000).unwrap_or(i64::MAX)
}

fn commit_message(wp_id: &str) -> String {
    format!("chore(missionctl): status transition {wp_id}")
}

/// The write side's view of a lane: no transitions means `genesis`.
fn current_writer_lane(lane: Lane) -> Lane {
    if lane == Lane::Uninitialized {
        Lane::Genesis
    } else {
        lane
    }
}

/// Returns the lane from transitions only and the last event of the work package in file
/// order.
fn active_status(log: &EventLog, wp_id: &str) -> ActiveWPStatus {
    let transitions_only = EventLog {
        rows: log
            .rows
            .iter()
            .filter(|(_, row)| matches!(row, LogRow::Transition(event) if event.wp_id == wp_id))
            .cloned()
            .collect(),
        errors: Vec::new(),
    };
    let snapshot = reduce(&transitions_only);
    let current_lane = snapshot
        .work_packages
        .get(wp_id)
        .map_or(Lane::Uninitialized, |state| state.lane);
    let last_event = transitions_only.transitions().last().cloned();
    ActiveWPStatus {
        wp_id: wp_id.to_owned(),
        current_lane,
        last_event,
    }
}

/// Returns the subtask ids whose reduced status is `done`.
fn subtasks_done(snapshot: &StatusSnapshot, wp_id: &str) -> Vec<String> {
    snapshot
        .work_packages
        .get(wp_id)
        .and_then(|state| state.slots.get("subtasks"))
        .and_then(Value::as_object)
        .map(|subtasks| {
            subtasks
                .iter()
                .filter(|(_, status)| status.as_str() == Some("done"))
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Parses raw done evidence, refusing one without non-blank review fields.
fn parse_evidence(
    value: &Value,
) -> Result<missionctl_core::status::transition::DoneEvidence, StatusWriteError> {
    let evidence: missionctl_core::status::transition::DoneEvidence =
        serde_json::from_value(value.clone()).map_err(|_| StatusWriteError::InvalidEvidence)?;
    let review = &evidence.review;
    if [&review.reviewer, &review.verdict, &review.reference]
        .iter()
        .any(|field| field.trim().is_empty())
    {
        return Err(StatusWriteError::InvalidEvidence);
    }
    Ok(evidence)
}
