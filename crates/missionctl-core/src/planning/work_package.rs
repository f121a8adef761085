//! Work packages: the YAML front matter of `tasks/WPxx-<slug>.md` as a typed model, parsed
//! leniently enough for every file Spec Kitty ever wrote and strictly enough to name the line
//! and field of anything unusable, and the text of a new work-package file.
//!
//! The model keeps the fields missionctl reads (`work_package_id`, `title`, `dependencies`,
//! `subtasks`, `owned_files`, `requirement_refs`, `execution_mode`, …) typed, and every other
//! key as parsed in [`FrontMatter::extra`]. An existing file is only ever edited one field at a
//! time, in place ([`set_requirement_refs`]), so unknown keys survive untouched on disk. Lane
//! state is never read from front matter: the event log is the only authority.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The wire value of [`ExecutionMode::CodeChange`].
pub const CODE_CHANGE: &str = "code_change";
/// The wire value of [`ExecutionMode::PlanningArtifact`].
pub const PLANNING_ARTIFACT: &str = "planning_artifact";

/// Where a work package's changes land: code in a lane worktree, or planning artifacts in the
/// primary checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionMode {
    /// Code changes, made in a lane worktree (`code_change`, the default).
    CodeChange,
    /// Planning artifacts, made in the primary checkout on the target branch
    /// (`planning_artifact`, the `lane-planning` lane).
    PlanningArtifact,
}

impl ExecutionMode {
    /// Returns the wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionMode::CodeChange => CODE_CHANGE,
            ExecutionMode::PlanningArtifact => PLANNING_ARTIFACT,
        }
    }

    /// Parses a wire value strictly.
    pub fn from_wire(value: &str) -> Option<ExecutionMode> {
        match value {
            CODE_CHANGE => Some(ExecutionMode::CodeChange),
            PLANNING_ARTIFACT => Some(ExecutionMode::PlanningArtifact),
            _ => None,
        }
    }
}

impl fmt::Display for ExecutionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns true for a work package id: `WP` followed by at least two ASCII digits.
pub fn is_work_package_id(value: &str) -> bool {
    value
        .strip_prefix("WP")
        .is_some_and(|digits| digits.len() >= 2 && digits.bytes().all(|byte| byte.is_ascii_digit()))
}

/// Returns the `WPnn` prefix of a work-package file name (`WP01-storage.md` → `WP01`), if it
/// has one.
pub fn work_package_id_from_file_name(name: &str) -> Option<&str> {
    let digits = name
        .strip_prefix("WP")?
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    (digits >= 2).then(|| &name[..2 + digits])
}

/// Returns true when the file `file_name` of a mission's `tasks/` defines the work package
/// `wp_id`, by Spec Kitty's `locate_work_package`: a `*.md` file (not `README.md`, in any case)
/// whose name starts with the id exactly as written (case-sensitive) followed by `-`, `_` or
/// `.` (`WP04.md`, `WP04-storage.md`, `WP04_x.md`; never `WP04b.md` or `wp04-x.md`).
pub fn file_defines_work_package(file_name: &str, wp_id: &str) -> bool {
    !wp_id.is_empty()
        && file_name.ends_with(".md")
        && !file_name.eq_ignore_ascii_case("readme.md")
        && file_name
            .strip_prefix(wp_id)
            .is_some_and(|rest| rest.starts_with(['-', '_', '.']))
}

