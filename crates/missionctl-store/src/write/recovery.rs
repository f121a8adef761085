//! Settling a transaction that did not finish: the journal of a killed writer, found by the
//! next writer under the same lock, or a failed transaction rolled back in process.
//!
//! 1. **Clear** (after a kill only): the lock files the transaction was creating are removed
//!    when they can be proven its own — `index.lock` holding its token or being the index it
//!    renamed there (same inode, size and time), `<ref>.lock` holding the new (or old) value
//!    git was writing (or nothing yet), and, for lock files git creates empty (`HEAD.lock`,
//!    `packed-refs.lock`, `config.lock`), one created while the journalled command ran that
//!    does not go away within a short grace time. Its temporary files go too.
//! 2. **Decide**: when the transaction's commit point (its last ref update marked so) holds
//!    its new value, the transaction is complete: nothing more is done.
//! 3. **Undo** otherwise, newest step first, each only while what it wrote is still there: a
//!    ref that holds the new value is swapped back; index entries that hold the new value go
//!    back to the old one (but entries someone committed since, with the new value, stay, and
//!    so do their files: index and `HEAD` keep agreeing); files that hold the new bytes get
//!    the old ones; created directories and worktrees are removed; configuration values
//!    restored. A ref someone moved on from the transaction's value stops the undo: what came
//!    before it was built upon.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::ObjectId;
use serde::Serialize;

use super::index::{Checkout, IndexEdit, edit_index, head_branch, lock_is_ours};
use super::journal::{self, After, Before, EntryChange, FileIdentity, JournalFile, Record};
use super::lock::ScopeLock;
use super::refs::{self, RefUpdate, RefUpdateError};
use super::{Core, Scope, WriteError, blob_id, journal_dir, now_ms};
use crate::repo::Repo;

/// How long a lock file git creates empty must stay unchanged before recovery takes it for a
/// killed writer's: a live git holds one for milliseconds.
const GRACE: Duration = Duration::from_millis(60);

/// How long after a journalled git command started a lock file it left may have been created.
const LOCK_WINDOW_MS: u64 = 30_000;

/// What settling an interrupted transaction did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// The scope of the transaction (`mission-<slug>`, `runtime`, `repository`).
    pub scope: String,
    /// The command that was writing.
    pub operation: String,
    /// Its process id.
    pub pid: u32,
    /// True when its commit point held and it was completed; false when it was undone.
    pub completed: bool,
    /// The lock and temporary files removed.
    pub cleared: Vec<PathBuf>,
    /// What could not be settled (the journal then stays).
    pub problems: Vec<String>,
}

/// The outcome of [`settle`].
#[derive(Debug, Default)]
pub(crate) struct Settled {
    pub(crate) completed: bool,
    pub(crate) cleared: Vec<PathBuf>,
    pub(crate) problems: Vec<String>,
}

/// Settles the journal of the scope whose lock is `lock` (held), if there is one. Returns the
/// lock back; fails when the journal cannot be settled, so that no write starts on top of it.
pub(crate) fn settle_own(
    repo: &Repo,
    lock: ScopeLock,
    journal_path: &Path,
    scope: &Scope,
) -> Result<(ScopeLock, Vec<Recovered>), WriteError> {
    let Some(records) = journal::read(journal_path)? else {
        remove_if_present(journal_path);
        return Ok((lock, Vec::new()));
    };
    let (lock, recovered) = settle_journal(repo, lock, journal_path, &records)?;
    if !recovered.problems.is_empty() {
        return Err(WriteError::RecoveryIncomplete {
            scope: scope.key(),
            problems: recovered.problems,
        });
    }
    Ok((lock, vec![recovered]))
}

