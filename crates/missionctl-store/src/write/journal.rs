//! The journal of a write transaction: one JSON line per step, written before the step runs.
//!
//! The first line ([`Record::Begin`]) and the first step are written and flushed to disk
//! (`fdatasync`) before the transaction changes anything; each later step is appended before
//! it runs. Recovery reads the lines back in order; a last line cut short by a kill is ignored
//! (the step it announced had not started). The file is removed when the transaction ends,
//! committed or rolled back.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fs_util::{IoResultExt, PathError};

/// The journal format's version, in every [`Record::Begin`].
pub(crate) const JOURNAL_VERSION: u32 = 1;

/// A file's content before a step, enough to put it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Before {
    /// The file did not exist.
    Absent,
    /// Its bytes, as UTF-8 text.
    Text {
        /// The bytes.
        text: String,
    },
    /// Its bytes, hex-encoded (they were not UTF-8).
    Hex {
        /// The bytes.
        hex: String,
    },
    /// Its bytes are a blob of the object database.
    Blob {
        /// The blob's id.
        oid: String,
    },
    /// Its bytes are the first `len` bytes of the new content (an append).
    Prefix {
        /// The length before the step.
        len: u64,
    },
}

/// A file's content after a step, enough to recognize it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum After {
    /// The step removes the file.
    Absent,
    /// The step writes `len` bytes whose git blob id is `oid`.
    Content {
        /// The length.
        len: u64,
        /// The git blob id of the bytes.
        oid: String,
    },
    /// The step appends bytes: the file is then `len` long and its bytes from
    /// `tail_from` on have the git blob id `tail_oid`.
    Append {
        /// The length.
        len: u64,
        /// Where the appended bytes start.
        tail_from: u64,
        /// The git blob id of the appended bytes.
        tail_oid: String,
    },
}

/// An index entry: mode and blob id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    /// The entry's mode (`0o100644`, `0o100755`, `0o120000`).
    pub(crate) mode: u32,
    /// The object id, as hex.
    #[serde(with = "oid_hex")]
    pub(crate) oid: gix::ObjectId,
}

/// How one path's index entry changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntryChange {
    /// The repository-relative path.
    pub(crate) path: String,
    /// The entry before (`None`: not in the index).
    pub(crate) before: Option<IndexEntry>,
    /// The entry after (`None`: removed).
    pub(crate) after: Option<IndexEntry>,
}

/// What identifies a file the transaction created: a reused inode alone is not enough, so the
/// size and modification time (nanoseconds) are compared too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileIdentity {
    /// The device.
    pub(crate) dev: u64,
    /// The inode.
    pub(crate) ino: u64,
    /// The size.
    pub(crate) len: u64,
    /// The modification time in nanoseconds since the epoch (an `i64`: serde's internally
    /// tagged records cannot hold an `i128`).
    pub(crate) mtime_ns: i64,
}

impl FileIdentity {
    /// Returns the identity of the file at `path` (not following a last symbolic link).
    pub(crate) fn of(path: &Path) -> std::io::Result<FileIdentity> {
        let metadata = std::fs::symlink_metadata(path)?;
        Ok(FileIdentity::from_metadata(&metadata))
    }

