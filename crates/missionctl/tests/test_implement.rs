//! `missionctl implement` and `worktree repair` through the binary, on real repositories:
//! the four topologies, idempotence, worktrees deleted by hand, deleted lane branches.

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, mission};

#[test]
fn implement_on_every_topology_is_idempotent() -> TestResult {
    let env = TestEnv::new()?;
    for topology in ["single_branch", "lanes", "coord", "lanes_with_coord"] {
        let (repo, slug) = mission(&env, topology)?;
        add_three(&env, &repo, &slug)?;
        env.json_data(&repo, &["tasks", "finalize", &slug])?;
        let first = env.json_data(
            &repo,
            &["implement", "WP01", "--mission", &slug, "--actor", "claude"],
        )?;
        assert_eq!(first["from_lane"], "planned", "{topology}");
        assert_eq!(first["to_lane"], "in_progress");
        assert_eq!(first["event_ids"].as_array().map(Vec::len), Some(2));
        let workspace = first["workspace"].as_str().unwrap_or_default().to_owned();
        if topology.starts_with("lanes") {
            assert_eq!(first["worktree"], "created", "{topology}");
            assert_eq!(first["lane_id"], "lane-a");
            assert!(
                workspace.ends_with(&format!(".worktrees/{slug}-lane-a")),
                "{workspace}"
            );
            let mid8 = &slug[slug.len() - 8..];
            assert_eq!(
                first["branch"],
                format!("kitty/mission-task-list-{mid8}-lane-a")
            );
            let listed = env.git(&repo, &["worktree", "list", "--porcelain"])?;
            assert!(
                listed.contains(&format!(
                    "branch refs/heads/kitty/mission-task-list-{mid8}-lane-a"
                )),
                "{listed}"
            );
        } else {
            assert_eq!(first["worktree"], "none", "{topology}");
            assert_eq!(first["workspace_kind"], "repo_root");
            assert_eq!(first["branch"], "feature/x");
        }
        let board = env.json_data(&repo, &["wp", "list", &slug])?;
        assert_eq!(
            board["work_packages"][0]["lane"], "in_progress",
            "{topology}"
        );

        let settled = env.fingerprint(&repo)?;
        let again = env.json_data(
            &repo,
            &["implement", "WP01", "--mission", &slug, "--actor", "claude"],
        )?;
        assert_eq!(again["event_ids"], serde_json::json!([]), "{topology}");
        assert_eq!(
            env.fingerprint(&repo)?,
            settled,
            "{topology}: the second run wrote something"
        );

        let output = env
            .run_in(
                &repo,
                [
                    "implement",
                    "WP01",
                    "--mission",
                    &slug,
                    "--actor",
                    "codex",
                    "--json",
                ],
            )
            .code(1);
        assert_eq!(
            output.json_error()?["code"],
            "WORK_PACKAGE_CLAIM_CONFLICT",
            "{topology}"
        );
        let output = env
            .run_in(
                &repo,
                [
                    "implement",
                    "WP02",
                    "--mission",
                    &slug,
                    "--actor",
                    "claude",
                    "--json",
                ],
            )
            .code(1);
        assert_eq!(
            output.json_error()?["code"],
            "DEPENDENCIES_NOT_READY",
            "{topology}"
        );
        assert_eq!(
            env.fingerprint(&repo)?,
            settled,
            "{topology}: a refusal wrote something"
        );
    }
    Ok(())
}

#[test]
fn a_worktree_deleted_by_hand_is_repaired() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    let first = env.json_data(
        &repo,
        &["implement", "WP01", "--mission", &slug, "--actor", "claude"],
    )?;
    let workspace = std::path::PathBuf::from(first["workspace"].as_str().unwrap_or_default());
    std::fs::write(workspace.join("work.txt"), "committed work\n")?;
    env.git(&workspace, &["add", "work.txt"])?;
    env.git(&workspace, &["commit", "--quiet", "-m", "feat(WP01): work"])?;
    std::fs::remove_dir_all(&workspace)?;

    let repaired = env.json_data(&repo, &["worktree", "repair"])?;
    assert_eq!(repaired["rebuilt"], 1, "{repaired}");
    assert_eq!(repaired["problems"], 0);
    assert_eq!(repaired["worktrees"][0]["outcome"], "rebuilt");
    assert_eq!(
        std::fs::read_to_string(workspace.join("work.txt"))?,
        "committed work\n"
    );
    let again = env.run_in(&repo, ["worktree", "repair"]).success();
    assert!(again.stdout.contains("0 rebuilt, 0 to look at"), "{again}");
    Ok(())
}

#[test]
fn a_deleted_lane_branch_is_a_clear_error() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    let first = env.json_data(
        &repo,
        &["implement", "WP01", "--mission", &slug, "--actor", "claude"],
    )?;
    let branch = first["branch"].as_str().unwrap_or_default().to_owned();
    env.git(
        &repo,
        &["update-ref", "-d", &format!("refs/heads/{branch}")],
    )?;

    let before = env.fingerprint(&repo)?;
    let output = env
        .run_in(
            &repo,
            ["implement", "WP01", "--mission", &slug, "--actor", "claude"],
        )
        .code(1);
    assert!(
        output.stderr.starts_with(&format!(
            "error: The branch `{branch}` of lane-a no longer exists, but its worktree `"
        )),
        "{output}"
    );
    assert!(
        output.stderr.contains("hint: Restore the branch"),
        "{output}"
    );
    let output = env
        .run_in(&repo, ["worktree", "repair", "--mission", &slug, "--json"])
        .code(1);
    let document = output.json()?;
    assert_eq!(document["error"]["code"], "WORKTREE_REPAIR_INCOMPLETE");
    assert_eq!(env.fingerprint(&repo)?, before);
    Ok(())
}

/// A dependent work package claimed by a forced move before its lane was cut (its dependency is
/// approved, not merged) is implemented: the claim alone did not start its lane, so its missing
/// branch is cut rather than reported as `LANE_BRANCH_MISSING`.
#[test]
fn a_dependent_claimed_by_a_forced_move_is_implemented() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    env.json_data(
        &repo,
        &["implement", "WP01", "--mission", &slug, "--actor", "claude"],
    )?;
    env.json_data(
        &repo,
        &[
            "move",
            "WP02",
            "--to",
            "claimed",
            "--mission",
            &slug,
            "--actor",
            "claude",
            "--force",
            "--reason",
            "WP01 is approved; the merge lands them together",
        ],
    )?;
    let second = env.json_data(
        &repo,
        &["implement", "WP02", "--mission", &slug, "--actor", "claude"],
    )?;
    assert_eq!(second["from_lane"], "claimed", "{second}");
    assert_eq!(second["to_lane"], "in_progress");
    assert_eq!(second["worktree"], "created");
    Ok(())
}
