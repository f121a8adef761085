//! Mission runs on real repositories: new runs carry the mission's identity and name a template
//! file Spec Kitty can load, old files load, the index is found from both sides, query mode
//! writes nothing on any topology and reads a run as Spec Kitty does, and advancing resolves the
//! context of every action.

use missionctl_core::mission::run::{FeatureRunsIndex, MissionRunSnapshot};
use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::next::{DecisionKind, MissionState, StepResult};
use missionctl_core::text::sha256::hex_digest;
use missionctl_store::clock::{FixedClock, SystemClock};
use missionctl_store::mission::action_context::{
    Action, ActionRequest, ResolutionKind, resolve_action_context,
};
use missionctl_store::repo::Repo;
use missionctl_store::runtime::{
    NextOutcome, RunError, TemplateSearch, advance_next, find_mission_run, list_runs, query_next,
    show_run, start_mission_run,
};
use missionctl_store::status::{MissionStatus, TransitionRequest};

use crate::common::{NOW_MICROS, TestRepo, TestResult, protected};

const ALL_TOPOLOGIES: [MissionTopology; 4] = [
    MissionTopology::SingleBranch,
    MissionTopology::Lanes,
    MissionTopology::Coord,
    MissionTopology::LanesWithCoord,
];

const SPEC: &str = "# Spec\n\n| ID | Title | Description |\n|---|---|---|\n| FR-001 | Add | The CLI adds a task |\n";
const PLAN: &str =
    "# Plan\n\n## Technical Context\n\n**Language/Version**: Rust 1.89\n**Storage**: JSON\n";

/// Writes the planning artifacts of a mission with two work packages (WP02 depends on WP01).
fn write_planning(repo: &TestRepo, slug: &str) -> TestResult {
    let dir = format!("kitty-specs/{slug}");
    repo.write(&format!("{dir}/spec.md"), SPEC)?;
    repo.write(&format!("{dir}/plan.md"), PLAN)?;
    repo.write(&format!("{dir}/tasks.md"), "# Tasks\n")?;
    repo.write(
        &format!("{dir}/tasks/WP01-first.md"),
        "---\nwork_package_id: WP01\ntitle: First\ndependencies: []\n---\n# WP01\n",
    )?;
    repo.write(
        &format!("{dir}/tasks/WP02-second.md"),
        "---\nwork_package_id: WP02\ntitle: Second\ndependencies: [WP01]\n---\n# WP02\n",
    )?;
    Ok(())
}

/// Moves a work package through the status aggregate (forced, so guards do not get in the way).
fn force_move(repo: &TestRepo, slug: &str, wp_id: &str, to: &str) -> TestResult {
    let status = MissionStatus::load(&repo.repo()?, slug, &protected())?;
    status.transition(
        &TransitionRequest {
            wp_id: wp_id.to_owned(),
            to_lane: to.to_owned(),
            actor: Some("tester".to_owned()),
            reason: Some("test setup".to_owned()),
            force: true,
            ..TransitionRequest::default()
        },
        &SystemClock,
    )?;
    Ok(())
}

/// Only the built-in templates: the tests never look at the user's home.
fn search() -> TemplateSearch {
    TemplateSearch::default()
}

fn query(repo: &Repo, handle: &str, clock: &FixedClock) -> Result<NextOutcome, RunError> {
    query_next(repo, handle, Some("claude"), &search(), clock)
}

fn advance(
    repo: &Repo,
    handle: &str,
    result: StepResult,
    clock: &FixedClock,
) -> Result<NextOutcome, RunError> {
    advance_next(repo, handle, "claude", result, &search(), clock)
}

fn status_context<'a>(handle: &'a str) -> ActionRequest<'a> {
    ActionRequest {
        mission: handle,
        action: Action::Status,
        wp_id: None,
        agent: None,
    }
}

