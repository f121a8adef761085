//! `mission create`: a new mission's identity, directory, scaffold and `meta.json`, committed on
//! the target branch, all or nothing.
//!
//! # How the commit is made
//!
//! Through the write door ([`crate::write`], `docs/adr/0009-one-write-door.md`), under the
//! repository lock (`mission create` creates a mission): the commit is the target branch's tip
//! tree plus the new mission directory's files — never the user's index — and the branch moves
//! last, by compare-and-swap on its tip:
//!
//! - **target branch checked out in the primary checkout**: the files are written to the working
//!   tree and staged (exactly those paths, under git's `index.lock` protocol) before the branch
//!   moves, so a kill in between leaves them staged — the user's next `git commit` takes them,
//!   it never deletes them — and every other staged or unstaged change of the user stays as it
//!   was;
//! - **target branch not checked out anywhere**: only objects and the ref are written; the
//!   working tree and index are not touched (the mission appears in `kitty-specs/` once the
//!   branch is checked out);
//! - **target branch checked out in a linked worktree**: refused, because moving it under that
//!   worktree would leave its index behind.
//!
//! For `coord` and `lanes_with_coord` the coordination branch `kitty/mission-<slug>-<mid8>` is
//! created at the new commit before anything is staged, so a coordination worktree materialized
//! from it always carries the mission directory, and a mission committed on its target branch —
//! by missionctl, or by someone's `git commit` of the staged files after a kill — always has its
//! coordination branch.
//!
//! # Rollback
//!
//! Every validation runs before the first write. After that each step is journalled by the
//! door, and a failure — or a kill, settled by the next writer — undoes them newest first: the
//! staged entries are put back under git's index lock (never by restoring a saved index, which
//! would unstage what the user staged meanwhile), the coordination branch is deleted, the created
//! files and directories are removed. Once the target branch holds the commit the mission is
//! created; only unreachable objects (removed by `git gc`) and reflog lines remain of an undone
//! one.

use std::path::PathBuf;

use missionctl_core::mission::meta::{
    KITTY_SPECS_DIR, MissionId, MissionMeta, NameError, NewMissionMeta, check_human_slug,
    coordination_branch_name, friendly_name_from_slug, mission_dir_name,
};
use missionctl_core::mission::topology::{MissionTopology, default_create_topology};
use serde::Serialize;

use gix::bstr::ByteSlice;

use crate::clock::{Clock, isoformat};
use crate::fs_util::PathError;
use crate::mission::dir::EVENT_LOG_FILE;
use crate::repo::protection::{ProtectedBranchRefusal, ProtectedWrite};
use crate::repo::{HeadState, Repo, RepoError};
use crate::write::{
    CommitFiles, CommitIdentity, CommitRequest, Scope, WriteError, WriteTransaction,
};

/// The branches `mission create` refuses to commit a mission to unless the caller passes its own
/// list: planning happens on a feature branch.
pub const DEFAULT_PROTECTED_BRANCHES: [&str; 2] = ["main", "master"];

/// The mission type stored when none is given.
pub const DEFAULT_MISSION_TYPE: &str = "software-dev";

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateMissionRequest {
    /// The human slug, kebab-case (`invoice-export`); a legacy `NNN-` prefix is dropped from
    /// the directory name.
    pub slug: String,
    /// The topology to store; `None` applies Spec Kitty's default (`coord` when PR-bound or on
    /// the primary branch, else `single_branch`).
    pub topology: Option<MissionTopology>,
    /// The branch the mission merges into and is committed on; `None`: the branch checked out in
    /// the primary checkout.
    pub target_branch: Option<String>,
    /// The display title; `None`: derived from the slug (`Invoice Export`).
    pub friendly_name: Option<String>,
    /// The mission type; `None`: `software-dev`.
    pub mission_type: Option<String>,
    /// The one-line purpose; `None`: the friendly name.
    pub purpose_tldr: Option<String>,
    /// The purpose paragraph; `None`: a sentence naming the target branch.
    pub purpose_context: Option<String>,
    /// Whether the mission is PR-bound (`pr_bound: true` in `meta.json`).
    pub pr_bound: bool,
}

