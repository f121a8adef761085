//! The one error type of the command line, [`CliError`], and the `From` impls that sort the
//! library errors into its kinds, so that command bodies only use `?`.

use std::any::Any;
use std::error::Error;
use std::io;

use missionctl_core::status::transition::TransitionRefusal;
use missionctl_store::fs_util::PathError;
use missionctl_store::git::GitError;
use missionctl_store::mission::dir::StatusReadError;
use missionctl_store::repo::protection::{
    CONFIG_FILE, ProtectedBranchRefusal, ProtectedWrite, ProtectionSource,
};

use crate::env_vars;

/// The code of every argument error.
pub(crate) const USAGE_ERROR: &str = "USAGE_ERROR";
/// The code of every bug in missionctl.
pub(crate) const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
/// The code of a `-C <DIR>` that names no directory.
pub(crate) const DIRECTORY_NOT_FOUND: &str = "DIRECTORY_NOT_FOUND";
/// The code of an I/O error outside the library crates.
pub(crate) const IO_ERROR: &str = "IO_ERROR";

/// What kind of failure an error is; the kind alone decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Bad input, an unreadable file, a refused operation, a missing tool: exit 1.
    User,
    /// An argument error (unknown command or flag, missing or invalid argument): exit 2.
    Usage,
    /// A bug in missionctl: exit 255.
    Internal,
    /// Standard output was closed by the reader (`missionctl … | head`): exit quietly with 0.
    BrokenPipe,
}

impl ErrorKind {
    /// Returns the process exit code of the kind.
    pub(crate) const fn exit_code(self) -> u8 {
        match self {
            ErrorKind::User => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Internal => 255,
            ErrorKind::BrokenPipe => 0,
        }
    }
}

/// An error as the user sees it: a kind, a stable code, a message, its causes and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CliError {
    /// What kind of failure this is.
    pub(crate) kind: ErrorKind,
    /// A stable upper-case identifier scripts may match on.
    pub(crate) code: &'static str,
    /// The heading, for people: starts with a capital, no trailing period.
    pub(crate) message: String,
    /// The chain of underlying causes, outermost first.
    pub(crate) sources: Vec<String>,
    /// What to do next, when there is something to say.
    pub(crate) hint: Option<String>,
    /// A complete human rendering that replaces `error:`/`hint:` lines (clap's usage errors).
    pub(crate) rendered: Option<Box<str>>,
}

impl CliError {
    /// Returns an error of the given kind and code.
    pub(crate) fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> CliError {
        CliError {
            kind,
            code,
            message: message.into(),
            sources: Vec::new(),
            hint: None,
            rendered: None,
        }
    }

    /// Returns a user error (exit 1).
    pub(crate) fn user(code: &'static str, message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::User, code, message)
    }

    /// Returns a usage error (exit 2) that clap cannot see: arguments that parse but do not
    /// go together.
    pub(crate) fn usage(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Usage, USAGE_ERROR, message)
    }

    /// Returns an internal error (exit 255): something missionctl got wrong.
    pub(crate) fn internal(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Internal, INTERNAL_ERROR, message).with_hint(
            "This is a bug in missionctl; please report it with the command you ran".to_owned(),
        )
    }

    /// Returns the error that makes missionctl stop quietly because stdout is closed.
    pub(crate) fn broken_pipe() -> CliError {
        CliError::new(
            ErrorKind::BrokenPipe,
            "BROKEN_PIPE",
            "Standard output was closed",
        )
    }

    /// Returns the internal error for a panic caught at the top of the program.
    pub(crate) fn from_panic(payload: &(dyn Any + Send)) -> CliError {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_owned());
        CliError::internal(format!("missionctl panicked: {detail}"))
    }

    /// Returns the error with a hint.
    pub(crate) fn with_hint(mut self, hint: String) -> CliError {
        self.hint = Some(hint);
        self
    }

    /// Returns the error with the `source()` chain of `error` appended as causes.
    ///
    /// A cause whose text already ends the previous line (as in `Cannot read x: <cause>`) is
    /// not repeated.
    pub(crate) fn with_sources_of(mut self, error: &dyn Error) -> CliError {
        let mut previous = self.message.clone();
        let mut next = error.source();
        while let Some(source) = next {
            let text = source.to_string();
            if !previous.ends_with(&text) {
                self.sources.push(text.clone());
            }
            previous = text;
            next = source.source();
        }
        self
    }

    /// Returns the error with a hint naming the way out of a protected-branch refusal, when
    /// `error` is one or was caused by one (see [`protection_hint`]).
    pub(crate) fn with_protection_hint(mut self, error: &(dyn Error + 'static)) -> CliError {
        let mut next = Some(error);
        while let Some(current) = next {
            if let Some(refusal) = current.downcast_ref::<ProtectedBranchRefusal>() {
                self.hint = Some(protection_hint(refusal, &command_line()));
                break;
            }
            next = current.source();
        }
        self
    }

    /// Returns the message followed by its causes, on one line, for the JSON `message` field.
    pub(crate) fn message_with_sources(&self) -> String {
        let mut text = self.message.clone();
        for source in &self.sources {
            text.push_str(": ");
            text.push_str(source);
        }
        text
    }

    /// Returns a user error for an I/O error that carries no path of its own.
    pub(crate) fn io(context: &str, error: &io::Error) -> CliError {
        if error.kind() == io::ErrorKind::BrokenPipe {
            return CliError::broken_pipe();
        }
        CliError::user(IO_ERROR, format!("{context}: {error}"))
    }
}

