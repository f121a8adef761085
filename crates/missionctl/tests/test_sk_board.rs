//! `board --mission <dir> --json` against Spec Kitty 3.2.7's `agent tasks status --mission <dir>
//! --json` on every mission of the data set (`common::sk_repo`; the mapping is in
//! `docs/compatibility.md`).

use missionctl_core::view::status_board::ROW_ADDITIONS;
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

/// `wp list` counts what the board and Spec Kitty count: one row per task file, in file-name
/// order (Spec Kitty's rows), then the ids only the log has; and it never suggests adding a
/// first work package to a mission whose log has some.
/// See: issue 11 ("`wp list`, `board` and Spec Kitty count three different sets, and `wp list`
/// suggests `wp add WP01` on a mission whose WP01–09 are done")
#[test]
fn wp_list_counts_the_set_the_board_and_spec_kitty_count() -> TestResult {
    let run = Differential::run(SkCommand::Board)?;
    let repo = crate::common::sk_repo::fresh_repo()?;
    let mut mismatches = Vec::new();
    for case in run.cases() {
        let expected_files: Vec<String> = match case.expected_canonical(SkCommand::Board) {
            Canonical::Json(board) if board.get("work_packages").is_some() => {
                board["work_packages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|row| row["file"].as_str().map(|file| format!("tasks/{file}")))
                    .collect()
            }
            Canonical::Text(text) if text.starts_with("Noworkpackagesfoundin") => Vec::new(),
            _ => continue,
        };
        let listed = repo.run(["wp", "list", &case.mission, "--json"]);
        let Ok(document) = listed.json() else {
            mismatches.push(format!("{}: {listed}", case.mission));
            continue;
        };
        let rows = document["data"]["work_packages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let files: Vec<String> = rows
            .iter()
            .filter_map(|row| row["file"].as_str().map(str::to_owned))
            .collect();
        let log_only: Vec<&str> = rows
            .iter()
            .filter(|row| row["log_only"] == true)
            .filter_map(|row| row["wp_id"].as_str())
            .collect();
        let board_log_only: Vec<&str> = case
            .ours_data()
            .and_then(|data| data["log_only_work_packages"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["wp_id"].as_str())
            .collect();
        if files != expected_files || log_only != board_log_only {
            mismatches.push(format!(
                "{}: files {files:?} / {expected_files:?}, log-only {log_only:?} / {board_log_only:?}",
                case.mission
            ));
        }
        if !log_only.is_empty() {
            let text = repo.run(["wp", "list", &case.mission]).success();
            if text.stdout.contains("wp add") {
                mismatches.push(format!("{}: suggests `wp add`:\n{text}", case.mission));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    Ok(())
}
