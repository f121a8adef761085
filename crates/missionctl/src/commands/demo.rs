//! `missionctl demo`: builds a throwaway git repository and shows what the engine does at this
//! stage — moves checked against Spec Kitty's transition rules and written as byte-compatible
//! event rows, logs reduced to `status.json` (one of them a real Spec Kitty mission's), boards,
//! and a commit; then, on a feature branch, a coordination mission created the way `mission
//! create` creates one, its resolved context before and after status moves committed on its
//! coordination branch, and `mission list`; finally a lanes mission taken from `wp add`
//! through `tasks finalize`, `ready`, `implement`, subtasks and review to `done`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use clap::Args;
use missionctl_core::Lane;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::planning::requirement::RequirementCoverage;
use missionctl_core::status::event::{Actor, StatusEvent};
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_core::status::transition::{
    DoneEvidence, GuardContext, ReviewApproval, ReviewResult, validate_transition,
};
use missionctl_core::text::pyjson::{self, Style};
use missionctl_store::clock::SystemClock;
use missionctl_store::fs_util::{IoResultExt, PathError, atomic_write};
use missionctl_store::git::{git, require_git};
use missionctl_store::mission::context::resolve_mission_context;
use missionctl_store::mission::create::{CreateMissionRequest, CreatedMission};
use missionctl_store::mission::dir::{
    EVENT_LOG_FILE, META_FILE, SNAPSHOT_FILE, reduce_mission_dir,
};
use missionctl_store::mission::index::{MissionSummary, list_missions};
use missionctl_store::repo::Repo;
use missionctl_store::repo::protection::ProtectedBranches;
use missionctl_store::runtime::TemplateSearch;
use missionctl_store::status::{MissionStatus, TransitionRequest};
use missionctl_store::view::context::ContextView;
use missionctl_store::write::CommitIdentity;
use serde::Serialize;
use serde_json::{Value, json};
use ulid::Generator;

use crate::board::render_board;
use crate::clock::Timestamp;
use crate::command_error::CliError;
use crate::mission_view::{render_context, render_created, render_list};
use crate::ui::Ui;

/// Arguments of `missionctl demo`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Build the demo repository in a temporary directory\n  missionctl demo\n\n  # Build it where you can look around afterwards\n  missionctl demo --dir /tmp/missionctl-demo"
)]
pub(crate) struct DemoArgs {
    /// Build the repository in this directory, which must not exist or must be empty
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The directory that holds missions inside a repository.
const MISSIONS_DIR: &str = "kitty-specs";

/// The branch the demo repository starts on.
const BRANCH: &str = "main";

/// The subject of the repository's first commit, on `main`.
const INITIAL_SUBJECT: &str = "Initial commit";

/// The subject of the demo's commit.
const COMMIT_SUBJECT: &str = "missionctl demo: a new mission and a Spec Kitty sample, reduced";

/// The branch the coordination mission is planned on: `mission create` refuses the protected
/// `main`, as planning happens on a feature branch.
const FEATURE_BRANCH: &str = "feature/demo";

/// The demo's commit identity, also stored in the repository's own configuration so that the
/// status commits `MissionStatus` makes carry it too.
const DEMO_NAME: &str = "missionctl demo";
const DEMO_EMAIL: &str = "demo@missionctl.invalid";

/// The human slug of the coordination mission.
const COORDINATION_SLUG: &str = "invoice-export";

/// What the demo's `.gitignore` holds: the worktrees and the run state missionctl and Spec
/// Kitty create.
const GITIGNORE: &str = ".worktrees/\n.kittify/runtime/\n";

/// The work packages of the coordination mission: id and title (`wp add`, then committed with
/// `spec-commit`, since a move of a work package no file defines is refused).
const COORDINATION_WORK_PACKAGES: [(&str, &str); 2] =
    [("WP01", "CSV exporter"), ("WP02", "Export command")];

/// The moves driven through `MissionStatus` on the coordination mission: work package, lane,
/// actor, reason.
const COORDINATION_MOVES: [(&str, Lane, &str, Option<&str>); 5] = [
    (
        "WP01",
        Lane::Planned,
        "finalize-tasks",
        Some("canonical bootstrap"),
    ),
    (
        "WP02",
        Lane::Planned,
        "finalize-tasks",
        Some("canonical bootstrap"),
    ),
    ("WP01", Lane::Claimed, "claude", None),
    ("WP01", Lane::InProgress, "claude", None),
    ("WP02", Lane::Claimed, "codex", None),
];

/// Configuration for every git command of the demo: a fixed identity (never the user's),
/// no signing prompt and no hooks from a global `core.hooksPath`.
const GIT_CONFIG: [&str; 8] = [
    "-c",
    "user.name=missionctl demo",
    "-c",
    "user.email=demo@missionctl.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.hooksPath=/dev/null",
];

/// The real Spec Kitty mission the demo copies: six work packages in two lanes, with
/// annotations, reviews and runtime slots.
const SAMPLE_SLUG: &str = "mission-type-single-source-gate-wiring-01KXKHVZ";
const SAMPLE_META: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/missions/mission-type-single-source-gate-wiring-01KXKHVZ/meta.json"
));
const SAMPLE_LOG: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/missions/mission-type-single-source-gate-wiring-01KXKHVZ/status.events.jsonl"
));
/// The `status.json` Spec Kitty's own reducer writes for [`SAMPLE_LOG`].
const SAMPLE_EXPECTED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/missions/mission-type-single-source-gate-wiring-01KXKHVZ/expected.status.json"
));

/// What a scripted move carries besides its lanes.
#[derive(Debug, Clone, Copy)]
enum Attachment {
    /// Nothing.
    None,
    /// An approving review: a `review_result` and matching `evidence`.
    Review {
        reviewer: &'static str,
        reference: &'static str,
    },
    /// The reviewer approval `done` needs, as `evidence`.
    Approval {
        reviewer: &'static str,
        reference: &'static str,
    },
}

/// One move of the demo mission's script.
#[derive(Debug, Clone, Copy)]
struct ScriptedMove {
    wp_id: &'static str,
    to: Lane,
    actor: &'static str,
    reason: Option<&'static str>,
    attachment: Attachment,
    force: bool,
    /// Whether the move is expected to be refused (shown, never written).
    refused: bool,
}

const fn step(wp_id: &'static str, to: Lane, actor: &'static str) -> ScriptedMove {
    ScriptedMove {
        wp_id,
        to,
        actor,
        reason: None,
        attachment: Attachment::None,
        force: false,
        refused: false,
    }
}

const fn bootstrap(wp_id: &'static str) -> ScriptedMove {
    ScriptedMove {
        reason: Some("canonical bootstrap"),
        ..step(wp_id, Lane::Planned, "finalize-tasks")
    }
}

const fn ready(wp_id: &'static str, actor: &'static str) -> ScriptedMove {
    ScriptedMove {
        reason: Some("Ready for review"),
        ..step(wp_id, Lane::ForReview, actor)
    }
}

/// The demo mission's story: four work packages seeded as Spec Kitty's `finalize-tasks` does,
/// three claimed and worked by agents, one reviewed and merged, and one move refused by the
/// rules and then forced by an operator who says why.
const SCRIPT: [ScriptedMove; 17] = [
    bootstrap("WP01"),
    bootstrap("WP02"),
    bootstrap("WP03"),
    bootstrap("WP04"),
    step("WP01", Lane::Claimed, "claude"),
    step("WP02", Lane::Claimed, "codex"),
    step("WP03", Lane::Claimed, "gemini"),
    step("WP01", Lane::InProgress, "claude"),
    step("WP02", Lane::InProgress, "codex"),
    step("WP03", Lane::InProgress, "gemini"),
    ready("WP01", "claude"),
    ready("WP02", "codex"),
    step("WP01", Lane::InReview, "codex"),
    ScriptedMove {
        reason: Some("Review passed"),
        attachment: Attachment::Review {
            reviewer: "codex",
            reference: "review:WP01",
        },
        ..step("WP01", Lane::Approved, "codex")
    },
    ScriptedMove {
        reason: Some("Merged into main"),
        attachment: Attachment::Approval {
            reviewer: "codex",
            reference: "lane-approved:WP01",
        },
        ..step("WP01", Lane::Done, "claude")
    },
    ScriptedMove {
        refused: true,
        ..step("WP04", Lane::Done, "claude")
    },
    ScriptedMove {
        reason: Some("Shipped in an earlier release"),
        force: true,
        ..step("WP04", Lane::Done, "demo-operator")
    },
];

