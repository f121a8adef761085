//! `migrate backfill-topology` over real Spec Kitty missions copied into a temporary git
//! repository: it derives what Spec Kitty derives, never overwrites a stored value, skips a
//! mission whose coordination branch is gone, and a second run changes nothing.
//!
//! The vendored fixtures always run; the full conformance corpus runs too when
//! `../shared/conformance/spec-kitty-missions` (or `MISSIONCTL_CONFORMANCE_DIR`) is present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use missionctl_core::mission::meta::MissionMeta;
use missionctl_core::mission::topology::{
    BackfillDecision, BackfillFacts, LanesJsonState, MissionTopology, decide_backfill,
};
use missionctl_store::mission::meta_store::PrimaryMissionDir;
use missionctl_store::mission::topology_backfill::{
    BackfillAction, BackfillOptions, BackfillReport, backfill_topology,
};

use crate::common::{TestRepo, TestResult, file_tree};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels below the workspace root")
        .to_path_buf()
}

/// The mission directories to copy: the vendored fixtures, and the full corpus when present.
fn corpus_dirs() -> Vec<PathBuf> {
    let mut roots = vec![
        workspace_root().join("tests/fixtures/missions"),
        workspace_root().join("crates/missionctl-core/tests/fixtures/meta-corpus"),
    ];
    let full = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/conformance"),
    }
    .join("spec-kitty-missions");
    if full.is_dir() {
        roots.push(full);
    } else {
        eprintln!("note: full conformance corpus not found; backfill ran on the vendored missions");
    }
    let mut dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join("meta.json").is_file()
                && let Some(name) = path.file_name().and_then(|name| name.to_str())
            {
                dirs.entry(name.to_owned()).or_insert(path);
            }
        }
    }
    dirs.into_values().collect()
}

/// Copies each mission's `meta.json` and `lanes.json` into `kitty-specs/` of a new repository.
fn corpus_repo() -> Result<(TestRepo, usize), Box<dyn std::error::Error>> {
    let repo = TestRepo::new()?;
    let dirs = corpus_dirs();
    for dir in &dirs {
        let name = dir
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let target = repo.path(&format!("kitty-specs/{name}"));
        std::fs::create_dir_all(&target)?;
        for file in ["meta.json", "lanes.json"] {
            if dir.join(file).is_file() {
                std::fs::copy(dir.join(file), target.join(file))?;
            }
        }
    }
    Ok((repo, dirs.len()))
}

fn run(repo: &TestRepo, dry_run: bool) -> Result<BackfillReport, Box<dyn std::error::Error>> {
    let options = BackfillOptions {
        dry_run,
        mission: None,
    };
    let mut calls = 0;
    let report = backfill_topology(&repo.repo()?, &options, &mut |progress| {
        assert_eq!(progress.index, calls);
        calls += 1;
    })?;
    assert_eq!(calls, report.records.len());
    Ok(report)
}

/// Reads what the core decides for a mission directory in `repo`, with the given branch facts.
fn core_decision(
    repo: &TestRepo,
    name: &str,
    branch_exists: bool,
) -> Result<BackfillDecision, Box<dyn std::error::Error>> {
    let found = repo.repo()?;
    let dir = PrimaryMissionDir::new(&found, name)?;
    let meta = dir.read_meta_required()?;
    let facts = BackfillFacts {
        lanes_json: dir.lanes_json_state()?,
        coordination_branch_exists: branch_exists,
    };
    Ok(decide_backfill(&meta, facts))
}

#[test]
fn never_overwrites_and_a_second_run_changes_nothing() -> TestResult {
    let (repo, count) = corpus_repo()?;
    assert!(count >= 60, "expected the vendored missions, found {count}");
    let before = file_tree(repo.root())?;

    // A dry run reports and writes nothing.
    let dry = run(&repo, true)?;
    assert!(dry.dry_run);
    assert_eq!(file_tree(repo.root())?, before);

    let report = run(&repo, false)?;
    assert_eq!(report.records.len(), count);
    assert!(!report.has_errors(), "{:?}", report.records);
    assert_eq!(
        report
            .records
            .iter()
            .map(|record| (record.slug.clone(), record.action, record.topology))
            .collect::<Vec<_>>(),
        dry.records
            .iter()
            .map(|record| (record.slug.clone(), record.action, record.topology))
            .collect::<Vec<_>>()
    );
    let after = file_tree(repo.root())?;
    let mut wrote = 0;
    for record in &report.records {
        let meta_path = PathBuf::from(format!("kitty-specs/{}/meta.json", record.slug));
        let old = before[&meta_path].clone().unwrap_or_default();
        let new = after[&meta_path].clone().unwrap_or_default();
        let original = MissionMeta::parse(&old)?;
        match record.action {
            BackfillAction::Skip => {
                assert_eq!(new, old, "{}: a skip must not write", record.slug);
                if let Some(stored) = original.stored_topology() {
                    assert_eq!(record.topology, Some(stored));
                    assert_eq!(record.reason.as_deref(), Some("topology already present"));
                }
            }
            BackfillAction::Wrote => {
                wrote += 1;
                assert_eq!(original.stored_topology(), None, "{}", record.slug);
                let written = MissionMeta::parse(&new)?;
                assert_eq!(written.to_canonical_bytes(), new, "{}", record.slug);
                assert_eq!(
                    written.stored_topology(),
                    record.topology,
                    "{}",
                    record.slug
                );
                // Only `topology` (and a missing `flattened`) were added; the rest is kept.
                let mut expected = original.clone();
                if let Some(topology) = record.topology {
                    expected.store_backfilled_topology(topology);
                }
                assert_eq!(written, expected, "{}", record.slug);
                // Spec Kitty's flattened missions derive their coordination-less shape.
                assert!(original.flattened(), "{}", record.slug);
            }
            BackfillAction::Error => unreachable!("no errors"),
        }
    }
    assert!(wrote > 0, "some corpus mission lacks a topology");
    assert_eq!(report.count(BackfillAction::Wrote), wrote);

    // The second run finds every topology stored and writes nothing.
    let second = run(&repo, false)?;
    assert_eq!(second.count(BackfillAction::Wrote), 0);
    assert_eq!(file_tree(repo.root())?, after);
    Ok(())
}

