//! `status validate`: the after-the-fact checks of a mission's log and snapshot.
//!
//! The checks are Spec Kitty's (`agent status validate`), in its order and with its wording:
//! the schema of every transition (file order), the legality of every non-forced transition in
//! `(at, event_id)` order, the evidence of every non-forced move to `done` (file order), then
//! the files and the drift between the committed `status.json` and a fresh reduction. Guards are
//! not replayed. Every finding is an error; each carries a stable code and, where it is about
//! one, the event and the work package.

use serde::Serialize;
use serde_json::Value;

use crate::status::event::StatusEvent;
use crate::status::event_log::{EventLog, is_ulid};
use crate::status::lane::Lane;
use crate::status::snapshot::StatusSnapshot;
use crate::status::transition::is_edge;
use crate::text::pyjson::{is_truthy, truthy};

/// How much a [`Finding`] weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// It fails the validation (one of Spec Kitty's `errors`).
    Error,
    /// It is reported and does not fail it (missionctl's own, such as a phantom work package).
    Warning,
}

/// One problem found by [`validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable code (`EVENT_ID_INVALID`, `ILLEGAL_TRANSITION`, `SNAPSHOT_DRIFT`, ...).
    pub code: &'static str,
    /// Whether it fails the validation.
    pub severity: Severity,
    /// Spec Kitty's wording of the problem (its `errors` entry).
    pub message: String,
    /// The event it is about, if any.
    pub event_id: Option<String>,
    /// The work package it is about, if any.
    pub wp_id: Option<String>,
}

fn finding(code: &'static str, message: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        message,
        event_id: None,
        wp_id: None,
    }
}

fn about_event(code: &'static str, event: &StatusEvent, message: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        message,
        event_id: Some(event.event_id.clone()),
        wp_id: Some(event.wp_id.clone()),
    }
}

fn about_wp(code: &'static str, wp_id: &str, message: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        message,
        event_id: None,
        wp_id: Some(wp_id.to_owned()),
    }
}

/// The code of a work package the event log has and no task file defines.
pub const PHANTOM_WORK_PACKAGE: &str = "PHANTOM_WORK_PACKAGE";

/// Returns the warning for a work package of the log that no file of the mission's `tasks/`
/// defines (a forced move, or a writer that did not check, recorded it). It is a warning, not a
/// finding of [`validate`]: Spec Kitty's verdict does not count it, and its board does not show
/// such an id.
pub fn phantom_work_package(wp_id: &str, mission_slug: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        ..about_wp(
            PHANTOM_WORK_PACKAGE,
            wp_id,
            format!(
                "{wp_id} is in the event log, but no file under kitty-specs/{mission_slug}/tasks \
                 defines it"
            ),
        )
    }
}

/// The code of the warning for an event log checked out with CRLF line endings.
pub const CRLF_WORKING_COPY: &str = "CRLF_WORKING_COPY";

/// Returns the warning for an event log whose working copy has CRLF line endings
/// (`core.autocrlf`, an `eol=crlf` attribute): read as LF and written back with the LF bytes
/// Spec Kitty writes, so nothing needs fixing; said so that nobody "fixes" the line endings.
pub fn crlf_working_copy(log_path: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        ..finding(
            CRLF_WORKING_COPY,
            format!(
                "`{log_path}` is checked out with CRLF line endings (core.autocrlf or an \
                 eol=crlf attribute); missionctl reads it as LF and commits the LF bytes Spec \
                 Kitty writes, so reads and writes work as they are"
            ),
        )
    }
}

/// Returns true for an event id Spec Kitty accepts: a 26-character Crockford base32 ULID (any
/// case), a hyphenated UUID or 32 hexadecimal digits.
fn is_valid_event_id(text: &str) -> bool {
    let hex = |part: &str| part.bytes().all(|byte| byte.is_ascii_hexdigit());
    if text.len() == 26 {
        return is_ulid(&text.to_ascii_uppercase());
    }
    if text.len() == 32 {
        return hex(text);
    }
    let groups: Vec<&str> = text.split('-').collect();
    text.len() == 36
        && groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && hex(group))
}

