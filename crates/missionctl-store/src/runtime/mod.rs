//! Mission runs: the runtime state behind `next`, under `.kittify/runtime/` of the primary
//! checkout, in Spec Kitty's byte format.
//!
//! ```text
//! .kittify/runtime/
//!   feature-runs.json          mission directory name -> its current run (with mission_id)
//!   feature-runs.lock          held by every write below
//!   runs/<run_id>/
//!     state.json               MissionRunSnapshot
//!     run.events.jsonl         one event per line
//!     mission_template_frozen.yaml
//! ```
//!
//! Every write is a transaction of the write door in the runtime's scope, whose lock is
//! `feature-runs.lock` (Spec Kitty's); it re-reads the index under it, so
//! agents starting runs at the same time never lose an entry. Files are replaced atomically
//! and events are appended. Reads take no lock and write nothing, not even the lock file.
//!
//! A new run starts from the template its mission type resolves to ([`template`]: the
//! repository's overrides first, then the built-in copies of Spec Kitty's own MIT-licensed
//! `mission-runtime.yaml` files), frozen into the run as Spec Kitty does. Its `template_path`
//! names a real file whose bytes hash to `template_hash` (the template's own file, or the run's
//! frozen copy for a built-in template), so Spec Kitty's `next` loads every run missionctl
//! writes.

mod next;
pub mod template;

use std::path::{Path, PathBuf};
use std::time::Duration;

use missionctl_core::mission::run::{
    FeatureRunEntry, FeatureRunsIndex, MissionRunRef, MissionRunSnapshot, RunEvent, RunEventLog,
    RunFileError, is_valid_run_id,
};
use missionctl_core::text::sha256::hex_digest;
use serde::Serialize;
use serde_json::Value;

use crate::clock::{Clock, isoformat};
use crate::fs_util::PathError;
use crate::mission::action_context::{
    Action, ActionContext, ActionContextError, ActionRequest, RunFiles, RuntimeLayout,
    resolve_action_context, resolve_runtime_layout,
};
use crate::mission::index::resolve_handle;
use crate::repo::Repo;
use crate::write::{Scope, WriteError, WriteTransaction};

pub use next::{NextOutcome, advance_next, query_next};
pub use template::TemplateSearch;

/// The only mission type whose runs missionctl advances (queries answer every type).
pub const SUPPORTED_MISSION_TYPE: &str = "software-dev";

/// How long a write waits for another writer's runtime lock (the write door's).
pub const LOCK_TIMEOUT: Duration = crate::write::LOCK_TIMEOUT;

