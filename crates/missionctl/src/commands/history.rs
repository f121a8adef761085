//! `missionctl history --mission <handle> [--wp WP]`: the transitions of a mission in the
//! reducer's order, with the notes recorded beside them.

use clap::Args;
use missionctl_core::event::LogRow;
use serde::Serialize;
use serde_json::Value;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, value_name = "HANDLE")]
    mission: String,
    /// Only this work package
    #[arg(long, value_name = "WP")]
    wp: Option<String>,
}

/// One row of the history.
#[derive(Debug, Serialize)]
struct HistoryRow {
    kind: &'static str,
    at: String,
    event_id: String,
    wp_id: String,
    actor: String,
    from_lane: Option<String>,
    to_lane: Option<String>,
    force: bool,
    reason: Option<String>,
    delta: Option<Value>,
}

/// The `data` of `history --json`.
#[derive(Debug, Serialize)]
struct HistoryData {
    mission_slug: String,
    events: Vec<HistoryRow>,
}

/// Prints the history.
pub(crate) fn cmd_history(ui: &mut Ui, args: &HistoryArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status(&args.mission)?;
    let log = status.read_log()?;
    let mut events: Vec<HistoryRow> = log
        .rows
        .iter()
        .filter_map(|(_, row)| match row {
            LogRow::Transition(event) => Some(HistoryRow {
                kind: "transition",
                at: event.at.clone(),
                event_id: event.event_id.clone(),
                wp_id: event.wp_id.clone(),
                actor: event.actor.projected().to_owned(),
                from_lane: Some(event.from_lane.as_str().to_owned()),
                to_lane: Some(event.to_lane.as_str().to_owned()),
                force: event.force,
                reason: event.reason.clone(),
                delta: None,
            }),
            LogRow::Annotation(annotation) => Some(HistoryRow {
                kind: "annotation",
                at: annotation.at.clone(),
                event_id: annotation.event_id.clone(),
                wp_id: annotation.wp_id.clone(),
                actor: annotation.actor.projected().to_owned(),
                from_lane: None,
                to_lane: None,
                force: false,
                reason: None,
                delta: Some(Value::Object(annotation.delta.clone())),
            }),
            LogRow::Foreign(_) => None,
        })
        .filter(|row| args.wp.as_deref().is_none_or(|wp| wp == row.wp_id))
        .collect();
    events.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
    let data = HistoryData {
        mission_slug: status.mission_slug().to_owned(),
        events,
    };
    ui.emit(&data, || {
        let mut text = String::new();
        for row in &data.events {
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
            text.push_str(&format!(
                "{}  {}  {}{}  {}{}\n",
                row.at, row.wp_id, what, forced, row.actor, reason
            ));
        }
        if text.is_empty() {
            text.push_str("No events\n");
        }
        text
    })
}