/// Settles every other journal whose lock is free now; a journal whose lock is held belongs to
/// a live writer (or Spec Kitty holds the mission's lock) and is left alone.
pub(crate) fn settle_others(repo: &Repo, own: &Path) -> Vec<Recovered> {
    let Ok(entries) = std::fs::read_dir(journal_dir(repo)) else {
        return Vec::new();
    };
    let mut recovered = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path == own
            || path
                .extension()
                .is_none_or(|extension| extension != "jsonl")
        {
            continue;
        }
        if let Some(settled) = settle_if_free(repo, &path) {
            recovered.push(settled);
        }
    }
    recovered
}

/// Settles the journal at `path` if its lock can be taken now.
fn settle_if_free(repo: &Repo, path: &Path) -> Option<Recovered> {
    let Some(records) = journal::read(path).ok()? else {
        // Empty, or its first record cut short: its writer was killed while creating it,
        // before it changed anything. Removed under its scope's lock, named by the file.
        let scope = path
            .file_stem()
            .and_then(|stem| Scope::from_key(&stem.to_string_lossy()))?;
        let _held = ScopeLock::try_acquire(&scope.lock_path(repo)).ok()??;
        if journal::read(path).ok()?.is_none() {
            remove_if_present(path);
        }
        return None;
    };
    let Some(Record::Begin { lock, .. }) = records.first() else {
        return None;
    };
    let held = ScopeLock::try_acquire(lock).ok()??;
    // Read again under the lock: its writer may have finished meanwhile.
    let records = journal::read(path).ok()??;
    settle_journal(repo, held, path, &records)
        .ok()
        .map(|(_, recovered)| recovered)
}

/// Settles every leftover journal, waiting for no lock: those held by a live writer are left.
/// `doctor --fix` runs this.
pub fn recover_all(repo: &Repo) -> Vec<Recovered> {
    settle_others(repo, Path::new(""))
}

/// Settles one journal under its held lock; removes the journal when nothing is left.
fn settle_journal(
    repo: &Repo,
    lock: ScopeLock,
    path: &Path,
    records: &[Record],
) -> Result<(ScopeLock, Recovered), WriteError> {
    let Some(Record::Begin {
        txn,
        scope,
        operation,
        pid,
        ..
    }) = records.first()
    else {
        remove_if_present(path);
        return Ok((
            lock,
            Recovered {
                scope: String::new(),
                operation: String::new(),
                pid: 0,
                completed: false,
                cleared: Vec::new(),
                problems: Vec::new(),
            },
        ));
    };
    let mut journal = JournalFile::open_append(path)?;
    journal.append(&Record::Recovery {
        pid: std::process::id(),
        at_ms: now_ms(),
    })?;
    let mut core = Core {
        txn: txn.clone(),
        lock,
        journal_path: path.to_path_buf(),
        journal: Some(journal),
        begin: None,
        records: Vec::new(),
        recovering: true,
        // Above any number the killed writer used, so file names never meet.
        sequence: 1_000_000,
    };
    let gix = repo.gix();
    let settled = settle_killed(&mut core, repo, &gix, txn, records);
    if settled.problems.is_empty()
        && let Some(journal) = core.journal.take()
    {
        journal.remove()?;
    }
    Ok((
        core.lock,
        Recovered {
            scope: scope.clone(),
            operation: operation.clone(),
            pid: *pid,
            completed: settled.completed,
            cleared: settled.cleared,
            problems: settled.problems,
        },
    ))
}

/// Settles the journal of a killed writer: clears its lock files first.
fn settle_killed(
    core: &mut Core,
    repo: &Repo,
    gix: &gix::Repository,
    txn: &str,
    records: &[Record],
) -> Settled {
    let mut cleared = clear(repo, records);
    let mut settled = settle(core, repo, gix, txn, records);
    cleared.append(&mut settled.cleared);
    settled.cleared = cleared;
    settled
}

