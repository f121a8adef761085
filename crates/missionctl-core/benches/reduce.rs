//! Reducer benchmarks: the whole conformance corpus and one synthetic 100,000-event mission.
//!
//! Every input is loaded into memory before timing starts, so the figures cover only the
//! in-process work: parse the log, parse `meta.json`, reduce, and serialize `status.json`.
//! The corpus is found through `MISSIONCTL_CONFORMANCE_DIR` or `../shared/conformance`
//! beside the workspace; without it the corpus benchmarks are skipped with a note.
//! Figures are recorded in `docs/performance.md`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

use missionctl_core::Lane;
use missionctl_core::status::event::{Actor, Annotation, StatusEvent};
use missionctl_core::status::event_log;
use missionctl_core::status::reducer::{IncrementalReducer, reduce, reduce_with_identity};

// The allocator the `missionctl` binary uses (ADR 0005).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One mission held in memory: its log and its `meta.json` bytes.
struct Mission {
    log: Vec<u8>,
    meta: Option<Vec<u8>>,
}

fn corpus_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    let missions = base.join("spec-kitty-missions");
    missions.is_dir().then_some(missions)
}

fn load_corpus(root: &Path) -> Vec<Mission> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("mission root is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.join("status.events.jsonl").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|dir| Mission {
            log: std::fs::read(dir.join("status.events.jsonl")).expect("log is readable"),
            meta: std::fs::read(dir.join("meta.json")).ok(),
        })
        .collect()
}

/// Does what `missionctl status reduce` does in memory; returns the `status.json` length.
fn reduce_one(mission: &Mission) -> usize {
    let log = event_log::parse(&mission.log);
    let meta: Option<Map<String, Value>> = mission
        .meta
        .as_deref()
        .and_then(|bytes| serde_json::from_slice(bytes).ok());
    match reduce_with_identity(&log, meta.as_ref()) {
        Ok(snapshot) => snapshot.to_status_json().len(),
        Err(_) => 0,
    }
}

fn reduce_all(missions: &[Mission]) -> usize {
    missions.iter().map(reduce_one).sum()
}

/// Splits the missions into two halves of about equal log bytes and reduces them on two
/// threads.
fn reduce_all_two_threads(halves: &(Vec<&Mission>, Vec<&Mission>)) -> usize {
    std::thread::scope(|scope| {
        let second = scope.spawn(|| halves.1.iter().map(|m| reduce_one(m)).sum::<usize>());
        let first: usize = halves.0.iter().map(|m| reduce_one(m)).sum();
        first + second.join().expect("worker thread does not panic")
    })
}

fn split_by_bytes(missions: &[Mission]) -> (Vec<&Mission>, Vec<&Mission>) {
    let mut sorted: Vec<&Mission> = missions.iter().collect();
    sorted.sort_by_key(|mission| std::cmp::Reverse(mission.log.len()));
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let (mut left_bytes, mut right_bytes) = (0usize, 0usize);
    for mission in sorted {
        if left_bytes <= right_bytes {
            left_bytes += mission.log.len();
            left.push(mission);
        } else {
            right_bytes += mission.log.len();
            right.push(mission);
        }
    }
    (left, right)
}

/// A small deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// Returns a 26-character uppercase ULID-alphabet id for `n` (ordered by `n`).
fn ulid(n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = vec![b'0'; 26];
    let mut value = n;
    for slot in out.iter_mut().rev().take(13) {
        *slot = ALPHABET[(value % 32) as usize];
        value /= 32;
    }
    out[0..3].copy_from_slice(b"01K");
    String::from_utf8(out).expect("ASCII")
}

/// Returns a current-writer `at` string `seconds` after 2026-07-01T00:00:00.
fn timestamp(seconds: u64, micros: u64) -> String {
    let day = 1 + seconds / 86_400;
    let hour = seconds / 3_600 % 24;
    let minute = seconds / 60 % 60;
    let second = seconds % 60;
    format!("2026-07-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}+00:00")
}

