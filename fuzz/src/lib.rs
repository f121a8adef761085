//! The checks behind the fuzz targets: one function per reader of a file a user's repository
//! holds, each feeding the bytes to `missionctl-core` and asserting the properties it promises.
//!
//! The first property is the project rule, "never panic on input": every reader must return
//! (a value or an error) without panicking, looping forever or allocating without bound —
//! libFuzzer reports a panic as a crash, a slow input as a timeout and a large allocation as
//! an out-of-memory. Where a reader also writes the file back, what it wrote must read back as
//! the same value. See `fuzz/README.md` for how to run each target.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use missionctl_core::Lane;
use missionctl_core::mission::context::MissionSubject;
use missionctl_core::mission::meta::{MissionId, MissionMeta};
use missionctl_core::mission::run::{FeatureRunsIndex, MissionRunSnapshot, RunEventLog};
use missionctl_core::mission::topology::{LanesJsonState, read_topology};
use missionctl_core::mission::workspace_context::WorkspaceContext;
use missionctl_core::next::{is_substantive_plan, is_substantive_spec};
use missionctl_core::planning::lanes_manifest::{self, LanesInput, LanesManifest, compute_lanes};
use missionctl_core::planning::requirement::{
    DeclaredRequirements, RefCheck, RequirementCoverage, RequirementId, declared_ids,
    undeclared_requirement_citations,
};
use missionctl_core::planning::task_plan::{
    WorkPackageEntry, glob_escapes_repository, ready_work, validate_plan,
};
use missionctl_core::planning::work_package::{
    FrontMatter, WorkPackageSummary, set_requirement_refs, split_front_matter,
    summarize_front_matter,
};
use missionctl_core::status::event::LogRow;
use missionctl_core::status::event_log::{self, EventLog};
use missionctl_core::status::log_merge::merge_event_logs;
use missionctl_core::status::reducer::{reduce, reduce_with_identity};
use missionctl_core::status::validate::{SnapshotOnDisk, validate};
use missionctl_core::text::block_yaml::parse_block_mapping;
use serde_json::Value;

/// Asserts that `written`, the bytes a writer produced for `value`, read back as `value`.
fn assert_reads_back<T, E>(
    file: &str,
    value: &T,
    written: &str,
    read: impl Fn(&[u8]) -> Result<T, E>,
) where
    T: PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let again = read(written.as_bytes());
    assert!(
        again.as_ref().is_ok_and(|again| again == value),
        "{file} does not read back: {again:?}\nwritten: {written}\nread first: {value:?}"
    );
}

/// `status.events.jsonl`: the total reader, each row's re-serialization, the reducer and the
/// validator over whatever was read.
pub fn event_log(data: &[u8]) {
    let log = event_log::parse(data);
    for (_, row) in &log.rows {
        let line = match row {
            LogRow::Transition(event) => event.to_json_line(),
            LogRow::Annotation(annotation) => annotation.to_json_line(),
            LogRow::Foreign(_) => continue,
        };
        // What the writer writes is one line the reader reads back as the same row.
        assert!(
            !line.contains('\n'),
            "a serialized row spans lines: {line:?}"
        );
        let again = event_log::parse(line.as_bytes());
        assert!(again.errors.is_empty(), "{:?} for {line}", again.errors);
        assert_eq!(again.rows.len(), 1, "{line}");
        assert_eq!(&again.rows[0].1, row, "the row changed through {line}");
    }
    let _ = log.require_valid();
    let snapshot = reduce(&log);
    let status_json = snapshot.to_status_json();
    let parsed: Option<Value> = serde_json::from_str(&status_json).ok();
    assert!(parsed.is_some(), "status.json is not JSON: {status_json}");
    let _ = reduce_with_identity(&log, None);
    if let Some(parsed) = &parsed {
        let _ = validate(&log, &snapshot, SnapshotOnDisk::Parsed(parsed), true);
    }
    let _ = validate(&log, &snapshot, SnapshotOnDisk::Missing, true);
}

