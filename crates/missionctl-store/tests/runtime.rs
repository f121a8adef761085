//! Mission runs on real repositories: new runs carry the mission's identity, old files load,
//! the index is found from both sides, query mode writes nothing on any topology, and query and
//! advance resolve the same context for every action.

use missionctl_core::next::{MissionState, PlanKind, StepResult};
use missionctl_core::run::{FeatureRunsIndex, MissionRunSnapshot};
use missionctl_core::topology::MissionTopology;
use missionctl_store::clock::{FixedClock, SystemClock};
use missionctl_store::mission::action_context::{
    Action, ActionRequest, ResolutionKind, resolve_action_context,
};
use missionctl_store::runtime::{
    advance_next, find_mission_run, list_runs, query_next, show_run, start_mission_run,
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
    let run = start_mission_run(&repo.repo()?, &context, &clock)?;
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
                    advance_next(&repo.repo()?, &slug, "claude", StepResult::Success, &clock)?;
                }
            }
            let before = repo.snapshot()?;
            let outcome = query_next(&repo.repo()?, &created.mid8, Some("claude"), &clock)?;
            assert!(outcome.is_query);
            assert_eq!(repo.snapshot()?, before, "{topology:?} stage {stage}");
            let expected = if stage == 0 {
                MissionState::Specify
            } else {
                MissionState::Implement
            };
            assert_eq!(
                outcome.next.mission_state, expected,
                "{topology:?} stage {stage}"
            );
            assert_eq!(outcome.run.is_some(), stage == 2);
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
fn query_and_advance_resolve_the_same_context_for_every_action() -> TestResult {
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
            let query = query_next(&repo.repo()?, &slug, Some("claude"), &clock)?;
            let advanced =
                advance_next(&repo.repo()?, &slug, "claude", StepResult::Success, &clock)?;
            assert_eq!(query.next.mission_state, expected, "{topology:?}");
            assert_eq!(advanced.next.mission_state, expected, "{topology:?}");
            assert_eq!(advanced.next.kind, PlanKind::Step);
            assert_eq!(query.context, advanced.context, "{topology:?} {expected:?}");
            assert_eq!(query.context.action.as_str(), expected.as_str());
            // A second query now reads the run the advance wrote and still agrees.
            let again = query_next(&repo.repo()?, &slug, Some("claude"), &clock)?;
            assert_eq!(again.context, advanced.context);
            assert_eq!(again.run, advanced.run);
            seen.push(expected);
            if expected.is_work_package_step() {
                let wp = query
                    .context
                    .work_package
                    .as_ref()
                    .ok_or("a work package")?;
                assert_eq!(wp.wp_id, "WP01");
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
    let accept = advance_next(&repo.repo()?, &slug, "claude", StepResult::Success, &clock)?;
    assert!(accept.started);
    assert_eq!(accept.next.mission_state, MissionState::Accept);
    let done = advance_next(&repo.repo()?, &slug, "claude", StepResult::Success, &clock)?;
    assert!(!done.started);
    assert_eq!(done.next.kind, PlanKind::Terminal);
    assert_eq!(
        done.next.reason.as_deref(),
        Some("All work packages are done")
    );
    let query = query_next(&repo.repo()?, &slug, None, &clock)?;
    assert_eq!(query.next.mission_state, MissionState::Done);
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
    advance_next(&repo.repo()?, handle, "claude", StepResult::Success, &clock)?;
    let failed = advance_next(&repo.repo()?, handle, "claude", StepResult::Failed, &clock)?;
    assert_eq!(failed.next.kind, PlanKind::Blocked);
    assert_eq!(
        failed.next.reason.as_deref(),
        Some("Previous step 'specify' failed; manual intervention required.")
    );
    assert_eq!(
        query_next(&repo.repo()?, handle, None, &clock)?.next.kind,
        PlanKind::Blocked
    );
    let resumed = advance_next(&repo.repo()?, handle, "claude", StepResult::Success, &clock)?;
    assert_eq!(resumed.next.kind, PlanKind::Step);
    assert_eq!(resumed.next.mission_state, MissionState::Specify);
    Ok(())
}

#[test]
fn a_corrupt_index_is_read_as_empty_but_never_overwritten() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("corrupt", Some(MissionTopology::SingleBranch), 5)?;
    repo.write(".kittify/runtime/feature-runs.json", "{not json")?;
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let query = query_next(&repo.repo()?, &created.mission_slug, None, &clock)?;
    assert_eq!(query.run, None);
    let error = advance_next(
        &repo.repo()?,
        &created.mission_slug,
        "claude",
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
