//! The reducer for a log that grows: [`IncrementalReducer`] folds only the bytes appended since
//! it last looked onto the snapshot it already has, and gives the same snapshot as
//! [`reduce`](super::reduce) of the whole log.
//!
//! A log is read as it is written, so the reducer takes bytes, not rows. Only complete lines
//! (ended by `\n`) are folded; the bytes after the last newline wait for the rest of their
//! line, so a row caught half written is neither an error nor lost. The reducer's rules do
//! not depend on the order of the lines, so an appended row may sort anywhere: each work
//! package keeps its rows in the reducer's order and only the work packages that received a
//! row are folded again. Whether new bytes really extend what was folded — and not a log
//! rewritten in place, as a merge does — is for the caller to check with
//! [`IncrementalReducer::extends`]; when they do not, it starts again from the whole log.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::status::event::{Annotation, ForeignKind, ForeignRow, LogRow, StatusEvent};
use crate::status::event_log::{self, RowError};
use crate::status::snapshot::{StatusSnapshot, WpState};

use super::{
    Fnv, FnvBuild, Fold, annotated_only, apply_delta, is_safe_segment, retrospective_order,
    summarize_retrospective,
};

/// A reducer that folds a log as it grows. See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct IncrementalReducer {
    /// How many bytes of complete lines were folded.
    consumed: u64,
    /// FNV-1a of those bytes, to tell an extended log from a rewritten one.
    prefix_hash: Fnv,
    /// The bytes after the last newline: a line still being written.
    pending: Vec<u8>,
    /// How many complete lines were folded (the next line's number, minus one).
    lines: usize,
    /// The ids of the transitions folded: the first row with an id wins.
    seen: HashSet<String, FnvBuild>,
    /// The rows and the state of each work package.
    packages: BTreeMap<String, Package>,
    /// The retrospective stream rows, in the order the retrospective pass reads them.
    retrospective: Vec<ForeignRow>,
    /// Every unreadable complete line.
    errors: Vec<RowError>,
}

/// What one call to [`IncrementalReducer::feed`] folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fed {
    /// The rows of the complete lines fed, in file order, with their 1-based line numbers
    /// (duplicates included: the reducer drops them, a reader may want to know).
    pub rows: Vec<(usize, LogRow)>,
    /// The unreadable complete lines fed.
    pub errors: Vec<RowError>,
    /// The work packages whose state changed.
    pub work_packages: BTreeSet<String>,
}

/// One work package's rows, in the reducer's order, and its folded state.
#[derive(Debug, Clone, Default)]
struct Package {
    /// Distinct transitions, sorted by `(at, event_id)`.
    transitions: Vec<StatusEvent>,
    /// Annotations, sorted by `(at, event_id)` and otherwise in file order.
    annotations: Vec<Annotation>,
    /// The state of [`Package::fold`], once computed.
    state: Option<WpState>,
}

impl Package {
    /// Folds the work package's rows into its state, exactly as the whole-log reducer does.
    fn fold(&self) -> Option<WpState> {
        let mut state = match self.transitions.split_first() {
            Some((first, rest)) => {
                let mut fold = Fold::new(first);
                fold.apply(first);
                for event in rest {
                    fold.step(event);
                }
                fold.finish()
            }
            None => annotated_only(self.annotations.first()?),
        };
        for annotation in &self.annotations {
            apply_delta(&mut state, &annotation.delta);
        }
        Some(state)
    }
}

fn event_key(event: &StatusEvent) -> (&str, &str) {
    (event.at.as_str(), event.event_id.as_str())
}

fn annotation_key(annotation: &Annotation) -> (&str, &str) {
    (annotation.at.as_str(), annotation.event_id.as_str())
}

impl IncrementalReducer {
    /// Returns a reducer that has folded nothing (an empty log).
    pub fn new() -> IncrementalReducer {
        IncrementalReducer::default()
    }

