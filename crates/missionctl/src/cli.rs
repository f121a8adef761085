//! The top of the argument tree: the global flags, the subcommand and the argument shapes
//! every command shares (the *parse* stage).
//!
//! One command-line shape, as git and jj users expect: a mission is named by `--mission`
//! (`-m`) on every command that takes one, `-C <DIR>` runs in another directory, and every
//! command's `--help` ends with examples (a test walks the tree to keep it so).

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser};

use crate::command_error::CliError;
use crate::commands::Command;

/// The examples of `missionctl --help`.
const EXAMPLES: &str = "\
Examples:
  # Every mission's board, then one mission's, as JSON
  missionctl board
  missionctl board -m 042-invoice-export --json

  # Run in another repository, as with `git -C`
  missionctl -C ../shop next -m invoice-export

  # Move a work package and see why a move is refused
  missionctl move WP01 --to in_progress -m 042 --actor claude";

/// The heading of the flags every command takes, in every `--help`.
const GLOBAL_OPTIONS: &str = "Global Options";

/// Run the execution state of Spec Kitty missions in a git repository.
#[derive(Debug, Parser)]
#[command(
    name = "missionctl",
    version,
    about = "Run the execution state of Spec Kitty missions in a git repository",
    subcommand_required = true,
    arg_required_else_help = true,
    after_help = EXAMPLES
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
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS)]
    pub(crate) json: bool,
    /// Run as if missionctl was started in DIR instead of the current directory (can be
    /// repeated: each one is relative to the previous, as with `git -C`)
    #[arg(
        short = 'C',
        value_name = "DIR",
        global = true,
        action = ArgAction::Append,
        help_heading = GLOBAL_OPTIONS
    )]
    pub(crate) directory: Vec<PathBuf>,
}

/// A mission named by `--mission`, or by the older positional form the command keeps.
///
/// The positional comes first in the command's argument list; exactly one of the two is given
/// (clap enforces it, so a conflict or an absence is a usage error, exit 2).
#[derive(Debug, Args)]
pub(crate) struct MissionOrPositional {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(
        long = "mission",
        short = 'm',
        value_name = "MISSION",
        required_unless_present = "mission_positional"
    )]
    mission: Option<String>,
    /// The mission, as with `--mission` (the older positional form)
    #[arg(
        id = "mission_positional",
        value_name = "MISSION",
        conflicts_with = "mission"
    )]
    positional: Option<String>,
}

impl MissionOrPositional {
    /// Returns the mission handle, from whichever form was given.
    pub(crate) fn handle(&self) -> Result<&str, CliError> {
        self.mission
            .as_deref()
            .or(self.positional.as_deref())
            .ok_or_else(missing_mission)
    }
}

/// Returns the usage error for a command run without its mission.
pub(crate) fn missing_mission() -> CliError {
    CliError::usage("The mission is required").with_hint(
        "Name it with `--mission <MISSION>` (`-m`): its ULID, mid8, directory name, slug or \
         number"
            .to_owned(),
    )
}

/// Splits a command's positionals into the mission and the rest, for a command whose older
/// form put the mission first (`wp add <MISSION> <WP>`): with `--mission`, every positional is
/// the rest; without, the first one is the mission.
pub(crate) fn mission_and_rest<'a>(
    mission: Option<&'a str>,
    positionals: &'a [String],
) -> Result<(&'a str, &'a [String]), CliError> {
    match (mission, positionals.split_first()) {
        (Some(mission), _) => Ok((mission, positionals)),
        (None, Some((first, rest))) => Ok((first.as_str(), rest)),
        (None, None) => Err(missing_mission()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every command, hidden ones included: they need examples too.
    fn every_command() -> Vec<(String, clap::Command)> {
        crate::cli_reference::every_command(true)
    }

    #[test]
    fn the_argument_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example_in_its_help() {
        let lacking: Vec<String> = every_command()
            .into_iter()
            .filter(|(_, command)| {
                let after = command
                    .get_after_help()
                    .or(command.get_after_long_help())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                !(after.contains("Examples:") && after.contains("missionctl "))
            })
            .map(|(name, _)| name)
            .collect();
        assert!(
            lacking.is_empty(),
            "these commands have no `Examples:` with a `missionctl …` line in their help \
             (add `#[command(after_help = …)]`): {lacking:?}"
        );
    }

    #[test]
    fn a_mission_is_always_named_by_dash_dash_mission_or_dash_m() {
        let mut wrong = Vec::new();
        for (name, command) in every_command() {
            for arg in command.get_arguments() {
                let names_mission = arg.get_long() == Some("mission")
                    || arg
                        .get_value_names()
                        .is_some_and(|names| names.iter().any(|value| value == "MISSION"));
                if arg.get_value_names().is_some_and(|names| {
                    names
                        .iter()
                        .any(|value| value == "HANDLE" || value == "DIR_NAME")
                }) {
                    wrong.push(format!("{name}: `{}` is not named MISSION", arg.get_id()));
                }
                if !names_mission {
                    continue;
                }
                if arg.is_positional() {
                    let has_flag = command
                        .get_arguments()
                        .any(|other| other.get_long() == Some("mission"));
                    if !has_flag {
                        wrong.push(format!("{name}: a positional mission without `--mission`"));
                    }
                } else if arg.get_long() != Some("mission") || arg.get_short() != Some('m') {
                    wrong.push(format!(
                        "{name}: `{}` is not `--mission`/`-m`",
                        arg.get_id()
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn the_first_positional_is_the_mission_only_without_dash_dash_mission() {
        let list = ["WP01".to_owned(), "T001".to_owned()];
        assert_eq!(
            mission_and_rest(Some("042"), &list).ok(),
            Some(("042", &list[..]))
        );
        assert_eq!(
            mission_and_rest(None, &list).ok(),
            Some(("WP01", &list[1..]))
        );
        assert!(mission_and_rest(None, &[]).is_err());
    }
}
