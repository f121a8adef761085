//! `missionctl context` and `missionctl mission flatten` on real repositories: the create
//! window, a materialized, empty or deleted coordination surface, and a flattened mission whose
//! stale coordination worktree (a husk) is never consulted.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::git_repo::{FEATURE_BRANCH, write_mission};
use crate::common::{TestEnv, TestResult};

/// A mission created through the binary.
struct Created {
    slug: String,
    mission_id: String,
    mid8: String,
    branch: Option<String>,
}

fn create(env: &TestEnv, repo: &Path, slug: &str, topology: &str) -> anyhow::Result<Created> {
    let data = env.json_data(repo, &["mission", "create", slug, "--topology", topology])?;
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    Ok(Created {
        slug: text("mission_slug"),
        mission_id: text("mission_id"),
        mid8: text("mid8"),
        branch: data["coordination_branch"].as_str().map(str::to_owned),
    })
}

fn coordination_worktree(repo: &Path, created: &Created) -> PathBuf {
    repo.join(".worktrees")
        .join(format!("{}-coord", created.slug))
}

fn context(env: &TestEnv, repo: &Path, handle: &str) -> anyhow::Result<Value> {
    env.json_data(repo, &["context", "--mission", handle])
}

#[test]
fn a_coordination_less_mission_reads_and_writes_the_primary_checkout() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    for topology in ["single_branch", "lanes"] {
        let created = create(&env, &repo, &topology.replace('_', "-"), topology)?;
        let data = context(&env, &repo, &created.slug)?;
        let primary = repo.join("kitty-specs").join(&created.slug);
        assert_eq!(data["topology"], topology);
        assert_eq!(data["topology_stored"], true);
        assert_eq!(data["routes_through_coordination"], false);
        assert_eq!(data["probe"], Value::Null);
        assert_eq!(data["read_surface"], "primary");
        assert_eq!(data["read_dir"], primary.display().to_string());
        assert_eq!(data["write_dir"], primary.display().to_string());
        assert_eq!(data["destination_ref"], FEATURE_BRANCH);
        assert_eq!(data["coordination_branch"], Value::Null);
        assert_eq!(data["coordination_worktree"], Value::Null);
        let fragments = &data["context"];
        assert_eq!(
            fragments["identity"],
            json!({"mission_id": created.mission_id, "mid8": created.mid8, "mission_slug": created.slug})
        );
        assert_eq!(
            fragments["branch_ref"],
            json!({
                "target_branch": FEATURE_BRANCH,
                "coordination_branch": null,
                "destination_ref": {"ref": FEATURE_BRANCH},
            })
        );
        let relative = format!("kitty-specs/{}", created.slug);
        assert_eq!(
            fragments["status_surface"],
            json!({"status_read_dir": relative, "status_write_dir": relative})
        );
        assert_eq!(
            fragments["artifact_placement"]["placement_ref"],
            json!({"ref": FEATURE_BRANCH})
        );
        assert_eq!(fragments["workspace"]["coord_worktree"], Value::Null);
    }
    Ok(())
}

#[test]
fn a_coordination_mission_reads_primary_in_the_create_window_then_its_worktree() -> TestResult {
    let env = TestEnv::new()?;
    for topology in ["coord", "lanes_with_coord"] {
        // One repository each: missions created within the same 256 ms share a mid8.
        let repo = env.feature_repo(topology)?;
        let created = create(&env, &repo, &topology.replace('_', "-"), topology)?;
        let branch = created.branch.clone().unwrap_or_default();
        let worktree = coordination_worktree(&repo, &created);
        let coordination_dir = worktree.join("kitty-specs").join(&created.slug);
        let primary = repo.join("kitty-specs").join(&created.slug);

        // The create-window: the branch exists, its worktree does not yet.
        let data = context(&env, &repo, &created.mid8)?;
        assert_eq!(data["probe"], "unmaterialized");
        assert_eq!(data["read_surface"], "primary");
        assert_eq!(data["read_dir"], primary.display().to_string());
        assert_eq!(data["write_dir"], coordination_dir.display().to_string());
        assert_eq!(data["destination_ref"], branch);
        assert_eq!(data["routes_through_coordination"], true);
        assert_eq!(
            data["coordination_worktree"],
            worktree.display().to_string()
        );
        assert_eq!(
            data["context"]["artifact_placement"],
            json!({
                "placement_ref": {"ref": branch},
                "planning_dir": format!("kitty-specs/{}", created.slug),
                "planning_ref": {"ref": FEATURE_BRANCH},
            })
        );

        // Materialized: the worktree on the coordination branch holds the mission.
        env.git(
            &repo,
            &[
                "worktree",
                "add",
                "--quiet",
                &worktree.display().to_string(),
                &branch,
            ],
        )?;
        let data = context(&env, &repo, &created.mission_id)?;
        assert_eq!(data["probe"], "materialized");
        assert_eq!(data["read_surface"], "coordination");
        assert_eq!(data["read_dir"], coordination_dir.display().to_string());
        assert_eq!(data["write_dir"], coordination_dir.display().to_string());

        // From inside the coordination worktree the answer is the same.
        let inside = context(&env, &worktree, &created.slug)?;
        assert_eq!(inside["read_dir"], data["read_dir"]);
        assert_eq!(inside["primary_root"], repo.display().to_string());
    }
    Ok(())
}

