//! The saved state of a merge that stopped (at a conflict) or landed and is finishing:
//! `<git-common-dir>/missionctl/merge/<mission>.json`, written and removed only inside write-door
//! transactions, so it always agrees with the refs it describes.
//!
//! It is missionctl's own file, in git's common directory rather than Spec Kitty's
//! `.kittify/runtime/merge/<mission_id>/state.json`: Spec Kitty auto-resumes any state it finds
//! there with its own strategy (a `-X theirs` squash, its issue #4944), which must never happen
//! to a merge missionctl stopped on a conflict.

use std::path::{Path, PathBuf};

use missionctl_core::lifecycle::merge::MergeStrategy;
use serde::{Deserialize, Serialize};

use crate::fs_util::PathError;
use crate::repo::Repo;

/// The format version of the state file.
pub(crate) const STATE_VERSION: u32 = 1;

/// Where a saved merge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergePhase {
    /// Stopped at a conflict, before the target branch moved: `--resume` after the user
    /// resolved it in the workspace, or `--abort`.
    Conflict,
    /// The target branch moved; the bookkeeping and cleanup are being finished: `--resume`.
    Landed,
}

impl MergePhase {
    /// Returns the wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            MergePhase::Conflict => "conflict",
            MergePhase::Landed => "landed",
        }
    }
}

/// The conflict a merge stopped at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedConflict {
    /// The lane whose branch conflicted, or `None` for the target branch.
    pub lane_id: Option<String>,
    /// The branch merged in (a lane branch, or the target branch).
    pub branch: String,
    /// Its commit when the merge stopped.
    pub branch_commit: String,
    /// The mission's integration commit it was merged into.
    pub onto: String,
    /// The paths git could not merge.
    pub paths: Vec<String>,
    /// The workspace where the conflict waits to be resolved.
    pub workspace: PathBuf,
}

/// The state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeState {
    /// The format version.
    pub version: u32,
    /// The mission directory name.
    pub mission_slug: String,
    /// The mission id (`None` for a legacy mission).
    pub mission_id: Option<String>,
    /// The phase.
    pub phase: MergePhase,
    /// The strategy, persisted: a resume with another is refused.
    pub strategy: MergeStrategy,
    /// The target branch.
    pub target_branch: String,
    /// The mission branch.
    pub mission_branch: String,
    /// Whether branches are deleted once the merge succeeded.
    pub delete_branch: bool,
    /// Whether worktrees are removed once the merge succeeded.
    pub remove_worktree: bool,
    /// Whether the target branch is pushed to `origin` once the merge succeeded.
    pub push: bool,
    /// The lanes already integrated into [`MergeState::integrated_commit`], in order.
    pub integrated_lanes: Vec<String>,
    /// The mission's integration commit so far.
    pub integrated_commit: Option<String>,
    /// Each lane branch's commit when the merge started (a branch that moves afterwards makes a
    /// resume stale).
    pub lane_commits: Vec<(String, String)>,
    /// The mission branch's commit when the merge started.
    pub mission_branch_commit: Option<String>,
    /// The conflict, in the `conflict` phase.
    pub conflict: Option<SavedConflict>,
    /// The target branch before the merge landed (`baseline_merge_commit`), in the `landed`
    /// phase.
    pub baseline: Option<String>,
    /// The commit the mission landed as on the target branch, in the `landed` phase.
    pub merge_commit: Option<String>,
    /// When the merge started (ISO UTC).
    pub started_at: String,
    /// When the state last changed (ISO UTC).
    pub updated_at: String,
}

impl MergeState {
    /// Returns the state file's bytes (pretty JSON, a final newline).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Returns the directory of the state files.
pub(crate) fn state_dir(repo: &Repo) -> PathBuf {
    repo.common_dir()
        .join(crate::write::MISSIONCTL_DIR)
        .join("merge")
}

/// Returns the state file of a mission.
pub(crate) fn state_path(repo: &Repo, mission_slug: &str) -> PathBuf {
    state_dir(repo).join(format!("{mission_slug}.json"))
}

/// Returns the ref that keeps a stopped merge's commits reachable (`git gc` must not prune the
/// integration while the user resolves a conflict).
pub(crate) fn progress_ref(mission_slug: &str) -> String {
    format!("refs/missionctl/merge/{mission_slug}")
}

/// Why a saved state cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file cannot be read.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The file is not a state missionctl wrote.
    #[error("`{}` is not a merge state missionctl can read: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads a mission's saved merge state, if there is one.
pub(crate) fn read_state(
    repo: &Repo,
    mission_slug: &str,
) -> Result<Option<MergeState>, StateError> {
    let path = state_path(repo, mission_slug);
    read_state_at(repo, &path)
}

fn read_state_at(repo: &Repo, path: &Path) -> Result<Option<MergeState>, StateError> {
    let Some(bytes) = repo.containment().read(path)? else {
        return Ok(None);
    };
    let state: MergeState =
        serde_json::from_slice(&bytes).map_err(|error| StateError::Invalid {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
    if state.version != STATE_VERSION {
        return Err(StateError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "version {} (this missionctl reads {STATE_VERSION})",
                state.version
            ),
        });
    }
    Ok(Some(state))
}
