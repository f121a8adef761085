//! Killing processes the way the world kills them: a harness that times out kills a process
//! group (missionctl's git children are in groups of their own, so they survive); an OOM killer
//! or a container stop kills the whole tree, git included, wherever it is.

use std::collections::BTreeMap;
use std::process::{Child, Command};

/// Sends SIGKILL to the process group `pgid` (a child spawned with `process_group(0)` leads
/// the group its pid names).
pub(crate) fn kill_group(pgid: u32) -> anyhow::Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -9 -{pgid} 2>/dev/null"))
        .status()?;
    let _ = status;
    Ok(())
}

/// Stops `pid` and every process below it, then kills them all with SIGKILL, deepest first:
/// nothing in the tree gets to run, or to start another process, in between. (Killing a parent
/// first would orphan its children's stopped process groups, and the kernel would wake them
/// with SIGHUP, which git handles by removing its lock files.)
pub(crate) fn kill_tree(pid: u32) -> anyhow::Result<()> {
    let mut stopped: Vec<u32> = Vec::new();
    loop {
        let new: Vec<u32> = std::iter::once(pid)
            .chain(descendants(pid))
            .filter(|pid| !stopped.contains(pid))
            .collect();
        if new.is_empty() {
            break;
        }
        signal("STOP", &new)?;
        stopped.extend(new);
    }
    stopped.reverse();
    signal("KILL", &stopped)
}

fn signal(name: &str, pids: &[u32]) -> anyhow::Result<()> {
    if pids.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{name} {} 2>/dev/null", list.join(" ")))
        .status()?;
    Ok(())
}

/// Returns every process whose chain of parents reaches `root`, from `/proc`, parents before
/// their children.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`: the command may hold spaces and parentheses.
            let Some(after) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
                continue;
            };
            if let Some(ppid) = after
                .split_whitespace()
                .nth(1)
                .and_then(|field| field.parse::<u32>().ok())
            {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut found: Vec<u32> = Vec::new();
    let mut pending = std::collections::VecDeque::from([root]);
    while let Some(pid) = pending.pop_front() {
        for child in children.get(&pid).into_iter().flatten() {
            if !found.contains(child) {
                found.push(*child);
                pending.push_back(*child);
            }
        }
    }
    found
}

/// How a test kills a writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kill {
    /// Its process group (missionctl alone: git runs in groups of its own).
    Group,
    /// Its whole tree, git children and hooks included.
    Tree,
}

impl Kill {
    /// Kills `child` this way, if it is still running; returns true when it was.
    pub(crate) fn apply(self, child: &mut Child) -> anyhow::Result<bool> {
        if child.try_wait()?.is_some() {
            return Ok(false);
        }
        match self {
            Kill::Group => kill_group(child.id())?,
            Kill::Tree => kill_tree(child.id())?,
        }
        Ok(true)
    }
}

/// A small deterministic generator (64-bit LCG), so a failure replays with the same delays;
/// `MISSIONCTL_SOAK_SEED` changes the seed.
pub(crate) struct Delays(u64);

impl Delays {
    /// Returns the generator for `seed`, or for `MISSIONCTL_SOAK_SEED` when it is set.
    pub(crate) fn new(seed: u64) -> Delays {
        let seed = std::env::var("MISSIONCTL_SOAK_SEED")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(seed);
        Delays(seed)
    }

    /// Returns a delay between 0 and `max`.
    pub(crate) fn next(&mut self, max: std::time::Duration) -> std::time::Duration {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        std::time::Duration::from_micros((self.0 >> 33) % (max + 1))
    }
}

/// Returns `rounds`, multiplied by `MISSIONCTL_SOAK` when it is set (see CONTRIBUTING.md).
pub(crate) fn rounds(rounds: usize) -> usize {
    let factor = std::env::var("MISSIONCTL_SOAK")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    rounds * factor
}
