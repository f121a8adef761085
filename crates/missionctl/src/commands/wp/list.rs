//! `missionctl wp list --mission <MISSION>`: a mission's work packages, counted as `board` and Spec Kitty
//! count them — the task files in file-name order, then the ids only the log has.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::Args;
use missionctl_core::Lane;
use missionctl_core::planning::task_plan::WorkPackageEntry;
use missionctl_core::planning::work_package::ExecutionMode;
use missionctl_core::view::work_package_view::LanesFile;
use missionctl_store::planning::work_package::load_work_packages;
use missionctl_store::view::work_packages::mission_work_packages;
use serde::Serialize;

use crate::cli::MissionOrPositional;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl wp list`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # List a mission's work packages\n  missionctl wp list -m invoice-export\n\n  # As JSON: the rows the board counts, log-only ids last\n  missionctl wp list -m invoice-export --json"
)]
pub(crate) struct WpListArgs {
    /// The mission (`--mission`, or the older positional form)
    #[command(flatten)]
    mission: MissionOrPositional,
}

/// One work package as listed.
#[derive(Debug, Serialize)]
struct WpRow {
    wp_id: String,
    title: Option<String>,
    /// `tasks/<file>`, or `null` for a work package only the log has.
    file: Option<String>,
    dependencies: Vec<String>,
    subtasks: Vec<String>,
    owned_files: Vec<String>,
    requirement_refs: Vec<String>,
    execution_mode: String,
    /// Its lane from `lanes.json`, once finalized.
    lane_id: Option<String>,
    /// Its status lane (`genesis` for a task file without events, as on the board): `lane`, as
    /// in every other output.
    lane: Lane,
    /// True for a work package the log has and no task file defines.
    log_only: bool,
}

/// The `data` of `wp list --json`.
#[derive(Debug, Serialize)]
struct WpListData {
    mission_slug: String,
    work_packages: Vec<WpRow>,
}

/// Lists the work packages: task files in file-name order, then log-only ids.
pub(crate) fn cmd_wp_list(ui: &mut Ui, args: &WpListArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status_for_reading(args.mission.handle()?)?;
    let read = mission_work_packages(&status)?;
    let entries = load_work_packages(status.containment(), status.primary_mission_dir())?;
    let by_file: BTreeMap<&str, &WorkPackageEntry> = entries
        .iter()
        .map(|entry| (entry.file.trim_start_matches("tasks/"), entry))
        .collect();
    let lane_id = |wp_id: &str| match &read.facts.lanes {
        LanesFile::Present(manifest) => {
            manifest.lane_for_wp(wp_id).map(|lane| lane.lane_id.clone())
        }
        _ => None,
    };
    let mut work_packages: Vec<WpRow> = read
        .view
        .rows
        .iter()
        .map(|row| {
            let entry = by_file.get(row.file.as_str()).copied();
            let wp_id = entry
                .map(|entry| entry.id().to_owned())
                .or_else(|| row.wp_id.clone())
                .or_else(|| row.file_wp_id.clone())
                .unwrap_or_else(|| row.file.clone());
            WpRow {
                title: entry
                    .and_then(|entry| entry.front.title.clone())
                    .or_else(|| row.title.clone()),
                file: Some(format!("tasks/{}", row.file)),
                dependencies: entry
                    .map(|entry| entry.front.dependencies.clone())
                    .unwrap_or_default(),
                subtasks: entry
                    .map(|entry| entry.front.subtasks.clone())
                    .unwrap_or_default(),
                owned_files: entry
                    .map(|entry| entry.front.owned_files().to_vec())
                    .unwrap_or_default(),
                requirement_refs: entry
                    .map(|entry| entry.front.requirement_refs.clone())
                    .unwrap_or_default(),
                execution_mode: entry
                    .map(|entry| {
                        entry
                            .front
                            .mode()
                            .map(ExecutionMode::as_str)
                            .unwrap_or_else(|value| value)
                            .to_owned()
                    })
                    .unwrap_or_else(|| row.execution_mode.clone()),
                lane_id: lane_id(&wp_id),
                lane: row.lane,
                log_only: false,
                wp_id,
            }
        })
        .collect();
    work_packages.extend(read.view.log_only.iter().map(|entry| WpRow {
        wp_id: entry.wp_id.clone(),
        title: None,
        file: None,
        dependencies: Vec::new(),
        subtasks: Vec::new(),
        owned_files: Vec::new(),
        requirement_refs: Vec::new(),
        execution_mode: String::new(),
        lane_id: lane_id(&entry.wp_id),
        lane: entry.lane,
        log_only: true,
    }));
    let data = WpListData {
        mission_slug: status.mission_slug().to_owned(),
        work_packages,
    };
    ui.emit(&data, || render(&data))
}

fn render(data: &WpListData) -> String {
    let mut text = String::new();
    if data.work_packages.is_empty() {
        let _ = writeln!(
            text,
            "{} has no work packages yet; add one with `missionctl wp add --mission {} WP01 --title \"…\"`",
            data.mission_slug, data.mission_slug
        );
        return text;
    }
    for row in &data.work_packages {
        let depends = if row.dependencies.is_empty() {
            String::new()
        } else {
            format!("  after {}", row.dependencies.join(", "))
        };
        let lane = row.lane_id.as_deref().unwrap_or("-");
        let title = if row.log_only {
            "(in the log only: no task file defines it)"
        } else {
            row.title.as_deref().unwrap_or("(no title)")
        };
        let line = format!(
            "{:<6} {:<14} {:<13} {title}{depends}",
            row.wp_id,
            row.lane.as_str(),
            lane,
        );
        let _ = writeln!(text, "{}", line.trim_end());
    }
    text
}
