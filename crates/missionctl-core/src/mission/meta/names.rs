//! Mission identity and naming rules: ULIDs, mid8, directory names, branch names and the safe
//! path segment guard.
//!
//! Two directory-name grammars exist and both are reproduced: the *canonical* one used when a
//! mission is created ([`mission_dir_name`]: strip a legacy `NNN-`, append `-<mid8>` unless
//! already there) and the *verbatim* one used to reconstruct an existing coordination worktree
//! or branch ([`verbatim_mission_dir_name`]: no `NNN-` stripping), so legacy names resolve to
//! what is actually on disk.

use std::fmt;

use serde::{Serialize, Serializer};

/// The directory under the repository root that holds one directory per mission.
pub const KITTY_SPECS_DIR: &str = "kitty-specs";

/// The directory under the repository root that holds lane and coordination worktrees.
pub const WORKTREES_DIR: &str = ".worktrees";

/// The suffix of a coordination worktree's directory name.
pub const COORDINATION_WORKTREE_SUFFIX: &str = "-coord";

/// The prefix of every mission, lane and coordination branch.
pub const MISSION_BRANCH_PREFIX: &str = "kitty/mission-";

/// Returns true for a byte of the uppercase Crockford base32 alphabet (`0-9A-HJKMNP-TV-Z`).
pub const fn is_crockford_base32(byte: u8) -> bool {
    matches!(
        byte,
        b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z'
    )
}

fn is_crockford_of_len(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(is_crockford_base32)
}

/// Returns true when `value` has the shape of a ULID: 26 uppercase Crockford base32 characters.
pub fn is_ulid(value: &str) -> bool {
    is_crockford_of_len(value, 26)
}

/// Returns true when `value` has the shape of a mid8: 8 uppercase Crockford base32 characters.
pub fn is_mid8(value: &str) -> bool {
    is_crockford_of_len(value, 8)
}

/// A mission's canonical identity: a ULID, validated by shape.
///
/// Its first eight characters are the mission's [mid8](MissionId::mid8), the only place a mid8
/// is derived from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MissionId(String);

impl MissionId {
    /// Parses a mission id: exactly 26 uppercase Crockford base32 characters, nothing trimmed.
    pub fn parse(value: &str) -> Result<MissionId, InvalidMissionId> {
        if is_ulid(value) {
            Ok(MissionId(value.to_owned()))
        } else {
            Err(InvalidMissionId(value.to_owned()))
        }
    }

    /// Returns the ULID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the mid8: the first eight characters of the ULID.
    pub fn mid8(&self) -> &str {
        // The constructor admits only 26 ASCII characters, so the slice is on a char boundary.
        &self.0[..8]
    }
}

impl fmt::Display for MissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for MissionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A string that is not a ULID where a mission id was required.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid mission id {0:?}: expected 26 characters of uppercase Crockford base32")]
pub struct InvalidMissionId(pub String);

/// Returns the mid8 of a declared mission id: its first eight characters when it has at least
/// eight, else `None`.
///
/// This is the authoritative derivation (Spec Kitty's `resolve_mid8`): a declared identity wins
/// over whatever tail the directory name carries, and without one no mid8 is guessed.
pub fn resolve_mid8(mission_id: Option<&str>) -> Option<&str> {
    let mission_id = mission_id?;
    match mission_id.char_indices().nth(8) {
        Some((end, _)) => Some(&mission_id[..end]),
        None if mission_id.chars().count() == 8 => Some(mission_id),
        None => None,
    }
}

/// Returns the mid8 tail of a slug (`foo-bar-01KT3YBD` → `01KT3YBD`), or `None`.
///
/// A heuristic, never authoritative: the last hyphen-separated token when it is a mid8. A slug
/// without a hyphen has no tail.
pub fn mid8_from_slug(slug: &str) -> Option<&str> {
    let (_, tail) = slug.rsplit_once('-')?;
    is_mid8(tail).then_some(tail)
}

/// Returns the three-digit legacy number of a name that starts with `NNN-`, or `None`.
///
/// Exactly three ASCII digits followed by a hyphen; what follows may be empty.
pub fn three_digit_prefix(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let is_prefixed =
        bytes.len() >= 4 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'-';
    is_prefixed.then(|| &name[..3])
}

/// Returns the slug without a legacy `NNN-` prefix (`083-foo` → `foo`).
///
/// Only exactly three digits and a hyphen are stripped, and only when something remains
/// (`083-` stays as is; `08-foo` and `1234-foo` are not legacy names).
pub fn strip_numeric_prefix(slug: &str) -> &str {
    match three_digit_prefix(slug) {
        Some(_) if slug.len() > 4 => &slug[4..],
        _ => slug,
    }
}

