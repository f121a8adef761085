//! The pure part of handle lookup: which mission a `--mission` handle names. The shell lists
//! `kitty-specs/*` and reads each `meta.json` (silent policy); [`match_handle`] decides.

use std::fmt;

use serde::Serialize;

use super::MissionMeta;
use super::names::{
    mid8_from_slug, resolve_mid8, strip_numeric_prefix, three_digit_prefix, unsafe_segment_reason,
};

/// One directory under `kitty-specs/`, as the shell found it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MissionCandidate {
    /// The directory name (the mission's canonical slug).
    pub dir_name: String,
    /// Whether the directory holds a `meta.json` file (readable or not).
    pub has_meta: bool,
    /// The `mission_id` string its `meta.json` declares, if any. Missions without one are
    /// invisible to the identity ladder until their identity is backfilled.
    pub mission_id: Option<String>,
}

impl MissionCandidate {
    /// Builds a candidate from a directory name and its `meta.json`, read with the silent
    /// policy (`None` when the file is absent).
    ///
    /// A `mission_id` that is not a non-blank string is ignored, as Spec Kitty's index does.
    pub fn from_meta(dir_name: impl Into<String>, meta: Option<&MissionMeta>) -> MissionCandidate {
        MissionCandidate {
            dir_name: dir_name.into(),
            has_meta: meta.is_some(),
            mission_id: meta
                .and_then(|meta| meta.mission_id_text())
                .map(str::to_owned),
        }
    }

    /// Returns the candidate's mid8: the first eight characters of its `mission_id`.
    pub fn mid8(&self) -> Option<&str> {
        resolve_mid8(self.mission_id.as_deref())
    }
}

/// Which rule of the lookup matched a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HandleRule {
    /// The full 26-character mission id.
    MissionId,
    /// An 8-character prefix of the mission id (the mid8).
    Mid8,
    /// The exact directory name.
    DirName,
    /// The directory name without its legacy `NNN-` prefix.
    SlugWithoutNumber,
    /// The three-digit legacy mission number.
    MissionNumber,
    /// The human slug of a unique `<slug>-<mid8>` directory (the bare-modern fold).
    HumanSlug,
    /// The exact directory name, used as is when the ladder and the fold found nothing (a
    /// directory without a `mission_id`, or one the terminal ladder levels skipped).
    LiteralDir,
}

/// The mission a handle names, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleMatch<'a> {
    /// The matched directory.
    pub candidate: &'a MissionCandidate,
    /// The rule that matched.
    pub rule: HandleRule,
}

/// A mission listed in an ambiguity error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmbiguousCandidate {
    /// The directory name.
    pub slug: String,
    /// The declared mission id, if any.
    pub mission_id: Option<String>,
    /// The mid8, if a mission id is declared.
    pub mid8: Option<String>,
}

impl AmbiguousCandidate {
    fn from_candidate(candidate: &MissionCandidate) -> AmbiguousCandidate {
        AmbiguousCandidate {
            slug: candidate.dir_name.clone(),
            mission_id: candidate.mission_id.clone(),
            mid8: candidate.mid8().map(str::to_owned),
        }
    }
}

impl fmt::Display for AmbiguousCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (mission_id {}, mid8 {})",
            self.slug,
            self.mission_id.as_deref().unwrap_or("none"),
            self.mid8.as_deref().unwrap_or("none")
        )
    }
}

/// A handle that names no mission, several missions, or is not a handle at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// The handle is not a safe path segment (it contains `..`, a separator, NUL, …).
    #[error("Mission handle {handle:?} is not a safe path segment: {reason}")]
    Unsafe {
        /// The handle as given.
        handle: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// More than one mission matches; missionctl never picks one silently.
    #[error(
        "Mission handle \"{handle}\" matches multiple missions: {}",
        list(candidates)
    )]
    Ambiguous {
        /// The handle as given.
        handle: String,
        /// Every matching mission, sorted by directory name.
        candidates: Vec<AmbiguousCandidate>,
    },
    /// No mission matches.
    #[error("No mission found for handle \"{handle}\"")]
    NotFound {
        /// The handle as given.
        handle: String,
    },
}

