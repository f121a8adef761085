//! The one integration-test binary of the `missionctl` crate: every file of `tests/` is a
//! module listed here (see `every_test_file_is_in_the_mod_list`).

mod bench_accept;
mod bench_dashboard;
mod bench_merge;
mod bench_review;
mod bench_sync;
mod common;
mod status_env;
mod test_accept;
mod test_cli_shape;
mod test_containment;
mod test_context;
mod test_dashboard;
mod test_demo;
mod test_events;
mod test_finalize;
mod test_finish_mission;
mod test_help;
mod test_implement;
mod test_json_envelope;
mod test_lane_workspace;
mod test_merge;
mod test_merge_driver;
mod test_migrate;
mod test_mission;
mod test_next;
mod test_next_interop;
mod test_planning;
mod test_protected_branches;
mod test_review;
mod test_run;
mod test_sk_board;
mod test_sk_finalize;
mod test_sk_next;
mod test_sk_repo;
mod test_sk_validate;
mod test_status_bad_input;
mod test_status_commands;
mod test_status_concurrency;
mod test_status_crash;
mod test_status_deep_rows;
mod test_status_interop;
mod test_status_reduce;
mod test_status_topologies;
mod test_sync;
mod test_unknown_work_package;
mod test_wp;
mod test_write_crash;
mod test_write_crlf;
mod test_write_doctor;
mod test_write_hooks;
mod test_write_races;

use std::path::Path;

#[test]
fn every_test_file_is_in_the_mod_list() -> common::TestResult {
    let runner = include_str!("runner.rs");
    let tests_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut checked = 0;
    for entry in std::fs::read_dir(&tests_dir)? {
        let path = entry?.path();
        let module = if path.is_dir() && path.join("mod.rs").is_file() {
            path.file_name()
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            path.file_stem()
        } else {
            continue;
        };
        let Some(module) = module.and_then(|name| name.to_str()) else {
            anyhow::bail!(
                "test file with a name that is not UTF-8: {}",
                path.display()
            );
        };
        if module == "runner" {
            continue;
        }
        anyhow::ensure!(
            runner.lines().any(|line| line == format!("mod {module};")),
            "tests/{module} is not compiled: add `mod {module};` to tests/runner.rs"
        );
        checked += 1;
    }
    anyhow::ensure!(
        checked > 0,
        "no test modules found in {}",
        tests_dir.display()
    );
    Ok(())
}
