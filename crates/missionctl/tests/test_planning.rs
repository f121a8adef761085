//! The planning surface through the binary: `spec-commit` and `map-requirements` commit on the
//! mission's target branch (never the coordination branch), refuse what is not a planning
//! artifact with nothing written, and agree with `tasks finalize --validate-only` on the work
//! packages' requirement refs.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::{Value, json};

use crate::common::git_repo::FEATURE_BRANCH;
use crate::common::{TestEnv, TestResult};
use crate::test_wp::mission;

/// The two topologies the planning tests run on: one with a coordination branch, one without.
const TOPOLOGIES: [&str; 2] = ["lanes_with_coord", "lanes"];

/// A substantive spec: three functional requirements, one non-functional, one constraint.
const SPEC: &str = "# Task list CLI\n\n## Requirements\n\n\
                    | ID | Title | Description |\n|----|-------|-------------|\n\
                    | FR-001 | Add a task | The CLI adds a task to the list |\n\
                    | FR-002 | List tasks | The CLI lists the tasks |\n\
                    | FR-003 | Delete a task | The CLI deletes a task |\n\
                    | NFR-001 | Fast | Every command answers in 200 ms |\n\
                    | C-001 | Stdlib only | No third-party packages |\n";

/// A substantive plan.
const PLAN: &str = "# Plan\n\n## Technical Context\n\n**Language/Version**: Python 3.11\n\
                    **Storage**: a JSON file\n";

/// A work-package file written by hand, with keys missionctl does not model, a comment and a
/// body: `map-requirements` must keep all of it.
const WP01: &str = "---\nwork_package_id: WP01\ntitle: Storage layer\ndependencies: []\n\
                    requirement_refs: []\nsubtasks:\n- T001\n# owned by the storage team\n\
                    execution_mode: code_change\nowned_files:\n  - src/store/**\n\
                    authoritative_surface: src/store/\nagent_profile: implementer-ivan\n\
                    history:\n- at: '2026-11-21T22:30:00Z'\n  actor: system\n---\n\n\
                    # Work Package Prompt: WP01 – Storage layer\n\nKeep `requirement_refs: []` here.\n";

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the tips of every `kitty/…` branch (the coordination branch, when there is one).
fn kitty_branches(env: &TestEnv, repo: &Path) -> anyhow::Result<String> {
    env.git(
        repo,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads/kitty/",
        ],
    )
}

/// Returns the files a commit changed.
fn commit_files(env: &TestEnv, repo: &Path, commit: &str) -> anyhow::Result<Vec<String>> {
    Ok(env
        .git(repo, &["show", "--name-only", "--format=", commit])?
        .lines()
        .map(str::to_owned)
        .collect())
}

