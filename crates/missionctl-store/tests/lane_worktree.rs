//! Lane worktrees against real git: `implement` on the four topologies, idempotence, merges
//! of dependency lanes, repair of worktrees deleted by hand, deleted lane branches and husks.

use std::path::PathBuf;

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::status::lane::Lane;
use missionctl_store::clock::SystemClock;
use missionctl_store::planning::tasks_finalize::{FinalizeOptions, finalize_tasks};
use missionctl_store::repo::Repo;
use missionctl_store::status::{MissionStatus, TransitionRequest};
use missionctl_store::worktree::lane::{
    ImplementOutcome, RepairOutcome, WorkspaceKind, WorktreeAction, implement, repair_worktrees,
    worktree_registry,
};

use crate::common::{TestRepo, TestResult, protected};
use crate::planning::planned_mission;

/// A finalized three-work-package mission (see [`planned_mission`]).
fn finalized(
    test: &TestRepo,
    topology: MissionTopology,
    n: usize,
) -> Result<String, Box<dyn std::error::Error>> {
    let mission = planned_mission(test, topology, n)?;
    let repo = test.repo()?;
    let protected = protected();
    finalize_tasks(
        &repo,
        &mission,
        &FinalizeOptions {
            validate_only: false,
            protected_branches: &protected,
        },
        &SystemClock,
    )?;
    Ok(mission)
}

fn run(
    repo: &Repo,
    mission: &str,
    wp_id: &str,
) -> Result<ImplementOutcome, missionctl_store::worktree::lane::WorktreeError> {
    implement(repo, mission, wp_id, "claude", &protected(), &SystemClock)
}

fn lane_of(repo: &Repo, mission: &str, wp_id: &str) -> Result<Lane, Box<dyn std::error::Error>> {
    Ok(MissionStatus::load(repo, mission, &protected())?
        .claim(wp_id)?
        .current_lane)
}

#[test]
fn implement_on_every_topology_and_again() -> TestResult {
    for (n, topology) in MissionTopology::ALL.into_iter().enumerate() {
        let test = TestRepo::new()?;
        let mission = finalized(&test, topology, 20 + n)?;
        let repo = test.repo()?;
        let outcome = run(&repo, &mission, "WP01")?;
        assert_eq!(outcome.from_lane, "planned", "{topology}");
        assert_eq!(outcome.event_ids.len(), 2, "{topology}");
        assert_eq!(lane_of(&repo, &mission, "WP01")?, Lane::InProgress);
        let lane_path = test.path(&format!(".worktrees/{mission}-lane-a"));
        if topology.has_lanes() {
            assert_eq!(outcome.workspace_kind, WorkspaceKind::LaneWorkspace);
            assert_eq!(outcome.worktree, WorktreeAction::Created);
            assert_eq!(outcome.workspace, lane_path);
            let mid8 = &mission[mission.len() - 8..];
            assert_eq!(
                outcome.branch,
                format!("kitty/mission-plan-demo-{mid8}-lane-a")
            );
            assert!(lane_path.join("README.md").is_file());
            let registered = worktree_registry(&repo)?;
            assert!(
                registered.iter().any(|entry| entry.path == lane_path
                    && entry.branch.as_deref() == Some(outcome.branch.as_str())),
                "{registered:?}"
            );
            let status_file = lane_path.join(format!("kitty-specs/{mission}/status.events.jsonl"));
            if topology == MissionTopology::LanesWithCoord {
                assert_eq!(
                    outcome.base.as_deref(),
                    Some(format!("kitty/mission-plan-demo-{mid8}").as_str())
                );
                assert!(
                    !status_file.exists(),
                    "the status files are hidden in a coordination lane"
                );
                assert!(
                    lane_path
                        .join(format!("kitty-specs/{mission}/meta.json"))
                        .is_file()
                );
            } else {
                assert!(
                    test.git(&[
                        "rev-parse",
                        "--verify",
                        "-q",
                        &format!("refs/heads/kitty/mission-plan-demo-{mid8}")
                    ])
                    .is_ok(),
                    "the mission branch was created"
                );
            }
        } else {
            assert_eq!(outcome.workspace_kind, WorkspaceKind::RepoRoot);
            assert_eq!(outcome.worktree, WorktreeAction::None);
            assert_eq!(outcome.workspace, test.root());
            assert_eq!(outcome.branch, "feature/x");
            assert!(!lane_path.exists());
        }

        let settled = test.snapshot()?;
        let again = run(&repo, &mission, "WP01")?;
        assert!(
            again.event_ids.is_empty() && again.receipt.is_none(),
            "{topology}"
        );
        if topology.has_lanes() {
            assert_eq!(again.worktree, WorktreeAction::Reused);
        }
        assert_eq!(
            test.snapshot()?,
            settled,
            "{topology}: the second run wrote something"
        );

        // WP02 waits for WP01.
        let before = test.snapshot()?;
        let error = run(&repo, &mission, "WP02").expect_err("WP01 is not done");
        assert_eq!(error.code(), "DEPENDENCIES_NOT_READY", "{topology}");
        assert_eq!(
            test.snapshot()?,
            before,
            "{topology}: a refused implement wrote something"
        );
    }
    Ok(())
}

