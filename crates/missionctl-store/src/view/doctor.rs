//! The doctor: read-only findings about missions, each with a code, a severity and the
//! command that fixes it (`doctor --json`).

use missionctl_core::status::lane::Lane;
use missionctl_core::status::validate::{
    PHANTOM_WORK_PACKAGE, SnapshotOnDisk, phantom_work_package, validate,
};
use serde::Serialize;
use serde_json::Value;

use crate::mission::dir::{EVENT_LOG_FILE, SNAPSHOT_FILE};
use crate::mission::index::MissionSummary;
use crate::planning::work_package::work_package_files;
use crate::repo::Repo;
use crate::status::MissionStatus;
use crate::worktree::lane::lane_worktree_dirs;

/// Days after which a claim is stale.
pub const STALE_CLAIMED_DAYS: i64 = 7;
/// Days after which work in progress is stale.
pub const STALE_IN_PROGRESS_DAYS: i64 = 14;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorFinding {
    /// The mission it is about.
    pub mission_slug: String,
    /// The stable code.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// What is wrong.
    pub message: String,
    /// The command that fixes it.
    pub fix: String,
}

/// The findings about a set of missions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// How many missions were checked.
    pub missions_checked: usize,
    /// What was found: leftovers of interrupted writes first (repository-wide), then mission
    /// by mission.
    pub findings: Vec<DoctorFinding>,
    /// What `doctor --fix` repaired before looking (absent without `--fix`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<super::leftovers::Fixed>,
}

