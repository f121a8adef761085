//! One command-line shape (issue 11): `--mission`/`-m` everywhere with the older positional
//! form kept as an alias, `-C <DIR>` as with git, `completions <SHELL>`, and the same JSON keys
//! for the same things in every missionctl-shaped output.

use std::path::Path;

use serde_json::Value;

use crate::common::{TestEnv, TestResult};
use crate::test_wp::{add_three, mission};

#[test]
fn the_mission_flag_and_the_older_positional_form_give_the_same_answer() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    env.json_data(
        &repo,
        &[
            "wp",
            "add",
            "-m",
            &slug,
            "WP01",
            "--title",
            "Storage layer",
            "--owned-file",
            "src/store/**",
            "--requirement",
            "FR-001",
        ],
    )?;
    env.json_data(
        &repo,
        &[
            "wp",
            "add",
            "--mission",
            &slug,
            "WP02",
            "--title",
            "Add and list",
            "--subtask",
            "T001",
            "--owned-file",
            "src/cli/**",
            "--requirement",
            "FR-001",
        ],
    )?;
    for command in [
        &["wp", "list"][..],
        &["mission", "show"],
        &["tasks", "finalize", "--validate-only"],
    ] {
        let with = |mission: &[&str]| {
            let mut args = command.to_vec();
            args.extend_from_slice(mission);
            // The one field that differs from run to run: when the lanes were computed.
            env.json_data(&repo, &args).map(|mut data| {
                if let Some(lanes) = data.get_mut("lanes") {
                    lanes["computed_at"] = Value::Null;
                }
                data
            })
        };
        let long = with(&["--mission", &slug])?;
        assert_eq!(long, with(&["-m", &slug])?, "{command:?}");
        assert_eq!(long, with(&[&slug])?, "{command:?}");
    }
    env.json_data(&repo, &["tasks", "finalize", "-m", &slug])?;
    let done = env.json_data(&repo, &["subtask", "done", "-m", &slug, "WP02", "T001"])?;
    assert_eq!(done["recorded"], serde_json::json!(["T001"]));
    let again = env.json_data(&repo, &["subtask", "done", &slug, "WP02", "T001"])?;
    assert_eq!(again["recorded"], serde_json::json!([]));
    Ok(())
}

#[test]
fn a_mission_given_twice_or_not_at_all_is_a_usage_error_with_one_json_document() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    let before = env.fingerprint(&repo)?;
    for args in [
        &["wp", "list", "--json"][..],
        &["wp", "list", &slug, "-m", &slug, "--json"],
        &[
            "wp", "add", &slug, "WP01", "-m", &slug, "--title", "T", "--json",
        ],
        &["subtask", "done", "-m", &slug, "WP01", "--json"],
        &["spec-commit", "--json"],
        &["run", "show", "--json"],
        &["move", "WP01", "--to", "claimed", "--json"],
    ] {
        let output = env.run_in(&repo, args).code(2);
        let error = output.json_error()?;
        assert_eq!(error["code"], "USAGE_ERROR", "{args:?}: {error}");
        assert_eq!(output.stderr, "", "{args:?}");
    }
    assert_eq!(env.fingerprint(&repo)?, before);
    Ok(())
}

#[test]
fn dash_c_runs_in_another_directory_as_git_does() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    let name = repo
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| anyhow::anyhow!("no name"))?
        .to_owned();
    let inside = env.json_data(&repo, &["wp", "list", "-m", &slug])?;
    // From outside the repository, before or after the subcommand, and composed: each `-C`
    // is relative to the previous one.
    let parent = repo.parent().unwrap_or(Path::new("/"));
    let runs = [
        vec!["-C", name.as_str(), "wp", "list", "-m", &slug],
        vec!["wp", "list", "-m", &slug, "-C", name.as_str()],
        vec![
            "-C",
            ".",
            "-C",
            name.as_str(),
            "-C",
            "kitty-specs",
            "wp",
            "list",
            "-m",
            &slug,
        ],
    ];
    for args in runs {
        assert_eq!(env.json_data(parent, &args)?, inside, "{args:?}");
    }
    // A relative path argument is relative to the `-C` directory.
    let reduce_path = format!("kitty-specs/{slug}");
    let reduced = env.json_data(parent, &["-C", &name, "status", "reduce", &reduce_path])?;
    assert_eq!(reduced["mission_dir"], reduce_path);

    let output = env
        .run_in(parent, ["-C", "no-such-dir", "board", "--json"])
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "DIRECTORY_NOT_FOUND");
    let text = env.run_in(parent, ["-C", "no-such-dir", "board"]).code(1);
    insta::assert_snapshot!(text, @r"
    ------- stderr -------
    error: Cannot change to `no-such-dir`: No such file or directory (os error 2)
    hint: `-C <DIR>` names a directory that exists, relative to the current one (or to the previous `-C`)
    [exit status: 1]
    ");
    Ok(())
}