/// Where the demo repository goes: the *resolved* form of [`DemoArgs`].
#[derive(Debug)]
enum DemoLocation {
    /// A new temporary directory, kept after the run.
    NewTemporary,
    /// The given directory, absent or empty.
    Directory(PathBuf),
}

/// A move as shown and reported.
#[derive(Debug, Clone, Serialize)]
struct MoveData {
    wp_id: String,
    from: &'static str,
    to: &'static str,
    actor: String,
    force: bool,
    reason: Option<String>,
    /// The id of the written event.
    event_id: String,
}

/// The move the rules refused.
#[derive(Debug, Clone, Serialize)]
struct RefusedMove {
    wp_id: String,
    from: &'static str,
    to: &'static str,
    actor: String,
    code: String,
    message: String,
    hint: String,
}

/// One line of the demo mission's story, in order.
#[derive(Debug, Clone)]
enum StoryLine {
    Written(MoveData),
    Refused(RefusedMove),
}

/// A work package on a board, as reported.
#[derive(Debug, Clone, Serialize)]
struct WorkPackageData {
    id: String,
    lane: &'static str,
    actor: String,
}

/// Returns the number of work packages in each display lane of a snapshot.
fn lane_counts(snapshot: &StatusSnapshot) -> BTreeMap<&'static str, usize> {
    snapshot
        .summary()
        .into_iter()
        .map(|(lane, count)| (lane.as_str(), count))
        .collect()
}

/// Returns the work packages of a snapshot as reported.
fn work_package_rows(snapshot: &StatusSnapshot) -> Vec<WorkPackageData> {
    snapshot
        .work_packages
        .iter()
        .map(|(id, state)| WorkPackageData {
            id: id.clone(),
            lane: state.lane.as_str(),
            actor: state.actor.clone(),
        })
        .collect()
}

/// A mission of the demo repository, as reported.
#[derive(Debug, Clone, Serialize)]
struct MissionData {
    slug: String,
    /// The mission directory, relative to the repository.
    dir: String,
    /// `demo` for the mission built here, `spec-kitty-sample` for the copied one.
    origin: &'static str,
    /// The number of rows in the event log.
    log_rows: usize,
    /// The number of distinct transitions reduced.
    event_count: usize,
    /// The number of work packages in each display lane.
    summary: BTreeMap<&'static str, usize>,
    work_packages: Vec<WorkPackageData>,
    /// For the sample: whether our `status.json` equals Spec Kitty's byte for byte.
    matches_spec_kitty: Option<bool>,
    #[serde(skip)]
    board: String,
}

/// The demo's commit.
#[derive(Debug, Clone, Serialize)]
struct CommitData {
    sha: String,
    branch: &'static str,
    subject: &'static str,
}

/// A move driven through `MissionStatus`, with where it was committed.
#[derive(Debug, Clone, Serialize)]
struct StatusMoveData {
    wp_id: String,
    from: String,
    to: String,
    actor: String,
    event_id: String,
    /// The status commit.
    commit: String,
    /// The branch it was committed on.
    branch: String,
}

/// The coordination mission: created by `mission create`'s code path, resolved, moved.
#[derive(Debug, Clone, Serialize)]
struct CoordinationData {
    created: CreatedMission,
    /// The context right after creation: the create-window, read from the primary checkout.
    context_at_creation: ContextView,
    /// The moves, in order.
    moves: Vec<StatusMoveData>,
    /// The context after the moves: the coordination worktree is materialized and read.
    context: ContextView,
    /// The number of work packages in each display lane.
    summary: BTreeMap<&'static str, usize>,
    work_packages: Vec<WorkPackageData>,
    /// Rows of the mission's `status.events.jsonl` committed on the coordination branch.
    log_rows_on_coordination_branch: usize,
    /// Rows of the same file committed on the target branch (none: status is not there).
    log_rows_on_target_branch: usize,
    #[serde(skip)]
    board: String,
}

/// The `data` of `demo --json`, and everything the text report shows.
#[derive(Debug, Clone, Serialize)]
struct DemoData {
    /// The repository's absolute path.
    repo: String,
    missions: Vec<MissionData>,
    /// The demo mission's written moves, in order.
    moves: Vec<MoveData>,
    refused_move: RefusedMove,
    forced_move: MoveData,
    commit: CommitData,
    /// The files written, relative to the repository.
    files: Vec<String>,
    /// The branch checked out at the end, where the coordination mission was created.
    feature_branch: &'static str,
    coordination_mission: CoordinationData,
    /// What `mission list` shows at the end.
    mission_list: Vec<MissionSummary>,
    /// The lanes mission, planned and worked through the work-package commands.
    lanes_mission: LanesMissionData,
    /// Two machines moving the coordination mission's `WP01` and meeting through `sync`.
    two_machines: super::demo_sync::SyncDemoData,
    /// The command that serves the live dashboard of the demo repository (the demo only
    /// offers it: it never starts a server).
    dashboard_command: String,
    #[serde(skip)]
    story: Vec<StoryLine>,
}

/// Builds the demo repository and reports it.
pub(crate) fn cmd_demo(ui: &mut Ui, args: &DemoArgs) -> Result<(), CliError> {
    let location = resolve_location(args)?;
    let data = build_demo(location)?;
    ui.emit(&data, || render_report(&data))
}

/// Checks `--dir` without touching anything: it must not exist, or be an empty directory.
fn resolve_location(args: &DemoArgs) -> Result<DemoLocation, CliError> {
    const HINT: &str = "Pass a directory that does not exist yet or is empty, or leave out \
                        `--dir` to use a new temporary directory";
    let Some(dir) = &args.dir else {
        return Ok(DemoLocation::NewTemporary);
    };
    let dir = std::path::absolute(dir).with_path("Cannot resolve", dir)?;
    match std::fs::metadata(&dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(DemoLocation::Directory(dir)),
        Err(error) => Err(PathError {
            action: "Cannot inspect",
            path: dir,
            source: error,
        }
        .into()),
        Ok(metadata) if !metadata.is_dir() => Err(CliError::user(
            "DEMO_DIR_NOT_A_DIRECTORY",
            format!("`{}` exists and is not a directory", dir.display()),
        )
        .with_hint(HINT.to_owned())),
        Ok(_) => {
            let mut entries = std::fs::read_dir(&dir).with_path("Cannot list", &dir)?;
            if entries.next().is_some() {
                Err(CliError::user(
                    "DEMO_DIR_NOT_EMPTY",
                    format!("`{}` is not empty", dir.display()),
                )
                .with_hint(HINT.to_owned()))
            } else {
                Ok(DemoLocation::Directory(dir))
            }
        }
    }
}

