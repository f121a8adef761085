//! `missionctl accept` and `missionctl acceptance verdict` through the binary, on a `lanes`
//! mission with four work packages: the scaffolded matrix, each verdict's bytes and commit
//! against the peer run's, the checks that block (each with the command that clears it and
//! nothing written), and the `meta.json` fields and commits of an acceptance against the peer
//! run's.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::test_review::{four_wp_mission_with, implement_to_review};

/// The spec of the peer run's mission: three functional requirements.
pub(crate) const SPEC: &str = "# Task list\n\n## Functional Requirements\n\n\
| ID | Requirement |\n|---|---|\n| FR-001 | Add a task |\n| FR-002 | List tasks |\n\
| FR-003 | Complete a task |\n";

/// The other planning files an acceptance requires.
pub(crate) const PLAN: &str = "# Plan\n\n## Technical Context\n\n**Language/Version**: Python 3.11\n\
**Primary Dependencies**: none\n";
pub(crate) const TASKS: &str = "# Tasks\n\n## WP01 Storage layer\n\n- [x] T001 storage\n\n\
## WP02 Add and list\n\n## WP03 Complete and delete\n\n## WP04 End-to-end tests\n";

/// The peer run's mission directory (vendored).
fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD")
}

/// A four-work-package mission with the peer run's spec, every work package approved.
pub(crate) fn approved_mission(env: &TestEnv, name: &str) -> anyhow::Result<(PathBuf, String)> {
    let (repo, slug) = four_wp_mission_with(
        env,
        name,
        &[("spec.md", SPEC), ("plan.md", PLAN), ("tasks.md", TASKS)],
    )?;
    for (wp, file) in [
        ("WP01", "src/store/db.py"),
        ("WP02", "src/cli.py"),
        ("WP03", "src/done.py"),
        ("WP04", "tests/test_e2e.py"),
    ] {
        implement_to_review(env, &repo, &slug, wp, file)?;
        env.json_data(
            &repo,
            &[
                "review",
                "approve",
                wp,
                "--mission",
                &slug,
                "--actor",
                "claude",
            ],
        )?;
    }
    Ok((repo, slug))
}

/// Records a criterion as passed, by `claude`, with the peer run's evidence.
pub(crate) fn pass(
    env: &TestEnv,
    repo: &Path,
    slug: &str,
    criterion: &str,
) -> anyhow::Result<Value> {
    env.json_data(
        repo,
        &[
            "acceptance",
            "verdict",
            "--mission",
            slug,
            "--criterion",
            criterion,
            "--result",
            "pass",
            "--verification-method",
            "automated_test",
            "--actor",
            "claude",
            "--evidence",
            "tests/test_tasklist.py",
        ],
    )
}

fn subjects(env: &TestEnv, repo: &Path, count: usize) -> anyhow::Result<Vec<String>> {
    Ok(env
        .git(repo, &["log", "-n", &count.to_string(), "--format=%s"])?
        .lines()
        .map(str::to_owned)
        .collect())
}

