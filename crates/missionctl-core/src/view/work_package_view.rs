//! The work-package view: a mission's work packages as Spec Kitty counts them — one row per
//! task file `tasks/WP*.md`, in byte order of the file names, with its lane from the event
//! log — and the ids that exist only in the log.
//!
//! This is the one view `board`, `wp list`, `ready`, `next` and `history` read, so they count
//! the same set. Its vocabulary is Spec Kitty's (`agent tasks status`):
//!
//! - a **row** is a task file; its id is the front matter's `work_package_id` (a file without
//!   one still has a row, with no id);
//! - a row's **lane** is, in this order: the lane of the *committed* log (the primary checkout's
//!   log of a merged mission, when the status is read elsewhere) unless it has none; the lane of
//!   the status log's full reduction (annotation-only work packages are `uninitialized`); else
//!   `genesis` (a task file without any event);
//! - a **log-only** work package has events but no task file: it has no row, and counts only in
//!   the weighted progress.
//!
//! Front-matter fields are read as Spec Kitty's board reads them, one line each
//! ([`extract_scalar`]), so a file the full YAML parser refuses is still a row.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::mission::meta::python_scalar_str;
use crate::planning::lanes_manifest::LanesManifest;
use crate::status::lane::Lane;
use crate::status::snapshot::{StatusSnapshot, WpState};

/// The lane id of the planning lane, whose work runs in the repository root.
pub const PLANNING_LANE_ID: &str = "lane-planning";

/// One task file `tasks/WP*.md`, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFile {
    /// The file name (`WP01-storage.md`).
    pub file_name: String,
    /// Its text.
    pub text: String,
}

/// The state of a mission's `lanes.json`, as the view needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LanesFile {
    /// There is none.
    #[default]
    Missing,
    /// It parses as Spec Kitty reads it.
    Present(Box<LanesManifest>),
    /// It exists and Spec Kitty could not read it (the message says why).
    Corrupt(String),
}

/// Where a work package runs, as Spec Kitty's workspace resolver classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceKind {
    /// A lane worktree under `.worktrees/`.
    LaneWorkspace,
    /// The repository root (planning-artifact work, the planning lane).
    RepoRoot,
    /// Not classified (no `lanes.json`, a lane that does not hold it, no id).
    Unknown,
}

impl WorkspaceKind {
    /// Returns the wire value (`lane_workspace`, `repo_root`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceKind::LaneWorkspace => "lane_workspace",
            WorkspaceKind::RepoRoot => "repo_root",
            WorkspaceKind::Unknown => "unknown",
        }
    }
}

/// Why a work package's workspace could not be resolved (Spec Kitty's resolver raised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceFailure {
    /// `lanes.json` is needed and missing.
    LanesMissing,
    /// The work package is in no lane, or its front matter names an unknown execution mode.
    Unresolvable(String),
}

/// One task file of the mission, with its lane.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkPackageRow {
    /// The file name (`WP01-storage.md`).
    pub file: String,
    /// The id at the start of the file name (`WP01`), if it has one.
    pub file_wp_id: Option<String>,
    /// The front matter's `work_package_id`.
    pub wp_id: Option<String>,
    /// The front matter's `title`.
    pub title: Option<String>,
    /// The front matter's `phase`.
    pub phase: Option<String>,
    /// The front matter's `agent_profile` (the authored one; what ran is in the log).
    pub agent_profile: Option<String>,
    /// The lane (see the module documentation).
    pub lane: Lane,
    /// The execution mode: the front matter's, or inferred from the text for a work package
    /// that has none.
    pub execution_mode: String,
    /// Where it runs.
    pub workspace_kind: WorkspaceKind,
    /// How its workspace resolved (the failure behind an `unknown` kind, if any).
    pub workspace: Result<WorkspaceKind, WorkspaceFailure>,
}

