//! The aggregate's multi-row writes: seeding finalized work packages, recording subtasks, and
//! starting implementation. Each is one locked, committed transaction, like a single
//! transition, and writes nothing when there is nothing to do.

use missionctl_core::planning::work_package::is_subtask_id;
use missionctl_core::status::event::{Actor, Annotation, StatusEvent};
use missionctl_core::status::event_log::EventLog;
use missionctl_core::status::lane::Lane;
use missionctl_core::status::reducer::reduce;
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::status::transition::{GuardContext, validate_transition};
use missionctl_core::text::timestamp::isoformat_utc;
use serde_json::{Map, Value};

use super::transaction::BookkeepingTransaction;
use super::{
    CommitReceipt, MissionStatus, StatusWriteError, TransitionRequest, active_status,
    current_writer_lane, is_valid_wp_id, seconds,
};
use crate::clock::{Clock, unix_micros};
use crate::write::WriteTransaction;

/// The actor of the seed transitions, as Spec Kitty's `finalize-tasks` records it.
pub const SEED_ACTOR: &str = "finalize-tasks";

/// The reason of the seed transitions.
pub const SEED_REASON: &str = "canonical bootstrap";

/// Holders whose claim any actor may take over (Spec Kitty's placeholder identities).
const PLACEHOLDER_HOLDERS: [&str; 2] = ["implement-command", "unknown"];

/// What a batch wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome {
    /// The transitions appended, in order.
    pub events: Vec<StatusEvent>,
    /// The commit that holds them.
    pub receipt: CommitReceipt,
    /// The snapshot after the write.
    pub snapshot: StatusSnapshot,
}

/// What recording subtasks did.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtaskOutcome {
    /// The subtasks whose status changed (the others already had it).
    pub changed: Vec<String>,
    /// The annotation written; `None` when every subtask already had the status.
    pub annotation: Option<Annotation>,
    /// The commit; `None` when nothing was written.
    pub receipt: Option<CommitReceipt>,
}

/// What starting implementation did.
#[derive(Debug, Clone, PartialEq)]
pub struct StartOutcome {
    /// The lane before.
    pub from: Lane,
    /// The transitions appended (none when the work package was already in progress).
    pub events: Vec<StatusEvent>,
    /// The commit; `None` when nothing was written.
    pub receipt: Option<CommitReceipt>,
}

impl MissionStatus {
    /// Seeds `genesis → planned` for each work package that has no transition yet (actor
    /// `finalize-tasks`, reason `canonical bootstrap`), in one committed transaction.
    ///
    /// Never re-seeds: a work package with any transition is skipped. Returns `None` without
    /// taking the lock or touching anything when every work package is seeded already.
    pub fn seed_planned(
        &self,
        wp_ids: &[String],
        clock: &dyn Clock,
    ) -> Result<Option<BatchOutcome>, StatusWriteError> {
        if let Some(bad) = wp_ids.iter().find(|id| !is_valid_wp_id(id)) {
            return Err(StatusWriteError::InvalidWpId(bad.clone()));
        }
        if unseeded(&self.read_log()?, wp_ids).is_empty() {
            return Ok(None);
        }
        let transaction = self.open_transaction()?;
        let (outcome, write) = self.seed_in(transaction, wp_ids, clock)?;
        write.finish()?;
        Ok(outcome)
    }

    /// Like [`MissionStatus::seed_planned`], inside a write transaction of the mission's scope
    /// the caller opened (`tasks finalize`, which commits its planning files next); the
    /// transaction is handed back. Its commit is not the transaction's commit point.
    pub fn seed_planned_within(
        &self,
        write: WriteTransaction,
        wp_ids: &[String],
        clock: &dyn Clock,
    ) -> Result<(Option<BatchOutcome>, WriteTransaction), StatusWriteError> {
        if let Some(bad) = wp_ids.iter().find(|id| !is_valid_wp_id(id)) {
            return Err(StatusWriteError::InvalidWpId(bad.clone()));
        }
        let transaction = self.join_transaction(write, false)?;
        self.seed_in(transaction, wp_ids, clock)
    }

