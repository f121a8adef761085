//! The acceptance's benchmark: `accept --diagnose`, `accept` and `acceptance verdict` on the
//! four-work-package mission of the acceptance tests, each timed as a whole command. It asserts
//! nothing about time; it prints what it measured (`docs/performance.md` records it).
//!
//! ```sh
//! cargo test --release -p missionctl --test runner -- --ignored bench_accept --nocapture
//! ```

use std::time::{Duration, Instant};

use crate::common::{TestEnv, TestResult};
use crate::test_accept::{approved_mission, pass};

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
#[ignore = "benchmark: run with --ignored bench_accept --nocapture (release build)"]
fn bench_accept_of_a_four_work_package_mission() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = approved_mission(&env, "repo")?;
    for criterion in ["FR-001", "FR-002", "FR-003"] {
        pass(&env, &repo, &slug, criterion)?;
    }
    let mut diagnose = Vec::new();
    let mut accept = Vec::new();
    let mut verdict = Vec::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        env.run_in(
            &repo,
            [
                "accept",
                "--mission",
                &slug,
                "--diagnose",
                "--lenient",
                "--json",
            ],
        )
        .success();
        diagnose.push(started.elapsed());
        let started = Instant::now();
        env.run_in(&repo, ["accept", "--mission", &slug, "--lenient", "--json"])
            .success();
        accept.push(started.elapsed());
        // A verdict that changes the row (evidence alternates), so each one commits.
        let evidence = format!("tests/round_{round}.py");
        let started = Instant::now();
        env.run_in(
            &repo,
            [
                "acceptance",
                "verdict",
                "--mission",
                &slug,
                "--criterion",
                "FR-001",
                "--result",
                "pass",
                "--evidence",
                &evidence,
                "--json",
            ],
        )
        .success();
        verdict.push(started.elapsed());
    }
    summary("accept --diagnose (4 work packages)", diagnose);
    summary("accept (2 commits)", accept);
    summary("acceptance verdict (1 commit)", verdict);
    Ok(())
}