#[test]
fn new_runs_carry_the_mission_identity_everywhere() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("invoice-export", Some(MissionTopology::Lanes), 1)?;
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let context = resolve_action_context(&repo.repo()?, &status_context(&created.mid8))?;
    let run = start_mission_run(&repo.repo()?, &context, &search(), &clock)?;
    assert_eq!(run.mission_id.as_deref(), Some(created.mission_id.as_str()));
    assert_eq!(
        run.mission_slug.as_deref(),
        Some(created.mission_slug.as_str())
    );

    let runtime = repo.path(".kittify/runtime");
    let state = std::fs::read(runtime.join("runs").join(&run.run_id).join("state.json"))?;
    let snapshot = MissionRunSnapshot::parse(&state)?;
    assert_eq!(
        snapshot.mission_id.as_deref(),
        Some(created.mission_id.as_str())
    );
    assert_eq!(
        snapshot.mission_slug.as_deref(),
        Some(created.mission_slug.as_str())
    );
    assert!(
        !state.ends_with(b"\n"),
        "Spec Kitty writes state.json without a newline"
    );
    // The template path names the run's frozen copy, whose bytes hash to the recorded hash:
    // Spec Kitty's query opens it.
    let frozen = runtime
        .join("runs")
        .join(&run.run_id)
        .join("mission_template_frozen.yaml");
    assert_eq!(snapshot.template_path, frozen.display().to_string());
    assert_eq!(snapshot.template_hash, hex_digest(&std::fs::read(&frozen)?));

    let index = FeatureRunsIndex::parse(&std::fs::read(runtime.join("feature-runs.json"))?)?;
    let entry = index
        .entry(&created.mission_slug)
        .ok_or("the mission has an entry")?;
    assert_eq!(
        entry.mission_id.as_deref(),
        Some(created.mission_id.as_str())
    );
    assert_eq!(
        entry.mission_slug.as_deref(),
        Some(created.mission_slug.as_str())
    );
    assert_eq!(entry.run_dir, run.run_dir);

    // The reverse lookup: ULID -> slug and run, through the index.
    let (slug, by_id) = index
        .find_by_mission_id(&created.mission_id)
        .ok_or("found by ULID")?;
    assert_eq!(
        (slug.as_str(), by_id.run_id.as_str()),
        (created.mission_slug.as_str(), run.run_id.as_str())
    );
    let shown = show_run(&repo.repo()?, &created.mission_id)?;
    assert_eq!(shown.run, run);
    assert_eq!(
        shown.mission_slug.as_deref(),
        Some(created.mission_slug.as_str())
    );
    assert_eq!(shown.events.len(), 1);
    assert_eq!(shown.events[0].event_type, "MissionRunStarted");
    // ... and by run id, and by any other handle.
    assert_eq!(show_run(&repo.repo()?, &run.run_id)?.run, run);
    assert_eq!(show_run(&repo.repo()?, &created.mid8)?.run, run);
    Ok(())
}

#[test]
fn files_without_the_identity_fields_load() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("old-run", Some(MissionTopology::SingleBranch), 2)?;
    let run_id = "0123456789abcdef0123456789abcdef";
    // An index entry and a state.json as Spec Kitty wrote them before the identity existed.
    repo.write(
        ".kittify/runtime/feature-runs.json",
        &format!(
            "{{\n  \"{}\": {{\n    \"run_dir\": \"/elsewhere/runs/{run_id}\",\n    \"run_id\": \"{run_id}\"\n  }}\n}}",
            created.mission_slug
        ),
    )?;
    repo.write(
        &format!(".kittify/runtime/runs/{run_id}/state.json"),
        &format!(
            "{{\"run_id\": \"{run_id}\", \"mission_key\": \"software-dev\", \"template_path\": \"p\", \"template_hash\": \"h\", \"issued_step_id\": \"specify\"}}"
        ),
    )?;
    let context = resolve_action_context(&repo.repo()?, &status_context(&created.mission_slug))?;
    let run = find_mission_run(&context.runtime, &created.mission_slug)?.ok_or("the run loads")?;
    assert_eq!(run.snapshot.mission_id, None);
    assert_eq!(run.snapshot.mission_slug, None);
    assert_eq!(run.run.run_id, run_id);
    // The ULID is not in the old entry, but any handle still finds the run.
    assert_eq!(
        show_run(&repo.repo()?, &created.mission_id)?.run.run_id,
        run_id
    );
    let listed = list_runs(&repo.repo()?)?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].mission_id, None);
    assert_eq!(listed[0].issued_step_id.as_deref(), Some("specify"));
    Ok(())
}

