//! `missionctl next`: Spec Kitty's decision fields, a query that writes nothing and answers as
//! Spec Kitty's query does, and an advancing loop that walks a mission from its spec to its
//! acceptance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, TestResult};

/// The ids of the missions the tests write (valid ULIDs, distinct mid8s).
pub(crate) const MISSION_IDS: [&str; 4] = [
    "01M0M9D8R83DDKSZ62QKGV3YW0",
    "01M0M9D9R83DDKSZ62QKGV3YW1",
    "01M0M9DAR83DDKSZ62QKGV3YW2",
    "01M0M9DBR83DDKSZ62QKGV3YW3",
];

/// Returns a git repository under the environment, on `feature/x`, with one commit.
pub(crate) fn new_repo(env: &TestEnv) -> anyhow::Result<PathBuf> {
    let repo = env.root().join("repo");
    std::fs::create_dir(&repo)?;
    env.git(&repo, &["init", "-q", "-b", "main"])?;
    env.git(&repo, &["config", "user.name", "Test Author"])?;
    env.git(&repo, &["config", "user.email", "author@example.com"])?;
    env.git(&repo, &["config", "commit.gpgsign", "false"])?;
    std::fs::write(repo.join("README.md"), "hello\n")?;
    env.git(&repo, &["add", "README.md"])?;
    env.git(&repo, &["commit", "-q", "-m", "initial"])?;
    env.git(&repo, &["switch", "-q", "-c", "feature/x"])?;
    Ok(repo)
}

/// Writes and commits a `single_branch` mission's `meta.json` (as `mission create` would) and
/// returns its directory name.
pub(crate) fn add_mission(
    env: &TestEnv,
    repo: &Path,
    human: &str,
    mission_id: &str,
) -> anyhow::Result<String> {
    let slug = format!("{human}-{}", &mission_id[..8]);
    let dir = repo.join("kitty-specs").join(&slug);
    std::fs::create_dir_all(&dir)?;
    let meta = format!(
        "{{\n  \"created_at\": \"2026-08-22T08:29:15.913164+00:00\",\n  \"flattened\": false,\n  \"friendly_name\": \"{human}\",\n  \"mission_id\": \"{mission_id}\",\n  \"mission_number\": null,\n  \"mission_slug\": \"{slug}\",\n  \"mission_type\": \"software-dev\",\n  \"purpose_context\": \"Test\",\n  \"purpose_tldr\": \"Test\",\n  \"slug\": \"{slug}\",\n  \"target_branch\": \"feature/x\",\n  \"topology\": \"single_branch\"\n}}\n"
    );
    std::fs::write(dir.join("meta.json"), meta)?;
    env.git(repo, &["add", "kitty-specs"])?;
    env.git(repo, &["commit", "-q", "-m", &format!("mission {slug}")])?;
    Ok(slug)
}

/// Every file under a root with its bytes, `.git` excluded; then the refs and `HEAD`, and the
/// index file's bytes.
pub(crate) type RepositoryState = (BTreeMap<PathBuf, Vec<u8>>, String, Vec<u8>);

/// Returns everything a write could change in the repository at `root`.
pub(crate) fn repository_state(env: &TestEnv, root: &Path) -> anyhow::Result<RepositoryState> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let relative = path.strip_prefix(root)?.to_path_buf();
            if relative == Path::new(".git") {
                continue;
            }
            if path.is_dir() {
                files.insert(relative, Vec::new());
                pending.push(path);
            } else {
                files.insert(relative, std::fs::read(&path)?);
            }
        }
    }
    let refs = env.git(root, &["for-each-ref", "--format=%(refname) %(objectname)"])?
        + &env.git(root, &["symbolic-ref", "HEAD"])?;
    let index = std::fs::read(root.join(".git/index"))?;
    Ok((files, refs, index))
}

const SPEC: &str = "# Spec\n\n| ID | Title | Description |\n|---|---|---|\n| FR-001 | Add | The CLI adds a task |\n";
const PLAN: &str =
    "# Plan\n\n## Technical Context\n\n**Language/Version**: Rust 1.89\n**Storage**: JSON\n";

fn data(output: &crate::common::CommandOutput) -> anyhow::Result<Value> {
    let document = output.json()?;
    anyhow::ensure!(document["ok"] == Value::Bool(true), "{document}");
    Ok(document["data"].clone())
}

