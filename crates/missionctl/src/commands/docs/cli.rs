//! `missionctl docs cli`: prints `docs/cli.md`.

use clap::Args;
use serde::Serialize;

use crate::cli_reference::cli_reference;
use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl docs cli`.
#[derive(Debug, Args)]
pub(crate) struct DocsCliArgs {}

/// The `data` of `docs cli --json`.
#[derive(Debug, Serialize)]
struct DocsCliData {
    /// The Markdown text.
    markdown: String,
}

/// Prints the command-line reference as Markdown.
pub(crate) fn cmd_docs_cli(ui: &mut Ui, _args: &DocsCliArgs) -> Result<(), CliError> {
    let data = DocsCliData {
        markdown: cli_reference(),
    };
    ui.emit(&data, || data.markdown.clone())
}
