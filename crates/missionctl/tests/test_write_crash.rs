//! Every writer stopped at the write door's failpoints (and `mission create` also killed at
//! random instants, its process group or its whole tree): the same command run again succeeds,
//! and afterwards nothing is left half done — no journal, git lock or temporary file, nothing
//! staged that is not committed, the user's own files as they were, no mission directory
//! without its `meta.json`, no run without its `state.json` or missing from the index, no
//! worktree git does not know, `status validate` and `git fsck` clean. A newcomer's
//! `git commit` after any kill of `mission create` never deletes anything.
//!
//! See: issue 10 (every write survives kills, races and hostile checkouts).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::git_repo::FEATURE_BRANCH;
use crate::common::process::{Delays, Kill, rounds};
use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, mission};

/// A `spec.md` that declares two functional requirements.
const SPEC: &str = "# Feature Specification: Task list\n\n## Requirements\n\n\
| ID | Title | Description |\n|----|-------|-------------|\n\
| FR-001 | Add a task | The CLI adds a task |\n| FR-002 | List tasks | The CLI lists them |\n";

/// A repository with a finalized `lanes` mission and the user's own changes.
struct Stage {
    env: TestEnv,
    repo: PathBuf,
    slug: String,
}

impl Stage {
    fn new() -> anyhow::Result<Stage> {
        let env = TestEnv::new()?;
        let (repo, slug) = mission(&env, "lanes")?;
        std::fs::write(repo.join(format!("kitty-specs/{slug}/spec.md")), SPEC)?;
        env.json_data(&repo, &["spec-commit", &slug])?;
        add_three(&env, &repo, &slug)?;
        env.json_data(&repo, &["tasks", "finalize", &slug])?;
        // The user's own changes, which no write may touch.
        std::fs::write(repo.join("README.md"), "test repository, edited\n")?;
        std::fs::write(repo.join("notes.txt"), "mine\n")?;
        Ok(Stage { env, repo, slug })
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        self.env.git(&self.repo, args)
    }

    /// Creates a mission named `name` and returns its slug.
    fn new_mission(&self, name: &str) -> anyhow::Result<String> {
        let created = self.ok(&["mission", "create", name])?;
        Ok(created["mission_slug"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Runs `missionctl --json <args>`, succeeding, and returns its `data`.
    fn ok(&self, args: &[&str]) -> anyhow::Result<Value> {
        self.env.json_data(&self.repo, args)
    }
}

/// The git lock files, journals and temporary files of missionctl under `root` (`.git`
/// included); the lock files that are never deleted aside.
pub(crate) fn leftovers(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() {
                if !["objects", "spec-kitty-locks"].contains(&name.as_str()) {
                    pending.push(path);
                }
            } else if (name.ends_with(".lock")
                && !["repository.lock", "feature-runs.lock"].contains(&name.as_str()))
                || (name.ends_with(".jsonl")
                    && path.parent().is_some_and(|p| p.ends_with("journal")))
                || name.starts_with("missionctl-")
                || (name.starts_with(".missionctl-") && name.ends_with(".tmp"))
            {
                found.push(path.display().to_string());
            }
        }
    }
    Ok(found)
}

/// Checks that nothing is left half done (see the module documentation).
fn check_settled(stage: &Stage) -> anyhow::Result<()> {
    let leftovers = leftovers(&stage.repo)?;
    anyhow::ensure!(leftovers.is_empty(), "left behind: {leftovers:?}");
    let staged = stage.git(&["diff", "--cached", "--name-status"])?;
    anyhow::ensure!(staged.is_empty(), "staged and not committed: {staged}");
    anyhow::ensure!(
        std::fs::read_to_string(stage.repo.join("README.md"))? == "test repository, edited\n"
            && std::fs::read_to_string(stage.repo.join("notes.txt"))? == "mine\n",
        "the user's files changed"
    );
    for entry in std::fs::read_dir(stage.repo.join("kitty-specs"))? {
        let dir = entry?.path();
        anyhow::ensure!(
            dir.join("meta.json").is_file(),
            "a half-written mission directory: {}",
            dir.display()
        );
    }
    let listed = stage.git(&["worktree", "list", "--porcelain"])?;
    for line in listed.lines() {
        if let Some(path) = line.strip_prefix("worktree ") {
            anyhow::ensure!(
                Path::new(path).is_dir(),
                "a worktree without its directory: {path}"
            );
        }
    }
    anyhow::ensure!(
        !stage.repo.join(".worktrees/.materializing").exists(),
        "a staging checkout is left"
    );
    let runs = stage.ok(&["run", "list"])?;
    for run in runs["runs"].as_array().into_iter().flatten() {
        anyhow::ensure!(
            run["problem"].is_null() && run["indexed"] == true,
            "a run half started: {run}"
        );
    }
    stage.ok(&["status", "validate", "--mission", &stage.slug])?;
    crate::test_status_crash::fsck_at(&stage.repo)?;
    Ok(())
}

/// Runs `args` stopped at `failpoint`; returns false when the command never reached it (and
/// completed).
fn stopped_at(stage: &Stage, args: &[String], failpoint: &str) -> anyhow::Result<bool> {
    let output = stage.env.run_with(
        &stage.repo,
        args,
        &[("MISSIONCTL_FAILPOINT", std::ffi::OsStr::new(failpoint))],
    );
    match output.status {
        Some(86) => Ok(true),
        Some(0) => Ok(false),
        _ => anyhow::bail!("stopped at {failpoint}: {output}"),
    }
}

/// One writer of the matrix: the command of round `round` (after preparing what it needs with
/// commands that run to the end), and the failpoints it stops at.
struct Writer {
    name: &'static str,
    failpoints: &'static [&'static str],
    /// For a review command: what running it again answers when the stopped run was completed
    /// (its work stands), the refusal's code and the lane its work package is then in.
    again: Option<(&'static str, &'static str)>,
    round: fn(&Stage, usize) -> anyhow::Result<Vec<String>>,
}

