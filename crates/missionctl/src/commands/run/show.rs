//! `missionctl run show <RUN_OR_MISSION>` (or `--mission <MISSION>`): one run's state and events.

use clap::Args;
use missionctl_store::runtime::show_run;

use crate::cli::missing_mission;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl run show`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Show a mission's run\n  missionctl run show -m invoice-export\n\n  # Show a run by its id\n  missionctl run show 01KXKJ3Q3W5M6V7Y8Z9A0B1C2D"
)]
pub(crate) struct RunShowArgs {
    /// A run id, or a mission: its ULID, mid8, directory name, slug or number
    #[arg(
        value_name = "RUN_OR_MISSION",
        conflicts_with = "mission",
        required_unless_present = "mission"
    )]
    selector: Option<String>,
    /// The mission whose run to show: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
}

/// Shows a run, found by run id, by mission ULID through the index, or by mission handle.
pub(crate) fn cmd_run_show(ui: &mut Ui, args: &RunShowArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let selector = args
        .mission
        .as_deref()
        .or(args.selector.as_deref())
        .ok_or_else(missing_mission)?;
    let data = show_run(&repo, selector)?;
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
