//! The status board of one mission, in the shape of Spec Kitty's `agent tasks status --json`:
//! the rows of the [work-package view](crate::view::work_package_view) with their runtime fields,
//! review warnings and in-progress staleness, lane counts and progress.
//!
//! Pure: the clock, the configuration and what exists on disk come in as values.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::status::lane::Lane;
use crate::text::timestamp::parse_iso_micros;
use crate::view::work_package_view::{
    WorkPackageRow, WorkPackageView, WorkspaceFailure, WorkspaceKind, python_str, round_one_decimal,
};

/// The `progress_semantics` Spec Kitty prints.
pub const PROGRESS_SEMANTICS: &str = "weighted_readiness";

/// The review-stall threshold when the configuration sets none, in minutes.
pub const DEFAULT_STALL_THRESHOLD_MINUTES: i64 = 30;

/// The reason of a planning-artifact work package's `not_applicable` staleness.
pub const PLANNING_ARTIFACT_REPO_ROOT_REASON: &str = "planning_artifact_repo_root_shared_workspace";

/// The reason of the staleness Spec Kitty falls back to when it cannot run its detection.
pub const STALE_DETECTION_UNAVAILABLE: &str = "stale_detection_unavailable";

/// The sentinels Spec Kitty records for a binding a pick-up did not resolve.
const ABSENT_SENTINELS: [&str; 2] = ["__resolved_profile_absent__", "__resolved_model_absent__"];

/// The mission's identity as the board prints it (from `meta.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardIdentity {
    /// `mission_slug` (or `slug`) when it is a safe path segment, else the directory name.
    pub mission_slug: String,
    /// The mission number, `None` before merge.
    pub mission_number: Option<i64>,
    /// The mission type, `""` when it has none.
    pub mission_type: String,
}

/// The facts outside the mission directory the board depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoardSettings<'a> {
    /// Now, in microseconds since the Unix epoch (review-stall ages).
    pub now_micros: i64,
    /// `review.stall_threshold_minutes` of `.kittify/config.yaml` (default 30).
    pub stall_threshold_minutes: i64,
    /// `agents.auto_commit` of `.kittify/config.yaml` (default true).
    pub auto_commit: bool,
    /// The work packages whose lane worktree exists (a directory with a `.git` entry).
    pub existing_worktrees: &'a [String],
    /// Each work package's dependencies (front matter), for the `dependencies` addition.
    pub dependencies: &'a std::collections::BTreeMap<String, Vec<String>>,
}

/// A row's staleness (`stale` of an `in_progress` row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleState {
    /// `fresh`, `stale` or `not_applicable`.
    pub status: &'static str,
    /// Why it is not applicable.
    pub reason: Option<&'static str>,
    /// Minutes since the worktree's last own commit.
    pub minutes_since_commit: Option<f64>,
    /// When that commit was made.
    pub last_commit_time: Option<String>,
}

/// A review waiting longer than the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewStall {
    /// The work package.
    pub wp_id: String,
    /// Minutes since its last transition.
    pub age_minutes: i64,
    /// The threshold.
    pub threshold_minutes: i64,
}