/// Returns days since 1970-01-01 of an ISO date's `YYYY-MM-DD` prefix.
pub fn days_of(at: &str) -> Option<i64> {
    let year: i64 = at.get(0..4)?.parse().ok()?;
    let month: i64 = at.get(5..7)?.parse().ok()?;
    let day: i64 = at.get(8..10)?.parse().ok()?;
    // Howard Hinnant's days_from_civil.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// Checks missions and reports what is wrong with them; never writes. `today` is the day
/// (since 1970-01-01) stale claims are measured against.
pub fn doctor(
    repo: &Repo,
    missions: &[MissionSummary],
    protected_branches: &crate::repo::protection::ProtectedBranches,
    today: i64,
) -> DoctorReport {
    let mut findings = super::leftovers::leftover_findings(repo);
    for summary in missions {
        check_mission(repo, summary, protected_branches, today, &mut findings);
    }
    DoctorReport {
        missions_checked: missions.len(),
        findings,
        fixed: None,
    }
}

fn check_mission(
    repo: &Repo,
    summary: &MissionSummary,
    protected: &crate::repo::protection::ProtectedBranches,
    today: i64,
    findings: &mut Vec<DoctorFinding>,
) {
    let slug = summary.mission_slug.clone();
    let mut add = |code, severity, message: String, fix: String| {
        findings.push(DoctorFinding {
            mission_slug: slug.clone(),
            code,
            severity,
            message,
            fix,
        });
    };
    // A flattened mission without a stored topology is the shape Spec Kitty's flatten leaves:
    // with no coordination branch, the derived topology is certain.
    if summary.mission_id.is_some() && !summary.topology_stored && !summary.flattened {
        add(
            "TOPOLOGY_NOT_STORED",
            "warning",
            "meta.json has no stored topology; it is derived on every read".to_owned(),
            "missionctl migrate backfill-topology".to_owned(),
        );
    }
    let status = match MissionStatus::load(repo, &summary.mission_slug, protected) {
        Ok(status) => status,
        Err(error) => {
            let code = error.code();
            let fix = match code {
                // Flattening completes a merge (the primary checkout then holds the log it
                // brought back); otherwise it would change the mission's topology and read a
                // status that is not there: the branch is restored instead.
                "COORDINATION_BRANCH_DELETED" if merged_back(repo, &summary.mission_slug) => {
                    format!(
                        "missionctl mission flatten --mission {}",
                        summary.mission_slug
                    )
                }
                "COORDINATION_BRANCH_DELETED" => "restore the coordination branch from a clone \
                     or remote that has it (`git fetch <remote> <branch>:<branch>`)"
                    .to_owned(),
                "TOPOLOGY_UNKNOWN" | "MISSION_META_INVALID" | "MISSION_META_MALFORMED" => {
                    "missionctl migrate backfill-topology".to_owned()
                }
                _ => format!("missionctl context --mission {}", summary.mission_slug),
            };
            add(code, "error", error.to_string(), fix);
            return;
        }
    };
    let dir = status.read_dir().to_path_buf();
    let log = match status.read_log() {
        Ok(log) => log,
        Err(error) => {
            add(
                error.code(),
                "error",
                error.to_string(),
                format!(
                    "missionctl status validate --mission {}",
                    summary.mission_slug
                ),
            );
            return;
        }
    };
    // A CRLF working copy (`core.autocrlf`, `eol=crlf`) is read as LF and written back as
    // Spec Kitty writes it: said once, so that nobody tries to "fix" the line endings.
    if let Ok(Some(raw)) = status.containment().read(&dir.join(EVENT_LOG_FILE))
        && raw.windows(2).any(|pair| pair == b"\r\n")
    {
        let warning = missionctl_core::status::validate::crlf_working_copy(
            &dir.join(EVENT_LOG_FILE).display().to_string(),
        );
        add(
            warning.code,
            "warning",
            warning.message,
            "none needed; for LF copies: git config core.autocrlf input, then check the \
             mission out again"
                .to_owned(),
        );
    }
    let validate_fix = || {
        format!(
            "missionctl status validate --mission {}",
            summary.mission_slug
        )
    };
    let fresh = match status.snapshot() {
        Ok(fresh) => fresh,
        Err(error) => {
            add(error.code(), "error", error.to_string(), validate_fix());
            return;
        }
    };
    let has_wp_files = match work_package_files(status.containment(), status.primary_mission_dir())
    {
        Ok(files) => !files.is_empty(),
        Err(error) => {
            add(error.code(), "error", error.to_string(), validate_fix());
            return;
        }
    };
    match status.undefined_work_packages(&fresh) {
        Ok(phantoms) => {
            for wp_id in phantoms {
                add(
                    PHANTOM_WORK_PACKAGE,
                    "warning",
                    phantom_work_package(&wp_id, &summary.mission_slug).message,
                    format!(
                        "missionctl wp add --mission {} {wp_id} --title {wp_id}",
                        summary.mission_slug
                    ),
                );
            }
        }
        Err(error) => {
            add(error.code(), "error", error.to_string(), validate_fix());
            return;
        }
    }
    if has_wp_files && fresh.work_packages.is_empty() {
        add(
            "UNINITIALIZED_STATUS",
            "warning",
            "Work-package files exist but no work package has a status".to_owned(),
            format!(
                "missionctl tasks finalize --mission {}",
                summary.mission_slug
            ),
        );
    }
    let log_exists = dir.join(EVENT_LOG_FILE).exists();
    let bytes = match status.containment().read(&dir.join(SNAPSHOT_FILE)) {
        Ok(bytes) => bytes,
        Err(error) => {
            add(error.code(), "error", error.to_string(), validate_fix());
            return;
        }
    };
    let parsed: Option<Option<Value>> = bytes.map(|bytes| {
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| missionctl_core::text::pyjson::from_str_deep::<Value>(text).ok())
    });
    let on_disk = match &parsed {
        None => SnapshotOnDisk::Missing,
        Some(None) => SnapshotOnDisk::Unreadable,
        Some(Some(value)) => SnapshotOnDisk::Parsed(value),
    };
    let drift: Vec<String> = validate(&log, &fresh, on_disk, log_exists)
        .into_iter()
        .filter(|finding| finding.code.starts_with("SNAPSHOT_"))
        .map(|finding| finding.message)
        .collect();
    let has_events = log.transitions().next().is_some() || log.annotations().next().is_some();
    if !drift.is_empty() && log_exists && has_events {
        add(
            "MATERIALIZATION_DRIFT",
            "warning",
            drift.join("; "),
            format!(
                "missionctl status materialize --mission {}",
                summary.mission_slug
            ),
        );
    }
    let all_terminal = !fresh.work_packages.is_empty()
        && fresh
            .work_packages
            .values()
            .all(|state| state.lane.is_terminal());
    if all_terminal && let Ok(dirs) = lane_worktree_dirs(repo, &summary.mission_slug) {
        for dir in dirs {
            let shown = dir
                .path
                .strip_prefix(repo.primary_root())
                .unwrap_or(&dir.path);
            let (what, fix) = if dir.registered {
                (
                    "lane worktree",
                    format!("git worktree remove {}", shown.display()),
                )
            } else {
                (
                    "directory (not a worktree git knows)",
                    format!("rm -r {} (after looking inside)", shown.display()),
                )
            };
            add(
                "ORPHAN_WORKSPACE",
                "warning",
                format!(
                    "Every work package is done or canceled, but the {what} `{}` remains",
                    shown.display()
                ),
                fix,
            );
        }
    }
    for (wp_id, state) in &fresh.work_packages {
        let limit = match state.lane {
            Lane::Claimed => STALE_CLAIMED_DAYS,
            Lane::InProgress => STALE_IN_PROGRESS_DAYS,
            _ => continue,
        };
        let Some(days) = state.last_transition_at.as_deref().and_then(days_of) else {
            continue;
        };
        if today - days > limit {
            add(
                "STALE_CLAIM",
                "warning",
                format!("{wp_id} has been {} for {} days", state.lane, today - days),
                format!(
                    "missionctl move {wp_id} --to planned --force --actor <you> --reason \"release stale claim\" --mission {}",
                    summary.mission_slug
                ),
            );
        }
    }
}

/// True when the primary checkout holds the mission's event log with rows: a merge brought
/// the coordination branch's status back there.
fn merged_back(repo: &Repo, mission_slug: &str) -> bool {
    let log = repo
        .kitty_specs_dir()
        .join(mission_slug)
        .join(EVENT_LOG_FILE);
    repo.containment()
        .read(&log)
        .ok()
        .flatten()
        .is_some_and(|bytes| bytes.iter().any(|byte| !byte.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::days_of;

    #[test]
    fn dates_become_days() {
        assert_eq!(days_of("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(days_of("2026-07-25T13:51:30.644518+00:00"), Some(20_659));
        assert_eq!(days_of("2000-03-01"), Some(11_017));
        assert_eq!(days_of("garbage"), None);
    }
}
