//! Writers racing, 8 processes at once: one winner and clean losers, for every writer that
//! can race — and a user staging files while creates fail keeps every file staged.
//!
//! See: issue 10 ("8 × `wp add` of the same id made 3 files for one id; 8 × `implement` of one
//! WP gave the losers `GIT_FAILED` or a husk error whose hint says to move the winner's live
//! worktree away; 7 of 8 parallel `mission create` failed"; "23 of 400 files a user was staging
//! at the same time came back unstaged").

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, mission};

/// How many processes race.
const RACERS: usize = 8;

/// Starts every command at once and returns their outputs, in order.
pub(crate) fn race(
    env: &TestEnv,
    repo: &Path,
    commands: &[Vec<String>],
) -> anyhow::Result<Vec<Output>> {
    let children: Vec<_> = commands
        .iter()
        .map(|args| env.command(repo, args).spawn())
        .collect::<Result<_, _>>()?;
    Ok(children
        .into_iter()
        .map(std::process::Child::wait_with_output)
        .collect::<Result<_, _>>()?)
}

/// Returns the JSON document of an output.
fn document(output: &Output) -> anyhow::Result<Value> {
    serde_json::from_slice(&output.stdout).map_err(|error| {
        anyhow::anyhow!(
            "{error}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Splits racers' documents into the successes and the error codes of the others.
fn outcomes(outputs: &[Output]) -> anyhow::Result<(Vec<Value>, Vec<Value>)> {
    let mut won = Vec::new();
    let mut lost = Vec::new();
    for output in outputs {
        let document = document(output)?;
        if document["ok"] == true {
            won.push(document["data"].clone());
        } else {
            lost.push(document["error"].clone());
        }
    }
    Ok((won, lost))
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

#[test]
fn eight_adds_of_one_work_package_id_make_one_file() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    // Each racer gives another title, so another file name: only the lock keeps them apart.
    let commands: Vec<Vec<String>> = (0..RACERS)
        .map(|i| {
            args(&[
                "--json",
                "wp",
                "add",
                &slug,
                "WP05",
                "--title",
                &format!("Title {i}"),
            ])
        })
        .collect();
    let (won, lost) = outcomes(&race(&env, &repo, &commands)?)?;
    assert_eq!(won.len(), 1, "{won:?} {lost:?}");
    for error in &lost {
        assert_eq!(error["code"], "WP_ALREADY_EXISTS", "{error}");
    }
    let files: Vec<String> = std::fs::read_dir(repo.join(format!("kitty-specs/{slug}/tasks")))?
        .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|name| name.starts_with("WP05"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    Ok(())
}

/// [`RACERS`] `implement WP01` commands of the mission `slug`, racer `i` as `actor(i)`.
fn implements_of_wp01(slug: &str, actor: impl Fn(usize) -> String) -> Vec<Vec<String>> {
    (0..RACERS)
        .map(|i| {
            args(&[
                "--json",
                "implement",
                "WP01",
                "--mission",
                slug,
                "--actor",
                &actor(i),
            ])
        })
        .collect()
}

#[test]
fn eight_implements_of_one_work_package_share_one_worktree() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes_with_coord")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    // One actor, eight times at once: one cuts the lane, the others find it and go on in it.
    let same = implements_of_wp01(&slug, |_| "claude".to_owned());
    let (won, lost) = outcomes(&race(&env, &repo, &same)?)?;
    assert!(lost.is_empty(), "{lost:?}");
    let workspaces: std::collections::BTreeSet<&str> = won
        .iter()
        .map(|data| data["workspace"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(workspaces.len(), 1, "{workspaces:?}");
    let created = won
        .iter()
        .filter(|data| data["worktree"] == "created")
        .count();
    assert_eq!(created, 1, "{won:?}");
    let moved: usize = won
        .iter()
        .map(|data| data["event_ids"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(moved, 2, "planned -> claimed -> in_progress once");
    let listed = env.git(&repo, &["worktree", "list", "--porcelain"])?;
    // The primary checkout, the coordination worktree and one lane worktree.
    assert_eq!(listed.matches("worktree ").count(), 3, "{listed}");

    // Other actors, eight at once: each is told who holds it, never to move a worktree.
    let others = implements_of_wp01(&slug, |i| format!("agent-{i}"));
    let (won, lost) = outcomes(&race(&env, &repo, &others)?)?;
    assert!(won.is_empty(), "{won:?}");
    for error in &lost {
        assert_eq!(error["code"], "WORK_PACKAGE_CLAIM_CONFLICT", "{error}");
        let hint = error["hint"].as_str().unwrap_or_default();
        assert!(hint.contains("--actor claude"), "{hint}");
        assert!(!hint.contains("worktree"), "{hint}");
    }
    Ok(())
}

#[test]
fn eight_actors_implementing_one_work_package_have_one_winner() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    let commands = implements_of_wp01(&slug, |i| format!("agent-{i}"));
    let (won, lost) = outcomes(&race(&env, &repo, &commands)?)?;
    assert_eq!(won.len(), 1, "{won:?} {lost:?}");
    let winner = won[0]["event_ids"].as_array().map_or(0, Vec::len);
    assert_eq!(winner, 2);
    for error in &lost {
        assert_eq!(error["code"], "WORK_PACKAGE_CLAIM_CONFLICT", "{error}");
    }
    let listed = env.git(&repo, &["worktree", "list", "--porcelain"])?;
    assert_eq!(listed.matches("worktree ").count(), 2, "{listed}");
    assert_eq!(
        env.git(&repo, &["status", "--porcelain", "--untracked-files=all"])?,
        ""
    );
    Ok(())
}

#[test]
fn eight_mission_creates_at_once_all_succeed() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let commands: Vec<Vec<String>> = (0..RACERS)
        .map(|i| {
            let topology = ["coord", "lanes"][i % 2];
            args(&[
                "--json",
                "mission",
                "create",
                &format!("race-{i}"),
                "--topology",
                topology,
            ])
        })
        .collect();
    let (won, lost) = outcomes(&race(&env, &repo, &commands)?)?;
    assert!(lost.is_empty(), "{lost:?}");
    assert_eq!(won.len(), RACERS);
    let committed = env.git(&repo, &["ls-tree", "--name-only", "HEAD", "kitty-specs/"])?;
    assert_eq!(committed.lines().count(), RACERS, "{committed}");
    assert_eq!(
        env.git(&repo, &["status", "--porcelain", "--untracked-files=all"])?,
        ""
    );
    let log = env.git(&repo, &["log", "--format=%s", "-9"])?;
    assert_eq!(log.matches("Add scaffold").count(), RACERS, "{log}");
    Ok(())
}

// See: issue 10 ("a failed `mission create` restores a saved copy of `.git/index` without taking
// `index.lock`: 23 of 400 files a user was staging at the same time came back unstaged").
#[test]
fn a_user_staging_files_while_creates_fail_keeps_every_file_staged() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    // Every create fails at its last step, after it staged its files: a hook refuses the
    // branch update, and the create puts the index entries it staged back.
    let hook = repo.join(".git/hooks/reference-transaction");
    std::fs::create_dir_all(repo.join(".git/hooks"))?;
    std::fs::write(
        &hook,
        "#!/bin/sh\n[ \"$1\" = prepared ] && grep -q refs/heads/feature/x && exit 1\nexit 0\n",
    )?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    const FILES: usize = 400;
    for i in 0..FILES {
        std::fs::write(repo.join(format!("user-{i:03}.txt")), format!("{i}\n"))?;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let creator = {
        let stop = stop.clone();
        let command = |i: usize| {
            env.command(
                &repo,
                ["--json", "mission", "create", &format!("failing-{i}")],
            )
        };
        let mut commands: Vec<std::process::Command> = (0..200).map(command).collect();
        std::thread::spawn(move || -> anyhow::Result<usize> {
            let mut failed = 0;
            for command in &mut commands {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let output = command.output()?;
                let document: Value = serde_json::from_slice(&output.stdout)?;
                anyhow::ensure!(
                    document["error"]["code"] == "GIT_HOOK_REJECTED",
                    "{document}"
                );
                failed += 1;
            }
            Ok(failed)
        })
    };
    // The user stages each file, trying again when git finds the index locked.
    for i in 0..FILES {
        let name = format!("user-{i:03}.txt");
        let mut tries = 0;
        while env.git(&repo, &["add", &name]).is_err() {
            tries += 1;
            anyhow::ensure!(tries < 1000, "`git add {name}` never got the index");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let failed = creator
        .join()
        .map_err(|_| anyhow::anyhow!("the creating thread panicked"))??;
    assert!(failed > 0, "no create ran while the user staged");
    let staged = env.git(&repo, &["diff", "--cached", "--name-only"])?;
    let unstaged: Vec<String> = (0..FILES)
        .map(|i| format!("user-{i:03}.txt"))
        .filter(|name| !staged.lines().any(|line| line == name))
        .collect();
    assert!(unstaged.is_empty(), "came back unstaged: {unstaged:?}");
    assert_eq!(staged.lines().count(), FILES, "nothing else is staged");
    assert!(
        !repo.join("kitty-specs").exists()
            || std::fs::read_dir(repo.join("kitty-specs"))?
                .next()
                .is_none()
    );
    Ok(())
}