/// Returns true for a subtask id: `T` followed by digits, optionally a lower- or upper-case
/// letter or a `-word` suffix (`T001`, `T012a`, `T007-chain`), as found in Spec Kitty's files.
pub fn is_subtask_id(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('T') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let suffix = &rest[digits..];
    suffix.is_empty()
        || (suffix.len() == 1 && suffix.bytes().all(|byte| byte.is_ascii_alphabetic()))
        || suffix.strip_prefix('-').is_some_and(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

/// Why front matter could not be read, with the line (1-based, in the YAML text) and the field
/// when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*line, field.as_deref()))]
pub struct FrontMatterError {
    /// The line the problem is on, counted from the first line of the YAML text.
    pub line: Option<usize>,
    /// The top-level key involved.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl FrontMatterError {
    /// Returns the error with its line moved down by `offset` lines (the lines above the YAML
    /// text in its file, such as the opening `---`).
    pub fn shifted(mut self, offset: usize) -> FrontMatterError {
        self.line = self.line.map(|line| line + offset);
        self
    }
}

fn location(line: Option<usize>, field: Option<&str>) -> String {
    match (line, field) {
        (Some(line), Some(field)) => format!("line {line}, field `{field}`: "),
        (Some(line), None) => format!("line {line}: "),
        (None, Some(field)) => format!("field `{field}`: "),
        (None, None) => String::new(),
    }
}

/// The front matter of a work-package file.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FrontMatter {
    /// `work_package_id`, e.g. `WP01`.
    pub work_package_id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `dependencies`: the ids of the work packages this one waits for, as written.
    pub dependencies: Vec<String>,
    /// `subtasks`: the subtask ids, trimmed, in order (an entry may be a mapping with an `id`).
    pub subtasks: Vec<String>,
    /// `owned_files`: the globs this work package may write; `None` when the key is absent.
    pub owned_files: Option<Vec<String>>,
    /// `requirement_refs`: the requirements it implements (`FR-001`, …).
    pub requirement_refs: Vec<String>,
    /// `execution_mode` as written (`code_change` or `planning_artifact`); `None` when absent.
    pub execution_mode: Option<String>,
    /// `authoritative_surface`.
    pub authoritative_surface: Option<String>,
    /// `create_intent`: owned files that do not exist yet.
    pub create_intent: Vec<String>,
    /// Every other top-level key, as parsed.
    pub extra: BTreeMap<String, Value>,
    /// The line (1-based, in the YAML text) of each top-level key.
    #[serde(skip)]
    key_lines: BTreeMap<String, usize>,
}

impl FrontMatter {
    /// Parses YAML front matter (the text between the `---` fences).
    ///
    /// An empty text is an empty front matter. Fails when the text is not YAML, is not a
    /// mapping, repeats a key, or gives a modelled field a value of the wrong type; the error
    /// names the line and the field.
    pub fn parse(yaml: &str) -> Result<FrontMatter, FrontMatterError> {
        let key_lines = top_level_key_lines(yaml);
        let map = parse_front_matter_map(yaml)?;
        let mut front = FrontMatter {
            key_lines,
            ..FrontMatter::default()
        };
        for (key, value) in map {
            let field = |message: String| FrontMatterError {
                line: front.key_lines.get(&key).copied(),
                field: Some(key.clone()),
                message,
            };
            match key.as_str() {
                "work_package_id" => {
                    front.work_package_id = optional_string(&value).map_err(field)?
                }
                "title" => front.title = optional_string(&value).map_err(field)?,
                "execution_mode" => {
                    front.execution_mode = optional_string(&value).map_err(field)?
                }
                "authoritative_surface" => {
                    front.authoritative_surface = optional_string(&value).map_err(field)?;
                }
                "dependencies" => front.dependencies = string_list(&value, true).map_err(field)?,
                "owned_files" => {
                    front.owned_files = Some(string_list(&value, false).map_err(field)?)
                }
                "requirement_refs" => {
                    front.requirement_refs = string_list(&value, false).map_err(field)?;
                }
                "create_intent" => {
                    front.create_intent = string_list(&value, false).map_err(field)?
                }
                "subtasks" => front.subtasks = subtask_list(&value).map_err(field)?,
                _ => {
                    front.extra.insert(key, value);
                }
            }
        }
        Ok(front)
    }

    /// Returns the line (1-based, in the YAML text) of a top-level key, when present.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.key_lines.get(key).copied()
    }

    /// Returns the parsed execution mode: absent means `code_change`; `Err` holds an unknown
    /// value as written.
    pub fn mode(&self) -> Result<ExecutionMode, &str> {
        match self.execution_mode.as_deref() {
            None => Ok(ExecutionMode::CodeChange),
            Some(value) => ExecutionMode::from_wire(value.trim()).ok_or(value),
        }
    }

    /// Returns the owned-file globs (none when the key is absent).
    pub fn owned_files(&self) -> &[String] {
        self.owned_files.as_deref().unwrap_or_default()
    }
}

/// Parses a YAML document into a JSON value. Comments are skipped without being buffered (a
/// long run of comment lines is not an error).
pub fn parse_yaml(text: &str) -> Result<Value, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, serde_saphyr::options! { emit_comments: false })
}

/// Parses YAML front matter into its top-level mapping, as parsed (an empty text or a `null`
/// document is an empty mapping). Fails when the text is not YAML or not a mapping.
pub fn parse_front_matter_map(
    yaml: &str,
) -> Result<serde_json::Map<String, Value>, FrontMatterError> {
    let value: Value = if yaml.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else if let Some(map) = crate::text::block_yaml::parse_block_mapping(yaml) {
        Value::Object(map)
    } else {
        parse_yaml(yaml).map_err(|error| FrontMatterError {
            line: error
                .location()
                .and_then(|location| usize::try_from(location.line()).ok())
                .filter(|line| *line > 0),
            field: None,
            message: yaml_message(&error.to_string()),
        })?
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(serde_json::Map::new()),
        other => Err(FrontMatterError {
            line: Some(1),
            field: None,
            message: format!(
                "expected a mapping of keys to values, found {}",
                kind(&other)
            ),
        }),
    }
}

/// Returns the first line of a serde-saphyr message, without its `error: line N column M: `
/// prefix (the line is reported separately).
fn yaml_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or(rendered).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let without_location = first
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
        .map_or(first, |(_, message)| message);
    format!("not valid YAML: {without_location}")
}

