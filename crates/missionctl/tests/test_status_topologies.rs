//! Status writes on real git, for all four topologies: each move is one commit of exactly the
//! two status files on the branch the topology routes status to, the checkouts stay clean, and
//! a failed commit puts every byte back.

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::TestResult;
use crate::status_env::{
    FORWARD, StatusRepo, TARGET_BRANCH, assert_same_state, board_lanes, changed_files, data,
    forward_args,
};

/// Returns `git status --porcelain` of a worktree (untracked files included).
fn porcelain(repo: &StatusRepo, worktree: &std::path::Path) -> anyhow::Result<String> {
    repo.env.git(
        worktree,
        &["status", "--porcelain", "--untracked-files=all"],
    )
}

#[test]
fn every_topology_commits_each_move_on_its_status_branch() -> TestResult {
    for topology in MissionTopology::ALL {
        let repo = StatusRepo::new(topology)?;
        let what = topology.as_str();
        let target_before = repo.git(&["rev-parse", TARGET_BRANCH])?.trim().to_owned();
        let status_branch = repo.status_branch();
        let status_before = repo.git(&["rev-parse", &status_branch])?.trim().to_owned();
        let log = format!("kitty-specs/{}/status.events.jsonl", repo.slug);
        let snapshot = format!("kitty-specs/{}/status.json", repo.slug);

        for pair in FORWARD.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            let extra = forward_args(from, "claude");
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let output = repo.move_wp("WP01", to, &extra).success();
            let data = data(&output)?;
            assert_eq!(data["from_lane"], from, "{what}");
            assert_eq!(data["to_lane"], to, "{what}");
            assert_eq!(data["event"]["event_id"], data["event_id"], "{what}");
            let receipt = &data["receipt"];
            assert_eq!(receipt["destination_ref"], status_branch.as_str(), "{what}");
            assert_eq!(receipt["is_noop"], false, "{what}");
            assert_eq!(receipt["event_ids"][0], data["event_id"], "{what}");
            let sha = receipt["commit_sha"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                repo.git(&["rev-parse", &status_branch])?.trim(),
                sha,
                "{what}: the receipt names the branch's new tip"
            );
            let mut files = changed_files(&repo, &sha)?;
            files.sort();
            let mut expected = vec![log.clone(), snapshot.clone()];
            expected.sort();
            assert_eq!(
                files, expected,
                "{what}: {from} -> {to} commits exactly the two files"
            );
            assert_eq!(
                receipt["worktree_root"],
                repo.status_worktree().display().to_string(),
                "{what}"
            );
        }

        // One commit per move, on the status branch only.
        let count = repo.git(&[
            "rev-list",
            "--count",
            &format!("{status_before}..{status_branch}"),
        ])?;
        assert_eq!(count.trim(), "7", "{what}");
        if repo.coordination_branch().is_some() {
            assert_eq!(
                repo.git(&["rev-parse", TARGET_BRANCH])?.trim(),
                target_before,
                "{what}: the target branch does not move"
            );
            // The primary checkout's copy of the log is the one `mission create` committed.
            let primary_log =
                std::fs::read(repo.primary_mission_dir().join("status.events.jsonl"))?;
            assert!(primary_log.is_empty(), "{what}");
            let worktree = repo.coordination_worktree().unwrap_or_default();
            let head = repo
                .env
                .git(&worktree, &["symbolic-ref", "--short", "HEAD"])?;
            assert_eq!(head.trim(), status_branch, "{what}");
        }
        assert_eq!(
            repo.git(&["symbolic-ref", "--short", "HEAD"])?.trim(),
            TARGET_BRANCH
        );

        // Clean checkouts: nothing staged, modified or untracked.
        assert_eq!(
            porcelain(&repo, &repo.root)?,
            "",
            "{what}: primary checkout"
        );
        assert_eq!(
            porcelain(&repo, &repo.status_worktree())?,
            "",
            "{what}: status worktree"
        );

        // The committed files are the files on disk.
        for path in [&log, &snapshot] {
            let committed = repo.git(&["show", &format!("{status_branch}:{path}")])?;
            let on_disk = std::fs::read_to_string(repo.status_worktree().join(path))?;
            assert_eq!(committed, on_disk, "{what}: {path}");
        }

        // Reads agree.
        let board = data(
            &repo
                .run(["--json", "board", "--mission", &repo.slug])
                .success(),
        )?;
        assert_eq!(board["topology"], what);
        let surface = if repo.coordination_branch().is_some() {
            "coordination"
        } else {
            "primary"
        };
        assert_eq!(board["read_surface"], surface, "{what}");
        let lanes = board_lanes(&board);
        assert_eq!(lanes["WP01"], "done", "{what}");
        assert!(
            lanes
                .iter()
                .all(|(wp, lane)| wp == "WP01" || lane == "genesis"),
            "a task file without events is genesis: {lanes:?}"
        );
        assert_eq!(board["by_lane"]["done"], 1);
        repo.run(["--json", "status", "validate", "--mission", &repo.slug])
            .success();
        let history = data(
            &repo
                .run(["--json", "history", "--mission", &repo.slug, "--wp", "WP01"])
                .success(),
        )?;
        let lanes: Vec<&str> = history["events"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| row["to_lane"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(lanes, &FORWARD[1..], "{what}");
    }
    Ok(())
}

/// Returns the git directory of a worktree (`.git` or `.git/worktrees/<name>`).
fn git_dir(repo: &StatusRepo, worktree: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = repo
        .env
        .git(worktree, &["rev-parse", "--absolute-git-dir"])?;
    Ok(std::path::PathBuf::from(dir.trim()))
}

/// Creates an empty git lock file last modified an hour ago, as a git process killed then
/// leaves it.
fn stale_lock(path: &std::path::Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)?;
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    file.set_modified(hour_ago)?;
    Ok(())
}

