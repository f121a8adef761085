//! `next`: the query mode, which decides as Spec Kitty 3.2.7's query mode decides and writes
//! nothing, and the advancing mode, which reports the agent's result to the mission's run.
//!
//! The query (see [`missionctl_core::next::query`] for the decision itself) reads:
//!
//! - the primary checkout's `meta.json` and log, for the merged-mission answer;
//! - the mission's resolved context ([`resolve_mission_context`]), whose failures
//!   (`COORDINATION_BRANCH_DELETED`, …) are the query's;
//! - the task board: `tasks.md` and `tasks/WP*.md` of the primary checkout, the lanes of the log
//!   of the status directory (the coordination worktree's mission directory when it exists,
//!   else the primary one), read as a file the way Spec Kitty reads it;
//! - the mission's persisted run with the template its `template_path` names, or else a fresh
//!   run of the template the mission type resolves to ([`resolve_template`]), never written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use missionctl_core::lifecycle::finish_gate::{FinishGate, finish_gate};
use missionctl_core::mission::meta::MetaReadPolicy;
use missionctl_core::mission::mission_template::{MissionTemplate, RunPlan, plan_run};
use missionctl_core::mission::run::{MissionRunRef, MissionRunSnapshot};
use missionctl_core::next::decision::recorded_mission_type;
use missionctl_core::next::query::{
    BoardOverride, ClaimablePreview, EndingScope, QueriedRun, TaskBoard, WpEnding,
    finalized_override, front_matter_scalar, graph_file_id, merged_decision, merged_verdict,
    override_decision, preview_claimable, query_progress, run_decision, text_front_matter,
    weighted_percentage, wp_endings, wp_file_id,
};
use missionctl_core::next::{
    Decision, DecisionIdentity, DecisionKind, NextStep, PlanKind, StepResult, advance,
};
use missionctl_core::planning::work_package::{split_front_matter, summarize_front_matter};
use missionctl_core::status::event_log::EventLog;
use missionctl_core::status::lane::Lane;
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::text::sha256::hex_digest;
use serde_json::{Map, Value};

use super::template::{
    TemplateFiles, TemplateSearch, TemplateSource, load_template_file, resolve_template,
};
use super::{
    LoadedRun, RunError, SUPPORTED_MISSION_TYPE, append_events, find_mission_run,
    get_or_start_locked,
};
use crate::clock::{Clock, isoformat};
use crate::fs_util::PathError;
use crate::mission::action_context::{
    Action, ActionContext, ActionContextError, ActionRequest, mission_facts,
    resolve_action_context, resolve_runtime_layout,
};
use crate::mission::context::{ResolveError, resolve_mission_context};
use crate::mission::dir::{StatusReadError, read_event_log};
use crate::mission::index::resolve_handle;
use crate::mission::meta_store::PrimaryMissionDir;
use crate::repo::Repo;
use crate::repo::containment::Containment;
use crate::status::MissionStatus;
use crate::write::{Scope, WriteTransaction};

/// What `next` decided.
#[derive(Debug, Clone, PartialEq)]
pub struct NextOutcome {
    /// The decision document.
    pub decision: Decision,
    /// The context of the decided action (advancing mode only; `None` for a query and for a
    /// merged mission).
    pub context: Option<ActionContext>,
    /// The mission's run: the persisted one a query read, or the one advancing used.
    pub run: Option<MissionRunRef>,
    /// Whether advancing started the run.
    pub started: bool,
    /// What holds the mission back from being done (review, merge, accept), with the command
    /// that clears it; `None` while work is implemented, once the mission is accepted, and for
    /// a merged mission. missionctl's own: not part of Spec Kitty's decision document.
    pub gate: Option<FinishGate>,
}

/// Returns the finish gate of a mission from its task board and `meta.json`: a task file
/// without a lane in the log counts as `planned`.
fn finish_gate_of(
    mission_slug: &str,
    board: &TaskBoard,
    meta: &Map<String, Value>,
) -> Option<FinishGate> {
    let mut lanes: BTreeMap<String, Lane> = board
        .lanes
        .iter()
        .map(|(id, ending)| (id.clone(), ending.lane))
        .collect();
    for id in &board.file_ids {
        lanes.entry(id.clone()).or_insert(Lane::Planned);
    }
    let accepted = meta.contains_key("accepted_at") || meta.contains_key("accept_commit");
    let lanes: Vec<(String, Lane)> = lanes.into_iter().collect();
    finish_gate(mission_slug, &lanes, accepted)
}

