//! The index of a checkout, changed under git's own `index.lock` protocol.
//!
//! 1. `index.lock` is created as a hard link to a file holding a token of the transaction, so
//!    it appears whole, and recovery can prove it is ours by its content; while it exists no
//!    other git process writes the index.
//! 2. The index is copied to a file of ours next to it, and `git update-index` (with
//!    `GIT_INDEX_FILE` pointing at the copy) records exactly the transaction's paths there; git
//!    keeps every extension the index carries.
//! 3. The copy's identity and the entries it changes are journalled, then it is renamed over
//!    `index.lock`, and `index.lock` over the index.
//!
//! Nothing someone else staged is lost: the copy is taken while we hold the lock, and only our
//! paths change. A failure before step 3 removes our files and leaves the index as it was.

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use super::journal::{EntryChange, FileIdentity, IndexEntry, Record};
use super::retry::{Backoff, GIT_LOCK_PATIENCE, wait_for_lock};
use super::{Core, WriteError, failpoint};
use crate::fs_util::{IoResultExt, PathError};

/// The name of git's index lock file.
const INDEX_LOCK: &str = "index.lock";

/// A checkout: its root and its git directory (`.git` of the primary checkout, or
/// `.git/worktrees/<name>` of a linked worktree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkout {
    /// The working tree's root.
    pub(crate) root: PathBuf,
    /// Its git directory.
    pub(crate) git_dir: PathBuf,
}

impl Checkout {
    /// Returns the checkout rooted at `root`, reading its `.git` (a directory, or a file
    /// pointing at the git directory).
    pub(crate) fn at(root: &Path) -> Result<Checkout, PathError> {
        Ok(Checkout {
            root: root.to_path_buf(),
            git_dir: git_dir_of(root)?,
        })
    }
}

/// Returns the git directory of the checkout rooted at `root`.
pub(crate) fn git_dir_of(root: &Path) -> Result<PathBuf, PathError> {
    let dot_git = root.join(".git");
    if !dot_git.is_file() {
        return Ok(dot_git);
    }
    // Never through a link: a worktree's `.git` is a file git wrote.
    let pointer = crate::fs_util::read_optional(&dot_git)?.unwrap_or_default();
    let pointer = String::from_utf8_lossy(&pointer);
    let target = Path::new(pointer.trim().trim_start_matches("gitdir:").trim());
    Ok(if target.is_absolute() {
        target.to_path_buf()
    } else {
        root.join(target)
    })
}

/// Returns the short branch name `HEAD` of a git directory names.
pub(crate) fn head_branch(git_dir: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    head.trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_owned)
}

/// Returns the path of `index.lock` in a git directory.
pub(crate) fn index_lock_path(git_dir: &Path) -> PathBuf {
    git_dir.join(INDEX_LOCK)
}

/// Returns the token a transaction writes in the `index.lock` it creates.
fn token_text(txn: &str) -> String {
    format!("missionctl {txn} {}\n", std::process::id())
}

/// What to do to each path of the index.
#[derive(Debug, Clone)]
pub(crate) enum IndexEdit<'a> {
    /// Record the working-tree files at these paths (`git update-index --add --remove`).
    Stage(&'a [String]),
    /// Put these entries back to their `before` value, each only if it still holds its
    /// `after` value.
    Restore(&'a [EntryChange]),
    /// Move the checkout from `old_tree` to `new_tree` (`git read-tree -m -u`): the index
    /// entries and the working-tree files of `paths`, the paths that differ between the two
    /// trees. git refuses, changing nothing, when one of them has local changes or an
    /// untracked file is in the way.
    ReadTree {
        /// The tree the checkout has now.
        old_tree: gix::ObjectId,
        /// The tree it moves to.
        new_tree: gix::ObjectId,
        /// The paths that differ between the two trees.
        paths: &'a [String],
    },
}

/// `index.lock`, held; removed on drop unless installed.
struct HeldIndexLock {
    lock: PathBuf,
    private: PathBuf,
    installed: bool,
}

impl Drop for HeldIndexLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.private);
        if !self.installed {
            let _ = std::fs::remove_file(&self.lock);
        }
    }
}

