//! The review cycle's benchmark: `review start` and `review release` on a work package of the
//! four-work-package mission of the review tests, then `review approve`, each timed as a whole
//! command. It asserts nothing about time; it prints what it measured (`docs/performance.md`
//! records it).
//!
//! ```sh
//! cargo test --release -p missionctl --test runner -- --ignored bench_review --nocapture
//! ```

use std::time::{Duration, Instant};

use crate::common::{TestEnv, TestResult};
use crate::test_review::{four_wp_mission, implement_to_review};

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
#[ignore = "benchmark: run with --ignored bench_review --nocapture (release build)"]
fn bench_review_of_a_work_package() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = four_wp_mission(&env, "bench")?;
    implement_to_review(&env, &repo, &slug, "WP01", "src/store/a.py")?;
    let mut start = Vec::new();
    let mut release = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        env.run_in(
            &repo,
            [
                "review", "start", "WP01", "-m", &slug, "--actor", "claude", "--json",
            ],
        )
        .success();
        start.push(started.elapsed());
        let started = Instant::now();
        env.run_in(
            &repo,
            [
                "review", "release", "WP01", "-m", &slug, "--actor", "lead", "--reason", "bench",
                "--json",
            ],
        )
        .success();
        release.push(started.elapsed());
    }
    let started = Instant::now();
    env.run_in(
        &repo,
        [
            "review", "approve", "WP01", "-m", &slug, "--actor", "claude", "--json",
        ],
    )
    .success();
    let approve = started.elapsed();
    summary("review start (claim, diff summary, 1 commit)", start);
    summary("review release (forced move, 1 commit)", release);
    summary(
        "review approve (cycle file, approval, 3 commits)",
        vec![approve],
    );
    Ok(())
}
