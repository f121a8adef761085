//! The runtime's run files, as Spec Kitty's `next` writes them under `.kittify/runtime/`:
//! a run's snapshot (`runs/<run_id>/state.json`, [`MissionRunSnapshot`]), its event log
//! (`runs/<run_id>/run.events.jsonl`, [`RunEvent`]), the in-memory handle of a run
//! ([`MissionRunRef`]) and the mission → run index (`feature-runs.json`, [`FeatureRunsIndex`]).
//!
//! Every model reads what Spec Kitty wrote, keeps the keys it does not know, and writes bytes
//! Spec Kitty's writer would write for the same value:
//!
//! - `state.json` and `feature-runs.json`: `json.dumps(obj, indent=2, sort_keys=True)`, ASCII
//!   escaped, **no trailing newline** ([`Style::IndentedAscii`]);
//! - `run.events.jsonl`: one `json.dumps(event, sort_keys=True)` per line ([`Style::Compact`]).
//!
//! The snapshot and the run reference carry the mission's identity (`mission_id`, the ULID from
//! `meta.json`, and `mission_slug`, the directory name); files written before those fields
//! existed load with both `None`, and a snapshot is always written with both keys, `null` when
//! unknown, as Pydantic writes an optional field. An index entry is kept exactly as read until it
//! is replaced, because Spec Kitty rewrites the index without re-validating the other entries.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::text::pyjson::{self, Style};

/// The directory under the repository root that holds the runtime's files.
pub const RUNTIME_DIR: &str = ".kittify/runtime";
/// The mission → run index, inside [`RUNTIME_DIR`].
pub const FEATURE_RUNS_FILE: &str = "feature-runs.json";
/// The directory of the runs, inside [`RUNTIME_DIR`].
pub const RUNS_DIR: &str = "runs";
/// A run's snapshot, inside its run directory.
pub const STATE_FILE: &str = "state.json";
/// A run's event log, inside its run directory.
pub const EVENTS_FILE: &str = "run.events.jsonl";
/// The verbatim bytes of the mission template the run was started from.
pub const FROZEN_TEMPLATE_FILE: &str = "mission_template_frozen.yaml";

/// Why a run file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunFileError {
    /// The bytes are not JSON.
    #[error("Not valid JSON: {0}")]
    Json(String),
    /// The document is not a JSON object.
    #[error("Expected a JSON object")]
    NotAnObject,
    /// A required field is missing.
    #[error("Missing required field `{0}`")]
    Missing(&'static str),
    /// A field has the wrong type.
    #[error("Field `{field}` must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

/// Returns true when `run_id` can name a run directory: 1 to 64 ASCII letters, digits, `-` or
/// `_` (Spec Kitty mints 32 lowercase hex digits).
pub fn is_valid_run_id(run_id: &str) -> bool {
    !run_id.is_empty()
        && run_id.len() <= 64
        && run_id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Returns a UUID version 4 in Spec Kitty's run-id spelling (32 lowercase hex digits, no dashes)
/// from 128 random bits; the version and variant bits are set here.
pub fn run_id_from_random(random: u128) -> String {
    let value = (random & !(0xf << 76) & !(0b11 << 62)) | (0x4 << 76) | (0b10 << 62);
    format!("{value:032x}")
}

/// The policy a run was started with (`policy_snapshot`).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySnapshot {
    /// `off`, `medium` or `max`.
    pub strictness: String,
    /// How steps are routed by default.
    pub default_route: String,
    /// Free-form extras.
    pub extras: Map<String, Value>,
    /// Keys this version does not know, written back as read.
    pub unknown: Map<String, Value>,
}

impl Default for PolicySnapshot {
    fn default() -> PolicySnapshot {
        PolicySnapshot {
            strictness: "medium".to_owned(),
            default_route: "same_llm_context".to_owned(),
            extras: Map::new(),
            unknown: Map::new(),
        }
    }
}

/// A run's snapshot: the content of `state.json`.
///
/// It is serialized only through [`MissionRunSnapshot::to_value`], the one place that knows the
/// file's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct MissionRunSnapshot {
    /// The run id (32 lowercase hex digits).
    pub run_id: String,
    /// The template's mission key, e.g. `software-dev`.
    pub mission_key: String,
    /// Where the template came from (a path, or a built-in name).
    pub template_path: String,
    /// The SHA-256 hex digest of the frozen template's bytes.
    pub template_hash: String,
    /// The policy the run was started with.
    pub policy_snapshot: PolicySnapshot,
    /// The steps completed so far, in order.
    pub completed_steps: Vec<String>,
    /// The step handed to an agent and not reported on yet.
    pub issued_step_id: Option<String>,
    /// The run's inputs (`{"mission_slug": …}` for a mission's run).
    pub inputs: Map<String, Value>,
    /// Answered decisions.
    pub decisions: Map<String, Value>,
    /// Decisions waiting for an answer.
    pub pending_decisions: Map<String, Value>,
    /// Why the run cannot go on, when it cannot.
    pub blocked_reason: Option<String>,
    /// The mission's ULID from `meta.json`; `None` in files written before the field existed.
    pub mission_id: Option<String>,
    /// The mission's directory name; `None` in files written before the field existed.
    pub mission_slug: Option<String>,
    /// Keys this version does not know, written back as read.
    pub unknown: Map<String, Value>,
}

