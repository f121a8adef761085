//! Differential testing against Spec Kitty 3.2.7's recorded answers on its own repository.
//!
//! The data set is `spec-kitty-repo`: Spec Kitty's own missions as whole files, the repository
//! files around them that the read commands open, the list of every path of the oracle's work
//! tree (`repo-tree.tsv`) and, for every mission and command, what Spec Kitty 3.2.7 answered
//! (`expected/<dir>/<command>.json`: `argv`, `exit_code`, `stdout`, `stderr_head`). It is read
//! from `$MISSIONCTL_CONFORMANCE_DIR/spec-kitty-repo`, else `../shared/conformance/spec-kitty-repo`
//! beside the workspace, else the subset vendored in `tests/fixtures/spec-kitty-repo` (so a
//! fresh clone still checks something).
//!
//! - [`fresh_repo`] builds, once per run of the test binary, the repository the data set's
//!   recipe (`tools/make_fresh_repo.py`) builds: `git init -b main`, every row of
//!   `repo-tree.tsv` (mission files, repository context files, empty placeholder files,
//!   symbolic links, executable bits), one commit, `origin/main` and `origin/HEAD`, and no
//!   other branch.
//! - [`canonical`] applies the data set's normalisation rules (`tools/normalize.py`): the
//!   repository's path becomes `<repo>`, a stdout that is one JSON document is compared as
//!   data (object key order ignored) with the clock-dependent fields masked, any other stdout
//!   is compared with all whitespace removed.
//! - [`Differential`] runs the real `missionctl` binary on every mission for one command and
//!   collects every mismatch with a diff; [`Differential::assert_agrees`] fails with all of
//!   them. A command test maps Spec Kitty's answer to ours (the mapping is documented in
//!   `docs/compatibility.md`) and pins, per mission and with its reason, the few answers where
//!   Spec Kitty is demonstrably wrong ([`Pinned`]). There is no allow-list: a pin states the
//!   answer missionctl gives, and a pinned mission that starts agreeing with Spec Kitty fails
//!   until the pin is removed.
//!
//! Directory listings: Spec Kitty iterates some directories unsorted, and the expected answers
//! are the ones a byte-ordered listing gives; missionctl sorts every listing it depends on, and
//! this repository is built on an ordinary file system (hash order) so that the tests check it.
//!
//! Command tests built on this module: `test_sk_board` (`board --json` against
//! `agent tasks status --json`), `test_sk_validate` (`status validate --json` against
//! `agent status validate --json`), `test_sk_next` (`next --json` against `next --json`) and
//! `test_sk_finalize` (`tasks finalize --validate-only --json` against `agent mission
//! finalize-tasks --validate-only --json`).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::{CommandOutput, TestEnv};

/// The environment variable that points at a `conformance` directory.
const CONFORMANCE_DIR_VAR: &str = "MISSIONCTL_CONFORMANCE_DIR";

/// The data set's directory name inside `conformance/`.
const SPLIT_NAME: &str = "spec-kitty-repo";

/// One of the four read commands of the data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkCommand {
    /// `spec-kitty agent tasks status --json`, missionctl's `board --json`.
    Board,
    /// `spec-kitty agent status validate --json`, missionctl's `status validate --json`.
    Validate,
    /// `spec-kitty next --agent claude --json` (query), missionctl's `next --json`.
    Next,
    /// `spec-kitty agent mission finalize-tasks --validate-only --json`, missionctl's
    /// `tasks finalize --validate-only --json`.
    Finalize,
}

impl SkCommand {
    /// Returns the name of the expected-answer file (`expected/<dir>/<name>.json`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            SkCommand::Board => "board",
            SkCommand::Validate => "validate",
            SkCommand::Next => "next",
            SkCommand::Finalize => "finalize",
        }
    }

    /// Returns missionctl's arguments for one mission (with `--json`).
    pub(crate) fn missionctl_args(self, mission: &str) -> Vec<String> {
        let args: &[&str] = match self {
            SkCommand::Board => &["board", "--mission", mission],
            SkCommand::Validate => &["status", "validate", "--mission", mission],
            SkCommand::Next => &["next", "--agent", "claude", "--mission", mission],
            SkCommand::Finalize => &["tasks", "finalize", "--mission", mission, "--validate-only"],
        };
        args.iter()
            .copied()
            .chain(["--json"])
            .map(str::to_owned)
            .collect()
    }
}

