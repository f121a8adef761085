//! The git repository missionctl works on: discovery of the primary checkout from any path, and
//! the in-process reads of refs and `HEAD`.
//!
//! Every resolver first folds the path it was given back to the **primary checkout** (the main
//! working tree): `meta.json` and the planning artifacts live only there, and the coordination
//! and lane worktrees are found relative to it. [`Repo::discover`] does that from the primary
//! checkout itself, any directory below it, or a linked worktree such as
//! `.worktrees/<mission>-lane-a/` (whose `.git` file points into the common git directory).
//!
//! Reads go through [gix](https://docs.rs/gix) in process and never spawn git, so they cost
//! microseconds: ref existence (`refs/heads/<b>`, any `refs/remotes/*/<b>`), the current
//! branch or a detached `HEAD`, a branch's tip, and which worktree has which branch checked out.

pub mod containment;
pub mod init;
pub mod project_config;
pub mod protection;

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;
use gix::prelude::ReferenceExt;
use serde::Serialize;

use missionctl_core::mission::meta::{KITTY_SPECS_DIR, WORKTREES_DIR};

use crate::fs_util::PathError;
use crate::repo::containment::Containment;

/// The directory name of git's metadata inside a working tree.
const DOT_GIT: &str = ".git";

/// A git repository with a primary checkout, as found from a path inside it.
///
/// Cheap to clone; not `Send` or `Sync` (gix is built without its `parallel` feature), so a
/// thread that needs one discovers its own.
#[derive(Debug, Clone)]
pub struct Repo {
    primary_root: PathBuf,
    common_dir: PathBuf,
    linked_worktree: Option<PathBuf>,
    containment: Containment,
    git: gix::ThreadSafeRepository,
}

/// What `HEAD` of a checkout points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HeadState {
    /// A branch is checked out.
    Branch {
        /// The short branch name (`feature/x`, not `refs/heads/feature/x`).
        name: String,
        /// The commit the branch points at.
        commit: String,
    },
    /// A branch is checked out but has no commit yet (a fresh repository).
    Unborn {
        /// The short branch name.
        name: String,
    },
    /// `HEAD` points at a commit directly.
    Detached {
        /// The commit.
        commit: String,
    },
}

impl HeadState {
    /// Returns the checked-out branch, born or not; `None` for a detached `HEAD`.
    pub fn branch(&self) -> Option<&str> {
        match self {
            HeadState::Branch { name, .. } | HeadState::Unborn { name } => Some(name),
            HeadState::Detached { .. } => None,
        }
    }
}

/// Where a branch exists: locally and on which remotes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct BranchPresence {
    /// `refs/heads/<branch>` exists.
    pub local: bool,
    /// The remote-tracking refs `refs/remotes/<remote>/<branch>` that exist, sorted.
    pub remote_refs: Vec<String>,
}

impl BranchPresence {
    /// Returns true when the branch exists locally or on any remote.
    pub fn exists(&self) -> bool {
        self.local || !self.remote_refs.is_empty()
    }
}

/// A working tree of the repository and the branch it has checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorktreeCheckout {
    /// The working tree's root.
    pub path: PathBuf,
    /// Whether this is the primary checkout.
    pub is_primary: bool,
    /// The branch checked out there (`None` when `HEAD` is detached or unreadable).
    pub branch: Option<String>,
}

/// Why a repository could not be found or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// No git repository contains the path.
    #[error("Not a git repository: `{}`", path.display())]
    NotAGitRepository {
        /// The path discovery started from.
        path: PathBuf,
    },
    /// The repository has no working tree, so there is no primary checkout.
    #[error("The git repository at `{}` is bare", git_dir.display())]
    BareRepository {
        /// The repository's git directory.
        git_dir: PathBuf,
    },
    /// git's metadata exists but could not be read.
    #[error("Cannot read the git repository at `{}`: {source}", path.display())]
    Unreadable {
        /// The path that was being read.
        path: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// A ref name is not valid.
    #[error("Invalid branch name `{name}`: {reason}")]
    InvalidBranchName {
        /// The rejected name.
        name: String,
        /// Why git rejects it.
        reason: String,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl RepoError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            RepoError::NotAGitRepository { .. } => "NOT_A_GIT_REPOSITORY",
            RepoError::BareRepository { .. } => "BARE_REPOSITORY_UNSUPPORTED",
            RepoError::Unreadable { .. } => "GIT_REPOSITORY_UNREADABLE",
            RepoError::InvalidBranchName { .. } => "INVALID_BRANCH_NAME",
            RepoError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            RepoError::NotAGitRepository { .. } => {
                "Run missionctl inside the git repository that holds `kitty-specs/` (or a \
                 worktree of it), or create one with `git init`"
                    .to_owned()
            }
            RepoError::BareRepository { .. } => {
                "missionctl needs a working tree; run it in a clone with a checkout".to_owned()
            }
            RepoError::Unreadable { path, .. } => {
                format!("Check that `git status` works in `{}`", path.display())
            }
            RepoError::InvalidBranchName { .. } => {
                "Use a branch name git accepts (`git check-ref-format --branch <name>`)".to_owned()
            }
            RepoError::Io(error) => error.hint(),
        }
    }
}

