//! `status validate`: the after-the-fact checks of a mission's log and snapshot.
//!
//! The checks are Spec Kitty's (§8.1 of its status model): the schema of every transition,
//! the legality of every non-forced transition in `(at, event_id)` order, done evidence, and
//! drift between the committed `status.json` and a fresh reduction. Guards are not replayed.
//! Every finding is an error.

use serde::Serialize;
use serde_json::Value;

use crate::event::StatusEvent;
use crate::event_log::{EventLog, is_ulid};
use crate::lane::Lane;
use crate::snapshot::StatusSnapshot;
use crate::transition::is_edge;

/// One problem found by [`validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable code (`EVENT_ID_INVALID`, `ILLEGAL_TRANSITION`, `SNAPSHOT_DRIFT`, ...).
    pub code: &'static str,
    /// Spec Kitty's wording of the problem.
    pub message: String,
}

fn finding(code: &'static str, message: String) -> Finding {
    Finding { code, message }
}

/// The code of a work package the event log has and no task file defines.
pub const PHANTOM_WORK_PACKAGE: &str = "PHANTOM_WORK_PACKAGE";

/// Returns the warning for a work package of the log that no file of the mission's `tasks/`
/// defines (a forced move, or a writer that did not check, recorded it). It is a warning, not a
/// finding of [`validate`]: Spec Kitty's verdict does not count it, and its board does not show
/// such an id.
pub fn phantom_work_package(wp_id: &str, mission_slug: &str) -> Finding {
    finding(
        PHANTOM_WORK_PACKAGE,
        format!(
            "{wp_id} is in the event log, but no file under kitty-specs/{mission_slug}/tasks \
             defines it"
        ),
    )
}

/// Returns true for a UUID in its 8-4-4-4-12 hexadecimal form.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Returns true when `at` parses as an ISO-8601 date-time (a trailing `Z` is accepted).
fn is_iso_datetime(at: &str) -> bool {
    let bytes = at.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    bytes.len() >= 19
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && matches!(bytes[10], b'T' | b' ')
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && {
            let rest = &at[19..];
            let rest = rest
                .strip_prefix('.')
                .map(|fraction| fraction.trim_start_matches(|c: char| c.is_ascii_digit()))
                .unwrap_or(rest);
            rest.is_empty()
                || rest == "Z"
                || (rest.len() == 6
                    && matches!(rest.as_bytes()[0], b'+' | b'-')
                    && rest.as_bytes()[3] == b':'
                    && rest[1..3].bytes().all(|b| b.is_ascii_digit())
                    && rest[4..6].bytes().all(|b| b.is_ascii_digit()))
        }
}

fn check_schema(event: &StatusEvent, findings: &mut Vec<Finding>) {
    let id = &event.event_id;
    if !is_ulid(id) && !is_uuid(id) {
        findings.push(finding(
            "EVENT_ID_INVALID",
            format!("Invalid event ID format: {id}"),
        ));
    }
    if event.wp_id.is_empty() {
        findings.push(finding(
            "FIELD_MISSING",
            "Missing required field: wp_id".to_owned(),
        ));
    }
    if event.mission_slug.is_empty() {
        findings.push(finding(
            "FIELD_MISSING",
            format!("Event {id}: Missing required field: mission_slug"),
        ));
    }
    if !(event.from_lane.is_display() || event.from_lane == Lane::Genesis) {
        findings.push(finding(
            "LANE_INVALID",
            format!("Event {id}: invalid from_lane {}", event.from_lane),
        ));
    }
    if !event.to_lane.is_display() {
        findings.push(finding(
            "LANE_INVALID",
            format!("Event {id}: invalid to_lane {}", event.to_lane),
        ));
    }
    if !is_iso_datetime(&event.at) {
        findings.push(finding(
            "TIMESTAMP_INVALID",
            format!("Event {id}: invalid timestamp {}", event.at),
        ));
    }
    if !matches!(event.execution_mode.as_str(), "worktree" | "direct_repo") {
        findings.push(finding(
            "EXECUTION_MODE_INVALID",
            format!(
                "Event {id}: invalid execution_mode {}",
                event.execution_mode
            ),
        ));
    }
    if event.force && event.reason.as_deref().is_none_or(str::is_empty) {
        findings.push(finding(
            "FORCE_WITHOUT_REASON",
            format!("Event {id}: force=true without reason"),
        ));
    }
    if event.from_lane == Lane::ForReview
        && event.to_lane == Lane::InProgress
        && event.review_ref.as_deref().is_none_or(str::is_empty)
        && !event.force
    {
        findings.push(finding(
            "REVIEW_REF_MISSING",
            format!("Event {id}: for_review -> in_progress without review_ref"),
        ));
    }
}

