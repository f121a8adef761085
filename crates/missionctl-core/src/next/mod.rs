//! What a mission's next action is, and how reporting a step's result advances a run: the pure
//! planner behind `missionctl next`.
//!
//! The mission's state is derived from facts the shell gathers ([`MissionFacts`]: the planning
//! artifacts, the work packages' lanes from the status log, whether the mission was accepted),
//! never from the run alone, so a query and an advance looking at the same repository always
//! agree on the state. The run adds what only it knows: that the previous step failed (the run
//! is blocked) and that acceptance was reported. The states follow the `software-dev` mission
//! template's steps:
//!
//! | state | until |
//! |---|---|
//! | `specify` | `spec.md` has a functional requirement with content |
//! | `plan` | `plan.md` has a filled-in `## Technical Context` |
//! | `tasks` | `tasks.md` and at least one `tasks/WP*.md` exist, and every work package has a status event (is finalized) |
//! | `implement WPxx` | no work package is `planned` (with its dependencies approved), `claimed` or `in_progress` |
//! | `review WPxx` | no work package is `for_review` or `in_review` |
//! | `accept` | the mission is accepted (`meta.json` records it, or the run's `accept` step succeeded) |
//! | `done` | terminal |
//!
//! A work package that is `blocked`, or `planned` behind a dependency that is not approved yet,
//! is never handed out; when nothing else is left the decision is `blocked` and says why.

use serde::Serialize;

use crate::mission::run::{MissionRunSnapshot, RunEvent};
use crate::status::lane::Lane;

pub mod decision;
pub mod query;

pub use decision::{Decision, DecisionIdentity, DecisionKind, Progress};

/// The steps of the built-in `software-dev` mission template (Spec Kitty 3.2.7's), in order.
pub const TEMPLATE_STEPS: [&str; 7] = [
    "discovery",
    "specify",
    "plan",
    "tasks",
    "implement",
    "review",
    "accept",
];

/// A mission's state: the step it is at, or `done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionState {
    /// Write the specification.
    Specify,
    /// Write the plan.
    Plan,
    /// Break the plan into work packages and finalize them.
    Tasks,
    /// Implement a work package.
    Implement,
    /// Review a work package.
    Review,
    /// Accept the mission.
    Accept,
    /// Nothing left to do.
    Done,
}

impl MissionState {
    /// Every state, in order.
    pub const ALL: [MissionState; 7] = [
        MissionState::Specify,
        MissionState::Plan,
        MissionState::Tasks,
        MissionState::Implement,
        MissionState::Review,
        MissionState::Accept,
        MissionState::Done,
    ];

    /// Returns the wire string (`specify`, …, `done`).
    pub const fn as_str(self) -> &'static str {
        match self {
            MissionState::Specify => "specify",
            MissionState::Plan => "plan",
            MissionState::Tasks => "tasks",
            MissionState::Implement => "implement",
            MissionState::Review => "review",
            MissionState::Accept => "accept",
            MissionState::Done => "done",
        }
    }

    /// Returns the template step of the state (`None` for `done`).
    pub const fn step_id(self) -> Option<&'static str> {
        match self {
            MissionState::Done => None,
            other => Some(other.as_str()),
        }
    }

    /// Returns true for the states that act on one work package.
    pub const fn is_work_package_step(self) -> bool {
        matches!(self, MissionState::Implement | MissionState::Review)
    }
}

/// What the shell knows about one work package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkPackageFacts {
    /// The work package, `WPxx`.
    pub wp_id: String,
    /// Its lane from the status log (`uninitialized` when it has no transition).
    pub lane: Lane,
    /// The work packages it depends on (from its front matter).
    pub dependencies: Vec<String>,
    /// Whether a `tasks/WPxx-*.md` file defines it.
    pub has_file: bool,
    /// Whether the status log has a transition for it (it was finalized).
    pub has_status: bool,
}

/// Everything the planner needs to know about a mission, gathered by the shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MissionFacts {
    /// The text of `spec.md`, when it exists.
    pub spec: Option<String>,
    /// The text of `plan.md`, when it exists.
    pub plan: Option<String>,
    /// Whether `tasks.md` exists.
    pub tasks_md: bool,
    /// The work packages, sorted by id.
    pub work_packages: Vec<WorkPackageFacts>,
    /// Whether `meta.json` records an acceptance (`accepted_at` or `accept_commit`).
    pub accepted: bool,
}

