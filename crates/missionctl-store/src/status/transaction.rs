//! `BookkeepingTransaction`: one locked, crash-safe, committed status write, made through the
//! repository's one write door ([`crate::write::WriteTransaction`]).
//!
//! Lifecycle: [`BookkeepingTransaction::acquire`] opens a write transaction in the mission's
//! scope (Spec Kitty's status lock), checks the destination and records both files' bytes;
//! [`BookkeepingTransaction::read_log`] parses the log as it stands under the lock;
//! [`BookkeepingTransaction::append`] appends rows atomically, verifies them on disk and
//! rewrites `status.json` when its bytes change; [`BookkeepingTransaction::commit`] commits
//! exactly those two files to the destination branch. Every file write, the index entries and
//! the branch move are journalled by the door: any failure, a dropped transaction, or a kill
//! at any instant is undone (or, once the branch holds the commit, completed) with the files
//! byte for byte. Nothing outside this module can write status: the module is private to
//! [`super`] (see `docs/adr/0004-bookkeeping-transaction.md` and
//! `docs/adr/0009-one-write-door.md`).
//!
//! A working copy checked out with CRLF line endings (`core.autocrlf`, `eol=crlf`) is read as
//! LF: the rows appended and the bytes committed are the ones Spec Kitty writes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::ObjectId;
use missionctl_core::status::event::LogRow;
use missionctl_core::status::event_log::{self, EventLog};
use missionctl_core::status::reducer::reduce_with_identity;
use missionctl_core::status::snapshot::StatusSnapshot;
use serde::Deserialize;

use super::{CommitReceipt, StatusWriteError};
use crate::fs_util::{IoResultExt, PathError};
use crate::mission::dir::{EVENT_LOG_FILE, META_FILE, SNAPSHOT_FILE, StatusReadError};
use crate::repo::Repo;
use crate::repo::containment::Containment;
use crate::repo::protection::{ProtectedBranches, ProtectedWrite};
use crate::write::{CommitFiles, CommitRequest, FileWrite, Scope, WriteError, WriteTransaction};

/// The prefix of the temporary files status writers before the write door created next to
/// the files they replaced. Only status writers, which hold the lock, created them, so a writer
/// holding the lock may remove any it finds: they were left by a writer that was killed.
const LEGACY_TEMP_PREFIX: &str = ".missionctl-status-";

/// Where a mission's status is written and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusPlacement {
    /// The mission's directory name (its write scope).
    pub(crate) mission_slug: String,
    /// The worktree whose checkout holds the status files and makes the commit.
    pub(crate) worktree_root: PathBuf,
    /// The mission directory (absolute) holding `status.events.jsonl` and `status.json`.
    pub(crate) mission_dir: PathBuf,
    /// The short branch name the commit goes to; it must be checked out in `worktree_root`.
    pub(crate) destination_ref: String,
    /// The coordination branch to check out at `worktree_root` when that worktree does not
    /// exist yet (the first coordination write); `None` for the primary checkout.
    pub(crate) materialize_branch: Option<String>,
    /// The primary checkout's root.
    pub(crate) primary_root: PathBuf,
    /// The mission directory in the primary checkout (seeds a new coordination worktree).
    pub(crate) primary_mission_dir: PathBuf,
    /// The repository's `info/exclude` file, where `.worktrees/` is ignored when a
    /// coordination worktree is created and nothing ignores it yet.
    pub(crate) info_exclude: PathBuf,
    /// The mission's snapshot cache (see [`super::cache`]).
    pub(crate) cache_path: PathBuf,
    /// What every path above is checked against: no symbolic link below the repository's
    /// roots is followed (see [`crate::repo::containment`]).
    pub(crate) containment: Containment,
}

/// An open transaction. See the module documentation.
#[derive(Debug)]
pub(crate) struct BookkeepingTransaction {
    placement: StatusPlacement,
    meta: Option<serde_json::Map<String, serde_json::Value>>,
    write: WriteTransaction,
    /// The log's bytes before the transaction, LF line endings (`None`: no file).
    log_before: Option<Vec<u8>>,
    /// The log's current bytes, as last read or written under the lock.
    log_now: Option<Vec<u8>>,
    /// The snapshot's current bytes.
    snapshot_now: Option<Vec<u8>>,
    /// `log_now` parsed, once asked for.
    parsed: Option<EventLog>,
    event_ids: Vec<String>,
    /// `status.json` was rewritten.
    snapshot_written: bool,
    /// The commit is the write transaction's commit point (false when more follows in the
    /// same transaction).
    point: bool,
    /// Coordination artifacts written next to the status files (a review-cycle file, the
    /// acceptance matrix): the path relative to the mission directory and the bytes.
    artifacts: Vec<(String, Vec<u8>)>,
    /// The protected branches, for the next status write of the same transaction.
    protected_branches: ProtectedBranches,
}

