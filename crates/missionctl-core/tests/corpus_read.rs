//! Every file of the conformance corpus is read without panic, and nothing is dropped.
//!
//! - every `status.events.jsonl` parses with zero row errors, and its rows plus its blank
//!   lines account for every line (foreign rows are counted, never dropped);
//! - every row whose line has exactly the current writer's key set is reproduced byte for
//!   byte by [`StatusEvent::to_json_line`] or [`Annotation::to_json_line`], and so is every
//!   row in the repair tool's shape (the same keys plus an explicit `"review_result": null`)
//!   once that key is put back;
//! - every other `*.jsonl` line, every `*.json` file and every YAML file parses;
//! - every `meta.json` goes through the snapshot identity rules.
//!
//! The vendored fixtures always run; the full corpus and Spec Kitty's peer run run when
//! `MISSIONCTL_CONFORMANCE_DIR` is set or `../shared/conformance` exists beside the
//! workspace. Run with `--nocapture` to see the counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use missionctl_core::status::event::{Annotation, LogRow, StatusEvent};
use missionctl_core::status::event_log;
use missionctl_core::status::reducer::reduce_with_identity;
use missionctl_core::status::snapshot::SnapshotIdentity;
use missionctl_core::text::pyjson::{self, Style};

/// The keys of a transition row as Spec Kitty's current writer emits it (`mission_id` and
/// `review_result` are optional).
const TRANSITION_KEYS: [&str; 13] = [
    "actor",
    "at",
    "event_id",
    "evidence",
    "execution_mode",
    "force",
    "from_lane",
    "mission_slug",
    "policy_metadata",
    "reason",
    "review_ref",
    "to_lane",
    "wp_id",
];

const ANNOTATION_KEYS: [&str; 6] = ["actor", "at", "delta", "event_id", "kind", "wp_id"];

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
    base.is_dir().then_some(base)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// What was read, and what went wrong.
#[derive(Default)]
struct Tally {
    files: usize,
    logs: usize,
    lines: usize,
    blank_lines: usize,
    transitions: usize,
    annotations: usize,
    foreign: BTreeMap<String, usize>,
    json_files: usize,
    other_jsonl_lines: usize,
    yaml_files: usize,
    other_files: usize,
    not_utf8: usize,
    meta_identity_errors: usize,
    transitions_writer_shaped: usize,
    transitions_round_tripped: usize,
    transitions_repair_shaped: usize,
    transitions_repair_round_tripped: usize,
    annotations_writer_shaped: usize,
    annotations_round_tripped: usize,
    failures: Vec<String>,
}

impl Tally {
    fn report(&self, name: &str) {
        let foreign: usize = self.foreign.values().sum();
        println!("{name}: {} files", self.files);
        println!(
            "  {} logs, {} lines: {} transitions, {} annotations, {foreign} foreign rows, {} blank",
            self.logs, self.lines, self.transitions, self.annotations, self.blank_lines
        );
        for (kind, count) in &self.foreign {
            println!("    foreign {kind}: {count}");
        }
        println!(
            "  round trip: {}/{} current-writer transitions, {}/{} annotations ({} transitions and {} annotations have other shapes)",
            self.transitions_round_tripped,
            self.transitions_writer_shaped,
            self.annotations_round_tripped,
            self.annotations_writer_shaped,
            self.transitions - self.transitions_writer_shaped - self.transitions_repair_shaped,
            self.annotations - self.annotations_writer_shaped,
        );
        println!(
            "  repair-tool rows (explicit \"review_result\": null): {}/{} reproduced with that key re-inserted",
            self.transitions_repair_round_tripped, self.transitions_repair_shaped,
        );
        println!(
            "  {} JSON files, {} other JSONL lines, {} YAML files, {} other files ({} not UTF-8), {} meta.json identity errors",
            self.json_files,
            self.other_jsonl_lines,
            self.yaml_files,
            self.other_files,
            self.not_utf8,
            self.meta_identity_errors
        );
    }

    fn assert_clean(&self) {
        assert!(
            self.failures.is_empty(),
            "{} problems:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// Returns true for the characters Python's `str.strip()` removes.
fn is_python_space(ch: char) -> bool {
    ch.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&ch)
}

/// Splits a file into its lines, without the empty piece after a final newline.
fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|byte| *byte == b'\n').collect();
    if lines.last().is_some_and(|last| last.is_empty()) {
        lines.pop();
    }
    lines
}

fn is_blank(line: &[u8]) -> bool {
    std::str::from_utf8(line).is_ok_and(|text| text.trim_matches(is_python_space).is_empty())
}