/// Returns true when `at` parses as Python's `datetime.fromisoformat` reads it after `Z` is
/// replaced by `+00:00`.
fn is_iso_datetime(at: &str) -> bool {
    crate::text::timestamp::parse_iso_micros(&at.replace('Z', "+00:00")).is_some()
}

fn check_schema(event: &StatusEvent, findings: &mut Vec<Finding>) {
    let id = &event.event_id;
    if !id.is_empty() && !is_valid_event_id(id) {
        findings.push(about_event(
            "EVENT_ID_INVALID",
            event,
            format!("Invalid event ID format: {id}"),
        ));
    }
    if !(event.from_lane.is_display() || event.from_lane == Lane::Genesis) {
        findings.push(about_event(
            "LANE_NOT_CANONICAL",
            event,
            format!("from_lane is not canonical: {}", event.from_lane),
        ));
    }
    if !event.to_lane.is_display() {
        findings.push(about_event(
            "LANE_NOT_CANONICAL",
            event,
            format!("to_lane is not canonical: {}", event.to_lane),
        ));
    }
    if !is_iso_datetime(&event.at) {
        findings.push(about_event(
            "TIMESTAMP_INVALID",
            event,
            format!("Event {id}: invalid ISO 8601 timestamp: {}", event.at),
        ));
    }
    if !matches!(event.execution_mode.as_str(), "worktree" | "direct_repo") {
        findings.push(about_event(
            "EXECUTION_MODE_INVALID",
            event,
            format!(
                "Event {id}: execution_mode must be 'worktree' or 'direct_repo', got '{}'",
                event.execution_mode
            ),
        ));
    }
    if event.force && event.reason.as_deref().is_none_or(str::is_empty) {
        findings.push(about_event(
            "FORCE_WITHOUT_REASON",
            event,
            format!("Event {id}: force=true without reason"),
        ));
    }
    // Forced or not: Spec Kitty checks the row, not how it was written.
    if event.from_lane == Lane::ForReview
        && event.to_lane == Lane::InProgress
        && event.review_ref.as_deref().is_none_or(str::is_empty)
    {
        findings.push(about_event(
            "REVIEW_REF_MISSING",
            event,
            format!("Event {id}: for_review->in_progress without review_ref"),
        ));
    }
}

fn check_done_evidence(event: &StatusEvent, findings: &mut Vec<Finding>) {
    if event.force || event.to_lane != Lane::Done {
        return;
    }
    let id = &event.event_id;
    let incomplete = |what: &str| {
        about_event(
            "DONE_EVIDENCE_INCOMPLETE",
            event,
            format!("Event {id}: done evidence {what}"),
        )
    };
    let evidence = event.evidence.as_ref().filter(|value| is_truthy(value));
    let Some(evidence) = evidence else {
        findings.push(about_event(
            "DONE_WITHOUT_EVIDENCE",
            event,
            format!("Event {id}: done without evidence (not forced)"),
        ));
        return;
    };
    let Some(evidence) = evidence.as_object() else {
        findings.push(incomplete("is not a dict"));
        return;
    };
    let review = evidence.get("review");
    if !truthy(review) {
        findings.push(incomplete("missing review section"));
        return;
    }
    let Some(review) = review.and_then(Value::as_object) else {
        findings.push(incomplete("review is not a dict"));
        return;
    };
    for (key, what) in [
        ("reviewer", "missing reviewer identity"),
        ("verdict", "missing verdict"),
        ("reference", "missing approval reference"),
    ] {
        if !truthy(review.get(key)) {
            findings.push(incomplete(what));
        }
    }
}