/// Why a run could not be read, started or advanced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The mission or the action's context cannot be resolved.
    #[error(transparent)]
    Context(#[from] ActionContextError),
    /// Advancing a run is only for `software-dev` missions.
    #[error(
        "Mission `{mission_slug}` is a `{mission_type}` mission; missionctl advances only `software-dev` runs"
    )]
    UnsupportedMissionType {
        /// The mission.
        mission_slug: String,
        /// Its type.
        mission_type: String,
    },
    /// No template tier has a template for the mission's type.
    #[error("No mission template for mission type `{mission_type}` (mission `{mission_slug}`)")]
    TemplateNotFound {
        /// The mission.
        mission_slug: String,
        /// Its type (`""` when `meta.json` records none).
        mission_type: String,
    },
    /// A run's frozen template cannot be read.
    #[error("Invalid run template `{}`: {message}", path.display())]
    TemplateInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The query has no decision: the run or its template cannot be read, or the run has no
    /// step to preview (Spec Kitty's `QUERY_MODE_VALIDATION_FAILED`).
    #[error("{0}")]
    QueryFailed(String),
    /// `feature-runs.json` is not a JSON object; it is never overwritten then.
    #[error("Invalid feature-runs index `{}`: {source}", path.display())]
    IndexInvalid {
        /// The index file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: RunFileError,
    },
    /// A run's `state.json` cannot be read.
    #[error("Invalid run state `{}`: {source}", path.display())]
    StateInvalid {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: RunFileError,
    },
    /// The run id source gave an id that cannot name a directory.
    #[error("Invalid run id `{0}`")]
    InvalidRunId(String),
    /// The new run's directory already exists.
    #[error("Run directory `{}` already exists", .0.display())]
    RunDirExists(PathBuf),
    /// The write door refused or failed (the runtime lock, a file); what the write changed
    /// was undone.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Nothing matches the run selector.
    #[error("No run found for `{0}`")]
    RunNotFound(String),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl RunError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            RunError::Context(error) => error.code(),
            RunError::UnsupportedMissionType { .. } => "MISSION_TYPE_UNSUPPORTED",
            RunError::TemplateNotFound { .. } => "MISSION_TEMPLATE_NOT_FOUND",
            RunError::TemplateInvalid { .. } => "RUN_TEMPLATE_INVALID",
            RunError::QueryFailed(_) => "QUERY_MODE_VALIDATION_FAILED",
            RunError::IndexInvalid { .. } => "FEATURE_RUNS_INVALID",
            RunError::StateInvalid { .. } => "RUN_STATE_INVALID",
            RunError::InvalidRunId(_) => "RUN_ID_INVALID",
            RunError::RunDirExists(_) => "RUN_DIR_EXISTS",
            RunError::Write(error) => error.code(),
            RunError::RunNotFound(_) => "RUN_NOT_FOUND",
            RunError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            RunError::Context(error) => error.hint(),
            RunError::UnsupportedMissionType { .. } => {
                "Ask without `--result` to see where the mission stands, and advance it with \
                 Spec Kitty's `next`"
                    .to_owned()
            }
            RunError::TemplateNotFound { .. } => {
                "Record the mission's `mission_type` in meta.json (software-dev, research, \
                 documentation, plan), or add its template under .kittify/overrides/missions/<type>/"
                    .to_owned()
            }
            RunError::TemplateInvalid { path, .. } => format!(
                "Repair `{}`, or delete its run directory to start a new run",
                path.display()
            ),
            RunError::QueryFailed(_) => {
                "Repair or delete the mission's run under .kittify/runtime/runs/ (its state.json \
                 and the template its `template_path` names)"
                    .to_owned()
            }
            RunError::IndexInvalid { path, .. } => format!(
                "Repair `{}` or delete it (runs are found again when they are next started)",
                path.display()
            ),
            RunError::StateInvalid { path, .. } => format!(
                "Repair `{}`, or delete its run directory to start a new run",
                path.display()
            ),
            RunError::InvalidRunId(_) => {
                "Run ids are 1 to 64 letters, digits, `-` or `_`".to_owned()
            }
            RunError::RunDirExists(_) => "Retry: the next run gets a new id".to_owned(),
            RunError::Write(error) => error.hint(),
            RunError::RunNotFound(_) => {
                "Pass a run id from `missionctl run list`, or a mission handle whose run was started"
                    .to_owned()
            }
            RunError::Io(error) => error.hint(),
        }
    }
}

/// Reads the index as Spec Kitty does: a missing or unreadable index is empty.
pub fn read_index(layout: &RuntimeLayout) -> Result<FeatureRunsIndex, RunError> {
    let path = layout.feature_runs();
    Ok(layout
        .containment
        .read(&path)?
        .and_then(|bytes| FeatureRunsIndex::parse(&bytes).ok())
        .unwrap_or_default())
}

/// Reads the index before rewriting it: an index that is not a JSON object is refused rather
/// than overwritten.
fn read_index_for_write(layout: &RuntimeLayout) -> Result<FeatureRunsIndex, RunError> {
    let path = layout.feature_runs();
    match layout.containment.read(&path)? {
        None => Ok(FeatureRunsIndex::default()),
        Some(bytes) => FeatureRunsIndex::parse(&bytes)
            .map_err(|source| RunError::IndexInvalid { path, source }),
    }
}

/// A run, loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRun {
    /// The run's handle.
    pub run: MissionRunRef,
    /// Its snapshot.
    pub snapshot: MissionRunSnapshot,
    /// Its files.
    pub files: RunFiles,
}

/// Returns the directory of an index entry's run, if it holds a `state.json`.
///
/// The run always lives under this repository's `runs/<run_id>`: a `run_dir` recorded on
/// another machine, or pointing anywhere else, is never read or written.
fn locate(layout: &RuntimeLayout, entry: &FeatureRunEntry) -> Result<Option<RunFiles>, PathError> {
    if !is_valid_run_id(&entry.run_id) {
        return Ok(None);
    }
    with_state(
        layout,
        RunFiles {
            dir: layout.run_dir(&entry.run_id),
        },
    )
}

/// Returns the run's files when its `state.json` exists.
fn with_state(layout: &RuntimeLayout, files: RunFiles) -> Result<Option<RunFiles>, PathError> {
    Ok(layout.containment.is_file(&files.state())?.then_some(files))
}

