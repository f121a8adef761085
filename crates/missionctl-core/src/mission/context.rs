//! The pure resolver from a mission's identity and stored topology to its
//! [`ExecutionContext`], and the read-resolution table driven by the stored topology.
//!
//! [`resolve_context_for_mission`] is a projection: no file system, no git. The shell parses
//! `meta.json`, builds a [`MissionSubject`] and passes it with the stored
//! [`MissionTopology`]. Paths in the result are relative to the repository root of the primary
//! checkout (`kitty-specs/<dir>`, `.worktrees/<dir>-coord/kitty-specs/<dir>`); the shell joins
//! them onto the root it found.
//!
//! Where a read goes is decided by [`resolve_read_surface`] from the stored topology and a
//! [`CoordinationProbe`] value. The probe is consulted only for the two topologies that route
//! through coordination, and only to tell apart the transient states the stored shape cannot
//! express (the create-window, a deleted branch). A coordination-less mission never consults a
//! husk.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::mission::meta::{
    COORDINATION_WORKTREE_SUFFIX, KITTY_SPECS_DIR, MetaError, MissionId, MissionMeta, NameError,
    WORKTREES_DIR, check_safe_path_segment, coordination_branch_name, verbatim_mission_dir_name,
};
use crate::mission::topology::MissionTopology;

/// Returns true when the topology routes status and coordination artifacts through the
/// coordination branch (`coord` and `lanes_with_coord`).
///
/// The single routing predicate: call sites decide from the stored topology, never from
/// `coordination_branch` being set and never from a worktree on disk.
pub const fn routes_through_coordination(topology: MissionTopology) -> bool {
    topology.routes_through_coordination()
}

/// A ref that artifacts or status events are committed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CommitTarget {
    /// The branch name.
    #[serde(rename = "ref")]
    pub ref_name: String,
}

impl CommitTarget {
    /// Returns a target for a branch.
    pub fn new(ref_name: impl Into<String>) -> CommitTarget {
        CommitTarget {
            ref_name: ref_name.into(),
        }
    }

    /// Returns the branch name.
    pub fn as_str(&self) -> &str {
        &self.ref_name
    }
}

impl fmt::Display for CommitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ref_name)
    }
}

/// The mission's identity, keyed on by every other fragment.
///
/// `mid8` is derived here, once, as the first eight characters of `mission_id`; the fields are
/// private so the two can never disagree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct IdentityFragment {
    mission_id: MissionId,
    mid8: String,
    mission_slug: String,
}

impl IdentityFragment {
    /// Returns the fragment for a mission id and its directory name, deriving the mid8.
    pub fn derive(mission_id: MissionId, mission_slug: impl Into<String>) -> IdentityFragment {
        IdentityFragment {
            mid8: mission_id.mid8().to_owned(),
            mission_id,
            mission_slug: mission_slug.into(),
        }
    }

    /// Returns the mission id.
    pub fn mission_id(&self) -> &MissionId {
        &self.mission_id
    }

    /// Returns the mid8 (`mission_id[:8]`).
    pub fn mid8(&self) -> &str {
        &self.mid8
    }

    /// Returns the mission slug: the directory name under `kitty-specs/`.
    pub fn mission_slug(&self) -> &str {
        &self.mission_slug
    }
}

/// The branches of a mission.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct BranchRefFragment {
    /// The branch the mission merges into.
    pub target_branch: String,
    /// The coordination branch, for a topology that routes through coordination and declares
    /// one; `None` otherwise.
    pub coordination_branch: Option<String>,
    /// Where status and the other coordination artifacts commit: the coordination branch when
    /// there is one, else the target branch.
    pub destination_ref: CommitTarget,
}

/// The checkouts of a mission, relative to the primary checkout's root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct WorkspaceFragment {
    /// The primary checkout's root: the empty relative path.
    pub primary_root: PathBuf,
    /// The mission directory in the primary checkout: `kitty-specs/<dir>`.
    pub primary_mission_dir: PathBuf,
    /// The coordination worktree, `.worktrees/<dir>-coord`, whenever a coordination branch is
    /// declared, whether or not it is materialized.
    pub coord_worktree: Option<PathBuf>,
    /// The mission directory inside the coordination worktree.
    pub coord_mission_dir: Option<PathBuf>,
    /// The execution workspace of a work package; never set for a mission-level context.
    pub execution_workspace: Option<PathBuf>,
}

/// Where the mission's status log and snapshot live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct StatusSurfaceFragment {
    /// The directory `status.events.jsonl` is read from, as declared by the topology.
    pub status_read_dir: PathBuf,
    /// The directory `status.events.jsonl` is written to; always equal to the read directory.
    pub status_write_dir: PathBuf,
}

/// Where artifacts are committed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct ArtifactPlacementFragment {
    /// The topology-routed ref: the same value as [`BranchRefFragment::destination_ref`].
    pub placement_ref: CommitTarget,
    /// Where planning artifacts (`spec.md`, `plan.md`, `tasks/`, `meta.json`, `lanes.json`)
    /// live for every topology: the primary mission directory.
    pub planning_dir: PathBuf,
    /// Where planning artifacts commit for every topology: the target branch.
    pub planning_ref: CommitTarget,
}

