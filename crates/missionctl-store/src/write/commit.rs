//! Commits through the door: the tree is the branch tip's tree plus exactly the transaction's
//! files, written in process; the checkout's index records those paths first (under git's
//! `index.lock` protocol, so the entries are what git's own filters make of the files); the
//! branch moves last, by compare-and-swap.
//!
//! The index is changed before the branch moves, never after: a writer killed in between
//! leaves the files staged, not committed, so a `git commit` by someone who does not know
//! missionctl commits them rather than deleting them. If the branch moved meanwhile, the
//! commit is made again on its new tip (the caller's check runs again first); if the files are
//! already in the new tip (a commit that took the staged files along), nothing more is
//! committed.

use std::path::Path;

use gix::ObjectId;
use gix::bstr::BString;

use super::index::{Checkout, IndexEdit, edit_index};
use super::refs::{RefUpdate, RefUpdateError};
use super::retry::{Backoff, GIT_LOCK_PATIENCE, wait_for_lock};
use super::{WriteError, WriteTransaction, objects_failed};

/// Who a commit is by: the author and committer name and email.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitIdentity {
    /// The name.
    pub name: String,
    /// The email address.
    pub email: String,
}

/// The identity of a commit when none is given and git has none configured.
const FALLBACK_IDENTITY: (&str, &str) = ("missionctl", "missionctl@localhost");

/// The files a commit takes.
#[derive(Debug, Clone, Copy)]
pub enum CommitFiles<'a> {
    /// Files already written in the checkout rooted at `root`, which has the branch checked
    /// out: repository-relative `paths` (`/`-separated); a path whose file is gone is removed.
    Checkout {
        /// The checkout.
        root: &'a Path,
        /// The paths.
        paths: &'a [String],
    },
    /// Bytes committed to a branch that is not checked out anywhere: no index or working tree
    /// changes.
    Bytes(&'a [(String, Vec<u8>)]),
}

/// A commit to make.
#[derive(Debug, Clone, Copy)]
pub struct CommitRequest<'a> {
    /// The short branch name.
    pub branch: &'a str,
    /// What the commit takes.
    pub files: CommitFiles<'a>,
    /// The commit message.
    pub message: &'a str,
    /// The author and committer; `None`: git's configured identity, else
    /// `missionctl <missionctl@localhost>`.
    pub identity: Option<&'a CommitIdentity>,
    /// The commit time, in seconds since the epoch (UTC).
    pub seconds: i64,
    /// Whether this commit is the transaction's commit point: once the branch holds it,
    /// recovery completes the transaction instead of undoing it. The last ref update of a
    /// transaction is its commit point.
    pub point: bool,
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitOutcome {
    /// The new commit; `None` when the files equal the branch's tip (nothing committed).
    pub commit: Option<ObjectId>,
    /// The branch's tip afterwards.
    pub tip: Option<ObjectId>,
    /// The tip the new commit was made on.
    pub parent: Option<ObjectId>,
}

impl WriteTransaction {
    /// Makes a commit (see the [module](self) documentation).
    pub fn commit(&mut self, request: &CommitRequest<'_>) -> Result<CommitOutcome, WriteError> {
        self.commit_checked(request, |_, _| Ok(()), |_, _| Ok(()))
    }