/// Returns the canonical mission directory name `<human-slug>-<mid8>`, as `mission create`
/// composes it.
///
/// Idempotent: a slug that already ends with `-<mid8>` is returned unchanged. Otherwise a
/// legacy `NNN-` prefix is stripped before the suffix is appended.
pub fn mission_dir_name(slug: &str, mid8: &str) -> String {
    if ends_with_mid8(slug, mid8) {
        return slug.to_owned();
    }
    format!("{}-{mid8}", strip_numeric_prefix(slug))
}

/// Returns the verbatim mission directory name used to reconstruct an existing coordination
/// worktree or branch: `slug` if it already ends with `-<mid8>`, else `slug-<mid8>`.
///
/// Unlike [`mission_dir_name`], a legacy `NNN-` prefix is kept, because that is what exists on
/// disk. An empty `mid8` returns the slug unchanged.
pub fn verbatim_mission_dir_name(slug: &str, mid8: &str) -> String {
    if mid8.is_empty() || ends_with_mid8(slug, mid8) {
        return slug.to_owned();
    }
    format!("{slug}-{mid8}")
}

fn ends_with_mid8(slug: &str, mid8: &str) -> bool {
    slug.strip_suffix(mid8)
        .is_some_and(|rest| rest.ends_with('-'))
}

/// Returns the directory name of the coordination worktree, `<verbatim dir name>-coord`.
pub fn coordination_worktree_dir_name(slug: &str, mid8: &str) -> String {
    format!(
        "{}{COORDINATION_WORKTREE_SUFFIX}",
        verbatim_mission_dir_name(slug, mid8)
    )
}

/// Returns the canonical coordination branch `kitty/mission-<human-slug>-<mid8>`.
///
/// The human slug is `slug` without a legacy `NNN-` prefix and without an embedded `-<mid8>`
/// that matches the mission's, so passing the directory name `foo-01ABCDEF` yields
/// `kitty/mission-foo-01ABCDEF`, never a double suffix. There is no `-coord` suffix on the
/// branch. It is the same string as the mission's integration branch.
pub fn coordination_branch_name(slug: &str, mission_id: &MissionId) -> String {
    let mid8 = mission_id.mid8();
    let human = strip_numeric_prefix(slug);
    let human = match human.strip_suffix(mid8) {
        Some(rest) if rest.ends_with('-') => &rest[..rest.len() - 1],
        _ => human,
    };
    format!("{MISSION_BRANCH_PREFIX}{human}-{mid8}")
}

/// The form of a mission directory name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissionDirName<'a> {
    /// `<human-slug>-<mid8>`: a modern name (a stale `NNN-` prefix is not part of the human
    /// slug).
    Modern {
        /// The slug without the `-<mid8>` tail and without a legacy `NNN-` prefix.
        human_slug: &'a str,
        /// The mid8 tail.
        mid8: &'a str,
    },
    /// `NNN-<slug>`: a legacy name without a mid8 tail.
    Legacy {
        /// The three-digit number.
        number: &'a str,
        /// The slug after `NNN-`.
        slug: &'a str,
    },
    /// Neither form: a bare slug.
    Bare(&'a str),
}

impl<'a> MissionDirName<'a> {
    /// Classifies a directory name; a mid8 tail wins over a legacy prefix.
    pub fn classify(name: &'a str) -> MissionDirName<'a> {
        if let Some(mid8) = mid8_from_slug(name) {
            let body = &name[..name.len() - mid8.len() - 1];
            return MissionDirName::Modern {
                human_slug: strip_numeric_prefix(body),
                mid8,
            };
        }
        match three_digit_prefix(name) {
            Some(number) if name.len() > 4 => MissionDirName::Legacy {
                number,
                slug: &name[4..],
            },
            _ => MissionDirName::Bare(name),
        }
    }
}

/// Checks that `value` is a single safe path segment, as every join of an untrusted name must.
///
/// Rejected, in this order (Spec Kitty's messages): empty or whitespace-only; leading or
/// trailing whitespace; any `..`; a leading `.`; a `/` or `\`; anything outside
/// `^[A-Za-z0-9][A-Za-z0-9._-]*$` (non-ASCII, NUL and other control characters included).
pub fn check_safe_path_segment(value: &str) -> Result<(), NameError> {
    match unsafe_segment_reason(value) {
        None => Ok(()),
        Some(reason) => Err(NameError::UnsafePathSegment {
            value: value.to_owned(),
            reason,
        }),
    }
}

/// Returns which rule of [`check_safe_path_segment`] `value` breaks, if any.
pub(crate) fn unsafe_segment_reason(value: &str) -> Option<&'static str> {
    let stripped = value.trim();
    let reason = if stripped.is_empty() {
        "value must not be empty or whitespace-only"
    } else if stripped != value {
        "value must not contain leading or trailing whitespace"
    } else if value.contains("..") {
        "value must not contain '..' (traversal guard)"
    } else if value.starts_with('.') {
        "value must not begin with '.' (traversal guard)"
    } else if value.contains('/') || value.contains('\\') {
        "value must not contain path separators"
    } else if !matches_segment_grammar(value) {
        "value must match the canonical segment grammar (ASCII alphanumerics, hyphens, \
         underscores, and interior dots only; must begin with an alphanumeric character)"
    } else {
        return None;
    };
    Some(reason)
}

