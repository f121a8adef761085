//! `tasks finalize`: checks a mission's work packages as Spec Kitty's `finalize-tasks` does
//! (every gate, in its order, with its answers: [`check_plan`]), then — unless
//! `--validate-only` — seeds the new work packages `genesis → planned` through the status
//! aggregate, computes `lanes.json`, and commits the planning artifacts on the planning
//! surface.
//!
//! This module is the imperative shell around the pure checks: it reads the mission
//! directory (the work-package files in byte order of their names), and answers what the
//! checks ask of the world — the protected-branch policy, the status log of the status
//! surface, the charter's activated agent profiles, and the repository's work tree, which
//! owned-file globs are matched against ([`WorkTree`]: each directory listed at most once,
//! however many globs look at it).
//!
//! Order of the write path, after every check passed:
//!
//! 1. check the planning surface (target branch checked out, not protected);
//! 2. seed the new work packages in one status transaction (committed where status lives:
//!    the target branch, or the coordination branch — never overwriting that log), then, for
//!    a lane topology, scaffold `acceptance-matrix.json` there when it has none (one `pending`
//!    criterion per functional requirement of `spec.md`), committed alone as Spec Kitty does;
//! 3. write `lanes.json` when the plan changed, for a lane topology or a mission with no
//!    stored topology (Spec Kitty computes lanes for every mission); its
//!    `planning_commit_sha` is the target branch's tip at that point;
//! 4. commit the planning paths (`tasks/*`, `lanes.json`, `tasks.md`, `wps.yaml`) that differ
//!    from the target branch's tip.
//!
//! A second run over an unchanged plan seeds nothing, keeps `lanes.json` (its `computed_at`
//! included) and commits nothing: it writes nothing.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use missionctl_core::mission::context::ReadResolutionError;
use missionctl_core::planning::lanes_manifest::LanesManifest;
use missionctl_core::planning::repo_glob::{RepoTree, TreeEntry};
use missionctl_core::planning::task_plan::finalize::{
    CheckedPlan, FinalizeEnvironment, FinalizeInput, MetaInput, Refusal, SurfaceError,
    ValidationReport, WpFileInput, check_plan,
};
use missionctl_core::status::lane::Lane;
use missionctl_core::status::reducer::reduce;
use missionctl_core::text::pytext;
use serde::Serialize;
use serde_json::Value;

use crate::clock::{Clock, isoformat};
use crate::fs_util::PathError;
use crate::mission::context::{ResolveError, resolve_dir_context};
use crate::mission::dir::{StatusReadError, read_event_log};
use crate::mission::index::{LookupError, resolve_handle};
use crate::mission::meta_store::LANES_FILE_NAME;
use crate::planning::{PlanningError, PlanningSurface};
use crate::repo::Repo;
use crate::repo::containment::Containment;
use crate::status::{CommitReceipt, MissionStatus, StatusLoadError, StatusWriteError};
use crate::write::{Scope, WriteTransaction};

/// The charter key listing the activated agent profiles.
const PROFILES_KEY: &str = "activated_agent_profiles";

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

/// One work package as finalize left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinalizedWorkPackage {
    /// The id.
    pub wp_id: String,
    /// Its dependencies (canceled ones left out).
    pub dependencies: Vec<String>,
    /// Its lane in `lanes.json`, when lanes were computed.
    pub lane_id: Option<String>,
    /// Whether this run seeded it.
    pub seeded: bool,
}

/// What a finalize that writes did.
#[derive(Debug, Clone, Serialize)]
pub struct FinalizeReport {
    /// The mission.
    pub mission_slug: String,
    /// Its topology (stored, or derived when none is stored).
    pub topology: String,
    /// The branch planning artifacts are committed to.
    pub planning_branch: String,
    /// The work packages that are not canceled, in id order.
    pub work_packages: Vec<FinalizedWorkPackage>,
    /// The checks' report (what Spec Kitty's `--validate-only` prints).
    pub validation: ValidationReport,
    /// The lanes, when computed.
    pub lanes: Option<LanesManifest>,
    /// Whether `lanes.json` was written: absent, or its plan changed.
    pub lanes_changed: bool,
    /// The work packages seeded `genesis → planned`.
    pub seeded: Vec<String>,
    /// The commit of the seed, when one was written.
    pub seed_receipt: Option<CommitReceipt>,
    /// The commit of the scaffolded `acceptance-matrix.json`, when one was written.
    pub matrix_receipt: Option<CommitReceipt>,
    /// The planning paths committed, repository-relative.
    pub committed_paths: Vec<String>,
    /// The planning commit, when one was made.
    pub planning_commit: Option<String>,
}