    /// Makes a commit, running `check` on the branch's tip before each attempt (it may refuse
    /// a tip the files must not be committed on), and `before_point` with the new commit just
    /// before the branch moves (to point another ref at it first).
    pub fn commit_checked<E, C, B>(
        &mut self,
        request: &CommitRequest<'_>,
        mut check: C,
        mut before_point: B,
    ) -> Result<CommitOutcome, E>
    where
        E: From<WriteError>,
        C: FnMut(&gix::Repository, Option<ObjectId>) -> Result<(), E>,
        B: FnMut(&mut WriteTransaction, ObjectId) -> Result<(), E>,
    {
        let name = format!("refs/heads/{}", request.branch);
        let mut tip = read_tip(&self.gix, &name)?;
        check(&self.gix, tip)?;
        let (entries, cwd) = match request.files {
            CommitFiles::Checkout { root, paths } => {
                let checkout = Checkout::at(root).map_err(WriteError::from)?;
                // A ref lock held by someone else makes the update fail: wait for it before
                // the index changes, so a stale one fails the write with nothing changed.
                let locks = super::refs::lock_files(
                    self.repo.common_dir(),
                    &checkout.git_dir,
                    &name,
                    false,
                );
                wait_for_ref_locks(&locks)?;
                let changes = edit_index(
                    &mut self.core,
                    &checkout,
                    Some(request.branch),
                    &IndexEdit::Stage(paths),
                )?;
                let entries: Vec<TreeEntry> = changes
                    .into_iter()
                    .map(|change| {
                        (
                            change.path,
                            change.after.map(|entry| (entry.mode, entry.oid)),
                        )
                    })
                    .collect();
                (entries, root.to_path_buf())
            }
            CommitFiles::Bytes(files) => (
                write_blobs(&self.gix, files)?,
                self.repo.primary_root().to_path_buf(),
            ),
        };
        let signature = signature(&self.gix, request.identity, request.seconds);
        let subject = request.message.lines().next().unwrap_or_default();
        let reflog = format!("commit: {subject}");
        let mut backoff = Backoff::new(GIT_LOCK_PATIENCE);
        loop {
            let base_tree = tree_of(&self.gix, tip)?;
            let tree = edit_tree(&self.gix, base_tree, &entries)?;
            if tree == base_tree {
                return Ok(CommitOutcome {
                    commit: None,
                    tip,
                    parent: tip,
                });
            }
            let commit = gix::objs::Commit {
                tree,
                parents: tip.into_iter().collect(),
                author: signature.clone(),
                committer: signature.clone(),
                encoding: None,
                message: BString::from(request.message),
                extra_headers: Vec::new(),
            };
            let new = self
                .gix
                .write_object(&commit)
                .map_err(|error| gix::Error::from_error(error))
                .map_err(objects_failed("write the commit"))?
                .detach();
            before_point(self, new)?;
            let update = RefUpdate {
                name: &name,
                old: tip,
                new: Some(new),
                message: &reflog,
                point: request.point,
            };
            let common = self.repo.common_dir().to_path_buf();
            match super::refs::update(&mut self.core, &common, &cwd, &update) {
                Ok(()) => {
                    return Ok(CommitOutcome {
                        commit: Some(new),
                        tip: Some(new),
                        parent: tip,
                    });
                }
                Err(RefUpdateError::Locked(path)) => {
                    if !wait_for_lock(&mut backoff, &path) {
                        return Err(WriteError::git_lock_busy(&path).into());
                    }
                }
                Err(RefUpdateError::Moved) => {
                    if !backoff.wait() {
                        return Err(WriteError::BranchMoved {
                            branch: request.branch.to_owned(),
                        }
                        .into());
                    }
                    tip = read_tip(&self.gix, &name)?;
                    check(&self.gix, tip)?;
                }
                Err(RefUpdateError::Hook(source)) => {
                    return Err(WriteError::HookRejected { name, source }.into());
                }
                Err(RefUpdateError::Other(error)) => return Err(error.into()),
            }
        }
    }

    /// Writes a commit object (no ref moves: an object nothing points at changes nothing, and
    /// `git gc` removes it) and returns its id. `identity` as for [`CommitRequest`].
    pub fn write_commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        message: &str,
        identity: Option<&CommitIdentity>,
        seconds: i64,
    ) -> Result<ObjectId, WriteError> {
        write_commit_object(&self.gix, tree, parents, message, identity, seconds)
            .map_err(objects_failed("write the commit"))
    }

    /// Writes the blobs of `files` and returns the tree of `commit` (the empty tree for none)
    /// with them set (objects only: nothing points at them yet).
    pub fn write_tree(
        &self,
        commit: Option<ObjectId>,
        files: &[(String, Vec<u8>)],
    ) -> Result<ObjectId, WriteError> {
        let entries = write_blobs(&self.gix, files)?;
        let base = tree_of(&self.gix, commit)?;
        edit_tree(&self.gix, base, &entries)
    }

    /// Like [`WriteTransaction::write_tree`] for a commit, with the `removed` paths taken out
    /// of the tree too (a merge that takes another line's deletions).
    pub fn write_tree_with(
        &self,
        commit: ObjectId,
        files: &[(String, Vec<u8>)],
        removed: &[String],
    ) -> Result<ObjectId, WriteError> {
        let mut entries = write_blobs(&self.gix, files)?;
        entries.extend(removed.iter().map(|path| (path.clone(), None)));
        edit_tree(&self.gix, tree_of(&self.gix, Some(commit))?, &entries)
    }

    /// Returns the tip of a branch (`None` when it does not exist).
    pub fn branch_tip(&self, branch: &str) -> Result<Option<ObjectId>, WriteError> {
        read_tip(&self.gix, &format!("refs/heads/{branch}"))
    }
}

/// Waits (with the usual patience) until none of `locks` exists.
pub(crate) fn wait_for_ref_locks(locks: &[std::path::PathBuf]) -> Result<(), WriteError> {
    let mut backoff = Backoff::new(GIT_LOCK_PATIENCE);
    for lock in locks {
        while std::fs::symlink_metadata(lock).is_ok() {
            if !wait_for_lock(&mut backoff, lock) {
                return Err(WriteError::git_lock_busy(lock));
            }
        }
    }
    Ok(())
}

/// A path of a tree and what it holds: mode and object, or `None` to remove it.
type TreeEntry = (String, Option<(u32, ObjectId)>);

