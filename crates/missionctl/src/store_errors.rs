//! Sorting the store's errors into the CLI's error model: every store error carries a stable
//! code and a hint, and all of them are user errors (exit 1).

use crate::command_error::CliError;

/// Implements `From<$error> for CliError` for errors that have `code()` and `hint()`.
macro_rules! user_errors {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for CliError {
            fn from(error: $error) -> CliError {
                CliError::user(error.code(), error.to_string())
                    .with_hint(error.hint())
                    .with_sources_of(&error)
                    .with_protection_hint(&error)
            }
        }
    )*};
}

user_errors!(
    missionctl_store::action_context::ActionContextError,
    missionctl_store::lane_worktree::WorktreeError,
    missionctl_store::live::LiveError,
    missionctl_store::map_requirements::MapRequirementsError,
    missionctl_store::merge::MergeError,
    missionctl_store::merge_driver::EventLogMergeError,
    missionctl_store::merge_driver::InstallError,
    missionctl_store::planning::PlanningError,
    missionctl_store::ready::ReadyError,
    missionctl_store::repo::RepoError,
    missionctl_store::runtime::RunError,
    missionctl_store::spec_commit::SpecCommitError,
    missionctl_store::mission_context::ResolveError,
    missionctl_store::mission_create::CreateError,
    missionctl_store::mission_flatten::FlattenError,
    missionctl_store::mission_index::LookupError,
    missionctl_store::status::StatusLoadError,
    missionctl_store::status::StatusWriteError,
    missionctl_store::tasks_finalize::FinalizeError,
    missionctl_store::topology_backfill::BackfillError,
    missionctl_store::view::board::BoardError,
    missionctl_store::view::history::HistoryError,
    missionctl_store::view::work_packages::WorkPackagesError,
    missionctl_store::work_package::WorkPackageFileError,
    missionctl_store::work_package_add::AddWorkPackageError,
    missionctl_store::write::WriteError,
    missionctl_web::ServeError,
    missionctl_web::control::StopError,
);