/// Compares the committed snapshot with a fresh reduction as Spec Kitty does: each work
/// package (ids sorted) when the two maps differ, then the retrospective, the event count and
/// the last event id.
fn check_drift(expected: &StatusSnapshot, on_disk: &Value, findings: &mut Vec<Finding>) {
    let fresh = expected.to_value();
    let empty = serde_json::Map::new();
    let fresh_wps = fresh
        .get("work_packages")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let disk_wps = on_disk
        .get("work_packages")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if fresh_wps != disk_wps {
        let ids: std::collections::BTreeSet<&String> =
            fresh_wps.keys().chain(disk_wps.keys()).collect();
        for wp_id in ids {
            let drift = |message: String| {
                about_wp(
                    "SNAPSHOT_DRIFT",
                    wp_id,
                    format!("Materialization drift: {message}"),
                )
            };
            let lane = |state: &Value| match state.get("lane") {
                Some(Value::String(lane)) => lane.clone(),
                Some(other) => other.to_string(),
                None => "None".to_owned(),
            };
            match (disk_wps.get(wp_id), fresh_wps.get(wp_id)) {
                (None, Some(state)) => findings.push(drift(format!(
                    "{wp_id} missing from status.json (expected lane={})",
                    state
                        .get("lane")
                        .map_or_else(|| "?".to_owned(), |_| lane(state))
                ))),
                (Some(_), None) => findings.push(drift(format!(
                    "{wp_id} in status.json but not in reducer output"
                ))),
                (Some(disk), Some(state)) if disk.get("lane") != state.get("lane") => {
                    findings.push(drift(format!(
                        "{wp_id} lane={} in status.json but reducer says lane={}",
                        lane(disk),
                        lane(state)
                    )));
                }
                (Some(disk), Some(state)) if disk != state => findings.push(drift(format!(
                    "{wp_id} state differs between status.json and reducer output"
                ))),
                _ => {}
            }
        }
    }
    let drift = |message: &str| {
        finding(
            "SNAPSHOT_DRIFT",
            format!("Materialization drift: {message}"),
        )
    };
    if fresh.get("retrospective") != on_disk.get("retrospective") {
        findings.push(drift(
            "retrospective snapshot differs between status.json and reducer output",
        ));
    }
    if on_disk.get("event_count") != fresh.get("event_count") {
        let shown = match on_disk.get("event_count") {
            None | Some(Value::Null) => "None".to_owned(),
            Some(other) => other.to_string(),
        };
        findings.push(drift(&format!(
            "event_count={shown} in status.json but reducer counted {}",
            expected.event_count
        )));
    }
    if on_disk.get("last_event_id").unwrap_or(&Value::Null)
        != fresh.get("last_event_id").unwrap_or(&Value::Null)
    {
        findings.push(drift(
            "last_event_id mismatch between status.json and reducer output",
        ));
    }
}

/// The snapshot file as found next to the log.
#[derive(Debug, Clone, Copy)]
pub enum SnapshotOnDisk<'a> {
    /// There is no `status.json`.
    Missing,
    /// `status.json` is not valid JSON.
    Unreadable,
    /// The parsed `status.json`.
    Parsed(&'a Value),
}

/// Returns the finding of a log that cannot be read (Spec Kitty's `status.events.jsonl is
/// corrupt: …`).
pub fn corrupt_log(message: &str) -> Finding {
    finding(
        "EVENT_LOG_CORRUPT",
        format!("status.events.jsonl is corrupt: {message}"),
    )
}

