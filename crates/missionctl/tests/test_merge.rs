//! `missionctl merge` through the binary, on real repositories: a lanes mission merged and
//! recorded done, a change on the target branch that survives the merge, conflicts that stop
//! it before the target moves (then `--abort` or `--resume`), `--dry-run` changing nothing, and
//! merges killed at random instants completed by `--resume`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::process::{Delays, Kill, rounds};
use crate::common::{TestEnv, TestResult};

/// A lanes mission with four work packages (WP02 after WP01, WP04 after WP03), each with a
/// commit of its own in its lane worktree, reviewed and approved (a dependency is moved to
/// `done` before its dependent starts, as `implement` requires).
pub(crate) struct MergeRepo {
    pub(crate) root: PathBuf,
    pub(crate) slug: String,
}

/// The file each work package writes in its lane.
const WORK: [(&str, &str); 4] = [
    ("WP01", "src/store.py"),
    ("WP02", "src/cli.py"),
    ("WP03", "src/ops.py"),
    ("WP04", "tests/test_cli.py"),
];

/// Extra edits a test makes in a work package's lane before it is committed.
pub(crate) type Edits<'a> = &'a [(&'a str, &'a str, &'a str)];

impl MergeRepo {
    /// Builds the mission in `env` at `<root>/<name>`; `edits` are `(wp, path, content)` written
    /// in that work package's lane with its own file.
    pub(crate) fn new(env: &TestEnv, name: &str, edits: Edits<'_>) -> anyhow::Result<MergeRepo> {
        let root = env.feature_repo(name)?;
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::write(
            root.join("src/config.py"),
            "ALPHA = 1\nBETA = 2\nGAMMA = 3\n",
        )?;
        env.git(&root, &["add", "src/config.py"])?;
        env.git(&root, &["commit", "--quiet", "--message", "config"])?;
        let data = env.json_data(
            &root,
            &["mission", "create", "task-list", "--topology", "lanes"],
        )?;
        let slug = text(&data["mission_slug"]);
        let add = |wp: &str, title: &str, subtask: &str, owned: &str, after: Option<&str>| {
            let mut args = vec![
                "wp",
                "add",
                &slug,
                wp,
                "--title",
                title,
                "--subtask",
                subtask,
                "--owned-file",
                owned,
                "--requirement",
                "FR-001",
            ];
            if !owned.contains('*') {
                // The file the work package will create.
                args.extend(["--create-intent", owned]);
            }
            if let Some(after) = after {
                args.extend(["--depends-on", after]);
            }
            env.json_data(&root, &args).map(|_| ())
        };
        add("WP01", "Storage layer", "T001", "src/store.py", None)?;
        add("WP02", "Add and list", "T002", "src/cli.py", Some("WP01"))?;
        add("WP03", "Complete and delete", "T003", "src/ops.py", None)?;
        add("WP04", "End-to-end tests", "T004", "tests/**", Some("WP03"))?;
        env.json_data(&root, &["tasks", "finalize", &slug])?;
        let repo = MergeRepo { root, slug };
        for (index, (wp, file)) in WORK.iter().enumerate() {
            repo.implement_and_approve(env, wp, file, &format!("T00{}", index + 1), edits)?;
            if *wp == "WP01" || *wp == "WP03" {
                // Its dependent cannot start before it is done.
                repo.done(env, wp)?;
            }
        }
        Ok(repo)
    }

    pub(crate) fn implement_and_approve(
        &self,
        env: &TestEnv,
        wp: &str,
        file: &str,
        subtask: &str,
        edits: Edits<'_>,
    ) -> anyhow::Result<()> {
        let slug = self.slug.as_str();
        let started = env.json_data(
            &self.root,
            &["implement", wp, "--mission", slug, "--actor", "claude"],
        )?;
        let workspace = PathBuf::from(text(&started["workspace"]));
        write(&workspace, file, &format!("# {wp}\n"))?;
        for (edit_wp, path, content) in edits {
            if *edit_wp == wp {
                write(&workspace, path, content)?;
            }
        }
        env.git(&workspace, &["add", "--all"])?;
        env.git(
            &workspace,
            &[
                "commit",
                "--quiet",
                "--message",
                &format!("feat({wp}): work"),
            ],
        )?;
        env.json_data(&self.root, &["subtask", "done", slug, wp, subtask])?;
        for (lane, extra) in [
            ("for_review", vec!["--actor", "claude"]),
            ("in_review", vec!["--actor", "reviewer"]),
            (
                "approved",
                vec![
                    "--actor",
                    "reviewer",
                    "--review-result-json",
                    r#"{"reviewer":"reviewer","verdict":"approved","reference":"review:manual"}"#,
                ],
            ),
        ] {
            let mut args = vec!["move", wp, "--to", lane, "--mission", slug];
            args.extend(extra);
            env.json_data(&self.root, &args)?;
        }
        Ok(())
    }

    fn done(&self, env: &TestEnv, wp: &str) -> anyhow::Result<()> {
        env.json_data(
            &self.root,
            &[
                "move",
                wp,
                "--to",
                "done",
                "--mission",
                &self.slug,
                "--actor",
                "reviewer",
                "--evidence-json",
                r#"{"review":{"reviewer":"reviewer","verdict":"approved","reference":"review:manual"}}"#,
            ],
        )?;
        Ok(())
    }

    /// Runs `missionctl merge --mission <slug> <extra> --json`.
    pub(crate) fn merge(&self, env: &TestEnv, extra: &[&str]) -> crate::common::CommandOutput {
        let mut args = vec!["merge", "--mission", &self.slug, "--json"];
        args.extend_from_slice(extra);
        env.run_in(&self.root, &args)
    }

    /// Returns the lanes of the board, by work package.
    pub(crate) fn lanes(&self, env: &TestEnv) -> anyhow::Result<Vec<(String, String)>> {
        let board = env.json_data(&self.root, &["board", "--mission", &self.slug])?;
        Ok(board["work_packages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| (text(&row["id"]), text(&row["lane"])))
            .collect())
    }

    pub(crate) fn mission_dir(&self) -> PathBuf {
        self.root.join("kitty-specs").join(&self.slug)
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn write(root: &Path, path: &str, content: &str) -> anyhow::Result<()> {
    let full = root.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(full, content)?;
    Ok(())
}

/// The lanes, every one done.
fn all_done() -> Vec<(String, String)> {
    WORK.iter()
        .map(|(wp, _)| ((*wp).to_owned(), "done".to_owned()))
        .collect()
}

#[test]
fn a_lanes_mission_lands_on_its_target_and_every_work_package_is_done() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &[])?;
    let before = env.git(&repo.root, &["rev-parse", "feature/x"])?;
    let output = repo.merge(&env, &[]).success();
    let data = output.json()?["data"].clone();
    assert_eq!(data["strategy"], "squash");
    assert_eq!(data["baseline"].as_str(), Some(before.trim()));
    assert_eq!(data["done"], serde_json::json!(["WP02", "WP04"]));
    let actions: Vec<String> = data["lanes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|lane| format!("{}={}", text(&lane["lane_id"]), text(&lane["action"])))
        .collect();
    assert_eq!(
        actions,
        [
            "lane-a=fast_forward",
            "lane-c=merge",
            "lane-b=merge",
            "lane-d=merge"
        ]
    );
    assert_eq!(repo.lanes(&env)?, all_done());

    // The target has every lane's work and the commits Spec Kitty writes.
    for (_, file) in WORK {
        assert!(repo.root.join(file).is_file(), "{file} missing");
    }
    let mb = format!(
        "kitty/mission-task-list-{}",
        &repo.slug[repo.slug.len() - 8..]
    );
    let log = env.git(&repo.root, &["log", "--format=%s", "-6"])?;
    assert_eq!(
        log,
        format!(
            "chore({slug}): capture mission retrospective\n\
             chore({slug}): record done transitions for merged WPs\n\
             chore(missionctl): status transition WP04\n\
             chore(missionctl): status transition WP02\n\
             feat({mb}): squash merge of mission\n\
             chore(missionctl): status transition WP04\n",
            slug = repo.slug
        )
    );
    let squash = text(&data["merge_commit"]);
    let parents = env.git(&repo.root, &["rev-list", "--parents", "-1", &squash])?;
    assert_eq!(
        parents.split_whitespace().count(),
        2,
        "one parent: {parents}"
    );

    // The done rows are Spec Kitty's, the merge commit as evidence.
    let log = std::fs::read_to_string(repo.mission_dir().join("status.events.jsonl"))?;
    let mut rows = log.lines().rev();
    let captured: Value = serde_json::from_str(rows.next().unwrap_or_default())?;
    assert_eq!(captured["type"], "RetrospectiveCaptured");
    assert_eq!(
        data["retrospective_commit"].as_str().map(str::len),
        Some(40)
    );
    let retrospective = std::fs::read_to_string(repo.mission_dir().join("retrospective.yaml"))?;
    assert!(
        retrospective.starts_with(&format!(
            "schema_version: 1\nmission_id: {}\nmission_slug: {}\n",
            text(&captured["mission_id"]),
            repo.slug
        )),
        "{retrospective}"
    );
    let last: Value = serde_json::from_str(rows.next().unwrap_or_default())?;
    assert_eq!(last["actor"], "merge");
    assert_eq!(last["reason"], "Merged WP04 into feature/x");
    assert_eq!(
        last["policy_metadata"],
        serde_json::json!({"merge_phase": "lane_integrated", "target_branch": "feature/x"})
    );
    assert_eq!(last["evidence"]["repos"][0]["commit"], squash.as_str());
    assert_eq!(
        last["evidence"]["review"]["reference"],
        "lane-approved:WP04"
    );

    // meta.json: the baseline, status_phase, and mission_number as Spec Kitty leaves it.
    let meta: Value =
        serde_json::from_slice(&std::fs::read(repo.mission_dir().join("meta.json"))?)?;
    assert_eq!(meta["baseline_merge_commit"].as_str(), Some(before.trim()));
    assert_eq!(meta["status_phase"], "1");
    assert_eq!(meta["mission_number"], Value::Null);

    // Nothing left: worktrees, branches, context files, state, journals; a clean checkout.
    let worktrees = env.git(&repo.root, &["worktree", "list", "--porcelain"])?;
    assert_eq!(worktrees.matches("worktree ").count(), 1, "{worktrees}");
    let branches = env.git(&repo.root, &["for-each-ref", "--format=%(refname)"])?;
    assert_eq!(branches, "refs/heads/feature/x\nrefs/heads/main\n");
    assert_eq!(
        env.git(
            &repo.root,
            &["status", "--porcelain", "--untracked-files=all"]
        )?,
        ""
    );
    assert!(
        std::fs::read_dir(repo.root.join(".kittify/workspaces"))
            .map(|entries| entries.count())
            .unwrap_or(0)
            == 0
    );
    assert!(
        !repo
            .root
            .join(".git/missionctl/merge")
            .join(format!("{}.json", repo.slug))
            .exists()
    );

    // Again: merged already.
    let again = repo.merge(&env, &[]).code(1);
    assert_eq!(again.json_error()?["code"], "MISSION_ALREADY_MERGED");
    let resumed = repo.merge(&env, &["--resume"]).success();
    assert_eq!(resumed.json()?["data"]["already_merged"], true);
    Ok(())
}

/// A change committed on the target branch while the mission ran must be in the target after
/// the merge: Spec Kitty's `-X theirs` squash dropped it and exited 0.
// See: https://github.com/spec-kitty/spec-kitty/issues/4892
#[test]
fn regression_4892_a_change_on_the_target_during_the_mission_survives_the_merge() -> TestResult {
    let env = TestEnv::new()?;
    // The lane changes GAMMA; the target's hot-fix changes ALPHA; a 3-way merge keeps both.
    let repo = MergeRepo::new(
        &env,
        "repo",
        &[("WP02", "src/config.py", "ALPHA = 1\nBETA = 2\nGAMMA = 33\n")],
    )?;
    std::fs::write(
        repo.root.join("src/config.py"),
        "ALPHA = 99\nBETA = 2\nGAMMA = 3\n",
    )?;
    env.git(
        &repo.root,
        &["commit", "--quiet", "--all", "--message", "hot-fix ALPHA"],
    )?;
    repo.merge(&env, &[]).success();
    assert_eq!(
        std::fs::read_to_string(repo.root.join("src/config.py"))?,
        "ALPHA = 99\nBETA = 2\nGAMMA = 33\n"
    );
    assert_eq!(repo.lanes(&env)?, all_done());

    // The same line changed on both sides: Spec Kitty kept the lane's; missionctl stops
    // before the target moves, and nothing of the target is lost.
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(
        &env,
        "repo",
        &[("WP02", "src/config.py", "ALPHA = 1\nBETA = 22\nGAMMA = 3\n")],
    )?;
    std::fs::write(
        repo.root.join("src/config.py"),
        "ALPHA = 1\nBETA = 99\nGAMMA = 3\n",
    )?;
    env.git(
        &repo.root,
        &["commit", "--quiet", "--all", "--message", "hot-fix BETA"],
    )?;
    let target = env.git(&repo.root, &["rev-parse", "feature/x"])?;
    let stopped = repo.merge(&env, &[]).code(1);
    let document = stopped.json()?;
    assert_eq!(document["error"]["code"], "MERGE_CONFLICT");
    assert_eq!(document["data"]["lane_id"], Value::Null);
    assert_eq!(document["data"]["branch"], "feature/x");
    assert_eq!(
        document["data"]["paths"],
        serde_json::json!(["src/config.py"])
    );
    assert_eq!(env.git(&repo.root, &["rev-parse", "feature/x"])?, target);
    assert_eq!(
        std::fs::read_to_string(repo.root.join("src/config.py"))?,
        "ALPHA = 1\nBETA = 99\nGAMMA = 3\n"
    );
    // Resolved by hand (both values kept), the merge completes.
    let workspace = PathBuf::from(text(&document["data"]["workspace"]));
    std::fs::write(
        workspace.join("src/config.py"),
        "ALPHA = 1\nBETA = 99  # was 22 in WP02\nGAMMA = 3\n",
    )?;
    env.git(&workspace, &["add", "src/config.py"])?;
    repo.merge(&env, &["--resume"]).success();
    assert_eq!(
        std::fs::read_to_string(repo.root.join("src/config.py"))?,
        "ALPHA = 1\nBETA = 99  # was 22 in WP02\nGAMMA = 3\n"
    );
    assert_eq!(repo.lanes(&env)?, all_done());
    assert!(!workspace.exists());
    Ok(())
}

/// Two lanes that change one line differently.
const CONFLICTING: [(&str, &str, &str); 2] = [
    ("WP01", "src/config.py", "ALPHA = 1\nBETA = 22\nGAMMA = 3\n"),
    ("WP03", "src/config.py", "ALPHA = 1\nBETA = 33\nGAMMA = 3\n"),
];

#[test]
fn a_conflicting_lane_stops_the_merge_and_abort_puts_everything_back() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &CONFLICTING)?;
    let before = env.fingerprint(&repo.root)?;
    let stopped = repo.merge(&env, &[]).code(1);
    let document = stopped.json()?;
    assert_eq!(document["error"]["code"], "MERGE_CONFLICT", "{document}");
    let message = text(&document["error"]["message"]);
    assert!(
        message.contains("lane-c") && message.contains("src/config.py"),
        "{message}"
    );
    assert_eq!(document["data"]["lane_id"], "lane-c");
    assert_eq!(
        document["data"]["integrated_lanes"],
        serde_json::json!(["lane-a"])
    );
    let workspace = PathBuf::from(text(&document["data"]["workspace"]));
    let conflicted = std::fs::read_to_string(workspace.join("src/config.py"))?;
    assert!(conflicted.contains("<<<<<<<"), "{conflicted}");
    // Nothing moved; the merge waits.
    let stopped_refs = env.git(
        &repo.root,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    )?;
    assert!(
        stopped_refs.contains("refs/missionctl/merge/"),
        "{stopped_refs}"
    );
    let again = repo.merge(&env, &[]).code(1);
    assert_eq!(again.json_error()?["code"], "MERGE_IN_PROGRESS");
    let unresolved = repo.merge(&env, &["--resume"]).code(1);
    assert_eq!(
        unresolved.json_error()?["code"],
        "MERGE_CONFLICT_UNRESOLVED"
    );
    let other = repo
        .merge(&env, &["--resume", "--strategy", "merge"])
        .code(1);
    assert_eq!(other.json_error()?["code"], "MERGE_STRATEGY_MISMATCH");

    let aborted = repo.merge(&env, &["--abort"]).success();
    assert_eq!(aborted.json()?["data"]["aborted"], true);
    assert_eq!(env.fingerprint(&repo.root)?, before);
    let nothing = repo.merge(&env, &["--abort"]).success();
    assert_eq!(nothing.json()?["data"]["aborted"], false);
    Ok(())
}

#[test]
fn a_conflict_resolved_in_the_workspace_is_taken_by_resume() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &CONFLICTING)?;
    let stopped = repo.merge(&env, &[]).code(1);
    let workspace = PathBuf::from(text(&stopped.json()?["data"]["workspace"]));
    std::fs::write(
        workspace.join("src/config.py"),
        "ALPHA = 1\nBETA = 55\nGAMMA = 3\n",
    )?;
    env.git(&workspace, &["add", "src/config.py"])?;
    // Committing is optional; this one commits.
    env.git(&workspace, &["commit", "--quiet", "--no-edit"])?;
    let resumed = repo.merge(&env, &["--resume"]).success();
    let data = resumed.json()?["data"].clone();
    assert_eq!(data["resumed"], true);
    assert_eq!(
        std::fs::read_to_string(repo.root.join("src/config.py"))?,
        "ALPHA = 1\nBETA = 55\nGAMMA = 3\n"
    );
    assert_eq!(repo.lanes(&env)?, all_done());
    assert!(!workspace.exists());
    let refs = env.git(&repo.root, &["for-each-ref", "--format=%(refname)"])?;
    assert_eq!(refs, "refs/heads/feature/x\nrefs/heads/main\n");
    Ok(())
}

