//! A mission's retrospective, as Spec Kitty 3.2.7's generator writes it after a merge:
//! `kitty-specs/<mission>/retrospective.yaml` and the `RetrospectiveCaptured` row appended to
//! the mission's event log.
//!
//! The findings are Spec Kitty's rules over the event log and the mission's files, in its
//! order and words: work packages completed without rejection (when anything went wrong),
//! review rejections, lane bounces, `--force` overrides, arbiter overrides, repeated
//! implementation cycles, open clarification markers, requirements no work package names,
//! missing `research.md` / `data-model.md`, and the mission-local reports (workflow failures,
//! analysis and review reports, tracers). Evidence references are numbered as they are first
//! used. The YAML is ruamel's block style at width 120, continuation lines without their
//! trailing space. The retrospective policy is always Spec Kitty's default (every source
//! `<default>`, no proposals).

use serde_json::{Map, Value};

use crate::status::event::python_str;
use crate::text::pyjson::truthy;

/// The generator version Spec Kitty records.
pub const GENERATOR_VERSION: &str = "1.0";

/// The retrospective policy keys, in Spec Kitty's order, each resolved from `<default>`.
const POLICY_KEYS: [&str; 15] = [
    "enabled",
    "timing",
    "failure_policy",
    "write_record",
    "generate_proposals",
    "apply_proposals",
    "permissions.write_record",
    "permissions.inspect_mission_artifacts",
    "permissions.propose_glossary_changes",
    "permissions.propose_drg_changes",
    "permissions.propose_doctrine_changes",
    "permissions.apply_low_risk_changes",
    "permissions.apply_structural_changes",
    "precedence",
    "generator",
];

/// Actors whose forced rows are structural, not overrides.
const BOOTSTRAP_ACTORS: [&str; 3] = ["finalize-tasks", "bootstrap", "migrate"];

const ARBITER_MARKERS: [&str; 4] = [
    "arbiter",
    "arbiter-override",
    "arbiter override",
    "override arbiter",
];

const TRACE_GAP_MARKERS: [&str; 5] = [
    "candidate gap",
    "candidate-gap",
    "open (",
    "open)",
    "**open",
];
const TRACE_HELPED_MARKERS: [&str; 6] = [
    "no gap",
    "expected",
    "worked as designed",
    "**fixed",
    "fixed —",
    "fixed -",
];

/// What the generator reads: the mission's files and its event log.
#[derive(Debug, Clone, Default)]
pub struct RetrospectiveInput<'a> {
    /// The mission directory's name under `kitty-specs/`.
    pub dir_name: &'a str,
    /// `meta.json` (empty when missing or unreadable).
    pub meta: Map<String, Value>,
    /// `spec.md`, `plan.md`, `tasks.md` (empty when missing).
    pub spec: String,
    /// `plan.md`.
    pub plan: String,
    /// `tasks.md`.
    pub tasks: String,
    /// `research.md`, when it exists.
    pub research: Option<String>,
    /// `data-model.md`, when it exists.
    pub data_model: Option<String>,
    /// `workflow-failures-log.md`, when it exists.
    pub workflow_failures: Option<String>,
    /// `analysis-report.md`, when it exists.
    pub analysis_report: Option<String>,
    /// `mission-review-report.md`, when it exists.
    pub review_report: Option<String>,
    /// `traces/*.md` by file name, sorted: `(name, text)`.
    pub traces: Vec<(String, String)>,
    /// `tasks/WP*.md` by file name, sorted: `(name, text)`.
    pub wp_files: Vec<(String, String)>,
    /// The event log's rows that are JSON objects, in file order.
    pub events: Vec<Map<String, Value>>,
    /// When the generator ran (ISO UTC with microseconds, `+00:00`).
    pub invoked_at: &'a str,
    /// The target branch when `meta.json` names none (the primary branch).
    pub fallback_target_branch: &'a str,
}

/// A generated retrospective.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrospective {
    /// The bytes of `retrospective.yaml`.
    pub yaml: String,
    /// `has_findings` or `ran_no_findings`.
    pub findings_status: &'static str,
    /// How many evidence references it holds.
    pub evidence_ref_count: usize,
    /// The mission id (`""` when `meta.json` has none).
    pub mission_id: String,
    /// The mission slug.
    pub mission_slug: String,
}

struct Finding {
    id: String,
    category: &'static str,
    summary: String,
    evidence_refs: Vec<String>,
    details: Option<String>,
}

struct EvidenceRef {
    id: String,
    kind: &'static str,
    path: String,
    range: Option<String>,
}

#[derive(Default)]
struct Registry {
    refs: Vec<EvidenceRef>,
    keys: Vec<(String, String)>,
}