/// Returns the line (1-based) of every top-level key: a line that starts in column 0 with a
/// plain or quoted key followed by `:`.
fn top_level_key_lines(yaml: &str) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    for (index, line) in yaml.lines().enumerate() {
        let Some(first) = line.chars().next() else {
            continue;
        };
        if first.is_whitespace() || matches!(first, '#' | '-' | '[' | '{' | '?') {
            continue;
        }
        let key = if let Some(rest) = line.strip_prefix('"').or_else(|| line.strip_prefix('\'')) {
            rest.split(['"', '\'']).next()
        } else {
            line.split_once(':').map(|(key, _)| key.trim_end())
        };
        if let Some(key) = key.filter(|key| !key.is_empty()) {
            lines.entry(key.to_owned()).or_insert(index + 1);
        }
    }
    lines
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn optional_string(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        // YAML reads `1` or `true` as scalars of another type; keep what was written.
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::Bool(flag) => Ok(Some(flag.to_string())),
        other => Err(format!("expected a string, found {}", kind(other))),
    }
}

/// Reads a list of strings. With `allow_inline`, a string is read as an inline list
/// (`"[]"`, `"WP01, WP02"`), as some of Spec Kitty's older files have it.
fn string_list(value: &Value, allow_inline: bool) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text.trim().to_owned()),
                Value::Number(number) => Ok(number.to_string()),
                other => Err(format!(
                    "item {} is {}, expected a string",
                    index + 1,
                    kind(other)
                )),
            })
            .collect(),
        Value::String(text) if allow_inline => Ok(text
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|item| item.trim().trim_matches(['"', '\'']).to_owned())
            .filter(|item| !item.is_empty())
            .collect()),
        other => Err(format!("expected a list of strings, found {}", kind(other))),
    }
}

/// Reads the subtask roster: strings, or mappings with a string `id`; trimmed.
fn subtask_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text.trim().to_owned()),
                Value::Object(map) => match map.get("id") {
                    Some(Value::String(id)) => Ok(id.trim().to_owned()),
                    _ => Err(format!(
                        "item {} is a mapping without a string `id`",
                        index + 1
                    )),
                },
                other => Err(format!(
                    "item {} is {}, expected a subtask id such as `T001`",
                    index + 1,
                    kind(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "expected a list of subtask ids, found {}",
            kind(other)
        )),
    }
}

/// The fields of a work package that `ready` and the dependency gate need.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WorkPackageSummary {
    /// `work_package_id`.
    pub work_package_id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `dependencies`.
    pub dependencies: Vec<String>,
}

impl From<&FrontMatter> for WorkPackageSummary {
    fn from(front: &FrontMatter) -> WorkPackageSummary {
        WorkPackageSummary {
            work_package_id: front.work_package_id.clone(),
            title: front.title.clone(),
            dependencies: front.dependencies.clone(),
        }
    }
}

/// Returns the id, title and dependencies of a work package's front matter.
///
/// Reading a whole front matter with the YAML parser costs tens of microseconds, which adds
/// up over a few hundred work packages. The plain block style Spec Kitty and missionctl write
/// is read by a line scanner instead; anything it does not recognise with certainty (quoting
/// with escapes, flow mappings, block scalars or continuation lines on the three keys, tabs,
/// document markers, a repeated key) goes to [`FrontMatter::parse`], so the result is always
/// the parser's.
pub fn summarize_front_matter(yaml: &str) -> Result<WorkPackageSummary, FrontMatterError> {
    match quick_summary(yaml) {
        Some(summary) => Ok(summary),
        None => FrontMatter::parse(yaml).map(|front| WorkPackageSummary::from(&front)),
    }
}

/// The line scanner of [`summarize_front_matter`]; `None` means "ask the parser".
fn quick_summary(yaml: &str) -> Option<WorkPackageSummary> {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        Other,
        Dependencies,
        Done,
    }
    let mut summary = WorkPackageSummary::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut open = Open::Other;
    for line in yaml.lines() {
        if line.contains('\t') || line.starts_with("---") || line.starts_with("...") {
            return None;
        }
        let Some(first) = line.chars().next() else {
            continue;
        };
        if first == ' ' || first == '-' {
            // Inside the value of the last key.
            let item = line.trim_start();
            match open {
                Open::Other => continue,
                Open::Done => return None,
                Open::Dependencies => {
                    let value = item.strip_prefix("- ")?.trim_end();
                    summary.dependencies.push(quick_scalar(value)?);
                    continue;
                }
            }
        }
        if first == '#' {
            continue;
        }
        let (key, rest) = line.split_once(':')?;
        if key.is_empty()
            || !key
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
            || !(rest.is_empty() || rest.starts_with(' '))
            || seen.contains(&key)
        {
            return None;
        }
        seen.push(key);
        let value = rest.trim();
        open = Open::Other;
        match key {
            "work_package_id" | "title" => {
                let parsed = if value.is_empty() || value == "~" || value == "null" {
                    None
                } else {
                    Some(quick_scalar(value)?)
                };
                if key == "title" {
                    summary.title = parsed;
                } else {
                    summary.work_package_id = parsed;
                }
                open = Open::Done;
            }
            "dependencies" => {
                if value.is_empty() {
                    open = Open::Dependencies;
                } else {
                    let inner = value.strip_prefix('[')?.strip_suffix(']')?;
                    for item in inner.split(',') {
                        let item = item.trim();
                        if item.is_empty() {
                            continue;
                        }
                        summary.dependencies.push(quick_scalar(item)?);
                    }
                    open = Open::Done;
                }
            }
            _ => {}
        }
    }
    Some(summary)
}

