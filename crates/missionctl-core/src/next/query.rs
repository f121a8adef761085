//! The query mode of `next` (no `--result`): the mission's state as Spec Kitty 3.2.7 decides
//! it, from facts the shell gathers. Nothing here writes, and nothing is derived that Spec Kitty
//! does not derive: query mode looks at no spec, plan or guard.
//!
//! In order, first match wins:
//!
//! 1. **Merged missions.** `meta.json` has a `mission_number` and the primary checkout's log
//!    names at least one work package: `done` when every one is an acceptable ending
//!    (`approved`, `done`, or `canceled` by an operator), else `blocked` (a conflict). See
//!    [`merged_verdict`].
//! 2. The run (the persisted one, else a fresh one) is planned over its template; a run that
//!    cannot be read or planned fails the query.
//! 3. **Finalized task board.** With `tasks.md`, `tasks/` and work-package files: `implement`
//!    while a file's work package is `planned`, `claimed` or `in_progress`, `review` while one is
//!    `for_review`, `blocked` while one is `in_review`, then `done`, `accept`, or `blocked`. See
//!    [`finalized_override`].
//! 4. A run that has done nothing: `not_started`, previewing its first step.
//! 5. Otherwise the run's own decision.

use std::collections::BTreeMap;

use crate::mission::mission_template::RunPlan;
use crate::mission::run::MissionRunSnapshot;
use crate::status::event_log::EventLog;
use crate::status::lane::Lane;
use crate::status::snapshot::StatusSnapshot;

use super::decision::{Decision, DecisionIdentity, DecisionKind, Progress};

/// The reason of a merged mission whose work packages all ended well, and of a finalized board
/// whose work packages are all done.
pub const ALL_DONE_REASON: &str = "All work packages are done";

/// The reason of a merged mission with a work package that did not end well.
pub const MERGED_CONFLICT_REASON: &str =
    "Merged mission has committed work packages that are not an acceptable ending (conflict)";

/// Who canceled a work package, as Spec Kitty's 3.2.7 reducer records it (`reason_source`).
pub const OPERATOR_REASON_SOURCE: &str = "operator";

/// A work package's lane in a reduced log, with who canceled it when it is `canceled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WpEnding {
    /// The lane.
    pub lane: Lane,
    /// For `canceled`: the cancel event's `reason_source`, else `synthetic` for a blank reason
    /// or one Spec Kitty generated (`Force move to …`, `move-task: …`), else `operator`.
    pub reason_source: Option<String>,
}

impl WpEnding {
    /// Returns true for `approved`, `done`, and `canceled` by an operator: the endings a merged
    /// mission and a dependency accept.
    pub fn is_acceptable(&self) -> bool {
        match self.lane {
            Lane::Approved | Lane::Done => true,
            Lane::Canceled => self.reason_source.as_deref() == Some(OPERATOR_REASON_SOURCE),
            _ => false,
        }
    }
}

/// Classifies a cancel event's provenance as Spec Kitty does for an event without
/// `reason_source`.
pub fn cancellation_reason_source(reason: Option<&str>) -> &'static str {
    match reason {
        None => "synthetic",
        Some(text) if text.trim().is_empty() => "synthetic",
        Some(text) if text.starts_with("Force move to ") || text.starts_with("move-task: ") => {
            "synthetic"
        }
        Some(_) => OPERATOR_REASON_SOURCE,
    }
}

/// Which work packages of a reduced log [`wp_endings`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndingScope {
    /// Every work package of the snapshot, annotation-only ones (`uninitialized`) included.
    WithAnnotations,
    /// The work packages with at least one transition (a reduction of the transitions only).
    TransitionsOnly,
}