#[test]
fn a_failed_commit_restores_the_files_byte_for_byte() -> TestResult {
    for topology in MissionTopology::ALL {
        let repo = StatusRepo::new(topology)?;
        let what = topology.as_str();
        repo.move_wp("WP01", "planned", &["--actor", "claude"])
            .success();
        repo.move_wp(
            "WP01",
            "claimed",
            &["--actor", "claude", "--note", "started"],
        )
        .success();
        let worktree = repo.status_worktree();
        let lock_files = [
            // The index update fails after the branch moved: the branch is put back.
            git_dir(&repo, &worktree)?.join("index.lock"),
            // The branch update fails: nothing moved yet.
            git_dir(&repo, &repo.root)?
                .join("refs/heads")
                .join(format!("{}.lock", repo.status_branch())),
        ];
        for lock in &lock_files {
            let before = repo.state()?;
            let log_before = repo.log_bytes()?;
            let snapshot_before = std::fs::read(repo.status_dir().join("status.json"))?;
            // A lock left an hour ago by a dead git: reported at once, with its age and the
            // command that removes it, never removed.
            stale_lock(lock)?;
            let output = repo
                .move_wp("WP01", "in_progress", &["--actor", "claude", "--note", "x"])
                .code(1);
            let error = output.json_error()?;
            assert_eq!(error["code"], "GIT_LOCK_BUSY", "{what}: {output}");
            let message = error["message"].as_str().unwrap_or_default();
            assert!(message.contains(&lock.display().to_string()), "{message}");
            assert!(message.contains("s old"), "{message}");
            let hint = error["hint"].as_str().unwrap_or_default();
            assert!(
                hint.contains(&format!("rm -f '{}'", lock.display())),
                "{hint}"
            );
            assert!(
                lock.exists(),
                "{what}: a lock missionctl did not create stays"
            );
            std::fs::remove_file(lock)?;
            assert_eq!(repo.log_bytes()?, log_before, "{what}");
            assert_eq!(
                std::fs::read(repo.status_dir().join("status.json"))?,
                snapshot_before,
                "{what}"
            );
            assert_same_state(&before, &repo.state()?, what);
        }
        // With the locks gone the same move goes through.
        repo.move_wp("WP01", "in_progress", &["--actor", "claude"])
            .success();
        assert_eq!(porcelain(&repo, &repo.root)?, "", "{what}");
        assert_eq!(porcelain(&repo, &worktree)?, "", "{what}");
    }
    Ok(())
}

