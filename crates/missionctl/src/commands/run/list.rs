//! `missionctl run list`: every mission run of the repository.

use clap::Args;
use missionctl_store::runtime::{RunSummary, list_runs};
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl run list`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  # List the mission runs\n  missionctl run list")]
pub(crate) struct RunListArgs {}

/// The `data` of `run list --json`.
#[derive(Debug, Serialize)]
struct RunListData {
    runs: Vec<RunSummary>,
}

/// Lists the runs: the index's entries, then run directories it does not name.
pub(crate) fn cmd_run_list(ui: &mut Ui, _args: &RunListArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let data = RunListData {
        runs: list_runs(&repo)?,
    };
    ui.emit(&data, || {
        if data.runs.is_empty() {
            return "No mission runs yet; `missionctl next --mission <m> --agent <a> --result success` starts one\n"
                .to_owned();
        }
        let mut out = String::new();
        for run in &data.runs {
            let state = match (&run.problem, &run.blocked_reason, &run.issued_step_id) {
                (Some(problem), _, _) => format!("unreadable: {problem}"),
                (None, Some(reason), _) => format!("blocked: {reason}"),
                (None, None, Some(step)) => format!("issued {step}"),
                (None, None, None) => format!("{} steps completed", run.completed_steps.len()),
            };
            out.push_str(&format!(
                "{}  {}  {}{}\n",
                run.run_id,
                run.mission_slug.as_deref().unwrap_or("(unknown mission)"),
                state,
                if run.indexed { "" } else { "  (not in feature-runs.json)" }
            ));
        }
        out
    })
}
