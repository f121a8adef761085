//! `missionctl mission create|list|show`: real repositories, every topology, every handle
//! form, and refusals that leave the repository byte-identical.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::git_repo::{FEATURE_BRANCH, write_mission};
use crate::common::{CommandOutput, TestEnv, TestResult};

/// Returns the output with the created mission's id, mid8 and commit replaced by
/// placeholders, for snapshots.
fn normalize_created(output: &CommandOutput, data: &Value) -> String {
    let text = output.to_string();
    let id = data["mission_id"].as_str().unwrap_or("?");
    let mid8 = data["mid8"].as_str().unwrap_or("?");
    let commit = data["commit"].as_str().unwrap_or("?");
    text.replace(id, "[MISSION_ID]")
        .replace(commit.get(..12).unwrap_or(commit), "[COMMIT]")
        .replace(mid8, "[MID8]")
}

/// Runs a command that must fail with `--json`: exit 1, one document, the given code; returns
/// the error object.
#[track_caller]
fn expect_error(env: &TestEnv, dir: &Path, args: &[&str], code: &str) -> anyhow::Result<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let output = env.run_in(dir, &all).code(1);
    let error = output.json_error()?;
    anyhow::ensure!(
        error["code"] == code,
        "{args:?}: expected {code}, got {error}"
    );
    anyhow::ensure!(output.stderr.is_empty(), "stderr: {}", output.stderr);
    Ok(error)
}

#[test]
fn creates_each_topology_on_the_current_branch() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    for (slug, topology) in [
        ("flat-one", "single_branch"),
        ("laned-one", "lanes"),
        ("coordinated-one", "coord"),
        ("both-kinds", "lanes_with_coord"),
    ] {
        let data = env.json_data(&repo, &["mission", "create", slug, "--topology", topology])?;
        let id = data["mission_id"].as_str().unwrap_or_default();
        let mid8 = &id[..8];
        let dir_name = format!("{slug}-{mid8}");
        assert_eq!(id.len(), 26, "{data}");
        assert_eq!(data["mid8"], mid8);
        assert_eq!(data["mission_slug"], dir_name);
        assert_eq!(data["topology"], topology);
        assert_eq!(data["topology_requested"], true);
        assert_eq!(data["target_branch"], FEATURE_BRANCH);
        assert_eq!(data["checked_out"], true);
        let mission_dir = repo.join("kitty-specs").join(&dir_name);
        assert_eq!(data["mission_dir"], mission_dir.display().to_string());
        assert_eq!(
            data["commit"].as_str(),
            Some(env.git(&repo, &["rev-parse", FEATURE_BRANCH])?.trim())
        );

        let coordinated = topology.contains("coord");
        let branch = format!("kitty/mission-{slug}-{mid8}");
        if coordinated {
            assert_eq!(data["coordination_branch"], branch);
            // Created at the mission's commit, so a worktree of it holds the mission.
            assert_eq!(
                env.git(&repo, &["rev-parse", &branch])?,
                env.git(&repo, &["rev-parse", FEATURE_BRANCH])?
            );
        } else {
            assert_eq!(data["coordination_branch"], Value::Null);
            assert_eq!(env.git(&repo, &["branch", "--list", &branch])?, "");
        }

        let meta: Value = serde_json::from_slice(&std::fs::read(mission_dir.join("meta.json"))?)?;
        assert_eq!(meta["topology"], topology);
        assert_eq!(meta["mission_id"], id);
        assert_eq!(meta["flattened"], false);
        assert_eq!(
            meta.get("coordination_branch").is_some(),
            coordinated,
            "{meta}"
        );
        let committed = env.git(
            &repo,
            &["ls-files", "--", &format!("kitty-specs/{dir_name}")],
        )?;
        assert_eq!(
            committed,
            format!(
                "kitty-specs/{dir_name}/meta.json\nkitty-specs/{dir_name}/spec.md\n\
                 kitty-specs/{dir_name}/status.events.jsonl\n\
                 kitty-specs/{dir_name}/tasks/.gitkeep\nkitty-specs/{dir_name}/tasks/README.md\n"
            )
        );
    }
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    assert_eq!(
        env.git(&repo, &["rev-list", "--count", FEATURE_BRANCH])?,
        "5\n"
    );
    Ok(())
}

