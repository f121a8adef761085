//! `missionctl review …`: the review cycle of a work package — claim it (`start`, or the
//! shorthand `review <WP>`), record a verdict (`approve`, `reject`), and the two reasoned
//! recoveries that fabricate no review (`release`, `unblock`).

mod approve;
mod reject;
mod release;
mod start;
mod unblock;

use clap::{Args, Subcommand};

use crate::command_error::{CliError, ErrorKind, USAGE_ERROR};
use crate::ui::Ui;

/// Arguments of `missionctl review`: a subcommand, or a work package to claim.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    override_usage = "missionctl review <WP> --mission <MISSION> [--actor <ACTOR>]\n       missionctl review <COMMAND>",
    after_help = "Examples:\n  # Claim WP01 for review (same as `review start`)\n  missionctl review WP01 -m invoice-export --actor claude"
)]
pub(crate) struct ReviewArgs {
    #[command(subcommand)]
    command: Option<ReviewCommand>,
    /// The work package to claim for review (shorthand for `review start <WP>`)
    #[arg(value_name = "WP")]
    wp_id: Option<String>,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// Who reviews (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
}

/// The `review` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ReviewCommand {
    /// Approve a work package in review, recording Spec Kitty's review result
    Approve(approve::ApproveArgs),
    /// Send a work package back with the reviewer's feedback (a review-cycle file)
    Reject(reject::RejectArgs),
    /// Give up a stuck review: in_review back to for_review, with a reason
    Release(release::ReleaseArgs),
    /// Claim a work package for review and show its changes and its prompt
    Start(start::StartArgs),
    /// Unblock a work package without a fabricated review, with a reason
    Unblock(unblock::UnblockArgs),
}

/// Runs `missionctl review`.
pub(crate) fn cmd_review(ui: &mut Ui, args: &ReviewArgs) -> Result<(), CliError> {
    match &args.command {
        Some(ReviewCommand::Approve(args)) => approve::cmd_approve(ui, args),
        Some(ReviewCommand::Reject(args)) => reject::cmd_reject(ui, args),
        Some(ReviewCommand::Release(args)) => release::cmd_release(ui, args),
        Some(ReviewCommand::Start(args)) => start::cmd_start(ui, args),
        Some(ReviewCommand::Unblock(args)) => unblock::cmd_unblock(ui, args),
        None => {
            let (Some(wp_id), Some(mission)) = (&args.wp_id, &args.mission) else {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    USAGE_ERROR,
                    "`missionctl review` needs a work package and `--mission`, or a subcommand",
                )
                .with_hint(
                    "Run `missionctl review WP01 --mission <MISSION> --actor <you>`, or `missionctl review --help`"
                        .to_owned(),
                ));
            };
            start::run_start(ui, wp_id, mission, args.actor.as_deref())
        }
    }
}

/// Sorts a review error into the CLI's model, with a hint naming the command that helps.
pub(crate) fn review_error(
    error: missionctl_store::review::ReviewFlowError,
    mission: &str,
) -> CliError {
    CliError::user(error.code(), error.to_string())
        .with_hint(error.hint(mission))
        .with_sources_of(&error)
}

/// Returns the reviewer's shell (the parent process of missionctl): its pid and creation
/// time as Spec Kitty records them (`psutil`'s `create_time()`), for a review claim.
pub(crate) fn shell_identity() -> missionctl_store::status::ShellIdentity {
    let pid = std::os::unix::process::parent_id();
    missionctl_store::status::ShellIdentity {
        pid,
        created_at: process_created_at(pid),
    }
}

/// Returns a process's start time as `psutil` computes it on Linux — the boot time plus the
/// process's start in clock ticks (100 a second) — written as Python writes a float.
fn process_created_at(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields follow the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let start_ticks: f64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    let boot: f64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let created = start_ticks / 100.0 + boot;
    let mut text = String::new();
    missionctl_core::text::pyjson::write_float(&mut text, created);
    Some(text)
}

/// Returns a path relative to the repository root for display.
pub(crate) fn relative<'a>(
    path: &'a std::path::Path,
    root: &std::path::Path,
) -> std::path::Display<'a> {
    path.strip_prefix(root).unwrap_or(path).display()
}

/// Writes one `Committed <sha> on <branch>` line per commit.
pub(crate) fn render_commits(
    text: &mut String,
    commits: &[missionctl_store::status::CommitReceipt],
) {
    use std::fmt::Write as _;
    for receipt in commits {
        let _ = writeln!(
            text,
            "Committed {} on {}",
            crate::ui::short_sha(&receipt.commit_sha),
            receipt.destination_ref
        );
    }
}