#[test]
fn a_failed_first_coordination_write_leaves_no_worktree_behind() -> TestResult {
    for topology in [MissionTopology::Coord, MissionTopology::LanesWithCoord] {
        let repo = StatusRepo::new(topology)?;
        let what = topology.as_str();
        let before = repo.state()?;
        let lock = git_dir(&repo, &repo.root)?
            .join("refs/heads")
            .join(format!("{}.lock", repo.status_branch()));
        stale_lock(&lock)?;
        let output = repo
            .move_wp("WP01", "planned", &["--actor", "claude"])
            .code(1);
        assert_eq!(output.json_error()?["code"], "GIT_LOCK_BUSY", "{output}");
        std::fs::remove_file(&lock)?;
        assert_same_state(&before, &repo.state()?, what);
        let worktrees = repo.git(&["worktree", "list", "--porcelain"])?;
        assert_eq!(
            worktrees.matches("worktree ").count(),
            1,
            "{what}: {worktrees}"
        );
        // The next write creates the worktree for good.
        repo.move_wp("WP01", "planned", &["--actor", "claude"])
            .success();
        assert!(repo.status_dir().join("status.json").is_file(), "{what}");
        assert_eq!(porcelain(&repo, &repo.root)?, "", "{what}");
    }
    Ok(())
}

#[test]
fn protected_branches_are_refused_unless_configured_otherwise() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    let protect = [(
        "MISSIONCTL_PROTECTED_BRANCHES",
        std::ffi::OsStr::new("release, feature/x"),
    )];
    let before = repo.state()?;
    let output = repo.env.run_with(
        &repo.root,
        [
            "--json",
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            &repo.slug,
        ],
        &protect,
    );
    let error = output.code(1).json_error()?;
    assert_eq!(error["code"], "PROTECTED_BRANCH_REFUSED");
    assert_same_state(&before, &repo.state()?, "protected");

    // A coordination mission commits to its coordination branch even when the target branch
    // is protected.
    let repo = StatusRepo::new(MissionTopology::Coord)?;
    let output = repo.env.run_with(
        &repo.root,
        [
            "--json",
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            &repo.slug,
        ],
        &protect,
    );
    let data = data(&output.success())?;
    assert_eq!(
        data["receipt"]["destination_ref"],
        Value::from(repo.status_branch())
    );
    Ok(())
}