fn load_run(
    layout: &RuntimeLayout,
    files: RunFiles,
    mission_type: Option<&str>,
) -> Result<LoadedRun, RunError> {
    let path = files.state();
    let bytes = layout.containment.read(&path)?.ok_or_else(|| PathError {
        action: "Cannot read",
        path: path.clone(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    let snapshot = MissionRunSnapshot::parse(&bytes)
        .map_err(|source| RunError::StateInvalid { path, source })?;
    Ok(LoadedRun {
        run: MissionRunRef {
            run_id: snapshot.run_id.clone(),
            run_dir: files.dir.display().to_string(),
            mission_key: mission_type
                .map(str::to_owned)
                .unwrap_or_else(|| snapshot.mission_key.clone()),
            mission_id: snapshot.mission_id.clone(),
            mission_slug: snapshot.mission_slug.clone(),
        },
        snapshot,
        files,
    })
}

/// Returns a mission's current run, if the index has a valid one. Reads only.
pub fn find_mission_run(
    layout: &RuntimeLayout,
    mission_slug: &str,
) -> Result<Option<LoadedRun>, RunError> {
    let index = read_index(layout)?;
    let Some(entry) = index.entry(mission_slug) else {
        return Ok(None);
    };
    match locate(layout, &entry)? {
        Some(files) => load_run(layout, files, entry.mission_key.as_deref()).map(Some),
        None => Ok(None),
    }
}

/// Appends events to a run's log (flushed) inside the transaction.
fn append_events(
    transaction: &mut WriteTransaction,
    path: &Path,
    events: &[RunEvent],
) -> Result<(), RunError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for event in events {
        text.push_str(&event.to_json_line());
        text.push('\n');
    }
    transaction.append_file(path, text.as_bytes())?;
    Ok(())
}

/// Opens a write transaction of the runtime: its lock is Spec Kitty's `feature-runs.lock`.
fn begin(repo: &Repo, operation: &str) -> Result<WriteTransaction, RunError> {
    Ok(WriteTransaction::begin(repo, Scope::Runtime, operation)?)
}

/// Starts a new run under the held lock and records it in `index` (written to disk).
fn start_locked(
    transaction: &mut WriteTransaction,
    context: &ActionContext,
    search: &TemplateSearch,
    clock: &dyn Clock,
    index: &mut FeatureRunsIndex,
) -> Result<LoadedRun, RunError> {
    let layout = &context.runtime;
    let run_id = clock.new_run_id();
    if !is_valid_run_id(&run_id) {
        return Err(RunError::InvalidRunId(run_id));
    }
    let files = RunFiles {
        dir: layout.run_dir(&run_id),
    };
    let template_files = template::TemplateFiles {
        containment: &layout.containment,
        repo_root: &context.mission.primary_root,
    };
    let Some((bytes, template, template_path)) = next::template_for_new_run(
        template_files,
        &context.mission_type,
        search,
        &files.frozen_template(),
    )?
    else {
        return Err(RunError::TemplateNotFound {
            mission_slug: context.mission_slug.clone(),
            mission_type: context.mission_type.clone(),
        });
    };
    if layout.containment.exists(&files.dir)? {
        return Err(RunError::RunDirExists(files.dir));
    }
    // Every file is a step of the transaction: a failure, or a kill (settled by the next
    // writer), leaves no half-started run, and no run the index does not name.
    transaction.create_dir_all(&files.dir)?;
    write_new_run(
        transaction,
        context,
        clock,
        &files,
        &run_id,
        &NewRunTemplate {
            bytes: &bytes,
            key: &template.key,
            path: &template_path,
        },
        index,
    )
}

/// The template a new run freezes: its bytes, its mission key and the `template_path` to record.
struct NewRunTemplate<'a> {
    bytes: &'a [u8],
    key: &'a str,
    path: &'a str,
}

fn write_new_run(
    transaction: &mut WriteTransaction,
    context: &ActionContext,
    clock: &dyn Clock,
    files: &RunFiles,
    run_id: &str,
    template: &NewRunTemplate<'_>,
    index: &mut FeatureRunsIndex,
) -> Result<LoadedRun, RunError> {
    transaction.write_file(&files.frozen_template(), template.bytes)?;
    let snapshot = MissionRunSnapshot::new_run(
        run_id,
        template.key,
        template.path,
        &hex_digest(template.bytes),
        Some(&context.mission_id),
        &context.mission_slug,
    );
    transaction.write_file(&files.state(), snapshot.to_json_string().as_bytes())?;
    let now = isoformat(clock.now());
    append_events(
        transaction,
        &files.events(),
        &[RunEvent::mission_run_started(run_id, template.key, &now)],
    )?;
    let run = MissionRunRef {
        run_id: run_id.to_owned(),
        run_dir: files.dir.display().to_string(),
        mission_key: template.key.to_owned(),
        mission_id: Some(context.mission_id.clone()),
        mission_slug: Some(context.mission_slug.clone()),
    };
    index.insert(
        &context.mission_slug,
        &FeatureRunEntry::for_run(&run, &context.mission_type),
    );
    let index_path = context.runtime.feature_runs();
    transaction.write_file(&index_path, index.to_json_string().as_bytes())?;
    Ok(LoadedRun {
        run,
        snapshot,
        files: files.clone(),
    })
}

/// Returns the mission's current run, starting one when it has none (under the held lock).
fn get_or_start_locked(
    transaction: &mut WriteTransaction,
    context: &ActionContext,
    search: &TemplateSearch,
    clock: &dyn Clock,
) -> Result<(LoadedRun, bool), RunError> {
    let mut index = read_index_for_write(&context.runtime)?;
    if let Some(entry) = index.entry(&context.mission_slug)
        && let Some(files) = locate(&context.runtime, &entry)?
    {
        return Ok((
            load_run(&context.runtime, files, entry.mission_key.as_deref())?,
            false,
        ));
    }
    Ok((
        start_locked(transaction, context, search, clock, &mut index)?,
        true,
    ))
}

/// Starts a new run of a mission and makes it the mission's current run.
///
/// The run's snapshot and reference carry the mission's ULID (from the primary `meta.json`)
/// and its directory name; so does its `feature-runs.json` entry. Locked and atomic: runs
/// started at the same time by other processes all stay in the index.
pub fn start_mission_run(
    repo: &Repo,
    context: &ActionContext,
    search: &TemplateSearch,
    clock: &dyn Clock,
) -> Result<MissionRunRef, RunError> {
    let mut transaction = begin(repo, "run start")?;
    let mut index = read_index_for_write(&context.runtime)?;
    let run = start_locked(&mut transaction, context, search, clock, &mut index)?.run;
    transaction.finish()?;
    Ok(run)
}

/// Returns the mission's current run, starting one when it has none; `true` when started.
pub fn get_or_start_run(
    repo: &Repo,
    context: &ActionContext,
    search: &TemplateSearch,
    clock: &dyn Clock,
) -> Result<(LoadedRun, bool), RunError> {
    let mut transaction = begin(repo, "run start")?;
    let outcome = get_or_start_locked(&mut transaction, context, search, clock)?;
    transaction.finish()?;
    Ok(outcome)
}

/// Resolves a mission and returns its current run, starting one when it has none (`run start`).
pub fn start_run_for_mission(
    repo: &Repo,
    handle: &str,
    search: &TemplateSearch,
    clock: &dyn Clock,
) -> Result<(LoadedRun, bool), RunError> {
    let context = resolve_action_context(
        repo,
        &ActionRequest {
            mission: handle,
            action: Action::Status,
            wp_id: None,
            agent: None,
        },
    )?;
    get_or_start_run(repo, &context, search, clock)
}

/// One run, as `run list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The mission directory name the index files it under (`None` for a run directory the
    /// index does not name).
    pub mission_slug: Option<String>,
    /// The mission's ULID: from the index entry, else from the run's state.
    pub mission_id: Option<String>,
    /// The run id.
    pub run_id: String,
    /// The run directory.
    pub run_dir: String,
    /// The mission type recorded in the index.
    pub mission_type: Option<String>,
    /// Whether the index names this run.
    pub indexed: bool,
    /// The step handed out and not reported on yet.
    pub issued_step_id: Option<String>,
    /// The steps completed.
    pub completed_steps: Vec<String>,
    /// Why the run is blocked.
    pub blocked_reason: Option<String>,
    /// Why the run's state cannot be read (`None` when it can).
    pub problem: Option<String>,
}

