//! The board: one mission's work packages with their lanes (`board --json`), in the shape of
//! Spec Kitty's `agent tasks status --json`, or every mission's.
//!
//! A board reads its mission as Spec Kitty's board does ([`MissionStatus::load_for_reading`]):
//! a coordination mission whose branch was deleted after merge is read from the primary
//! checkout instead of failing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use missionctl_core::mission::meta::{MissionMeta, normalize_mission_number};
use missionctl_core::planning::lanes_manifest::lane_worktree_dir_name;
use missionctl_core::status::lane::Lane;
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::view::status_board::{
    BoardIdentity, BoardSettings, StatusBoard, StatusBoardError,
};
use missionctl_core::view::work_package_view::{LanesFile, WorkPackageView, WorkspaceKind};
use serde::Serialize;

use super::ViewError;
use super::work_packages::{WorkPackageFacts, WorkPackagesError};
use crate::clock::{Clock, unix_micros};
use crate::mission::dir::StatusReadError;
use crate::mission::index::{LookupError, list_missions};
use crate::planning::work_package::{WorkPackageFileError, work_package_headers};
use crate::repo::Repo;
use crate::repo::project_config::{ProjectConfig, ProjectConfigError};
use crate::status::MissionStatus;

/// A work package that has events but no task file (Spec Kitty shows no row for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogOnlyCard {
    /// Its id.
    pub wp_id: String,
    /// Its lane.
    pub lane: Lane,
}

/// One mission's board: Spec Kitty's fields, then missionctl's additions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissionBoard {
    /// Spec Kitty's `agent tasks status --json` document.
    #[serde(flatten)]
    pub board: StatusBoard,
    /// The mission's directory name (Spec Kitty's `mission_slug` is the one `meta.json`
    /// records).
    pub mission_dir: String,
    /// The mission's ULID.
    pub mission_id: Option<String>,
    /// Its topology's wire value.
    pub topology: String,
    /// `primary` or `coordination`.
    pub read_surface: String,
    /// The directory status was read from.
    pub read_dir: String,
    /// The work packages with events and no task file.
    pub log_only_work_packages: Vec<LogOnlyCard>,
    /// The view the board shows (for renderers; not part of the JSON).
    #[serde(skip)]
    pub view: WorkPackageView,
}