/// Reads a one-line scalar that is certainly a plain string: unquoted without YAML
/// indicators, or quoted without escapes. `None` for anything else.
fn quick_scalar(value: &str) -> Option<String> {
    if !value
        .chars()
        .all(crate::text::block_yaml::is_yaml_printable)
    {
        return None;
    }
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return (!inner.contains('\'')).then(|| inner.trim().to_owned());
    }
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return (!inner.contains('"') && !inner.contains('\\')).then(|| inner.trim().to_owned());
    }
    let first = value.chars().next()?;
    let plain = (first.is_ascii_alphabetic() || first == '_')
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.ends_with(':')
        && value.chars().all(|ch| {
            ch.is_alphanumeric()
                || matches!(
                    ch,
                    ' ' | '_' | '-' | '.' | '/' | '(' | ')' | '&' | '+' | ',' | '\''
                )
        });
    // Words YAML reads as booleans or null are left to the parser.
    let lower = value.to_ascii_lowercase();
    let keyword = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
    );
    (plain && !keyword).then(|| value.to_owned())
}

/// The front matter and body of a Markdown file, and the line the YAML text starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitFile<'a> {
    /// The YAML text between the fences.
    pub yaml: &'a str,
    /// Everything after the closing fence.
    pub body: &'a str,
    /// How many lines precede the YAML text in the file (the opening fence: 1).
    pub yaml_line_offset: usize,
}

/// Splits a Markdown file into its YAML front matter (between an opening `---` line and the
/// next `---` line) and its body; `None` when it has no front matter.
pub fn split_front_matter(text: &str) -> Option<SplitFile<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(SplitFile {
                yaml: &rest[..offset],
                body: &rest[offset + line.len()..],
                yaml_line_offset: 1,
            });
        }
        offset += line.len();
    }
    None
}

/// What `wp add` writes into a new work-package file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewWorkPackage {
    /// The id, `WPnn`.
    pub work_package_id: String,
    /// The title.
    pub title: String,
    /// The ids it depends on.
    pub dependencies: Vec<String>,
    /// The requirement refs.
    pub requirement_refs: Vec<String>,
    /// The subtask ids.
    pub subtasks: Vec<String>,
    /// The execution mode.
    pub execution_mode: Option<ExecutionMode>,
    /// The owned-file globs.
    pub owned_files: Vec<String>,
    /// The owned files it will create (`create_intent`; written only when not empty).
    pub create_intent: Vec<String>,
    /// The mission's target branch (`planning_base_branch` and `merge_target_branch`).
    pub target_branch: String,
}

impl NewWorkPackage {
    /// Returns the file name `WPnn-<slug>.md`, the slug derived from the title.
    pub fn file_name(&self) -> String {
        let slug = slugify(&self.title);
        if slug.is_empty() {
            format!("{}.md", self.work_package_id)
        } else {
            format!("{}-{slug}.md", self.work_package_id)
        }
    }

    /// Returns the file's text: YAML front matter in Spec Kitty's key order and block style,
    /// with the branch strategy and authoritative surface Spec Kitty's `finalize-tasks`
    /// expects, then a prompt skeleton.
    pub fn render(&self) -> String {
        let mut text = String::from("---\n");
        yaml_entry(&mut text, "work_package_id", &self.work_package_id);
        yaml_entry(&mut text, "title", &self.title);
        yaml_list(&mut text, "dependencies", &self.dependencies);
        yaml_list(&mut text, "requirement_refs", &self.requirement_refs);
        yaml_entry(&mut text, "planning_base_branch", &self.target_branch);
        yaml_entry(&mut text, "merge_target_branch", &self.target_branch);
        yaml_entry(
            &mut text,
            "branch_strategy",
            &crate::planning::task_plan::finalize::branch_strategy_text(
                &self.target_branch,
                &self.target_branch,
            ),
        );
        yaml_list(&mut text, "subtasks", &self.subtasks);
        yaml_entry(
            &mut text,
            "execution_mode",
            self.execution_mode
                .unwrap_or(ExecutionMode::CodeChange)
                .as_str(),
        );
        // Without owned files the key is left out, so that Spec Kitty infers them: an explicit
        // `owned_files: []` on a code work package is a contradiction its finalize refuses.
        if !self.owned_files.is_empty() {
            yaml_list(&mut text, "owned_files", &self.owned_files);
        }
        if let Some(surface) =
            crate::planning::task_plan::ownership::default_authoritative_surface(&self.owned_files)
        {
            yaml_entry(&mut text, "authoritative_surface", &surface);
        }
        if !self.create_intent.is_empty() {
            yaml_list(&mut text, "create_intent", &self.create_intent);
        }
        text.push_str("---\n\n");
        text.push_str(&format!(
            "# Work Package Prompt: {} – {}\n\n",
            self.work_package_id, self.title
        ));
        text.push_str("## Objectives & Success Criteria\n\n");
        text.push_str("## Subtasks & Detailed Guidance\n\n");
        for subtask in &self.subtasks {
            text.push_str(&format!("- {subtask}\n"));
        }
        if !self.subtasks.is_empty() {
            text.push('\n');
        }
        text.push_str("## Activity Log\n");
        text
    }
}