fn summarize(
    mission_slug: Option<String>,
    entry: Option<&FeatureRunEntry>,
    run_id: &str,
    files: Option<RunFiles>,
    layout: &RuntimeLayout,
) -> RunSummary {
    let loaded = files.map(|files| load_run(layout, files, None));
    let (snapshot, problem) = match loaded {
        Some(Ok(run)) => (Some(run.snapshot), None),
        Some(Err(error)) => (None, Some(error.to_string())),
        None => (
            None,
            Some("the run directory has no state.json in this repository".to_owned()),
        ),
    };
    RunSummary {
        mission_id: entry
            .and_then(|entry| entry.mission_id.clone())
            .or_else(|| snapshot.as_ref().and_then(|s| s.mission_id.clone())),
        mission_slug: mission_slug
            .or_else(|| snapshot.as_ref().and_then(|s| s.mission_slug.clone())),
        run_id: run_id.to_owned(),
        run_dir: layout.run_dir(run_id).display().to_string(),
        mission_type: entry.and_then(|entry| entry.mission_type.clone()),
        indexed: entry.is_some(),
        issued_step_id: snapshot.as_ref().and_then(|s| s.issued_step_id.clone()),
        completed_steps: snapshot
            .as_ref()
            .map(|s| s.completed_steps.clone())
            .unwrap_or_default(),
        blocked_reason: snapshot.as_ref().and_then(|s| s.blocked_reason.clone()),
        problem,
    }
}

