//! The `meta.json` model: parsing with Spec Kitty's read policies, typed accessors, validation,
//! the mutations missionctl makes, and the canonical bytes.
//!
//! A [`MissionMeta`] keeps the whole JSON object, so keys missionctl does not know survive a
//! read → mutate → write cycle unchanged. Typed accessors read the fields missionctl uses;
//! [`MissionMeta::to_canonical_bytes`] writes what Spec Kitty writes:
//! `json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n"` (sorted keys, two-space
//! indent, raw UTF-8, trailing newline), through [`crate::text::pyjson`]'s indented style. 306 of the 308 `meta.json` files of Spec Kitty's own
//! repository are byte-identical to that form.
//!
//! The naming rules (mission ids, mid8, directory and branch names, the safe path segment
//! guard: [`MissionId`], [`mission_dir_name`], [`verbatim_mission_dir_name`],
//! [`coordination_branch_name`], [`check_safe_path_segment`], [`MissionDirName`]) and the pure
//! part of handle lookup ([`match_handle`]) live in private submodules and are re-exported here.

mod handle;
mod names;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::mission::topology::{LanesJsonState, MissionTopology};
use crate::text::pyjson::{self, Style, is_truthy};

pub use handle::{
    AmbiguousCandidate, HandleError, HandleMatch, HandleRule, MissionCandidate, match_handle,
};
pub use names::{
    COORDINATION_WORKTREE_SUFFIX, InvalidMissionId, KITTY_SPECS_DIR, MAX_HUMAN_SLUG_BYTES,
    MISSION_BRANCH_PREFIX, MissionDirName, MissionId, NameError, WORKTREES_DIR, check_human_slug,
    check_safe_path_segment, coordination_branch_name, coordination_worktree_dir_name,
    is_crockford_base32, is_mid8, is_safe_path_segment, is_ulid, mid8_from_slug, mission_dir_name,
    resolve_mid8, strip_numeric_prefix, three_digit_prefix, verbatim_mission_dir_name,
};

/// The file name of a mission's metadata.
pub const META_FILE_NAME: &str = "meta.json";

/// The fields a valid `meta.json` must carry with a non-empty value, in the order Spec Kitty
/// reports them.
pub const REQUIRED_FIELDS: [&str; 6] = [
    "created_at",
    "friendly_name",
    "mission_slug",
    "mission_type",
    "slug",
    "target_branch",
];

/// The `mission_number` strings Spec Kitty once wrote as placeholders; reading one is an error.
pub const MISSION_NUMBER_SENTINELS: [&str; 3] = ["pending", "unassigned", "TBD"];

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A `meta.json` that cannot be read or does not hold what a caller needs.
///
/// The core never sees paths: the shell adds the file it was reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The file is absent and the read policy requires it.
    #[error("No meta.json in the mission directory")]
    NotFound,
    /// The bytes are not UTF-8 JSON.
    #[error("Malformed JSON: {reason}")]
    Malformed {
        /// What the decoder reported.
        reason: String,
    },
    /// The JSON value at the top level is not an object.
    #[error("Expected JSON object, got {found}")]
    NotAnObject {
        /// The Python type name of what was found (`list`, `str`, …).
        found: &'static str,
    },
    /// Validation before a write failed.
    #[error("Invalid meta.json for {dir_name}: {}", problems.join("; "))]
    Invalid {
        /// The mission directory name.
        dir_name: String,
        /// Every problem, in Spec Kitty's order and wording.
        problems: Vec<String>,
    },
    /// A field holds a value of the wrong JSON type.
    #[error("meta.json field `{field}` must be {expected}, got {found}")]
    FieldType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// The Python type name of what it holds.
        found: &'static str,
    },
    /// `mission_id` is a string but not a ULID.
    #[error(
        "meta.json mission_id {value:?} is not a ULID (26 characters of uppercase Crockford base32)"
    )]
    InvalidMissionId {
        /// The stored value.
        value: String,
    },
    /// `mission_number` is neither an integer, a numeric string, blank nor null.
    #[error("meta.json mission_number must be an integer or null, got {value}")]
    InvalidMissionNumber {
        /// The stored value, as JSON text.
        value: String,
    },
}

impl MetaError {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            MetaError::NotFound => "MISSION_META_NOT_FOUND",
            MetaError::Malformed { .. } | MetaError::NotAnObject { .. } => "MISSION_META_MALFORMED",
            MetaError::Invalid { .. } => "MISSION_META_INVALID",
            MetaError::FieldType { .. } => "MISSION_META_FIELD_TYPE",
            MetaError::InvalidMissionId { .. } => "MISSION_ID_INVALID",
            MetaError::InvalidMissionNumber { .. } => "MISSION_NUMBER_INVALID",
        }
    }

    /// Returns a one-line suggestion for the user.
    pub fn hint(&self) -> String {
        match self {
            MetaError::NotFound => {
                "Check the mission handle, or create the mission with `missionctl mission create`"
                    .to_owned()
            }
            MetaError::Malformed { .. } | MetaError::NotAnObject { .. } => {
                "Restore meta.json from git (`git checkout -- <path>`) or fix the JSON by hand"
                    .to_owned()
            }
            MetaError::Invalid { .. } => "Fill in the missing fields of meta.json".to_owned(),
            MetaError::FieldType { field, .. } => {
                format!("Fix the `{field}` value in meta.json")
            }
            MetaError::InvalidMissionId { .. } => {
                "A mission_id is a 26-character ULID such as `01KVTVZS6ZT02NTR0YBJ9WWKMJ`"
                    .to_owned()
            }
            MetaError::InvalidMissionNumber { .. } => {
                "Set mission_number to an integer, or to null before the mission is merged"
                    .to_owned()
            }
        }
    }
}

