//! The `status.json` snapshot: its model, the identity fields taken from `meta.json`, and
//! the byte-exact serializer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::status::lane::Lane;
use crate::text::pyjson::{ObjectWriter, Style};

/// The state of one work package in a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct WpState {
    /// The current lane (`uninitialized` for a work package that only has annotations).
    pub lane: Lane,
    /// The projected actor of the last applied transition (or of the first annotation).
    pub actor: String,
    /// The `at` of the last applied transition.
    pub last_transition_at: Option<String>,
    /// The `event_id` of the last applied transition.
    pub last_event_id: Option<String>,
    /// How many applied transitions were forced.
    pub force_count: u64,
    /// Runtime slots (`agent`, `shell_pid`, `subtasks`, `notes`, `review_result`, ...), keyed
    /// by their `status.json` names; a key holding `null` is present and written as `null`.
    pub slots: BTreeMap<String, Value>,
}

impl WpState {
    /// Returns a string slot (`agent`, `role`, ...), if present and a string.
    pub fn slot_str(&self, key: &str) -> Option<&str> {
        self.slots.get(key).and_then(Value::as_str)
    }

    /// Writes the per-WP object of `status.json` (the bytes of [`WpState::to_value`]).
    fn write_json(&self, out: &mut String, depth: usize) {
        /// The fixed keys, in sorted order.
        const FIXED: [&str; 5] = [
            "actor",
            "force_count",
            "lane",
            "last_event_id",
            "last_transition_at",
        ];
        let mut object = ObjectWriter::new(out, Style::Indented, depth);
        let mut slots = self.slots.iter().peekable();
        for fixed in FIXED {
            while let Some((key, value)) = slots.next_if(|(key, _)| key.as_str() <= fixed) {
                object.value(key, value);
            }
            if self.slots.contains_key(fixed) {
                // A slot of the same name replaces the fixed field, as in `to_value`.
                continue;
            }
            match fixed {
                "actor" => object.string(fixed, &self.actor),
                "force_count" => {
                    let _ = write!(object.key(fixed), "{}", self.force_count);
                }
                "lane" => object.string(fixed, self.lane.as_str()),
                "last_event_id" => match &self.last_event_id {
                    Some(id) => object.string(fixed, id),
                    None => object.key(fixed).push_str("null"),
                },
                _ => match &self.last_transition_at {
                    Some(at) => object.string(fixed, at),
                    None => object.key(fixed).push_str("null"),
                },
            }
        }
        for (key, value) in slots {
            object.value(key, value);
        }
        object.finish();
    }

    /// Returns the per-WP object as written in `status.json`.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "lane".to_owned(),
            Value::String(self.lane.as_str().to_owned()),
        );
        map.insert("actor".to_owned(), Value::String(self.actor.clone()));
        map.insert(
            "last_transition_at".to_owned(),
            self.last_transition_at
                .clone()
                .map_or(Value::Null, Value::String),
        );
        map.insert(
            "last_event_id".to_owned(),
            self.last_event_id
                .clone()
                .map_or(Value::Null, Value::String),
        );
        map.insert("force_count".to_owned(), Value::from(self.force_count));
        for (key, value) in &self.slots {
            map.insert(key.clone(), value.clone());
        }
        Value::Object(map)
    }
}

/// The retrospective sub-snapshot, present only when the log has retrospective rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrospectiveSummary {
    /// `pending`, `completed`, `skipped` or `failed`.
    pub status: String,
    /// The `mode` object of the latest `retrospective.requested` row, when valid.
    pub mode: Option<Value>,
    /// The record path of the latest terminal row.
    pub record_path: Option<String>,
    /// Number of generated proposals.
    pub proposals_total: u64,
    /// Number of applied proposals.
    pub proposals_applied: u64,
    /// Number of rejected proposals.
    pub proposals_rejected: u64,
}