fn args(words: &[&str]) -> Vec<String> {
    std::iter::once("--json")
        .chain(words.iter().copied())
        .map(str::to_owned)
        .collect()
}

const WRITERS: [Writer; 19] = [
    Writer {
        name: "wp add",
        failpoints: &["journal", "file", "finish"],
        again: None,
        round: |stage, round| {
            let id = format!("WP{}", 20 + round);
            let owned = format!("wp{round:03}/**");
            Ok(args(&wp_add_words(stage, &id, &owned, &[])))
        },
    },
    Writer {
        name: "spec-commit",
        failpoints: &[
            "journal",
            "index-locked",
            "index-prepared",
            "index-installed",
            "ref-updated",
            "finish",
        ],
        again: None,
        round: |stage, round| {
            let path = stage
                .repo
                .join(format!("kitty-specs/{}/spec.md", stage.slug));
            std::fs::write(&path, format!("{SPEC}\nRevision {round}.\n"))?;
            Ok(args(&["spec-commit", &stage.slug, "spec.md"]))
        },
    },
    Writer {
        name: "map-requirements",
        failpoints: &[
            "journal",
            "file",
            "index-installed",
            "ref-updated",
            "finish",
        ],
        again: None,
        round: |stage, round| {
            let refs = ["FR-001", "FR-002"][round % 2];
            Ok(args(&[
                "map-requirements",
                &stage.slug,
                "--wp",
                "WP01",
                "--refs",
                refs,
                "--replace",
            ]))
        },
    },
    Writer {
        name: "tasks finalize",
        failpoints: &[
            "journal",
            "file@1",
            "file@2",
            "index-installed@1",
            "ref-updated@1",
            "file@3",
            "index-installed@2",
            "ref-updated@2",
            "finish",
        ],
        again: None,
        round: |stage, round| {
            let id = format!("WP{}", 40 + round);
            let owned = format!("finalize{round:03}/**");
            stage.ok(&wp_add_words(stage, &id, &owned, &[]))?;
            Ok(args(&["tasks", "finalize", &stage.slug]))
        },
    },
    Writer {
        name: "implement",
        failpoints: &[
            "journal",
            "ref-updated@1",
            "worktree-added",
            "file@2",
            "index-installed",
            "ref-updated@2",
            "finish",
        ],
        again: None,
        round: |stage, round| {
            let id = format!("WP{}", 60 + round);
            let owned = format!("implement{round:03}/**");
            stage.ok(&wp_add_words(stage, &id, &owned, &[]))?;
            stage.ok(&["tasks", "finalize", &stage.slug])?;
            Ok(args(&[
                "implement",
                &id,
                "--mission",
                &stage.slug,
                "--actor",
                "claude",
            ]))
        },
    },
    Writer {
        name: "next --result",
        failpoints: &[
            "journal", "dir", "file@1", "file@2", "file@3", "file@4", "finish",
        ],
        again: None,
        round: |stage, _| {
            Ok(args(&[
                "next",
                "--mission",
                &stage.slug,
                "--agent",
                "claude",
                "--result",
                "success",
            ]))
        },
    },
    // The first `next` of a mission starts its run: stopped or killed there, no run may be
    // left without its `state.json` or missing from the index, nor a second one started.
    Writer {
        name: "first next --result",
        failpoints: &[
            "journal", "dir", "file@1", "file@2", "file@3", "file@4", "finish",
        ],
        again: None,
        round: |stage, round| {
            let slug = stage.new_mission(&format!("first-next-{round}"))?;
            Ok(args(&[
                "next",
                "--mission",
                &slug,
                "--agent",
                "claude",
                "--result",
                "success",
            ]))
        },
    },
    Writer {
        name: "run start",
        failpoints: &[
            "journal", "dir", "file@1", "file@2", "file@3", "file@4", "finish",
        ],
        again: None,
        round: |stage, round| {
            let slug = stage.new_mission(&format!("run-{round}"))?;
            Ok(args(&["run", "start", "--mission", &slug]))
        },
    },
    Writer {
        name: "merge-driver install",
        failpoints: &["journal", "file", "git@1", "git@3", "finish"],
        again: None,
        round: |stage, _| {
            let _ = std::fs::remove_file(stage.repo.join(".gitattributes"));
            for section in ["merge.spec-kitty-event-log", "merge.missionctl-status-json"] {
                let _ = stage.git(&["config", "--remove-section", section]);
            }
            Ok(args(&["merge-driver", "install"]))
        },
    },
    Writer {
        name: "mission flatten",
        failpoints: &["journal", "file", "finish"],
        again: None,
        round: |stage, round| {
            let created = stage.ok(&[
                "mission",
                "create",
                &format!("flat-{round}"),
                "--topology",
                "coord",
            ])?;
            let slug = created["mission_slug"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(args(&["mission", "flatten", &slug]))
        },
    },
    Writer {
        name: "migrate backfill-topology",
        failpoints: &["journal", "file", "finish"],
        again: None,
        round: |stage, round| {
            let dir = format!("legacy-{round}");
            crate::common::git_repo::write_mission(&stage.repo, &dir, &serde_json::json!({}))?;
            Ok(args(&["migrate", "backfill-topology", "--mission", &dir]))
        },
    },
    Writer {
        name: "status materialize",
        failpoints: &[
            "journal",
            "file",
            "index-installed",
            "ref-updated",
            "finish",
        ],
        again: None,
        round: |stage, _| {
            let path = stage
                .repo
                .join(format!("kitty-specs/{}/status.json", stage.slug));
            std::fs::write(&path, "{}\n")?;
            Ok(args(&["status", "materialize", "--mission", &stage.slug]))
        },
    },
    Writer {
        name: "subtask done",
        failpoints: &[
            "journal",
            "file",
            "index-installed",
            "ref-updated",
            "finish",
        ],
        again: None,
        round: |stage, round| {
            let id = format!("WP{}", 80 + round);
            let subtask = format!("T{}", 100 + round);
            let owned = format!("subtask{round:03}/**");
            stage.ok(&wp_add_words(stage, &id, &owned, &["--subtask", &subtask]))?;
            stage.ok(&["tasks", "finalize", &stage.slug])?;
            Ok(args(&[
                "subtask",
                "done",
                "--mission",
                &stage.slug,
                &id,
                &subtask,
            ]))
        },
    },
    Writer {
        name: "worktree repair",
        failpoints: &["journal", "git@1", "worktree-added", "finish"],
        again: None,
        round: |stage, round| {
            let id = format!("WP{}", 90 + round);
            let owned = format!("repair{round:03}/**");
            stage.ok(&wp_add_words(stage, &id, &owned, &[]))?;
            stage.ok(&["tasks", "finalize", &stage.slug])?;
            let before = worktree_paths(stage)?;
            stage.ok(&[
                "implement",
                &id,
                "--mission",
                &stage.slug,
                "--actor",
                "claude",
            ])?;
            // The lane worktree `implement` just made is lost (deleted by hand).
            for path in worktree_paths(stage)? {
                if !before.contains(&path) {
                    std::fs::remove_dir_all(&path)?;
                }
            }
            Ok(args(&["worktree", "repair", "--mission", &stage.slug]))
        },
    },
    Writer {
        name: "review start",
        failpoints: &["journal", "file", "ref-updated", "finish"],
        again: None,
        round: |stage, round| {
            let id = in_review_queue(stage, 200, round)?;
            Ok(review_args(stage, "start", &id, &["--actor", "claude"]))
        },
    },
    Writer {
        name: "review approve",
        failpoints: &["journal", "file", "ref-updated", "finish"],
        again: Some(("REVIEW_NOT_STARTED", "approved")),
        round: |stage, round| {
            let id = in_review(stage, 300, round)?;
            Ok(review_args(stage, "approve", &id, &["--actor", "claude"]))
        },
    },
    Writer {
        name: "review reject",
        failpoints: &[
            "journal",
            "ref-updated@1",
            "file@2",
            "index-installed@3",
            "ref-updated@2",
            "finish",
        ],
        again: Some(("REVIEW_NOT_STARTED", "planned")),
        round: |stage, round| {
            let id = in_review(stage, 400, round)?;
            let feedback = stage.env.root().join(format!("feedback-{round}.md"));
            std::fs::write(&feedback, crate::test_review::PEER_FEEDBACK)?;
            let feedback = feedback.to_string_lossy().into_owned();
            Ok(review_args(
                stage,
                "reject",
                &id,
                &["--feedback-file", &feedback],
            ))
        },
    },
    Writer {
        name: "review release",
        failpoints: &["journal", "file", "ref-updated", "finish"],
        again: Some(("REVIEW_NOT_STARTED", "for_review")),
        round: |stage, round| {
            let id = in_review(stage, 500, round)?;
            Ok(review_args(
                stage,
                "release",
                &id,
                &["--actor", "lead", "--reason", "reviewer went away"],
            ))
        },
    },
    Writer {
        name: "review unblock",
        failpoints: &["journal", "file", "ref-updated", "finish"],
        again: Some(("NOTHING_TO_UNBLOCK", "in_review")),
        round: |stage, round| {
            let id = in_review(stage, 600, round)?;
            stage.ok(&[
                "move",
                &id,
                "--to",
                "blocked",
                "--mission",
                &stage.slug,
                "--actor",
                "claude",
                "--force",
                "--reason",
                "waiting on design",
            ])?;
            Ok(review_args(
                stage,
                "unblock",
                &id,
                &["--actor", "lead", "--reason", "design settled"],
            ))
        },
    },
];

/// The words of `wp add <mission> <id> --title <id> --owned-file <owned> --requirement FR-001`,
/// then `extra`.
fn wp_add_words<'a>(
    stage: &'a Stage,
    id: &'a str,
    owned: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut words = vec![
        "wp",
        "add",
        &stage.slug,
        id,
        "--title",
        id,
        "--owned-file",
        owned,
        "--requirement",
        "FR-001",
    ];
    words.extend(extra);
    words
}

