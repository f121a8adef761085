//! `missionctl review start <WP> --mission <MISSION>` (or `review <WP>`): claim a work package
//! for review and show what to review.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::review::{ReviewStart, start_review};

use super::{relative, review_error, shell_identity};
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl review start`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Claim WP01 for review and show its changes\n  missionctl review start WP01 -m invoice-export --actor claude"
)]
pub(crate) struct StartArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Who reviews (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
}

/// Runs `missionctl review start`.
pub(crate) fn cmd_start(ui: &mut Ui, args: &StartArgs) -> Result<(), CliError> {
    run_start(ui, &args.wp_id, &args.mission, args.actor.as_deref())
}

/// Claims a work package for review.
pub(crate) fn run_start(
    ui: &mut Ui,
    wp_id: &str,
    mission: &str,
    actor: Option<&str>,
) -> Result<(), CliError> {
    let actor = workspace::actor(actor).ok_or_else(|| {
        CliError::user(
            "ACTOR_REQUIRED",
            format!("Starting the review of {wp_id} needs a reviewer"),
        )
        .with_hint("Pass `--actor <name>` or set `MISSIONCTL_ACTOR`".to_owned())
    })?;
    let repo = workspace::discover_repo_for_writing()?;
    let shell = shell_identity();
    let outcome = start_review(
        &repo,
        mission,
        wp_id,
        &actor,
        Some(&shell),
        &workspace::protected_branches(&repo),
        &SystemClock,
    )
    .map_err(|error| review_error(error, mission))?;
    let root = repo.primary_root().to_path_buf();
    ui.emit(&outcome, || render(&outcome, &actor, &root))
}

fn render(outcome: &ReviewStart, actor: &str, root: &std::path::Path) -> String {
    let mut text = String::new();
    let claim = &outcome.claim;
    let commit = claim
        .receipt
        .as_ref()
        .map(|receipt| {
            format!(
                ", committed {} on {}",
                crate::ui::short_sha(&receipt.commit_sha),
                receipt.destination_ref
            )
        })
        .unwrap_or_default();
    if claim.claimed {
        let _ = writeln!(
            text,
            "{} for_review -> in_review for {actor}{commit}",
            outcome.wp_id
        );
    } else {
        let _ = writeln!(
            text,
            "{} is already in review; claim renewed for {actor}{commit}",
            outcome.wp_id
        );
    }
    let _ = writeln!(text, "Prompt:  {}", relative(&outcome.prompt_file, root));
    match &outcome.lane {
        Some(lane) => {
            let _ = writeln!(
                text,
                "Lane:    {}, branch `{}`: {} commit(s) ahead of `{}`",
                lane.lane_id, lane.branch, lane.commits_ahead, lane.base
            );
            if lane.files.is_empty() {
                let _ = writeln!(text, "         no file changed");
            }
            for file in &lane.files {
                let counts = match (file.added, file.deleted) {
                    (Some(added), Some(deleted)) => format!("+{added} -{deleted}"),
                    _ => "binary".to_owned(),
                };
                let _ = writeln!(text, "         {}  {counts}", file.path);
            }
            if !lane.uncommitted.is_empty() {
                let _ = writeln!(
                    text,
                    "         {} uncommitted change(s) in the worktree",
                    lane.uncommitted.len()
                );
            }
            let _ = writeln!(
                text,
                "Review:  git -C {} diff {}...{}",
                lane.workspace.display(),
                lane.base,
                lane.branch
            );
        }
        None => {
            let _ = writeln!(text, "Work:    in the primary checkout");
        }
    }
    if let Some(previous) = &outcome.previous_review {
        let _ = writeln!(
            text,
            "Before:  review-cycle-{} by {} ({})",
            previous.cycle_number,
            previous.reviewer,
            relative(&previous.path, root)
        );
    }
    let _ = writeln!(
        text,
        "Then:    missionctl review approve {} --mission {} --actor {actor}",
        outcome.wp_id, outcome.mission_slug
    );
    let _ = writeln!(
        text,
        "         missionctl review reject {} --mission {} --actor {actor} --feedback-file <feedback.md>",
        outcome.wp_id, outcome.mission_slug
    );
    text
}
