//! The planning surface: where a mission's planning artifacts (`tasks/`, `lanes.json`,
//! `tasks.md`, `spec.md`, …) are written and committed, and `is_committed`.
//!
//! Every planning write resolves its surface here, through the one seam of
//! [`resolve_mission_context`]: the primary mission directory, committed to the mission's
//! target branch, for every topology (a coordination branch never holds authoritative
//! planning artifacts). The target branch must be the branch checked out in the primary
//! checkout, and must not be protected; both are checked before anything is written.
//!
//! Commits take exactly the planning paths, through the write door (staged under git's index
//! lock, then the branch moved by compare-and-swap), so whatever else the user has staged stays
//! staged and out of the commit. Every path is classified first
//! ([`classify_artifact_path`]): only PRIMARY-kind artifacts of the mission directory are
//! planning writes; a COORD-kind path (status files, decisions, matrices, traces, review
//! cycles), an unknown one or one outside the mission directory is refused before anything
//! is staged.

pub mod map_requirements;
pub mod spec_commit;
pub mod tasks_finalize;
pub mod work_package;
pub mod work_package_add;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;
use missionctl_core::mission::meta::{KITTY_SPECS_DIR, WORKTREES_DIR};
use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::planning::planning_artifact::{ArtifactKind, classify_artifact_path};

use crate::fs_util::PathError;
use crate::git::{GitError, git};
use crate::mission::context::{ResolveError, ResolvedMissionContext, resolve_mission_context};
use crate::repo::containment::Containment;
use crate::repo::protection::{ProtectedBranchRefusal, ProtectedBranches, ProtectedWrite};
use crate::repo::{Repo, RepoError};
use crate::write::{CommitFiles, CommitRequest, Scope, WriteError, WriteTransaction};

/// Why a planning write was refused or failed. Nothing is left written when it is returned
/// before the commit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanningError {
    /// The mission cannot be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The repository cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The target branch is not checked out in the primary checkout.
    #[error(
        "Planning artifacts of `{mission_slug}` are committed to `{target_branch}`, but the primary checkout has {}",
        checked_out.as_deref().map_or_else(|| "a detached HEAD".to_owned(), |branch| format!("`{branch}` checked out"))
    )]
    BranchNotCheckedOut {
        /// The mission.
        mission_slug: String,
        /// The branch planning commits go to.
        target_branch: String,
        /// What is checked out instead.
        checked_out: Option<String>,
    },
    /// The target branch is protected.
    #[error("{0}")]
    ProtectedBranch(#[source] ProtectedBranchRefusal),
    /// The path is not inside the mission directory.
    #[error("`{path}` is not inside the mission directory `{mission_dir}`")]
    OutsideMission {
        /// The path, as given.
        path: String,
        /// The mission directory, relative to the repository.
        mission_dir: String,
    },
    /// The path is a coordination artifact, never a planning write.
    #[error(
        "`{path}` is a {kind} artifact (COORD partition): it is written where the mission's \
         status lives, never committed as a planning artifact"
    )]
    CoordinationArtifact {
        /// The path, relative to the repository.
        path: String,
        /// Its kind.
        kind: ArtifactKind,
    },
    /// No artifact kind claims the path.
    #[error("`{path}` is not a planning artifact of the mission")]
    UnknownArtifact {
        /// The path, relative to the repository.
        path: String,
    },
    /// The write door refused or failed (a lock, git, the object database); what the write
    /// changed was undone.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// git failed while reading.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A file could not be read or written, or a path leads through a symbolic link.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl PlanningError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            PlanningError::Resolve(error) => error.code(),
            PlanningError::Repo(error) => error.code(),
            PlanningError::BranchNotCheckedOut { .. } => "PLANNING_BRANCH_NOT_CHECKED_OUT",
            PlanningError::ProtectedBranch(refusal) => refusal.code(),
            PlanningError::OutsideMission { .. } => "PLANNING_PATH_OUTSIDE_MISSION",
            PlanningError::CoordinationArtifact { .. } => "COORDINATION_ARTIFACT_REFUSED",
            PlanningError::UnknownArtifact { .. } => "PLANNING_ARTIFACT_UNKNOWN",
            // A git or object failure of the commit keeps its code; the door's own refusals (a
            // busy git lock, a moved branch, a hook) have theirs.
            PlanningError::Write(WriteError::Git(_) | WriteError::Objects { .. }) => {
                "PLANNING_COMMIT_FAILED"
            }
            PlanningError::Write(error) => error.code(),
            PlanningError::Git(error) => error.code(),
            PlanningError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            PlanningError::Resolve(error) => error.hint(),
            PlanningError::Repo(error) => error.hint(),
            PlanningError::BranchNotCheckedOut { target_branch, .. } => {
                format!("Run `git switch {target_branch}` in the primary checkout, then retry")
            }
            PlanningError::ProtectedBranch(refusal) => refusal.hint(),
            PlanningError::OutsideMission { .. } => {
                "Name files of the mission directory, relative to it (`spec.md`, \
                 `checklists/requirements.md`)"
                    .to_owned()
            }
            PlanningError::CoordinationArtifact { kind, .. } => match kind {
                ArtifactKind::StatusState => {
                    "Status is written by `missionctl move` and `tasks finalize`, each write \
                     committed on its own"
                        .to_owned()
                }
                _ => "Commit only planning artifacts: spec.md, plan.md, research.md, \
                      data-model.md, tasks.md, checklists/, tasks/"
                    .to_owned(),
            },
            PlanningError::UnknownArtifact { .. } => {
                "Planning artifacts are spec.md, plan.md, research.md, data-model.md, tasks.md, \
                 wps.yaml, checklists/, tasks/, lanes.json, meta.json, analysis-report.md and \
                 retrospective.yaml; commit other files with git"
                    .to_owned()
            }
            PlanningError::Write(error) => error.hint(),
            PlanningError::Git(error) => error.hint(),
            PlanningError::Io(error) => error.hint(),
        }
    }
}

