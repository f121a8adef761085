//! Containment: no read or write follows a symbolic link under the repository.
//!
//! A cloned repository (or an archive of one) can carry links where missionctl reads and
//! writes. Each case below plants one — at `kitty-specs/`, a mission directory, `tasks/`, a
//! file under `kitty-specs/`, `.kittify`, `.kittify/runtime`, `.kittify/workspaces`,
//! `.worktrees`, the lock directory, a lock file left dangling, the cache directory — pointing
//! at a copy of what it replaces outside the repository, then runs the commands that read and
//! write through that path: each must fail with `SYMLINK_REFUSED` naming the link, exit 1,
//! and leave the outside copy byte for byte as it was (a dangling link's target is never
//! created).
//! See: issue 10, item 4.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{SPEC, add_three, mission};

/// A mission of `topology` with three work packages, finalized, WP01 implemented (so lane
/// worktrees, workspace context files, run files and the snapshot cache exist where the
/// topology has them), and `spec.md` written.
fn prepared(env: &TestEnv, topology: &str) -> anyhow::Result<(PathBuf, String)> {
    let (repo, slug) = mission(env, topology)?;
    add_three(env, &repo, &slug)?;
    std::fs::write(
        repo.join(format!("kitty-specs/{slug}/spec.md")),
        format!("{SPEC}\nEdited after planning.\n"),
    )?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    env.json_data(&repo, &["board", "--mission", &slug])?;
    Ok((repo, slug))
}

/// Every file below `dir` with its bytes (links recorded as links, never followed).
fn snapshot_of(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let relative = path.strip_prefix(root)?.display().to_string();
            let kind = std::fs::symlink_metadata(&path)?.file_type();
            if kind.is_symlink() {
                out.insert(
                    relative,
                    format!("-> {}", std::fs::read_link(&path)?.display()),
                );
            } else if kind.is_dir() {
                out.insert(format!("{relative}/"), String::new());
                walk(root, &path, out)?;
            } else {
                out.insert(relative, format!("{:?}", std::fs::read(&path)?));
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out)?;
    } else if dir.exists() {
        out.insert(String::new(), format!("{:?}", std::fs::read(dir)?));
    }
    Ok(out)
}

/// Where a link is planted and what it points at.
enum Target {
    /// The path's current contents, moved outside the repository (an empty directory when
    /// nothing is there).
    MovedOutside,
    /// A path outside the repository that does not exist.
    Dangling,
}

/// Replaces `path` (relative to the repository) by a link to a place outside it; returns the
/// link's absolute path and the outside place.
fn plant(
    env: &TestEnv,
    repo: &Path,
    path: &str,
    target: &Target,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let link = repo.join(path);
    let outside = env.root().join("outside").join(path.replace('/', "_"));
    std::fs::create_dir_all(outside.parent().unwrap_or(env.root()))?;
    match target {
        Target::MovedOutside if link.exists() => std::fs::rename(&link, &outside)?,
        Target::MovedOutside => std::fs::create_dir_all(&outside)?,
        Target::Dangling => {
            if std::fs::symlink_metadata(&link).is_ok() {
                std::fs::remove_file(&link)?;
            }
        }
    }
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(&outside, &link)?;
    Ok((link, outside))
}

