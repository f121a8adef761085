//! `missionctl dashboard`: the real server on a demo repository — who it refuses, how a second
//! start and `--stop` find it, that it stops on Ctrl-C, that its JSON API answers in the
//! `--json` shapes of the commands, and, in a headless Chromium, the kanban moving by itself
//! when a work package is moved with the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::common::http::{self, Answer};
use crate::common::stream::Running;
use crate::common::webdriver::Browser;
use crate::common::{TestEnv, TestResult};

/// A demo repository with its dashboard serving.
struct Served {
    env: TestEnv,
    repo: PathBuf,
    server: Running,
    started: Value,
}

impl Served {
    fn start() -> anyhow::Result<Served> {
        let env = TestEnv::new()?;
        let repo = env.root().join("demo");
        env.run(["demo", "--dir", &repo.display().to_string(), "--json"])
            .success();
        let mut server = env.spawn_in(&repo, ["--json", "dashboard"], &[])?;
        let started = server.json_line()?;
        anyhow::ensure!(started["ok"] == true, "{started}");
        Ok(Served {
            env,
            repo,
            server,
            started: started["data"].clone(),
        })
    }

    fn port(&self) -> u16 {
        u16::try_from(self.started["port"].as_u64().unwrap_or_default()).unwrap_or_default()
    }

    fn url(&self) -> &str {
        self.started["url"].as_str().unwrap_or_default()
    }

    fn token(&self) -> &str {
        self.url().split("token=").nth(1).unwrap_or_default()
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<Answer> {
        http::request(self.port(), "GET", path, headers, None)
    }

    /// `GET path?token=…`.
    fn api(&self, path: &str) -> anyhow::Result<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let answer = self.get(&format!("{path}{sep}token={}", self.token()), &[])?;
        anyhow::ensure!(
            answer.status == 200,
            "{path}: {} {}",
            answer.status,
            answer.body
        );
        answer.json()
    }

    /// `missionctl <args> --json` in the demo repository: its `data`.
    fn cli(&self, args: &[&str]) -> anyhow::Result<Value> {
        let mut all = args.to_vec();
        all.push("--json");
        let document = self.env.run_in(&self.repo, &all).success().json()?;
        Ok(document["data"].clone())
    }

    fn mission(&self, prefix: &str) -> anyhow::Result<String> {
        let list = self.cli(&["mission", "list"])?;
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|mission| mission["mission_slug"].as_str())
            .find(|slug| slug.starts_with(prefix))
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no mission {prefix}"))
    }
}

/// A request that must be refused: path, extra headers, status, error code.
type Refused<'a> = (String, Vec<(&'a str, &'a str)>, u16, &'a str);

fn state_file(repo: &Path) -> PathBuf {
    repo.join(".git/missionctl/dashboard.json")
}

