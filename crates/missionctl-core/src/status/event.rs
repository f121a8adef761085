//! Rows of the event log (`status.events.jsonl`): lane transitions, annotations and the
//! foreign rows other subsystems write into the same file.
//!
//! Decoding follows Spec Kitty's reader: unknown keys are ignored, required keys and nested
//! shapes are checked, and a row that fails makes the whole log unreadable (the caller
//! decides; see [`crate::status::event_log`]). Encoding ([`StatusEvent::to_json_line`],
//! [`Annotation::to_json_line`]) reproduces Spec Kitty's writer byte for byte.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::status::lane::Lane;
use crate::status::transition::ReviewResult;
use crate::text::pyjson::{self, Style};

/// Who made an event: a plain identity string or a structured agent identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A string identity, used verbatim (e.g. `claude`, `finalize-tasks`, `tool:model:profile:role`).
    Name(String),
    /// A structured identity with exactly the keys `role`, `profile`, `tool` and `model`.
    Structured {
        /// The agent's role (`implementer`, `reviewer`, ...).
        role: Option<String>,
        /// The agent profile.
        profile: Option<String>,
        /// The tool (`claude`, `codex`, ...).
        tool: Option<String>,
        /// The model.
        model: Option<String>,
    },
}

impl Actor {
    /// Returns the string identity used by guards and the snapshot's `actor` slot.
    ///
    /// A structured actor projects to its `tool`, else its `role`, else `""`.
    pub fn projected(&self) -> &str {
        match self {
            Actor::Name(name) => name,
            Actor::Structured { tool, role, .. } => tool
                .as_deref()
                .filter(|tool| !tool.is_empty())
                .or(role.as_deref().filter(|role| !role.is_empty()))
                .unwrap_or(""),
        }
    }

    /// Returns the wire value of the actor.
    pub fn to_value(&self) -> Value {
        match self {
            Actor::Name(name) => Value::String(name.clone()),
            Actor::Structured {
                role,
                profile,
                tool,
                model,
            } => {
                let mut map = Map::new();
                for (key, slot) in [
                    ("model", model),
                    ("profile", profile),
                    ("role", role),
                    ("tool", tool),
                ] {
                    map.insert(key.to_owned(), optional_string(slot.as_deref()));
                }
                Value::Object(map)
            }
        }
    }

    /// Decodes an actor value as Spec Kitty does: an object must have exactly the four keys
    /// with string or null values; anything else becomes its Python `str()` form.
    pub fn from_value(value: &Value) -> Result<Actor, String> {
        match value {
            Value::String(text) => Ok(Actor::Name(text.clone())),
            Value::Object(map) => {
                let keys_ok = map.len() == 4
                    && ["role", "profile", "tool", "model"]
                        .iter()
                        .all(|key| map.contains_key(*key));
                if !keys_ok {
                    return Err(
                        "actor object must have exactly the keys role, profile, tool, model"
                            .to_owned(),
                    );
                }
                let field = |key: &str| -> Result<Option<String>, String> {
                    match map.get(key) {
                        Some(Value::String(text)) => Ok(Some(text.clone())),
                        Some(Value::Null) | None => Ok(None),
                        Some(_) => Err(format!("actor.{key} must be a string or null")),
                    }
                };
                Ok(Actor::Structured {
                    role: field("role")?,
                    profile: field("profile")?,
                    tool: field("tool")?,
                    model: field("model")?,
                })
            }
            other => Ok(Actor::Name(python_str(other))),
        }
    }
}

/// Returns Python's `str()` of a decoded JSON value (`None`, `True`, `[1, 'a']`, ...).
pub fn python_str(value: &Value) -> String {
    crate::text::pytext::value_str(value)
}

/// Returns Python's `repr()` of a decoded JSON value (`None`, `'text'`, `[1, 'a']`, ...).
pub fn python_repr(value: &Value) -> String {
    crate::text::pytext::value_repr(value)
}

fn optional_string(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |text| Value::String(text.to_owned()))
}