/// Where a mission's planning artifacts live and are committed.
#[derive(Debug, Clone)]
pub struct PlanningSurface {
    /// The mission's resolved context (the one seam).
    pub mission: ResolvedMissionContext,
    /// The primary mission directory (absolute).
    pub mission_dir: PathBuf,
    /// The mission directory relative to the repository root, with `/` separators.
    pub mission_rel: String,
    /// The branch planning commits go to: the mission's target branch.
    pub branch: String,
    /// What every read and write of the surface goes through (see [`crate::repo::containment`]).
    pub containment: Containment,
}

impl PlanningSurface {
    /// Resolves a mission's planning surface (reads only).
    pub fn resolve(repo: &Repo, handle: &str) -> Result<PlanningSurface, PlanningError> {
        let mission = resolve_mission_context(repo, handle)?;
        let placement = &mission.context.artifact_placement;
        let mission_dir = mission.primary_root.join(&placement.planning_dir);
        let mission_rel = format!("{KITTY_SPECS_DIR}/{}", mission.mission_slug);
        let branch = placement.planning_ref.as_str().to_owned();
        repo.containment().check(&mission_dir)?;
        Ok(PlanningSurface {
            mission,
            mission_dir,
            mission_rel,
            branch,
            containment: repo.containment().clone(),
        })
    }

    /// Returns the mission's directory name.
    pub fn mission_slug(&self) -> &str {
        &self.mission.mission_slug
    }

    /// Returns the stored topology.
    pub fn topology(&self) -> MissionTopology {
        self.mission.topology
    }

    /// Checks, without writing, that planning artifacts may be written and committed: the
    /// target branch is checked out in the primary checkout and is not protected.
    pub fn check_writable(
        &self,
        repo: &Repo,
        protected_branches: &ProtectedBranches,
    ) -> Result<(), PlanningError> {
        protected_branches
            .check(&self.branch, ProtectedWrite::Planning)
            .map_err(PlanningError::ProtectedBranch)?;
        let checked_out = repo.head()?.branch().map(str::to_owned);
        if checked_out.as_deref() != Some(self.branch.as_str()) {
            return Err(PlanningError::BranchNotCheckedOut {
                mission_slug: self.mission_slug().to_owned(),
                target_branch: self.branch.clone(),
                checked_out,
            });
        }
        Ok(())
    }

    /// Returns the repository-relative path of a file of the mission directory.
    pub fn repo_path(&self, relative: &str) -> String {
        format!("{}/{relative}", self.mission_rel)
    }

    /// Returns the kind of a repository-relative path of the mission directory, refusing a
    /// path outside it, a path no kind claims and a COORD-kind path: only what this returns
    /// `Ok` for is a planning write.
    pub fn planning_kind(&self, path: &str) -> Result<ArtifactKind, PlanningError> {
        let inside = path
            .strip_prefix(&self.mission_rel)
            .is_some_and(|rest| rest.starts_with('/'));
        if !inside {
            return Err(PlanningError::OutsideMission {
                path: path.to_owned(),
                mission_dir: self.mission_rel.clone(),
            });
        }
        match classify_artifact_path(path, Some(self.mission_slug())) {
            Some(kind) if kind.is_primary() => Ok(kind),
            Some(kind) => Err(PlanningError::CoordinationArtifact {
                path: path.to_owned(),
                kind,
            }),
            None => Err(PlanningError::UnknownArtifact {
                path: path.to_owned(),
            }),
        }
    }

    /// Returns which of `paths` (repository-relative) differ from the target branch's tip
    /// (modified, added or untracked), in the order given.
    pub fn dirty_paths(&self, paths: &[String]) -> Result<Vec<String>, PlanningError> {
        Ok(self.changed(paths, |_| true)?)
    }

