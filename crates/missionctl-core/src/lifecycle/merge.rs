//! Finishing a mission by merge: the pure parts of `missionctl merge`.
//!
//! The merge itself (git plumbing, the write door, the status aggregate) is the store's; this
//! module holds what needs no I/O: the strategies, the commit messages Spec Kitty writes, which
//! files of `kitty-specs/` are bookkeeping that a merge reconciles instead of conflicting on,
//! the union of trace files, the retention decision for branches and worktrees, and the
//! evidence of the `approved → done` rows a merge records.
//!
//! Bookkeeping is reconciled, everything else is merged by git's three-way merge and a
//! conflict stops the merge: no `-X theirs` / `-X ours` anywhere (Spec Kitty issue #4892).

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::planning::planning_artifact::{ArtifactKind, classify_artifact_path};
use crate::status::snapshot::WpState;

/// How the mission branch lands on the target branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeStrategy {
    /// One commit on the target branch with the mission's changes, one parent
    /// (`feat(<mission branch>): squash merge of mission`). Spec Kitty's default.
    Squash,
    /// A merge commit with the target and the mission branch as parents
    /// (`Merge <mission branch> into <target>`).
    Merge,
    /// The mission's commits replayed on the target branch, which then fast-forwards.
    Rebase,
}

impl MergeStrategy {
    /// Every strategy, in the order of Spec Kitty's `--strategy` help.
    pub const ALL: [MergeStrategy; 3] = [
        MergeStrategy::Merge,
        MergeStrategy::Squash,
        MergeStrategy::Rebase,
    ];

    /// Returns the wire value (`merge`, `squash`, `rebase`).
    pub const fn as_str(self) -> &'static str {
        match self {
            MergeStrategy::Squash => "squash",
            MergeStrategy::Merge => "merge",
            MergeStrategy::Rebase => "rebase",
        }
    }

    /// Parses a wire value, as `--strategy` and `.kittify/config.yaml`'s `merge.strategy` give
    /// it (case-insensitive, trimmed).
    pub fn parse(text: &str) -> Option<MergeStrategy> {
        let text = text.trim().to_ascii_lowercase();
        MergeStrategy::ALL
            .into_iter()
            .find(|strategy| strategy.as_str() == text)
    }
}

impl fmt::Display for MergeStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns the message of a lane merged into the mission branch (Spec Kitty's).
pub fn lane_merge_message(lane_branch: &str, mission_branch: &str) -> String {
    format!("Merge {lane_branch} into {mission_branch}")
}

/// Returns the message of the squash commit on the target branch (Spec Kitty's).
pub fn squash_message(mission_branch: &str) -> String {
    format!("feat({mission_branch}): squash merge of mission")
}

/// Returns the message of the merge commit of the `merge` strategy (Spec Kitty's), also used
/// for the target merged into the mission branch when a conflict with it was resolved.
pub fn branch_merge_message(source: &str, destination: &str) -> String {
    format!("Merge {source} into {destination}")
}

/// Returns the message of the commit recording the merge's `meta.json` fields and status
/// (Spec Kitty's).
pub fn record_done_message(mission_slug: &str) -> String {
    format!("chore({mission_slug}): record done transitions for merged WPs")
}

/// Returns the message of the retrospective's commit (Spec Kitty's).
pub fn retrospective_message(mission_slug: &str) -> String {
    format!("chore({mission_slug}): capture mission retrospective")
}

/// Returns the message of the commit flattening a coordination mission's `meta.json` once its
/// coordination branch is deleted (Spec Kitty's, issue number included).
pub fn flatten_message(mission_slug: &str) -> String {
    format!("chore({mission_slug}): flatten coordination metadata after branch deletion (#3086)")
}

/// The merge drivers Spec Kitty (and missionctl) register for `kitty-specs/` files. A merge
/// runs git with each of them replaced by one that declines, so git never starts another
/// program and reports every such file both sides changed; the merge then reconciles it with
/// [`reconcile_rule`].
pub const BOOKKEEPING_DRIVERS: [&str; 7] = [
    "spec-kitty-event-log",
    "spec-kitty-meta",
    "spec-kitty-traces",
    "spec-kitty-acceptance-matrix",
    "spec-kitty-issue-matrix",
    "spec-kitty-review-cycle",
    "missionctl-status-json",
];

/// How a merge settles a `kitty-specs/` file that both sides changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// An event log (`status.events.jsonl`, `decisions.events.jsonl`): the union of the three
    /// versions ([`crate::status::log_merge`]).
    EventLogUnion,
    /// `status.json`: derived from the merged log, never merged itself.
    DerivedSnapshot,
    /// A planning artifact of the mission being merged (`spec.md`, `plan.md`, `tasks.md`,
    /// `tasks/WP*.md`, `lanes.json`, `meta.json`…): always the planning surface's version (the
    /// target branch), never a lane's older copy (Spec Kitty issue #3942).
    PlanningSurface,
    /// An acceptance or issue matrix: the version of the branch merged into, which holds the
    /// accepted rows (Spec Kitty restores the target's bytes after its squash).
    KeepOurs,
    /// A trace file (`traces/*.md`): the union of both sides' lines (Spec Kitty's driver).
    TraceUnion,
}

