//! `missionctl docs`: documents generated from missionctl itself (hidden; for its own docs).

mod cli;

use clap::Subcommand;

use crate::command_error::CliError;
use crate::ui::Ui;

/// The `docs` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DocsCommand {
    /// Print the command-line reference, `docs/cli.md`, generated from the clap definitions
    #[command(
        after_help = "Examples:\n  # Refresh the checked-in reference\n  missionctl docs cli > docs/cli.md"
    )]
    Cli(cli::DocsCliArgs),
}

/// Runs a `docs` subcommand.
pub(crate) fn run_docs_command(ui: &mut Ui, command: &DocsCommand) -> Result<(), CliError> {
    match command {
        DocsCommand::Cli(args) => cli::cmd_docs_cli(ui, args),
    }
}
