//! `merge-driver install`, `merge-driver event-log` and `merge-driver status-json`: two clones
//! move work packages of one mission in parallel and `git merge` unions their logs; a
//! conflicting row and a broken line are clear errors that leave ours as it was.

use std::path::{Path, PathBuf};

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::{TestEnv, TestResult, fixtures_dir};
use crate::status_env::{StatusRepo, TARGET_BRANCH, data};

const LOG: &str = "status.events.jsonl";

/// A mission seeded `genesis → planned` for WP01–WP03, the drivers installed and
/// `.gitattributes` committed, and a second clone of it on the target branch.
struct TwoClones {
    repo: StatusRepo,
    other: PathBuf,
}

impl TwoClones {
    fn new() -> anyhow::Result<TwoClones> {
        let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
        for wp in ["WP01", "WP02", "WP03"] {
            repo.move_wp(wp, "planned", &["--actor", "finalize-tasks"])
                .success();
        }
        let installed = data(&repo.run(["--json", "merge-driver", "install"]).success())?;
        assert_eq!(
            installed["attributes_added"],
            serde_json::json!([
                "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log",
                "kitty-specs/**/decisions.events.jsonl merge=spec-kitty-event-log",
                "kitty-specs/**/status.json merge=missionctl-status-json",
            ])
        );
        repo.git(&["add", ".gitattributes"])?;
        repo.git(&["commit", "--quiet", "-m", "merge drivers"])?;
        let other = repo.env.root().join("other");
        repo.env.git(
            repo.env.root(),
            &[
                "clone",
                "--quiet",
                "--branch",
                TARGET_BRANCH,
                &repo.root.display().to_string(),
                "other",
            ],
        )?;
        for (key, value) in [
            ("user.name", "Other Author"),
            ("user.email", "other@example.com"),
            ("commit.gpgsign", "false"),
        ] {
            repo.env.git(&other, &["config", key, value])?;
        }
        Ok(TwoClones { repo, other })
    }

    fn move_in_other(&self, wp: &str, lane: &str) {
        self.repo
            .env
            .run_in(
                &self.other,
                [
                    "--json",
                    "move",
                    wp,
                    "--to",
                    lane,
                    "--mission",
                    &self.repo.slug,
                    "--actor",
                    "codex",
                ],
            )
            .success();
    }

    fn log_at(&self, revision: &str) -> anyhow::Result<String> {
        self.repo.git(&[
            "show",
            &format!("{revision}:kitty-specs/{}/{LOG}", self.repo.slug),
        ])
    }

    /// Fetches the other clone's target branch and merges it; returns git's output.
    fn merge(&self) -> anyhow::Result<std::process::Output> {
        let other = self.other.display().to_string();
        self.repo
            .git(&["fetch", "--quiet", &other, TARGET_BRANCH])?;
        self.repo
            .env
            .git_with_missionctl(&self.repo.root, &["merge", "--no-edit", "FETCH_HEAD"])
    }
}

fn lanes(repo: &StatusRepo) -> anyhow::Result<Value> {
    let dir = repo.primary_mission_dir();
    let reduced = data(
        &repo
            .run([
                Path::new("--json"),
                Path::new("status"),
                Path::new("reduce"),
                &dir,
            ])
            .success(),
    )?;
    let mut lanes = serde_json::Map::new();
    for (wp, state) in reduced["snapshot"]["work_packages"]
        .as_object()
        .into_iter()
        .flatten()
    {
        lanes.insert(wp.clone(), state["lane"].clone());
    }
    Ok(Value::Object(lanes))
}