#[test]
fn requests_without_the_token_or_from_elsewhere_are_refused() -> TestResult {
    let served = Served::start()?;
    let token = served.token().to_owned();
    let port = served.port();
    let with_token = format!("/api/missions?token={token}");
    let code = |answer: &Answer| -> String {
        answer
            .json()
            .map(|document| {
                document["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default()
    };
    let host = format!("127.0.0.1:{port}");
    let cases: Vec<Refused<'_>> = vec![
        ("/api/missions".to_owned(), vec![], 401, "TOKEN_REQUIRED"),
        ("/".to_owned(), vec![], 401, "TOKEN_REQUIRED"),
        ("/api/events".to_owned(), vec![], 401, "TOKEN_REQUIRED"),
        (
            format!("/api/missions?token={}0", token),
            vec![],
            401,
            "TOKEN_REQUIRED",
        ),
        (
            with_token.clone(),
            vec![("Host", "evil.example")],
            403,
            "FOREIGN_HOST",
        ),
        (
            with_token.clone(),
            vec![("Host", "127.0.0.1:1")],
            403,
            "FOREIGN_HOST",
        ),
        (
            with_token.clone(),
            vec![("Origin", "http://evil.example")],
            403,
            "FOREIGN_ORIGIN",
        ),
        (
            "/assets/app.js".to_owned(),
            vec![("Host", "evil.example")],
            403,
            "FOREIGN_HOST",
        ),
    ];
    for (path, headers, status, expected) in cases {
        let answer = served.get(&path, &headers)?;
        assert_eq!(
            (answer.status, code(&answer).as_str()),
            (status, expected),
            "{path} {headers:?}"
        );
        assert!(
            answer
                .headers
                .to_ascii_lowercase()
                .contains("x-content-type-options: nosniff")
        );
    }
    // A stop request from another site is refused, and the server keeps serving.
    let stop = http::request(
        port,
        "POST",
        &format!("/api/stop?token={token}"),
        &[("Origin", "http://evil.example")],
        None,
    )?;
    assert_eq!(stop.status, 403);
    // The token in the query or in the cookie the page sets, from our own names, passes.
    let page = served.get(&format!("/?token={token}"), &[])?;
    assert_eq!(page.status, 200);
    assert!(
        page.headers
            .contains(&format!("missionctl_dashboard_{port}={token}")),
        "{}",
        page.headers
    );
    assert!(page.headers.contains("HttpOnly") && page.headers.contains("SameSite=Strict"));
    assert!(
        page.headers
            .contains("content-security-policy: default-src 'none'")
    );
    let cookie = format!("missionctl_dashboard_{port}={token}");
    let localhost = format!("localhost:{port}");
    let origin = format!("http://{host}");
    for headers in [
        vec![("Cookie", cookie.as_str())],
        vec![("Host", localhost.as_str()), ("Cookie", cookie.as_str())],
        vec![("Origin", origin.as_str()), ("Cookie", cookie.as_str())],
    ] {
        let answer = served.get("/api/missions", &headers)?;
        assert_eq!(answer.status, 200, "{headers:?}: {}", answer.body);
    }
    // The page's own script and style are the same for everyone: no token needed.
    assert_eq!(served.get("/assets/app.js", &[])?.status, 200);
    assert_eq!(served.get("/assets/style.css", &[])?.status, 200);
    Ok(())
}

#[test]
fn the_api_answers_in_the_shapes_of_the_commands() -> TestResult {
    let served = Served::start()?;
    let slug = served.mission("invoice-export")?;
    let board = served.api(&format!("/api/missions/{slug}/board"))?;
    assert_eq!(board["ok"], true);
    assert_eq!(board["data"], served.cli(&["board", "--mission", &slug])?);
    let history = served.api(&format!("/api/missions/{slug}/history"))?;
    assert_eq!(
        history["data"],
        served.cli(&["history", "--mission", &slug])?
    );
    let one = served.api(&format!("/api/missions/{slug}/history?wp=WP01"))?;
    assert_eq!(
        one["data"],
        served.cli(&["history", "--mission", &slug, "--wp", "WP01"])?
    );
    let context = served.api(&format!("/api/missions/{slug}/context"))?;
    let mut expected = served.cli(&["context", "--mission", &slug])?;
    expected["handle_rule"] = context["data"]["handle_rule"].clone();
    assert_eq!(context["data"], expected);
    let doctor = served.api("/api/doctor")?;
    assert_eq!(doctor["data"], served.cli(&["doctor"])?);
    let all = served.api("/api/board")?;
    assert_eq!(all["data"], served.cli(&["board"])?);
    let missions = served.api("/api/missions")?;
    let lines = missions["data"]["missions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(lines.len(), 4);
    let line = lines
        .iter()
        .find(|line| line["mission_slug"] == slug.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(line["topology"], "lanes_with_coord");
    assert_eq!(
        line["work_packages"],
        board["data"]["work_packages"]
            .as_array()
            .map_or(0, Vec::len)
    );
    let missing = served.get(
        &format!("/api/missions/nope/board?token={}", served.token()),
        &[],
    )?;
    assert_eq!(
        (missing.status, missing.json()?["error"]["code"].clone()),
        (404, Value::from("MISSION_NOT_FOUND"))
    );
    Ok(())
}

#[test]
fn a_second_start_reports_the_first_and_stop_stops_it() -> TestResult {
    let served = Served::start()?;
    let state = state_file(&served.repo);
    assert!(state.is_file(), "the record is written");
    let second = served.cli(&["dashboard"])?;
    assert_eq!(second["already_running"], true);
    assert_eq!(second["url"], served.url());
    assert_eq!(second["pid"], served.started["pid"]);
    let stopped = served.cli(&["dashboard", "--stop"])?;
    assert_eq!(
        (stopped["stopped"].clone(), stopped["pid"].clone()),
        (Value::Bool(true), served.started["pid"].clone())
    );
    let Served {
        server, env, repo, ..
    } = served;
    assert_eq!(server.wait()?, Some(0), "the server exits cleanly");
    assert!(!state.exists(), "the record is removed");
    let again = env
        .run_in(&repo, ["dashboard", "--stop", "--json"])
        .success()
        .json()?;
    assert_eq!(again["data"]["stopped"], false);

    // A record left by a killed dashboard is stale: --stop removes it, a start replaces it.
    std::fs::write(
        &state,
        r#"{"pid": 999999, "port": 1, "token": "x", "url": "http://127.0.0.1:1/?token=x", "started_at": "t", "primary_root": "/nowhere"}"#,
    )?;
    let stale = env
        .run_in(&repo, ["dashboard", "--stop", "--json"])
        .success()
        .json()?;
    assert_eq!(stale["data"]["removed_stale_record"], true);
    std::fs::write(
        &state,
        r#"{"pid": 999999, "port": 1, "token": "x", "url": "u", "started_at": "t", "primary_root": "/nowhere"}"#,
    )?;
    let mut fresh = env.spawn_in(&repo, ["--json", "dashboard"], &[])?;
    let started = fresh.json_line()?;
    assert_eq!(started["data"]["already_running"], false, "{started}");
    Ok(())
}

#[test]
fn ctrl_c_stops_the_server_cleanly() -> TestResult {
    let served = Served::start()?;
    let pid = served.started["pid"]
        .as_u64()
        .unwrap_or_default()
        .to_string();
    let state = state_file(&served.repo);
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()?;
    assert!(status.success());
    let Served { server, .. } = served;
    assert_eq!(server.wait()?, Some(0));
    assert!(!state.exists(), "the record is removed");
    Ok(())
}

/// The kanban in a headless Chromium: every work package in its lane's column, then a move
/// made with the command line shown without reloading the page. The screenshot is kept as a
/// test artifact (and copied to `MISSIONCTL_SCREENSHOT` when set).
#[test]
fn the_kanban_in_a_browser_follows_a_move_without_reloading() -> TestResult {
    let Some(browser) = Browser::start("the_kanban_in_a_browser_follows_a_move_without_reloading")?
    else {
        return Ok(());
    };
    let served = Served::start()?;
    let slug = served.mission("task-list")?;
    let board = served.cli(&["board", "--mission", &slug])?;
    let expected: Vec<(String, String)> = board["work_packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|card| {
            (
                card["id"].as_str().unwrap_or_default().to_owned(),
                card["lane"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(expected.len() >= 3, "{board}");
    browser.goto(&format!("{}#/m/{slug}", served.url()))?;
    let placed = "return [...document.querySelectorAll('.lane .card')].map(c => [c.dataset.wp, c.closest('.lane').dataset.lane]);";
    let (cards, _) = browser.wait_for(placed, Duration::from_secs(20), |value| {
        value
            .as_array()
            .is_some_and(|cards| cards.len() == expected.len())
    })?;
    let shown: Vec<(String, String)> = cards
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            (
                pair[0].as_str().unwrap_or_default().to_owned(),
                pair[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut sorted = shown.clone();
    sorted.sort();
    assert_eq!(
        sorted, expected,
        "each work package sits in its lane's column"
    );
    let loaded_at = browser.script("return window.__missionctl.loadedAt;")?;
    let live = browser.wait_for(
        "return document.getElementById('live').textContent;",
        Duration::from_secs(20),
        |text| text == "live",
    )?;
    assert_eq!(live.0, "live");

    // Move one with the command line; the page shows it without a reload, within 2 seconds.
    let (wp, from) = expected
        .iter()
        .find(|(_, lane)| lane != "blocked")
        .cloned()
        .unwrap_or_default();
    served.cli(&[
        "move",
        &wp,
        "--to",
        "blocked",
        "--mission",
        &slug,
        "--force",
        "--actor",
        "browser-test",
        "--reason",
        "shown live",
    ])?;
    let lane_of = format!(
        "const c = document.querySelector('.card[data-wp=\"{wp}\"]'); return c ? c.closest('.lane').dataset.lane : null;"
    );
    let (lane, took) =
        browser.wait_for(&lane_of, Duration::from_secs(2), |lane| lane == "blocked")?;
    assert_eq!(lane, "blocked", "{wp} moved from {from}");
    eprintln!("the page showed the move {took:?} after the command returned");
    assert_eq!(
        browser.script("return window.__missionctl.loadedAt;")?,
        loaded_at,
        "no reload"
    );
    assert!(
        browser
            .script("return window.__missionctl.updates;")?
            .as_u64()
            >= Some(1)
    );

    let artifact = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-kanban.png");
    browser.screenshot(&artifact)?;
    eprintln!("screenshot: {}", artifact.display());
    if let Some(copy) = std::env::var_os("MISSIONCTL_SCREENSHOT") {
        std::fs::copy(&artifact, copy)?;
    }
    let png = std::fs::read(&artifact)?;
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a real picture"
    );
    Ok(())
}
