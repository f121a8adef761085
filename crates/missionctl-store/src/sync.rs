//! `sync`: moves missions' status between clones through a git remote.
//!
//! Status lives on a few branches: a coordination mission's on its coordination branch, a
//! flat mission's on its target (planning) branch, which may carry several missions. For each
//! such branch [`sync`]
//!
//! 1. asks the remote for the branch's tip (`git ls-remote`) and fetches its objects when they
//!    are missing — by URL, so no ref of the clone changes (no `FETCH_HEAD`, no remote-tracking
//!    ref that a killed fetch could leave locked);
//! 2. joins it into the local branch inside one write-door transaction holding the lock of
//!    every mission on the branch: a fast-forward when the clone has nothing new, otherwise a
//!    merge commit whose tree unions the event logs both sides changed (the merge driver's rows
//!    and bytes), re-derives their `status.json`, and takes whatever only one side changed;
//! 3. pushes the result without force; a rejected push (someone pushed first) starts again at
//!    1 after a jittered pause, at most [`MAX_ATTEMPTS`] times.
//!
//! Nothing is ever dropped: logs only grow by union, a merge has both tips as parents, and a
//! push is always a fast-forward of what the remote had. When the branch is checked out (the
//! primary checkout, or a coordination worktree), the door moves that checkout's index and files
//! with the branch (`advance_branch`: index first, refused when a file that changes has local
//! changes), and only files under `kitty-specs/` may change there: anything else, and a file
//! both sides changed that is not a log or a snapshot, is refused for `git merge` to handle.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use gix::ObjectId;
use missionctl_core::status::concurrent::{ConcurrentPair, concurrent_transitions};
use missionctl_core::status::event_log;
use missionctl_core::status::log_merge::LogMergeError;
use missionctl_core::status::reducer::reduce_with_identity;
use missionctl_core::status::sync_merge::{
    PathKind, Resolution, SNAPSHOT_FILE, STATUS_LOG_FILE, classify, event_ids, merge_path,
    mission_dir_of,
};
use serde::Serialize;

use crate::clock::Clock;
use crate::fs_util::PathError;
use crate::git::{self, GitError};
use crate::mission::context::{ResolveError, resolve_mission_context_for_reading};
use crate::mission::index::{LookupError, list_missions, resolve_handle};
use crate::repo::protection::ProtectedBranches;
use crate::repo::{Repo, RepoError};
use crate::write::{AdvanceRequest, Scope, WriteError, WriteTransaction, tree_of_commit};

/// How many times a branch is fetched, merged and pushed before `sync` gives up on a remote
/// that keeps moving.
pub const MAX_ATTEMPTS: u32 = 12;

/// The first pause after a rejected push; it doubles each time, with jitter, up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(20);

/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_millis(1_000);

/// The empty tree, the base of two histories that share no commit.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// What to sync.
#[derive(Clone)]
pub struct SyncOptions<'a> {
    /// The remote's name.
    pub remote: &'a str,
    /// Only this mission (a handle); `None`: every mission.
    pub mission: Option<&'a str>,
    /// The clock of merge commits.
    pub clock: &'a dyn Clock,
    /// Branches a merge is never committed on.
    pub protected_branches: &'a ProtectedBranches,
    /// The seed of the pauses' jitter (`None`: from the clock and the process).
    pub jitter_seed: Option<u64>,
}

/// What `sync` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// The remote's name.
    pub remote: String,
    /// Each mission synced, in name order.
    pub missions: Vec<MissionSync>,
    /// Each branch synced, in name order.
    pub branches: Vec<BranchSync>,
}

/// What `sync` did for one mission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionSync {
    /// The mission directory name.
    pub mission_slug: String,
    /// The branch its status lives on.
    pub branch: String,
    /// Events the clone did not have before and has now.
    pub events_received: usize,
    /// Events the remote did not have and got from this clone.
    pub events_sent: usize,
    /// Pairs of transitions of one work package made without seeing each other, one of them
    /// received or sent by this sync, with the one the reducer kept.
    pub concurrent_transitions: Vec<ConcurrentPair>,
}

