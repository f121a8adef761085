//! Snapshots of the help texts, so that every change to them shows up in review.

use crate::common::{TestEnv, TestResult};

#[test]
fn top_level_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["--help"]).success(), @r"
    Run the execution state of Spec Kitty missions in a git repository

    Usage: missionctl [OPTIONS] <COMMAND>

    Commands:
      board             Show the kanban board of one mission or of every mission
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
      run               Manage the mission runs behind `next`
      spec-commit       Commit a mission's planning files (spec.md, plan.md, …) on its planning branch
      status            Manage the status of a mission's work packages
      subtask           Manage the subtasks of a work package
      tasks             Manage a mission's work packages as one plan
      worktree          Manage lane and coordination worktrees
      wp                Manage a mission's work-package files
      help              Print this message or the help of the given subcommand(s)

    Options:
          --json     Print exactly one JSON document on stdout, on success and on every error
      -h, --help     Print help
      -V, --version  Print version
    ");
    Ok(())
}

#[test]
fn status_reduce_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["status", "reduce", "--help"]).success(), @r"
    Print the status.json Spec Kitty would write for a mission directory

    Usage: missionctl status reduce [OPTIONS] <MISSION_DIR>

    Arguments:
      <MISSION_DIR>  The mission directory to read, such as `kitty-specs/<mission>`; no repository is needed

    Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -h, --help  Print help
    ");
    Ok(())
}

#[test]
fn spec_commit_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["spec-commit", "--help"]).success(), @r"
    Commit a mission's planning files (spec.md, plan.md, …) on its planning branch

    Usage: missionctl spec-commit [OPTIONS] <HANDLE> [FILE]...

    Arguments:
      <HANDLE>   The mission: its ULID, mid8, directory name, slug or number
      [FILE]...  A planning file to commit, relative to the mission directory (default: whichever of spec.md, plan.md, research.md, data-model.md, tasks.md and checklists/ changed)

    Options:
          --json               Print exactly one JSON document on stdout, on success and on every error
      -m, --message <MESSAGE>  The commit message (default: `chore: planning artifacts for <mission>`)
      -h, --help               Print help
    ");
    Ok(())
}

#[test]
fn map_requirements_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["map-requirements", "--help"]).success(), @r"
    Write the requirements a work package implements into its front matter and commit it

    Usage: missionctl map-requirements [OPTIONS] --wp <WP> --refs <REFS> <HANDLE>

    Arguments:
      <HANDLE>  The mission: its ULID, mid8, directory name, slug or number

    Options:
          --json         Print exactly one JSON document on stdout, on success and on every error
          --wp <WP>      The work package, such as `WP01`
          --refs <REFS>  Requirement ids declared in spec.md, comma separated (can be repeated)
          --replace      Set the work package's refs to these instead of adding to them
      -h, --help         Print help
    ");
    Ok(())
}

#[test]
fn merge_driver_event_log_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["merge-driver", "event-log", "--help"]).success(), @r"
    Merge three versions of an event log into OURS (git runs it as `%O %A %B`)

    Usage: missionctl merge-driver event-log [OPTIONS] <BASE> <OURS> <THEIRS>

    Arguments:
      <BASE>    The common ancestor's version (git's `%O`); a missing file is empty
      <OURS>    The current branch's version (git's `%A`), where the result goes
      <THEIRS>  The other branch's version (git's `%B`)

    Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -h, --help  Print help
    ");
    Ok(())
}

#[test]
fn demo_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["demo", "--help"]).success(), @r"
    Build a throwaway git repository and show what missionctl does with it

    Usage: missionctl demo [OPTIONS]

    Options:
          --dir <DIR>  Build the repository in this directory, which must not exist or must be empty
          --json       Print exactly one JSON document on stdout, on success and on every error
      -h, --help       Print help
    ");
    Ok(())
}

#[test]
fn next_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["next", "--help"]).success(), @r"
    Show a mission's next action, or report a step's result and take the next one

    Usage: missionctl next [OPTIONS] --mission <HANDLE>

    Options:
          --json              Print exactly one JSON document on stdout, on success and on every error
          --mission <HANDLE>  The mission: its ULID, mid8, directory name, slug or number
          --agent <AGENT>     The agent asking (default: `MISSIONCTL_ACTOR`); required with `--result`
          --result <RESULT>   Report the result of the step you were given and take the next one (writes the run) [possible values: success, failure, blocked]
      -h, --help              Print help
    ");
    Ok(())
}

#[test]
fn run_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["run", "--help"]).success(), @r"
    Manage the mission runs behind `next`

    Usage: missionctl run [OPTIONS] <COMMAND>

    Commands:
      list   List the repository's mission runs
      show   Show a run's state and events, by run id or by mission
      start  Start a mission's run, or return the one it has
      help   Print this message or the help of the given subcommand(s)

    Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -h, --help  Print help
    ");
    Ok(())
}

#[test]
fn mission_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["mission", "--help"]).success(), @r"
    Manage missions: create, list, show and flatten

    Usage: missionctl mission [OPTIONS] <COMMAND>

    Commands:
      create   Create a mission and commit it on the target branch
      flatten  Drop the coordination branch from a mission's shape
      list     List the missions of the repository
      show     Show one mission
      help     Print this message or the help of the given subcommand(s)

    Options:
          --json  Print exactly one JSON document on stdout, on success and on every error
      -h, --help  Print help
    ");
    Ok(())
}

