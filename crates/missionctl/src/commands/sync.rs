//! `missionctl sync [--mission <MISSION>] [--remote <REMOTE>]`: exchanges the missions' status
//! with a git remote — fetch, union of the event logs, `status.json` re-derived, commit, push
//! without force, again while the remote moves (see `missionctl_store::sync`).

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::sync::{BranchOutcome, SyncOptions, SyncReport, sync};

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl sync`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Exchange every mission's status with origin\n  missionctl sync\n\n  # Only one mission, with another remote, as JSON\n  missionctl sync -m invoice-export --remote upstream --json"
)]
pub(crate) struct SyncArgs {
    /// Only this mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// The remote to sync with
    #[arg(long, value_name = "REMOTE", default_value = "origin")]
    remote: String,
}

/// Returns the text of a report: one line per mission, then the branches.
pub(crate) fn render_sync_report(report: &SyncReport) -> String {
    let mut text = String::new();
    if report.missions.is_empty() {
        text.push_str("No mission to sync\n");
    }
    for mission in &report.missions {
        text.push_str(&format!(
            "{}: {} received, {} sent ({})\n",
            mission.mission_slug, mission.events_received, mission.events_sent, mission.branch
        ));
        for pair in &mission.concurrent_transitions {
            text.push_str(&format!("  concurrent {}\n", pair.describe()));
        }
    }
    for branch in &report.branches {
        let outcome = match branch.outcome {
            BranchOutcome::UpToDate => "up to date",
            BranchOutcome::Absent => "on neither side yet",
            BranchOutcome::Received => "took the remote's commits",
            BranchOutcome::Sent => "pushed",
            BranchOutcome::Merged => "merged and pushed",
            BranchOutcome::Protected => "protected: not merged",
        };
        let tries = if branch.attempts > 1 {
            format!(" after {} attempts", branch.attempts)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{} {}: {outcome}{tries}\n",
            report.remote, branch.branch
        ));
    }
    text
}

/// Syncs the missions with the remote and reports what moved.
pub(crate) fn cmd_sync(ui: &mut Ui, args: &SyncArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let protected = workspace::protected_branches(&repo);
    let options = SyncOptions {
        remote: &args.remote,
        mission: args.mission.as_deref(),
        clock: &SystemClock,
        protected_branches: &protected,
        jitter_seed: None,
    };
    let report = sync(&repo, &options)?;
    ui.emit(&report, || render_sync_report(&report))
}
