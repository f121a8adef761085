//! `missionctl merge-driver install`: registers the merge drivers in the repository around the
//! current directory (`.gitattributes` lines and the repository's git configuration).

use clap::Args;
use missionctl_store::git::merge_driver::install_merge_drivers;
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// The command git runs for the drivers: `missionctl`, found on `PATH` when git merges.
const PROGRAM: &str = "missionctl";

/// Arguments of `missionctl merge-driver install`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Register the merge drivers in this repository\n  missionctl merge-driver install"
)]
pub(crate) struct InstallArgs {}

/// One git configuration entry.
#[derive(Debug, Serialize)]
struct ConfigEntry {
    key: String,
    value: String,
}

/// The `data` of `merge-driver install --json`.
#[derive(Debug, Serialize)]
struct InstallData {
    /// The `.gitattributes` file.
    gitattributes: String,
    /// The lines added to it.
    attributes_added: Vec<String>,
    /// The configuration entries set.
    config_set: Vec<ConfigEntry>,
    /// The entries that already had a value, left as they were.
    config_kept: Vec<ConfigEntry>,
}

fn entries(pairs: Vec<(String, String)>) -> Vec<ConfigEntry> {
    pairs
        .into_iter()
        .map(|(key, value)| ConfigEntry { key, value })
        .collect()
}

/// Adds what is missing; running it again changes nothing.
pub(crate) fn cmd_merge_driver_install(ui: &mut Ui, _args: &InstallArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let root = repo.linked_worktree().unwrap_or(repo.primary_root());
    let report = install_merge_drivers(&repo, root, PROGRAM)?;
    let data = InstallData {
        gitattributes: report.gitattributes.display().to_string(),
        attributes_added: report.attributes_added,
        config_set: entries(report.config_set),
        config_kept: entries(report.config_kept),
    };
    ui.emit(&data, || {
        let mut text = String::new();
        for line in &data.attributes_added {
            text.push_str(&format!("added to {}: {line}\n", data.gitattributes));
        }
        for entry in &data.config_set {
            text.push_str(&format!("set {} = {}\n", entry.key, entry.value));
        }
        for entry in &data.config_kept {
            text.push_str(&format!("kept {} = {}\n", entry.key, entry.value));
        }
        if data.attributes_added.is_empty() && data.config_set.is_empty() {
            text.push_str("The merge drivers are already installed; nothing to do\n");
        } else if !data.attributes_added.is_empty() {
            text.push_str("Commit .gitattributes so every clone merges the logs the same way\n");
        }
        text
    })
}
