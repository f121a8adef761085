//! Refused status commands: every bad input gets exactly one JSON error document with a code
//! and exit 1, and leaves the repository byte-identical (working-tree files, untracked ones
//! included, every index and `HEAD`, every ref).

use std::ffi::OsStr;

use missionctl_core::mission::topology::MissionTopology;

use crate::common::{CommandOutput, TestEnv, TestResult};
use crate::status_env::{APPROVED_REVIEW, StatusRepo, assert_same_state, repo_state};

/// Runs `args` and checks the refusal: exit 1, one error document, `code`, nothing changed.
#[track_caller]
fn refused(repo: &StatusRepo, args: &[&str], code: &str) -> anyhow::Result<CommandOutput> {
    let before = repo.state()?;
    let output = repo.run(args).code(1);
    let error = output.json_error()?;
    assert_eq!(error["code"], code, "{args:?}: {output}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{args:?}"
    );
    assert_eq!(output.stderr, "", "{args:?}: --json keeps stderr empty");
    assert_same_state(&before, &repo.state()?, &format!("{args:?}"));
    Ok(output)
}

/// Returns `move` arguments for the mission of `repo`.
fn move_args<'a>(
    repo: &'a StatusRepo,
    wp: &'a str,
    lane: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "--json",
        "move",
        wp,
        "--to",
        lane,
        "--mission",
        repo.slug.as_str(),
    ];
    args.extend_from_slice(extra);
    args
}

/// Brings WP01 to `in_progress`, WP02 to `in_review`, WP03 to `approved` and WP04 to
/// `planned` (with subtasks still open), committing each move.
fn prepared(topology: MissionTopology) -> anyhow::Result<StatusRepo> {
    let repo = StatusRepo::new(topology)?;
    repo.add_wp_file("WP04", &["T001", "T002"])?;
    let a = ["--actor", "claude"];
    for (wp, lanes) in [
        ("WP01", &["planned", "claimed", "in_progress"][..]),
        (
            "WP02",
            &[
                "planned",
                "claimed",
                "in_progress",
                "for_review",
                "in_review",
            ],
        ),
        ("WP04", &["planned", "claimed", "in_progress"]),
    ] {
        for lane in lanes {
            repo.move_wp(wp, lane, &a).success();
        }
    }
    for lane in [
        "planned",
        "claimed",
        "in_progress",
        "for_review",
        "in_review",
    ] {
        repo.move_wp("WP03", lane, &a).success();
    }
    repo.move_wp(
        "WP03",
        "approved",
        &["--actor", "claude", "--review-result-json", APPROVED_REVIEW],
    )
    .success();
    Ok(repo)
}