/// One row of the board, with Spec Kitty's keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardRow {
    /// The front matter's `work_package_id`.
    pub id: Option<String>,
    /// The front matter's `title`.
    pub title: Option<String>,
    /// The lane.
    pub lane: Lane,
    /// The front matter's `phase`, or `Unknown Phase`.
    pub phase: String,
    /// The task file's name.
    pub file: String,
    /// The agent of the log's claim, or `""`.
    pub agent: String,
    /// The authored profile (front matter), or `""`.
    pub agent_profile: String,
    /// The profile that ran (log), or `""`.
    pub resolved_agent_profile: String,
    /// The role that ran (log), or `""`.
    pub resolved_role: String,
    /// The model that ran (log), or `""`.
    pub resolved_model: String,
    /// The claiming shell's process id (log), or `""`.
    pub shell_pid: String,
    /// When that process started (log).
    pub shell_pid_created_at: Option<String>,
    /// The execution mode.
    pub execution_mode: String,
    /// Where it runs (`lane_workspace`, `repo_root`, `unknown`).
    pub workspace_kind: WorkspaceKind,
    /// The review verdict slot is damaged.
    #[serde(rename = "_damaged_verdict", skip_serializing_if = "Option::is_none")]
    pub damaged_verdict: Option<bool>,
    /// The damaged verdict, as listed in `stale_verdicts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged_review_artifact: Option<Value>,
    /// The last review asked for changes, yet the work package is approved or done.
    #[serde(rename = "_stale_verdict", skip_serializing_if = "Option::is_none")]
    pub stale_verdict: Option<bool>,
    /// That verdict, as listed in `stale_verdicts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_review_artifact: Option<Value>,
    /// `STALLED — no move-task in <N>m` for a review waiting too long.
    #[serde(rename = "_stall_label", skip_serializing_if = "Option::is_none")]
    pub stall_label: Option<String>,
    /// That stall, as listed in `stalled_wps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_stall: Option<ReviewStall>,
    /// The staleness of an `in_progress` row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<StaleState>,
    /// `stale.status == "stale"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_stale: Option<bool>,
    /// `stale.minutes_since_commit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_since_commit: Option<Option<f64>>,
    /// Whether the lane worktree exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree_exists: Option<bool>,
    /// missionctl's addition: the work packages it depends on (its front matter).
    pub dependencies: Vec<String>,
    /// missionctl's addition: its last review's result (`{reviewer, verdict, reference, …}`),
    /// when the log records one.
    pub review: Option<Value>,
    /// missionctl's addition: who made its last transition (`null` without one).
    pub actor: Option<String>,
    /// missionctl's addition: when it last moved (`null` without a transition).
    pub last_transition_at: Option<String>,
}

/// The keys of a [`BoardRow`] that Spec Kitty's board does not have.
pub const ROW_ADDITIONS: [&str; 4] = ["dependencies", "review", "actor", "last_transition_at"];

/// Lane counts in the order the lanes first occur.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaneCounts(pub Vec<(Lane, usize)>);

impl Serialize for LaneCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (lane, count) in &self.0 {
            map.serialize_entry(lane.as_str(), count)?;
        }
        map.end()
    }
}

/// The board (Spec Kitty's `agent tasks status --json` document).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusBoard {
    /// The mission's slug.
    pub mission_slug: String,
    /// Its number, `null` before merge.
    pub mission_number: Option<i64>,
    /// Its type.
    pub mission_type: String,
    /// How many rows.
    pub total_wps: usize,
    /// Rows per lane.
    pub by_lane: LaneCounts,
    /// The rows, one per task file in file-name order.
    pub work_packages: Vec<BoardRow>,
    /// Weighted readiness in percent (the integer `0` when the log has no transition).
    pub progress_percentage: Value,
    /// Always `weighted_readiness`.
    pub progress_semantics: &'static str,
    /// The same as `progress_percentage`.
    pub weighted_percentage: Value,
    /// Rows in `done`.
    pub done_count: usize,
    /// Their share, in percent.
    pub done_percentage: f64,
    /// Rows whose staleness is `stale`.
    pub stale_wps: usize,
    /// Damaged and changes-requested verdicts of approved and done rows.
    pub stale_verdicts: Vec<Value>,
    /// Reviews waiting longer than the threshold.
    pub stalled_wps: Vec<ReviewStall>,
    /// `agents.auto_commit`.
    pub auto_commit: bool,
}

/// Why the board cannot be shown (Spec Kitty fails the same way).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusBoardError {
    /// An in-progress work package's workspace cannot be resolved.
    #[error("{0}")]
    WorkspaceUnresolvable(String),
}