fn key_set(line: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(line) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Returns true when a transition line has exactly the current writer's key set, with
/// `mission_id` and `review_result` either absent or not null.
fn is_writer_shaped_transition(map: &Map<String, Value>) -> bool {
    let optional = ["mission_id", "review_result"];
    TRANSITION_KEYS.iter().all(|key| map.contains_key(*key))
        && map
            .keys()
            .all(|key| TRANSITION_KEYS.contains(&key.as_str()) || optional.contains(&key.as_str()))
        && optional
            .iter()
            .all(|key| map.get(*key).is_none_or(|value| !value.is_null()))
}

/// Returns true for the repair tool's canonical shape: the writer's keys with `mission_id`
/// and an explicit `"review_result": null`.
fn is_repair_shaped_transition(map: &Map<String, Value>) -> bool {
    map.get("review_result").is_some_and(Value::is_null) && {
        let mut rest = map.clone();
        rest.remove("review_result");
        is_writer_shaped_transition(&rest)
    }
}

fn is_writer_shaped_annotation(map: &Map<String, Value>) -> bool {
    map.len() == ANNOTATION_KEYS.len() && ANNOTATION_KEYS.iter().all(|key| map.contains_key(*key))
}

fn check_log(path: &Path, bytes: &[u8], meta: Option<&Map<String, Value>>, tally: &mut Tally) {
    tally.logs += 1;
    let log = event_log::parse(bytes);
    for error in &log.errors {
        tally
            .failures
            .push(format!("{}:{}: {error}", path.display(), error.line));
    }
    let lines = lines_of(bytes);
    tally.lines += lines.len();
    let blank: BTreeSet<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| is_blank(line))
        .map(|(index, _)| index + 1)
        .collect();
    tally.blank_lines += blank.len();
    let accounted: BTreeSet<usize> = log
        .rows
        .iter()
        .map(|(line, _)| *line)
        .chain(log.errors.iter().map(|error| error.line))
        .chain(blank.iter().copied())
        .collect();
    if accounted.len() != lines.len()
        || log.rows.len() + log.errors.len() + blank.len() != lines.len()
    {
        tally.failures.push(format!(
            "{}: {} rows + {} errors + {} blank lines do not account for {} lines",
            path.display(),
            log.rows.len(),
            log.errors.len(),
            blank.len(),
            lines.len()
        ));
    }
    for (line_number, row) in &log.rows {
        let original = lines
            .get(line_number - 1)
            .and_then(|line| std::str::from_utf8(line).ok())
            .unwrap_or("");
        match row {
            LogRow::Transition(event) => {
                tally.transitions += 1;
                check_round_trip(
                    path,
                    *line_number,
                    original,
                    RoundTrip::Transition(event),
                    tally,
                );
            }
            LogRow::Annotation(annotation) => {
                tally.annotations += 1;
                check_round_trip(
                    path,
                    *line_number,
                    original,
                    RoundTrip::Annotation(annotation),
                    tally,
                );
            }
            LogRow::Foreign(foreign) => {
                let name = foreign.name.as_deref().unwrap_or("(unnamed)");
                let key = match foreign.kind {
                    missionctl_core::status::event::ForeignKind::RetrospectiveStream => {
                        format!("retrospective stream {name}")
                    }
                    missionctl_core::status::event::ForeignKind::RetrospectiveEnvelope => {
                        format!("retrospective envelope {name}")
                    }
                    missionctl_core::status::event::ForeignKind::Lifecycle => {
                        format!("lifecycle {name}")
                    }
                };
                *tally.foreign.entry(key).or_default() += 1;
            }
        }
    }
    // An identity error is counted where `meta.json` itself is read.
    if let Ok(snapshot) = reduce_with_identity(&log, meta) {
        let _ = snapshot.to_status_json();
    }
}