/// Decides and undoes (see the [module](self) documentation); `records` may include the
/// journal's `begin` and recovery's own records, which are skipped.
pub(crate) fn settle(
    core: &mut Core,
    repo: &Repo,
    gix: &gix::Repository,
    txn: &str,
    records: &[Record],
) -> Settled {
    let steps = effective_steps(records);
    let mut settled = Settled {
        cleared: clear_temporaries(txn, &steps),
        ..Settled::default()
    };
    if point_holds(gix, &steps) || adopted(gix, &steps) {
        settled.completed = true;
        return settled;
    }
    let mut kept: HashSet<PathBuf> = HashSet::new();
    for step in steps.iter().rev() {
        match undo(core, repo, gix, step, &mut kept) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => break,
            Err(problem) => {
                settled.problems.push(problem);
                break;
            }
        }
    }
    settled
}

/// Returns the transaction's own steps: no `begin`, no recovery records, no voided step.
fn effective_steps(records: &[Record]) -> Vec<Record> {
    let mut steps: Vec<Record> = Vec::new();
    for record in records {
        match record {
            Record::Begin { .. } => {}
            Record::Void { voided } => {
                if let Some(at) = steps.iter().rposition(|seen| seen == voided.as_ref()) {
                    steps.remove(at);
                }
            }
            record if record.is_recovery() => {}
            record => steps.push(record.clone()),
        }
    }
    steps
}

/// Returns true when the last ref update marked as the commit point holds its new value.
fn point_holds(gix: &gix::Repository, steps: &[Record]) -> bool {
    let Some(Record::Ref { name, new, .. }) = steps
        .iter()
        .rev()
        .find(|step| matches!(step, Record::Ref { point: true, .. }))
    else {
        return false;
    };
    let Ok(current) = super::commit::read_tip(gix, name) else {
        return false;
    };
    current.map(|id| id.to_string()) == *new
}

/// Returns true when someone else committed what the transaction staged: a checkout's `HEAD`
/// holds one of its index entries with the new value (a `git commit` run while the files were
/// staged took them along). The transaction is then complete as far as git is concerned:
/// undoing it would leave the index and the files behind `HEAD`, so nothing is undone.
fn adopted(gix: &gix::Repository, steps: &[Record]) -> bool {
    steps.iter().any(|step| {
        let Record::IndexWrite {
            git_dir, entries, ..
        } = step
        else {
            return false;
        };
        let Some((name, tip)) = head_branch(git_dir).and_then(|branch| {
            let name = format!("refs/heads/{branch}");
            let tip = super::commit::read_tip(gix, &name).ok()??;
            Some((name, tip))
        }) else {
            return false;
        };
        // The branch at a value this transaction moved it to is its own doing, not someone
        // else's commit: the undo swaps it back first.
        let own = steps.iter().any(|step| {
            matches!(step, Record::Ref { name: moved, new: Some(new), .. }
                if *moved == name && ObjectId::from_hex(new.as_bytes()).ok() == Some(tip))
        });
        let Some(tree) = (!own)
            .then(|| super::commit::tree_of(gix, Some(tip)).ok())
            .flatten()
        else {
            return false;
        };
        entries.iter().any(|change| {
            change.after.is_some()
                && change.before != change.after
                && tree_entry(gix, tree, &change.path)
                    == change.after.map(|entry| (entry.mode, entry.oid))
        })
    })
}

/// Whether the undo goes on to older steps.
enum Flow {
    Continue,
    Stop,
}