impl StatusBoard {
    /// Builds the board of a view.
    pub fn build(
        view: &WorkPackageView,
        identity: BoardIdentity,
        settings: BoardSettings<'_>,
    ) -> Result<StatusBoard, StatusBoardError> {
        let mut rows: Vec<BoardRow> = view
            .rows
            .iter()
            .map(|row| base_row(view, row, settings))
            .collect();
        let mut stale_verdicts = Vec::new();
        let mut stalled_wps = Vec::new();
        for (row, source) in rows.iter_mut().zip(&view.rows) {
            let Some(wp_id) = row.id.clone().filter(|id| !id.is_empty()) else {
                continue;
            };
            if matches!(row.lane, Lane::Approved | Lane::Done) {
                flag_verdict(row, &wp_id, view, source, &mut stale_verdicts);
            }
            if row.lane == Lane::InReview
                && let Some(last) = latest_transition_micros(view, &wp_id)
            {
                let age_minutes =
                    ((settings.now_micros - last) as f64 / 1_000_000.0 / 60.0).trunc() as i64;
                if age_minutes > settings.stall_threshold_minutes {
                    let stall = ReviewStall {
                        wp_id,
                        age_minutes,
                        threshold_minutes: settings.stall_threshold_minutes,
                    };
                    row.stall_label =
                        Some(format!("STALLED \u{2014} no move-task in {age_minutes}m"));
                    row.review_stall = Some(stall.clone());
                    stalled_wps.push(stall);
                }
            }
        }
        apply_staleness(&mut rows, view, settings)?;

        let total_wps = rows.len();
        let done_count = rows.iter().filter(|row| row.lane == Lane::Done).count();
        let done_percentage = if total_wps == 0 {
            0.0
        } else {
            round_one_decimal(done_count as f64 / total_wps as f64 * 100.0)
        };
        let progress = view
            .weighted_percentage()
            .map_or_else(|| Value::from(0), Value::from);
        Ok(StatusBoard {
            mission_slug: identity.mission_slug,
            mission_number: identity.mission_number,
            mission_type: identity.mission_type,
            total_wps,
            by_lane: LaneCounts(view.lane_counts()),
            stale_wps: rows.iter().filter(|row| row.is_stale == Some(true)).count(),
            work_packages: rows,
            progress_percentage: progress.clone(),
            progress_semantics: PROGRESS_SEMANTICS,
            weighted_percentage: progress,
            done_count,
            done_percentage,
            stale_verdicts,
            stalled_wps,
            auto_commit: settings.auto_commit,
        })
    }
}

/// Returns a row's fields before warnings and staleness.
fn base_row(view: &WorkPackageView, row: &WorkPackageRow, settings: BoardSettings<'_>) -> BoardRow {
    let state = view.state(row);
    let slot = |key: &str| python_str(state.and_then(|state| state.slots.get(key)));
    let resolved = |key: &str| {
        slot(key)
            .filter(|value| !ABSENT_SENTINELS.contains(&value.as_str()))
            .unwrap_or_default()
    };
    BoardRow {
        id: row.wp_id.clone(),
        title: row.title.clone(),
        lane: row.lane,
        phase: row
            .phase
            .clone()
            .filter(|phase| !phase.is_empty())
            .unwrap_or_else(|| "Unknown Phase".to_owned()),
        file: row.file.clone(),
        agent: slot("agent").unwrap_or_default(),
        agent_profile: row.agent_profile.clone().unwrap_or_default(),
        resolved_agent_profile: resolved("agent_profile"),
        resolved_role: slot("role").unwrap_or_default(),
        resolved_model: resolved("model"),
        shell_pid: slot("shell_pid").unwrap_or_default(),
        shell_pid_created_at: slot("shell_pid_created_at"),
        execution_mode: row.execution_mode.clone(),
        workspace_kind: row.workspace_kind,
        damaged_verdict: None,
        damaged_review_artifact: None,
        stale_verdict: None,
        stale_review_artifact: None,
        stall_label: None,
        review_stall: None,
        stale: None,
        is_stale: None,
        minutes_since_commit: None,
        worktree_exists: None,
        dependencies: row
            .wp_id
            .as_ref()
            .and_then(|id| settings.dependencies.get(id))
            .cloned()
            .unwrap_or_default(),
        review: state
            .and_then(|state| state.slots.get("review_result"))
            .filter(|value| !value.is_null())
            .cloned(),
        actor: state
            .filter(|state| state.last_transition_at.is_some())
            .map(|state| state.actor.clone()),
        last_transition_at: state.and_then(|state| state.last_transition_at.clone()),
    }
}

