//! `missionctl wp add|list`: work-package files on the planning surface, and refusals that
//! leave the repository byte-identical.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, TestResult};

/// Creates a `lanes` mission in a new feature repository and returns the repository and the
/// mission's directory name.
pub(crate) fn mission(env: &TestEnv, topology: &str) -> anyhow::Result<(PathBuf, String)> {
    let repo = env.feature_repo(&format!("repo-{topology}"))?;
    let data = env.json_data(
        &repo,
        &["mission", "create", "task-list", "--topology", topology],
    )?;
    let slug = data["mission_slug"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no mission_slug in {data}"))?
        .to_owned();
    Ok((repo, slug))
}

/// The `spec.md` of the tests' missions: three functional requirements.
pub(crate) const SPEC: &str = "# Feature Specification: Task List\n\n## Requirements\n\n\
    ### Functional Requirements\n\n| ID | Title | Description |\n|----|-------|-------------|\n\
    | FR-001 | Store | Tasks are stored in a file. |\n| FR-002 | Add | A user adds a task. |\n\
    | FR-003 | Test | The CLI is tested end to end. |\n";

/// Commits what the tests' plans refer to: [`SPEC`] as the mission's `spec.md`, and
/// `src/cli.py`, which WP02 owns.
pub(crate) fn commit_plan_context(env: &TestEnv, repo: &Path, slug: &str) -> anyhow::Result<()> {
    let spec = format!("kitty-specs/{slug}/spec.md");
    std::fs::write(repo.join(&spec), SPEC)?;
    std::fs::create_dir_all(repo.join("src"))?;
    std::fs::write(repo.join("src/cli.py"), "")?;
    env.git(repo, &["add", "--", &spec, "src/cli.py"])?;
    env.git(
        repo,
        &["commit", "--quiet", "--message", "Spec and sources"],
    )?;
    Ok(())
}

/// Adds the three work packages of the tests, after [`commit_plan_context`]: WP01 (lane
/// a), WP02 after WP01 (its own lane), WP03 after WP01 and WP02; WP0n implements FR-00n.
pub(crate) fn add_three(env: &TestEnv, repo: &Path, slug: &str) -> anyhow::Result<()> {
    commit_plan_context(env, repo, slug)?;
    env.json_data(
        repo,
        &[
            "wp",
            "add",
            slug,
            "WP01",
            "--title",
            "Storage layer",
            "--subtask",
            "T001",
            "--subtask",
            "T002",
            "--owned-file",
            "src/store/**",
            "--requirement",
            "FR-001",
        ],
    )?;
    env.json_data(
        repo,
        &[
            "wp",
            "add",
            slug,
            "WP02",
            "--title",
            "Add and list",
            "--depends-on",
            "WP01",
            "--subtask",
            "T003",
            "--owned-file",
            "src/cli.py",
            "--requirement",
            "FR-002",
        ],
    )?;
    env.json_data(
        repo,
        &[
            "wp",
            "add",
            slug,
            "WP03",
            "--title",
            "E2E tests",
            "--depends-on",
            "WP01",
            "--depends-on",
            "WP02",
            "--subtask",
            "T004",
            "--owned-file",
            "tests/**",
            "--requirement",
            "FR-003",
        ],
    )?;
    Ok(())
}

#[test]
fn add_writes_the_file_and_list_shows_it() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    let added = env.json_data(
        &repo,
        &[
            "wp",
            "add",
            &slug,
            "WP01",
            "--title",
            "Storage layer",
            "--subtask",
            "T001",
            "--owned-file",
            "src/store/**",
            "--requirement",
            "FR-001",
        ],
    )?;
    assert_eq!(added["wp_id"], "WP01");
    assert_eq!(
        added["repo_path"],
        format!("kitty-specs/{slug}/tasks/WP01-storage-layer.md")
    );
    let text = std::fs::read_to_string(
        repo.join(format!("kitty-specs/{slug}/tasks/WP01-storage-layer.md")),
    )?;
    assert!(text.starts_with(
        "---\nwork_package_id: WP01\ntitle: Storage layer\ndependencies: []\nrequirement_refs:\n- FR-001\n\
         planning_base_branch: feature/x\nmerge_target_branch: feature/x\nbranch_strategy: \
         \"Planning artifacts for this mission were generated on feature/x. During \
         /spec-kitty.implement this WP may branch from a dependency-specific base, but completed \
         changes must merge back into feature/x unless the human explicitly redirects the \
         landing branch.\"\nsubtasks:\n- T001\nexecution_mode: code_change\nowned_files:\n\
         - src/store/**\nauthoritative_surface: src/store/\n---\n"
    ), "{text}");

    let listed = env.json_data(&repo, &["wp", "list", &slug])?;
    let rows = listed["work_packages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["lane"], "genesis",
        "a task file without events, as on the board"
    );
    assert_eq!(rows[0]["log_only"], false);
    assert_eq!(rows[0]["subtasks"], serde_json::json!(["T001"]));
    let text = env.run_in(&repo, ["wp", "list", &slug]).success();
    insta::assert_snapshot!(text, @"WP01   genesis        -             Storage layer");
    Ok(())
}

#[test]
fn add_refuses_bad_input_and_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    env.json_data(
        &repo,
        &[
            "wp",
            "add",
            &slug,
            "WP01",
            "--title",
            "A",
            "--owned-file",
            "src/a/**",
            "--subtask",
            "T001",
        ],
    )?;
    let before = env.fingerprint(&repo)?;
    let cases: [(&[&str], &str); 7] = [
        (&["WP01", "--title", "Again"], "WP_ALREADY_EXISTS"),
        (&["WP2", "--title", "Bad id"], "INVALID_WP_ID"),
        (
            &["WP02", "--title", "B", "--depends-on", "WP09"],
            "DEPENDENCY_UNKNOWN",
        ),
        (
            &["WP02", "--title", "B", "--depends-on", "WP02"],
            "DEPENDENCY_SELF",
        ),
        (
            &["WP02", "--title", "B", "--owned-file", "../../etc/**"],
            "OWNED_FILE_ESCAPES_REPO",
        ),
        (
            &["WP02", "--title", "B", "--subtask", "x1"],
            "SUBTASK_INVALID",
        ),
        (
            &["WP02", "--title", "B", "--owned-file", "src/a/b.py"],
            "OWNED_FILES_OVERLAP",
        ),
    ];
    for (extra, code) in cases {
        let mut args = vec!["wp", "add", slug.as_str()];
        args.extend_from_slice(extra);
        args.push("--json");
        let output = env.run_in(&repo, &args).code(1);
        let error = output.json_error()?;
        assert_eq!(error["code"], code, "{extra:?}: {error}");
        assert!(error["hint"].is_string(), "{error}");
    }
    assert_eq!(env.fingerprint(&repo)?, before);

    // A human error names the problem and says what to do.
    let output = env
        .run_in(
            &repo,
            [
                "wp",
                "add",
                &slug,
                "WP02",
                "--title",
                "B",
                "--depends-on",
                "WP09",
            ],
        )
        .code(1);
    assert!(
        output
            .stderr
            .contains("error: WP02 cannot be added: WP02 depends on WP09"),
        "{output}"
    );
    assert!(output.stderr.contains("hint: "), "{output}");
    Ok(())
}

#[test]
fn list_of_an_unknown_mission_is_a_clear_error() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    let output = env.run_in(&repo, ["wp", "list", "nope", "--json"]).code(1);
    let error: Value = output.json_error()?;
    assert_eq!(error["code"], "MISSION_NOT_FOUND");
    Ok(())
}