fn undo(
    core: &mut Core,
    repo: &Repo,
    gix: &gix::Repository,
    step: &Record,
    kept: &mut HashSet<PathBuf>,
) -> Result<Flow, String> {
    match step {
        Record::Ref { name, old, new, .. } => undo_ref(core, repo, gix, name, old, new),
        Record::IndexWrite {
            git_dir,
            root,
            entries,
            ..
        } => {
            undo_index(core, gix, git_dir, root, entries, kept)?;
            Ok(Flow::Continue)
        }
        Record::File {
            path,
            before,
            after,
        } => {
            if !kept.contains(path) && matches_after(path, after) {
                restore(core, gix, path, before)?;
            }
            Ok(Flow::Continue)
        }
        Record::Dir { path } => {
            let _ = std::fs::remove_dir(path);
            Ok(Flow::Continue)
        }
        Record::Worktree { path, staging } => {
            for path in staging.iter().chain(std::iter::once(path)) {
                remove_worktree(core, repo, path)?;
            }
            // The staging directory (`.worktrees/.materializing/`) git may have created.
            if let Some(parent) = staging.as_deref().and_then(Path::parent) {
                let _ = std::fs::remove_dir(parent);
            }
            Ok(Flow::Continue)
        }
        Record::Config { key, before, after } => {
            undo_config(core, repo, key, before.as_deref(), after)?;
            Ok(Flow::Continue)
        }
        Record::TreeCheckout {
            git_dir,
            root,
            old_tree,
            new_tree,
            paths,
        } => {
            undo_tree_checkout(core, gix, git_dir, root, (old_tree, new_tree), paths)?;
            Ok(Flow::Continue)
        }
        _ => Ok(Flow::Continue),
    }
}

fn undo_ref(
    core: &mut Core,
    repo: &Repo,
    gix: &gix::Repository,
    name: &str,
    old: &Option<String>,
    new: &Option<String>,
) -> Result<Flow, String> {
    let current = super::commit::read_tip(gix, name)
        .map_err(|error| format!("read `{name}`: {error}"))?
        .map(|id| id.to_string());
    if current == *old {
        return Ok(Flow::Continue);
    }
    if current != *new {
        // Someone moved it on from our value: what came before is built upon.
        return Ok(Flow::Stop);
    }
    let parse = |value: &Option<String>| -> Result<Option<ObjectId>, String> {
        value
            .as_deref()
            .map(|hex| ObjectId::from_hex(hex.as_bytes()).map_err(|error| error.to_string()))
            .transpose()
    };
    let update = RefUpdate {
        name,
        old: parse(new)?,
        new: parse(old)?,
        message: "missionctl: undo an interrupted write",
        point: false,
    };
    let mut backoff = super::retry::Backoff::new(super::retry::GIT_LOCK_PATIENCE);
    loop {
        match refs::update(core, repo.common_dir(), repo.primary_root(), &update) {
            Ok(()) => return Ok(Flow::Continue),
            Err(RefUpdateError::Locked(path)) if backoff.wait() => {
                let _ = path;
            }
            Err(RefUpdateError::Moved) => return Ok(Flow::Stop),
            Err(RefUpdateError::Locked(path)) => {
                return Err(format!(
                    "`{name}` still points at {}: `{}` is held",
                    new.as_deref().unwrap_or("nothing"),
                    path.display()
                ));
            }
            Err(RefUpdateError::Hook(error)) => {
                return Err(format!(
                    "`{name}` still points at {}: {error}",
                    new.as_deref().unwrap_or("nothing")
                ));
            }
            Err(RefUpdateError::Other(error)) => {
                return Err(format!(
                    "`{name}` still points at {}: {error}",
                    new.as_deref().unwrap_or("nothing")
                ));
            }
        }
    }
}

/// Puts back the index entries a step changed, except those the checkout's `HEAD` now holds
/// with the new value (committed since, by someone else): they stay, and so do their files.
fn undo_index(
    core: &mut Core,
    gix: &gix::Repository,
    git_dir: &Path,
    root: &Path,
    entries: &[EntryChange],
    kept: &mut HashSet<PathBuf>,
) -> Result<(), String> {
    if !git_dir.is_dir() {
        return Ok(());
    }
    let head_tree = head_branch(git_dir)
        .and_then(|branch| super::commit::read_tip(gix, &format!("refs/heads/{branch}")).ok()?)
        .and_then(|tip| super::commit::tree_of(gix, Some(tip)).ok());
    let mut restore = Vec::new();
    for change in entries {
        if change.before == change.after {
            continue;
        }
        let committed = head_tree.is_some_and(|tree| {
            tree_entry(gix, tree, &change.path) == change.after.map(|entry| (entry.mode, entry.oid))
        });
        if committed {
            kept.insert(root.join(&change.path));
        } else {
            restore.push(change.clone());
        }
    }
    if restore.is_empty() {
        return Ok(());
    }
    let checkout = Checkout {
        root: root.to_path_buf(),
        git_dir: git_dir.to_path_buf(),
    };
    edit_index(core, &checkout, None, &IndexEdit::Restore(&restore))
        .map(|_| ())
        .map_err(|error| format!("restore the index of `{}`: {error}", root.display()))
}

