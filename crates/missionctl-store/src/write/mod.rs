//! The write door: every write missionctl makes to a repository is one [`WriteTransaction`].
//!
//! A transaction
//!
//! 1. takes the lock of its [`Scope`] — the mission's Spec Kitty status lock for a mission's
//!    files and branches, the runtime lock for `.kittify/runtime/`, missionctl's repository
//!    lock for what creates missions or changes the repository's configuration;
//! 2. recovers first what a killed writer left: its scope's journal, and the journal of any
//!    other scope whose lock is free (see [`recovery`](self));
//! 3. journals every step before it runs (`<git-common-dir>/missionctl/journal/<scope>.jsonl`,
//!    the first record flushed to disk before anything changes): file writes with their bytes
//!    before, directories, the index entries it changes, ref updates with the lock files git
//!    creates meanwhile, worktrees, configuration values;
//! 4. commits through git plumbing: objects written in process, the index changed under git's
//!    own `index.lock` protocol for exactly the paths written, the branch moved last by
//!    `git update-ref <new> <old>` (a compare-and-swap that runs the `reference-transaction`
//!    hook), retrying with jitter while another git process holds a lock or moved the branch;
//! 5. on failure, or when dropped unfinished, undoes exactly what it did, newest first, each
//!    step only if what it wrote is still there.
//!
//! A killed transaction is settled by the next writer under the same lock: completed when its
//! commit point (the last ref update it declared as such) holds, otherwise undone. See
//! `docs/adr/0009-one-write-door.md`.

mod commit;
mod failpoint;
mod index;
mod journal;
mod leftovers;
mod lock;
mod recovery;
mod refs;
mod retry;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gix::ObjectId;
use serde::Serialize;

pub(crate) use commit::write_commit_object;
pub use commit::{CommitFiles, CommitIdentity, CommitOutcome, CommitRequest};
pub(crate) use commit::{entry_kind, tree_of_commit};
pub use failpoint::{FAILPOINT_EXIT_CODE, FAILPOINTS, set_failpoints};
pub use leftovers::{
    GIT_LOCK_STALE_AFTER, GitLockFile, JournalLeftover, Leftovers, TEMP_FILE_STALE_AFTER,
    TempLeftover, leftovers,
};
pub use recovery::{Recovered, recover_all};

pub(crate) use index::git_dir_of;
use journal::{After, Before, JournalFile, Record};
use lock::{LockError, ScopeLock};

use crate::fs_util::{IoResultExt, PathError};
use crate::git::{GitError, git_with_index};
use crate::repo::Repo;

/// How long a transaction waits for another writer's lock before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The directory under git's common directory where missionctl keeps its own files.
pub(crate) const MISSIONCTL_DIR: &str = "missionctl";

/// Bytes of a file's previous content up to which the journal holds them inline; a larger
/// file's previous content is written to the object database and named by its blob id.
const INLINE_LIMIT: usize = 1 << 20;

/// What a transaction writes, which decides the lock it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "mission", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// One mission's files and branches: Spec Kitty's status lock,
    /// `<git-common-dir>/spec-kitty-locks/<slug>.status.lock`, shared with Spec Kitty.
    Mission(String),
    /// The mission runs under `.kittify/runtime/`: `feature-runs.lock` there, as Spec Kitty's.
    Runtime,
    /// What creates missions or changes the repository's configuration:
    /// `<git-common-dir>/missionctl/repository.lock`.
    Repository,
}

impl Scope {
    /// Returns the scope's name in journal file names (`mission-<slug>`, `runtime`,
    /// `repository`).
    pub fn key(&self) -> String {
        match self {
            Scope::Mission(slug) => format!("mission-{slug}"),
            Scope::Runtime => "runtime".to_owned(),
            Scope::Repository => "repository".to_owned(),
        }
    }

    /// Returns the scope a journal file name's stem names (the inverse of [`Scope::key`]).
    pub fn from_key(key: &str) -> Option<Scope> {
        match key {
            "runtime" => Some(Scope::Runtime),
            "repository" => Some(Scope::Repository),
            _ => key
                .strip_prefix("mission-")
                .filter(|slug| !slug.is_empty())
                .map(|slug| Scope::Mission(slug.to_owned())),
        }
    }

    /// Returns the lock file the scope's transactions hold.
    pub fn lock_path(&self, repo: &Repo) -> PathBuf {
        match self {
            Scope::Mission(slug) => repo
                .common_dir()
                .join("spec-kitty-locks")
                .join(format!("{slug}.status.lock")),
            Scope::Runtime => repo
                .primary_root()
                .join(".kittify")
                .join("runtime")
                .join("feature-runs.lock"),
            Scope::Repository => repo
                .common_dir()
                .join(MISSIONCTL_DIR)
                .join("repository.lock"),
        }
    }

    /// Returns the code of a lock timeout in this scope.
    fn lock_timeout_code(&self) -> &'static str {
        match self {
            Scope::Mission(_) => "BOOKKEEPING_LOCK_TIMEOUT",
            Scope::Runtime => "RUNTIME_LOCK_TIMEOUT",
            Scope::Repository => "REPOSITORY_LOCK_TIMEOUT",
        }
    }
}

/// Returns the directory of the journals.
pub(crate) fn journal_dir(repo: &Repo) -> PathBuf {
    repo.common_dir().join(MISSIONCTL_DIR).join("journal")
}

