//! Being told when files change: a [`DirWatcher`] watches a set of directories (each one
//! alone, never recursively) through the operating system's file-system notification
//! (inotify on Linux, through the `notify` crate), or by polling their entries' metadata when
//! notification is unavailable or asked against. It only says which paths changed; what a
//! change means is for the caller (see [`crate::view::live`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{Config, RecommendedWatcher, RecursiveMode, Watcher};

/// After a first change, how long the watcher waits for the burst it belongs to (a commit
/// writes several files) before answering.
const SETTLE: Duration = Duration::from_millis(10);

/// The longest a burst is collected before answering anyway.
const BURST: Duration = Duration::from_millis(50);

/// How changes are noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// File-system notification; the watcher falls back to polling once a second when it is
    /// unavailable (no inotify, or its watch limit reached).
    Notify,
    /// Polling the watched directories' entries at this interval.
    Poll(Duration),
}

/// The interval of the fallback poll.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// Why a watcher could not be started.
#[derive(Debug, thiserror::Error)]
#[error("Cannot watch the repository for changes: {0}")]
pub struct WatchError(#[source] notify::Error);

impl WatchError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        "WATCH_FAILED"
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        "Raise the inotify limits (`fs.inotify.max_user_watches`, `max_user_instances`) or \
         set MISSIONCTL_WATCH=poll"
            .to_owned()
    }
}

/// Watches directories and reports the paths that changed in them.
pub struct DirWatcher {
    watcher: Box<dyn Watcher + Send>,
    events: Receiver<notify::Result<notify::Event>>,
    watched: BTreeSet<PathBuf>,
    mode: WatchMode,
}

impl std::fmt::Debug for DirWatcher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DirWatcher")
            .field("watched", &self.watched)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl DirWatcher {
    /// Returns a watcher that watches nothing yet.
    pub fn new(mode: WatchMode) -> Result<DirWatcher, WatchError> {
        let (sender, events) = channel();
        let (watcher, mode): (Box<dyn Watcher + Send>, WatchMode) = match mode {
            WatchMode::Notify => match RecommendedWatcher::new(sender.clone(), Config::default()) {
                Ok(watcher) => (Box::new(watcher), WatchMode::Notify),
                Err(_) => (
                    poll_watcher(sender, FALLBACK_POLL)?,
                    WatchMode::Poll(FALLBACK_POLL),
                ),
            },
            WatchMode::Poll(interval) => (poll_watcher(sender, interval)?, mode),
        };
        Ok(DirWatcher {
            watcher,
            events,
            watched: BTreeSet::new(),
            mode,
        })
    }

    /// Returns how changes are noticed now.
    pub fn mode(&self) -> WatchMode {
        self.mode
    }

    /// Returns the directories watched.
    pub fn watched(&self) -> &BTreeSet<PathBuf> {
        &self.watched
    }

    /// Watches exactly `dirs` (those that exist): new ones are added, the others dropped. When
    /// notification runs out of watches, the watcher switches to polling.
    pub fn set(&mut self, dirs: &BTreeSet<PathBuf>) -> Result<(), WatchError> {
        let gone: Vec<PathBuf> = self.watched.difference(dirs).cloned().collect();
        for dir in gone {
            let _ = self.watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
        for dir in dirs {
            if self.watched.contains(dir) || !dir.is_dir() {
                continue;
            }
            match self.watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir.clone());
                }
                Err(error) if is_out_of_watches(&error) && self.mode == WatchMode::Notify => {
                    return self.fall_back_to_polling(dirs);
                }
                // A directory removed meanwhile: its parent's watch reports it.
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn fall_back_to_polling(&mut self, dirs: &BTreeSet<PathBuf>) -> Result<(), WatchError> {
        let (sender, events) = channel();
        self.watcher = poll_watcher(sender, FALLBACK_POLL)?;
        self.events = events;
        self.mode = WatchMode::Poll(FALLBACK_POLL);
        self.watched.clear();
        self.set(dirs)
    }

    /// Waits for changes, at most `timeout` (forever with `None`), and returns the paths that
    /// changed: the first change and the burst that follows it. `None` when nothing changed
    /// in time; an empty path when events were lost and everything watched may have changed.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<BTreeSet<PathBuf>> {
        let mut changed = BTreeSet::new();
        let first = match timeout {
            Some(timeout) => self.events.recv_timeout(timeout).ok()?,
            None => self.events.recv().ok()?,
        };
        collect(first, &mut changed);
        let start = Instant::now();
        while start.elapsed() < BURST {
            match self.events.recv_timeout(SETTLE) {
                Ok(event) => collect(event, &mut changed),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        // Empty when only reads were reported.
        Some(changed)
    }
}

fn poll_watcher(
    sender: Sender<notify::Result<notify::Event>>,
    interval: Duration,
) -> Result<Box<dyn Watcher + Send>, WatchError> {
    Ok(Box::new(StatPoller::start(sender, interval)))
}

/// What polling compares of a file: enough to see an append, a replacement by rename and a
/// rewrite within the same second (notify's own poller compares whole seconds).
type Stat = (u64, u64, i64, i64, i64, i64);

fn stat_of(metadata: &std::fs::Metadata) -> Stat {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (
            metadata.len(),
            metadata.ino(),
            metadata.mtime(),
            metadata.mtime_nsec(),
            metadata.ctime(),
            metadata.ctime_nsec(),
        )
    }
    #[cfg(not(unix))]
    {
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        (
            metadata.len(),
            0,
            i64::try_from(modified.as_secs()).unwrap_or(i64::MAX),
            i64::from(modified.subsec_nanos()),
            0,
            0,
        )
    }
}

/// The fallback watcher: a thread that lists the watched directories at an interval and
/// reports each entry whose size, inode or times changed, and each entry added or removed.
struct StatPoller {
    /// Each watched directory's last listing. A directory is listed when it is watched, so a
    /// change made right after `watch` returns is a change (were it listed first by the thread,
    /// a change made before that would be part of the first listing and never reported).
    known: Arc<Mutex<BTreeMap<PathBuf, BTreeMap<PathBuf, Stat>>>>,
    stop: Arc<AtomicBool>,
}

impl StatPoller {
    fn start(sender: Sender<notify::Result<notify::Event>>, interval: Duration) -> StatPoller {
        let known: Arc<Mutex<BTreeMap<PathBuf, BTreeMap<PathBuf, Stat>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (watched, stopped) = (Arc::clone(&known), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let mut changed = Vec::new();
                {
                    let Ok(mut known) = watched.lock() else {
                        break;
                    };
                    for (dir, before) in known.iter_mut() {
                        let listing = list(dir);
                        changed.extend(
                            listing
                                .iter()
                                .filter(|(path, stat)| before.get(*path) != Some(*stat))
                                .map(|(path, _)| path.clone()),
                        );
                        changed.extend(
                            before
                                .keys()
                                .filter(|path| !listing.contains_key(*path))
                                .cloned(),
                        );
                        *before = listing;
                    }
                }
                if !changed.is_empty() {
                    let mut event = notify::Event::new(EventKind::Modify(ModifyKind::Any));
                    event.paths = changed;
                    if sender.send(Ok(event)).is_err() {
                        break;
                    }
                }
                std::thread::sleep(interval);
            }
        });
        StatPoller { known, stop }
    }
}

