//! Ready work: the work packages that can start now.
//!
//! A work package is ready when it is in `planned` (so nobody holds it: claiming moves it to
//! `claimed`) and every dependency is `done` — the gate [`dependency_readiness`] that also
//! guards `planned → claimed`. Work packages in `planned` whose dependencies are not all done
//! are reported as waiting, with what they wait for. The order is natural id order.
//!
//! Reads only: the work packages and their lanes through the work-package view (the set `board`
//! and `wp list` show), their dependencies through the fast header reader, and `lanes.json`
//! for the lane of each.

use missionctl_core::planning::lanes_manifest::LanesManifest;
use missionctl_core::planning::task_plan::{
    UnsatisfiedDependency, dependency_readiness, natural_id_order,
};
use missionctl_core::status::lane::Lane;
use serde::Serialize;

use crate::mission::dir::StatusReadError;
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::planning::work_package::{WorkPackageFileError, work_package_headers};
use crate::status::MissionStatus;
use crate::view::work_packages::{WorkPackagesError, mission_work_packages};

/// A work package that can start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadyWorkPackage {
    /// The id.
    pub wp_id: String,
    /// The title.
    pub title: Option<String>,
    /// `tasks/<file>`.
    pub file: String,
    /// Its dependencies (all done).
    pub dependencies: Vec<String>,
    /// Its lane in `lanes.json`, when allocated.
    pub lane_id: Option<String>,
}

/// A planned work package whose dependencies are not all done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingWorkPackage {
    /// The id.
    pub wp_id: String,
    /// The title.
    pub title: Option<String>,
    /// The dependencies that are not done, with their lanes.
    pub waiting_for: Vec<UnsatisfiedDependency>,
}

/// The ready and waiting work of one mission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionReadiness {
    /// The mission.
    pub mission_slug: String,
    /// The work packages that can start, in natural id order.
    pub ready: Vec<ReadyWorkPackage>,
    /// The planned work packages that wait for dependencies, in natural id order.
    pub waiting: Vec<WaitingWorkPackage>,
}

/// Why readiness could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadyError {
    /// The status cannot be read.
    #[error(transparent)]
    Status(#[from] StatusReadError),
    /// A work-package file cannot be read.
    #[error(transparent)]
    WorkPackage(#[from] WorkPackageFileError),
    /// The mission's work packages cannot be read.
    #[error(transparent)]
    WorkPackages(#[from] WorkPackagesError),
}

impl ReadyError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadyError::Status(error) => error.code(),
            ReadyError::WorkPackage(error) => error.code(),
            ReadyError::WorkPackages(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            ReadyError::Status(error) => error.hint(),
            ReadyError::WorkPackage(error) => error.hint(),
            ReadyError::WorkPackages(error) => error.hint(),
        }
    }
}

/// Returns the ready and waiting work of a mission. See the [module](self) docs.
pub fn mission_readiness(status: &MissionStatus) -> Result<MissionReadiness, ReadyError> {
    let mission_dir = status.primary_mission_dir();
    let headers = work_package_headers(status.containment(), mission_dir)?;
    let view = mission_work_packages(status)?.view;
    // A work package's lane as the board shows it: its row's, else the log's.
    let lane_of = |id: &str| {
        view.rows
            .iter()
            .find(|row| row.wp_id.as_deref() == Some(id))
            .map(|row| row.lane)
            .or_else(|| view.snapshot.work_packages.get(id).map(|state| state.lane))
    };
    // Lanes are presentation here: an unreadable lanes.json only drops the lane column (a
    // symbolic link is refused all the same).
    let lanes = match status
        .containment()
        .read(&mission_dir.join(LANES_FILE_NAME))
    {
        Ok(bytes) => bytes.and_then(|bytes| LanesManifest::parse(&bytes).ok()),
        Err(error) if error.escape().is_some() => {
            return Err(WorkPackageFileError::from(error).into());
        }
        Err(_) => None,
    };
    let mut ready = Vec::new();
    let mut waiting = Vec::new();
    for header in headers {
        if lane_of(&header.wp_id) != Some(Lane::Planned) {
            continue;
        }
        let waiting_for = dependency_readiness(
            header.summary.dependencies.iter().map(String::as_str),
            lane_of,
        );
        if waiting_for.is_empty() {
            ready.push(ReadyWorkPackage {
                lane_id: lanes
                    .as_ref()
                    .and_then(|lanes| lanes.lane_for_wp(&header.wp_id))
                    .map(|lane| lane.lane_id.clone()),
                wp_id: header.wp_id,
                title: header.summary.title,
                file: header.file,
                dependencies: header.summary.dependencies,
            });
        } else {
            waiting.push(WaitingWorkPackage {
                wp_id: header.wp_id,
                title: header.summary.title,
                waiting_for,
            });
        }
    }
    ready.sort_by(|a, b| natural_id_order(&a.wp_id, &b.wp_id));
    ready.dedup_by(|a, b| a.wp_id == b.wp_id);
    waiting.sort_by(|a, b| natural_id_order(&a.wp_id, &b.wp_id));
    waiting.dedup_by(|a, b| a.wp_id == b.wp_id);
    Ok(MissionReadiness {
        mission_slug: status.mission_slug().to_owned(),
        ready,
        waiting,
    })
}
