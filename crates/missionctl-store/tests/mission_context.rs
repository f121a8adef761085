//! The coordination probe and the resolved execution context on real repositories, and the
//! differential gate (b): a flattened mission with a stale coordination husk on disk, resolved
//! through every handle form, reads the primary checkout.

use missionctl_core::mission::context::{CoordinationProbe, ReadSurface};
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::mission::context::{ResolveError, resolve_mission_context};
use missionctl_store::mission::flatten::flatten_mission;
use missionctl_store::repo::Repo;

use crate::common::{TestRepo, TestResult, git_in, mission_id};

/// Materializes the coordination worktree of a created mission the way Spec Kitty does.
fn materialize(repo: &TestRepo, dir: &str, branch: &str) -> TestResult {
    repo.git(&[
        "worktree",
        "add",
        "-q",
        &format!(".worktrees/{dir}-coord"),
        branch,
    ])?;
    Ok(())
}

#[test]
fn coordination_less_missions_read_the_primary_checkout_unprobed() -> TestResult {
    let repo = TestRepo::new()?;
    for (n, topology) in [MissionTopology::SingleBranch, MissionTopology::Lanes]
        .into_iter()
        .enumerate()
    {
        let created = repo.create("flat", Some(topology), n)?;
        let resolved = resolve_mission_context(&repo.repo()?, &created.mission_slug)?;
        assert_eq!(resolved.topology, topology);
        assert!(resolved.topology_stored);
        assert_eq!(resolved.probe, None);
        assert_eq!(resolved.read_surface, ReadSurface::Primary);
        assert_eq!(resolved.read_dir, created.mission_dir);
        assert_eq!(resolved.write_dir, created.mission_dir);
        assert_eq!(resolved.primary_root, repo.root());
        assert_eq!(resolved.context.branch_ref.coordination_branch, None);
        assert_eq!(
            resolved.context.branch_ref.destination_ref.as_str(),
            "feature/x"
        );
        assert_eq!(resolved.context.identity.mid8(), created.mid8);
    }
    Ok(())
}