/// The result an agent reports for the step it was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepResult {
    /// The step is done.
    Success,
    /// The step failed; the run blocks until someone intervenes.
    Failed,
    /// The agent cannot go on; the run blocks.
    Blocked,
}

impl StepResult {
    /// Returns the wire string Spec Kitty records (`success`, `failed`, `blocked`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StepResult::Success => "success",
            StepResult::Failed => "failed",
            StepResult::Blocked => "blocked",
        }
    }
}

/// What kind of answer a plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// A step to do.
    Step,
    /// Nothing can be done until someone intervenes.
    Blocked,
    /// The mission is done.
    Terminal,
}

/// The planner's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    /// Step, blocked or terminal.
    pub kind: PlanKind,
    /// The mission's state (for a blocked plan: the state it is stuck in).
    pub mission_state: MissionState,
    /// The work package of an `implement` or `review` step.
    pub wp_id: Option<String>,
    /// What is still missing before the state's step is complete.
    pub guard_failures: Vec<String>,
    /// Why the plan is blocked or terminal.
    pub reason: Option<String>,
}

impl NextStep {
    /// Returns the template step to issue (`None` unless the plan is a step).
    pub fn step_id(&self) -> Option<&'static str> {
        match self.kind {
            PlanKind::Step => self.mission_state.step_id(),
            PlanKind::Blocked | PlanKind::Terminal => None,
        }
    }
}

/// Returns the mission's next step, from its facts and (when there is one) its run.
pub fn plan_next(facts: &MissionFacts, run: Option<&MissionRunSnapshot>) -> NextStep {
    let accepted = facts.accepted
        || run.is_some_and(|run| run.completed_steps.iter().any(|step| step == "accept"));
    let derived = derive(facts, accepted);
    match run.and_then(|run| run.blocked_reason.as_ref()) {
        Some(reason) if derived.kind != PlanKind::Terminal => NextStep {
            kind: PlanKind::Blocked,
            wp_id: None,
            reason: Some(reason.clone()),
            ..derived
        },
        _ => derived,
    }
}

fn step(state: MissionState, guard_failures: Vec<String>) -> NextStep {
    NextStep {
        kind: PlanKind::Step,
        mission_state: state,
        wp_id: None,
        guard_failures,
        reason: None,
    }
}

fn derive(facts: &MissionFacts, accepted: bool) -> NextStep {
    let failures = spec_failures(facts.spec.as_deref());
    if !failures.is_empty() {
        return step(MissionState::Specify, failures);
    }
    let failures = plan_failures(facts.plan.as_deref());
    if !failures.is_empty() {
        return step(MissionState::Plan, failures);
    }
    let failures = tasks_failures(facts);
    if !failures.is_empty() {
        return step(MissionState::Tasks, failures);
    }
    let wps = &facts.work_packages;
    let lane_of = |id: &str| wps.iter().find(|wp| wp.wp_id == id).map(|wp| wp.lane);
    let ready = |wp: &&WorkPackageFacts| {
        wp.dependencies.iter().all(|dependency| {
            matches!(
                lane_of(dependency),
                Some(Lane::Approved | Lane::Done | Lane::Canceled)
            )
        })
    };
    let first = |lanes: &[Lane]| wps.iter().find(|wp| lanes.contains(&wp.lane));
    let pick = wps
        .iter()
        .filter(|wp| matches!(wp.lane, Lane::Planned | Lane::Uninitialized))
        .find(ready)
        .map(|wp| (MissionState::Implement, wp))
        .or_else(|| {
            first(&[Lane::Claimed, Lane::InProgress]).map(|wp| (MissionState::Implement, wp))
        })
        .or_else(|| first(&[Lane::ForReview]).map(|wp| (MissionState::Review, wp)))
        .or_else(|| first(&[Lane::InReview]).map(|wp| (MissionState::Review, wp)));
    if let Some((state, wp)) = pick {
        return NextStep {
            wp_id: Some(wp.wp_id.clone()),
            ..step(state, Vec::new())
        };
    }
    let stuck: Vec<String> = wps
        .iter()
        .filter_map(|wp| match wp.lane {
            Lane::Blocked => Some(format!("{} is blocked", wp.wp_id)),
            Lane::Planned | Lane::Uninitialized => {
                let waiting: Vec<&str> = wp
                    .dependencies
                    .iter()
                    .filter(|dependency| {
                        !matches!(
                            lane_of(dependency),
                            Some(Lane::Approved | Lane::Done | Lane::Canceled)
                        )
                    })
                    .map(String::as_str)
                    .collect();
                Some(format!("{} waits for {}", wp.wp_id, waiting.join(", ")))
            }
            _ => None,
        })
        .collect();
    if !stuck.is_empty() {
        return NextStep {
            kind: PlanKind::Blocked,
            reason: Some(format!(
                "No work package can be picked up: {}",
                stuck.join("; ")
            )),
            ..step(MissionState::Implement, Vec::new())
        };
    }
    if !accepted {
        return step(MissionState::Accept, Vec::new());
    }
    let all_done = wps
        .iter()
        .all(|wp| matches!(wp.lane, Lane::Done | Lane::Canceled));
    NextStep {
        kind: PlanKind::Terminal,
        reason: Some(if all_done {
            "All work packages are done".to_owned()
        } else {
            "Mission accepted; every work package is approved or done".to_owned()
        }),
        ..step(MissionState::Done, Vec::new())
    }
}

