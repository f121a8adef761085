//! A work-package file as Spec Kitty's `finalize-tasks` reads it: split into front matter and
//! body by its `FrontmatterManager`, then validated by its `WPMetadata` model.
//!
//! The model forbids unknown keys and checks each known key's type the way pydantic's lax
//! mode does (a string field takes only a string, a list field only a list), with the legacy
//! coercions Spec Kitty applies first (`dependencies: "WP01, WP02"`, a scalar
//! `requirement_refs`). A file that fails is skipped or reported exactly where Spec Kitty
//! skips or reports it; the message follows pydantic's layout.

use serde_json::{Map, Value};

use crate::planning::work_package::parse_front_matter_map;
use crate::text::pytext;

/// A work-package file split as Spec Kitty's `FrontmatterManager.read` splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitWorkPackage<'a> {
    /// The YAML text between the fences.
    pub yaml: String,
    /// The body after the closing fence.
    pub body: String,
    /// The whole text, as read (BOM removed, universal newlines).
    pub text: &'a str,
}

/// Splits a work-package file's text (already decoded, BOM removed, universal newlines):
/// it must start with `---`; the front matter ends at the next line that is `---` once
/// stripped. The message is Spec Kitty's (`File has no frontmatter: <path>`, …).
pub fn split_work_package<'a>(
    text: &'a str,
    path_label: &str,
) -> Result<SplitWorkPackage<'a>, String> {
    if !text.starts_with("---") {
        return Err(format!("File has no frontmatter: {path_label}"));
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(closing) = lines
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, line)| pytext::strip(line) == "---")
        .map(|(index, _)| index)
    else {
        return Err(format!(
            "Malformed frontmatter (no closing ---): {path_label}"
        ));
    };
    Ok(SplitWorkPackage {
        yaml: lines[1..closing].join("\n"),
        body: lines[closing + 1..].join("\n"),
        text,
    })
}

/// The front-matter fields `finalize-tasks` reads, validated as `WPMetadata` validates them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WpMetadata {
    /// `work_package_id` (`WP` and two or more digits).
    pub work_package_id: String,
    /// `title`.
    pub title: Option<String>,
    /// `dependencies`.
    pub dependencies: Vec<String>,
    /// `planning_base_branch`.
    pub planning_base_branch: Option<String>,
    /// `merge_target_branch`.
    pub merge_target_branch: Option<String>,
    /// `branch_strategy`.
    pub branch_strategy: Option<String>,
    /// `requirement_refs`.
    pub requirement_refs: Vec<String>,
    /// `execution_mode`, as written.
    pub execution_mode: Option<String>,
    /// `owned_files`.
    pub owned_files: Vec<String>,
    /// `create_intent`.
    pub create_intent: Vec<String>,
    /// `authoritative_surface`.
    pub authoritative_surface: Option<String>,
    /// `scope` (`codebase-wide` exempts a work package from the overlap checks).
    pub scope: Option<String>,
    /// `agent_profile`.
    pub agent_profile: Option<String>,
}

/// The type of a `WPMetadata` field, as far as validation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    /// `str | None`.
    OptionalString,
    /// `list[str]`.
    StringList,
    /// `list[Any]`.
    AnyList,
    /// `Any`.
    Any,
    /// `int | None`, coerced with `int(value)` first.
    OptionalInt,
    /// `Lane | None`.
    Lane,
    /// `str | None`, coerced with `str(value)` first.
    CoercedString,
}

