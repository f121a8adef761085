//! `missionctl status reduce`: Spec Kitty's `status.json` bytes, and every read error as a
//! clear error with a code.

use std::path::{Path, PathBuf};

use crate::common::{TestEnv, TestResult, fixtures_dir};

/// Returns the vendored missions that have an expected snapshot, by name.
fn fixture_missions() -> anyhow::Result<Vec<PathBuf>> {
    let mut missions = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir())? {
        let path = entry?.path();
        if path.join("expected.status.json").is_file() {
            missions.push(path);
        }
    }
    missions.sort();
    anyhow::ensure!(missions.len() >= 40, "only {} fixtures", missions.len());
    Ok(missions)
}

/// Copies a fixture's `meta.json` and log into a new mission directory under the env.
fn copy_mission(env: &TestEnv, fixture: &str, name: &str) -> anyhow::Result<PathBuf> {
    let source = fixtures_dir().join(fixture);
    let target = env.root().join(name);
    std::fs::create_dir(&target)?;
    for file in ["meta.json", "status.events.jsonl"] {
        std::fs::copy(source.join(file), target.join(file))?;
    }
    Ok(target)
}

#[test]
fn prints_the_expected_bytes_for_every_fixture() -> TestResult {
    let env = TestEnv::new()?;
    for mission in fixture_missions()? {
        let expected = std::fs::read_to_string(mission.join("expected.status.json"))?;
        let output = env
            .run([Path::new("status"), Path::new("reduce"), &mission])
            .success();
        assert_eq!(output.stdout, expected, "{}", mission.display());
        assert_eq!(output.stderr, "", "{}", mission.display());
    }
    Ok(())
}

#[test]
fn json_carries_the_exact_bytes_and_the_object() -> TestResult {
    let env = TestEnv::new()?;
    for mission in fixture_missions()? {
        let expected = std::fs::read_to_string(mission.join("expected.status.json"))?;
        let output = env
            .run([
                Path::new("--json"),
                Path::new("status"),
                Path::new("reduce"),
                &mission,
            ])
            .success();
        let document = output.json()?;
        assert_eq!(document["ok"], true);
        let data = &document["data"];
        assert_eq!(data["status_json"].as_str(), Some(expected.as_str()));
        assert_eq!(data["mission_dir"].as_str(), mission.to_str());
        let parsed: serde_json::Value = serde_json::from_str(&expected)?;
        assert_eq!(data["snapshot"], parsed, "{}", mission.display());
        assert_eq!(output.stderr, "");
    }
    Ok(())
}

#[test]
fn json_flag_works_after_the_subcommand_and_paths_stay_as_given() -> TestResult {
    let env = TestEnv::new()?;
    copy_mission(&env, "017-smarter-feature-merge-with-preflight", "mission")?;
    let output = env.run(["status", "reduce", "mission", "--json"]).success();
    let document = output.json()?;
    assert_eq!(document["data"]["mission_dir"], "mission");
    assert_eq!(document["data"]["snapshot"]["mission_number"], "17");
    Ok(())
}

/// Checks both renderings of a failing `status reduce`; returns the JSON error.
fn assert_read_error(
    env: &TestEnv,
    mission_dir: &Path,
    code: &str,
) -> anyhow::Result<serde_json::Value> {
    let human = env
        .run([Path::new("status"), Path::new("reduce"), mission_dir])
        .code(1);
    assert_eq!(human.stdout, "", "{human}");
    assert!(human.stderr.starts_with("error: "), "{human}");
    assert!(human.stderr.contains("\nhint: "), "{human}");
    assert!(human.stderr.ends_with('\n'), "{human}");

    let json = env
        .run([
            Path::new("status"),
            Path::new("reduce"),
            mission_dir,
            Path::new("--json"),
        ])
        .code(1);
    assert_eq!(json.stderr, "", "{json}");
    let error = json.json_error()?;
    assert_eq!(error["code"], code, "{json}");
    assert!(error["hint"].is_string(), "{json}");
    Ok(error)
}

#[test]
fn a_corrupt_line_is_reported_with_its_line_number() -> TestResult {
    let env = TestEnv::new()?;
    let mission = copy_mission(&env, "017-smarter-feature-merge-with-preflight", "corrupt")?;
    let log = std::fs::read_to_string(mission.join("status.events.jsonl"))?;
    let mut lines: Vec<&str> = log.lines().collect();
    lines[2] = "{\"event_id\": \"truncated";
    std::fs::write(mission.join("status.events.jsonl"), lines.join("\n") + "\n")?;

    let error = assert_read_error(&env, &mission, "EVENT_LOG_INVALID")?;
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("status.events.jsonl:3:"), "{message}");
    assert!(
        error["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("line 3")
    );
    Ok(())
}

#[test]
fn a_missing_log_is_an_error() -> TestResult {
    let env = TestEnv::new()?;
    let mission = copy_mission(&env, "017-smarter-feature-merge-with-preflight", "no-log")?;
    std::fs::remove_file(mission.join("status.events.jsonl"))?;
    let error = assert_read_error(&env, &mission, "CANONICAL_STATUS_NOT_FOUND")?;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("No event log at")
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_symlinked_log_is_refused() -> TestResult {
    let env = TestEnv::new()?;
    let mission = copy_mission(&env, "017-smarter-feature-merge-with-preflight", "linked")?;
    let log = mission.join("status.events.jsonl");
    let real = env.root().join("real.events.jsonl");
    std::fs::rename(&log, &real)?;
    std::os::unix::fs::symlink(&real, &log)?;
    assert_read_error(&env, &mission, "EVENT_LOG_SYMLINK")?;
    Ok(())
}

#[test]
fn a_path_that_is_not_a_directory_is_refused() -> TestResult {
    let env = TestEnv::new()?;
    let file = env.root().join("file.txt");
    std::fs::write(&file, "not a mission")?;
    assert_read_error(&env, &file, "MISSION_DIR_NOT_FOUND")?;
    assert_read_error(
        &env,
        &env.root().join("does-not-exist"),
        "MISSION_DIR_NOT_FOUND",
    )?;
    Ok(())
}

#[test]
fn a_bad_meta_json_is_refused() -> TestResult {
    let env = TestEnv::new()?;
    for (name, meta) in [
        ("not-json", "{\"mission_type\": "),
        ("not-an-object", "[1, 2]"),
        ("bad-number", "{\"mission_number\": \"TBD\"}"),
    ] {
        let mission = copy_mission(&env, "017-smarter-feature-merge-with-preflight", name)?;
        std::fs::write(mission.join("meta.json"), meta)?;
        let error = assert_read_error(&env, &mission, "META_JSON_INVALID")?;
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Invalid meta.json"),
            "{error}"
        );
    }
    Ok(())
}

#[test]
fn nothing_is_written() -> TestResult {
    let env = TestEnv::new()?;
    let mission = copy_mission(&env, "mission-type-guard-registry-01KZY2FG", "untouched")?;
    env.run([Path::new("status"), Path::new("reduce"), &mission])
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&mission)?
        .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    assert_eq!(names, ["meta.json", "status.events.jsonl"]);
    Ok(())
}
