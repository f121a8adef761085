//! `missionctl review` through the binary, on a `lanes` mission with four work packages (two
//! of them dependent): claims, approvals, a rejection and its fix mode, the review-cycle files
//! byte for byte against the peer run's, the rows against Spec Kitty's, and every refusal with
//! its code, its hint, and nothing written.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, TestResult};

/// The feedback of the peer run's rejection of WP02.
pub(crate) const PEER_FEEDBACK: &str =
    "# Review feedback\n\n- cli.py should print usage on empty title.\n";

/// The peer run's mission directory (vendored).
fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD")
}

/// A `lanes` mission on `feature/x` with four finalized work packages: WP01 and WP02
/// independent, WP03 after WP01, WP04 after WP02. Returns the repository and the mission's
/// directory name.
pub(crate) fn four_wp_mission(env: &TestEnv, name: &str) -> anyhow::Result<(PathBuf, String)> {
    four_wp_mission_with(env, name, &[])
}

/// Like [`four_wp_mission`], with planning files (name, text) written into the mission
/// directory and committed with `spec-commit` before the work packages are added.
pub(crate) fn four_wp_mission_with(
    env: &TestEnv,
    name: &str,
    planning: &[(&str, &str)],
) -> anyhow::Result<(PathBuf, String)> {
    let repo = env.feature_repo(name)?;
    let created = env.json_data(
        &repo,
        &["mission", "create", "task-list", "--topology", "lanes"],
    )?;
    let slug = created["mission_slug"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no slug in {created}"))?
        .to_owned();
    if !planning.is_empty() {
        let dir = repo.join("kitty-specs").join(&slug);
        for (file, text) in planning {
            std::fs::write(dir.join(file), text)?;
        }
        let mut args = vec!["spec-commit", slug.as_str()];
        args.extend(planning.iter().map(|(file, _)| *file));
        env.json_data(&repo, &args)?;
    }
    for (wp, title, subtasks, owned, depends) in [
        (
            "WP01",
            "Storage layer",
            &["T001", "T002"][..],
            "src/store/**",
            None,
        ),
        (
            "WP02",
            "Add and list",
            &["T003", "T004"][..],
            "src/cli.py",
            None,
        ),
        (
            "WP03",
            "Complete and delete",
            &["T005"][..],
            "src/done.py",
            Some("WP01"),
        ),
        (
            "WP04",
            "End-to-end tests",
            &["T006"][..],
            "tests/**",
            Some("WP02"),
        ),
    ] {
        let mut args = vec![
            "wp",
            "add",
            &slug,
            wp,
            "--title",
            title,
            "--owned-file",
            owned,
            "--requirement",
            "FR-001",
        ];
        if !owned.contains('*') {
            // The file the work package will create.
            args.extend(["--create-intent", owned]);
        }
        for subtask in subtasks {
            args.extend(["--subtask", subtask]);
        }
        if let Some(depends) = depends {
            args.extend(["--depends-on", depends]);
        }
        // Every functional requirement of a given spec is mapped (FR-001 above).
        match (planning.is_empty(), wp) {
            (false, "WP02") => args.extend(["--requirement", "FR-002"]),
            (false, "WP03") => args.extend(["--requirement", "FR-003"]),
            _ => {}
        }
        env.json_data(&repo, &args)?;
    }
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    Ok((repo, slug))
}

/// Implements a work package in its lane (a dependent one is claimed by a forced move: its
/// dependency is approved, not merged), commits a file there, marks its subtasks done and
/// moves it to `for_review`.
pub(crate) fn implement_to_review(
    env: &TestEnv,
    repo: &Path,
    slug: &str,
    wp: &str,
    file: &str,
) -> anyhow::Result<()> {
    let board = env.json_data(repo, &["wp", "list", slug])?;
    let entry = board["work_packages"]
        .as_array()
        .and_then(|wps| wps.iter().find(|entry| entry["wp_id"] == wp))
        .cloned()
        .unwrap_or_default();
    let waits = entry["dependencies"]
        .as_array()
        .is_some_and(|dependencies| !dependencies.is_empty());
    if waits && (entry["lane"] == "planned" || entry["status"] == "planned") {
        env.json_data(
            repo,
            &[
                "move",
                wp,
                "--to",
                "claimed",
                "--mission",
                slug,
                "--actor",
                "claude",
                "--force",
                "--reason",
                "dependency approved; the merge comes later",
            ],
        )?;
    }
    let started = env.json_data(
        repo,
        &["implement", wp, "--mission", slug, "--actor", "claude"],
    )?;
    let workspace = PathBuf::from(started["workspace"].as_str().unwrap_or_default());
    let path = workspace.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, format!("{previous}{wp} work\n"))?;
    env.git(&workspace, &["add", file])?;
    env.git(
        &workspace,
        &["commit", "--quiet", "-m", &format!("feat({wp}): {file}")],
    )?;
    let subtasks: Vec<String> = entry["subtasks"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut args = vec!["subtask", "done", slug, wp];
    args.extend(subtasks.iter().map(String::as_str));
    env.json_data(repo, &args)?;
    env.json_data(
        repo,
        &[
            "move",
            wp,
            "--to",
            "for_review",
            "--mission",
            slug,
            "--actor",
            "claude",
        ],
    )?;
    Ok(())
}

/// Checks that the review-cycle file `file` (relative to the mission directory) is byte for
/// byte the peer run's, its mission slug and its `reviewed_at` (`peer_at` there) replaced.
fn assert_cycle_file_is_the_peer_runs(
    repo: &Path,
    slug: &str,
    file: &str,
    peer_at: &str,
) -> anyhow::Result<()> {
    let ours = std::fs::read_to_string(repo.join("kitty-specs").join(slug).join(file))?;
    let reviewed_at = ours
        .lines()
        .find_map(|line| line.strip_prefix("reviewed_at: "))
        .unwrap_or_default()
        .to_owned();
    let peer = std::fs::read_to_string(peer_dir().join(file))?
        .replace("task-list-01M803MD", slug)
        .replace(peer_at, &reviewed_at);
    anyhow::ensure!(ours == peer, "{file}:\n{ours}\nthe peer run's:\n{peer}");
    Ok(())
}

/// The rows of the mission's log.
fn rows(repo: &Path, slug: &str) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(
        repo.join("kitty-specs")
            .join(slug)
            .join("status.events.jsonl"),
    )?;
    text.lines()
        .map(|line| Ok(serde_json::from_str(line)?))
        .collect()
}

