//! `missionctl doctor [--mission <MISSION>] [--fix]`: findings about missions and about what
//! interrupted writes left, each with a code, a severity and the command that fixes it; exits 1
//! while a finding is an error. `--fix` first repairs what is safe to repair (interrupted
//! writes settled, stale temporary files removed) and reports the rest.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use missionctl_store::mission::index::{list_missions, show_mission};
use missionctl_store::view::doctor::doctor;
use missionctl_store::view::leftovers::fix_leftovers;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl doctor`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Check every mission (exit 1 while a finding is an error)\n  missionctl doctor\n\n  # Check one mission, as JSON\n  missionctl doctor -m invoice-export --json\n\n  # Settle interrupted writes, then report what is left\n  missionctl doctor --fix"
)]
pub(crate) struct DoctorArgs {
    /// Only this mission (default: every mission)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// First repair what is safe: settle interrupted writes, remove stale temporary files
    #[arg(long)]
    fix: bool,
}

/// Returns today as days since 1970-01-01, from the wall clock.
fn today() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs() / 86_400).unwrap_or(0)
        })
}

/// Reports findings; writes only with `--fix`, and then only what is safe to repair.
pub(crate) fn cmd_doctor(ui: &mut Ui, args: &DoctorArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    let fixed = args.fix.then(|| fix_leftovers(&repo));
    let protected = workspace::protected_branches(&repo);
    let missions = match &args.mission {
        Some(handle) => vec![show_mission(&repo, handle)?],
        None => list_missions(&repo)?,
    };
    let mut data = doctor(&repo, &missions, &protected, today());
    data.fixed = fixed;
    let errors = data
        .findings
        .iter()
        .filter(|finding| finding.severity == "error")
        .count();
    ui.emit(&data, || {
        let mut text = String::new();
        if let Some(fixed) = &data.fixed {
            for settled in &fixed.settled {
                text.push_str(&format!(
                    "fixed: `{}` (pid {}) {}\n",
                    settled.operation,
                    settled.pid,
                    if settled.completed {
                        "completed"
                    } else {
                        "undone"
                    }
                ));
            }
            for removed in &fixed.removed {
                text.push_str(&format!("fixed: removed {removed}\n"));
            }
        }
        for finding in &data.findings {
            text.push_str(&format!(
                "{} {} [{}]: {}\n  fix: {}\n",
                finding.severity, finding.code, finding.mission_slug, finding.message, finding.fix
            ));
        }
        text.push_str(&format!(
            "{} mission(s) checked, {} finding(s)\n",
            data.missions_checked,
            data.findings.len()
        ));
        text
    })?;
    // Like a failing check, doctor fails while it reports errors (warnings alone pass); the
    // report stays the `data` of the failure.
    if errors == 0 {
        return Ok(());
    }
    Err(CliError::user(
        "DOCTOR_FOUND_ERRORS",
        format!("doctor found {errors} error(s)"),
    )
    .with_hint("Run the `fix` printed with each finding".to_owned()))
}