/// Returns the way out of a protected-branch refusal that works for it: Spec Kitty's hatch on
/// this very command, or the setting that protects the branch, named exactly.
pub(crate) fn protection_hint(refusal: &ProtectedBranchRefusal, command: &str) -> String {
    let branch = &refusal.branch;
    let hatch = format!(
        "rerun it as `{}=1 {command}` (Spec Kitty's hatch for commits to protected branches)",
        env_vars::SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS
    );
    let setting = match &refusal.protected_by {
        ProtectionSource::Setting => format!(
            "`{}` lists `{branch}`: leave it out, or unset the variable so that \
             `{CONFIG_FILE}` decides, as for Spec Kitty",
            env_vars::MISSIONCTL_PROTECTED_BRANCHES
        ),
        ProtectionSource::Config { .. } => format!(
            "`{CONFIG_FILE}` lists `{branch}` under `protection.protected_branches`: remove it \
             there (for Spec Kitty too)"
        ),
        ProtectionSource::Default { remote_default } => format!(
            "`{branch}` is protected by default ({}): to protect other branches, set \
             `protection: {{protected_branches: [<branch>, …]}}` in `{CONFIG_FILE}` (`[]` for \
             none; Spec Kitty reads it too)",
            match remote_default {
                Some(remote) => format!("`main`, `master` and origin's default branch `{remote}`"),
                None => "`main` and `master`".to_owned(),
            }
        ),
        ProtectionSource::Unusable(_) => refusal.hint(),
        _ => format!("`{branch}` is protected"),
    };
    match refusal.write {
        ProtectedWrite::MissionCreate => format!(
            "Check out a feature branch (`git switch -c <branch>`) or pass `--target-branch \
             <branch>`; or {hatch}; or: {setting}"
        ),
        _ => format!("To commit to `{branch}`, {hatch}; or: {setting}"),
    }
}

/// Returns the command line missionctl runs with, quoted for a POSIX shell.
fn command_line() -> String {
    std::iter::once("missionctl".to_owned())
        .chain(std::env::args().skip(1).map(|arg| shell_quote(&arg)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Returns `arg` as a POSIX shell word: as is when it needs no quoting, else in single quotes.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&byte));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

impl From<StatusReadError> for CliError {
    fn from(error: StatusReadError) -> CliError {
        CliError::user(error.code(), error.to_string())
            .with_hint(error.hint())
            .with_sources_of(&error)
    }
}

impl From<GitError> for CliError {
    fn from(error: GitError) -> CliError {
        CliError::user(error.code(), error.to_string())
            .with_hint(error.hint())
            .with_sources_of(&error)
    }
}

impl From<PathError> for CliError {
    fn from(error: PathError) -> CliError {
        let hint = match error.escape() {
            Some(_) => error.hint(),
            None => "Check that the path exists and that you may use it".to_owned(),
        };
        CliError::user(error.code(), error.to_string())
            .with_hint(hint)
            .with_sources_of(&error)
    }
}

impl From<TransitionRefusal> for CliError {
    fn from(refusal: TransitionRefusal) -> CliError {
        CliError::user(refusal.code(), refusal.to_string()).with_hint(refusal.hint())
    }
}

impl From<serde_json::Error> for CliError {
    fn from(error: serde_json::Error) -> CliError {
        CliError::internal(format!("Cannot serialize the output as JSON: {error}"))
    }
}

impl From<clap::Error> for CliError {
    fn from(error: clap::Error) -> CliError {
        let plain = error.render().to_string();
        let (message, hint) = summarize_clap_error(error.kind(), &plain);
        CliError {
            kind: ErrorKind::Usage,
            code: USAGE_ERROR,
            message,
            sources: Vec::new(),
            hint: Some(hint),
            rendered: Some(error.render().ansi().to_string().into_boxed_str()),
        }
    }
}

/// Extracts a one-line message and a hint from clap's plain rendering of a usage error.
///
/// clap renders `error: <message>` (possibly over several indented lines), then optional
/// `tip: …` lines, then `Usage: …`. The tips become the hint; without tips, the usage line.
fn summarize_clap_error(kind: clap::error::ErrorKind, plain: &str) -> (String, String) {
    const GENERIC_HINT: &str = "Run `missionctl --help` to see the commands and their arguments";
    if kind == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return (
            "A subcommand is required".to_owned(),
            GENERIC_HINT.to_owned(),
        );
    }
    let mut message_lines = Vec::new();
    let mut tips = Vec::new();
    let mut usage = None;
    let mut in_message = false;
    for line in plain.lines() {
        let trimmed = line.trim();
        if let Some(rest) = line.strip_prefix("error: ") {
            message_lines.push(rest.trim().to_owned());
            in_message = true;
        } else if let Some(rest) = trimmed.strip_prefix("tip: ") {
            tips.push(rest.to_owned());
            in_message = false;
        } else if let Some(rest) = line.strip_prefix("Usage: ") {
            usage = Some(rest.trim().to_owned());
            in_message = false;
        } else if trimmed.is_empty() {
            in_message = false;
        } else if in_message {
            message_lines.push(trimmed.to_owned());
        }
    }
    let message = if message_lines.is_empty() {
        plain.trim().to_owned()
    } else {
        capitalize(&message_lines.join(" "))
    };
    let hint = if !tips.is_empty() {
        capitalize(&tips.join("; "))
    } else if let Some(usage) = usage {
        format!("Usage: `{usage}`")
    } else {
        GENERIC_HINT.to_owned()
    };
    (message, hint)
}