#[test]
fn install_is_idempotent_and_keeps_other_lines() -> TestResult {
    let env = TestEnv::new()?;
    let root = env.root().join("repo");
    std::fs::create_dir(&root)?;
    env.git(&root, &["init", "--quiet"])?;
    std::fs::write(
        root.join(".gitattributes"),
        "*.png binary\nkitty-specs/**/status.events.jsonl merge=spec-kitty-event-log",
    )?;
    env.git(
        &root,
        &[
            "config",
            "merge.spec-kitty-event-log.driver",
            "spec-kitty merge-driver-event-log %O %A %B",
        ],
    )?;
    let first = data(
        &env.run_in(&root, ["--json", "merge-driver", "install"])
            .success(),
    )?;
    assert_eq!(
        first["attributes_added"],
        serde_json::json!([
            "kitty-specs/**/decisions.events.jsonl merge=spec-kitty-event-log",
            "kitty-specs/**/status.json merge=missionctl-status-json",
        ])
    );
    // Spec Kitty's own driver runs the same union: it is kept.
    assert_eq!(
        first["config_kept"],
        serde_json::json!([{"key": "merge.spec-kitty-event-log.driver", "value": "spec-kitty merge-driver-event-log %O %A %B"}])
    );
    let keys: Vec<&str> = first["config_set"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "merge.spec-kitty-event-log.name",
            "merge.missionctl-status-json.name",
            "merge.missionctl-status-json.driver",
        ]
    );
    assert_eq!(
        env.git(&root, &["config", "merge.spec-kitty-event-log.name"])?,
        "Spec Kitty event log union merge\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".gitattributes"))?,
        "*.png binary\n\
         kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n\
         kitty-specs/**/decisions.events.jsonl merge=spec-kitty-event-log\n\
         kitty-specs/**/status.json merge=missionctl-status-json\n"
    );
    let second = data(
        &env.run_in(&root, ["--json", "merge-driver", "install"])
            .success(),
    )?;
    assert_eq!(second["attributes_added"], serde_json::json!([]));
    assert_eq!(second["config_set"], serde_json::json!([]));
    let text = env.run_in(&root, ["merge-driver", "install"]).success();
    assert!(
        text.stdout.contains("already installed; nothing to do"),
        "{text}"
    );

    // A fresh repository gets Spec Kitty's driver line pointing at missionctl.
    let fresh = env.root().join("fresh");
    std::fs::create_dir(&fresh)?;
    env.git(&fresh, &["init", "--quiet"])?;
    env.run_in(&fresh, ["merge-driver", "install"]).success();
    assert_eq!(
        env.git(&fresh, &["config", "merge.spec-kitty-event-log.driver"])?,
        "missionctl merge-driver event-log %O %A %B\n"
    );
    let outside = env
        .run_in(&env.tmp(), ["--json", "merge-driver", "install"])
        .code(1);
    assert_eq!(outside.json_error()?["code"], "NOT_A_GIT_REPOSITORY");
    Ok(())
}

