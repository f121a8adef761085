//! Concurrent writers: 8 processes × 25 transitions on one mission at once lose and duplicate
//! nothing, every acknowledged event is in the log and in its own commit, the snapshot is the
//! reduction of the log; writers racing on one work package with `--expect-from` never both
//! win; and the lock is the very file Spec Kitty locks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::TestResult;
use crate::status_env::{StatusRepo, board_lanes, data, forward_args, next_lane};

/// The writers and the transitions each makes.
const WRITERS: usize = 8;
const TRANSITIONS: usize = 25;

/// One acknowledged move: the event id and its lanes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Acked {
    event_id: String,
    wp_id: String,
    from: String,
    to: String,
}

/// Drives one work package through `TRANSITIONS` moves (forward along the lanes, forced from
/// `done` back to `planned`) and returns what was acknowledged.
fn drive(repo: &StatusRepo, wp: &str) -> anyhow::Result<Vec<Acked>> {
    let mut lane = "genesis";
    let mut acked = Vec::new();
    for _ in 0..TRANSITIONS {
        let (to, force) = next_lane(lane);
        let mut extra = forward_args(lane, &format!("agent-{wp}"));
        if force {
            extra.extend(["--force", "--reason", "next cycle"].map(str::to_owned));
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let output = repo.move_wp(wp, to, &extra);
        anyhow::ensure!(output.status == Some(0), "{wp} {lane} -> {to}: {output}");
        let data = data(&output)?;
        anyhow::ensure!(data["from_lane"] == lane && data["to_lane"] == to, "{data}");
        acked.push(Acked {
            event_id: data["event_id"].as_str().unwrap_or_default().to_owned(),
            wp_id: wp.to_owned(),
            from: lane.to_owned(),
            to: to.to_owned(),
        });
        lane = to;
    }
    Ok(acked)
}

/// Returns the transitions of the authoritative log, in file order.
fn logged(repo: &StatusRepo) -> anyhow::Result<Vec<Acked>> {
    let bytes = repo.log_bytes()?;
    let mut rows = Vec::new();
    for line in String::from_utf8(bytes)?.lines() {
        let row: Value = serde_json::from_str(line)?;
        rows.push(Acked {
            event_id: row["event_id"].as_str().unwrap_or_default().to_owned(),
            wp_id: row["wp_id"].as_str().unwrap_or_default().to_owned(),
            from: row["from_lane"].as_str().unwrap_or_default().to_owned(),
            to: row["to_lane"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(rows)
}

/// Checks what every concurrent test ends with: the snapshot is the log's reduction, the log
/// validates, each of `commits` status commits touches exactly the two files, and both
/// checkouts are clean.
fn check_settled(repo: &StatusRepo, base: &str, commits: usize) -> anyhow::Result<()> {
    let status_dir = repo.status_dir();
    let reduced = repo
        .run([Path::new("status"), Path::new("reduce"), &status_dir])
        .success();
    let snapshot = std::fs::read_to_string(status_dir.join("status.json"))?;
    assert_eq!(
        snapshot, reduced.stdout,
        "status.json is the reduction of the log"
    );
    repo.run(["--json", "status", "validate", "--mission", &repo.slug])
        .success();

    let log = repo.git(&[
        "log",
        "--format=commit %H",
        "--name-only",
        &format!("{base}..{}", repo.status_branch()),
    ])?;
    let mut files_per_commit: Vec<Vec<&str>> = Vec::new();
    for line in log.lines() {
        if line.starts_with("commit ") {
            files_per_commit.push(Vec::new());
        } else if !line.is_empty()
            && let Some(files) = files_per_commit.last_mut()
        {
            files.push(line);
        }
    }
    assert_eq!(
        files_per_commit.len(),
        commits,
        "one commit per acknowledged event"
    );
    let expected = [
        format!("kitty-specs/{}/status.events.jsonl", repo.slug),
        format!("kitty-specs/{}/status.json", repo.slug),
    ];
    for files in &files_per_commit {
        assert!(
            files.iter().all(|file| expected.iter().any(|e| e == file)) && !files.is_empty(),
            "a status commit touched {files:?}"
        );
    }
    for worktree in [repo.root.clone(), repo.status_worktree()] {
        let status = repo.env.git(
            &worktree,
            &["status", "--porcelain", "--untracked-files=all"],
        )?;
        assert_eq!(status, "", "{} is clean", worktree.display());
    }
    Ok(())
}

#[test]
fn eight_writers_lose_and_duplicate_nothing() -> TestResult {
    for topology in [
        MissionTopology::SingleBranch,
        MissionTopology::LanesWithCoord,
    ] {
        let repo = StatusRepo::new(topology)?;
        let base = repo
            .git(&["rev-parse", &repo.status_branch()])?
            .trim()
            .to_owned();
        let wps: Vec<String> = (1..=WRITERS).map(|n| format!("WP{n:02}")).collect();
        // Every writer starts at once, including the first coordination write that creates
        // the coordination worktree.
        let results: Vec<anyhow::Result<Vec<Acked>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = wps
                .iter()
                .map(|wp| {
                    let repo = &repo;
                    scope.spawn(move || drive(repo, wp))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a writer panicked")))
                })
                .collect()
        });
        let mut acked = Vec::new();
        for result in results {
            acked.extend(result?);
        }
        assert_eq!(acked.len(), WRITERS * TRANSITIONS);

        let log = logged(&repo)?;
        let ids: BTreeSet<&str> = log.iter().map(|row| row.event_id.as_str()).collect();
        assert_eq!(ids.len(), log.len(), "no event is duplicated");
        assert_eq!(
            log.len(),
            WRITERS * TRANSITIONS,
            "no event is lost or invented"
        );
        let mut sorted_log = log.clone();
        sorted_log.sort();
        acked.sort();
        assert_eq!(
            sorted_log, acked,
            "the log holds exactly the acknowledged events"
        );
        // Per work package the file order is the order the writer made them.
        for wp in &wps {
            let chain: Vec<&Acked> = log.iter().filter(|row| &row.wp_id == wp).collect();
            for pair in chain.windows(2) {
                assert_eq!(pair[0].to, pair[1].from, "{wp}: {pair:?}");
            }
        }
        check_settled(&repo, &base, WRITERS * TRANSITIONS)?;
        let board = data(
            &repo
                .run(["--json", "board", "--mission", &repo.slug])
                .success(),
        )?;
        let in_review = board_lanes(&board)
            .values()
            .filter(|lane| *lane == "for_review")
            .count();
        assert_eq!(in_review, WRITERS);
    }
    Ok(())
}

/// What one racing writer saw: the event ids it got acknowledged, and its refusals by code.
type WriterOutcome = (Vec<String>, BTreeMap<String, usize>);

/// Returns the lane of a work package as the board shows it (`genesis` when it has none).
fn board_lane(repo: &StatusRepo, wp: &str) -> anyhow::Result<String> {
    let board = data(
        &repo
            .run(["--json", "board", "--mission", &repo.slug])
            .success(),
    )?;
    Ok(board_lanes(&board)
        .remove(wp)
        .unwrap_or_else(|| "genesis".to_owned()))
}

#[test]
fn writers_racing_on_one_work_package_never_both_win() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::Coord)?;
    let base = repo
        .git(&["rev-parse", &repo.status_branch()])?
        .trim()
        .to_owned();
    let attempts = 10;
    let outcomes: Vec<anyhow::Result<WriterOutcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|writer| {
                let repo = &repo;
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    let mut refusals = BTreeMap::new();
                    for _ in 0..attempts {
                        let lane = board_lane(repo, "WP01")?;
                        let (to, force) = next_lane(&lane);
                        let mut extra = forward_args(&lane, &format!("writer-{writer}"));
                        extra.extend(["--expect-from".to_owned(), lane.clone()]);
                        if force {
                            extra.extend(["--force", "--reason", "again"].map(str::to_owned));
                        }
                        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                        let output = repo.move_wp("WP01", to, &extra);
                        match output.status {
                            Some(0) => acked.push(
                                data(&output)?["event_id"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            ),
                            Some(1) => {
                                let code = output.json_error()?["code"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned();
                                *refusals.entry(code).or_insert(0) += 1;
                            }
                            _ => anyhow::bail!("unexpected: {output}"),
                        }
                    }
                    Ok((acked, refusals))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a writer panicked")))
            })
            .collect()
    });
    let mut acked = BTreeSet::new();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in outcomes {
        let (ids, refused) = outcome?;
        acked.extend(ids);
        for (code, count) in refused {
            *refusals.entry(code).or_insert(0) += count;
        }
    }
    // A loser learns it lost from the lock-holder's re-validation (`STALE_FROM_LANE`) or, when
    // it looked after the winner committed, from the state machine.
    for code in refusals.keys() {
        assert!(
            ["STALE_FROM_LANE", "ILLEGAL_TRANSITION"].contains(&code.as_str()),
            "unexpected refusal {code}"
        );
    }
    let log = logged(&repo)?;
    let ids: BTreeSet<String> = log.iter().map(|row| row.event_id.clone()).collect();
    assert_eq!(
        ids, acked,
        "every logged event was acknowledged, and the reverse"
    );
    // The moves form one chain from genesis: no two writers moved from the same lane state.
    let mut lane = "genesis".to_owned();
    for row in &log {
        assert_eq!(row.from, lane, "{log:?}");
        lane = row.to.clone();
    }
    check_settled(&repo, &base, log.len())?;
    Ok(())
}

