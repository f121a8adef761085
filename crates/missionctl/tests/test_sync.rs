//! `sync`: three clones of one repository and a bare remote; agents on each clone move work
//! packages (their own, and some shared ones) and sync in a seeded random interleaving. At the
//! end every clone holds the same log and the same `status.json`, byte for byte, and every
//! acknowledged event. A sync killed at any instant leaves the clone consistent and the next
//! one completes. Spec Kitty's merge driver, run on the same three logs, writes what sync
//! committed.
//!
//! `MISSIONCTL_SOAK=<n>` runs the simulation `n` more times with random seeds, each printed when
//! it fails; `MISSIONCTL_SOAK_SEED=<seed>` replays one (see CONTRIBUTING.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::process::{Delays, Kill, rounds};
use crate::common::spec_kitty::{run_spec_kitty, spec_kitty};
use crate::common::{CommandOutput, TestResult};
use crate::status_env::{StatusRepo, TARGET_BRANCH, data, forward_args, next_lane};

const LOG: &str = "status.events.jsonl";
const SNAPSHOT: &str = "status.json";

/// A bare remote and clones of a repository with one mission.
struct Cluster {
    repo: StatusRepo,
    clones: Vec<PathBuf>,
}

impl Cluster {
    /// Returns `count` clones of a fresh repository whose mission has `topology`, all on the
    /// target branch, with `origin` a bare repository. The seed commits `WP01`…`WP09` to
    /// `planned`.
    fn new(topology: MissionTopology, count: usize) -> anyhow::Result<Cluster> {
        let repo = StatusRepo::new(topology)?;
        for wp in crate::status_env::WORK_PACKAGES {
            repo.move_wp(wp, "planned", &["--actor", "finalize-tasks"])
                .success();
        }
        let env = &repo.env;
        let remote = env.root().join("remote.git");
        env.git(
            env.root(),
            &[
                "clone",
                "--quiet",
                "--bare",
                &repo.root.display().to_string(),
                &remote.display().to_string(),
            ],
        )?;
        let _ = remote;
        let mut cluster = Cluster {
            repo,
            clones: Vec::new(),
        };
        for index in 0..count {
            cluster.add_clone()?;
            // A new clone syncs first: its coordination branches are only the remote's.
            cluster.sync(index)?;
        }
        Ok(cluster)
    }

    /// Clones the remote once more (without syncing) and returns the clone's index.
    fn add_clone(&mut self) -> anyhow::Result<usize> {
        let env = &self.repo.env;
        let remote = env.root().join("remote.git");
        let index = self.clones.len();
        let name = format!("clone{index}");
        env.git(
            env.root(),
            &[
                "clone",
                "--quiet",
                "--branch",
                TARGET_BRANCH,
                &remote.display().to_string(),
                &name,
            ],
        )?;
        let clone = std::fs::canonicalize(env.root().join(&name))?;
        for (key, value) in [
            ("user.name", format!("Agent {index}")),
            ("user.email", format!("agent{index}@example.com")),
            ("commit.gpgsign", "false".to_owned()),
            ("gc.auto", "0".to_owned()),
        ] {
            env.git(&clone, &["config", key, &value])?;
        }
        self.clones.push(clone);
        Ok(index)
    }

    fn run(&self, clone: usize, args: &[&str]) -> CommandOutput {
        self.repo.env.run_in(&self.clones[clone], args)
    }

    /// Syncs a clone and returns the report.
    fn sync(&self, clone: usize) -> anyhow::Result<Value> {
        let output = self.run(clone, &["--json", "sync"]);
        anyhow::ensure!(output.status == Some(0), "sync of clone {clone}: {output}");
        data(&output)
    }

    /// Returns the directory of the authoritative status files in a clone.
    fn status_dir(&self, clone: usize) -> PathBuf {
        let root = &self.clones[clone];
        match self.repo.coordination_worktree() {
            Some(coord) => {
                let relative = coord.strip_prefix(&self.repo.root).unwrap_or(&coord);
                root.join(relative)
                    .join("kitty-specs")
                    .join(&self.repo.slug)
            }
            None => root.join("kitty-specs").join(&self.repo.slug),
        }
    }

