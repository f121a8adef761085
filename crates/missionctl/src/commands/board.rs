//! `missionctl board [--mission <handle>]`: the kanban of one mission, or of every mission.

use clap::Args;
use missionctl_store::view::board::{MissionBoard, all_boards, mission_board};
use serde_json::Value;

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
    let all = all_boards(&repo, &workspace::protected_branches())?;
    ui.emit(&all, || {
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
    })
}
