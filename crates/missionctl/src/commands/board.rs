//! `missionctl board [--mission <handle>]`: the kanban of one mission, or of every mission.

use clap::Args;
use missionctl_core::snapshot::StatusSnapshot;
use missionctl_store::mission_index::list_missions;
use missionctl_store::status::MissionStatus;
use missionctl_store::work_package::wp_titles;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::board::render_board;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl board`.
#[derive(Debug, Args)]
pub(crate) struct BoardArgs {
    /// The mission to show (default: every mission)
    #[arg(long, value_name = "HANDLE")]
    mission: Option<String>,
}

/// One work package on the board.
#[derive(Debug, Serialize)]
struct BoardCard {
    id: String,
    title: Option<String>,
    lane: String,
    actor: String,
    last_transition_at: Option<String>,
    agent: Option<String>,
    force_count: u64,
}

/// One mission's board.
#[derive(Debug, Serialize)]
pub(crate) struct MissionBoard {
    mission_slug: String,
    mission_id: Option<String>,
    topology: String,
    read_surface: String,
    read_dir: String,
    work_packages: Vec<BoardCard>,
    summary: Map<String, Value>,
    event_count: usize,
    #[serde(skip)]
    snapshot: StatusSnapshot,
}

/// A mission that could not be shown (in the every-mission view).
#[derive(Debug, Serialize)]
struct BoardFailure {
    mission_slug: String,
    error: Value,
}

/// The `data` of `board --json` without `--mission`.
#[derive(Debug, Serialize)]
struct AllBoards {
    missions: Vec<MissionBoard>,
    unreadable: Vec<BoardFailure>,
}

/// Returns the board of a loaded mission.
pub(crate) fn mission_board(status: &MissionStatus) -> Result<MissionBoard, CliError> {
    let snapshot = status.snapshot()?;
    let titles = wp_titles(status.primary_mission_dir());
    let work_packages = snapshot
        .work_packages
        .iter()
        .map(|(id, state)| BoardCard {
            id: id.clone(),
            title: titles.get(id).cloned(),
            lane: state.lane.as_str().to_owned(),
            actor: state.actor.clone(),
            last_transition_at: state.last_transition_at.clone(),
            agent: state.slot_str("agent").map(str::to_owned),
            force_count: state.force_count,
        })
        .collect();
    let summary = snapshot
        .summary()
        .into_iter()
        .map(|(lane, count)| (lane.as_str().to_owned(), Value::from(count)))
        .collect();
    Ok(MissionBoard {
        mission_slug: status.mission_slug().to_owned(),
        mission_id: status.mission_id().map(str::to_owned),
        topology: status.topology().to_owned(),
        read_surface: status.read_surface().as_str().to_owned(),
        read_dir: status.read_dir().display().to_string(),
        work_packages,
        summary,
        event_count: snapshot.event_count,
        snapshot,
    })
}

fn render_mission(board: &MissionBoard) -> String {
    format!(
        "{} ({}, status read from the {} checkout)\n\n{}\n",
        board.mission_slug,
        board.topology,
        board.read_surface,
        render_board(&board.snapshot)
    )
}

/// Shows the board of one mission or of every mission.
pub(crate) fn cmd_board(ui: &mut Ui, args: &BoardArgs) -> Result<(), CliError> {
    if let Some(handle) = &args.mission {
        let (_repo, status) = workspace::load_status(handle)?;
        let board = mission_board(&status)?;
        return ui.emit(&board, || render_mission(&board));
    }
    let repo = workspace::discover_repo()?;
    let protected = workspace::protected_branches();
    let mut all = AllBoards {
        missions: Vec::new(),
        unreadable: Vec::new(),
    };
    for summary in list_missions(&repo)? {
        let slug = summary.mission_slug.clone();
        let loaded = MissionStatus::load(&repo, &slug, &protected)
            .map_err(CliError::from)
            .and_then(|status| mission_board(&status));
        match loaded {
            Ok(board) => all.missions.push(board),
            Err(error) => all.unreadable.push(BoardFailure {
                mission_slug: slug,
                error: serde_json::json!({
                    "code": error.code,
                    "message": error.message_with_sources(),
                    "hint": error.hint,
                }),
            }),
        }
    }
    ui.emit(&all, || {
        let mut text = String::new();
        for board in &all.missions {
            text.push_str(&render_mission(board));
        }
        for failure in &all.unreadable {
            text.push_str(&format!(
                "{}: cannot show: {}\n",
                failure.mission_slug, failure.error["message"]
            ));
        }
        if text.is_empty() {
            text.push_str("No missions under kitty-specs/\n");
        }
        text
    })
}
