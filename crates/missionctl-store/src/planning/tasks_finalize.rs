//! `tasks finalize`: checks a mission's work packages as one plan, seeds the new ones
//! `genesis → planned` through the status aggregate, computes `lanes.json`, and commits the
//! planning artifacts on the planning surface.
//!
//! Order of work, all checks first:
//!
//! 1. read every `tasks/WP*.md` of the primary mission directory and validate the plan
//!    ([`validate_plan`]); an error stops here, nothing written; then check the work
//!    packages' `requirement_refs` against `spec.md` of the same directory — the surface
//!    `map-requirements` writes them on — and report refs `spec.md` does not declare and
//!    functional requirements no work package maps as warnings ([`requirement_findings`]
//!    says why warnings);
//! 2. compute the lanes (for a lane topology) and find the work packages without a
//!    transition; with `--validate-only`, report and stop;
//! 3. check the planning surface (target branch checked out, not protected);
//! 4. seed the new work packages in one status transaction (committed where status lives:
//!    the target branch, or the coordination branch — never overwriting that log);
//! 5. write `lanes.json` when the plan changed (its `planning_commit_sha` is the target
//!    branch's tip at that point, as Spec Kitty records it);
//! 6. commit the planning paths (`tasks/*`, `lanes.json`, `tasks.md`, `wps.yaml`) that differ
//!    from the target branch's tip.
//!
//! A second run over an unchanged plan seeds nothing, keeps `lanes.json` (its `computed_at`
//! included) and commits nothing: it writes nothing.

use missionctl_core::lanes_manifest::{
    LaneComputationError, LanesInput, LanesManifest, compute_lanes,
};
use missionctl_core::meta::MissionId;
use missionctl_core::requirement::{
    DeclaredRequirements, RequirementCoverage, requirement_findings,
};
use missionctl_core::task_plan::{PlanFinding, PlanReport, WorkPackageEntry, validate_plan};
use missionctl_core::work_package::ExecutionMode;
use serde::Serialize;

use crate::clock::{Clock, isoformat};
use crate::fs_util::PathError;
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::planning::work_package::{WorkPackageFileError, load_work_packages};
use crate::planning::{PlanningError, PlanningSurface};
use crate::repo::Repo;
use crate::status::{CommitReceipt, MissionStatus, StatusLoadError, StatusWriteError};

/// The other planning files finalize commits when they exist (Spec Kitty's list).
const OTHER_PLANNING_FILES: [&str; 2] = ["tasks.md", "wps.yaml"];

/// How to finalize.
#[derive(Debug, Clone, Copy)]
pub struct FinalizeOptions<'a> {
    /// Check and report only; write nothing.
    pub validate_only: bool,
    /// Branches never committed to.
    pub protected_branches: &'a crate::repo::protection::ProtectedBranches,
}

/// One work package as finalize saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinalizedWorkPackage {
    /// The id.
    pub wp_id: String,
    /// The title.
    pub title: Option<String>,
    /// `tasks/<file>`.
    pub file: String,
    /// Its dependencies.
    pub dependencies: Vec<String>,
    /// `code_change` or `planning_artifact`.
    pub execution_mode: String,
    /// Its lane in `lanes.json`, for a lane topology.
    pub lane_id: Option<String>,
    /// Whether this run seeds it (or, with `--validate-only`, would).
    pub seeded: bool,
}

/// What finalize did (or, with `--validate-only`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct FinalizeReport {
    /// The mission.
    pub mission_slug: String,
    /// Its stored topology.
    pub topology: String,
    /// The branch planning artifacts are committed to.
    pub planning_branch: String,
    /// Whether nothing was written on purpose.
    pub validate_only: bool,
    /// The work packages, in file order.
    pub work_packages: Vec<FinalizedWorkPackage>,
    /// The warnings (errors stop finalize before this report): the plan's, then the
    /// requirement findings.
    pub warnings: Vec<PlanFinding>,
    /// How the work packages' `requirement_refs` cover the functional requirements of
    /// `spec.md`; `None` when the mission has no `spec.md`.
    pub requirement_coverage: Option<RequirementCoverage>,
    /// The lanes, for a lane topology.
    pub lanes: Option<LanesManifest>,
    /// Whether `lanes.json` was (or would be) written: absent, or its plan changed.
    pub lanes_changed: bool,
    /// The work packages seeded `genesis → planned` (or that would be).
    pub seeded: Vec<String>,
    /// The commit of the seed, when one was written.
    pub seed_receipt: Option<CommitReceipt>,
    /// The planning paths committed (or that would be), repository-relative.
    pub committed_paths: Vec<String>,
    /// The planning commit, when one was made.
    pub planning_commit: Option<String>,
}

impl FinalizeReport {
    /// Returns true when the run wrote nothing (or, with `--validate-only`, would write
    /// nothing).
    pub fn is_noop(&self) -> bool {
        self.seeded.is_empty() && !self.lanes_changed && self.committed_paths.is_empty()
    }
}