/// Everything a command needs to know about where a mission's state lives.
///
/// Built only by [`resolve_context_for_mission`]; the same inputs always give the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct ExecutionContext {
    /// The stored topology the context was resolved from.
    pub topology: MissionTopology,
    /// The mission's identity.
    pub identity: IdentityFragment,
    /// The mission's branches.
    pub branch_ref: BranchRefFragment,
    /// The mission's checkouts.
    pub workspace: WorkspaceFragment,
    /// The declared status surface.
    pub status_surface: StatusSurfaceFragment,
    /// Where artifacts commit.
    pub artifact_placement: ArtifactPlacementFragment,
}

/// The values the resolver needs about a mission, gathered by the shell from `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MissionSubject {
    mission_id: MissionId,
    mission_slug: String,
    target_branch: String,
    coordination_branch: Option<String>,
}

impl MissionSubject {
    /// Returns a subject without a declared coordination branch.
    ///
    /// `mission_slug` is the mission's directory name and must be a safe path segment;
    /// `target_branch` must not be blank.
    pub fn new(
        mission_id: MissionId,
        mission_slug: &str,
        target_branch: &str,
    ) -> Result<MissionSubject, ContextError> {
        check_safe_path_segment(mission_slug).map_err(ContextError::UnsafeMissionSlug)?;
        if target_branch.trim().is_empty() {
            return Err(ContextError::PlanningBranchNotPersisted {
                mission_slug: mission_slug.to_owned(),
            });
        }
        Ok(MissionSubject {
            mission_id,
            mission_slug: mission_slug.to_owned(),
            target_branch: target_branch.to_owned(),
            coordination_branch: None,
        })
    }

    /// Sets the coordination branch `meta.json` declares (a blank value counts as none).
    pub fn with_coordination_branch(mut self, branch: Option<&str>) -> MissionSubject {
        self.coordination_branch = branch
            .filter(|branch| !branch.trim().is_empty())
            .map(str::to_owned);
        self
    }

    /// Sets the coordination branch to its canonical name, `kitty/mission-<human-slug>-<mid8>`
    /// (what `mission create` declares).
    pub fn with_canonical_coordination_branch(mut self) -> MissionSubject {
        self.coordination_branch = Some(coordination_branch_name(
            &self.mission_slug,
            &self.mission_id,
        ));
        self
    }

    /// Builds the subject of the mission in directory `dir_name` from its `meta.json`.
    ///
    /// Requires a valid `mission_id` ([`ContextError::IdentityMissing`] otherwise) and a
    /// `target_branch` ([`ContextError::PlanningBranchNotPersisted`]); the declared
    /// `coordination_branch` is carried as is.
    pub fn from_meta(dir_name: &str, meta: &MissionMeta) -> Result<MissionSubject, ContextError> {
        let mission_id = meta
            .mission_id()?
            .ok_or_else(|| ContextError::IdentityMissing {
                mission_slug: dir_name.to_owned(),
            })?;
        let target_branch =
            meta.target_branch()?
                .ok_or_else(|| ContextError::PlanningBranchNotPersisted {
                    mission_slug: dir_name.to_owned(),
                })?;
        Ok(MissionSubject::new(mission_id, dir_name, target_branch)?
            .with_coordination_branch(meta.coordination_branch()?))
    }

    /// Returns the mission id.
    pub fn mission_id(&self) -> &MissionId {
        &self.mission_id
    }

    /// Returns the mission's directory name.
    pub fn mission_slug(&self) -> &str {
        &self.mission_slug
    }

    /// Returns the target branch.
    pub fn target_branch(&self) -> &str {
        &self.target_branch
    }

    /// Returns the declared coordination branch.
    pub fn coordination_branch(&self) -> Option<&str> {
        self.coordination_branch.as_deref()
    }
}

