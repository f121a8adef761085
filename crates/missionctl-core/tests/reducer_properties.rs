//! Properties of the reader and the reducer over generated logs, and examples for the
//! precedence rules of `status-domain.md` §5.2–5.3.
//!
//! Generated logs hold several work packages, transitions with unique `event_id`s whose `at`
//! comes from a small pool (so ties are common, including a rollback and a forward move at
//! the same `at`), forced moves, annotations with every delta key, retrospective rows and
//! foreign rows. Rows are written with the core serializer, foreign rows by hand.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

use missionctl_core::Lane;
use missionctl_core::status::event::{Actor, Annotation, StatusEvent};
use missionctl_core::status::event_log::{self, EventLog};
use missionctl_core::status::log_merge;
use missionctl_core::status::reducer::{IncrementalReducer, reduce, reduce_with_identity};
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::status::transition::ReviewResult;
use missionctl_core::text::pyjson::{self, Style};

/// A small pool of timestamps, in both writer shapes, so that ties are frequent.
const AT_POOL: [&str; 6] = [
    "2026-07-25T13:51:30+00:00",
    "2026-07-25T13:51:30.000001+00:00",
    "2026-07-25T13:51:30.644518+00:00",
    "2026-07-25T13:51:30Z",
    "2026-07-25T14:00:00.5+00:00",
    "2026-07-26T09:00:00.000000+00:00",
];

const WORK_PACKAGES: [&str; 4] = ["WP01", "WP02", "WP03", "WP10"];

const ULID_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Returns a 26-character uppercase ULID that is unique for `index` and ordered by `salt`
/// first, so that id order and generation order differ.
fn ulid(salt: u16, index: usize) -> String {
    let mut value = (u128::from(salt) << 64) | index as u128;
    let mut out = [b'0'; 26];
    for slot in out.iter_mut().rev() {
        *slot = ULID_ALPHABET[(value % 32) as usize];
        value /= 32;
    }
    String::from_utf8(out.to_vec()).expect("ULID alphabet is ASCII")
}

/// One generated line, with what it is.
#[derive(Debug, Clone, PartialEq)]
enum Row {
    Transition(String),
    Annotation(String),
    /// Retrospective stream rows: read by the reducer's retrospective pass.
    Retrospective(String),
}

impl Row {
    fn text(&self) -> &str {
        match self {
            Row::Transition(text) | Row::Annotation(text) | Row::Retrospective(text) => text,
        }
    }
}

fn lane() -> impl Strategy<Value = Lane> {
    prop::sample::select(Lane::ALL.to_vec())
}

fn at() -> impl Strategy<Value = String> {
    prop::sample::select(AT_POOL.to_vec()).prop_map(str::to_owned)
}

fn wp_id() -> impl Strategy<Value = String> {
    prop::sample::select(WORK_PACKAGES.to_vec()).prop_map(str::to_owned)
}

/// Text with the characters the serializer must escape.
fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "claude",
        "Changes requested",
        "é \"quoted\" \\ tab\t",
        "line\nbreak \u{7f} \u{1f600}",
        "feedback://mission/WP01/review-1.md",
    ])
    .prop_map(str::to_owned)
}

fn actor() -> impl Strategy<Value = Actor> {
    let name = prop::sample::select(vec![
        "claude",
        "codex",
        "user",
        "",
        "claude:opus:r:reviewer",
    ]);
    let part = prop::option::of(prop::sample::select(vec!["", "claude", "reviewer", "opus"]));
    prop_oneof![
        3 => name.prop_map(|name| Actor::Name(name.to_owned())),
        1 => (part.clone(), part.clone(), part.clone(), part).prop_map(
            |(role, profile, tool, model)| Actor::Structured {
                role: role.map(str::to_owned),
                profile: profile.map(str::to_owned),
                tool: tool.map(str::to_owned),
                model: model.map(str::to_owned),
            }
        ),
    ]
}

/// Lane pairs, weighted towards the ones with special rules.
fn lanes() -> impl Strategy<Value = (Lane, Lane)> {
    prop_oneof![
        3 => Just((Lane::InReview, Lane::InProgress)),
        1 => Just((Lane::ForReview, Lane::InProgress)),
        2 => Just((Lane::Planned, Lane::Claimed)),
        2 => Just((Lane::InReview, Lane::Approved)),
        1 => Just((Lane::InProgress, Lane::ForReview)),
        4 => (lane(), lane()),
    ]
}

fn review_result() -> impl Strategy<Value = ReviewResult> {
    (
        prop::sample::select(vec!["approved", "changes_requested"]),
        prop::option::of(text()),
    )
        .prop_map(|(verdict, feedback_path)| ReviewResult {
            reviewer: "alice".to_owned(),
            verdict: verdict.to_owned(),
            reference: "PR#42".to_owned(),
            feedback_path,
        })
}

fn evidence() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"review": {"reference": "PR#42", "reviewer": "alice", "verdict": "approved"}})),
        Just(json!({
            "repos": [{"branch": "main", "commit": "abc1234", "repo": "r"}],
            "review": {"reference": "r", "reviewer": "é", "verdict": "approved"},
            "verification": [{"command": "cargo test", "result": "pass", "summary": "ok 1.5"}]
        })),
    ]
}

fn policy_metadata() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!("claude")),
        Just(json!(0)),
        Just(json!(3905187)),
        Just(json!(1.5)),
    ];
    (value.clone(), value.clone(), value).prop_map(|(agent, shell_pid, created)| {
        json!({"agent": agent, "shell_pid": shell_pid, "shell_pid_created_at": created,
               "merge_phase": "lane_integrated"})
    })
}