#[test]
fn an_empty_coordination_worktree_fails_closed() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let created = create(&env, &repo, "invoice-export", "coord")?;
    std::fs::create_dir_all(coordination_worktree(&repo, &created))?;
    let output = env
        .run_in(&repo, ["context", "--mission", &created.slug, "--json"])
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "COORD_AUTHORITY_UNAVAILABLE");
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains("git worktree remove")),
        "{error}"
    );
    Ok(())
}

#[test]
fn a_coordination_branch_gone_everywhere_fails_closed() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let created = create(&env, &repo, "invoice-export", "lanes_with_coord")?;
    let branch = created.branch.clone().unwrap_or_default();
    let tip = env.git(&repo, &["rev-parse", &branch])?;

    // Gone locally but still on a remote: not deleted, the create-window reads primary.
    env.git(&repo, &["branch", "--quiet", "-D", &branch])?;
    env.git(
        &repo,
        &[
            "update-ref",
            &format!("refs/remotes/origin/{branch}"),
            tip.trim(),
        ],
    )?;
    let data = context(&env, &repo, &created.slug)?;
    assert_eq!(data["probe"], "unmaterialized");
    assert_eq!(data["read_surface"], "primary");

    // Gone locally and from every remote: deleted, and nothing is guessed.
    env.git(
        &repo,
        &["update-ref", "-d", &format!("refs/remotes/origin/{branch}")],
    )?;
    for handle in [&created.slug, &created.mid8, &created.mission_id] {
        let output = env
            .run_in(&repo, ["context", "--mission", handle.as_str(), "--json"])
            .code(1);
        let error = output.json_error()?;
        assert_eq!(error["code"], "COORDINATION_BRANCH_DELETED", "{handle}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| message.contains(&branch)),
            "{error}"
        );
    }
    let output = env
        .run_in(&repo, ["context", "--mission", &created.slug])
        .code(1);
    let text = output.to_string().replace(&created.mid8, "[MID8]");
    insta::assert_snapshot!(text, @r"
    ------- stderr -------
    error: Mission `invoice-export-[MID8]`: Coordination branch `kitty/mission-invoice-export-[MID8]` was deleted; refusing to read status from another surface
    hint: If the mission was merged, run `missionctl mission flatten --mission invoice-export-[MID8]` to drop the coordination branch from its shape; otherwise restore the branch
    [exit status: 1]
    ");
    // The advice works: once flattened, the mission reads the primary checkout.
    env.json_data(&repo, &["mission", "flatten", &created.slug])?;
    let data = context(&env, &repo, &created.slug)?;
    assert_eq!(data["read_surface"], "primary");
    assert_eq!(data["topology"], "single_branch");
    Ok(())
}

#[test]
fn flatten_then_context_reads_primary_even_with_a_stale_husk() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let created = create(&env, &repo, "invoice-export", "coord")?;
    let branch = created.branch.clone().unwrap_or_default();
    let worktree = coordination_worktree(&repo, &created);
    env.git(
        &repo,
        &[
            "worktree",
            "add",
            "--quiet",
            &worktree.display().to_string(),
            &branch,
        ],
    )?;
    // The husk holds a log that disagrees with the primary one.
    let husk_log = worktree
        .join("kitty-specs")
        .join(&created.slug)
        .join("status.events.jsonl");
    std::fs::write(&husk_log, "stale\n")?;
    let meta_path = repo
        .join("kitty-specs")
        .join(&created.slug)
        .join("meta.json");

    let data = env.json_data(&repo, &["mission", "flatten", &created.slug])?;
    assert_eq!(data["changed"], true);
    assert_eq!(data["removed_coordination_branch"], branch);
    assert_eq!(data["previous_topology"], "coord");
    assert_eq!(data["topology"], "single_branch");
    assert_eq!(data["meta_path"], meta_path.display().to_string());
    assert_eq!(data["leftover_worktree"], worktree.display().to_string());
    let meta: Value = serde_json::from_slice(&std::fs::read(&meta_path)?)?;
    // As Spec Kitty's flatten: no stored topology left; it is derived (`single_branch`).
    assert_eq!(meta.get("topology"), None);
    assert_eq!(meta["flattened"], true);
    assert_eq!(meta.get("coordination_branch"), None);
    // Not committed: left for the user to review.
    assert_eq!(
        env.git(&repo, &["status", "--porcelain"])?,
        format!(" M kitty-specs/{}/meta.json\n", created.slug)
    );

    // Every handle form resolves to the primary checkout; the husk is never probed, even after
    // its branch is deleted.
    let primary = repo.join("kitty-specs").join(&created.slug);
    for delete_branch in [false, true] {
        if delete_branch {
            env.git(
                &repo,
                &[
                    "worktree",
                    "remove",
                    "--force",
                    &worktree.display().to_string(),
                ],
            )?;
            std::fs::create_dir_all(husk_log.parent().unwrap_or(&worktree))?;
            std::fs::write(&husk_log, "stale\n")?;
            env.git(&repo, &["branch", "--quiet", "-D", &branch])?;
        }
        for handle in [
            created.slug.as_str(),
            created.mid8.as_str(),
            created.mission_id.as_str(),
            "invoice-export",
        ] {
            let data = context(&env, &repo, handle)?;
            assert_eq!(data["read_surface"], "primary", "{handle}");
            assert_eq!(data["read_dir"], primary.display().to_string(), "{handle}");
            assert_eq!(data["write_dir"], primary.display().to_string(), "{handle}");
            assert_eq!(data["probe"], Value::Null, "{handle}");
            assert_eq!(data["flattened"], true, "{handle}");
            assert_eq!(data["coordination_worktree"], Value::Null, "{handle}");
        }
    }

    // A second flatten changes nothing.
    let before = std::fs::read(&meta_path)?;
    let data = env.json_data(&repo, &["mission", "flatten", &created.slug])?;
    assert_eq!(data["changed"], false);
    assert_eq!(std::fs::read(&meta_path)?, before);
    Ok(())
}

