//! Every mission of a repository, kept current as its files change: the model behind the live
//! views (`events tail`, `board --watch`, the dashboard).
//!
//! A [`LiveRepository`] loads each mission once, follows its log with a
//! [`StatusFollower`](crate::status::StatusFollower), and watches the few directories whose
//! changes matter: `kitty-specs/` (missions added or removed), each mission's directory (its
//! log, `meta.json`) and `tasks/` (titles, dependencies), the coordination worktree's copy of
//! the mission for coordination topologies, and `.worktrees/` (a coordination worktree
//! created). [`LiveRepository::wait`] blocks until one of them changes, then folds only what
//! changed: nothing is read again on a timer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use missionctl_core::status::event::LogRow;

use crate::clock::Clock;
use crate::mission::index::{LookupError, list_missions};
use crate::repo::Repo;
use crate::status::{LogChange, MissionStatus, StatusFollower};
use crate::view::ViewError;
use crate::view::board::{AllBoards, BoardFacts, BoardFailure, MissionBoard};
use crate::view::watch::{DirWatcher, WatchError, WatchMode, is_in};

/// One mission, followed.
#[derive(Debug, Clone)]
pub struct LiveMission {
    follower: StatusFollower,
    facts: BoardFacts,
    /// Why the log cannot be read now, if it cannot.
    error: Option<ViewError>,
}

impl LiveMission {
    fn load(
        repo: &Repo,
        slug: &str,
        protected: &crate::repo::protection::ProtectedBranches,
    ) -> Result<LiveMission, ViewError> {
        // Read as `board` reads: a merged coordination mission whose branch is gone shows the
        // primary checkout's log.
        let status = match MissionStatus::load(repo, slug, protected) {
            Ok(status) => status,
            Err(_) => MissionStatus::load_for_reading(repo, slug)
                .map_err(|error| ViewError::new(error.code(), error.hint(), &error))?,
        };
        let follower = status
            .follow()
            .map_err(|error| ViewError::new(error.code(), error.hint(), &error))?;
        let facts = BoardFacts::read(&status)
            .map_err(|error| ViewError::new(error.code(), error.hint(), &error))?;
        Ok(LiveMission {
            follower,
            facts,
            error: None,
        })
    }

    /// Returns the mission's status aggregate.
    pub fn status(&self) -> &MissionStatus {
        self.follower.status()
    }

    /// Returns the mission's board (what `board --json` shows), from the snapshot folded so
    /// far, at `clock`'s now.
    pub fn board(&self, clock: &dyn Clock) -> Result<MissionBoard, ViewError> {
        MissionBoard::build(
            self.follower.status(),
            self.follower.snapshot().clone(),
            &self.facts,
            clock,
        )
        .map_err(|error| ViewError::new(error.code(), error.hint(), &error))
    }

    /// Returns why the mission's log cannot be read now (the board shows the last good
    /// snapshot meanwhile).
    pub fn error(&self) -> Option<&ViewError> {
        self.error.as_ref()
    }

    fn tasks_dir(&self) -> PathBuf {
        self.status().primary_mission_dir().join("tasks")
    }

    fn watch_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.follower.watch_dirs();
        dirs.push(self.tasks_dir());
        dirs
    }
}

/// What changed, as [`LiveRepository::wait`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveChange {
    /// A mission's log changed: the rows read (only the appended ones, or every row of a log
    /// that was rewritten).
    Status {
        /// The mission's directory name.
        mission_slug: String,
        /// The rows read, with their line numbers.
        rows: Vec<(usize, LogRow)>,
        /// Whether the log was rewritten (its rows are all listed, old ones included).
        rewritten: bool,
        /// Whether the mission's snapshot changed.
        snapshot_changed: bool,
    },
    /// A mission's work-package files changed (titles, dependencies).
    Plan {
        /// The mission's directory name.
        mission_slug: String,
    },
    /// A mission appeared, disappeared, or became readable or unreadable.
    Missions,
}

/// Every mission of a repository, followed. See the [module documentation](self).
#[derive(Debug)]
pub struct LiveRepository {
    repo: Repo,
    protected: crate::repo::protection::ProtectedBranches,
    watcher: DirWatcher,
    missions: BTreeMap<String, LiveMission>,
    failures: BTreeMap<String, ViewError>,
    /// Which missions each watched directory belongs to.
    owners: BTreeMap<PathBuf, Vec<String>>,
}