impl Registry {
    fn lookup(&self, key: &str) -> Option<String> {
        self.keys
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, id)| id.clone())
    }

    fn add_file(&mut self, path: &str) -> String {
        self.add(path.to_owned(), "file", path, None)
    }

    fn add_range(&mut self, path: &str, range: String, key: &str) -> String {
        self.add(format!("{path}:{key}"), "event_range", path, Some(range))
    }

    /// The reference of the events of `wp` in `events` (the log at `path`) that `matches`:
    /// their id range, or `key` when none has an id; registered once as `<key>_<wp>`.
    fn add_events_of(
        &mut self,
        path: &str,
        events: &[Map<String, Value>],
        wp: &str,
        wp_of: fn(&Map<String, Value>) -> &str,
        matches: impl Fn(&Map<String, Value>) -> bool,
        key: &str,
    ) -> String {
        let range = id_range(events, wp, wp_of, matches);
        self.add_range(path, or_else(range, key), &format!("{key}_{wp}"))
    }

    /// Returns the id of the reference registered under `key`, registering it first.
    fn add(
        &mut self,
        key: String,
        kind: &'static str,
        path: &str,
        range: Option<String>,
    ) -> String {
        if let Some(id) = self.lookup(&key) {
            return id;
        }
        let id = format!("e-{:03}", self.refs.len() + 1);
        self.keys.push((key, id.clone()));
        self.refs.push(EvidenceRef {
            id: id.clone(),
            kind,
            path: path.to_owned(),
            range,
        });
        id
    }
}

#[derive(Default)]
struct Ids {
    counters: Vec<(char, usize)>,
}

impl Ids {
    fn next(&mut self, prefix: char) -> String {
        let slot = match self.counters.iter().position(|(p, _)| *p == prefix) {
            Some(slot) => slot,
            None => {
                self.counters.push((prefix, 0));
                self.counters.len() - 1
            }
        };
        self.counters[slot].1 += 1;
        format!("{prefix}-{:03}", self.counters[slot].1)
    }
}

fn field<'a>(event: &'a Map<String, Value>, key: &str) -> &'a str {
    event.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `str(event.get("actor", "")).lower()`.
fn actor_lower(event: &Map<String, Value>) -> String {
    match event.get("actor") {
        None => String::new(),
        Some(Value::String(text)) => text.to_lowercase(),
        Some(other) => crate::status::event::python_repr(other).to_lowercase(),
    }
}

fn has_review_feedback(event: &Map<String, Value>) -> bool {
    if truthy(event.get("review_ref")) {
        return true;
    }
    match event.get("evidence") {
        Some(Value::Object(evidence)) => match evidence.get("review") {
            Some(Value::Object(review)) => {
                truthy(review.get("reference"))
                    && review.get("verdict").and_then(Value::as_str) == Some("changes_requested")
            }
            _ => false,
        },
        Some(Value::String(text)) => !text.trim().is_empty(),
        _ => false,
    }
}

fn is_backward(event: &Map<String, Value>) -> bool {
    let from = field(event, "from_lane");
    let to = field(event, "to_lane");
    matches!(
        (from, to),
        (
            "for_review" | "in_review",
            "planned" | "in_progress" | "claimed"
        ) | ("in_progress", "planned" | "claimed")
    )
}

fn is_rejection(event: &Map<String, Value>) -> bool {
    field(event, "from_lane") == "in_review"
        && matches!(
            field(event, "to_lane"),
            "planned" | "in_progress" | "claimed"
        )
        && has_review_feedback(event)
}

fn is_friction(event: &Map<String, Value>) -> bool {
    is_backward(event) && !is_rejection(event)
}

fn is_force_override(event: &Map<String, Value>) -> bool {
    truthy(event.get("force"))
        && !BOOTSTRAP_ACTORS.contains(&actor_lower(event).as_str())
        && event.get("from_lane") != event.get("to_lane")
}

fn is_self_approval(event: &Map<String, Value>) -> bool {
    event.get("event_type").and_then(Value::as_str) == Some("ReviewerSelfApproval")
}

fn event_note(event: &Map<String, Value>) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(reason) = event.get("reason").and_then(Value::as_str)
        && !reason.trim().is_empty()
    {
        parts.push(reason);
    }
    if let Some(Value::Object(evidence)) = event.get("evidence") {
        for key in ["note", "reason"] {
            if let Some(text) = evidence.get(key).and_then(Value::as_str)
                && !text.trim().is_empty()
            {
                parts.push(text);
            }
        }
    }
    parts.join(" ").to_lowercase()
}

fn is_arbiter(event: &Map<String, Value>) -> bool {
    let note = event_note(event);
    !note.is_empty() && ARBITER_MARKERS.iter().any(|marker| note.contains(marker))
}

/// The work package of a row, also from a lifecycle payload.
fn event_wp_id(event: &Map<String, Value>) -> &str {
    match event.get("wp_id") {
        Some(Value::String(wp)) if !wp.is_empty() => wp,
        _ => event
            .get("payload")
            .and_then(Value::as_object)
            .and_then(|payload| payload.get("wp_id"))
            .and_then(Value::as_str)
            .unwrap_or(""),
    }
}

