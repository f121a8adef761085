//! Work-package front matter and `lanes.json` against real Spec Kitty missions.
//!
//! - every `tasks/*.frontmatter.yaml` parses (or fails with a located error) without a panic;
//! - every one takes new `requirement_refs` in place (`map-requirements`), idempotently;
//! - every `lanes.json` reads, and writes back byte for byte, except the hand-edited files
//!   listed in [`NOT_WRITTEN_BY_SPEC_KITTY`];
//! - `compute_lanes` over a mission's front matter gives the committed lanes, except for the
//!   missions listed in [`LANES_NOT_FROM_FRONT_MATTER`], each with the reason it cannot;
//! - over the peer run's work-package files (front matter and bodies, vendored in
//!   `tests/fixtures/peer-run-lanes`), the computed `lanes.json` equals Spec Kitty 3.2.7's byte
//!   for byte.
//!
//! The vendored fixtures under `tests/fixtures/missions` always run; the full corpus runs when
//! `MISSIONCTL_CONFORMANCE_DIR` is set or `../shared/conformance` exists beside the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use missionctl_core::mission::meta::MissionId;
use missionctl_core::planning::lanes_manifest::{LanesInput, LanesManifest, compute_lanes};
use missionctl_core::planning::requirement::{RequirementId, merge_refs};
use missionctl_core::planning::task_plan::WorkPackageEntry;
use missionctl_core::planning::work_package::{
    FrontMatter, WorkPackageSummary, set_requirement_refs, split_front_matter,
    summarize_front_matter,
};
use missionctl_core::text::block_yaml::parse_block_mapping;

/// `lanes.json` files that `json.dumps(indent=2)` did not write (edited by hand afterwards).
const NOT_WRITTEN_BY_SPEC_KITTY: [(&str, &str); 7] = [
    (
        "charter-contract-cleanup-tranche-1-01KQATS4",
        "inline one-element arrays and an empty collapse report, written by hand",
    ),
    (
        "charter-p7-release-closure-01KQF9B9",
        "an inline one-element array, written by hand",
    ),
    (
        "rc3-charter-gate-predicate-inversion-01M0GGT1",
        "no trailing newline",
    ),
    (
        "review-cycle-verdict-seam-rebuild-01KZ2W7W",
        "keys sorted (rewritten by another tool)",
    ),
    (
        "stable-320-release-blocker-cleanup-01KQW4DF",
        "lanes carry extra keys (target_repository, …) from a multi-repository experiment",
    ),
    (
        "064-complete-mission-identity-cutover",
        "an older schema: `feature_slug`, the slug as `mission_id`, no `planning_artifact_wps`",
    ),
    (
        "065-tasks-and-lane-stabilization",
        "an older schema: no `planning_artifact_wps`",
    ),
];

/// Why a mission's committed lanes do not follow from its front matter today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// Computed by an older Spec Kitty whose rule `dependency` merged a work package into its
    /// dependency's lane (its collapse report says so); today dependencies never merge.
    OlderDependencyRule,
    /// Work packages or owned files were changed after `lanes.json` was computed, and
    /// finalize was not run again: the committed write scopes are not the front matter's.
    OwnedFilesEditedAfterwards,
    /// The lanes hold the same work packages, but the lane dependencies differ: the
    /// `dependencies` were edited after `lanes.json` was computed.
    DependenciesEditedAfterwards,
    /// The same lanes with the same contents, in another order inside an array: the file was
    /// edited by hand (the writer always sorts `write_scope`).
    HandEdited,
    /// Fewer, larger lanes over the same owned files: merged by the surface heuristic of an
    /// older Spec Kitty, which read the work-package bodies (not in the corpus) and merged even
    /// disjoint owners.
    SurfaceHeuristic,
}