/// A work package that has events but no task file.
#[derive(Debug, Clone, PartialEq)]
pub struct LogOnlyWorkPackage {
    /// Its id.
    pub wp_id: String,
    /// Its lane in the status log's full reduction.
    pub lane: Lane,
}

/// A mission's work packages (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkPackageView {
    /// One row per task file, in byte order of the file names.
    pub rows: Vec<WorkPackageRow>,
    /// The ids with events and no task file, in id order.
    pub log_only: Vec<LogOnlyWorkPackage>,
    /// The full reduction of the status log (transitions and annotations).
    pub snapshot: StatusSnapshot,
}

/// Everything the view is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ViewInputs<'a> {
    /// The task files `tasks/WP*.md`, in byte order of their names.
    pub task_files: &'a [TaskFile],
    /// The committed snapshot: the full reduction of the primary checkout's log of a merged
    /// mission (one whose `meta.json` has a `mission_number`) whose status is read elsewhere;
    /// `None` otherwise.
    pub committed: Option<&'a StatusSnapshot>,
    /// The mission's `lanes.json`.
    pub lanes: &'a LanesFile,
    /// The work packages a lane workspace context (`.kittify/workspaces/*.json`) of this
    /// mission names.
    pub workspace_context_wps: &'a BTreeSet<String>,
}

/// Why the view cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkPackageViewError {
    /// `lanes.json` is needed to place a work package and cannot be read.
    #[error("{0}")]
    LanesCorrupt(String),
}

impl WorkPackageView {
    /// Computes the view (see the module documentation) from the status log's full
    /// reduction.
    pub fn build(
        snapshot: StatusSnapshot,
        inputs: ViewInputs<'_>,
    ) -> Result<WorkPackageView, WorkPackageViewError> {
        let committed = inputs.committed;
        let mut rows = Vec::with_capacity(inputs.task_files.len());
        for file in inputs.task_files {
            let front = front_matter_block(&file.text);
            let wp_id = extract_scalar(&front, "work_package_id");
            let committed_lane = wp_id.as_deref().and_then(|id| {
                committed
                    .as_ref()
                    .and_then(|snapshot| snapshot.work_packages.get(id))
                    .map(|state| state.lane)
                    .filter(|lane| *lane != Lane::Uninitialized)
            });
            let status_lane = wp_id
                .as_deref()
                .and_then(|id| snapshot.work_packages.get(id))
                .map(|state| state.lane);
            let lane = committed_lane.or(status_lane).unwrap_or(Lane::Genesis);
            let (execution_mode, workspace) =
                resolve_workspace(&front, &file.text, wp_id.as_deref(), inputs)?;
            rows.push(WorkPackageRow {
                file: file.file_name.clone(),
                file_wp_id: file_wp_id(&file.file_name),
                title: extract_scalar(&front, "title"),
                phase: extract_scalar(&front, "phase"),
                agent_profile: extract_scalar(&front, "agent_profile"),
                lane,
                execution_mode,
                workspace_kind: *workspace.as_ref().unwrap_or(&WorkspaceKind::Unknown),
                workspace,
                wp_id,
            });
        }
        let with_rows: BTreeSet<&str> =
            rows.iter().filter_map(|row| row.wp_id.as_deref()).collect();
        let log_only = snapshot
            .work_packages
            .iter()
            .filter(|(id, _)| !with_rows.contains(id.as_str()))
            .map(|(id, state)| LogOnlyWorkPackage {
                wp_id: id.clone(),
                lane: state.lane,
            })
            .collect();
        Ok(WorkPackageView {
            rows,
            log_only,
            snapshot,
        })
    }

    /// Returns the lane of a work package in the reduction of the log's transitions only
    /// (Spec Kitty's lane map): `None` for a work package without transitions. Annotations
    /// never move a lane, so this is the full reduction's lane, except that a work package
    /// with annotations only (`uninitialized` there) has none.
    pub fn transition_lane(&self, wp_id: &str) -> Option<Lane> {
        self.snapshot
            .work_packages
            .get(wp_id)
            .map(|state| state.lane)
            .filter(|lane| *lane != Lane::Uninitialized)
    }

