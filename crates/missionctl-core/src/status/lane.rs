//! Lanes of the work-package kanban and their classification sets.

use std::fmt;
use std::str::FromStr;

/// A lane value as persisted in the event log and in `status.json`.
///
/// The wire strings are exactly the eleven values of Spec Kitty's lane enum. `genesis` and
/// `uninitialized` are never displayed nor counted; `done` and `canceled` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    /// The state of a work package before its first (seed) transition.
    Genesis,
    /// A read sentinel for a work package that only has annotations.
    Uninitialized,
    /// Ready to be claimed.
    Planned,
    /// Claimed by an agent, not yet started.
    Claimed,
    /// Being implemented.
    InProgress,
    /// Waiting for a reviewer.
    ForReview,
    /// Under review.
    InReview,
    /// Approved by review, not yet merged.
    Approved,
    /// Finished (terminal).
    Done,
    /// Blocked.
    Blocked,
    /// Canceled (terminal).
    Canceled,
}

/// A lane serializes as its wire string (`in_progress`).
impl serde::Serialize for Lane {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Lane {
    /// Every lane, in enum order.
    pub const ALL: [Lane; 11] = [
        Lane::Genesis,
        Lane::Uninitialized,
        Lane::Planned,
        Lane::Claimed,
        Lane::InProgress,
        Lane::ForReview,
        Lane::InReview,
        Lane::Approved,
        Lane::Done,
        Lane::Blocked,
        Lane::Canceled,
    ];

    /// The nine display ("canonical") lanes, in board order.
    pub const DISPLAY: [Lane; 9] = [
        Lane::Planned,
        Lane::Claimed,
        Lane::InProgress,
        Lane::ForReview,
        Lane::InReview,
        Lane::Approved,
        Lane::Done,
        Lane::Blocked,
        Lane::Canceled,
    ];

    /// Returns the wire string of the lane.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Genesis => "genesis",
            Lane::Uninitialized => "uninitialized",
            Lane::Planned => "planned",
            Lane::Claimed => "claimed",
            Lane::InProgress => "in_progress",
            Lane::ForReview => "for_review",
            Lane::InReview => "in_review",
            Lane::Approved => "approved",
            Lane::Done => "done",
            Lane::Blocked => "blocked",
            Lane::Canceled => "canceled",
        }
    }

    /// Parses a persisted lane strictly: no trimming, no case folding, no aliases.
    pub fn from_wire(value: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|lane| lane.as_str() == value)
    }

    /// Parses a lane typed by a user: trims, lower-cases, then applies the alias table
    /// (`doing` → `in_progress`).
    ///
    /// Returns the lane and whether an alias was used.
    pub fn from_input(value: &str) -> Result<(Lane, bool), UnknownLane> {
        let normalized = value.trim().to_lowercase();
        if normalized == "doing" {
            return Ok((Lane::InProgress, true));
        }
        Lane::from_wire(&normalized)
            .map(|lane| (lane, false))
            .ok_or_else(|| UnknownLane(value.to_owned()))
    }

    /// Returns true for the nine lanes shown on boards and counted in summaries.
    pub const fn is_display(self) -> bool {
        !matches!(self, Lane::Genesis | Lane::Uninitialized)
    }

    /// Returns true for `done` and `canceled`, which can only be left with force.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Lane::Done | Lane::Canceled)
    }

    /// Returns true for the lanes that affect a run (`planned` through `approved`).
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            Lane::Planned
                | Lane::Claimed
                | Lane::InProgress
                | Lane::ForReview
                | Lane::InReview
                | Lane::Approved
        )
    }

    /// Returns the weight of the lane in weighted progress (0.0 to 1.0).
    pub const fn progress_weight(self) -> f64 {
        match self {
            Lane::Claimed => 0.05,
            Lane::InProgress => 0.3,
            Lane::ForReview => 0.6,
            Lane::InReview => 0.7,
            Lane::Approved => 0.8,
            Lane::Done => 1.0,
            Lane::Genesis
            | Lane::Uninitialized
            | Lane::Planned
            | Lane::Blocked
            | Lane::Canceled => 0.0,
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lane {
    type Err = UnknownLane;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Lane::from_input(value).map(|(lane, _)| lane)
    }
}

/// A lane name that is neither a lane nor an alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown lane: {0}")]
pub struct UnknownLane(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip() {
        for lane in Lane::ALL {
            assert_eq!(Lane::from_wire(lane.as_str()), Some(lane));
        }
        assert_eq!(Lane::from_wire("doing"), None);
        assert_eq!(Lane::from_wire("Planned"), None);
    }

    #[test]
    fn input_normalizes_and_aliases() {
        assert_eq!(Lane::from_input(" Doing "), Ok((Lane::InProgress, true)));
        assert_eq!(Lane::from_input("FOR_REVIEW"), Ok((Lane::ForReview, false)));
        assert_eq!(
            Lane::from_input("nope"),
            Err(UnknownLane("nope".to_owned()))
        );
        assert_eq!(
            UnknownLane(" x ".to_owned()).to_string(),
            "Unknown lane:  x "
        );
    }

    #[test]
    fn classification_sets() {
        let display: Vec<_> = Lane::ALL.into_iter().filter(|l| l.is_display()).collect();
        assert_eq!(display, Lane::DISPLAY.to_vec());
        let terminal: Vec<_> = Lane::ALL.into_iter().filter(|l| l.is_terminal()).collect();
        assert_eq!(terminal, vec![Lane::Done, Lane::Canceled]);
        assert_eq!(Lane::ALL.into_iter().filter(|l| l.is_active()).count(), 6);
    }
}
