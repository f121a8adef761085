//! Moves killed at random instants (their process group, or their whole tree with git in it)
//! and stopped at every failpoint of the write door: the next writer settles what they left
//! and succeeds, no acknowledged event is lost, no unacknowledged one is half applied (the log
//! on disk is the log on the branch), the user's own files and `git status` are as they were,
//! no lock file or journal is left, a newcomer's `git commit` in between never deletes
//! anything, and `git fsck` is clean.
//!
//! See: issue 10 (every write survives kills, races and hostile checkouts).

use std::path::Path;
use std::time::Duration;

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::status::event_log;
use serde_json::Value;

use crate::common::TestResult;
use crate::common::process::{Delays, Kill, rounds};
use crate::status_env::{StatusRepo, data};

/// Random kills per topology (`MISSIONCTL_SOAK` multiplies them).
const RUNS: usize = 12;

/// The lanes a forced move cycles through: every move is legal whatever the last one did.
const CYCLE: [&str; 4] = ["claimed", "in_progress", "blocked", "planned"];

/// The user's own changes, which no write may touch: an unstaged edit and an untracked file.
fn add_user_changes(repo: &StatusRepo) -> anyhow::Result<String> {
    std::fs::write(repo.root.join("README.md"), "hello, edited\n")?;
    std::fs::write(repo.root.join("notes.txt"), "mine\n")?;
    repo.git(&["status", "--porcelain", "--untracked-files=all"])
}

