//! The total reader of `status.events.jsonl`.
//!
//! [`parse`] never panics and never stops at a bad row: it classifies every line as a
//! transition, an annotation or a foreign row, and reports each line it cannot read with
//! its 1-based number. Spec Kitty treats a single bad row as making the whole log
//! unreadable; [`EventLog::require_valid`] applies that rule for callers that need it.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::status::event::{
    Actor, Annotation, ForeignKind, ForeignRow, LogRow, RawJson, StatusEvent,
};
use crate::status::lane::Lane;
use crate::status::transition::ReviewResult;

/// A parsed log: every readable row with its line number, and every unreadable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventLog {
    /// Readable rows in file order, with their 1-based line numbers.
    pub rows: Vec<(usize, LogRow)>,
    /// Unreadable lines, in file order.
    pub errors: Vec<RowError>,
}

/// A line of the log that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowError {
    /// The 1-based line number.
    pub line: usize,
    /// Spec Kitty's wording: `Invalid JSON on line N: …`, `Invalid event structure on line
    /// N: …` or `Unknown event kind '<k>' on line N`.
    pub message: String,
}

impl EventLog {
    /// Returns the log if every line was readable, else the first unreadable line.
    pub fn require_valid(&self) -> Result<&EventLog, &RowError> {
        match self.errors.first() {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// Returns the transitions in file order.
    pub fn transitions(&self) -> impl Iterator<Item = &StatusEvent> {
        self.rows.iter().filter_map(|(_, row)| match row {
            LogRow::Transition(event) => Some(event),
            _ => None,
        })
    }

    /// Returns the annotations in file order.
    pub fn annotations(&self) -> impl Iterator<Item = &Annotation> {
        self.rows.iter().filter_map(|(_, row)| match row {
            LogRow::Annotation(annotation) => Some(annotation),
            _ => None,
        })
    }

    /// Returns the foreign rows in file order.
    pub fn foreign(&self) -> impl Iterator<Item = &ForeignRow> {
        self.rows.iter().filter_map(|(_, row)| match row {
            LogRow::Foreign(foreign) => Some(foreign),
            _ => None,
        })
    }
}

/// Returns true for the characters Python's `str.strip()` removes.
fn is_python_space(ch: char) -> bool {
    ch.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&ch)
}

/// Parses the bytes of an event log. Never panics.
pub fn parse(bytes: &[u8]) -> EventLog {
    parse_lines(bytes, 1)
}

/// Parses lines of an event log that start at line `first_line` (1-based) of their file, so
/// that rows and errors carry their line numbers in the file. Never panics.
pub fn parse_lines(bytes: &[u8], first_line: usize) -> EventLog {
    let first_line = first_line.max(1);
    let mut log = EventLog::default();
    // A log is valid UTF-8 as a whole almost always: check it once, and split with the
    // `str` searcher. Otherwise check line by line so one bad line is one error.
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            // Rows are large: sizing the vector once saves copying them as it grows. A
            // newline is ASCII, so every cut is on a char boundary.
            let ends: Vec<usize> = memchr::memchr_iter(b'\n', bytes).collect();
            log.rows.reserve_exact(ends.len() + 1);
            let mut start = 0;
            for (index, end) in ends.into_iter().chain([text.len()]).enumerate() {
                parse_into(
                    &mut log,
                    text.get(start..end).unwrap_or(""),
                    index + first_line,
                );
                start = end + 1;
            }
        }
        Err(_) => {
            for (index, raw_line) in bytes.split(|byte| *byte == b'\n').enumerate() {
                let line = index + first_line;
                match std::str::from_utf8(raw_line) {
                    Ok(text) => parse_into(&mut log, text, line),
                    Err(error) => log.errors.push(RowError {
                        line,
                        message: format!("Invalid JSON on line {line}: invalid UTF-8 ({error})"),
                    }),
                }
            }
        }
    }
    log
}

fn parse_into(log: &mut EventLog, text: &str, line: usize) {
    let text = text.trim_matches(is_python_space);
    if text.is_empty() {
        return;
    }
    match parse_line(text, line) {
        Ok(row) => log.rows.push((line, row)),
        Err(message) => log.errors.push(RowError { line, message }),
    }
}