/// Returns each work package's ending from a log and its reduced snapshot: its lane and, for a
/// canceled one, the provenance of the cancel that put it there.
pub fn wp_endings(
    log: &EventLog,
    snapshot: &StatusSnapshot,
    scope: EndingScope,
) -> BTreeMap<String, WpEnding> {
    snapshot
        .work_packages
        .iter()
        .filter(|(_, state)| scope == EndingScope::WithAnnotations || state.last_event_id.is_some())
        .map(|(wp_id, state)| {
            let reason_source = (state.lane == Lane::Canceled).then(|| {
                let event = log
                    .transitions()
                    .find(|event| Some(&event.event_id) == state.last_event_id.as_ref());
                match event {
                    Some(event) => event.reason_source.clone().unwrap_or_else(|| {
                        cancellation_reason_source(event.reason.as_deref()).to_owned()
                    }),
                    None => cancellation_reason_source(None).to_owned(),
                }
            });
            (
                wp_id.clone(),
                WpEnding {
                    lane: state.lane,
                    reason_source,
                },
            )
        })
        .collect()
}

/// What a merged mission's committed work packages say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergedVerdict {
    /// Every work package is an acceptable ending.
    Done,
    /// Some work package is not.
    Conflict,
}

/// Returns the verdict on a merged mission from the endings of the primary log's work packages
/// (annotation-only ones are `uninitialized`): `None` when the log names none. The caller
/// checks that `meta.json` has a `mission_number` and the primary checkout has a log.
pub fn merged_verdict<'a>(
    endings: impl IntoIterator<Item = &'a WpEnding>,
) -> Option<MergedVerdict> {
    let mut any = false;
    let mut all = true;
    for ending in endings {
        any = true;
        all &= ending.is_acceptable();
    }
    any.then_some(if all {
        MergedVerdict::Done
    } else {
        MergedVerdict::Conflict
    })
}

/// The decision on a merged mission (no run, no progress).
pub fn merged_decision(
    identity: &DecisionIdentity,
    verdict: MergedVerdict,
    timestamp: &str,
) -> Decision {
    let (state, reason) = match verdict {
        MergedVerdict::Done => ("done", ALL_DONE_REASON),
        MergedVerdict::Conflict => ("blocked", MERGED_CONFLICT_REASON),
    };
    let mut decision = Decision::new(DecisionKind::Query, identity, state, timestamp);
    decision.reason = Some(reason.to_owned());
    decision
}

/// Returns a work-package file's id as Spec Kitty reads it for progress: the `WP<digits>` its
/// name starts with, else the name without its last extension.
pub fn wp_file_id(file_name: &str) -> String {
    let stem = match file_name.rfind('.') {
        Some(dot) if dot > 0 => &file_name[..dot],
        _ => file_name,
    };
    match numbered_prefix(stem, usize::MAX) {
        Some(id) => id.to_owned(),
        None => stem.to_owned(),
    }
}

/// Returns the `WP<digits>` a name starts with (at most `max_digits` digits), if any.
fn numbered_prefix(name: &str, max_digits: usize) -> Option<&str> {
    let digits = name
        .strip_prefix("WP")?
        .bytes()
        .take(max_digits)
        .take_while(u8::is_ascii_digit)
        .count();
    (digits > 0).then(|| &name[..2 + digits])
}

/// Returns the work-package id a file name declares for the dependency graph: `WP` and exactly
/// its first two digits (`WP123-x.md` → `WP12`), or `None`.
pub fn graph_file_id(file_name: &str) -> Option<&str> {
    numbered_prefix(file_name, 2).filter(|id| id.len() == 4)
}

/// Returns the front matter of a work-package file as Spec Kitty's text reader (the one its
/// claim preview uses) splits it: the text between a leading `---` line and the next line that
/// merely *starts* with `---` (line ends normalized to `\n`). The YAML reader
/// ([`crate::planning::work_package::split_front_matter`]) needs a line that is exactly `---`.
pub fn text_front_matter(text: &str) -> Option<String> {
    let normalized = text.replace("\r\n", "\n");
    let rest = normalized.strip_prefix("---\n")?;
    let close = normalized.get(4..)?.find("\n---")?;
    Some(rest[..close].to_owned())
}

