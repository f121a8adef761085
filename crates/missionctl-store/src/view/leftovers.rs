//! What interrupted writes left in the repository, as `doctor` findings, and what
//! `doctor --fix` may repair on its own.
//!
//! Safe to repair (`doctor --fix` does it): a journal of a write that did not finish (settled
//! under its scope's lock, exactly as the next writer in that scope would: completed or
//! undone), missionctl's temporary files no running write can own. Everything else is reported
//! with the exact command that removes it, and never removed by missionctl: a git lock file no
//! journal accounts for (a git process may still be running), a staging checkout of a
//! coordination worktree, a run directory without `state.json` or one the index does not name.
//! No fix changes a mission's topology.

use std::path::Path;

use serde::Serialize;

use super::doctor::DoctorFinding;
use crate::repo::Repo;
use crate::write::{self, Leftovers, Recovered};

/// What `doctor --fix` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fixed {
    /// The interrupted writes settled.
    pub settled: Vec<Recovered>,
    /// The temporary files removed.
    pub removed: Vec<String>,
}

/// Repairs what is safe to repair (see the [module](self) docs).
pub fn fix_leftovers(repo: &Repo) -> Fixed {
    let settled = write::recover_all(repo);
    let mut removed = Vec::new();
    for temp in write::leftovers(repo).temp_files {
        let owned_by_nobody = temp.stale || is_abandoned_cache_file(&temp.path);
        if owned_by_nobody && std::fs::remove_file(&temp.path).is_ok() {
            removed.push(temp.path.display().to_string());
        }
    }
    Fixed { settled, removed }
}

/// A status-cache temporary file nobody holds locked (its writer holds it until the rename).
fn is_abandoned_cache_file(path: &Path) -> bool {
    path.parent()
        .is_some_and(|dir| dir.ends_with("status-cache"))
        && std::fs::File::open(path).is_ok_and(|file| file.try_lock().is_ok())
}

/// Quotes a path for a POSIX shell.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Returns the findings about leftovers of interrupted writes, repository-wide (their
/// `mission_slug` is empty, or the mission a journal was writing).
pub fn leftover_findings(repo: &Repo) -> Vec<DoctorFinding> {
    let Leftovers {
        journals,
        git_locks,
        temp_files,
    } = write::leftovers(repo);
    let mut findings = Vec::new();
    let mut add = |mission_slug: &str, code, severity, message: String, fix: String| {
        findings.push(DoctorFinding {
            mission_slug: mission_slug.to_owned(),
            code,
            severity,
            message,
            fix,
        });
    };
    for journal in journals.iter().filter(|journal| !journal.live) {
        add(
            journal.scope.strip_prefix("mission-").unwrap_or(""),
            "WRITE_INTERRUPTED",
            "error",
            format!(
                "`{}` (pid {}) stopped {} s ago before it finished; its journal `{}` says what \
                 to complete or undo (the next write in its scope does it too)",
                journal.operation,
                journal.pid,
                journal.age_seconds,
                journal.path.display()
            ),
            "missionctl doctor --fix".to_owned(),
        );
    }
    for lock in &git_locks {
        add(
            "",
            "GIT_LOCK_STALE",
            "error",
            format!(
                "`{}` has been there for {} s and no missionctl write accounts for it: git \
                 refuses every write it guards until it goes",
                lock.path.display(),
                lock.age_seconds
            ),
            format!(
                "rm -- {}  # once no git process is running in this repository",
                quoted(&lock.path)
            ),
        );
    }
    for temp in &temp_files {
        let fix = if temp.stale || is_abandoned_cache_file(&temp.path) {
            "missionctl doctor --fix".to_owned()
        } else {
            format!(
                "rm -- {}  # once no missionctl is running in this repository",
                quoted(&temp.path)
            )
        };
        add(
            "",
            "TEMP_FILE_LEFTOVER",
            "warning",
            format!(
                "`{}`, a temporary file of missionctl's, is {} s old",
                temp.path.display(),
                temp.age_seconds
            ),
            fix,
        );
    }
    materializing_findings(repo, &mut add);
    run_findings(repo, &mut add);
    findings
}

/// Staging checkouts of a coordination worktree (`.worktrees/.materializing/<name>`) that a
/// killed writer left and no journal accounts for.
fn materializing_findings(
    repo: &Repo,
    add: &mut impl FnMut(&str, &'static str, &'static str, String, String),
) {
    let staging = repo.worktrees_dir().join(".materializing");
    let Ok(entries) = std::fs::read_dir(&staging) else {
        return;
    };
    let mut paths: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        let shown = path.strip_prefix(repo.primary_root()).unwrap_or(&path);
        add(
            "",
            "MATERIALIZING_CHECKOUT",
            "warning",
            format!(
                "`{}` is a coordination worktree's staging checkout a stopped write left",
                shown.display()
            ),
            format!(
                "git worktree remove --force {0} || rm -r -- {0}; git worktree prune",
                quoted(shown)
            ),
        );
    }
}

/// Run directories without `state.json`, runs the index does not name, and a second run of a
/// mission that has one.
fn run_findings(
    repo: &Repo,
    add: &mut impl FnMut(&str, &'static str, &'static str, String, String),
) {
    let Ok(runs) = crate::runtime::list_runs(repo) else {
        return;
    };
    for run in &runs {
        let slug = run.mission_slug.as_deref().unwrap_or("");
        let dir = Path::new(&run.run_dir);
        if let Some(problem) = &run.problem {
            add(
                slug,
                "RUN_INCOMPLETE",
                "error",
                format!("run {} cannot be read: {problem}", run.run_id),
                format!("rm -r -- {}", quoted(dir)),
            );
        } else if !run.indexed {
            let duplicate = runs.iter().any(|other| {
                other.indexed
                    && other.mission_slug.is_some()
                    && other.mission_slug == run.mission_slug
            });
            let (code, message) = if duplicate {
                (
                    "RUN_DUPLICATE",
                    format!(
                        "run {} is a second run of `{slug}`, which the run index does not name",
                        run.run_id
                    ),
                )
            } else {
                (
                    "RUN_NOT_INDEXED",
                    format!("run {} is not in the run index", run.run_id),
                )
            };
            add(
                slug,
                code,
                "warning",
                message,
                format!("rm -r -- {}", quoted(dir)),
            );
        }
    }
}