    /// Returns whether the status log has any transition.
    pub fn has_transitions(&self) -> bool {
        self.snapshot.event_count > 0
    }

    /// Returns a row's state in the status log's full reduction, if it has one.
    pub fn state(&self, row: &WorkPackageRow) -> Option<&WpState> {
        row.wp_id
            .as_deref()
            .and_then(|id| self.snapshot.work_packages.get(id))
    }

    /// Returns true when `wp_id` names a work package of the mission: a row's id (its front
    /// matter's, or its file name's `WPnn`) or a log-only one.
    pub fn knows(&self, wp_id: &str) -> bool {
        self.rows.iter().any(|row| {
            row.wp_id.as_deref() == Some(wp_id) || row.file_wp_id.as_deref() == Some(wp_id)
        }) || self.log_only.iter().any(|entry| entry.wp_id == wp_id)
    }

    /// Returns every work package id of the mission (rows and log-only), sorted.
    pub fn wp_ids(&self) -> BTreeSet<&str> {
        self.rows
            .iter()
            .filter_map(|row| row.wp_id.as_deref())
            .chain(self.log_only.iter().map(|entry| entry.wp_id.as_str()))
            .collect()
    }

    /// Returns the number of rows in each lane, in the order the lanes first occur.
    pub fn lane_counts(&self) -> Vec<(Lane, usize)> {
        let mut counts: Vec<(Lane, usize)> = Vec::new();
        for row in &self.rows {
            match counts.iter_mut().find(|(lane, _)| *lane == row.lane) {
                Some((_, count)) => *count += 1,
                None => counts.push((row.lane, 1)),
            }
        }
        counts
    }

    /// Returns the weighted progress of the work packages with transitions (the lane map),
    /// in percent rounded to one decimal as Python's `round(x, 1)`; `None` when the log has no
    /// transition (Spec Kitty then prints the integer `0`). Log-only work packages count.
    pub fn weighted_percentage(&self) -> Option<f64> {
        if !self.has_transitions() {
            return None;
        }
        let mut weighted = 0.0_f64;
        let mut total = 0.0_f64;
        let lane_map = self
            .snapshot
            .work_packages
            .values()
            .filter(|state| state.lane != Lane::Uninitialized);
        for state in lane_map {
            weighted += state.lane.progress_weight();
            total += 1.0;
        }
        let percentage = if total > 0.0 {
            weighted / total * 100.0
        } else {
            0.0
        };
        Some(round_one_decimal(percentage))
    }
}

/// Returns `x` rounded to one decimal as Python's `round(x, 1)` (correctly rounded from the
/// exact binary value, ties to even).
pub fn round_one_decimal(x: f64) -> f64 {
    format!("{x:.1}").parse().unwrap_or(x)
}

/// Returns the `WP<digits>` a file name starts with (Spec Kitty's `re.match(r"(WP\d+)")`).
pub fn file_wp_id(file_name: &str) -> Option<String> {
    let digits = file_name
        .strip_prefix("WP")?
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    (digits > 0).then(|| file_name[..2 + digits].to_owned())
}

/// Returns the front-matter block of a task file as Spec Kitty's `split_frontmatter` does:
/// with `\r\n` turned into `\n`, the text between an opening `---\n` and the next `\n---`;
/// empty when there is none.
pub fn front_matter_block(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    if !normalized.starts_with("---\n") {
        return String::new();
    }
    match normalized[4..].find("\n---") {
        Some(index) => normalized[4..4 + index].to_owned(),
        None => String::new(),
    }
}