/// Returns a scalar of a front matter as Spec Kitty's text reader extracts it (the first line
/// `key: value`, quotes stripped, a `#` comment dropped), or `None` when absent or empty.
pub fn front_matter_scalar(front_matter: &str, key: &str) -> Option<String> {
    let prefix = format!("{key}:");
    let mut offset = 0;
    for line in front_matter.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if !line.starts_with(&prefix) {
            continue;
        }
        // The separator's whitespace may run over line ends, as `\s*` does.
        let after = &front_matter[start + prefix.len()..];
        let value = after.trim_start();
        let line_end = value.find('\n').unwrap_or(value.len());
        let current = &value[..line_end];
        let quoted = ['"', '\''].into_iter().find_map(|quote| {
            let body = current.strip_prefix(quote)?;
            let end = body.find(quote)?;
            Some(&current[..end + 2])
        });
        let raw = quoted
            .unwrap_or_else(|| current.split('#').next().unwrap_or_default())
            .trim();
        let quoted_value = ['"', '\''].into_iter().find_map(|quote| {
            (raw.starts_with(quote) && raw.ends_with(quote))
                .then(|| raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default())
        });
        let value = quoted_value.unwrap_or(raw);
        return (!value.is_empty()).then(|| value.to_owned());
    }
    None
}

/// The task board as the query reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskBoard {
    /// Whether `tasks.md` is a file.
    pub tasks_md: bool,
    /// Whether `tasks/` is a directory.
    pub tasks_dir: bool,
    /// The id of each `tasks/WP*.md` entry ([`wp_file_id`]), in file-name order.
    pub file_ids: Vec<String>,
    /// The status directory's log reduced over its transitions: each work package's ending
    /// (empty when there is no log).
    pub lanes: BTreeMap<String, WpEnding>,
    /// The weighted percentage of the status directory's whole snapshot, unrounded (`None`
    /// when it could not be computed).
    pub weighted_percentage: Option<f64>,
}

impl TaskBoard {
    fn lane_of(&self, wp_id: &str) -> Lane {
        self.lanes
            .get(wp_id)
            .map_or(Lane::Genesis, |ending| ending.lane)
    }
}

/// Rounds to one decimal as Python's `round(x, 1)` does (the exact binary value, ties to even).
pub fn round1(value: f64) -> f64 {
    format!("{value:.1}").parse().unwrap_or(value)
}

/// Returns the `progress` of a query: `None` without work-package files.
pub fn query_progress(board: &TaskBoard) -> Option<Progress> {
    if !board.tasks_dir || board.file_ids.is_empty() {
        return None;
    }
    let mut progress = Progress {
        total_wps: board.file_ids.len(),
        weighted_percentage: board.weighted_percentage.map(round1),
        ..Progress::default()
    };
    for wp_id in &board.file_ids {
        match board.lane_of(wp_id) {
            Lane::Done => progress.done_wps += 1,
            Lane::Approved => progress.approved_wps += 1,
            Lane::Claimed | Lane::InProgress => progress.in_progress_wps += 1,
            Lane::ForReview | Lane::InReview => progress.for_review_wps += 1,
            Lane::Planned => progress.planned_wps += 1,
            Lane::Genesis | Lane::Uninitialized | Lane::Blocked | Lane::Canceled => {}
        }
    }
    Some(progress)
}

/// Returns the weighted percentage of a whole snapshot's lanes (0 without work packages).
pub fn weighted_percentage<'a>(lanes: impl IntoIterator<Item = &'a Lane>) -> f64 {
    let mut total = 0.0;
    let mut count = 0.0;
    for lane in lanes {
        total += lane.progress_weight();
        count += 1.0;
    }
    if count > 0.0 {
        total / count * 100.0
    } else {
        0.0
    }
}

/// What a finalized task board says the mission's state is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoardOverride {
    /// A work package is `planned`, `claimed` or `in_progress`.
    Implement,
    /// A work package is `for_review`.
    Review,
    /// A work package is `in_review`.
    ReviewInProgress,
    /// Every work package is done.
    Done,
    /// Every work package is approved or done.
    Accept,
    /// Nothing can be acted on.
    NoActionableWp,
}

