//! The deterministic fold of an event log into a [`StatusSnapshot`].
//!
//! The rules are Spec Kitty's: first-wins dedupe of transitions by `event_id`, a stable sort
//! by `(at, event_id)` as plain strings, the same-`at` rollback precedence, and an
//! annotation pass after all transitions. The reducer trusts `to_lane`: it neither replays
//! the state machine nor checks `from_lane` continuity. No wall clock is read.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::event::{Annotation, ForeignKind, REPLACE_SLOTS, StatusEvent, review_result_value};
use crate::event_log::EventLog;
use crate::lane::Lane;
use crate::snapshot::{RetrospectiveSummary, SnapshotIdentity, StatusSnapshot, WpState};

/// Returns true when `slug` may be used as a single path segment:
/// `^[A-Za-z0-9][A-Za-z0-9._-]*$` without `..`.
pub fn is_safe_segment(slug: &str) -> bool {
    let mut bytes = slug.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
        && !slug.contains("..")
}

/// Folds a log into a snapshot. Identity fields from `meta.json` are filled by
/// [`reduce_with_identity`]; here `mission_number` and `mission_type` stay empty.
///
/// Rows the reader could not decode are ignored; callers that follow Spec Kitty's
/// whole-log rule check [`EventLog::require_valid`] first.
pub fn reduce(log: &EventLog) -> StatusSnapshot {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut transitions: Vec<&StatusEvent> = log
        .transitions()
        .filter(|event| seen.insert(event.event_id.as_str()))
        .collect();
    transitions.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });

    let mut snapshot = StatusSnapshot {
        event_count: transitions.len(),
        ..StatusSnapshot::default()
    };
    if let Some(first) = transitions.first()
        && is_safe_segment(&first.mission_slug)
    {
        snapshot.mission_slug = first.mission_slug.trim().to_owned();
    }
    if let Some(last) = transitions.last() {
        snapshot.last_event_id = Some(last.event_id.clone());
        snapshot.materialized_at = last.at.clone();
    }

    // Per work package: its state and whether the event that set it was a rollback.
    let mut states: HashMap<&str, (WpState, bool)> = HashMap::new();
    for event in &transitions {
        let previous = states.get(event.wp_id.as_str());
        if let Some((state, set_by_rollback)) = previous
            && *set_by_rollback
            && !event.is_rollback()
            && state.last_transition_at.as_deref() == Some(event.at.as_str())
        {
            continue;
        }
        let next = apply_transition(previous.map(|(state, _)| state), event);
        states.insert(event.wp_id.as_str(), (next, event.is_rollback()));
    }

    let mut work_packages: BTreeMap<String, WpState> = states
        .into_iter()
        .map(|(wp_id, (state, _))| (wp_id.to_owned(), state))
        .collect();

    let mut annotations: Vec<&Annotation> = log.annotations().collect();
    annotations.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });
    for annotation in annotations {
        let state = work_packages
            .entry(annotation.wp_id.clone())
            .or_insert_with(|| WpState {
                lane: Lane::Uninitialized,
                actor: annotation.actor.projected().to_owned(),
                last_transition_at: None,
                last_event_id: None,
                force_count: 0,
                slots: BTreeMap::new(),
            });
        apply_delta(state, &annotation.delta);
    }
    snapshot.work_packages = work_packages;
    snapshot.retrospective = reduce_retrospective(log);
    snapshot
}

/// Folds a log and fills the identity fields from a parsed `meta.json` object.
pub fn reduce_with_identity(
    log: &EventLog,
    meta: Option<&Map<String, Value>>,
) -> Result<StatusSnapshot, crate::snapshot::IdentityError> {
    let mut snapshot = reduce(log);
    let identity = SnapshotIdentity::from_meta(meta, &snapshot.mission_slug)?;
    snapshot.mission_number = identity.mission_number;
    snapshot.mission_type = identity.mission_type;
    Ok(snapshot)
}

fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|float| float != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn apply_transition(previous: Option<&WpState>, event: &StatusEvent) -> WpState {
    let mut slots = previous
        .map(|state| state.slots.clone())
        .unwrap_or_default();
    if event.from_lane == Lane::Planned
        && event.to_lane == Lane::Claimed
        && let Some(Value::Object(metadata)) = &event.policy_metadata
    {
        for key in ["shell_pid", "shell_pid_created_at"] {
            if let Some(value) = metadata.get(key).filter(|value| !value.is_null()) {
                slots.insert(key.to_owned(), value.clone());
            }
        }
        if let Some(agent) = metadata.get("agent").filter(|value| is_truthy(value)) {
            slots.insert("agent".to_owned(), agent.clone());
        }
    }
    if let Some(review_result) = &event.review_result {
        slots.insert(
            "review_result".to_owned(),
            review_result_value(review_result),
        );
    } else if event.from_lane == Lane::InReview {
        slots.insert("review_result".to_owned(), Value::Null);
    }
    WpState {
        lane: event.to_lane,
        actor: event.actor.projected().to_owned(),
        last_transition_at: Some(event.at.clone()),
        last_event_id: Some(event.event_id.clone()),
        force_count: previous.map_or(0, |state| state.force_count) + u64::from(event.force),
        slots,
    }
}

