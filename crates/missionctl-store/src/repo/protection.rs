//! Protected branches: the branches no status, planning or mission-creating commit goes to,
//! resolved as Spec Kitty resolves them.
//!
//! Spec Kitty's `ProtectionPolicy.resolve`, rule for rule:
//!
//! | `.kittify/config.yaml` | protected |
//! |---|---|
//! | no file, no `protection:` mapping, or `protection.protected_branches` absent or `null` | `main`, `master` and the remote's default branch (`refs/remotes/origin/HEAD`) |
//! | `protection.protected_branches: [a, b]` | exactly `a` and `b` (`[]`: none) |
//! | a value that is not a list, YAML that does not parse, a top level that is not a mapping | refused: `PROTECTION_CONFIG_INVALID` |
//!
//! and its operator hatch, `SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS` set to `1`, `true` or
//! `yes` (any case), under which nothing is protected. missionctl adds one setting of its own,
//! an explicit list that replaces the file's (the CLI's `MISSIONCTL_PROTECTED_BRANCHES`). The
//! store reads no environment: the CLI passes both in as [`ProtectionSettings`].
//!
//! Unlike Spec Kitty, the remote's default branch is read from `refs/remotes/origin/HEAD` only,
//! never by asking the remote (`git remote show origin` is a network round trip).
//!
//! A refusal carries a [`ProtectedBranchRefusal`]: the branch, what was refused and why the
//! branch is protected, so that the command line can name the way out that works.

use std::ops::Deref;
use std::path::PathBuf;

use crate::repo::Repo;
use crate::repo::project_config::ProjectConfig;

/// The branches protected when nothing says otherwise (the remote's default is added).
pub const DEFAULT_PROTECTED_BRANCHES: [&str; 2] = ["main", "master"];

pub use crate::repo::project_config::CONFIG_FILE;

/// What the caller (the CLI, from its environment) says about protection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectionSettings {
    /// Spec Kitty's operator hatch is on: nothing is protected.
    pub allow_protected_branch_commits: bool,
    /// An explicit list of protected branches that replaces `.kittify/config.yaml`'s.
    pub protected_branches: Option<Vec<String>>,
}

/// Why the branches of a [`ProtectedBranches`] are the ones they are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtectionSource {
    /// Spec Kitty's default: `main`, `master` and the remote's default branch.
    Default {
        /// The remote's default branch, when `refs/remotes/origin/HEAD` names one.
        remote_default: Option<String>,
    },
    /// `protection.protected_branches` of `.kittify/config.yaml`.
    Config {
        /// The file.
        path: PathBuf,
    },
    /// The caller's explicit list ([`ProtectionSettings::protected_branches`]).
    Setting,
    /// The operator hatch is on: nothing is protected.
    Hatch,
    /// A list given by a program (tests, the demo).
    Given,
    /// `.kittify/config.yaml` cannot be used (Spec Kitty refuses it too): every branch is
    /// refused, fail-closed, but only when something is written — reads never need it.
    Unusable(Box<UnusableConfig>),
}

/// Why `.kittify/config.yaml` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusableConfig {
    /// The file.
    pub path: PathBuf,
    /// `PROTECTION_CONFIG_INVALID`, or the code of the error reading the file
    /// (`SYMLINK_REFUSED`, `IO_ERROR`).
    pub code: &'static str,
    /// Why it cannot be used.
    pub reason: String,
    /// What to do about it.
    pub hint: String,
}

/// The protected branches of a repository, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedBranches {
    branches: Vec<String>,
    source: ProtectionSource,
}

impl Deref for ProtectedBranches {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.branches
    }
}

impl From<Vec<String>> for ProtectedBranches {
    fn from(branches: Vec<String>) -> ProtectedBranches {
        ProtectedBranches {
            branches,
            source: ProtectionSource::Given,
        }
    }
}

/// What a refused write was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtectedWrite {
    /// A status commit (`move`, `subtask done`, `implement`, `status materialize`, seeding).
    Status,
    /// A planning commit (`wp add`, `spec-commit`, `map-requirements`, `tasks finalize`).
    Planning,
    /// A new mission's commit (`mission create`).
    MissionCreate,
}

/// A write refused because its branch is protected: the branch, the write, and why the branch
/// is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedBranchRefusal {
    /// The protected branch.
    pub branch: String,
    /// What was refused.
    pub write: ProtectedWrite,
    /// Why the branch is protected.
    pub protected_by: ProtectionSource,
}

impl std::fmt::Display for ProtectedBranchRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.write {
            ProtectedWrite::Status => "commit status to",
            ProtectedWrite::Planning => "commit planning artifacts to",
            ProtectedWrite::MissionCreate => "create a mission on",
        };
        match &self.protected_by {
            ProtectionSource::Unusable(unusable) => write!(
                f,
                "Refusing to {what} `{}`: the protected branches cannot be read from `{}`: {}",
                self.branch,
                unusable.path.display(),
                unusable.reason
            ),
            _ => write!(f, "Refusing to {what} protected branch `{}`", self.branch),
        }
    }
}

impl std::error::Error for ProtectedBranchRefusal {}

