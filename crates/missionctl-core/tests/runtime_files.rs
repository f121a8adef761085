//! The runtime's files as Spec Kitty 3.2.7 wrote them in the end-to-end peer run: each is read
//! and written back, and the bytes must be identical. The vendored copy under
//! `tests/fixtures/peer-run-3.2.7/runtime` always runs; the original under
//! `../shared/conformance` runs too when it is present.

use std::path::{Path, PathBuf};

use missionctl_core::mission::run::{
    EVENTS_FILE, FEATURE_RUNS_FILE, FROZEN_TEMPLATE_FILE, FeatureRunsIndex, MissionRunSnapshot,
    RunEventLog, STATE_FILE,
};
use missionctl_core::text::sha256::hex_digest;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const RUN_ID: &str = "1887a5dd9dde4bbd95028902d8cf5025";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels below the workspace root")
        .to_path_buf()
}

/// Every copy of the peer's runtime directory that is present.
fn runtime_dirs() -> Vec<PathBuf> {
    let root = workspace_root();
    let vendored = root.join("tests/fixtures/peer-run-3.2.7/runtime");
    let shared = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root.join("../shared/conformance"),
    }
    .join("peer-run-3.2.7/kittify/runtime");
    let mut dirs = vec![vendored];
    if shared.is_dir() {
        dirs.push(shared);
    }
    dirs
}

#[test]
fn state_json_round_trips_byte_for_byte() -> TestResult {
    for dir in runtime_dirs() {
        let bytes = std::fs::read(dir.join("runs").join(RUN_ID).join(STATE_FILE))?;
        let snapshot = MissionRunSnapshot::parse(&bytes)?;
        assert_eq!(snapshot.run_id, RUN_ID);
        assert_eq!(
            snapshot.completed_steps,
            ["discovery", "specify", "plan", "tasks"]
        );
        assert_eq!(snapshot.issued_step_id.as_deref(), Some("implement"));
        // Spec Kitty's bridge did not pass the identity: both are null in the file.
        assert_eq!(snapshot.mission_id, None);
        assert_eq!(snapshot.mission_slug, None);
        assert!(snapshot.unknown.is_empty());
        assert_eq!(snapshot.to_json_string().as_bytes(), bytes.as_slice());
    }
    Ok(())
}

#[test]
fn feature_runs_json_round_trips_and_looks_up_both_ways() -> TestResult {
    for dir in runtime_dirs() {
        let bytes = std::fs::read(dir.join(FEATURE_RUNS_FILE))?;
        let index = FeatureRunsIndex::parse(&bytes)?;
        assert_eq!(index.to_json_string().as_bytes(), bytes.as_slice());
        let entry = index
            .entry("task-list-01M803MD")
            .ok_or("the mission has an entry")?;
        assert_eq!(entry.run_id, RUN_ID);
        assert_eq!(entry.mission_type.as_deref(), Some("software-dev"));
        let (slug, by_id) = index
            .find_by_mission_id("01M803MDRS53V2DGSWAJD0E9EW")
            .ok_or("the reverse lookup finds the mission")?;
        assert_eq!(slug, "task-list-01M803MD");
        assert_eq!(by_id, entry);
    }
    Ok(())
}

#[test]
fn run_events_round_trip_byte_for_byte() -> TestResult {
    for dir in runtime_dirs() {
        let bytes = std::fs::read(dir.join("runs").join(RUN_ID).join(EVENTS_FILE))?;
        let log = RunEventLog::parse(&bytes);
        assert!(log.errors.is_empty(), "{:?}", log.errors);
        assert_eq!(log.events.len(), 10);
        assert_eq!(log.events[0].event_type, "MissionRunStarted");
        assert_eq!(log.events[9].step_id(), Some("implement"));
        assert_eq!(log.to_bytes(), bytes);
    }
    Ok(())
}

#[test]
fn template_hash_is_the_sha256_of_the_frozen_template() -> TestResult {
    for dir in runtime_dirs() {
        let run_dir = dir.join("runs").join(RUN_ID);
        let snapshot = MissionRunSnapshot::parse(&std::fs::read(run_dir.join(STATE_FILE))?)?;
        let template = std::fs::read(run_dir.join(FROZEN_TEMPLATE_FILE))?;
        assert_eq!(hex_digest(&template), snapshot.template_hash);
    }
    Ok(())
}
