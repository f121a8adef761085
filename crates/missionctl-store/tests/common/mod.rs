//! Shared helpers: hermetic git repositories in temporary directories, fixed clocks and ids,
//! and snapshots of everything a write may change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use missionctl_core::mission::meta::MissionId;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::clock::FixedClock;
use missionctl_store::mission::create::{
    CreateMissionRequest, CreateOptions, CreateStep, CreatedMission, create_mission,
};
use missionctl_store::repo::Repo;
use missionctl_store::repo::protection::ProtectedBranches;
use missionctl_store::write::CommitIdentity;

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The fixed instant every test runs at: 2026-08-22T08:29:15.913164+00:00.
pub(crate) const NOW_MICROS: u64 = 1_787_387_355_913_164;

/// A mission id used where a test needs a known one.
pub(crate) const MISSION_ID: &str = "01M0M9D8R83DDKSZ62QKGV3YW0";

const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Returns a mission id; `n` varies its mid8 (the last two of its first eight characters) so
/// tests can mint several that every handle form tells apart.
pub(crate) fn mission_id(n: usize) -> MissionId {
    with_chars(MISSION_ID, [(7, n), (6, n / CROCKFORD.len())])
}

/// Returns another mission id with the same mid8 as `mission_id(n)` (a mid8 collision).
pub(crate) fn mission_id_sharing_mid8(n: usize, variant: usize) -> MissionId {
    with_chars(
        mission_id(n).as_str(),
        [(25, variant), (24, variant / CROCKFORD.len())],
    )
}

fn with_chars(id: &str, changes: [(usize, usize); 2]) -> MissionId {
    let mut text = id.as_bytes().to_vec();
    for (position, value) in changes {
        text[position] = CROCKFORD[value % CROCKFORD.len()];
    }
    MissionId::parse(std::str::from_utf8(&text).expect("ASCII")).expect("valid ULID")
}

/// The protected branches of Spec Kitty's default.
pub(crate) fn protected() -> ProtectedBranches {
    ProtectedBranches::defaults()
}