/// The keys the reader looks at, borrowed from the line. Each is `Some` when the key is
/// present, even with a `null` value.
#[derive(Deserialize, Default)]
struct RawRow<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    event_name: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present", rename = "type")]
    row_type: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    event_type: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    payload: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    actor: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    at: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    event_id: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present_value")]
    evidence: Option<Value>,
    #[serde(borrow, default, deserialize_with = "present")]
    execution_mode: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    force: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    from_lane: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    to_lane: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    mission_id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    mission_slug: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    feature_slug: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    policy_metadata: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    reason: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    review_ref: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    reason_source: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present_value")]
    review_result: Option<Value>,
    #[serde(borrow, default, deserialize_with = "present")]
    wp_id: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present_value")]
    delta: Option<Value>,
}

fn present<'de, D>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    <&'de RawValue as Deserialize>::deserialize(deserializer).map(Some)
}

/// Like [`present`], for the nested objects the reader always decodes: parsing them in the
/// same pass saves scanning their bytes twice.
fn present_value<'de, D>(deserializer: D) -> Result<Option<Value>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Value::deserialize(deserializer).map(Some)
}

fn parse_line(text: &str, line: usize) -> Result<LogRow, String> {
    // A derived struct also accepts a JSON array (as a sequence of fields): only objects
    // take the fast path.
    let fast = if text.starts_with('{') {
        serde_json::from_str::<RawRow<'_>>(text).ok()
    } else {
        None
    };
    match fast {
        Some(raw) => classify(raw, line),
        None => {
            // Not an object, invalid JSON, or an object with a repeated key. Python keeps the
            // last value of a repeated key; re-serializing the parsed value does the same.
            // Deep values (Python reads up to its recursion limit) are read here too.
            let value: Value = crate::text::pyjson::from_str_deep(text)
                .map_err(|error| format!("Invalid JSON on line {line}: {error}"))?;
            if !value.is_object() {
                return Err(format!(
                    "Invalid event structure on line {line}: expected JSON object"
                ));
            }
            let normalized = value.to_string();
            let raw: RawRow<'_> = crate::text::pyjson::from_str_deep(&normalized)
                .map_err(|error| format!("Invalid JSON on line {line}: {error}"))?;
            classify(raw, line)
        }
    }
}

fn structure(line: usize, detail: impl std::fmt::Display) -> String {
    format!("Invalid event structure on line {line}: {detail}")
}

/// Decodes a raw JSON string, borrowing nothing (small strings, one allocation).
fn as_string(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    if text.len() >= 2 && text.starts_with('"') && memchr::memchr(b'\\', text.as_bytes()).is_none()
    {
        return Some(text[1..text.len() - 1].to_owned());
    }
    if !text.starts_with('"') {
        return None;
    }
    serde_json::from_str::<String>(text).ok()
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

fn to_value(raw: &RawValue) -> Result<Value, String> {
    crate::text::pyjson::from_str_deep(raw.get()).map_err(|error| error.to_string())
}

fn classify(raw: RawRow<'_>, line: usize) -> Result<LogRow, String> {
    if let Some(kind) = raw.kind {
        let kind_text = as_string(kind);
        if kind_text.as_deref() == Some("annotation") {
            return decode_annotation(raw, line).map(LogRow::Annotation);
        }
        let shown = match kind_text {
            Some(text) => text,
            None => crate::status::event::python_str(&to_value(kind).unwrap_or(Value::Null)),
        };
        return Err(format!("Unknown event kind '{shown}' on line {line}"));
    }
    let event_name = raw.event_name.and_then(as_string);
    if let Some(name) = event_name.as_deref()
        && name.starts_with("retrospective.")
    {
        return Ok(LogRow::Foreign(ForeignRow {
            kind: ForeignKind::RetrospectiveStream,
            name: event_name.clone(),
            at: raw.at.and_then(as_string),
            event_id: raw.event_id.and_then(as_string),
            payload: raw.payload.and_then(|payload| to_value(payload).ok()),
        }));
    }
    if let Some(row_type) = raw.row_type.and_then(as_string)
        && matches!(
            row_type.as_str(),
            "RetrospectiveCaptured" | "RetrospectiveCaptureFailed" | "RetrospectiveSkipped"
        )
    {
        return Ok(LogRow::Foreign(ForeignRow {
            kind: ForeignKind::RetrospectiveEnvelope,
            name: Some(row_type),
            at: raw.at.and_then(as_string),
            event_id: raw.event_id.and_then(as_string),
            payload: None,
        }));
    }
    if let Some(event_type) = raw.event_type {
        return Ok(LogRow::Foreign(ForeignRow {
            kind: ForeignKind::Lifecycle,
            name: as_string(event_type),
            at: raw.at.or(raw.timestamp).and_then(as_string),
            event_id: raw.event_id.and_then(as_string),
            payload: None,
        }));
    }
    decode_transition(raw, line).map(LogRow::Transition)
}

fn required<'a>(
    field: Option<&'a RawValue>,
    name: &str,
    line: usize,
) -> Result<&'a RawValue, String> {
    field.ok_or_else(|| structure(line, format_args!("missing required field '{name}'")))
}

