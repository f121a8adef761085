//! The store's one integration-test binary: every file under `tests/` is a module here.

mod common;

mod lane_worktree;
mod meta_store;
mod mission_context;
mod mission_create;
mod mission_flatten;
mod mission_index;
mod planning;
mod repo;
mod runtime;
mod status_follow;
mod status_surface;
mod topology_backfill;
mod write_advance;

/// Fails when a test file under `tests/` is not listed above, so it cannot be skipped silently.
#[test]
fn every_test_file_is_listed() -> common::TestResult {
    let runner = include_str!("runner.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        let is_module =
            path.extension().is_some_and(|ext| ext == "rs") || path.join("mod.rs").is_file();
        if is_module && stem != "runner" && !runner.contains(&format!("\nmod {stem};")) {
            missing.push(stem.to_owned());
        }
    }
    assert!(missing.is_empty(), "add to tests/runner.rs: {missing:?}");
    Ok(())
}
