//! `missionctl board [--mission <MISSION>]`: the kanban of one mission, or of every mission.

use clap::Args;
use std::io::IsTerminal;

use missionctl_core::Lane;
use missionctl_store::clock::SystemClock;
use missionctl_store::view::board::{AllBoards, MissionBoard, all_boards, mission_board};
use serde_json::Value;

use crate::board::render_cards;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl board`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Every mission's board\n  missionctl board\n\n  # One mission's board, as Spec Kitty's `agent tasks status --json` document\n  missionctl board -m invoice-export --json\n\n  # Keep it on screen and redraw it on every change\n  missionctl board -m invoice-export --watch"
)]
pub(crate) struct BoardArgs {
    /// The mission to show (default: every mission)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// Keep the board on screen and redraw it whenever a log changes (one JSON document a
    /// line with `--json`); stop with Ctrl-C
    #[arg(long)]
    watch: bool,
}

fn render_mission(board: &MissionBoard) -> String {
    let cards: Vec<(String, Lane)> = board
        .view
        .rows
        .iter()
        .map(|row| {
            let name = row.wp_id.clone().unwrap_or_else(|| row.file.clone());
            (name, row.lane)
        })
        .collect();
    let log_only: Vec<(String, Lane)> = board
        .log_only_work_packages
        .iter()
        .map(|card| (card.wp_id.clone(), card.lane))
        .collect();
    format!(
        "{} ({}, status read from the {} checkout)\n\n{}\n",
        board.mission_dir,
        board.topology,
        board.read_surface,
        render_cards(&cards, &log_only)
    )
}

/// Returns the text of every mission's boards.
fn render_all(all: &AllBoards) -> String {
    let mut text = String::new();
    for board in &all.missions {
        text.push_str(&render_mission(board));
    }
    for failure in &all.unreadable {
        text.push_str(&format!(
            "{}: cannot show: {}\n",
            failure.mission_slug,
            Value::from(failure.error.message.as_str())
        ));
    }
    if text.is_empty() {
        text.push_str("No missions under kitty-specs/\n");
    }
    text
}

/// Shows the board of one mission or of every mission.
pub(crate) fn cmd_board(ui: &mut Ui, args: &BoardArgs) -> Result<(), CliError> {
    if args.watch {
        return watch_board(ui, args.mission.as_deref());
    }
    if let Some(handle) = &args.mission {
        let (_repo, status) = workspace::load_status_for_reading(handle)?;
        let board = mission_board(&status, &SystemClock)?;
        return ui.emit(&board, || render_mission(&board));
    }
    let repo = workspace::discover_repo()?;
    let all = all_boards(&repo, &SystemClock)?;
    ui.emit(&all, || render_all(&all))
}

/// Clears a terminal and puts the cursor at its top left.
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

/// Draws the board, then again each time it changes, until stopped.
fn watch_board(ui: &mut Ui, handle: Option<&str>) -> Result<(), CliError> {
    let scope = match handle {
        Some(handle) => {
            let (_repo, status) = workspace::load_status_for_reading(handle)?;
            // A board that cannot be shown fails now, with its own code.
            mission_board(&status, &SystemClock)?;
            Some(status.mission_slug().to_owned())
        }
        None => None,
    };
    let mut live = workspace::open_live()?;
    let clear = if std::io::stdout().is_terminal() {
        CLEAR_SCREEN
    } else {
        ""
    };
    let mut shown = String::new();
    loop {
        let key = match &scope {
            Some(slug) => {
                let Some(mission) = live.missions().get(slug) else {
                    return Err(CliError::user(
                        "MISSION_NOT_FOUND",
                        format!("Mission `{slug}` is gone"),
                    ));
                };
                let board = mission.board(&SystemClock).map_err(|error| {
                    let hint = error.hint.clone().unwrap_or_default();
                    CliError::user("BOARD_UNREADABLE", error.message).with_hint(hint)
                })?;
                let text = render_mission(&board);
                let key = format!("{text}{}", serde_json::to_string(&board)?);
                if key != shown {
                    ui.stream(&board, || format!("{clear}{text}"))?;
                }
                key
            }
            None => {
                let all = live.all_boards(&SystemClock);
                let text = render_all(&all);
                let key = format!("{text}{}", serde_json::to_string(&all)?);
                if key != shown {
                    ui.stream(&all, || format!("{clear}{text}"))?;
                }
                key
            }
        };
        shown = key;
        while live.wait(None)?.is_empty() {}
    }
}
