//! `missionctl migrate backfill-topology`: the derived topology persisted once, a stored value
//! never overwritten, a missing coordination branch skipped, and a second run that writes
//! nothing.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::git_repo::write_mission;
use crate::common::{TestEnv, TestResult};

/// Writes legacy missions without a stored topology, and two that need nothing.
fn legacy_missions(env: &TestEnv, repo: &Path) -> anyhow::Result<()> {
    // A coordination branch that exists: `coord`.
    write_mission(
        repo,
        "alpha-01M0M9D8",
        &json!({
            "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0",
            "coordination_branch": "kitty/mission-alpha-01M0M9D8",
            "custom_key": {"kept": ["as", "is"]},
        }),
    )?;
    env.git(repo, &["branch", "kitty/mission-alpha-01M0M9D8"])?;
    // A lanes manifest: `lanes`, and without `flattened` (it is set to false).
    let beta = write_mission(
        repo,
        "beta-01M0M9D9",
        &json!({"mission_id": "01M0M9D9R83DDKSZ62QKGV3YW0", "flattened": null}),
    )?;
    std::fs::write(beta.join("lanes.json"), r#"{"version": 1, "lanes": []}"#)?;
    // Nothing: `single_branch`.
    write_mission(repo, "064-gamma", &json!({"mission_number": 64}))?;
    // A declared coordination branch that is gone: skipped, flatten suggested.
    write_mission(
        repo,
        "delta-01M0M9DA",
        &json!({
            "mission_id": "01M0M9DAR83DDKSZ62QKGV3YW0",
            "coordination_branch": "kitty/mission-delta-01M0M9DA",
        }),
    )?;
    // A stored value, even one that disagrees with the signals, is never overwritten.
    write_mission(
        repo,
        "epsilon-01M0M9DB",
        &json!({
            "mission_id": "01M0M9DBR83DDKSZ62QKGV3YW0",
            "topology": "lanes_with_coord",
        }),
    )?;
    // No meta.json at all.
    std::fs::create_dir_all(repo.join("kitty-specs/zeta"))?;
    Ok(())
}

/// Returns every file under `kitty-specs/` with its bytes.
fn kitty_specs_bytes(repo: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for mission in std::fs::read_dir(repo.join("kitty-specs"))? {
        let mission = mission?.path();
        for file in std::fs::read_dir(&mission)? {
            let file = file?.path();
            files.push((file.display().to_string(), std::fs::read(&file)?));
        }
    }
    files.sort();
    Ok(files)
}

fn actions(data: &Value) -> Vec<(String, String, String)> {
    data["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|record| {
            let text = |key: &str| record[key].as_str().unwrap_or("-").to_owned();
            (text("slug"), text("action"), text("topology"))
        })
        .collect()
}

fn triples(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

#[test]
fn backfill_writes_once_and_a_second_run_changes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    legacy_missions(&env, &repo)?;

    let data = env.json_data(&repo, &["migrate", "backfill-topology"])?;
    assert_eq!(data["dry_run"], false);
    assert_eq!(
        (&data["wrote"], &data["skipped"], &data["errors"]),
        (&json!(3), &json!(3), &json!(0))
    );
    assert_eq!(
        actions(&data),
        triples(&[
            ("064-gamma", "wrote", "single_branch"),
            ("alpha-01M0M9D8", "wrote", "coord"),
            ("beta-01M0M9D9", "wrote", "lanes"),
            ("delta-01M0M9DA", "skip", "coord"),
            ("epsilon-01M0M9DB", "skip", "lanes_with_coord"),
            ("zeta", "skip", "-"),
        ])
    );
    let delta = &data["records"][3];
    assert_eq!(delta["reason"], "coordination_branch absent from git");
    assert!(
        delta["warning"].as_str().is_some_and(
            |warning| warning.contains("missionctl mission flatten --mission delta-01M0M9DA")
        ),
        "{delta}"
    );
    assert_eq!(
        data["records"][0]["feature_dir"],
        repo.join("kitty-specs/064-gamma").display().to_string()
    );

    // Written in canonical form, unknown keys kept, `flattened` defaulted.
    let alpha = std::fs::read_to_string(repo.join("kitty-specs/alpha-01M0M9D8/meta.json"))?;
    let parsed: Value = serde_json::from_str(&alpha)?;
    assert_eq!(parsed["topology"], "coord");
    assert_eq!(parsed["custom_key"], json!({"kept": ["as", "is"]}));
    assert!(alpha.ends_with("}\n") && alpha.contains("\n  \"topology\": \"coord\"\n"));
    let beta: Value = serde_json::from_slice(&std::fs::read(
        repo.join("kitty-specs/beta-01M0M9D9/meta.json"),
    )?)?;
    assert_eq!(beta["topology"], "lanes");
    assert_eq!(beta["flattened"], false);
    let epsilon: Value = serde_json::from_slice(&std::fs::read(
        repo.join("kitty-specs/epsilon-01M0M9DB/meta.json"),
    )?)?;
    assert_eq!(epsilon["topology"], "lanes_with_coord");
    // Nothing is committed.
    assert_eq!(env.git(&repo, &["rev-list", "--count", "HEAD"])?, "1\n");

    // The second run: every topology is stored (or still skipped), nothing is written.
    let after_first = kitty_specs_bytes(&repo)?;
    let data = env.json_data(&repo, &["migrate", "backfill-topology"])?;
    assert_eq!(data["wrote"], 0);
    assert_eq!(data["errors"], 0);
    assert_eq!(kitty_specs_bytes(&repo)?, after_first);
    let reasons: Vec<&str> = data["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|record| record["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "topology already present",
            "topology already present",
            "topology already present",
            "coordination_branch absent from git",
            "topology already present",
            "meta.json not found",
        ]
    );
    Ok(())
}