/// Flags an approved or done row whose recorded review verdict is damaged or asked for
/// changes.
fn flag_verdict(
    row: &mut BoardRow,
    wp_id: &str,
    view: &WorkPackageView,
    source: &WorkPackageRow,
    stale_verdicts: &mut Vec<Value>,
) {
    let Some(slot) = view
        .state(source)
        .and_then(|state| state.slots.get("review_result"))
    else {
        return;
    };
    let complete = slot.as_object().filter(|result| {
        ["reviewer", "verdict", "reference"]
            .iter()
            .all(|key| result.contains_key(*key))
    });
    match complete {
        None => {
            let warning = Value::Object(Map::from_iter([
                ("wp_id".to_owned(), Value::from(wp_id)),
                ("artifact".to_owned(), Value::Null),
                ("verdict".to_owned(), Value::Null),
                ("damaged".to_owned(), Value::Bool(true)),
            ]));
            stale_verdicts.push(warning.clone());
            row.damaged_verdict = Some(true);
            row.damaged_review_artifact = Some(warning);
        }
        Some(result) if result.get("verdict") == Some(&Value::from("changes_requested")) => {
            let warning = Value::Object(Map::from_iter([
                ("wp_id".to_owned(), Value::from(wp_id)),
                (
                    "artifact".to_owned(),
                    result.get("reference").cloned().unwrap_or(Value::Null),
                ),
                ("verdict".to_owned(), Value::from("rejected")),
            ]));
            stale_verdicts.push(warning.clone());
            row.stale_verdict = Some(true);
            row.stale_review_artifact = Some(warning);
        }
        Some(_) => {}
    }
}

/// Returns when a work package last moved, in microseconds: the `at` of its last transition
/// in the log's order.
fn latest_transition_micros(view: &WorkPackageView, wp_id: &str) -> Option<i64> {
    view.snapshot
        .work_packages
        .get(wp_id)?
        .last_transition_at
        .as_deref()
        .and_then(parse_iso_micros)
}

/// Sets the staleness fields of the `in_progress` rows as Spec Kitty's board does: a
/// repository-root workspace is `not_applicable`; a lane workspace is `fresh` (its worktree
/// exists or not); when a work package's workspace needs a `lanes.json` the mission lacks,
/// every row falls back to `not_applicable` (`stale_detection_unavailable`).
fn apply_staleness(
    rows: &mut [BoardRow],
    view: &WorkPackageView,
    settings: BoardSettings<'_>,
) -> Result<(), StatusBoardError> {
    let doing: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            row.lane == Lane::InProgress && row.id.as_deref().is_some_and(|id| !id.is_empty())
        })
        .map(|(index, _)| index)
        .collect();
    let first_failure = doing
        .iter()
        .find_map(|index| view.rows[*index].workspace.as_ref().err());
    match first_failure {
        Some(WorkspaceFailure::Unresolvable(message)) => {
            return Err(StatusBoardError::WorkspaceUnresolvable(message.clone()));
        }
        Some(WorkspaceFailure::LanesMissing) => {
            for index in doing {
                let row = &mut rows[index];
                let reason = if row.workspace_kind == WorkspaceKind::RepoRoot
                    && row.execution_mode == "planning_artifact"
                {
                    PLANNING_ARTIFACT_REPO_ROOT_REASON
                } else {
                    STALE_DETECTION_UNAVAILABLE
                };
                set_stale(row, "not_applicable", Some(reason), false);
            }
        }
        None => {
            for index in doing {
                let row = &mut rows[index];
                if row.workspace_kind == WorkspaceKind::RepoRoot {
                    set_stale(
                        row,
                        "not_applicable",
                        Some(PLANNING_ARTIFACT_REPO_ROOT_REASON),
                        false,
                    );
                } else {
                    let exists = row
                        .id
                        .as_ref()
                        .is_some_and(|id| settings.existing_worktrees.contains(id));
                    set_stale(row, "fresh", None, exists);
                }
            }
        }
    }
    Ok(())
}