/// Returns the branch checked out in a worktree, reading `HEAD` directly (no git process).
/// `None` for a detached `HEAD`.
pub(crate) fn checked_out_branch(worktree_root: &Path) -> Result<Option<String>, PathError> {
    let git_dir = crate::write::git_dir_of(worktree_root)?;
    let head_path = git_dir.join("HEAD");
    let head = crate::fs_util::read_optional(&head_path)?.ok_or_else(|| PathError {
        action: "Cannot read",
        path: head_path.clone(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    Ok(String::from_utf8_lossy(&head)
        .trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_owned))
}

/// Removes the temporary files a status writer killed before the write door existed left in
/// `dir` (the door's own are settled by its recovery).
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(LEGACY_TEMP_PREFIX) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Reads a file without following a symbolic link at its last component; `None` when it does
/// not exist. A link is refused as Spec Kitty refuses it.
pub(super) fn read_log_file(path: &Path) -> Result<Option<Vec<u8>>, StatusReadError> {
    use std::io::Read;

    match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PathError {
                action: "Cannot read",
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
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
    let mut bytes = Vec::new();
    match options
        .open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
    {
        Ok(_) => Ok(Some(bytes)),
        // ELOOP: the file was replaced by a link after the check above.
        Err(error) if error.raw_os_error() == Some(40) => {
            Err(StatusReadError::LogSymlink(path.to_path_buf()))
        }
        Err(source) => Err(PathError {
            action: "Cannot read",
            path: path.to_path_buf(),
            source,
        }
        .into()),
    }
}

/// The `event_id` of a log row, read without parsing the rest.
#[derive(Deserialize)]
struct RowId<'a> {
    #[serde(borrow)]
    event_id: Option<std::borrow::Cow<'a, str>>,
}

/// Returns `target` with the rows of `source` it lacks appended in their order (rows are the
/// same when their `event_id` is; a row without one is compared by its bytes), or `None` when
/// it lacks none. Existing bytes are kept as they are.
pub(super) fn union_rows(target: &[u8], source: &[u8]) -> Option<Vec<u8>> {
    fn key(line: &[u8]) -> Option<Vec<u8>> {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return None;
        }
        let parsed = std::str::from_utf8(trimmed)
            .ok()
            .and_then(|text| missionctl_core::text::pyjson::from_str_deep::<RowId<'_>>(text).ok());
        match parsed {
            Some(RowId { event_id: Some(id) }) => Some([b"id:".as_slice(), id.as_bytes()].concat()),
            _ => Some([b"raw:".as_slice(), trimmed].concat()),
        }
    }
    let known: std::collections::HashSet<Vec<u8>> = target
        .split(|byte| *byte == b'\n')
        .filter_map(key)
        .collect();
    let mut missing = Vec::new();
    for line in source.split(|byte| *byte == b'\n') {
        if let Some(key) = key(line)
            && !known.contains(&key)
        {
            missing.push(line.trim_ascii_end());
        }
    }
    if missing.is_empty() {
        return None;
    }
    let mut bytes = target.to_vec();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    for line in missing {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    Some(bytes)
}

/// The directory, next to the coordination worktrees, where one is checked out before it is
/// renamed into place.
const STAGING_DIR: &str = ".materializing";

/// Returns where a coordination worktree is checked out before it is renamed into place:
/// `.worktrees/.materializing/<name>` (the same base name, so git names its administrative
/// directory as it would for the final path).
fn staging_path(root: &Path) -> PathBuf {
    let name = root.file_name().unwrap_or_default();
    root.with_file_name(STAGING_DIR).join(name)
}

/// Returns true when `.gitignore` at the root or `info/exclude` already ignores `.worktrees/`.
fn worktrees_ignored(primary_root: &Path, exclude: Option<&[u8]>) -> bool {
    let gitignore = crate::fs_util::read_optional(&primary_root.join(".gitignore"))
        .ok()
        .flatten()
        .unwrap_or_default();
    [gitignore.as_slice(), exclude.unwrap_or_default()]
        .into_iter()
        .flat_map(|bytes| bytes.split(|byte| *byte == b'\n'))
        .map(<[u8]>::trim_ascii)
        .any(|line| {
            matches!(
                line,
                b".worktrees" | b".worktrees/" | b"/.worktrees" | b"/.worktrees/"
            )
        })
}

/// Returns `bytes` with CRLF line endings turned into LF (a working copy checked out with
/// `core.autocrlf` or `eol=crlf`); `None` when there is none. A log row never holds a raw CR:
/// JSON escapes it.
pub(crate) fn without_crlf(bytes: &[u8]) -> Option<Vec<u8>> {
    memchr_crlf(bytes)?;
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        if byte == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(byte);
    }
    Some(out)
}

fn memchr_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|pair| pair == b"\r\n")
}