#[test]
fn derives_what_spec_kitty_stored() -> TestResult {
    // Remove every stored topology, then backfill: each mission gets the core's derivation, and
    // wherever the stored value is what the 2×2 map gives for its signals (Spec Kitty's own
    // backfill wrote most of them that way), the derivation reproduces it.
    let (repo, _) = corpus_repo()?;
    let found = repo.repo()?;
    let mut stored: BTreeMap<String, (MissionTopology, bool, LanesJsonState)> = BTreeMap::new();
    for summary in missionctl_store::mission::index::list_missions(&found)? {
        let dir = PrimaryMissionDir::new(&found, &summary.mission_slug)?;
        let mut meta = dir.read_meta_required()?;
        if let Some(topology) = meta.stored_topology() {
            stored.insert(
                summary.mission_slug.clone(),
                (
                    topology,
                    meta.declares_coordination_branch(),
                    dir.lanes_json_state()?,
                ),
            );
        }
        meta.remove("topology");
        std::fs::write(dir.meta_path(), meta.to_canonical_bytes())?;
    }

    let report = run(&repo, false)?;
    let mut reproduced = 0;
    let mut skipped_for_branch = Vec::new();
    for record in &report.records {
        let Some((original, declares_branch, lanes)) = stored.get(&record.slug) else {
            continue;
        };
        if record.action == BackfillAction::Skip {
            // No coordination branch exists in the temporary repository.
            assert_eq!(
                record.reason.as_deref(),
                Some("coordination_branch absent from git"),
                "{}",
                record.slug
            );
            assert!(
                record
                    .warning
                    .as_deref()
                    .is_some_and(|w| w.contains("flatten"))
            );
            skipped_for_branch.push(record.slug.clone());
            continue;
        }
        assert_eq!(record.action, BackfillAction::Wrote, "{}", record.slug);
        let consistent = MissionTopology::classify(*declares_branch, lanes.has_lanes());
        if consistent == *original {
            assert_eq!(record.topology, Some(*original), "{}", record.slug);
            reproduced += 1;
        }
    }
    assert!(reproduced > 0);
    eprintln!(
        "backfill reproduced {reproduced} stored topologies of {}; {} skipped for a missing \
         coordination branch",
        stored.len(),
        skipped_for_branch.len()
    );

    // With the coordination branches present, those missions derive their stored value too.
    for slug in &skipped_for_branch {
        let decision = core_decision(&repo, slug, true)?;
        let dir = PrimaryMissionDir::new(&found, slug)?;
        let meta = dir.read_meta_required()?;
        let branch = meta.coordination_branch()?.unwrap_or_default().to_owned();
        repo.git(&["branch", &branch, "main"])?;
        let report = backfill_topology(
            &found,
            &BackfillOptions {
                dry_run: false,
                mission: Some(slug.clone()),
            },
            &mut |_| {},
        )?;
        assert_eq!(report.records.len(), 1);
        assert_eq!(report.records[0].action, BackfillAction::Wrote, "{slug}");
        assert_eq!(
            report.records[0].topology,
            Some(decision.topology()),
            "{slug}"
        );
        assert!(decision.topology().routes_through_coordination());
        let (original, declares_branch, lanes) = stored[slug];
        if MissionTopology::classify(declares_branch, lanes.has_lanes()) == original {
            assert_eq!(decision.topology(), original, "{slug}");
        }
    }
    Ok(())
}

#[test]
fn reports_missing_and_corrupt_meta_and_keeps_going() -> TestResult {
    let repo = TestRepo::new()?;
    repo.write("kitty-specs/a-no-meta/spec.md", "x")?;
    repo.write("kitty-specs/b-corrupt/meta.json", "{")?;
    repo.write(
        "kitty-specs/c-fine/meta.json",
        r#"{"mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0"}"#,
    )?;
    repo.write("kitty-specs/c-fine/lanes.json", "not json")?;
    let report = run(&repo, false)?;
    let summary: Vec<(&str, BackfillAction, Option<&str>)> = report
        .records
        .iter()
        .map(|record| {
            (
                record.slug.as_str(),
                record.action,
                record.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary[0],
        (
            "a-no-meta",
            BackfillAction::Skip,
            Some("meta.json not found")
        )
    );
    assert_eq!(summary[1].0, "b-corrupt");
    assert_eq!(summary[1].1, BackfillAction::Error);
    assert!(
        summary[1]
            .2
            .is_some_and(|reason| reason.contains("meta.json"))
    );
    assert_eq!(summary[2], ("c-fine", BackfillAction::Wrote, None));
    assert_eq!(
        report.records[2].topology,
        Some(MissionTopology::SingleBranch)
    );
    assert!(
        report.records[2]
            .warning
            .as_deref()
            .is_some_and(|w| w.contains("lanes.json"))
    );
    assert!(report.has_errors());

    let json = serde_json::to_value(&report.records[0])?;
    assert_eq!(json["action"], "skip");
    assert!(json.get("topology").is_none());
    Ok(())
}
