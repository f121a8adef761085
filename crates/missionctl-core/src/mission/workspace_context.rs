//! The per-workspace context file of a lane worktree, `.kittify/workspaces/<name>.json`, read
//! and written byte for byte as Spec Kitty writes it.
//!
//! `implement` writes one file per lane (named like the lane's worktree directory,
//! `<mission-dir>-<lane_id>`) when it creates the lane, and refreshes `wp_id`, `current_wp` and
//! `dependencies` when a later work package of the lane starts. It tells agents and tools
//! which work package a shared lane worktree is working on, what the lane was cut from, and the
//! per-lane test environment. Spec Kitty gitignores the directory: the file is local state,
//! never committed.
//!
//! The bytes are `json.dumps(context, indent=2)` plus a newline: keys in the declared order,
//! every non-ASCII character escaped. Keys missionctl does not know are kept after the known
//! ones.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::planning::lanes_manifest::lane_worktree_dir_name;
use crate::text::pyjson::{ObjectWriter, Style};

/// The directory of the context files, relative to the primary checkout.
pub const WORKSPACES_DIR: &str = ".kittify/workspaces";

/// The `created_by` of a lane context written by `implement` (Spec Kitty's value).
pub const CREATED_BY_IMPLEMENT: &str = "implement-command-lane";

/// The `vcs_backend` of every context missionctl writes.
pub const VCS_BACKEND_GIT: &str = "git";

/// The variable of the per-lane test database name in `lane_test_env`.
pub const TEST_DB_NAME_VARIABLE: &str = "SPEC_KITTY_TEST_DB_NAME";

/// The keys of a context file, in the order they are written.
pub const KEYS: [&str; 14] = [
    "wp_id",
    "mission_slug",
    "worktree_path",
    "branch_name",
    "base_branch",
    "base_commit",
    "dependencies",
    "created_at",
    "created_by",
    "vcs_backend",
    "lane_id",
    "lane_wp_ids",
    "current_wp",
    "lane_test_env",
];

/// The runtime context of one lane workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceContext {
    /// The work package the lane last started, e.g. `WP02`.
    pub wp_id: String,
    /// The mission directory name.
    pub mission_slug: String,
    /// The worktree, relative to the primary checkout (`.worktrees/<mission-dir>-<lane_id>`).
    pub worktree_path: String,
    /// The lane branch.
    pub branch_name: String,
    /// The ref the lane branch was cut from: an explicit `--base`, the coordination branch or
    /// the mission branch.
    pub base_branch: String,
    /// The commit `base_branch` pointed at when the lane was cut; `None` when unknown.
    pub base_commit: Option<String>,
    /// The declared dependencies of `wp_id`.
    pub dependencies: Vec<String>,
    /// When the lane was cut (ISO 8601, UTC).
    pub created_at: String,
    /// What created it ([`CREATED_BY_IMPLEMENT`]).
    pub created_by: String,
    /// `git`.
    pub vcs_backend: String,
    /// The lane, e.g. `lane-a`.
    pub lane_id: String,
    /// Every work package of the lane, in execution order.
    pub lane_wp_ids: Vec<String>,
    /// The work package currently active in the lane.
    pub current_wp: Option<String>,
    /// Environment variables a lane's test runner merges in; `None` when absent.
    pub lane_test_env: Option<BTreeMap<String, String>>,
    /// Keys missionctl does not know, kept as read.
    #[serde(skip)]
    pub extra: Map<String, Value>,
}

/// Why a context file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidWorkspaceContext(pub String);

/// Returns the file name of a lane's context: `<mission-dir>-<lane_id>.json`.
pub fn context_file_name(mission_dir: &str, lane_id: &str) -> String {
    format!("{}.json", lane_worktree_dir_name(mission_dir, lane_id))
}

/// Returns a lane's test database name, `test_<mission>_<lane>`, each part reduced to
/// `[A-Za-z0-9_]` runs (any other run becomes one `_`, and `_` are trimmed at both ends);
/// `None` when a part is empty after that.
pub fn lane_test_db_name(mission_slug: &str, lane_id: &str) -> Option<String> {
    let mission = db_safe(mission_slug);
    let lane = db_safe(lane_id);
    (!mission.is_empty() && !lane.is_empty()).then(|| format!("test_{mission}_{lane}"))
}

/// Returns the per-lane test environment: `{SPEC_KITTY_TEST_DB_NAME: <name>}`, or an empty
/// map when no name can be made.
pub fn lane_test_env(mission_slug: &str, lane_id: &str) -> BTreeMap<String, String> {
    lane_test_db_name(mission_slug, lane_id)
        .map(|name| BTreeMap::from([(TEST_DB_NAME_VARIABLE.to_owned(), name)]))
        .unwrap_or_default()
}

/// Python's `re.sub(r"\W+", "_", value, flags=re.ASCII).strip("_")`.
fn db_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_run = false;
    for ch in value.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            out.push(ch);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out.trim_matches('_').to_owned()
}