/// Returns the error of a gix failure while reading the destination.
fn read_failed(action: &'static str) -> impl Fn(gix::Error) -> StatusWriteError {
    move |source| {
        StatusWriteError::Write(WriteError::Objects {
            action: action.to_owned(),
            source,
        })
    }
}

impl BookkeepingTransaction {
    /// Opens a write transaction in the mission's scope (waiting at most `timeout` for its
    /// lock), refuses a protected or not-checked-out destination, creates the coordination
    /// worktree on the first coordination write, and records the files' bytes.
    pub(crate) fn acquire(
        placement: StatusPlacement,
        meta: Option<serde_json::Map<String, serde_json::Value>>,
        repo: &Repo,
        protected_branches: &ProtectedBranches,
        timeout: Duration,
    ) -> Result<BookkeepingTransaction, StatusWriteError> {
        refuse_protected(&placement, protected_branches)?;
        let write = WriteTransaction::begin_with_timeout(
            repo,
            Scope::Mission(placement.mission_slug.clone()),
            "status",
            timeout,
        )?;
        BookkeepingTransaction::within(write, placement, meta, protected_branches, true)
    }

    /// Opens a status write inside a write transaction of the mission's scope that is already
    /// open (`implement`, `tasks finalize`): its commit is the transaction's commit point only
    /// when `point`.
    pub(crate) fn within(
        write: WriteTransaction,
        placement: StatusPlacement,
        meta: Option<serde_json::Map<String, serde_json::Value>>,
        protected_branches: &ProtectedBranches,
        point: bool,
    ) -> Result<BookkeepingTransaction, StatusWriteError> {
        refuse_protected(&placement, protected_branches)?;
        let mut transaction = BookkeepingTransaction {
            placement,
            meta,
            write,
            log_before: None,
            log_now: None,
            snapshot_now: None,
            parsed: None,
            event_ids: Vec::new(),
            snapshot_written: false,
            point,
            artifacts: Vec::new(),
            protected_branches: protected_branches.clone(),
        };
        // From here on, an error drops the transaction, which undoes what it did.
        transaction.prepare()?;
        Ok(transaction)
    }

    fn prepare(&mut self) -> Result<(), StatusWriteError> {
        let placement = self.placement.clone();
        // Nothing is written through a symbolic link: the worktree (and `.worktrees/` above a
        // coordination one), the cache, then the mission directory once it exists.
        let containment = &placement.containment;
        containment.check(&placement.cache_path)?;
        if let Some(branch) = &placement.materialize_branch
            && !containment.exists(&placement.worktree_root)?
        {
            self.create_worktree(branch)?;
        }
        containment.check(&placement.mission_dir)?;
        let checked_out = checked_out_branch(&placement.worktree_root)?;
        if checked_out.as_deref() != Some(placement.destination_ref.as_str()) {
            return Err(StatusWriteError::DestinationNotCheckedOut {
                worktree: placement.worktree_root.clone(),
                destination: placement.destination_ref.clone(),
                checked_out,
            });
        }
        remove_stale_temporaries(&placement.mission_dir);
        let log_path = placement.mission_dir.join(EVENT_LOG_FILE);
        let on_disk = read_log_file(&log_path)?;
        self.log_before = on_disk
            .as_deref()
            .map(|bytes| without_crlf(bytes).unwrap_or_else(|| bytes.to_vec()));
        self.snapshot_now =
            crate::fs_util::read_optional(&placement.mission_dir.join(SNAPSHOT_FILE))?;
        self.log_now = self.log_before.clone();

        // A coordination worktree whose mission directory has no log yet takes over from the
        // primary checkout, which was authoritative until now: carry over the rows it lacks
        // so no event written in the create-window disappears.
        let seeds = placement.materialize_branch.is_some()
            && placement.primary_mission_dir != placement.mission_dir;
        if seeds
            && let Some(primary) =
                read_log_file(&placement.primary_mission_dir.join(EVENT_LOG_FILE))?
        {
            let primary = without_crlf(&primary).unwrap_or(primary);
            let current = self.log_now.clone().unwrap_or_default();
            let seeded = union_rows(&current, &primary)
                .or_else(|| self.log_before.is_none().then(|| primary.clone()));
            if let Some(bytes) = seeded {
                self.write.create_dir_all(&placement.mission_dir)?;
                self.write.write_file(&log_path, &bytes)?;
                self.log_now = Some(bytes);
            }
        }
        Ok(())
    }

