//! `acceptance-matrix.json`: a mission's acceptance criteria and negative invariants, their
//! overall verdict, and the file's bytes as Spec Kitty writes them.
//!
//! The file is `json.dumps(matrix.to_dict(), indent=2) + "\n"`: keys in the order of Spec
//! Kitty's dataclasses (not sorted), every non-ASCII character escaped. Keys missionctl does not
//! know are kept, after the known ones, in the order they were read. `finalize-tasks`
//! scaffolds it with one `pending` criterion per functional requirement;
//! `acceptance verdict` records one criterion's result; `accept` reads the verdict.

use serde_json::{Map, Value};

use crate::status::transition::ReviewResult;
use crate::text::pyjson::{ObjectWriter, Style, is_truthy};

/// The file's name, in the mission directory.
pub const MATRIX_FILE: &str = "acceptance-matrix.json";

/// The marker of a scaffolded, not yet authored criterion.
pub const SCAFFOLD_TODO_MARKER: &str = "TODO: replace with a real acceptance criterion";

/// The note added to a criterion derived from the work packages' review verdicts.
pub const AUTO_DERIVED_NOTE: &str =
    "Auto-derived from WP review evidence (IC-04 gate-side capture, FR-008).";

/// The results a criterion may record.
pub const CRITERION_RESULTS: [&str; 3] = ["pass", "fail", "pending"];

/// The results a negative invariant may record.
pub const INVARIANT_RESULTS: [&str; 5] = [
    "confirmed_absent",
    "still_present",
    "verification_error",
    "pending",
    "deferred_to_consolidation",
];

const CRITERION_FIELDS: [&str; 8] = [
    "criterion_id",
    "description",
    "proof_type",
    "evidence",
    "pass_fail",
    "verified_by",
    "verified_at",
    "notes",
];

const INVARIANT_FIELDS: [&str; 12] = [
    "invariant_id",
    "description",
    "verification_method",
    "verification_command",
    "result",
    "evidence",
    "scope",
    "verified_ref",
    "verified_surface_kind",
    "deferred_reason",
    "deferred_to_phase",
    "provenance_origin",
];

/// Keys of a negative invariant written only when set.
const INVARIANT_OMITTED_WHEN_NULL: [&str; 5] = [
    "scope",
    "verified_ref",
    "verified_surface_kind",
    "deferred_reason",
    "deferred_to_phase",
];

/// One row of `criteria` or `negative_invariants`: the known fields (by name) and the
/// unknown ones in the order they were read.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRow {
    fields: Map<String, Value>,
    extras: Vec<(String, Value)>,
}

impl MatrixRow {
    /// Returns a known field's value (`null` when unset).
    pub fn get(&self, key: &str) -> &Value {
        self.fields.get(key).unwrap_or(&Value::Null)
    }

    /// Returns a known field as a string, when it is one.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).as_str()
    }

    /// Sets a known field.
    pub fn set(&mut self, key: &str, value: Value) {
        self.fields.insert(key.to_owned(), value);
    }
}

/// A work package's lane and reduced review verdict, for deriving `code_review` criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkPackageReview {
    /// The work package.
    pub wp_id: String,
    /// Its lane.
    pub lane: String,
    /// Its `review_result` slot, when it has one.
    pub review_result: Option<ReviewResult>,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptanceMatrix {
    /// The mission's directory name.
    pub mission_slug: String,
    /// The mission number as a display string (`""` when it has none).
    pub mission_number: String,
    /// The mission type (`software-dev`, …).
    pub mission_type: String,
    /// The acceptance criteria.
    pub criteria: Vec<MatrixRow>,
    /// The negative invariants (things that must not exist).
    pub negative_invariants: Vec<MatrixRow>,
    /// Top-level keys missionctl does not know, in the order read.
    pub extras: Vec<(String, Value)>,
}

/// Why a matrix cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// Not JSON, or not an object.
    #[error("acceptance-matrix.json is not a JSON object: {0}")]
    NotAnObject(String),
    /// `mission_slug` is missing.
    #[error("acceptance-matrix.json has no `mission_slug`")]
    NoMissionSlug,
    /// A row lacks a required field or is not an object.
    #[error("{section}[{index}]: malformed shape ({reason})")]
    Row {
        /// `criteria` or `negative_invariants`.
        section: &'static str,
        /// The row's index.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

/// What recording one criterion's result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictChange {
    /// The row changed (its `verified_at` was stamped).
    Changed,
    /// The row already said exactly this.
    Unchanged,
}