/// Returns the journal of a scope.
pub(crate) fn journal_path(repo: &Repo, scope: &Scope) -> PathBuf {
    journal_dir(repo).join(format!("{}.jsonl", scope.key()))
}

/// Returns the wall-clock time in milliseconds since the epoch: journal stamps and the ages of
/// lock files (infrastructure times, not domain ones; those come from [`crate::clock`]).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Returns a new transaction id: 16 hex digits from the process id and the time.
fn new_txn_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{mixed:016x}")
}

/// Why a write could not be made. Whatever the variant, the transaction's changes were undone,
/// except for [`WriteError::RollbackIncomplete`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Another writer held the scope's lock for longer than the timeout.
    #[error("Timed out after {waited:?} acquiring the lock `{}`", path.display())]
    LockTimeout {
        /// The scope.
        scope: Scope,
        /// The lock file.
        path: PathBuf,
        /// How long the write waited.
        waited: Duration,
    },
    /// A lock file of git (`index.lock`, `<ref>.lock`, `HEAD.lock`) stayed held by another
    /// process for longer than the write's patience.
    #[error(
        "`{}` is held by another git process{}",
        path.display(),
        age.map_or_else(String::new, |age| format!(" (it is {} s old)", age.as_secs()))
    )]
    GitLockBusy {
        /// The lock file.
        path: PathBuf,
        /// How old it was when the write gave up.
        age: Option<Duration>,
    },
    /// The branch kept moving while the write tried to commit on it.
    #[error("`{branch}` kept moving while this write tried to commit on it")]
    BranchMoved {
        /// The branch.
        branch: String,
    },
    /// A `reference-transaction` hook refused a ref update.
    #[error("A `reference-transaction` hook refused the update of `{name}`")]
    HookRejected {
        /// The ref.
        name: String,
        /// What git reported.
        #[source]
        source: GitError,
    },
    /// The branch a commit goes to is not checked out where its files are written.
    #[error(
        "`{branch}` is not checked out in `{}` (it has {})",
        worktree.display(),
        checked_out.as_deref().map_or_else(|| "a detached HEAD".to_owned(), |b| format!("`{b}`"))
    )]
    NotCheckedOut {
        /// The checkout.
        worktree: PathBuf,
        /// The branch.
        branch: String,
        /// What is checked out instead.
        checked_out: Option<String>,
    },
    /// Moving a checkout to a new tree would overwrite local changes, or untracked files, at
    /// these paths (git refused; nothing changed).
    #[error(
        "Moving `{}` to the new commit would overwrite local changes to {}",
        worktree.display(),
        paths.iter().map(|path| format!("`{path}`")).collect::<Vec<_>>().join(", ")
    )]
    WouldOverwrite {
        /// The checkout.
        worktree: PathBuf,
        /// The paths with local changes or untracked files in the way.
        paths: Vec<String>,
    },
    /// A file the write creates already exists.
    #[error("`{}` already exists", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// A leftover journal of an earlier writer could not be settled, so this scope takes no
    /// write until it is.
    #[error("An interrupted write to `{scope}` could not be settled: {}", problems.join("; "))]
    RecoveryIncomplete {
        /// The scope's key.
        scope: String,
        /// What is left.
        problems: Vec<String>,
    },
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// An object could not be written or read (an object database that is read-only, full or
    /// damaged).
    #[error("Cannot {action}: {source}")]
    Objects {
        /// What was being done.
        action: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The write failed and not everything could be undone.
    #[error("{cause}; and the rollback is incomplete: {}", problems.join("; "))]
    RollbackIncomplete {
        /// Why the write failed.
        #[source]
        cause: Box<WriteError>,
        /// What could not be undone.
        problems: Vec<String>,
    },
}

impl WriteError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::LockTimeout { scope, .. } => scope.lock_timeout_code(),
            WriteError::GitLockBusy { .. } => "GIT_LOCK_BUSY",
            WriteError::BranchMoved { .. } => "BRANCH_MOVED_CONCURRENTLY",
            WriteError::HookRejected { .. } => "GIT_HOOK_REJECTED",
            WriteError::NotCheckedOut { .. } => "DESTINATION_REF_NOT_CHECKED_OUT",
            WriteError::WouldOverwrite { .. } => "CHECKOUT_NOT_CLEAN",
            WriteError::Exists { .. } => "ALREADY_EXISTS",
            WriteError::RecoveryIncomplete { .. } => "WRITE_RECOVERY_INCOMPLETE",
            WriteError::Git(error) => error.code(),
            WriteError::Objects { .. } => "GIT_WRITE_FAILED",
            WriteError::Io(error) => error.code(),
            WriteError::RollbackIncomplete { .. } => "ROLLBACK_INCOMPLETE",
        }
    }

    /// Returns true when running the same command again may succeed without changing
    /// anything: a lock held, or a branch moved, by another process.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            WriteError::LockTimeout { .. }
                | WriteError::GitLockBusy { .. }
                | WriteError::BranchMoved { .. }
        )
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            WriteError::LockTimeout { .. } => {
                "Another writer holds the lock; retry when it is done".to_owned()
            }
            WriteError::GitLockBusy { path, .. } => format!(
                "Retry the command. If no git process is running in this repository, the lock \
                 is stale: remove it with `rm -f '{}'`",
                path.display()
            ),
            WriteError::BranchMoved { .. } => {
                "Another process kept committing on the branch; retry the command".to_owned()
            }
            WriteError::HookRejected { .. } => {
                "Look at the repository's `reference-transaction` hook (`core.hooksPath` or \
                 `.git/hooks/`): it refused the update; nothing was changed"
                    .to_owned()
            }
            WriteError::NotCheckedOut {
                worktree, branch, ..
            } => format!("Check out `{branch}` in `{}` and retry", worktree.display()),
            WriteError::WouldOverwrite { worktree, .. } => format!(
                "Commit or stash the changes to those paths in `{}` (or move the untracked \
                 files away), then retry; nothing was changed",
                worktree.display()
            ),
            WriteError::Exists { .. } => {
                "Pick another name, or look at the existing file".to_owned()
            }
            WriteError::RecoveryIncomplete { .. } => {
                "Fix what is listed, then run `missionctl doctor --fix`".to_owned()
            }
            WriteError::Git(error) => error.hint(),
            WriteError::Objects { .. } => {
                "Check that git's object database (`.git/objects`) is writable and the disk is \
                 not full; nothing was changed"
                    .to_owned()
            }
            WriteError::Io(error) => error.hint(),
            WriteError::RollbackIncomplete { .. } => {
                "Run `missionctl doctor` to see what is left, and `missionctl doctor --fix` to \
                 settle it"
                    .to_owned()
            }
        }
    }

    /// Returns the error for a git lock file found held when the patience ran out.
    pub(crate) fn git_lock_busy(path: &Path) -> WriteError {
        WriteError::GitLockBusy {
            path: path.to_path_buf(),
            age: lock_age(path),
        }
    }
}

