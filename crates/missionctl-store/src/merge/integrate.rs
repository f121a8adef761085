//! Integration by plumbing: every merge of the mission is computed with
//! `git merge-tree --write-tree` (a plain three-way merge: no strategy option, no checkout, no
//! ref moved) and commit objects written in process. Only objects are written here; refs move
//! later, in one write-door transaction.
//!
//! git's merge drivers for Spec Kitty's bookkeeping files are replaced, for these merges only,
//! by one that declines, so git starts no other program and every such file both sides changed
//! is settled here instead, by [`reconcile_rule`]: event logs are unioned, `status.json` is
//! derived again from the merged log, the mission's planning artifacts are taken from the
//! planning surface (the target branch), matrices keep the side merged into, traces are
//! unioned. Any other file both sides changed in ways git cannot combine is a conflict: the
//! merge stops and names it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use gix::ObjectId;
use missionctl_core::lifecycle::merge::{
    BOOKKEEPING_DRIVERS, Reconcile, reconcile_rule, union_trace_texts,
};
use missionctl_core::mission::meta::KITTY_SPECS_DIR;
use missionctl_core::status::event_log;
use missionctl_core::status::log_merge::merge_event_logs;
use missionctl_core::status::reducer::reduce_with_identity;
use serde_json::Value;

use super::MergeError;
use crate::git::{GitError, git_accepting};
use crate::write::CommitIdentity;

/// A tree entry: mode and object id.
type Entry = (u32, ObjectId);

/// The entries of a subtree, by repository-relative path.
type Entries = BTreeMap<String, Entry>;

/// What merging two commits gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeMerge {
    /// The merged tree, bookkeeping reconciled (meaningless while `conflicts` is not empty).
    pub(crate) tree: ObjectId,
    /// The paths git could not merge and no rule settles, sorted.
    pub(crate) conflicts: Vec<String>,
    /// The bookkeeping paths settled here, with the entry they got (`None`: removed).
    pub(crate) reconciled: Vec<(String, Option<Entry>)>,
    /// Planning artifacts the merged side changed that were kept as the planning surface has
    /// them.
    pub(crate) planning_kept: Vec<String>,
}

/// The merge engine of one mission: its repository, the planning surface's tree and the
/// identity of the commits it writes.
pub(crate) struct Integrator<'a> {
    pub(crate) root: &'a Path,
    pub(crate) gix: &'a gix::Repository,
    pub(crate) mission_slug: &'a str,
    /// The tree of the planning surface (the target branch's tip): planning artifacts of the
    /// mission come from here.
    pub(crate) planning_tree: ObjectId,
    pub(crate) identity: Option<&'a CommitIdentity>,
    pub(crate) seconds: i64,
}