/// A transition without its `event_id` (assigned later, to keep ids unique).
#[derive(Debug, Clone)]
struct TransitionSpec {
    event: StatusEvent,
    salt: u16,
}

fn transition() -> impl Strategy<Value = TransitionSpec> {
    let core = (
        wp_id(),
        lanes(),
        at(),
        actor(),
        any::<u16>(),
        prop::bool::weighted(0.2),
    );
    let optional = (
        prop::option::of(text()),
        prop::option::weighted(0.3, text()),
        prop::option::weighted(0.3, review_result()),
        prop::option::weighted(0.2, evidence()),
        prop::option::weighted(0.5, policy_metadata()),
        prop::sample::select(vec!["mission-a-01KYCF83", "034-legacy", "../unsafe", ""]),
        prop::option::of(Just("01KYCF83MT808X1J7ZE87ZJXQW".to_owned())),
    );
    (core, optional).prop_map(
        |(
            (wp_id, (from_lane, to_lane), at, actor, salt, force),
            (reason, review_ref, review_result, evidence, policy_metadata, slug, mission_id),
        )| TransitionSpec {
            event: StatusEvent {
                event_id: String::new(),
                wp_id,
                from_lane,
                to_lane,
                at,
                actor,
                force,
                execution_mode: "worktree".to_owned(),
                mission_slug: slug.to_owned(),
                mission_id,
                reason,
                reason_source: None,
                review_ref,
                evidence,
                review_result,
                policy_metadata: policy_metadata.map(Into::into),
            },
            salt,
        },
    )
}

fn delta() -> impl Strategy<Value = Map<String, Value>> {
    let string_slot = prop::option::weighted(
        0.4,
        prop_oneof![
            Just(Value::Null),
            Just(json!("")),
            text().prop_map(Value::String),
            Just(json!("__resolved_model_absent__")),
        ],
    );
    let shell_pid = prop::option::weighted(
        0.4,
        prop_oneof![Just(Value::Null), (0u32..4).prop_map(|pid| json!(pid))],
    );
    let subtasks = prop::option::weighted(
        0.3,
        prop::collection::btree_map(
            prop::sample::select(vec!["T001", "T002", "T010"]),
            lane().prop_map(|lane| lane.as_str()),
            0..3,
        )
        .prop_map(|map| json!(map)),
    );
    let refs = || {
        prop::option::weighted(
            0.3,
            prop::collection::vec(prop::sample::select(vec!["GH-1", "GH-2", "LIN-7"]), 0..4)
                .prop_map(|refs| json!(refs)),
        )
    };
    let review = prop::option::weighted(
        0.2,
        prop_oneof![
            Just(json!({"actor": "", "at": "", "reason": "", "wp_id": ""})),
            Just(
                json!({"actor": "bob", "at": "2026-07-25T13:51:30Z", "reason": "r", "wp_id": "WP01"})
            ),
            Just(json!({"actor": "", "at": "", "reason": "partial", "wp_id": ""})),
        ],
    );
    let release = prop::option::weighted(
        0.2,
        prop_oneof![Just(json!(true)), Just(json!(false)), Just(Value::Null)],
    );
    let note = prop::option::weighted(0.3, text().prop_map(Value::String));
    (
        (
            string_slot.clone(),
            shell_pid,
            string_slot.clone(),
            string_slot.clone(),
            string_slot.clone(),
        ),
        (subtasks, note, refs(), refs(), review, release),
        string_slot,
    )
        .prop_map(
            |(
                (agent, shell_pid, created, role, model),
                (subtasks, note, tracker_refs, replace, review, release),
                unknown,
            )| {
                let mut delta = Map::new();
                let entries = [
                    ("agent", agent),
                    ("shell_pid", shell_pid),
                    ("shell_pid_created_at", created),
                    ("role", role),
                    ("model", model),
                    ("subtasks", subtasks),
                    ("note", note),
                    ("tracker_refs", tracker_refs),
                    ("tracker_refs_replace", replace),
                    ("review", review),
                    ("release_runtime_claim", release),
                    ("future_key", unknown),
                ];
                for (key, value) in entries {
                    if let Some(value) = value {
                        delta.insert(key.to_owned(), value);
                    }
                }
                delta
            },
        )
}

#[derive(Debug, Clone)]
struct AnnotationSpec {
    annotation: Annotation,
    salt: u16,
}

fn annotation() -> impl Strategy<Value = AnnotationSpec> {
    (wp_id(), at(), actor(), delta(), any::<u16>()).prop_map(|(wp_id, at, actor, delta, salt)| {
        AnnotationSpec {
            annotation: Annotation {
                event_id: String::new(),
                wp_id,
                at,
                actor,
                delta,
            },
            salt,
        }
    })
}

/// A retrospective stream row (`event_name` starting with `retrospective.`).
fn retrospective() -> impl Strategy<Value = (String, String, u16)> {
    (
        prop::sample::select(vec![
            "retrospective.requested",
            "retrospective.completed",
            "retrospective.skipped",
            "retrospective.proposal.generated",
            "retrospective.proposal.applied",
            "retrospective.unknown",
        ]),
        at(),
        any::<u16>(),
    )
        .prop_map(|(name, at, salt)| (name.to_owned(), at, salt))
}