#[test]
fn create_says_what_was_created_and_where() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let output = env
        .run_in(
            &repo,
            ["mission", "create", "invoice-export", "--topology", "coord"],
        )
        .success();
    let summary = env.json_data(&repo, &["mission", "show", "invoice-export"])?;
    let data = json!({
        "mission_id": summary["mission_id"],
        "mid8": summary["mid8"],
        "commit": env.git(&repo, &["rev-parse", FEATURE_BRANCH])?.trim(),
    });
    insta::assert_snapshot!(normalize_created(&output, &data), @r"
    Created mission `invoice-export-[MID8]` (coord) on `feature/x` in commit [COMMIT]
      mission id            [MISSION_ID]
      title                 Invoice Export
      directory             $TEST_ENV/repo/kitty-specs/invoice-export-[MID8]
      target branch         feature/x
      coordination branch   kitty/mission-invoice-export-[MID8] (status is committed there)
    Next: `missionctl context --mission invoice-export-[MID8]`
    ");
    Ok(())
}

#[test]
fn create_takes_the_names_purpose_and_another_target_branch() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    env.git(&repo, &["branch", "planning"])?;
    let before = env.fingerprint(&repo)?;
    let data = env.json_data(
        &repo,
        &[
            "mission",
            "create",
            "docs-refresh",
            "--target-branch",
            "planning",
            "--friendly-name",
            "Docs   Refresh",
            "--mission-type",
            "documentation",
            "--purpose-tldr",
            "Refresh the docs.",
            "--purpose-context",
            "The docs lag two releases behind.",
            "--pr-bound",
        ],
    )?;
    // Not checked out: only the branch moved; the working tree and index are untouched.
    assert_eq!(data["checked_out"], false);
    assert_eq!(data["target_branch"], "planning");
    assert_eq!(data["friendly_name"], "Docs Refresh");
    assert_eq!(data["mission_type"], "documentation");
    assert_eq!(data["topology"], "coord", "PR-bound without --topology");
    assert_eq!(data["topology_requested"], false);
    let after = env.fingerprint(&repo)?;
    assert_eq!(before["files"], after["files"]);
    assert_eq!(before["index"], after["index"]);
    assert_eq!(before["head"], after["head"]);
    let slug = data["mission_slug"].as_str().unwrap_or_default();
    let meta: Value = serde_json::from_str(&env.git(
        &repo,
        &["show", &format!("planning:kitty-specs/{slug}/meta.json")],
    )?)?;
    assert_eq!(meta["purpose_tldr"], "Refresh the docs.");
    assert_eq!(meta["purpose_context"], "The docs lag two releases behind.");
    assert_eq!(meta["pr_bound"], true);
    assert_eq!(meta["target_branch"], "planning");
    Ok(())
}

