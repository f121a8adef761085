//! Missions and topology benchmarks on a generated repository of 500 missions.
//!
//! What `mission list` and `context --mission <handle>` cost in process, file system included
//! (warm page cache): discovering the repository, listing and reading every `meta.json`, and
//! resolving one mission's execution context (handle lookup, primary `meta.json`, the pure
//! resolver, and for a coordination mission the probe). Figures are recorded in
//! `docs/performance.md`; the budgets are `mission list` ≤ 50 ms and `context` ≤ 5 ms.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};

use missionctl_store::mission::context::resolve_mission_context;
use missionctl_store::mission::index::list_missions;
use missionctl_store::repo::Repo;

const MISSIONS: usize = 500;
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// Returns the `n`-th mission id: distinct mid8s.
fn mission_id(n: usize) -> String {
    let mut id = *b"01M0M9D8R83DDKSZ62QKGV3YW0";
    id[5] = CROCKFORD[n % 32];
    id[6] = CROCKFORD[(n / 32) % 32];
    id[7] = CROCKFORD[(n / 1024) % 32];
    String::from_utf8(id.to_vec()).expect("ASCII")
}

/// Builds a repository with 500 missions of every topology, the coordination ones with their
/// branch, and returns it with the handle of the last coordination mission.
fn generate(root: &Path) -> String {
    git(root, &["init", "-q"]);
    git(root, &["commit", "-q", "--allow-empty", "-m", "initial"]);
    let topologies = ["single_branch", "lanes", "coord", "lanes_with_coord"];
    let mut coordination_mid8 = String::new();
    for n in 0..MISSIONS {
        let id = mission_id(n);
        let mid8 = &id[..8];
        let dir_name = format!("mission-number-{n}-{mid8}");
        let dir = root.join("kitty-specs").join(&dir_name);
        std::fs::create_dir_all(dir.join("tasks")).expect("mkdir");
        let topology = topologies[n % 4];
        let coordination = if topology.ends_with("coord") {
            let branch = format!("kitty/mission-mission-number-{n}-{mid8}");
            git(root, &["branch", &branch]);
            coordination_mid8 = mid8.to_owned();
            format!("  \"coordination_branch\": \"{branch}\",\n")
        } else {
            String::new()
        };
        let meta = format!(
            "{{\n{coordination}  \"created_at\": \"2026-08-22T08:29:15.913164+00:00\",\n  \
             \"flattened\": false,\n  \"friendly_name\": \"Mission {n}\",\n  \
             \"mission_id\": \"{id}\",\n  \"mission_number\": null,\n  \
             \"mission_slug\": \"{dir_name}\",\n  \"mission_type\": \"software-dev\",\n  \
             \"purpose_context\": \"A generated mission for the benchmark.\",\n  \
             \"purpose_tldr\": \"Mission {n}\",\n  \"slug\": \"{dir_name}\",\n  \
             \"target_branch\": \"feature/x\",\n  \"topology\": \"{topology}\"\n}}\n"
        );
        std::fs::write(dir.join("meta.json"), meta).expect("write meta.json");
        std::fs::write(dir.join("status.events.jsonl"), "").expect("write log");
    }
    coordination_mid8
}

fn benches(c: &mut Criterion) {
    let temp = tempfile::tempdir().expect("temporary directory");
    let root = std::fs::canonicalize(temp.path()).expect("canonical path");
    let coordination_mid8 = generate(&root);
    let flat_dir = format!("mission-number-0-{}", &mission_id(0)[..8]);
    let repo = Repo::discover(&root).expect("repository");
    assert_eq!(list_missions(&repo).expect("list").len(), MISSIONS);

    c.bench_function("discover repository", |b| {
        b.iter(|| black_box(Repo::discover(black_box(&root)).expect("repository")));
    });
    c.bench_function("mission list (500 missions, with discovery)", |b| {
        b.iter(|| {
            let repo = Repo::discover(&root).expect("repository");
            black_box(list_missions(&repo).expect("list"))
        });
    });
    c.bench_function(
        "context by directory name (flat mission, with discovery)",
        |b| {
            b.iter(|| {
                let repo = Repo::discover(&root).expect("repository");
                black_box(resolve_mission_context(&repo, &flat_dir).expect("context"))
            });
        },
    );
    c.bench_function(
        "context by mid8 (coord mission, 500-mission scan, with discovery)",
        |b| {
            b.iter(|| {
                let repo = Repo::discover(&root).expect("repository");
                black_box(resolve_mission_context(&repo, &coordination_mid8).expect("context"))
            });
        },
    );
}

criterion_group!(name = topology; config = Criterion::default().sample_size(50); targets = benches);
criterion_main!(topology);