    fn seed_in(
        &self,
        mut transaction: BookkeepingTransaction,
        wp_ids: &[String],
        clock: &dyn Clock,
    ) -> Result<(Option<BatchOutcome>, WriteTransaction), StatusWriteError> {
        let log = transaction.read_log()?;
        let todo = unseeded(log, wp_ids);
        if todo.is_empty() {
            return Ok((None, transaction.into_write()));
        }
        let context = GuardContext {
            actor: Some(SEED_ACTOR.to_owned()),
            reason: Some(SEED_REASON.to_owned()),
            ..GuardContext::default()
        };
        validate_transition(Lane::Genesis, Lane::Planned, &context)?;
        let start = unix_micros(clock.now());
        let mut events = Vec::with_capacity(todo.len());
        for (offset, wp_id) in (0u64..).zip(&todo) {
            events.push(self.event(
                clock.new_event_id(),
                wp_id,
                Lane::Genesis,
                Lane::Planned,
                isoformat_utc(start.saturating_add(offset)),
                SEED_ACTOR,
                Some(SEED_REASON.to_owned()),
            ));
        }
        let lines: Vec<String> = events.iter().map(StatusEvent::to_json_line).collect();
        let ids: Vec<String> = events.iter().map(|event| event.event_id.clone()).collect();
        let snapshot = transaction.append(&lines, &ids)?;
        let message = format!(
            "chore(missionctl): status transition batch {}",
            todo.join(", ")
        );
        let (receipt, write) =
            transaction.commit_keep(&message, &isoformat_utc(start), seconds(start))?;
        Ok((
            Some(BatchOutcome {
                events,
                receipt,
                snapshot,
            }),
            write,
        ))
    }

