//! `BookkeepingTransaction`: one locked, crash-safe, committed status write.
//!
//! Lifecycle: [`BookkeepingTransaction::acquire`] takes the mission's status lock and checks
//! the destination; [`BookkeepingTransaction::read_log`] re-reads the log under the lock;
//! [`BookkeepingTransaction::append`] appends rows atomically and rewrites `status.json` when
//! its bytes change; [`BookkeepingTransaction::commit`] commits exactly those two files to the
//! destination branch. Dropping a transaction that was not committed restores both files
//! byte for byte. Nothing outside this module can write status: the module is private to
//! [`super`] (see `docs/adr/0004-bookkeeping-transaction.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use missionctl_core::event_log::{self, EventLog};
use missionctl_core::reducer::reduce_with_identity;
use missionctl_core::snapshot::StatusSnapshot;

use super::lock::{self, StatusLock};
use super::{CommitReceipt, StatusWriteError};
use crate::fs_util::{self, PathError};
use crate::git::git;
use crate::mission_dir::{EVENT_LOG_FILE, SNAPSHOT_FILE};

/// Where a mission's status is written and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusPlacement {
    /// The worktree whose checkout holds the status files and makes the commit.
    pub(crate) worktree_root: PathBuf,
    /// The mission directory (absolute) holding `status.events.jsonl` and `status.json`.
    pub(crate) mission_dir: PathBuf,
    /// The short branch name the commit goes to; it must be checked out in `worktree_root`.
    pub(crate) destination_ref: String,
    /// The status lock file.
    pub(crate) lock_path: PathBuf,
    /// The coordination branch to check out at `worktree_root` when that worktree does not
    /// exist yet (the first coordination write); `None` for the primary checkout.
    pub(crate) materialize_branch: Option<String>,
    /// The primary checkout's root.
    pub(crate) primary_root: PathBuf,
    /// The mission directory in the primary checkout (seeds a new coordination worktree).
    pub(crate) primary_mission_dir: PathBuf,
}

/// Creates the coordination worktree on its branch, and seeds its mission directory from the
/// primary checkout's log when the branch predates the mission (nothing is overwritten).
fn materialize_worktree(placement: &StatusPlacement, branch: &str) -> Result<(), StatusWriteError> {
    if !placement.worktree_root.exists() {
        let mut args: Vec<std::ffi::OsString> =
            vec!["worktree".into(), "add".into(), "--quiet".into()];
        args.push(placement.worktree_root.as_os_str().to_owned());
        args.push(branch.into());
        git(&placement.primary_root, &args).map_err(StatusWriteError::Commit)?;
    }
    let log_path = placement.mission_dir.join(EVENT_LOG_FILE);
    if !log_path.exists() {
        std::fs::create_dir_all(&placement.mission_dir).map_err(|source| PathError {
            action: "Cannot create",
            path: placement.mission_dir.clone(),
            source,
        })?;
        if let Some(bytes) =
            fs_util::read_optional(&placement.primary_mission_dir.join(EVENT_LOG_FILE))?
        {
            fs_util::atomic_write(&log_path, &bytes)?;
        }
    }
    Ok(())
}

/// An open transaction. See the module documentation.
#[derive(Debug)]
pub(crate) struct BookkeepingTransaction {
    placement: StatusPlacement,
    meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The log's bytes before the transaction (`None`: the file did not exist).
    log_before: Option<Vec<u8>>,
    /// The snapshot's bytes before the transaction (`None`: the file did not exist).
    snapshot_before: Option<Vec<u8>>,
    /// The log's current bytes, as last read or written under the lock.
    log_now: Option<Vec<u8>>,
    event_ids: Vec<String>,
    touched: bool,
    /// The files were added to the index and not yet committed.
    staged: bool,
    finished: bool,
    _lock: StatusLock,
}

/// Returns the branch checked out in a worktree, reading `HEAD` directly (no git process).
/// `None` for a detached `HEAD`.
pub(crate) fn checked_out_branch(worktree_root: &Path) -> Result<Option<String>, PathError> {
    let dot_git = worktree_root.join(".git");
    let git_dir = if dot_git.is_file() {
        let pointer = std::fs::read_to_string(&dot_git).map_err(|source| PathError {
            action: "Cannot read",
            path: dot_git.clone(),
            source,
        })?;
        let target = pointer.trim().trim_start_matches("gitdir:").trim();
        let target = Path::new(target);
        if target.is_absolute() {
            target.to_path_buf()
        } else {
            worktree_root.join(target)
        }
    } else {
        dot_git
    };
    let head_path = git_dir.join("HEAD");
    let head = std::fs::read_to_string(&head_path).map_err(|source| PathError {
        action: "Cannot read",
        path: head_path,
        source,
    })?;
    Ok(head
        .trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_owned))
}