/// Lists every run: the index's entries in mission order, then run directories the index does
/// not name. Reads only.
pub fn list_runs(repo: &Repo) -> Result<Vec<RunSummary>, RunError> {
    let layout = resolve_runtime_layout(repo);
    let index = read_index(&layout)?;
    let mut runs = Vec::new();
    let mut seen = Vec::new();
    for (slug, entry) in index.entries() {
        let files = locate(&layout, &entry)?;
        seen.push(entry.run_id.clone());
        runs.push(summarize(
            Some(slug),
            Some(&entry),
            &entry.run_id,
            files,
            &layout,
        ));
    }
    let runs_dir = layout.runs_dir();
    let mut orphans: Vec<String> = match layout.containment.read_dir(&runs_dir)? {
        Some(entries) => entries
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| is_valid_run_id(name) && !seen.contains(name))
            .collect(),
        None => Vec::new(),
    };
    orphans.sort();
    for run_id in orphans {
        let files = with_state(
            &layout,
            RunFiles {
                dir: layout.run_dir(&run_id),
            },
        )?;
        runs.push(summarize(None, None, &run_id, files, &layout));
    }
    Ok(runs)
}

/// One run in full, as `run show` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetails {
    /// The mission directory name the index files the run under, if it does.
    pub mission_slug: Option<String>,
    /// The run's handle.
    pub run: MissionRunRef,
    /// The run's index entry, if the index names it.
    pub index_entry: Option<FeatureRunEntry>,
    /// The run's `state.json`, as an object.
    pub state: Value,
    /// The run's events, in order.
    pub events: Vec<RunEvent>,
    /// Lines of `run.events.jsonl` that are not events (`"<line>: <why>"`).
    pub event_errors: Vec<String>,
}

/// Shows a run, found by run id, by mission ULID through the index (the reverse lookup), or by
/// any mission handle. Reads only.
pub fn show_run(repo: &Repo, selector: &str) -> Result<RunDetails, RunError> {
    let layout = resolve_runtime_layout(repo);
    let index = read_index(&layout)?;
    type Found = Option<(Option<(String, FeatureRunEntry)>, RunFiles)>;
    let by_run_id = || -> Result<Found, PathError> {
        if !is_valid_run_id(selector) {
            return Ok(None);
        }
        let files = RunFiles {
            dir: layout.run_dir(selector),
        };
        Ok(with_state(&layout, files)?.map(|files| (index.find_by_run_id(selector), files)))
    };
    let by_entry = |found: Option<(String, FeatureRunEntry)>| -> Result<Found, PathError> {
        let Some((slug, entry)) = found else {
            return Ok(None);
        };
        Ok(locate(&layout, &entry)?.map(|files| (Some((slug, entry)), files)))
    };
    let mut found = by_run_id()?;
    if found.is_none() {
        found = by_entry(index.find_by_mission_id(selector))?;
    }
    if found.is_none()
        && let Ok(resolved) = resolve_handle(repo, selector)
    {
        let slug = resolved.dir.dir_name().to_owned();
        found = by_entry(index.entry(&slug).map(|entry| (slug, entry)))?;
    }
    let Some((indexed, files)) = found else {
        return Err(RunError::RunNotFound(selector.to_owned()));
    };
    let (mission_slug, index_entry) = match indexed {
        Some((slug, entry)) => (Some(slug), Some(entry)),
        None => (None, None),
    };
    let loaded = load_run(
        &layout,
        files,
        index_entry
            .as_ref()
            .and_then(|entry| entry.mission_key.as_deref()),
    )?;
    let events_path = loaded.files.events();
    let log = RunEventLog::parse(&layout.containment.read(&events_path)?.unwrap_or_default());
    Ok(RunDetails {
        mission_slug: mission_slug.or_else(|| loaded.snapshot.mission_slug.clone()),
        state: loaded.snapshot.to_value(),
        run: loaded.run,
        index_entry,
        events: log.events,
        event_errors: log
            .errors
            .iter()
            .map(|(line, error)| format!("{line}: {error}"))
            .collect(),
    })
}
