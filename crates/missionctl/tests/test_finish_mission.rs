//! A whole mission finished with missionctl alone — four work packages, two of them dependent,
//! reviewed (one rejected once), merged, its criteria verdicts recorded, accepted — and then
//! read by the real Spec Kitty 3.2.7: its board shows every work package done, its `next` says
//! the mission is done, and its `accept --diagnose` finds nothing missing.

use std::path::Path;

use serde_json::Value;

use crate::common::spec_kitty::{run_spec_kitty, spec_kitty};
use crate::common::{TestEnv, TestResult};
use crate::test_accept::{PLAN, SPEC, TASKS, pass};
use crate::test_review::{PEER_FEEDBACK, four_wp_mission_with, implement_to_review};

/// The file each work package writes in its lane.
const WORK: [(&str, &str); 4] = [
    ("WP01", "src/store/db.py"),
    ("WP02", "src/cli.py"),
    ("WP03", "src/done.py"),
    ("WP04", "tests/test_e2e.py"),
];

fn approve(env: &TestEnv, repo: &Path, slug: &str, wp: &str) -> anyhow::Result<()> {
    env.json_data(
        repo,
        &[
            "review",
            "approve",
            wp,
            "--mission",
            slug,
            "--actor",
            "claude",
        ],
    )?;
    Ok(())
}

/// Finishes the mission with missionctl; returns the repository and the mission.
fn finished_mission(env: &TestEnv) -> anyhow::Result<(std::path::PathBuf, String)> {
    let (repo, slug) = four_wp_mission_with(
        env,
        "finished",
        &[("spec.md", SPEC), ("plan.md", PLAN), ("tasks.md", TASKS)],
    )?;
    for (wp, file) in WORK {
        implement_to_review(env, &repo, &slug, wp, file)?;
        if wp == "WP01" {
            // Work is still being implemented: no finish gate yet.
            let text = env
                .run_in(&repo, ["next", "--mission", &slug])
                .success()
                .stdout;
            assert!(!text.contains("waits for"), "{text}");
        }
        if wp == "WP02" {
            // One rejection cycle: feedback, fix mode, the work again, then the approval.
            env.json_data(
                &repo,
                &[
                    "review",
                    "start",
                    wp,
                    "--mission",
                    &slug,
                    "--actor",
                    "claude",
                ],
            )?;
            let feedback = env.root().join("feedback.md");
            std::fs::write(&feedback, PEER_FEEDBACK)?;
            let rejected = env.json_data(
                &repo,
                &[
                    "review",
                    "reject",
                    wp,
                    "--mission",
                    &slug,
                    "--feedback-file",
                    feedback.to_str().unwrap_or_default(),
                ],
            )?;
            assert_eq!(rejected["to_lane"], "planned");
            implement_to_review(env, &repo, &slug, wp, file)?;
        }
        approve(env, &repo, &slug, wp)?;
    }
    // `next` leads on: every work package approved, the merge is the gate.
    let next = env.json_data(&repo, &["next", "--mission", &slug])?;
    assert_eq!(next["mission_state"], "accept", "{next}");
    let text = env
        .run_in(&repo, ["next", "--mission", &slug])
        .success()
        .stdout;
    assert!(
        text.contains(&format!("  run        missionctl merge --mission {slug}\n")),
        "{text}"
    );

    let merged = env.json_data(&repo, &["merge", "--mission", &slug])?;
    assert!(merged.is_object(), "{merged}");
    let text = env
        .run_in(&repo, ["next", "--mission", &slug])
        .success()
        .stdout;
    assert!(
        text.contains(&format!(
            "  run        missionctl accept --mission {slug}\n"
        )),
        "{text}"
    );
    for criterion in ["FR-001", "FR-002", "FR-003"] {
        pass(env, &repo, &slug, criterion)?;
    }
    env.json_data(
        &repo,
        &[
            "accept",
            "--mission",
            &slug,
            "--actor",
            "claude",
            "--lenient",
        ],
    )?;
    Ok((repo, slug))
}

#[test]
fn a_mission_finished_with_missionctl_alone_is_done_for_spec_kitty() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = finished_mission(&env)?;
    let next = env.json_data(&repo, &["next", "--mission", &slug])?;
    assert_eq!(next["mission_state"], "done", "{next}");
    let text = env
        .run_in(&repo, ["next", "--mission", &slug])
        .success()
        .stdout;
    assert!(!text.contains("waits for"), "{text}");
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    let log = env.git(&repo, &["log", "-n", "2", "--format=%s"])?;
    assert_eq!(
        log,
        format!("Record acceptance commit for {slug}\nAccept {slug}\n")
    );

    let Some(spec_kitty) =
        spec_kitty("a_mission_finished_with_missionctl_alone_is_done_for_spec_kitty")
    else {
        return Ok(());
    };
    let home = env.root().join("home");
    let run = |args: &[&str]| -> anyhow::Result<(Option<i32>, Value)> {
        let output = run_spec_kitty(&spec_kitty, &home, &repo, args)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let start = stdout.find('{').unwrap_or(0);
        let value: Value = serde_json::from_str(&stdout[start..]).map_err(|error| {
            anyhow::anyhow!(
                "{args:?}: {error}\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        Ok((output.status.code(), value))
    };
    let (code, board) = run(&["agent", "tasks", "status", "--mission", &slug, "--json"])?;
    assert_eq!(code, Some(0), "{board}");
    let lanes: Vec<(String, String)> = board["work_packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|wp| {
            (
                wp["id"].as_str().unwrap_or_default().to_owned(),
                wp["lane"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        lanes,
        WORK.iter()
            .map(|(wp, _)| ((*wp).to_owned(), "done".to_owned()))
            .collect::<Vec<_>>(),
        "{board}"
    );
    let (code, next) = run(&["next", "--agent", "claude", "--mission", &slug, "--json"])?;
    assert_eq!(code, Some(0), "{next}");
    assert_eq!(next["mission_state"], "done", "{next}");
    let (code, diagnosis) = run(&[
        "accept",
        "--mission",
        &slug,
        "--diagnose",
        "--lenient",
        "--json",
    ])?;
    assert_eq!(code, Some(0), "{diagnosis}");
    for list in [
        "activity_issues",
        "metadata_issues",
        "unchecked_tasks",
        "needs_clarification",
        "missing_artifacts",
        "git_dirty",
        "path_violations",
        "failed_checks",
    ] {
        assert_eq!(
            diagnosis[list],
            serde_json::json!([]),
            "{list}: {diagnosis}"
        );
    }
    assert_eq!(diagnosis["ok"], true, "{diagnosis}");
    assert_eq!(
        diagnosis["done_wps"],
        serde_json::json!(["WP01", "WP02", "WP03", "WP04"])
    );
    // missionctl's own diagnosis agrees.
    let ours = env.json_data(
        &repo,
        &["accept", "--mission", &slug, "--diagnose", "--lenient"],
    )?;
    assert_eq!(ours["ok"], true, "{ours}");
    assert_eq!(ours["summary"]["warnings"], diagnosis["warnings"]);
    assert_eq!(
        ours["summary"]["optional_missing"],
        diagnosis["optional_missing"]
    );
    Ok(())
}
