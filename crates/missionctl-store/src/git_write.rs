//! Writing to git without disturbing the user: objects and compare-and-swap ref updates in
//! process (gix), the index of the primary checkout through the git binary, and a journal that
//! undoes every step of a multi-step write.
//!
//! A commit is built from the branch's tip tree plus the new files (never from the user's
//! index, so whatever else the user has staged stays staged and out of the commit); the branch
//! is moved with a compare-and-swap on its previous value, so a concurrent commit makes the
//! write fail instead of being lost.
//!
//! The index is updated with `git update-index --add -- <paths>` (through [`crate::git::git`]),
//! not with gix: git rewrites the index under its own lock and keeps every extension it
//! carries (split index, untracked cache, fsmonitor data), which gix's index writer does not
//! all preserve. It runs only on the write path of `mission create`, never on a read.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::BString;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

use crate::fs_util::{self, PathError};
use crate::git::{GitError, git};

/// Who a commit is by: the author and committer name and email.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitIdentity {
    /// The name.
    pub name: String,
    /// The email address.
    pub email: String,
}

/// A git write that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitWriteError {
    /// gix could not write an object or a ref.
    #[error("Cannot {action}: {source}")]
    Gix {
        /// What was being written.
        action: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// The git binary failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl GitWriteError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            GitWriteError::Gix { .. } => "GIT_WRITE_FAILED",
            GitWriteError::Git(error) => error.code(),
            GitWriteError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            GitWriteError::Gix { .. } => {
                "Another git process may hold a lock (`*.lock` under `.git/`) or have moved the \
                 branch meanwhile; retry once it is done"
                    .to_owned()
            }
            GitWriteError::Git(error) => error.hint(),
            GitWriteError::Io(error) => error.hint(),
        }
    }
}

fn gix_failed(action: impl Into<String>) -> impl FnOnce(gix::Error) -> GitWriteError {
    let action = action.into();
    move |source| GitWriteError::Gix { action, source }
}

/// Returns a signature for `identity` at `seconds` since the epoch, in UTC.
pub(crate) fn signature(identity: &CommitIdentity, seconds: i64) -> gix::actor::Signature {
    gix::actor::Signature {
        name: BString::from(identity.name.as_str()),
        email: BString::from(identity.email.as_str()),
        time: gix::date::Time { seconds, offset: 0 },
    }
}

/// Returns the full ref name of a branch.
pub(crate) fn branch_ref(branch: &str) -> Result<FullName, GitWriteError> {
    FullName::try_from(format!("refs/heads/{branch}")).map_err(|error| GitWriteError::Gix {
        action: format!("name branch `{branch}`"),
        source: gix::Error::from_error(error),
    })
}

/// Writes the blobs of `files` (repository-relative paths) and returns the tree of `base_tree`
/// with them added.
pub(crate) fn tree_with_files(
    repo: &gix::Repository,
    base_tree: ObjectId,
    files: &[(String, Vec<u8>)],
) -> Result<ObjectId, GitWriteError> {
    let mut editor = repo
        .edit_tree(base_tree)
        .map_err(gix_failed("read the branch's tree"))?;
    for (path, bytes) in files {
        let blob = repo
            .write_blob(bytes)
            .map_err(gix_failed(format!("write the object of `{path}`")))?;
        editor
            .upsert(
                path.as_str(),
                gix::object::tree::EntryKind::Blob,
                blob.detach(),
            )
            .map_err(gix_failed(format!("add `{path}` to the tree")))?;
    }
    Ok(editor
        .write()
        .map_err(gix_failed("write the tree"))?
        .detach())
}

/// Writes a commit object and returns its id; no ref moves.
pub(crate) fn write_commit(
    repo: &gix::Repository,
    tree: ObjectId,
    parent: ObjectId,
    message: &str,
    signature: &gix::actor::Signature,
) -> Result<ObjectId, GitWriteError> {
    let commit = gix::objs::Commit {
        tree,
        parents: std::iter::once(parent).collect(),
        author: signature.clone(),
        committer: signature.clone(),
        encoding: None,
        message: BString::from(message),
        extra_headers: Vec::new(),
    };
    Ok(repo
        .write_object(&commit)
        .map_err(gix_failed("write the commit"))?
        .detach())
}