    /// Returns which of `paths` (repository-relative) the target branch's tip has and the
    /// index or the working tree changed (not the new, untracked or added, ones), in the order
    /// given.
    pub fn edited_paths(&self, paths: &[String]) -> Result<Vec<String>, PlanningError> {
        Ok(self.changed(paths, |code| code != b"??" && !code.contains(&b'A'))?)
    }

    /// Returns the `paths` whose `git status` record (its two-letter code) `keep` accepts.
    fn changed(
        &self,
        paths: &[String],
        keep: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<String>, GitError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let root = &self.mission.primary_root;
        // A read: git must not take `index.lock` to refresh the index (a concurrent writer
        // would find it held).
        let mut args: Vec<OsString> = vec![
            "--no-optional-locks".into(),
            "status".into(),
            "--porcelain=v1".into(),
            "-z".into(),
            "--untracked-files=all".into(),
            "--".into(),
        ];
        args.extend(paths.iter().map(OsString::from));
        let output = git(root, &args)?;
        let mut changed: Vec<String> = Vec::new();
        for record in output.stdout.split(|byte| *byte == 0) {
            if record.len() > 3 && keep(&record[..2]) {
                changed.push(record[3..].to_str_lossy().into_owned());
            }
        }
        Ok(paths
            .iter()
            .filter(|path| {
                changed
                    .iter()
                    .any(|changed| changed == *path || changed.starts_with(&format!("{path}/")))
            })
            .cloned()
            .collect())
    }

    /// Opens the write transaction of a planning write: the mission's scope, whose lock every
    /// write to the mission (status and planning alike) holds.
    pub fn begin(&self, repo: &Repo, operation: &str) -> Result<WriteTransaction, PlanningError> {
        Ok(WriteTransaction::begin(
            repo,
            Scope::Mission(self.mission_slug().to_owned()),
            operation,
        )?)
    }

    /// Commits exactly `paths` (repository-relative, already written to the primary
    /// checkout) on the target branch, inside `transaction`, when any differs from its tip;
    /// returns the new commit, or `None` when there was nothing to commit. Every path must be a
    /// planning write ([`PlanningSurface::planning_kind`]); otherwise nothing is staged. The
    /// paths are staged, then the branch moves (the write door's commit, the transaction's
    /// commit point); everything else the user staged stays as it was. Call
    /// [`PlanningSurface::check_writable`] first.
    pub fn commit(
        &self,
        transaction: &mut WriteTransaction,
        paths: &[String],
        message: &str,
        seconds: i64,
    ) -> Result<Option<String>, PlanningError> {
        for path in paths {
            self.planning_kind(path)?;
        }
        if paths.is_empty() {
            return Ok(None);
        }
        // git ends every commit message with a newline; so does this one.
        let message = format!("{}\n", message.trim_end());
        let outcome = transaction.commit(&CommitRequest {
            branch: &self.branch,
            files: CommitFiles::Checkout {
                root: &self.mission.primary_root,
                paths,
            },
            message: &message,
            identity: None,
            seconds,
            point: true,
        })?;
        Ok(outcome.commit.map(|commit| commit.to_string()))
    }
}

/// Returns whether a file is committed, on a single surface: the checkout that holds it.
///
/// The file's path is made relative to the primary checkout; when it lies under
/// `.worktrees/<name>/` and that worktree exists, the surface is that worktree and the path
/// is the rest; otherwise the surface is the primary checkout. Committed means tracked in that
/// surface's index and present in its `HEAD`. A file outside the repository is not committed.
pub fn is_committed(repo: &Repo, file: &Path) -> Result<bool, PlanningError> {
    let absolute = if file.is_absolute() {
        file.to_path_buf()
    } else {
        repo.primary_root().join(file)
    };
    let resolved = match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => match std::fs::canonicalize(parent) {
            Ok(parent) => parent.join(name),
            Err(_) => absolute.clone(),
        },
        _ => absolute.clone(),
    };
    let Ok(relative) = resolved.strip_prefix(repo.primary_root()) else {
        return Ok(false);
    };
    let components: Vec<String> = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect();
    let (surface, tree_path) = match components.as_slice() {
        [worktrees, name, rest @ ..]
            if worktrees == WORKTREES_DIR
                && !rest.is_empty()
                && repo.primary_root().join(WORKTREES_DIR).join(name).is_dir() =>
        {
            (
                repo.primary_root().join(WORKTREES_DIR).join(name),
                rest.join("/"),
            )
        }
        _ => (repo.primary_root().to_path_buf(), components.join("/")),
    };
    if tree_path.is_empty() {
        return Ok(false);
    }
    let tracked = git(&surface, ["ls-files", "--error-unmatch", "--", &tree_path]).is_ok();
    if !tracked {
        return Ok(false);
    }
    let in_head = git(&surface, ["cat-file", "-e", &format!("HEAD:{tree_path}")]).is_ok();
    Ok(in_head)
}