impl MissionRunSnapshot {
    /// Returns the snapshot of a run that was just started: nothing completed or issued.
    pub fn new_run(
        run_id: &str,
        mission_key: &str,
        template_path: &str,
        template_hash: &str,
        mission_id: Option<&str>,
        mission_slug: &str,
    ) -> MissionRunSnapshot {
        let mut inputs = Map::new();
        inputs.insert(
            "mission_slug".to_owned(),
            Value::String(mission_slug.to_owned()),
        );
        MissionRunSnapshot {
            run_id: run_id.to_owned(),
            mission_key: mission_key.to_owned(),
            template_path: template_path.to_owned(),
            template_hash: template_hash.to_owned(),
            policy_snapshot: PolicySnapshot::default(),
            completed_steps: Vec::new(),
            issued_step_id: None,
            inputs,
            decisions: Map::new(),
            pending_decisions: Map::new(),
            blocked_reason: None,
            mission_id: mission_id.map(str::to_owned),
            mission_slug: Some(mission_slug.to_owned()),
            unknown: Map::new(),
        }
    }

    /// Parses the bytes of a `state.json`.
    pub fn parse(bytes: &[u8]) -> Result<MissionRunSnapshot, RunFileError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|error| RunFileError::Json(error.to_string()))?;
        MissionRunSnapshot::from_value(value)
    }

    /// Reads a snapshot from a JSON value; missing optional fields take Spec Kitty's defaults.
    pub fn from_value(value: Value) -> Result<MissionRunSnapshot, RunFileError> {
        let Value::Object(mut fields) = value else {
            return Err(RunFileError::NotAnObject);
        };
        let policy_snapshot = match fields.remove("policy_snapshot") {
            None | Some(Value::Null) => PolicySnapshot::default(),
            Some(Value::Object(mut policy)) => {
                let defaults = PolicySnapshot::default();
                PolicySnapshot {
                    strictness: take_string(&mut policy, "strictness")?
                        .unwrap_or(defaults.strictness),
                    default_route: take_string(&mut policy, "default_route")?
                        .unwrap_or(defaults.default_route),
                    extras: take_object(&mut policy, "extras")?.unwrap_or_default(),
                    unknown: policy,
                }
            }
            Some(_) => {
                return Err(RunFileError::WrongType {
                    field: "policy_snapshot",
                    expected: "an object",
                });
            }
        };
        Ok(MissionRunSnapshot {
            run_id: required(take_string(&mut fields, "run_id")?, "run_id")?,
            mission_key: required(take_string(&mut fields, "mission_key")?, "mission_key")?,
            template_path: required(take_string(&mut fields, "template_path")?, "template_path")?,
            template_hash: required(take_string(&mut fields, "template_hash")?, "template_hash")?,
            policy_snapshot,
            completed_steps: take_strings(&mut fields, "completed_steps")?,
            issued_step_id: take_string(&mut fields, "issued_step_id")?,
            inputs: take_object(&mut fields, "inputs")?.unwrap_or_default(),
            decisions: take_object(&mut fields, "decisions")?.unwrap_or_default(),
            pending_decisions: take_object(&mut fields, "pending_decisions")?.unwrap_or_default(),
            blocked_reason: take_string(&mut fields, "blocked_reason")?,
            mission_id: take_string(&mut fields, "mission_id")?,
            mission_slug: take_string(&mut fields, "mission_slug")?,
            unknown: fields,
        })
    }

    /// Returns the snapshot as a JSON value (every known field, `null` for an unknown identity).
    pub fn to_value(&self) -> Value {
        let mut policy = self.policy_snapshot.unknown.clone();
        policy.insert(
            "strictness".to_owned(),
            Value::String(self.policy_snapshot.strictness.clone()),
        );
        policy.insert(
            "default_route".to_owned(),
            Value::String(self.policy_snapshot.default_route.clone()),
        );
        policy.insert(
            "extras".to_owned(),
            Value::Object(self.policy_snapshot.extras.clone()),
        );
        let mut fields = self.unknown.clone();
        let text = |value: &str| Value::String(value.to_owned());
        let optional = |value: &Option<String>| value.clone().map_or(Value::Null, Value::String);
        fields.insert("run_id".to_owned(), text(&self.run_id));
        fields.insert("mission_key".to_owned(), text(&self.mission_key));
        fields.insert("template_path".to_owned(), text(&self.template_path));
        fields.insert("template_hash".to_owned(), text(&self.template_hash));
        fields.insert("policy_snapshot".to_owned(), Value::Object(policy));
        fields.insert(
            "completed_steps".to_owned(),
            Value::Array(self.completed_steps.iter().map(|step| text(step)).collect()),
        );
        fields.insert("issued_step_id".to_owned(), optional(&self.issued_step_id));
        fields.insert("inputs".to_owned(), Value::Object(self.inputs.clone()));
        fields.insert(
            "decisions".to_owned(),
            Value::Object(self.decisions.clone()),
        );
        fields.insert(
            "pending_decisions".to_owned(),
            Value::Object(self.pending_decisions.clone()),
        );
        fields.insert("blocked_reason".to_owned(), optional(&self.blocked_reason));
        fields.insert("mission_id".to_owned(), optional(&self.mission_id));
        fields.insert("mission_slug".to_owned(), optional(&self.mission_slug));
        Value::Object(fields)
    }

    /// Returns the bytes of `state.json` as Spec Kitty writes them (no trailing newline).
    pub fn to_json_string(&self) -> String {
        pyjson::to_string(&self.to_value(), Style::IndentedAscii)
    }
}