/// Returns true for the characters Python's `\s` and `str.strip()` treat as whitespace.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Returns the value of a top-level `key:` line of a front-matter block as Spec Kitty's
/// `extract_scalar` reads it: the first line that starts with `key:`; the value starts at the
/// first non-whitespace character after the colon (which may be on a later line), and is a
/// quoted string up to its closing quote on that line, or everything up to a `#` or the end
/// of the line; quotes are removed and whitespace trimmed; an empty value is `None`.
pub fn extract_scalar(front: &str, key: &str) -> Option<String> {
    let prefix = format!("{key}:");
    let mut start = None;
    let mut offset = 0;
    for line in front.split_inclusive('\n') {
        if line.starts_with(&prefix) {
            start = Some(offset + prefix.len());
            break;
        }
        offset += line.len();
    }
    let rest = &front[start?..];
    let value_start = rest
        .char_indices()
        .find(|(_, c)| !is_python_space(*c))
        .map_or(rest.len(), |(index, _)| index);
    let rest = &rest[value_start..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    let raw = quoted(line, '"')
        .or_else(|| quoted(line, '\''))
        .unwrap_or_else(|| &line[..line.find('#').unwrap_or(line.len())]);
    let raw = raw.trim_matches(is_python_space);
    let unquoted = if raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')))
    {
        &raw[1..raw.len() - 1]
    } else if raw == "\"" || raw == "'" {
        ""
    } else {
        return Some(raw.to_owned()).filter(|value| !value.is_empty());
    };
    // A quoted value is returned as it is inside the quotes (an empty one included).
    Some(unquoted.to_owned())
}

/// Returns `line`'s leading `q…q` (up to the first closing quote), if it starts with `q`.
fn quoted(line: &str, q: char) -> Option<&str> {
    let inner = line.strip_prefix(q)?;
    let close = inner.find(q)?;
    Some(&line[..close + 2])
}

/// The execution mode Spec Kitty infers for a work package whose front matter has none:
/// `planning_artifact` when the text mentions planning artifacts and no code, else
/// `code_change`.
pub fn infer_execution_mode(text: &str) -> &'static str {
    const PLANNING: [&str; 6] = [
        "kitty-specs/",
        "spec.md",
        "plan.md",
        "tasks.md",
        "data-model.md",
        "quickstart.md",
    ];
    let planning = PLANNING
        .iter()
        .any(|pattern| contains_at_word_start(text, pattern, pattern.ends_with(".md")));
    let code = ["src/", "tests/", "test/"]
        .iter()
        .any(|pattern| contains_at_word_start(text, pattern, false))
        || [".py", ".ts", ".js"]
            .iter()
            .any(|pattern| contains_word_suffix(text, pattern));
    if planning && !code {
        "planning_artifact"
    } else {
        "code_change"
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Returns true when `pattern` occurs with a word boundary before it (`\bpattern`) and, when
/// `end_boundary`, after it too.
fn contains_at_word_start(text: &str, pattern: &str, end_boundary: bool) -> bool {
    text.match_indices(pattern).any(|(index, _)| {
        let before = text[..index].chars().next_back();
        let after = text[index + pattern.len()..].chars().next();
        let start_ok = pattern
            .chars()
            .next()
            .is_some_and(|first| before.is_none_or(|c| is_word(c) != is_word(first)));
        let end_ok = !end_boundary
            || pattern
                .chars()
                .next_back()
                .is_some_and(|last| after.is_none_or(|c| is_word(c) != is_word(last)));
        start_ok && end_ok
    })
}

/// Returns true when `suffix` (`.py`) occurs followed by a word boundary (`\.py\b`).
fn contains_word_suffix(text: &str, suffix: &str) -> bool {
    text.match_indices(suffix).any(|(index, _)| {
        text[index + suffix.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word(c))
    })
}

/// Resolves a row's execution mode and workspace as Spec Kitty's board does (its workspace
/// resolver, with the board's fallbacks).
fn resolve_workspace(
    front: &str,
    text: &str,
    wp_id: Option<&str>,
    inputs: ViewInputs<'_>,
) -> Result<(String, Result<WorkspaceKind, WorkspaceFailure>), WorkPackageViewError> {
    let declared = extract_scalar(front, "execution_mode");
    let Some(wp_id) = wp_id else {
        return Ok((
            declared.unwrap_or_else(|| "code_change".to_owned()),
            Err(WorkspaceFailure::Unresolvable(
                "no work_package_id".to_owned(),
            )),
        ));
    };
    let normalized = match declared.as_deref() {
        Some(mode @ ("code_change" | "planning_artifact")) => mode.to_owned(),
        Some(other) => {
            return Ok((
                other.to_owned(),
                Err(WorkspaceFailure::Unresolvable(format!(
                    "Invalid execution_mode '{other}' for {wp_id}"
                ))),
            ));
        }
        None => infer_execution_mode(text).to_owned(),
    };
    if normalized == "planning_artifact" {
        return Ok((normalized, Ok(WorkspaceKind::RepoRoot)));
    }
    if inputs.workspace_context_wps.contains(wp_id) {
        return Ok((normalized, Ok(WorkspaceKind::LaneWorkspace)));
    }
    let manifest = match inputs.lanes {
        LanesFile::Missing => {
            return Ok((
                declared.unwrap_or(normalized),
                Err(WorkspaceFailure::LanesMissing),
            ));
        }
        LanesFile::Corrupt(message) => {
            return Err(WorkPackageViewError::LanesCorrupt(message.clone()));
        }
        LanesFile::Present(manifest) => manifest,
    };
    match manifest.lane_for_wp(wp_id) {
        None => Ok((
            declared.unwrap_or_else(|| "code_change".to_owned()),
            Err(WorkspaceFailure::Unresolvable(format!(
                "{wp_id} resolved to execution_mode='{normalized}' but is not assigned to any lane"
            ))),
        )),
        Some(lane) if lane.lane_id == PLANNING_LANE_ID => {
            Ok((normalized, Ok(WorkspaceKind::RepoRoot)))
        }
        Some(_) => Ok((normalized, Ok(WorkspaceKind::LaneWorkspace))),
    }
}

/// The `str()` of a JSON scalar as Python prints it; `None` for null, an empty string and a
/// container.
pub fn python_str(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        other => python_scalar_str(other).filter(|text| !text.is_empty()),
    }
}

/// The ids a set of workspace context values names for one mission, as Spec Kitty indexes
/// them: each context (an object with a non-empty `lane_id` and a `lane_wp_ids` list, for
/// this `mission_slug`) names its `lane_wp_ids`, `current_wp` and `wp_id`.
pub fn workspace_context_wps<'a>(
    contexts: impl IntoIterator<Item = &'a Value>,
    mission_slug: &str,
) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for context in contexts {
        let Some(context) = context.as_object() else {
            continue;
        };
        let lane_ok = context
            .get("lane_id")
            .is_some_and(|lane| lane.as_str().is_some_and(|lane| !lane.is_empty()));
        let Some(Value::Array(lane_wps)) = context.get("lane_wp_ids") else {
            continue;
        };
        if !lane_ok || context.get("mission_slug").and_then(Value::as_str) != Some(mission_slug) {
            continue;
        }
        ids.extend(lane_wps.iter().filter_map(Value::as_str).map(str::to_owned));
        for key in ["current_wp", "wp_id"] {
            if let Some(id) = context
                .get(key)
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
            {
                ids.insert(id.to_owned());
            }
        }
    }
    ids
}

