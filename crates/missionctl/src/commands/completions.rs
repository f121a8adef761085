//! `missionctl completions <SHELL>`: the shell completion script, generated from the clap
//! definitions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use serde::Serialize;

use crate::cli::Cli;
use crate::command_error::CliError;
use crate::ui::Ui;

/// Arguments of `missionctl completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Bash: load them in every new shell\n  echo 'source <(missionctl completions bash)' >> ~/.bashrc\n\n  # Zsh: write them where `compinit` finds them\n  missionctl completions zsh > \"${fpath[1]}/_missionctl\"\n\n  # Fish\n  missionctl completions fish > ~/.config/fish/completions/missionctl.fish\n\n  # PowerShell\n  missionctl completions powershell | Out-String | Invoke-Expression"
)]
pub(crate) struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

/// The `data` of `completions --json`.
#[derive(Debug, Serialize)]
struct CompletionsData {
    /// The shell, as named on the command line.
    shell: String,
    /// The completion script.
    script: String,
}

/// Prints the completion script of `missionctl` for one shell.
pub(crate) fn cmd_completions(ui: &mut Ui, args: &CompletionsArgs) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "missionctl", &mut script);
    let data = CompletionsData {
        shell: args.shell.to_string(),
        script: String::from_utf8_lossy(&script).into_owned(),
    };
    ui.emit(&data, || data.script.clone())
}