#[test]
fn bad_moves_are_refused_and_change_nothing() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = prepared(topology)?;
        let r = &repo;
        let actor = ["--actor", "claude"];
        // The lane.
        refused(r, &move_args(r, "WP01", "nowhere", &actor), "UNKNOWN_LANE")?;
        refused(r, &move_args(r, "WP01", "", &actor), "UNKNOWN_LANE")?;
        refused(
            r,
            &move_args(r, "WP01", "for_review", &["--expect-from", "doingit"]),
            "UNKNOWN_LANE",
        )?;
        // The edge.
        refused(
            r,
            &move_args(r, "WP01", "done", &actor),
            "ILLEGAL_TRANSITION",
        )?;
        refused(
            r,
            &move_args(r, "WP01", "genesis", &actor),
            "ILLEGAL_TRANSITION",
        )?;
        refused(
            r,
            &move_args(r, "WP01", "claimed", &actor),
            "ILLEGAL_TRANSITION",
        )?;
        refused(
            r,
            &move_args(r, "WP09", "claimed", &actor),
            "ILLEGAL_TRANSITION",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP01",
                "genesis",
                &["--force", "--actor", "a", "--reason", "r"],
            ),
            "ILLEGAL_TRANSITION",
        )?;
        refused(
            r,
            &move_args(r, "WP01", "uninitialized", &actor),
            "ILLEGAL_TRANSITION",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP01",
                "uninitialized",
                &["--force", "--actor", "a", "--reason", "r"],
            ),
            "UNINITIALIZED_TARGET",
        )?;
        // Every guard.
        refused(
            r,
            &move_args(r, "WP01", "planned", &actor),
            "REASON_REQUIRED",
        )?;
        refused(
            r,
            &move_args(r, "WP04", "for_review", &actor),
            "SUBTASKS_INCOMPLETE",
        )?;
        refused(
            r,
            &move_args(r, "WP01", "approved", &actor),
            "APPROVAL_EVIDENCE_REQUIRED",
        )?;
        refused(
            r,
            &move_args(r, "WP02", "approved", &actor),
            "REVIEW_RESULT_REQUIRED",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP02",
                "approved",
                &[
                    "--review-result-json",
                    r#"{"reviewer": "r", "verdict": "changes_requested", "reference": "x"}"#,
                ],
            ),
            "APPROVAL_EVIDENCE_REQUIRED",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP02",
                "approved",
                &[
                    "--review-result-json",
                    APPROVED_REVIEW,
                    "--review-ref",
                    "other",
                ],
            ),
            "REVIEW_REF_MISMATCH",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP02",
                "approved",
                &[
                    "--review-result-json",
                    APPROVED_REVIEW,
                    "--evidence-json",
                    r#"{"review": {"reviewer": "someone-else", "verdict": "approved", "reference": "review-1"}}"#,
                ],
            ),
            "REVIEW_EVIDENCE_MISMATCH",
        )?;
        refused(
            r,
            &move_args(r, "WP03", "done", &actor),
            "APPROVAL_EVIDENCE_REQUIRED",
        )?;
        refused(
            r,
            &move_args(r, "WP03", "in_progress", &actor),
            "REVIEW_REF_REQUIRED",
        )?;
        // A move that needs an actor, without one (no `MISSIONCTL_ACTOR` either).
        let repo2 = StatusRepo::new(topology)?;
        repo2.move_wp("WP01", "planned", &[]).success();
        refused(
            &repo2,
            &move_args(&repo2, "WP01", "claimed", &[]),
            "ACTOR_REQUIRED",
        )?;
        refused(
            &repo2,
            &move_args(&repo2, "WP01", "claimed", &["--actor", "  "]),
            "ACTOR_REQUIRED",
        )?;
        // Malformed evidence and review results.
        refused(
            r,
            &move_args(
                r,
                "WP03",
                "done",
                &[
                    "--evidence-json",
                    r#"{"review": {"reviewer": "", "verdict": "approved", "reference": "x"}}"#,
                ],
            ),
            "INVALID_EVIDENCE",
        )?;
        refused(
            r,
            &move_args(r, "WP03", "done", &["--evidence-json", "{not json"]),
            "INVALID_JSON_ARGUMENT",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP03",
                "done",
                &["--evidence-json", "/nonexistent/evidence.json"],
            ),
            "INVALID_JSON_ARGUMENT",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP02",
                "approved",
                &["--review-result-json", r#"{"reviewer": 5}"#],
            ),
            "INVALID_REVIEW_RESULT",
        )?;
        // Force needs an actor and a reason.
        refused(
            r,
            &move_args(r, "WP01", "done", &["--force", "--actor", "a"]),
            "FORCE_REQUIRES_ACTOR_AND_REASON",
        )?;
        refused(
            r,
            &move_args(
                r,
                "WP01",
                "done",
                &["--force", "--actor", "a", "--reason", " "],
            ),
            "FORCE_REQUIRES_ACTOR_AND_REASON",
        )?;
        refused(
            &repo2,
            &move_args(&repo2, "WP01", "done", &["--force", "--reason", "r"]),
            "FORCE_REQUIRES_ACTOR_AND_REASON",
        )?;
        // The work package id.
        for wp in [
            "WP1", "wp01", "WP01x", "WP", "../WP01", "WP01/..", "WP-01", " WP01",
        ] {
            refused(r, &move_args(r, wp, "planned", &actor), "INVALID_WP_ID")?;
        }
        // The mission handle.
        for handle in [
            "..",
            "../invoice-export-01M0M9D8",
            "kitty-specs/invoice-export-01M0M9D8",
            "a/b",
            "/etc",
            "./invoice-export-01M0M9D8",
        ] {
            let args = [
                "--json",
                "move",
                "WP01",
                "--to",
                "for_review",
                "--mission",
                handle,
            ];
            let code = "UNSAFE_PATH_SEGMENT";
            refused(r, &args, code)?;
            for read in [
                &["--json", "board", "--mission", handle][..],
                &["--json", "history", "--mission", handle],
                &["--json", "status", "validate", "--mission", handle],
                &["--json", "status", "materialize", "--mission", handle],
            ] {
                refused(r, read, code)?;
            }
        }
        refused(
            r,
            &[
                "--json",
                "move",
                "WP01",
                "--to",
                "for_review",
                "--mission",
                "no-such-mission",
            ],
            "MISSION_NOT_FOUND",
        )?;
        // A stale expectation, found under the lock.
        refused(
            r,
            &move_args(
                r,
                "WP01",
                "for_review",
                &["--actor", "a", "--expect-from", "claimed"],
            ),
            "STALE_FROM_LANE",
        )?;
    }
    Ok(())
}