    /// Returns the identity recorded in `metadata`.
    pub(crate) fn from_metadata(metadata: &std::fs::Metadata) -> FileIdentity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileIdentity {
                dev: metadata.dev(),
                ino: metadata.ino(),
                len: metadata.len(),
                mtime_ns: metadata
                    .mtime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(metadata.mtime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
                });
            FileIdentity {
                dev: 0,
                ino: 0,
                len: metadata.len(),
                mtime_ns,
            }
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub(crate) enum Record {
    /// Who started the transaction, under which lock.
    Begin {
        /// The format version.
        version: u32,
        /// The transaction id (also the prefix of its temporary files).
        txn: String,
        /// The scope, as [`super::Scope::key`] names it.
        scope: String,
        /// The lock file the transaction holds.
        lock: PathBuf,
        /// The writer's process id.
        pid: u32,
        /// What the writer was doing (`move`, `mission create`, …).
        operation: String,
        /// When it started, in milliseconds since the epoch.
        at_ms: u64,
    },
    /// A file is about to be written, created, appended to or removed.
    File {
        /// The file (absolute).
        path: PathBuf,
        /// Its content before.
        before: Before,
        /// Its content after.
        after: After,
    },
    /// A directory is about to be created (it did not exist).
    Dir {
        /// The directory (absolute).
        path: PathBuf,
    },
    /// `index.lock` of a checkout is about to be taken, as a hard link to a file holding
    /// `token`.
    IndexLock {
        /// The checkout's git directory.
        git_dir: PathBuf,
        /// The lock's content.
        token: String,
        /// Written by a recovery (its lock files are cleared, nothing is undone).
        #[serde(default)]
        recovery: bool,
    },
    /// A new index (`identity`) is about to be renamed over `index.lock`, then over the index.
    IndexWrite {
        /// The checkout's git directory.
        git_dir: PathBuf,
        /// The checkout's root.
        root: PathBuf,
        /// The new index file, as it is renamed.
        identity: FileIdentity,
        /// The entries it changes.
        entries: Vec<EntryChange>,
        /// Written by a recovery.
        #[serde(default)]
        recovery: bool,
    },
    /// `git update-ref` is about to move `name` from `old` to `new`.
    Ref {
        /// The full ref name.
        name: String,
        /// Its value before (`None`: it did not exist).
        old: Option<String>,
        /// Its value after (`None`: it is deleted).
        new: Option<String>,
        /// The lock files git creates while it runs.
        locks: Vec<PathBuf>,
        /// When, in milliseconds since the epoch.
        at_ms: u64,
        /// This update is the transaction's commit point: once it holds, recovery completes
        /// the transaction instead of undoing it.
        point: bool,
        /// Written by a recovery.
        #[serde(default)]
        recovery: bool,
    },
    /// A git command that writes under git's own lock files is about to run.
    Git {
        /// Its arguments.
        args: Vec<String>,
        /// The lock files it may leave behind if it is killed.
        locks: Vec<PathBuf>,
        /// When, in milliseconds since the epoch.
        at_ms: u64,
        /// Written by a recovery.
        #[serde(default)]
        recovery: bool,
    },
    /// `git read-tree -m -u <old_tree> <new_tree>` is about to change the working-tree files
    /// at `paths` of the checkout rooted at `root` (and a copy of its index): undone by putting
    /// back, from the index, each file that still holds the new tree's content.
    TreeCheckout {
        /// The checkout's git directory.
        git_dir: PathBuf,
        /// The checkout's root.
        root: PathBuf,
        /// The tree checked out before.
        old_tree: String,
        /// The tree checked out after.
        new_tree: String,
        /// The repository-relative paths that differ between the two trees.
        paths: Vec<String>,
    },
    /// A worktree is about to be checked out at `path` (and, when `staging` is set, checked
    /// out there first and moved into place).
    Worktree {
        /// Where it ends up.
        path: PathBuf,
        /// Where it is checked out first.
        staging: Option<PathBuf>,
    },
    /// A git configuration value of the repository is about to change.
    Config {
        /// The key.
        key: String,
        /// Its value before (`None`: unset).
        before: Option<String>,
        /// Its value after.
        after: String,
    },
    /// The step before, journalled as `step`, did not happen (a file to create existed).
    Void {
        /// The step.
        voided: Box<Record>,
    },
    /// A recovery started; the records after it are its own.
    Recovery {
        /// The recovering process.
        pid: u32,
        /// When, in milliseconds since the epoch.
        at_ms: u64,
    },
}

impl Record {
    /// Returns true for a record a recovery wrote about its own work.
    pub(crate) fn is_recovery(&self) -> bool {
        matches!(
            self,
            Record::IndexLock { recovery: true, .. }
                | Record::IndexWrite { recovery: true, .. }
                | Record::Ref { recovery: true, .. }
                | Record::Git { recovery: true, .. }
                | Record::Recovery { .. }
        )
    }
}

/// An open journal file.
#[derive(Debug)]
pub(crate) struct JournalFile {
    file: File,
    path: PathBuf,
}

impl JournalFile {
    /// Creates (or truncates) the journal at `path` with `records`, and flushes it to disk.
    pub(crate) fn create(path: &Path, records: &[Record]) -> Result<JournalFile, PathError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.is_dir()) {
            std::fs::create_dir_all(parent).with_path("Cannot create", parent)?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .with_path("Cannot create the journal", path)?;
        let mut journal = JournalFile {
            file,
            path: path.to_path_buf(),
        };
        for record in records {
            journal.write(record)?;
        }
        journal
            .file
            .sync_data()
            .with_path("Cannot flush the journal", path)?;
        Ok(journal)
    }

