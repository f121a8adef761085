//! `BookkeepingTransaction`: one locked, crash-safe, committed status write.
//!
//! Lifecycle: [`BookkeepingTransaction::acquire`] takes the mission's status lock, checks the
//! destination and records both files' bytes; [`BookkeepingTransaction::read_log`] parses the
//! log as it stands under the lock; [`BookkeepingTransaction::append`] appends rows atomically,
//! verifies them on disk and rewrites `status.json` when its bytes change;
//! [`BookkeepingTransaction::commit`] commits exactly those two files to the destination
//! branch. Any failure, and dropping a transaction that was not committed, restores both files
//! byte for byte. Nothing outside this module can write status: the module is private to
//! [`super`] (see `docs/adr/0004-bookkeeping-transaction.md`).
//!
//! # How the commit is made
//!
//! The commit is built from the destination branch's tip tree plus the two files' current
//! bytes (objects written in process with gix), never from an index, so nothing else the user
//! has staged or changed can slip into it. Then two git children run, each holding the status
//! lock through a shared file handle (so a killed writer's child finishes before the next
//! writer starts): `git update-ref` moves the branch with a compare-and-swap on the tip that
//! was read, and `git update-index --add` records exactly the two paths in that worktree's
//! index, so `git status` stays clean. If the index update fails, the branch is swapped back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::ObjectId;
use missionctl_core::event::LogRow;
use missionctl_core::event_log::{self, EventLog};
use missionctl_core::reducer::reduce_with_identity;
use missionctl_core::snapshot::StatusSnapshot;
use serde::Deserialize;

use super::lock::{self, StatusLock};
use super::{CommitReceipt, StatusWriteError};
use crate::containment::Containment;
use crate::fs_util::{IoResultExt, PathError};
use crate::git::{GitError, git_with_stdin};
use crate::git_write::{CommitIdentity, tree_with_files};
use crate::mission_dir::{EVENT_LOG_FILE, META_FILE, SNAPSHOT_FILE, StatusReadError};

/// The prefix of the temporary files the status writer creates next to the files it
/// replaces. Only status writers, which hold the lock, create them, so a writer holding the
/// lock may remove any it finds: they were left by a writer that was killed.
const TEMP_PREFIX: &str = ".missionctl-status-";

/// The identity of a status commit when git has none configured.
const FALLBACK_IDENTITY: (&str, &str) = ("missionctl", "missionctl@localhost");

/// The all-zero object id `git update-ref` takes for "the ref must not exist".
const NO_COMMIT: &str = "0000000000000000000000000000000000000000";

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
    /// The repository's `info/exclude` file, where `.worktrees/` is ignored when a
    /// coordination worktree is created and nothing ignores it yet.
    pub(crate) info_exclude: PathBuf,
    /// The mission's snapshot cache (see [`super::cache`]).
    pub(crate) cache_path: PathBuf,
    /// What every path above is checked against: no symbolic link below the repository's
    /// roots is followed (see [`crate::containment`]).
    pub(crate) containment: Containment,
}

/// A coordination worktree this transaction created, undone on rollback.
#[derive(Debug)]
struct CreatedWorktree {
    /// The `.worktrees/` directory, when the transaction created it too.
    created_parent: Option<PathBuf>,
    /// The bytes of `info/exclude` before the transaction added `.worktrees/` to it.
    exclude_before: Option<Option<Vec<u8>>>,
}