#[test]
fn a_malformed_log_line_refuses_every_read_and_write() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = prepared(topology)?;
        let log = repo.status_dir().join("status.events.jsonl");
        for bad in [
            "{not json\n",
            "[1, 2]\n",
            "{\"kind\": \"mystery\"}\n",
            "{\"event_id\": \"X\", \"wp_id\": \"WP01\", \"from_lane\": \"planned\", \"to_lane\": \"doing\", \"at\": \"2026-01-01T00:00:00Z\", \"actor\": \"a\", \"force\": false, \"execution_mode\": \"worktree\"}\n",
        ] {
            let mut bytes = std::fs::read(&log)?;
            let good = bytes.clone();
            // In the middle of the file: every other line stays as written.
            let middle = bytes
                .iter()
                .position(|byte| *byte == b'\n')
                .map_or(0, |index| index + 1);
            bytes.splice(middle..middle, bad.bytes());
            std::fs::write(&log, &bytes)?;
            let slug = repo.slug.as_str();
            let output = refused(
                &repo,
                &[
                    "--json",
                    "move",
                    "WP01",
                    "--to",
                    "for_review",
                    "--mission",
                    slug,
                    "--actor",
                    "a",
                ],
                "EVENT_LOG_INVALID",
            )?;
            assert!(
                output.json_error()?["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(":2:"),
                "{output}"
            );
            refused(
                &repo,
                &["--json", "board", "--mission", slug],
                "EVENT_LOG_INVALID",
            )?;
            refused(
                &repo,
                &["--json", "history", "--mission", slug],
                "EVENT_LOG_INVALID",
            )?;
            refused(
                &repo,
                &["--json", "status", "materialize", "--mission", slug],
                "EVENT_LOG_INVALID",
            )?;
            refused(
                &repo,
                &["--json", "status", "validate", "--mission", slug],
                "STATUS_VALIDATION_FAILED",
            )?;
            std::fs::write(&log, &good)?;
        }
        repo.move_wp("WP01", "for_review", &["--actor", "a"])
            .success();
    }
    Ok(())
}

#[test]
fn a_symlinked_log_is_never_followed() -> TestResult {
    for topology in [MissionTopology::SingleBranch, MissionTopology::Coord] {
        let repo = prepared(topology)?;
        let log = repo.status_dir().join("status.events.jsonl");
        let elsewhere = repo.env.root().join("elsewhere.jsonl");
        std::fs::rename(&log, &elsewhere)?;
        std::os::unix::fs::symlink(&elsewhere, &log)?;
        let outside = std::fs::read(&elsewhere)?;
        let slug = repo.slug.as_str();
        refused(
            &repo,
            &[
                "--json",
                "move",
                "WP01",
                "--to",
                "for_review",
                "--mission",
                slug,
                "--actor",
                "a",
            ],
            "EVENT_LOG_SYMLINK",
        )?;
        refused(
            &repo,
            &[
                "--json",
                "move",
                "WP01",
                "--to",
                "done",
                "--mission",
                slug,
                "--force",
                "--actor",
                "a",
                "--reason",
                "r",
            ],
            "EVENT_LOG_SYMLINK",
        )?;
        refused(
            &repo,
            &["--json", "board", "--mission", slug],
            "EVENT_LOG_SYMLINK",
        )?;
        refused(
            &repo,
            &["--json", "history", "--mission", slug],
            "EVENT_LOG_SYMLINK",
        )?;
        refused(
            &repo,
            &["--json", "status", "materialize", "--mission", slug],
            "EVENT_LOG_SYMLINK",
        )?;
        assert_eq!(
            std::fs::read(&elsewhere)?,
            outside,
            "the link's target is never written"
        );
        std::fs::remove_file(&log)?;
        std::fs::rename(&elsewhere, &log)?;
        repo.move_wp("WP01", "for_review", &["--actor", "a"])
            .success();
    }
    Ok(())
}

#[test]
fn outside_a_git_repository_nothing_is_written() -> TestResult {
    let env = TestEnv::new()?;
    let dir = env.root().join("plain");
    std::fs::create_dir_all(dir.join("kitty-specs/invoice-export-01M0M9D8"))?;
    std::fs::write(
        dir.join("kitty-specs/invoice-export-01M0M9D8/status.events.jsonl"),
        "",
    )?;
    let before = repo_state(&env, &dir)?;
    for args in [
        &[
            "--json",
            "move",
            "WP01",
            "--to",
            "planned",
            "--mission",
            "invoice-export-01M0M9D8",
        ][..],
        &["--json", "board"],
        &["--json", "board", "--mission", "invoice-export-01M0M9D8"],
        &["--json", "history", "--mission", "invoice-export-01M0M9D8"],
        &[
            "--json",
            "status",
            "validate",
            "--mission",
            "invoice-export-01M0M9D8",
        ],
        &[
            "--json",
            "status",
            "materialize",
            "--mission",
            "invoice-export-01M0M9D8",
        ],
        &["--json", "doctor"],
        &["--json", "init"],
    ] {
        let output = env
            .run_with(
                &dir,
                args,
                &[("GIT_CEILING_DIRECTORIES", OsStr::new(env.root()))],
            )
            .code(1);
        let error = output.json_error()?;
        assert_eq!(error["code"], "NOT_A_GIT_REPOSITORY", "{args:?}: {output}");
        assert_same_state(&before, &repo_state(&env, &dir)?, &format!("{args:?}"));
    }
    Ok(())
}