#[test]
fn verdicts_and_an_acceptance_are_written_as_spec_kitty_writes_them() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = approved_mission(&env, "accepted")?;
    let dir = repo.join("kitty-specs").join(&slug);
    // finalize scaffolded the matrix from the spec's requirements, committed alone.
    let log = env.git(&repo, &["log", "--format=%s"])?;
    assert!(
        log.contains(&format!("chore({slug}): scaffold acceptance-matrix")),
        "{log}"
    );

    // Before the verdicts: the matrix is pending, and the diagnosis says how to clear it.
    let diagnosis = env.json_data(
        &repo,
        &["accept", "--mission", &slug, "--diagnose", "--lenient"],
    )?;
    assert_eq!(diagnosis["diagnose"], true);
    assert_eq!(diagnosis["ok"], false, "{diagnosis}");
    assert_eq!(diagnosis["matrix_verdict"], "pending");
    assert_eq!(
        diagnosis["approved_wps"],
        serde_json::json!(["WP01", "WP02", "WP03", "WP04"])
    );
    let before = env.fingerprint(&repo)?;
    let refused = env
        .run_in(&repo, ["accept", "--mission", &slug, "--lenient", "--json"])
        .code(1);
    let error = refused.json_error()?;
    assert_eq!(error["code"], "ACCEPTANCE_CHECKS_FAILED");
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains("missionctl acceptance verdict")),
        "{error}"
    );
    assert_eq!(
        env.fingerprint(&repo)?,
        before,
        "a refused accept writes nothing"
    );

    // The verdicts: each one committed alone with Spec Kitty's message.
    for criterion in ["FR-001", "FR-002", "FR-003"] {
        let verdict = pass(&env, &repo, &slug, criterion)?;
        assert_eq!(verdict["write_status"], "committed");
        assert_eq!(
            subjects(&env, &repo, 1)?,
            [format!(
                "chore(acceptance): record {criterion}=pass for {slug}"
            )]
        );
    }
    // The same verdict again changes nothing and commits nothing.
    let again = env.json_data(
        &repo,
        &[
            "acceptance",
            "verdict",
            "--mission",
            &slug,
            "--criterion",
            "FR-003",
            "--result",
            "pass",
            "--actor",
            "claude",
        ],
    )?;
    assert_eq!(again["write_status"], "unchanged");
    assert_eq!(again["overall_verdict"], "pass");

    // The matrix, byte for byte the peer run's (slug and times replaced).
    let ours = std::fs::read_to_string(dir.join("acceptance-matrix.json"))?;
    let mut peer = std::fs::read_to_string(peer_dir().join("acceptance-matrix.json"))?
        .replace("task-list-01M803MD", &slug);
    let ours_times: Vec<&str> = ours
        .lines()
        .filter(|line| line.contains("\"verified_at\""))
        .collect();
    let peer_times: Vec<String> = peer
        .lines()
        .filter(|line| line.contains("\"verified_at\""))
        .map(str::to_owned)
        .collect();
    assert_eq!(ours_times.len(), 3);
    for (theirs, mine) in peer_times.iter().zip(&ours_times) {
        peer = peer.replacen(theirs.as_str(), mine, 1);
    }
    assert_eq!(ours, peer);

    // Accept: the checks pass, three commits, the meta fields as the peer run's.
    let head = env.git(&repo, &["rev-parse", "HEAD"])?.trim().to_owned();
    let accepted = env.json_data(
        &repo,
        &[
            "accept",
            "--mission",
            &slug,
            "--actor",
            "claude",
            "--lenient",
            "--test",
            "python3 -m unittest discover -s tests",
        ],
    )?;
    assert_eq!(accepted["mode"], "local");
    assert_eq!(accepted["accepted_by"], "claude");
    assert_eq!(accepted["parent_commit"], head.as_str());
    assert_eq!(
        accepted["notes"]
            .as_array()
            .map(|notes| notes[2..].to_vec()),
        Some(vec![
            Value::from("Validation commands:"),
            Value::from("  - python3 -m unittest discover -s tests"),
        ])
    );
    assert_eq!(
        subjects(&env, &repo, 3)?,
        [
            format!("Finalize acceptance artifacts for {slug}"),
            format!("Record acceptance commit for {slug}"),
            format!("Accept {slug}"),
        ]
    );
    let accept_commit = env.git(&repo, &["rev-parse", "HEAD~2"])?.trim().to_owned();
    assert_eq!(accepted["accept_commit"], accept_commit.as_str());
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json"))?)?;
    let peer_meta: Value =
        serde_json::from_str(&std::fs::read_to_string(peer_dir().join("meta.json"))?)?;
    for key in [
        "accept_commit",
        "acceptance_history",
        "acceptance_mode",
        "accepted_at",
        "accepted_by",
        "accepted_from_commit",
        "status_phase",
    ] {
        let shape = |value: &Value| match value {
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_object()
                        .map(|object| object.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .concat()
                .join(","),
            Value::String(_) => "string".to_owned(),
            other => other.to_string(),
        };
        assert_eq!(shape(&meta[key]), shape(&peer_meta[key]), "{key}");
    }
    assert_eq!(meta["accept_commit"], accept_commit.as_str());
    assert_eq!(
        meta["acceptance_history"][0]["accept_commit"],
        accept_commit.as_str()
    );
    assert_eq!(meta["accepted_from_commit"], head.as_str());
    assert_eq!(meta["status_phase"], "1");
    // meta.json stays canonical (sorted keys, indent 2, a trailing newline).
    let text = std::fs::read_to_string(dir.join("meta.json"))?;
    let mut canonical = serde_json::to_string_pretty(&meta)?;
    canonical.push('\n');
    assert_eq!(text, canonical);
    // The tree is clean: every write was committed.
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");

    // A second acceptance appends a history entry and commits twice more.
    env.json_data(&repo, &["accept", "--mission", &slug, "--lenient"])?;
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json"))?)?;
    assert_eq!(meta["acceptance_history"].as_array().map(Vec::len), Some(2));
    assert_eq!(meta["accepted_by"], "system");
    assert_eq!(
        subjects(&env, &repo, 2)?,
        [
            format!("Record acceptance commit for {slug}"),
            format!("Accept {slug}"),
        ]
    );
    Ok(())
}