/// Returns the execution context of a mission with the given stored topology.
///
/// The rules, per topology:
///
/// | topology | coordination branch | destination / placement ref | coordination worktree | status dir |
/// |---|---|---|---|---|
/// | `single_branch`, `lanes` | none | target branch | none | primary mission dir |
/// | `coord`, `lanes_with_coord` | the declared one | coordination branch | `.worktrees/<v>-coord` | coordination mission dir |
///
/// `<v>` is the verbatim directory name ([`verbatim_mission_dir_name`]: `<dir>-<mid8>` unless
/// the directory already ends with its mid8, a legacy `NNN-` kept). A coordination topology
/// whose `meta.json` declares no branch degrades to the coordination-less column. A
/// coordination-less topology ignores a stray declared branch: the stored shape decides.
/// Planning artifacts live in the primary mission directory and commit to the target branch
/// for every topology. Where a read actually goes also depends on the coordination probe: see
/// [`ExecutionContext::resolve_status_read`].
pub fn resolve_context_for_mission(
    subject: &MissionSubject,
    topology: MissionTopology,
) -> ExecutionContext {
    let identity = IdentityFragment::derive(subject.mission_id.clone(), &subject.mission_slug);
    let primary_mission_dir = Path::new(KITTY_SPECS_DIR).join(&subject.mission_slug);
    let coordination_branch = if routes_through_coordination(topology) {
        subject.coordination_branch.clone()
    } else {
        None
    };
    let destination_ref = CommitTarget::new(
        coordination_branch
            .clone()
            .unwrap_or_else(|| subject.target_branch.clone()),
    );
    let (coord_worktree, coord_mission_dir) = match &coordination_branch {
        Some(_) => {
            let verbatim = verbatim_mission_dir_name(&subject.mission_slug, identity.mid8());
            let worktree =
                Path::new(WORKTREES_DIR).join(format!("{verbatim}{COORDINATION_WORKTREE_SUFFIX}"));
            let mission_dir = worktree.join(KITTY_SPECS_DIR).join(&verbatim);
            (Some(worktree), Some(mission_dir))
        }
        None => (None, None),
    };
    let status_dir = coord_mission_dir
        .clone()
        .unwrap_or_else(|| primary_mission_dir.clone());

    ExecutionContext {
        topology,
        identity,
        branch_ref: BranchRefFragment {
            target_branch: subject.target_branch.clone(),
            coordination_branch,
            destination_ref: destination_ref.clone(),
        },
        workspace: WorkspaceFragment {
            primary_root: PathBuf::new(),
            primary_mission_dir: primary_mission_dir.clone(),
            coord_worktree,
            coord_mission_dir,
            execution_workspace: None,
        },
        status_surface: StatusSurfaceFragment {
            status_read_dir: status_dir.clone(),
            status_write_dir: status_dir,
        },
        artifact_placement: ArtifactPlacementFragment {
            placement_ref: destination_ref,
            planning_dir: primary_mission_dir,
            planning_ref: CommitTarget::new(subject.target_branch.clone()),
        },
    }
}

/// The signals a caller may have observed independently about a mission's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopologySignals {
    /// Whether `meta.json` declares a coordination branch.
    pub coordination_branch: bool,
    /// Whether the mission has a usable `lanes.json`.
    pub has_lanes: bool,
}

/// What a caller expects of the resolution; every supplied value must agree with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct InputAssertion {
    /// The mission id the caller resolved on its own.
    pub mission_id: Option<MissionId>,
    /// Signals whose classification must equal the stored topology.
    pub signals: Option<TopologySignals>,
}

/// Returns the execution context like [`resolve_context_for_mission`], failing closed with
/// [`ContextError::TopologyInputMismatch`] when a supplied value disagrees with the inputs.
pub fn resolve_context_asserting(
    subject: &MissionSubject,
    topology: MissionTopology,
    assertion: &InputAssertion,
) -> Result<ExecutionContext, ContextError> {
    if let Some(mission_id) = &assertion.mission_id
        && mission_id != subject.mission_id()
    {
        return Err(ContextError::TopologyInputMismatch {
            field: "mission_id",
            supplied: mission_id.to_string(),
            resolved: subject.mission_id().to_string(),
        });
    }
    if let Some(signals) = assertion.signals {
        let classified = MissionTopology::classify(signals.coordination_branch, signals.has_lanes);
        if classified != topology {
            return Err(ContextError::TopologyInputMismatch {
                field: "topology",
                supplied: classified.to_string(),
                resolved: topology.to_string(),
            });
        }
    }
    Ok(resolve_context_for_mission(subject, topology))
}

/// The state of a coordination mission's worktree and branch, as the shell's probe found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinationProbe {
    /// No mid8 could be derived, so the coordination worktree cannot be named.
    None,
    /// The coordination worktree and its mission directory exist.
    Materialized,
    /// The coordination worktree exists but holds no mission directory.
    Empty,
    /// No coordination worktree yet and the branch exists or was not declared: the
    /// create-window.
    Unmaterialized,
    /// No coordination worktree and the declared branch is gone locally and from every remote.
    Deleted,
}

impl CoordinationProbe {
    /// Every probe state.
    pub const ALL: [CoordinationProbe; 5] = [
        CoordinationProbe::None,
        CoordinationProbe::Materialized,
        CoordinationProbe::Empty,
        CoordinationProbe::Unmaterialized,
        CoordinationProbe::Deleted,
    ];

    /// Returns the state's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CoordinationProbe::None => "none",
            CoordinationProbe::Materialized => "materialized",
            CoordinationProbe::Empty => "empty",
            CoordinationProbe::Unmaterialized => "unmaterialized",
            CoordinationProbe::Deleted => "deleted",
        }
    }

    /// Returns the state the probe's observations add up to, in Spec Kitty's order: no mid8;
    /// the worktree root (with or without the mission directory); a declared branch that does
    /// not exist; otherwise the create-window.
    pub const fn from_facts(facts: ProbeFacts) -> CoordinationProbe {
        if !facts.mid8_known {
            CoordinationProbe::None
        } else if facts.worktree_exists {
            if facts.mission_dir_exists {
                CoordinationProbe::Materialized
            } else {
                CoordinationProbe::Empty
            }
        } else if facts.branch_declared && !facts.branch_exists {
            CoordinationProbe::Deleted
        } else {
            CoordinationProbe::Unmaterialized
        }
    }
}

