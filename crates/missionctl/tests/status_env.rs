//! Repositories with one mission for the status tests: a real git repository under a
//! [`TestEnv`], the mission created by the store's `create_mission` (as `mission create` does),
//! moves run through the real binary, and snapshots of everything a refused write must leave
//! unchanged.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use missionctl_core::mission::meta::MissionId;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::clock::FixedClock;
use missionctl_store::mission::create::{CreateMissionRequest, CreateOptions, create_mission};
use missionctl_store::repo::Repo;
use missionctl_store::write::CommitIdentity;
use serde_json::Value;

use crate::common::{CommandOutput, TestEnv};

/// The branch missions are planned on (`main` is protected).
pub(crate) const TARGET_BRANCH: &str = "feature/x";

/// The mission id of every test mission; its mid8 is `01M0M9D8`.
pub(crate) const MISSION_ID: &str = "01M0M9D8R83DDKSZ62QKGV3YW0";

/// The fixed creation time: 2026-08-22T08:29:15.913164+00:00.
const CREATED_MICROS: u64 = 1_787_387_355_913_164;

/// The work packages every [`StatusRepo`] defines with a task file.
pub(crate) const WORK_PACKAGES: [&str; 9] = [
    "WP01", "WP02", "WP03", "WP04", "WP05", "WP06", "WP07", "WP08", "WP09",
];

/// Returns the text of a task file for `wp` with `subtasks` in its front matter.
fn wp_file_text(wp: &str, subtasks: &[&str]) -> String {
    let list = subtasks.join(", ");
    format!(
        "---\nwork_package_id: {wp}\ntitle: Work package {wp}\nsubtasks: [{list}]\nrequirement_refs: [FR-001]\nexecution_mode: code_change\nowned_files: [src/{lower}/**]\nauthoritative_surface: src/{lower}/\n---\n# {wp}\n",
        lower = wp.to_lowercase()
    )
}

/// A git repository with one mission of a given topology.
pub(crate) struct StatusRepo {
    /// The environment the binary runs in.
    pub(crate) env: TestEnv,
    /// The primary checkout (canonical path).
    pub(crate) root: PathBuf,
    /// The mission directory name, `<slug>-01M0M9D8`.
    pub(crate) slug: String,
    /// The mission's topology.
    pub(crate) topology: MissionTopology,
}

impl StatusRepo {
    /// Returns a repository on `feature/x` (after one commit on `main`) with the mission
    /// `invoice-export-01M0M9D8` of `topology` committed on it, and a task file for each of
    /// `WP01`…`WP09` (writers refuse a work package no file defines) committed after it, none
    /// of them with a status yet.
    pub(crate) fn new(topology: MissionTopology) -> anyhow::Result<StatusRepo> {
        let repo = StatusRepo::unplanned(topology)?;
        repo.add_wp_files(&WORK_PACKAGES)?;
        Ok(repo)
    }

    /// Returns the repository of [`StatusRepo::new`] without the task files: a mission just
    /// created.
    pub(crate) fn unplanned(topology: MissionTopology) -> anyhow::Result<StatusRepo> {
        let env = TestEnv::new()?;
        let root = env.root().join("repo");
        std::fs::create_dir(&root)?;
        let root = std::fs::canonicalize(root)?;
        let repo = StatusRepo {
            env,
            root,
            slug: format!("invoice-export-{}", &MISSION_ID[..8]),
            topology,
        };
        repo.git(&["init", "--quiet", "--initial-branch", "main"])?;
        for (key, value) in [
            ("user.name", "Test Author"),
            ("user.email", "author@example.com"),
            ("commit.gpgsign", "false"),
            ("gc.auto", "0"),
        ] {
            repo.git(&["config", key, value])?;
        }
        std::fs::write(repo.root.join("README.md"), "hello\n")?;
        repo.git(&["add", "README.md"])?;
        repo.git(&["commit", "--quiet", "-m", "initial"])?;
        repo.git(&["switch", "--quiet", "-c", TARGET_BRANCH])?;
        repo.create_mission("invoice-export")?;
        Ok(repo)
    }

