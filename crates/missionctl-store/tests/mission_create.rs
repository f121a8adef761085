//! `mission create` on real repositories: every topology, on the checked-out branch and on a
//! branch that is not checked out, the refusals, and the rollback after a failure at every
//! step (the repository must be byte-identical afterwards).

use missionctl_core::mission::meta::MissionMeta;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::mission::create::{CreateMissionRequest, CreateStep};

use crate::common::{TestRepo, TestResult, committed_files, mission_id};

const MISSION_FILES: [&str; 5] = [
    "meta.json",
    "spec.md",
    "status.events.jsonl",
    "tasks/.gitkeep",
    "tasks/README.md",
];

fn request(slug: &str, topology: Option<MissionTopology>) -> CreateMissionRequest {
    CreateMissionRequest {
        slug: slug.to_owned(),
        topology,
        ..CreateMissionRequest::default()
    }
}

/// Stages one change and leaves another unstaged and an untracked file, so a create has
/// something of the user's to leave alone.
fn dirty(repo: &TestRepo) -> TestResult {
    repo.write("staged.txt", "staged\n")?;
    repo.git(&["add", "staged.txt"])?;
    repo.write("README.md", "hello, edited but not staged\n")?;
    repo.write("untracked.txt", "untracked\n")?;
    Ok(())
}

#[test]
fn creates_every_topology_on_the_checked_out_branch() -> TestResult {
    for (n, topology) in MissionTopology::ALL.into_iter().enumerate() {
        let repo = TestRepo::new()?;
        dirty(&repo)?;
        let status_before = repo.git(&["status", "--porcelain=v2"])?;
        let parent = repo.git(&["rev-parse", "feature/x"])?;

        let created = repo.create("invoice-export", Some(topology), n)?;
        let id = mission_id(n);
        let dir = format!("invoice-export-{}", id.mid8());
        assert_eq!(created.mission_id, id.as_str());
        assert_eq!(created.mid8, id.mid8());
        assert_eq!(created.mission_slug, dir);
        assert_eq!(created.topology, topology);
        assert!(created.topology_requested);
        assert!(created.checked_out);
        assert_eq!(created.target_branch, "feature/x");
        assert_eq!(created.parent, parent.trim());
        assert_eq!(
            created.mission_dir,
            repo.path(&format!("kitty-specs/{dir}"))
        );

        // The branch moved by exactly one commit that adds exactly the mission directory.
        assert_eq!(
            repo.git(&["rev-parse", "feature/x"])?.trim(),
            created.commit
        );
        assert_eq!(
            repo.git(&["rev-parse", "feature/x~1"])?.trim(),
            parent.trim()
        );
        let changed = repo.git(&["diff", "--name-only", "feature/x~1", "feature/x"])?;
        let expected: Vec<String> = MISSION_FILES
            .iter()
            .map(|file| format!("kitty-specs/{dir}/{file}"))
            .collect();
        assert_eq!(changed.lines().collect::<Vec<_>>(), expected);
        assert_eq!(created.files, expected);
        assert_eq!(
            repo.git(&["log", "-1", "--format=%s|%an <%ae>|%at", "feature/x"])?
                .trim(),
            format!("Add scaffold for feature {dir}|Test Author <author@example.com>|1787387355")
        );

        // The user's staged, unstaged and untracked changes are exactly as before, and the
        // mission's files are clean in the working tree and the index.
        assert_eq!(repo.git(&["status", "--porcelain=v2"])?, status_before);
        assert_eq!(
            repo.git(&["diff", "--cached", "--name-only"])?,
            "staged.txt\n"
        );
        for dir in ["checklists", "research", "tasks"] {
            assert!(created.mission_dir.join(dir).is_dir(), "{dir}");
        }
        assert_eq!(
            std::fs::read(created.mission_dir.join("status.events.jsonl"))?,
            b""
        );

        // meta.json: the create-time field set, canonical bytes, the stored topology.
        let bytes = std::fs::read(created.mission_dir.join("meta.json"))?;
        let meta = MissionMeta::parse(&bytes)?;
        assert_eq!(meta.to_canonical_bytes(), bytes);
        assert_eq!(meta.stored_topology(), Some(topology));
        assert!(!meta.flattened());
        assert_eq!(meta.mission_slug()?, Some(dir.as_str()));
        assert_eq!(meta.slug()?, Some(dir.as_str()));
        assert_eq!(meta.friendly_name()?, Some("Invoice Export"));
        assert_eq!(meta.mission_type()?, Some("software-dev"));
        assert_eq!(meta.target_branch()?, Some("feature/x"));
        assert_eq!(meta.created_at()?, Some("2026-08-22T08:29:15.913164+00:00"));
        assert_eq!(meta.mission_number()?, None);
        meta.validate(&dir)?;

        // The coordination branch exists exactly for the coordination topologies, at the new
        // commit, so a coordination worktree always carries the mission directory.
        let branch = format!("kitty/mission-invoice-export-{}", id.mid8());
        let branches = repo.git(&["branch", "--list", &branch])?;
        if topology.routes_through_coordination() {
            assert_eq!(
                created.coordination_branch.as_deref(),
                Some(branch.as_str())
            );
            assert_eq!(meta.coordination_branch()?, Some(branch.as_str()));
            assert_eq!(repo.git(&["rev-parse", &branch])?.trim(), created.commit);
            assert_eq!(
                committed_files(&repo, &branch, &format!("kitty-specs/{dir}"))?.len(),
                MISSION_FILES.len()
            );
        } else {
            assert_eq!(created.coordination_branch, None);
            assert_eq!(meta.get("coordination_branch"), None);
            assert_eq!(branches, "");
        }
        repo.git(&["fsck", "--no-progress"])?;
    }
    Ok(())
}