#[test]
fn materialize_and_alias_moves_commit_nothing_when_nothing_changes() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = StatusRepo::new(topology)?;
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        repo.move_wp("WP01", "claimed", &["--actor", "a"]).success();
        repo.move_wp("WP01", "in_progress", &["--actor", "a"])
            .success();
        let tip = repo.git(&["rev-parse", &repo.status_branch()])?;
        let before = repo.state()?;

        // `doing` is `in_progress`: nothing to do, nothing written.
        let alias = data(&repo.move_wp("WP01", "doing", &["--actor", "a"]).success())?;
        assert_eq!(alias["event"], Value::Null);
        assert_eq!(alias["receipt"]["is_noop"], true);
        assert_eq!(alias["receipt"]["commit_sha"].as_str(), Some(tip.trim()));
        // So is the lane's own name: the same no-op whatever names it.
        let same = data(
            &repo
                .move_wp("WP01", "in_progress", &["--actor", "a"])
                .success(),
        )?;
        assert_eq!(same["event"], Value::Null);
        assert_eq!(same["receipt"]["is_noop"], true);
        assert_eq!(same["receipt"]["commit_sha"].as_str(), Some(tip.trim()));

        let materialized = data(
            &repo
                .run(["--json", "status", "materialize", "--mission", &repo.slug])
                .success(),
        )?;
        assert_eq!(materialized["changed"], false);
        assert_eq!(materialized["receipt"]["is_noop"], true);
        assert_same_state(&before, &repo.state()?, topology.as_str());

        // A snapshot edited by hand is rewritten and committed.
        let path = repo.status_dir().join("status.json");
        std::fs::write(&path, "{}\n")?;
        let materialized = data(
            &repo
                .run(["--json", "status", "materialize", "--mission", &repo.slug])
                .success(),
        )?;
        assert_eq!(materialized["changed"], true);
        // Back to the committed bytes: nothing to commit.
        assert_eq!(materialized["receipt"]["is_noop"], true);
        assert_eq!(
            std::fs::read(&path)?,
            before
                .files
                .get(&path.strip_prefix(&repo.root)?.to_path_buf())
                .cloned()
                .flatten()
                .unwrap_or_default()
        );
        assert_eq!(
            porcelain(&repo, &repo.status_worktree())?,
            "",
            "{}",
            topology.as_str()
        );
    }
    Ok(())
}

#[test]
fn a_deleted_coordination_worktree_is_read_from_its_branch_and_recreated() -> TestResult {
    for topology in [MissionTopology::Coord, MissionTopology::LanesWithCoord] {
        let repo = StatusRepo::new(topology)?;
        let what = topology.as_str();
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        repo.move_wp("WP01", "claimed", &["--actor", "a"]).success();
        let worktree = repo.coordination_worktree().unwrap_or_default();
        // Deleted by hand, not with `git worktree remove`: the primary checkout's copy of the
        // log is stale, the branch has every row.
        std::fs::remove_dir_all(&worktree)?;
        let board = data(
            &repo
                .run(["--json", "board", "--mission", &repo.slug])
                .success(),
        )?;
        assert_eq!(board_lanes(&board)["WP01"], "claimed", "{what}");
        let history = data(
            &repo
                .run(["--json", "history", "--mission", &repo.slug])
                .success(),
        )?;
        assert_eq!(
            history["events"].as_array().map(Vec::len),
            Some(2),
            "{what}"
        );
        // The next write checks the branch out again and goes on from there.
        let moved = data(
            &repo
                .move_wp("WP01", "in_progress", &["--actor", "a"])
                .success(),
        )?;
        assert_eq!(moved["from_lane"], "claimed", "{what}");
        assert!(worktree.join(".git").is_file(), "{what}");
        assert_eq!(repo.log_ids()?.len(), 3, "{what}");
        assert_eq!(porcelain(&repo, &repo.root)?, "", "{what}");
        assert_eq!(porcelain(&repo, &worktree)?, "", "{what}");
        repo.run(["--json", "status", "validate", "--mission", &repo.slug])
            .success();
    }
    Ok(())
}

