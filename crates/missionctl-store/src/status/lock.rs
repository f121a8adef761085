//! The per-mission status lock, shared with Spec Kitty.
//!
//! The lock is an exclusive `flock` on `<git-common-dir>/spec-kitty-locks/<slug>.status.lock`,
//! the same file and primitive Spec Kitty's `filelock` uses, so the two tools exclude each
//! other. The file is never deleted or replaced; the kernel releases the lock when the
//! holder exits, even when it is killed.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StatusWriteError;
use crate::containment::Containment;
use crate::fs_util::PathError;

/// The directory under the git common dir that holds the lock files.
pub(crate) const LOCK_DIR: &str = "spec-kitty-locks";

/// How long to sleep between two attempts to take a busy lock.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Returns the lock file of a mission.
pub(crate) fn lock_path(git_common_dir: &Path, mission_slug: &str) -> PathBuf {
    git_common_dir
        .join(LOCK_DIR)
        .join(format!("{mission_slug}.status.lock"))
}

/// A held status lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct StatusLock {
    file: File,
    path: PathBuf,
}

impl StatusLock {
    /// Returns a duplicate of the locked file handle, to hand to a child process as its
    /// standard input: the child then holds the same lock until it exits, even if this
    /// process is killed first, so no other writer starts while a git child of a dead writer
    /// is still updating refs or the index.
    pub(crate) fn share(&self) -> Result<std::process::Stdio, PathError> {
        self.file
            .try_clone()
            .map(std::process::Stdio::from)
            .map_err(|source| PathError {
                action: "Cannot duplicate the handle of",
                path: self.path.clone(),
                source,
            })
    }
}

/// Takes the exclusive lock at `path`, waiting at most `timeout`. Neither the lock directory
/// nor the lock file may be a symbolic link (a dangling one would create its target).
pub(crate) fn acquire(
    containment: &Containment,
    path: &Path,
    timeout: Duration,
) -> Result<StatusLock, StatusWriteError> {
    let file = containment.open_lock(path)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => {
                return Ok(StatusLock {
                    file,
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::WouldBlock) => {
                if started.elapsed() >= timeout {
                    return Err(StatusWriteError::LockTimeout {
                        path: path.to_path_buf(),
                        waited: timeout,
                    });
                }
                std::thread::sleep(POLL_INTERVAL);
            }
            Err(TryLockError::Error(source)) => {
                return Err(PathError {
                    action: "Cannot lock",
                    path: path.to_path_buf(),
                    source,
                }
                .into());
            }
        }
    }
}