/// The merge driver of event logs: the input is split into base, ours and theirs at lines
/// holding only `%%%`. A merged log merges with itself (alone, or as all three sides) into the
/// same bytes.
pub fn log_merge(data: &[u8]) {
    let sides: Vec<&[u8]> = split_files(data);
    let side = |index: usize| sides.get(index).copied().unwrap_or_default();
    let Ok(merged) = merge_event_logs(side(0), side(1), side(2)) else {
        return;
    };
    let text = String::from_utf8_lossy(&merged);
    assert_eq!(
        merge_event_logs(&merged, &merged, &merged).as_deref(),
        Ok(merged.as_slice()),
        "the merged log does not merge with itself: {text}"
    );
    assert_eq!(
        merge_event_logs(b"", &merged, b"").as_deref(),
        Ok(merged.as_slice()),
        "the merged log is not a fixed point: {text}"
    );
    let _ = reduce(&event_log::parse(&merged));
}

/// Splits a fuzz input into files at lines holding only `%%%`.
fn split_files(data: &[u8]) -> Vec<&[u8]> {
    const SEPARATOR: &[u8] = b"\n%%%\n";
    let mut files = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(SEPARATOR.len())
        .position(|window| window == SEPARATOR)
    {
        files.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    files.push(rest);
    files
}

/// A work-package file: the front-matter split, the YAML model, the quick summary (which must
/// agree with the model) and the block-subset reader (which must agree with the YAML parser).
pub fn front_matter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The YAML text alone, as a front matter, and as the file it is cut from.
    check_front_matter_yaml(text);
    if let Some(split) = split_front_matter(text) {
        check_front_matter_yaml(split.yaml);
        let _ = work_package_entry("tasks/WP01-x.md", text);
    }
}

fn check_front_matter_yaml(yaml: &str) {
    let parsed = FrontMatter::parse(yaml);
    let summary = summarize_front_matter(yaml);
    if let Ok(front) = &parsed {
        assert_eq!(
            summary.as_ref().ok(),
            Some(&WorkPackageSummary::from(front)),
            "the quick summary disagrees with the parser on {yaml:?}"
        );
        let _ = front.mode();
        for key in ["work_package_id", "requirement_refs", "dependencies"] {
            let _ = front.line_of(key);
        }
        let _ = serde_json::to_string(front);
    }
    if let Some(map) = parse_block_mapping(yaml) {
        // A text of blanks and comments is null to the YAML parser, an empty mapping to both
        // readers of front matter.
        let full = match serde_saphyr::from_str::<Value>(yaml) {
            Ok(Value::Null) => Ok(Value::Object(serde_json::Map::new())),
            other => other,
        };
        assert_eq!(
            full.ok(),
            Some(Value::Object(map)),
            "the block reader disagrees with the YAML parser on {yaml:?}"
        );
    }
}

fn work_package_entry(file: &str, text: &str) -> Option<WorkPackageEntry> {
    let split = split_front_matter(text)?;
    let front = FrontMatter::parse(split.yaml).ok()?;
    let entry = WorkPackageEntry {
        file: file.to_owned(),
        line_offset: split.yaml_line_offset,
        front,
        body: split.body.to_owned(),
    };
    let _ = entry.id();
    let _ = entry.lane_input();
    Some(entry)
}