impl RetrospectiveSummary {
    /// Returns the number of proposals neither applied nor rejected.
    pub fn proposals_pending(&self) -> u64 {
        self.proposals_total
            .saturating_sub(self.proposals_applied)
            .saturating_sub(self.proposals_rejected)
    }

    /// Returns the object written under `retrospective`.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("status".to_owned(), Value::String(self.status.clone()));
        map.insert("mode".to_owned(), self.mode.clone().unwrap_or(Value::Null));
        map.insert(
            "record_path".to_owned(),
            self.record_path.clone().map_or(Value::Null, Value::String),
        );
        map.insert(
            "proposals_total".to_owned(),
            Value::from(self.proposals_total),
        );
        map.insert(
            "proposals_applied".to_owned(),
            Value::from(self.proposals_applied),
        );
        map.insert(
            "proposals_rejected".to_owned(),
            Value::from(self.proposals_rejected),
        );
        map.insert(
            "proposals_pending".to_owned(),
            Value::from(self.proposals_pending()),
        );
        Value::Object(map)
    }
}

/// The reduced state of a mission, as written to `status.json`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusSnapshot {
    /// The number of distinct transitions (annotations and foreign rows excluded).
    pub event_count: usize,
    /// The id of the last transition in `(at, event_id)` order.
    pub last_event_id: Option<String>,
    /// The `at` of the last transition in `(at, event_id)` order (never the wall clock).
    pub materialized_at: String,
    /// The mission number as a decimal string, or `""`.
    pub mission_number: String,
    /// The mission slug taken from the log, or `""`.
    pub mission_slug: String,
    /// The mission type from `meta.json`, or `""`.
    pub mission_type: String,
    /// The state of every work package seen in the log.
    pub work_packages: BTreeMap<String, WpState>,
    /// The retrospective sub-snapshot, when the log has retrospective rows.
    pub retrospective: Option<RetrospectiveSummary>,
}

impl StatusSnapshot {
    /// Returns the number of work packages in each of the nine display lanes.
    pub fn summary(&self) -> BTreeMap<Lane, usize> {
        let mut summary: BTreeMap<Lane, usize> =
            Lane::DISPLAY.into_iter().map(|lane| (lane, 0)).collect();
        for state in self.work_packages.values() {
            if let Some(count) = summary.get_mut(&state.lane) {
                *count += 1;
            }
        }
        summary
    }

    /// Returns the snapshot as a JSON value with `status.json`'s keys.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("event_count".to_owned(), Value::from(self.event_count));
        map.insert(
            "last_event_id".to_owned(),
            self.last_event_id
                .clone()
                .map_or(Value::Null, Value::String),
        );
        map.insert(
            "materialized_at".to_owned(),
            Value::String(self.materialized_at.clone()),
        );
        map.insert(
            "mission_number".to_owned(),
            Value::String(self.mission_number.clone()),
        );
        map.insert(
            "mission_slug".to_owned(),
            Value::String(self.mission_slug.clone()),
        );
        map.insert(
            "mission_type".to_owned(),
            Value::String(self.mission_type.clone()),
        );
        let summary: Map<String, Value> = self
            .summary()
            .into_iter()
            .map(|(lane, count)| (lane.as_str().to_owned(), Value::from(count)))
            .collect();
        map.insert("summary".to_owned(), Value::Object(summary));
        let work_packages: Map<String, Value> = self
            .work_packages
            .iter()
            .map(|(wp_id, state)| (wp_id.clone(), state.to_value()))
            .collect();
        map.insert("work_packages".to_owned(), Value::Object(work_packages));
        if let Some(retrospective) = &self.retrospective {
            map.insert("retrospective".to_owned(), retrospective.to_value());
        }
        Value::Object(map)
    }

    /// Returns the exact bytes Spec Kitty writes as `status.json`: sorted keys, two-space
    /// indentation, raw UTF-8 and one trailing newline.
    pub fn to_status_json(&self) -> String {
        // Written directly rather than through `to_value`: building and dropping the value
        // tree cost as much as writing it. Keys are written in sorted order.
        let mut out = String::with_capacity(512 + 640 * self.work_packages.len());
        let mut top = ObjectWriter::new(&mut out, Style::Indented, 0);
        let _ = write!(top.key("event_count"), "{}", self.event_count);
        match &self.last_event_id {
            Some(id) => top.string("last_event_id", id),
            None => top.key("last_event_id").push_str("null"),
        }
        top.string("materialized_at", &self.materialized_at);
        top.string("mission_number", &self.mission_number);
        top.string("mission_slug", &self.mission_slug);
        top.string("mission_type", &self.mission_type);
        if let Some(retrospective) = &self.retrospective {
            top.value("retrospective", &retrospective.to_value());
        }
        let depth = top.inner_depth();
        let mut summary: Vec<(&str, usize)> = self
            .summary()
            .into_iter()
            .map(|(lane, count)| (lane.as_str(), count))
            .collect();
        summary.sort_unstable();
        let mut object = ObjectWriter::new(top.key("summary"), Style::Indented, depth);
        for (lane, count) in summary {
            let _ = write!(object.key(lane), "{count}");
        }
        object.finish();
        let mut object = ObjectWriter::new(top.key("work_packages"), Style::Indented, depth);
        for (wp_id, state) in &self.work_packages {
            let inner = object.inner_depth();
            state.write_json(object.key(wp_id), inner);
        }
        object.finish();
        top.finish();
        out.push('\n');
        out
    }
}