/// How a reader treats a missing or unreadable `meta.json`: Spec Kitty's three contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaReadPolicy {
    /// Missing ⇒ none; malformed or not an object ⇒ error (the default, and the fail-closed
    /// reader).
    Optional,
    /// Missing ⇒ [`MetaError::NotFound`]; a UTF-8 BOM is tolerated; malformed or not an object
    /// ⇒ an empty meta (Spec Kitty's `load_meta_strict`).
    Strict,
    /// Missing, malformed or not an object ⇒ an empty meta; never an error (used to build the
    /// handle index).
    Silent,
}

impl MetaReadPolicy {
    /// Applies the policy to the file's bytes (`None` when the file does not exist).
    pub fn apply(self, bytes: Option<&[u8]>) -> Result<Option<MissionMeta>, MetaError> {
        match (self, bytes) {
            (MetaReadPolicy::Optional, None) => Ok(None),
            (MetaReadPolicy::Optional, Some(bytes)) => MissionMeta::parse(bytes).map(Some),
            (MetaReadPolicy::Strict, None) => Err(MetaError::NotFound),
            (MetaReadPolicy::Strict, Some(bytes)) => Ok(Some(
                MissionMeta::parse_bom_tolerant(bytes).unwrap_or_default(),
            )),
            (MetaReadPolicy::Silent, None) => Ok(Some(MissionMeta::default())),
            (MetaReadPolicy::Silent, Some(bytes)) => {
                Ok(Some(MissionMeta::parse(bytes).unwrap_or_default()))
            }
        }
    }
}

/// A mission's identity fields as read from `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionIdentity {
    /// The mission id; `None` for a legacy mission that predates identities.
    pub mission_id: Option<MissionId>,
    /// The mission slug: the stored `mission_slug` (or `slug`) when it is a safe path segment,
    /// else the directory name.
    pub mission_slug: String,
    /// The dense display number assigned at merge; `None` before.
    pub mission_number: Option<i64>,
    /// The mission type (`software-dev`, `documentation`, …), if stored.
    pub mission_type: Option<String>,
    /// The display title, if stored.
    pub friendly_name: Option<String>,
}

/// What [`MissionMeta::flatten_coordination`] changed.
#[derive(Debug, Clone, PartialEq)]
pub struct FlattenOutcome {
    /// The removed `coordination_branch` value, if the key was present.
    pub removed_coordination_branch: Option<Value>,
    /// The `topology` value before the flatten, if the key was present.
    pub previous_topology: Option<Value>,
    /// The coordination-less topology the mission now has (derived: no longer stored).
    pub topology: MissionTopology,
}

/// The contents of a mission's `meta.json`: the whole JSON object, with typed accessors.
///
/// Accessors follow one policy: an absent key, `null` and a blank string read as "none"; a
/// value of the wrong JSON type is a [`MetaError::FieldType`] naming the field.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct MissionMeta {
    fields: Map<String, Value>,
}

