//! The pure transition validator: the structural edge table, the per-edge guards and the
//! force gate of Spec Kitty's work-package state machine.
//!
//! [`validate_transition`] decides whether a work package may move from one [`Lane`] to
//! another given a [`GuardContext`]. Refusals are [`TransitionRefusal`] values whose
//! `Display` is exactly Spec Kitty's message, so logs, tests and users see the same text.
//!
//! Lane strings typed by users are resolved with [`Lane::from_input`] before they get here;
//! [`is_alias_collapse`] tells the emit pipeline when such an input is a silent no-op.

use serde::{Deserialize, Serialize};

use crate::status::lane::Lane;

/// The number of structural edges (27 between display lanes plus 2 out of `genesis`).
pub const EDGE_COUNT: usize = 29;

/// The verdict string that review evidence and review results must carry to approve.
pub const APPROVED_VERDICT: &str = "approved";

/// Returns the lanes reachable from `from` without force, in the reference table's order.
///
/// `done`, `canceled` and `uninitialized` have no outgoing edges.
pub const fn allowed_targets(from: Lane) -> &'static [Lane] {
    match from {
        Lane::Genesis => &[Lane::Planned, Lane::Canceled],
        Lane::Planned => &[Lane::Claimed, Lane::Blocked, Lane::Canceled],
        Lane::Claimed => &[Lane::InProgress, Lane::Blocked, Lane::Canceled],
        Lane::InProgress => &[
            Lane::ForReview,
            Lane::Approved,
            Lane::Planned,
            Lane::Blocked,
            Lane::Canceled,
        ],
        Lane::ForReview => &[Lane::InReview, Lane::Blocked, Lane::Canceled],
        Lane::InReview => &[
            Lane::Approved,
            Lane::Done,
            Lane::InProgress,
            Lane::Planned,
            Lane::Blocked,
            Lane::Canceled,
        ],
        Lane::Approved => &[
            Lane::Done,
            Lane::InProgress,
            Lane::Planned,
            Lane::Blocked,
            Lane::Canceled,
        ],
        Lane::Blocked => &[Lane::InProgress, Lane::Canceled],
        Lane::Done | Lane::Canceled | Lane::Uninitialized => &[],
    }
}

/// Returns true when `from → to` is one of the 29 structural edges.
///
/// Self-transitions are never edges; they need force.
pub fn is_edge(from: Lane, to: Lane) -> bool {
    allowed_targets(from).contains(&to)
}

/// Returns every structural edge as `(from, to)`, grouped by source in [`Lane::ALL`] order.
pub fn edges() -> impl Iterator<Item = (Lane, Lane)> {
    Lane::ALL
        .into_iter()
        .flat_map(|from| allowed_targets(from).iter().map(move |&to| (from, to)))
}

/// Returns true when a lane typed by a user is a legacy alias that resolves to the current
/// lane, which makes the emit a silent no-op (nothing validated, nothing written).
///
/// Example: a work package in `in_progress` asked to move `--to doing`. An unknown lane or a
/// non-alias spelling (even of the current lane) is not a collapse.
pub fn is_alias_collapse(raw_input: &str, current: Lane) -> bool {
    matches!(Lane::from_input(raw_input), Ok((lane, true)) if lane == current)
}

/// The reviewer's approval inside [`DoneEvidence`] (`evidence.review` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewApproval {
    /// Who reviewed.
    pub reviewer: String,
    /// The review verdict, `approved` or `changes_requested` by convention.
    pub verdict: String,
    /// Where the approval lives (PR, review file, `lane-approved:WPxx`, ...).
    pub reference: String,
}

/// Evidence attached to a transition into `approved` or `done` (`evidence` on the wire).
///
/// `repos` and `verification` are carried opaquely; no guard reads them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoneEvidence {
    /// The reviewer approval the guards check.
    pub review: ReviewApproval,
    /// Repository evidence (`{"repo","branch","commit","files_touched"?}` objects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<serde_json::Value>,
    /// Verification runs (`{"command","result","summary"}` objects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification: Vec<serde_json::Value>,
}

/// The structured outcome of a review, required to leave `in_review` (`review_result` on
/// the wire).
///
/// The validator does not check the verdict vocabulary except where approval is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewResult {
    /// Who reviewed.
    pub reviewer: String,
    /// The review verdict, `approved` or `changes_requested` by convention.
    pub verdict: String,
    /// Where the review lives.
    pub reference: String,
    /// Path of the feedback file, when one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_path: Option<String>,
}

/// The inputs the guards and the force gate read.
///
/// "Non-empty" string inputs are present and not blank after trimming. Tri-state inputs
/// (`Option<bool>`) pass only when exactly `Some(true)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuardContext {
    /// The projected string identity of whoever requests the transition.
    pub actor: Option<String>,
    /// The workspace the work happens in (`<execution_mode>:<path>` by default).
    pub workspace_context: Option<String>,
    /// Whether every subtask of the roster is `done`.
    pub subtasks_complete: Option<bool>,
    /// Whether the work package has implementation evidence.
    pub implementation_evidence_present: Option<bool>,
    /// Why the transition happens.
    pub reason: Option<String>,
    /// A reference to review feedback.
    pub review_ref: Option<String>,
    /// Reviewer-approval evidence for `approved`/`done`.
    pub evidence: Option<DoneEvidence>,
    /// Whether to bypass edges and guards (requires actor and reason).
    pub force: bool,
    /// The structured review outcome, required to leave `in_review`.
    pub review_result: Option<ReviewResult>,
}

/// A required field of [`ReviewResult`] that was blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewResultField {
    /// `review_result.reviewer`.
    Reviewer,
    /// `review_result.verdict`.
    Verdict,
    /// `review_result.reference`.
    Reference,
}

impl ReviewResultField {
    /// Returns the field's wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReviewResultField::Reviewer => "reviewer",
            ReviewResultField::Verdict => "verdict",
            ReviewResultField::Reference => "reference",
        }
    }
}

