//! `missionctl demo`: a real git repository whose files agree with `status reduce`.

use std::ffi::OsString;
use std::path::Path;

use missionctl_core::status::event::LogRow;
use missionctl_core::status::event_log;

use crate::common::{TestEnv, TestResult, fixtures_dir};

const SAMPLE: &str = "mission-type-single-source-gate-wiring-01KXKHVZ";

/// Returns the directory name of `dir` when it is the demo's coordination mission (its status
/// lives on the coordination branch), else `""`.
fn coordination_slug(dir: &Path) -> String {
    dir.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.starts_with("invoice-export-"))
        .unwrap_or_default()
}

/// Returns the directory name of `dir` when it is the demo's lanes mission, else `""`.
fn lanes_slug(dir: &Path) -> String {
    dir.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.starts_with("task-list-"))
        .unwrap_or_default()
}

/// Returns the mission directories of a demo repository, sorted.
fn missions(repo: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut dirs: Vec<_> = std::fs::read_dir(repo.join("kitty-specs"))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    dirs.sort();
    Ok(dirs)
}

#[test]
fn builds_a_committed_repository_that_status_reduce_agrees_with() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.root().join("repo");
    let output = env
        .run([OsString::from("demo"), "--dir".into(), repo.clone().into()])
        .success();
    assert!(
        output
            .to_string()
            .starts_with("missionctl demo: a throwaway git repository at $TEST_ENV/repo\n"),
        "{output}"
    );
    assert!(
        output
            .stdout
            .contains("refused (ILLEGAL_TRANSITION): Illegal transition: planned -> done"),
        "{output}"
    );
    assert!(
        output
            .stdout
            .contains("demo-operator   forced: Shipped in an earlier release"),
        "{output}"
    );
    assert!(
        output
            .stdout
            .contains("byte for byte the file Spec Kitty writes"),
        "{output}"
    );
    assert!(
        output
            .stdout
            .contains("planned  claimed  in_progress  for_review"),
        "{output}"
    );
    assert_eq!(output.stderr, "");

    // The protected `main` keeps the repository's first commit alone; the demo commits on its
    // feature branch.
    let log = env.git(&repo, &["log", "--format=%an <%ae>|%cn <%ce>|%s", "main"])?;
    assert_eq!(
        log,
        "missionctl demo <demo@missionctl.invalid>|missionctl demo <demo@missionctl.invalid>|\
         Initial commit\n"
    );
    let feature = env.git(
        &repo,
        &[
            "log",
            "--reverse",
            "--format=%an <%ae>|%cn <%ce>|%s",
            "main..feature/demo",
        ],
    )?;
    assert!(
        feature.starts_with(
            "missionctl demo <demo@missionctl.invalid>|missionctl demo <demo@missionctl.invalid>|\
             missionctl demo: a new mission and a Spec Kitty sample, reduced\n"
        ),
        "{feature}"
    );
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    assert_eq!(
        env.git(&repo, &["branch", "--show-current"])?,
        "feature/demo\n"
    );

    let dirs = missions(&repo)?;
    assert_eq!(dirs.len(), 4);
    let reduced: Vec<_> = dirs
        .iter()
        .filter(|dir| coordination_slug(dir).is_empty() && lanes_slug(dir).is_empty())
        .collect();
    assert_eq!(reduced.len(), 2);
    for dir in reduced {
        let committed = std::fs::read_to_string(dir.join("status.json"))?;
        let fresh = env
            .run([Path::new("status"), Path::new("reduce"), dir])
            .success();
        assert_eq!(fresh.stdout, committed, "{}", dir.display());
        let tracked = env.git(&repo, &["ls-files", "--", &dir.display().to_string()])?;
        assert_eq!(tracked.lines().count(), 3, "{tracked}");
    }
    let sample = repo.join("kitty-specs").join(SAMPLE);
    assert_eq!(
        std::fs::read(sample.join("status.json"))?,
        std::fs::read(fixtures_dir().join(SAMPLE).join("expected.status.json"))?
    );
    Ok(())
}

