//! Following a mission's log as it grows: the read side of the live views (`events tail`,
//! `board --watch`, the dashboard).
//!
//! A [`StatusFollower`] holds the core's `IncrementalReducer` for one mission and, on each
//! [`refresh`](StatusFollower::refresh), reads only what was appended to the log since the
//! last one. Two writers append in two ways: Spec Kitty in place (the same file grows), and
//! missionctl by replacing the file with a longer copy (a new inode). A log appended in place
//! is trusted to extend what was read when the 4 KiB before the old end are unchanged; a
//! replaced one is read whole and checked against everything folded so far. A log rewritten
//! otherwise — by a merge that sorted other rows in, or by hand — is reduced again from its
//! first byte. Nothing is ever reduced again on a timer.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use missionctl_core::status::event::LogRow;
use missionctl_core::status::reducer::IncrementalReducer;
use missionctl_core::status::snapshot::StatusSnapshot;

use super::MissionStatus;
use crate::fs_util::PathError;
use crate::mission::dir::{EVENT_LOG_FILE, StatusReadError};
use crate::repo::containment::Containment;

/// How many bytes before the end already read must be unchanged for a log that grew in place
/// to count as appended to.
const WINDOW: usize = 4096;

/// What a refresh found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogChange {
    /// Not a byte changed.
    Unchanged,
    /// Bytes were appended; only they were read and folded.
    Appended,
    /// The log was rewritten (or the mission's status moved to another file): it was reduced
    /// again from its first byte.
    Rewritten,
}

/// What one [`StatusFollower::refresh`] folded.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpdate {
    /// How the log changed.
    pub change: LogChange,
    /// The rows read: the appended ones, or every row of a rewritten log.
    pub rows: Vec<(usize, LogRow)>,
    /// Whether the snapshot changed.
    pub snapshot_changed: bool,
}

/// Which bytes the follower has folded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A log file, identified by its device and inode (`None`: the file does not exist).
    File {
        path: PathBuf,
        identity: Option<(u64, u64)>,
    },
    /// A coordination mission without its worktree: the branch's log and the primary
    /// checkout's rows it lacks.
    Unmaterialized,
}

/// One mission's log, followed as it grows. Built by [`MissionStatus::follow`].
#[derive(Debug, Clone)]
pub struct StatusFollower {
    status: MissionStatus,
    source: Source,
    reducer: IncrementalReducer,
    /// The last bytes folded (at most [`WINDOW`]), to recognize an append in place.
    window: Vec<u8>,
    snapshot: StatusSnapshot,
}

impl MissionStatus {
    /// Returns a follower of this mission's log, having read and reduced it once. A log with
    /// an unreadable line is refused, as [`MissionStatus::read_log`] refuses it.
    pub fn follow(&self) -> Result<StatusFollower, StatusReadError> {
        let mut follower = StatusFollower {
            status: self.clone(),
            source: Source::Unmaterialized,
            reducer: IncrementalReducer::new(),
            window: Vec::new(),
            snapshot: StatusSnapshot::default(),
        };
        follower.reload()?;
        Ok(follower)
    }
}

impl StatusFollower {
    /// Returns the mission's status aggregate.
    pub fn status(&self) -> &MissionStatus {
        &self.status
    }

    /// Returns the snapshot of everything folded, with the identity fields of `meta.json`.
    pub fn snapshot(&self) -> &StatusSnapshot {
        &self.snapshot
    }

