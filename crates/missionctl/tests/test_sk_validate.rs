//! `status validate --mission <dir> --json` against Spec Kitty 3.2.7's `agent status validate
//! --mission <dir> --json` on every mission of the data set (`common::sk_repo`; the mapping is
//! in `docs/compatibility.md`).

use serde_json::Value;

use crate::common::TestResult;
use crate::common::sk_repo::{Case, Differential, SkCommand, json_diff};

/// The keys missionctl's report adds to Spec Kitty's.
const ADDITIONS: [&str; 3] = ["findings", "event_count", "concurrent_transitions"];

/// Compares one mission's report with Spec Kitty's.
fn compare(case: &Case) -> Result<(), String> {
    let expected = case.expected_canonical(SkCommand::Validate);
    let expected = expected
        .json()
        .ok_or_else(|| "Spec Kitty's answer is not JSON".to_owned())?;
    let document = case.ours_document().ok_or_else(|| case.describe_ours())?;
    // `{"error": "<message>"}`: the status cannot be loaded; the same failure, by code.
    if let Some(message) = expected.get("error").and_then(Value::as_str) {
        let code = if message.starts_with("Coordination branch ") && message.contains("deleted") {
            "COORDINATION_BRANCH_DELETED"
        } else {
            return Err(format!("no mapping for Spec Kitty's error {message:?}"));
        };
        return match document["error"]["code"].as_str() {
            Some(ours) if ours == code && document.get("data").is_none() => Ok(()),
            _ => Err(format!("{code} expected, {}", case.describe_ours())),
        };
    }
    // The report: `data` of the success document, or of the failure document
    // (`STATUS_VALIDATION_FAILED`) when it did not pass.
    let passed = expected["passed"] == Value::Bool(true);
    let code = document["error"]["code"].as_str();
    if !passed && code != Some("STATUS_VALIDATION_FAILED") {
        return Err(format!(
            "STATUS_VALIDATION_FAILED expected, {}",
            case.describe_ours()
        ));
    }
    let mut ours = document
        .get("data")
        .cloned()
        .ok_or_else(|| case.describe_ours())?;
    if let Some(object) = ours.as_object_mut() {
        for key in ADDITIONS {
            object.remove(key);
        }
    }
    json_diff(SkCommand::Validate, expected, &ours)
}

#[test]
fn status_validate_agrees_with_spec_kitty_on_every_mission() -> TestResult {
    let run = Differential::run(SkCommand::Validate)?;
    let agreement = run.assert_agrees(&[], compare)?;
    assert_eq!(agreement.agreed, run.cases().len());
    Ok(())
}

#[test]
fn every_finding_is_a_structured_object() -> TestResult {
    let run = Differential::run(SkCommand::Validate)?;
    let mut seen = 0;
    for case in run.cases() {
        let Some(data) = case
            .ours_document()
            .and_then(|document| document.get("data"))
        else {
            continue;
        };
        let findings = data["findings"].as_array().cloned().unwrap_or_default();
        let errors: Vec<&Value> = findings
            .iter()
            .filter(|finding| finding["severity"] == "error")
            .collect();
        // One object per Spec Kitty error, in its order, with its message.
        let messages: Vec<&Value> = errors.iter().map(|finding| &finding["message"]).collect();
        let listed: Vec<&Value> = data["errors"].as_array().into_iter().flatten().collect();
        assert_eq!(messages, listed, "{}", case.mission);
        for finding in &findings {
            let keys: Vec<&String> = finding
                .as_object()
                .map(|object| object.keys().collect())
                .unwrap_or_default();
            assert_eq!(
                keys,
                ["code", "event_id", "message", "severity", "wp_id"],
                "{}",
                case.mission
            );
            assert!(finding["code"].as_str().is_some_and(|code| {
                code.bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte == b'_')
            }));
            seen += 1;
        }
    }
    assert!(seen > 0, "some mission of the data set has findings");
    Ok(())
}