/// Puts back the working-tree files a `git read-tree -m -u` moved to the new tree: each file
/// that holds the new tree's content (hashed by git, with the checkout's filters) gets the old
/// tree's back, from the index (whose entries [`undo_index`] restored first), or is removed
/// when the old tree had no such path. A file that holds anything else was changed since by
/// someone else and stays.
fn undo_tree_checkout(
    core: &mut Core,
    gix: &gix::Repository,
    git_dir: &Path,
    root: &Path,
    (old_tree, new_tree): (&str, &str),
    paths: &[String],
) -> Result<(), String> {
    if !git_dir.is_dir() || paths.is_empty() {
        return Ok(());
    }
    let tree = |hex: &str| ObjectId::from_hex(hex.as_bytes()).map_err(|error| error.to_string());
    let (old_tree, new_tree) = (tree(old_tree)?, tree(new_tree)?);
    let present: Vec<&String> = paths
        .iter()
        .filter(|path| std::fs::symlink_metadata(root.join(path.as_str())).is_ok())
        .collect();
    let mut hashes: std::collections::HashMap<&str, ObjectId> = std::collections::HashMap::new();
    if !present.is_empty() {
        let mut args: Vec<&str> = vec!["hash-object", "--"];
        args.extend(present.iter().map(|path| path.as_str()));
        let output = core
            .git(root, &args, None)
            .map_err(|error| format!("hash the files of `{}`: {error}", root.display()))?;
        for (path, line) in present
            .iter()
            .zip(output.stdout.split(|byte| *byte == b'\n'))
        {
            if let Ok(id) = ObjectId::from_hex(line.trim_ascii()) {
                hashes.insert(path.as_str(), id);
            }
        }
    }
    let mut checkout = Vec::new();
    for path in paths {
        let old = tree_entry(gix, old_tree, path).map(|(_, id)| id);
        let new = tree_entry(gix, new_tree, path).map(|(_, id)| id);
        let current = hashes.get(path.as_str()).copied();
        if current == old {
            continue;
        }
        // git writes a checked-out file in place: a kill in the middle leaves the start of the
        // new content (an empty file at first), which is git's, not someone else's change.
        if current != new
            && !(current.is_some() && new.is_some_and(|new| partly_written(gix, root, path, new)))
        {
            continue;
        }
        match old {
            Some(_) => checkout.push(path.as_str()),
            None => {
                let full = root.join(path);
                std::fs::remove_file(&full)
                    .map_err(|error| format!("remove `{}`: {error}", full.display()))?;
                remove_empty_parents(root, &full);
            }
        }
    }
    if checkout.is_empty() {
        return Ok(());
    }
    let mut args: Vec<&str> = vec!["checkout-index", "--force", "--"];
    args.extend(checkout);
    core.git(root, &args, None)
        .map(|_| ())
        .map_err(|error| format!("restore the files of `{}`: {error}", root.display()))
}

/// Returns true when the file at `path` holds a strict beginning of the blob `new` (what a
/// `read-tree -u` killed while writing it leaves).
fn partly_written(gix: &gix::Repository, root: &Path, path: &str, new: ObjectId) -> bool {
    let Ok(bytes) = std::fs::read(root.join(path)) else {
        return false;
    };
    let Ok(blob) = gix.find_object(new) else {
        return false;
    };
    bytes.len() < blob.data.len() && blob.data.starts_with(&bytes)
}