/// Replaces the values that differ between two runs (ids, times, paths, pids) so rows can be
/// compared by shape and by every other value.
fn normalized(row: &Value, slug: &str, mission_id: &str) -> String {
    let mut row = row.clone();
    if let Some(object) = row.as_object_mut() {
        for key in ["at", "event_id"] {
            if object.contains_key(key) {
                object.insert(key.to_owned(), Value::String("<x>".to_owned()));
            }
        }
    }
    let text = row.to_string();
    let text = regex_lite(&text, "\"shell_pid\":", ",");
    let text = regex_lite(&text, "\"shell_pid_created_at\":", "}");
    let text = regex_lite(&text, "\"feedback_path\":\"", "\"");
    text.replace(slug, "<slug>")
        .replace(mission_id, "<mission-id>")
        .replace("task-list-01M803MD", "<slug>")
        .replace("01M803MDRS53V2DGSWAJD0E9EW", "<mission-id>")
}

/// Blanks what follows `marker` up to `end` (exclusive), everywhere.
fn regex_lite(text: &str, marker: &str, end: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(index) = rest.find(marker) {
        out.push_str(&rest[..index + marker.len()]);
        rest = &rest[index + marker.len()..];
        let stop = rest.find(end).unwrap_or(rest.len());
        out.push_str("<x>");
        rest = &rest[stop..];
    }
    out.push_str(rest);
    out
}

