//! The project's Spec Kitty settings, `.kittify/config.yaml` at the primary checkout's root, as
//! Spec Kitty reads the ones missionctl honours.

use std::path::{Path, PathBuf};

use missionctl_core::text::pyjson::is_truthy;
use serde_json::Value;

use crate::fs_util::PathError;
use crate::repo::containment::Containment;

/// The settings file, relative to the primary checkout's root.
pub const CONFIG_FILE: &str = ".kittify/config.yaml";

/// The parsed `.kittify/config.yaml` (empty when there is none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectConfig {
    root: Value,
}

/// Why `.kittify/config.yaml` cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectConfigError {
    /// It is not YAML, or its top level is not a mapping.
    #[error("Invalid YAML in {}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// It cannot be read.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl ProjectConfigError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ProjectConfigError::Invalid { .. } => "PROJECT_CONFIG_INVALID",
            ProjectConfigError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        format!("Fix `{CONFIG_FILE}`: its top level must be a YAML mapping")
    }
}

impl ProjectConfig {
    /// Reads `.kittify/config.yaml` under `primary_root`; a missing file is an empty
    /// configuration (a symbolic link on the way is refused).
    pub fn read(
        containment: &Containment,
        primary_root: &Path,
    ) -> Result<ProjectConfig, ProjectConfigError> {
        let path = primary_root.join(CONFIG_FILE);
        let Some(bytes) = containment.read(&path)? else {
            return Ok(ProjectConfig::default());
        };
        let invalid = |message: String| ProjectConfigError::Invalid {
            path: path.clone(),
            message,
        };
        let text = String::from_utf8(bytes).map_err(|error| invalid(error.to_string()))?;
        let root: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_saphyr::from_str(&text).map_err(|error| invalid(error.to_string()))?
        };
        match root {
            Value::Null => Ok(ProjectConfig::default()),
            Value::Object(_) => Ok(ProjectConfig { root }),
            other => Err(invalid(format!(
                "expected a YAML mapping at the top level, got {}",
                match other {
                    Value::Array(_) => "list",
                    Value::String(_) => "str",
                    Value::Bool(_) => "bool",
                    _ => "number",
                }
            ))),
        }
    }

    /// Returns `agents.auto_commit` (or a top-level `auto_commit`) when it is a boolean, else
    /// `true`, as Spec Kitty's `get_auto_commit_default`.
    pub fn auto_commit(&self) -> bool {
        let agents = ["agents", "tools"]
            .iter()
            .filter_map(|key| self.root.get(key))
            .find(|value| is_truthy(value));
        agents
            .and_then(|agents| agents.get("auto_commit"))
            .filter(|value| !value.is_null())
            .or_else(|| self.root.get("auto_commit"))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// Returns `protection.protected_branches` as Spec Kitty's protection policy reads it: the
    /// explicit list (each item as Python's `str()` gives it; `[]` for none), `None` when the
    /// default applies (no `protection:` mapping, the key absent or `null`), or why the value
    /// is refused (not a list).
    pub fn protected_branches(&self) -> Result<Option<Vec<String>>, String> {
        let Some(Value::Object(protection)) = self.root.get("protection") else {
            return Ok(None);
        };
        match protection.get("protected_branches") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.iter().map(python_str).collect())),
            Some(other) => Err(format!(
                "protection.protected_branches must be a list, not {}",
                match other {
                    Value::Bool(_) => "a boolean",
                    Value::Number(_) => "a number",
                    Value::String(_) => "a string",
                    _ => "a mapping",
                }
            )),
        }
    }

    /// Returns `merge.strategy` as written (Python's `str()` of a scalar), `None` when there is
    /// no `merge` mapping or no strategy in it; the caller checks the value.
    pub fn merge_strategy(&self) -> Option<String> {
        let strategy = self.root.get("merge")?.as_object()?.get("strategy")?;
        match strategy {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            other => Some(python_str(other)),
        }
    }

    /// Returns `review.stall_threshold_minutes` as Python's `int()` reads it, or 30 when it is
    /// absent or unreadable.
    pub fn review_stall_threshold_minutes(&self) -> i64 {
        const DEFAULT: i64 = 30;
        let Some(review) = self.root.get("review") else {
            return DEFAULT;
        };
        if !review.is_object() {
            return DEFAULT;
        }
        match review.get("stall_threshold_minutes") {
            None => DEFAULT,
            Some(Value::Bool(flag)) => i64::from(*flag),
            Some(Value::Number(number)) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|float| float.trunc() as i64))
                .unwrap_or(DEFAULT),
            Some(Value::String(text)) => text.trim().parse().unwrap_or(DEFAULT),
            Some(_) => DEFAULT,
        }
    }
}

