//! `missionctl demo`: builds a throwaway git repository and shows what the engine does at this
//! stage — moves checked against Spec Kitty's transition rules and written as byte-compatible
//! event rows, logs reduced to `status.json` (one of them a real Spec Kitty mission's), boards,
//! and a commit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use clap::Args;
use missionctl_core::Lane;
use missionctl_core::event::{Actor, StatusEvent};
use missionctl_core::pyjson::{self, Style};
use missionctl_core::transition::{
    DoneEvidence, GuardContext, ReviewApproval, ReviewResult, validate_transition,
};
use missionctl_store::fs_util::{IoResultExt, PathError, atomic_write};
use missionctl_store::git::{git, require_git};
use missionctl_store::mission_dir::{EVENT_LOG_FILE, META_FILE, SNAPSHOT_FILE, reduce_mission_dir};
use serde::Serialize;
use serde_json::{Value, json};
use ulid::Generator;

use crate::board::render_board;
use crate::clock::Timestamp;
use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Build the repository in this directory, which must not exist or must be empty
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The directory that holds missions inside a repository.
const MISSIONS_DIR: &str = "kitty-specs";

/// The branch the demo repository starts on.
const BRANCH: &str = "main";

/// The subject of the demo's commit.
const COMMIT_SUBJECT: &str = "missionctl demo: a new mission and a Spec Kitty sample, reduced";

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

    let mut files = Vec::new();
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
        repo: repo.display().to_string(),
        missions: vec![demo_mission, sample_mission],
        moves,
        refused_move,
        forced_move,
        commit: CommitData {
            sha,
            branch: BRANCH,
            subject: COMMIT_SUBJECT,
        },
        files,
        story,
    })
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
        summary: snapshot
            .summary()
            .into_iter()
            .map(|(lane, count)| (lane.as_str(), count))
            .collect(),
        work_packages: snapshot
            .work_packages
            .iter()
            .map(|(id, state)| WorkPackageData {
                id: id.clone(),
                lane: state.lane.as_str(),
                actor: state.actor.clone(),
            })
            .collect(),
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
    let short_sha = data.commit.sha.get(..12).unwrap_or(&data.commit.sha);
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
    writeln!(out)?;
    writeln!(out, "Look around:")?;
    writeln!(out, "   git -C {} log --stat", data.repo)?;
    if let Some(mission) = data.missions.first() {
        writeln!(
            out,
            "   missionctl status reduce {}/{}",
            data.repo, mission.dir
        )?;
    }
    Ok(())
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
        let log = missionctl_core::event_log::parse(SAMPLE_LOG);
        let meta: Map<String, Value> = serde_json::from_slice(SAMPLE_META)?;
        let snapshot = missionctl_core::reducer::reduce_with_identity(&log, Some(&meta))
            .map_err(|error| CliError::internal(error.to_string()))?;
        assert_eq!(snapshot.to_status_json().as_bytes(), SAMPLE_EXPECTED);
        Ok(())
    }
}