/// Commits one more log row on the status branch with plumbing, as a tool that moves the branch
/// without its worktree would.
fn commit_behind_the_worktree(repo: &StatusRepo) -> anyhow::Result<()> {
    let branch = repo.status_branch();
    let path = format!("kitty-specs/{}/status.events.jsonl", repo.slug);
    let mut log = repo.git(&["show", &format!("{branch}:{path}")])?;
    log.push_str(r#"{"actor": "elsewhere", "at": "2026-01-01T00:00:00+00:00", "event_id": "01M0M9D8R83DDKSZ62QKGVEEEE", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "genesis", "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0", "mission_slug": "invoice-export-01M0M9D8", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "planned", "wp_id": "WP09"}"#);
    log.push('\n');
    let file = repo.env.tmp().join("elsewhere.jsonl");
    std::fs::write(&file, log)?;
    let index = repo.env.tmp().join("elsewhere.index");
    let git = |args: &[&str]| -> anyhow::Result<String> {
        let output = std::process::Command::new("git")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", repo.env.root().join("home"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .env("GIT_INDEX_FILE", &index)
            .current_dir(&repo.root)
            .args(args)
            .output()?;
        anyhow::ensure!(output.status.success(), "git {args:?}: {output:?}");
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    let blob = git(&["hash-object", "-w", &file.display().to_string()])?;
    git(&["read-tree", &branch])?;
    git(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{blob},{path}"),
    ])?;
    let tree = git(&["write-tree"])?;
    let commit = git(&[
        "commit-tree",
        &tree,
        "-p",
        &branch,
        "-m",
        "status from elsewhere",
    ])?;
    git(&["update-ref", &format!("refs/heads/{branch}"), &commit])?;
    Ok(())
}

#[test]
fn a_branch_ahead_of_its_worktree_is_never_overwritten() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = StatusRepo::new(topology)?;
        let what = topology.as_str();
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        commit_behind_the_worktree(&repo)?;
        let before = repo.state()?;
        let output = repo.move_wp("WP01", "claimed", &["--actor", "a"]).code(1);
        assert_eq!(
            output.json_error()?["code"],
            "DESTINATION_AHEAD_OF_WORKTREE",
            "{what}: {output}"
        );
        assert_same_state(&before, &repo.state()?, what);
        // Brought up to its branch as the hint says, the worktree takes writes again, the other
        // row kept.
        let hint = output.json_error()?["hint"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let command = hint
            .split('`')
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("no command in {hint}"))?
            .replace("$TEST_ENV", &repo.env.root().display().to_string());
        let words: Vec<&str> = command.split(' ').collect();
        assert_eq!(words[0], "git", "{command}");
        repo.env.git(&repo.root, &words[1..])?;
        repo.move_wp("WP01", "claimed", &["--actor", "a"]).success();
        assert_eq!(repo.log_ids()?.len(), 3, "{what}");
        assert_eq!(porcelain(&repo, &repo.status_worktree())?, "", "{what}");
    }
    Ok(())
}

/// A coordination mission merged and its branch deleted: reads (the board) show the primary
/// checkout's log, as Spec Kitty's board does; every write still fails closed.
/// See: issue 11 ("12 of 15 coordination missions … fail every read")
#[test]
fn a_merged_coordination_mission_whose_branch_is_gone_reads_primary() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::Coord)?;
    repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
    // The merge brings the status files to the target branch; then the branch goes.
    let worktree = repo.coordination_worktree().unwrap_or_default();
    for file in ["status.events.jsonl", "status.json"] {
        std::fs::copy(
            repo.status_dir().join(file),
            repo.primary_mission_dir().join(file),
        )?;
    }
    repo.git(&["add", "kitty-specs"])?;
    repo.git(&["commit", "--quiet", "-m", "merge"])?;
    repo.git(&[
        "worktree",
        "remove",
        "--force",
        &worktree.display().to_string(),
    ])?;
    let branch = repo.coordination_branch().unwrap_or_default();
    repo.git(&["branch", "--quiet", "-D", &branch])?;

    let board = data(
        &repo
            .run(["--json", "board", "--mission", &repo.slug])
            .success(),
    )?;
    assert_eq!(board["read_surface"], "primary");
    assert_eq!(board_lanes(&board)["WP01"], "planned");
    let before = repo.state()?;
    let refused = repo.move_wp("WP01", "claimed", &["--actor", "a"]).code(1);
    assert_eq!(refused.json_error()?["code"], "COORDINATION_BRANCH_DELETED");
    let validate = repo
        .run(["--json", "status", "validate", "--mission", &repo.slug])
        .code(1);
    assert_eq!(
        validate.json_error()?["code"],
        "COORDINATION_BRANCH_DELETED"
    );
    assert_same_state(&before, &repo.state()?, "refused writes");
    Ok(())
}