fn unreadable(path: &Path) -> impl FnOnce(gix::Error) -> RepoError + '_ {
    move |source| RepoError::Unreadable {
        path: path.to_path_buf(),
        source,
    }
}

impl Repo {
    /// Finds the repository containing `path` and its primary checkout.
    ///
    /// `path` may be the primary checkout, any directory below it, or a linked worktree (or a
    /// directory below one). Fails with [`RepoError::NotAGitRepository`] when no enclosing
    /// directory is a git working tree, and [`RepoError::BareRepository`] for a bare
    /// repository.
    pub fn discover(path: &Path) -> Result<Repo, RepoError> {
        let start = std::fs::canonicalize(path).map_err(|source| PathError {
            action: "Cannot resolve",
            path: path.to_path_buf(),
            source,
        })?;
        let found = match gix::discover(&start) {
            Ok(found) => found,
            // A `.git` above the path that gix cannot open is a broken repository, not the
            // absence of one: say so, with gix's reason.
            Err(source) if start.ancestors().any(|dir| dir.join(DOT_GIT).exists()) => {
                return Err(RepoError::Unreadable {
                    path: start,
                    source,
                });
            }
            Err(_) => return Err(RepoError::NotAGitRepository { path: start }),
        };
        let Some(workdir) = found.workdir().map(Path::to_path_buf) else {
            return Err(RepoError::BareRepository {
                git_dir: found.git_dir().to_path_buf(),
            });
        };
        let is_linked = matches!(found.kind(), gix::repository::Kind::LinkedWorkTree);
        let (primary, linked_worktree) = if is_linked {
            let main = found.main_repo().map_err(unreadable(&start))?;
            (main, Some(absolute(&workdir)?))
        } else {
            (found, None)
        };
        let Some(primary_root) = primary.workdir().map(Path::to_path_buf) else {
            return Err(RepoError::BareRepository {
                git_dir: primary.git_dir().to_path_buf(),
            });
        };
        let primary_root = absolute(&primary_root)?;
        let common_dir = absolute(primary.common_dir())?;
        Ok(Repo {
            containment: Containment::new(&primary_root, &common_dir),
            primary_root,
            common_dir,
            linked_worktree,
            git: primary.into_sync(),
        })
    }

    /// Returns the root of the primary checkout (absolute, symbolic links resolved).
    pub fn primary_root(&self) -> &Path {
        &self.primary_root
    }

    /// Returns git's common directory (`<primary>/.git` in the usual layout), shared by every
    /// worktree.
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// Returns the containment every read and write of the repository's mission state goes
    /// through: no symbolic link below the primary checkout or the common directory is
    /// followed (see [`crate::repo::containment`]).
    pub fn containment(&self) -> &Containment {
        &self.containment
    }

    /// Returns the root of the linked worktree discovery started in, or `None` when it started
    /// in the primary checkout.
    pub fn linked_worktree(&self) -> Option<&Path> {
        self.linked_worktree.as_deref()
    }

    /// Returns `<primary>/kitty-specs`.
    pub fn kitty_specs_dir(&self) -> PathBuf {
        self.primary_root.join(KITTY_SPECS_DIR)
    }

