//! The review cycle through the aggregate: claiming a work package for review, recording an
//! approval or a rejection with its `review-cycle-<N>.md`, releasing a stuck review, and
//! unblocking a work package without a fabricated review.
//!
//! Each operation holds the mission's status lock from its first check to its last commit,
//! and writes Spec Kitty's rows and commits in Spec Kitty's order (`lifecycle.md` §1): the
//! review-cycle file in its own commit, then the transition with its binding annotation,
//! then the runtime-state annotation (agent, note, subtask reset) in its own commit.

use std::path::PathBuf;

use missionctl_core::lifecycle::review_cycle::{
    self, REVIEW_CLAIM_REF, ReviewCycleArtifact, approval_body, approval_reproduction_command,
};
use missionctl_core::status::event::{Actor, Annotation, StatusEvent};
use missionctl_core::status::event_log::EventLog;
use missionctl_core::status::lane::Lane;
use missionctl_core::status::reducer::reduce;
use missionctl_core::status::transition::{DoneEvidence, ReviewApproval, ReviewResult};
use missionctl_core::text::timestamp::isoformat_utc;
use serde::Serialize;
use serde_json::{Map, Value};

use super::transaction::BookkeepingTransaction;
use super::{
    CommitReceipt, MissionStatus, StatusWriteError, TransitionRequest, active_status,
    current_writer_lane, is_valid_wp_id, seconds,
};
use crate::clock::{Clock, unix_micros};

/// The sentinels Spec Kitty records for a binding no dispatcher resolved.
const PROFILE_ABSENT: &str = "__resolved_profile_absent__";
const PROFILE_VERSION_ABSENT: &str = "__resolved_profile_version_absent__";
const MODEL_ABSENT: &str = "__resolved_model_absent__";
const PROVIDER_ABSENT: &str = "__resolved_provider_absent__";

/// The reason of a review claim.
const REVIEW_CLAIM_REASON: &str = "Started review via action command";

/// The prefix of the reason of a released review.
const RELEASE_REASON_PREFIX: &str = "Review released";

/// The prefix of the reason of an unblocking move.
const UNBLOCK_REASON_PREFIX: &str = "Unblocked";

/// The reviewer's shell, recorded with a claim so a stale one can be told from a live one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShellIdentity {
    /// The shell's process id.
    pub pid: u32,
    /// Its creation time as Spec Kitty records it (`psutil.Process.create_time()` as text).
    pub created_at: Option<String>,
}

/// Who acts in a review, named as Spec Kitty names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reviewer {
    /// The reviewing agent (Spec Kitty's `--agent`), `tool[:model[:profile[:role]]]`.
    pub agent: Option<String>,
    /// The name recorded as the reviewer (`--reviewer`; default: the agent, else `user`).
    pub reviewer: Option<String>,
    /// The reviewer's shell, for a claim.
    pub shell: Option<ShellIdentity>,
    /// Bypass the ownership and subtask guards of an approval.
    pub force: bool,
}

impl Reviewer {
    /// The name recorded in the review-cycle file and the review result.
    fn recorded_name(&self) -> String {
        self.reviewer
            .as_deref()
            .or(self.agent.as_deref())
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .unwrap_or("user")
            .to_owned()
    }

    /// The actor of plain rows (`--agent`, else `user`).
    fn actor_name(&self) -> String {
        self.agent
            .as_deref()
            .filter(|agent| !agent.is_empty())
            .unwrap_or("user")
            .to_owned()
    }
}