impl MissionMeta {
    /// Parses `meta.json` bytes: UTF-8 JSON whose top level is an object.
    ///
    /// A UTF-8 byte-order mark is an error here, as it is for Spec Kitty's default reader; see
    /// [`MissionMeta::parse_bom_tolerant`].
    pub fn parse(bytes: &[u8]) -> Result<MissionMeta, MetaError> {
        if bytes.starts_with(UTF8_BOM) {
            return Err(MetaError::Malformed {
                reason: "Unexpected UTF-8 BOM".to_owned(),
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|error| MetaError::Malformed {
            reason: format!("not UTF-8: {error}"),
        })?;
        MissionMeta::parse_str(text)
    }

    /// Parses `meta.json` bytes, skipping a leading UTF-8 byte-order mark.
    pub fn parse_bom_tolerant(bytes: &[u8]) -> Result<MissionMeta, MetaError> {
        MissionMeta::parse(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes))
    }

    /// Parses `meta.json` text whose top level must be an object.
    pub fn parse_str(text: &str) -> Result<MissionMeta, MetaError> {
        MissionMeta::parse_json_object(text.as_bytes())
    }

    /// Parses JSON bytes whose top level must be an object: the one parse and check behind
    /// every `meta.json` reader.
    ///
    /// Unlike [`MissionMeta::parse`], it does not check for a byte-order mark or for UTF-8
    /// first; the JSON decoder refuses both, with its own message. The only errors are
    /// [`MetaError::Malformed`] (with the decoder's message as `reason`) and
    /// [`MetaError::NotAnObject`].
    pub fn parse_json_object(bytes: &[u8]) -> Result<MissionMeta, MetaError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|error| MetaError::Malformed {
            reason: error.to_string(),
        })?;
        match value {
            Value::Object(fields) => Ok(MissionMeta { fields }),
            other => Err(MetaError::NotAnObject {
                found: crate::text::pytext::type_name(&other),
            }),
        }
    }

    /// Wraps an already-parsed JSON object.
    pub fn from_map(fields: Map<String, Value>) -> MissionMeta {
        MissionMeta { fields }
    }

    /// Returns the whole JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Returns the whole JSON object, consuming the value.
    pub fn into_map(self) -> Map<String, Value> {
        self.fields
    }

    /// Returns true when the object has no keys (what the silent policy yields for a
    /// malformed file).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Returns the raw value of a key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// Sets a key, replacing any previous value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.fields.insert(key.into(), value.into());
    }

    /// Sets a key only if it is absent (Python's `setdefault`); existing values win.
    pub fn set_default(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.fields
            .entry(key.into())
            .or_insert_with(|| value.into());
    }

    /// Removes a key and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.fields.remove(key)
    }

    /// Returns the canonical `meta.json` text, trailing newline included.
    pub fn to_canonical_string(&self) -> String {
        let mut text = pyjson::to_string(&Value::Object(self.fields.clone()), Style::Indented);
        text.push('\n');
        text
    }

    /// Returns the canonical `meta.json` bytes, as Spec Kitty writes them.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        self.to_canonical_string().into_bytes()
    }

    fn text(&self, field: &'static str) -> Result<Option<&str>, MetaError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(MetaError::FieldType {
                field,
                expected: "a string",
                found: crate::text::pytext::type_name(other),
            }),
        }
    }

    /// Returns the mission id, validated as a ULID.
    pub fn mission_id(&self) -> Result<Option<MissionId>, MetaError> {
        self.text("mission_id")?
            .map(|value| {
                MissionId::parse(value).map_err(|_| MetaError::InvalidMissionId {
                    value: value.to_owned(),
                })
            })
            .transpose()
    }

    /// Returns the `mission_id` string as stored, if it is a non-blank string, without
    /// validating it (what Spec Kitty's handle index uses).
    pub fn mission_id_text(&self) -> Option<&str> {
        self.text("mission_id").ok().flatten()
    }

    /// Returns the stored `mission_slug` (the directory name, untrusted).
    pub fn mission_slug(&self) -> Result<Option<&str>, MetaError> {
        self.text("mission_slug")
    }

    /// Returns the stored `slug` (a legacy duplicate of `mission_slug`).
    pub fn slug(&self) -> Result<Option<&str>, MetaError> {
        self.text("slug")
    }

    /// Returns the display title.
    pub fn friendly_name(&self) -> Result<Option<&str>, MetaError> {
        self.text("friendly_name")
    }

    /// Returns the mission type (`software-dev`, `documentation`, `research`, `plan`, …).
    pub fn mission_type(&self) -> Result<Option<&str>, MetaError> {
        self.text("mission_type")
    }

    /// Returns the branch the mission merges into.
    pub fn target_branch(&self) -> Result<Option<&str>, MetaError> {
        self.text("target_branch")
    }

    /// Returns the creation timestamp text.
    pub fn created_at(&self) -> Result<Option<&str>, MetaError> {
        self.text("created_at")
    }

    /// Returns the declared coordination branch.
    pub fn coordination_branch(&self) -> Result<Option<&str>, MetaError> {
        self.text("coordination_branch")
    }

    /// Returns the explicitly declared mid8 (`meta.mid8`), the first tier of the mid8 cascade.
    pub fn declared_mid8(&self) -> Result<Option<&str>, MetaError> {
        self.text("mid8")
    }

    /// Returns the mission's mid8 by the declared cascade: `meta.mid8`, else the first eight
    /// characters of `mission_id`, else the mid8 tail of `dir_name`, else `None`.
    pub fn resolve_declared_mid8<'a>(&'a self, dir_name: &'a str) -> Option<&'a str> {
        self.declared_mid8()
            .ok()
            .flatten()
            .or_else(|| resolve_mid8(self.mission_id_text()))
            .or_else(|| mid8_from_slug(dir_name))
    }

    /// Returns the mission number, normalized by [`normalize_mission_number`].
    pub fn mission_number(&self) -> Result<Option<i64>, MetaError> {
        normalize_mission_number(self.fields.get("mission_number"))
    }

    /// Returns the stored topology when it is one of the four values; anything else (absent,
    /// not a string, an unknown string) is `None`.
    pub fn stored_topology(&self) -> Option<MissionTopology> {
        match self.fields.get("topology") {
            Some(Value::String(value)) => MissionTopology::from_wire(value),
            _ => None,
        }
    }

    /// Returns true when `flattened` is `true`: the mission once had a coordination branch.
    pub fn flattened(&self) -> bool {
        matches!(self.fields.get("flattened"), Some(Value::Bool(true)))
    }

    /// Returns true when `coordination_branch` is set to a value Python counts as true — the
    /// coordination signal of the legacy derivation (`meta.get("coordination_branch") or None`).
    pub fn declares_coordination_branch(&self) -> bool {
        self.fields
            .get("coordination_branch")
            .is_some_and(is_truthy)
    }

    /// Returns the declared coordination branch as text for a report: the string itself, or
    /// the JSON text of a non-string value.
    pub(crate) fn declared_coordination_branch_text(&self) -> String {
        match self.fields.get("coordination_branch") {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }

    /// Returns the mission slug callers may trust as a path segment: the first truthy of
    /// `mission_slug` and `slug` when it is a safe path segment, else `dir_name`.
    pub fn safe_mission_slug(&self, dir_name: &str) -> String {
        let stored = ["mission_slug", "slug"]
            .into_iter()
            .filter_map(|key| self.fields.get(key))
            .find(|value| is_truthy(value))
            .and_then(python_scalar_str);
        match stored {
            Some(slug) if is_safe_path_segment(&slug) => slug,
            _ => dir_name.to_owned(),
        }
    }

    /// Returns the identity fields of the mission in directory `dir_name`.
    pub fn identity(&self, dir_name: &str) -> Result<MissionIdentity, MetaError> {
        Ok(MissionIdentity {
            mission_id: self.mission_id()?,
            mission_slug: self.safe_mission_slug(dir_name),
            mission_number: self.mission_number()?,
            mission_type: self.mission_type()?.map(str::to_owned),
            friendly_name: self.friendly_name()?.map(str::to_owned),
        })
    }

    /// Checks the rules of Spec Kitty's validating write: every [required](REQUIRED_FIELDS)
    /// field present and truthy; `purpose_tldr` and `purpose_context`, when present, strings
    /// that are not blank; `change_mode`, when present, exactly `bulk_edit`.
    pub fn validate(&self, dir_name: &str) -> Result<(), MetaError> {
        let mut problems = Vec::new();
        for field in REQUIRED_FIELDS {
            if !self.fields.get(field).is_some_and(is_truthy) {
                problems.push(format!("Missing or empty required field: {field}"));
            }
        }
        for field in ["purpose_tldr", "purpose_context"] {
            match self.fields.get(field) {
                None => {}
                Some(Value::String(text)) if text.split_whitespace().next().is_none() => {
                    problems.push(format!("Field {field} must not be empty when present"));
                }
                Some(Value::String(_)) => {}
                Some(_) => problems.push(format!("Field {field} must be a string when present")),
            }
        }
        match self.fields.get("change_mode") {
            None => {}
            Some(Value::String(mode)) if mode == "bulk_edit" => {}
            Some(other) => problems.push(format!(
                "Invalid change_mode {other}; valid values: ['bulk_edit']"
            )),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(MetaError::Invalid {
                dir_name: dir_name.to_owned(),
                problems,
            })
        }
    }

    /// Stores a topology value verbatim.
    pub fn set_topology(&mut self, topology: MissionTopology) {
        self.set("topology", topology.as_str());
    }

    /// Stores a topology derived by backfill: sets `topology` and, if absent,
    /// `flattened: false`.
    pub fn store_backfilled_topology(&mut self, topology: MissionTopology) {
        self.set_topology(topology);
        self.set_default("flattened", false);
    }

    /// Drops the coordination branch from the mission's shape, in one mutation, exactly as
    /// Spec Kitty's flatten primitive (`flatten_coordination_metadata`) does: removes
    /// `coordination_branch` and the now-stale `topology`, and sets `flattened: true`. The
    /// topology is then derived on read — without a coordination branch, `lanes` when a
    /// `lanes.json` exists, else `single_branch` — and is returned in the outcome. Returns
    /// `None` and changes nothing when there is no `coordination_branch` key, so a repeat call
    /// is a no-op and a never-coordinated mission is never stamped `flattened`.
    pub fn flatten_coordination(&mut self, lanes_json: LanesJsonState) -> Option<FlattenOutcome> {
        if !self.fields.contains_key("coordination_branch") {
            return None;
        }
        let removed_coordination_branch = self.remove("coordination_branch");
        let previous_topology = self.remove("topology");
        self.set("flattened", true);
        Some(FlattenOutcome {
            removed_coordination_branch,
            previous_topology,
            topology: MissionTopology::classify(false, lanes_json.has_lanes()),
        })
    }
}