/// `set_requirement_refs`, the in-place editor of a work-package file: it returns an error or
/// a file whose refs are the ones asked for, and editing that file again to the same refs
/// changes no byte.
pub fn requirement_refs_edit(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ref_sets: [&[&str]; 4] = [
        &[],
        &["FR-001"],
        &["C-001", "FR-001", "NFR-002"],
        &["FR-1: x", "\"quoted\"", "- dash", "#", "a\nb", "[", "true"],
    ];
    for refs in ref_sets {
        let refs: Vec<String> = refs.iter().map(|item| (*item).to_owned()).collect();
        let Ok(edited) = set_requirement_refs(text, &refs) else {
            continue;
        };
        let split = split_front_matter(&edited);
        assert!(
            split.is_some(),
            "the edit lost the front matter: {edited:?}"
        );
        if let Some(split) = split {
            let front = FrontMatter::parse(split.yaml);
            assert_eq!(
                front.map(|front| front.requirement_refs).ok(),
                Some(refs.clone()),
                "the edit does not read back: {edited:?}"
            );
        }
        assert_eq!(
            set_requirement_refs(&edited, &refs).as_ref(),
            Ok(&edited),
            "editing again to the same refs changed the file {edited:?}"
        );
    }
}

/// `meta.json`: both parsers, every accessor, the identity and topology readers, and the
/// canonical bytes, which must parse back to the same object.
pub fn meta(data: &[u8]) {
    let _ = MissionMeta::parse(data);
    let Ok(meta) = MissionMeta::parse_bom_tolerant(data) else {
        return;
    };
    let dir = "042-fuzz-mission-01M80ATV";
    let _ = meta.mission_id();
    let _ = meta.mission_id_text();
    let _ = meta.mission_slug();
    let _ = meta.slug();
    let _ = meta.friendly_name();
    let _ = meta.mission_type();
    let _ = meta.target_branch();
    let _ = meta.created_at();
    let _ = meta.coordination_branch();
    let _ = meta.declared_mid8();
    let _ = meta.resolve_declared_mid8(dir);
    let _ = meta.mission_number();
    let _ = meta.stored_topology();
    let _ = meta.flattened();
    let _ = meta.declares_coordination_branch();
    let _ = meta.safe_mission_slug(dir);
    let _ = meta.identity(dir);
    let _ = meta.validate(dir);
    let _ = MissionSubject::from_meta(dir, &meta);
    for lanes in [
        LanesJsonState::Absent,
        LanesJsonState::Present,
        LanesJsonState::Corrupt,
    ] {
        let _ = read_topology(&meta, lanes);
        let _ = meta.clone().flatten_coordination(lanes);
    }
    let _ = reduce_with_identity(&EventLog::default(), Some(meta.as_map()));
    let canonical = meta.to_canonical_string();
    assert_reads_back("canonical meta.json", &meta, &canonical, MissionMeta::parse);
}

/// `lanes.json`: the reader, and the writer's bytes read back as the same manifest.
pub fn lanes_manifest(data: &[u8]) {
    let Ok(manifest) = LanesManifest::parse(data) else {
        return;
    };
    for lane in &manifest.lanes {
        let _ = manifest.lane(&lane.lane_id);
        for wp in &lane.wp_ids {
            let _ = manifest.lane_for_wp(wp);
        }
    }
    assert_reads_back(
        "lanes.json",
        &manifest,
        &manifest.to_json(),
        LanesManifest::parse,
    );
}

/// The run files of `next`: `state.json`, `feature-runs.json` and `run.events.jsonl`, each
/// read, written and read back.
pub fn run_files(data: &[u8]) {
    if let Ok(snapshot) = MissionRunSnapshot::parse(data) {
        let json = snapshot.to_json_string();
        assert_reads_back("state.json", &snapshot, &json, MissionRunSnapshot::parse);
    }
    if let Ok(index) = FeatureRunsIndex::parse(data) {
        let entries = index.entries();
        for (slug, entry) in &entries {
            let _ = index.entry(slug);
            let _ = index.find_by_run_id(&entry.run_id);
            if let Some(mission_id) = &entry.mission_id {
                let _ = index.find_by_mission_id(mission_id);
            }
        }
        let json = index.to_json_string();
        assert_reads_back("feature-runs.json", &index, &json, FeatureRunsIndex::parse);
    }
    let log = RunEventLog::parse(data);
    for event in &log.events {
        let _ = event.step_id();
    }
    let bytes = log.to_bytes();
    let again = RunEventLog::parse(&bytes);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(
        again.events, log.events,
        "run.events.jsonl does not read back"
    );
}