/// `--json review <verb> <id> -m <mission> <extra>`.
fn review_args(stage: &Stage, verb: &str, id: &str, extra: &[&str]) -> Vec<String> {
    let mut words = vec!["review", verb, id, "-m", &stage.slug];
    words.extend(extra);
    args(&words)
}

/// Adds work package `WP<base + round>` (one subtask, files of its own), implements it in its
/// lane and moves it to `for_review`; returns its id.
fn in_review_queue(stage: &Stage, base: usize, round: usize) -> anyhow::Result<String> {
    let id = format!("WP{}", base + round);
    let owned = format!("review{}/**", base + round);
    let subtask = format!("T{}", base + round);
    stage.ok(&wp_add_words(stage, &id, &owned, &["--subtask", &subtask]))?;
    stage.ok(&["tasks", "finalize", &stage.slug])?;
    let file = format!("review{}/work.txt", base + round);
    crate::test_review::implement_to_review(&stage.env, &stage.repo, &stage.slug, &id, &file)?;
    Ok(id)
}

/// Like [`in_review_queue`], then claimed for review by `claude`.
fn in_review(stage: &Stage, base: usize, round: usize) -> anyhow::Result<String> {
    let id = in_review_queue(stage, base, round)?;
    stage.ok(&[
        "review",
        "start",
        &id,
        "-m",
        &stage.slug,
        "--actor",
        "claude",
    ])?;
    Ok(id)
}

