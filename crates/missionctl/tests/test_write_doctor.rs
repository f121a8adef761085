//! `doctor` finds what interrupted writes leave — a journal, a stale git lock file (with its
//! age and the exact command to remove it), a temporary file, a staging checkout, a run
//! directory without `state.json` — exits 1 while one is an error, and `doctor --fix` repairs
//! what is safe (the journal settled, the temporary file removed) and leaves the rest to the
//! printed command, which the test runs. Before, `doctor` reported none of them while every
//! later write failed.
//!
//! See: issue 10, item 8.

use std::time::{Duration, SystemTime};

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::TestResult;
use crate::status_env::{StatusRepo, data};

/// Runs `doctor --json` (with `extra`) and returns its exit code and data.
fn doctor(repo: &StatusRepo, extra: &[&str]) -> anyhow::Result<(Option<i32>, Value)> {
    let mut args = vec!["--json", "doctor"];
    args.extend_from_slice(extra);
    let output = repo.run(&args);
    let document = output.json()?;
    Ok((output.status, document["data"].clone()))
}

/// Returns the findings with `code`.
fn with_code(report: &Value, code: &str) -> Vec<Value> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| finding["code"] == code)
        .cloned()
        .collect()
}

/// Runs a printed fix in a shell at the repository's root.
fn run_fix(repo: &StatusRepo, fix: &str) -> anyhow::Result<()> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(fix)
        .current_dir(&repo.root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "`{fix}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[test]
fn doctor_finds_every_leftover_and_fix_repairs_what_is_safe() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    let (status, clean) = doctor(&repo, &[])?;
    assert_eq!(status, Some(0), "{clean}");
    let leftover_codes = [
        "WRITE_INTERRUPTED",
        "GIT_LOCK_STALE",
        "TEMP_FILE_LEFTOVER",
        "MATERIALIZING_CHECKOUT",
        "RUN_INCOMPLETE",
    ];
    for code in leftover_codes {
        assert!(with_code(&clean, code).is_empty(), "{code}: {clean}");
    }

    // A move stopped before its commit point leaves its journal: an error until settled.
    let stopped = repo.run_stopped_at(
        &[
            "--json",
            "move",
            "WP01",
            "--to",
            "claimed",
            "--mission",
            &repo.slug,
            "--actor",
            "a",
        ],
        "index-installed",
    );
    assert_eq!(stopped.status, Some(86), "{stopped}");
    // A journal whose writer was killed while creating it: its first record cut short.
    let torn = repo.root.join(".git/missionctl/journal/repository.jsonl");
    std::fs::write(&torn, "{\"version\": 1, \"tx")?;
    let (status, report) = doctor(&repo, &[])?;
    assert_eq!(status, Some(1), "{report}");
    let interrupted = with_code(&report, "WRITE_INTERRUPTED");
    assert_eq!(interrupted.len(), 2, "{report}");
    assert!(
        interrupted
            .iter()
            .any(|finding| finding["mission_slug"] == repo.slug.as_str()),
        "{report}"
    );
    assert!(
        interrupted
            .iter()
            .all(|finding| finding["fix"] == "missionctl doctor --fix")
    );

    // A git lock file no write accounts for, an hour old: reported with its age and the exact
    // command, never removed by missionctl.
    let lock = repo.root.join(".git/HEAD.lock");
    std::fs::File::create(&lock)?.set_modified(SystemTime::now() - Duration::from_secs(3600))?;
    // A temporary file of the status cache a killed reader left; a staging checkout; a run
    // directory without state.json.
    let cache = repo.root.join(".git/missionctl/status-cache");
    std::fs::create_dir_all(&cache)?;
    let temp = cache.join(".missionctl-cache-killed.tmp");
    std::fs::write(&temp, "half")?;
    let staging = repo.root.join(".worktrees/.materializing/husk");
    std::fs::create_dir_all(&staging)?;
    let run_dir = repo
        .root
        .join(".kittify/runtime/runs/0123456789abcdef0123456789abcdef");
    std::fs::create_dir_all(&run_dir)?;

    let (status, report) = doctor(&repo, &[])?;
    assert_eq!(status, Some(1), "{report}");
    let stale = with_code(&report, "GIT_LOCK_STALE");
    assert_eq!(stale.len(), 1, "{report}");
    let message = stale[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("HEAD.lock") && message.contains(" s "),
        "{message}"
    );
    assert!(
        stale[0]["fix"]
            .as_str()
            .is_some_and(|fix| fix.starts_with(&format!("rm -- '{}'", lock.display()))),
        "{}",
        stale[0]
    );
    for code in leftover_codes {
        let expected = if code == "WRITE_INTERRUPTED" { 2 } else { 1 };
        assert_eq!(with_code(&report, code).len(), expected, "{code}: {report}");
    }

    // --fix settles the journal and removes the abandoned temporary file, nothing else.
    let (status, fixed) = doctor(&repo, &["--fix"])?;
    assert_eq!(status, Some(1), "{fixed}");
    assert_eq!(fixed["fixed"]["settled"].as_array().map(Vec::len), Some(1));
    assert_eq!(fixed["fixed"]["settled"][0]["completed"], false, "undone");
    assert!(!temp.exists() && !torn.exists());
    assert!(lock.exists() && staging.exists() && run_dir.exists());
    for code in ["WRITE_INTERRUPTED", "TEMP_FILE_LEFTOVER"] {
        assert!(with_code(&fixed, code).is_empty(), "{code}: {fixed}");
    }
    // The rest goes with the printed commands; then doctor is clean.
    for code in ["GIT_LOCK_STALE", "MATERIALIZING_CHECKOUT", "RUN_INCOMPLETE"] {
        for finding in with_code(&fixed, code) {
            run_fix(&repo, finding["fix"].as_str().unwrap_or_default())?;
        }
    }
    let (status, after) = doctor(&repo, &[])?;
    assert_eq!(status, Some(0), "{after}");
    for code in leftover_codes {
        assert!(with_code(&after, code).is_empty(), "{code}: {after}");
    }
    // And the next write works.
    data(&repo.move_wp("WP01", "claimed", &["--actor", "a"]).success())?;
    Ok(())
}