/// Foreign rows the reducer skips entirely, and blank lines.
fn foreign_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![0u8, 1, 2, 3, 4, 5]),
        at(),
        wp_id(),
        any::<u32>(),
    )
        .prop_map(|(shape, at, wp_id, id)| match shape {
            0 => format!(
                "{{\"aggregate_id\": \"{wp_id}\", \"aggregate_type\": \"WorkPackage\", \"event_id\": \"L{id}\", \"event_type\": \"WPCreated\", \"payload\": {{\"wp_id\": \"{wp_id}\"}}, \"schema_version\": \"5.0.0\", \"timestamp\": \"{at}\"}}"
            ),
            1 => format!(
                "{{\"at\": \"{at}\", \"event_id\": \"D{id}\", \"event_type\": \"DecisionPointOpened\", \"payload\": {{}}}}"
            ),
            2 => format!("{{\"at\": \"{at}\", \"type\": \"RetrospectiveCaptured\", \"wp_id\": \"{wp_id}\"}}"),
            3 => format!(
                "{{\"event_type\": null, \"wp_id\": \"{wp_id}\", \"from_lane\": \"planned\", \"to_lane\": \"done\"}}"
            ),
            4 => "   \t".to_owned(),
            _ => String::new(),
        })
}

/// Builds the lines of a log from specs, assigning unique event ids.
fn build_rows(
    transitions: Vec<TransitionSpec>,
    annotations: Vec<AnnotationSpec>,
    retrospectives: Vec<(String, String, u16)>,
) -> Vec<Row> {
    // Ids are unique across the three kinds (the index ranges do not overlap): rows of
    // different kinds sharing an id would be a conflicting payload to the log merge.
    let mut rows = Vec::new();
    for (index, spec) in transitions.into_iter().enumerate() {
        let mut event = spec.event;
        event.event_id = ulid(spec.salt, index);
        rows.push(Row::Transition(event.to_json_line()));
    }
    for (index, spec) in annotations.into_iter().enumerate() {
        let mut annotation = spec.annotation;
        annotation.event_id = ulid(spec.salt, 1_000 + index);
        rows.push(Row::Annotation(annotation.to_json_line()));
    }
    for (index, (name, at, salt)) in retrospectives.into_iter().enumerate() {
        let payload = match name.as_str() {
            "retrospective.requested" => {
                json!({"mode": {"value": "autonomous", "source_signal": {"kind": "flag", "evidence": "x"}}})
            }
            "retrospective.completed" | "retrospective.skipped" => {
                json!({"record_path": format!("retro/{index}.yaml")})
            }
            _ => json!({}),
        };
        let event_id = ulid(salt, 2_000 + index);
        rows.push(Row::Retrospective(format!(
            "{{\"at\": \"{at}\", \"event_id\": \"{event_id}\", \"event_name\": \"{name}\", \"payload\": {payload}}}"
        )));
    }
    rows
}

/// A generated log, in a random file order.
fn rows() -> impl Strategy<Value = Vec<Row>> {
    (
        prop::collection::vec(transition(), 0..24),
        prop::collection::vec(annotation(), 0..12),
        prop::collection::vec(retrospective(), 0..3),
    )
        .prop_map(|(transitions, annotations, retrospectives)| {
            build_rows(transitions, annotations, retrospectives)
        })
        .prop_shuffle()
}

fn join<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

fn parse_valid(text: &str) -> EventLog {
    let log = event_log::parse(text.as_bytes());
    assert!(
        log.errors.is_empty(),
        "generated log is readable: {:?}",
        log.errors
    );
    log
}

fn snapshot_bytes(text: &str) -> String {
    reduce(&parse_valid(text)).to_status_json()
}

/// Returns a JSON value of bounded depth with the awkward leaves.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e20f64..1e20).prop_map(|f| json!(f)),
        "[a-z\"\\\\é\n\u{0}]{0,6}".prop_map(Value::String),
        lane().prop_map(|lane| json!(lane.as_str())),
        Just(json!("annotation")),
        Just(json!("retrospective.requested")),
        Just(json!("01KYCT5TN29304H3AB74SDQ96B")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Returns a key the reader or the reducer looks at, or an unknown one.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "kind",
        "event_name",
        "type",
        "event_type",
        "timestamp",
        "payload",
        "actor",
        "at",
        "event_id",
        "evidence",
        "execution_mode",
        "force",
        "from_lane",
        "to_lane",
        "mission_id",
        "mission_slug",
        "feature_slug",
        "policy_metadata",
        "reason",
        "review_ref",
        "review_result",
        "wp_id",
        "delta",
        "agent",
        "shell_pid",
        "subtasks",
        "note",
        "tracker_refs",
        "tracker_refs_replace",
        "review",
        "release_runtime_claim",
        "mode",
        "value",
        "source_signal",
        "record_path",
        "role",
        "tool",
        "model",
        "profile",
        "verdict",
        "reviewer",
        "reference",
        "other",
    ])
    .prop_map(str::to_owned)
}

