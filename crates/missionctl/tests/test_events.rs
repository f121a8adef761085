//! The live commands: `events tail` and `board --watch`, run as real background processes
//! while other processes write — missionctl moves, rows appended in place in Spec Kitty's
//! format (one cut in the middle of its line, completed later), and a merge that rewrites
//! the log with another clone's rows sorted in.

use std::ffi::OsStr;
use std::io::Write;
use std::time::Duration;

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::status::log_merge::merge_event_logs;
use serde_json::Value;

use crate::common::TestResult;
use crate::common::stream::Running;
use crate::status_env::StatusRepo;

/// A row as Spec Kitty 3.2.7 appends it: its key order, its separators, a structured actor.
fn spec_kitty_row(event_id: &str, wp_id: &str, from: &str, to: &str, at: &str) -> String {
    format!(
        "{{\"actor\": {{\"model\": \"opus\", \"profile\": \"implementer\", \"role\": \"implementer\", \"tool\": \"claude\"}}, \"at\": \"{at}\", \"event_id\": \"{event_id}\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"{from}\", \"mission_id\": null, \"mission_slug\": \"invoice-export-01M0M9D8\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \"to_lane\": \"{to}\", \"wp_id\": \"{wp_id}\"}}\n"
    )
}

/// Appends bytes to a file in place, as Spec Kitty appends (`open(…, "a")`).
fn append(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Moves WP01 to `claimed` with another missionctl process and returns the tail's next line,
/// checking that it is that move.
fn move_and_read(repo: &StatusRepo, tail: &mut Running) -> anyhow::Result<Value> {
    let moved = repo
        .move_wp("WP01", "claimed", &["--actor", "claude"])
        .success()
        .json()?;
    let line = tail.json_line()?;
    assert_eq!(
        event_id(&line),
        moved["data"]["event_id"].as_str().unwrap_or_default()
    );
    Ok(line)
}

fn event_id(value: &Value) -> &str {
    value["event_id"].as_str().unwrap_or_default()
}

/// Starts `events tail --json --since <first event>` and waits for the event after it, which
/// proves the tail is following before the test writes anything.
fn start_tail(
    repo: &StatusRepo,
    extra: &[&str],
    overrides: &[(&str, &OsStr)],
) -> anyhow::Result<(Running, String)> {
    let first = repo
        .move_wp("WP01", "planned", &["--actor", "finalize-tasks"])
        .success()
        .json()?;
    let first_id = first["data"]["event_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = repo
        .move_wp("WP02", "planned", &["--actor", "finalize-tasks"])
        .success()
        .json()?;
    let second_id = second["data"]["event_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut args = vec!["--json", "events", "tail", "--since", &first_id];
    args.extend_from_slice(extra);
    let mut tail = repo.env.spawn_in(&repo.root, args, overrides)?;
    let backlog = tail.json_line()?;
    assert_eq!(event_id(&backlog), second_id, "{backlog}");
    assert_eq!(backlog["mission_slug"], repo.slug);
    Ok((tail, second_id))
}

fn tail_sees_every_kind_of_append(overrides: &[(&str, &OsStr)]) -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    let (mut tail, _) = start_tail(&repo, &[], overrides)?;
    let log = repo.status_dir().join("status.events.jsonl");

    // Another missionctl process moves a work package (the log is replaced by a longer copy).
    let line = move_and_read(&repo, &mut tail)?;
    let keys: Vec<&String> = line
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "actor",
            "at",
            "delta",
            "event_id",
            "force",
            "from_lane",
            "kind",
            "mission_slug",
            "reason",
            "to_lane",
            "wp_id"
        ]
    );
    assert_eq!(
        (line["kind"].as_str(), line["to_lane"].as_str()),
        (Some("transition"), Some("claimed"))
    );

    // Spec Kitty appends a row in place.
    append(
        &log,
        spec_kitty_row(
            "01M0M9D8SPECK1TTYR0W000001",
            "WP02",
            "planned",
            "claimed",
            "2099-01-01T00:00:01+00:00",
        )
        .as_bytes(),
    )?;
    let line = tail.json_line()?;
    assert_eq!(event_id(&line), "01M0M9D8SPECK1TTYR0W000001");
    assert_eq!(line["actor"], "claude", "the structured actor, projected");

    // A row written in two pieces: nothing until its line is complete, then the row once.
    let row = spec_kitty_row(
        "01M0M9D8SPECK1TTYR0W000002",
        "WP02",
        "claimed",
        "in_progress",
        "2099-01-01T00:00:02+00:00",
    );
    let (head, rest) = row.as_bytes().split_at(60);
    append(&log, head)?;
    assert_eq!(
        tail.quiet_for(Duration::from_millis(400)),
        None,
        "a cut line is not an event yet"
    );
    append(&log, rest)?;
    let line = tail.json_line()?;
    assert_eq!(event_id(&line), "01M0M9D8SPECK1TTYR0W000002");

    // A merge rewrites the log, with another clone's row sorted in among ours: only that row
    // is new, and it is printed once.
    let ours = std::fs::read(&log)?;
    let theirs = spec_kitty_row(
        "01M0M9D8MERGED0R0W00000001",
        "WP03",
        "planned",
        "claimed",
        "2000-01-01T00:00:00+00:00",
    );
    let merged = merge_event_logs(b"", &ours, theirs.as_bytes())?;
    assert!(
        !merged.starts_with(&ours),
        "the merged row sorts before ours"
    );
    let staged = log.with_extension("merge-tmp");
    std::fs::write(&staged, &merged)?;
    std::fs::rename(&staged, &log)?;
    let line = tail.json_line()?;
    assert_eq!(event_id(&line), "01M0M9D8MERGED0R0W00000001");
    // Nothing old was printed again: the next line is the next append.
    append(
        &log,
        spec_kitty_row(
            "01M0M9D8SPECK1TTYR0W000003",
            "WP02",
            "in_progress",
            "for_review",
            "2099-01-01T00:00:03+00:00",
        )
        .as_bytes(),
    )?;
    let line = tail.json_line()?;
    assert_eq!(event_id(&line), "01M0M9D8SPECK1TTYR0W000003");
    Ok(())
}

