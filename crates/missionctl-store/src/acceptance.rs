//! `accept`: Spec Kitty's acceptance checks over a mission read from disk, and the
//! `meta.json` fields and commits an acceptance records.
//!
//! [`check_acceptance`] gathers the facts the core's [`summarize`] judges: the work packages
//! and their lanes in the status log, the planning files, `lanes.json`, the branch checked
//! out in the primary checkout, `acceptance-matrix.json` (where the status lives) and the
//! working tree's changes. It writes nothing.
//!
//! [`accept`] runs the same checks and, when they pass, records the acceptance as Spec Kitty
//! does, in one write transaction of the mission's scope (all of it lands, or none):
//!
//! 1. `meta.json` gets `accepted_at`, `accepted_by`, `acceptance_mode`,
//!    `accepted_from_commit` and a new `acceptance_history` entry, committed alone as
//!    `Accept <slug>`;
//! 2. the new commit is written back as `accept_commit` (top level and in the history entry),
//!    committed as `Record acceptance commit for <slug>`;
//! 3. what the acceptance changed besides — `status_phase` stamped when absent, the matrix's
//!    pending `code_review` criteria passed when every work package carries an approving
//!    review — is committed as `Finalize acceptance artifacts for <slug>`, on the branch the
//!    matrix lives on.
//!
//! `--test` commands are recorded in the notes, never run (Spec Kitty does not run them
//! either).

use std::path::{Path, PathBuf};

use missionctl_core::lifecycle::acceptance::{
    AcceptanceFacts, AcceptanceRecord, AcceptanceSummary, LanesFact, MatrixFact, WorkPackageFact,
    is_ignored_dirty_path, porcelain_path, record_accept_commit, record_acceptance, summarize,
};
use missionctl_core::lifecycle::acceptance_matrix::{
    AcceptanceMatrix, MATRIX_FILE, WorkPackageReview,
};
use missionctl_core::mission::meta::MissionMeta;
use missionctl_core::planning::lanes_manifest::{LanesManifest, PLANNING_LANE_ID};
use missionctl_core::status::event_log::decode_review_result;
use missionctl_core::text::timestamp::isoformat_utc;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::{Clock, unix_micros};
use crate::fs_util::PathError;
use crate::git::{GitError, git};
use crate::mission::dir::StatusReadError;
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::repo::protection::{ProtectedBranchRefusal, ProtectedBranches, ProtectedWrite};
use crate::repo::{Repo, RepoError};
use crate::status::{MissionStatus, StatusLoadError};
use crate::view::work_packages::{WorkPackagesError, mission_work_packages};
use crate::write::{CommitFiles, CommitRequest, Scope, WriteError, WriteTransaction};

/// The planning files scanned for open clarifications, in Spec Kitty's order.
const CLARIFICATION_FILES: [&str; 6] = [
    "spec.md",
    "plan.md",
    "quickstart.md",
    "tasks.md",
    "research.md",
    "data-model.md",
];

/// The planning files an acceptance requires.
const REQUIRED_FILES: [&str; 3] = ["spec.md", "plan.md", "tasks.md"];

/// The optional artifacts of a `software-dev` mission (its `artifacts.optional`).
const SOFTWARE_DEV_OPTIONAL: [&str; 5] = [
    "data-model.md",
    "contracts",
    "quickstart.md",
    "research.md",
    "checklists",
];

/// The optional artifacts Spec Kitty falls back to for a mission type it has no list for.
const FALLBACK_OPTIONAL: [&str; 4] = ["quickstart.md", "data-model.md", "research.md", "contracts"];

/// The name of the `software-dev` mission in Spec Kitty's messages.
const SOFTWARE_DEV_NAME: &str = "Software Dev Kitty";

/// The path conventions of a `software-dev` mission: (key, path, under the mission directory).
const SOFTWARE_DEV_PATHS: [(&str, &str, bool); 4] = [
    ("workspace", "src/", false),
    ("tests", "tests/", false),
    ("deliverables", "contracts/", true),
    ("documentation", "docs/", false),
];