/// Changes the index of `checkout` under its lock and returns the entries that changed.
///
/// With `branch`, `HEAD` of the checkout must still name that branch once the lock is held
/// ([`WriteError::NotCheckedOut`] otherwise). Waits for an `index.lock` held by someone else
/// for at most [`GIT_LOCK_PATIENCE`] ([`WriteError::GitLockBusy`]).
pub(crate) fn edit_index(
    core: &mut Core,
    checkout: &Checkout,
    branch: Option<&str>,
    edit: &IndexEdit<'_>,
) -> Result<Vec<EntryChange>, WriteError> {
    let sequence = core.next_sequence();
    let lock_path = index_lock_path(&checkout.git_dir);
    let token = token_text(&core.txn);
    let token_path = checkout
        .git_dir
        .join(format!("missionctl-{}-{sequence}.token", core.txn));
    let private = checkout
        .git_dir
        .join(format!("missionctl-{}-{sequence}.index", core.txn));
    core.record(Record::IndexLock {
        git_dir: checkout.git_dir.clone(),
        token: token.clone(),
        recovery: core.recovering,
    })?;
    take_lock(&lock_path, &token_path, &token)?;
    let mut held = HeldIndexLock {
        lock: lock_path.clone(),
        private: private.clone(),
        installed: false,
    };
    failpoint::hit("index-locked");
    if let Some(branch) = branch {
        let checked_out = head_branch(&checkout.git_dir);
        if checked_out.as_deref() != Some(branch) {
            return Err(WriteError::NotCheckedOut {
                worktree: checkout.root.clone(),
                branch: branch.to_owned(),
                checked_out,
            });
        }
    }
    let index_path = checkout.git_dir.join("index");
    match std::fs::copy(&index_path, &private) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(PathError {
                action: "Cannot copy the index to",
                path: private.clone(),
                source,
            }
            .into());
        }
    }
    let (paths, before) = match edit {
        IndexEdit::Stage(paths) => {
            let before = read_entries(core, checkout, &private, paths)?;
            let mut args: Vec<String> = vec![
                "update-index".into(),
                "--add".into(),
                "--remove".into(),
                "--".into(),
            ];
            args.extend(paths.iter().cloned());
            core.git(&checkout.root, &args, Some(&private))?;
            (paths.to_vec(), before)
        }
        IndexEdit::ReadTree {
            old_tree,
            new_tree,
            paths,
        } => {
            let before = read_entries(core, checkout, &private, paths)?;
            core.record(Record::TreeCheckout {
                git_dir: checkout.git_dir.clone(),
                root: checkout.root.clone(),
                old_tree: old_tree.to_string(),
                new_tree: new_tree.to_string(),
                paths: paths.to_vec(),
            })?;
            // `read-tree -m` trusts the entries' stat data: an entry whose file was rewritten
            // with the same bytes (recovery's `checkout-index` after a killed write, an editor
            // saving unchanged) would count as a local change. Refresh the private copy first;
            // a file that really differs stays a local change, and the exit code says so.
            let _ = core.git(
                &checkout.root,
                &["update-index", "-q", "--refresh"],
                Some(&private),
            );
            let args: Vec<String> = vec![
                "read-tree".into(),
                "-m".into(),
                "-u".into(),
                old_tree.to_string(),
                new_tree.to_string(),
            ];
            if let Err(error) = core.git(&checkout.root, &args, Some(&private)) {
                return Err(would_overwrite(checkout, error));
            }
            failpoint::hit("worktree-updated");
            (paths.to_vec(), before)
        }
        IndexEdit::Restore(changes) => {
            let paths: Vec<String> = changes.iter().map(|change| change.path.clone()).collect();
            let current = read_entries(core, checkout, &private, &paths)?;
            let mut args: Vec<String> = vec!["update-index".into()];
            let mut restored = Vec::new();
            for (change, current) in changes.iter().zip(&current) {
                if *current != change.after || change.before == change.after {
                    continue;
                }
                match &change.before {
                    Some(entry) => {
                        args.push("--add".into());
                        args.push("--cacheinfo".into());
                        args.push(format!("{:o},{},{}", entry.mode, entry.oid, change.path));
                    }
                    None => {
                        args.push("--force-remove".into());
                        args.push("--".into());
                        args.push(change.path.clone());
                        // `--` ends the options: one removal per command line would be needed
                        // after it, so removals go last, each with its own `--force-remove`.
                    }
                }
                restored.push((change.path.clone(), *current));
            }
            if restored.is_empty() {
                return Ok(Vec::new());
            }
            let args = order_removals_last(args);
            core.git(&checkout.root, &args, Some(&private))?;
            let paths: Vec<String> = restored.iter().map(|(path, _)| path.clone()).collect();
            let before: Vec<Option<IndexEntry>> =
                restored.iter().map(|(_, current)| *current).collect();
            (paths, before)
        }
    };
    let after = read_entries(core, checkout, &private, &paths)?;
    let changes: Vec<EntryChange> = paths
        .into_iter()
        .zip(before.into_iter().zip(after))
        .map(|(path, (before, after))| EntryChange {
            path,
            before,
            after,
        })
        .collect();
    let identity = FileIdentity::of(&private).with_path("Cannot read the metadata of", &private)?;
    core.record(Record::IndexWrite {
        git_dir: checkout.git_dir.clone(),
        root: checkout.root.clone(),
        identity,
        entries: changes.clone(),
        recovery: core.recovering,
    })?;
    failpoint::hit("index-prepared");
    std::fs::rename(&private, &lock_path).with_path("Cannot replace", &lock_path)?;
    std::fs::rename(&lock_path, &index_path).with_path("Cannot replace", &index_path)?;
    held.installed = true;
    failpoint::hit("index-installed");
    Ok(changes)
}