/// Validates a log (already read whole, with at least one row) against the reduction and the
/// snapshot on disk, and returns every finding in Spec Kitty's order.
pub fn validate(
    log: &EventLog,
    fresh: &StatusSnapshot,
    snapshot: SnapshotOnDisk<'_>,
    log_exists: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let transitions: Vec<&StatusEvent> = log.transitions().collect();
    for event in &transitions {
        check_schema(event, &mut findings);
    }
    let mut sorted = transitions.clone();
    sorted.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });
    for event in &sorted {
        if !event.force && !is_edge(event.from_lane, event.to_lane) {
            findings.push(about_event(
                "ILLEGAL_TRANSITION",
                event,
                format!(
                    "Event {}: illegal transition {} -> {}",
                    event.event_id, event.from_lane, event.to_lane
                ),
            ));
        }
    }
    for event in &transitions {
        check_done_evidence(event, &mut findings);
    }
    match (snapshot, log_exists) {
        (SnapshotOnDisk::Missing, true) => findings.push(finding(
            "SNAPSHOT_MISSING",
            "status.events.jsonl exists but status.json is missing (run 'spec-kitty agent status \
             materialize' to generate)"
                .to_owned(),
        )),
        (SnapshotOnDisk::Unreadable, _) => findings.push(finding(
            "SNAPSHOT_UNREADABLE",
            "status.json is not valid JSON".to_owned(),
        )),
        (SnapshotOnDisk::Parsed(_), false) => findings.push(finding(
            "SNAPSHOT_WITHOUT_LOG",
            "status.json exists but status.events.jsonl is missing".to_owned(),
        )),
        (SnapshotOnDisk::Parsed(value), true) => check_drift(fresh, value, &mut findings),
        (SnapshotOnDisk::Missing, false) => {}
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::event_log::parse;
    use crate::status::reducer::reduce;

    const SEED: &str = r#"{"actor": "finalize-tasks", "at": "2026-01-01T00:00:00+00:00", "event_id": "01KQ22XX0000000000000000A1", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "genesis", "mission_slug": "m-01KQ22XX", "policy_metadata": null, "reason": "canonical bootstrap", "review_ref": null, "to_lane": "planned", "wp_id": "WP01"}"#;

    fn run(lines: &[&str], snapshot: Option<&str>) -> Vec<&'static str> {
        let log = parse(lines.join("\n").as_bytes());
        let fresh = reduce(&log);
        let parsed: Option<Value> =
            snapshot.map(|text| crate::text::pyjson::from_str_deep(text).unwrap_or(Value::Null));
        let on_disk = match &parsed {
            None => SnapshotOnDisk::Missing,
            Some(Value::Null) => SnapshotOnDisk::Unreadable,
            Some(value) => SnapshotOnDisk::Parsed(value),
        };
        validate(&log, &fresh, on_disk, true)
            .into_iter()
            .map(|finding| finding.code)
            .collect()
    }

    #[test]
    fn a_clean_log_and_snapshot_pass() {
        let log = parse(SEED.as_bytes());
        let snapshot = reduce(&log).to_status_json();
        assert_eq!(run(&[SEED], Some(&snapshot)), Vec::<&str>::new());
    }

    #[test]
    fn findings_are_reported() {
        let illegal = SEED
            .replace("01KQ22XX0000000000000000A1", "not-an-id")
            .replace("\"to_lane\": \"planned\"", "\"to_lane\": \"done\"")
            .replace("\"from_lane\": \"genesis\"", "\"from_lane\": \"planned\"");
        let forced = SEED
            .replace("01KQ22XX0000000000000000A1", "01KQ22XX0000000000000000A2")
            .replace("\"force\": false", "\"force\": true")
            .replace("\"reason\": \"canonical bootstrap\"", "\"reason\": null");
        let codes = run(&[SEED, &illegal, &forced], None);
        assert_eq!(
            codes,
            vec![
                "EVENT_ID_INVALID",
                "FORCE_WITHOUT_REASON",
                "ILLEGAL_TRANSITION",
                "DONE_WITHOUT_EVIDENCE",
                "SNAPSHOT_MISSING"
            ]
        );
    }

    fn messages(lines: &[&str]) -> Vec<String> {
        let log = parse(lines.join("\n").as_bytes());
        let fresh = reduce(&log);
        let snapshot: Value =
            crate::text::pyjson::from_str_deep(&fresh.to_status_json()).unwrap_or_default();
        validate(&log, &fresh, SnapshotOnDisk::Parsed(&snapshot), true)
            .into_iter()
            .map(|finding| finding.message)
            .collect()
    }

    /// Spec Kitty checks `for_review -> in_progress` for a `review_ref` whether the row was
    /// forced or not. See: issue 11 ("misses `for_review → in_progress without review_ref`").
    #[test]
    fn a_forced_move_back_from_review_needs_a_review_ref_too() {
        let back = SEED
            .replace(
                "\"from_lane\": \"genesis\"",
                "\"from_lane\": \"for_review\"",
            )
            .replace("\"to_lane\": \"planned\"", "\"to_lane\": \"in_progress\"")
            .replace("\"force\": false", "\"force\": true");
        assert_eq!(
            messages(&[&back]),
            ["Event 01KQ22XX0000000000000000A1: for_review->in_progress without review_ref"]
        );
    }

    /// Schema findings first (file order), then illegal transitions (`(at, event_id)` order),
    /// then done evidence (file order), each in Spec Kitty's words.
    #[test]
    fn findings_come_in_spec_kitty_order_and_words() {
        let late_done = SEED
            .replace("01KQ22XX0000000000000000A1", "01KQ22XX0000000000000000B1")
            .replace("2026-01-01T00:00:00", "2026-01-03T00:00:00")
            .replace("\"from_lane\": \"genesis\"", "\"from_lane\": \"planned\"")
            .replace("\"to_lane\": \"planned\"", "\"to_lane\": \"done\"")
            .replace("\"evidence\": null", "\"evidence\": {\"review\": {\"reference\": \"\", \"reviewer\": \"r\", \"verdict\": \"\"}}");
        let early_bad = SEED
            .replace("01KQ22XX0000000000000000A1", "01KQ22XX0000000000000000C1")
            .replace("2026-01-01T00:00:00", "2026-01-02T00:00:00")
            .replace("\"from_lane\": \"genesis\"", "\"from_lane\": \"planned\"")
            .replace("\"to_lane\": \"planned\"", "\"to_lane\": \"approved\"")
            .replace(
                "\"execution_mode\": \"worktree\"",
                "\"execution_mode\": \"cloud\"",
            );
        assert_eq!(
            messages(&[&late_done, &early_bad]),
            [
                "Event 01KQ22XX0000000000000000C1: execution_mode must be 'worktree' or \
                 'direct_repo', got 'cloud'",
                "Event 01KQ22XX0000000000000000C1: illegal transition planned -> approved",
                "Event 01KQ22XX0000000000000000B1: illegal transition planned -> done",
                "Event 01KQ22XX0000000000000000B1: done evidence missing verdict",
                "Event 01KQ22XX0000000000000000B1: done evidence missing approval reference",
            ]
        );
    }

    #[test]
    fn event_ids_are_ulids_or_uuids() {
        assert!(is_valid_event_id("01KQ22XX0000000000000000A1"));
        assert!(is_valid_event_id("01kq22xx0000000000000000a1"));
        assert!(is_valid_event_id("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_valid_event_id("123e4567e89b12d3a456426614174000"));
        assert!(!is_valid_event_id("01KQ22XX0000000000000000AI"));
        assert!(!is_valid_event_id("not-an-id"));
    }

    #[test]
    fn drift_is_found() {
        let stale = StatusSnapshot::default().to_status_json();
        assert_eq!(
            run(&[SEED], Some(&stale)),
            vec!["SNAPSHOT_DRIFT", "SNAPSHOT_DRIFT", "SNAPSHOT_DRIFT"]
        );
        assert_eq!(run(&[SEED], Some("{oops")), vec!["SNAPSHOT_UNREADABLE"]);
    }

    #[test]
    fn timestamps() {
        assert!(is_iso_datetime("2026-07-25T13:51:30.644518+00:00"));
        assert!(is_iso_datetime("2026-07-25T13:51:30Z"));
        assert!(is_iso_datetime("2026-07-25T13:51:30"));
        assert!(!is_iso_datetime("yesterday"));
        assert!(!is_iso_datetime("2026-07-25T13:51:30+0000x"));
    }
}