impl AcceptanceMatrix {
    /// Parses the file's text, as Spec Kitty's `AcceptanceMatrix.from_dict` does.
    pub fn parse(text: &str) -> Result<AcceptanceMatrix, MatrixError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| MatrixError::NotAnObject(error.to_string()))?;
        let Value::Object(map) = value else {
            return Err(MatrixError::NotAnObject("not an object".to_owned()));
        };
        let order = top_level_key_order(text);
        let mission_slug = map
            .get("mission_slug")
            .map(|value| python_text(value).trim().to_owned())
            .ok_or(MatrixError::NoMissionSlug)?;
        let criteria = rows(
            &map,
            "criteria",
            &CRITERION_FIELDS,
            &["criterion_id", "description", "proof_type"],
        )?;
        let negative_invariants = rows(
            &map,
            "negative_invariants",
            &INVARIANT_FIELDS,
            &["invariant_id", "description", "verification_method"],
        )?;
        let known = [
            "mission_slug",
            "mission_number",
            "mission_type",
            "overall_verdict",
            "criteria",
            "negative_invariants",
        ];
        let mut extras = Vec::new();
        for key in order {
            if !known.contains(&key.as_str())
                && let Some(value) = map.get(&key)
            {
                extras.push((key, value.clone()));
            }
        }
        Ok(AcceptanceMatrix {
            mission_number: map
                .get("mission_number")
                .map(|value| match value {
                    Value::Null => String::new(),
                    other => python_text(other).trim().to_owned(),
                })
                .unwrap_or_default(),
            mission_type: map
                .get("mission_type")
                .map(|value| match value {
                    Value::Null => String::new(),
                    other => python_text(other).trim().to_owned(),
                })
                .unwrap_or_default(),
            mission_slug,
            criteria,
            negative_invariants,
            extras,
        })
    }

    /// Returns the scaffold `finalize-tasks` writes: one `pending` criterion per requirement id
    /// (sorted as strings), or one placeholder criterion when there is none.
    pub fn scaffold(
        mission_slug: &str,
        mission_number: &str,
        mission_type: &str,
        requirement_ids: &[String],
    ) -> AcceptanceMatrix {
        let mut ids: Vec<&String> = requirement_ids.iter().collect();
        ids.sort();
        ids.dedup();
        let criterion = |id: &str, description: &str| {
            let mut fields = Map::new();
            fields.insert("criterion_id".to_owned(), Value::String(id.to_owned()));
            fields.insert(
                "description".to_owned(),
                Value::String(description.to_owned()),
            );
            fields.insert(
                "proof_type".to_owned(),
                Value::String("automated_test".to_owned()),
            );
            fields.insert("evidence".to_owned(), Value::Null);
            fields.insert("pass_fail".to_owned(), Value::String("pending".to_owned()));
            fields.insert("verified_by".to_owned(), Value::Null);
            fields.insert("verified_at".to_owned(), Value::Null);
            fields.insert(
                "notes".to_owned(),
                Value::String(SCAFFOLD_TODO_MARKER.to_owned()),
            );
            MatrixRow {
                fields,
                extras: Vec::new(),
            }
        };
        let mut criteria: Vec<MatrixRow> = ids
            .iter()
            .map(|id| criterion(id, &format!("Verify {id} is satisfied")))
            .collect();
        if criteria.is_empty() {
            criteria.push(criterion("AC-001", SCAFFOLD_TODO_MARKER));
        }
        AcceptanceMatrix {
            mission_slug: mission_slug.to_owned(),
            mission_number: mission_number.to_owned(),
            mission_type: mission_type.to_owned(),
            criteria,
            negative_invariants: Vec::new(),
            extras: Vec::new(),
        }
    }

    /// Returns the overall verdict, as Spec Kitty computes it: `pending` with nothing to judge;
    /// `fail` on a result outside the vocabulary, a failed criterion or an invariant
    /// `still_present`/`verification_error`; `pending` while a real criterion or an invariant
    /// is pending; `pass_pending_consolidation` when an invariant is deferred; else `pass`.
    pub fn overall_verdict(&self) -> &'static str {
        let criteria: Vec<&Value> = self
            .criteria
            .iter()
            .map(|row| row.get("pass_fail"))
            .collect();
        let invariants: Vec<&Value> = self
            .negative_invariants
            .iter()
            .map(|row| row.get("result"))
            .collect();
        if criteria.is_empty() && invariants.is_empty() {
            return "pending";
        }
        let allowed =
            |value: &Value, set: &[&str]| value.as_str().is_some_and(|v| set.contains(&v));
        if criteria
            .iter()
            .any(|value| !allowed(value, &CRITERION_RESULTS))
            || invariants
                .iter()
                .any(|value| !allowed(value, &INVARIANT_RESULTS))
        {
            return "fail";
        }
        let is = |value: &&Value, wanted: &str| value.as_str() == Some(wanted);
        if criteria.iter().any(|value| is(value, "fail"))
            || invariants
                .iter()
                .any(|value| is(value, "still_present") || is(value, "verification_error"))
        {
            return "fail";
        }
        let real: Vec<&Value> = self
            .criteria
            .iter()
            .filter(|row| !is_empty_scaffold(row))
            .map(|row| row.get("pass_fail"))
            .collect();
        let dominant = if real.is_empty() { criteria } else { real };
        if dominant.iter().any(|value| is(value, "pending"))
            || invariants.iter().any(|value| is(value, "pending"))
        {
            return "pending";
        }
        if invariants
            .iter()
            .any(|value| is(value, "deferred_to_consolidation"))
        {
            return "pass_pending_consolidation";
        }
        "pass"
    }

    /// Returns the ids of the criteria, in order.
    pub fn criterion_ids(&self) -> Vec<String> {
        self.criteria
            .iter()
            .map(|row| python_text(row.get("criterion_id")))
            .collect()
    }

    /// Records one criterion's result, as `acceptance-verdict` does: `pass_fail`, and when
    /// given the proof type, who verified it and the evidence; `verified_at` is stamped with
    /// `now` only when something changed. `None` when no criterion has that id.
    pub fn record_verdict(
        &mut self,
        criterion_id: &str,
        result: &str,
        proof_type: Option<&str>,
        verified_by: Option<&str>,
        evidence: Option<&str>,
        now: &str,
    ) -> Option<VerdictChange> {
        let row = self
            .criteria
            .iter_mut()
            .find(|row| python_text(row.get("criterion_id")) == criterion_id)?;
        let before = row.clone();
        row.set("pass_fail", Value::String(result.to_owned()));
        if let Some(proof_type) = proof_type {
            row.set("proof_type", Value::String(proof_type.to_owned()));
        }
        if let Some(verified_by) = verified_by {
            row.set("verified_by", Value::String(verified_by.to_owned()));
        }
        if let Some(evidence) = evidence {
            row.set("evidence", Value::String(evidence.to_owned()));
        }
        if *row == before {
            return Some(VerdictChange::Unchanged);
        }
        row.set("verified_at", Value::String(now.to_owned()));
        Some(VerdictChange::Changed)
    }

    /// Passes the pending `code_review` criteria (never the scaffold placeholder) when every
    /// work package carries an approving review verdict, as Spec Kitty's accept does.
    ///
    /// `reviews` holds every work package in id order. Returns whether anything changed.
    pub fn derive_code_review_criteria(
        &mut self,
        reviews: &[WorkPackageReview],
        now: &str,
    ) -> bool {
        let targets: Vec<usize> = self
            .criteria
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                row.str("pass_fail") == Some("pending")
                    && row.str("proof_type") == Some("code_review")
                    && !is_empty_scaffold(row)
            })
            .map(|(index, _)| index)
            .collect();
        if targets.is_empty() || reviews.is_empty() {
            return false;
        }
        if !reviews
            .iter()
            .all(|review| review.lane == "approved" || review.lane == "done")
        {
            return false;
        }
        let mut reviewers: Vec<String> = Vec::new();
        let mut references: Vec<String> = Vec::new();
        for review in reviews {
            let Some(result) = &review.review_result else {
                return false;
            };
            if result.verdict != "approved" {
                return false;
            }
            if !reviewers.contains(&result.reviewer) {
                reviewers.push(result.reviewer.clone());
            }
            references.push(format!("{}:{}", review.wp_id, result.reference));
        }
        for index in targets {
            let row = &mut self.criteria[index];
            let notes = match row.get("notes") {
                Value::String(notes) if !notes.is_empty() => format!("{notes} {AUTO_DERIVED_NOTE}"),
                _ => AUTO_DERIVED_NOTE.to_owned(),
            };
            row.set("pass_fail", Value::String("pass".to_owned()));
            row.set("verified_by", Value::String(reviewers.join(", ")));
            row.set("verified_at", Value::String(now.to_owned()));
            row.set("evidence", Value::String(references.join("; ")));
            row.set("notes", Value::String(notes));
        }
        true
    }

    /// Returns Spec Kitty's evidence problems (`validate_matrix_evidence`): a criterion result
    /// outside the vocabulary, a `manual_qa` criterion without evidence, time or verifier,
    /// and a judged invariant recorded as `recorded` without its provenance.
    pub fn evidence_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for row in &self.criteria {
            let id = python_text(row.get("criterion_id"));
            let result = row.get("pass_fail");
            if !result
                .as_str()
                .is_some_and(|v| CRITERION_RESULTS.contains(&v))
            {
                problems.push(format!(
                    "{id}: pass_fail must be one of fail, pending, pass; got {}",
                    python_repr(result)
                ));
            }
            if row.str("proof_type") == Some("manual_qa") {
                if !is_truthy(row.get("evidence")) {
                    problems.push(format!(
                        "{id}: manual QA requires evidence (URL/screenshot)"
                    ));
                }
                if !is_truthy(row.get("verified_at")) {
                    problems.push(format!("{id}: manual QA requires verified_at timestamp"));
                }
                if !is_truthy(row.get("verified_by")) {
                    problems.push(format!("{id}: manual QA requires verified_by identity"));
                }
            }
        }
        problems
    }

    /// Returns the file's bytes: `json.dumps(indent=2)` in Spec Kitty's key order, ASCII, with
    /// a trailing newline.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut top = ObjectWriter::new(&mut out, Style::IndentedAscii, 0);
        top.string("mission_slug", &self.mission_slug);
        top.string("mission_number", &self.mission_number);
        top.string("mission_type", &self.mission_type);
        top.string("overall_verdict", self.overall_verdict());
        let depth = top.inner_depth();
        write_rows(
            top.key("criteria"),
            &self.criteria,
            &CRITERION_FIELDS,
            &[],
            depth,
        );
        write_rows(
            top.key("negative_invariants"),
            &self.negative_invariants,
            &INVARIANT_FIELDS,
            &INVARIANT_OMITTED_WHEN_NULL,
            depth,
        );
        for (key, value) in &self.extras {
            top.value(key, value);
        }
        top.finish();
        out.push('\n');
        out
    }
}