#[test]
fn dry_run_reports_and_writes_nothing() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    legacy_missions(&env, &repo)?;
    let before = env.fingerprint(&repo)?;
    let data = env.json_data(&repo, &["migrate", "backfill-topology", "--dry-run"])?;
    assert_eq!(data["dry_run"], true);
    assert_eq!(data["wrote"], 3);
    assert_eq!(env.fingerprint(&repo)?, before);

    let output = env
        .run_in(&repo, ["migrate", "backfill-topology", "--dry-run"])
        .success();
    insta::assert_snapshot!(output, @r"
    would write 064-gamma single_branch
    would write alpha-01M0M9D8 coord
    would write beta-01M0M9D9 lanes
    skip        delta-01M0M9DA coord (coordination_branch absent from git)
                warning: coordination branch `kitty/mission-delta-01M0M9DA` is gone locally and from every remote; run `missionctl mission flatten --mission delta-01M0M9DA` instead
    skip        epsilon-01M0M9DB lanes_with_coord (topology already present)
    skip        zeta (meta.json not found)
    6 mission(s): 3 to write, 3 skipped, 0 error(s)
    ");
    assert_eq!(env.fingerprint(&repo)?, before);

    // `--mission` limits the run to one directory.
    let data = env.json_data(
        &repo,
        &["migrate", "backfill-topology", "--mission", "064-gamma"],
    )?;
    assert_eq!(
        actions(&data),
        triples(&[("064-gamma", "wrote", "single_branch")])
    );
    Ok(())
}

#[test]
fn a_corrupt_meta_json_is_an_error_with_the_report() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    write_mission(&repo, "064-gamma", &json!({}))?;
    let broken = repo.join("kitty-specs/broken-01M0M9D8");
    std::fs::create_dir_all(&broken)?;
    std::fs::write(broken.join("meta.json"), "{ not json")?;

    let output = env
        .run_in(&repo, ["migrate", "backfill-topology", "--json"])
        .code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], "BACKFILL_FAILED");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message
                .starts_with("Backfill failed for 1 mission(s): broken-01M0M9D8: ")),
        "{error}"
    );
    // The report of what was done comes with the error.
    let data = &output.json()?["data"];
    assert_eq!(
        actions(data),
        triples(&[
            ("064-gamma", "wrote", "single_branch"),
            ("broken-01M0M9D8", "error", "-"),
        ])
    );
    assert_eq!(output.stderr, "");

    // Without --json: the report on stdout, the error on stderr; the written mission is now
    // skipped.
    let output = env.run_in(&repo, ["migrate", "backfill-topology"]).code(1);
    insta::assert_snapshot!(output, @r"
    skip        064-gamma single_branch (topology already present)
    error       broken-01M0M9D8 (`$TEST_ENV/repo/kitty-specs/broken-01M0M9D8/meta.json`: Malformed JSON: key must be a string at line 1 column 3)
    2 mission(s): 0 written, 1 skipped, 1 error(s)
    ------- stderr -------
    error: Backfill failed for 1 mission(s): broken-01M0M9D8: `$TEST_ENV/repo/kitty-specs/broken-01M0M9D8/meta.json`: Malformed JSON: key must be a string at line 1 column 3
    hint: Fix or remove the meta.json files named above, then run `missionctl migrate backfill-topology` again; the missions already written are skipped
    [exit status: 1]
    ");
    Ok(())
}

#[test]
fn many_missions_print_no_progress_when_stderr_is_not_a_terminal() -> TestResult {
    let env = TestEnv::new()?;
    let repo = env.feature_repo("repo")?;
    for number in 0..60 {
        write_mission(&repo, &format!("{number:03}-legacy"), &json!({}))?;
    }
    for args in [
        &["migrate", "backfill-topology", "--dry-run", "--json"][..],
        &["migrate", "backfill-topology"][..],
    ] {
        let output = env.run_in(&repo, args).success();
        assert_eq!(output.stderr, "", "{args:?}");
    }
    let data = env.json_data(&repo, &["migrate", "backfill-topology"])?;
    assert_eq!(data["wrote"], 0);
    assert_eq!(data["skipped"], 60);
    Ok(())
}