#[test]
fn refusals_leave_the_repository_byte_identical() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    // Something staged and something unstaged, which a refusal must not disturb either.
    std::fs::write(repo.join("staged.txt"), "staged\n")?;
    env.git(&repo, &["add", "staged.txt"])?;
    std::fs::write(repo.join("README.md"), "edited, not staged\n")?;
    env.json_data(
        &repo,
        &["mission", "create", "taken", "--topology", "coord"],
    )?;

    let cases: [(&[&str], &str); 6] = [
        (&["mission", "create", "Bad_Slug"], "INVALID_MISSION_SLUG"),
        (&["mission", "create", "-leading"], "USAGE_ERROR"),
        (
            &["mission", "create", "ok", "--target-branch", "main"],
            "PROTECTED_BRANCH_REFUSED",
        ),
        (
            &["mission", "create", "ok", "--target-branch", "refs/heads/x"],
            "CREATE_TIME_TARGET_INVALID",
        ),
        (
            &["mission", "create", "ok", "--target-branch", "nowhere"],
            "TARGET_BRANCH_NOT_FOUND",
        ),
        (
            &["mission", "create", "ok", "--topology", "flattened"],
            "USAGE_ERROR",
        ),
    ];
    for (args, code) in cases {
        let before = env.fingerprint(&repo)?;
        let exit = if code == "USAGE_ERROR" { 2 } else { 1 };
        let mut all = args.to_vec();
        all.push("--json");
        let output = env.run_in(&repo, &all).code(exit);
        assert_eq!(output.json_error()?["code"], code, "{args:?}");
        assert_eq!(
            env.fingerprint(&repo)?,
            before,
            "{args:?} changed the repository"
        );
    }

    // On a protected branch (checked out) and on a detached HEAD.
    env.git(&repo, &["stash", "--quiet"])?;
    for checkout in [
        &["switch", "--quiet", "main"][..],
        &["switch", "--quiet", "--detach", FEATURE_BRANCH][..],
    ] {
        env.git(&repo, checkout)?;
        let before = env.fingerprint(&repo)?;
        let code = if checkout.contains(&"main") {
            "PROTECTED_BRANCH_REFUSED"
        } else {
            "DETACHED_HEAD_REFUSED"
        };
        expect_error(
            &env,
            &repo,
            &["mission", "create", "ok", "--topology", "coord"],
            code,
        )?;
        assert_eq!(env.fingerprint(&repo)?, before, "{code}");
    }

    // Without --json the refusal says why and what to do, on stderr.
    env.git(&repo, &["switch", "--quiet", "main"])?;
    insta::assert_snapshot!(env.run_in(&repo, ["mission", "create", "ok"]).code(1), @r"
    ------- stderr -------
    error: Refusing to create a mission on protected branch `main`
    hint: Check out a feature branch (`git switch -c <branch>`) or pass `--target-branch <branch>`; or rerun it as `SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS=1 missionctl mission create ok` (Spec Kitty's hatch for commits to protected branches); or: `main` is protected by default (`main` and `master`): to protect other branches, set `protection: {protected_branches: [<branch>, …]}` in `.kittify/config.yaml` (`[]` for none; Spec Kitty reads it too)
    [exit status: 1]
    ");
    // The list of protected branches comes from the environment.
    let none: &std::ffi::OsStr = "".as_ref();
    let output = env.run_with(
        &repo,
        [
            "mission",
            "create",
            "ok",
            "--topology",
            "single_branch",
            "--json",
        ],
        &[("MISSIONCTL_PROTECTED_BRANCHES", none)],
    );
    assert_eq!(
        output.clone().success().json()?["data"]["target_branch"],
        "main"
    );
    Ok(())
}

#[test]
fn a_bad_slug_is_refused_outside_a_repository_too() -> TestResult {
    let env = TestEnv::new()?;
    let error = expect_error(
        &env,
        env.root(),
        &["mission", "create", "Not A Slug"],
        "INVALID_MISSION_SLUG",
    )?;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.contains("Not A Slug")),
        "{error}"
    );
    let error = expect_error(
        &env,
        env.root(),
        &["mission", "list"],
        "NOT_A_GIT_REPOSITORY",
    )?;
    assert!(error["hint"].is_string());
    Ok(())
}

/// Writes the handle fixtures: a modern mission, a legacy `NNN-` one with a backfilled id, a
/// legacy one without an id, and a directory without `meta.json`.
fn handle_fixtures(repo: &Path) -> anyhow::Result<()> {
    write_mission(
        repo,
        "invoice-export-01M0M9D8",
        &json!({
            "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0",
            "topology": "coord",
            "coordination_branch": "kitty/mission-invoice-export-01M0M9D8",
            "friendly_name": "Invoice Export",
        }),
    )?;
    write_mission(
        repo,
        "064-complete-identity",
        &json!({
            "mission_id": "01KV6DC9AB3DDKSZ62QKGV3YW0",
            "mission_number": 64,
            "flattened": true,
        }),
    )?;
    write_mission(repo, "007-no-identity", &json!({}))?;
    std::fs::create_dir_all(repo.join("kitty-specs/stray-dir"))?;
    Ok(())
}

