//! The checks of `tasks finalize`, in Spec Kitty's order and with its answers: the same
//! gates as `spec-kitty agent mission finalize-tasks`, the same refusal (code, message and
//! fields) at the first gate a plan fails, and the same report when it passes.
//!
//! The gates, first to last (Spec Kitty 3.2.7, `mission_finalize.py`):
//!
//! 1. a `bulk_edit` mission has an `occurrence_map.yaml`;
//! 2. `meta.json` names the planning branch (`target_branch`), and a legacy PR-bound mission
//!    does not plan on a protected branch;
//! 3. `tasks/` and `spec.md` exist, and `wps.yaml` (when present) loads;
//! 4. without `wps.yaml`, every work-package file has a `tasks.md` section and every
//!    section a file;
//! 5. every dependency is a `WP##` id of the mission;
//! 6. every work package maps requirements, every ref is declared in `spec.md`, every
//!    functional requirement is mapped, and no "requirement" section holds bare-prose ids;
//! 7. front matter and `wps.yaml` agree on dependencies;
//! 8. the status surface can be read (a coordination mission whose branch is gone cannot);
//! 9. no active work package depends on a canceled one, and the rest has no cycle;
//! 10. each work package's `agent_profile` is activated by the charter;
//! 11. no `code_change` work package declares `owned_files: []`;
//! 12. no owned path is under `kitty-specs/` (a planning artifact confined to planning
//!     paths excepted);
//! 13. no two work packages that no dependency orders own overlapping paths, and each
//!     `authoritative_surface` prefixes one of its owned paths;
//! 14. every literal owned path exists in the repository (or is in `create_intent`).
//!
//! The work-package files are read in byte order of their names (Spec Kitty lists the
//! directory unsorted; its recorded answers were made on byte-sorted listings). Work
//! packages that declare no ownership get it inferred in memory, as Spec Kitty's bootstrap
//! does, and the report says which front-matter fields Spec Kitty would rewrite
//! (`would_modify`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::mission::meta::MissionId;
use crate::planning::lanes_manifest::{LaneWorkPackage, LanesInput, LanesManifest, compute_lanes};
use crate::planning::repo_glob::{
    RepoTree, glob_matches_any, is_glob_pattern, nearest_match_suggestion,
};
use crate::planning::requirement::{
    bare_prose_requirement_ids, declared_ids, discarded_success_criteria_warning,
    normalize_requirement_refs, raw_requirement_ref_tokens, undeclared_requirement_citations,
};
use crate::planning::task_plan::ownership::{
    OwnershipManifest, build_wp_manifests, infer_ownership, invalid_kitty_specs_owned_files,
    ownership_errors, post_integration_acceptance_warnings,
};
use crate::planning::task_plan::tasks_md::{
    OrderedLists, OrderedMap, tasks_md_dependencies, tasks_md_requirement_refs,
};
use crate::planning::task_plan::wp_metadata::{WpMetadata, split_work_package};
use crate::status::lane::Lane;
use crate::text::pyjson::truthy;
use crate::text::pytext;

use crate::text::pytext::constant_regex as compile;

/// A work package's id in its file name: Spec Kitty's `^(WP\d{2})(?:[-_.]|$)` (RE2: ASCII
/// digits), with two *or more* digits, so that `WP100-x.md` is read rather than silently
/// skipped (docs/compatibility.md). Every id pattern below is widened the same way.
static WP_FILE_ID: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u)\A(WP[0-9]{2,})(?:[-_.]|\z)"));
/// `re.match(r"(WP\d{2})", name)` (Python `re`: any decimal digit), widened as above.
static WP_FILE_PREFIX: LazyLock<Regex> = LazyLock::new(|| compile(r"\A(WP[0-9]{2,})"));
/// A well-formed dependency id (`^WP\d{2}$`, RE2), widened as above.
static WP_DEPENDENCY_ID: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u)\AWP[0-9]{2,}\z"));
/// `plan.md`'s implementation-concern headings.
static PLAN_CONCERN_HEADING: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?m-u)^#{2,4}\s+IC-[0-9]{2}\b"));
/// `owned_files: []` written explicitly.
static EXPLICIT_EMPTY_OWNED_FILES: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?m-u)^owned_files:\s*\[\s*\]\s*$"));

/// The text of the requirement-mapping refusal.
pub const REQUIREMENT_MAPPING_FAILED: &str = "Requirement mapping validation failed";
/// The `message` of a passing validation.
pub const VALIDATION_PASSED_MESSAGE: &str =
    "All validations passed. Run without --validate-only to commit.";
/// The hint of the tasks.md coverage refusal (Spec Kitty's `hint`).
pub const COVERAGE_HINT: &str = "Use supported section headers such as '## WP01', '## Work Package WP01', or '## Work Package 1 — Title'.";
/// The agent-command directories an audit (`codebase-wide`) work package should cover.
const AUDIT_AGENT_DIRS: [(&str, &str); 12] = [
    (".claude", "commands"),
    (".github", "prompts"),
    (".gemini", "commands"),
    (".cursor", "commands"),
    (".qwen", "commands"),
    (".opencode", "command"),
    (".windsurf", "workflows"),
    (".kilocode", "workflows"),
    (".augment", "commands"),
    (".amazonq", "prompts"),
    (".kiro", "prompts"),
    (".agent", "workflows"),
];

/// One `tasks/WP*.md` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WpFileInput {
    /// The file name.
    pub name: String,
    /// Its text (universal newlines, a UTF-8 BOM kept), or Python's decoding error.
    pub text: Result<String, String>,
}

/// `meta.json` of the primary mission directory.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaInput {
    /// No file.
    Missing,
    /// Not a JSON object; the parser's message.
    Malformed(String),
    /// The object.
    Object(Map<String, Value>),
}

/// Everything finalize reads from the mission directory.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalizeInput {
    /// The mission directory's name.
    pub mission_slug: String,
    /// The mission directory's absolute path, as messages show it.
    pub mission_dir: String,
    /// `meta.json`.
    pub meta: MetaInput,
    /// `tasks/WP*.md` in byte order of their names; `None` when `tasks/` does not exist.
    pub wp_files: Option<Vec<WpFileInput>>,
    /// `spec.md`.
    pub spec_md: Option<String>,
    /// `tasks.md`.
    pub tasks_md: Option<String>,
    /// `wps.yaml`.
    pub wps_yaml: Option<String>,
    /// `plan.md`.
    pub plan_md: Option<String>,
    /// Whether `occurrence_map.yaml` exists.
    pub occurrence_map_exists: bool,
}

/// Why the status surface cannot be read (a coordination branch deleted, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurfaceError {
    /// The stable code.
    pub code: &'static str,
    /// Spec Kitty's message.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// What finalize asks the world outside the mission directory.
pub trait FinalizeEnvironment {
    /// Returns true when commits to `branch` are refused (the protected-branch policy).
    fn is_protected(&self, branch: &str) -> bool;
    /// Returns each work package's lane in the status log of the status surface.
    fn lifecycle_lanes(&self) -> Result<BTreeMap<String, Lane>, SurfaceError>;
    /// Returns the work packages with at least one transition in the status log.
    fn initialized_wp_ids(&self) -> Result<BTreeSet<String>, String>;
    /// Returns the agent profiles the charter activates (`None`: no restriction).
    fn activated_agent_profiles(&self) -> Result<Option<BTreeSet<String>>, String>;
    /// Returns the repository's work tree.
    fn tree(&self) -> &dyn RepoTree;
}

/// An insertion-ordered JSON object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedObject(pub Vec<(String, Value)>);

impl Serialize for OrderedObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl OrderedObject {
    fn push(&mut self, key: &str, value: impl Into<Value>) {
        self.0.push((key.to_owned(), value.into()));
    }
}

fn lists_object(lists: &OrderedLists) -> OrderedObject {
    OrderedObject(
        lists
            .entries()
            .iter()
            .map(|(key, values)| (key.clone(), strings_value(values)))
            .collect(),
    )
}

fn strings_value(values: &[String]) -> Value {
    Value::Array(values.iter().cloned().map(Value::String).collect())
}

fn ordered_value(object: &OrderedObject) -> Value {
    // Used inside a `data` object where order is kept by `OrderedObject` itself; a nested
    // `Value::Object` sorts its keys, which JSON readers ignore.
    Value::Object(object.0.iter().cloned().collect())
}

