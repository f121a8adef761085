//! Every environment variable the command line reads, in one place.

/// Turns colour off when set to a non-empty value (<https://no-color.org>).
pub(crate) const NO_COLOR: &str = "NO_COLOR";

/// Comma-separated branches status, planning and mission-creating commits never go to; when
/// set (empty means none), it replaces `protection.protected_branches` of
/// `.kittify/config.yaml` (whose default is `main`, `master` and the remote's default branch).
pub(crate) const MISSIONCTL_PROTECTED_BRANCHES: &str = "MISSIONCTL_PROTECTED_BRANCHES";

/// Spec Kitty's operator hatch: `1`, `true` or `yes` (any case) lets commits go to protected
/// branches, for missionctl as for Spec Kitty.
pub(crate) const SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS: &str =
    "SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS";

/// The actor recorded on moves when `--actor` is not given.
pub(crate) const MISSIONCTL_ACTOR: &str = "MISSIONCTL_ACTOR";

/// How the live commands (`events tail`, `board --watch`, `dashboard`) notice changes:
/// `notify` (the default: file-system notification, polling where it is unavailable) or
/// `poll` (polling the watched directories once a second).
pub(crate) const MISSIONCTL_WATCH: &str = "MISSIONCTL_WATCH";

/// Test-only: failpoints of the write door to arm (`name` or `name@N`, comma-separated), where
/// the process then stops as if killed (see CONTRIBUTING.md).
pub(crate) const MISSIONCTL_FAILPOINT: &str = "MISSIONCTL_FAILPOINT";

/// Spec Kitty's mission template search paths (`:`-separated), searched before the
/// repository's own templates.
pub(crate) const SPEC_KITTY_MISSION_PATHS: &str = "SPEC_KITTY_MISSION_PATHS";

/// The user's home directory: its `.kittify/missions` holds Spec Kitty's global templates.
pub(crate) const HOME: &str = "HOME";

/// The login name, Spec Kitty's fallback for who accepts a mission.
pub(crate) const USER: &str = "USER";

/// The login name on Windows, the next fallback for who accepts a mission.
pub(crate) const USERNAME: &str = "USERNAME";