/// Creates the repository, writes and reduces both missions, and commits.
fn build_demo(location: DemoLocation) -> Result<DemoData, CliError> {
    require_git()?;
    let repo = match location {
        DemoLocation::NewTemporary => tempfile::Builder::new()
            .prefix("missionctl-demo-")
            .tempdir()
            .map_err(|error| CliError::io("Cannot create a temporary directory", &error))?
            .keep(),
        DemoLocation::Directory(dir) => {
            std::fs::create_dir_all(&dir).with_path("Cannot create", &dir)?;
            dir
        }
    };
    git(&repo, ["init", "--quiet", "--initial-branch", BRANCH])?;
    git(&repo, ["config", "user.name", DEMO_NAME])?;
    git(&repo, ["config", "user.email", DEMO_EMAIL])?;

    let mut files = Vec::new();
    write_file(
        &repo,
        Path::new(".gitignore"),
        GITIGNORE.as_bytes(),
        &mut files,
    )?;
    // The repository as a team has it: its protected `main` with one commit. Everything the
    // demo writes is committed on a feature branch, as missions are planned on one.
    git(&repo, ["add", "--", ".gitignore"])?;
    let initial_args =
        GIT_CONFIG
            .iter()
            .copied()
            .chain(["commit", "--quiet", "--message", INITIAL_SUBJECT]);
    git(&repo, initial_args)?;
    git(&repo, ["switch", "--quiet", "--create", FEATURE_BRANCH])?;
    let mut ids = IdMinter::new()?;
    let (demo_mission, story) = write_demo_mission(&repo, &mut ids, &mut files)?;
    let sample_mission = write_sample_mission(&repo, &mut files)?;

    git(&repo, ["add", "--", MISSIONS_DIR])?;
    let commit_args =
        GIT_CONFIG
            .iter()
            .copied()
            .chain(["commit", "--quiet", "--message", COMMIT_SUBJECT]);
    git(&repo, commit_args)?;
    let head = git(&repo, ["rev-parse", "HEAD"])?;
    let sha = String::from_utf8_lossy(&head.stdout).trim().to_owned();

    let store_repo = Repo::discover(&repo)?;
    let coordination_mission = build_coordination_mission(&store_repo)?;
    let lanes_mission = build_lanes_mission(&store_repo)?;
    let two_machines = super::demo_sync::two_machines(
        &store_repo,
        &coordination_mission.created.mission_slug,
        "WP01",
        (DEMO_NAME, DEMO_EMAIL),
    )?;
    let mission_list = list_missions(&store_repo)?;

    let moves: Vec<MoveData> = story
        .iter()
        .filter_map(|line| match line {
            StoryLine::Written(data) => Some(data.clone()),
            StoryLine::Refused(_) => None,
        })
        .collect();
    let refused_move = story
        .iter()
        .find_map(|line| match line {
            StoryLine::Refused(refused) => Some(refused.clone()),
            StoryLine::Written(_) => None,
        })
        .ok_or_else(|| CliError::internal("The demo script has no refused move"))?;
    let forced_move = moves
        .iter()
        .find(|data| data.force)
        .cloned()
        .ok_or_else(|| CliError::internal("The demo script has no forced move"))?;
    Ok(DemoData {
        dashboard_command: format!("cd {} && missionctl dashboard --open", repo.display()),
        repo: repo.display().to_string(),
        missions: vec![demo_mission, sample_mission],
        moves,
        refused_move,
        forced_move,
        commit: CommitData {
            sha,
            branch: FEATURE_BRANCH,
            subject: COMMIT_SUBJECT,
        },
        files,
        feature_branch: FEATURE_BRANCH,
        coordination_mission,
        mission_list,
        lanes_mission,
        two_machines,
        story,
    })
}

/// Creates the coordination mission on the feature branch through `mission create`'s code
/// path, resolves its context, drives [`COORDINATION_MOVES`] through `MissionStatus` (the
/// first one materializes the coordination worktree) and resolves the context again.
fn build_coordination_mission(repo: &Repo) -> Result<CoordinationData, CliError> {
    let protected = ProtectedBranches::defaults();
    let request = CreateMissionRequest {
        slug: COORDINATION_SLUG.to_owned(),
        topology: Some(MissionTopology::LanesWithCoord),
        purpose_tldr: Some("Export invoices as CSV.".to_owned()),
        purpose_context: Some(
            "Finance needs CSV exports of invoices for month-end close.".to_owned(),
        ),
        ..CreateMissionRequest::default()
    };
    let identity = CommitIdentity {
        name: DEMO_NAME.to_owned(),
        email: DEMO_EMAIL.to_owned(),
    };
    let created = super::mission::create::create_with(repo, &request, &protected, Some(identity))?;
    let handle = created.mission_slug.as_str();
    let context_at_creation = ContextView::new(resolve_mission_context(repo, handle)?);
    plan_coordination_work_packages(repo, handle, &protected)?;

    let mut moves = Vec::new();
    for (wp_id, to, actor, reason) in COORDINATION_MOVES {
        // Loaded for every move, as each `missionctl move` would: the first write
        // materializes the coordination worktree and moves the read surface there.
        let status = MissionStatus::load(repo, handle, &protected)?;
        let request = TransitionRequest {
            wp_id: wp_id.to_owned(),
            to_lane: to.as_str().to_owned(),
            actor: Some(actor.to_owned()),
            reason: reason.map(str::to_owned),
            ..TransitionRequest::default()
        };
        moves.push(recorded_move(&status, &request)?);
    }

    let context = ContextView::new(resolve_mission_context(repo, handle)?);
    let snapshot = MissionStatus::load(repo, handle, &protected)?.snapshot()?;
    let log_path = format!("{MISSIONS_DIR}/{handle}/{EVENT_LOG_FILE}");
    let coordination_branch = created.coordination_branch.as_deref().ok_or_else(|| {
        CliError::internal("The demo's coordination mission has no coordination branch")
    })?;
    Ok(CoordinationData {
        log_rows_on_coordination_branch: committed_lines(repo, coordination_branch, &log_path)?,
        log_rows_on_target_branch: committed_lines(repo, &created.target_branch, &log_path)?,
        context_at_creation,
        moves,
        context,
        summary: lane_counts(&snapshot),
        work_packages: work_package_rows(&snapshot),
        board: render_board(&snapshot),
        created,
    })
}

/// Writes the coordination mission's task files (`wp add`) and commits them on its target
/// branch (`spec-commit`): planning lives there whatever the topology.
fn plan_coordination_work_packages(
    repo: &Repo,
    handle: &str,
    protected: &ProtectedBranches,
) -> Result<(), CliError> {
    use missionctl_store::planning::spec_commit::{SpecCommitOptions, spec_commit};
    use missionctl_store::planning::work_package_add::{AddWorkPackage, add_work_package};

    for (wp_id, title) in COORDINATION_WORK_PACKAGES {
        add_work_package(
            repo,
            handle,
            &AddWorkPackage {
                wp_id: wp_id.to_owned(),
                title: title.to_owned(),
                ..AddWorkPackage::default()
            },
            protected,
        )?;
    }
    spec_commit(
        repo,
        handle,
        &SpecCommitOptions {
            files: &["tasks".to_owned()],
            message: Some("Plan the work packages"),
            protected_branches: protected,
        },
        &SystemClock,
    )?;
    Ok(())
}

/// Returns the number of lines of a file as committed on a branch.
fn committed_lines(repo: &Repo, branch: &str, path: &str) -> Result<usize, CliError> {
    let output = git(repo.primary_root(), ["show", &format!("{branch}:{path}")])?;
    Ok(output
        .stdout
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .count())
}

/// Mints strictly increasing timestamps and ULIDs that match them, from the wall clock.
struct IdMinter {
    last: Timestamp,
    generator: Generator,
}

impl IdMinter {
    fn new() -> Result<IdMinter, CliError> {
        Ok(IdMinter {
            last: Timestamp::now()?,
            generator: Generator::new(),
        })
    }

    /// Returns the next timestamp (later than every earlier one) and a ULID minted at it.
    fn next(&mut self) -> Result<(Timestamp, String), CliError> {
        let now = Timestamp::now()?;
        self.last = now.max(self.last.next_micro());
        let ulid = self
            .generator
            .generate_from_datetime(self.last.to_system_time())
            .map_err(|_| CliError::internal("Ran out of ULIDs within one millisecond"))?;
        Ok((self.last, ulid.to_string()))
    }
}