/// Writes a file of the mission directory.
fn write(repo: &Path, slug: &str, name: &str, text: &str) -> std::io::Result<()> {
    let path = repo.join(format!("kitty-specs/{slug}/{name}"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Creates a mission with the spec and the hand-written WP01, neither committed.
fn specified(env: &TestEnv, topology: &str) -> anyhow::Result<(std::path::PathBuf, String)> {
    let (repo, slug) = mission(env, topology)?;
    write(&repo, &slug, "spec.md", SPEC)?;
    write(&repo, &slug, "tasks/WP01-storage-layer.md", WP01)?;
    Ok((repo, slug))
}

/// Runs a command that must fail with `code`, with `--json`; returns the error object.
fn refused(env: &TestEnv, repo: &Path, args: &[&str], code: &str) -> anyhow::Result<Value> {
    refused_with(env, repo, args, code, &[])
}

fn refused_with(
    env: &TestEnv,
    repo: &Path,
    args: &[&str],
    code: &str,
    overrides: &[(&str, &OsStr)],
) -> anyhow::Result<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let error = env.run_with(repo, &all, overrides).code(1).json_error()?;
    anyhow::ensure!(error["code"] == code, "{args:?}: {error}");
    anyhow::ensure!(error["hint"].is_string(), "{args:?}: {error}");
    Ok(error)
}

#[test]
fn spec_commit_commits_on_the_target_branch_and_a_second_run_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    for topology in TOPOLOGIES {
        let (repo, slug) = mission(&env, topology)?;
        write(&repo, &slug, "spec.md", SPEC)?;
        write(&repo, &slug, "plan.md", PLAN)?;
        write(
            &repo,
            &slug,
            "checklists/requirements.md",
            "- [x] testable\n",
        )?;
        std::fs::write(repo.join("unrelated.txt"), "staged, not planning\n")?;
        env.git(&repo, &["add", "unrelated.txt"])?;
        let coordination = kitty_branches(&env, &repo)?;
        assert_eq!(
            coordination.is_empty(),
            topology == "lanes",
            "{topology}: {coordination}"
        );

        let report = env.json_data(&repo, &["spec-commit", &slug])?;
        let commit = report["commit"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            env.git(&repo, &["rev-parse", FEATURE_BRANCH])?.trim(),
            commit,
            "{topology}: not committed on the target branch: {report}"
        );
        assert_eq!(kitty_branches(&env, &repo)?, coordination, "{topology}");
        let dir = format!("kitty-specs/{slug}");
        let expected = [
            format!("{dir}/spec.md"),
            format!("{dir}/plan.md"),
            format!("{dir}/checklists/requirements.md"),
        ];
        assert_eq!(strings(&report["committed"]), expected, "{topology}");
        let mut files = commit_files(&env, &repo, &commit)?;
        files.sort();
        let mut sorted = expected.to_vec();
        sorted.sort();
        assert_eq!(files, sorted, "{topology}: the commit holds other files");
        assert_eq!(report["planning_branch"], FEATURE_BRANCH);
        assert_eq!(report["topology"], topology);
        assert_eq!(
            env.git(&repo, &["status", "--porcelain"])?,
            "A  unrelated.txt\n",
            "{topology}: the user's staged file is left staged"
        );

        let settled = env.fingerprint(&repo)?;
        let again = env.json_data(&repo, &["spec-commit", &slug])?;
        assert!(again["commit"].is_null(), "{topology}: {again}");
        assert!(strings(&again["committed"]).is_empty());
        assert_eq!(strings(&again["unchanged"]), expected);
        let text = env.run_in(&repo, ["spec-commit", &slug]).success();
        assert!(text.stdout.starts_with("Nothing to commit"), "{text}");
        assert_eq!(
            env.fingerprint(&repo)?,
            settled,
            "{topology}: a second run wrote"
        );
    }
    Ok(())
}

#[test]
fn spec_commit_skips_a_template_spec_and_plan_with_a_reason() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes_with_coord")?;
    let spec_path = repo.join(format!("kitty-specs/{slug}/spec.md"));
    let template = std::fs::read_to_string(&spec_path)?;
    // Still the template, edited: a changed file, but no requirement with content.
    write(
        &repo,
        &slug,
        "spec.md",
        &template.replace("**Status**: Draft", "**Status**: In review"),
    )?;
    write(
        &repo,
        &slug,
        "plan.md",
        "# Plan\n\n## Technical Context\n\n**Language/Version**: [NEEDS CLARIFICATION]\n",
    )?;
    write(
        &repo,
        &slug,
        "research.md",
        "# Research\n\nJSON beats SQLite here.\n",
    )?;

    let report = env.json_data(&repo, &["spec-commit", &slug])?;
    let dir = format!("kitty-specs/{slug}");
    assert_eq!(
        strings(&report["committed"]),
        [format!("{dir}/research.md")]
    );
    let skipped: Vec<(String, String, String)> = report["skipped"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|item| {
            (
                item["path"].as_str().unwrap_or_default().to_owned(),
                item["kind"].as_str().unwrap_or_default().to_owned(),
                item["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            (
                format!("{dir}/spec.md"),
                "SPEC".to_owned(),
                "NOT_SUBSTANTIVE".to_owned()
            ),
            (
                format!("{dir}/plan.md"),
                "FINALIZED_EXECUTION_PLAN".to_owned(),
                "NOT_SUBSTANTIVE".to_owned()
            ),
        ]
    );
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("still the template")),
        "{report}"
    );
    // The template files stay as they were in the working tree, uncommitted.
    assert_eq!(
        env.git(&repo, &["status", "--porcelain"])?,
        format!(" M {dir}/spec.md\n?? {dir}/plan.md\n")
    );

    // Named explicitly, a template spec is skipped just the same.
    let before = env.fingerprint(&repo)?;
    let named = env.json_data(&repo, &["spec-commit", &slug, "spec.md"])?;
    assert!(named["commit"].is_null(), "{named}");
    assert_eq!(named["skipped"][0]["code"], "NOT_SUBSTANTIVE");
    let text = env
        .run_in(&repo, ["spec-commit", &slug, "spec.md"])
        .success();
    assert!(
        text.stdout.contains(&format!(
            "skipped {dir}/spec.md: spec.md has no functional requirement"
        )),
        "{text}"
    );
    assert_eq!(env.fingerprint(&repo)?, before);
    Ok(())
}

