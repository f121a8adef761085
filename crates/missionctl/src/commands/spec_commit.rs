//! `missionctl spec-commit --mission <MISSION> [FILE…] [--message M]`: commits a mission's planning files
//! on its planning surface.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::planning::spec_commit::{SpecCommitOptions, SpecCommitReport, spec_commit};

use crate::cli::mission_and_rest;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl spec-commit`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Commit whichever planning files changed\n  missionctl spec-commit -m invoice-export\n\n  # Commit two files with a message\n  missionctl spec-commit -m invoice-export spec.md plan.md --message \"docs: plan the export\""
)]
pub(crate) struct SpecCommitArgs {
    /// The mission: its ULID, mid8, directory name, slug or number (without it, the first
    /// positional is the mission: the older form `spec-commit <MISSION> [FILE]...`)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// A planning file to commit, relative to the mission directory (default: whichever of
    /// spec.md, plan.md, research.md, data-model.md, tasks.md and checklists/ changed)
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// The commit message (default: `chore: planning artifacts for <mission>`)
    #[arg(long, value_name = "MESSAGE")]
    message: Option<String>,
}

/// Commits the mission's planning files and reports what was committed and skipped.
pub(crate) fn cmd_spec_commit(ui: &mut Ui, args: &SpecCommitArgs) -> Result<(), CliError> {
    let (handle, files) = mission_and_rest(args.mission.as_deref(), &args.files)?;
    let repo = workspace::discover_repo_for_writing()?;
    let protected = workspace::protected_branches(&repo);
    let report = spec_commit(
        &repo,
        handle,
        &SpecCommitOptions {
            files,
            message: args.message.as_deref(),
            protected_branches: &protected,
        },
        &SystemClock,
    )?;
    ui.emit(&report, || render(&report))
}

fn render(report: &SpecCommitReport) -> String {
    let mut text = String::new();
    match &report.commit {
        Some(sha) => {
            let _ = writeln!(
                text,
                "Committed {} planning file{} of `{}` on `{}` as {}",
                report.committed.len(),
                if report.committed.len() == 1 { "" } else { "s" },
                report.mission_slug,
                report.planning_branch,
                crate::ui::short_sha(sha)
            );
            for path in &report.committed {
                let _ = writeln!(text, "  {path}");
            }
        }
        None => {
            let _ = writeln!(
                text,
                "Nothing to commit: the planning files of `{}` match `{}`",
                report.mission_slug, report.planning_branch
            );
        }
    }
    for skipped in &report.skipped {
        let _ = writeln!(text, "skipped {}: {}", skipped.path, skipped.reason);
    }
    text
}