/// Writes the demo mission: `meta.json`, the scripted log (every move validated first) and
/// the reduced `status.json`.
fn write_demo_mission(
    repo: &Path,
    ids: &mut IdMinter,
    files: &mut Vec<String>,
) -> Result<(MissionData, Vec<StoryLine>), CliError> {
    let (created_at, mission_id) = ids.next()?;
    let mid8 = mission_id.get(..8).unwrap_or(&mission_id).to_owned();
    let slug = format!("demo-mission-{mid8}");
    let dir = Path::new(MISSIONS_DIR).join(&slug);
    std::fs::create_dir_all(repo.join(&dir)).with_path("Cannot create", &repo.join(&dir))?;

    let meta = demo_meta(&slug, &mission_id, &created_at.to_isoformat());
    let mut meta_text = pyjson::to_string(&meta, Style::Indented);
    meta_text.push('\n');
    write_file(repo, &dir.join(META_FILE), meta_text.as_bytes(), files)?;

    let workspace_context = format!("worktree:{}", repo.display());
    let mut lanes: BTreeMap<&str, Lane> = BTreeMap::new();
    let mut log = String::new();
    let mut story = Vec::new();
    for scripted in SCRIPT {
        let from = lanes.get(scripted.wp_id).copied().unwrap_or(Lane::Genesis);
        let ctx = guard_context(&scripted, &workspace_context);
        let verdict = validate_transition(from, scripted.to, &ctx);
        if scripted.refused {
            let refusal = verdict.err().ok_or_else(|| {
                CliError::internal(format!(
                    "The demo move {} {from} -> {} was expected to be refused",
                    scripted.wp_id, scripted.to
                ))
            })?;
            story.push(StoryLine::Refused(RefusedMove {
                wp_id: scripted.wp_id.to_owned(),
                from: from.as_str(),
                to: scripted.to.as_str(),
                actor: scripted.actor.to_owned(),
                code: refusal.code().to_owned(),
                message: refusal.to_string(),
                hint: refusal.hint(),
            }));
            continue;
        }
        verdict.map_err(|refusal| {
            CliError::internal(format!(
                "The demo move {} {from} -> {} was refused: {refusal}",
                scripted.wp_id, scripted.to
            ))
        })?;
        let (at, event_id) = ids.next()?;
        let event = StatusEvent {
            event_id: event_id.clone(),
            wp_id: scripted.wp_id.to_owned(),
            from_lane: from,
            to_lane: scripted.to,
            at: at.to_isoformat(),
            actor: Actor::Name(scripted.actor.to_owned()),
            force: scripted.force,
            execution_mode: "worktree".to_owned(),
            mission_slug: slug.clone(),
            mission_id: Some(mission_id.clone()),
            reason: scripted.reason.map(str::to_owned),
            reason_source: None,
            review_ref: None,
            evidence: ctx
                .evidence
                .as_ref()
                .map(serde_json::to_value)
                .transpose()?,
            review_result: ctx.review_result.clone(),
            policy_metadata: None,
        };
        log.push_str(&event.to_json_line());
        log.push('\n');
        lanes.insert(scripted.wp_id, scripted.to);
        story.push(StoryLine::Written(MoveData {
            wp_id: scripted.wp_id.to_owned(),
            from: from.as_str(),
            to: scripted.to.as_str(),
            actor: scripted.actor.to_owned(),
            force: scripted.force,
            reason: scripted.reason.map(str::to_owned),
            event_id,
        }));
    }
    write_file(repo, &dir.join(EVENT_LOG_FILE), log.as_bytes(), files)?;
    let mission = reduce_and_write_snapshot(repo, &dir, &slug, "demo", None, files)?;
    Ok((mission, story))
}

/// Returns the guard inputs of a scripted move.
///
/// The demo's agents work in the repository and finish their subtasks, so the workspace,
/// subtask and implementation guards are satisfied; reviews and approvals come from the
/// script's attachments.
fn guard_context(scripted: &ScriptedMove, workspace_context: &str) -> GuardContext {
    let (review_result, evidence) = match scripted.attachment {
        Attachment::None => (None, None),
        Attachment::Review {
            reviewer,
            reference,
        } => (
            Some(ReviewResult {
                reviewer: reviewer.to_owned(),
                verdict: "approved".to_owned(),
                reference: reference.to_owned(),
                feedback_path: None,
            }),
            Some(approval(reviewer, reference)),
        ),
        Attachment::Approval {
            reviewer,
            reference,
        } => (None, Some(approval(reviewer, reference))),
    };
    GuardContext {
        actor: Some(scripted.actor.to_owned()),
        workspace_context: Some(workspace_context.to_owned()),
        subtasks_complete: Some(true),
        implementation_evidence_present: Some(true),
        reason: scripted.reason.map(str::to_owned),
        review_ref: None,
        evidence,
        force: scripted.force,
        review_result,
    }
}

fn approval(reviewer: &str, reference: &str) -> DoneEvidence {
    DoneEvidence {
        review: ReviewApproval {
            reviewer: reviewer.to_owned(),
            verdict: "approved".to_owned(),
            reference: reference.to_owned(),
        },
        repos: Vec::new(),
        verification: Vec::new(),
    }
}

/// Returns the demo mission's `meta.json` object, with the fields Spec Kitty's
/// `mission create` writes.
fn demo_meta(slug: &str, mission_id: &str, created_at: &str) -> Value {
    json!({
        "created_at": created_at,
        "flattened": false,
        "friendly_name": "Demo Mission",
        "mission_id": mission_id,
        "mission_number": null,
        "mission_slug": slug,
        "mission_type": "software-dev",
        "purpose_context": "A throwaway mission written by missionctl demo to show work \
                            packages moving through lanes under Spec Kitty's rules.",
        "purpose_tldr": "Show the missionctl engine at work.",
        "slug": slug,
        "target_branch": BRANCH,
        "topology": "single_branch",
    })
}

/// Copies the real sample mission, reduces it and writes its `status.json`.
fn write_sample_mission(repo: &Path, files: &mut Vec<String>) -> Result<MissionData, CliError> {
    let dir = Path::new(MISSIONS_DIR).join(SAMPLE_SLUG);
    std::fs::create_dir_all(repo.join(&dir)).with_path("Cannot create", &repo.join(&dir))?;
    write_file(repo, &dir.join(META_FILE), SAMPLE_META, files)?;
    write_file(repo, &dir.join(EVENT_LOG_FILE), SAMPLE_LOG, files)?;
    reduce_and_write_snapshot(
        repo,
        &dir,
        SAMPLE_SLUG,
        "spec-kitty-sample",
        Some(SAMPLE_EXPECTED),
        files,
    )
}

/// Reduces a mission directory of the repository, writes its `status.json` and describes it;
/// with `expected`, also whether the bytes equal those.
fn reduce_and_write_snapshot(
    repo: &Path,
    dir: &Path,
    slug: &str,
    origin: &'static str,
    expected: Option<&[u8]>,
    files: &mut Vec<String>,
) -> Result<MissionData, CliError> {
    let reduced = reduce_mission_dir(&repo.join(dir))?;
    let status_json = reduced.snapshot.to_status_json();
    write_file(
        repo,
        &dir.join(SNAPSHOT_FILE),
        status_json.as_bytes(),
        files,
    )?;
    let snapshot = &reduced.snapshot;
    Ok(MissionData {
        slug: slug.to_owned(),
        dir: dir.display().to_string(),
        origin,
        log_rows: reduced.log.rows.len(),
        event_count: snapshot.event_count,
        summary: lane_counts(snapshot),
        work_packages: work_package_rows(snapshot),
        matches_spec_kitty: expected.map(|expected| status_json.as_bytes() == expected),
        board: render_board(snapshot),
    })
}

/// Writes a file of the repository and records its relative path.
fn write_file(
    repo: &Path,
    relative: &Path,
    bytes: &[u8],
    files: &mut Vec<String>,
) -> Result<(), CliError> {
    atomic_write(&repo.join(relative), bytes)?;
    files.push(relative.display().to_string());
    Ok(())
}

