//! `missionctl wp add --mission <MISSION> <WP> --title T …`: a new work-package file.

use clap::Args;
use missionctl_core::planning::work_package::ExecutionMode;
use missionctl_store::planning::work_package_add::{AddWorkPackage, add_work_package};

use crate::cli::mission_and_rest;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// The execution modes `--execution-mode` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModeArg {
    // Code, worked on in a lane worktree.
    #[value(name = "code_change")]
    CodeChange,
    // Planning artifacts, worked on in the primary checkout.
    #[value(name = "planning_artifact")]
    PlanningArtifact,
}

/// Arguments of `missionctl wp add`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Add a work package that waits for WP01\n  missionctl wp add -m invoice-export WP02 --title \"Export as CSV\" --depends-on WP01 --subtask T003"
)]
pub(crate) struct WpAddArgs {
    /// The mission: its ULID, mid8, directory name, slug or number (without it, the first
    /// positional is the mission: the older form `wp add <MISSION> <WP>`)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
    /// The work package id, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
    /// The work package id when the mission came first (the older form)
    #[arg(value_name = "WP", hide = true)]
    older_form_wp_id: Option<String>,
    /// The work package's title
    #[arg(long, value_name = "TITLE")]
    title: String,
    /// A work package this one waits for (can be repeated)
    #[arg(long = "depends-on", value_name = "WP")]
    depends_on: Vec<String>,
    /// A subtask id such as `T001` (can be repeated)
    #[arg(long = "subtask", value_name = "ID")]
    subtask: Vec<String>,
    /// A glob of files this work package may change, relative to the repository (can be repeated)
    #[arg(long = "owned-file", value_name = "GLOB")]
    owned_file: Vec<String>,
    /// An owned file that does not exist yet and will be created by this work package (can be
    /// repeated)
    #[arg(long = "create-intent", value_name = "PATH")]
    create_intent: Vec<String>,
    /// A requirement it implements, such as `FR-001` (can be repeated)
    #[arg(long = "requirement", value_name = "REF")]
    requirement: Vec<String>,
    /// Where its changes land: `code_change` (a lane worktree, the default) or
    /// `planning_artifact` (the primary checkout)
    #[arg(long, value_name = "MODE")]
    execution_mode: Option<ModeArg>,
}

/// Writes the new work-package file.
pub(crate) fn cmd_wp_add(ui: &mut Ui, args: &WpAddArgs) -> Result<(), CliError> {
    let positionals: Vec<String> = std::iter::once(args.wp_id.clone())
        .chain(args.older_form_wp_id.clone())
        .collect();
    let (handle, wp_id) = match mission_and_rest(args.mission.as_deref(), &positionals)? {
        (handle, [wp_id]) => (handle, wp_id),
        (_, []) => {
            return Err(
                CliError::usage("The work package id is required").with_hint(
                    "Usage: `missionctl wp add --mission <MISSION> <WP> --title <TITLE>`"
                        .to_owned(),
                ),
            );
        }
        (_, _) => {
            return Err(CliError::usage(
                "The mission is given twice: by `--mission` and before the work package",
            )
            .with_hint(
                "Usage: `missionctl wp add --mission <MISSION> <WP> --title <TITLE>`".to_owned(),
            ));
        }
    };
    let request = AddWorkPackage {
        wp_id: wp_id.clone(),
        title: args.title.clone(),
        dependencies: args.depends_on.clone(),
        subtasks: args.subtask.clone(),
        owned_files: args.owned_file.clone(),
        create_intent: args.create_intent.clone(),
        requirement_refs: args.requirement.clone(),
        execution_mode: args.execution_mode.map(|mode| match mode {
            ModeArg::CodeChange => ExecutionMode::CodeChange,
            ModeArg::PlanningArtifact => ExecutionMode::PlanningArtifact,
        }),
    };
    let repo = workspace::discover_repo_for_writing()?;
    let added = add_work_package(
        &repo,
        handle,
        &request,
        &workspace::protected_branches(&repo),
    )?;
    ui.emit(&added, || {
        format!(
            "Wrote {} ({})\nRun `missionctl tasks finalize --mission {}` to check the plan, seed it and commit it on `{}`\n",
            added.repo_path, added.wp_id, added.mission_slug, added.planning_branch
        )
    })
}
