//! The one place that runs the `git` program.
//!
//! Every git command missionctl runs goes through [`git`]. It finds the executable once per
//! process, runs it with a predictable environment (no inherited `GIT_DIR`, `GIT_WORK_TREE` or
//! `GIT_INDEX_FILE`, which would silently point it at another repository; the C locale, so its
//! messages are stable; no terminal prompts) and turns every failure into a [`GitError`].

pub mod merge_driver;

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;

/// The variables removed from git's environment: inherited from a hook or a parent git
/// process, they would make git act on another repository, work tree or index.
const REMOVED_VARIABLES: [&str; 3] = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"];

/// The variable naming the index file git reads and writes.
const INDEX_FILE_VARIABLE: &str = "GIT_INDEX_FILE";

/// The variable that pins git's locale, so that its messages do not depend on the user's.
const LOCALE_VARIABLE: &str = "LC_ALL";

/// The variable that stops git from asking for credentials on the terminal.
const TERMINAL_PROMPT_VARIABLE: &str = "GIT_TERMINAL_PROMPT";

/// The search path for executables, read only to locate `git` the way a shell would.
const PATH_VARIABLE: &str = "PATH";

/// Why a git command could not be run or did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// No `git` executable was found on the search path.
    #[error("Cannot find `git` on PATH")]
    NotFound,
    /// The `git` executable was found but could not be started.
    #[error("Cannot run `{program}`", program = program.display())]
    Spawn {
        /// The executable that was started.
        program: PathBuf,
        /// The error from the operating system.
        #[source]
        source: io::Error,
    },
    /// git ran and exited unsuccessfully.
    #[error("`git {command}` failed in `{dir}` ({status})", dir = dir.display())]
    Failed {
        /// The arguments, joined by spaces.
        command: String,
        /// The directory git ran in.
        dir: PathBuf,
        /// How git exited.
        status: ExitStatus,
        /// What git wrote on its standard error.
        #[source]
        stderr: GitStderr,
    },
}

impl GitError {
    /// Returns the stable error code: `GIT_NOT_FOUND` or `GIT_FAILED`.
    pub fn code(&self) -> &'static str {
        match self {
            GitError::NotFound => "GIT_NOT_FOUND",
            GitError::Spawn { .. } | GitError::Failed { .. } => "GIT_FAILED",
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            GitError::NotFound => "Install git and make sure it is on PATH".to_owned(),
            GitError::Spawn { program, .. } => {
                format!("Check that `{}` is an executable git", program.display())
            }
            GitError::Failed { dir, .. } => format!(
                "Run the same git command in `{}` to see what git needs",
                dir.display()
            ),
        }
    }
}

/// What a failed git command wrote on its standard error (trimmed, lossily decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitStderr(pub String);

impl fmt::Display for GitStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("git wrote nothing on stderr")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl std::error::Error for GitStderr {}

/// Returns the path of the `git` executable, searched once per process.
fn git_executable() -> Result<&'static Path, GitError> {
    static GIT: OnceLock<Option<PathBuf>> = OnceLock::new();
    GIT.get_or_init(|| find_executable("git"))
        .as_deref()
        .ok_or(GitError::NotFound)
}

/// Checks that a `git` executable can be found, without running it.
///
/// Callers that are about to create files for git to work on call this first, so that a
/// missing git leaves nothing behind.
pub fn require_git() -> Result<(), GitError> {
    git_executable().map(|_| ())
}

