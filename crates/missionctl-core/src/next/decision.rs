//! The decision `next` prints: Spec Kitty's `next --json` document, field for field and in
//! its key order, with missionctl's `mission_id` added at the end.

use serde::Serialize;
use serde_json::{Map, Value};

/// What kind of answer a decision is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// A step issued to the agent (advancing mode).
    Step,
    /// Someone must answer a decision before the run goes on.
    DecisionRequired,
    /// The run cannot go on.
    Blocked,
    /// The mission is done (advancing mode).
    Terminal,
    /// A query: the mission's state, shown only.
    Query,
}

impl DecisionKind {
    /// Returns the wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Step => "step",
            DecisionKind::DecisionRequired => "decision_required",
            DecisionKind::Blocked => "blocked",
            DecisionKind::Terminal => "terminal",
            DecisionKind::Query => "query",
        }
    }
}

/// Work-package counts, in Spec Kitty's `progress` shape.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Progress {
    /// Every work-package file.
    pub total_wps: usize,
    /// `done`.
    pub done_wps: usize,
    /// `approved`.
    pub approved_wps: usize,
    /// `claimed` or `in_progress`.
    pub in_progress_wps: usize,
    /// `planned`.
    pub planned_wps: usize,
    /// `for_review` or `in_review`.
    pub for_review_wps: usize,
    /// The lane-weighted progress of every work package of the log, rounded to one decimal
    /// (absent when the log could not be reduced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_percentage: Option<f64>,
}

/// The decision document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The kind of answer.
    pub kind: DecisionKind,
    /// The agent asking, if named.
    pub agent: Option<String>,
    /// The mission's directory name.
    pub mission_slug: String,
    /// The digits of a leading `NNN-` of the directory name without leading zeros, or `""`.
    pub mission_number: String,
    /// The mission type recorded in `meta.json` (`""` when none is).
    pub mission_type: String,
    /// The same mission type (Spec Kitty's older field).
    pub mission: String,
    /// Where the mission stands: a step id, `not_started`, `blocked`, `done`, …
    pub mission_state: String,
    /// When the decision was made (UTC, ISO 8601).
    pub timestamp: String,
    /// The action to run (advancing mode only).
    pub action: Option<String>,
    /// The work package the action is about.
    pub wp_id: Option<String>,
    /// Where to work (advancing mode only).
    pub workspace_path: Option<String>,
    /// The prompt to follow (advancing mode only).
    pub prompt_file: Option<String>,
    /// Why the mission is blocked, done, or has no work package to hand out.
    pub reason: Option<String>,
    /// What is still missing before the step is complete (advancing mode only).
    pub guard_failures: Vec<String>,
    /// Work-package counts, when the mission has work-package files.
    pub progress: Option<Progress>,
    /// Where the mission's template came from (advancing mode; `{}` for a query).
    pub origin: Map<String, Value>,
    /// The mission's persisted run.
    pub run_id: Option<String>,
    /// The run's step.
    pub step_id: Option<String>,
    /// The decision to answer.
    pub decision_id: Option<String>,
    /// The input a decision asks for.
    pub input_key: Option<String>,
    /// The decision's question.
    pub question: Option<String>,
    /// The decision's answers.
    pub options: Option<Vec<String>>,
    /// True for a query.
    pub is_query: bool,
    /// For a query: the step the mission would take next.
    pub preview_step: Option<String>,
    /// missionctl's addition: the mission's ULID, when `meta.json` has one.
    pub mission_id: Option<String>,
}

impl Decision {
    /// Returns a decision of `kind` about a mission with every optional field empty.
    pub fn new(
        kind: DecisionKind,
        identity: &DecisionIdentity,
        mission_state: &str,
        timestamp: &str,
    ) -> Decision {
        Decision {
            kind,
            agent: identity.agent.clone(),
            mission_slug: identity.mission_slug.clone(),
            mission_number: mission_number_from_slug(&identity.mission_slug),
            mission_type: identity.mission_type.clone(),
            mission: identity.mission_type.clone(),
            mission_state: mission_state.to_owned(),
            timestamp: timestamp.to_owned(),
            action: None,
            wp_id: None,
            workspace_path: None,
            prompt_file: None,
            reason: None,
            guard_failures: Vec::new(),
            progress: None,
            origin: Map::new(),
            run_id: None,
            step_id: None,
            decision_id: None,
            input_key: None,
            question: None,
            options: None,
            is_query: kind == DecisionKind::Query,
            preview_step: None,
            mission_id: identity.mission_id.clone(),
        }
    }
}

/// Who asks about which mission: the fields every decision repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecisionIdentity {
    /// The agent asking, if named.
    pub agent: Option<String>,
    /// The mission's directory name.
    pub mission_slug: String,
    /// The mission type from the primary `meta.json` (`""` when none is recorded).
    pub mission_type: String,
    /// The mission's ULID, when `meta.json` has one.
    pub mission_id: Option<String>,
}

/// Returns the mission number a decision shows: the digits of a leading `NNN-` of the directory
/// name, without leading zeros (`064-x` → `64`, `000-x` → `0`), else `""`. `meta.json`'s
/// number is not used.
pub fn mission_number_from_slug(mission_slug: &str) -> String {
    let slug = mission_slug.trim();
    let digits = slug.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || slug.as_bytes().get(digits) != Some(&b'-') {
        return String::new();
    }
    let number = slug[..digits].trim_start_matches('0');
    if number.is_empty() {
        "0".to_owned()
    } else {
        number.to_owned()
    }
}

/// Returns the mission type `meta.json` records: its `mission_type`, trimmed, when that is a
/// non-blank string; `""` otherwise (the legacy `mission` field is not read).
pub fn recorded_mission_type(meta: &Map<String, Value>) -> String {
    meta.get("mission_type")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mission_numbers_come_from_the_directory_name() {
        assert_eq!(mission_number_from_slug("064-x"), "64");
        assert_eq!(mission_number_from_slug("000-x"), "0");
        assert_eq!(mission_number_from_slug("1234-x"), "1234");
        assert_eq!(mission_number_from_slug("invoice-export-01M80ATV"), "");
        assert_eq!(mission_number_from_slug("064x"), "");
        assert_eq!(mission_number_from_slug("064"), "");
    }

    #[test]
    fn the_document_has_spec_kittys_keys_in_order() {
        let identity = DecisionIdentity {
            agent: Some("claude".to_owned()),
            mission_slug: "007-x".to_owned(),
            mission_type: "research".to_owned(),
            mission_id: None,
        };
        let decision = Decision::new(DecisionKind::Query, &identity, "done", "t");
        let value = serde_json::to_value(&decision).expect("json");
        let text = serde_json::to_string(&decision).expect("json");
        let keys: Vec<&str> = [
            "kind",
            "agent",
            "mission_slug",
            "mission_number",
            "mission_type",
            "mission",
            "mission_state",
            "timestamp",
            "action",
            "wp_id",
            "workspace_path",
            "prompt_file",
            "reason",
            "guard_failures",
            "progress",
            "origin",
            "run_id",
            "step_id",
            "decision_id",
            "input_key",
            "question",
            "options",
            "is_query",
            "preview_step",
            "mission_id",
        ]
        .to_vec();
        let mut last = 0;
        for key in keys {
            let at = text.find(&format!("\"{key}\":")).expect(key);
            assert!(at >= last, "{key} out of order");
            last = at;
        }
        assert_eq!(value["mission_number"], "7");
        assert_eq!(value["is_query"], true);
        assert_eq!(value["origin"], serde_json::json!({}));
    }
}