/// Turns `git read-tree`'s refusal to overwrite local changes into
/// [`WriteError::WouldOverwrite`] naming the paths; any other failure stays as it is.
fn would_overwrite(checkout: &Checkout, error: WriteError) -> WriteError {
    let WriteError::Git(crate::git::GitError::Failed { stderr, .. }) = &error else {
        return error;
    };
    let mut paths = Vec::new();
    let mut listing = false;
    for line in stderr.0.lines() {
        // `error: Entry 'src/a.py' not uptodate. Cannot merge.`
        if let Some(rest) = line.split("Entry '").nth(1)
            && let Some(path) = rest.split("' ").next()
        {
            paths.push(path.to_owned());
            continue;
        }
        // `error: The following untracked working tree files would be overwritten by
        // merge:` then the paths, each on a line starting with a tab.
        if line.contains("would be overwritten") {
            listing = true;
            continue;
        }
        if listing && let Some(path) = line.strip_prefix('\t') {
            paths.push(path.trim().to_owned());
        } else {
            listing = false;
        }
    }
    if paths.is_empty() {
        return error;
    }
    WriteError::WouldOverwrite {
        worktree: checkout.root.clone(),
        paths,
    }
}

/// `update-index` reads its arguments in order, and `--` makes every later one a path: the
/// `--force-remove -- <path>` groups are moved to the end and merged under one `--`.
fn order_removals_last(args: Vec<String>) -> Vec<String> {
    let mut head = Vec::new();
    let mut removed = Vec::new();
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "--force-remove" {
            // `--force-remove`, `--`, <path>
            let _ = iter.next();
            if let Some(path) = iter.next() {
                removed.push(path);
            }
        } else {
            head.push(arg);
        }
    }
    if !removed.is_empty() {
        head.push("--force-remove".into());
        head.push("--".into());
        head.extend(removed);
    }
    head
}

/// Creates `index.lock` holding `token`, waiting for another process's lock for at most
/// [`GIT_LOCK_PATIENCE`].
fn take_lock(lock_path: &Path, token_path: &Path, token: &str) -> Result<(), WriteError> {
    std::fs::write(token_path, token).with_path("Cannot write", token_path)?;
    let outcome = link_with_retry(lock_path, token_path, token);
    let _ = std::fs::remove_file(token_path);
    outcome
}

fn link_with_retry(lock_path: &Path, token_path: &Path, token: &str) -> Result<(), WriteError> {
    let mut backoff = Backoff::new(GIT_LOCK_PATIENCE);
    loop {
        match std::fs::hard_link(token_path, lock_path) {
            Ok(()) => return Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                if !wait_for_lock(&mut backoff, lock_path) {
                    return Err(WriteError::git_lock_busy(lock_path));
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(PathError {
                    action: "Cannot create",
                    path: lock_path.to_path_buf(),
                    source: error,
                }
                .into());
            }
            // A file system without hard links: create the lock with its content.
            Err(_) => return create_with_retry(lock_path, token),
        }
    }
}