/// A step of `mission create` after which a test may inject a failure (the target branch
/// moving is the last step: once it holds the commit, the mission is created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CreateStep {
    /// The mission directory is written to the primary checkout's working tree.
    WriteFiles,
    /// The coordination branch exists, at the commit about to be made.
    CreateCoordinationBranch,
    /// The primary checkout's index records the new files, and the commit object is written
    /// (the target branch has not moved yet).
    WriteObjects,
}

/// How to create: the injected clock, the protected branches and the commit identity.
pub struct CreateOptions<'a> {
    /// The time and the mission id (`created_at`, the mission id and its time, the commit time).
    pub clock: &'a dyn Clock,
    /// Target branches that are refused (see [`DEFAULT_PROTECTED_BRANCHES`]).
    pub protected_branches: &'a crate::repo::protection::ProtectedBranches,
    /// The commit's author and committer; `None`: `user.name` and `user.email` from the
    /// repository's git configuration.
    pub identity: Option<CommitIdentity>,
    /// Test hook: fail right after this step, to exercise the rollback. `None` in production.
    pub fail_after: Option<CreateStep>,
}

/// The mission that was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedMission {
    /// The new mission id (a ULID).
    pub mission_id: String,
    /// The mission directory name `<slug>-<mid8>`.
    pub mission_slug: String,
    /// The first eight characters of the mission id.
    pub mid8: String,
    /// The human slug as given.
    pub human_slug: String,
    /// The display title.
    pub friendly_name: String,
    /// The mission type.
    pub mission_type: String,
    /// The stored topology.
    pub topology: MissionTopology,
    /// Whether the topology was asked for (false: the default rule chose it).
    pub topology_requested: bool,
    /// The branch the mission was committed on and merges into.
    pub target_branch: String,
    /// The coordination branch created for `coord` and `lanes_with_coord`.
    pub coordination_branch: Option<String>,
    /// `created_at` as stored.
    pub created_at: String,
    /// The new commit on the target branch.
    pub commit: String,
    /// The target branch's tip before.
    pub parent: String,
    /// The committed files, relative to the repository root.
    pub files: Vec<String>,
    /// The mission directory in the primary checkout (absolute).
    pub mission_dir: PathBuf,
    /// Whether the files were written to the primary checkout (the target branch is checked
    /// out there); false when only the branch received the commit.
    pub checked_out: bool,
}