/// Searches the directories of the search path for an executable file called `name`.
fn find_executable(name: &str) -> Option<PathBuf> {
    let search_path = std::env::var_os(PATH_VARIABLE)?;
    std::env::split_paths(&search_path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// The paths of a `-z` listing (`git diff --name-only -z`, `git diff-tree -z --name-only`):
/// NUL-separated, empty records skipped, decoded lossily.
pub(crate) fn nul_separated_paths(stdout: &[u8]) -> Vec<String> {
    stdout
        .split(|byte| *byte == 0)
        .filter(|path| !path.is_empty())
        .map(|path| String::from_utf8_lossy(path).into_owned())
        .collect()
}

/// Runs `git <args>` in `dir` and returns its output when it exits successfully.
///
/// Standard input is closed, standard output and standard error are captured. A non-zero exit
/// is [`GitError::Failed`] carrying git's standard error; a missing executable is
/// [`GitError::NotFound`].
pub fn git<I, S>(dir: &Path, args: I) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    git_with_stdin(dir, args, Stdio::null())
}

/// Runs `git <args>` in `dir` like [`git`], with `stdin` as its standard input.
///
/// The status writer passes a duplicate of its lock file here: the child then shares the
/// lock's open file description, so a lock taken with `flock` stays held until the child
/// exits even when the parent is killed while git runs (see
/// `docs/adr/0004-bookkeeping-transaction.md`). git never reads it.
pub fn git_with_stdin<I, S>(dir: &Path, args: I, stdin: Stdio) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    git_with_index(dir, args, stdin, None)
}

/// Runs `git <args>` in `dir` like [`git_with_stdin`], with `GIT_INDEX_FILE` set to
/// `index_file` when given: the write door builds a new index in a file of its own while it
/// holds the checkout's `index.lock` (see `docs/adr/0009-one-write-door.md`).
///
/// git runs in a process group of its own: a signal sent to missionctl's group (a terminal's
/// Ctrl-C, a harness killing the group on a timeout) does not stop it halfway through moving a
/// ref or the index, where it would leave git's lock files behind.
pub(crate) fn git_with_index<I, S>(
    dir: &Path,
    args: I,
    stdin: Stdio,
    index_file: Option<&Path>,
) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    git_accepting(dir, args, stdin, index_file, &[])
}

/// Runs `git <args>` like [`git_with_index`], and also returns its output when it exits with
/// one of the `accepted` codes: `git merge-tree` exits 1 when it finds conflicts, and its output
/// then says which.
pub(crate) fn git_accepting<I, S>(
    dir: &Path,
    args: I,
    stdin: Stdio,
    index_file: Option<&Path>,
    accepted: &[i32],
) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = git_executable()?;
    let args: Vec<S> = args.into_iter().collect();
    let mut command = Command::new(program);
    command
        .args(&args)
        .current_dir(dir)
        .env(LOCALE_VARIABLE, "C")
        .env(TERMINAL_PROMPT_VARIABLE, "0")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for variable in REMOVED_VARIABLES {
        command.env_remove(variable);
    }
    if let Some(index_file) = index_file {
        command.env(INDEX_FILE_VARIABLE, index_file);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let output = command.output().map_err(|source| GitError::Spawn {
        program: program.to_path_buf(),
        source,
    })?;
    if output.status.success()
        || output
            .status
            .code()
            .is_some_and(|code| accepted.contains(&code))
    {
        return Ok(output);
    }
    Err(GitError::Failed {
        command: args
            .iter()
            .map(|arg| arg.as_ref().to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        dir: dir.to_path_buf(),
        status: output.status,
        stderr: GitStderr(String::from_utf8_lossy(&output.stderr).trim().to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_git_and_reports_failure_with_stderr() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let output = git(dir.path(), ["--version"])?;
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("git version"));

        let error = git(dir.path(), ["rev-parse", "--git-dir"]).expect_err("not a repository");
        assert_eq!(error.code(), "GIT_FAILED");
        assert!(
            error
                .to_string()
                .starts_with("`git rev-parse --git-dir` failed in `")
        );
        let GitError::Failed { stderr, .. } = &error else {
            panic!("expected a failure, got {error:?}");
        };
        // LC_ALL=C keeps git's message in English whatever the user's locale.
        assert!(stderr.0.contains("not a git repository"), "{stderr}");
        Ok(())
    }

    #[test]
    fn codes_and_messages() {
        assert_eq!(GitError::NotFound.code(), "GIT_NOT_FOUND");
        assert_eq!(GitError::NotFound.to_string(), "Cannot find `git` on PATH");
        assert_eq!(
            GitStderr(String::new()).to_string(),
            "git wrote nothing on stderr"
        );
    }

    #[test]
    fn missing_executable_is_not_found() {
        assert_eq!(find_executable("missionctl-no-such-program-here"), None);
    }
}