/// An open transaction. See the module documentation.
#[derive(Debug)]
pub(crate) struct BookkeepingTransaction {
    placement: StatusPlacement,
    meta: Option<serde_json::Map<String, serde_json::Value>>,
    repo: gix::Repository,
    /// The log's bytes before the transaction (`None`: the file did not exist).
    log_before: Option<Vec<u8>>,
    /// The snapshot's bytes before the transaction (`None`: the file did not exist).
    snapshot_before: Option<Vec<u8>>,
    /// The log's current bytes, as last read or written under the lock.
    log_now: Option<Vec<u8>>,
    /// The snapshot's current bytes.
    snapshot_now: Option<Vec<u8>>,
    /// `log_now` parsed, once asked for.
    parsed: Option<EventLog>,
    event_ids: Vec<String>,
    /// A file was written (so rollback has something to restore).
    touched: bool,
    /// `status.json` was rewritten.
    snapshot_written: bool,
    created_worktree: Option<CreatedWorktree>,
    finished: bool,
    lock: StatusLock,
}

/// Returns the branch checked out in a worktree, reading `HEAD` directly (no git process).
/// `None` for a detached `HEAD`.
pub(crate) fn checked_out_branch(worktree_root: &Path) -> Result<Option<String>, PathError> {
    let dot_git = worktree_root.join(".git");
    let git_dir = if dot_git.is_file() {
        // Never through a link: a worktree's `.git` is a file git wrote.
        let pointer = crate::fs_util::read_optional(&dot_git)?.unwrap_or_default();
        let pointer = String::from_utf8_lossy(&pointer);
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
    let head = std::fs::read_to_string(&head_path).with_path("Cannot read", &head_path)?;
    Ok(head
        .trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_owned))
}

/// Whether a replaced file's bytes are flushed to disk before the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// `fsync` the new bytes first: the log, the source of truth.
    Yes,
    /// Skip it: `status.json` is derived from the log and rewritten from it by
    /// `status materialize`; the rename alone keeps it whole when a process is killed.
    No,
}

/// Replaces `path` with `bytes` atomically (temporary file, optional `fsync`, rename), naming
/// the temporary file with [`TEMP_PREFIX`]. The caller flushes the directory afterwards
/// ([`crate::fs_util::sync_dir`]), once for all the files it replaced.
fn write_atomically(path: &Path, bytes: &[u8], flush: Flush) -> Result<(), PathError> {
    crate::fs_util::replace_file(path, bytes, TEMP_PREFIX, flush == Flush::Yes)
}