/// The directories of the repository's worktrees, as git lists them.
fn worktree_paths(stage: &Stage) -> anyhow::Result<Vec<String>> {
    Ok(stage
        .git(&["worktree", "list", "--porcelain"])?
        .lines()
        .filter_map(|line| line.strip_prefix("worktree "))
        .map(str::to_owned)
        .collect())
}

#[test]
fn every_writer_stopped_at_any_failpoint_is_settled_by_the_next_run() -> TestResult {
    for writer in &WRITERS {
        let stage = Stage::new()?;
        let mut reached = 0;
        for (round, failpoint) in writer.failpoints.iter().enumerate() {
            let what = format!("{} at {failpoint}", writer.name);
            let command = (writer.round)(&stage, round)?;
            if stopped_at(&stage, &command, failpoint)
                .map_err(|error| anyhow::anyhow!("{what}: {error}"))?
            {
                reached += 1;
            }
            // The same command again succeeds, on whatever the stopped one left (a review
            // command the stopped run completed says where its work package now is).
            let again = stage.env.run_in(&stage.repo, &command);
            if again.status != Some(0) {
                let Some((code, lane)) = writer.again else {
                    anyhow::bail!("{what}, run again: {again}");
                };
                anyhow::ensure!(
                    again.json_error()?["code"] == code,
                    "{what}, again: {again}"
                );
                let id = &command[3];
                let list = stage.ok(&["wp", "list", &stage.slug])?;
                let entry = list["work_packages"]
                    .as_array()
                    .and_then(|wps| wps.iter().find(|entry| entry["wp_id"] == id.as_str()))
                    .cloned()
                    .unwrap_or_default();
                anyhow::ensure!(entry["lane"] == lane, "{what}: {id} is {}", entry["lane"]);
            }
            check_settled(&stage).map_err(|error| anyhow::anyhow!("{what}: {error}"))?;
        }
        assert!(reached > 0, "{}: no failpoint was reached", writer.name);
    }
    Ok(())
}

// See: issue 10 ("One write door"), `init`: a writer that finds its work done before it takes
// its lock must not be fooled by a stopped writer's half-done work, which the next writer
// would undo under it; writing commands settle such journals first.
#[test]
fn init_stopped_anywhere_is_settled_by_the_next_init() -> TestResult {
    let env = TestEnv::new()?;
    let mut reached = 0;
    for failpoint in ["journal", "dir", "finish"] {
        let root = env.root().join(format!("repo-{failpoint}"));
        std::fs::create_dir(&root)?;
        env.git(&root, &["init", "--quiet"])?;
        let stopped = env.run_with(
            &root,
            ["--json", "init"],
            &[("MISSIONCTL_FAILPOINT", std::ffi::OsStr::new(failpoint))],
        );
        if stopped.status == Some(86) {
            reached += 1;
        }
        let again = env.run_in(&root, ["--json", "init"]).success();
        anyhow::ensure!(again.json()?["ok"] == true, "{failpoint}: {again}");
        anyhow::ensure!(
            root.join("kitty-specs").is_dir(),
            "{failpoint}: no kitty-specs/"
        );
        let left = leftovers(&root)?;
        anyhow::ensure!(left.is_empty(), "{failpoint}: left behind: {left:?}");
        // The next writer finds nothing to undo: the directory stays.
        env.run_in(&root, ["--json", "doctor", "--fix"]).success();
        anyhow::ensure!(
            root.join("kitty-specs").is_dir(),
            "{failpoint}: undone later"
        );
    }
    assert_eq!(reached, 3, "init stops at each of its failpoints");
    Ok(())
}

