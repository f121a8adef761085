//! Every `meta.json` of real Spec Kitty missions reads, writes back byte for byte where it is in
//! canonical form, backfills to the topology Spec Kitty derives, resolves to a context, and is
//! found by every handle form.
//!
//! The vendored fixtures under `tests/fixtures/meta-corpus` always run. The full corpus runs
//! when `MISSIONCTL_CONFORMANCE_DIR` names a `conformance` directory or
//! `../shared/conformance/spec-kitty-missions` exists beside the repository; otherwise a note
//! says it was skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use missionctl_core::mission::context::{
    CoordinationProbe, MissionSubject, ReadSurface, resolve_context_for_mission,
};
use missionctl_core::mission::meta::{HandleError, MissionCandidate, MissionMeta, match_handle};
use missionctl_core::mission::meta::{MissionDirName, strip_numeric_prefix};
use missionctl_core::mission::topology::{
    BackfillDecision, BackfillFacts, LanesJsonState, MissionTopology, decide_backfill,
    read_topology,
};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits two levels below the workspace root")
        .to_path_buf()
}

fn full_corpus() -> Option<PathBuf> {
    let base = match std::env::var_os("MISSIONCTL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/conformance"),
    };
    let missions = base.join("spec-kitty-missions");
    missions.is_dir().then_some(missions)
}

fn vendored() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meta-corpus")
}

/// One mission directory as the shell would see it.
struct Mission {
    dir_name: String,
    bytes: Vec<u8>,
    meta: MissionMeta,
    lanes_json: LanesJsonState,
}

fn load(root: &Path) -> Vec<Mission> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("mission root is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.join("meta.json").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let dir_name = dir
                .file_name()
                .and_then(|name| name.to_str())
                .expect("UTF-8 directory name")
                .to_owned();
            let bytes = std::fs::read(dir.join("meta.json")).expect("meta.json is readable");
            let meta = MissionMeta::parse(&bytes)
                .unwrap_or_else(|error| panic!("{dir_name}: meta.json does not parse: {error}"));
            let lanes_json = match std::fs::read(dir.join("lanes.json")) {
                Err(_) => LanesJsonState::Absent,
                Ok(lanes) => match serde_json::from_slice::<serde_json::Value>(&lanes) {
                    Ok(serde_json::Value::Object(_)) => LanesJsonState::Present,
                    _ => LanesJsonState::Corrupt,
                },
            };
            Mission {
                dir_name,
                bytes,
                meta,
                lanes_json,
            }
        })
        .collect()
}

/// Why a file is not in canonical form, if the reason is one Spec Kitty's own writers produce.
fn non_canonical_reason(mission: &Mission, canonical: &str) -> Option<&'static str> {
    let text = std::str::from_utf8(&mission.bytes).ok()?;
    // Written with Python's default `ensure_ascii=True`: non-ASCII as `\uXXXX` escapes.
    if text.is_ascii() && text.contains("\\u") && !canonical.is_ascii() {
        return Some("ASCII-escaped");
    }
    // Written without `sort_keys`: the same lines in another order.
    let mut ours: Vec<&str> = canonical
        .lines()
        .map(|line| line.trim_end_matches(','))
        .collect();
    let mut theirs: Vec<&str> = text
        .lines()
        .map(|line| line.trim_end_matches(','))
        .collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    (ours == theirs).then_some("keys not sorted")
}

/// Checks parsing, typed reads and the canonical round trip; returns the non-canonical files.
fn check_round_trip(missions: &[Mission]) -> Vec<(String, &'static str)> {
    let mut non_canonical = Vec::new();
    for mission in missions {
        let name = &mission.dir_name;
        let identity = mission
            .meta
            .identity(name)
            .unwrap_or_else(|error| panic!("{name}: identity does not read: {error}"));
        assert!(identity.mission_id.is_some(), "{name}: no mission_id");
        for read in [
            mission.meta.target_branch(),
            mission.meta.created_at(),
            mission.meta.coordination_branch(),
        ] {
            read.unwrap_or_else(|error| panic!("{name}: {error}"));
        }
        mission
            .meta
            .validate(name)
            .unwrap_or_else(|error| panic!("{name}: {error}"));

        let canonical = mission.meta.to_canonical_string();
        // Whatever the file's layout, the canonical text holds the same value.
        let reparsed = MissionMeta::parse_str(&canonical).expect("canonical text parses");
        assert_eq!(
            reparsed, mission.meta,
            "{name}: value changed in the round trip"
        );
        if canonical.as_bytes() != mission.bytes.as_slice() {
            let reason = non_canonical_reason(mission, &canonical).unwrap_or_else(|| {
                panic!("{name}: canonical serialization differs from the file for no known reason")
            });
            non_canonical.push((name.clone(), reason));
        }
    }
    non_canonical
}