/// Why a mission was not created. Whatever the variant, the repository is as it was before
/// the call, except for [`CreateError::RollbackIncomplete`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The slug is not kebab-case.
    #[error(transparent)]
    InvalidSlug(NameError),
    /// `mission create` ran in a linked worktree.
    #[error("Refusing to create a mission from the linked worktree `{}`", worktree.display())]
    InLinkedWorktree {
        /// The linked worktree.
        worktree: PathBuf,
        /// The primary checkout.
        primary_root: PathBuf,
    },
    /// The primary checkout's `HEAD` is detached.
    #[error("Refusing to create a mission on a detached HEAD ({commit})")]
    DetachedHead {
        /// The commit `HEAD` points at.
        commit: String,
    },
    /// The target branch is not a usable branch name.
    #[error("Invalid target branch {value:?}: {reason}")]
    InvalidTargetBranch {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The target branch is protected.
    #[error("{0}")]
    ProtectedBranch(#[source] ProtectedBranchRefusal),
    /// The target branch has no commit.
    #[error("Target branch `{branch}` does not exist or has no commit")]
    TargetBranchNotFound {
        /// The branch.
        branch: String,
    },
    /// The target branch is checked out in a linked worktree.
    #[error("Target branch `{branch}` is checked out in the worktree `{}`", worktree.display())]
    TargetCheckedOutElsewhere {
        /// The branch.
        branch: String,
        /// The worktree.
        worktree: PathBuf,
    },
    /// The mission directory already exists (on disk or in the target branch).
    #[error("Mission directory `{}` already exists", path.display())]
    MissionDirExists {
        /// The directory.
        path: PathBuf,
    },
    /// The coordination branch already exists.
    #[error("Coordination branch `{branch}` already exists")]
    CoordinationBranchExists {
        /// The branch.
        branch: String,
    },
    /// No commit identity is configured.
    #[error("No git identity to commit the mission with")]
    IdentityUnknown,
    /// The assembled `meta.json` does not validate.
    #[error(transparent)]
    Meta(missionctl_core::mission::meta::MetaError),
    /// The repository cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A write failed (a lock, git, the object database); everything before it was rolled
    /// back.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A file could not be written; everything before it was rolled back.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The test hook [`CreateOptions::fail_after`] fired; everything was rolled back.
    #[error("Injected failure after step {step:?}")]
    InjectedFailure {
        /// The step after which it fired.
        step: CreateStep,
    },
    /// A write failed and the rollback could not undo everything.
    #[error("{error}; the rollback left the repository changed: {}", problems.join("; "))]
    RollbackIncomplete {
        /// The original failure.
        #[source]
        error: Box<CreateError>,
        /// What could not be undone.
        problems: Vec<String>,
    },
}

impl CreateError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            CreateError::InvalidSlug(error) => error.code(),
            CreateError::InLinkedWorktree { .. } => "CREATE_FROM_WORKTREE_REFUSED",
            CreateError::DetachedHead { .. } => "DETACHED_HEAD_REFUSED",
            CreateError::InvalidTargetBranch { .. } => "CREATE_TIME_TARGET_INVALID",
            CreateError::ProtectedBranch(refusal) => refusal.code(),
            CreateError::TargetBranchNotFound { .. } => "TARGET_BRANCH_NOT_FOUND",
            CreateError::TargetCheckedOutElsewhere { .. } => "TARGET_BRANCH_CHECKED_OUT_ELSEWHERE",
            CreateError::MissionDirExists { .. } => "MISSION_DIR_EXISTS",
            CreateError::CoordinationBranchExists { .. } => "COORDINATION_BRANCH_EXISTS",
            CreateError::IdentityUnknown => "COMMIT_IDENTITY_UNKNOWN",
            CreateError::Meta(error) => error.code(),
            CreateError::Repo(error) => error.code(),
            CreateError::Write(error) => error.code(),
            CreateError::Io(error) => error.code(),
            CreateError::InjectedFailure { .. } => "INJECTED_FAILURE",
            CreateError::RollbackIncomplete { .. } => "ROLLBACK_INCOMPLETE",
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            CreateError::InvalidSlug(error) => error.hint(),
            CreateError::InLinkedWorktree { primary_root, .. } => format!(
                "Run `missionctl mission create` in the primary checkout `{}`",
                primary_root.display()
            ),
            CreateError::DetachedHead { .. } => {
                "Check out a feature branch (`git switch -c <branch>`) and run the command again"
                    .to_owned()
            }
            CreateError::InvalidTargetBranch { .. } => {
                "Pass a short branch name such as `feature/invoice-export` (no `refs/heads/`)"
                    .to_owned()
            }
            CreateError::ProtectedBranch(refusal) => format!(
                "Check out a feature branch (`git switch -c <branch>`), or pass `--target-branch \
                 <branch>` to commit the mission on another branch; or: {}",
                refusal.hint()
            ),
            CreateError::TargetBranchNotFound { branch } => format!(
                "Create `{branch}` with at least one commit, or pass `--target-branch` naming an \
                 existing branch"
            ),
            CreateError::TargetCheckedOutElsewhere { worktree, .. } => format!(
                "Run the command in `{}`'s primary checkout after switching it to that branch, \
                 or pick another target branch",
                worktree.display()
            ),
            CreateError::MissionDirExists { .. } => {
                "Pick another slug, or look at the existing mission with `missionctl mission \
                 show`"
                    .to_owned()
            }
            CreateError::CoordinationBranchExists { branch } => format!(
                "Delete or rename the stale branch `{branch}` (`git branch -m`), then retry"
            ),
            CreateError::IdentityUnknown => {
                "Set one with `git config user.name \"…\"` and `git config user.email …`".to_owned()
            }
            CreateError::Meta(error) => error.hint(),
            CreateError::Repo(error) => error.hint(),
            CreateError::Write(error) => error.hint(),
            CreateError::Io(error) if error.escape().is_some() => error.hint(),
            CreateError::Io(_) => "Check the permissions of the repository".to_owned(),
            CreateError::InjectedFailure { .. } => {
                "This failure was requested by a test".to_owned()
            }
            CreateError::RollbackIncomplete { problems, .. } => format!(
                "Undo by hand what is listed ({}); `git status` and `git branch` show the rest",
                problems.join("; ")
            ),
        }
    }
}

