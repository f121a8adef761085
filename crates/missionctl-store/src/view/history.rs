//! The history: a mission's transitions and notes in the reducer's order (`history --json`).

use missionctl_core::status::event::LogRow;
use missionctl_core::status::event_log::EventLog;
use serde::Serialize;
use serde_json::Value;

use super::work_packages::{WorkPackagesError, mission_work_packages};
use crate::mission::dir::StatusReadError;
use crate::planning::work_package::WorkPackageFileError;
use crate::status::MissionStatus;

/// One transition or note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// `transition` or `annotation`.
    pub kind: &'static str,
    /// When it happened, as written.
    pub at: String,
    /// Its event id.
    pub event_id: String,
    /// The work package.
    pub wp_id: String,
    /// Who did it (the projected actor).
    pub actor: String,
    /// The lane it left (transitions only).
    pub from_lane: Option<String>,
    /// The lane it entered (transitions only).
    pub to_lane: Option<String>,
    /// Whether the transition was forced.
    pub force: bool,
    /// Why, when given.
    pub reason: Option<String>,
    /// The annotation's delta (annotations only).
    pub delta: Option<Value>,
}

impl HistoryRow {
    /// Returns the history row of a log row; `None` for a foreign row.
    pub fn from_row(row: &LogRow) -> Option<HistoryRow> {
        match row {
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
        }
    }
}

/// A mission's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// The mission's directory name.
    pub mission_slug: String,
    /// Its transitions and notes, ordered by `at`, then `event_id`.
    pub events: Vec<HistoryRow>,
}

impl History {
    /// Returns the history of a parsed log, optionally of one work package.
    pub fn from_log(mission_slug: &str, log: &EventLog, wp_id: Option<&str>) -> History {
        let mut events: Vec<HistoryRow> = log
            .rows
            .iter()
            .filter_map(|(_, row)| HistoryRow::from_row(row))
            .filter(|row| wp_id.is_none_or(|wp| wp == row.wp_id))
            .collect();
        events.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
        History {
            mission_slug: mission_slug.to_owned(),
            events,
        }
    }
}

/// Why a history cannot be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The log cannot be read.
    #[error(transparent)]
    Status(#[from] StatusReadError),
    /// The work package asked for is not one of the mission's (no task file defines it and
    /// the log never mentions it): `WP_NOT_FOUND`.
    #[error(transparent)]
    UnknownWorkPackage(#[from] WorkPackageFileError),
    /// The mission's work packages cannot be read.
    #[error(transparent)]
    WorkPackages(#[from] WorkPackagesError),
}

impl HistoryError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            HistoryError::Status(error) => error.code(),
            HistoryError::UnknownWorkPackage(error) => error.code(),
            HistoryError::WorkPackages(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            HistoryError::Status(error) => error.hint(),
            HistoryError::UnknownWorkPackage(error) => error.hint(),
            HistoryError::WorkPackages(error) => error.hint(),
        }
    }
}

/// Returns a mission's history, optionally of one work package, which must be one of the
/// mission's work packages ([`WorkPackageView::knows`](missionctl_core::view::work_package_view::WorkPackageView::knows)).
pub fn history(status: &MissionStatus, wp_id: Option<&str>) -> Result<History, HistoryError> {
    if let Some(wp_id) = wp_id
        && !mission_work_packages(status)?.view.knows(wp_id)
    {
        return Err(WorkPackageFileError::NotFound {
            wp_id: wp_id.to_owned(),
            mission_slug: status.mission_slug().to_owned(),
        }
        .into());
    }
    let log = status.read_log()?;
    Ok(History::from_log(status.mission_slug(), &log, wp_id))
}
