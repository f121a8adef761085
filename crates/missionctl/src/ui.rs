//! Where output goes: the command's data on stdout (text, or one JSON document with `--json`),
//! status and errors on stderr, colour only on a terminal without `NO_COLOR`.

use std::ffi::{OsStr, OsString};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::command_error::{CliError, ErrorKind};
use crate::env_vars;

/// How the command's result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputMode {
    /// Text for people on stdout, errors on stderr.
    Human,
    /// Exactly one JSON document on stdout, on every exit path.
    Json,
}

impl OutputMode {
    /// Returns the mode asked for by the raw arguments, before clap has parsed them.
    ///
    /// `--json` anywhere before a `--` terminator counts, so that even an argument error is
    /// reported as JSON when the caller asked for it.
    pub(crate) fn from_raw_args(args: &[OsString]) -> OutputMode {
        let wants_json = args
            .iter()
            .skip(1)
            .take_while(|arg| arg.as_os_str() != OsStr::new("--"))
            .any(|arg| arg.as_os_str() == OsStr::new("--json"));
        if wants_json {
            OutputMode::Json
        } else {
            OutputMode::Human
        }
    }
}

/// Returns whether to colour a stream: only a terminal, and only when `NO_COLOR` is unset or
/// empty.
pub(crate) fn use_color(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// The success envelope: `{"ok":true,"data":…}`.
#[derive(Serialize)]
struct SuccessEnvelope<'a> {
    ok: bool,
    data: &'a RawValue,
}

/// The failure envelope: `{"ok":false,"error":{"code","message","hint"}}`, plus `data` when the
/// command emitted a report before failing (`migrate backfill-topology` with a failed mission).
#[derive(Serialize)]
struct FailureEnvelope<'a> {
    ok: bool,
    error: ErrorBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    hint: Option<&'a str>,
}

/// The terminal of one command run.
#[derive(Debug)]
pub(crate) struct Ui {
    mode: OutputMode,
    stdout_color: bool,
    stderr_color: bool,
    data: Option<Box<RawValue>>,
    /// Whether output was already written as it came (a streaming command, or a document
    /// printed before a long-running command settles): then nothing more is printed on
    /// success, and an error is one last line.
    streamed: bool,
}

impl Ui {
    /// Returns a UI for the given mode, deciding colour from the real stderr and environment.
    pub(crate) fn new(mode: OutputMode) -> Ui {
        let no_color = std::env::var_os(env_vars::NO_COLOR);
        Ui {
            mode,
            stdout_color: use_color(io::stdout().is_terminal(), no_color.as_deref()),
            stderr_color: use_color(io::stderr().is_terminal(), no_color.as_deref()),
            data: None,
            streamed: false,
        }
    }

    /// Switches the output mode (once clap has parsed `--json`).
    pub(crate) fn set_mode(&mut self, mode: OutputMode) {
        self.mode = mode;
    }

    /// Returns whether text written to stdout may carry colour.
    pub(crate) fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    /// Returns whether a long command may show progress on stderr: only for people (never
    /// with `--json`) and only when stderr is a terminal.
    pub(crate) fn shows_progress(&self) -> bool {
        self.mode == OutputMode::Human && io::stderr().is_terminal()
    }

    /// Writes a progress line on stderr, replacing the previous one (`\r`, then the line
    /// cleared); `None` clears it. Does nothing unless [`Ui::shows_progress`]; a write error is
    /// ignored, because progress is never worth failing a command for.
    pub(crate) fn progress(&self, line: Option<&str>) {
        if !self.shows_progress() {
            return;
        }
        let mut stderr = io::stderr().lock();
        let _ = match line {
            Some(line) => write!(stderr, "\r\x1b[2K{line}"),
            None => write!(stderr, "\r\x1b[2K"),
        };
        let _ = stderr.flush();
    }

    /// Writes `warning: <message>` on stderr for people; with `--json` the command reports its
    /// warnings in its data instead. A write error is ignored, like progress.
    pub(crate) fn warn(&self, message: &str) {
        if self.mode == OutputMode::Human {
            let _ = writeln!(io::stderr().lock(), "warning: {message}");
        }
    }

    /// Emits the command's result.
    ///
    /// With `--json`, `data` becomes the `data` of the success document printed when the
    /// command ends. Otherwise `text` is written to stdout as is (no newline added).
    pub(crate) fn emit<T: Serialize>(
        &mut self,
        data: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        match self.mode {
            OutputMode::Json => {
                // Serialized now, in the struct's field order, and printed once the command ends.
                self.data = Some(serde_json::value::to_raw_value(data)?);
                Ok(())
            }
            OutputMode::Human => write_stdout(text().as_bytes()),
        }
    }

    /// Writes one item of a stream now: with `--json`, one compact JSON object on its own line
    /// (newline-delimited JSON, the documented exception to one document per run); without,
    /// the text. After the first item, the run prints nothing more on success, and an error
    /// is printed as one last line (`{"ok":false,"error":…}` with `--json`).
    pub(crate) fn stream<T: Serialize>(
        &mut self,
        item: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        self.streamed = true;
        match self.mode {
            OutputMode::Json => print_json_line(item),
            OutputMode::Human => write_stdout(text().as_bytes()),
        }
    }

