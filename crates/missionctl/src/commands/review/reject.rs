//! `missionctl review reject <WP> --mission <MISSION> --feedback-file F`: send a work package
//! back with the reviewer's feedback.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::review::reject;
use missionctl_store::status::{RejectionRequest, Reviewer, VerdictOutcome};
use serde::Serialize;

use super::{relative, render_commits, review_error};
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl review reject`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Send WP01 back with the feedback in a file\n  missionctl review reject WP01 -m invoice-export --feedback-file review.md --actor claude"
)]
pub(crate) struct RejectArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// The reviewer's feedback, a markdown file (`-` for stdin); recorded verbatim
    #[arg(long, value_name = "FILE")]
    feedback_file: Option<PathBuf>,
    /// Who rejects (default: `MISSIONCTL_ACTOR`; `user` when neither is set)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// The name recorded as the reviewer (default: the actor)
    #[arg(long, value_name = "NAME")]
    reviewer: Option<String>,
    /// A note, appended to the reason and recorded as a note
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

/// The `data` of `review reject --json`.
#[derive(Debug, Serialize)]
struct RejectData {
    mission_slug: String,
    #[serde(flatten)]
    verdict: VerdictOutcome,
}

/// Runs `missionctl review reject`.
pub(crate) fn cmd_reject(ui: &mut Ui, args: &RejectArgs) -> Result<(), CliError> {
    let refused = |code: &'static str, message: String| {
        CliError::user(code, message).with_hint(format!(
            "Write the feedback to a file, then `missionctl review reject {} --mission {} --feedback-file feedback.md`",
            args.wp_id, args.mission
        ))
    };
    let Some(source) = &args.feedback_file else {
        return Err(refused(
            "REVIEW_FEEDBACK_REQUIRED",
            format!(
                "Moving {} to 'planned' requires review feedback",
                args.wp_id
            ),
        ));
    };
    let feedback = if source.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|error| CliError::io("Cannot read stdin", &error))?
    } else if !source.exists() {
        return Err(refused(
            "REVIEW_FEEDBACK_NOT_FOUND",
            format!("Review feedback file not found: {}", source.display()),
        ));
    } else if !source.is_file() {
        return Err(refused(
            "REVIEW_FEEDBACK_NOT_A_FILE",
            format!("Review feedback path is not a file: {}", source.display()),
        ));
    } else {
        std::fs::read_to_string(source)
            .map_err(|error| CliError::io(&format!("Cannot read {}", source.display()), &error))?
    };
    let repo = workspace::discover_repo_for_writing()?;
    let agent = workspace::actor(args.actor.as_deref());
    let request = RejectionRequest {
        wp_id: args.wp_id.clone(),
        reviewer: Reviewer {
            agent,
            reviewer: args.reviewer.clone().filter(|name| !name.trim().is_empty()),
            shell: None,
            force: false,
        },
        feedback,
        feedback_source: source.clone(),
        note: args.note.clone(),
    };
    let (mission_slug, verdict) = reject(
        &repo,
        &args.mission,
        &request,
        &workspace::protected_branches(&repo),
        &SystemClock,
    )
    .map_err(|error| review_error(error, &args.mission))?;
    let data = RejectData {
        mission_slug,
        verdict,
    };
    let root = repo.primary_root().to_path_buf();
    ui.emit(&data, || render(&data, &root))
}

fn render(data: &RejectData, root: &std::path::Path) -> String {
    let mut text = String::new();
    let verdict = &data.verdict;
    let _ = writeln!(
        text,
        "{} {} -> {} (changes requested by {})",
        verdict.wp_id, verdict.from_lane, verdict.to_lane, verdict.reviewer
    );
    if let (Some(path), Some(number)) = (&verdict.review_cycle, verdict.cycle_number) {
        let _ = writeln!(
            text,
            "Recorded review-cycle-{number}: {}",
            relative(path, root)
        );
    }
    if !verdict.subtasks_reset.is_empty() {
        let _ = writeln!(
            text,
            "Reset subtasks to planned: {}",
            verdict.subtasks_reset.join(", ")
        );
    }
    render_commits(&mut text, &verdict.commits);
    let _ = writeln!(
        text,
        "Next:    missionctl implement {} --mission {} shows the feedback (fix mode)",
        verdict.wp_id, data.mission_slug
    );
    text
}