/// Returns the state a finalized task board implies, if the board is finalized: `tasks.md`, a
/// `tasks/` directory and at least one work-package file.
pub fn finalized_override(board: &TaskBoard, progress: Option<&Progress>) -> Option<BoardOverride> {
    let progress = progress?;
    if progress.total_wps == 0 || !board.tasks_md || !board.tasks_dir {
        return None;
    }
    let has = |lane: Lane| board.file_ids.iter().any(|id| board.lane_of(id) == lane);
    Some(
        if has(Lane::Planned) || has(Lane::Claimed) || has(Lane::InProgress) {
            BoardOverride::Implement
        } else if has(Lane::ForReview) {
            BoardOverride::Review
        } else if has(Lane::InReview) {
            BoardOverride::ReviewInProgress
        } else if progress.done_wps == progress.total_wps {
            BoardOverride::Done
        } else if progress.approved_wps + progress.done_wps == progress.total_wps {
            BoardOverride::Accept
        } else {
            BoardOverride::NoActionableWp
        },
    )
}

/// The work package `implement` would claim, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimablePreview {
    /// This work package.
    Wp(String),
    /// None, for this reason (`dependencies_not_satisfied`, `all_wps_in_progress`,
    /// `not_finalized`, `no_planned_wps`, `no_wp_files`, `no_tasks_dir`).
    None(&'static str),
}

/// Returns the work package `implement` would claim: the first candidate (the
/// `work_package_id` of each file, in file order) that is `planned` and whose dependencies
/// (from `graph`) are all acceptable endings.
pub fn preview_claimable(
    candidates: &[String],
    graph: &BTreeMap<String, Vec<String>>,
    lanes: &BTreeMap<String, WpEnding>,
) -> ClaimablePreview {
    if candidates.is_empty() {
        return ClaimablePreview::None("no_wp_files");
    }
    let mut dependency_blocked = false;
    let mut active = false;
    let mut genesis = false;
    for wp_id in candidates {
        match lanes.get(wp_id).map_or(Lane::Genesis, |ending| ending.lane) {
            Lane::Genesis => genesis = true,
            Lane::Planned => {
                let satisfied = graph.get(wp_id).is_none_or(|dependencies| {
                    dependencies.iter().all(|dependency| {
                        lanes.get(dependency).is_some_and(WpEnding::is_acceptable)
                    })
                });
                if satisfied {
                    return ClaimablePreview::Wp(wp_id.clone());
                }
                dependency_blocked = true;
            }
            Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview => active = true,
            _ => {}
        }
    }
    ClaimablePreview::None(if dependency_blocked {
        "dependencies_not_satisfied"
    } else if active {
        "all_wps_in_progress"
    } else if genesis {
        "not_finalized"
    } else {
        "no_planned_wps"
    })
}

/// The decision on a finalized board. `preview` is the claimable work package, which the
/// caller computes only for [`BoardOverride::Implement`].
pub fn override_decision(
    identity: &DecisionIdentity,
    board_override: BoardOverride,
    preview: Option<&ClaimablePreview>,
    progress: Option<Progress>,
    run_id: Option<String>,
    timestamp: &str,
) -> Decision {
    let (state, preview_step, reason) = match board_override {
        BoardOverride::Implement => ("implement", Some("implement"), None),
        BoardOverride::Review => ("review", Some("review"), None),
        BoardOverride::Accept => ("accept", Some("accept"), None),
        BoardOverride::Done => ("done", None, Some(ALL_DONE_REASON)),
        BoardOverride::ReviewInProgress => ("blocked", None, Some("review in progress")),
        BoardOverride::NoActionableWp => ("blocked", None, Some("no actionable wp")),
    };
    let mut decision = Decision::new(DecisionKind::Query, identity, state, timestamp);
    decision.reason = reason.map(str::to_owned);
    decision.progress = progress;
    decision.run_id = run_id;
    decision.preview_step = preview_step.map(str::to_owned);
    if board_override == BoardOverride::Implement {
        match preview {
            Some(ClaimablePreview::Wp(wp_id)) => decision.wp_id = Some(wp_id.clone()),
            Some(ClaimablePreview::None(why)) => decision.reason = Some((*why).to_owned()),
            None => {}
        }
    }
    decision
}

