//! Failpoints: named instants inside the write door where a test can make the process die, as
//! a SIGKILL would, to check that the next writer recovers.
//!
//! The CLI arms them from `MISSIONCTL_FAILPOINT` (see CONTRIBUTING.md): a comma-separated list of
//! names, each optionally `@N` for its N-th hit (default the first). When an armed point is hit
//! the process exits at once with [`FAILPOINT_EXIT_CODE`]: no destructor runs, so nothing is
//! rolled back, exactly as after a kill. Unarmed, a failpoint costs one atomic load.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a process stopped by a failpoint.
pub const FAILPOINT_EXIT_CODE: i32 = 86;

/// Every failpoint of the write door, in the order a transaction reaches them.
pub const FAILPOINTS: [&str; 11] = [
    "journal",
    "file",
    "dir",
    "index-locked",
    "worktree-updated",
    "index-prepared",
    "index-installed",
    "ref-updated",
    "worktree-added",
    "git",
    "finish",
];

static ARMED: AtomicBool = AtomicBool::new(false);
static POINTS: Mutex<Vec<(String, u32, u32)>> = Mutex::new(Vec::new());

/// Arms the failpoints named in `spec` (`name` or `name@N`, comma-separated).
pub fn set_failpoints(spec: &str) {
    let points: Vec<(String, u32, u32)> = spec
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('@') {
            Some((name, nth)) => (name.to_owned(), nth.parse().unwrap_or(1).max(1), 0),
            None => (item.to_owned(), 1, 0),
        })
        .collect();
    let armed = !points.is_empty();
    if let Ok(mut slot) = POINTS.lock() {
        *slot = points;
    }
    ARMED.store(armed, Ordering::SeqCst);
}

/// Stops the process if the failpoint `name` is armed for this hit.
pub(crate) fn hit(name: &str) {
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    let fire = POINTS.lock().is_ok_and(|mut points| {
        points.iter_mut().any(|(point, nth, seen)| {
            if point != name {
                return false;
            }
            *seen += 1;
            *seen == *nth
        })
    });
    if fire {
        // A failpoint stands for a kill: the process stops here, no destructor running.
        std::process::exit(FAILPOINT_EXIT_CODE);
    }
}
