//! `acceptance verdict`: one criterion's result recorded in `acceptance-matrix.json` and
//! committed where the mission's status goes (the target branch for `single_branch` and
//! `lanes`, the coordination branch for `coord` and `lanes_with_coord`), as Spec Kitty's
//! `agent mission acceptance-verdict` does.
//!
//! The matrix is a coordination artifact: it is re-read under the mission's status lock,
//! written through the write door and committed alone, with Spec Kitty's message
//! `chore(acceptance): record <criterion>=<result> for <slug>`.

use missionctl_core::lifecycle::acceptance_matrix::{
    AcceptanceMatrix, CRITERION_RESULTS, MATRIX_FILE, MatrixError, VerdictChange,
};
use missionctl_core::text::timestamp::isoformat_utc;
use serde::Serialize;

use super::{CommitReceipt, MissionStatus, StatusWriteError, seconds};
use crate::clock::{Clock, unix_micros};
use crate::write::WriteTransaction;

/// One criterion's verdict to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionVerdict {
    /// The criterion (`FR-001`).
    pub criterion: String,
    /// `pass`, `fail` or `pending`.
    pub result: String,
    /// How it was verified (the row's `proof_type`), when given.
    pub verification_method: Option<String>,
    /// Who verified it (`verified_by`), when given.
    pub actor: Option<String>,
    /// The evidence (a path, a URL), when given.
    pub evidence: Option<String>,
}

/// What recording a verdict did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionOutcome {
    /// The mission.
    pub mission: String,
    /// The criterion.
    pub criterion: String,
    /// The result recorded.
    pub result: String,
    /// The matrix's overall verdict afterwards.
    pub overall_verdict: String,
    /// `committed`, or `unchanged` when the row already said exactly this.
    pub write_status: &'static str,
    /// The branch the matrix is committed on.
    pub destination_ref: String,
    /// The commit, when one was made.
    pub commit_hash: Option<String>,
    /// The commit's receipt, when one was made.
    pub receipt: Option<CommitReceipt>,
}

/// Why a verdict could not be recorded. Nothing is written when it is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CriterionError {
    /// The status could not be read or written.
    #[error(transparent)]
    Status(#[from] StatusWriteError),
    /// The result is not one a criterion records.
    #[error("Invalid result '{result}': expected one of pass, fail, pending")]
    InvalidResult {
        /// What was given.
        result: String,
    },
    /// The mission has no matrix.
    #[error("No acceptance-matrix.json found for mission '{mission}'")]
    NoMatrix {
        /// The mission.
        mission: String,
    },
    /// The matrix cannot be read.
    #[error("acceptance-matrix.json of mission '{mission}' cannot be read: {source}")]
    MatrixInvalid {
        /// The mission.
        mission: String,
        /// What is wrong.
        #[source]
        source: MatrixError,
    },
    /// The matrix has no such criterion.
    #[error(
        "Unknown criterion '{criterion}' for mission '{mission}'. Available criteria: {available}"
    )]
    UnknownCriterion {
        /// The mission.
        mission: String,
        /// What was asked.
        criterion: String,
        /// The criteria it has.
        available: String,
    },
}

impl CriterionError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            CriterionError::Status(error) => error.code(),
            CriterionError::InvalidResult { .. } => "INVALID_VERDICT_RESULT",
            CriterionError::NoMatrix { .. } => "ACCEPTANCE_MATRIX_MISSING",
            CriterionError::MatrixInvalid { .. } => "ACCEPTANCE_MATRIX_INVALID",
            CriterionError::UnknownCriterion { .. } => "UNKNOWN_CRITERION",
        }
    }

    /// Returns a hint naming the command that helps.
    pub fn hint(&self) -> String {
        match self {
            CriterionError::Status(error) => error.hint(),
            CriterionError::InvalidResult { .. } => {
                "Pass `--result pass`, `fail` or `pending`".to_owned()
            }
            CriterionError::NoMatrix { mission } => format!(
                "`missionctl tasks finalize {mission}` scaffolds it from the spec's requirements"
            ),
            CriterionError::MatrixInvalid { mission, .. } => format!(
                "Restore it from git (`git log -- kitty-specs/{mission}/{MATRIX_FILE}`), or \
                 regenerate it with `missionctl tasks finalize {mission}`"
            ),
            CriterionError::UnknownCriterion { .. } => {
                "Pass one of the criteria the matrix lists".to_owned()
            }
        }
    }
}

