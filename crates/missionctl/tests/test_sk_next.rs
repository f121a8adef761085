//! `next --json` (query mode) against Spec Kitty 3.2.7's `next --agent claude --json` on every
//! mission of the `spec-kitty-repo` data set: the same decision, field for field and in Spec
//! Kitty's key order (missionctl's `data`, without the `mission_id` it adds at the end), the
//! same error code and exit code when there is no decision.

use serde_json::Value;

use crate::common::TestResult;
use crate::common::sk_repo::{Case, Differential, Pinned, SkCommand, json_diff};

/// The answers where Spec Kitty is demonstrably wrong (see `docs/compatibility.md`): none.
const PINNED: &[Pinned] = &[];

/// Returns where each key appears in `text`, in the order given; `None` for a missing key.
fn positions(text: &str, keys: &[&str]) -> Vec<Option<usize>> {
    keys.iter()
        .map(|key| text.find(&format!("\"{key}\":")))
        .collect()
}

/// Checks that missionctl printed Spec Kitty's keys (top level and `progress`) in Spec Kitty's
/// order.
fn same_key_order(case: &Case, expected: &Value) -> Result<(), String> {
    // The parsed value sorts its keys: take Spec Kitty's order from its text.
    let order = |object: Option<&serde_json::Map<String, Value>>| -> Vec<String> {
        let mut keys: Vec<String> = object
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort_by_key(|key| case.expected.stdout.find(&format!("\"{key}\":")));
        keys
    };
    let top = order(expected.as_object());
    let progress = order(expected.get("progress").and_then(Value::as_object));
    for keys in [top, progress] {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let found = positions(&case.ours.stdout, &keys);
        if found.iter().any(Option::is_none) || !found.is_sorted() {
            return Err(format!(
                "keys not in Spec Kitty's order {keys:?}: {}",
                case.describe_ours()
            ));
        }
    }
    Ok(())
}

/// Compares one mission's answers: a decision as data (without `mission_id`) and in Spec
/// Kitty's key order, an error by its code.
fn compare(case: &Case) -> Result<(), String> {
    let expected = case.expected_canonical(SkCommand::Next);
    let expected = expected.json().ok_or("Spec Kitty's answer is not JSON")?;
    if let Some(code) = expected.get("error_code").and_then(Value::as_str) {
        return match case.ours_error_code() {
            Some(ours) if ours == code => Ok(()),
            _ => Err(format!("error {code} expected, {}", case.describe_ours())),
        };
    }
    let mut ours = case
        .ours_data()
        .ok_or_else(|| case.describe_ours())?
        .clone();
    if let Some(object) = ours.as_object_mut() {
        object.remove("mission_id");
    }
    json_diff(SkCommand::Next, expected, &ours)?;
    same_key_order(case, expected)
}

#[test]
fn next_agrees_with_spec_kitty_on_every_mission() -> TestResult {
    let run = Differential::run(SkCommand::Next)?;
    let agreement = run.assert_agrees(PINNED, compare)?;
    assert_eq!(agreement.agreed + agreement.pinned, run.cases().len());
    Ok(())
}

#[test]
fn next_adds_only_the_mission_id() -> TestResult {
    let run = Differential::run(SkCommand::Next)?;
    for case in run.cases() {
        let Some(data) = case.ours_data() else {
            continue;
        };
        assert!(
            data.get("mission_id").is_some_and(Value::is_string),
            "{}: the mission's ULID",
            case.mission
        );
        assert!(
            case.ours.stdout.trim_end().ends_with(&format!(
                "\"mission_id\":{}}}}}",
                serde_json::to_string(&data["mission_id"])?
            )),
            "{}: mission_id is the last field: {}",
            case.mission,
            case.ours.stdout
        );
    }
    Ok(())
}