#[test]
fn spec_commit_refuses_what_is_not_a_planning_file_and_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes_with_coord")?;
    write(&repo, &slug, "spec.md", SPEC)?;
    write(&repo, &slug, "status.json", "{}\n")?;
    write(&repo, &slug, "tasks/WP01-x/review-cycle-1.md", "# Review\n")?;
    write(&repo, &slug, "notes.txt", "scratch\n")?;
    std::fs::write(repo.join("outside.md"), "not the mission's\n")?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        repo.join("outside.md"),
        repo.join(format!("kitty-specs/{slug}/research.md")),
    )?;
    let outside = repo.join("outside.md").display().to_string();
    let absolute = [outside.as_str()];
    let before = env.fingerprint(&repo)?;
    let mut cases: Vec<(&[&str], &str)> = vec![
        (&["../../outside.md"], "PLANNING_PATH_OUTSIDE_MISSION"),
        (&absolute, "PLANNING_PATH_OUTSIDE_MISSION"),
        (&["status.json"], "COORDINATION_ARTIFACT_REFUSED"),
        (&["status.events.jsonl"], "COORDINATION_ARTIFACT_REFUSED"),
        (&["spec.md", "status.json"], "COORDINATION_ARTIFACT_REFUSED"),
        (
            &["tasks/WP01-x/review-cycle-1.md"],
            "COORDINATION_ARTIFACT_REFUSED",
        ),
        (&["tasks"], "COORDINATION_ARTIFACT_REFUSED"),
        (&["decisions.events.jsonl"], "COORDINATION_ARTIFACT_REFUSED"),
        (&["notes.txt"], "PLANNING_ARTIFACT_UNKNOWN"),
        (&["."], "PLANNING_ARTIFACT_UNKNOWN"),
        (&["data-model.md"], "PLANNING_FILE_NOT_FOUND"),
    ];
    if cfg!(unix) {
        cases.push((&["research.md"], "SYMLINK_REFUSED"));
    }
    for (files, code) in cases {
        let mut args = vec!["spec-commit", slug.as_str()];
        args.extend_from_slice(files);
        let error = refused(&env, &repo, &args, code)?;
        if code == "COORDINATION_ARTIFACT_REFUSED" {
            assert!(
                error["message"]
                    .as_str()
                    .is_some_and(|message| message.contains("(COORD partition)")),
                "{error}"
            );
        }
        assert_eq!(env.fingerprint(&repo)?, before, "{files:?} wrote something");
    }
    let human = env
        .run_in(&repo, ["spec-commit", &slug, "status.json"])
        .code(1);
    assert!(
        human.stderr.starts_with(&format!(
            "error: `kitty-specs/{slug}/status.json` is a STATUS_STATE artifact"
        )),
        "{human}"
    );
    assert!(human.stdout.is_empty());
    Ok(())
}

