//! Review cycles: the `tasks/<stem>/review-cycle-<N>.md` artifact Spec Kitty writes for each
//! review verdict, its `review-cycle://` pointer, cycle numbering, and fix mode.
//!
//! A review-cycle file is evidence; the event log stays the authority on the verdict. The
//! bytes are Spec Kitty's (`ReviewCycleArtifact.write`): `---\n`, the front matter as
//! ruamel's round-trip dumper writes it (keys in the order below, strings plain when they
//! read back as strings, else quoted), `---\n`, then `\n` and the body when there is one.
//!
//! ```text
//! ---
//! affected_files: []
//! cycle_number: 1
//! mission_slug: task-list-01M803MD
//! reproduction_command:
//! reviewed_at: '2026-11-21T22:32:25Z'
//! reviewer_agent: user
//! wp_id: WP02
//! ---
//!
//! # Review feedback
//! ```

use serde_json::Value;

use crate::status::event::LogRow;
use crate::status::event_log::EventLog;
use crate::status::lane::Lane;

/// The scheme of a review-cycle pointer.
pub const POINTER_SCHEME: &str = "review-cycle://";

/// The `review_ref` values that name no artifact: a review claim and a forced override.
pub const FEEDBACK_SENTINELS: [&str; 2] = ["force-override", "action-review-claim"];

/// The `review_ref` of a review claim (`for_review → in_review` by a reviewer).
pub const REVIEW_CLAIM_REF: &str = "action-review-claim";

/// A file a review cycle names (`affected_files` items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedFile {
    /// The path, relative to the repository.
    pub path: String,
    /// `start-end`, when given.
    pub line_range: Option<String>,
}

/// One review cycle: the front matter and the body of `review-cycle-<N>.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCycleArtifact {
    /// `N`, from 1.
    pub cycle_number: u64,
    /// The work package.
    pub wp_id: String,
    /// The mission's directory name.
    pub mission_slug: String,
    /// Who reviewed.
    pub reviewer_agent: String,
    /// When, as `%Y-%m-%dT%H:%M:%SZ` (UTC).
    pub reviewed_at: String,
    /// The files the review names.
    pub affected_files: Vec<AffectedFile>,
    /// The command that reproduces the decision, for an approval.
    pub reproduction_command: Option<String>,
    /// The feedback (markdown), or the approval note.
    pub body: String,
    /// Who overrode a rejected verdict, when someone did (kept, never written by missionctl).
    pub override_actor: Option<String>,
    /// Why the verdict was overridden.
    pub override_reason: Option<String>,
}

/// Why a review-cycle file or pointer is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewCycleError {
    /// The text does not open with a `---` front matter.
    #[error("Review artifact has no YAML front matter")]
    NoFrontMatter,
    /// The front matter is never closed.
    #[error("Review artifact has no closing '---' delimiter")]
    Unclosed,
    /// The front matter is not a YAML mapping.
    #[error("Review artifact front matter is not a mapping: {0}")]
    NotAMapping(String),
    /// A field is missing or has the wrong type.
    #[error("Missing or invalid field in review artifact: {0}")]
    Field(String),
    /// The pointer is not `review-cycle://<mission>/<wp>/review-cycle-<N>.md`.
    #[error("Invalid review-cycle pointer `{pointer}`: {reason}")]
    Pointer {
        /// The pointer.
        pointer: String,
        /// What is wrong.
        reason: String,
    },
    /// A sibling file matches `review-cycle-*.md` but has no number, so the next number
    /// cannot be allocated with confidence.
    #[error("Cannot determine the next review cycle number: unparseable review-cycle file name(s): {}", names.join(", "))]
    UnparseableSibling {
        /// The file names.
        names: Vec<String>,
    },
}

