//! `resolve_action_context`: the one place that turns a mission handle and an action into
//! everything a command acting on the mission needs — the mission's resolved context (built on
//! [`resolve_mission_context`]), the work package an `implement` or `review` acts on with its
//! lane and workspace, and the runtime's paths under `.kittify/runtime/`.
//!
//! `next` resolves its query mode and its advancing mode through this function, so the two can
//! never disagree about where a mission lives; [`resolve_runtime_layout`] is the only code that
//! builds the runtime's paths.

use std::path::{Path, PathBuf};

use missionctl_core::mission::run::{
    EVENTS_FILE, FEATURE_RUNS_FILE, FROZEN_TEMPLATE_FILE, RUNS_DIR, RUNTIME_DIR, STATE_FILE,
};
use missionctl_core::next::{MissionFacts, WorkPackageFacts};
use missionctl_core::status::lane::Lane;
use serde::Serialize;
use serde_json::Value;

use crate::fs_util::PathError;
use crate::mission::context::{ResolveError, ResolvedMissionContext, resolve_mission_context};
use crate::mission::dir::StatusReadError;
use crate::planning::work_package::{WorkPackageFileError, find_wp_file, front_matter};
use crate::repo::Repo;
use crate::repo::containment::Containment;
use crate::repo::protection::ProtectedBranches;
use crate::status::{MissionStatus, StatusLoadError, is_valid_wp_id};

/// The actions Spec Kitty's context resolver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Write the specification.
    Specify,
    /// Write the plan.
    Plan,
    /// Analyze the planning artifacts.
    Analyze,
    /// Break the plan into work packages.
    Tasks,
    /// Outline the work packages (`tasks.md`).
    TasksOutline,
    /// Write the work-package files.
    TasksPackages,
    /// Finalize the work packages.
    TasksFinalize,
    /// Implement a work package.
    Implement,
    /// Review a work package.
    Review,
    /// Accept the mission.
    Accept,
    /// Look at the mission's status.
    Status,
}

impl Action {
    /// Every action, in Spec Kitty's order.
    pub const ALL: [Action; 11] = [
        Action::Specify,
        Action::Plan,
        Action::Analyze,
        Action::Tasks,
        Action::TasksOutline,
        Action::TasksPackages,
        Action::TasksFinalize,
        Action::Implement,
        Action::Review,
        Action::Accept,
        Action::Status,
    ];

    /// Returns the wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Specify => "specify",
            Action::Plan => "plan",
            Action::Analyze => "analyze",
            Action::Tasks => "tasks",
            Action::TasksOutline => "tasks_outline",
            Action::TasksPackages => "tasks_packages",
            Action::TasksFinalize => "tasks_finalize",
            Action::Implement => "implement",
            Action::Review => "review",
            Action::Accept => "accept",
            Action::Status => "status",
        }
    }

    /// Parses a wire string; anything else is `INVALID_ACTION`.
    pub fn parse(value: &str) -> Result<Action, ActionContextError> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == value)
            .ok_or_else(|| ActionContextError::InvalidAction(value.to_owned()))
    }

    /// Returns true for the actions that act on one work package.
    pub const fn is_work_package_action(self) -> bool {
        matches!(self, Action::Implement | Action::Review)
    }
}

/// The runtime's paths: `.kittify/runtime/` of the primary checkout.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RuntimeLayout {
    /// `<primary>/.kittify/runtime` (absolute).
    pub runtime_dir: PathBuf,
    /// What every read and write of the runtime goes through: `.kittify` and everything below
    /// it are never reached through a symbolic link (see [`crate::repo::containment`]).
    #[serde(skip)]
    pub containment: Containment,
}

impl RuntimeLayout {
    /// Returns `feature-runs.json`.
    pub fn feature_runs(&self) -> PathBuf {
        self.runtime_dir.join(FEATURE_RUNS_FILE)
    }

    /// Returns the directory of the runs.
    pub fn runs_dir(&self) -> PathBuf {
        self.runtime_dir.join(RUNS_DIR)
    }

    /// Returns the directory of a run (the caller checks the id with
    /// [`missionctl_core::mission::run::is_valid_run_id`]).
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.runs_dir().join(run_id)
    }

    /// Returns the lock file every runtime write holds.
    pub fn lock_file(&self) -> PathBuf {
        self.runtime_dir.join("feature-runs.lock")
    }
}

