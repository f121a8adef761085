//! `missionctl wp add <handle> <WP> --title T …`: a new work-package file.

use clap::Args;
use missionctl_core::work_package::ExecutionMode;
use missionctl_store::planning::work_package_add::{AddWorkPackage, add_work_package};

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
pub(crate) struct WpAddArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(value_name = "HANDLE")]
    handle: String,
    /// The work package id, such as `WP01`
    #[arg(value_name = "WP")]
    wp_id: String,
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
    let request = AddWorkPackage {
        wp_id: args.wp_id.clone(),
        title: args.title.clone(),
        dependencies: args.depends_on.clone(),
        subtasks: args.subtask.clone(),
        owned_files: args.owned_file.clone(),
        requirement_refs: args.requirement.clone(),
        execution_mode: args.execution_mode.map(|mode| match mode {
            ModeArg::CodeChange => ExecutionMode::CodeChange,
            ModeArg::PlanningArtifact => ExecutionMode::PlanningArtifact,
        }),
    };
    let repo = workspace::discover_repo()?;
    let added = add_work_package(
        &repo,
        &args.handle,
        &request,
        &workspace::protected_branches(&repo),
    )?;
    ui.emit(&added, || {
        format!(
            "Wrote {} ({})\nRun `missionctl tasks finalize {}` to check the plan, seed it and commit it on `{}`\n",
            added.repo_path, added.wp_id, added.mission_slug, added.planning_branch
        )
    })
}
