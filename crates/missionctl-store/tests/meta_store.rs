//! `meta.json` on disk: the read policies, errors that name the file and the field, canonical
//! atomic writes that keep unknown keys.

use missionctl_core::mission::meta::MetaReadPolicy;
use missionctl_store::mission::meta_store::{MetaValidation, PrimaryMissionDir};
use missionctl_store::write::{Scope, WriteTransaction};

use crate::common::{TestRepo, TestResult};

const META: &str = r#"{"zz_future": {"kept": [1.5, "é"]}, "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0",
 "slug": "a-01M0M9D8", "mission_slug": "a-01M0M9D8", "friendly_name": "A", "mission_type": "software-dev",
 "target_branch": "feature/x", "created_at": "2026-08-22T08:29:15.913164+00:00"}"#;

#[test]
fn is_anchored_on_the_primary_checkout_and_rejects_paths() -> TestResult {
    let repo = TestRepo::new()?;
    let found = repo.repo()?;
    let dir = PrimaryMissionDir::new(&found, "a-01M0M9D8")?;
    assert_eq!(dir.path(), repo.path("kitty-specs/a-01M0M9D8"));
    assert_eq!(
        dir.meta_path(),
        repo.path("kitty-specs/a-01M0M9D8/meta.json")
    );
    for bad in ["..", "../x", "a/b", "a\0b", ".hidden", ""] {
        let error = PrimaryMissionDir::new(&found, bad).expect_err(bad);
        assert_eq!(error.code(), "UNSAFE_PATH_SEGMENT", "{bad:?}");
    }
    // Discovered from a linked worktree, the directory is still the primary checkout's.
    repo.git(&[
        "worktree",
        "add",
        "-q",
        ".worktrees/a-01M0M9D8-coord",
        "-b",
        "coord",
    ])?;
    let linked = missionctl_store::repo::Repo::discover(&repo.path(".worktrees/a-01M0M9D8-coord"))?;
    assert_eq!(
        PrimaryMissionDir::new(&linked, "a-01M0M9D8")?.path(),
        repo.path("kitty-specs/a-01M0M9D8")
    );
    Ok(())
}

#[test]
fn reads_with_each_policy_and_names_the_file() -> TestResult {
    let repo = TestRepo::new()?;
    let found = repo.repo()?;
    let dir = PrimaryMissionDir::new(&found, "a-01M0M9D8")?;

    assert_eq!(dir.read_meta(MetaReadPolicy::Optional)?, None);
    let error = dir.read_meta(MetaReadPolicy::Strict).expect_err("missing");
    assert_eq!(error.code(), "MISSION_META_NOT_FOUND");
    let error = dir.read_meta_required().expect_err("missing");
    assert_eq!(
        error.to_string(),
        format!(
            "`{}`: No meta.json in the mission directory",
            dir.meta_path().display()
        )
    );
    assert!(
        dir.read_meta(MetaReadPolicy::Silent)?
            .is_some_and(|meta| meta.is_empty())
    );

    repo.write("kitty-specs/a-01M0M9D8/meta.json", "[1, 2]")?;
    let error = dir.read_meta(MetaReadPolicy::Optional).expect_err("list");
    assert_eq!(error.code(), "MISSION_META_MALFORMED");
    assert!(
        error
            .to_string()
            .contains("meta.json`: Expected JSON object, got list"),
        "{error}"
    );
    assert!(
        dir.read_meta(MetaReadPolicy::Silent)?
            .is_some_and(|meta| meta.is_empty())
    );

    // A field of the wrong type is named when it is read.
    repo.write(
        "kitty-specs/a-01M0M9D8/meta.json",
        r#"{"target_branch": 7}"#,
    )?;
    let meta = dir.read_meta_required()?;
    let error = meta.target_branch().expect_err("int");
    assert_eq!(
        error.to_string(),
        "meta.json field `target_branch` must be a string, got int"
    );
    Ok(())
}

#[test]
fn writes_canonical_bytes_atomically_and_keeps_unknown_keys() -> TestResult {
    let repo = TestRepo::new()?;
    repo.write("kitty-specs/a-01M0M9D8/meta.json", META)?;
    let found = repo.repo()?;
    let dir = PrimaryMissionDir::new(&found, "a-01M0M9D8")?;
    let mut meta = dir.read_meta_required()?;
    meta.set_topology(missionctl_core::mission::topology::MissionTopology::Lanes);
    let mut transaction =
        WriteTransaction::begin(&found, Scope::Mission("a-01M0M9D8".to_owned()), "test")?;
    assert!(dir.write_meta(&mut transaction, &meta, MetaValidation::Validate)?);
    let written = std::fs::read_to_string(dir.meta_path())?;
    assert_eq!(written.as_bytes(), meta.to_canonical_bytes());
    assert!(written.starts_with("{\n  \"created_at\""), "{written}");
    assert!(
        written.contains("\"zz_future\": {\n    \"kept\": [\n      1.5,\n      \"é\"\n    ]\n  }"),
        "{written}"
    );
    assert!(written.ends_with("}\n"));
    // Writing the same bytes again is a no-op.
    assert!(!dir.write_meta(&mut transaction, &meta, MetaValidation::Validate)?);
    // No temporary file is left in the mission directory.
    let names: Vec<_> = std::fs::read_dir(dir.path())?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<Result<_, _>>()?;
    assert_eq!(names, ["meta.json"]);

    // Validation names every missing field and leaves the file as it was.
    meta.remove("friendly_name");
    meta.set("mission_type", "");
    let error = dir
        .write_meta(&mut transaction, &meta, MetaValidation::Validate)
        .expect_err("invalid");
    assert_eq!(error.code(), "MISSION_META_INVALID");
    assert!(
        error.to_string().ends_with(
            "Invalid meta.json for a-01M0M9D8: Missing or empty required field: friendly_name; \
             Missing or empty required field: mission_type"
        ),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(dir.meta_path())?, written);
    // With validation off (backfill, flatten) the same value is written.
    assert!(dir.write_meta(&mut transaction, &meta, MetaValidation::Skip)?);
    transaction.finish()?;
    Ok(())
}

#[test]
fn lanes_json_state_is_read_from_the_primary_dir() -> TestResult {
    use missionctl_core::mission::topology::LanesJsonState;
    let repo = TestRepo::new()?;
    let found = repo.repo()?;
    let dir = PrimaryMissionDir::new(&found, "a-01M0M9D8")?;
    assert_eq!(dir.lanes_json_state()?, LanesJsonState::Absent);
    repo.write(
        "kitty-specs/a-01M0M9D8/lanes.json",
        r#"{"version": 1, "lanes": []}"#,
    )?;
    assert_eq!(dir.lanes_json_state()?, LanesJsonState::Present);
    for corrupt in ["{", "[]", r#"{"version": 1}"#, r#"{"lanes": {}}"#] {
        repo.write("kitty-specs/a-01M0M9D8/lanes.json", corrupt)?;
        assert_eq!(
            dir.lanes_json_state()?,
            LanesJsonState::Corrupt,
            "{corrupt}"
        );
    }
    Ok(())
}