/// Returns the entries of a directory with what polling compares of each.
fn list(dir: &Path) -> BTreeMap<PathBuf, Stat> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|entry| Some((entry.path(), stat_of(&entry.metadata().ok()?))))
        .collect()
}

impl Drop for StatPoller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Watcher for StatPoller {
    fn new<F: notify::EventHandler>(_handler: F, _config: Config) -> notify::Result<StatPoller> {
        Err(notify::Error::generic(
            "the poller is started with StatPoller::start",
        ))
    }

    fn watch(&mut self, path: &Path, _mode: RecursiveMode) -> notify::Result<()> {
        if let Ok(mut known) = self.known.lock() {
            known.insert(path.to_path_buf(), list(path));
        }
        Ok(())
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        if let Ok(mut known) = self.known.lock() {
            known.remove(path);
        }
        Ok(())
    }

    fn kind() -> notify::WatcherKind {
        notify::WatcherKind::PollWatcher
    }
}

fn is_out_of_watches(error: &notify::Error) -> bool {
    matches!(error.kind, notify::ErrorKind::MaxFilesWatch)
        || matches!(&error.kind, notify::ErrorKind::Io(io) if io.raw_os_error() == Some(28))
}

/// Adds the paths of an event that may have changed a file; reads are not changes.
fn collect(event: notify::Result<notify::Event>, changed: &mut BTreeSet<PathBuf>) {
    let Ok(event) = event else {
        // The watcher lost events (a queue overflow): everything watched may have changed,
        // which the caller learns from an empty path.
        changed.insert(PathBuf::new());
        return;
    };
    if let EventKind::Access(kind) = event.kind
        && kind != AccessKind::Close(AccessMode::Write)
    {
        return;
    }
    if event.need_rescan() {
        changed.insert(PathBuf::new());
    }
    changed.extend(event.paths);
}

/// Returns true when `path` is `dir` or directly inside it.
pub fn is_in(path: &Path, dir: &Path) -> bool {
    path == dir || path.parent() == Some(dir)
}