#[test]
fn flatten_keeps_lanes_and_says_what_it_did() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let created = create(&env, &repo, "invoice-export", "lanes_with_coord")?;
    let dir = repo.join("kitty-specs").join(&created.slug);
    std::fs::write(dir.join("lanes.json"), r#"{"version": 1, "lanes": []}"#)?;
    let output = env
        .run_in(&repo, ["mission", "flatten", &created.slug])
        .success();
    insta::assert_snapshot!(output.to_string().replace(&created.mid8, "[MID8]"), @r"
    Flattened `invoice-export-[MID8]`: coordination branch `kitty/mission-invoice-export-[MID8]` dropped from its shape, topology now `lanes`
    `$TEST_ENV/repo/kitty-specs/invoice-export-[MID8]/meta.json` is rewritten and not committed: review it and commit it
    ");
    let output = env
        .run_in(&repo, ["mission", "flatten", &created.slug])
        .success();
    insta::assert_snapshot!(output.to_string().replace(&created.mid8, "[MID8]"), @"`invoice-export-[MID8]` has no coordination branch (topology `lanes`); nothing to flatten");
    Ok(())
}

#[test]
fn a_mission_flattened_by_spec_kitty_reads_primary() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    // Spec Kitty's flatten removes `topology` and `coordination_branch`; a husk is left.
    write_mission(
        &repo,
        "invoice-export-01M0M9D8",
        &json!({"mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "flattened": true}),
    )?;
    let husk =
        repo.join(".worktrees/invoice-export-01M0M9D8-coord/kitty-specs/invoice-export-01M0M9D8");
    std::fs::create_dir_all(&husk)?;
    std::fs::write(husk.join("status.events.jsonl"), "stale\n")?;
    let data = context(&env, &repo, "invoice-export")?;
    assert_eq!(data["topology"], "single_branch");
    assert_eq!(data["topology_stored"], false);
    assert_eq!(data["read_surface"], "primary");
    assert_eq!(data["probe"], Value::Null);
    Ok(())
}

#[test]
fn context_says_where_everything_lives() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let created = create(&env, &repo, "invoice-export", "lanes_with_coord")?;
    let output = env
        .run_in(&repo, ["context", "--mission", &created.slug])
        .success();
    let text = output
        .to_string()
        .replace(&created.mission_id, "[MISSION_ID]")
        .replace(&created.mid8, "[MID8]");
    insta::assert_snapshot!(text, @r"
    Mission `invoice-export-[MID8]` (lanes_with_coord, stored)
      mission id            [MISSION_ID] (mid8 [MID8])
      target branch         feature/x
      coordination branch   kitty/mission-invoice-export-[MID8]
      status commits to     kitty/mission-invoice-export-[MID8]
      primary checkout      $TEST_ENV/repo
      planning dir          $TEST_ENV/repo/kitty-specs/invoice-export-[MID8]
      coordination worktree $TEST_ENV/repo/.worktrees/invoice-export-[MID8]-coord (unmaterialized)
      read surface          primary ($TEST_ENV/repo/kitty-specs/invoice-export-[MID8])
      write dir             $TEST_ENV/repo/.worktrees/invoice-export-[MID8]-coord/kitty-specs/invoice-export-[MID8]
    ");
    Ok(())
}

#[test]
fn context_needs_a_mission() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let output = env.run_in(&repo, ["context", "--json"]).code(2);
    assert_eq!(output.json_error()?["code"], "USAGE_ERROR");
    // A mission directory without a mission id cannot be resolved into a context.
    write_mission(&repo, "007-legacy", &json!({}))?;
    let output = env
        .run_in(&repo, ["context", "--mission", "007-legacy", "--json"])
        .code(1);
    assert_eq!(output.json_error()?["code"], "MISSION_IDENTITY_MISSING");
    Ok(())
}
