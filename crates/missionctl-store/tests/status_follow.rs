//! `StatusFollower`: a mission's log followed as it grows — appended in place as Spec Kitty
//! appends, replaced by a longer copy as missionctl writes, cut in the middle of a line, and
//! rewritten by a merge — always agrees with a full reduce of the log.

use std::io::Write;

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::status::event_log;
use missionctl_core::status::lane::Lane;
use missionctl_core::status::log_merge::merge_event_logs;
use missionctl_core::status::reducer::reduce;
use missionctl_store::clock::FixedClock;
use missionctl_store::status::{LogChange, MissionStatus, TransitionRequest};

use crate::common::{NOW_MICROS, TestRepo, TestResult, protected};

/// A row as Spec Kitty 3.2.7 appends it (its key order and separators, a structured actor).
fn spec_kitty_row(event_id: &str, wp_id: &str, from: &str, to: &str, at: &str) -> String {
    format!(
        "{{\"actor\": {{\"model\": \"opus\", \"profile\": \"implementer\", \"role\": \"implementer\", \"tool\": \"claude\"}}, \"at\": \"{at}\", \"event_id\": \"{event_id}\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"{from}\", \"mission_id\": null, \"mission_slug\": \"x\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \"to_lane\": \"{to}\", \"wp_id\": \"{wp_id}\"}}\n"
    )
}

fn append(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(bytes)
}

#[test]
fn a_followed_log_agrees_with_a_full_reduce_however_it_changes() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("follow", Some(MissionTopology::SingleBranch), 1)?;
    repo.define_work_packages(&created.mission_slug, &["WP01", "WP02", "WP03", "WP04"])?;
    let status = MissionStatus::load(&repo.repo()?, &created.mission_slug, &protected())?;
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    let seed = |wp: &str| TransitionRequest {
        wp_id: wp.to_owned(),
        to_lane: "planned".to_owned(),
        actor: Some("finalize-tasks".to_owned()),
        ..TransitionRequest::default()
    };
    status.transition(&seed("WP01"), &clock)?;
    let mut follower = status.follow()?;
    let log = status.read_dir().join("status.events.jsonl");
    let full = || -> Result<_, Box<dyn std::error::Error>> {
        Ok(reduce(&event_log::parse(&std::fs::read(&log)?)))
    };
    assert_eq!(
        follower.snapshot().work_packages["WP01"].lane,
        Lane::Planned
    );
    assert_eq!(follower.refresh()?.change, LogChange::Unchanged);

    // missionctl replaces the file by a longer copy: only the new row is read.
    status.transition(&seed("WP02"), &clock)?;
    let update = follower.refresh()?;
    assert_eq!(update.change, LogChange::Appended);
    assert_eq!(update.rows.len(), 1);
    assert!(update.snapshot_changed);
    assert_eq!(
        follower.snapshot().work_packages["WP02"].lane,
        Lane::Planned
    );

    // Spec Kitty appends in place; the row arrives in two writes, cut in the middle.
    let row = spec_kitty_row(
        "01KYCRQ6AMWZEX5FRJ7592KQMA",
        "WP01",
        "planned",
        "claimed",
        "2099-01-01T00:00:00+00:00",
    );
    let (head, rest) = row.as_bytes().split_at(50);
    append(&log, head)?;
    let update = follower.refresh()?;
    assert_eq!((update.rows.len(), update.snapshot_changed), (0, false));
    append(&log, rest)?;
    let update = follower.refresh()?;
    assert_eq!(update.change, LogChange::Appended);
    assert_eq!(update.rows.len(), 1);
    assert_eq!(
        follower.snapshot().work_packages["WP01"].lane,
        Lane::Claimed
    );
    assert_eq!(follower.snapshot().work_packages, full()?.work_packages);

    // A row that sorts before the others (another clone's, older) appended in place.
    append(
        &log,
        spec_kitty_row(
            "01AAAAAAAAAAAAAAAAAAAAAAAA",
            "WP03",
            "planned",
            "claimed",
            "2000-01-01T00:00:00+00:00",
        )
        .as_bytes(),
    )?;
    follower.refresh()?;
    assert_eq!(follower.snapshot().work_packages, full()?.work_packages);
    assert_eq!(follower.snapshot().event_count, 4);

    // A merge rewrites the log: the other side's rows sorted in among ours.
    let ours = std::fs::read(&log)?;
    let theirs = spec_kitty_row(
        "01BBBBBBBBBBBBBBBBBBBBBBBB",
        "WP04",
        "planned",
        "claimed",
        "2001-01-01T00:00:00+00:00",
    );
    let merged = merge_event_logs(b"", &ours, theirs.as_bytes())?;
    assert!(!merged.starts_with(&ours), "the merge sorted the row in");
    std::fs::write(&log, &merged)?;
    let update = follower.refresh()?;
    assert_eq!(update.change, LogChange::Rewritten);
    assert_eq!(update.rows.len(), 5);
    assert_eq!(follower.snapshot().work_packages, full()?.work_packages);
    assert_eq!(follower.snapshot().event_count, 5);

    // A corrupt complete line is the read error every reader reports; a fix recovers.
    append(&log, b"not json\n")?;
    let error = follower.refresh().expect_err("an unreadable line");
    assert_eq!(error.code(), "EVENT_LOG_INVALID");
    std::fs::write(&log, &merged)?;
    assert_eq!(follower.refresh()?.change, LogChange::Rewritten);
    assert_eq!(follower.snapshot().event_count, 5);
    Ok(())
}

#[test]
fn a_coordination_mission_is_followed_across_its_first_write() -> TestResult {
    let repo = TestRepo::new()?;
    let created = repo.create("coordinated", Some(MissionTopology::Coord), 1)?;
    repo.define_work_packages(&created.mission_slug, &["WP01", "WP02", "WP03", "WP04"])?;
    let status = MissionStatus::load(&repo.repo()?, &created.mission_slug, &protected())?;
    let mut follower = status.follow()?;
    assert!(follower.snapshot().work_packages.is_empty());
    let clock = FixedClock::from_unix_micros(NOW_MICROS);
    status.transition(
        &TransitionRequest {
            wp_id: "WP01".to_owned(),
            to_lane: "planned".to_owned(),
            actor: Some("finalize-tasks".to_owned()),
            ..TransitionRequest::default()
        },
        &clock,
    )?;
    let update = follower.refresh()?;
    assert_eq!(
        update.change,
        LogChange::Rewritten,
        "now read from the worktree"
    );
    assert_eq!(
        follower.snapshot().work_packages["WP01"].lane,
        Lane::Planned
    );
    assert!(follower.log_path().starts_with(status.read_dir()));
    Ok(())
}