/// Returns the text report of the demo.
fn render_report(data: &DemoData) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut text, data);
    text
}

fn write_report(out: &mut String, data: &DemoData) -> std::fmt::Result {
    writeln!(
        out,
        "missionctl demo: a throwaway git repository at {}",
        data.repo
    )?;
    for (number, mission) in data.missions.iter().enumerate() {
        writeln!(out)?;
        match mission.origin {
            "demo" => {
                writeln!(out, "{}. A new mission, {}", number + 1, mission.dir)?;
                writeln!(
                    out,
                    "   Every move is checked against Spec Kitty's transition rules, then\n   \
                     written to {EVENT_LOG_FILE} as a row Spec Kitty reads and writes."
                )?;
                writeln!(out)?;
                write_story(out, &data.story)?;
                writeln!(out)?;
                writeln!(
                    out,
                    "   {} events reduced to {SNAPSHOT_FILE}:",
                    mission.event_count
                )?;
            }
            _ => {
                writeln!(
                    out,
                    "{}. A real Spec Kitty mission, {}",
                    number + 1,
                    mission.dir
                )?;
                writeln!(
                    out,
                    "   Its log ({} rows) comes from Spec Kitty's own repository;\n   \
                     {} events reduced to {SNAPSHOT_FILE},",
                    mission.log_rows, mission.event_count
                )?;
                let verdict = if mission.matches_spec_kitty == Some(true) {
                    "byte for byte the file Spec Kitty writes"
                } else {
                    "NOT the file Spec Kitty writes (this is a bug; please report it)"
                };
                writeln!(out, "   {verdict}:")?;
            }
        }
        writeln!(out)?;
        for line in mission.board.lines() {
            writeln!(out, "   {line}")?;
        }
    }
    writeln!(out)?;
    let short_sha = crate::ui::short_sha(&data.commit.sha);
    writeln!(
        out,
        "Committed {short_sha} on {}: {}",
        data.commit.branch, data.commit.subject
    )?;
    writeln!(out)?;
    writeln!(out, "Files, in {}:", data.repo)?;
    for file in &data.files {
        writeln!(out, "   {file}")?;
    }
    let number = data.missions.len() + 1;
    write_coordination(out, number, data.feature_branch, &data.coordination_mission)?;
    write_lanes_mission(out, number + 1, &data.lanes_mission)?;
    super::demo_sync::write_two_machines(out, number + 2, &data.two_machines)?;
    writeln!(out)?;
    writeln!(
        out,
        "{}. `missionctl mission list` on {}:",
        number + 3,
        data.feature_branch
    )?;
    writeln!(out)?;
    write_indented(out, &render_list(&data.mission_list))?;
    writeln!(out)?;
    writeln!(out, "Look around:")?;
    writeln!(out, "   git -C {} log --stat --all", data.repo)?;
    if let Some(mission) = data.missions.first() {
        writeln!(
            out,
            "   missionctl status reduce {}/{}",
            data.repo, mission.dir
        )?;
    }
    let slug = &data.coordination_mission.created.mission_slug;
    writeln!(out, "   cd {} && missionctl mission list", data.repo)?;
    writeln!(
        out,
        "   cd {} && missionctl context --mission {slug}",
        data.repo
    )?;
    writeln!(
        out,
        "   cd {} && missionctl board --mission {slug}",
        data.repo
    )?;
    writeln!(
        out,
        "   cd {} && missionctl ready && missionctl wp list --mission {}",
        data.repo, data.lanes_mission.mission_slug
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "See it live: the dashboard shows every mission's board and follows each move as it is made"
    )?;
    writeln!(out, "   {}", data.dashboard_command)?;
    writeln!(
        out,
        "   (then, in another terminal: cd {} && missionctl move WP02 --to in_progress --mission {slug} --actor codex)",
        data.repo
    )?;
    Ok(())
}

/// Writes text indented by three spaces (blank lines stay empty).
fn write_indented(out: &mut String, text: &str) -> std::fmt::Result {
    for line in text.lines() {
        if line.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "   {line}")?;
        }
    }
    Ok(())
}