/// Where an acceptance is recorded: `local` (no remote) or `pr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AcceptMode {
    /// Recorded on the branch, nothing to open.
    Local,
    /// Recorded on the branch, to be pushed and reviewed in a pull request.
    Pr,
}

impl AcceptMode {
    /// Returns the mode as `meta.json` records it.
    pub fn as_str(self) -> &'static str {
        match self {
            AcceptMode::Local => "local",
            AcceptMode::Pr => "pr",
        }
    }
}

/// What the checks found, and where.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceCheck {
    /// The mission.
    pub mission_slug: String,
    /// The outcome of Spec Kitty's checks.
    pub summary: AcceptanceSummary,
    /// The commit checked out in the primary checkout.
    pub head_commit: Option<String>,
    /// The matrix's overall verdict, when it has one.
    pub matrix_verdict: Option<String>,
    /// The work packages approved or done.
    pub accepted_wps: Vec<String>,
    /// The work packages approved (not yet merged).
    pub approved_wps: Vec<String>,
    /// The work packages done.
    pub done_wps: Vec<String>,
    /// The work packages approved and waiting for the merge.
    pub merge_pending_wps: Vec<String>,
    /// Whether `meta.json` records an acceptance already.
    pub already_accepted: bool,
    #[serde(skip)]
    status: Option<MissionStatus>,
    #[serde(skip)]
    matrix: Option<(PathBuf, AcceptanceMatrix)>,
    #[serde(skip)]
    reviews: Vec<WorkPackageReview>,
}

/// What to accept with.
#[derive(Debug, Clone)]
pub struct AcceptRequest<'a> {
    /// Who accepts (`accepted_by`).
    pub actor: String,
    /// `local` or `pr`; `None`: `pr` when the repository has a remote, else `local`.
    pub mode: Option<AcceptMode>,
    /// The validation commands to record in the notes (never run).
    pub tests: Vec<String>,
    /// Do not check work packages' runtime metadata; path conventions only warn.
    pub lenient: bool,
    /// The branches acceptance never commits on.
    pub protected_branches: &'a ProtectedBranches,
}

/// What an acceptance recorded.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptReport {
    /// The checks, as they passed.
    pub check: AcceptanceCheck,
    /// When (`accepted_at` of `meta.json`).
    pub accepted_at: String,
    /// Who.
    pub accepted_by: String,
    /// `local` or `pr`.
    pub mode: AcceptMode,
    /// The commit the acceptance was made from (`accepted_from_commit`).
    pub parent_commit: Option<String>,
    /// The `Accept <slug>` commit (`accept_commit`).
    pub accept_commit: Option<String>,
    /// Every commit made, oldest first.
    pub commits: Vec<String>,
    /// The branch the acceptance is recorded on.
    pub branch: String,
    /// The notes Spec Kitty prints (the commits, the validation commands).
    pub notes: Vec<String>,
}