    /// Returns a work package's lane in a clone, from its log (the view every writer has).
    fn lane(&self, clone: usize, wp: &str) -> anyhow::Result<String> {
        let output = self.run(clone, &["--json", "board", "--mission", &self.repo.slug]);
        let board = data(&output.success())?;
        Ok(crate::status_env::board_lanes(&board)
            .get(wp)
            .cloned()
            .unwrap_or_else(|| "planned".to_owned()))
    }

    /// Moves a work package one step forward in a clone; returns the acknowledged event id.
    fn step(&self, clone: usize, wp: &str) -> anyhow::Result<String> {
        let lane = self.lane(clone, wp)?;
        let (to, force) = next_lane(&lane);
        let mut extra = forward_args(&lane, &format!("agent-{clone}"));
        if force {
            extra.extend(["--force", "--reason", "next cycle"].map(str::to_owned));
        }
        let mut args: Vec<&str> = vec![
            "--json",
            "move",
            wp,
            "--to",
            to,
            "--mission",
            &self.repo.slug,
        ];
        args.extend(extra.iter().map(String::as_str));
        let output = self.run(clone, &args);
        anyhow::ensure!(
            output.status == Some(0),
            "{wp} {lane} -> {to} in clone {clone}: {output}"
        );
        Ok(data(&output)?["event_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Syncs every clone in turn until a whole round moves nothing, then checks that they
    /// agree byte for byte, hold every acknowledged event, and are clean.
    fn settle_and_check(&self, acked: &BTreeSet<String>) -> anyhow::Result<()> {
        for _ in 0..3 {
            for clone in 0..self.clones.len() {
                self.sync(clone)?;
            }
        }
        let first_log = self.committed(0, LOG)?;
        let first_snapshot = self.committed(0, SNAPSHOT)?;
        let ids = missionctl_core::status::sync_merge::event_ids(&first_log);
        let missing: Vec<&String> = acked.difference(&ids).collect();
        anyhow::ensure!(
            missing.is_empty(),
            "acknowledged events missing: {missing:?}"
        );
        for clone in 0..self.clones.len() {
            let log = self.committed(clone, LOG)?;
            let snapshot = self.committed(clone, SNAPSHOT)?;
            anyhow::ensure!(
                log == first_log,
                "clone {clone}'s log differs from clone 0's"
            );
            anyhow::ensure!(
                snapshot == first_snapshot,
                "clone {clone}'s status.json differs from clone 0's"
            );
            // The files a checkout holds are the committed ones.
            let dir = self.status_dir(clone);
            if dir.is_dir() {
                anyhow::ensure!(
                    std::fs::read(dir.join(LOG))? == log,
                    "clone {clone}'s log file"
                );
                anyhow::ensure!(
                    std::fs::read(dir.join(SNAPSHOT))? == snapshot,
                    "clone {clone}'s status.json file"
                );
            }
            let status = self
                .repo
                .env
                .git(&self.clones[clone], &["status", "--porcelain"])?;
            anyhow::ensure!(status.is_empty(), "clone {clone} is not clean: {status}");
            let validated = self.run(
                clone,
                &["--json", "status", "validate", "--mission", &self.repo.slug],
            );
            anyhow::ensure!(validated.status == Some(0), "clone {clone}: {validated}");
        }
        Ok(())
    }

    /// Returns a status file as committed on the clone's status branch.
    fn committed(&self, clone: usize, file: &str) -> anyhow::Result<Vec<u8>> {
        let branch = self.repo.status_branch();
        let path = format!("kitty-specs/{}/{file}", self.repo.slug);
        Ok(self
            .repo
            .env
            .git(&self.clones[clone], &["show", &format!("{branch}:{path}")])?
            .into_bytes())
    }
}

/// One seeded random interleaving: three clones, each with its own work packages and two
/// shared ones, moving and syncing.
fn simulate(seed: u64, topology: MissionTopology) -> anyhow::Result<()> {
    let cluster = Cluster::new(topology, 3)?;
    let mut random = Delays::new(seed);
    let mut pick = |n: u64| -> u64 {
        random
            .next(std::time::Duration::from_micros(n - 1))
            .as_micros() as u64
    };
    let own: [&[&str]; 3] = [&["WP01", "WP02"], &["WP03", "WP04"], &["WP05", "WP06"]];
    let shared = ["WP07", "WP08"];
    let mut acked = BTreeSet::new();
    let mut syncs = 0;
    for _ in 0..24 {
        let clone = pick(3) as usize;
        match pick(5) {
            0 | 1 => {
                cluster.sync(clone)?;
                syncs += 1;
            }
            2 => {
                let wp = shared[pick(2) as usize];
                acked.insert(cluster.step(clone, wp)?);
            }
            _ => {
                let wp = own[clone][pick(2) as usize];
                acked.insert(cluster.step(clone, wp)?);
            }
        }
    }
    let _ = syncs;
    cluster.settle_and_check(&acked)
}

#[test]
fn three_clones_converge_in_a_seeded_interleaving() -> TestResult {
    simulate(14, MissionTopology::SingleBranch)
}

#[test]
fn three_clones_converge_on_a_coordination_branch() -> TestResult {
    simulate(1414, MissionTopology::Coord)
}

/// Soak mode: more interleavings, each with a random seed printed when it fails.
#[test]
fn soak_random_interleavings() -> TestResult {
    let extra = rounds(1) - 1;
    for round in 0..extra {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos() as u64
            ^ (round as u64);
        let topology = if round % 2 == 0 {
            MissionTopology::SingleBranch
        } else {
            MissionTopology::Coord
        };
        if let Err(error) = simulate(seed, topology) {
            anyhow::bail!(
                "soak round {round} failed with seed {seed} ({topology:?}); replay with \
                 MISSIONCTL_SOAK_SEED={seed}: {error:#}"
            );
        }
    }
    Ok(())
}

#[test]
fn two_claims_of_one_work_package_are_reported_with_the_winner() -> TestResult {
    let cluster = Cluster::new(MissionTopology::SingleBranch, 2)?;
    let first = cluster.step(0, "WP01")?;
    let second = cluster.step(1, "WP01")?;
    cluster.sync(0)?;
    let report = cluster.sync(1)?;
    let mission = &report["missions"][0];
    assert_eq!(mission["events_received"], 1, "{report}");
    assert_eq!(mission["events_sent"], 1, "{report}");
    let pairs = mission["concurrent_transitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(pairs.len(), 1, "{report}");
    let ids: BTreeSet<&str> = [
        &pairs[0]["earlier"]["event_id"],
        &pairs[0]["later"]["event_id"],
    ]
    .into_iter()
    .filter_map(Value::as_str)
    .collect();
    assert_eq!(ids, BTreeSet::from([first.as_str(), second.as_str()]));
    assert_eq!(report["branches"][0]["outcome"], "merged", "{report}");
    // The first clone takes the merge as it is: a fast-forward.
    let report = cluster.sync(0)?;
    assert_eq!(report["branches"][0]["outcome"], "received", "{report}");
    let tips: BTreeSet<String> = (0..2)
        .map(|clone| {
            cluster
                .repo
                .env
                .git(&cluster.clones[clone], &["rev-parse", "HEAD"])
        })
        .collect::<Result<_, _>>()?;
    assert_eq!(tips.len(), 1, "both clones end on one commit");
    // `status validate` names the same pair.
    let validated = data(
        &cluster
            .run(
                0,
                &[
                    "--json",
                    "status",
                    "validate",
                    "--mission",
                    &cluster.repo.slug,
                ],
            )
            .success(),
    )?;
    assert_eq!(
        validated["concurrent_transitions"].as_array().map(Vec::len),
        Some(1)
    );
    let text = cluster.run(0, &["sync"]).success();
    assert!(text.stdout.contains("0 received, 0 sent"), "{text}");
    Ok(())
}

#[test]
fn an_unreachable_remote_is_a_clear_error_and_other_commands_work() -> TestResult {
    let cluster = Cluster::new(MissionTopology::SingleBranch, 1)?;
    let remote = cluster.repo.env.root().join("remote.git");
    std::fs::rename(&remote, cluster.repo.env.root().join("gone.git"))?;
    cluster.step(0, "WP01")?;
    let output = cluster.run(0, &["--json", "sync"]).code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "SYNC_REMOTE_UNREACHABLE", "{output}");
    let output = cluster
        .run(0, &["--json", "sync", "--remote", "nowhere"])
        .code(1);
    assert_eq!(output.json_error()?["code"], "SYNC_REMOTE_UNKNOWN");
    Ok(())
}

#[test]
fn the_users_other_changes_are_left_alone() -> TestResult {
    let cluster = Cluster::new(MissionTopology::SingleBranch, 2)?;
    cluster.step(0, "WP01")?;
    cluster.sync(0)?;
    cluster.step(1, "WP02")?;
    // Unrelated work in progress: a staged file, an unstaged change, an untracked file.
    let root = &cluster.clones[1];
    std::fs::write(root.join("staged.txt"), "staged\n")?;
    cluster.repo.env.git(root, &["add", "staged.txt"])?;
    std::fs::write(root.join("README.md"), "edited, not staged\n")?;
    std::fs::write(root.join("scratch.txt"), "untracked\n")?;
    let before = cluster.repo.env.git(root, &["status", "--porcelain"])?;
    let report = cluster.sync(1)?;
    assert_eq!(report["branches"][0]["outcome"], "merged", "{report}");
    assert_eq!(
        cluster.repo.env.git(root, &["status", "--porcelain"])?,
        before
    );
    assert_eq!(
        std::fs::read_to_string(root.join("README.md"))?,
        "edited, not staged\n"
    );
    Ok(())
}

// See: issue 10 ("`mission create` ignores a `reference-transaction` hook that `move` honours"):
// sync's commit path too. What it fetched stays (remote-tracking refs); the local branch, index
// and files do not move.
#[test]
fn a_sync_refused_by_the_reference_transaction_hook_leaves_the_clone_as_it_was() -> TestResult {
    let cluster = Cluster::new(MissionTopology::SingleBranch, 2)?;
    cluster.step(0, "WP01")?;
    cluster.sync(0)?;
    cluster.step(1, "WP02")?;
    let root = &cluster.clones[1];
    let env = &cluster.repo.env;
    let local = |env: &crate::common::TestEnv| -> anyhow::Result<(String, serde_json::Value)> {
        let mut fingerprint = env.fingerprint(root)?;
        let files = fingerprint["files"].take();
        let refs = env.git(
            root,
            &[
                "for-each-ref",
                "refs/heads",
                "--format=%(refname) %(objectname)",
            ],
        )?;
        Ok((refs + &env.git(root, &["ls-files", "--stage"])?, files))
    };
    let before = local(env)?;
    crate::test_write_hooks::refuse_refs(root, "refs/heads/")?;
    let refused = cluster.run(1, &["--json", "sync"]).code(1);
    std::fs::remove_file(root.join(".git/hooks/reference-transaction"))?;
    assert_eq!(
        refused.json_error()?["code"],
        "GIT_HOOK_REJECTED",
        "{refused}"
    );
    assert!(local(env)? == before, "refused, the clone changed");
    let report = cluster.sync(1)?;
    assert_eq!(report["branches"][0]["outcome"], "merged", "{report}");
    Ok(())
}

/// Kills `sync` at every failpoint of the write door and at seeded random instants, then checks
/// that the clone is consistent and the next sync completes and converges.
#[test]
fn a_killed_sync_leaves_the_clone_consistent_and_the_next_one_completes() -> TestResult {
    let cluster = Cluster::new(MissionTopology::SingleBranch, 2)?;
    let mut acked = BTreeSet::new();
    let mut delays = Delays::new(1_414);
    let failpoints = [
        "journal",
        "file",
        "index-locked",
        "index-prepared",
        "index-installed",
        "ref-updated",
        "finish",
    ];
    let kills = failpoints.len() + rounds(6);
    for round in 0..kills {
        acked.insert(cluster.step(0, "WP01")?);
        acked.insert(cluster.step(1, "WP02")?);
        cluster.sync(0)?;
        let root = &cluster.clones[1];
        if let Some(failpoint) = failpoints.get(round) {
            let output = cluster.repo.env.run_with(
                root,
                ["--json", "sync"],
                &[("MISSIONCTL_FAILPOINT", std::ffi::OsStr::new(failpoint))],
            );
            assert!(
                output.status == Some(86) || output.status == Some(0),
                "{failpoint}: {output}"
            );
        } else {
            let mut child = spawn_sync(&cluster, 1)?;
            std::thread::sleep(delays.next(std::time::Duration::from_millis(120)));
            // The process group: git's children run in groups of their own and finish (a
            // push's receive-pack stands for the remote machine, which a local kill never
            // reaches).
            Kill::Group.apply(&mut child)?;
            let _ = child.wait()?;
        }
        // Consistent: the index and HEAD agree on the status files, and git is sound.
        let fsck = cluster.repo.env.git(root, &["fsck", "--no-progress"]);
        assert!(fsck.is_ok(), "round {round}: {fsck:?}");
        let stopped = failpoints.get(round).copied().unwrap_or("a random instant");
        cluster
            .sync(1)
            .map_err(|error| anyhow::anyhow!("round {round}, stopped at {stopped}: {error}"))?;
    }
    cluster.settle_and_check(&acked)?;
    Ok(())
}

/// Starts `missionctl sync` in a clone, in a process group of its own.
fn spawn_sync(cluster: &Cluster, clone: usize) -> anyhow::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let root = cluster.repo.env.root();
    Ok(std::process::Command::new(env!("CARGO_BIN_EXE_missionctl"))
        .process_group(0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("home"))
        .env("TMPDIR", cluster.repo.env.tmp())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .current_dir(&cluster.clones[clone])
        .args(["--json", "sync"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?)
}

/// The three logs of a merge commit: its first parent's, its second parent's and their merge
/// base's.
fn merge_inputs(
    cluster: &Cluster,
    clone: usize,
    commit: &str,
) -> anyhow::Result<BTreeMap<&'static str, Vec<u8>>> {
    let env = &cluster.repo.env;
    let root = &cluster.clones[clone];
    let base = env.git(
        root,
        &["merge-base", &format!("{commit}^1"), &format!("{commit}^2")],
    )?;
    let path = format!("kitty-specs/{}/{LOG}", cluster.repo.slug);
    let mut inputs = BTreeMap::new();
    for (name, revision) in [
        ("base", base.trim().to_owned()),
        ("ours", format!("{commit}^1")),
        ("theirs", format!("{commit}^2")),
        ("merged", commit.to_owned()),
    ] {
        inputs.insert(
            name,
            env.git(root, &["show", &format!("{revision}:{path}")])?
                .into_bytes(),
        );
    }
    Ok(inputs)
}

#[test]
fn spec_kittys_merge_driver_agrees_with_sync() -> TestResult {
    let Some(spec_kitty) = spec_kitty("spec_kittys_merge_driver_agrees_with_sync") else {
        return Ok(());
    };
    let cluster = Cluster::new(MissionTopology::SingleBranch, 2)?;
    for wp in ["WP01", "WP07"] {
        cluster.step(0, wp)?;
    }
    cluster.step(0, "WP01")?;
    for wp in ["WP02", "WP07"] {
        cluster.step(1, wp)?;
    }
    cluster.sync(0)?;
    let report = cluster.sync(1)?;
    assert_eq!(report["branches"][0]["outcome"], "merged", "{report}");
    let inputs = merge_inputs(&cluster, 1, "HEAD")?;
    let dir = cluster.repo.env.tmp().join("sk-merge");
    std::fs::create_dir_all(&dir)?;
    for name in ["base", "ours", "theirs"] {
        std::fs::write(dir.join(name), &inputs[name])?;
    }
    let home = cluster.repo.env.root().join("home");
    let output = run_spec_kitty(
        &spec_kitty,
        &home,
        &cluster.clones[1],
        ["merge-driver-event-log", "base", "ours", "theirs"].map(|name| {
            if name == "merge-driver-event-log" {
                name.to_owned()
            } else {
                dir.join(name).display().to_string()
            }
        }),
    )?;
    assert!(output.status.success(), "{output:?}");
    let by_spec_kitty = std::fs::read(dir.join("ours"))?;
    assert_eq!(
        String::from_utf8_lossy(&by_spec_kitty),
        String::from_utf8_lossy(&inputs["merged"]),
        "Spec Kitty's driver and sync merged the logs differently"
    );
    Ok(())
}

#[test]
fn sync_of_one_mission_by_handle_and_a_branch_only_the_remote_has() -> TestResult {
    let mut cluster = Cluster::new(MissionTopology::Coord, 1)?;
    // A new clone has the coordination branch only as the remote's.
    let clone = cluster.add_clone()?;
    cluster.step(0, "WP01")?;
    let report = cluster.sync(0)?;
    assert_eq!(report["branches"][0]["outcome"], "sent", "{report}");
    let report = cluster.run(clone, &["--json", "sync", "--mission", &cluster.repo.slug]);
    let report = data(&report.success())?;
    assert_eq!(report["missions"][0]["events_received"], 1, "{report}");
    assert_eq!(report["branches"][0]["outcome"], "received", "{report}");
    assert_eq!(cluster.lane(clone, "WP01")?, "claimed");
    Ok(())
}
