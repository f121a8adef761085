//! `missionctl move <WP> --to <lane> --mission <MISSION>`: one validated, committed transition.

use std::path::Path;

use clap::Args;
use missionctl_core::status::lane::Lane;
use missionctl_store::clock::SystemClock;
use missionctl_store::status::{CommitReceipt, TransitionRequest};
use missionctl_store::worktree::lane::check_review_commits;
use serde::Serialize;
use serde_json::Value;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl move`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Claim a work package and start it\n  missionctl move WP01 --to in_progress -m invoice-export --actor claude\n\n  # Send it to review, refusing if someone moved it meanwhile\n  missionctl move WP01 --to for_review -m invoice-export --expect-from in_progress\n\n  # Force a move past the rules, with a reason\n  missionctl move WP02 --to planned -m invoice-export --force --actor lead --reason \"re-plan\""
)]
pub(crate) struct MoveArgs {
    /// The work package to move, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The lane to move it to (`doing` is accepted for `in_progress`)
    #[arg(long = "to", value_name = "LANE")]
    to_lane: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Who makes the move (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// Why the move is made (required with `--force` and by some guards)
    #[arg(long, value_name = "REASON")]
    reason: Option<String>,
    /// Bypass the transition rules (needs `--actor` and `--reason`)
    #[arg(long)]
    force: bool,
    /// A reference to review feedback
    #[arg(long, value_name = "REF")]
    review_ref: Option<String>,
    /// A JSON file (or `-` for stdin, or inline JSON) with done evidence
    #[arg(long, value_name = "FILE")]
    evidence_json: Option<String>,
    /// A JSON file (or `-` for stdin, or inline JSON) with the structured review result
    #[arg(long, value_name = "FILE")]
    review_result_json: Option<String>,
    /// A note recorded with the move
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Refuse the move unless the work package is still in this lane
    #[arg(long, value_name = "LANE")]
    expect_from: Option<String>,
}

/// The `data` of `move --json`.
#[derive(Debug, Serialize)]
struct MoveData {
    mission_slug: String,
    wp_id: String,
    /// The persisted event (null for an alias no-op such as `--to doing` while in progress).
    event: Option<Value>,
    event_id: Option<String>,
    from_lane: Option<String>,
    to_lane: String,
    receipt: CommitReceipt,
    /// The lane workspace context file deleted because the lane is now all done or canceled.
    released_workspace: Option<std::path::PathBuf>,
}

/// Reads a JSON object given inline, from a file, or from stdin (`-`).
fn read_json_arg(flag: &str, value: &str) -> Result<Value, CliError> {
    let text = if value.trim_start().starts_with('{') {
        value.to_owned()
    } else if value == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|error| CliError::io("Cannot read stdin", &error))?
    } else {
        std::fs::read_to_string(Path::new(value)).map_err(|error| {
            CliError::user(
                "INVALID_JSON_ARGUMENT",
                format!("Cannot read `{value}` for {flag}: {error}"),
            )
            .with_hint(format!(
                "Pass {flag} a readable JSON file, `-` for stdin, or inline JSON"
            ))
        })?
    };
    serde_json::from_str(&text).map_err(|error| {
        CliError::user(
            "INVALID_JSON_ARGUMENT",
            format!("{flag} is not valid JSON: {error}"),
        )
        .with_hint(format!("Pass {flag} a JSON object"))
    })
}

/// Moves a work package and prints the event and the commit receipt.
pub(crate) fn cmd_move(ui: &mut Ui, args: &MoveArgs) -> Result<(), CliError> {
    // Resolve: everything the user typed is checked before the repository is touched.
    let evidence = args
        .evidence_json
        .as_deref()
        .map(|value| read_json_arg("--evidence-json", value))
        .transpose()?;
    let review_result = args
        .review_result_json
        .as_deref()
        .map(|value| read_json_arg("--review-result-json", value))
        .transpose()?;
    let expected_from = args
        .expect_from
        .as_deref()
        .map(Lane::from_input)
        .transpose()
        .map_err(|error| {
            CliError::user("UNKNOWN_LANE", error.to_string()).with_hint(format!(
                "Use one of: {}",
                Lane::DISPLAY.map(Lane::as_str).join(", ")
            ))
        })?
        .map(|(lane, _)| lane);
    let request = TransitionRequest {
        wp_id: args.wp_id.clone(),
        to_lane: args.to_lane.clone(),
        actor: workspace::actor(args.actor.as_deref()),
        reason: args.reason.clone(),
        force: args.force,
        review_ref: args.review_ref.clone(),
        evidence,
        review_result,
        note: args.note.clone(),
        expected_from,
        workspace_context: None,
    };
    let (repo, status) = workspace::load_status_for_writing(&args.mission)?;
    // Spec Kitty's CLI gate: a lane work package goes to review only with a commit of its own
    // on the lane branch, unless forced. Other moves to `for_review` are left to the state
    // machine, which refuses them with its own message.
    let to_review = Lane::from_input(&args.to_lane).is_ok_and(|(lane, _)| lane == Lane::ForReview);
    if to_review
        && !args.force
        && status
            .claim(&args.wp_id)
            .is_ok_and(|active| active.current_lane == Lane::InProgress)
    {
        check_review_commits(&repo, &status, &args.wp_id)?;
    }
    // Execute.
    let outcome = status.transition(&request, &SystemClock)?;
    let data = MoveData {
        mission_slug: status.mission_slug().to_owned(),
        wp_id: args.wp_id.clone(),
        event_id: outcome.event.as_ref().map(|event| event.event_id.clone()),
        from_lane: outcome
            .event
            .as_ref()
            .map(|event| event.from_lane.as_str().to_owned()),
        to_lane: outcome.event.as_ref().map_or_else(
            || args.to_lane.clone(),
            |event| event.to_lane.as_str().to_owned(),
        ),
        event: outcome.event.as_ref().map(|event| event.to_value()),
        receipt: outcome.receipt,
        released_workspace: outcome.released_workspace,
    };
    ui.emit(&data, || match &outcome.event {
        Some(event) => {
            let mut text = format!(
                "{} {} -> {} ({}), committed {} on {}\n",
                event.wp_id,
                event.from_lane,
                event.to_lane,
                event.event_id,
                crate::ui::short_sha(&data.receipt.commit_sha),
                data.receipt.destination_ref
            );
            if let Some(path) = &data.released_workspace {
                let shown = path.strip_prefix(repo.primary_root()).unwrap_or(path);
                text.push_str(&format!(
                    "Every work package of its lane is done or canceled: removed {}\n",
                    shown.display()
                ));
            }
            text
        }
        None => format!(
            "{} is already in {}; nothing to do\n",
            args.wp_id, args.to_lane
        ),
    })
}
