//! The review flow behind `missionctl review`: claiming a work package for review with what
//! the reviewer needs to see (the lane's changes, the work package's prompt, the previous
//! feedback), recording a verdict, releasing a stuck review, unblocking a work package, and
//! fix mode — the feedback an `implement` of a rejected work package starts from.
//!
//! The status writes are the aggregate's ([`MissionStatus::claim_review`],
//! [`MissionStatus::record_approval`], [`MissionStatus::record_rejection`],
//! [`MissionStatus::release_review`], [`MissionStatus::unblock`]); this module resolves the
//! mission once and adds what is read around them.

use std::path::{Path, PathBuf};

use missionctl_core::lifecycle::review_cycle::{self, ReviewCycleArtifact};
use missionctl_core::status::lane::Lane;
use serde::Serialize;

use crate::clock::Clock;
use crate::repo::Repo;
use crate::repo::protection::ProtectedBranches;
use crate::status::{
    ApprovalRequest, MissionStatus, RecoveryOutcome, RejectionRequest, ReviewClaimOutcome,
    ReviewError, ShellIdentity, StatusLoadError, StatusWriteError, VerdictOutcome,
};
use crate::worktree::lane::{LaneReviewContext, WorktreeError, lane_review_context};

/// Why a review command failed. Nothing is written when it is returned before a commit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewFlowError {
    /// The mission cannot be loaded.
    #[error(transparent)]
    Load(#[from] StatusLoadError),
    /// The review operation was refused or failed.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The lane cannot be read.
    #[error(transparent)]
    Worktree(#[from] WorktreeError),
    /// The lane worktree has uncommitted changes: the review would not be of what is
    /// committed.
    #[error("The lane worktree `{}` of {wp_id} has uncommitted changes: {}", workspace.display(), changes.join(", "))]
    LaneDirty {
        /// The work package.
        wp_id: String,
        /// The lane worktree.
        workspace: PathBuf,
        /// `git status --porcelain` lines.
        changes: Vec<String>,
    },
}

impl From<StatusWriteError> for ReviewFlowError {
    fn from(error: StatusWriteError) -> ReviewFlowError {
        ReviewFlowError::Review(ReviewError::Status(error))
    }
}

impl ReviewFlowError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReviewFlowError::Load(error) => error.code(),
            ReviewFlowError::Review(error) => error.code(),
            ReviewFlowError::Worktree(error) => error.code(),
            ReviewFlowError::LaneDirty { .. } => "LANE_WORKTREE_DIRTY",
        }
    }

    /// Returns a hint naming the command that helps, for a mission handle.
    pub fn hint(&self, mission: &str) -> String {
        match self {
            ReviewFlowError::Load(error) => error.hint(),
            ReviewFlowError::Review(error) => error.hint(mission),
            ReviewFlowError::Worktree(error) => error.hint(),
            ReviewFlowError::LaneDirty { workspace, .. } => format!(
                "Commit or discard them in the lane (`git -C {} status`), or pass `--force` to approve what is committed",
                workspace.display()
            ),
        }
    }
}

/// The latest review-cycle file of a work package, as a reviewer or implementer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewFeedback {
    /// Its cycle number.
    pub cycle_number: u64,
    /// Its pointer (`review-cycle://…`).
    pub pointer: String,
    /// The file (absolute).
    pub path: PathBuf,
    /// Who reviewed.
    pub reviewer: String,
    /// The feedback.
    pub body: String,
}

/// What `review start` did and what the reviewer needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewStart {
    /// The mission.
    pub mission_slug: String,
    /// The work package.
    pub wp_id: String,
    /// The claim.
    #[serde(flatten)]
    pub claim: ReviewClaimOutcome,
    /// The work package's prompt (its file, absolute).
    pub prompt_file: PathBuf,
    /// The lane's changes, for a work package of a lane worktree.
    pub lane: Option<LaneReviewContext>,
    /// The last review of this work package, when it was reviewed before.
    pub previous_review: Option<ReviewFeedback>,
}

/// Fix mode: the feedback an implementer starts from after a rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixMode {
    /// The review reference the rejection recorded.
    pub review_ref: String,
    /// The review-cycle file it points at, when it resolves.
    pub feedback: Option<ReviewFeedback>,
}

/// Loads a mission's status for a review write.
fn load(
    repo: &Repo,
    handle: &str,
    protected: &ProtectedBranches,
) -> Result<MissionStatus, ReviewFlowError> {
    Ok(MissionStatus::load(repo, handle, protected)?)
}

/// Claims a work package for review and returns what the reviewer looks at.
pub fn start_review(
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    agent: &str,
    shell: Option<&ShellIdentity>,
    protected: &ProtectedBranches,
    clock: &dyn Clock,
) -> Result<ReviewStart, ReviewFlowError> {
    let status = load(repo, handle, protected)?;
    let claim = status.claim_review(wp_id, agent, shell, clock)?;
    let prompt_file = status
        .require_work_package(wp_id)
        .map_err(ReviewError::from)?;
    let lane = lane_review_context(repo, &status, wp_id)?;
    let previous_review = latest_feedback(&status, &prompt_file);
    Ok(ReviewStart {
        mission_slug: status.mission_slug().to_owned(),
        wp_id: wp_id.to_owned(),
        claim,
        prompt_file,
        lane,
        previous_review,
    })
}

/// What an approval did, with the claim made first when the work package was still waiting
/// for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalOutcome {
    /// The mission.
    pub mission_slug: String,
    /// The review claim written first (from `for_review`).
    pub claim: Option<ReviewClaimOutcome>,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: VerdictOutcome,
}

