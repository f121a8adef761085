//! The mission's stored shape: [`MissionTopology`], the 2×2 classification and the legacy
//! derivation used by `migrate backfill-topology`.
//!
//! The topology is written once into `meta.json` (at create, or once by backfill) and read
//! from there ever after; resolve-time code never re-infers it. This module only holds the
//! pure pieces: the enum, [`MissionTopology::classify`] (the single 2×2 map), the read rule
//! for a mission whose `meta.json` lacks the field ([`read_topology`]) and the backfill
//! decision ([`decide_backfill`]). The facts those need from disk or git — whether
//! `lanes.json` is present and usable, whether the declared coordination branch still exists —
//! are gathered by the shell and passed in as values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::mission::meta::MissionMeta;

/// The mission's shape: one cell of the coordination × lanes grid.
///
/// | member | wire | coordination branch | lanes |
/// |---|---|---|---|
/// | [`SingleBranch`](Self::SingleBranch) | `single_branch` | no | no |
/// | [`Lanes`](Self::Lanes) | `lanes` | no | yes |
/// | [`Coord`](Self::Coord) | `coord` | yes | no |
/// | [`LanesWithCoord`](Self::LanesWithCoord) | `lanes_with_coord` | yes | yes |
///
/// "Flattened" is deliberately not a member: a mission whose coordination branch was dropped is
/// [`SingleBranch`](Self::SingleBranch) or [`Lanes`](Self::Lanes), with `flattened: true` in
/// `meta.json` as history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionTopology {
    /// One branch, no coordination branch, no lanes (a.k.a. "all on feature").
    SingleBranch,
    /// Lane worktrees, no coordination branch.
    Lanes,
    /// A coordination branch, no lanes.
    Coord,
    /// Lanes and a coordination branch.
    LanesWithCoord,
}

impl MissionTopology {
    /// Every topology, in grid order.
    pub const ALL: [MissionTopology; 4] = [
        MissionTopology::SingleBranch,
        MissionTopology::Lanes,
        MissionTopology::Coord,
        MissionTopology::LanesWithCoord,
    ];

    /// Returns the value stored in `meta.json`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MissionTopology::SingleBranch => "single_branch",
            MissionTopology::Lanes => "lanes",
            MissionTopology::Coord => "coord",
            MissionTopology::LanesWithCoord => "lanes_with_coord",
        }
    }

    /// Parses a stored value strictly: no trimming, no case folding.
    pub fn from_wire(value: &str) -> Option<MissionTopology> {
        MissionTopology::ALL
            .into_iter()
            .find(|topology| topology.as_str() == value)
    }

    /// Returns the cell for the two orthogonal signals.
    ///
    /// This is the single place the 2×2 grid is spelled out. `has_coordination_branch` is
    /// "meta.json declares a non-empty coordination branch"; `has_lanes` is "a usable
    /// `lanes.json` exists". It never returns a flattened value, because there is none.
    pub const fn classify(has_coordination_branch: bool, has_lanes: bool) -> MissionTopology {
        match (has_coordination_branch, has_lanes) {
            (false, false) => MissionTopology::SingleBranch,
            (false, true) => MissionTopology::Lanes,
            (true, false) => MissionTopology::Coord,
            (true, true) => MissionTopology::LanesWithCoord,
        }
    }

    /// Returns true for the two cells with a coordination branch.
    pub const fn has_coordination(self) -> bool {
        matches!(
            self,
            MissionTopology::Coord | MissionTopology::LanesWithCoord
        )
    }

    /// Returns true for the two cells with lanes.
    pub const fn has_lanes(self) -> bool {
        matches!(
            self,
            MissionTopology::Lanes | MissionTopology::LanesWithCoord
        )
    }

    /// Returns true when status and the other coordination artifacts of the mission route
    /// through its coordination branch.
    ///
    /// This is the only coordination-routing predicate: every routing decision reads the stored
    /// topology through it, never `coordination_branch` and never a worktree on disk.
    pub const fn routes_through_coordination(self) -> bool {
        self.has_coordination()
    }

    /// Returns the same cell without its coordination branch (the shape after a flatten).
    pub const fn without_coordination(self) -> MissionTopology {
        MissionTopology::classify(false, self.has_lanes())
    }
}

impl fmt::Display for MissionTopology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MissionTopology {
    type Err = UnknownTopology;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        MissionTopology::from_wire(value).ok_or_else(|| UnknownTopology(value.to_owned()))
    }
}