/// Kills of `mission create`, random ones (`MISSIONCTL_SOAK` multiplies them).
const CREATE_KILLS: usize = 8;

// See: issue 10 ("`mission create` killed alone leaves a stale ref lock on the user's branch, or
// the index behind HEAD, so the user's next `git commit` deletes missions").
#[test]
fn mission_create_killed_anywhere_never_leaves_a_commit_that_deletes_missions() -> TestResult {
    let stage = Stage::new()?;
    let mut delays = Delays::new(0x00c4_ea7e);
    // Deterministic kills first, at each step, then random ones.
    let failpoints = [
        "journal",
        "dir",
        "file",
        "index-installed",
        "ref-updated@1",
        "ref-updated@2",
        "finish",
    ];
    let started = std::time::Instant::now();
    stage.ok(&["mission", "create", "timing", "--topology", "coord"])?;
    let window = started.elapsed().mul_f64(1.3);
    // Each failpoint with each topology: a coordination mission's branch must exist before
    // its files are staged, whatever step the create stops at.
    let stops: Vec<(&str, &str)> = failpoints
        .iter()
        .flat_map(|failpoint| ["coord", "lanes"].map(|topology| (*failpoint, topology)))
        .collect();
    let total = stops.len() + rounds(CREATE_KILLS);
    for round in 0..total {
        let topology = stops
            .get(round)
            .map_or(["coord", "lanes"][round % 2], |(_, topology)| *topology);
        let command = args(&[
            "mission",
            "create",
            &format!("killed-{round}"),
            "--topology",
            topology,
        ]);
        let what = match stops.get(round) {
            Some((failpoint, _)) => {
                stopped_at(&stage, &command, failpoint)?;
                format!("stopped at {failpoint}")
            }
            None => {
                let kill = if round % 2 == 0 {
                    Kill::Group
                } else {
                    Kill::Tree
                };
                let mut child = stage.env.command(&stage.repo, &command).spawn()?;
                std::thread::sleep(delays.next(window));
                kill.apply(&mut child)?;
                let _ = child.wait_with_output()?;
                format!("{kill:?} kill")
            }
        };
        // A newcomer commits whatever is staged, before any missionctl runs again.
        let before = stage.git(&["rev-parse", "HEAD"])?;
        if stage
            .git(&["commit", "--quiet", "--allow-empty", "-m", "newcomer"])
            .is_ok()
        {
            let changes = stage.git(&[
                "diff",
                "--name-status",
                "--no-renames",
                before.trim(),
                "HEAD",
            ])?;
            anyhow::ensure!(
                !changes.lines().any(|line| line.starts_with('D')),
                "round {round} ({what}): the newcomer's commit deleted files: {changes}"
            );
        }
        // The next create succeeds and settles what the killed one left.
        let next = stage.ok(&[
            "mission",
            "create",
            &format!("next-{round}"),
            "--topology",
            "coord",
        ])?;
        anyhow::ensure!(next["commit"].is_string(), "{next}");
        check_settled(&stage)
            .map_err(|error| anyhow::anyhow!("round {round} ({what}): {error}"))?;
        // Every mission committed on the branch is in the working tree, and a coordination one
        // has its coordination branch, and no coordination branch is left without its mission.
        let committed = stage.git(&["ls-tree", "--name-only", "HEAD", "kitty-specs/"])?;
        let mut coordination = Vec::new();
        for dir in committed.lines() {
            let meta: Value = serde_json::from_str(&std::fs::read_to_string(
                stage.repo.join(dir).join("meta.json"),
            )?)?;
            if let Some(branch) = meta["coordination_branch"].as_str() {
                coordination.push(format!("refs/heads/{branch}"));
                stage
                    .git(&[
                        "rev-parse",
                        "--verify",
                        "--quiet",
                        &format!("refs/heads/{branch}"),
                    ])
                    .map_err(|error| {
                        anyhow::anyhow!("round {round} ({what}): {dir} lacks {branch}: {error}")
                    })?;
            }
        }
        let branches = stage.git(&["for-each-ref", "--format=%(refname)", "refs/heads/kitty/"])?;
        for branch in branches.lines() {
            anyhow::ensure!(
                branch.contains("-lane-") || coordination.iter().any(|known| known == branch),
                "round {round} ({what}): {branch} is left without its mission"
            );
        }
    }
    Ok(())
}