/// Writes the coordination mission's part of the report.
fn write_coordination(
    out: &mut String,
    number: usize,
    feature_branch: &str,
    data: &CoordinationData,
) -> std::fmt::Result {
    let created = &data.created;
    let branch = created.coordination_branch.as_deref().unwrap_or("-");
    writeln!(out)?;
    writeln!(
        out,
        "{number}. A coordination mission on {feature_branch}, created by the code path of\n   \
         `missionctl mission create {} --topology {}`",
        created.human_slug, created.topology
    )?;
    writeln!(out)?;
    write_indented(out, &render_created(created))?;
    writeln!(out)?;
    let before = &data.context_at_creation;
    let probe = before.probe.map_or("-", |probe| probe.as_str());
    writeln!(
        out,
        "   Right after creation its coordination worktree does not exist yet (probe: {probe}),\n   \
         so status is read from the {} checkout: {}",
        before.read_surface,
        before.read_dir.display()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "   Moves through MissionStatus, each committed on the branch the topology routes to:"
    )?;
    writeln!(out)?;
    for step in &data.moves {
        let lanes = format!("{} -> {}", step.from, step.to);
        let short = crate::ui::short_sha(&step.commit);
        writeln!(
            out,
            "   {}  {lanes:<27}{:<16}committed {short} on {}",
            step.wp_id, step.actor, step.branch
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "   The first move materialized the coordination worktree; `missionctl context` now \
         says:"
    )?;
    writeln!(out)?;
    write_indented(out, &render_context(&data.context))?;
    writeln!(out)?;
    writeln!(
        out,
        "   Its board, read from the {} checkout:",
        data.context.read_surface
    )?;
    writeln!(out)?;
    write_indented(out, &data.board)?;
    writeln!(out)?;
    writeln!(
        out,
        "   {EVENT_LOG_FILE} holds {} rows on {branch} and {} on {}.",
        data.log_rows_on_coordination_branch, data.log_rows_on_target_branch, created.target_branch
    )
}

/// Writes the demo mission's moves, one per line, refusals and forced moves marked.
fn write_story(out: &mut String, story: &[StoryLine]) -> std::fmt::Result {
    for line in story {
        match line {
            StoryLine::Written(data) => {
                let lanes = format!("{} -> {}", data.from, data.to);
                let note = match (&data.reason, data.force) {
                    (Some(reason), true) => format!("forced: {reason}"),
                    (Some(reason), false) => reason.clone(),
                    (None, _) => String::new(),
                };
                let row = format!("   {}  {lanes:<27}{:<16}{note}", data.wp_id, data.actor);
                writeln!(out, "{}", row.trim_end())?;
            }
            StoryLine::Refused(refused) => {
                let lanes = format!("{} -> {}", refused.from, refused.to);
                writeln!(
                    out,
                    "   {}  {lanes:<27}{:<16}refused ({}): {}",
                    refused.wp_id, refused.actor, refused.code, refused.message
                )?;
            }
        }
    }
    Ok(())
}

/// The human slug of the lanes mission.
const LANES_SLUG: &str = "task-list";

/// A work package of the lanes mission: id, title, dependencies, subtasks, owned files.
type DemoWorkPackage = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The lanes mission's work packages.
const LANES_WORK_PACKAGES: [DemoWorkPackage; 3] = [
    (
        "WP01",
        "Storage layer",
        &[],
        &["T001", "T002"],
        &["src/tasklist/store.py"],
    ),
    (
        "WP02",
        "Add and list",
        &["WP01"],
        &["T003"],
        &["src/tasklist/cli.py"],
    ),
    (
        "WP03",
        "E2E test suite",
        &["WP01", "WP02"],
        &["T004"],
        &["tests/test_tasklist.py"],
    ),
];

/// The requirements each work package of the lanes mission implements (`map-requirements`).
const LANES_REQUIREMENTS: [(&str, &[&str]); 3] = [
    ("WP01", &["FR-001"]),
    ("WP02", &["FR-001", "FR-002"]),
    ("WP03", &["FR-002"]),
];

/// The lanes mission: planned with `wp add` and `tasks finalize`, every work package implemented
/// in its lane worktree, its subtasks recorded, reviewed and done, with `next` asked along the
/// way and the run advanced through acceptance.
#[derive(Debug, Clone, Serialize)]
struct LanesMissionData {
    mission_slug: String,
    /// The planning files `spec-commit` committed, relative to the repository.
    spec_files: Vec<String>,
    /// Their commit.
    spec_commit: Option<String>,
    /// The files `wp add` wrote, relative to the repository.
    work_package_files: Vec<String>,
    /// The requirements `map-requirements` wrote, per work package.
    requirement_refs: Vec<MappedRequirements>,
    /// How they cover the spec's functional requirements.
    requirement_coverage: RequirementCoverage,
    /// What `tasks finalize` seeded.
    seeded: Vec<String>,
    /// The lanes of `lanes.json`: lane id and work packages.
    lanes: Vec<(String, Vec<String>)>,
    /// The planning commit.
    planning_commit: Option<String>,
    /// What `ready` listed before any work.
    ready_before: Vec<String>,
    /// Where `implement WP01` said to work.
    workspace: String,
    /// The lane branch.
    lane_branch: String,
    /// The subtasks recorded done.
    subtasks: Vec<String>,
    /// The moves, in order.
    moves: Vec<StatusMoveData>,
    /// How the mission was finished: reviews, the merge, the verdicts, the acceptance.
    finish: Vec<FinishLine>,
    /// What `ready` listed once every work package was done.
    ready_after: Vec<String>,
    /// What `next` answered at each point of the walk, from creation to done.
    next: Vec<NextCheckpoint>,
    #[serde(skip)]
    board: String,
}

/// The refs `map-requirements` wrote into one work package.
#[derive(Debug, Clone, Serialize)]
struct MappedRequirements {
    wp_id: String,
    requirement_refs: Vec<String>,
    /// The commit of the work-package file.
    commit: Option<String>,
}

/// One step of finishing the lanes mission.
#[derive(Debug, Clone, Serialize)]
struct FinishLine {
    /// The command.
    command: &'static str,
    /// What it did.
    detail: String,
}

impl FinishLine {
    fn new(command: &'static str, detail: String) -> FinishLine {
        FinishLine { command, detail }
    }

    fn moved(step: &StatusMoveData) -> FinishLine {
        let lanes = format!("{} -> {}", step.from, step.to);
        let short = crate::ui::short_sha(&step.commit);
        FinishLine::new(
            "move",
            format!(
                "{}  {lanes:<27}{:<8}committed {short} on {}",
                step.wp_id, step.actor, step.branch
            ),
        )
    }
}

/// The reviewer's feedback on the demo's first version of WP02.
const LANES_FEEDBACK: &str = "# Review feedback\n\n- cli.py should print usage on empty title.\n";

/// One answer of `next` during the demo's walk.
#[derive(Debug, Clone, Serialize)]
struct NextCheckpoint {
    /// When it was asked.
    after: String,
    /// `query` (nothing written) or `advance` (the run moved on).
    mode: &'static str,
    /// The decided state (`not_started`, `implement`, `review`, `accept`, `done`, …).
    mission_state: String,
    /// The work package to implement.
    wp_id: Option<String>,
    /// Why there is none, or why the mission is blocked or done.
    reason: Option<String>,
    /// What holds the mission back from being done (`review`, `merge`, `accept`), if anything.
    gate: Option<&'static str>,
}

/// The spec, plan and task list the demo writes so `next` moves past specify, plan and tasks.
const LANES_SPEC: &str = "# Task list CLI\n\n## Requirements\n\n| ID | Title | Description |\n|----|----|----|\n| FR-001 | Add a task | The CLI adds a task to the list |\n| FR-002 | List tasks | The CLI lists the tasks |\n";
const LANES_PLAN: &str = "# Plan\n\n## Technical Context\n\n**Language/Version**: Python 3.11\n**Storage**: a JSON file\n**Testing**: pytest\n";
const LANES_TASKS: &str = "# Tasks\n\n## WP01 — Storage layer\n\n**Dependencies**: None\n\n\
    ## WP02 — Add and list\n\n**Dependencies**: WP01\n\n\
    ## WP03 — E2E test suite\n\n**Dependencies**: WP01, WP02\n";

/// Asks `next` without writing anything and records its answer.
fn ask_next(repo: &Repo, handle: &str, after: &str) -> Result<NextCheckpoint, CliError> {
    // The demo's repository is a throwaway: only the built-in templates, whatever `HOME` has.
    let outcome = missionctl_store::runtime::query_next(
        repo,
        handle,
        Some("claude"),
        &TemplateSearch::default(),
        &SystemClock,
    )?;
    Ok(NextCheckpoint {
        after: after.to_owned(),
        mode: "query",
        mission_state: outcome.decision.mission_state,
        wp_id: outcome.decision.wp_id,
        reason: outcome.decision.reason,
        gate: outcome.gate.map(|gate| gate.gate),
    })
}

/// Plans and works the lanes mission through the code paths of `wp add`, `tasks finalize`,
/// `ready`, `implement`, `subtask done` and `move`.
fn build_lanes_mission(repo: &Repo) -> Result<LanesMissionData, CliError> {
    use missionctl_core::lifecycle::acceptance_matrix::{AcceptanceMatrix, MATRIX_FILE};
    use missionctl_store::acceptance::{AcceptMode, AcceptRequest, accept};
    use missionctl_store::merge::{MergeMode, MergeOutcome, MergeRequest, merge_mission};
    use missionctl_store::planning::map_requirements::{MapRequirementsRequest, map_requirements};
    use missionctl_store::planning::spec_commit::{SpecCommitOptions, spec_commit};
    use missionctl_store::planning::tasks_finalize::{
        FinalizeOptions, FinalizeOutcome, finalize_tasks,
    };
    use missionctl_store::planning::work_package_add::{AddWorkPackage, add_work_package};
    use missionctl_store::review::{approve, reject, start_review};
    use missionctl_store::status::{ApprovalRequest, CriterionVerdict, RejectionRequest, Reviewer};
    use missionctl_store::view::ready::mission_readiness;
    use missionctl_store::worktree::lane::implement;
    let review_error = |error: missionctl_store::review::ReviewFlowError| {
        super::review::review_error(error, LANES_SLUG)
    };

    let protected = ProtectedBranches::defaults();
    let request = CreateMissionRequest {
        slug: LANES_SLUG.to_owned(),
        topology: Some(MissionTopology::Lanes),
        purpose_tldr: Some("A tiny task list CLI.".to_owned()),
        ..CreateMissionRequest::default()
    };
    let identity = CommitIdentity {
        name: DEMO_NAME.to_owned(),
        email: DEMO_EMAIL.to_owned(),
    };
    let created = super::mission::create::create_with(repo, &request, &protected, Some(identity))?;
    let handle = created.mission_slug.as_str();
    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|item| (*item).to_owned())
            .collect::<Vec<String>>()
    };
    let mut next = vec![ask_next(repo, handle, "mission create")?];
    // The spec, plan and task list, committed on the planning branch.
    let mission_dir = repo.kitty_specs_dir().join(handle);
    for (name, text) in [
        ("spec.md", LANES_SPEC),
        ("plan.md", LANES_PLAN),
        ("tasks.md", LANES_TASKS),
    ] {
        atomic_write(&mission_dir.join(name), text.as_bytes())?;
    }
    let spec = spec_commit(
        repo,
        handle,
        &SpecCommitOptions {
            files: &[],
            message: None,
            protected_branches: &protected,
        },
        &SystemClock,
    )?;
    next.push(ask_next(repo, handle, "spec, plan and tasks")?);
    let mut work_package_files = Vec::new();
    for (wp_id, title, dependencies, subtasks, owned) in LANES_WORK_PACKAGES {
        let added = add_work_package(
            repo,
            handle,
            &AddWorkPackage {
                wp_id: wp_id.to_owned(),
                title: title.to_owned(),
                dependencies: strings(dependencies),
                subtasks: strings(subtasks),
                owned_files: strings(owned),
                // The files do not exist yet: each work package creates its own.
                create_intent: strings(owned),
                ..AddWorkPackage::default()
            },
            &protected,
        )?;
        work_package_files.push(added.repo_path);
    }
    let mut requirement_refs = Vec::new();
    let mut requirement_coverage = RequirementCoverage::default();
    for (wp_id, refs) in LANES_REQUIREMENTS {
        let mapped = map_requirements(
            repo,
            handle,
            &MapRequirementsRequest {
                wp_id: wp_id.to_owned(),
                refs: strings(refs),
                replace: false,
            },
            &protected,
            &SystemClock,
        )?;
        requirement_refs.push(MappedRequirements {
            wp_id: mapped.wp_id,
            requirement_refs: mapped
                .requirement_refs
                .iter()
                .map(ToString::to_string)
                .collect(),
            commit: mapped.commit,
        });
        requirement_coverage = mapped.coverage;
    }
    let report = match finalize_tasks(
        repo,
        handle,
        &FinalizeOptions {
            validate_only: false,
            protected_branches: &protected,
        },
        &SystemClock,
    )? {
        FinalizeOutcome::Finalized(report) => *report,
        FinalizeOutcome::Validated(_) => {
            return Err(CliError::internal(
                "tasks finalize validated instead of writing",
            ));
        }
    };
    let ready_ids = |status: &MissionStatus| -> Result<Vec<String>, CliError> {
        Ok(mission_readiness(status)?
            .ready
            .into_iter()
            .map(|wp| wp.wp_id)
            .collect())
    };
    let ready_before = ready_ids(&MissionStatus::load(repo, handle, &protected)?)?;
    next.push(ask_next(repo, handle, "tasks finalize")?);

    let mut workspace = String::new();
    let mut lane_branch = String::new();
    let mut subtasks = Vec::new();
    let mut moves = Vec::new();
    let mut finish = Vec::new();
    let reviewer = |force: bool| Reviewer {
        agent: Some("codex".to_owned()),
        shell: None,
        force,
        ..Reviewer::default()
    };
    for (wp_id, title, dependencies, wp_subtasks, owned) in LANES_WORK_PACKAGES {
        // Rejected once (WP02): worked twice, the second time in fix mode.
        let rounds = if wp_id == "WP02" { 2 } else { 1 };
        for round in 0..rounds {
            if !dependencies.is_empty() {
                // Its dependencies are approved, not merged: the claim is forced, with its reason.
                let status = MissionStatus::load(repo, handle, &protected)?;
                let request = TransitionRequest {
                    wp_id: wp_id.to_owned(),
                    to_lane: Lane::Claimed.as_str().to_owned(),
                    actor: Some("claude".to_owned()),
                    force: true,
                    reason: Some(format!(
                        "{} approved; the merge lands them together",
                        dependencies.join(", ")
                    )),
                    ..TransitionRequest::default()
                };
                let recorded = recorded_move(&status, &request)?;
                finish.push(FinishLine::moved(&recorded));
                moves.push(recorded);
            }
            let implemented = implement(repo, handle, wp_id, "claude", &protected, &SystemClock)?;
            // The agent's work, committed on the lane branch in the lane worktree.
            let owned_file = owned.first().copied().unwrap_or("README.md");
            let source = implemented.workspace.join(owned_file);
            if let Some(parent) = source.parent() {
                std::fs::create_dir_all(parent).with_path("Cannot create", parent)?;
            }
            let text = if round == 0 {
                format!("# {wp_id}: {title}\n")
            } else {
                format!("# {wp_id}: {title}\n# usage is printed on an empty title\n")
            };
            atomic_write(&source, text.as_bytes())?;
            git(&implemented.workspace, ["add", "--", owned_file])?;
            let message = if round == 0 {
                format!("feat({wp_id}): {title}")
            } else {
                format!("fix({wp_id}): the review's feedback")
            };
            let commit_args = GIT_CONFIG.iter().copied().chain([
                "commit",
                "--quiet",
                "--message",
                message.as_str(),
            ]);
            git(&implemented.workspace, commit_args)?;
            if workspace.is_empty() {
                workspace = implemented.workspace.display().to_string();
                lane_branch = implemented.branch.clone();
            }
            let status = MissionStatus::load(repo, handle, &protected)?;
            let recorded = status
                .record_subtasks(
                    wp_id,
                    &strings(wp_subtasks),
                    Lane::Done,
                    Some("claude"),
                    &SystemClock,
                )?
                .changed;
            subtasks.extend(recorded.into_iter().map(|id| format!("{wp_id}/{id}")));
            let request = TransitionRequest {
                wp_id: wp_id.to_owned(),
                to_lane: Lane::ForReview.as_str().to_owned(),
                actor: Some("claude".to_owned()),
                ..TransitionRequest::default()
            };
            let recorded = recorded_move(&status, &request)?;
            finish.push(FinishLine::moved(&recorded));
            moves.push(recorded);
            next.push(ask_next(repo, handle, &format!("{wp_id} for_review"))?);
            let started =
                start_review(repo, handle, wp_id, "codex", None, &protected, &SystemClock)
                    .map_err(review_error)?;
            finish.push(FinishLine::new(
                "review start",
                format!("{wp_id} {} -> in_review by codex", started.claim.from_lane),
            ));
            if round + 1 < rounds {
                let (_, verdict) = reject(
                    repo,
                    handle,
                    &RejectionRequest {
                        wp_id: wp_id.to_owned(),
                        reviewer: reviewer(false),
                        feedback: LANES_FEEDBACK.to_owned(),
                        feedback_source: PathBuf::from("review-feedback.md"),
                        note: None,
                    },
                    &protected,
                    &SystemClock,
                )
                .map_err(review_error)?;
                finish.push(FinishLine::new(
                    "review reject",
                    format!(
                        "{wp_id} {} -> {}, feedback in review-cycle-{}",
                        verdict.from_lane,
                        verdict.to_lane,
                        verdict.cycle_number.unwrap_or_default()
                    ),
                ));
                next.push(ask_next(repo, handle, &format!("{wp_id} rejected"))?);
            }
        }
        let approved = approve(
            repo,
            handle,
            &ApprovalRequest {
                wp_id: wp_id.to_owned(),
                reviewer: reviewer(false),
                note: None,
                approval_ref: None,
                git_user_name: Some(DEMO_NAME.to_owned()),
            },
            &protected,
            &SystemClock,
        )
        .map_err(review_error)?;
        finish.push(FinishLine::new(
            "review approve",
            format!(
                "{wp_id} {} -> {} by {}",
                approved.verdict.from_lane, approved.verdict.to_lane, approved.verdict.reviewer
            ),
        ));
        next.push(ask_next(repo, handle, &format!("{wp_id} approved"))?);
    }
    // The merge: the lanes into the mission branch, the mission branch onto the target.
    let merged = merge_mission(
        repo,
        &MergeRequest {
            handle,
            mode: MergeMode::Run,
            strategy: None,
            delete_branch: None,
            remove_worktree: None,
            push: false,
            protected_branches: &protected,
            clock: &SystemClock,
        },
    )
    .map_err(CliError::from)?;
    let MergeOutcome::Merged(merge_report) = merged else {
        return Err(CliError::internal("The demo's merge did not complete"));
    };
    finish.push(FinishLine::new(
        "merge",
        format!(
            "{} lane(s) onto {}, done: {}",
            merge_report.lanes.len(),
            merge_report.target_branch,
            merge_report.done.join(", ")
        ),
    ));
    next.push(ask_next(repo, handle, "merge")?);
    // The acceptance: each criterion's verdict, then the acceptance itself.
    let status = MissionStatus::load(repo, handle, &protected)?;
    let matrix_path = status.read_dir().join(MATRIX_FILE);
    let matrix_text =
        std::fs::read_to_string(&matrix_path).with_path("Cannot read", &matrix_path)?;
    let criteria = AcceptanceMatrix::parse(&matrix_text)
        .map(|matrix| matrix.criterion_ids())
        .unwrap_or_default();
    for criterion in criteria {
        let verdict = status
            .record_acceptance_verdict(
                &CriterionVerdict {
                    criterion: criterion.clone(),
                    result: "pass".to_owned(),
                    verification_method: Some("automated_test".to_owned()),
                    actor: Some("claude".to_owned()),
                    evidence: Some("tests/test_tasklist.py".to_owned()),
                },
                &SystemClock,
            )
            .map_err(|error| {
                CliError::user(error.code(), error.to_string()).with_hint(error.hint())
            })?;
        finish.push(FinishLine::new(
            "acceptance verdict",
            format!("{criterion}=pass, matrix {}", verdict.overall_verdict),
        ));
    }
    let accepted = accept(
        repo,
        handle,
        &AcceptRequest {
            actor: "claude".to_owned(),
            mode: Some(AcceptMode::Local),
            tests: vec!["pytest".to_owned()],
            lenient: true,
            protected_branches: &protected,
        },
        &SystemClock,
    )
    .map_err(|error| super::accept::accept_error(&error))?;
    finish.push(FinishLine::new(
        "accept",
        format!(
            "accepted by {} on {}, {} commit(s)",
            accepted.accepted_by,
            accepted.branch,
            accepted.commits.len()
        ),
    ));
    next.push(ask_next(repo, handle, "the end")?);
    let status = MissionStatus::load(repo, handle, &protected)?;
    let ready_after = ready_ids(&status)?;
    let snapshot = status.snapshot()?;
    Ok(LanesMissionData {
        mission_slug: handle.to_owned(),
        spec_files: spec.committed,
        spec_commit: spec.commit,
        work_package_files,
        requirement_refs,
        requirement_coverage,
        seeded: report.seeded,
        lanes: report
            .lanes
            .map(|lanes| {
                lanes
                    .lanes
                    .into_iter()
                    .map(|lane| (lane.lane_id, lane.wp_ids))
                    .collect()
            })
            .unwrap_or_default(),
        planning_commit: report.planning_commit,
        ready_before,
        workspace,
        lane_branch,
        subtasks,
        moves,
        finish,
        ready_after,
        next,
        board: render_board(&snapshot),
    })
}