#[test]
fn query_mode_leaves_every_topology_byte_identical() -> TestResult {
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    for (n, topology) in ALL_TOPOLOGIES.into_iter().enumerate() {
        let repo = TestRepo::new()?;
        let created = repo.create("query-only", Some(topology), n)?;
        let slug = created.mission_slug.clone();
        for stage in 0..3 {
            match stage {
                0 => {}
                1 => {
                    write_planning(&repo, &slug)?;
                    force_move(&repo, &slug, "WP01", "planned")?;
                    force_move(&repo, &slug, "WP02", "planned")?;
                }
                _ => {
                    // A run exists too: query reads it and still writes nothing.
                    advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
                }
            }
            let before = repo.snapshot()?;
            let outcome = query(&repo.repo()?, &created.mid8, &clock)?;
            let decision = &outcome.decision;
            assert_eq!(decision.kind, DecisionKind::Query);
            assert!(decision.is_query);
            assert_eq!(repo.snapshot()?, before, "{topology:?} stage {stage}");
            // A fresh mission has not started; a finalized board implements its first ready
            // work package, run or no run.
            let expected = if stage == 0 {
                ("not_started", Some("discovery"), None)
            } else {
                ("implement", Some("implement"), Some("WP01"))
            };
            assert_eq!(
                (
                    decision.mission_state.as_str(),
                    decision.preview_step.as_deref(),
                    decision.wp_id.as_deref()
                ),
                expected,
                "{topology:?} stage {stage}"
            );
            assert_eq!(outcome.run.is_some(), stage == 2);
            assert_eq!(decision.run_id.is_some(), stage == 2);
            if stage == 0 {
                assert!(
                    !repo.path(".kittify").exists(),
                    "{topology:?}: nothing under .kittify"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn advancing_resolves_the_context_of_every_action() -> TestResult {
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    for (n, topology) in ALL_TOPOLOGIES.into_iter().enumerate() {
        let repo = TestRepo::new()?;
        let created = repo.create("parity", Some(topology), n)?;
        let slug = created.mission_slug.clone();
        let dir = format!("kitty-specs/{slug}");
        let mut seen = Vec::new();
        for expected in [
            MissionState::Specify,
            MissionState::Plan,
            MissionState::Tasks,
            MissionState::Implement,
            MissionState::Review,
            MissionState::Accept,
        ] {
            match expected {
                MissionState::Specify => {}
                MissionState::Plan => repo.write(&format!("{dir}/spec.md"), SPEC)?,
                MissionState::Tasks => repo.write(&format!("{dir}/plan.md"), PLAN)?,
                MissionState::Implement => {
                    write_planning(&repo, &slug)?;
                    force_move(&repo, &slug, "WP01", "planned")?;
                    force_move(&repo, &slug, "WP02", "planned")?;
                }
                MissionState::Review => {
                    force_move(&repo, &slug, "WP01", "for_review")?;
                    force_move(&repo, &slug, "WP02", "done")?;
                }
                _ => force_move(&repo, &slug, "WP01", "approved")?,
            }
            let advanced = advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
            let decision = &advanced.decision;
            assert_eq!(decision.mission_state, expected.as_str(), "{topology:?}");
            assert_eq!(decision.kind, DecisionKind::Step);
            assert_eq!(decision.step_id.as_deref(), Some(expected.as_str()));
            let context = advanced.context.as_ref().ok_or("a context")?;
            assert_eq!(context.action.as_str(), expected.as_str());
            // A query reads the run the advance wrote, as Spec Kitty's query does: the issued
            // step while planning, the finalized board after.
            let queried = query(&repo.repo()?, &slug, &clock)?;
            assert_eq!(queried.run, advanced.run);
            assert_eq!(queried.decision.mission_state, expected.as_str());
            seen.push(expected);
            if expected.is_work_package_step() {
                let wp = context.work_package.as_ref().ok_or("a work package")?;
                assert_eq!(wp.wp_id, "WP01");
                assert_eq!(decision.wp_id.as_deref(), Some("WP01"));
                assert_eq!(wp.resolution_kind, ResolutionKind::RepoRoot);
                assert_eq!(wp.workspace_path, repo.root());
            }
        }
        assert_eq!(seen.len(), 6);
        // Every advance used the one run the first one started.
        assert_eq!(list_runs(&repo.repo()?)?.len(), 1);
    }
    Ok(())
}

#[test]
fn a_reported_acceptance_ends_the_mission() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("to-the-end", Some(MissionTopology::Lanes), 3)?;
    let slug = created.mission_slug.clone();
    write_planning(&repo, &slug)?;
    for wp in ["WP01", "WP02"] {
        force_move(&repo, &slug, wp, "done")?;
    }
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let accept = advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
    assert!(accept.started);
    assert_eq!(accept.decision.mission_state, "accept");
    let done = advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
    assert!(!done.started);
    assert_eq!(done.decision.kind, DecisionKind::Terminal);
    assert_eq!(
        done.decision.reason.as_deref(),
        Some("All work packages are done")
    );
    let queried = query(&repo.repo()?, &slug, &clock)?;
    assert_eq!(queried.decision.mission_state, "done");
    let shown = show_run(&repo.repo()?, &slug)?;
    assert_eq!(shown.state["issued_step_id"], serde_json::Value::Null);
    let kinds: Vec<&str> = shown
        .events
        .iter()
        .map(|event| event.event_type.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "MissionRunStarted",
            "NextStepIssued",
            "NextStepAutoCompleted"
        ]
    );
    Ok(())
}

#[test]
fn a_failure_blocks_the_run_until_a_success() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("blocked", Some(MissionTopology::SingleBranch), 4)?;
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let handle = created.mission_slug.as_str();
    advance(&repo.repo()?, handle, StepResult::Success, &clock)?;
    let failed = advance(&repo.repo()?, handle, StepResult::Failed, &clock)?;
    let reason = "Previous step 'specify' failed; manual intervention required.";
    assert_eq!(failed.decision.kind, DecisionKind::Blocked);
    assert_eq!(failed.decision.reason.as_deref(), Some(reason));
    let queried = query(&repo.repo()?, handle, &clock)?.decision;
    assert_eq!(
        (queried.mission_state.as_str(), queried.reason.as_deref()),
        ("blocked", Some(reason))
    );
    let resumed = advance(&repo.repo()?, handle, StepResult::Success, &clock)?;
    assert_eq!(resumed.decision.kind, DecisionKind::Step);
    assert_eq!(resumed.decision.mission_state, "specify");
    Ok(())
}

#[test]
fn a_corrupt_index_is_read_as_empty_but_never_overwritten() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("corrupt", Some(MissionTopology::SingleBranch), 5)?;
    repo.write(".kittify/runtime/feature-runs.json", "{not json")?;
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let queried = query(&repo.repo()?, &created.mission_slug, &clock)?;
    assert_eq!(queried.run, None);
    let error = advance(
        &repo.repo()?,
        &created.mission_slug,
        StepResult::Success,
        &clock,
    )
    .expect_err("refuses to overwrite");
    assert_eq!(error.code(), "FEATURE_RUNS_INVALID");
    assert_eq!(
        std::fs::read(repo.path(".kittify/runtime/feature-runs.json"))?,
        b"{not json"
    );
    assert!(!repo.path(".kittify/runtime/runs").exists());
    Ok(())
}

#[test]
fn actions_and_work_packages_are_checked() -> TestResult {
    assert_eq!(
        Action::parse("deploy").map_err(|e| e.code()).err(),
        Some("INVALID_ACTION")
    );
    let repo = TestRepo::new()?;
    let created = repo.create("checks", Some(MissionTopology::Lanes), 6)?;
    let slug = created.mission_slug.clone();
    write_planning(&repo, &slug)?;
    let request = |action, wp_id| ActionRequest {
        mission: &slug,
        action,
        wp_id,
        agent: Some("claude"),
    };
    // Nothing in review yet.
    let error = resolve_action_context(&repo.repo()?, &request(Action::Review, None))
        .expect_err("nothing to review");
    assert_eq!(error.code(), "WORK_PACKAGE_UNRESOLVED");
    let error = resolve_action_context(&repo.repo()?, &request(Action::Implement, Some("W1")))
        .expect_err("bad id");
    assert_eq!(error.code(), "INVALID_WP_ID");
    // An explicit id is uppercased and cut at the first `-`; the lanes.json lane is used.
    repo.write(
        &format!("kitty-specs/{slug}/lanes.json"),
        "{\"lanes\": [{\"lane_id\": \"lane-a\", \"wp_ids\": [\"WP01\"]}, {\"lane_id\": \"lane-planning\", \"wp_ids\": [\"WP02\"]}]}\n",
    )?;
    let context = resolve_action_context(
        &repo.repo()?,
        &request(Action::Implement, Some("wp01-first")),
    )?;
    let wp = context.work_package.ok_or("a work package")?;
    assert_eq!(wp.wp_id, "WP01");
    assert_eq!(wp.lane_id.as_deref(), Some("lane-a"));
    assert_eq!(wp.resolution_kind, ResolutionKind::LaneWorkspace);
    assert_eq!(wp.branch_name, format!("kitty/mission-{slug}-lane-a"));
    assert_eq!(
        wp.workspace_path,
        repo.path(&format!(".worktrees/{slug}-lane-a"))
    );
    // Without an explicit id, implement takes the first planned file.
    let context = resolve_action_context(&repo.repo()?, &request(Action::Implement, None))?;
    let wp = context.work_package.ok_or("a work package")?;
    assert_eq!((wp.wp_id.as_str(), wp.dependencies.len()), ("WP01", 0));
    let context = resolve_action_context(&repo.repo()?, &request(Action::Implement, Some("WP02")))?;
    let wp = context.work_package.ok_or("a work package")?;
    assert_eq!(wp.resolution_kind, ResolutionKind::RepoRoot);
    assert_eq!(wp.dependencies, ["WP01"]);
    Ok(())
}

/// Rewrites a key of a mission's `meta.json`.
fn set_meta(repo: &TestRepo, slug: &str, key: &str, value: serde_json::Value) -> TestResult {
    let path = repo.path(&format!("kitty-specs/{slug}/meta.json"));
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    meta[key] = value;
    std::fs::write(&path, serde_json::to_vec_pretty(&meta)?)?;
    Ok(())
}

#[test]
fn a_merged_mission_is_done_or_in_conflict_and_starts_no_run() -> TestResult {
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let repo = TestRepo::new()?;
    let created = repo.create("merged", Some(MissionTopology::Lanes), 7)?;
    let slug = created.mission_slug.clone();
    write_planning(&repo, &slug)?;
    force_move(&repo, &slug, "WP01", "done")?;
    force_move(&repo, &slug, "WP02", "canceled")?;
    // Not merged (no mission number): the finalized board says what is left.
    let board = query(&repo.repo()?, &slug, &clock)?.decision;
    assert_eq!(
        (board.mission_state.as_str(), board.reason.as_deref()),
        ("blocked", Some("no actionable wp"))
    );
    // Merged: WP02 was canceled by an operator (a reason of its own), an acceptable ending.
    set_meta(&repo, &slug, "mission_number", serde_json::json!(42))?;
    let done = query(&repo.repo()?, &slug, &clock)?.decision;
    assert_eq!(
        (
            done.mission_state.as_str(),
            done.reason.as_deref(),
            done.progress
        ),
        ("done", Some("All work packages are done"), None)
    );
    // A work package that did not end well is a conflict.
    force_move(&repo, &slug, "WP02", "in_review")?;
    let conflict = query(&repo.repo()?, &slug, &clock)?.decision;
    assert_eq!(conflict.mission_state, "blocked");
    assert_eq!(
        conflict.reason.as_deref(),
        Some(
            "Merged mission has committed work packages that are not an acceptable ending (conflict)"
        )
    );
    // Advancing answers the same way, as `blocked`, and starts no run.
    let advanced = advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
    assert_eq!(advanced.decision.kind, DecisionKind::Blocked);
    assert!(!advanced.decision.is_query);
    assert!(!repo.path(".kittify/runtime").exists());
    Ok(())
}

#[test]
fn a_run_is_read_through_the_template_it_names() -> TestResult {
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let repo = TestRepo::new()?;
    let created = repo.create("template-path", Some(MissionTopology::SingleBranch), 8)?;
    let slug = created.mission_slug.clone();
    let started = advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
    let run_id = started.decision.run_id.clone().ok_or("a run")?;
    let state_path = repo.path(&format!(".kittify/runtime/runs/{run_id}/state.json"));
    let state = std::fs::read(&state_path)?;
    let mut snapshot = MissionRunSnapshot::parse(&state)?;

    // A template that changed under the run blocks it, as Spec Kitty's drift check does.
    let frozen = std::path::PathBuf::from(&snapshot.template_path);
    let mut bytes = std::fs::read(&frozen)?;
    bytes.extend_from_slice(b"# edited\n");
    std::fs::write(&frozen, &bytes)?;
    let drifted = query(&repo.repo()?, &slug, &clock)?.decision;
    assert_eq!(
        (drifted.mission_state.as_str(), drifted.reason.as_deref()),
        (
            "specify",
            Some("Template changed during active run. Migration required.")
        )
    );

    // A template path that names no file fails the query (Spec Kitty's
    // QUERY_MODE_VALIDATION_FAILED), as it did for runs written by older missionctl versions.
    snapshot.template_path = "missionctl:builtin/software-dev/mission-runtime.yaml".to_owned();
    std::fs::write(&state_path, snapshot.to_json_string())?;
    let error = query(&repo.repo()?, &slug, &clock).expect_err("no template");
    assert_eq!(error.code(), "QUERY_MODE_VALIDATION_FAILED");
    assert!(
        error.to_string().starts_with(&format!(
            "Could not read query state for mission '{slug}': "
        )),
        "{error}"
    );
    // Advancing such a run names its frozen copy again; the query reads it then.
    std::fs::write(&frozen, &bytes[..bytes.len() - b"# edited\n".len()])?;
    advance(&repo.repo()?, &slug, StepResult::Success, &clock)?;
    let repaired = MissionRunSnapshot::parse(&std::fs::read(&state_path)?)?;
    assert_eq!(repaired.template_path, frozen.display().to_string());
    assert_eq!(
        query(&repo.repo()?, &slug, &clock)?.decision.mission_state,
        "specify"
    );
    Ok(())
}

#[test]
fn missions_of_every_type_are_queried_and_only_software_dev_is_advanced() -> TestResult {
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let repo = TestRepo::new()?;
    let created = repo.create("study", Some(MissionTopology::SingleBranch), 9)?;
    let slug = created.mission_slug.clone();
    for (mission_type, first_step) in [
        ("research", "scoping"),
        ("documentation", "discover"),
        ("plan", "specify"),
    ] {
        set_meta(
            &repo,
            &slug,
            "mission_type",
            serde_json::json!(mission_type),
        )?;
        let decision = query(&repo.repo()?, &slug, &clock)?.decision;
        assert_eq!(
            (
                decision.mission_type.as_str(),
                decision.mission_state.as_str(),
                decision.preview_step.as_deref()
            ),
            (mission_type, "not_started", Some(first_step))
        );
        let error = advance(&repo.repo()?, &slug, StepResult::Success, &clock)
            .expect_err("advancing is for software-dev");
        assert_eq!(error.code(), "MISSION_TYPE_UNSUPPORTED");
    }
    // A type no tier has a template for fails the query, as in Spec Kitty.
    set_meta(
        &repo,
        &slug,
        "mission_type",
        serde_json::json!("unheard-of"),
    )?;
    let error = query(&repo.repo()?, &slug, &clock).expect_err("no template");
    assert_eq!(error.code(), "QUERY_MODE_VALIDATION_FAILED");
    // `run start` starts a run of any type its template resolves.
    set_meta(&repo, &slug, "mission_type", serde_json::json!("research"))?;
    let context = resolve_action_context(&repo.repo()?, &status_context(&slug))?;
    let run = start_mission_run(&repo.repo()?, &context, &search(), &clock)?;
    assert_eq!(run.mission_key, "research");
    let decision = query(&repo.repo()?, &slug, &clock)?.decision;
    assert_eq!(
        (decision.mission_state.as_str(), decision.run_id.as_deref()),
        ("not_started", Some(run.run_id.as_str()))
    );
    Ok(())
}