/// Returns a kebab-case slug of a title: ASCII letters and digits, lower-cased, other runs of
/// characters as one `-`, at most 60 characters, cut at a word boundary.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_owned();
    if slug.len() > 60 {
        let cut = slug[..60].rfind('-').unwrap_or(60);
        slug.truncate(cut);
    }
    slug
}

fn yaml_entry(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(": ");
    yaml_scalar(out, value);
    out.push('\n');
}

fn yaml_list(out: &mut String, key: &str, items: &[String]) {
    out.push_str(key);
    if items.is_empty() {
        out.push_str(": []\n");
        return;
    }
    out.push_str(":\n");
    for item in items {
        out.push_str("- ");
        yaml_scalar(out, item);
        out.push('\n');
    }
}

/// Writes a string as a plain YAML scalar when it reads back as the same string, else as a
/// double-quoted scalar (JSON string syntax, which YAML's double-quoted style accepts).
fn yaml_scalar(out: &mut String, value: &str) {
    let plain_candidate = !value.is_empty()
        && value.trim() == value
        && value
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphanumeric() || first == '_' || first == '.')
        && value.chars().all(|ch| {
            ch.is_ascii_alphanumeric()
                || matches!(ch, ' ' | '_' | '-' | '.' | '/' | '(' | ')' | '*')
        });
    let plain = plain_candidate
        && serde_saphyr::from_str::<Value>(value).ok() == Some(Value::String(value.to_owned()));
    if plain {
        out.push_str(value);
    } else {
        out.push_str(&Value::String(value.to_owned()).to_string());
    }
}

/// Why a front-matter field could not be rewritten in place. The file is never half edited:
/// the caller gets the new text or this error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrontMatterEditError {
    /// The text has no front matter (no `---` block at the top).
    #[error("The file has no front matter")]
    Missing,
    /// The front matter cannot be read.
    #[error(transparent)]
    Invalid(#[from] FrontMatterError),
    /// The field is written in a way the line editor does not rewrite (a quoted key), or the
    /// rewritten text would not read back as intended.
    #[error("`{field}` cannot be rewritten in place: {reason}")]
    Unsupported {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Returns the text of a work-package file with its `requirement_refs` set to `refs` and
/// every other byte unchanged.
///
/// Only the lines of the field are replaced: the key line and the value lines that belong to
/// it (indented lines, and `- item` lines at the key's column). A flow list
/// (`requirement_refs: [FR-001]`) stays a flow list, a block list keeps its items'
/// indentation, line endings (`\n` or `\r\n`) are kept, and an absent field is added at the
/// end of the front matter. The result is parsed back: it must give exactly `refs` and leave
/// every other field as it was, or nothing is returned but the error.
pub fn set_requirement_refs(text: &str, refs: &[String]) -> Result<String, FrontMatterEditError> {
    const KEY: &str = "requirement_refs";
    let split = split_front_matter(text).ok_or(FrontMatterEditError::Missing)?;
    let before = FrontMatter::parse(split.yaml)?;
    // `split.yaml` is a slice of `text`: its offset is the length of what precedes it.
    let yaml_start = split.yaml.as_ptr() as usize - text.as_ptr() as usize;
    let lines: Vec<(usize, &str)> = split
        .yaml
        .split_inclusive('\n')
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line))
        })
        .collect();
    let newline = |line: &str| if line.ends_with("\r\n") { "\r\n" } else { "\n" };
    let (start, end, replacement) = match before.line_of(KEY) {
        Some(number) => {
            let index = number - 1;
            let (start, key_line) = lines[index];
            let Some(inline) = key_line
                .strip_prefix(KEY)
                .and_then(|rest| rest.strip_prefix(':'))
            else {
                return Err(FrontMatterEditError::Unsupported {
                    field: KEY,
                    reason: "the key is not written plainly at the start of its line".to_owned(),
                });
            };
            let mut last = index;
            for (position, (_, line)) in lines.iter().enumerate().skip(index + 1) {
                let content = line.trim_end();
                if content.is_empty() {
                    continue;
                }
                if line.starts_with([' ', '\t']) || content == "-" || line.starts_with("- ") {
                    last = position;
                } else {
                    break;
                }
            }
            let (end_offset, end_line) = lines[last];
            let end = end_offset + end_line.len();
            let indent: String = lines[index + 1..=last]
                .iter()
                .find_map(|(_, line)| {
                    let trimmed = line.trim_start_matches([' ', '\t']);
                    trimmed
                        .starts_with('-')
                        .then(|| line[..line.len() - trimmed.len()].to_owned())
                })
                .unwrap_or_default();
            // `[]` is how an empty list is written; a filled one is written as a block.
            let flow = inline.trim().starts_with('[') && inline.trim() != "[]";
            let eol = newline(key_line);
            (start, end, render_list(KEY, refs, flow, &indent, eol))
        }
        None => {
            let eol = lines.first().map_or("\n", |(_, line)| newline(line));
            let end = split.yaml.len();
            (end, end, render_list(KEY, refs, false, "", eol))
        }
    };
    let mut edited = String::with_capacity(text.len() + replacement.len());
    edited.push_str(&text[..yaml_start + start]);
    edited.push_str(&replacement);
    edited.push_str(&text[yaml_start + end..]);

    let unsupported = |reason: &str| FrontMatterEditError::Unsupported {
        field: KEY,
        reason: reason.to_owned(),
    };
    let after = split_front_matter(&edited)
        .ok_or_else(|| unsupported("the front matter would be lost"))
        .and_then(|split| {
            FrontMatter::parse(split.yaml).map_err(|_| unsupported("the result is not YAML"))
        })?;
    let mut expected = before;
    expected.requirement_refs = refs.to_vec();
    let same = |front: &FrontMatter| serde_json::to_value(front).ok();
    if after.requirement_refs != refs || same(&after) != same(&expected) {
        return Err(unsupported("other fields would change"));
    }
    Ok(edited)
}