/// A git repository in a temporary directory, driven by the real git with a hermetic
/// configuration: no global or system config, fixed identity and dates, no signing.
pub(crate) struct TestRepo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl TestRepo {
    /// Returns an empty directory (not a repository).
    pub(crate) fn empty_dir() -> Result<TestRepo, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = std::fs::canonicalize(dir.path())?;
        Ok(TestRepo { _dir: dir, root })
    }

    /// Returns a repository on `main` with one commit (`README.md`), and `feature/x` created
    /// and checked out.
    pub(crate) fn new() -> Result<TestRepo, Box<dyn std::error::Error>> {
        let repo = TestRepo::empty_dir()?;
        repo.git(&["init", "-q"])?;
        repo.git(&["config", "user.name", "Test Author"])?;
        repo.git(&["config", "user.email", "author@example.com"])?;
        repo.write("README.md", "hello\n")?;
        repo.git(&["add", "README.md"])?;
        repo.git(&["commit", "-q", "-m", "initial"])?;
        repo.git(&["switch", "-q", "-c", "feature/x"])?;
        Ok(repo)
    }

    /// Returns the root (canonical path).
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the path of a repository-relative path.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Writes a file, creating its directories.
    pub(crate) fn write(&self, relative: &str, text: &str) -> std::io::Result<()> {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)
    }

    /// Writes a task file for each work package of a mission (writers refuse a work package
    /// no task file defines); left uncommitted.
    pub(crate) fn define_work_packages(
        &self,
        mission_slug: &str,
        wp_ids: &[&str],
    ) -> std::io::Result<()> {
        for wp_id in wp_ids {
            self.write(
                &format!("kitty-specs/{mission_slug}/tasks/{wp_id}-work.md"),
                &format!("---\nwork_package_id: {wp_id}\ntitle: {wp_id}\n---\n"),
            )?;
        }
        Ok(())
    }

    /// Runs git in the root and returns its standard output; fails when git fails.
    pub(crate) fn git(&self, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
        git_in(&self.root, args)
    }

    /// Discovers the repository from its root.
    pub(crate) fn repo(&self) -> Result<Repo, Box<dyn std::error::Error>> {
        Ok(Repo::discover(&self.root)?)
    }

    /// Creates a mission with fixed time, id `mission_id(n)` and identity.
    pub(crate) fn create(
        &self,
        slug: &str,
        topology: Option<MissionTopology>,
        n: usize,
    ) -> Result<CreatedMission, Box<dyn std::error::Error>> {
        let request = CreateMissionRequest {
            slug: slug.to_owned(),
            topology,
            ..CreateMissionRequest::default()
        };
        Ok(self.create_with(&request, n, None)?)
    }

    /// Creates a mission from a request with fixed time, id `mission_id(n)` and identity.
    pub(crate) fn create_with(
        &self,
        request: &CreateMissionRequest,
        n: usize,
        fail_after: Option<CreateStep>,
    ) -> Result<CreatedMission, missionctl_store::mission::create::CreateError> {
        let repo = Repo::discover(&self.root).expect("test repository is discoverable");
        let clock = FixedClock::from_unix_micros(NOW_MICROS).with_mission_id(mission_id(n));
        let protected = protected();
        let options = CreateOptions {
            clock: &clock,
            protected_branches: &protected,
            identity: Some(identity()),
            fail_after,
        };
        create_mission(&repo, request, &options)
    }

    /// Returns everything a failed write must leave unchanged.
    pub(crate) fn snapshot(&self) -> Result<Snapshot, Box<dyn std::error::Error>> {
        // The index by its entries: a write undone after staging puts them back through git's
        // index lock (stat data and extensions are git's to write).
        let index = self.git(&["ls-files", "--stage"])?;
        Ok(Snapshot {
            refs: self.git(&["for-each-ref", "--format=%(refname) %(objectname)"])?,
            head: self
                .git(&["symbolic-ref", "-q", "HEAD"])
                .unwrap_or_default(),
            status: self.git(&["status", "--porcelain=v2", "--untracked-files=all"])?,
            index,
            files: file_tree(&self.root)?,
        })
    }
}

/// Returns the hermetic commit identity of the tests.
pub(crate) fn identity() -> CommitIdentity {
    CommitIdentity {
        name: "Test Author".to_owned(),
        email: "author@example.com".to_owned(),
    }
}

/// Runs the real git in `dir` with the hermetic environment.
pub(crate) fn git_in(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(["-c", "gc.auto=0", "-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("LC_ALL", "C")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2026-08-22T08:00:00+00:00")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_DATE", "2026-08-22T08:00:00+00:00")
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The refs, `HEAD`, status, index bytes and working-tree files of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// `git for-each-ref` (every ref and what it points at).
    pub(crate) refs: String,
    /// What `HEAD` points at.
    pub(crate) head: String,
    /// `git status --porcelain=v2 --untracked-files=all`.
    pub(crate) status: String,
    /// The index's entries (`git ls-files --stage`).
    pub(crate) index: String,
    /// Every path under the root except `.git/`, with the file's bytes (directories: `None`).
    pub(crate) files: FileTree,
}

/// Every path under a root except `.git/`, with the file's bytes (directories: `None`).
pub(crate) type FileTree = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Lists every file and directory below `root`, skipping `.git`.
pub(crate) fn file_tree(root: &Path) -> Result<FileTree, Box<dyn std::error::Error>> {
    let mut tree = BTreeMap::new();
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
                // A linked worktree's `.git` is a file; its contents are compared too.
                tree.insert(relative, None);
                pending.push(path);
            } else {
                tree.insert(relative, Some(std::fs::read(&path)?));
            }
        }
    }
    Ok(tree)
}

/// Returns the files of a commit below a path, as `git ls-tree -r --name-only` lists them.
pub(crate) fn committed_files(
    repo: &TestRepo,
    commit: &str,
    path: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(repo
        .git(&["ls-tree", "-r", "--name-only", commit, "--", path])?
        .lines()
        .map(str::to_owned)
        .collect())
}
