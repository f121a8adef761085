//! `init`, `board`, `history`, `status validate` and `doctor` around the status aggregate:
//! readable output, reads that follow every write (missionctl's or another tool's), and a
//! doctor whose every suggested fix is a missionctl command that, run as printed, fixes it.

use std::ffi::OsStr;

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::status_env::{StatusRepo, assert_same_state, board_lanes, data};

#[test]
fn init_prepares_a_repository_once() -> TestResult {
    let env = TestEnv::new()?;
    let root = env.root().join("repo");
    std::fs::create_dir(&root)?;
    env.git(&root, &["init", "--quiet"])?;
    let first = data(&env.run_in(&root, ["--json", "init"]).success())?;
    assert_eq!(first["created"], true);
    assert!(root.join("kitty-specs").is_dir());
    let second = data(&env.run_in(&root, ["--json", "init"]).success())?;
    assert_eq!(second["created"], false);
    // From a subdirectory it prepares the primary checkout.
    let third = data(
        &env.run_in(&root.join("kitty-specs"), ["--json", "init"])
            .success(),
    )?;
    assert_eq!(third["kitty_specs"], first["kitty_specs"]);
    let text = env.run_in(&root, ["init"]).success();
    assert!(
        text.stdout.ends_with("already exists; nothing to do\n"),
        "{text}"
    );
    Ok(())
}

#[test]
fn the_board_is_readable_without_colour() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::Coord)?;
    for (wp, lanes) in [
        ("WP01", &["planned", "claimed", "in_progress"][..]),
        ("WP02", &["planned"]),
        ("WP03", &["planned", "blocked"]),
    ] {
        for lane in lanes {
            repo.move_wp(wp, lane, &["--actor", "claude"]).success();
        }
    }
    let output = repo
        .env
        .run_with(
            &repo.root,
            ["board", "--mission", &repo.slug],
            &[("NO_COLOR", OsStr::new("1"))],
        )
        .success();
    insta::assert_snapshot!(output, @r"
    invoice-export-01M0M9D8 (coord, status read from the coordination checkout)

    planned  claimed  in_progress  for_review  in_review  approved  done  blocked  canceled
    -------  -------  -----------  ----------  ---------  --------  ----  -------  --------
    WP02              WP01                                                WP03
    9 work packages: 1 planned, 1 in_progress, 1 blocked, not on the board: WP04, WP05, WP06, WP07, WP08, WP09 genesis
    ");
    assert!(output.stdout.is_ascii() && !output.stdout.contains('\u{1b}'));
    let board = data(
        &repo
            .run(["--json", "board", "--mission", &repo.slug])
            .success(),
    )?;
    assert_eq!(board["mission_id"], "01M0M9D8R83DDKSZ62QKGV3YW0");
    assert_eq!(board["work_packages"][0]["title"], "Work package WP01");
    assert_eq!(board["work_packages"][0]["file"], "WP01-work.md");
    assert_eq!(board["work_packages"][0]["phase"], "Unknown Phase");
    assert_eq!(board["total_wps"], 9);
    assert_eq!(
        board["by_lane"],
        serde_json::json!({"in_progress": 1, "planned": 1, "blocked": 1, "genesis": 6})
    );
    Ok(())
}

#[test]
fn the_board_follows_writes_by_other_tools() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    let lane = |repo: &StatusRepo| -> anyhow::Result<Value> {
        let board = data(
            &repo
                .run(["--json", "board", "--mission", &repo.slug])
                .success(),
        )?;
        Ok(Value::from(board_lanes(&board)["WP01"].clone()))
    };
    assert_eq!(lane(&repo)?, "planned");
    assert_eq!(lane(&repo)?, "planned", "read again, from the cache");
    // Spec Kitty's compatibility path appends in place (same inode, longer file).
    let log = repo.status_dir().join("status.events.jsonl");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let at = missionctl_core::text::timestamp::isoformat_utc(u64::try_from(now.as_micros())?);
    let row = format!(
        r#"{{"actor": "claude", "at": "{at}", "event_id": "01M0M9D8R83DDKSZ62QKGVZZZZ", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "planned", "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "mission_slug": "invoice-export-01M0M9D8", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "claimed", "wp_id": "WP01"}}"#
    );
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&log)?;
        file.write_all(format!("{row}\n").as_bytes())?;
    }
    assert_eq!(lane(&repo)?, "claimed");
    // A rewrite of the same length in place (same inode, same size) is noticed too.
    let bytes = std::fs::read(&log)?;
    let text =
        String::from_utf8(bytes)?.replace("\"to_lane\": \"claimed\"", "\"to_lane\": \"blocked\"");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))?;
    assert_eq!(lane(&repo)?, "blocked");
    // The next move sees it too, and commits the appended row with its own.
    repo.move_wp("WP01", "in_progress", &["--actor", "a"])
        .success();
    assert_eq!(lane(&repo)?, "in_progress");
    repo.run(["--json", "status", "validate", "--mission", &repo.slug])
        .success();
    Ok(())
}

