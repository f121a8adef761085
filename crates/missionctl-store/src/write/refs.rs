//! Ref updates: always `git update-ref <name> <new> <old>`, a compare-and-swap that runs the
//! `reference-transaction` hook like any git ref update, journalled before it runs with the
//! lock files git creates meanwhile (`<ref>.lock` holding the new value, and `HEAD.lock` when
//! the checkout's `HEAD` names the ref), so recovery can prove they are the transaction's.

use std::path::{Path, PathBuf};

use gix::ObjectId;

use super::journal::Record;
use super::{Core, WriteError, failpoint, index};
use crate::git::GitError;

/// The all-zero object id `git update-ref` takes for "the ref must not exist".
pub(crate) const NO_COMMIT: &str = "0000000000000000000000000000000000000000";

/// Why a ref update did not happen.
#[derive(Debug)]
pub(crate) enum RefUpdateError {
    /// The ref does not hold the expected old value (someone else moved it).
    Moved,
    /// git's lock file of the ref (or of `HEAD`) exists: another git process holds it.
    Locked(PathBuf),
    /// The `reference-transaction` hook refused the update.
    Hook(GitError),
    /// Anything else.
    Other(WriteError),
}

impl From<WriteError> for RefUpdateError {
    fn from(error: WriteError) -> RefUpdateError {
        RefUpdateError::Other(error)
    }
}

/// One ref update.
#[derive(Debug, Clone)]
pub(crate) struct RefUpdate<'a> {
    /// The full ref name (`refs/heads/<branch>`).
    pub(crate) name: &'a str,
    /// The value it must hold (`None`: it must not exist).
    pub(crate) old: Option<ObjectId>,
    /// The value it gets (`None`: it is deleted).
    pub(crate) new: Option<ObjectId>,
    /// The reflog message.
    pub(crate) message: &'a str,
    /// Whether this update is the transaction's commit point.
    pub(crate) point: bool,
}

/// Returns the lock files `git update-ref` creates for `name` when run in `cwd`.
pub(crate) fn lock_files(
    common_dir: &Path,
    cwd_git_dir: &Path,
    name: &str,
    delete: bool,
) -> Vec<PathBuf> {
    let mut locks = vec![common_dir.join(format!("{name}.lock"))];
    if index::head_branch(cwd_git_dir).is_some_and(|branch| format!("refs/heads/{branch}") == name)
    {
        locks.push(cwd_git_dir.join("HEAD.lock"));
    }
    if delete {
        locks.push(common_dir.join("packed-refs.lock"));
    }
    locks
}

/// Runs the update in `cwd` (the checkout that has the branch checked out, so `HEAD`'s reflog
/// is written as for a commit), after journalling it.
pub(crate) fn update(
    core: &mut Core,
    common_dir: &Path,
    cwd: &Path,
    update: &RefUpdate<'_>,
) -> Result<(), RefUpdateError> {
    let cwd_git_dir = index::git_dir_of(cwd).map_err(WriteError::from)?;
    let locks = lock_files(common_dir, &cwd_git_dir, update.name, update.new.is_none());
    core.record(Record::Ref {
        name: update.name.to_owned(),
        old: update.old.map(|id| id.to_string()),
        new: update.new.map(|id| id.to_string()),
        locks,
        at_ms: super::now_ms(),
        point: update.point,
        recovery: core.recovering,
    })
    .map_err(WriteError::from)?;
    let old = update
        .old
        .map_or_else(|| NO_COMMIT.to_owned(), |id| id.to_string());
    let args: Vec<String> = match update.new {
        Some(new) => vec![
            "update-ref".into(),
            "-m".into(),
            update.message.into(),
            update.name.into(),
            new.to_string(),
            old,
        ],
        None => vec![
            "update-ref".into(),
            "-m".into(),
            update.message.into(),
            "-d".into(),
            update.name.into(),
            old,
        ],
    };
    match core.git(cwd, &args, None) {
        Ok(_) => {
            failpoint::hit("ref-updated");
            Ok(())
        }
        Err(error) => Err(classify(error)),
    }
}

/// True when git's message says the `reference-transaction` hook refused its ref updates.
pub(crate) fn hook_refused(stderr: &str) -> bool {
    stderr.contains("aborted by hook") || stderr.contains("reference-transaction hook")
}

/// Sorts a failed `git update-ref` by its message (git runs with `LC_ALL=C`).
fn classify(error: WriteError) -> RefUpdateError {
    let git_error = match error {
        WriteError::Git(git_error) => git_error,
        // The door's git found the hook's refusal; the caller names the ref.
        WriteError::HookRejected { source, .. } => return RefUpdateError::Hook(source),
        other => return RefUpdateError::Other(other),
    };
    let GitError::Failed { stderr, .. } = &git_error else {
        return RefUpdateError::Other(WriteError::Git(git_error));
    };
    let text = stderr.0.as_str();
    if let Some(path) = locked_path(text) {
        return RefUpdateError::Locked(path);
    }
    if text.contains("but expected")
        || text.contains("reference already exists")
        || text.contains("unable to resolve reference")
    {
        return RefUpdateError::Moved;
    }
    RefUpdateError::Other(WriteError::Git(git_error))
}

/// Returns the lock file named by git's "Unable to create '<path>': File exists".
pub(crate) fn locked_path(text: &str) -> Option<PathBuf> {
    let start = text.find("Unable to create '")? + "Unable to create '".len();
    let rest = &text[start..];
    let end = rest.find("': File exists")?;
    Some(PathBuf::from(&rest[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_is_read_from_gits_message() {
        let text = "fatal: update_ref failed for ref 'refs/heads/feat': cannot lock ref \
                    'HEAD': Unable to create '/r/.git/HEAD.lock': File exists.\n\nAnother git";
        assert_eq!(locked_path(text), Some(PathBuf::from("/r/.git/HEAD.lock")));
        assert_eq!(locked_path("is at a but expected b"), None);
    }
}