impl FinalizeReport {
    /// Returns true when the run wrote nothing.
    pub fn is_noop(&self) -> bool {
        self.seeded.is_empty()
            && !self.lanes_changed
            && self.committed_paths.is_empty()
            && self.matrix_receipt.is_none()
    }
}

/// What finalize answers.
#[derive(Debug, Clone)]
pub enum FinalizeOutcome {
    /// `--validate-only`: Spec Kitty's report, nothing written.
    Validated(Box<ValidationReport>),
    /// The plan was finalized.
    Finalized(Box<FinalizeReport>),
}

/// Why finalize refused or failed. Up to the seed, nothing is written; see the module docs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FinalizeError {
    /// The handle names no mission (or several).
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// A check failed: Spec Kitty's refusal.
    #[error("{}", .0.message)]
    Refused(Box<Refusal>),
    /// The planning surface cannot be resolved or written.
    #[error(transparent)]
    Planning(#[from] PlanningError),
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

impl From<Refusal> for FinalizeError {
    fn from(refusal: Refusal) -> FinalizeError {
        FinalizeError::Refused(Box::new(refusal))
    }
}

impl FinalizeError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            FinalizeError::Lookup(error) => error.code(),
            FinalizeError::Refused(refusal) => refusal.code,
            FinalizeError::Planning(error) => error.code(),
            FinalizeError::StatusLoad(error) => error.code(),
            FinalizeError::Status(error) => error.code(),
            FinalizeError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            FinalizeError::Lookup(error) => error.hint(),
            FinalizeError::Refused(refusal) => refusal.hint.clone(),
            FinalizeError::Planning(error) => error.hint(),
            FinalizeError::StatusLoad(error) => error.hint(),
            FinalizeError::Status(error) => error.hint(),
            FinalizeError::Io(error) => error.hint(),
        }
    }
}

/// The repository's work tree as owned-file globs see it: directory listings are read once
/// and kept; existence checks follow symbolic links.
pub struct WorkTree {
    root: PathBuf,
    listings: RefCell<HashMap<String, Rc<[TreeEntry]>>>,
}

impl WorkTree {
    /// Returns a view of the work tree at `root`.
    pub fn new(root: &Path) -> WorkTree {
        WorkTree {
            root: root.to_path_buf(),
            listings: RefCell::new(HashMap::new()),
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        if relative.is_empty() {
            self.root.clone()
        } else {
            self.root.join(relative)
        }
    }

    fn list(&self, dir: &str) -> Rc<[TreeEntry]> {
        let Ok(entries) = std::fs::read_dir(self.path(dir)) else {
            return Rc::from(Vec::new());
        };
        let mut listed: Vec<TreeEntry> = Vec::new();
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let (is_dir, is_file) = if file_type.is_symlink() {
                match std::fs::metadata(entry.path()) {
                    Ok(metadata) => (metadata.is_dir(), metadata.is_file()),
                    Err(_) => (false, false),
                }
            } else {
                (file_type.is_dir(), file_type.is_file())
            };
            listed.push(TreeEntry {
                name,
                is_dir,
                is_real_dir: file_type.is_dir(),
                is_file,
            });
        }
        listed.sort_by(|a, b| pytext::code_point_order(&a.name, &b.name));
        Rc::from(listed)
    }
}

impl RepoTree for WorkTree {
    fn entries(&self, dir: &str) -> Rc<[TreeEntry]> {
        if let Some(listed) = self.listings.borrow().get(dir) {
            return Rc::clone(listed);
        }
        let listed = self.list(dir);
        self.listings
            .borrow_mut()
            .insert(dir.to_owned(), Rc::clone(&listed));
        listed
    }

    fn exists(&self, path: &str) -> bool {
        self.path(path).exists()
    }

    fn is_dir(&self, path: &str) -> bool {
        self.path(path).is_dir()
    }
}

/// The status log of the status surface, read once.
struct StatusFacts {
    lanes: BTreeMap<String, Lane>,
    initialized: BTreeSet<String>,
}

/// What [`check_plan`] asks of the repository.
struct StoreEnvironment<'a> {
    repo: &'a Repo,
    mission_dir: &'a Path,
    dir_name: &'a str,
    protected_branches: &'a [String],
    tree: WorkTree,
    status: OnceCell<Result<StatusFacts, SurfaceError>>,
    profiles: OnceCell<Result<Option<BTreeSet<String>>, String>>,
}

