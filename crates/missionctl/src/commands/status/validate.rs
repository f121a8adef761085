//! `missionctl status validate --mission <MISSION>`: Spec Kitty's checks of the log and of
//! `status.json`, with its verdict and its wording; any error exits 1 with
//! `STATUS_VALIDATION_FAILED` and the report as the failure's `data`. Work packages of the log
//! that no task file defines are missionctl's warnings (`PHANTOM_WORK_PACKAGE`), which do not
//! fail it. Pairs of transitions of one work package made without one seeing the other (two
//! clones that moved it before they synced) are reported with the one the reducer kept and why
//! (`concurrent_transitions`); they do not fail it either.

use clap::Args;
use missionctl_core::status::concurrent::{ConcurrentPair, concurrent_transitions};
use missionctl_core::status::validate::{
    Finding, Severity, SnapshotOnDisk, corrupt_log, crlf_working_copy, phantom_work_package,
    validate,
};
use missionctl_store::mission::dir::{EVENT_LOG_FILE, SNAPSHOT_FILE};
use serde::Serialize;
use serde_json::Value;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl status validate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Check a mission's log and status.json\n  missionctl status validate -m invoice-export\n\n  # The findings as JSON\n  missionctl status validate -m invoice-export --json"
)]
pub(crate) struct StatusValidateArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
}

/// The report: Spec Kitty's `agent status validate --json` document, then missionctl's
/// additions.
#[derive(Debug, Serialize)]
struct ValidateData {
    mission_slug: String,
    passed: bool,
    /// Spec Kitty's `errors`: the message of every error finding.
    errors: Vec<String>,
    /// Spec Kitty's `warnings` (it has none; missionctl's warnings are in `findings`).
    warnings: Vec<String>,
    error_count: usize,
    warning_count: usize,
    /// Every finding as an object: `{code, severity, message, event_id, wp_id}`.
    findings: Vec<Finding>,
    /// How many distinct transitions the log holds.
    event_count: usize,
    /// Every pair of transitions of one work package written without one seeing the other,
    /// with the one whose lane the reducer kept and why.
    concurrent_transitions: Vec<ConcurrentPair>,
}

impl ValidateData {
    fn new(mission_slug: &str, event_count: usize, findings: Vec<Finding>) -> ValidateData {
        let errors: Vec<String> = findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
            .map(|finding| finding.message.clone())
            .collect();
        ValidateData {
            mission_slug: mission_slug.to_owned(),
            passed: errors.is_empty(),
            error_count: errors.len(),
            errors,
            warnings: Vec::new(),
            warning_count: 0,
            findings,
            event_count,
            concurrent_transitions: Vec::new(),
        }
    }

    fn text(&self) -> String {
        let mut text = format!("Status validation: {}\n", self.mission_slug);
        if self.event_count == 0 && self.findings.is_empty() {
            text.push_str("No events to validate.\n");
        }
        for finding in &self.findings {
            let severity = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            text.push_str(&format!(
                "{severity} {}: {}\n",
                finding.code, finding.message
            ));
        }
        for pair in &self.concurrent_transitions {
            text.push_str(&format!("concurrent {}\n", pair.describe()));
        }
        text.push_str(if self.passed {
            "Result: PASS\n"
        } else {
            "Result: FAIL\n"
        });
        text
    }
}

/// Validates the mission's status and fails with `STATUS_VALIDATION_FAILED` on any error.
pub(crate) fn cmd_status_validate(ui: &mut Ui, args: &StatusValidateArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status(&args.mission)?;
    let slug = status.mission_slug().to_owned();
    let dir = status.read_dir().to_path_buf();
    let data = match status.read_log() {
        // A log Spec Kitty cannot read is one error of the report.
        Err(error) => {
            let inner = CliError::from(error);
            ValidateData::new(&slug, 0, vec![corrupt_log(&inner.message_with_sources())])
        }
        // As Spec Kitty: a log without rows has nothing to validate (a mission that was just
        // created has an empty log and no `status.json` yet).
        Ok(log) if log.rows.is_empty() => ValidateData::new(&slug, 0, Vec::new()),
        Ok(log) => {
            let fresh = status.snapshot()?;
            let log_exists = status.containment().exists(&dir.join(EVENT_LOG_FILE))?;
            let bytes = status.containment().read(&dir.join(SNAPSHOT_FILE))?;
            let parsed: Option<Option<Value>> = bytes.map(|bytes| {
                std::str::from_utf8(&bytes).ok().and_then(|text| {
                    missionctl_core::text::pyjson::from_str_deep::<Value>(text).ok()
                })
            });
            let on_disk = match &parsed {
                None => SnapshotOnDisk::Missing,
                Some(None) => SnapshotOnDisk::Unreadable,
                Some(Some(value)) => SnapshotOnDisk::Parsed(value),
            };
            let mut findings = validate(&log, &fresh, on_disk, log_exists);
            let log_path = dir.join(EVENT_LOG_FILE);
            if let Some(raw) = status.containment().read(&log_path)?
                && raw.windows(2).any(|pair| pair == b"\r\n")
            {
                findings.push(crlf_working_copy(&log_path.display().to_string()));
            }
            findings.extend(
                status
                    .undefined_work_packages(&fresh)
                    .map_err(|error| {
                        CliError::user(error.code(), error.to_string()).with_hint(error.hint())
                    })?
                    .iter()
                    .map(|wp_id| phantom_work_package(wp_id, &slug)),
            );
            let mut data = ValidateData::new(&slug, fresh.event_count, findings);
            data.concurrent_transitions = concurrent_transitions(&log);
            data
        }
    };
    let passed = data.passed;
    let error_count = data.error_count;
    let first = data.errors.first().cloned().unwrap_or_default();
    ui.emit(&data, || data.text())?;
    if passed {
        return Ok(());
    }
    Err(CliError::user(
        "STATUS_VALIDATION_FAILED",
        format!("{error_count} error(s), the first: {first}"),
    )
    .with_hint(
        "Snapshot drift is fixed by `missionctl status materialize --mission <MISSION>`; \
         log findings need a forced corrective move"
            .to_owned(),
    ))
}
