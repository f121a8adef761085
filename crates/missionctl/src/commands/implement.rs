//! `missionctl implement <WP> --mission <MISSION> [--base <ref>]`: create or reuse the work
//! package's lane worktree, record the lane's workspace context, move it to `in_progress`, and
//! say where to work.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::clock::SystemClock;
use missionctl_store::worktree::lane::{
    ImplementOutcome, ImplementRequest, WorktreeAction, implement_with,
};

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl implement`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Start WP01 in its lane worktree\n  missionctl implement WP01 -m invoice-export --actor claude\n\n  # Cut a new lane branch from another ref\n  missionctl implement WP03 -m invoice-export --base release/2.0"
)]
pub(crate) struct ImplementArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// Who implements it (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// Cut a new lane branch from this ref instead of the mission or coordination branch
    /// (refused for an existing lane or a lane with dependencies)
    #[arg(long, value_name = "REF")]
    base: Option<String>,
}

/// Starts (or resumes) the implementation of a work package.
pub(crate) fn cmd_implement(ui: &mut Ui, args: &ImplementArgs) -> Result<(), CliError> {
    let actor = workspace::actor(args.actor.as_deref()).ok_or_else(|| {
        CliError::user(
            "ACTOR_REQUIRED",
            format!("Implementing {} needs an actor", args.wp_id),
        )
        .with_hint("Pass `--actor <name>` or set `MISSIONCTL_ACTOR`".to_owned())
    })?;
    let repo = workspace::discover_repo_for_writing()?;
    let protected = workspace::protected_branches(&repo);
    let request = ImplementRequest {
        handle: &args.mission,
        wp_id: &args.wp_id,
        actor: &actor,
        base: args.base.as_deref(),
        protected_branches: &protected,
    };
    let outcome = implement_with(&repo, &request, &SystemClock)?;
    for warning in &outcome.warnings {
        ui.warn(warning);
    }
    let root = repo.primary_root().to_path_buf();
    ui.emit(&outcome, || render(&outcome, &actor, &root))
}

fn render<'a>(outcome: &'a ImplementOutcome, actor: &str, root: &std::path::Path) -> String {
    let mut text = String::new();
    if outcome.event_ids.is_empty() {
        let _ = writeln!(text, "{} is already in progress for {actor}", outcome.wp_id);
    } else if outcome.from_lane == "planned" {
        let _ = writeln!(
            text,
            "{} planned -> claimed -> in_progress for {actor}",
            outcome.wp_id
        );
    } else {
        let _ = writeln!(
            text,
            "{} {} -> in_progress for {actor}",
            outcome.wp_id, outcome.from_lane
        );
    }
    let how = match outcome.worktree {
        WorktreeAction::None => "the primary checkout".to_owned(),
        WorktreeAction::Reused => "lane worktree, reused".to_owned(),
        WorktreeAction::Restored => "lane worktree, checked out again from its branch".to_owned(),
        WorktreeAction::Created => match &outcome.base {
            Some(base) => format!("new lane worktree from `{base}`"),
            None => "new lane worktree".to_owned(),
        },
    };
    let lane = outcome
        .lane_id
        .as_deref()
        .map(|lane| format!("{lane}, "))
        .unwrap_or_default();
    let _ = writeln!(text, "Work in: {}", outcome.workspace.display());
    let _ = writeln!(text, "         ({lane}branch `{}`; {how})", outcome.branch);
    for merged in &outcome.merged {
        let _ = writeln!(text, "         merged {merged}");
    }
    let relative = |path: &'a std::path::Path| path.strip_prefix(root).unwrap_or(path);
    if let Some(context) = &outcome.context_file {
        let _ = writeln!(text, "Context: {}", relative(context).display());
    }
    for (variable, value) in outcome.lane_test_env.iter().flatten() {
        let _ = writeln!(text, "Env:     {variable}={value}");
    }
    let _ = writeln!(text, "Prompt:  {}", relative(&outcome.wp_file).display());
    if let Some(fix) = &outcome.fix_mode {
        match &fix.feedback {
            Some(feedback) => {
                let _ = writeln!(
                    text,
                    "Fix mode: review-cycle-{} asked for changes ({}, by {})",
                    feedback.cycle_number,
                    relative(&feedback.path).display(),
                    feedback.reviewer
                );
                for line in feedback.body.lines() {
                    let _ = writeln!(text, "  | {line}");
                }
            }
            None => {
                let _ = writeln!(
                    text,
                    "Fix mode: the last review's feedback `{}` cannot be read",
                    fix.review_ref
                );
            }
        }
    }
    let _ = writeln!(
        text,
        "Then:    missionctl subtask done --mission {} {} <ID>…",
        outcome.mission_slug, outcome.wp_id
    );
    let _ = writeln!(
        text,
        "         missionctl move {} --to for_review --mission {}",
        outcome.wp_id, outcome.mission_slug
    );
    text
}
