//! `board --mission <dir> --json` against Spec Kitty 3.2.7's `agent tasks status --mission <dir>
//! --json` on every mission of the data set (`common::sk_repo`; the mapping is in
//! `docs/compatibility.md`).

use missionctl_core::status_board::ROW_ADDITIONS;
use serde_json::Value;

use crate::common::TestResult;
use crate::common::sk_repo::{Canonical, Case, Differential, SkCommand, json_diff};

/// The keys missionctl's board adds to Spec Kitty's document (and [`ROW_ADDITIONS`] to each
/// row).
const ADDITIONS: [&str; 6] = [
    "mission_dir",
    "mission_id",
    "topology",
    "read_surface",
    "read_dir",
    "log_only_work_packages",
];

/// Compares one mission's board with Spec Kitty's.
fn compare(case: &Case) -> Result<(), String> {
    match case.expected_canonical(SkCommand::Board) {
        // `{"error": "<message>"}`: the same failure, by code and message.
        Canonical::Json(Value::Object(expected)) if expected.contains_key("error") => {
            let message = expected["error"].as_str().unwrap_or_default();
            let code = if message.starts_with("lanes.json at ") {
                "LANES_JSON_INVALID"
            } else {
                return Err(format!("no mapping for Spec Kitty's error {message:?}"));
            };
            same_error(case, code, message)
        }
        Canonical::Json(expected) => {
            let mut ours = case
                .ours_data()
                .ok_or_else(|| case.describe_ours())?
                .clone();
            if let Some(object) = ours.as_object_mut() {
                for key in ADDITIONS {
                    object.remove(key);
                }
                for row in object
                    .get_mut("work_packages")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object_mut)
                {
                    for key in ROW_ADDITIONS {
                        row.remove(key);
                    }
                }
            }
            json_diff(SkCommand::Board, &expected, &ours)
        }
        // Rich text: a mission with a `tasks/` directory but no work-package file is an
        // empty board, a mission without `tasks/` an error.
        Canonical::Text(text) if text.starts_with("Noworkpackagesfoundin") => {
            let data = case.ours_data().ok_or_else(|| case.describe_ours())?;
            if data["work_packages"] == Value::Array(Vec::new()) && data["total_wps"] == 0 {
                Ok(())
            } else {
                Err(format!("an empty board expected, got {data}"))
            }
        }
        Canonical::Text(text) if text.starts_with("Error:Tasksdirectorynotfound:") => {
            same_error(case, "TASKS_DIR_NOT_FOUND", &text["Error:".len()..])
        }
        Canonical::Text(text) => Err(format!("no mapping for Spec Kitty's text {text:?}")),
    }
}

/// Checks that missionctl failed with `code` and Spec Kitty's message (whitespace aside).
fn same_error(case: &Case, code: &str, message: &str) -> Result<(), String> {
    let document = case.ours_document().ok_or_else(|| case.describe_ours())?;
    let ours_code = document["error"]["code"].as_str();
    let ours_message: String = document["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let expected: String = message.split_whitespace().collect();
    if ours_code == Some(code) && ours_message == expected {
        Ok(())
    } else {
        Err(format!(
            "{code} `{expected}` expected, got {:?} `{ours_message}`",
            ours_code
        ))
    }
}

#[test]
fn board_agrees_with_spec_kitty_on_every_mission() -> TestResult {
    let run = Differential::run(SkCommand::Board)?;
    let agreement = run.assert_agrees(&[], compare)?;
    assert_eq!(agreement.agreed, run.cases().len());
    Ok(())
}