#[test]
fn map_requirements_refuses_bad_refs_and_leaves_the_file_byte_identical() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = specified(&env, "lanes_with_coord")?;
    let wp_file = repo.join(format!("kitty-specs/{slug}/tasks/WP01-storage-layer.md"));
    let before = env.fingerprint(&repo)?;

    let error = refused(
        &env,
        &repo,
        &[
            "map-requirements",
            &slug,
            "--wp",
            "WP01",
            "--refs",
            "FR-001,FR-009,NFR-007",
        ],
        "REQUIREMENT_REF_UNKNOWN",
    )?;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.ends_with("spec.md`: FR-009, NFR-007")),
        "{error}"
    );
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains("FR-001, FR-002, FR-003")),
        "{error}"
    );
    let document = env
        .run_in(
            &repo,
            [
                "map-requirements",
                &slug,
                "--wp",
                "WP01",
                "--refs",
                "FR-009",
                "--json",
            ],
        )
        .code(1)
        .json()?;
    assert_eq!(document["data"]["unknown_refs"], json!(["FR-009"]));
    assert_eq!(
        document["data"]["declared_refs"],
        json!(["C-001", "FR-001", "FR-002", "FR-003", "NFR-001"])
    );

    let cases: [(&[&str], &str); 4] = [
        (
            &["--wp", "WP01", "--refs", "FR-3a"],
            "REQUIREMENT_REF_INVALID",
        ),
        (&["--wp", "WP1", "--refs", "FR-001"], "INVALID_WP_ID"),
        (&["--wp", "WP07", "--refs", "FR-001"], "WP_NOT_FOUND"),
        (&["--wp", "WP01", "--refs", ","], "REQUIREMENT_REFS_MISSING"),
    ];
    for (extra, code) in cases {
        let mut args = vec!["map-requirements", slug.as_str()];
        args.extend_from_slice(extra);
        refused(&env, &repo, &args, code)?;
    }
    assert_eq!(env.fingerprint(&repo)?, before);
    assert_eq!(std::fs::read_to_string(&wp_file)?, WP01);

    // A commit that fails after the file was rewritten puts the file's bytes back: here an
    // `index.lock` a dead git left an hour ago, reported (never removed) at once.
    let lock = repo.join(".git/index.lock");
    std::fs::File::create(&lock)?
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))?;
    refused(
        &env,
        &repo,
        &[
            "map-requirements",
            &slug,
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
        ],
        "GIT_LOCK_BUSY",
    )?;
    std::fs::remove_file(&lock)?;
    assert_eq!(env.fingerprint(&repo)?, before);
    assert_eq!(std::fs::read_to_string(&wp_file)?, WP01);

    // See: issue 10 ("`map-requirements` refuses a work-package file with uncommitted edits
    // instead of committing them"): committed, then edited, then staged, it is refused and
    // left as it is. (A new file, as above, is the plan being written: it is committed.)
    let wp_path = wp_file.to_string_lossy().into_owned();
    env.git(&repo, &["add", "--", &wp_path])?;
    env.git(&repo, &["commit", "--quiet", "-m", "plan WP01"])?;
    let edited = format!("{WP01}\nA note of the user's, not committed.\n");
    std::fs::write(&wp_file, &edited)?;
    let map = [
        "map-requirements",
        slug.as_str(),
        "--wp",
        "WP01",
        "--refs",
        "FR-001",
    ];
    for stage in [false, true] {
        if stage {
            env.git(&repo, &["add", "--", &wp_path])?;
        }
        let with_edit = env.fingerprint(&repo)?;
        let error = refused(&env, &repo, &map, "WP_FILE_UNCOMMITTED")?;
        assert!(
            error["hint"]
                .as_str()
                .is_some_and(|hint| hint.contains("git stash push --")),
            "{error}"
        );
        assert_eq!(env.fingerprint(&repo)?, with_edit);
        assert_eq!(std::fs::read_to_string(&wp_file)?, edited);
    }
    env.git(&repo, &["reset", "--quiet", "--", &wp_path])?;
    std::fs::write(&wp_file, WP01)?;

    // A usage error is a JSON document too.
    let usage = env
        .run_in(&repo, ["map-requirements", &slug, "--wp", "WP01", "--json"])
        .code(2)
        .json_error()?;
    assert_eq!(usage["code"], "USAGE_ERROR");

    // Without spec.md there is nothing to check refs against.
    std::fs::remove_file(repo.join(format!("kitty-specs/{slug}/spec.md")))?;
    let without_spec = env.fingerprint(&repo)?;
    refused(
        &env,
        &repo,
        &[
            "map-requirements",
            &slug,
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
        ],
        "SPEC_NOT_FOUND",
    )?;
    assert_eq!(env.fingerprint(&repo)?, without_spec);
    Ok(())
}