#[test]
fn commits_by_plumbing_when_the_target_branch_is_not_checked_out() -> TestResult {
    let repo = TestRepo::new()?;
    repo.git(&["branch", "feature/plan"])?;
    dirty(&repo)?;
    let before = repo.snapshot()?;

    let mut request = request("report", Some(MissionTopology::Coord));
    request.target_branch = Some("feature/plan".to_owned());
    request.friendly_name = Some("  Monthly   report ".to_owned());
    let created = repo.create_with(&request, 1, None)?;
    assert!(!created.checked_out);
    assert_eq!(created.target_branch, "feature/plan");
    assert_eq!(created.friendly_name, "Monthly report");

    // The working tree, the index, HEAD and the checked-out branch are untouched.
    let after = repo.snapshot()?;
    assert_eq!(after.files, before.files);
    assert_eq!(after.index, before.index);
    assert_eq!(after.status, before.status);
    assert_eq!(after.head, before.head);
    assert!(!created.mission_dir.exists());

    // The target branch and the coordination branch carry the commit.
    assert_eq!(
        repo.git(&["rev-parse", "feature/plan"])?.trim(),
        created.commit
    );
    let coordination = created.coordination_branch.as_deref().unwrap_or_default();
    assert_eq!(
        repo.git(&["rev-parse", coordination])?.trim(),
        created.commit
    );
    let files = committed_files(&repo, "feature/plan", "kitty-specs")?;
    assert_eq!(files.len(), MISSION_FILES.len());
    let meta = repo.git(&[
        "show",
        &format!(
            "feature/plan:kitty-specs/{}/meta.json",
            created.mission_slug
        ),
    ])?;
    assert!(
        meta.contains("\"target_branch\": \"feature/plan\""),
        "{meta}"
    );
    repo.git(&["fsck", "--no-progress"])?;
    Ok(())
}

#[test]
fn detached_head_is_refused_and_nothing_changes() -> TestResult {
    let repo = TestRepo::new()?;
    repo.git(&["switch", "-q", "--detach", "HEAD"])?;
    dirty(&repo)?;
    let before = repo.snapshot()?;
    let error = repo
        .create_with(&request("x", None), 1, None)
        .expect_err("detached");
    assert_eq!(error.code(), "DETACHED_HEAD_REFUSED");
    assert!(error.hint().contains("git switch -c"), "{}", error.hint());
    assert_eq!(repo.snapshot()?, before);
    Ok(())
}

