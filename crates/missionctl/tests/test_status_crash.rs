//! Writers killed with SIGKILL at random moments: the log always reads, `status.json` is never
//! half-written, every acknowledged event stays, and the next write succeeds and leaves the
//! checkouts clean.

use std::time::Duration;

use missionctl_core::event_log;
use missionctl_core::topology::MissionTopology;
use serde_json::Value;

use crate::common::TestResult;
use crate::status_env::{StatusRepo, board_lanes, data, forward_args, next_lane};

/// Kills per topology.
const RUNS: usize = 20;

/// A small deterministic generator (64-bit LCG), so a failure replays with the same delays.
struct Delays(u64);

impl Delays {
    /// Returns a delay between 0 and `max`.
    fn next(&mut self, max: Duration) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros((self.0 >> 33) % (max + 1))
    }
}

/// Returns the lane of every work package on the board.
fn lanes(repo: &StatusRepo) -> anyhow::Result<Vec<(String, String)>> {
    let board = data(
        &repo
            .run(["--json", "board", "--mission", &repo.slug])
            .success(),
    )?;
    Ok(board_lanes(&board).into_iter().collect())
}

/// Checks what must hold after every kill.
fn check_intact(repo: &StatusRepo, acked: &[String]) -> anyhow::Result<()> {
    let bytes = repo.log_bytes()?;
    let log = event_log::parse(&bytes);
    anyhow::ensure!(log.errors.is_empty(), "the log reads: {:?}", log.errors);
    anyhow::ensure!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "the log ends with a whole line"
    );
    if let Ok(snapshot) = std::fs::read(repo.status_dir().join("status.json")) {
        let parsed: Value = serde_json::from_slice(&snapshot)
            .map_err(|error| anyhow::anyhow!("status.json is half-written: {error}"))?;
        anyhow::ensure!(parsed["work_packages"].is_object(), "{parsed}");
    }
    let ids = repo.log_ids()?;
    for id in acked {
        anyhow::ensure!(ids.contains(id), "acknowledged event {id} is missing");
    }
    Ok(())
}

#[test]
fn killed_writers_never_corrupt_or_lose_acknowledged_events() -> TestResult {
    let mut delays = Delays(0x5eed_0fc0_ffee);
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = StatusRepo::new(topology)?;
        let wps = ["WP01", "WP02", "WP03"];
        // One write that runs to the end tells how long a write takes on this machine; the
        // kills then land anywhere from the start to a little after the end of a write.
        let started = std::time::Instant::now();
        let first = data(&repo.move_wp("WP01", "planned", &["--actor", "a"]).success())?;
        let window = started.elapsed().mul_f64(1.3);
        let mut acked: Vec<String> =
            vec![first["event_id"].as_str().unwrap_or_default().to_owned()];
        let mut killed = 0;
        for run in 0..RUNS {
            let wp = wps[run % wps.len()];
            let lane = lanes(&repo)?
                .into_iter()
                .find(|(id, _)| id == wp)
                .map_or_else(|| "genesis".to_owned(), |(_, lane)| lane);
            let (to, force) = next_lane(&lane);
            let mut extra = forward_args(&lane, "claude");
            if force {
                extra.extend(["--force", "--reason", "again"].map(str::to_owned));
            }
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let mut child = repo.spawn_move(wp, to, &extra)?;
            std::thread::sleep(delays.next(window));
            let finished = child.try_wait()?.is_some();
            if !finished {
                child.kill()?;
                killed += 1;
            }
            let output = child.wait_with_output()?;
            if output.status.success() {
                let document: Value = serde_json::from_slice(&output.stdout)?;
                acked.push(
                    document["data"]["event_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            } else if finished {
                anyhow::bail!(
                    "run {run}: {wp} {lane} -> {to} failed: {}",
                    String::from_utf8_lossy(&output.stdout)
                );
            }
            check_intact(&repo, &acked)
                .map_err(|error| anyhow::anyhow!("{topology:?} run {run}: {error}"))?;
        }
        assert!(killed > 0, "no writer was killed: the delays are too long");

        // The next write goes through, commits whatever a killed writer left uncommitted, and
        // leaves clean checkouts and a valid status.
        let (wp, lane) = lanes(&repo)?
            .into_iter()
            .next()
            .unwrap_or_else(|| ("WP01".to_owned(), "genesis".to_owned()));
        let (to, force) = next_lane(&lane);
        let mut extra = forward_args(&lane, "claude");
        if force {
            extra.extend(["--force", "--reason", "again"].map(str::to_owned));
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let last = data(&repo.move_wp(&wp, to, &extra).success())?;
        acked.push(last["event_id"].as_str().unwrap_or_default().to_owned());
        check_intact(&repo, &acked)?;
        repo.run(["--json", "status", "validate", "--mission", &repo.slug])
            .success();
        for worktree in [repo.root.clone(), repo.status_worktree()] {
            let status = repo.env.git(
                &worktree,
                &["status", "--porcelain", "--untracked-files=all"],
            )?;
            assert_eq!(status, "", "{topology:?}: {} is clean", worktree.display());
        }
        // Every acknowledged event is committed.
        let committed = repo.git(&[
            "show",
            &format!(
                "{}:kitty-specs/{}/status.events.jsonl",
                repo.status_branch(),
                repo.slug
            ),
        ])?;
        for id in &acked {
            assert!(
                committed.contains(id.as_str()),
                "{topology:?}: {id} committed"
            );
        }
    }
    Ok(())
}
