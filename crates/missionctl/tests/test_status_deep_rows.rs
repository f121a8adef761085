//! Log rows as deep as Spec Kitty can write them: Python's `json` nests up to its recursion
//! limit, serde_json alone stopped at 128 levels, so a row with evidence nested 126 levels
//! deep made every read and write of the mission fail.
//!
//! See: issue 10, item 9 ("any log row Spec Kitty can write (for example evidence nested 126
//! levels deep) reads").

use missionctl_core::mission::topology::MissionTopology;
use missionctl_core::text::pyjson::{Style, to_string};
use serde_json::{Value, json};

use crate::common::TestResult;
use crate::status_env::{StatusRepo, data};

/// A verification detail nested `depth` objects deep.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1), |inner, _| json!({ "k": inner }))
}

#[test]
fn a_row_with_evidence_nested_126_levels_deep_reads_and_is_kept() -> TestResult {
    let repo = StatusRepo::new(MissionTopology::SingleBranch)?;
    let slug = repo.slug.clone();
    data(&repo.move_wp("WP01", "planned", &["--actor", "a"]).success())?;
    let log_path = repo.status_dir().join("status.events.jsonl");
    let text = std::fs::read_to_string(&log_path)?;
    let last: Value = serde_json::from_str(text.lines().last().unwrap_or_default())?;
    // Spec Kitty's row: the last one claimed again, with deep evidence, in its writer's shape.
    let mut row = last.clone();
    // The same instant as the last row, ordered after it.
    row["event_id"] = json!("7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    row["from_lane"] = json!("planned");
    row["to_lane"] = json!("claimed");
    row["evidence"] = json!({
        "review": {"reference": "r", "reviewer": "a", "verdict": "approved"},
        "verification": [{"detail": nested(126)}],
    });
    let line = to_string(&row, Style::Compact);
    std::fs::write(&log_path, format!("{text}{line}\n"))?;
    repo.git(&["commit", "--quiet", "-am", "spec kitty's deep row"])?;

    let board = data(&repo.run(["--json", "board", "--mission", &slug]).success())?;
    assert!(board.to_string().contains("claimed"), "{board}");
    // status.json as Spec Kitty would have materialized it, then checked against the log.
    repo.run(["--json", "status", "materialize", "--mission", &slug])
        .success();
    repo.run(["--json", "status", "validate", "--mission", &slug])
        .success();
    data(
        &repo
            .move_wp("WP01", "in_progress", &["--actor", "a"])
            .success(),
    )?;
    repo.run(["--json", "doctor", "--mission", &slug]).success();
    // The row is kept byte for byte.
    let after = std::fs::read_to_string(&log_path)?;
    assert!(after.contains(&format!("{line}\n")), "the deep row changed");
    Ok(())
}