#[test]
fn protected_branches_are_refused_and_nothing_changes() -> TestResult {
    let repo = TestRepo::new()?;
    repo.git(&["switch", "-q", "main"])?;
    dirty(&repo)?;
    let before = repo.snapshot()?;
    let error = repo
        .create_with(&request("x", Some(MissionTopology::Coord)), 1, None)
        .expect_err("protected");
    assert_eq!(error.code(), "PROTECTED_BRANCH_REFUSED");
    assert_eq!(
        error.to_string(),
        "Refusing to create a mission on protected branch `main`"
    );
    assert!(error.hint().contains("--target-branch"), "{}", error.hint());
    assert_eq!(repo.snapshot()?, before);

    // An explicit protected target is refused the same way from a feature branch.
    repo.git(&["switch", "-q", "feature/x"])?;
    let mut explicit = request("x", None);
    explicit.target_branch = Some("master".to_owned());
    repo.git(&["branch", "master"])?;
    let error = repo.create_with(&explicit, 1, None).expect_err("protected");
    assert_eq!(error.code(), "PROTECTED_BRANCH_REFUSED");

    // From main, `--target-branch` names a feature branch and the create goes through.
    repo.git(&["switch", "-q", "main"])?;
    let mut elsewhere = request("x", None);
    elsewhere.target_branch = Some("feature/x".to_owned());
    let created = repo.create_with(&elsewhere, 2, None)?;
    assert!(!created.checked_out);
    Ok(())
}

#[test]
fn refusals_before_any_write() -> TestResult {
    let repo = TestRepo::new()?;
    let before = repo.snapshot()?;
    let cases: Vec<(CreateMissionRequest, &str)> = vec![
        (request("Bad_Slug", None), "INVALID_MISSION_SLUG"),
        (request("a--b", None), "INVALID_MISSION_SLUG"),
        (
            CreateMissionRequest {
                target_branch: Some("refs/heads/feature/x".to_owned()),
                ..request("x", None)
            },
            "CREATE_TIME_TARGET_INVALID",
        ),
        (
            CreateMissionRequest {
                target_branch: Some(" feature/x".to_owned()),
                ..request("x", None)
            },
            "CREATE_TIME_TARGET_INVALID",
        ),
        (
            CreateMissionRequest {
                target_branch: Some("no..dots".to_owned()),
                ..request("x", None)
            },
            "CREATE_TIME_TARGET_INVALID",
        ),
        (
            CreateMissionRequest {
                target_branch: Some("feature/none".to_owned()),
                ..request("x", None)
            },
            "TARGET_BRANCH_NOT_FOUND",
        ),
    ];
    for (request, code) in cases {
        let error = repo.create_with(&request, 1, None).expect_err(code);
        assert_eq!(error.code(), code, "{request:?}: {error}");
        assert!(!error.hint().is_empty());
    }
    assert_eq!(repo.snapshot()?, before);

    // A branch checked out in a linked worktree cannot be moved behind its back.
    repo.git(&[
        "worktree",
        "add",
        "-q",
        ".worktrees/side",
        "-b",
        "feature/side",
    ])?;
    let before = repo.snapshot()?;
    let side = CreateMissionRequest {
        target_branch: Some("feature/side".to_owned()),
        ..request("x", None)
    };
    let error = repo.create_with(&side, 1, None).expect_err("elsewhere");
    assert_eq!(error.code(), "TARGET_BRANCH_CHECKED_OUT_ELSEWHERE");
    assert_eq!(repo.snapshot()?, before);

    // Creating from a linked worktree is refused.
    let linked = missionctl_store::repo::Repo::discover(&repo.path(".worktrees/side"))?;
    let clock = missionctl_store::clock::FixedClock::from_unix_micros(crate::common::NOW_MICROS)
        .with_mission_id(mission_id(1));
    let protected = crate::common::protected();
    let options = missionctl_store::mission::create::CreateOptions {
        clock: &clock,
        protected_branches: &protected,
        identity: Some(crate::common::identity()),
        fail_after: None,
    };
    let error =
        missionctl_store::mission::create::create_mission(&linked, &request("x", None), &options)
            .expect_err("linked");
    assert_eq!(error.code(), "CREATE_FROM_WORKTREE_REFUSED");
    assert_eq!(repo.snapshot()?, before);

    // The same id twice: the directory exists.
    repo.create("dup", None, 3)?;
    let before = repo.snapshot()?;
    let error = repo
        .create_with(&request("dup", None), 3, None)
        .expect_err("exists");
    assert_eq!(error.code(), "MISSION_DIR_EXISTS");
    assert_eq!(repo.snapshot()?, before);
    Ok(())
}

