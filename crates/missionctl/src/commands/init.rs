//! `missionctl init`: prepares a repository for missions (creates `kitty-specs/`); running it
//! again changes nothing.

use clap::Args;
use serde::Serialize;

use missionctl_store::repo::init::init_repository;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl init`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Prepare the repository around the current directory\n  missionctl init\n\n  # Prepare another one\n  missionctl -C ~/src/shop init"
)]
pub(crate) struct InitArgs {}

/// The `data` of `init --json`.
#[derive(Debug, Serialize)]
struct InitData {
    /// The primary checkout's root: `primary_root`, as in `context` and `dashboard`.
    primary_root: String,
    kitty_specs: String,
    created: bool,
}

/// Creates `kitty-specs/` at the primary checkout's root if it is missing.
pub(crate) fn cmd_init(ui: &mut Ui, _args: &InitArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let dir = repo.kitty_specs_dir();
    let created = init_repository(&repo)?;
    let data = InitData {
        primary_root: repo.primary_root().display().to_string(),
        kitty_specs: dir.display().to_string(),
        created,
    };
    ui.emit(&data, || {
        if data.created {
            format!("Created {}\n", data.kitty_specs)
        } else {
            format!("{} already exists; nothing to do\n", data.kitty_specs)
        }
    })
}
