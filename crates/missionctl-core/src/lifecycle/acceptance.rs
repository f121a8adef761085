//! Spec Kitty's acceptance checks, as pure functions of facts the store gathers, and the
//! `meta.json` fields an acceptance records.
//!
//! [`summarize`] turns [`AcceptanceFacts`] (the work packages and their lanes, the planning
//! files' texts, `lanes.json`, the branch, the matrix, the working tree) into an
//! [`AcceptanceSummary`] with the same lists Spec Kitty's `accept` reports: `activity_issues`,
//! `metadata_issues`, `unchecked_tasks`, `needs_clarification`, `missing_artifacts`,
//! `path_violations`, `git_dirty`, and `ok`, true when every work package is approved or done
//! and every list is empty.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::lifecycle::acceptance_matrix::AcceptanceMatrix;
use crate::status::lane::Lane;

/// How many acceptances `meta.json`'s `acceptance_history` keeps.
pub const HISTORY_CAP: usize = 20;

/// The lanes an acceptance takes as finished.
const ACCEPTABLE_LANES: [&str; 2] = ["approved", "done"];

/// Lanes whose work packages must name an assignee and a shell in strict mode.
const ACTIVE_METADATA_LANES: [&str; 3] = ["doing", "in_progress", "for_review"];

/// One work package as the acceptance sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkPackageFact {
    /// `WP01`.
    pub id: String,
    /// Its title, from the front matter.
    pub title: String,
    /// Its file, relative to the repository.
    pub path: String,
    /// Its lane in the reduced snapshot; `None` when the log has no state for it.
    pub lane: Option<String>,
    /// The snapshot's `agent` slot.
    pub agent: Option<String>,
    /// The snapshot's `assignee` slot.
    pub assignee: Option<String>,
    /// The snapshot's `shell_pid` slot, as text.
    pub shell_pid: Option<String>,
    /// A cancellation whose reason the operator wrote (`reason_source: operator`).
    pub operator_canceled: bool,
}

/// What `lanes.json` says about where acceptance may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanesFact {
    /// No `lanes.json` (no lane gates).
    Absent,
    /// It cannot be read; the message says why.
    Corrupt(String),
    /// Its target and mission branches, and whether every work package is planning-only.
    Present {
        /// `target_branch`.
        target_branch: String,
        /// `mission_branch`.
        mission_branch: String,
        /// True when every lane is the planning lane (no matrix is produced).
        planning_only: bool,
    },
}

/// What was found where the acceptance matrix lives.
#[derive(Debug, Clone, PartialEq)]
pub enum MatrixFact {
    /// No file.
    Missing,
    /// A file that does not read as a matrix.
    Invalid(String),
    /// The matrix.
    Present(AcceptanceMatrix),
}

/// Everything the checks look at.
#[derive(Debug, Clone)]
pub struct AcceptanceFacts {
    /// The mission's directory name.
    pub mission_slug: String,
    /// The work packages, in the order of their files.
    pub work_packages: Vec<WorkPackageFact>,
    /// Whether the event log exists and reduces to at least one work package.
    pub has_status: bool,
    /// Check the runtime metadata of work packages (off with `--lenient`).
    pub strict_metadata: bool,
    /// `tasks.md`, when it exists.
    pub tasks_md: Option<String>,
    /// The planning files scanned for open clarifications: (path as reported, text).
    pub clarification_sources: Vec<(String, String)>,
    /// The required planning files that are missing (`spec.md`, `plan.md`, `tasks.md`).
    pub missing_required: Vec<String>,
    /// The optional planning artifacts that are missing.
    pub missing_optional: Vec<String>,
    /// The mission's path conventions that are not satisfied, as Spec Kitty words them
    /// (`Software Dev Kitty expects workspace path: src/ (not found)`), with the paths.
    pub missing_paths: Vec<(String, String)>,
    /// `meta.json`'s `target_branch`.
    pub meta_target_branch: Option<String>,
    /// `lanes.json`.
    pub lanes: LanesFact,
    /// The branch checked out where acceptance runs (`None`: detached).
    pub branch: Option<String>,
    /// The acceptance matrix.
    pub matrix: MatrixFact,
    /// `git status --porcelain` lines that count (the acceptance's own files removed).
    pub git_dirty: Vec<String>,
}

/// A check that failed, was skipped or was blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckDiagnostic {
    /// The check's name.
    pub check: String,
    /// What happened.
    pub detail: String,
}