fn check_done_evidence(event: &StatusEvent, findings: &mut Vec<Finding>) {
    if event.force || event.to_lane != Lane::Done {
        return;
    }
    let id = &event.event_id;
    let Some(evidence) = event.evidence.as_ref() else {
        findings.push(finding(
            "DONE_WITHOUT_EVIDENCE",
            format!("Event {id}: done without evidence (not forced)"),
        ));
        return;
    };
    let Some(review) = evidence.get("review").and_then(Value::as_object) else {
        findings.push(finding(
            "DONE_EVIDENCE_INCOMPLETE",
            format!("Event {id}: done evidence missing review section"),
        ));
        return;
    };
    for (key, what) in [
        ("reviewer", "reviewer identity"),
        ("verdict", "verdict"),
        ("reference", "approval reference"),
    ] {
        let present = review
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|text| !text.is_empty());
        if !present {
            findings.push(finding(
                "DONE_EVIDENCE_INCOMPLETE",
                format!("Event {id}: done evidence missing {what}"),
            ));
        }
    }
}

/// Compares the committed snapshot with a fresh reduction (`materialized_at` ignored).
fn check_drift(expected: &StatusSnapshot, on_disk: &Value, findings: &mut Vec<Finding>) {
    let fresh = expected.to_value();
    for key in ["event_count", "last_event_id", "retrospective"] {
        if fresh.get(key) != on_disk.get(key) {
            findings.push(finding(
                "SNAPSHOT_DRIFT",
                format!(
                    "status.json {key} is {}, the log reduces to {}",
                    on_disk.get(key).unwrap_or(&Value::Null),
                    fresh.get(key).unwrap_or(&Value::Null)
                ),
            ));
        }
    }
    let empty = serde_json::Map::new();
    let fresh_wps = fresh
        .get("work_packages")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let disk_wps = on_disk
        .get("work_packages")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (wp_id, state) in fresh_wps {
        match disk_wps.get(wp_id) {
            None => findings.push(finding(
                "SNAPSHOT_DRIFT",
                format!("status.json lacks {wp_id}"),
            )),
            Some(disk) if disk.get("lane") != state.get("lane") => findings.push(finding(
                "SNAPSHOT_DRIFT",
                format!(
                    "status.json has {wp_id} in {}, the log puts it in {}",
                    disk.get("lane").unwrap_or(&Value::Null),
                    state.get("lane").unwrap_or(&Value::Null)
                ),
            )),
            Some(disk) if disk != state => findings.push(finding(
                "SNAPSHOT_DRIFT",
                format!("status.json state of {wp_id} differs from the log's"),
            )),
            Some(_) => {}
        }
    }
    for wp_id in disk_wps.keys() {
        if !fresh_wps.contains_key(wp_id) {
            findings.push(finding(
                "SNAPSHOT_DRIFT",
                format!("status.json has {wp_id}, which the log never mentions"),
            ));
        }
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

/// Validates a log (already read whole) against the reduction and the snapshot on disk.
pub fn validate(
    log: &EventLog,
    fresh: &StatusSnapshot,
    snapshot: SnapshotOnDisk<'_>,
    log_exists: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut transitions: Vec<&StatusEvent> = log.transitions().collect();
    for event in &transitions {
        check_schema(event, &mut findings);
    }
    transitions.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });
    for event in &transitions {
        if !event.force && !is_edge(event.from_lane, event.to_lane) {
            findings.push(finding(
                "ILLEGAL_TRANSITION",
                format!(
                    "Event {}: illegal transition {} -> {}",
                    event.event_id, event.from_lane, event.to_lane
                ),
            ));
        }
        check_done_evidence(event, &mut findings);
    }
    match (snapshot, log_exists) {
        (SnapshotOnDisk::Missing, true) => findings.push(finding(
            "SNAPSHOT_MISSING",
            "status.json is missing; run `missionctl status materialize`".to_owned(),
        )),
        (SnapshotOnDisk::Unreadable, _) => findings.push(finding(
            "SNAPSHOT_UNREADABLE",
            "status.json is not valid JSON; run `missionctl status materialize`".to_owned(),
        )),
        (SnapshotOnDisk::Parsed(_), false) => findings.push(finding(
            "LOG_MISSING",
            "status.json exists without status.events.jsonl".to_owned(),
        )),
        (SnapshotOnDisk::Parsed(value), true) => check_drift(fresh, value, &mut findings),
        (SnapshotOnDisk::Missing, false) => {}
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::parse;
    use crate::reducer::reduce;

    const SEED: &str = r#"{"actor": "finalize-tasks", "at": "2026-01-01T00:00:00+00:00", "event_id": "01KQ22XX0000000000000000A1", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "genesis", "mission_slug": "m-01KQ22XX", "policy_metadata": null, "reason": "canonical bootstrap", "review_ref": null, "to_lane": "planned", "wp_id": "WP01"}"#;

    fn run(lines: &[&str], snapshot: Option<&str>) -> Vec<&'static str> {
        let log = parse(lines.join("\n").as_bytes());
        let fresh = reduce(&log);
        let parsed: Option<Value> =
            snapshot.map(|text| serde_json::from_str(text).unwrap_or(Value::Null));
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