/// Returns `key` with a list value: `key: []`, a flow list, or a block list whose items are
/// indented by `indent`.
fn render_list(key: &str, items: &[String], flow: bool, indent: &str, eol: &str) -> String {
    let mut out = String::new();
    if items.is_empty() || flow {
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let mut value = String::new();
            yaml_scalar(&mut value, item);
            values.push(value);
        }
        out.push_str(&format!("{key}: [{}]{eol}", values.join(", ")));
        return out;
    }
    out.push_str(key);
    out.push(':');
    out.push_str(eol);
    for item in items {
        out.push_str(indent);
        out.push_str("- ");
        yaml_scalar(&mut out, item);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_modelled_fields_and_keeps_the_rest() -> Result<(), FrontMatterError> {
        let yaml = "work_package_id: WP02\ntitle: Add and list\ndependencies:\n- WP01\n\
                    subtasks:\n- T003\n- id: T004\n  title: x\nowned_files:\n- src/cli.py\n\
                    execution_mode: code_change\nagent: claude\nhistory:\n- at: '2026'\n";
        let front = FrontMatter::parse(yaml)?;
        assert_eq!(front.work_package_id.as_deref(), Some("WP02"));
        assert_eq!(front.dependencies, ["WP01"]);
        assert_eq!(front.subtasks, ["T003", "T004"]);
        assert_eq!(front.owned_files(), ["src/cli.py"]);
        assert_eq!(front.mode(), Ok(ExecutionMode::CodeChange));
        assert_eq!(front.extra.keys().collect::<Vec<_>>(), ["agent", "history"]);
        assert_eq!(front.line_of("dependencies"), Some(3));
        assert_eq!(front.line_of("execution_mode"), Some(11));
        Ok(())
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let error = FrontMatter::parse("title: x\ndependencies: 3\n").expect_err("a number");
        assert_eq!(error.line, Some(2));
        assert_eq!(error.field.as_deref(), Some("dependencies"));
        assert_eq!(
            error.to_string(),
            "line 2, field `dependencies`: expected a list of strings, found a number"
        );
        let error = FrontMatter::parse("title: x\nsubtasks: [\n").expect_err("not YAML");
        assert_eq!(error.line, Some(2));
        assert!(error.message.starts_with("not valid YAML: "), "{error}");
        let error = FrontMatter::parse("- a\n- b\n").expect_err("a list");
        assert_eq!(
            error.to_string(),
            "line 1: expected a mapping of keys to values, found a list"
        );
        let error = FrontMatter::parse("title: a\ntitle: b\n").expect_err("duplicate");
        assert_eq!(error.line, Some(2));
        assert_eq!(error.shifted(1).line, Some(3));
    }

    #[test]
    fn inline_dependency_strings_are_lists() -> Result<(), FrontMatterError> {
        assert!(
            FrontMatter::parse("dependencies: \"[]\"\n")?
                .dependencies
                .is_empty()
        );
        assert_eq!(
            FrontMatter::parse("dependencies: \"WP01, WP02\"\n")?.dependencies,
            ["WP01", "WP02"]
        );
        Ok(())
    }

    #[test]
    fn a_file_defines_a_work_package_as_spec_kittys_locate_work_package_says() {
        for name in ["WP04.md", "WP04-storage.md", "WP04_x.md", "WP04.draft.md"] {
            assert!(file_defines_work_package(name, "WP04"), "{name}");
        }
        for name in [
            "WP04b.md",
            "WP040-x.md",
            "wp04-x.md",
            "WP04-x.txt",
            "WP04-x.MD",
            "WP4-x.md",
            "README.md",
        ] {
            assert!(!file_defines_work_package(name, "WP04"), "{name}");
        }
        assert!(!file_defines_work_package("readme.md", "readme"));
        assert!(!file_defines_work_package("-x.md", ""));
    }

    #[test]
    fn ids() {
        assert!(is_work_package_id("WP01"));
        assert!(is_work_package_id("WP123"));
        assert!(!is_work_package_id("WP1"));
        assert!(!is_work_package_id("wp01"));
        assert_eq!(work_package_id_from_file_name("WP07-x.md"), Some("WP07"));
        assert_eq!(work_package_id_from_file_name("WP7-x.md"), None);
        for good in ["T001", "T12", "T012a", "T007-chain", "T001A"] {
            assert!(is_subtask_id(good), "{good}");
        }
        for bad in ["", "T", "001", "t001", "T001 x", "T001-", "Tx"] {
            assert!(!is_subtask_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_new_file_reads_back_as_written() -> Result<(), FrontMatterError> {
        let new = NewWorkPackage {
            work_package_id: "WP03".to_owned(),
            title: "Complete: and delete \"tasks\"".to_owned(),
            dependencies: vec!["WP01".to_owned(), "WP02".to_owned()],
            requirement_refs: vec!["FR-001".to_owned()],
            subtasks: vec!["T005".to_owned()],
            execution_mode: None,
            owned_files: vec!["src/**".to_owned(), "**/*.md".to_owned(), "true".to_owned()],
            create_intent: vec!["src/new.py".to_owned()],
            target_branch: "feature/x".to_owned(),
        };
        assert_eq!(new.file_name(), "WP03-complete-and-delete-tasks.md");
        let text = new.render();
        let split = split_front_matter(&text).expect("front matter");
        let front = FrontMatter::parse(split.yaml)?;
        assert_eq!(front.work_package_id.as_deref(), Some("WP03"));
        assert_eq!(front.title.as_deref(), Some(new.title.as_str()));
        assert_eq!(front.dependencies, new.dependencies);
        assert_eq!(front.subtasks, new.subtasks);
        assert_eq!(front.owned_files(), new.owned_files.as_slice());
        assert_eq!(front.create_intent, new.create_intent);
        assert_eq!(front.authoritative_surface.as_deref(), Some("src/"));
        assert_eq!(front.mode(), Ok(ExecutionMode::CodeChange));
        assert!(
            text.contains("\nowned_files:\n- src/**\n- \"**/*.md\"\n- \"true\"\n"),
            "{text}"
        );
        assert!(split.body.starts_with("\n# Work Package Prompt: WP03"));
        Ok(())
    }

    #[test]
    fn the_line_scanner_reads_spec_kittys_block_style_and_defers_the_rest() {
        let typical = "work_package_id: WP02\ntitle: Add and list\ndependencies:\n- WP01\n\
                       requirement_refs:\n- FR-001\nhistory:\n- at: '2026-11-21T22:30:00Z'\n  \
                       actor: system\nbranch_strategy: Planning artifacts, long text\n";
        let quick = quick_summary(typical).expect("the scanner reads it");
        assert_eq!(quick.work_package_id.as_deref(), Some("WP02"));
        assert_eq!(quick.title.as_deref(), Some("Add and list"));
        assert_eq!(quick.dependencies, ["WP01"]);
        assert_eq!(
            quick_summary("dependencies: [WP01, 'WP02']\n").map(|s| s.dependencies),
            Some(vec!["WP01".to_owned(), "WP02".to_owned()])
        );
        for deferred in [
            "title: \"a \\\"quoted\\\" title\"\n",
            "title: yes\n",
            "title: 12\n",
            "title: x\n  continued\n",
            "title: |\n  block\n",
            "dependencies: *deps\n",
            "title: a\ntitle: b\n",
            "---\ntitle: a\n",
            "\"title\": a\n",
            "dependencies:\n  - id: WP01\n",
            // A character YAML forbids (found by the `front_matter` fuzz target).
            "title: \"a\u{1c}b\"\n",
            "dependencies: ['WP\u{7f}01']\n",
        ] {
            assert_eq!(quick_summary(deferred), None, "{deferred:?}");
        }
        for text in [typical, "title: x\n  continued\n", "dependencies: \"[]\"\n"] {
            let front = FrontMatter::parse(text).expect("valid");
            assert_eq!(
                summarize_front_matter(text),
                Ok(WorkPackageSummary::from(&front))
            );
        }
    }

    /// Returns the text with its `requirement_refs` set, or panics with the error.
    fn with_refs(text: &str, refs: &[&str]) -> String {
        let refs: Vec<String> = refs.iter().map(|item| (*item).to_owned()).collect();
        match set_requirement_refs(text, &refs) {
            Ok(edited) => edited,
            Err(error) => panic!("{error}: {text:?}"),
        }
    }

    #[test]
    fn requirement_refs_are_rewritten_in_place() {
        // The peer run's layout: a block list at column 0 among other keys.
        let peer = "---\nwork_package_id: WP01\ntitle: Storage layer\ndependencies: []\n\
                    requirement_refs:\n- C-001\n- NFR-001\nplanning_base_branch: feature/x\n\
                    history:\n- at: '2026-11-21T22:30:00Z'\n  actor: system\n---\n\n# Body\n";
        let peer_added = peer.replace("- C-001\n- NFR-001\n", "- C-001\n- FR-001\n- NFR-001\n");
        let indented =
            "---\ntitle: x\nrequirement_refs:\n  - FR-001\n\nowned_files:\n  - a\n---\nbody";
        let indented_added = indented.replace("  - FR-001\n", "  - FR-001\n  - FR-002\n");
        let empty = "---\ntitle: x\nrequirement_refs: []\nsubtasks: []\n---\n";
        let filled = "---\ntitle: x\nrequirement_refs:\n- FR-001\nsubtasks: []\n---\n";
        let crlf = "\u{feff}---\r\ntitle: x\r\nrequirement_refs:\r\n- FR-001\r\n---\r\nbody\r\n";
        let crlf_added = crlf.replace("- FR-001\r\n", "- FR-001\r\n- FR-002\r\n");
        // (what, before, refs, after)
        let cases: [(&str, &str, &[&str], &str); 9] = [
            (
                "only the field's lines change",
                peer,
                &["C-001", "FR-001", "NFR-001"],
                &peer_added,
            ),
            (
                "the same refs give the same bytes",
                peer,
                &["C-001", "NFR-001"],
                peer,
            ),
            (
                "items keep their indentation",
                indented,
                &["FR-001", "FR-002"],
                &indented_added,
            ),
            (
                "a flow list stays a flow list",
                "---\nrequirement_refs: [FR-009, FR-010]\ntitle: x\n---\n",
                &["FR-001"],
                "---\nrequirement_refs: [FR-001]\ntitle: x\n---\n",
            ),
            ("`[]` becomes a block list", empty, &["FR-001"], filled),
            ("clearing writes `[]`", filled, &[], empty),
            (
                "a multi-line flow list is replaced whole",
                "---\nrequirement_refs: [FR-001,\n  FR-002]\ntitle: x\n---\n",
                &["FR-003"],
                "---\nrequirement_refs: [FR-003]\ntitle: x\n---\n",
            ),
            (
                "an absent field is added at the end",
                "---\ntitle: x\n---\nbody\n",
                &["FR-001"],
                "---\ntitle: x\nrequirement_refs:\n- FR-001\n---\nbody\n",
            ),
            (
                "CRLF and a byte-order mark stay",
                crlf,
                &["FR-001", "FR-002"],
                &crlf_added,
            ),
        ];
        for (what, before, refs, after) in cases {
            assert_eq!(with_refs(before, refs), after, "{what}");
        }
    }

    #[test]
    fn requirement_refs_are_not_rewritten_when_unsafe() {
        let refs = vec!["FR-001".to_owned()];
        assert_eq!(
            set_requirement_refs("no front matter\n", &refs),
            Err(FrontMatterEditError::Missing)
        );
        assert!(matches!(
            set_requirement_refs("---\ntitle: [\n---\n", &refs),
            Err(FrontMatterEditError::Invalid(_))
        ));
        assert!(matches!(
            set_requirement_refs("---\n\"requirement_refs\": []\n---\n", &refs),
            Err(FrontMatterEditError::Unsupported { .. })
        ));
        // A comment between the key and its items would leave items behind.
        assert!(matches!(
            set_requirement_refs("---\nrequirement_refs:\n# note\n- FR-002\n---\n", &refs),
            Err(FrontMatterEditError::Unsupported { .. })
        ));
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Storage layer"), "storage-layer");
        assert_eq!(slugify("  E2E tests!! "), "e2e-tests");
        assert_eq!(slugify("ünïcode"), "n-code");
        assert_eq!(slugify(&"word ".repeat(30)).len(), 59);
    }
}