impl ReviewCycleArtifact {
    /// Returns the file's bytes exactly as Spec Kitty writes them.
    pub fn to_text(&self) -> String {
        let mut out = String::from("---\n");
        if self.affected_files.is_empty() {
            out.push_str("affected_files: []\n");
        } else {
            out.push_str("affected_files:\n");
            for file in &self.affected_files {
                out.push_str("- path: ");
                push_yaml_str(&mut out, &file.path);
                out.push('\n');
                if let Some(range) = &file.line_range {
                    out.push_str("  line_range: ");
                    push_yaml_str(&mut out, range);
                    out.push('\n');
                }
            }
        }
        out.push_str("cycle_number: ");
        out.push_str(&self.cycle_number.to_string());
        out.push('\n');
        entry(&mut out, "mission_slug", Some(&self.mission_slug));
        entry(
            &mut out,
            "reproduction_command",
            self.reproduction_command.as_deref(),
        );
        entry(&mut out, "reviewed_at", Some(&self.reviewed_at));
        entry(&mut out, "reviewer_agent", Some(&self.reviewer_agent));
        entry(&mut out, "wp_id", Some(&self.wp_id));
        if let Some(actor) = &self.override_actor {
            entry(&mut out, "review_artifact_override_actor", Some(actor));
        }
        if let Some(reason) = &self.override_reason {
            entry(&mut out, "review_artifact_override_reason", Some(reason));
        }
        out.push_str("---\n");
        if !self.body.is_empty() {
            out.push('\n');
            out.push_str(&self.body);
        }
        out
    }

    /// Reads a review-cycle file as Spec Kitty's `ReviewCycleArtifact.from_file` does, and
    /// checks it as `validate_review_artifact` does (a non-blank body included).
    pub fn parse(text: &str) -> Result<ReviewCycleArtifact, ReviewCycleError> {
        let rest = text
            .strip_prefix("---")
            .ok_or(ReviewCycleError::NoFrontMatter)?;
        let rest = rest.strip_prefix('\n').unwrap_or(rest);
        let closing = rest.find("\n---").ok_or(ReviewCycleError::Unclosed)?;
        let yaml = &rest[..closing];
        let body = rest[closing + 4..].trim_start_matches('\n').to_owned();
        let value: Value = serde_saphyr::from_str(yaml)
            .map_err(|error| ReviewCycleError::NotAMapping(error.to_string()))?;
        let Value::Object(map) = value else {
            return Err(ReviewCycleError::NotAMapping("not a mapping".to_owned()));
        };
        let text_field = |key: &str| -> Result<String, ReviewCycleError> {
            match map.get(key) {
                Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
                _ => Err(ReviewCycleError::Field(format!(
                    "{key} must be a non-empty string"
                ))),
            }
        };
        let cycle_number = match map.get("cycle_number") {
            Some(Value::Number(number)) => number.as_u64().filter(|n| *n >= 1),
            Some(Value::String(text)) => text.trim().parse::<u64>().ok().filter(|n| *n >= 1),
            _ => None,
        }
        .ok_or_else(|| {
            ReviewCycleError::Field("cycle_number must be a positive integer".to_owned())
        })?;
        let affected_files = match map.get("affected_files") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let path = item
                        .get("path")
                        .and_then(Value::as_str)
                        .filter(|path| !path.is_empty())
                        .ok_or_else(|| {
                            ReviewCycleError::Field(
                                "affected_files entries must include a non-empty string 'path'"
                                    .to_owned(),
                            )
                        })?;
                    let line_range = match item.get("line_range") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(range)) => Some(range.clone()),
                        Some(_) => {
                            return Err(ReviewCycleError::Field(
                                "affected_files entry 'line_range' must be a string when present"
                                    .to_owned(),
                            ));
                        }
                    };
                    Ok(AffectedFile {
                        path: path.to_owned(),
                        line_range,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(ReviewCycleError::Field(
                    "affected_files must be a list".to_owned(),
                ));
            }
        };
        let reproduction_command = match map.get("reproduction_command") {
            None | Some(Value::Null) => None,
            Some(Value::String(command)) => Some(command.clone()),
            Some(_) => {
                return Err(ReviewCycleError::Field(
                    "reproduction_command must be a string when present".to_owned(),
                ));
            }
        };
        let optional = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        let artifact = ReviewCycleArtifact {
            cycle_number,
            wp_id: text_field("wp_id")?,
            mission_slug: text_field("mission_slug")?,
            reviewer_agent: text_field("reviewer_agent")?,
            reviewed_at: text_field("reviewed_at")?,
            affected_files,
            reproduction_command,
            body,
            override_actor: optional("review_artifact_override_actor"),
            override_reason: optional("review_artifact_override_reason"),
        };
        if artifact.body.trim().is_empty() {
            return Err(ReviewCycleError::Field(
                "review artifact body is required".to_owned(),
            ));
        }
        Ok(artifact)
    }
}