/// The files of one run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    /// The run directory.
    pub dir: PathBuf,
}

impl RunFiles {
    /// Returns `state.json`.
    pub fn state(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Returns `run.events.jsonl`.
    pub fn events(&self) -> PathBuf {
        self.dir.join(EVENTS_FILE)
    }

    /// Returns `mission_template_frozen.yaml`.
    pub fn frozen_template(&self) -> PathBuf {
        self.dir.join(FROZEN_TEMPLATE_FILE)
    }
}

/// Returns the runtime layout of a repository: the only builder of these paths.
pub fn resolve_runtime_layout(repo: &Repo) -> RuntimeLayout {
    RuntimeLayout {
        runtime_dir: repo.primary_root().join(RUNTIME_DIR),
        containment: repo.containment().clone(),
    }
}

/// Where the work of a work package happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionKind {
    /// In the primary checkout (no lanes, or the planning lane).
    RepoRoot,
    /// In the lane's worktree under `.worktrees/`.
    LaneWorkspace,
}

/// The work package an `implement` or `review` acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct WorkPackageContext {
    /// The work package, `WPxx`.
    pub wp_id: String,
    /// Its file under `tasks/` (absolute), when there is one.
    pub wp_file: Option<PathBuf>,
    /// Its lane, from the status log.
    #[serde(serialize_with = "serialize_lane")]
    pub lane: Lane,
    /// Its execution lane from `lanes.json` (`lane-a`, `lane-planning`), when allocated.
    pub lane_id: Option<String>,
    /// The branch its work goes to.
    pub branch_name: String,
    /// Its front matter's `execution_mode` (`code_change`, `planning_artifact`).
    pub execution_mode: Option<String>,
    /// Whether it works in the primary checkout or in a lane worktree.
    pub resolution_kind: ResolutionKind,
    /// The work packages it depends on.
    pub dependencies: Vec<String>,
    /// Where its work happens (absolute; a lane worktree may not exist yet).
    pub workspace_path: PathBuf,
}

fn serialize_lane<S: serde::Serializer>(lane: &Lane, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(lane.as_str())
}

/// What to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionRequest<'a> {
    /// The mission handle (ULID, mid8, directory name, slug or number).
    pub mission: &'a str,
    /// The action.
    pub action: Action,
    /// The work package for `implement` and `review` (`WP01`, `wp01-title`); `None` picks one
    /// as Spec Kitty does.
    pub wp_id: Option<&'a str>,
    /// The agent acting, if known.
    pub agent: Option<&'a str>,
}

/// Everything an action on a mission needs, resolved once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionContext {
    /// The action.
    pub action: Action,
    /// The agent acting, if known.
    pub agent: Option<String>,
    /// The mission's ULID, from the primary `meta.json`.
    pub mission_id: String,
    /// The mission's directory name.
    pub mission_slug: String,
    /// The mission type (`software-dev` when `meta.json` has none).
    pub mission_type: String,
    /// The mission directory in the primary checkout (planning artifacts, `meta.json`).
    pub primary_mission_dir: PathBuf,
    /// The mission's resolved execution context and status surfaces.
    pub mission: ResolvedMissionContext,
    /// The work package of an `implement` or `review`.
    pub work_package: Option<WorkPackageContext>,
    /// The runtime's paths.
    pub runtime: RuntimeLayout,
}

