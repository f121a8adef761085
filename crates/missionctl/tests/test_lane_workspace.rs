//! Lane worktrees beyond their creation, through the binary on real repositories:
//! `implement --base`, the workspace context file `.kittify/workspaces/<mission>-<lane>.json`,
//! implementing again after review, the context released when a cancel closes a lane, the
//! `for_review` commit gate, and `doctor`'s `ORPHAN_WORKSPACE`.

use std::path::{Path, PathBuf};

use missionctl_core::mission::workspace_context::KEYS;
use serde_json::{Value, json};

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, commit_plan_context, mission};

/// The review result a reviewer sends a work package back with.
const CHANGES_REQUESTED: &str =
    r#"{"reviewer": "codex", "verdict": "changes_requested", "reference": "review-1"}"#;

/// A finalized mission in its own repository.
struct Lanes {
    env: TestEnv,
    repo: PathBuf,
    slug: String,
}

impl Lanes {
    /// Creates a mission of `topology` with the work packages `add` writes, and finalizes it.
    fn new(
        topology: &str,
        add: fn(&TestEnv, &Path, &str) -> anyhow::Result<()>,
    ) -> anyhow::Result<Lanes> {
        let env = TestEnv::new()?;
        let (repo, slug) = mission(&env, topology)?;
        add(&env, &repo, &slug)?;
        env.json_data(&repo, &["tasks", "finalize", &slug])?;
        Ok(Lanes { env, repo, slug })
    }

    /// Runs `missionctl <args> --json` in the repository and returns the success `data`.
    fn data(&self, args: &[&str]) -> anyhow::Result<Value> {
        self.env.json_data(&self.repo, args)
    }

    /// Runs `missionctl <args> --json` expecting exit 1, checks that nothing was written, and
    /// returns the error object.
    fn refused(&self, args: &[&str]) -> anyhow::Result<Value> {
        let before = self.env.fingerprint(&self.repo)?;
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let error = self.env.run_in(&self.repo, &all).code(1).json_error()?;
        anyhow::ensure!(
            self.env.fingerprint(&self.repo)? == before,
            "{args:?} wrote something"
        );
        Ok(error)
    }

    /// `implement <wp> --actor <actor> <extra…>`.
    fn implement(&self, wp_id: &str, actor: &str, extra: &[&str]) -> anyhow::Result<Value> {
        let mut args = vec![
            "implement",
            wp_id,
            "--mission",
            &self.slug,
            "--actor",
            actor,
        ];
        args.extend_from_slice(extra);
        self.data(&args)
    }

    /// `move <wp> --to <lane> <extra…>`.
    fn move_to(&self, wp_id: &str, lane: &str, extra: &[&str]) -> anyhow::Result<Value> {
        let mut args = vec!["move", wp_id, "--to", lane, "--mission", &self.slug];
        args.extend_from_slice(extra);
        self.data(&args)
    }

    /// Forces a work package to `done`, so the ones that depend on it may start.
    fn force_done(&self, wp_id: &str) -> anyhow::Result<()> {
        self.move_to(
            wp_id,
            "done",
            &["--force", "--actor", "lead", "--reason", "done elsewhere"],
        )?;
        Ok(())
    }

    /// Marks a subtask done for `claude`.
    fn subtask_done(&self, wp_id: &str, subtask: &str) -> anyhow::Result<()> {
        let args = ["subtask", "done", &self.slug, wp_id, subtask];
        self.data(&[&args[..], &["--actor", "claude"]].concat())?;
        Ok(())
    }

    /// Sends `claude`'s work package to review, has `codex` review it and send it back to
    /// `lane` with changes requested.
    fn send_back(&self, wp_id: &str, lane: &str) -> anyhow::Result<()> {
        self.move_to(wp_id, "for_review", &["--actor", "claude"])?;
        self.move_to(wp_id, "in_review", &["--actor", "codex"])?;
        let review = [
            "--actor",
            "codex",
            "--review-result-json",
            CHANGES_REQUESTED,
        ];
        self.move_to(wp_id, lane, &review)?;
        Ok(())
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        self.env.git(&self.repo, args)
    }

    fn is_ancestor(&self, ancestor: &str, of: &str) -> bool {
        self.git(&["merge-base", "--is-ancestor", ancestor, of])
            .is_ok()
    }

    /// Returns the context file of one of the mission's lanes.
    fn context_file(&self, lane: &str) -> PathBuf {
        self.repo
            .join(format!(".kittify/workspaces/{}-{lane}.json", self.slug))
    }
}