impl std::fmt::Display for ReviewResultField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transition was refused.
///
/// `Display` is exactly Spec Kitty's refusal message; [`TransitionRefusal::code`] is a
/// stable machine-readable code and [`TransitionRefusal::hint`] tells the user what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionRefusal {
    /// The pair is not a structural edge and force was not given, or the target is
    /// `genesis` (refused even with force).
    #[error("Illegal transition: {from} -> {to}")]
    IllegalTransition {
        /// The current lane.
        from: Lane,
        /// The requested lane.
        to: Lane,
    },
    /// Force was given without a non-empty actor and a non-empty reason.
    #[error("Force transitions require actor and reason")]
    ForceRequiresActorAndReason,
    /// `planned → claimed` or `for_review → in_review` without an actor.
    #[error("Transition requires actor identity")]
    ActorRequired,
    /// `claimed → in_progress` without a workspace context.
    #[error("Transition claimed -> in_progress requires workspace context")]
    WorkspaceContextRequired,
    /// `in_progress → for_review` while subtasks are not known to be complete.
    #[error(
        "Transition in_progress -> for_review requires completed subtasks or force with reason"
    )]
    SubtasksIncomplete,
    /// `in_progress → for_review` without implementation evidence.
    #[error(
        "Transition in_progress -> for_review requires implementation evidence or force with reason"
    )]
    ImplementationEvidenceRequired,
    /// A transition out of `in_review` without a review result.
    #[error("Transition from in_review requires review_result (structured review outcome)")]
    ReviewResultRequired,
    /// A transition out of `in_review` whose review result has a blank required field.
    #[error("Transition from in_review requires review_result with {field}")]
    ReviewResultIncomplete {
        /// The first blank field, checked in the order reviewer, verdict, reference.
        field: ReviewResultField,
    },
    /// A transition into `approved` or `done` without approving reviewer evidence.
    #[error(
        "Transition to approved/done requires evidence (reviewer identity and approval reference)"
    )]
    ApprovalEvidenceRequired,
    /// `approved → in_progress` or `approved → planned` without a review reference.
    #[error("Transition requires review_ref (review feedback reference)")]
    ReviewRefRequired,
    /// A transition out of `in_review` whose `review_ref` differs from the review result's
    /// reference.
    #[error("review_ref must match review_result.reference")]
    ReviewRefMismatch,
    /// A transition out of `in_review` whose evidence disagrees with the review result.
    #[error("Review evidence must match review_result")]
    ReviewEvidenceMismatch,
    /// `in_progress → planned` without a reason.
    #[error("Transition in_progress -> planned requires reason")]
    ReasonRequired,
    /// A forced transition into `uninitialized`.
    ///
    /// Deliberate divergence from Spec Kitty (reference §9.14): its state machine only
    /// special-cases `genesis`, so force with actor and reason can move a work package into
    /// the `uninitialized` read sentinel. missionctl refuses it. The message is the one
    /// Spec Kitty gives the same pair without force.
    #[error("Illegal transition: {from} -> uninitialized")]
    UninitializedTarget {
        /// The current lane.
        from: Lane,
    },
}

