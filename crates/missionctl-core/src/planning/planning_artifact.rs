//! The artifact partition of a mission directory: which kind of artifact a path is, and
//! whether it belongs to the PRIMARY partition (planning artifacts, always written to the
//! primary mission directory and committed to the target branch) or to the COORD partition
//! (status, decisions, matrices, traces and review cycles, which a coordination topology
//! writes on the coordination branch).
//!
//! The kinds and the path classifier are Spec Kitty's (topology-context §7.1). The partition
//! is disjoint and exhaustive over [`ArtifactKind::ALL`]; a path no kind claims is `None`,
//! never guessed. Planning writes (`spec-commit`, `map-requirements`, `tasks finalize`)
//! accept PRIMARY kinds only.

use std::fmt;

use serde::Serialize;

use crate::mission::meta::KITTY_SPECS_DIR;

/// The two halves of the partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Partition {
    /// Planning artifacts: the primary mission directory, committed to the target branch, for
    /// every topology.
    Primary,
    /// Coordination artifacts: the coordination branch's worktree for `coord` and
    /// `lanes_with_coord`, the primary directory otherwise.
    Coord,
}

impl Partition {
    /// Returns the reference's name, `PRIMARY` or `COORD`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Partition::Primary => "PRIMARY",
            Partition::Coord => "COORD",
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a file of a mission directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ArtifactKind {
    /// `meta.json`.
    PrimaryMetadata,
    /// `spec.md`.
    Spec,
    /// `data-model.md`.
    DataModel,
    /// `research.md`.
    Research,
    /// `checklists/…`.
    Checklist,
    /// `plan.md`.
    FinalizedExecutionPlan,
    /// `tasks.md`, `wps.yaml`.
    TasksIndex,
    /// `tasks/…` (the `WP*.md` files, `tasks/<wp>/baseline-tests.json`) and the top-level
    /// `baseline-tests.json`.
    WorkPackageTask,
    /// `lanes.json`.
    LaneState,
    /// `analysis-report.md`.
    AnalysisReport,
    /// `retrospective.yaml`.
    Retrospective,
    /// `status.events.jsonl`, `status.json`.
    StatusState,
    /// `decisions.events.jsonl`.
    DecisionLog,
    /// `issue-matrix.md`, `issue-matrix.json`.
    IssueMatrix,
    /// `acceptance-matrix.json`.
    AcceptanceMatrix,
    /// `traces/…`.
    TracerFile,
    /// `tasks/**/review-cycle-*.md`.
    ReviewCycle,
}

impl ArtifactKind {
    /// Every kind, PRIMARY kinds first, in the reference's order.
    pub const ALL: [ArtifactKind; 17] = [
        ArtifactKind::PrimaryMetadata,
        ArtifactKind::Spec,
        ArtifactKind::DataModel,
        ArtifactKind::Research,
        ArtifactKind::Checklist,
        ArtifactKind::FinalizedExecutionPlan,
        ArtifactKind::TasksIndex,
        ArtifactKind::WorkPackageTask,
        ArtifactKind::LaneState,
        ArtifactKind::AnalysisReport,
        ArtifactKind::Retrospective,
        ArtifactKind::StatusState,
        ArtifactKind::DecisionLog,
        ArtifactKind::IssueMatrix,
        ArtifactKind::AcceptanceMatrix,
        ArtifactKind::TracerFile,
        ArtifactKind::ReviewCycle,
    ];