fn spec_failures(spec: Option<&str>) -> Vec<String> {
    match spec {
        None => vec!["Required artifact missing: spec.md".to_owned()],
        Some(text) if !is_substantive_spec(text) => vec![
            "spec.md has no functional requirement with content (a `FR-001` table row or bullet)"
                .to_owned(),
        ],
        Some(_) => Vec::new(),
    }
}

fn plan_failures(plan: Option<&str>) -> Vec<String> {
    match plan {
        None => vec!["Required artifact missing: plan.md".to_owned()],
        Some(text) if !is_substantive_plan(text) => vec![
            "plan.md needs a `## Technical Context` with `**Language/Version**:` and one more \
             field filled in"
                .to_owned(),
        ],
        Some(_) => Vec::new(),
    }
}

fn tasks_failures(facts: &MissionFacts) -> Vec<String> {
    let mut failures = Vec::new();
    if !facts.tasks_md {
        failures.push("Required artifact missing: tasks.md".to_owned());
    }
    if !facts.work_packages.iter().any(|wp| wp.has_file) {
        failures.push("Required: at least one tasks/WP*.md file".to_owned());
    }
    let unfinalized: Vec<&str> = facts
        .work_packages
        .iter()
        .filter(|wp| wp.has_file && !wp.has_status)
        .map(|wp| wp.wp_id.as_str())
        .collect();
    if !unfinalized.is_empty() {
        failures.push(format!(
            "Not finalized (no status event yet): {}",
            unfinalized.join(", ")
        ));
    }
    failures
}

/// Returns the text with every `[…]` placeholder removed and Markdown emphasis dropped.
fn strip_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for ch in text.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '*' | '_' | '`' => {}
            other if depth == 0 => out.push(other),
            _ => {}
        }
    }
    out
}

/// Returns true when a cell or bullet holds real content: words left after the placeholders are
/// removed, and not only the residue of the user-story template ("As a , I want so that").
fn is_real_content(text: &str) -> bool {
    const RESIDUE: [&str; 8] = ["as", "a", "an", "i", "want", "so", "that", "to"];
    let stripped = strip_placeholders(text);
    let words: Vec<String> = stripped
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    !words.is_empty() && !words.iter().all(|word| RESIDUE.contains(&word.as_str()))
}

/// Returns the `FR-###` id at the start of a text (after emphasis), if any.
fn starts_with_requirement_id(text: &str) -> Option<usize> {
    let trimmed = text.trim_start_matches(['*', '_', ' ']);
    let digits = trimmed.strip_prefix("FR-")?;
    let count = digits.bytes().take_while(u8::is_ascii_digit).count();
    (count > 0).then_some(text.len() - digits.len() + count)
}

/// Returns true when `spec.md` has at least one functional requirement with content: a table row
/// `| FR-001 | title | description |` whose title or description is not a placeholder, or a
/// bullet `- FR-001: …` / `- **FR-001**: …` with content.
pub fn is_substantive_spec(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if let Some(row) = line.strip_prefix('|') {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            return cells
                .first()
                .is_some_and(|cell| starts_with_requirement_id(cell).is_some())
                && cells
                    .iter()
                    .skip(1)
                    .take(2)
                    .any(|cell| is_real_content(cell));
        }
        let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) else {
            return false;
        };
        match starts_with_requirement_id(item) {
            Some(end) => {
                let rest = item[end..].trim_start_matches(['*', '_']);
                rest.strip_prefix(':').is_some_and(is_real_content)
            }
            None => false,
        }
    })
}