#[test]
fn a_rejection_and_an_approval_are_written_as_spec_kitty_writes_them() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = four_wp_mission(&env, "rejected")?;
    implement_to_review(&env, &repo, &slug, "WP02", "src/cli.py")?;
    let claim = env.json_data(
        &repo,
        &["review", "WP02", "--mission", &slug, "--actor", "claude"],
    )?;
    assert_eq!(claim["claimed"], true);
    assert_eq!(claim["from_lane"], "for_review");
    assert!(
        claim["prompt_file"]
            .as_str()
            .is_some_and(|path| path.ends_with("tasks/WP02-add-and-list.md")),
        "{claim}"
    );
    assert_eq!(claim["lane"]["commits_ahead"], 1, "{claim}");
    assert_eq!(claim["lane"]["files"][0]["path"], "src/cli.py");
    assert_eq!(claim["lane"]["files"][0]["added"], 1);

    let feedback = env.root().join("wp02-feedback.md");
    std::fs::write(&feedback, PEER_FEEDBACK)?;
    let rejected = env.json_data(
        &repo,
        &[
            "review",
            "reject",
            "WP02",
            "--mission",
            &slug,
            "--feedback-file",
            feedback.to_str().unwrap_or_default(),
        ],
    )?;
    assert_eq!(rejected["to_lane"], "planned");
    assert_eq!(rejected["verdict"], "changes_requested");
    assert_eq!(rejected["cycle_number"], 1);
    assert_eq!(
        rejected["subtasks_reset"],
        serde_json::json!(["T003", "T004"])
    );
    assert_eq!(rejected["commits"].as_array().map(Vec::len), Some(3));

    // The file, byte for byte the peer run's (identity and time replaced).
    assert_cycle_file_is_the_peer_runs(
        &repo,
        &slug,
        "tasks/WP02-add-and-list/review-cycle-1.md",
        "'2026-11-21T22:32:25Z'",
    )?;

    // The rows, as the peer run's rejection wrote them (lines 40 and 41 of its log).
    let mission_id = env.json_data(&repo, &["mission", "show", &slug])?["mission_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ours = rows(&repo, &slug)?;
    let peer: Vec<Value> = std::fs::read_to_string(peer_dir().join("status.events.jsonl"))?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let find = |rows: &[Value], wanted: &dyn Fn(&Value) -> bool| -> Option<Value> {
        rows.iter().find(|row| wanted(row)).cloned()
    };
    let rewind = |row: &Value| row["to_lane"] == "planned" && row["from_lane"] == "in_review";
    let reset = |row: &Value| row["delta"]["release_runtime_claim"] == true;
    let claim_row = |row: &Value| row["review_ref"] == "action-review-claim";
    for (name, wanted) in [
        ("rewind", &rewind as &dyn Fn(&Value) -> bool),
        ("reset", &reset),
    ] {
        let (Some(ours), Some(theirs)) = (find(&ours, wanted), find(&peer, wanted)) else {
            anyhow::bail!("{name}: a row is missing");
        };
        let ours = normalized(&ours, &slug, &mission_id).replace("WP02-add-and-list", "<wp>");
        let theirs = normalized(&theirs, &slug, &mission_id).replace("WP02-add-and-list", "<wp>");
        assert_eq!(ours, theirs, "{name}");
    }
    let (Some(ours_claim), Some(peer_claim)) = (find(&ours, &claim_row), find(&peer, &claim_row))
    else {
        anyhow::bail!("no claim row");
    };
    assert_eq!(
        normalized(&ours_claim, &slug, &mission_id).replace("WP02", "WPxx"),
        normalized(&peer_claim, &slug, &mission_id).replace("WP01", "WPxx")
    );

    // Fix mode: the next implement shows the feedback.
    let fixed = env.json_data(
        &repo,
        &["implement", "WP02", "--mission", &slug, "--actor", "claude"],
    )?;
    assert_eq!(fixed["fix_mode"]["feedback"]["cycle_number"], 1, "{fixed}");
    assert_eq!(fixed["fix_mode"]["feedback"]["body"], PEER_FEEDBACK);
    let text = env
        .run_in(
            &repo,
            ["implement", "WP02", "--mission", &slug, "--actor", "claude"],
        )
        .success();
    assert!(
        text.stdout
            .contains("Fix mode: review-cycle-1 asked for changes")
            && text
                .stdout
                .contains("  | - cli.py should print usage on empty title."),
        "{text}"
    );

    // Back to review: the subtasks must be marked again, then the approval writes cycle 2.
    let refused = env
        .run_in(
            &repo,
            [
                "move",
                "WP02",
                "--to",
                "for_review",
                "--mission",
                &slug,
                "--actor",
                "claude",
                "--json",
            ],
        )
        .code(1);
    assert_eq!(refused.json_error()?["code"], "SUBTASKS_INCOMPLETE");
    implement_to_review(&env, &repo, &slug, "WP02", "src/cli.py")?;
    let approved = env.json_data(
        &repo,
        &[
            "review",
            "approve",
            "WP02",
            "--mission",
            &slug,
            "--reviewer",
            "reviewer-bot",
            "--note",
            "Review passed",
        ],
    )?;
    assert_eq!(
        approved["claim"]["claimed"], true,
        "approving from for_review claims first"
    );
    assert_eq!(approved["to_lane"], "approved");
    assert_eq!(approved["cycle_number"], 2);
    assert_cycle_file_is_the_peer_runs(
        &repo,
        &slug,
        "tasks/WP02-add-and-list/review-cycle-2.md",
        "'2026-11-21T22:32:58Z'",
    )?;
    let log = rows(&repo, &slug)?;
    let approval = log
        .iter()
        .find(|row| row["to_lane"] == "approved")
        .ok_or_else(|| anyhow::anyhow!("no approval"))?;
    assert_eq!(approval["review_result"]["verdict"], "approved");
    assert_eq!(approval["review_result"]["reviewer"], "reviewer-bot");
    assert_eq!(approval["evidence"]["review"]["reviewer"], "reviewer-bot");
    assert_eq!(approval["reason"], "Review passed");
    assert_eq!(approval["policy_metadata"]["tool"], "reviewer-bot");
    assert_eq!(approval["actor"]["role"], "reviewer");
    let last = log.last().cloned().unwrap_or_default();
    assert_eq!(last["delta"]["note"], "Review passed");
    let subjects = env.git(&repo, &["log", "--format=%s", "-4"])?;
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            "chore(missionctl): inner-state annotation WP02",
            "chore(missionctl): status transition WP02",
            &format!("chore: Record review-cycle-2 (approved) for WP02 on {slug}"),
            "chore(missionctl): status transition WP02",
        ]
    );
    let validated = env.json_data(&repo, &["status", "validate", "--mission", &slug])?;
    assert_eq!(validated["passed"], true, "{validated}");
    assert!(env.git(&repo, &["status", "--porcelain"])?.is_empty());
    Ok(())
}

