//! The live side of the dashboard: a thread that owns the repository's
//! [`LiveRepository`], waits for its files to change, and publishes the views that changed as
//! ready-made JSON, then tells the open pages which missions to fetch again.
//!
//! Requests never reduce a log: the missions page and each board are served from what the
//! thread published last, so a page costs one lookup and a copy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use missionctl_store::clock::SystemClock;
use missionctl_store::repo::Repo;
use missionctl_store::view::ViewError;
use missionctl_store::view::board::MissionBoard;
use missionctl_store::view::live::{LiveChange, LiveError, LiveRepository};
use missionctl_store::view::watch::WatchMode;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

/// What every request reads: the views as they were after the last change.
#[derive(Debug, Default)]
pub(crate) struct Published {
    /// Bumped at each change.
    pub(crate) version: u64,
    /// The `data` of `/api/missions`, as JSON.
    pub(crate) index: String,
    /// Each mission's board, as the JSON `data` of `board --json --mission`.
    pub(crate) boards: BTreeMap<String, String>,
    /// Each mission's line on the missions page (kept for the missions that do not change).
    lines: BTreeMap<String, Value>,
    /// Each mission's entry among the unreadable ones, when its board cannot be shown.
    failed: BTreeMap<String, String>,
    /// The missions that cannot be shown, as JSON `{mission_slug, error}` objects.
    pub(crate) unreadable: Vec<String>,
    /// The last error of the watcher itself, if any.
    pub(crate) trouble: Option<String>,
}

/// One mission on the missions page: what it is and how far it got.
#[derive(Debug, Serialize)]
struct MissionLine<'a> {
    /// The mission's directory name (what the API's routes take).
    mission_slug: &'a str,
    mission_id: Option<&'a str>,
    topology: Option<&'a str>,
    read_surface: Option<&'a str>,
    /// How many distinct transitions its log holds.
    event_count: usize,
    /// How many work packages each lane holds.
    summary: Value,
    /// How many work packages the mission has.
    work_packages: usize,
    /// How many are done.
    done: usize,
    /// Spec Kitty's weighted readiness, in percent.
    progress_percentage: Value,
    /// Why the mission cannot be shown now, if it cannot.
    error: Option<&'a ViewError>,
}

impl<'a> MissionLine<'a> {
    fn of(board: &'a MissionBoard, error: Option<&'a ViewError>) -> MissionLine<'a> {
        MissionLine {
            mission_slug: &board.mission_dir,
            mission_id: board.mission_id.as_deref(),
            topology: Some(&board.topology),
            read_surface: Some(&board.read_surface),
            event_count: board.view.snapshot.event_count,
            summary: serde_json::to_value(&board.board.by_lane).unwrap_or(Value::Null),
            work_packages: board.board.total_wps,
            done: board.board.done_count,
            progress_percentage: board.board.progress_percentage.clone(),
            error,
        }
    }

    fn failed(mission_slug: &'a str, error: &'a ViewError) -> MissionLine<'a> {
        MissionLine {
            mission_slug,
            mission_id: None,
            topology: None,
            read_surface: None,
            event_count: 0,
            summary: Value::Object(serde_json::Map::new()),
            work_packages: 0,
            done: 0,
            progress_percentage: Value::from(0),
            error: Some(error),
        }
    }
}

/// What the open pages are told after a change.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Update {
    /// The published version.
    pub(crate) version: u64,
    /// The missions whose views changed.
    pub(crate) missions: Vec<String>,
    /// Whether missions appeared, disappeared or changed readability (the missions page and
    /// the doctor should be fetched again).
    pub(crate) missions_changed: bool,
}

/// The published views and the channel that announces their changes.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) published: RwLock<Arc<Published>>,
    pub(crate) updates: broadcast::Sender<Arc<Update>>,
}

impl Shared {
    pub(crate) fn new() -> Shared {
        let (updates, _) = broadcast::channel(64);
        Shared {
            published: RwLock::new(Arc::new(Published::default())),
            updates,
        }
    }