/// The data set: where it is and whether it is the vendored subset.
#[derive(Debug)]
pub(crate) struct Split {
    /// Its root (`missions/`, `expected/`, `repo-context/`, `repo-tree.tsv`).
    pub(crate) root: PathBuf,
    /// True for the subset vendored in `tests/fixtures/spec-kitty-repo`.
    pub(crate) vendored: bool,
}

impl Split {
    /// Returns the mission directories that have an expected answer for `command`, in byte
    /// order.
    pub(crate) fn missions(&self, command: SkCommand) -> anyhow::Result<Vec<String>> {
        let mut missions = Vec::new();
        for entry in std::fs::read_dir(self.root.join("expected"))? {
            let entry = entry?;
            let name = entry
                .file_name()
                .into_string()
                .map_err(|name| anyhow::anyhow!("mission name is not UTF-8: {name:?}"))?;
            if entry
                .path()
                .join(format!("{}.json", command.name()))
                .is_file()
            {
                missions.push(name);
            }
        }
        missions.sort();
        Ok(missions)
    }

    /// Returns Spec Kitty's recorded answer for one mission and command.
    pub(crate) fn expected(&self, mission: &str, command: SkCommand) -> anyhow::Result<Expected> {
        let path = self
            .root
            .join("expected")
            .join(mission)
            .join(format!("{}.json", command.name()));
        let document: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
        Ok(Expected {
            exit_code: document["exit_code"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("{}: no exit_code", path.display()))?,
            stdout: document["stdout"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("{}: no stdout", path.display()))?
                .to_owned(),
        })
    }
}