fn create_with_retry(lock_path: &Path, token: &str) -> Result<(), WriteError> {
    use std::io::Write as _;
    let mut backoff = Backoff::new(GIT_LOCK_PATIENCE);
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(lock_path)
        {
            Ok(mut file) => {
                file.write_all(token.as_bytes())
                    .with_path("Cannot write", lock_path)?;
                return Ok(());
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                if !wait_for_lock(&mut backoff, lock_path) {
                    return Err(WriteError::git_lock_busy(lock_path));
                }
            }
            Err(source) => {
                return Err(PathError {
                    action: "Cannot create",
                    path: lock_path.to_path_buf(),
                    source,
                }
                .into());
            }
        }
    }
}

/// Returns true when the `index.lock` of `git_dir` is the one a transaction created: it holds
/// its token, or it is the new index it renamed there (`identity`).
pub(crate) fn lock_is_ours(
    git_dir: &Path,
    token: Option<&str>,
    identity: Option<&FileIdentity>,
) -> bool {
    let path = index_lock_path(git_dir);
    let Ok(metadata) = std::fs::symlink_metadata(&path) else {
        return false;
    };
    if let Some(identity) = identity
        && FileIdentity::from_metadata(&metadata) == *identity
    {
        return true;
    }
    match token {
        Some(token) => {
            let expected = token.len() as u64;
            metadata.len() == expected
                && std::fs::read(&path).is_ok_and(|bytes| bytes == token.as_bytes())
        }
        None => false,
    }
}

/// Reads the entries of `paths` from the index file at `index_path`.
fn read_entries(
    core: &Core,
    checkout: &Checkout,
    index_path: &Path,
    paths: &[String],
) -> Result<Vec<Option<IndexEntry>>, WriteError> {
    if !index_path.exists() {
        return Ok(vec![None; paths.len()]);
    }
    match gix::index::File::at(
        index_path,
        gix::hash::Kind::Sha1,
        true,
        gix::index::decode::Options::default(),
    ) {
        Ok(file) => Ok(paths
            .iter()
            .map(|path| {
                file.entry_by_path(path.as_bytes().as_bstr())
                    .map(|entry| IndexEntry {
                        mode: entry.mode.bits(),
                        oid: entry.id,
                    })
            })
            .collect()),
        // An index gix cannot read (a format it does not know yet): ask git.
        Err(_) => read_entries_with_git(core, checkout, index_path, paths),
    }
}

fn read_entries_with_git(
    core: &Core,
    checkout: &Checkout,
    index_path: &Path,
    paths: &[String],
) -> Result<Vec<Option<IndexEntry>>, WriteError> {
    let mut args: Vec<String> = vec![
        "ls-files".into(),
        "--stage".into(),
        "-z".into(),
        "--".into(),
    ];
    args.extend(paths.iter().cloned());
    let output = core.git(&checkout.root, &args, Some(index_path))?;
    let mut found = std::collections::HashMap::new();
    for record in output.stdout.split(|byte| *byte == 0) {
        // `<mode> <oid> <stage>\t<path>`
        let Some(tab) = record.iter().position(|byte| *byte == b'\t') else {
            continue;
        };
        let (meta, path) = (&record[..tab], &record[tab + 1..]);
        let fields: Vec<&[u8]> = meta.split(|byte| *byte == b' ').collect();
        if let [mode, oid, stage] = fields.as_slice()
            && (*stage == b"0" || *stage == b"2")
            && let (Ok(mode), Ok(oid)) = (
                u32::from_str_radix(&String::from_utf8_lossy(mode), 8),
                gix::ObjectId::from_hex(oid),
            )
        {
            found.insert(path.to_vec(), IndexEntry { mode, oid });
        }
    }
    Ok(paths
        .iter()
        .map(|path| found.get(path.as_bytes()).copied())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removals_go_last_under_one_separator() {
        let args: Vec<String> = [
            "update-index",
            "--force-remove",
            "--",
            "a",
            "--add",
            "--cacheinfo",
            "100644,x,b",
            "--force-remove",
            "--",
            "c",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            order_removals_last(args),
            [
                "update-index",
                "--add",
                "--cacheinfo",
                "100644,x,b",
                "--force-remove",
                "--",
                "a",
                "c"
            ]
        );
    }
}
