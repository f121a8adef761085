//! The work-package view of one mission read from disk: its task files, its status log's
//! reductions, its `lanes.json` and the lane workspace contexts, combined by the core's
//! [`WorkPackageView`] as Spec Kitty combines them.
//!
//! `board`, `wp list`, `ready`, `next` and `history` all read their work packages here, so they
//! count the same set.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use missionctl_core::planning::lanes_manifest::LanesManifest;
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::view::work_package_view::{
    LanesFile, TaskFile, ViewInputs, WorkPackageView, WorkPackageViewError, workspace_context_wps,
};
use serde_json::Value;

use crate::fs_util::{PathError, read_optional};
use crate::mission::dir::StatusReadError;
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::planning::work_package::{WorkPackageFileError, work_package_files};
use crate::repo::containment::Containment;
use crate::status::MissionStatus;

/// Where lane workspace context files live, under the primary checkout.
const WORKSPACES_DIR: &str = ".kittify/workspaces";

/// What a mission's work-package view is computed from besides its status: the task files,
/// `lanes.json` and the lane workspace contexts, as read from disk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkPackageFacts {
    /// The task files `tasks/WP*.md`, in byte order of their names.
    pub task_files: Vec<TaskFile>,
    /// The mission's `tasks/` directory (in the primary checkout).
    pub tasks_dir: PathBuf,
    /// Whether `tasks/` exists.
    pub tasks_dir_exists: bool,
    /// The mission's `lanes.json`, as read.
    pub lanes: LanesFile,
    /// Where `lanes.json` is.
    pub lanes_path: PathBuf,
    /// The work packages a lane workspace context of this mission names.
    pub workspace_context_wps: BTreeSet<String>,
}

/// A mission's work packages as read from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct MissionWorkPackages {
    /// The view: one row per task file, the log-only ids, the status.
    pub view: WorkPackageView,
    /// What it was computed from.
    pub facts: WorkPackageFacts,
}

/// Why a mission's work packages cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkPackagesError {
    /// The status log cannot be read.
    #[error(transparent)]
    Status(#[from] StatusReadError),
    /// A task file cannot be read.
    #[error(transparent)]
    TaskFile(#[from] WorkPackageFileError),
    /// `lanes.json` is needed and cannot be read.
    #[error("lanes.json at {} is corrupt or malformed: {message}", path.display())]
    LanesCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl WorkPackagesError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            WorkPackagesError::Status(error) => error.code(),
            WorkPackagesError::TaskFile(error) => error.code(),
            WorkPackagesError::LanesCorrupt { .. } => "LANES_JSON_INVALID",
            WorkPackagesError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            WorkPackagesError::Status(error) => error.hint(),
            WorkPackagesError::TaskFile(error) => error.hint(),
            WorkPackagesError::LanesCorrupt { .. } => {
                "Recompute it with `missionctl tasks finalize --mission <mission>` (Spec Kitty needs \
                 `mission_slug` in it)"
                    .to_owned()
            }
            WorkPackagesError::Io(error) => error.hint(),
        }
    }
}

impl WorkPackageFacts {
    /// Reads the task files, `lanes.json` and the workspace contexts of a mission.
    pub fn read(status: &MissionStatus) -> Result<WorkPackageFacts, WorkPackagesError> {
        let containment = status.containment();
        let mission_dir = status.primary_mission_dir();
        let tasks_dir = mission_dir.join("tasks");
        let tasks_dir_exists = containment.is_dir(&tasks_dir)?;
        let mut task_files = Vec::new();
        for path in work_package_files(containment, mission_dir)? {
            let text = containment.read_text(&path)?.unwrap_or_default();
            let file_name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            task_files.push(TaskFile { file_name, text });
        }
        let lanes_path = mission_dir.join(LANES_FILE_NAME);
        let lanes = match containment.read(&lanes_path)? {
            None => LanesFile::Missing,
            Some(bytes) => match LanesManifest::parse_as_spec_kitty(&bytes) {
                Ok(manifest) => LanesFile::Present(Box::new(manifest)),
                Err(error) => LanesFile::Corrupt(error.0),
            },
        };
        let contexts = workspace_contexts(containment, status.primary_root())?;
        Ok(WorkPackageFacts {
            task_files,
            tasks_dir,
            tasks_dir_exists,
            lanes,
            lanes_path,
            workspace_context_wps: workspace_context_wps(&contexts, status.mission_slug()),
        })
    }

    /// Returns the view of these facts with the mission's status `snapshot` (its full
    /// reduction; the committed snapshot of a merged mission is read here).
    pub fn view(
        &self,
        status: &MissionStatus,
        snapshot: StatusSnapshot,
    ) -> Result<WorkPackageView, WorkPackagesError> {
        let committed = status.committed_snapshot();
        WorkPackageView::build(
            snapshot,
            ViewInputs {
                task_files: &self.task_files,
                committed: committed.as_ref(),
                lanes: &self.lanes,
                workspace_context_wps: &self.workspace_context_wps,
            },
        )
        .map_err(|error| WorkPackagesError::LanesCorrupt {
            path: self.lanes_path.clone(),
            message: match error {
                WorkPackageViewError::LanesCorrupt(message) => message,
                other => other.to_string(),
            },
        })
    }
}

/// Reads a mission's work packages (see the module documentation).
pub fn mission_work_packages(
    status: &MissionStatus,
) -> Result<MissionWorkPackages, WorkPackagesError> {
    let facts = WorkPackageFacts::read(status)?;
    let view = facts.view(status, status.snapshot()?)?;
    Ok(MissionWorkPackages { view, facts })
}

/// Returns the lane workspace context files of the repository, parsed, in file-name order
/// (files that are not JSON are skipped, as Spec Kitty skips them).
fn workspace_contexts(
    containment: &Containment,
    primary_root: &Path,
) -> Result<Vec<Value>, PathError> {
    let dir = primary_root.join(WORKSPACES_DIR);
    let Some(entries) = containment.read_dir(&dir)? else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    let mut contexts = Vec::new();
    for path in paths {
        // A context that is a link, or not JSON, is not one (Spec Kitty skips what it cannot
        // load).
        if let Ok(Some(bytes)) = read_optional(&path)
            && let Ok(value) = serde_json::from_slice::<Value>(&bytes)
        {
            contexts.push(value);
        }
    }
    Ok(contexts)
}