/// A topology name that is none of the four stored values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown topology: {0:?}")]
pub struct UnknownTopology(pub String);

impl UnknownTopology {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        "TOPOLOGY_UNKNOWN"
    }

    /// Returns a one-line suggestion for the user.
    pub fn hint(&self) -> String {
        "Use one of `single_branch`, `lanes`, `coord`, `lanes_with_coord`".to_owned()
    }
}

/// What the shell found at `kitty-specs/<dir>/lanes.json`: the lanes signal of the derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LanesJsonState {
    /// No `lanes.json`.
    Absent,
    /// A `lanes.json` that reads as a lanes manifest.
    Present,
    /// A `lanes.json` that exists but does not read: counts as no lanes (with a warning).
    Corrupt,
}

impl LanesJsonState {
    /// Returns the `has_lanes` signal of [`MissionTopology::classify`].
    pub const fn has_lanes(self) -> bool {
        matches!(self, LanesJsonState::Present)
    }
}

/// Returns the topology a legacy mission (one without a stored `topology`) has today.
///
/// The rule is Spec Kitty's backfill derivation: `classify(meta.coordination_branch or None,
/// lanes.json usable)`, where the coordination signal is the Python truthiness of the stored
/// `coordination_branch` value (absent, `null` and `""` count as none). The stored `topology`
/// is ignored here; see [`read_topology`].
pub fn derive_legacy_topology(meta: &MissionMeta, lanes_json: LanesJsonState) -> MissionTopology {
    MissionTopology::classify(meta.declares_coordination_branch(), lanes_json.has_lanes())
}

/// Returns the mission's topology as every reader must see it, without writing anything.
///
/// A valid stored `topology` wins, whatever the other fields or the disk say (the create-time
/// choice `lanes` is stored before any `lanes.json` exists, which is why the stored value beats
/// re-derivation). Without one — an un-backfilled legacy mission, a mission flattened by Spec
/// Kitty, or a stored value that is not one of the four — it is derived with
/// [`derive_legacy_topology`].
pub fn read_topology(meta: &MissionMeta, lanes_json: LanesJsonState) -> MissionTopology {
    meta.stored_topology()
        .unwrap_or_else(|| derive_legacy_topology(meta, lanes_json))
}

/// Returns the topology `mission create` stores when none is asked for.
///
/// Spec Kitty's rule: `coord` when the mission is PR-bound, or when the branch checked out is
/// the repository's primary branch, or when either branch is unknown; otherwise (a feature
/// branch, not PR-bound) `single_branch`.
pub fn default_create_topology(
    pr_bound: bool,
    current_branch: Option<&str>,
    primary_branch: Option<&str>,
) -> MissionTopology {
    match (current_branch, primary_branch) {
        _ if pr_bound => MissionTopology::Coord,
        (Some(current), Some(primary)) if current != primary => MissionTopology::SingleBranch,
        _ => MissionTopology::Coord,
    }
}

/// The facts `migrate backfill-topology` needs from disk and git for one mission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BackfillFacts {
    /// The state of the mission's `lanes.json`.
    pub lanes_json: LanesJsonState,
    /// Whether the declared coordination branch exists, by the branch-existence rule (present
    /// locally or on any remote; `true` when git could not tell). Only read when the derived
    /// topology routes through coordination, so the shell may skip the git probe otherwise.
    pub coordination_branch_exists: bool,
}

/// What `migrate backfill-topology` does with one mission whose `meta.json` was read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackfillDecision {
    /// A valid topology is already stored: skip, never overwrite.
    AlreadyStored(MissionTopology),
    /// Store the derived topology (and `flattened: false` if the key is absent).
    Write(MissionTopology),
    /// The derivation says the mission routes through coordination, but its declared
    /// coordination branch is gone from git: skip and suggest a flatten instead of guessing.
    SkipCoordinationBranchAbsent {
        /// The topology the derivation produced.
        derived: MissionTopology,
        /// The coordination branch `meta.json` declares.
        coordination_branch: String,
    },
}