#[test]
fn every_blocking_check_names_the_command_that_clears_it() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = four_wp_mission_with(
        &env,
        "blocked",
        &[("spec.md", SPEC), ("plan.md", PLAN), ("tasks.md", TASKS)],
    )?;
    implement_to_review(&env, &repo, &slug, "WP01", "src/store/db.py")?;
    let refused = |args: &[&str], code: &str, hint: &str| -> TestResult {
        let before = env.fingerprint(&repo)?;
        let mut all = args.to_vec();
        all.push("--json");
        let output = env.run_in(&repo, &all).code(1);
        let error = output.json_error()?;
        assert_eq!(error["code"], code, "{error}");
        assert!(
            error["hint"]
                .as_str()
                .is_some_and(|text| text.contains(hint)),
            "{error}"
        );
        assert_eq!(env.fingerprint(&repo)?, before, "{args:?} wrote something");
        Ok(())
    };
    refused(
        &["accept", "--mission", &slug, "--lenient"],
        "ACCEPTANCE_CHECKS_FAILED",
        "missionctl review start WP01",
    )?;
    refused(
        &[
            "acceptance",
            "verdict",
            "--mission",
            &slug,
            "--criterion",
            "FR-009",
            "--result",
            "pass",
        ],
        "UNKNOWN_CRITERION",
        "criteria",
    )?;
    // Without --lenient the runtime metadata and the path conventions are checked too.
    let diagnosis = env.json_data(&repo, &["accept", "--mission", &slug, "--diagnose"])?;
    let checks: Vec<&str> = diagnosis["summary"]["failed_checks"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["check"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(checks.contains(&"not_done"), "{checks:?}");
    assert!(checks.contains(&"path_violations"), "{checks:?}");
    // An uncommitted change blocks too.
    std::fs::write(repo.join("README.md"), "changed\n")?;
    let diagnosis = env.json_data(&repo, &["accept", "--mission", &slug, "--diagnose"])?;
    assert_eq!(
        diagnosis["summary"]["git_dirty"],
        serde_json::json!([" M README.md"])
    );
    Ok(())
}

#[test]
fn an_acceptance_stopped_between_its_commits_is_undone_whole() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = approved_mission(&env, "stopped")?;
    for criterion in ["FR-001", "FR-002", "FR-003"] {
        pass(&env, &repo, &slug, criterion)?;
    }
    let before = env.undone_state(&repo)?;
    env.each_stop_is_undone_whole(
        &repo,
        &slug,
        &["accept", "--mission", &slug, "--lenient"],
        &[
            "ref-updated@1",
            "file@2",
            "ref-updated@2",
            "index-installed@3",
        ],
    )?;
    // Refused by the `reference-transaction` hook, it leaves nothing either.
    crate::test_write_hooks::refuse_refs(&repo, "refs/heads/")?;
    let refused = env
        .run_in(&repo, ["--json", "accept", "--mission", &slug, "--lenient"])
        .code(1);
    std::fs::remove_file(repo.join(".git/hooks/reference-transaction"))?;
    assert_eq!(
        refused.json_error()?["code"],
        "GIT_HOOK_REJECTED",
        "{refused}"
    );
    assert!(
        env.undone_state(&repo)? == before,
        "refused, it left something"
    );
    env.json_data(&repo, &["accept", "--mission", &slug, "--lenient"])?;
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(
        repo.join("kitty-specs").join(&slug).join("meta.json"),
    )?)?;
    assert_eq!(meta["acceptance_history"].as_array().map(Vec::len), Some(1));
    Ok(())
}
