//! The command-line reference, `docs/cli.md`, generated from the clap definitions (printed by
//! the hidden `missionctl docs cli`; a test fails when the checked-in file is stale).

use std::fmt::Write as _;

use clap::CommandFactory;

use crate::cli::Cli;

/// Returns the Markdown reference of every visible command: an index, then each command's
/// `--help` text as `missionctl <command> --help` prints it.
pub(crate) fn cli_reference() -> String {
    let commands = every_command(false);
    let mut text = String::from(
        "# Command-line reference\n\n\
         <!-- Generated from the clap definitions by `missionctl docs cli > docs/cli.md`; do not \
         edit by hand. A test fails when this file is stale. -->\n\n\
         Every command takes `--json` (exactly one JSON document on stdout, on success and on \
         every error) and `-C <DIR>` (run as if started in `DIR`, as with `git -C`). A mission \
         is named by `--mission <MISSION>` (`-m`): its ULID, mid8, directory name, slug or \
         number. Exit codes: 0 success, 1 error, 2 usage error, 255 a bug in missionctl.\n\n",
    );
    for (name, command) in &commands {
        let about = command
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        let _ = writeln!(text, "- [`{name}`](#{}): {about}", anchor(name));
    }
    for (name, command) in &commands {
        let help = command.clone().render_long_help().to_string();
        let _ = write!(text, "\n## `{name}`\n\n```text\n{}\n```\n", help.trim_end());
    }
    text
}

/// Returns every command of the built tree with its full name (`missionctl wp add`), depth
/// first, without clap's `help` and, unless asked, without hidden commands.
pub(crate) fn every_command(include_hidden: bool) -> Vec<(String, clap::Command)> {
    let mut root = Cli::command();
    root.build();
    let mut out = Vec::new();
    collect(&root, "missionctl", include_hidden, &mut out);
    out
}

fn collect(
    command: &clap::Command,
    name: &str,
    include_hidden: bool,
    out: &mut Vec<(String, clap::Command)>,
) {
    out.push((name.to_owned(), command.clone()));
    for sub in command.get_subcommands() {
        if (sub.is_hide_set() && !include_hidden) || sub.get_name() == "help" {
            continue;
        }
        collect(
            sub,
            &format!("{name} {}", sub.get_name()),
            include_hidden,
            out,
        );
    }
}

/// Returns the anchor GitHub gives the heading `` `name` ``.
fn anchor(name: &str) -> String {
    name.replace(' ', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_cli_md_is_generated_from_the_clap_definitions() {
        let checked_in = include_str!("../../../docs/cli.md");
        let generated = cli_reference();
        if checked_in != generated {
            let first = checked_in
                .lines()
                .zip(generated.lines())
                .position(|(old, new)| old != new)
                .map_or_else(
                    || "at the end".to_owned(),
                    |line| format!("at line {}", line + 1),
                );
            panic!(
                "docs/cli.md is stale ({first}): regenerate it with \
                 `cargo run -p missionctl -- docs cli > docs/cli.md`"
            );
        }
    }

    #[test]
    fn the_reference_lists_every_visible_command() {
        let text = cli_reference();
        for name in [
            "`missionctl board`",
            "`missionctl wp add`",
            "`missionctl completions`",
        ] {
            assert!(text.contains(&format!("## {name}")), "{name} is missing");
        }
        assert!(
            !text.contains("## `missionctl docs"),
            "hidden commands stay out"
        );
    }
}