#[test]
fn dry_run_forecasts_the_conflict_and_changes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &CONFLICTING)?;
    let before = env.fingerprint(&repo.root)?;
    let plan = repo.merge(&env, &["--dry-run"]).success();
    let data = plan.json()?["data"].clone();
    assert_eq!(data["mission_slug"], repo.slug.as_str());
    assert_eq!(data["strategy"], "squash");
    assert_eq!(data["delete_branch"], true);
    assert_eq!(data["would_assign_mission_number"], 1);
    assert_eq!(data["retention"]["branch_source"], "default");
    assert_eq!(data["lanes"][0]["lane_id"], "lane-a");
    assert_eq!(data["forecast"]["clean"], false);
    assert_eq!(data["forecast"]["lanes"][1]["action"], "conflict");
    assert_eq!(
        data["forecast"]["lanes"][1]["conflicts"],
        serde_json::json!(["src/config.py"])
    );
    assert_eq!(data["forecast"]["target"]["action"], "pending");
    assert_eq!(env.fingerprint(&repo.root)?, before);
    Ok(())
}

/// Starts `missionctl <args>` in `dir` in a process group of its own.
fn spawn(env: &TestEnv, dir: &Path, args: &[&str]) -> anyhow::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    Ok(std::process::Command::new(env!("CARGO_BIN_EXE_missionctl"))
        .process_group(0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.root().join("home"))
        .env("TMPDIR", env.tmp())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?)
}