    /// Returns a reducer that has folded the whole of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> IncrementalReducer {
        let mut reducer = IncrementalReducer::new();
        reducer.feed(bytes);
        reducer
    }

    /// Returns how many bytes were fed: the complete lines and the line still being written.
    pub fn len(&self) -> u64 {
        self.consumed + self.pending.len() as u64
    }

    /// Returns true when nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns true when `whole` begins with every byte fed so far, so that the rest of it
    /// can be [fed](IncrementalReducer::feed) as an append. A log rewritten in place (a merge
    /// that sorted rows in, a line edited, a shorter file) does not.
    pub fn extends(&self, whole: &[u8]) -> bool {
        let Ok(consumed) = usize::try_from(self.consumed) else {
            return false;
        };
        let end = consumed + self.pending.len();
        if whole.len() < end {
            return false;
        }
        let mut hash = Fnv::default();
        std::hash::Hasher::write(&mut hash, &whole[..consumed]);
        hash.0 == self.prefix_hash.0 && whole[consumed..end] == self.pending[..]
    }

    /// Returns every unreadable complete line fed so far, in file order. A line still being
    /// written is never one.
    pub fn errors(&self) -> &[RowError] {
        &self.errors
    }

    /// Folds bytes appended to the log. Complete lines are read and folded; what follows the
    /// last newline waits for the rest of its line.
    pub fn feed(&mut self, bytes: &[u8]) -> Fed {
        let Some(last_newline) = memchr::memrchr(b'\n', bytes) else {
            self.pending.extend_from_slice(bytes);
            return Fed::default();
        };
        let (complete, rest) = bytes.split_at(last_newline + 1);
        let mut chunk = std::mem::take(&mut self.pending);
        chunk.extend_from_slice(complete);
        self.pending = rest.to_vec();

        std::hash::Hasher::write(&mut self.prefix_hash, &chunk);
        self.consumed += chunk.len() as u64;
        let log = event_log::parse_lines(&chunk, self.lines + 1);
        self.lines += memchr::memchr_iter(b'\n', &chunk).count();
        let (rows, errors) = (log.rows, log.errors);
        self.errors.extend(errors.iter().cloned());
        let work_packages = self.absorb(rows.iter().map(|(_, row)| row.clone()));
        Fed {
            rows,
            errors,
            work_packages,
        }
    }

    /// Adds rows to the work packages they belong to, then folds each work package that
    /// received one again. Returns the work packages whose state changed.
    fn absorb(&mut self, rows: impl IntoIterator<Item = LogRow>) -> BTreeSet<String> {
        let mut touched: BTreeMap<String, bool> = BTreeMap::new();
        let mut retrospective_sorted = true;
        for row in rows {
            match row {
                LogRow::Transition(event) => {
                    if !self.seen.insert(event.event_id.clone()) {
                        continue;
                    }
                    let package = self.packages.entry(event.wp_id.clone()).or_default();
                    let in_order = package
                        .transitions
                        .last()
                        .is_none_or(|last| event_key(last) < event_key(&event));
                    let sorted = touched.entry(event.wp_id.clone()).or_insert(true);
                    *sorted &= in_order;
                    package.transitions.push(event);
                }
                LogRow::Annotation(annotation) => {
                    let package = self.packages.entry(annotation.wp_id.clone()).or_default();
                    let in_order = package
                        .annotations
                        .last()
                        .is_none_or(|last| annotation_key(last) <= annotation_key(&annotation));
                    let sorted = touched.entry(annotation.wp_id.clone()).or_insert(true);
                    *sorted &= in_order;
                    package.annotations.push(annotation);
                }
                LogRow::Foreign(row) if row.kind == ForeignKind::RetrospectiveStream => {
                    retrospective_sorted &= self
                        .retrospective
                        .last()
                        .is_none_or(|last| retrospective_order(last, &row).is_le());
                    self.retrospective.push(row);
                }
                LogRow::Foreign(_) => {}
            }
        }
        if !retrospective_sorted {
            self.retrospective.sort_by(retrospective_order);
        }
        let mut changed = BTreeSet::new();
        for (wp_id, sorted) in touched {
            let Some(package) = self.packages.get_mut(&wp_id) else {
                continue;
            };
            if !sorted {
                // Stable sorts: rows already in order keep their place before later ones
                // with the same key, as in the whole-log reducer.
                package
                    .transitions
                    .sort_by(|a, b| event_key(a).cmp(&event_key(b)));
                package
                    .annotations
                    .sort_by(|a, b| annotation_key(a).cmp(&annotation_key(b)));
            }
            let state = package.fold();
            if state != package.state {
                package.state = state;
                changed.insert(wp_id);
            }
        }
        changed
    }

    /// Returns the snapshot of everything fed: equal to [`reduce`](super::reduce) of the same
    /// bytes. A last line without its newline counts when it is already a whole row (a log
    /// that does not end with a newline); while it is cut short it is left out, as the
    /// whole-log reducer leaves out an unreadable line.
    pub fn snapshot(&self) -> StatusSnapshot {
        match self.pending_row() {
            Some(row) => {
                let mut with_last = self.clone();
                with_last.absorb([row]);
                with_last.build()
            }
            None => self.build(),
        }
    }

    /// Returns the row of the line still being written, when it is already a whole row.
    fn pending_row(&self) -> Option<LogRow> {
        if self.pending.is_empty() {
            return None;
        }
        let log = event_log::parse(&self.pending);
        if !log.errors.is_empty() {
            return None;
        }
        let mut rows = log.rows.into_iter();
        let (_, row) = rows.next()?;
        rows.next().is_none().then_some(row)
    }

    fn build(&self) -> StatusSnapshot {
        let mut snapshot = StatusSnapshot {
            event_count: self.seen.len(),
            ..StatusSnapshot::default()
        };
        let firsts = self
            .packages
            .values()
            .filter_map(|package| package.transitions.first());
        if let Some(first) = firsts.min_by(|a, b| event_key(a).cmp(&event_key(b)))
            && is_safe_segment(&first.mission_slug)
        {
            snapshot.mission_slug = first.mission_slug.trim().to_owned();
        }
        let lasts = self
            .packages
            .values()
            .filter_map(|package| package.transitions.last());
        if let Some(last) = lasts.max_by(|a, b| event_key(a).cmp(&event_key(b))) {
            snapshot.last_event_id = Some(last.event_id.clone());
            snapshot.materialized_at = last.at.clone();
        }
        snapshot.work_packages = self
            .packages
            .iter()
            .filter_map(|(wp_id, package)| Some((wp_id.clone(), package.state.clone()?)))
            .collect();
        snapshot.retrospective = summarize_retrospective(&self.retrospective);
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::reducer::reduce;

    const ROW: &str = r#"{"actor": "claude", "at": "2026-07-25T13:51:30.644518+00:00", "event_id": "01KYCRQ6AMWZEX5FRJ7592KQMA", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "planned", "mission_id": null, "mission_slug": "m-01KYCF83", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "claimed", "wp_id": "WP01"}"#;

    #[test]
    fn a_line_cut_short_waits_for_its_end() {
        let text = format!("{ROW}\n");
        let (head, tail) = text.split_at(40);
        let mut reducer = IncrementalReducer::new();
        let fed = reducer.feed(head.as_bytes());
        assert!(fed.rows.is_empty() && fed.errors.is_empty());
        assert!(reducer.snapshot().work_packages.is_empty());
        let fed = reducer.feed(tail.as_bytes());
        assert_eq!(fed.rows.len(), 1);
        assert_eq!(fed.rows[0].0, 1);
        assert_eq!(
            fed.work_packages.into_iter().collect::<Vec<_>>(),
            vec!["WP01"]
        );
        let whole = reduce(&event_log::parse(text.as_bytes()));
        assert_eq!(reducer.snapshot(), whole);
    }

    #[test]
    fn a_last_row_without_its_newline_counts() {
        let reducer = IncrementalReducer::from_bytes(ROW.as_bytes());
        assert_eq!(reducer.snapshot().event_count, 1);
        assert_eq!(reducer.len(), ROW.len() as u64);
        assert!(reducer.extends(format!("{ROW}\n").as_bytes()));
        assert!(!reducer.extends(&ROW.as_bytes()[1..]));
    }

    #[test]
    fn errors_keep_their_line_numbers_across_feeds() {
        let mut reducer = IncrementalReducer::from_bytes(format!("{ROW}\n\n").as_bytes());
        let fed = reducer.feed(b"not json\n");
        assert_eq!(fed.errors.len(), 1);
        assert_eq!(fed.errors[0].line, 3);
        assert!(
            fed.errors[0]
                .message
                .starts_with("Invalid JSON on line 3: ")
        );
        assert_eq!(reducer.errors(), &fed.errors[..]);
    }
}