/// The values `mission create` stores in a new mission's `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMissionMeta<'a> {
    /// The freshly minted mission id.
    pub mission_id: &'a MissionId,
    /// The mission directory name, `<human-slug>-<mid8>` (stored as `slug` and `mission_slug`).
    pub dir_name: &'a str,
    /// The display title.
    pub friendly_name: &'a str,
    /// The one-line purpose.
    pub purpose_tldr: &'a str,
    /// The purpose paragraph.
    pub purpose_context: &'a str,
    /// The mission type (`software-dev`, …).
    pub mission_type: &'a str,
    /// The branch the mission merges into.
    pub target_branch: &'a str,
    /// The creation time, in Python's `isoformat()` shape.
    pub created_at: &'a str,
    /// The topology, stored verbatim.
    pub topology: MissionTopology,
    /// The coordination branch, for `coord` and `lanes_with_coord`.
    pub coordination_branch: Option<&'a str>,
    /// Whether the mission was created PR-bound (`pr_bound: true` is written only then).
    pub pr_bound: bool,
}

impl MissionMeta {
    /// Returns the `meta.json` of a new mission: Spec Kitty's create-time field set
    /// (`mission_id`, `mission_number: null`, `slug`, `mission_slug`, `friendly_name`,
    /// `purpose_tldr`, `purpose_context`, `mission_type`, `target_branch`, `created_at`,
    /// `pr_bound` when requested, `coordination_branch` when given, the stored `topology` and
    /// `flattened: false`).
    pub fn for_new_mission(fields: &NewMissionMeta<'_>) -> MissionMeta {
        let mut meta = MissionMeta::default();
        meta.set("mission_id", fields.mission_id.as_str());
        meta.set("mission_number", Value::Null);
        meta.set("slug", fields.dir_name);
        meta.set("mission_slug", fields.dir_name);
        meta.set("friendly_name", fields.friendly_name);
        meta.set("purpose_tldr", fields.purpose_tldr);
        meta.set("purpose_context", fields.purpose_context);
        meta.set("mission_type", fields.mission_type);
        meta.set("target_branch", fields.target_branch);
        meta.set("created_at", fields.created_at);
        if fields.pr_bound {
            meta.set("pr_bound", true);
        }
        if let Some(branch) = fields.coordination_branch {
            meta.set("coordination_branch", branch);
        }
        meta.set_topology(fields.topology);
        meta.set("flattened", false);
        meta
    }
}