/// Counts matching rows per work package (`wp_id` of the row), sorted by work package.
fn count_by_wp(
    events: &[Map<String, Value>],
    wp_of: fn(&Map<String, Value>) -> &str,
    matches: impl Fn(&Map<String, Value>) -> bool,
) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for event in events {
        let wp = wp_of(event);
        if !wp.is_empty() && matches(event) {
            *counts.entry(wp.to_owned()).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

fn plain_wp_id(event: &Map<String, Value>) -> &str {
    field(event, "wp_id")
}

/// `first..last` of the matching rows' ids, or the one id, or `""`.
fn id_range(
    events: &[Map<String, Value>],
    wp_id: &str,
    wp_of: fn(&Map<String, Value>) -> &str,
    matches: impl Fn(&Map<String, Value>) -> bool,
) -> String {
    let ids: Vec<String> = events
        .iter()
        .filter(|event| wp_of(event) == wp_id && matches(event))
        .map(|event| match event.get("event_id") {
            None => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => python_str(other),
        })
        .collect();
    match ids.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, .., last] => format!("{first}..{last}"),
    }
}

fn or_else(range: String, fallback: &str) -> String {
    if range.is_empty() {
        fallback.to_owned()
    } else {
        range
    }
}

fn is_word_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Every `\bFR-\d{3,}\b` of a text.
fn fr_refs(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(at) = text[offset..].find("FR-") {
        let start = offset + at;
        offset = start + 3;
        if text[..start].chars().next_back().is_some_and(is_word_char) {
            continue;
        }
        let digits: String = text[start + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let end = start + 3 + digits.len();
        if digits.len() >= 3 && !text[end..].chars().next().is_some_and(is_word_char) {
            found.push(format!("FR-{digits}"));
        }
    }
    found
}

fn is_heading(line: &str) -> bool {
    let hashes = line.chars().take_while(|ch| *ch == '#').count();
    (1..=6).contains(&hashes) && line[hashes..].starts_with(char::is_whitespace)
}

/// `spec.md` has a `Key Entities` heading with at least one named `- **Entity**` bullet.
fn declares_domain_entities(spec: &str) -> bool {
    let mut lines = spec.lines();
    let found = lines.by_ref().any(|line| {
        let hashes = line.chars().take_while(|ch| *ch == '#').count();
        (1..=6).contains(&hashes)
            && line[hashes..].starts_with(char::is_whitespace)
            && line[hashes..]
                .trim_start()
                .to_lowercase()
                .starts_with("key entities")
    });
    if !found {
        return false;
    }
    for line in lines {
        if is_heading(line) {
            return false;
        }
        let rest = line.trim_start();
        let Some(rest) = rest.strip_prefix(['-', '*']) else {
            continue;
        };
        if !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let Some(rest) = rest.trim_start().strip_prefix("**") else {
            continue;
        };
        if rest.starts_with('[') {
            continue;
        }
        let name_len = rest.find(['*', '\n']).unwrap_or(rest.len());
        if name_len > 0 && rest[name_len..].starts_with("**") {
            return true;
        }
    }
    false
}

/// Tracer entries: `(summary, body)` of each numbered or bulleted item with a bold lead.
fn trace_entries(text: &str) -> Vec<(String, String)> {
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let lead = &line[..line.len() - trimmed.len()];
        let marker = if let Some(rest) = trimmed.strip_prefix(['-', '*']) {
            Some(rest)
        } else {
            let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
            (digits > 0)
                .then(|| trimmed[digits..].strip_prefix('.'))
                .flatten()
        };
        if let Some(rest) = marker
            && rest.starts_with(char::is_whitespace)
            && let Some(bold) = rest.trim_start().strip_prefix("**")
            && let Some(end) = bold.find("**")
            && end > 0
            && !bold[..end].contains('\n')
        {
            let _ = lead;
            starts.push((offset, bold[..end].trim().to_owned()));
        }
        offset += line.len();
    }
    let mut entries = Vec::new();
    for (index, (start, summary)) in starts.iter().enumerate() {
        if summary.is_empty() {
            continue;
        }
        let end = starts.get(index + 1).map_or(text.len(), |next| next.0);
        entries.push((summary.clone(), text[*start..end].trim().to_owned()));
    }
    entries
}

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Generates the retrospective (see the [module](self) documentation).
pub fn generate(input: &RetrospectiveInput<'_>) -> Retrospective {
    let dir = input.dir_name;
    let rel = |name: &str| format!("kitty-specs/{dir}/{name}");
    let (spec_rel, events_rel) = (rel("spec.md"), rel("status.events.jsonl"));
    let mut registry = Registry::default();
    if !input.meta.is_empty() {
        registry.add_file(&rel("meta.json"));
    }
    for (text, name) in [
        (&input.spec, "spec.md"),
        (&input.plan, "plan.md"),
        (&input.tasks, "tasks.md"),
    ] {
        if !text.is_empty() {
            registry.add_file(&rel(name));
        }
    }
    let mut wp_evidence: Vec<(String, String)> = Vec::new();
    for (name, _) in &input.wp_files {
        let id = registry.add_file(&rel(&format!("tasks/{name}")));
        wp_evidence.push((name.clone(), id));
    }
    let events = &input.events;
    if !events.is_empty() {
        registry.add_file(&events_rel);
    }

    let mut ids = Ids::default();
    let mut helped: Vec<Finding> = Vec::new();
    let mut not_helpful: Vec<Finding> = Vec::new();
    let mut gaps: Vec<Finding> = Vec::new();

    let rejections = count_by_wp(events, plain_wp_id, is_rejection);
    let friction = count_by_wp(events, plain_wp_id, is_friction);
    let mut done: Vec<String> = events
        .iter()
        .filter(|event| matches!(field(event, "to_lane"), "done" | "approved"))
        .map(|event| field(event, "wp_id").to_owned())
        .filter(|wp| !wp.is_empty())
        .collect();
    done.sort();
    done.dedup();
    let has_reports = [
        &input.workflow_failures,
        &input.analysis_report,
        &input.review_report,
    ]
    .iter()
    .any(|text| text.as_deref().is_some_and(|text| !text.is_empty()));
    if !rejections.is_empty() || !friction.is_empty() || has_reports {
        for wp in &done {
            let listed = |counts: &[(String, usize)]| counts.iter().any(|(known, _)| known == wp);
            if listed(&rejections) || listed(&friction) {
                continue;
            }
            let file = format!("{wp}.md");
            let refs = match wp_evidence.iter().find(|(name, _)| *name == file) {
                Some((_, id)) => vec![id.clone()],
                None if !events.is_empty() => vec![registry.add_file(&events_rel)],
                None => Vec::new(),
            };
            if !refs.is_empty() {
                helped.push(Finding {
                    id: ids.next('h'),
                    category: "implementation",
                    summary: format!("{wp} completed without rejection cycles"),
                    evidence_refs: refs,
                    details: None,
                });
            }
        }
    }
    for (wp, count) in &rejections {
        let evidence = registry.add_events_of(
            &events_rel,
            events,
            wp,
            plain_wp_id,
            |event| {
                matches!(field(event, "from_lane"), "for_review" | "in_review")
                    && matches!(
                        field(event, "to_lane"),
                        "planned" | "in_progress" | "claimed"
                    )
            },
            "rejection",
        );
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "review_loop",
            summary: format!("{wp} required {count} rejection cycle(s) before approval"),
            evidence_refs: vec![evidence],
            details: Some(format!(
                "WP {wp} was sent back from review to planning {count} time(s)."
            )),
        });
    }
    for (wp, count) in &friction {
        let evidence = registry.add_events_of(
            &events_rel,
            events,
            wp,
            plain_wp_id,
            is_friction,
            "lane_friction",
        );
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "process",
            summary: format!("{wp} had {count} lane bounce(s) before approval"),
            evidence_refs: vec![evidence],
            details: Some(format!(
                "WP {wp} moved backward across workflow lanes {count} time(s) outside the \
                 documented reviewer-feedback flow."
            )),
        });
    }
    for (wp, count) in count_by_wp(events, plain_wp_id, is_force_override) {
        let evidence = registry.add_events_of(
            &events_rel,
            events,
            &wp,
            event_wp_id,
            is_force_override,
            "force_override",
        );
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "process",
            summary: format!("{wp} required {count} --force override(s) during workflow"),
            evidence_refs: vec![evidence],
            details: Some(format!(
                "WP {wp} required {count} operator-driven --force lane transition(s). Force \
                 overrides typically indicate the runtime guard failed or the operator routed \
                 around it; investigate the underlying cause."
            )),
        });
    }
    for (wp, count) in count_by_wp(events, event_wp_id, is_self_approval) {
        let evidence = registry.add_events_of(
            &events_rel,
            events,
            &wp,
            event_wp_id,
            is_self_approval,
            "reviewer_self_approval",
        );
        let payload = events
            .iter()
            .find(|event| event_wp_id(event) == wp && is_self_approval(event))
            .and_then(|event| event.get("payload"))
            .and_then(Value::as_object);
        let get = |key: &str, fallback: &str| {
            payload
                .and_then(|payload| payload.get(key))
                .filter(|value| truthy(Some(value)))
                .map_or_else(|| fallback.to_owned(), python_str)
        };
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "process",
            summary: format!("{wp} used self-review fallback instead of independent review"),
            evidence_refs: vec![evidence],
            details: Some(format!(
                "WP {wp} recorded {count} ReviewerSelfApproval event(s): {} self-reviewed after \
                 intended reviewer {} failed ({}). Treat this as a review-independence gap.",
                get("implementing_actor", "unknown"),
                get("intended_reviewer", "unknown"),
                get("failure_reason", "reviewer_failed"),
            )),
        });
    }
    for (wp, count) in count_by_wp(events, plain_wp_id, is_arbiter) {
        let evidence =
            registry.add_events_of(&events_rel, events, &wp, event_wp_id, is_arbiter, "arbiter");
        gaps.push(Finding {
            id: ids.next('g'),
            category: "process",
            summary: format!("Arbiter override needed for {wp} ({count}x)"),
            evidence_refs: vec![evidence],
            details: Some(format!(
                "WP {wp} required {count} arbiter override(s). Arbiter overrides are an escape \
                 hatch; recurring use suggests the normal review path is blocked and the \
                 underlying policy/guard may need adjustment."
            )),
        });
    }
    let cycles = count_by_wp(events, plain_wp_id, |event| {
        !BOOTSTRAP_ACTORS.contains(&actor_lower(event).as_str())
            && matches!(field(event, "from_lane"), "planned" | "claimed")
            && field(event, "to_lane") == "in_progress"
    });
    for (wp, count) in cycles.into_iter().filter(|(_, count)| *count > 1) {
        let evidence = registry.add_range(
            &events_rel,
            "implementation_cycles".to_owned(),
            &format!("impl_cycles_{wp}"),
        );
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "implementation",
            summary: format!("{wp} needed {count} implementation cycles"),
            evidence_refs: vec![evidence],
            details: Some(format!(
                "WP {wp} entered in_progress {count} times. Multiple implementation cycles \
                 suggest rework not captured as a documented review rejection; the WP scope or \
                 contract may need refinement."
            )),
        });
    }
    let spec = input.spec.as_str();
    if !spec.is_empty() {
        let lower = spec.to_lowercase();
        let needle = "[needs clarification:";
        let mut offset = 0;
        while let Some(at) = lower[offset..].find(needle) {
            let start = offset + at;
            offset = start + needle.len();
            let line = lower[..start].matches('\n').count() + 1;
            let evidence = registry.add_file(&spec_rel);
            gaps.push(Finding {
                id: ids.next('g'),
                category: "spec_quality",
                summary: format!("Unresolved clarification marker in spec.md (line {line})"),
                evidence_refs: vec![evidence],
                details: Some(format!(
                    "Found '[NEEDS CLARIFICATION:' marker at line {line} of spec.md. This \
                     indicates a specification gap that was not resolved before implementation."
                )),
            });
        }
    }
    if !spec.is_empty() && !input.wp_files.is_empty() {
        let covered: std::collections::BTreeSet<String> = input
            .wp_files
            .iter()
            .flat_map(|(_, text)| fr_refs(text))
            .collect();
        let mut unmapped: Vec<String> = fr_refs(spec)
            .into_iter()
            .filter(|fr| !covered.contains(fr))
            .collect();
        unmapped.sort();
        unmapped.dedup();
        for fr in unmapped {
            let evidence = registry.add_file(&spec_rel);
            gaps.push(Finding {
                id: ids.next('g'),
                category: "spec_quality",
                summary: format!("{fr} defined in spec.md has no WP coverage"),
                evidence_refs: vec![evidence],
                details: Some(format!(
                    "Requirement {fr} appears in spec.md but is not referenced by any work \
                     package task file. It may be unimplemented."
                )),
            });
        }
    }
    if !spec.is_empty() {
        if input.research.is_none() {
            gaps.push(Finding {
                id: ids.next('g'),
                category: "doc",
                summary: "research.md absent".to_owned(),
                evidence_refs: vec![registry.add_file(&spec_rel)],
                details: Some(
                    "spec.md is present but research.md is missing. Research artifacts help \
                     future maintainers understand design decisions."
                        .to_owned(),
                ),
            });
        }
        if input.data_model.is_none() && declares_domain_entities(spec) {
            gaps.push(Finding {
                id: ids.next('g'),
                category: "doc",
                summary: "data-model.md absent".to_owned(),
                evidence_refs: vec![registry.add_file(&spec_rel)],
                details: Some(
                    "spec.md declares domain entities but data-model.md is missing. A data model \
                     document clarifies domain entity relationships."
                        .to_owned(),
                ),
            });
        }
    }
    if let Some(text) = &input.workflow_failures {
        let failures: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("- [ ] FAIL:") || line.starts_with("### FAIL:"))
            .collect();
        let path = rel("workflow-failures-log.md");
        if failures.is_empty() {
            helped.push(Finding {
                id: ids.next('h'),
                category: "process",
                summary: "workflow-failures-log.md present with no recorded failures".to_owned(),
                evidence_refs: vec![registry.add_file(&path)],
                details: Some(
                    "A workflow-failures-log.md file is present but contains no structured \
                     failure entries (lines starting with '- [ ] FAIL:' or '### FAIL:'). This \
                     may indicate all workflows completed cleanly."
                        .to_owned(),
                ),
            });
        }
        for failure in failures {
            not_helpful.push(Finding {
                id: ids.next('n'),
                category: "process",
                summary: truncate_chars(failure, 200),
                evidence_refs: vec![registry.add_file(&path)],
                details: Some(format!(
                    "Workflow failure recorded in workflow-failures-log.md. Entry: {failure}"
                )),
            });
        }
    }
    if input.analysis_report.is_some() {
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "doc",
            summary: "analysis-report.md present with findings".to_owned(),
            evidence_refs: vec![registry.add_file(&rel("analysis-report.md"))],
            details: Some(
                "An analysis-report.md artifact is present for this mission. Review its findings \
                 to understand documented issues and decisions."
                    .to_owned(),
            ),
        });
    }
    if input.review_report.is_some() {
        not_helpful.push(Finding {
            id: ids.next('n'),
            category: "review_loop",
            summary: "mission-review-report.md present with findings".to_owned(),
            evidence_refs: vec![registry.add_file(&rel("mission-review-report.md"))],
            details: Some(
                "A mission-review-report.md artifact is present for this mission. Review its \
                 findings to understand documented review outcomes."
                    .to_owned(),
            ),
        });
    }
    for (name, text) in &input.traces {
        let path = rel(&format!("traces/{name}"));
        for (summary, body) in trace_entries(text) {
            let lower = body.to_lowercase();
            let (bucket, prefix) = if TRACE_GAP_MARKERS.iter().any(|m| lower.contains(m)) {
                (&mut gaps, 'g')
            } else if TRACE_HELPED_MARKERS.iter().any(|m| lower.contains(m)) {
                (&mut helped, 'h')
            } else {
                (&mut not_helpful, 'n')
            };
            bucket.push(Finding {
                id: ids.next(prefix),
                category: "tooling",
                summary: truncate_chars(&format!("Tracer: {summary}"), 200),
                evidence_refs: vec![registry.add_file(&path)],
                details: Some(truncate_chars(&body, 1000)),
            });
        }
    }
    for list in [&mut helped, &mut not_helpful, &mut gaps] {
        list.sort_by(|a, b| (a.category, &a.summary).cmp(&(b.category, &b.summary)));
    }
    let findings_status = if helped.is_empty() && not_helpful.is_empty() && gaps.is_empty() {
        "ran_no_findings"
    } else {
        "has_findings"
    };

    let meta = &input.meta;
    let text_of = |key: &str| -> Option<String> {
        meta.get(key)
            .filter(|value| truthy(Some(value)))
            .map(python_str)
    };
    let mission_id = text_of("mission_id").unwrap_or_default();
    let mission_slug = text_of("mission_slug")
        .or_else(|| text_of("slug"))
        .unwrap_or_else(|| dir.to_owned());
    let friendly_name = text_of("friendly_name")
        .or_else(|| text_of("name"))
        .unwrap_or_else(|| mission_slug.clone());
    let mission_type = meta
        .get("mission_type")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    let target_branch = meta
        .get("target_branch")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|branch| !branch.is_empty())
        .unwrap_or(input.fallback_target_branch)
        .to_owned();
    let mission_number = match meta.get("mission_number") {
        Some(Value::Number(number)) if number.is_i64() => Some(number.to_string()),
        Some(Value::String(text))
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse::<u64>().ok().map(|n| n.to_string())
        }
        _ => None,
    };

    let mut yaml = Yaml::default();
    yaml.line(0, "schema_version: 1");
    yaml.scalar(0, "mission_id", &mission_id);
    yaml.scalar(0, "mission_slug", &mission_slug);
    match &mission_number {
        Some(number) => yaml.line(0, &format!("mission_number: {number}")),
        None => yaml.line(0, "mission_number:"),
    }
    yaml.scalar(0, "friendly_name", &friendly_name);
    yaml.scalar(0, "mission_type", &mission_type);
    yaml.scalar(0, "target_branch", &target_branch);
    yaml.scalar(0, "created_at", input.invoked_at);
    yaml.line(0, "created_by:");
    yaml.scalar(2, "kind", "runtime");
    yaml.scalar(2, "id", "spec-kitty-generator");
    yaml.scalar(2, "display", "Spec Kitty Generator");
    yaml.line(0, "provenance:");
    yaml.scalar(2, "kind", "runtime_post_completion");
    yaml.scalar(2, "invoked_at", input.invoked_at);
    yaml.line(2, "policy_resolved_from:");
    for key in POLICY_KEYS {
        yaml.scalar(4, key, "<default>");
    }
    yaml.line(0, "policy_source:");
    for key in POLICY_KEYS {
        yaml.scalar(2, key, "<default>");
    }
    yaml.scalar(0, "findings_status", findings_status);
    for (key, list) in [
        ("helped", &helped),
        ("not_helpful", &not_helpful),
        ("gaps", &gaps),
    ] {
        if list.is_empty() {
            yaml.line(0, &format!("{key}: []"));
            continue;
        }
        yaml.line(0, &format!("{key}:"));
        for finding in list {
            yaml.item_scalar("id", &finding.id);
            yaml.scalar(2, "category", finding.category);
            yaml.scalar(2, "summary", &finding.summary);
            yaml.line(2, "evidence_refs:");
            for evidence in &finding.evidence_refs {
                yaml.item(2, evidence);
            }
            if let Some(details) = &finding.details {
                yaml.scalar(2, "details", details);
            }
        }
    }
    yaml.line(0, "proposals: []");
    if registry.refs.is_empty() {
        yaml.line(0, "evidence_refs: []");
    } else {
        yaml.line(0, "evidence_refs:");
        for evidence in &registry.refs {
            yaml.item_scalar("id", &evidence.id);
            yaml.scalar(2, "kind", evidence.kind);
            yaml.scalar(2, "path", &evidence.path);
            if let Some(range) = &evidence.range {
                yaml.scalar(2, "range", range);
            }
        }
    }
    yaml.scalar(0, "generator_version", GENERATOR_VERSION);
    yaml.line(0, "provenance_history: []");
    Retrospective {
        yaml: yaml.out,
        findings_status,
        evidence_ref_count: registry.refs.len(),
        mission_id,
        mission_slug,
    }
}

