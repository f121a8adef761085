//! `missionctl run start|list|show`: concurrent starts lose nothing, runs are found by run id,
//! by mission ULID and by any handle, and Spec Kitty's own runtime files load.

use std::path::Path;

use serde_json::Value;

use crate::common::{CommandOutput, TestEnv, TestResult};
use crate::test_next::{MISSION_IDS, add_mission, new_repo};

fn data(output: &CommandOutput) -> anyhow::Result<Value> {
    let document = output.json()?;
    anyhow::ensure!(document["ok"] == Value::Bool(true), "{document}");
    Ok(document["data"].clone())
}

/// Runs `run start --mission <handle> --json` from one process per handle, all at once.
fn start_concurrently(
    env: &TestEnv,
    repo: &Path,
    handles: &[String],
) -> anyhow::Result<Vec<Value>> {
    let outputs: Vec<CommandOutput> = std::thread::scope(|scope| {
        let workers: Vec<_> = handles
            .iter()
            .map(|handle| {
                scope.spawn(move || {
                    env.run_in(repo, ["run", "start", "--mission", handle, "--json"])
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("the worker thread does not panic"))
            .collect()
    });
    outputs
        .into_iter()
        .map(|output| data(&output.success()))
        .collect()
}

fn index(repo: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(repo.join(".kittify/runtime/feature-runs.json"))?;
    Ok(serde_json::from_str(&text)?)
}

#[test]
fn four_concurrent_starts_all_land_in_the_index() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    let mut slugs = Vec::new();
    for (n, id) in MISSION_IDS.iter().enumerate() {
        slugs.push(add_mission(&env, &repo, &format!("race{n}"), id)?);
    }
    let started = start_concurrently(&env, &repo, &slugs)?;
    assert!(started.iter().all(|data| data["started"] == true));
    let index = index(&repo)?;
    assert_eq!(
        index.as_object().map(|entries| entries.len()),
        Some(4),
        "{index}"
    );
    for ((slug, id), data) in slugs.iter().zip(MISSION_IDS).zip(&started) {
        let entry = &index[slug.as_str()];
        assert_eq!(entry["mission_id"], id);
        assert_eq!(entry["mission_slug"], slug.as_str());
        assert_eq!(entry["run_id"], data["run"]["run_id"]);
        assert_eq!(data["run"]["mission_id"], id);
    }
    // Starting again, again all at once: every mission keeps its run.
    let again = start_concurrently(&env, &repo, &slugs)?;
    for (first, second) in started.iter().zip(&again) {
        assert_eq!(second["started"], false);
        assert_eq!(second["run"], first["run"]);
    }
    // Four agents starting the same mission at once get one run between them.
    let same = vec![MISSION_IDS[0].to_owned(); 4];
    let raced = start_concurrently(&env, &repo, &same)?;
    assert!(raced.iter().all(|data| data["run"] == started[0]["run"]));
    let runs = data(&env.run_in(&repo, ["run", "list", "--json"]).success())?;
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(4));
    Ok(())
}

#[test]
fn a_run_is_shown_by_run_id_by_ulid_and_by_handle() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    let slug = add_mission(&env, &repo, "shown", MISSION_IDS[0])?;
    let output = env.run_in(&repo, ["run", "show", &slug, "--json"]).code(1);
    assert_eq!(output.json_error()?["code"], "RUN_NOT_FOUND");
    let empty = env.run_in(&repo, ["run", "list"]).success();
    insta::assert_snapshot!(empty, @"No mission runs yet; `missionctl next --mission <m> --agent <a> --result success` starts one");
    let started = data(
        &env.run_in(&repo, ["run", "start", "--mission", &slug, "--json"])
            .success(),
    )?;
    let run_id = started["run"]["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for selector in [
        run_id.as_str(),
        MISSION_IDS[0],
        &MISSION_IDS[0][..8],
        slug.as_str(),
    ] {
        let shown = data(
            &env.run_in(&repo, ["run", "show", selector, "--json"])
                .success(),
        )?;
        assert_eq!(shown["run"], started["run"], "{selector}");
        assert_eq!(shown["mission_slug"], slug.as_str());
        assert_eq!(shown["state"]["mission_id"], MISSION_IDS[0]);
        assert_eq!(shown["index_entry"]["mission_id"], MISSION_IDS[0]);
        assert_eq!(shown["events"][0]["event_type"], "MissionRunStarted");
    }
    let listed = data(&env.run_in(&repo, ["run", "list", "--json"]).success())?;
    let run = &listed["runs"][0];
    assert_eq!(run["run_id"], run_id.as_str());
    assert_eq!(run["mission_id"], MISSION_IDS[0]);
    assert_eq!(run["indexed"], true);
    assert_eq!(run["problem"], Value::Null);
    Ok(())
}