/// Runs each command with `--json` and checks it is refused with `code`, naming `link`.
fn refused_everywhere(
    env: &TestEnv,
    repo: &Path,
    link: &Path,
    code: &str,
    commands: &[Vec<String>],
) -> TestResult {
    for args in commands {
        let mut all = args.clone();
        all.push("--json".to_owned());
        let output = env.run_in(repo, &all);
        anyhow::ensure!(output.status == Some(1), "{args:?}:\n{output}");
        let error = output.json_error()?;
        anyhow::ensure!(error["code"] == code, "{args:?}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        anyhow::ensure!(
            message.contains(&format!("`{}`", link.display())),
            "{args:?} does not name the link: {message}"
        );
        if code == "SYMLINK_REFUSED" {
            let hint = error["hint"].as_str().unwrap_or_default();
            anyhow::ensure!(hint.contains("follows no symbolic link"), "{hint}");
        }
    }
    Ok(())
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

struct Case {
    topology: &'static str,
    /// The path replaced by a link, relative to the repository (`{slug}` is the mission).
    path: &'static str,
    target: Target,
    /// The commands that read or write through it (`{slug}` is the mission).
    commands: &'static [&'static [&'static str]],
}

const MOVE: &[&str] = &[
    "move",
    "WP02",
    "--to",
    "claimed",
    "--mission",
    "{slug}",
    "--actor",
    "a",
    "--force",
    "--reason",
    "r",
];
const BOARD: &[&str] = &["board", "--mission", "{slug}"];
const WP_ADD: &[&str] = &["wp", "add", "{slug}", "WP09", "--title", "Nine"];
const IMPLEMENT: &[&str] = &["implement", "WP01", "--mission", "{slug}", "--actor", "a"];
const NEXT_RESULT: &[&str] = &[
    "next",
    "--mission",
    "{slug}",
    "--agent",
    "a",
    "--result",
    "success",
];

fn run_case(env: &TestEnv, index: usize, case: &Case) -> TestResult {
    let (repo, slug) = prepared(env, case.topology)?;
    let moved = env.root().join(format!("case-{index}"));
    std::fs::rename(&repo, &moved)?;
    // Worktrees record absolute paths: let git find them again.
    env.git(&moved, &["worktree", "repair"])?;
    let repo = moved;
    let path = case.path.replace("{slug}", &slug);
    let (link, outside) = plant(env, &repo, &path, &case.target)?;
    let before = snapshot_of(&outside)?;
    let commands: Vec<Vec<String>> = case
        .commands
        .iter()
        .map(|command| {
            command
                .iter()
                .map(|item| item.replace("{slug}", &slug))
                .collect()
        })
        .collect();
    refused_everywhere(env, &repo, &link, "SYMLINK_REFUSED", &commands)
        .map_err(|error| anyhow::anyhow!("{path} ({}): {error}", case.topology))?;
    anyhow::ensure!(
        snapshot_of(&outside)? == before,
        "{path}: something was written outside the repository"
    );
    if matches!(case.target, Target::Dangling) {
        anyhow::ensure!(
            std::fs::symlink_metadata(&outside).is_err(),
            "{path}: the dangling link's target was created"
        );
    }
    Ok(())
}

#[test]
fn no_read_or_write_follows_a_link_under_kitty_specs() -> TestResult {
    let env = TestEnv::new()?;
    let cases = [
        Case {
            topology: "lanes",
            path: "kitty-specs",
            target: Target::MovedOutside,
            commands: &[
                BOARD,
                MOVE,
                WP_ADD,
                &["mission", "list"],
                &["mission", "create", "other"],
            ],
        },
        Case {
            topology: "lanes",
            path: "kitty-specs/{slug}",
            target: Target::MovedOutside,
            commands: &[
                BOARD,
                MOVE,
                WP_ADD,
                &["context", "--mission", "{slug}"],
                &["mission", "flatten", "{slug}"],
            ],
        },
        Case {
            topology: "lanes",
            path: "kitty-specs/{slug}/tasks",
            target: Target::MovedOutside,
            commands: &[
                BOARD,
                &["next", "--mission", "{slug}"],
                WP_ADD,
                IMPLEMENT,
                &["wp", "list", "{slug}"],
                &["ready", "--mission", "{slug}"],
                &["tasks", "finalize", "{slug}"],
                &["subtask", "done", "{slug}", "WP01", "T001"],
                &[
                    "map-requirements",
                    "{slug}",
                    "--wp",
                    "WP01",
                    "--refs",
                    "FR-001",
                ],
            ],
        },
        Case {
            topology: "lanes",
            path: "kitty-specs/{slug}/meta.json",
            target: Target::MovedOutside,
            commands: &[BOARD, MOVE, &["mission", "flatten", "{slug}"]],
        },
        Case {
            topology: "single_branch",
            path: "kitty-specs/{slug}/status.json",
            target: Target::MovedOutside,
            commands: &[
                MOVE,
                &["status", "validate", "--mission", "{slug}"],
                &["status", "materialize", "--mission", "{slug}"],
            ],
        },
        Case {
            topology: "lanes",
            path: "kitty-specs/{slug}/lanes.json",
            target: Target::MovedOutside,
            commands: &[
                IMPLEMENT,
                &["ready", "--mission", "{slug}"],
                &["wp", "list", "{slug}"],
                &["tasks", "finalize", "{slug}"],
            ],
        },
        Case {
            topology: "lanes",
            path: "kitty-specs/{slug}/spec.md",
            target: Target::MovedOutside,
            commands: &[
                // The query reads no spec (as Spec Kitty's); advancing checks it.
                NEXT_RESULT,
                &["spec-commit", "{slug}", "spec.md"],
                &[
                    "map-requirements",
                    "{slug}",
                    "--wp",
                    "WP01",
                    "--refs",
                    "FR-001",
                ],
            ],
        },
    ];
    for (index, case) in cases.iter().enumerate() {
        run_case(&env, index, case)?;
    }
    Ok(())
}

#[test]
fn a_work_package_file_that_is_a_link_is_refused() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = prepared(&env, "lanes")?;
    let tasks = repo.join(format!("kitty-specs/{slug}/tasks"));
    let file = std::fs::read_dir(&tasks)?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("WP01"))
        })
        .ok_or_else(|| anyhow::anyhow!("no WP01 file"))?;
    let outside = env.root().join("WP01-outside.md");
    std::fs::rename(&file, &outside)?;
    std::os::unix::fs::symlink(&outside, &file)?;
    let before = std::fs::read(&outside)?;
    let commands = [
        args(&["wp", "list", &slug]),
        args(&["board", "--mission", &slug]),
        args(&["implement", "WP01", "--mission", &slug, "--actor", "a"]),
        args(&[
            "map-requirements",
            &slug,
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
        ]),
        args(&["tasks", "finalize", &slug]),
    ];
    refused_everywhere(&env, &repo, &file, "SYMLINK_REFUSED", &commands)?;
    anyhow::ensure!(std::fs::read(&outside)? == before);
    Ok(())
}