#[test]
fn coordination_mission_in_each_probe_state() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("invoice-export", Some(MissionTopology::Coord), 1)?;
    let dir = created.mission_slug.clone();
    let branch = created.coordination_branch.clone().unwrap_or_default();
    let coord_dir = repo.path(&format!(".worktrees/{dir}-coord/kitty-specs/{dir}"));

    // The create-window: branch present, worktree absent — read primary, write coordination.
    let resolved = resolve_mission_context(&repo.repo()?, &dir)?;
    assert_eq!(resolved.probe, Some(CoordinationProbe::Unmaterialized));
    assert_eq!(resolved.read_surface, ReadSurface::Primary);
    assert_eq!(resolved.read_dir, created.mission_dir);
    assert_eq!(resolved.write_dir, coord_dir);
    assert_eq!(
        resolved.context.branch_ref.destination_ref.as_str(),
        branch.as_str()
    );
    assert_eq!(
        resolved.context.artifact_placement.planning_ref.as_str(),
        "feature/x"
    );

    // Materialized: the worktree is the authority.
    materialize(&repo, &dir, &branch)?;
    let resolved = resolve_mission_context(&repo.repo()?, &dir)?;
    assert_eq!(resolved.probe, Some(CoordinationProbe::Materialized));
    assert_eq!(resolved.read_surface, ReadSurface::Coordination);
    assert_eq!(resolved.read_dir, coord_dir);
    assert_eq!(resolved.write_dir, coord_dir);

    // The same answer from the coordination worktree itself and from a subdirectory.
    for start in [
        repo.path(&format!(".worktrees/{dir}-coord")),
        repo.path(&format!("kitty-specs/{dir}/tasks")),
    ] {
        let from_there = resolve_mission_context(&Repo::discover(&start)?, created.mid8.as_str())?;
        assert_eq!(from_there.read_dir, coord_dir, "{}", start.display());
        assert_eq!(from_there.primary_root, repo.root());
    }

    // Empty: a worktree without the mission directory fails closed.
    std::fs::remove_dir_all(repo.path(&format!(".worktrees/{dir}-coord/kitty-specs")))?;
    let error = resolve_mission_context(&repo.repo()?, &dir).expect_err("empty");
    assert_eq!(error.code(), "COORD_AUTHORITY_UNAVAILABLE");
    assert!(
        matches!(
            error,
            ResolveError::Read {
                probe: CoordinationProbe::Empty,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.hint().contains("git worktree remove"),
        "{}",
        error.hint()
    );
    Ok(())
}

#[test]
fn a_branch_deleted_locally_but_on_a_remote_still_exists() -> TestResult {
    let remote = TestRepo::empty_dir()?;
    git_in(remote.root(), &["init", "-q", "--bare"])?;
    let repo = TestRepo::new()?;
    repo.git(&[
        "remote",
        "add",
        "origin",
        &remote.root().display().to_string(),
    ])?;
    let created = repo.create("invoice-export", Some(MissionTopology::LanesWithCoord), 1)?;
    let branch = created.coordination_branch.clone().unwrap_or_default();
    repo.git(&["push", "-q", "origin", &branch])?;
    repo.git(&["branch", "-q", "-D", &branch])?;

    let resolved = resolve_mission_context(&repo.repo()?, &created.mission_slug)?;
    assert_eq!(resolved.probe, Some(CoordinationProbe::Unmaterialized));
    assert_eq!(resolved.read_surface, ReadSurface::Primary);

    // Gone from the remote too (pushed deletion, pruned fetch): deleted.
    repo.git(&["push", "-q", "origin", "--delete", &branch])?;
    repo.git(&["fetch", "-q", "--prune", "origin"])?;
    let error = resolve_mission_context(&repo.repo()?, &created.mission_slug).expect_err("deleted");
    assert_eq!(error.code(), "COORDINATION_BRANCH_DELETED");
    assert!(
        matches!(
            error,
            ResolveError::Read {
                probe: CoordinationProbe::Deleted,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains(&branch), "{error}");
    assert!(
        error.hint().contains(&format!(
            "missionctl mission flatten --mission {}",
            created.mission_slug
        )),
        "{}",
        error.hint()
    );
    Ok(())
}

#[test]
fn differential_gate_b_a_flattened_mission_ignores_its_husk_for_every_handle() -> TestResult {
    let repo = TestRepo::new()?;

    // A modern mission: created coord, materialized, written to on the coordination branch,
    // then flattened (its branch deleted by a merge). The worktree stays behind as a husk.
    let created = repo.create("invoice-export", Some(MissionTopology::Coord), 1)?;
    let dir = created.mission_slug.clone();
    let branch = created.coordination_branch.clone().unwrap_or_default();
    materialize(&repo, &dir, &branch)?;
    repo.write(
        &format!(".worktrees/{dir}-coord/kitty-specs/{dir}/status.events.jsonl"),
        "{\"stale\": true}\n",
    )?;
    let before = resolve_mission_context(&repo.repo()?, &dir)?;
    assert_eq!(before.read_surface, ReadSurface::Coordination);
    let flattened = flatten_mission(&repo.repo()?, &dir)?;
    assert!(flattened.changed);
    assert_eq!(
        flattened.leftover_worktree,
        Some(repo.path(&format!(".worktrees/{dir}-coord")))
    );
    // The registered worktree is now a husk: never consulted.
    let registered_husk = resolve_mission_context(&repo.repo()?, &dir)?;
    assert_eq!(registered_husk.probe, None);
    assert_eq!(registered_husk.read_dir, created.mission_dir);
    // And so is a leftover directory git no longer knows about.
    repo.git(&[
        "worktree",
        "remove",
        "--force",
        &format!(".worktrees/{dir}-coord"),
    ])?;
    repo.write(
        &format!(".worktrees/{dir}-coord/kitty-specs/{dir}/status.events.jsonl"),
        "{\"stale\": true}\n",
    )?;
    repo.git(&["branch", "-q", "-D", &branch])?;

    // A legacy mission as Spec Kitty flattens it: `topology` removed, `flattened: true`, no
    // coordination branch — and a husk under its verbatim coordination name.
    let legacy = mission_id(2);
    let legacy_dir = "064-legacy-flow";
    repo.write(
        &format!("kitty-specs/{legacy_dir}/meta.json"),
        &format!(
            r#"{{"created_at": "2025-01-01T00:00:00+00:00", "flattened": true, "friendly_name": "Legacy",
"mission_id": "{}", "mission_number": 64, "mission_slug": "{legacy_dir}", "mission_type": "software-dev",
"slug": "{legacy_dir}", "target_branch": "main"}}"#,
            legacy.as_str()
        ),
    )?;
    let legacy_husk = format!(
        ".worktrees/{legacy_dir}-{}-coord/kitty-specs/{legacy_dir}-{}",
        legacy.mid8(),
        legacy.mid8()
    );
    repo.write(
        &format!("{legacy_husk}/status.events.jsonl"),
        "{\"stale\": true}\n",
    )?;
    repo.write(
        &format!("{legacy_husk}/meta.json"),
        "{\"topology\": \"coord\"}\n",
    )?;

    let found = repo.repo()?;
    let cases: Vec<(String, &str, MissionTopology)> = vec![
        (
            created.mission_id.clone(),
            dir.as_str(),
            MissionTopology::SingleBranch,
        ),
        (
            created.mid8.clone(),
            dir.as_str(),
            MissionTopology::SingleBranch,
        ),
        (dir.clone(), dir.as_str(), MissionTopology::SingleBranch),
        (
            "invoice-export".to_owned(),
            dir.as_str(),
            MissionTopology::SingleBranch,
        ),
        (
            legacy.as_str().to_owned(),
            legacy_dir,
            MissionTopology::SingleBranch,
        ),
        (
            legacy.mid8().to_owned(),
            legacy_dir,
            MissionTopology::SingleBranch,
        ),
        (
            legacy_dir.to_owned(),
            legacy_dir,
            MissionTopology::SingleBranch,
        ),
        (
            "legacy-flow".to_owned(),
            legacy_dir,
            MissionTopology::SingleBranch,
        ),
        ("064".to_owned(), legacy_dir, MissionTopology::SingleBranch),
    ];
    for (handle, expected_dir, topology) in cases {
        let resolved = resolve_mission_context(&found, &handle)?;
        let primary = repo.path(&format!("kitty-specs/{expected_dir}"));
        assert_eq!(resolved.mission_slug, expected_dir, "{handle}");
        assert_eq!(resolved.topology, topology, "{handle}");
        assert!(resolved.flattened, "{handle}");
        assert_eq!(resolved.probe, None, "{handle}: the husk was probed");
        assert_eq!(resolved.read_surface, ReadSurface::Primary, "{handle}");
        assert_eq!(resolved.read_dir, primary, "{handle}");
        assert_eq!(resolved.write_dir, primary, "{handle}");
        assert_eq!(resolved.context.workspace.coord_worktree, None, "{handle}");
    }
    // A flattened mission carries no topology, whether Spec Kitty or missionctl flattened it:
    // it is derived, not stored.
    assert!(!resolve_mission_context(&found, "064")?.topology_stored);
    assert!(!resolve_mission_context(&found, &dir)?.topology_stored);
    Ok(())
}

#[test]
fn missing_identity_or_meta_are_typed_errors() -> TestResult {
    let repo = TestRepo::new()?;
    repo.write(
        "kitty-specs/no-id/meta.json",
        r#"{"target_branch": "main"}"#,
    )?;
    repo.write("kitty-specs/no-meta/spec.md", "x")?;
    let found = repo.repo()?;
    let error = resolve_mission_context(&found, "no-id").expect_err("no id");
    assert_eq!(error.code(), "MISSION_IDENTITY_MISSING");
    let error = resolve_mission_context(&found, "no-meta").expect_err("no meta");
    assert_eq!(error.code(), "MISSION_META_NOT_FOUND");
    assert!(
        error.to_string().contains("kitty-specs/no-meta/meta.json"),
        "{error}"
    );
    let error = resolve_mission_context(&found, "../x").expect_err("path");
    assert_eq!(error.code(), "UNSAFE_PATH_SEGMENT");
    Ok(())
}