/// Why finalize refused or failed. Up to the seed, nothing is written; see the module docs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FinalizeError {
    /// The planning surface cannot be resolved or written.
    #[error(transparent)]
    Planning(#[from] PlanningError),
    /// A work-package file cannot be read.
    #[error(transparent)]
    WorkPackage(#[from] WorkPackageFileError),
    /// The mission has no work packages.
    #[error("Mission `{mission_slug}` has no work packages (no `tasks/WP*.md`)")]
    NoWorkPackages {
        /// The mission.
        mission_slug: String,
    },
    /// The plan has errors; every finding is listed.
    #[error(
        "{} in the work packages of `{mission_slug}`: {}",
        if findings.len() == 1 { "1 problem".to_owned() } else { format!("{} problems", findings.len()) },
        findings.iter().map(|finding| format!("{finding} ({})", finding.code)).collect::<Vec<_>>().join("; ")
    )]
    Invalid {
        /// The mission.
        mission_slug: String,
        /// The errors, in file order.
        findings: Vec<PlanFinding>,
    },
    /// The lanes cannot be computed.
    #[error(transparent)]
    Lanes(#[from] LaneComputationError),
    /// The status aggregate cannot be loaded.
    #[error(transparent)]
    StatusLoad(#[from] StatusLoadError),
    /// The seed could not be written.
    #[error(transparent)]
    Status(#[from] StatusWriteError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl FinalizeError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            FinalizeError::Planning(error) => error.code(),
            FinalizeError::WorkPackage(error) => error.code(),
            FinalizeError::NoWorkPackages { .. } => "NO_WORK_PACKAGES",
            FinalizeError::Invalid { .. } => "TASKS_INVALID",
            FinalizeError::Lanes(error) => error.code(),
            FinalizeError::StatusLoad(error) => error.code(),
            FinalizeError::Status(error) => error.code(),
            FinalizeError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            FinalizeError::Planning(error) => error.hint(),
            FinalizeError::WorkPackage(error) => error.hint(),
            FinalizeError::NoWorkPackages { mission_slug } => {
                format!(
                    "Add one with `missionctl wp add --mission {mission_slug} WP01 --title \"…\"`"
                )
            }
            FinalizeError::Invalid { .. } => {
                "Fix the front matter at the lines given, then run `tasks finalize` again; \
                 nothing was written"
                    .to_owned()
            }
            FinalizeError::Lanes(_) => {
                "Break the dependency cycle among the work packages of that lane".to_owned()
            }
            FinalizeError::StatusLoad(error) => error.hint(),
            FinalizeError::Status(error) => error.hint(),
            FinalizeError::Io(error) => error.hint(),
        }
    }
}

