//! The dashboard's benchmark on a generated repository of 500 missions: start-up, page and API
//! latency, how long an appended event takes to show in a browser, and CPU while idle. It
//! asserts nothing about time; it prints what it measured (`docs/performance.md` records it).
//!
//! ```sh
//! cargo test --release -p missionctl --test runner -- --ignored bench_dashboard --nocapture
//! ```

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use missionctl_core::status::event::{Actor, StatusEvent};
use missionctl_core::status::lane::Lane;

use crate::common::http;
use crate::common::webdriver::Browser;
use crate::common::{TestEnv, TestResult};

const MISSIONS: usize = 500;
const WORK_PACKAGES: usize = 8;
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn mission_id(n: usize) -> String {
    let mut id = *b"01M0M9D8R83DDKSZ62QKGV3YW0";
    id[5] = CROCKFORD[n % 32];
    id[6] = CROCKFORD[(n / 32) % 32];
    id[7] = CROCKFORD[(n / 1024) % 32];
    String::from_utf8(id.to_vec()).unwrap_or_default()
}

fn event_id(mission: usize, row: usize) -> String {
    let mut value = ((mission as u128) << 32) | row as u128 | (1u128 << 100);
    let mut out = [b'0'; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value % 32) as usize];
        value /= 32;
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

fn row(mission: usize, n: usize, slug: &str, wp: usize, from: Lane, to: Lane) -> String {
    StatusEvent {
        event_id: event_id(mission, n),
        wp_id: format!("WP{wp:02}"),
        from_lane: from,
        to_lane: to,
        at: format!("2026-11-01T10:{:02}:{:02}.000000+00:00", n / 60, n % 60),
        actor: Actor::Name(["claude", "codex", "finalize-tasks"][n % 3].to_owned()),
        force: false,
        execution_mode: "worktree".to_owned(),
        mission_slug: slug.to_owned(),
        mission_id: None,
        reason: None,
        reason_source: None,
        review_ref: None,
        evidence: None,
        review_result: None,
        policy_metadata: None,
    }
    .to_json_line()
}

/// Writes 500 missions (8 work packages each, seeded and moved along: about 25 events a
/// mission) and commits them.
fn generate(env: &TestEnv, root: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(root)?;
    env.git(root, &["init", "-q", "-b", "feature/perf"])?;
    env.git(root, &["config", "user.name", "Bench"])?;
    env.git(root, &["config", "user.email", "bench@missionctl.invalid"])?;
    let path = [
        Lane::Claimed,
        Lane::InProgress,
        Lane::ForReview,
        Lane::InReview,
        Lane::Approved,
        Lane::Done,
    ];
    for m in 0..MISSIONS {
        let id = mission_id(m);
        let slug = format!("mission-{m:03}-{}", &id[..8]);
        let dir = root.join("kitty-specs").join(&slug);
        std::fs::create_dir_all(dir.join("tasks"))?;
        let topology = if m % 2 == 0 { "single_branch" } else { "lanes" };
        std::fs::write(
            dir.join("meta.json"),
            format!(
                "{{\n  \"created_at\": \"2026-11-01T10:00:00+00:00\",\n  \"friendly_name\": \"Mission {m}\",\n  \
                 \"mission_id\": \"{id}\",\n  \"mission_number\": null,\n  \"mission_slug\": \"{slug}\",\n  \
                 \"mission_type\": \"software-dev\",\n  \"slug\": \"{slug}\",\n  \"target_branch\": \"feature/perf\",\n  \
                 \"topology\": \"{topology}\"\n}}\n"
            ),
        )?;
        let mut log = String::new();
        let mut n = 0;
        for wp in 1..=WORK_PACKAGES {
            let deps = if wp > 1 {
                format!("[WP{:02}]", wp - 1)
            } else {
                "[]".to_owned()
            };
            std::fs::write(
                dir.join("tasks").join(format!("WP{wp:02}-task-{wp}.md")),
                format!(
                    "---\nwork_package_id: WP{wp:02}\ntitle: Task {wp} of mission {m}\ndependencies: {deps}\nsubtasks: []\n---\n# WP{wp:02}\n"
                ),
            )?;
            log.push_str(&row(m, n, &slug, wp, Lane::Genesis, Lane::Planned));
            log.push('\n');
            n += 1;
            let mut from = Lane::Planned;
            for to in path.iter().take((wp + m) % 5) {
                log.push_str(&row(m, n, &slug, wp, from, *to));
                log.push('\n');
                from = *to;
                n += 1;
            }
        }
        std::fs::write(dir.join("status.events.jsonl"), log)?;
    }
    env.git(root, &["add", "-A"])?;
    env.git(root, &["commit", "-q", "-m", "500 missions"])?;
    Ok(())
}

