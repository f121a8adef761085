//! Git hooks and failing object stores: every commit path honours the `reference-transaction`
//! hook the same way (a refusal fails the write, which leaves nothing behind), and a write
//! whose last step fails — a refused ref, an object database it cannot write — undoes the
//! branch, worktree and context file it made first.
//!
//! See: issue 10 ("`implement` failing on a read-only object store leaves its branch, worktree
//! and context file behind; `mission create` ignores a `reference-transaction` hook that `move`
//! honours").

use std::path::Path;

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, mission};

/// Installs a `reference-transaction` hook that refuses, in its `prepared` phase, every update
/// of a ref whose line holds `refused`.
pub(crate) fn refuse_refs(repo: &Path, refused: &str) -> anyhow::Result<()> {
    let hooks = repo.join(".git/hooks");
    std::fs::create_dir_all(&hooks)?;
    let hook = hooks.join("reference-transaction");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\n[ \"$1\" = prepared ] && grep -q '{refused}' && exit 1\nexit 0\n"),
    )?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[test]
fn every_writer_honours_the_reference_transaction_hook() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "single_branch")?;
    refuse_refs(&repo, "refs/heads/feature/x")?;
    let before = env.fingerprint(&repo)?;
    for args in [
        vec!["--json", "mission", "create", "refused"],
        vec!["--json", "status", "materialize", "--mission", &slug],
        vec![
            "--json",
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            &slug,
            "--actor",
            "a",
            "--force",
            "--reason",
            "r",
        ],
    ] {
        let output = env.run_in(&repo, &args).code(1);
        let error = output.json_error()?;
        assert_eq!(error["code"], "GIT_HOOK_REJECTED", "{args:?}: {output}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("`refs/heads/"), "{args:?}: {message}");
        assert_eq!(env.fingerprint(&repo)?, before, "{args:?} left something");
    }
    Ok(())
}

/// Returns the lane's branch, worktree and context file of `slug`'s `lane-a`.
fn lane_a(repo: &Path, slug: &str) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let mid8 = &slug[slug.len() - 8..];
    (
        format!("kitty/mission-task-list-{mid8}-lane-a"),
        repo.join(format!(".worktrees/{slug}-lane-a")),
        repo.join(format!(".kittify/workspaces/{slug}-lane-a.json")),
    )
}

#[test]
fn implement_failing_at_its_last_step_leaves_no_branch_worktree_or_context() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    let (branch, worktree, context) = lane_a(&repo, &slug);
    let refs_before = env.git(
        &repo,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    )?;

    // The status commit, the last step, is refused after the lane was cut.
    refuse_refs(&repo, "refs/heads/feature/x")?;
    let output = env
        .run_in(
            &repo,
            [
                "--json",
                "implement",
                "WP01",
                "--mission",
                &slug,
                "--actor",
                "claude",
            ],
        )
        .code(1);
    assert_eq!(
        output.json_error()?["code"],
        "GIT_HOOK_REJECTED",
        "{output}"
    );
    assert!(!worktree.exists(), "the worktree is left");
    assert!(!context.exists(), "the context file is left");
    assert_eq!(
        env.git(
            &repo,
            &["for-each-ref", "--format=%(refname) %(objectname)"]
        )?,
        refs_before,
        "a branch is left ({branch})"
    );
    let listed = env.git(&repo, &["worktree", "list", "--porcelain"])?;
    assert_eq!(listed.matches("worktree ").count(), 1, "{listed}");
    std::fs::remove_file(repo.join(".git/hooks/reference-transaction"))?;

    // An object database that cannot be written fails the same way, leaving nothing: made
    // read-only where the file system enforces it, and otherwise (root) with every object
    // packed and each fan-out directory a plain file, so no new object can be stored.
    let objects = repo.join(".git/objects");
    let blocked = if make_read_only(&objects)? {
        Vec::new()
    } else {
        block_new_objects(&env, &repo)?
    };
    let output = env
        .run_in(
            &repo,
            [
                "--json",
                "implement",
                "WP01",
                "--mission",
                &slug,
                "--actor",
                "claude",
            ],
        )
        .code(1);
    make_writable(&objects)?;
    for file in &blocked {
        std::fs::remove_file(file)?;
    }
    let _ = output.json_error()?;
    assert!(!worktree.exists() && !context.exists(), "{output}");
    assert_eq!(
        env.git(
            &repo,
            &["for-each-ref", "--format=%(refname) %(objectname)"]
        )?,
        refs_before
    );
    let listed = env.git(&repo, &["worktree", "list", "--porcelain"])?;
    assert_eq!(listed.matches("worktree ").count(), 1, "{listed}");
    // With nothing in the way the same command goes through.
    env.json_data(
        &repo,
        &["implement", "WP01", "--mission", &slug, "--actor", "claude"],
    )?;
    assert!(worktree.is_dir() && context.is_file());
    Ok(())
}

/// Makes every directory of the object database read-only; returns false (and changes
/// nothing) when the file system lets this process write there anyway (root).
fn make_read_only(objects: &Path) -> anyhow::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let mut dirs = vec![objects.to_path_buf()];
    let mut all = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        all.push(dir);
    }
    for dir in &all {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555))?;
    }
    let probe = objects.join("missionctl-probe");
    if std::fs::write(&probe, "x").is_ok() {
        std::fs::remove_file(&probe)?;
        make_writable(objects)?;
        return Ok(false);
    }
    Ok(true)
}

/// Makes the object database unable to store a new object, whatever the process's rights:
/// every object is packed (`git gc --prune=now`), and each of the 256 fan-out directories a
/// loose object would go into is replaced by a plain file. Returns the files to remove.
fn block_new_objects(env: &TestEnv, repo: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    env.git(repo, &["gc", "--quiet", "--prune=now"])?;
    let objects = repo.join(".git/objects");
    let mut blocked = Vec::new();
    for byte in 0..=255u8 {
        let fanout = objects.join(format!("{byte:02x}"));
        if fanout.is_dir() {
            std::fs::remove_dir(&fanout).map_err(|error| {
                anyhow::anyhow!("{} still holds objects: {error}", fanout.display())
            })?;
        }
        std::fs::write(&fanout, "")?;
        blocked.push(fanout);
    }
    Ok(blocked)
}

fn make_writable(objects: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut dirs = vec![objects.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
    }
    Ok(())
}