/// Why an action's context could not be resolved. Nothing is written on any path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionContextError {
    /// The action is not one of Spec Kitty's.
    #[error("Unknown action `{0}`")]
    InvalidAction(String),
    /// The mission or its status surface cannot be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The mission's status cannot be loaded.
    #[error(transparent)]
    StatusLoad(#[from] StatusLoadError),
    /// The mission's status log cannot be read.
    #[error("Cannot read the status of `{mission_slug}`: {source}")]
    StatusUnreadable {
        /// The mission.
        mission_slug: String,
        /// Why.
        #[source]
        source: StatusReadError,
    },
    /// The work package id is malformed.
    #[error("Invalid work package id `{0}`: expected `WP` followed by at least two digits")]
    InvalidWpId(String),
    /// No work package fits the action.
    #[error("No work package to {} in `{mission_slug}`", action.as_str())]
    WorkPackageUnresolved {
        /// The action.
        action: Action,
        /// The mission.
        mission_slug: String,
    },
    /// A work-package file cannot be used.
    #[error(transparent)]
    WorkPackage(#[from] WorkPackageFileError),
    /// `lanes.json` exists but cannot be read.
    #[error("Invalid lanes.json `{}`: {message}", path.display())]
    LanesInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl ActionContextError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ActionContextError::InvalidAction(_) => "INVALID_ACTION",
            ActionContextError::Resolve(error) => error.code(),
            ActionContextError::StatusLoad(error) => error.code(),
            ActionContextError::StatusUnreadable { source, .. } => match source {
                StatusReadError::LogMissing(_) => "CANONICAL_STATUS_NOT_FOUND",
                _ => "CANONICAL_STATUS_UNREADABLE",
            },
            ActionContextError::InvalidWpId(_) => "INVALID_WP_ID",
            ActionContextError::WorkPackageUnresolved { .. } => "WORK_PACKAGE_UNRESOLVED",
            ActionContextError::WorkPackage(error) => error.code(),
            ActionContextError::LanesInvalid { .. } => "LANES_JSON_INVALID",
            ActionContextError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            ActionContextError::InvalidAction(_) => {
                format!("Use one of: {}", Action::ALL.map(Action::as_str).join(", "))
            }
            ActionContextError::Resolve(error) => error.hint(),
            ActionContextError::StatusLoad(error) => error.hint(),
            ActionContextError::StatusUnreadable { source, .. } => source.hint(),
            ActionContextError::InvalidWpId(_) => "Pass an id such as `WP01`".to_owned(),
            ActionContextError::WorkPackageUnresolved { action, .. } => match action {
                Action::Review => {
                    "Move a work package to `for_review` first, or name one explicitly".to_owned()
                }
                _ => "Every work package is past `in_progress`; name one explicitly".to_owned(),
            },
            ActionContextError::WorkPackage(error) => error.hint(),
            ActionContextError::LanesInvalid { .. } => {
                "Repair lanes.json, or finalize the work packages again to recompute it".to_owned()
            }
            ActionContextError::Io(error) => error.hint(),
        }
    }
}

/// Resolves a mission handle and an action to the action's context (see the [module](self)
/// docs). Reads only; never writes.
pub fn resolve_action_context(
    repo: &Repo,
    request: &ActionRequest<'_>,
) -> Result<ActionContext, ActionContextError> {
    let mission = resolve_mission_context(repo, request.mission)?;
    let primary_mission_dir = mission
        .primary_root
        .join(&mission.context.workspace.primary_mission_dir);
    // `meta.json` as the resolver read it, through the primary checkout's reader.
    let mission_type = mission
        .meta
        .get("mission_type")
        .and_then(Value::as_str)
        .filter(|value| !value.trim().is_empty())
        .unwrap_or("software-dev")
        .to_owned();
    let work_package = if request.action.is_work_package_action() {
        Some(resolve_work_package(
            repo,
            &mission,
            &primary_mission_dir,
            request,
        )?)
    } else {
        None
    };
    Ok(ActionContext {
        action: request.action,
        agent: request.agent.map(str::to_owned),
        mission_id: mission.context.identity.mission_id().as_str().to_owned(),
        mission_slug: mission.mission_slug.clone(),
        mission_type,
        primary_mission_dir,
        work_package,
        runtime: resolve_runtime_layout(repo),
        mission,
    })
}

/// Returns the id of an explicit work package: uppercased, the text before the first `-`.
fn normalize_wp_id(value: &str) -> Result<String, ActionContextError> {
    let id = value
        .split('-')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    if is_valid_wp_id(&id) {
        Ok(id)
    } else {
        Err(ActionContextError::InvalidWpId(value.to_owned()))
    }
}

/// The work packages defined by `tasks/WP*.md`, sorted by file name, with their ids.
fn wp_files(
    containment: &Containment,
    primary_mission_dir: &Path,
) -> Result<Vec<(String, PathBuf)>, ActionContextError> {
    let tasks = primary_mission_dir.join("tasks");
    let Some(entries) = containment.read_dir(&tasks)? else {
        return Ok(Vec::new());
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with("WP") || !name.ends_with(".md") {
                return None;
            }
            let digits: String = name[2..].chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty()).then(|| (format!("WP{digits}"), entry.path()))
        })
        .collect();
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

