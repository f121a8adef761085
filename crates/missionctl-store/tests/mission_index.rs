//! The mission index, handle resolution and the `mission list` / `mission show` summaries.

use missionctl_core::mission::meta::HandleRule;
use missionctl_core::mission::topology::MissionTopology;
use missionctl_store::mission::index::{MissionIndex, list_missions, resolve_handle, show_mission};

use crate::common::{TestRepo, TestResult, mission_id, mission_id_sharing_mid8};

fn meta(id: &str, dir: &str, extra: &str) -> String {
    format!(
        r#"{{"mission_id": "{id}", "slug": "{dir}", "mission_slug": "{dir}", "friendly_name": "F",
"mission_type": "software-dev", "target_branch": "feature/x", "created_at": "2026-01-01T00:00:00+00:00"{extra}}}"#
    )
}

/// Two modern missions sharing a human slug prefix, a legacy one, one without an id, one
/// without meta.json, one with a corrupt meta.json and a stray file.
fn populated() -> Result<TestRepo, Box<dyn std::error::Error>> {
    let repo = TestRepo::new()?;
    let a = mission_id(1);
    let b = mission_id(2);
    let legacy = mission_id(3);
    let dir_a = format!("invoice-export-{}", a.mid8());
    let dir_b = format!("invoice-{}", b.mid8());
    repo.write(
        &format!("kitty-specs/{dir_a}/meta.json"),
        &meta(
            a.as_str(),
            &dir_a,
            r#", "topology": "coord", "coordination_branch": "kitty/mission-invoice-export-X""#,
        ),
    )?;
    repo.write(
        &format!("kitty-specs/{dir_b}/meta.json"),
        &meta(b.as_str(), &dir_b, ""),
    )?;
    repo.write(
        &format!("kitty-specs/{dir_b}/lanes.json"),
        r#"{"lanes": []}"#,
    )?;
    repo.write(
        "kitty-specs/064-legacy-thing/meta.json",
        &meta(
            legacy.as_str(),
            "064-legacy-thing",
            r#", "topology": "lanes", "flattened": true, "mission_number": "064""#,
        ),
    )?;
    repo.write(
        "kitty-specs/no-identity/meta.json",
        r#"{"slug": "no-identity"}"#,
    )?;
    repo.write("kitty-specs/empty-dir/spec.md", "x")?;
    repo.write("kitty-specs/corrupt/meta.json", "{")?;
    repo.write("kitty-specs/README.md", "not a mission")?;
    Ok(repo)
}

#[test]
fn lists_every_mission_sorted_with_summaries() -> TestResult {
    let repo = populated()?;
    let found = repo.repo()?;
    let list = list_missions(&found)?;
    let names: Vec<&str> = list.iter().map(|m| m.mission_slug.as_str()).collect();
    let (a, b) = (mission_id(1), mission_id(2));
    let dir_a = format!("invoice-export-{}", a.mid8());
    let dir_b = format!("invoice-{}", b.mid8());
    let mut expected = vec![
        "064-legacy-thing",
        "corrupt",
        "empty-dir",
        dir_b.as_str(),
        dir_a.as_str(),
        "no-identity",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected);

    let summary = |name: &str| list.iter().find(|m| m.mission_slug == name).expect(name);
    let coord = summary(&dir_a);
    assert_eq!(coord.mission_id.as_deref(), Some(a.as_str()));
    assert_eq!(coord.mid8.as_deref(), Some(a.mid8()));
    assert_eq!(coord.topology, Some(MissionTopology::Coord));
    assert!(coord.topology_stored);
    assert_eq!(coord.target_branch.as_deref(), Some("feature/x"));
    assert_eq!(coord.friendly_name.as_deref(), Some("F"));
    assert_eq!(coord.mission_type.as_deref(), Some("software-dev"));
    assert_eq!(
        coord.coordination_dir,
        Some(repo.path(&format!(".worktrees/{dir_a}-coord/kitty-specs/{dir_a}")))
    );
    assert_eq!(
        coord.primary_dir,
        repo.path(&format!("kitty-specs/{dir_a}"))
    );
    assert_eq!(coord.problem, None);

    // No stored topology: derived from lanes.json, reported as not stored.
    let derived = summary(&dir_b);
    assert_eq!(derived.topology, Some(MissionTopology::Lanes));
    assert!(!derived.topology_stored);
    assert_eq!(derived.coordination_dir, None);

    let legacy = summary("064-legacy-thing");
    assert_eq!(legacy.mission_number, Some(64));
    assert!(legacy.flattened);

    assert!(
        summary("empty-dir")
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("No meta.json"))
    );
    assert!(
        summary("corrupt")
            .problem
            .as_deref()
            .is_some_and(|p| p.starts_with("Malformed JSON"))
    );
    assert_eq!(summary("no-identity").mission_id, None);
    Ok(())
}