#[test]
fn the_demo_log_is_written_in_spec_kittys_row_format() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.root().join("repo");
    env.run([OsString::from("demo"), "--dir".into(), repo.clone().into()])
        .success();
    let demo = missions(&repo)?
        .into_iter()
        .find(|dir| {
            dir.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("demo-mission-"))
        })
        .ok_or_else(|| anyhow::anyhow!("no demo mission"))?;

    let bytes = std::fs::read(demo.join("status.events.jsonl"))?;
    let log = event_log::parse(&bytes);
    assert!(log.errors.is_empty(), "{:?}", log.errors);
    let text = String::from_utf8(bytes)?;
    assert!(text.ends_with('\n'));
    let mut previous_at = String::new();
    for ((_, row), line) in log.rows.iter().zip(text.lines()) {
        let LogRow::Transition(event) = row else {
            anyhow::bail!("not a transition: {line}");
        };
        // Re-serializing a row gives back its exact bytes.
        assert_eq!(event.to_json_line(), line);
        // `datetime.now(UTC).isoformat()`: 2026-07-25T13:51:30.644518+00:00 (the fraction is
        // left out only on a whole second).
        let at = &event.at;
        assert!(at.ends_with("+00:00") && at.as_bytes()[10] == b'T', "{at}");
        assert!(at.len() == 32 || at.len() == 25, "{at}");
        assert!(*at > previous_at, "{at} after {previous_at}");
        previous_at = at.clone();
        assert!(event_log::is_ulid(&event.event_id), "{}", event.event_id);
    }
    assert_eq!(log.rows.len(), 16);

    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(demo.join("meta.json"))?)?;
    let mission_id = meta["mission_id"].as_str().unwrap_or_default();
    let name = demo
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert_eq!(name, format!("demo-mission-{}", &mission_id[..8]));
    assert_eq!(meta["mission_slug"], name);
    Ok(())
}