// See: issue 10 ("`mission create` killed alone leaves a stale ref lock on the user's branch"):
// killed with its git child while git holds the target branch's lock files, the next create
// clears them and undoes the killed one (its coordination branch included).
#[test]
fn mission_create_killed_while_git_holds_the_branch_locks_is_settled_by_the_next_one() -> TestResult
{
    let stage = Stage::new()?;
    // A `reference-transaction` hook that stops in the `prepared` phase of the target
    // branch's update: git then holds `refs/heads/feature/x.lock` and `HEAD.lock`.
    let marker = stage.env.root().join("prepared");
    let hook = stage.repo.join(".git/hooks/reference-transaction");
    std::fs::create_dir_all(stage.repo.join(".git/hooks"))?;
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nif [ \"$1\" = prepared ] && grep -q ' refs/heads/{FEATURE_BRANCH}$'; then \
             touch '{}'; sleep 30; fi\nexit 0\n",
            marker.display()
        ),
    )?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    let head_before = stage.git(&["rev-parse", "HEAD"])?;
    let command = args(&["mission", "create", "killed", "--topology", "coord"]);
    let mut child = stage.env.command(&stage.repo, &command).spawn()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !marker.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    anyhow::ensure!(marker.exists(), "the hook never ran");
    anyhow::ensure!(Kill::Tree.apply(&mut child)?, "the create ended early");
    let _ = child.wait()?;
    let branch_lock = stage
        .repo
        .join(format!(".git/refs/heads/{FEATURE_BRANCH}.lock"));
    let head_lock = stage.repo.join(".git/HEAD.lock");
    anyhow::ensure!(
        branch_lock.exists() && head_lock.exists(),
        "git's lock files are left"
    );
    std::fs::remove_file(&hook)?;
    let next = stage.ok(&["mission", "create", "next", "--topology", "coord"])?;
    anyhow::ensure!(
        !branch_lock.exists() && !head_lock.exists(),
        "the lock files were not cleared"
    );
    anyhow::ensure!(
        next["parent"].as_str() == Some(head_before.trim()),
        "the killed create was not undone: {next}"
    );
    let branches = stage.git(&["for-each-ref", "--format=%(refname)", "refs/heads/kitty/"])?;
    anyhow::ensure!(
        !branches.contains("mission-killed-"),
        "the killed create's coordination branch is left: {branches}"
    );
    check_settled(&stage)?;
    Ok(())
}

/// Random kills of each writer of the matrix (`MISSIONCTL_SOAK` multiplies them).
const WRITER_KILLS: usize = 2;