fn millis_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(0))
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} requests)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        samples.len()
    )
}

/// User and system CPU time of a process, in clock ticks (1/100 s).
fn cpu_ticks(pid: u64) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the command name.
    Ok(fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0))
}

#[test]
#[ignore = "benchmark: run with --ignored bench_dashboard --nocapture (release build)"]
fn bench_dashboard_on_500_missions() -> TestResult {
    let env = TestEnv::new()?;
    let root = env.root().join("repo500");
    let generating = Instant::now();
    generate(&env, &root)?;
    eprintln!(
        "generated {MISSIONS} missions in {:?}",
        generating.elapsed()
    );

    let starting = Instant::now();
    let mut server = env.spawn_in(&root, ["--json", "dashboard"], &[])?;
    let started = server.json_line()?;
    eprintln!(
        "start-up (every log reduced, watches set, listening): {:?}",
        starting.elapsed()
    );
    let data = &started["data"];
    let port = u16::try_from(data["port"].as_u64().unwrap_or_default())?;
    let pid = data["pid"].as_u64().unwrap_or_default();
    let url = data["url"].as_str().unwrap_or_default().to_owned();
    let token = url.split("token=").nth(1).unwrap_or_default().to_owned();
    assert_eq!(data["missions"], MISSIONS);

    let slug = format!("mission-250-{}", &mission_id(250)[..8]);
    for (name, path) in [
        ("page (HTML)", format!("/?token={token}")),
        (
            "missions (500, JSON)",
            format!("/api/missions?token={token}"),
        ),
        (
            "one board (JSON)",
            format!("/api/missions/{slug}/board?token={token}"),
        ),
        ("every board (JSON)", format!("/api/board?token={token}")),
        (
            "one history (JSON)",
            format!("/api/missions/{slug}/history?token={token}"),
        ),
    ] {
        let mut samples = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            let answer = http::request(port, "GET", &path, &[], None)?;
            samples.push(start.elapsed());
            assert_eq!(answer.status, 200, "{name}");
        }
        eprintln!("{name}: {}", percentiles(samples));
    }

    let Some(browser) = Browser::start("bench_dashboard_on_500_missions")? else {
        return Ok(());
    };
    browser.goto(&format!("{url}#/m/{slug}"))?;
    browser.wait_for(
        "return document.getElementById('live').textContent;",
        Duration::from_secs(30),
        |text| text == "live",
    )?;
    let log = root
        .join("kitty-specs")
        .join(&slug)
        .join("status.events.jsonl");
    let mut seen = browser
        .script("return window.__missionctl.updates;")?
        .as_u64()
        .unwrap_or(0);
    let mut latencies = Vec::new();
    let lanes = [Lane::Planned, Lane::Blocked];
    for round in 0..20 {
        std::thread::sleep(Duration::from_millis(300));
        let (from, to) = (lanes[round % 2], lanes[(round + 1) % 2]);
        let mut line = row(250, 10_000 + round, &slug, 1, from, to);
        line = line.replace("2026-11-01T10:", "2026-11-02T10:");
        line.push('\n');
        let before = millis_since_epoch();
        let mut file = std::fs::OpenOptions::new().append(true).open(&log)?;
        file.write_all(line.as_bytes())?;
        drop(file);
        let (_, _) = browser.wait_for(
            "return window.__missionctl.updates;",
            Duration::from_secs(10),
            |count| count.as_u64() > Some(seen),
        )?;
        seen = browser
            .script("return window.__missionctl.updates;")?
            .as_u64()
            .unwrap_or(0);
        let shown = browser
            .script("return window.__missionctl.lastUpdate;")?
            .as_u64()
            .unwrap_or(0);
        latencies.push(Duration::from_millis(shown.saturating_sub(before)));
    }
    latencies.sort();
    eprintln!(
        "appended row to drawn board (browser clock): p50 {:?}, p95 {:?}, max {:?} (20 appends)",
        latencies[10], latencies[18], latencies[19]
    );

    std::thread::sleep(Duration::from_secs(2));
    let before = cpu_ticks(pid)?;
    std::thread::sleep(Duration::from_secs(30));
    let idle = cpu_ticks(pid)? - before;
    eprintln!(
        "idle for 30 s with a page open: {idle} ticks of CPU (1 tick = 10 ms), {:.3}% of one core",
        idle as f64 / 30.0
    );
    drop(browser);
    drop(server);
    Ok(())
}