/// Returns true when [`check_safe_path_segment`] accepts `value`.
pub fn is_safe_path_segment(value: &str) -> bool {
    check_safe_path_segment(value).is_ok()
}

fn matches_segment_grammar(value: &str) -> bool {
    let mut bytes = value.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// The longest human slug `mission create` accepts, in bytes.
///
/// A file name (a path component, a ref name component) has at most 255 bytes, and the longest
/// one built from a slug is the planning lane's branch while git writes it:
/// `refs/heads/kitty/mission-<slug>-<mid8>-lane-planning.lock`, whose last component has
/// `8 + slug + 9 + 14 + 5` bytes. Every other name is shorter: the mission directory
/// `<slug>-<mid8>` (+9), the coordination worktree `<slug>-<mid8>-coord` (+15), a lane worktree
/// and its administrative directory `<slug>-<mid8>-lane-planning` (+23, and the few digits git
/// appends on a clash), its workspace context `….json` (+28), the status lock
/// `<slug>-<mid8>.status.lock` (+21), the coordination branch `mission-<slug>-<mid8>.lock` (+22).
pub const MAX_HUMAN_SLUG_BYTES: usize =
    255 - "mission-".len() - "-01234567".len() - "-lane-planning".len() - ".lock".len();

/// Checks a human slug typed at `mission create`: kebab-case, `^[a-z0-9]+(-[a-z0-9]+)*$`, and
/// at most [`MAX_HUMAN_SLUG_BYTES`] long, so that every name git and the file system are given
/// for the mission fits.
pub fn check_human_slug(value: &str) -> Result<(), NameError> {
    if value.len() > MAX_HUMAN_SLUG_BYTES {
        return Err(NameError::HumanSlugTooLong {
            length: value.len(),
        });
    }
    let valid = value.split('-').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
    });
    if valid {
        Ok(())
    } else {
        Err(NameError::InvalidHumanSlug(value.to_owned()))
    }
}

/// A name that cannot be used as a mission name or path segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The value is not a single safe path segment.
    #[error("Not a safe path segment: {value:?} — {reason}")]
    UnsafePathSegment {
        /// The rejected value.
        value: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// The value is not a kebab-case human slug.
    #[error("Invalid mission slug {0:?}: expected kebab-case (lowercase letters, digits, hyphens)")]
    InvalidHumanSlug(String),
    /// The slug is longer than the names built from it may be.
    #[error(
        "The mission slug is {length} bytes long; at most {MAX_HUMAN_SLUG_BYTES} fit in the names \
         git and the file system are given for a mission (its branches, directories and lock)"
    )]
    HumanSlugTooLong {
        /// Its length in bytes.
        length: usize,
    },
}