/// Returns the default display title of a human slug, as Python's `slug.replace("-", " ")
/// .title()` gives it: `invoice-export` → `Invoice Export`.
pub fn friendly_name_from_slug(slug: &str) -> String {
    let mut title = String::with_capacity(slug.len());
    let mut previous_cased = false;
    for ch in slug.chars() {
        let ch = if ch == '-' { ' ' } else { ch };
        let cased = ch.is_alphabetic();
        if cased && !previous_cased {
            title.extend(ch.to_uppercase());
        } else if cased {
            title.extend(ch.to_lowercase());
        } else {
            title.push(ch);
        }
        previous_cased = cased;
    }
    title
}

/// Normalizes a stored `mission_number` the way Spec Kitty's reader does.
///
/// Absent, `null`, `""` and blank strings are none; an integer is itself; a numeric string is
/// its integer with leading zeros ignored (`"042"` is 42, `"000"` is 0, Python's `int()`
/// grammar: optional sign, digits with single underscores between them); the placeholder
/// strings `pending`, `unassigned` and `TBD`, any other string, booleans, floats, lists and
/// objects are [`MetaError::InvalidMissionNumber`]. Writers only ever store an integer or
/// `null`.
pub fn normalize_mission_number(value: Option<&Value>) -> Result<Option<i64>, MetaError> {
    let invalid = |value: &Value| MetaError::InvalidMissionNumber {
        value: value.to_string(),
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(number @ Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(number)),
        Some(text @ Value::String(raw)) => {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                return Ok(None);
            }
            if MISSION_NUMBER_SENTINELS.contains(&trimmed) {
                return Err(invalid(text));
            }
            let digits = trimmed.trim_start_matches('0');
            if digits.is_empty() {
                return Ok(Some(0));
            }
            parse_python_int(digits)
                .map(Some)
                .ok_or_else(|| invalid(text))
        }
        Some(other) => Err(invalid(other)),
    }
}

/// Parses Python's `int(str)` grammar (ASCII digits only): an optional sign, then digits with
/// single underscores between digits.
fn parse_python_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let well_formed = !body.is_empty()
        && !body.starts_with('_')
        && !body.ends_with('_')
        && !body.contains("__")
        && body
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'_');
    if !well_formed {
        return None;
    }
    let digits: String = body.chars().filter(|ch| *ch != '_').collect();
    let magnitude: i64 = digits.parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// Returns Python's `str()` of a scalar JSON value, `None` for containers.