/// Why an acceptance could not be checked or recorded. Nothing is written when it is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The mission cannot be resolved.
    #[error(transparent)]
    Load(#[from] StatusLoadError),
    /// The status log cannot be read.
    #[error(transparent)]
    Status(#[from] StatusReadError),
    /// The work packages cannot be read.
    #[error(transparent)]
    WorkPackages(#[from] WorkPackagesError),
    /// The repository cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A file cannot be read.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The write failed (and was undone).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The mission has no `tasks/` directory.
    #[error("Mission '{mission}' has no tasks directory at {}", path.display())]
    NoTasks {
        /// The mission.
        mission: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// `meta.json` is missing or is not a JSON object.
    #[error("meta.json of mission '{mission}' cannot be read")]
    MetaUnreadable {
        /// The mission.
        mission: String,
    },
    /// The checks failed.
    #[error("Acceptance checks failed for '{}': {}", check.mission_slug, failed_checks(check))]
    ChecksFailed {
        /// What they found.
        check: Box<AcceptanceCheck>,
    },
    /// Acceptance would commit on a protected branch.
    #[error("Acceptance of '{mission}' would commit on the protected branch '{}'", refusal.branch)]
    ProtectedBranch {
        /// The mission.
        mission: String,
        /// Why the branch is protected.
        #[source]
        refusal: ProtectedBranchRefusal,
    },
    /// The primary checkout has a detached `HEAD`.
    #[error("Acceptance of '{mission}' needs a branch checked out in the primary checkout")]
    Detached {
        /// The mission.
        mission: String,
    },
}

fn failed_checks(check: &AcceptanceCheck) -> String {
    let details: Vec<String> = check
        .summary
        .failed_checks
        .iter()
        .map(|item| format!("{}: {}", item.check, item.detail))
        .collect();
    if details.is_empty() {
        "not every work package is approved or done".to_owned()
    } else {
        details.join("; ")
    }
}

impl AcceptError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AcceptError::Load(error) => error.code(),
            AcceptError::Status(error) => error.code(),
            AcceptError::WorkPackages(error) => error.code(),
            AcceptError::Repo(error) => error.code(),
            AcceptError::Git(error) => error.code(),
            AcceptError::Io(error) => error.code(),
            AcceptError::Write(error) => error.code(),
            AcceptError::NoTasks { .. } => "NO_WORK_PACKAGES",
            AcceptError::MetaUnreadable { .. } => "MISSION_META_MALFORMED",
            AcceptError::ChecksFailed { .. } => "ACCEPTANCE_CHECKS_FAILED",
            AcceptError::ProtectedBranch { .. } => "PROTECTED_BRANCH_REFUSED",
            AcceptError::Detached { .. } => "DETACHED_HEAD",
        }
    }

    /// Returns a hint naming the command that helps.
    pub fn hint(&self) -> String {
        match self {
            AcceptError::Load(error) => error.hint(),
            AcceptError::Status(error) => error.hint(),
            AcceptError::WorkPackages(error) => error.hint(),
            AcceptError::Repo(error) => error.hint(),
            AcceptError::Git(error) => error.hint(),
            AcceptError::Io(error) => error.hint(),
            AcceptError::Write(error) => error.hint(),
            AcceptError::NoTasks { mission, .. } => {
                format!("Plan the work first: `missionctl tasks finalize {mission}`")
            }
            AcceptError::MetaUnreadable { mission } => {
                format!("`missionctl doctor --mission {mission}` says what is wrong with it")
            }
            AcceptError::ChecksFailed { check } => first_fix(check),
            AcceptError::ProtectedBranch { .. } => {
                "Check out the mission's target branch (not a protected one) and run `missionctl accept` there"
                    .to_owned()
            }
            AcceptError::Detached { .. } => {
                "Check out the mission's target branch: `git switch <target>`".to_owned()
            }
        }
    }
}

/// Returns the command that clears the first blocking check.
fn first_fix(check: &AcceptanceCheck) -> String {
    let mission = &check.mission_slug;
    let summary = &check.summary;
    if !summary.git_dirty.is_empty() {
        return format!(
            "Commit, stash or discard the changes first (`git status`), then `missionctl accept --mission {mission}`"
        );
    }
    let lane = |name: &str| summary.lane(name);
    if let Some(wp) = lane("for_review").first() {
        return format!("Review it: `missionctl review start {wp} --mission {mission}`");
    }
    if let Some(wp) = lane("in_review").first() {
        return format!(
            "Finish the review: `missionctl review approve {wp} --mission {mission}` (or `review reject`)"
        );
    }
    if let Some(wp) = lane("blocked").first() {
        return format!(
            "Unblock it: `missionctl review unblock {wp} --mission {mission} --reason <why>`"
        );
    }
    if ["planned", "claimed", "in_progress"]
        .iter()
        .any(|name| !lane(name).is_empty())
    {
        return format!("`missionctl next --mission {mission}` says which work package is next");
    }
    if summary
        .activity_issues
        .iter()
        .any(|issue| issue.starts_with("Acceptance matrix verdict is"))
    {
        return format!(
            "Record each criterion's result: `missionctl acceptance verdict --mission {mission} --criterion <ID> --result pass`"
        );
    }
    if !summary.path_violations.is_empty() {
        return format!(
            "Create the directories, or pass `--lenient`: `missionctl accept --mission {mission} --lenient`"
        );
    }
    if !summary.metadata_issues.is_empty() {
        return format!(
            "Pass `--lenient` to skip the runtime-metadata checks: `missionctl accept --mission {mission} --lenient`"
        );
    }
    format!("`missionctl accept --mission {mission} --diagnose` lists every blocking check")
}