/// Returns the data set: the full one when it is present, else the vendored subset.
pub(crate) fn split() -> &'static Split {
    static SPLIT: OnceLock<Split> = OnceLock::new();
    SPLIT.get_or_init(|| {
        let base = match std::env::var_os(CONFORMANCE_DIR_VAR) {
            Some(dir) => PathBuf::from(dir),
            None => workspace_root().join("../shared/conformance"),
        };
        let full = base.join(SPLIT_NAME);
        if full.join("repo-tree.tsv").is_file() {
            Split {
                root: full,
                vendored: false,
            }
        } else {
            Split {
                root: workspace_root().join("tests/fixtures").join(SPLIT_NAME),
                vendored: true,
            }
        }
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Spec Kitty's answer for one mission and command.
#[derive(Debug, Clone)]
pub(crate) struct Expected {
    /// Its exit code.
    pub(crate) exit_code: i64,
    /// Its complete stdout (the oracle's repository path already replaced by `<repo>`).
    pub(crate) stdout: String,
}

/// A stdout after normalisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Canonical {
    /// One JSON document, clock fields masked (compared as data: key order is ignored).
    Json(Value),
    /// Anything else, with all whitespace removed.
    Text(String),
}

impl Canonical {
    /// Returns the JSON document, if the stdout was one.
    pub(crate) fn json(&self) -> Option<&Value> {
        match self {
            Canonical::Json(value) => Some(value),
            Canonical::Text(_) => None,
        }
    }

    /// Returns the text form the data set's `normalize.py` compares: sorted keys, one-space
    /// indent, or `TEXT:` and the whitespace-free text.
    pub(crate) fn render(&self) -> String {
        match self {
            Canonical::Json(value) => {
                let mut text = String::from("JSON:");
                text.push_str(&serde_json::to_string_pretty(value).unwrap_or_default());
                text
            }
            Canonical::Text(text) => format!("TEXT:{text}"),
        }
    }
}

impl Expected {
    /// Returns the normalised stdout.
    pub(crate) fn canonical(&self, command: SkCommand) -> Canonical {
        canonical(command, &self.stdout, None)
    }
}

/// Normalises one stdout as the data set's `normalize.py` does: `repo` (when given) becomes
/// `<repo>`; one JSON document is parsed and its clock fields are masked (`next`: `timestamp`;
/// `board`: `stalled_wps[].age_minutes`, `work_packages[].review_stall.age_minutes` and the
/// number in `work_packages[]._stall_label`); anything else loses all its whitespace.
pub(crate) fn canonical(command: SkCommand, stdout: &str, repo: Option<&Path>) -> Canonical {
    let text = match repo {
        Some(repo) => replace_repo(stdout, repo),
        None => stdout.to_owned(),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(mut value) => {
            mask_clock(command, &mut value);
            Canonical::Json(value)
        }
        Err(_) => Canonical::Text(text.split_whitespace().collect()),
    }
}

/// Returns `text` with every spelling of the repository's path replaced by `<repo>`.
pub(crate) fn replace_repo(text: &str, repo: &Path) -> String {
    let mut text = text.to_owned();
    let mut spellings = vec![repo.to_path_buf()];
    if let Ok(canonical) = repo.canonicalize() {
        spellings.push(canonical);
    }
    for spelling in spellings {
        let spelling = spelling.display().to_string();
        let spelling = spelling.trim_end_matches('/');
        if !spelling.is_empty() {
            text = text.replace(spelling, "<repo>");
        }
    }
    text
}

/// Masks the fields that depend on the clock (the data set's list, nothing else).
pub(crate) fn mask_clock(command: SkCommand, value: &mut Value) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    match command {
        SkCommand::Next => {
            if let Some(timestamp) = object.get_mut("timestamp") {
                *timestamp = Value::from("<now>");
            }
        }
        SkCommand::Board => {
            if let Some(Value::Array(stalled)) = object.get_mut("stalled_wps") {
                for entry in stalled.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(age) = entry.get_mut("age_minutes") {
                        *age = Value::from("<age>");
                    }
                }
            }
            if let Some(Value::Array(rows)) = object.get_mut("work_packages") {
                for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(age) = row
                        .get_mut("review_stall")
                        .and_then(Value::as_object_mut)
                        .and_then(|stall| stall.get_mut("age_minutes"))
                    {
                        *age = Value::from("<age>");
                    }
                    if let Some(Value::String(label)) = row.get_mut("_stall_label") {
                        *label = mask_stall_age(label);
                    }
                }
            }
        }
        SkCommand::Validate | SkCommand::Finalize => {}
    }
}