#[test]
fn completions_are_written_for_every_shell() -> TestResult {
    let env = TestEnv::new()?;
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = env.run(["completions", shell]).success();
        assert!(output.stdout.contains("missionctl"), "{shell}");
        assert!(output.stdout.contains("mission"), "{shell}");
        let data = env.run(["completions", shell, "--json"]).success().json()?;
        assert_eq!(data["data"]["shell"], shell);
        assert_eq!(data["data"]["script"], output.stdout.as_str());
    }
    let error = env
        .run(["completions", "tcsh", "--json"])
        .code(2)
        .json_error()?;
    assert_eq!(error["code"], "USAGE_ERROR");
    Ok(())
}

/// Keys that name a thing another key already names in missionctl's own outputs: the mission
/// is `mission_slug`, a work package `wp_id`, a status lane `lane`, the checkout
/// `primary_root`.
const NOT_OUR_KEYS: &[&str] = &[
    "slug",
    "feature_slug",
    "feature_dir",
    "handle",
    "wp",
    "work_package_id",
    "status",
    "repository",
];

/// Returns the paths of the keys of `value` that [`NOT_OUR_KEYS`] lists.
fn foreign_keys(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                let here = format!("{path}.{key}");
                if NOT_OUR_KEYS.contains(&key.as_str()) {
                    out.push(here.clone());
                }
                foreign_keys(inner, &here, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                foreign_keys(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn missionctl_shaped_outputs_use_the_same_keys_for_the_same_things() -> TestResult {
    let env = TestEnv::new()?;
    let (repo, slug) = mission(&env, "lanes")?;
    add_three(&env, &repo, &slug)?;
    env.json_data(&repo, &["tasks", "finalize", "-m", &slug])?;
    // Spec Kitty-shaped outputs (`board`, `next`, `status validate`, `tasks finalize`,
    // `status reduce`, `migrate backfill-topology`, a run's files) keep Spec Kitty's keys and
    // are not checked here.
    let commands: Vec<Vec<&str>> = vec![
        vec!["init"],
        vec!["mission", "list"],
        vec!["mission", "show", "-m", &slug],
        vec!["context", "-m", &slug],
        vec!["wp", "list", "-m", &slug],
        vec!["ready"],
        vec!["ready", "-m", &slug],
        vec!["doctor", "-m", &slug],
        vec!["run", "list"],
        vec!["subtask", "done", "-m", &slug, "WP01", "T001", "T002"],
        vec!["implement", "WP01", "-m", &slug, "--actor", "claude"],
        vec![
            "move", "WP01", "--to", "blocked", "-m", &slug, "--actor", "claude",
        ],
        vec!["history", "-m", &slug],
        vec!["worktree", "repair", "-m", &slug],
        vec!["status", "materialize", "-m", &slug],
        vec!["run", "start", "-m", &slug],
        vec!["wp", "add", "-m", &slug, "WP04", "--title", "Docs"],
        vec!["spec-commit", "-m", &slug],
    ];
    let mut found = Vec::new();
    for args in &commands {
        let data = env.json_data(&repo, args)?;
        foreign_keys(&data, &args.join(" "), &mut found);
    }
    assert!(found.is_empty(), "{found:#?}");
    Ok(())
}