#[test]
fn a_query_has_spec_kittys_fields_and_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    let slug = add_mission(&env, &repo, "task-list", MISSION_IDS[0])?;
    let before = repository_state(&env, &repo)?;
    let output = env
        .run_in(&repo, ["next", "--mission", "01M0M9D8", "--json"])
        .success();
    let decision = data(&output)?;
    // Spec Kitty's field order, as printed (a parsed `Value` sorts its keys).
    let order = [
        "kind",
        "agent",
        "mission_slug",
        "mission_number",
        "mission_type",
        "mission",
        "mission_state",
        "timestamp",
        "action",
        "wp_id",
        "workspace_path",
        "prompt_file",
        "reason",
        "guard_failures",
        "progress",
        "origin",
        "run_id",
        "step_id",
        "decision_id",
        "input_key",
        "question",
        "options",
        "is_query",
        "preview_step",
        "mission_id",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|key| {
            output
                .stdout
                .find(&format!("\"{key}\":"))
                .unwrap_or(usize::MAX)
        })
        .collect();
    assert!(
        positions.is_sorted() && !positions.contains(&usize::MAX),
        "{}",
        output.stdout
    );
    assert_eq!(
        decision.as_object().map(|object| object.len()),
        Some(order.len())
    );
    assert_eq!(decision["kind"], "query");
    assert_eq!(decision["is_query"], true);
    assert_eq!(decision["mission_slug"], slug.as_str());
    assert_eq!(decision["mission_id"], MISSION_IDS[0]);
    assert_eq!(decision["mission"], "software-dev");
    assert_eq!(decision["mission_type"], "software-dev");
    assert_eq!(decision["mission_number"], "");
    // A mission whose run has not started previews the template's first step; query mode
    // looks at no artifact, so there are no guard failures and no action.
    assert_eq!(decision["mission_state"], "not_started");
    assert_eq!(decision["preview_step"], "discovery");
    assert_eq!(decision["action"], Value::Null);
    assert_eq!(decision["run_id"], Value::Null);
    assert_eq!(decision["guard_failures"], serde_json::json!([]));
    assert_eq!(decision["origin"], serde_json::json!({}));
    // Query mode: the repository is byte-identical (files, refs, HEAD, index), with or
    // without an agent, in text and in JSON.
    env.run_in(&repo, ["next", "--mission", &slug, "--agent", "claude"])
        .success();
    assert_eq!(repository_state(&env, &repo)?, before);
    assert!(!repo.join(".kittify").exists());
    Ok(())
}