#[test]
fn events_tail_sees_every_kind_of_append() -> TestResult {
    tail_sees_every_kind_of_append(&[])
}

#[test]
fn events_tail_sees_every_kind_of_append_when_polling() -> TestResult {
    tail_sees_every_kind_of_append(&[("MISSIONCTL_WATCH", OsStr::new("poll"))])
}

#[test]
fn events_tail_follows_a_coordination_mission() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::LanesWithCoord)?;
    let (mut tail, _) = start_tail(&repo, &["--mission", "invoice-export"], &[])?;
    let line = move_and_read(&repo, &mut tail)?;
    assert_eq!(line["mission_slug"], repo.slug);
    Ok(())
}

#[test]
fn events_tail_errors_before_streaming_are_one_document() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.move_wp("WP01", "planned", &["--actor", "finalize-tasks"])
        .success();
    let output = repo
        .run([
            "--json",
            "events",
            "tail",
            "--since",
            "01NOSUCHEVENT0000000000000",
        ])
        .code(1);
    assert_eq!(output.json_error()?["code"], "EVENT_NOT_FOUND");
    let output = repo
        .run(["--json", "events", "tail", "--mission", "nope"])
        .code(1);
    assert_eq!(output.json_error()?["code"], "MISSION_NOT_FOUND");
    Ok(())
}

#[test]
fn board_watch_redraws_when_a_log_changes() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    repo.move_wp("WP01", "planned", &["--actor", "finalize-tasks"])
        .success();
    let mut watch = repo.env.spawn_in(
        &repo.root,
        ["--json", "board", "--watch", "--mission", "invoice-export"],
        &[],
    )?;
    let first = watch.json_line()?;
    assert_eq!(first["work_packages"][0]["lane"], "planned", "{first}");
    repo.move_wp("WP01", "claimed", &["--actor", "claude"])
        .success();
    let next = watch.json_line_where(|board| board["work_packages"][0]["lane"] == "claimed")?;
    assert_eq!(next["by_lane"]["claimed"], 1, "{next}");
    // Without --json, the text board.
    let mut text = repo.env.spawn_in(&repo.root, ["board", "--watch"], &[])?;
    let heading = text.line()?;
    assert!(
        heading.starts_with("invoice-export-01M0M9D8 (single_branch"),
        "{heading}"
    );
    Ok(())
}