/// The in-memory handle of a run, returned by starting or loading one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionRunRef {
    /// The run id.
    pub run_id: String,
    /// The run directory (absolute path).
    pub run_dir: String,
    /// The template's mission key.
    pub mission_key: String,
    /// The mission's ULID, when known.
    pub mission_id: Option<String>,
    /// The mission's directory name, when known.
    pub mission_slug: Option<String>,
}

/// One valid entry of `feature-runs.json`: a mission's current run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureRunEntry {
    /// The run id.
    pub run_id: String,
    /// The run directory as recorded (an absolute path on the machine that wrote it).
    pub run_dir: String,
    /// The mission type (`mission_type`, else the legacy `mission_key`).
    pub mission_type: Option<String>,
    /// The template's mission key, when recorded.
    pub mission_key: Option<String>,
    /// The mission's ULID, when recorded (entries written before the field existed have none).
    pub mission_id: Option<String>,
    /// The mission's directory name, when recorded.
    pub mission_slug: Option<String>,
}

impl FeatureRunEntry {
    /// Returns the entry of a run reference, as missionctl writes it.
    pub fn for_run(run: &MissionRunRef, mission_type: &str) -> FeatureRunEntry {
        FeatureRunEntry {
            run_id: run.run_id.clone(),
            run_dir: run.run_dir.clone(),
            mission_type: Some(mission_type.to_owned()),
            mission_key: Some(run.mission_key.clone()),
            mission_id: run.mission_id.clone(),
            mission_slug: run.mission_slug.clone(),
        }
    }

    /// Reads an entry the way Spec Kitty's loader does: `run_id` and `run_dir` must be strings,
    /// everything else is optional. `None` for an entry Spec Kitty would skip.
    fn from_value(value: &Value) -> Option<FeatureRunEntry> {
        let fields = value.as_object()?;
        let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(FeatureRunEntry {
            run_id: text("run_id")?,
            run_dir: text("run_dir")?,
            mission_type: text("mission_type").or_else(|| text("mission_key")),
            mission_key: text("mission_key"),
            mission_id: text("mission_id"),
            mission_slug: text("mission_slug"),
        })
    }

