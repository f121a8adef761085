//! `spec-commit`: commits a mission's planning files (`spec.md`, `plan.md`, …) on the
//! planning surface: the primary mission directory, on the mission's target branch, for every
//! topology.
//!
//! Order of work, all checks first:
//!
//! 1. resolve the planning surface and check it is writable (the target branch is checked out
//!    in the primary checkout and is not protected);
//! 2. collect the files: the ones named (each inside the mission directory, existing, and a
//!    PRIMARY-kind artifact — a directory stands for the files under it), or by default
//!    whichever of [`DEFAULT_PLANNING_FILES`] exist;
//! 3. keep the ones that differ from the branch tip; of those, a `spec.md` or `plan.md` that
//!    is not substantive (still the template) is skipped with its reason;
//! 4. commit the rest, exactly those paths.
//!
//! Nothing is written before the commit, so a refusal leaves the repository as it was, and a
//! second run over unchanged files commits nothing.

use std::path::{Component, Path, PathBuf};

use missionctl_core::next::{is_substantive_plan, is_substantive_spec};
use missionctl_core::planning::planning_artifact::ArtifactKind;
use serde::Serialize;

use crate::fs_util::{IoResultExt, PathError};
use crate::planning::{PlanningError, PlanningSurface};
use crate::repo::Repo;

/// The files `spec-commit` commits when none is named, relative to the mission directory:
/// each one that exists (`checklists` stands for the files under it).
pub const DEFAULT_PLANNING_FILES: [&str; 6] = [
    "spec.md",
    "plan.md",
    "research.md",
    "data-model.md",
    "tasks.md",
    "checklists",
];

/// The code of a file skipped because it is still the template.
pub const NOT_SUBSTANTIVE: &str = "NOT_SUBSTANTIVE";

/// What to commit.
#[derive(Debug, Clone, Copy)]
pub struct SpecCommitOptions<'a> {
    /// The files to commit, relative to the mission directory or absolute; empty for the
    /// default set.
    pub files: &'a [String],
    /// The commit message; `None` for Spec Kitty's.
    pub message: Option<&'a str>,
    /// Branches never committed to.
    pub protected_branches: &'a crate::repo::protection::ProtectedBranches,
}

/// A file that differs from the branch tip but was not committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    /// The file, relative to the repository.
    pub path: String,
    /// Its kind.
    pub kind: ArtifactKind,
    /// Why, as a stable code ([`NOT_SUBSTANTIVE`]).
    pub code: &'static str,
    /// Why, for people.
    pub reason: String,
}

/// What `spec-commit` did.
#[derive(Debug, Clone, Serialize)]
pub struct SpecCommitReport {
    /// The mission.
    pub mission_slug: String,
    /// Its stored topology.
    pub topology: String,
    /// The branch planning artifacts are committed to.
    pub planning_branch: String,
    /// The new commit, or `None` when nothing was committed.
    pub commit: Option<String>,
    /// The files committed, relative to the repository.
    pub committed: Vec<String>,
    /// The files considered that already match the branch tip.
    pub unchanged: Vec<String>,
    /// The files not committed, with the reason.
    pub skipped: Vec<SkippedFile>,
}

/// Why `spec-commit` refused or failed. Nothing is written when it is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecCommitError {
    /// The planning surface cannot be resolved or written, or a named file is not a planning
    /// artifact of the mission.
    #[error(transparent)]
    Planning(#[from] PlanningError),
    /// A named file does not exist.
    #[error("`{path}` does not exist in the mission directory `{mission_dir}`")]
    NotFound {
        /// The file, as given.
        path: String,
        /// The mission directory, relative to the repository.
        mission_dir: String,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl SpecCommitError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            SpecCommitError::Planning(error) => error.code(),
            SpecCommitError::NotFound { .. } => "PLANNING_FILE_NOT_FOUND",
            SpecCommitError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            SpecCommitError::Planning(error) => error.hint(),
            SpecCommitError::NotFound { .. } => {
                "Name files relative to the mission directory (`spec.md`, not \
                 `kitty-specs/<mission>/spec.md`), or name none to commit the default set"
                    .to_owned()
            }
            SpecCommitError::Io(error) => error.hint(),
        }
    }
}

/// Commits a mission's planning files. See the [module](self) docs.
pub fn spec_commit(
    repo: &Repo,
    handle: &str,
    options: &SpecCommitOptions<'_>,
    clock: &dyn crate::clock::Clock,
) -> Result<SpecCommitReport, SpecCommitError> {
    let surface = PlanningSurface::resolve(repo, handle)?;
    surface.check_writable(repo, options.protected_branches)?;
    let mut transaction = surface.begin(repo, "spec-commit")?;

    let mut candidates: Vec<(String, ArtifactKind)> = Vec::new();
    if options.files.is_empty() {
        for name in DEFAULT_PLANNING_FILES {
            let path = surface.mission_dir.join(name);
            if surface.containment.exists(&path)? {
                collect(&surface, &path, name, &mut candidates)?;
            }
        }
    } else {
        for given in options.files {
            let path = resolve_named(&surface, given)?;
            collect(&surface, &path, given, &mut candidates)?;
        }
    }

    let paths: Vec<String> = candidates.iter().map(|(path, _)| path.clone()).collect();
    let dirty = surface.dirty_paths(&paths)?;
    let mut report = SpecCommitReport {
        mission_slug: surface.mission_slug().to_owned(),
        topology: surface.topology().as_str().to_owned(),
        planning_branch: surface.branch.clone(),
        commit: None,
        committed: Vec::new(),
        unchanged: Vec::new(),
        skipped: Vec::new(),
    };
    for (path, kind) in candidates {
        if !dirty.contains(&path) {
            report.unchanged.push(path);
        } else if let Some(reason) = template_reason(&surface, &path, kind)? {
            report.skipped.push(SkippedFile {
                path,
                kind,
                code: NOT_SUBSTANTIVE,
                reason,
            });
        } else {
            report.committed.push(path);
        }
    }
    let message = options.message.map_or_else(
        || format!("chore: planning artifacts for {}", surface.mission_slug()),
        str::to_owned,
    );
    report.commit = surface.commit(
        &mut transaction,
        &report.committed,
        &message,
        crate::clock::unix_seconds(clock),
    )?;
    transaction.finish().map_err(PlanningError::from)?;
    Ok(report)
}

