//! A cache of reduced snapshots, so reading a long log does not mean parsing it every time.
//!
//! The cache lives under the git common directory (`<git-common-dir>/missionctl/status-cache/
//! <mission>.json`), never in a working tree, so it cannot dirty a checkout or be committed.
//! One file per mission: a first line with the *stamp* of the log it was reduced from, then the
//! snapshot in `status.json`'s format. The stamp is what `git` trusts for its index: the log's
//! path, device, inode, size, modification and change times (nanoseconds), plus a hash of its
//! last 4 KiB, which catches a rewrite that keeps the size within one timestamp tick. Every
//! status write replaces the log by a rename (a new inode) and an append changes the size, so
//! any write by missionctl or Spec Kitty changes the stamp.
//!
//! The cache is a hint: a missing, unreadable, foreign or stale entry is ignored and the log is
//! reduced again, and failing to write it is never an error. The identity fields that come
//! from `meta.json` are filled in again on every read, so editing `meta.json` needs no
//! invalidation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use missionctl_core::status::lane::Lane;
use missionctl_core::status::snapshot::{RetrospectiveSummary, StatusSnapshot, WpState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped whenever the file's layout or the reducer's output changes meaning.
const FORMAT: u32 = 1;

/// How many bytes at the end of the log the stamp hashes.
const TAIL: u64 = 4096;

/// Returns the cache file of a mission.
pub(crate) fn cache_path(git_common_dir: &Path, mission_slug: &str) -> PathBuf {
    git_common_dir
        .join("missionctl")
        .join("status-cache")
        .join(format!("{mission_slug}.json"))
}

/// What identifies the exact bytes of a log without reading all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    format: u32,
    version: String,
    log: String,
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    tail: String,
}

/// Returns the stamp of the log at `path`, or `None` when it is missing, a symbolic link, or
/// cannot be read (the caller then reads the log itself and reports what is wrong).
#[cfg(unix)]
pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;

    let before = std::fs::symlink_metadata(path).ok()?;
    if !before.file_type().is_file() {
        return None;
    }
    let mut file = std::fs::File::open(path).ok()?;
    let opened = file.metadata().ok()?;
    if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
        return None;
    }
    let size = opened.len();
    let start = size.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut tail = Vec::with_capacity(usize::try_from(size - start).unwrap_or(0));
    file.take(TAIL).read_to_end(&mut tail).ok()?;
    Some(Stamp {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        log: path.display().to_string(),
        dev: opened.dev(),
        ino: opened.ino(),
        size,
        mtime: (opened.mtime(), opened.mtime_nsec()),
        ctime: (opened.ctime(), opened.ctime_nsec()),
        tail: format!("{:016x}", fnv1a(&tail)),
    })
}

/// Without the Unix metadata there is no reliable stamp: never cache.
#[cfg(not(unix))]
pub(crate) fn stamp(_path: &Path) -> Option<Stamp> {
    None
}