/// Every field of `WPMetadata`, in declaration order.
const FIELDS: &[(&str, FieldType)] = &[
    ("work_package_id", FieldType::OptionalString),
    ("title", FieldType::OptionalString),
    ("dependencies", FieldType::StringList),
    ("base_branch", FieldType::OptionalString),
    ("base_commit", FieldType::OptionalString),
    ("created_at", FieldType::OptionalString),
    ("planning_base_branch", FieldType::OptionalString),
    ("merge_target_branch", FieldType::OptionalString),
    ("branch_strategy", FieldType::OptionalString),
    ("requirement_refs", FieldType::StringList),
    ("tracker_refs", FieldType::StringList),
    ("priority", FieldType::OptionalString),
    ("execution_mode", FieldType::OptionalString),
    ("owned_files", FieldType::StringList),
    ("create_intent", FieldType::StringList),
    ("authoritative_surface", FieldType::OptionalString),
    ("scope", FieldType::OptionalString),
    ("task_type", FieldType::OptionalString),
    ("subtasks", FieldType::AnyList),
    ("phase", FieldType::CoercedString),
    ("phases", FieldType::OptionalString),
    ("assignee", FieldType::OptionalString),
    ("agent", FieldType::Any),
    ("model", FieldType::OptionalString),
    ("agent_profile", FieldType::OptionalString),
    ("role", FieldType::OptionalString),
    ("shell_pid", FieldType::OptionalInt),
    ("shell_pid_created_at", FieldType::OptionalString),
    ("history", FieldType::AnyList),
    ("lane", FieldType::Lane),
    ("feature_slug", FieldType::OptionalString),
    ("activity_log", FieldType::OptionalString),
    ("review_status", FieldType::OptionalString),
    ("reviewed_by", FieldType::OptionalString),
    ("approved_by", FieldType::OptionalString),
    ("reviewer", FieldType::Any),
    ("reviewer_agent", FieldType::OptionalString),
    ("reviewer_shell_pid", FieldType::OptionalString),
    ("review_feedback", FieldType::OptionalString),
    ("review_feedback_file", FieldType::OptionalString),
    ("subtitle", FieldType::OptionalString),
    ("description", FieldType::OptionalString),
    ("estimated_duration", FieldType::OptionalString),
    ("tags", FieldType::StringList),
    ("mission_id", FieldType::OptionalString),
    ("mission_number", FieldType::OptionalString),
    ("mission_slug", FieldType::OptionalString),
    ("status", FieldType::OptionalString),
    ("wp_code", FieldType::OptionalString),
    ("work_package_title", FieldType::OptionalString),
];

/// The lanes a work-package file may name (`doing` is read as `in_progress`).
const AUTHORABLE_LANES: [&str; 9] = [
    "planned",
    "claimed",
    "in_progress",
    "for_review",
    "in_review",
    "approved",
    "done",
    "blocked",
    "canceled",
];

/// One pydantic error: location, message, type, input.
struct Problem {
    location: String,
    message: String,
    kind: &'static str,
    input: String,
    input_type: &'static str,
}

fn problem(location: String, message: String, kind: &'static str, value: &Value) -> Problem {
    Problem {
        location,
        message,
        kind,
        input: pytext::value_repr(value),
        input_type: pytext::type_name(value),
    }
}

/// Splits a legacy comma-separated string as the model's pre-validator does.
fn comma_list(text: &str) -> Value {
    Value::Array(
        text.split(',')
            .map(pytext::strip)
            .filter(|item| !item.is_empty())
            .map(|item| Value::String(item.to_owned()))
            .collect(),
    )
}

impl WpMetadata {
    /// Validates a parsed front matter as `WPMetadata.model_validate(data, strict=False)`.
    ///
    /// The error is pydantic's message (`1 validation error for WPMetadata\n…`).
    pub fn validate(mut data: Map<String, Value>) -> Result<WpMetadata, String> {
        // The model's "before" validator: legacy shapes.
        if !data.contains_key("title")
            && let Some(title) = data.get("work_package_title").cloned()
        {
            data.insert("title".to_owned(), title);
        }
        if let Some(Value::String(deps)) = data.get("dependencies") {
            let stripped = pytext::strip(deps);
            let list = if stripped == "[]" {
                Value::Array(Vec::new())
            } else {
                comma_list(stripped)
            };
            data.insert("dependencies".to_owned(), list);
        }
        for key in ["requirement_refs", "tracker_refs"] {
            if let Some(Value::String(text)) = data.get(key) {
                let list = comma_list(text);
                data.insert(key.to_owned(), list);
            }
        }

        let mut problems: Vec<Problem> = Vec::new();
        for (name, kind) in FIELDS {
            let Some(value) = data.get(*name) else {
                if *name == "work_package_id" {
                    problems.push(Problem {
                        location: (*name).to_owned(),
                        message: "Field required".to_owned(),
                        kind: "missing",
                        input: pytext::value_repr(&Value::Object(data.clone())),
                        input_type: "dict",
                    });
                }
                continue;
            };
            check_field(name, *kind, value, &mut problems);
        }
        for (key, value) in &data {
            if !FIELDS.iter().any(|(name, _)| name == key) {
                problems.push(problem(
                    key.clone(),
                    "Extra inputs are not permitted".to_owned(),
                    "extra_forbidden",
                    value,
                ));
            }
        }
        if !problems.is_empty() {
            return Err(render_problems(&problems));
        }
        let string = |key: &str| match data.get(key) {
            Some(Value::String(text)) => Some(text.clone()),
            _ => None,
        };
        let list = |key: &str| match data.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Ok(WpMetadata {
            work_package_id: string("work_package_id").unwrap_or_default(),
            title: string("title"),
            dependencies: list("dependencies"),
            planning_base_branch: string("planning_base_branch"),
            merge_target_branch: string("merge_target_branch"),
            branch_strategy: string("branch_strategy"),
            requirement_refs: list("requirement_refs"),
            execution_mode: string("execution_mode"),
            owned_files: list("owned_files"),
            create_intent: list("create_intent"),
            authoritative_surface: string("authoritative_surface"),
            scope: string("scope"),
            agent_profile: string("agent_profile"),
        })
    }