fn required_string(field: Option<&RawValue>, name: &str, line: usize) -> Result<String, String> {
    as_string(required(field, name, line)?)
        .ok_or_else(|| structure(line, format_args!("field '{name}' must be a string")))
}

fn optional_string(
    field: Option<&RawValue>,
    name: &str,
    line: usize,
) -> Result<Option<String>, String> {
    match field {
        None => Ok(None),
        Some(raw) if is_null(raw) => Ok(None),
        Some(raw) => as_string(raw).map(Some).ok_or_else(|| {
            structure(
                line,
                format_args!("field '{name}' must be a string or null"),
            )
        }),
    }
}

fn decode_lane(field: Option<&RawValue>, name: &str, line: usize) -> Result<Lane, String> {
    let raw = required(field, name, line)?.get();
    // Lane names need no escapes: look the quoted text up without allocating.
    if let Some(lane) = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .and_then(Lane::from_wire)
    {
        return Ok(lane);
    }
    let text = required_string(field, name, line)?;
    Lane::from_wire(&text)
        .ok_or_else(|| structure(line, format_args!("'{text}' is not a valid Lane")))
}

fn decode_actor(field: Option<&RawValue>, line: usize) -> Result<Actor, String> {
    let raw = required(field, "actor", line)?;
    if let Some(name) = as_string(raw) {
        return Ok(Actor::Name(name));
    }
    let value = to_value(raw).map_err(|error| structure(line, error))?;
    Actor::from_value(&value).map_err(|error| structure(line, error))
}

fn decode_transition(raw: RawRow<'_>, line: usize) -> Result<StatusEvent, String> {
    let event_id = required_string(raw.event_id, "event_id", line)?;
    let wp_id = required_string(raw.wp_id, "wp_id", line)?;
    let from_lane = decode_lane(raw.from_lane, "from_lane", line)?;
    let to_lane = decode_lane(raw.to_lane, "to_lane", line)?;
    let at = required_string(raw.at, "at", line)?;
    let actor = decode_actor(raw.actor, line)?;
    let force = match required(raw.force, "force", line)?.get() {
        "true" => true,
        "false" => false,
        _ => return Err(structure(line, "field 'force' must be a boolean")),
    };
    let execution_mode = required_string(raw.execution_mode, "execution_mode", line)?;
    let mission_slug = match optional_string(raw.mission_slug, "mission_slug", line)? {
        Some(slug) => slug,
        None => optional_string(raw.feature_slug, "feature_slug", line)?.unwrap_or_default(),
    };
    let mission_id = optional_string(raw.mission_id, "mission_id", line)?;
    let reason = optional_string(raw.reason, "reason", line)?;
    let review_ref = optional_string(raw.review_ref, "review_ref", line)?;
    // Kept when it is a string, as Spec Kitty's reader keeps whatever it finds.
    let reason_source = raw.reason_source.and_then(as_string);
    let evidence = match raw.evidence {
        Some(value) if !value.is_null() => {
            check_evidence(&value).map_err(|error| structure(line, error))?;
            Some(value)
        }
        _ => None,
    };
    let review_result = match raw.review_result {
        Some(value) if !value.is_null() => {
            Some(decode_review_result(&value).map_err(|error| structure(line, error))?)
        }
        _ => None,
    };
    let policy_metadata = raw
        .policy_metadata
        .filter(|value| !is_null(value))
        .map(RawJson::from_raw);
    Ok(StatusEvent {
        event_id,
        wp_id,
        from_lane,
        to_lane,
        at,
        actor,
        force,
        execution_mode,
        mission_slug,
        mission_id,
        reason,
        reason_source,
        review_ref,
        evidence,
        review_result,
        policy_metadata,
    })
}