/// Builds one mission log of exactly `rows` rows: work packages walking the review cycle
/// (with rollbacks and a few forced moves), annotations and some lifecycle rows.
fn synthetic_mission(rows: usize) -> Vec<u8> {
    const CYCLE: [(Lane, Lane); 8] = [
        (Lane::Planned, Lane::Claimed),
        (Lane::Claimed, Lane::InProgress),
        (Lane::InProgress, Lane::ForReview),
        (Lane::ForReview, Lane::InReview),
        (Lane::InReview, Lane::InProgress),
        (Lane::InProgress, Lane::ForReview),
        (Lane::ForReview, Lane::InReview),
        (Lane::InReview, Lane::Approved),
    ];
    let mut rng = Lcg(0x5eed);
    let work_packages = 400u64;
    let mut step = vec![0usize; work_packages as usize];
    let mut out = String::with_capacity(rows * 420);
    for index in 0..rows as u64 {
        let wp = rng.below(work_packages);
        let wp_id = format!("WP{:03}", wp + 1);
        let at = timestamp(index * 3, rng.below(1_000_000));
        let event_id = ulid(index);
        let actor = Actor::Name(["claude", "codex", "user"][rng.below(3) as usize].to_owned());
        let line = match rng.below(20) {
            0..=1 => {
                let mut delta = Map::new();
                delta.insert(
                    "agent".to_owned(),
                    json!("claude:opus:implementer:implementer"),
                );
                delta.insert("shell_pid".to_owned(), json!(rng.below(4_000_000)));
                delta.insert(
                    "subtasks".to_owned(),
                    json!({ format!("T{:03}", rng.below(30)): "done" }),
                );
                Annotation {
                    event_id,
                    wp_id,
                    at,
                    actor,
                    delta,
                }
                .to_json_line()
            }
            2 => format!(
                "{{\"aggregate_id\": \"{wp_id}\", \"aggregate_type\": \"WorkPackage\", \"event_id\": \"{event_id}\", \"event_type\": \"WPCreated\", \"payload\": {{\"wp_id\": \"{wp_id}\"}}, \"schema_version\": \"5.0.0\", \"timestamp\": \"{at}\"}}"
            ),
            _ => {
                let slot = &mut step[wp as usize];
                let (from_lane, to_lane) = CYCLE[*slot % CYCLE.len()];
                *slot += 1;
                let claim = from_lane == Lane::Planned;
                StatusEvent {
                    event_id,
                    wp_id,
                    from_lane,
                    to_lane,
                    at,
                    actor,
                    force: rng.below(50) == 0,
                    execution_mode: "worktree".to_owned(),
                    mission_slug: "synthetic-mission-01KYCF83".to_owned(),
                    mission_id: Some("01KYCF83MT808X1J7ZE87ZJXQW".to_owned()),
                    reason: (to_lane == Lane::InProgress && from_lane == Lane::InReview)
                        .then(|| "Changes requested".to_owned()),
                    reason_source: None,
                    review_ref: None,
                    evidence: None,
                    review_result: None,
                    policy_metadata: claim.then(|| {
                        json!({"agent": "claude", "shell_pid": 3905187, "shell_pid_created_at": "1784987482.57"})
                            .into()
                    }),
                }
                .to_json_line()
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.into_bytes()
}

fn benches(c: &mut Criterion) {
    match corpus_dir() {
        Some(root) => {
            let missions = load_corpus(&root);
            let bytes: usize = missions.iter().map(|mission| mission.log.len()).sum();
            println!(
                "corpus: {} missions, {bytes} bytes of logs from {}",
                missions.len(),
                root.display()
            );
            let halves = split_by_bytes(&missions);
            let mut group = c.benchmark_group("corpus");
            group.throughput(Throughput::Bytes(bytes as u64));
            group.sample_size(50);
            group.bench_function("single_thread", |b| {
                b.iter(|| reduce_all(black_box(&missions)));
            });
            group.bench_function("two_threads", |b| {
                b.iter(|| reduce_all_two_threads(black_box(&halves)));
            });
            group.finish();
        }
        None => println!("conformance corpus not present; corpus benchmarks skipped"),
    }

    let synthetic = Mission {
        log: synthetic_mission(100_000),
        meta: None,
    };
    let parsed = event_log::parse(&synthetic.log);
    println!(
        "synthetic: 100000 rows ({} transitions, {} annotations, {} foreign), {} bytes",
        parsed.transitions().count(),
        parsed.annotations().count(),
        parsed.foreign().count(),
        synthetic.log.len()
    );
    let mut group = c.benchmark_group("synthetic");
    group.throughput(Throughput::Elements(100_000));
    group.sample_size(20);
    group.bench_function("100k_events", |b| {
        b.iter(|| reduce_one(black_box(&synthetic)));
    });
    group.finish();

    // The live views' path: one row appended to a 10,000-row log, folded onto the reducer
    // that already holds the other rows, against reducing the whole log again.
    let log = synthetic_mission(10_001);
    let cut = log[..log.len() - 1]
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let (before, appended) = log.split_at(cut);
    let folded = IncrementalReducer::from_bytes(before);
    let mut group = c.benchmark_group("append_one_row_to_10k");
    group.bench_function("incremental", |b| {
        b.iter_batched(
            || folded.clone(),
            |mut reducer| {
                reducer.feed(black_box(appended));
                reducer.snapshot().event_count
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("full_reduce", |b| {
        b.iter(|| reduce(&event_log::parse(black_box(&log))).event_count);
    });
    group.finish();
}

criterion_group!(reducer, benches);
criterion_main!(reducer);