fn lookup(error: crate::mission::index::LookupError) -> RunError {
    RunError::Context(ActionContextError::Resolve(ResolveError::Lookup(error)))
}

fn unreadable(mission_slug: &str, source: StatusReadError) -> RunError {
    RunError::Context(ActionContextError::StatusUnreadable {
        mission_slug: mission_slug.to_owned(),
        source,
    })
}

/// A mission directory's reduced log and each work package's ending.
type ReducedDir = (StatusSnapshot, BTreeMap<String, WpEnding>);

/// Reduces a mission directory's log when it has one (cached; a bad line is an error) and
/// returns its snapshot with each work package's ending: the log is read again only when a
/// work package is canceled, for who canceled it.
fn reduce_dir(
    repo: &Repo,
    dir: &Path,
    mission_slug: &str,
    scope: EndingScope,
) -> Result<Option<ReducedDir>, RunError> {
    let Some(snapshot) = MissionStatus::reduce_dir_log(repo, mission_slug, dir)
        .map_err(|source| unreadable(mission_slug, source))?
    else {
        return Ok(None);
    };
    let canceled = snapshot
        .work_packages
        .values()
        .any(|state| state.lane == Lane::Canceled);
    let log = if canceled {
        read_event_log(dir).map_err(|source| unreadable(mission_slug, source))?
    } else {
        EventLog::default()
    };
    let endings = wp_endings(&log, &snapshot, scope);
    Ok(Some((snapshot, endings)))
}

/// The mission as a decision names it, from the primary `meta.json`.
fn identity(
    primary: &PrimaryMissionDir,
    agent: Option<&str>,
) -> Result<(DecisionIdentity, Map<String, Value>), RunError> {
    let meta = primary
        .read_meta(MetaReadPolicy::Silent)
        .map_err(|error| lookup(error.into()))?
        .map(|meta| meta.into_map())
        .unwrap_or_default();
    let identity = DecisionIdentity {
        agent: agent.map(str::to_owned),
        mission_slug: primary.dir_name().to_owned(),
        mission_type: recorded_mission_type(&meta),
        mission_id: meta
            .get("mission_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    Ok((identity, meta))
}

/// The merged-mission answer: `meta.json` has a `mission_number` and the primary checkout's
/// log names a work package.
fn merged(
    repo: &Repo,
    primary: &PrimaryMissionDir,
    meta: &Map<String, Value>,
    identity: &DecisionIdentity,
    kind: DecisionKind,
    timestamp: &str,
) -> Result<Option<Decision>, RunError> {
    if meta.get("mission_number").is_none_or(Value::is_null) {
        return Ok(None);
    }
    let Some((_, endings)) = reduce_dir(
        repo,
        primary.path(),
        primary.dir_name(),
        EndingScope::WithAnnotations,
    )?
    else {
        return Ok(None);
    };
    Ok(merged_verdict(endings.values()).map(|verdict| {
        let mut decision = merged_decision(identity, verdict, timestamp);
        if kind != DecisionKind::Query {
            decision.kind = match decision.mission_state.as_str() {
                "done" => DecisionKind::Terminal,
                _ => DecisionKind::Blocked,
            };
            decision.is_query = false;
        }
        decision
    }))
}

/// The names of the entries of `tasks/` matching `WP*.md`, sorted (byte order).
fn wp_file_names(containment: &Containment, tasks: &Path) -> Result<Vec<String>, PathError> {
    if !containment.is_dir(tasks)? {
        return Ok(Vec::new());
    }
    let Some(entries) = containment.read_dir(tasks)? else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with("WP") && name.ends_with(".md"))
        .collect();
    names.sort();
    Ok(names)
}

/// The task board of a mission: files from the primary directory, lanes from the status
/// directory's log.
fn task_board(
    repo: &Repo,
    primary_dir: &Path,
    status_dir: &Path,
    mission_slug: &str,
) -> Result<(TaskBoard, Vec<String>), RunError> {
    let containment = repo.containment();
    let tasks = primary_dir.join("tasks");
    let names = wp_file_names(containment, &tasks).map_err(RunError::Io)?;
    let (lanes, weighted) =
        match reduce_dir(repo, status_dir, mission_slug, EndingScope::TransitionsOnly)? {
            Some((snapshot, endings)) => (
                endings,
                weighted_percentage(snapshot.work_packages.values().map(|wp| &wp.lane)),
            ),
            None => (BTreeMap::new(), 0.0),
        };
    Ok((
        TaskBoard {
            tasks_md: containment
                .is_file(&primary_dir.join("tasks.md"))
                .map_err(RunError::Io)?,
            tasks_dir: containment.is_dir(&tasks).map_err(RunError::Io)?,
            file_ids: names.iter().map(|name| wp_file_id(name)).collect(),
            lanes,
            weighted_percentage: Some(weighted),
        },
        names,
    ))
}

/// The work package `implement` would claim: the candidates are the `work_package_id` of each
/// file, the dependencies those of its front matter.
fn claimable(
    containment: &Containment,
    primary_dir: &Path,
    names: &[String],
    board: &TaskBoard,
) -> Result<ClaimablePreview, RunError> {
    let tasks = primary_dir.join("tasks");
    let mut candidates = Vec::new();
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names {
        // A file that cannot be read is no candidate, as in Spec Kitty; a link is refused.
        let bytes = match containment.read(&tasks.join(name)) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(error) if error.escape().is_some() => return Err(RunError::Io(error)),
            Err(_) => continue,
        };
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if let Some(id) =
            text_front_matter(text).and_then(|front| front_matter_scalar(&front, "work_package_id"))
        {
            candidates.push(id);
        }
        let Some(file_id) = graph_file_id(name) else {
            continue;
        };
        let summary =
            split_front_matter(text).and_then(|split| summarize_front_matter(split.yaml).ok());
        let (front_id, dependencies) = match summary {
            Some(summary) => (summary.work_package_id, summary.dependencies),
            None => (None, Vec::new()),
        };
        let wp_id = front_id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| file_id.to_owned());
        graph.insert(wp_id, dependencies);
    }
    Ok(preview_claimable(&candidates, &graph, &board.lanes))
}