/// Returns how long ago a file was last modified.
pub(crate) fn lock_age(path: &Path) -> Option<Duration> {
    std::fs::symlink_metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
}

/// Returns the error of a gix failure.
pub(crate) fn objects_failed(action: impl Into<String>) -> impl FnOnce(gix::Error) -> WriteError {
    let action = action.into();
    move |source| WriteError::Objects { action, source }
}

/// What a transaction holds and has journalled.
#[derive(Debug)]
pub(crate) struct Core {
    /// The transaction id.
    pub(crate) txn: String,
    lock: ScopeLock,
    journal_path: PathBuf,
    journal: Option<JournalFile>,
    /// The first record, written with the first step.
    begin: Option<Record>,
    /// The steps journalled so far (recovery's own records excluded).
    pub(crate) records: Vec<Record>,
    /// True while settling a leftover journal: records are marked as recovery's own.
    pub(crate) recovering: bool,
    sequence: u32,
}

impl Core {
    /// Journals a step before it runs: the first one creates the journal (flushed).
    pub(crate) fn record(&mut self, record: Record) -> Result<(), PathError> {
        match &mut self.journal {
            Some(journal) => journal.append(&record)?,
            None => {
                let mut records: Vec<Record> = self.begin.take().into_iter().collect();
                records.push(record.clone());
                self.journal = Some(JournalFile::create(&self.journal_path, &records)?);
                failpoint::hit("journal");
            }
        }
        if !record.is_recovery() {
            self.records.push(record);
        }
        Ok(())
    }

    /// Marks the step at `index` of [`Core::records`] as not having happened.
    fn void_last(&mut self) {
        if let Some(record) = self.records.pop() {
            let _ = match &mut self.journal {
                Some(journal) => journal.append(&Record::Void {
                    voided: Box::new(record),
                }),
                None => Ok(()),
            };
        }
    }

    /// Returns a new number, unique within the transaction (temporary file names).
    pub(crate) fn next_sequence(&mut self) -> u32 {
        self.sequence += 1;
        self.sequence
    }

    /// Runs git in `dir` holding the lock in the child too (see [`lock`]); its failure is
    /// [`door_git_error`]'s.
    pub(crate) fn git<S: AsRef<std::ffi::OsStr>>(
        &self,
        dir: &Path,
        args: &[S],
        index_file: Option<&Path>,
    ) -> Result<Output, WriteError> {
        let stdin = self.lock.share()?;
        git_with_index(dir, args, stdin, index_file).map_err(|error| door_git_error(args, error))
    }

    /// Runs git like [`Core::git`], retrying while git reports one of its lock files held by
    /// another process (`Unable to create '….lock': File exists`), then failing with
    /// [`WriteError::GitLockBusy`].
    pub(crate) fn git_retrying<S: AsRef<std::ffi::OsStr>>(
        &self,
        dir: &Path,
        args: &[S],
    ) -> Result<Output, WriteError> {
        let mut backoff = retry::Backoff::new(retry::GIT_LOCK_PATIENCE);
        loop {
            match self.git(dir, args, None) {
                Err(WriteError::Git(GitError::Failed { stderr, .. }))
                    if refs::locked_path(&stderr.0).is_some() =>
                {
                    let path = refs::locked_path(&stderr.0).unwrap_or_default();
                    if !retry::wait_for_lock(&mut backoff, &path) {
                        return Err(WriteError::git_lock_busy(&path));
                    }
                }
                outcome => return outcome,
            }
        }
    }

    /// Returns the prefix of the temporary files the transaction creates next to the files
    /// it replaces.
    pub(crate) fn temp_prefix(&self) -> String {
        format!(".missionctl-{}-", self.txn)
    }
}