/// The outcome of the checks, in the shape of Spec Kitty's `AcceptanceSummary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcceptanceSummary {
    /// The mission.
    pub mission_slug: String,
    /// The branch acceptance runs on.
    pub branch: Option<String>,
    /// Work package ids per lane.
    pub lanes: Map<String, Value>,
    /// The work packages.
    pub work_packages: Vec<WorkPackageFact>,
    /// Problems with work packages' runtime metadata.
    pub metadata_issues: Vec<String>,
    /// Lanes, branch and matrix problems.
    pub activity_issues: Vec<String>,
    /// Unchecked `T###` rows of `tasks.md` (dropped when every work package is finished).
    pub unchecked_tasks: Vec<String>,
    /// Files with an open `[NEEDS CLARIFICATION…]` marker.
    pub needs_clarification: Vec<String>,
    /// Missing required planning files.
    pub missing_artifacts: Vec<String>,
    /// Missing optional planning artifacts (a warning).
    pub optional_missing: Vec<String>,
    /// Uncommitted changes that block acceptance.
    pub git_dirty: Vec<String>,
    /// Unsatisfied path conventions (a warning with `--lenient`).
    pub path_violations: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Every failed check with its detail.
    pub failed_checks: Vec<CheckDiagnostic>,
    /// Checks skipped, and why.
    pub skipped_checks: Vec<CheckDiagnostic>,
    /// Checks that could not run.
    pub blocked_checks: Vec<CheckDiagnostic>,
    /// What to fix first.
    pub recommended_fix_order: Vec<String>,
    /// Every work package approved or done (operator-canceled ones allowed, not all of them).
    pub all_done: bool,
    /// `all_done` and no problem of any kind.
    pub ok: bool,
}

