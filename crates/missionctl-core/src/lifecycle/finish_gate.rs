//! The gate between a mission's implemented work and its end: which of review, merge and
//! accept holds the mission back, and the missionctl command that clears it.
//!
//! `next` answers with Spec Kitty's decision (every work package approved → `accept`; every
//! one done → `done`); this gate is what missionctl adds to it so a user finishing a mission
//! is led review → merge → accept → done: work waiting for a reviewer, a review in progress, a
//! blocked work package, approved work not merged yet, merged work not accepted yet.

use serde::Serialize;

use crate::status::lane::Lane;

/// What holds a mission back from being done, and the command that clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishGate {
    /// `review`, `unblock`, `merge` or `accept`.
    pub gate: &'static str,
    /// The work package it is about, for `review` and `unblock`.
    pub wp_id: Option<String>,
    /// Why the mission waits.
    pub reason: String,
    /// The command that clears the gate.
    pub command: String,
}

/// Returns the gate that holds the mission back, or `None` while work packages are still
/// being implemented (the next step is an `implement`) and once the mission is accepted.
///
/// `work_packages` are `(id, lane)` in id order; `accepted` says whether `meta.json` records
/// an acceptance.
pub fn finish_gate(
    mission: &str,
    work_packages: &[(String, Lane)],
    accepted: bool,
) -> Option<FinishGate> {
    if work_packages.is_empty()
        || work_packages.iter().any(|(_, lane)| {
            matches!(
                lane,
                Lane::Planned
                    | Lane::Claimed
                    | Lane::InProgress
                    | Lane::Genesis
                    | Lane::Uninitialized
            )
        })
    {
        return None;
    }
    let first = |wanted: Lane| {
        work_packages
            .iter()
            .find(|(_, lane)| *lane == wanted)
            .map(|(id, _)| id.clone())
    };
    if let Some(wp) = first(Lane::ForReview) {
        return Some(FinishGate {
            gate: "review",
            reason: format!("{wp} waits for a reviewer"),
            command: format!("missionctl review start {wp} --mission {mission}"),
            wp_id: Some(wp),
        });
    }
    if let Some(wp) = first(Lane::InReview) {
        return Some(FinishGate {
            gate: "review",
            reason: format!("{wp} is in review: approve it, or reject it with feedback"),
            command: format!("missionctl review approve {wp} --mission {mission}"),
            wp_id: Some(wp),
        });
    }
    if let Some(wp) = first(Lane::Blocked) {
        return Some(FinishGate {
            gate: "unblock",
            reason: format!("{wp} is blocked"),
            command: format!("missionctl review unblock {wp} --mission {mission} --reason <why>"),
            wp_id: Some(wp),
        });
    }
    if first(Lane::Approved).is_some() {
        return Some(FinishGate {
            gate: "merge",
            wp_id: None,
            reason: "every work package is approved; the merge lands them on the target branch"
                .to_owned(),
            command: format!("missionctl merge --mission {mission}"),
        });
    }
    if accepted {
        return None;
    }
    Some(FinishGate {
        gate: "accept",
        wp_id: None,
        reason: "every work package is done; the acceptance is not recorded yet".to_owned(),
        command: format!("missionctl accept --mission {mission}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wps(lanes: &[Lane]) -> Vec<(String, Lane)> {
        lanes
            .iter()
            .enumerate()
            .map(|(index, lane)| (format!("WP0{}", index + 1), *lane))
            .collect()
    }

    #[test]
    fn the_gates_lead_through_review_merge_and_accept() {
        let gate = |lanes: &[Lane], accepted: bool| {
            finish_gate("m", &wps(lanes), accepted).map(|gate| (gate.gate, gate.command))
        };
        assert_eq!(gate(&[Lane::Approved, Lane::InProgress], false), None);
        assert_eq!(gate(&[], false), None);
        assert_eq!(
            gate(&[Lane::Approved, Lane::ForReview, Lane::InReview], false),
            Some((
                "review",
                "missionctl review start WP02 --mission m".to_owned()
            ))
        );
        assert_eq!(
            gate(&[Lane::Approved, Lane::InReview], false),
            Some((
                "review",
                "missionctl review approve WP02 --mission m".to_owned()
            ))
        );
        assert_eq!(
            gate(&[Lane::Blocked, Lane::Done], false),
            Some((
                "unblock",
                "missionctl review unblock WP01 --mission m --reason <why>".to_owned()
            ))
        );
        assert_eq!(
            gate(&[Lane::Approved, Lane::Done], false),
            Some(("merge", "missionctl merge --mission m".to_owned()))
        );
        assert_eq!(
            gate(&[Lane::Done, Lane::Canceled], false),
            Some(("accept", "missionctl accept --mission m".to_owned()))
        );
        assert_eq!(gate(&[Lane::Done, Lane::Done], true), None);
    }
}