/// Reads a work package's front matter (`None` for a file without one).
fn wp_front_matter(
    containment: &Containment,
    path: &Path,
) -> Result<Option<Value>, ActionContextError> {
    let text = containment.read_text(path)?.ok_or_else(|| PathError {
        action: "Cannot read",
        path: path.to_path_buf(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    let Some(yaml) = front_matter(&text) else {
        return Ok(None);
    };
    serde_saphyr::from_str::<Value>(yaml)
        .map(Some)
        .map_err(|error| {
            WorkPackageFileError::InvalidFrontMatter {
                path: path.to_path_buf(),
                message: error.to_string(),
            }
            .into()
        })
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the lanes and their work packages from `lanes.json` (empty when there is none).
fn lane_allocation(
    containment: &Containment,
    primary_mission_dir: &Path,
) -> Result<Vec<(String, Vec<String>)>, ActionContextError> {
    let path = primary_mission_dir.join("lanes.json");
    let Some(bytes) = containment.read(&path)? else {
        return Ok(Vec::new());
    };
    let invalid = |message: String| ActionContextError::LanesInvalid {
        path: path.clone(),
        message,
    };
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|error| invalid(error.to_string()))?;
    let lanes = value
        .get("lanes")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("missing `lanes` list".to_owned()))?;
    lanes
        .iter()
        .map(|lane| {
            let lane_id = lane
                .get("lane_id")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a lane has no `lane_id`".to_owned()))?;
            Ok((lane_id.to_owned(), string_list(lane.get("wp_ids"))))
        })
        .collect()
}

fn read_error(mission: &ResolvedMissionContext, source: StatusReadError) -> ActionContextError {
    ActionContextError::StatusUnreadable {
        mission_slug: mission.mission_slug.clone(),
        source,
    }
}

fn resolve_work_package(
    repo: &Repo,
    mission: &ResolvedMissionContext,
    primary_mission_dir: &Path,
    request: &ActionRequest<'_>,
) -> Result<WorkPackageContext, ActionContextError> {
    let status = MissionStatus::load(repo, &mission.mission_slug, &ProtectedBranches::none())?;
    let snapshot = status
        .snapshot()
        .map_err(|source| read_error(mission, source))?;
    let lane_of = |wp_id: &str| {
        snapshot
            .work_packages
            .get(wp_id)
            .map_or(Lane::Uninitialized, |state| state.lane)
    };
    let files = wp_files(repo.containment(), primary_mission_dir)?;
    let wp_id = match request.wp_id {
        Some(explicit) => normalize_wp_id(explicit)?,
        None => pick_work_package(&status, &files, request.action, &lane_of)?.ok_or_else(|| {
            ActionContextError::WorkPackageUnresolved {
                action: request.action,
                mission_slug: mission.mission_slug.clone(),
            }
        })?,
    };
    let wp_file = find_wp_file(repo.containment(), primary_mission_dir, &wp_id)?;
    let front = match &wp_file {
        Some(path) => wp_front_matter(repo.containment(), path)?,
        None => None,
    };
    let front = front.as_ref();
    let dependencies = string_list(front.and_then(|front| front.get("dependencies")));
    let execution_mode = front
        .and_then(|front| front.get("execution_mode"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let lane_id = lane_allocation(repo.containment(), primary_mission_dir)?
        .into_iter()
        .find(|(_, wp_ids)| wp_ids.contains(&wp_id))
        .map(|(lane_id, _)| lane_id);
    let target_branch = mission.context.branch_ref.target_branch.clone();
    let (resolution_kind, workspace_path, branch_name) = match lane_id.as_deref() {
        Some(lane) if lane != "lane-planning" => (
            ResolutionKind::LaneWorkspace,
            repo.worktrees_dir()
                .join(format!("{}-{lane}", mission.mission_slug)),
            format!("kitty/mission-{}-{lane}", mission.mission_slug),
        ),
        _ => (
            ResolutionKind::RepoRoot,
            mission.primary_root.clone(),
            target_branch,
        ),
    };
    Ok(WorkPackageContext {
        lane: lane_of(&wp_id),
        wp_id,
        wp_file,
        lane_id,
        branch_name,
        execution_mode,
        resolution_kind,
        dependencies,
        workspace_path,
    })
}

/// Picks the work package of an action without an explicit one, as Spec Kitty does: for
/// `implement` the first file in `planned` (or without a transition), else in `in_progress`;
/// for `review` the first in `for_review`, else one in `in_review`, or `in_progress` after a
/// review claim.
fn pick_work_package(
    status: &MissionStatus,
    files: &[(String, PathBuf)],
    action: Action,
    lane_of: &dyn Fn(&str) -> Lane,
) -> Result<Option<String>, ActionContextError> {
    let first = |lanes: &[Lane]| {
        files
            .iter()
            .find(|(wp_id, _)| lanes.contains(&lane_of(wp_id)))
            .map(|(wp_id, _)| wp_id.clone())
    };
    if action == Action::Implement {
        return Ok(
            first(&[Lane::Planned, Lane::Uninitialized]).or_else(|| first(&[Lane::InProgress]))
        );
    }
    if let Some(wp_id) = first(&[Lane::ForReview]) {
        return Ok(Some(wp_id));
    }
    for (wp_id, _) in files {
        if !matches!(lane_of(wp_id), Lane::InReview | Lane::InProgress) {
            continue;
        }
        let active =
            status
                .claim(wp_id)
                .map_err(|source| ActionContextError::StatusUnreadable {
                    mission_slug: status.mission_slug().to_owned(),
                    source,
                })?;
        let claimed_for_review = active.last_event.is_some_and(|event| {
            event.to_lane == Lane::InReview
                || (event.to_lane == Lane::InProgress
                    && event.review_ref.as_deref() == Some("action-review-claim"))
        });
        if claimed_for_review {
            return Ok(Some(wp_id.clone()));
        }
    }
    Ok(None)
}

/// Gathers the facts the next-step planner needs, reading the planning artifacts from the
/// primary checkout and the lanes through [`MissionStatus`]. Reads only.
pub fn mission_facts(
    repo: &Repo,
    context: &ActionContext,
) -> Result<MissionFacts, ActionContextError> {
    let dir = &context.primary_mission_dir;
    let containment = repo.containment();
    let text = |name: &str| -> Result<Option<String>, ActionContextError> {
        Ok(containment
            .read(&dir.join(name))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    };
    let status = MissionStatus::load(repo, &context.mission_slug, &ProtectedBranches::none())?;
    let snapshot = status
        .snapshot()
        .map_err(|source| read_error(&context.mission, source))?;
    let mut work_packages: Vec<WorkPackageFacts> = Vec::new();
    for (wp_id, path) in wp_files(containment, dir)? {
        if work_packages.iter().any(|wp| wp.wp_id == wp_id) {
            continue;
        }
        let front = wp_front_matter(containment, &path)?;
        let state = snapshot.work_packages.get(&wp_id);
        work_packages.push(WorkPackageFacts {
            lane: state.map_or(Lane::Uninitialized, |state| state.lane),
            has_status: state.is_some_and(|state| state.lane != Lane::Uninitialized),
            dependencies: string_list(front.as_ref().and_then(|front| front.get("dependencies"))),
            has_file: true,
            wp_id,
        });
    }
    for (wp_id, state) in &snapshot.work_packages {
        if !work_packages.iter().any(|wp| &wp.wp_id == wp_id) {
            work_packages.push(WorkPackageFacts {
                wp_id: wp_id.clone(),
                lane: state.lane,
                dependencies: Vec::new(),
                has_file: false,
                has_status: state.lane != Lane::Uninitialized,
            });
        }
    }
    work_packages.sort_by(|a, b| a.wp_id.cmp(&b.wp_id));
    let meta = &context.mission.meta;
    let accepted = ["accepted_at", "accept_commit"]
        .iter()
        .any(|key| meta.get(*key).is_some_and(|value| !value.is_null()));
    Ok(MissionFacts {
        spec: text("spec.md")?,
        plan: text("plan.md")?,
        tasks_md: containment.is_file(&dir.join("tasks.md"))?,
        work_packages,
        accepted,
    })
}