#[test]
fn history_lists_transitions_and_notes_in_order() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::Lanes)?;
    repo.move_wp("WP02", "planned", &["--actor", "finalize-tasks"])
        .success();
    repo.move_wp(
        "WP01",
        "planned",
        &["--actor", "finalize-tasks", "--note", "ready"],
    )
    .success();
    repo.move_wp(
        "WP01",
        "done",
        &["--force", "--actor", "lead", "--reason", "done elsewhere"],
    )
    .success();
    let all = data(
        &repo
            .run(["--json", "history", "--mission", &repo.slug])
            .success(),
    )?;
    let rows: Vec<(String, String, String)> = all["events"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    (
                        row["wp_id"].as_str().unwrap_or_default().to_owned(),
                        row["kind"].as_str().unwrap_or_default().to_owned(),
                        row["to_lane"].as_str().unwrap_or("-").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expected = [
        ("WP02", "transition", "planned"),
        ("WP01", "transition", "planned"),
        ("WP01", "annotation", "-"),
        ("WP01", "transition", "done"),
    ];
    assert_eq!(
        rows,
        expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    let one = data(
        &repo
            .run(["--json", "history", "--mission", &repo.slug, "--wp", "WP01"])
            .success(),
    )?;
    let events = one["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["delta"]["note"], "ready");
    assert_eq!(events[2]["force"], true);
    assert_eq!(events[2]["reason"], "done elsewhere");
    let text = repo
        .run(["history", "--mission", &repo.slug, "--wp", "WP01"])
        .success();
    assert!(
        text.stdout
            .lines()
            .nth(2)
            .is_some_and(|line| line.contains("planned -> done (forced)  lead  done elsewhere")),
        "{text}"
    );
    Ok(())
}

#[test]
fn validate_passes_a_fresh_mission_and_reports_drift() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    let fresh = repo
        .run(["status", "validate", "--mission", &repo.slug])
        .success();
    assert_eq!(
        fresh.stdout,
        "Status validation: invoice-export-01M0M9D8\nNo events to validate.\nResult: PASS\n"
    );
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    repo.run(["--json", "status", "validate", "--mission", &repo.slug])
        .success();
    std::fs::write(repo.status_dir().join("status.json"), "{}\n")?;
    let failed = repo
        .run(["--json", "status", "validate", "--mission", &repo.slug])
        .code(1);
    let error = failed.json_error()?;
    assert_eq!(error["code"], "STATUS_VALIDATION_FAILED");
    // The report is the failure's `data`: Spec Kitty's verdict and wording, and each finding as
    // an object.
    let report = &failed.json()?["data"];
    assert_eq!(report["passed"], false);
    assert_eq!(
        report["errors"],
        serde_json::json!([
            "Materialization drift: WP01 missing from status.json (expected lane=planned)",
            "Materialization drift: event_count=None in status.json but reducer counted 1",
            "Materialization drift: last_event_id mismatch between status.json and reducer output",
        ])
    );
    assert_eq!(report["error_count"], 3);
    assert_eq!(report["findings"][0]["code"], "SNAPSHOT_DRIFT");
    assert_eq!(report["findings"][0]["wp_id"], "WP01");
    assert_eq!(report["findings"][0]["severity"], "error");
    Ok(())
}

/// Splits a printed command line the way a shell would (double quotes only).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut started = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            _ => {
                current.push(ch);
                started = true;
            }
        }
    }
    if started {
        words.push(current);
    }
    words
}

/// Runs `doctor --json` (checking that it writes nothing) and returns its findings; doctor
/// exits 1, with the report as the failure's `data`, exactly when a finding is an error.
/// See: issue 11 ("`doctor` exits 1 while it reports errors")
fn doctor(repo: &StatusRepo) -> anyhow::Result<Vec<Value>> {
    let before = repo.state()?;
    let output = repo.run(["--json", "doctor"]);
    assert_same_state(&before, &repo.state()?, "doctor is read-only");
    let document = output.json()?;
    let findings = document["data"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let errors = findings
        .iter()
        .filter(|finding| finding["severity"] == "error")
        .count();
    if errors == 0 {
        output.success();
    } else {
        assert_eq!(output.json_error()?["code"], "DOCTOR_FOUND_ERRORS");
        output.code(1);
    }
    Ok(findings)
}

/// Runs the single finding's fix, as printed, and checks that doctor is then clean.
fn apply_fix(repo: &StatusRepo, code: &str) -> anyhow::Result<()> {
    let findings = doctor(repo)?;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], code);
    assert!(findings[0]["severity"].is_string() && findings[0]["message"].is_string());
    let fix = findings[0]["fix"]
        .as_str()
        .unwrap_or_default()
        .replace("<you>", "doctor-test");
    let words = shell_words(&fix);
    assert_eq!(
        words.first().map(String::as_str),
        Some("missionctl"),
        "{fix}"
    );
    repo.run(&words[1..]).success();
    let after = doctor(repo)?;
    assert!(after.is_empty(), "after `{fix}`: {after:?}");
    Ok(())
}