/// Returns true when `plan.md` has a `## Technical Context` section with a real
/// `**Language/Version**:` value and at least one other `**Field**: value` with content.
pub fn is_substantive_plan(text: &str) -> bool {
    let mut in_section = false;
    let mut language = false;
    let mut others = 0usize;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            in_section = heading.trim().eq_ignore_ascii_case("technical context");
            continue;
        }
        if !in_section {
            continue;
        }
        let item = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
            .unwrap_or(trimmed);
        let Some(rest) = item.strip_prefix("**") else {
            continue;
        };
        let Some((field, value)) = rest.split_once("**:") else {
            continue;
        };
        if !is_real_content(value) {
            continue;
        }
        if field.trim().eq_ignore_ascii_case("language/version") {
            language = true;
        } else {
            others += 1;
        }
    }
    language && others > 0
}

/// What reporting a result did to a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Advanced {
    /// The run's new snapshot.
    pub snapshot: MissionRunSnapshot,
    /// The events to append, in order.
    pub events: Vec<RunEvent>,
    /// The next step, now issued when it is a step.
    pub next: NextStep,
}

/// Applies an agent's report to a run and issues the next step.
///
/// With a step issued: `success` completes it once the mission has moved past it (a step whose
/// guard still fails is issued again, with its guard failures), `failed` and `blocked` block
/// the run. With nothing issued, `success` clears a block (the agent reports the intervention
/// done) and `failed` or `blocked` block the run. Every template step before the newly issued
/// one is recorded as completed, so the run reads the same to Spec Kitty's planner.
///
/// `steps` are the ids of the run's template, in order. A state is issued as the template's
/// step of that id, or the first not yet completed step named `<state>_…` (a template that
/// splits `tasks` into `tasks_outline`, `tasks_packages` and `tasks_finalize`); a state the
/// template has no step for blocks the run.
pub fn advance(
    run: &MissionRunSnapshot,
    steps: &[String],
    facts: &MissionFacts,
    agent: &str,
    result: StepResult,
    timestamp: &str,
) -> Advanced {
    let mut snapshot = run.clone();
    let mut events = Vec::new();
    let run_id = run.run_id.clone();
    match (snapshot.issued_step_id.take(), result) {
        (Some(step), StepResult::Success) => {
            events.push(RunEvent::next_step_auto_completed(
                &run_id,
                agent,
                &step,
                result.as_str(),
                timestamp,
            ));
            if step == "accept" {
                complete_through(&mut snapshot, steps, steps.len());
            }
        }
        (Some(step), StepResult::Failed | StepResult::Blocked) => {
            events.push(RunEvent::next_step_auto_completed(
                &run_id,
                agent,
                &step,
                result.as_str(),
                timestamp,
            ));
            snapshot.blocked_reason = Some(if result == StepResult::Failed {
                format!("Previous step '{step}' failed; manual intervention required.")
            } else {
                format!("Previous step '{step}' reported blocked state.")
            });
        }
        (None, StepResult::Success) => snapshot.blocked_reason = None,
        (None, StepResult::Failed | StepResult::Blocked) => {
            if snapshot.blocked_reason.is_none() {
                snapshot.blocked_reason = Some(format!(
                    "Agent '{agent}' reported {} with no step issued; manual intervention required.",
                    result.as_str()
                ));
            }
        }
    }
    let mut next = plan_next(facts, Some(&snapshot));
    match next.kind {
        PlanKind::Step => {
            match template_step(next.mission_state, steps, &snapshot.completed_steps) {
                Some((index, step_id)) => {
                    complete_through(&mut snapshot, steps, index);
                    snapshot.issued_step_id = Some(step_id.to_owned());
                    events.push(RunEvent::next_step_issued(
                        &run_id, agent, step_id, timestamp,
                    ));
                }
                None => {
                    next = NextStep {
                        kind: PlanKind::Blocked,
                        wp_id: None,
                        reason: Some(format!(
                            "The run's template has no `{}` step",
                            next.mission_state.as_str()
                        )),
                        ..next
                    };
                }
            }
        }
        PlanKind::Terminal => complete_through(&mut snapshot, steps, steps.len()),
        PlanKind::Blocked => {}
    }
    Advanced {
        snapshot,
        events,
        next,
    }
}