/// Returns the file name of cycle `n`.
pub fn cycle_file_name(cycle_number: u64) -> String {
    format!("review-cycle-{cycle_number}.md")
}

/// Returns the cycle number of a `review-cycle-<N>.md` file name (`N` ≥ 1), else `None`.
pub fn parse_cycle_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("review-cycle-")?.strip_suffix(".md")?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n >= 1)
}

/// Returns true for a name Spec Kitty's `review-cycle-*.md` glob matches.
pub fn matches_cycle_glob(name: &str) -> bool {
    name.len() >= "review-cycle-.md".len()
        && name.starts_with("review-cycle-")
        && name.ends_with(".md")
}

/// Returns the next cycle number given the file names in a work package's review directory:
/// the highest parsed number plus one (1 when there is none), never a count of files.
///
/// Refuses when a name matches `review-cycle-*.md` without a number, as Spec Kitty does.
pub fn next_cycle_number<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<u64, ReviewCycleError> {
    let mut highest = 0;
    let mut unparseable = Vec::new();
    for name in names {
        if !matches_cycle_glob(name) {
            continue;
        }
        // Spec Kitty's `review-cycle-(\d+)\.md$`: `review-cycle-0.md` parses (as 0).
        let number = name
            .strip_prefix("review-cycle-")
            .and_then(|rest| rest.strip_suffix(".md"))
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u64>().ok());
        match number {
            Some(number) => highest = highest.max(number),
            None => unparseable.push(name.to_owned()),
        }
    }
    if !unparseable.is_empty() {
        unparseable.sort();
        return Err(ReviewCycleError::UnparseableSibling { names: unparseable });
    }
    Ok(highest + 1)
}

/// Returns the canonical pointer `review-cycle://<mission>/<wp-stem>/review-cycle-<N>.md`.
pub fn pointer(mission_slug: &str, wp_stem: &str, cycle_number: u64) -> String {
    format!(
        "{POINTER_SCHEME}{mission_slug}/{wp_stem}/{}",
        cycle_file_name(cycle_number)
    )
}

/// The three segments of a canonical pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerParts {
    /// The mission's directory name.
    pub mission_slug: String,
    /// The work package's file stem (`WP02-add-and-list`).
    pub wp_stem: String,
    /// The cycle number.
    pub cycle_number: u64,
}

