//! The merge's benchmark: `missionctl merge` of the four-lane mission of the merge tests (four
//! work packages, two dependent), timed as a whole command, and its `--dry-run`. It asserts
//! nothing about time; it prints what it measured (`docs/performance.md` records it).
//!
//! ```sh
//! cargo test --release -p missionctl --test runner -- --ignored bench_merge --nocapture
//! ```

use std::time::{Duration, Instant};

use crate::common::{TestEnv, TestResult};
use crate::test_merge::{MergeRepo, copy_tree};

const ROUNDS: usize = 15;

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: min {:.1} ms, median {:.1} ms, max {:.1} ms ({} runs)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

#[test]
#[ignore = "benchmark: run with --ignored bench_merge --nocapture (release build)"]
fn bench_merge_of_a_four_lane_mission() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &[])?;
    let pristine = env.root().join("pristine");
    copy_tree(&repo.root, &pristine)?;
    let mut dry = Vec::new();
    let mut full = Vec::new();
    for _ in 0..ROUNDS {
        std::fs::remove_dir_all(&repo.root)?;
        copy_tree(&pristine, &repo.root)?;
        let started = Instant::now();
        repo.merge(&env, &["--dry-run"]).success();
        dry.push(started.elapsed());
        let started = Instant::now();
        repo.merge(&env, &[]).success();
        full.push(started.elapsed());
    }
    summary("merge --dry-run (4 lanes)", dry);
    summary("merge (4 lanes, 2 done rows, cleanup)", full);
    Ok(())
}