/// A valid row with one key replaced by an arbitrary value or removed.
fn mutated_line() -> impl Strategy<Value = String> {
    (
        rows(),
        any::<Index>(),
        key(),
        prop::option::of(json_value()),
    )
        .prop_map(|(rows, which, key, value)| {
            let Some(row) = rows.get(which.index(rows.len().max(1))) else {
                return "{}".to_owned();
            };
            let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(row.text()) else {
                return row.text().to_owned();
            };
            match value {
                Some(value) => {
                    // Half the time, reach into the delta or policy_metadata object instead.
                    let inner_key = if map.contains_key("delta") {
                        "delta"
                    } else {
                        "policy_metadata"
                    };
                    match map.get_mut(inner_key) {
                        Some(Value::Object(inner)) if key.len() % 2 == 0 => {
                            inner.insert(key, value);
                        }
                        _ => {
                            map.insert(key, value);
                        }
                    }
                }
                None => {
                    map.remove(&key);
                }
            }
            serde_json::to_string(&Value::Object(map)).expect("a value serializes")
        })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The snapshot is a function of the set of lines, not of their order.
    #[test]
    fn line_order_does_not_matter(rows in rows(), seed in any::<u64>()) {
        let original = snapshot_bytes(&join(rows.iter().map(Row::text)));
        // A seeded shuffle on top of the generated order.
        let lines: Vec<&str> = rows.iter().map(Row::text).collect();
        let reordered = snapshot_bytes(&join(shuffled(&lines, seed)));
        prop_assert_eq!(original, reordered);
    }

    /// Repeating transition rows after their first occurrence changes nothing, and
    /// `event_count` counts distinct ids.
    #[test]
    fn duplicate_transitions_are_dropped(
        rows in rows(),
        copies in prop::collection::vec((any::<Index>(), any::<Index>()), 1..8),
    ) {
        let mut lines: Vec<&str> = rows.iter().map(Row::text).collect();
        let original = snapshot_bytes(&join(lines.iter().copied()));
        let transitions: Vec<&str> = rows
            .iter()
            .filter_map(|row| match row {
                Row::Transition(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        prop_assume!(!transitions.is_empty());
        for (which, position) in copies {
            let line = transitions[which.index(transitions.len())];
            let first = lines.iter().position(|candidate| *candidate == line).expect("present");
            let at = first + 1 + position.index(lines.len() - first);
            lines.insert(at, line);
        }
        let log = parse_valid(&join(lines.iter().copied()));
        let snapshot = reduce(&log);
        prop_assert_eq!(snapshot.event_count, transitions.len());
        let distinct: HashSet<&str> = log.transitions().map(|event| event.event_id.as_str()).collect();
        prop_assert_eq!(snapshot.event_count, distinct.len());
        prop_assert_eq!(original, snapshot.to_status_json());
    }

    /// Foreign rows and blank lines anywhere change nothing.
    #[test]
    fn foreign_rows_are_skipped(
        rows in rows(),
        foreign in prop::collection::vec((any::<Index>(), foreign_line()), 1..8),
    ) {
        let mut lines: Vec<String> = rows.iter().map(|row| row.text().to_owned()).collect();
        let original = snapshot_bytes(&join(lines.iter().map(String::as_str)));
        for (position, line) in foreign {
            let at = position.index(lines.len() + 1);
            lines.insert(at, line);
        }
        let text = join(lines.iter().map(String::as_str));
        let log = parse_valid(&text);
        let expected_foreign = lines
            .iter()
            .filter(|line| line.contains("event_type") || line.contains("RetrospectiveCaptured"))
            .count();
        let retrospective = rows.iter().filter(|row| matches!(row, Row::Retrospective(_))).count();
        prop_assert_eq!(log.foreign().count(), expected_foreign + retrospective);
        prop_assert_eq!(original, reduce(&log).to_status_json());
    }

    /// The direct `status.json` writer agrees with writing the snapshot's value tree.
    #[test]
    fn status_json_matches_the_value_tree(rows in rows()) {
        let snapshot = reduce(&parse_valid(&join(rows.iter().map(Row::text))));
        let mut expected = pyjson::to_string(&snapshot.to_value(), Style::Indented);
        expected.push('\n');
        prop_assert_eq!(snapshot.to_status_json(), expected);
    }

    /// Every generated row reads back as the value it was written from.
    #[test]
    fn rows_round_trip_through_the_reader(spec in transition(), note in annotation()) {
        let mut event = spec.event;
        event.event_id = ulid(spec.salt, 0);
        let mut annotation = note.annotation;
        annotation.event_id = ulid(note.salt, 1);
        let text = join([event.to_json_line().as_str(), annotation.to_json_line().as_str()]);
        let log = parse_valid(&text);
        prop_assert_eq!(log.transitions().next(), Some(&event));
        prop_assert_eq!(log.annotations().next(), Some(&annotation));
    }

    /// Arbitrary bytes never panic the reader or the reducer, and every non-blank line is
    /// either a row or an error.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_total(&bytes);
    }

    /// Arbitrary JSON objects built from the keys the reader knows never panic.
    #[test]
    fn arbitrary_objects_never_panic(
        objects in prop::collection::vec(
            prop::collection::btree_map(key(), json_value(), 0..8), 0..12),
        meta in prop::collection::btree_map(
            prop::sample::select(vec!["mission_number", "mission_type"]).prop_map(str::to_owned),
            json_value(), 0..2),
    ) {
        let lines: Vec<String> = objects
            .into_iter()
            .map(|map| Value::Object(map.into_iter().collect()).to_string())
            .collect();
        let bytes = join(lines.iter().map(String::as_str));
        check_total(bytes.as_bytes());
        let log = event_log::parse(bytes.as_bytes());
        let meta: Map<String, Value> = meta.into_iter().collect();
        if let Ok(snapshot) = reduce_with_identity(&log, Some(&meta)) {
            let _ = snapshot.to_status_json();
        }
    }

    /// Valid rows with one field broken never panic.
    #[test]
    fn mutated_rows_never_panic(lines in prop::collection::vec(mutated_line(), 1..8)) {
        check_total(join(lines.iter().map(String::as_str)).as_bytes());
    }
}

fn check_total(bytes: &[u8]) {
    let log = event_log::parse(bytes);
    let _ = reduce(&log).to_status_json();
    let blank = bytes
        .split(|byte| *byte == b'\n')
        .filter(|line| {
            std::str::from_utf8(line).is_ok_and(|text| {
                text.trim_matches(|ch: char| {
                    ch.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&ch)
                })
                .is_empty()
            })
        })
        .count();
    let lines = bytes.split(|byte| *byte == b'\n').count();
    assert_eq!(log.rows.len() + log.errors.len() + blank, lines);
}

// ---- Examples: the precedence rules of §5.2 and §5.3 ----

const T1: &str = "2026-07-25T10:00:00+00:00";
const T2: &str = "2026-07-25T11:00:00+00:00";
const T3: &str = "2026-07-25T12:00:00+00:00";

fn event(id: &str, wp_id: &str, from_lane: Lane, to_lane: Lane, at: &str) -> StatusEvent {
    StatusEvent {
        event_id: id.to_owned(),
        wp_id: wp_id.to_owned(),
        from_lane,
        to_lane,
        at: at.to_owned(),
        actor: Actor::Name("claude".to_owned()),
        force: false,
        execution_mode: "worktree".to_owned(),
        mission_slug: "mission-a-01KYCF83".to_owned(),
        mission_id: None,
        reason: None,
        reason_source: None,
        review_ref: None,
        evidence: None,
        review_result: None,
        policy_metadata: None,
    }
}

fn note(id: &str, wp_id: &str, at: &str, delta: Value) -> Annotation {
    Annotation {
        event_id: id.to_owned(),
        wp_id: wp_id.to_owned(),
        at: at.to_owned(),
        actor: Actor::Name("codex".to_owned()),
        delta: delta.as_object().cloned().expect("delta is an object"),
    }
}

/// Writes example rows with the core serializer.
struct Line;

impl Line {
    fn event(event: StatusEvent) -> String {
        event.to_json_line()
    }

    fn note(annotation: Annotation) -> String {
        annotation.to_json_line()
    }
}

fn reduce_lines(lines: Vec<String>) -> StatusSnapshot {
    reduce(&parse_valid(&join(lines.iter().map(String::as_str))))
}

fn slot(snapshot: &StatusSnapshot, wp_id: &str, key: &str) -> Option<Value> {
    snapshot.work_packages[wp_id].slots.get(key).cloned()
}

/// In review up to `T1`, then the two moves at `T2` given.
fn review_then(second: StatusEvent, third: StatusEvent) -> StatusSnapshot {
    reduce_lines(vec![
        Line::event(event("01A", "WP01", Lane::ForReview, Lane::InReview, T1)),
        Line::event(third),
        Line::event(second),
    ])
}

#[test]
fn forward_after_rollback_at_the_same_at_is_skipped() {
    let rollback = event("01B", "WP01", Lane::InReview, Lane::InProgress, T2);
    let mut forward = event("01C", "WP01", Lane::InProgress, Lane::ForReview, T2);
    forward.force = true;
    let snapshot = review_then(rollback, forward);
    let state = &snapshot.work_packages["WP01"];
    assert_eq!(state.lane, Lane::InProgress);
    assert_eq!(state.last_event_id.as_deref(), Some("01B"));
    assert_eq!(
        state.force_count, 0,
        "a skipped event does not count as forced"
    );
    // A skipped event still counts and can be the top-level last event.
    assert_eq!(snapshot.event_count, 3);
    assert_eq!(snapshot.last_event_id.as_deref(), Some("01C"));
    assert_eq!(snapshot.materialized_at, T2);
}

#[test]
fn legacy_rollback_shape_also_blocks_a_simultaneous_forward() {
    let mut rollback = event("01B", "WP01", Lane::ForReview, Lane::InProgress, T2);
    rollback.review_ref = Some("feedback.md".to_owned());
    let forward = event("01C", "WP01", Lane::InProgress, Lane::ForReview, T2);
    let snapshot = review_then(rollback, forward);
    assert_eq!(snapshot.work_packages["WP01"].lane, Lane::InProgress);
    // Without a review_ref it is not a rollback, and the later forward move wins.
    let plain = event("01B", "WP01", Lane::ForReview, Lane::InProgress, T2);
    let forward = event("01C", "WP01", Lane::InProgress, Lane::ForReview, T2);
    let snapshot = review_then(plain, forward);
    assert_eq!(snapshot.work_packages["WP01"].lane, Lane::ForReview);
}

#[test]
fn rollback_arriving_second_at_the_same_at_wins() {
    let forward = event("01B", "WP01", Lane::InReview, Lane::Approved, T2);
    let rollback = event("01C", "WP01", Lane::InReview, Lane::InProgress, T2);
    let snapshot = review_then(forward, rollback);
    let state = &snapshot.work_packages["WP01"];
    assert_eq!(state.lane, Lane::InProgress);
    assert_eq!(state.last_event_id.as_deref(), Some("01C"));
}

#[test]
fn a_second_rollback_at_the_same_at_applies() {
    let first = event("01B", "WP01", Lane::InReview, Lane::InProgress, T2);
    let mut second = event("01C", "WP01", Lane::ForReview, Lane::InProgress, T2);
    second.review_ref = Some("feedback.md".to_owned());
    second.actor = Actor::Name("codex".to_owned());
    let snapshot = review_then(first, second);
    let state = &snapshot.work_packages["WP01"];
    assert_eq!(state.last_event_id.as_deref(), Some("01C"));
    assert_eq!(state.actor, "codex");
}

#[test]
fn forward_after_rollback_at_a_later_at_applies() {
    let rollback = event("01B", "WP01", Lane::InReview, Lane::InProgress, T2);
    let forward = event("01C", "WP01", Lane::InProgress, Lane::ForReview, T3);
    let snapshot = review_then(rollback, forward);
    assert_eq!(snapshot.work_packages["WP01"].lane, Lane::ForReview);
}

#[test]
fn annotation_beats_the_claim_sidecar_whatever_the_timestamps() {
    let mut claim = event("01B", "WP01", Lane::Planned, Lane::Claimed, T3);
    claim.policy_metadata =
        Some(json!({"agent": "claude", "shell_pid": 11, "shell_pid_created_at": "1.5"}).into());
    let earlier = note(
        "01KYCT5TN29304H3AB74SDQ96B",
        "WP01",
        T1,
        json!({"agent": "codex", "shell_pid": 22}),
    );
    let snapshot = reduce_lines(vec![Line::note(earlier), Line::event(claim.clone())]);
    assert_eq!(slot(&snapshot, "WP01", "agent"), Some(json!("codex")));
    assert_eq!(slot(&snapshot, "WP01", "shell_pid"), Some(json!(22)));
    assert_eq!(
        slot(&snapshot, "WP01", "shell_pid_created_at"),
        Some(json!("1.5"))
    );

    // Alone, the sidecar fills the slots; a falsy agent and null values are not copied.
    let snapshot = reduce_lines(vec![Line::event(claim)]);
    assert_eq!(slot(&snapshot, "WP01", "agent"), Some(json!("claude")));
    let mut falsy = event("01B", "WP02", Lane::Planned, Lane::Claimed, T3);
    falsy.policy_metadata =
        Some(json!({"agent": "", "shell_pid": 0, "shell_pid_created_at": null}).into());
    let snapshot = reduce_lines(vec![Line::event(falsy)]);
    assert_eq!(slot(&snapshot, "WP02", "agent"), None);
    assert_eq!(slot(&snapshot, "WP02", "shell_pid"), Some(json!(0)));
    assert_eq!(slot(&snapshot, "WP02", "shell_pid_created_at"), None);

    // The sidecar is read on `planned → claimed` only.
    for (from_lane, to_lane) in [
        (Lane::InProgress, Lane::Claimed),
        (Lane::Planned, Lane::InProgress),
    ] {
        let mut other = event("01B", "WP03", from_lane, to_lane, T3);
        other.policy_metadata = Some(json!({"agent": "claude", "shell_pid": 5}).into());
        let snapshot = reduce_lines(vec![Line::event(other)]);
        assert_eq!(slot(&snapshot, "WP03", "agent"), None);
    }
}

#[test]
fn an_empty_string_never_erases_a_slot() {
    let snapshot = reduce_lines(vec![
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96A",
            "WP01",
            T1,
            json!({"agent": "claude", "model": "opus"}),
        )),
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96B",
            "WP01",
            T2,
            json!({"agent": "", "model": null}),
        )),
    ]);
    assert_eq!(slot(&snapshot, "WP01", "agent"), Some(json!("claude")));
    assert_eq!(slot(&snapshot, "WP01", "model"), Some(json!("opus")));
    // A work package seen only through annotations is uninitialized and not summarized.
    let state = &snapshot.work_packages["WP01"];
    assert_eq!(state.lane, Lane::Uninitialized);
    assert_eq!(state.actor, "codex");
    assert!(snapshot.summary().values().all(|count| *count == 0));
}

