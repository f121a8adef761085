//! A headless Chromium driven through chromedriver's W3C WebDriver protocol: JSON over HTTP on
//! a loopback port, spoken with [`super::http`]. Enough for the dashboard's browser test: open
//! a page, run a script in it, take a screenshot.
//!
//! The browser is Debian's `chromium` and `chromium-driver` (`.ci/run` installs them), started
//! with the flags known to work on these machines (no sandbox as root, no GPU, no background
//! networking, a new empty profile).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http;

/// The environment variable that turns a missing browser from a skip into a failure (set by
/// `.ci/run`).
pub(crate) const REQUIRE_BROWSER: &str = "MISSIONCTL_BROWSER_TEST";

/// A browser session.
pub(crate) struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium. `None` (with a message on stderr) when
    /// they are not installed, unless `MISSIONCTL_BROWSER_TEST=require`.
    pub(crate) fn start(test: &str) -> anyhow::Result<Option<Browser>> {
        let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
        let driver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            anyhow::ensure!(
                std::env::var(REQUIRE_BROWSER).as_deref() != Ok("require"),
                "{test}: chromium and chromedriver are required ({REQUIRE_BROWSER}=require) but not installed"
            );
            eprintln!(
                "SKIPPED {test}: chromium or chromedriver is not installed \
                 (apt-get install chromium chromium-driver; .ci/run installs them)"
            );
            return Ok(None);
        };
        let port = free_port()?;
        let profile = tempfile::Builder::new()
            .prefix("missionctl-chromium-")
            .tempdir()?;
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http::request(port, "GET", "/status", &[], None).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile_dir = browser._profile.path().display().to_string();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={profile_dir}"), "--window-size=1500,820",
                ],
            },
        }}});
        let answer = browser.call("POST", "/session", Some(&capabilities))?;
        browser.session = answer["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no session: {answer}"))?
            .to_owned();
        Ok(Some(browser))
    }

    /// Sends one command and returns its `value`.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let body = body.map(Value::to_string);
        let answer = http::request(self.port, method, path, &[], body.as_deref())?;
        let document = answer.json()?;
        anyhow::ensure!(
            answer.status == 200,
            "WebDriver {method} {path}: {} {document}",
            answer.status
        );
        Ok(document["value"].clone())
    }

    /// Opens an address.
    pub(crate) fn goto(&self, url: &str) -> anyhow::Result<()> {
        let path = format!("/session/{}/url", self.session);
        self.call("POST", &path, Some(&json!({ "url": url })))?;
        Ok(())
    }

    /// Runs a script in the page and returns what it returns.
    pub(crate) fn script(&self, script: &str) -> anyhow::Result<Value> {
        let path = format!("/session/{}/execute/sync", self.session);
        self.call(
            "POST",
            &path,
            Some(&json!({ "script": script, "args": [] })),
        )
    }

    /// Runs `script` until `done` holds for what it returns, at most `limit`; returns the last
    /// answer and how long it took.
    pub(crate) fn wait_for(
        &self,
        script: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<(Value, Duration)> {
        let start = Instant::now();
        loop {
            let value = self.script(script)?;
            if done(&value) {
                return Ok((value, start.elapsed()));
            }
            anyhow::ensure!(
                start.elapsed() < limit,
                "not within {limit:?}; last answer: {value}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Saves a screenshot of the page as PNG.
    pub(crate) fn screenshot(&self, to: &Path) -> anyhow::Result<()> {
        let path = format!("/session/{}/screenshot", self.session);
        let encoded = self.call("GET", &path, None)?;
        let encoded = encoded
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no screenshot"))?;
        std::fs::write(to, base64_decode(encoded)?)?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = http::request(self.port, "DELETE", &path, &[], None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Decodes standard base64 (the screenshot).
fn base64_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            other => anyhow::bail!("not base64: {other}"),
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Ok(out)
}