impl WorkspaceContext {
    /// Parses a context file. Like Spec Kitty, a file without a `lane_id` or a `lane_wp_ids`
    /// list is invalid, and `base_commit: "unknown"` reads as `None`.
    pub fn parse(bytes: &[u8]) -> Result<WorkspaceContext, InvalidWorkspaceContext> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| InvalidWorkspaceContext(format!("not JSON: {error}")))?;
        let Value::Object(mut map) = value else {
            return Err(InvalidWorkspaceContext("not a JSON object".to_owned()));
        };
        let mut take = |key: &str| map.remove(key).unwrap_or(Value::Null);
        let wp_id = string(take("wp_id"), "wp_id")?;
        let mission_slug = string(take("mission_slug"), "mission_slug")?;
        let worktree_path = string(take("worktree_path"), "worktree_path")?;
        let branch_name = string(take("branch_name"), "branch_name")?;
        let base_branch = string(take("base_branch"), "base_branch")?;
        let base_commit =
            optional_string(take("base_commit"), "base_commit")?.filter(|sha| sha != "unknown");
        let dependencies = strings(take("dependencies"), "dependencies")?;
        let created_at = string(take("created_at"), "created_at")?;
        let created_by = string(take("created_by"), "created_by")?;
        let vcs_backend = string(take("vcs_backend"), "vcs_backend")?;
        let lane_id = optional_string(take("lane_id"), "lane_id")?
            .filter(|lane| !lane.is_empty())
            .ok_or_else(|| InvalidWorkspaceContext("missing required lane_id".to_owned()))?;
        let lane_wp_ids = match take("lane_wp_ids") {
            Value::Null => {
                return Err(InvalidWorkspaceContext(
                    "missing required lane_wp_ids".to_owned(),
                ));
            }
            value => strings(value, "lane_wp_ids")?,
        };
        let current_wp = optional_string(take("current_wp"), "current_wp")?;
        let lane_test_env = match take("lane_test_env") {
            Value::Null => None,
            Value::Object(env) => Some(
                env.into_iter()
                    .map(|(key, value)| Ok((key, string(value, "lane_test_env")?)))
                    .collect::<Result<BTreeMap<_, _>, InvalidWorkspaceContext>>()?,
            ),
            _ => {
                return Err(InvalidWorkspaceContext(
                    "lane_test_env is not an object".to_owned(),
                ));
            }
        };
        Ok(WorkspaceContext {
            wp_id,
            mission_slug,
            worktree_path,
            branch_name,
            base_branch,
            base_commit,
            dependencies,
            created_at,
            created_by,
            vcs_backend,
            lane_id,
            lane_wp_ids,
            current_wp,
            lane_test_env,
            extra: map,
        })
    }

    /// Returns the file's bytes: `json.dumps(context, indent=2)` and a newline.
    pub fn to_json(&self) -> String {
        let mut text = String::with_capacity(768);
        let mut object = ObjectWriter::new(&mut text, Style::IndentedAscii, 0);
        let depth = object.inner_depth();
        let strings =
            |values: &[String]| Value::Array(values.iter().cloned().map(Value::String).collect());
        let optional = |value: &Option<String>| value.clone().map_or(Value::Null, Value::String);
        object.string(KEYS[0], &self.wp_id);
        object.string(KEYS[1], &self.mission_slug);
        object.string(KEYS[2], &self.worktree_path);
        object.string(KEYS[3], &self.branch_name);
        object.string(KEYS[4], &self.base_branch);
        object.value(KEYS[5], &optional(&self.base_commit));
        object.value(KEYS[6], &strings(&self.dependencies));
        object.string(KEYS[7], &self.created_at);
        object.string(KEYS[8], &self.created_by);
        object.string(KEYS[9], &self.vcs_backend);
        object.string(KEYS[10], &self.lane_id);
        object.value(KEYS[11], &strings(&self.lane_wp_ids));
        object.value(KEYS[12], &optional(&self.current_wp));
        // `lane_test_env` is written in its insertion order by Python; the map is sorted,
        // which is the same for the one key Spec Kitty writes.
        let out = object.key(KEYS[13]);
        match &self.lane_test_env {
            None => out.push_str("null"),
            Some(env) => {
                let mut inner = ObjectWriter::new(out, Style::IndentedAscii, depth);
                for (key, value) in env {
                    inner.string(key, value);
                }
                inner.finish();
            }
        }
        for (key, value) in &self.extra {
            object.value(key, value);
        }
        object.finish();
        text.push('\n');
        text
    }
}

fn string(value: Value, key: &str) -> Result<String, InvalidWorkspaceContext> {
    match value {
        Value::String(text) => Ok(text),
        _ => Err(InvalidWorkspaceContext(format!("{key} is not a string"))),
    }
}

