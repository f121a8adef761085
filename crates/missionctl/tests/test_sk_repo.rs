//! The differential harness itself (`common::sk_repo`): the fresh repository is the one the
//! data set's recipe builds, and the normalisation follows the data set's rules.

use std::path::Path;

use serde_json::json;

use crate::common::TestResult;
use crate::common::sk_repo::{
    Agreement, Canonical, Case, Differential, Expected, Pinned, SkCommand, canonical, diff,
    fresh_repo, json_diff, split,
};

#[test]
fn the_fresh_repository_holds_every_row_of_the_tree_in_one_commit() -> TestResult {
    let split = split();
    let repo = fresh_repo()?;
    let tree = std::fs::read_to_string(split.root.join("repo-tree.tsv"))?;
    let rows: Vec<Vec<&str>> = tree
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect();
    let tracked = repo.git(&["ls-files", "--stage"])?;
    assert_eq!(
        tracked.lines().count(),
        rows.len(),
        "one index entry per row"
    );
    let modes: std::collections::BTreeMap<&str, &str> = tracked
        .lines()
        .filter_map(|line| {
            let (meta, path) = line.split_once('\t')?;
            Some((path, meta.split(' ').next()?))
        })
        .collect();
    for row in &rows {
        let (path, kind, content) = (row[0], row[1], row[3]);
        let expected_mode = match kind {
            "symlink" => "120000",
            "exec" => "100755",
            _ => "100644",
        };
        assert_eq!(modes.get(path), Some(&expected_mode), "{path}");
        if kind == "file" && content == "missions" {
            let source = split
                .root
                .join("missions")
                .join(path.trim_start_matches("kitty-specs/"));
            assert_eq!(
                std::fs::read(repo.path().join(path))?,
                std::fs::read(source)?,
                "{path}"
            );
        }
    }
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"])?, "1\n");
    assert_eq!(
        repo.git(&["for-each-ref", "--format=%(refname)"])?,
        "refs/heads/main\nrefs/remotes/origin/HEAD\nrefs/remotes/origin/main\n",
        "no branch besides main: the commands probe coordination and target branches"
    );
    assert_eq!(
        repo.git(&["symbolic-ref", "refs/remotes/origin/HEAD"])?,
        "refs/remotes/origin/main\n"
    );
    Ok(())
}

#[test]
fn every_mission_of_the_data_set_has_its_four_answers() -> TestResult {
    let split = split();
    let missions = split.missions(SkCommand::Board)?;
    assert!(!missions.is_empty());
    if !split.vendored {
        assert_eq!(missions.len(), 308, "the public split has 308 missions");
    }
    for command in [SkCommand::Validate, SkCommand::Next, SkCommand::Finalize] {
        assert_eq!(split.missions(command)?, missions, "{}", command.name());
    }
    for mission in &missions {
        assert!(
            split.root.join("missions").join(mission).is_dir(),
            "{mission}"
        );
    }
    Ok(())
}