impl NameError {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            NameError::UnsafePathSegment { .. } => "UNSAFE_PATH_SEGMENT",
            NameError::InvalidHumanSlug(_) => "INVALID_MISSION_SLUG",
            NameError::HumanSlugTooLong { .. } => "MISSION_SLUG_TOO_LONG",
        }
    }

    /// Returns a one-line suggestion for the user.
    pub fn hint(&self) -> String {
        match self {
            NameError::UnsafePathSegment { .. } => {
                "Pass a mission handle or directory name, never a path".to_owned()
            }
            NameError::InvalidHumanSlug(_) => {
                "Use a slug like `invoice-export`: lowercase letters and digits separated by \
                 single hyphens"
                    .to_owned()
            }
            NameError::HumanSlugTooLong { .. } => format!(
                "Use a shorter slug (at most {MAX_HUMAN_SLUG_BYTES} bytes); the friendly name \
                 (`--friendly-name`) may be longer"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_longer_than_the_names_built_from_it_may_be_is_refused() {
        assert_eq!(MAX_HUMAN_SLUG_BYTES, 219);
        let longest = "a".repeat(MAX_HUMAN_SLUG_BYTES);
        assert_eq!(check_human_slug(&longest), Ok(()));
        let ref_component = format!("mission-{longest}-01M0M9D8-lane-planning.lock");
        assert_eq!(ref_component.len(), 255);
        let error = check_human_slug(&format!("{longest}b")).expect_err("too long");
        assert_eq!(error.code(), "MISSION_SLUG_TOO_LONG");
        assert!(
            error
                .to_string()
                .starts_with("The mission slug is 220 bytes long")
        );
    }

    const ID: &str = "01KVTVZS6ZT02NTR0YBJ9WWKMJ";

    fn id() -> MissionId {
        MissionId::parse(ID).expect("valid ULID")
    }

    #[test]
    fn crockford_alphabet_excludes_i_l_o_u() {
        let accepted: String = (0u8..=255)
            .filter(|byte| is_crockford_base32(*byte))
            .map(char::from)
            .collect();
        assert_eq!(accepted, "0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    }

    #[test]
    fn mission_ids_are_validated_by_shape() {
        let id = id();
        assert_eq!(id.as_str(), ID);
        assert_eq!(id.mid8(), "01KVTVZS");
        assert_eq!(id.to_string(), ID);
        for bad in [
            "",
            "01KVTVZS",
            "01kvtvzs6zt02ntr0ybj9wwkmj",
            "01KVTVZS6ZT02NTR0YBJ9WWKMI",
            "01KVTVZS6ZT02NTR0YBJ9WWKMJ ",
            "01KVTVZS6ZT02NTR0YBJ9WWKMJX",
            "01KVTVZS6ZT02NTR0YBJ9WWKMÉ",
        ] {
            assert_eq!(MissionId::parse(bad), Err(InvalidMissionId(bad.to_owned())));
        }
        assert!(is_mid8("01KVTVZS"));
        assert!(!is_mid8("01KVTVZ"));
        assert!(!is_mid8("0IKVTVZS"));
    }

    #[test]
    fn resolve_mid8_declines_without_a_declared_id() {
        assert_eq!(resolve_mid8(Some(ID)), Some("01KVTVZS"));
        assert_eq!(resolve_mid8(Some("legacy-foo")), Some("legacy-f"));
        assert_eq!(resolve_mid8(Some("short")), None);
        assert_eq!(resolve_mid8(None), None);
        assert_eq!(resolve_mid8(Some("ééééééééé")), Some("éééééééé"));
    }

    #[test]
    fn mid8_from_slug_is_the_tail_token() {
        assert_eq!(mid8_from_slug("foo-bar-01KT3YBD"), Some("01KT3YBD"));
        assert_eq!(mid8_from_slug("01KT3YBD"), None);
        assert_eq!(mid8_from_slug("foo-01kt3ybd"), None);
        assert_eq!(mid8_from_slug("foo-01KT3YBD-lane-a"), None);
        assert_eq!(
            mid8_from_slug("064-complete-mission-identity-cutover"),
            None
        );
        assert_eq!(mid8_from_slug("foo-"), None);
    }

    #[test]
    fn numeric_prefix_is_exactly_three_digits() {
        assert_eq!(strip_numeric_prefix("083-foo"), "foo");
        assert_eq!(strip_numeric_prefix("001-bar-baz"), "bar-baz");
        assert_eq!(strip_numeric_prefix("foo"), "foo");
        assert_eq!(strip_numeric_prefix("08-foo"), "08-foo");
        assert_eq!(strip_numeric_prefix("1234-foo"), "1234-foo");
        assert_eq!(strip_numeric_prefix("083-"), "083-");
        assert_eq!(strip_numeric_prefix(""), "");
        assert_eq!(three_digit_prefix("083-"), Some("083"));
        assert_eq!(three_digit_prefix("083foo"), None);
        assert_eq!(three_digit_prefix("０８３-foo"), None);
    }

    #[test]
    fn canonical_dir_names_strip_and_never_double_suffix() {
        assert_eq!(mission_dir_name("foo", "01KV6510"), "foo-01KV6510");
        assert_eq!(mission_dir_name("foo-01KV6510", "01KV6510"), "foo-01KV6510");
        assert_eq!(mission_dir_name("057-foo", "01KV6510"), "foo-01KV6510");
        assert_eq!(
            mission_dir_name("foo-01KV6511", "01KV6510"),
            "foo-01KV6511-01KV6510"
        );
        assert_eq!(
            mission_dir_name("x01KV6510", "01KV6510"),
            "x01KV6510-01KV6510"
        );
    }

    #[test]
    fn verbatim_dir_names_keep_legacy_prefixes() {
        assert_eq!(verbatim_mission_dir_name("foo", "01KV6510"), "foo-01KV6510");
        assert_eq!(
            verbatim_mission_dir_name("foo-01KV6510", "01KV6510"),
            "foo-01KV6510"
        );
        assert_eq!(
            verbatim_mission_dir_name("060-test", "01COORD0"),
            "060-test-01COORD0"
        );
        assert_eq!(verbatim_mission_dir_name("060-test", ""), "060-test");
        assert_eq!(
            coordination_worktree_dir_name("060-test", "01COORD0"),
            "060-test-01COORD0-coord"
        );
    }

    #[test]
    fn coordination_branch_has_no_double_suffix_and_no_coord_suffix() {
        let id = id();
        for slug in [
            "write-surface-coherence",
            "write-surface-coherence-01KVTVZS",
            "083-write-surface-coherence",
            "083-write-surface-coherence-01KVTVZS",
        ] {
            assert_eq!(
                coordination_branch_name(slug, &id),
                "kitty/mission-write-surface-coherence-01KVTVZS",
                "{slug}"
            );
        }
        // A different embedded mid8 is not stripped.
        assert_eq!(
            coordination_branch_name("foo-01KV6510", &id),
            "kitty/mission-foo-01KV6510-01KVTVZS"
        );
    }

    #[test]
    fn dir_names_classify() {
        assert_eq!(
            MissionDirName::classify("invoice-export-01M0M9D8"),
            MissionDirName::Modern {
                human_slug: "invoice-export",
                mid8: "01M0M9D8"
            }
        );
        assert_eq!(
            MissionDirName::classify("057-foo-01M0M9D8"),
            MissionDirName::Modern {
                human_slug: "foo",
                mid8: "01M0M9D8"
            }
        );
        assert_eq!(
            MissionDirName::classify("064-complete-mission-identity-cutover"),
            MissionDirName::Legacy {
                number: "064",
                slug: "complete-mission-identity-cutover"
            }
        );
        assert_eq!(MissionDirName::classify("foo"), MissionDirName::Bare("foo"));
        assert_eq!(
            MissionDirName::classify("083-"),
            MissionDirName::Bare("083-")
        );
    }

    #[test]
    fn safe_path_segments() {
        for good in [
            "foo",
            "invoice-export-01M0M9D8",
            "064-foo",
            "a.b_c-d",
            "01KVTVZS6ZT02NTR0YBJ9WWKMJ",
            "Foo",
        ] {
            assert!(is_safe_path_segment(good), "{good}");
        }
        let cases = [
            ("", "value must not be empty or whitespace-only"),
            ("   ", "value must not be empty or whitespace-only"),
            (
                " foo",
                "value must not contain leading or trailing whitespace",
            ),
            ("..", "value must not contain '..' (traversal guard)"),
            ("a..b", "value must not contain '..' (traversal guard)"),
            ("../etc", "value must not contain '..' (traversal guard)"),
            (".hidden", "value must not begin with '.' (traversal guard)"),
            ("a/b", "value must not contain path separators"),
            ("a\\b", "value must not contain path separators"),
            ("/abs", "value must not contain path separators"),
        ];
        for (value, reason) in cases {
            assert_eq!(
                check_safe_path_segment(value),
                Err(NameError::UnsafePathSegment {
                    value: value.to_owned(),
                    reason
                }),
                "{value:?}"
            );
        }
        for grammar in ["a\0b", "-foo", "_foo", "café", "a b", "a:b"] {
            assert!(!is_safe_path_segment(grammar), "{grammar:?}");
        }
        let error = check_safe_path_segment("a/b").expect_err("unsafe");
        assert_eq!(error.code(), "UNSAFE_PATH_SEGMENT");
        assert_eq!(
            error.to_string(),
            "Not a safe path segment: \"a/b\" — value must not contain path separators"
        );
    }

    #[test]
    fn human_slugs_are_kebab_case() {
        for good in ["invoice-export", "a", "a1-b2", "2026"] {
            assert_eq!(check_human_slug(good), Ok(()), "{good}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a b", "a.b", "é"] {
            let error = check_human_slug(bad).expect_err(bad);
            assert_eq!(error.code(), "INVALID_MISSION_SLUG");
        }
    }
}