/// Returns true for the placeholder row a scaffold without requirements writes.
fn is_empty_scaffold(row: &MatrixRow) -> bool {
    row.str("description") == Some(SCAFFOLD_TODO_MARKER)
}

/// Python's `str()` of a value, for ids that are not strings.
fn python_text(value: &Value) -> String {
    crate::status::event::python_str(value)
}

/// Python's `repr()` of a value (`'x'`, `None`, `3`).
fn python_repr(value: &Value) -> String {
    match value {
        Value::String(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
        other => crate::status::event::python_str(other),
    }
}

/// Reads one section's rows: each must be an object with the required fields.
fn rows(
    map: &Map<String, Value>,
    section: &'static str,
    known: &[&str],
    required: &[&str],
) -> Result<Vec<MatrixRow>, MatrixError> {
    let items = match map.get(section) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(MatrixError::Row {
                section,
                index: 0,
                reason: format!("{section} is not a list"),
            });
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::Object(object) = item else {
            return Err(MatrixError::Row {
                section,
                index,
                reason: "not an object".to_owned(),
            });
        };
        if let Some(missing) = required.iter().find(|key| !object.contains_key(**key)) {
            return Err(MatrixError::Row {
                section,
                index,
                reason: format!("missing required field '{missing}'"),
            });
        }
        let mut fields = Map::new();
        let mut extras = Vec::new();
        for (key, value) in object {
            if known.contains(&key.as_str()) {
                fields.insert(key.clone(), value.clone());
            } else {
                extras.push((key.clone(), value.clone()));
            }
        }
        // Defaults of the dataclasses.
        if section == "criteria" && !fields.contains_key("pass_fail") {
            fields.insert("pass_fail".to_owned(), Value::String("pending".to_owned()));
        }
        if section == "negative_invariants" && !fields.contains_key("result") {
            fields.insert("result".to_owned(), Value::String("pending".to_owned()));
        }
        out.push(MatrixRow { fields, extras });
    }
    Ok(out)
}

