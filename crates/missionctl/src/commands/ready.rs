//! `missionctl ready [--mission <MISSION>]`: the work packages that can start now.
//!
//! Ready means in `planned` (nobody holds it) with every dependency `done`; `approved` is not
//! enough, as in Spec Kitty's `orchestrator-api list-ready`: approved work is not merged yet.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::mission::index::list_missions;
use missionctl_store::status::MissionStatus;
use missionctl_store::view::ready::{MissionReadiness, mission_readiness};
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl ready`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Work packages that can start now, in every mission\n  missionctl ready\n\n  # In one mission, as JSON\n  missionctl ready -m invoice-export --json"
)]
pub(crate) struct ReadyArgs {
    /// Only this mission (default: every mission)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
}

/// A mission `ready` could not read, when scanning every mission.
#[derive(Debug, Serialize)]
struct SkippedMission {
    mission_slug: String,
    code: &'static str,
    message: String,
}

/// The `data` of `ready --json`.
#[derive(Debug, Serialize)]
struct ReadyData {
    missions: Vec<MissionReadiness>,
    /// Missions that could not be read (only without `--mission`).
    skipped: Vec<SkippedMission>,
}

/// Lists the ready work of one mission or of every mission.
pub(crate) fn cmd_ready(ui: &mut Ui, args: &ReadyArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let mut data = ReadyData {
        missions: Vec::new(),
        skipped: Vec::new(),
    };
    match &args.mission {
        Some(handle) => {
            let status = MissionStatus::load_for_reading(&repo, handle)?;
            data.missions.push(mission_readiness(&status)?);
        }
        None => {
            for mission in list_missions(&repo)? {
                let slug = mission.mission_slug;
                let result: Result<MissionReadiness, CliError> =
                    MissionStatus::load_for_reading(&repo, &slug)
                        .map_err(CliError::from)
                        .and_then(|status| Ok(mission_readiness(&status)?));
                match result {
                    Ok(readiness) if readiness.ready.is_empty() && readiness.waiting.is_empty() => {
                    }
                    Ok(readiness) => data.missions.push(readiness),
                    Err(error) => data.skipped.push(SkippedMission {
                        mission_slug: slug,
                        code: error.code,
                        message: error.message,
                    }),
                }
            }
        }
    }
    ui.emit(&data, || render(&data))
}

fn render(data: &ReadyData) -> String {
    let mut text = String::new();
    if data.missions.iter().all(|mission| mission.ready.is_empty()) {
        text.push_str("No ready work\n");
    }
    for mission in &data.missions {
        if mission.ready.is_empty() && mission.waiting.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{}", mission.mission_slug);
        for wp in &mission.ready {
            let line = format!(
                "  {:<6} {:<13} {}",
                wp.wp_id,
                wp.lane_id.as_deref().unwrap_or("-"),
                wp.title.as_deref().unwrap_or("")
            );
            let _ = writeln!(text, "{}", line.trim_end());
        }
        for wp in &mission.waiting {
            let waits: Vec<String> = wp
                .waiting_for
                .iter()
                .map(|dep| format!("{} ({})", dep.wp_id, dep.lane))
                .collect();
            let _ = writeln!(text, "  {:<6} waits for {}", wp.wp_id, waits.join(", "));
        }
    }
    for skipped in &data.skipped {
        let _ = writeln!(
            text,
            "skipped {}: {} ({})",
            skipped.mission_slug, skipped.message, skipped.code
        );
    }
    text
}