/// Writes the lanes mission's part of the report.
fn write_lanes_mission(
    out: &mut String,
    number: usize,
    data: &LanesMissionData,
) -> std::fmt::Result {
    writeln!(out)?;
    writeln!(
        out,
        "{number}. A lanes mission, {}, planned, worked and finished through the code paths of\n   \
         `spec-commit`, `wp add`, `map-requirements`, `tasks finalize`, `ready`, `implement`,\n   \
         `subtask done`, `move`, `review` (one rejection cycle), `merge`, `acceptance verdict`,\n   \
         `accept` and `next`",
        data.mission_slug
    )?;
    writeln!(out)?;
    fn short(commit: Option<&str>) -> &str {
        commit.map_or("-", |sha| crate::ui::short_sha(sha))
    }
    let names: Vec<&str> = data
        .spec_files
        .iter()
        .map(|path| path.rsplit('/').next().unwrap_or(path))
        .collect();
    writeln!(
        out,
        "   spec-commit   committed {} as {}",
        names.join(", "),
        short(data.spec_commit.as_deref())
    )?;
    for file in &data.work_package_files {
        writeln!(out, "   wp add        wrote {file}")?;
    }
    for mapped in &data.requirement_refs {
        writeln!(
            out,
            "   map-requirements {} {}, committed {}",
            mapped.wp_id,
            mapped.requirement_refs.join(", "),
            short(mapped.commit.as_deref())
        )?;
    }
    let coverage = &data.requirement_coverage;
    writeln!(
        out,
        "                 {}/{} functional requirements mapped",
        coverage.mapped_functional, coverage.total_functional
    )?;
    let commit = short(data.planning_commit.as_deref());
    writeln!(
        out,
        "   tasks finalize seeded {} (genesis -> planned) and committed the plan as {commit}; lanes:",
        data.seeded.join(", ")
    )?;
    for (lane, wp_ids) in &data.lanes {
        writeln!(out, "      {lane:<13} {}", wp_ids.join(", "))?;
    }
    writeln!(out, "   ready         {}", data.ready_before.join(", "))?;
    writeln!(
        out,
        "   implement WP01 -> {} (branch {})",
        data.workspace, data.lane_branch
    )?;
    writeln!(out, "   subtask done  {}", data.subtasks.join(" "))?;
    for line in &data.finish {
        writeln!(out, "   {:<18} {}", line.command, line.detail)?;
    }
    writeln!(out, "   ready         {}", data.ready_after.join(", "))?;
    writeln!(out)?;
    writeln!(out, "   next, asked along the way:")?;
    for checkpoint in &data.next {
        let mut what = match &checkpoint.wp_id {
            Some(wp_id) => format!("{} {wp_id}", checkpoint.mission_state),
            None => checkpoint.mission_state.clone(),
        };
        if let Some(gate) = checkpoint.gate {
            what.push_str(&format!(" (waits for {gate})"));
        }
        writeln!(
            out,
            "      after {:<28} ({}) -> {what}",
            checkpoint.after, checkpoint.mode
        )?;
    }
    writeln!(out)?;
    write_indented(out, &data.board)
}