impl StoreEnvironment<'_> {
    fn status(&self) -> &Result<StatusFacts, SurfaceError> {
        self.status
            .get_or_init(|| read_status_facts(self.repo, self.mission_dir, self.dir_name))
    }
}

impl FinalizeEnvironment for StoreEnvironment<'_> {
    fn is_protected(&self, branch: &str) -> bool {
        self.protected_branches
            .iter()
            .any(|protected| protected == branch)
    }

    fn lifecycle_lanes(&self) -> Result<BTreeMap<String, Lane>, SurfaceError> {
        self.status()
            .as_ref()
            .map(|facts| facts.lanes.clone())
            .map_err(Clone::clone)
    }

    fn initialized_wp_ids(&self) -> Result<BTreeSet<String>, String> {
        self.status()
            .as_ref()
            .map(|facts| facts.initialized.clone())
            .map_err(|error| error.message.clone())
    }

    fn activated_agent_profiles(&self) -> Result<Option<BTreeSet<String>>, String> {
        self.profiles
            .get_or_init(|| {
                activated_agent_profiles(self.repo.containment(), self.repo.primary_root())
            })
            .clone()
    }

    fn tree(&self) -> &dyn RepoTree {
        &self.tree
    }
}

/// Spec Kitty's message for a coordination mission whose branch is gone.
fn coordination_deleted_message(branch: &str, mission_slug: &str) -> String {
    format!(
        "Coordination branch '{branch}' for mission '{mission_slug}' is declared in meta.json but \
         deleted from git. The coordination branch '{branch}' declared in meta.json does not \
         exist in git (never created or deleted). Flatten the mission — drop the \
         `coordination_branch` key from meta.json — to recover: run `spec-kitty doctor \
         coordination --fix` to flatten automatically, or remove the key manually and run \
         `spec-kitty migrate backfill-topology`."
    )
}

/// Reads the lanes and seeded work packages of the status log of the mission's status
/// surface (the coordination worktree's copy for a coordination mission whose worktree
/// exists, else the primary directory).
fn read_status_facts(
    repo: &Repo,
    mission_dir: &Path,
    dir_name: &str,
) -> Result<StatusFacts, SurfaceError> {
    let read_dir = match crate::mission::meta_store::PrimaryMissionDir::new(repo, dir_name) {
        Ok(dir) => {
            match resolve_dir_context(
                repo,
                &dir,
                missionctl_core::mission::meta::HandleRule::DirName,
            ) {
                Ok(resolved) => resolved.read_dir,
                Err(ResolveError::Read {
                    source:
                        ReadResolutionError::CoordinationBranchDeleted {
                            coordination_branch,
                        },
                    mission_slug,
                    ..
                }) => {
                    let branch = coordination_branch.unwrap_or_default();
                    return Err(SurfaceError {
                        code: "COORDINATION_BRANCH_DELETED",
                        message: coordination_deleted_message(&branch, &mission_slug),
                        hint: format!(
                            "If the mission was merged, run `missionctl mission flatten --mission {mission_slug}` to drop the coordination branch from its shape; otherwise restore the branch"
                        ),
                    });
                }
                Err(error @ (ResolveError::Read { .. } | ResolveError::Io(_))) => {
                    return Err(SurfaceError {
                        code: error.code(),
                        message: error.to_string(),
                        hint: error.hint(),
                    });
                }
                Err(_) => mission_dir.to_path_buf(),
            }
        }
        Err(_) => mission_dir.to_path_buf(),
    };
    let log = match read_event_log(&read_dir) {
        Ok(log) => log,
        Err(StatusReadError::LogMissing(_)) => {
            return Ok(StatusFacts {
                lanes: BTreeMap::new(),
                initialized: BTreeSet::new(),
            });
        }
        Err(error) => {
            return Err(SurfaceError {
                code: error.code(),
                message: error.to_string(),
                hint: error.hint(),
            });
        }
    };
    if let Some(error) = log.errors.first() {
        return Err(SurfaceError {
            code: "EVENT_LOG_INVALID",
            message: format!("Invalid JSON on line {}: {}", error.line, error.message),
            hint: "Repair the event log (`missionctl status validate`)".to_owned(),
        });
    }
    let initialized: BTreeSet<String> =
        log.transitions().map(|event| event.wp_id.clone()).collect();
    let lanes = reduce(&log)
        .work_packages
        .into_iter()
        .map(|(wp_id, state)| (wp_id, state.lane))
        .collect();
    Ok(StatusFacts { lanes, initialized })
}