    /// Returns the views published last.
    pub(crate) fn current(&self) -> Arc<Published> {
        match self.published.read() {
            Ok(published) => Arc::clone(&published),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn publish(&self, published: Published) {
        let published = Arc::new(published);
        match self.published.write() {
            Ok(mut slot) => *slot = published,
            Err(poisoned) => *poisoned.into_inner() = published,
        }
    }
}

fn watch_name(mode: WatchMode) -> &'static str {
    match mode {
        WatchMode::Notify => "notify",
        WatchMode::Poll(_) => "poll",
    }
}

/// Builds every view from the live repository, keeping the boards of the missions that did
/// not change.
fn build(
    live: &LiveRepository,
    previous: &Published,
    changed: Option<&BTreeSet<String>>,
    version: u64,
) -> Published {
    let mut boards = BTreeMap::new();
    let mut lines: BTreeMap<String, Value> = BTreeMap::new();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for (slug, mission) in live.missions() {
        let unchanged = changed.is_some_and(|changed| !changed.contains(slug));
        if unchanged && let Some(line) = previous.lines.get(slug) {
            lines.insert(slug.clone(), line.clone());
            if let Some(board) = previous.boards.get(slug) {
                boards.insert(slug.clone(), board.clone());
            }
            if let Some(failure) = previous.failed.get(slug) {
                failed.insert(slug.clone(), failure.clone());
            }
            continue;
        }
        match mission.board(&SystemClock) {
            Ok(board) => {
                let line = MissionLine::of(&board, mission.error());
                lines.insert(
                    slug.clone(),
                    serde_json::to_value(&line).unwrap_or(Value::Null),
                );
                let json = serde_json::to_string(&board).unwrap_or_else(|_| "null".to_owned());
                boards.insert(slug.clone(), json);
            }
            Err(error) => {
                let line = MissionLine::failed(slug, &error);
                lines.insert(
                    slug.clone(),
                    serde_json::to_value(&line).unwrap_or(Value::Null),
                );
                let failure = serde_json::json!({"mission_slug": slug, "error": error});
                failed.insert(slug.clone(), failure.to_string());
            }
        }
    }
    for (slug, error) in live.failures() {
        let failure = serde_json::json!({"mission_slug": slug, "error": error});
        failed.insert(slug.clone(), failure.to_string());
        let line = MissionLine::failed(slug, error);
        lines.insert(
            slug.clone(),
            serde_json::to_value(&line).unwrap_or(Value::Null),
        );
    }
    let unreadable: Vec<String> = failed.values().cloned().collect();
    let index = serde_json::json!({
        "missions": lines.values().collect::<Vec<_>>(),
        "watch": watch_name(live.watch_mode()),
    });
    Published {
        version,
        index: index.to_string(),
        boards,
        lines,
        failed,
        unreadable,
        trouble: None,
    }
}

/// Starts the live thread on the repository at `root`. Returns once every mission was read
/// and the first views are published, or with the error that prevented it.
pub(crate) fn start(
    root: PathBuf,
    protected: missionctl_store::repo::protection::ProtectedBranches,
    mode: WatchMode,
    shared: Arc<Shared>,
) -> Result<(), LiveStartError> {
    let (ready, readiness) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("missionctl-live".to_owned())
        .spawn(move || {
            let opened = Repo::discover(&root)
                .map_err(|error| LiveStartError::Repo(error.to_string()))
                .and_then(|repo| {
                    LiveRepository::open(&repo, &protected, mode).map_err(LiveStartError::Live)
                });
            let mut live = match opened {
                Ok(live) => live,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            shared.publish(build(&live, &Published::default(), None, 0));
            if ready.send(Ok(())).is_err() {
                return;
            }
            follow(&mut live, &shared);
        })
        .map_err(|error| LiveStartError::Repo(error.to_string()))?;
    readiness
        .recv()
        .map_err(|_| LiveStartError::Repo("the live thread stopped".to_owned()))?
}

/// Waits for changes forever and publishes them.
fn follow(live: &mut LiveRepository, shared: &Shared) {
    let mut version = 0;
    loop {
        let changes = match live.wait(None) {
            Ok(changes) => changes,
            Err(error) => {
                let previous = shared.current();
                let mut published = build(live, &previous, Some(&BTreeSet::new()), version);
                published.trouble = Some(error.to_string());
                shared.publish(published);
                std::thread::sleep(std::time::Duration::from_secs(1));
                continue;
            }
        };
        if changes.is_empty() {
            continue;
        }
        let mut missions = BTreeSet::new();
        let mut missions_changed = false;
        for change in changes {
            match change {
                LiveChange::Status { mission_slug, .. } | LiveChange::Plan { mission_slug } => {
                    missions.insert(mission_slug);
                }
                LiveChange::Missions => missions_changed = true,
            }
        }
        version += 1;
        let previous = shared.current();
        let changed = (!missions_changed).then_some(&missions);
        shared.publish(build(live, &previous, changed, version));
        let _ = shared.updates.send(Arc::new(Update {
            version,
            missions: missions.into_iter().collect(),
            missions_changed,
        }));
    }
}

/// Why the live views could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LiveStartError {
    /// The repository could not be opened again on the live thread.
    #[error("Cannot open the repository for the dashboard: {0}")]
    Repo(String),
    /// The missions could not be read or watched.
    #[error(transparent)]
    Live(LiveError),
}

impl LiveStartError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            LiveStartError::Repo(_) => "DASHBOARD_START_FAILED",
            LiveStartError::Live(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            LiveStartError::Repo(_) => "Run it from inside the repository".to_owned(),
            LiveStartError::Live(error) => error.hint(),
        }
    }
}