/// The identity fields a snapshot takes from `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotIdentity {
    /// The decimal mission number, or `""`.
    pub mission_number: String,
    /// The mission type, or `""`.
    pub mission_type: String,
}

/// A `meta.json` value that cannot fill a snapshot's identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// `mission_number` is neither an integer, a string of digits nor null.
    #[error("Invalid mission_number in meta.json: {0}")]
    InvalidMissionNumber(String),
}

impl SnapshotIdentity {
    /// Derives the identity from a parsed `meta.json` object (if any) and the snapshot's slug.
    ///
    /// `mission_number`: an integer or a digit string (`"042"` → `"42"`); when absent or null,
    /// the slug's leading digits (`034-foo` → `"34"`); else `""`. `mission_type`: the string
    /// value, else `""`.
    pub fn from_meta(
        meta: Option<&Map<String, Value>>,
        mission_slug: &str,
    ) -> Result<SnapshotIdentity, IdentityError> {
        let number = meta.and_then(|meta| meta.get("mission_number"));
        let mission_number = match number {
            None | Some(Value::Null) => digits_to_decimal(leading_digits(mission_slug)),
            Some(Value::Number(number)) => match number.as_u64() {
                Some(value) => value.to_string(),
                None => return Err(IdentityError::InvalidMissionNumber(number.to_string())),
            },
            Some(Value::String(text)) => {
                let trimmed = text.trim();
                if trimmed.is_empty() || !trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
                    return Err(IdentityError::InvalidMissionNumber(format!("{text:?}")));
                }
                digits_to_decimal(trimmed)
            }
            Some(other) => return Err(IdentityError::InvalidMissionNumber(other.to_string())),
        };
        let mission_type = meta
            .and_then(|meta| meta.get("mission_type"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Ok(SnapshotIdentity {
            mission_number,
            mission_type,
        })
    }
}

fn leading_digits(slug: &str) -> &str {
    let end = slug
        .bytes()
        .position(|byte| !byte.is_ascii_digit())
        .unwrap_or(slug.len());
    &slug[..end]
}

/// Renders a digit string as Python's `str(int(digits))` would (no leading zeros).
fn digits_to_decimal(digits: &str) -> String {
    if digits.is_empty() {
        return String::new();
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::pyjson;
    use serde_json::json;

    #[test]
    fn empty_snapshot_bytes() {
        let snapshot = StatusSnapshot::default();
        assert_eq!(
            snapshot.to_status_json(),
            "{\n  \"event_count\": 0,\n  \"last_event_id\": null,\n  \"materialized_at\": \"\",\n  \"mission_number\": \"\",\n  \"mission_slug\": \"\",\n  \"mission_type\": \"\",\n  \"summary\": {\n    \"approved\": 0,\n    \"blocked\": 0,\n    \"canceled\": 0,\n    \"claimed\": 0,\n    \"done\": 0,\n    \"for_review\": 0,\n    \"in_progress\": 0,\n    \"in_review\": 0,\n    \"planned\": 0\n  },\n  \"work_packages\": {}\n}\n"
        );
    }

    #[test]
    fn direct_writer_matches_the_value_writer() {
        let mut slots = BTreeMap::new();
        slots.insert("agent".to_owned(), json!("claude"));
        slots.insert("notes".to_owned(), json!(["é \"q\"\n", "b"]));
        slots.insert("review_result".to_owned(), Value::Null);
        slots.insert(
            "subtasks".to_owned(),
            json!({"T2": "done", "T1": "planned"}),
        );
        slots.insert("zz_unknown".to_owned(), json!({}));
        let state = WpState {
            lane: Lane::InReview,
            actor: "codex".to_owned(),
            last_transition_at: Some("2026-07-25T13:51:30Z".to_owned()),
            last_event_id: None,
            force_count: 2,
            slots,
        };
        let mut colliding = state.clone();
        colliding.slots.insert("lane".to_owned(), json!("shadowed"));
        colliding.slots.insert("actor".to_owned(), Value::Null);
        let snapshot = StatusSnapshot {
            event_count: 3,
            last_event_id: Some("01K".to_owned()),
            materialized_at: "t".to_owned(),
            mission_slug: "m".to_owned(),
            work_packages: [
                ("WP01".to_owned(), state),
                ("WP02".to_owned(), colliding),
                (
                    "WP03".to_owned(),
                    WpState {
                        slots: BTreeMap::new(),
                        ..snapshot_state()
                    },
                ),
            ]
            .into_iter()
            .collect(),
            retrospective: Some(RetrospectiveSummary {
                status: "pending".to_owned(),
                mode: None,
                record_path: Some("r.yaml".to_owned()),
                proposals_total: 2,
                proposals_applied: 1,
                proposals_rejected: 0,
            }),
            ..StatusSnapshot::default()
        };
        let mut expected = pyjson::to_string(&snapshot.to_value(), Style::Indented);
        expected.push('\n');
        assert_eq!(snapshot.to_status_json(), expected);
    }

    fn snapshot_state() -> WpState {
        WpState {
            lane: Lane::Uninitialized,
            actor: String::new(),
            last_transition_at: None,
            last_event_id: None,
            force_count: 0,
            slots: BTreeMap::new(),
        }
    }

    #[test]
    fn identity_rules() {
        let meta = |value: Value| value.as_object().cloned();
        let id = |meta: Option<Map<String, Value>>, slug: &str| {
            SnapshotIdentity::from_meta(meta.as_ref(), slug)
        };
        assert_eq!(
            id(
                meta(json!({"mission_number": "042", "mission_type": "software-dev"})),
                "x"
            ),
            Ok(SnapshotIdentity {
                mission_number: "42".to_owned(),
                mission_type: "software-dev".to_owned()
            })
        );
        assert_eq!(
            id(meta(json!({"mission_number": 7})), "x").map(|i| i.mission_number),
            Ok("7".to_owned())
        );
        assert_eq!(
            id(meta(json!({"mission_number": null})), "034-foo").map(|i| i.mission_number),
            Ok("34".to_owned())
        );
        assert_eq!(
            id(None, "foo-01KQ22XX").map(|i| i.mission_number),
            Ok(String::new())
        );
        assert!(id(meta(json!({"mission_number": "pending"})), "x").is_err());
        assert!(id(meta(json!({"mission_number": -3})), "x").is_err());
    }
}