/// The built-in `spec.md` template; `{friendly_name}`, `{mission_slug}` and `{created}` are
/// replaced.
const SPEC_TEMPLATE: &str = "\
# Feature Specification: {friendly_name}

**Mission**: `{mission_slug}`
**Created**: {created}
**Status**: Draft

## User Scenarios & Testing

[NEEDS CLARIFICATION: the primary user journeys]

## Requirements

### Functional Requirements

| ID | Title | Description |
|----|-------|-------------|
| FR-001 | [title] | [description] |

## Success Criteria

[NEEDS CLARIFICATION: measurable outcomes]
";

/// The `tasks/README.md` of a new mission.
const TASKS_README: &str = "\
# Work packages

One file per work package, `WPxx-<title>.md`, with YAML front matter. A work package's lane
is not stored here: it is folded from `../status.events.jsonl`.
";

/// The directories of the scaffold that hold no file (git does not record them; they exist
/// only in the working tree).
const EMPTY_SCAFFOLD_DIRS: [&str; 2] = ["checklists", "research"];

/// Everything decided before the first write.
struct Plan {
    target_branch: String,
    checked_out: bool,
    mission_id: MissionId,
    dir_name: String,
    topology: MissionTopology,
    topology_requested: bool,
    coordination_branch: Option<String>,
    friendly_name: String,
    mission_type: String,
    created_at: String,
    commit_seconds: i64,
    identity: CommitIdentity,
    /// Repository-relative path and bytes of every committed file.
    files: Vec<(String, Vec<u8>)>,
}

/// Creates a mission and commits it on the target branch (see the [module](self) docs).
///
/// Refuses, before writing anything: an invalid slug, a run from a linked worktree, a detached
/// `HEAD`, an invalid, protected, missing or elsewhere-checked-out target branch, an existing
/// mission directory or coordination branch, and an unknown commit identity.
pub fn create_mission(
    repo: &Repo,
    request: &CreateMissionRequest,
    options: &CreateOptions<'_>,
) -> Result<CreatedMission, CreateError> {
    let plan = plan(repo, request, options)?;
    let mut transaction = WriteTransaction::begin(repo, Scope::Repository, "mission create")?;
    match execute(repo, &mut transaction, &plan, options) {
        Ok(commit) => {
            transaction.finish()?;
            Ok(CreatedMission {
                mission_id: plan.mission_id.as_str().to_owned(),
                mid8: plan.mission_id.mid8().to_owned(),
                mission_slug: plan.dir_name.clone(),
                human_slug: request.slug.clone(),
                friendly_name: plan.friendly_name,
                mission_type: plan.mission_type,
                topology: plan.topology,
                topology_requested: plan.topology_requested,
                target_branch: plan.target_branch,
                coordination_branch: plan.coordination_branch,
                created_at: plan.created_at,
                commit: commit.commit.to_string(),
                parent: commit.parent.to_string(),
                files: plan.files.into_iter().map(|(path, _)| path).collect(),
                mission_dir: repo.kitty_specs_dir().join(&plan.dir_name),
                checked_out: plan.checked_out,
            })
        }
        Err(error) => {
            let problems = transaction.abort();
            if problems.is_empty() {
                Err(error)
            } else {
                Err(CreateError::RollbackIncomplete {
                    error: Box::new(error),
                    problems,
                })
            }
        }
    }
}