/// Replaces the minutes in `no move-task in <N>m` by `<age>`.
fn mask_stall_age(label: &str) -> String {
    const MARK: &str = "no move-task in ";
    let mut out = String::new();
    let mut rest = label;
    while let Some(start) = rest.find(MARK) {
        let after = &rest[start + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(&rest[..start + MARK.len()]);
        if digits > 0 && after[digits..].starts_with('m') {
            out.push_str("<age>");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Returns `None` when the two canonical forms are equal, else a unified diff of their text
/// forms (expected first).
pub(crate) fn diff(expected: &Canonical, actual: &Canonical) -> Option<String> {
    if expected == actual {
        return None;
    }
    let expected = expected.render();
    let actual = actual.render();
    Some(
        similar::TextDiff::from_lines(&expected, &actual)
            .unified_diff()
            .context_radius(3)
            .header("spec kitty", "missionctl")
            .to_string(),
    )
}

/// The fresh repository of the data set, built once per test-binary run.
pub(crate) struct FreshRepo {
    env: TestEnv,
    repo: PathBuf,
}

impl FreshRepo {
    /// Returns the repository's root.
    pub(crate) fn path(&self) -> &Path {
        &self.repo
    }

    /// Runs `missionctl` with the arguments at the repository's root, in the tests' hermetic
    /// environment.
    #[must_use]
    pub(crate) fn run<I, S>(&self, args: I) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.env.run_in(&self.repo, args)
    }

    /// Runs `git` at the repository's root and returns its stdout.
    pub(crate) fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        self.env.git(&self.repo, args)
    }
}

/// Returns the fresh repository, building it on first use (see the module documentation).
///
/// It lives in `missionctl-sk-repo-<pid>` under `/dev/shm` when that memory file system is
/// writable (creating its 15,000 files there is many times faster than on a disk), else under
/// `$CARGO_TARGET_TMPDIR`; the repositories of earlier runs whose process is gone are removed
/// when a new one is built. The commands under test are read commands: a test must not write
/// in it (build its own copy instead).
pub(crate) fn fresh_repo() -> anyhow::Result<&'static FreshRepo> {
    static REPO: OnceLock<Result<FreshRepo, String>> = OnceLock::new();
    REPO.get_or_init(|| build_fresh_repo(split()).map_err(|error| format!("{error:#}")))
        .as_ref()
        .map_err(|error| anyhow::anyhow!("cannot build the spec-kitty-repo repository: {error}"))
}

fn build_fresh_repo(split: &Split) -> anyhow::Result<FreshRepo> {
    let memory = Path::new("/dev/shm");
    let base = if memory.is_dir()
        && tempfile::Builder::new()
            .prefix(REPO_PREFIX)
            .tempfile_in(memory)
            .is_ok()
    {
        memory.to_path_buf()
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
    };
    std::fs::create_dir_all(&base)?;
    remove_stale_repos(&base)?;
    let root = base.join(format!("{REPO_PREFIX}{}", std::process::id()));
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let env = TestEnv::kept(root.clone())?;
    let repo = root.join("repo");
    std::fs::create_dir(&repo)?;
    env.git(&repo, &["init", "--quiet", "--initial-branch", "main"])?;
    for (key, value) in [
        ("user.name", "harness"),
        ("user.email", "h@example.invalid"),
        ("commit.gpgsign", "false"),
        ("gc.auto", "0"),
    ] {
        env.git(&repo, &["config", key, value])?;
    }
    write_tree(split, &repo)?;
    env.git(&repo, &["add", "--all"])?;
    env.git(
        &repo,
        &["commit", "--quiet", "--message", "conformance-v2 fixture"],
    )?;
    env.git(&repo, &["update-ref", "refs/remotes/origin/main", "HEAD"])?;
    env.git(
        &repo,
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    )?;
    let status = env.git(&repo, &["status", "--porcelain", "--ignored"])?;
    anyhow::ensure!(
        status.is_empty(),
        "the fresh repository is not clean:\n{status}"
    );
    Ok(FreshRepo { env, repo })
}

/// The name of a fresh repository's directory, before the test process's id.
const REPO_PREFIX: &str = "missionctl-sk-repo-";

/// Removes the fresh repositories of test runs whose process no longer exists.
fn remove_stale_repos(base: &Path) -> anyhow::Result<()> {
    if !Path::new("/proc/self").exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(base)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(REPO_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Creates every path of `repo-tree.tsv` under `repo`.
fn write_tree(split: &Split, repo: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;

    let tree = std::fs::read_to_string(split.root.join("repo-tree.tsv"))?;
    for (number, line) in tree.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, kind, target, content] = fields[..] else {
            anyhow::bail!("repo-tree.tsv:{}: expected 4 fields", number + 1);
        };
        anyhow::ensure!(
            !path.starts_with('/') && !path.split('/').any(|part| part == ".."),
            "repo-tree.tsv:{}: unsafe path {path}",
            number + 1
        );
        let destination = repo.join(path);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if kind == "symlink" {
            std::os::unix::fs::symlink(target, &destination)?;
            continue;
        }
        match content {
            "missions" => {
                let relative = path.strip_prefix("kitty-specs/").ok_or_else(|| {
                    anyhow::anyhow!("repo-tree.tsv:{}: {path} is not a mission file", number + 1)
                })?;
                std::fs::copy(split.root.join("missions").join(relative), &destination)?;
            }
            "repo-context" => {
                std::fs::copy(split.root.join("repo-context").join(path), &destination)?;
            }
            "placeholder" => std::fs::write(&destination, b"")?,
            other => anyhow::bail!("repo-tree.tsv:{}: unknown content {other}", number + 1),
        }
        if kind == "exec" {
            std::fs::set_permissions(&destination, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// One mission's answers: Spec Kitty's and missionctl's.
#[derive(Debug)]
pub(crate) struct Case {
    /// The mission directory name.
    pub(crate) mission: String,
    /// Spec Kitty's answer.
    pub(crate) expected: Expected,
    /// What missionctl printed and how it exited.
    pub(crate) ours: CommandOutput,
    /// missionctl's stdout, normalised (the fresh repository's path replaced by `<repo>`).
    pub(crate) ours_canonical: Canonical,
}

impl Case {
    /// Returns Spec Kitty's answer, normalised.
    pub(crate) fn expected_canonical(&self, command: SkCommand) -> Canonical {
        self.expected.canonical(command)
    }

    /// Returns missionctl's `--json` document (`{"ok":…}`), if stdout was one.
    pub(crate) fn ours_document(&self) -> Option<&Value> {
        self.ours_canonical.json()
    }

    /// Returns missionctl's `data` when it succeeded.
    pub(crate) fn ours_data(&self) -> Option<&Value> {
        self.ours_document()
            .filter(|document| document["ok"] == Value::Bool(true))
            .map(|document| &document["data"])
    }

    /// Returns missionctl's error code when it failed.
    pub(crate) fn ours_error_code(&self) -> Option<&str> {
        self.ours_document()
            .filter(|document| document["ok"] == Value::Bool(false))
            .and_then(|document| document["error"]["code"].as_str())
    }

    /// Returns a short description of missionctl's answer, for mismatch reports.
    pub(crate) fn describe_ours(&self) -> String {
        format!(
            "missionctl exited {:?}: {}",
            self.ours.status,
            self.ours.stdout.chars().take(600).collect::<String>()
        )
    }
}

/// An answer where Spec Kitty is demonstrably wrong: missionctl's answer is checked instead,
/// and the reason is recorded in `docs/compatibility.md`.
pub(crate) struct Pinned {
    /// The mission directory name.
    pub(crate) mission: &'static str,
    /// Why Spec Kitty's answer is wrong (as `docs/compatibility.md` says).
    pub(crate) reason: &'static str,
    /// Checks missionctl's answer; `Err` describes what is wrong with it.
    pub(crate) check: fn(&Case) -> Result<(), String>,
}

/// One command run over every mission of the data set.
pub(crate) struct Differential {
    command: SkCommand,
    cases: Vec<Case>,
}

impl Differential {
    /// Returns missionctl's answers to `command` on every mission of the data set that has an
    /// expected answer for it: run once per test-binary run (a few missions at a time) and
    /// shared by every test that asks.
    pub(crate) fn run(command: SkCommand) -> anyhow::Result<&'static Differential> {
        static RUNS: [OnceLock<Result<Differential, String>>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        let slot = &RUNS[command as usize];
        slot.get_or_init(|| Differential::run_now(command).map_err(|error| format!("{error:#}")))
            .as_ref()
            .map_err(|error| anyhow::anyhow!("{}: {error}", command.name()))
    }

    fn run_now(command: SkCommand) -> anyhow::Result<Differential> {
        let split = split();
        let repo = fresh_repo()?;
        let missions = split.missions(command)?;
        anyhow::ensure!(
            !missions.is_empty(),
            "no expected {} answers in {}",
            command.name(),
            split.root.display()
        );
        let next = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .clamp(1, 4);
        let mut results: Vec<(usize, anyhow::Result<Case>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some(mission) = missions.get(index) else {
                                break;
                            };
                            done.push((index, run_case(split, repo, command, mission)));
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| handle.join().unwrap_or_default())
                .collect()
        });
        anyhow::ensure!(results.len() == missions.len(), "a worker thread panicked");
        results.sort_by_key(|(index, _)| *index);
        let cases = results
            .into_iter()
            .map(|(_, case)| case)
            .collect::<anyhow::Result<Vec<Case>>>()?;
        Ok(Differential { command, cases })
    }

    /// Returns every mission's answers, in mission order.
    pub(crate) fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Compares every mission — the exit codes must be equal, then `compare` must accept the
    /// answers — or, for a pinned mission, checks missionctl's answer with the pin and
    /// requires it to differ from Spec Kitty's; fails with every mismatch.
    ///
    /// `compare` returns `Err(diff)` when missionctl's answer disagrees with Spec Kitty's.
    pub(crate) fn assert_agrees(
        &self,
        pinned: &[Pinned],
        compare: impl Fn(&Case) -> Result<(), String>,
    ) -> anyhow::Result<Agreement> {
        let pins: BTreeMap<&str, &Pinned> = pinned.iter().map(|pin| (pin.mission, pin)).collect();
        anyhow::ensure!(pins.len() == pinned.len(), "a mission is pinned twice");
        let compare = |case: &Case| {
            let ours = case.ours.status.map(i64::from);
            if ours != Some(case.expected.exit_code) {
                return Err(format!(
                    "exit code {} expected, {}",
                    case.expected.exit_code,
                    case.describe_ours()
                ));
            }
            compare(case)
        };
        let mut agreement = Agreement::default();
        let mut mismatches = Vec::new();
        for case in &self.cases {
            match pins.get(case.mission.as_str()) {
                Some(pin) => {
                    agreement.pinned += 1;
                    if compare(case).is_ok() {
                        mismatches.push(format!(
                            "{}: pinned ({}), but missionctl now agrees with Spec Kitty: \
                             remove the pin and its entry in docs/compatibility.md",
                            case.mission, pin.reason
                        ));
                    } else if let Err(problem) = (pin.check)(case) {
                        mismatches.push(format!(
                            "{}: pinned ({}): {problem}\n{}",
                            case.mission,
                            pin.reason,
                            case.describe_ours()
                        ));
                    }
                }
                None => match compare(case) {
                    Ok(()) => agreement.agreed += 1,
                    Err(problem) => mismatches.push(format!("{}: {problem}", case.mission)),
                },
            }
        }
        agreement.mismatched = mismatches.len();
        if !mismatches.is_empty() {
            anyhow::bail!(
                "{}: missionctl disagrees with Spec Kitty 3.2.7 on {} of {} missions ({}):\n\n{}",
                self.command.name(),
                mismatches.len(),
                self.cases.len(),
                split().root.display(),
                mismatches.join("\n\n")
            );
        }
        Ok(agreement)
    }
}

/// How many missions agreed, were pinned, and disagreed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreement {
    /// Missions where missionctl gives Spec Kitty's answer.
    pub(crate) agreed: usize,
    /// Missions where missionctl gives the pinned answer instead.
    pub(crate) pinned: usize,
    /// Missions that disagree (0 when [`Differential::assert_agrees`] returns).
    pub(crate) mismatched: usize,
}

fn run_case(
    split: &Split,
    repo: &FreshRepo,
    command: SkCommand,
    mission: &str,
) -> anyhow::Result<Case> {
    let expected = split.expected(mission, command)?;
    let ours = repo.run(command.missionctl_args(mission));
    let ours_canonical = canonical(command, &ours.stdout, Some(repo.path()));
    Ok(Case {
        mission: mission.to_owned(),
        expected,
        ours,
        ours_canonical,
    })
}

/// Compares two JSON values as data and returns a diff when they differ.
pub(crate) fn json_diff(
    command: SkCommand,
    expected: &Value,
    actual: &Value,
) -> Result<(), String> {
    let mut expected = expected.clone();
    let mut actual = actual.clone();
    mask_clock(command, &mut expected);
    mask_clock(command, &mut actual);
    match diff(&Canonical::Json(expected), &Canonical::Json(actual)) {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

impl Case {
    /// Returns a case made of given answers (for testing the harness itself).
    pub(crate) fn synthetic(
        command: SkCommand,
        mission: &str,
        expected: Expected,
        ours_stdout: &str,
        ours_status: i32,
    ) -> Case {
        Case {
            mission: mission.to_owned(),
            expected,
            ours: CommandOutput {
                stdout: ours_stdout.to_owned(),
                stderr: String::new(),
                status: Some(ours_status),
                root: String::new(),
            },
            ours_canonical: canonical(command, ours_stdout, None),
        }
    }
}

impl Differential {
    /// Returns a run made of given cases (for testing the harness itself).
    pub(crate) fn from_cases(command: SkCommand, cases: Vec<Case>) -> Differential {
        Differential { command, cases }
    }
}