/// Parses a canonical pointer, refusing unsafe segments as Spec Kitty does.
pub fn parse_pointer(value: &str) -> Result<PointerParts, ReviewCycleError> {
    let refuse = |reason: &str| ReviewCycleError::Pointer {
        pointer: value.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = value
        .trim()
        .strip_prefix(POINTER_SCHEME)
        .ok_or_else(|| refuse("it must start with review-cycle://"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [mission_slug, wp_stem, file] = parts.as_slice() else {
        return Err(refuse("it must have mission/wp/file segments"));
    };
    for segment in [mission_slug, wp_stem, file] {
        if !is_safe_segment(segment) {
            return Err(refuse("a segment is not a safe path segment"));
        }
    }
    let cycle_number =
        parse_cycle_file_name(file).ok_or_else(|| refuse("the file must be review-cycle-N.md"))?;
    Ok(PointerParts {
        mission_slug: (*mission_slug).to_owned(),
        wp_stem: (*wp_stem).to_owned(),
        cycle_number,
    })
}

/// Returns true for one path segment that names no parent, root or hidden place.
fn is_safe_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.contains(['/', '\\', '\0'])
        && !segment.starts_with('.')
}

/// Returns true for a `review_ref` that names no artifact (blank, or a sentinel).
pub fn is_sentinel_ref(review_ref: &str) -> bool {
    review_ref.trim().is_empty() || FEEDBACK_SENTINELS.contains(&review_ref.trim())
}

/// The body Spec Kitty synthesizes for an approval's review-cycle file.
pub fn approval_body(reviewer: &str, reference: &str) -> String {
    format!("Approved by {reviewer}: {reference}\n")
}

/// The `reproduction_command` of an approval's review-cycle file.
pub fn approval_reproduction_command(wp_id: &str, mission_slug: &str) -> String {
    format!("spec-kitty agent tasks move-task {wp_id} --to approved --mission {mission_slug}")
}

/// What fix mode points at: the newest review reference of a work package that was sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixModeRef {
    /// The `review_ref` (a `review-cycle://` pointer or a legacy reference).
    pub review_ref: String,
    /// The transition that carried it.
    pub event_id: String,
}

/// Returns the reference fix mode starts from, as Spec Kitty's `implement` finds it: the
/// newest non-sentinel `review_ref` of the work package (rows in file order, newest first),
/// unless an `approved` or `done` transition follows it.
pub fn fix_mode_ref(log: &EventLog, wp_id: &str) -> Option<FixModeRef> {
    for (_, row) in log.rows.iter().rev() {
        let LogRow::Transition(event) = row else {
            continue;
        };
        if event.wp_id != wp_id {
            continue;
        }
        if matches!(event.to_lane, Lane::Approved | Lane::Done) {
            return None;
        }
        if let Some(review_ref) = event.review_ref.as_deref()
            && !is_sentinel_ref(review_ref)
        {
            return Some(FixModeRef {
                review_ref: review_ref.trim().to_owned(),
                event_id: event.event_id.clone(),
            });
        }
    }
    None
}

/// Writes `key: value` (a null value as `key:`).
fn entry(out: &mut String, key: &str, value: Option<&str>) {
    out.push_str(key);
    out.push(':');
    if let Some(value) = value {
        out.push(' ');
        push_yaml_str(out, value);
    }
    out.push('\n');
}

/// Writes a string as ruamel's round-trip dumper (YAML 1.2, unicode allowed) writes a block
/// mapping value: plain when it reads back as the same string, single-quoted when it would
/// read as something else or has a leading or trailing space, double-quoted when it holds a
/// character only an escape can carry.
pub fn push_yaml_str(out: &mut String, value: &str) {
    if value.chars().any(needs_escape) {
        push_double_quoted(out, value);
    } else if is_plain_safe(value) {
        out.push_str(value);
    } else {
        out.push('\'');
        out.push_str(&value.replace('\'', "''"));
        out.push('\'');
    }
}

/// Characters ruamel writes only inside a double-quoted scalar.
fn needs_escape(ch: char) -> bool {
    match ch {
        '\u{20}'..='\u{7e}' => false,
        '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' => {
            matches!(ch, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
        }
        ch if ch >= '\u{10000}' => false,
        _ => true,
    }
}

fn push_double_quoted(out: &mut String, value: &str) {
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            ch if needs_escape(ch) => {
                let code = u32::from(ch);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02X}"));
                } else {
                    out.push_str(&format!("\\u{code:04X}"));
                }
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
}

/// Returns true when a string can be written as a plain scalar and read back as itself.
fn is_plain_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if value.starts_with(' ') || value.ends_with(' ') {
        return false;
    }
    if matches!(
        first,
        '#' | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') {
        let second = value[first.len_utf8()..].chars().next();
        if second.is_none_or(|ch| ch == ' ') {
            return false;
        }
    }
    if value.contains(": ") || value.contains(" #") || value.ends_with(':') {
        return false;
    }
    !resolves_to_non_string(value)
}

/// Returns true when YAML 1.2 (ruamel's resolvers) reads a plain scalar as something other
/// than a string: a boolean, null, integer, float, timestamp, `=` or `<<`.
fn resolves_to_non_string(value: &str) -> bool {
    if matches!(
        value,
        "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "null"
            | "Null"
            | "NULL"
            | "~"
            | "="
            | "<<"
    ) {
        return true;
    }
    is_yaml_int(value) || is_yaml_float(value) || is_yaml_timestamp(value)
}

