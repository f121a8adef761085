//! Git repositories for the mission, context and migrate tests: created with the real `git`
//! under the environment's isolated configuration, on a feature branch, and fingerprinted so
//! a test can assert that a refused command left refs, index and files byte-identical.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::TestEnv;

/// The feature branch every test repository has checked out.
pub(crate) const FEATURE_BRANCH: &str = "feature/x";

impl TestEnv {
    /// Returns a new repository `<root>/<name>`: one commit on `main`, then `feature/x`
    /// checked out, with a local identity (the isolated configuration has none).
    pub(crate) fn feature_repo(&self, name: &str) -> anyhow::Result<PathBuf> {
        let repo = self.root().join(name);
        std::fs::create_dir(&repo)?;
        self.git(&repo, &["init", "--quiet", "--initial-branch", "main"])?;
        self.git(&repo, &["config", "user.name", "Test User"])?;
        self.git(&repo, &["config", "user.email", "test@missionctl.invalid"])?;
        self.git(&repo, &["config", "commit.gpgsign", "false"])?;
        std::fs::write(repo.join("README.md"), "test repository\n")?;
        std::fs::write(repo.join(".gitignore"), ".worktrees/\n")?;
        self.git(&repo, &["add", "README.md", ".gitignore"])?;
        self.git(&repo, &["commit", "--quiet", "--message", "init"])?;
        self.git(&repo, &["switch", "--quiet", "--create", FEATURE_BRANCH])?;
        Ok(repo)
    }

    /// Runs `missionctl <args> --json` in `repo` and returns the success document's `data`.
    pub(crate) fn json_data(&self, repo: &Path, args: &[&str]) -> anyhow::Result<Value> {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let output = self.run_in(repo, &all).success();
        let document = output.json()?;
        anyhow::ensure!(document["ok"] == true, "not a success: {document}");
        Ok(document["data"].clone())
    }

    /// Returns what an undone write puts back: refs, files and the index's entries (an undo
    /// restores the entries, not the index's bytes).
    pub(crate) fn undone_state(&self, repo: &Path) -> anyhow::Result<(Value, Value, String)> {
        let mut fingerprint = self.fingerprint(repo)?;
        let refs = fingerprint["refs"].take();
        let files = fingerprint["files"].take();
        Ok((refs, files, self.git(repo, &["ls-files", "--stage"])?))
    }

    /// Runs `args` in `repo` stopped at each of `failpoints` in turn, lets the next writer of
    /// the mission (`status materialize`) settle it, and checks that the
    /// [`undone_state`](TestEnv::undone_state) is then as before: a write of several commits
    /// lands whole or not at all.
    pub(crate) fn each_stop_is_undone_whole(
        &self,
        repo: &Path,
        slug: &str,
        args: &[&str],
        failpoints: &[&str],
    ) -> anyhow::Result<()> {
        let state = || self.undone_state(repo);
        let before = state()?;
        for failpoint in failpoints {
            let stopped = self.run_with(
                repo,
                args,
                &[("MISSIONCTL_FAILPOINT", std::ffi::OsStr::new(failpoint))],
            );
            anyhow::ensure!(stopped.status == Some(86), "{failpoint}: {stopped}");
            self.json_data(repo, &["status", "materialize", "--mission", slug])?;
            let after = state()?;
            anyhow::ensure!(
                after.0 == before.0,
                "{failpoint}: refs {} vs {}",
                after.0,
                before.0
            );
            anyhow::ensure!(
                after.2 == before.2,
                "{failpoint}: index {} vs {}",
                after.2,
                before.2
            );
            anyhow::ensure!(after.1 == before.1, "{failpoint}: files changed");
        }
        Ok(())
    }

    /// Returns everything a refused command must leave untouched: every ref with its target,
    /// `HEAD`, the index's entries, the registered worktrees and every file of the working
    /// tree (outside `.git`) with its bytes.
    pub(crate) fn fingerprint(&self, repo: &Path) -> anyhow::Result<Value> {
        let refs = self.git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"])?;
        let head = std::fs::read_to_string(repo.join(".git/HEAD"))?;
        // The index by its entries: a write undone after staging puts them back through git's
        // own index lock (stat data and extensions are git's to write).
        let index = self.git(repo, &["ls-files", "--stage"])?;
        let worktrees = self.git(repo, &["worktree", "list", "--porcelain"])?;
        let mut files = BTreeMap::new();
        collect_files(repo, repo, &mut files)?;
        Ok(json!({
            "refs": refs,
            "head": head,
            "index": index,
            "worktrees": worktrees,
            "files": files,
        }))
    }
}

/// Records every file below `dir` (skipping `.git`) as relative path → bytes.
fn collect_files(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|name| name == ".git") {
            continue;
        }
        let relative = path.strip_prefix(root)?.display().to_string();
        if path.is_dir() {
            files.insert(format!("{relative}/"), String::new());
            collect_files(root, &path, files)?;
        } else {
            files.insert(relative, format!("{:?}", std::fs::read(&path)?));
        }
    }
    Ok(())
}

/// A mission written by hand for the handle tests: `kitty-specs/<dir>/meta.json` with the
/// fields Spec Kitty writes, and `extra` merged in (a `null` in `extra` removes the key).
pub(crate) fn write_mission(repo: &Path, dir: &str, extra: &Value) -> anyhow::Result<PathBuf> {
    let path = repo.join("kitty-specs").join(dir);
    std::fs::create_dir_all(&path)?;
    let mut meta = json!({
        "created_at": "2026-08-22T08:29:15.913164+00:00",
        "flattened": false,
        "friendly_name": dir,
        "mission_number": null,
        "mission_slug": dir,
        "mission_type": "software-dev",
        "slug": dir,
        "target_branch": FEATURE_BRANCH,
    });
    if let (Some(meta), Some(extra)) = (meta.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            if value.is_null() && key != "mission_number" {
                meta.remove(key);
            } else {
                meta.insert(key.clone(), value.clone());
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&meta)?;
    text.push('\n');
    std::fs::write(path.join("meta.json"), text)?;
    Ok(path)
}
