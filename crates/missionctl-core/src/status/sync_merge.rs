//! How `sync` joins two versions of a branch, path by path: the pure decisions behind it.
//!
//! For every path that either side changed since their common ancestor, [`merge_path`] takes
//! the three versions (base, ours, theirs; `None` where the path is absent) and decides: keep
//! ours, take theirs, the union of two event logs ([`crate::status::log_merge`], the same rows and
//! bytes as the git merge driver), re-derive a `status.json` from its merged log, or a conflict
//! `sync` refuses to guess about. Only a path both sides changed differently needs more than
//! taking a side, and only event logs (union) and snapshots (derived) are merged; anything else
//! is left for `git merge` and a human.

use std::collections::BTreeSet;

use crate::status::log_merge::{self, LogMergeError, MergeSide};

/// The event logs Spec Kitty's merge driver unions.
pub const EVENT_LOG_FILES: [&str; 2] = ["status.events.jsonl", "decisions.events.jsonl"];

/// The snapshot derived from a mission's status log.
pub const SNAPSHOT_FILE: &str = "status.json";

/// The status log of a mission.
pub const STATUS_LOG_FILE: &str = "status.events.jsonl";

/// What a repository path is, for a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A mission's event log, `kitty-specs/<dir>/status.events.jsonl` or
    /// `decisions.events.jsonl`: merged by union.
    EventLog,
    /// A mission's `kitty-specs/<dir>/status.json`: derived from its log.
    Snapshot,
    /// Any other file of a mission directory.
    MissionFile,
    /// A file outside `kitty-specs/`.
    Other,
}

/// Returns what `path` (repository-relative, `/`-separated) is.
pub fn classify(path: &str) -> PathKind {
    let Some(rest) = path.strip_prefix("kitty-specs/") else {
        return PathKind::Other;
    };
    match rest.split_once('/') {
        Some((dir, file)) if !dir.is_empty() && EVENT_LOG_FILES.contains(&file) => {
            PathKind::EventLog
        }
        Some((dir, SNAPSHOT_FILE)) if !dir.is_empty() => PathKind::Snapshot,
        _ => PathKind::MissionFile,
    }
}

/// Returns the mission directory name of a path under `kitty-specs/`.
pub fn mission_dir_of(path: &str) -> Option<&str> {
    path.strip_prefix("kitty-specs/")?
        .split_once('/')
        .map(|(dir, _)| dir)
}

/// What a merge does with one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Keep our version (theirs did not change it, or changed it the same way).
    Ours,
    /// Take their version (`None`: they deleted it).
    Theirs,
    /// The union of the two event logs, in the merge driver's bytes.
    Union(Vec<u8>),
    /// A `status.json` both sides changed: re-derive it from the merged log.
    Derive,
    /// Both sides changed a file that cannot be merged here.
    Conflict,
}

/// Decides what a merge does with `path`, given its base, ours and theirs versions.
pub fn merge_path(
    path: &str,
    base: Option<&[u8]>,
    ours: Option<&[u8]>,
    theirs: Option<&[u8]>,
) -> Result<Resolution, LogMergeError> {
    if ours == theirs || base == theirs {
        return Ok(Resolution::Ours);
    }
    if base == ours {
        return Ok(Resolution::Theirs);
    }
    Ok(match classify(path) {
        PathKind::EventLog => Resolution::Union(log_merge::merge_event_logs(
            base.unwrap_or_default(),
            ours.unwrap_or_default(),
            theirs.unwrap_or_default(),
        )?),
        PathKind::Snapshot => Resolution::Derive,
        PathKind::MissionFile | PathKind::Other => Resolution::Conflict,
    })
}

/// Returns the `event_id`s of a log's rows; rows without one, and lines that are not rows, are
/// skipped (a count, not a validation).
pub fn event_ids(bytes: &[u8]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for line in bytes.split(|byte| *byte == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Ok(rows) = log_merge::parse_rows(line, MergeSide::Ours)
            && let Some(serde_json::Value::String(id)) =
                rows.first().and_then(|row| row.get("event_id"))
        {
            ids.insert(id.clone());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, at: &str) -> String {
        format!("{{\"at\": \"{at}\", \"event_id\": \"{id}\", \"wp_id\": \"WP01\"}}\n")
    }

    #[test]
    fn paths_are_classified_by_their_place_in_a_mission() {
        assert_eq!(
            classify("kitty-specs/m-1/status.events.jsonl"),
            PathKind::EventLog
        );
        assert_eq!(
            classify("kitty-specs/m-1/decisions.events.jsonl"),
            PathKind::EventLog
        );
        assert_eq!(classify("kitty-specs/m-1/status.json"), PathKind::Snapshot);
        assert_eq!(
            classify("kitty-specs/m-1/tasks/status.json"),
            PathKind::MissionFile
        );
        assert_eq!(classify("kitty-specs/m-1/spec.md"), PathKind::MissionFile);
        assert_eq!(classify("src/status.events.jsonl"), PathKind::Other);
        assert_eq!(mission_dir_of("kitty-specs/m-1/spec.md"), Some("m-1"));
        assert_eq!(mission_dir_of("README.md"), None);
    }

    #[test]
    fn one_sided_changes_take_that_side() -> Result<(), LogMergeError> {
        let (a, b) = (b"a".as_slice(), b"b".as_slice());
        assert_eq!(
            merge_path("x", Some(a), Some(a), Some(b))?,
            Resolution::Theirs
        );
        assert_eq!(
            merge_path("x", Some(a), Some(b), Some(a))?,
            Resolution::Ours
        );
        assert_eq!(
            merge_path("x", Some(a), Some(b), Some(b))?,
            Resolution::Ours
        );
        assert_eq!(merge_path("x", Some(a), Some(a), None)?, Resolution::Theirs);
        assert_eq!(merge_path("x", None, None, Some(b))?, Resolution::Theirs);
        Ok(())
    }

    #[test]
    fn logs_changed_on_both_sides_are_unioned_and_snapshots_derived() -> Result<(), LogMergeError> {
        let base = row("01A", "2026-01-01T00:00:01+00:00");
        let ours = format!("{base}{}", row("01C", "2026-01-01T00:00:03+00:00"));
        let theirs = format!("{base}{}", row("01B", "2026-01-01T00:00:02+00:00"));
        let path = "kitty-specs/m/status.events.jsonl";
        let Resolution::Union(merged) = merge_path(
            path,
            Some(base.as_bytes()),
            Some(ours.as_bytes()),
            Some(theirs.as_bytes()),
        )?
        else {
            panic!("a union");
        };
        assert_eq!(
            event_ids(&merged).into_iter().collect::<Vec<_>>(),
            ["01A", "01B", "01C"]
        );
        assert_eq!(
            merge_path(
                "kitty-specs/m/status.json",
                Some(b"1"),
                Some(b"2"),
                Some(b"3")
            )?,
            Resolution::Derive
        );
        assert_eq!(
            merge_path("kitty-specs/m/spec.md", Some(b"1"), Some(b"2"), Some(b"3"))?,
            Resolution::Conflict
        );
        Ok(())
    }

    #[test]
    fn a_row_changed_on_one_side_is_a_conflict_not_a_choice() {
        let ours = row("01A", "2026-01-01T00:00:01+00:00");
        let theirs = row("01A", "2026-01-01T00:00:02+00:00");
        let merged = merge_path(
            "kitty-specs/m/status.events.jsonl",
            None,
            Some(ours.as_bytes()),
            Some(theirs.as_bytes()),
        );
        assert!(matches!(
            merged,
            Err(LogMergeError::ConflictingPayloads { .. })
        ));
    }
}