/// The missions whose committed lanes cannot be reproduced from their front matter. Every
/// other mission with a `lanes.json` must match exactly.
const LANES_NOT_FROM_FRONT_MATTER: [(&str, Reason); 78] = [
    (
        "064-complete-mission-identity-cutover",
        Reason::SurfaceHeuristic,
    ),
    ("065-tasks-and-lane-stabilization", Reason::SurfaceHeuristic),
    ("066-review-loop-stabilization", Reason::OlderDependencyRule),
    (
        "069-planning-pipeline-integrity",
        Reason::OlderDependencyRule,
    ),
    (
        "078-planning-artifact-and-query-consistency",
        Reason::OlderDependencyRule,
    ),
    (
        "079-post-555-release-hardening",
        Reason::OlderDependencyRule,
    ),
    (
        "080-browser-mediated-oauth-cli-auth",
        Reason::OlderDependencyRule,
    ),
    (
        "080-ci-hardening-and-lint-cleanup",
        Reason::OlderDependencyRule,
    ),
    (
        "081-canonical-baseline-and-repository-boundary",
        Reason::OlderDependencyRule,
    ),
    (
        "082-stealth-gated-saas-sync-hardening",
        Reason::OlderDependencyRule,
    ),
    (
        "agent-profile-projection-plugin-production-01KV3NGS",
        Reason::DependenciesEditedAfterwards,
    ),
    (
        "annoying-bugs-sweep-01KYHQ9F",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "auth-local-trust-and-multi-process-hardening-01KQW587",
        Reason::OlderDependencyRule,
    ),
    (
        "bulk-edit-occurrence-classification-guardrail-01KP423X",
        Reason::OlderDependencyRule,
    ),
    (
        "canonical-seams-path-trust-guard-capability-01KVBBT6",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "cascade-org-inert-01M07E9P",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "charter-contract-cleanup-tranche-1-01KQATS4",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "charter-delivery-finish-context-degod-01KYT4BY",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "charter-e2e-827-followups-01KQAJA0",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "charter-end-user-docs-828-01KQCSYD",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "charter-golden-path-e2e-tranche-1-01KQ806X",
        Reason::OlderDependencyRule,
    ),
    (
        "charter-mediated-doctrine-selection-01KRTZCA",
        Reason::OlderDependencyRule,
    ),
    (
        "charter-ownership-consolidation-and-neutrality-hardening-01KPD880",
        Reason::OlderDependencyRule,
    ),
    (
        "charter-p7-schema-versioning-provenance-01KQEG13",
        Reason::OlderDependencyRule,
    ),
    ("charter-pack-usage-journey-01KYWWTF", Reason::HandEdited),
    (
        "charter-synthesize-reconciliation-01KZJQN6",
        Reason::OwnedFilesEditedAfterwards,
    ),
    ("ci-topology-shrink-01KWQAVX", Reason::HandEdited),
    (
        "cli-interview-decision-moments-01KPWT8P",
        Reason::DependenciesEditedAfterwards,
    ),
    (
        "cli-session-survival-daemon-singleton-01KQ9M3M",
        Reason::OlderDependencyRule,
    ),
    (
        "cli-upgrade-nag-lazy-project-migrations-01KQ6YDN",
        Reason::OlderDependencyRule,
    ),
    (
        "common-docs-query-01KY541A",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "complexity-code-smell-remediation-01KP15HB",
        Reason::OlderDependencyRule,
    ),
    (
        "consolidate-charter-bundle-01KXSYB9",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "do-dispatch-open-op-lifecycle-01KTSJ2H",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "doctrine-consumer-surface-missions-extraction-01KZ6G6H",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "doctrine-enrichment-frontend-brownfield-normalization-01KQ48XA",
        Reason::OlderDependencyRule,
    ),
    (
        "doctrine-silence-guards-01KYFV7Q",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "documentation-mission-composition-fixup-01KQ6N5X",
        Reason::OlderDependencyRule,
    ),
    (
        "egress-refusal-consolidation-3110-01KYW895",
        Reason::HandEdited,
    ),
    (
        "excise-doctrine-curation-and-inline-references-01KP54J6",
        Reason::OlderDependencyRule,
    ),
    (
        "functional-ownership-map-01KPDY72",
        Reason::OlderDependencyRule,
    ),
    (
        "glossary-drg-chokepoint-01KPTE0P",
        Reason::OlderDependencyRule,
    ),
    (
        "glossary-drg-surfaces-and-charter-lint-01KPTY5Y",
        Reason::OlderDependencyRule,
    ),
    (
        "implement-loop-commit-hardening-01KXJ1ZX",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "layered-doctrine-org-layer-01KRNPEE",
        Reason::OlderDependencyRule,
    ),
    (
        "legacy-sparse-and-review-lock-hardening-01KP54ZW",
        Reason::OlderDependencyRule,
    ),
    (
        "local-custom-mission-loader-01KQ2VNJ",
        Reason::OlderDependencyRule,
    ),
    (
        "locate-project-root-consolidation-01KV5SX1",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "logged-out-teamspace-cli-recovery-01KRC6CY",
        Reason::DependenciesEditedAfterwards,
    ),
    (
        "migration-shim-ownership-rules-01KPDYDW",
        Reason::OlderDependencyRule,
    ),
    (
        "mvp-cli-sync-boundary-completion-01KRX11M",
        Reason::OlderDependencyRule,
    ),
    (
        "mvp-sync-boundary-cli-01KRVCQS",
        Reason::OlderDependencyRule,
    ),
    (
        "phase-3-charter-synthesizer-pipeline-01KPE222",
        Reason::DependenciesEditedAfterwards,
    ),
    (
        "private-teamspace-ingress-safeguards-01KQH03Y",
        Reason::OlderDependencyRule,
    ),
    (
        "quality-devex-hardening-3-2-01KRJGKH",
        Reason::OlderDependencyRule,
    ),
    (
        "read-side-seam-primary-primitive-closure-01KYKMMT",
        Reason::DependenciesEditedAfterwards,
    ),
    (
        "release-3-2-0a5-tranche-1-01KQ7YXH",
        Reason::OlderDependencyRule,
    ),
    (
        "release-320-workflow-reliability-01KQKV85",
        Reason::OlderDependencyRule,
    ),
    (
        "research-mission-composition-rewrite-v2-01KQ4QVV",
        Reason::OlderDependencyRule,
    ),
    (
        "retro-summary-nfr-investigation-01KWQARM",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "retrospective-default-policy-01KS049J",
        Reason::OlderDependencyRule,
    ),
    (
        "review-cycle-verdict-seam-rebuild-01KZ2W7W",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "shared-package-boundary-cutover-01KQ22DS",
        Reason::OlderDependencyRule,
    ),
    (
        "slice-f-multi-context-extensibility-01KRX5C8",
        Reason::OlderDependencyRule,
    ),
    (
        "software-dev-composition-rewrite-01KQ26CY",
        Reason::OlderDependencyRule,
    ),
    (
        "spdd-reasons-doctrine-pack-01KQC4AX",
        Reason::OlderDependencyRule,
    ),
    (
        "specify-brief-intake-mode-01KPMXQB",
        Reason::OlderDependencyRule,
    ),
    (
        "stability-and-hygiene-hardening-2026-04-01KQ4ARB",
        Reason::OlderDependencyRule,
    ),
    (
        "stabilization-release-core-bug-fixes-01KPQJAN",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "stable-320-p0-cli-stabilization-01KQSNGY",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "stable-320-p1-release-confidence-01KQTPZC",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "sync-sleep-count-3136-01KZ9B5A",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "sync-strict-json-auth-01KWA6KN",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "tasks-py-degod-01KWF08S",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "tool-surface-contract-residuals-01KV4S5B",
        Reason::OwnedFilesEditedAfterwards,
    ),
    (
        "unified-charter-bundle-chokepoint-01KP5Q2G",
        Reason::OlderDependencyRule,
    ),
    ("unshim-wave2-01KWMCAX", Reason::OwnedFilesEditedAfterwards),
    (
        "wp-prompt-governance-payload-01KRR8HS",
        Reason::OlderDependencyRule,
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels below the workspace root")
        .to_path_buf()
}

fn conformance_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/conformance"),
    };
    base.join("spec-kitty-missions").is_dir().then_some(base)
}

