//! Pins the public surface of `missionctl_store::status`: the `MissionStatus` facade and its
//! value types, nothing under them. Every public item is used here with its full shape
//! (struct fields listed exhaustively, method signatures as function pointers), so adding,
//! removing or changing one fails to compile or fails the list below; and the source check
//! keeps `transaction` a private module, so no caller can write status around the
//! facade (the seed's module-boundary rule, enforced by Rust visibility).

use std::path::{Path, PathBuf};

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::status::event_log::EventLog;
use missionctl_core::status::lane::Lane;
use missionctl_core::status::snapshot::StatusSnapshot;
use missionctl_store::clock::{Clock, FixedClock};
use missionctl_store::mission::dir::StatusReadError;
use missionctl_store::planning::work_package::WorkPackageFileError;
use missionctl_store::repo::Repo;
use missionctl_store::repo::containment::Containment;
use missionctl_store::repo::protection::ProtectedBranches;
use missionctl_store::status::{
    ActiveWPStatus, ApprovalRequest, CommitReceipt, DEFAULT_PROTECTED_BRANCHES, Event,
    FollowUpdate, LOCK_TIMEOUT, LogChange, MaterializeOutcome, MissionStatus, ReadSurface,
    RecoveryOutcome, RejectionRequest, ReviewClaimOutcome, ReviewError, Reviewer, ShellIdentity,
    StatusFollower, StatusLoadError, StatusWriteError, TransitionOutcome, TransitionRequest,
    VerdictOutcome, is_valid_wp_id,
};

use crate::common::{NOW_MICROS, TestRepo, TestResult, protected};

/// The public items of `status/mod.rs`, sorted: changing the surface means changing this list
/// (and `docs/adr/0004-bookkeeping-transaction.md`).
const SURFACE: [&str; 42] = [
    "ActiveWPStatus",
    "ApprovalRequest",
    "BatchOutcome",
    "CommitReceipt",
    "CriterionError",
    "CriterionOutcome",
    "CriterionVerdict",
    "DEFAULT_PROTECTED_BRANCHES",
    "Event",
    "FollowUpdate",
    "LOCK_TIMEOUT",
    "LogChange",
    "MaterializeOutcome",
    "MergedDone",
    "MissionStatus",
    "ReadSurface",
    "RecoveryOutcome",
    "RejectionRequest",
    "ReviewClaimOutcome",
    "ReviewError",
    "Reviewer",
    "SEED_ACTOR",
    "SEED_REASON",
    "ShellIdentity",
    "StartOutcome",
    "StatusFollower",
    "StatusLoadError",
    "StatusWriteError",
    "SubtaskOutcome",
    "TransitionOutcome",
    "TransitionRequest",
    "VerdictOutcome",
    "acceptance",
    "batch",
    "cache",
    "follow",
    "is_valid_wp_id",
    "merge",
    "project_rows",
    "relative",
    "review",
    "transaction",
];

/// Returns the names of the items declared at the top level of `status/mod.rs`, with their
/// visibility (`pub`, or `private` for modules).
fn top_level_items(source: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    for line in source.lines() {
        let (visibility, rest) = if let Some(rest) = line.strip_prefix("pub ") {
            ("pub", rest)
        } else if let Some(rest) = line.strip_prefix("pub(crate) ") {
            ("pub(crate)", rest)
        } else if line.starts_with("mod ") {
            ("private", line)
        } else {
            continue;
        };
        if let (Some(open), Some(close)) = (rest.find('{'), rest.rfind('}'))
            && rest.starts_with("use ")
        {
            // `pub use path::{A, B as C};`
            for name in rest[open + 1..close].split(',') {
                let name = name.split(" as ").last().unwrap_or_default().trim();
                if !name.is_empty() {
                    items.push((name.to_owned(), visibility.to_owned()));
                }
            }
            continue;
        }
        let words: Vec<&str> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty())
            .collect();
        let name = match words.as_slice() {
            ["use", .., "as", alias] => (*alias).to_owned(),
            ["use", .., last] => (*last).to_owned(),
            [_, name, ..] => (*name).to_owned(),
            _ => continue,
        };
        items.push((name, visibility.to_owned()));
    }
    items.sort();
    items
}