#[test]
fn the_lock_is_the_file_spec_kitty_locks() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    let dir = repo.root.join(".git/spec-kitty-locks");
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{}.status.lock", repo.slug)))?;
    // Spec Kitty's `filelock` takes an exclusive `flock` on this file.
    lock.lock()?;
    let mut child = repo.spawn_move("WP01", "planned", &["--actor", "a"])?;
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        child.try_wait()?.is_none(),
        "the move must wait while another tool holds the lock"
    );
    assert_eq!(
        repo.log_bytes()?,
        b"",
        "nothing written while the lock is held"
    );
    lock.unlock()?;
    let output = child.wait_with_output()?;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(repo.log_ids()?.len(), 1);
    Ok(())
}

/// Runs `git status` in `worktree` in a loop, as an editor polling the repository does (it
/// takes `index.lock` for a moment to refresh the index), until `stop` is set; returns how
/// many times it ran.
fn editor_polling(
    worktree: std::path::PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut runs = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = std::process::Command::new("git")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_SYSTEM", "/dev/null")
                .current_dir(&worktree)
                .args(["status", "--porcelain", "-uall"])
                .output();
            runs += 1;
        }
        runs
    })
}

// See: issue 10 ("an IDE-style `git status` loop made 5 of 60 moves fail, with no retry").
#[test]
fn an_editor_polling_git_status_makes_no_move_fail() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = StatusRepo::new(topology)?;
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pollers = [
            editor_polling(repo.root.clone(), stop.clone()),
            editor_polling(repo.status_worktree(), stop.clone()),
        ];
        let mut failures = Vec::new();
        for run in 0..30 {
            let to = ["claimed", "planned"][run % 2];
            let output = repo.move_wp(
                "WP01",
                to,
                &["--actor", "a", "--force", "--reason", "editor test"],
            );
            if output.status != Some(0) {
                failures.push(output.to_string());
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let polls: usize = pollers
            .into_iter()
            .map(|poller| poller.join().unwrap_or_default())
            .sum();
        assert!(polls > 0, "the editor polled");
        assert!(failures.is_empty(), "{topology:?}: {failures:?}");
        assert_eq!(
            repo.git(&["status", "--porcelain", "--untracked-files=all"])?,
            "",
            "{topology:?}"
        );
    }
    Ok(())
}