    /// Opens an existing journal to append records to it (recovery).
    pub(crate) fn open_append(path: &Path) -> Result<JournalFile, PathError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_path("Cannot open the journal", path)?;
        Ok(JournalFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends a record. Not flushed: a kill keeps what was written (the page cache survives
    /// the process), and the first record, flushed, already says what the transaction is.
    pub(crate) fn append(&mut self, record: &Record) -> Result<(), PathError> {
        self.write(record)
    }

    fn write(&mut self, record: &Record) -> Result<(), PathError> {
        let mut line = serde_json::to_vec(record).map_err(|error| PathError {
            action: "Cannot encode a record of the journal",
            path: self.path.clone(),
            source: std::io::Error::other(error),
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .with_path("Cannot write the journal", &self.path)
    }

    /// Removes the journal: the transaction is over.
    pub(crate) fn remove(self) -> Result<(), PathError> {
        drop(self.file);
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(PathError {
                action: "Cannot remove the journal",
                path: self.path,
                source,
            }),
        }
    }
}

/// Reads a journal's records; `None` when the file does not exist or holds no record. A line
/// that does not parse ends the list: it was cut short by a kill, or is damaged, and nothing
/// after it can have run.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<Record>>, PathError> {
    let Some(bytes) = crate::fs_util::read_optional(path)? else {
        return Ok(None);
    };
    let mut records = Vec::new();
    for line in bytes.split(|byte| *byte == b'\n') {
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => records.push(record),
            Err(_) => break,
        }
    }
    Ok((!records.is_empty()).then_some(records))
}

/// Serializes an object id as hex.
mod oid_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        oid: &gix::ObjectId,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&oid.to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<gix::ObjectId, D::Error> {
        let text = String::deserialize(deserializer)?;
        gix::ObjectId::from_hex(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// Returns the bytes a [`Before`] holds inline, `None` for the other kinds.
pub(crate) fn inline_bytes(before: &Before) -> Option<Vec<u8>> {
    match before {
        Before::Text { text } => Some(text.as_bytes().to_vec()),
        Before::Hex { hex } => decode_hex(hex),
        Before::Absent | Before::Blob { .. } | Before::Prefix { .. } => None,
    }
}

/// Returns `bytes` as a [`Before`] held inline.
pub(crate) fn inline(bytes: &[u8]) -> Before {
    match std::str::from_utf8(bytes) {
        Ok(text) => Before::Text {
            text: text.to_owned(),
        },
        Err(_) => Before::Hex {
            hex: bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
        },
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_cut_line_ends_the_list() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("j").join("mission-x.jsonl");
        let begin = Record::Begin {
            version: JOURNAL_VERSION,
            txn: "abc".to_owned(),
            scope: "mission-x".to_owned(),
            lock: PathBuf::from("/l"),
            pid: 1,
            operation: "move".to_owned(),
            at_ms: 2,
        };
        let file = Record::File {
            path: PathBuf::from("/f"),
            before: inline(b"\xff\x00"),
            after: After::Content {
                len: 1,
                oid: "00".to_owned(),
            },
        };
        let index = Record::IndexWrite {
            git_dir: PathBuf::from("/g"),
            root: PathBuf::from("/r"),
            identity: FileIdentity::of(dir.path())?,
            entries: vec![EntryChange {
                path: "a/b".to_owned(),
                before: None,
                after: Some(IndexEntry {
                    mode: 0o100_644,
                    oid: gix::ObjectId::empty_blob(gix::hash::Kind::Sha1),
                }),
            }],
            recovery: false,
        };
        let reference = Record::Ref {
            name: "refs/heads/x".to_owned(),
            old: None,
            new: Some("ab".to_owned()),
            locks: vec![PathBuf::from("/l")],
            at_ms: 3,
            point: true,
            recovery: false,
        };
        let mut journal = JournalFile::create(&path, std::slice::from_ref(&begin))?;
        journal.append(&file)?;
        journal.append(&index)?;
        journal.append(&reference)?;
        drop(journal);
        let mut bytes = std::fs::read(&path)?;
        bytes.extend_from_slice(b"{\"step\": \"dir\", \"pa");
        std::fs::write(&path, &bytes)?;
        assert_eq!(
            read(&path)?,
            Some(vec![begin, file.clone(), index, reference])
        );
        let Record::File { before, .. } = file else {
            unreachable!()
        };
        assert_eq!(inline_bytes(&before), Some(vec![0xff, 0x00]));
        assert_eq!(read(&dir.path().join("none"))?, None);
        Ok(())
    }
}
