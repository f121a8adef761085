//! `migrate backfill-topology`: persist the derived topology of every mission that has none,
//! once, by Spec Kitty's rules.
//!
//! Per mission directory under `kitty-specs/` (sorted): no `meta.json` ⇒ skip; a malformed one ⇒
//! error (reported, the run goes on); a stored topology ⇒ skip, never overwritten; otherwise the
//! core's [`decide_backfill`] derives it — a derivation that routes through coordination whose
//! declared branch is gone locally and from every remote is skipped with a suggestion to
//! flatten. The write is canonical and atomic, with validation off (Spec Kitty's mutator).
//! Nothing is committed: the rewritten `meta.json` files are left for the user to review and
//! commit. A second run finds every topology stored and changes nothing.

use std::path::PathBuf;

use missionctl_core::mission::meta::MetaReadPolicy;
use missionctl_core::mission::topology::{
    BackfillDecision, BackfillFacts, LanesJsonState, MissionTopology, decide_backfill,
    derive_legacy_topology,
};
use serde::Serialize;

use crate::fs_util::PathError;
use crate::mission::index::mission_dir_names;
use crate::mission::meta_store::{MetaFileError, MetaValidation, PrimaryMissionDir};
use crate::repo::Repo;
use crate::write::{Scope, WriteTransaction};

/// What backfill did with one mission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackfillAction {
    /// The topology was written (with `dry_run`: would be written).
    Wrote,
    /// Nothing to do, or not safe to do; `reason` says which.
    Skip,
    /// `meta.json` could not be read or written.
    Error,
}

/// One mission's line of the backfill report (Spec Kitty's record shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackfillRecord {
    /// The mission directory (absolute).
    pub feature_dir: PathBuf,
    /// The directory name.
    pub slug: String,
    /// What was done.
    pub action: BackfillAction,
    /// The stored or derived topology.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology: Option<MissionTopology>,
    /// Why it was skipped, or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A warning (a corrupt `lanes.json` counted as no lanes; a missing coordination branch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// One record per mission directory, sorted by name.
    pub records: Vec<BackfillRecord>,
}

impl BackfillReport {
    /// Returns true when any mission's record is an error (the command then exits 1).
    pub fn has_errors(&self) -> bool {
        self.records
            .iter()
            .any(|record| record.action == BackfillAction::Error)
    }

    /// Returns how many records have `action`.
    pub fn count(&self, action: BackfillAction) -> usize {
        self.records
            .iter()
            .filter(|record| record.action == action)
            .count()
    }
}

/// Which missions a backfill run covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillOptions {
    /// Report what would be written without writing.
    pub dry_run: bool,
    /// Only the mission whose directory name is exactly this.
    pub mission: Option<String>,
}

/// Progress of a backfill run, reported before each mission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillProgress<'a> {
    /// The 0-based position of the mission.
    pub index: usize,
    /// How many missions the run covers.
    pub total: usize,
    /// The mission directory name.
    pub slug: &'a str,
}

/// Why a backfill run could not run at all (one mission's problem is a record, not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackfillError {
    /// `kitty-specs/` could not be listed.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl BackfillError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            BackfillError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            BackfillError::Io(error) if error.escape().is_some() => error.hint(),
            BackfillError::Io(_) => "Check the permissions of `kitty-specs/`".to_owned(),
        }
    }
}