/// A branch moved to a commit made elsewhere: see [`WriteTransaction::advance_branch`].
#[derive(Debug, Clone, Copy)]
pub struct AdvanceRequest<'a> {
    /// The short branch name.
    pub branch: &'a str,
    /// The commit it must hold now.
    pub old: ObjectId,
    /// The commit it moves to.
    pub new: ObjectId,
    /// The checkout that has the branch checked out, if any; its index and files follow.
    pub checkout: Option<&'a Path>,
    /// The reflog message.
    pub message: &'a str,
    /// Whether this update is the transaction's commit point.
    pub point: bool,
}

/// How [`WriteTransaction::write_file_with`] replaces a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileWrite {
    /// `fsync` the new bytes before the rename (off for files derived from others, such as
    /// `status.json`, rewritten from the log when lost).
    pub flush: bool,
    /// `fsync` the directory after the rename (off when the caller flushes it once for
    /// several files with [`WriteTransaction::sync_dir`]).
    pub sync_dir: bool,
}

impl FileWrite {
    /// Flush the bytes and the directory.
    pub const DURABLE: FileWrite = FileWrite {
        flush: true,
        sync_dir: true,
    };
}

/// The door's error for a failed git command: a ref update the `reference-transaction` hook
/// refused (`git worktree add` setting a new worktree's `HEAD`…) is
/// [`WriteError::HookRejected`], as for the door's own ref updates; anything else is
/// [`WriteError::Git`].
fn door_git_error<S: AsRef<std::ffi::OsStr>>(args: &[S], error: GitError) -> WriteError {
    let refused =
        matches!(&error, GitError::Failed { stderr, .. } if refs::hook_refused(&stderr.0));
    if !refused {
        return WriteError::Git(error);
    }
    let command: Vec<String> = args
        .iter()
        .take(2)
        .map(|arg| arg.as_ref().to_string_lossy().into_owned())
        .collect();
    WriteError::HookRejected {
        name: format!("the refs `git {}` updates", command.join(" ")),
        source: error,
    }
}

/// One write to a repository: see the [module](self) documentation.
///
/// Dropping a transaction that was not [finished](WriteTransaction::finish) undoes it.
#[derive(Debug)]
pub struct WriteTransaction {
    repo: Repo,
    gix: gix::Repository,
    scope: Scope,
    core: Core,
    recovered: Vec<Recovered>,
    /// The locks of other scopes the transaction also holds ([`WriteTransaction::hold`]).
    held: Vec<ScopeLock>,
    finished: bool,
}

impl WriteTransaction {
    /// Takes the scope's lock (waiting at most [`LOCK_TIMEOUT`]), settles what killed writers
    /// left, and opens a transaction. `operation` names the command in the journal.
    pub fn begin(
        repo: &Repo,
        scope: Scope,
        operation: &str,
    ) -> Result<WriteTransaction, WriteError> {
        WriteTransaction::begin_with_timeout(repo, scope, operation, LOCK_TIMEOUT)
    }

    /// Like [`WriteTransaction::begin`], waiting at most `timeout` for the lock.
    pub fn begin_with_timeout(
        repo: &Repo,
        scope: Scope,
        operation: &str,
        timeout: Duration,
    ) -> Result<WriteTransaction, WriteError> {
        let lock_path = scope.lock_path(repo);
        let lock = match ScopeLock::acquire(repo.containment(), &lock_path, timeout) {
            Ok(lock) => lock,
            Err(LockError::Timeout) => {
                return Err(WriteError::LockTimeout {
                    scope,
                    path: lock_path,
                    waited: timeout,
                });
            }
            Err(LockError::Io(error)) => return Err(error.into()),
        };
        let journal_path = journal_path(repo, &scope);
        let (lock, mut recovered) = recovery::settle_own(repo, lock, &journal_path, &scope)?;
        recovered.extend(recovery::settle_others(repo, &journal_path));
        let txn = new_txn_id();
        let begin = Record::Begin {
            version: journal::JOURNAL_VERSION,
            txn: txn.clone(),
            scope: scope.key(),
            lock: lock_path,
            pid: std::process::id(),
            operation: operation.to_owned(),
            at_ms: now_ms(),
        };
        Ok(WriteTransaction {
            repo: repo.clone(),
            gix: repo.gix(),
            scope,
            core: Core {
                txn,
                lock,
                journal_path,
                journal: None,
                begin: Some(begin),
                records: Vec::new(),
                recovering: false,
                sequence: 0,
            },
            recovered,
            held: Vec::new(),
            finished: false,
        })
    }

    /// Takes the lock of another scope too, for the rest of the transaction (a write that
    /// changes the files of several missions at once: `sync` of a branch that carries them),
    /// and settles that scope's journal first. Callers take extra scopes in one order (sorted),
    /// so two such writers never wait for each other in a circle.
    pub fn hold(&mut self, scope: &Scope) -> Result<(), WriteError> {
        if *scope == self.scope {
            return Ok(());
        }
        let lock_path = scope.lock_path(&self.repo);
        let lock = match ScopeLock::acquire(self.repo.containment(), &lock_path, LOCK_TIMEOUT) {
            Ok(lock) => lock,
            Err(LockError::Timeout) => {
                return Err(WriteError::LockTimeout {
                    scope: scope.clone(),
                    path: lock_path,
                    waited: LOCK_TIMEOUT,
                });
            }
            Err(LockError::Io(error)) => return Err(error.into()),
        };
        let journal_path = journal_path(&self.repo, scope);
        let (lock, recovered) = recovery::settle_own(&self.repo, lock, &journal_path, scope)?;
        self.recovered.extend(recovered);
        self.held.push(lock);
        Ok(())
    }