/// Returns the `RetrospectiveCaptured` row Spec Kitty appends to the event log (keys sorted,
/// as its log writer dumps them), without its newline.
pub fn captured_row(
    retrospective: &Retrospective,
    event_id: &str,
    at: &str,
    lamport: i64,
    record_path: &str,
) -> String {
    let policy: Map<String, Value> = POLICY_KEYS
        .iter()
        .map(|key| ((*key).to_owned(), Value::String("<default>".to_owned())))
        .collect();
    let mut actor = Map::new();
    actor.insert("display".to_owned(), Value::Null);
    actor.insert(
        "id".to_owned(),
        Value::String("spec-kitty-generator".to_owned()),
    );
    actor.insert("kind".to_owned(), Value::String("runtime".to_owned()));
    let fields: [(&str, Value); 18] = [
        ("actor", Value::Object(actor)),
        ("at", Value::String(at.to_owned())),
        ("event_id", Value::String(event_id.to_owned())),
        (
            "evidence_ref_count",
            Value::from(retrospective.evidence_ref_count),
        ),
        ("execution_mode", Value::String("main".to_owned())),
        (
            "findings_status",
            Value::String(retrospective.findings_status.to_owned()),
        ),
        ("force", Value::Bool(false)),
        (
            "generator_version",
            Value::String(GENERATOR_VERSION.to_owned()),
        ),
        ("lamport", Value::from(lamport)),
        (
            "mission_id",
            Value::String(retrospective.mission_id.clone()),
        ),
        (
            "mission_slug",
            Value::String(retrospective.mission_slug.clone()),
        ),
        ("policy_source", Value::Object(policy)),
        ("proposal_count", Value::from(0)),
        (
            "provenance_kind",
            Value::String("runtime_post_completion".to_owned()),
        ),
        ("record_path", Value::String(record_path.to_owned())),
        ("schema_version", Value::from(1)),
        ("type", Value::String("RetrospectiveCaptured".to_owned())),
        ("wp_id", Value::Null),
    ];
    let row: Map<String, Value> = fields
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    crate::text::pyjson::to_string(&Value::Object(row), crate::text::pyjson::Style::Compact)
}