#[test]
fn list_shows_every_mission_sorted() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    insta::assert_snapshot!(env.run_in(&repo, ["mission", "list"]).success(), @"No missions under kitty-specs/");
    assert_eq!(env.json_data(&repo, &["mission", "list"])?, json!([]));

    handle_fixtures(&repo)?;
    let list = env.json_data(&repo, &["mission", "list"])?;
    let slugs: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|mission| mission["mission_slug"].as_str())
        .collect();
    assert_eq!(
        slugs,
        [
            "007-no-identity",
            "064-complete-identity",
            "invoice-export-01M0M9D8",
            "stray-dir"
        ]
    );
    let modern = &list[2];
    assert_eq!(modern["mission_id"], "01M0M9D8R83DDKSZ62QKGV3YW0");
    assert_eq!(modern["mid8"], "01M0M9D8");
    assert_eq!(modern["topology"], "coord");
    assert_eq!(modern["topology_stored"], true);
    assert_eq!(
        modern["coordination_dir"],
        repo.join(".worktrees/invoice-export-01M0M9D8-coord/kitty-specs/invoice-export-01M0M9D8")
            .display()
            .to_string()
    );
    assert_eq!(list[1]["mission_number"], 64);
    assert_eq!(list[1]["topology_stored"], false);
    assert_eq!(list[3]["problem"], "No meta.json in the mission directory");

    insta::assert_snapshot!(env.run_in(&repo, ["mission", "list"]).success(), @r"
    MISSION                  MID8      TOPOLOGY        TARGET BRANCH  TITLE
    007-no-identity          -         single_branch*  feature/x      007-no-identity
    064-complete-identity    01KV6DC9  single_branch*  feature/x      064-complete-identity
    invoice-export-01M0M9D8  01M0M9D8  coord           feature/x      Invoice Export
    stray-dir                -         -               -              -
    * derived, not stored in meta.json: `missionctl migrate backfill-topology` stores it
    stray-dir: No meta.json in the mission directory
    ");
    Ok(())
}

#[test]
fn show_accepts_every_handle_form() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    handle_fixtures(&repo)?;
    // Run from a subdirectory: the repository is found upwards.
    let subdir = repo.join("kitty-specs");
    for (handle, slug, rule) in [
        (
            "01M0M9D8R83DDKSZ62QKGV3YW0",
            "invoice-export-01M0M9D8",
            "mission_id",
        ),
        ("01M0M9D8", "invoice-export-01M0M9D8", "mid8"),
        (
            "invoice-export-01M0M9D8",
            "invoice-export-01M0M9D8",
            "dir_name",
        ),
        ("invoice-export", "invoice-export-01M0M9D8", "human_slug"),
        ("064-complete-identity", "064-complete-identity", "dir_name"),
        (
            "complete-identity",
            "064-complete-identity",
            "slug_without_number",
        ),
        ("064", "064-complete-identity", "mission_number"),
        ("01KV6DC9", "064-complete-identity", "mid8"),
        ("007-no-identity", "007-no-identity", "literal_dir"),
    ] {
        let data = env.json_data(&subdir, &["mission", "show", handle])?;
        assert_eq!(data["mission_slug"], slug, "{handle}");
        assert_eq!(data["handle_rule"], rule, "{handle}");
    }
    insta::assert_snapshot!(env.run_in(&repo, ["mission", "show", "invoice-export"]).success(), @r"
    Mission `invoice-export-01M0M9D8`
      mission id            01M0M9D8R83DDKSZ62QKGV3YW0
      mid8                  01M0M9D8
      title                 Invoice Export
      mission type          software-dev
      mission number        -
      topology              coord
      target branch         feature/x
      coordination branch   kitty/mission-invoice-export-01M0M9D8
      created at            2026-08-22T08:29:15.913164+00:00
      directory             $TEST_ENV/repo/kitty-specs/invoice-export-01M0M9D8
      coordination dir      $TEST_ENV/repo/.worktrees/invoice-export-01M0M9D8-coord/kitty-specs/invoice-export-01M0M9D8
    ");
    Ok(())
}