/// What happened to one branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchOutcome {
    /// The clone and the remote already had the same commit.
    UpToDate,
    /// The branch exists on neither side yet.
    Absent,
    /// The clone took the remote's commit (created or fast-forwarded its branch).
    Received,
    /// The remote took the clone's commit (a fast-forward push).
    Sent,
    /// Both had something new: the clone merged, and pushed the merge.
    Merged,
    /// The branch is protected: nothing was merged or pushed.
    Protected,
}

/// What `sync` did with one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BranchSync {
    /// The branch.
    pub branch: String,
    /// What happened.
    pub outcome: BranchOutcome,
    /// How many fetch-merge-push rounds it took.
    pub attempts: u32,
    /// The branch's commit afterwards, on both sides.
    pub commit: Option<String>,
}

/// Why `sync` failed. Whatever is reported, no event was lost: a failed merge is undone by the
/// door, and a push never replaces what the remote has.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The repository has no remote of that name.
    #[error("The repository has no remote `{remote}`")]
    UnknownRemote {
        /// The remote.
        remote: String,
    },
    /// The remote could not be reached.
    #[error("Cannot reach the remote `{remote}`")]
    Unreachable {
        /// The remote.
        remote: String,
        /// What git said.
        #[source]
        source: GitError,
    },
    /// Both sides changed a file that `sync` does not merge.
    #[error(
        "`{path}` changed on both `{branch}` and the remote's `{branch}`; sync merges only event logs and status.json"
    )]
    Conflict {
        /// The branch.
        branch: String,
        /// The file.
        path: String,
    },
    /// The remote changed a file outside `kitty-specs/` of a branch that is checked out.
    #[error(
        "The remote's `{branch}` changes `{path}`, outside the missions' directories, and `{branch}` is checked out"
    )]
    Diverged {
        /// The branch.
        branch: String,
        /// The file.
        path: String,
    },
    /// Two logs could not be merged.
    #[error("Cannot merge `{path}` of `{branch}`: {source}")]
    LogMerge {
        /// The branch.
        branch: String,
        /// The log.
        path: String,
        /// What the union found.
        #[source]
        source: LogMergeError,
    },
    /// The remote kept moving: every attempt's push was rejected.
    #[error("The remote's `{branch}` kept moving: {attempts} pushes were rejected")]
    PushContended {
        /// The branch.
        branch: String,
        /// The attempts made.
        attempts: u32,
    },
    /// The remote refused the push for another reason than a newer tip (a hook, a protected
    /// branch, permissions).
    #[error("The remote refused the push of `{branch}`")]
    PushRefused {
        /// The branch.
        branch: String,
        /// What git said.
        #[source]
        source: GitError,
    },
    /// A mission could not be found.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// A mission's context could not be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The repository could not be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The merge could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A file could not be read.
    #[error(transparent)]
    Io(#[from] PathError),
    /// An object could not be read.
    #[error("Cannot read {what}: {message}")]
    Objects {
        /// What was being read.
        what: String,
        /// What gix said.
        message: String,
    },
}

impl SyncError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::UnknownRemote { .. } => "SYNC_REMOTE_UNKNOWN",
            SyncError::Unreachable { .. } => "SYNC_REMOTE_UNREACHABLE",
            SyncError::Conflict { .. } => "SYNC_CONFLICT",
            SyncError::Diverged { .. } => "SYNC_DIVERGED",
            SyncError::LogMerge {
                source: LogMergeError::ConflictingPayloads { .. },
                ..
            } => "EVENT_LOG_MERGE_CONFLICT",
            SyncError::LogMerge { .. } => "EVENT_LOG_INVALID",
            SyncError::PushContended { .. } => "SYNC_PUSH_CONTENDED",
            SyncError::PushRefused { .. } => "SYNC_PUSH_REFUSED",
            SyncError::Lookup(error) => error.code(),
            SyncError::Resolve(error) => error.code(),
            SyncError::Repo(error) => error.code(),
            SyncError::Write(error) => error.code(),
            SyncError::Git(error) => error.code(),
            SyncError::Io(error) => error.code(),
            SyncError::Objects { .. } => "GIT_READ_FAILED",
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            SyncError::UnknownRemote { .. } => {
                "Name a remote with `--remote` (see `git remote -v`), or add one with `git remote add origin <url>`".to_owned()
            }
            SyncError::Unreachable { .. } => {
                "Working offline is fine: every other command works without the remote. Run `missionctl sync` again when it is reachable".to_owned()
            }
            SyncError::Conflict { .. } | SyncError::Diverged { .. } => {
                "Merge the branch with git (`git pull`; `missionctl merge-driver install` unions the event logs), then run `missionctl sync` again".to_owned()
            }
            SyncError::LogMerge { .. } => {
                "Look at the rows named: the two sides recorded different rows under one event id, or a line is broken; fix it on one side, then sync again".to_owned()
            }
            SyncError::PushContended { .. } => {
                "Other clones keep pushing: run `missionctl sync` again (nothing was lost; the merge is committed locally)".to_owned()
            }
            SyncError::PushRefused { .. } => {
                "Look at what the remote said (a hook, a protected branch, permissions); the merge is committed locally".to_owned()
            }
            SyncError::Lookup(error) => error.hint(),
            SyncError::Resolve(error) => error.hint(),
            SyncError::Repo(error) => error.hint(),
            SyncError::Write(error) => error.hint(),
            SyncError::Git(error) => error.hint(),
            SyncError::Io(error) => error.hint(),
            SyncError::Objects { .. } => {
                "Run `git fsck` to check the object database".to_owned()
            }
        }
    }
}