#[test]
fn release_runtime_claim_clears_the_claim_before_the_same_delta_applies() {
    let mut claim = event("01B", "WP01", Lane::Planned, Lane::Claimed, T1);
    claim.policy_metadata =
        Some(json!({"agent": "claude", "shell_pid": 11, "shell_pid_created_at": "1.5"}).into());
    let snapshot = reduce_lines(vec![
        Line::event(claim.clone()),
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96B",
            "WP01",
            T2,
            json!({"release_runtime_claim": true}),
        )),
    ]);
    for key in ["agent", "shell_pid", "shell_pid_created_at"] {
        assert_eq!(slot(&snapshot, "WP01", key), Some(Value::Null), "{key}");
    }
    let snapshot = reduce_lines(vec![
        Line::event(claim.clone()),
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96B",
            "WP01",
            T2,
            json!({"release_runtime_claim": true, "agent": "codex"}),
        )),
    ]);
    assert_eq!(slot(&snapshot, "WP01", "agent"), Some(json!("codex")));
    assert_eq!(slot(&snapshot, "WP01", "shell_pid"), Some(Value::Null));
    assert!(
        snapshot
            .to_status_json()
            .contains("\"shell_pid\": null,\n      \"shell_pid_created_at\": null")
    );
    // `false` (or null) releases nothing.
    let snapshot = reduce_lines(vec![
        Line::event(claim.clone()),
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96B",
            "WP01",
            T2,
            json!({"release_runtime_claim": false}),
        )),
    ]);
    assert_eq!(slot(&snapshot, "WP01", "agent"), Some(json!("claude")));
    assert_eq!(slot(&snapshot, "WP01", "shell_pid"), Some(json!(11)));
}

