//! The hermetic test environment: runs the real `missionctl` binary with a cleared
//! environment, a fixed home and git configuration isolated from the machine's.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

pub(crate) mod git_repo;
pub(crate) mod http;
pub(crate) mod process;
pub(crate) mod sk_repo;
pub(crate) mod spec_kitty;
pub(crate) mod stream;
pub(crate) mod webdriver;

/// The result type of the tests.
pub(crate) type TestResult = anyhow::Result<()>;

/// The fixed author and committer date of every git commit the tests make themselves.
const GIT_DATE: &str = "2001-02-03T04:05:06+00:00";

/// A temporary directory that stands in for the user's machine: `HOME`, `TMPDIR` and a
/// scratch area live under it.
pub(crate) struct TestEnv {
    root: Root,
}

/// Where a [`TestEnv`] lives: a temporary directory removed when the environment is dropped,
/// or a directory kept for the whole test run (see [`TestEnv::kept`]).
enum Root {
    Temporary(TempDir),
    Kept(PathBuf),
}

impl Root {
    fn path(&self) -> &Path {
        match self {
            Root::Temporary(dir) => dir.path(),
            Root::Kept(path) => path,
        }
    }
}

impl TestEnv {
    /// Returns a new environment with `home/` and `tmp/` created.
    pub(crate) fn new() -> anyhow::Result<TestEnv> {
        let root = tempfile::Builder::new()
            .prefix("missionctl-test-")
            .tempdir()?;
        std::fs::create_dir(root.path().join("home"))?;
        std::fs::create_dir(root.path().join("tmp"))?;
        Ok(TestEnv {
            root: Root::Temporary(root),
        })
    }

    /// Returns an environment in `root` (created with `home/` and `tmp/`) that is never
    /// removed by the tests: for state shared by the whole test run, which the caller cleans
    /// up itself.
    pub(crate) fn kept(root: PathBuf) -> anyhow::Result<TestEnv> {
        std::fs::create_dir_all(root.join("home"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(TestEnv {
            root: Root::Kept(root),
        })
    }

    /// Returns the root of the environment (printed as `$TEST_ENV` in snapshots).
    pub(crate) fn root(&self) -> &Path {
        self.root.path()
    }

    /// Returns the temporary directory `missionctl` sees as `TMPDIR`.
    pub(crate) fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// Returns the whole environment of every process the tests start (after `env_clear`).
    fn variables(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", self.root.path().join("home").into_os_string()),
            ("TMPDIR", self.tmp().into_os_string()),
            ("GIT_CONFIG_GLOBAL", OsString::from("/dev/null")),
            ("GIT_CONFIG_SYSTEM", OsString::from("/dev/null")),
            ("GIT_AUTHOR_DATE", OsString::from(GIT_DATE)),
            ("GIT_COMMITTER_DATE", OsString::from(GIT_DATE)),
        ]
    }

    /// Runs `missionctl` with the arguments in `dir`.
    #[must_use]
    pub(crate) fn run_in<I, S>(&self, dir: &Path, args: I) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_with(dir, args, &[])
    }

    /// Runs `missionctl` in `dir` with some variables of the environment replaced.
    #[must_use]
    pub(crate) fn run_with<I, S>(
        &self,
        dir: &Path,
        args: I,
        overrides: &[(&str, &OsStr)],
    ) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = assert_cmd::cargo::cargo_bin_cmd!("missionctl")
            .env_clear()
            .envs(self.variables())
            .envs(overrides.iter().copied())
            .current_dir(dir)
            .args(args)
            .output()
            .expect("the missionctl binary runs");
        CommandOutput {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            status: output.status.code(),
            root: self.root.path().display().to_string(),
        }
    }

    /// Returns a `missionctl` command in `dir` with the environment every run gets, its output
    /// piped, in a process group of its own: for tests that run several at once, or kill one.
    pub(crate) fn command<I, S>(&self, dir: &Path, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(env!("CARGO_BIN_EXE_missionctl"));
        command
            .env_clear()
            .envs(self.variables())
            .current_dir(dir)
            .args(args)
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }

    /// Runs `missionctl` with the arguments in the environment's root.
    #[must_use]
    pub(crate) fn run<I, S>(&self, args: I) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_in(self.root.path(), args)
    }

    /// Runs `git` in `dir` under the same isolation and returns its stdout.
    pub(crate) fn git(&self, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("git")
            .env_clear()
            .envs(self.variables())
            .current_dir(dir)
            .args(args)
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?)
    }
}