/// Copies a directory tree (files, directories and symbolic links).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Random kills per run of the suite (`MISSIONCTL_SOAK` multiplies them).
const KILLS: usize = 4;

/// Restores `repo` from `pristine` and runs `merge` killed at a seeded random instant of
/// `window`, [`KILLS`] times (`MISSIONCTL_SOAK` multiplies them), its process group and its
/// whole tree in turn; `check` looks at what each killed merge left. Returns how many merges
/// were still running when killed.
fn merges_killed_at_random(
    env: &TestEnv,
    repo: &MergeRepo,
    pristine: &Path,
    window: std::time::Duration,
    seed: u64,
    mut check: impl FnMut(usize, Kill) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let args = ["merge", "--mission", repo.slug.as_str(), "--json"];
    let mut delays = Delays::new(seed);
    let mut killed = 0;
    for round in 0..rounds(KILLS) {
        std::fs::remove_dir_all(&repo.root)?;
        copy_tree(pristine, &repo.root)?;
        let mut child = spawn(env, &repo.root, &args)?;
        std::thread::sleep(delays.next(window));
        let kill = if round % 2 == 0 {
            Kill::Group
        } else {
            Kill::Tree
        };
        if kill.apply(&mut child)? {
            killed += 1;
        }
        let _ = child.wait_with_output()?;
        check(round, kill)?;
    }
    Ok(killed)
}

