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
    missionctl_store::mission::action_context::ActionContextError,
    missionctl_store::worktree::lane::WorktreeError,
    missionctl_store::view::live::LiveError,
    missionctl_store::planning::map_requirements::MapRequirementsError,
    missionctl_store::merge::MergeError,
    missionctl_store::git::merge_driver::EventLogMergeError,
    missionctl_store::git::merge_driver::InstallError,
    missionctl_store::planning::PlanningError,
    missionctl_store::view::ready::ReadyError,
    missionctl_store::repo::RepoError,
    missionctl_store::runtime::RunError,
    missionctl_store::planning::spec_commit::SpecCommitError,
    missionctl_store::mission::context::ResolveError,
    missionctl_store::mission::create::CreateError,
    missionctl_store::mission::flatten::FlattenError,
    missionctl_store::mission::index::LookupError,
    missionctl_store::status::StatusLoadError,
    missionctl_store::status::StatusWriteError,
    missionctl_store::sync::SyncError,
    missionctl_store::planning::tasks_finalize::FinalizeError,
    missionctl_store::mission::topology_backfill::BackfillError,
    missionctl_store::view::board::BoardError,
    missionctl_store::view::history::HistoryError,
    missionctl_store::view::work_packages::WorkPackagesError,
    missionctl_store::planning::work_package::WorkPackageFileError,
    missionctl_store::planning::work_package_add::AddWorkPackageError,
    missionctl_store::write::WriteError,
    missionctl_web::ServeError,
    missionctl_web::control::StopError,
);