/// Removes a file; a file that is already gone is fine.
fn remove_if_present(path: &Path) -> Result<(), PathError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(PathError {
            action: "Cannot remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes the temporary files a killed status writer left in `dir`.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp") {
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
        match serde_json::from_slice::<RowId<'_>>(trimmed) {
            Ok(RowId { event_id: Some(id) }) => Some([b"id:".as_slice(), id.as_bytes()].concat()),
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

/// Removes the staging directory of `staging` if nothing else is in it.
fn remove_empty_parent(staging: &Path) {
    if let Some(parent) = staging.parent() {
        let _ = std::fs::remove_dir(parent);
    }
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

impl BookkeepingTransaction {
    /// Takes the mission's status lock (waiting at most `timeout`), refuses a protected or
    /// not-checked-out destination, creates the coordination worktree on the first
    /// coordination write, and records the files' bytes for rollback.
    pub(crate) fn acquire(
        placement: StatusPlacement,
        meta: Option<serde_json::Map<String, serde_json::Value>>,
        repo: gix::Repository,
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
        let lock = lock::acquire(&placement.containment, &placement.lock_path, timeout)?;
        let mut transaction = BookkeepingTransaction {
            placement,
            meta,
            repo,
            log_before: None,
            snapshot_before: None,
            log_now: None,
            snapshot_now: None,
            parsed: None,
            event_ids: Vec::new(),
            touched: false,
            snapshot_written: false,
            created_worktree: None,
            finished: false,
            lock,
        };
        // From here on, an error drops the transaction, which rolls back what it did.
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
        self.log_before = read_log_file(&log_path)?;
        self.snapshot_before =
            crate::fs_util::read_optional(&placement.mission_dir.join(SNAPSHOT_FILE))?;
        self.log_now = self.log_before.clone();
        self.snapshot_now = self.snapshot_before.clone();

        // A coordination worktree created now, or one whose mission directory has no log,
        // takes over from the primary checkout, which was authoritative until now: carry over
        // the rows it lacks so no event written in the create-window disappears.
        let seeds = placement.materialize_branch.is_some()
            && (self.created_worktree.is_some() || self.log_before.is_none())
            && placement.primary_mission_dir != placement.mission_dir;
        if seeds
            && let Some(primary) =
                read_log_file(&placement.primary_mission_dir.join(EVENT_LOG_FILE))?
        {
            let current = self.log_now.clone().unwrap_or_default();
            let seeded = union_rows(&current, &primary)
                .or_else(|| self.log_before.is_none().then(|| primary.clone()));
            if let Some(bytes) = seeded {
                std::fs::create_dir_all(&placement.mission_dir)
                    .with_path("Cannot create", &placement.mission_dir)?;
                self.touched = true;
                write_atomically(&log_path, &bytes, Flush::Yes)?;
                crate::fs_util::sync_dir(&placement.mission_dir)?;
                self.log_now = Some(bytes);
            }
        }
        Ok(())
    }

    /// Checks the coordination branch out at the placement's worktree root, and makes sure
    /// `.worktrees/` is ignored so the primary checkout stays clean.
    fn create_worktree(&mut self, branch: &str) -> Result<(), StatusWriteError> {
        let root = self.placement.worktree_root.clone();
        let created_parent = root
            .parent()
            .filter(|parent| !parent.exists())
            .map(Path::to_path_buf);
        let containment = self.placement.containment.clone();
        containment.check(&staging_path(&root))?;
        let exclude = containment.read(&self.placement.info_exclude)?;
        let mut created = CreatedWorktree {
            created_parent,
            exclude_before: None,
        };
        if !worktrees_ignored(&self.placement.primary_root, exclude.as_deref()) {
            let mut bytes = exclude.clone().unwrap_or_default();
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(b"/.worktrees/\n");
            if let Some(info) = self.placement.info_exclude.parent() {
                containment.create_dir_all(info)?;
            }
            created.exclude_before = Some(exclude);
            self.created_worktree = Some(created);
            containment.write(&self.placement.info_exclude, &bytes)?;
        } else {
            self.created_worktree = Some(created);
        }
        // Check out at a staging path, then rename into place: a reader resolving the
        // mission meanwhile finds either no coordination worktree (and reads the branch) or a
        // complete one, never a half-populated one, which it would have to refuse as a husk.
        let staging = staging_path(&root);
        if staging.exists() {
            // Left by a writer killed between the two steps.
            if self
                .git_in_primary(&[
                    "worktree".into(),
                    "remove".into(),
                    "--force".into(),
                    staging.as_os_str().to_owned(),
                ])
                .is_err()
            {
                std::fs::remove_dir_all(&staging).with_path("Cannot remove", &staging)?;
            }
        }
        let add: [std::ffi::OsString; 5] = [
            "worktree".into(),
            "add".into(),
            "--quiet".into(),
            staging.as_os_str().to_owned(),
            branch.into(),
        ];
        if self.git_in_primary(&add).is_err() {
            // A worktree deleted without `git worktree remove` still holds the branch: forget
            // the registrations whose directory is gone, then try once more.
            let _ = self.git_in_primary(&["worktree".into(), "prune".into()]);
            self.git_in_primary(&add)
                .map_err(StatusWriteError::Commit)?;
        }
        let moved = self.git_in_primary(&[
            "worktree".into(),
            "move".into(),
            staging.as_os_str().to_owned(),
            root.as_os_str().to_owned(),
        ]);
        if let Err(error) = moved {
            let _ = self.git_in_primary(&[
                "worktree".into(),
                "remove".into(),
                "--force".into(),
                staging.as_os_str().to_owned(),
            ]);
            remove_empty_parent(&staging);
            return Err(StatusWriteError::Commit(error));
        }
        remove_empty_parent(&staging);
        Ok(())
    }

    /// Runs git in the primary checkout, holding the lock in the child too.
    fn git_in_primary(
        &self,
        args: &[std::ffi::OsString],
    ) -> Result<std::process::Output, GitError> {
        let stdin = self.lock.share().map_err(|error| GitError::Spawn {
            program: PathBuf::from("git"),
            source: error.source,
        })?;
        git_with_stdin(&self.placement.primary_root, args, stdin)
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
        self.touched = true;
        write_atomically(&log_path, &bytes, Flush::Yes)?;
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
        crate::fs_util::sync_dir(&self.placement.mission_dir)?;
        snapshot
    }

    /// Rewrites `status.json` from the log as it stands under the lock.
    pub(crate) fn materialize_now(&mut self) -> Result<StatusSnapshot, StatusWriteError> {
        self.read_log()?;
        let log = self.parsed.take().unwrap_or_default();
        let snapshot = self.materialize(&log);
        self.parsed = Some(log);
        if self.touched {
            crate::fs_util::sync_dir(&self.placement.mission_dir)?;
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
            self.touched = true;
            self.snapshot_written = true;
            write_atomically(
                &self.placement.mission_dir.join(SNAPSHOT_FILE),
                &bytes,
                Flush::No,
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
        .collect()
    }

    /// Returns true when the transaction rewrote `status.json`.
    pub(crate) fn snapshot_written(&self) -> bool {
        self.snapshot_written
    }

    /// Returns the destination branch's tip, if the branch has a commit.
    fn tip(&self) -> Result<Option<ObjectId>, StatusWriteError> {
        let name = format!("refs/heads/{}", self.placement.destination_ref);
        let gix_failed = |source: gix::Error| {
            StatusWriteError::WriteObjects(crate::git_write::GitWriteError::Gix {
                action: format!("read `{name}`"),
                source,
            })
        };
        let Some(mut reference) = self
            .repo
            .try_find_reference(name.as_str())
            .map_err(|error| gix_failed(gix::Error::from_error(error)))?
        else {
            return Ok(None);
        };
        let id = reference
            .peel_to_id()
            .map_err(|error| gix_failed(gix::Error::from_error(error)))?;
        Ok(Some(id.detach()))
    }

    /// Returns a receipt that commits nothing, pinned to the destination's tip.
    pub(crate) fn noop_receipt(
        mut self,
        committed_at: &str,
    ) -> Result<CommitReceipt, StatusWriteError> {
        let tip = self.tip()?;
        self.finished = true;
        Ok(self.receipt(tip, committed_at, true))
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
    /// placement's worktree, leaving every other path of the user's index and worktree as it
    /// was. Files equal to the branch's tip give a no-op receipt pinned to it. On failure the
    /// files (and the branch) are restored byte for byte.
    pub(crate) fn commit(
        mut self,
        message: &str,
        committed_at: &str,
        commit_seconds: i64,
    ) -> Result<CommitReceipt, StatusWriteError> {
        match self.try_commit(message, committed_at, commit_seconds) {
            Ok(receipt) => {
                self.finished = true;
                Ok(receipt)
            }
            Err(error) => {
                let problems = self.rollback();
                self.finished = true;
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
        let tip = self.tip()?;
        let write_failed = |action: &str| {
            let action = action.to_owned();
            move |source: gix::Error| {
                StatusWriteError::WriteObjects(crate::git_write::GitWriteError::Gix {
                    action,
                    source,
                })
            }
        };
        let base_tree = match tip {
            Some(tip) => self
                .repo
                .find_commit(tip)
                .map_err(|error| gix::Error::from_error(error))
                .and_then(|commit| commit.tree_id().map_err(gix::Error::from_error))
                .map_err(write_failed("read the destination's tree"))?
                .detach(),
            None => ObjectId::empty_tree(gix::hash::Kind::Sha1),
        };
        if tip.is_some() {
            self.check_not_behind(base_tree)?;
        }
        if !self.differs_from_tree(base_tree, &files)? {
            return Ok(self.receipt(tip, committed_at, true));
        }

        let tree = tree_with_files(&self.repo, base_tree, &files)
            .map_err(StatusWriteError::WriteObjects)?;
        let signature = commit_signature(&self.repo, commit_seconds);
        let commit = gix::objs::Commit {
            tree,
            parents: tip.into_iter().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: message.into(),
            extra_headers: Vec::new(),
        };
        let new = self
            .repo
            .write_object(&commit)
            .map_err(|error| gix::Error::from_error(error))
            .map_err(write_failed("write the status commit"))?
            .detach();

        let full_ref = format!("refs/heads/{destination}");
        let old = tip.map_or_else(|| NO_COMMIT.to_owned(), |id| id.to_string());
        let subject = message.lines().next().unwrap_or_default();
        self.git(&[
            "update-ref",
            "-m",
            &format!("commit: {subject}"),
            &full_ref,
            &new.to_string(),
            &old,
        ])
        .map_err(StatusWriteError::Commit)?;

        let mut add = vec!["update-index", "--add", "--"];
        add.extend(files.iter().map(|(path, _)| path.as_str()));
        if let Err(error) = self.git(&add) {
            // Put the branch back where it was, so the commit disappears with the files.
            let new_hex = new.to_string();
            let undo = match tip {
                Some(tip) => self.git(&[
                    "update-ref",
                    "-m",
                    "missionctl: roll back a status commit",
                    &full_ref,
                    &tip.to_string(),
                    &new_hex,
                ]),
                None => self.git(&["update-ref", "-d", &full_ref, &new_hex]),
            };
            return match undo {
                Ok(_) => Err(StatusWriteError::Commit(error)),
                Err(undo_error) => Err(StatusWriteError::RollbackIncomplete {
                    cause: Box::new(StatusWriteError::Commit(error)),
                    problems: vec![format!(
                        "`{full_ref}` still points at the status commit {new_hex}: {undo_error}"
                    )],
                }),
            };
        }
        Ok(self.receipt(Some(new), committed_at, false))
    }

    /// Runs git in the placement's worktree, holding the lock in the child too.
    fn git(&self, args: &[&str]) -> Result<std::process::Output, GitError> {
        let stdin = self.lock.share().map_err(|error| GitError::Spawn {
            program: PathBuf::from("git"),
            source: error.source,
        })?;
        git_with_stdin(&self.placement.worktree_root, args, stdin)
    }

    /// Refuses to commit when the destination's committed log is not a prefix of (or equal to)
    /// the log this transaction started from: the branch then has rows the worktree never
    /// saw, and committing the worktree's file would drop them. Rows appended on disk and not
    /// committed yet (a killed writer's) are fine.
    fn check_not_behind(&self, tree: ObjectId) -> Result<(), StatusWriteError> {
        let failed = |source: gix::Error| {
            StatusWriteError::WriteObjects(crate::git_write::GitWriteError::Gix {
                action: "read the destination's log".to_owned(),
                source,
            })
        };
        let Some((path, _)) = self
            .files()
            .into_iter()
            .find(|(path, _)| path.ends_with(EVENT_LOG_FILE))
        else {
            return Ok(());
        };
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(|error| failed(gix::Error::from_error(error)))?;
        let Some(entry) = tree
            .lookup_entry_by_path(&path)
            .map_err(|error| failed(gix::Error::from_error(error)))?
        else {
            return Ok(());
        };
        let before = self.log_before.as_deref().unwrap_or_default();
        let size = self
            .repo
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
                branch: self.placement.destination_ref.clone(),
                worktree: self.placement.worktree_root.clone(),
                files: self.files().into_iter().map(|(path, _)| path).collect(),
            })
        }
    }

    /// Returns true when a file's bytes differ from its blob in `tree` (or it is not there).
    fn differs_from_tree(
        &self,
        tree: ObjectId,
        files: &[(String, Vec<u8>)],
    ) -> Result<bool, StatusWriteError> {
        if files.is_empty() {
            return Ok(false);
        }
        let failed = |source: gix::Error| {
            StatusWriteError::WriteObjects(crate::git_write::GitWriteError::Gix {
                action: "read the destination's tree".to_owned(),
                source,
            })
        };
        let tree = self
            .repo
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
            let header = self
                .repo
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

    /// Restores the log and the snapshot to their bytes before the transaction, and removes
    /// a coordination worktree it created. Each step is independent, so one failure does not
    /// stop the others; returns what could not be restored.
    fn rollback(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.touched {
            let dir = self.placement.mission_dir.clone();
            for (name, before) in [
                (EVENT_LOG_FILE, &self.log_before),
                (SNAPSHOT_FILE, &self.snapshot_before),
            ] {
                let path = dir.join(name);
                let outcome = match before {
                    Some(bytes) => write_atomically(&path, bytes, Flush::Yes),
                    None => remove_if_present(&path),
                };
                if let Err(error) = outcome {
                    problems.push(error.to_string());
                }
            }
            if let Err(error) = crate::fs_util::sync_dir(&dir) {
                problems.push(error.to_string());
            }
            self.touched = false;
        }
        if let Some(created) = self.created_worktree.take() {
            let root = self.placement.worktree_root.clone();
            let staging = staging_path(&root);
            let mut target = None;
            if root.exists() {
                // Out of sight first (one rename), then removed.
                let moved = self.git_in_primary(&[
                    "worktree".into(),
                    "move".into(),
                    root.as_os_str().to_owned(),
                    staging.as_os_str().to_owned(),
                ]);
                target = Some(if moved.is_ok() {
                    staging.clone()
                } else {
                    root.clone()
                });
            } else if staging.exists() {
                // The checkout itself failed half-way.
                target = Some(staging.clone());
            }
            if let Some(target) = target {
                let removed = self.git_in_primary(&[
                    "worktree".into(),
                    "remove".into(),
                    "--force".into(),
                    target.as_os_str().to_owned(),
                ]);
                if removed.is_err() && target == staging {
                    let _ = std::fs::remove_dir_all(&staging);
                }
                if target.exists() {
                    problems.push(format!(
                        "the worktree `{}` is still there: remove it with `git worktree remove --force`",
                        target.display()
                    ));
                }
            }
            remove_empty_parent(&staging);
            if let Some(parent) = created.created_parent {
                let _ = std::fs::remove_dir(parent);
            }
            if let Some(before) = created.exclude_before {
                let path = &self.placement.info_exclude;
                let outcome = match before {
                    Some(bytes) => crate::fs_util::atomic_write(path, &bytes),
                    None => remove_if_present(path),
                };
                if let Err(error) = outcome {
                    problems.push(error.to_string());
                }
            }
        }
        problems
    }
}

/// Returns the commit signature: git's configured identity (as `git commit` would use it),
/// else a fixed one, at `seconds` since the epoch in UTC.
fn commit_signature(repo: &gix::Repository, seconds: i64) -> gix::actor::Signature {
    let configured = repo
        .committer()
        .and_then(Result::ok)
        .map(|committer| {
            (
                committer.name.to_string().trim().to_owned(),
                committer.email.to_string().trim().to_owned(),
            )
        })
        .filter(|(name, email)| !name.is_empty() && !email.is_empty());
    let (name, email) = configured.unwrap_or_else(|| {
        (
            FALLBACK_IDENTITY.0.to_owned(),
            FALLBACK_IDENTITY.1.to_owned(),
        )
    });
    crate::git_write::signature(&CommitIdentity { name, email }, seconds)
}

impl Drop for BookkeepingTransaction {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.rollback();
        }
    }
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
