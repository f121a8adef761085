//! What interrupted writes leave behind, for `doctor`: journals not settled yet, git lock
//! files (with their age), and temporary files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::journal::{self, Record};
use super::lock::ScopeLock;
use super::{journal_dir, lock_age};
use crate::repo::Repo;

/// A lock file younger than this may belong to a git process running now; it is not reported.
pub const GIT_LOCK_STALE_AFTER: Duration = Duration::from_secs(5);

/// A temporary file younger than this may belong to a write running now.
pub const TEMP_FILE_STALE_AFTER: Duration = Duration::from_secs(60);

/// A journal of a write that did not finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalLeftover {
    /// The journal file.
    pub path: PathBuf,
    /// Its scope (`mission-<slug>`, `runtime`, `repository`).
    pub scope: String,
    /// The command that was writing.
    pub operation: String,
    /// Its process id.
    pub pid: u32,
    /// Seconds since the write started.
    pub age_seconds: u64,
    /// True when the scope's lock is held now: the writer may still be running.
    pub live: bool,
}

/// A git lock file (`index.lock`, `HEAD.lock`, `<ref>.lock`, …) no running write accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitLockFile {
    /// The lock file.
    pub path: PathBuf,
    /// Seconds since it was last modified.
    pub age_seconds: u64,
}

/// A temporary file of missionctl's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TempLeftover {
    /// The file.
    pub path: PathBuf,
    /// Seconds since it was last modified.
    pub age_seconds: u64,
    /// True when it is old enough that no running write can own it (safe to remove).
    pub stale: bool,
}

/// Everything found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Leftovers {
    /// Journals of writes that did not finish.
    pub journals: Vec<JournalLeftover>,
    /// git lock files older than [`GIT_LOCK_STALE_AFTER`].
    pub git_locks: Vec<GitLockFile>,
    /// missionctl's temporary files.
    pub temp_files: Vec<TempLeftover>,
}

/// Looks for leftovers of interrupted writes. Reads only.
pub fn leftovers(repo: &Repo) -> Leftovers {
    Leftovers {
        journals: journals(repo),
        git_locks: git_locks(repo),
        temp_files: temp_files(repo),
    }
}

fn journals(repo: &Repo) -> Vec<JournalLeftover> {
    let Ok(entries) = std::fs::read_dir(journal_dir(repo)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let records = match journal::read(&path) {
            Ok(Some(records)) => records,
            Ok(None)
                if path
                    .extension()
                    .is_some_and(|extension| extension == "jsonl") =>
            {
                // Created by a writer killed before its first record was whole.
                let Some(scope) = path
                    .file_stem()
                    .and_then(|stem| super::Scope::from_key(&stem.to_string_lossy()))
                else {
                    continue;
                };
                let live = matches!(ScopeLock::try_acquire(&scope.lock_path(repo)), Ok(None));
                found.push(JournalLeftover {
                    age_seconds: lock_age(&path).unwrap_or_default().as_secs(),
                    path,
                    scope: scope.key(),
                    operation: "(cut short before its first record)".to_owned(),
                    pid: 0,
                    live,
                });
                continue;
            }
            _ => continue,
        };
        let Some(Record::Begin {
            scope,
            operation,
            pid,
            at_ms,
            lock,
            ..
        }) = records.first()
        else {
            continue;
        };
        let live = matches!(ScopeLock::try_acquire(lock), Ok(None));
        found.push(JournalLeftover {
            path,
            scope: scope.clone(),
            operation: operation.clone(),
            pid: *pid,
            age_seconds: super::now_ms().saturating_sub(*at_ms) / 1000,
            live,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Returns the git directories of the repository: the common one and every linked
/// worktree's.
fn git_dirs(repo: &Repo) -> Vec<PathBuf> {
    let common = repo.common_dir().to_path_buf();
    let mut dirs = vec![common.clone()];
    if let Ok(primary) = super::git_dir_of(repo.primary_root())
        && primary != common
    {
        dirs.push(primary);
    }
    if let Ok(entries) = std::fs::read_dir(common.join("worktrees")) {
        let mut linked: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        linked.sort();
        dirs.extend(linked);
    }
    dirs
}

fn git_locks(repo: &Repo) -> Vec<GitLockFile> {
    let mut candidates = Vec::new();
    for dir in git_dirs(repo) {
        for name in ["index.lock", "HEAD.lock"] {
            candidates.push(dir.join(name));
        }
    }
    let common = repo.common_dir();
    for name in ["packed-refs.lock", "config.lock", "shallow.lock"] {
        candidates.push(common.join(name));
    }
    collect_ref_locks(&common.join("refs"), &mut candidates);
    candidates
        .into_iter()
        .filter_map(|path| {
            let age = lock_age(&path)?;
            (age >= GIT_LOCK_STALE_AFTER).then_some(GitLockFile {
                path,
                age_seconds: age.as_secs(),
            })
        })
        .collect()
}

fn collect_ref_locks(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect_ref_locks(&path, found),
            Ok(_)
                if path
                    .extension()
                    .is_some_and(|extension| extension == "lock") =>
            {
                found.push(path);
            }
            _ => {}
        }
    }
}

fn temp_files(repo: &Repo) -> Vec<TempLeftover> {
    let root = repo.primary_root();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut missions = |base: &Path| {
        if let Ok(entries) =
            std::fs::read_dir(base.join(missionctl_core::mission::meta::KITTY_SPECS_DIR))
        {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path.join("tasks"));
                    dirs.push(path);
                }
            }
        }
    };
    missions(root);
    if let Ok(entries) = std::fs::read_dir(repo.worktrees_dir()) {
        for entry in entries.flatten() {
            missions(&entry.path());
        }
    }
    let runtime = root.join(".kittify").join("runtime");
    dirs.push(root.to_path_buf());
    dirs.push(root.join(".kittify").join("workspaces"));
    dirs.push(runtime.join("runs"));
    if let Ok(entries) = std::fs::read_dir(runtime.join("runs")) {
        dirs.extend(entries.flatten().map(|entry| entry.path()));
    }
    dirs.push(runtime);
    dirs.push(repo.common_dir().join("info"));
    dirs.push(repo.common_dir().join("missionctl").join("status-cache"));
    let git_dirs = git_dirs(repo);
    let mut found = Vec::new();
    for dir in dirs.iter().chain(&git_dirs) {
        let is_git_dir = git_dirs.contains(dir);
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = if is_git_dir {
                name.starts_with("missionctl-")
                    && (name.ends_with(".index")
                        || name.ends_with(".token")
                        || name.ends_with(".lock"))
            } else {
                name.starts_with(".missionctl-") && name.ends_with(".tmp")
            };
            if !ours {
                continue;
            }
            let path = entry.path();
            let age = lock_age(&path).unwrap_or_default();
            found.push(TempLeftover {
                path,
                age_seconds: age.as_secs(),
                stale: age >= TEMP_FILE_STALE_AFTER,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}