/// A run a query may read, planned.
struct PlannedRun {
    run: QueriedRun,
    plan: RunPlan,
    run_ref: Option<MissionRunRef>,
}

fn query_failed(mission_slug: &str, error: impl std::fmt::Display) -> RunError {
    RunError::QueryFailed(format!(
        "Could not read query state for mission '{mission_slug}': {error}"
    ))
}

/// The path a run's `template_path` names: absolute, or relative to the repository root.
fn template_file(primary_root: &Path, template_path: &str) -> PathBuf {
    let path = Path::new(template_path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        primary_root.join(path)
    }
}

/// How a repository's template search reaches files.
fn template_files(repo: &Repo) -> TemplateFiles<'_> {
    TemplateFiles {
        containment: repo.containment(),
        repo_root: repo.primary_root(),
    }
}

/// Reads the mission's persisted run, or plans a fresh one without writing it.
fn queried_run(
    repo: &Repo,
    identity: &DecisionIdentity,
    search: &TemplateSearch,
) -> Result<PlannedRun, RunError> {
    let slug = identity.mission_slug.as_str();
    let layout = resolve_runtime_layout(repo);
    let persisted = find_mission_run(&layout, slug).map_err(|error| query_failed(slug, error))?;
    if let Some(LoadedRun { run, snapshot, .. }) = persisted {
        let path = template_file(repo.primary_root(), &snapshot.template_path);
        let (bytes, template) = load_template_file(&template_files(repo), &path)
            .map_err(|error| query_failed(slug, error))?;
        let drifted = hex_digest(&bytes) != snapshot.template_hash;
        let plan =
            plan_run(&snapshot, &template, drifted).map_err(|error| query_failed(slug, error))?;
        return Ok(PlannedRun {
            run: QueriedRun {
                run_id: Some(run.run_id.clone()),
                snapshot,
            },
            plan,
            run_ref: Some(run),
        });
    }
    let resolved = resolve_template(template_files(repo), &identity.mission_type, search)
        .map_err(RunError::Io)?
        .ok_or_else(|| {
            query_failed(
                slug,
                format_args!(
                    "Mission '{}' not found in any mission template tier",
                    identity.mission_type
                ),
            )
        })?;
    let snapshot = MissionRunSnapshot::new_run(
        "query",
        &resolved.template.key,
        "",
        &hex_digest(&resolved.bytes),
        None,
        slug,
    );
    let plan = plan_run(&snapshot, &resolved.template, false)
        .map_err(|error| query_failed(slug, error))?;
    Ok(PlannedRun {
        run: QueriedRun {
            snapshot,
            run_id: None,
        },
        plan,
        run_ref: None,
    })
}

