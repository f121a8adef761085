//! The missions of a repository: the `kitty-specs/*` index, handle resolution and the
//! summaries `mission list` and `mission show` print.
//!
//! The index is rebuilt on every call (Spec Kitty keeps no cache either): one directory listing
//! and one small `meta.json` read per mission. Which mission a handle names is decided by the
//! core's [`match_handle`]; this module only gathers the candidates.

use std::path::PathBuf;

use missionctl_core::mission::meta::{
    HandleError, HandleRule, META_FILE_NAME, MetaError, MetaReadPolicy, MissionCandidate,
    MissionMeta, check_safe_path_segment, coordination_worktree_dir_name, is_safe_path_segment,
    match_handle, resolve_mid8, verbatim_mission_dir_name,
};
use missionctl_core::mission::meta::{KITTY_SPECS_DIR, WORKTREES_DIR};
use missionctl_core::mission::topology::{LanesJsonState, MissionTopology, derive_legacy_topology};
use serde::Serialize;
use serde_json::Value;

use crate::fs_util::{self, PathError};
use crate::mission::meta_store::{MetaFileError, PrimaryMissionDir};
use crate::repo::{Repo, RepoError};

/// The missions under `<primary>/kitty-specs/`, as handle candidates sorted by directory name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissionIndex {
    candidates: Vec<MissionCandidate>,
}

/// A handle resolved to a mission directory of the primary checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedHandle {
    /// The mission directory.
    pub dir: PrimaryMissionDir,
    /// Which rule of the lookup matched.
    pub rule: HandleRule,
}

/// What `mission list` and `mission show` report about one mission.
///
/// Paths are absolute. A mission whose `meta.json` is missing or unreadable is still listed,
/// with `problem` saying why and the meta fields empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionSummary {
    /// The directory name under `kitty-specs/` (the mission's canonical slug).
    pub mission_slug: String,
    /// The declared mission id.
    pub mission_id: Option<String>,
    /// The first eight characters of the mission id.
    pub mid8: Option<String>,
    /// The display title.
    pub friendly_name: Option<String>,
    /// The mission type.
    pub mission_type: Option<String>,
    /// The dense display number assigned at merge.
    pub mission_number: Option<i64>,
    /// The topology: the stored value, or the one derived for a mission without one.
    pub topology: Option<MissionTopology>,
    /// Whether `topology` is stored in `meta.json` (false: derived, not persisted).
    pub topology_stored: bool,
    /// The branch the mission merges into.
    pub target_branch: Option<String>,
    /// The declared coordination branch.
    pub coordination_branch: Option<String>,
    /// Whether the mission once had a coordination branch that was dropped.
    pub flattened: bool,
    /// The creation time as stored.
    pub created_at: Option<String>,
    /// The mission directory in the primary checkout.
    pub primary_dir: PathBuf,
    /// Its `meta.json`.
    pub meta_path: PathBuf,
    /// The mission directory inside the coordination worktree, for a topology that routes
    /// through coordination (whether or not the worktree exists).
    pub coordination_dir: Option<PathBuf>,
    /// Why the summary is incomplete (missing or unreadable `meta.json`, a field of the wrong
    /// type), if it is.
    pub problem: Option<String>,
}

/// Why missions could not be listed or a handle resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The handle names no mission, several, or is not a handle.
    #[error(transparent)]
    Handle(#[from] HandleError),
    /// The mission's `meta.json` cannot be used.
    #[error(transparent)]
    Meta(#[from] MetaFileError),
    /// The repository cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl LookupError {
    /// Returns the stable error code (`MISSION_AMBIGUOUS_SELECTOR`, `MISSION_NOT_FOUND`, …).
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::Handle(error) => error.code(),
            LookupError::Meta(error) => error.code(),
            LookupError::Repo(error) => error.code(),
            LookupError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            LookupError::Handle(error) => error.hint(),
            LookupError::Meta(error) => error.hint(),
            LookupError::Repo(error) => error.hint(),
            LookupError::Io(error) => error.hint(),
        }
    }
}

/// A mission directory found by listing `kitty-specs/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissionDirEntry {
    /// The directory name.
    pub(crate) name: String,
    /// The entry is a symbolic link: listed, so that naming it says why it is refused, but
    /// never read through (see [`crate::repo::containment`]).
    pub(crate) linked: bool,
}