/// Checks what `migrate backfill-topology` and the readers make of each mission.
fn check_topology(missions: &[Mission]) -> BTreeMap<String, MissionTopology> {
    let mut written = BTreeMap::new();
    for mission in missions {
        let name = &mission.dir_name;
        let facts = BackfillFacts {
            lanes_json: mission.lanes_json,
            coordination_branch_exists: true,
        };
        let topology = read_topology(&mission.meta, mission.lanes_json);
        match decide_backfill(&mission.meta, facts) {
            BackfillDecision::AlreadyStored(stored) => {
                let raw = mission
                    .meta
                    .get("topology")
                    .and_then(|value| value.as_str());
                assert_eq!(raw, Some(stored.as_str()), "{name}");
                assert_eq!(topology, stored, "{name}: the stored value is read as is");
            }
            BackfillDecision::Write(derived) => {
                assert_eq!(
                    topology, derived,
                    "{name}: readers derive what backfill writes"
                );
                let mut backfilled = mission.meta.clone();
                backfilled.store_backfilled_topology(derived);
                assert_eq!(
                    decide_backfill(&backfilled, facts),
                    BackfillDecision::AlreadyStored(derived),
                    "{name}: a second backfill changes nothing"
                );
                written.insert(name.clone(), derived);
            }
            other => panic!("{name}: unexpected backfill decision {other:?}"),
        }

        // Every mission resolves to a context; a coordination-less one never looks at a husk.
        let subject = MissionSubject::from_meta(name, &mission.meta)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let context = resolve_context_for_mission(&subject, topology);
        assert_eq!(
            context.workspace.primary_mission_dir,
            Path::new("kitty-specs").join(name)
        );
        if !topology.routes_through_coordination() {
            for probe in CoordinationProbe::ALL {
                let read = context.resolve_status_read(probe).expect("primary");
                assert_eq!(read.surface, ReadSurface::Primary, "{name} × {probe}");
            }
        }
    }
    written
}

/// Looks every mission up by every handle form it has.
fn check_handles(missions: &[Mission]) -> BTreeMap<&'static str, usize> {
    let candidates: Vec<MissionCandidate> = missions
        .iter()
        .map(|mission| MissionCandidate::from_meta(&mission.dir_name, Some(&mission.meta)))
        .collect();
    let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for mission in missions {
        let name = mission.dir_name.as_str();
        let id = mission
            .meta
            .mission_id_text()
            .expect("every corpus mission has an id");
        let mut handles = vec![id.to_owned(), id[..8].to_owned(), name.to_owned()];
        match MissionDirName::classify(name) {
            MissionDirName::Legacy { number, slug } => {
                handles.push(number.to_owned());
                handles.push(slug.to_owned());
            }
            MissionDirName::Modern { .. } => {
                let (human, _) = name.rsplit_once('-').expect("a modern name has a tail");
                handles.push(human.to_owned());
            }
            MissionDirName::Bare(_) => {}
        }
        for handle in handles {
            let outcome = match match_handle(&handle, &candidates) {
                Ok(found) if found.candidate.dir_name == name => "found",
                // The ladder found another mission at a more specific level: its directory
                // name or its slug without `NNN-` is exactly this handle.
                Ok(found)
                    if found.candidate.dir_name == handle
                        || strip_numeric_prefix(&found.candidate.dir_name) == handle =>
                {
                    "found another by a more specific rule"
                }
                Ok(found) => panic!(
                    "{name}: handle {handle:?} found {} by {:?}",
                    found.candidate.dir_name, found.rule
                ),
                Err(HandleError::Ambiguous {
                    candidates: listed, ..
                }) => {
                    assert!(
                        listed.iter().any(|candidate| candidate.slug == name),
                        "{name}: ambiguous handle {handle:?} does not list it"
                    );
                    "ambiguous, listed"
                }
                Err(error) => panic!("{name}: handle {handle:?}: {error}"),
            };
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    outcomes
}

#[test]
fn vendored_meta_files() {
    let missions = load(&vendored());
    assert_eq!(missions.len(), 14, "vendored fixtures are missing");

    let non_canonical = check_round_trip(&missions);
    assert_eq!(
        non_canonical,
        [
            (
                "charter-sync-sonar-remediation-01KZPPZW".to_owned(),
                "ASCII-escaped"
            ),
            (
                "write-path-integrity-01KZZD69".to_owned(),
                "keys not sorted"
            ),
        ]
    );

    let written = check_topology(&missions);
    let expected: BTreeMap<String, MissionTopology> = [
        (
            "docs-plans-closeout-and-doctrine-diagrams-01KZTK2J",
            MissionTopology::Lanes,
        ),
        (
            "worktree-root-resolution-01M0B59R",
            MissionTopology::SingleBranch,
        ),
    ]
    .into_iter()
    .map(|(name, topology)| (name.to_owned(), topology))
    .collect();
    assert_eq!(written, expected);

    let outcomes = check_handles(&missions);
    assert!(outcomes.get("ambiguous, listed").copied().unwrap_or(0) > 0);
}

#[test]
fn full_corpus_meta_files() {
    let Some(root) = full_corpus() else {
        eprintln!(
            "note: ../shared/conformance/spec-kitty-missions not found and \
             MISSIONCTL_CONFORMANCE_DIR unset; only the vendored meta.json fixtures ran"
        );
        return;
    };
    let missions = load(&root);
    assert!(
        missions.len() >= 300,
        "expected the full corpus in {}",
        root.display()
    );

    let non_canonical = check_round_trip(&missions);
    eprintln!(
        "{} of {} meta.json files are in canonical form; not canonical: {non_canonical:?}",
        missions.len() - non_canonical.len(),
        missions.len()
    );

    let written = check_topology(&missions);
    // The nine missions Spec Kitty flattened (which removes `topology`) derive their
    // coordination-less shape from lanes.json: Spec Kitty's backfill writes the same values.
    for (name, topology) in &written {
        let mission = missions
            .iter()
            .find(|mission| &mission.dir_name == name)
            .expect("written mission exists");
        assert!(
            mission.meta.flattened(),
            "{name}: only flattened missions lack a topology"
        );
        assert_eq!(
            *topology,
            MissionTopology::classify(false, mission.lanes_json.has_lanes()),
            "{name}"
        );
    }
    eprintln!(
        "{} missions without a stored topology backfill to: {written:?}",
        written.len()
    );

    let outcomes = check_handles(&missions);
    eprintln!("handle lookups: {outcomes:?}");
}
