//! `missionctl implement <WP> --mission <handle>`: create or reuse the work package's lane
//! worktree, move it to `in_progress`, and say where to work.

use std::fmt::Write as _;

use clap::Args;
use missionctl_store::lane_worktree::{ImplementOutcome, WorktreeAction, implement};
use missionctl_store::status::SystemEventSource;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl implement`.
#[derive(Debug, Args)]
pub(crate) struct ImplementArgs {
    /// The work package, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, value_name = "HANDLE")]
    mission: String,
    /// Who implements it (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
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
    let repo = workspace::discover_repo()?;
    let outcome = implement(
        &repo,
        &args.mission,
        &args.wp_id,
        &actor,
        &workspace::protected_branches(),
        &mut SystemEventSource,
    )?;
    let root = repo.primary_root().to_path_buf();
    ui.emit(&outcome, || render(&outcome, &actor, &root))
}

fn render(outcome: &ImplementOutcome, actor: &str, root: &std::path::Path) -> String {
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
    let prompt = outcome
        .wp_file
        .strip_prefix(root)
        .unwrap_or(&outcome.wp_file);
    let _ = writeln!(text, "Prompt:  {}", prompt.display());
    let _ = writeln!(
        text,
        "Then:    missionctl subtask done {} {} <ID>…",
        outcome.mission_slug, outcome.wp_id
    );
    let _ = writeln!(
        text,
        "         missionctl move {} --to for_review --mission {}",
        outcome.wp_id, outcome.mission_slug
    );
    text
}
