//! The three-way union of event logs behind Spec Kitty's git merge driver
//! (`merge=spec-kitty-event-log`).
//!
//! [`merge_event_logs`] takes the bytes of the base, ours and theirs versions of a
//! `status.events.jsonl` (or `decisions.events.jsonl`) and returns the merged log: every row of
//! the three inputs keyed by `event_id`, sorted by `(at or timestamp or "", event_id)` as
//! strings, each written as Python's `json.dumps(row, sort_keys=True)` writes it. This is Spec
//! Kitty's `merge_event_log_files`, row for row and byte for byte, with two deliberate
//! differences, both of which refuse instead of guessing:
//!
//! - two rows with one `event_id` must be equal as JSON values, numbers by their kind as well:
//!   Python's `==` takes `1`, `1.0` and `true` as equal and keeps the last side's spelling,
//!   which would make the result depend on which side is ours;
//! - JSON that Python accepts and `serde_json` does not (`NaN`, `Infinity`, lone surrogate
//!   escapes) is invalid JSON here; integers beyond 64 bits are read as floats.
//!
//! Lines are split at `\n` and trimmed of Python's whitespace, as the log reader does
//! ([`crate::status::event_log`]); Python's `str.splitlines` also splits at `\r`, `\x85`, U+2028 and
//! U+2029, so a line that Spec Kitty refuses as broken JSON because of such a character inside
//! it merges here.
//!
//! Deletions are not honoured: a row of the base that both sides removed is kept. The merge
//! knows nothing about lanes; the reducer ([`crate::status::reducer`]) gives the merged rows their
//! meaning, and it does not depend on their order.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::status::event::python_str;
use crate::text::pyjson::{self, Style, is_truthy};

/// Which input of a three-way merge a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergeSide {
    /// The common ancestor (git's `%O`).
    Base,
    /// The current branch's version (git's `%A`, where the result is written).
    Ours,
    /// The other branch's version (git's `%B`).
    Theirs,
}

impl MergeSide {
    /// Returns the side's name: `base`, `ours` or `theirs`.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeSide::Base => "base",
            MergeSide::Ours => "ours",
            MergeSide::Theirs => "theirs",
        }
    }
}

impl fmt::Display for MergeSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why logs cannot be merged. The wording is Spec Kitty's, with the side in place of the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogMergeError {
    /// A line is not valid JSON (or not valid UTF-8).
    #[error("{side}: invalid JSON on line {line}: {detail}")]
    InvalidJson {
        /// The input the line is in.
        side: MergeSide,
        /// The 1-based line number.
        line: usize,
        /// What the JSON parser said.
        detail: String,
    },
    /// A line is valid JSON but not an object.
    #[error("{side}: line {line} is not a JSON object")]
    NotAnObject {
        /// The input the line is in.
        side: MergeSide,
        /// The 1-based line number.
        line: usize,
    },
    /// A row has no `event_id`, or one that is not a string or is blank.
    #[error("{side}: line {line} is missing a valid event_id")]
    MissingEventId {
        /// The input the line is in.
        side: MergeSide,
        /// The 1-based line number.
        line: usize,
    },
    /// Two rows share an `event_id` but differ.
    #[error("Conflicting payloads found for event_id {quoted}", quoted = python_quoted(event_id))]
    ConflictingPayloads {
        /// The shared `event_id`.
        event_id: String,
    },
}

impl LogMergeError {
    /// Returns the input the error is about, or `None` for a conflict between inputs.
    pub fn side(&self) -> Option<MergeSide> {
        match self {
            LogMergeError::InvalidJson { side, .. }
            | LogMergeError::NotAnObject { side, .. }
            | LogMergeError::MissingEventId { side, .. } => Some(*side),
            LogMergeError::ConflictingPayloads { .. } => None,
        }
    }
}

/// Returns Python's `repr()` of a string (`'id'`, or `"it's"`).
fn python_quoted(text: &str) -> String {
    // `python_str` of a list is its `repr`, which quotes each item the way `repr(str)` does.
    let listed = python_str(&Value::Array(vec![Value::String(text.to_owned())]));
    listed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .map_or_else(|| format!("'{text}'"), str::to_owned)
}

/// Returns true for the characters Python's `str.strip()` removes.
fn is_python_space(ch: char) -> bool {
    ch.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&ch)
}