/// Checks the shape of a `DoneEvidence` object: `review` with string `reviewer`, `verdict`
/// and `reference`; optional `repos` and `verification` lists of objects.
fn check_evidence(value: &Value) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Err("evidence must be an object or null".to_owned());
    };
    if map.is_empty() {
        return Ok(());
    }
    match map.get("review") {
        Some(Value::Object(review)) => {
            for key in ["reviewer", "verdict", "reference"] {
                if !matches!(review.get(key), Some(Value::String(_))) {
                    return Err(format!("evidence.review.{key} must be a string"));
                }
            }
        }
        _ => return Err("evidence.review must be an object".to_owned()),
    }
    for key in ["repos", "verification"] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => {}
            Some(_) => return Err(format!("evidence.{key} must be a list of objects")),
        }
    }
    Ok(())
}

/// Decodes a `ReviewResult` object.
pub fn decode_review_result(value: &Value) -> Result<ReviewResult, String> {
    let Value::Object(map) = value else {
        return Err("review_result must be an object or null".to_owned());
    };
    let field = |key: &str| -> Result<String, String> {
        match map.get(key) {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err(format!("review_result.{key} must be a string")),
        }
    };
    let feedback_path = match map.get("feedback_path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err("review_result.feedback_path must be a string".to_owned()),
    };
    Ok(ReviewResult {
        reviewer: field("reviewer")?,
        verdict: field("verdict")?,
        reference: field("reference")?,
        feedback_path,
    })
}

/// Returns true for an uppercase ULID (`^[0-9A-HJKMNP-TV-Z]{26}$`).
pub fn is_ulid(text: &str) -> bool {
    text.len() == 26
        && text.bytes().all(|byte| {
            byte.is_ascii_digit() || (byte.is_ascii_uppercase() && !b"ILOU".contains(&byte))
        })
}

fn decode_annotation(raw: RawRow<'_>, line: usize) -> Result<Annotation, String> {
    let event_id = required_string(raw.event_id, "event_id", line)?;
    if !is_ulid(&event_id) {
        return Err(structure(
            line,
            format_args!("invalid annotation event_id '{event_id}'"),
        ));
    }
    let wp_id = required_string(raw.wp_id, "wp_id", line)?;
    let at = required_string(raw.at, "at", line)?;
    let actor = decode_actor(raw.actor, line)?;
    let delta = match raw.delta {
        Some(Value::Object(map)) => map,
        Some(_) => return Err(structure(line, "field 'delta' must be an object")),
        None => return Err(structure(line, "missing required field 'delta'")),
    };
    check_delta(&delta).map_err(|error| structure(line, error))?;
    Ok(Annotation {
        event_id,
        wp_id,
        at,
        actor,
        delta,
    })
}

