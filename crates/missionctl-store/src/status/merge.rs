//! The status writes of a merge: `approved → done` for every merged work package (Spec Kitty's
//! row shape, the merge commit as evidence), the coordination log projected back onto the
//! target branch, and the retrospective row.

use std::path::Path;

use missionctl_core::lifecycle::merge::{
    MERGE_ACTOR, merged_done_evidence, merged_done_policy_metadata, merged_done_reason,
};
use missionctl_core::status::event::{Actor, StatusEvent};
use missionctl_core::status::lane::Lane;
use missionctl_core::status::reducer::reduce;
use missionctl_core::text::timestamp::isoformat_utc;

use super::transaction::union_rows;
use super::{
    CommitReceipt, MissionStatus, StatusWriteError, TransitionRequest, active_status,
    commit_message, current_writer_lane, seconds,
};
use crate::clock::{Clock, unix_micros};

/// A work package moved to `done` by a merge.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedDone {
    /// The work package.
    pub wp_id: String,
    /// The row appended.
    pub event: StatusEvent,
    /// Its commit.
    pub receipt: CommitReceipt,
}

impl MissionStatus {
    /// Records `approved → done` for each work package (in the order given) that is not `done`
    /// yet, one committed row each, as Spec Kitty's merge does: actor `merge`, reason `Merged
    /// <WP> into <target>`, `policy_metadata` `{merge_phase: lane_integrated, target_branch}`,
    /// and evidence naming the reviewer and `merge_commit` on `target_branch`.
    ///
    /// A work package already `done` is skipped, so a resumed merge records nothing twice; one
    /// in another lane than `approved` is refused by the state machine.
    pub fn record_merged_done(
        &self,
        wp_ids: &[String],
        target_branch: &str,
        merge_commit: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Vec<MergedDone>, StatusWriteError> {
        let mut recorded = Vec::new();
        for wp_id in wp_ids {
            let mut transaction = self.open_transaction()?;
            let log = transaction.read_log()?;
            let from = current_writer_lane(active_status(log, wp_id).current_lane);
            if from == Lane::Done {
                continue;
            }
            let snapshot = reduce(log);
            let evidence = merged_done_evidence(
                snapshot.work_packages.get(wp_id),
                wp_id,
                target_branch,
                merge_commit,
            );
            let request = TransitionRequest {
                wp_id: wp_id.clone(),
                to_lane: Lane::Done.as_str().to_owned(),
                actor: Some(MERGE_ACTOR.to_owned()),
                reason: Some(merged_done_reason(wp_id, target_branch)),
                evidence: Some(evidence.clone()),
                workspace_context: Some(format!("merge:{}", self.placement.primary_root.display())),
                ..TransitionRequest::default()
            };
            let parsed = super::parse_evidence(&evidence)?;
            self.check(&request, from, Lane::Done, &Some(parsed), &None, &|| {
                Ok(snapshot.clone())
            })?;
            let now = unix_micros(clock.now());
            let at = isoformat_utc(now);
            let event = StatusEvent {
                event_id: clock.new_event_id(),
                wp_id: wp_id.clone(),
                from_lane: from,
                to_lane: Lane::Done,
                at: at.clone(),
                actor: Actor::Name(MERGE_ACTOR.to_owned()),
                force: false,
                execution_mode: "worktree".to_owned(),
                mission_slug: self.mission_slug.clone(),
                mission_id: self.mission_id.clone(),
                reason: request.reason.clone(),
                reason_source: None,
                review_ref: None,
                evidence: Some(evidence),
                review_result: None,
                policy_metadata: Some(merged_done_policy_metadata(target_branch).into()),
            };
            transaction.append(
                &[event.to_json_line()],
                std::slice::from_ref(&event.event_id),
            )?;
            let receipt = transaction.commit(&commit_message(wp_id), &at, seconds(now))?;
            recorded.push(MergedDone {
                wp_id: wp_id.clone(),
                event,
                receipt,
            });
        }
        Ok(recorded)
    }

    /// Returns the log of the surface status is written to (the coordination worktree's for a
    /// coordination topology), as bytes; `None` when it has none.
    pub fn written_log_bytes(&self) -> Result<Option<Vec<u8>>, StatusWriteError> {
        Ok(super::transaction::read_log_file(
            &self
                .placement
                .mission_dir
                .join(crate::mission::dir::EVENT_LOG_FILE),
        )?)
    }
}

/// Returns the rows of `source` that `target` lacks appended to `target` (keyed by
/// `event_id`, bytes kept); `None` when `target` already has them all.
pub fn project_rows(target: &[u8], source: &[u8]) -> Option<Vec<u8>> {
    union_rows(target, source)
}

/// Returns `path` relative to `root`, `/`-separated.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
