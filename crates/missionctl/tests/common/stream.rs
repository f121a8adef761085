//! Long-running commands (`events tail`, `board --watch`, `dashboard`): started in the
//! background with the test environment, their stdout read line by line, killed when the test
//! is done.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

use super::TestEnv;

/// How long a test waits for a line it expects before it gives up. Not a timing assertion:
/// only a guard so a broken command fails the test instead of hanging it.
const GIVE_UP: Duration = Duration::from_secs(30);

/// A `missionctl` running in the background.
pub(crate) struct Running {
    child: Child,
    lines: Receiver<String>,
}

impl TestEnv {
    /// Starts `missionctl <args>` in `dir` in the background, with some variables of the
    /// environment replaced; its stdout is read line by line.
    pub(crate) fn spawn_in<I, S>(
        &self,
        dir: &Path,
        args: I,
        overrides: &[(&str, &OsStr)],
    ) -> anyhow::Result<Running>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(env!("CARGO_BIN_EXE_missionctl"))
            .env_clear()
            .envs(self.variables())
            .envs(overrides.iter().copied())
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("stdout is piped"))?;
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Running { child, lines })
    }
}

impl Running {
    /// Returns the next line of stdout.
    pub(crate) fn line(&mut self) -> anyhow::Result<String> {
        match self.lines.recv_timeout(GIVE_UP) {
            Ok(line) => Ok(line),
            Err(_) => {
                let status = self.child.try_wait()?;
                anyhow::bail!("no line within {GIVE_UP:?} (the command's status: {status:?})")
            }
        }
    }

    /// Returns the next line of stdout, parsed as JSON.
    pub(crate) fn json_line(&mut self) -> anyhow::Result<Value> {
        let line = self.line()?;
        serde_json::from_str(&line).map_err(|error| anyhow::anyhow!("{error}: {line}"))
    }

    /// Returns the next JSON line for which `wanted` holds, skipping the others.
    pub(crate) fn json_line_where(
        &mut self,
        wanted: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        loop {
            let value = self.json_line()?;
            if wanted(&value) {
                return Ok(value);
            }
        }
    }

    /// Returns the line that arrives within `wait`, if one does (to check that nothing more
    /// was said).
    pub(crate) fn quiet_for(&mut self, wait: Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }
}

impl Running {
    /// Waits for the command to exit by itself and returns its exit code.
    pub(crate) fn wait(mut self) -> anyhow::Result<Option<i32>> {
        Ok(self.child.wait()?.code())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