    /// Returns `<primary>/.worktrees`.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.primary_root.join(WORKTREES_DIR)
    }

    /// Returns the path of the primary checkout's index file.
    pub fn index_path(&self) -> PathBuf {
        self.git.to_thread_local().index_path()
    }

    /// Returns a gix handle on the primary checkout's repository.
    pub(crate) fn gix(&self) -> gix::Repository {
        self.git.to_thread_local()
    }

    fn unreadable(&self) -> impl FnOnce(gix::Error) -> RepoError + '_ {
        unreadable(&self.primary_root)
    }

    /// Returns what `HEAD` of the primary checkout points at.
    pub fn head(&self) -> Result<HeadState, RepoError> {
        let repo = self.gix();
        let head = repo.head().map_err(self.unreadable())?;
        Ok(match head.kind {
            gix::head::Kind::Symbolic(reference) => {
                let name = short_branch_name(reference.name.as_bstr().to_str_lossy().as_ref());
                match reference.target.try_id() {
                    Some(id) => HeadState::Branch {
                        name,
                        commit: id.to_string(),
                    },
                    // A symbolic ref pointing at another symbolic ref: peel it.
                    None => {
                        let mut reference = reference.attach(&repo);
                        let id = reference.peel_to_id().map_err(self.unreadable())?;
                        HeadState::Branch {
                            name,
                            commit: id.to_string(),
                        }
                    }
                }
            }
            gix::head::Kind::Unborn(name) => HeadState::Unborn {
                name: short_branch_name(name.as_bstr().to_str_lossy().as_ref()),
            },
            gix::head::Kind::Detached { target, .. } => HeadState::Detached {
                commit: target.to_string(),
            },
        })
    }

    /// Checks that `branch` is a valid short branch name.
    pub fn check_branch_name(branch: &str) -> Result<(), RepoError> {
        let full = format!("refs/heads/{branch}");
        gix::validate::reference::branch_name(full.as_bytes().as_bstr())
            .map(|_| ())
            .map_err(|error| RepoError::InvalidBranchName {
                name: branch.to_owned(),
                reason: error.to_string(),
            })
    }

    /// Returns the commit `refs/heads/<branch>` points at, or `None` when the branch does not
    /// exist.
    pub(crate) fn branch_tip_id(&self, branch: &str) -> Result<Option<gix::ObjectId>, RepoError> {
        Repo::check_branch_name(branch)?;
        let repo = self.gix();
        let name = format!("refs/heads/{branch}");
        let Some(mut reference) = repo
            .try_find_reference(name.as_str())
            .map_err(self.unreadable())?
        else {
            return Ok(None);
        };
        let id = reference.peel_to_id().map_err(self.unreadable())?;
        Ok(Some(id.detach()))
    }

    /// Returns the commit `refs/heads/<branch>` points at, as hex, or `None` when the branch
    /// does not exist.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<String>, RepoError> {
        Ok(self.branch_tip_id(branch)?.map(|id| id.to_string()))
    }

    /// Returns true when `refs/heads/<branch>` exists.
    pub fn local_branch_exists(&self, branch: &str) -> Result<bool, RepoError> {
        Repo::check_branch_name(branch)?;
        let name = format!("refs/heads/{branch}");
        Ok(self
            .gix()
            .try_find_reference(name.as_str())
            .map_err(self.unreadable())?
            .is_some())
    }

    /// Returns where `branch` exists: `refs/heads/<branch>` and every
    /// `refs/remotes/<remote>/<branch>`.
    ///
    /// The remote refs are scanned rather than looked up per configured remote, so a
    /// remote-tracking ref left by a remote that was since removed from the configuration
    /// still counts, as it does for Spec Kitty (`refs/remotes/*/<branch>`). The part before
    /// `/<branch>` must be one path component, or the name of a configured remote (remote
    /// names may contain `/`), so `refs/remotes/origin/kitty/x` is not taken for a branch `x`.
    pub fn branch_presence(&self, branch: &str) -> Result<BranchPresence, RepoError> {
        let local = self.local_branch_exists(branch)?;
        let repo = self.gix();
        let configured: Vec<String> = repo
            .remote_names()
            .iter()
            .map(|name| name.to_str_lossy().into_owned())
            .collect();
        let references = repo.references().map_err(self.unreadable())?;
        let suffix = format!("/{branch}");
        let mut remote_refs = Vec::new();
        for reference in references.remote_branches().map_err(self.unreadable())? {
            let reference = reference.map_err(|error| RepoError::Unreadable {
                path: self.primary_root.clone(),
                source: gix::Error::from_error(error),
            })?;
            let name = reference.name().as_bstr().to_str_lossy().into_owned();
            let Some(rest) = name.strip_prefix("refs/remotes/") else {
                continue;
            };
            let Some(remote) = rest.strip_suffix(&suffix) else {
                continue;
            };
            if !remote.is_empty()
                && (!remote.contains('/') || configured.iter().any(|name| name == remote))
            {
                remote_refs.push(name);
            }
        }
        remote_refs.sort();
        Ok(BranchPresence { local, remote_refs })
    }

    /// Returns whether a coordination branch exists, by Spec Kitty's rule: present locally or
    /// on any remote, and also `true` when git cannot tell (an unreadable ref store must never
    /// be mistaken for a deleted branch, which is a hard failure).
    pub fn coordination_branch_exists(&self, branch: &str) -> bool {
        self.branch_presence(branch)
            .map(|presence| presence.exists())
            .unwrap_or(true)
    }

    /// Returns every working tree of the repository and its checked-out branch, the primary
    /// checkout first.
    pub fn worktree_checkouts(&self) -> Result<Vec<WorktreeCheckout>, RepoError> {
        let mut checkouts = vec![WorktreeCheckout {
            path: self.primary_root.clone(),
            is_primary: true,
            branch: self.head()?.branch().map(str::to_owned),
        }];
        let repo = self.gix();
        for proxy in repo.worktrees().map_err(self.unreadable())? {
            let path = proxy.base().map_err(self.unreadable())?;
            let branch = proxy
                .into_repo_with_possibly_inaccessible_worktree()
                .ok()
                .and_then(|linked| linked.head_name().ok().flatten())
                .map(|name| short_branch_name(name.as_bstr().to_str_lossy().as_ref()));
            checkouts.push(WorktreeCheckout {
                path,
                is_primary: false,
                branch,
            });
        }
        Ok(checkouts)
    }

    /// Returns the remote's default branch as Spec Kitty's protection policy names it: the
    /// target of `refs/remotes/origin/HEAD` after its last `/` (`origin/main` → `main`);
    /// `None` when that ref does not exist or is not symbolic.
    pub fn remote_default_branch(&self) -> Result<Option<String>, RepoError> {
        let repo = self.gix();
        let Some(reference) = repo
            .try_find_reference("refs/remotes/origin/HEAD")
            .map_err(self.unreadable())?
        else {
            return Ok(None);
        };
        Ok(reference.target().try_name().and_then(|target| {
            let target = target.as_bstr().to_str_lossy();
            let short = target.strip_prefix("refs/remotes/")?;
            let (_, branch) = short.rsplit_once('/')?;
            (!branch.is_empty()).then(|| branch.to_owned())
        }))
    }

    /// Returns the primary branch by Spec Kitty's fallback chain: the target of
    /// `refs/remotes/origin/HEAD`, else the branch checked out in the primary checkout, else
    /// the first of `main`, `master`, `develop` that exists; `None` when nothing applies.
    pub fn primary_branch(&self) -> Result<Option<String>, RepoError> {
        let repo = self.gix();
        if let Some(reference) = repo
            .try_find_reference("refs/remotes/origin/HEAD")
            .map_err(self.unreadable())?
            && let Some(target) = reference.target().try_name()
        {
            let target = target.as_bstr().to_str_lossy();
            if let Some(branch) = target.strip_prefix("refs/remotes/origin/") {
                return Ok(Some(branch.to_owned()));
            }
        }
        if let Some(branch) = self.head()?.branch() {
            return Ok(Some(branch.to_owned()));
        }
        for candidate in ["main", "master", "develop"] {
            if self.local_branch_exists(candidate)? {
                return Ok(Some(candidate.to_owned()));
            }
        }
        Ok(None)
    }
}

/// Returns `refs/heads/x` as `x`; other names unchanged.
fn short_branch_name(full: &str) -> String {
    full.strip_prefix("refs/heads/").unwrap_or(full).to_owned()
}

/// Returns `path` made absolute and free of symbolic links.
fn absolute(path: &Path) -> Result<PathBuf, PathError> {
    std::fs::canonicalize(path).map_err(|source| PathError {
        action: "Cannot resolve",
        path: path.to_path_buf(),
        source,
    })
}