#[test]
fn the_review_sentinel_clears_the_override() {
    let set = json!({"review": {"actor": "bob", "at": T1, "reason": "hold", "wp_id": "WP01"}});
    let sentinel = json!({"review": {"actor": "", "at": "", "reason": "", "wp_id": ""}});
    let partial = json!({"review": {"actor": "", "at": "", "reason": "again", "wp_id": ""}});
    let snapshot = reduce_lines(vec![
        Line::note(note("01KYCT5TN29304H3AB74SDQ96A", "WP01", T1, set.clone())),
        Line::note(note("01KYCT5TN29304H3AB74SDQ96B", "WP01", T2, sentinel)),
    ]);
    assert_eq!(slot(&snapshot, "WP01", "review"), Some(Value::Null));
    let snapshot = reduce_lines(vec![
        Line::note(note("01KYCT5TN29304H3AB74SDQ96A", "WP01", T1, set)),
        Line::note(note("01KYCT5TN29304H3AB74SDQ96B", "WP01", T2, partial)),
    ]);
    assert_eq!(
        slot(&snapshot, "WP01", "review"),
        Some(json!({"actor": "", "at": "", "reason": "again", "wp_id": ""}))
    );
}

#[test]
fn review_result_is_set_cleared_and_carried() {
    let mut approve = event("01B", "WP01", Lane::InReview, Lane::Approved, T2);
    approve.review_result = Some(ReviewResult {
        reviewer: "alice".to_owned(),
        verdict: "approved".to_owned(),
        reference: "PR#42".to_owned(),
        feedback_path: None,
    });
    let done = event("01C", "WP01", Lane::Approved, Lane::Done, T3);
    let snapshot = reduce_lines(vec![
        Line::event(event("01A", "WP01", Lane::ForReview, Lane::InReview, T1)),
        Line::event(done),
        Line::event(approve),
    ]);
    assert_eq!(
        slot(&snapshot, "WP01", "review_result"),
        Some(json!({"reference": "PR#42", "reviewer": "alice", "verdict": "approved"}))
    );
    // A forced exit from review without a result sets it to null explicitly.
    let mut forced = event("01B", "WP02", Lane::InReview, Lane::Canceled, T2);
    forced.force = true;
    let snapshot = reduce_lines(vec![Line::event(forced)]);
    assert_eq!(slot(&snapshot, "WP02", "review_result"), Some(Value::Null));
    assert_eq!(snapshot.work_packages["WP02"].force_count, 1);
    // Other moves leave the key absent.
    let snapshot = reduce_lines(vec![Line::event(event(
        "01B",
        "WP03",
        Lane::Planned,
        Lane::Claimed,
        T1,
    ))]);
    assert_eq!(slot(&snapshot, "WP03", "review_result"), None);
}