    /// Returns the reference's name (`SPEC`, `STATUS_STATE`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::PrimaryMetadata => "PRIMARY_METADATA",
            ArtifactKind::Spec => "SPEC",
            ArtifactKind::DataModel => "DATA_MODEL",
            ArtifactKind::Research => "RESEARCH",
            ArtifactKind::Checklist => "CHECKLIST",
            ArtifactKind::FinalizedExecutionPlan => "FINALIZED_EXECUTION_PLAN",
            ArtifactKind::TasksIndex => "TASKS_INDEX",
            ArtifactKind::WorkPackageTask => "WORK_PACKAGE_TASK",
            ArtifactKind::LaneState => "LANE_STATE",
            ArtifactKind::AnalysisReport => "ANALYSIS_REPORT",
            ArtifactKind::Retrospective => "RETROSPECTIVE",
            ArtifactKind::StatusState => "STATUS_STATE",
            ArtifactKind::DecisionLog => "DECISION_LOG",
            ArtifactKind::IssueMatrix => "ISSUE_MATRIX",
            ArtifactKind::AcceptanceMatrix => "ACCEPTANCE_MATRIX",
            ArtifactKind::TracerFile => "TRACER_FILE",
            ArtifactKind::ReviewCycle => "REVIEW_CYCLE",
        }
    }

    /// Returns the partition the kind belongs to.
    pub const fn partition(self) -> Partition {
        match self {
            ArtifactKind::PrimaryMetadata
            | ArtifactKind::Spec
            | ArtifactKind::DataModel
            | ArtifactKind::Research
            | ArtifactKind::Checklist
            | ArtifactKind::FinalizedExecutionPlan
            | ArtifactKind::TasksIndex
            | ArtifactKind::WorkPackageTask
            | ArtifactKind::LaneState
            | ArtifactKind::AnalysisReport
            | ArtifactKind::Retrospective => Partition::Primary,
            ArtifactKind::StatusState
            | ArtifactKind::DecisionLog
            | ArtifactKind::IssueMatrix
            | ArtifactKind::AcceptanceMatrix
            | ArtifactKind::TracerFile
            | ArtifactKind::ReviewCycle => Partition::Coord,
        }
    }

    /// Returns true for a planning artifact (the PRIMARY partition).
    pub const fn is_primary(self) -> bool {
        matches!(self.partition(), Partition::Primary)
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns the kind of a file directly in the mission directory, by its name.
fn kind_of_basename(name: &str) -> Option<ArtifactKind> {
    Some(match name {
        "meta.json" => ArtifactKind::PrimaryMetadata,
        "spec.md" => ArtifactKind::Spec,
        "data-model.md" => ArtifactKind::DataModel,
        "research.md" => ArtifactKind::Research,
        "plan.md" => ArtifactKind::FinalizedExecutionPlan,
        "tasks.md" | "wps.yaml" => ArtifactKind::TasksIndex,
        "baseline-tests.json" => ArtifactKind::WorkPackageTask,
        "lanes.json" => ArtifactKind::LaneState,
        "analysis-report.md" => ArtifactKind::AnalysisReport,
        "retrospective.yaml" => ArtifactKind::Retrospective,
        "status.events.jsonl" | "status.json" => ArtifactKind::StatusState,
        "decisions.events.jsonl" => ArtifactKind::DecisionLog,
        "issue-matrix.md" | "issue-matrix.json" => ArtifactKind::IssueMatrix,
        "acceptance-matrix.json" => ArtifactKind::AcceptanceMatrix,
        _ => return None,
    })
}

/// Returns the kind of everything under a directory of the mission directory.
fn kind_of_dir(name: &str) -> Option<ArtifactKind> {
    Some(match name {
        "tasks" => ArtifactKind::WorkPackageTask,
        "checklists" => ArtifactKind::Checklist,
        "traces" => ArtifactKind::TracerFile,
        _ => return None,
    })
}

/// Returns true for a review-cycle file name: `review-cycle-*.md`.
fn is_review_cycle_name(name: &str) -> bool {
    name.strip_prefix("review-cycle-")
        .is_some_and(|rest| rest.ends_with(".md"))
}

/// Returns the kind of a path relative to the mission directory (`spec.md`,
/// `tasks/WP01-x.md`, `checklists/requirements.md`), `/`-separated; `None` for a path no kind
/// claims (an unknown name, an empty path, a path with `.` or `..` components).
pub fn classify_mission_path(relative: &str) -> Option<ArtifactKind> {
    let components: Vec<&str> = relative
        .split('/')
        .filter(|part| !part.is_empty())
        .collect();
    if components
        .iter()
        .any(|component| matches!(*component, "." | ".."))
    {
        return None;
    }
    match components.as_slice() {
        [] => None,
        [single] => kind_of_basename(single).or_else(|| kind_of_dir(single)),
        [first, .., last] => {
            if *first == "tasks" && is_review_cycle_name(last) {
                Some(ArtifactKind::ReviewCycle)
            } else {
                kind_of_dir(first)
            }
        }
    }
}

/// Classifies a path (repository-relative or absolute, `/`-separated) the way Spec Kitty's
/// classifier does: find the `kitty-specs` component; the next component is the mission
/// directory, which must equal `mission_slug` when one is given; the rest is classified by
/// [`classify_mission_path`]. `None` when there is no `kitty-specs` component, the mission
/// does not match, or no kind claims the rest.
pub fn classify_artifact_path(path: &str, mission_slug: Option<&str>) -> Option<ArtifactKind> {
    let components: Vec<&str> = path.split('/').collect();
    let at = components
        .iter()
        .position(|component| *component == KITTY_SPECS_DIR)?;
    let mission = components.get(at + 1)?;
    if mission.is_empty() || mission_slug.is_some_and(|slug| slug != *mission) {
        return None;
    }
    classify_mission_path(&components[at + 2..].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file name of the reference's table, with its kind.
    const TABLE: [(&str, ArtifactKind); 30] = [
        ("meta.json", ArtifactKind::PrimaryMetadata),
        ("spec.md", ArtifactKind::Spec),
        ("data-model.md", ArtifactKind::DataModel),
        ("research.md", ArtifactKind::Research),
        ("checklists/requirements.md", ArtifactKind::Checklist),
        ("checklists/a/b.md", ArtifactKind::Checklist),
        ("plan.md", ArtifactKind::FinalizedExecutionPlan),
        ("tasks.md", ArtifactKind::TasksIndex),
        ("wps.yaml", ArtifactKind::TasksIndex),
        ("tasks/WP01-storage.md", ArtifactKind::WorkPackageTask),
        ("tasks/README.md", ArtifactKind::WorkPackageTask),
        ("tasks/.gitkeep", ArtifactKind::WorkPackageTask),
        (
            "tasks/WP01-storage/baseline-tests.json",
            ArtifactKind::WorkPackageTask,
        ),
        ("baseline-tests.json", ArtifactKind::WorkPackageTask),
        ("lanes.json", ArtifactKind::LaneState),
        ("analysis-report.md", ArtifactKind::AnalysisReport),
        ("retrospective.yaml", ArtifactKind::Retrospective),
        ("status.events.jsonl", ArtifactKind::StatusState),
        ("status.json", ArtifactKind::StatusState),
        ("decisions.events.jsonl", ArtifactKind::DecisionLog),
        ("issue-matrix.md", ArtifactKind::IssueMatrix),
        ("issue-matrix.json", ArtifactKind::IssueMatrix),
        ("acceptance-matrix.json", ArtifactKind::AcceptanceMatrix),
        ("traces/run-1.jsonl", ArtifactKind::TracerFile),
        ("traces/a/b/c.json", ArtifactKind::TracerFile),
        (
            "tasks/WP01-storage/review-cycle-1.md",
            ArtifactKind::ReviewCycle,
        ),
        ("tasks/review-cycle-2.md", ArtifactKind::ReviewCycle),
        ("tasks/a/b/review-cycle-x.md", ArtifactKind::ReviewCycle),
        ("tasks", ArtifactKind::WorkPackageTask),
        ("checklists", ArtifactKind::Checklist),
    ];

    #[test]
    fn every_name_of_the_table_has_its_kind() {
        for (path, kind) in TABLE {
            assert_eq!(classify_mission_path(path), Some(kind), "{path}");
            let full = format!("kitty-specs/demo-01M0M9D8/{path}");
            assert_eq!(
                classify_artifact_path(&full, Some("demo-01M0M9D8")),
                Some(kind),
                "{full}"
            );
            assert_eq!(classify_artifact_path(&full, None), Some(kind), "{full}");
        }
    }

    #[test]
    fn the_partition_is_disjoint_and_exhaustive() {
        let primary: Vec<ArtifactKind> = ArtifactKind::ALL
            .into_iter()
            .filter(|kind| kind.partition() == Partition::Primary)
            .collect();
        let coord: Vec<ArtifactKind> = ArtifactKind::ALL
            .into_iter()
            .filter(|kind| kind.partition() == Partition::Coord)
            .collect();
        assert_eq!(primary.len() + coord.len(), ArtifactKind::ALL.len());
        assert!(primary.iter().all(|kind| !coord.contains(kind)));
        assert_eq!(
            coord,
            [
                ArtifactKind::StatusState,
                ArtifactKind::DecisionLog,
                ArtifactKind::IssueMatrix,
                ArtifactKind::AcceptanceMatrix,
                ArtifactKind::TracerFile,
                ArtifactKind::ReviewCycle,
            ]
        );
        let mut names: Vec<&str> = ArtifactKind::ALL.iter().map(|kind| kind.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ArtifactKind::ALL.len(), "names are unique");
        // Every kind is reachable from some path of the table.
        for kind in ArtifactKind::ALL {
            assert!(
                TABLE.iter().any(|(_, claimed)| *claimed == kind),
                "{kind} has no path"
            );
        }
    }

    #[test]
    fn names_serialize_as_the_reference_spells_them() -> Result<(), serde_json::Error> {
        for kind in ArtifactKind::ALL {
            assert_eq!(
                serde_json::to_value(kind)?,
                serde_json::Value::String(kind.as_str().to_owned())
            );
            assert_eq!(
                serde_json::to_value(kind.partition())?,
                serde_json::Value::String(kind.partition().to_string())
            );
        }
        Ok(())
    }

    #[test]
    fn review_cycles_are_coord_only_under_tasks() {
        assert_eq!(
            classify_mission_path("review-cycle-1.md"),
            None,
            "not under tasks/"
        );
        assert_eq!(
            classify_mission_path("checklists/review-cycle-1.md"),
            Some(ArtifactKind::Checklist)
        );
        assert_eq!(
            classify_mission_path("tasks/WP01/review-cycle-1.txt"),
            Some(ArtifactKind::WorkPackageTask)
        );
        assert_eq!(
            classify_mission_path("tasks/WP01/review-cycle-.md"),
            Some(ArtifactKind::ReviewCycle)
        );
    }

    #[test]
    fn unknown_paths_are_none() {
        for path in [
            "",
            "/",
            "notes.txt",
            "SPEC.md",
            "research/notes.md",
            "contracts/api.yaml",
            "spec.md/extra",
            "../spec.md",
            "tasks/../status.json",
            "./spec.md",
            "mission-events.jsonl",
        ] {
            assert_eq!(classify_mission_path(path), None, "{path:?}");
        }
    }

    #[test]
    fn the_classifier_finds_the_mission_after_kitty_specs() {
        let slug = Some("demo-01M0M9D8");
        assert_eq!(
            classify_artifact_path("/repo/kitty-specs/demo-01M0M9D8/status.json", slug),
            Some(ArtifactKind::StatusState)
        );
        assert_eq!(
            classify_artifact_path(
                ".worktrees/demo-01M0M9D8-coord/kitty-specs/demo-01M0M9D8/spec.md",
                slug
            ),
            Some(ArtifactKind::Spec)
        );
        assert_eq!(
            classify_artifact_path("kitty-specs/other-01M0M9D9/spec.md", slug),
            None,
            "another mission"
        );
        assert_eq!(classify_artifact_path("kitty-specs/spec.md", None), None);
        assert_eq!(classify_artifact_path("kitty-specs/demo", None), None);
        assert_eq!(classify_artifact_path("kitty-specs//spec.md", None), None);
        assert_eq!(classify_artifact_path("specs/demo/spec.md", None), None);
        assert_eq!(classify_artifact_path("", None), None);
    }
}
