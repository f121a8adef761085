//! git merge drivers for a mission's files: Spec Kitty's event-log union
//! (`merge=spec-kitty-event-log`) and missionctl's `status.json` driver, and their
//! registration in a repository.
//!
//! git runs a merge driver with the three versions of a file as temporary files (`%O` the
//! base, `%A` ours, `%B` theirs) and expects the result in `%A` and exit code 0; anything else
//! leaves the file conflicted. [`merge_event_log_files`] is the event-log driver: the pure
//! union of [`missionctl_core::status::log_merge`], written atomically to ours, and nothing written on
//! an error. [`keep_status_json`] is the `status.json` driver: the snapshot is derived from
//! the log, which git may not have merged yet when the driver runs, so it keeps ours and the
//! caller tells the user to run `status materialize` after the merge.

use std::path::{Path, PathBuf};

use missionctl_core::status::log_merge::{self, LogMergeError, MergeSide};

use crate::fs_util::{self, PathError};
use crate::git::{self, GitError};
use crate::repo::Repo;
use crate::write::{Scope, WriteError, WriteTransaction};

/// The merge driver name Spec Kitty registers for its event logs; missionctl registers the same
/// one, so a repository set up by either tool merges with either.
pub const EVENT_LOG_DRIVER: &str = "spec-kitty-event-log";

/// The human name of the event-log driver in git's configuration (Spec Kitty's).
pub const EVENT_LOG_DRIVER_NAME: &str = "Spec Kitty event log union merge";

/// The merge driver name for `status.json` (missionctl's; Spec Kitty registers none).
pub const STATUS_JSON_DRIVER: &str = "missionctl-status-json";

/// The human name of the `status.json` driver in git's configuration.
pub const STATUS_JSON_DRIVER_NAME: &str =
    "missionctl status.json (derived from the log: keep ours, then status materialize)";

/// The `.gitattributes` lines [`install_merge_drivers`] makes sure of: Spec Kitty's two event
/// logs, then `status.json`.
pub const ATTRIBUTE_LINES: [&str; 3] = [
    "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log",
    "kitty-specs/**/decisions.events.jsonl merge=spec-kitty-event-log",
    "kitty-specs/**/status.json merge=missionctl-status-json",
];

/// What the event-log driver did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMergeOutcome {
    /// The rows of the merged log.
    pub rows: usize,
    /// Whether ours was rewritten (false when its bytes already were the result).
    pub changed: bool,
}

/// Why the event-log driver could not merge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogMergeError {
    /// An input could not be read.
    #[error(transparent)]
    Read(PathError),
    /// An input has a line that is not a row, or two inputs disagree on a row.
    #[error("Cannot merge the event logs: {source}")]
    Merge {
        /// The file the error is about (`None` for a conflict between two files).
        path: Option<PathBuf>,
        /// What the union found.
        #[source]
        source: LogMergeError,
    },
    /// The result could not be written to ours.
    #[error(transparent)]
    Write(PathError),
}

impl EventLogMergeError {
    /// Returns the stable code: `EVENT_LOG_MERGE_CONFLICT` for a conflicting row,
    /// `EVENT_LOG_INVALID` for an unreadable line, `IO_ERROR` otherwise.
    pub fn code(&self) -> &'static str {
        match self {
            EventLogMergeError::Merge {
                source: LogMergeError::ConflictingPayloads { .. },
                ..
            } => "EVENT_LOG_MERGE_CONFLICT",
            EventLogMergeError::Merge { .. } => "EVENT_LOG_INVALID",
            EventLogMergeError::Read(error) | EventLogMergeError::Write(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            EventLogMergeError::Merge {
                source: LogMergeError::ConflictingPayloads { .. },
                ..
            } => "The two branches recorded different rows under one event id; git leaves the \
                  log conflicted: keep the right row by hand, then `git add` the log"
                .to_owned(),
            EventLogMergeError::Merge {
                path: Some(path), ..
            } => format!(
                "Fix or remove the line in `{}` (git's copy of that side), or resolve the log by hand",
                path.display()
            ),
            EventLogMergeError::Merge { path: None, .. } => {
                "Fix the line on that side, or resolve the log by hand".to_owned()
            }
            EventLogMergeError::Read(error) | EventLogMergeError::Write(error)
                if error.escape().is_some() =>
            {
                error.hint()
            }
            EventLogMergeError::Read(_) | EventLogMergeError::Write(_) => {
                "Check the file's permissions, then run the merge again".to_owned()
            }
        }
    }
}