/// Why finalize refuses: Spec Kitty's message and fields, a stable code and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The stable code (Spec Kitty's `error_code` when it has one).
    pub code: &'static str,
    /// Spec Kitty's `error` text.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// Spec Kitty's other fields, in its order.
    pub data: OrderedObject,
    /// Lines Spec Kitty prints before its JSON (the charter gate's report), if any.
    pub report: Option<String>,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            hint: hint.into(),
            data: OrderedObject::default(),
            report: None,
        }
    }

    fn with(mut self, key: &str, value: impl Into<Value>) -> Refusal {
        self.data.push(key, value);
        self
    }

    /// A failure Spec Kitty reports as `{"error": str(exception)}`.
    fn exception(code: &'static str, message: String, hint: &str) -> Refusal {
        Refusal::new(code, message, hint)
    }
}

/// The front-matter fields Spec Kitty's bootstrap would rewrite in one work package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WpChange {
    /// The work package.
    pub wp_id: String,
    /// Field → new value, in Spec Kitty's order.
    pub changes: OrderedObject,
}

/// `validation.bootstrap_preview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootstrapPreview {
    /// Work-package files with valid front matter.
    pub total_wps: usize,
    /// Those without a transition in the status log.
    pub newly_seeded: usize,
    /// Those with one.
    pub already_initialized: usize,
}

/// `validation.lanes_preview`.
#[derive(Debug, Clone, PartialEq)]
pub enum LanesPreview {
    /// No lanes computed (no ownership manifest or no work package).
    NotComputed,
    /// The lanes Spec Kitty would compute.
    Computed(Box<LanesManifest>),
}

impl Serialize for LanesPreview {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LanesPreview::NotComputed => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("computed", &false)?;
                map.end()
            }
            LanesPreview::Computed(manifest) => {
                let mut map = serializer.serialize_map(Some(5))?;
                map.serialize_entry("computed", &true)?;
                map.serialize_entry("count", &manifest.lanes.len())?;
                let ids: Vec<&str> = manifest
                    .lanes
                    .iter()
                    .map(|lane| lane.lane_id.as_str())
                    .collect();
                map.serialize_entry("lane_ids", &ids)?;
                map.serialize_entry("planning_artifact_wps", &manifest.planning_artifact_wps)?;
                match &manifest.collapse_report {
                    Some(report) => {
                        let by_rule: OrderedObject = OrderedObject(
                            report
                                .by_rule
                                .iter()
                                .map(|(rule, count)| (rule.clone(), Value::from(*count)))
                                .collect(),
                        );
                        let mut object = OrderedObject::default();
                        object.push(
                            "events",
                            serde_json::to_value(&report.events).unwrap_or(Value::Null),
                        );
                        object.push("total_merges", report.total_merges);
                        object.push(
                            "independent_wps_collapsed",
                            report.independent_wps_collapsed,
                        );
                        object
                            .0
                            .push(("by_rule".to_owned(), ordered_value(&by_rule)));
                        map.serialize_entry("collapse_report", &object)?;
                    }
                    None => map.serialize_entry("collapse_report", &Value::Null)?,
                }
                map.end()
            }
        }
    }
}

/// `validation`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationPreview {
    /// What seeding would do.
    pub bootstrap_preview: BootstrapPreview,
    /// The lanes.
    pub lanes_preview: LanesPreview,
}

/// The report of a plan that passes every gate: Spec Kitty's `--validate-only` answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationReport {
    /// `validation_passed`.
    pub result: &'static str,
    /// The mission directory name.
    pub mission_slug: String,
    /// The work-package files with readable front matter.
    pub wp_count: usize,
    /// Always true in this report.
    pub validate_only: bool,
    /// The front-matter fields Spec Kitty would rewrite, per work package.
    pub would_modify: Vec<WpChange>,
    /// Work packages whose front-matter dependencies are kept over an empty parse.
    pub would_preserve: Vec<String>,
    /// Work packages with nothing to rewrite.
    pub unchanged: Vec<String>,
    /// How many work packages would be rewritten.
    pub updated_wp_count: usize,
    /// Ownership warnings (inferred fallbacks, globs matching nothing, `wps.yaml` concerns).
    pub ownership_warnings: Vec<String>,
    /// Requirement-shaped tokens `spec.md` does not declare, and success-criteria refs.
    pub requirement_extraction_warnings: Vec<String>,
    /// Code work packages whose acceptance can only be observed after merging.
    pub post_integration_acceptance_warnings: Vec<String>,
    /// Seeding and lanes.
    pub validation: ValidationPreview,
    /// Spec Kitty's closing message.
    pub message: String,
}

/// A plan that passed every gate, with what the write path needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPlan {
    /// The report.
    pub report: ValidationReport,
    /// The planning branch (`target_branch`).
    pub planning_branch: String,
    /// The eligible (not canceled) work packages' dependencies, sorted.
    pub eligible_dependencies: Vec<(String, Vec<String>)>,
    /// The lanes, when computed.
    pub lanes: Option<LanesManifest>,
    /// The ids (front matter) of the work packages without a transition, in file order.
    pub to_seed: Vec<String>,
}

/// One work-package file as the loop sees it.
struct WpView<'a> {
    /// The file name.
    name: &'a str,
    /// `WP##` from the file name.
    id: Option<String>,
    /// The raw text, or the decoding error.
    raw: Result<&'a str, &'a str>,
    /// The validated front matter, the raw `requirement_refs` and the body, or the message
    /// of why not.
    read: Result<(WpMetadata, Option<Value>, String), String>,
}

fn view<'a>(input: &'a FinalizeInput, file: &'a WpFileInput) -> WpView<'a> {
    let id = WP_FILE_ID
        .captures(&file.name)
        .map(|captures| captures[1].to_owned());
    let label = format!("{}/tasks/{}", input.mission_dir, file.name);
    let raw = file.text.as_deref().map_err(String::as_str);
    let read = match &file.text {
        Err(error) => Err(error.clone()),
        Ok(text) => {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            split_work_package(text, &label).and_then(|split| {
                WpMetadata::read(&split.yaml, &label).map(|(meta, raw)| (meta, raw, split.body))
            })
        }
    };
    WpView {
        name: &file.name,
        id,
        raw,
        read,
    }
}

/// `_raw_frontmatter_has_field`: the text between the first two `---` declares the key.
fn raw_front_matter(raw: &str) -> Option<&str> {
    if !raw.starts_with("---") {
        return None;
    }
    let mut parts = raw.splitn(3, "---");
    parts.next();
    let front = parts.next()?;
    parts.next()?;
    Some(front)
}

fn raw_has_field(raw: &str, field: &str) -> bool {
    raw_front_matter(raw).is_some_and(|front| {
        front.split('\n').any(|line| {
            let trimmed = line.trim_start_matches([' ', '\t', '\r', '\u{0b}', '\u{0c}']);
            trimmed.strip_prefix(field).is_some_and(|rest| {
                rest.trim_start_matches([' ', '\t', '\r', '\u{0b}', '\u{0c}'])
                    .starts_with(':')
            })
        })
    })
}

fn raw_owned_files_explicitly_empty(raw: &str) -> bool {
    raw_front_matter(raw).is_some_and(|front| EXPLICIT_EMPTY_OWNED_FILES.is_match(front))
}

fn non_blank_string(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .map(pytext::strip)
        .filter(|text| !text.is_empty())
}

/// The text of Spec Kitty's branch-strategy field.
pub fn branch_strategy_text(target_branch: &str, merge_target_branch: &str) -> String {
    format!(
        "Planning artifacts for this mission were generated on {target_branch}. During \
         /spec-kitty.implement this WP may branch from a dependency-specific base, but \
         completed changes must merge back into {merge_target_branch} unless the human \
         explicitly redirects the landing branch."
    )
}

/// A `wps.yaml` entry, as far as finalize reads it.
struct ManifestEntry {
    id: String,
    title: String,
    dependencies: Vec<String>,
    dependencies_explicit: bool,
    plan_concern_refs: Vec<String>,
    cross_cutting: bool,
}

