//! The locks a write transaction holds: an exclusive `flock` on a lock file that is never
//! deleted or replaced. The kernel releases it when its holder exits, even when it is killed.
//!
//! Every git child a transaction starts gets a duplicate of the locked handle as its standard
//! input, so the lock stays held until the child exits even if missionctl is killed first: no
//! writer (and no recovery) starts while a dead writer's git is still moving a ref or the index.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::fs_util::{IoResultExt, PathError};
use crate::repo::containment::Containment;

/// How long to sleep between two attempts to take a busy lock.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct ScopeLock {
    file: File,
    path: PathBuf,
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another process held it for longer than the timeout.
    Timeout,
    /// The lock file could not be opened or locked.
    Io(PathError),
}

impl ScopeLock {
    /// Takes the exclusive lock at `path`, waiting at most `timeout`. Neither the lock
    /// directory nor the lock file may be a symbolic link (a dangling one would create its
    /// target).
    pub(crate) fn acquire(
        containment: &Containment,
        path: &Path,
        timeout: Duration,
    ) -> Result<ScopeLock, LockError> {
        let file = containment.open_lock(path).map_err(LockError::Io)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(ScopeLock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    if started.elapsed() >= timeout {
                        return Err(LockError::Timeout);
                    }
                    std::thread::sleep(POLL_INTERVAL);
                }
                Err(TryLockError::Error(source)) => {
                    return Err(LockError::Io(PathError {
                        action: "Cannot lock",
                        path: path.to_path_buf(),
                        source,
                    }));
                }
            }
        }
    }

    /// Takes the lock at `path` if it is free now; `None` when another process holds it. A lock
    /// file that does not exist is not created: `None`.
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<ScopeLock>, PathError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW);
        }
        let file = match options.open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(PathError {
                    action: "Cannot open",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        match file.try_lock() {
            Ok(()) => Ok(Some(ScopeLock {
                file,
                path: path.to_path_buf(),
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(PathError {
                action: "Cannot lock",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Returns a duplicate of the locked file handle, to hand to a child process as its
    /// standard input: the child then holds the same lock until it exits.
    pub(crate) fn share(&self) -> Result<std::process::Stdio, PathError> {
        self.file
            .try_clone()
            .map(std::process::Stdio::from)
            .with_path("Cannot duplicate the handle of", &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_not_taken_twice() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("locks").join("x.lock");
        assert!(ScopeLock::try_acquire(&path)?.is_none(), "not created");
        let containment = Containment::new(dir.path(), &dir.path().join(".git"));
        let held =
            ScopeLock::acquire(&containment, &path, Duration::from_secs(1)).map_err(|_| "lock")?;
        assert!(ScopeLock::try_acquire(&path)?.is_none());
        assert!(matches!(
            ScopeLock::acquire(&containment, &path, Duration::from_millis(10)),
            Err(LockError::Timeout)
        ));
        drop(held);
        assert!(ScopeLock::try_acquire(&path)?.is_some());
        Ok(())
    }
}
