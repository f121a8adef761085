//! Snapshots of the help texts, so that every change to them shows up in review.

use crate::common::{TestEnv, TestResult};

#[test]
fn top_level_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["--help"]).success(), @"
    Run the execution state of Spec Kitty missions in a git repository

    Usage: missionctl [OPTIONS] <COMMAND>

    Commands:
      accept            Check a mission's acceptance and, when it passes, record it in meta.json
      acceptance        Manage a mission's acceptance matrix
      board             Show the kanban board of one mission or of every mission
      completions       Print the shell completion script (bash, zsh, fish, powershell or elvish)
      context           Show where a mission's state lives: its execution context and read and write surfaces
      dashboard         Serve the live web dashboard of the repository on 127.0.0.1
      demo              Build a throwaway git repository and show what missionctl does with it
      doctor            Report problems with missions, each with the command that fixes it
      events            Follow the event logs of missions as they grow
      history           Show a mission's transitions and notes in order
      implement         Create or reuse a work package's lane worktree and move it to in_progress
      init              Prepare a repository for missions
      map-requirements  Write the requirements a work package implements into its front matter and commit it
      merge             Merge a mission's lanes and land it on its target branch, then record it done
      merge-driver      Merge a mission's files for git (the drivers git runs) and register the drivers
      migrate           Upgrade the missions of a repository
      mission           Manage missions: create, list, show and flatten
      move              Move a work package to another lane
      next              Show a mission's next action, or report a step's result and take the next one
      ready             List the work packages that can start now: planned, every dependency done
      review            Review a work package: claim it, approve or reject it, release or unblock it
      run               Manage the mission runs behind `next`
      spec-commit       Commit a mission's planning files (spec.md, plan.md, …) on its planning branch
      status            Manage the status of a mission's work packages
      subtask           Manage the subtasks of a work package
      sync              Exchange the missions' status with a git remote: fetch, merge the event logs, push
      tasks             Manage a mission's work packages as one plan
      worktree          Manage lane and coordination worktrees
      wp                Manage a mission's work-package files
      help              Print this message or the help of the given subcommand(s)

    Options:
      -h, --help     Print help
      -V, --version  Print version

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Every mission's board, then one mission's, as JSON
      missionctl board
      missionctl board -m 042-invoice-export --json

      # Run in another repository, as with `git -C`
      missionctl -C ../shop next -m invoice-export

      # Move a work package and see why a move is refused
      missionctl move WP01 --to in_progress -m 042 --actor claude
    ");
    Ok(())
}

#[test]
fn status_reduce_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["status", "reduce", "--help"]).success(), @"
    Print the status.json Spec Kitty would write for a mission directory

    Usage: missionctl status reduce [OPTIONS] <MISSION_DIR>

    Arguments:
      <MISSION_DIR>  The mission directory to read, such as `kitty-specs/<mission>`; no repository is needed

    Options:
      -h, --help  Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Print the status.json Spec Kitty would write
      missionctl status reduce kitty-specs/042-invoice-export
    ");
    Ok(())
}

#[test]
fn spec_commit_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["spec-commit", "--help"]).success(), @r#"
    Commit a mission's planning files (spec.md, plan.md, …) on its planning branch

    Usage: missionctl spec-commit [OPTIONS] [FILE]...

    Arguments:
      [FILE]...  A planning file to commit, relative to the mission directory (default: whichever of spec.md, plan.md, research.md, data-model.md, tasks.md and checklists/ changed)

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number (without it, the first positional is the mission: the older form `spec-commit <MISSION> [FILE]...`)
          --message <MESSAGE>  The commit message (default: `chore: planning artifacts for <mission>`)
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Commit whichever planning files changed
      missionctl spec-commit -m invoice-export

      # Commit two files with a message
      missionctl spec-commit -m invoice-export spec.md plan.md --message "docs: plan the export"
    "#);
    Ok(())
}

#[test]
fn map_requirements_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["map-requirements", "--help"]).success(), @"
    Write the requirements a work package implements into its front matter and commit it

    Usage: missionctl map-requirements [OPTIONS] --wp <WP> --refs <REFS> [MISSION]

    Arguments:
      [MISSION]  The mission, as with `--mission` (the older positional form)

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number
          --wp <WP>            The work package, such as `WP01`
          --refs <REFS>        Requirement ids declared in spec.md, comma separated (can be repeated)
          --replace            Set the work package's refs to these instead of adding to them
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Record that WP01 implements two requirements
      missionctl map-requirements -m invoice-export --wp WP01 --refs FR-001,FR-002

      # Replace WP02's requirements
      missionctl map-requirements -m invoice-export --wp WP02 --refs FR-003 --replace
    ");
    Ok(())
}