impl fmt::Display for CoordinationProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the coordination probe observed. Only `mid8_known` and the two `exists` stats are
/// needed in every case; `branch_exists` is only read when the worktree is absent and a branch
/// is declared, so the shell runs git only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeFacts {
    /// Whether the mission's mid8 is known.
    pub mid8_known: bool,
    /// Whether `.worktrees/<dir>-coord/` exists.
    pub worktree_exists: bool,
    /// Whether the mission directory exists inside it.
    pub mission_dir_exists: bool,
    /// Whether `meta.json` declares a coordination branch.
    pub branch_declared: bool,
    /// Whether that branch exists locally or on any remote (`true` when git could not tell).
    pub branch_exists: bool,
}

/// Which checkout a read resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadSurface {
    /// The primary checkout's mission directory.
    Primary,
    /// The coordination worktree's mission directory.
    Coordination,
}

impl ReadSurface {
    /// Returns the surface's name (`primary` or `coordination`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ReadSurface::Primary => "primary",
            ReadSurface::Coordination => "coordination",
        }
    }
}

impl fmt::Display for ReadSurface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns where a status read of a mission goes, from its stored topology and the probe.
///
/// | stored topology | probe | read |
/// |---|---|---|
/// | `single_branch`, `lanes` | any (not consulted: a husk is ignored) | primary |
/// | `coord`, `lanes_with_coord` | `materialized` | coordination |
/// | `coord`, `lanes_with_coord` | `unmaterialized` (create-window) | primary |
/// | `coord`, `lanes_with_coord` | `empty` (worktree without the mission directory) | [`ReadResolutionError::CoordAuthorityUnavailable`] |
/// | `coord`, `lanes_with_coord` | `deleted` | [`ReadResolutionError::CoordinationBranchDeleted`] |
/// | `coord`, `lanes_with_coord` | `none` (no mid8) | [`ReadResolutionError::CoordAuthorityUnavailable`] |
///
/// The topology decides whether coordination is consulted at all; the probe only tells the
/// transient states apart and never decides the shape.
pub fn resolve_read_surface(
    topology: MissionTopology,
    probe: CoordinationProbe,
) -> Result<ReadSurface, ReadResolutionError> {
    if !routes_through_coordination(topology) {
        return Ok(ReadSurface::Primary);
    }
    match probe {
        CoordinationProbe::Materialized => Ok(ReadSurface::Coordination),
        CoordinationProbe::Unmaterialized => Ok(ReadSurface::Primary),
        // A materialized coordination worktree that lacks the mission directory cannot be
        // trusted, and the primary copy may be stale: fail closed rather than guess.
        CoordinationProbe::Empty => {
            Err(ReadResolutionError::CoordAuthorityUnavailable { topology })
        }
        CoordinationProbe::Deleted => Err(ReadResolutionError::CoordinationBranchDeleted {
            coordination_branch: None,
        }),
        CoordinationProbe::None => Err(ReadResolutionError::CoordAuthorityUnavailable { topology }),
    }
}

/// A status read resolved against the probe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ResolvedRead {
    /// The surface the read goes to.
    pub surface: ReadSurface,
    /// The mission directory on that surface, relative to the primary root.
    pub dir: PathBuf,
}

impl ExecutionContext {
    /// Returns true when the mission's stored topology routes through coordination.
    pub const fn routes_through_coordination(&self) -> bool {
        routes_through_coordination(self.topology)
    }

    /// Returns the mission directory on a surface, relative to the primary root. The
    /// coordination surface of a context without a coordination worktree is the primary one.
    pub fn surface_dir(&self, surface: ReadSurface) -> &Path {
        match (surface, &self.workspace.coord_mission_dir) {
            (ReadSurface::Coordination, Some(dir)) => dir,
            _ => &self.workspace.primary_mission_dir,
        }
    }

    /// Returns where a status read goes given the probe.
    ///
    /// A context without a coordination branch (a coordination-less topology, or a
    /// coordination topology whose `meta.json` declares none) reads the primary checkout
    /// without consulting the probe. Otherwise [`resolve_read_surface`] decides, and a deleted
    /// branch error names the branch.
    pub fn resolve_status_read(
        &self,
        probe: CoordinationProbe,
    ) -> Result<ResolvedRead, ReadResolutionError> {
        let Some(branch) = &self.branch_ref.coordination_branch else {
            return Ok(ResolvedRead {
                surface: ReadSurface::Primary,
                dir: self.workspace.primary_mission_dir.clone(),
            });
        };
        let surface = resolve_read_surface(self.topology, probe).map_err(|error| match error {
            ReadResolutionError::CoordinationBranchDeleted { .. } => {
                ReadResolutionError::CoordinationBranchDeleted {
                    coordination_branch: Some(branch.clone()),
                }
            }
            other => other,
        })?;
        Ok(ResolvedRead {
            surface,
            dir: self.surface_dir(surface).to_path_buf(),
        })
    }
}

