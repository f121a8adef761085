//! The real Spec Kitty 3.2.7, for interoperation tests: found through
//! `MISSIONCTL_SPEC_KITTY` (a path to its `spec-kitty` script) or as `spec-kitty` on `PATH`.
//! `.ci/run` installs it in a virtual environment; a test that needs it and does not find it
//! says so on stderr and passes without checking anything.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The version the interoperation tests are written against.
pub(crate) const SPEC_KITTY_VERSION: &str = "3.2.7";

/// Returns the `spec-kitty` executable, or `None` (after printing why) when it is not installed.
///
/// `test` names the calling test in the skip message.
pub(crate) fn spec_kitty(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("MISSIONCTL_SPEC_KITTY")
        .map(PathBuf::from)
        .filter(|path| path.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("spec-kitty"))
                    .find(|path| path.is_file())
            })
        });
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: Spec Kitty {SPEC_KITTY_VERSION} is not installed \
             (set MISSIONCTL_SPEC_KITTY or put `spec-kitty` on PATH; `.ci/run` installs it)"
        );
    }
    found
}

/// Runs Spec Kitty in `dir` with a cleared environment: `home` as `HOME` (and as `TMPDIR`, where
/// `next` writes its prompt files), no system or global git configuration, UTC, a UTF-8 locale
/// and no upgrade check, as the recorded answers of `../shared/conformance/spec-kitty-repo` were
/// produced.
pub(crate) fn run_spec_kitty<I, S>(
    spec_kitty: &Path,
    home: &Path,
    dir: &Path,
    args: I,
) -> std::io::Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(spec_kitty)
        .env_clear()
        .env("HOME", home)
        .env("TMPDIR", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("SPEC_KITTY_NO_UPGRADE_CHECK", "1")
        .current_dir(dir)
        .args(args)
        .output()
}
