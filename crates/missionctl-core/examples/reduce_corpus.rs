//! Reduces every mission of the conformance corpus `PASSES` times (default 1), doing the
//! same work per mission as the `reduce` benchmark, for profilers that want a plain process
//! and for a quick best-of-N timing on a noisy machine:
//!
//! ```sh
//! cargo build --release -p missionctl-core --example reduce_corpus
//! target/release/examples/reduce_corpus 30          # best and median pass, one thread
//! target/release/examples/reduce_corpus 30 2        # the same on two threads
//! valgrind --tool=callgrind target/release/examples/reduce_corpus 0   # loading only
//! valgrind --tool=callgrind target/release/examples/reduce_corpus 1   # loading + one pass
//! ```
//!
//! The corpus is found through `MISSIONCTL_CONFORMANCE_DIR` or `../shared/conformance`
//! beside the workspace.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use missionctl_core::status::event_log;
use missionctl_core::status::reducer::reduce_with_identity;

// The allocator the `missionctl` binary uses (ADR 0005).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One mission held in memory: its log and its `meta.json` bytes.
type Mission = (Vec<u8>, Option<Vec<u8>>);

fn reduce_one((log, meta): &Mission) -> usize {
    let log = event_log::parse(log);
    let meta: Option<Map<String, Value>> = meta
        .as_deref()
        .and_then(|bytes| serde_json::from_slice(bytes).ok());
    reduce_with_identity(&log, meta.as_ref())
        .map(|snapshot| snapshot.to_status_json().len())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let passes: usize = args
        .next()
        .map(|text| text.parse().expect("PASSES is a number"))
        .unwrap_or(1);
    let threads: usize = args
        .next()
        .map(|text| text.parse().expect("THREADS is a number"))
        .unwrap_or(1);
    let base = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    let root = base.join("spec-kitty-missions");
    let mut missions: Vec<Mission> = Vec::new();
    let entries =
        std::fs::read_dir(&root).unwrap_or_else(|error| panic!("{}: {error}", root.display()));
    for entry in entries {
        let dir = entry.expect("directory entry").path();
        if let Ok(log) = std::fs::read(dir.join("status.events.jsonl")) {
            missions.push((log, std::fs::read(dir.join("meta.json")).ok()));
        }
    }
    // Largest first, dealt to the thread with fewer bytes so far.
    missions.sort_by_key(|mission| std::cmp::Reverse(mission.0.len()));
    let mut shares: Vec<(usize, Vec<&Mission>)> = vec![(0, Vec::new()); threads.max(1)];
    for mission in &missions {
        if let Some(share) = shares.iter_mut().min_by_key(|share| share.0) {
            share.0 += mission.0.len();
            share.1.push(mission);
        }
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut written = 0;
    for _ in 0..passes {
        let start = Instant::now();
        written = std::thread::scope(|scope| {
            let workers: Vec<_> = shares
                .iter()
                .map(|(_, share)| {
                    scope.spawn(|| share.iter().map(|m| reduce_one(m)).sum::<usize>())
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("worker does not panic"))
                .sum()
        });
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{} missions, {written} bytes of status.json per pass",
        missions.len()
    );
    if let (Some(best), Some(median)) = (times.first(), times.get(times.len() / 2)) {
        println!("{passes} passes on {threads} thread(s): best {best:.1?}, median {median:.1?}");
    }
}