fn write_rows(
    out: &mut String,
    rows: &[MatrixRow],
    known: &[&str],
    omitted_when_null: &[&str],
    depth: usize,
) {
    if rows.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push('[');
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push('\n');
        out.push_str(&"  ".repeat(depth + 1));
        let mut object = ObjectWriter::new(out, Style::IndentedAscii, depth + 1);
        for key in known {
            let value = row.get(key);
            if value.is_null() && omitted_when_null.contains(key) {
                continue;
            }
            if *key == "provenance_origin"
                && (value.is_null() || value.as_str() == Some("legacy_unrecorded"))
            {
                continue;
            }
            object.value(key, value);
        }
        for (key, value) in &row.extras {
            object.value(key, value);
        }
        object.finish();
    }
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
    out.push(']');
}

/// Returns the top-level keys of a JSON object text in the order written (serde_json's map
/// sorts them).
fn top_level_key_order(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut index = 0;
    let mut expect_key = false;
    while index < bytes.len() {
        match bytes[index] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && bytes[index] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = index;
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' {
                    if bytes[index] == b'\\' {
                        index += 1;
                    }
                    index += 1;
                }
                if depth == 1 && expect_key {
                    if let Ok(Value::String(key)) =
                        serde_json::from_str::<Value>(&text[start..=index.min(bytes.len() - 1)])
                    {
                        keys.push(key);
                    }
                    expect_key = false;
                }
            }
            _ => {}
        }
        index += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = include_str!(
        "../../../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD/acceptance-matrix.json"
    );

    #[test]
    fn the_peer_matrix_round_trips_byte_for_byte() {
        let matrix = AcceptanceMatrix::parse(PEER).expect("peer matrix");
        assert_eq!(matrix.overall_verdict(), "pass");
        assert_eq!(matrix.to_text(), PEER);
    }

    #[test]
    fn the_scaffold_has_one_pending_row_per_requirement() {
        let ids = ["FR-002".to_owned(), "FR-001".to_owned()];
        let matrix = AcceptanceMatrix::scaffold("m-01ABCDEF", "", "software-dev", &ids);
        assert_eq!(matrix.criterion_ids(), ["FR-001", "FR-002"]);
        assert_eq!(matrix.overall_verdict(), "pending");
        let text = matrix.to_text();
        assert!(text.starts_with(
            "{\n  \"mission_slug\": \"m-01ABCDEF\",\n  \"mission_number\": \"\",\n  \"mission_type\": \"software-dev\",\n  \"overall_verdict\": \"pending\",\n  \"criteria\": [\n    {\n      \"criterion_id\": \"FR-001\",\n      \"description\": \"Verify FR-001 is satisfied\",\n      \"proof_type\": \"automated_test\",\n      \"evidence\": null,\n"
        ), "{text}");
        assert!(
            text.ends_with("  ],\n  \"negative_invariants\": []\n}\n"),
            "{text}"
        );
        assert_eq!(
            AcceptanceMatrix::parse(&text).map(|m| m.to_text()),
            Ok(text)
        );
        let empty = AcceptanceMatrix::scaffold("m", "", "software-dev", &[]);
        assert_eq!(empty.criterion_ids(), ["AC-001"]);
        assert_eq!(empty.overall_verdict(), "pending");
    }

    #[test]
    fn recording_a_verdict_stamps_only_a_change() {
        let ids = ["FR-001".to_owned()];
        let mut matrix = AcceptanceMatrix::scaffold("m", "", "software-dev", &ids);
        let now = "2026-11-21T22:35:22.505382+00:00";
        assert_eq!(
            matrix.record_verdict(
                "FR-001",
                "pass",
                Some("automated_test"),
                Some("claude"),
                Some("tests/t.py"),
                now
            ),
            Some(VerdictChange::Changed)
        );
        assert_eq!(matrix.overall_verdict(), "pass");
        assert_eq!(
            matrix.record_verdict("FR-001", "pass", None, Some("claude"), None, "later"),
            Some(VerdictChange::Unchanged)
        );
        assert_eq!(matrix.criteria[0].str("verified_at"), Some(now));
        assert_eq!(
            matrix.record_verdict("FR-009", "pass", None, None, None, now),
            None
        );
        matrix.record_verdict("FR-001", "fail", None, None, None, now);
        assert_eq!(matrix.overall_verdict(), "fail");
    }

    #[test]
    fn verdicts_follow_spec_kittys_precedence() {
        let parse = |criteria: &str, invariants: &str| {
            AcceptanceMatrix::parse(&format!(
                "{{\"mission_slug\": \"m\", \"criteria\": [{criteria}], \"negative_invariants\": [{invariants}]}}"
            ))
            .expect("matrix")
        };
        let c = |result: &str| {
            format!(
                "{{\"criterion_id\": \"FR-001\", \"description\": \"d\", \"proof_type\": \"automated_test\", \"pass_fail\": {result}}}"
            )
        };
        let i = |result: &str| {
            format!(
                "{{\"invariant_id\": \"NI-1\", \"description\": \"d\", \"verification_method\": \"grep_absence\", \"result\": \"{result}\"}}"
            )
        };
        assert_eq!(parse("", "").overall_verdict(), "pending");
        assert_eq!(parse(&c("\"maybe\""), "").overall_verdict(), "fail");
        assert_eq!(parse(&c("1"), "").overall_verdict(), "fail");
        assert_eq!(
            parse(&c("\"pass\""), &i("still_present")).overall_verdict(),
            "fail"
        );
        assert_eq!(
            parse(&c("\"pass\""), &i("pending")).overall_verdict(),
            "pending"
        );
        assert_eq!(
            parse(&c("\"pass\""), &i("deferred_to_consolidation")).overall_verdict(),
            "pass_pending_consolidation"
        );
        assert_eq!(
            parse(&c("\"pass\""), &i("confirmed_absent")).overall_verdict(),
            "pass"
        );
        let placeholder = "{\"criterion_id\": \"AC-001\", \"description\": \"TODO: replace with a real acceptance criterion\", \"proof_type\": \"automated_test\", \"pass_fail\": \"pending\"}";
        assert_eq!(
            parse(&format!("{placeholder}, {}", c("\"pass\"")), "").overall_verdict(),
            "pass"
        );
        assert_eq!(parse(placeholder, "").overall_verdict(), "pending");
        assert!(matches!(
            AcceptanceMatrix::parse(
                "{\"mission_slug\": \"m\", \"criteria\": [{\"criterion_id\": \"x\"}]}"
            ),
            Err(MatrixError::Row {
                section: "criteria",
                index: 0,
                ..
            })
        ));
    }

    #[test]
    fn unknown_keys_are_kept_in_their_order() {
        let text = "{\n  \"mission_slug\": \"m\",\n  \"zeta\": 1,\n  \"alpha\": [\n    1\n  ],\n  \"criteria\": [\n    {\n      \"criterion_id\": \"FR-001\",\n      \"description\": \"d\",\n      \"proof_type\": \"code_review\",\n      \"owner\": \"me\"\n    }\n  ]\n}\n";
        let matrix = AcceptanceMatrix::parse(text).expect("matrix");
        assert_eq!(
            matrix
                .extras
                .iter()
                .map(|(key, _)| key.as_str())
                .collect::<Vec<_>>(),
            ["zeta", "alpha"]
        );
        let written = matrix.to_text();
        assert!(
            written.contains("\"notes\": null,\n      \"owner\": \"me\"\n"),
            "{written}"
        );
        assert!(
            written.ends_with(
                "\"negative_invariants\": [],\n  \"zeta\": 1,\n  \"alpha\": [\n    1\n  ]\n}\n"
            ),
            "{written}"
        );
    }

    #[test]
    fn code_review_criteria_pass_only_when_every_work_package_is_approved() {
        let text = "{\"mission_slug\": \"m\", \"criteria\": [{\"criterion_id\": \"FR-001\", \"description\": \"d\", \"proof_type\": \"code_review\", \"pass_fail\": \"pending\"}]}";
        let review = |lane: &str, verdict: &str| WorkPackageReview {
            wp_id: "WP01".to_owned(),
            lane: lane.to_owned(),
            review_result: Some(ReviewResult {
                reviewer: "bot".to_owned(),
                verdict: verdict.to_owned(),
                reference: "review-cycle://m/WP01-x/review-cycle-1.md".to_owned(),
                feedback_path: None,
            }),
        };
        let mut matrix = AcceptanceMatrix::parse(text).expect("matrix");
        assert!(
            !matrix.derive_code_review_criteria(&[review("approved", "changes_requested")], "now")
        );
        assert!(!matrix.derive_code_review_criteria(&[review("for_review", "approved")], "now"));
        assert!(matrix.derive_code_review_criteria(&[review("done", "approved")], "now"));
        assert_eq!(matrix.criteria[0].str("pass_fail"), Some("pass"));
        assert_eq!(
            matrix.criteria[0].str("evidence"),
            Some("WP01:review-cycle://m/WP01-x/review-cycle-1.md")
        );
        assert_eq!(matrix.criteria[0].str("notes"), Some(AUTO_DERIVED_NOTE));
    }
}
