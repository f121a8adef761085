//! The imperative shell of the execution-context resolver: reads the primary `meta.json`, hands
//! the stored topology to the core's pure [`resolve_context_for_mission`], probes the
//! coordination worktree only when the stored topology routes through coordination, and
//! resolves the read and write surfaces to absolute paths.
//!
//! The probe is a few `stat`s plus, only when the coordination worktree is absent, one in-process
//! ref lookup (local branch, then the remote-tracking refs). A coordination-less mission is
//! never probed, so a stale `.worktrees/<mission>-coord/` husk cannot influence it.

use std::path::{Path, PathBuf};

use missionctl_core::mission::context::{
    ContextError, CoordinationProbe, ExecutionContext, MissionSubject, ProbeFacts,
    ReadResolutionError, ReadSurface, resolve_context_for_mission,
};
use missionctl_core::mission::meta::HandleRule;
use missionctl_core::mission::topology::{MissionTopology, read_topology};
use serde::Serialize;

use crate::fs_util::PathError;
use crate::mission::index::{LookupError, lanes_state_if_needed, resolve_handle};
use crate::mission::meta_store::{MetaFileError, PrimaryMissionDir};
use crate::repo::Repo;

/// A mission's execution context with its read and write surfaces resolved on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedMissionContext {
    /// The mission directory name.
    pub mission_slug: String,
    /// Which lookup rule matched the handle.
    pub handle_rule: HandleRule,
    /// The primary checkout's root (absolute).
    pub primary_root: PathBuf,
    /// The stored topology, or the one derived for a mission without one.
    pub topology: MissionTopology,
    /// Whether `topology` is stored in `meta.json`.
    pub topology_stored: bool,
    /// Whether the mission once had a coordination branch that was dropped.
    pub flattened: bool,
    /// The pure execution context (paths relative to `primary_root`).
    pub context: ExecutionContext,
    /// The coordination probe; `None` when it was not run because the stored shape has no
    /// coordination branch (a husk on disk is then never looked at).
    pub probe: Option<CoordinationProbe>,
    /// Where status reads go.
    pub read_surface: ReadSurface,
    /// The mission directory status is read from (absolute).
    pub read_dir: PathBuf,
    /// The mission directory status is written to (absolute): the coordination worktree's for a
    /// coordination topology, even in the create-window before it is materialized.
    pub write_dir: PathBuf,
    /// The primary checkout's `meta.json` object, as read for this resolution (callers need
    /// not read it again).
    #[serde(skip)]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// Why a mission's context could not be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The handle does not name exactly one mission.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The mission's `meta.json` cannot be used.
    #[error(transparent)]
    Meta(#[from] MetaFileError),
    /// `meta.json` lacks what the resolver needs (a mission id, a target branch).
    #[error("Mission `{mission_slug}`: {source}")]
    Context {
        /// The mission directory name.
        mission_slug: String,
        /// What is missing.
        #[source]
        source: ContextError,
    },
    /// The read surface cannot be resolved and the resolver fails closed.
    #[error("Mission `{mission_slug}`: {source}")]
    Read {
        /// The mission directory name.
        mission_slug: String,
        /// The probe's finding.
        probe: CoordinationProbe,
        /// The coordination worktree (absolute).
        coordination_worktree: Option<PathBuf>,
        /// Why the read fails closed.
        #[source]
        source: ReadResolutionError,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl ResolveError {
    /// Returns the stable error code (`COORDINATION_BRANCH_DELETED`,
    /// `COORD_AUTHORITY_UNAVAILABLE`, `MISSION_AMBIGUOUS_SELECTOR`, …).
    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::Lookup(error) => error.code(),
            ResolveError::Meta(error) => error.code(),
            ResolveError::Context { source, .. } => source.code(),
            ResolveError::Read { source, .. } => source.code(),
            ResolveError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            ResolveError::Lookup(error) => error.hint(),
            ResolveError::Meta(error) => error.hint(),
            ResolveError::Context { source, .. } => source.hint(),
            ResolveError::Read {
                probe: CoordinationProbe::Empty,
                coordination_worktree: Some(worktree),
                ..
            } => format!(
                "The coordination worktree `{}` exists but does not hold the mission directory; \
                 check it out on the coordination branch, or remove it with `git worktree \
                 remove {}` so it is created again on the next coordination write",
                worktree.display(),
                worktree.display()
            ),
            ResolveError::Read {
                mission_slug,
                source,
                ..
            } => match source {
                ReadResolutionError::CoordinationBranchDeleted { .. } => format!(
                    "If the mission was merged, run `missionctl mission flatten --mission {mission_slug}` \
                     to drop the coordination branch from its shape; otherwise restore the branch"
                ),
                other => other.hint(),
            },
            ResolveError::Io(error) => error.hint(),
        }
    }
}