impl ProtectedBranchRefusal {
    /// Returns the stable error code: `PROTECTED_BRANCH_REFUSED`, or why the protected
    /// branches are unknown (`PROTECTION_CONFIG_INVALID`, `SYMLINK_REFUSED`, …).
    pub fn code(&self) -> &'static str {
        match &self.protected_by {
            ProtectionSource::Unusable(unusable) => unusable.code,
            _ => "PROTECTED_BRANCH_REFUSED",
        }
    }

    /// Returns a hint that names no environment variable (the command line, which owns their
    /// names, gives a fuller one).
    pub fn hint(&self) -> String {
        match &self.protected_by {
            ProtectionSource::Unusable(unusable) => unusable.hint.clone(),
            ProtectionSource::Config { path } => format!(
                "`{}` lists `{}` under `protection.protected_branches`; remove it there to \
                 commit to it",
                path.display(),
                self.branch
            ),
            _ => format!(
                "Set `protection.protected_branches` in `{CONFIG_FILE}` to the branches to \
                 protect (without `{}`)",
                self.branch
            ),
        }
    }
}

impl ProtectedBranches {
    /// Resolves a repository's protected branches (see the [module](self) docs).
    ///
    /// Never fails: a `.kittify/config.yaml` that cannot be read or is not what Spec Kitty
    /// accepts makes every branch protected ([`ProtectionSource::Unusable`]), so that reads go
    /// on and every write is refused, naming the file and why.
    pub fn resolve(repo: &Repo, settings: &ProtectionSettings) -> ProtectedBranches {
        if settings.allow_protected_branch_commits {
            return ProtectedBranches {
                branches: Vec::new(),
                source: ProtectionSource::Hatch,
            };
        }
        if let Some(branches) = &settings.protected_branches {
            return ProtectedBranches {
                branches: branches.clone(),
                source: ProtectionSource::Setting,
            };
        }
        let path = repo.primary_root().join(CONFIG_FILE);
        let unusable = |code: &'static str, reason: String, hint: String| ProtectedBranches {
            branches: Vec::new(),
            source: ProtectionSource::Unusable(Box::new(UnusableConfig {
                path: path.clone(),
                code,
                reason,
                hint,
            })),
        };
        let config = match ProjectConfig::read(repo.containment(), repo.primary_root()) {
            Ok(config) => config,
            Err(error) => return unusable(error.code(), error.to_string(), error.hint()),
        };
        match config.protected_branches() {
            Ok(Some(branches)) => ProtectedBranches {
                branches,
                source: ProtectionSource::Config { path },
            },
            Ok(None) => {
                // An unreadable ref store names no default (Spec Kitty: `git symbolic-ref`
                // fails, no remote default).
                let remote_default = repo.remote_default_branch().ok().flatten();
                let mut branches: Vec<String> =
                    DEFAULT_PROTECTED_BRANCHES.map(str::to_owned).to_vec();
                if let Some(remote) = &remote_default
                    && !branches.contains(remote)
                {
                    branches.push(remote.clone());
                }
                ProtectedBranches {
                    branches,
                    source: ProtectionSource::Default { remote_default },
                }
            }
            Err(reason) => unusable(
                "PROTECTION_CONFIG_INVALID",
                reason,
                format!(
                    "Make `protection.protected_branches` in `{CONFIG_FILE}` a list of branch \
                     names (`[]` for none), or remove it for the default (`main`, `master` and \
                     the remote's default branch)"
                ),
            ),
        }
    }

    /// Returns Spec Kitty's default, `main` and `master` (without a remote's default).
    pub fn defaults() -> ProtectedBranches {
        ProtectedBranches {
            branches: DEFAULT_PROTECTED_BRANCHES.map(str::to_owned).to_vec(),
            source: ProtectionSource::Default {
                remote_default: None,
            },
        }
    }

    /// Returns an empty list, for an aggregate that only reads.
    pub fn none() -> ProtectedBranches {
        Vec::new().into()
    }

    /// Returns why the branches are protected.
    pub fn source(&self) -> &ProtectionSource {
        &self.source
    }

    /// Returns true when `branch` is protected (every branch is, while the configuration is
    /// unusable).
    pub fn is_protected(&self, branch: &str) -> bool {
        matches!(self.source, ProtectionSource::Unusable(_))
            || self.branches.iter().any(|protected| protected == branch)
    }

    /// Returns the refusal of `write` to `branch` when it is protected.
    pub fn check(&self, branch: &str, write: ProtectedWrite) -> Result<(), ProtectedBranchRefusal> {
        if self.is_protected(branch) {
            Err(ProtectedBranchRefusal {
                branch: branch.to_owned(),
                write,
                protected_by: self.source.clone(),
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_branch_the_write_and_the_source() {
        let protected = ProtectedBranches::defaults();
        assert!(protected.is_protected("main") && !protected.is_protected("feature/x"));
        assert_eq!(protected.check("feature/x", ProtectedWrite::Status), Ok(()));
        let refusal = protected
            .check("main", ProtectedWrite::Status)
            .expect_err("main is protected");
        assert_eq!(
            refusal.to_string(),
            "Refusing to commit status to protected branch `main`"
        );
        assert_eq!(refusal.code(), "PROTECTED_BRANCH_REFUSED");
        assert!(matches!(
            refusal.protected_by,
            ProtectionSource::Default { .. }
        ));
    }
}