fn list(candidates: &[AmbiguousCandidate]) -> String {
    candidates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl HandleError {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            HandleError::Unsafe { .. } => "UNSAFE_PATH_SEGMENT",
            HandleError::Ambiguous { .. } => "MISSION_AMBIGUOUS_SELECTOR",
            HandleError::NotFound { .. } => "MISSION_NOT_FOUND",
        }
    }

    /// Returns a one-line suggestion for the user.
    pub fn hint(&self) -> String {
        match self {
            HandleError::Unsafe { .. } => {
                "Pass a mission id, mid8, directory name or slug, never a path".to_owned()
            }
            HandleError::Ambiguous { candidates, .. } => {
                // A mid8 only helps when no other candidate shares it; otherwise offer the
                // full ULID, which is unique.
                let shares_mid8 = |mid8: &str| {
                    candidates
                        .iter()
                        .filter(|other| other.mid8.as_deref() == Some(mid8))
                        .count()
                        > 1
                };
                let handles: Vec<String> = candidates
                    .iter()
                    .map(|candidate| match (&candidate.mid8, &candidate.mission_id) {
                        (Some(mid8), _) if !shares_mid8(mid8) => {
                            format!("`--mission {mid8}` or `--mission {}`", candidate.slug)
                        }
                        (_, Some(id)) => {
                            format!("`--mission {id}` or `--mission {}`", candidate.slug)
                        }
                        _ => format!("`--mission {}`", candidate.slug),
                    })
                    .collect();
                format!("Re-run with a more specific handle: {}", handles.join(", "))
            }
            HandleError::NotFound { .. } => {
                "Run `missionctl mission list` to see the missions; a legacy mission whose \
                 meta.json lacks a mission_id can only be named by its directory"
                    .to_owned()
            }
        }
    }
}

enum Ladder<'a> {
    Found(&'a MissionCandidate, HandleRule),
    Ambiguous(Vec<&'a MissionCandidate>),
    NotFound,
}

fn decide<'a>(matches: Vec<&'a MissionCandidate>, rule: HandleRule) -> Ladder<'a> {
    match matches.as_slice() {
        [] => Ladder::NotFound,
        [single] => Ladder::Found(single, rule),
        _ => Ladder::Ambiguous(matches),
    }
}

fn is_upper_alphanumeric_of_len(handle: &str, len: usize) -> bool {
    handle.len() == len
        && handle
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase())
}

fn identity_ladder<'a>(handle: &str, indexed: &[&'a MissionCandidate]) -> Ladder<'a> {
    let filter = |predicate: &dyn Fn(&MissionCandidate) -> bool| -> Vec<&'a MissionCandidate> {
        indexed
            .iter()
            .copied()
            .filter(|candidate| predicate(candidate))
            .collect()
    };
    let id_of = |candidate: &MissionCandidate| candidate.mission_id.clone().unwrap_or_default();

    if is_upper_alphanumeric_of_len(handle, 26) {
        return decide(filter(&|c| id_of(c) == handle), HandleRule::MissionId);
    }
    if is_upper_alphanumeric_of_len(handle, 8) {
        return decide(filter(&|c| id_of(c).starts_with(handle)), HandleRule::Mid8);
    }
    let exact = filter(&|c| c.dir_name == handle);
    if !exact.is_empty() {
        return decide(exact, HandleRule::DirName);
    }
    let all_digits = handle.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits {
        let stripped = filter(&|c| strip_numeric_prefix(&c.dir_name) == handle);
        if !stripped.is_empty() {
            return decide(stripped, HandleRule::SlugWithoutNumber);
        }
        return Ladder::NotFound;
    }
    decide(
        filter(&|c| three_digit_prefix(&c.dir_name) == Some(handle)),
        HandleRule::MissionNumber,
    )
}

fn ambiguous(handle: &str, mut matches: Vec<&MissionCandidate>) -> HandleError {
    matches.sort_by(|a, b| a.dir_name.cmp(&b.dir_name));
    HandleError::Ambiguous {
        handle: handle.to_owned(),
        candidates: matches
            .into_iter()
            .map(AmbiguousCandidate::from_candidate)
            .collect(),
    }
}