/// Finalizes a mission's work packages. See the [module](self) docs.
pub fn finalize_tasks(
    repo: &Repo,
    handle: &str,
    options: &FinalizeOptions<'_>,
    clock: &dyn Clock,
) -> Result<FinalizeReport, FinalizeError> {
    let surface = PlanningSurface::resolve(repo, handle)?;
    let mission_slug = surface.mission_slug().to_owned();
    // A finalize that writes reads the plan under the mission's lock, as it commits it.
    let transaction = if options.validate_only {
        None
    } else {
        Some(surface.begin(repo, "tasks finalize")?)
    };
    let entries = load_work_packages(&surface.containment, &surface.mission_dir)?;
    if entries.is_empty() {
        return Err(FinalizeError::NoWorkPackages { mission_slug });
    }
    let plan: PlanReport = validate_plan(&entries);
    if !plan.is_valid() {
        return Err(FinalizeError::Invalid {
            mission_slug,
            findings: plan.errors().cloned().collect(),
        });
    }
    let mut warnings: Vec<PlanFinding> = plan.warnings().cloned().collect();
    let requirement_coverage = match surface
        .containment
        .read(&surface.mission_dir.join("spec.md"))?
    {
        Some(spec) => {
            let declared = DeclaredRequirements::parse(&String::from_utf8_lossy(&spec));
            warnings.extend(requirement_findings(&declared, &entries));
            Some(RequirementCoverage::of(&declared, &entries))
        }
        None => None,
    };
    let status = MissionStatus::load(repo, &mission_slug, options.protected_branches)?;
    let log = status.read_log().map_err(StatusWriteError::from)?;
    let ids: Vec<String> = entries.iter().map(|entry| entry.id().to_owned()).collect();
    let seeded: Vec<String> = ids
        .iter()
        .filter(|id| {
            !log.transitions()
                .any(|event| event.wp_id.as_str() == id.as_str())
        })
        .cloned()
        .collect();

    let has_lanes = surface.topology().has_lanes();
    let lanes_path = surface.mission_dir.join(LANES_FILE_NAME);
    let existing = surface
        .containment
        .read(&lanes_path)?
        .and_then(|bytes| LanesManifest::parse(&bytes).ok());
    let target_tip = || -> Result<Option<String>, FinalizeError> {
        Ok(repo
            .branch_tip(&surface.branch)
            .map_err(PlanningError::from)?)
    };
    let mut lanes = if has_lanes {
        Some(lanes_for(&surface, &entries, clock, target_tip()?)?)
    } else {
        None
    };
    let lanes_changed = match (&lanes, &existing) {
        (Some(computed), Some(existing)) => !computed.same_plan(existing),
        (Some(_), None) => true,
        (None, _) => false,
    };
    let mut planning_paths: Vec<String> = entries
        .iter()
        .map(|entry| surface.repo_path(&entry.file))
        .collect();
    for name in OTHER_PLANNING_FILES {
        if surface
            .containment
            .is_file(&surface.mission_dir.join(name))?
        {
            planning_paths.push(surface.repo_path(name));
        }
    }
    if has_lanes {
        planning_paths.push(surface.repo_path(LANES_FILE_NAME));
    }

    let mut report = FinalizeReport {
        mission_slug: mission_slug.clone(),
        topology: surface.topology().as_str().to_owned(),
        planning_branch: surface.branch.clone(),
        validate_only: options.validate_only,
        work_packages: Vec::new(),
        warnings,
        requirement_coverage,
        lanes: None,
        lanes_changed,
        seeded: seeded.clone(),
        seed_receipt: None,
        committed_paths: Vec::new(),
        planning_commit: None,
    };

    if options.validate_only {
        let mut would_commit = surface.dirty_paths(&planning_paths)?;
        if lanes_changed && !would_commit.contains(&surface.repo_path(LANES_FILE_NAME)) {
            would_commit.push(surface.repo_path(LANES_FILE_NAME));
        }
        report.committed_paths = would_commit;
        if !lanes_changed {
            lanes = existing.or(lanes);
        }
        report.work_packages = describe(&entries, lanes.as_ref(), &seeded);
        report.lanes = lanes;
        return Ok(report);
    }

    surface.check_writable(repo, options.protected_branches)?;
    let Some(transaction) = transaction else {
        return Ok(report);
    };
    let (seed, mut transaction) = status.seed_planned_within(transaction, &ids, clock)?;
    if let Some(outcome) = seed {
        report.seeded = outcome
            .events
            .iter()
            .map(|event| event.wp_id.clone())
            .collect();
        report.seed_receipt = Some(outcome.receipt);
    } else {
        report.seeded = Vec::new();
    }
    if lanes_changed {
        // The planning commit Spec Kitty records: the target branch's tip after the seed.
        let computed = lanes_for(&surface, &entries, clock, target_tip()?)?;
        transaction
            .write_file(&lanes_path, computed.to_json().as_bytes())
            .map_err(PlanningError::from)?;
        lanes = Some(computed);
    } else if has_lanes {
        lanes = existing.or(lanes);
    }
    let message = format!("Add tasks for feature {mission_slug}");
    let committed = surface.dirty_paths(&planning_paths)?;
    report.planning_commit = surface.commit(
        &mut transaction,
        &committed,
        &message,
        crate::clock::unix_seconds(clock),
    )?;
    transaction.finish().map_err(PlanningError::from)?;
    report.committed_paths = committed;
    report.work_packages = describe(&entries, lanes.as_ref(), &report.seeded);
    report.lanes = lanes;
    Ok(report)
}

fn lanes_for(
    surface: &PlanningSurface,
    entries: &[WorkPackageEntry],
    clock: &dyn Clock,
    planning_commit_sha: Option<String>,
) -> Result<LanesManifest, FinalizeError> {
    let identity = &surface.mission.context.identity;
    Ok(compute_lanes(&LanesInput {
        mission_slug: surface.mission_slug().to_owned(),
        mission_id: MissionId::parse(identity.mission_id().as_str()).ok(),
        target_branch: surface.branch.clone(),
        computed_at: isoformat(clock.now()),
        planning_commit_sha,
        work_packages: entries.iter().map(WorkPackageEntry::lane_input).collect(),
    })?)
}

fn describe(
    entries: &[WorkPackageEntry],
    lanes: Option<&LanesManifest>,
    seeded: &[String],
) -> Vec<FinalizedWorkPackage> {
    entries
        .iter()
        .map(|entry| {
            let wp_id = entry.id().to_owned();
            FinalizedWorkPackage {
                title: entry.front.title.clone(),
                file: entry.file.clone(),
                dependencies: entry.front.dependencies.clone(),
                execution_mode: entry
                    .front
                    .mode()
                    .unwrap_or(ExecutionMode::CodeChange)
                    .as_str()
                    .to_owned(),
                lane_id: lanes
                    .and_then(|lanes| lanes.lane_for_wp(&wp_id))
                    .map(|lane| lane.lane_id.clone()),
                seeded: seeded.contains(&wp_id),
                wp_id,
            }
        })
        .collect()
}