#[test]
fn no_read_or_write_follows_a_link_under_kittify_or_worktrees() -> TestResult {
    let env = TestEnv::new()?;
    let cases = [
        Case {
            topology: "lanes",
            path: ".kittify",
            target: Target::MovedOutside,
            commands: &[
                NEXT_RESULT,
                IMPLEMENT,
                &["run", "list"],
                &["run", "start", "--mission", "{slug}"],
            ],
        },
        Case {
            topology: "lanes",
            path: ".kittify/runtime",
            target: Target::MovedOutside,
            commands: &[
                NEXT_RESULT,
                &["run", "list"],
                &["run", "start", "--mission", "{slug}"],
            ],
        },
        Case {
            topology: "lanes",
            path: ".kittify/runtime/feature-runs.lock",
            target: Target::Dangling,
            commands: &[NEXT_RESULT, &["run", "start", "--mission", "{slug}"]],
        },
        Case {
            topology: "lanes",
            path: ".kittify/workspaces",
            target: Target::MovedOutside,
            commands: &[IMPLEMENT],
        },
        Case {
            topology: "lanes",
            path: ".worktrees",
            target: Target::MovedOutside,
            commands: &[IMPLEMENT, &["worktree", "repair", "--mission", "{slug}"]],
        },
        Case {
            topology: "coord",
            path: ".worktrees",
            target: Target::MovedOutside,
            commands: &[BOARD, MOVE, &["history", "--mission", "{slug}"]],
        },
    ];
    for (index, case) in cases.iter().enumerate() {
        run_case(&env, 100 + index, case)?;
    }
    Ok(())
}

#[test]
fn no_write_follows_a_link_in_the_lock_or_cache_directory() -> TestResult {
    let env = TestEnv::new()?;
    let cases = [
        Case {
            topology: "single_branch",
            path: ".git/spec-kitty-locks",
            target: Target::MovedOutside,
            commands: &[MOVE, &["status", "materialize", "--mission", "{slug}"]],
        },
        Case {
            topology: "single_branch",
            path: ".git/spec-kitty-locks/{slug}.status.lock",
            target: Target::Dangling,
            commands: &[MOVE, &["subtask", "done", "{slug}", "WP01", "T001"]],
        },
        Case {
            topology: "single_branch",
            path: ".git/missionctl",
            target: Target::MovedOutside,
            commands: &[BOARD, MOVE],
        },
        Case {
            topology: "single_branch",
            path: ".git/missionctl/status-cache/{slug}.json",
            target: Target::Dangling,
            commands: &[BOARD, MOVE],
        },
    ];
    for (index, case) in cases.iter().enumerate() {
        run_case(&env, 200 + index, case)?;
    }
    Ok(())
}

#[test]
fn a_link_that_stays_inside_the_repository_is_refused_too() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = prepared(&env, "single_branch")?;
    std::fs::create_dir_all(repo.join("docs"))?;
    std::fs::rename(repo.join("kitty-specs"), repo.join("docs/specs"))?;
    std::os::unix::fs::symlink("docs/specs", repo.join("kitty-specs"))?;
    let link = repo.join("kitty-specs");
    let output = env
        .run_in(&repo, ["board", "--mission", &slug, "--json"])
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "SYMLINK_REFUSED");
    assert_eq!(
        error["message"],
        format!(
            "Refusing to follow the symbolic link `{}`: it points to `docs/specs` (inside the \
             repository)",
            link.display()
        )
    );
    // Without --json: the message, then the hint.
    let text = env.run_in(&repo, ["board", "--mission", &slug]).code(1);
    assert!(
        text.stderr
            .contains("hint: missionctl follows no symbolic link"),
        "{text}"
    );
    Ok(())
}