/// The commits a successful command's `--json` output names (`commit` fields, anywhere).
fn acknowledged_commits(stdout: &[u8]) -> Vec<String> {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        Value::String(text)
                            if key == "commit"
                                && text.len() == 40
                                && text.bytes().all(|byte| byte.is_ascii_hexdigit()) =>
                        {
                            found.push(text.clone());
                        }
                        _ => walk(value, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Ok(document) = serde_json::from_slice::<Value>(stdout)
        && document["ok"] == true
    {
        walk(&document["data"], &mut found);
    }
    found
}

/// `doctor --fix` leaves no leftover of an interrupted write (the stage's missions may have
/// findings of their own: the legacy ones have no identity).
fn doctor_clean_after_fix(stage: &Stage) -> anyhow::Result<()> {
    let fixed = stage.env.run_in(&stage.repo, ["--json", "doctor", "--fix"]);
    let report = fixed.json()?;
    anyhow::ensure!(
        matches!(fixed.status, Some(0 | 1)),
        "doctor --fix: {report}"
    );
    let leftovers: Vec<&Value> = report["data"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| {
            [
                "WRITE_INTERRUPTED",
                "GIT_LOCK_STALE",
                "TEMP_FILE_LEFTOVER",
                "MATERIALIZING_CHECKOUT",
                "RUN_INCOMPLETE",
                "RUN_DUPLICATE",
            ]
            .contains(&finding["code"].as_str().unwrap_or_default())
        })
        .collect();
    anyhow::ensure!(leftovers.is_empty(), "doctor: {leftovers:?}");
    Ok(())
}

// See: issue 10 ("a writer killed together with its git child ... leaves
// `refs/heads/<branch>.lock`, `HEAD.lock` or `index.lock` behind; every later write fails"; "SIGKILL
// during the first `next --result` leaves run directories without `state.json`, runs missing from
// the index, and a second run on retry").
#[test]
fn every_writer_killed_at_random_instants_is_settled_by_the_next_one() -> TestResult {
    let mut delays = Delays::new(0x0d00_4c1a_55ed);
    let mut killed = 0;
    for writer in WRITERS {
        let stage = Stage::new()?;
        // One run to the end tells how long the writer takes on this machine; the kills then
        // land anywhere from its start to a little after its end.
        let command = (writer.round)(&stage, 0)?;
        let started = std::time::Instant::now();
        let timed = stage.env.run_in(&stage.repo, &command);
        anyhow::ensure!(timed.status == Some(0), "{}: {timed}", writer.name);
        let window = started.elapsed().mul_f64(1.3);
        let mut acked: Vec<String> = acknowledged_commits(timed.stdout.as_bytes());
        for kill_round in 0..rounds(WRITER_KILLS) {
            let round = 1 + 2 * kill_round;
            let command = (writer.round)(&stage, round)?;
            let kill = if kill_round % 2 == 0 {
                Kill::Group
            } else {
                Kill::Tree
            };
            let mut child = stage.env.command(&stage.repo, &command).spawn()?;
            std::thread::sleep(delays.next(window));
            if kill.apply(&mut child)? {
                killed += 1;
            }
            let output = child.wait_with_output()?;
            acked.extend(acknowledged_commits(&output.stdout));
            let what = format!("{} round {round} ({kill:?} kill)", writer.name);
            // The next writer succeeds, on whatever the killed one left.
            let next = (writer.round)(&stage, round + 1)?;
            let after = stage.env.run_in(&stage.repo, &next);
            anyhow::ensure!(after.status == Some(0), "{what}, the next one: {after}");
            acked.extend(acknowledged_commits(after.stdout.as_bytes()));
            // No acknowledged commit is lost: a branch still has each.
            for commit in &acked {
                let holders = stage.git(&["for-each-ref", "--contains", commit, "refs/heads"])?;
                anyhow::ensure!(!holders.is_empty(), "{what}: commit {commit} was lost");
            }
            check_settled(&stage).map_err(|error| anyhow::anyhow!("{what}: {error}"))?;
            doctor_clean_after_fix(&stage).map_err(|error| anyhow::anyhow!("{what}: {error}"))?;
        }
    }
    assert!(killed > 0, "no writer was killed: the delays are too long");
    Ok(())
}

/// What a `git worktree add` killed at an instant leaves of the worktree it was making.
#[derive(Debug, Clone, Copy)]
enum HalfAdded {
    /// Killed while it checks the worktree out: the record is whole, and locked.
    CheckingOut,
    /// Killed while it writes `commondir`: the file is there, empty.
    CommonDirEmpty,
    /// Killed while it writes `gitdir`: the record holds only its lock and an empty `gitdir`,
    /// the worktree is an empty directory.
    GitDirEmpty,
}

impl HalfAdded {
    /// Turns the state of a `git worktree add` killed while checking out into this one (git
    /// writes `locked`, `gitdir`, the worktree's `.git`, `commondir`, `HEAD`, then checks out).
    fn make(self, record: &Path, worktree: &Path) -> anyhow::Result<()> {
        match self {
            HalfAdded::CheckingOut => {}
            HalfAdded::CommonDirEmpty => std::fs::write(record.join("commondir"), "")?,
            HalfAdded::GitDirEmpty => {
                for entry in std::fs::read_dir(record)? {
                    let path = entry?.path();
                    if path.file_name() != Some(std::ffi::OsStr::new("locked")) {
                        remove_any(&path)?;
                    }
                }
                std::fs::write(record.join("gitdir"), "")?;
                for entry in std::fs::read_dir(worktree)? {
                    remove_any(&entry?.path())?;
                }
            }
        }
        Ok(())
    }
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

// See: issue 10 ("Recovery after a kill at any instant"): `git worktree add` killed half way
// leaves its record locked ("initializing") and half written, which `git worktree prune` keeps
// and every later `git worktree` command trips on.
#[test]
fn a_writer_killed_inside_git_worktree_add_is_settled_by_the_next_one() -> TestResult {
    let adders = ["implement", "worktree repair"];
    for writer in WRITERS
        .iter()
        .filter(|writer| adders.contains(&writer.name))
    {
        for half in [
            HalfAdded::CheckingOut,
            HalfAdded::CommonDirEmpty,
            HalfAdded::GitDirEmpty,
        ] {
            let what = format!("{} killed {half:?}", writer.name);
            let stage = Stage::new()?;
            let command = (writer.round)(&stage, 1)?;
            // A smudge filter that hangs holds git inside the checkout of the new worktree.
            let marker = stage.env.root().join("checking-out");
            let attributes = stage.repo.join(".git/info/attributes");
            std::fs::create_dir_all(stage.repo.join(".git/info"))?;
            std::fs::write(&attributes, "* filter=hang\n")?;
            let smudge = format!("touch '{}'; sleep 60; cat", marker.display());
            stage.git(&["config", "filter.hang.smudge", &smudge])?;
            let mut child = stage.env.command(&stage.repo, &command).spawn()?;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !marker.exists() {
                anyhow::ensure!(
                    std::time::Instant::now() < deadline && child.try_wait()?.is_none(),
                    "{what}: git never checked a worktree out"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            anyhow::ensure!(Kill::Tree.apply(&mut child)?, "{what}: it ended early");
            let _ = child.wait_with_output()?;
            std::fs::remove_file(&attributes)?;
            let record = std::fs::read_dir(stage.repo.join(".git/worktrees"))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.join("locked").exists())
                .ok_or_else(|| anyhow::anyhow!("{what}: git holds no worktree locked"))?;
            let gitdir = std::fs::read_to_string(record.join("gitdir"))?;
            let worktree = Path::new(gitdir.trim_end())
                .parent()
                .ok_or_else(|| anyhow::anyhow!("{what}: gitdir `{gitdir}`"))?
                .to_path_buf();
            half.make(&record, &worktree)?;
            let next = (writer.round)(&stage, 2)?;
            let after = stage.env.run_in(&stage.repo, &next);
            anyhow::ensure!(after.status == Some(0), "{what}, the next one: {after}");
            stage.git(&["worktree", "list", "--porcelain"])?;
            // No record is left locked or pointing nowhere.
            for entry in std::fs::read_dir(stage.repo.join(".git/worktrees"))? {
                let path = entry?.path();
                anyhow::ensure!(!path.join("locked").exists(), "{what}: {path:?} locked");
            }
            let stale = stage.git(&["worktree", "prune", "--dry-run", "--verbose"])?;
            anyhow::ensure!(stale.trim().is_empty(), "{what}: stale records: {stale}");
            check_settled(&stage).map_err(|error| anyhow::anyhow!("{what}: {error}"))?;
            doctor_clean_after_fix(&stage).map_err(|error| anyhow::anyhow!("{what}: {error}"))?;
        }
    }
    Ok(())
}

// See: issue 10 ("`mission create` ignores a `reference-transaction` hook that `move` honours"):
// every commit path of every writer of the matrix.
#[test]
fn every_writer_refused_by_the_reference_transaction_hook_leaves_nothing() -> TestResult {
    let mut refused = 0;
    for writer in &WRITERS {
        let stage = Stage::new()?;
        let command = (writer.round)(&stage, 0)?;
        let before = stage.env.fingerprint(&stage.repo)?;
        crate::test_write_hooks::refuse_refs(&stage.repo, "refs/heads/")?;
        let output = stage.env.run_in(&stage.repo, &command);
        std::fs::remove_file(stage.repo.join(".git/hooks/reference-transaction"))?;
        let after = stage.env.fingerprint(&stage.repo)?;
        if output.status == Some(0) {
            // A writer that commits nothing (files of its own, configuration) goes through.
            anyhow::ensure!(
                after["refs"] == before["refs"],
                "{}: it moved a branch past the hook",
                writer.name
            );
        } else {
            refused += 1;
            let code = output.json_error()?["code"].clone();
            anyhow::ensure!(code == "GIT_HOOK_REJECTED", "{}: {output}", writer.name);
            // A registration git reports prunable (its directory is gone: what `worktree
            // repair` mends) may be pruned on the way; git's own `gc` prunes it too.
            let live = |listed: &Value| -> Vec<String> {
                listed
                    .as_str()
                    .unwrap_or_default()
                    .split("\n\n")
                    .filter(|block| !block.contains("\nprunable"))
                    .map(str::to_owned)
                    .collect()
            };
            anyhow::ensure!(
                live(&after["worktrees"]) == live(&before["worktrees"]),
                "{}: refused, it changed the worktrees",
                writer.name
            );
            for key in ["refs", "head", "index", "files"] {
                anyhow::ensure!(
                    after[key] == before[key],
                    "{}: refused, it changed the {key}: {} then {}",
                    writer.name,
                    before[key],
                    after[key]
                );
            }
            // Nothing in the way, the same command goes through.
            let again = stage.env.run_in(&stage.repo, &command);
            anyhow::ensure!(again.status == Some(0), "{}, again: {again}", writer.name);
        }
        check_settled(&stage).map_err(|error| anyhow::anyhow!("{}: {error}", writer.name))?;
    }
    assert!(refused >= 10, "only {refused} writers were refused");
    Ok(())
}

/// Error codes a racer that lost may answer: the winner's work is there already (a review
/// command's losers answer its [`Writer::again`] code). Every other writer of the matrix is
/// idempotent (the racers after the first find nothing to change) or serialized by its scope's
/// lock: never a git failure or a half-done write.
const CLEAN_REFUSALS: [&str; 1] = ["WP_ALREADY_EXISTS"];

// See: issue 10 ("Races have one winner and clean losers"), for every writer of the matrix.
#[test]
fn every_writer_racing_eight_times_has_clean_losers_and_leaves_nothing() -> TestResult {
    for writer in &WRITERS {
        let stage = Stage::new()?;
        let command = (writer.round)(&stage, 0)?;
        let commands = vec![command; 8];
        let outputs = crate::test_write_races::race(&stage.env, &stage.repo, &commands)?;
        let mut won = 0;
        for output in &outputs {
            let document: Value = serde_json::from_slice(&output.stdout).map_err(|error| {
                anyhow::anyhow!(
                    "{}: {error}: {}",
                    writer.name,
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
            if document["ok"] == true {
                won += 1;
            } else {
                let code = document["error"]["code"].as_str().unwrap_or_default();
                let again = writer.again.is_some_and(|(again, _)| again == code);
                anyhow::ensure!(
                    CLEAN_REFUSALS.contains(&code) || again,
                    "{}: a loser answered {}",
                    writer.name,
                    document["error"]
                );
            }
        }
        anyhow::ensure!(won >= 1, "{}: nobody won", writer.name);
        check_settled(&stage).map_err(|error| anyhow::anyhow!("{}: {error}", writer.name))?;
        doctor_clean_after_fix(&stage)
            .map_err(|error| anyhow::anyhow!("{}: {error}", writer.name))?;
    }
    Ok(())
}