fn roots() -> Vec<PathBuf> {
    let mut roots = vec![workspace_root().join("tests/fixtures/missions")];
    if let Some(base) = conformance_dir() {
        roots.push(base.join("spec-kitty-missions"));
    }
    roots
}

fn mission_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("mission root is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .and_then(|name| name.to_str())
        .expect("UTF-8 mission directory name")
        .to_owned()
}

/// Reads the front-matter files of a mission as work-package entries (no bodies).
fn entries(dir: &Path) -> Vec<WorkPackageEntry> {
    let Ok(read) = std::fs::read_dir(dir.join("tasks")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.to_str()
                .is_some_and(|text| text.ends_with(".frontmatter.yaml"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).expect("front matter is UTF-8");
            let front = FrontMatter::parse(&text).ok()?;
            let file_name = name(path).replace(".frontmatter.yaml", ".md");
            Some(WorkPackageEntry {
                file: format!("tasks/{file_name}"),
                line_offset: 1,
                front,
                body: String::new(),
            })
        })
        .collect()
}

/// Returns every readable `tasks/*` file of every mission, with its text.
fn front_matter_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for root in roots() {
        for dir in mission_dirs(&root) {
            let Ok(read) = std::fs::read_dir(dir.join("tasks")) else {
                continue;
            };
            for entry in read {
                let path = entry.expect("directory entry").path();
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push((path, text));
                }
            }
        }
    }
    files
}