impl AcceptanceSummary {
    /// Returns the ids in a lane.
    pub fn lane(&self, lane: &str) -> Vec<String> {
        self.lanes
            .get(lane)
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Runs Spec Kitty's acceptance checks over the facts.
pub fn summarize(facts: &AcceptanceFacts) -> AcceptanceSummary {
    let mut lanes: Map<String, Value> = Lane::DISPLAY
        .iter()
        .map(|lane| (lane.as_str().to_owned(), Value::Array(Vec::new())))
        .collect();
    let mut metadata_issues = Vec::new();
    let mut activity_issues = Vec::new();
    let mut skipped_checks = Vec::new();
    let mut blocked_checks = Vec::new();

    for wp in &facts.work_packages {
        let bucket = wp.lane.clone().unwrap_or_else(|| "planned".to_owned());
        let key = if lanes.contains_key(&bucket) {
            bucket
        } else {
            "planned".to_owned()
        };
        if let Some(Value::Array(ids)) = lanes.get_mut(&key) {
            ids.push(Value::String(wp.id.clone()));
        }
        if facts.strict_metadata {
            if wp.agent.as_deref().is_none_or(str::is_empty) {
                metadata_issues.push(format!(
                    "{}: missing agent in canonical runtime state",
                    wp.id
                ));
            }
            if wp
                .lane
                .as_deref()
                .is_some_and(|lane| ACTIVE_METADATA_LANES.contains(&lane))
            {
                if wp.assignee.as_deref().is_none_or(str::is_empty) {
                    metadata_issues.push(format!(
                        "{}: missing assignee in canonical runtime state",
                        wp.id
                    ));
                }
                if wp.shell_pid.as_deref().is_none_or(str::is_empty) {
                    metadata_issues.push(format!(
                        "{}: missing shell_pid in canonical runtime state",
                        wp.id
                    ));
                }
            }
        }
    }

    // Work-package readiness, read from the log.
    if !facts.has_status {
        activity_issues.push(format!(
            "No canonical state found for feature '{slug}'. Cannot validate acceptance without \
             status.events.jsonl. Run 'spec-kitty agent mission finalize-tasks --mission {slug}' \
             to bootstrap the event log.",
            slug = facts.mission_slug
        ));
    }
    if facts.has_status {
        for wp in &facts.work_packages {
            match wp.lane.as_deref() {
                None => activity_issues.push(format!(
                    "{}: no canonical state found in status.events.jsonl",
                    wp.id
                )),
                Some(lane) if !acceptable(lane, wp.operator_canceled) => {
                    activity_issues.push(format!(
                        "{}: canonical lane is '{lane}', expected 'approved' or 'done'",
                        wp.id
                    ));
                }
                Some(_) => {}
            }
        }
    }

    let all_acceptable = !facts.work_packages.is_empty()
        && facts.work_packages.iter().all(|wp| {
            acceptable(
                wp.lane.as_deref().unwrap_or("planned"),
                wp.operator_canceled,
            )
        });

    let unchecked = match &facts.tasks_md {
        None => Vec::new(),
        Some(_) if all_acceptable => Vec::new(),
        Some(text) => unchecked_subtask_rows(text),
    };
    let needs_clarification: Vec<String> = facts
        .clarification_sources
        .iter()
        .filter(|(_, text)| has_open_clarification(text))
        .map(|(path, _)| path.clone())
        .collect();

    let mut path_violations = Vec::new();
    let mut warnings = Vec::new();
    let mut optional_missing = facts.missing_optional.clone();
    let path_text = path_convention_text(&facts.missing_paths, facts.strict_metadata);
    if let Some(text) = &path_text
        && facts.strict_metadata
    {
        path_violations.push(text.clone());
        // `contracts/` is reported once, as the blocking violation.
        let contracts_missing = facts
            .missing_paths
            .iter()
            .any(|(_, path)| path.trim_end_matches('/').ends_with("contracts"));
        if contracts_missing {
            optional_missing.retain(|entry| entry.trim_end_matches('/') != "contracts");
        }
    }
    if !optional_missing.is_empty() {
        warnings.push(format!(
            "Optional artifacts missing: {}",
            optional_missing.join(", ")
        ));
    }
    if !path_violations.is_empty() {
        warnings.push("Path conventions not satisfied.".to_owned());
    } else if let Some(text) = path_text {
        warnings.push(text);
    }

    lane_gates(
        facts,
        &mut activity_issues,
        &mut skipped_checks,
        &mut blocked_checks,
    );

    let all_done = {
        let mut delivered = false;
        let mut every = true;
        for wp in &facts.work_packages {
            let lane = wp.lane.as_deref().unwrap_or("planned");
            if !acceptable(lane, wp.operator_canceled) {
                every = false;
            }
            if ACCEPTABLE_LANES.contains(&lane) {
                delivered = true;
            }
        }
        facts.work_packages.is_empty() || (every && delivered)
    };

    let ok = all_done
        && metadata_issues.is_empty()
        && activity_issues.is_empty()
        && unchecked.is_empty()
        && needs_clarification.is_empty()
        && facts.missing_required.is_empty()
        && facts.git_dirty.is_empty()
        && path_violations.is_empty();

    let mut summary = AcceptanceSummary {
        mission_slug: facts.mission_slug.clone(),
        branch: facts.branch.clone(),
        lanes,
        work_packages: facts.work_packages.clone(),
        metadata_issues,
        activity_issues,
        unchecked_tasks: unchecked,
        needs_clarification,
        missing_artifacts: facts.missing_required.clone(),
        optional_missing,
        git_dirty: facts.git_dirty.clone(),
        path_violations,
        warnings,
        failed_checks: Vec::new(),
        skipped_checks,
        blocked_checks,
        recommended_fix_order: Vec::new(),
        all_done,
        ok,
    };
    summary.failed_checks = failed_checks(&summary, facts);
    summary.recommended_fix_order = recommended_fix_order(&summary);
    summary
}

fn acceptable(lane: &str, operator_canceled: bool) -> bool {
    ACCEPTABLE_LANES.contains(&lane) || (lane == "canceled" && operator_canceled)
}

/// The `lanes.json`, branch and matrix gates.
fn lane_gates(
    facts: &AcceptanceFacts,
    activity: &mut Vec<String>,
    skipped: &mut Vec<CheckDiagnostic>,
    blocked: &mut Vec<CheckDiagnostic>,
) {
    let skip_all = |skipped: &mut Vec<CheckDiagnostic>, reason: &str, with_presence: bool| {
        let checks = [
            (
                "acceptance_matrix_presence",
                "Acceptance matrix presence check",
            ),
            (
                "acceptance_matrix_evidence",
                "Acceptance matrix evidence validation",
            ),
            ("negative_invariants", "Negative invariant execution"),
            (
                "acceptance_matrix_verdict",
                "Acceptance matrix verdict evaluation",
            ),
        ];
        for (check, label) in &checks[usize::from(!with_presence)..] {
            skipped.push(CheckDiagnostic {
                check: (*check).to_owned(),
                detail: format!("{label} skipped: {reason}"),
            });
        }
    };
    let (target_branch, mission_branch, planning_only) = match &facts.lanes {
        LanesFact::Absent => return,
        LanesFact::Corrupt(message) => {
            activity.push(message.clone());
            blocked.push(CheckDiagnostic {
                check: "lanes_manifest".to_owned(),
                detail: message.clone(),
            });
            skip_all(skipped, "lanes.json is corrupt or malformed", true);
            return;
        }
        LanesFact::Present {
            target_branch,
            mission_branch,
            planning_only,
        } => (target_branch, mission_branch, *planning_only),
    };
    if let Some(meta_target) = facts
        .meta_target_branch
        .as_deref()
        .filter(|t| !t.is_empty())
        && meta_target != target_branch
    {
        let message = format!(
            "Acceptance target branch mismatch: meta.json targets {meta_target}, lanes.json targets {target_branch}"
        );
        activity.push(message.clone());
        blocked.push(CheckDiagnostic {
            check: "mission_branch".to_owned(),
            detail: message,
        });
        skip_all(
            skipped,
            "meta.json target_branch does not match lanes.json target_branch",
            true,
        );
        return;
    }
    let mut allowed: Vec<&str> = vec![target_branch.as_str()];
    if !planning_only {
        allowed.push(mission_branch.as_str());
    }
    if facts
        .branch
        .as_deref()
        .is_none_or(|branch| !allowed.contains(&branch))
    {
        let mut labels: Vec<&str> = allowed.iter().copied().filter(|b| !b.is_empty()).collect();
        labels.sort_unstable();
        labels.dedup();
        let message = format!(
            "Acceptance must run on mission or target branch ({}), not {}",
            labels.join(", "),
            facts.branch.as_deref().unwrap_or("detached HEAD")
        );
        activity.push(message.clone());
        blocked.push(CheckDiagnostic {
            check: "mission_branch".to_owned(),
            detail: message,
        });
        skip_all(
            skipped,
            "current branch is neither mission branch nor target branch",
            true,
        );
        return;
    }
    if planning_only {
        skip_all(
            skipped,
            "planning_artifact-only missions do not produce acceptance-matrix.json",
            true,
        );
        return;
    }
    let matrix = match &facts.matrix {
        MatrixFact::Missing => {
            let message = format!(
                "Acceptance matrix (acceptance-matrix.json) is required for lane-based features but \
                 was not found. This file is normally scaffolded automatically. If it is missing, \
                 regenerate it: spec-kitty agent mission finalize-tasks --mission {}",
                facts.mission_slug
            );
            activity.push(message.clone());
            blocked.push(CheckDiagnostic {
                check: "acceptance_matrix".to_owned(),
                detail: message,
            });
            skip_all(skipped, "acceptance-matrix.json is missing", false);
            return;
        }
        MatrixFact::Invalid(message) => {
            activity.push(message.clone());
            blocked.push(CheckDiagnostic {
                check: "acceptance_matrix".to_owned(),
                detail: message.clone(),
            });
            skip_all(skipped, "acceptance-matrix.json is malformed", false);
            return;
        }
        MatrixFact::Present(matrix) => matrix,
    };
    for problem in matrix.evidence_problems() {
        activity.push(format!("Evidence: {problem}"));
    }
    match matrix.overall_verdict() {
        "fail" => activity.push(
            "Acceptance matrix verdict is 'fail' — negative invariants or criteria not satisfied"
                .to_owned(),
        ),
        "pending" => activity.push(
            "Acceptance matrix verdict is 'pending' — criteria or invariants have not been verified"
                .to_owned(),
        ),
        "pass_pending_consolidation" => skipped.push(CheckDiagnostic {
            check: "negative_invariants_deferred".to_owned(),
            detail: "One or more negative invariants are deferred to post-consolidation \
                     verification; acceptance is not blocked, but this loop does not verify \
                     them — the post-consolidation op (or PR CI) must, before the mission is done."
                .to_owned(),
        }),
        _ => {}
    }
}

/// Returns the unchecked `- [ ] T###` rows of `tasks.md`, outside code fences, stripped.
pub fn unchecked_subtask_rows(text: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut in_fence = false;
    for line in text.split('\n') {
        let stripped = python_strip(line);
        if stripped.starts_with("```") || stripped.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if is_unchecked_subtask_row(stripped) {
            rows.push(stripped.to_owned());
        }
    }
    rows
}

/// `^-\s*\[\s*\]\s*(T\d{3,})\b`.
fn is_unchecked_subtask_row(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('-') else {
        return false;
    };
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix('[') else {
        return false;
    };
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix(']') else {
        return false;
    };
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix('T') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits < 3 {
        return false;
    }
    rest[digits..]
        .chars()
        .next()
        .is_none_or(|next| !(next.is_alphanumeric() || next == '_'))
}

fn python_strip(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Returns true when a line has `[NEEDS CLARIFICATION: …]` followed by a
/// `<!-- decision_id: X -->` comment (a decision missionctl cannot see resolved).
pub fn has_open_clarification(text: &str) -> bool {
    text.lines().any(|line| {
        let Some(start) = line.find("[NEEDS CLARIFICATION:") else {
            return false;
        };
        let Some(end) = line[start..].find(']').map(|offset| start + offset) else {
            return false;
        };
        let Some(comment) = line[end..].find("<!--").map(|offset| end + offset) else {
            return false;
        };
        let Some(close) = line[comment + 4..]
            .find("-->")
            .map(|offset| comment + 4 + offset)
        else {
            return false;
        };
        let body = &line[comment + 4..close];
        body.find("decision_id:")
            .is_some_and(|index| !body[index + "decision_id:".len()..].trim().is_empty())
    })
}

/// Spec Kitty's text for unsatisfied path conventions (`format_errors` when strict, else
/// `format_warnings`); `None` when every path exists.
fn path_convention_text(missing: &[(String, String)], strict: bool) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let mut lines = vec![if strict {
        "Path Convention Errors:".to_owned()
    } else {
        "Path Convention Warnings:".to_owned()
    }];
    for (warning, _) in missing {
        lines.push(format!("  - {warning}"));
    }
    let suggestions: Vec<String> = missing
        .iter()
        .map(|(_, path)| {
            let name = path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(path);
            if path.ends_with('/') || !name.contains('.') {
                format!("mkdir -p {path}")
            } else {
                match path.rsplit_once('/') {
                    Some((parent, _)) => format!("mkdir -p {parent} && touch {path}"),
                    None => format!("touch {path}"),
                }
            }
        })
        .collect();
    let directories: Vec<&str> = missing
        .iter()
        .map(|(_, path)| path.as_str())
        .filter(|path| path.ends_with('/'))
        .collect();
    let mut suggestions = suggestions;
    if directories.len() > 1 {
        suggestions.insert(
            0,
            format!(
                "Create directories in one go: mkdir -p {}",
                directories.join(" ")
            ),
        );
    }
    lines.push(String::new());
    if strict {
        lines.push(
            "Run `accept --lenient` to treat these as warnings instead of blocking errors for \
             this mission run - or, if you want to adopt the convention, see the commands below:"
                .to_owned(),
        );
        lines.push(String::new());
        lines.push("Required Actions:".to_owned());
    } else {
        lines.push("Suggestions:".to_owned());
    }
    for suggestion in suggestions {
        lines.push(format!("  - {suggestion}"));
    }
    Some(lines.join("\n"))
}

fn failed_checks(summary: &AcceptanceSummary, facts: &AcceptanceFacts) -> Vec<CheckDiagnostic> {
    let mut out = Vec::new();
    let mut push = |check: &str, details: &[String]| {
        for detail in details {
            out.push(CheckDiagnostic {
                check: check.to_owned(),
                detail: detail.clone(),
            });
        }
    };
    let not_done: Vec<String> = ["planned", "claimed", "in_progress", "for_review"]
        .iter()
        .flat_map(|lane| summary.lane(lane))
        .collect();
    push("not_done", &not_done);
    let mut blockers = Vec::new();
    for (lane, hint) in [
        (
            "in_review",
            "work package is in review; finish the review and move the work package to approved or done",
        ),
        (
            "blocked",
            "work package is blocked; resolve the blocker and move the work package to approved or done",
        ),
        (
            "canceled",
            "work package is canceled; operator-authored cancellation provenance required — reopen or replace it, then move the work package to approved or done",
        ),
    ] {
        for id in summary.lane(lane) {
            let operator = facts
                .work_packages
                .iter()
                .any(|wp| wp.id == id && wp.operator_canceled);
            if lane == "canceled" && operator {
                continue;
            }
            blockers.push(format!("{id}: canonical lane is '{lane}'; {hint}."));
        }
    }
    push("lane_blockers", &blockers);
    push("metadata", &summary.metadata_issues);
    push("activity", &summary.activity_issues);
    push("unchecked_tasks", &summary.unchecked_tasks);
    push("needs_clarification", &summary.needs_clarification);
    push("missing_artifacts", &summary.missing_artifacts);
    push("git_dirty", &summary.git_dirty);
    push("path_violations", &summary.path_violations);
    out
}

fn recommended_fix_order(summary: &AcceptanceSummary) -> Vec<String> {
    let blocked = |check: &str| {
        summary
            .blocked_checks
            .iter()
            .any(|item| item.check == check)
    };
    let activity = |needle: &str| {
        summary
            .activity_issues
            .iter()
            .any(|issue| issue.contains(needle))
    };
    let non_terminal = Lane::DISPLAY
        .iter()
        .filter(|lane| !ACCEPTABLE_LANES.contains(&lane.as_str()))
        .any(|lane| !summary.lane(lane.as_str()).is_empty());
    [
        (
            !summary.git_dirty.is_empty(),
            "Commit, stash, or discard working tree changes before acceptance.",
        ),
        (
            blocked("mission_branch"),
            "Switch to the mission branch or configured target branch named in the branch failure.",
        ),
        (
            !summary.missing_artifacts.is_empty(),
            "Restore required mission artifacts before acceptance.",
        ),
        (
            !summary.metadata_issues.is_empty(),
            "Fix work-package metadata issues.",
        ),
        (non_terminal, "Move all work packages to approved or done."),
        (
            !summary.unchecked_tasks.is_empty(),
            "Complete unchecked items in tasks.md.",
        ),
        (
            !summary.needs_clarification.is_empty(),
            "Resolve open NEEDS CLARIFICATION markers.",
        ),
        (
            blocked("acceptance_matrix"),
            "Create or restore kitty-specs/<mission>/acceptance-matrix.json.",
        ),
        (
            blocked("lanes_manifest"),
            "Restore or regenerate kitty-specs/<mission>/lanes.json.",
        ),
        (
            activity("Evidence:"),
            "Fill missing acceptance matrix evidence fields.",
        ),
        (
            activity("Acceptance matrix verdict is"),
            "Resolve pending or failing acceptance matrix criteria and negative invariants.",
        ),
        (
            activity("Workflow run evidence required"),
            "Add successful GitHub Actions run evidence for workflow changes.",
        ),
        (
            !summary.path_violations.is_empty(),
            "Fix mission path convention violations.",
        ),
    ]
    .into_iter()
    .filter(|(triggered, _)| *triggered)
    .map(|(_, message)| message.to_owned())
    .collect()
}

/// Returns true for a `git status --porcelain` path the acceptance ignores: its own writes
/// (this mission's `acceptance-matrix.json` and `status.json`) and Spec Kitty's bookkeeping
/// (any `meta.json`, encoding provenance, `kitty-ops/<ULID>.jsonl`).
pub fn is_ignored_dirty_path(path: &str, mission_slug: &str) -> bool {
    let own = format!("kitty-specs/{mission_slug}/");
    if let Some(rest) = path.strip_prefix(&own)
        && (rest == crate::lifecycle::acceptance_matrix::MATRIX_FILE || rest == "status.json")
    {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "meta.json" {
        return true;
    }
    if path.ends_with("encoding-provenance.jsonl") || name == "encoding-provenance.jsonl" {
        return true;
    }
    if let Some(rest) = path.strip_prefix("kitty-ops/")
        && let Some(stem) = rest.strip_suffix(".jsonl")
    {
        return !stem.contains('/') && crate::status::event_log::is_ulid(stem);
    }
    false
}

/// Returns the path of a `git status --porcelain` v1 line (the new name of a rename).
pub fn porcelain_path(line: &str) -> &str {
    let path = line.get(3..).unwrap_or("").trim();
    match path.split_once(" -> ") {
        Some((_, new)) => new.trim(),
        None => path,
    }
}

/// One acceptance, as recorded in `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptanceRecord {
    /// ISO time with microseconds and `+00:00`.
    pub accepted_at: String,
    /// Who accepted.
    pub accepted_by: String,
    /// `local` or `pr`.
    pub acceptance_mode: String,
    /// The commit acceptance started from.
    pub accepted_from_commit: Option<String>,
}

/// Records an acceptance in `meta.json`'s fields, as Spec Kitty's `record_acceptance` does:
/// the top-level `accepted_at`, `accepted_by`, `acceptance_mode`, `accepted_from_commit`
/// (a stale `accept_commit` dropped) and a new `acceptance_history` entry (the last
/// [`HISTORY_CAP`] kept).
pub fn record_acceptance(meta: &mut Map<String, Value>, record: &AcceptanceRecord) {
    let mut fields = vec![
        ("accepted_at", &record.accepted_at),
        ("accepted_by", &record.accepted_by),
        ("acceptance_mode", &record.acceptance_mode),
    ];
    meta.remove("accepted_from_commit");
    meta.remove("accept_commit");
    if let Some(commit) = &record.accepted_from_commit {
        fields.push(("accepted_from_commit", commit));
    }
    let mut entry = Map::new();
    for (key, value) in fields {
        entry.insert(key.to_owned(), Value::String(value.clone()));
        meta.insert(key.to_owned(), Value::String(value.clone()));
    }
    let mut history = match meta.remove("acceptance_history") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    history.push(Value::Object(entry));
    if history.len() > HISTORY_CAP {
        history.drain(..history.len() - HISTORY_CAP);
    }
    meta.insert("acceptance_history".to_owned(), Value::Array(history));
}

/// Records the acceptance commit: top-level `accept_commit` and in the last history entry.
pub fn record_accept_commit(meta: &mut Map<String, Value>, commit: &str) {
    meta.insert("accept_commit".to_owned(), Value::String(commit.to_owned()));
    if let Some(Value::Array(history)) = meta.get_mut("acceptance_history")
        && let Some(Value::Object(last)) = history.last_mut()
    {
        last.insert("accept_commit".to_owned(), Value::String(commit.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wp(id: &str, lane: Option<&str>) -> WorkPackageFact {
        WorkPackageFact {
            id: id.to_owned(),
            title: format!("{id} title"),
            path: format!("kitty-specs/m/tasks/{id}-x.md"),
            lane: lane.map(str::to_owned),
            agent: Some("claude".to_owned()),
            assignee: None,
            shell_pid: None,
            operator_canceled: false,
        }
    }

    fn facts(lanes: &[Option<&str>]) -> AcceptanceFacts {
        let mut matrix =
            AcceptanceMatrix::scaffold("m", "", "software-dev", &["FR-001".to_owned()]);
        matrix.record_verdict("FR-001", "pass", None, Some("claude"), None, "t");
        AcceptanceFacts {
            mission_slug: "m".to_owned(),
            work_packages: lanes
                .iter()
                .enumerate()
                .map(|(index, lane)| wp(&format!("WP0{}", index + 1), *lane))
                .collect(),
            has_status: true,
            strict_metadata: true,
            tasks_md: Some(
                "- [ ] T001 do it\n```\n- [ ] T002 in a fence\n```\n- [x] T003 done\n".to_owned(),
            ),
            clarification_sources: Vec::new(),
            missing_required: Vec::new(),
            missing_optional: Vec::new(),
            missing_paths: Vec::new(),
            meta_target_branch: Some("feature/x".to_owned()),
            lanes: LanesFact::Present {
                target_branch: "feature/x".to_owned(),
                mission_branch: "kitty/mission-m".to_owned(),
                planning_only: false,
            },
            branch: Some("feature/x".to_owned()),
            matrix: MatrixFact::Present(matrix),
            git_dirty: Vec::new(),
        }
    }

    #[test]
    fn approved_and_done_work_packages_pass() {
        let summary = summarize(&facts(&[Some("approved"), Some("done")]));
        assert!(summary.all_done);
        assert!(summary.ok, "{summary:?}");
        assert_eq!(summary.lane("approved"), ["WP01"]);
        assert!(summary.unchecked_tasks.is_empty());
        assert!(summary.recommended_fix_order.is_empty());
    }

    #[test]
    fn unfinished_work_is_reported_as_spec_kitty_reports_it() {
        let summary = summarize(&facts(&[Some("approved"), Some("in_review"), None]));
        assert!(!summary.all_done);
        assert!(!summary.ok);
        assert_eq!(
            summary.activity_issues,
            [
                "WP02: canonical lane is 'in_review', expected 'approved' or 'done'",
                "WP03: no canonical state found in status.events.jsonl",
            ]
        );
        assert_eq!(summary.unchecked_tasks, ["- [ ] T001 do it"]);
        assert!(summary.failed_checks.iter().any(|check| check.check == "lane_blockers"
            && check.detail == "WP02: canonical lane is 'in_review'; work package is in review; finish the review and move the work package to approved or done."));
        assert_eq!(
            summary.recommended_fix_order,
            [
                "Move all work packages to approved or done.",
                "Complete unchecked items in tasks.md."
            ]
        );
    }

    #[test]
    fn the_branch_and_the_matrix_gate_acceptance() {
        let mut facts = facts(&[Some("done")]);
        facts.branch = Some("main".to_owned());
        let summary = summarize(&facts);
        assert_eq!(
            summary.activity_issues,
            [
                "Acceptance must run on mission or target branch (feature/x, kitty/mission-m), not main"
            ]
        );
        assert_eq!(summary.skipped_checks.len(), 4);
        facts.branch = Some("kitty/mission-m".to_owned());
        facts.matrix = MatrixFact::Present(AcceptanceMatrix::scaffold(
            "m",
            "",
            "software-dev",
            &["FR-001".to_owned()],
        ));
        let summary = summarize(&facts);
        assert_eq!(
            summary.activity_issues,
            [
                "Acceptance matrix verdict is 'pending' — criteria or invariants have not been verified"
            ]
        );
        facts.matrix = MatrixFact::Missing;
        let summary = summarize(&facts);
        assert!(
            summary.activity_issues[0]
                .starts_with("Acceptance matrix (acceptance-matrix.json) is required")
        );
        assert_eq!(summary.blocked_checks[0].check, "acceptance_matrix");
    }

    #[test]
    fn strict_metadata_needs_an_agent_and_lenient_does_not() {
        let mut facts = facts(&[Some("done")]);
        facts.work_packages[0].agent = None;
        facts.missing_paths = vec![(
            "software-dev expects workspace path: src/ (not found)".to_owned(),
            "src/".to_owned(),
        )];
        let strict = summarize(&facts);
        assert_eq!(
            strict.metadata_issues,
            ["WP01: missing agent in canonical runtime state"]
        );
        assert_eq!(strict.path_violations.len(), 1);
        assert!(strict.path_violations[0].starts_with("Path Convention Errors:\n  - software-dev expects workspace path: src/ (not found)\n\nRun `accept --lenient`"));
        assert!(strict.path_violations[0].ends_with("Required Actions:\n  - mkdir -p src/"));
        facts.strict_metadata = false;
        let lenient = summarize(&facts);
        assert!(lenient.metadata_issues.is_empty());
        assert!(lenient.path_violations.is_empty());
        assert!(lenient.ok, "{lenient:?}");
        assert!(lenient.warnings[0].starts_with("Path Convention Warnings:"));
    }

    #[test]
    fn clarifications_dirty_paths_and_tasks_rows() {
        assert!(has_open_clarification(
            "x [NEEDS CLARIFICATION: which db?] <!-- decision_id: D-1 -->"
        ));
        assert!(!has_open_clarification(
            "x [NEEDS CLARIFICATION: which db?]"
        ));
        assert!(is_ignored_dirty_path(
            "kitty-specs/m/acceptance-matrix.json",
            "m"
        ));
        assert!(is_ignored_dirty_path("kitty-specs/other/meta.json", "m"));
        assert!(is_ignored_dirty_path(
            "kitty-ops/01M803W73W0BJA5KCBY07A813W.jsonl",
            "m"
        ));
        assert!(!is_ignored_dirty_path("kitty-ops/lifecycle.jsonl", "m"));
        assert!(!is_ignored_dirty_path("kitty-specs/other/status.json", "m"));
        assert_eq!(porcelain_path("R  a.txt -> b.txt"), "b.txt");
        assert_eq!(porcelain_path("?? src/x.rs"), "src/x.rs");
        assert!(is_unchecked_subtask_row("- [ ] T001 Write it"));
        assert!(is_unchecked_subtask_row("-[ ]T0012"));
        assert!(!is_unchecked_subtask_row("- [ ] T01 short"));
        assert!(!is_unchecked_subtask_row("- [x] T001 done"));
        assert!(!is_unchecked_subtask_row("- [ ] T001x"));
    }

    #[test]
    fn meta_records_the_acceptance_and_its_commit() {
        let mut meta = Map::new();
        meta.insert("accept_commit".to_owned(), Value::String("old".to_owned()));
        let record = AcceptanceRecord {
            accepted_at: "2026-11-21T22:35:36.954638+00:00".to_owned(),
            accepted_by: "claude".to_owned(),
            acceptance_mode: "local".to_owned(),
            accepted_from_commit: Some("e8caab9".to_owned()),
        };
        record_acceptance(&mut meta, &record);
        assert!(!meta.contains_key("accept_commit"));
        record_accept_commit(&mut meta, "da038b9");
        assert_eq!(
            serde_json::to_string(&meta).ok(),
            Some(
                "{\"accept_commit\":\"da038b9\",\"acceptance_history\":[{\"accept_commit\":\"da038b9\",\"acceptance_mode\":\"local\",\"accepted_at\":\"2026-11-21T22:35:36.954638+00:00\",\"accepted_by\":\"claude\",\"accepted_from_commit\":\"e8caab9\"}],\"acceptance_mode\":\"local\",\"accepted_at\":\"2026-11-21T22:35:36.954638+00:00\",\"accepted_by\":\"claude\",\"accepted_from_commit\":\"e8caab9\"}".to_owned()
            )
        );
        for _ in 0..25 {
            record_acceptance(&mut meta, &record);
        }
        assert_eq!(
            meta["acceptance_history"].as_array().map(Vec::len),
            Some(HISTORY_CAP)
        );
    }
}