#[test]
fn a_merge_killed_at_random_instants_is_completed_by_resume() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &[])?;
    // Every round starts from the same repository, restored at the same path (worktrees record
    // absolute paths).
    let pristine = env.root().join("pristine");
    copy_tree(&repo.root, &pristine)?;
    let started = std::time::Instant::now();
    repo.merge(&env, &[]).success();
    let window = started.elapsed().mul_f64(1.2);
    let expected_files: Vec<String> = WORK.iter().map(|(_, file)| (*file).to_owned()).collect();
    let killed = merges_killed_at_random(
        &env,
        &repo,
        &pristine,
        window,
        0x6d65_7267_6521,
        |round, kill| {
            let resumed = repo.merge(&env, &["--resume"]);
            anyhow::ensure!(
                resumed.status == Some(0),
                "round {round} ({kill:?}): resume failed: {}",
                resumed.stdout
            );
            anyhow::ensure!(
                repo.lanes(&env)? == all_done(),
                "round {round} ({kill:?}): not every work package is done"
            );
            for file in &expected_files {
                anyhow::ensure!(
                    repo.root.join(file).is_file(),
                    "round {round}: {file} missing"
                );
            }
            let status = env.git(
                &repo.root,
                &["status", "--porcelain", "--untracked-files=all"],
            )?;
            anyhow::ensure!(
                status.is_empty(),
                "round {round} ({kill:?}): dirty: {status}"
            );
            let refs = env.git(&repo.root, &["for-each-ref", "--format=%(refname)"])?;
            anyhow::ensure!(
                refs == "refs/heads/feature/x\nrefs/heads/main\n",
                "round {round} ({kill:?}): refs left: {refs}\nresume: {}\nworktrees: {}",
                resumed.stdout,
                env.git(&repo.root, &["worktree", "list"])?
            );
            let journals = std::fs::read_dir(repo.root.join(".git/missionctl/journal"))
                .map(|entries| entries.count())
                .unwrap_or(0);
            anyhow::ensure!(journals == 0, "round {round}: a journal is left");
            env.git(&repo.root, &["fsck", "--no-progress", "--no-dangling"])?;
            Ok(())
        },
    )?;
    assert!(killed > 0, "no merge was killed: the delays are too long");
    Ok(())
}

