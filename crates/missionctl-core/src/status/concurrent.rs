//! Concurrent transitions: pairs of transitions of one work package that were written without
//! one seeing the other, and which of the two the reducer let win.
//!
//! Each transition records the lane its writer believed the work package was in
//! (`from_lane`). When two clones move the same work package before they sync, both rows start
//! from the same lane; once the logs are merged, the reducer sorts them by `(at, event_id)` and
//! folds them in that order, so the second one applied is written from a lane the work package
//! is no longer in. [`concurrent_transitions`] finds every such row while folding exactly as
//! the reducer does ([`crate::status::reducer`]), and names the pair: the transition that set the lane
//! the row did not see, the row itself, the one whose lane the fold kept, and why.
//!
//! Nothing here changes a snapshot: the reducer's order decides, deterministically, on every
//! clone. This module only lets a human see what was decided. The same mismatch is left by
//! writers that did not hold the status lock (Spec Kitty's history has such rows), so the pair
//! is reported for any log, whatever produced it.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::status::event::StatusEvent;
use crate::status::event_log::EventLog;
use crate::status::lane::Lane;

/// Why one transition of a [`ConcurrentPair`] decided the lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WinReason {
    /// The later transition's `at` is later: the reducer folds it last.
    LaterAt,
    /// Both have the same `at`; the later one's `event_id` sorts after the other's.
    SameAtLaterEventId,
    /// Both have the same `at` and the earlier one is a rollback (back to `in_progress` from
    /// review): a forward move at the same instant never beats a rollback.
    RollbackPrecedence,
}

impl WinReason {
    /// Returns the reason in words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            WinReason::LaterAt => {
                "its `at` is later, and the reducer applies transitions in `(at, event_id)` order"
            }
            WinReason::SameAtLaterEventId => {
                "both have the same `at`, and its `event_id` sorts last"
            }
            WinReason::RollbackPrecedence => {
                "both have the same `at`, and a forward move never beats a rollback made at the same instant"
            }
        }
    }
}

/// One transition of a [`ConcurrentPair`], as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairRow {
    /// The row's `event_id`.
    pub event_id: String,
    /// Its `at`, as written.
    pub at: String,
    /// Its actor, projected as `status.json` shows actors.
    pub actor: String,
    /// The lane its writer saw.
    pub from_lane: Lane,
    /// The lane it moves to.
    pub to_lane: Lane,
    /// Whether it was forced.
    pub force: bool,
}

impl PairRow {
    fn of(event: &StatusEvent) -> PairRow {
        PairRow {
            event_id: event.event_id.clone(),
            at: event.at.clone(),
            actor: event.actor.projected().to_owned(),
            from_lane: event.from_lane,
            to_lane: event.to_lane,
            force: event.force,
        }
    }
}

/// Two transitions of one work package written without one seeing the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConcurrentPair {
    /// The work package.
    pub wp_id: String,
    /// The transition that set the lane `later` did not see (first in the reducer's order).
    pub earlier: PairRow,
    /// The transition written from another lane than the one `earlier` left the work package
    /// in.
    pub later: PairRow,
    /// The `event_id` of the transition whose lane the reducer kept (one of the two).
    pub winner: String,
    /// Why it won.
    pub reason: WinReason,
}

impl ConcurrentPair {
    /// Returns the pair in one sentence, for people.
    pub fn describe(&self) -> String {
        let row = |row: &PairRow| {
            format!(
                "{} ({} -> {} by {} at {})",
                row.event_id,
                row.from_lane.as_str(),
                row.to_lane.as_str(),
                row.actor,
                row.at
            )
        };
        format!(
            "{}: {} and {} were made without seeing each other; {} won: {}",
            self.wp_id,
            row(&self.earlier),
            row(&self.later),
            self.winner,
            self.reason.describe()
        )
    }
}