/// Why a repository could not be followed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The missions could not be listed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The watcher could not be started.
    #[error(transparent)]
    Watch(#[from] WatchError),
}

impl LiveError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            LiveError::Lookup(error) => error.code(),
            LiveError::Watch(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            LiveError::Lookup(error) => error.hint(),
            LiveError::Watch(error) => error.hint(),
        }
    }
}

impl LiveRepository {
    /// Loads every mission of the repository, reduces each log once and starts watching.
    pub fn open(
        repo: &Repo,
        protected_branches: &crate::repo::protection::ProtectedBranches,
        mode: WatchMode,
    ) -> Result<LiveRepository, LiveError> {
        let mut live = LiveRepository {
            repo: repo.clone(),
            protected: protected_branches.clone(),
            watcher: DirWatcher::new(mode)?,
            missions: BTreeMap::new(),
            failures: BTreeMap::new(),
            owners: BTreeMap::new(),
        };
        live.rescan_missions()?;
        live.rewatch()?;
        Ok(live)
    }

    /// Returns the repository.
    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// Returns how changes are noticed: file-system notification, or polling when it is not
    /// available.
    pub fn watch_mode(&self) -> WatchMode {
        self.watcher.mode()
    }

    /// Returns the missions that could be loaded, by directory name.
    pub fn missions(&self) -> &BTreeMap<String, LiveMission> {
        &self.missions
    }

    /// Returns the missions that could not be loaded, with why.
    pub fn failures(&self) -> &BTreeMap<String, ViewError> {
        &self.failures
    }

    /// Returns every mission's board, in the shape of `board --json` without `--mission`.
    pub fn all_boards(&self, clock: &dyn Clock) -> AllBoards {
        let mut all = AllBoards {
            missions: Vec::new(),
            unreadable: Vec::new(),
        };
        for (slug, mission) in &self.missions {
            match &mission.error {
                None => match mission.board(clock) {
                    Ok(board) => all.missions.push(board),
                    Err(error) => all.unreadable.push(BoardFailure {
                        mission_slug: slug.clone(),
                        error,
                    }),
                },
                Some(error) => all.unreadable.push(BoardFailure {
                    mission_slug: slug.clone(),
                    error: error.clone(),
                }),
            }
        }
        for (slug, error) in &self.failures {
            all.unreadable.push(BoardFailure {
                mission_slug: slug.clone(),
                error: error.clone(),
            });
        }
        all.unreadable
            .sort_by(|a, b| a.mission_slug.cmp(&b.mission_slug));
        all
    }