/// Runs a command that must be refused with `code`, and checks that nothing was written.
#[track_caller]
fn refused(env: &TestEnv, repo: &Path, args: &[&str], code: &str, hint: &str) -> TestResult {
    let before = env.fingerprint(repo)?;
    let mut all = args.to_vec();
    all.push("--json");
    let output = env.run_in(repo, &all).code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], code, "{output}");
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|text| text.contains(hint)),
        "{code}: the hint should mention `{hint}`: {error}"
    );
    assert_eq!(env.fingerprint(repo)?, before, "{code} wrote something");
    Ok(())
}

#[test]
fn every_refusal_names_the_command_that_helps_and_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = four_wp_mission(&env, "refusals")?;
    let feedback = env.root().join("feedback.md");
    std::fs::write(&feedback, PEER_FEEDBACK)?;
    let empty = env.root().join("empty.md");
    std::fs::write(&empty, "  \n")?;
    let feedback = feedback.to_str().unwrap_or_default().to_owned();
    let empty = empty.to_str().unwrap_or_default().to_owned();

    // A work package still planned.
    refused(
        &env,
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "claude"],
        "REVIEW_NOT_READY",
        "--to for_review",
    )?;
    refused(
        &env,
        &repo,
        &["review", "approve", "WP01", "-m", &slug],
        "REVIEW_NOT_STARTED",
        "missionctl board",
    )?;
    refused(
        &env,
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            &feedback,
        ],
        "REVIEW_NOT_STARTED",
        "missionctl board",
    )?;
    refused(
        &env,
        &repo,
        &[
            "review", "release", "WP01", "-m", &slug, "--reason", "stuck",
        ],
        "REVIEW_NOT_STARTED",
        "missionctl board",
    )?;
    refused(
        &env,
        &repo,
        &["review", "unblock", "WP01", "-m", &slug, "--reason", "x"],
        "NOTHING_TO_UNBLOCK",
        "missionctl next",
    )?;
    refused(
        &env,
        &repo,
        &["review", "WP09", "-m", &slug, "--actor", "claude"],
        "WP_NOT_FOUND",
        "",
    )?;

    implement_to_review(&env, &repo, &slug, "WP01", "src/store/a.py")?;
    let without_actor = env
        .run_with(
            &repo,
            ["review", "WP01", "-m", &slug, "--json"],
            &[("MISSIONCTL_ACTOR", std::ffi::OsStr::new(""))],
        )
        .code(1);
    assert_eq!(without_actor.json_error()?["code"], "ACTOR_REQUIRED");
    refused(
        &env,
        &repo,
        &["review", "reject", "WP01", "-m", &slug],
        "REVIEW_FEEDBACK_REQUIRED",
        "--feedback-file feedback.md",
    )?;
    refused(
        &env,
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            "/nonexistent.md",
        ],
        "REVIEW_FEEDBACK_NOT_FOUND",
        "--feedback-file",
    )?;
    refused(
        &env,
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            &empty,
        ],
        "REVIEW_FEEDBACK_EMPTY",
        "feedback",
    )?;
    refused(
        &env,
        &repo,
        &["review", "release", "WP01", "-m", &slug, "--reason", "x"],
        "REVIEW_NOT_STARTED",
        "review start WP01",
    )?;

    env.json_data(
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "claude"],
    )?;
    refused(
        &env,
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "codex"],
        "REVIEW_CLAIM_CONFLICT",
        "review release WP01",
    )?;
    refused(
        &env,
        &repo,
        &["review", "approve", "WP01", "-m", &slug, "--actor", "codex"],
        "REVIEW_AGENT_MISMATCH",
        "--actor claude",
    )?;
    refused(
        &env,
        &repo,
        &["review", "release", "WP01", "-m", &slug],
        "REASON_REQUIRED",
        "--reason",
    )?;
    // The same reviewer renews the claim (an annotation, no transition).
    let renewed = env.json_data(
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "claude"],
    )?;
    assert_eq!(renewed["claimed"], false);
    assert_eq!(renewed["from_lane"], "in_review");

    // A dirty lane worktree is not approved.
    let lane = repo.join(".worktrees").join(format!("{slug}-lane-a"));
    std::fs::write(lane.join("scratch.txt"), "not committed\n")?;
    refused(
        &env,
        &repo,
        &[
            "review", "approve", "WP01", "-m", &slug, "--actor", "claude",
        ],
        "LANE_WORKTREE_DIRTY",
        "--force",
    )?;
    std::fs::remove_file(lane.join("scratch.txt"))?;

    // A feedback file that is a review-cycle file is refused.
    env.json_data(
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            &feedback,
        ],
    )?;
    let cycle = repo
        .join("kitty-specs")
        .join(&slug)
        .join("tasks/WP01-storage-layer/review-cycle-1.md");
    implement_to_review(&env, &repo, &slug, "WP01", "src/store/a.py")?;
    refused(
        &env,
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            cycle.to_str().unwrap_or_default(),
        ],
        "REVIEW_FEEDBACK_IS_ARTIFACT",
        "review-cycle file",
    )?;
    let copy = env.root().join("copy.md");
    std::fs::copy(&cycle, &copy)?;
    refused(
        &env,
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            copy.to_str().unwrap_or_default(),
        ],
        "REVIEW_FEEDBACK_IS_ARTIFACT",
        "review-cycle file",
    )?;
    Ok(())
}