/// Returns the rows of one input in file order. Blank lines are skipped.
pub fn parse_rows(bytes: &[u8], side: MergeSide) -> Result<Vec<Map<String, Value>>, LogMergeError> {
    let mut rows = Vec::new();
    for (index, raw_line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        let line = index + 1;
        let text = std::str::from_utf8(raw_line).map_err(|error| LogMergeError::InvalidJson {
            side,
            line,
            detail: format!("invalid UTF-8 ({error})"),
        })?;
        let text = text.trim_matches(is_python_space);
        if text.is_empty() {
            continue;
        }
        let value: Value = crate::text::pyjson::from_str_deep(text).map_err(|error| {
            LogMergeError::InvalidJson {
                side,
                line,
                detail: error.to_string(),
            }
        })?;
        let Value::Object(row) = value else {
            return Err(LogMergeError::NotAnObject { side, line });
        };
        match row.get("event_id") {
            Some(Value::String(id)) if !id.trim_matches(is_python_space).is_empty() => {}
            _ => return Err(LogMergeError::MissingEventId { side, line }),
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Returns the sort key of a row: Python's `str(row.get("at") or row.get("timestamp", ""))`.
fn time_key(row: &Map<String, Value>) -> String {
    match row.get("at") {
        Some(at) if is_truthy(at) => python_str(at),
        _ => row.get("timestamp").map(python_str).unwrap_or_default(),
    }
}

/// Returns the `event_id` of a row that [`parse_rows`] accepted.
fn event_id(row: &Map<String, Value>) -> &str {
    row.get("event_id").and_then(Value::as_str).unwrap_or("")
}

/// Merges the three versions of an event log and returns the merged bytes.
///
/// A missing file is an empty input. On an error nothing is returned, so a caller writes
/// nothing: git then reports the file as conflicted.
pub fn merge_event_logs(base: &[u8], ours: &[u8], theirs: &[u8]) -> Result<Vec<u8>, LogMergeError> {
    let inputs = [
        (base, MergeSide::Base),
        (ours, MergeSide::Ours),
        (theirs, MergeSide::Theirs),
    ];
    let mut merged: Vec<Map<String, Value>> = Vec::new();
    let mut positions: HashMap<String, usize> = HashMap::new();
    for (bytes, side) in inputs {
        for row in parse_rows(bytes, side)? {
            let id = event_id(&row).to_owned();
            match positions.get(&id) {
                Some(&position) => {
                    if merged.get(position) != Some(&row) {
                        return Err(LogMergeError::ConflictingPayloads { event_id: id });
                    }
                }
                None => {
                    positions.insert(id, merged.len());
                    merged.push(row);
                }
            }
        }
    }
    let mut keyed: Vec<(String, Map<String, Value>)> = merged
        .into_iter()
        .map(|row| (time_key(&row), row))
        .collect();
    // Ids are unique, so the order is total and the sort's stability does not matter.
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| event_id(&a.1).cmp(event_id(&b.1)))
    });
    let mut out = String::new();
    for (_, row) in keyed {
        pyjson::write_value(&mut out, &Value::Object(row), Style::Compact, 0);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(base: &str, ours: &str, theirs: &str) -> Result<String, LogMergeError> {
        merge_event_logs(base.as_bytes(), ours.as_bytes(), theirs.as_bytes())
            .map(|bytes| String::from_utf8(bytes).expect("the merge writes ASCII"))
    }

    // The cases of Spec Kitty's tests/status/test_event_log_merge.py.
    #[test]
    fn dedupes_and_sorts_by_time_then_id() {
        let base = "{\"at\": \"2026-01-01T00:00:00Z\", \"event_id\": \"A\", \"wp_id\": \"WP01\"}\n";
        let ours = format!("{base}{{\"event_id\": \"C\", \"at\": \"2026-01-03T00:00:00Z\"}}\n");
        let theirs =
            format!("{base}\n  \n{{\"at\":\"2026-01-02T00:00:00Z\",\"event_id\":\"B\"}}\n");
        assert_eq!(
            merge(base, &ours, &theirs).expect("merges"),
            "{\"at\": \"2026-01-01T00:00:00Z\", \"event_id\": \"A\", \"wp_id\": \"WP01\"}\n\
             {\"at\": \"2026-01-02T00:00:00Z\", \"event_id\": \"B\"}\n\
             {\"at\": \"2026-01-03T00:00:00Z\", \"event_id\": \"C\"}\n"
        );
    }

    #[test]
    fn same_id_with_another_payload_is_a_conflict() {
        let error = merge(
            "",
            "{\"event_id\": \"01X\", \"at\": \"1\", \"to_lane\": \"done\"}",
            "{\"event_id\": \"01X\", \"at\": \"1\", \"to_lane\": \"planned\"}",
        )
        .expect_err("conflicts");
        assert_eq!(
            error.to_string(),
            "Conflicting payloads found for event_id '01X'"
        );
        let error = merge(
            "",
            "{\"event_id\": \"it's\", \"n\": 1}",
            "{\"event_id\": \"it's\", \"n\": 1.0}",
        )
        .expect_err("1 and 1.0 are different spellings");
        assert_eq!(
            error.to_string(),
            "Conflicting payloads found for event_id \"it's\""
        );
    }

    #[test]
    fn bad_lines_name_the_side_and_the_line() {
        let cases = [
            (
                "{\"event_id\": \"A\"}\n{nope",
                "theirs: invalid JSON on line 2: ",
            ),
            ("\n[1, 2]", "theirs: line 2 is not a JSON object"),
            (
                "{\"at\": \"x\"}",
                "theirs: line 1 is missing a valid event_id",
            ),
            (
                "{\"event_id\": \"  \"}",
                "theirs: line 1 is missing a valid event_id",
            ),
            (
                "{\"event_id\": 7}",
                "theirs: line 1 is missing a valid event_id",
            ),
        ];
        for (theirs, expected) in cases {
            let error = merge_event_logs(b"", b"", theirs.as_bytes()).expect_err(theirs);
            assert!(error.to_string().starts_with(expected), "{error}");
            assert_eq!(error.side(), Some(MergeSide::Theirs));
        }
        let error =
            merge_event_logs(b"", b"{\"event_id\": \"A\"}\n\xff", b"").expect_err("not UTF-8");
        assert!(
            error
                .to_string()
                .starts_with("ours: invalid JSON on line 2: invalid UTF-8"),
            "{error}"
        );
    }

    #[test]
    fn rows_without_at_sort_by_timestamp_then_first() {
        let ours = "{\"event_id\": \"L\", \"timestamp\": \"2026-01-02\"}\n\
                    {\"event_id\": \"Z\", \"at\": \"2026-01-01\"}\n\
                    {\"event_id\": \"T\", \"kind\": \"tracker\"}\n\
                    {\"event_id\": \"N\", \"at\": null, \"timestamp\": null}\n";
        let merged = merge("", ours, "").expect("merges");
        let ids: Vec<&str> = merged
            .lines()
            .map(|line| {
                line.split("\"event_id\": \"")
                    .nth(1)
                    .unwrap_or("")
                    .get(..1)
                    .unwrap_or("")
            })
            .collect();
        // "" < "2026-01-01" < "2026-01-02" < "None" (Python's str(None)).
        assert_eq!(ids, ["T", "Z", "L", "N"]);
    }

    #[test]
    fn output_is_python_json_dumps_sort_keys() {
        let merged = merge(
            "",
            "{\"z\": {\"b\": \"\u{e9}\", \"a\": 1.50}, \"event_id\": \"A\"}",
            "",
        )
        .expect("merges");
        assert_eq!(
            merged,
            "{\"event_id\": \"A\", \"z\": {\"a\": 1.5, \"b\": \"\\u00e9\"}}\n"
        );
    }

    #[test]
    fn rows_equal_as_json_are_one_row_whatever_their_spelling() {
        let merged = merge(
            "{\"event_id\": \"A\", \"d\": {\"x\": [1, \"\\u00e9\"], \"y\": null}}",
            "{\"d\":{\"y\":null,\"x\":[1,\"\u{e9}\"]},\"event_id\":\"A\"}\r\n",
            "  {\"event_id\": \"A\", \"d\": {\"y\": null, \"x\": [1, \"\u{e9}\"]}}  ",
        )
        .expect("merges");
        assert_eq!(
            merged,
            "{\"d\": {\"x\": [1, \"\\u00e9\"], \"y\": null}, \"event_id\": \"A\"}\n"
        );
    }

    proptest::proptest! {
        /// No input makes the merge panic, and a merged log merges to itself.
        #[test]
        fn any_bytes_merge_or_fail_cleanly(
            sides in proptest::array::uniform3(proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        b'{', b'}', b'[', b']', b'"', b':', b',', b'\n', b' ', b'1', b'a',
                    ]),
                    proptest::prelude::any::<u8>(),
                ],
                0..96,
            )),
            rows in proptest::collection::vec((0_u8..4, 0_u8..4, 0_u8..3), 0..12),
        ) {
            let _ = merge_event_logs(&sides[0], &sides[1], &sides[2]);
            let mut text = String::new();
            for (id, at, shape) in rows {
                let line = match shape {
                    0 => format!("{{\"event_id\": \"E{id}\", \"at\": \"T{at}\"}}"),
                    1 => format!("{{\"event_id\": \"E{id}\", \"timestamp\": \"T{at}\", \"n\": {id}}}"),
                    _ => format!("{{\"event_id\": \"F{id}\", \"at\": {at}}}"),
                };
                text.push_str(&line);
                text.push('\n');
            }
            if let Ok(merged) = merge_event_logs(b"", text.as_bytes(), b"") {
                let again = merge_event_logs(&merged, &merged, &merged);
                proptest::prop_assert_eq!(again.as_ref(), Ok(&merged));
            }
        }
    }

    #[test]
    fn deletions_are_not_honoured_and_empty_inputs_merge_to_nothing() {
        let row = "{\"event_id\": \"A\"}\n";
        assert_eq!(merge(row, "", "").expect("merges"), row);
        assert_eq!(merge("", "", "").expect("merges"), "");
    }
}