    fn to_value(&self) -> Value {
        let optional = |value: &Option<String>| value.clone().map_or(Value::Null, Value::String);
        let mut fields = Map::new();
        fields.insert("run_id".to_owned(), Value::String(self.run_id.clone()));
        fields.insert("run_dir".to_owned(), Value::String(self.run_dir.clone()));
        fields.insert("mission_type".to_owned(), optional(&self.mission_type));
        fields.insert("mission_key".to_owned(), optional(&self.mission_key));
        fields.insert("mission_id".to_owned(), optional(&self.mission_id));
        fields.insert("mission_slug".to_owned(), optional(&self.mission_slug));
        Value::Object(fields)
    }
}

/// The mission → run index, `feature-runs.json`: an object keyed by mission directory name.
///
/// Entries are kept as read (unknown keys and all) until [`FeatureRunsIndex::insert`] replaces
/// one, so rewriting the index never changes another mission's entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureRunsIndex {
    entries: Map<String, Value>,
}

impl FeatureRunsIndex {
    /// Parses the bytes of `feature-runs.json`.
    ///
    /// Spec Kitty reads a file that is not a JSON object as empty; the caller decides whether to
    /// do the same (reads) or to refuse to overwrite it (writes).
    pub fn parse(bytes: &[u8]) -> Result<FeatureRunsIndex, RunFileError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(entries)) => Ok(FeatureRunsIndex { entries }),
            Ok(_) => Err(RunFileError::NotAnObject),
            Err(error) => Err(RunFileError::Json(error.to_string())),
        }
    }

    /// Returns the valid entry of a mission, if any.
    pub fn entry(&self, mission_slug: &str) -> Option<FeatureRunEntry> {
        self.entries
            .get(mission_slug)
            .and_then(FeatureRunEntry::from_value)
    }

    /// Returns every valid entry, keyed by mission directory name, in key order.
    pub fn entries(&self) -> Vec<(String, FeatureRunEntry)> {
        let mut entries: Vec<(String, FeatureRunEntry)> = self
            .entries
            .iter()
            .filter_map(|(slug, value)| {
                FeatureRunEntry::from_value(value).map(|entry| (slug.clone(), entry))
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// Returns the mission directory name and entry recorded for a mission ULID (the reverse
    /// lookup). Entries written before `mission_id` existed are never matched.
    pub fn find_by_mission_id(&self, mission_id: &str) -> Option<(String, FeatureRunEntry)> {
        self.entries()
            .into_iter()
            .find(|(_, entry)| entry.mission_id.as_deref() == Some(mission_id))
    }

    /// Returns the mission directory name and entry of a run id.
    pub fn find_by_run_id(&self, run_id: &str) -> Option<(String, FeatureRunEntry)> {
        self.entries()
            .into_iter()
            .find(|(_, entry)| entry.run_id == run_id)
    }

    /// Sets a mission's entry, replacing any previous one.
    pub fn insert(&mut self, mission_slug: &str, entry: &FeatureRunEntry) {
        self.entries
            .insert(mission_slug.to_owned(), entry.to_value());
    }

    /// Returns the number of keys (valid entries or not).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when the index has no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the bytes of `feature-runs.json` as Spec Kitty writes them (no trailing newline).
    pub fn to_json_string(&self) -> String {
        pyjson::to_string(&Value::Object(self.entries.clone()), Style::IndentedAscii)
    }
}

/// Who emitted a run event, in Spec Kitty's `RuntimeActorIdentity` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunActor<'a> {
    /// The runtime itself (`actor_id: "system"`, `actor_type: "service"`).
    System,
    /// An agent, by name (`actor_type: "llm"`).
    Agent(&'a str),
}

impl RunActor<'_> {
    fn to_value(self) -> Value {
        let (id, kind) = match self {
            RunActor::System => ("system", "service"),
            RunActor::Agent(name) => (name, "llm"),
        };
        let mut fields = Map::new();
        fields.insert("actor_id".to_owned(), Value::String(id.to_owned()));
        fields.insert("actor_type".to_owned(), Value::String(kind.to_owned()));
        fields.insert("display_name".to_owned(), Value::String(String::new()));
        fields.insert("model".to_owned(), Value::Null);
        fields.insert("provider".to_owned(), Value::Null);
        fields.insert("tool".to_owned(), Value::Null);
        Value::Object(fields)
    }
}

/// One line of `run.events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEvent {
    /// `MissionRunStarted`, `NextStepIssued`, `NextStepAutoCompleted`, ….
    pub event_type: String,
    /// The event's payload, kept as read.
    pub payload: Value,
    /// When, in Python's `isoformat()` shape.
    pub timestamp: String,
    /// Keys this version does not know, written back as read.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

impl RunEvent {
    /// Returns a `MissionRunStarted` event.
    pub fn mission_run_started(run_id: &str, mission_type: &str, timestamp: &str) -> RunEvent {
        RunEvent::new(
            "MissionRunStarted",
            [
                ("actor", RunActor::System.to_value()),
                ("mission_type", Value::String(mission_type.to_owned())),
                ("run_id", Value::String(run_id.to_owned())),
            ],
            timestamp,
        )
    }

    /// Returns a `NextStepIssued` event: `step_id` was handed to `agent`.
    pub fn next_step_issued(run_id: &str, agent: &str, step_id: &str, timestamp: &str) -> RunEvent {
        RunEvent::new(
            "NextStepIssued",
            [
                ("actor", RunActor::Agent(agent).to_value()),
                ("agent_id", Value::String(agent.to_owned())),
                ("run_id", Value::String(run_id.to_owned())),
                ("step_id", Value::String(step_id.to_owned())),
            ],
            timestamp,
        )
    }

    /// Returns a `NextStepAutoCompleted` event: `agent` reported `result` for `step_id`.
    pub fn next_step_auto_completed(
        run_id: &str,
        agent: &str,
        step_id: &str,
        result: &str,
        timestamp: &str,
    ) -> RunEvent {
        RunEvent::new(
            "NextStepAutoCompleted",
            [
                ("actor", RunActor::Agent(agent).to_value()),
                ("agent_id", Value::String(agent.to_owned())),
                ("result", Value::String(result.to_owned())),
                ("run_id", Value::String(run_id.to_owned())),
                ("step_id", Value::String(step_id.to_owned())),
            ],
            timestamp,
        )
    }

    fn new<const N: usize>(
        event_type: &str,
        payload: [(&str, Value); N],
        timestamp: &str,
    ) -> RunEvent {
        RunEvent {
            event_type: event_type.to_owned(),
            payload: Value::Object(
                payload
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect(),
            ),
            timestamp: timestamp.to_owned(),
            unknown: Map::new(),
        }
    }

    /// Parses one line of the log.
    pub fn parse_line(line: &str) -> Result<RunEvent, RunFileError> {
        let value: Value =
            serde_json::from_str(line).map_err(|error| RunFileError::Json(error.to_string()))?;
        let Value::Object(mut fields) = value else {
            return Err(RunFileError::NotAnObject);
        };
        Ok(RunEvent {
            event_type: required(take_string(&mut fields, "event_type")?, "event_type")?,
            payload: fields.remove("payload").unwrap_or(Value::Null),
            timestamp: required(take_string(&mut fields, "timestamp")?, "timestamp")?,
            unknown: fields,
        })
    }

    /// Returns the event as one line of JSON, without the newline.
    pub fn to_json_line(&self) -> String {
        let mut fields = self.unknown.clone();
        fields.insert(
            "event_type".to_owned(),
            Value::String(self.event_type.clone()),
        );
        fields.insert("payload".to_owned(), self.payload.clone());
        fields.insert(
            "timestamp".to_owned(),
            Value::String(self.timestamp.clone()),
        );
        pyjson::to_string(&Value::Object(fields), Style::Compact)
    }

    /// Returns the payload's `step_id`, if any.
    pub fn step_id(&self) -> Option<&str> {
        self.payload.get("step_id").and_then(Value::as_str)
    }
}

/// A parsed `run.events.jsonl`: the events, and the 1-based numbers of the lines that are not
/// events (never dropped silently: the caller reports them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunEventLog {
    /// The events, in file order.
    pub events: Vec<RunEvent>,
    /// Lines that could not be read, with why.
    pub errors: Vec<(usize, RunFileError)>,
}