    /// Returns the transaction's scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Returns the repository.
    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// Returns what opening the transaction settled of earlier, killed writers.
    pub fn recovered(&self) -> &[Recovered] {
        &self.recovered
    }

    pub(crate) fn gix(&self) -> &gix::Repository {
        &self.gix
    }

    /// Replaces (or creates) a file atomically — temporary file in the same directory,
    /// flushed, renamed over it, directory flushed — journalling its previous content first.
    pub fn write_file(&mut self, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        self.write_file_with(path, bytes, FileWrite::DURABLE)
    }

    /// Like [`WriteTransaction::write_file`], with the flushes chosen by `how`.
    pub fn write_file_with(
        &mut self,
        path: &Path,
        bytes: &[u8],
        how: FileWrite,
    ) -> Result<(), WriteError> {
        self.repo.containment().check_parent(path)?;
        let previous = crate::fs_util::read_optional(path)?;
        let (before, after) = self.describe_change(previous.as_deref(), Some(bytes))?;
        self.core.record(Record::File {
            path: path.to_path_buf(),
            before,
            after,
        })?;
        let prefix = self.core.temp_prefix();
        crate::fs_util::replace_file(path, bytes, &prefix, how.flush)?;
        if how.sync_dir {
            crate::fs_util::sync_dir(parent_of(path))?;
        }
        failpoint::hit("file");
        Ok(())
    }