fn apply_delta(state: &mut WpState, delta: &Map<String, Value>) {
    let slots = &mut state.slots;
    if delta.get("release_runtime_claim").is_some_and(is_truthy) {
        for key in ["agent", "shell_pid", "shell_pid_created_at"] {
            slots.insert(key.to_owned(), Value::Null);
        }
    }
    for key in REPLACE_SLOTS {
        match delta.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) if text.is_empty() => {}
            Some(value) => {
                slots.insert(key.to_owned(), value.clone());
            }
        }
    }
    if let Some(Value::Object(subtasks)) = delta.get("subtasks") {
        let entry = slots
            .entry("subtasks".to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(existing) = entry {
            for (id, status) in subtasks {
                existing.insert(id.clone(), status.clone());
            }
        }
    }
    if let Some(Value::String(note)) = delta.get("note") {
        let entry = slots
            .entry("notes".to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(notes) = entry {
            notes.push(Value::String(note.clone()));
        }
    }
    if let Some(Value::Array(replacement)) = delta.get("tracker_refs_replace") {
        let mut refs: Vec<Value> = Vec::new();
        for item in replacement {
            if !refs.contains(item) {
                refs.push(item.clone());
            }
        }
        slots.insert("tracker_refs".to_owned(), Value::Array(refs));
    } else if let Some(Value::Array(additions)) = delta.get("tracker_refs") {
        let entry = slots
            .entry("tracker_refs".to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(refs) = entry {
            for item in additions {
                if !refs.contains(item) {
                    refs.push(item.clone());
                }
            }
        }
    }
    if let Some(Value::Object(review)) = delta.get("review") {
        let all_empty = ["at", "actor", "wp_id", "reason"].iter().all(|key| {
            review
                .get(*key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
        });
        let value = if all_empty {
            Value::Null
        } else {
            let mut map = Map::new();
            for key in ["at", "actor", "wp_id", "reason"] {
                map.insert(
                    key.to_owned(),
                    review
                        .get(key)
                        .cloned()
                        .unwrap_or(Value::String(String::new())),
                );
            }
            Value::Object(map)
        };
        slots.insert("review".to_owned(), value);
    }
}

fn reduce_retrospective(log: &EventLog) -> Option<RetrospectiveSummary> {
    let mut rows: Vec<_> = log
        .foreign()
        .filter(|row| row.kind == ForeignKind::RetrospectiveStream)
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| {
        (
            a.at.as_deref().unwrap_or(""),
            a.event_id.as_deref().unwrap_or(""),
        )
            .cmp(&(
                b.at.as_deref().unwrap_or(""),
                b.event_id.as_deref().unwrap_or(""),
            ))
    });
    let mut summary = RetrospectiveSummary {
        status: "pending".to_owned(),
        mode: None,
        record_path: None,
        proposals_total: 0,
        proposals_applied: 0,
        proposals_rejected: 0,
    };
    for row in rows {
        let payload = row.payload.as_ref().and_then(Value::as_object);
        match row.name.as_deref().unwrap_or("") {
            "retrospective.requested" => {
                summary.mode = payload
                    .and_then(|payload| payload.get("mode"))
                    .and_then(valid_mode);
            }
            name @ ("retrospective.completed"
            | "retrospective.skipped"
            | "retrospective.failed") => {
                summary.status = name.trim_start_matches("retrospective.").to_owned();
                summary.record_path = payload
                    .and_then(|payload| payload.get("record_path"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            "retrospective.proposal.generated" => summary.proposals_total += 1,
            "retrospective.proposal.applied" => summary.proposals_applied += 1,
            "retrospective.proposal.rejected" => summary.proposals_rejected += 1,
            _ => {}
        }
    }
    Some(summary)
}

fn valid_mode(mode: &Value) -> Option<Value> {
    let map = mode.as_object()?;
    let value = map.get("value")?.as_str()?;
    if !matches!(value, "autonomous" | "human_in_command") {
        return None;
    }
    let signal = map.get("source_signal")?.as_object()?;
    if !signal.contains_key("kind") || !signal.contains_key("evidence") {
        return None;
    }
    let mut out = Map::new();
    out.insert("value".to_owned(), Value::String(value.to_owned()));
    let mut source = Map::new();
    source.insert(
        "kind".to_owned(),
        signal.get("kind").cloned().unwrap_or(Value::Null),
    );
    source.insert(
        "evidence".to_owned(),
        signal.get("evidence").cloned().unwrap_or(Value::Null),
    );
    out.insert("source_signal".to_owned(), Value::Object(source));
    Some(Value::Object(out))
}