/// Returns the arguments of a forced move of `wp` to the lane after `run`'s.
fn forced(repo: &StatusRepo, wp: &str, run: usize) -> Vec<String> {
    [
        "--json",
        "move",
        wp,
        "--to",
        CYCLE[run % CYCLE.len()],
        "--mission",
        &repo.slug,
        "--actor",
        "claude",
        "--force",
        "--reason",
        "crash test",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Returns the event id of a successful move's output, if it succeeded.
fn acknowledged(stdout: &[u8]) -> Option<String> {
    let document: Value = serde_json::from_slice(stdout).ok()?;
    (document["ok"] == true)
        .then(|| document["data"]["event_id"].as_str().map(str::to_owned))
        .flatten()
}

/// A newcomer's `git commit` of whatever is staged, in `worktree`: it may fail (a lock file a
/// killed writer left), but it must never delete a file of the commit before it.
fn newcomer_commit(repo: &StatusRepo, worktree: &Path) -> anyhow::Result<()> {
    let before = repo.env.git(worktree, &["rev-parse", "HEAD"])?;
    if repo
        .env
        .git(
            worktree,
            &["commit", "--quiet", "--allow-empty", "-m", "newcomer"],
        )
        .is_err()
    {
        return Ok(());
    }
    let changes = repo.env.git(
        worktree,
        &[
            "diff",
            "--name-status",
            "--no-renames",
            before.trim(),
            "HEAD",
        ],
    )?;
    anyhow::ensure!(
        !changes.lines().any(|line| line.starts_with('D')),
        "a newcomer's commit deleted files: {changes}"
    );
    Ok(())
}

/// Checks what must hold once the next writer has run.
pub(crate) fn check_settled(
    repo: &StatusRepo,
    acked: &[String],
    user_status: &str,
) -> anyhow::Result<()> {
    let bytes = repo.log_bytes()?;
    let log = event_log::parse(&bytes);
    anyhow::ensure!(log.errors.is_empty(), "the log reads: {:?}", log.errors);
    let snapshot = std::fs::read(repo.status_dir().join("status.json"))?;
    let parsed: Value = serde_json::from_slice(&snapshot)
        .map_err(|error| anyhow::anyhow!("status.json is half-written: {error}"))?;
    anyhow::ensure!(parsed["work_packages"].is_object(), "{parsed}");
    // No unacknowledged change half applied: the files are the branch's.
    let relative = format!("kitty-specs/{}/status.events.jsonl", repo.slug);
    let committed = repo.git(&["show", &format!("{}:{relative}", repo.status_branch())])?;
    anyhow::ensure!(
        committed.as_bytes() == bytes.as_slice(),
        "the log on disk is not the log on `{}`",
        repo.status_branch()
    );
    let ids = repo.log_ids()?;
    for id in acked {
        anyhow::ensure!(ids.contains(id), "acknowledged event {id} is missing");
    }
    anyhow::ensure!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"])? == user_status,
        "the primary checkout's `git status` changed"
    );
    if let Some(worktree) = repo.coordination_worktree() {
        let status = repo.env.git(
            &worktree,
            &["status", "--porcelain", "--untracked-files=all"],
        )?;
        anyhow::ensure!(status.is_empty(), "the coordination worktree: {status}");
    }
    let leftovers = leftovers(repo)?;
    anyhow::ensure!(leftovers.is_empty(), "left behind: {leftovers:?}");
    Ok(())
}

/// Returns the journals, git lock files and temporary files of the repository.
pub(crate) fn leftovers(repo: &StatusRepo) -> anyhow::Result<Vec<String>> {
    crate::test_write_crash::leftovers(&repo.root)
}

/// Runs `git fsck` and returns what it reports.
pub(crate) fn fsck(repo: &StatusRepo) -> anyhow::Result<()> {
    fsck_at(&repo.root)
}

/// Runs `git fsck` in the repository at `root`: it must report nothing.
pub(crate) fn fsck_at(root: &Path) -> anyhow::Result<()> {
    let output = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .current_dir(root)
        .args(["fsck", "--no-dangling", "--no-progress"])
        .output()?;
    anyhow::ensure!(
        output.status.success() && output.stdout.is_empty(),
        "git fsck: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[test]
fn moves_killed_at_random_instants_are_settled_by_the_next_writer() -> TestResult {
    let mut delays = Delays::new(0x5eed_0fc0_ffee);
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = StatusRepo::new(topology)?;
        let started = std::time::Instant::now();
        let first = data(&repo.move_wp("WP01", "planned", &["--actor", "a"]).success())?;
        // One write that runs to the end tells how long a write takes on this machine; the
        // kills then land anywhere from its start to a little after its end.
        let window = started.elapsed().mul_f64(1.3);
        let mut acked: Vec<String> = vec![first["event_id"].as_str().unwrap_or_default().into()];
        repo.move_wp("WP02", "planned", &["--actor", "a"]).success();
        let user_status = add_user_changes(&repo)?;
        let mut killed = 0;
        for run in 0..rounds(RUNS) {
            let wp = ["WP01", "WP02"][run % 2];
            let args = forced(&repo, wp, run);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut child = repo.spawn(&args, &[])?;
            std::thread::sleep(delays.next(window));
            let kill = if run % 2 == 0 {
                Kill::Group
            } else {
                Kill::Tree
            };
            if kill.apply(&mut child)? {
                killed += 1;
            }
            let output = child.wait_with_output()?;
            if let Some(id) = acknowledged(&output.stdout) {
                acked.push(id);
            }
            if run % 3 == 2 {
                newcomer_commit(&repo, &repo.status_worktree())?;
            }
            // The next writer succeeds.
            let next = forced(&repo, wp, run + 1);
            let next = data(&repo.run(&next).success())?;
            acked.push(next["event_id"].as_str().unwrap_or_default().into());
            check_settled(&repo, &acked, &user_status)
                .map_err(|error| anyhow::anyhow!("{topology:?} run {run} ({kill:?}): {error}"))?;
        }
        assert!(killed > 0, "no writer was killed: the delays are too long");
        repo.run(["--json", "status", "validate", "--mission", &repo.slug])
            .success();
        fsck(&repo)?;
    }
    Ok(())
}

/// The failpoints a move passes, and whether a move stopped there is complete (its commit
/// point was reached) or undone.
const MOVE_FAILPOINTS: [(&str, bool); 8] = [
    ("journal", false),
    ("file@1", false),
    ("file@2", false),
    ("index-locked", false),
    ("index-prepared", false),
    ("index-installed", false),
    ("ref-updated", true),
    ("finish", true),
];

#[test]
fn a_move_stopped_at_any_failpoint_is_completed_or_undone_by_the_next_writer() -> TestResult {
    for topology in [
        MissionTopology::SingleBranch,
        MissionTopology::LanesWithCoord,
    ] {
        let repo = StatusRepo::new(topology)?;
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        let user_status = add_user_changes(&repo)?;
        let mut acked = repo.log_ids()?;
        for (run, (failpoint, completes)) in MOVE_FAILPOINTS.into_iter().enumerate() {
            let what = format!("{topology:?} at {failpoint}");
            let rows = repo.log_ids()?.len();
            let args = forced(&repo, "WP01", run);
            let stopped = repo.run_stopped_at(&args, failpoint);
            assert_eq!(stopped.status, Some(86), "{what}: {stopped}");
            let next = forced(&repo, "WP01", run + 1);
            let next = data(&repo.run(&next).success())?;
            acked.push(next["event_id"].as_str().unwrap_or_default().into());
            let expected = rows + if completes { 2 } else { 1 };
            assert_eq!(repo.log_ids()?.len(), expected, "{what}");
            check_settled(&repo, &acked, &user_status)
                .map_err(|error| anyhow::anyhow!("{what}: {error}"))?;
        }
        fsck(&repo)?;
    }
    Ok(())
}

#[test]
fn a_first_coordination_write_stopped_anywhere_leaves_no_worktree_behind() -> TestResult {
    for failpoint in [
        "dir",
        "file@1",
        "worktree-added",
        "index-installed",
        "ref-updated",
    ] {
        let repo = StatusRepo::new(MissionTopology::Coord)?;
        let args = [
            "--json",
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            &repo.slug,
            "--actor",
            "a",
        ];
        let stopped = repo.run_stopped_at(&args, failpoint);
        assert_eq!(stopped.status, Some(86), "{failpoint}: {stopped}");
        let done = data(&repo.move_wp("WP02", "planned", &["--actor", "a"]).success())?;
        let ids = repo.log_ids()?;
        assert!(
            ids.contains(&done["event_id"].as_str().unwrap_or_default().to_owned()),
            "{failpoint}"
        );
        assert_eq!(
            ids.len(),
            if failpoint == "ref-updated" { 2 } else { 1 },
            "{failpoint}"
        );
        check_settled(&repo, &[], "").map_err(|error| anyhow::anyhow!("{failpoint}: {error}"))?;
        let worktrees = repo.git(&["worktree", "list", "--porcelain"])?;
        assert_eq!(
            worktrees.matches("worktree ").count(),
            2,
            "{failpoint}: {worktrees}"
        );
        assert!(
            !repo.root.join(".worktrees/.materializing").exists(),
            "{failpoint}: a staging checkout is left"
        );
    }
    Ok(())
}

#[test]
fn git_killed_while_it_moves_the_branch_leaves_locks_the_next_writer_clears() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    let user_status = add_user_changes(&repo)?;
    // A reference-transaction hook that stops in the `prepared` phase: git then holds the
    // branch's and HEAD's lock files, which the kill of the whole tree leaves behind.
    let marker = repo.env.root().join("prepared");
    let hook = repo.root.join(".git/hooks/reference-transaction");
    std::fs::create_dir_all(repo.root.join(".git/hooks"))?;
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nif [ \"$1\" = prepared ]; then touch '{}'; sleep 30; fi\nexit 0\n",
            marker.display()
        ),
    )?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    let args = forced(&repo, "WP01", 0);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = repo.spawn(&args, &[])?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !marker.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(marker.exists(), "the hook ran");
    let branch_lock = repo.root.join(".git/refs/heads/feature/x.lock");
    let head_lock = repo.root.join(".git/HEAD.lock");
    let before = (branch_lock.exists(), head_lock.exists());
    assert!(Kill::Tree.apply(&mut child)?);
    let _ = child.wait();
    assert!(
        branch_lock.exists() && head_lock.exists(),
        "git's locks are left (before the kill: {before:?})"
    );
    // A newcomer's commit fails on them, and deletes nothing.
    newcomer_commit(&repo, &repo.root)?;
    std::fs::remove_file(&hook)?;
    let next = forced(&repo, "WP01", 1);
    repo.run(&next).success();
    assert!(
        !branch_lock.exists() && !head_lock.exists(),
        "the locks were cleared"
    );
    check_settled(&repo, &repo.log_ids()?, &user_status)?;
    assert_eq!(repo.log_ids()?.len(), 2, "the killed move was undone");
    fsck(&repo)?;
    Ok(())
}