pub fn python_scalar_str(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(true) => Some("True".to_owned()),
        Value::Bool(false) => Some("False".to_owned()),
        Value::Null => Some("None".to_owned()),
        Value::Number(number) => Some(match number.as_f64() {
            Some(float) if number.is_f64() => {
                let mut text = String::new();
                pyjson::write_float(&mut text, float);
                text
            }
            _ => number.to_string(),
        }),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COORD_EXAMPLE: &str = r#"{
  "coordination_branch": "kitty/mission-invoice-export-01M0M9D8",
  "created_at": "2026-08-22T08:29:15.913164+00:00",
  "flattened": false,
  "friendly_name": "Invoice Export",
  "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0",
  "mission_number": null,
  "mission_slug": "invoice-export-01M0M9D8",
  "mission_type": "software-dev",
  "pr_bound": true,
  "purpose_context": "Finance needs CSV exports of invoices for month-end close.",
  "purpose_tldr": "Export invoices as CSV.",
  "slug": "invoice-export-01M0M9D8",
  "target_branch": "main",
  "topology": "coord"
}
"#;

    fn meta(value: Value) -> MissionMeta {
        match value {
            Value::Object(map) => MissionMeta::from_map(map),
            other => panic!("test meta must be an object, got {other}"),
        }
    }

    #[test]
    fn the_reference_example_round_trips_byte_for_byte() -> Result<(), MetaError> {
        let meta = MissionMeta::parse(COORD_EXAMPLE.as_bytes())?;
        assert_eq!(meta.to_canonical_string(), COORD_EXAMPLE);
        assert_eq!(meta.to_canonical_bytes(), COORD_EXAMPLE.as_bytes());
        Ok(())
    }

    #[test]
    fn typed_accessors_read_the_example() -> Result<(), MetaError> {
        let meta = MissionMeta::parse_str(COORD_EXAMPLE)?;
        let id = meta.mission_id()?.expect("declared");
        assert_eq!(id.as_str(), "01M0M9D8R83DDKSZ62QKGV3YW0");
        assert_eq!(id.mid8(), "01M0M9D8");
        assert_eq!(meta.mission_slug()?, Some("invoice-export-01M0M9D8"));
        assert_eq!(meta.slug()?, Some("invoice-export-01M0M9D8"));
        assert_eq!(meta.friendly_name()?, Some("Invoice Export"));
        assert_eq!(meta.mission_type()?, Some("software-dev"));
        assert_eq!(meta.target_branch()?, Some("main"));
        assert_eq!(meta.created_at()?, Some("2026-08-22T08:29:15.913164+00:00"));
        assert_eq!(
            meta.coordination_branch()?,
            Some("kitty/mission-invoice-export-01M0M9D8")
        );
        assert_eq!(meta.mission_number()?, None);
        assert_eq!(meta.stored_topology(), Some(MissionTopology::Coord));
        assert!(!meta.flattened());
        assert!(meta.declares_coordination_branch());
        assert_eq!(meta.declared_mid8()?, None);
        assert_eq!(
            meta.resolve_declared_mid8("invoice-export-01M0M9D8"),
            Some("01M0M9D8")
        );
        meta.validate("invoice-export-01M0M9D8")?;
        let identity = meta.identity("invoice-export-01M0M9D8")?;
        assert_eq!(identity.mission_slug, "invoice-export-01M0M9D8");
        assert_eq!(identity.mission_type.as_deref(), Some("software-dev"));
        Ok(())
    }

    #[test]
    fn unknown_keys_survive_a_mutation() -> Result<(), MetaError> {
        let text = "{\n  \"zzz_future\": {\n    \"nested\": [\n      1.5\n    ]\n  },\n  \
                    \"mission_id\": \"01M0M9D8R83DDKSZ62QKGV3YW0\"\n}\n";
        let mut meta = MissionMeta::parse_str(text)?;
        meta.store_backfilled_topology(MissionTopology::Lanes);
        assert_eq!(
            meta.to_canonical_string(),
            "{\n  \"flattened\": false,\n  \"mission_id\": \"01M0M9D8R83DDKSZ62QKGV3YW0\",\n  \
             \"topology\": \"lanes\",\n  \"zzz_future\": {\n    \"nested\": [\n      1.5\n    \
             ]\n  }\n}\n"
        );
        Ok(())
    }

    #[test]
    fn floats_survive_the_round_trip() -> Result<(), MetaError> {
        // These need serde_json's `float_roundtrip` feature: its default parser is off by one
        // unit in the last place for them, and Python would then print different digits.
        let text = "{\n  \"coverage_percentage\": 0.5344827586206896,\n  \"a\": -2.942688297285887e-21,\n  \
                    \"b\": 3.841898887432159e-237\n}\n";
        let meta = MissionMeta::parse_str(text)?;
        assert_eq!(
            meta.to_canonical_string(),
            "{\n  \"a\": -2.942688297285887e-21,\n  \"b\": 3.841898887432159e-237,\n  \
             \"coverage_percentage\": 0.5344827586206896\n}\n"
        );
        Ok(())
    }

    #[test]
    fn parse_errors_are_typed() {
        let cases: [(&[u8], &str); 6] = [
            (b"", "MISSION_META_MALFORMED"),
            (b"{", "MISSION_META_MALFORMED"),
            (b"\xff{}", "MISSION_META_MALFORMED"),
            (b"\xEF\xBB\xBF{}", "MISSION_META_MALFORMED"),
            (b"[1, 2]", "MISSION_META_MALFORMED"),
            (b"\"meta\"", "MISSION_META_MALFORMED"),
        ];
        for (bytes, code) in cases {
            let error = MissionMeta::parse(bytes).expect_err("malformed");
            assert_eq!(error.code(), code, "{bytes:?}");
        }
        assert_eq!(
            MissionMeta::parse(b"[1]").expect_err("list").to_string(),
            "Expected JSON object, got list"
        );
        assert!(MissionMeta::parse_bom_tolerant(b"\xEF\xBB\xBF{}").is_ok());
    }

    #[test]
    fn the_json_object_parse_agrees_with_parse_on_utf8_without_a_bom() {
        for bytes in [
            &b"{\"mission_type\": \"software-dev\"}"[..],
            b"",
            b"{",
            b"{\"a\": 1,}",
            b"[1, 2]",
            b"null",
        ] {
            assert_eq!(
                MissionMeta::parse_json_object(bytes),
                MissionMeta::parse(bytes),
                "{bytes:?}"
            );
        }
        // The byte-order mark and UTF-8 are left to the JSON decoder.
        for bytes in [&b"\xEF\xBB\xBF{}"[..], b"{\"a\": \"\xff\"}"] {
            let error = MissionMeta::parse_json_object(bytes).expect_err("refused");
            assert!(matches!(error, MetaError::Malformed { .. }), "{error}");
            assert!(MissionMeta::parse(bytes).is_err());
        }
    }

    #[test]
    fn read_policies_match_spec_kitty() {
        let good: &[u8] = b"{\"slug\": \"a\"}";
        let bad: &[u8] = b"[]";
        let bom: &[u8] = b"\xEF\xBB\xBF{\"slug\": \"a\"}";
        let slug = |meta: Option<MissionMeta>| meta.and_then(|m| m.get("slug").cloned());

        assert_eq!(MetaReadPolicy::Optional.apply(None), Ok(None));
        assert_eq!(
            slug(MetaReadPolicy::Optional.apply(Some(good)).expect("ok")),
            Some(json!("a"))
        );
        assert_eq!(
            MetaReadPolicy::Optional
                .apply(Some(bad))
                .expect_err("bad")
                .code(),
            "MISSION_META_MALFORMED"
        );

        assert_eq!(MetaReadPolicy::Strict.apply(None), Err(MetaError::NotFound));
        assert_eq!(
            slug(MetaReadPolicy::Strict.apply(Some(bom)).expect("bom ok")),
            Some(json!("a"))
        );
        assert_eq!(
            MetaReadPolicy::Strict.apply(Some(bad)),
            Ok(Some(MissionMeta::default()))
        );

        assert_eq!(
            MetaReadPolicy::Silent.apply(None),
            Ok(Some(MissionMeta::default()))
        );
        assert_eq!(
            MetaReadPolicy::Silent.apply(Some(b"{")),
            Ok(Some(MissionMeta::default()))
        );
        assert_eq!(
            slug(MetaReadPolicy::Silent.apply(Some(good)).expect("ok")),
            Some(json!("a"))
        );
    }

    #[test]
    fn accessors_read_blank_as_none_and_reject_wrong_types() {
        let meta = meta(json!({
            "mission_id": 42,
            "target_branch": "  ",
            "friendly_name": null,
            "mission_type": ["software-dev"],
        }));
        assert_eq!(
            meta.mission_id(),
            Err(MetaError::FieldType {
                field: "mission_id",
                expected: "a string",
                found: "int"
            })
        );
        assert_eq!(
            meta.mission_id().expect_err("int").to_string(),
            "meta.json field `mission_id` must be a string, got int"
        );
        assert_eq!(meta.mission_id_text(), None);
        assert_eq!(meta.target_branch(), Ok(None));
        assert_eq!(meta.friendly_name(), Ok(None));
        assert_eq!(meta.slug(), Ok(None));
        assert_eq!(
            meta.mission_type().expect_err("list").code(),
            "MISSION_META_FIELD_TYPE"
        );
        let bad_id = meta_with("mission_id", json!("01m0m9d8"));
        assert_eq!(
            bad_id.mission_id(),
            Err(MetaError::InvalidMissionId {
                value: "01m0m9d8".to_owned()
            })
        );
        assert_eq!(bad_id.mission_id_text(), Some("01m0m9d8"));
    }

    fn meta_with(key: &str, value: Value) -> MissionMeta {
        let mut meta = MissionMeta::default();
        meta.set(key, value);
        meta
    }

    #[test]
    fn mission_numbers_normalize() {
        let ok = [
            (json!(null), None),
            (json!(64), Some(64)),
            (json!(0), Some(0)),
            (json!(""), None),
            (json!("   "), None),
            (json!("042"), Some(42)),
            (json!(" 7 "), Some(7)),
            (json!("000"), Some(0)),
            (json!("1_000"), Some(1000)),
            (json!("-5"), Some(-5)),
            (json!("+5"), Some(5)),
        ];
        for (value, expected) in ok {
            assert_eq!(
                normalize_mission_number(Some(&value)),
                Ok(expected),
                "{value}"
            );
        }
        assert_eq!(normalize_mission_number(None), Ok(None));
        let bad = [
            json!("pending"),
            json!("unassigned"),
            json!("TBD"),
            json!("tbd"),
            json!("4 2"),
            json!("0x10"),
            json!("0_1"),
            json!("1__0"),
            json!("-"),
            json!("4.0"),
            json!(true),
            json!(4.0),
            json!([4]),
            json!({"n": 4}),
            json!(u64::MAX),
        ];
        for value in bad {
            let error = normalize_mission_number(Some(&value)).expect_err("invalid");
            assert_eq!(error.code(), "MISSION_NUMBER_INVALID", "{value}");
        }
        assert_eq!(
            normalize_mission_number(Some(&json!("pending")))
                .expect_err("sentinel")
                .to_string(),
            "meta.json mission_number must be an integer or null, got \"pending\""
        );
        assert_eq!(
            meta_with("mission_number", json!("083")).mission_number(),
            Ok(Some(83))
        );
    }

    #[test]
    fn validation_names_every_field_in_order() {
        let mut meta = meta(json!({
            "slug": "",
            "mission_slug": "a",
            "friendly_name": 0,
            "target_branch": "main",
            "purpose_tldr": " \n ",
            "purpose_context": 5,
            "change_mode": "regular",
        }));
        let error = meta.validate("a-01M0M9D8").expect_err("invalid");
        assert_eq!(error.code(), "MISSION_META_INVALID");
        assert_eq!(
            error.to_string(),
            "Invalid meta.json for a-01M0M9D8: Missing or empty required field: created_at; \
             Missing or empty required field: friendly_name; \
             Missing or empty required field: mission_type; \
             Missing or empty required field: slug; \
             Field purpose_tldr must not be empty when present; \
             Field purpose_context must be a string when present; \
             Invalid change_mode \"regular\"; valid values: ['bulk_edit']"
        );
        for (key, value) in [
            ("slug", "a"),
            ("friendly_name", "A"),
            ("created_at", "2026-01-01T00:00:00+00:00"),
            ("mission_type", "software-dev"),
            ("purpose_tldr", "x"),
            ("purpose_context", "y"),
            ("change_mode", "bulk_edit"),
        ] {
            meta.set(key, value);
        }
        assert_eq!(meta.validate("a"), Ok(()));
    }

    #[test]
    fn safe_slug_falls_back_to_the_directory() {
        let cases = [
            (json!({"mission_slug": "foo-01M0M9D8"}), "foo-01M0M9D8"),
            (json!({"mission_slug": "../../evil"}), "dir"),
            (json!({"mission_slug": "", "slug": "064-foo"}), "064-foo"),
            (json!({"mission_slug": 5}), "5"),
            (json!({"mission_slug": ["x"]}), "dir"),
            (json!({}), "dir"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                meta(value.clone()).safe_mission_slug("dir"),
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn mid8_cascade() {
        let declared =
            meta(json!({"mid8": "01AAAAAA", "mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0"}));
        assert_eq!(
            declared.resolve_declared_mid8("x-01BBBBBB"),
            Some("01AAAAAA")
        );
        let identity = meta(json!({"mission_id": "01M0M9D8R83DDKSZ62QKGV3YW0"}));
        assert_eq!(
            identity.resolve_declared_mid8("x-01BBBBBB"),
            Some("01M0M9D8")
        );
        let none = MissionMeta::default();
        assert_eq!(none.resolve_declared_mid8("x-01BBBBBB"), Some("01BBBBBB"));
        assert_eq!(none.resolve_declared_mid8("064-x"), None);
    }

    #[test]
    fn flatten_records_the_coordination_less_shape() {
        let mut coord = MissionMeta::parse_str(COORD_EXAMPLE).expect("example");
        let outcome = coord
            .flatten_coordination(LanesJsonState::Present)
            .expect("coordinated");
        assert_eq!(
            outcome,
            FlattenOutcome {
                removed_coordination_branch: Some(json!("kitty/mission-invoice-export-01M0M9D8")),
                previous_topology: Some(json!("coord")),
                topology: MissionTopology::Lanes,
            }
        );
        assert_eq!(coord.get("coordination_branch"), None);
        assert_eq!(
            coord.stored_topology(),
            None,
            "Spec Kitty's flatten drops it"
        );
        assert_eq!(
            crate::mission::topology::read_topology(&coord, LanesJsonState::Present),
            MissionTopology::Lanes
        );
        assert!(coord.flattened());
        // Idempotent: nothing left to flatten.
        let before = coord.clone();
        assert_eq!(coord.flatten_coordination(LanesJsonState::Present), None);
        assert_eq!(coord, before);

        // Never stamps a never-coordinated mission.
        let mut flat = meta(json!({"topology": "lanes", "flattened": false}));
        assert_eq!(flat.flatten_coordination(LanesJsonState::Present), None);
        assert!(!flat.flattened());

        // A `coordination_branch` of `null` is flattened too; a stored coordination topology
        // without the key is not (Spec Kitty's primitive keys on the key alone).
        let mut null = meta(json!({"coordination_branch": null, "topology": "lanes"}));
        let outcome = null
            .flatten_coordination(LanesJsonState::Absent)
            .expect("declared");
        assert_eq!(outcome.removed_coordination_branch, Some(Value::Null));
        assert_eq!(outcome.topology, MissionTopology::SingleBranch);
        let mut bare = meta(json!({"topology": "coord"}));
        assert_eq!(bare.flatten_coordination(LanesJsonState::Absent), None);
    }

    #[test]
    fn a_new_mission_carries_the_create_time_fields() -> Result<(), MetaError> {
        let id = MissionId::parse("01M0M9D8R83DDKSZ62QKGV3YW0").expect("ULID");
        let meta = MissionMeta::for_new_mission(&NewMissionMeta {
            mission_id: &id,
            dir_name: "invoice-export-01M0M9D8",
            friendly_name: "Invoice Export",
            purpose_tldr: "Export invoices as CSV.",
            purpose_context: "Finance needs CSV exports of invoices for month-end close.",
            mission_type: "software-dev",
            target_branch: "main",
            created_at: "2026-08-22T08:29:15.913164+00:00",
            topology: MissionTopology::Coord,
            coordination_branch: Some("kitty/mission-invoice-export-01M0M9D8"),
            pr_bound: true,
        });
        assert_eq!(meta.to_canonical_string(), COORD_EXAMPLE);
        meta.validate("invoice-export-01M0M9D8")?;
        Ok(())
    }

    #[test]
    fn friendly_names_title_case_the_slug() {
        assert_eq!(friendly_name_from_slug("invoice-export"), "Invoice Export");
        assert_eq!(friendly_name_from_slug("v2api-fix"), "V2Api Fix");
        assert_eq!(friendly_name_from_slug("123"), "123");
    }

    #[test]
    fn set_default_keeps_existing_values() {
        let mut meta = meta(json!({"flattened": true}));
        meta.store_backfilled_topology(MissionTopology::SingleBranch);
        assert!(meta.flattened());
        assert_eq!(meta.remove("flattened"), Some(json!(true)));
        assert!(!meta.is_empty());
    }
}
