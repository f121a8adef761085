//! The board: one mission's work packages with their lanes (`board --json`), or every
//! mission's.

use std::collections::BTreeMap;
use std::path::Path;

use missionctl_core::snapshot::StatusSnapshot;
use serde::Serialize;
use serde_json::{Map, Value};

use super::ViewError;
use crate::containment::Containment;
use crate::fs_util::PathError;
use crate::mission_dir::StatusReadError;
use crate::mission_index::{LookupError, list_missions};
use crate::repo::Repo;
use crate::status::MissionStatus;
use crate::work_package::{WorkPackageFileError, work_package_headers, wp_titles};

/// One work package on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardCard {
    /// The work package, e.g. `WP01`.
    pub id: String,
    /// Its title, from its file's front matter.
    pub title: Option<String>,
    /// Its lane's wire value.
    pub lane: String,
    /// Who made its last transition.
    pub actor: String,
    /// When it last moved.
    pub last_transition_at: Option<String>,
    /// The agent of its claim, when recorded.
    pub agent: Option<String>,
    /// How many of its transitions were forced.
    pub force_count: u64,
    /// The work packages it depends on, from its file's front matter.
    pub dependencies: Vec<String>,
    /// Its last review's result (`{reviewer, verdict, reference, …}`), when it has one.
    pub review: Option<Value>,
}

/// What the board shows of work packages beside their status: their titles and
/// dependencies, from the front matter of `tasks/WP*.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFacts {
    /// Titles by work package.
    pub titles: BTreeMap<String, String>,
    /// Dependencies by work package.
    pub dependencies: BTreeMap<String, Vec<String>>,
}

impl CardFacts {
    /// Reads the titles and dependencies of a mission's work packages. A file that cannot be
    /// read shows no title and no dependencies: they are presentation, never status. A
    /// symbolic link on the way is refused.
    pub fn read(containment: &Containment, mission_dir: &Path) -> Result<CardFacts, PathError> {
        let titles = wp_titles(containment, mission_dir)?;
        let dependencies = match work_package_headers(containment, mission_dir) {
            Ok(headers) => headers
                .into_iter()
                .map(|header| (header.wp_id, header.summary.dependencies))
                .collect(),
            Err(WorkPackageFileError::Io(error)) if error.escape().is_some() => {
                return Err(error);
            }
            Err(_) => BTreeMap::new(),
        };
        Ok(CardFacts {
            titles,
            dependencies,
        })
    }
}

/// One mission's board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissionBoard {
    /// The mission's directory name.
    pub mission_slug: String,
    /// Its ULID.
    pub mission_id: Option<String>,
    /// Its topology's wire value.
    pub topology: String,
    /// `primary` or `coordination`.
    pub read_surface: String,
    /// The directory status was read from.
    pub read_dir: String,
    /// The work packages, in id order.
    pub work_packages: Vec<BoardCard>,
    /// How many work packages each lane holds.
    pub summary: Map<String, Value>,
    /// How many distinct transitions the log holds.
    pub event_count: usize,
    /// The snapshot the board shows (for renderers; not part of the JSON).
    #[serde(skip)]
    pub snapshot: StatusSnapshot,
}

impl MissionBoard {
    /// Returns the board of a mission from a snapshot of its status and what its
    /// work-package files say.
    pub fn from_snapshot(
        status: &MissionStatus,
        snapshot: StatusSnapshot,
        facts: &CardFacts,
    ) -> MissionBoard {
        let work_packages = snapshot
            .work_packages
            .iter()
            .map(|(id, state)| BoardCard {
                id: id.clone(),
                title: facts.titles.get(id).cloned(),
                lane: state.lane.as_str().to_owned(),
                actor: state.actor.clone(),
                last_transition_at: state.last_transition_at.clone(),
                agent: state.slot_str("agent").map(str::to_owned),
                force_count: state.force_count,
                dependencies: facts.dependencies.get(id).cloned().unwrap_or_default(),
                review: state
                    .slots
                    .get("review_result")
                    .filter(|value| !value.is_null())
                    .cloned(),
            })
            .collect();
        let summary = snapshot
            .summary()
            .into_iter()
            .map(|(lane, count)| (lane.as_str().to_owned(), Value::from(count)))
            .collect();
        MissionBoard {
            mission_slug: status.mission_slug().to_owned(),
            mission_id: status.mission_id().map(str::to_owned),
            topology: status.topology().to_owned(),
            read_surface: status.read_surface().as_str().to_owned(),
            read_dir: status.read_dir().display().to_string(),
            work_packages,
            summary,
            event_count: snapshot.event_count,
            snapshot,
        }
    }
}

/// Returns the board of a loaded mission.
pub fn mission_board(status: &MissionStatus) -> Result<MissionBoard, StatusReadError> {
    let snapshot = status.snapshot()?;
    let facts = CardFacts::read(status.containment(), status.primary_mission_dir())?;
    Ok(MissionBoard::from_snapshot(status, snapshot, &facts))
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
pub fn all_boards(repo: &Repo, protected_branches: &[String]) -> Result<AllBoards, LookupError> {
    let mut all = AllBoards {
        missions: Vec::new(),
        unreadable: Vec::new(),
    };
    for summary in list_missions(repo)? {
        let slug = summary.mission_slug;
        let board = match MissionStatus::load(repo, &slug, protected_branches) {
            Ok(status) => mission_board(&status)
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
