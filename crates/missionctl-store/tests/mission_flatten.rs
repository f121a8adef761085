//! `mission flatten`: as Spec Kitty's flatten, `coordination_branch` and `topology` removed
//! from `meta.json` and `flattened: true` recorded (the coordination-less topology is then
//! derived); a repeat is a no-op.

use missionctl_core::mission::meta::MissionMeta;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::mission::flatten::flatten_mission;

use crate::common::{TestRepo, TestResult};

#[test]
fn flattens_each_coordination_topology_once() -> TestResult {
    for (n, (topology, lanes, expected)) in [
        (MissionTopology::Coord, false, MissionTopology::SingleBranch),
        (
            MissionTopology::LanesWithCoord,
            true,
            MissionTopology::Lanes,
        ),
        (
            MissionTopology::LanesWithCoord,
            false,
            MissionTopology::SingleBranch,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let repo = TestRepo::new()?;
        let created = repo.create("invoice-export", Some(topology), n)?;
        if lanes {
            repo.write(
                &format!("kitty-specs/{}/lanes.json", created.mission_slug),
                r#"{"version": 1, "lanes": []}"#,
            )?;
        }
        let found = repo.repo()?;
        let flattened = flatten_mission(&found, &created.mid8)?;
        assert!(flattened.changed);
        assert_eq!(flattened.topology, expected);
        assert_eq!(
            flattened.removed_coordination_branch,
            created.coordination_branch
        );
        assert_eq!(
            flattened.previous_topology.as_deref(),
            Some(topology.as_str())
        );
        assert_eq!(flattened.meta_path, created.mission_dir.join("meta.json"));
        assert_eq!(flattened.leftover_worktree, None);

        let bytes = std::fs::read(&flattened.meta_path)?;
        let meta = MissionMeta::parse(&bytes)?;
        assert_eq!(meta.to_canonical_bytes(), bytes);
        assert_eq!(
            meta.stored_topology(),
            None,
            "Spec Kitty's flatten drops it"
        );
        assert!(meta.flattened());
        assert_eq!(meta.get("coordination_branch"), None);
        // Everything else is as created.
        assert_eq!(
            meta.mission_id()?.map(|id| id.to_string()),
            Some(created.mission_id.clone())
        );
        assert_eq!(meta.target_branch()?, Some("feature/x"));

        // Not committed: the file is modified in the working tree only.
        assert_eq!(
            repo.git(&["status", "--porcelain"])?,
            format!(" M kitty-specs/{}/meta.json\n", created.mission_slug)
                + if lanes {
                    "?? kitty-specs/".to_owned() + &created.mission_slug + "/lanes.json\n"
                } else {
                    String::new()
                }
                .as_str()
        );

        // A second flatten changes nothing.
        let again = flatten_mission(&found, &created.mission_slug)?;
        assert!(!again.changed);
        assert_eq!(again.topology, expected);
        assert_eq!(std::fs::read(&flattened.meta_path)?, bytes);
    }
    Ok(())
}

#[test]
fn a_never_coordinated_mission_is_left_alone() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("flat", Some(MissionTopology::Lanes), 1)?;
    let meta_path = created.mission_dir.join("meta.json");
    let before = std::fs::read(&meta_path)?;
    let outcome = flatten_mission(&repo.repo()?, "flat")?;
    assert!(!outcome.changed);
    assert_eq!(outcome.topology, MissionTopology::Lanes);
    assert_eq!(outcome.removed_coordination_branch, None);
    assert_eq!(std::fs::read(&meta_path)?, before);
    Ok(())
}

#[test]
fn reports_a_leftover_coordination_worktree() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("invoice-export", Some(MissionTopology::Coord), 1)?;
    let worktree = format!(".worktrees/{}-coord", created.mission_slug);
    let branch = created.coordination_branch.clone().unwrap_or_default();
    repo.git(&["worktree", "add", "-q", &worktree, &branch])?;
    let outcome = flatten_mission(&repo.repo()?, "invoice-export")?;
    assert_eq!(outcome.leftover_worktree, Some(repo.path(&worktree)));
    // The branch and the worktree are left for the caller to remove.
    assert_eq!(repo.git(&["rev-parse", &branch])?.trim(), created.commit);
    Ok(())
}

/// `mission flatten` writes the bytes Spec Kitty 3.2.7's own flatten primitive
/// (`flatten_coordination_metadata`) writes, for every coordination mission of its repository
/// in the data set (`tests/fixtures/flatten/<mission>/expected.meta.json`, produced by that
/// function from `meta.json`).
/// See: issue 11 ("the suggested `mission flatten` writes `meta.json` bytes Spec Kitty's own
/// flatten does not")
#[test]
fn writes_the_bytes_spec_kitty_flatten_writes() -> TestResult {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/flatten");
    let mut checked = 0;
    for entry in std::fs::read_dir(&fixtures)? {
        let dir = entry?.path();
        let name = dir
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or("a UTF-8 name")?
            .to_owned();
        let repo = TestRepo::new()?;
        repo.write(
            &format!("kitty-specs/{name}/meta.json"),
            &std::fs::read_to_string(dir.join("meta.json"))?,
        )?;
        let flattened = flatten_mission(&repo.repo()?, &name)?;
        assert!(flattened.changed, "{name}");
        assert_eq!(
            std::fs::read_to_string(&flattened.meta_path)?,
            std::fs::read_to_string(dir.join("expected.meta.json"))?,
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 7);
    Ok(())
}
