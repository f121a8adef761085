//! `missionctl accept --mission <handle>`: Spec Kitty's acceptance checks and, when they pass,
//! the acceptance recorded in `meta.json` and committed as Spec Kitty commits it.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};
use missionctl_store::acceptance::{
    AcceptError, AcceptMode, AcceptReport, AcceptRequest, AcceptanceCheck, accept, check_acceptance,
};
use missionctl_store::clock::SystemClock;

use crate::command_error::CliError;
use crate::env_vars;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl accept`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Every check that blocks the acceptance, nothing written\n  missionctl accept -m task-list --diagnose\n\n  # Accept, recording the command that validates the mission\n  missionctl accept -m task-list --actor claude --test \"pytest\"\n\n  # Without the runtime-metadata checks; path conventions only warn\n  missionctl accept -m task-list --lenient"
)]
pub(crate) struct AcceptArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Where the acceptance is recorded (default: `pr` when the repository has a remote,
    /// else `local`)
    #[arg(long, value_enum, value_name = "MODE")]
    mode: Option<ModeArg>,
    /// Who accepts (default: `MISSIONCTL_ACTOR`, then `USER`, then `USERNAME`, else `system`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// A validation command to record with the acceptance; it is not run (can be repeated)
    #[arg(long = "test", value_name = "CMD")]
    test: Vec<String>,
    /// Do not check the work packages' runtime metadata, and only warn about path conventions
    #[arg(long)]
    lenient: bool,
    /// Report every blocking check and write nothing
    #[arg(long)]
    diagnose: bool,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Recorded on the branch, nothing to open
    Local,
    /// Recorded on the branch, to be reviewed in a pull request
    Pr,
}

/// Runs `missionctl accept`.
pub(crate) fn cmd_accept(ui: &mut Ui, args: &AcceptArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    if args.diagnose {
        let check = check_acceptance(&repo, &args.mission, !args.lenient)
            .map_err(|error| accept_error(&error))?;
        let diagnosis = Diagnosis {
            diagnose: true,
            ok: check.summary.ok,
            check: &check,
        };
        return ui.emit(&diagnosis, || render_diagnosis(&check));
    }
    let protected = workspace::protected_branches(&repo);
    let request = AcceptRequest {
        actor: acceptance_actor(args.actor.as_deref()),
        mode: args.mode.map(|mode| match mode {
            ModeArg::Local => AcceptMode::Local,
            ModeArg::Pr => AcceptMode::Pr,
        }),
        tests: args.test.clone(),
        lenient: args.lenient,
        protected_branches: &protected,
    };
    let report = accept(&repo, &args.mission, &request, &SystemClock)
        .map_err(|error| accept_error(&error))?;
    ui.emit(&report, || render_report(&report))
}

/// What `--diagnose` prints.
#[derive(serde::Serialize)]
struct Diagnosis<'a> {
    diagnose: bool,
    ok: bool,
    #[serde(flatten)]
    check: &'a AcceptanceCheck,
}

/// Returns who accepts: the flag, `MISSIONCTL_ACTOR`, `USER`, `USERNAME`, else `system`, as
/// Spec Kitty resolves it (with missionctl's own variable first).
fn acceptance_actor(flag: Option<&str>) -> String {
    workspace::actor(flag)
        .or_else(|| std::env::var(env_vars::USER).ok())
        .or_else(|| std::env::var(env_vars::USERNAME).ok())
        .map(|actor| actor.trim().to_owned())
        .filter(|actor| !actor.is_empty())
        .unwrap_or_else(|| "system".to_owned())
}

/// Sorts an acceptance error into the CLI's model.
pub(crate) fn accept_error(error: &AcceptError) -> CliError {
    CliError::user(error.code(), error.to_string())
        .with_hint(error.hint())
        .with_sources_of(error)
        .with_protection_hint(error)
}

fn render_diagnosis(check: &AcceptanceCheck) -> String {
    let mut text = String::new();
    let summary = &check.summary;
    let _ = writeln!(
        text,
        "Acceptance of {}: {}",
        check.mission_slug,
        if summary.ok { "ready" } else { "blocked" }
    );
    let _ = writeln!(
        text,
        "Work packages: {} approved, {} done, {} in all",
        check.approved_wps.len(),
        check.done_wps.len(),
        summary.work_packages.len()
    );
    if let Some(verdict) = &check.matrix_verdict {
        let _ = writeln!(text, "Acceptance matrix: {verdict}");
    }
    if summary.failed_checks.is_empty() {
        let _ = writeln!(text, "Nothing blocks the acceptance.");
    } else {
        let _ = writeln!(text, "Blocking:");
        for item in &summary.failed_checks {
            let _ = writeln!(text, "  ✗ {}: {}", item.check, item.detail);
        }
    }
    for warning in &summary.warnings {
        let _ = writeln!(text, "warning: {}", warning.replace('\n', "\n  "));
    }
    for fix in &summary.recommended_fix_order {
        let _ = writeln!(text, "Fix: {fix}");
    }
    if summary.ok {
        let _ = writeln!(
            text,
            "Next:    missionctl accept --mission {}",
            check.mission_slug
        );
    }
    text
}

fn render_report(report: &AcceptReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Accepted {} ({} mode) by {} on {}",
        report.check.mission_slug,
        report.mode.as_str(),
        report.accepted_by,
        report.branch
    );
    for commit in &report.commits {
        let _ = writeln!(
            text,
            "Committed {} on {}",
            crate::ui::short_sha(commit),
            report.branch
        );
    }
    for note in &report.notes {
        let _ = writeln!(text, "{note}");
    }
    for warning in &report.check.summary.warnings {
        let _ = writeln!(text, "warning: {}", warning.replace('\n', "\n  "));
    }
    if !report.check.merge_pending_wps.is_empty() {
        let _ = writeln!(
            text,
            "Next:    missionctl merge --mission {}",
            report.check.mission_slug
        );
    }
    text
}