    /// Waits until something changes (at most `timeout`; forever with `None`), folds what
    /// changed and reports it. Empty when nothing changed in time.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Vec<LiveChange>, LiveError> {
        let Some(paths) = self.watcher.wait(timeout) else {
            return Ok(Vec::new());
        };
        self.apply(&paths)
    }

    /// Folds the changes of `paths` (an empty path: anything may have changed).
    fn apply(&mut self, paths: &BTreeSet<PathBuf>) -> Result<Vec<LiveChange>, LiveError> {
        let root = self.repo.primary_root().to_path_buf();
        let specs = root.join("kitty-specs");
        let worktrees = root.join(".worktrees");
        let everything = paths.iter().any(|path| path.as_os_str().is_empty());
        let mut changes = Vec::new();
        if everything
            || paths
                .iter()
                .any(|path| is_in(path, &specs) || path == &root)
        {
            let before: BTreeSet<&String> =
                self.missions.keys().chain(self.failures.keys()).collect();
            let before: BTreeSet<String> = before.into_iter().cloned().collect();
            self.rescan_missions()?;
            let after: BTreeSet<String> = self
                .missions
                .keys()
                .chain(self.failures.keys())
                .cloned()
                .collect();
            if before != after {
                changes.push(LiveChange::Missions);
            }
        }
        // A coordination worktree created or removed moves where status is read from.
        let surfaces_moved = paths
            .iter()
            .any(|path| is_in(path, &worktrees) || path == &root);
        let mut touched: BTreeSet<String> = BTreeSet::new();
        let mut plans: BTreeSet<String> = BTreeSet::new();
        let mut reload: BTreeSet<String> = BTreeSet::new();
        for path in paths {
            let Some(dir) = path.parent() else { continue };
            for owner in self.owners.get(dir).into_iter().flatten() {
                if dir.ends_with("tasks") || path.file_name().is_some_and(|name| name == "tasks") {
                    plans.insert(owner.clone());
                } else if path.file_name().is_some_and(|name| name == "meta.json") {
                    reload.insert(owner.clone());
                } else {
                    touched.insert(owner.clone());
                }
            }
        }
        if everything || surfaces_moved {
            touched.extend(self.missions.keys().cloned());
        }
        for slug in reload {
            touched.remove(&slug);
            match LiveMission::load(&self.repo, &slug, &self.protected) {
                Ok(mission) => {
                    self.missions.insert(slug.clone(), mission);
                    self.failures.remove(&slug);
                }
                Err(error) => {
                    self.missions.remove(&slug);
                    self.failures.insert(slug.clone(), error);
                }
            }
            changes.push(LiveChange::Missions);
        }
        for slug in touched {
            if let Some(change) = self.refresh(&slug) {
                changes.push(change);
            }
        }
        for slug in plans {
            if let Some(mission) = self.missions.get_mut(&slug) {
                let facts = BoardFacts::read(mission.status()).unwrap_or_default();
                if facts != mission.facts {
                    mission.facts = facts;
                    changes.push(LiveChange::Plan { mission_slug: slug });
                }
            }
        }
        self.rewatch()?;
        Ok(changes)
    }

    /// Refreshes one mission's log.
    fn refresh(&mut self, slug: &str) -> Option<LiveChange> {
        let mission = self.missions.get_mut(slug)?;
        match mission.follower.refresh() {
            Ok(update) => {
                let recovered = mission.error.take().is_some();
                if update.change == LogChange::Unchanged && !recovered {
                    return None;
                }
                Some(LiveChange::Status {
                    mission_slug: slug.to_owned(),
                    rows: update.rows,
                    rewritten: update.change == LogChange::Rewritten,
                    snapshot_changed: update.snapshot_changed || recovered,
                })
            }
            Err(error) => {
                let error = ViewError::new(error.code(), error.hint(), &error);
                if mission.error.as_ref() == Some(&error) {
                    return None;
                }
                mission.error = Some(error);
                Some(LiveChange::Missions)
            }
        }
    }

    /// Lists the missions again: new ones are loaded, gone ones dropped.
    fn rescan_missions(&mut self) -> Result<(), LookupError> {
        let listed: BTreeSet<String> = list_missions(&self.repo)?
            .into_iter()
            .map(|summary| summary.mission_slug)
            .collect();
        self.missions.retain(|slug, _| listed.contains(slug));
        self.failures.retain(|slug, _| listed.contains(slug));
        for slug in listed {
            if self.missions.contains_key(&slug) {
                continue;
            }
            match LiveMission::load(&self.repo, &slug, &self.protected) {
                Ok(mission) => {
                    self.failures.remove(&slug);
                    self.missions.insert(slug, mission);
                }
                Err(error) => {
                    self.failures.insert(slug, error);
                }
            }
        }
        Ok(())
    }

    /// Watches the directories that matter now.
    fn rewatch(&mut self) -> Result<(), WatchError> {
        let root = self.repo.primary_root().to_path_buf();
        let mut owners: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        for (slug, mission) in &self.missions {
            for dir in mission.watch_dirs() {
                owners.entry(dir).or_default().push(slug.clone());
            }
        }
        for slug in self.failures.keys() {
            let dir = root.join("kitty-specs").join(slug);
            owners.entry(dir).or_default().push(slug.clone());
        }
        let mut dirs: BTreeSet<PathBuf> = owners.keys().cloned().collect();
        dirs.extend([
            root.clone(),
            root.join("kitty-specs"),
            root.join(".worktrees"),
        ]);
        self.owners = owners;
        self.watcher.set(&dirs)
    }

    /// Returns the directories watched now.
    pub fn watched(&self) -> impl Iterator<Item = &Path> {
        self.watcher.watched().iter().map(PathBuf::as_path)
    }
}