/// Points `name` at `new` if it currently holds `expected` (`None`: it must not exist), and
/// writes a reflog entry. Fails without changing anything when the ref moved or its lock is
/// held.
pub(crate) fn swap_ref(
    repo: &gix::Repository,
    name: &FullName,
    expected: Option<ObjectId>,
    new: ObjectId,
    message: &str,
    signature: &gix::actor::Signature,
) -> Result<(), GitWriteError> {
    let expected = match expected {
        Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
        None => PreviousValue::MustNotExist,
    };
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: BString::from(message),
            },
            expected,
            new: Target::Object(new),
        },
        name: name.clone(),
        deref: false,
    };
    let mut time = gix::date::parse::TimeBuf::default();
    repo.edit_references_as(Some(edit), Some(signature.to_ref(&mut time)))
        .map_err(gix_failed(format!("update `{}`", name.as_bstr())))?;
    Ok(())
}

/// Deletes `name` (and its reflog) if it currently holds `expected`.
pub(crate) fn delete_ref(
    repo: &gix::Repository,
    name: &FullName,
    expected: ObjectId,
) -> Result<(), GitWriteError> {
    let edit = RefEdit {
        change: Change::Delete {
            expected: PreviousValue::MustExistAndMatch(Target::Object(expected)),
            log: RefLog::AndReference,
        },
        name: name.clone(),
        deref: false,
    };
    repo.edit_references_as(Some(edit), None)
        .map_err(gix_failed(format!("delete `{}`", name.as_bstr())))?;
    Ok(())
}

/// Adds the working-tree files at `paths` (relative to `worktree`) to its index, leaving every
/// other entry as it is.
pub(crate) fn add_to_index(worktree: &Path, paths: &[String]) -> Result<(), GitWriteError> {
    let mut args = vec!["update-index", "--add", "--"];
    args.extend(paths.iter().map(String::as_str));
    git(worktree, args)?;
    Ok(())
}

/// One step of a multi-step write, and how to undo it.
#[derive(Debug)]
enum Undo {
    /// A directory that did not exist before.
    RemoveDir(PathBuf),
    /// A ref moved from `previous` (or created, when `None`) to `current`.
    RestoreRef {
        name: FullName,
        current: ObjectId,
        previous: Option<ObjectId>,
    },
    /// A file whose previous bytes were `previous` (`None`: it did not exist).
    RestoreFile {
        path: PathBuf,
        previous: Option<Vec<u8>>,
    },
}

/// The steps of a write so far, undone in reverse order when a later step fails.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    steps: Vec<Undo>,
}

impl Journal {
    /// Records a directory the write created.
    pub(crate) fn created_dir(&mut self, path: PathBuf) {
        self.steps.push(Undo::RemoveDir(path));
    }

    /// Records a ref the write moved (or created, when `previous` is `None`).
    pub(crate) fn moved_ref(
        &mut self,
        name: FullName,
        previous: Option<ObjectId>,
        current: ObjectId,
    ) {
        self.steps.push(Undo::RestoreRef {
            name,
            current,
            previous,
        });
    }

    /// Records a file the write is about to change, with its current bytes.
    pub(crate) fn will_change_file(&mut self, path: PathBuf) -> Result<(), PathError> {
        let previous = fs_util::read_optional(&path)?;
        self.steps.push(Undo::RestoreFile { path, previous });
        Ok(())
    }

    /// Undoes every recorded step, newest first, and returns what could not be undone (empty
    /// when the repository is back to its state before the write).
    pub(crate) fn roll_back(
        self,
        repo: &gix::Repository,
        signature: &gix::actor::Signature,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for step in self.steps.into_iter().rev() {
            let outcome = match &step {
                Undo::RemoveDir(path) => std::fs::remove_dir_all(path)
                    .or_else(|error| match error.kind() {
                        std::io::ErrorKind::NotFound => Ok(()),
                        _ => Err(error),
                    })
                    .map_err(|error| format!("remove `{}`: {error}", path.display())),
                Undo::RestoreRef {
                    name,
                    current,
                    previous: Some(previous),
                } => swap_ref(
                    repo,
                    name,
                    Some(*current),
                    *previous,
                    "missionctl: roll back",
                    signature,
                )
                .map_err(|error| format!("restore `{}` to {previous}: {error}", name.as_bstr())),
                Undo::RestoreRef {
                    name,
                    current,
                    previous: None,
                } => delete_ref(repo, name, *current)
                    .map_err(|error| format!("delete `{}`: {error}", name.as_bstr())),
                Undo::RestoreFile {
                    path,
                    previous: Some(bytes),
                } => fs_util::atomic_write(path, bytes).map_err(|error| error.to_string()),
                Undo::RestoreFile {
                    path,
                    previous: None,
                } => std::fs::remove_file(path)
                    .or_else(|error| match error.kind() {
                        std::io::ErrorKind::NotFound => Ok(()),
                        _ => Err(error),
                    })
                    .map_err(|error| format!("remove `{}`: {error}", path.display())),
            };
            if let Err(problem) = outcome {
                problems.push(problem);
            }
        }
        problems
    }
}