/// Merges the event logs at `base`, `ours` and `theirs` (a missing file is empty) and writes the
/// result to `ours`, atomically. On an error nothing is written.
pub fn merge_event_log_files(
    base: &Path,
    ours: &Path,
    theirs: &Path,
) -> Result<LogMergeOutcome, EventLogMergeError> {
    let read = |path: &Path| -> Result<Vec<u8>, EventLogMergeError> {
        Ok(fs_util::read_optional(path)
            .map_err(EventLogMergeError::Read)?
            .unwrap_or_default())
    };
    let (base_bytes, ours_bytes, theirs_bytes) = (read(base)?, read(ours)?, read(theirs)?);
    let merged =
        log_merge::merge_event_logs(&base_bytes, &ours_bytes, &theirs_bytes).map_err(|source| {
            let path = source.side().map(|side| {
                match side {
                    MergeSide::Base => base,
                    MergeSide::Ours => ours,
                    MergeSide::Theirs => theirs,
                }
                .to_path_buf()
            });
            EventLogMergeError::Merge { path, source }
        })?;
    let rows = merged.iter().filter(|byte| **byte == b'\n').count();
    let changed = merged != ours_bytes;
    if changed {
        fs_util::atomic_write(ours, &merged).map_err(EventLogMergeError::Write)?;
    }
    Ok(LogMergeOutcome { rows, changed })
}

/// The `status.json` driver: keeps ours as it is and returns the path the user should
/// re-materialize after the merge (`path`, git's `%P`, when given).
///
/// The snapshot is a function of the log, and git gives a driver only the three versions of
/// its own file, so no driver can compute the merged snapshot; `status materialize` does it
/// once the merge is done.
pub fn keep_status_json(ours: &Path) -> Result<(), PathError> {
    // Reading proves git gave us a readable file; the bytes stay as they are.
    fs_util::read_optional(ours).map(|_| ())
}

/// What [`install_merge_drivers`] changed or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The `.gitattributes` file.
    pub gitattributes: PathBuf,
    /// The lines added to it, in order (empty when every line was there).
    pub attributes_added: Vec<String>,
    /// The git configuration entries set, as `(key, value)`.
    pub config_set: Vec<(String, String)>,
    /// The entries left as they were because they already had a value, as `(key, value)`:
    /// a driver Spec Kitty registered (`spec-kitty merge-driver-event-log %O %A %B`) runs
    /// the same union, so it is kept.
    pub config_kept: Vec<(String, String)>,
}

/// Why the drivers could not be registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// `.gitattributes` could not be read or written.
    #[error(transparent)]
    Attributes(#[from] PathError),
    /// `.gitattributes` is not UTF-8 text.
    #[error("`{path}` is not UTF-8 text", path = path.display())]
    AttributesNotText {
        /// The file.
        path: PathBuf,
    },
    /// git could not read or write the repository's configuration.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The write door refused or failed; what the install changed was undone.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl InstallError {
    /// Returns the stable code.
    pub fn code(&self) -> &'static str {
        match self {
            InstallError::Attributes(error) => error.code(),
            InstallError::AttributesNotText { .. } => "GITATTRIBUTES_INVALID",
            InstallError::Git(error) => error.code(),
            InstallError::Write(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            InstallError::Attributes(error) if error.escape().is_some() => error.hint(),
            InstallError::Attributes(_) => {
                "Check the permissions of `.gitattributes` and its directory".to_owned()
            }
            InstallError::AttributesNotText { .. } => {
                "Convert `.gitattributes` to UTF-8, then run `missionctl merge-driver install` again"
                    .to_owned()
            }
            InstallError::Git(error) => error.hint(),
            InstallError::Write(error) => error.hint(),
        }
    }
}