/// A `lanes_with_coord` mission: its status lives on the coordination branch; the merge
/// projects that log onto the target, tears the coordination branch and worktree down with the
/// lanes, and flattens `meta.json` as `mission flatten` (Spec Kitty's bytes) does.
#[test]
fn a_coordination_mission_is_merged_back_and_flattened() -> TestResult {
    let env = TestEnv::new()?;
    let root = env.feature_repo("repo")?;
    let data = env.json_data(
        &root,
        &[
            "mission",
            "create",
            "task-list",
            "--topology",
            "lanes_with_coord",
        ],
    )?;
    let slug = text(&data["mission_slug"]);
    for (wp, subtask, file) in [("WP01", "T001", "src/a.py"), ("WP02", "T002", "src/b.py")] {
        env.json_data(
            &root,
            &[
                "wp",
                "add",
                &slug,
                wp,
                "--title",
                wp,
                "--subtask",
                subtask,
                "--owned-file",
                file,
                "--create-intent",
                file,
                "--requirement",
                "FR-001",
            ],
        )?;
    }
    env.json_data(&root, &["tasks", "finalize", &slug])?;
    let repo = MergeRepo {
        root: root.clone(),
        slug: slug.clone(),
    };
    for (index, (wp, file)) in [("WP01", "src/a.py"), ("WP02", "src/b.py")]
        .iter()
        .enumerate()
    {
        repo.implement_and_approve(&env, wp, file, &format!("T00{}", index + 1), &[])?;
    }
    let merged = repo.merge(&env, &[]).success();
    let data = merged.json()?["data"].clone();
    assert_eq!(data["done"], serde_json::json!(["WP01", "WP02"]));
    assert!(data["flatten_commit"].is_string(), "{data}");
    for file in ["src/a.py", "src/b.py"] {
        assert!(root.join(file).is_file(), "{file} missing");
    }
    // The coordination log is on the target now, every work package done.
    assert_eq!(
        repo.lanes(&env)?,
        [("WP01", "done"), ("WP02", "done")]
            .map(|(wp, lane)| (wp.to_owned(), lane.to_owned()))
            .to_vec()
    );
    let log = std::fs::read_to_string(repo.mission_dir().join("status.events.jsonl"))?;
    assert_eq!(log.matches(r#""to_lane": "done""#).count(), 2);
    // Flattened as Spec Kitty flattens: the coordination keys gone, `flattened: true`.
    let meta: Value =
        serde_json::from_slice(&std::fs::read(repo.mission_dir().join("meta.json"))?)?;
    assert_eq!(meta.get("coordination_branch"), None);
    assert_eq!(meta.get("topology"), None);
    assert_eq!(meta["flattened"], true);
    assert_eq!(meta["status_phase"], "1");
    let worktrees = env.git(&root, &["worktree", "list", "--porcelain"])?;
    assert_eq!(worktrees.matches("worktree ").count(), 1, "{worktrees}");
    let branches = env.git(&root, &["for-each-ref", "--format=%(refname)"])?;
    assert_eq!(branches, "refs/heads/feature/x\nrefs/heads/main\n");
    let subjects = env.git(&root, &["log", "--format=%s", "-4"])?;
    assert_eq!(
        subjects,
        format!(
            "chore({slug}): capture mission retrospective\n\
             chore({slug}): flatten coordination metadata after branch deletion (#3086)\n\
             chore({slug}): record done transitions for merged WPs\n\
             feat(kitty/mission-{slug}): squash merge of mission\n"
        )
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain", "--untracked-files=all"])?,
        ""
    );
    Ok(())
}

/// A lane's older copy of a planning artifact never replaces the planning surface's: the target
/// changed `spec.md` after the lanes were cut, a lane committed its own `spec.md` and a
/// `plan.md` the target does not have; both end as the target has them.
// See: https://github.com/spec-kitty/spec-kitty/issues/3942
#[test]
fn regression_3942_planning_artifacts_come_from_the_planning_surface() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &[])?;
    let lane = std::fs::read_dir(repo.root.join(".worktrees"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().ends_with("-lane-a"))
        .ok_or_else(|| anyhow::anyhow!("no lane-a worktree"))?;
    let relative = format!("kitty-specs/{}", repo.slug);
    write(
        &lane,
        &format!("{relative}/spec.md"),
        "# stale spec from the lane\n",
    )?;
    write(
        &lane,
        &format!("{relative}/plan.md"),
        "# stale plan from the lane\n",
    )?;
    env.git(&lane, &["add", "--all"])?;
    env.git(&lane, &["commit", "--quiet", "--message", "lane copy"])?;
    write(
        &repo.root,
        &format!("{relative}/spec.md"),
        "# the spec, revised\n",
    )?;
    env.git(&repo.root, &["add", "--all"])?;
    env.git(
        &repo.root,
        &["commit", "--quiet", "--message", "revise spec"],
    )?;

    let merged = repo.merge(&env, &[]).success();
    let data = merged.json()?["data"].clone();
    let kept = data["planning_kept"].clone();
    assert_eq!(
        kept,
        serde_json::json!([format!("{relative}/plan.md"), format!("{relative}/spec.md")])
    );
    assert_eq!(
        std::fs::read_to_string(repo.mission_dir().join("spec.md"))?,
        "# the spec, revised\n"
    );
    assert!(!repo.mission_dir().join("plan.md").exists());
    assert_eq!(repo.lanes(&env)?, all_done());
    Ok(())
}

/// A merge that stops at a conflict, killed at random instants (while it saves the conflict or
/// sets up its workspace): `--abort` always puts every ref, file, index entry and worktree back
/// as they were.
#[test]
fn a_conflicting_merge_killed_at_random_instants_is_undone_by_abort() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &CONFLICTING)?;
    let pristine = env.root().join("pristine");
    copy_tree(&repo.root, &pristine)?;
    let before = env.fingerprint(&repo.root)?;
    let started = std::time::Instant::now();
    repo.merge(&env, &[]).code(1);
    let window = started.elapsed().mul_f64(1.2);
    let killed = merges_killed_at_random(
        &env,
        &repo,
        &pristine,
        window,
        0x6162_6f72_7421,
        |round, kill| {
            let aborted = repo.merge(&env, &["--abort"]);
            anyhow::ensure!(
                aborted.status == Some(0),
                "round {round} ({kill:?}): abort failed: {}",
                aborted.stdout
            );
            anyhow::ensure!(
                env.fingerprint(&repo.root)? == before,
                "round {round} ({kill:?}): not restored; refs: {}\nworktrees: {}",
                env.git(&repo.root, &["for-each-ref", "--format=%(refname)"])?,
                env.git(&repo.root, &["worktree", "list"])?
            );
            Ok(())
        },
    )?;
    assert!(killed > 0, "no merge was killed: the delays are too long");
    Ok(())
}