/// Returns the next Lamport clock of a log: one more than the largest integer `lamport` of its
/// rows (1 when none has one).
pub fn next_lamport(events: &[Map<String, Value>]) -> i64 {
    events
        .iter()
        .filter_map(|event| event.get("lamport").and_then(Value::as_i64))
        .max()
        .unwrap_or(0)
        .max(0)
        + 1
}

/// ruamel's block YAML at width 120, as far as the retrospective needs it.
#[derive(Default)]
struct Yaml {
    out: String,
}

const WIDTH: usize = 120;

impl Yaml {
    fn line(&mut self, indent: usize, text: &str) {
        self.out.push_str(&" ".repeat(indent));
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// `key: value` at `indent`; continuation lines at `indent + 2`.
    fn scalar(&mut self, indent: usize, key: &str, value: &str) {
        let prefix = format!("{}{key}:", " ".repeat(indent));
        self.value(prefix, indent + 2, value);
    }

    /// `- key: value` (the first key of a sequence item at the top level).
    fn item_scalar(&mut self, key: &str, value: &str) {
        self.value(format!("- {key}:"), 4, value);
    }

    /// `- value` of a sequence at `indent`.
    fn item(&mut self, indent: usize, value: &str) {
        self.value(format!("{}-", " ".repeat(indent)), indent + 2, value);
    }

    fn value(&mut self, prefix: String, indent: usize, value: &str) {
        let mut text = prefix;
        if value.is_empty() {
            text.push_str(" ''");
        } else if value.contains(['\n', '\r']) || value.chars().any(char::is_control) {
            text.push(' ');
            text.push_str(&Value::String(value.to_owned()).to_string());
        } else if plain_safe(value) {
            text.push(' ');
            fold_plain(&mut text, indent, value);
        } else {
            text.push_str(" '");
            fold_single_quoted(&mut text, indent, value);
            text.push('\'');
        }
        for line in text.split('\n') {
            self.out.push_str(line.trim_end_matches([' ', '\t']));
            self.out.push('\n');
        }
    }
}

fn column(text: &str) -> usize {
    text.rsplit('\n').next().unwrap_or(text).chars().count()
}

/// ruamel's `write_plain`: a word that would pass the width starts a new line (unless the
/// line holds only the indentation), and so does a space met past the width.
fn fold_plain(out: &mut String, indent: usize, value: &str) {
    let mut words = value.split(' ').peekable();
    let mut first = true;
    while let Some(word) = words.next() {
        if !first {
            // A single space between words; longer runs are written as they are.
            if column(out) >= WIDTH {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            } else {
                out.push(' ');
            }
        }
        first = false;
        let mut word = word.to_owned();
        // Runs of spaces: `split` gives empty words; keep them as spaces.
        while word.is_empty() && words.peek().is_some() {
            out.push(' ');
            word = words.next().unwrap_or_default().to_owned();
        }
        let col = column(out);
        if word.chars().count() + col > WIDTH && col > indent {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&word);
    }
}

/// ruamel's `write_single_quoted`: a single space met past the width (not the first or last
/// character) becomes a line break; quotes doubled.
fn fold_single_quoted(out: &mut String, indent: usize, value: &str) {
    let chars: Vec<char> = value.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        let ch = chars[index];
        if ch == ' ' {
            let run = chars[index..].iter().take_while(|c| **c == ' ').count();
            if run == 1 && column(out) > WIDTH && index != 0 && index + 1 != chars.len() {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            } else {
                out.push_str(&" ".repeat(run));
            }
            index += run;
        } else if ch == '\'' {
            out.push_str("''");
            index += 1;
        } else {
            out.push(ch);
            index += 1;
        }
    }
}