/// Returns the mission a handle names among the directories of `kitty-specs/`.
///
/// The rules are Spec Kitty's identity ladder followed by its read-path fold:
///
/// 1. the handle must be a safe path segment (`..`, `/`, `\`, NUL and the like are refused);
/// 2. the identity ladder over missions with a `mission_id` — the first level with a match
///    decides, two or more matches are ambiguous, and levels 1, 2 and 5 are terminal:
///    1. `^[0-9A-Z]{26}$`: exact `mission_id`;
///    2. `^[0-9A-Z]{8}$`: `mission_id` starts with it (the mid8);
///    3. exact directory name (`083-foo-bar`, `foo-bar-01KV6DC9`);
///    4. not all digits: the directory name without `NNN-` (`foo-bar` finds `083-foo-bar`);
///    5. all digits: the directory's three-digit prefix (`083`; the mission number);
/// 3. the bare-modern fold, when the ladder found nothing, the handle has no mid8 tail and no
///    `kitty-specs/<handle>/meta.json` exists: the directories `<handle>-*` with a `meta.json`
///    and a mid8 tail (`foo-bar` finds `foo-bar-01KV6DC9`); one is a match, several are
///    ambiguous (never a silent pick);
/// 4. a directory named exactly like the handle is used as is (typically one without a
///    `mission_id`), the way Spec Kitty falls back to the literal name;
/// 5. otherwise the mission is not found.
///
/// Candidates may be given in any order; ambiguity lists them sorted by directory name.
pub fn match_handle<'a>(
    handle: &str,
    candidates: &'a [MissionCandidate],
) -> Result<HandleMatch<'a>, HandleError> {
    if let Some(reason) = unsafe_segment_reason(handle) {
        return Err(HandleError::Unsafe {
            handle: handle.to_owned(),
            reason,
        });
    }

    let mut indexed: Vec<&MissionCandidate> = candidates
        .iter()
        .filter(|candidate| candidate.has_meta && candidate.mission_id.is_some())
        .collect();
    indexed.sort_by(|a, b| a.dir_name.cmp(&b.dir_name));
    match identity_ladder(handle, &indexed) {
        Ladder::Found(candidate, rule) => return Ok(HandleMatch { candidate, rule }),
        Ladder::Ambiguous(matches) => return Err(ambiguous(handle, matches)),
        Ladder::NotFound => {}
    }

    let literal_has_meta = candidates
        .iter()
        .any(|candidate| candidate.dir_name == handle && candidate.has_meta);
    if !literal_has_meta && mid8_from_slug(handle).is_none() {
        let prefix = format!("{handle}-");
        let folded: Vec<&MissionCandidate> = candidates
            .iter()
            .filter(|candidate| {
                candidate.has_meta
                    && candidate.dir_name.starts_with(&prefix)
                    && mid8_from_slug(&candidate.dir_name).is_some()
            })
            .collect();
        match folded.as_slice() {
            [] => {}
            [single] => {
                return Ok(HandleMatch {
                    candidate: single,
                    rule: HandleRule::HumanSlug,
                });
            }
            _ => return Err(ambiguous(handle, folded)),
        }
    }

    candidates
        .iter()
        .find(|candidate| candidate.dir_name == handle)
        .map(|candidate| HandleMatch {
            candidate,
            rule: HandleRule::LiteralDir,
        })
        .ok_or_else(|| HandleError::NotFound {
            handle: handle.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(dir_name: &str, mission_id: Option<&str>) -> MissionCandidate {
        MissionCandidate {
            dir_name: dir_name.to_owned(),
            has_meta: true,
            mission_id: mission_id.map(str::to_owned),
        }
    }

    /// A small `kitty-specs/` with every name form.
    fn fixture() -> Vec<MissionCandidate> {
        vec![
            candidate(
                "invoice-export-01M0M9D8",
                Some("01M0M9D8R83DDKSZ62QKGV3YW0"),
            ),
            candidate("064-complete-identity", Some("01KN2371WNZX28ME4MN97B67PJ")),
            candidate("083-foo-bar", Some("01KNXQS9ATWWFXS3K5ZJ9E5008")),
            candidate("write-surface-01KVTVZS", Some("01KVTVZS6ZT02NTR0YBJ9WWKMJ")),
            // Two missions created with the same human slug.
            candidate("twin-01KX0000", Some("01KX0000AAAAAAAAAAAAAAAAAA")),
            candidate("twin-01KY0000", Some("01KY0000AAAAAAAAAAAAAAAAAA")),
            // Two legacy missions with the same number.
            candidate("012-alpha", Some("01KA0000AAAAAAAAAAAAAAAAAA")),
            candidate("012-beta", Some("01KB0000AAAAAAAAAAAAAAAAAA")),
            // A legacy mission without a mission_id and a directory without meta.json.
            candidate("007-legacy-no-id", None),
            MissionCandidate {
                dir_name: "stray".to_owned(),
                has_meta: false,
                mission_id: None,
            },
        ]
    }

    fn found(handle: &str) -> (String, HandleRule) {
        let candidates = fixture();
        let found =
            match_handle(handle, &candidates).unwrap_or_else(|error| panic!("{handle}: {error}"));
        (found.candidate.dir_name.clone(), found.rule)
    }

    #[test]
    fn every_handle_form_resolves() {
        let cases = [
            (
                "01M0M9D8R83DDKSZ62QKGV3YW0",
                "invoice-export-01M0M9D8",
                HandleRule::MissionId,
            ),
            ("01M0M9D8", "invoice-export-01M0M9D8", HandleRule::Mid8),
            (
                "invoice-export-01M0M9D8",
                "invoice-export-01M0M9D8",
                HandleRule::DirName,
            ),
            ("083-foo-bar", "083-foo-bar", HandleRule::DirName),
            ("foo-bar", "083-foo-bar", HandleRule::SlugWithoutNumber),
            ("064", "064-complete-identity", HandleRule::MissionNumber),
            (
                "invoice-export",
                "invoice-export-01M0M9D8",
                HandleRule::HumanSlug,
            ),
            (
                "write-surface",
                "write-surface-01KVTVZS",
                HandleRule::HumanSlug,
            ),
            ("invoice", "invoice-export-01M0M9D8", HandleRule::HumanSlug),
            (
                "007-legacy-no-id",
                "007-legacy-no-id",
                HandleRule::LiteralDir,
            ),
            ("stray", "stray", HandleRule::LiteralDir),
        ];
        for (handle, dir_name, rule) in cases {
            assert_eq!(found(handle), (dir_name.to_owned(), rule), "{handle}");
        }
    }

    #[test]
    fn a_shorter_uppercase_prefix_is_not_a_mid8() {
        let candidates = fixture();
        let error = match_handle("01M0M9D", &candidates).expect_err("7 chars");
        assert_eq!(error.code(), "MISSION_NOT_FOUND");
    }

    #[test]
    fn a_shared_mid8_hint_offers_the_full_ulid() {
        let candidates = vec![
            MissionCandidate {
                dir_name: "a-01KA0000".to_owned(),
                has_meta: true,
                mission_id: Some("01KA0000AAAAAAAAAAAAAAAAAA".to_owned()),
            },
            MissionCandidate {
                dir_name: "b-01KA0000".to_owned(),
                has_meta: true,
                mission_id: Some("01KA0000BBBBBBBBBBBBBBBBBB".to_owned()),
            },
        ];
        let error = match_handle("01KA0000", &candidates).expect_err("shared mid8");
        assert_eq!(
            error.hint(),
            "Re-run with a more specific handle: `--mission 01KA0000AAAAAAAAAAAAAAAAAA` or \
             `--mission a-01KA0000`, `--mission 01KA0000BBBBBBBBBBBBBBBBBB` or `--mission b-01KA0000`"
        );
    }

    #[test]
    fn ambiguous_handles_list_every_candidate() {
        let candidates = fixture();
        let error = match_handle("012", &candidates).expect_err("two legacy 012 missions");
        assert_eq!(error.code(), "MISSION_AMBIGUOUS_SELECTOR");
        assert_eq!(
            error.to_string(),
            "Mission handle \"012\" matches multiple missions: \
             012-alpha (mission_id 01KA0000AAAAAAAAAAAAAAAAAA, mid8 01KA0000), \
             012-beta (mission_id 01KB0000AAAAAAAAAAAAAAAAAA, mid8 01KB0000)"
        );
        assert_eq!(
            error.hint(),
            "Re-run with a more specific handle: `--mission 01KA0000` or `--mission 012-alpha`, \
             `--mission 01KB0000` or `--mission 012-beta`"
        );

        let error = match_handle("twin", &candidates).expect_err("two twins");
        let HandleError::Ambiguous {
            candidates: listed, ..
        } = &error
        else {
            panic!("expected ambiguity, got {error}");
        };
        let slugs: Vec<_> = listed.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(slugs, ["twin-01KX0000", "twin-01KY0000"]);

        // A mid8 prefix shared by two ids.
        let shared = vec![
            candidate("a-01KX0000", Some("01KX0000AAAAAAAAAAAAAAAAAA")),
            candidate("b-01KX0000", Some("01KX0000BBBBBBBBBBBBBBBBBB")),
        ];
        let error = match_handle("01KX0000", &shared).expect_err("shared mid8");
        assert_eq!(error.code(), "MISSION_AMBIGUOUS_SELECTOR");
    }

    #[test]
    fn unknown_handles_are_not_found() {
        let candidates = fixture();
        for handle in [
            "nope",
            "999",
            "01ZZZZZZ",
            "01ZZZZZZZZZZZZZZZZZZZZZZZZ",
            "64",
            "0064",
            "complete-identity-01KN2371",
        ] {
            let error = match_handle(handle, &candidates).expect_err(handle);
            assert_eq!(
                error,
                HandleError::NotFound {
                    handle: handle.to_owned()
                }
            );
            assert_eq!(error.code(), "MISSION_NOT_FOUND");
        }
        assert_eq!(
            match_handle("x", &[]).expect_err("empty").to_string(),
            "No mission found for handle \"x\""
        );
    }

    #[test]
    fn path_like_handles_are_rejected_before_lookup() {
        let candidates = fixture();
        for handle in [
            "..",
            "../083-foo-bar",
            "kitty-specs/083-foo-bar",
            "083-foo-bar/",
            "a\\b",
            "083-foo-bar\0",
            "",
            " 083-foo-bar",
            ".hidden",
            "/etc/passwd",
        ] {
            let error = match_handle(handle, &candidates).expect_err(handle);
            assert_eq!(error.code(), "UNSAFE_PATH_SEGMENT", "{handle:?}");
        }
    }

    #[test]
    fn terminal_levels_do_not_fall_through() {
        // A 26-character uppercase handle is compared with mission ids only; the ladder does
        // not go on to directory names. Only the final literal fallback finds such a directory.
        let id_named = vec![
            candidate(
                "ABCDEFGHJKMNPQRSTVWXYZ0123",
                Some("01KX0000AAAAAAAAAAAAAAAAAA"),
            ),
            candidate("083-ABCDEFGH", Some("01KY0000AAAAAAAAAAAAAAAAAA")),
        ];
        let found = match_handle("ABCDEFGHJKMNPQRSTVWXYZ0123", &id_named).expect("literal");
        assert_eq!(found.rule, HandleRule::LiteralDir);
        // An 8-character uppercase handle is a mid8, never a slug without its number.
        let error = match_handle("ABCDEFGH", &id_named).expect_err("terminal mid8");
        assert_eq!(error.code(), "MISSION_NOT_FOUND");
        // An all-digit handle never matches by stripped slug.
        let digits = vec![candidate("083-123", Some("01KX0000AAAAAAAAAAAAAAAAAA"))];
        assert_eq!(
            match_handle("123", &digits).expect_err("digits").code(),
            "MISSION_NOT_FOUND"
        );
    }

    #[test]
    fn the_ladder_beats_the_fold_and_the_literal() {
        // `foo` is both the stripped slug of `083-foo` and the prefix of `foo-01KX0000`.
        let candidates = vec![
            candidate("083-foo", Some("01KA0000AAAAAAAAAAAAAAAAAA")),
            candidate("foo-01KX0000", Some("01KX0000AAAAAAAAAAAAAAAAAA")),
        ];
        let found = match_handle("foo", &candidates).expect("ladder level 4");
        assert_eq!(found.rule, HandleRule::SlugWithoutNumber);
        assert_eq!(found.candidate.dir_name, "083-foo");
        // A literal directory with a meta.json blocks the fold.
        let literal = vec![
            candidate("foo", None),
            candidate("foo-01KX0000", Some("01KX0000AAAAAAAAAAAAAAAAAA")),
        ];
        let found = match_handle("foo", &literal).expect("literal");
        assert_eq!(found.rule, HandleRule::LiteralDir);
        // The fold needs a meta.json in the composed directory.
        let no_meta = vec![MissionCandidate {
            dir_name: "foo-01KX0000".to_owned(),
            has_meta: false,
            mission_id: None,
        }];
        assert_eq!(
            match_handle("foo", &no_meta).expect_err("no meta").code(),
            "MISSION_NOT_FOUND"
        );
    }

    #[test]
    fn candidates_come_from_meta() {
        let meta = MissionMeta::parse_str(r#"{"mission_id": "01KVTVZS6ZT02NTR0YBJ9WWKMJ"}"#)
            .expect("object");
        let candidate = MissionCandidate::from_meta("write-surface-01KVTVZS", Some(&meta));
        assert_eq!(candidate.mid8(), Some("01KVTVZS"));
        assert!(candidate.has_meta);
        let odd = MissionMeta::parse_str(r#"{"mission_id": 42}"#).expect("object");
        assert_eq!(
            MissionCandidate::from_meta("x", Some(&odd)).mission_id,
            None
        );
        let none = MissionCandidate::from_meta("x", None);
        assert!(!none.has_meta);
        assert_eq!(none.mid8(), None);
    }
}