/// A mission whose inputs cannot be resolved into a context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A value the caller supplied disagrees with the resolver's inputs.
    #[error("Supplied {field} `{supplied}` does not match the resolved {field} `{resolved}`")]
    TopologyInputMismatch {
        /// Which input disagrees (`mission_id` or `topology`).
        field: &'static str,
        /// The value the caller supplied (or classified from its signals).
        supplied: String,
        /// The value the resolver was given.
        resolved: String,
    },
    /// `meta.json` declares no mission id.
    #[error("Mission `{mission_slug}` has no mission_id in meta.json")]
    IdentityMissing {
        /// The mission directory name.
        mission_slug: String,
    },
    /// `meta.json` declares no target branch.
    #[error("Mission `{mission_slug}` has no target_branch in meta.json")]
    PlanningBranchNotPersisted {
        /// The mission directory name.
        mission_slug: String,
    },
    /// The mission directory name is not a safe path segment.
    #[error(transparent)]
    UnsafeMissionSlug(NameError),
    /// `meta.json` holds a value of the wrong type.
    #[error(transparent)]
    Meta(#[from] MetaError),
}

impl ContextError {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            ContextError::TopologyInputMismatch { .. } => "TOPOLOGY_INPUT_MISMATCH",
            ContextError::IdentityMissing { .. } => "MISSION_IDENTITY_MISSING",
            ContextError::PlanningBranchNotPersisted { .. } => "PLANNING_BRANCH_NOT_PERSISTED",
            ContextError::UnsafeMissionSlug(error) => error.code(),
            ContextError::Meta(error) => error.code(),
        }
    }

    /// Returns a one-line suggestion for the user.
    pub fn hint(&self) -> String {
        match self {
            ContextError::TopologyInputMismatch { .. } => {
                "The stored topology in meta.json is authoritative; check what the caller \
                 observed, or run `missionctl migrate backfill-topology` for a legacy mission"
                    .to_owned()
            }
            ContextError::IdentityMissing { .. } => {
                "Give the mission a mission_id (a ULID) in meta.json".to_owned()
            }
            ContextError::PlanningBranchNotPersisted { .. } => {
                "Set target_branch in meta.json to the branch the mission merges into".to_owned()
            }
            ContextError::UnsafeMissionSlug(error) => error.hint(),
            ContextError::Meta(error) => error.hint(),
        }
    }
}

/// A status read that must fail closed instead of guessing a surface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadResolutionError {
    /// The topology routes through coordination, the coordination worktree is absent and the
    /// declared branch is gone locally and from every remote: reading the primary copy would
    /// silently lose the coordination history.
    #[error("Coordination branch {} was deleted; refusing to read status from another surface", branch_label(coordination_branch.as_deref()))]
    CoordinationBranchDeleted {
        /// The declared coordination branch, when known.
        coordination_branch: Option<String>,
    },
    /// The topology routes through coordination but the coordination surface cannot be
    /// located (no mid8 can be derived to name its worktree).
    #[error(
        "Coordination worktree unavailable: the {topology} mission's coordination surface cannot be located"
    )]
    CoordAuthorityUnavailable {
        /// The stored topology.
        topology: MissionTopology,
    },
}

fn branch_label(branch: Option<&str>) -> String {
    branch.map_or_else(|| "(undeclared)".to_owned(), |branch| format!("`{branch}`"))
}