impl Stamp {
    /// Returns true when the stamped file has the size and the tail of `bytes`.
    pub(crate) fn describes(&self, bytes: &[u8]) -> bool {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let start = usize::try_from(size.saturating_sub(TAIL)).unwrap_or(0);
        self.size == size && self.tail == format!("{:016x}", fnv1a(&bytes[start..]))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Returns the cached snapshot of the log whose current stamp is `current`, if the cache holds
/// it.
pub(crate) fn load(cache: &Path, current: &Stamp) -> Option<StatusSnapshot> {
    let bytes = std::fs::read(cache).ok()?;
    let newline = bytes.iter().position(|byte| *byte == b'\n')?;
    let stored: Stamp = serde_json::from_slice(&bytes[..newline]).ok()?;
    if &stored != current {
        return None;
    }
    let text = std::str::from_utf8(&bytes[newline + 1..]).ok()?;
    let value: Value = missionctl_core::text::pyjson::from_str_deep(text).ok()?;
    snapshot_from_value(&value)
}

/// Stores the snapshot of the log stamped `stamp`; failures are ignored (it is a cache).
pub(crate) fn store(cache: &Path, stamp: &Stamp, snapshot: &StatusSnapshot) {
    let Ok(mut bytes) = serde_json::to_vec(stamp) else {
        return;
    };
    bytes.push(b'\n');
    bytes.extend_from_slice(snapshot.to_status_json().as_bytes());
    let Some(dir) = cache.parent() else {
        return;
    };
    if !dir.is_dir() && std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(mut temp) = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)
    else {
        return;
    };
    // Locked until it is renamed into place: a temporary file nobody holds is a killed
    // reader's, which this sweep (or the next) removes.
    if temp.as_file().try_lock().is_err() {
        return;
    }
    sweep_abandoned(dir, temp.path());
    if std::io::Write::write_all(&mut temp, &bytes).is_ok() {
        let _ = temp.persist(cache);
    }
}

/// How the cache's temporary files are named (followed by a random part and `.tmp`).
const TEMP_PREFIX: &str = ".missionctl-cache-";

/// Removes the temporary files in the cache directory `dir` that no process holds locked: a
/// process killed between creating one and renaming it left them. One that is being created
/// right now may go too; its writer then fails to rename it, which a cache ignores.
pub(crate) fn sweep_abandoned(dir: &Path, own: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path == own || !name.starts_with(TEMP_PREFIX) || !name.ends_with(".tmp") {
            continue;
        }
        let abandoned = match entry.file_type() {
            Ok(kind) if kind.is_file() => {
                std::fs::File::open(&path).is_ok_and(|file| file.try_lock().is_ok())
            }
            // Not a file of ours at all (a link or a directory under our name): not held.
            Ok(_) => true,
            Err(_) => false,
        };
        if abandoned && std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Reads a snapshot back from its `status.json` value; `None` for anything it would not
/// write.
pub(crate) fn snapshot_from_value(value: &Value) -> Option<StatusSnapshot> {
    let object = value.as_object()?;
    let string = |key: &str| object.get(key)?.as_str().map(str::to_owned);
    let optional = |value: Option<&Value>| -> Option<Option<String>> {
        match value? {
            Value::Null => Some(None),
            Value::String(text) => Some(Some(text.clone())),
            _ => None,
        }
    };
    let mut work_packages = BTreeMap::new();
    for (wp_id, state) in object.get("work_packages")?.as_object()? {
        let state = state.as_object()?;
        let mut slots: BTreeMap<String, Value> = BTreeMap::new();
        for (key, value) in state {
            if !matches!(
                key.as_str(),
                "lane" | "actor" | "last_transition_at" | "last_event_id" | "force_count"
            ) {
                slots.insert(key.clone(), value.clone());
            }
        }
        work_packages.insert(
            wp_id.clone(),
            WpState {
                lane: Lane::from_wire(state.get("lane")?.as_str()?)?,
                actor: state.get("actor")?.as_str()?.to_owned(),
                last_transition_at: optional(state.get("last_transition_at"))?,
                last_event_id: optional(state.get("last_event_id"))?,
                force_count: state.get("force_count")?.as_u64()?,
                slots,
            },
        );
    }
    let retrospective = match object.get("retrospective") {
        None => None,
        Some(value) => {
            let retro = value.as_object()?;
            let count = |key: &str| retro.get(key)?.as_u64();
            Some(RetrospectiveSummary {
                status: retro.get("status")?.as_str()?.to_owned(),
                mode: match retro.get("mode")? {
                    Value::Null => None,
                    other => Some(other.clone()),
                },
                record_path: optional(retro.get("record_path"))?,
                proposals_total: count("proposals_total")?,
                proposals_applied: count("proposals_applied")?,
                proposals_rejected: count("proposals_rejected")?,
            })
        }
    };
    Some(StatusSnapshot {
        event_count: usize::try_from(object.get("event_count")?.as_u64()?).ok()?,
        last_event_id: optional(object.get("last_event_id"))?,
        materialized_at: string("materialized_at")?,
        mission_number: string("mission_number")?,
        mission_slug: string("mission_slug")?,
        mission_type: string("mission_type")?,
        work_packages,
        retrospective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A killed reader's temporary file (held by nobody) is removed by the next store; one a
    /// live writer holds stays.
    #[test]
    fn abandoned_temporary_files_are_swept() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let abandoned = dir.path().join(".missionctl-cache-dead.tmp");
        std::fs::write(&abandoned, "half")?;
        let held = dir.path().join(".missionctl-cache-live.tmp");
        std::fs::write(&held, "writing")?;
        let holder = std::fs::File::open(&held)?;
        holder.lock()?;
        let other = dir.path().join("m.json");
        std::fs::write(&other, "kept")?;
        let removed = sweep_abandoned(dir.path(), &other);
        assert_eq!(removed, vec![abandoned.clone()]);
        assert!(!abandoned.exists() && held.exists() && other.exists());
        Ok(())
    }

    /// Every vendored expected snapshot reads back into the same bytes.
    #[test]
    fn snapshots_round_trip_byte_for_byte() -> Result<(), Box<dyn std::error::Error>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/missions");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path().join("expected.status.json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let value: Value = serde_json::from_str(&text)?;
            let snapshot = snapshot_from_value(&value).ok_or("a snapshot")?;
            assert_eq!(snapshot.to_status_json(), text, "{}", path.display());
            checked += 1;
        }
        assert!(checked >= 40, "only {checked} snapshots");
        Ok(())
    }

    #[test]
    fn a_stale_or_foreign_entry_is_ignored() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("status.events.jsonl");
        let cache = dir.path().join("cache/m.json");
        std::fs::write(&log, "{}\n")?;
        let snapshot = StatusSnapshot {
            event_count: 3,
            ..StatusSnapshot::default()
        };
        let first = stamp(&log).ok_or("a stamp")?;
        assert_eq!(load(&cache, &first), None, "nothing cached yet");
        store(&cache, &first, &snapshot);
        assert_eq!(load(&cache, &first), Some(snapshot.clone()));

        // Same size, same inode, new bytes: the tail hash (or the times) tell.
        std::fs::write(&log, "[]\n")?;
        let second = stamp(&log).ok_or("a stamp")?;
        assert_ne!(first, second);
        assert_eq!(load(&cache, &second), None);

        // A symbolic link has no stamp; a garbled cache file is ignored.
        let link = dir.path().join("link.jsonl");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&log, &link)?;
        assert_eq!(stamp(&link), None);
        std::fs::write(&cache, "garbage")?;
        assert_eq!(load(&cache, &second), None);
        Ok(())
    }
}
