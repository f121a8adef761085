//! Work packages no task file defines: every writer refuses them (`WP_NOT_FOUND`, Spec Kitty's
//! message) unless the move is forced; `status validate` and `doctor` report the ones a log
//! already has. Before, `move WP77 --to planned` committed a phantom work package forever.
//! See: issue 10, item 6.

use missionctl_core::mission::topology::MissionTopology;
use serde_json::Value;

use crate::common::TestResult;
use crate::status_env::{StatusRepo, data};
use crate::test_wp::{SPEC, add_three, mission};

/// Runs `args` with `--json`, checks it fails with `code` and `message`, and returns the error.
fn refused(repo: &StatusRepo, args: &[&str], code: &str, message: &str) -> anyhow::Result<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = repo.run(&all);
    anyhow::ensure!(output.status == Some(1), "{args:?}:\n{output}");
    let error = output.json_error()?;
    anyhow::ensure!(error["code"] == code, "{args:?}: {error}");
    anyhow::ensure!(error["message"] == message, "{args:?}: {error}");
    Ok(error)
}

#[test]
fn a_move_of_a_work_package_no_file_defines_is_refused_unless_forced() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = StatusRepo::new(topology)?;
        let slug = repo.slug.clone();
        let before = repo.state()?;
        let error = refused(
            &repo,
            &[
                "move",
                "WP77",
                "--to",
                "planned",
                "--mission",
                &slug,
                "--actor",
                "a",
            ],
            "WP_NOT_FOUND",
            &format!("Work package 'WP77' not found under kitty-specs/{slug}/tasks"),
        )?;
        assert!(
            error["hint"].as_str().is_some_and(
                |hint| hint.contains(&format!("missionctl wp add --mission {slug} WP77"))
            ),
            "{error}"
        );
        crate::status_env::assert_same_state(&before, &repo.state()?, "a refused move");

        // Spec Kitty's rule: the id exactly as written, then `-`, `_` or `.`.
        let tasks = repo.primary_mission_dir().join("tasks");
        std::fs::write(tasks.join("WP77b-other.md"), "---\ntitle: x\n---\n")?;
        std::fs::write(tasks.join("wp77-lower.md"), "---\ntitle: x\n---\n")?;
        refused(
            &repo,
            &[
                "move",
                "WP77",
                "--to",
                "planned",
                "--mission",
                &slug,
                "--actor",
                "a",
            ],
            "WP_NOT_FOUND",
            &format!("Work package 'WP77' not found under kitty-specs/{slug}/tasks"),
        )?;
        std::fs::remove_file(tasks.join("WP77b-other.md"))?;
        std::fs::remove_file(tasks.join("wp77-lower.md"))?;

        // Forced, with an actor and a reason, it is recorded: and then reported.
        repo.move_wp(
            "WP77",
            "planned",
            &["--force", "--actor", "a", "--reason", "recorded by hand"],
        )
        .success();
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        let validated = data(
            &repo
                .run(["--json", "status", "validate", "--mission", &slug])
                .success(),
        )?;
        let phantom = format!(
            "WP77 is in the event log, but no file under kitty-specs/{slug}/tasks defines it"
        );
        assert_eq!(validated["errors"], serde_json::json!([]));
        assert_eq!(
            validated["warnings"],
            serde_json::json!([]),
            "Spec Kitty's, none"
        );
        assert_eq!(
            validated["findings"],
            serde_json::json!([{
                "code": "PHANTOM_WORK_PACKAGE",
                "severity": "warning",
                "message": phantom,
                "event_id": null,
                "wp_id": "WP77",
            }])
        );
        let text = repo
            .run(["status", "validate", "--mission", &slug])
            .success();
        assert!(
            text.stdout
                .contains(&format!("warning PHANTOM_WORK_PACKAGE: {phantom}")),
            "{text}"
        );
        let doctor = data(&repo.run(["--json", "doctor"]).success())?;
        let codes: Vec<&str> = doctor["findings"]
            .as_array()
            .map(|findings| {
                findings
                    .iter()
                    .filter_map(|finding| finding["code"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(codes, ["PHANTOM_WORK_PACKAGE"], "{doctor}");
    }
    Ok(())
}

#[test]
fn subtask_done_refuses_a_work_package_no_file_defines() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::Lanes)?;
    let slug = repo.slug.clone();
    refused(
        &repo,
        &["subtask", "done", &slug, "WP77", "T001"],
        "WP_NOT_FOUND",
        &format!("Work package 'WP77' not found under kitty-specs/{slug}/tasks"),
    )?;
    Ok(())
}

#[test]
fn a_mission_without_tasks_says_so() -> TestResult {
    let repo = StatusRepo::unplanned(MissionTopology::SingleBranch)?;
    let slug = repo.slug.clone();
    let tasks = repo.primary_mission_dir().join("tasks");
    if tasks.exists() {
        std::fs::remove_dir_all(&tasks)?;
    }
    refused(
        &repo,
        &[
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            &slug,
            "--actor",
            "a",
        ],
        "WP_NOT_FOUND",
        &format!(
            "Feature '{slug}' has no tasks directory at {}",
            tasks.display()
        ),
    )?;
    Ok(())
}

#[test]
fn implement_and_map_requirements_refuse_it_with_the_same_message() -> TestResult {
    let env = crate::common::TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    std::fs::write(
        repo.join(format!("kitty-specs/{slug}/spec.md")),
        format!("{SPEC}\nEdited after planning.\n"),
    )?;
    env.json_data(&repo, &["tasks", "finalize", &slug])?;
    let before = env.fingerprint(&repo)?;
    let message = format!("Work package 'WP77' not found under kitty-specs/{slug}/tasks");
    for args in [
        vec!["implement", "WP77", "--mission", &slug, "--actor", "a"],
        vec![
            "map-requirements",
            &slug,
            "--wp",
            "WP77",
            "--refs",
            "FR-001",
        ],
    ] {
        let mut all = args.clone();
        all.push("--json");
        let output = env.run_in(&repo, &all).code(1);
        let error = output.json_error()?;
        assert_eq!(error["code"], "WP_NOT_FOUND", "{args:?}");
        assert_eq!(error["message"], message, "{args:?}");
    }
    assert_eq!(env.fingerprint(&repo)?, before);
    Ok(())
}