    /// Writes a task file without subtasks for each work package and commits them in one
    /// commit on the target branch.
    fn add_wp_files(&self, wps: &[&str]) -> anyhow::Result<()> {
        let dir = self.primary_mission_dir().join("tasks");
        std::fs::create_dir_all(&dir)?;
        for wp in wps {
            std::fs::write(dir.join(format!("{wp}-work.md")), wp_file_text(wp, &[]))?;
        }
        self.git(&["add", &format!("kitty-specs/{}/tasks", self.slug)])?;
        self.git(&["commit", "--quiet", "-m", "plan the work packages"])?;
        Ok(())
    }

    /// Creates a mission with the fixed id and clock, as `mission create` does.
    fn create_mission(&self, slug: &str) -> anyhow::Result<()> {
        let repo = Repo::discover(&self.root)?;
        let clock = FixedClock::from_unix_micros(CREATED_MICROS)
            .with_mission_id(MissionId::parse(MISSION_ID)?);
        let protected = missionctl_store::repo::protection::ProtectedBranches::defaults();
        let options = CreateOptions {
            clock: &clock,
            protected_branches: &protected,
            identity: Some(CommitIdentity {
                name: "Test Author".to_owned(),
                email: "author@example.com".to_owned(),
            }),
            fail_after: None,
        };
        let request = CreateMissionRequest {
            slug: slug.to_owned(),
            topology: Some(self.topology),
            ..CreateMissionRequest::default()
        };
        create_mission(&repo, &request, &options)?;
        Ok(())
    }

    /// Runs git in the primary checkout and returns its stdout.
    pub(crate) fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        self.env.git(&self.root, args)
    }

    /// Runs `missionctl` in the primary checkout.
    #[must_use]
    pub(crate) fn run<I, S>(&self, args: I) -> CommandOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.env.run_in(&self.root, args)
    }

    /// Runs `missionctl --json move <wp> --to <lane> --mission <slug> <extra…>`.
    #[must_use]
    pub(crate) fn move_wp(&self, wp: &str, lane: &str, extra: &[&str]) -> CommandOutput {
        let mut args = vec!["--json", "move", wp, "--to", lane, "--mission", &self.slug];
        args.extend_from_slice(extra);
        self.run(args)
    }

    /// Runs `missionctl <args>` with the write door's failpoint `failpoint` armed (see
    /// CONTRIBUTING.md): the process stops there as if killed.
    #[must_use]
    pub(crate) fn run_stopped_at<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        failpoint: &str,
    ) -> CommandOutput {
        self.env.run_with(
            &self.root,
            args,
            &[("MISSIONCTL_FAILPOINT", OsStr::new(failpoint))],
        )
    }

    /// Starts `missionctl --json move …` without waiting for it, with the environment
    /// [`TestEnv`] gives every run; stdout and stderr are piped.
    pub(crate) fn spawn_move(
        &self,
        wp: &str,
        lane: &str,
        extra: &[&str],
    ) -> anyhow::Result<std::process::Child> {
        let mut args = vec!["--json", "move", wp, "--to", lane, "--mission", &self.slug];
        args.extend_from_slice(extra);
        self.spawn(&args, &[])
    }

    /// Starts `missionctl <args>` in a process group of its own, without waiting for it, with
    /// the environment [`TestEnv`] gives every run plus `extra_env`; stdout and stderr are
    /// piped.
    pub(crate) fn spawn(
        &self,
        args: &[&str],
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<std::process::Child> {
        use std::os::unix::process::CommandExt;
        let root = self.env.root();
        Ok(std::process::Command::new(env!("CARGO_BIN_EXE_missionctl"))
            .process_group(0)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", root.join("home"))
            .env("TMPDIR", self.env.tmp())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .envs(extra_env.iter().copied())
            .current_dir(&self.root)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?)
    }

    /// Returns the coordination branch, for the topologies that have one.
    pub(crate) fn coordination_branch(&self) -> Option<String> {
        matches!(
            self.topology,
            MissionTopology::Coord | MissionTopology::LanesWithCoord
        )
        .then(|| format!("kitty/mission-{}", self.slug))
    }

    /// Returns the branch status commits go to.
    pub(crate) fn status_branch(&self) -> String {
        self.coordination_branch()
            .unwrap_or_else(|| TARGET_BRANCH.to_owned())
    }

    /// Returns the coordination worktree's root, for the topologies that have one.
    pub(crate) fn coordination_worktree(&self) -> Option<PathBuf> {
        self.coordination_branch().map(|_| {
            self.root
                .join(".worktrees")
                .join(format!("{}-coord", self.slug))
        })
    }

    /// Returns the worktree whose checkout holds the status files.
    pub(crate) fn status_worktree(&self) -> PathBuf {
        self.coordination_worktree()
            .unwrap_or_else(|| self.root.clone())
    }

    /// Returns the mission directory in the primary checkout.
    pub(crate) fn primary_mission_dir(&self) -> PathBuf {
        self.root.join("kitty-specs").join(&self.slug)
    }

    /// Returns the mission directory that holds the authoritative status files.
    pub(crate) fn status_dir(&self) -> PathBuf {
        self.status_worktree().join("kitty-specs").join(&self.slug)
    }

    /// Returns the authoritative log's bytes (empty when it does not exist).
    pub(crate) fn log_bytes(&self) -> anyhow::Result<Vec<u8>> {
        Ok(std::fs::read(self.status_dir().join("status.events.jsonl")).unwrap_or_default())
    }

    /// Returns the event ids of the authoritative log's rows, in file order.
    pub(crate) fn log_ids(&self) -> anyhow::Result<Vec<String>> {
        let bytes = self.log_bytes()?;
        let mut ids = Vec::new();
        for line in String::from_utf8(bytes)?.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let row: Value = serde_json::from_str(line)?;
            ids.push(
                row["event_id"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("a row without event_id: {line}"))?
                    .to_owned(),
            );
        }
        Ok(ids)
    }

    /// Writes a work-package file with `subtasks` in its front matter and commits it on the
    /// target branch (planning artifacts live in the primary checkout).
    pub(crate) fn add_wp_file(&self, wp: &str, subtasks: &[&str]) -> anyhow::Result<()> {
        let dir = self.primary_mission_dir().join("tasks");
        std::fs::create_dir_all(&dir)?;
        let name = format!("{wp}-work.md");
        std::fs::write(dir.join(&name), wp_file_text(wp, subtasks))?;
        let path = format!("kitty-specs/{}/tasks/{name}", self.slug);
        self.git(&["add", &path])?;
        self.git(&["commit", "--quiet", "-m", &format!("plan {wp}")])?;
        Ok(())
    }

    /// Returns everything a refused command must leave unchanged.
    pub(crate) fn state(&self) -> anyhow::Result<RepoState> {
        repo_state(&self.env, &self.root)
    }
}