impl BookkeepingTransaction {
    /// Takes the mission's status lock (waiting at most `timeout`), refuses a protected or
    /// not-checked-out destination, and records the files' bytes for rollback.
    pub(crate) fn acquire(
        placement: StatusPlacement,
        meta: Option<serde_json::Map<String, serde_json::Value>>,
        protected_branches: &[String],
        timeout: Duration,
    ) -> Result<BookkeepingTransaction, StatusWriteError> {
        if protected_branches
            .iter()
            .any(|branch| branch == &placement.destination_ref)
        {
            return Err(StatusWriteError::ProtectedBranch {
                branch: placement.destination_ref.clone(),
            });
        }
        let lock = lock::acquire(&placement.lock_path, timeout)?;
        if let Some(branch) = &placement.materialize_branch
            && !placement.mission_dir.join(EVENT_LOG_FILE).exists()
        {
            materialize_worktree(&placement, branch)?;
        }
        let checked_out = checked_out_branch(&placement.worktree_root)?;
        if checked_out.as_deref() != Some(placement.destination_ref.as_str()) {
            return Err(StatusWriteError::DestinationNotCheckedOut {
                worktree: placement.worktree_root.clone(),
                destination: placement.destination_ref.clone(),
                checked_out,
            });
        }
        let log_path = placement.mission_dir.join(EVENT_LOG_FILE);
        if std::fs::symlink_metadata(&log_path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(crate::mission_dir::StatusReadError::LogSymlink(log_path).into());
        }
        let log_before = fs_util::read_optional(&log_path)?;
        let snapshot_before = fs_util::read_optional(&placement.mission_dir.join(SNAPSHOT_FILE))?;
        Ok(BookkeepingTransaction {
            log_now: log_before.clone(),
            placement,
            meta,
            log_before,
            snapshot_before,
            event_ids: Vec::new(),
            touched: false,
            staged: false,
            finished: false,
            _lock: lock,
        })
    }

    /// Returns the log as it stands under the lock. A malformed line refuses the read.
    pub(crate) fn read_log(&self) -> Result<EventLog, StatusWriteError> {
        let log = event_log::parse(self.log_now.as_deref().unwrap_or_default());
        if let Some(error) = log.errors.first() {
            return Err(crate::mission_dir::StatusReadError::LogInvalid {
                path: self.placement.mission_dir.join(EVENT_LOG_FILE),
                line: error.line,
                message: error.message.clone(),
            }
            .into());
        }
        Ok(log)
    }

    /// Appends serialized rows (without newlines) atomically, then rewrites `status.json` if
    /// its bytes change. `event_ids` are the ids of the appended rows, for the receipt.
    pub(crate) fn append(
        &mut self,
        lines: &[String],
        event_ids: &[String],
    ) -> Result<StatusSnapshot, StatusWriteError> {
        let mut bytes = self.log_now.clone().unwrap_or_default();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        for line in lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        self.touched = true;
        let log_path = self.placement.mission_dir.join(EVENT_LOG_FILE);
        fs_util::atomic_write(&log_path, &bytes)?;
        self.log_now = Some(bytes);

        // Verify: the log must read back whole with every new id present.
        let log = self.read_log()?;
        for id in event_ids {
            let present = log.rows.iter().any(|(_, row)| match row {
                missionctl_core::event::LogRow::Transition(event) => &event.event_id == id,
                missionctl_core::event::LogRow::Annotation(annotation) => {
                    &annotation.event_id == id
                }
                missionctl_core::event::LogRow::Foreign(_) => false,
            });
            if !present {
                return Err(StatusWriteError::PersistenceVerification {
                    event_id: id.clone(),
                });
            }
        }
        self.event_ids.extend(event_ids.iter().cloned());
        let snapshot = self.materialize(&log)?;
        Ok(snapshot)
    }

    /// Rewrites `status.json` from the log as it stands under the lock.
    pub(crate) fn materialize_now(&mut self) -> Result<StatusSnapshot, StatusWriteError> {
        let log = self.read_log()?;
        self.touched = true;
        self.materialize(&log)
    }

    fn materialize(&self, log: &EventLog) -> Result<StatusSnapshot, StatusWriteError> {
        let snapshot = reduce_with_identity(log, self.meta.as_ref()).map_err(|error| {
            crate::mission_dir::StatusReadError::MetaInvalid {
                path: self
                    .placement
                    .mission_dir
                    .join(crate::mission_dir::META_FILE),
                message: error.to_string(),
            }
        })?;
        let bytes = snapshot.to_status_json();
        let path = self.placement.mission_dir.join(SNAPSHOT_FILE);
        let current = fs_util::read_optional(&path)?;
        if current.as_deref() != Some(bytes.as_bytes()) {
            fs_util::atomic_write(&path, bytes.as_bytes())?;
        }
        Ok(snapshot)
    }