impl TransitionRefusal {
    /// Returns a stable upper-snake-case code for the refusal kind.
    pub const fn code(&self) -> &'static str {
        match self {
            TransitionRefusal::IllegalTransition { .. } => "ILLEGAL_TRANSITION",
            TransitionRefusal::ForceRequiresActorAndReason => "FORCE_REQUIRES_ACTOR_AND_REASON",
            TransitionRefusal::ActorRequired => "ACTOR_REQUIRED",
            TransitionRefusal::WorkspaceContextRequired => "WORKSPACE_CONTEXT_REQUIRED",
            TransitionRefusal::SubtasksIncomplete => "SUBTASKS_INCOMPLETE",
            TransitionRefusal::ImplementationEvidenceRequired => "IMPLEMENTATION_EVIDENCE_REQUIRED",
            TransitionRefusal::ReviewResultRequired => "REVIEW_RESULT_REQUIRED",
            TransitionRefusal::ReviewResultIncomplete { .. } => "REVIEW_RESULT_INCOMPLETE",
            TransitionRefusal::ApprovalEvidenceRequired => "APPROVAL_EVIDENCE_REQUIRED",
            TransitionRefusal::ReviewRefRequired => "REVIEW_REF_REQUIRED",
            TransitionRefusal::ReviewRefMismatch => "REVIEW_REF_MISMATCH",
            TransitionRefusal::ReviewEvidenceMismatch => "REVIEW_EVIDENCE_MISMATCH",
            TransitionRefusal::ReasonRequired => "REASON_REQUIRED",
            TransitionRefusal::UninitializedTarget { .. } => "UNINITIALIZED_TARGET",
        }
    }

    /// Returns an actionable hint naming the `move` flags that would satisfy the guard.
    pub fn hint(&self) -> String {
        const FORCE: &str = "`--force --actor A --reason R`";
        match self {
            TransitionRefusal::IllegalTransition {
                to: Lane::Genesis, ..
            } => "No lane moves back to `genesis`, not even with force".to_owned(),
            TransitionRefusal::IllegalTransition { from, .. } => {
                let targets = allowed_targets(*from);
                if targets.is_empty() {
                    format!("`{from}` has no outgoing transitions; override with {FORCE}")
                } else {
                    let list = targets
                        .iter()
                        .map(|lane| format!("`{lane}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("From `{from}` move to {list}, or override with {FORCE}")
                }
            }
            TransitionRefusal::ForceRequiresActorAndReason => {
                format!("Give both a non-blank actor and reason with force: {FORCE}")
            }
            TransitionRefusal::ActorRequired => {
                "Identify who makes the move with `--actor A`".to_owned()
            }
            TransitionRefusal::WorkspaceContextRequired => {
                format!("Move from the work package's workspace, or override with {FORCE}")
            }
            TransitionRefusal::SubtasksIncomplete => {
                format!("Mark every subtask `done` first, or override with {FORCE}")
            }
            TransitionRefusal::ImplementationEvidenceRequired => {
                format!("Record implementation work first, or override with {FORCE}")
            }
            TransitionRefusal::ReviewResultRequired
            | TransitionRefusal::ReviewResultIncomplete { .. } => {
                "Pass the review outcome with `--review-result-json F` \
                 (non-blank reviewer, verdict and reference)"
                    .to_owned()
            }
            TransitionRefusal::ApprovalEvidenceRequired => {
                "Pass `--evidence-json F` with a non-blank `review.reviewer` and \
                 `review.reference` and `review.verdict` set to `approved`; out of `in_review`, \
                 an approving `--review-result-json F` alone is enough"
                    .to_owned()
            }
            TransitionRefusal::ReviewRefRequired => {
                "Point at the review feedback with `--review-ref R`".to_owned()
            }
            TransitionRefusal::ReviewRefMismatch => {
                "Drop `--review-ref R` or make it equal the `reference` of \
                 `--review-result-json F`"
                    .to_owned()
            }
            TransitionRefusal::ReviewEvidenceMismatch => {
                "Make reviewer, verdict and reference in `--evidence-json F` equal those in \
                 `--review-result-json F`"
                    .to_owned()
            }
            TransitionRefusal::ReasonRequired => "Say why with `--reason R`".to_owned(),
            TransitionRefusal::UninitializedTarget { .. } => {
                "`uninitialized` is a read sentinel, not a lane to move to; pick a display lane"
                    .to_owned()
            }
        }
    }
}

/// Checks whether a work package may move from `from` to `to`.
///
/// The order is Spec Kitty's: a `genesis` target is always illegal; with force only the
/// force gate runs (non-blank actor and reason), which then permits any pair, including
/// self-transitions and exits from terminal lanes; without force the pair must be a
/// structural edge and pass that edge's guard. Forced moves into `uninitialized` are refused
/// as [`TransitionRefusal::UninitializedTarget`] (a deliberate divergence).
pub fn validate_transition(
    from: Lane,
    to: Lane,
    ctx: &GuardContext,
) -> Result<(), TransitionRefusal> {
    if to == Lane::Genesis {
        return Err(TransitionRefusal::IllegalTransition { from, to });
    }
    if ctx.force {
        if !is_non_empty(ctx.actor.as_deref()) || !is_non_empty(ctx.reason.as_deref()) {
            return Err(TransitionRefusal::ForceRequiresActorAndReason);
        }
        if to == Lane::Uninitialized {
            return Err(TransitionRefusal::UninitializedTarget { from });
        }
        return Ok(());
    }
    if !is_edge(from, to) {
        return Err(TransitionRefusal::IllegalTransition { from, to });
    }
    check_edge_guard(from, to, ctx)
}

/// Runs the guard of a structural edge (non-forced path); unlisted edges are unguarded.
fn check_edge_guard(from: Lane, to: Lane, ctx: &GuardContext) -> Result<(), TransitionRefusal> {
    match (from, to) {
        (Lane::Planned, Lane::Claimed) | (Lane::ForReview, Lane::InReview) => {
            // for_review → in_review also has a review-conflict check upstream, but it is
            // allow-only and never refuses.
            require(
                is_non_empty(ctx.actor.as_deref()),
                TransitionRefusal::ActorRequired,
            )
        }
        (Lane::Claimed, Lane::InProgress) => require(
            is_non_empty(ctx.workspace_context.as_deref()),
            TransitionRefusal::WorkspaceContextRequired,
        ),
        (Lane::InProgress, Lane::ForReview) => {
            require(
                ctx.subtasks_complete == Some(true),
                TransitionRefusal::SubtasksIncomplete,
            )?;
            require(
                ctx.implementation_evidence_present == Some(true),
                TransitionRefusal::ImplementationEvidenceRequired,
            )
        }
        (Lane::InProgress, Lane::Approved) | (Lane::Approved, Lane::Done) => {
            check_reviewer_approval(ctx.evidence.as_ref())
        }
        (Lane::InProgress, Lane::Planned) => require(
            is_non_empty(ctx.reason.as_deref()),
            TransitionRefusal::ReasonRequired,
        ),
        (Lane::InReview, _) => check_in_review_exit(to, ctx),
        (Lane::Approved, Lane::InProgress | Lane::Planned) => require(
            is_non_empty(ctx.review_ref.as_deref()),
            TransitionRefusal::ReviewRefRequired,
        ),
        _ => Ok(()),
    }
}

/// Runs checks (R), (B) for approval targets, and (C) on an exit from `in_review`.
fn check_in_review_exit(to: Lane, ctx: &GuardContext) -> Result<(), TransitionRefusal> {
    // Check (R): a complete review result.
    let review_result = ctx
        .review_result
        .as_ref()
        .ok_or(TransitionRefusal::ReviewResultRequired)?;
    for (field, value) in [
        (ReviewResultField::Reviewer, &review_result.reviewer),
        (ReviewResultField::Verdict, &review_result.verdict),
        (ReviewResultField::Reference, &review_result.reference),
    ] {
        require(
            is_non_empty(Some(value)),
            TransitionRefusal::ReviewResultIncomplete { field },
        )?;
    }

    // Check (B): approval targets need approving evidence, or else an approving result.
    if matches!(to, Lane::Approved | Lane::Done) {
        match &ctx.evidence {
            Some(evidence) => check_reviewer_approval(Some(evidence))?,
            // Spec Kitty tests plain truthiness here, not blankness; (R) already refused
            // blank reviewer and reference, so only the verdict can still fail.
            None => require(
                !review_result.reviewer.is_empty()
                    && review_result.verdict == APPROVED_VERDICT
                    && !review_result.reference.is_empty(),
                TransitionRefusal::ApprovalEvidenceRequired,
            )?,
        }
    }

    // Check (C): the legacy review_ref and the evidence must agree with the result. An
    // empty review_ref is "given" and must match too.
    if let Some(review_ref) = &ctx.review_ref {
        require(
            *review_ref == review_result.reference,
            TransitionRefusal::ReviewRefMismatch,
        )?;
    }
    if let Some(evidence) = &ctx.evidence {
        let review = &evidence.review;
        require(
            review.reviewer == review_result.reviewer
                && review.verdict == review_result.verdict
                && review.reference == review_result.reference,
            TransitionRefusal::ReviewEvidenceMismatch,
        )?;
    }
    Ok(())
}

/// Runs check (A): evidence with a non-blank reviewer and reference and verdict `approved`.
fn check_reviewer_approval(evidence: Option<&DoneEvidence>) -> Result<(), TransitionRefusal> {
    let approved = evidence.is_some_and(|evidence| {
        let review = &evidence.review;
        is_non_empty(Some(&review.reviewer))
            && is_non_empty(Some(&review.reference))
            && review.verdict == APPROVED_VERDICT
    });
    require(approved, TransitionRefusal::ApprovalEvidenceRequired)
}

/// Returns `Ok(())` when `condition` holds, else the refusal.
fn require(condition: bool, refusal: TransitionRefusal) -> Result<(), TransitionRefusal> {
    if condition { Ok(()) } else { Err(refusal) }
}

/// Returns true when the value is present and not blank after trimming.
fn is_non_empty(value: Option<&str>) -> bool {
    value.is_some_and(|value| !value.chars().all(is_python_whitespace))
}

/// Returns true for the characters Python's `str.strip()` removes.
///
/// Python's `str.isspace` also counts the separators U+001C..U+001F, which Rust's
/// `char::is_whitespace` does not; matching it keeps "blank" identical to Spec Kitty's.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The 29 edges of the reference table, written out as wire strings.
    const EDGE_TABLE: [(&str, &str); 29] = [
        ("genesis", "planned"),
        ("genesis", "canceled"),
        ("planned", "claimed"),
        ("planned", "blocked"),
        ("planned", "canceled"),
        ("claimed", "in_progress"),
        ("claimed", "blocked"),
        ("claimed", "canceled"),
        ("in_progress", "for_review"),
        ("in_progress", "approved"),
        ("in_progress", "planned"),
        ("in_progress", "blocked"),
        ("in_progress", "canceled"),
        ("for_review", "in_review"),
        ("for_review", "blocked"),
        ("for_review", "canceled"),
        ("in_review", "approved"),
        ("in_review", "done"),
        ("in_review", "in_progress"),
        ("in_review", "planned"),
        ("in_review", "blocked"),
        ("in_review", "canceled"),
        ("approved", "done"),
        ("approved", "in_progress"),
        ("approved", "planned"),
        ("approved", "blocked"),
        ("approved", "canceled"),
        ("blocked", "in_progress"),
        ("blocked", "canceled"),
    ];

    fn table_has(from: Lane, to: Lane) -> bool {
        EDGE_TABLE.contains(&(from.as_str(), to.as_str()))
    }

    fn s(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    fn result(reviewer: &str, verdict: &str, reference: &str) -> ReviewResult {
        ReviewResult {
            reviewer: reviewer.to_owned(),
            verdict: verdict.to_owned(),
            reference: reference.to_owned(),
            feedback_path: None,
        }
    }

    fn evidence(reviewer: &str, verdict: &str, reference: &str) -> DoneEvidence {
        DoneEvidence {
            review: ReviewApproval {
                reviewer: reviewer.to_owned(),
                verdict: verdict.to_owned(),
                reference: reference.to_owned(),
            },
            repos: Vec::new(),
            verification: Vec::new(),
        }
    }

    /// A context that satisfies every guard of every edge.
    fn satisfying() -> GuardContext {
        GuardContext {
            actor: s("alice"),
            workspace_context: s("worktree:/repo"),
            subtasks_complete: Some(true),
            implementation_evidence_present: Some(true),
            reason: s("because"),
            review_ref: s("PR#1"),
            evidence: Some(evidence("bob", "approved", "PR#1")),
            force: false,
            review_result: Some(result("bob", "approved", "PR#1")),
        }
    }

    fn forced(actor: Option<&str>, reason: Option<&str>) -> GuardContext {
        GuardContext {
            actor: actor.map(str::to_owned),
            reason: reason.map(str::to_owned),
            force: true,
            ..GuardContext::default()
        }
    }

    fn message(from: Lane, to: Lane, ctx: &GuardContext) -> Option<String> {
        validate_transition(from, to, ctx)
            .err()
            .map(|refusal| refusal.to_string())
    }

    #[test]
    fn edge_table_matches_reference() {
        assert_eq!(edges().count(), EDGE_COUNT);
        assert_eq!(EDGE_TABLE.len(), EDGE_COUNT);
        for from in Lane::ALL {
            for to in Lane::ALL {
                assert_eq!(is_edge(from, to), table_has(from, to), "{from} -> {to}");
            }
            for (index, to) in allowed_targets(from).iter().enumerate() {
                assert!(
                    !allowed_targets(from)[..index].contains(to),
                    "duplicate {to}"
                );
            }
        }
        assert!(edges().all(|(from, to)| table_has(from, to)));
    }

    #[test]
    fn all_pairs_without_force_follow_the_edge_table() {
        for ctx in [satisfying(), GuardContext::default()] {
            for from in Lane::ALL {
                for to in Lane::ALL {
                    let outcome = message(from, to, &ctx);
                    if !table_has(from, to) {
                        assert_eq!(
                            outcome,
                            Some(format!("Illegal transition: {from} -> {to}")),
                            "{from} -> {to}"
                        );
                    } else if ctx == satisfying() {
                        assert_eq!(outcome, None, "{from} -> {to}");
                    }
                }
            }
        }
    }

    #[test]
    fn unguarded_edges_pass_with_an_empty_context() {
        let unguarded = [
            ("genesis", "planned"),
            ("genesis", "canceled"),
            ("planned", "blocked"),
            ("planned", "canceled"),
            ("claimed", "blocked"),
            ("claimed", "canceled"),
            ("in_progress", "blocked"),
            ("in_progress", "canceled"),
            ("for_review", "blocked"),
            ("for_review", "canceled"),
            ("approved", "blocked"),
            ("approved", "canceled"),
            ("blocked", "in_progress"),
            ("blocked", "canceled"),
        ];
        let empty = GuardContext::default();
        for (from, to) in edges() {
            let expected_ok = unguarded.contains(&(from.as_str(), to.as_str()));
            assert_eq!(
                validate_transition(from, to, &empty).is_ok(),
                expected_ok,
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn force_with_actor_and_reason_allows_everything_but_genesis_and_uninitialized() {
        let ctx = forced(Some("alice"), Some("rewind"));
        for from in Lane::ALL {
            for to in Lane::ALL {
                let outcome = validate_transition(from, to, &ctx);
                match to {
                    Lane::Genesis => assert_eq!(
                        outcome,
                        Err(TransitionRefusal::IllegalTransition { from, to })
                    ),
                    Lane::Uninitialized => {
                        assert_eq!(
                            outcome,
                            Err(TransitionRefusal::UninitializedTarget { from })
                        );
                        assert_eq!(
                            message(from, to, &ctx),
                            Some(format!("Illegal transition: {from} -> uninitialized"))
                        );
                    }
                    _ => assert_eq!(outcome, Ok(()), "{from} -> {to}"),
                }
            }
        }
    }

    #[test]
    fn force_bypasses_guards() {
        let mut ctx = forced(Some("alice"), Some("rewind"));
        ctx.review_ref = s("mismatch");
        assert_eq!(
            validate_transition(Lane::InReview, Lane::Done, &ctx),
            Ok(())
        );
        assert_eq!(
            validate_transition(Lane::InProgress, Lane::ForReview, &ctx),
            Ok(())
        );
        assert_eq!(
            validate_transition(Lane::Approved, Lane::Approved, &ctx),
            Ok(())
        );
        assert_eq!(
            validate_transition(Lane::Done, Lane::InProgress, &ctx),
            Ok(())
        );
    }

    #[test]
    fn force_requires_actor_and_reason() {
        let expected = Some("Force transitions require actor and reason".to_owned());
        for (actor, reason) in [
            (None, Some("why")),
            (Some("alice"), None),
            (Some(" \t"), Some("why")),
            (Some("alice"), Some("")),
            (Some("alice"), Some("\u{1f} \n")),
            (None, None),
        ] {
            let ctx = forced(actor, reason);
            // On an edge, on a non-edge, and on the diverging uninitialized target.
            for (from, to) in [
                (Lane::Planned, Lane::Claimed),
                (Lane::Done, Lane::Planned),
                (Lane::Planned, Lane::Uninitialized),
            ] {
                assert_eq!(message(from, to, &ctx), expected, "{actor:?} {reason:?}");
            }
            // A genesis target is refused before the force gate runs.
            assert_eq!(
                message(Lane::Planned, Lane::Genesis, &ctx),
                Some("Illegal transition: planned -> genesis".to_owned())
            );
        }
    }

    #[test]
    fn guard_actor_identity() {
        for (from, to) in [
            (Lane::Planned, Lane::Claimed),
            (Lane::ForReview, Lane::InReview),
        ] {
            for actor in [None, s(""), s("   ")] {
                let ctx = GuardContext {
                    actor,
                    ..GuardContext::default()
                };
                assert_eq!(
                    message(from, to, &ctx),
                    Some("Transition requires actor identity".to_owned())
                );
            }
            let ctx = GuardContext {
                actor: s("alice"),
                ..GuardContext::default()
            };
            assert_eq!(validate_transition(from, to, &ctx), Ok(()));
        }
    }

    #[test]
    fn guard_workspace_context() {
        let refused = GuardContext {
            workspace_context: s(" "),
            ..GuardContext::default()
        };
        assert_eq!(
            message(Lane::Claimed, Lane::InProgress, &refused),
            Some("Transition claimed -> in_progress requires workspace context".to_owned())
        );
        let allowed = GuardContext {
            workspace_context: s("worktree:/repo"),
            ..GuardContext::default()
        };
        assert_eq!(
            validate_transition(Lane::Claimed, Lane::InProgress, &allowed),
            Ok(())
        );
    }

    #[test]
    fn guard_subtasks_then_implementation_evidence() {
        let subtasks =
            "Transition in_progress -> for_review requires completed subtasks or force with reason";
        let evidence_message = "Transition in_progress -> for_review requires implementation evidence or force with reason";
        let cases = [
            (None, Some(true), Some(subtasks)),
            (Some(false), Some(true), Some(subtasks)),
            (Some(false), None, Some(subtasks)),
            (Some(true), None, Some(evidence_message)),
            (Some(true), Some(false), Some(evidence_message)),
            (Some(true), Some(true), None),
        ];
        for (subtasks_complete, implementation_evidence_present, expected) in cases {
            let ctx = GuardContext {
                subtasks_complete,
                implementation_evidence_present,
                ..GuardContext::default()
            };
            assert_eq!(
                message(Lane::InProgress, Lane::ForReview, &ctx),
                expected.map(str::to_owned)
            );
        }
    }

    #[test]
    fn guard_reviewer_approval_check_a() {
        let refused = "Transition to approved/done requires evidence (reviewer identity and approval reference)";
        for (from, to) in [
            (Lane::InProgress, Lane::Approved),
            (Lane::Approved, Lane::Done),
        ] {
            for bad in [
                None,
                Some(evidence("", "approved", "PR#1")),
                Some(evidence(" ", "approved", "PR#1")),
                Some(evidence("bob", "approved", "")),
                Some(evidence("bob", "changes_requested", "PR#1")),
                Some(evidence("bob", "Approved", "PR#1")),
                Some(evidence("bob", " approved", "PR#1")),
            ] {
                let ctx = GuardContext {
                    evidence: bad,
                    ..GuardContext::default()
                };
                assert_eq!(message(from, to, &ctx), Some(refused.to_owned()));
            }
            let ctx = GuardContext {
                evidence: Some(evidence("bob", "approved", "lane-approved:WP01")),
                ..GuardContext::default()
            };
            assert_eq!(validate_transition(from, to, &ctx), Ok(()));
        }
    }

    #[test]
    fn guard_reason_for_in_progress_to_planned() {
        for reason in [None, s(""), s("\n")] {
            let ctx = GuardContext {
                reason,
                ..GuardContext::default()
            };
            assert_eq!(
                message(Lane::InProgress, Lane::Planned, &ctx),
                Some("Transition in_progress -> planned requires reason".to_owned())
            );
        }
        let ctx = GuardContext {
            reason: s("rework"),
            ..GuardContext::default()
        };
        assert_eq!(
            validate_transition(Lane::InProgress, Lane::Planned, &ctx),
            Ok(())
        );
    }

    #[test]
    fn guard_review_ref_out_of_approved() {
        for to in [Lane::InProgress, Lane::Planned] {
            for review_ref in [None, s(""), s("  ")] {
                let ctx = GuardContext {
                    review_ref,
                    ..GuardContext::default()
                };
                assert_eq!(
                    message(Lane::Approved, to, &ctx),
                    Some("Transition requires review_ref (review feedback reference)".to_owned())
                );
            }
            let ctx = GuardContext {
                review_ref: s("feedback.md"),
                ..GuardContext::default()
            };
            assert_eq!(validate_transition(Lane::Approved, to, &ctx), Ok(()));
        }
    }

    #[test]
    fn guard_review_result_check_r_applies_to_every_in_review_exit() {
        let prefix = "Transition from in_review requires review_result";
        let cases = [
            (None, format!("{prefix} (structured review outcome)")),
            (Some(result("", "", "")), format!("{prefix} with reviewer")),
            (
                Some(result(" ", "approved", "PR#1")),
                format!("{prefix} with reviewer"),
            ),
            (
                Some(result("bob", "", "")),
                format!("{prefix} with verdict"),
            ),
            (
                Some(result("bob", "\t", "PR#1")),
                format!("{prefix} with verdict"),
            ),
            (
                Some(result("bob", "approved", "")),
                format!("{prefix} with reference"),
            ),
            (
                Some(result("bob", "approved", " ")),
                format!("{prefix} with reference"),
            ),
        ];
        for to in allowed_targets(Lane::InReview) {
            for (review_result, expected) in &cases {
                let ctx = GuardContext {
                    review_result: review_result.clone(),
                    ..satisfying()
                };
                assert_eq!(message(Lane::InReview, *to, &ctx).as_ref(), Some(expected));
            }
            let ctx = GuardContext {
                review_result: Some(result("bob", "approved", "PR#1")),
                ..GuardContext::default()
            };
            assert_eq!(
                validate_transition(Lane::InReview, *to, &ctx),
                Ok(()),
                "{to}"
            );
        }
    }

    #[test]
    fn in_review_non_approval_exits_ignore_the_verdict() {
        for to in [
            Lane::InProgress,
            Lane::Planned,
            Lane::Blocked,
            Lane::Canceled,
        ] {
            for verdict in ["changes_requested", "approved", "whatever"] {
                let ctx = GuardContext {
                    review_result: Some(result("bob", verdict, "PR#1")),
                    ..GuardContext::default()
                };
                assert_eq!(validate_transition(Lane::InReview, to, &ctx), Ok(()));
            }
        }
    }

    #[test]
    fn in_review_approval_check_b() {
        let refused = "Transition to approved/done requires evidence (reviewer identity and approval reference)";
        for to in [Lane::Approved, Lane::Done] {
            // Without evidence the review result itself must approve.
            let ctx = GuardContext {
                review_result: Some(result("bob", "changes_requested", "PR#1")),
                ..GuardContext::default()
            };
            assert_eq!(message(Lane::InReview, to, &ctx), Some(refused.to_owned()));

            // With evidence, the evidence must approve, even when the result does: (B) runs
            // before (C), so the (A) message wins over the mismatch.
            let ctx = GuardContext {
                review_result: Some(result("bob", "approved", "PR#1")),
                evidence: Some(evidence("bob", "changes_requested", "PR#1")),
                ..GuardContext::default()
            };
            assert_eq!(message(Lane::InReview, to, &ctx), Some(refused.to_owned()));

            // Approving evidence over a rejecting result passes (B) and fails (C).
            let ctx = GuardContext {
                review_result: Some(result("bob", "changes_requested", "PR#1")),
                evidence: Some(evidence("bob", "approved", "PR#1")),
                ..GuardContext::default()
            };
            assert_eq!(
                message(Lane::InReview, to, &ctx),
                Some("Review evidence must match review_result".to_owned())
            );

            // Matching approving evidence and result pass.
            let ctx = GuardContext {
                review_result: Some(result("bob", "approved", "PR#1")),
                evidence: Some(evidence("bob", "approved", "PR#1")),
                ..GuardContext::default()
            };
            assert_eq!(validate_transition(Lane::InReview, to, &ctx), Ok(()));
        }
    }

    #[test]
    fn in_review_consistency_check_c() {
        let ref_mismatch = Some("review_ref must match review_result.reference".to_owned());
        let evidence_mismatch = Some("Review evidence must match review_result".to_owned());
        for to in allowed_targets(Lane::InReview).iter().copied() {
            let base = GuardContext {
                review_result: Some(result("bob", "approved", "PR#1")),
                ..GuardContext::default()
            };
            let with = |review_ref: Option<String>, evidence: Option<DoneEvidence>| GuardContext {
                review_ref,
                evidence,
                ..base.clone()
            };
            // review_ref: absent passes; equal passes; empty, blank-padded or different fail.
            assert_eq!(message(Lane::InReview, to, &with(None, None)), None);
            assert_eq!(message(Lane::InReview, to, &with(s("PR#1"), None)), None);
            for review_ref in ["", " PR#1", "PR#2", "pr#1"] {
                assert_eq!(
                    message(Lane::InReview, to, &with(s(review_ref), None)),
                    ref_mismatch,
                    "{to} {review_ref:?}"
                );
            }
            // The review_ref check runs before the evidence check.
            assert_eq!(
                message(
                    Lane::InReview,
                    to,
                    &with(s("PR#2"), Some(evidence("carol", "approved", "PR#1")))
                ),
                ref_mismatch
            );
            // Evidence: each field must match exactly.
            for bad in [
                evidence("carol", "approved", "PR#1"),
                evidence("bob", "approved", "PR#2"),
                evidence("bob ", "approved", "PR#1"),
            ] {
                assert_eq!(
                    message(Lane::InReview, to, &with(s("PR#1"), Some(bad))),
                    evidence_mismatch,
                    "{to}"
                );
            }
            assert_eq!(
                message(
                    Lane::InReview,
                    to,
                    &with(s("PR#1"), Some(evidence("bob", "approved", "PR#1")))
                ),
                None
            );
        }
        // A rejecting result with matching rejecting evidence can still go back to work.
        let ctx = GuardContext {
            review_result: Some(result("bob", "changes_requested", "PR#1")),
            evidence: Some(evidence("bob", "changes_requested", "PR#1")),
            ..GuardContext::default()
        };
        assert_eq!(
            validate_transition(Lane::InReview, Lane::InProgress, &ctx),
            Ok(())
        );
        let ctx = GuardContext {
            review_result: Some(result("bob", "changes_requested", "PR#1")),
            evidence: Some(evidence("bob", "approved", "PR#1")),
            ..GuardContext::default()
        };
        assert_eq!(
            message(Lane::InReview, Lane::InProgress, &ctx),
            evidence_mismatch
        );
    }

    #[test]
    fn refusal_messages_codes_and_hints() {
        let cases = [
            (
                TransitionRefusal::IllegalTransition {
                    from: Lane::Planned,
                    to: Lane::Done,
                },
                "Illegal transition: planned -> done",
                "ILLEGAL_TRANSITION",
                "--force --actor A --reason R",
            ),
            (
                TransitionRefusal::IllegalTransition {
                    from: Lane::Done,
                    to: Lane::Genesis,
                },
                "Illegal transition: done -> genesis",
                "ILLEGAL_TRANSITION",
                "genesis",
            ),
            (
                TransitionRefusal::ForceRequiresActorAndReason,
                "Force transitions require actor and reason",
                "FORCE_REQUIRES_ACTOR_AND_REASON",
                "--force --actor A --reason R",
            ),
            (
                TransitionRefusal::ActorRequired,
                "Transition requires actor identity",
                "ACTOR_REQUIRED",
                "--actor A",
            ),
            (
                TransitionRefusal::WorkspaceContextRequired,
                "Transition claimed -> in_progress requires workspace context",
                "WORKSPACE_CONTEXT_REQUIRED",
                "--force --actor A --reason R",
            ),
            (
                TransitionRefusal::SubtasksIncomplete,
                "Transition in_progress -> for_review requires completed subtasks or force with reason",
                "SUBTASKS_INCOMPLETE",
                "--force --actor A --reason R",
            ),
            (
                TransitionRefusal::ImplementationEvidenceRequired,
                "Transition in_progress -> for_review requires implementation evidence or force with reason",
                "IMPLEMENTATION_EVIDENCE_REQUIRED",
                "--force --actor A --reason R",
            ),
            (
                TransitionRefusal::ReviewResultRequired,
                "Transition from in_review requires review_result (structured review outcome)",
                "REVIEW_RESULT_REQUIRED",
                "--review-result-json F",
            ),
            (
                TransitionRefusal::ReviewResultIncomplete {
                    field: ReviewResultField::Reviewer,
                },
                "Transition from in_review requires review_result with reviewer",
                "REVIEW_RESULT_INCOMPLETE",
                "--review-result-json F",
            ),
            (
                TransitionRefusal::ReviewResultIncomplete {
                    field: ReviewResultField::Verdict,
                },
                "Transition from in_review requires review_result with verdict",
                "REVIEW_RESULT_INCOMPLETE",
                "--review-result-json F",
            ),
            (
                TransitionRefusal::ReviewResultIncomplete {
                    field: ReviewResultField::Reference,
                },
                "Transition from in_review requires review_result with reference",
                "REVIEW_RESULT_INCOMPLETE",
                "--review-result-json F",
            ),
            (
                TransitionRefusal::ApprovalEvidenceRequired,
                "Transition to approved/done requires evidence (reviewer identity and approval reference)",
                "APPROVAL_EVIDENCE_REQUIRED",
                "--evidence-json F",
            ),
            (
                TransitionRefusal::ReviewRefRequired,
                "Transition requires review_ref (review feedback reference)",
                "REVIEW_REF_REQUIRED",
                "--review-ref R",
            ),
            (
                TransitionRefusal::ReviewRefMismatch,
                "review_ref must match review_result.reference",
                "REVIEW_REF_MISMATCH",
                "--review-ref R",
            ),
            (
                TransitionRefusal::ReviewEvidenceMismatch,
                "Review evidence must match review_result",
                "REVIEW_EVIDENCE_MISMATCH",
                "--evidence-json F",
            ),
            (
                TransitionRefusal::ReasonRequired,
                "Transition in_progress -> planned requires reason",
                "REASON_REQUIRED",
                "--reason R",
            ),
            (
                TransitionRefusal::UninitializedTarget {
                    from: Lane::Blocked,
                },
                "Illegal transition: blocked -> uninitialized",
                "UNINITIALIZED_TARGET",
                "uninitialized",
            ),
        ];
        let mut codes = std::collections::BTreeSet::new();
        for (refusal, text, code, hint_fragment) in &cases {
            assert_eq!(refusal.to_string(), *text);
            assert_eq!(refusal.code(), *code);
            assert!(
                code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code}"
            );
            assert!(
                refusal.hint().contains(hint_fragment),
                "{code}: {}",
                refusal.hint()
            );
            codes.insert(*code);
        }
        // One distinct code per variant (`ReviewResultIncomplete` covers three fields).
        assert_eq!(codes.len(), 14);
    }

    #[test]
    fn illegal_transition_hints_name_the_allowed_targets() {
        let hint = TransitionRefusal::IllegalTransition {
            from: Lane::Blocked,
            to: Lane::Planned,
        }
        .hint();
        assert_eq!(
            hint,
            "From `blocked` move to `in_progress`, `canceled`, or override with \
             `--force --actor A --reason R`"
        );
        let hint = TransitionRefusal::IllegalTransition {
            from: Lane::Done,
            to: Lane::InProgress,
        }
        .hint();
        assert_eq!(
            hint,
            "`done` has no outgoing transitions; override with `--force --actor A --reason R`"
        );
        let hint = TransitionRefusal::IllegalTransition {
            from: Lane::Done,
            to: Lane::Genesis,
        }
        .hint();
        assert!(!hint.contains("--force"), "{hint}");
    }

    #[test]
    fn alias_collapse() {
        assert!(is_alias_collapse("doing", Lane::InProgress));
        assert!(is_alias_collapse("  DOING ", Lane::InProgress));
        assert!(!is_alias_collapse("doing", Lane::Claimed));
        assert!(!is_alias_collapse("in_progress", Lane::InProgress));
        assert!(!is_alias_collapse("planned", Lane::Planned));
        assert!(!is_alias_collapse("nope", Lane::InProgress));
        assert!(!is_alias_collapse("", Lane::InProgress));
    }

    #[test]
    fn blank_follows_python_strip() {
        assert!(!is_non_empty(None));
        assert!(!is_non_empty(Some("")));
        assert!(!is_non_empty(Some(
            " \t\r\n\u{b}\u{c}\u{1c}\u{1d}\u{1e}\u{1f}\u{85}\u{a0}\u{3000}"
        )));
        assert!(is_non_empty(Some(" a ")));
        assert!(is_non_empty(Some("\u{200b}")));
    }

    #[test]
    fn review_types_use_the_wire_shape() -> Result<(), serde_json::Error> {
        let review_result = result("alice", "approved", "PR#42");
        assert_eq!(
            serde_json::to_value(&review_result)?,
            serde_json::json!({"reviewer": "alice", "verdict": "approved", "reference": "PR#42"})
        );
        let with_path: ReviewResult = serde_json::from_value(serde_json::json!({
            "reviewer": "alice", "verdict": "changes_requested", "reference": "r",
            "feedback_path": "feedback/WP01.md"
        }))?;
        assert_eq!(with_path.feedback_path.as_deref(), Some("feedback/WP01.md"));

        let parsed: DoneEvidence = serde_json::from_value(serde_json::json!({
            "review": {"reference": "PR#42", "reviewer": "alice", "verdict": "approved"}
        }))?;
        assert_eq!(parsed, evidence("alice", "approved", "PR#42"));
        assert_eq!(
            serde_json::to_value(&parsed)?,
            serde_json::json!({"review": {"reference": "PR#42", "reviewer": "alice", "verdict": "approved"}})
        );
        let full = serde_json::json!({
            "review": {"reference": "r", "reviewer": "a", "verdict": "approved"},
            "repos": [{"repo": "x", "branch": "main", "commit": "abc1234"}],
            "verification": [{"command": "cargo test", "result": "pass", "summary": "ok"}]
        });
        let parsed: DoneEvidence = serde_json::from_value(full.clone())?;
        assert_eq!(serde_json::to_value(&parsed)?, full);
        Ok(())
    }

    // ---- Property test against an independent, table-driven oracle ----

    /// A requirement an edge places on the context, in the order Spec Kitty checks them.
    #[derive(Clone, Copy)]
    enum Need {
        Actor,
        Workspace,
        Subtasks,
        ImplementationEvidence,
        ApprovingEvidence,
        Reason,
        ReviewRef,
        CompleteResult,
        ApprovalFromInReview,
        Consistent,
    }

    const IN_REVIEW_EXIT: &[Need] = &[Need::CompleteResult, Need::Consistent];
    const IN_REVIEW_APPROVAL: &[Need] = &[
        Need::CompleteResult,
        Need::ApprovalFromInReview,
        Need::Consistent,
    ];

    /// The guarded edges; every other edge of `EDGE_TABLE` needs nothing.
    const GUARDS: &[(&str, &str, &[Need])] = &[
        ("planned", "claimed", &[Need::Actor]),
        ("claimed", "in_progress", &[Need::Workspace]),
        (
            "in_progress",
            "for_review",
            &[Need::Subtasks, Need::ImplementationEvidence],
        ),
        ("in_progress", "approved", &[Need::ApprovingEvidence]),
        ("in_progress", "planned", &[Need::Reason]),
        ("for_review", "in_review", &[Need::Actor]),
        ("in_review", "approved", IN_REVIEW_APPROVAL),
        ("in_review", "done", IN_REVIEW_APPROVAL),
        ("in_review", "in_progress", IN_REVIEW_EXIT),
        ("in_review", "planned", IN_REVIEW_EXIT),
        ("in_review", "blocked", IN_REVIEW_EXIT),
        ("in_review", "canceled", IN_REVIEW_EXIT),
        ("approved", "done", &[Need::ApprovingEvidence]),
        ("approved", "in_progress", &[Need::ReviewRef]),
        ("approved", "planned", &[Need::ReviewRef]),
    ];

    fn filled(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| !v.trim().is_empty())
    }

    fn approving(evidence: &Option<DoneEvidence>) -> bool {
        evidence.as_ref().is_some_and(|e| {
            !e.review.reviewer.trim().is_empty()
                && !e.review.reference.trim().is_empty()
                && e.review.verdict == "approved"
        })
    }

    /// Returns the message of the first unmet need, if any.
    fn unmet(need: Need, ctx: &GuardContext) -> Option<String> {
        const APPROVAL: &str = "Transition to approved/done requires evidence (reviewer identity and approval reference)";
        let rr = ctx.review_result.as_ref();
        let text = match need {
            Need::Actor if !filled(&ctx.actor) => "Transition requires actor identity",
            Need::Workspace if !filled(&ctx.workspace_context) => {
                "Transition claimed -> in_progress requires workspace context"
            }
            Need::Subtasks if ctx.subtasks_complete != Some(true) => {
                "Transition in_progress -> for_review requires completed subtasks or force with reason"
            }
            Need::ImplementationEvidence if ctx.implementation_evidence_present != Some(true) => {
                "Transition in_progress -> for_review requires implementation evidence or force with reason"
            }
            Need::ApprovingEvidence if !approving(&ctx.evidence) => APPROVAL,
            Need::Reason if !filled(&ctx.reason) => {
                "Transition in_progress -> planned requires reason"
            }
            Need::ReviewRef if !filled(&ctx.review_ref) => {
                "Transition requires review_ref (review feedback reference)"
            }
            Need::CompleteResult => {
                let rr = rr?;
                let blank = [
                    ("reviewer", &rr.reviewer),
                    ("verdict", &rr.verdict),
                    ("reference", &rr.reference),
                ]
                .into_iter()
                .find(|(_, v)| v.trim().is_empty())?;
                return Some(format!(
                    "Transition from in_review requires review_result with {}",
                    blank.0
                ));
            }
            Need::ApprovalFromInReview => {
                let ok = match &ctx.evidence {
                    Some(_) => approving(&ctx.evidence),
                    None => rr.is_some_and(|rr| rr.verdict == "approved"),
                };
                if ok {
                    return None;
                }
                APPROVAL
            }
            Need::Consistent => {
                let rr = rr?;
                if ctx.review_ref.as_ref().is_some_and(|r| *r != rr.reference) {
                    "review_ref must match review_result.reference"
                } else if ctx.evidence.as_ref().is_some_and(|e| {
                    (&e.review.reviewer, &e.review.verdict, &e.review.reference)
                        != (&rr.reviewer, &rr.verdict, &rr.reference)
                }) {
                    "Review evidence must match review_result"
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        Some(text.to_owned())
    }

    /// Restates the decision of reference §2.2 from the tables above.
    fn oracle(from: Lane, to: Lane, ctx: &GuardContext) -> Option<String> {
        let (from, to) = (from.as_str(), to.as_str());
        let illegal = Some(format!("Illegal transition: {from} -> {to}"));
        if to == "genesis" {
            return illegal;
        }
        if ctx.force {
            if !(filled(&ctx.actor) && filled(&ctx.reason)) {
                return Some("Force transitions require actor and reason".to_owned());
            }
            // missionctl's deliberate divergence: never into the read sentinel.
            return (to == "uninitialized").then_some(illegal).flatten();
        }
        if !EDGE_TABLE.contains(&(from, to)) {
            return illegal;
        }
        if from == "in_review" && ctx.review_result.is_none() {
            return Some(
                "Transition from in_review requires review_result (structured review outcome)"
                    .to_owned(),
            );
        }
        let needs = GUARDS
            .iter()
            .find(|(f, t, _)| *f == from && *t == to)
            .map_or(&[][..], |(_, _, needs)| needs);
        needs.iter().find_map(|need| unmet(*need, ctx))
    }

    fn lane() -> impl Strategy<Value = Lane> {
        prop::sample::select(Lane::ALL.to_vec())
    }

    fn text(pool: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop::sample::select(pool).prop_map(str::to_owned))
    }

    const REVIEWERS: &[&str] = &["", " ", "bob", "carol"];
    const VERDICTS: &[&str] = &["", "\t", "approved", "changes_requested", "Approved"];
    const REFERENCES: &[&str] = &["", " ", "PR#1", "PR#2"];

    fn triple() -> impl Strategy<Value = (String, String, String)> {
        (
            prop::sample::select(REVIEWERS),
            prop::sample::select(VERDICTS),
            prop::sample::select(REFERENCES),
        )
            .prop_map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    }

    fn context() -> impl Strategy<Value = GuardContext> {
        (
            (
                text(&["", "  ", "alice"]),
                text(&["", "worktree:/repo"]),
                prop::option::of(any::<bool>()),
                prop::option::of(any::<bool>()),
                text(&["", "\n", "because"]),
            ),
            (
                text(&["", " ", "PR#1", "PR#2"]),
                prop::option::of(triple()),
                any::<bool>(),
                prop::option::of(triple()),
            ),
        )
            .prop_map(
                |(
                    (actor, workspace_context, subtasks, implementation, reason),
                    (review_ref, evidence_fields, force, result_fields),
                )| GuardContext {
                    actor,
                    workspace_context,
                    subtasks_complete: subtasks,
                    implementation_evidence_present: implementation,
                    reason,
                    review_ref,
                    evidence: evidence_fields.map(|(a, b, c)| evidence(&a, &b, &c)),
                    force,
                    review_result: result_fields.map(|(a, b, c)| result(&a, &b, &c)),
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn decision_matches_the_oracle(from in lane(), to in lane(), ctx in context()) {
            prop_assert_eq!(message(from, to, &ctx), oracle(from, to, &ctx));
        }

        #[test]
        fn guarded_edges_match_the_oracle(
            (from, to) in prop::sample::select(edges().collect::<Vec<_>>()),
            ctx in context(),
        ) {
            prop_assert_eq!(message(from, to, &ctx), oracle(from, to, &ctx));
        }
    }
}
