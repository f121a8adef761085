//! `missionctl tasks finalize`, `ready` and `subtask done` through the binary: a real
//! repository, a second run that writes nothing, and bad plans refused byte-identically.

use std::path::Path;

use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, commit_plan_context, mission};

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

#[test]
fn finalize_twice_the_second_run_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;

    let before = env.fingerprint(&repo)?;
    let preview = env.json_data(
        &repo,
        &["tasks", "finalize", "--mission", &slug, "--validate-only"],
    )?;
    assert_eq!(
        env.fingerprint(&repo)?,
        before,
        "--validate-only wrote something"
    );
    assert_eq!(preview["result"], "validation_passed");
    assert_eq!(preview["wp_count"], 3);
    assert_eq!(
        preview["validation"]["bootstrap_preview"],
        serde_json::json!({"total_wps": 3, "newly_seeded": 3, "already_initialized": 0})
    );
    assert_eq!(
        preview["validation"]["lanes_preview"]["lane_ids"],
        serde_json::json!(["lane-a", "lane-b", "lane-c"])
    );
    // Spec Kitty keeps the front-matter dependencies of WP02 and WP03 (no tasks.md parses
    // them), and has nothing to rewrite in WP01.
    assert_eq!(strings(&preview["unchanged"]), ["WP01"]);
    assert_eq!(strings(&preview["would_preserve"]), ["WP02", "WP03"]);
    // The positional handle is the same as `--mission`.
    let positional = env.json_data(&repo, &["tasks", "finalize", &slug, "--validate-only"])?;
    assert_eq!(positional, preview);

    let report = env.json_data(&repo, &["tasks", "finalize", &slug])?;
    assert_eq!(strings(&report["seeded"]), ["WP01", "WP02", "WP03"]);
    assert!(report["planning_commit"].is_string(), "{report}");
    let lanes: Vec<(String, Vec<String>, Vec<String>)> = report["lanes"]["lanes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|lane| {
            (
                lane["lane_id"].as_str().unwrap_or("").to_owned(),
                strings(&lane["wp_ids"]),
                strings(&lane["depends_on_lanes"]),
            )
        })
        .collect();
    let owned = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
    assert_eq!(
        lanes,
        [
            ("lane-a".to_owned(), owned(&["WP01"]), owned(&[])),
            ("lane-b".to_owned(), owned(&["WP02"]), owned(&["lane-a"])),
            (
                "lane-c".to_owned(),
                owned(&["WP03"]),
                owned(&["lane-a", "lane-b"])
            ),
        ]
    );
    let lanes_json = std::fs::read_to_string(repo.join(format!("kitty-specs/{slug}/lanes.json")))?;
    assert!(
        lanes_json.starts_with("{\n  \"version\": 1,\n  \"mission_slug\": "),
        "{lanes_json}"
    );
    assert!(lanes_json.ends_with("}\n"));
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");

    let settled = env.fingerprint(&repo)?;
    let again = env.json_data(&repo, &["tasks", "finalize", &slug])?;
    assert!(
        strings(&again["seeded"]).is_empty() && again["lanes_changed"] == false,
        "{again}"
    );
    assert!(again["planning_commit"].is_null());
    assert_eq!(
        env.fingerprint(&repo)?,
        settled,
        "the second run wrote something"
    );
    let text = env.run_in(&repo, ["tasks", "finalize", &slug]).success();
    assert!(text.stdout.contains("Nothing to do"), "{text}");
    assert_eq!(env.fingerprint(&repo)?, settled);
    let checked = env
        .run_in(&repo, ["tasks", "finalize", "-m", &slug, "--validate-only"])
        .success();
    assert!(
        checked
            .stdout
            .contains("Seeding: 0 work packages would be seeded, 3 already initialized"),
        "{checked}"
    );
    Ok(())
}

/// Writes a work-package file by hand.
fn write(repo: &Path, slug: &str, name: &str, text: &str) -> std::io::Result<()> {
    let dir = repo.join(format!("kitty-specs/{slug}/tasks"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), text)
}

/// A bad plan: its name, the files (name, text), the error code and a part of the message.
type BadPlan = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