/// Why a review operation was refused. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// A status write failed or was refused.
    #[error(transparent)]
    Status(#[from] StatusWriteError),
    /// The work package is not waiting for review.
    #[error("{wp_id} is in lane '{lane}', not 'for_review'")]
    NotReadyForReview {
        /// The work package.
        wp_id: String,
        /// Its lane.
        lane: Lane,
    },
    /// The work package is not in review (approve, release).
    #[error("{wp_id} is in lane '{lane}', not 'in_review'")]
    NotInReview {
        /// The work package.
        wp_id: String,
        /// Its lane.
        lane: Lane,
        /// What was asked.
        action: &'static str,
    },
    /// Another reviewer holds the review.
    #[error("{wp_id} is already claimed for review by '{holder}'")]
    ReviewClaimConflict {
        /// The work package.
        wp_id: String,
        /// Who holds it.
        holder: String,
    },
    /// The approver is not the agent the work package is assigned to.
    #[error(
        "Agent mismatch: {wp_id} is assigned to '{assigned}', not '{agent}'. Use --force to override."
    )]
    AgentMismatch {
        /// The work package.
        wp_id: String,
        /// The snapshot's agent.
        assigned: String,
        /// Who asked.
        agent: String,
    },
    /// Subtasks of the roster are not done.
    #[error("Cannot move {wp_id} to approved - unchecked subtasks: {}", unchecked.join(", "))]
    SubtasksUnchecked {
        /// The work package.
        wp_id: String,
        /// The subtasks not done.
        unchecked: Vec<String>,
    },
    /// A rejection needs feedback.
    #[error("Moving {wp_id} to 'planned' requires review feedback")]
    FeedbackRequired {
        /// The work package.
        wp_id: String,
    },
    /// The feedback is empty.
    #[error("Review feedback file is empty: {path}")]
    FeedbackEmpty {
        /// Where it came from.
        path: String,
    },
    /// The feedback is a review-cycle file, not new feedback.
    #[error(
        "feedback_source {reason}; pass distinct reviewer feedback instead of a prior review-cycle artifact"
    )]
    FeedbackIsArtifact {
        /// Why.
        reason: String,
    },
    /// The review directory holds a `review-cycle-*.md` without a number.
    #[error(transparent)]
    Cycle(#[from] missionctl_core::lifecycle::review_cycle::ReviewCycleError),
    /// A release or unblock needs a reason.
    #[error("{action} {wp_id} needs a reason: it is recorded in the log")]
    ReasonRequired {
        /// The work package.
        wp_id: String,
        /// What was asked.
        action: &'static str,
    },
    /// Nothing blocks the work package.
    #[error("{wp_id} is in lane '{lane}' and nothing blocks it")]
    NothingToUnblock {
        /// The work package.
        wp_id: String,
        /// Its lane.
        lane: Lane,
    },
    /// A work-package file could not be read.
    #[error(transparent)]
    WorkPackage(#[from] crate::planning::work_package::WorkPackageFileError),
}

impl ReviewError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReviewError::Status(error) => error.code(),
            ReviewError::NotReadyForReview { .. } => "REVIEW_NOT_READY",
            ReviewError::NotInReview { .. } => "REVIEW_NOT_STARTED",
            ReviewError::ReviewClaimConflict { .. } => "REVIEW_CLAIM_CONFLICT",
            ReviewError::AgentMismatch { .. } => "REVIEW_AGENT_MISMATCH",
            ReviewError::SubtasksUnchecked { .. } => "SUBTASKS_INCOMPLETE",
            ReviewError::FeedbackRequired { .. } => "REVIEW_FEEDBACK_REQUIRED",
            ReviewError::FeedbackEmpty { .. } => "REVIEW_FEEDBACK_EMPTY",
            ReviewError::FeedbackIsArtifact { .. } => "REVIEW_FEEDBACK_IS_ARTIFACT",
            ReviewError::Cycle(_) => "REVIEW_CYCLE_UNALLOCATABLE",
            ReviewError::ReasonRequired { .. } => "REASON_REQUIRED",
            ReviewError::NothingToUnblock { .. } => "NOTHING_TO_UNBLOCK",
            ReviewError::WorkPackage(error) => error.code(),
        }
    }

    /// Returns a hint naming the command that helps.
    pub fn hint(&self, mission: &str) -> String {
        match self {
            ReviewError::Status(error) => error.hint(),
            ReviewError::NotReadyForReview { wp_id, lane } => match lane {
                Lane::InProgress | Lane::Claimed | Lane::Planned => format!(
                    "{wp_id} is still being implemented: `missionctl move {wp_id} --to for_review --mission {mission}` when its subtasks are done"
                ),
                Lane::Approved | Lane::Done => format!(
                    "{wp_id} was reviewed already; `missionctl history --mission {mission} --wp {wp_id}` shows the verdict"
                ),
                Lane::Blocked => format!(
                    "Unblock it first: `missionctl review unblock {wp_id} --mission {mission} --reason <why>`"
                ),
                _ => format!("`missionctl board --mission {mission}` shows where {wp_id} is"),
            },
            ReviewError::NotInReview { wp_id, lane, .. } => match lane {
                Lane::ForReview => format!(
                    "Start the review: `missionctl review start {wp_id} --mission {mission} --actor <you>`"
                ),
                _ => format!("`missionctl board --mission {mission}` shows where {wp_id} is"),
            },
            ReviewError::ReviewClaimConflict { wp_id, holder } => format!(
                "Ask `{holder}`, or release the stuck review: `missionctl review release {wp_id} --mission {mission} --reason <why>`"
            ),
            ReviewError::AgentMismatch { assigned, .. } => format!(
                "Pass `--actor {assigned}`, or `--force` to approve as another reviewer"
            ),
            ReviewError::SubtasksUnchecked { wp_id, unchecked } => format!(
                "Mark them done first: `missionctl subtask done --mission {mission} {wp_id} {}`, or pass `--force`",
                unchecked.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
            ),
            ReviewError::FeedbackRequired { wp_id } => format!(
                "Write the feedback to a file, then `missionctl review reject {wp_id} --mission {mission} --feedback-file feedback.md`"
            ),
            ReviewError::FeedbackEmpty { .. } => {
                "Write what must change into the feedback file".to_owned()
            }
            ReviewError::FeedbackIsArtifact { .. } => {
                "Pass the reviewer's own feedback (a markdown file), not a review-cycle file"
                    .to_owned()
            }
            ReviewError::Cycle(_) => {
                "Rename or remove the review-cycle file without a number in the work package's review directory"
                    .to_owned()
            }
            ReviewError::ReasonRequired { .. } => "Pass `--reason <why>`".to_owned(),
            ReviewError::NothingToUnblock { wp_id, lane } => match lane {
                Lane::InReview => format!(
                    "To give up a stuck review: `missionctl review release {wp_id} --mission {mission} --reason <why>`"
                ),
                _ => format!("`missionctl next --mission {mission}` says what to do next"),
            },
            ReviewError::WorkPackage(error) => error.hint(),
        }
    }
}

/// What claiming a work package for review did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewClaimOutcome {
    /// The lane before (`for_review`, or `in_review` for a re-claim).
    pub from_lane: Lane,
    /// Whether the transition was written (false: the reviewer already held the review).
    pub claimed: bool,
    /// The rows written.
    pub event_ids: Vec<String>,
    /// The commit.
    pub receipt: Option<CommitReceipt>,
}

/// An approval to record.
#[derive(Debug, Clone, Default)]
pub struct ApprovalRequest {
    /// The work package.
    pub wp_id: String,
    /// Who approves.
    pub reviewer: Reviewer,
    /// A note, recorded as the transition's reason and as a note annotation.
    pub note: Option<String>,
    /// Where the approval lives, when not in a review-cycle file (`--approval-ref`).
    pub approval_ref: Option<String>,
    /// git's `user.name`, Spec Kitty's default reviewer identity in `policy_metadata.tool`.
    pub git_user_name: Option<String>,
}

/// A rejection to record.
#[derive(Debug, Clone, Default)]
pub struct RejectionRequest {
    /// The work package.
    pub wp_id: String,
    /// Who rejects.
    pub reviewer: Reviewer,
    /// The reviewer's feedback, verbatim.
    pub feedback: String,
    /// Where the feedback came from (for messages and the provenance check).
    pub feedback_source: PathBuf,
    /// A note, appended to the reason and recorded as a note.
    pub note: Option<String>,
}

