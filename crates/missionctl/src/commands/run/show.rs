//! `missionctl run show <RUN_OR_MISSION>`: one run's state and events.

use clap::Args;
use missionctl_store::runtime::show_run;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl run show`.
#[derive(Debug, Args)]
pub(crate) struct RunShowArgs {
    /// A run id, or a mission: its ULID, mid8, directory name, slug or number
    #[arg(value_name = "RUN_OR_MISSION")]
    selector: String,
}

/// Shows a run, found by run id, by mission ULID through the index, or by mission handle.
pub(crate) fn cmd_run_show(ui: &mut Ui, args: &RunShowArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let data = show_run(&repo, &args.selector)?;
    ui.emit(&data, || {
        let text = |key: &str| {
            data.state
                .get(key)
                .and_then(|value| value.as_str())
                .unwrap_or("-")
                .to_owned()
        };
        let completed: Vec<&str> = data
            .state
            .get("completed_steps")
            .and_then(|value| value.as_array())
            .map(|steps| steps.iter().filter_map(|step| step.as_str()).collect())
            .unwrap_or_default();
        let mut out = format!(
            "run        {}\nmission    {} ({})\ntemplate   {}\ncompleted  {}\nissued     {}\nblocked    {}\ndirectory  {}\n",
            data.run.run_id,
            data.mission_slug.as_deref().unwrap_or("-"),
            text("mission_id"),
            text("mission_key"),
            if completed.is_empty() { "-".to_owned() } else { completed.join(", ") },
            text("issued_step_id"),
            text("blocked_reason"),
            data.run.run_dir,
        );
        out.push_str(&format!("events     {}\n", data.events.len()));
        for event in &data.events {
            out.push_str(&format!(
                "  {}  {}{}\n",
                event.timestamp,
                event.event_type,
                event
                    .step_id()
                    .map(|step| format!(" {step}"))
                    .unwrap_or_default()
            ));
        }
        for problem in &data.event_errors {
            out.push_str(&format!("  unreadable line {problem}\n"));
        }
        out
    })
}