/// Returns the mission's state as Spec Kitty's query mode decides it, writing nothing in the
/// working tree (only the status cache inside `.git`):
/// not `status.json` (which Spec Kitty's query rewrites), not a run, not a lock file.
pub fn query_next(
    repo: &Repo,
    handle: &str,
    agent: Option<&str>,
    search: &TemplateSearch,
    clock: &dyn Clock,
) -> Result<NextOutcome, RunError> {
    let timestamp = isoformat(clock.now());
    let primary = resolve_handle(repo, handle).map_err(lookup)?.dir;
    let (identity, meta) = identity(&primary, agent)?;
    if let Some(decision) = merged(
        repo,
        &primary,
        &meta,
        &identity,
        DecisionKind::Query,
        &timestamp,
    )? {
        return Ok(NextOutcome {
            decision,
            context: None,
            run: None,
            started: false,
            gate: None,
        });
    }
    let mission = resolve_mission_context(repo, primary.dir_name())
        .map_err(|error| RunError::Context(error.into()))?;
    let containment = repo.containment();
    let (board, names) = task_board(repo, primary.path(), &mission.read_dir, primary.dir_name())?;
    let progress = query_progress(&board);
    let planned = queried_run(repo, &identity, search)?;
    let decision = match finalized_override(&board, progress.as_ref()) {
        Some(board_override) => {
            let preview = match board_override {
                BoardOverride::Implement => {
                    Some(claimable(containment, primary.path(), &names, &board)?)
                }
                _ => None,
            };
            override_decision(
                &identity,
                board_override,
                preview.as_ref(),
                progress,
                planned.run.run_id.clone(),
                &timestamp,
            )
        }
        None => run_decision(&identity, &planned.run, &planned.plan, progress, &timestamp)
            .map_err(|error| RunError::QueryFailed(error.0))?,
    };
    Ok(NextOutcome {
        gate: finish_gate_of(primary.dir_name(), &board, &meta),
        decision,
        context: None,
        run: planned.run_ref,
        started: false,
    })
}

/// Resolves the mission-level context; advancing is only for `software-dev` missions.
fn mission_context(
    repo: &Repo,
    handle: &str,
    agent: Option<&str>,
) -> Result<ActionContext, RunError> {
    let context = resolve_action_context(
        repo,
        &ActionRequest {
            mission: handle,
            action: Action::Status,
            wp_id: None,
            agent,
        },
    )?;
    if context.mission_type != SUPPORTED_MISSION_TYPE {
        return Err(RunError::UnsupportedMissionType {
            mission_slug: context.mission_slug.clone(),
            mission_type: context.mission_type.clone(),
        });
    }
    Ok(context)
}

/// Resolves the context of the decided action through the same resolver.
fn decided_context(
    repo: &Repo,
    base: &ActionContext,
    next: &NextStep,
) -> Result<ActionContext, RunError> {
    let Some(step) = next.step_id() else {
        return Ok(base.clone());
    };
    let action = Action::parse(step)?;
    Ok(resolve_action_context(
        repo,
        &ActionRequest {
            mission: &base.mission_slug,
            action,
            wp_id: next.wp_id.as_deref(),
            agent: base.agent.as_deref(),
        },
    )?)
}

/// The decision of an advance: Spec Kitty's fields for an issued step, a block or the end.
fn advance_decision(
    identity: &DecisionIdentity,
    next: &NextStep,
    issued_step: Option<&str>,
    context: &ActionContext,
    run: &MissionRunRef,
    timestamp: &str,
) -> Decision {
    let kind = match next.kind {
        PlanKind::Step => DecisionKind::Step,
        PlanKind::Blocked => DecisionKind::Blocked,
        PlanKind::Terminal => DecisionKind::Terminal,
    };
    let mut decision = Decision::new(kind, identity, next.mission_state.as_str(), timestamp);
    let work_package = context.work_package.as_ref();
    decision.action = next.step_id().map(str::to_owned);
    decision.wp_id = next.wp_id.clone();
    decision.workspace_path = work_package.map(|wp| wp.workspace_path.display().to_string());
    decision.prompt_file = work_package
        .and_then(|wp| wp.wp_file.as_ref())
        .map(|path| path.display().to_string());
    decision.reason = next.reason.clone();
    decision.guard_failures = next.guard_failures.clone();
    decision.run_id = Some(run.run_id.clone());
    decision.step_id = issued_step.map(str::to_owned);
    decision
}

/// The `template_path` earlier missionctl versions recorded for the built-in template: no file,
/// so Spec Kitty could not load those runs; advancing one rewrites it.
const OLD_BUILTIN_TEMPLATE_PATH: &str = "missionctl:builtin/";