/// Removes the directories above `file` that are now empty, up to `root` (excluded).
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(current) = dir {
        if current == root || !current.starts_with(root) || std::fs::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
}

/// Returns the mode and blob id at `path` in a tree.
fn tree_entry(gix: &gix::Repository, tree: ObjectId, path: &str) -> Option<(u32, ObjectId)> {
    let tree = gix.find_tree(tree).ok()?;
    let entry = tree.lookup_entry_by_path(path).ok()??;
    Some((u32::from(entry.mode().value()), entry.object_id()))
}

/// Returns true when the file holds what the step wrote.
fn matches_after(path: &Path, after: &After) -> bool {
    match after {
        After::Absent => std::fs::symlink_metadata(path).is_err(),
        After::Content { len, oid } => std::fs::read(path).is_ok_and(|bytes| {
            bytes.len() as u64 == *len && blob_id(&bytes).is_ok_and(|id| oid_is(id, oid))
        }),
        After::Append {
            len,
            tail_from,
            tail_oid,
        } => std::fs::read(path).is_ok_and(|bytes| {
            let from = usize::try_from(*tail_from).unwrap_or(usize::MAX);
            let size = bytes.len() as u64;
            // A kill during the append leaves part of it (or a file just created, still
            // empty): still this step's to undo. Whole, it must be the bytes appended.
            (size >= *tail_from && size < *len)
                || (size == *len
                    && bytes
                        .get(from..)
                        .is_some_and(|tail| blob_id(tail).is_ok_and(|id| oid_is(id, tail_oid))))
        }),
    }
}

/// Returns true when `id` is the object named by the hex `text`.
fn oid_is(id: ObjectId, text: &str) -> bool {
    ObjectId::from_hex(text.as_bytes()).is_ok_and(|other| other == id)
}

/// Puts a file's previous content back.
fn restore(core: &Core, gix: &gix::Repository, path: &Path, before: &Before) -> Result<(), String> {
    let failed = |error: &dyn std::fmt::Display| format!("restore `{}`: {error}", path.display());
    let bytes = match before {
        Before::Absent => {
            return match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(failed(&error)),
            };
        }
        Before::Text { .. } | Before::Hex { .. } => {
            journal::inline_bytes(before).ok_or_else(|| failed(&"the journal's copy is damaged"))?
        }
        Before::Blob { oid } => {
            let id = ObjectId::from_hex(oid.as_bytes()).map_err(|error| failed(&error))?;
            gix.find_object(id)
                .map(|object| object.data.clone())
                .map_err(|error| failed(&error))?
        }
        Before::Prefix { len } => {
            let mut current = std::fs::read(path).map_err(|error| failed(&error))?;
            current.truncate(usize::try_from(*len).unwrap_or(current.len()));
            current
        }
    };
    crate::fs_util::replace_file(path, &bytes, &core.temp_prefix(), true)
        .map_err(|error| failed(&error))?;
    crate::fs_util::sync_dir(super::parent_of(path)).map_err(|error| failed(&error))
}

/// Removes a worktree the transaction created (registered or only on disk), with the
/// administrative directory a killed `git worktree add` leaves locked ("initializing") and
/// half written, which `git worktree prune` keeps and which makes every later
/// `git worktree` command fail.
fn remove_worktree(core: &Core, repo: &Repo, path: &Path) -> Result<(), String> {
    let root = repo.primary_root();
    let admin_dirs = admin_dirs_of(repo, path);
    if std::fs::symlink_metadata(path).is_ok() {
        let _ = core.git(
            root,
            &[
                std::ffi::OsStr::new("worktree"),
                "remove".as_ref(),
                "--force".as_ref(),
                "--force".as_ref(),
                path.as_os_str(),
            ],
            None,
        );
        if std::fs::symlink_metadata(path).is_ok() {
            std::fs::remove_dir_all(path)
                .map_err(|error| format!("remove the worktree `{}`: {error}", path.display()))?;
        }
    }
    for dir in admin_dirs {
        if std::fs::symlink_metadata(&dir).is_ok() {
            std::fs::remove_dir_all(&dir).map_err(|error| {
                format!("remove the worktree record `{}`: {error}", dir.display())
            })?;
        }
    }
    let _ = core.git(root, &["worktree", "prune"], None);
    Ok(())
}

