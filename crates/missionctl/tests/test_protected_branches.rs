//! Protected branches as Spec Kitty configures them: `.kittify/config.yaml`'s
//! `protection.protected_branches` and the `SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS` hatch
//! decide every write, and a refusal's hint names the way out that works — which the tests run.
//! Before, every write to a mission targeting `main` (127 of Spec Kitty's 412) was refused with
//! a hint that named no way out, and Spec Kitty's settings were ignored.
//! See: issue 11, item 5.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::sk_repo::split;
use crate::common::{TestEnv, TestResult};

const HATCH: &str = "SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS";

/// A repository set up as Spec Kitty's own: `main` checked out, `origin/HEAD` naming
/// `origin/main`, Spec Kitty's real `.kittify/config.yaml` (no `protection:` block), and a
/// `single_branch` mission targeting `main` with one work package (created through the hatch).
fn spec_kitty_like(env: &TestEnv) -> anyhow::Result<(PathBuf, String)> {
    let repo = env.root().join("repo");
    std::fs::create_dir(&repo)?;
    env.git(&repo, &["init", "--quiet", "--initial-branch", "main"])?;
    env.git(&repo, &["config", "user.name", "Test User"])?;
    env.git(&repo, &["config", "user.email", "test@missionctl.invalid"])?;
    std::fs::create_dir_all(repo.join(".kittify"))?;
    std::fs::copy(
        split().root.join("repo-context/.kittify/config.yaml"),
        repo.join(".kittify/config.yaml"),
    )?;
    std::fs::write(repo.join(".gitignore"), ".worktrees/\n")?;
    env.git(&repo, &["add", "."])?;
    env.git(&repo, &["commit", "--quiet", "--message", "init"])?;
    env.git(&repo, &["update-ref", "refs/remotes/origin/main", "HEAD"])?;
    env.git(
        &repo,
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    )?;
    let hatch = [(HATCH, OsStr::new("1"))];
    let created = json_ok(env.run_with(
        &repo,
        [
            "mission",
            "create",
            "shop",
            "--topology",
            "single_branch",
            "--json",
        ],
        &hatch,
    ))?;
    let slug = created["mission_slug"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    json_ok(env.run_with(
        &repo,
        [
            "wp",
            "add",
            &slug,
            "WP01",
            "--title",
            "Cart",
            "--requirement",
            "FR-001",
            "--owned-file",
            "src/cart/**",
            "--json",
        ],
        &hatch,
    ))?;
    Ok((repo, slug))
}

fn json_ok(output: crate::common::CommandOutput) -> anyhow::Result<Value> {
    anyhow::ensure!(output.status == Some(0), "{output}");
    Ok(output.json()?["data"].clone())
}

/// Runs `args` with `overrides`, checks the refusal's code, and returns its error object.
fn refusal(
    env: &TestEnv,
    repo: &Path,
    args: &[&str],
    overrides: &[(&str, &OsStr)],
    code: &str,
) -> anyhow::Result<Value> {
    let output = env.run_with(repo, args, overrides);
    anyhow::ensure!(output.status == Some(1), "{args:?}: {output}");
    let error = output.json_error()?;
    anyhow::ensure!(error["code"] == code, "{args:?}: {error}");
    Ok(error)
}

/// Returns the command a hint says to rerun: the text between backticks that starts with the
/// hatch, split into the variable and the arguments after `missionctl`.
fn hinted_command(hint: &str) -> anyhow::Result<Vec<String>> {
    let start = hint
        .find(&format!("`{HATCH}=1 missionctl "))
        .ok_or_else(|| anyhow::anyhow!("no command in {hint}"))?;
    let rest = &hint[start + 1..];
    let end = rest
        .find('`')
        .ok_or_else(|| anyhow::anyhow!("unterminated command in {hint}"))?;
    Ok(rest[..end].split(' ').skip(2).map(str::to_owned).collect())
}

#[test]
fn spec_kittys_own_settings_protect_main_and_the_hint_is_a_way_out_that_works() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = spec_kitty_like(&env)?;
    let before = env.fingerprint(&repo)?;
    let args = [
        "move",
        "WP01",
        "--to",
        "planned",
        "--mission",
        &slug,
        "--actor",
        "a",
        "--json",
    ];
    let error = refusal(&env, &repo, &args, &[], "PROTECTED_BRANCH_REFUSED")?;
    assert_eq!(
        error["message"],
        "Refusing to commit status to protected branch `main`"
    );
    let hint = error["hint"].as_str().unwrap_or_default();
    assert_eq!(
        hint,
        format!(
            "To commit to `main`, rerun it as `{HATCH}=1 missionctl move WP01 --to planned \
             --mission {slug} --actor a --json` (Spec Kitty's hatch for commits to protected \
             branches); or: `main` is protected by default (`main`, `master` and origin's \
             default branch `main`): to protect other branches, set `protection: \
             {{protected_branches: [<branch>, …]}}` in `.kittify/config.yaml` (`[]` for none; \
             Spec Kitty reads it too)"
        )
    );
    assert_eq!(env.fingerprint(&repo)?, before, "a refusal writes nothing");

    // The hinted command works.
    let command = hinted_command(hint)?;
    let moved = json_ok(env.run_with(&repo, &command, &[(HATCH, OsStr::new("1"))]))?;
    assert_eq!(moved["to_lane"], "planned");
    assert_eq!(moved["receipt"]["destination_ref"], "main");

    // The other way out: the branches to protect, in Spec Kitty's file.
    let config = repo.join(".kittify/config.yaml");
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str("protection:\n  protected_branches: [master]\n");
    std::fs::write(&config, &text)?;
    let moved = json_ok(env.run_in(
        &repo,
        [
            "move",
            "WP01",
            "--to",
            "claimed",
            "--mission",
            &slug,
            "--actor",
            "a",
            "--json",
        ],
    ))?;
    assert_eq!(moved["to_lane"], "claimed");
    Ok(())
}