/// Moves a work package through the status aggregate and reports the move as the demo shows it.
fn recorded_move(
    status: &MissionStatus,
    request: &TransitionRequest,
) -> Result<StatusMoveData, CliError> {
    let outcome = status.transition(request, &SystemClock)?;
    let event = outcome.event.ok_or_else(|| {
        CliError::internal(format!(
            "The demo move {} -> {} wrote no event",
            request.wp_id, request.to_lane
        ))
    })?;
    Ok(StatusMoveData {
        wp_id: request.wp_id.clone(),
        from: event.from_lane.as_str().to_owned(),
        to: event.to_lane.as_str().to_owned(),
        actor: request.actor.clone().unwrap_or_default(),
        event_id: event.event_id,
        commit: outcome.receipt.commit_sha,
        branch: outcome.receipt.destination_ref,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    #[test]
    fn the_script_follows_the_rules_except_where_it_says_so() {
        let mut lanes: BTreeMap<&str, Lane> = BTreeMap::new();
        let mut refused = 0;
        for scripted in SCRIPT {
            let from = lanes.get(scripted.wp_id).copied().unwrap_or(Lane::Genesis);
            let verdict = validate_transition(from, scripted.to, &guard_context(&scripted, "w"));
            assert_eq!(verdict.is_err(), scripted.refused, "{scripted:?}");
            if scripted.refused {
                refused += 1;
            } else {
                lanes.insert(scripted.wp_id, scripted.to);
            }
        }
        assert_eq!(refused, 1);
        assert_eq!(SCRIPT.iter().filter(|scripted| scripted.force).count(), 1);
        assert_eq!(lanes.get("WP01"), Some(&Lane::Done));
        assert_eq!(lanes.get("WP04"), Some(&Lane::Done));
    }

    #[test]
    fn the_embedded_sample_reduces_to_spec_kittys_bytes() -> Result<(), CliError> {
        let log = missionctl_core::status::event_log::parse(SAMPLE_LOG);
        let meta: Map<String, Value> = serde_json::from_slice(SAMPLE_META)?;
        let snapshot = missionctl_core::status::reducer::reduce_with_identity(&log, Some(&meta))
            .map_err(|error| CliError::internal(error.to_string()))?;
        assert_eq!(snapshot.to_status_json().as_bytes(), SAMPLE_EXPECTED);
        Ok(())
    }
}