    /// Parses the front matter YAML of a split file and validates it; returns the model and
    /// the raw `requirement_refs` value as written. The error is the message Spec Kitty would
    /// show (`Invalid YAML in <path>: …` or pydantic's).
    pub fn read(yaml: &str, path_label: &str) -> Result<(WpMetadata, Option<Value>), String> {
        let mut map = parse_front_matter_map(yaml)
            .map_err(|error| format!("Invalid YAML in {path_label}: {}", error.message))?;
        let raw_refs = map.get("requirement_refs").cloned();
        map.entry("dependencies".to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        Ok((WpMetadata::validate(map)?, raw_refs))
    }

    /// Returns `display_title`: the stripped title, else the id.
    pub fn display_title(&self) -> String {
        self.title.as_deref().map_or_else(
            || self.work_package_id.clone(),
            |title| pytext::strip(title).to_owned(),
        )
    }
}

fn check_field(name: &str, kind: FieldType, value: &Value, problems: &mut Vec<Problem>) {
    let string_type = |problems: &mut Vec<Problem>, location: String, value: &Value| {
        problems.push(problem(
            location,
            "Input should be a valid string".to_owned(),
            "string_type",
            value,
        ));
    };
    match kind {
        FieldType::Any => {}
        FieldType::OptionalString => match value {
            Value::Null if name != "work_package_id" => {}
            Value::String(text) => check_string_rules(name, text, value, problems),
            other => string_type(problems, name.to_owned(), other),
        },
        FieldType::CoercedString => {}
        FieldType::StringList | FieldType::AnyList => match value {
            Value::Array(items) => {
                if kind == FieldType::StringList {
                    for (index, item) in items.iter().enumerate() {
                        if !item.is_string() {
                            string_type(problems, format!("{name}.{index}"), item);
                        }
                    }
                }
            }
            other => problems.push(problem(
                name.to_owned(),
                "Input should be a valid list".to_owned(),
                "list_type",
                other,
            )),
        },
        FieldType::OptionalInt => {
            let ok = match value {
                Value::Null | Value::Number(_) | Value::Bool(_) => true,
                Value::String(text) => {
                    text.is_empty() || pytext::strip(text).parse::<i64>().is_ok()
                }
                _ => false,
            };
            if !ok {
                problems.push(problem(
                    name.to_owned(),
                    format!(
                        "Value error, invalid literal for int() with base 10: {}",
                        pytext::value_repr(value)
                    ),
                    "value_error",
                    value,
                ));
            }
        }
        FieldType::Lane => {
            let text = match value {
                Value::Null => return,
                Value::String(text) if text.is_empty() => return,
                Value::String(text) => text.clone(),
                other => pytext::value_repr(other),
            };
            let canonical = if text == "doing" {
                "in_progress"
            } else {
                text.as_str()
            };
            if !AUTHORABLE_LANES.contains(&canonical) {
                problems.push(problem(
                    name.to_owned(),
                    format!(
                        "Value error, Invalid lane value: {}. Must be one of: {}, doing",
                        pytext::value_repr(value),
                        AUTHORABLE_LANES.join(", ")
                    ),
                    "value_error",
                    value,
                ));
            }
        }
    }
}

/// The field validators of `WPMetadata` on string values.
fn check_string_rules(name: &str, text: &str, value: &Value, problems: &mut Vec<Problem>) {
    let message = match name {
        "work_package_id" if !is_model_wp_id(text) => Some(format!(
            "Value error, Invalid work_package_id: {} (must match WP##)",
            pytext::repr(text)
        )),
        "title" if pytext::strip(text).is_empty() => {
            Some("Value error, title must not be empty".to_owned())
        }
        "base_commit"
            if text != "unknown"
                && !((7..=40).contains(&text.len())
                    && text
                        .bytes()
                        .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))) =>
        {
            Some(format!(
                "Value error, Invalid base_commit: {} (must be hex SHA)",
                pytext::repr(text)
            ))
        }
        _ => None,
    };
    if let Some(message) = message {
        problems.push(problem(name.to_owned(), message, "value_error", value));
    }
}