fn check_target_branch(value: &str) -> Result<(), CreateError> {
    let invalid = |reason: &str| CreateError::InvalidTargetBranch {
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    if value.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if value.trim() != value {
        return Err(invalid("it has leading or trailing whitespace"));
    }
    if value.starts_with("refs/") {
        return Err(invalid("pass the short branch name, without `refs/heads/`"));
    }
    Repo::check_branch_name(value).map_err(|error| invalid(&error.to_string()))
}

fn plan(
    repo: &Repo,
    request: &CreateMissionRequest,
    options: &CreateOptions<'_>,
) -> Result<Plan, CreateError> {
    check_human_slug(&request.slug).map_err(CreateError::InvalidSlug)?;
    if let Some(worktree) = repo.linked_worktree() {
        return Err(CreateError::InLinkedWorktree {
            worktree: worktree.to_path_buf(),
            primary_root: repo.primary_root().to_path_buf(),
        });
    }
    let head = repo.head()?;
    if let HeadState::Detached { commit } = &head {
        return Err(CreateError::DetachedHead {
            commit: commit.clone(),
        });
    }
    let current_branch = head.branch().map(str::to_owned);
    let target_branch = match &request.target_branch {
        Some(branch) => branch.clone(),
        None => current_branch.clone().unwrap_or_default(),
    };
    check_target_branch(&target_branch)?;
    options
        .protected_branches
        .check(&target_branch, ProtectedWrite::MissionCreate)
        .map_err(CreateError::ProtectedBranch)?;
    let Some(parent) = repo.branch_tip_id(&target_branch)? else {
        return Err(CreateError::TargetBranchNotFound {
            branch: target_branch,
        });
    };
    let checked_out = current_branch.as_deref() == Some(target_branch.as_str());
    if !checked_out
        && let Some(elsewhere) = repo
            .worktree_checkouts()?
            .into_iter()
            .find(|checkout| checkout.branch.as_deref() == Some(target_branch.as_str()))
    {
        return Err(CreateError::TargetCheckedOutElsewhere {
            branch: target_branch,
            worktree: elsewhere.path,
        });
    }

    let topology = match request.topology {
        Some(topology) => topology,
        None => default_create_topology(
            request.pr_bound,
            current_branch.as_deref(),
            repo.primary_branch()?.as_deref(),
        ),
    };

    let now = options.clock.now();
    let mission_id = options.clock.new_mission_id(now);
    let dir_name = mission_dir_name(&request.slug, mission_id.mid8());
    let mission_rel = format!("{KITTY_SPECS_DIR}/{dir_name}");
    let mission_dir = repo.kitty_specs_dir().join(&dir_name);
    // A symbolic link at `kitty-specs/` (or at the new directory) is refused here, before
    // anything is written.
    if repo.containment().exists(&mission_dir)? || path_in_commit(repo, parent, &mission_rel)? {
        return Err(CreateError::MissionDirExists { path: mission_dir });
    }
    let coordination_branch = topology
        .routes_through_coordination()
        .then(|| coordination_branch_name(&request.slug, &mission_id));
    if let Some(branch) = &coordination_branch
        && repo.local_branch_exists(branch)?
    {
        return Err(CreateError::CoordinationBranchExists {
            branch: branch.clone(),
        });
    }
    let identity = match &options.identity {
        Some(identity) => identity.clone(),
        None => configured_identity(repo).ok_or(CreateError::IdentityUnknown)?,
    };

    let friendly_name = request
        .friendly_name
        .as_deref()
        .map(collapse_whitespace)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| friendly_name_from_slug(&request.slug));
    let mission_type = request
        .mission_type
        .clone()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_MISSION_TYPE.to_owned());
    let purpose_tldr = request
        .purpose_tldr
        .clone()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| friendly_name.clone());
    let purpose_context = request
        .purpose_context
        .clone()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| {
            format!("{friendly_name}, planned on and merged into `{target_branch}`.")
        });
    let created_at = isoformat(now);
    let meta = MissionMeta::for_new_mission(&NewMissionMeta {
        mission_id: &mission_id,
        dir_name: &dir_name,
        friendly_name: &friendly_name,
        purpose_tldr: &purpose_tldr,
        purpose_context: &purpose_context,
        mission_type: &mission_type,
        target_branch: &target_branch,
        created_at: &created_at,
        topology,
        coordination_branch: coordination_branch.as_deref(),
        pr_bound: request.pr_bound,
    });
    meta.validate(&dir_name).map_err(CreateError::Meta)?;

    let spec = SPEC_TEMPLATE
        .replace("{friendly_name}", &friendly_name)
        .replace("{mission_slug}", &dir_name)
        .replace("{created}", created_at.get(..10).unwrap_or(&created_at));
    let files = vec![
        (
            format!("{mission_rel}/meta.json"),
            meta.to_canonical_bytes(),
        ),
        (format!("{mission_rel}/spec.md"), spec.into_bytes()),
        (format!("{mission_rel}/{EVENT_LOG_FILE}"), Vec::new()),
        (format!("{mission_rel}/tasks/.gitkeep"), Vec::new()),
        (
            format!("{mission_rel}/tasks/README.md"),
            TASKS_README.as_bytes().to_vec(),
        ),
    ];
    let commit_seconds = i64::try_from(crate::clock::unix_micros(now) / 1_000_000).unwrap_or(0);
    Ok(Plan {
        target_branch,
        checked_out,
        mission_id,
        dir_name,
        topology,
        topology_requested: request.topology.is_some(),
        coordination_branch,
        friendly_name,
        mission_type,
        created_at,
        commit_seconds,
        identity,
        files,
    })
}