#[test]
fn json_answers_compare_as_data_with_the_clock_masked() {
    let repo = Path::new("/tmp/some-repo");
    let expected = canonical(
        SkCommand::Board,
        "{\n  \"b\": 1,\n  \"stalled_wps\": [{\"age_minutes\": 251541}],\n  \"work_packages\": [{\"_stall_label\": \"STALLED \\u2014 no move-task in 251541m\", \"review_stall\": {\"age_minutes\": 251541}}],\n  \"a\": \"<repo>/x\"\n}\n",
        None,
    );
    let actual = canonical(
        SkCommand::Board,
        r#"{"a":"/tmp/some-repo/x","work_packages":[{"review_stall":{"age_minutes":9},"_stall_label":"STALLED — no move-task in 9m"}],"stalled_wps":[{"age_minutes":9}],"b":1}"#,
        Some(repo),
    );
    assert_eq!(diff(&expected, &actual), None);
    let other = canonical(SkCommand::Board, r#"{"a":"<repo>/x","b":2}"#, None);
    let shown = diff(&expected, &other).unwrap_or_default();
    assert!(
        shown.contains("-  \"b\": 1") && shown.contains("+  \"b\": 2"),
        "{shown}"
    );
    // Only the listed fields are clock fields: `timestamp` is masked for `next` alone.
    let board = canonical(SkCommand::Board, r#"{"timestamp":"1"}"#, None);
    assert_eq!(board, Canonical::Json(json!({"timestamp": "1"})));
    let next = canonical(SkCommand::Next, r#"{"timestamp":"1"}"#, None);
    assert_eq!(next, Canonical::Json(json!({"timestamp": "<now>"})));
    // An integer and a float are different answers, as in Python's `json`.
    assert_ne!(
        canonical(SkCommand::Board, "0", None),
        canonical(SkCommand::Board, "0.0", None)
    );
}

#[test]
fn text_answers_compare_without_whitespace() {
    let expected = canonical(
        SkCommand::Board,
        "No work packages found in \n<repo>/kitty-specs/x/task\ns\n",
        None,
    );
    let actual = canonical(
        SkCommand::Board,
        "No work packages found in /r/kitty-specs/x/tasks\n",
        Some(Path::new("/r")),
    );
    assert_eq!(expected, actual);
    assert_eq!(
        expected,
        Canonical::Text("Noworkpackagesfoundin<repo>/kitty-specs/x/tasks".to_owned())
    );
}

#[test]
fn every_answer_of_the_four_commands_is_one_json_document() -> TestResult {
    for command in [
        SkCommand::Board,
        SkCommand::Validate,
        SkCommand::Next,
        SkCommand::Finalize,
    ] {
        let run = Differential::run(command)?;
        for case in run.cases() {
            assert!(
                matches!(case.ours.status, Some(0 | 1)),
                "{} {}: {}",
                command.name(),
                case.mission,
                case.describe_ours()
            );
            let document = case.ours.json()?;
            assert!(
                case.ours_data().is_some() != case.ours_error_code().is_some(),
                "{} {}: {document}",
                command.name(),
                case.mission
            );
        }
    }
    Ok(())
}

/// The comparison of a synthetic board answer: `data` against Spec Kitty's document.
fn compare_data(case: &Case) -> Result<(), String> {
    let expected = case.expected_canonical(SkCommand::Board);
    let expected = expected.json().ok_or("not JSON")?;
    let ours = case.ours_data().ok_or_else(|| case.describe_ours())?;
    json_diff(SkCommand::Board, expected, ours)
}

fn answer(stdout: &str) -> Expected {
    Expected {
        exit_code: 0,
        stdout: stdout.to_owned(),
    }
}

#[test]
fn every_mismatch_is_reported_and_a_pin_never_hides_one() -> TestResult {
    let case = |mission: &str, expected: &str, ours: &str| {
        let status = if ours.starts_with(r#"{"ok":true"#) {
            0
        } else {
            1
        };
        Case::synthetic(SkCommand::Board, mission, answer(expected), ours, status)
    };
    let agreeing = || case("a", r#"{"x": 1}"#, r#"{"ok":true,"data":{"x":1}}"#);
    let run = Differential::from_cases(
        SkCommand::Board,
        vec![
            agreeing(),
            case("b", r#"{"x": 1}"#, r#"{"ok":true,"data":{"x":2}}"#),
            case(
                "c",
                r#"{"x": 1}"#,
                r#"{"ok":false,"error":{"code":"E","message":"m","hint":null}}"#,
            ),
        ],
    );
    let error = run
        .assert_agrees(&[], compare_data)
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("on 2 of 3 missions"), "{error}");
    assert!(error.contains("b: --- spec kitty"), "{error}");
    assert!(
        error.contains("c: exit code 0 expected, missionctl exited Some(1)"),
        "{error}"
    );

    // A pin checks missionctl's own answer, and fails once missionctl agrees after all.
    let pin = |check: fn(&Case) -> Result<(), String>| Pinned {
        mission: "b",
        reason: "Spec Kitty is wrong here",
        check,
    };
    let pinned = Differential::from_cases(
        SkCommand::Board,
        vec![
            agreeing(),
            case("b", r#"{"x": 1}"#, r#"{"ok":true,"data":{"x":2}}"#),
        ],
    );
    let fine = |case: &Case| {
        (case.ours_data() == Some(&json!({"x": 2})))
            .then_some(())
            .ok_or_else(|| "x is not 2".to_owned())
    };
    assert_eq!(
        pinned.assert_agrees(&[pin(fine)], compare_data)?,
        Agreement {
            agreed: 1,
            pinned: 1,
            mismatched: 0
        }
    );
    let wrong = |_: &Case| Err("missionctl's pinned answer changed".to_owned());
    assert!(pinned.assert_agrees(&[pin(wrong)], compare_data).is_err());
    let now_agrees = Differential::from_cases(
        SkCommand::Board,
        vec![case("b", r#"{"x": 1}"#, r#"{"ok":true,"data":{"x":1}}"#)],
    );
    let error = now_agrees
        .assert_agrees(&[pin(fine)], compare_data)
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("now agrees with Spec Kitty"), "{error}");
    Ok(())
}