/// The files, index, refs and `HEAD`s of a repository, for byte-for-byte comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoState {
    /// Every path under the root except `.git/`, with the file's bytes (directories: `None`).
    /// Linked worktrees under the root are included, their `.git` files too.
    pub(crate) files: BTreeMap<PathBuf, Option<Vec<u8>>>,
    /// The entries of every index (`git ls-files --stage`), and the bytes of every `HEAD` and
    /// `info/exclude` under `.git/` (the primary's and each linked worktree's).
    pub(crate) git_files: BTreeMap<PathBuf, Vec<u8>>,
    /// `git for-each-ref` (every ref and what it points at).
    pub(crate) refs: String,
}

/// Returns the state of the repository at `root` (`root` may also be a plain directory).
pub(crate) fn repo_state(env: &TestEnv, root: &Path) -> anyhow::Result<RepoState> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let relative = path.strip_prefix(root)?.to_path_buf();
            if relative == Path::new(".git") {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                files.insert(relative, None);
                pending.push(path);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path)?;
                files.insert(
                    relative,
                    Some(target.as_os_str().as_encoded_bytes().to_vec()),
                );
            } else {
                files.insert(relative, Some(std::fs::read(&path)?));
            }
        }
    }
    let git_dir = root.join(".git");
    let mut git_files = BTreeMap::new();
    if git_dir.is_dir() {
        // The index is compared by its entries: a write that failed after staging puts the
        // entries back through git's own index lock (stat data and extensions may differ).
        git_files.insert(
            PathBuf::from("index"),
            env.git(root, &["ls-files", "--stage"])?.into_bytes(),
        );
        let mut candidates = vec![PathBuf::from("HEAD"), PathBuf::from("info/exclude")];
        if let Ok(entries) = std::fs::read_dir(git_dir.join("worktrees")) {
            for entry in entries {
                let name = PathBuf::from("worktrees").join(entry?.file_name());
                candidates.push(name.join("HEAD"));
                let pointer =
                    std::fs::read_to_string(git_dir.join(&name).join("gitdir")).unwrap_or_default();
                if let Some(worktree) = Path::new(pointer.trim()).parent()
                    && worktree.is_dir()
                {
                    git_files.insert(
                        name.join("index"),
                        env.git(worktree, &["ls-files", "--stage"])?.into_bytes(),
                    );
                }
            }
        }
        for candidate in candidates {
            if let Ok(bytes) = std::fs::read(git_dir.join(&candidate)) {
                git_files.insert(candidate, bytes);
            }
        }
    }
    let refs = if git_dir.is_dir() {
        env.git(root, &["for-each-ref", "--format=%(refname) %(objectname)"])?
    } else {
        String::new()
    };
    Ok(RepoState {
        files,
        git_files,
        refs,
    })
}

