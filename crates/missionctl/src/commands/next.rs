//! `missionctl next --mission <MISSION> [--agent A] [--result success|failure|blocked]`: the
//! mission's next action, as Spec Kitty's `next --json` decision.
//!
//! Without `--result` it is a query: Spec Kitty's answer, and nothing written at all; with
//! `--result` it reports the result of the step the agent was given, starting the mission's run
//! when it has none, and issues the next step.

use clap::{Args, ValueEnum};
use missionctl_core::next::{Decision, DecisionKind, StepResult};
use missionctl_store::clock::SystemClock;
use missionctl_store::runtime::{advance_next, query_next};

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
    let repo = if result.is_some() {
        workspace::discover_repo_for_writing()?
    } else {
        workspace::discover_repo()?
    };
    let search = workspace::template_search();
    // Execute.
    let outcome = match (result, agent.as_deref()) {
        (Some(result), Some(agent)) => {
            advance_next(&repo, &args.mission, agent, result, &search, &SystemClock)?
        }
        _ => query_next(
            &repo,
            &args.mission,
            agent.as_deref(),
            &search,
            &SystemClock,
        )?,
    };
    let decision = outcome.decision;
    let gate = outcome.gate;
    ui.emit(&decision, || {
        let mut text = render(&decision, outcome.started);
        if let Some(gate) = &gate {
            // missionctl's own, in the text only: `--json` stays Spec Kitty's decision.
            text.push_str(&format!("  waits for  {}: {}\n", gate.gate, gate.reason));
            text.push_str(&format!("  run        {}\n", gate.command));
        }
        text
    })
}

fn render(data: &Decision, started: bool) -> String {
    let mut out = String::new();
    let what = match (data.mission_state.as_str(), data.wp_id.as_deref()) {
        (state, Some(wp_id)) => format!("{state} {wp_id}"),
        (state, None) => state.to_owned(),
    };
    let run = data.run_id.as_deref().unwrap_or("?");
    let headline = match data.kind {
        DecisionKind::Query => format!("{}: {what}\n", data.mission_slug),
        DecisionKind::Step => format!(
            "{}: {what} (issued to {} in run {run}{})\n",
            data.mission_slug,
            data.agent.as_deref().unwrap_or("?"),
            if started { ", just started" } else { "" }
        ),
        kind => format!("{}: {} at {what}\n", data.mission_slug, kind.as_str()),
    };
    out.push_str(&headline);
    if let Some(reason) = &data.reason {
        out.push_str(&format!("  reason     {reason}\n"));
    }
    if let Some(step) = &data.preview_step {
        out.push_str(&format!("  next step  {step}\n"));
    }
    if let Some(question) = &data.question {
        out.push_str(&format!("  question   {question}\n"));
    }
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
            "  progress   {}/{} done, {} approved, {} in review, {} in progress, {} planned",
            progress.done_wps,
            progress.total_wps,
            progress.approved_wps,
            progress.for_review_wps,
            progress.in_progress_wps,
            progress.planned_wps
        ));
        if let Some(percentage) = progress.weighted_percentage {
            out.push_str(&format!(" ({percentage:.1}% weighted)"));
        }
        out.push('\n');
    }
    if data.kind == DecisionKind::Query
        && !matches!(data.mission_state.as_str(), "done" | "blocked")
    {
        out.push_str(&format!(
            "To advance: missionctl next --mission {} --agent <you> --result success\n",
            data.mission_slug
        ));
    }
    out
}