/// One branch to sync and the missions on it.
#[derive(Debug, Clone)]
struct Target {
    branch: String,
    /// The missions the caller asked for that live on this branch.
    missions: Vec<String>,
    /// Every mission of the repository on this branch (their locks are held while it merges).
    all_missions: Vec<String>,
}

/// Syncs the status of the missions with the remote (see the [module](self) documentation).
pub fn sync(repo: &Repo, options: &SyncOptions<'_>) -> Result<SyncReport, SyncError> {
    git::require_git()?;
    let url = remote_url(repo, options.remote)?;
    let (targets, metas) = targets(repo, options.mission)?;
    let mut jitter = Jitter::new(options.jitter_seed.unwrap_or_else(|| {
        let nanos = options
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        (nanos as u64) ^ (u64::from(std::process::id()) << 32)
    }));
    let mut report = SyncReport {
        remote: options.remote.to_owned(),
        missions: Vec::new(),
        branches: Vec::new(),
    };
    for target in &targets {
        let (branch, missions) = sync_branch(repo, &url, target, &metas, options, &mut jitter)?;
        report.branches.push(branch);
        report.missions.extend(missions);
    }
    report
        .missions
        .sort_by(|a, b| a.mission_slug.cmp(&b.mission_slug));
    Ok(report)
}

/// Returns the URL of a remote.
fn remote_url(repo: &Repo, remote: &str) -> Result<String, SyncError> {
    match git::git(repo.primary_root(), ["remote", "get-url", remote]) {
        Ok(output) => Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned()),
        Err(GitError::Failed { .. }) => Err(SyncError::UnknownRemote {
            remote: remote.to_owned(),
        }),
        Err(error) => Err(error.into()),
    }
}

/// The parsed `meta.json` of each mission, by directory name.
type Metas = HashMap<String, serde_json::Map<String, serde_json::Value>>;

/// Returns the branches to sync, with their missions, and every mission's `meta.json`.
fn targets(repo: &Repo, handle: Option<&str>) -> Result<(Vec<Target>, Metas), SyncError> {
    let wanted = match handle {
        Some(handle) => Some(resolve_handle(repo, handle)?.dir.dir_name().to_owned()),
        None => None,
    };
    let mut branches: BTreeMap<String, Target> = BTreeMap::new();
    let mut metas = Metas::new();
    for summary in list_missions(repo)? {
        let slug = summary.mission_slug;
        let Ok((context, _)) = resolve_mission_context_for_reading(repo, &slug) else {
            // A mission without a readable `meta.json` has no branch to sync; when it was
            // asked for by name, say why.
            if wanted.as_deref() == Some(slug.as_str()) {
                resolve_mission_context_for_reading(repo, &slug)?;
            }
            continue;
        };
        let branch = context
            .context
            .branch_ref
            .destination_ref
            .as_str()
            .to_owned();
        metas.insert(slug.clone(), context.meta);
        let target = branches.entry(branch.clone()).or_insert_with(|| Target {
            branch,
            missions: Vec::new(),
            all_missions: Vec::new(),
        });
        target.all_missions.push(slug.clone());
        if wanted.as_deref().is_none_or(|wanted| wanted == slug) {
            target.missions.push(slug);
        }
    }
    let targets = branches
        .into_values()
        .filter(|target| !target.missions.is_empty())
        .collect();
    Ok((targets, metas))
}