/// What recording a verdict wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictOutcome {
    /// The work package.
    pub wp_id: String,
    /// The lane before and after.
    pub from_lane: Lane,
    /// The lane after.
    pub to_lane: Lane,
    /// `approved` or `changes_requested`.
    pub verdict: String,
    /// The review-cycle file written (absolute), when one was.
    pub review_cycle: Option<PathBuf>,
    /// Its cycle number.
    pub cycle_number: Option<u64>,
    /// The reference recorded (`review-cycle://…` or the approval reference).
    pub reference: String,
    /// The reviewer recorded.
    pub reviewer: String,
    /// The transition written.
    pub event: Value,
    /// Every row written, in order.
    pub event_ids: Vec<String>,
    /// The commits, in order (review-cycle file, transition, runtime state).
    pub commits: Vec<CommitReceipt>,
    /// The subtasks reset to `planned` by a rejection.
    pub subtasks_reset: Vec<String>,
    /// Of those, the ones that had been done.
    pub subtasks_previously_completed: Vec<String>,
    /// Of those, the ones never done.
    pub subtasks_never_completed: Vec<String>,
}

/// What a release or an unblock wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryOutcome {
    /// The work package.
    pub wp_id: String,
    /// `review_released`, `unblocked` or `rejection_overridden`.
    pub action: &'static str,
    /// The lane before.
    pub from_lane: Lane,
    /// The lane after.
    pub to_lane: Lane,
    /// Whether the move was forced (not an edge of the state machine).
    pub forced: bool,
    /// The rows written.
    pub event_ids: Vec<String>,
    /// The commit.
    pub receipt: CommitReceipt,
}

/// Parses Spec Kitty's compact agent string `tool[:model[:profile[:role]]]` into the
/// structured actor of a review row.
fn reviewer_actor(agent: Option<&str>, fallback_tool: &str) -> Actor {
    let (tool, model, profile) = match agent.filter(|agent| !agent.is_empty()) {
        Some(agent) => {
            let mut parts = agent.split(':');
            let tool = parts.next().unwrap_or_default().to_owned();
            let model = parts
                .next()
                .filter(|part| !part.is_empty())
                .map(str::to_owned);
            let profile = parts
                .next()
                .filter(|part| !part.is_empty())
                .map(str::to_owned);
            (tool, model, profile)
        }
        None => (fallback_tool.to_owned(), None, None),
    };
    Actor::Structured {
        role: Some("reviewer".to_owned()),
        profile,
        tool: Some(tool).filter(|tool| !tool.is_empty()),
        model,
    }
}