/// `re.match(r"^WP\d{2,}$", value)`: `WP`, two or more digits, optionally one final newline.
fn is_model_wp_id(text: &str) -> bool {
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.strip_prefix("WP").is_some_and(|digits| {
        digits.chars().count() >= 2 && digits.chars().all(|ch| ch.is_numeric())
    })
}

fn render_problems(problems: &[Problem]) -> String {
    let mut text = format!(
        "{} validation error{} for WPMetadata",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        text.push_str(&format!(
            "\n{}\n  {} [type={}, input_value={}, input_type={}]\n    For further information visit https://errors.pydantic.dev/2.14/v/{}",
            problem.location, problem.message, problem.kind, problem.input, problem.input_type, problem.kind
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(yaml: &str) -> Map<String, Value> {
        parse_front_matter_map(yaml).expect("valid YAML")
    }

    #[test]
    fn legacy_shapes_are_coerced() -> Result<(), String> {
        let meta = WpMetadata::validate(map(
            "work_package_id: WP01\ndependencies: 'WP02, WP03'\nrequirement_refs: FR-001, fr-2\n",
        ))?;
        assert_eq!(meta.dependencies, ["WP02", "WP03"]);
        assert_eq!(meta.requirement_refs, ["FR-001", "fr-2"]);
        Ok(())
    }

    /// Messages from pydantic 2.14 on the same input.
    #[test]
    fn errors_read_as_pydantics() {
        assert_eq!(
            WpMetadata::validate(map("work_package_id: WP01\nbogus: 1\n"))
                .err()
                .as_deref(),
            Some(
                "1 validation error for WPMetadata\nbogus\n  Extra inputs are not permitted [type=extra_forbidden, input_value=1, input_type=int]\n    For further information visit https://errors.pydantic.dev/2.14/v/extra_forbidden"
            )
        );
        assert_eq!(
            WpMetadata::validate(map("work_package_id: WP1\n"))
                .err()
                .as_deref(),
            Some(
                "1 validation error for WPMetadata\nwork_package_id\n  Value error, Invalid work_package_id: 'WP1' (must match WP##) [type=value_error, input_value='WP1', input_type=str]\n    For further information visit https://errors.pydantic.dev/2.14/v/value_error"
            )
        );
        assert_eq!(
            WpMetadata::validate(map("work_package_id: WP01\ndependencies: [1]\n"))
                .err()
                .as_deref(),
            Some(
                "1 validation error for WPMetadata\ndependencies.0\n  Input should be a valid string [type=string_type, input_value=1, input_type=int]\n    For further information visit https://errors.pydantic.dev/2.14/v/string_type"
            )
        );
    }

    #[test]
    fn split_is_frontmatter_managers() -> Result<(), String> {
        let split = split_work_package("---\ntitle: x\n  ---  \nbody\n", "f")?;
        assert_eq!(split.yaml, "title: x");
        assert_eq!(split.body, "body\n");
        assert!(split_work_package("no\n", "f").is_err());
        assert!(split_work_package("---\nx: 1\n", "f").is_err());
        Ok(())
    }
}
