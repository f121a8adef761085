//! Repository discovery and the in-process ref reads.

use missionctl_store::repo::{HeadState, Repo};

use crate::common::{TestRepo, TestResult, git_in};

#[test]
fn discovers_the_primary_checkout_from_anywhere_inside() -> TestResult {
    let repo = TestRepo::new()?;
    repo.write("kitty-specs/a/deep/file.txt", "x\n")?;
    repo.git(&[
        "worktree",
        "add",
        "-q",
        ".worktrees/x-lane-a",
        "-b",
        "kitty/mission-x-lane-a",
    ])?;
    std::fs::create_dir_all(repo.path(".worktrees/x-lane-a/sub/dir"))?;

    let starts = [
        (repo.root().to_path_buf(), None),
        (repo.path("kitty-specs/a/deep"), None),
        (
            repo.path(".worktrees/x-lane-a"),
            Some(repo.path(".worktrees/x-lane-a")),
        ),
        (
            repo.path(".worktrees/x-lane-a/sub/dir"),
            Some(repo.path(".worktrees/x-lane-a")),
        ),
    ];
    for (start, linked) in starts {
        let found = Repo::discover(&start)?;
        assert_eq!(found.primary_root(), repo.root(), "{}", start.display());
        assert_eq!(found.common_dir(), repo.path(".git"), "{}", start.display());
        assert_eq!(found.linked_worktree(), linked.as_deref());
        assert_eq!(found.kitty_specs_dir(), repo.path("kitty-specs"));
        assert_eq!(found.worktrees_dir(), repo.path(".worktrees"));
        // HEAD is always the primary checkout's, wherever discovery started.
        assert_eq!(found.head()?.branch(), Some("feature/x"));
    }

    let checkouts = Repo::discover(repo.root())?.worktree_checkouts()?;
    let summary: Vec<(bool, Option<&str>)> = checkouts
        .iter()
        .map(|checkout| (checkout.is_primary, checkout.branch.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (true, Some("feature/x")),
            (false, Some("kitty/mission-x-lane-a"))
        ]
    );
    assert_eq!(checkouts[1].path, repo.path(".worktrees/x-lane-a"));
    Ok(())
}

#[test]
fn outside_a_repository_is_a_typed_error() -> TestResult {
    let dir = TestRepo::empty_dir()?;
    let error = Repo::discover(dir.root()).expect_err("not a repository");
    assert_eq!(error.code(), "NOT_A_GIT_REPOSITORY");
    assert!(
        error.to_string().starts_with("Not a git repository: `"),
        "{error}"
    );
    assert!(error.hint().contains("git init"), "{}", error.hint());

    let error = Repo::discover(&dir.path("missing")).expect_err("no such path");
    assert_eq!(error.code(), "IO_ERROR");
    assert!(error.to_string().contains("missing"), "{error}");

    git_in(dir.root(), &["init", "-q", "--bare"])?;
    let error = Repo::discover(dir.root()).expect_err("bare");
    assert_eq!(error.code(), "BARE_REPOSITORY_UNSUPPORTED");
    Ok(())
}

#[test]
fn reads_head_in_every_state() -> TestResult {
    let repo = TestRepo::new()?;
    let tip = repo.git(&["rev-parse", "HEAD"])?.trim().to_owned();
    let found = repo.repo()?;
    assert_eq!(
        found.head()?,
        HeadState::Branch {
            name: "feature/x".to_owned(),
            commit: tip.clone()
        }
    );
    assert_eq!(
        found.branch_tip("feature/x")?.as_deref(),
        Some(tip.as_str())
    );
    assert_eq!(found.branch_tip("nope")?, None);

    repo.git(&["switch", "-q", "--detach", "HEAD"])?;
    assert_eq!(found.head()?, HeadState::Detached { commit: tip });
    assert_eq!(found.head()?.branch(), None);

    repo.git(&["switch", "-q", "--orphan", "fresh"])?;
    assert_eq!(
        found.head()?,
        HeadState::Unborn {
            name: "fresh".to_owned()
        }
    );
    assert_eq!(found.head()?.branch(), Some("fresh"));

    let error = found.branch_tip("bad..name").expect_err("invalid");
    assert_eq!(error.code(), "INVALID_BRANCH_NAME");
    Ok(())
}

#[test]
fn branch_presence_sees_local_and_remote_refs() -> TestResult {
    let remote = TestRepo::empty_dir()?;
    git_in(remote.root(), &["init", "-q", "--bare"])?;
    let repo = TestRepo::new()?;
    repo.git(&[
        "remote",
        "add",
        "upstream",
        &remote.root().display().to_string(),
    ])?;
    repo.git(&["branch", "kitty/mission-a-01M0M9D8"])?;
    repo.git(&["push", "-q", "upstream", "kitty/mission-a-01M0M9D8"])?;
    let found = repo.repo()?;

    let presence = found.branch_presence("kitty/mission-a-01M0M9D8")?;
    assert!(presence.local);
    assert_eq!(
        presence.remote_refs,
        ["refs/remotes/upstream/kitty/mission-a-01M0M9D8"]
    );

    // Deleted locally only: still exists.
    repo.git(&["branch", "-q", "-D", "kitty/mission-a-01M0M9D8"])?;
    let presence = found.branch_presence("kitty/mission-a-01M0M9D8")?;
    assert!(!presence.local);
    assert!(presence.exists());
    assert!(found.coordination_branch_exists("kitty/mission-a-01M0M9D8"));

    // A branch whose name is only a suffix of a remote ref's is not matched.
    assert!(!found.branch_presence("mission-a-01M0M9D8")?.exists());
    assert!(!found.branch_presence("01M0M9D8")?.exists());

    // Gone everywhere (the remote-tracking ref pruned too): deleted.
    repo.git(&[
        "update-ref",
        "-d",
        "refs/remotes/upstream/kitty/mission-a-01M0M9D8",
    ])?;
    assert!(!found.branch_presence("kitty/mission-a-01M0M9D8")?.exists());
    assert!(!found.coordination_branch_exists("kitty/mission-a-01M0M9D8"));
    // A name git cannot even look up is never reported as deleted.
    assert!(found.coordination_branch_exists("bad..name"));
    Ok(())
}

#[test]
fn primary_branch_follows_spec_kittys_chain() -> TestResult {
    let repo = TestRepo::new()?;
    let found = repo.repo()?;
    assert_eq!(found.primary_branch()?.as_deref(), Some("feature/x"));
    repo.git(&["switch", "-q", "--detach", "HEAD"])?;
    assert_eq!(found.primary_branch()?.as_deref(), Some("main"));
    repo.git(&["update-ref", "refs/remotes/origin/trunk", "HEAD"])?;
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk",
    ])?;
    assert_eq!(found.primary_branch()?.as_deref(), Some("trunk"));
    Ok(())
}