impl MissionStatus {
    /// Records one criterion's verdict in `acceptance-matrix.json` and commits it (see the
    /// [module](self) documentation). A row that already says exactly this is left alone and
    /// nothing is committed (`write_status: unchanged`).
    pub fn record_acceptance_verdict(
        &self,
        request: &CriterionVerdict,
        clock: &dyn Clock,
    ) -> Result<CriterionOutcome, CriterionError> {
        if !CRITERION_RESULTS.contains(&request.result.as_str()) {
            return Err(CriterionError::InvalidResult {
                result: request.result.clone(),
            });
        }
        let mission = self.mission_slug.clone();
        let transaction = self.open_transaction()?;
        let Some(bytes) = transaction.artifact_bytes(MATRIX_FILE)? else {
            return Err(CriterionError::NoMatrix { mission });
        };
        let mut matrix =
            AcceptanceMatrix::parse(&String::from_utf8_lossy(&bytes)).map_err(|source| {
                CriterionError::MatrixInvalid {
                    mission: mission.clone(),
                    source,
                }
            })?;
        let now = unix_micros(clock.now());
        let at = isoformat_utc(now);
        let change = matrix
            .record_verdict(
                &request.criterion,
                &request.result,
                request.verification_method.as_deref(),
                request.actor.as_deref(),
                request.evidence.as_deref(),
                &at,
            )
            .ok_or_else(|| {
                let mut ids = matrix.criterion_ids();
                ids.sort();
                CriterionError::UnknownCriterion {
                    mission: mission.clone(),
                    criterion: request.criterion.clone(),
                    available: if ids.is_empty() {
                        "(none)".to_owned()
                    } else {
                        ids.join(", ")
                    },
                }
            })?;
        let destination_ref = self.destination_ref().to_owned();
        let overall_verdict = matrix.overall_verdict().to_owned();
        let text = matrix.to_text();
        let receipt = if change == VerdictChange::Unchanged && text.as_bytes() == bytes {
            transaction.noop_receipt(&at)?;
            None
        } else {
            let mut transaction = transaction;
            transaction.stage_artifact(MATRIX_FILE, text.as_bytes())?;
            let message = format!(
                "chore(acceptance): record {}={} for {mission}",
                request.criterion, request.result
            );
            Some(transaction.commit(&message, &at, seconds(now))?)
        };
        let committed = receipt.as_ref().filter(|receipt| !receipt.is_noop);
        Ok(CriterionOutcome {
            mission,
            criterion: request.criterion.clone(),
            result: request.result.clone(),
            overall_verdict,
            write_status: if committed.is_some() {
                "committed"
            } else {
                "unchanged"
            },
            destination_ref,
            commit_hash: committed.map(|receipt| receipt.commit_sha.clone()),
            receipt: committed.cloned(),
        })
    }
}

impl MissionStatus {
    /// Scaffolds `acceptance-matrix.json` where the status lives, as Spec Kitty's
    /// finalize-tasks does for a mission with lanes: one `pending` criterion per functional
    /// requirement id (a placeholder when there is none), committed alone as
    /// `chore(<slug>): scaffold acceptance-matrix`, inside the write transaction of the
    /// mission's scope the caller opened (`tasks finalize`), handed back. An existing matrix is
    /// never overwritten: no receipt then.
    pub fn scaffold_acceptance_matrix_within(
        &self,
        write: WriteTransaction,
        requirement_ids: &[String],
        clock: &dyn Clock,
    ) -> Result<(Option<CommitReceipt>, WriteTransaction), StatusWriteError> {
        let mut transaction = self.join_transaction(write, false)?;
        if transaction.artifact_bytes(MATRIX_FILE)?.is_some() {
            return Ok((None, transaction.into_write()));
        }
        let now = unix_micros(clock.now());
        let at = isoformat_utc(now);
        let meta = self.meta.clone().unwrap_or_default();
        let text_of = |key: &str| match meta.get(key) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        let mut mission_type = text_of("mission_type");
        if mission_type.is_empty() {
            mission_type = "software-dev".to_owned();
        }
        let matrix = AcceptanceMatrix::scaffold(
            &self.mission_slug,
            &text_of("mission_number"),
            &mission_type,
            requirement_ids,
        );
        transaction.stage_artifact(MATRIX_FILE, matrix.to_text().as_bytes())?;
        let message = format!("chore({}): scaffold acceptance-matrix", self.mission_slug);
        let (receipt, write) = transaction.commit_keep(&message, &at, seconds(now))?;
        Ok((Some(receipt), write))
    }
}