#[test]
fn a_stuck_review_is_released_and_a_block_is_lifted_without_a_fabricated_review() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = four_wp_mission(&env, "recoveries")?;
    implement_to_review(&env, &repo, &slug, "WP01", "src/store/a.py")?;
    env.json_data(
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "claude"],
    )?;
    let released = env.json_data(
        &repo,
        &[
            "review",
            "release",
            "WP01",
            "-m",
            &slug,
            "--actor",
            "lead",
            "--reason",
            "reviewer went away",
        ],
    )?;
    assert_eq!(released["action"], "review_released");
    assert_eq!(
        (
            released["from_lane"].as_str(),
            released["to_lane"].as_str(),
            released["forced"].as_bool()
        ),
        (Some("in_review"), Some("for_review"), Some(true))
    );
    let log = rows(&repo, &slug)?;
    let release = log
        .iter()
        .find(|row| row["from_lane"] == "in_review" && row["to_lane"] == "for_review")
        .ok_or_else(|| anyhow::anyhow!("no release row"))?;
    assert_eq!(release["reason"], "Review released: reviewer went away");
    assert_eq!(release["review_ref"], Value::Null);
    assert!(
        release.get("review_result").is_none(),
        "no review is fabricated"
    );
    // Another reviewer can claim it now.
    env.json_data(
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "codex"],
    )?;

    // A blocked work package goes back to where it was.
    env.json_data(
        &repo,
        &[
            "move",
            "WP01",
            "--to",
            "blocked",
            "--mission",
            &slug,
            "--actor",
            "codex",
            "--force",
            "--reason",
            "waiting on design",
        ],
    )?;
    let unblocked = env.json_data(
        &repo,
        &[
            "review",
            "unblock",
            "WP01",
            "-m",
            &slug,
            "--actor",
            "lead",
            "--reason",
            "design settled",
        ],
    )?;
    assert_eq!(unblocked["action"], "unblocked");
    assert_eq!(unblocked["to_lane"], "in_review");
    assert_eq!(unblocked["forced"], true);

    // An approved work package whose standing verdict asks for changes gets an override.
    let feedback = env.root().join("feedback.md");
    std::fs::write(&feedback, PEER_FEEDBACK)?;
    env.json_data(
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--actor",
            "codex",
            "--feedback-file",
            feedback.to_str().unwrap_or_default(),
        ],
    )?;
    env.json_data(
        &repo,
        &[
            "move",
            "WP01",
            "--to",
            "approved",
            "--mission",
            &slug,
            "--actor",
            "lead",
            "--force",
            "--reason",
            "shipped as is",
        ],
    )?;
    let overridden = env.json_data(
        &repo,
        &[
            "review",
            "unblock",
            "WP01",
            "-m",
            &slug,
            "--actor",
            "lead",
            "--reason",
            "the rejection was about a file outside the scope",
        ],
    )?;
    assert_eq!(overridden["action"], "rejection_overridden");
    let board = env.json_data(
        &repo,
        &[
            "status",
            "reduce",
            repo.join("kitty-specs")
                .join(&slug)
                .to_str()
                .unwrap_or_default(),
        ],
    )?;
    let review = &board["snapshot"]["work_packages"]["WP01"]["review"];
    assert_eq!(review["actor"], "lead", "{board}");
    assert_eq!(
        review["reason"],
        "the rejection was about a file outside the scope"
    );
    assert_eq!(review["wp_id"], "WP01");
    let validated = env.json_data(&repo, &["status", "validate", "--mission", &slug])?;
    assert_eq!(validated["passed"], true, "{validated}");
    Ok(())
}