#[test]
fn default_topology_follows_the_branch() -> TestResult {
    // On a feature branch without `origin/HEAD`, the primary branch falls back to the current
    // branch, so Spec Kitty's rule gives `coord`.
    let repo = TestRepo::new()?;
    let created = repo.create_with(&request("a", None), 1, None)?;
    assert_eq!(created.topology, MissionTopology::Coord);
    assert!(!created.topology_requested);

    // With `origin/HEAD` naming `main`, a feature branch gives `single_branch`...
    let remote = TestRepo::empty_dir()?;
    crate::common::git_in(remote.root(), &["init", "-q", "--bare"])?;
    let url = remote.root().display().to_string();
    repo.git(&["remote", "add", "origin", &url])?;
    repo.git(&["push", "-q", "origin", "main"])?;
    repo.git(&["remote", "set-head", "origin", "main"])?;
    let created = repo.create_with(&request("b", None), 2, None)?;
    assert_eq!(created.topology, MissionTopology::SingleBranch);

    // ...unless the mission is PR-bound.
    let pr_bound = CreateMissionRequest {
        pr_bound: true,
        ..request("c", None)
    };
    let created = repo.create_with(&pr_bound, 3, None)?;
    assert_eq!(created.topology, MissionTopology::Coord);
    let meta = std::fs::read_to_string(created.mission_dir.join("meta.json"))?;
    assert!(meta.contains("\"pr_bound\": true"), "{meta}");
    Ok(())
}

#[test]
fn a_failure_at_any_step_leaves_the_repository_as_it_was() -> TestResult {
    let steps = [
        CreateStep::WriteFiles,
        CreateStep::WriteObjects,
        CreateStep::CreateCoordinationBranch,
    ];
    for step in steps {
        for topology in [MissionTopology::Coord, MissionTopology::Lanes] {
            let repo = TestRepo::new()?;
            dirty(&repo)?;
            let before = repo.snapshot()?;
            let error = repo
                .create_with(&request("invoice-export", Some(topology)), 1, Some(step))
                .map(|created| created.commit);
            let applies = topology.routes_through_coordination()
                || step != CreateStep::CreateCoordinationBranch;
            if applies {
                let error = error.expect_err("injected failure");
                assert_eq!(error.code(), "INJECTED_FAILURE", "{step:?}");
                assert_eq!(repo.snapshot()?, before, "{step:?} × {topology}");
            } else {
                error?;
            }
        }
        // The not-checked-out path has fewer steps; each rolls back too.
        let repo = TestRepo::new()?;
        repo.git(&["branch", "feature/plan"])?;
        let before = repo.snapshot()?;
        let elsewhere = CreateMissionRequest {
            target_branch: Some("feature/plan".to_owned()),
            ..request("x", Some(MissionTopology::LanesWithCoord))
        };
        let outcome = repo.create_with(&elsewhere, 1, Some(step));
        if step == CreateStep::WriteFiles {
            outcome?;
        } else {
            assert_eq!(outcome.expect_err("injected").code(), "INJECTED_FAILURE");
            assert_eq!(repo.snapshot()?, before, "{step:?} not checked out");
        }
    }
    Ok(())
}

#[test]
fn a_real_git_failure_rolls_back_the_steps_before_it() -> TestResult {
    // Ref and index locks left by a dead git make the index update, the coordination branch
    // and the ref update fail for real (at once: they are older than the write's patience),
    // after the earlier steps succeeded; the locks are reported, never removed.
    let id = mission_id(1);
    let coordination_lock = format!(
        ".git/refs/heads/kitty/mission-invoice-export-{}.lock",
        id.mid8()
    );
    let locks = [
        ".git/refs/heads/feature/x.lock",
        coordination_lock.as_str(),
        ".git/index.lock",
    ];
    for lock in locks {
        let repo = TestRepo::new()?;
        dirty(&repo)?;
        repo.write(lock, "")?;
        std::fs::File::options()
            .write(true)
            .open(repo.path(lock))?
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))?;
        let before = repo.snapshot()?;
        let error = repo
            .create_with(
                &request("invoice-export", Some(MissionTopology::Coord)),
                1,
                None,
            )
            .expect_err("lock held");
        assert_eq!(error.code(), "GIT_LOCK_BUSY", "{lock}: {error}");
        assert_eq!(repo.snapshot()?, before, "{lock}");
        assert!(repo.path(lock).exists(), "{lock}");
        std::fs::remove_file(repo.path(lock))?;
        repo.git(&["fsck", "--no-progress"])?;
        // With the lock gone the same create succeeds.
        repo.create_with(
            &request("invoice-export", Some(MissionTopology::Coord)),
            1,
            None,
        )?;
    }
    Ok(())
}
