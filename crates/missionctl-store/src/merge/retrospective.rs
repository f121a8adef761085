//! The merge's last step: the mission's retrospective (`retrospective.yaml` and its
//! `RetrospectiveCaptured` row, as Spec Kitty's generator writes them) committed on the target
//! branch as `chore(<mission>): capture mission retrospective`, and the merge's state removed
//! in the same transaction. A mission that has a retrospective keeps it (Spec Kitty captures
//! only a missing one).

use std::path::Path;

use missionctl_core::lifecycle::merge::retrospective_message;
use missionctl_core::lifecycle::retrospective::{
    RetrospectiveInput, captured_row, generate, next_lamport,
};
use serde_json::{Map, Value};

use super::finish::{remove_state, seconds};
use super::preflight::Mission;
use super::run::begin;
use super::state::MergeState;
use super::{MergeError, MergeRequest};
use crate::clock::isoformat;
use crate::mission::dir::EVENT_LOG_FILE;
use crate::status::relative;
use crate::write::{CommitFiles, CommitRequest};

/// The retrospective's file name.
pub(crate) const RETROSPECTIVE_FILE: &str = "retrospective.yaml";

/// Captures the retrospective when the mission has none, and ends the merge; returns the
/// commit that recorded it.
pub(crate) fn capture(
    mission: &Mission,
    request: &MergeRequest<'_>,
    _state: &MergeState,
) -> Result<Option<String>, MergeError> {
    let mut transaction = begin(mission, "merge: retrospective")?;
    let dir = &mission.primary_dir;
    let record = dir.join(RETROSPECTIVE_FILE);
    let files = mission.repo.containment();
    let mut commit = None;
    remove_state(&mut transaction, mission)?;
    if !files.exists(&record)? {
        let log_path = dir.join(EVENT_LOG_FILE);
        let log = files.read(&log_path)?.unwrap_or_default();
        let invoked_at = isoformat(request.clock.now());
        let input = read_input(mission, &log, &invoked_at)?;
        let retrospective = generate(&input);
        let row = captured_row(
            &retrospective,
            &request.clock.new_event_id(),
            &isoformat(request.clock.now()),
            next_lamport(&input.events),
            &record.to_string_lossy(),
        );
        transaction.write_file(&record, retrospective.yaml.as_bytes())?;
        let mut tail = String::new();
        if !log.is_empty() && !log.ends_with(b"\n") {
            tail.push('\n');
        }
        tail.push_str(&row);
        tail.push('\n');
        transaction.append_file(&log_path, tail.as_bytes())?;
        let root = mission.repo.primary_root();
        let paths = [relative(root, &record), relative(root, &log_path)];
        let outcome = transaction.commit(&CommitRequest {
            branch: &mission.target_branch,
            files: CommitFiles::Checkout {
                root,
                paths: &paths,
            },
            message: &retrospective_message(&mission.slug),
            identity: None,
            seconds: seconds(request),
            point: true,
        })?;
        commit = outcome.commit.map(|id| id.to_string());
    }
    transaction.finish()?;
    Ok(commit)
}

/// Reads what the generator needs from the mission's directory on the planning surface.
fn read_input<'a>(
    mission: &'a Mission,
    log: &[u8],
    invoked_at: &'a str,
) -> Result<RetrospectiveInput<'a>, MergeError> {
    let files = mission.repo.containment();
    let dir = &mission.primary_dir;
    let text = |name: &str| -> Result<Option<String>, MergeError> {
        Ok(files
            .read(&dir.join(name))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    };
    let listing =
        |sub: &str, keep: fn(&str) -> bool| -> Result<Vec<(String, String)>, MergeError> {
            let mut found = Vec::new();
            let folder = dir.join(sub);
            if let Some(entries) = files.read_dir(&folder)? {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !keep(&name) {
                        continue;
                    }
                    if let Some(bytes) = files.read(&folder.join(&name))? {
                        found.push((name, String::from_utf8_lossy(&bytes).into_owned()));
                    }
                }
            }
            found.sort();
            Ok(found)
        };
    let meta: Map<String, Value> = text("meta.json")?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let events: Vec<Map<String, Value>> = String::from_utf8_lossy(log)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Ok(RetrospectiveInput {
        dir_name: dir_name(dir),
        meta,
        spec: text("spec.md")?.unwrap_or_default(),
        plan: text("plan.md")?.unwrap_or_default(),
        tasks: text("tasks.md")?.unwrap_or_default(),
        research: text("research.md")?,
        data_model: text("data-model.md")?,
        workflow_failures: text("workflow-failures-log.md")?,
        analysis_report: text("analysis-report.md")?,
        review_report: text("mission-review-report.md")?,
        traces: listing("traces", |name| name.ends_with(".md"))?,
        wp_files: listing("tasks", |name| {
            name.starts_with("WP") && name.ends_with(".md")
        })?,
        events,
        invoked_at,
        fallback_target_branch: &mission.target_branch,
    })
}

fn dir_name(dir: &Path) -> &str {
    dir.file_name().and_then(|name| name.to_str()).unwrap_or("")
}
