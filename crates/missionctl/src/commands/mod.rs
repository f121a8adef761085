//! The subcommands, one file each; this module holds only the enum and the dispatch.

mod accept;
mod acceptance;
mod board;
mod completions;
mod context;
mod dashboard;
mod demo;
mod demo_sync;
mod docs;
mod doctor;
mod events;
mod history;
mod implement;
mod init;
mod map_requirements;
mod merge;
mod merge_driver;
mod migrate;
mod mission;
mod move_wp;
mod next;
mod ready;
mod review;
mod run;
mod spec_commit;
mod status;
mod subtask;
mod sync;
mod tasks;
mod worktree;
mod wp;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a mission's acceptance and, when it passes, record it in meta.json
    Accept(accept::AcceptArgs),
    /// Manage a mission's acceptance matrix
    #[command(
        subcommand,
        after_help = "Examples:\n  # Record that a criterion is met\n  missionctl acceptance verdict -m invoice-export --criterion FR-001 --result pass"
    )]
    Acceptance(acceptance::AcceptanceCommand),
    /// Show the kanban board of one mission or of every mission
    Board(board::BoardArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell or elvish)
    Completions(completions::CompletionsArgs),
    /// Show where a mission's state lives: its execution context and read and write surfaces
    Context(context::ContextArgs),
    /// Serve the live web dashboard of the repository on 127.0.0.1
    Dashboard(dashboard::DashboardArgs),
    /// Build a throwaway git repository and show what missionctl does with it
    Demo(demo::DemoArgs),
    /// Print documents generated from missionctl itself
    #[command(
        subcommand,
        hide = true,
        after_help = "Examples:\n  # The command-line reference\n  missionctl docs cli"
    )]
    Docs(docs::DocsCommand),
    /// Report problems with missions, each with the command that fixes it
    Doctor(doctor::DoctorArgs),
    /// Follow the event logs of missions as they grow
    #[command(
        subcommand,
        after_help = "Examples:\n  # Follow every mission's log as it grows\n  missionctl events tail"
    )]
    Events(events::EventsCommand),
    /// Show a mission's transitions and notes in order
    History(history::HistoryArgs),
    /// Create or reuse a work package's lane worktree and move it to in_progress
    Implement(implement::ImplementArgs),
    /// Prepare a repository for missions
    Init(init::InitArgs),
    /// Write the requirements a work package implements into its front matter and commit it
    MapRequirements(map_requirements::MapRequirementsArgs),
    /// Merge a mission's lanes and land it on its target branch, then record it done
    Merge(merge::MergeArgs),
    /// Merge a mission's files for git (the drivers git runs) and register the drivers
    #[command(
        subcommand,
        after_help = "Examples:\n  # Register the drivers git runs on a mission's files\n  missionctl merge-driver install"
    )]
    MergeDriver(merge_driver::MergeDriverCommand),
    /// Upgrade the missions of a repository
    #[command(
        subcommand,
        after_help = "Examples:\n  # See which missions would get a stored topology\n  missionctl migrate backfill-topology --dry-run"
    )]
    Migrate(migrate::MigrateCommand),
    /// Manage missions: create, list, show and flatten
    #[command(
        subcommand,
        after_help = "Examples:\n  # Create a mission, list the missions, show one\n  missionctl mission create invoice-export\n  missionctl mission list\n  missionctl mission show -m invoice-export"
    )]
    Mission(mission::MissionCommand),
    /// Move a work package to another lane
    Move(move_wp::MoveArgs),
    /// Show a mission's next action, or report a step's result and take the next one
    Next(next::NextArgs),
    /// List the work packages that can start now: planned, every dependency done
    Ready(ready::ReadyArgs),
    /// Review a work package: claim it, approve or reject it, release or unblock it
    Review(review::ReviewArgs),
    /// Manage the mission runs behind `next`
    #[command(
        subcommand,
        after_help = "Examples:\n  # List the runs, then show one mission's\n  missionctl run list\n  missionctl run show -m invoice-export"
    )]
    Run(run::RunCommand),
    /// Commit a mission's planning files (spec.md, plan.md, …) on its planning branch
    SpecCommit(spec_commit::SpecCommitArgs),
    /// Manage the status of a mission's work packages
    #[command(
        subcommand,
        after_help = "Examples:\n  # Check a mission's log, then rewrite its status.json\n  missionctl status validate -m invoice-export\n  missionctl status materialize -m invoice-export"
    )]
    Status(status::StatusCommand),
    /// Manage the subtasks of a work package
    #[command(
        subcommand,
        after_help = "Examples:\n  # Record a subtask as done\n  missionctl subtask done -m invoice-export WP01 T001"
    )]
    Subtask(subtask::SubtaskCommand),
    /// Exchange the missions' status with a git remote: fetch, merge the event logs, push
    Sync(sync::SyncArgs),
    /// Manage a mission's work packages as one plan
    #[command(
        subcommand,
        after_help = "Examples:\n  # Check a mission's plan without writing\n  missionctl tasks finalize -m invoice-export --validate-only"
    )]
    Tasks(tasks::TasksCommand),
    /// Manage lane and coordination worktrees
    #[command(
        subcommand,
        after_help = "Examples:\n  # Rebuild missing worktrees\n  missionctl worktree repair"
    )]
    Worktree(worktree::WorktreeCommand),
    /// Manage a mission's work-package files
    #[command(
        subcommand,
        after_help = "Examples:\n  # Add a work package, then list them\n  missionctl wp add -m invoice-export WP01 --title \"Read invoices\"\n  missionctl wp list -m invoice-export"
    )]
    Wp(wp::WpCommand),
}