/// Asserts that two states are equal, naming the first difference.
#[track_caller]
pub(crate) fn assert_same_state(before: &RepoState, after: &RepoState, what: &str) {
    for (path, bytes) in &before.files {
        assert_eq!(
            after.files.get(path),
            Some(bytes),
            "{what}: `{}` changed",
            path.display()
        );
    }
    for path in after.files.keys() {
        assert!(
            before.files.contains_key(path),
            "{what}: `{}` appeared",
            path.display()
        );
    }
    assert_eq!(
        before.git_files, after.git_files,
        "{what}: an index or HEAD changed"
    );
    assert_eq!(before.refs, after.refs, "{what}: refs changed");
}

/// Returns the `data` of a successful `--json` run.
#[track_caller]
pub(crate) fn data(output: &CommandOutput) -> anyhow::Result<Value> {
    let document = output.json()?;
    anyhow::ensure!(
        document["ok"] == Value::Bool(true),
        "not a success: {output}"
    );
    Ok(document["data"].clone())
}

/// Returns every work package's lane on a board's `--json` data, by id: its rows' (task files)
/// and those the log has without a task file (`log_only_work_packages`).
pub(crate) fn board_lanes(board: &Value) -> BTreeMap<String, String> {
    let rows = board["work_packages"].as_array().into_iter().flatten();
    let log_only = board["log_only_work_packages"]
        .as_array()
        .into_iter()
        .flatten();
    rows.map(|row| (&row["id"], &row["lane"]))
        .chain(log_only.map(|entry| (&entry["wp_id"], &entry["lane"])))
        .filter_map(|(id, lane)| Some((id.as_str()?.to_owned(), lane.as_str()?.to_owned())))
        .collect()
}

/// Returns the files a commit changed, relative to the repository.
pub(crate) fn changed_files(repo: &StatusRepo, commit: &str) -> anyhow::Result<Vec<String>> {
    Ok(repo
        .git(&["diff-tree", "--no-commit-id", "--name-only", "-r", commit])?
        .lines()
        .map(str::to_owned)
        .collect())
}

/// A review result that approves, as the guards out of `in_review` want it.
pub(crate) const APPROVED_REVIEW: &str =
    r#"{"reviewer": "reviewer-bot", "verdict": "approved", "reference": "review-1"}"#;

/// Done evidence that approves, as `approved → done` wants it.
pub(crate) const APPROVED_EVIDENCE: &str =
    r#"{"review": {"reviewer": "reviewer-bot", "verdict": "approved", "reference": "review-1"}}"#;

/// The arguments that satisfy the guards of the edge out of `from` along the forward path
/// (`genesis → planned → … → done`), with `actor`.
pub(crate) fn forward_args(from: &str, actor: &str) -> Vec<String> {
    let mut args = vec!["--actor".to_owned(), actor.to_owned()];
    match from {
        "in_review" => {
            args.push("--review-result-json".to_owned());
            args.push(APPROVED_REVIEW.to_owned());
        }
        "approved" => {
            args.push("--evidence-json".to_owned());
            args.push(APPROVED_EVIDENCE.to_owned());
        }
        _ => {}
    }
    args
}

/// The forward path every work package takes.
pub(crate) const FORWARD: [&str; 8] = [
    "genesis",
    "planned",
    "claimed",
    "in_progress",
    "for_review",
    "in_review",
    "approved",
    "done",
];

/// Returns the lane after `lane` on the forward path, and whether reaching it needs force
/// (from `done`, back to `planned`).
pub(crate) fn next_lane(lane: &str) -> (&'static str, bool) {
    match FORWARD.iter().position(|candidate| *candidate == lane) {
        Some(index) if index + 1 < FORWARD.len() => (FORWARD[index + 1], false),
        _ => ("planned", true),
    }
}