#[test]
fn parallel_moves_merge_into_the_union_log() -> TestResult {
    let clones = TwoClones::new()?;
    let repo = &clones.repo;
    repo.move_wp("WP01", "claimed", &["--actor", "claude"])
        .success();
    repo.move_wp("WP01", "in_progress", &["--actor", "claude"])
        .success();
    clones.move_in_other("WP02", "claimed");
    clones.move_in_other("WP03", "canceled");
    let base = clones.log_at("HEAD~2")?;
    let ours = clones.log_at("HEAD")?;
    let output = clones.merge()?;
    assert!(
        output.status.success(),
        "git merge failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs = clones
        .log_at("MERGE_HEAD")
        .or_else(|_| clones.log_at("HEAD^2"))?;
    let merged = std::fs::read(repo.primary_mission_dir().join(LOG))?;
    let expected = missionctl_core::status::log_merge::merge_event_logs(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
    )?;
    assert_eq!(String::from_utf8(merged)?, String::from_utf8(expected)?);
    assert_eq!(repo.log_ids()?.len(), 3 + 2 + 2);
    // The driver's note about status.json reached the user through git.
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("status materialize"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        lanes(repo)?,
        serde_json::json!({"WP01": "in_progress", "WP02": "claimed", "WP03": "canceled"})
    );

    // status.json was kept from ours: validate finds the drift, materialize fixes it.
    let drift = repo
        .run(["--json", "status", "validate", "--mission", &repo.slug])
        .code(1);
    assert_eq!(drift.json_error()?["code"], "STATUS_VALIDATION_FAILED");
    let materialized = data(
        &repo
            .run(["--json", "status", "materialize", "--mission", &repo.slug])
            .success(),
    )?;
    assert_eq!(materialized["changed"], true);
    assert_eq!(materialized["event_count"], 7);
    repo.run(["status", "validate", "--mission", &repo.slug])
        .success();
    let status_json = std::fs::read_to_string(repo.primary_mission_dir().join("status.json"))?;
    let reduced = repo
        .run([
            Path::new("status"),
            Path::new("reduce"),
            &repo.primary_mission_dir(),
        ])
        .success();
    assert_eq!(status_json, reduced.stdout);
    assert_eq!(repo.git(&["status", "--porcelain"])?, "");
    Ok(())
}

#[test]
fn both_clones_moving_one_work_package_merge_and_the_later_move_wins() -> TestResult {
    let clones = TwoClones::new()?;
    let repo = &clones.repo;
    repo.move_wp("WP01", "claimed", &["--actor", "claude"])
        .success();
    clones.move_in_other("WP01", "canceled");
    let output = clones.merge()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Both rows are kept; the reducer orders them by (at, event_id): the other clone moved
    // last.
    assert_eq!(repo.log_ids()?.len(), 5);
    assert_eq!(lanes(repo)?["WP01"], "canceled");
    Ok(())
}

#[test]
fn a_conflicting_row_stops_the_merge_and_leaves_ours() -> TestResult {
    let clones = TwoClones::new()?;
    let repo = &clones.repo;
    let log = repo.primary_mission_dir().join(LOG);
    let other_log = clones.other.join("kitty-specs").join(&repo.slug).join(LOG);
    let row = |reason: &str| {
        format!(
            "{{\"actor\": \"x\", \"at\": \"2026-09-01T00:00:00+00:00\", \"event_id\": \"01M0SAME000000000000000000\", \"reason\": \"{reason}\"}}\n"
        )
    };
    let mut ours = std::fs::read_to_string(&log)?;
    ours.push_str(&row("ours"));
    std::fs::write(&log, &ours)?;
    repo.git(&["commit", "--quiet", "-am", "ours"])?;
    let mut theirs = std::fs::read_to_string(&other_log)?;
    theirs.push_str(&row("theirs"));
    std::fs::write(&other_log, &theirs)?;
    repo.env
        .git(&clones.other, &["commit", "--quiet", "-am", "theirs"])?;

    let output = clones.merge()?;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Conflicting payloads found for event_id '01M0SAME000000000000000000'"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "CONFLICT (content): Merge conflict in kitty-specs/{}/{LOG}",
            repo.slug
        )),
        "{stdout}"
    );
    // The driver wrote nothing: the working tree holds ours, the index the three stages.
    assert_eq!(std::fs::read_to_string(&log)?, ours);
    assert_eq!(
        repo.git(&["diff", "--name-only", "--diff-filter=U"])?,
        format!("kitty-specs/{}/{LOG}\n", repo.slug)
    );
    Ok(())
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let [base, ours, theirs] = ["base", "ours", "theirs"].map(|name| env.tmp().join(name));
    let good = "{\"at\": \"2026-01-01T00:00:00Z\", \"event_id\": \"A\"}\n";
    std::fs::write(&ours, format!("{good}{{\"event_id\": \"B\",\n"))?;
    std::fs::write(&theirs, good)?;
    let args = |json: bool| {
        let mut args: Vec<&Path> = Vec::new();
        if json {
            args.push(Path::new("--json"));
        }
        args.extend([
            Path::new("merge-driver"),
            Path::new("event-log"),
            &base,
            &ours,
            &theirs,
        ]);
        args
    };
    let output = env.run(args(true)).code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "EVENT_LOG_INVALID");
    let message = error["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("Cannot merge the event logs: ours: invalid JSON on line 2: "),
        "{message}"
    );
    let text = env.run(args(false)).code(1);
    assert!(text.stdout.is_empty(), "{text}");
    assert!(
        text.stderr
            .starts_with("error: Cannot merge the event logs: ours: invalid JSON on line 2"),
        "{text}"
    );
    assert!(text.stderr.contains("hint: "), "{text}");
    assert_eq!(
        std::fs::read_to_string(&ours)?,
        format!("{good}{{\"event_id\": \"B\",\n")
    );
    // A row without an event id, and a line that is not an object.
    for (bad, expected) in [
        (
            "{\"at\": \"x\"}\n",
            "theirs: line 1 is missing a valid event_id",
        ),
        ("\n[1]\n", "theirs: line 2 is not a JSON object"),
    ] {
        std::fs::write(&ours, good)?;
        std::fs::write(&theirs, bad)?;
        let error = env.run(args(true)).code(1).json_error()?;
        assert_eq!(error["code"], "EVENT_LOG_INVALID");
        assert!(
            error["message"].as_str().unwrap_or("").ends_with(expected),
            "{error}"
        );
    }
    // Success: ours is rewritten, a missing base is empty.
    std::fs::write(
        &theirs,
        "{\"event_id\":\"C\",\"at\":\"2026-01-02T00:00:00Z\"}",
    )?;
    let merged = data(&env.run(args(true)).success())?;
    assert_eq!(merged["rows"], 2);
    assert_eq!(merged["changed"], true);
    assert_eq!(
        std::fs::read_to_string(&ours)?,
        format!("{good}{{\"at\": \"2026-01-02T00:00:00Z\", \"event_id\": \"C\"}}\n")
    );
    Ok(())
}