/// Where a run's template came from, as `origin` reports it.
fn origin(template_path: &str, frozen: &Path) -> Map<String, Value> {
    let path = Path::new(template_path);
    let (tier, dir) = if path == frozen {
        ("builtin", path.parent())
    } else {
        ("file", path.parent())
    };
    let mut origin = Map::new();
    origin.insert("mission_tier".to_owned(), Value::String(tier.to_owned()));
    origin.insert(
        "mission_path".to_owned(),
        Value::String(dir.map(|dir| dir.display().to_string()).unwrap_or_default()),
    );
    origin
}

/// Reports `result` for the step the run issued, then issues the next step: starts the
/// mission's run when it has none (from the template its type resolves to), and writes the
/// snapshot and the events under the runtime lock. A merged mission is answered as Spec
/// Kitty answers it (terminal, or blocked by a conflict) and no run is started.
pub fn advance_next(
    repo: &Repo,
    handle: &str,
    agent: &str,
    result: StepResult,
    search: &TemplateSearch,
    clock: &dyn Clock,
) -> Result<NextOutcome, RunError> {
    let timestamp = isoformat(clock.now());
    let primary = resolve_handle(repo, handle).map_err(lookup)?.dir;
    let (identity, meta) = identity(&primary, Some(agent))?;
    if let Some(decision) = merged(
        repo,
        &primary,
        &meta,
        &identity,
        DecisionKind::Step,
        &timestamp,
    )? {
        return Ok(NextOutcome {
            decision,
            context: None,
            run: None,
            started: false,
            gate: None,
        });
    }
    let base = mission_context(repo, primary.dir_name(), Some(agent))?;
    let facts = mission_facts(repo, &base)?;
    let (board, _) = task_board(
        repo,
        primary.path(),
        &base.mission.read_dir,
        primary.dir_name(),
    )?;
    let mut transaction = WriteTransaction::begin(repo, Scope::Runtime, "next")?;
    let (
        LoadedRun {
            run,
            snapshot,
            files,
        },
        started,
    ) = get_or_start_locked(&mut transaction, &base, search, clock)?;
    let frozen = files.frozen_template();
    let (_, template) = load_template_file(&template_files(repo), &frozen).map_err(|error| {
        RunError::TemplateInvalid {
            path: frozen.clone(),
            message: error.to_string(),
        }
    })?;
    let steps: Vec<String> = template.step_ids().map(str::to_owned).collect();
    let mut advanced = advance(&snapshot, &steps, &facts, agent, result, &timestamp);
    if snapshot
        .template_path
        .starts_with(OLD_BUILTIN_TEMPLATE_PATH)
    {
        // Written by an earlier missionctl: name the frozen copy, a file Spec Kitty can open.
        advanced.snapshot.template_path = frozen.display().to_string();
    }
    // Resolved before anything is written, so a context error leaves the run as it was.
    let context = decided_context(repo, &base, &advanced.next)?;
    append_events(&mut transaction, &files.events(), &advanced.events)?;
    if advanced.snapshot != snapshot {
        transaction.write_file(
            &files.state(),
            advanced.snapshot.to_json_string().as_bytes(),
        )?;
    }
    transaction.finish()?;
    let mut decision = advance_decision(
        &identity,
        &advanced.next,
        advanced.snapshot.issued_step_id.as_deref(),
        &context,
        &run,
        &timestamp,
    );
    decision.progress = query_progress(&board);
    decision.origin = origin(&snapshot.template_path, &frozen);
    Ok(NextOutcome {
        gate: finish_gate_of(primary.dir_name(), &board, &meta),
        decision,
        context: Some(context),
        run: Some(run),
        started,
    })
}

/// Returns the template a new run of a mission type starts from, with the `template_path` to
/// record: the file's own path, or for a built-in template the run's frozen copy (a real file
/// whose bytes hash to `template_hash`, so Spec Kitty can load the run).
pub(super) fn template_for_new_run(
    files: TemplateFiles<'_>,
    mission_type: &str,
    search: &TemplateSearch,
    frozen: &Path,
) -> Result<Option<(Vec<u8>, MissionTemplate, String)>, PathError> {
    let Some(resolved) = resolve_template(files, mission_type, search)? else {
        return Ok(None);
    };
    let path = match &resolved.source {
        TemplateSource::File(path) => path.display().to_string(),
        TemplateSource::Builtin(_) => frozen.display().to_string(),
    };
    Ok(Some((resolved.bytes, resolved.template, path)))
}