/// Registers the drivers in the repository whose working tree is `worktree_root`: the
/// [`ATTRIBUTE_LINES`] missing from its `.gitattributes` are appended (the file's other lines
/// are kept as they are), and each driver's `name` and `driver` are set in the repository's
/// git configuration unless they already have a value. `program` is the command git runs
/// (`missionctl`). Running it again changes nothing.
pub fn install_merge_drivers(
    repo: &Repo,
    worktree_root: &Path,
    program: &str,
) -> Result<InstallReport, InstallError> {
    // It changes the repository's configuration: the repository lock, and the write door's
    // journal, so that a kill half way is undone by the next writer.
    let mut transaction = WriteTransaction::begin(repo, Scope::Repository, "merge-driver install")?;
    let gitattributes = worktree_root.join(".gitattributes");
    let existing = fs_util::read_optional(&gitattributes)?.unwrap_or_default();
    let text = String::from_utf8(existing).map_err(|_| InstallError::AttributesNotText {
        path: gitattributes.clone(),
    })?;
    let missing: Vec<String> = ATTRIBUTE_LINES
        .iter()
        .filter(|wanted| !text.lines().any(|line| line.trim() == **wanted))
        .map(|line| (*line).to_owned())
        .collect();

    let entries = [
        (
            format!("merge.{EVENT_LOG_DRIVER}.name"),
            EVENT_LOG_DRIVER_NAME.to_owned(),
        ),
        (
            format!("merge.{EVENT_LOG_DRIVER}.driver"),
            format!("{program} merge-driver event-log %O %A %B"),
        ),
        (
            format!("merge.{STATUS_JSON_DRIVER}.name"),
            STATUS_JSON_DRIVER_NAME.to_owned(),
        ),
        (
            format!("merge.{STATUS_JSON_DRIVER}.driver"),
            format!("{program} merge-driver status-json %O %A %B %P"),
        ),
    ];
    // Every read first, so that a git failure leaves nothing half set.
    let mut config_set = Vec::new();
    let mut config_kept = Vec::new();
    for (key, value) in entries {
        match config_value(worktree_root, &key)? {
            Some(current) => config_kept.push((key, current)),
            None => config_set.push((key, value)),
        }
    }

    if !missing.is_empty() {
        let mut updated = text.clone();
        if !updated.is_empty() && !updated.ends_with('\n') {
            updated.push('\n');
        }
        for line in &missing {
            updated.push_str(line);
            updated.push('\n');
        }
        transaction.write_file(&gitattributes, updated.as_bytes())?;
    }
    for (key, value) in &config_set {
        transaction.set_config(key, value)?;
    }
    transaction.finish()?;
    Ok(InstallReport {
        gitattributes,
        attributes_added: missing,
        config_set,
        config_kept,
    })
}

/// Returns the repository-local value of a git configuration key, `None` when it has none.
fn config_value(dir: &Path, key: &str) -> Result<Option<String>, GitError> {
    match git::git(dir, ["config", "--local", "--get", key]) {
        Ok(output) => Ok(Some(
            String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_owned(),
        )),
        // `git config --get` exits 1 when the key is not set.
        Err(GitError::Failed { status, .. }) if status.code() == Some(1) => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_writes_nothing_and_names_no_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let [base, ours, theirs] = ["base", "ours", "theirs"].map(|name| dir.path().join(name));
        std::fs::write(&ours, "{\"event_id\": \"A\", \"n\": 1}\n")?;
        std::fs::write(&theirs, "{\"event_id\": \"A\", \"n\": 2}\n")?;
        let error = merge_event_log_files(&base, &ours, &theirs).expect_err("conflict");
        assert_eq!(error.code(), "EVENT_LOG_MERGE_CONFLICT");
        assert_eq!(
            error.to_string(),
            "Cannot merge the event logs: Conflicting payloads found for event_id 'A'"
        );
        assert_eq!(
            std::fs::read_to_string(&ours)?,
            "{\"event_id\": \"A\", \"n\": 1}\n"
        );
        Ok(())
    }

    #[test]
    fn a_missing_base_is_empty_and_ours_gets_the_union() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let [base, ours, theirs] = ["base", "ours", "theirs"].map(|name| dir.path().join(name));
        std::fs::write(&ours, "{\"at\": \"2\", \"event_id\": \"B\"}\n")?;
        std::fs::write(&theirs, "{\"event_id\":\"A\",\"at\":\"1\"}\n")?;
        let outcome = merge_event_log_files(&base, &ours, &theirs)?;
        assert_eq!(
            outcome,
            LogMergeOutcome {
                rows: 2,
                changed: true
            }
        );
        assert_eq!(
            std::fs::read_to_string(&ours)?,
            "{\"at\": \"1\", \"event_id\": \"A\"}\n{\"at\": \"2\", \"event_id\": \"B\"}\n"
        );
        let error = {
            std::fs::write(&theirs, "{\"event_id\": \"C\"}\nnot json\n")?;
            merge_event_log_files(&base, &ours, &theirs).expect_err("invalid")
        };
        assert_eq!(error.code(), "EVENT_LOG_INVALID");
        assert!(error.hint().contains("theirs"), "{}", error.hint());
        Ok(())
    }
}