#[test]
fn merge_driver_event_log_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["merge-driver", "event-log", "--help"]).success(), @"
    Merge three versions of an event log into OURS (git runs it as `%O %A %B`)

    Usage: missionctl merge-driver event-log [OPTIONS] <BASE> <OURS> <THEIRS>

    Arguments:
      <BASE>    The common ancestor's version (git's `%O`); a missing file is empty
      <OURS>    The current branch's version (git's `%A`), where the result goes
      <THEIRS>  The other branch's version (git's `%B`)

    Options:
      -h, --help  Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # What git runs (registered by `missionctl merge-driver install`)
      missionctl merge-driver event-log %O %A %B
    ");
    Ok(())
}

#[test]
fn demo_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["demo", "--help"]).success(), @"
    Build a throwaway git repository and show what missionctl does with it

    Usage: missionctl demo [OPTIONS]

    Options:
          --dir <DIR>  Build the repository in this directory, which must not exist or must be empty
      -h, --help       Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Build the demo repository in a temporary directory
      missionctl demo

      # Build it where you can look around afterwards
      missionctl demo --dir /tmp/missionctl-demo
    ");
    Ok(())
}

#[test]
fn next_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["next", "--help"]).success(), @"
    Show a mission's next action, or report a step's result and take the next one

    Usage: missionctl next [OPTIONS] --mission <MISSION>

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number
          --agent <AGENT>      The agent asking (default: `MISSIONCTL_ACTOR`); required with `--result`
          --result <RESULT>    Report the result of the step you were given and take the next one (writes the run) [possible values: success, failure, blocked]
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # What to do next on a mission (writes nothing)
      missionctl next -m invoice-export --agent claude

      # Report that the step succeeded and take the next one
      missionctl next -m invoice-export --agent claude --result success
    ");
    Ok(())
}

#[test]
fn run_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["run", "--help"]).success(), @"
    Manage the mission runs behind `next`

    Usage: missionctl run [OPTIONS] <COMMAND>

    Commands:
      list   List the repository's mission runs
      show   Show a run's state and events, by run id or by mission
      start  Start a mission's run, or return the one it has
      help   Print this message or the help of the given subcommand(s)

    Options:
      -h, --help  Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # List the runs, then show one mission's
      missionctl run list
      missionctl run show -m invoice-export
    ");
    Ok(())
}

#[test]
fn mission_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["mission", "--help"]).success(), @"
    Manage missions: create, list, show and flatten

    Usage: missionctl mission [OPTIONS] <COMMAND>

    Commands:
      create   Create a mission and commit it on the target branch
      flatten  Drop the coordination branch from a mission's shape
      list     List the missions of the repository
      show     Show one mission
      help     Print this message or the help of the given subcommand(s)

    Options:
      -h, --help  Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Create a mission, list the missions, show one
      missionctl mission create invoice-export
      missionctl mission list
      missionctl mission show -m invoice-export
    ");
    Ok(())
}

#[test]
fn mission_create_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["mission", "create", "--help"]).success(), @"
    Create a mission and commit it on the target branch

    Usage: missionctl mission create [OPTIONS] <SLUG>

    Arguments:
      <SLUG>  The mission's human slug, kebab-case, such as `invoice-export`

    Options:
          --topology <TOPOLOGY>     The mission's shape (default: `coord` on the primary branch or with `--pr-bound`, else `single_branch`) [possible values: single_branch, lanes, coord, lanes_with_coord]
          --target-branch <BRANCH>  The branch to commit the mission on and merge it into (default: the current branch)
          --friendly-name <NAME>    The display title (default: derived from the slug)
          --mission-type <TYPE>     The mission type (default: `software-dev`)
          --purpose-tldr <TEXT>     The mission's purpose in one line (default: the title)
          --purpose-context <TEXT>  The mission's purpose in a paragraph (default: a sentence naming the target branch)
          --pr-bound                Record the mission as bound to a pull request (`pr_bound: true`)
      -h, --help                    Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Create a mission on the current branch
      missionctl mission create invoice-export

      # Create a coordination mission that merges into `main`
      missionctl mission create invoice-export --topology coord --target-branch main
    ");
    Ok(())
}

#[test]
fn context_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["context", "--help"]).success(), @"
    Show where a mission's state lives: its execution context and read and write surfaces

    Usage: missionctl context [OPTIONS] --mission <MISSION>

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Where a mission's status is read and written
      missionctl context -m invoice-export

      # The same, for a script
      missionctl context -m 01KXKHVZ --json
    ");
    Ok(())
}