/// Reads a YAML file as a JSON value; `Ok(None)` when it does not exist. With `only`, a
/// document whose entry for that key can be cut out alone
/// ([`missionctl_core::text::block_yaml::top_level_entry`]) is read as that one entry: a charter
/// is a hundred kilobytes of YAML, of which finalize needs one list.
fn read_yaml(
    containment: &Containment,
    path: &Path,
    only: Option<&str>,
) -> Result<Option<Value>, String> {
    let bytes = match containment.read(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        return Ok(Some(Value::Null));
    }
    if let Some(entry) =
        only.and_then(|key| missionctl_core::text::block_yaml::top_level_entry(&text, key))
        && let Ok(value @ Value::Object(_)) =
            missionctl_core::planning::work_package::parse_yaml(entry)
    {
        return Ok(Some(value));
    }
    missionctl_core::planning::work_package::parse_yaml(&text)
        .map(Some)
        .map_err(|error| error.to_string())
}

/// The agent profiles the charter activates (Spec Kitty's `PackContext.from_config`):
/// `.kittify/config.yaml`'s `charter:` pointer names the charter file that holds
/// `activated_agent_profiles`; without a pointer, config.yaml itself holds it. `None` when
/// the key is absent (no restriction).
fn activated_agent_profiles(
    containment: &Containment,
    root: &Path,
) -> Result<Option<BTreeSet<String>>, String> {
    let config = match read_yaml(containment, &root.join(".kittify/config.yaml"), None) {
        Ok(Some(Value::Object(map))) => map,
        Ok(None | Some(Value::Null)) => serde_json::Map::new(),
        Ok(Some(_)) => return Err(".kittify/config.yaml root must be a mapping.".to_owned()),
        Err(error) => return Err(format!("Invalid YAML in .kittify/config.yaml: {error}")),
    };
    let activation = match config.get("charter").and_then(Value::as_str) {
        None => config,
        Some(pointer) => {
            let path = if Path::new(pointer).is_absolute() {
                PathBuf::from(pointer)
            } else {
                root.join(pointer)
            };
            match read_yaml(containment, &path, Some(PROFILES_KEY)) {
                Ok(Some(Value::Object(map))) => map,
                Ok(None) => {
                    return Err(format!(
                        ".kittify/config.yaml 'charter:' pointer names {}, which does not exist.",
                        path.display()
                    ));
                }
                Ok(Some(_)) => return Err(format!("{} root must be a mapping.", path.display())),
                Err(error) => return Err(format!("Invalid YAML in {}: {error}", path.display())),
            }
        }
    };
    match activation.get(PROFILES_KEY) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(
            items
                .iter()
                .map(missionctl_core::text::pytext::value_str)
                .collect(),
        )),
        Some(other) => Err(format!(
            "Activation key '{PROFILES_KEY}' must be a list, got {}.",
            missionctl_core::text::pytext::type_name(other)
        )),
    }
}

/// Decodes a file as Python's `read_text(encoding="utf-8")` does (universal newlines); the
/// error is Python's `UnicodeDecodeError` text.
fn decode(bytes: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(pytext::universal_newlines(text).into_owned()),
        Err(error) => {
            let position = error.valid_up_to();
            let byte = bytes.get(position).copied().unwrap_or_default();
            let reason = if error.error_len().is_none() {
                "unexpected end of data"
            } else if (0x80..0xc0).contains(&byte) || byte >= 0xf8 {
                "invalid start byte"
            } else {
                "invalid continuation byte"
            };
            Err(format!(
                "'utf-8' codec can't decode byte 0x{byte:02x} in position {position}: {reason}"
            ))
        }
    }
}

fn read_text(containment: &Containment, path: &Path) -> Result<Option<String>, PathError> {
    Ok(containment.read(path)?.map(|bytes| match decode(&bytes) {
        Ok(text) => text,
        Err(_) => pytext::universal_newlines(&String::from_utf8_lossy(&bytes)).into_owned(),
    }))
}

