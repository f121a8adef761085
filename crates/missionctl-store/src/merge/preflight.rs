//! The mission a merge is about, and the gates it must pass before anything is written.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use missionctl_core::lifecycle::merge::{MergeStrategy, Retention};
use missionctl_core::mission::meta::WORKTREES_DIR;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::planning::lanes_manifest::{
    LanesManifest, PLANNING_LANE_ID, lane_branch_name, lane_worktree_dir_name, mission_branch_name,
};
use missionctl_core::status::lane::Lane;
use missionctl_core::status::snapshot::StatusSnapshot;
use serde_json::Value;

use super::{MergeError, MergeRequest, NotReady};
use crate::git::git;
use crate::mission::context::{ResolvedMissionContext, resolve_mission_context};
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::repo::Repo;
use crate::repo::project_config::ProjectConfig;
use crate::repo::protection::{ProtectedBranches, ProtectedWrite};
use crate::status::MissionStatus;

/// Spec Kitty's global merge lock, relative to the primary checkout's root.
const SPEC_KITTY_MERGE_LOCK: &str = ".kittify/runtime/merge/__global_merge__/lock";

/// One lane to integrate.
#[derive(Debug, Clone)]
pub(crate) struct LaneStep {
    pub(crate) lane_id: String,
    pub(crate) branch: String,
    pub(crate) wp_ids: Vec<String>,
    /// The branch's commit; `None` for a lane with nothing to integrate (all canceled, or the
    /// planning lane).
    pub(crate) tip: Option<ObjectId>,
    /// The lane's worktree, when it exists.
    pub(crate) worktree: Option<PathBuf>,
    /// Every work package of the lane is canceled.
    pub(crate) canceled: bool,
    /// The planning lane (its work is on the target branch).
    pub(crate) planning: bool,
}

/// The mission being merged.
pub(crate) struct Mission {
    pub(crate) repo: Repo,
    pub(crate) resolved: ResolvedMissionContext,
    pub(crate) status: MissionStatus,
    pub(crate) slug: String,
    pub(crate) mission_id: Option<String>,
    pub(crate) topology: MissionTopology,
    pub(crate) target_branch: String,
    pub(crate) mission_branch: String,
    pub(crate) lanes: Option<LanesManifest>,
    pub(crate) primary_dir: PathBuf,
}