#[test]
fn every_front_matter_file_parses_without_panic() {
    let mut parsed = 0;
    let mut block_style = 0;
    let mut failed = Vec::new();
    for (path, text) in front_matter_files() {
        if let Some(quick) = parse_block_mapping(&text) {
            block_style += 1;
            let full: serde_json::Value =
                serde_saphyr::from_str(&text).expect("the block subset is YAML");
            assert_eq!(
                serde_json::Value::Object(quick),
                full,
                "{}: the block reader disagrees with the YAML parser",
                path.display()
            );
        }
        match FrontMatter::parse(&text) {
            Ok(front) => {
                parsed += 1;
                assert_eq!(
                    summarize_front_matter(&text),
                    Ok(WorkPackageSummary::from(&front)),
                    "{}: the line scanner disagrees with the parser",
                    path.display()
                );
            }
            Err(error) => failed.push(format!("{}: {error}", path.display())),
        }
    }
    assert!(parsed > 100, "only {parsed} front-matter files found");
    eprintln!("front matter: {parsed} parsed, {block_style} read by the block reader");
    assert!(
        failed.is_empty(),
        "front matter that does not parse:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_front_matter_file_takes_new_requirement_refs_in_place() {
    let added = [RequirementId::parse("FR-999").expect("an id")];
    let mut edited = 0;
    for (path, yaml) in front_matter_files() {
        let Ok(front) = FrontMatter::parse(&yaml) else {
            continue;
        };
        let text = format!("---\n{yaml}---\n\n# Body\n");
        // A file with refs that are not ids takes the new list whole (`--replace`).
        let refs: Vec<String> = merge_refs(&front.requirement_refs, &added, false)
            .or_else(|_| merge_refs(&front.requirement_refs, &added, true))
            .expect("replacing never fails")
            .iter()
            .map(ToString::to_string)
            .collect();
        let once = set_requirement_refs(&text, &refs)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(once.ends_with("---\n\n# Body\n"), "{}", path.display());
        let twice = set_requirement_refs(&once, &refs)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert_eq!(once, twice, "{}: not idempotent", path.display());
        edited += 1;
    }
    assert!(edited > 100, "only {edited} front-matter files edited");
}

#[test]
fn lanes_json_reads_and_writes_back_byte_for_byte() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for root in roots() {
        for dir in mission_dirs(&root) {
            let Ok(bytes) = std::fs::read(dir.join("lanes.json")) else {
                continue;
            };
            let mission = name(&dir);
            let manifest = match LanesManifest::parse(&bytes) {
                Ok(manifest) => manifest,
                Err(error) => {
                    failures.push(format!("{mission}: {error}"));
                    continue;
                }
            };
            let listed = NOT_WRITTEN_BY_SPEC_KITTY
                .iter()
                .any(|(listed, _)| *listed == mission);
            let same = manifest.to_json().as_bytes() == bytes.as_slice();
            match (same, listed) {
                (true, false) => checked += 1,
                (false, true) => {}
                (true, true) => failures.push(format!(
                    "{mission}: listed as hand-edited but writes back identically"
                )),
                (false, false) => {
                    failures.push(format!("{mission}: does not write back identically"))
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} lanes.json files checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The comparable part of a lane: id, work packages, write scope, lane dependencies, group.
type LaneShape = (String, Vec<String>, Vec<String>, Vec<String>, i64);

/// Returns the comparable part of each lane.
fn lane_shape(manifest: &LanesManifest) -> Vec<LaneShape> {
    manifest
        .lanes
        .iter()
        .map(|lane| {
            (
                lane.lane_id.clone(),
                lane.wp_ids.clone(),
                lane.write_scope.clone(),
                lane.depends_on_lanes.clone(),
                lane.parallel_group,
            )
        })
        .collect()
}

/// Returns why a mismatch is expected, judged from the committed file and the front matter;
/// `None` when nothing explains it (a bug in `compute_lanes`).
fn classify(
    committed: &LanesManifest,
    computed: &LanesManifest,
    front: &[WorkPackageEntry],
) -> Option<Reason> {
    use std::collections::BTreeSet;
    if committed
        .collapse_report
        .as_ref()
        .is_some_and(|report| report.events.iter().any(|event| event.rule == "dependency"))
    {
        return Some(Reason::OlderDependencyRule);
    }
    let committed_scope: BTreeSet<&String> = committed
        .lanes
        .iter()
        .flat_map(|lane| lane.write_scope.iter())
        .collect();
    let owned: BTreeSet<&String> = front
        .iter()
        .flat_map(|entry| entry.front.owned_files().iter())
        .collect();
    let committed_ids: BTreeSet<&str> = committed
        .lanes
        .iter()
        .flat_map(|lane| lane.wp_ids.iter().map(String::as_str))
        .collect();
    let ids: BTreeSet<&str> = front.iter().map(WorkPackageEntry::id).collect();
    if committed_scope != owned || committed_ids != ids {
        return Some(Reason::OwnedFilesEditedAfterwards);
    }
    let membership = |manifest: &LanesManifest| -> BTreeSet<BTreeSet<String>> {
        manifest
            .lanes
            .iter()
            .map(|lane| lane.wp_ids.iter().cloned().collect())
            .collect()
    };
    if membership(committed) != membership(computed) {
        return (committed.lanes.len() < computed.lanes.len()).then_some(Reason::SurfaceHeuristic);
    }
    let shape = |manifest: &LanesManifest| -> BTreeSet<(String, BTreeSet<String>, i64)> {
        manifest
            .lanes
            .iter()
            .map(|lane| {
                (
                    lane.lane_id.clone(),
                    lane.depends_on_lanes.iter().cloned().collect(),
                    lane.parallel_group,
                )
            })
            .collect()
    };
    if shape(committed) != shape(computed) {
        return Some(Reason::DependenciesEditedAfterwards);
    }
    Some(Reason::HandEdited)
}

#[test]
fn computed_lanes_equal_the_committed_ones() {
    let mut matched = 0;
    let mut unexpected = Vec::new();
    let mut explained: BTreeMap<String, Reason> = BTreeMap::new();
    for root in roots() {
        for dir in mission_dirs(&root) {
            let Ok(bytes) = std::fs::read(dir.join("lanes.json")) else {
                continue;
            };
            let mission = name(&dir);
            let Ok(committed) = LanesManifest::parse(&bytes) else {
                continue;
            };
            let front = entries(&dir);
            let input = LanesInput {
                mission_slug: committed.mission_slug.clone(),
                mission_id: committed
                    .mission_id
                    .as_deref()
                    .and_then(|id| MissionId::parse(id).ok()),
                target_branch: committed.target_branch.clone(),
                computed_at: committed.computed_at.clone(),
                planning_commit_sha: committed.planning_commit_sha.clone(),
                work_packages: front
                    .iter()
                    .map(|entry| {
                        let mut input = entry.lane_input();
                        input.body = None;
                        input
                    })
                    .collect(),
            };
            let computed = match compute_lanes(&input) {
                Ok(computed) => computed,
                Err(error) => {
                    unexpected.push(format!("{mission}: {error}"));
                    continue;
                }
            };
            let same = lane_shape(&computed) == lane_shape(&committed)
                && computed.planning_artifact_wps == committed.planning_artifact_wps;
            let listed = LANES_NOT_FROM_FRONT_MATTER
                .iter()
                .find(|(listed, _)| *listed == mission)
                .map(|(_, reason)| *reason);
            match (same, listed) {
                (true, None) => matched += 1,
                (true, Some(_)) => unexpected.push(format!("{mission}: listed, but matches")),
                (false, Some(reason)) => {
                    let judged = classify(&committed, &computed, &front);
                    if judged == Some(reason) {
                        explained.insert(mission, reason);
                    } else {
                        unexpected.push(format!(
                            "{mission}: listed as {reason:?}, but the files say {judged:?}"
                        ));
                    }
                }
                (false, None) => unexpected.push(format!(
                    "(\"{mission}\", {:?}), // not listed",
                    classify(&committed, &computed, &front),
                )),
            }
        }
    }
    assert!(matched >= 20, "only {matched} missions matched");
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    if conformance_dir().is_some() {
        let missing: Vec<&str> = LANES_NOT_FROM_FRONT_MATTER
            .iter()
            .map(|(mission, _)| *mission)
            .filter(|mission| !explained.contains_key(*mission))
            .collect();
        assert!(
            missing.is_empty(),
            "listed but not in the corpus: {missing:?}"
        );
    }
    eprintln!(
        "lanes from front matter: {matched} missions match, {} explained",
        explained.len()
    );
}

#[test]
fn the_peer_run_lanes_json_is_reproduced_byte_for_byte() {
    // Vendored from `peer-run-3.2.7`: the pre-merge `lanes.json` and the four work-package
    // files (front matter and bodies) it was computed from.
    let run = workspace_root().join("tests/fixtures/peer-run-lanes");
    let committed_bytes =
        std::fs::read(run.join("lanes.json")).expect("the pre-merge lanes.json is readable");
    let committed = LanesManifest::parse(&committed_bytes).expect("lanes.json parses");
    let tasks = run.join("tasks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tasks)
        .expect("tasks/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension().is_some_and(|extension| extension == "md")
                && name(path).starts_with("WP")
        })
        .collect();
    files.sort();
    let work_packages = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("UTF-8");
            let split = split_front_matter(&text).expect("front matter");
            WorkPackageEntry {
                file: format!("tasks/{}", name(path)),
                line_offset: split.yaml_line_offset,
                front: FrontMatter::parse(split.yaml).expect("parses"),
                body: split.body.to_owned(),
            }
            .lane_input()
        })
        .collect();
    let computed = compute_lanes(&LanesInput {
        mission_slug: committed.mission_slug.clone(),
        mission_id: committed
            .mission_id
            .as_deref()
            .and_then(|id| MissionId::parse(id).ok()),
        target_branch: committed.target_branch.clone(),
        computed_at: committed.computed_at.clone(),
        planning_commit_sha: committed.planning_commit_sha.clone(),
        work_packages,
    })
    .expect("lanes compute");
    assert_eq!(
        computed.to_json(),
        String::from_utf8_lossy(&committed_bytes)
    );
}