#[test]
fn every_setting_decides_and_the_hint_names_the_one_that_protects() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = spec_kitty_like(&env)?;
    let config = repo.join(".kittify/config.yaml");
    let args = [
        "move",
        "WP01",
        "--to",
        "planned",
        "--mission",
        &slug,
        "--actor",
        "a",
        "--json",
    ];
    let spec_kittys = std::fs::read_to_string(&config)?;

    // The hatch: `1`, `true`, `yes` in any case; anything else keeps the protection.
    for value in ["0", "no", "false", "", "on"] {
        refusal(
            &env,
            &repo,
            &args,
            &[(HATCH, OsStr::new(value))],
            "PROTECTED_BRANCH_REFUSED",
        )?;
    }
    // An explicit list in the file: exactly those branches.
    std::fs::write(
        &config,
        format!("{spec_kittys}protection:\n  protected_branches: [main, release]\n"),
    )?;
    let error = refusal(&env, &repo, &args, &[], "PROTECTED_BRANCH_REFUSED")?;
    assert!(
        error["hint"].as_str().unwrap_or_default().ends_with(
            "or: `.kittify/config.yaml` lists `main` under `protection.protected_branches`: \
             remove it there (for Spec Kitty too)"
        ),
        "{error}"
    );
    // missionctl's own list replaces the file's.
    let error = refusal(
        &env,
        &repo,
        &args,
        &[("MISSIONCTL_PROTECTED_BRANCHES", OsStr::new("main"))],
        "PROTECTED_BRANCH_REFUSED",
    )?;
    assert!(
        error["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("`MISSIONCTL_PROTECTED_BRANCHES` lists `main`"),
        "{error}"
    );
    // A file Spec Kitty refuses: reads go on, every write is refused and says why.
    std::fs::write(
        &config,
        format!("{spec_kittys}protection:\n  protected_branches: main\n"),
    )?;
    let error = refusal(&env, &repo, &args, &[], "PROTECTION_CONFIG_INVALID")?;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("config.yaml`: protection.protected_branches must be a list, not a string"),
        "{error}"
    );
    json_ok(env.run_in(&repo, ["board", "--mission", &slug, "--json"]))?;
    // ... unless the hatch is on.
    for value in ["1", "TRUE", "Yes"] {
        std::fs::write(&config, &spec_kittys)?;
        let output = env.run_with(&repo, args, &[(HATCH, OsStr::new(value))]);
        json_ok(output)?;
        env.git(&repo, &["reset", "--quiet", "--hard", "HEAD~1"])?;
        // The reset took the move's commit back; the mission's log is the committed one.
    }
    // `[]`: nothing protected.
    std::fs::write(
        &config,
        format!("{spec_kittys}protection:\n  protected_branches: []\n"),
    )?;
    json_ok(env.run_in(&repo, args))?;
    Ok(())
}

#[test]
fn planning_writes_and_mission_create_are_protected_the_same_way() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = spec_kitty_like(&env)?;
    let hatch = [(HATCH, OsStr::new("1"))];
    for args in [
        vec![
            "wp",
            "add",
            &slug,
            "WP02",
            "--title",
            "Pay",
            "--requirement",
            "FR-001",
            "--owned-file",
            "src/pay.py",
            "--create-intent",
            "src/pay.py",
            "--json",
        ],
        vec!["tasks", "finalize", &slug, "--json"],
        vec!["mission", "create", "other", "--json"],
    ] {
        let error = refusal(&env, &repo, &args, &[], "PROTECTED_BRANCH_REFUSED")?;
        let hint = error["hint"].as_str().unwrap_or_default();
        let command = hinted_command(hint)?;
        assert_eq!(command, args, "{hint}");
        json_ok(env.run_with(&repo, &command, &hatch))?;
    }
    Ok(())
}

#[test]
fn a_mission_of_spec_kittys_repository_that_targets_main_is_refused_with_the_way_out() -> TestResult
{
    let repo = crate::common::sk_repo::fresh_repo()?;
    // A coordination-less mission targeting `main` whose WP01 has a task file.
    let mut chosen = None;
    for entry in std::fs::read_dir(repo.path().join("kitty-specs"))? {
        let dir = entry?.path();
        let Ok(meta) = std::fs::read(dir.join("meta.json")) else {
            continue;
        };
        let meta: Value = serde_json::from_slice(&meta).unwrap_or_default();
        let defined = std::fs::read_dir(dir.join("tasks")).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.file_name().to_string_lossy().starts_with("WP01-"))
        });
        if meta["target_branch"] == "main"
            && matches!(meta["topology"].as_str(), Some("single_branch" | "lanes"))
            && defined
        {
            chosen = dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            break;
        }
    }
    let Some(slug) = chosen else {
        anyhow::bail!("no single_branch or lanes mission targets main");
    };
    let output = repo.run([
        "move",
        "WP01",
        "--to",
        "blocked",
        "--mission",
        &slug,
        "--actor",
        "a",
        "--force",
        "--reason",
        "r",
        "--json",
    ]);
    assert_eq!(output.status, Some(1), "{output}");
    let error = output.json_error()?;
    assert_eq!(error["code"], "PROTECTED_BRANCH_REFUSED");
    let hint = error["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains(&format!("`{HATCH}=1 missionctl move WP01")),
        "{hint}"
    );
    assert!(
        hint.contains("(`main`, `master` and origin's default branch `main`)"),
        "{hint}"
    );
    Ok(())
}