/// The directories under `<common dir>/worktrees/` that record a worktree at `path`: the one
/// its `.git` file names, those whose `gitdir` names it, and those a `git worktree add` of
/// `path` left without a `gitdir` (named after `path`, with git's numeric suffix, and locked).
fn admin_dirs_of(repo: &Repo, path: &Path) -> Vec<PathBuf> {
    let admin_root = repo.common_dir().join("worktrees");
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return Vec::new();
    };
    let dot_git = path.join(".git");
    let real_dot_git = path
        .parent()
        .and_then(|parent| std::fs::canonicalize(parent).ok())
        .map(|parent| parent.join(name).join(".git"));
    let names_path = |text: &str| {
        let named = Path::new(text.trim_end());
        named == dot_git || real_dot_git.as_deref() == Some(named)
    };
    let mut found = Vec::new();
    if let Ok(text) = std::fs::read_to_string(&dot_git)
        && let Some(dir) = text.trim_end().strip_prefix("gitdir: ")
        && Path::new(dir).parent() == Some(admin_root.as_path())
    {
        found.push(PathBuf::from(dir));
    }
    let Ok(entries) = std::fs::read_dir(&admin_root) else {
        return found;
    };
    for entry in entries.filter_map(Result::ok) {
        let dir = entry.path();
        let entry_name = entry.file_name();
        let Some(entry_name) = entry_name.to_str() else {
            continue;
        };
        let ours = entry_name
            .strip_prefix(name)
            .is_some_and(|suffix| suffix.bytes().all(|byte| byte.is_ascii_digit()));
        if !ours || found.contains(&dir) {
            continue;
        }
        match std::fs::read_to_string(dir.join("gitdir")) {
            Ok(text) if names_path(&text) => found.push(dir),
            Ok(text) if !text.trim().is_empty() => {}
            _ => {
                if dir.join("locked").exists() {
                    found.push(dir);
                }
            }
        }
    }
    found
}

fn undo_config(
    core: &mut Core,
    repo: &Repo,
    key: &str,
    before: Option<&str>,
    after: &str,
) -> Result<(), String> {
    let root = repo.primary_root().to_path_buf();
    let current = super::config_value(core, &root, key).map_err(|error| error.to_string())?;
    if current.as_deref() != Some(after) {
        return Ok(());
    }
    let args: Vec<&str> = match before {
        Some(value) => vec!["config", "--local", key, value],
        None => vec!["config", "--local", "--unset", key],
    };
    core.record(Record::Git {
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        locks: vec![repo.common_dir().join("config.lock")],
        at_ms: now_ms(),
        recovery: true,
    })
    .map_err(|error| error.to_string())?;
    core.git(&root, &args, None)
        .map(|_| ())
        .map_err(|error| format!("restore `{key}`: {error}"))
}