/// Returns true when `path` (repository-relative) exists in the commit's tree.
fn path_in_commit(repo: &Repo, commit: gix::ObjectId, path: &str) -> Result<bool, CreateError> {
    let gix_repo = repo.gix();
    let unreadable = |source| RepoError::Unreadable {
        path: repo.primary_root().to_path_buf(),
        source,
    };
    let tree = gix_repo
        .find_commit(commit)
        .and_then(|commit| commit.tree())
        .map_err(unreadable)?;
    let entry = tree.lookup_entry_by_path(path).map_err(unreadable)?;
    Ok(entry.is_some())
}

/// Returns `user.name` and `user.email` as git would commit with them.
fn configured_identity(repo: &Repo) -> Option<CommitIdentity> {
    let gix_repo = repo.gix();
    let committer = gix_repo.committer()?.ok()?;
    let name = committer.name.to_str().ok()?.trim().to_owned();
    let email = committer.email.to_str().ok()?.trim().to_owned();
    (!name.is_empty() && !email.is_empty()).then_some(CommitIdentity { name, email })
}

fn collapse_whitespace(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn checkpoint(options: &CreateOptions<'_>, step: CreateStep) -> Result<(), CreateError> {
    if options.fail_after == Some(step) {
        Err(CreateError::InjectedFailure { step })
    } else {
        Ok(())
    }
}

/// The commit `mission create` made and the tip it was made on.
struct Made {
    commit: gix::ObjectId,
    parent: gix::ObjectId,
}

fn execute(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    plan: &Plan,
    options: &CreateOptions<'_>,
) -> Result<Made, CreateError> {
    // Under the lock, again: another create may have made them since the plan.
    let mission_dir = repo.kitty_specs_dir().join(&plan.dir_name);
    if repo.containment().exists(&mission_dir)? {
        return Err(CreateError::MissionDirExists { path: mission_dir });
    }
    if let Some(branch) = &plan.coordination_branch
        && transaction.branch_tip(branch)?.is_some()
    {
        return Err(CreateError::CoordinationBranchExists {
            branch: branch.clone(),
        });
    }
    if plan.checked_out {
        write_scaffold(repo, transaction, plan)?;
        checkpoint(options, CreateStep::WriteFiles)?;
    }
    let message = format!("Add scaffold for feature {}\n", plan.dir_name);
    let paths: Vec<String> = plan.files.iter().map(|(path, _)| path.clone()).collect();
    let files = if plan.checked_out {
        CommitFiles::Checkout {
            root: repo.primary_root(),
            paths: &paths,
        }
    } else {
        CommitFiles::Bytes(&plan.files)
    };
    let mission_rel = format!("{KITTY_SPECS_DIR}/{}", plan.dir_name);
    // The coordination branch exists before anything is staged, at the commit the create is
    // about to make (the same tree, parent, message and signature): the mission's files are
    // never staged (and so never committed by someone's `git commit`) without it. If the
    // commit comes out otherwise (git's filters changed a file, the target branch moved), the
    // branch follows it before the target branch moves.
    let mut coordination_at: Option<gix::ObjectId> = None;
    if let Some(branch) = &plan.coordination_branch {
        let tip = transaction.branch_tip(&plan.target_branch)?;
        let tree = transaction.write_tree(tip, &plan.files)?;
        let commit = transaction.write_commit(
            tree,
            &tip.into_iter().collect::<Vec<_>>(),
            &message,
            Some(&plan.identity),
            plan.commit_seconds,
        )?;
        transaction.create_branch(
            branch,
            commit,
            &format!("missionctl: coordination branch of {}", plan.dir_name),
        )?;
        coordination_at = Some(commit);
        checkpoint(options, CreateStep::CreateCoordinationBranch)?;
    }
    let outcome = transaction.commit_checked(
        &CommitRequest {
            branch: &plan.target_branch,
            files,
            message: &message,
            identity: Some(&plan.identity),
            seconds: plan.commit_seconds,
            point: true,
        },
        |gix, tip| match tip {
            Some(tip) if path_in_tip(gix, tip, &mission_rel) => {
                Err(CreateError::MissionDirExists {
                    path: mission_dir.clone(),
                })
            }
            Some(_) => Ok(()),
            None => Err(CreateError::TargetBranchNotFound {
                branch: plan.target_branch.clone(),
            }),
        },
        |transaction, commit| {
            checkpoint(options, CreateStep::WriteObjects)?;
            if let Some(branch) = &plan.coordination_branch
                && coordination_at != Some(commit)
            {
                transaction.move_branch(
                    branch,
                    coordination_at,
                    Some(commit),
                    &format!("missionctl: coordination branch of {}", plan.dir_name),
                )?;
                coordination_at = Some(commit);
            }
            Ok(())
        },
    )?;
    match (outcome.commit, outcome.parent) {
        (Some(commit), Some(parent)) => Ok(Made { commit, parent }),
        // New files are always a change; a tip without them is refused above.
        _ => Err(CreateError::MissionDirExists { path: mission_dir }),
    }
}

/// Returns true when `path` (repository-relative) exists in the tree of `commit`.
fn path_in_tip(repo: &gix::Repository, commit: gix::ObjectId, path: &str) -> bool {
    repo.find_commit(commit)
        .ok()
        .and_then(|commit| commit.tree().ok())
        .and_then(|tree| tree.lookup_entry_by_path(path).ok().flatten())
        .is_some()
}

/// Writes the mission directory into the primary checkout's working tree, every directory and
/// file journalled by the door.
fn write_scaffold(
    repo: &Repo,
    transaction: &mut WriteTransaction,
    plan: &Plan,
) -> Result<(), CreateError> {
    let root = repo.primary_root();
    let mission_dir = repo.kitty_specs_dir().join(&plan.dir_name);
    for dir in EMPTY_SCAFFOLD_DIRS.iter().chain(["tasks"].iter()) {
        transaction.create_dir_all(&mission_dir.join(dir))?;
    }
    for (path, bytes) in &plan.files {
        transaction.create_file(&root.join(path), bytes)?;
    }
    Ok(())
}