impl RunEventLog {
    /// Parses the bytes of a log; blank lines are skipped.
    pub fn parse(bytes: &[u8]) -> RunEventLog {
        let mut log = RunEventLog::default();
        for (index, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = std::str::from_utf8(line)
                .map_err(|error| RunFileError::Json(error.to_string()))
                .and_then(RunEvent::parse_line);
            match parsed {
                Ok(event) => log.events.push(event),
                Err(error) => log.errors.push((index + 1, error)),
            }
        }
        log
    }

    /// Returns the bytes of the log as Spec Kitty appends it: one line per event, each ending
    /// in a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for event in &self.events {
            out.push_str(&event.to_json_line());
            out.push('\n');
        }
        out.into_bytes()
    }
}

fn required<T>(value: Option<T>, field: &'static str) -> Result<T, RunFileError> {
    value.ok_or(RunFileError::Missing(field))
}

/// Removes a string-or-null field; `None` when absent or null.
fn take_string(
    fields: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, RunFileError> {
    match fields.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(RunFileError::WrongType {
            field,
            expected: "a string or null",
        }),
    }
}

fn take_object(
    fields: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<Map<String, Value>>, RunFileError> {
    match fields.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(RunFileError::WrongType {
            field,
            expected: "an object",
        }),
    }
}

