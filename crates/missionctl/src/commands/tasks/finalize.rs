//! `missionctl tasks finalize --mission <handle> [--validate-only]`: check, seed, lanes, commit.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::planning::tasks_finalize::{
    FinalizeError, FinalizeOptions, FinalizeReport, finalize_tasks,
};
use serde::Serialize;

use crate::cli::MissionOrPositional;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl tasks finalize`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Check the plan and report what would be done\n  missionctl tasks finalize -m invoice-export --validate-only\n\n  # Seed the work packages, compute lanes.json and commit the plan\n  missionctl tasks finalize -m invoice-export"
)]
pub(crate) struct TasksFinalizeArgs {
    /// The mission (`--mission`, or the older positional form)
    #[command(flatten)]
    mission: MissionOrPositional,
    /// Check and report what would be done; write nothing
    #[arg(long)]
    validate_only: bool,
}

/// The `data` of a refused finalize: every problem, with its file, line and field.
#[derive(Debug, Serialize)]
struct ProblemsData<'a> {
    mission_slug: &'a str,
    problems: &'a [missionctl_core::task_plan::PlanFinding],
}

/// Finalizes the mission's work packages and reports what was done.
pub(crate) fn cmd_tasks_finalize(ui: &mut Ui, args: &TasksFinalizeArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let protected = workspace::protected_branches(&repo);
    let options = FinalizeOptions {
        validate_only: args.validate_only,
        protected_branches: &protected,
    };
    let report = match finalize_tasks(&repo, args.mission.handle()?, &options, &SystemClock) {
        Ok(report) => report,
        Err(FinalizeError::Invalid {
            mission_slug,
            findings,
        }) => {
            let count = findings.len();
            let data = ProblemsData {
                mission_slug: &mission_slug,
                problems: &findings,
            };
            ui.emit(&data, String::new)?;
            let mut error = CliError::user(
                "TASKS_INVALID",
                format!(
                    "{} in the work packages of `{mission_slug}`",
                    if count == 1 {
                        "1 problem".to_owned()
                    } else {
                        format!("{count} problems")
                    }
                ),
            )
            .with_hint(
                "Fix the front matter at the lines given, then run `tasks finalize` again; \
                 nothing was written"
                    .to_owned(),
            );
            error.sources = findings
                .iter()
                .map(|finding| format!("{finding} ({})", finding.code))
                .collect();
            return Err(error);
        }
        Err(error) => return Err(error.into()),
    };
    ui.emit(&report, || render(&report))
}

fn render(report: &FinalizeReport) -> String {
    let mut text = String::new();
    let verb = |done: &'static str, would: &'static str| {
        if report.validate_only { would } else { done }
    };
    let _ = writeln!(
        text,
        "{} `{}` on `{}` ({}): {} work package{}",
        verb("Finalized", "Checked"),
        report.mission_slug,
        report.planning_branch,
        report.topology,
        report.work_packages.len(),
        if report.work_packages.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if report.is_noop() {
        let _ = writeln!(
            text,
            "Nothing to {}: every work package is seeded and the plan is committed",
            verb("do", "do")
        );
    } else {
        if !report.seeded.is_empty() {
            let _ = writeln!(
                text,
                "{} genesis -> planned: {}",
                verb("Seeded", "Would seed"),
                report.seeded.join(", ")
            );
        }
        if report.lanes_changed {
            let _ = writeln!(text, "{} lanes.json", verb("Wrote", "Would write"));
        }
        if !report.committed_paths.is_empty() {
            let commit = report
                .planning_commit
                .as_deref()
                .map(|sha| format!(" as {}", sha.get(..12).unwrap_or(sha)))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "{} {} planning file{}{commit}",
                verb("Committed", "Would commit"),
                report.committed_paths.len(),
                if report.committed_paths.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
    }
    if let Some(lanes) = &report.lanes {
        for lane in &lanes.lanes {
            let after = if lane.depends_on_lanes.is_empty() {
                String::new()
            } else {
                format!("  after {}", lane.depends_on_lanes.join(", "))
            };
            let _ = writeln!(
                text,
                "  {:<13} {}{after}",
                lane.lane_id,
                lane.wp_ids.join(", ")
            );
        }
    }
    if let Some(coverage) = &report.requirement_coverage {
        let _ = writeln!(
            text,
            "Requirements: {}/{} functional requirements mapped to work packages",
            coverage.mapped_functional, coverage.total_functional
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    if report.validate_only {
        let _ = writeln!(text, "Nothing was written (--validate-only)");
    }
    text
}