impl TestEnv {
    /// Runs `git` in `dir` like [`TestEnv::git`], with the `missionctl` under test first on
    /// `PATH` (so merge drivers registered as `missionctl …` run it), and returns its output
    /// whatever the exit code.
    pub(crate) fn git_with_missionctl(
        &self,
        dir: &Path,
        args: &[&str],
    ) -> anyhow::Result<std::process::Output> {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_missionctl"))
            .parent()
            .ok_or_else(|| anyhow::anyhow!("the binary has a directory"))?;
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            std::iter::once(bin_dir.to_path_buf()).chain(std::env::split_paths(&inherited)),
        )?;
        Ok(Command::new("git")
            .env_clear()
            .envs(self.variables())
            .env("PATH", path)
            .current_dir(dir)
            .args(args)
            .output()?)
    }
}

/// The vendored mission directories (`tests/fixtures/missions/`).
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/missions")
}

/// One run of the binary: what it printed and how it exited.
///
/// [`TestEnv::run`] is `#[must_use]`, so every run is checked (`.success()`, `.code(n)`) or
/// snapshotted.
#[derive(Debug, Clone)]
pub(crate) struct CommandOutput {
    /// Everything printed on stdout.
    pub(crate) stdout: String,
    /// Everything printed on stderr.
    pub(crate) stderr: String,
    /// The exit code (`None` when killed by a signal).
    pub(crate) status: Option<i32>,
    root: String,
}

impl CommandOutput {
    /// Asserts exit code 0 and returns the output.
    #[track_caller]
    pub(crate) fn success(self) -> CommandOutput {
        assert_eq!(self.status, Some(0), "{self}");
        self
    }

    /// Asserts the exit code and returns the output.
    #[track_caller]
    pub(crate) fn code(self, code: i32) -> CommandOutput {
        assert_eq!(self.status, Some(code), "{self}");
        self
    }

    /// Parses stdout as exactly one JSON document on exactly one line.
    #[track_caller]
    pub(crate) fn json(&self) -> anyhow::Result<Value> {
        anyhow::ensure!(
            self.stdout.ends_with('\n') && self.stdout.matches('\n').count() == 1,
            "stdout is not exactly one line:\n{self}"
        );
        let mut documents = serde_json::Deserializer::from_str(&self.stdout).into_iter::<Value>();
        let document = documents
            .next()
            .ok_or_else(|| anyhow::anyhow!("stdout holds no JSON document"))??;
        anyhow::ensure!(
            documents.next().is_none(),
            "stdout holds more than one JSON document"
        );
        Ok(document)
    }

    /// Parses a failure document and returns its `error` object, checking its shape.
    #[track_caller]
    pub(crate) fn json_error(&self) -> anyhow::Result<Value> {
        let document = self.json()?;
        anyhow::ensure!(
            document["ok"] == Value::Bool(false),
            "not a failure: {document}"
        );
        let error = document["error"].clone();
        let keys: Vec<&String> = error
            .as_object()
            .map(|object| object.keys().collect())
            .unwrap_or_default();
        anyhow::ensure!(
            keys == ["code", "hint", "message"],
            "error keys are {keys:?}"
        );
        anyhow::ensure!(error["code"].is_string() && error["message"].is_string());
        anyhow::ensure!(error["hint"].is_string() || error["hint"].is_null());
        Ok(error)
    }

    /// Returns a text with the temporary root replaced by `$TEST_ENV`.
    fn normalize(&self, text: &str) -> String {
        text.replace(&self.root, "$TEST_ENV")
    }
}

/// stdout, a divider, stderr and the exit status, as the inline snapshots show them.
impl fmt::Display for CommandOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.normalize(&self.stdout))?;
        if !self.stderr.is_empty() {
            write!(
                f,
                "------- stderr -------\n{}",
                self.normalize(&self.stderr)
            )?;
        }
        match self.status {
            Some(0) => Ok(()),
            Some(code) => writeln!(f, "[exit status: {code}]"),
            None => writeln!(f, "[killed by a signal]"),
        }
    }
}