/// Returns why a `spec.md` or `plan.md` is not committed (it is not substantive), or `None`.
fn template_reason(
    surface: &PlanningSurface,
    repo_path: &str,
    kind: ArtifactKind,
) -> Result<Option<String>, SpecCommitError> {
    let check: fn(&str) -> bool = match kind {
        ArtifactKind::Spec => is_substantive_spec,
        ArtifactKind::FinalizedExecutionPlan => is_substantive_plan,
        _ => return Ok(None),
    };
    let file = surface.mission.primary_root.join(repo_path);
    let text = surface.containment.read(&file)?.unwrap_or_default();
    if check(&String::from_utf8_lossy(&text)) {
        return Ok(None);
    }
    Ok(Some(match kind {
        ArtifactKind::Spec => "spec.md has no functional requirement with content (a \
                               `| FR-001 | title | description |` row or a `- FR-001: …` \
                               bullet): it is still the template"
            .to_owned(),
        _ => "plan.md has no `## Technical Context` with a real `**Language/Version**:` and \
              another `**Field**: value`: it is still the template"
            .to_owned(),
    }))
}

/// Adds a file (or every file under a directory) of the mission directory to `candidates`,
/// each classified as a planning write; `given` names it in errors.
fn collect(
    surface: &PlanningSurface,
    path: &Path,
    given: &str,
    candidates: &mut Vec<(String, ArtifactKind)>,
) -> Result<(), SpecCommitError> {
    let relative = path
        .strip_prefix(&surface.mission_dir)
        .map_err(|_| outside(surface, given))?;
    let relative = slash_separated(relative);
    // A link is refused even when it stays in the mission directory: git would commit the
    // link, not the file it stands for.
    surface.containment.check(path)?;
    let metadata = std::fs::symlink_metadata(path).with_path("Cannot read", path)?;
    if let Some(entries) = metadata
        .is_dir()
        .then(|| surface.containment.read_dir(path))
        .transpose()?
        .flatten()
    {
        let mut entries: Vec<PathBuf> = entries
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()
            .with_path("Cannot read", path)?;
        entries.sort();
        for entry in entries {
            collect(surface, &entry, given, candidates)?;
        }
        return Ok(());
    }
    let repo_path = surface.repo_path(&relative);
    let kind = surface.planning_kind(&repo_path)?;
    if !candidates.iter().any(|(seen, _)| *seen == repo_path) {
        candidates.push((repo_path, kind));
    }
    Ok(())
}

/// Returns the absolute path, under the mission directory, of a named file: relative to the
/// mission directory, or absolute. A path that leaves the mission directory by `..` is refused,
/// as is one through a symbolic link (`SYMLINK_REFUSED`), then one that is not a planning
/// artifact (whether it exists or not), then one that does not exist.
fn resolve_named(surface: &PlanningSurface, given: &str) -> Result<PathBuf, SpecCommitError> {
    let joined = surface.mission_dir.join(given);
    let mut normalized = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    return Err(outside(surface, given).into());
                }
            }
            other => normalized.push(other.as_os_str()),
        }
    }
    // A symbolic link inside the mission directory is refused as such (`SYMLINK_REFUSED`):
    // git would commit the link, not the file it stands for.
    if normalized.starts_with(&surface.mission_dir) {
        surface.containment.check(&normalized)?;
    }
    let exists = std::fs::symlink_metadata(&normalized).is_ok();
    if let Ok(relative) = normalized.strip_prefix(&surface.mission_dir) {
        surface.planning_kind(&surface.repo_path(&slash_separated(relative)))?;
        if !exists {
            return Err(SpecCommitError::NotFound {
                path: given.to_owned(),
                mission_dir: surface.mission_rel.clone(),
            });
        }
    } else if !exists {
        return Err(outside(surface, given).into());
    }
    // Compare real paths, so a symbolic link out of the directory is outside, and a path
    // through another spelling of the repository's location is inside.
    let real_dir = std::fs::canonicalize(&surface.mission_dir)
        .with_path("Cannot resolve", &surface.mission_dir)?;
    let real = std::fs::canonicalize(&normalized).map_err(|_| outside(surface, given))?;
    let relative = real
        .strip_prefix(&real_dir)
        .map_err(|_| outside(surface, given))?;
    Ok(surface.mission_dir.join(relative))
}

fn outside(surface: &PlanningSurface, given: &str) -> PlanningError {
    PlanningError::OutsideMission {
        path: given.to_owned(),
        mission_dir: surface.mission_rel.clone(),
    }
}

/// Returns a relative path with `/` separators.
fn slash_separated(relative: &Path) -> String {
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
