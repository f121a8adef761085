//! `missionctl history --mission <MISSION> [--wp WP]`: the transitions of a mission in the
//! reducer's order, with the notes recorded beside them.

use clap::Args;
use missionctl_store::view::history::{History, HistoryRow, history};
use serde_json::Value;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl history`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # A mission's transitions and notes in order\n  missionctl history -m invoice-export\n\n  # Only one work package's\n  missionctl history -m invoice-export --wp WP02"
)]
pub(crate) struct HistoryArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Only this work package
    #[arg(long, value_name = "WP")]
    wp: Option<String>,
}

/// Returns the line of one history row, with its newline.
pub(crate) fn render_history_row(row: &HistoryRow) -> String {
    let what = match (&row.from_lane, &row.to_lane) {
        (Some(from), Some(to)) => format!("{from} -> {to}"),
        _ => format!(
            "note {}",
            row.delta.as_ref().map(Value::to_string).unwrap_or_default()
        ),
    };
    let forced = if row.force { " (forced)" } else { "" };
    let reason = row
        .reason
        .as_deref()
        .map(|r| format!("  {r}"))
        .unwrap_or_default();
    format!(
        "{}  {}  {}{}  {}{}\n",
        row.at, row.wp_id, what, forced, row.actor, reason
    )
}

/// Returns the text of a history: one line per row.
fn render_history(data: &History) -> String {
    data.events.iter().map(render_history_row).collect()
}

/// Prints the history.
pub(crate) fn cmd_history(ui: &mut Ui, args: &HistoryArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status_for_reading(&args.mission)?;
    let data = history(&status, args.wp.as_deref())?;
    ui.emit(&data, || {
        let text = render_history(&data);
        if text.is_empty() {
            "No events\n".to_owned()
        } else {
            text
        }
    })
}
