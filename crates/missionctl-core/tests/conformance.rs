//! Byte-exact conformance of the reducer against real Spec Kitty missions.
//!
//! For every mission directory with a `status.events.jsonl`, the reduction must equal
//! `expected.status.json` (what Spec Kitty 3.2.7's own reducer writes) byte for byte, and the
//! incremental reducer fed the log in pieces must agree with the full reduce. The
//! vendored fixtures under `tests/fixtures/missions` always run; the full corpus runs when
//! `MISSIONCTL_CONFORMANCE_DIR` is set or `../shared/conformance` exists beside the
//! repository. A mismatch is a bug, never an allow-list entry.

use std::path::{Path, PathBuf};

use missionctl_core::status::event_log;
use missionctl_core::status::reducer::{IncrementalReducer, reduce_with_identity};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels below the workspace root")
        .to_path_buf()
}

fn corpus_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/conformance"),
    };
    let missions = base.join("spec-kitty-missions");
    missions.is_dir().then_some(missions)
}

fn mission_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("mission root is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.join("status.events.jsonl").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Reduces one mission directory and returns a description of the mismatch, if any.
fn check(dir: &Path) -> Option<String> {
    let log_bytes = std::fs::read(dir.join("status.events.jsonl")).expect("log is readable");
    let expected = std::fs::read_to_string(dir.join("expected.status.json"))
        .expect("expected.status.json is readable");
    let log = event_log::parse(&log_bytes);
    if let Err(error) = log.require_valid() {
        return Some(format!("{}: unreadable log: {error}", dir.display()));
    }
    let meta: Option<serde_json::Map<String, serde_json::Value>> =
        std::fs::read(dir.join("meta.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let snapshot = match reduce_with_identity(&log, meta.as_ref()) {
        Ok(snapshot) => snapshot,
        Err(error) => return Some(format!("{}: {error}", dir.display())),
    };
    let actual = snapshot.to_status_json();
    // The same log fed in three pieces, cut in the middle of rows, reduces to the same bytes.
    let mut incremental = IncrementalReducer::new();
    let (head, rest) = log_bytes.split_at(log_bytes.len() / 3);
    let (middle, tail) = rest.split_at(rest.len() / 2);
    for piece in [head, middle, tail] {
        incremental.feed(piece);
    }
    let mut fed = incremental.snapshot();
    fed.mission_number = snapshot.mission_number.clone();
    fed.mission_type = snapshot.mission_type.clone();
    if fed != snapshot {
        return Some(format!(
            "{}: the incremental reducer disagrees with the full reduce",
            dir.display()
        ));
    }
    if actual == expected {
        return None;
    }
    let first_difference = actual
        .lines()
        .zip(expected.lines())
        .enumerate()
        .find(|(_, (a, e))| a != e)
        .map(|(index, (a, e))| format!("line {}: got {a:?}, expected {e:?}", index + 1))
        .unwrap_or_else(|| "length differs".to_owned());
    Some(format!("{}: {first_difference}", dir.display()))
}

fn run(root: &Path, minimum: usize) {
    let dirs = mission_dirs(root);
    assert!(
        dirs.len() >= minimum,
        "expected at least {minimum} missions with a log in {}, found {}",
        root.display(),
        dirs.len()
    );
    let failures: Vec<String> = dirs.iter().filter_map(|dir| check(dir)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} missions differ:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
    println!("{} missions byte-exact in {}", dirs.len(), root.display());
}

#[test]
fn vendored_fixtures_are_byte_exact() {
    run(&workspace_root().join("tests/fixtures/missions"), 40);
}

#[test]
fn full_corpus_is_byte_exact() {
    match corpus_dir() {
        Some(dir) => run(&dir, 300),
        None => println!("conformance corpus not present; full set skipped"),
    }
}
