//! The retrospective of the peer run's mission, generated from its files and event log as they
//! were when Spec Kitty 3.2.7's merge captured it: the YAML and the `RetrospectiveCaptured` row
//! must be Spec Kitty's bytes. Runs when `../shared/conformance` (or
//! `MISSIONCTL_CONFORMANCE_DIR`) is present.

use std::path::{Path, PathBuf};

use missionctl_core::lifecycle::retrospective::{
    RetrospectiveInput, captured_row, generate, next_lamport,
};
use serde_json::{Map, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn mission_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)?
        .to_path_buf();
    let shared = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root.join("../shared/conformance"),
    };
    let dir = shared.join("peer-run-3.2.7/task-list-01M803MD");
    dir.is_dir().then_some(dir)
}

fn text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[test]
fn the_peer_runs_retrospective_is_spec_kittys_bytes() -> TestResult {
    let Some(dir) = mission_dir() else {
        eprintln!("skipped: the peer run is not present");
        return Ok(());
    };
    let log = std::fs::read_to_string(dir.join("status.events.jsonl"))?;
    let mut rows: Vec<&str> = log.lines().collect();
    let captured = rows.pop().unwrap_or_default();
    let events: Vec<Map<String, Value>> = rows
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let mut wp_files = Vec::new();
    for entry in std::fs::read_dir(dir.join("tasks"))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.starts_with("WP") && name.ends_with(".md") {
            wp_files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    wp_files.sort();
    let input = RetrospectiveInput {
        dir_name: "task-list-01M803MD",
        meta: serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json"))?)?,
        spec: text(&dir.join("spec.md")).unwrap_or_default(),
        plan: text(&dir.join("plan.md")).unwrap_or_default(),
        tasks: text(&dir.join("tasks.md")).unwrap_or_default(),
        research: text(&dir.join("research.md")),
        data_model: text(&dir.join("data-model.md")),
        workflow_failures: text(&dir.join("workflow-failures-log.md")),
        analysis_report: text(&dir.join("analysis-report.md")),
        review_report: text(&dir.join("mission-review-report.md")),
        traces: Vec::new(),
        wp_files,
        events,
        invoked_at: "2026-11-21T22:35:14.653588+00:00",
        fallback_target_branch: "main",
    };
    let retrospective = generate(&input);
    assert_eq!(
        retrospective.yaml,
        std::fs::read_to_string(dir.join("retrospective.yaml"))?
    );
    let row = captured_row(
        &retrospective,
        "01M803ZPWGFFFG9MFJ4YWWPF5W",
        "2026-11-21T22:35:14.704736+00:00",
        next_lamport(&input.events),
        "<demo-repo>/kitty-specs/task-list-01M803MD/retrospective.yaml",
    );
    assert_eq!(row, captured);
    Ok(())
}
