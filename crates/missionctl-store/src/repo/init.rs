//! `missionctl init`: prepares a repository for missions — its `kitty-specs/` directory — through
//! the write door, under the repository lock. Running it again changes nothing.

use crate::repo::Repo;
use crate::write::{Scope, WriteError, WriteTransaction};

/// Creates `kitty-specs/` at the primary checkout's root when it is missing; returns whether it
/// was created.
pub fn init_repository(repo: &Repo) -> Result<bool, WriteError> {
    let dir = repo.kitty_specs_dir();
    if repo.containment().is_dir(&dir)? {
        return Ok(false);
    }
    let mut transaction = WriteTransaction::begin(repo, Scope::Repository, "init")?;
    let created = !repo.containment().is_dir(&dir)?;
    if created {
        transaction.create_dir_all(&dir)?;
    }
    transaction.finish()?;
    Ok(created)
}