impl Mission {
    /// Resolves the mission of a handle: its context, status, target and lanes.
    pub(crate) fn load(repo: &Repo, request: &MergeRequest<'_>) -> Result<Mission, MergeError> {
        let resolved = resolve_mission_context(repo, request.handle)?;
        let status = MissionStatus::load(repo, request.handle, request.protected_branches)?;
        let slug = resolved.mission_slug.clone();
        let target_branch = resolved
            .meta
            .get("target_branch")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|branch| !branch.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| MergeError::TargetUnknown {
                mission_slug: slug.clone(),
            })?;
        let mission_id = status.mission_id().map(str::to_owned);
        let mission_branch =
            mission_branch_name(&slug, Some(resolved.context.identity.mission_id()));
        let primary_dir = resolved
            .primary_root
            .join(&resolved.context.workspace.primary_mission_dir);
        let lanes_path = primary_dir.join(LANES_FILE_NAME);
        let lanes =
            match repo.containment().read(&lanes_path)? {
                Some(bytes) => Some(LanesManifest::parse(&bytes).map_err(|error| {
                    MergeError::LanesInvalid {
                        path: lanes_path.clone(),
                        message: error.0,
                    }
                })?),
                None => None,
            };
        let topology = resolved.topology;
        if lanes.is_none() && topology.has_lanes() {
            return Err(MergeError::LanesMissing { mission_slug: slug });
        }
        Ok(Mission {
            repo: repo.clone(),
            resolved,
            status,
            slug,
            mission_id,
            topology,
            target_branch,
            mission_branch,
            lanes,
            primary_dir,
        })
    }

    /// Returns the strategy: the request's, else `.kittify/config.yaml`'s `merge.strategy`,
    /// else squash.
    pub(crate) fn strategy(
        &self,
        requested: Option<MergeStrategy>,
    ) -> Result<MergeStrategy, MergeError> {
        if let Some(strategy) = requested {
            return Ok(strategy);
        }
        let config = ProjectConfig::read(self.repo.containment(), self.repo.primary_root())
            .unwrap_or_default();
        match config.merge_strategy() {
            None => Ok(MergeStrategy::Squash),
            Some(value) => MergeStrategy::parse(&value)
                .filter(|strategy| strategy.as_str() == value)
                .ok_or(MergeError::StrategyInvalid { value }),
        }
    }

    /// Returns the retention decision.
    pub(crate) fn retention(&self, request: &MergeRequest<'_>) -> Retention {
        Retention::resolve(
            request.delete_branch,
            request.remove_worktree,
            &self.resolved.meta,
        )
    }

    /// Returns true when status is written on the coordination branch.
    pub(crate) fn routes_through_coordination(&self) -> bool {
        self.resolved.context.routes_through_coordination()
    }

    /// Returns the tip of a branch.
    pub(crate) fn tip(&self, branch: &str) -> Result<Option<ObjectId>, MergeError> {
        Ok(self.repo.branch_tip_id(branch)?)
    }

    /// Returns the merge's workspace (`.worktrees/<mission>-merge`).
    pub(crate) fn workspace(&self) -> PathBuf {
        self.repo
            .primary_root()
            .join(WORKTREES_DIR)
            .join(format!("{}-merge", self.slug))
    }

    /// Returns the work packages the merge moves to `done`, in lane order (every work package of
    /// the mission when it has no lanes), canceled ones left out.
    pub(crate) fn merged_wp_ids(&self, snapshot: &StatusSnapshot) -> Vec<String> {
        let all: Vec<String> = match &self.lanes {
            Some(lanes) => lanes
                .lanes
                .iter()
                .flat_map(|lane| lane.wp_ids.iter().cloned())
                .collect(),
            None => {
                crate::planning::work_package::wp_titles(self.repo.containment(), &self.primary_dir)
                    .map(|titles| titles.into_keys().collect())
                    .unwrap_or_default()
            }
        };
        all.into_iter()
            .filter(|wp_id| {
                snapshot
                    .work_packages
                    .get(wp_id)
                    .is_none_or(|state| state.lane != Lane::Canceled)
            })
            .collect()
    }

    /// Returns the lanes to integrate, in `lanes.json` order.
    pub(crate) fn lane_steps(
        &self,
        snapshot: &StatusSnapshot,
    ) -> Result<Vec<LaneStep>, MergeError> {
        let Some(lanes) = &self.lanes else {
            return Ok(Vec::new());
        };
        let worktrees = self.repo.worktree_checkouts()?;
        let mut steps = Vec::new();
        for lane in &lanes.lanes {
            let planning = lane.lane_id == PLANNING_LANE_ID;
            let branch = lane_branch_name(&self.mission_branch, &lane.lane_id, &self.target_branch);
            let canceled = !lane.wp_ids.is_empty()
                && lane.wp_ids.iter().all(|wp_id| {
                    snapshot
                        .work_packages
                        .get(wp_id)
                        .is_some_and(|state| state.lane == Lane::Canceled)
                });
            let worktree_path = self
                .repo
                .primary_root()
                .join(WORKTREES_DIR)
                .join(lane_worktree_dir_name(&self.slug, &lane.lane_id));
            let worktree = worktrees
                .iter()
                .find(|checkout| checkout.path == worktree_path)
                .map(|checkout| checkout.path.clone());
            let tip = if planning || canceled {
                None
            } else {
                Some(
                    self.tip(&branch)?
                        .ok_or_else(|| MergeError::LaneBranchNotFound {
                            lane_id: lane.lane_id.clone(),
                            branch: branch.clone(),
                        })?,
                )
            };
            steps.push(LaneStep {
                lane_id: lane.lane_id.clone(),
                branch,
                wp_ids: lane.wp_ids.clone(),
                tip,
                worktree,
                canceled,
                planning,
            });
        }
        Ok(steps)
    }

    /// Runs the gates of a merge (see the [module](super) documentation); writes nothing.
    pub(crate) fn check_gates(
        &self,
        snapshot: &StatusSnapshot,
        steps: &[LaneStep],
        protected_branches: &ProtectedBranches,
    ) -> Result<(), MergeError> {
        let lock = self.repo.primary_root().join(SPEC_KITTY_MERGE_LOCK);
        if std::fs::symlink_metadata(&lock).is_ok() {
            return Err(MergeError::SpecKittyMerging { path: lock });
        }
        if self.tip(&self.target_branch)?.is_none() {
            return Err(MergeError::TargetBranchNotFound {
                branch: self.target_branch.clone(),
            });
        }
        let head = self.repo.head()?;
        if head.branch() != Some(self.target_branch.as_str()) {
            return Err(MergeError::TargetNotCheckedOut {
                branch: self.target_branch.clone(),
                checked_out: head.branch().map(str::to_owned),
            });
        }
        if !self.routes_through_coordination() {
            protected_branches
                .check(&self.target_branch, ProtectedWrite::Status)
                .map_err(MergeError::ProtectedTarget)?;
        }
        let needs_mission_branch =
            steps.iter().any(|step| step.tip.is_some()) || self.routes_through_coordination();
        if needs_mission_branch && self.tip(&self.mission_branch)?.is_none() {
            let head = self
                .tip(&self.target_branch)?
                .map(|id| id.to_string()[..12].to_owned())
                .unwrap_or_default();
            return Err(MergeError::MissionBranchNotFound {
                branch: self.mission_branch.clone(),
                head,
            });
        }
        self.check_approvals(snapshot)?;
        for step in steps {
            if let (Some(worktree), Some(_)) = (&step.worktree, step.tip) {
                let dirty = dirty_paths(worktree)?;
                if !dirty.is_empty() {
                    return Err(MergeError::LaneWorktreeDirty {
                        lane_id: step.lane_id.clone(),
                        worktree: worktree.clone(),
                        paths: dirty,
                    });
                }
            }
        }
        self.check_upstream()
    }

    /// Every work package merged must be approved or done, and none of them may carry a
    /// `changes_requested` verdict as its latest review without a complete override.
    pub(crate) fn check_approvals(&self, snapshot: &StatusSnapshot) -> Result<(), MergeError> {
        let wp_ids = self.merged_wp_ids(snapshot);
        let not_ready: Vec<NotReady> = wp_ids
            .iter()
            .filter_map(|wp_id| {
                let lane = snapshot
                    .work_packages
                    .get(wp_id)
                    .map_or(Lane::Planned, |state| state.lane);
                (!matches!(lane, Lane::Approved | Lane::Done)).then(|| NotReady {
                    wp_id: wp_id.clone(),
                    lane: lane.as_str().to_owned(),
                })
            })
            .collect();
        if !not_ready.is_empty() {
            return Err(MergeError::NotApproved { not_ready });
        }
        let rejected: Vec<String> = wp_ids
            .iter()
            .filter(|wp_id| {
                snapshot.work_packages.get(*wp_id).is_some_and(|state| {
                    let verdict = state
                        .slots
                        .get("review_result")
                        .and_then(|result| result.get("verdict"))
                        .and_then(Value::as_str);
                    verdict == Some("changes_requested")
                        && !complete_override(state.slots.get("review"))
                })
            })
            .cloned()
            .collect();
        if !rejected.is_empty() {
            return Err(MergeError::RejectedReview { wp_ids: rejected });
        }
        Ok(())
    }

    /// The target branch must not be behind its upstream (when it has one); nothing is
    /// fetched.
    fn check_upstream(&self) -> Result<(), MergeError> {
        let root = self.repo.primary_root();
        let Ok(output) = git(
            root,
            [
                "rev-parse",
                "--abbrev-ref",
                "--symbolic-full-name",
                &format!("{}@{{upstream}}", self.target_branch),
            ],
        ) else {
            return Ok(());
        };
        let upstream = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if upstream.is_empty() {
            return Ok(());
        }
        let Ok(count) = git(
            root,
            [
                "rev-list",
                "--count",
                &format!("{}..{upstream}", self.target_branch),
            ],
        ) else {
            return Ok(());
        };
        let behind: usize = String::from_utf8_lossy(&count.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        if behind > 0 {
            return Err(MergeError::TargetBehind {
                branch: self.target_branch.clone(),
                upstream,
                behind,
            });
        }
        Ok(())
    }

    /// Returns the number Spec Kitty's merge would assign: `None` when the target's `meta.json`
    /// has one already, else one more than the largest of the missions checked out.
    pub(crate) fn would_assign_mission_number(&self) -> Option<i64> {
        let own = self.resolved.meta.get("mission_number");
        if own.is_some_and(|value| value.as_i64().is_some() && !value.is_boolean()) {
            return None;
        }
        let specs = self.repo.kitty_specs_dir();
        let mut highest = 0;
        if let Ok(Some(entries)) = self.repo.containment().read_dir(&specs) {
            for entry in entries.flatten() {
                let meta = entry.path().join("meta.json");
                let Ok(Some(bytes)) = self.repo.containment().read(&meta) else {
                    continue;
                };
                if let Ok(parsed) = missionctl_core::mission::meta::MissionMeta::parse(&bytes)
                    && let Ok(Some(number)) = parsed.mission_number()
                {
                    highest = highest.max(number);
                }
            }
        }
        Some(highest + 1)
    }
}

/// Returns true for a complete reviewer override in the snapshot's `review` slot.
fn complete_override(review: Option<&Value>) -> bool {
    let Some(review) = review.and_then(Value::as_object) else {
        return false;
    };
    ["actor", "at", "reason", "wp_id"].iter().all(|key| {
        review
            .get(*key)
            .and_then(Value::as_str)
            .is_some_and(|text| !text.trim().is_empty())
    })
}

/// Returns what `git status --porcelain` lists in a worktree (tracked changes and untracked
/// files that are not ignored).
pub(crate) fn dirty_paths(worktree: &Path) -> Result<Vec<String>, MergeError> {
    let output = git(
        worktree,
        ["status", "--porcelain", "-z", "--untracked-files=all"],
    )?;
    Ok(output
        .stdout
        .split(|byte| *byte == 0)
        .filter(|entry| entry.len() > 3)
        .map(|entry| String::from_utf8_lossy(&entry[3..]).into_owned())
        .collect())
}
