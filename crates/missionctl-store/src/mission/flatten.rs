//! `mission flatten`: drop the coordination branch from a mission's shape.
//!
//! One atomic rewrite of the primary `meta.json` (validation off, as Spec Kitty's flatten
//! primitive): `coordination_branch` removed, the coordination-less topology (`lanes` when a
//! usable `lanes.json` exists, else `single_branch`) stored, `flattened: true` recorded as
//! history. A mission with nothing to flatten is left untouched, so a repeat call is a no-op.
//!
//! The change is **not committed**. `meta.json` lives in the primary checkout, which may have
//! another branch than the mission's target branch checked out, and a commit on the target
//! branch behind the working tree's back would leave the checkout looking modified. The
//! rewritten file is left for the user (or the merge flow that flattens) to commit; the result
//! names it. Neither the coordination branch nor its worktree is deleted: a leftover
//! `.worktrees/<mission>-coord/` becomes a husk every resolver ignores, and the result reports
//! it so the caller can suggest `git worktree remove`.

use std::path::PathBuf;

use missionctl_core::mission::meta::{WORKTREES_DIR, coordination_worktree_dir_name};
use missionctl_core::mission::topology::MissionTopology;
use serde::Serialize;
use serde_json::Value;

use crate::mission::index::{LookupError, resolve_handle};
use crate::mission::meta_store::{MetaFileError, MetaValidation};
use crate::repo::Repo;
use crate::write::{Scope, WriteTransaction};

/// What a flatten did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlattenedMission {
    /// The mission directory name.
    pub mission_slug: String,
    /// Whether `meta.json` was rewritten (false: nothing to flatten).
    pub changed: bool,
    /// The `coordination_branch` value that was removed.
    pub removed_coordination_branch: Option<String>,
    /// The `topology` value before, as stored (absent when none was stored).
    pub previous_topology: Option<String>,
    /// The topology stored now.
    pub topology: MissionTopology,
    /// The rewritten `meta.json` (absolute), to be committed by the caller.
    pub meta_path: PathBuf,
    /// A coordination worktree still on disk, now a husk (absolute).
    pub leftover_worktree: Option<PathBuf>,
}

/// Why a mission could not be flattened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlattenError {
    /// The handle does not name exactly one mission.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// `meta.json` cannot be read or written.
    #[error(transparent)]
    Meta(#[from] MetaFileError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] crate::fs_util::PathError),
}

impl FlattenError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            FlattenError::Lookup(error) => error.code(),
            FlattenError::Meta(error) => error.code(),
            FlattenError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            FlattenError::Lookup(error) => error.hint(),
            FlattenError::Meta(error) => error.hint(),
            FlattenError::Io(error) => error.hint(),
        }
    }
}

fn text(value: Option<Value>) -> Option<String> {
    value.map(|value| match value {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

/// Flattens the mission a handle names (see the [module](self) docs).
pub fn flatten_mission(repo: &Repo, handle: &str) -> Result<FlattenedMission, FlattenError> {
    let dir = resolve_handle(repo, handle)?.dir;
    // The decision and the write under the mission's lock.
    let mut transaction = WriteTransaction::begin(
        repo,
        Scope::Mission(dir.dir_name().to_owned()),
        "mission flatten",
    )
    .map_err(MetaFileError::from)?;
    let mut meta = dir.read_meta_required()?;
    let lanes_json = dir.lanes_json_state()?;
    // Named the way the resolver names it; only a stat, never consulted for anything else.
    let leftover_worktree = meta
        .resolve_declared_mid8(dir.dir_name())
        .map(|mid8| {
            repo.primary_root()
                .join(WORKTREES_DIR)
                .join(coordination_worktree_dir_name(dir.dir_name(), mid8))
        })
        .map(|worktree| {
            Ok::<_, crate::fs_util::PathError>(
                repo.containment().exists(&worktree)?.then_some(worktree),
            )
        })
        .transpose()?
        .flatten();
    match meta.flatten_coordination(lanes_json) {
        Some(outcome) => {
            dir.write_meta(&mut transaction, &meta, MetaValidation::Skip)?;
            transaction.finish().map_err(MetaFileError::from)?;
            Ok(FlattenedMission {
                mission_slug: dir.dir_name().to_owned(),
                changed: true,
                removed_coordination_branch: text(outcome.removed_coordination_branch),
                previous_topology: text(outcome.previous_topology),
                topology: outcome.topology,
                meta_path: dir.meta_path(),
                leftover_worktree,
            })
        }
        None => Ok(FlattenedMission {
            mission_slug: dir.dir_name().to_owned(),
            changed: false,
            removed_coordination_branch: None,
            previous_topology: text(meta.get("topology").cloned()),
            topology: missionctl_core::mission::topology::read_topology(&meta, lanes_json),
            meta_path: dir.meta_path(),
            leftover_worktree,
        }),
    }
}