/// A lane transition row (`StatusEvent`).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent {
    /// The event's identifier (a ULID when written by a current writer).
    pub event_id: String,
    /// The work package, e.g. `WP01`.
    pub wp_id: String,
    /// The lane the writer believed the work package was in.
    pub from_lane: Lane,
    /// The lane the work package moves to.
    pub to_lane: Lane,
    /// The ISO-8601 timestamp, kept exactly as written (ordering compares these strings).
    pub at: String,
    /// Who made the transition.
    pub actor: Actor,
    /// Whether the transition bypassed the edge table and guards.
    pub force: bool,
    /// `worktree` or `direct_repo`.
    pub execution_mode: String,
    /// The mission's slug (`feature_slug` in legacy rows; `""` when neither is present).
    pub mission_slug: String,
    /// The mission's ULID, when the row carries it.
    pub mission_id: Option<String>,
    /// Why the transition was made.
    pub reason: Option<String>,
    /// Who authored a cancel's reason (`operator` or `synthetic`), on rows written by Spec
    /// Kitty 3.2.7 and later.
    pub reason_source: Option<String>,
    /// A reference to review feedback.
    pub review_ref: Option<String>,
    /// Done evidence (`DoneEvidence` object), kept as written.
    pub evidence: Option<Value>,
    /// The structured review outcome, when present and not null.
    pub review_result: Option<ReviewResult>,
    /// Free-form metadata (claim sidecar, merge phase, pre-review gate, ...), kept as
    /// written: only the claim's three slots are ever read, so the rest is not decoded.
    pub policy_metadata: Option<RawJson>,
}

/// A JSON value kept as the text it was read from (checked to be valid JSON), decoded only
/// when it is read.
///
/// Large free-form objects of the log (`policy_metadata`) are almost never read: keeping
/// them as text saves building and freeing a value tree for every row. Two `RawJson` are
/// equal when their decoded values are.
#[derive(Debug, Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Keeps a checked JSON text.
    pub fn from_raw(raw: &RawValue) -> RawJson {
        RawJson(raw.to_owned())
    }

    /// Returns the JSON text as written.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Decodes the value.
    pub fn to_value(&self) -> Value {
        // The text was checked when it was read (or written from a value): decoding it
        // again cannot fail; `null` is the total answer if it ever did.
        crate::text::pyjson::from_str_deep(self.0.get()).unwrap_or(Value::Null)
    }
}

impl From<Value> for RawJson {
    fn from(value: Value) -> RawJson {
        let text = value.to_string();
        match RawValue::from_string(text) {
            Ok(raw) => RawJson(raw),
            // A value always serializes to valid JSON; `null` keeps this total.
            Err(_) => RawJson(RawValue::NULL.to_owned()),
        }
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.get() == other.get() || self.to_value() == other.to_value()
    }
}

impl StatusEvent {
    /// Returns true for a rollback: `in_review → in_progress`, or the legacy shape
    /// `for_review → in_progress` carrying a `review_ref`.
    pub fn is_rollback(&self) -> bool {
        self.to_lane == Lane::InProgress
            && (self.from_lane == Lane::InReview
                || (self.from_lane == Lane::ForReview && self.review_ref.is_some()))
    }

    /// Returns the row's wire object as Spec Kitty's current writer emits it: `evidence`,
    /// `policy_metadata`, `reason` and `review_ref` always (null when empty), `mission_id`,
    /// `reason_source` and `review_result` only when set.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("actor".to_owned(), self.actor.to_value());
        map.insert("at".to_owned(), Value::String(self.at.clone()));
        map.insert("event_id".to_owned(), Value::String(self.event_id.clone()));
        map.insert(
            "evidence".to_owned(),
            self.evidence.clone().unwrap_or(Value::Null),
        );
        map.insert(
            "execution_mode".to_owned(),
            Value::String(self.execution_mode.clone()),
        );
        map.insert("force".to_owned(), Value::Bool(self.force));
        map.insert(
            "from_lane".to_owned(),
            Value::String(self.from_lane.as_str().to_owned()),
        );
        if let Some(mission_id) = &self.mission_id {
            map.insert("mission_id".to_owned(), Value::String(mission_id.clone()));
        }
        map.insert(
            "mission_slug".to_owned(),
            Value::String(self.mission_slug.clone()),
        );
        map.insert(
            "policy_metadata".to_owned(),
            self.policy_metadata
                .as_ref()
                .map_or(Value::Null, RawJson::to_value),
        );
        map.insert("reason".to_owned(), optional_string(self.reason.as_deref()));
        if let Some(reason_source) = &self.reason_source {
            map.insert(
                "reason_source".to_owned(),
                Value::String(reason_source.clone()),
            );
        }
        map.insert(
            "review_ref".to_owned(),
            optional_string(self.review_ref.as_deref()),
        );
        if let Some(review_result) = &self.review_result {
            map.insert(
                "review_result".to_owned(),
                review_result_value(review_result),
            );
        }
        map.insert(
            "to_lane".to_owned(),
            Value::String(self.to_lane.as_str().to_owned()),
        );
        map.insert("wp_id".to_owned(), Value::String(self.wp_id.clone()));
        Value::Object(map)
    }

    /// Returns the row as one log line, without the trailing newline.
    pub fn to_json_line(&self) -> String {
        pyjson::to_string(&self.to_value(), Style::Compact)
    }
}