/// Loads `wps.yaml` (`load_wps_manifest`); the error is the loader's message.
fn load_wps_manifest(
    text: &str,
    plan_md: Option<&str>,
) -> Result<(Vec<ManifestEntry>, bool), String> {
    let raw: Value =
        crate::planning::work_package::parse_yaml(text).map_err(|error| error.to_string())?;
    let Value::Object(raw) = raw else {
        return Err("'NoneType' object has no attribute 'get'".to_owned());
    };
    let entries = match raw.get("work_packages") {
        Some(Value::Array(items)) => items.clone(),
        None => {
            return Err(
                "1 validation error for WpsManifest\nwork_packages\n  Field required".to_owned(),
            );
        }
        Some(_) => {
            return Err(
                "1 validation error for WpsManifest\nwork_packages\n  Input should be a valid list"
                    .to_owned(),
            );
        }
    };
    let mut manifest = Vec::new();
    let mut concern_fields_seen = false;
    for (index, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            return Err(format!(
                "1 validation error for WpsManifest\nwork_packages.{index}\n  Input should be a valid dictionary or instance of WorkPackageEntry"
            ));
        };
        let string = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
        let list = |key: &str| -> Result<Vec<String>, String> {
            match entry.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            format!("1 validation error for WpsManifest\nwork_packages.{index}.{key}\n  Input should be a valid string")
                        })
                    })
                    .collect(),
                Some(_) => Err(format!(
                    "1 validation error for WpsManifest\nwork_packages.{index}.{key}\n  Input should be a valid list"
                )),
            }
        };
        let id = string("id").ok_or_else(|| {
            format!(
                "1 validation error for WpsManifest\nwork_packages.{index}.id\n  Field required"
            )
        })?;
        if !WP_DEPENDENCY_ID.is_match(&id) {
            return Err(format!(
                "1 validation error for WpsManifest\nwork_packages.{index}.id\n  Value error, WP id must be WPnn (e.g. WP01), got: {}",
                pytext::repr(&id)
            ));
        }
        let title = string("title").ok_or_else(|| {
            format!(
                "1 validation error for WpsManifest\nwork_packages.{index}.title\n  Field required"
            )
        })?;
        let dependencies = list("dependencies")?;
        if let Some(bad) = dependencies
            .iter()
            .find(|dep| !WP_DEPENDENCY_ID.is_match(dep))
        {
            return Err(format!(
                "1 validation error for WpsManifest\nwork_packages.{index}.dependencies\n  Value error, Dependency must be WPnn (e.g. WP01), got: {}",
                pytext::repr(bad)
            ));
        }
        let plan_concern_refs = list("plan_concern_refs")?;
        let cross_cutting = entry
            .get("cross_cutting")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        concern_fields_seen = concern_fields_seen
            || entry.contains_key("plan_concern_refs")
            || entry.contains_key("cross_cutting");
        manifest.push(ManifestEntry {
            id,
            title,
            dependencies,
            dependencies_explicit: entry.contains_key("dependencies"),
            plan_concern_refs,
            cross_cutting,
        });
    }
    let concern_tracking =
        concern_fields_seen || plan_md.is_some_and(|plan| PLAN_CONCERN_HEADING.is_match(plan));
    Ok((manifest, concern_tracking))
}

/// Returns `detect_cycles` of a graph in order: each back edge's cycle, closed.
fn detect_cycles(graph: &[(String, Vec<String>)]) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Gray,
        Black,
    }
    let index: BTreeMap<&str, usize> = graph
        .iter()
        .enumerate()
        .map(|(position, (id, _))| (id.as_str(), position))
        .collect();
    let mut color = vec![Color::White; graph.len()];
    let mut cycles: Vec<Vec<String>> = Vec::new();
    for start in 0..graph.len() {
        if color[start] != Color::White {
            continue;
        }
        // Iterative DFS: (node, next neighbour index).
        let mut path: Vec<usize> = vec![start];
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        color[start] = Color::Gray;
        while let Some((node, next)) = stack.last().copied() {
            let deps = &graph[node].1;
            if next >= deps.len() {
                stack.pop();
                path.pop();
                color[node] = Color::Black;
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let Some(&neighbour) = index.get(deps[next].as_str()) else {
                continue;
            };
            match color[neighbour] {
                Color::Gray => {
                    if let Some(position) = path.iter().position(|&node| node == neighbour) {
                        let mut cycle: Vec<String> = path[position..]
                            .iter()
                            .map(|&node| graph[node].0.clone())
                            .collect();
                        cycle.push(graph[neighbour].0.clone());
                        cycles.push(cycle);
                    }
                }
                Color::White => {
                    color[neighbour] = Color::Gray;
                    path.push(neighbour);
                    stack.push((neighbour, 0));
                }
                Color::Black => {}
            }
        }
    }
    cycles
}

/// `_validate_dependency_references`: the first work package with a malformed or unknown
/// dependency.
fn check_dependency_references(graph: &[(String, Vec<String>)]) -> Result<(), Refusal> {
    let known: BTreeSet<&str> = graph.iter().map(|(id, _)| id.as_str()).collect();
    for (wp_id, deps) in graph {
        let errors: Vec<String> = deps
            .iter()
            .filter_map(|dep| {
                if !WP_DEPENDENCY_ID.is_match(dep) {
                    Some(format!(
                        "Invalid WP ID format: {dep} (must be WP## like WP01)"
                    ))
                } else if !known.contains(dep.as_str()) {
                    Some(format!("Dependency {dep} not found in graph"))
                } else {
                    None
                }
            })
            .collect();
        if !errors.is_empty() {
            return Err(Refusal::new(
                "DEPENDENCY_INVALID",
                format!("Invalid dependencies for {wp_id}: {}", pytext::list_repr(&errors)),
                format!("Fix the `dependencies` of {wp_id}: each must be the id of a work package of this mission"),
            )
            .with("wp_id", wp_id.clone())
            .with("errors", strings_value(&errors)));
        }
    }
    Ok(())
}

