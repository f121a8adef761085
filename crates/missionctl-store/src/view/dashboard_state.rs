//! The record of a running dashboard: `<git-common-dir>/missionctl/dashboard.json`, written
//! when `missionctl dashboard` starts serving a repository and removed when it stops, so that a
//! second start on the same repository (from any of its worktrees) finds the first one, and
//! `dashboard --stop` can reach it.
//!
//! The record is a hint, like the status cache: a dashboard killed without a chance to clean up
//! leaves it behind, so a reader must check that the server it names still answers (the
//! dashboard does, by asking it) before trusting it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fs_util::PathError;
use crate::repo::Repo;

/// What a running dashboard records about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardState {
    /// The server's process id.
    pub pid: u32,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// The secret every request must carry.
    pub token: String,
    /// The address to open, token included.
    pub url: String,
    /// When it started, in Spec Kitty's timestamp shape.
    pub started_at: String,
    /// The repository's primary checkout.
    pub primary_root: PathBuf,
}

/// Returns where a repository's dashboard record lives.
pub fn state_path(repo: &Repo) -> PathBuf {
    repo.common_dir().join("missionctl").join("dashboard.json")
}

/// Reads the dashboard record; `None` when there is none, or when it is not a record this
/// version wrote (a reader treats it as stale).
pub fn read_state(repo: &Repo) -> Result<Option<DashboardState>, PathError> {
    let Some(bytes) = repo.containment().read(&state_path(repo))? else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&bytes).ok())
}

/// Writes the dashboard record, replacing any other atomically.
pub fn write_state(repo: &Repo, state: &DashboardState) -> Result<(), PathError> {
    let path = state_path(repo);
    if let Some(dir) = path.parent() {
        repo.containment().create_dir_all(dir)?;
    }
    let mut bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    bytes.push(b'\n');
    repo.containment().write(&path, &bytes)
}

/// Removes the dashboard record if it is still the one with `token` (another dashboard may
/// have replaced it); returns whether it was removed.
pub fn remove_state(repo: &Repo, token: &str) -> Result<bool, PathError> {
    match read_state(repo)? {
        Some(state) if state.token == token => repo.containment().remove_file(&state_path(repo)),
        _ => Ok(false),
    }
}

/// Removes whatever dashboard record there is (a stale one); returns whether one existed.
pub fn clear_state(repo: &Repo) -> Result<bool, PathError> {
    repo.containment().remove_file(&state_path(repo))
}