/// Why a query has no decision (Spec Kitty's `QUERY_MODE_VALIDATION_FAILED`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryFailed(pub String);

/// The run a query reads: the persisted one (with its id), or a fresh one that is not kept.
#[derive(Debug, Clone, PartialEq)]
pub struct QueriedRun {
    /// The run's snapshot.
    pub snapshot: MissionRunSnapshot,
    /// The persisted run's id (`None` for a fresh run, whose id is never shown).
    pub run_id: Option<String>,
}

/// The decision a run's plan gives when no finalized board overrides it (steps 4 and 5 of the
/// [module](self) docs).
pub fn run_decision(
    identity: &DecisionIdentity,
    run: &QueriedRun,
    plan: &RunPlan,
    progress: Option<Progress>,
    timestamp: &str,
) -> Result<Decision, QueryFailed> {
    let snapshot = &run.snapshot;
    let issued = snapshot
        .issued_step_id
        .as_deref()
        .filter(|step| !step.is_empty());
    let fresh = issued.is_none()
        && snapshot.completed_steps.is_empty()
        && snapshot.pending_decisions.is_empty()
        && snapshot.decisions.is_empty();
    let plan_step = match plan {
        RunPlan::Step { step_id } | RunPlan::DecisionRequired { step_id, .. } => {
            Some(step_id.as_str()).filter(|step| !step.is_empty())
        }
        RunPlan::Blocked { .. } | RunPlan::Terminal => None,
    };
    let mut decision = Decision::new(DecisionKind::Query, identity, "", timestamp);
    decision.progress = progress;
    decision.run_id = run.run_id.clone();
    if fresh {
        let Some(step) = plan_step else {
            return Err(QueryFailed(format!(
                "Mission '{}' has no issuable first step for run '{}'",
                identity.mission_type, identity.mission_slug
            )));
        };
        decision.mission_state = "not_started".to_owned();
        decision.preview_step = Some(step.to_owned());
        return Ok(decision);
    }
    decision.step_id = issued.or(plan_step).map(str::to_owned);
    match plan {
        RunPlan::DecisionRequired {
            decision_id,
            input_key,
            question,
            options,
            ..
        } => {
            decision.mission_state = issued.or(plan_step).unwrap_or("unknown").to_owned();
            decision.decision_id = Some(decision_id.clone());
            decision.input_key = input_key.clone();
            decision.question = Some(question.clone());
            decision.options = options.clone();
        }
        RunPlan::Step { .. } => {
            decision.mission_state = plan_step.unwrap_or("unknown").to_owned();
        }
        RunPlan::Terminal => decision.mission_state = "done".to_owned(),
        RunPlan::Blocked { reason } => {
            decision.mission_state = issued.unwrap_or("blocked").to_owned();
            decision.reason = Some(
                snapshot
                    .blocked_reason
                    .clone()
                    .filter(|reason| !reason.is_empty())
                    .unwrap_or_else(|| reason.clone()),
            );
        }
    }
    Ok(decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(lane: Lane) -> WpEnding {
        WpEnding {
            lane,
            reason_source: None,
        }
    }

    fn canceled(reason: Option<&str>) -> WpEnding {
        WpEnding {
            lane: Lane::Canceled,
            reason_source: Some(cancellation_reason_source(reason).to_owned()),
        }
    }

    fn identity() -> DecisionIdentity {
        DecisionIdentity {
            agent: Some("claude".to_owned()),
            mission_slug: "m-01".to_owned(),
            mission_type: "software-dev".to_owned(),
            mission_id: None,
        }
    }

    fn board(ids: &[(&str, Lane)]) -> TaskBoard {
        TaskBoard {
            tasks_md: true,
            tasks_dir: true,
            file_ids: ids.iter().map(|(id, _)| (*id).to_owned()).collect(),
            lanes: ids
                .iter()
                .filter(|(_, lane)| *lane != Lane::Genesis)
                .map(|(id, lane)| ((*id).to_owned(), ending(*lane)))
                .collect(),
            weighted_percentage: Some(5.0),
        }
    }

    #[test]
    fn merged_missions_are_done_unless_a_work_package_ended_badly() {
        assert_eq!(merged_verdict(&[]), None);
        assert_eq!(
            merged_verdict(&[ending(Lane::Done), ending(Lane::Approved)]),
            Some(MergedVerdict::Done)
        );
        assert_eq!(
            merged_verdict(&[ending(Lane::Done), canceled(Some("dropped: out of scope"))]),
            Some(MergedVerdict::Done)
        );
        for reason in [
            None,
            Some("  "),
            Some("Force move to canceled"),
            Some("move-task: a -> b"),
        ] {
            assert_eq!(
                merged_verdict(&[ending(Lane::Done), canceled(reason)]),
                Some(MergedVerdict::Conflict),
                "{reason:?}"
            );
        }
        assert_eq!(
            merged_verdict(&[ending(Lane::InReview)]),
            Some(MergedVerdict::Conflict)
        );
    }

    #[test]
    fn file_ids_follow_spec_kittys_patterns() {
        assert_eq!(wp_file_id("WP01-setup.md"), "WP01");
        assert_eq!(wp_file_id("WP123.md"), "WP123");
        assert_eq!(wp_file_id("WPx.md"), "WPx");
        assert_eq!(graph_file_id("WP01-setup.md"), Some("WP01"));
        assert_eq!(graph_file_id("WP123-x.md"), Some("WP12"));
        assert_eq!(graph_file_id("WP1-x.md"), None);
    }

    #[test]
    fn front_matter_scalars_are_read_as_text() {
        let text = "---\nwork_package_id: \"WP02\"\ntitle: x # note\n---\nbody\n";
        let front = text_front_matter(text).expect("front matter");
        assert_eq!(
            front_matter_scalar(&front, "work_package_id").as_deref(),
            Some("WP02")
        );
        assert_eq!(front_matter_scalar(&front, "title").as_deref(), Some("x"));
        assert_eq!(front_matter_scalar(&front, "lane"), None);
        assert_eq!(
            front_matter_scalar("work_package_id: 'WP03'  \n", "work_package_id").as_deref(),
            Some("WP03")
        );
        assert_eq!(
            front_matter_scalar("work_package_id:\n", "work_package_id"),
            None
        );
        assert_eq!(text_front_matter("no front matter"), None);
        assert_eq!(
            text_front_matter("---\r\na: 1\r\n---\r\n").as_deref(),
            Some("a: 1")
        );
    }

    #[test]
    fn progress_counts_files_by_their_lane() {
        let progress = query_progress(&board(&[
            ("WP01", Lane::Done),
            ("WP02", Lane::Approved),
            ("WP03", Lane::InReview),
            ("WP04", Lane::Claimed),
            ("WP05", Lane::Planned),
            ("WP06", Lane::Blocked),
            ("WP07", Lane::Genesis),
        ]))
        .expect("progress");
        assert_eq!(
            progress,
            Progress {
                total_wps: 7,
                done_wps: 1,
                approved_wps: 1,
                in_progress_wps: 1,
                planned_wps: 1,
                for_review_wps: 1,
                weighted_percentage: Some(5.0),
            }
        );
        assert_eq!(query_progress(&TaskBoard::default()), None);
        assert_eq!(round1(63.333_333), 63.3);
        assert_eq!(round1(0.25), 0.2);
        assert_eq!(
            weighted_percentage(&[Lane::Approved, Lane::ForReview, Lane::Planned]),
            (0.8 + 0.6) / 3.0 * 100.0
        );
    }

    #[test]
    fn a_finalized_board_overrides_the_run() {
        let cases = [
            (
                vec![("WP01", Lane::Done), ("WP02", Lane::Planned)],
                BoardOverride::Implement,
            ),
            (
                vec![("WP01", Lane::ForReview), ("WP02", Lane::InReview)],
                BoardOverride::Review,
            ),
            (
                vec![("WP01", Lane::InReview)],
                BoardOverride::ReviewInProgress,
            ),
            (vec![("WP01", Lane::Done)], BoardOverride::Done),
            (
                vec![("WP01", Lane::Done), ("WP02", Lane::Approved)],
                BoardOverride::Accept,
            ),
            (
                vec![("WP01", Lane::Done), ("WP02", Lane::Canceled)],
                BoardOverride::NoActionableWp,
            ),
            (vec![("WP01", Lane::Genesis)], BoardOverride::NoActionableWp),
        ];
        for (ids, expected) in cases {
            let board = board(&ids);
            let progress = query_progress(&board);
            assert_eq!(
                finalized_override(&board, progress.as_ref()),
                Some(expected),
                "{ids:?}"
            );
        }
        let mut no_tasks_md = board(&[("WP01", Lane::Done)]);
        no_tasks_md.tasks_md = false;
        let progress = query_progress(&no_tasks_md);
        assert_eq!(finalized_override(&no_tasks_md, progress.as_ref()), None);
    }

    #[test]
    fn the_claimable_work_package_waits_for_its_dependencies() {
        let lanes: BTreeMap<String, WpEnding> = [
            ("WP01", ending(Lane::Approved)),
            ("WP02", ending(Lane::Planned)),
            ("WP03", ending(Lane::Planned)),
            ("WP04", canceled(Some("not needed"))),
        ]
        .into_iter()
        .map(|(id, ending)| (id.to_owned(), ending))
        .collect();
        let ids = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
        let graph: BTreeMap<String, Vec<String>> = [
            ("WP02".to_owned(), ids(&["WP03"])),
            ("WP03".to_owned(), ids(&["WP01", "WP04"])),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            preview_claimable(&ids(&["WP01", "WP02", "WP03"]), &graph, &lanes),
            ClaimablePreview::Wp("WP03".to_owned())
        );
        assert_eq!(
            preview_claimable(&ids(&["WP02"]), &graph, &lanes),
            ClaimablePreview::None("dependencies_not_satisfied")
        );
        assert_eq!(
            preview_claimable(&ids(&["WP09"]), &graph, &lanes),
            ClaimablePreview::None("not_finalized")
        );
        assert_eq!(
            preview_claimable(&ids(&["WP01"]), &graph, &lanes),
            ClaimablePreview::None("no_planned_wps")
        );
        assert_eq!(
            preview_claimable(&[], &graph, &lanes),
            ClaimablePreview::None("no_wp_files")
        );
    }

    #[test]
    fn a_run_that_did_nothing_previews_its_first_step() {
        let run = QueriedRun {
            snapshot: MissionRunSnapshot::new_run("r", "software-dev", "p", "h", None, "m-01"),
            run_id: None,
        };
        let step = RunPlan::Step {
            step_id: "discovery".to_owned(),
        };
        let decision = run_decision(&identity(), &run, &step, None, "t").expect("decision");
        assert_eq!(decision.mission_state, "not_started");
        assert_eq!(decision.preview_step.as_deref(), Some("discovery"));
        assert_eq!(decision.step_id, None);
        assert!(run_decision(&identity(), &run, &RunPlan::Terminal, None, "t").is_err());
    }

    #[test]
    fn a_run_under_way_shows_its_plan() {
        let mut snapshot = MissionRunSnapshot::new_run("r", "software-dev", "p", "h", None, "m");
        snapshot.completed_steps = vec!["discovery".to_owned()];
        snapshot.issued_step_id = Some("specify".to_owned());
        let run = QueriedRun {
            snapshot,
            run_id: Some("r".to_owned()),
        };
        let blocked = RunPlan::Blocked {
            reason: "No eligible steps: remaining steps have unmet dependencies.".to_owned(),
        };
        let decision = run_decision(&identity(), &run, &blocked, None, "t").expect("decision");
        assert_eq!(decision.mission_state, "specify");
        assert_eq!(decision.step_id.as_deref(), Some("specify"));
        assert_eq!(decision.run_id.as_deref(), Some("r"));
        assert_eq!(
            decision.reason.as_deref(),
            Some("No eligible steps: remaining steps have unmet dependencies.")
        );
        let done = run_decision(&identity(), &run, &RunPlan::Terminal, None, "t").expect("done");
        assert_eq!((done.mission_state.as_str(), done.reason), ("done", None));
    }
}