    /// Checks the coordination branch out at the placement's worktree root, and makes sure
    /// `.worktrees/` is ignored so the primary checkout stays clean. Every step is journalled:
    /// a failure removes the worktree, the directory and the `info/exclude` line again.
    fn create_worktree(&mut self, branch: &str) -> Result<(), StatusWriteError> {
        let root = self.placement.worktree_root.clone();
        let containment = self.placement.containment.clone();
        containment.check(&staging_path(&root))?;
        let exclude = containment.read(&self.placement.info_exclude)?;
        if !worktrees_ignored(&self.placement.primary_root, exclude.as_deref()) {
            let mut bytes = exclude.unwrap_or_default();
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(b"/.worktrees/\n");
            if let Some(info) = self.placement.info_exclude.parent() {
                self.write.create_dir_all(info)?;
            }
            self.write
                .write_file(&self.placement.info_exclude, &bytes)?;
        }
        if let Some(parent) = root.parent() {
            self.write.create_dir_all(parent)?;
        }
        // Check out at a staging path, then rename into place: a reader resolving the
        // mission meanwhile finds either no coordination worktree (and reads the branch) or a
        // complete one, never a half-populated one, which it would have to refuse as a husk.
        let staging = staging_path(&root);
        if staging.exists() {
            // Left by a writer killed before the write door journalled worktrees.
            let removed = self.write.git(
                &self.placement.primary_root,
                &[
                    std::ffi::OsStr::new("worktree"),
                    "remove".as_ref(),
                    "--force".as_ref(),
                    staging.as_os_str(),
                ],
            );
            if removed.is_err() {
                std::fs::remove_dir_all(&staging).with_path("Cannot remove", &staging)?;
            }
        }
        self.write.add_worktree(&root, branch, Some(&staging))?;
        Ok(())
    }

    /// Returns the log as it stands under the lock. A malformed line refuses the read.
    pub(crate) fn read_log(&mut self) -> Result<&EventLog, StatusWriteError> {
        let log = match self.parsed.take() {
            Some(log) => log,
            None => {
                let log = event_log::parse(self.log_now.as_deref().unwrap_or_default());
                if let Some(error) = log.errors.first() {
                    return Err(StatusReadError::LogInvalid {
                        path: self.placement.mission_dir.join(EVENT_LOG_FILE),
                        line: error.line,
                        message: error.message.clone(),
                    }
                    .into());
                }
                log
            }
        };
        Ok(self.parsed.insert(log))
    }

    /// Appends serialized rows (without newlines) atomically, verifies them on disk, then
    /// rewrites `status.json` if its bytes change. `event_ids` are the ids of the appended
    /// rows, for the receipt.
    pub(crate) fn append(
        &mut self,
        lines: &[String],
        event_ids: &[String],
    ) -> Result<StatusSnapshot, StatusWriteError> {
        self.read_log()?;
        let mut bytes = self.log_now.clone().unwrap_or_default();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        let prefix_len = bytes.len();
        let prefix_lines = bytes.iter().filter(|byte| **byte == b'\n').count();
        for line in lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        let log_path = self.placement.mission_dir.join(EVENT_LOG_FILE);
        self.write.write_file_with(
            &log_path,
            &bytes,
            FileWrite {
                flush: true,
                sync_dir: false,
            },
        )?;
        self.log_now = Some(bytes.clone());

        // Verify: the file must hold exactly what was written, and the new rows must read
        // back (the rows before them were parsed under the lock already).
        let first_id = || event_ids.first().cloned().unwrap_or_default();
        let on_disk = read_log_file(&log_path)?;
        if on_disk.as_deref() != Some(bytes.as_slice()) {
            return Err(StatusWriteError::PersistenceVerification {
                event_id: first_id(),
            });
        }
        let tail = event_log::parse(&bytes[prefix_len..]);
        if !tail.errors.is_empty() {
            return Err(StatusWriteError::PersistenceVerification {
                event_id: first_id(),
            });
        }
        for id in event_ids {
            let present = tail.rows.iter().any(|(_, row)| match row {
                LogRow::Transition(event) => &event.event_id == id,
                LogRow::Annotation(annotation) => &annotation.event_id == id,
                LogRow::Foreign(_) => false,
            });
            if !present {
                return Err(StatusWriteError::PersistenceVerification {
                    event_id: id.clone(),
                });
            }
        }
        let mut log = self.parsed.take().unwrap_or_default();
        log.rows.extend(
            tail.rows
                .into_iter()
                .map(|(line, row)| (line + prefix_lines, row)),
        );
        self.event_ids.extend(event_ids.iter().cloned());
        let snapshot = self.materialize(&log);
        self.parsed = Some(log);
        // One directory flush for both renames.
        self.write.sync_dir(&self.placement.mission_dir)?;
        snapshot
    }