    /// Returns the directories whose changes may change this mission's status: where the log
    /// is read from now, and the primary mission directory (a coordination mission reads its
    /// rows before its worktree exists).
    pub fn watch_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![
            self.status.current_read_dir().to_path_buf(),
            self.status.primary_mission_dir.clone(),
        ];
        dirs.dedup();
        dirs
    }

    /// Reads what changed in the log since the last refresh and folds it. A line still being
    /// written is left for the next refresh; an unreadable complete line is an error (the
    /// follower keeps what it had, and a later refresh after a fix recovers).
    pub fn refresh(&mut self) -> Result<FollowUpdate, StatusReadError> {
        let source = self.current_source();
        let before = self.reducer.len();
        let (change, rows) = match (&source, &self.source) {
            (Source::File { path, .. }, Source::File { path: old, .. }) if path == old => {
                self.follow_file(path)?
            }
            _ => {
                self.reload()?;
                let rows = self.all_rows();
                (LogChange::Rewritten, rows)
            }
        };
        if change == LogChange::Unchanged && self.reducer.len() == before {
            return Ok(FollowUpdate {
                change,
                rows,
                snapshot_changed: false,
            });
        }
        if let Some(error) = self.reducer.errors().first() {
            return Err(StatusReadError::LogInvalid {
                path: self.log_path(),
                line: error.line,
                message: error.message.clone(),
            });
        }
        let mut snapshot = self.reducer.snapshot();
        self.status.fill_identity(&mut snapshot)?;
        let snapshot_changed = snapshot != self.snapshot;
        self.snapshot = snapshot;
        Ok(FollowUpdate {
            change,
            rows,
            snapshot_changed,
        })
    }

    /// Returns the log file followed (the primary checkout's for a coordination mission
    /// without its worktree).
    pub fn log_path(&self) -> PathBuf {
        match &self.source {
            Source::File { path, .. } => path.clone(),
            Source::Unmaterialized => self.status.primary_mission_dir.join(EVENT_LOG_FILE),
        }
    }

    fn current_source(&self) -> Source {
        if self.status.coordination_unmaterialized() {
            Source::Unmaterialized
        } else {
            Source::File {
                path: self.status.current_read_dir().join(EVENT_LOG_FILE),
                identity: None,
            }
        }
    }

    /// Reads the whole log from where the status lives now and reduces it from scratch.
    fn reload(&mut self) -> Result<(), StatusReadError> {
        let source = self.current_source();
        let (source, bytes) = match source {
            Source::Unmaterialized => (
                Source::Unmaterialized,
                self.status.unmaterialized_log()?.unwrap_or_default(),
            ),
            Source::File { path, .. } => match open_log(self.status.containment(), &path)? {
                Some(mut file) => {
                    let identity = identity(&file, &path)?;
                    let bytes = read_from(&mut file, &path, 0)?;
                    (
                        Source::File {
                            path,
                            identity: Some(identity),
                        },
                        bytes,
                    )
                }
                None => (
                    Source::File {
                        path,
                        identity: None,
                    },
                    Vec::new(),
                ),
            },
        };
        self.source = source;
        self.reducer = IncrementalReducer::from_bytes(&bytes);
        self.window = tail(&bytes).to_vec();
        if let Some(error) = self.reducer.errors().first() {
            return Err(StatusReadError::LogInvalid {
                path: self.log_path(),
                line: error.line,
                message: error.message.clone(),
            });
        }
        let mut snapshot = self.reducer.snapshot();
        self.status.fill_identity(&mut snapshot)?;
        self.snapshot = snapshot;
        Ok(())
    }

    /// Folds what changed in the followed file.
    fn follow_file(
        &mut self,
        path: &Path,
    ) -> Result<(LogChange, Vec<(usize, LogRow)>), StatusReadError> {
        let Some(mut file) = open_log(self.status.containment(), path)? else {
            if self.reducer.is_empty() {
                return Ok((LogChange::Unchanged, Vec::new()));
            }
            self.reload()?;
            return Ok((LogChange::Rewritten, Vec::new()));
        };
        let identity = identity(&file, path)?;
        let length = file
            .metadata()
            .map_err(|source| read_error(path, source))?
            .len();
        let folded = self.reducer.len();
        let same_file =
            matches!(&self.source, Source::File { identity: Some(old), .. } if *old == identity);
        if same_file && length == folded {
            return Ok((LogChange::Unchanged, Vec::new()));
        }
        if same_file && length > folded {
            // Grown in place: read the window before the old end and what follows it.
            let start = folded.saturating_sub(self.window.len() as u64);
            let bytes = read_from(&mut file, path, start)?;
            let window_len = usize::try_from(folded - start).unwrap_or(usize::MAX);
            if bytes.len() >= window_len && bytes[..window_len] == self.window[..] {
                let appended = &bytes[window_len..];
                return Ok((LogChange::Appended, self.fold(appended)));
            }
        } else {
            // Replaced (a new inode) or shorter: read it whole and check what was folded.
            let bytes = read_from(&mut file, path, 0)?;
            if self.reducer.extends(&bytes) {
                let start = usize::try_from(folded).unwrap_or(usize::MAX);
                self.source = Source::File {
                    path: path.to_path_buf(),
                    identity: Some(identity),
                };
                if bytes.len() == start {
                    return Ok((LogChange::Unchanged, Vec::new()));
                }
                return Ok((LogChange::Appended, self.fold(&bytes[start..])));
            }
        }
        self.reload()?;
        Ok((LogChange::Rewritten, self.all_rows()))
    }

    /// Feeds appended bytes to the reducer and returns the rows of the lines they completed.
    fn fold(&mut self, appended: &[u8]) -> Vec<(usize, LogRow)> {
        let mut window = std::mem::take(&mut self.window);
        window.extend_from_slice(appended);
        self.window = tail(&window).to_vec();
        self.reducer.feed(appended).rows
    }

    /// Returns every row of the log, read again (after a rewrite).
    fn all_rows(&self) -> Vec<(usize, LogRow)> {
        match self.status.read_log() {
            Ok(log) => log.rows,
            Err(_) => Vec::new(),
        }
    }
}

/// Returns the last [`WINDOW`] bytes.
fn tail(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.len().saturating_sub(WINDOW)..]
}

fn read_error(path: &Path, source: std::io::Error) -> StatusReadError {
    PathError {
        action: "Cannot read",
        path: path.to_path_buf(),
        source,
    }
    .into()
}

/// Opens a log without following a symbolic link, on its way (containment) or at its last
/// component; `None` when it does not exist.
fn open_log(containment: &Containment, path: &Path) -> Result<Option<File>, StatusReadError> {
    containment.check_parent(path)?;
    match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(read_error(path, source)),
        Ok(metadata) if metadata.file_type().is_symlink() => {
            return Err(StatusReadError::LogSymlink(path.to_path_buf()));
        }
        Ok(_) => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOFOLLOW: i32 = 0o400_000;
        options.custom_flags(O_NOFOLLOW);
    }
    match options.open(path) {
        Ok(file) => Ok(Some(file)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // ELOOP: the file was replaced by a link after the check above.
        Err(error) if error.raw_os_error() == Some(40) => {
            Err(StatusReadError::LogSymlink(path.to_path_buf()))
        }
        Err(source) => Err(read_error(path, source)),
    }
}

/// Returns the device and inode of an open file (on other systems, none: every refresh then
/// reads the log whole and checks it).
fn identity(file: &File, path: &Path) -> Result<(u64, u64), StatusReadError> {
    let metadata = file.metadata().map_err(|source| read_error(path, source))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok((metadata.dev(), metadata.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        Ok((0, 0))
    }
}

/// Reads a file from `start` to its end.
fn read_from(file: &mut File, path: &Path, start: u64) -> Result<Vec<u8>, StatusReadError> {
    file.seek(SeekFrom::Start(start))
        .map_err(|source| read_error(path, source))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| read_error(path, source))?;
    Ok(bytes)
}