/// Approves a work package. One still waiting for review is claimed first (as Spec Kitty's
/// `move-task --to approved` passes through `in_review`). A lane worktree with uncommitted
/// changes is refused unless forced.
pub fn approve(
    repo: &Repo,
    handle: &str,
    request: &ApprovalRequest,
    protected: &ProtectedBranches,
    clock: &dyn Clock,
) -> Result<ApprovalOutcome, ReviewFlowError> {
    let status = load(repo, handle, protected)?;
    let wp_id = request.wp_id.as_str();
    if !request.reviewer.force
        && let Some(lane) = lane_review_context(repo, &status, wp_id)?
        && !lane.uncommitted.is_empty()
    {
        return Err(ReviewFlowError::LaneDirty {
            wp_id: wp_id.to_owned(),
            workspace: lane.workspace,
            changes: lane.uncommitted,
        });
    }
    let lane = status
        .claim(wp_id)
        .map_err(StatusWriteError::from)?
        .current_lane;
    let claim = if lane == Lane::ForReview {
        let agent = request
            .reviewer
            .agent
            .clone()
            .unwrap_or_else(|| "user".to_owned());
        Some(status.claim_review(wp_id, &agent, request.reviewer.shell.as_ref(), clock)?)
    } else {
        None
    };
    let mut request = request.clone();
    if request.git_user_name.is_none() {
        request.git_user_name = git_user_name(repo);
    }
    let verdict = status.record_approval(&request, clock)?;
    Ok(ApprovalOutcome {
        mission_slug: status.mission_slug().to_owned(),
        claim,
        verdict,
    })
}

/// Rejects a work package with the reviewer's feedback.
pub fn reject(
    repo: &Repo,
    handle: &str,
    request: &RejectionRequest,
    protected: &ProtectedBranches,
    clock: &dyn Clock,
) -> Result<(String, VerdictOutcome), ReviewFlowError> {
    let status = load(repo, handle, protected)?;
    let verdict = status.record_rejection(request, clock)?;
    Ok((status.mission_slug().to_owned(), verdict))
}

/// Releases a stuck review.
pub fn release(
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    actor: &str,
    reason: &str,
    protected: &ProtectedBranches,
    clock: &dyn Clock,
) -> Result<(String, RecoveryOutcome), ReviewFlowError> {
    let status = load(repo, handle, protected)?;
    let outcome = status.release_review(wp_id, actor, reason, clock)?;
    Ok((status.mission_slug().to_owned(), outcome))
}

/// Unblocks a work package without a fabricated review.
pub fn unblock(
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    actor: &str,
    reason: &str,
    protected: &ProtectedBranches,
    clock: &dyn Clock,
) -> Result<(String, RecoveryOutcome), ReviewFlowError> {
    let status = load(repo, handle, protected)?;
    let outcome = status.unblock(wp_id, actor, reason, clock)?;
    Ok((status.mission_slug().to_owned(), outcome))
}

/// Returns git's `user.name` for the repository (Spec Kitty's default reviewer identity).
pub fn git_user_name(repo: &Repo) -> Option<String> {
    repo.gix()
        .config_snapshot()
        .string("user.name")
        .map(|name| name.to_string().trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// Returns the highest-numbered readable review-cycle file of a work package (in the status
/// directory), as Spec Kitty's `ReviewCycleArtifact.latest` finds it.
pub fn latest_feedback(status: &MissionStatus, wp_file: &Path) -> Option<ReviewFeedback> {
    let stem = wp_file.file_stem()?.to_string_lossy().into_owned();
    let dir = status.read_dir().join("tasks").join(&stem);
    let entries = status.containment().read_dir(&dir).ok()??;
    let mut numbers: Vec<u64> = entries
        .flatten()
        .filter_map(|entry| {
            review_cycle::parse_cycle_file_name(&entry.file_name().to_string_lossy())
        })
        .collect();
    numbers.sort_unstable();
    let number = *numbers.last()?;
    read_feedback(status, &stem, number)
}

/// Reads one review-cycle file of a work package's review directory.
fn read_feedback(status: &MissionStatus, stem: &str, number: u64) -> Option<ReviewFeedback> {
    let path = status
        .read_dir()
        .join("tasks")
        .join(stem)
        .join(review_cycle::cycle_file_name(number));
    let text = status.containment().read_text(&path).ok()??;
    let artifact = ReviewCycleArtifact::parse(&text).ok()?;
    Some(ReviewFeedback {
        cycle_number: number,
        pointer: review_cycle::pointer(status.mission_slug(), stem, number),
        path,
        reviewer: artifact.reviewer_agent,
        body: artifact.body,
    })
}

/// Returns fix mode for a work package, as Spec Kitty's `implement` decides it: on when the
/// newest non-sentinel review reference of the work package has no approval after it. The
/// feedback is the file a `review-cycle://` reference points at, when it resolves (Spec
/// Kitty refuses to implement when it does not; missionctl reports it and goes on).
pub fn fix_mode(status: &MissionStatus, wp_id: &str) -> Option<FixMode> {
    let log = status.read_log().ok()?;
    let found = review_cycle::fix_mode_ref(&log, wp_id)?;
    let feedback = review_cycle::parse_pointer(&found.review_ref)
        .ok()
        .filter(|parts| parts.mission_slug == status.mission_slug())
        .and_then(|parts| read_feedback(status, &parts.wp_stem, parts.cycle_number));
    Some(FixMode {
        review_ref: found.review_ref,
        feedback,
    })
}