    /// Rewrites `status.json` from the log as it stands under the lock (and the log itself
    /// when the working copy has CRLF line endings).
    pub(crate) fn materialize_now(&mut self) -> Result<StatusSnapshot, StatusWriteError> {
        self.read_log()?;
        let log_path = self.placement.mission_dir.join(EVENT_LOG_FILE);
        if let Some(bytes) = self.log_now.clone()
            && read_log_file(&log_path)?.as_deref() != Some(bytes.as_slice())
        {
            self.write.write_file(&log_path, &bytes)?;
        }
        let log = self.parsed.take().unwrap_or_default();
        let snapshot = self.materialize(&log);
        self.parsed = Some(log);
        if self.snapshot_written {
            self.write.sync_dir(&self.placement.mission_dir)?;
        }
        snapshot
    }

    fn materialize(&mut self, log: &EventLog) -> Result<StatusSnapshot, StatusWriteError> {
        let snapshot = reduce_with_identity(log, self.meta.as_ref()).map_err(|error| {
            StatusReadError::MetaInvalid {
                path: self.placement.primary_mission_dir.join(META_FILE),
                message: error.to_string(),
            }
        })?;
        self.remember(&snapshot);
        let bytes = snapshot.to_status_json().into_bytes();
        if self.snapshot_now.as_deref() != Some(bytes.as_slice()) {
            self.snapshot_written = true;
            self.write.write_file_with(
                &self.placement.mission_dir.join(SNAPSHOT_FILE),
                &bytes,
                FileWrite {
                    flush: false,
                    sync_dir: false,
                },
            )?;
            self.snapshot_now = Some(bytes);
        }
        Ok(snapshot)
    }

    /// Caches the snapshot of the log as it is on disk now, while the lock keeps other status
    /// writers out; only when the file's size and tail are those of the bytes reduced, so a
    /// writer that ignores the lock cannot get a stale entry cached.
    fn remember(&self, snapshot: &StatusSnapshot) {
        let Some(bytes) = &self.log_now else {
            return;
        };
        let path = self.placement.mission_dir.join(EVENT_LOG_FILE);
        if let Some(stamp) = super::cache::stamp(&path)
            && stamp.describes(bytes)
        {
            super::cache::store(&self.placement.cache_path, &stamp, snapshot);
        }
    }