impl BackfillDecision {
    /// Returns the report action: `wrote` or `skip`.
    pub const fn action(&self) -> &'static str {
        match self {
            BackfillDecision::Write(_) => "wrote",
            BackfillDecision::AlreadyStored(_)
            | BackfillDecision::SkipCoordinationBranchAbsent { .. } => "skip",
        }
    }

    /// Returns the topology reported for the mission (stored or derived).
    pub const fn topology(&self) -> MissionTopology {
        match self {
            BackfillDecision::AlreadyStored(topology) | BackfillDecision::Write(topology) => {
                *topology
            }
            BackfillDecision::SkipCoordinationBranchAbsent { derived, .. } => *derived,
        }
    }

    /// Returns the report reason of a skip, as Spec Kitty words it.
    pub const fn reason(&self) -> Option<&'static str> {
        match self {
            BackfillDecision::Write(_) => None,
            BackfillDecision::AlreadyStored(_) => Some("topology already present"),
            BackfillDecision::SkipCoordinationBranchAbsent { .. } => {
                Some("coordination_branch absent from git")
            }
        }
    }
}

/// Decides what `migrate backfill-topology` does with one readable `meta.json`.
///
/// A valid stored topology is never overwritten. Otherwise the topology is derived once with
/// [`derive_legacy_topology`]; a derivation that routes through coordination while the declared
/// branch is gone is skipped. Apply a [`BackfillDecision::Write`] with
/// [`MissionMeta::store_backfilled_topology`]. A second run over the result decides
/// [`BackfillDecision::AlreadyStored`].
pub fn decide_backfill(meta: &MissionMeta, facts: BackfillFacts) -> BackfillDecision {
    if let Some(stored) = meta.stored_topology() {
        return BackfillDecision::AlreadyStored(stored);
    }
    let derived = derive_legacy_topology(meta, facts.lanes_json);
    if derived.routes_through_coordination() && !facts.coordination_branch_exists {
        return BackfillDecision::SkipCoordinationBranchAbsent {
            derived,
            coordination_branch: meta.declared_coordination_branch_text(),
        };
    }
    BackfillDecision::Write(derived)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(value: serde_json::Value) -> MissionMeta {
        match value {
            serde_json::Value::Object(map) => MissionMeta::from_map(map),
            other => panic!("test meta must be an object, got {other}"),
        }
    }

    #[test]
    fn create_defaults_follow_the_branch() {
        let cases = [
            (
                true,
                Some("feature/x"),
                Some("main"),
                MissionTopology::Coord,
            ),
            (
                false,
                Some("feature/x"),
                Some("main"),
                MissionTopology::SingleBranch,
            ),
            (false, Some("main"), Some("main"), MissionTopology::Coord),
            (false, None, Some("main"), MissionTopology::Coord),
            (false, Some("feature/x"), None, MissionTopology::Coord),
        ];
        for (pr_bound, current, primary, expected) in cases {
            assert_eq!(
                default_create_topology(pr_bound, current, primary),
                expected,
                "{pr_bound} {current:?} {primary:?}"
            );
        }
    }

    #[test]
    fn wire_strings_round_trip() {
        let wires: Vec<_> = MissionTopology::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            wires,
            ["single_branch", "lanes", "coord", "lanes_with_coord"]
        );
        for topology in MissionTopology::ALL {
            assert_eq!(
                MissionTopology::from_wire(topology.as_str()),
                Some(topology)
            );
            assert_eq!(topology.as_str().parse(), Ok(topology));
            assert_eq!(topology.to_string(), topology.as_str());
            let encoded = serde_json::to_string(&topology).expect("serializes");
            assert_eq!(encoded, format!("\"{}\"", topology.as_str()));
        }
        for bad in ["flattened", "Coord", " coord", "", "all_on_feature"] {
            assert_eq!(MissionTopology::from_wire(bad), None);
        }
        let error = "flattened"
            .parse::<MissionTopology>()
            .expect_err("not a topology");
        assert_eq!(error.code(), "TOPOLOGY_UNKNOWN");
        assert_eq!(error.to_string(), "Unknown topology: \"flattened\"");
    }

    #[test]
    fn the_grid_is_orthogonal() {
        for coordination in [false, true] {
            for lanes in [false, true] {
                let topology = MissionTopology::classify(coordination, lanes);
                assert_eq!(topology.has_coordination(), coordination);
                assert_eq!(topology.has_lanes(), lanes);
                assert_eq!(topology.routes_through_coordination(), coordination);
                assert_eq!(
                    topology.without_coordination(),
                    MissionTopology::classify(false, lanes)
                );
            }
        }
    }

    #[test]
    fn corrupt_lanes_json_counts_as_no_lanes() {
        assert!(!LanesJsonState::Absent.has_lanes());
        assert!(LanesJsonState::Present.has_lanes());
        assert!(!LanesJsonState::Corrupt.has_lanes());
    }

    #[test]
    fn derivation_uses_python_truthiness_of_the_branch() {
        let cases = [
            (json!({}), MissionTopology::SingleBranch),
            (
                json!({"coordination_branch": null}),
                MissionTopology::SingleBranch,
            ),
            (
                json!({"coordination_branch": ""}),
                MissionTopology::SingleBranch,
            ),
            (
                json!({"coordination_branch": "kitty/mission-a-01KVTVZS"}),
                MissionTopology::Coord,
            ),
        ];
        for (value, expected) in cases {
            let meta = meta(value);
            assert_eq!(
                derive_legacy_topology(&meta, LanesJsonState::Absent),
                expected
            );
            assert_eq!(
                derive_legacy_topology(&meta, LanesJsonState::Present),
                MissionTopology::classify(expected.has_coordination(), true)
            );
        }
    }

    #[test]
    fn stored_topology_beats_derivation() {
        // Stored at create before lanes.json existed: the stored value is believed.
        let stored = meta(json!({"topology": "single_branch"}));
        assert_eq!(
            read_topology(&stored, LanesJsonState::Present),
            MissionTopology::SingleBranch
        );
        // Flattened by Spec Kitty (topology popped): derived, never coordination.
        let flattened = meta(json!({"flattened": true}));
        assert_eq!(
            read_topology(&flattened, LanesJsonState::Present),
            MissionTopology::Lanes
        );
        // An invalid stored value is derived over.
        let invalid = meta(json!({"topology": "flattened", "coordination_branch": "b"}));
        assert_eq!(
            read_topology(&invalid, LanesJsonState::Absent),
            MissionTopology::Coord
        );
        let non_string = meta(json!({"topology": 3}));
        assert_eq!(
            read_topology(&non_string, LanesJsonState::Absent),
            MissionTopology::SingleBranch
        );
    }

    #[test]
    fn backfill_never_overwrites_and_skips_deleted_branches() {
        let facts = BackfillFacts {
            lanes_json: LanesJsonState::Present,
            coordination_branch_exists: true,
        };
        let stored = meta(json!({"topology": "coord"}));
        let decision = decide_backfill(&stored, facts);
        assert_eq!(
            decision,
            BackfillDecision::AlreadyStored(MissionTopology::Coord)
        );
        assert_eq!(decision.action(), "skip");
        assert_eq!(decision.reason(), Some("topology already present"));

        let legacy = meta(json!({"flattened": true}));
        let decision = decide_backfill(&legacy, facts);
        assert_eq!(decision, BackfillDecision::Write(MissionTopology::Lanes));
        assert_eq!((decision.action(), decision.reason()), ("wrote", None));

        let coord = meta(json!({"coordination_branch": "kitty/mission-x-01KVTVZS"}));
        assert_eq!(
            decide_backfill(&coord, facts),
            BackfillDecision::Write(MissionTopology::LanesWithCoord)
        );
        let gone = BackfillFacts {
            lanes_json: LanesJsonState::Absent,
            coordination_branch_exists: false,
        };
        let decision = decide_backfill(&coord, gone);
        assert_eq!(
            decision,
            BackfillDecision::SkipCoordinationBranchAbsent {
                derived: MissionTopology::Coord,
                coordination_branch: "kitty/mission-x-01KVTVZS".to_owned(),
            }
        );
        assert_eq!(decision.topology(), MissionTopology::Coord);
        assert_eq!(
            decision.reason(),
            Some("coordination_branch absent from git")
        );
        // The branch fact is irrelevant for a coordination-less derivation.
        assert_eq!(
            decide_backfill(&legacy, gone),
            BackfillDecision::Write(MissionTopology::SingleBranch)
        );
    }

    #[test]
    fn backfill_is_idempotent() {
        let facts = BackfillFacts {
            lanes_json: LanesJsonState::Absent,
            coordination_branch_exists: true,
        };
        let mut legacy = meta(json!({"slug": "064-foo"}));
        let BackfillDecision::Write(topology) = decide_backfill(&legacy, facts) else {
            panic!("a legacy mission is written");
        };
        legacy.store_backfilled_topology(topology);
        assert_eq!(legacy.get("flattened"), Some(&json!(false)));
        assert_eq!(
            decide_backfill(&legacy, facts),
            BackfillDecision::AlreadyStored(MissionTopology::SingleBranch)
        );
    }
}