/// Returns the directories under `kitty-specs/` (and the symbolic links there, which are
/// never followed), sorted by name; none when it is absent.
///
/// Entries that are not directories, and names that are not safe path segments (not UTF-8, a
/// leading dot, spaces, …: no handle can name them and no path may be joined from them), are
/// left out. `kitty-specs/` itself must not be a symbolic link (`SYMLINK_REFUSED`).
pub(crate) fn mission_dir_entries(repo: &Repo) -> Result<Vec<MissionDirEntry>, PathError> {
    let root = repo.kitty_specs_dir();
    let Some(entries) = repo.containment().read_dir(&root)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PathError {
            action: "Cannot list",
            path: root.clone(),
            source,
        })?;
        // `file_type` does not follow a symbolic link.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if let (true, Ok(name)) = (
            kind.is_dir() || kind.is_symlink(),
            entry.file_name().into_string(),
        ) && is_safe_path_segment(&name)
        {
            found.push(MissionDirEntry {
                name,
                linked: kind.is_symlink(),
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Returns the names of [`mission_dir_entries`].
pub(crate) fn mission_dir_names(repo: &Repo) -> Result<Vec<String>, PathError> {
    Ok(mission_dir_entries(repo)?
        .into_iter()
        .map(|entry| entry.name)
        .collect())
}

/// Returns the handle candidate of one mission directory: its `meta.json` read with the
/// silent policy (a malformed file reads as an empty object, an unreadable one likewise, and
/// so does a directory that is a symbolic link, which is never read through).
///
/// `linked` is what a listing of `kitty-specs/` (already checked) said of the directory; `None`
/// when it was not listed, and the whole path is checked.
fn candidate(repo: &Repo, dir_name: String, linked: Option<bool>) -> MissionCandidate {
    let path = repo.kitty_specs_dir().join(&dir_name).join(META_FILE_NAME);
    let read = match linked {
        Some(true) => return MissionCandidate::from_meta(dir_name, Some(&MissionMeta::default())),
        Some(false) => fs_util::read_optional(&path),
        None => repo.containment().read(&path),
    };
    match read {
        Ok(None) => MissionCandidate::from_meta(dir_name, None),
        Ok(Some(bytes)) => MissionCandidate {
            dir_name,
            has_meta: true,
            mission_id: indexed_mission_id(&bytes),
        },
        Err(_) => MissionCandidate::from_meta(dir_name, Some(&MissionMeta::default())),
    }
}

/// Returns the `mission_id` the identity index sees in `meta.json` bytes: exactly
/// `MissionCandidate::from_meta` of the silent-policy read (a malformed or non-object file has
/// none; a value that is not a non-blank string counts as none), without building the whole
/// object — the other values are skipped by the parser, which keeps the 500-mission scan of a
/// handle lookup well within the `context` budget.
fn indexed_mission_id(bytes: &[u8]) -> Option<String> {
    use serde::Deserialize;
    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

    /// A key, reduced to whether it is `mission_id` (no allocation for the others).
    struct IsMissionId(bool);

    impl<'de> Deserialize<'de> for IsMissionId {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl Visitor<'_> for KeyVisitor {
                type Value = IsMissionId;
                fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    formatter.write_str("a key")
                }
                fn visit_str<E: de::Error>(self, key: &str) -> Result<IsMissionId, E> {
                    Ok(IsMissionId(key == "mission_id"))
                }
            }
            deserializer.deserialize_str(KeyVisitor)
        }
    }

    /// The last `mission_id` value of a top-level object (duplicate keys: the last wins, as
    /// for the full parse).
    struct IdOnly(Option<Value>);

    impl<'de> Deserialize<'de> for IdOnly {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct ObjectVisitor;
            impl<'de> Visitor<'de> for ObjectVisitor {
                type Value = IdOnly;
                fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    formatter.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdOnly, A::Error> {
                    let mut id = None;
                    while let Some(IsMissionId(is_id)) = map.next_key()? {
                        if is_id {
                            id = Some(map.next_value::<Value>()?);
                        } else {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    Ok(IdOnly(id))
                }
            }
            deserializer.deserialize_map(ObjectVisitor)
        }
    }

    match serde_json::from_slice::<IdOnly>(bytes) {
        Ok(IdOnly(Some(Value::String(id)))) if !id.trim().is_empty() => Some(id),
        _ => None,
    }
}

impl MissionIndex {
    /// Lists `kitty-specs/*` of the primary checkout and reads each mission's identity.
    pub fn scan(repo: &Repo) -> Result<MissionIndex, LookupError> {
        let candidates = mission_dir_entries(repo)?
            .into_iter()
            .map(|entry| candidate(repo, entry.name, Some(entry.linked)))
            .collect();
        Ok(MissionIndex { candidates })
    }

    /// Returns the candidates, sorted by directory name.
    pub fn candidates(&self) -> &[MissionCandidate] {
        &self.candidates
    }

    /// Returns the mission a handle names, by the core's [`match_handle`].
    pub fn resolve(&self, repo: &Repo, handle: &str) -> Result<ResolvedHandle, LookupError> {
        let found = match_handle(handle, &self.candidates)?;
        // Directory names come from the listing, which keeps safe names only; the check
        // before the join stays anyway.
        let dir = PrimaryMissionDir::new(repo, &found.candidate.dir_name).map_err(|_| {
            HandleError::NotFound {
                handle: handle.to_owned(),
            }
        })?;
        Ok(ResolvedHandle {
            dir,
            rule: found.rule,
        })
    }
}

/// Returns true when the handle has the shape the identity ladder matches against mission ids
/// (26 or 8 characters of `[0-9A-Z]`), so that no directory-name shortcut applies.
fn is_id_shaped(handle: &str) -> bool {
    (handle.len() == 26 || handle.len() == 8)
        && handle
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase())
}