#[test]
fn resolves_every_handle_form() -> TestResult {
    let repo = populated()?;
    let found = repo.repo()?;
    let (a, legacy) = (mission_id(1), mission_id(3));
    let dir_a = format!("invoice-export-{}", a.mid8());
    let cases = [
        (a.as_str().to_owned(), dir_a.as_str(), HandleRule::MissionId),
        (a.mid8().to_owned(), dir_a.as_str(), HandleRule::Mid8),
        (dir_a.clone(), dir_a.as_str(), HandleRule::DirName),
        (
            "invoice-export".to_owned(),
            dir_a.as_str(),
            HandleRule::HumanSlug,
        ),
        (
            legacy.as_str().to_owned(),
            "064-legacy-thing",
            HandleRule::MissionId,
        ),
        (
            "064-legacy-thing".to_owned(),
            "064-legacy-thing",
            HandleRule::DirName,
        ),
        (
            "legacy-thing".to_owned(),
            "064-legacy-thing",
            HandleRule::SlugWithoutNumber,
        ),
        (
            "064".to_owned(),
            "064-legacy-thing",
            HandleRule::MissionNumber,
        ),
        (
            "no-identity".to_owned(),
            "no-identity",
            HandleRule::LiteralDir,
        ),
    ];
    for (handle, dir, rule) in cases {
        let resolved = resolve_handle(&found, &handle)?;
        assert_eq!(resolved.dir.dir_name(), dir, "{handle}");
        assert_eq!(resolved.rule, rule, "{handle}");
        assert_eq!(
            resolved.dir.path(),
            repo.path(&format!("kitty-specs/{dir}"))
        );
        // The direct path and the full index agree.
        let indexed = MissionIndex::scan(&found)?.resolve(&found, &handle)?;
        assert_eq!(indexed, resolved, "{handle}");
    }
    assert_eq!(
        show_mission(&found, "064")?.mission_slug,
        "064-legacy-thing"
    );
    Ok(())
}

#[test]
fn ambiguous_missing_and_unsafe_handles_are_typed_errors() -> TestResult {
    let repo = populated()?;
    let found = repo.repo()?;
    // A second mission whose id shares the first one's mid8.
    let twin = mission_id_sharing_mid8(1, 7);
    let twin_dir = format!("twin-{}", twin.mid8());
    repo.write(
        &format!("kitty-specs/{twin_dir}/meta.json"),
        &meta(twin.as_str(), &twin_dir, ""),
    )?;
    let error = resolve_handle(&found, twin.mid8()).expect_err("ambiguous");
    assert_eq!(error.code(), "MISSION_AMBIGUOUS_SELECTOR");
    let message = error.to_string();
    assert!(message.contains("matches multiple missions"), "{message}");
    assert!(message.contains(&twin_dir), "{message}");
    assert!(
        message.contains(&format!("invoice-export-{}", twin.mid8())),
        "{message}"
    );
    assert!(error.hint().contains("--mission"), "{}", error.hint());
    // The full id still tells them apart.
    assert_eq!(
        resolve_handle(&found, twin.as_str())?.dir.dir_name(),
        twin_dir
    );

    // Two `<slug>-<mid8>` directories for one human slug: never a silent pick.
    let other = mission_id(9);
    let other_dir = format!("invoice-export-{}", other.mid8());
    repo.write(
        &format!("kitty-specs/{other_dir}/meta.json"),
        &meta(other.as_str(), &other_dir, ""),
    )?;
    let error = resolve_handle(&found, "invoice-export").expect_err("ambiguous slug");
    assert_eq!(error.code(), "MISSION_AMBIGUOUS_SELECTOR");

    let error = resolve_handle(&found, "nothing-like-this").expect_err("missing");
    assert_eq!(error.code(), "MISSION_NOT_FOUND");
    assert!(!error.hint().is_empty());

    for bad in ["..", "../kitty-specs", "a/b", "a\0b", "/etc"] {
        let error = resolve_handle(&found, bad).expect_err(bad);
        assert_eq!(error.code(), "UNSAFE_PATH_SEGMENT", "{bad:?}");
    }
    Ok(())
}

#[test]
fn a_repository_without_kitty_specs_has_no_missions() -> TestResult {
    let repo = TestRepo::new()?;
    let found = repo.repo()?;
    assert!(list_missions(&found)?.is_empty());
    assert_eq!(
        resolve_handle(&found, "x").expect_err("none").code(),
        "MISSION_NOT_FOUND"
    );
    Ok(())
}