/// Checks a mission's plan as Spec Kitty's `finalize-tasks --validate-only` does. See the
/// [module](self) docs.
pub fn check_plan(
    input: &FinalizeInput,
    env: &dyn FinalizeEnvironment,
) -> Result<CheckedPlan, Refusal> {
    let meta_object = match &input.meta {
        MetaInput::Object(map) => Some(map),
        _ => None,
    };
    let meta_get = |key: &str| meta_object.and_then(|meta| meta.get(key));

    // 1. The bulk-edit occurrence map.
    if meta_get("change_mode").and_then(Value::as_str) == Some("bulk_edit")
        && !input.occurrence_map_exists
    {
        return Err(Refusal::new(
            "OCCURRENCE_MAP_REQUIRED",
            "Bulk edit occurrence-map gate blocked finalize-tasks.",
            "Write occurrence_map.yaml (target, categories, actions) in the mission directory",
        )
        .with(
            "gate_errors",
            strings_value(&[format!(
                "Occurrence map required for bulk_edit missions. Create {}/occurrence_map.yaml with target, categories, and actions.",
                input.mission_dir
            )]),
        ));
    }

    // 2. The planning branch.
    let planning_hint =
        "Record the branch the mission is planned on as `target_branch` in meta.json";
    let meta_path = format!("{}/meta.json", input.mission_dir);
    let planning_branch = match &input.meta {
        MetaInput::Missing => {
            return Err(Refusal::new(
                "PLANNING_BRANCH_NOT_PERSISTED",
                format!(
                    "meta.json not found at {meta_path}. Re-run with --target-branch <ref> to override."
                ),
                planning_hint,
            ));
        }
        MetaInput::Malformed(error) => {
            return Err(Refusal::new(
                "PLANNING_BRANCH_NOT_PERSISTED",
                format!(
                    "meta.json at {meta_path} is unreadable: {error}. Re-run with --target-branch <ref> to override."
                ),
                planning_hint,
            ));
        }
        MetaInput::Object(meta) => {
            let declared = meta
                .get("target_branch")
                .and_then(Value::as_str)
                .filter(|branch| !pytext::strip(branch).is_empty())
                .or_else(|| {
                    meta.get("merge_target_branch")
                        .and_then(Value::as_str)
                        .filter(|branch| !pytext::strip(branch).is_empty())
                });
            match declared {
                Some(branch) => pytext::strip(branch).to_owned(),
                None => {
                    return Err(Refusal::new(
                        "PLANNING_BRANCH_NOT_PERSISTED",
                        "meta.json is missing target_branch / merge_target_branch. This mission was created before branch context was persisted. Re-run with --target-branch <ref> to override, or re-create the mission so meta.json records the canonical target.",
                        planning_hint,
                    ));
                }
            }
        }
    };
    if truthy(meta_get("pr_bound"))
        && !truthy(meta_get("merge_target_branch"))
        && env.is_protected(&planning_branch)
    {
        return Err(Refusal::new(
            "PR_BOUND_PLANNING_BRANCH_REQUIRED",
            "Legacy PR-bound metadata records a protected merge target as its planning branch, but the original planning branch cannot be proven from the current checkout. Re-run with --target-branch <planning-ref> to repair the branch contract explicitly.",
            format!(
                "Record the branch the mission was planned on as `target_branch` and `{planning_branch}` as `merge_target_branch` in meta.json"
            ),
        ));
    }
    let merge_target_branch = match non_blank_string(meta_get("merge_target_branch")) {
        Some(explicit) => explicit.to_owned(),
        None => match non_blank_string(meta_get("target_branch")) {
            Some(declared) if truthy(meta_get("pr_bound")) && declared != planning_branch => {
                declared.to_owned()
            }
            _ => planning_branch.clone(),
        },
    };

    // 3. tasks/, spec.md, wps.yaml.
    let Some(files) = &input.wp_files else {
        return Err(Refusal::new(
            "TASKS_DIR_NOT_FOUND",
            format!("Tasks directory not found: {}/tasks", input.mission_dir),
            "Create the work packages under tasks/ (`missionctl wp add`) first",
        ));
    };
    let views: Vec<WpView<'_>> = files.iter().map(|file| view(input, file)).collect();
    let Some(spec) = input.spec_md.as_deref() else {
        return Err(Refusal::new(
            "SPEC_NOT_FOUND",
            format!("spec.md not found: {}/spec.md", input.mission_dir),
            "Write the mission's spec.md first",
        ));
    };
    let all_declared = declared_ids(spec);
    let functional: BTreeSet<&String> = all_declared
        .iter()
        .filter(|id| id.starts_with("FR-"))
        .collect();
    let mut requirement_extraction_warnings = undeclared_requirement_citations(spec);
    let mut sc_refs = OrderedLists::default();
    for view in &views {
        let Some(id) = WP_FILE_PREFIX
            .captures(view.name)
            .map(|captures| captures[1].to_owned())
        else {
            continue;
        };
        let tokens = match &view.read {
            Ok((_, raw_refs, _)) => raw_requirement_ref_tokens(raw_refs.as_ref()),
            // The raw reader skips only files it cannot parse as YAML; a file that parses
            // but fails the model still has its raw tokens read.
            Err(_) => raw_tokens_without_model(view),
        };
        sc_refs.insert(&id, tokens);
    }
    requirement_extraction_warnings.extend(
        sc_refs
            .entries()
            .iter()
            .filter_map(|(id, tokens)| discarded_success_criteria_warning(id, tokens)),
    );
    let manifest = match input.wps_yaml.as_deref() {
        Some(text) => Some(
            load_wps_manifest(text, input.plan_md.as_deref()).map_err(|error| {
                Refusal::new(
                    "WPS_MANIFEST_INVALID",
                    format!("wps.yaml is present but could not be loaded: {error}"),
                    "Fix wps.yaml, or remove it to plan from tasks.md",
                )
            })?,
        ),
        None => None,
    };
    let concern_warnings: Vec<String> = match &manifest {
        Some((entries, true)) => entries
            .iter()
            .filter(|entry| entry.plan_concern_refs.is_empty() && !entry.cross_cutting)
            .map(|entry| {
                format!(
                    "{} ({}): missing plan_concern_refs and cross_cutting is not set — add IC-## refs or set cross_cutting: true",
                    entry.id,
                    pytext::repr(&entry.title)
                )
            })
            .collect(),
        _ => Vec::new(),
    };

    // 4. Dependencies and requirement refs.
    let mut expected_ids: Vec<String> = views.iter().filter_map(|view| view.id.clone()).collect();
    expected_ids.sort_by(|a, b| pytext::code_point_order(a, b));
    expected_ids.dedup();
    let mut wp_dependencies = OrderedLists::default();
    if let Some((entries, _)) = &manifest {
        for entry in entries {
            let deps = if entry.dependencies_explicit {
                entry.dependencies.clone()
            } else {
                Vec::new()
            };
            wp_dependencies.insert(&entry.id, deps);
        }
    }
    let mut wp_requirement_refs = OrderedLists::default();
    for view in &views {
        let Some(id) = &view.id else { continue };
        match &view.read {
            Ok((meta, _, _)) => {
                wp_requirement_refs.insert(id, normalize_requirement_refs(&meta.requirement_refs));
            }
            Err(_) => {
                if wp_requirement_refs.get(id).is_none() {
                    wp_requirement_refs.insert(id, Vec::new());
                }
            }
        }
    }
    if manifest.is_none()
        && let Some(tasks_md) = input.tasks_md.as_deref()
    {
        let tasks_deps = tasks_md_dependencies(tasks_md);
        let missing: Vec<String> = expected_ids
            .iter()
            .filter(|id| tasks_deps.get(id).is_none())
            .cloned()
            .collect();
        let mut extra: Vec<String> = tasks_deps
            .entries()
            .iter()
            .map(|(id, _)| id.clone())
            .filter(|id| !expected_ids.contains(id))
            .collect();
        extra.sort_by(|a, b| pytext::code_point_order(a, b));
        extra.dedup();
        if !missing.is_empty() || !extra.is_empty() {
            return Err(Refusal::new(
                "TASKS_MD_COVERAGE_INCOMPLETE",
                "tasks.md work package coverage is incomplete. finalize-tasks could not match all WP files to parsed sections, so dependency lanes would be unreliable.",
                COVERAGE_HINT,
            )
            .with("missing_wp_sections", strings_value(&missing))
            .with("extra_wp_sections", strings_value(&extra)));
        }
        for (id, refs) in tasks_md_requirement_refs(tasks_md).entries() {
            if !refs.is_empty() && wp_requirement_refs.get(id).is_none_or(Vec::is_empty) {
                wp_requirement_refs.insert(id, refs.clone());
            }
        }
        for view in &views {
            let Some(id) = &view.id else { continue };
            let (meta, _, _) = view.read.as_ref().map_err(|error| {
                Refusal::exception(
                    "WP_FRONTMATTER_INVALID",
                    error.clone(),
                    "Fix the work package's front matter",
                )
            })?;
            let raw = view.raw.unwrap_or_default();
            let frontmatter_deps = if raw_has_field(raw, "dependencies") {
                meta.dependencies.clone()
            } else {
                Vec::new()
            };
            let deps = if frontmatter_deps.is_empty() {
                tasks_deps.get(id).cloned().unwrap_or_default()
            } else {
                frontmatter_deps
            };
            wp_dependencies.insert(id, deps);
        }
    }
    // Without wps.yaml and tasks.md, Spec Kitty's dependency graph is empty: it never reads
    // the front matter's `dependencies` there, so a cycle or a dangling id passes and the
    // lanes are computed unordered. The front matter is then the only declaration (what
    // `wp add` writes), so it is the graph that is checked and laned here; the reported
    // `dependencies_parsed` stays Spec Kitty's. See docs/compatibility.md.
    let graph: OrderedLists = if manifest.is_none() && input.tasks_md.is_none() {
        let mut graph = OrderedLists::default();
        for view in &views {
            if let (Some(id), Ok((meta, _, _))) = (&view.id, &view.read) {
                graph.insert(id, meta.dependencies.clone());
            }
        }
        graph
    } else {
        wp_dependencies.clone()
    };
    check_dependency_references(graph.entries())?;

    // 5. Requirement mapping.
    let mut missing_refs: Vec<String> = Vec::new();
    let mut unknown_refs = OrderedLists::default();
    let mut mapped: BTreeSet<String> = BTreeSet::new();
    for id in &expected_ids {
        let refs = wp_requirement_refs.get(id).cloned().unwrap_or_default();
        if refs.is_empty() {
            missing_refs.push(id.clone());
            continue;
        }
        let mut unknown: Vec<String> = refs
            .iter()
            .filter(|reference| !all_declared.contains(*reference))
            .cloned()
            .collect();
        unknown.sort_by(|a, b| pytext::code_point_order(a, b));
        if unknown.is_empty() {
            mapped.extend(refs);
        } else {
            unknown_refs.insert(id, unknown);
        }
    }
    let unmapped: Vec<String> = functional
        .iter()
        .filter(|id| !mapped.contains(id.as_str()))
        .map(|id| (*id).clone())
        .collect();
    let bare_prose = bare_prose_requirement_ids(spec);
    if !missing_refs.is_empty()
        || !unknown_refs.is_empty()
        || !unmapped.is_empty()
        || !bare_prose.is_empty()
    {
        let first = missing_refs
            .first()
            .or_else(|| unknown_refs.entries().first().map(|(id, _)| id));
        let hint = match first {
            Some(wp) => format!(
                "Map each work package to the requirements it implements, e.g. `missionctl map-requirements --mission {} --wp {wp} --refs FR-001`; refs must be declared in spec.md",
                input.mission_slug
            ),
            None => format!(
                "Map the unmapped functional requirements to work packages with `missionctl map-requirements --mission {} --wp WP## --refs {}`",
                input.mission_slug,
                unmapped
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "FR-001".to_owned())
            ),
        };
        return Err(Refusal::new(
            "REQUIREMENT_MAPPING_INCOMPLETE",
            REQUIREMENT_MAPPING_FAILED,
            hint,
        )
        .with("missing_requirement_refs_wps", strings_value(&missing_refs))
        .with(
            "unknown_requirement_refs",
            ordered_value(&lists_object(&unknown_refs)),
        )
        .with("unmapped_functional_requirements", strings_value(&unmapped))
        .with("bare_prose_requirement_ids", strings_value(&bare_prose))
        .with(
            "dependencies_parsed",
            ordered_value(&lists_object(&wp_dependencies)),
        )
        .with(
            "requirement_refs_parsed",
            ordered_value(&lists_object(&wp_requirement_refs)),
        ));
    }

    // 6. Front matter against the parsed dependencies.
    let mut conflicts: Vec<String> = Vec::new();
    for (id, parsed) in wp_dependencies.entries() {
        let existing: Vec<String> = views
            .iter()
            .rfind(|view| view.id.as_deref() == Some(id))
            .and_then(|view| view.read.as_ref().ok())
            .map(|(meta, _, _)| meta.dependencies.clone())
            .unwrap_or_default();
        let as_set = |list: &[String]| list.iter().cloned().collect::<BTreeSet<String>>();
        if !existing.is_empty() && !parsed.is_empty() && as_set(&existing) != as_set(parsed) {
            let sorted = |list: &[String]| {
                let mut list = list.to_vec();
                list.sort_by(|a, b| pytext::code_point_order(a, b));
                pytext::list_repr(&list)
            };
            conflicts.push(format!(
                "{id}: frontmatter has {}, tasks.md parsed {}. Resolve the disagreement in tasks.md or WP frontmatter before finalizing.",
                sorted(&existing),
                sorted(parsed)
            ));
        }
    }
    if !conflicts.is_empty() {
        return Err(Refusal::new(
            "DEPENDENCY_DISAGREEMENT",
            format!(
                "Dependency disagreement detected:\n{}",
                conflicts.join("\n")
            ),
            "Make the work packages' `dependencies` agree with wps.yaml",
        )
        .with("dependency_conflicts", strings_value(&conflicts)));
    }

    // 7. The status surface, cancellations and cycles.
    let lanes = env
        .lifecycle_lanes()
        .map_err(|error| Refusal::new(error.code, error.message, error.hint))?;
    let canceled: BTreeSet<&String> = expected_ids
        .iter()
        .filter(|id| lanes.get(*id) == Some(&Lane::Canceled))
        .collect();
    let eligible: Vec<&String> = expected_ids
        .iter()
        .filter(|id| !canceled.contains(id))
        .collect();
    let all_canceled = !expected_ids.is_empty() && canceled.len() == expected_ids.len();
    let mut stale: BTreeSet<(String, String)> = BTreeSet::new();
    for id in &eligible {
        for dep in graph.get(id).into_iter().flatten() {
            if expected_ids.contains(dep) && canceled.contains(dep) {
                stale.insert(((*id).clone(), dep.clone()));
            }
        }
    }
    if !stale.is_empty() {
        let records: Vec<Value> = stale
            .iter()
            .map(|(dependent, canceled)| {
                serde_json::json!({
                    "dependent_wp_id": dependent,
                    "canceled_dependency_wp_id": canceled,
                    "recovery": format!("Remove the dependency or repoint {dependent} to a non-canceled prerequisite."),
                })
            })
            .collect();
        return Err(Refusal::new(
            "CANCELED_WP_DEPENDENCY",
            "Active work packages depend on canceled work packages; remove or repoint each dependency before finalizing.",
            "Remove each dependency on a canceled work package, or repoint it to one that is not canceled",
        )
        .with("stale_dependencies", Value::Array(records)));
    }
    let eligible_dependencies: Vec<(String, Vec<String>)> = eligible
        .iter()
        .map(|id| {
            let deps: BTreeSet<String> = graph
                .get(id)
                .into_iter()
                .flatten()
                .filter(|dep| !canceled.contains(dep))
                .cloned()
                .collect();
            ((*id).clone(), deps.into_iter().collect())
        })
        .collect();
    if !eligible_dependencies.is_empty() {
        let cycles = detect_cycles(&eligible_dependencies);
        if !cycles.is_empty() {
            let rendered = format!(
                "[{}]",
                cycles
                    .iter()
                    .map(|cycle| pytext::list_repr(cycle))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Err(Refusal::new(
                "DEPENDENCY_CYCLE",
                format!("Circular dependencies detected: {rendered}"),
                "Break the cycle: remove one of the dependencies named",
            )
            .with(
                "cycles",
                Value::Array(cycles.iter().map(|cycle| strings_value(cycle)).collect()),
            ));
        }
        check_dependency_references(&eligible_dependencies)?;
    }

    // 8. The bootstrap loop: charter gate, field changes, ownership inference.
    let eligible_set: BTreeSet<&str> = eligible.iter().map(|id| id.as_str()).collect();
    let mut ownership_warnings: Vec<String> = concern_warnings;
    let mut post_integration: Vec<String> = Vec::new();
    let mut work_package_count = 0;
    let mut would_modify: Vec<WpChange> = Vec::new();
    let mut preserved: Vec<String> = Vec::new();
    let mut unchanged: Vec<String> = Vec::new();
    let mut contradictions: Vec<(String, String)> = Vec::new();
    let mut in_memory: OrderedMap<(WpMetadata, String)> = OrderedMap::default();
    for view in &views {
        let Some(id) = &view.id else { continue };
        let raw = view.raw.map_err(|error| {
            Refusal::exception(
                "WP_FILE_UNREADABLE",
                error.to_owned(),
                "Save the work package as UTF-8",
            )
        })?;
        let has_dependencies_line = raw_has_field(raw, "dependencies");
        let has_refs_line = raw_has_field(raw, "requirement_refs");
        let Ok((meta, _, body)) = &view.read else {
            continue;
        };
        charter_gate(meta, id, env)?;
        let parsed = wp_dependencies.get(id).cloned().unwrap_or_default();
        let deps = if manifest.is_none() && parsed.is_empty() && !meta.dependencies.is_empty() {
            preserved.push(id.clone());
            meta.dependencies.clone()
        } else {
            parsed
        };
        work_package_count += 1;
        let refs = wp_requirement_refs.get(id).cloned().unwrap_or_default();
        let mut changes = OrderedObject::default();
        let mut updated = meta.clone();
        if !has_dependencies_line || meta.dependencies != deps {
            changes.push("dependencies", strings_value(&deps));
            updated.dependencies = deps.clone();
        }
        if meta.planning_base_branch.as_deref() != Some(planning_branch.as_str()) {
            changes.push("planning_base_branch", planning_branch.clone());
            updated.planning_base_branch = Some(planning_branch.clone());
        }
        if meta.merge_target_branch.as_deref() != Some(merge_target_branch.as_str()) {
            changes.push("merge_target_branch", merge_target_branch.clone());
            updated.merge_target_branch = Some(merge_target_branch.clone());
        }
        let strategy = branch_strategy_text(&planning_branch, &merge_target_branch);
        if meta.branch_strategy.as_deref() != Some(strategy.as_str()) {
            changes.push("branch_strategy", strategy.clone());
            updated.branch_strategy = Some(strategy);
        }
        if !has_refs_line || meta.requirement_refs != refs {
            changes.push("requirement_refs", strings_value(&refs));
            updated.requirement_refs = refs.clone();
        }
        let is_eligible = eligible_set.contains(id.as_str());
        if is_eligible {
            let explicitly_empty = raw_owned_files_explicitly_empty(raw);
            if meta.execution_mode.as_deref() == Some("code_change") && explicitly_empty {
                contradictions.push((
                    id.clone(),
                    format!(
                        "{}: code_change WP declares no owned files (execution_mode: code_change with an explicit owned_files: [] is an authoring contradiction, not a valid escape hatch)",
                        meta.work_package_id
                    ),
                ));
                continue;
            }
            let need_mode = meta.execution_mode.as_deref().is_none_or(str::is_empty);
            let need_files = meta.owned_files.is_empty() && !explicitly_empty;
            if need_mode || need_files {
                let inferred = infer_ownership(raw, &input.mission_slug);
                if need_mode {
                    changes.push("execution_mode", inferred.execution_mode.as_str());
                    updated.execution_mode = Some(inferred.execution_mode.as_str().to_owned());
                }
                if need_files {
                    changes.push("owned_files", strings_value(&inferred.owned_files));
                    updated.owned_files = inferred.owned_files.clone();
                }
                if meta
                    .authoritative_surface
                    .as_deref()
                    .is_none_or(str::is_empty)
                {
                    changes.push(
                        "authoritative_surface",
                        inferred.authoritative_surface.clone(),
                    );
                    updated.authoritative_surface = Some(inferred.authoritative_surface.clone());
                }
                ownership_warnings.extend(inferred.warnings);
            }
            for warning in post_integration_acceptance_warnings(raw, &updated.owned_files) {
                post_integration.push(format!("{id}: {warning}"));
            }
        }
        in_memory.insert(id, (updated, body.clone()));
        if changes.0.is_empty() {
            if !preserved.contains(id) {
                unchanged.push(id.clone());
            }
        } else {
            would_modify.push(WpChange {
                wp_id: id.clone(),
                changes,
            });
        }
    }
    if !contradictions.is_empty() {
        let ids: Vec<String> = contradictions.iter().map(|(id, _)| id.clone()).collect();
        let messages: Vec<String> = contradictions
            .iter()
            .map(|(_, message)| message.clone())
            .collect();
        return Err(Refusal::new(
            "OWNERSHIP_CONTRADICTION_CODE_CHANGE_EMPTY_OWNED_FILES",
            format!(
                "Ownership contradiction detected for WP(s) {}: {}",
                ids.join(", "),
                messages.join("; ")
            ),
            "Give each code_change work package the files it owns, or make it a planning_artifact",
        )
        .with("ownership_contradiction_wp_ids", strings_value(&ids))
        .with("ownership_contradictions", strings_value(&messages)));
    }

    // 9. Owned paths under kitty-specs/.
    let eligible_in_memory: Vec<(&str, &WpMetadata)> = eligible
        .iter()
        .filter_map(|id| in_memory.get(id).map(|(meta, _)| (id.as_str(), meta)))
        .collect();
    let invalid = invalid_kitty_specs_owned_files(eligible_in_memory.iter().copied());
    if !invalid.is_empty() {
        let records: Vec<Value> = invalid
            .iter()
            .map(|(wp_id, path)| serde_json::json!({"wp_id": wp_id, "path": path}))
            .collect();
        return Err(Refusal::new(
            "INVALID_WP_OWNED_FILES_KITTY_SPECS",
            "WP owned_files cannot include paths under kitty-specs/",
            "Remove the kitty-specs/ paths from owned_files, or make the work package a planning_artifact that owns only kitty-specs/ and docs/ paths",
        )
        .with("invalid_owned_files", Value::Array(records)));
    }

    // 10. Ownership manifests: overlaps, surfaces, literal paths.
    let mut all_frontmatter: OrderedMap<(&WpMetadata, &str)> = OrderedMap::default();
    for view in &views {
        let Some(id) = &view.id else { continue };
        let entry = match in_memory.get(id) {
            Some((meta, body)) => Some((meta, body.as_str())),
            None => view
                .read
                .as_ref()
                .ok()
                .map(|(meta, _, body)| (meta, body.as_str())),
        };
        if let Some(entry) = entry {
            all_frontmatter.insert(id, entry);
        }
    }
    let all_manifests = build_wp_manifests(
        all_frontmatter
            .entries()
            .iter()
            .map(|(id, (meta, _))| (id.as_str(), *meta)),
    )
    .map_err(|error| {
        Refusal::exception(
            "EXECUTION_MODE_INVALID",
            error,
            "Set `execution_mode` to `code_change` or `planning_artifact`",
        )
    })?;
    let frontmatter: Vec<(&str, &WpMetadata, &str)> = eligible
        .iter()
        .filter_map(|id| {
            all_frontmatter
                .get(id)
                .map(|(meta, body)| (id.as_str(), *meta, *body))
        })
        .collect();
    let manifests: Vec<(String, OwnershipManifest)> = eligible
        .iter()
        .filter_map(|id| {
            all_manifests
                .get(id)
                .map(|manifest| ((*id).clone(), manifest.clone()))
        })
        .collect();
    let dependencies: Vec<(String, Vec<String>)> = frontmatter
        .iter()
        .filter(|(_, meta, _)| !meta.dependencies.is_empty())
        .map(|(id, meta, _)| ((*id).to_owned(), meta.dependencies.clone()))
        .collect();
    let errors = ownership_errors(&manifests, &dependencies);
    if !errors.is_empty() {
        return Err(Refusal::new(
            "OWNERSHIP_INVALID",
            "Ownership validation failed",
            "Make the owned_files of work packages that may run in parallel disjoint (or order them with a dependency), and set each authoritative_surface to a prefix of an owned path",
        )
        .with("ownership_errors", strings_value(&errors)));
    }
    let tree = env.tree();
    let mut literal_errors: Vec<String> = Vec::new();
    let mut sorted_manifests: Vec<&(String, OwnershipManifest)> = manifests.iter().collect();
    sorted_manifests.sort_by(|a, b| pytext::code_point_order(&a.0, &b.0));
    for (wp_id, manifest) in sorted_manifests {
        let intent: Vec<&String> = frontmatter
            .iter()
            .find(|(id, _, _)| id == wp_id)
            .map(|(_, meta, _)| meta.create_intent.iter().collect())
            .unwrap_or_default();
        for pattern in &manifest.owned_files {
            let matched = glob_matches_any(tree, pattern).map_err(|error| {
                Refusal::exception(
                    "OWNED_FILE_GLOB_INVALID",
                    error.0,
                    "Fix the owned_files glob",
                )
            })?;
            if matched {
                continue;
            }
            if is_glob_pattern(pattern) {
                ownership_warnings.push(format!(
                    "{wp_id}: owned_files glob '{pattern}' matches zero files in the repository"
                ));
            } else if intent.contains(&pattern) {
                continue;
            } else {
                let mut message = format!(
                    "{wp_id}: owned_files path '{pattern}' is a literal file path that matches zero files in the repository."
                );
                if let Some(suggestion) = nearest_match_suggestion(tree, pattern) {
                    message.push(' ');
                    message.push_str(&suggestion);
                }
                message.push_str(&format!(
                    " If this file will be created during implementation, declare it in the WP frontmatter:\n  create_intent:\n    - {pattern}"
                ));
                literal_errors.push(message);
            }
        }
    }
    if !literal_errors.is_empty() {
        return Err(Refusal::new(
            "OWNED_FILES_NOT_FOUND",
            "Ownership validation failed: literal-path owned_files entries match zero files. Fix the paths or add them to 'create_intent'.",
            "Fix the paths, or list the files the work package will create under `create_intent`",
        )
        .with("ownership_literal_path_errors", strings_value(&literal_errors)));
    }
    ownership_warnings.extend(audit_coverage_warnings(&manifests, tree));

    // 11. The report: seeding and lanes.
    let initialized = env.initialized_wp_ids().map_err(|error| {
        Refusal::exception("STATUS_LOG_INVALID", error, "Repair status.events.jsonl")
    })?;
    let mut to_seed: Vec<String> = Vec::new();
    let mut total = 0;
    let mut already = 0;
    for view in &views {
        let Ok((meta, _, _)) = &view.read else {
            continue;
        };
        if meta.work_package_id.is_empty() {
            continue;
        }
        total += 1;
        if initialized.contains(&meta.work_package_id) {
            already += 1;
        } else {
            to_seed.push(meta.work_package_id.clone());
        }
    }
    let bootstrap_preview = BootstrapPreview {
        total_wps: total,
        newly_seeded: total - already,
        already_initialized: already,
    };
    let lanes = if (!manifests.is_empty() && !eligible_dependencies.is_empty()) || all_canceled {
        let mission_id = meta_get("mission_id")
            .and_then(Value::as_str)
            .and_then(|id| MissionId::parse(id).ok());
        let bodies: BTreeMap<&str, &str> = frontmatter
            .iter()
            .map(|(id, _, body)| (*id, *body))
            .collect();
        Some(preview_lanes(
            &eligible_dependencies,
            &manifests,
            &bodies,
            &input.mission_slug,
            mission_id,
            &planning_branch,
        )?)
    } else {
        None
    };
    let report = ValidationReport {
        result: "validation_passed",
        mission_slug: input.mission_slug.clone(),
        wp_count: work_package_count,
        validate_only: true,
        updated_wp_count: would_modify.len(),
        would_modify,
        would_preserve: preserved,
        unchanged,
        ownership_warnings,
        requirement_extraction_warnings,
        post_integration_acceptance_warnings: post_integration,
        validation: ValidationPreview {
            bootstrap_preview,
            lanes_preview: match &lanes {
                Some(manifest) => LanesPreview::Computed(Box::new(manifest.clone())),
                None => LanesPreview::NotComputed,
            },
        },
        message: VALIDATION_PASSED_MESSAGE.to_owned(),
    };
    Ok(CheckedPlan {
        report,
        planning_branch,
        eligible_dependencies,
        lanes,
        to_seed,
    })
}