/// Adds two work packages that share `lane-a` (WP02 after WP01, overlapping files) and one in
/// `lane-b` after WP01.
fn shared_lane(env: &TestEnv, repo: &Path, slug: &str) -> anyhow::Result<()> {
    commit_plan_context(env, repo, slug)?;
    std::fs::create_dir_all(repo.join("src/store"))?;
    std::fs::write(repo.join("src/store/cli.py"), "")?;
    env.git(repo, &["add", "--", "src/store/cli.py"])?;
    env.git(repo, &["commit", "--quiet", "--message", "Store CLI"])?;
    let packages = [
        ["WP01", "Storage", "", "T001", "src/store/**", "FR-001"],
        [
            "WP02",
            "Store CLI",
            "WP01",
            "T002",
            "src/store/cli.py",
            "FR-002",
        ],
        ["WP03", "Docs", "WP01", "T003", "docs/**", "FR-003"],
    ];
    for [wp_id, title, dependency, subtask, owned, requirement] in packages {
        let mut args = vec!["wp", "add", slug, wp_id, "--title", title];
        if !dependency.is_empty() {
            args.extend(["--depends-on", dependency]);
        }
        args.extend([
            "--subtask",
            subtask,
            "--owned-file",
            owned,
            "--requirement",
            requirement,
        ]);
        env.json_data(repo, &args)?;
    }
    Ok(())
}

/// Commits one file in a worktree.
fn commit_in(env: &TestEnv, workspace: &Path, file: &str) -> anyhow::Result<()> {
    std::fs::write(workspace.join(file), format!("{file}\n"))?;
    env.git(workspace, &["add", file])?;
    env.git(
        workspace,
        &["commit", "--quiet", "-m", &format!("work: {file}")],
    )?;
    Ok(())
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

fn path_of(value: &Value) -> PathBuf {
    PathBuf::from(value.as_str().unwrap_or_default())
}

#[test]
fn implement_base_cuts_a_fresh_lane_from_the_ref() -> TestResult {
    let lanes = Lanes::new("lanes", add_three)?;
    // A base with work of its own, sharing history with the planning commit through `main`.
    let side_worktree = lanes.env.root().join("side");
    let side_path = side_worktree.to_str().unwrap_or_default();
    lanes.git(&[
        "worktree", "add", "--quiet", "-b", "side", side_path, "main",
    ])?;
    commit_in(&lanes.env, &side_worktree, "side.txt")?;
    lanes.git(&["worktree", "remove", side_path])?;
    let side = lanes.git(&["rev-parse", "side"])?.trim().to_owned();

    let data = lanes.implement("WP01", "claude", &["--base", "side"])?;
    assert_eq!(data["worktree"], "created");
    assert_eq!(data["base"], "side");
    let branch = data["branch"].as_str().unwrap_or_default().to_owned();
    assert!(lanes.is_ancestor(&side, &branch), "not cut from side");
    let manifest = read_json(
        &lanes
            .repo
            .join(format!("kitty-specs/{}/lanes.json", lanes.slug)),
    )?;
    let planning = manifest["planning_commit_sha"].as_str().unwrap_or_default();
    assert!(lanes.is_ancestor(planning, &branch), "no planning commit");

    // The context file, key for key in Spec Kitty's order.
    let path = lanes.context_file("lane-a");
    assert_eq!(path_of(&data["context_file"]), path);
    let text = std::fs::read_to_string(&path)?;
    let written: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("  \""))
        .filter_map(|line| line.split('"').next())
        .filter(|key| !key.starts_with("SPEC_KITTY"))
        .collect();
    assert_eq!(written, KEYS, "{text}");
    let slug = lanes.slug.as_str();
    let db_name = format!("test_{}_lane_a", slug.replace('-', "_"));
    assert_eq!(
        serde_json::from_str::<Value>(&text)?,
        json!({
            "wp_id": "WP01",
            "mission_slug": slug,
            "worktree_path": format!(".worktrees/{slug}-lane-a"),
            "branch_name": branch,
            "base_branch": "side",
            "base_commit": side,
            "dependencies": [],
            "created_at": read_json(&path)?["created_at"],
            "created_by": "implement-command-lane",
            "vcs_backend": "git",
            "lane_id": "lane-a",
            "lane_wp_ids": ["WP01"],
            "current_wp": "WP01",
            "lane_test_env": {"SPEC_KITTY_TEST_DB_NAME": db_name},
        })
    );
    assert!(
        text.starts_with("{\n  \"wp_id\": \"WP01\",\n") && text.ends_with("  }\n}\n"),
        "{text}"
    );
    assert_eq!(
        data["lane_test_env"],
        json!({"SPEC_KITTY_TEST_DB_NAME": db_name})
    );

    // Local state: not committed, not shown by `git status`.
    assert_eq!(lanes.git(&["status", "--porcelain"])?, "");
    let committed = lanes.git(&["log", "--all", "--name-only", "--format="])?;
    assert!(!committed.contains(".kittify/workspaces"), "{committed}");
    Ok(())
}