fn take_strings(
    fields: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Vec<String>, RunFileError> {
    let wrong = RunFileError::WrongType {
        field,
        expected: "a list of strings",
    };
    match fields.remove(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                _ => Err(wrong.clone()),
            })
            .collect(),
        Some(_) => Err(wrong),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD_STATE: &str = r#"{
  "blocked_reason": null,
  "completed_steps": [],
  "decisions": {},
  "inputs": {
    "feature_slug": "042-old"
  },
  "issued_step_id": "specify",
  "mission_key": "software-dev",
  "pending_decisions": {},
  "policy_snapshot": {
    "default_route": "same_llm_context",
    "extras": {},
    "strictness": "medium"
  },
  "run_id": "0123456789abcdef0123456789abcdef",
  "template_hash": "00",
  "template_path": "/x/mission-runtime.yaml"
}"#;

    #[test]
    fn a_snapshot_without_identity_loads_and_is_written_with_nulls() -> Result<(), RunFileError> {
        let snapshot = MissionRunSnapshot::parse(OLD_STATE.as_bytes())?;
        assert_eq!(snapshot.mission_id, None);
        assert_eq!(snapshot.mission_slug, None);
        assert_eq!(snapshot.issued_step_id.as_deref(), Some("specify"));
        let written = snapshot.to_json_string();
        assert!(written.contains("\n  \"mission_id\": null,\n"));
        assert!(written.contains("\n  \"mission_slug\": null,\n"));
        assert!(!written.ends_with('\n'));
        // Reading the written bytes back gives the same value and the same bytes.
        let again = MissionRunSnapshot::parse(written.as_bytes())?;
        assert_eq!(again, snapshot);
        assert_eq!(again.to_json_string(), written);
        Ok(())
    }

    #[test]
    fn a_minimal_snapshot_takes_the_defaults() -> Result<(), RunFileError> {
        let snapshot = MissionRunSnapshot::parse(
            br#"{"run_id": "r", "mission_key": "k", "template_path": "p", "template_hash": "h"}"#,
        )?;
        assert_eq!(snapshot.policy_snapshot, PolicySnapshot::default());
        assert!(snapshot.completed_steps.is_empty());
        assert_eq!(snapshot.blocked_reason, None);
        Ok(())
    }

    #[test]
    fn unknown_keys_survive_a_rewrite() -> Result<(), RunFileError> {
        let text = OLD_STATE.replace(
            "\"run_id\"",
            "\"future_field\": [1, 2.5, \"\\u00e9\"],\n  \"run_id\"",
        );
        let snapshot = MissionRunSnapshot::parse(text.as_bytes())?;
        assert_eq!(snapshot.to_json_string(), {
            let mut expected = MissionRunSnapshot::parse(OLD_STATE.as_bytes())?;
            expected
                .unknown
                .insert("future_field".to_owned(), serde_json::json!([1, 2.5, "é"]));
            expected.to_json_string()
        });
        assert!(snapshot.to_json_string().contains("\"\\u00e9\""));
        Ok(())
    }

    #[test]
    fn malformed_snapshots_are_refused_with_the_field() {
        let cases: [(&[u8], RunFileError); 4] = [
            (b"[]", RunFileError::NotAnObject),
            (
                br#"{"mission_key": "k", "template_path": "p", "template_hash": "h"}"#,
                RunFileError::Missing("run_id"),
            ),
            (
                br#"{"run_id": "r", "mission_key": "k", "template_path": "p", "template_hash": "h", "completed_steps": "x"}"#,
                RunFileError::WrongType {
                    field: "completed_steps",
                    expected: "a list of strings",
                },
            ),
            (
                br#"{"run_id": 3, "mission_key": "k", "template_path": "p", "template_hash": "h"}"#,
                RunFileError::WrongType {
                    field: "run_id",
                    expected: "a string or null",
                },
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(MissionRunSnapshot::parse(bytes), Err(expected));
        }
        assert!(matches!(
            MissionRunSnapshot::parse(b"{"),
            Err(RunFileError::Json(_))
        ));
    }

    #[test]
    fn new_runs_carry_both_identity_fields() {
        let snapshot = MissionRunSnapshot::new_run(
            "r",
            "software-dev",
            "p",
            "h",
            Some("01M803MDRS53V2DGSWAJD0E9EW"),
            "task-list-01M803MD",
        );
        let value = snapshot.to_value();
        assert_eq!(value["mission_id"], "01M803MDRS53V2DGSWAJD0E9EW");
        assert_eq!(value["mission_slug"], "task-list-01M803MD");
        assert_eq!(value["inputs"]["mission_slug"], "task-list-01M803MD");
    }

    #[test]
    fn the_index_looks_up_both_ways_and_keeps_other_entries() -> Result<(), RunFileError> {
        let legacy = br#"{"042-old": {"run_dir": "/r/old", "run_id": "old", "x": 1}, "junk": 3}"#;
        let mut index = FeatureRunsIndex::parse(legacy)?;
        let legacy_entry = index
            .entry("042-old")
            .ok_or(RunFileError::Missing("entry"))?;
        assert_eq!(legacy_entry.mission_id, None);
        assert_eq!(index.entry("junk"), None);
        let run = MissionRunRef {
            run_id: "new".to_owned(),
            run_dir: "/r/new".to_owned(),
            mission_key: "software-dev".to_owned(),
            mission_id: Some("01M803MDRS53V2DGSWAJD0E9EW".to_owned()),
            mission_slug: Some("task-list-01M803MD".to_owned()),
        };
        index.insert(
            "task-list-01M803MD",
            &FeatureRunEntry::for_run(&run, "software-dev"),
        );
        let (slug, entry) = index
            .find_by_mission_id("01M803MDRS53V2DGSWAJD0E9EW")
            .ok_or(RunFileError::Missing("reverse"))?;
        assert_eq!(slug, "task-list-01M803MD");
        assert_eq!(entry.run_id, "new");
        assert_eq!(
            index.find_by_run_id("old").map(|(slug, _)| slug).as_deref(),
            Some("042-old")
        );
        let written = index.to_json_string();
        assert!(written.contains("\"x\": 1"));
        assert!(written.contains("\"junk\": 3"));
        assert_eq!(FeatureRunsIndex::parse(written.as_bytes())?, index);
        assert_eq!(index.len(), 3);
        Ok(())
    }

    #[test]
    fn run_ids_are_uuid4_hex() {
        let id = run_id_from_random(u128::MAX);
        assert_eq!(id.len(), 32);
        assert_eq!(&id[12..13], "4");
        assert!(matches!(&id[16..17], "8" | "9" | "a" | "b"));
        assert_eq!(run_id_from_random(0), "00000000000040008000000000000000");
        assert!(is_valid_run_id(&id));
        for bad in ["", "../x", "a/b", "a b", &"a".repeat(65)] {
            assert!(!is_valid_run_id(bad), "{bad}");
        }
    }

    #[test]
    fn events_round_trip_and_name_bad_lines() {
        let event =
            RunEvent::next_step_issued("r", "claude", "specify", "2026-01-01T00:00:00+00:00");
        let line = event.to_json_line();
        assert_eq!(
            line,
            r#"{"event_type": "NextStepIssued", "payload": {"actor": {"actor_id": "claude", "actor_type": "llm", "display_name": "", "model": null, "provider": null, "tool": null}, "agent_id": "claude", "run_id": "r", "step_id": "specify"}, "timestamp": "2026-01-01T00:00:00+00:00"}"#
        );
        let log = RunEventLog::parse(format!("{line}\n\nnot json\n{{}}\n").as_bytes());
        assert_eq!(log.events, vec![event]);
        assert_eq!(
            log.errors.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [3, 4]
        );
    }
}