/// The raw `requirement_refs` tokens of a file whose front matter fails the model.
fn raw_tokens_without_model(view: &WpView<'_>) -> Vec<String> {
    let Ok(raw) = view.raw else {
        return Vec::new();
    };
    let text = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    split_work_package(text, "")
        .ok()
        .and_then(|split| crate::planning::work_package::parse_front_matter_map(&split.yaml).ok())
        .map(|map| raw_requirement_ref_tokens(map.get("requirement_refs")))
        .unwrap_or_default()
}

/// Spec Kitty's charter activation gate for one work package.
fn charter_gate(
    meta: &WpMetadata,
    wp_id: &str,
    env: &dyn FinalizeEnvironment,
) -> Result<(), Refusal> {
    let Some(profile) = meta
        .agent_profile
        .as_deref()
        .filter(|profile| !profile.is_empty())
    else {
        return Ok(());
    };
    let activated = env.activated_agent_profiles().map_err(|error| {
        Refusal::exception(
            "CHARTER_CONFIG_INVALID",
            error,
            "Fix .kittify/config.yaml and the charter it points to",
        )
    })?;
    let Some(activated) = activated else {
        return Ok(());
    };
    if activated.contains(profile) {
        return Ok(());
    }
    let mut sorted: Vec<&String> = activated.iter().collect();
    sorted.sort_by(|a, b| pytext::code_point_order(a, b));
    let list = if sorted.is_empty() {
        "(none)".to_owned()
    } else {
        sorted
            .iter()
            .map(|profile| profile.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let resolution = format!("spec-kitty charter activate agent-profile {profile}");
    let report = format!(
        "✗ Charter activation gate FAILED\n  WP {wp_id} assigns profile: {profile}\n  '{profile}' is not in the activated agent-profile set.\n  Currently activated: {list}\n  Resolution: {resolution}"
    );
    let mut refusal = Refusal::new(
        "CHARTER_ACTIVATION_GATE_FAILED",
        format!(
            "artifact={}, activated={}, resolution={}",
            pytext::repr(profile),
            pytext::repr(&list),
            pytext::repr(&resolution)
        ),
        format!(
            "Activate the profile (`{resolution}`), or set {wp_id}'s `agent_profile` to an activated one"
        ),
    );
    refusal.report = Some(report);
    Err(refusal)
}

/// Spec Kitty's audit-coverage warnings for `codebase-wide` work packages.
fn audit_coverage_warnings(
    manifests: &[(String, OwnershipManifest)],
    tree: &dyn RepoTree,
) -> Vec<String> {
    let wide: Vec<&Vec<String>> = manifests
        .iter()
        .filter(|(_, manifest)| manifest.is_codebase_wide())
        .map(|(_, manifest)| &manifest.owned_files)
        .collect();
    if wide.is_empty() {
        return Vec::new();
    }
    let mut targets: Vec<String> = Vec::new();
    let missions = "src/specify_cli/missions";
    if tree.is_dir(missions) {
        let mut names: Vec<String> = tree
            .entries(missions)
            .iter()
            .filter(|entry| entry.is_dir)
            .map(|entry| entry.name.clone())
            .collect();
        names.sort_by(|a, b| pytext::code_point_order(a, b));
        for name in names {
            let target = format!("{missions}/{name}/command-templates");
            if tree.is_dir(&target) && !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    let mut fixed = vec!["docs".to_owned()];
    fixed.extend(
        AUDIT_AGENT_DIRS
            .iter()
            .map(|(root, sub)| format!("{root}/{sub}")),
    );
    for target in fixed {
        if tree.is_dir(&target) && !targets.contains(&target) {
            targets.push(target);
        }
    }
    let mut warnings = Vec::new();
    for target in targets {
        let with_slash = format!("{target}/");
        let covered = wide.iter().any(|files| {
            files.iter().any(|pattern| {
                crate::planning::lanes_manifest::fnmatch(&target, pattern)
                    || crate::planning::lanes_manifest::fnmatch(&with_slash, pattern)
                    || pattern == "**/*"
                    || pattern == "**"
                    || {
                        let prefix = pattern.trim_end_matches('*').trim_end_matches('/');
                        !prefix.is_empty() && target.starts_with(prefix)
                    }
            })
        });
        if !covered {
            warnings.push(format!(
                "Audit target {target}/ not covered by any codebase-wide WP"
            ));
        }
    }
    warnings
}

/// Computes the lanes as Spec Kitty's `compute_lanes` does for the preview: every eligible
/// work package needs an ownership manifest; a lane graph with a cycle is refused.
fn preview_lanes(
    graph: &[(String, Vec<String>)],
    manifests: &[(String, OwnershipManifest)],
    bodies: &BTreeMap<&str, &str>,
    mission_slug: &str,
    mission_id: Option<MissionId>,
    target_branch: &str,
) -> Result<LanesManifest, Refusal> {
    let mut work_packages: Vec<LaneWorkPackage> = Vec::new();
    for (wp_id, deps) in graph {
        let Some((_, manifest)) = manifests.iter().find(|(id, _)| id == wp_id) else {
            return Err(Refusal::exception(
                "LANE_COMPUTATION_FAILED",
                format!(
                    "Executable WP '{wp_id}' has no ownership manifest. Ensure owned_files and execution_mode are set in WP frontmatter, or run finalize-tasks to infer them."
                ),
                "Set `execution_mode` and `owned_files` in the work package's front matter",
            ));
        };
        work_packages.push(LaneWorkPackage {
            wp_id: wp_id.clone(),
            dependencies: deps.clone(),
            owned_files: manifest.owned_files.clone(),
            execution_mode: manifest.execution_mode,
            body: Some(
                bodies
                    .get(wp_id.as_str())
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
            ),
        });
    }
    let mut manifest = compute_lanes(&LanesInput {
        mission_slug: mission_slug.to_owned(),
        mission_id,
        target_branch: target_branch.to_owned(),
        computed_at: String::new(),
        planning_commit_sha: None,
        work_packages,
    })
    .map_err(|error| {
        Refusal::exception(
            error.code(),
            error.to_string(),
            "Break the dependency cycle inside the lane",
        )
    })?;
    let lane_deps: BTreeMap<String, BTreeSet<String>> = manifest
        .lanes
        .iter()
        .map(|lane| {
            (
                lane.lane_id.clone(),
                lane.depends_on_lanes.iter().cloned().collect(),
            )
        })
        .collect();
    if let Some(cycle) = crate::planning::lanes_manifest::find_lane_dependency_cycle(&lane_deps) {
        let cycle_lanes: Vec<Value> = cycle[..cycle.len().saturating_sub(1)]
            .iter()
            .map(|lane_id| {
                let mut wp_ids: Vec<String> = manifest
                    .lane(lane_id)
                    .map(|lane| lane.wp_ids.clone())
                    .unwrap_or_default();
                wp_ids.sort_by(|a, b| pytext::code_point_order(a, b));
                serde_json::json!({"lane_id": lane_id, "wp_ids": wp_ids})
            })
            .collect();
        return Err(Refusal::new(
            "LANE_DEPENDENCY_CYCLE",
            format!("Execution-lane dependency cycle detected: {}", cycle.join(" -> ")),
            "Work packages that share files share a lane; order them so no lane waits on a lane that waits on it",
        )
        .with("cycle_path", strings_value(&cycle))
        .with("cycle_lanes", Value::Array(cycle_lanes)));
    }
    if manifest.collapse_report.is_none()
        && manifest
            .lanes
            .iter()
            .any(|lane| lane.lane_id != crate::planning::lanes_manifest::PLANNING_LANE_ID)
    {
        manifest.collapse_report = Some(crate::planning::lanes_manifest::CollapseReport {
            events: Vec::new(),
            total_merges: 0,
            independent_wps_collapsed: 0,
            by_rule: Vec::new(),
        });
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::repo_glob::tests::MemoryTree;

    struct World {
        tree: MemoryTree,
        lanes: BTreeMap<String, Lane>,
        profiles: Option<BTreeSet<String>>,
    }

    impl FinalizeEnvironment for World {
        fn is_protected(&self, branch: &str) -> bool {
            branch == "main"
        }
        fn lifecycle_lanes(&self) -> Result<BTreeMap<String, Lane>, SurfaceError> {
            Ok(self.lanes.clone())
        }
        fn initialized_wp_ids(&self) -> Result<BTreeSet<String>, String> {
            Ok(self.lanes.keys().cloned().collect())
        }
        fn activated_agent_profiles(&self) -> Result<Option<BTreeSet<String>>, String> {
            Ok(self.profiles.clone())
        }
        fn tree(&self) -> &dyn RepoTree {
            &self.tree
        }
    }

    fn world() -> World {
        World {
            tree: MemoryTree::new(&["src/a/x.py", "src/b/y.py", "docs/"]),
            lanes: BTreeMap::new(),
            profiles: None,
        }
    }

    const SPEC: &str = "# Spec\n\n## Functional Requirements\n\n- FR-001: one\n- FR-002: two\n";

    fn wp(name: &str, front: &str) -> WpFileInput {
        WpFileInput {
            name: name.to_owned(),
            text: Ok(format!("---\n{front}---\n\n# {name}\n")),
        }
    }

    fn input(files: Vec<WpFileInput>) -> FinalizeInput {
        let mut meta = Map::new();
        meta.insert("target_branch".to_owned(), Value::from("feature/x"));
        meta.insert(
            "mission_id".to_owned(),
            Value::from("01KVTVZS6ZT02NTR0YBJ9WWKMJ"),
        );
        FinalizeInput {
            mission_slug: "demo-01KVTVZS".to_owned(),
            mission_dir: "/repo/kitty-specs/demo-01KVTVZS".to_owned(),
            meta: MetaInput::Object(meta),
            wp_files: Some(files),
            spec_md: Some(SPEC.to_owned()),
            tasks_md: None,
            wps_yaml: None,
            plan_md: None,
            occurrence_map_exists: false,
        }
    }

    const WP01: &str = "work_package_id: WP01\ntitle: A\ndependencies: []\nrequirement_refs: [FR-001]\nexecution_mode: code_change\nowned_files: [src/a/**]\nauthoritative_surface: src/a/\n";
    const WP02: &str = "work_package_id: WP02\ntitle: B\ndependencies: [WP01]\nrequirement_refs: [FR-002]\nexecution_mode: code_change\nowned_files: [src/b/y.py]\nauthoritative_surface: src/b/\n";

    #[test]
    fn a_plan_that_passes_reports_what_spec_kitty_would_rewrite_and_the_lanes() {
        let plan = check_plan(
            &input(vec![wp("WP02-b.md", WP02), wp("WP01-a.md", WP01)]),
            &world(),
        )
        .expect("the plan passes");
        let report = &plan.report;
        assert_eq!(report.wp_count, 2);
        assert_eq!(report.updated_wp_count, 2);
        let changed: Vec<Vec<&str>> = report
            .would_modify
            .iter()
            .map(|change| {
                change
                    .changes
                    .0
                    .iter()
                    .map(|(key, _)| key.as_str())
                    .collect()
            })
            .collect();
        assert_eq!(
            changed,
            [
                vec![
                    "planning_base_branch",
                    "merge_target_branch",
                    "branch_strategy"
                ],
                vec![
                    "planning_base_branch",
                    "merge_target_branch",
                    "branch_strategy"
                ]
            ]
        );
        assert_eq!(report.would_preserve, ["WP02"]);
        assert_eq!(report.validation.bootstrap_preview.newly_seeded, 2);
        assert_eq!(plan.to_seed, ["WP02", "WP01"]);
        let LanesPreview::Computed(lanes) = &report.validation.lanes_preview else {
            panic!("lanes are computed");
        };
        let lanes: Vec<(&str, &[String])> = lanes
            .lanes
            .iter()
            .map(|lane| (lane.lane_id.as_str(), lane.depends_on_lanes.as_slice()))
            .collect();
        assert_eq!(
            lanes,
            [("lane-a", &[][..]), ("lane-b", &["lane-a".to_owned()][..])]
        );
        let json = serde_json::to_value(report).expect("serializable");
        assert_eq!(
            json["validation"]["lanes_preview"]["collapse_report"],
            serde_json::json!({"events": [], "total_merges": 0, "independent_wps_collapsed": 0, "by_rule": {}})
        );
    }

    #[test]
    fn requirement_gaps_are_refused_with_spec_kittys_fields() {
        let refusal = check_plan(
            &input(vec![
                wp("WP01-a.md", WP01),
                wp(
                    "WP02-b.md",
                    "work_package_id: WP02\ntitle: B\nrequirement_refs: [FR-009]\n",
                ),
            ]),
            &world(),
        )
        .expect_err("refused");
        assert_eq!(refusal.code, "REQUIREMENT_MAPPING_INCOMPLETE");
        assert_eq!(refusal.message, "Requirement mapping validation failed");
        assert!(
            refusal
                .hint
                .contains("missionctl map-requirements --mission demo-01KVTVZS --wp WP02")
        );
        let data: BTreeMap<&str, &Value> = refusal
            .data
            .0
            .iter()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        assert_eq!(
            data["unknown_requirement_refs"],
            &serde_json::json!({"WP02": ["FR-009"]})
        );
        assert_eq!(
            data["unmapped_functional_requirements"],
            &serde_json::json!(["FR-002"])
        );
        assert_eq!(data["dependencies_parsed"], &serde_json::json!({}));
    }

    #[test]
    fn without_tasks_md_the_front_matter_dependencies_are_checked() {
        let cycle = WP01.replace("dependencies: []", "dependencies: [WP02]");
        let refusal = check_plan(
            &input(vec![wp("WP01-a.md", &cycle), wp("WP02-b.md", WP02)]),
            &world(),
        )
        .expect_err("refused");
        assert_eq!(refusal.code, "DEPENDENCY_CYCLE");
        assert_eq!(
            refusal.message,
            "Circular dependencies detected: [['WP01', 'WP02', 'WP01']]"
        );
    }

    #[test]
    fn ids_of_three_digits_are_read() {
        let wp100 = WP02.replace("WP02", "WP100").replace("[WP01]", "[WP01]\n");
        let plan = check_plan(
            &input(vec![wp("WP01-a.md", WP01), wp("WP100-b.md", &wp100)]),
            &world(),
        )
        .expect("the plan passes");
        assert_eq!(plan.report.wp_count, 2);
        assert_eq!(plan.to_seed, ["WP01", "WP100"]);
    }

    #[test]
    fn the_charter_gate_names_the_first_work_package_and_the_profiles() {
        let mut world = world();
        world.profiles = Some(
            ["python-pedro", "architect-alphonso"]
                .map(str::to_owned)
                .into(),
        );
        let profiled = format!("{WP01}agent_profile: implementer\n");
        let refusal = check_plan(
            &input(vec![wp("WP01-a.md", &profiled), wp("WP02-b.md", WP02)]),
            &world,
        )
        .expect_err("refused");
        assert_eq!(refusal.code, "CHARTER_ACTIVATION_GATE_FAILED");
        assert_eq!(
            refusal.message,
            "artifact='implementer', activated='architect-alphonso, python-pedro', resolution='spec-kitty charter activate agent-profile implementer'"
        );
        assert_eq!(
            refusal.report.as_deref(),
            Some(
                "✗ Charter activation gate FAILED\n  WP WP01 assigns profile: implementer\n  'implementer' is not in the activated agent-profile set.\n  Currently activated: architect-alphonso, python-pedro\n  Resolution: spec-kitty charter activate agent-profile implementer"
            )
        );
    }

    #[test]
    fn literal_owned_paths_must_exist_and_globs_only_warn() {
        let missing = WP02.replace("src/b/y.py", "src/b/z.py");
        let refusal = check_plan(
            &input(vec![wp("WP01-a.md", WP01), wp("WP02-b.md", &missing)]),
            &world(),
        )
        .expect_err("refused");
        assert_eq!(refusal.code, "OWNED_FILES_NOT_FOUND");
        let intended = missing.replace(
            "authoritative_surface",
            "create_intent: [src/b/z.py]\nauthoritative_surface",
        );
        let globbed = WP01.replace("src/a/**", "src/a/**/*.rs");
        let plan = check_plan(
            &input(vec![wp("WP01-a.md", &globbed), wp("WP02-b.md", &intended)]),
            &world(),
        )
        .expect("create_intent and a glob pass");
        assert_eq!(
            plan.report.ownership_warnings,
            ["WP01: owned_files glob 'src/a/**/*.rs' matches zero files in the repository"]
        );
    }
}