/// Reads what the checks read from the mission directory.
fn read_input(
    containment: &Containment,
    mission_dir: &Path,
    dir_name: &str,
) -> Result<FinalizeInput, PathError> {
    let meta = match containment.read(&mission_dir.join("meta.json"))? {
        None => MetaInput::Missing,
        Some(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => MetaInput::Object(map),
            Ok(_) => MetaInput::Malformed("expected a JSON object".to_owned()),
            Err(error) => MetaInput::Malformed(error.to_string()),
        },
    };
    let tasks_dir = mission_dir.join("tasks");
    let wp_files = match containment.read_dir(&tasks_dir)? {
        None => None,
        Some(entries) => {
            let mut names: Vec<String> = entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("WP") && name.ends_with(".md") && name.len() >= 5)
                .collect();
            names.sort_by(|a, b| pytext::code_point_order(a, b));
            let mut files = Vec::with_capacity(names.len());
            for name in names {
                let path = tasks_dir.join(&name);
                let text = if containment.is_dir(&path)? {
                    Err(format!("[Errno 21] Is a directory: '{}'", path.display()))
                } else {
                    match containment.read(&path)? {
                        Some(bytes) => decode(&bytes),
                        None => Err(format!(
                            "[Errno 2] No such file or directory: '{}'",
                            path.display()
                        )),
                    }
                };
                files.push(WpFileInput { name, text });
            }
            Some(files)
        }
    };
    Ok(FinalizeInput {
        mission_slug: dir_name.to_owned(),
        mission_dir: mission_dir.display().to_string(),
        meta,
        wp_files,
        spec_md: read_text(containment, &mission_dir.join("spec.md"))?,
        tasks_md: read_text(containment, &mission_dir.join("tasks.md"))?,
        wps_yaml: read_text(containment, &mission_dir.join("wps.yaml"))?,
        plan_md: read_text(containment, &mission_dir.join("plan.md"))?,
        occurrence_map_exists: containment.exists(&mission_dir.join("occurrence_map.yaml"))?,
    })
}

/// Finalizes a mission's work packages. See the [module](self) docs.
pub fn finalize_tasks(
    repo: &Repo,
    handle: &str,
    options: &FinalizeOptions<'_>,
    clock: &dyn Clock,
) -> Result<FinalizeOutcome, FinalizeError> {
    let resolved = resolve_handle(repo, handle)?;
    let mission_dir = resolved.dir.path().to_path_buf();
    let dir_name = resolved.dir.dir_name().to_owned();
    // A finalize that writes reads the plan under the mission's lock, as it commits it.
    let transaction = if options.validate_only {
        None
    } else {
        Some(
            WriteTransaction::begin(repo, Scope::Mission(dir_name.clone()), "tasks finalize")
                .map_err(PlanningError::from)?,
        )
    };
    let input = read_input(resolved.dir.containment(), &mission_dir, &dir_name)?;
    let env = StoreEnvironment {
        repo,
        mission_dir: &mission_dir,
        dir_name: &dir_name,
        protected_branches: options.protected_branches,
        tree: WorkTree::new(repo.primary_root()),
        status: OnceCell::new(),
        profiles: OnceCell::new(),
    };
    let plan = check_plan(&input, &env)?;
    let Some(transaction) = transaction else {
        return Ok(FinalizeOutcome::Validated(Box::new(plan.report)));
    };
    write_plan(repo, &dir_name, plan, transaction, options, clock)
        .map(|report| FinalizeOutcome::Finalized(Box::new(report)))
}

