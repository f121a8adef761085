//! The demo's two machines: a bare remote and a second clone of the demo repository, both
//! moving one work package of the coordination mission before they meet, then `sync`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use missionctl_store::clock::SystemClock;
use missionctl_store::git::git;
use missionctl_store::repo::Repo;
use missionctl_store::repo::protection::ProtectedBranches;
use missionctl_store::status::{MissionStatus, TransitionRequest};
use missionctl_store::sync::{SyncOptions, SyncReport, sync};
use serde::Serialize;

use super::sync::render_sync_report;
use crate::command_error::CliError;

/// The remote's name in both clones.
const REMOTE: &str = "origin";

/// One step of the two machines' story.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum SyncStep {
    /// A move made on one machine.
    Move {
        machine: &'static str,
        wp_id: String,
        from: String,
        to: String,
        actor: String,
        event_id: String,
    },
    /// A sync run on one machine.
    Sync {
        machine: &'static str,
        report: SyncReport,
    },
}

/// What the two machines did and where they ended.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SyncDemoData {
    /// The bare repository both clones sync with.
    pub(crate) remote: String,
    /// The second clone.
    pub(crate) second_clone: String,
    /// The moves and syncs, in order.
    pub(crate) steps: Vec<SyncStep>,
    /// Whether both clones ended with the same log and `status.json`, byte for byte.
    pub(crate) identical: bool,
    /// Rows of the log both hold.
    pub(crate) log_rows: usize,
}

/// Makes `repo` machine A (with a bare remote under its ignored `.worktrees/`), clones machine
/// B from it, moves `wp_id` on both, and syncs A, B, then A again.
pub(crate) fn two_machines(
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    identity: (&str, &str),
) -> Result<SyncDemoData, CliError> {
    let root = repo.primary_root();
    let place = root.join(".worktrees").join("sync-demo");
    let remote = place.join("remote.git");
    let second = place.join("machine-b");
    std::fs::create_dir_all(&place)
        .map_err(|error| CliError::io("Cannot create the demo's remote", &error))?;
    let (remote_text, second_text) = (path_text(&remote), path_text(&second));
    git(
        root,
        ["clone", "--quiet", "--bare", ".", remote_text.as_str()],
    )?;
    git(root, ["remote", "add", REMOTE, remote_text.as_str()])?;
    let branch = repo
        .head()?
        .branch()
        .map(str::to_owned)
        .ok_or_else(|| CliError::internal("The demo repository has a detached HEAD"))?;
    git(
        &place,
        [
            "clone",
            "--quiet",
            "--branch",
            branch.as_str(),
            remote_text.as_str(),
            second_text.as_str(),
        ],
    )?;
    git(
        &second,
        [
            "config",
            "user.name",
            &format!("{} (machine B)", identity.0),
        ],
    )?;
    git(&second, ["config", "user.email", identity.1])?;
    let machine_b = Repo::discover(&second)?;
    let protected = ProtectedBranches::defaults();
    let mut steps = Vec::new();
    // Machine B takes the coordination branch from the remote first.
    run_sync(&machine_b, handle, &protected)?;
    let blocked = ("blocked", "claude", None);
    let handed_back = ("planned", "gemini", Some("hand it back: another approach"));
    steps.push(move_on("A", repo, handle, wp_id, blocked, &protected)?);
    steps.push(move_on(
        "B",
        &machine_b,
        handle,
        wp_id,
        handed_back,
        &protected,
    )?);
    steps.push(SyncStep::Sync {
        machine: "A",
        report: run_sync(repo, handle, &protected)?,
    });
    steps.push(SyncStep::Sync {
        machine: "B",
        report: run_sync(&machine_b, handle, &protected)?,
    });
    steps.push(SyncStep::Sync {
        machine: "A",
        report: run_sync(repo, handle, &protected)?,
    });
    let status_files = |repo: &Repo| -> Result<(Vec<u8>, Vec<u8>), CliError> {
        let status = MissionStatus::load(repo, handle, &protected)?;
        let dir = status.read_dir().to_path_buf();
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|error| CliError::io("Cannot read", &error))
        };
        Ok((read("status.events.jsonl")?, read("status.json")?))
    };
    let (log_a, snapshot_a) = status_files(repo)?;
    let (log_b, snapshot_b) = status_files(&machine_b)?;
    Ok(SyncDemoData {
        remote: remote_text,
        second_clone: second_text,
        steps,
        identical: log_a == log_b && snapshot_a == snapshot_b,
        log_rows: log_a
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
            .count(),
    })
}

fn path_text(path: &Path) -> String {
    PathBuf::from(path).display().to_string()
}

/// Moves `wp_id` to a lane (`(lane, actor, reason)`) on one machine.
fn move_on(
    machine: &'static str,
    repo: &Repo,
    handle: &str,
    wp_id: &str,
    (to, actor, reason): (&str, &str, Option<&str>),
    protected: &ProtectedBranches,
) -> Result<SyncStep, CliError> {
    let status = MissionStatus::load(repo, handle, protected)?;
    let request = TransitionRequest {
        wp_id: wp_id.to_owned(),
        to_lane: to.to_owned(),
        actor: Some(actor.to_owned()),
        reason: reason.map(str::to_owned),
        ..TransitionRequest::default()
    };
    let outcome = status.transition(&request, &SystemClock)?;
    let event = outcome
        .event
        .ok_or_else(|| CliError::internal("The demo's move wrote no event"))?;
    Ok(SyncStep::Move {
        machine,
        wp_id: wp_id.to_owned(),
        from: event.from_lane.as_str().to_owned(),
        to: event.to_lane.as_str().to_owned(),
        actor: actor.to_owned(),
        event_id: event.event_id,
    })
}

fn run_sync(
    repo: &Repo,
    handle: &str,
    protected: &ProtectedBranches,
) -> Result<SyncReport, CliError> {
    Ok(sync(
        repo,
        &SyncOptions {
            remote: REMOTE,
            mission: Some(handle),
            clock: &SystemClock,
            protected_branches: protected,
            jitter_seed: Some(1),
        },
    )?)
}

/// Writes the two machines' story, numbered `number`.
pub(crate) fn write_two_machines(
    out: &mut String,
    number: usize,
    data: &SyncDemoData,
) -> std::fmt::Result {
    writeln!(out)?;
    writeln!(
        out,
        "{number}. Two machines, one remote: `missionctl sync`\n\n   \
         The repository's `origin` is now {}, and machine B is a clone of it at\n   {}. \
         Before they meet, both move the same work package:\n",
        data.remote, data.second_clone
    )?;
    for step in &data.steps {
        match step {
            SyncStep::Move {
                machine,
                wp_id,
                from,
                to,
                actor,
                ..
            } => writeln!(
                out,
                "   machine {machine}  missionctl move {wp_id}: {from} -> {to} by {actor}"
            )?,
            SyncStep::Sync { machine, report } => {
                writeln!(out, "   machine {machine}  missionctl sync")?;
                for line in render_sync_report(report).lines() {
                    writeln!(out, "                {line}")?;
                }
            }
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "   {} machines now hold the same {}-row log and status.json, byte for byte; the\n   \
         reducer's order decided the concurrent move the same way on both.",
        if data.identical { "Both" } else { "NOT both" },
        data.log_rows
    )
}