/// Checks the value types of an annotation delta.
fn check_delta(delta: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in delta {
        let ok = match key.as_str() {
            "shell_pid" => value.is_i64() || value.is_u64() || value.is_null(),
            "shell_pid_created_at"
            | "agent"
            | "assignee"
            | "role"
            | "agent_profile"
            | "agent_profile_version"
            | "model"
            | "provider"
            | "note" => value.is_string() || value.is_null(),
            "subtasks" => match value {
                Value::Object(map) => map
                    .values()
                    .all(|status| status.as_str().and_then(Lane::from_wire).is_some()),
                Value::Null => true,
                _ => false,
            },
            "tracker_refs" | "tracker_refs_replace" => match value {
                Value::Array(items) => items.iter().all(Value::is_string),
                Value::Null => true,
                _ => false,
            },
            "review" => match value {
                Value::Object(map) => ["at", "actor", "wp_id", "reason"]
                    .iter()
                    .all(|field| matches!(map.get(*field), Some(Value::String(_)))),
                Value::Null => true,
                _ => false,
            },
            "release_runtime_claim" => value.is_boolean() || value.is_null(),
            _ => true,
        };
        if !ok {
            return Err(format!("invalid delta field '{key}'"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSITION: &str = r#"{"actor": "claude", "at": "2026-07-25T13:51:30.644518+00:00", "event_id": "01KYCRQ6AMWZEX5FRJ7592KQMA", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "planned", "mission_id": "01KYCF83MT808X1J7ZE87ZJXQW", "mission_slug": "coord-write-placement-closure-01KYCF83", "policy_metadata": {"agent": "claude", "shell_pid": 3905187, "shell_pid_created_at": "1784987482.57"}, "reason": null, "review_ref": null, "to_lane": "claimed", "wp_id": "WP01"}"#;
    const APPROVAL: &str = r#"{"actor": "user", "at": "2026-07-25T16:22:16.278480+00:00", "event_id": "01KYD1B7YPNJ6MZ9GDEK6GAKMR", "evidence": {"review": {"reference": "PR#42", "reviewer": "alice", "verdict": "approved"}}, "execution_mode": "worktree", "force": false, "from_lane": "in_review", "mission_id": "01KYCF83MT808X1J7ZE87ZJXQW", "mission_slug": "coord-write-placement-closure-01KYCF83", "policy_metadata": null, "reason": "Review passed", "review_ref": null, "review_result": {"reference": "PR#42", "reviewer": "alice", "verdict": "approved"}, "to_lane": "approved", "wp_id": "WP06"}"#;
    const ANNOTATION: &str = r#"{"actor": {"model": "opus", "profile": "reviewer-renata", "role": "reviewer", "tool": "claude"}, "at": "2026-07-25T14:16:58.786116+00:00", "delta": {"agent": "claude:opus:reviewer-renata:reviewer", "model": "__resolved_model_absent__", "role": "reviewer", "shell_pid": 3966022, "shell_pid_created_at": "1784989016.78"}, "event_id": "01KYCT5TN29304H3AB74SDQ96B", "kind": "annotation", "wp_id": "WP01"}"#;

    /// A transition whose evidence holds a verification detail nested `depth` objects deep,
    /// as Python's `json.dumps` writes it.
    fn nested_evidence_row(depth: usize) -> String {
        let detail = format!("{}1{}", "{\"k\": ".repeat(depth), "}".repeat(depth));
        let evidence = format!(
            "{{\"review\": {{\"reference\": \"r\", \"reviewer\": \"a\", \"verdict\": \"approved\"}}, \"verification\": [{{\"detail\": {detail}}}]}}"
        );
        TRANSITION.replace("\"evidence\": null", &format!("\"evidence\": {evidence}"))
    }

    // See: issue 10 ("any log row Spec Kitty can write (for example evidence nested 126 levels
    // deep) reads").
    #[test]
    fn rows_nested_as_deep_as_python_writes_them_read_and_round_trip() {
        for depth in [126, 127, 500, 995] {
            let row = nested_evidence_row(depth);
            let log = parse(row.as_bytes());
            assert!(log.errors.is_empty(), "{depth}: {:?}", log.errors);
            let Some((_, LogRow::Transition(event))) = log.rows.first() else {
                panic!("{depth}: not a transition");
            };
            assert_eq!(event.to_json_line(), row, "{depth}");
        }
    }

    #[test]
    fn rows_nested_deeper_than_python_can_are_an_error_not_a_crash() {
        for depth in [1_000, 100_000] {
            let log = parse(nested_evidence_row(depth).as_bytes());
            assert_eq!(log.rows.len(), 0);
            assert!(
                log.errors[0]
                    .message
                    .contains("nested deeper than 1000 levels"),
                "{:?}",
                log.errors
            );
        }
        let unbalanced = format!("{{\"a\": {}", "[".repeat(100_000));
        assert_eq!(parse(unbalanced.as_bytes()).errors.len(), 1);
    }

    #[test]
    fn current_writer_rows_round_trip_byte_for_byte() {
        let text = format!("{TRANSITION}\n{APPROVAL}\n{ANNOTATION}\n");
        let log = parse(text.as_bytes());
        assert!(log.errors.is_empty(), "{:?}", log.errors);
        let lines: Vec<String> = log
            .rows
            .iter()
            .map(|(_, row)| match row {
                LogRow::Transition(event) => event.to_json_line(),
                LogRow::Annotation(annotation) => annotation.to_json_line(),
                LogRow::Foreign(_) => String::new(),
            })
            .collect();
        assert_eq!(lines, vec![TRANSITION, APPROVAL, ANNOTATION]);
    }

    #[test]
    fn a_cancels_reason_source_is_kept_and_written_back() {
        let cancel = r#"{"actor": "user", "at": "2026-09-01T10:00:00+00:00", "event_id": "01KYD1B7YPNJ6MZ9GDEK6GAKMS", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "planned", "mission_slug": "m-01", "policy_metadata": null, "reason": "Force move to canceled", "reason_source": "operator", "review_ref": null, "to_lane": "canceled", "wp_id": "WP02"}"#;
        let log = parse(cancel.as_bytes());
        let event = log.transitions().next().expect("a transition");
        assert_eq!(event.reason_source.as_deref(), Some("operator"));
        assert_eq!(event.to_json_line(), cancel);
        // Anything but a string is not a provenance.
        let odd = cancel.replace("\"operator\"", "7");
        let log = parse(odd.as_bytes());
        assert!(log.errors.is_empty(), "{:?}", log.errors);
        assert_eq!(
            log.transitions()
                .next()
                .and_then(|e| e.reason_source.clone()),
            None
        );
    }

    #[test]
    fn classifies_foreign_rows_and_reports_bad_lines() {
        let text = concat!(
            "{\"event_type\": \"WPCreated\", \"event_id\": \"X\", \"timestamp\": \"t\"}\n",
            "\n   \n",
            "{\"event_name\": \"retrospective.requested\", \"at\": \"a\", \"event_id\": \"E\", \"payload\": {}}\n",
            "{\"type\": \"RetrospectiveSkipped\", \"at\": \"a\"}\n",
            "not json\n",
            "[1, 2]\n",
            "{\"kind\": \"other\"}\n",
            "{\"wp_id\": \"WP01\"}\n",
            "{\"actor\": \"a\", \"at\": \"t\", \"event_id\": \"E1\", \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"planned\", \"to_lane\": \"doing\", \"wp_id\": \"WP01\"}\n",
        );
        let log = parse(text.as_bytes());
        let kinds: Vec<_> = log
            .foreign()
            .map(|row| (row.kind, row.name.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ForeignKind::Lifecycle, Some("WPCreated".to_owned())),
                (
                    ForeignKind::RetrospectiveStream,
                    Some("retrospective.requested".to_owned())
                ),
                (
                    ForeignKind::RetrospectiveEnvelope,
                    Some("RetrospectiveSkipped".to_owned())
                ),
            ]
        );
        let lines: Vec<usize> = log.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![6, 7, 8, 9, 10]);
        assert!(
            log.errors[0]
                .message
                .starts_with("Invalid JSON on line 6: ")
        );
        assert_eq!(
            log.errors[1].message,
            "Invalid event structure on line 7: expected JSON object"
        );
        assert_eq!(
            log.errors[2].message,
            "Unknown event kind 'other' on line 8"
        );
        assert!(log.errors[3].message.contains("missing required field"));
        assert!(
            log.errors[4]
                .message
                .contains("'doing' is not a valid Lane")
        );
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        let text = TRANSITION.replace(
            "\"to_lane\": \"claimed\"",
            "\"to_lane\": \"planned\", \"to_lane\": \"claimed\"",
        );
        let log = parse(text.as_bytes());
        assert!(log.errors.is_empty());
        assert_eq!(
            log.transitions().next().map(|event| event.to_lane),
            Some(Lane::Claimed)
        );
    }

    #[test]
    fn legacy_and_odd_shapes_are_accepted() {
        let text = r#"{"actor": 5, "at": "t", "event_id": "E", "execution_mode": "worktree", "feature_slug": "034-x", "force": true, "from_lane": "planned", "review_result": null, "to_lane": "planned", "wp_id": "WP01", "extra": [1]}"#;
        let log = parse(text.as_bytes());
        let event = log.transitions().next().cloned();
        let event = event.expect("row decodes");
        assert_eq!(event.actor, Actor::Name("5".to_owned()));
        assert_eq!(event.mission_slug, "034-x");
        assert_eq!(event.review_result, None);
        let null_actor = text.replace("\"actor\": 5", "\"actor\": null");
        let log = parse(null_actor.as_bytes());
        assert_eq!(
            log.transitions().next().map(|event| event.actor.clone()),
            Some(Actor::Name("None".to_owned()))
        );
    }

    #[test]
    fn invalid_utf8_is_reported_not_panicked() {
        let log = parse(b"\xff\xfe\n");
        assert_eq!(log.errors.len(), 1);
        assert_eq!(log.errors[0].line, 1);
    }
}