/// Probes the coordination worktree and branch of a mission whose context declares one.
///
/// Returns `None` without touching the disk when the context has no coordination worktree (a
/// coordination-less topology, or a coordination topology whose `meta.json` declares no
/// branch). Otherwise: two `stat`s (the worktree root, the mission directory inside it) and,
/// only when the root is absent, the branch-existence check (local, then every remote; an
/// unreadable ref store counts as existing). A symbolic link on the way to either is refused
/// (`SYMLINK_REFUSED`), never followed.
pub fn probe_coordination(
    repo: &Repo,
    context: &ExecutionContext,
) -> Result<Option<CoordinationProbe>, PathError> {
    let (Some(worktree), Some(mission_dir)) = (
        context.workspace.coord_worktree.as_deref(),
        context.workspace.coord_mission_dir.as_deref(),
    ) else {
        return Ok(None);
    };
    let root = repo.primary_root();
    let containment = repo.containment();
    let worktree_exists = containment.exists(&root.join(worktree))?;
    let mission_dir_exists = worktree_exists && containment.exists(&root.join(mission_dir))?;
    let branch = context.branch_ref.coordination_branch.as_deref();
    let branch_exists = match (worktree_exists, branch) {
        (false, Some(branch)) => repo.coordination_branch_exists(branch),
        _ => true,
    };
    Ok(Some(CoordinationProbe::from_facts(ProbeFacts {
        mid8_known: !context.identity.mid8().is_empty(),
        worktree_exists,
        mission_dir_exists,
        branch_declared: branch.is_some(),
        branch_exists,
    })))
}

/// Resolves a handle to the mission's execution context and its read and write surfaces.
///
/// `meta.json` is read from the primary checkout only; the topology is the stored one (derived
/// without persisting for a mission that has none). Fails closed with
/// `COORDINATION_BRANCH_DELETED` when a coordination mission's worktree is absent and its branch
/// is gone locally and from every remote, and with `COORD_AUTHORITY_UNAVAILABLE` when the
/// coordination worktree exists without the mission directory. The create-window (branch
/// present, worktree absent) reads the primary checkout.
pub fn resolve_mission_context(
    repo: &Repo,
    handle: &str,
) -> Result<ResolvedMissionContext, ResolveError> {
    let resolved = resolve_handle(repo, handle)?;
    resolve_dir_context(repo, &resolved.dir, resolved.rule)
}

/// Resolves a handle for reading the way Spec Kitty's board does
/// (`resolve_handle_to_read_path(require_exists=False)`): like [`resolve_mission_context`],
/// except that a coordination mission whose status cannot be trusted — its coordination branch
/// deleted (typically after merge), or its coordination worktree without the mission directory —
/// reads the primary checkout instead of failing. The error that [`resolve_mission_context`]
/// would have returned comes back beside the context, so that writes still fail closed.
pub fn resolve_mission_context_for_reading(
    repo: &Repo,
    handle: &str,
) -> Result<(ResolvedMissionContext, Option<ResolveError>), ResolveError> {
    let resolved = resolve_handle(repo, handle)?;
    resolve_dir_context_with(repo, &resolved.dir, resolved.rule, true)
}

/// Resolves the context of a mission directory already found (see [`resolve_mission_context`]).
pub fn resolve_dir_context(
    repo: &Repo,
    dir: &PrimaryMissionDir,
    handle_rule: HandleRule,
) -> Result<ResolvedMissionContext, ResolveError> {
    let (context, _) = resolve_dir_context_with(repo, dir, handle_rule, false)?;
    Ok(context)
}

/// Resolves a mission directory's context; with `primary_fallback`, an untrustworthy
/// coordination surface reads the primary checkout and its error is returned beside the
/// context.
fn resolve_dir_context_with(
    repo: &Repo,
    dir: &PrimaryMissionDir,
    handle_rule: HandleRule,
    primary_fallback: bool,
) -> Result<(ResolvedMissionContext, Option<ResolveError>), ResolveError> {
    let mission_slug = dir.dir_name().to_owned();
    let meta = dir.read_meta_required()?;
    let lanes_json = lanes_state_if_needed(dir, &meta)?;
    let topology = read_topology(&meta, lanes_json);
    let subject = MissionSubject::from_meta(dir.dir_name(), &meta).map_err(|source| {
        ResolveError::Context {
            mission_slug: mission_slug.clone(),
            source,
        }
    })?;
    let context = resolve_context_for_mission(&subject, topology);
    let probe = probe_coordination(repo, &context)?;
    // Without a probe the context has no coordination branch, and the core reads the primary
    // checkout without looking at the probe value.
    let root = repo.primary_root();
    let (read_surface, read_dir, unreadable) = match context
        .resolve_status_read(probe.unwrap_or(CoordinationProbe::None))
    {
        Ok(read) => (read.surface, root.join(&read.dir), None),
        Err(source) => {
            let error = ResolveError::Read {
                mission_slug: mission_slug.clone(),
                probe: probe.unwrap_or(CoordinationProbe::None),
                coordination_worktree: absolute(repo, context.workspace.coord_worktree.as_deref()),
                source,
            };
            if !primary_fallback {
                return Err(error);
            }
            let primary = root.join(&context.workspace.primary_mission_dir);
            (ReadSurface::Primary, primary, Some(error))
        }
    };
    let write_dir = root.join(&context.status_surface.status_write_dir);
    // Every status read and write happens below these two: no symbolic link on the way.
    repo.containment().check(&read_dir)?;
    repo.containment().check(&write_dir)?;
    let resolved = ResolvedMissionContext {
        mission_slug,
        handle_rule,
        primary_root: root.to_path_buf(),
        topology,
        topology_stored: meta.stored_topology().is_some(),
        flattened: meta.flattened(),
        read_surface,
        read_dir,
        write_dir,
        probe,
        context,
        meta: meta.into_map(),
    };
    Ok((resolved, unreadable))
}

fn absolute(repo: &Repo, relative: Option<&Path>) -> Option<PathBuf> {
    relative.map(|path| repo.primary_root().join(path))
}
