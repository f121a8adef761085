//! `missionctl next --mission <handle> [--agent A] [--result success|failure|blocked]`: the
//! mission's next action, in the shape of Spec Kitty's `next --json` decision.
//!
//! Without `--result` it is a query and writes nothing at all; with `--result` it reports the
//! result of the step the agent was given, starting the mission's run when it has none, and
//! issues the next step.

use clap::{Args, ValueEnum};
use missionctl_core::next::{PlanKind, Progress, StepResult};
use missionctl_store::clock::SystemClock;
use missionctl_store::runtime::{BUILTIN_TEMPLATE_PATH, NextOutcome, advance_next, query_next};
use serde::Serialize;

use crate::command_error::{CliError, ErrorKind};
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl next`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # What to do next on a mission (writes nothing)\n  missionctl next -m invoice-export --agent claude\n\n  # Report that the step succeeded and take the next one\n  missionctl next -m invoice-export --agent claude --result success"
)]
pub(crate) struct NextArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// The agent asking (default: `MISSIONCTL_ACTOR`); required with `--result`
    #[arg(long, value_name = "AGENT")]
    agent: Option<String>,
    /// Report the result of the step you were given and take the next one (writes the run)
    #[arg(long, value_name = "RESULT", value_enum)]
    result: Option<ResultArg>,
}

/// The result an agent reports: the step is done, failed, or the agent cannot go on (the last
/// two block the run until a success is reported). Undocumented variants keep `--help` short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ResultArg {
    Success,
    #[value(alias = "failed")]
    Failure,
    Blocked,
}

impl ResultArg {
    fn to_step_result(self) -> StepResult {
        match self {
            ResultArg::Success => StepResult::Success,
            ResultArg::Failure => StepResult::Failed,
            ResultArg::Blocked => StepResult::Blocked,
        }
    }
}

/// Where the template of the decision came from.
#[derive(Debug, Serialize)]
struct Origin {
    mission_tier: &'static str,
    mission_path: &'static str,
}

/// The `data` of `next --json`: Spec Kitty's decision fields in its order, plus `mission_id`.
#[derive(Debug, Serialize)]
struct NextData {
    /// `query` (a step, shown only), `step` (a step, issued), `blocked` or `terminal`.
    kind: &'static str,
    agent: Option<String>,
    mission_slug: String,
    mission_id: String,
    /// The mission type.
    mission: String,
    mission_state: &'static str,
    timestamp: String,
    action: Option<&'static str>,
    wp_id: Option<String>,
    workspace_path: Option<String>,
    prompt_file: Option<String>,
    reason: Option<String>,
    guard_failures: Vec<String>,
    progress: Option<Progress>,
    origin: Origin,
    run_id: Option<String>,
    step_id: Option<&'static str>,
    decision_id: Option<String>,
    input_key: Option<String>,
    question: Option<String>,
    options: Option<Vec<String>>,
    is_query: bool,
    preview_step: Option<&'static str>,
}

impl NextData {
    fn from_outcome(outcome: &NextOutcome) -> NextData {
        let next = &outcome.next;
        let context = &outcome.context;
        let kind = match (next.kind, outcome.is_query) {
            (PlanKind::Step, true) => "query",
            (PlanKind::Step, false) => "step",
            (PlanKind::Blocked, _) => "blocked",
            (PlanKind::Terminal, _) => "terminal",
        };
        let work_package = context.work_package.as_ref();
        NextData {
            kind,
            agent: context.agent.clone(),
            mission_slug: context.mission_slug.clone(),
            mission_id: context.mission_id.clone(),
            mission: context.mission_type.clone(),
            mission_state: next.mission_state.as_str(),
            timestamp: outcome.timestamp.clone(),
            action: next.step_id(),
            wp_id: next.wp_id.clone(),
            workspace_path: work_package.map(|wp| wp.workspace_path.display().to_string()),
            prompt_file: work_package
                .and_then(|wp| wp.wp_file.as_ref())
                .map(|path| path.display().to_string()),
            reason: next.reason.clone(),
            guard_failures: next.guard_failures.clone(),
            progress: outcome.progress,
            origin: Origin {
                mission_tier: "builtin",
                mission_path: BUILTIN_TEMPLATE_PATH,
            },
            run_id: outcome.run.as_ref().map(|run| run.run_id.clone()),
            step_id: next.step_id(),
            decision_id: None,
            input_key: None,
            question: None,
            options: None,
            is_query: outcome.is_query,
            preview_step: next.step_id().filter(|_| outcome.is_query),
        }
    }
}

/// Shows or advances a mission's next action.
pub(crate) fn cmd_next(ui: &mut Ui, args: &NextArgs) -> Result<(), CliError> {
    // Resolve: the flags are checked before the repository is looked at.
    let agent = workspace::actor(args.agent.as_deref());
    let result = args.result.map(ResultArg::to_step_result);
    if result.is_some() && agent.is_none() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "AGENT_REQUIRED",
            "`--result` needs the agent reporting it",
        )
        .with_hint("Pass `--agent <name>` or set `MISSIONCTL_ACTOR`".to_owned()));
    }
    let repo = workspace::discover_repo()?;
    // Execute.
    let outcome = match (result, agent.as_deref()) {
        (Some(result), Some(agent)) => {
            advance_next(&repo, &args.mission, agent, result, &SystemClock)?
        }
        _ => query_next(&repo, &args.mission, agent.as_deref(), &SystemClock)?,
    };
    let data = NextData::from_outcome(&outcome);
    ui.emit(&data, || render(&data, outcome.started))
}

fn render(data: &NextData, started: bool) -> String {
    let mut out = String::new();
    let what = match (data.mission_state, data.wp_id.as_deref()) {
        (state, Some(wp_id)) => format!("{state} {wp_id}"),
        (state, None) => state.to_owned(),
    };
    let headline = match data.kind {
        "query" => format!("{}: {what}\n", data.mission_slug),
        "step" => format!(
            "{}: {what} (issued to {} in run {}{})\n",
            data.mission_slug,
            data.agent.as_deref().unwrap_or("?"),
            data.run_id.as_deref().unwrap_or("?"),
            if started { ", just started" } else { "" }
        ),
        kind => format!(
            "{}: {kind} at {what}: {}\n",
            data.mission_slug,
            data.reason.as_deref().unwrap_or("")
        ),
    };
    out.push_str(&headline);
    if let Some(path) = &data.workspace_path {
        out.push_str(&format!("  workspace  {path}\n"));
    }
    if let Some(path) = &data.prompt_file {
        out.push_str(&format!("  prompt     {path}\n"));
    }
    for failure in &data.guard_failures {
        out.push_str(&format!("  missing    {failure}\n"));
    }
    if let Some(progress) = &data.progress {
        out.push_str(&format!(
            "  progress   {}/{} done, {} approved, {} in review, {} in progress, {} planned\n",
            progress.done_wps,
            progress.total_wps,
            progress.approved_wps,
            progress.for_review_wps,
            progress.in_progress_wps,
            progress.planned_wps
        ));
    }
    if data.kind == "query" {
        out.push_str(&format!(
            "When it is done: missionctl next --mission {} --agent <you> --result success\n",
            data.mission_slug
        ));
    }
    out
}