#[test]
fn annotations_are_not_deduplicated() {
    let line = note(
        "01KYCT5TN29304H3AB74SDQ96B",
        "WP01",
        T1,
        json!({"note": "twice", "tracker_refs": ["GH-1"]}),
    );
    let snapshot = reduce_lines(vec![Line::note(line.clone()), Line::note(line)]);
    assert_eq!(
        slot(&snapshot, "WP01", "notes"),
        Some(json!(["twice", "twice"]))
    );
    assert_eq!(
        slot(&snapshot, "WP01", "tracker_refs"),
        Some(json!(["GH-1"]))
    );
}

#[test]
fn tracker_refs_replace_wins_over_tracker_refs() {
    let snapshot = reduce_lines(vec![
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96A",
            "WP01",
            T1,
            json!({"tracker_refs": ["A", "B"]}),
        )),
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96B",
            "WP01",
            T2,
            json!({"tracker_refs": ["C"], "tracker_refs_replace": ["D", "D", "E"]}),
        )),
        Line::note(note(
            "01KYCT5TN29304H3AB74SDQ96C",
            "WP01",
            T3,
            json!({"tracker_refs": ["E", "F"]}),
        )),
    ]);
    assert_eq!(
        slot(&snapshot, "WP01", "tracker_refs"),
        Some(json!(["D", "E", "F"]))
    );
}

// ---- The merge driver's union of three logs (§7) ----

/// Shuffles `lines` with a seeded Fisher-Yates.
fn shuffled<T: Copy>(lines: &[T], seed: u64) -> Vec<T> {
    let mut lines = lines.to_vec();
    let mut state = seed | 1;
    for index in (1..lines.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        lines.swap(index, (state % (index as u64 + 1)) as usize);
    }
    lines
}

/// Splits generated rows between base, ours and theirs: a transition goes to any set of the
/// three (`mask`), an annotation or a retrospective row to exactly one, because the reducer
/// drops repeated transitions but applies a repeated annotation twice (a note shows twice).
fn split(rows: &[Row], masks: &[u8]) -> [Vec<String>; 3] {
    let mut sides: [Vec<String>; 3] = Default::default();
    for (row, mask) in rows.iter().zip(masks.iter().cycle()) {
        let mask = match row {
            Row::Transition(_) => mask & 7,
            Row::Annotation(_) | Row::Retrospective(_) => 1 << (mask % 3),
        };
        for (bit, side) in sides.iter_mut().enumerate() {
            if mask & (1 << bit) != 0 {
                side.push(row.text().to_owned());
            }
        }
    }
    sides
}

fn merged(base: &str, ours: &str, theirs: &str) -> String {
    let bytes = log_merge::merge_event_logs(base.as_bytes(), ours.as_bytes(), theirs.as_bytes())
        .expect("generated logs merge");
    String::from_utf8(bytes).expect("the merge writes ASCII")
}

fn mask_list() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..16)
}

proptest! {
    #![proptest_config(config())]

    /// The merge depends on the set of lines of each input, not on their order.
    #[test]
    fn merge_ignores_line_order(rows in rows(), masks in mask_list(), seed in any::<u64>()) {
        let [base, ours, theirs] = split(&rows, &masks);
        let texts = [&base, &ours, &theirs].map(|side| side.iter().map(String::as_str).collect::<Vec<_>>());
        let expected = merged(&join(texts[0].clone()), &join(texts[1].clone()), &join(texts[2].clone()));
        let [b, o, t] = [0, 1, 2].map(|index| join(shuffled(&texts[index], seed.wrapping_add(index as u64))));
        prop_assert_eq!(merged(&b, &o, &t), expected);
    }

    /// Ours and theirs commute.
    #[test]
    fn merge_is_commutative_in_ours_and_theirs(rows in rows(), masks in mask_list()) {
        let [base, ours, theirs] = split(&rows, &masks).map(|side| join(side.iter().map(String::as_str)));
        prop_assert_eq!(merged(&base, &ours, &theirs), merged(&base, &theirs, &ours));
    }

    /// Merging a log with itself normalizes it: the same rows as JSON values, one line each,
    /// sorted; and a normalized log merges to itself.
    #[test]
    fn merging_a_log_with_itself_normalizes_it(rows in rows()) {
        let log = join(rows.iter().map(Row::text));
        let normal = merged(&log, &log, &log);
        prop_assert_eq!(&merged("", &log, ""), &normal);
        prop_assert_eq!(&merged(&normal, &normal, &normal), &normal);
        let values = |text: &str| {
            let mut values: Vec<String> = text
                .lines()
                .map(|line| serde_json::from_str::<Value>(line).expect("valid row").to_string())
                .collect();
            values.sort();
            values
        };
        prop_assert_eq!(values(&normal), values(&log));
        let keys: Vec<(String, String)> = normal
            .lines()
            .map(|line| {
                let row: Value = serde_json::from_str(line).expect("valid row");
                let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
                (text("at"), text("event_id"))
            })
            .collect();
        prop_assert!(keys.is_sorted());
    }

    /// The merged log reduces to what the three inputs reduce to, concatenated.
    #[test]
    fn merged_log_reduces_like_the_concatenation(rows in rows(), masks in mask_list()) {
        let [base, ours, theirs] = split(&rows, &masks);
        let concatenation = join(base.iter().chain(&ours).chain(&theirs).map(String::as_str));
        let [base, ours, theirs] = [base, ours, theirs].map(|side| join(side.iter().map(String::as_str)));
        prop_assert_eq!(
            snapshot_bytes(&merged(&base, &ours, &theirs)),
            snapshot_bytes(&concatenation)
        );
    }
}