/// Returns the text Python's `str()` gives a YAML scalar (`True`, `None`, `1`).
fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config file's text and what `protected_branches` makes of it.
    type ProtectionCase = (
        &'static str,
        Result<Option<Vec<&'static str>>, &'static str>,
    );

    #[test]
    fn protected_branches_read_as_spec_kittys_protection_policy() {
        let cases: [ProtectionCase; 9] = [
            ("vcs:\n  type: git\n", Ok(None)),
            ("protection: 3\n", Ok(None)),
            ("protection:\n  other: 1\n", Ok(None)),
            ("protection:\n  protected_branches: null\n", Ok(None)),
            ("protection:\n  protected_branches: []\n", Ok(Some(vec![]))),
            (
                "protection:\n  protected_branches: [release, main]\n",
                Ok(Some(vec!["release", "main"])),
            ),
            (
                "protection:\n  protected_branches:\n  - 1\n  - true\n",
                Ok(Some(vec!["1", "True"])),
            ),
            (
                "protection:\n  protected_branches: main\n",
                Err("protection.protected_branches must be a list, not a string"),
            ),
            (
                "protection:\n  protected_branches: {a: 1}\n",
                Err("protection.protected_branches must be a list, not a mapping"),
            ),
        ];
        for (text, expected) in cases {
            let root: Value = serde_saphyr::from_str(text).unwrap_or_default();
            let got = ProjectConfig { root }.protected_branches();
            let got = got
                .as_ref()
                .map(|list| {
                    list.as_ref()
                        .map(|list| list.iter().map(String::as_str).collect::<Vec<_>>())
                })
                .map_err(String::as_str);
            assert_eq!(got, expected, "{text:?}");
        }
    }

    fn config(text: &str) -> Result<ProjectConfig, ProjectConfigError> {
        let dir = tempfile::tempdir().map_err(|source| PathError {
            action: "Cannot create",
            path: PathBuf::from("tmp"),
            source,
        })?;
        let root = dir.path().canonicalize().map_err(|source| PathError {
            action: "Cannot resolve",
            path: dir.path().to_path_buf(),
            source,
        })?;
        write_config(&root, text)?;
        ProjectConfig::read(&Containment::new(&root, &root.join(".git")), &root)
    }

    fn write_config(root: &Path, text: &str) -> Result<(), ProjectConfigError> {
        std::fs::create_dir_all(root.join(".kittify")).map_err(|source| PathError {
            action: "Cannot create",
            path: root.to_path_buf(),
            source,
        })?;
        std::fs::write(root.join(CONFIG_FILE), text).map_err(|source| PathError {
            action: "Cannot write",
            path: root.to_path_buf(),
            source,
        })?;
        Ok(())
    }

    #[test]
    fn settings_read_as_spec_kitty_reads_them() -> Result<(), ProjectConfigError> {
        let empty = ProjectConfig::default();
        assert!(empty.auto_commit());
        assert_eq!(empty.review_stall_threshold_minutes(), 30);
        let set =
            config("agents:\n  auto_commit: false\nreview:\n  stall_threshold_minutes: '45'\n")?;
        assert!(!set.auto_commit());
        assert_eq!(set.review_stall_threshold_minutes(), 45);
        let odd = config("auto_commit: false\nreview: 5\n")?;
        assert!(!odd.auto_commit());
        assert_eq!(odd.review_stall_threshold_minutes(), 30);
        let not_bool = config("agents:\n  auto_commit: 'no'\n")?;
        assert!(not_bool.auto_commit(), "only a YAML boolean counts");
        assert!(config("- a\n- b\n").is_err());
        assert!(config("a: [\n").is_err());
        Ok(())
    }
}