#[test]
fn implement_base_is_refused_where_it_cannot_be_honored() -> TestResult {
    let lanes = Lanes::new("lanes", add_three)?;
    let with_base = |wp_id: &'static str, base: &'static str| {
        let slug: &str = &lanes.slug;
        [
            "implement",
            wp_id,
            "--mission",
            slug,
            "--actor",
            "claude",
            "--base",
            base,
        ]
    };
    let refuse = |args: &[&str], code: &str, route: &str| -> anyhow::Result<Value> {
        let error = lanes.refused(args)?;
        assert_eq!(error["code"], code, "{args:?}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(route), "{args:?}: {message}");
        Ok(error)
    };

    // A base that names no commit, and one with no history in common with the planning
    // commit.
    refuse(
        &with_base("WP01", "no-such-branch"),
        "BASE_REF_NOT_FOUND",
        "no-such-branch",
    )?;
    let empty_tree = lanes.git(&["hash-object", "-t", "tree", "/dev/null"])?;
    let unrelated = lanes.git(&["commit-tree", empty_tree.trim(), "-m", "unrelated"])?;
    lanes.git(&["branch", "unrelated", unrelated.trim()])?;
    refuse(
        &with_base("WP01", "unrelated"),
        "UNHONORABLE_BASE",
        "(detached_base route)",
    )?;

    // A planning commit that is missing from the repository.
    let lanes_path = lanes
        .repo
        .join(format!("kitty-specs/{}/lanes.json", lanes.slug));
    let lanes_bytes = std::fs::read(&lanes_path)?;
    let mut manifest = read_json(&lanes_path)?;
    manifest["planning_commit_sha"] = json!("0123456789abcdef0123456789abcdef01234567");
    std::fs::write(&lanes_path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    let main_base = with_base("WP01", "main");
    refuse(&main_base, "UNHONORABLE_BASE", "(detached_base route)")?;
    std::fs::write(&lanes_path, lanes_bytes)?;

    // An existing lane: its worktree (reuse), then its branch alone (crash recovery).
    let first = lanes.implement("WP01", "claude", &[])?;
    refuse(&main_base, "UNHONORABLE_BASE", "(reuse route)")?;
    std::fs::remove_dir_all(path_of(&first["workspace"]))?;
    refuse(&main_base, "UNHONORABLE_BASE", "(crash_recovery route)")?;
    assert_eq!(
        lanes.implement("WP01", "claude", &[])?["worktree"],
        "restored"
    );

    // A lane that depends on another lane.
    lanes.force_done("WP01")?;
    let args = with_base("WP02", "main");
    let error = refuse(&args, "UNHONORABLE_BASE", "(dependency_lane route)")?;
    assert_eq!(
        error["hint"],
        format!(
            "Run `missionctl implement WP02 --mission {}` without `--base`: the lane starts \
             from the mission branch and merges the lanes it depends on",
            lanes.slug
        )
    );
    let text = lanes.env.run_in(&lanes.repo, args).code(1);
    assert!(
        text.stderr
            .starts_with("error: Cannot honor --base `main` for WP02 (dependency_lane route)"),
        "{text}"
    );
    Ok(())
}

#[test]
fn implement_base_is_ignored_with_a_warning_in_the_primary_checkout() -> TestResult {
    let lanes = Lanes::new("single_branch", add_three)?;
    let data = lanes.implement("WP01", "claude", &["--base", "main"])?;
    assert_eq!(data["workspace_kind"], "repo_root");
    assert_eq!(data["context_file"], Value::Null);
    let warning = "--base `main` ignored: WP01 works in the primary checkout on `feature/x`";
    assert_eq!(data["warnings"], json!([warning]));
    assert!(!lanes.repo.join(".kittify/workspaces").exists());
    let args = [
        "implement",
        "WP01",
        "--mission",
        &lanes.slug,
        "--base",
        "main",
    ];
    let text = lanes
        .env
        .run_in(&lanes.repo, [&args[..], &["--actor", "claude"]].concat())
        .success();
    assert_eq!(text.stderr, format!("warning: {warning}\n"));
    Ok(())
}

#[test]
fn the_workspace_context_follows_the_lane() -> TestResult {
    let lanes = Lanes::new("lanes_with_coord", shared_lane)?;
    let first = lanes.implement("WP01", "claude", &[])?;
    let path = lanes.context_file("lane-a");
    let created = read_json(&path)?;
    let coordination = format!("kitty/mission-{}", lanes.slug);
    assert_eq!(created["base_branch"], coordination.as_str());
    assert_eq!(created["lane_wp_ids"], json!(["WP01", "WP02"]));
    assert_eq!(created["current_wp"], "WP01");
    // Cut from the coordination branch's tip of then, before implement's status commit.
    let base_commit = created["base_commit"].as_str().unwrap_or_default();
    let branch = first["branch"].as_str().unwrap_or_default();
    assert_eq!(base_commit.len(), 40, "{created}");
    assert!(lanes.is_ancestor(base_commit, branch));
    assert!(lanes.is_ancestor(base_commit, &coordination));
    assert_ne!(
        lanes.git(&["rev-parse", &coordination])?.trim(),
        base_commit
    );

    // The next work package of the lane moves the context, nothing else.
    lanes.force_done("WP01")?;
    let second = lanes.implement("WP02", "claude", &[])?;
    assert_eq!(second["worktree"], "reused");
    assert_eq!(second["workspace"], first["workspace"]);
    let mut expected = created.clone();
    expected["wp_id"] = json!("WP02");
    expected["current_wp"] = json!("WP02");
    expected["dependencies"] = json!(["WP01"]);
    assert_eq!(read_json(&path)?, expected);

    // Running it again writes nothing.
    let settled = lanes.env.fingerprint(&lanes.repo)?;
    let again = lanes.implement("WP02", "claude", &[])?;
    assert_eq!(again["event_ids"], json!([]));
    assert_eq!(lanes.env.fingerprint(&lanes.repo)?, settled);
    Ok(())
}

#[test]
fn a_work_package_sent_back_by_review_is_implemented_again() -> TestResult {
    let lanes = Lanes::new("lanes", shared_lane)?;
    let first = lanes.implement("WP01", "claude", &[])?;
    let workspace = path_of(&first["workspace"]);
    commit_in(&lanes.env, &workspace, "store.py")?;
    lanes.subtask_done("WP01", "T001")?;
    lanes.send_back("WP01", "in_progress")?;

    // Sent back to in_progress by the reviewer: the implementer resumes, nothing is written.
    let settled = lanes.env.fingerprint(&lanes.repo)?;
    let resumed = lanes.implement("WP01", "claude", &[])?;
    assert_eq!(resumed["from_lane"], "in_progress");
    assert_eq!(resumed["event_ids"], json!([]));
    assert_eq!(resumed["worktree"], "reused");
    assert_eq!(lanes.env.fingerprint(&lanes.repo)?, settled);
    // A third agent is still refused.
    let bob = [
        "implement",
        "WP01",
        "--mission",
        &lanes.slug,
        "--actor",
        "bob",
    ];
    let error = lanes.refused(&bob)?;
    assert_eq!(error["code"], "WORK_PACKAGE_CLAIM_CONFLICT");

    // Sent back to planned: claimed and in progress again, in the same worktree, with the
    // lane's commits.
    commit_in(&lanes.env, &workspace, "fix.py")?;
    lanes.send_back("WP01", "planned")?;
    let replanned = lanes.implement("WP01", "claude", &[])?;
    assert_eq!(replanned["from_lane"], "planned");
    assert_eq!(replanned["event_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(replanned["worktree"], "reused");
    assert_eq!(replanned["workspace"], first["workspace"]);
    assert!(workspace.join("fix.py").is_file() && workspace.join("store.py").is_file());

    // Its lane was started: with worktree and branch gone, it is not silently cut afresh.
    let start_over = ["--actor", "claude", "--reason", "start over", "--force"];
    lanes.move_to("WP01", "planned", &start_over)?;
    let branch = replanned["branch"].as_str().unwrap_or_default();
    let workspace_path = workspace.to_str().unwrap_or_default();
    lanes.git(&["worktree", "remove", "--force", workspace_path])?;
    lanes.git(&["branch", "-D", branch])?;
    let claude = [
        "implement",
        "WP01",
        "--mission",
        &lanes.slug,
        "--actor",
        "claude",
    ];
    assert_eq!(lanes.refused(&claude)?["code"], "LANE_BRANCH_MISSING");
    Ok(())
}

#[test]
fn a_cancel_that_closes_a_lane_releases_its_context() -> TestResult {
    let lanes = Lanes::new("lanes", shared_lane)?;
    let first = lanes.implement("WP01", "claude", &[])?;
    let path = lanes.context_file("lane-a");
    assert!(path.is_file());

    // WP02 of the same lane is still planned: the context stays.
    let canceled = lanes.move_to("WP01", "canceled", &["--actor", "lead"])?;
    assert_eq!(canceled["released_workspace"], Value::Null);
    assert!(path.is_file());
    // A lane without a context file: nothing to release.
    let other = lanes.move_to("WP03", "canceled", &["--actor", "lead"])?;
    assert_eq!(other["released_workspace"], Value::Null);

    let slug = lanes.slug.as_str();
    let cancel = ["move", "WP02", "--to", "canceled", "--mission", slug];
    let text = lanes
        .env
        .run_in(&lanes.repo, [&cancel[..], &["--actor", "lead"]].concat())
        .success();
    assert!(
        text.stdout.ends_with(&format!(
            "\nEvery work package of its lane is done or canceled: removed \
             .kittify/workspaces/{slug}-lane-a.json\n"
        )),
        "{text}"
    );
    assert!(!path.exists());
    // Only the status files were committed.
    let changed = lanes.git(&["show", "--name-only", "--format=", "HEAD"])?;
    assert_eq!(
        changed,
        format!("kitty-specs/{slug}/status.events.jsonl\nkitty-specs/{slug}/status.json\n")
    );

    // Every work package is terminal and the lane worktree remains: doctor says so, and its
    // fix clears it.
    let doctor = ["doctor", "--mission", slug];
    let relative = format!(".worktrees/{slug}-lane-a");
    assert_eq!(path_of(&first["workspace"]), lanes.repo.join(&relative));
    assert_eq!(
        lanes.data(&doctor)?["findings"],
        json!([{
            "mission_slug": slug,
            "code": "ORPHAN_WORKSPACE",
            "severity": "warning",
            "message": format!(
                "Every work package is done or canceled, but the lane worktree `{relative}` remains"
            ),
            "fix": format!("git worktree remove {relative}"),
        }])
    );
    lanes.git(&["worktree", "remove", &relative])?;
    assert_eq!(lanes.data(&doctor)?["findings"], json!([]));
    Ok(())
}

#[test]
fn for_review_needs_a_commit_of_the_lane() -> TestResult {
    let lanes = Lanes::new("lanes_with_coord", shared_lane)?;
    let slug = lanes.slug.as_str();
    let first = lanes.implement("WP01", "claude", &[])?;
    let branch = first["branch"].as_str().unwrap_or_default();
    lanes.subtask_done("WP01", "T001")?;
    let to_review = |wp_id| ["move", wp_id, "--to", "for_review", "--mission", slug];

    let error = lanes.refused(&[&to_review("WP01")[..], &["--actor", "claude"]].concat())?;
    assert_eq!(error["code"], "NO_IMPLEMENTATION_COMMIT");
    assert_eq!(
        error["message"],
        format!(
            "WP01 cannot move to for_review: no implementation commit on lane-a (`{branch}`) \
             beyond `kitty/mission-{slug}`"
        )
    );
    let hint = error["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("--force --actor <you> --reason <why>"),
        "{hint}"
    );

    // A commit of its own lets it through.
    commit_in(&lanes.env, &path_of(&first["workspace"]), "store.py")?;
    let moved = lanes.move_to("WP01", "for_review", &["--actor", "claude"])?;
    assert_eq!(moved["from_lane"], "in_progress");

    // What implement merged into a new lane (here lane-a's work) is not the lane's own.
    lanes.force_done("WP01")?;
    let third = lanes.implement("WP03", "claude", &[])?;
    assert_eq!(third["lane_id"], "lane-b");
    let lane_b = third["branch"].as_str().unwrap_or_default();
    let range = format!("kitty/mission-{slug}..{lane_b}");
    assert_ne!(lanes.git(&["rev-list", "--count", &range])?.trim(), "0");
    let error = lanes.refused(&[&to_review("WP03")[..], &["--actor", "claude"]].concat())?;
    assert_eq!(error["code"], "NO_IMPLEMENTATION_COMMIT");
    // --force bypasses the gate, as it bypasses the other guards.
    let forced = [
        "--actor",
        "claude",
        "--force",
        "--reason",
        "docs need no change",
    ];
    let moved = lanes.move_to("WP03", "for_review", &forced)?;
    assert_eq!(moved["event"]["force"], true);
    Ok(())
}
