//! The sync benchmark behind `docs/scaling.md`: many clones of one remote served by
//! `git daemon` on 127.0.0.1, all moving work packages and syncing at once, with every mission
//! on one branch or each mission on its own coordination branch. It asserts convergence (every
//! clone ends with the same logs, holding every acknowledged event) and nothing about time; it
//! prints what it measured.
//!
//! ```sh
//! cargo test --release -p missionctl --test runner -- --ignored bench_sync --nocapture
//! ```
//!
//! `MISSIONCTL_BENCH_SYNC` picks the scenarios: `clones×missions` separated by commas (default
//! `10x1,30x1,100x1,100x10`); `MISSIONCTL_BENCH_SYNC_ROUNDS` the rounds of moves and a sync each
//! clone makes (default 3).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::status_env::{data, forward_args, next_lane};

/// Moves each clone makes before each of its syncs.
const MOVES_PER_ROUND: usize = 2;

/// What one sync measured.
#[derive(Debug, Clone)]
struct SyncSample {
    millis: f64,
    attempts: u64,
    failed: Option<String>,
}

/// A remote, its clones, and the missions.
struct Bench {
    env: TestEnv,
    url: String,
    clones: Vec<PathBuf>,
    missions: Vec<String>,
    daemon: Option<std::process::Child>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(daemon) = &mut self.daemon {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

fn run(env: &TestEnv, dir: &Path, args: &[&str]) -> anyhow::Result<Value> {
    let output = env.run_in(dir, args);
    anyhow::ensure!(
        output.status == Some(0),
        "{args:?} in {}: {output}",
        dir.display()
    );
    data(&output)
}

impl Bench {
    /// Builds the origin (missions of `coord` topology when there are several, one
    /// `single_branch` mission otherwise, each with a work package per clone), its bare copy
    /// behind `git daemon`, and the clones, each synced once.
    fn new(clones: usize, missions: usize) -> anyhow::Result<Bench> {
        let env = TestEnv::new()?;
        let origin = env.root().join("origin");
        std::fs::create_dir(&origin)?;
        env.git(&origin, &["init", "--quiet", "--initial-branch", "main"])?;
        for (key, value) in [
            ("user.name", "Planner"),
            ("user.email", "planner@example.com"),
            ("commit.gpgsign", "false"),
            ("gc.auto", "0"),
        ] {
            env.git(&origin, &["config", key, value])?;
        }
        std::fs::write(origin.join("README.md"), "bench\n")?;
        std::fs::write(origin.join(".gitignore"), ".worktrees/\n")?;
        env.git(&origin, &["add", "README.md", ".gitignore"])?;
        env.git(&origin, &["commit", "--quiet", "-m", "initial"])?;
        env.git(&origin, &["switch", "--quiet", "-c", "feature/x"])?;
        let topology = if missions > 1 {
            "coord"
        } else {
            "single_branch"
        };
        for mission in 0..missions {
            run(
                &env,
                &origin,
                &[
                    "--json",
                    "mission",
                    "create",
                    &format!("shard-{mission}"),
                    "--topology",
                    topology,
                ],
            )?;
        }
        let mut names: Vec<String> = std::fs::read_dir(origin.join("kitty-specs"))?
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let per_mission = clones.div_ceil(missions);
        for name in &names {
            let tasks = origin.join("kitty-specs").join(name).join("tasks");
            std::fs::create_dir_all(&tasks)?;
            for wp in 1..=per_mission {
                std::fs::write(
                    tasks.join(format!("WP{wp:02}-work.md")),
                    format!(
                        "---\nwork_package_id: WP{wp:02}\ntitle: Work {wp}\nsubtasks: []\n---\n"
                    ),
                )?;
            }
        }
        env.git(&origin, &["add", "kitty-specs"])?;
        env.git(&origin, &["commit", "--quiet", "-m", "plan"])?;
        let served = env.root().join("served");
        std::fs::create_dir(&served)?;
        env.git(
            env.root(),
            &["clone", "--quiet", "--bare", "origin", "served/remote.git"],
        )?;
        env.git(&served.join("remote.git"), &["config", "gc.auto", "0"])?;
        let (daemon, url) = match start_daemon(&served) {
            Some((daemon, port)) => (Some(daemon), format!("git://127.0.0.1:{port}/remote.git")),
            None => (None, served.join("remote.git").display().to_string()),
        };
        let mut bench = Bench {
            env,
            url,
            clones: Vec::new(),
            missions: names,
            daemon,
        };
        for index in 0..clones {
            let name = format!("clone{index}");
            bench.env.git(
                bench.env.root(),
                &[
                    "clone",
                    "--quiet",
                    "--branch",
                    "feature/x",
                    &bench.url,
                    &name,
                ],
            )?;
            let clone = std::fs::canonicalize(bench.env.root().join(&name))?;
            for (key, value) in [
                ("user.name", format!("Machine {index}")),
                ("user.email", format!("machine{index}@example.com")),
                ("commit.gpgsign", "false".to_owned()),
                ("gc.auto", "0".to_owned()),
            ] {
                bench.env.git(&clone, &["config", key, &value])?;
            }
            run(&bench.env, &clone, &["--json", "sync"])?;
            bench.clones.push(clone);
        }
        Ok(bench)
    }

    /// Returns the mission and work package clone `index` works on.
    fn assignment(&self, index: usize) -> (String, String) {
        let missions = self.missions.len();
        (
            self.missions[index % missions].clone(),
            format!("WP{:02}", index / missions + 1),
        )
    }
}

/// Starts `git daemon` serving `base` on a free port of 127.0.0.1, with pushes enabled.
fn start_daemon(base: &Path) -> Option<(std::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    // `git daemon` would start `git-daemon` as a child that outlives a kill of `git`: start
    // the daemon itself, so dropping the bench stops it.
    let exec_path = std::process::Command::new("git")
        .arg("--exec-path")
        .output()
        .ok()?;
    let exec_path = PathBuf::from(String::from_utf8_lossy(&exec_path.stdout).trim());
    let daemon = std::process::Command::new(exec_path.join("git-daemon"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .args([
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={}", base.display()),
            &base.display().to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((daemon, port));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// One clone's agents: `rounds` times, a few moves of its work package, then a sync.
fn agent(
    bench: &Bench,
    index: usize,
    rounds: usize,
    acked: &Mutex<BTreeSet<String>>,
) -> anyhow::Result<Vec<SyncSample>> {
    let clone = &bench.clones[index];
    let (mission, wp) = bench.assignment(index);
    let mut lane = "genesis";
    let mut samples = Vec::new();
    for _ in 0..rounds {
        for _ in 0..MOVES_PER_ROUND {
            let (to, force) = next_lane(lane);
            let mut args: Vec<String> = ["--json", "move", &wp, "--to", to, "--mission", &mission]
                .map(str::to_owned)
                .to_vec();
            args.extend(forward_args(lane, &format!("agent-{index}")));
            if force {
                args.extend(["--force", "--reason", "next cycle"].map(str::to_owned));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let moved = run(&bench.env, clone, &args)?;
            if let Ok(mut acked) = acked.lock() {
                acked.insert(moved["event_id"].as_str().unwrap_or_default().to_owned());
            }
            lane = to;
        }
        let started = Instant::now();
        let mut args = vec!["--json", "sync"];
        if bench.missions.len() > 1 {
            args.extend(["--mission", mission.as_str()]);
        }
        let output = bench.env.run_in(clone, &args);
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let document: Value = serde_json::from_str(&output.stdout).unwrap_or(Value::Null);
        let attempts = document["data"]["branches"]
            .as_array()
            .map_or(0, |branches| {
                branches
                    .iter()
                    .filter_map(|branch| branch["attempts"].as_u64())
                    .sum()
            });
        samples.push(SyncSample {
            millis,
            attempts,
            failed: (output.status != Some(0))
                .then(|| document["error"]["code"].as_str().unwrap_or("?").to_owned()),
        });
    }
    Ok(samples)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs one scenario and returns its line of the table.
fn scenario(clones: usize, missions: usize, rounds: usize) -> anyhow::Result<String> {
    let setup = Instant::now();
    let bench = Arc::new(Bench::new(clones, missions)?);
    let setup = setup.elapsed();
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let barrier = Arc::new(Barrier::new(clones));
    let started = Instant::now();
    let handles: Vec<_> = (0..clones)
        .map(|index| {
            let bench = Arc::clone(&bench);
            let acked = Arc::clone(&acked);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                agent(&bench, index, rounds, &acked)
            })
        })
        .collect();
    let mut samples = Vec::new();
    for handle in handles {
        let joined = handle
            .join()
            .map_err(|_| anyhow::anyhow!("an agent thread panicked"))??;
        samples.extend(joined);
    }
    let wall = started.elapsed();
    // Settle: every clone syncs in turn until nothing moves, then all must agree.
    let mut settle_failures = 0;
    for _ in 0..2 {
        for clone in &bench.clones {
            if run(&bench.env, clone, &["--json", "sync"]).is_err() {
                settle_failures += 1;
            }
        }
    }
    let acked = acked.lock().map(|acked| acked.clone()).unwrap_or_default();
    let mut ids = BTreeSet::new();
    for mission in &bench.missions {
        let branch = if missions > 1 {
            format!("kitty/mission-{mission}")
        } else {
            "feature/x".to_owned()
        };
        let path = format!("{branch}:kitty-specs/{mission}/status.events.jsonl");
        let first = bench.env.git(&bench.clones[0], &["show", &path])?;
        for clone in &bench.clones {
            let log = bench.env.git(clone, &["show", &path])?;
            anyhow::ensure!(log == first, "{} differs in {}", mission, clone.display());
        }
        ids.extend(missionctl_core::status::sync_merge::event_ids(
            first.as_bytes(),
        ));
    }
    let missing = acked.difference(&ids).count();
    anyhow::ensure!(missing == 0, "{missing} acknowledged events are missing");
    let mut millis: Vec<f64> = samples.iter().map(|sample| sample.millis).collect();
    millis.sort_by(f64::total_cmp);
    let syncs = samples.len() as u64;
    let attempts: u64 = samples.iter().map(|sample| sample.attempts).sum();
    let attempts_per_sync = attempts as f64 / syncs.max(1) as f64;
    let max_attempts = samples
        .iter()
        .map(|sample| sample.attempts)
        .max()
        .unwrap_or(0);
    let failed: Vec<&str> = samples
        .iter()
        .filter_map(|sample| sample.failed.as_deref())
        .collect();
    let retried = samples.iter().filter(|sample| sample.attempts > 1).count();
    Ok(format!(
        "| {clones} | {missions} | {syncs} | {events} | {retried_pct:.0}% | {attempts_per_sync:.2} | \
         {max_attempts} | {failures} | {p50:.0} | {p95:.0} | {max:.0} | {wall:.1} | \
         {throughput:.1} | {setup:.0} s | {settle_failures} |",
        events = acked.len(),
        retried_pct = 100.0 * retried as f64 / syncs.max(1) as f64,
        failures = if failed.is_empty() {
            "0".to_owned()
        } else {
            format!("{} ({})", failed.len(), failed.join(","))
        },
        p50 = percentile(&millis, 0.5),
        p95 = percentile(&millis, 0.95),
        max = millis.last().copied().unwrap_or(0.0),
        wall = wall.as_secs_f64(),
        throughput = acked.len() as f64 / wall.as_secs_f64(),
        setup = setup.as_secs_f64(),
    ))
}

#[test]
#[ignore = "a benchmark: minutes, many processes; run it by hand (see the module documentation)"]
fn bench_sync() -> TestResult {
    let scenarios = std::env::var("MISSIONCTL_BENCH_SYNC")
        .unwrap_or_else(|_| "10x1,30x1,100x1,100x10".to_owned());
    let rounds = std::env::var("MISSIONCTL_BENCH_SYNC_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3);
    println!(
        "| clones | missions | syncs | events | syncs retried | attempts per sync | max attempts | \
         failed syncs | p50 ms | p95 ms | max ms | wall s | events/s | setup | settle failures |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for scenario_text in scenarios.split(',') {
        let Some((clones, missions)) = scenario_text.trim().split_once('x') else {
            anyhow::bail!("a scenario is `<clones>x<missions>`: {scenario_text}");
        };
        let line = scenario(clones.parse()?, missions.parse()?, rounds)?;
        println!("{line}");
    }
    Ok(())
}