/// Removes the transaction's temporary files: `.missionctl-<txn>-*.tmp` next to the files it
/// wrote, `missionctl-<txn>-*` in the git directories whose index it changed.
fn clear_temporaries(txn: &str, steps: &[Record]) -> Vec<PathBuf> {
    let mut dirs: Vec<(PathBuf, String)> = Vec::new();
    for step in steps {
        let (dir, prefix) = match step {
            Record::File { path, .. } => (
                super::parent_of(path).to_path_buf(),
                format!(".missionctl-{txn}-"),
            ),
            Record::IndexLock { git_dir, .. } | Record::IndexWrite { git_dir, .. } => {
                (git_dir.clone(), format!("missionctl-{txn}-"))
            }
            _ => continue,
        };
        if !dirs.contains(&(dir.clone(), prefix.clone())) {
            dirs.push((dir, prefix));
        }
    }
    let mut removed = Vec::new();
    for (dir, prefix) in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(&prefix)
                && std::fs::remove_file(entry.path()).is_ok()
            {
                removed.push(entry.path());
            }
        }
    }
    removed
}

/// Removes the lock files a killed writer was creating (see the [module](self) documentation)
/// and returns them.
fn clear(repo: &Repo, records: &[Record]) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let mut pending: Vec<(PathBuf, FileIdentity)> = Vec::new();
    for record in records {
        match record {
            Record::IndexLock { git_dir, token, .. }
                if lock_is_ours(git_dir, Some(token), None) =>
            {
                remove_lock(&super::index::index_lock_path(git_dir), &mut removed);
            }
            Record::IndexWrite {
                git_dir, identity, ..
            } if lock_is_ours(git_dir, None, Some(identity)) => {
                remove_lock(&super::index::index_lock_path(git_dir), &mut removed);
            }
            Record::Ref {
                name,
                old,
                new,
                locks,
                at_ms,
                ..
            } => {
                let ref_lock = repo.common_dir().join(format!("{name}.lock"));
                for lock in locks {
                    if *lock == ref_lock {
                        match ref_lock_content(lock, old.as_deref(), new.as_deref()) {
                            Some(true) => remove_lock(lock, &mut removed),
                            Some(false) => candidate(lock, *at_ms, &mut pending),
                            None => {}
                        }
                    } else {
                        candidate(lock, *at_ms, &mut pending);
                    }
                }
            }
            Record::Git { locks, at_ms, .. } => {
                for lock in locks {
                    candidate(lock, *at_ms, &mut pending);
                }
            }
            _ => {}
        }
    }
    if !pending.is_empty() {
        std::thread::sleep(GRACE);
        for (lock, identity) in pending {
            if FileIdentity::of(&lock).is_ok_and(|now| now == identity) {
                remove_lock(&lock, &mut removed);
            }
        }
    }
    removed
}

/// Returns whether a ref's lock file holds what the journalled update was writing:
/// `Some(true)` for a prefix of the new or old value (a killed `git update-ref` wrote it),
/// `Some(false)` for an empty file (created, nothing written yet: decided after the grace
/// time), `None` for anything else (not ours).
fn ref_lock_content(path: &Path, old: Option<&str>, new: Option<&str>) -> Option<bool> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.is_empty() {
        return Some(false);
    }
    let matches = |value: Option<&str>| {
        value.is_some_and(|value| {
            let expected = format!("{value}\n");
            expected.as_bytes().starts_with(&bytes)
        })
    };
    (matches(new) || matches(old)).then_some(true)
}

/// Keeps a lock file git creates empty as a candidate when it was created while the journalled
/// command ran.
fn candidate(lock: &Path, at_ms: u64, pending: &mut Vec<(PathBuf, FileIdentity)>) {
    let Ok(identity) = FileIdentity::of(lock) else {
        return;
    };
    let created_ms = u64::try_from(identity.mtime_ns / 1_000_000).unwrap_or(0);
    if created_ms + 1_000 >= at_ms && created_ms <= at_ms + LOCK_WINDOW_MS {
        pending.push((lock.to_path_buf(), identity));
    }
}

fn remove_lock(path: &Path, removed: &mut Vec<PathBuf>) {
    if std::fs::remove_file(path).is_ok() {
        removed.push(path.to_path_buf());
    }
}

fn remove_if_present(path: &Path) {
    let _ = std::fs::remove_file(path);
}