#[test]
fn map_requirements_edits_only_the_refs_and_finalize_reads_them_from_the_same_surface() -> TestResult
{
    let env = TestEnv::new()?;
    for topology in TOPOLOGIES {
        let (repo, slug) = specified(&env, topology)?;
        env.json_data(
            &repo,
            &[
                "wp",
                "add",
                &slug,
                "WP02",
                "--title",
                "CLI",
                "--depends-on",
                "WP01",
                "--owned-file",
                "src/cli.py",
            ],
        )?;
        env.json_data(&repo, &["spec-commit", &slug])?;
        let coordination = kitty_branches(&env, &repo)?;

        // Before: finalize sees no refs and refuses, as Spec Kitty does, naming every
        // functional requirement and the work packages without refs.
        let refusal = |env: &TestEnv| -> anyhow::Result<Value> {
            let output = env
                .run_in(
                    &repo,
                    [
                        "tasks",
                        "finalize",
                        "--mission",
                        &slug,
                        "--validate-only",
                        "--json",
                    ],
                )
                .code(1);
            let document = output.json()?;
            anyhow::ensure!(
                document["error"]["code"] == "REQUIREMENT_MAPPING_INCOMPLETE",
                "{document}"
            );
            anyhow::ensure!(
                document["error"]["hint"]
                    .as_str()
                    .is_some_and(|hint| hint.contains("missionctl map-requirements")),
                "{document}"
            );
            Ok(document["data"].clone())
        };
        let before = refusal(&env)?;
        assert_eq!(
            before["unmapped_functional_requirements"],
            json!(["FR-001", "FR-002", "FR-003"]),
            "{topology}"
        );
        assert_eq!(
            before["missing_requirement_refs_wps"],
            json!(["WP01", "WP02"])
        );

        let mapped = env.json_data(
            &repo,
            &[
                "map-requirements",
                &slug,
                "--wp",
                "wp01",
                "--refs",
                "FR-002,fr-001",
                "--refs",
                "C-001",
            ],
        )?;
        assert_eq!(mapped["wp_id"], "WP01");
        assert_eq!(
            mapped["requirement_refs"],
            json!(["C-001", "FR-001", "FR-002"])
        );
        assert_eq!(mapped["written"], true);
        let commit = mapped["commit"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            env.git(&repo, &["rev-parse", FEATURE_BRANCH])?.trim(),
            commit,
            "{topology}: not committed on the target branch"
        );
        assert_eq!(kitty_branches(&env, &repo)?, coordination, "{topology}");
        let wp_rel = format!("kitty-specs/{slug}/tasks/WP01-storage-layer.md");
        assert_eq!(
            commit_files(&env, &repo, &commit)?,
            std::slice::from_ref(&wp_rel)
        );
        assert_eq!(
            std::fs::read_to_string(repo.join(&wp_rel))?,
            WP01.replacen(
                "requirement_refs: []\n",
                "requirement_refs:\n- C-001\n- FR-001\n- FR-002\n",
                1
            ),
            "{topology}: more than requirement_refs changed"
        );
        assert_eq!(
            mapped["coverage"],
            json!({"total_functional": 3, "mapped_functional": 2, "unmapped_functional": ["FR-003"]})
        );

        // Finalize, from the same surface, now agrees with map-requirements.
        let after = refusal(&env)?;
        assert_eq!(after["unmapped_functional_requirements"], json!(["FR-003"]));
        assert_eq!(after["missing_requirement_refs_wps"], json!(["WP02"]));
        assert_eq!(
            after["requirement_refs_parsed"],
            json!({"WP01": ["C-001", "FR-001", "FR-002"], "WP02": []})
        );
        let listed = env.json_data(&repo, &["wp", "list", &slug])?;
        assert_eq!(
            listed["work_packages"][0]["requirement_refs"],
            json!(["C-001", "FR-001", "FR-002"])
        );

        // The same refs again: nothing rewritten, nothing committed.
        let settled = env.fingerprint(&repo)?;
        let again = env.json_data(
            &repo,
            &[
                "map-requirements",
                &slug,
                "--wp",
                "WP01",
                "--refs",
                "FR-001",
            ],
        )?;
        assert_eq!(again["written"], false);
        assert!(again["commit"].is_null(), "{again}");
        assert_eq!(
            again["requirement_refs"],
            json!(["C-001", "FR-001", "FR-002"])
        );
        assert_eq!(
            env.fingerprint(&repo)?,
            settled,
            "{topology}: a second run wrote"
        );

        // Adding merges; --replace sets.
        let merged = env.json_data(
            &repo,
            &[
                "map-requirements",
                &slug,
                "--wp",
                "WP02",
                "--refs",
                "FR-003",
            ],
        )?;
        assert_eq!(merged["added"], json!(["FR-003"]));
        assert!(merged["commit"].is_string(), "{merged}");
        let replaced = env.json_data(
            &repo,
            &[
                "map-requirements",
                &slug,
                "--wp",
                "WP01",
                "--refs",
                "FR-001,FR-002",
                "--replace",
            ],
        )?;
        assert_eq!(replaced["requirement_refs"], json!(["FR-001", "FR-002"]));
        assert_eq!(replaced["removed"], json!(["C-001"]));
        std::fs::create_dir_all(repo.join("src"))?;
        std::fs::write(repo.join("src/cli.py"), "")?;
        let text = env
            .run_in(&repo, ["tasks", "finalize", &slug, "--validate-only"])
            .success();
        assert!(text.stdout.contains("All validations passed"), "{text}");
        std::fs::remove_file(repo.join("src/cli.py"))?;
        assert_eq!(
            env.git(&repo, &["status", "--porcelain"])?,
            "",
            "{topology}"
        );
    }
    Ok(())
}