/// Syncs one branch: rounds of fetch, merge and push until the push lands.
fn sync_branch(
    repo: &Repo,
    url: &str,
    target: &Target,
    metas: &Metas,
    options: &SyncOptions<'_>,
    jitter: &mut Jitter,
) -> Result<(BranchSync, Vec<MissionSync>), SyncError> {
    let branch = target.branch.as_str();
    let local_start = repo.branch_tip_id(branch)?;
    // What the clone had: its branch, else what it last fetched of the remote's.
    let start = match local_start {
        Some(tip) => Some(tip),
        None => repo
            .gix()
            .try_find_reference(format!("refs/remotes/{}/{branch}", options.remote).as_str())
            .ok()
            .flatten()
            .and_then(|mut reference| reference.peel_to_id().ok())
            .map(gix::Id::detach),
    };
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    let mut merged = false;
    let (outcome, tip, sent_against) = loop {
        attempts += 1;
        let remote = remote_tip(repo, url, options.remote, branch)?;
        if let Some(theirs) = remote {
            fetch(repo, url, options.remote, branch, theirs)?;
        }
        let local = repo.branch_tip_id(branch)?;
        let local = match (local, remote) {
            (_, None) | (None, _) => join(repo, target, metas, options, local, remote)?,
            (Some(ours), Some(theirs)) if ours == theirs => Some(ours),
            (Some(_), Some(_)) if options.protected_branches.is_protected(branch) => {
                return finish_branch(
                    repo,
                    target,
                    BranchOutcome::Protected,
                    attempts,
                    local,
                    start,
                    None,
                );
            }
            (Some(_), Some(_)) => {
                let joined = join(repo, target, metas, options, local, remote)?;
                merged |= joined != remote && joined != local;
                joined
            }
        };
        let Some(ours) = local else {
            break (BranchOutcome::Absent, None, None);
        };
        if Some(ours) == remote {
            let outcome = if Some(ours) == local_start {
                BranchOutcome::UpToDate
            } else {
                BranchOutcome::Received
            };
            break (outcome, Some(ours), None);
        }
        match push(repo, url, options.remote, branch, ours)? {
            Pushed::Yes => {
                let outcome = if merged {
                    BranchOutcome::Merged
                } else {
                    BranchOutcome::Sent
                };
                break (outcome, Some(ours), Some(remote));
            }
            Pushed::Rejected => {
                if attempts >= MAX_ATTEMPTS {
                    return Err(SyncError::PushContended {
                        branch: branch.to_owned(),
                        attempts,
                    });
                }
                std::thread::sleep(jitter.pause(pause));
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    };
    finish_branch(repo, target, outcome, attempts, tip, start, sent_against)
}

/// Builds the report of a branch: events received since `start`, sent against the remote tip
/// the push replaced (`sent_against`: `Some(None)` when the push created the branch).
fn finish_branch(
    repo: &Repo,
    target: &Target,
    outcome: BranchOutcome,
    attempts: u32,
    tip: Option<ObjectId>,
    start: Option<ObjectId>,
    sent_against: Option<Option<ObjectId>>,
) -> Result<(BranchSync, Vec<MissionSync>), SyncError> {
    let gix = repo.gix();
    let mut missions = Vec::new();
    for slug in &target.missions {
        let path = format!("kitty-specs/{slug}/{STATUS_LOG_FILE}");
        let now = match tip {
            Some(tip) => blob_at(&gix, tip, &path)?.unwrap_or_default(),
            None => Vec::new(),
        };
        let before = match start {
            Some(start) => blob_at(&gix, start, &path)?.unwrap_or_default(),
            None => Vec::new(),
        };
        let now_ids = event_ids(&now);
        let before_ids = event_ids(&before);
        let received: BTreeSet<&String> = now_ids.difference(&before_ids).collect();
        let sent: BTreeSet<String> = match sent_against {
            Some(remote) => {
                let remote = match remote {
                    Some(remote) => blob_at(&gix, remote, &path)?.unwrap_or_default(),
                    None => Vec::new(),
                };
                now_ids.difference(&event_ids(&remote)).cloned().collect()
            }
            None => BTreeSet::new(),
        };
        let exchanged = |id: &String| received.contains(id) || sent.contains(id);
        let concurrent = concurrent_transitions(&event_log::parse(&now))
            .into_iter()
            .filter(|pair| exchanged(&pair.earlier.event_id) || exchanged(&pair.later.event_id))
            .collect();
        missions.push(MissionSync {
            mission_slug: slug.clone(),
            branch: target.branch.clone(),
            events_received: received.len(),
            events_sent: sent.len(),
            concurrent_transitions: concurrent,
        });
    }
    Ok((
        BranchSync {
            branch: target.branch.clone(),
            outcome,
            attempts,
            commit: tip.map(|tip| tip.to_string()),
        },
        missions,
    ))
}

/// Returns the remote's tip of `branch` (`None`: it has no such branch).
fn remote_tip(
    repo: &Repo,
    url: &str,
    remote: &str,
    branch: &str,
) -> Result<Option<ObjectId>, SyncError> {
    let name = format!("refs/heads/{branch}");
    let output = git::git(
        repo.primary_root(),
        ["ls-remote", "--heads", url, name.as_str()],
    )
    .map_err(|source| SyncError::Unreachable {
        remote: remote.to_owned(),
        source,
    })?;
    let text = String::from_utf8_lossy(&output.stdout);
    for line in text.lines() {
        if let Some((id, reference)) = line.split_once('\t')
            && reference == name
        {
            return ObjectId::from_hex(id.as_bytes())
                .map(Some)
                .map_err(|error| SyncError::Objects {
                    what: format!("the remote's `{branch}`"),
                    message: error.to_string(),
                });
        }
    }
    Ok(None)
}

/// Fetches the objects of the remote's `branch` unless `tip` is already here. No ref of the
/// clone changes.
fn fetch(
    repo: &Repo,
    url: &str,
    remote: &str,
    branch: &str,
    tip: ObjectId,
) -> Result<(), SyncError> {
    if repo.gix().find_commit(tip).is_ok() {
        return Ok(());
    }
    let name = format!("refs/heads/{branch}");
    git::git(
        repo.primary_root(),
        [
            "-c",
            "gc.auto=0",
            "-c",
            "maintenance.auto=0",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            url,
            name.as_str(),
        ],
    )
    .map_err(|source| SyncError::Unreachable {
        remote: remote.to_owned(),
        source,
    })?;
    // The remote may have moved on between the two commands; what it had is then an ancestor
    // of what was fetched.
    repo.gix()
        .find_commit(tip)
        .map(|_| ())
        .map_err(|error| SyncError::Objects {
            what: format!("the fetched commit {tip}"),
            message: error.to_string(),
        })
}

/// Whether a push landed.
enum Pushed {
    Yes,
    /// The remote has commits the push did not contain.
    Rejected,
}

/// Pushes `commit` to the remote's `branch`, never forcing. No ref of the clone changes.
fn push(
    repo: &Repo,
    url: &str,
    remote: &str,
    branch: &str,
    commit: ObjectId,
) -> Result<Pushed, SyncError> {
    let refspec = format!("{commit}:refs/heads/{branch}");
    match git::git(
        repo.primary_root(),
        ["push", "--no-progress", url, refspec.as_str()],
    ) {
        Ok(_) => Ok(Pushed::Yes),
        Err(GitError::Failed {
            command,
            dir,
            status,
            stderr,
        }) => {
            let said = stderr.0.as_str();
            if [
                "[rejected]",
                "non-fast-forward",
                "fetch first",
                "cannot lock ref",
                "failed to update ref",
            ]
            .iter()
            .any(|sign| said.contains(sign))
            {
                Ok(Pushed::Rejected)
            } else if said.contains("remote rejected") || said.contains("pre-receive hook") {
                Err(SyncError::PushRefused {
                    branch: branch.to_owned(),
                    source: GitError::Failed {
                        command,
                        dir,
                        status,
                        stderr,
                    },
                })
            } else {
                Err(SyncError::Unreachable {
                    remote: remote.to_owned(),
                    source: GitError::Failed {
                        command,
                        dir,
                        status,
                        stderr,
                    },
                })
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// Joins the remote's tip into the local branch in one write-door transaction and returns the
/// branch's tip afterwards.
fn join(
    repo: &Repo,
    target: &Target,
    metas: &Metas,
    options: &SyncOptions<'_>,
    expected: Option<ObjectId>,
    theirs: Option<ObjectId>,
) -> Result<Option<ObjectId>, SyncError> {
    let branch = target.branch.as_str();
    let Some(theirs) = theirs else {
        return Ok(expected);
    };
    let mut scopes: Vec<&String> = target.all_missions.iter().collect();
    scopes.sort();
    let Some(first) = scopes.first() else {
        return Ok(expected);
    };
    let mut write = WriteTransaction::begin(repo, Scope::Mission((*first).clone()), "sync")?;
    for slug in &scopes[1..] {
        write.hold(&Scope::Mission((*slug).clone()))?;
    }
    // Read under the locks: a status write may have committed meanwhile.
    let ours = write.branch_tip(branch)?;
    let seconds = options
        .clock
        .now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    let message = format!("chore(missionctl): sync {branch} with {}", options.remote);
    let Some(ours) = ours else {
        write.move_branch_with(branch, None, Some(theirs), &message, true)?;
        write.finish()?;
        return Ok(Some(theirs));
    };
    if ours == theirs {
        return Ok(Some(ours));
    }
    let base = merge_base(repo, ours, theirs)?;
    if base == Some(theirs) {
        // The remote is behind: nothing to take.
        return Ok(Some(ours));
    }
    let gix = repo.gix();
    let plan = plan_merge(repo, &gix, branch, base, ours, theirs, metas)?;
    let checkout = checked_out_at(repo, branch)?;
    if checkout.is_some()
        && let Some(path) = plan.keys().find(|path| classify(path) == PathKind::Other)
    {
        return Err(SyncError::Diverged {
            branch: branch.to_owned(),
            path: path.clone(),
        });
    }
    let mut files = Vec::new();
    let mut removed = Vec::new();
    for (path, bytes) in plan {
        match bytes {
            Some(bytes) => files.push((path, bytes)),
            None => removed.push(path),
        }
    }
    let tree = write.write_tree_with(ours, &files, &removed)?;
    // Nothing of ours the remote lacks: take the remote's very commit, so clones end on one.
    let new = if base == Some(ours) && tree == tree_of_commit(&gix, theirs)? {
        theirs
    } else {
        write.write_commit(tree, &[ours, theirs], &message, None, seconds)?
    };
    write.advance_branch(&AdvanceRequest {
        branch,
        old: ours,
        new,
        checkout: checkout.as_deref(),
        message: &message,
        point: true,
    })?;
    write.finish()?;
    Ok(Some(new))
}

/// Returns the files the merge sets on top of ours (`None`: removed), in path order.
fn plan_merge(
    repo: &Repo,
    gix: &gix::Repository,
    branch: &str,
    base: Option<ObjectId>,
    ours: ObjectId,
    theirs: ObjectId,
    metas: &Metas,
) -> Result<BTreeMap<String, Option<Vec<u8>>>, SyncError> {
    let base_rev = base.map_or_else(|| EMPTY_TREE.to_owned(), |base| base.to_string());
    let changed_theirs = changed_paths(repo, &base_rev, &theirs.to_string())?;
    let mut plan: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    let mut derive: BTreeSet<String> = BTreeSet::new();
    let at = |commit: Option<ObjectId>, path: &str| -> Result<Option<Vec<u8>>, SyncError> {
        match commit {
            Some(commit) => blob_at(gix, commit, path),
            None => Ok(None),
        }
    };
    for path in changed_theirs {
        let base_bytes = at(base, &path)?;
        let ours_bytes = at(Some(ours), &path)?;
        let theirs_bytes = at(Some(theirs), &path)?;
        let resolution = merge_path(
            &path,
            base_bytes.as_deref(),
            ours_bytes.as_deref(),
            theirs_bytes.as_deref(),
        )
        .map_err(|source| SyncError::LogMerge {
            branch: branch.to_owned(),
            path: path.clone(),
            source,
        })?;
        match resolution {
            Resolution::Ours => {}
            Resolution::Theirs => {
                plan.insert(path, theirs_bytes);
            }
            Resolution::Union(bytes) => {
                if let Some(dir) = mission_dir_of(&path)
                    && path.ends_with(STATUS_LOG_FILE)
                {
                    derive.insert(dir.to_owned());
                }
                plan.insert(path, Some(bytes));
            }
            Resolution::Derive => {
                if let Some(dir) = mission_dir_of(&path) {
                    derive.insert(dir.to_owned());
                }
            }
            Resolution::Conflict => {
                return Err(SyncError::Conflict {
                    branch: branch.to_owned(),
                    path,
                });
            }
        }
    }
    for dir in derive {
        let log_path = format!("kitty-specs/{dir}/{STATUS_LOG_FILE}");
        let log = match plan.get(&log_path) {
            Some(bytes) => bytes.clone().unwrap_or_default(),
            None => at(Some(ours), &log_path)?.unwrap_or_default(),
        };
        let snapshot = reduce_with_identity(&event_log::parse(&log), metas.get(&dir))
            .or_else(|_| reduce_with_identity(&event_log::parse(&log), None))
            .map_err(|error| SyncError::Objects {
                what: format!("the identity of `{dir}`"),
                message: error.to_string(),
            })?;
        let bytes = snapshot.to_status_json().into_bytes();
        let snapshot_path = format!("kitty-specs/{dir}/{SNAPSHOT_FILE}");
        if at(Some(ours), &snapshot_path)?.as_deref() == Some(bytes.as_slice()) {
            plan.remove(&snapshot_path);
        } else {
            plan.insert(snapshot_path, Some(bytes));
        }
    }
    Ok(plan)
}

/// Returns the paths that differ between two revisions.
fn changed_paths(repo: &Repo, from: &str, to: &str) -> Result<Vec<String>, SyncError> {
    let output = git::git(
        repo.common_dir(),
        [
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--name-only",
            "--no-commit-id",
            from,
            to,
        ],
    )?;
    Ok(crate::git::nul_separated_paths(&output.stdout))
}

/// Returns the best common ancestor of two commits (`None`: they share none).
fn merge_base(repo: &Repo, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>, SyncError> {
    let (a, b) = (a.to_string(), b.to_string());
    match git::git(repo.common_dir(), ["merge-base", a.as_str(), b.as_str()]) {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout);
            ObjectId::from_hex(text.trim().as_bytes())
                .map(Some)
                .map_err(|error| SyncError::Objects {
                    what: "the merge base".to_owned(),
                    message: error.to_string(),
                })
        }
        // `git merge-base` exits 1 when there is no common ancestor.
        Err(GitError::Failed { status, .. }) if status.code() == Some(1) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Returns the checkout that has `branch` checked out, if any.
fn checked_out_at(repo: &Repo, branch: &str) -> Result<Option<PathBuf>, SyncError> {
    Ok(repo
        .worktree_checkouts()?
        .into_iter()
        .find(|checkout| checkout.branch.as_deref() == Some(branch))
        .map(|checkout| checkout.path))
}

/// Returns the bytes of `path` in `commit` (`None` when it has no such file).
fn blob_at(
    gix: &gix::Repository,
    commit: ObjectId,
    path: &str,
) -> Result<Option<Vec<u8>>, SyncError> {
    let failed = |error: String| SyncError::Objects {
        what: format!("`{path}` of {commit}"),
        message: error,
    };
    let tree = gix
        .find_commit(commit)
        .map_err(|error| failed(error.to_string()))?
        .tree()
        .map_err(|error| failed(error.to_string()))?;
    let Some(entry) = tree
        .lookup_entry_by_path(path)
        .map_err(|error| failed(error.to_string()))?
    else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Ok(None);
    }
    let object = entry.object().map_err(|error| failed(error.to_string()))?;
    Ok(Some(object.data.clone()))
}

/// The jitter of the pauses between attempts: a small xorshift generator, seeded per process,
/// so clones that were rejected together do not retry together.
#[derive(Debug, Clone)]
struct Jitter(u64);

impl Jitter {
    fn new(seed: u64) -> Jitter {
        Jitter(seed | 1)
    }

    /// Returns a pause between half and all of `pause`.
    fn pause(&mut self, pause: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let millis = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX).max(2);
        Duration::from_millis(millis / 2 + self.0 % (millis / 2 + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_half_and_all_of_the_pause() {
        let mut jitter = Jitter::new(7);
        for _ in 0..1000 {
            let pause = jitter.pause(Duration::from_millis(100));
            assert!(pause >= Duration::from_millis(50) && pause <= Duration::from_millis(100));
        }
    }
}