fn set_stale(row: &mut BoardRow, status: &'static str, reason: Option<&'static str>, exists: bool) {
    row.stale = Some(StaleState {
        status,
        reason,
        minutes_since_commit: None,
        last_commit_time: None,
    });
    row.is_stale = Some(status == "stale");
    row.minutes_since_commit = Some(None);
    row.worktree_exists = Some(exists);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::status::event_log::parse;
    use crate::status::reducer::reduce;
    use crate::view::work_package_view::{LanesFile, TaskFile, ViewInputs};

    const ROW: &str = r#"{"actor": "a", "at": "2026-01-01T00:00:00+00:00", "event_id": "01KH000000000000000000000{n}", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "{from}", "mission_slug": "m", "reason": "r", "review_ref": null, "review_result": {review}, "to_lane": "{to}", "wp_id": "{wp}"}"#;

    fn view(rows: &[(&str, &str, &str)], lanes: &LanesFile) -> WorkPackageView {
        let text: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(n, (wp, to, review))| {
                let from = if *to == "in_review" {
                    "for_review"
                } else {
                    "in_review"
                };
                ROW.replace("{n}", &n.to_string())
                    .replace("{wp}", wp)
                    .replace("{from}", from)
                    .replace("{to}", to)
                    .replace("{review}", review)
            })
            .collect();
        let log = parse(text.join("\n").as_bytes());
        let files: Vec<TaskFile> = rows
            .iter()
            .map(|(wp, _, _)| TaskFile {
                file_name: format!("{wp}-x.md"),
                text: format!("---\nwork_package_id: {wp}\nexecution_mode: code_change\n---\n"),
            })
            .collect();
        let built = WorkPackageView::build(
            reduce(&log),
            ViewInputs {
                task_files: &files,
                committed: None,
                lanes,
                workspace_context_wps: &BTreeSet::new(),
            },
        );
        built.unwrap_or_else(|error| panic!("{error}"))
    }

    fn settings(now_micros: i64) -> BoardSettings<'static> {
        static NONE: std::collections::BTreeMap<String, Vec<String>> =
            std::collections::BTreeMap::new();
        BoardSettings {
            now_micros,
            stall_threshold_minutes: DEFAULT_STALL_THRESHOLD_MINUTES,
            auto_commit: true,
            existing_worktrees: &[],
            dependencies: &NONE,
        }
    }

    fn identity() -> BoardIdentity {
        BoardIdentity {
            mission_slug: "m".to_owned(),
            mission_number: None,
            mission_type: "software-dev".to_owned(),
        }
    }

    #[test]
    fn review_warnings_and_stalls_are_flagged() -> Result<(), StatusBoardError> {
        let view = view(
            &[
                ("WP01", "approved", "null"),
                (
                    "WP02",
                    "done",
                    r#"{"reference": "r", "reviewer": "x", "verdict": "changes_requested"}"#,
                ),
                ("WP03", "in_review", "null"),
                (
                    "WP04",
                    "done",
                    r#"{"reference": "r", "reviewer": "x", "verdict": "approved"}"#,
                ),
            ],
            &LanesFile::Missing,
        );
        // 31 minutes after the last move.
        let now =
            crate::text::timestamp::parse_iso_micros("2026-01-01T00:31:00+00:00").unwrap_or(0);
        let board = StatusBoard::build(&view, identity(), settings(now))?;
        let rows = &board.work_packages;
        assert_eq!(rows[0].damaged_verdict, Some(true));
        assert_eq!(rows[1].stale_verdict, Some(true));
        assert_eq!(
            rows[1]
                .stale_review_artifact
                .as_ref()
                .map(|a| a["verdict"].clone()),
            Some(Value::from("rejected"))
        );
        assert_eq!(
            rows[2].stall_label.as_deref(),
            Some("STALLED \u{2014} no move-task in 31m")
        );
        assert_eq!(rows[3].damaged_verdict, None);
        assert_eq!(rows[3].stale_verdict, None);
        assert_eq!(board.stale_verdicts.len(), 2);
        assert_eq!(board.stalled_wps.len(), 1);
        assert_eq!(board.done_count, 2);
        assert_eq!(board.done_percentage, 50.0);
        // (0.8 + 1.0 + 0.7 + 1.0) / 4
        assert_eq!(board.weighted_percentage, Value::from(87.5));
        Ok(())
    }

    #[test]
    fn in_progress_staleness_falls_back_without_lanes() -> Result<(), StatusBoardError> {
        let view = view(&[("WP01", "in_progress", "null")], &LanesFile::Missing);
        let board = StatusBoard::build(&view, identity(), settings(0))?;
        let row = &board.work_packages[0];
        assert_eq!(
            row.stale.as_ref().map(|stale| (stale.status, stale.reason)),
            Some(("not_applicable", Some(STALE_DETECTION_UNAVAILABLE)))
        );
        assert_eq!(
            (row.is_stale, row.worktree_exists),
            (Some(false), Some(false))
        );
        assert_eq!(row.minutes_since_commit, Some(None));
        Ok(())
    }

    #[test]
    fn no_transition_means_the_integer_zero() -> Result<(), StatusBoardError> {
        let view = view(&[], &LanesFile::Missing);
        let board = StatusBoard::build(&view, identity(), settings(0))?;
        assert_eq!(board.progress_percentage, Value::from(0));
        assert_eq!(board.total_wps, 0);
        Ok(())
    }
}
