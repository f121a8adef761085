//! The per-workspace context files `.kittify/workspaces/<mission-dir>-<lane_id>.json` of the
//! primary checkout: written by `implement` (see [`crate::worktree::lane`]), deleted when
//! canceling a work package leaves every work package of its lane done or canceled.
//!
//! The files are local state, never committed (Spec Kitty gitignores the directory; missionctl
//! adds it to the repository's `info/exclude` when nothing ignores it yet). They are written
//! atomically and only when their bytes change, so running `implement` again writes nothing.

use std::path::{Path, PathBuf};

use missionctl_core::mission::workspace_context::{
    WORKSPACES_DIR, WorkspaceContext, context_file_name,
};
use missionctl_core::planning::lanes_manifest::{LanesManifest, PLANNING_LANE_ID};
use missionctl_core::status::snapshot::StatusSnapshot;

use crate::fs_util::PathError;
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::repo::containment::Containment;
use crate::write::{WriteError, WriteTransaction};

/// Returns the context file of a lane: `<primary>/.kittify/workspaces/<mission-dir>-<lane>.json`.
pub fn context_path(primary_root: &Path, mission_dir: &str, lane_id: &str) -> PathBuf {
    primary_root
        .join(WORKSPACES_DIR)
        .join(context_file_name(mission_dir, lane_id))
}

/// Reads a context file; `None` when it does not exist or is not a valid context (Spec Kitty
/// reads a malformed file as absent too).
///
/// `.kittify`, `.kittify/workspaces` and the file are never reached through a symbolic link
/// (`SYMLINK_REFUSED`), as for every function here.
pub fn read_context(
    containment: &Containment,
    path: &Path,
) -> Result<Option<WorkspaceContext>, PathError> {
    Ok(containment
        .read(path)?
        .and_then(|bytes| WorkspaceContext::parse(&bytes).ok()))
}

/// Writes a context file atomically, inside `transaction`, when its bytes differ from what is
/// there; returns whether it wrote.
pub fn write_context(
    transaction: &mut WriteTransaction,
    path: &Path,
    context: &WorkspaceContext,
) -> Result<bool, WriteError> {
    let bytes = context.to_json();
    if transaction.repo().containment().read(path)?.as_deref() == Some(bytes.as_bytes()) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        transaction.create_dir_all(parent)?;
    }
    transaction.write_file(path, bytes.as_bytes())?;
    Ok(true)
}

/// Deletes a context file inside `transaction`; returns whether it existed.
pub fn remove_context(transaction: &mut WriteTransaction, path: &Path) -> Result<bool, WriteError> {
    let existed = transaction.repo().containment().is_file(path)?;
    transaction.remove_file(path)?;
    Ok(existed)
}

/// Returns the context file of `wp_id`'s lane when every work package of that lane is done or
/// canceled in `snapshot`, and the file exists; `None` otherwise (no `lanes.json`, the
/// planning lane, a lane with work left).
pub(crate) fn terminal_lane_context(
    containment: &Containment,
    primary_root: &Path,
    primary_mission_dir: &Path,
    mission_dir: &str,
    wp_id: &str,
    snapshot: &StatusSnapshot,
) -> Option<PathBuf> {
    let bytes = containment
        .read(&primary_mission_dir.join(LANES_FILE_NAME))
        .ok()??;
    let lanes = LanesManifest::parse(&bytes).ok()?;
    let lane = lanes
        .lane_for_wp(wp_id)
        .filter(|lane| lane.lane_id != PLANNING_LANE_ID)?;
    let terminal = lane.wp_ids.iter().all(|id| {
        snapshot
            .work_packages
            .get(id)
            .is_some_and(|state| state.lane.is_terminal())
    });
    let path = context_path(primary_root, mission_dir, &lane.lane_id);
    (terminal && containment.is_file(&path).ok()?).then_some(path)
}
