//! `tasks finalize --mission <dir> --validate-only --json` against Spec Kitty 3.2.7's
//! `agent mission finalize-tasks --mission <dir> --validate-only --json` on every mission of
//! the data set (see `common::sk_repo` and `docs/compatibility.md`).
//!
//! The mapping: a passing plan's `data` is Spec Kitty's report; a refusal's `error.message` is
//! Spec Kitty's `error`, `error.code` its `error_code` (when it has one), `error.hint` its
//! `hint` (when it has one), and `data` carries its other fields. Spec Kitty's
//! `spec_kitty_version` is not part of the answer. The charter activation gate prints a Rich
//! text report before its JSON line: that report is `data.report`, compared without
//! whitespace.

use serde_json::{Map, Value};

use crate::common::TestResult;
use crate::common::sk_repo::{Case, Differential, SkCommand, json_diff, split};

/// Spec Kitty's answer: its JSON object (the last line of stdout) and the text printed before
/// it, whitespace removed (`None` when stdout is the JSON document alone).
fn spec_kitty_answer(stdout: &str) -> Result<(Map<String, Value>, Option<String>), String> {
    let (text, json) = match serde_json::from_str::<Value>(stdout) {
        Ok(value) => (None, value),
        Err(_) => {
            let trimmed = stdout.trim_end();
            let (before, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
            let value = serde_json::from_str::<Value>(last)
                .map_err(|error| format!("Spec Kitty's last line is not JSON: {error}"))?;
            (Some(before.split_whitespace().collect::<String>()), value)
        }
    };
    let Value::Object(mut object) = json else {
        return Err("Spec Kitty's answer is not an object".to_owned());
    };
    object.remove("spec_kitty_version");
    Ok((object, text))
}

/// missionctl's answer in Spec Kitty's shape (see the module documentation), and the report
/// text, whitespace removed.
fn ours_in_spec_kittys_shape(
    case: &Case,
    expected: &Map<String, Value>,
) -> Result<(Value, Option<String>), String> {
    let document = case.ours_document().ok_or_else(|| case.describe_ours())?;
    if document["ok"] == Value::Bool(true) {
        return Ok((document["data"].clone(), None));
    }
    let error = &document["error"];
    let mut shaped = Map::new();
    shaped.insert("error".to_owned(), error["message"].clone());
    if expected.contains_key("error_code") {
        shaped.insert("error_code".to_owned(), error["code"].clone());
    }
    if expected.contains_key("hint") {
        shaped.insert("hint".to_owned(), error["hint"].clone());
    }
    let mut report = None;
    if let Some(Value::Object(data)) = document.get("data") {
        for (key, value) in data {
            if key == "report" {
                report = value
                    .as_str()
                    .map(|text| text.split_whitespace().collect::<String>());
            } else {
                shaped.insert(key.clone(), value.clone());
            }
        }
    }
    Ok((Value::Object(shaped), report))
}

fn compare(case: &Case) -> Result<(), String> {
    let (expected, expected_text) = spec_kitty_answer(&case.expected.stdout)?;
    let (ours, ours_text) = ours_in_spec_kittys_shape(case, &expected)?;
    json_diff(SkCommand::Finalize, &Value::Object(expected), &ours)?;
    if expected_text != ours_text {
        return Err(format!(
            "the printed report differs:\nspec kitty: {expected_text:?}\nmissionctl: {ours_text:?}"
        ));
    }
    Ok(())
}

#[test]
fn finalize_validate_only_agrees_with_spec_kitty_on_every_mission() -> TestResult {
    let run = Differential::run(SkCommand::Finalize)?;
    let agreement = run.assert_agrees(&[], compare)?;
    assert_eq!(agreement.agreed, run.cases().len());
    if !split().vendored {
        assert_eq!(agreement.agreed, 308, "the public split has 308 missions");
    }
    Ok(())
}

/// A refusal names Spec Kitty's fields in `data`, and a code of missionctl's own where Spec
/// Kitty has none; every answer has a hint.
#[test]
fn every_refusal_has_a_stable_code_and_a_hint() -> TestResult {
    let run = Differential::run(SkCommand::Finalize)?;
    for case in run.cases() {
        let Some(code) = case.ours_error_code() else {
            continue;
        };
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte == b'_'),
            "{}: {code}",
            case.mission
        );
        let document = case
            .ours_document()
            .ok_or_else(|| anyhow::anyhow!("not JSON: {}", case.describe_ours()))?;
        assert!(
            document["error"]["hint"]
                .as_str()
                .is_some_and(|hint| !hint.is_empty()),
            "{}: {document}",
            case.mission
        );
    }
    Ok(())
}