/// Runs a parsed command.
pub(crate) fn run_command(ui: &mut Ui, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Accept(args) => accept::cmd_accept(ui, args),
        Command::Acceptance(command) => acceptance::run_acceptance_command(ui, command),
        Command::Board(args) => board::cmd_board(ui, args),
        Command::Completions(args) => completions::cmd_completions(ui, args),
        Command::Context(args) => context::cmd_context(ui, args),
        Command::Dashboard(args) => dashboard::cmd_dashboard(ui, args),
        Command::Demo(args) => demo::cmd_demo(ui, args),
        Command::Docs(command) => docs::run_docs_command(ui, command),
        Command::Doctor(args) => doctor::cmd_doctor(ui, args),
        Command::Events(command) => events::run_events_command(ui, command),
        Command::History(args) => history::cmd_history(ui, args),
        Command::Implement(args) => implement::cmd_implement(ui, args),
        Command::Init(args) => init::cmd_init(ui, args),
        Command::MapRequirements(args) => map_requirements::cmd_map_requirements(ui, args),
        Command::Merge(args) => merge::cmd_merge(ui, args),
        Command::MergeDriver(command) => merge_driver::run_merge_driver_command(ui, command),
        Command::Migrate(command) => migrate::run_migrate_command(ui, command),
        Command::Mission(command) => mission::run_mission_command(ui, command),
        Command::Move(args) => move_wp::cmd_move(ui, args),
        Command::Next(args) => next::cmd_next(ui, args),
        Command::Ready(args) => ready::cmd_ready(ui, args),
        Command::Review(args) => review::cmd_review(ui, args),
        Command::Run(command) => run::run_run_command(ui, command),
        Command::SpecCommit(args) => spec_commit::cmd_spec_commit(ui, args),
        Command::Status(command) => status::run_status_command(ui, command),
        Command::Subtask(command) => subtask::run_subtask_command(ui, command),
        Command::Sync(args) => sync::cmd_sync(ui, args),
        Command::Tasks(command) => tasks::run_tasks_command(ui, command),
        Command::Worktree(command) => worktree::run_worktree_command(ui, command),
        Command::Wp(command) => wp::run_wp_command(ui, command),
    }
}