#[test]
fn the_public_surface_is_the_facade_and_its_values() {
    let source = include_str!("../src/status/mod.rs");
    let items = top_level_items(source);
    let names: Vec<&str> = items.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, SURFACE, "the status module's surface changed");
    for (name, visibility) in &items {
        let expected = if [
            "acceptance",
            "batch",
            "cache",
            "follow",
            "merge",
            "review",
            "transaction",
        ]
        .contains(&name.as_str())
        {
            "private"
        } else if name == "relative" {
            // Shared with the merge flow inside the crate, not public.
            "pub(crate)"
        } else {
            "pub"
        };
        assert_eq!(visibility, expected, "{name}");
    }
    // Nothing from the private modules is re-exported.
    for line in source.lines() {
        assert!(
            !(line.starts_with("pub use") && line.contains("transaction")),
            "{line}"
        );
    }
    // `status` itself is public from the crate root, and nothing else in the crate reaches
    // into its private modules.
    let lib = include_str!("../src/lib.rs");
    assert!(lib.lines().any(|line| line == "pub mod status;"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path != src.join("status") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                for needle in ["status::transaction", "BookkeepingTransaction"] {
                    assert!(!text.contains(needle), "{} uses {needle}", path.display());
                }
            }
        }
    }
}

#[test]
fn every_public_item_is_usable_with_its_full_shape() -> TestResult {
    // Signatures, as function pointers.
    let _: fn(&Repo, &str, &ProtectedBranches) -> Result<MissionStatus, StatusLoadError> =
        MissionStatus::load;
    let _: fn(&MissionStatus, &str) -> Result<ActiveWPStatus, StatusReadError> =
        MissionStatus::claim;
    let _: fn(
        &MissionStatus,
        &TransitionRequest,
        &dyn Clock,
    ) -> Result<TransitionOutcome, StatusWriteError> = MissionStatus::transition;
    let _: fn(&MissionStatus, &str, &dyn Clock) -> Result<CommitReceipt, StatusWriteError> =
        MissionStatus::save;
    let _: fn(&MissionStatus, &dyn Clock) -> Result<MaterializeOutcome, StatusWriteError> =
        MissionStatus::materialize;
    let _: fn(&MissionStatus) -> Result<StatusSnapshot, StatusReadError> = MissionStatus::snapshot;
    let _: fn(&MissionStatus) -> Result<EventLog, StatusReadError> = MissionStatus::read_log;
    let _: fn(&Repo, &str, &Path) -> Result<Option<StatusSnapshot>, StatusReadError> =
        MissionStatus::reduce_dir_log;
    let _: fn(&MissionStatus) -> Result<StatusFollower, StatusReadError> = MissionStatus::follow;
    let _: fn(&mut StatusFollower) -> Result<FollowUpdate, StatusReadError> =
        StatusFollower::refresh;
    let _: fn(&StatusFollower) -> &StatusSnapshot = StatusFollower::snapshot;
    let _: [LogChange; 3] = [
        LogChange::Unchanged,
        LogChange::Appended,
        LogChange::Rewritten,
    ];
    let _: fn(&MissionStatus) -> &str = MissionStatus::mission_slug;
    let _: fn(&MissionStatus) -> Option<&str> = MissionStatus::mission_id;
    let _: fn(&MissionStatus) -> &str = MissionStatus::mid8;
    let _: fn(&MissionStatus) -> &str = MissionStatus::topology;
    let _: fn(&MissionStatus) -> ReadSurface = MissionStatus::read_surface;
    let _: fn(&MissionStatus) -> &Path = MissionStatus::primary_mission_dir;
    let _: fn(&MissionStatus) -> &Path = MissionStatus::read_dir;
    let _: fn(&MissionStatus) -> &str = MissionStatus::destination_ref;
    let _: fn(&MissionStatus) -> &Containment = MissionStatus::containment;
    let _: fn(&MissionStatus, &str) -> Result<PathBuf, WorkPackageFileError> =
        MissionStatus::require_work_package;
    let _: fn(&MissionStatus, &StatusSnapshot) -> Result<Vec<String>, WorkPackageFileError> =
        MissionStatus::undefined_work_packages;
    let _: fn(&StatusWriteError) -> &'static str = StatusWriteError::code;
    let _: fn(&StatusWriteError) -> String = StatusWriteError::hint;
    let _: fn(&StatusLoadError) -> &'static str = StatusLoadError::code;
    let _: fn(&StatusLoadError) -> String = StatusLoadError::hint;
    let _: fn(&str) -> bool = is_valid_wp_id;
    type Claim = fn(
        &MissionStatus,
        &str,
        &str,
        Option<&ShellIdentity>,
        &dyn Clock,
    ) -> Result<ReviewClaimOutcome, ReviewError>;
    type Recovery =
        fn(&MissionStatus, &str, &str, &str, &dyn Clock) -> Result<RecoveryOutcome, ReviewError>;
    let _: Claim = MissionStatus::claim_review;
    let _: fn(&MissionStatus, &ApprovalRequest, &dyn Clock) -> Result<VerdictOutcome, ReviewError> =
        MissionStatus::record_approval;
    let _: fn(
        &MissionStatus,
        &RejectionRequest,
        &dyn Clock,
    ) -> Result<VerdictOutcome, ReviewError> = MissionStatus::record_rejection;
    let _: Recovery = MissionStatus::release_review;
    let _: Recovery = MissionStatus::unblock;
    let _: fn(&ReviewError) -> &'static str = ReviewError::code;
    let _: fn(&ReviewError, &str) -> String = ReviewError::hint;
    let _ = Reviewer {
        agent: None,
        reviewer: None,
        shell: Some(ShellIdentity {
            pid: 1,
            created_at: None,
        }),
        force: false,
    };
    let _: std::time::Duration = LOCK_TIMEOUT;
    assert_eq!(DEFAULT_PROTECTED_BRANCHES, ["main", "master"]);

    // The facade, end to end on a coordination mission.
    let repo = TestRepo::new()?;
    let created = repo.create("invoice-export", Some(MissionTopology::Coord), 1)?;
    let status = MissionStatus::load(&repo.repo()?, &created.mission_slug, &protected())?;
    assert_eq!(status.mission_slug(), created.mission_slug);
    assert_eq!(status.mission_id(), Some(created.mission_id.as_str()));
    assert_eq!(status.mid8(), created.mid8);
    assert_eq!(status.topology(), "coord");
    assert_eq!(
        status.read_surface(),
        ReadSurface::Primary,
        "the create-window"
    );
    assert_eq!(
        status.destination_ref(),
        created.coordination_branch.as_deref().unwrap_or_default()
    );
    assert!(status.read_dir().ends_with(&created.mission_slug));
    assert_eq!(status.primary_mission_dir(), created.mission_dir);
    // A work package no task file defines is refused unless forced.
    let error = status
        .require_work_package("WP01")
        .expect_err("no task file yet");
    assert_eq!(error.code(), "WP_NOT_FOUND");
    repo.write(
        &format!("kitty-specs/{}/tasks/WP01-export.md", created.mission_slug),
        "---\nwork_package_id: WP01\ntitle: Export\n---\n",
    )?;
    assert!(
        status
            .require_work_package("WP01")?
            .ends_with("WP01-export.md")
    );

    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let request = TransitionRequest {
        wp_id: "WP01".to_owned(),
        to_lane: "planned".to_owned(),
        actor: Some("finalize-tasks".to_owned()),
        reason: Some("canonical bootstrap".to_owned()),
        force: false,
        review_ref: None,
        evidence: None,
        review_result: None,
        note: Some("seeded".to_owned()),
        expected_from: Some(Lane::Genesis),
        workspace_context: None,
    };
    let TransitionOutcome {
        event,
        receipt,
        snapshot,
        released_workspace,
    } = status.transition(&request, &clock)?;
    assert_eq!(released_workspace, None);
    let event: Event = event.ok_or("an event")?;
    assert_eq!(
        (event.from_lane, event.to_lane),
        (Lane::Genesis, Lane::Planned)
    );
    let CommitReceipt {
        commit_sha,
        committed_at,
        destination_ref,
        worktree_root,
        event_ids,
        is_noop,
    } = receipt;
    assert_eq!(commit_sha.len(), 40);
    assert_eq!(committed_at, event.at);
    assert_eq!(Some(destination_ref), created.coordination_branch);
    assert!(worktree_root.ends_with(format!("{}-coord", created.mission_slug)));
    assert_eq!(event_ids.len(), 2, "the transition and its note");
    assert!(!is_noop);
    assert_eq!(snapshot.work_packages["WP01"].lane, Lane::Planned);

    // A fresh load now reads the coordination worktree.
    let status = MissionStatus::load(&repo.repo()?, &created.mission_slug, &protected())?;
    assert_eq!(status.read_surface(), ReadSurface::Coordination);
    let ActiveWPStatus {
        wp_id,
        current_lane,
        last_event,
    } = status.claim("WP01")?;
    assert_eq!((wp_id.as_str(), current_lane), ("WP01", Lane::Planned));
    assert_eq!(last_event.map(|event| event.event_id), Some(event.event_id));
    assert_eq!(status.read_log()?.transitions().count(), 1);
    assert_eq!(status.snapshot()?, snapshot);

    let MaterializeOutcome {
        snapshot: materialized,
        rewritten,
        receipt,
    } = status.materialize(&clock)?;
    assert_eq!(materialized, snapshot);
    assert!(!rewritten && receipt.is_noop);
    assert!(status.save("nothing to save", &clock)?.is_noop);

    let refused = status
        .transition(
            &TransitionRequest {
                wp_id: "WP1".to_owned(),
                to_lane: "claimed".to_owned(),
                ..TransitionRequest::default()
            },
            &clock,
        )
        .expect_err("a malformed id");
    assert_eq!(refused.code(), "INVALID_WP_ID");
    assert!(!refused.hint().is_empty());
    assert!(is_valid_wp_id("WP01") && is_valid_wp_id("WP123") && !is_valid_wp_id("WP1"));
    Ok(())
}