/// The write path: seed, lanes, commit (see the module docs), all in `transaction`, the
/// mission's write transaction the plan was read under.
fn write_plan(
    repo: &Repo,
    dir_name: &str,
    plan: CheckedPlan,
    transaction: WriteTransaction,
    options: &FinalizeOptions<'_>,
    clock: &dyn Clock,
) -> Result<FinalizeReport, FinalizeError> {
    let surface = PlanningSurface::resolve(repo, dir_name)?;
    surface.check_writable(repo, options.protected_branches)?;
    let mission_slug = surface.mission_slug().to_owned();
    let status = MissionStatus::load(repo, &mission_slug, options.protected_branches)?;
    let (seed, mut transaction) = status.seed_planned_within(transaction, &plan.to_seed, clock)?;
    let (seeded, seed_receipt) = match seed {
        Some(outcome) => (
            outcome
                .events
                .iter()
                .map(|event| event.wp_id.clone())
                .collect::<Vec<_>>(),
            Some(outcome.receipt),
        ),
        None => (Vec::new(), None),
    };
    // The acceptance matrix of a mission with lanes, where the status lives, as Spec Kitty's
    // finalize-tasks scaffolds it: one criterion per functional requirement of `spec.md`.
    let mut matrix_receipt = None;
    if surface.topology().has_lanes() {
        let functional = functional_ids(&surface)?;
        let (receipt, write) =
            status.scaffold_acceptance_matrix_within(transaction, &functional, clock)?;
        matrix_receipt = receipt;
        transaction = write;
    }

    let computes_lanes = surface.topology().has_lanes() || !surface.mission.topology_stored;
    let lanes_path = surface.mission_dir.join(LANES_FILE_NAME);
    let existing = surface
        .containment
        .read(&lanes_path)?
        .and_then(|bytes| LanesManifest::parse(&bytes).ok());
    let mut lanes_changed = false;
    let lanes = match (computes_lanes, plan.lanes) {
        (false, _) => None,
        (true, None) => {
            return Err(Refusal {
                code: "LANE_COMPUTATION_ABORTED_EMPTY_INPUTS",
                message: "Lane computation aborted: no WP ownership manifests were resolved (wp_manifests is empty); lanes.json was not written.".to_owned(),
                hint: "Give the work packages an `execution_mode` and `owned_files`".to_owned(),
                data: Default::default(),
                report: None,
            }
            .into());
        }
        (true, Some(mut computed)) => match existing {
            Some(existing) if computed.same_plan(&existing) => Some(existing),
            _ => {
                computed.computed_at = isoformat(clock.now());
                computed.planning_commit_sha = repo
                    .branch_tip(&surface.branch)
                    .map_err(PlanningError::from)?;
                transaction
                    .write_file(&lanes_path, computed.to_json().as_bytes())
                    .map_err(PlanningError::from)?;
                lanes_changed = true;
                Some(computed)
            }
        },
    };

    let mut planning_paths: Vec<String> = Vec::new();
    if let Some(entries) = surface
        .containment
        .read_dir(&surface.mission_dir.join("tasks"))?
    {
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("WP") && name.ends_with(".md"))
            .collect();
        names.sort_by(|a, b| pytext::code_point_order(a, b));
        planning_paths.extend(
            names
                .iter()
                .map(|name| surface.repo_path(&format!("tasks/{name}"))),
        );
    }
    for name in OTHER_PLANNING_FILES {
        if surface
            .containment
            .is_file(&surface.mission_dir.join(name))?
        {
            planning_paths.push(surface.repo_path(name));
        }
    }
    if lanes.is_some() {
        planning_paths.push(surface.repo_path(LANES_FILE_NAME));
    }
    let message = format!("Add tasks for feature {mission_slug}");
    let committed = surface.dirty_paths(&planning_paths)?;
    let planning_commit = surface.commit(
        &mut transaction,
        &committed,
        &message,
        crate::clock::unix_seconds(clock),
    )?;
    transaction.finish().map_err(PlanningError::from)?;

    let work_packages = plan
        .eligible_dependencies
        .iter()
        .map(|(wp_id, dependencies)| FinalizedWorkPackage {
            wp_id: wp_id.clone(),
            dependencies: dependencies.clone(),
            lane_id: lanes
                .as_ref()
                .and_then(|lanes| lanes.lane_for_wp(wp_id))
                .map(|lane| lane.lane_id.clone()),
            seeded: seeded.contains(wp_id),
        })
        .collect();
    let mut validation = plan.report;
    validation.validate_only = false;
    Ok(FinalizeReport {
        mission_slug,
        topology: surface.topology().as_str().to_owned(),
        planning_branch: plan.planning_branch,
        work_packages,
        validation,
        lanes,
        lanes_changed,
        seeded,
        seed_receipt,
        matrix_receipt,
        committed_paths: committed,
        planning_commit,
    })
}

/// Returns the functional requirement ids `spec.md` declares, sorted.
fn functional_ids(surface: &PlanningSurface) -> Result<Vec<String>, FinalizeError> {
    let Some(spec) = surface
        .containment
        .read(&surface.mission_dir.join("spec.md"))?
    else {
        return Ok(Vec::new());
    };
    let declared = missionctl_core::planning::requirement::DeclaredRequirements::parse(
        &String::from_utf8_lossy(&spec),
    );
    let mut ids: Vec<String> = declared
        .functional()
        .map(|requirement| requirement.id.to_string())
        .collect();
    ids.sort();
    Ok(ids)
}