#[test]
fn a_dependent_lane_starts_from_its_dependencies() -> TestResult {
    let test = TestRepo::new()?;
    let mission = planned_mission(&test, MissionTopology::Lanes, 30)?;
    let repo = test.repo()?;
    // WP03 gets its own lane that depends on lane-a.
    let path = test.path(&format!(
        "kitty-specs/{mission}/tasks/WP03-work-package-wp03.md"
    ));
    let text = std::fs::read_to_string(&path)?.replace("dependencies: []", "dependencies:\n- WP01");
    std::fs::write(&path, text)?;
    let protected = protected();
    finalize_tasks(
        &repo,
        &mission,
        &FinalizeOptions {
            validate_only: false,
            protected_branches: &protected,
        },
        &SystemClock,
    )?;
    let first = run(&repo, &mission, "WP01")?;
    let lane_a = first.workspace.clone();
    std::fs::create_dir_all(lane_a.join("src/a"))?;
    std::fs::write(lane_a.join("src/a/x.py"), "print('a')\n")?;
    crate::common::git_in(&lane_a, &["add", "src/a/x.py"])?;
    crate::common::git_in(&lane_a, &["commit", "-q", "-m", "feat(WP01): a"])?;
    // WP01 done (forced: the review is not the point here).
    let status = MissionStatus::load(&repo, &mission, &protected)?;
    status.transition(
        &TransitionRequest {
            wp_id: "WP01".to_owned(),
            to_lane: "done".to_owned(),
            actor: Some("operator".to_owned()),
            reason: Some("reviewed elsewhere".to_owned()),
            force: true,
            ..TransitionRequest::default()
        },
        &SystemClock,
    )?;
    let third = run(&repo, &mission, "WP03")?;
    assert_eq!(third.lane_id.as_deref(), Some("lane-b"));
    assert_eq!(third.merged, std::slice::from_ref(&first.branch));
    assert_eq!(
        std::fs::read_to_string(third.workspace.join("src/a/x.py"))?,
        "print('a')\n"
    );
    Ok(())
}

#[test]
fn worktrees_deleted_by_hand_are_repaired() -> TestResult {
    let test = TestRepo::new()?;
    let mission = finalized(&test, MissionTopology::LanesWithCoord, 40)?;
    let repo = test.repo()?;
    let outcome = run(&repo, &mission, "WP01")?;
    let lane = outcome.workspace.clone();
    let coordination = test.path(&format!(".worktrees/{mission}-coord"));
    assert!(coordination.join(".git").is_file());

    std::fs::remove_dir_all(&lane)?;
    std::fs::remove_dir_all(&coordination)?;
    let items = repair_worktrees(&repo, Some(&mission))?;
    let outcomes: Vec<(&str, Option<&str>, RepairOutcome)> = items
        .iter()
        .map(|item| (item.kind, item.lane_id.as_deref(), item.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("coordination", None, RepairOutcome::Rebuilt),
            ("lane", Some("lane-a"), RepairOutcome::Rebuilt),
            ("lane", Some("lane-b"), RepairOutcome::NotStarted),
        ]
    );
    assert!(lane.join(".git").is_file() && coordination.join(".git").is_file());
    assert!(
        !lane
            .join(format!("kitty-specs/{mission}/status.json"))
            .exists()
    );
    let settled = test.snapshot()?;
    let again = repair_worktrees(&repo, None)?;
    assert!(
        again.iter().all(|item| matches!(
            item.outcome,
            RepairOutcome::Healthy | RepairOutcome::NotStarted
        )),
        "{again:?}"
    );
    assert_eq!(test.snapshot()?, settled);
    // Status still reads and writes through the rebuilt coordination worktree.
    assert_eq!(lane_of(&repo, &mission, "WP01")?, Lane::InProgress);
    Ok(())
}

#[test]
fn a_deleted_lane_branch_is_a_clear_error() -> TestResult {
    let test = TestRepo::new()?;
    let mission = finalized(&test, MissionTopology::Lanes, 50)?;
    let repo = test.repo()?;
    let outcome = run(&repo, &mission, "WP01")?;
    let lane = outcome.workspace.clone();

    // The branch deleted under a registered worktree.
    test.git(&[
        "update-ref",
        "-d",
        &format!("refs/heads/{}", outcome.branch),
    ])?;
    let before = test.snapshot()?;
    let error = run(&repo, &mission, "WP01").expect_err("branch gone");
    assert_eq!(error.code(), "LANE_BRANCH_MISSING");
    assert!(error.to_string().contains("is still registered"), "{error}");
    assert_eq!(test.snapshot()?, before);
    let items = repair_worktrees(&repo, Some(&mission))?;
    assert_eq!(items[0].outcome, RepairOutcome::BranchMissing);

    // The worktree removed too: the lane's work had started, so it is not silently recreated.
    test.git(&["worktree", "remove", "--force", &lane.display().to_string()])?;
    let before = test.snapshot()?;
    let error = run(&repo, &mission, "WP01").expect_err("branch gone");
    assert_eq!(error.code(), "LANE_BRANCH_MISSING");
    assert!(
        error.to_string().contains("work in that lane has started"),
        "{error}"
    );
    assert_eq!(test.snapshot()?, before);
    Ok(())
}

#[test]
fn a_husk_is_never_trusted() -> TestResult {
    let test = TestRepo::new()?;
    let mission = finalized(&test, MissionTopology::Lanes, 60)?;
    let repo = test.repo()?;
    let husk: PathBuf = test.path(&format!(".worktrees/{mission}-lane-a"));
    std::fs::create_dir_all(&husk)?;
    std::fs::write(husk.join("notes.txt"), "mine\n")?;
    let before = test.snapshot()?;
    let error = run(&repo, &mission, "WP01").expect_err("a husk");
    assert_eq!(error.code(), "WORKTREE_UNREGISTERED");
    assert_eq!(test.snapshot()?, before);
    assert_eq!(lane_of(&repo, &mission, "WP01")?, Lane::Planned);
    let items = repair_worktrees(&repo, Some(&mission))?;
    assert_eq!(items[0].outcome, RepairOutcome::Husk);
    assert_eq!(std::fs::read_to_string(husk.join("notes.txt"))?, "mine\n");
    Ok(())
}