    /// Creates a file that must not exist ([`WriteError::Exists`] otherwise, and nothing is
    /// written): the bytes are flushed in a temporary file that is then linked into place only
    /// if the name is free.
    pub fn create_file(&mut self, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        use std::io::Write as _;
        self.repo.containment().check_parent(path)?;
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(WriteError::Exists {
                path: path.to_path_buf(),
            });
        }
        let (before, after) = self.describe_change(None, Some(bytes))?;
        self.core.record(Record::File {
            path: path.to_path_buf(),
            before,
            after,
        })?;
        let dir = parent_of(path);
        let mut temp = tempfile::Builder::new()
            .prefix(&self.core.temp_prefix())
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_path("Cannot create a temporary file in", dir)?;
        temp.write_all(bytes)
            .with_path("Cannot write", temp.path())?;
        temp.as_file()
            .sync_all()
            .with_path("Cannot flush", temp.path())?;
        if let Err(error) = temp.persist_noclobber(path) {
            if error.error.kind() == std::io::ErrorKind::AlreadyExists {
                self.core.void_last();
                return Err(WriteError::Exists {
                    path: path.to_path_buf(),
                });
            }
            return Err(PathError {
                action: "Cannot create",
                path: path.to_path_buf(),
                source: error.error,
            }
            .into());
        }
        crate::fs_util::sync_dir(dir)?;
        failpoint::hit("file");
        Ok(())
    }

    /// Appends bytes to a file in place (created when missing) and flushes them.
    pub fn append_file(&mut self, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
        use std::io::Write as _;
        if bytes.is_empty() {
            return Ok(());
        }
        self.repo.containment().check_parent(path)?;
        let len = match std::fs::symlink_metadata(path) {
            Ok(metadata) => Some(metadata.len()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(PathError {
                    action: "Cannot read the metadata of",
                    path: path.to_path_buf(),
                    source,
                }
                .into());
            }
        };
        let appended = len.unwrap_or(0);
        let total = appended + bytes.len() as u64;
        self.core.record(Record::File {
            path: path.to_path_buf(),
            before: match len {
                Some(len) => Before::Prefix { len },
                None => Before::Absent,
            },
            after: After::Append {
                len: total,
                tail_from: appended,
                tail_oid: blob_id(bytes)?.to_string(),
            },
        })?;
        let mut file = self.repo.containment().open_append(path)?;
        file.write_all(bytes).with_path("Cannot append to", path)?;
        file.sync_data().with_path("Cannot flush", path)?;
        failpoint::hit("file");
        Ok(())
    }

    /// Removes a file, journalling its content first; a missing file is fine.
    pub fn remove_file(&mut self, path: &Path) -> Result<(), WriteError> {
        self.repo.containment().check_parent(path)?;
        let Some(previous) = crate::fs_util::read_optional(path)? else {
            return Ok(());
        };
        let (before, after) = self.describe_change(Some(&previous), None)?;
        self.core.record(Record::File {
            path: path.to_path_buf(),
            before,
            after,
        })?;
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PathError {
                    action: "Cannot remove",
                    path: path.to_path_buf(),
                    source,
                }
                .into());
            }
        }
        failpoint::hit("file");
        Ok(())
    }

    /// Creates a directory and the missing ones above it, journalling each one it creates.
    pub fn create_dir_all(&mut self, path: &Path) -> Result<(), WriteError> {
        self.repo.containment().check(path)?;
        let missing: Vec<PathBuf> = path
            .ancestors()
            .take_while(|dir| {
                !dir.as_os_str().is_empty() && std::fs::symlink_metadata(dir).is_err()
            })
            .map(Path::to_path_buf)
            .collect();
        for dir in missing.into_iter().rev() {
            self.core.record(Record::Dir { path: dir.clone() })?;
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(PathError {
                        action: "Cannot create the directory",
                        path: dir,
                        source,
                    }
                    .into());
                }
            }
            failpoint::hit("dir");
        }
        Ok(())
    }

    /// Flushes a directory's entries to disk (after renames in it).
    pub fn sync_dir(&self, dir: &Path) -> Result<(), WriteError> {
        Ok(crate::fs_util::sync_dir(dir)?)
    }

    /// Creates `branch` at `commit` (it must not exist), by `git update-ref`.
    pub fn create_branch(
        &mut self,
        branch: &str,
        commit: ObjectId,
        message: &str,
    ) -> Result<(), WriteError> {
        self.move_branch(branch, None, Some(commit), message)
    }

    /// Moves `branch` from `old` to `new` by compare-and-swap (`None`: absent), by
    /// `git update-ref` in the primary checkout, retrying while git's lock file of the ref is
    /// held by another process.
    pub fn move_branch(
        &mut self,
        branch: &str,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        message: &str,
    ) -> Result<(), WriteError> {
        self.move_branch_with(branch, old, new, message, false)
    }

    /// Like [`WriteTransaction::move_branch`]; with `point`, this update is the transaction's
    /// commit point (see [`CommitRequest::point`]): once it holds, recovery completes the
    /// transaction instead of undoing it.
    pub fn move_branch_with(
        &mut self,
        branch: &str,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        message: &str,
        point: bool,
    ) -> Result<(), WriteError> {
        self.move_ref(&format!("refs/heads/{branch}"), old, new, message, point)
    }

    /// Moves any ref (a full name, `refs/...`) from `old` to `new` by compare-and-swap, like
    /// [`WriteTransaction::move_branch_with`].
    pub fn move_ref(
        &mut self,
        name: &str,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        message: &str,
        point: bool,
    ) -> Result<(), WriteError> {
        let root = self.repo.primary_root().to_path_buf();
        let update = refs::RefUpdate {
            name,
            old,
            new,
            message,
            point,
        };
        let short = name.strip_prefix("refs/heads/").unwrap_or(name);
        self.update_ref_with_retry(&root, &update, short)
    }

    /// Returns the commit a ref (a full name) points at now, `None` when it does not exist.
    pub fn ref_target(&self, name: &str) -> Result<Option<ObjectId>, WriteError> {
        commit::read_tip(&self.gix, name)
    }

    /// Moves a branch to a commit made elsewhere (a merge), together with the checkout that
    /// has it checked out, if any: first that checkout's index and working-tree files go from
    /// the old commit's tree to the new one's (`git read-tree -m -u`, under git's `index.lock`
    /// protocol, refused with [`WriteError::WouldOverwrite`] when a path that changes has
    /// local changes), then the branch moves by compare-and-swap. Killed in between, the
    /// files and index entries are put back by recovery; the user's other changes are never
    /// touched.
    pub fn advance_branch(&mut self, request: &AdvanceRequest<'_>) -> Result<(), WriteError> {
        let name = format!("refs/heads/{}", request.branch);
        let cwd = match request.checkout {
            Some(root) => {
                let checkout = index::Checkout::at(root)?;
                let locks =
                    refs::lock_files(self.repo.common_dir(), &checkout.git_dir, &name, false);
                commit::wait_for_ref_locks(&locks)?;
                let old_tree = commit::tree_of(&self.gix, Some(request.old))?;
                let new_tree = commit::tree_of(&self.gix, Some(request.new))?;
                if old_tree != new_tree {
                    let paths = self.changed_paths(root, old_tree, new_tree)?;
                    index::edit_index(
                        &mut self.core,
                        &checkout,
                        Some(request.branch),
                        &index::IndexEdit::ReadTree {
                            old_tree,
                            new_tree,
                            paths: &paths,
                        },
                    )?;
                }
                root.to_path_buf()
            }
            None => self.repo.primary_root().to_path_buf(),
        };
        let update = refs::RefUpdate {
            name: &name,
            old: Some(request.old),
            new: Some(request.new),
            message: request.message,
            point: request.point,
        };
        self.update_ref_with_retry(&cwd, &update, request.branch)
    }

    /// Returns the paths that differ between two trees (`git diff-tree`).
    fn changed_paths(
        &self,
        dir: &Path,
        old_tree: ObjectId,
        new_tree: ObjectId,
    ) -> Result<Vec<String>, WriteError> {
        let output = self.core.git(
            dir,
            &[
                "diff-tree",
                "-r",
                "-z",
                "--name-only",
                "--no-renames",
                &old_tree.to_string(),
                &new_tree.to_string(),
            ],
            None,
        )?;
        Ok(crate::git::nul_separated_paths(&output.stdout))
    }

    /// Runs one ref update, retrying while a git lock file is held.
    pub(crate) fn update_ref_with_retry(
        &mut self,
        cwd: &Path,
        update: &refs::RefUpdate<'_>,
        branch: &str,
    ) -> Result<(), WriteError> {
        let common = self.repo.common_dir().to_path_buf();
        let mut backoff = retry::Backoff::new(retry::GIT_LOCK_PATIENCE);
        loop {
            match refs::update(&mut self.core, &common, cwd, update) {
                Ok(()) => return Ok(()),
                Err(refs::RefUpdateError::Locked(path)) => {
                    if !retry::wait_for_lock(&mut backoff, &path) {
                        return Err(WriteError::git_lock_busy(&path));
                    }
                }
                Err(refs::RefUpdateError::Moved) => {
                    return Err(WriteError::BranchMoved {
                        branch: branch.to_owned(),
                    });
                }
                Err(refs::RefUpdateError::Hook(source)) => {
                    return Err(WriteError::HookRejected {
                        name: update.name.to_owned(),
                        source,
                    });
                }
                Err(refs::RefUpdateError::Other(error)) => return Err(error),
            }
        }
    }

    /// Checks `branch` out in a new worktree at `path` (which must not exist), with
    /// `git worktree add`; with `staging`, it is checked out there first and moved into place,
    /// so a reader never sees a half-populated checkout at `path`.
    pub fn add_worktree(
        &mut self,
        path: &Path,
        branch: &str,
        staging: Option<&Path>,
    ) -> Result<(), WriteError> {
        self.record_new_worktree(path, staging)?;
        let root = self.repo.primary_root().to_path_buf();
        let checkout_at = staging.unwrap_or(path);
        let add: Vec<std::ffi::OsString> = vec![
            "worktree".into(),
            "add".into(),
            "--quiet".into(),
            checkout_at.as_os_str().to_owned(),
            branch.into(),
        ];
        match self.core.git_retrying(&root, &add) {
            Ok(_) => {}
            Err(error @ WriteError::GitLockBusy { .. }) => return Err(error),
            Err(_) => {
                // A worktree deleted without `git worktree remove` still holds the branch:
                // forget the registrations whose directory is gone, then try once more.
                let _ = self.core.git(&root, &["worktree", "prune"], None);
                self.core.git_retrying(&root, &add)?;
            }
        }
        if let Some(staging) = staging {
            let moved: Vec<std::ffi::OsString> = vec![
                "worktree".into(),
                "move".into(),
                staging.as_os_str().to_owned(),
                path.as_os_str().to_owned(),
            ];
            self.core.git_retrying(&root, &moved)?;
            if let Some(parent) = staging.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
        failpoint::hit("worktree-added");
        Ok(())
    }

    /// Checks `commit` out, detached, in a new worktree at `path` (which must not exist), with
    /// `git worktree add --detach`; undone by removing it.
    pub fn add_detached_worktree(
        &mut self,
        path: &Path,
        commit: ObjectId,
    ) -> Result<(), WriteError> {
        self.record_new_worktree(path, None)?;
        let root = self.repo.primary_root().to_path_buf();
        let add: Vec<std::ffi::OsString> = vec![
            "worktree".into(),
            "add".into(),
            "--quiet".into(),
            "--detach".into(),
            path.as_os_str().to_owned(),
            commit.to_string().into(),
        ];
        self.core.git_retrying(&root, &add)?;
        failpoint::hit("worktree-added");
        Ok(())
    }

    /// Refuses a worktree path that exists, then journals the worktree about to be added.
    fn record_new_worktree(
        &mut self,
        path: &Path,
        staging: Option<&Path>,
    ) -> Result<(), WriteError> {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(WriteError::Exists {
                path: path.to_path_buf(),
            });
        }
        self.core.record(Record::Worktree {
            path: path.to_path_buf(),
            staging: staging.map(Path::to_path_buf),
        })?;
        Ok(())
    }

    /// Removes the worktree at `path` (`git worktree remove`, forced when `force`: its
    /// uncommitted changes are lost) and forgets it. Not undone: a transaction that removes
    /// worktrees does it after its commit point, or a rerun removes them again.
    pub fn remove_worktree(&mut self, path: &Path, force: bool) -> Result<(), WriteError> {
        if std::fs::symlink_metadata(path).is_err() {
            let root = self.repo.primary_root().to_path_buf();
            self.run_git(&root, &["worktree", "prune"], &[])?;
            return Ok(());
        }
        let root = self.repo.primary_root().to_path_buf();
        let mut args: Vec<std::ffi::OsString> = vec!["worktree".into(), "remove".into()];
        if force {
            args.push("--force".into());
            args.push("--force".into());
        }
        args.push(path.as_os_str().to_owned());
        let locks = vec![index::git_dir_of(path)?.join("index.lock")];
        self.run_git(&root, &args, &locks)?;
        Ok(())
    }

    /// Runs a git command that changes no ref, index or file (a read, or `git merge-tree`,
    /// which only writes objects), and returns its output also when it exits with one of the
    /// `accepted` codes.
    pub fn git_accepting<S: AsRef<std::ffi::OsStr>>(
        &self,
        dir: &Path,
        args: &[S],
        accepted: &[i32],
    ) -> Result<Output, WriteError> {
        let stdin = self.core.lock.share()?;
        crate::git::git_accepting(dir, args, stdin, None, accepted)
            .map_err(|error| door_git_error(args, error))
    }

    /// Runs a git command that writes under git's lock files (`config.lock`, a worktree's
    /// `index.lock`…), journalling them first so that recovery can clear them if the command
    /// is killed. `locks` are the lock files it may create.
    pub fn run_git<S: AsRef<std::ffi::OsStr>>(
        &mut self,
        dir: &Path,
        args: &[S],
        locks: &[PathBuf],
    ) -> Result<Output, WriteError> {
        self.record_git(args, locks)?;
        let output = self.core.git_retrying(dir, args)?;
        failpoint::hit("git");
        Ok(output)
    }

    /// Journals a git command that writes under `locks` before it runs.
    fn record_git<S: AsRef<std::ffi::OsStr>>(
        &mut self,
        args: &[S],
        locks: &[PathBuf],
    ) -> Result<(), WriteError> {
        Ok(self.core.record(Record::Git {
            args: args
                .iter()
                .map(|arg| arg.as_ref().to_string_lossy().into_owned())
                .collect(),
            locks: locks.to_vec(),
            at_ms: now_ms(),
            recovery: false,
        })?)
    }

    /// Like [`WriteTransaction::run_git`], and also returns git's output when it exits with
    /// one of the `accepted` codes (`git merge` exits 1 when it leaves conflicts).
    pub fn run_git_accepting<S: AsRef<std::ffi::OsStr>>(
        &mut self,
        dir: &Path,
        args: &[S],
        locks: &[PathBuf],
        accepted: &[i32],
    ) -> Result<Output, WriteError> {
        self.record_git(args, locks)?;
        let output = self.git_accepting(dir, args, accepted)?;
        failpoint::hit("git");
        Ok(output)
    }

    /// Runs a git command that changes nothing (a read), holding the lock in the child.
    pub fn git<S: AsRef<std::ffi::OsStr>>(
        &self,
        dir: &Path,
        args: &[S],
    ) -> Result<Output, WriteError> {
        self.core.git(dir, args, None)
    }

    /// Sets a git configuration value of the repository (`git config --local`), journalling
    /// its previous value.
    pub fn set_config(&mut self, key: &str, value: &str) -> Result<(), WriteError> {
        let root = self.repo.primary_root().to_path_buf();
        let before = config_value(&self.core, &root, key)?;
        self.core.record(Record::Config {
            key: key.to_owned(),
            before,
            after: value.to_owned(),
        })?;
        let config_lock = self.repo.common_dir().join("config.lock");
        self.run_git(&root, &["config", "--local", key, value], &[config_lock])?;
        Ok(())
    }

    /// Ends the transaction: everything it did stays, its journal is removed and its lock
    /// released.
    pub fn finish(mut self) -> Result<(), WriteError> {
        failpoint::hit("finish");
        self.finished = true;
        if let Some(journal) = self.core.journal.take() {
            journal.remove()?;
        }
        Ok(())
    }

    /// Undoes everything the transaction did, newest first, and returns what could not be
    /// undone (empty when the repository is back as it was). The journal stays when something
    /// is left, for the next writer or `doctor --fix` to settle.
    pub fn abort(mut self) -> Vec<String> {
        self.roll_back()
    }

    /// Undoes the transaction and wraps `cause` with what could not be undone.
    pub fn fail(self, cause: WriteError) -> WriteError {
        let problems = self.abort();
        if problems.is_empty() {
            cause
        } else {
            WriteError::RollbackIncomplete {
                cause: Box::new(cause),
                problems,
            }
        }
    }

    fn roll_back(&mut self) -> Vec<String> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        if self.core.records.is_empty() {
            return Vec::new();
        }
        let records = self.core.records.clone();
        let txn = self.core.txn.clone();
        self.core.recovering = true;
        let settled = recovery::settle(&mut self.core, &self.repo, &self.gix, &txn, &records);
        if settled.problems.is_empty()
            && let Some(journal) = self.core.journal.take()
        {
            let _ = journal.remove();
        }
        settled.problems
    }

    /// Describes a file change for the journal: what was there (inline, as a prefix of the
    /// new bytes, or as a blob written to the object database) and what will be.
    fn describe_change(
        &self,
        previous: Option<&[u8]>,
        next: Option<&[u8]>,
    ) -> Result<(Before, After), WriteError> {
        let before = match (previous, next) {
            (None, _) => Before::Absent,
            (Some(previous), Some(next))
                if !previous.is_empty()
                    && previous.len() <= next.len()
                    && next.starts_with(previous) =>
            {
                Before::Prefix {
                    len: previous.len() as u64,
                }
            }
            (Some(previous), _) if previous.len() <= INLINE_LIMIT => journal::inline(previous),
            (Some(previous), _) => {
                let oid = self
                    .gix
                    .write_blob(previous)
                    .map_err(|error| gix::Error::from_error(error))
                    .map_err(objects_failed("save the previous content of a file"))?
                    .detach();
                Before::Blob {
                    oid: oid.to_string(),
                }
            }
        };
        let after = match (next, &before) {
            (None, _) => After::Absent,
            (Some(next), Before::Prefix { len }) => After::Append {
                len: next.len() as u64,
                tail_from: *len,
                tail_oid: blob_id(&next[usize::try_from(*len).unwrap_or(next.len())..])?
                    .to_string(),
            },
            (Some(next), _) => After::Content {
                len: next.len() as u64,
                oid: blob_id(next)?.to_string(),
            },
        };
        Ok((before, after))
    }
}

impl Drop for WriteTransaction {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.roll_back();
        }
    }
}

/// Returns the git blob id of `bytes`.
pub(crate) fn blob_id(bytes: &[u8]) -> Result<ObjectId, WriteError> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .map_err(|error| gix::Error::from_error(error))
        .map_err(objects_failed("hash a file"))
}

/// Returns the directory a file is in (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Returns the repository-local value of a git configuration key, `None` when it has none.
fn config_value(core: &Core, root: &Path, key: &str) -> Result<Option<String>, WriteError> {
    match core.git(root, &["config", "--local", "--get", key], None) {
        Ok(output) => Ok(Some(
            String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_owned(),
        )),
        // `git config --get` exits 1 when the key is not set.
        Err(WriteError::Git(GitError::Failed { status, .. })) if status.code() == Some(1) => {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}