/// Returns how a merge settles `path` (repository-relative) when both sides changed it, for the
/// mission `mission_slug` being merged; `None` for a file git's own merge decides (conflicts
/// included). Review-cycle files are `None`: two verdicts for one cycle are a real conflict.
pub fn reconcile_rule(path: &str, mission_slug: &str) -> Option<Reconcile> {
    let kind = classify_artifact_path(path, None)?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let own_mission = classify_artifact_path(path, Some(mission_slug)).is_some();
    match kind {
        ArtifactKind::StatusState if name == "status.json" => Some(Reconcile::DerivedSnapshot),
        ArtifactKind::StatusState | ArtifactKind::DecisionLog => Some(Reconcile::EventLogUnion),
        ArtifactKind::AcceptanceMatrix | ArtifactKind::IssueMatrix => Some(Reconcile::KeepOurs),
        ArtifactKind::TracerFile => Some(Reconcile::TraceUnion),
        ArtifactKind::ReviewCycle => None,
        kind if kind.is_primary() && own_mission => Some(Reconcile::PlanningSurface),
        _ => None,
    }
}

/// Returns the union of two trace documents, as Spec Kitty's `traces/*.md` driver writes it:
/// ours then theirs, line by line, each non-empty line once; empty lines kept.
pub fn union_trace_texts(ours: &str, theirs: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut merged: Vec<&str> = Vec::new();
    for text in [ours, theirs] {
        for line in python_lines(text) {
            // Blank lines are kept as they come; the others once.
            if line.trim().is_empty() || seen.insert(line) {
                merged.push(line);
            }
        }
    }
    if merged.is_empty() {
        String::new()
    } else {
        let mut text = merged.join("\n");
        text.push('\n');
        text
    }
}

/// Splits text into lines as Python's `str.splitlines` does for `\n`, `\r\n` and `\r`.
fn python_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

/// Where a retention decision came from (Spec Kitty's `branch_source` / `worktree_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionSource {
    /// Nothing said: delete.
    Default,
    /// `meta.json`'s `retain_branches` / `retain_worktrees`.
    Meta,
    /// `--delete-branch`/`--keep-branch`, `--remove-worktree`/`--keep-worktree`.
    Cli,
}

/// What the merge removes once it succeeded, and why (Spec Kitty's `resolve_merge_retention`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retention {
    /// Delete the lane branches (and the mission branch).
    pub delete_branch: bool,
    /// Remove the lane worktrees and their workspace context files.
    pub remove_worktree: bool,
    /// Where `delete_branch` came from.
    pub branch_source: RetentionSource,
    /// Where `remove_worktree` came from.
    pub worktree_source: RetentionSource,
    /// Spec Kitty's warnings (a retention honored, a malformed value).
    pub warnings: Vec<String>,
}

impl Retention {
    /// Returns the decision from the command-line flags (`None`: not given) and `meta.json`'s
    /// raw `retain_branches` / `retain_worktrees` values: a flag wins; a JSON `true` retains, and
    /// so does any value that is not a boolean (fail-closed); absent, `null` or `false` deletes.
    pub fn resolve(
        delete_branch: Option<bool>,
        remove_worktree: Option<bool>,
        meta: &Map<String, Value>,
    ) -> Retention {
        let mut warnings = Vec::new();
        let (delete_branch, branch_source) = resolve_one(
            "branches",
            delete_branch,
            meta.get("retain_branches"),
            &mut warnings,
        );
        let (remove_worktree, worktree_source) = resolve_one(
            "worktrees",
            remove_worktree,
            meta.get("retain_worktrees"),
            &mut warnings,
        );
        Retention {
            delete_branch,
            remove_worktree,
            branch_source,
            worktree_source,
            warnings,
        }
    }