/// Runs Spec Kitty's acceptance checks on a mission; writes nothing. `strict` checks the
/// work packages' runtime metadata and makes path conventions blocking (`--lenient` turns
/// both off).
pub fn check_acceptance(
    repo: &Repo,
    handle: &str,
    strict: bool,
) -> Result<AcceptanceCheck, AcceptError> {
    let status = MissionStatus::load_for_reading(repo, handle)?;
    let mission_slug = status.mission_slug().to_owned();
    let containment = status.containment().clone();
    let mission_dir = status.primary_mission_dir().to_path_buf();
    let primary_root = status.primary_root().to_path_buf();
    let tasks_dir = mission_dir.join("tasks");
    if !containment.is_dir(&tasks_dir)? {
        return Err(AcceptError::NoTasks {
            mission: mission_slug,
            path: tasks_dir,
        });
    }
    let work = mission_work_packages(&status)?;
    let snapshot = &work.view.snapshot;
    let mission_rel = format!("kitty-specs/{mission_slug}");
    let mut work_packages = Vec::new();
    let mut reviews = Vec::new();
    for row in &work.view.rows {
        let stem = row.file.strip_suffix(".md").unwrap_or(&row.file);
        let id = row
            .wp_id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| stem.to_owned());
        let state = snapshot.work_packages.get(&id);
        let slot = |key: &str| -> Option<String> {
            state
                .and_then(|state| state.slots.get(key))
                .and_then(|value| match value {
                    Value::Null => None,
                    Value::String(text) => Some(text.clone()),
                    other => Some(other.to_string()),
                })
        };
        let lane = state.map(|state| state.lane.as_str().to_owned());
        reviews.push(WorkPackageReview {
            wp_id: id.clone(),
            lane: lane.clone().unwrap_or_else(|| "planned".to_owned()),
            review_result: state
                .and_then(|state| state.slots.get("review_result"))
                .and_then(|value| decode_review_result(value).ok()),
        });
        work_packages.push(WorkPackageFact {
            title: row
                .title
                .clone()
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned(),
            path: format!("{mission_rel}/tasks/{}", row.file),
            lane,
            agent: slot("agent"),
            assignee: slot("assignee"),
            shell_pid: slot("shell_pid"),
            operator_canceled: slot("reason_source").as_deref() == Some("operator"),
            id,
        });
    }
    reviews.sort_by(|a, b| a.wp_id.cmp(&b.wp_id));
    let log_exists = containment.is_file(&status.read_dir().join("status.events.jsonl"))?;
    let has_status = log_exists && !snapshot.work_packages.is_empty();

    let read_text = |name: &str| -> Result<Option<String>, PathError> {
        Ok(containment
            .read(&mission_dir.join(name))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    };
    let tasks_md = read_text("tasks.md")?;
    let mut clarification_sources = Vec::new();
    for name in CLARIFICATION_FILES {
        if let Some(text) = read_text(name)? {
            clarification_sources.push((mission_dir.join(name).display().to_string(), text));
        }
    }
    let mut missing_required = Vec::new();
    for name in REQUIRED_FILES {
        if !containment.exists(&mission_dir.join(name))? {
            missing_required.push(name.to_owned());
        }
    }
    let meta = status.primary_meta().cloned().unwrap_or_default();
    let mission_type = meta
        .get("mission_type")
        .and_then(Value::as_str)
        .unwrap_or("software-dev")
        .to_owned();
    let optional: Vec<&str> = if mission_type == "software-dev" {
        SOFTWARE_DEV_OPTIONAL.to_vec()
    } else {
        FALLBACK_OPTIONAL.to_vec()
    };
    let mut missing_optional = Vec::new();
    for name in optional {
        if !containment.exists(&mission_dir.join(name))? {
            missing_optional.push(name.to_owned());
        }
    }
    let mut missing_paths = Vec::new();
    if mission_type == "software-dev" {
        // The mission's display name, as Spec Kitty's path warnings word it.
        let name = SOFTWARE_DEV_NAME;
        for (key, path, in_mission) in SOFTWARE_DEV_PATHS {
            let (full, shown) = if in_mission {
                (mission_dir.join(path), format!("{mission_rel}/{path}"))
            } else {
                (primary_root.join(path), path.to_owned())
            };
            if !containment.exists(&full)? {
                missing_paths.push((
                    format!("{name} expects {key} path: {shown} (not found)"),
                    shown,
                ));
            }
        }
    }

    let lanes = match containment.read(&mission_dir.join(LANES_FILE_NAME))? {
        None => LanesFact::Absent,
        Some(bytes) => match LanesManifest::parse_as_spec_kitty(&bytes) {
            Ok(manifest) => LanesFact::Present {
                planning_only: !manifest.lanes.is_empty()
                    && manifest
                        .lanes
                        .iter()
                        .all(|lane| lane.lane_id == PLANNING_LANE_ID),
                target_branch: manifest.target_branch,
                mission_branch: manifest.mission_branch,
            },
            Err(error) => {
                LanesFact::Corrupt(format!("lanes.json is corrupt or malformed: {}", error.0))
            }
        },
    };
    let head = repo.head()?;
    let branch = head.branch().map(str::to_owned);
    let head_commit = match &head {
        crate::repo::HeadState::Branch { commit, .. }
        | crate::repo::HeadState::Detached { commit } => Some(commit.clone()),
        crate::repo::HeadState::Unborn { .. } => None,
    };
    let matrix_path = status.read_dir().join(MATRIX_FILE);
    let (matrix_fact, matrix) = match containment.read(&matrix_path)? {
        None => (MatrixFact::Missing, None),
        Some(bytes) => match AcceptanceMatrix::parse(&String::from_utf8_lossy(&bytes)) {
            Ok(matrix) => (
                MatrixFact::Present(matrix.clone()),
                Some((matrix_path, matrix)),
            ),
            Err(error) => (
                MatrixFact::Invalid(format!("Acceptance matrix is invalid: {error}")),
                None,
            ),
        },
    };
    let porcelain = git(&primary_root, ["status", "--porcelain"])?;
    let git_dirty: Vec<String> = String::from_utf8_lossy(&porcelain.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| !is_ignored_dirty_path(porcelain_path(line), &mission_slug))
        .map(str::to_owned)
        .collect();
    let facts = AcceptanceFacts {
        mission_slug: mission_slug.clone(),
        work_packages,
        has_status,
        strict_metadata: strict,
        tasks_md,
        clarification_sources,
        missing_required,
        missing_optional,
        missing_paths,
        meta_target_branch: meta
            .get("target_branch")
            .and_then(Value::as_str)
            .map(str::to_owned),
        lanes,
        branch,
        matrix: matrix_fact,
        git_dirty,
    };
    let summary = summarize(&facts);
    let approved = summary.lane("approved");
    let done = summary.lane("done");
    Ok(AcceptanceCheck {
        mission_slug,
        head_commit,
        matrix_verdict: matrix
            .as_ref()
            .map(|(_, matrix)| matrix.overall_verdict().to_owned()),
        accepted_wps: approved.iter().chain(done.iter()).cloned().collect(),
        merge_pending_wps: approved.clone(),
        approved_wps: approved,
        done_wps: done,
        already_accepted: meta.contains_key("accepted_at"),
        summary,
        status: Some(status),
        matrix,
        reviews,
    })
}