#[test]
fn every_doctor_finding_is_fixed_by_the_command_it_prints() -> TestResult {
    // A snapshot that drifted from its log.
    let repo = StatusRepo::unplanned(MissionTopology::Coord)?;
    assert!(doctor(&repo)?.is_empty(), "a fresh mission is healthy");
    repo.add_wp_file("WP01", &[])?;
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    assert!(
        doctor(&repo)?.is_empty(),
        "a mission with a status is healthy"
    );
    std::fs::write(repo.status_dir().join("status.json"), "{}\n")?;
    apply_fix(&repo, "MATERIALIZATION_DRIFT")?;

    // A claim left for weeks.
    repo.add_wp_file("WP07", &[])?;
    let log = repo.status_dir().join("status.events.jsonl");
    let mut bytes = std::fs::read(&log)?;
    bytes.extend_from_slice(br#"{"actor": "ghost", "at": "2020-01-01T00:00:00+00:00", "event_id": "01M0M9D8R83DDKSZ62QKGVAAAA", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "genesis", "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "mission_slug": "invoice-export-01M0M9D8", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "planned", "wp_id": "WP07"}
{"actor": "ghost", "at": "2020-01-02T00:00:00+00:00", "event_id": "01M0M9D8R83DDKSZ62QKGVAAAB", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "planned", "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "mission_slug": "invoice-export-01M0M9D8", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "claimed", "wp_id": "WP07"}
"#);
    std::fs::write(&log, bytes)?;
    repo.run(["--json", "status", "materialize", "--mission", &repo.slug])
        .success();
    apply_fix(&repo, "STALE_CLAIM")?;

    // Work packages planned in files but never seeded.
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.add_wp_file("WP01", &["T001"])?;
    apply_fix(&repo, "UNINITIALIZED_STATUS")?;

    // A work package only the log has (a forced move recorded it): its file is added.
    let repo = StatusRepo::unplanned(MissionTopology::SingleBranch)?;
    repo.move_wp(
        "WP77",
        "planned",
        &["--force", "--actor", "a", "--reason", "recorded by hand"],
    )
    .success();
    apply_fix(&repo, "PHANTOM_WORK_PACKAGE")?;

    // A coordination branch deleted before the mission was merged: its status is on no branch
    // here; flattening would change the mission's topology and lose it, so the fix restores
    // the branch.
    let repo = StatusRepo::unplanned(MissionTopology::Coord)?;
    repo.git(&["branch", "-D", &repo.status_branch()])?;
    let findings = doctor(&repo)?;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "COORDINATION_BRANCH_DELETED");
    let fix = findings[0]["fix"].as_str().unwrap_or_default();
    assert!(
        fix.starts_with("restore the coordination branch") && !fix.contains("flatten"),
        "{fix}"
    );

    // The same after a merge brought its log back to the primary checkout: flattening
    // completes the merge.
    repo.add_wp_file("WP01", &[])?;
    std::fs::write(
        repo.primary_mission_dir().join("status.events.jsonl"),
        br#"{"actor": "a", "at": "2026-01-01T00:00:00+00:00", "event_id": "01M0M9D8R83DDKSZ62QKGVAAAC", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "genesis", "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "mission_slug": "invoice-export-01M0M9D8", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "planned", "wp_id": "WP01"}
"#,
    )?;
    let dir = repo.primary_mission_dir();
    let reduced = repo
        .run(["status", "reduce", dir.to_str().unwrap_or_default()])
        .success();
    std::fs::write(dir.join("status.json"), reduced.stdout.as_bytes())?;
    repo.git(&["add", "kitty-specs"])?;
    repo.git(&["commit", "--quiet", "--message", "merge the mission"])?;
    apply_fix(&repo, "COORDINATION_BRANCH_DELETED")?;
    repo.move_wp("WP01", "claimed", &["--actor", "a"]).success();

    // A mission whose topology is not stored.
    let repo = StatusRepo::unplanned(MissionTopology::Lanes)?;
    let meta_path = repo.primary_mission_dir().join("meta.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path)?)?;
    if let Some(object) = meta.as_object_mut() {
        object.remove("topology");
    }
    std::fs::write(
        &meta_path,
        format!("{}\n", serde_json::to_string_pretty(&meta)?),
    )?;
    apply_fix(&repo, "TOPOLOGY_NOT_STORED")?;
    Ok(())
}

/// `history --wp` of an id no task file defines and the log never mentions is an error; a work
/// package with a task file and no event yet has an empty history.
/// See: issue 11 ("`history --wp` of an unknown id is `WP_NOT_FOUND`")
#[test]
fn history_of_an_unknown_work_package_is_wp_not_found() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    let history = |wp: &str| repo.run(["--json", "history", "--mission", &repo.slug, "--wp", wp]);
    let one = data(&history("WP01").success())?;
    assert_eq!(one["events"].as_array().map(Vec::len), Some(1));
    let none_yet = data(&history("WP02").success())?;
    assert_eq!(none_yet["events"], serde_json::json!([]));
    let unknown = history("WP99").code(1);
    let error = unknown.json_error()?;
    assert_eq!(error["code"], "WP_NOT_FOUND");
    assert_eq!(
        error["message"],
        "Work package 'WP99' not found under kitty-specs/invoice-export-01M0M9D8/tasks"
    );
    Ok(())
}