/// Real Spec Kitty logs, their rows split between ours and theirs (some on both), merge to a
/// log that reduces to the same `status.json` bytes as the original.
#[test]
fn split_corpus_logs_merge_back_to_the_same_snapshot() -> TestResult {
    let env = TestEnv::new()?;
    let mut checked = 0;
    let mut missions: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join(LOG).is_file() && path.join("expected.status.json").is_file())
        .collect();
    missions.sort();
    for mission in missions {
        let log = std::fs::read_to_string(mission.join(LOG))?;
        let rows: Vec<&str> = log.lines().filter(|line| !line.trim().is_empty()).collect();
        // The merge drops a repeated row, which the reducer applies twice for an annotation:
        // only logs whose ids are unique reduce the same after a merge.
        let mut ids: Vec<String> = rows
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|row| row["event_id"].as_str().map(str::to_owned))
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        if count != rows.len() || ids.len() != count || rows.len() < 20 {
            continue;
        }
        let expected = std::fs::read_to_string(mission.join("expected.status.json"))?;
        for seed in [1_u64, 7, 42] {
            let dir = env.tmp().join(format!("{checked}-{seed}"));
            std::fs::create_dir(&dir)?;
            std::fs::copy(mission.join("meta.json"), dir.join("meta.json"))?;
            let (mut ours, mut theirs) = (String::new(), String::new());
            let mut state = seed;
            for row in &rows {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                match state >> 62 {
                    0 => ours.push_str(row),
                    1 => theirs.push_str(row),
                    _ => {
                        ours.push_str(row);
                        ours.push('\n');
                        theirs.push_str(row);
                    }
                }
                ours.push('\n');
                theirs.push('\n');
            }
            std::fs::write(dir.join(LOG), &ours)?;
            let theirs_path = dir.join("theirs");
            std::fs::write(&theirs_path, &theirs)?;
            env.run([
                Path::new("merge-driver"),
                Path::new("event-log"),
                &dir.join("base"),
                &dir.join(LOG),
                &theirs_path,
            ])
            .success();
            let reduced = env
                .run([Path::new("status"), Path::new("reduce"), &dir])
                .success();
            assert_eq!(
                reduced.stdout,
                expected,
                "{} (seed {seed})",
                mission.display()
            );
        }
        checked += 1;
        if checked == 6 {
            break;
        }
    }
    anyhow::ensure!(checked >= 3, "only {checked} corpus logs checked");
    Ok(())
}