    /// Prints the command's one document now, for a command that then keeps running (the
    /// dashboard): with `--json`, the success envelope; without, the text. Nothing more is
    /// printed on success; an error after it is one last line.
    pub(crate) fn emit_now<T: Serialize>(
        &mut self,
        data: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        self.streamed = true;
        match self.mode {
            OutputMode::Json => print_json_line(&SuccessEnvelope {
                ok: true,
                data: &serde_json::value::to_raw_value(data)?,
            }),
            OutputMode::Human => write_stdout(text().as_bytes()),
        }
    }

    /// Prints the outcome of the run (the JSON document, or the error) and returns the exit
    /// code.
    pub(crate) fn finish(self, result: Result<(), CliError>) -> ExitCode {
        let printed = result.and_then(|()| match (self.mode, &self.data) {
            _ if self.streamed => Ok(()),
            (OutputMode::Json, data) => print_json_line(&SuccessEnvelope {
                ok: true,
                data: data.as_deref().unwrap_or(RawValue::NULL),
            }),
            (OutputMode::Human, _) => Ok(()),
        });
        match printed {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => self.finish_with(error),
        }
    }

    fn finish_with(&self, error: CliError) -> ExitCode {
        if error.kind == ErrorKind::BrokenPipe {
            return ExitCode::from(error.kind.exit_code());
        }
        // When even the error cannot be printed there is nowhere left to report that; the
        // exit code still tells what happened.
        let _ = match self.mode {
            OutputMode::Json => print_json_line(&FailureEnvelope {
                ok: false,
                error: ErrorBody {
                    code: error.code,
                    message: error.message_with_sources(),
                    hint: error.hint.as_deref(),
                },
                data: self.data.as_deref(),
            }),
            OutputMode::Human => self.print_error(&error),
        };
        ExitCode::from(error.kind.exit_code())
    }

    /// Writes `error: …`, each cause on its own line, then `hint: …` to stderr.
    fn print_error(&self, error: &CliError) -> Result<(), CliError> {
        let choice = if self.stderr_color {
            ColorChoice::Always
        } else {
            ColorChoice::Never
        };
        let mut stderr = AutoStream::new(io::stderr().lock(), choice);
        let text = match &error.rendered {
            Some(rendered) => rendered.to_string(),
            None => render_error(error),
        };
        stderr
            .write_all(text.as_bytes())
            .and_then(|()| stderr.flush())
            .map_err(|io_error| CliError::io("Cannot write to stderr", &io_error))
    }
}

/// Returns the human rendering of an error, with ANSI styles (stripped when colour is off).
fn render_error(error: &CliError) -> String {
    let heading = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    let cause = Style::new().bold();
    let hint = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
    let mut text = format!("{heading}error:{heading:#} {}\n", error.message);
    for source in &error.sources {
        text.push_str(&format!("{cause}caused by:{cause:#} {source}\n"));
    }
    if let Some(hint_text) = &error.hint {
        text.push_str(&format!("{hint}hint:{hint:#} {hint_text}\n"));
    }
    text
}

/// A commit id as human output shows it: its first 12 hex digits.
pub(crate) fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Writes bytes to stdout and flushes; a closed pipe becomes [`ErrorKind::BrokenPipe`].
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|error| CliError::io("Cannot write to stdout", &error))
}

/// Prints one compact JSON document and a newline on stdout.
fn print_json_line<T: Serialize>(document: &T) -> Result<(), CliError> {
    let mut line = serde_json::to_string(document)?;
    line.push('\n');
    write_stdout(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn json_is_found_anywhere_before_the_terminator() {
        let mode = |list: &[&str]| OutputMode::from_raw_args(&args(list));
        assert_eq!(mode(&["missionctl", "--json", "demo"]), OutputMode::Json);
        assert_eq!(mode(&["missionctl", "demo", "--json"]), OutputMode::Json);
        assert_eq!(
            mode(&["missionctl", "demo", "--nope", "--json"]),
            OutputMode::Json
        );
        assert_eq!(
            mode(&["missionctl", "status", "reduce", "--", "--json"]),
            OutputMode::Human
        );
        assert_eq!(mode(&["missionctl", "--jsonx"]), OutputMode::Human);
        // The program name is never an argument.
        assert_eq!(mode(&["--json"]), OutputMode::Human);
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_color(true, None));
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        assert!(!use_color(false, None));
    }

    #[test]
    fn human_error_lists_causes_then_the_hint() {
        let mut error = CliError::user("X", "Cannot do it").with_hint("Do this".to_owned());
        error.sources = vec!["first".to_owned(), "second".to_owned()];
        let plain = anstream::adapter::strip_str(&render_error(&error)).to_string();
        assert_eq!(
            plain,
            "error: Cannot do it\ncaused by: first\ncaused by: second\nhint: Do this\n"
        );
    }
}
