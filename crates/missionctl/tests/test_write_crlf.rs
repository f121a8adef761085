//! Status writes on a working copy checked out with CRLF line endings (`core.autocrlf=true`,
//! Git for Windows' default, or `eol=crlf` attributes): the log is read as LF, the rows committed
//! are the bytes Spec Kitty writes, and the checkout stays clean.
//!
//! See: issue 10 ("with `core.autocrlf=true` or `eol=crlf` attributes, every status write is
//! refused (`DESTINATION_AHEAD_OF_WORKTREE`) and the hint loops").

use missionctl_core::mission::topology::MissionTopology;

use crate::common::TestResult;
use crate::status_env::{StatusRepo, data};

/// Checks the status files out again, so git converts them as the configuration says.
fn check_out_again(repo: &StatusRepo) -> anyhow::Result<()> {
    let dir = repo.status_dir();
    for name in ["status.events.jsonl", "status.json"] {
        std::fs::remove_file(dir.join(name))?;
    }
    repo.env.git(
        &repo.status_worktree(),
        &["checkout", "--", &format!("kitty-specs/{}", repo.slug)],
    )?;
    let log = std::fs::read(dir.join("status.events.jsonl"))?;
    anyhow::ensure!(
        log.windows(2).any(|pair| pair == b"\r\n"),
        "the checkout has CRLF line endings"
    );
    Ok(())
}

fn assert_lf_committed(repo: &StatusRepo) -> anyhow::Result<()> {
    for name in ["status.events.jsonl", "status.json"] {
        let committed = repo.git(&[
            "show",
            &format!("{}:kitty-specs/{}/{name}", repo.status_branch(), repo.slug),
        ])?;
        anyhow::ensure!(!committed.contains('\r'), "{name} is committed with CR");
    }
    Ok(())
}

#[test]
fn status_writes_work_on_a_crlf_checkout() -> TestResult {
    for (topology, how) in [
        (MissionTopology::SingleBranch, "autocrlf"),
        (MissionTopology::Coord, "autocrlf"),
        (MissionTopology::SingleBranch, "attributes"),
    ] {
        let repo = StatusRepo::new(topology)?;
        repo.move_wp("WP01", "planned", &["--actor", "a"]).success();
        match how {
            "autocrlf" => {
                repo.git(&["config", "core.autocrlf", "true"])?;
            }
            _ => {
                std::fs::write(
                    repo.root.join(".gitattributes"),
                    "kitty-specs/** text eol=crlf\n",
                )?;
                repo.git(&["add", ".gitattributes"])?;
                repo.git(&["commit", "--quiet", "-m", "crlf"])?;
            }
        }
        check_out_again(&repo)?;
        let moved = data(&repo.move_wp("WP01", "claimed", &["--actor", "a"]).success())?;
        assert_eq!(moved["from_lane"], "planned", "{topology:?} {how}");
        repo.move_wp("WP01", "in_progress", &["--actor", "a"])
            .success();
        assert_lf_committed(&repo)?;
        assert_eq!(repo.log_ids()?.len(), 3, "{topology:?} {how}");
        for worktree in [repo.root.clone(), repo.status_worktree()] {
            assert_eq!(
                repo.env.git(
                    &worktree,
                    &["status", "--porcelain", "--untracked-files=all"]
                )?,
                "",
                "{topology:?} {how}: {}",
                worktree.display()
            );
        }
        // A fresh CRLF checkout validates: the files are read as LF, and a warning says so.
        check_out_again(&repo)?;
        let validated = data(
            &repo
                .run(["--json", "status", "validate", "--mission", &repo.slug])
                .success(),
        )?;
        assert_eq!(validated["passed"], true, "{validated}");
        let warned = validated["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|finding| {
                finding["code"] == "CRLF_WORKING_COPY" && finding["severity"] == "warning"
            });
        assert!(warned, "{topology:?} {how}: {validated}");
        // doctor explains the CRLF copy (a warning: nothing needs fixing) instead of looping.
        let doctor = data(
            &repo
                .run(["--json", "doctor", "--mission", &repo.slug])
                .success(),
        )?;
        let crlf: Vec<&serde_json::Value> = doctor["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|finding| finding["code"] == "CRLF_WORKING_COPY")
            .collect();
        assert_eq!(crlf.len(), 1, "{topology:?} {how}: {doctor}");
        assert_eq!(crlf[0]["severity"], "warning");
    }
    Ok(())
}