/// Returns every concurrent pair of a log, in the reducer's order of their later row.
///
/// Transitions are deduplicated by `event_id` (the first row wins) and sorted by `(at,
/// event_id)`; each work package's lane is folded as the reducer folds it, a forward move at the
/// same `at` as a rollback being skipped. A transition whose `from_lane` is not the lane the
/// fold holds for its work package makes a pair with the transition that set that lane. The
/// first transition of a work package is never paired: nothing came before it.
pub fn concurrent_transitions(log: &EventLog) -> Vec<ConcurrentPair> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut transitions: Vec<&StatusEvent> = log
        .transitions()
        .filter(|event| seen.insert(event.event_id.as_str()))
        .collect();
    transitions.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });
    let mut last: HashMap<&str, &StatusEvent> = HashMap::new();
    let mut pairs = Vec::new();
    for event in transitions {
        let Some(current) = last.get(event.wp_id.as_str()).copied() else {
            last.insert(event.wp_id.as_str(), event);
            continue;
        };
        let skipped = current.is_rollback() && !event.is_rollback() && current.at == event.at;
        if event.from_lane != current.to_lane {
            let (winner, reason) = if skipped {
                (current, WinReason::RollbackPrecedence)
            } else if event.at != current.at {
                (event, WinReason::LaterAt)
            } else {
                (event, WinReason::SameAtLaterEventId)
            };
            pairs.push(ConcurrentPair {
                wp_id: event.wp_id.clone(),
                earlier: PairRow::of(current),
                later: PairRow::of(event),
                winner: winner.event_id.clone(),
                reason,
            });
        }
        if !skipped {
            last.insert(event.wp_id.as_str(), event);
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::event_log::parse;

    fn row(id: &str, wp: &str, from: &str, to: &str, at: &str, actor: &str) -> String {
        format!(
            "{{\"actor\": \"{actor}\", \"at\": \"{at}\", \"event_id\": \"{id}\", \"evidence\": null, \
             \"execution_mode\": \"direct_repo\", \"force\": false, \"from_lane\": \"{from}\", \
             \"mission_slug\": \"m\", \"policy_metadata\": null, \"reason\": null, \
             \"review_ref\": null, \"to_lane\": \"{to}\", \"wp_id\": \"{wp}\"}}\n"
        )
    }

    fn log(rows: &[String]) -> EventLog {
        let log = parse(rows.concat().as_bytes());
        assert!(log.errors.is_empty(), "{:?}", log.errors);
        log
    }

    const T1: &str = "2026-01-01T00:00:01+00:00";
    const T2: &str = "2026-01-01T00:00:02+00:00";
    const T3: &str = "2026-01-01T00:00:03+00:00";

    #[test]
    fn a_chain_of_transitions_has_no_pair() {
        let log = log(&[
            row("01A", "WP01", "genesis", "planned", T1, "seed"),
            row("01B", "WP01", "planned", "claimed", T2, "alice"),
            row("01C", "WP01", "claimed", "in_progress", T3, "alice"),
            row("01D", "WP02", "genesis", "planned", T1, "seed"),
        ]);
        assert!(concurrent_transitions(&log).is_empty());
    }

    #[test]
    fn two_claims_from_the_same_lane_are_a_pair_won_by_the_later_one() {
        // Bob's row is first in the file: the pair is ordered by the reducer, not the file.
        let log = log(&[
            row("01C", "WP01", "planned", "claimed", T3, "bob"),
            row("01A", "WP01", "genesis", "planned", T1, "seed"),
            row("01B", "WP01", "planned", "claimed", T2, "alice"),
        ]);
        let pairs = concurrent_transitions(&log);
        assert_eq!(pairs.len(), 1);
        let pair = &pairs[0];
        assert_eq!(pair.wp_id, "WP01");
        assert_eq!(pair.earlier.event_id, "01B");
        assert_eq!(pair.earlier.actor, "alice");
        assert_eq!(pair.later.event_id, "01C");
        assert_eq!(pair.winner, "01C");
        assert_eq!(pair.reason, WinReason::LaterAt);
        assert!(pair.describe().contains("01C won: its `at` is later"));
    }

    #[test]
    fn the_same_at_is_decided_by_the_event_id() {
        let log = log(&[
            row("01A", "WP01", "genesis", "planned", T1, "seed"),
            row("01Z", "WP01", "planned", "blocked", T2, "bob"),
            row("01B", "WP01", "planned", "claimed", T2, "alice"),
        ]);
        let pairs = concurrent_transitions(&log);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].earlier.event_id, "01B");
        assert_eq!(pairs[0].winner, "01Z");
        assert_eq!(pairs[0].reason, WinReason::SameAtLaterEventId);
    }

    #[test]
    fn a_rollback_at_the_same_at_beats_a_forward_move() {
        let log = log(&[
            row("01A", "WP01", "genesis", "planned", T1, "seed"),
            row("01B", "WP01", "planned", "in_review", T1, "x"),
            row("01C", "WP01", "in_review", "in_progress", T2, "reviewer"),
            row("01D", "WP01", "in_review", "approved", T2, "other"),
        ]);
        let pairs = concurrent_transitions(&log);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        let rollback = &pairs[0];
        assert_eq!(rollback.earlier.event_id, "01C");
        assert_eq!(rollback.later.event_id, "01D");
        assert_eq!(rollback.winner, "01C");
        assert_eq!(rollback.reason, WinReason::RollbackPrecedence);
        // The reducer agrees: the rollback's lane stands.
        let snapshot = crate::status::reducer::reduce(&log);
        assert_eq!(snapshot.work_packages["WP01"].lane, Lane::InProgress);
    }

    #[test]
    fn a_duplicated_row_is_not_a_pair() {
        let claim = row("01B", "WP01", "planned", "claimed", T2, "alice");
        let log = log(&[
            row("01A", "WP01", "genesis", "planned", T1, "seed"),
            claim.clone(),
            claim,
        ]);
        assert!(concurrent_transitions(&log).is_empty());
    }
}