enum RoundTrip<'a> {
    Transition(&'a StatusEvent),
    Annotation(&'a Annotation),
}

fn check_round_trip(
    path: &Path,
    line_number: usize,
    original: &str,
    row: RoundTrip<'_>,
    tally: &mut Tally,
) {
    let Some(map) = key_set(original) else {
        return;
    };
    let written = match row {
        RoundTrip::Transition(event) if is_repair_shaped_transition(&map) => {
            // `doctor mission-state --fix` writes the canonical key set with an explicit
            // `"review_result": null`, which the current writer omits; the rest of the row
            // must still match.
            tally.transitions_repair_shaped += 1;
            let mut value = event.to_value();
            if let Value::Object(object) = &mut value {
                object.insert("review_result".to_owned(), Value::Null);
            }
            pyjson::to_string(&value, Style::Compact)
        }
        RoundTrip::Transition(event) => {
            if !is_writer_shaped_transition(&map) {
                return;
            }
            tally.transitions_writer_shaped += 1;
            event.to_json_line()
        }
        RoundTrip::Annotation(annotation) => {
            if !is_writer_shaped_annotation(&map) {
                return;
            }
            tally.annotations_writer_shaped += 1;
            annotation.to_json_line()
        }
    };
    if written == original {
        match row {
            RoundTrip::Transition(_) if is_repair_shaped_transition(&map) => {
                tally.transitions_repair_round_tripped += 1;
            }
            RoundTrip::Transition(_) => tally.transitions_round_tripped += 1,
            RoundTrip::Annotation(_) => tally.annotations_round_tripped += 1,
        }
        return;
    }
    let at = written
        .bytes()
        .zip(original.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(written.len().min(original.len()));
    let window = |text: &str| {
        let start = at.saturating_sub(40);
        text.get(start..(at + 40).min(text.len()))
            .unwrap_or(text)
            .to_owned()
    };
    tally.failures.push(format!(
        "{}:{line_number}: written row differs at byte {at}:\n  written  …{}…\n  original …{}…",
        path.display(),
        window(&written),
        window(original)
    ));
}

fn check_yaml(path: &Path, text: &str, tally: &mut Tally) {
    tally.yaml_files += 1;
    let parsed = std::panic::catch_unwind(|| serde_saphyr::from_str::<Value>(text));
    match parsed {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tally
            .failures
            .push(format!("{}: invalid YAML: {error}", path.display())),
        Err(_) => tally
            .failures
            .push(format!("{}: the YAML parser panicked", path.display())),
    }
}

fn check_file(path: &Path, tally: &mut Tally) {
    tally.files += 1;
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or("");
    if name == "status.events.jsonl" {
        let meta: Option<Map<String, Value>> = path
            .parent()
            .and_then(|dir| std::fs::read(dir.join("meta.json")).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        check_log(path, &bytes, meta.as_ref(), tally);
        return;
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        tally.not_utf8 += 1;
        tally.other_files += 1;
        return;
    };
    match extension {
        "jsonl" => {
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                tally.other_jsonl_lines += 1;
                if let Err(error) = serde_json::from_str::<Value>(line) {
                    tally
                        .failures
                        .push(format!("{}:{}: {error}", path.display(), index + 1));
                }
            }
        }
        "json" => {
            tally.json_files += 1;
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) if name == "meta.json" => {
                    if SnapshotIdentity::from_meta(Some(&map), "").is_err() {
                        tally.meta_identity_errors += 1;
                    }
                }
                Ok(_) => {}
                Err(error) => tally
                    .failures
                    .push(format!("{}: invalid JSON: {error}", path.display())),
            }
        }
        "yaml" | "yml" => check_yaml(path, text, tally),
        _ => tally.other_files += 1,
    }
}

fn read_tree(root: &Path, name: &str) -> Tally {
    let mut files = Vec::new();
    files_under(root, &mut files);
    let mut tally = Tally::default();
    for path in &files {
        check_file(path, &mut tally);
    }
    tally.report(name);
    tally
}

#[test]
fn vendored_fixtures_read_without_panic() {
    let tally = read_tree(
        &workspace_root().join("tests/fixtures/missions"),
        "vendored fixtures",
    );
    assert!(tally.logs >= 40, "expected at least 40 vendored logs");
    assert!(tally.transitions_round_tripped > 0);
    tally.assert_clean();
}

#[test]
fn full_corpus_reads_without_panic() {
    let Some(base) = conformance_dir() else {
        println!("conformance corpus not present; full corpus skipped");
        return;
    };
    let tally = read_tree(&base.join("spec-kitty-missions"), "spec-kitty-missions");
    assert!(tally.logs >= 300, "expected at least 300 logs");
    assert!(
        tally.foreign.values().sum::<usize>() > 0,
        "the corpus has foreign rows"
    );
    tally.assert_clean();
}

#[test]
fn peer_run_reads_without_panic() {
    let Some(base) = conformance_dir() else {
        println!("conformance corpus not present; peer run skipped");
        return;
    };
    let tally = read_tree(&base.join("peer-run-3.2.7"), "peer-run-3.2.7");
    assert!(tally.logs >= 2, "the peer run has status logs");
    assert!(
        tally.transitions_round_tripped > 0,
        "a 3.2.7 run writes current-writer rows"
    );
    tally.assert_clean();
}