/// Returns the template step (index and id) that issues a state: the step of that id, else
/// the first `<state>_…` step not completed yet (the first one when all are).
fn template_step<'a>(
    state: MissionState,
    steps: &'a [String],
    completed: &[String],
) -> Option<(usize, &'a str)> {
    let name = state.as_str();
    let named = |id: &str| {
        id == name
            || id
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('_'))
    };
    if let Some(exact) = steps.iter().position(|id| id == name) {
        return Some((exact, name));
    }
    let mut matching = steps
        .iter()
        .enumerate()
        .filter(|(_, id)| named(id))
        .map(|(index, id)| (index, id.as_str()));
    let first = matching.clone().next();
    matching
        .find(|(_, id)| !completed.iter().any(|done| done == id))
        .or(first)
}

/// Records every template step before `end` as completed, keeping the recorded order.
fn complete_through(snapshot: &mut MissionRunSnapshot, steps: &[String], end: usize) {
    for step in steps.iter().take(end) {
        if !snapshot.completed_steps.iter().any(|done| done == step) {
            snapshot.completed_steps.push(step.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "## Requirements\n\n| ID | Title | Description |\n|----|----|----|\n| FR-001 | Add a task | The CLI adds a task |\n";
    const PLAN: &str = "# Plan\n\n## Technical Context\n\n**Language/Version**: Rust 1.89\n**Storage**: a JSON file\n\n## Other\n";

    fn wp(id: &str, lane: Lane, dependencies: &[&str]) -> WorkPackageFacts {
        WorkPackageFacts {
            wp_id: id.to_owned(),
            lane,
            dependencies: dependencies.iter().map(|d| (*d).to_owned()).collect(),
            has_file: true,
            has_status: lane != Lane::Uninitialized,
        }
    }

    fn planned_mission(wps: Vec<WorkPackageFacts>) -> MissionFacts {
        MissionFacts {
            spec: Some(SPEC.to_owned()),
            plan: Some(PLAN.to_owned()),
            tasks_md: true,
            work_packages: wps,
            accepted: false,
        }
    }

    fn steps() -> Vec<String> {
        TEMPLATE_STEPS
            .iter()
            .map(|step| (*step).to_owned())
            .collect()
    }

    fn run() -> MissionRunSnapshot {
        MissionRunSnapshot::new_run("r", "software-dev", "p", "h", Some("ID"), "m")
    }

    #[test]
    fn spec_substance_follows_spec_kittys_rule() {
        assert!(is_substantive_spec(SPEC));
        assert!(is_substantive_spec("- FR-002: Export to CSV\n"));
        assert!(is_substantive_spec("* **FR-003**: Import tasks\n"));
        assert!(!is_substantive_spec(
            "| FR-001 | [title] | [description] |\n"
        ));
        assert!(!is_substantive_spec(
            "- FR-001: As a [role], I want [goal] so that [benefit]\n"
        ));
        assert!(!is_substantive_spec(
            "- FR-001: [NEEDS CLARIFICATION: what]\n"
        ));
        assert!(!is_substantive_spec("The tool adds tasks.\n"));
    }

    #[test]
    fn plan_substance_needs_language_and_one_more_field() {
        assert!(is_substantive_plan(PLAN));
        assert!(is_substantive_plan(
            "## Technical Context\n- **Language/Version**: Python 3.11\n- **Testing**: pytest\n"
        ));
        assert!(!is_substantive_plan(
            "## Technical Context\n**Language/Version**: [e.g., Python 3.11]\n**Storage**: files\n"
        ));
        assert!(!is_substantive_plan(
            "## Technical Context\n**Language/Version**: Rust\n"
        ));
        assert!(!is_substantive_plan(
            "**Language/Version**: Rust\n**Storage**: files\n"
        ));
    }

    #[test]
    fn planning_states_come_in_order_with_their_guard_failures() {
        let mut facts = MissionFacts::default();
        let next = plan_next(&facts, None);
        assert_eq!(next.mission_state, MissionState::Specify);
        assert_eq!(next.guard_failures, ["Required artifact missing: spec.md"]);
        facts.spec = Some(SPEC.to_owned());
        assert_eq!(plan_next(&facts, None).mission_state, MissionState::Plan);
        facts.plan = Some(PLAN.to_owned());
        let next = plan_next(&facts, None);
        assert_eq!(next.mission_state, MissionState::Tasks);
        assert_eq!(next.guard_failures.len(), 2);
        facts.tasks_md = true;
        facts.work_packages = vec![wp("WP01", Lane::Uninitialized, &[])];
        assert_eq!(
            plan_next(&facts, None).guard_failures,
            ["Not finalized (no status event yet): WP01"]
        );
    }

    #[test]
    fn work_packages_are_handed_out_like_spec_kitty_does() {
        let cases = [
            (
                vec![
                    wp("WP01", Lane::Planned, &[]),
                    wp("WP02", Lane::Planned, &[]),
                ],
                (MissionState::Implement, Some("WP01")),
            ),
            (
                vec![
                    wp("WP01", Lane::ForReview, &[]),
                    wp("WP02", Lane::Planned, &["WP01"]),
                    wp("WP03", Lane::InProgress, &[]),
                ],
                (MissionState::Implement, Some("WP03")),
            ),
            (
                vec![
                    wp("WP01", Lane::ForReview, &[]),
                    wp("WP02", Lane::Planned, &["WP01"]),
                ],
                (MissionState::Review, Some("WP01")),
            ),
            (
                vec![
                    wp("WP01", Lane::Approved, &[]),
                    wp("WP02", Lane::Planned, &["WP01"]),
                ],
                (MissionState::Implement, Some("WP02")),
            ),
            (
                vec![wp("WP01", Lane::InReview, &[]), wp("WP02", Lane::Done, &[])],
                (MissionState::Review, Some("WP01")),
            ),
            (
                vec![wp("WP01", Lane::Approved, &[]), wp("WP02", Lane::Done, &[])],
                (MissionState::Accept, None),
            ),
        ];
        for (wps, (state, wp_id)) in cases {
            let next = plan_next(&planned_mission(wps.clone()), None);
            assert_eq!(next.kind, PlanKind::Step, "{wps:?}");
            assert_eq!((next.mission_state, next.wp_id.as_deref()), (state, wp_id));
        }
    }

    #[test]
    fn stuck_work_packages_block_with_a_reason() {
        let facts = planned_mission(vec![
            wp("WP01", Lane::Blocked, &[]),
            wp("WP02", Lane::Planned, &["WP01"]),
            wp("WP03", Lane::Done, &[]),
        ]);
        let next = plan_next(&facts, None);
        assert_eq!(next.kind, PlanKind::Blocked);
        assert_eq!(
            next.reason.as_deref(),
            Some("No work package can be picked up: WP01 is blocked; WP02 waits for WP01")
        );
    }

    #[test]
    fn acceptance_ends_the_mission() {
        let mut facts = planned_mission(vec![wp("WP01", Lane::Done, &[])]);
        facts.accepted = true;
        let next = plan_next(&facts, None);
        assert_eq!(next.kind, PlanKind::Terminal);
        assert_eq!(next.mission_state, MissionState::Done);
        assert_eq!(next.reason.as_deref(), Some("All work packages are done"));
        assert_eq!(next.step_id(), None);
    }

    #[test]
    fn advancing_issues_completes_and_blocks() {
        let mut facts = MissionFacts::default();
        // A fresh run: nothing to complete, `specify` is issued.
        let first = advance(
            &run(),
            &steps(),
            &facts,
            "claude",
            StepResult::Success,
            "t1",
        );
        assert_eq!(first.snapshot.issued_step_id.as_deref(), Some("specify"));
        assert_eq!(first.snapshot.completed_steps, ["discovery"]);
        assert_eq!(first.events.len(), 1);
        assert_eq!(first.events[0].event_type, "NextStepIssued");

        // Success while the guard still fails: the same step again, not completed.
        let again = advance(
            &first.snapshot,
            &steps(),
            &facts,
            "claude",
            StepResult::Success,
            "t2",
        );
        assert_eq!(again.next.mission_state, MissionState::Specify);
        assert_eq!(again.snapshot.completed_steps, ["discovery"]);
        assert_eq!(
            again
                .events
                .iter()
                .map(|event| event.event_type.as_str())
                .collect::<Vec<_>>(),
            ["NextStepAutoCompleted", "NextStepIssued"]
        );

        // The spec is written: specify completes and plan is issued.
        facts.spec = Some(SPEC.to_owned());
        let planned = advance(
            &again.snapshot,
            &steps(),
            &facts,
            "claude",
            StepResult::Success,
            "t3",
        );
        assert_eq!(planned.snapshot.completed_steps, ["discovery", "specify"]);
        assert_eq!(planned.snapshot.issued_step_id.as_deref(), Some("plan"));

        // A failure blocks the run until a success is reported.
        let failed = advance(
            &planned.snapshot,
            &steps(),
            &facts,
            "claude",
            StepResult::Failed,
            "t4",
        );
        assert_eq!(failed.next.kind, PlanKind::Blocked);
        assert_eq!(failed.snapshot.issued_step_id, None);
        assert_eq!(
            failed.snapshot.blocked_reason.as_deref(),
            Some("Previous step 'plan' failed; manual intervention required.")
        );
        assert_eq!(
            plan_next(&facts, Some(&failed.snapshot)).kind,
            PlanKind::Blocked
        );
        let resumed = advance(
            &failed.snapshot,
            &steps(),
            &facts,
            "claude",
            StepResult::Success,
            "t5",
        );
        assert_eq!(resumed.snapshot.blocked_reason, None);
        assert_eq!(resumed.snapshot.issued_step_id.as_deref(), Some("plan"));
    }

    #[test]
    fn a_split_tasks_step_is_issued_part_by_part() {
        let split: Vec<String> = [
            "discovery",
            "specify",
            "plan",
            "tasks_outline",
            "tasks_packages",
            "tasks_finalize",
            "implement",
            "review",
            "accept",
        ]
        .iter()
        .map(|step| (*step).to_owned())
        .collect();
        let mut facts = planned_mission(Vec::new());
        facts.tasks_md = false;
        let issued = advance(&run(), &split, &facts, "claude", StepResult::Success, "t1");
        assert_eq!(
            issued.snapshot.issued_step_id.as_deref(),
            Some("tasks_outline")
        );
        assert_eq!(
            issued.snapshot.completed_steps,
            ["discovery", "specify", "plan"]
        );
        facts.tasks_md = true;
        facts.work_packages = vec![wp("WP01", Lane::Planned, &[])];
        let implement = advance(
            &issued.snapshot,
            &split,
            &facts,
            "claude",
            StepResult::Success,
            "t2",
        );
        assert_eq!(
            implement.snapshot.issued_step_id.as_deref(),
            Some("implement")
        );
        assert_eq!(implement.snapshot.completed_steps.len(), 6);
        // A template without the state's step blocks the run.
        let no_review: Vec<String> = split.iter().filter(|s| *s != "review").cloned().collect();
        facts.work_packages = vec![wp("WP01", Lane::ForReview, &[])];
        let blocked = advance(
            &implement.snapshot,
            &no_review,
            &facts,
            "claude",
            StepResult::Success,
            "t3",
        );
        assert_eq!(blocked.next.kind, PlanKind::Blocked);
        assert_eq!(
            blocked.next.reason.as_deref(),
            Some("The run's template has no `review` step")
        );
    }

    #[test]
    fn a_reported_acceptance_finishes_the_run() {
        let facts = planned_mission(vec![wp("WP01", Lane::Done, &[])]);
        let issued = advance(
            &run(),
            &steps(),
            &facts,
            "claude",
            StepResult::Success,
            "t1",
        );
        assert_eq!(issued.snapshot.issued_step_id.as_deref(), Some("accept"));
        assert_eq!(issued.snapshot.completed_steps.len(), 6);
        let done = advance(
            &issued.snapshot,
            &steps(),
            &facts,
            "claude",
            StepResult::Success,
            "t2",
        );
        assert_eq!(done.next.kind, PlanKind::Terminal);
        assert_eq!(done.snapshot.completed_steps, TEMPLATE_STEPS);
        assert_eq!(done.snapshot.issued_step_id, None);
        // The run now says `done` to a query too.
        assert_eq!(
            plan_next(&facts, Some(&done.snapshot)).mission_state,
            MissionState::Done
        );
    }
}
