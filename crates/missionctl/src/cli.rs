//! The top of the argument tree: the global flags and the subcommand (the *parse* stage).

use clap::{Args, Parser};

use crate::commands::Command;

/// Run the execution state of Spec Kitty missions in a git repository.
#[derive(Debug, Parser)]
#[command(
    name = "missionctl",
    version,
    about = "Run the execution state of Spec Kitty missions in a git repository",
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes, before or after the subcommand.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Print exactly one JSON document on stdout, on success and on every error
    #[arg(long, global = true)]
    pub(crate) json: bool,
}