/// Returns true when a string can be written plain and read back as the same string.
fn plain_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if value.starts_with(' ') || value.ends_with(' ') {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') {
        let second = value[first.len_utf8()..].chars().next();
        if second.is_none_or(|ch| ch == ' ') {
            return false;
        }
    }
    if value.contains(": ") || value.contains(" #") || value.ends_with(':') {
        return false;
    }
    if matches!(
        value.to_lowercase().as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "=" | "<<"
    ) {
        return false;
    }
    !(looks_numeric(value) || looks_like_timestamp(value))
}

fn looks_numeric(value: &str) -> bool {
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    if unsigned.is_empty() {
        return false;
    }
    if matches!(
        unsigned.to_lowercase().as_str(),
        ".inf" | ".nan" | "0x" | "0o"
    ) {
        return true;
    }
    let body: String = unsigned.chars().filter(|ch| *ch != '_').collect();
    body.parse::<f64>().is_ok()
        && body
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_digit() || ch == '.')
}

fn looks_like_timestamp(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 10
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[5..7].iter().all(u8::is_ascii_digit)
        && bytes[7] == b'-'
        && bytes[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_references_need_three_digits_and_word_boundaries() {
        assert_eq!(
            fr_refs("FR-001, xFR-002, FR-03, FR-0045a (FR-0046)"),
            ["FR-001", "FR-0046"]
        );
    }

    #[test]
    fn key_entities_need_a_named_bullet() {
        assert!(declares_domain_entities(
            "# Spec\n## Key Entities\n- **Task**: a thing\n## Next\n"
        ));
        assert!(!declares_domain_entities(
            "## Key Entities\n- **[Entity 1]**: placeholder\n"
        ));
        assert!(!declares_domain_entities("## Other\n- **Task**: x\n"));
    }

    #[test]
    fn long_plain_values_fold_at_120_columns() {
        let mut yaml = Yaml::default();
        yaml.scalar(
            2,
            "details",
            "An analysis-report.md artifact is present for this mission. Review its findings to \
             understand documented issues and decisions.",
        );
        assert_eq!(
            yaml.out,
            "  details: An analysis-report.md artifact is present for this mission. Review its \
             findings to understand documented\n    issues and decisions.\n"
        );
    }

    #[test]
    fn values_that_read_as_other_types_are_quoted() {
        let mut yaml = Yaml::default();
        yaml.scalar(0, "created_at", "2026-11-21T22:35:14.653588+00:00");
        yaml.scalar(0, "generator_version", "1.0");
        yaml.scalar(0, "summary", "Tracer: it's odd");
        assert_eq!(
            yaml.out,
            "created_at: '2026-11-21T22:35:14.653588+00:00'\ngenerator_version: '1.0'\nsummary: 'Tracer: it''s odd'\n"
        );
    }
}
