//! The *resolve* stage shared by commands that work in a repository: finding it from the
//! current directory, the protected branches, and the mission's status aggregate.

use missionctl_store::repo::Repo;
use missionctl_store::repo::protection::{ProtectedBranches, ProtectionSettings};
use missionctl_store::runtime::TemplateSearch;
use missionctl_store::status::MissionStatus;
use missionctl_store::view::live::LiveRepository;
use missionctl_store::view::watch::{FALLBACK_POLL, WatchMode};

use crate::command_error::CliError;
use crate::env_vars;

/// Returns the repository that contains the current directory.
pub(crate) fn discover_repo() -> Result<Repo, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::io("Cannot read the current directory", &error))?;
    Ok(Repo::discover(&cwd)?)
}

/// Returns the repository around the current directory for a command that writes, with what
/// killed writers left settled first (every journal whose lock is free: see the write door,
/// `docs/adr/0009-one-write-door.md`). Nothing the command reads before it takes its own lock
/// is then a killed writer's half-done work, which the next writer would undo under it.
pub(crate) fn discover_repo_for_writing() -> Result<Repo, CliError> {
    let repo = discover_repo()?;
    // Journals that cannot be settled stay; the command's own transaction reports them.
    let _ = missionctl_store::write::recover_all(&repo);
    Ok(repo)
}

/// Returns what the environment says about protected branches: Spec Kitty's hatch
/// (`SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS`) and missionctl's explicit list
/// (`MISSIONCTL_PROTECTED_BRANCHES`, comma separated; empty means none).
pub(crate) fn protection_settings() -> ProtectionSettings {
    let hatch = std::env::var(env_vars::SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS)
        .is_ok_and(|value| matches!(value.to_lowercase().as_str(), "1" | "true" | "yes"));
    let list = std::env::var(env_vars::MISSIONCTL_PROTECTED_BRANCHES)
        .ok()
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|branch| !branch.is_empty())
                .map(str::to_owned)
                .collect()
        });
    ProtectionSettings {
        allow_protected_branch_commits: hatch,
        protected_branches: list,
    }
}

/// Returns the branches commits never go to in `repo`, as Spec Kitty resolves them (its
/// `.kittify/config.yaml` and hatch), unless `MISSIONCTL_PROTECTED_BRANCHES` says otherwise.
pub(crate) fn protected_branches(repo: &Repo) -> ProtectedBranches {
    ProtectedBranches::resolve(repo, &protection_settings())
}

/// Returns the actor for a move: the flag, else `MISSIONCTL_ACTOR`.
pub(crate) fn actor(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| std::env::var(env_vars::MISSIONCTL_ACTOR).ok())
        .filter(|actor| !actor.trim().is_empty())
}

/// Returns where mission templates are looked for besides the repository, as Spec Kitty looks:
/// the paths of `SPEC_KITTY_MISSION_PATHS`, and `~/.kittify/missions`.
pub(crate) fn template_search() -> TemplateSearch {
    let env_paths = std::env::var_os(env_vars::SPEC_KITTY_MISSION_PATHS)
        .map(|paths| {
            std::env::split_paths(&paths)
                .filter(|path| !path.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    TemplateSearch {
        env_paths,
        user_home: std::env::var_os(env_vars::HOME)
            .filter(|home| !home.is_empty())
            .map(std::path::PathBuf::from),
    }
}

/// Loads a mission's status aggregate from the repository around the current directory.
pub(crate) fn load_status(handle: &str) -> Result<(Repo, MissionStatus), CliError> {
    let repo = discover_repo()?;
    let status = MissionStatus::load(&repo, handle, &protected_branches(&repo))?;
    Ok((repo, status))
}

/// Loads a mission's status aggregate for a command that writes through it, after settling
/// what killed writers left (see [`discover_repo_for_writing`]).
pub(crate) fn load_status_for_writing(handle: &str) -> Result<(Repo, MissionStatus), CliError> {
    let repo = discover_repo_for_writing()?;
    let status = MissionStatus::load(&repo, handle, &protected_branches(&repo))?;
    Ok((repo, status))
}

/// Returns how the live commands notice changes: `MISSIONCTL_WATCH=poll` polls, anything else
/// uses file-system notification.
pub(crate) fn watch_mode() -> WatchMode {
    match std::env::var(env_vars::MISSIONCTL_WATCH).as_deref() {
        Ok("poll") => WatchMode::Poll(FALLBACK_POLL),
        _ => WatchMode::Notify,
    }
}

/// Opens every mission of the repository around the current directory, followed live.
pub(crate) fn open_live() -> Result<LiveRepository, CliError> {
    let repo = discover_repo()?;
    Ok(LiveRepository::open(
        &repo,
        &protected_branches(&repo),
        watch_mode(),
    )?)
}

/// Resolves the mission for reading, as Spec Kitty's board reads it: a coordination mission
/// whose branch was deleted is read from the primary checkout (writes through it fail closed).
pub(crate) fn load_status_for_reading(handle: &str) -> Result<(Repo, MissionStatus), CliError> {
    let repo = discover_repo()?;
    let status = MissionStatus::load_for_reading(&repo, handle)?;
    Ok((repo, status))
}