/// Runs the checks and, when they pass, records the acceptance (see the [module](self)
/// documentation).
pub fn accept(
    repo: &Repo,
    handle: &str,
    request: &AcceptRequest<'_>,
    clock: &dyn Clock,
) -> Result<AcceptReport, AcceptError> {
    let mut check = check_acceptance(repo, handle, !request.lenient)?;
    let mission = check.mission_slug.clone();
    if !check.summary.ok {
        return Err(AcceptError::ChecksFailed {
            check: Box::new(check),
        });
    }
    let branch = check
        .summary
        .branch
        .clone()
        .ok_or_else(|| AcceptError::Detached {
            mission: mission.clone(),
        })?;
    request
        .protected_branches
        .check(&branch, ProtectedWrite::Planning)
        .map_err(|refusal| AcceptError::ProtectedBranch {
            mission: mission.clone(),
            refusal,
        })?;
    let mode = match request.mode {
        Some(mode) => mode,
        None => {
            let remotes = git(repo.primary_root(), ["remote"])?;
            if String::from_utf8_lossy(&remotes.stdout).trim().is_empty() {
                AcceptMode::Local
            } else {
                AcceptMode::Pr
            }
        }
    };
    let Some(status) = check.status.take() else {
        return Err(AcceptError::MetaUnreadable { mission });
    };
    let primary_root = status.primary_root().to_path_buf();
    let meta_path = status.primary_mission_dir().join("meta.json");
    let meta_rel = relative(&primary_root, &meta_path);
    let now = unix_micros(clock.now());
    let accepted_at = isoformat_utc(now);
    let seconds = i64::try_from(now / 1_000_000).unwrap_or(i64::MAX);

    let mut write = WriteTransaction::begin(repo, Scope::Mission(mission.clone()), "accept")?;
    // Under the lock: the commit acceptance starts from, and `meta.json` as it is now.
    let parent_commit = write
        .branch_tip(&branch)?
        .map(|id| id.to_string())
        .or_else(|| check.head_commit.clone());
    let mut meta = read_meta(&status, &meta_path, &mission)?;
    record_acceptance(
        &mut meta,
        &AcceptanceRecord {
            accepted_at: accepted_at.clone(),
            accepted_by: request.actor.clone(),
            acceptance_mode: mode.as_str().to_owned(),
            accepted_from_commit: parent_commit.clone(),
        },
    );
    let mut commits = Vec::new();
    let commit_meta = |write: &mut WriteTransaction,
                       meta: &Map<String, Value>,
                       message: &str,
                       point: bool|
     -> Result<Option<String>, AcceptError> {
        let bytes = MissionMeta::from_map(meta.clone()).to_canonical_bytes();
        write.write_file(&meta_path, &bytes)?;
        let outcome = write.commit(&CommitRequest {
            branch: &branch,
            files: CommitFiles::Checkout {
                root: &primary_root,
                paths: std::slice::from_ref(&meta_rel),
            },
            message,
            identity: None,
            seconds,
            point,
        })?;
        Ok(outcome.commit.map(|id| id.to_string()))
    };

    // What the last commit takes: `status_phase` and the matrix's derived criteria.
    let stamp_phase = !meta.contains_key("status_phase");
    let derived_matrix = match &check.matrix {
        Some((path, matrix)) => {
            let mut matrix = matrix.clone();
            matrix
                .derive_code_review_criteria(&check.reviews, &accepted_at)
                .then(|| (path.clone(), matrix))
        }
        None => None,
    };
    let finalize = stamp_phase || derived_matrix.is_some();

    let accept_commit = commit_meta(&mut write, &meta, &format!("Accept {mission}"), false)?;
    commits.extend(accept_commit.clone());
    if let Some(commit) = &accept_commit {
        record_accept_commit(&mut meta, commit);
        let recorded = commit_meta(
            &mut write,
            &meta,
            &format!("Record acceptance commit for {mission}"),
            !finalize,
        )?;
        commits.extend(recorded);
    }
    if finalize {
        let message = format!("Finalize acceptance artifacts for {mission}");
        if stamp_phase {
            meta.insert("status_phase".to_owned(), Value::String("1".to_owned()));
        }
        let matrix_elsewhere = derived_matrix.is_some() && is_coordination(&status);
        if let Some((path, matrix)) = &derived_matrix {
            write.write_file(path, matrix.to_text().as_bytes())?;
        }
        if matrix_elsewhere {
            // The matrix lives on the coordination branch: its own commit there.
            if let Some((path, _)) = &derived_matrix {
                let root = status_root(&status);
                let paths = [relative(&root, path)];
                let coordination_branch = status.destination_ref().to_owned();
                let outcome = write.commit(&CommitRequest {
                    branch: &coordination_branch,
                    files: CommitFiles::Checkout {
                        root: &root,
                        paths: &paths,
                    },
                    message: &message,
                    identity: None,
                    seconds,
                    point: !stamp_phase,
                })?;
                commits.extend(outcome.commit.map(|id| id.to_string()));
            }
            if stamp_phase {
                commits.extend(commit_meta(&mut write, &meta, &message, true)?);
            }
        } else {
            let bytes = MissionMeta::from_map(meta.clone()).to_canonical_bytes();
            write.write_file(&meta_path, &bytes)?;
            let mut paths = vec![meta_rel.clone()];
            if let Some((path, _)) = &derived_matrix {
                paths.push(relative(&primary_root, path));
            }
            let outcome = write.commit(&CommitRequest {
                branch: &branch,
                files: CommitFiles::Checkout {
                    root: &primary_root,
                    paths: &paths,
                },
                message: &message,
                identity: None,
                seconds,
                point: true,
            })?;
            commits.extend(outcome.commit.map(|id| id.to_string()));
        }
    }
    write.finish()?;

    let mut notes = Vec::new();
    if let Some(commit) = &accept_commit {
        notes.push(format!("Acceptance commit: {commit}"));
    }
    if let Some(commit) = &parent_commit {
        notes.push(format!("Accepted from parent commit: {commit}"));
    }
    if !request.tests.is_empty() {
        notes.push("Validation commands:".to_owned());
        notes.extend(request.tests.iter().map(|command| format!("  - {command}")));
    }
    Ok(AcceptReport {
        check,
        accepted_at: second_stamp(now),
        accepted_by: request.actor.clone(),
        mode,
        parent_commit,
        accept_commit,
        commits,
        branch,
        notes,
    })
}

/// Reads `meta.json` as a JSON object, under the lock.
fn read_meta(
    status: &MissionStatus,
    path: &Path,
    mission: &str,
) -> Result<Map<String, Value>, AcceptError> {
    let unreadable = || AcceptError::MetaUnreadable {
        mission: mission.to_owned(),
    };
    let bytes = status.containment().read(path)?.ok_or_else(unreadable)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(unreadable()),
    }
}

fn is_coordination(status: &MissionStatus) -> bool {
    status.read_dir() != status.primary_mission_dir()
}

/// The checkout the mission's status is committed from.
fn status_root(status: &MissionStatus) -> PathBuf {
    let read_dir = status.read_dir();
    let mission_rel = Path::new("kitty-specs").join(status.mission_slug());
    let mut root = read_dir.to_path_buf();
    for _ in mission_rel.components() {
        root.pop();
    }
    root
}

/// Returns `path` relative to `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the `accepted_at` of Spec Kitty's JSON answer.
fn second_stamp(micros: u64) -> String {
    let full = isoformat_utc(micros);
    match full.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => full,
    }
}