/// Returns the mission a handle (full ULID, mid8, directory name, slug without `NNN-`, mission
/// number or unique human slug) names.
///
/// Errors: [`HandleError::Unsafe`] for a handle that is a path (`..`, `/`, NUL, …),
/// `MISSION_AMBIGUOUS_SELECTOR` listing every match, `MISSION_NOT_FOUND`.
///
/// A handle that is exactly a directory with an identified `meta.json` is answered from that
/// directory alone: the lookup's first two rules only apply to id-shaped handles, and the third
/// (exact directory name) can match one directory only, so the full index would give the same
/// answer. Every other handle scans the index.
pub fn resolve_handle(repo: &Repo, handle: &str) -> Result<ResolvedHandle, LookupError> {
    if !is_id_shaped(handle) && check_safe_path_segment(handle).is_ok() {
        let direct = candidate(repo, handle.to_owned(), None);
        if direct.has_meta && direct.mission_id.is_some() {
            let dir = PrimaryMissionDir::new(repo, handle).map_err(|_| HandleError::NotFound {
                handle: handle.to_owned(),
            })?;
            return Ok(ResolvedHandle {
                dir,
                rule: HandleRule::DirName,
            });
        }
    }
    MissionIndex::scan(repo)?.resolve(repo, handle)
}

/// Returns a summary of every mission under `kitty-specs/`, sorted by directory name.
///
/// Never fails on one mission's bad `meta.json`: that mission is listed with a `problem`.
pub fn list_missions(repo: &Repo) -> Result<Vec<MissionSummary>, LookupError> {
    let mut summaries = Vec::new();
    for dir_name in mission_dir_names(repo)? {
        let Ok(dir) = PrimaryMissionDir::new(repo, &dir_name) else {
            continue;
        };
        summaries.push(summarize(repo, &dir)?);
    }
    Ok(summaries)
}

/// Returns the summary of the mission a handle names (see [`resolve_handle`]).
pub fn show_mission(repo: &Repo, handle: &str) -> Result<MissionSummary, LookupError> {
    let resolved = resolve_handle(repo, handle)?;
    summarize(repo, &resolved.dir)
}

