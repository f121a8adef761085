//! `missionctl tasks finalize --mission <MISSION> [--validate-only]`: check the plan as Spec
//! Kitty's `finalize-tasks` does, then seed, compute lanes and commit.

use std::fmt::Write as _;

use clap::Args;
use missionctl_core::planning::lanes_manifest::LanesManifest;
use missionctl_core::planning::task_plan::finalize::{LanesPreview, Refusal, ValidationReport};
use missionctl_store::clock::SystemClock;
use missionctl_store::planning::tasks_finalize::{
    FinalizeError, FinalizeOptions, FinalizeOutcome, FinalizeReport, finalize_tasks,
};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

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

/// The `data` of a refusal: Spec Kitty's fields, in its order, and the charter gate's report.
struct RefusalData<'a>(&'a Refusal);

impl Serialize for RefusalData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let refusal = self.0;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &refusal.data.0 {
            map.serialize_entry(key, value)?;
        }
        if let Some(report) = &refusal.report {
            map.serialize_entry("report", report)?;
        }
        map.end()
    }
}

/// Finalizes the mission's work packages and reports what was done.
pub(crate) fn cmd_tasks_finalize(ui: &mut Ui, args: &TasksFinalizeArgs) -> Result<(), CliError> {
    let repo = if args.validate_only {
        workspace::discover_repo()?
    } else {
        workspace::discover_repo_for_writing()?
    };
    let protected = workspace::protected_branches(&repo);
    let options = FinalizeOptions {
        validate_only: args.validate_only,
        protected_branches: &protected,
    };
    match finalize_tasks(&repo, args.mission.handle()?, &options, &SystemClock) {
        Ok(FinalizeOutcome::Validated(report)) => ui.emit(&report, || render_validation(&report)),
        Ok(FinalizeOutcome::Finalized(report)) => ui.emit(&report, || render(&report)),
        Err(FinalizeError::Refused(refusal)) => {
            ui.emit(&RefusalData(&refusal), || render_refusal(&refusal))?;
            Err(CliError::user(refusal.code, refusal.message.clone())
                .with_hint(refusal.hint.clone()))
        }
        Err(error) => Err(error.into()),
    }
}

/// The refusal's report and fields, for people (the error itself goes to stderr).
fn render_refusal(refusal: &Refusal) -> String {
    let mut text = refusal
        .report
        .clone()
        .map(|report| report + "\n")
        .unwrap_or_default();
    for line in details(refusal) {
        let _ = writeln!(text, "  {line}");
    }
    text
}

/// The refusal's fields as lines for people.
fn details(refusal: &Refusal) -> Vec<String> {
    let mut lines = Vec::new();
    for (key, value) in &refusal.data.0 {
        let label = key.replace('_', " ");
        match value {
            serde_json::Value::Array(items) if items.is_empty() => {}
            serde_json::Value::Array(items) => {
                for item in items {
                    match item {
                        serde_json::Value::String(text) => {
                            lines.push(format!("{label}: {}", text.replace('\n', "\n    ")));
                        }
                        other => lines.push(format!("{label}: {other}")),
                    }
                }
            }
            serde_json::Value::Object(map) if map.is_empty() => {}
            serde_json::Value::Object(map) => {
                for (inner, items) in map {
                    lines.push(format!("{label}: {inner}: {items}"));
                }
            }
            serde_json::Value::String(text) => lines.push(format!("{label}: {text}")),
            other => lines.push(format!("{label}: {other}")),
        }
    }
    lines
}

fn render_warnings(text: &mut String, report: &ValidationReport) {
    for warning in report
        .ownership_warnings
        .iter()
        .chain(&report.requirement_extraction_warnings)
        .chain(&report.post_integration_acceptance_warnings)
    {
        let _ = writeln!(text, "warning: {warning}");
    }
}

/// One line per lane: its id, work packages and the lanes it waits for.
fn render_lanes(text: &mut String, lanes: &LanesManifest, indent: &str) {
    for lane in &lanes.lanes {
        let after = if lane.depends_on_lanes.is_empty() {
            String::new()
        } else {
            format!("  after {}", lane.depends_on_lanes.join(", "))
        };
        let _ = writeln!(
            text,
            "{indent}{:<13} {}{after}",
            lane.lane_id,
            lane.wp_ids.join(", ")
        );
    }
}

fn render_validation(report: &ValidationReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "All validations passed for `{}` (--validate-only: nothing written)",
        report.mission_slug
    );
    let _ = writeln!(text, "  Work packages validated: {}", report.wp_count);
    let _ = writeln!(
        text,
        "  Front matter Spec Kitty would rewrite: {} work package{}, preserve: {}, unchanged: {}",
        report.would_modify.len(),
        if report.would_modify.len() == 1 {
            ""
        } else {
            "s"
        },
        report.would_preserve.len(),
        report.unchanged.len()
    );
    let bootstrap = &report.validation.bootstrap_preview;
    let _ = writeln!(
        text,
        "  Seeding: {} work package{} would be seeded, {} already initialized",
        bootstrap.newly_seeded,
        if bootstrap.newly_seeded == 1 { "" } else { "s" },
        bootstrap.already_initialized
    );
    if let LanesPreview::Computed(lanes) = &report.validation.lanes_preview {
        let _ = writeln!(
            text,
            "  Lanes: {} lane(s) would be computed",
            lanes.lanes.len()
        );
        render_lanes(&mut text, lanes, "    ");
    }
    render_warnings(&mut text, report);
    text
}

fn render(report: &FinalizeReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Finalized `{}` on `{}` ({}): {} work package{}",
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
            "Nothing to do: every work package is seeded and the plan is committed"
        );
    } else {
        if !report.seeded.is_empty() {
            let _ = writeln!(
                text,
                "Seeded genesis -> planned: {}",
                report.seeded.join(", ")
            );
        }
        if report.lanes_changed {
            let _ = writeln!(text, "Wrote lanes.json");
        }
        if !report.committed_paths.is_empty() {
            let commit = report
                .planning_commit
                .as_deref()
                .map(|sha| format!(" as {}", crate::ui::short_sha(sha)))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "Committed {} planning file{}{commit}",
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
        render_lanes(&mut text, lanes, "  ");
    }
    render_warnings(&mut text, &report.validation);
    text
}