/// Cuts `text` at the given fractions of its length (sorted, repeats allowed), anywhere: in
/// the middle of a row or of a UTF-8 sequence.
fn pieces<'a>(text: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut offsets: Vec<usize> = cuts.iter().map(|cut| cut.index(text.len() + 1)).collect();
    offsets.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for offset in offsets.into_iter().chain([text.len()]) {
        out.push(&text[start..offset]);
        start = offset;
    }
    out
}

/// Feeds `text` to `reducer` piece by piece, checking after each piece that the snapshot is
/// what the whole-log reducer makes of the bytes fed so far.
fn feed_checked(
    reducer: &mut IncrementalReducer,
    text: &[u8],
    cuts: &[Index],
) -> Result<(), TestCaseError> {
    let start = usize::try_from(reducer.len()).expect("small");
    let mut fed = start;
    for piece in pieces(&text[start..], cuts) {
        reducer.feed(piece);
        fed += piece.len();
        let whole = reduce(&event_log::parse(&text[..fed]));
        prop_assert_eq!(reducer.snapshot().to_status_json(), whole.to_status_json());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Feeding a log in pieces cut anywhere — rows out of order, transitions repeated, foreign
    /// rows and blank lines between them — gives, after every piece, the snapshot of a full
    /// reduce of the bytes fed; a row cut short is left out until its line is complete.
    #[test]
    fn incremental_feeds_equal_a_full_reduce(
        rows in rows(),
        copies in prop::collection::vec((any::<Index>(), any::<Index>()), 0..6),
        foreign in prop::collection::vec((any::<Index>(), foreign_line()), 0..4),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let mut lines: Vec<String> = rows.iter().map(|row| row.text().to_owned()).collect();
        let transitions: Vec<String> = rows
            .iter()
            .filter(|row| matches!(row, Row::Transition(_)))
            .map(|row| row.text().to_owned())
            .collect();
        if !transitions.is_empty() {
            for (which, position) in copies {
                let line = transitions[which.index(transitions.len())].clone();
                lines.insert(position.index(lines.len() + 1), line);
            }
        }
        for (position, line) in foreign {
            lines.insert(position.index(lines.len() + 1), line);
        }
        let text = join(lines.iter().map(String::as_str));
        let mut reducer = IncrementalReducer::new();
        feed_checked(&mut reducer, text.as_bytes(), &cuts)?;
        let whole = event_log::parse(text.as_bytes());
        prop_assert_eq!(reducer.snapshot(), reduce(&whole));
        prop_assert_eq!(reducer.errors(), &whole.errors[..]);
        prop_assert!(reducer.extends(text.as_bytes()));
    }

    /// Feeding in pieces and reading the whole log at once agree on each row's line number.
    #[test]
    fn incremental_rows_keep_their_line_numbers(rows in rows(), cuts in prop::collection::vec(any::<Index>(), 0..8)) {
        let text = join(rows.iter().map(Row::text));
        let mut reducer = IncrementalReducer::new();
        let mut seen = Vec::new();
        for piece in pieces(text.as_bytes(), &cuts) {
            seen.extend(reducer.feed(piece).rows);
        }
        prop_assert_eq!(seen, event_log::parse(text.as_bytes()).rows);
    }

    /// A log that a merge rewrote — the other clone's rows sorted in among ours — is not an
    /// extension of what was folded unless the merge only appended; either way, folding the
    /// rest or starting again from the rewritten log gives the full reduce of it.
    #[test]
    fn a_log_rewritten_by_a_merge_falls_back_to_a_full_reduce(
        rows in rows(),
        masks in mask_list(),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
    ) {
        let [base, ours, theirs] = split(&rows, &masks);
        let [base, ours, theirs] = [base, ours, theirs].map(|side| join(side.iter().map(String::as_str)));
        let before = format!("{base}{ours}");
        let after = merged(&base, &before, &theirs);
        let mut reducer = IncrementalReducer::from_bytes(before.as_bytes());
        prop_assert_eq!(reducer.snapshot(), reduce(&parse_valid(&before)));
        let extends = reducer.extends(after.as_bytes());
        prop_assert_eq!(extends, after.as_bytes().starts_with(before.as_bytes()));
        if extends {
            feed_checked(&mut reducer, after.as_bytes(), &cuts)?;
        } else {
            reducer = IncrementalReducer::from_bytes(after.as_bytes());
        }
        prop_assert_eq!(reducer.snapshot().to_status_json(), snapshot_bytes(&after));
    }
}