/// A lane's workspace context file (`.kittify/workspaces/<lane>.json`): read, written, read
/// back.
pub fn workspace_context(data: &[u8]) {
    let Ok(context) = WorkspaceContext::parse(data) else {
        return;
    };
    let json = context.to_json();
    assert_reads_back(
        "the workspace context",
        &context,
        &json,
        WorkspaceContext::parse,
    );
}

/// `spec.md` and `plan.md`: the requirement-id scanner and the substance checks of `next`.
pub fn spec_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let declared = DeclaredRequirements::parse(&text);
    let ids = declared.ids();
    for id in &ids {
        let written = id.to_string();
        assert_eq!(
            RequirementId::parse(&written).as_ref(),
            Some(id),
            "{written}"
        );
    }
    let _ = declared.functional().count();
    let refs: Vec<&str> = text.lines().take(64).collect();
    let check = RefCheck::of(refs, &declared);
    for id in check.known.iter().chain(&check.unknown) {
        assert!(RequirementId::parse(&id.to_string()).is_some());
    }
    let _ = RequirementCoverage::of(&declared, &[]);
    let _ = is_substantive_spec(&text);
    let _ = is_substantive_plan(&text);
}

/// A mission's work packages as one plan: the input is split into files at lines holding
/// only `%%%`; each file is read like `tasks/WPnn-*.md`, and the plan is validated, its lanes
/// computed and its ready work sorted. The first file doubles as `spec.md`.
pub fn task_plan(data: &[u8]) {
    let files: Vec<&str> = split_files(data)
        .into_iter()
        .filter_map(|file| std::str::from_utf8(file).ok())
        .collect();
    let entries: Vec<WorkPackageEntry> = files
        .iter()
        .enumerate()
        .filter_map(|(index, file)| {
            work_package_entry(&format!("tasks/WP{:02}-fuzz.md", index + 1), file)
        })
        .collect();
    let report = validate_plan(&entries);
    let _ = report.is_valid();
    for finding in &report.findings {
        let _ = finding.to_string();
    }
    let declared = DeclaredRequirements::parse(files.first().copied().unwrap_or_default());
    let spec = files.first().copied().unwrap_or_default();
    let _ = declared_ids(spec);
    let _ = undeclared_requirement_citations(spec);
    let _ = RequirementCoverage::of(&declared, &entries);
    for entry in &entries {
        for glob in entry.front.owned_files() {
            let _ = glob_escapes_repository(glob);
        }
    }
    let input = LanesInput {
        mission_slug: "fuzz-mission-01M80ATV".to_owned(),
        mission_id: MissionId::parse("01M80ATVXS12D933MY5C51H79M").ok(),
        target_branch: "main".to_owned(),
        computed_at: "2026-01-01T00:00:00+00:00".to_owned(),
        planning_commit_sha: None,
        work_packages: entries.iter().map(WorkPackageEntry::lane_input).collect(),
    };
    if let Ok(manifest) = compute_lanes(&input) {
        assert_reads_back(
            "computed lanes.json",
            &manifest,
            &manifest.to_json(),
            LanesManifest::parse,
        );
    }
    let lanes: BTreeMap<&str, Lane> = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let lane = if index % 3 == 0 {
                Lane::Done
            } else {
                Lane::Planned
            };
            (entry.id(), lane)
        })
        .collect();
    let work: Vec<(&str, &[String])> = entries
        .iter()
        .map(|entry| (entry.id(), entry.front.dependencies.as_slice()))
        .collect();
    let _ = ready_work(work, |id| lanes.get(id).copied());
    for entry in &entries {
        for glob in entry.front.owned_files() {
            for other in entries.iter().flat_map(|other| other.front.owned_files()) {
                let _ = lanes_manifest::globs_overlap(glob, other);
            }
        }
    }
}
