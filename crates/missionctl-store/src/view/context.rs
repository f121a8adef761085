//! The context: where a mission's state lives, resolved on disk (`context --json`).

use std::path::PathBuf;

use missionctl_core::mission::context::{CoordinationProbe, ExecutionContext, ReadSurface};
use missionctl_core::mission::meta::HandleRule;
use missionctl_core::mission::topology::MissionTopology;
use serde::Serialize;

use crate::mission::context::{ResolveError, ResolvedMissionContext, resolve_mission_context};
use crate::repo::Repo;

/// Where a mission's state lives, resolved on disk.
///
/// The top-level fields are the answers agents need (absolute paths); `context` is the pure
/// execution context with its five fragments, paths relative to `primary_root`.
#[derive(Debug, Clone, Serialize)]
pub struct ContextView {
    /// The mission's directory name.
    pub mission_slug: String,
    /// Its ULID.
    pub mission_id: String,
    /// The ULID's first eight characters.
    pub mid8: String,
    /// Which lookup rule matched the handle.
    pub handle_rule: HandleRule,
    /// The stored (or derived) topology.
    pub topology: MissionTopology,
    /// Whether `topology` is stored in `meta.json` (false: derived, not persisted).
    pub topology_stored: bool,
    /// Whether the mission was flattened.
    pub flattened: bool,
    /// Whether status goes through the coordination branch.
    pub routes_through_coordination: bool,
    /// The branch the mission's work lands on.
    pub target_branch: String,
    /// The coordination branch, when the topology has one.
    pub coordination_branch: Option<String>,
    /// Where status commits go.
    pub destination_ref: String,
    /// The primary checkout.
    pub primary_root: PathBuf,
    /// The coordination worktree (absolute), declared whether or not it exists.
    pub coordination_worktree: Option<PathBuf>,
    /// The probe's finding; `null` when the topology has no coordination branch (nothing on
    /// disk was looked at).
    pub probe: Option<CoordinationProbe>,
    /// `primary` or `coordination`.
    pub read_surface: ReadSurface,
    /// The mission directory status is read from (absolute).
    pub read_dir: PathBuf,
    /// The mission directory status is written to (absolute).
    pub write_dir: PathBuf,
    /// The mission directory planning artifacts and `meta.json` live in (absolute).
    pub planning_dir: PathBuf,
    /// The execution context and its five fragments.
    pub context: ExecutionContext,
}

impl ContextView {
    /// Returns the view of a resolved context.
    pub fn new(resolved: ResolvedMissionContext) -> ContextView {
        let context = resolved.context;
        let root = resolved.primary_root;
        ContextView {
            mission_slug: resolved.mission_slug,
            mission_id: context.identity.mission_id().as_str().to_owned(),
            mid8: context.identity.mid8().to_owned(),
            handle_rule: resolved.handle_rule,
            topology: resolved.topology,
            topology_stored: resolved.topology_stored,
            flattened: resolved.flattened,
            routes_through_coordination: context.routes_through_coordination(),
            target_branch: context.branch_ref.target_branch.clone(),
            coordination_branch: context.branch_ref.coordination_branch.clone(),
            destination_ref: context.branch_ref.destination_ref.ref_name.clone(),
            coordination_worktree: context
                .workspace
                .coord_worktree
                .as_deref()
                .map(|worktree| root.join(worktree)),
            probe: resolved.probe,
            read_surface: resolved.read_surface,
            read_dir: resolved.read_dir,
            write_dir: resolved.write_dir,
            planning_dir: root.join(&context.artifact_placement.planning_dir),
            primary_root: root,
            context,
        }
    }
}

/// Resolves a mission's context and returns its view.
pub fn context_view(repo: &Repo, handle: &str) -> Result<ContextView, ResolveError> {
    Ok(ContextView::new(resolve_mission_context(repo, handle)?))
}
