//! `next`: the query mode (a pure read) and the advancing mode (starts or loads the run and
//! reports the agent's result), both resolved through [`resolve_action_context`].

use missionctl_core::next::{
    NextStep, PlanKind, Progress, StepResult, advance, plan_next, progress,
};
use missionctl_core::run::MissionRunRef;

use super::{
    LoadedRun, RunError, append_events, ensure_supported, find_mission_run, get_or_start_locked,
};
use crate::clock::{Clock, isoformat};
use crate::mission::action_context::{
    Action, ActionContext, ActionRequest, mission_facts, resolve_action_context,
};
use crate::repo::Repo;
use crate::write::{Scope, WriteTransaction};

/// What `next` decided, and the context it resolved for the decided action.
#[derive(Debug, Clone, PartialEq)]
pub struct NextOutcome {
    /// The planner's answer.
    pub next: NextStep,
    /// The context of the decided action (the mission-level `status` context when the decision
    /// is blocked or terminal).
    pub context: ActionContext,
    /// The mission's run: the existing one in query mode (`None` when it has none), the one
    /// advanced in advancing mode.
    pub run: Option<MissionRunRef>,
    /// Whether advancing started the run.
    pub started: bool,
    /// Work-package counts.
    pub progress: Option<Progress>,
    /// Whether this was a query (nothing written).
    pub is_query: bool,
    /// When the decision was made.
    pub timestamp: String,
}

/// Resolves the mission-level context and checks the mission type.
fn mission_context(
    repo: &Repo,
    handle: &str,
    agent: Option<&str>,
) -> Result<ActionContext, RunError> {
    let context = resolve_action_context(
        repo,
        &ActionRequest {
            mission: handle,
            action: Action::Status,
            wp_id: None,
            agent,
        },
    )?;
    ensure_supported(&context)?;
    Ok(context)
}

/// Resolves the context of the decided action through the same resolver.
fn decided_context(
    repo: &Repo,
    base: &ActionContext,
    next: &NextStep,
) -> Result<ActionContext, RunError> {
    let Some(step) = next.step_id() else {
        return Ok(base.clone());
    };
    let action = Action::parse(step)?;
    Ok(resolve_action_context(
        repo,
        &ActionRequest {
            mission: &base.mission_slug,
            action,
            wp_id: next.wp_id.as_deref(),
            agent: base.agent.as_deref(),
        },
    )?)
}

/// Returns the mission's next action without writing anything: not the index, not a run, not
/// the lock file. The existing run is read when there is one (a blocked run stays blocked).
pub fn query_next(
    repo: &Repo,
    handle: &str,
    agent: Option<&str>,
    clock: &dyn Clock,
) -> Result<NextOutcome, RunError> {
    let base = mission_context(repo, handle, agent)?;
    let facts = mission_facts(repo, &base)?;
    let run = find_mission_run(&base.runtime, &base.mission_slug)?;
    let next = plan_next(&facts, run.as_ref().map(|run| &run.snapshot));
    let context = decided_context(repo, &base, &next)?;
    Ok(NextOutcome {
        progress: progress(&facts),
        run: run.map(|run| run.run),
        started: false,
        is_query: true,
        timestamp: isoformat(clock.now()),
        next,
        context,
    })
}

/// Reports `result` for the step the run issued, then issues the next step: starts the
/// mission's run when it has none, and writes the snapshot and the events under the runtime
/// lock.
pub fn advance_next(
    repo: &Repo,
    handle: &str,
    agent: &str,
    result: StepResult,
    clock: &dyn Clock,
) -> Result<NextOutcome, RunError> {
    let base = mission_context(repo, handle, Some(agent))?;
    let facts = mission_facts(repo, &base)?;
    let mut transaction = WriteTransaction::begin(repo, Scope::Runtime, "next")?;
    let (
        LoadedRun {
            run,
            snapshot,
            files,
        },
        started,
    ) = get_or_start_locked(&mut transaction, &base, clock)?;
    let timestamp = isoformat(clock.now());
    let advanced = advance(&snapshot, &facts, agent, result, &timestamp);
    // Resolved before anything is written, so a context error leaves the run as it was.
    let context = decided_context(repo, &base, &advanced.next)?;
    append_events(&mut transaction, &files.events(), &advanced.events)?;
    if advanced.snapshot != snapshot {
        transaction.write_file(
            &files.state(),
            advanced.snapshot.to_json_string().as_bytes(),
        )?;
    }
    transaction.finish()?;
    let next = advanced.next;
    debug_assert!(next.kind != PlanKind::Step || advanced.snapshot.issued_step_id.is_some());
    Ok(NextOutcome {
        progress: progress(&facts),
        run: Some(run),
        started,
        is_query: false,
        timestamp,
        next,
        context,
    })
}