    /// Returns true when a coordination mission's branch, marker and worktree are torn down
    /// together (both branches deleted and worktrees removed).
    pub fn teardown_coordination(&self) -> bool {
        self.delete_branch && self.remove_worktree
    }
}

fn resolve_one(
    label: &str,
    explicit: Option<bool>,
    raw: Option<&Value>,
    warnings: &mut Vec<String>,
) -> (bool, RetentionSource) {
    let raw = raw.filter(|value| !value.is_null());
    if let Some(explicit) = explicit {
        return (explicit, RetentionSource::Cli);
    }
    match raw {
        Some(Value::Bool(true)) => {
            warnings.push(format!("retention honored for {label} (source: meta.json)"));
            (false, RetentionSource::Meta)
        }
        Some(Value::Bool(false)) | None => (true, RetentionSource::Default),
        Some(other) => {
            warnings.push(format!(
                "malformed retain_{label} value in meta.json ({}); treated as retaining (fail-closed)",
                crate::status::event::python_repr(other)
            ));
            (false, RetentionSource::Meta)
        }
    }
}

/// Returns the evidence of a work package's `approved → done` row recorded by a merge, as Spec
/// Kitty builds it, plus the merge commit: a complete reviewer override in the snapshot's
/// `review` slot gives `snapshot-review:<WP>` with its actor; otherwise the review claimer
/// (the snapshot's `agent`, else `unknown`) with `lane-approved:<WP>`. `repos` carries the
/// commit the work package landed in on `target_branch`.
pub fn merged_done_evidence(
    state: Option<&WpState>,
    wp_id: &str,
    target_branch: &str,
    merge_commit: Option<&str>,
) -> Value {
    let override_actor = state
        .and_then(|state| state.slots.get("review"))
        .and_then(Value::as_object)
        .and_then(|review| review.get("actor"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|actor| !actor.is_empty());
    let (reviewer, reference) = match override_actor {
        Some(actor) => (actor.to_owned(), format!("snapshot-review:{wp_id}")),
        None => {
            let agent = state
                .and_then(|state| state.slots.get("agent"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|agent| !agent.is_empty())
                .unwrap_or("unknown");
            (agent.to_owned(), format!("lane-approved:{wp_id}"))
        }
    };
    let mut review = Map::new();
    review.insert("reference".to_owned(), Value::String(reference));
    review.insert("reviewer".to_owned(), Value::String(reviewer));
    review.insert("verdict".to_owned(), Value::String("approved".to_owned()));
    let mut evidence = Map::new();
    if let Some(commit) = merge_commit {
        let mut repo = Map::new();
        repo.insert("branch".to_owned(), Value::String(target_branch.to_owned()));
        repo.insert("commit".to_owned(), Value::String(commit.to_owned()));
        repo.insert("repo".to_owned(), Value::String(".".to_owned()));
        evidence.insert("repos".to_owned(), Value::Array(vec![Value::Object(repo)]));
    }
    evidence.insert("review".to_owned(), Value::Object(review));
    Value::Object(evidence)
}

/// Returns the `policy_metadata` of a merge's `done` row (Spec Kitty's).
pub fn merged_done_policy_metadata(target_branch: &str) -> Value {
    let mut map = Map::new();
    map.insert(
        "merge_phase".to_owned(),
        Value::String("lane_integrated".to_owned()),
    );
    map.insert(
        "target_branch".to_owned(),
        Value::String(target_branch.to_owned()),
    );
    Value::Object(map)
}

/// Returns the reason of a merge's `done` row (Spec Kitty's).
pub fn merged_done_reason(wp_id: &str, target_branch: &str) -> String {
    format!("Merged {wp_id} into {target_branch}")
}

/// The actor of a merge's `done` rows (Spec Kitty's).
pub const MERGE_ACTOR: &str = "merge";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_their_wire_values() {
        assert_eq!(
            MergeStrategy::parse(" Squash\n"),
            Some(MergeStrategy::Squash)
        );
        assert_eq!(MergeStrategy::parse("merge"), Some(MergeStrategy::Merge));
        assert_eq!(MergeStrategy::parse("rebase"), Some(MergeStrategy::Rebase));
        assert_eq!(MergeStrategy::parse("theirs"), None);
    }

    #[test]
    fn messages_are_spec_kittys() {
        assert_eq!(
            squash_message("kitty/mission-task-list-01M803MD"),
            "feat(kitty/mission-task-list-01M803MD): squash merge of mission"
        );
        assert_eq!(
            lane_merge_message("kitty/mission-x-lane-a", "kitty/mission-x"),
            "Merge kitty/mission-x-lane-a into kitty/mission-x"
        );
        assert_eq!(
            record_done_message("task-list-01M803MD"),
            "chore(task-list-01M803MD): record done transitions for merged WPs"
        );
    }

    #[test]
    fn bookkeeping_is_reconciled_and_code_is_not() {
        let slug = "m-01M803MD";
        let rule = |path: &str| reconcile_rule(path, slug);
        assert_eq!(
            rule("kitty-specs/m-01M803MD/status.events.jsonl"),
            Some(Reconcile::EventLogUnion)
        );
        assert_eq!(
            rule("kitty-specs/other/status.events.jsonl"),
            Some(Reconcile::EventLogUnion)
        );
        assert_eq!(
            rule("kitty-specs/m-01M803MD/status.json"),
            Some(Reconcile::DerivedSnapshot)
        );
        assert_eq!(
            rule("kitty-specs/m-01M803MD/tasks/WP01-x.md"),
            Some(Reconcile::PlanningSurface)
        );
        assert_eq!(
            rule("kitty-specs/m-01M803MD/meta.json"),
            Some(Reconcile::PlanningSurface)
        );
        assert_eq!(rule("kitty-specs/other/spec.md"), None);
        assert_eq!(
            rule("kitty-specs/m-01M803MD/tasks/WP01-x/review-cycle-1.md"),
            None
        );
        assert_eq!(
            rule("kitty-specs/m-01M803MD/traces/a.md"),
            Some(Reconcile::TraceUnion)
        );
        assert_eq!(
            rule("kitty-specs/m-01M803MD/acceptance-matrix.json"),
            Some(Reconcile::KeepOurs)
        );
        assert_eq!(rule("src/app.py"), None);
    }

    #[test]
    fn traces_union_keeps_order_and_blank_lines() {
        assert_eq!(
            union_trace_texts("# T\n\na\nb\n", "# T\n\nb\nc\r\n"),
            "# T\n\na\nb\n\nc\n"
        );
        assert_eq!(union_trace_texts("", ""), "");
    }

    #[test]
    fn retention_follows_flags_then_meta_then_the_default() {
        let mut meta = Map::new();
        let plain = Retention::resolve(None, None, &meta);
        assert!(plain.delete_branch && plain.remove_worktree);
        assert_eq!(plain.branch_source, RetentionSource::Default);
        meta.insert("retain_branches".to_owned(), Value::Bool(true));
        meta.insert(
            "retain_worktrees".to_owned(),
            Value::String("yes".to_owned()),
        );
        let kept = Retention::resolve(None, None, &meta);
        assert!(!kept.delete_branch && !kept.remove_worktree);
        assert_eq!(
            kept.warnings,
            [
                "retention honored for branches (source: meta.json)",
                "malformed retain_worktrees value in meta.json ('yes'); treated as retaining (fail-closed)"
            ]
        );
        let flags = Retention::resolve(Some(true), Some(false), &meta);
        assert!(flags.delete_branch && !flags.remove_worktree);
        assert_eq!(flags.worktree_source, RetentionSource::Cli);
        assert!(flags.warnings.is_empty());
    }

    #[test]
    fn done_evidence_names_the_review_claimer_and_the_merge_commit() {
        let mut state = WpState {
            lane: crate::status::lane::Lane::Approved,
            actor: "reviewer".to_owned(),
            last_transition_at: None,
            last_event_id: None,
            force_count: 0,
            slots: std::collections::BTreeMap::new(),
        };
        state
            .slots
            .insert("agent".to_owned(), Value::String("claude".to_owned()));
        let evidence = merged_done_evidence(Some(&state), "WP01", "main", Some("abc123"));
        assert_eq!(
            evidence.to_string(),
            r#"{"repos":[{"branch":"main","commit":"abc123","repo":"."}],"review":{"reference":"lane-approved:WP01","reviewer":"claude","verdict":"approved"}}"#
        );
        let bare = merged_done_evidence(None, "WP02", "main", None);
        assert_eq!(
            bare.to_string(),
            r#"{"review":{"reference":"lane-approved:WP02","reviewer":"unknown","verdict":"approved"}}"#
        );
    }
}