/// Returns the wire object of a review result (`feedback_path` only when set).
pub fn review_result_value(review_result: &ReviewResult) -> Value {
    let mut map = Map::new();
    if let Some(path) = &review_result.feedback_path {
        map.insert("feedback_path".to_owned(), Value::String(path.clone()));
    }
    map.insert(
        "reference".to_owned(),
        Value::String(review_result.reference.clone()),
    );
    map.insert(
        "reviewer".to_owned(),
        Value::String(review_result.reviewer.clone()),
    );
    map.insert(
        "verdict".to_owned(),
        Value::String(review_result.verdict.clone()),
    );
    Value::Object(map)
}

/// A runtime annotation row (`InnerStateChanged`, `"kind": "annotation"`).
///
/// It never changes a lane; its `delta` updates runtime slots of the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The event's identifier (an uppercase ULID).
    pub event_id: String,
    /// The work package.
    pub wp_id: String,
    /// The timestamp, as written.
    pub at: String,
    /// Who made the annotation.
    pub actor: Actor,
    /// The validated delta object.
    pub delta: Map<String, Value>,
}

impl Annotation {
    /// Returns the row as one log line, without the trailing newline.
    pub fn to_json_line(&self) -> String {
        let mut map = Map::new();
        map.insert("actor".to_owned(), self.actor.to_value());
        map.insert("at".to_owned(), Value::String(self.at.clone()));
        map.insert("delta".to_owned(), Value::Object(self.delta.clone()));
        map.insert("event_id".to_owned(), Value::String(self.event_id.clone()));
        map.insert("kind".to_owned(), Value::String("annotation".to_owned()));
        map.insert("wp_id".to_owned(), Value::String(self.wp_id.clone()));
        pyjson::to_string(&Value::Object(map), Style::Compact)
    }
}

/// The delta keys whose value replaces a runtime slot (when present and not `""`).
pub const REPLACE_SLOTS: [&str; 9] = [
    "shell_pid",
    "shell_pid_created_at",
    "agent",
    "assignee",
    "role",
    "agent_profile",
    "agent_profile_version",
    "model",
    "provider",
];

/// What kind of foreign row the status reader skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignKind {
    /// A row with an `event_name` starting with `retrospective.`.
    RetrospectiveStream,
    /// A `RetrospectiveCaptured`, `RetrospectiveCaptureFailed` or `RetrospectiveSkipped` row.
    RetrospectiveEnvelope,
    /// A lifecycle or decision row (it has an `event_type` key).
    Lifecycle,
}

/// A row written by another subsystem: skipped by the reducer, kept in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignRow {
    /// Which kind of foreign row this is.
    pub kind: ForeignKind,
    /// The `event_type` (lifecycle rows) or `event_name` (retrospective stream), if any.
    pub name: Option<String>,
    /// The `at` (or `timestamp`) string, if any.
    pub at: Option<String>,
    /// The `event_id`, if it is a string.
    pub event_id: Option<String>,
    /// The `payload` object of a retrospective stream row.
    pub payload: Option<Value>,
}

/// One classified row of the log.
#[expect(
    clippy::large_enum_variant,
    reason = "rows live once in a Vec; boxing would add an allocation per transition"
)]
#[derive(Debug, Clone, PartialEq)]
pub enum LogRow {
    /// A lane transition.
    Transition(StatusEvent),
    /// A runtime annotation.
    Annotation(Annotation),
    /// A foreign row, skipped by the reducer.
    Foreign(ForeignRow),
}
