//! `missionctl status validate --mission <handle>`: the log's schema, legality and done
//! evidence, and drift of `status.json`; any finding exits 1. Work packages of the log that no
//! task file defines are warnings (`PHANTOM_WORK_PACKAGE`), which do not fail it.

use clap::Args;
use missionctl_core::validate::{Finding, SnapshotOnDisk, phantom_work_package, validate};
use missionctl_store::mission_dir::{EVENT_LOG_FILE, SNAPSHOT_FILE};
use serde::Serialize;
use serde_json::Value;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl status validate`.
#[derive(Debug, Args)]
pub(crate) struct StatusValidateArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, value_name = "HANDLE")]
    mission: String,
}

/// The `data` of a clean `status validate --json`.
#[derive(Debug, Serialize)]
struct ValidateData {
    mission_slug: String,
    event_count: usize,
    findings: Vec<Finding>,
    warnings: Vec<Finding>,
}

/// Validates the mission's status and fails with `STATUS_VALIDATION_FAILED` on any finding.
pub(crate) fn cmd_status_validate(ui: &mut Ui, args: &StatusValidateArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status(&args.mission)?;
    let dir = status.read_dir().to_path_buf();
    let log_exists = dir.join(EVENT_LOG_FILE).exists();
    let log = status.read_log().map_err(|error| {
        let inner = CliError::from(error);
        CliError::user(
            "STATUS_VALIDATION_FAILED",
            format!(
                "status.events.jsonl is corrupt: {}",
                inner.message_with_sources()
            ),
        )
        .with_hint(inner.hint.unwrap_or_default())
    })?;
    let fresh = status.snapshot()?;
    // As Spec Kitty: a log without events has nothing to validate (a mission that was just
    // created has an empty log and no `status.json` yet).
    if log.transitions().next().is_none() && log.annotations().next().is_none() {
        let data = ValidateData {
            mission_slug: status.mission_slug().to_owned(),
            event_count: 0,
            findings: Vec::new(),
            warnings: Vec::new(),
        };
        return ui.emit(&data, || "No events to validate.\n".to_owned());
    }
    let bytes = status.containment().read(&dir.join(SNAPSHOT_FILE))?;
    let parsed: Option<Option<Value>> =
        bytes.map(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let on_disk = match &parsed {
        None => SnapshotOnDisk::Missing,
        Some(None) => SnapshotOnDisk::Unreadable,
        Some(Some(value)) => SnapshotOnDisk::Parsed(value),
    };
    let findings = validate(&log, &fresh, on_disk, log_exists);
    let warnings: Vec<Finding> = status
        .undefined_work_packages(&fresh)
        .map_err(|error| CliError::user(error.code(), error.to_string()).with_hint(error.hint()))?
        .iter()
        .map(|wp_id| phantom_work_package(wp_id, status.mission_slug()))
        .collect();
    let listed = |findings: &[Finding]| -> Vec<String> {
        findings
            .iter()
            .map(|finding| format!("{}: {}", finding.code, finding.message))
            .collect()
    };
    if !findings.is_empty() {
        let mut listed = listed(&findings);
        listed.extend(
            warnings
                .iter()
                .map(|warning| format!("warning {}: {}", warning.code, warning.message)),
        );
        return Err(CliError::user(
            "STATUS_VALIDATION_FAILED",
            format!("{} finding(s): {}", findings.len(), listed.join("; ")),
        )
        .with_hint(
            "Snapshot drift is fixed by `missionctl status materialize --mission <handle>`; \
             log findings need a forced corrective move"
                .to_owned(),
        ));
    }
    let data = ValidateData {
        mission_slug: status.mission_slug().to_owned(),
        event_count: fresh.event_count,
        findings,
        warnings,
    };
    ui.emit(&data, || {
        let mut text = if data.event_count == 0 {
            "No events to validate.\n".to_owned()
        } else {
            format!(
                "{}: {} events, no findings\n",
                data.mission_slug, data.event_count
            )
        };
        for line in listed(&data.warnings) {
            text.push_str(&format!("warning {line}\n"));
        }
        text
    })
}