/// The rows keyed by their front-matter id (the first row of an id wins).
pub fn rows_by_id(view: &WorkPackageView) -> BTreeMap<&str, &WorkPackageRow> {
    let mut by_id = BTreeMap::new();
    for row in &view.rows {
        if let Some(id) = row.wp_id.as_deref() {
            by_id.entry(id).or_insert(row);
        }
    }
    by_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::event_log::parse;
    use crate::status::reducer::reduce;

    #[test]
    fn scalars_are_read_line_by_line_as_spec_kitty_reads_them() {
        let front = "work_package_id: WP01\ntitle: \"Fix #12: the \\\"cache\\\"\"\nphase: Phase 1 # core\n\
                     agent_profile: ''\nempty:\nnext: value\nlane: 'x' y\n  title: nested\nodd: \"open\n";
        assert_eq!(
            extract_scalar(front, "work_package_id").as_deref(),
            Some("WP01")
        );
        // A quoted value ends at the first closing quote on its line.
        assert_eq!(
            extract_scalar(front, "title").as_deref(),
            Some("Fix #12: the \\")
        );
        assert_eq!(extract_scalar(front, "phase").as_deref(), Some("Phase 1"));
        // An empty quoted value is an empty string, not a missing one.
        assert_eq!(extract_scalar(front, "agent_profile").as_deref(), Some(""));
        // An empty value takes the next line.
        assert_eq!(
            extract_scalar(front, "empty").as_deref(),
            Some("next: value")
        );
        assert_eq!(extract_scalar(front, "lane").as_deref(), Some("x"));
        assert_eq!(extract_scalar(front, "odd").as_deref(), Some("\"open"));
        assert_eq!(extract_scalar(front, "missing"), None);
        assert_eq!(extract_scalar("title:", "title"), None);
    }

    #[test]
    fn the_front_matter_block_ends_at_the_next_dashes() {
        assert_eq!(front_matter_block("---\r\na: 1\r\n---\r\nbody"), "a: 1");
        assert_eq!(front_matter_block("---\na: 1\n----x\n"), "a: 1");
        assert_eq!(front_matter_block("no front matter"), "");
        assert_eq!(front_matter_block("---\nnever closed\n"), "");
    }

    #[test]
    fn the_execution_mode_is_inferred_from_planning_and_code_signals() {
        assert_eq!(
            infer_execution_mode("Update spec.md and plan.md"),
            "planning_artifact"
        );
        assert_eq!(
            infer_execution_mode("Edit kitty-specs/x/tasks.md"),
            "planning_artifact"
        );
        assert_eq!(
            infer_execution_mode("Update spec.md and src/app.py"),
            "code_change"
        );
        assert_eq!(infer_execution_mode("Nothing to see"), "code_change");
        // Word boundaries: `myspec.md` is not `spec.md`, `contests/` is not `tests/`.
        assert_eq!(
            infer_execution_mode("myspec.md in contests/"),
            "code_change"
        );
        assert_eq!(
            infer_execution_mode("spec.md, not specs/x.pyc"),
            "planning_artifact"
        );
    }

    #[test]
    fn file_ids_are_the_leading_wp_digits() {
        assert_eq!(file_wp_id("WP01-x.md").as_deref(), Some("WP01"));
        assert_eq!(file_wp_id("WP123.md").as_deref(), Some("WP123"));
        assert_eq!(file_wp_id("WPx.md"), None);
    }

    fn task(name: &str, front: &str) -> TaskFile {
        TaskFile {
            file_name: name.to_owned(),
            text: format!("---\n{front}\n---\n# body\n"),
        }
    }

    const ROW: &str = r#"{"actor": "a", "at": "2026-01-01T00:00:0{n}+00:00", "event_id": "01KH0000000000000000000{n}0", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "{from}", "mission_slug": "m", "reason": "r", "review_ref": null, "to_lane": "{to}", "wp_id": "{wp}"}"#;

    fn row(n: u8, wp: &str, from: &str, to: &str) -> String {
        ROW.replace("{n}", &n.to_string())
            .replace("{wp}", wp)
            .replace("{from}", from)
            .replace("{to}", to)
    }

    #[test]
    fn rows_are_task_files_and_log_only_ids_count_apart() -> Result<(), WorkPackageViewError> {
        let log_text = [
            row(1, "WP01", "planned", "done"),
            row(2, "WP03", "planned", "approved"),
            r#"{"actor": "a", "at": "2026-01-01T00:00:09+00:00", "delta": {"note": "x"}, "event_id": "01KH00000000000000000000A0", "kind": "annotation", "wp_id": "WP04"}"#.to_owned(),
        ]
        .join("\n");
        let log = parse(log_text.as_bytes());
        let files = [
            task(
                "WP01-a.md",
                "work_package_id: WP01\ntitle: A\nexecution_mode: code_change",
            ),
            task(
                "WP02-b.md",
                "work_package_id: WP02\nexecution_mode: planning_artifact",
            ),
            task("WP04-d.md", "work_package_id: WP04"),
            task("WP05-e.md", "title: no id"),
        ];
        let view = WorkPackageView::build(
            reduce(&log),
            ViewInputs {
                task_files: &files,
                committed: None,
                lanes: &LanesFile::Missing,
                workspace_context_wps: &BTreeSet::new(),
            },
        )?;
        let lanes: Vec<(Option<&str>, Lane, WorkspaceKind)> = view
            .rows
            .iter()
            .map(|row| (row.wp_id.as_deref(), row.lane, row.workspace_kind))
            .collect();
        assert_eq!(
            lanes,
            [
                (Some("WP01"), Lane::Done, WorkspaceKind::Unknown),
                (Some("WP02"), Lane::Genesis, WorkspaceKind::RepoRoot),
                (Some("WP04"), Lane::Uninitialized, WorkspaceKind::Unknown),
                (None, Lane::Genesis, WorkspaceKind::Unknown),
            ]
        );
        assert_eq!(
            view.log_only,
            [LogOnlyWorkPackage {
                wp_id: "WP03".to_owned(),
                lane: Lane::Approved
            }]
        );
        // Known: by front matter, by the log alone, or by the file name of a file without id.
        assert!(view.knows("WP03") && view.knows("WP04") && view.knows("WP05"));
        assert!(!view.knows("WP06"));
        // (done 1.0 + approved 0.8) / 2 work packages with transitions.
        assert_eq!(view.weighted_percentage(), Some(90.0));
        assert_eq!(
            view.lane_counts(),
            [
                (Lane::Done, 1),
                (Lane::Genesis, 2),
                (Lane::Uninitialized, 1)
            ]
        );
        Ok(())
    }

    #[test]
    fn a_committed_lane_wins_and_a_corrupt_lanes_file_fails_when_needed() {
        let status = parse(row(1, "WP01", "planned", "in_progress").as_bytes());
        let committed = reduce(&parse(row(2, "WP01", "planned", "done").as_bytes()));
        let files = [task("WP01-a.md", "work_package_id: WP01")];
        let build = |lanes: &LanesFile, committed: Option<&StatusSnapshot>| {
            WorkPackageView::build(
                reduce(&status),
                ViewInputs {
                    task_files: &files,
                    committed,
                    lanes,
                    workspace_context_wps: &BTreeSet::new(),
                },
            )
        };
        let view = build(&LanesFile::Missing, Some(&committed));
        assert_eq!(view.map(|view| view.rows[0].lane), Ok(Lane::Done));
        let corrupt = LanesFile::Corrupt("'mission_slug'".to_owned());
        assert_eq!(
            build(&corrupt, None),
            Err(WorkPackageViewError::LanesCorrupt(
                "'mission_slug'".to_owned()
            ))
        );
    }

    #[test]
    fn python_str_prints_scalars_as_python() {
        assert_eq!(
            python_str(Some(&Value::from(75042))).as_deref(),
            Some("75042")
        );
        assert_eq!(
            python_str(Some(&Value::from(true))).as_deref(),
            Some("True")
        );
        assert_eq!(python_str(Some(&Value::from(""))), None);
        assert_eq!(python_str(Some(&Value::Null)), None);
        assert_eq!(python_str(None), None);
    }
}