#[test]
fn migrate_backfill_topology_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["migrate", "backfill-topology", "--help"]).success(), @"
    Store the topology of every mission whose meta.json has none

    Usage: missionctl migrate backfill-topology [OPTIONS]

    Options:
          --dry-run            Report what would be written, and write nothing
      -m, --mission <MISSION>  Only the mission in this directory of `kitty-specs/` (its exact name)
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # See what would be written
      missionctl migrate backfill-topology --dry-run

      # Store the topology of one mission
      missionctl migrate backfill-topology -m 042-invoice-export
    ");
    Ok(())
}

#[test]
fn wp_add_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["wp", "add", "--help"]).success(), @r#"
    Write a new work-package file `tasks/WPxx-<slug>.md` on the planning surface

    Usage: missionctl wp add [OPTIONS] --title <TITLE> <WP>

    Arguments:
      <WP>  The work package id, such as `WP01`

    Options:
      -m, --mission <MISSION>      The mission: its ULID, mid8, directory name, slug or number (without it, the first positional is the mission: the older form `wp add <MISSION> <WP>`)
          --title <TITLE>          The work package's title
          --depends-on <WP>        A work package this one waits for (can be repeated)
          --subtask <ID>           A subtask id such as `T001` (can be repeated)
          --owned-file <GLOB>      A glob of files this work package may change, relative to the repository (can be repeated)
          --create-intent <PATH>   An owned file that does not exist yet and will be created by this work package (can be repeated)
          --requirement <REF>      A requirement it implements, such as `FR-001` (can be repeated)
          --execution-mode <MODE>  Where its changes land: `code_change` (a lane worktree, the default) or `planning_artifact` (the primary checkout) [possible values: code_change, planning_artifact]
      -h, --help                   Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Add a work package that waits for WP01
      missionctl wp add -m invoice-export WP02 --title "Export as CSV" --depends-on WP01 --subtask T003
    "#);
    Ok(())
}

#[test]
fn tasks_finalize_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["tasks", "finalize", "--help"]).success(), @"
    Check the work packages, seed new ones, compute lanes.json and commit the plan

    Usage: missionctl tasks finalize [OPTIONS] [MISSION]

    Arguments:
      [MISSION]  The mission, as with `--mission` (the older positional form)

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number
          --validate-only      Check and report what would be done; write nothing
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Check the plan and report what would be done
      missionctl tasks finalize -m invoice-export --validate-only

      # Seed the work packages, compute lanes.json and commit the plan
      missionctl tasks finalize -m invoice-export
    ");
    Ok(())
}

#[test]
fn implement_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["implement", "--help"]).success(), @"
    Create or reuse a work package's lane worktree and move it to in_progress

    Usage: missionctl implement [OPTIONS] --mission <MISSION> <WP>

    Arguments:
      <WP>  The work package, such as `WP01`

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number
          --actor <ACTOR>      Who implements it (default: `MISSIONCTL_ACTOR`)
          --base <REF>         Cut a new lane branch from this ref instead of the mission or coordination branch (refused for an existing lane or a lane with dependencies)
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Start WP01 in its lane worktree
      missionctl implement WP01 -m invoice-export --actor claude

      # Cut a new lane branch from another ref
      missionctl implement WP03 -m invoice-export --base release/2.0
    ");
    Ok(())
}

#[test]
fn review_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["review", "--help"]).success(), @"
    Review a work package: claim it, approve or reject it, release or unblock it

    Usage: missionctl review <WP> --mission <MISSION> [--actor <ACTOR>]
           missionctl review <COMMAND>

    Commands:
      approve  Approve a work package in review, recording Spec Kitty's review result
      reject   Send a work package back with the reviewer's feedback (a review-cycle file)
      release  Give up a stuck review: in_review back to for_review, with a reason
      start    Claim a work package for review and show its changes and its prompt
      unblock  Unblock a work package without a fabricated review, with a reason
      help     Print this message or the help of the given subcommand(s)

    Arguments:
      [WP]  The work package to claim for review (shorthand for `review start <WP>`)

    Options:
      -m, --mission <MISSION>  The mission: its ULID, mid8, directory name, slug or number
          --actor <ACTOR>      Who reviews (default: `MISSIONCTL_ACTOR`)
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Claim WP01 for review (same as `review start`)
      missionctl review WP01 -m invoice-export --actor claude
    ");
    Ok(())
}

#[test]
fn ready_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["ready", "--help"]).success(), @"
    List the work packages that can start now: planned, every dependency done

    Usage: missionctl ready [OPTIONS]

    Options:
      -m, --mission <MISSION>  Only this mission (default: every mission)
      -h, --help               Print help

    Global Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -C <DIR>    Run as if missionctl was started in DIR instead of the current directory (can be repeated: each one is relative to the previous, as with `git -C`)

    Examples:
      # Work packages that can start now, in every mission
      missionctl ready

      # In one mission, as JSON
      missionctl ready -m invoice-export --json
    ");
    Ok(())
}