fn is_yaml_int(value: &str) -> bool {
    let digits_with = |text: &str, allowed: fn(u8) -> bool| {
        !text.is_empty() && text.bytes().all(|byte| allowed(byte) || byte == b'_')
    };
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    if let Some(rest) = value.strip_prefix("0x") {
        return digits_with(rest, |byte| byte.is_ascii_hexdigit());
    }
    if let Some(rest) = value.strip_prefix("0o") {
        return digits_with(rest, |byte| (b'0'..=b'7').contains(&byte));
    }
    if let Some(rest) = value.strip_prefix("0b") {
        return digits_with(rest, |byte| byte == b'0' || byte == b'1');
    }
    unsigned
        .bytes()
        .next()
        .is_some_and(|byte| byte.is_ascii_digit())
        && digits_with(unsigned, |byte| byte.is_ascii_digit())
}

fn is_yaml_float(value: &str) -> bool {
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    if matches!(value, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let bytes = unsigned.as_bytes();
    let mut index = 0;
    let digits = |index: &mut usize| {
        let start = *index;
        while *index < bytes.len() && (bytes[*index].is_ascii_digit() || bytes[*index] == b'_') {
            *index += 1;
        }
        *index > start
    };
    let leading = bytes.first().is_some_and(u8::is_ascii_digit) && digits(&mut index);
    let mut fraction = false;
    if index < bytes.len() && bytes[index] == b'.' {
        index += 1;
        fraction = digits(&mut index);
        if !leading && !fraction {
            return false;
        }
        if !leading && unsigned.len() != value.len() {
            // A signed `.5` is not a float for ruamel's 1.2 resolver.
            return false;
        }
    } else if !leading {
        return false;
    }
    let mut exponent = false;
    if index < bytes.len() && (bytes[index] == b'e' || bytes[index] == b'E') {
        index += 1;
        if index < bytes.len() && (bytes[index] == b'-' || bytes[index] == b'+') {
            index += 1;
        }
        let start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        exponent = index > start;
        if !exponent {
            return false;
        }
    }
    index == bytes.len() && (fraction || exponent || (leading && unsigned.contains('.')))
}

fn is_yaml_timestamp(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() < 8 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return false;
    }
    let mut index = 5;
    let count = |index: &mut usize| {
        let start = *index;
        while *index < bytes.len() && bytes[*index].is_ascii_digit() && *index - start < 2 {
            *index += 1;
        }
        *index - start
    };
    if count(&mut index) == 0 || index >= bytes.len() || bytes[index] != b'-' {
        return false;
    }
    index += 1;
    if count(&mut index) == 0 {
        return false;
    }
    // A date alone, or a date followed by a time part (`T`, `t` or spaces, then `HH:MM`).
    index == bytes.len() || matches!(bytes[index], b'T' | b't' | b' ' | b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(body: &str, reproduction: Option<&str>) -> ReviewCycleArtifact {
        ReviewCycleArtifact {
            cycle_number: 1,
            wp_id: "WP02".to_owned(),
            mission_slug: "task-list-01M803MD".to_owned(),
            reviewer_agent: "user".to_owned(),
            reviewed_at: "2026-11-21T22:32:25Z".to_owned(),
            affected_files: Vec::new(),
            reproduction_command: reproduction.map(str::to_owned),
            body: body.to_owned(),
            override_actor: None,
            override_reason: None,
        }
    }

    #[test]
    fn a_rejection_is_written_as_the_peer_run_wrote_it() {
        let text = artifact(
            "# Review feedback\n\n- cli.py should print usage on empty title.\n",
            None,
        )
        .to_text();
        assert_eq!(
            text,
            "---\naffected_files: []\ncycle_number: 1\nmission_slug: task-list-01M803MD\n\
             reproduction_command:\nreviewed_at: '2026-11-21T22:32:25Z'\nreviewer_agent: user\n\
             wp_id: WP02\n---\n\n# Review feedback\n\n- cli.py should print usage on empty title.\n"
        );
        assert_eq!(
            ReviewCycleArtifact::parse(&text),
            Ok(artifact(
                "# Review feedback\n\n- cli.py should print usage on empty title.\n",
                None
            ))
        );
    }

    /// The four review-cycle files of the peer run read and write back byte for byte.
    #[test]
    fn the_peer_runs_files_round_trip() {
        let files = [
            include_str!(
                "../../../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD/tasks/WP01-storage-layer/review-cycle-1.md"
            ),
            include_str!(
                "../../../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD/tasks/WP02-add-and-list/review-cycle-1.md"
            ),
            include_str!(
                "../../../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD/tasks/WP02-add-and-list/review-cycle-2.md"
            ),
            include_str!(
                "../../../../tests/fixtures/peer-run-3.2.7/task-list-01M803MD/tasks/WP04-e2e-tests/review-cycle-1.md"
            ),
        ];
        for text in files {
            let parsed = ReviewCycleArtifact::parse(text).expect("peer review cycle");
            assert_eq!(parsed.to_text(), text);
        }
        let approval = ReviewCycleArtifact::parse(files[0]).expect("approval");
        assert_eq!(
            approval.body,
            approval_body("reviewer-bot", "Review passed")
        );
        assert_eq!(
            approval.reproduction_command.as_deref(),
            Some(approval_reproduction_command("WP01", "task-list-01M803MD").as_str())
        );
    }

    #[test]
    fn affected_files_are_a_block_list() {
        let mut value = artifact(
            "x\n",
            Some("spec-kitty agent tasks move-task WP02 --to approved --mission m"),
        );
        value.affected_files = vec![
            AffectedFile {
                path: "src/a.py".to_owned(),
                line_range: Some("1-5".to_owned()),
            },
            AffectedFile {
                path: "src/b.py".to_owned(),
                line_range: None,
            },
        ];
        let text = value.to_text();
        assert!(
            text.contains("affected_files:\n- path: src/a.py\n  line_range: 1-5\n- path: src/b.py\ncycle_number: 1\n"),
            "{text}"
        );
        assert_eq!(ReviewCycleArtifact::parse(&text), Ok(value));
    }

    /// ruamel's answers, recorded with Spec Kitty 3.2.7's `kernel.yaml_io.serialize_mapping`.
    #[test]
    fn strings_are_quoted_as_ruamel_quotes_them() {
        let cases = [
            ("user", "user"),
            ("reviewer-bot", "reviewer-bot"),
            ("claude:opus:x:reviewer", "claude:opus:x:reviewer"),
            ("a b", "a b"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("#x", "'#x'"),
            ("-x", "-x"),
            ("- x", "'- x'"),
            ("yes", "yes"),
            ("no", "no"),
            ("true", "'true'"),
            ("null", "'null'"),
            ("~", "'~'"),
            ("123", "'123'"),
            ("1.5", "'1.5'"),
            ("0x1f", "'0x1f'"),
            ("2026-11-21", "'2026-11-21'"),
            ("2026-11-21T22:32:25Z", "'2026-11-21T22:32:25Z'"),
            ("é", "é"),
            ("a'b", "a'b"),
            ("a\"b", "a\"b"),
            ("a\\b", "a\\b"),
            ("", "''"),
            ("  lead", "'  lead'"),
            ("trail ", "'trail '"),
            ("a\tb", "\"a\\tb\""),
            ("a\nb", "\"a\\nb\""),
            ("@x", "'@x'"),
            ("`x", "'`x'"),
            ("!x", "'!x'"),
            ("&x", "'&x'"),
            ("*x", "'*x'"),
            ("%x", "'%x'"),
            ("|x", "'|x'"),
            (">x", "'>x'"),
            ("x|", "x|"),
            ("{x", "'{x'"),
            ("[x", "'[x'"),
            ("x,y", "x,y"),
            ("x]", "x]"),
            ("?x", "?x"),
            ("? x", "'? x'"),
            ("a:b", "a:b"),
            ("a:", "'a:'"),
            ("O'Neil", "O'Neil"),
            ("a\u{7}b", "\"a\\ab\""),
            ("a\u{a0}b", "a\u{a0}b"),
            ("日本", "日本"),
            ("1e3", "'1e3'"),
            (".5", "'.5'"),
            ("+1", "'+1'"),
            ("on", "on"),
            ("off", "off"),
            ("y", "y"),
            ("Yes", "Yes"),
            ("=", "'='"),
            ("<<", "'<<'"),
        ];
        for (input, expected) in cases {
            let mut out = String::new();
            push_yaml_str(&mut out, input);
            assert_eq!(out, expected, "{input:?}");
        }
    }

    #[test]
    fn parse_refuses_what_spec_kitty_refuses() {
        assert_eq!(
            ReviewCycleArtifact::parse("no front matter"),
            Err(ReviewCycleError::NoFrontMatter)
        );
        assert_eq!(
            ReviewCycleArtifact::parse("---\nwp_id: WP01\n"),
            Err(ReviewCycleError::Unclosed)
        );
        let empty_body = artifact("", None).to_text();
        assert!(matches!(
            ReviewCycleArtifact::parse(&empty_body),
            Err(ReviewCycleError::Field(_))
        ));
        // Plain feedback prose is not an artifact.
        assert!(ReviewCycleArtifact::parse("# Review feedback\n\n- fix it\n").is_err());
    }

    #[test]
    fn cycle_numbers_are_the_highest_plus_one() {
        assert_eq!(next_cycle_number([]), Ok(1));
        assert_eq!(
            next_cycle_number([
                "review-cycle-1.md",
                "review-cycle-3.md",
                "baseline-tests.json"
            ]),
            Ok(4)
        );
        assert_eq!(
            next_cycle_number(["review-cycle-1.md", "review-cycle-final.md"]),
            Err(ReviewCycleError::UnparseableSibling {
                names: vec!["review-cycle-final.md".to_owned()]
            })
        );
        assert_eq!(parse_cycle_file_name("review-cycle-12.md"), Some(12));
        assert_eq!(parse_cycle_file_name("review-cycle-.md"), None);
    }

    #[test]
    fn pointers_round_trip_and_refuse_unsafe_segments() {
        let value = pointer("task-list-01M803MD", "WP02-add-and-list", 1);
        assert_eq!(
            value,
            "review-cycle://task-list-01M803MD/WP02-add-and-list/review-cycle-1.md"
        );
        assert_eq!(
            parse_pointer(&value),
            Ok(PointerParts {
                mission_slug: "task-list-01M803MD".to_owned(),
                wp_stem: "WP02-add-and-list".to_owned(),
                cycle_number: 1,
            })
        );
        for bad in [
            "review-cycle://../x/review-cycle-1.md",
            "review-cycle://m/w/review-cycle-x.md",
            "review-cycle://m/review-cycle-1.md",
            "feedback://m/w/f.md",
        ] {
            assert!(parse_pointer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fix_mode_follows_the_newest_reference_until_an_approval() {
        let row = |id: &str, from: &str, to: &str, review_ref: &str| {
            let review_ref = if review_ref.is_empty() {
                "null".to_owned()
            } else {
                format!("\"{review_ref}\"")
            };
            format!(
                "{{\"actor\": \"user\", \"at\": \"2026-01-01T00:00:0{id}+00:00\", \"event_id\": \"0{id}\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": true, \"from_lane\": \"{from}\", \"mission_slug\": \"m\", \"policy_metadata\": null, \"reason\": \"r\", \"review_ref\": {review_ref}, \"to_lane\": \"{to}\", \"wp_id\": \"WP01\"}}\n"
            )
        };
        let rejected = format!(
            "{}{}{}",
            row("1", "for_review", "in_review", "action-review-claim"),
            row(
                "2",
                "in_review",
                "planned",
                "review-cycle://m/WP01-x/review-cycle-1.md"
            ),
            row("3", "planned", "claimed", ""),
        );
        let log = crate::status::event_log::parse(rejected.as_bytes());
        assert_eq!(
            fix_mode_ref(&log, "WP01").map(|found| found.review_ref),
            Some("review-cycle://m/WP01-x/review-cycle-1.md".to_owned())
        );
        let approved = format!("{rejected}{}", row("4", "in_review", "approved", ""));
        assert_eq!(
            fix_mode_ref(
                &crate::status::event_log::parse(approved.as_bytes()),
                "WP01"
            ),
            None
        );
        assert_eq!(fix_mode_ref(&log, "WP02"), None);
    }
}