    /// Commits exactly the log and the snapshot to the destination branch, from the
    /// placement's worktree, leaving every other path of the user's index and worktree as it
    /// was. A clean pair of files gives a no-op receipt pinned to the current commit. On
    /// failure the files are restored byte for byte.
    pub(crate) fn commit(
        mut self,
        message: &str,
        committed_at: &str,
    ) -> Result<CommitReceipt, StatusWriteError> {
        match self.try_commit(message, committed_at) {
            Ok(receipt) => {
                self.finished = true;
                Ok(receipt)
            }
            Err(error) => {
                self.rollback();
                self.finished = true;
                Err(error)
            }
        }
    }

    fn relative_paths(&self) -> Vec<PathBuf> {
        let relative = self
            .placement
            .mission_dir
            .strip_prefix(&self.placement.worktree_root)
            .unwrap_or(&self.placement.mission_dir)
            .to_path_buf();
        [EVENT_LOG_FILE, SNAPSHOT_FILE]
            .into_iter()
            .map(|name| relative.join(name))
            .filter(|path| self.placement.worktree_root.join(path).exists())
            .collect()
    }

    fn try_commit(
        &mut self,
        message: &str,
        committed_at: &str,
    ) -> Result<CommitReceipt, StatusWriteError> {
        let root = self.placement.worktree_root.clone();
        let paths = self.relative_paths();
        let dirty = self.touched || {
            let mut status_args: Vec<std::ffi::OsString> = vec![
                "status".into(),
                "--porcelain".into(),
                "--untracked-files=all".into(),
                "--".into(),
            ];
            status_args.extend(paths.iter().map(|path| path.as_os_str().to_owned()));
            !git(&root, &status_args)
                .map_err(StatusWriteError::Commit)?
                .stdout
                .is_empty()
        };
        if dirty {
            let mut add: Vec<std::ffi::OsString> = vec!["add".into(), "--".into()];
            add.extend(paths.iter().map(|path| path.as_os_str().to_owned()));
            self.staged = true;
            git(&root, &add).map_err(StatusWriteError::Commit)?;
            let mut commit: Vec<std::ffi::OsString> = vec![
                "-c".into(),
                "commit.gpgsign=false".into(),
                "-c".into(),
                "core.hooksPath=/dev/null".into(),
                "commit".into(),
                "--quiet".into(),
                "--no-verify".into(),
                "--only".into(),
                "-m".into(),
                message.into(),
                "--".into(),
            ];
            commit.extend(paths.iter().map(|path| path.as_os_str().to_owned()));
            git(&root, &commit).map_err(StatusWriteError::Commit)?;
            self.staged = false;
        }
        let head = git(&root, ["rev-parse", "HEAD"]).map_err(StatusWriteError::Commit)?;
        let commit_sha = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        Ok(CommitReceipt {
            commit_sha,
            committed_at: committed_at.to_owned(),
            destination_ref: self.placement.destination_ref.clone(),
            worktree_root: root,
            event_ids: self.event_ids.clone(),
            is_noop: !dirty,
        })
    }

    /// Restores the log and the snapshot to their bytes before the transaction. Each step is
    /// independent, so one failure does not stop the other.
    fn rollback(&mut self) {
        if self.staged {
            let mut reset: Vec<std::ffi::OsString> =
                vec!["reset".into(), "--quiet".into(), "--".into()];
            reset.extend(
                self.relative_paths()
                    .iter()
                    .map(|path| path.as_os_str().to_owned()),
            );
            let _ = git(&self.placement.worktree_root, &reset);
            self.staged = false;
        }
        if !self.touched {
            return;
        }
        let dir = self.placement.mission_dir.clone();
        for (name, before) in [
            (EVENT_LOG_FILE, &self.log_before),
            (SNAPSHOT_FILE, &self.snapshot_before),
        ] {
            let path = dir.join(name);
            let _ = match before {
                Some(bytes) => fs_util::atomic_write(&path, bytes),
                None => std::fs::remove_file(&path).or_else(|error| {
                    if error.kind() == std::io::ErrorKind::NotFound {
                        Ok(())
                    } else {
                        Err(PathError {
                            action: "Cannot remove",
                            path: path.clone(),
                            source: error,
                        })
                    }
                }),
            };
        }
        self.touched = false;
    }
}

impl Drop for BookkeepingTransaction {
    fn drop(&mut self) {
        if !self.finished {
            self.rollback();
        }
    }
}