impl Integrator<'_> {
    /// Runs git in the repository with every bookkeeping merge driver declining.
    fn git(&self, args: &[String], accepted: &[i32]) -> Result<std::process::Output, GitError> {
        let mut full: Vec<String> = Vec::with_capacity(args.len() + 2 * BOOKKEEPING_DRIVERS.len());
        for driver in BOOKKEEPING_DRIVERS {
            full.push("-c".to_owned());
            full.push(format!("merge.{driver}.driver=false"));
        }
        full.extend(args.iter().cloned());
        git_accepting(self.root, &full, Stdio::null(), None, accepted)
    }

    /// Returns the merge bases of two commits (none: unrelated histories), computed in process.
    pub(crate) fn merge_bases(
        &self,
        a: ObjectId,
        b: ObjectId,
    ) -> Result<Vec<ObjectId>, MergeError> {
        Ok(self
            .gix
            .merge_bases_many(a, &[b])
            .map_err(|error| MergeError::objects("find a merge base", error))?
            .into_iter()
            .map(gix::Id::detach)
            .collect())
    }

    /// Returns true when `ancestor` is `descendant` or one of its ancestors.
    pub(crate) fn is_ancestor(
        &self,
        ancestor: ObjectId,
        descendant: ObjectId,
    ) -> Result<bool, MergeError> {
        if ancestor == descendant {
            return Ok(true);
        }
        Ok(self.merge_bases(ancestor, descendant)?.contains(&ancestor))
    }

    /// Merges `theirs` into `ours` (commits) and reconciles the bookkeeping.
    pub(crate) fn merge(&self, ours: ObjectId, theirs: ObjectId) -> Result<TreeMerge, MergeError> {
        let bases = self.merge_bases(ours, theirs)?;
        let Some(base) = bases.first().copied() else {
            return Err(MergeError::UnrelatedHistories {
                ours: ours.to_string(),
                theirs: theirs.to_string(),
            });
        };
        let mut args = vec![
            "merge-tree".to_owned(),
            "--write-tree".to_owned(),
            "-z".to_owned(),
            "--name-only".to_owned(),
            "--no-messages".to_owned(),
        ];
        if bases.len() == 1 {
            args.push(format!("--merge-base={base}"));
        }
        args.push(ours.to_string());
        args.push(theirs.to_string());
        let output = self.git(&args, &[1])?;
        let mut fields = output.stdout.split(|byte| *byte == 0);
        let tree = fields
            .next()
            .and_then(|hex| ObjectId::from_hex(hex.trim_ascii()).ok())
            .ok_or_else(|| MergeError::MergeTreeOutput {
                output: String::from_utf8_lossy(&output.stdout).into_owned(),
            })?;
        let mut conflicts: Vec<String> = fields
            .take_while(|name| !name.is_empty())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        conflicts.sort();
        conflicts.dedup();

        let base_tree = self.tree_of(base)?;
        let ours_tree = self.tree_of(ours)?;
        let theirs_tree = self.tree_of(theirs)?;
        let settled = self.reconcile(base_tree, ours_tree, theirs_tree, tree)?;
        conflicts.retain(|path| !settled.paths.contains_key(path));
        let tree = if settled.paths.is_empty() {
            tree
        } else {
            self.edit_tree(tree, &settled.paths)?
        };
        Ok(TreeMerge {
            tree,
            conflicts,
            reconciled: settled.paths.into_iter().collect(),
            planning_kept: settled.planning_kept,
        })
    }

    /// Settles the bookkeeping files under `kitty-specs/` of a merge.
    fn reconcile(
        &self,
        base: ObjectId,
        ours: ObjectId,
        theirs: ObjectId,
        merged: ObjectId,
    ) -> Result<Settled, MergeError> {
        let [base, ours, theirs, merged, planning] =
            [base, ours, theirs, merged, self.planning_tree]
                .map(|tree| self.kitty_specs_entries(tree));
        let (base, ours, theirs, merged, planning) = (base?, ours?, theirs?, merged?, planning?);
        let mut paths: BTreeMap<String, Option<Entry>> = BTreeMap::new();
        let mut planning_kept = Vec::new();
        let mut logs_merged: Vec<String> = Vec::new();
        let candidates: std::collections::BTreeSet<&String> = ours
            .keys()
            .chain(theirs.keys())
            .chain(base.keys())
            .chain(planning.keys())
            .collect();
        for path in candidates {
            let Some(rule) = reconcile_rule(path, self.mission_slug) else {
                continue;
            };
            let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
            if rule == Reconcile::PlanningSurface {
                let wanted = planning.get(path).copied();
                // A side that changed the file to something else than the planning surface has:
                // a lane's copy, which is not taken.
                let changed = |side: Option<&Entry>| side != b && side.copied() != wanted;
                if changed(o) || changed(t) {
                    planning_kept.push(path.clone());
                }
                if merged.get(path).copied() != wanted {
                    paths.insert(path.clone(), wanted);
                }
                continue;
            }
            let three_differ = b != o && b != t && o != t;
            if !three_differ {
                continue;
            }
            let entry = match rule {
                Reconcile::EventLogUnion => {
                    let merged_bytes =
                        merge_event_logs(&self.blob(b)?, &self.blob(o)?, &self.blob(t)?);
                    match merged_bytes {
                        Ok(bytes) => {
                            logs_merged.push(path.clone());
                            Some((0o100_644, self.write_blob(&bytes)?))
                        }
                        // Rows git and the union cannot combine stay a conflict.
                        Err(_) => continue,
                    }
                }
                Reconcile::KeepOurs => o.copied(),
                Reconcile::TraceUnion => {
                    let text = union_trace_texts(
                        &String::from_utf8_lossy(&self.blob(o)?),
                        &String::from_utf8_lossy(&self.blob(t)?),
                    );
                    Some((0o100_644, self.write_blob(text.as_bytes())?))
                }
                // Derived below, from the merged log; planning handled above.
                Reconcile::DerivedSnapshot | Reconcile::PlanningSurface => {
                    logs_merged.push(path.replace("status.json", "status.events.jsonl"));
                    continue;
                }
            };
            paths.insert(path.clone(), entry);
        }
        // `status.json` of every mission whose log was merged is derived again.
        logs_merged.sort();
        logs_merged.dedup();
        for log_path in logs_merged {
            let Some(dir) = log_path.strip_suffix("/status.events.jsonl") else {
                continue;
            };
            let snapshot_path = format!("{dir}/status.json");
            let present = merged.contains_key(&snapshot_path)
                || ours.contains_key(&snapshot_path)
                || theirs.contains_key(&snapshot_path);
            if !present {
                continue;
            }
            let log_entry = match paths.get(&log_path) {
                Some(entry) => *entry,
                None => merged.get(&log_path).copied(),
            };
            let meta_path = format!("{dir}/meta.json");
            let meta_entry = match paths.get(&meta_path) {
                Some(entry) => *entry,
                None => merged.get(&meta_path).copied(),
            };
            let log = event_log::parse(&self.blob(log_entry.as_ref())?);
            let meta: Option<serde_json::Map<String, Value>> =
                serde_json::from_slice(&self.blob(meta_entry.as_ref())?).ok();
            let Ok(snapshot) = reduce_with_identity(&log, meta.as_ref()) else {
                continue;
            };
            let bytes = snapshot.to_status_json().into_bytes();
            paths.insert(snapshot_path, Some((0o100_644, self.write_blob(&bytes)?)));
        }
        Ok(Settled {
            paths,
            planning_kept,
        })
    }

    /// Returns the tree of a commit.
    pub(crate) fn tree_of(&self, commit: ObjectId) -> Result<ObjectId, MergeError> {
        Ok(crate::write::tree_of_commit(self.gix, commit)?)
    }

    /// Returns every blob under `kitty-specs/` of a tree, by repository-relative path.
    fn kitty_specs_entries(&self, tree: ObjectId) -> Result<Entries, MergeError> {
        let mut entries = Entries::new();
        let tree = self
            .gix
            .find_tree(tree)
            .map_err(|error| MergeError::objects("read a tree", error))?;
        let Some(entry) = tree
            .lookup_entry_by_path(KITTY_SPECS_DIR)
            .map_err(|error| MergeError::objects("read a tree", error))?
        else {
            return Ok(entries);
        };
        if entry.mode().is_tree() {
            self.walk(entry.object_id(), KITTY_SPECS_DIR, &mut entries)?;
        }
        Ok(entries)
    }

    fn walk(&self, tree: ObjectId, prefix: &str, out: &mut Entries) -> Result<(), MergeError> {
        let tree = self
            .gix
            .find_tree(tree)
            .map_err(|error| MergeError::objects("read a tree", error))?;
        for entry in tree.iter() {
            let entry = entry.map_err(|error| MergeError::objects("read a tree", error))?;
            let path = format!("{prefix}/{}", entry.filename());
            if entry.mode().is_tree() {
                self.walk(entry.object_id(), &path, out)?;
            } else {
                out.insert(path, (u32::from(entry.mode().value()), entry.object_id()));
            }
        }
        Ok(())
    }

    /// Returns a blob's bytes (empty for none).
    fn blob(&self, entry: Option<&Entry>) -> Result<Vec<u8>, MergeError> {
        let Some((_, id)) = entry else {
            return Ok(Vec::new());
        };
        Ok(self
            .gix
            .find_object(*id)
            .map_err(|error| MergeError::objects("read a file", error))?
            .data
            .clone())
    }

    fn write_blob(&self, bytes: &[u8]) -> Result<ObjectId, MergeError> {
        Ok(self
            .gix
            .write_blob(bytes)
            .map_err(|error| MergeError::objects("write a file", error))?
            .detach())
    }

    /// Returns `base` with each path set to its entry, or removed for `None`.
    fn edit_tree(
        &self,
        base: ObjectId,
        paths: &BTreeMap<String, Option<Entry>>,
    ) -> Result<ObjectId, MergeError> {
        let mut editor = self
            .gix
            .edit_tree(base)
            .map_err(|error| MergeError::objects("read a tree", error))?;
        for (path, entry) in paths {
            match entry {
                Some((mode, id)) => {
                    editor
                        .upsert(path.as_str(), crate::write::entry_kind(*mode), *id)
                        .map_err(|error| MergeError::objects("edit a tree", error))?;
                }
                None => {
                    editor
                        .remove(path.as_str())
                        .map_err(|error| MergeError::objects("edit a tree", error))?;
                }
            }
        }
        Ok(editor
            .write()
            .map_err(|error| MergeError::objects("write a tree", error))?
            .detach())
    }

    /// Writes a commit of `tree` with `parents` and `message`, and returns it.
    pub(crate) fn commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        message: &str,
    ) -> Result<ObjectId, MergeError> {
        crate::write::write_commit_object(
            self.gix,
            tree,
            parents,
            message,
            self.identity,
            self.seconds,
        )
        .map_err(|error| MergeError::objects("write a commit", error))
    }
}

/// What [`Integrator::reconcile`] settled.
struct Settled {
    paths: BTreeMap<String, Option<Entry>>,
    planning_kept: Vec<String>,
}