/// Backfills the topology of every mission without one (see the [module](self) docs).
///
/// `progress` is called before each mission; the CLI prints it on stderr when there are many.
pub fn backfill_topology(
    repo: &Repo,
    options: &BackfillOptions,
    progress: &mut dyn FnMut(BackfillProgress<'_>),
) -> Result<BackfillReport, BackfillError> {
    // A killed write (a backfill's, or any other's) is settled before anything is read.
    crate::write::recover_all(repo);
    let names: Vec<String> = mission_dir_names(repo)?
        .into_iter()
        .filter(|name| {
            options
                .mission
                .as_deref()
                .is_none_or(|wanted| wanted == name)
        })
        .collect();
    let total = names.len();
    let mut records = Vec::with_capacity(total);
    for (index, name) in names.iter().enumerate() {
        progress(BackfillProgress {
            index,
            total,
            slug: name,
        });
        let Ok(dir) = PrimaryMissionDir::new(repo, name) else {
            continue;
        };
        records.push(backfill_one(repo, &dir, options.dry_run));
    }
    Ok(BackfillReport {
        dry_run: options.dry_run,
        records,
    })
}

fn backfill_one(repo: &Repo, dir: &PrimaryMissionDir, dry_run: bool) -> BackfillRecord {
    let mut record = BackfillRecord {
        feature_dir: dir.path().to_path_buf(),
        slug: dir.dir_name().to_owned(),
        action: BackfillAction::Skip,
        topology: None,
        reason: None,
        warning: None,
    };
    let fail = |mut record: BackfillRecord, reason: String| {
        record.action = BackfillAction::Error;
        record.reason = Some(reason);
        record
    };
    let mut meta = match dir.read_meta(MetaReadPolicy::Optional) {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            record.reason = Some("meta.json not found".to_owned());
            return record;
        }
        Err(error) => return fail(record, error.to_string()),
    };
    if let Some(stored) = meta.stored_topology() {
        record.topology = Some(stored);
        record.reason = Some("topology already present".to_owned());
        return record;
    }
    let lanes_json = match dir.lanes_json_state() {
        Ok(state) => state,
        Err(error) => return fail(record, error.to_string()),
    };
    if lanes_json == LanesJsonState::Corrupt {
        record.warning = Some(format!(
            "`{}` does not read as a lanes manifest; counted as no lanes",
            dir.lanes_path().display()
        ));
    }
    // The git probe runs only when the derivation routes through coordination.
    let coordination_branch_exists = match meta.coordination_branch() {
        Ok(Some(branch))
            if derive_legacy_topology(&meta, lanes_json).routes_through_coordination() =>
        {
            repo.coordination_branch_exists(branch)
        }
        _ => true,
    };
    let decision = decide_backfill(
        &meta,
        BackfillFacts {
            lanes_json,
            coordination_branch_exists,
        },
    );
    record.topology = Some(decision.topology());
    record.reason = decision.reason().map(str::to_owned);
    match decision {
        BackfillDecision::Write(topology) => {
            record.action = BackfillAction::Wrote;
            if !dry_run {
                meta.store_backfilled_topology(topology);
                let written = WriteTransaction::begin(
                    repo,
                    Scope::Mission(dir.dir_name().to_owned()),
                    "migrate backfill-topology",
                )
                .map_err(MetaFileError::from)
                .and_then(|mut transaction| {
                    // Under the lock, the file as it is now: another writer may have stored a
                    // topology meanwhile, which is kept.
                    let current = dir.read_meta(MetaReadPolicy::Optional)?;
                    if current.is_some_and(|current| current.stored_topology().is_none()) {
                        dir.write_meta(&mut transaction, &meta, MetaValidation::Skip)?;
                    }
                    transaction.finish()?;
                    Ok(())
                });
                if let Err(error) = written {
                    return fail(record, describe(&error));
                }
            }
        }
        BackfillDecision::SkipCoordinationBranchAbsent {
            coordination_branch,
            ..
        } => {
            record.warning = Some(format!(
                "coordination branch `{coordination_branch}` is gone locally and from every \
                 remote; run `missionctl mission flatten --mission {}` instead",
                dir.dir_name()
            ));
        }
        BackfillDecision::AlreadyStored(_) => {}
        // A decision added to the core later is reported, never guessed at.
        other => {
            return fail(record, format!("unexpected backfill decision {other:?}"));
        }
    }
    record
}

fn describe(error: &MetaFileError) -> String {
    error.to_string()
}
