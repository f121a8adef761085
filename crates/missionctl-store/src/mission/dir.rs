//! Reading a mission directory (`kitty-specs/<mission>/`): its event log and `meta.json`,
//! reduced to a snapshot.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use missionctl_core::mission::meta::{MetaError, MissionMeta};
use missionctl_core::status::event_log::{self, EventLog};
use missionctl_core::status::reducer::reduce_with_identity;
use missionctl_core::status::snapshot::StatusSnapshot;
use serde_json::{Map, Value};

use crate::fs_util::{PathError, read_optional};

/// The file name of the event log inside a mission directory.
pub const EVENT_LOG_FILE: &str = "status.events.jsonl";
/// The file name of the snapshot inside a mission directory.
pub const SNAPSHOT_FILE: &str = "status.json";
/// The file name of the mission metadata inside a mission directory.
pub const META_FILE: &str = "meta.json";

/// A mission directory's status, read and reduced (nothing written).
#[derive(Debug, Clone)]
pub struct ReducedMission {
    /// The mission directory.
    pub dir: PathBuf,
    /// The parsed event log.
    pub log: EventLog,
    /// The parsed `meta.json` object, when the file exists.
    pub meta: Option<Map<String, Value>>,
    /// The reduced snapshot, identity fields filled from `meta.json`.
    pub snapshot: StatusSnapshot,
}

/// Why a mission directory's status could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusReadError {
    /// The path does not exist or is not a directory.
    #[error("Not a mission directory: `{0}`")]
    NotADirectory(PathBuf),
    /// The directory has no event log.
    #[error("No event log at `{0}`")]
    LogMissing(PathBuf),
    /// The event log is a symbolic link, which is never followed.
    #[error("Refusing to read symbolic link event log `{0}`")]
    LogSymlink(PathBuf),
    /// A line of the event log cannot be read; Spec Kitty then refuses the whole log.
    #[error("{}:{line}: {message}", path.display())]
    LogInvalid {
        /// The log file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// `meta.json` is not a JSON object.
    #[error("Invalid meta.json `{path}`: {message}", path = path.display())]
    MetaInvalid {
        /// The `meta.json` file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl StatusReadError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            StatusReadError::NotADirectory(_) => "MISSION_DIR_NOT_FOUND",
            StatusReadError::LogMissing(_) => "CANONICAL_STATUS_NOT_FOUND",
            StatusReadError::LogSymlink(_) => "EVENT_LOG_SYMLINK",
            StatusReadError::LogInvalid { .. } => "EVENT_LOG_INVALID",
            StatusReadError::MetaInvalid { .. } => "META_JSON_INVALID",
            StatusReadError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            StatusReadError::NotADirectory(_) => {
                "Pass a mission directory such as `kitty-specs/<mission>`".to_owned()
            }
            StatusReadError::LogMissing(_) => {
                "Seed the log by finalizing the mission's work packages first".to_owned()
            }
            StatusReadError::LogSymlink(path) => format!(
                "Replace the link with the real file: `cp --remove-destination \"$(readlink -f {0})\" {0}`",
                path.display()
            ),
            StatusReadError::LogInvalid { line, .. } => {
                format!("Fix or remove line {line} of the log; every other line is kept as written")
            }
            StatusReadError::MetaInvalid { .. } => {
                "Repair meta.json so that it holds one JSON object".to_owned()
            }
            StatusReadError::Io(error) => error.hint(),
        }
    }
}

/// Reads a file without following a symbolic link at its final component.
fn read_no_follow(path: &Path) -> io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOFOLLOW: i32 = 0o400_000;
        options.custom_flags(O_NOFOLLOW);
    }
    let mut file: File = options.open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads and parses `meta.json` in `dir`; `None` when the file does not exist.
///
/// The reader of a mission directory given by path, anchored on no repository (`status
/// reduce`); everything anchored on a repository reads through
/// [`PrimaryMissionDir::read_meta`](crate::mission::meta_store::PrimaryMissionDir::read_meta). Both parse
/// with [`MissionMeta::parse_json_object`]; this one reports its own code,
/// `META_JSON_INVALID`, and leaves the byte-order mark and UTF-8 to the JSON decoder.
fn read_meta_object(dir: &Path) -> Result<Option<Map<String, Value>>, StatusReadError> {
    let path = dir.join(META_FILE);
    let Some(bytes) = read_optional(&path)? else {
        return Ok(None);
    };
    MissionMeta::parse_json_object(&bytes)
        .map(|meta| Some(meta.into_map()))
        .map_err(|error| StatusReadError::MetaInvalid {
            path,
            message: match error {
                MetaError::NotAnObject { .. } => "expected a JSON object".to_owned(),
                MetaError::Malformed { reason } => reason,
                other => other.to_string(),
            },
        })
}

/// Reads the event log of `dir` (refusing a symbolic link) and parses it.
pub fn read_event_log(dir: &Path) -> Result<EventLog, StatusReadError> {
    let path = dir.join(EVENT_LOG_FILE);
    match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(StatusReadError::LogMissing(path));
        }
        Err(error) => {
            return Err(PathError {
                action: "Cannot read",
                path,
                source: error,
            }
            .into());
        }
        Ok(metadata) if metadata.file_type().is_symlink() => {
            return Err(StatusReadError::LogSymlink(path));
        }
        Ok(_) => {}
    }
    let bytes = match read_no_follow(&path) {
        Ok(bytes) => bytes,
        // ELOOP: the file was replaced by a link after the check above.
        Err(error) if error.raw_os_error() == Some(40) => {
            return Err(StatusReadError::LogSymlink(path));
        }
        Err(error) => {
            return Err(PathError {
                action: "Cannot read",
                path,
                source: error,
            }
            .into());
        }
    };
    Ok(event_log::parse(&bytes))
}

/// Reads a mission directory and reduces its log, exactly as Spec Kitty's reducer would.
/// Nothing is written.
pub fn reduce_mission_dir(dir: &Path) -> Result<ReducedMission, StatusReadError> {
    if !dir.is_dir() {
        return Err(StatusReadError::NotADirectory(dir.to_path_buf()));
    }
    let log = read_event_log(dir)?;
    if let Err(error) = log.require_valid() {
        return Err(StatusReadError::LogInvalid {
            path: dir.join(EVENT_LOG_FILE),
            line: error.line,
            message: error.message.clone(),
        });
    }
    let meta = read_meta_object(dir)?;
    let snapshot = reduce_with_identity(&log, meta.as_ref()).map_err(|error| {
        StatusReadError::MetaInvalid {
            path: dir.join(META_FILE),
            message: error.to_string(),
        }
    })?;
    Ok(ReducedMission {
        dir: dir.to_path_buf(),
        log,
        meta,
        snapshot,
    })
}