    /// Records the status of subtasks (normally `done`) as one Spec Kitty annotation row,
    /// `{"delta": {"subtasks": {"T001": "done"}}, "kind": "annotation", …}`, committed.
    ///
    /// Every id must be in the work package's roster (its front matter's `subtasks`); the work
    /// package must be finalized. Subtasks that already have the status are left alone, and
    /// when all have it nothing is written.
    pub fn record_subtasks(
        &self,
        wp_id: &str,
        subtask_ids: &[String],
        status: Lane,
        actor: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<SubtaskOutcome, StatusWriteError> {
        if !is_valid_wp_id(wp_id) {
            return Err(StatusWriteError::InvalidWpId(wp_id.to_owned()));
        }
        self.require_work_package(wp_id)?;
        let roster = crate::planning::work_package::subtask_roster(
            self.repo.containment(),
            &self.primary_mission_dir,
            wp_id,
        )?;
        for id in subtask_ids {
            if !is_subtask_id(id) || !roster.contains(id) {
                return Err(StatusWriteError::SubtaskUnknown {
                    wp_id: wp_id.to_owned(),
                    subtask: id.clone(),
                    roster,
                });
            }
        }
        let changed = |log: &EventLog| -> Vec<String> {
            let snapshot = reduce(log);
            let current = snapshot
                .work_packages
                .get(wp_id)
                .and_then(|state| state.slots.get("subtasks"))
                .and_then(Value::as_object);
            let mut changed: Vec<String> = Vec::new();
            for id in subtask_ids {
                let has = current
                    .and_then(|map| map.get(id))
                    .and_then(Value::as_str)
                    .is_some_and(|value| value == status.as_str());
                if !has && !changed.contains(id) {
                    changed.push(id.clone());
                }
            }
            changed
        };
        let log = self.read_log()?;
        if current_writer_lane(active_status(&log, wp_id).current_lane) == Lane::Genesis {
            return Err(StatusWriteError::NotFinalized {
                wp_id: wp_id.to_owned(),
            });
        }
        // Whether anything changes is decided under the lock only: the log read here may hold
        // the row of a killed writer that the transaction's recovery is about to undo.
        let mut transaction = self.open_transaction()?;
        let log = transaction.read_log()?;
        let todo = changed(log);
        if todo.is_empty() {
            return Ok(SubtaskOutcome {
                changed: Vec::new(),
                annotation: None,
                receipt: None,
            });
        }
        let mut subtasks = Map::new();
        for id in &todo {
            subtasks.insert(id.clone(), Value::String(status.as_str().to_owned()));
        }
        let mut delta = Map::new();
        delta.insert("subtasks".to_owned(), Value::Object(subtasks));
        let now = unix_micros(clock.now());
        let at = isoformat_utc(now);
        let annotation = Annotation {
            event_id: clock.new_event_id(),
            wp_id: wp_id.to_owned(),
            at: at.clone(),
            actor: Actor::Name(actor.unwrap_or_default().to_owned()),
            delta,
        };
        transaction.append(
            &[annotation.to_json_line()],
            std::slice::from_ref(&annotation.event_id),
        )?;
        let receipt = transaction.commit(
            &format!("chore(missionctl): inner-state annotation {wp_id}"),
            &at,
            seconds(now),
        )?;
        Ok(SubtaskOutcome {
            changed: todo,
            annotation: Some(annotation),
            receipt: Some(receipt),
        })
    }

    /// Checks, without writing, that [`MissionStatus::start_implementation`] would succeed
    /// now; returns the current lane and how many transitions it would write (0 when the
    /// work package is already in progress for this actor).
    pub fn check_start_implementation(
        &self,
        wp_id: &str,
        actor: &str,
        workspace_context: &str,
    ) -> Result<(Lane, usize), StatusWriteError> {
        if !is_valid_wp_id(wp_id) {
            return Err(StatusWriteError::InvalidWpId(wp_id.to_owned()));
        }
        self.require_work_package(wp_id)?;
        let log = self.read_log()?;
        let (from, steps) = plan_start(&log, wp_id, actor)?;
        for (step_from, step_to) in &steps {
            let request = start_request(wp_id, actor, workspace_context, *step_to);
            self.check(&request, *step_from, *step_to, &None, &None, &|| {
                Ok(reduce(&log))
            })?;
        }
        Ok((from, steps.len()))
    }

    /// Moves a work package to `in_progress` for `actor`, idempotently: from `planned` as two
    /// transitions in one batch (`planned → claimed → in_progress`, the dependency gate
    /// applying), from `claimed` as one, and from `in_progress` not at all when the actor may
    /// hold it.
    ///
    /// Refuses a work package that is not finalized (`WP_NOT_FINALIZED`), one held by another
    /// actor (`WORK_PACKAGE_CLAIM_CONFLICT`) and one past implementation
    /// (`WP_NOT_IMPLEMENTABLE`).
    pub fn start_implementation(
        &self,
        wp_id: &str,
        actor: &str,
        workspace_context: &str,
        clock: &dyn Clock,
    ) -> Result<StartOutcome, StatusWriteError> {
        // Validate against what is on disk, then again under the lock.
        let (from, count) = self.check_start_implementation(wp_id, actor, workspace_context)?;
        if count == 0 {
            return Ok(StartOutcome {
                from,
                events: Vec::new(),
                receipt: None,
            });
        }
        let transaction = self.open_transaction()?;
        let (outcome, write) =
            self.start_in(transaction, wp_id, actor, workspace_context, clock)?;
        write.finish()?;
        Ok(outcome)
    }

    /// Like [`MissionStatus::start_implementation`], inside a write transaction of the
    /// mission's scope the caller opened (`implement`, which allocated the lane's worktree in
    /// it): the status commit is the transaction's commit point; the transaction is handed back
    /// for the caller to finish.
    pub fn start_implementation_within(
        &self,
        write: WriteTransaction,
        wp_id: &str,
        actor: &str,
        workspace_context: &str,
        clock: &dyn Clock,
    ) -> Result<(StartOutcome, WriteTransaction), StatusWriteError> {
        if !is_valid_wp_id(wp_id) {
            return Err(StatusWriteError::InvalidWpId(wp_id.to_owned()));
        }
        let transaction = self.join_transaction(write, true)?;
        self.start_in(transaction, wp_id, actor, workspace_context, clock)
    }

    fn start_in(
        &self,
        mut transaction: BookkeepingTransaction,
        wp_id: &str,
        actor: &str,
        workspace_context: &str,
        clock: &dyn Clock,
    ) -> Result<(StartOutcome, WriteTransaction), StatusWriteError> {
        let log = transaction.read_log()?;
        let (from, steps) = plan_start(log, wp_id, actor)?;
        if steps.is_empty() {
            return Ok((
                StartOutcome {
                    from,
                    events: Vec::new(),
                    receipt: None,
                },
                transaction.into_write(),
            ));
        }
        let start = unix_micros(clock.now());
        let mut events = Vec::with_capacity(steps.len());
        for (offset, (step_from, step_to)) in (0u64..).zip(&steps) {
            let request = start_request(wp_id, actor, workspace_context, *step_to);
            self.check(&request, *step_from, *step_to, &None, &None, &|| {
                Ok(reduce(log))
            })?;
            events.push(self.event(
                clock.new_event_id(),
                wp_id,
                *step_from,
                *step_to,
                isoformat_utc(start.saturating_add(offset)),
                actor,
                None,
            ));
        }
        let lines: Vec<String> = events.iter().map(StatusEvent::to_json_line).collect();
        let ids: Vec<String> = events.iter().map(|event| event.event_id.clone()).collect();
        transaction.append(&lines, &ids)?;
        let message = if events.len() > 1 {
            format!("chore(missionctl): status transition batch {wp_id}")
        } else {
            format!("chore(missionctl): status transition {wp_id}")
        };
        let (receipt, write) =
            transaction.commit_keep(&message, &isoformat_utc(start), seconds(start))?;
        Ok((
            StartOutcome {
                from,
                events,
                receipt: Some(receipt),
            },
            write,
        ))
    }

    #[expect(clippy::too_many_arguments, reason = "the fields of one event row")]
    fn event(
        &self,
        event_id: String,
        wp_id: &str,
        from: Lane,
        to: Lane,
        at: String,
        actor: &str,
        reason: Option<String>,
    ) -> StatusEvent {
        StatusEvent {
            event_id,
            wp_id: wp_id.to_owned(),
            from_lane: from,
            to_lane: to,
            at,
            actor: Actor::Name(actor.to_owned()),
            force: false,
            execution_mode: "worktree".to_owned(),
            mission_slug: self.mission_slug.clone(),
            mission_id: self.mission_id.clone(),
            reason,
            reason_source: None,
            review_ref: None,
            evidence: None,
            review_result: None,
            policy_metadata: None,
        }
    }
}

/// Returns the transition request of one step of starting implementation.
fn start_request(wp_id: &str, actor: &str, workspace_context: &str, to: Lane) -> TransitionRequest {
    TransitionRequest {
        wp_id: wp_id.to_owned(),
        to_lane: to.as_str().to_owned(),
        actor: Some(actor.to_owned()).filter(|actor| !actor.trim().is_empty()),
        workspace_context: Some(workspace_context.to_owned()),
        ..TransitionRequest::default()
    }
}

/// Returns the current lane and the steps to `in_progress`, refusing what cannot start.
fn plan_start(
    log: &EventLog,
    wp_id: &str,
    actor: &str,
) -> Result<(Lane, Vec<(Lane, Lane)>), StatusWriteError> {
    let from = current_writer_lane(active_status(log, wp_id).current_lane);
    let holder = reduce(log)
        .work_packages
        .get(wp_id)
        .map(|state| state.actor.clone())
        .unwrap_or_default();
    // A reviewer who sends the work package back to `in_progress` holds it by the snapshot,
    // but the implementer resumes it: the latest implementing claim counts too.
    let compatible = holder.trim().is_empty()
        || actor.trim().is_empty()
        || holder == actor
        || PLACEHOLDER_HOLDERS.contains(&holder.as_str())
        || latest_implementer(log, wp_id).as_deref() == Some(actor);
    let steps = match from {
        Lane::Genesis | Lane::Uninitialized => {
            return Err(StatusWriteError::NotFinalized {
                wp_id: wp_id.to_owned(),
            });
        }
        Lane::Planned => vec![
            (Lane::Planned, Lane::Claimed),
            (Lane::Claimed, Lane::InProgress),
        ],
        Lane::Claimed | Lane::InProgress if !compatible => {
            return Err(StatusWriteError::ClaimConflict {
                wp_id: wp_id.to_owned(),
                holder,
            });
        }
        Lane::Claimed => vec![(Lane::Claimed, Lane::InProgress)],
        Lane::InProgress => Vec::new(),
        other => {
            return Err(StatusWriteError::NotImplementable {
                wp_id: wp_id.to_owned(),
                lane: other,
            });
        }
    };
    Ok((from, steps))
}

/// Returns the actor of the work package's latest implementing claim, as Spec Kitty's
/// `latest_implementer_actor` does: the newest transition in file order into `claimed` or
/// `in_progress` that is not a reviewer's rework verdict (out of `for_review`, `in_review` or
/// `approved` with a review reference or result) and not made by a placeholder actor.
fn latest_implementer(log: &EventLog, wp_id: &str) -> Option<String> {
    let is_rework_verdict = |event: &StatusEvent| {
        matches!(
            event.from_lane,
            Lane::ForReview | Lane::InReview | Lane::Approved
        ) && (event
            .review_ref
            .as_deref()
            .is_some_and(|reference| !reference.is_empty())
            || event.review_result.is_some())
    };
    let implementing = log
        .transitions()
        .filter(|event| event.wp_id == wp_id)
        .filter(|event| matches!(event.to_lane, Lane::Claimed | Lane::InProgress))
        .filter(|event| !is_rework_verdict(event))
        .filter(|event| !PLACEHOLDER_HOLDERS.contains(&event.actor.projected()))
        .last()?;
    Some(implementing.actor.projected().to_owned()).filter(|actor| !actor.is_empty())
}

/// Returns the ids (in the order given, once each) that have no transition in the log.
fn unseeded(log: &EventLog, wp_ids: &[String]) -> Vec<String> {
    let mut todo: Vec<String> = Vec::new();
    for id in wp_ids {
        if !todo.contains(id) && active_status(log, id).current_lane == Lane::Uninitialized {
            todo.push(id.clone());
        }
    }
    todo
}
