//! The deterministic fold of an event log into a [`StatusSnapshot`].
//!
//! The rules are Spec Kitty's: first-wins dedupe of transitions by `event_id`, a stable sort
//! by `(at, event_id)` as plain strings, the same-`at` rollback precedence, and an
//! annotation pass after all transitions. The reducer trusts `to_lane`: it neither replays
//! the state machine nor checks `from_lane` continuity. No wall clock is read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::{Map, Value};

use crate::status::event::{
    Annotation, ForeignKind, ForeignRow, REPLACE_SLOTS, StatusEvent, review_result_value,
};
use crate::status::event_log::EventLog;
use crate::status::lane::Lane;
use crate::status::snapshot::{RetrospectiveSummary, SnapshotIdentity, StatusSnapshot, WpState};
use crate::status::transition::ReviewResult;
use crate::text::pyjson::is_truthy;

mod incremental;

pub use incremental::{Fed, IncrementalReducer};

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
    let mut seen: HashSet<&str, FnvBuild> =
        HashSet::with_capacity_and_hasher(log.rows.len(), FnvBuild::default());
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

    // Per work package, the fold borrows from the log and builds each `WpState` once at
    // the end: cloning a state per event was most of the reducer's time on large logs.
    let mut folds: HashMap<&str, Fold<'_>, FnvBuild> = HashMap::default();
    for event in &transitions {
        match folds.get_mut(event.wp_id.as_str()) {
            Some(fold) => fold.step(event),
            None => {
                let mut fold = Fold::new(event);
                fold.apply(event);
                folds.insert(event.wp_id.as_str(), fold);
            }
        }
    }

    let mut work_packages: BTreeMap<String, WpState> = folds
        .into_iter()
        .map(|(wp_id, fold)| (wp_id.to_owned(), fold.finish()))
        .collect();

    let mut annotations: Vec<&Annotation> = log.annotations().collect();
    annotations.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });
    for annotation in annotations {
        let state = work_packages
            .entry(annotation.wp_id.clone())
            .or_insert_with(|| annotated_only(annotation));
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
) -> Result<StatusSnapshot, crate::status::snapshot::IdentityError> {
    let mut snapshot = reduce(log);
    let identity = SnapshotIdentity::from_meta(meta, &snapshot.mission_slug)?;
    snapshot.mission_number = identity.mission_number;
    snapshot.mission_type = identity.mission_type;
    Ok(snapshot)
}

/// FNV-1a, for the reducer's maps keyed by event and work package ids. The keys come from
/// one local log, so a keyed hash buys nothing, and SipHash was a fifth of the fold's time.
#[derive(Debug, Clone)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FnvBuild = BuildHasherDefault<Fnv>;

/// The state of one work package while transitions are folded. It borrows from the log;
/// [`Fold::finish`] copies what the snapshot keeps, once per work package.
struct Fold<'a> {
    /// The last applied transition.
    last: &'a StatusEvent,
    force_count: u64,
    /// The claim sidecar's `shell_pid`, `shell_pid_created_at` and `agent`.
    claim: [Option<Value>; 3],
    /// `None` while the key is absent; `Some(None)` for an explicit null.
    review_result: Option<Option<&'a ReviewResult>>,
}

/// The slots the claim sidecar fills, in the order of [`Fold::claim`].
const CLAIM_SLOTS: [&str; 3] = ["shell_pid", "shell_pid_created_at", "agent"];

impl<'a> Fold<'a> {
    fn new(event: &'a StatusEvent) -> Fold<'a> {
        Fold {
            last: event,
            force_count: 0,
            claim: [None, None, None],
            review_result: None,
        }
    }

    /// Folds the next transition of the work package, in `(at, event_id)` order: a forward
    /// move at the same `at` as a rollback just applied is skipped (the rollback wins).
    fn step(&mut self, event: &'a StatusEvent) {
        if self.last.is_rollback() && !event.is_rollback() && self.last.at == event.at {
            return;
        }
        self.apply(event);
    }

    fn apply(&mut self, event: &'a StatusEvent) {
        if event.from_lane == Lane::Planned
            && event.to_lane == Lane::Claimed
            && let Some(metadata) = &event.policy_metadata
            && let Value::Object(mut metadata) = metadata.to_value()
        {
            for (slot, key) in self.claim.iter_mut().zip(CLAIM_SLOTS) {
                let value = metadata.remove(key).filter(|value| {
                    if key == "agent" {
                        is_truthy(value)
                    } else {
                        !value.is_null()
                    }
                });
                if value.is_some() {
                    *slot = value;
                }
            }
        }
        if let Some(review_result) = &event.review_result {
            self.review_result = Some(Some(review_result));
        } else if event.from_lane == Lane::InReview {
            self.review_result = Some(None);
        }
        self.force_count += u64::from(event.force);
        self.last = event;
    }

    fn finish(self) -> WpState {
        let mut slots = BTreeMap::new();
        for (value, key) in self.claim.into_iter().zip(CLAIM_SLOTS) {
            if let Some(value) = value {
                slots.insert(key.to_owned(), value);
            }
        }
        if let Some(review_result) = self.review_result {
            slots.insert(
                "review_result".to_owned(),
                review_result.map_or(Value::Null, review_result_value),
            );
        }
        WpState {
            lane: self.last.to_lane,
            actor: self.last.actor.projected().to_owned(),
            last_transition_at: Some(self.last.at.clone()),
            last_event_id: Some(self.last.event_id.clone()),
            force_count: self.force_count,
            slots,
        }
    }
}

/// The state of a work package that has annotations but no transition: `uninitialized`, with
/// the actor of its first annotation.
fn annotated_only(first: &Annotation) -> WpState {
    WpState {
        lane: Lane::Uninitialized,
        actor: first.actor.projected().to_owned(),
        last_transition_at: None,
        last_event_id: None,
        force_count: 0,
        slots: BTreeMap::new(),
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
    rows.sort_by(|a, b| retrospective_order(a, b));
    summarize_retrospective(rows)
}

/// The order the retrospective pass reads its rows in: `(at, event_id)`, missing ones first.
fn retrospective_order(a: &ForeignRow, b: &ForeignRow) -> std::cmp::Ordering {
    (
        a.at.as_deref().unwrap_or(""),
        a.event_id.as_deref().unwrap_or(""),
    )
        .cmp(&(
            b.at.as_deref().unwrap_or(""),
            b.event_id.as_deref().unwrap_or(""),
        ))
}

/// Folds the retrospective stream rows, already in [`retrospective_order`].
fn summarize_retrospective<'a>(
    rows: impl IntoIterator<Item = &'a ForeignRow>,
) -> Option<RetrospectiveSummary> {
    let mut rows = rows.into_iter().peekable();
    rows.peek()?;
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