/// Returns the text with its first letter in upper case, as every message here starts.
fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_by_kind() {
        assert_eq!(ErrorKind::User.exit_code(), 1);
        assert_eq!(ErrorKind::Usage.exit_code(), 2);
        assert_eq!(ErrorKind::Internal.exit_code(), 255);
        assert_eq!(ErrorKind::BrokenPipe.exit_code(), 0);
    }

    #[test]
    fn path_error_cause_is_not_repeated() {
        let error = PathError {
            action: "Cannot read",
            path: "/x/meta.json".into(),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "denied"),
        };
        let cli = CliError::from(error);
        assert_eq!(cli.code, "IO_ERROR");
        assert_eq!(cli.message, "Cannot read `/x/meta.json`: denied");
        assert!(cli.sources.is_empty(), "{:?}", cli.sources);
    }

    #[test]
    fn git_failure_keeps_stderr_as_a_cause() {
        let error = GitError::Failed {
            command: "commit".to_owned(),
            dir: "/repo".into(),
            status: std::process::ExitStatus::default(),
            stderr: missionctl_store::git::GitStderr("fatal: boom".to_owned()),
        };
        let cli = CliError::from(error);
        assert_eq!(cli.code, "GIT_FAILED");
        assert_eq!(cli.sources, vec!["fatal: boom".to_owned()]);
        assert!(cli.message_with_sources().ends_with(": fatal: boom"));
    }

    #[test]
    fn broken_pipe_is_its_own_kind() {
        let error = io::Error::new(io::ErrorKind::BrokenPipe, "pipe");
        assert_eq!(CliError::io("write", &error).kind, ErrorKind::BrokenPipe);
        let error = io::Error::other("disk full");
        assert_eq!(CliError::io("write", &error).kind, ErrorKind::User);
    }

    #[test]
    fn panic_payloads_become_internal_errors() {
        let cli = CliError::from_panic(&"boom");
        assert_eq!(cli.kind, ErrorKind::Internal);
        assert_eq!(cli.code, "INTERNAL_ERROR");
        assert_eq!(cli.message, "missionctl panicked: boom");
        let cli = CliError::from_panic(&String::from("owned"));
        assert_eq!(cli.message, "missionctl panicked: owned");
    }

    #[test]
    fn clap_rendering_is_summarized() {
        let plain = "error: unexpected argument '--nope' found\n\n  tip: to pass '--nope' as a \
                     value, use '-- --nope'\n\nUsage: missionctl status reduce <MISSION_DIR>\n\n\
                     For more information, try '--help'.\n";
        let (message, hint) = summarize_clap_error(clap::error::ErrorKind::UnknownArgument, plain);
        assert_eq!(message, "Unexpected argument '--nope' found");
        assert_eq!(hint, "To pass '--nope' as a value, use '-- --nope'");

        let plain = "error: the following required arguments were not provided:\n  \
                     <MISSION_DIR>\n\nUsage: missionctl status reduce <MISSION_DIR>\n\n\
                     For more information, try '--help'.\n";
        let (message, hint) =
            summarize_clap_error(clap::error::ErrorKind::MissingRequiredArgument, plain);
        assert_eq!(
            message,
            "The following required arguments were not provided: <MISSION_DIR>"
        );
        assert_eq!(hint, "Usage: `missionctl status reduce <MISSION_DIR>`");
    }
}
