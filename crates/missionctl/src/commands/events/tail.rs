//! `missionctl events tail [--mission <MISSION>] [--since <event-id>]`: the transitions and
//! notes of missions as they are appended — by missionctl, by Spec Kitty, or by a merge that
//! brought another clone's rows — one JSON object a line with `--json`.
//!
//! It runs until it is stopped (or its reader goes away). Errors before the first event are
//! one error document, as for every command; an error after it is one last line.

use std::collections::{BTreeMap, BTreeSet};

use clap::Args;
use missionctl_store::view::history::HistoryRow;
use missionctl_store::view::live::{LiveChange, LiveRepository};
use serde::Serialize;

use crate::command_error::CliError;
use crate::commands::history::render_history_row;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl events tail`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Follow every mission's log\n  missionctl events tail\n\n  # Follow one mission, starting after an event you have seen\n  missionctl events tail -m invoice-export --since 01KXKJ0M8Z6ZC4R0VX3V2WQ6TE"
)]
pub(crate) struct TailArgs {
    /// Only this mission (default: every mission, and those created while it runs)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// First print the events after this one, in the order of `history`, then follow
    #[arg(long, value_name = "EVENT_ID")]
    since: Option<String>,
}

/// One line of the stream: a history row with its mission.
#[derive(Debug, Serialize)]
struct TailEvent<'a> {
    mission_slug: &'a str,
    #[serde(flatten)]
    row: &'a HistoryRow,
}

/// The events already printed or already in the logs when the tail started, by mission.
type Seen = BTreeMap<String, BTreeSet<String>>;

fn emit(ui: &mut Ui, mission_slug: &str, row: &HistoryRow) -> Result<(), CliError> {
    let event = TailEvent { mission_slug, row };
    ui.stream(&event, || {
        format!("{mission_slug}  {}", render_history_row(row))
    })
}

/// Returns the rows of a mission's log as history rows (none when it cannot be read now: its
/// rows are printed when a fixed log is read).
fn history_rows(live: &LiveRepository, slug: &str) -> Vec<HistoryRow> {
    live.missions()
        .get(slug)
        .and_then(|mission| mission.status().read_log().ok())
        .map(|log| {
            log.rows
                .iter()
                .filter_map(|(_, row)| HistoryRow::from_row(row))
                .collect()
        })
        .unwrap_or_default()
}

/// Follows the logs and prints each new event.
pub(crate) fn cmd_tail(ui: &mut Ui, args: &TailArgs) -> Result<(), CliError> {
    let scope = match &args.mission {
        Some(handle) => Some(workspace::load_status(handle)?.1.mission_slug().to_owned()),
        None => None,
    };
    let in_scope = |slug: &str| scope.as_deref().is_none_or(|only| only == slug);
    let mut live = workspace::open_live()?;
    let mut seen = Seen::new();
    let mut backlog: Vec<(String, HistoryRow)> = Vec::new();
    let slugs: Vec<String> = live.missions().keys().cloned().collect();
    for slug in slugs.into_iter().filter(|slug| in_scope(slug)) {
        let rows = history_rows(&live, &slug);
        let ids = seen.entry(slug.clone()).or_default();
        for row in rows {
            ids.insert(row.event_id.clone());
            backlog.push((slug.clone(), row));
        }
    }
    if let Some(since) = &args.since {
        let Some((_, anchor)) = backlog.iter().find(|(_, row)| &row.event_id == since) else {
            return Err(CliError::user(
                "EVENT_NOT_FOUND",
                format!(
                    "No event `{since}` in the log{} followed",
                    if scope.is_some() {
                        " of the mission"
                    } else {
                        "s"
                    }
                ),
            )
            .with_hint(
                "Pass an `event_id` that `missionctl history --json` lists, or leave `--since` \
                 out to print only new events"
                    .to_owned(),
            ));
        };
        let key = (anchor.at.clone(), anchor.event_id.clone());
        let mut after: Vec<&(String, HistoryRow)> = backlog
            .iter()
            .filter(|(_, row)| (row.at.clone(), row.event_id.clone()) > key)
            .collect();
        after.sort_by(|(a_slug, a), (b_slug, b)| {
            (&a.at, &a.event_id, a_slug).cmp(&(&b.at, &b.event_id, b_slug))
        });
        for (slug, row) in after {
            emit(ui, slug, row)?;
        }
    }
    loop {
        for change in live.wait(None)? {
            match change {
                LiveChange::Status {
                    mission_slug, rows, ..
                } if in_scope(&mission_slug) => {
                    let ids = seen.entry(mission_slug.clone()).or_default();
                    for (_, row) in &rows {
                        if let Some(row) = HistoryRow::from_row(row)
                            && ids.insert(row.event_id.clone())
                        {
                            emit(ui, &mission_slug, &row)?;
                        }
                    }
                }
                LiveChange::Missions if scope.is_none() => {
                    // A mission created meanwhile: every row it has is new.
                    let new: Vec<String> = live
                        .missions()
                        .keys()
                        .filter(|slug| !seen.contains_key(*slug))
                        .cloned()
                        .collect();
                    for slug in new {
                        let mut rows = history_rows(&live, &slug);
                        rows.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
                        let ids = seen.entry(slug.clone()).or_default();
                        for row in rows {
                            if ids.insert(row.event_id.clone()) {
                                emit(ui, &slug, &row)?;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
