//! `missionctl map-requirements --mission <MISSION> --wp WP01 --refs FR-001,FR-002 [--replace]`: the
//! requirements a work package implements, written to its front matter and committed.

use std::fmt::Write as _;

use clap::Args;
use missionctl_core::planning::requirement::RequirementId;
use missionctl_store::clock::SystemClock;
use missionctl_store::planning::map_requirements::{
    MapRequirementsError, MapRequirementsReport, MapRequirementsRequest, map_requirements,
};
use serde::Serialize;

use crate::cli::MissionOrPositional;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl map-requirements`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Record that WP01 implements two requirements\n  missionctl map-requirements -m invoice-export --wp WP01 --refs FR-001,FR-002\n\n  # Replace WP02's requirements\n  missionctl map-requirements -m invoice-export --wp WP02 --refs FR-003 --replace"
)]
pub(crate) struct MapRequirementsArgs {
    /// The mission (`--mission`, or the older positional form)
    #[command(flatten)]
    mission: MissionOrPositional,
    /// The work package, such as `WP01`
    #[arg(long = "wp", value_name = "WP")]
    wp_id: String,
    /// Requirement ids declared in spec.md, comma separated (can be repeated)
    #[arg(long, value_name = "REFS", value_delimiter = ',', required = true)]
    refs: Vec<String>,
    /// Set the work package's refs to these instead of adding to them
    #[arg(long)]
    replace: bool,
}

/// The `data` of a refusal for refs `spec.md` does not declare.
#[derive(Debug, Serialize)]
struct UnknownRefsData<'a> {
    unknown_refs: &'a [RequirementId],
    declared_refs: &'a [RequirementId],
}

/// Writes the work package's refs and reports them with the mission's coverage.
pub(crate) fn cmd_map_requirements(
    ui: &mut Ui,
    args: &MapRequirementsArgs,
) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let request = MapRequirementsRequest {
        wp_id: args.wp_id.clone(),
        refs: args.refs.clone(),
        replace: args.replace,
    };
    let report = match map_requirements(
        &repo,
        args.mission.handle()?,
        &request,
        &workspace::protected_branches(&repo),
        &SystemClock,
    ) {
        Ok(report) => report,
        Err(error) => {
            if let MapRequirementsError::UnknownRefs {
                unknown, declared, ..
            } = &error
            {
                let data = UnknownRefsData {
                    unknown_refs: unknown,
                    declared_refs: declared,
                };
                ui.emit(&data, String::new)?;
            }
            return Err(error.into());
        }
    };
    ui.emit(&report, || render(&report))
}

fn render(report: &MapRequirementsReport) -> String {
    let join = |ids: &[RequirementId]| {
        ids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::new();
    let refs = if report.requirement_refs.is_empty() {
        "none".to_owned()
    } else {
        join(&report.requirement_refs)
    };
    let _ = writeln!(text, "{} requirement_refs: {refs}", report.wp_id);
    if !report.added.is_empty() {
        let _ = writeln!(text, "  added    {}", join(&report.added));
    }
    if !report.removed.is_empty() {
        let _ = writeln!(text, "  removed  {}", report.removed.join(", "));
    }
    match &report.commit {
        Some(sha) => {
            let _ = writeln!(
                text,
                "Committed {} on `{}` as {}",
                report.file,
                report.planning_branch,
                crate::ui::short_sha(sha)
            );
        }
        None => {
            let _ = writeln!(
                text,
                "Nothing to commit: {} already matches `{}`",
                report.file, report.planning_branch
            );
        }
    }
    let coverage = &report.coverage;
    let _ = writeln!(
        text,
        "Coverage: {}/{} functional requirements mapped",
        coverage.mapped_functional, coverage.total_functional
    );
    if !coverage.unmapped_functional.is_empty() {
        let _ = writeln!(text, "Unmapped: {}", join(&coverage.unmapped_functional));
    }
    text
}