#[test]
fn advancing_walks_a_mission_from_spec_to_done() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    let slug = add_mission(&env, &repo, "walk", MISSION_IDS[1])?;
    let dir = repo.join("kitty-specs").join(&slug);
    let advance = |expected: &str| -> anyhow::Result<Value> {
        let output = env
            .run_in(
                &repo,
                [
                    "next",
                    "--mission",
                    &slug,
                    "--agent",
                    "claude",
                    "--result",
                    "success",
                    "--json",
                ],
            )
            .success();
        let decision = data(&output)?;
        anyhow::ensure!(
            decision["mission_state"] == expected,
            "expected {expected}: {decision}"
        );
        Ok(decision)
    };
    let first = advance("specify")?;
    assert_eq!(first["kind"], "step");
    assert_eq!(first["is_query"], false);
    let run_id = first["run_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(run_id.len(), 32);
    // The guard keeps the step until the artifact is there.
    assert_eq!(
        advance("specify")?["guard_failures"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    std::fs::write(dir.join("spec.md"), SPEC)?;
    advance("plan")?;
    std::fs::write(dir.join("plan.md"), PLAN)?;
    advance("tasks")?;
    std::fs::write(dir.join("tasks.md"), "# Tasks\n")?;
    std::fs::create_dir_all(dir.join("tasks"))?;
    std::fs::write(
        dir.join("tasks/WP01-only.md"),
        "---\nwork_package_id: WP01\ntitle: Only\ndependencies: []\n---\n# WP01\n",
    )?;
    let unfinalized = advance("tasks")?;
    assert_eq!(
        unfinalized["guard_failures"],
        serde_json::json!(["Not finalized (no status event yet): WP01"])
    );
    let moves: [&[&str]; 4] = [
        &["planned"],
        &["claimed", "in_progress"],
        &["for_review"],
        &["approved"],
    ];
    let expected = ["implement", "implement", "review", "accept"];
    for (lanes, state) in moves.into_iter().zip(expected) {
        for lane in lanes {
            env.run_in(
                &repo,
                [
                    "move",
                    "WP01",
                    "--to",
                    lane,
                    "--mission",
                    &slug,
                    "--actor",
                    "claude",
                    "--reason",
                    "test",
                    "--force",
                    "--json",
                ],
            )
            .success();
        }
        let decision = advance(state)?;
        assert_eq!(decision["run_id"], run_id.as_str(), "one run all along");
        if state != "accept" {
            assert_eq!(decision["wp_id"], "WP01");
            assert_eq!(decision["workspace_path"], repo.display().to_string());
            assert!(
                decision["prompt_file"]
                    .as_str()
                    .is_some_and(|path| path.ends_with("tasks/WP01-only.md"))
            );
        }
    }
    let done = advance("done")?;
    assert_eq!(done["kind"], "terminal");
    assert_eq!(
        done["reason"],
        "Mission accepted; every work package is approved or done"
    );
    // The query answers as Spec Kitty's does: the finalized board's work package is approved,
    // not done (merged), so the mission is at `accept` whatever the run says.
    let query = data(
        &env.run_in(&repo, ["next", "--mission", &slug, "--json"])
            .success(),
    )?;
    assert_eq!(query["kind"], "query");
    assert_eq!(query["mission_state"], "accept");
    assert_eq!(query["run_id"], run_id.as_str());
    // The run's state carries the mission's identity and names a template file whose bytes
    // hash to its `template_hash`, so Spec Kitty can load it.
    let state = std::fs::read_to_string(
        repo.join(".kittify/runtime/runs")
            .join(&run_id)
            .join("state.json"),
    )?;
    let state: Value = serde_json::from_str(&state)?;
    let template = std::fs::read(state["template_path"].as_str().unwrap_or_default())?;
    assert_eq!(
        state["template_hash"].as_str(),
        Some(missionctl_core::text::sha256::hex_digest(&template).as_str())
    );
    assert_eq!(state["mission_id"], MISSION_IDS[1]);
    assert_eq!(state["mission_slug"], slug.as_str());
    assert_eq!(
        state["completed_steps"],
        serde_json::json!([
            "discovery",
            "specify",
            "plan",
            "tasks",
            "implement",
            "review",
            "accept"
        ])
    );
    Ok(())
}

#[test]
fn bad_input_is_refused_before_anything_is_written() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    let slug = add_mission(&env, &repo, "refusals", MISSION_IDS[2])?;
    let before = repository_state(&env, &repo)?;
    let output = env
        .run_in(
            &repo,
            ["next", "--mission", &slug, "--result", "success", "--json"],
        )
        .code(2);
    assert_eq!(output.json_error()?["code"], "AGENT_REQUIRED");
    let output = env
        .run_in(
            &repo,
            [
                "next",
                "--mission",
                &slug,
                "--agent",
                "a",
                "--result",
                "maybe",
                "--json",
            ],
        )
        .code(2);
    assert_eq!(output.json_error()?["code"], "USAGE_ERROR");
    let output = env
        .run_in(
            &repo,
            [
                "next",
                "--mission",
                "no-such-mission",
                "--agent",
                "a",
                "--result",
                "success",
                "--json",
            ],
        )
        .code(1);
    let error = output.json_error()?;
    assert!(
        error["code"]
            .as_str()
            .is_some_and(|code| code.starts_with("MISSION_")),
        "{error}"
    );
    assert_eq!(repository_state(&env, &repo)?, before);
    Ok(())
}

#[test]
fn a_failure_blocks_until_a_success_is_reported() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    let slug = add_mission(&env, &repo, "blocking", MISSION_IDS[3])?;
    let next = |result: &str| {
        env.run_in(
            &repo,
            [
                "next",
                "--mission",
                &slug,
                "--agent",
                "claude",
                "--result",
                result,
                "--json",
            ],
        )
    };
    data(&next("success").success())?;
    let blocked = data(&next("failure").success())?;
    assert_eq!(blocked["kind"], "blocked");
    assert_eq!(
        blocked["reason"],
        "Previous step 'specify' failed; manual intervention required."
    );
    let query = env.run_in(&repo, ["next", "--mission", &slug]).success();
    insta::assert_snapshot!(query.to_string().replace(&slug, "[SLUG]"), @r"
    [SLUG]: blocked
      reason     Previous step 'specify' failed; manual intervention required.
    ");
    assert_eq!(data(&next("success").success())?["kind"], "step");
    Ok(())
}