/// Writes the blobs of `files` and returns them as tree entries (regular files).
fn write_blobs(
    repo: &gix::Repository,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<TreeEntry>, WriteError> {
    files
        .iter()
        .map(|(path, bytes)| {
            let oid = repo
                .write_blob(bytes)
                .map_err(|error| gix::Error::from_error(error))
                .map_err(objects_failed(format!("write the object of `{path}`")))?
                .detach();
            Ok((path.clone(), Some((0o100_644, oid))))
        })
        .collect()
}

/// Returns the commit a ref points at, read now.
pub(crate) fn read_tip(repo: &gix::Repository, name: &str) -> Result<Option<ObjectId>, WriteError> {
    let failed = objects_failed(format!("read `{name}`"));
    let reference = repo
        .try_find_reference(name)
        .map_err(|error| gix::Error::from_error(error));
    let Some(mut reference) = reference.map_err(failed)? else {
        return Ok(None);
    };
    let id = reference
        .peel_to_id()
        .map_err(|error| gix::Error::from_error(error))
        .map_err(objects_failed(format!("read `{name}`")))?;
    Ok(Some(id.detach()))
}

/// Returns the tree of a commit.
pub(crate) fn tree_of_commit(
    repo: &gix::Repository,
    commit: ObjectId,
) -> Result<ObjectId, WriteError> {
    tree_of(repo, Some(commit))
}

/// Returns the tree of a commit (the empty tree for none).
pub(crate) fn tree_of(
    repo: &gix::Repository,
    commit: Option<ObjectId>,
) -> Result<ObjectId, WriteError> {
    let Some(commit) = commit else {
        return Ok(ObjectId::empty_tree(gix::hash::Kind::Sha1));
    };
    Ok(repo
        .find_commit(commit)
        .map_err(|error| gix::Error::from_error(error))
        .and_then(|commit| commit.tree_id().map_err(gix::Error::from_error))
        .map_err(objects_failed("read the branch's tree"))?
        .detach())
}

/// Returns `base` with each path set to its entry (mode and blob), or removed for `None`.
fn edit_tree(
    repo: &gix::Repository,
    base: ObjectId,
    entries: &[TreeEntry],
) -> Result<ObjectId, WriteError> {
    let mut editor = repo
        .edit_tree(base)
        .map_err(objects_failed("read the branch's tree"))?;
    for (path, entry) in entries {
        match entry {
            Some((mode, oid)) => {
                editor
                    .upsert(path.as_str(), entry_kind(*mode), *oid)
                    .map_err(objects_failed(format!("add `{path}` to the tree")))?;
            }
            None => {
                editor
                    .remove(path.as_str())
                    .map_err(objects_failed(format!("remove `{path}` from the tree")))?;
            }
        }
    }
    Ok(editor
        .write()
        .map_err(objects_failed("write the tree"))?
        .detach())
}

/// Returns the tree entry kind of an index mode.
pub(crate) fn entry_kind(mode: u32) -> gix::object::tree::EntryKind {
    use gix::object::tree::EntryKind;
    match mode {
        0o100_755 => EntryKind::BlobExecutable,
        0o120_000 => EntryKind::Link,
        0o160_000 => EntryKind::Commit,
        _ => EntryKind::Blob,
    }
}

/// Returns the signature of a commit: `identity`, else git's configured identity (as `git
/// commit` would use it), else a fixed one, at `seconds` since the epoch in UTC.
/// Writes a commit of `tree` with `parents` and `message` to `repo`'s object database, author
/// and committer the [`signature`] of `identity` at `seconds`.
pub(crate) fn write_commit_object(
    repo: &gix::Repository,
    tree: ObjectId,
    parents: &[ObjectId],
    message: &str,
    identity: Option<&CommitIdentity>,
    seconds: i64,
) -> Result<ObjectId, gix::Error> {
    let signature = signature(repo, identity, seconds);
    let commit = gix::objs::Commit {
        tree,
        parents: parents.iter().copied().collect(),
        author: signature.clone(),
        committer: signature,
        encoding: None,
        message: BString::from(message),
        extra_headers: Vec::new(),
    };
    Ok(repo.write_object(&commit)?.detach())
}

pub(crate) fn signature(
    repo: &gix::Repository,
    identity: Option<&CommitIdentity>,
    seconds: i64,
) -> gix::actor::Signature {
    let configured = || {
        repo.committer()
            .and_then(Result::ok)
            .map(|committer| CommitIdentity {
                name: committer.name.to_string().trim().to_owned(),
                email: committer.email.to_string().trim().to_owned(),
            })
            .filter(|identity| !identity.name.is_empty() && !identity.email.is_empty())
    };
    let identity = identity
        .cloned()
        .or_else(configured)
        .unwrap_or_else(|| CommitIdentity {
            name: FALLBACK_IDENTITY.0.to_owned(),
            email: FALLBACK_IDENTITY.1.to_owned(),
        });
    gix::actor::Signature {
        name: BString::from(identity.name.as_str()),
        email: BString::from(identity.email.as_str()),
        time: gix::date::Time { seconds, offset: 0 },
    }
}