/// Returns the summary of one mission directory.
pub fn summarize(repo: &Repo, dir: &PrimaryMissionDir) -> Result<MissionSummary, LookupError> {
    let mut summary = MissionSummary {
        mission_slug: dir.dir_name().to_owned(),
        mission_id: None,
        mid8: None,
        friendly_name: None,
        mission_type: None,
        mission_number: None,
        topology: None,
        topology_stored: false,
        target_branch: None,
        coordination_branch: None,
        flattened: false,
        created_at: None,
        primary_dir: dir.path().to_path_buf(),
        meta_path: dir.meta_path(),
        coordination_dir: None,
        problem: None,
    };
    let meta = match dir.read_meta(MetaReadPolicy::Optional) {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            summary.problem = Some(format!("{}", MetaError::NotFound));
            return Ok(summary);
        }
        Err(MetaFileError::Meta { source, .. }) => {
            summary.problem = Some(source.to_string());
            return Ok(summary);
        }
        // A listing names a linked mission directory without reading through it.
        Err(MetaFileError::Io(error)) if error.escape().is_some() => {
            summary.problem = Some(error.to_string());
            return Ok(summary);
        }
        Err(error) => return Err(error.into()),
    };
    fill_summary(repo, dir, &meta, &mut summary)?;
    Ok(summary)
}

fn fill_summary(
    repo: &Repo,
    dir: &PrimaryMissionDir,
    meta: &MissionMeta,
    summary: &mut MissionSummary,
) -> Result<(), PathError> {
    let mut problems: Vec<String> = Vec::new();
    let mut text = |read: Result<Option<&str>, MetaError>| match read {
        Ok(value) => value.map(str::to_owned),
        Err(error) => {
            problems.push(error.to_string());
            None
        }
    };
    summary.friendly_name = text(meta.friendly_name());
    summary.mission_type = text(meta.mission_type());
    summary.target_branch = text(meta.target_branch());
    summary.coordination_branch = text(meta.coordination_branch());
    summary.created_at = text(meta.created_at());
    match meta.mission_id() {
        Ok(id) => summary.mission_id = id.map(|id| id.as_str().to_owned()),
        Err(error) => problems.push(error.to_string()),
    }
    summary.mid8 = resolve_mid8(summary.mission_id.as_deref()).map(str::to_owned);
    match meta.mission_number() {
        Ok(number) => summary.mission_number = number,
        Err(error) => problems.push(error.to_string()),
    }
    summary.flattened = meta.flattened();
    let (topology, stored) = match meta.stored_topology() {
        Some(stored) => (stored, true),
        None => (derive_legacy_topology(meta, dir.lanes_json_state()?), false),
    };
    summary.topology = Some(topology);
    summary.topology_stored = stored;
    if topology.routes_through_coordination()
        && summary.coordination_branch.is_some()
        && let Some(mid8) = summary.mid8.as_deref()
    {
        let verbatim = verbatim_mission_dir_name(dir.dir_name(), mid8);
        summary.coordination_dir = Some(
            repo.primary_root()
                .join(WORKTREES_DIR)
                .join(coordination_worktree_dir_name(dir.dir_name(), mid8))
                .join(KITTY_SPECS_DIR)
                .join(verbatim),
        );
    }
    summary.problem = (!problems.is_empty()).then(|| problems.join("; "));
    Ok(())
}

/// Returns the lanes signal for a mission whose `meta.json` has no stored topology, reading
/// `lanes.json` only then.
pub(crate) fn lanes_state_if_needed(
    dir: &PrimaryMissionDir,
    meta: &MissionMeta,
) -> Result<LanesJsonState, PathError> {
    if meta.stored_topology().is_some() {
        Ok(LanesJsonState::Absent)
    } else {
        dir.lanes_json_state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_light_scan_reads_what_the_silent_policy_reads() {
        let cases: [&[u8]; 14] = [
            br#"{"mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "x": [1, {"mission_id": "no"}]}"#,
            br#"{"mission_id": "A", "mission_id": "B"}"#,
            br#"{"mission_id": "  "}"#,
            br#"{"mission_id": 5}"#,
            br#"{"mission_id": null}"#,
            br#"{"mission\u005fid": "escaped"}"#,
            br#"{}"#,
            br#"["mission_id"]"#,
            br#""mission_id""#,
            br#"{"mission_id": "A"} trailing"#,
            b"\xEF\xBB\xBF{\"mission_id\": \"A\"}",
            b"{\"mission_id\": \"\xff\"}",
            b"",
            b"{",
        ];
        for bytes in cases {
            let meta = MetaReadPolicy::Silent
                .apply(Some(bytes))
                .ok()
                .flatten()
                .unwrap_or_default();
            let expected = MissionCandidate::from_meta("d", Some(&meta)).mission_id;
            assert_eq!(
                indexed_mission_id(bytes),
                expected,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