impl ReadResolutionError {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            ReadResolutionError::CoordinationBranchDeleted { .. } => "COORDINATION_BRANCH_DELETED",
            ReadResolutionError::CoordAuthorityUnavailable { .. } => "COORD_AUTHORITY_UNAVAILABLE",
        }
    }

    /// Returns a one-line suggestion for the user.
    pub fn hint(&self) -> String {
        match self {
            ReadResolutionError::CoordinationBranchDeleted { .. } => {
                "If the mission was merged, run `missionctl mission flatten --mission <handle>` to drop the \
                 coordination branch from its shape; otherwise restore the branch"
                    .to_owned()
            }
            ReadResolutionError::CoordAuthorityUnavailable { .. } => {
                "Give the mission a mission_id in meta.json so its coordination worktree can be \
                 named"
                    .to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mission::meta::MissionMeta;

    const ID: &str = "01KVTVZS6ZT02NTR0YBJ9WWKMJ";
    const DIR: &str = "write-surface-coherence-01KVTVZS";
    const BRANCH: &str = "kitty/mission-write-surface-coherence-01KVTVZS";
    const PRIMARY: &str = "kitty-specs/write-surface-coherence-01KVTVZS";
    const COORD_ROOT: &str = ".worktrees/write-surface-coherence-01KVTVZS-coord";
    const COORD_DIR: &str = ".worktrees/write-surface-coherence-01KVTVZS-coord/kitty-specs/write-surface-coherence-01KVTVZS";

    fn id() -> MissionId {
        MissionId::parse(ID).expect("valid ULID")
    }

    fn subject() -> MissionSubject {
        MissionSubject::new(id(), DIR, "main")
            .expect("valid subject")
            .with_canonical_coordination_branch()
    }

    /// The context every cell must produce, spelled out field by field.
    fn expected(topology: MissionTopology) -> ExecutionContext {
        let coordinated = topology.has_coordination();
        let destination = if coordinated { BRANCH } else { "main" };
        let status_dir = if coordinated { COORD_DIR } else { PRIMARY };
        ExecutionContext {
            topology,
            identity: IdentityFragment {
                mission_id: id(),
                mid8: "01KVTVZS".to_owned(),
                mission_slug: DIR.to_owned(),
            },
            branch_ref: BranchRefFragment {
                target_branch: "main".to_owned(),
                coordination_branch: coordinated.then(|| BRANCH.to_owned()),
                destination_ref: CommitTarget::new(destination),
            },
            workspace: WorkspaceFragment {
                primary_root: PathBuf::new(),
                primary_mission_dir: PathBuf::from(PRIMARY),
                coord_worktree: coordinated.then(|| PathBuf::from(COORD_ROOT)),
                coord_mission_dir: coordinated.then(|| PathBuf::from(COORD_DIR)),
                execution_workspace: None,
            },
            status_surface: StatusSurfaceFragment {
                status_read_dir: PathBuf::from(status_dir),
                status_write_dir: PathBuf::from(status_dir),
            },
            artifact_placement: ArtifactPlacementFragment {
                placement_ref: CommitTarget::new(destination),
                planning_dir: PathBuf::from(PRIMARY),
                planning_ref: CommitTarget::new("main"),
            },
        }
    }

    /// The differential equivalence gate, part (a): every cell, every field, no fixtures.
    #[test]
    fn equivalence_gate_all_four_cells() {
        for topology in MissionTopology::ALL {
            let context = resolve_context_for_mission(&subject(), topology);
            assert_eq!(context, expected(topology), "{topology}");
            // The invariants the fragments promise, checked on the value itself.
            assert_eq!(context.identity.mid8(), &ID[..8]);
            assert_eq!(context.identity.mission_id().as_str(), ID);
            assert_eq!(context.identity.mission_slug(), DIR);
            assert_eq!(
                context.status_surface.status_read_dir,
                context.status_surface.status_write_dir
            );
            assert_eq!(
                context.artifact_placement.placement_ref,
                context.branch_ref.destination_ref
            );
            assert_eq!(
                context.workspace.coord_worktree.is_some(),
                context.branch_ref.coordination_branch.is_some()
            );
            assert_eq!(context.workspace.execution_workspace, None);
            assert_eq!(
                context.routes_through_coordination(),
                routes_through_coordination(topology)
            );
            assert_eq!(
                routes_through_coordination(topology),
                matches!(
                    topology,
                    MissionTopology::Coord | MissionTopology::LanesWithCoord
                )
            );
            // Pure: the same inputs give the same value.
            assert_eq!(context, resolve_context_for_mission(&subject(), topology));
        }
    }

    #[test]
    fn coordination_less_topologies_ignore_a_stray_declared_branch() {
        for topology in [MissionTopology::SingleBranch, MissionTopology::Lanes] {
            let stray = subject().with_coordination_branch(Some("kitty/mission-stale-01KVTVZS"));
            assert_eq!(
                resolve_context_for_mission(&stray, topology),
                expected(topology)
            );
        }
    }

    #[test]
    fn a_coordination_topology_without_a_declared_branch_degrades_to_the_target() {
        let bare = MissionSubject::new(id(), DIR, "main").expect("valid");
        for topology in [MissionTopology::Coord, MissionTopology::LanesWithCoord] {
            let context = resolve_context_for_mission(&bare, topology);
            let mut want = expected(MissionTopology::SingleBranch);
            want.topology = topology;
            assert_eq!(context, want, "{topology}");
            for probe in CoordinationProbe::ALL {
                let read = context.resolve_status_read(probe).expect("primary");
                assert_eq!(read.surface, ReadSurface::Primary, "{probe}");
            }
        }
    }

    #[test]
    fn legacy_names_compose_verbatim_for_coordination() {
        let legacy = MissionSubject::new(id(), "064-complete-identity", "develop")
            .expect("valid")
            .with_coordination_branch(Some("kitty/mission-064-complete-identity-01KVTVZS"));
        let context = resolve_context_for_mission(&legacy, MissionTopology::Coord);
        assert_eq!(
            context.workspace.primary_mission_dir,
            PathBuf::from("kitty-specs/064-complete-identity")
        );
        assert_eq!(
            context.workspace.coord_worktree,
            Some(PathBuf::from(
                ".worktrees/064-complete-identity-01KVTVZS-coord"
            ))
        );
        assert_eq!(
            context.workspace.coord_mission_dir,
            Some(PathBuf::from(
                ".worktrees/064-complete-identity-01KVTVZS-coord/kitty-specs/064-complete-identity-01KVTVZS"
            ))
        );
        assert_eq!(
            context.branch_ref.destination_ref.as_str(),
            "kitty/mission-064-complete-identity-01KVTVZS"
        );
        assert_eq!(context.artifact_placement.planning_ref.as_str(), "develop");
        // The canonical branch of the same mission strips the legacy number.
        let canonical = MissionSubject::new(id(), "064-complete-identity", "develop")
            .expect("valid")
            .with_canonical_coordination_branch();
        assert_eq!(
            canonical.coordination_branch(),
            Some("kitty/mission-complete-identity-01KVTVZS")
        );
    }

    #[test]
    fn subjects_come_from_meta() {
        let meta = MissionMeta::parse_str(&format!(
            r#"{{"mission_id": "{ID}", "target_branch": "main", "coordination_branch": "{BRANCH}"}}"#
        ))
        .expect("object");
        let from_meta = MissionSubject::from_meta(DIR, &meta).expect("complete");
        assert_eq!(from_meta, subject());
        assert_eq!(from_meta.target_branch(), "main");
        assert_eq!(from_meta.mission_slug(), DIR);

        let no_id = MissionMeta::parse_str(r#"{"target_branch": "main"}"#).expect("object");
        let error = MissionSubject::from_meta(DIR, &no_id).expect_err("no id");
        assert_eq!(error.code(), "MISSION_IDENTITY_MISSING");
        let no_target =
            MissionMeta::parse_str(&format!(r#"{{"mission_id": "{ID}"}}"#)).expect("object");
        let error = MissionSubject::from_meta(DIR, &no_target).expect_err("no target");
        assert_eq!(error.code(), "PLANNING_BRANCH_NOT_PERSISTED");
        let bad_id =
            MissionMeta::parse_str(r#"{"mission_id": 7, "target_branch": "m"}"#).expect("object");
        let error = MissionSubject::from_meta(DIR, &bad_id).expect_err("bad id");
        assert_eq!(error.code(), "MISSION_META_FIELD_TYPE");
        let error = MissionSubject::new(id(), "../evil", "main").expect_err("unsafe");
        assert_eq!(error.code(), "UNSAFE_PATH_SEGMENT");
    }

    #[test]
    fn the_input_assertion_fails_closed() {
        let matching = InputAssertion {
            mission_id: Some(id()),
            signals: Some(TopologySignals {
                coordination_branch: true,
                has_lanes: false,
            }),
        };
        let context = resolve_context_asserting(&subject(), MissionTopology::Coord, &matching)
            .expect("agrees");
        assert_eq!(context, expected(MissionTopology::Coord));
        assert_eq!(
            resolve_context_asserting(
                &subject(),
                MissionTopology::Lanes,
                &InputAssertion::default()
            ),
            Ok(expected(MissionTopology::Lanes))
        );

        let other_id = InputAssertion {
            mission_id: Some(MissionId::parse("01M0M9D8R83DDKSZ62QKGV3YW0").expect("ULID")),
            signals: None,
        };
        let error = resolve_context_asserting(&subject(), MissionTopology::Coord, &other_id)
            .expect_err("other mission");
        assert_eq!(error.code(), "TOPOLOGY_INPUT_MISMATCH");
        assert_eq!(
            error.to_string(),
            "Supplied mission_id `01M0M9D8R83DDKSZ62QKGV3YW0` does not match the resolved \
             mission_id `01KVTVZS6ZT02NTR0YBJ9WWKMJ`"
        );

        let lanes_seen = InputAssertion {
            mission_id: None,
            signals: Some(TopologySignals {
                coordination_branch: true,
                has_lanes: true,
            }),
        };
        let error = resolve_context_asserting(&subject(), MissionTopology::Coord, &lanes_seen)
            .expect_err("shape disagrees");
        assert_eq!(
            error,
            ContextError::TopologyInputMismatch {
                field: "topology",
                supplied: "lanes_with_coord".to_owned(),
                resolved: "coord".to_owned(),
            }
        );
    }

    /// The read-resolution table of the seed, exhaustively: every topology × every probe state.
    #[test]
    fn read_resolution_table_is_exhaustive() {
        use CoordinationProbe as P;
        use MissionTopology as T;
        use ReadSurface::{Coordination, Primary};

        let deleted = "COORDINATION_BRANCH_DELETED";
        let unavailable = "COORD_AUTHORITY_UNAVAILABLE";
        let table: [(T, [Result<ReadSurface, &str>; 5]); 4] = [
            // probe:                 none         materialized      empty        unmaterialized deleted
            (
                T::SingleBranch,
                [
                    Ok(Primary),
                    Ok(Primary),
                    Ok(Primary),
                    Ok(Primary),
                    Ok(Primary),
                ],
            ),
            (
                T::Lanes,
                [
                    Ok(Primary),
                    Ok(Primary),
                    Ok(Primary),
                    Ok(Primary),
                    Ok(Primary),
                ],
            ),
            (
                T::Coord,
                [
                    Err(unavailable),
                    Ok(Coordination),
                    Err(unavailable),
                    Ok(Primary),
                    Err(deleted),
                ],
            ),
            (
                T::LanesWithCoord,
                [
                    Err(unavailable),
                    Ok(Coordination),
                    Err(unavailable),
                    Ok(Primary),
                    Err(deleted),
                ],
            ),
        ];
        assert_eq!(
            P::ALL,
            [
                P::None,
                P::Materialized,
                P::Empty,
                P::Unmaterialized,
                P::Deleted
            ]
        );
        for (topology, row) in table {
            for (probe, want) in P::ALL.into_iter().zip(row) {
                let got = resolve_read_surface(topology, probe).map_err(|error| error.code());
                assert_eq!(got, want, "{topology} × {probe}");

                // The same decision through a resolved context, with the directory it names.
                let context = resolve_context_for_mission(&subject(), topology);
                let read = context.resolve_status_read(probe);
                match want {
                    Ok(surface) => {
                        let read = read.expect("resolves");
                        assert_eq!(read.surface, surface);
                        let dir = if surface == Coordination {
                            COORD_DIR
                        } else {
                            PRIMARY
                        };
                        assert_eq!(read.dir, PathBuf::from(dir), "{topology} × {probe}");
                    }
                    Err(code) => {
                        assert_eq!(read.expect_err("fails closed").code(), code);
                    }
                }
            }
        }
    }

    #[test]
    fn a_flattened_mission_never_consults_a_husk() {
        // A stale `-coord` worktree on disk probes as materialized; the stored shape wins.
        for topology in [MissionTopology::SingleBranch, MissionTopology::Lanes] {
            let context = resolve_context_for_mission(&subject(), topology);
            let read = context
                .resolve_status_read(CoordinationProbe::Materialized)
                .expect("primary");
            assert_eq!(read.surface, ReadSurface::Primary);
            assert_eq!(read.dir, PathBuf::from(PRIMARY));
        }
    }

    #[test]
    fn deleted_errors_name_the_branch() {
        let context = resolve_context_for_mission(&subject(), MissionTopology::Coord);
        let error = context
            .resolve_status_read(CoordinationProbe::Deleted)
            .expect_err("deleted");
        assert_eq!(
            error,
            ReadResolutionError::CoordinationBranchDeleted {
                coordination_branch: Some(BRANCH.to_owned())
            }
        );
        assert_eq!(
            error.to_string(),
            "Coordination branch `kitty/mission-write-surface-coherence-01KVTVZS` was deleted; \
             refusing to read status from another surface"
        );
        assert!(error.hint().contains("missionctl mission flatten"));
    }

    #[test]
    fn probe_states_follow_spec_kitty_order() {
        let facts = |mid8_known, worktree_exists, mission_dir_exists, branch_exists| ProbeFacts {
            mid8_known,
            worktree_exists,
            mission_dir_exists,
            branch_declared: true,
            branch_exists,
        };
        use CoordinationProbe as P;
        assert_eq!(P::from_facts(facts(false, true, true, true)), P::None);
        assert_eq!(
            P::from_facts(facts(true, true, true, false)),
            P::Materialized
        );
        assert_eq!(P::from_facts(facts(true, true, false, false)), P::Empty);
        assert_eq!(P::from_facts(facts(true, false, false, false)), P::Deleted);
        assert_eq!(
            P::from_facts(facts(true, false, false, true)),
            P::Unmaterialized
        );
        let undeclared = ProbeFacts {
            branch_declared: false,
            ..facts(true, false, false, false)
        };
        assert_eq!(P::from_facts(undeclared), P::Unmaterialized);
        let names: Vec<_> = P::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            names,
            ["none", "materialized", "empty", "unmaterialized", "deleted"]
        );
    }

    #[test]
    fn contexts_serialize_with_wire_names() {
        let context = resolve_context_for_mission(&subject(), MissionTopology::LanesWithCoord);
        let value = serde_json::to_value(&context).expect("serializes");
        assert_eq!(
            value,
            serde_json::json!({
                "topology": "lanes_with_coord",
                "identity": {"mission_id": ID, "mid8": "01KVTVZS", "mission_slug": DIR},
                "branch_ref": {
                    "target_branch": "main",
                    "coordination_branch": BRANCH,
                    "destination_ref": {"ref": BRANCH},
                },
                "workspace": {
                    "primary_root": "",
                    "primary_mission_dir": PRIMARY,
                    "coord_worktree": COORD_ROOT,
                    "coord_mission_dir": COORD_DIR,
                    "execution_workspace": null,
                },
                "status_surface": {"status_read_dir": COORD_DIR, "status_write_dir": COORD_DIR},
                "artifact_placement": {
                    "placement_ref": {"ref": BRANCH},
                    "planning_dir": PRIMARY,
                    "planning_ref": {"ref": "main"},
                },
            })
        );
        assert_eq!(
            serde_json::to_value(ReadSurface::Coordination).expect("serializes"),
            "coordination"
        );
    }
}