#[test]
fn planning_writes_are_refused_on_a_protected_or_unchecked_out_branch() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = specified(&env, "lanes_with_coord")?;
    let protect = [("MISSIONCTL_PROTECTED_BRANCHES", OsStr::new(FEATURE_BRANCH))];
    let before = env.fingerprint(&repo)?;
    let commands: [&[&str]; 2] = [
        &["spec-commit", slug.as_str()],
        &[
            "map-requirements",
            slug.as_str(),
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
        ],
    ];
    for args in commands {
        let error = refused_with(&env, &repo, args, "PROTECTED_BRANCH_REFUSED", &protect)?;
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| message.contains(FEATURE_BRANCH)),
            "{error}"
        );
        assert_eq!(env.fingerprint(&repo)?, before, "{args:?} wrote something");
    }

    // Another branch checked out in the primary checkout: planning commits would land there.
    env.git(&repo, &["switch", "--quiet", "--create", "elsewhere"])?;
    let before = env.fingerprint(&repo)?;
    for args in commands {
        refused(&env, &repo, args, "PLANNING_BRANCH_NOT_CHECKED_OUT")?;
        assert_eq!(env.fingerprint(&repo)?, before, "{args:?} wrote something");
    }
    Ok(())
}

#[test]
fn planning_commands_outside_a_repository_or_mission_are_one_json_error() -> TestResult {
    let env = TestEnv::new()?;
    let commands: [&[&str]; 2] = [
        &["spec-commit", "nope"],
        &[
            "map-requirements",
            "nope",
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
        ],
    ];
    for args in commands {
        refused(&env, env.root(), args, "NOT_A_GIT_REPOSITORY")?;
    }
    let (repo, _) = mission(&env, "lanes")?;
    let before = env.fingerprint(&repo)?;
    for args in commands {
        refused(&env, &repo, args, "MISSION_NOT_FOUND")?;
    }
    assert_eq!(env.fingerprint(&repo)?, before);
    Ok(())
}