#[test]
fn an_ambiguous_handle_lists_the_candidates() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    write_mission(
        &repo,
        "alpha-01M0M9D8",
        &json!({"mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0"}),
    )?;
    write_mission(
        &repo,
        "beta-01M0M9D8",
        &json!({"mission_id": "01M0M9D8ZZZZZZZZZZZZZZZZZZ"}),
    )?;
    write_mission(
        &repo,
        "export-01M0M9DA",
        &json!({"mission_id": "01M0M9DAR83DDKSZ62QKGV3YW0"}),
    )?;
    write_mission(
        &repo,
        "export-01M0M9DB",
        &json!({"mission_id": "01M0M9DBR83DDKSZ62QKGV3YW0"}),
    )?;
    for command in [
        &["mission", "show"][..],
        &["context", "--mission"][..],
        &["mission", "flatten"][..],
    ] {
        let mut args = command.to_vec();
        args.push("01M0M9D8");
        let error = expect_error(&env, &repo, &args, "MISSION_AMBIGUOUS_SELECTOR")?;
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("alpha-01M0M9D8 (mission_id 01M0M9D8R83DDKSZ62QKGV3YW0")
                && message.contains("beta-01M0M9D8 (mission_id 01M0M9D8ZZZZZZZZZZZZZZZZZZ"),
            "{message}"
        );
        assert!(
            error["hint"]
                .as_str()
                .is_some_and(|hint| hint.contains("alpha-01M0M9D8")),
            "{error}"
        );
    }
    // The human slug of two `<slug>-<mid8>` directories is never silently picked.
    let error = expect_error(
        &env,
        &repo,
        &["mission", "show", "export"],
        "MISSION_AMBIGUOUS_SELECTOR",
    )?;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.contains("export-01M0M9DA")
                && message.contains("export-01M0M9DB")),
        "{error}"
    );
    // The directory name, the full id or the other mid8 still names one.
    let data = env.json_data(&repo, &["mission", "show", "beta-01M0M9D8"])?;
    assert_eq!(data["mission_id"], "01M0M9D8ZZZZZZZZZZZZZZZZZZ");
    let data = env.json_data(&repo, &["mission", "show", "01M0M9DB"])?;
    assert_eq!(data["mission_slug"], "export-01M0M9DB");
    Ok(())
}

#[test]
fn an_unknown_handle_is_not_found() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    handle_fixtures(&repo)?;
    for handle in ["nope", "01M0M9D9", "01M0M9D8R83DDKSZ62QKGV3YW1", "999"] {
        for command in [&["mission", "show"][..], &["context", "--mission"][..]] {
            let mut args = command.to_vec();
            args.push(handle);
            expect_error(&env, &repo, &args, "MISSION_NOT_FOUND")?;
        }
    }
    insta::assert_snapshot!(env.run_in(&repo, ["mission", "show", "nope"]).code(1), @r#"
    ------- stderr -------
    error: No mission found for handle "nope"
    hint: Run `missionctl mission list` to see the missions; a legacy mission whose meta.json lacks a mission_id can only be named by its directory
    [exit status: 1]
    "#);
    Ok(())
}

#[test]
fn a_handle_is_never_a_path() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    handle_fixtures(&repo)?;
    let before = env.fingerprint(&repo)?;
    for handle in [
        "..",
        "../invoice-export-01M0M9D8",
        "kitty-specs/invoice-export-01M0M9D8",
        "/etc",
        ".hidden",
        "a\\b",
    ] {
        for command in [
            &["mission", "show"][..],
            &["context", "--mission"][..],
            &["mission", "flatten"][..],
        ] {
            let mut args = command.to_vec();
            args.push(handle);
            expect_error(&env, &repo, &args, "UNSAFE_PATH_SEGMENT")?;
        }
    }
    assert_eq!(env.fingerprint(&repo)?, before);
    Ok(())
}

/// A slug longer than the names git and the file system are given for a mission is refused
/// before anything is written; the longest accepted one creates a coordination mission whose
/// branch and worktree work.
/// See: issue 10, item 9.
#[test]
fn a_slug_too_long_for_git_and_the_file_system_is_refused_up_front() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let before = env.fingerprint(&repo)?;
    let too_long = "a".repeat(220);
    let error = expect_error(
        &env,
        &repo,
        &["mission", "create", &too_long, "--topology", "coord"],
        "MISSION_SLUG_TOO_LONG",
    )?;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("The mission slug is 220 bytes long")),
        "{error}"
    );
    assert_eq!(env.fingerprint(&repo)?, before);

    let longest = "a".repeat(219);
    let created = env.json_data(
        &repo,
        &["mission", "create", &longest, "--topology", "coord"],
    )?;
    let slug = created["mission_slug"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    std::fs::create_dir_all(repo.join(format!("kitty-specs/{slug}/tasks")))?;
    std::fs::write(
        repo.join(format!("kitty-specs/{slug}/tasks/WP01-x.md")),
        "---\nwork_package_id: WP01\ntitle: X\n---\n",
    )?;
    let moved = env.json_data(
        &repo,
        &[
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            &slug,
            "--actor",
            "a",
        ],
    )?;
    assert_eq!(moved["to_lane"], "planned");
    Ok(())
}