#[test]
fn bad_plans_are_refused_as_spec_kitty_refuses_them_and_nothing_is_written() -> TestResult {
    let cases: [BadPlan; 5] = [
        (
            "cycle",
            &[
                (
                    "WP01-a.md",
                    "---\nwork_package_id: WP01\ntitle: A\ndependencies: [WP02]\nrequirement_refs: [FR-001]\n---\n",
                ),
                (
                    "WP02-b.md",
                    "---\nwork_package_id: WP02\ntitle: B\ndependencies: [WP01]\nrequirement_refs: [FR-002, FR-003]\n---\n",
                ),
            ],
            "DEPENDENCY_CYCLE",
            "Circular dependencies detected: [['WP01', 'WP02', 'WP01']]",
        ),
        (
            "missing",
            &[(
                "WP01-a.md",
                "---\nwork_package_id: WP01\ntitle: A\ndependencies:\n- WP05\nrequirement_refs: [FR-001, FR-002, FR-003]\n---\n",
            )],
            "DEPENDENCY_INVALID",
            "Invalid dependencies for WP01: ['Dependency WP05 not found in graph']",
        ),
        (
            "unmapped",
            &[(
                "WP01-a.md",
                "---\nwork_package_id: WP01\ntitle: A\nrequirement_refs: [FR-001, FR-009]\n---\n",
            )],
            "REQUIREMENT_MAPPING_INCOMPLETE",
            "Requirement mapping validation failed",
        ),
        (
            "literal",
            &[(
                "WP01-a.md",
                "---\nwork_package_id: WP01\ntitle: A\nrequirement_refs: [FR-001, FR-002, FR-003]\nexecution_mode: code_change\nowned_files: [src/clli.py]\nauthoritative_surface: src/\n---\n",
            )],
            "OWNED_FILES_NOT_FOUND",
            "Ownership validation failed: literal-path owned_files entries match zero files",
        ),
        (
            "escaping",
            &[(
                "WP01-a.md",
                "---\nwork_package_id: WP01\ntitle: A\nrequirement_refs: [FR-001, FR-002, FR-003]\nexecution_mode: code_change\nowned_files:\n- /outside/**\nauthoritative_surface: /outside/\n---\n",
            )],
            "OWNED_FILE_GLOB_INVALID",
            "Non-relative patterns are unsupported",
        ),
    ];
    let env = TestEnv::new()?;
    for (name, files, code, message) in cases {
        let repo = env.feature_repo(name)?;
        let data = env.json_data(
            &repo,
            &["mission", "create", "bad-plan", "--topology", "lanes"],
        )?;
        let slug = data["mission_slug"].as_str().unwrap_or_default().to_owned();
        commit_plan_context(&env, &repo, &slug)?;
        for (file, text) in files {
            write(&repo, &slug, file, text)?;
        }
        let before = env.fingerprint(&repo)?;
        for extra in [&["--validate-only"][..], &[][..]] {
            let mut args = vec!["tasks", "finalize", "--mission", slug.as_str()];
            args.extend_from_slice(extra);
            args.push("--json");
            let output = env.run_in(&repo, &args).code(1);
            let error = output.json_error()?;
            assert_eq!(error["code"], code, "{name}: {error}");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(message),
                "{name}: {error}"
            );
            assert!(error["hint"].is_string(), "{name}: {error}");
        }
        let human = env.run_in(&repo, ["tasks", "finalize", &slug]).code(1);
        assert!(human.stderr.contains(message), "{name}: {human}");
        assert_eq!(
            env.fingerprint(&repo)?,
            before,
            "{name}: something was written"
        );
    }
    Ok(())
}

/// The literal-path refusal suggests the closest file, and names the data of the refusal
/// in Spec Kitty's fields.
#[test]
fn a_misspelled_owned_file_is_refused_with_a_suggestion() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    commit_plan_context(&env, &repo, &slug)?;
    write(
        &repo,
        &slug,
        "WP01-a.md",
        "---\nwork_package_id: WP01\ntitle: A\nrequirement_refs: [FR-001, FR-002, FR-003]\nexecution_mode: code_change\nowned_files: [src/clli.py]\nauthoritative_surface: src/\n---\n",
    )?;
    let output = env
        .run_in(
            &repo,
            [
                "tasks",
                "finalize",
                "-m",
                &slug,
                "--validate-only",
                "--json",
            ],
        )
        .code(1);
    let document = output.json()?;
    assert_eq!(
        document["data"]["ownership_literal_path_errors"],
        serde_json::json!([
            "WP01: owned_files path 'src/clli.py' is a literal file path that matches zero files in the repository. Did you mean 'src/cli.py'? If this file will be created during implementation, declare it in the WP frontmatter:\n  create_intent:\n    - src/clli.py"
        ])
    );
    Ok(())
}

#[test]
fn ready_subtasks_and_the_gate() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;

    let ready = env.json_data(&repo, &["ready", "--mission", &slug])?;
    let mission = &ready["missions"][0];
    assert_eq!(mission["ready"][0]["wp_id"], "WP01");
    assert_eq!(mission["ready"][0]["lane_id"], "lane-a");
    assert_eq!(mission["ready"].as_array().map(Vec::len), Some(1));
    assert_eq!(mission["waiting"][0]["wp_id"], "WP02");
    assert_eq!(mission["waiting"][0]["waiting_for"][0]["lane"], "planned");
    let all = env.json_data(&repo, &["ready"])?;
    assert_eq!(all["missions"], ready["missions"]);

    let before = env.fingerprint(&repo)?;
    let output = env
        .run_in(
            &repo,
            [
                "move",
                "WP02",
                "--to",
                "claimed",
                "--mission",
                &slug,
                "--actor",
                "claude",
                "--json",
            ],
        )
        .code(1);
    assert_eq!(output.json_error()?["code"], "DEPENDENCIES_NOT_READY");
    assert_eq!(env.fingerprint(&repo)?, before);

    let output = env
        .run_in(&repo, ["subtask", "done", &slug, "WP01", "T009", "--json"])
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "SUBTASK_UNKNOWN");
    assert_eq!(error["hint"], "Use one of: T001, T002");
    let done = env.json_data(
        &repo,
        &[
            "subtask", "done", &slug, "WP01", "T001", "T002", "--actor", "claude",
        ],
    )?;
    assert_eq!(strings(&done["recorded"]), ["T001", "T002"]);
    let log =
        std::fs::read_to_string(repo.join(format!("kitty-specs/{slug}/status.events.jsonl")))?;
    let row = log.lines().last().unwrap_or_default();
    assert!(
        row.starts_with("{\"actor\": \"claude\", \"at\": ")
            && row.contains("\"delta\": {\"subtasks\": {\"T001\": \"done\", \"T002\": \"done\"}}")
            && row.contains("\"kind\": \"annotation\", \"wp_id\": \"WP01\"}"),
        "{row}"
    );
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    Ok(())
}