/// A rejection stopped after its first commit (the review-cycle file) is undone whole by the
/// next writer: a verdict lands whole or not at all.
#[test]
fn a_verdict_stopped_between_its_commits_is_undone_whole() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = four_wp_mission(&env, "stopped")?;
    implement_to_review(&env, &repo, &slug, "WP01", "src/store/a.py")?;
    env.json_data(
        &repo,
        &["review", "start", "WP01", "-m", &slug, "--actor", "claude"],
    )?;
    let feedback = env.root().join("feedback.md");
    std::fs::write(&feedback, PEER_FEEDBACK)?;
    let feedback = feedback.to_str().unwrap_or_default().to_owned();
    // The next writer settles each stop; the board then reads as before the rejection.
    env.each_stop_is_undone_whole(
        &repo,
        &slug,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            &feedback,
        ],
        &[
            "ref-updated@1",
            "ref-updated@2",
            "file@2",
            "index-installed@3",
        ],
    )?;
    let rejected = env.json_data(
        &repo,
        &[
            "review",
            "reject",
            "WP01",
            "-m",
            &slug,
            "--feedback-file",
            &feedback,
        ],
    )?;
    assert_eq!(
        rejected["cycle_number"], 1,
        "the undone cycle number is free again"
    );
    Ok(())
}
