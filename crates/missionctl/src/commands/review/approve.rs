//! `missionctl review approve <WP> --mission <MISSION>`: record an approval.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::review::{ApprovalOutcome, approve};
use missionctl_store::status::{ApprovalRequest, Reviewer};

use super::{relative, render_commits, review_error, shell_identity};
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl review approve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Approve WP01 after reviewing it\n  missionctl review approve WP01 -m invoice-export --actor claude"
)]
pub(crate) struct ApproveArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Who approves (default: `MISSIONCTL_ACTOR`; `user` when neither is set)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// The name recorded as the reviewer (default: the actor)
    #[arg(long, value_name = "NAME")]
    reviewer: Option<String>,
    /// A note, recorded as the reason and as a note
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Where the approval lives, when the work package needs no review-cycle file
    #[arg(long, value_name = "REF")]
    approval_ref: Option<String>,
    /// Approve although the work package is assigned to another agent, has subtasks not done,
    /// or its lane worktree has uncommitted changes
    #[arg(long)]
    force: bool,
}

/// Runs `missionctl review approve`.
pub(crate) fn cmd_approve(ui: &mut Ui, args: &ApproveArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let request = ApprovalRequest {
        wp_id: args.wp_id.clone(),
        reviewer: Reviewer {
            agent: workspace::actor(args.actor.as_deref()),
            reviewer: args.reviewer.clone().filter(|name| !name.trim().is_empty()),
            shell: Some(shell_identity()),
            force: args.force,
        },
        note: args.note.clone(),
        approval_ref: args
            .approval_ref
            .clone()
            .filter(|value| !value.trim().is_empty()),
        git_user_name: None,
    };
    let outcome = approve(
        &repo,
        &args.mission,
        &request,
        &workspace::protected_branches(&repo),
        &SystemClock,
    )
    .map_err(|error| review_error(error, &args.mission))?;
    let root = repo.primary_root().to_path_buf();
    ui.emit(&outcome, || render(&outcome, &root))
}

fn render(outcome: &ApprovalOutcome, root: &std::path::Path) -> String {
    let mut text = String::new();
    let verdict = &outcome.verdict;
    if outcome.claim.is_some() {
        let _ = writeln!(text, "{} for_review -> in_review (claimed)", verdict.wp_id);
    }
    let _ = writeln!(
        text,
        "{} {} -> {}, approved by {}",
        verdict.wp_id, verdict.from_lane, verdict.to_lane, verdict.reviewer
    );
    match (&verdict.review_cycle, verdict.cycle_number) {
        (Some(path), Some(number)) => {
            let _ = writeln!(
                text,
                "Recorded review-cycle-{number}: {}",
                relative(path, root)
            );
        }
        _ => {
            let _ = writeln!(text, "Reference: {}", verdict.reference);
        }
    }
    render_commits(&mut text, &verdict.commits);
    let _ = writeln!(
        text,
        "Next:    missionctl next --mission {}",
        outcome.mission_slug
    );
    text
}