/// The delta of Spec Kitty's binding annotation: every resolved-identity slot explicitly
/// absent, and the role that ran.
fn binding_delta(role: &str) -> Map<String, Value> {
    let mut delta = Map::new();
    for (key, value) in [
        ("agent_profile", PROFILE_ABSENT),
        ("agent_profile_version", PROFILE_VERSION_ABSENT),
        ("model", MODEL_ABSENT),
        ("provider", PROVIDER_ABSENT),
        ("role", role),
    ] {
        delta.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    delta
}

/// Adds a shell's pid and creation time to a map (claim metadata or delta).
fn insert_shell(map: &mut Map<String, Value>, shell: Option<&ShellIdentity>) {
    if let Some(shell) = shell {
        map.insert("shell_pid".to_owned(), Value::from(shell.pid));
        if let Some(created_at) = &shell.created_at {
            map.insert(
                "shell_pid_created_at".to_owned(),
                Value::String(created_at.clone()),
            );
        }
    }
}

/// Returns `YYYY-MM-DDTHH:MM:SSZ` for a time in microseconds (a review cycle's
/// `reviewed_at`).
fn second_stamp(micros: u64) -> String {
    let iso = isoformat_utc(micros);
    format!("{}Z", iso.get(..19).unwrap_or(&iso))
}

/// The file stem of a work package's file (`WP02-add-and-list`), its review directory.
fn wp_stem(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The work package's reduced `review_result`: absent, explicitly null, or a result.
fn review_slot(log: &EventLog, wp_id: &str) -> Option<Option<ReviewResult>> {
    let snapshot = reduce(log);
    let value = snapshot
        .work_packages
        .get(wp_id)?
        .slots
        .get("review_result")?;
    Some(missionctl_core::status::event_log::decode_review_result(value).ok())
}

impl MissionStatus {
    /// Builds a transition row of this mission.
    #[expect(clippy::too_many_arguments, reason = "the fields of one event row")]
    fn review_event(
        &self,
        event_id: String,
        wp_id: &str,
        (from, to): (Lane, Lane),
        at: String,
        actor: Actor,
        force: bool,
        reason: Option<String>,
        review_ref: Option<String>,
        evidence: Option<Value>,
        review_result: Option<ReviewResult>,
        policy_metadata: Option<Value>,
    ) -> StatusEvent {
        StatusEvent {
            event_id,
            wp_id: wp_id.to_owned(),
            from_lane: from,
            to_lane: to,
            at,
            actor,
            force,
            execution_mode: "worktree".to_owned(),
            mission_slug: self.mission_slug.clone(),
            mission_id: self.mission_id.clone(),
            reason,
            reason_source: None,
            review_ref,
            evidence,
            review_result,
            policy_metadata: policy_metadata.map(Into::into),
        }
    }

    /// Refuses an invalid id or a work package no task file defines; returns its file.
    fn review_target(&self, wp_id: &str) -> Result<PathBuf, ReviewError> {
        self.check_writable()?;
        if !is_valid_wp_id(wp_id) {
            return Err(StatusWriteError::InvalidWpId(wp_id.to_owned()).into());
        }
        Ok(self.require_work_package(wp_id)?)
    }

    /// Claims a work package for review, as Spec Kitty's `agent action review` does:
    /// `for_review → in_review` with the reviewer's structured actor, the claim's
    /// `policy_metadata` and a binding annotation, in one commit. A work package already in
    /// review is re-claimed by the same reviewer (or after a non-reviewer) with the
    /// annotation alone; another reviewer's claim is `REVIEW_CLAIM_CONFLICT`.
    pub fn claim_review(
        &self,
        wp_id: &str,
        agent: &str,
        shell: Option<&ShellIdentity>,
        clock: &dyn Clock,
    ) -> Result<ReviewClaimOutcome, ReviewError> {
        self.review_target(wp_id)?;
        // Refuse what cannot be claimed before taking the lock...
        let lane = current_writer_lane(
            self.claim(wp_id)
                .map_err(StatusWriteError::from)?
                .current_lane,
        );
        if !matches!(lane, Lane::ForReview | Lane::InReview) {
            return Err(ReviewError::NotReadyForReview {
                wp_id: wp_id.to_owned(),
                lane,
            });
        }
        // ...and decide under it.
        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?.clone();
        let from = current_writer_lane(active_status(&log, wp_id).current_lane);
        let now = unix_micros(clock.now());
        let at = isoformat_utc(now);
        let actor = reviewer_actor(Some(agent), agent);
        let mut delta = Map::new();
        delta.insert("agent".to_owned(), Value::String(agent.to_owned()));
        insert_shell(&mut delta, shell);
        delta.extend(binding_delta("reviewer"));
        match from {
            Lane::ForReview => {
                let request = TransitionRequest {
                    wp_id: wp_id.to_owned(),
                    to_lane: Lane::InReview.as_str().to_owned(),
                    actor: Some(agent.to_owned()),
                    reason: Some(REVIEW_CLAIM_REASON.to_owned()),
                    review_ref: Some(REVIEW_CLAIM_REF.to_owned()),
                    ..TransitionRequest::default()
                };
                self.check(&request, from, Lane::InReview, &None, &None, &|| {
                    Ok(reduce(&log))
                })?;
                let mut metadata = Map::new();
                metadata.insert("agent".to_owned(), Value::String(agent.to_owned()));
                insert_shell(&mut metadata, shell);
                let event = self.review_event(
                    clock.new_event_id(),
                    wp_id,
                    (from, Lane::InReview),
                    at.clone(),
                    actor.clone(),
                    false,
                    Some(REVIEW_CLAIM_REASON.to_owned()),
                    Some(REVIEW_CLAIM_REF.to_owned()),
                    None,
                    None,
                    Some(Value::Object(metadata)),
                );
                let annotation = Annotation {
                    event_id: clock.new_event_id(),
                    wp_id: wp_id.to_owned(),
                    at: isoformat_utc(now.saturating_add(1)),
                    actor,
                    delta,
                };
                let ids = vec![event.event_id.clone(), annotation.event_id.clone()];
                transaction.append(&[event.to_json_line(), annotation.to_json_line()], &ids)?;
                let receipt = transaction.commit(&status_message(wp_id), &at, seconds(now))?;
                Ok(ReviewClaimOutcome {
                    from_lane: from,
                    claimed: true,
                    event_ids: ids,
                    receipt: Some(receipt),
                })
            }
            Lane::InReview => {
                let snapshot = reduce(&log);
                let state = snapshot.work_packages.get(wp_id);
                let holder = state.map(|state| state.actor.clone()).unwrap_or_default();
                let holder_role = state.and_then(|state| state.slot_str("role")).unwrap_or("");
                let allowed = holder.trim().is_empty()
                    || holder_role != "reviewer"
                    || holder == agent
                    || reviewer_actor(Some(agent), agent).projected() == holder;
                if !allowed {
                    return Err(ReviewError::ReviewClaimConflict {
                        wp_id: wp_id.to_owned(),
                        holder,
                    });
                }
                let annotation = Annotation {
                    event_id: clock.new_event_id(),
                    wp_id: wp_id.to_owned(),
                    at: at.clone(),
                    actor: Actor::Name(agent.to_owned()),
                    delta,
                };
                let ids = vec![annotation.event_id.clone()];
                transaction.append(&[annotation.to_json_line()], &ids)?;
                let receipt = transaction.commit(&annotation_message(wp_id), &at, seconds(now))?;
                Ok(ReviewClaimOutcome {
                    from_lane: from,
                    claimed: false,
                    event_ids: ids,
                    receipt: Some(receipt),
                })
            }
            lane => Err(ReviewError::NotReadyForReview {
                wp_id: wp_id.to_owned(),
                lane,
            }),
        }
    }

    /// Records an approval, as Spec Kitty's `move-task --to approved` does from `in_review`:
    /// the review-cycle file when the work package has no verdict yet or its last one asked
    /// for changes (own commit), then the transition with its evidence, review result and
    /// binding annotation (one commit), then the runtime-state annotation (the agent, the
    /// note) in its own commit.
    pub fn record_approval(
        &self,
        request: &ApprovalRequest,
        clock: &dyn Clock,
    ) -> Result<VerdictOutcome, ReviewError> {
        let wp_id = request.wp_id.as_str();
        let wp_file = self.review_target(wp_id)?;
        let stem = wp_stem(&wp_file);
        self.approval_guards(request, &self.read_log().map_err(StatusWriteError::from)?)?;

        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?.clone();
        self.approval_guards(request, &log)?;
        let from = Lane::InReview;
        let mut now = unix_micros(clock.now());
        let reviewer = request.reviewer.recorded_name();
        let note = request
            .note
            .as_deref()
            .map(str::trim)
            .filter(|note| !note.is_empty());
        let mut commits = Vec::new();

        let needs_cycle = match review_slot(&log, wp_id) {
            None => true,
            Some(None) => false,
            Some(Some(result)) => result.verdict == "changes_requested",
        };
        let (reference, review_result, cycle) = if needs_cycle {
            let reference_body = request
                .approval_ref
                .as_deref()
                .or(note)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("approval:{wp_id}"));
            let artifact = ReviewCycleArtifact {
                cycle_number: 0,
                wp_id: wp_id.to_owned(),
                mission_slug: self.mission_slug.clone(),
                reviewer_agent: reviewer.clone(),
                reviewed_at: second_stamp(now),
                affected_files: Vec::new(),
                reproduction_command: Some(approval_reproduction_command(
                    wp_id,
                    &self.mission_slug,
                )),
                body: approval_body(&reviewer, &reference_body),
                override_actor: None,
                override_reason: None,
            };
            let (number, path, receipt, next) =
                self.write_review_cycle(transaction, &log, &stem, artifact, "approved", now)?;
            transaction = next;
            commits.extend(receipt);
            now = now.saturating_add(1);
            let pointer = review_cycle::pointer(&self.mission_slug, &stem, number);
            let result = ReviewResult {
                reviewer: reviewer.clone(),
                verdict: "approved".to_owned(),
                reference: pointer.clone(),
                feedback_path: Some(path.display().to_string()),
            };
            (pointer, result, Some((number, path)))
        } else {
            let reference = request
                .approval_ref
                .as_deref()
                .or(note)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    let day: String = isoformat_utc(now)
                        .chars()
                        .take(10)
                        .filter(|c| *c != '-')
                        .collect();
                    format!("auto-approval:{wp_id}:{day}")
                });
            let reviewer = request
                .reviewer
                .reviewer
                .clone()
                .or_else(|| request.git_user_name.clone())
                .unwrap_or_else(|| "unknown".to_owned());
            let result = ReviewResult {
                reviewer,
                verdict: "approved".to_owned(),
                reference: reference.clone(),
                feedback_path: None,
            };
            (reference, result, None)
        };
        let evidence = DoneEvidence {
            review: ReviewApproval {
                reviewer: review_result.reviewer.clone(),
                verdict: review_result.verdict.clone(),
                reference: review_result.reference.clone(),
            },
            repos: Vec::new(),
            verification: Vec::new(),
        };
        let reason = note
            .map(str::to_owned)
            .unwrap_or_else(|| "move-task: in_review -> approved".to_owned());
        let check = TransitionRequest {
            wp_id: wp_id.to_owned(),
            to_lane: Lane::Approved.as_str().to_owned(),
            actor: Some(request.reviewer.actor_name()),
            reason: Some(reason.clone()),
            review_ref: Some(reference.clone()),
            ..TransitionRequest::default()
        };
        self.check(
            &check,
            from,
            Lane::Approved,
            &Some(evidence.clone()),
            &Some(review_result.clone()),
            &|| Ok(reduce(&log)),
        )?;
        let tool = request
            .reviewer
            .reviewer
            .clone()
            .or_else(|| request.git_user_name.clone())
            .unwrap_or_else(|| "unknown".to_owned());
        let mut metadata = Map::new();
        metadata.insert("model".to_owned(), Value::Null);
        metadata.insert("profile".to_owned(), Value::Null);
        metadata.insert("tool".to_owned(), Value::String(tool));
        let actor = reviewer_actor(
            request.reviewer.agent.as_deref(),
            &request.reviewer.actor_name(),
        );
        let at = isoformat_utc(now);
        let event = self.review_event(
            clock.new_event_id(),
            wp_id,
            (from, Lane::Approved),
            at.clone(),
            actor.clone(),
            false,
            Some(reason),
            Some(reference.clone()),
            serde_json::to_value(&evidence).ok(),
            Some(review_result.clone()),
            Some(Value::Object(metadata)),
        );
        let binding = Annotation {
            event_id: clock.new_event_id(),
            wp_id: wp_id.to_owned(),
            at: isoformat_utc(now.saturating_add(1)),
            actor,
            delta: binding_delta("reviewer"),
        };
        let mut event_ids = vec![event.event_id.clone(), binding.event_id.clone()];
        transaction.append(&[event.to_json_line(), binding.to_json_line()], &event_ids)?;

        // The runtime state: the agent (with its binding) and the note.
        let mut runtime = Map::new();
        if let Some(agent) = request.reviewer.agent.as_deref().filter(|a| !a.is_empty()) {
            runtime.insert("agent".to_owned(), Value::String(agent.to_owned()));
            runtime.extend(binding_delta("reviewer"));
        }
        if let Some(note) = note {
            runtime.insert("note".to_owned(), Value::String(note.to_owned()));
        }
        let runtime_ids = self.finish_verdict(
            transaction,
            wp_id,
            &request.reviewer.actor_name(),
            runtime,
            now.saturating_add(2),
            &mut commits,
            clock,
        )?;
        event_ids.extend(runtime_ids);
        Ok(VerdictOutcome {
            wp_id: wp_id.to_owned(),
            from_lane: from,
            to_lane: Lane::Approved,
            verdict: "approved".to_owned(),
            cycle_number: cycle.as_ref().map(|(number, _)| *number),
            review_cycle: cycle.map(|(_, path)| path),
            reference,
            reviewer: review_result.reviewer,
            event: event.to_value(),
            event_ids,
            commits,
            subtasks_reset: Vec::new(),
            subtasks_previously_completed: Vec::new(),
            subtasks_never_completed: Vec::new(),
        })
    }

    /// The guards of an approval, first failure wins: in review, the agent the work package
    /// is assigned to, every subtask done (the last two bypassed by force).
    fn approval_guards(
        &self,
        request: &ApprovalRequest,
        log: &EventLog,
    ) -> Result<(), ReviewError> {
        let wp_id = request.wp_id.as_str();
        let lane = current_writer_lane(active_status(log, wp_id).current_lane);
        if lane != Lane::InReview {
            return Err(ReviewError::NotInReview {
                wp_id: wp_id.to_owned(),
                lane,
                action: "approve",
            });
        }
        if request.reviewer.force {
            return Ok(());
        }
        let snapshot = reduce(log);
        let state = snapshot.work_packages.get(wp_id);
        if let (Some(assigned), Some(agent)) = (
            state
                .and_then(|state| state.slot_str("agent"))
                .filter(|a| !a.is_empty()),
            request.reviewer.agent.as_deref().filter(|a| !a.is_empty()),
        ) && assigned != agent
        {
            return Err(ReviewError::AgentMismatch {
                wp_id: wp_id.to_owned(),
                assigned: assigned.to_owned(),
                agent: agent.to_owned(),
            });
        }
        // Spec Kitty's gate reads the snapshot's `subtasks` slot: every recorded subtask
        // that is not done blocks (a rejection resets the whole roster to `planned`).
        let unchecked: Vec<String> = state
            .and_then(|state| state.slots.get("subtasks"))
            .and_then(Value::as_object)
            .map(|subtasks| {
                subtasks
                    .iter()
                    .filter(|(_, status)| status.as_str() != Some("done"))
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default();
        if !unchecked.is_empty() {
            return Err(ReviewError::SubtasksUnchecked {
                wp_id: wp_id.to_owned(),
                unchecked,
            });
        }
        Ok(())
    }

    /// Records a rejection, as Spec Kitty's `move-task --to planned --review-feedback-file`
    /// does: the feedback as `review-cycle-<N>.md` (own commit), the transition back to
    /// `planned` — always forced, as the shared wire contract requires — with the pointer as
    /// its review reference and a `changes_requested` review result (one commit), then the
    /// runtime-state annotation that resets every subtask of the roster, releases the claim
    /// and clears a review override (own commit).
    pub fn record_rejection(
        &self,
        request: &RejectionRequest,
        clock: &dyn Clock,
    ) -> Result<VerdictOutcome, ReviewError> {
        let wp_id = request.wp_id.as_str();
        let wp_file = self.review_target(wp_id)?;
        let stem = wp_stem(&wp_file);
        if request.feedback.trim().is_empty() {
            return Err(ReviewError::FeedbackEmpty {
                path: request.feedback_source.display().to_string(),
            });
        }
        self.check_feedback_provenance(request, &stem)?;
        let roster = crate::planning::work_package::subtask_roster(
            self.repo.containment(),
            &self.primary_mission_dir,
            wp_id,
        )?;
        rejection_lane(wp_id, &self.read_log().map_err(StatusWriteError::from)?)?;

        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?.clone();
        let from = rejection_lane(wp_id, &log)?;
        let mut now = unix_micros(clock.now());
        let reviewer = request.reviewer.recorded_name();
        let mut commits = Vec::new();
        let artifact = ReviewCycleArtifact {
            cycle_number: 0,
            wp_id: wp_id.to_owned(),
            mission_slug: self.mission_slug.clone(),
            reviewer_agent: reviewer.clone(),
            reviewed_at: second_stamp(now),
            affected_files: Vec::new(),
            reproduction_command: None,
            body: request.feedback.clone(),
            override_actor: None,
            override_reason: None,
        };
        let (number, path, receipt, next) =
            self.write_review_cycle(transaction, &log, &stem, artifact, "rejected", now)?;
        let mut transaction = next;
        commits.extend(receipt);
        now = now.saturating_add(1);
        let pointer = review_cycle::pointer(&self.mission_slug, &stem, number);
        let note = request
            .note
            .as_deref()
            .map(str::trim)
            .filter(|note| !note.is_empty());
        let reason = match note {
            Some(note) => format!("backward rewind: {from} -> planned: {pointer}: {note}"),
            None => format!("backward rewind: {from} -> planned: {pointer}"),
        };
        let review_result = ReviewResult {
            reviewer: reviewer.clone(),
            verdict: "changes_requested".to_owned(),
            reference: pointer.clone(),
            feedback_path: Some(path.display().to_string()),
        };
        let actor = request.reviewer.actor_name();
        let check = TransitionRequest {
            wp_id: wp_id.to_owned(),
            to_lane: Lane::Planned.as_str().to_owned(),
            actor: Some(actor.clone()),
            reason: Some(reason.clone()),
            force: true,
            review_ref: Some(pointer.clone()),
            ..TransitionRequest::default()
        };
        self.check(
            &check,
            from,
            Lane::Planned,
            &None,
            &Some(review_result.clone()),
            &|| Ok(reduce(&log)),
        )?;
        let at = isoformat_utc(now);
        let event = self.review_event(
            clock.new_event_id(),
            wp_id,
            (from, Lane::Planned),
            at,
            Actor::Name(actor.clone()),
            true,
            Some(reason),
            Some(pointer.clone()),
            None,
            Some(review_result),
            None,
        );
        let mut event_ids = vec![event.event_id.clone()];
        transaction.append(&[event.to_json_line()], &event_ids)?;

        // The runtime state: the agent (with its binding), the note, and the reset.
        let snapshot = reduce(&log);
        let done = super::subtasks_done(&snapshot, wp_id);
        let (previously, never): (Vec<String>, Vec<String>) =
            roster.iter().cloned().partition(|id| done.contains(id));
        let mut runtime = Map::new();
        if let Some(agent) = request.reviewer.agent.as_deref().filter(|a| !a.is_empty()) {
            runtime.insert("agent".to_owned(), Value::String(agent.to_owned()));
            runtime.extend(binding_delta("implementer"));
        }
        if let Some(note) = note {
            runtime.insert("note".to_owned(), Value::String(note.to_owned()));
        }
        if !roster.is_empty() {
            let reset: Map<String, Value> = roster
                .iter()
                .map(|id| (id.clone(), Value::String(Lane::Planned.as_str().to_owned())))
                .collect();
            runtime.insert("subtasks".to_owned(), Value::Object(reset));
        }
        runtime.insert("release_runtime_claim".to_owned(), Value::Bool(true));
        let mut release = Map::new();
        for key in ["actor", "at", "reason", "wp_id"] {
            release.insert(key.to_owned(), Value::String(String::new()));
        }
        runtime.insert("review".to_owned(), Value::Object(release));
        let runtime_ids = self.finish_verdict(
            transaction,
            wp_id,
            &actor,
            runtime,
            now.saturating_add(1),
            &mut commits,
            clock,
        )?;
        event_ids.extend(runtime_ids);
        Ok(VerdictOutcome {
            wp_id: wp_id.to_owned(),
            from_lane: from,
            to_lane: Lane::Planned,
            verdict: "changes_requested".to_owned(),
            review_cycle: Some(path),
            cycle_number: Some(number),
            reference: pointer,
            reviewer,
            event: event.to_value(),
            event_ids,
            commits,
            subtasks_reset: roster,
            subtasks_previously_completed: previously,
            subtasks_never_completed: never,
        })
    }

    /// Refuses feedback that is one of this work package's review-cycle files, by path or by
    /// content, as Spec Kitty does.
    fn check_feedback_provenance(
        &self,
        request: &RejectionRequest,
        stem: &str,
    ) -> Result<(), ReviewError> {
        let review_dir = self.placement.mission_dir.join("tasks").join(stem);
        let source = &request.feedback_source;
        let source_dir = source
            .parent()
            .and_then(|dir| std::fs::canonicalize(dir).ok());
        let review_dir = std::fs::canonicalize(&review_dir).ok();
        let name = source
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if source_dir.is_some()
            && source_dir == review_dir
            && review_cycle::parse_cycle_file_name(&name).is_some()
        {
            return Err(ReviewError::FeedbackIsArtifact {
                reason: format!("is this WP's own review-cycle artifact ({name})"),
            });
        }
        if ReviewCycleArtifact::parse(&request.feedback).is_ok() {
            return Err(ReviewError::FeedbackIsArtifact {
                reason: format!("content parses as a review-cycle artifact ({name})"),
            });
        }
        Ok(())
    }

    /// Allocates the next cycle number under the lock (or adopts an identical file a killed
    /// write left uncommitted or unreferenced), writes `review-cycle-<N>.md` and commits it on
    /// its own, as Spec Kitty does. Returns the number, the absolute path and the commit
    /// (`None` when the adopted file was committed already).
    fn write_review_cycle(
        &self,
        mut transaction: BookkeepingTransaction,
        log: &EventLog,
        stem: &str,
        mut artifact: ReviewCycleArtifact,
        verdict: &str,
        now: u64,
    ) -> Result<(u64, PathBuf, Option<CommitReceipt>, BookkeepingTransaction), ReviewError> {
        let dir = format!("tasks/{stem}");
        let names = transaction.artifact_names(&dir)?;
        let referenced: Vec<&str> = log
            .transitions()
            .filter_map(|event| event.review_ref.as_deref())
            .collect();
        // Adopt an identical, unreferenced file a previous, interrupted write left behind.
        let mut adopted = None;
        for name in &names {
            let Some(number) = review_cycle::parse_cycle_file_name(name) else {
                continue;
            };
            let pointer = review_cycle::pointer(&self.mission_slug, stem, number);
            if referenced.contains(&pointer.as_str()) {
                continue;
            }
            let Some(bytes) = transaction.artifact_bytes(&format!("{dir}/{name}"))? else {
                continue;
            };
            let Ok(existing) = ReviewCycleArtifact::parse(&String::from_utf8_lossy(&bytes)) else {
                continue;
            };
            if existing.wp_id == artifact.wp_id
                && existing.mission_slug == artifact.mission_slug
                && existing.reviewer_agent == artifact.reviewer_agent
                && existing.body == artifact.body
                && existing.affected_files == artifact.affected_files
            {
                adopted = Some((number, bytes));
            }
        }
        let (number, bytes) = match adopted {
            Some(found) => found,
            None => {
                let number = review_cycle::next_cycle_number(names.iter().map(String::as_str))?;
                artifact.cycle_number = number;
                (number, artifact.to_text().into_bytes())
            }
        };
        let relative = format!("{dir}/{}", review_cycle::cycle_file_name(number));
        transaction.stage_artifact(&relative, &bytes)?;
        let message = format!(
            "chore: Record review-cycle-{number} ({verdict}) for {} on {}",
            artifact.wp_id, self.mission_slug
        );
        let (receipt, next) =
            transaction.commit_and_continue(&message, &isoformat_utc(now), seconds(now))?;
        let path = self
            .placement
            .mission_dir
            .join("tasks")
            .join(stem)
            .join(review_cycle::cycle_file_name(number));
        Ok((number, path, (!receipt.is_noop).then_some(receipt), next))
    }

    /// Commits the verdict's transition (already appended), then writes the runtime-state
    /// annotation, when it has anything to say, in its own commit; the last commit is the
    /// write transaction's commit point. Returns the annotation's id.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of the last two commits"
    )]
    fn finish_verdict(
        &self,
        transaction: BookkeepingTransaction,
        wp_id: &str,
        actor: &str,
        runtime: Map<String, Value>,
        now: u64,
        commits: &mut Vec<CommitReceipt>,
        clock: &dyn Clock,
    ) -> Result<Vec<String>, ReviewError> {
        let at = isoformat_utc(now);
        if runtime.is_empty() {
            commits.push(transaction.commit_last(&status_message(wp_id), &at, seconds(now))?);
            return Ok(Vec::new());
        }
        let (receipt, mut transaction) =
            transaction.commit_and_continue(&status_message(wp_id), &at, seconds(now))?;
        commits.push(receipt);
        let annotation = Annotation {
            event_id: clock.new_event_id(),
            wp_id: wp_id.to_owned(),
            at: isoformat_utc(now.saturating_add(1)),
            actor: Actor::Name(actor.to_owned()),
            delta: runtime,
        };
        let ids = vec![annotation.event_id.clone()];
        transaction.append(&[annotation.to_json_line()], &ids)?;
        commits.push(transaction.commit_last(
            &annotation_message(wp_id),
            &annotation.at,
            seconds(now),
        )?);
        Ok(ids)
    }

    /// Releases a stuck review: `in_review → for_review`, which the state machine has no edge
    /// for, so a forced move with the reviewer's reason, plus an annotation releasing the
    /// reviewer's claim, in one commit. No review result is fabricated: the next reviewer
    /// claims the work package with `review start`.
    pub fn release_review(
        &self,
        wp_id: &str,
        actor: &str,
        reason: &str,
        clock: &dyn Clock,
    ) -> Result<RecoveryOutcome, ReviewError> {
        self.review_target(wp_id)?;
        if reason.trim().is_empty() {
            return Err(ReviewError::ReasonRequired {
                wp_id: wp_id.to_owned(),
                action: "Releasing the review of",
            });
        }
        let in_review = |log: &EventLog| {
            let lane = current_writer_lane(active_status(log, wp_id).current_lane);
            if lane == Lane::InReview {
                Ok(())
            } else {
                Err(ReviewError::NotInReview {
                    wp_id: wp_id.to_owned(),
                    lane,
                    action: "release",
                })
            }
        };
        in_review(&self.read_log().map_err(StatusWriteError::from)?)?;
        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?.clone();
        in_review(&log)?;
        let reason = format!("{RELEASE_REASON_PREFIX}: {}", reason.trim());
        let mut release = Map::new();
        release.insert("release_runtime_claim".to_owned(), Value::Bool(true));
        self.recovery_move(
            transaction,
            &log,
            wp_id,
            (Lane::InReview, Lane::ForReview),
            actor,
            reason,
            Some(release),
            "review_released",
            clock,
        )
    }

    /// Unblocks a work package without a fabricated review. A work package in `blocked` goes
    /// back to the lane it was blocked from (forced when the state machine has no such
    /// edge). An approved or done work package whose standing verdict asks for changes gets a
    /// complete review override (`{"review": {"actor", "at", "reason", "wp_id"}}`), which
    /// Spec Kitty's merge gate honors instead of the rejected verdict.
    pub fn unblock(
        &self,
        wp_id: &str,
        actor: &str,
        reason: &str,
        clock: &dyn Clock,
    ) -> Result<RecoveryOutcome, ReviewError> {
        self.review_target(wp_id)?;
        if reason.trim().is_empty() {
            return Err(ReviewError::ReasonRequired {
                wp_id: wp_id.to_owned(),
                action: "Unblocking",
            });
        }
        let plan = |log: &EventLog| -> Result<UnblockPlan, ReviewError> {
            let lane = current_writer_lane(active_status(log, wp_id).current_lane);
            match lane {
                Lane::Blocked => {
                    let before = log
                        .transitions()
                        .filter(|event| event.wp_id == wp_id && event.to_lane == Lane::Blocked)
                        .last()
                        .map(|event| event.from_lane)
                        .filter(|lane| {
                            !matches!(lane, Lane::Blocked | Lane::Genesis | Lane::Uninitialized)
                        })
                        .unwrap_or(Lane::InProgress);
                    Ok(UnblockPlan::Move(before))
                }
                Lane::Approved | Lane::Done
                    if matches!(
                        review_slot(log, wp_id),
                        Some(Some(ref result)) if result.verdict == "changes_requested"
                    ) =>
                {
                    Ok(UnblockPlan::Override(lane))
                }
                lane => Err(ReviewError::NothingToUnblock {
                    wp_id: wp_id.to_owned(),
                    lane,
                }),
            }
        };
        plan(&self.read_log().map_err(StatusWriteError::from)?)?;
        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?.clone();
        let reason_text = format!("{UNBLOCK_REASON_PREFIX}: {}", reason.trim());
        match plan(&log)? {
            UnblockPlan::Move(to) => self.recovery_move(
                transaction,
                &log,
                wp_id,
                (Lane::Blocked, to),
                actor,
                reason_text,
                None,
                "unblocked",
                clock,
            ),
            UnblockPlan::Override(lane) => {
                let now = unix_micros(clock.now());
                let at = isoformat_utc(now);
                let mut review = Map::new();
                review.insert("actor".to_owned(), Value::String(actor.to_owned()));
                review.insert("at".to_owned(), Value::String(at.clone()));
                review.insert("reason".to_owned(), Value::String(reason.trim().to_owned()));
                review.insert("wp_id".to_owned(), Value::String(wp_id.to_owned()));
                let mut delta = Map::new();
                delta.insert("review".to_owned(), Value::Object(review));
                let annotation = Annotation {
                    event_id: clock.new_event_id(),
                    wp_id: wp_id.to_owned(),
                    at: at.clone(),
                    actor: Actor::Name(actor.to_owned()),
                    delta,
                };
                let ids = vec![annotation.event_id.clone()];
                transaction.append(&[annotation.to_json_line()], &ids)?;
                let receipt = transaction.commit(&annotation_message(wp_id), &at, seconds(now))?;
                Ok(RecoveryOutcome {
                    wp_id: wp_id.to_owned(),
                    action: "rejection_overridden",
                    from_lane: lane,
                    to_lane: lane,
                    forced: false,
                    event_ids: ids,
                    receipt,
                })
            }
        }
    }

    /// Writes a reasoned recovery move (forced when it is not an edge) and its annotation.
    #[expect(clippy::too_many_arguments, reason = "the parts of one recorded move")]
    fn recovery_move(
        &self,
        mut transaction: BookkeepingTransaction,
        log: &EventLog,
        wp_id: &str,
        (from, to): (Lane, Lane),
        actor: &str,
        reason: String,
        annotation: Option<Map<String, Value>>,
        action: &'static str,
        clock: &dyn Clock,
    ) -> Result<RecoveryOutcome, ReviewError> {
        let forced = !missionctl_core::status::transition::is_edge(from, to);
        let check = TransitionRequest {
            wp_id: wp_id.to_owned(),
            to_lane: to.as_str().to_owned(),
            actor: Some(actor.to_owned()).filter(|actor| !actor.trim().is_empty()),
            reason: Some(reason.clone()),
            force: forced,
            ..TransitionRequest::default()
        };
        self.check(&check, from, to, &None, &None, &|| Ok(reduce(log)))?;
        let now = unix_micros(clock.now());
        let at = isoformat_utc(now);
        let event = self.review_event(
            clock.new_event_id(),
            wp_id,
            (from, to),
            at.clone(),
            Actor::Name(actor.to_owned()),
            forced,
            Some(reason),
            None,
            None,
            None,
            None,
        );
        let mut lines = vec![event.to_json_line()];
        let mut ids = vec![event.event_id.clone()];
        if let Some(delta) = annotation {
            let annotation = Annotation {
                event_id: clock.new_event_id(),
                wp_id: wp_id.to_owned(),
                at: isoformat_utc(now.saturating_add(1)),
                actor: Actor::Name(actor.to_owned()),
                delta,
            };
            lines.push(annotation.to_json_line());
            ids.push(annotation.event_id);
        }
        transaction.append(&lines, &ids)?;
        let receipt = transaction.commit(&status_message(wp_id), &at, seconds(now))?;
        Ok(RecoveryOutcome {
            wp_id: wp_id.to_owned(),
            action,
            from_lane: from,
            to_lane: to,
            forced,
            event_ids: ids,
            receipt,
        })
    }
}

/// What unblocking will do.
enum UnblockPlan {
    /// Move back to this lane.
    Move(Lane),
    /// Record a review override; the work package stays in this lane.
    Override(Lane),
}

/// The lane a rejection starts from: `for_review`, `in_review` or `approved`.
fn rejection_lane(wp_id: &str, log: &EventLog) -> Result<Lane, ReviewError> {
    let lane = current_writer_lane(active_status(log, wp_id).current_lane);
    if matches!(lane, Lane::ForReview | Lane::InReview | Lane::Approved) {
        Ok(lane)
    } else {
        Err(ReviewError::NotInReview {
            wp_id: wp_id.to_owned(),
            lane,
            action: "reject",
        })
    }
}

fn status_message(wp_id: &str) -> String {
    format!("chore(missionctl): status transition {wp_id}")
}

fn annotation_message(wp_id: &str) -> String {
    format!("chore(missionctl): inner-state annotation {wp_id}")
}