    /// Returns the repository-relative paths of the two files and their current bytes (a
    /// file that does not exist is left out).
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let relative = self
            .placement
            .mission_dir
            .strip_prefix(&self.placement.worktree_root)
            .unwrap_or(&self.placement.mission_dir);
        let dir: Vec<String> = relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy().into_owned())
            .collect();
        [
            (EVENT_LOG_FILE, &self.log_now),
            (SNAPSHOT_FILE, &self.snapshot_now),
        ]
        .into_iter()
        .filter_map(|(name, bytes)| {
            let mut path = dir.clone();
            path.push(name.to_owned());
            bytes.as_ref().map(|bytes| (path.join("/"), bytes.clone()))
        })
        .chain(self.artifacts.iter().map(|(relative, bytes)| {
            let mut path = dir.clone();
            path.push(relative.clone());
            (path.join("/"), bytes.clone())
        }))
        .collect()
    }

    /// Returns the write transaction, for a step of the same write outside the status files
    /// (the workspace context file a cancel releases).
    pub(crate) fn write_mut(&mut self) -> &mut WriteTransaction {
        &mut self.write
    }

    /// Hands the write transaction back, nothing committed by this status write (it changed
    /// nothing: the files it wrote are still journalled, and undone if the caller fails).
    pub(crate) fn into_write(self) -> WriteTransaction {
        self.write
    }

    /// Returns the current bytes of a file of the mission directory (`relative`, `/`-separated)
    /// as the transaction sees it under the lock: staged bytes, else the file on disk.
    pub(crate) fn artifact_bytes(
        &self,
        relative: &str,
    ) -> Result<Option<Vec<u8>>, StatusWriteError> {
        if let Some((_, bytes)) = self.artifacts.iter().find(|(path, _)| path == relative) {
            return Ok(Some(bytes.clone()));
        }
        let path = artifact_path(&self.placement.mission_dir, relative)?;
        Ok(self.placement.containment.read(&path)?)
    }

    /// Returns the names of the entries of a directory of the mission directory (`relative`),
    /// staged files included; an absent directory has none.
    pub(crate) fn artifact_names(&self, relative: &str) -> Result<Vec<String>, StatusWriteError> {
        let dir = artifact_path(&self.placement.mission_dir, relative)?;
        let mut names: Vec<String> = Vec::new();
        if let Some(entries) = self.placement.containment.read_dir(&dir)? {
            for entry in entries.flatten() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        let prefix = format!("{}/", relative.trim_end_matches('/'));
        for (path, _) in &self.artifacts {
            if let Some(name) = path.strip_prefix(&prefix)
                && !name.contains('/')
                && !names.iter().any(|existing| existing == name)
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Writes a coordination artifact of the mission directory (`relative`, `/`-separated, no
    /// `..`) through the write door (journalled, flushed); it is committed with the status
    /// files and undone with them.
    pub(crate) fn stage_artifact(
        &mut self,
        relative: &str,
        bytes: &[u8],
    ) -> Result<(), StatusWriteError> {
        let path = artifact_path(&self.placement.mission_dir, relative)?;
        if let Some(parent) = path.parent() {
            self.write.create_dir_all(parent)?;
        }
        self.write.write_file(&path, bytes)?;
        match self.artifacts.iter_mut().find(|(path, _)| path == relative) {
            Some(staged) => staged.1 = bytes.to_vec(),
            None => self.artifacts.push((relative.to_owned(), bytes.to_vec())),
        }
        Ok(())
    }

    /// Commits what the transaction has written so far — not the write transaction's commit
    /// point — and opens the next status write in the same write transaction, under the same
    /// lock: Spec Kitty splits a verdict into several commits (the review-cycle file, the
    /// transition, the runtime state), and all of them land, or none (a kill before the last,
    /// the commit point, undoes the earlier ones).
    pub(crate) fn commit_and_continue(
        mut self,
        message: &str,
        committed_at: &str,
        commit_seconds: i64,
    ) -> Result<(CommitReceipt, BookkeepingTransaction), StatusWriteError> {
        self.point = false;
        let placement = self.placement.clone();
        let meta = self.meta.clone();
        let protected = self.protected_branches.clone();
        let (receipt, write) = self.commit_keep(message, committed_at, commit_seconds)?;
        let next = BookkeepingTransaction::within(write, placement, meta, &protected, false)?;
        Ok((receipt, next))
    }

    /// Commits as the write transaction's commit point and ends it (the last commit of a
    /// transaction that [continued](Self::commit_and_continue)).
    pub(crate) fn commit_last(
        mut self,
        message: &str,
        committed_at: &str,
        commit_seconds: i64,
    ) -> Result<CommitReceipt, StatusWriteError> {
        self.point = true;
        self.commit(message, committed_at, commit_seconds)
    }

    /// Returns true when the transaction rewrote `status.json`.
    pub(crate) fn snapshot_written(&self) -> bool {
        self.snapshot_written
    }

    /// Returns a receipt that commits nothing, pinned to the destination's tip, and ends the
    /// transaction.
    pub(crate) fn noop_receipt(
        self,
        committed_at: &str,
    ) -> Result<CommitReceipt, StatusWriteError> {
        let (receipt, write) = self.noop_receipt_keep(committed_at)?;
        write.finish()?;
        Ok(receipt)
    }

    /// Like [`BookkeepingTransaction::noop_receipt`], handing the write transaction back.
    pub(crate) fn noop_receipt_keep(
        self,
        committed_at: &str,
    ) -> Result<(CommitReceipt, WriteTransaction), StatusWriteError> {
        let tip = self.write.branch_tip(&self.placement.destination_ref)?;
        let receipt = self.receipt(tip, committed_at, true);
        Ok((receipt, self.write))
    }

    fn receipt(
        &self,
        commit: Option<ObjectId>,
        committed_at: &str,
        is_noop: bool,
    ) -> CommitReceipt {
        CommitReceipt {
            commit_sha: commit.map(|id| id.to_string()).unwrap_or_default(),
            committed_at: committed_at.to_owned(),
            destination_ref: self.placement.destination_ref.clone(),
            worktree_root: self.placement.worktree_root.clone(),
            event_ids: self.event_ids.clone(),
            is_noop,
        }
    }

    /// Commits exactly the log and the snapshot to the destination branch, from the
    /// placement's worktree, and ends the transaction. Every other path of the user's index
    /// and worktree stays as it was. Files equal to the branch's tip give a no-op receipt
    /// pinned to it. On failure everything is undone byte for byte.
    pub(crate) fn commit(
        self,
        message: &str,
        committed_at: &str,
        commit_seconds: i64,
    ) -> Result<CommitReceipt, StatusWriteError> {
        let (receipt, write) = self.commit_keep(message, committed_at, commit_seconds)?;
        write.finish()?;
        Ok(receipt)
    }

    /// Like [`BookkeepingTransaction::commit`], handing the write transaction back for what
    /// follows in it.
    pub(crate) fn commit_keep(
        mut self,
        message: &str,
        committed_at: &str,
        commit_seconds: i64,
    ) -> Result<(CommitReceipt, WriteTransaction), StatusWriteError> {
        match self.try_commit(message, committed_at, commit_seconds) {
            Ok(receipt) => Ok((receipt, self.write)),
            Err(error) => {
                let problems = self.write.abort();
                if problems.is_empty() {
                    Err(error)
                } else {
                    Err(StatusWriteError::RollbackIncomplete {
                        cause: Box::new(error),
                        problems,
                    })
                }
            }
        }
    }

    fn try_commit(
        &mut self,
        message: &str,
        committed_at: &str,
        commit_seconds: i64,
    ) -> Result<CommitReceipt, StatusWriteError> {
        let root = self.placement.worktree_root.clone();
        let destination = self.placement.destination_ref.clone();
        // The worktree must still have the destination checked out: the index updated below
        // is that checkout's.
        let checked_out = checked_out_branch(&root)?;
        if checked_out.as_deref() != Some(destination.as_str()) {
            return Err(StatusWriteError::DestinationNotCheckedOut {
                worktree: root,
                destination,
                checked_out,
            });
        }
        let files = self.files();
        let log_path = files
            .iter()
            .find(|(path, _)| path.ends_with(EVENT_LOG_FILE))
            .map(|(path, _)| path.clone());
        let guard = NotBehind {
            log_path,
            log_before: self.log_before.clone().unwrap_or_default(),
            branch: destination.clone(),
            worktree: root.clone(),
            files: files.iter().map(|(path, _)| path.clone()).collect(),
        };
        let tip = self.write.branch_tip(&destination)?;
        // Nothing to commit: no index or ref is touched.
        if let Some(tip) = tip {
            let tree = crate::write::tree_of_commit(self.write.gix(), tip)?;
            guard.check(self.write.gix(), tree)?;
            if !differs_from_tree(self.write.gix(), tree, &files)? {
                return Ok(self.receipt(Some(tip), committed_at, true));
            }
        }
        let paths: Vec<String> = files.iter().map(|(path, _)| path.clone()).collect();
        let outcome = self.write.commit_checked(
            &CommitRequest {
                branch: &destination,
                files: CommitFiles::Checkout {
                    root: &root,
                    paths: &paths,
                },
                message,
                identity: None,
                seconds: commit_seconds,
                point: self.point,
            },
            |gix, tip| match tip {
                Some(tip) => {
                    let tree = crate::write::tree_of_commit(gix, tip)?;
                    guard.check(gix, tree)
                }
                None => Ok(()),
            },
            |_, _| Ok::<(), StatusWriteError>(()),
        )?;
        Ok(match outcome.commit {
            Some(commit) => self.receipt(Some(commit), committed_at, false),
            None => self.receipt(outcome.tip, committed_at, true),
        })
    }
}

/// Returns the absolute path of a mission directory's file named by a relative, `/`-separated
/// path, refusing an empty, absolute or parent component.
fn artifact_path(mission_dir: &Path, relative: &str) -> Result<PathBuf, StatusWriteError> {
    let safe = !relative.is_empty()
        && relative
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !safe {
        return Err(StatusWriteError::InvalidArtifactPath(relative.to_owned()));
    }
    Ok(relative
        .split('/')
        .fold(mission_dir.to_path_buf(), |path, part| path.join(part)))
}

/// Refuses a protected destination, before anything else.
fn refuse_protected(
    placement: &StatusPlacement,
    protected_branches: &ProtectedBranches,
) -> Result<(), StatusWriteError> {
    protected_branches
        .check(&placement.destination_ref, ProtectedWrite::Status)
        .map_err(StatusWriteError::ProtectedBranch)
}

/// The guard against committing on a destination that has rows its worktree lacks.
struct NotBehind {
    /// The log's repository-relative path (`None`: no log to commit).
    log_path: Option<String>,
    /// The log the transaction started from (LF line endings).
    log_before: Vec<u8>,
    branch: String,
    worktree: PathBuf,
    files: Vec<String>,
}

impl NotBehind {
    /// Refuses when the destination's committed log is not a prefix of (or equal to) the log
    /// this transaction started from: the branch then has rows the worktree never saw, and
    /// committing the worktree's file would drop them. Rows appended on disk and not committed
    /// yet (a killed writer's) are fine.
    fn check(&self, repo: &gix::Repository, tree: ObjectId) -> Result<(), StatusWriteError> {
        let Some(path) = &self.log_path else {
            return Ok(());
        };
        let failed = read_failed("read the destination's log");
        let tree = repo
            .find_tree(tree)
            .map_err(|error| failed(gix::Error::from_error(error)))?;
        let Some(entry) = tree
            .lookup_entry_by_path(path)
            .map_err(|error| failed(gix::Error::from_error(error)))?
        else {
            return Ok(());
        };
        let before = self.log_before.as_slice();
        let size = repo
            .find_header(entry.object_id())
            .map_err(|error| failed(gix::Error::from_error(error)))?
            .size();
        let before_size = u64::try_from(before.len()).unwrap_or(u64::MAX);
        let contained = if size > before_size {
            false
        } else if size == before_size {
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, before)
                .map_err(|error| failed(gix::Error::from_error(error)))?
                == entry.object_id()
        } else {
            let object = entry
                .object()
                .map_err(|error| failed(gix::Error::from_error(error)))?;
            before.starts_with(&object.data)
        };
        if contained {
            Ok(())
        } else {
            Err(StatusWriteError::BranchAhead {
                branch: self.branch.clone(),
                worktree: self.worktree.clone(),
                files: self.files.clone(),
            })
        }
    }
}

/// Returns true when a file's bytes differ from its blob in `tree` (or it is not there).
fn differs_from_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    files: &[(String, Vec<u8>)],
) -> Result<bool, StatusWriteError> {
    if files.is_empty() {
        return Ok(false);
    }
    let failed = read_failed("read the destination's tree");
    let tree = repo
        .find_tree(tree)
        .map_err(|error| failed(gix::Error::from_error(error)))?;
    for (path, bytes) in files {
        let Some(entry) = tree
            .lookup_entry_by_path(path)
            .map_err(|error| failed(gix::Error::from_error(error)))?
        else {
            return Ok(true);
        };
        // The blob's size first: hashing a long log costs more than the rest of a write.
        let header = repo
            .find_header(entry.object_id())
            .map_err(|error| failed(gix::Error::from_error(error)))?;
        if header.size() != u64::try_from(bytes.len()).unwrap_or(u64::MAX) {
            return Ok(true);
        }
        let blob = gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
            .map_err(|error| failed(gix::Error::from_error(error)))?;
        if entry.object_id() != blob {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_appends_only_missing_rows_and_keeps_bytes() {
        let target = b"{\"event_id\": \"A\", \"x\": 1}\n{\"event_id\": \"B\"}";
        let source = b"{\"event_id\":\"A\"}\n\n{\"event_id\": \"C\"}\nnot json\n";
        let merged = union_rows(target, source).expect("C and the raw line are missing");
        assert_eq!(
            merged,
            b"{\"event_id\": \"A\", \"x\": 1}\n{\"event_id\": \"B\"}\n{\"event_id\": \"C\"}\nnot json\n"
        );
        assert_eq!(union_rows(&merged, source), None);
        assert_eq!(union_rows(b"", b"").as_deref(), None);
    }

    #[test]
    fn worktrees_ignore_rules_are_recognized() {
        let dir = std::path::Path::new("/nonexistent-missionctl");
        assert!(worktrees_ignored(dir, Some(b"# x\n/.worktrees/\n")));
        assert!(worktrees_ignored(dir, Some(b".worktrees")));
        assert!(!worktrees_ignored(dir, Some(b".worktrees-old/\n")));
        assert!(!worktrees_ignored(dir, None));
    }
}
