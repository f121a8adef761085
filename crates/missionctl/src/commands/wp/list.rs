//! `missionctl wp list <handle>`: a mission's work packages.

use std::fmt::Write as _;

use clap::Args;
use missionctl_core::lanes_manifest::LanesManifest;
use missionctl_core::task_plan::WorkPackageEntry;
use missionctl_core::work_package::ExecutionMode;
use missionctl_store::meta_store::LANES_FILE_NAME;
use missionctl_store::status::MissionStatus;
use missionctl_store::work_package::load_work_packages;
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl wp list`.
#[derive(Debug, Args)]
pub(crate) struct WpListArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(value_name = "HANDLE")]
    handle: String,
}

/// One work package as listed.
#[derive(Debug, Serialize)]
struct WpRow {
    wp_id: String,
    title: Option<String>,
    /// `tasks/<file>`.
    file: String,
    dependencies: Vec<String>,
    subtasks: Vec<String>,
    owned_files: Vec<String>,
    requirement_refs: Vec<String>,
    execution_mode: String,
    /// Its lane from `lanes.json`, once finalized.
    lane_id: Option<String>,
    /// Its status lane (`uninitialized` before finalize).
    status: String,
}

/// The `data` of `wp list --json`.
#[derive(Debug, Serialize)]
struct WpListData {
    mission_slug: String,
    work_packages: Vec<WpRow>,
}

/// Lists the work packages, in file order.
pub(crate) fn cmd_wp_list(ui: &mut Ui, args: &WpListArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status(&args.handle)?;
    let entries = load_work_packages(status.containment(), status.primary_mission_dir())?;
    let data = WpListData {
        mission_slug: status.mission_slug().to_owned(),
        work_packages: rows(&status, &entries)?,
    };
    ui.emit(&data, || render(&data))
}

fn rows(status: &MissionStatus, entries: &[WorkPackageEntry]) -> Result<Vec<WpRow>, CliError> {
    let snapshot = status.snapshot()?;
    let lanes = status
        .containment()
        .read(&status.primary_mission_dir().join(LANES_FILE_NAME))?
        .and_then(|bytes| LanesManifest::parse(&bytes).ok());
    Ok(entries
        .iter()
        .map(|entry| {
            let wp_id = entry.id().to_owned();
            WpRow {
                title: entry.front.title.clone(),
                file: entry.file.clone(),
                dependencies: entry.front.dependencies.clone(),
                subtasks: entry.front.subtasks.clone(),
                owned_files: entry.front.owned_files().to_vec(),
                requirement_refs: entry.front.requirement_refs.clone(),
                execution_mode: entry
                    .front
                    .mode()
                    .map(ExecutionMode::as_str)
                    .unwrap_or_else(|value| value)
                    .to_owned(),
                lane_id: lanes
                    .as_ref()
                    .and_then(|lanes| lanes.lane_for_wp(&wp_id))
                    .map(|lane| lane.lane_id.clone()),
                status: snapshot
                    .work_packages
                    .get(&wp_id)
                    .map_or("uninitialized", |state| state.lane.as_str())
                    .to_owned(),
                wp_id,
            }
        })
        .collect())
}

fn render(data: &WpListData) -> String {
    let mut text = String::new();
    if data.work_packages.is_empty() {
        let _ = writeln!(
            text,
            "{} has no work packages yet; add one with `missionctl wp add {} WP01 --title \"…\"`",
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
        let line = format!(
            "{:<6} {:<14} {:<13} {}{depends}",
            row.wp_id,
            row.status,
            lane,
            row.title.as_deref().unwrap_or("(no title)")
        );
        let _ = writeln!(text, "{}", line.trim_end());
    }
    text
}
