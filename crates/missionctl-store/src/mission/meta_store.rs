//! `meta.json` on disk: read with Spec Kitty's policies, written in canonical form atomically.
//!
//! Every read and write is anchored on the **primary checkout**: a [`PrimaryMissionDir`] can only
//! be built from a [`Repo`] and a safe directory name, so a coordination worktree's copy of a
//! mission directory can never be read for `meta.json` by mistake (reading meta through a
//! coordination-aware path caused Spec Kitty's historic split-brain bugs).

use std::path::{Path, PathBuf};

use missionctl_core::mission::meta::{
    META_FILE_NAME, MetaError, MetaReadPolicy, MissionMeta, NameError, check_safe_path_segment,
};
use missionctl_core::mission::topology::LanesJsonState;
use serde_json::Value;

use crate::fs_util::PathError;
use crate::repo::Repo;
use crate::repo::containment::Containment;
use crate::write::{WriteError, WriteTransaction};

/// The file name of a mission's lane allocation.
pub const LANES_FILE_NAME: &str = "lanes.json";

/// A mission directory in the primary checkout: `<primary>/kitty-specs/<dir_name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrimaryMissionDir {
    dir_name: String,
    path: PathBuf,
    containment: Containment,
}

/// Whether a `meta.json` write checks Spec Kitty's validation rules first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaValidation {
    /// Check [`MissionMeta::validate`] before writing (Spec Kitty's default write path).
    Validate,
    /// Write as is (Spec Kitty's mutators that write with validation off: backfill, flatten).
    Skip,
}

/// A `meta.json` that could not be read or written; always names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaFileError {
    /// The file's contents are not what the caller needs.
    #[error("`{}`: {source}", path.display())]
    Meta {
        /// The `meta.json` file.
        path: PathBuf,
        /// What is wrong with it (names the field where one is at fault).
        #[source]
        source: MetaError,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The write door refused or failed; nothing was written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl MetaFileError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            MetaFileError::Meta { source, .. } => source.code(),
            MetaFileError::Io(error) => error.code(),
            MetaFileError::Write(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            MetaFileError::Meta { source, .. } => source.hint(),
            MetaFileError::Io(error) => error.hint(),
            MetaFileError::Write(error) => error.hint(),
        }
    }
}

impl PrimaryMissionDir {
    /// Returns the mission directory `dir_name` of the repository's primary checkout.
    ///
    /// `dir_name` must be a safe path segment (no `..`, separators, leading dot, NUL, …).
    pub fn new(repo: &Repo, dir_name: &str) -> Result<PrimaryMissionDir, NameError> {
        check_safe_path_segment(dir_name)?;
        Ok(PrimaryMissionDir {
            dir_name: dir_name.to_owned(),
            path: repo.kitty_specs_dir().join(dir_name),
            containment: repo.containment().clone(),
        })
    }

    /// Returns the directory name (the mission's canonical slug).
    pub fn dir_name(&self) -> &str {
        &self.dir_name
    }

    /// Returns the directory's absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the path of its `meta.json`.
    pub fn meta_path(&self) -> PathBuf {
        self.path.join(META_FILE_NAME)
    }

    /// Returns the path of its `lanes.json`.
    pub fn lanes_path(&self) -> PathBuf {
        self.path.join(LANES_FILE_NAME)
    }

    /// Returns the containment its reads and writes go through.
    pub fn containment(&self) -> &Containment {
        &self.containment
    }

    /// Returns true when the directory exists (a symbolic link on the way is refused).
    pub fn exists(&self) -> Result<bool, PathError> {
        self.containment.is_dir(&self.path)
    }

    /// Reads `meta.json` with one of Spec Kitty's [read policies](MetaReadPolicy).
    ///
    /// `Ok(None)` only under [`MetaReadPolicy::Optional`] for a missing file.
    pub fn read_meta(&self, policy: MetaReadPolicy) -> Result<Option<MissionMeta>, MetaFileError> {
        let path = self.meta_path();
        let bytes = match (policy, self.containment.read(&path)) {
            (_, Ok(bytes)) => bytes,
            // The silent policy never fails, even on an unreadable file; a symbolic link on
            // the way is not an unreadable file.
            (MetaReadPolicy::Silent, Err(error)) if error.escape().is_none() => {
                return Ok(Some(MissionMeta::default()));
            }
            (_, Err(error)) => return Err(error.into()),
        };
        policy
            .apply(bytes.as_deref())
            .map_err(|source| MetaFileError::Meta { path, source })
    }

    /// Reads `meta.json`, requiring it: missing is [`MetaError::NotFound`]; malformed or not an
    /// object is an error (the fail-closed reader).
    pub fn read_meta_required(&self) -> Result<MissionMeta, MetaFileError> {
        self.read_meta(MetaReadPolicy::Optional)?
            .ok_or_else(|| MetaFileError::Meta {
                path: self.meta_path(),
                source: MetaError::NotFound,
            })
    }

    /// Writes `meta.json` in canonical form, atomically, inside `transaction` (a write
    /// transaction of the mission's scope); returns false (and writes nothing) when the file
    /// already holds exactly those bytes.
    ///
    /// Keys missionctl does not know are kept, because [`MissionMeta`] keeps the whole object.
    pub fn write_meta(
        &self,
        transaction: &mut WriteTransaction,
        meta: &MissionMeta,
        validation: MetaValidation,
    ) -> Result<bool, MetaFileError> {
        let path = self.meta_path();
        if validation == MetaValidation::Validate {
            meta.validate(&self.dir_name)
                .map_err(|source| MetaFileError::Meta {
                    path: path.clone(),
                    source,
                })?;
        }
        let bytes = meta.to_canonical_bytes();
        if self.containment.read(&path)?.as_deref() == Some(bytes.as_slice()) {
            return Ok(false);
        }
        transaction.write_file(&path, &bytes)?;
        Ok(true)
    }

    /// Returns the state of `lanes.json`, the lanes signal of the topology derivation: absent,
    /// present (a JSON object with a `lanes` list) or corrupt (anything else, which counts as
    /// no lanes).
    pub fn lanes_json_state(&self) -> Result<LanesJsonState, PathError> {
        let Some(bytes) = self.containment.read(&self.lanes_path())? else {
            return Ok(LanesJsonState::Absent);
        };
        Ok(match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(manifest)) if manifest.get("lanes").is_some_and(Value::is_array) => {
                LanesJsonState::Present
            }
            _ => LanesJsonState::Corrupt,
        })
    }
}