#[test]
fn mission_create_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["mission", "create", "--help"]).success(), @r"
    Create a mission and commit it on the target branch

    Usage: missionctl mission create [OPTIONS] <SLUG>

    Arguments:
      <SLUG>  The mission's human slug, kebab-case, such as `invoice-export`

    Options:
          --json                    Print exactly one JSON document on stdout, on success and on every error
          --topology <TOPOLOGY>     The mission's shape (default: `coord` on the primary branch or with `--pr-bound`, else `single_branch`) [possible values: single_branch, lanes, coord, lanes_with_coord]
          --target-branch <BRANCH>  The branch to commit the mission on and merge it into (default: the current branch)
          --friendly-name <NAME>    The display title (default: derived from the slug)
          --mission-type <TYPE>     The mission type (default: `software-dev`)
          --purpose-tldr <TEXT>     The mission's purpose in one line (default: the title)
          --purpose-context <TEXT>  The mission's purpose in a paragraph (default: a sentence naming the target branch)
          --pr-bound                Record the mission as bound to a pull request (`pr_bound: true`)
      -h, --help                    Print help
    ");
    Ok(())
}

#[test]
fn context_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["context", "--help"]).success(), @r"
    Show where a mission's state lives: its execution context and read and write surfaces

    Usage: missionctl context [OPTIONS] --mission <HANDLE>

    Options:
          --json              Print exactly one JSON document on stdout, on success and on every error
          --mission <HANDLE>  The mission: its ULID, mid8, directory name, slug or number
      -h, --help              Print help
    ");
    Ok(())
}

#[test]
fn migrate_backfill_topology_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["migrate", "backfill-topology", "--help"]).success(), @r"
    Store the topology of every mission whose meta.json has none

    Usage: missionctl migrate backfill-topology [OPTIONS]

    Options:
          --dry-run             Report what would be written, and write nothing
          --json                Print exactly one JSON document on stdout, on success and on every error
          --mission <DIR_NAME>  Only the mission in this directory of `kitty-specs/` (its exact name)
      -h, --help                Print help
    ");
    Ok(())
}

#[test]
fn wp_add_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["wp", "add", "--help"]).success(), @r"
    Write a new work-package file `tasks/WPxx-<slug>.md` on the planning surface

    Usage: missionctl wp add [OPTIONS] --title <TITLE> <HANDLE> <WP>

    Arguments:
      <HANDLE>  The mission: its ULID, mid8, directory name, slug or number
      <WP>      The work package id, such as `WP01`

    Options:
          --json                   Print exactly one JSON document on stdout, on success and on every error
          --title <TITLE>          The work package's title
          --depends-on <WP>        A work package this one waits for (can be repeated)
          --subtask <ID>           A subtask id such as `T001` (can be repeated)
          --owned-file <GLOB>      A glob of files this work package may change, relative to the repository (can be repeated)
          --requirement <REF>      A requirement it implements, such as `FR-001` (can be repeated)
          --execution-mode <MODE>  Where its changes land: `code_change` (a lane worktree, the default) or `planning_artifact` (the primary checkout) [possible values: code_change, planning_artifact]
      -h, --help                   Print help
    ");
    Ok(())
}

#[test]
fn tasks_finalize_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["tasks", "finalize", "--help"]).success(), @r"
    Check the work packages, seed new ones, compute lanes.json and commit the plan

    Usage: missionctl tasks finalize [OPTIONS] <HANDLE>

    Arguments:
      <HANDLE>  The mission: its ULID, mid8, directory name, slug or number

    Options:
          --json           Print exactly one JSON document on stdout, on success and on every error
          --validate-only  Check and report what would be done; write nothing
      -h, --help           Print help
    ");
    Ok(())
}

#[test]
fn implement_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["implement", "--help"]).success(), @r"
    Create or reuse a work package's lane worktree and move it to in_progress

    Usage: missionctl implement [OPTIONS] --mission <HANDLE> <WP>

    Arguments:
      <WP>  The work package, such as `WP01`

    Options:
          --json              Print exactly one JSON document on stdout, on success and on every error
          --mission <HANDLE>  The mission: its ULID, mid8, directory name, slug or number
          --actor <ACTOR>     Who implements it (default: `MISSIONCTL_ACTOR`)
          --base <REF>        Cut a new lane branch from this ref instead of the mission or coordination branch (refused for an existing lane or a lane with dependencies)
      -h, --help              Print help
    ");
    Ok(())
}

#[test]
fn ready_help() -> TestResult {
    let env = TestEnv::new()?;
    insta::assert_snapshot!(env.run(["ready", "--help"]).success(), @r"
    List the work packages that can start now: planned, every dependency done

    Usage: missionctl ready [OPTIONS]

    Options:
          --json              Print exactly one JSON document on stdout, on success and on every error
          --mission <HANDLE>  Only this mission (default: every mission)
      -h, --help              Print help
    ");
    Ok(())
}