/// Each gate refuses with its code before anything is written.
#[test]
fn the_gates_refuse_before_anything_is_written() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &[])?;
    let refused = |code: &str| -> anyhow::Result<()> {
        let before = env.fingerprint(&repo.root)?;
        for extra in [&[][..], &["--dry-run"][..]] {
            let output = repo.merge(&env, extra).code(1);
            anyhow::ensure!(
                output.json_error()?["code"] == code,
                "expected {code}: {}",
                output.stdout
            );
        }
        anyhow::ensure!(env.fingerprint(&repo.root)? == before, "{code}: changed");
        Ok(())
    };
    // The target behind its upstream (a local one will do).
    env.git(&repo.root, &["branch", "upstream-x", "feature/x"])?;
    env.git(
        &repo.root,
        &["commit", "--quiet", "--allow-empty", "--message", "ahead"],
    )?;
    env.git(&repo.root, &["branch", "--force", "upstream-x", "HEAD"])?;
    env.git(&repo.root, &["reset", "--quiet", "--hard", "HEAD~1"])?;
    env.git(&repo.root, &["branch", "--set-upstream-to=upstream-x"])?;
    refused("TARGET_BRANCH_NOT_SYNCHRONIZED")?;
    env.git(&repo.root, &["branch", "--unset-upstream"])?;
    // A lane worktree with uncommitted work.
    let lane = std::fs::read_dir(repo.root.join(".worktrees"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().ends_with("-lane-b"))
        .ok_or_else(|| anyhow::anyhow!("no lane-b worktree"))?;
    write(&lane, "scratch.txt", "unfinished\n")?;
    refused("LANE_WORKTREE_DIRTY")?;
    std::fs::remove_file(lane.join("scratch.txt"))?;
    // The target not checked out (a detached `HEAD` at its commit).
    env.git(&repo.root, &["switch", "--quiet", "--detach", "feature/x"])?;
    refused("TARGET_BRANCH_NOT_CHECKED_OUT")?;
    env.git(&repo.root, &["switch", "--quiet", "feature/x"])?;
    // A work package sent back.
    env.json_data(
        &repo.root,
        &[
            "move",
            "WP04",
            "--to",
            "in_progress",
            "--mission",
            &repo.slug,
            "--actor",
            "reviewer",
            "--force",
            "--reason",
            "reopened",
        ],
    )?;
    refused("WORK_PACKAGES_NOT_APPROVED")?;
    Ok(())
}

// See: issue 10 ("`mission create` ignores a `reference-transaction` hook that `move` honours"):
// merge's commit path too.
#[test]
fn a_merge_refused_by_the_reference_transaction_hook_leaves_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let repo = MergeRepo::new(&env, "repo", &[])?;
    let before = env.fingerprint(&repo.root)?;
    crate::test_write_hooks::refuse_refs(&repo.root, "refs/heads/")?;
    let refused = repo.merge(&env, &[]).code(1);
    std::fs::remove_file(repo.root.join(".git/hooks/reference-transaction"))?;
    assert_eq!(
        refused.json_error()?["code"],
        "GIT_HOOK_REJECTED",
        "{refused}"
    );
    assert_eq!(env.fingerprint(&repo.root)?, before, "{refused}");
    repo.merge(&env, &[]).success();
    assert_eq!(repo.lanes(&env)?, all_done());
    Ok(())
}