#[test]
fn spec_kittys_own_runtime_files_load() -> TestResult {
    let env = TestEnv::new()?;
    let repo = new_repo(&env)?;
    // The peer run's mission (its meta.json) and its `.kittify/runtime`, as Spec Kitty left them.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let slug = "task-list-01M803MD";
    let mission_dir = repo.join("kitty-specs").join(slug);
    std::fs::create_dir_all(&mission_dir)?;
    let meta = format!(
        "{{\n  \"mission_id\": \"01M803MDRS53V2DGSWAJD0E9EW\",\n  \"mission_slug\": \"{slug}\",\n  \"mission_type\": \"software-dev\",\n  \"slug\": \"{slug}\",\n  \"target_branch\": \"feature/x\",\n  \"topology\": \"lanes\"\n}}\n"
    );
    std::fs::write(mission_dir.join("meta.json"), meta)?;
    let runtime = repo.join(".kittify/runtime");
    let run_dir = runtime.join("runs/1887a5dd9dde4bbd95028902d8cf5025");
    std::fs::create_dir_all(&run_dir)?;
    let peer = fixtures.join("peer-run-3.2.7/runtime");
    std::fs::copy(
        peer.join("feature-runs.json"),
        runtime.join("feature-runs.json"),
    )?;
    for file in [
        "state.json",
        "run.events.jsonl",
        "mission_template_frozen.yaml",
    ] {
        std::fs::copy(
            peer.join("runs/1887a5dd9dde4bbd95028902d8cf5025")
                .join(file),
            run_dir.join(file),
        )?;
    }
    let shown = data(
        &env.run_in(
            &repo,
            ["run", "show", "01M803MDRS53V2DGSWAJD0E9EW", "--json"],
        )
        .success(),
    )?;
    assert_eq!(shown["run"]["run_id"], "1887a5dd9dde4bbd95028902d8cf5025");
    // Written before the identity was passed: null in the state, present in the index.
    assert_eq!(shown["state"]["mission_id"], Value::Null);
    assert_eq!(shown["state"]["issued_step_id"], "implement");
    assert_eq!(
        shown["index_entry"]["mission_id"],
        "01M803MDRS53V2DGSWAJD0E9EW"
    );
    assert_eq!(shown["events"].as_array().map(Vec::len), Some(10));
    let text = env.run_in(&repo, ["run", "show", slug]).success();
    insta::assert_snapshot!(text, @r"
    run        1887a5dd9dde4bbd95028902d8cf5025
    mission    task-list-01M803MD (-)
    template   software-dev
    completed  discovery, specify, plan, tasks
    issued     implement
    blocked    -
    directory  $TEST_ENV/repo/.kittify/runtime/runs/1887a5dd9dde4bbd95028902d8cf5025
    events     10
      2026-11-21T22:33:09.492990+00:00  MissionRunStarted
      2026-11-21T22:33:09.511680+00:00  NextStepIssued discovery
      2026-11-21T22:33:14.758474+00:00  NextStepAutoCompleted discovery
      2026-11-21T22:33:14.760955+00:00  NextStepIssued specify
      2026-11-21T22:33:26.558825+00:00  NextStepAutoCompleted specify
      2026-11-21T22:33:26.578472+00:00  NextStepIssued plan
      2026-11-21T22:33:37.794595+00:00  NextStepAutoCompleted plan
      2026-11-21T22:33:37.813291+00:00  NextStepIssued tasks
      2026-11-21T22:33:57.267535+00:00  NextStepAutoCompleted tasks
      2026-11-21T22:33:57.278774+00:00  NextStepIssued implement
    ");
    // The run names the template of the peer's Spec Kitty installation: on a machine without
    // it, a query fails as Spec Kitty's does, and writes nothing.
    let before = std::fs::read(run_dir.join("state.json"))?;
    let output = env
        .run_in(&repo, ["next", "--mission", slug, "--json"])
        .code(1);
    assert_eq!(output.json_error()?["code"], "QUERY_MODE_VALIDATION_FAILED");
    assert_eq!(std::fs::read(run_dir.join("state.json"))?, before);
    // With that installation's template where the run says it is, the query reads the run as
    // Spec Kitty does: `implement` is issued and nothing else is eligible until it completes.
    let venv = env.root().join("venv");
    let template = venv.join("lib/python3.11/site-packages/specify_cli/missions/software-dev");
    std::fs::create_dir_all(&template)?;
    std::fs::copy(
        run_dir.join("mission_template_frozen.yaml"),
        template.join("mission-runtime.yaml"),
    )?;
    let state = String::from_utf8(before)?.replace("<venv>", &venv.display().to_string());
    std::fs::write(run_dir.join("state.json"), &state)?;
    let query = data(
        &env.run_in(&repo, ["next", "--mission", slug, "--json"])
            .success(),
    )?;
    assert_eq!(query["run_id"], "1887a5dd9dde4bbd95028902d8cf5025");
    assert_eq!(query["mission_state"], "implement");
    assert_eq!(query["step_id"], "implement");
    assert_eq!(
        query["reason"],
        "No eligible steps: remaining steps have unmet dependencies."
    );
    assert_eq!(std::fs::read_to_string(run_dir.join("state.json"))?, state);
    Ok(())
}