/// Why a board cannot be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// The mission has no `tasks/` directory.
    #[error("Tasks directory not found: {}", path.display())]
    TasksDirNotFound {
        /// The directory.
        path: PathBuf,
    },
    /// The work packages cannot be read.
    #[error(transparent)]
    WorkPackages(#[from] WorkPackagesError),
    /// `.kittify/config.yaml` cannot be read.
    #[error(transparent)]
    Config(#[from] ProjectConfigError),
    /// `meta.json` has a mission number that is not one.
    #[error(transparent)]
    Meta(#[from] missionctl_core::mission::meta::MetaError),
    /// An in-progress work package's workspace cannot be resolved.
    #[error(transparent)]
    Board(#[from] StatusBoardError),
    /// The status cannot be read.
    #[error(transparent)]
    Status(#[from] StatusReadError),
    /// A file cannot be read (a symbolic link on the way, …).
    #[error(transparent)]
    Io(#[from] crate::fs_util::PathError),
}

impl BoardError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            BoardError::TasksDirNotFound { .. } => "TASKS_DIR_NOT_FOUND",
            BoardError::WorkPackages(error) => error.code(),
            BoardError::Config(error) => error.code(),
            BoardError::Meta(_) => "MISSION_META_MALFORMED",
            BoardError::Board(_) => "WORKSPACE_UNRESOLVABLE",
            BoardError::Status(error) => error.code(),
            BoardError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            BoardError::TasksDirNotFound { .. } => {
                "Add work packages with `missionctl wp add --mission <mission> WP01 --title …`"
                    .to_owned()
            }
            BoardError::WorkPackages(error) => error.hint(),
            BoardError::Config(error) => error.hint(),
            BoardError::Meta(error) => error.hint(),
            BoardError::Board(_) => {
                "Recompute the lanes with `missionctl tasks finalize --mission <mission>`"
                    .to_owned()
            }
            BoardError::Status(error) => error.hint(),
            BoardError::Io(error) => error.hint(),
        }
    }
}

/// What a board shows besides the mission's status: its work-package facts, the project's
/// settings and the work packages' dependencies. The live views keep it and read it again
/// when a task file changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoardFacts {
    /// The task files, `lanes.json` and workspace contexts.
    pub work_packages: WorkPackageFacts,
    /// `.kittify/config.yaml`.
    pub config: ProjectConfig,
    /// Each work package's dependencies, from its file's front matter (a file the YAML parser
    /// refuses has none here).
    pub dependencies: BTreeMap<String, Vec<String>>,
}

impl BoardFacts {
    /// Reads a mission's board facts.
    pub fn read(status: &MissionStatus) -> Result<BoardFacts, BoardError> {
        let config = ProjectConfig::read(status.containment(), status.primary_root())?;
        let work_packages = WorkPackageFacts::read(status)?;
        let dependencies =
            match work_package_headers(status.containment(), status.primary_mission_dir()) {
                Ok(headers) => headers
                    .into_iter()
                    .map(|header| (header.wp_id, header.summary.dependencies))
                    .collect(),
                Err(WorkPackageFileError::Io(error)) if error.escape().is_some() => {
                    return Err(error.into());
                }
                Err(_) => BTreeMap::new(),
            };
        Ok(BoardFacts {
            work_packages,
            config,
            dependencies,
        })
    }
}

impl MissionBoard {
    /// Returns the board of a mission from its status `snapshot` (the full reduction of its
    /// log) and its facts, at `clock`'s now (review-stall ages).
    pub fn build(
        status: &MissionStatus,
        snapshot: StatusSnapshot,
        facts: &BoardFacts,
        clock: &dyn Clock,
    ) -> Result<MissionBoard, BoardError> {
        let read = &facts.work_packages;
        if !read.tasks_dir_exists {
            return Err(BoardError::TasksDirNotFound {
                path: read.tasks_dir.clone(),
            });
        }
        let view = read.view(status, snapshot)?;
        let identity = board_identity(status)?;
        let existing_worktrees = existing_lane_worktrees(status, &view, &read.lanes);
        let now = i64::try_from(unix_micros(clock.now())).unwrap_or(i64::MAX);
        let board = StatusBoard::build(
            &view,
            identity,
            BoardSettings {
                now_micros: now,
                stall_threshold_minutes: facts.config.review_stall_threshold_minutes(),
                auto_commit: facts.config.auto_commit(),
                existing_worktrees: &existing_worktrees,
                dependencies: &facts.dependencies,
            },
        )?;
        Ok(MissionBoard {
            board,
            mission_dir: status.mission_slug().to_owned(),
            mission_id: status.mission_id().map(str::to_owned),
            topology: status.topology().to_owned(),
            read_surface: status.read_surface().as_str().to_owned(),
            read_dir: status.read_dir().display().to_string(),
            log_only_work_packages: view
                .log_only
                .iter()
                .map(|entry| LogOnlyCard {
                    wp_id: entry.wp_id.clone(),
                    lane: entry.lane,
                })
                .collect(),
            view,
        })
    }
}

/// Returns the board of a mission loaded for reading.
pub fn mission_board(
    status: &MissionStatus,
    clock: &dyn Clock,
) -> Result<MissionBoard, BoardError> {
    let facts = BoardFacts::read(status)?;
    MissionBoard::build(status, status.snapshot()?, &facts, clock)
}

/// Returns the identity the board prints, from the primary `meta.json`.
fn board_identity(status: &MissionStatus) -> Result<BoardIdentity, BoardError> {
    let meta = MissionMeta::from_map(status.primary_meta().cloned().unwrap_or_default());
    Ok(BoardIdentity {
        mission_slug: meta.safe_mission_slug(status.mission_slug()),
        mission_number: normalize_mission_number(meta.get("mission_number"))?,
        mission_type: meta
            .get("mission_type")
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned(),
    })
}

/// Returns the in-progress work packages whose lane worktree exists (a directory under
/// `.worktrees/` with a `.git` entry).
fn existing_lane_worktrees(
    status: &MissionStatus,
    view: &WorkPackageView,
    lanes: &LanesFile,
) -> Vec<String> {
    let LanesFile::Present(manifest) = lanes else {
        return Vec::new();
    };
    view.rows
        .iter()
        .filter(|row| {
            row.lane == Lane::InProgress && row.workspace_kind == WorkspaceKind::LaneWorkspace
        })
        .filter_map(|row| {
            let wp_id = row.wp_id.as_deref()?;
            let lane = manifest.lane_for_wp(wp_id)?;
            let worktree = status
                .primary_root()
                .join(".worktrees")
                .join(lane_worktree_dir_name(status.mission_slug(), &lane.lane_id));
            std::fs::symlink_metadata(worktree.join(".git"))
                .is_ok()
                .then(|| wp_id.to_owned())
        })
        .collect()
}

/// A mission that could not be shown among every mission's boards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardFailure {
    /// The mission's directory name.
    pub mission_slug: String,
    /// Why it could not be shown.
    pub error: ViewError,
}

/// Every mission's board (`board --json` without `--mission`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllBoards {
    /// The boards of the missions that could be read, in directory order.
    pub missions: Vec<MissionBoard>,
    /// The missions that could not.
    pub unreadable: Vec<BoardFailure>,
}

/// Returns every mission's board; a mission that cannot be read is listed with its error.
pub fn all_boards(repo: &Repo, clock: &dyn Clock) -> Result<AllBoards, LookupError> {
    let mut all = AllBoards {
        missions: Vec::new(),
        unreadable: Vec::new(),
    };
    for summary in list_missions(repo)? {
        let slug = summary.mission_slug;
        let board = match MissionStatus::load_for_reading(repo, &slug) {
            Ok(status) => mission_board(&status, clock)
                .map_err(|error| ViewError::new(error.code(), error.hint(), &error)),
            Err(error) => Err(ViewError::new(error.code(), error.hint(), &error)),
        };
        match board {
            Ok(board) => all.missions.push(board),
            Err(error) => all.unreadable.push(BoardFailure {
                mission_slug: slug,
                error,
            }),
        }
    }
    Ok(all)
}