#[test]
fn json_is_one_document_describing_the_repository() -> TestResult {
    let env = TestEnv::new()?;
    let output = env.run(["demo", "--json"]).success();
    assert_eq!(output.stderr, "");
    let document = output.json()?;
    assert_eq!(document["ok"], true);
    let data = &document["data"];

    // Without --dir the repository is a new directory under TMPDIR, kept after the run.
    let repo = Path::new(data["repo"].as_str().unwrap_or_default()).to_path_buf();
    assert!(repo.starts_with(env.tmp()), "{}", repo.display());
    assert!(repo.join(".git").is_dir());

    let sha = data["commit"]["sha"].as_str().unwrap_or_default();
    let parent = env.git(&repo, &["rev-parse", &format!("{sha}^")])?;
    assert_eq!(parent, env.git(&repo, &["rev-parse", "main"])?);
    env.git(&repo, &["merge-base", "--is-ancestor", sha, "feature/demo"])?;
    assert_eq!(data["commit"]["branch"], "feature/demo");

    let missions = data["missions"].as_array().cloned().unwrap_or_default();
    assert_eq!(missions.len(), 2);
    let demo = &missions[0];
    assert_eq!(demo["origin"], "demo");
    let lanes: Vec<(String, String, String)> = demo["work_packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|wp| {
            (
                wp["id"].to_string(),
                wp["lane"].to_string(),
                wp["actor"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        lanes,
        [
            ("\"WP01\"".into(), "\"done\"".into(), "\"claude\"".into()),
            (
                "\"WP02\"".into(),
                "\"for_review\"".into(),
                "\"codex\"".into()
            ),
            (
                "\"WP03\"".into(),
                "\"in_progress\"".into(),
                "\"gemini\"".into()
            ),
            (
                "\"WP04\"".into(),
                "\"done\"".into(),
                "\"demo-operator\"".into()
            ),
        ]
    );
    assert_eq!(demo["summary"]["done"], 2);
    assert_eq!(demo["event_count"], 16);

    let sample = &missions[1];
    assert_eq!(sample["slug"], SAMPLE);
    assert_eq!(sample["matches_spec_kitty"], true);
    assert_eq!(sample["summary"]["approved"], 5);

    assert_eq!(data["refused_move"]["code"], "ILLEGAL_TRANSITION");
    assert_eq!(
        data["refused_move"]["message"],
        "Illegal transition: planned -> done"
    );
    assert_eq!(data["forced_move"]["actor"], "demo-operator");
    assert_eq!(data["forced_move"]["force"], true);
    assert_eq!(data["files"].as_array().map(Vec::len), Some(7));
    Ok(())
}

#[test]
fn creates_a_coordination_mission_and_commits_its_status_on_the_coordination_branch() -> TestResult
{
    let env = TestEnv::new()?;
    let output = env.run(["demo", "--json"]).success();
    let data = &output.json()?["data"];
    let repo = Path::new(data["repo"].as_str().unwrap_or_default()).to_path_buf();
    assert_eq!(data["feature_branch"], "feature/demo");

    let coordination = &data["coordination_mission"];
    let created = &coordination["created"];
    let slug = created["mission_slug"].as_str().unwrap_or_default();
    let branch = created["coordination_branch"].as_str().unwrap_or_default();
    let mid8 = created["mid8"].as_str().unwrap_or_default();
    assert_eq!(created["topology"], "lanes_with_coord");
    assert_eq!(created["target_branch"], "feature/demo");
    assert_eq!(slug, format!("invoice-export-{mid8}"));
    assert_eq!(branch, format!("kitty/mission-invoice-export-{mid8}"));
    // `mission create`'s commit is on the feature branch, which is checked out (the lanes
    // mission's commits follow it).
    let commit = created["commit"].as_str().unwrap_or_default();
    env.git(
        &repo,
        &["merge-base", "--is-ancestor", commit, "feature/demo"],
    )?;
    assert_eq!(
        env.git(&repo, &["log", "-1", "--format=%an <%ae>|%s", commit])?,
        format!("missionctl demo <demo@missionctl.invalid>|Add scaffold for feature {slug}\n")
    );

    // In the create-window status is read from the primary checkout; after the moves, from the
    // coordination worktree the first move materialized.
    let before = &coordination["context_at_creation"];
    assert_eq!(before["probe"], "unmaterialized");
    assert_eq!(before["read_surface"], "primary");
    let after = &coordination["context"];
    let coordination_dir = repo
        .join(".worktrees")
        .join(format!("{slug}-coord"))
        .join("kitty-specs")
        .join(slug);
    assert_eq!(after["probe"], "materialized");
    assert_eq!(after["read_surface"], "coordination");
    assert_eq!(after["coordination_branch"], branch);
    assert_eq!(after["read_dir"], coordination_dir.display().to_string());
    assert_eq!(after["write_dir"], coordination_dir.display().to_string());
    assert_eq!(after["context"]["identity"]["mid8"], mid8);

    // Every move was committed on the coordination branch; the feature branch has no events.
    let moves = coordination["moves"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(moves.len(), 5);
    for step in &moves {
        assert_eq!(step["branch"], branch, "{step}");
    }
    // The last move's commit is on the branch (which the demo's `sync` step moved on since).
    let last = moves
        .last()
        .and_then(|step| step["commit"].as_str())
        .unwrap_or_default();
    env.git(&repo, &["merge-base", "--is-ancestor", last, branch])?;
    assert_eq!(coordination["log_rows_on_coordination_branch"], 5);
    assert_eq!(coordination["log_rows_on_target_branch"], 0);
    assert_eq!(coordination["summary"]["claimed"], 1);
    assert_eq!(coordination["summary"]["in_progress"], 1);
    assert_eq!(
        env.git(&repo, &["log", "-1", "--format=%an <%ae>", last])?,
        "missionctl demo <demo@missionctl.invalid>\n"
    );

    // The same answers through the commands, run in the demo repository.
    let context = env.json_data(&repo, &["context", "--mission", slug])?;
    assert_eq!(context["read_surface"], "coordination");
    let list = env.json_data(&repo, &["mission", "list"])?;
    assert_eq!(list, data["mission_list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(4));
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    Ok(())
}

#[test]
fn refuses_a_directory_that_is_not_empty() -> TestResult {
    let env = TestEnv::new()?;
    let dir = env.root().join("busy");
    std::fs::create_dir(&dir)?;
    std::fs::write(dir.join("keep.txt"), "mine")?;
    let output = env
        .run([
            OsString::from("--json"),
            "demo".into(),
            "--dir".into(),
            dir.clone().into(),
        ])
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "DEMO_DIR_NOT_EMPTY");
    assert_eq!(std::fs::read_to_string(dir.join("keep.txt"))?, "mine");
    assert!(!dir.join(".git").exists());

    let file = env.root().join("file");
    std::fs::write(&file, "")?;
    let output = env
        .run([OsString::from("demo"), "--dir".into(), file.into()])
        .code(1);
    insta::assert_snapshot!(output, @r"
    ------- stderr -------
    error: `$TEST_ENV/file` exists and is not a directory
    hint: Pass a directory that does not exist yet or is empty, or leave out `--dir` to use a new temporary directory
    [exit status: 1]
    ");
    Ok(())
}

#[test]
fn accepts_an_empty_directory() -> TestResult {
    let env = TestEnv::new()?;
    let dir = env.root().join("empty");
    std::fs::create_dir(&dir)?;
    env.run([OsString::from("demo"), "--dir".into(), dir.clone().into()])
        .success();
    assert_eq!(env.git(&dir, &["rev-list", "--count", "main"])?, "1\n");
    Ok(())
}

#[test]
fn without_git_nothing_is_created() -> TestResult {
    let env = TestEnv::new()?;
    let empty_path = env.root().join("no-programs-here");
    std::fs::create_dir(&empty_path)?;
    let dir = env.root().join("never");
    let output = env
        .run_with(
            env.root(),
            [
                OsString::from("--json"),
                "demo".into(),
                "--dir".into(),
                dir.clone().into(),
            ],
            &[("PATH", empty_path.as_os_str())],
        )
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "GIT_NOT_FOUND");
    assert_eq!(error["message"], "Cannot find `git` on PATH");
    assert!(!dir.exists());
    assert_eq!(std::fs::read_dir(env.tmp())?.count(), 0);
    Ok(())
}

#[test]
fn plans_works_and_finishes_a_lanes_mission_through_the_commands() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.root().join("repo");
    let output = env
        .run([
            OsString::from("demo"),
            "--dir".into(),
            repo.clone().into(),
            "--json".into(),
        ])
        .success();
    let data = output.json()?["data"]["lanes_mission"].clone();
    let slug = data["mission_slug"].as_str().unwrap_or_default().to_owned();
    assert!(slug.starts_with("task-list-"), "{data}");
    assert_eq!(data["seeded"], serde_json::json!(["WP01", "WP02", "WP03"]));
    // The spec and plan went through `spec-commit`, the refs through `map-requirements`, both
    // on the feature branch, before `tasks finalize`.
    let dir = format!("kitty-specs/{slug}");
    assert_eq!(
        data["spec_files"],
        serde_json::json!([
            format!("{dir}/spec.md"),
            format!("{dir}/plan.md"),
            format!("{dir}/tasks.md")
        ])
    );
    let mut planning_commits = vec![data["spec_commit"].as_str().unwrap_or_default()];
    for (mapped, (wp_id, refs)) in data["requirement_refs"]
        .as_array()
        .into_iter()
        .flatten()
        .zip([("WP01", vec!["FR-001"]), ("WP02", vec!["FR-001", "FR-002"])])
    {
        assert_eq!(mapped["wp_id"], wp_id);
        assert_eq!(mapped["requirement_refs"], serde_json::json!(refs));
        planning_commits.push(mapped["commit"].as_str().unwrap_or_default());
    }
    assert_eq!(planning_commits.len(), 3);
    for commit in planning_commits {
        env.git(
            &repo,
            &["merge-base", "--is-ancestor", commit, "feature/demo"],
        )?;
    }
    assert_eq!(
        data["requirement_coverage"],
        serde_json::json!({"total_functional": 2, "mapped_functional": 2, "unmapped_functional": []})
    );
    assert_eq!(data["ready_before"], serde_json::json!(["WP01"]));
    assert_eq!(data["ready_after"], serde_json::json!([]));
    assert_eq!(
        data["subtasks"],
        serde_json::json!([
            "WP01/T001",
            "WP01/T002",
            "WP02/T003",
            "WP02/T003",
            "WP03/T004"
        ])
    );
    let moves: Vec<String> = data["moves"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| {
            format!("{} {} -> {}", step["wp_id"], step["from"], step["to"]).replace('"', "")
        })
        .collect();
    // The dependents' claims are forced (their dependencies are approved, not merged);
    // WP02 is rejected once and claimed again.
    let expected = [
        "WP01 in_progress -> for_review",
        "WP02 planned -> claimed",
        "WP02 in_progress -> for_review",
        "WP02 planned -> claimed",
        "WP02 in_progress -> for_review",
        "WP03 planned -> claimed",
        "WP03 in_progress -> for_review",
    ];
    assert_eq!(moves, expected);
    // `next` guides the mission from creation to done.
    let answers: Vec<String> = data["next"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|answer| {
            let state = answer["mission_state"].as_str().unwrap_or_default();
            match answer["wp_id"].as_str() {
                Some(wp) => format!("{state} {wp}"),
                None => state.to_owned(),
            }
        })
        .collect();
    // Spec Kitty's query answers: not started until the tasks are finalized, then the
    // finalized board (review names no work package).
    assert_eq!(answers.first().map(String::as_str), Some("not_started"));
    assert!(
        answers.contains(&"implement WP01".to_owned()),
        "{answers:?}"
    );
    assert!(answers.contains(&"review".to_owned()), "{answers:?}");
    assert!(answers.contains(&"accept".to_owned()), "{answers:?}");
    assert_eq!(answers.last().map(String::as_str), Some("done"));
    // Finished: one rejection cycle, the merge, the verdicts and the acceptance.
    let commands: Vec<&str> = data["finish"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|line| line["command"].as_str())
        .filter(|command| *command != "move")
        .collect();
    assert_eq!(
        commands,
        [
            "review start",
            "review approve",
            "review start",
            "review reject",
            "review start",
            "review approve",
            "review start",
            "review approve",
            "merge",
            "acceptance verdict",
            "acceptance verdict",
            "accept",
        ]
    );
    let gates: Vec<&str> = data["next"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|answer| answer["gate"].as_str())
        .collect();
    assert_eq!(gates, ["review", "merge", "accept"]);
    // The work landed on the feature branch; the lane branch is gone.
    let lane_branch = data["lane_branch"].as_str().unwrap_or_default();
    let files = env.git(
        &repo,
        &["ls-tree", "-r", "--name-only", "feature/demo", "--", "src"],
    )?;
    assert_eq!(files, "src/tasklist/cli.py\nsrc/tasklist/store.py\n");
    let branches = env.git(&repo, &["branch", "--list", lane_branch])?;
    assert_eq!(branches, "");
    let log = env.git(&repo, &["log", "-n", "2", "--format=%s", "feature/demo"])?;
    assert_eq!(
        log,
        format!("Record acceptance commit for {slug}\nAccept {slug}\n")
    );
    let board = env.run_in(&repo, ["board", "--mission", &slug]).success();
    assert!(board.stdout.contains("3 work packages: 3 done"), "{board}");
    let again = env
        .run_in(&repo, ["tasks", "finalize", &slug, "--json"])
        .success();
    assert_eq!(again.json()?["data"]["seeded"], serde_json::json!([]));
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    Ok(())
}