fn optional_string(value: Value, key: &str) -> Result<Option<String>, InvalidWorkspaceContext> {
    match value {
        Value::Null => Ok(None),
        other => string(other, key).map(Some),
    }
}

fn strings(value: Value, key: &str) -> Result<Vec<String>, InvalidWorkspaceContext> {
    match value {
        Value::Array(items) => items.into_iter().map(|item| string(item, key)).collect(),
        _ => Err(InvalidWorkspaceContext(format!("{key} is not a list"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WorkspaceContext {
        WorkspaceContext {
            wp_id: "WP02".to_owned(),
            mission_slug: "task-list-01M803MD".to_owned(),
            worktree_path: ".worktrees/task-list-01M803MD-lane-a".to_owned(),
            branch_name: "kitty/mission-task-list-01M803MD-lane-a".to_owned(),
            base_branch: "kitty/mission-task-list-01M803MD".to_owned(),
            base_commit: Some("abc1234".to_owned()),
            dependencies: vec!["WP01".to_owned()],
            created_at: "2026-04-26T12:00:00+00:00".to_owned(),
            created_by: CREATED_BY_IMPLEMENT.to_owned(),
            vcs_backend: VCS_BACKEND_GIT.to_owned(),
            lane_id: "lane-a".to_owned(),
            lane_wp_ids: vec!["WP01".to_owned(), "WP02".to_owned()],
            current_wp: Some("WP02".to_owned()),
            lane_test_env: Some(lane_test_env("task-list-01M803MD", "lane-a")),
            extra: Map::new(),
        }
    }

    #[test]
    fn writes_python_indent_two_in_declared_order() {
        // json.dumps(asdict(context), indent=2) + "\n" of the same values.
        let expected = r#"{
  "wp_id": "WP02",
  "mission_slug": "task-list-01M803MD",
  "worktree_path": ".worktrees/task-list-01M803MD-lane-a",
  "branch_name": "kitty/mission-task-list-01M803MD-lane-a",
  "base_branch": "kitty/mission-task-list-01M803MD",
  "base_commit": "abc1234",
  "dependencies": [
    "WP01"
  ],
  "created_at": "2026-04-26T12:00:00+00:00",
  "created_by": "implement-command-lane",
  "vcs_backend": "git",
  "lane_id": "lane-a",
  "lane_wp_ids": [
    "WP01",
    "WP02"
  ],
  "current_wp": "WP02",
  "lane_test_env": {
    "SPEC_KITTY_TEST_DB_NAME": "test_task_list_01M803MD_lane_a"
  }
}
"#;
        assert_eq!(sample().to_json(), expected);
    }

    #[test]
    fn empty_lists_nulls_and_unknown_keys_round_trip() -> Result<(), InvalidWorkspaceContext> {
        let mut context = sample();
        context.dependencies.clear();
        context.base_commit = None;
        context.current_wp = None;
        context.lane_test_env = None;
        context
            .extra
            .insert("note".to_owned(), Value::String("caf\u{e9}".to_owned()));
        let text = context.to_json();
        assert!(text.contains("\"dependencies\": [],\n"), "{text}");
        assert!(text.contains("\"base_commit\": null,\n"), "{text}");
        assert!(
            text.ends_with("\"lane_test_env\": null,\n  \"note\": \"caf\\u00e9\"\n}\n"),
            "{text}"
        );
        assert_eq!(WorkspaceContext::parse(text.as_bytes())?, context);
        Ok(())
    }

    #[test]
    fn reads_like_spec_kitty() {
        let mut value = serde_json::to_value(sample()).unwrap_or_default();
        value["base_commit"] = Value::String("unknown".to_owned());
        let parsed = WorkspaceContext::parse(value.to_string().as_bytes());
        assert_eq!(parsed.map(|context| context.base_commit), Ok(None));
        value["lane_id"] = Value::String(String::new());
        assert_eq!(
            WorkspaceContext::parse(value.to_string().as_bytes()),
            Err(InvalidWorkspaceContext(
                "missing required lane_id".to_owned()
            ))
        );
        assert!(WorkspaceContext::parse(b"[1]").is_err());
        assert!(WorkspaceContext::parse(b"{not json").is_err());
    }

    #[test]
    fn test_database_names_match_spec_kitty() {
        // The examples of Spec Kitty's `lane_test_db_name` docstring.
        assert_eq!(
            lane_test_db_name("083-my-feature", "lane-a").as_deref(),
            Some("test_083_my_feature_lane_a")
        );
        assert_eq!(
            lane_test_db_name("flag.suite", "lane-planning").as_deref(),
            Some("test_flag_suite_lane_planning")
        );
        assert_eq!(lane_test_db_name("--", "lane-a"), None);
        assert!(lane_test_env("", "lane-a").is_empty());
        assert_eq!(
            context_file_name("task-list-01M803MD", "lane-a"),
            "task-list-01M803MD-lane-a.json"
        );
    }
}
