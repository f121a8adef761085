//! The write door's `advance_branch`: a checked-out branch moved to a commit made elsewhere,
//! its index and files following, refused over local changes, undone when the transaction is.

use gix::ObjectId;
use missionctl_store::write::{AdvanceRequest, Scope, WriteTransaction};

use crate::common::{TestRepo, TestResult};

/// Returns the repository with `feature/x` checked out and a commit `next` made on a side
/// branch (not checked out) on top of it: `a.txt` changed, `b.txt` removed, `dir/c.txt` added.
fn repo_with_next() -> Result<(TestRepo, ObjectId, ObjectId), Box<dyn std::error::Error>> {
    let repo = TestRepo::new()?;
    repo.write("a.txt", "one\n")?;
    repo.write("b.txt", "bee\n")?;
    repo.write("untouched.txt", "same\n")?;
    repo.git(&["add", "."])?;
    repo.git(&["commit", "-q", "-m", "base"])?;
    let old = repo.git(&["rev-parse", "HEAD"])?;
    repo.git(&["switch", "-q", "-c", "side"])?;
    repo.write("a.txt", "two\n")?;
    repo.git(&["rm", "-q", "b.txt"])?;
    repo.write("dir/c.txt", "sea\n")?;
    repo.git(&["add", "."])?;
    repo.git(&["commit", "-q", "-m", "next"])?;
    let new = repo.git(&["rev-parse", "HEAD"])?;
    repo.git(&["switch", "-q", "feature/x"])?;
    Ok((
        repo,
        ObjectId::from_hex(old.trim().as_bytes())?,
        ObjectId::from_hex(new.trim().as_bytes())?,
    ))
}

fn advance(
    repo: &TestRepo,
    old: ObjectId,
    new: ObjectId,
    finish: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut transaction =
        WriteTransaction::begin(&repo.repo()?, Scope::Mission("m".to_owned()), "test")?;
    transaction.advance_branch(&AdvanceRequest {
        branch: "feature/x",
        old,
        new,
        checkout: Some(repo.root()),
        message: "test: advance",
        point: true,
    })?;
    if finish {
        transaction.finish()?;
    } else {
        drop(transaction);
    }
    Ok(())
}

#[test]
fn the_checkout_follows_the_branch_and_other_changes_stay() -> TestResult {
    let (repo, old, new) = repo_with_next()?;
    repo.write("untouched.txt", "edited by the user\n")?;
    repo.write("scratch.txt", "untracked\n")?;
    advance(&repo, old, new, true)?;
    assert_eq!(
        repo.git(&["rev-parse", "feature/x"])?.trim(),
        new.to_string()
    );
    assert_eq!(std::fs::read_to_string(repo.path("a.txt"))?, "two\n");
    assert!(!repo.path("b.txt").exists());
    assert_eq!(std::fs::read_to_string(repo.path("dir/c.txt"))?, "sea\n");
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"])?,
        " M untouched.txt\n?? scratch.txt\n"
    );
    Ok(())
}

#[test]
fn local_changes_to_a_path_that_changes_refuse_and_change_nothing() -> TestResult {
    let (repo, old, new) = repo_with_next()?;
    repo.write("a.txt", "mine\n")?;
    repo.write("dir/c.txt", "in the way\n")?;
    let before = repo.snapshot()?;
    let error = advance(&repo, old, new, true).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("`a.txt`"), "{message}");
    assert_eq!(repo.snapshot()?, before);
    Ok(())
}

#[test]
fn a_transaction_dropped_before_it_finishes_puts_files_index_and_branch_back() -> TestResult {
    let (repo, old, new) = repo_with_next()?;
    // Not the commit point's transaction finishing: dropping it undoes it, as recovery would.
    let before = repo.snapshot()?;
    {
        let mut transaction =
            WriteTransaction::begin(&repo.repo()?, Scope::Mission("m".to_owned()), "test")?;
        transaction.advance_branch(&AdvanceRequest {
            branch: "feature/x",
            old,
            new,
            checkout: Some(repo.root()),
            message: "test: advance",
            point: false,
        })?;
        assert_eq!(std::fs::read_to_string(repo.path("a.txt"))?, "two\n");
    }
    let after = repo.snapshot()?;
    assert_eq!(after.refs, before.refs);
    assert_eq!(after.status, before.status);
    assert_eq!(after.files, before.files);
    Ok(())
}

#[test]
fn files_git_was_still_writing_when_stopped_are_taken_back() -> TestResult {
    let (repo, old, new) = repo_with_next()?;
    let before = repo.snapshot()?;
    {
        let mut transaction =
            WriteTransaction::begin(&repo.repo()?, Scope::Mission("m".to_owned()), "test")?;
        transaction.advance_branch(&AdvanceRequest {
            branch: "feature/x",
            old,
            new,
            checkout: Some(repo.root()),
            message: "test: advance",
            point: false,
        })?;
        // As a `read-tree -u` killed in the middle of writing leaves them: the start of the new
        // content, or nothing yet.
        repo.write("a.txt", "tw")?;
        repo.write("dir/c.txt", "")?;
    }
    let after = repo.snapshot()?;
    assert_eq!(after.refs, before.refs);
    assert_eq!(after.status, before.status);
    assert_eq!(after.files, before.files);
    Ok(())
}
