//! A mission's set of work packages as one plan: the checks `tasks finalize` runs before
//! writing anything, and the ready-work gate.
//!
//! [`validate_plan`] reports every problem at once, each naming its file, line and field:
//! malformed or duplicate ids, dependencies on missing work packages or on themselves,
//! dependency cycles, malformed or duplicate subtasks, unknown execution modes, owned-file
//! globs that escape the repository, and owned files claimed by two work packages that no
//! dependency orders (they would share a lane with nothing saying which runs first).
//!
//! [`dependency_readiness`] is the gate of `ready` and of `planned → claimed`: a work package
//! is ready when every dependency is `done`. Like Spec Kitty's `orchestrator-api list-ready`,
//! `approved` is not enough: approved work is not merged yet, so building on it would build
//! on code that may still change.

pub mod finalize;
pub mod ownership;
pub mod tasks_md;
pub mod wp_metadata;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::planning::lanes_manifest::{LaneWorkPackage, overlap_candidates, overlapping_globs};
use crate::planning::work_package::{
    ExecutionMode, FrontMatter, is_subtask_id, is_work_package_id, work_package_id_from_file_name,
};
use crate::status::lane::Lane;

/// One work-package file of a mission, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkPackageEntry {
    /// The file, relative to the mission directory (`tasks/WP01-storage.md`).
    pub file: String,
    /// How many lines of the file precede the YAML text (1: the opening `---`).
    pub line_offset: usize,
    /// The front matter.
    pub front: FrontMatter,
    /// The Markdown body after the front matter.
    pub body: String,
}

impl WorkPackageEntry {
    /// Returns the id: the front matter's `work_package_id`, else the file name's `WPnn`
    /// prefix, else the file name.
    pub fn id(&self) -> &str {
        self.front
            .work_package_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .or_else(|| work_package_id_from_file_name(self.file_name()))
            .unwrap_or(&self.file)
    }

    /// Returns the file name without its directory.
    pub fn file_name(&self) -> &str {
        self.file.rsplit('/').next().unwrap_or(&self.file)
    }

    /// Returns the line in the file of a top-level key (the first line of the front matter
    /// when the key is absent).
    pub fn line_of(&self, key: &str) -> usize {
        self.line_offset + self.front.line_of(key).unwrap_or(1)
    }

    /// Returns the work package as the lane computation sees it (an unknown execution mode
    /// counts as code).
    pub fn lane_input(&self) -> LaneWorkPackage {
        LaneWorkPackage {
            wp_id: self.id().to_owned(),
            dependencies: self.front.dependencies.clone(),
            owned_files: self.front.owned_files().to_vec(),
            execution_mode: self.front.mode().unwrap_or(ExecutionMode::CodeChange),
            body: Some(self.body.clone()),
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Finalize refuses to write anything.
    Error,
    /// Reported; finalize goes on.
    Warning,
}

/// One problem in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanFinding {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code, such as `DEPENDENCY_CYCLE`.
    pub code: &'static str,
    /// The work package, when the finding is about one.
    pub wp_id: Option<String>,
    /// The file, relative to the mission directory.
    pub file: Option<String>,
    /// The line in that file.
    pub line: Option<usize>,
    /// The front-matter key.
    pub field: Option<&'static str>,
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for PlanFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        if let Some(field) = self.field {
            write!(f, "`{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The findings of [`validate_plan`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PlanReport {
    /// Every finding, errors first, each group in file order.
    pub findings: Vec<PlanFinding>,
}

impl PlanReport {
    /// Returns the errors.
    pub fn errors(&self) -> impl Iterator<Item = &PlanFinding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
    }

    /// Returns the warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &PlanFinding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity == Severity::Warning)
    }

    /// Returns true when there is no error.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }
}

struct Collector {
    errors: Vec<PlanFinding>,
    warnings: Vec<PlanFinding>,
}

impl Collector {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        entry: Option<&WorkPackageEntry>,
        field: Option<&'static str>,
        message: String,
    ) {
        let finding = PlanFinding {
            severity,
            code,
            wp_id: entry.map(|entry| entry.id().to_owned()),
            file: entry.map(|entry| entry.file.clone()),
            line: entry.map(|entry| match field {
                Some(field) => entry.line_of(field),
                None => entry.line_offset + 1,
            }),
            field,
            message,
        };
        match severity {
            Severity::Error => self.errors.push(finding),
            Severity::Warning => self.warnings.push(finding),
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        entry: &WorkPackageEntry,
        field: Option<&'static str>,
        message: String,
    ) {
        self.push(Severity::Error, code, Some(entry), field, message);
    }
}

/// Returns true when a glob names a path outside the repository: absolute, or climbing above
/// the root with `..`.
pub fn glob_escapes_repository(glob: &str) -> bool {
    let glob = glob.trim();
    if glob.starts_with('/') || glob.starts_with('\\') || glob.starts_with('~') {
        return true;
    }
    if glob.len() >= 2 && glob.as_bytes()[1] == b':' && glob.as_bytes()[0].is_ascii_alphabetic() {
        return true;
    }
    let mut depth: i64 = 0;
    for component in glob.split(['/', '\\']) {
        match component {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Checks a mission's work packages as a whole. See the [module](self) docs.
pub fn validate_plan(entries: &[WorkPackageEntry]) -> PlanReport {
    let mut out = Collector {
        errors: Vec::new(),
        warnings: Vec::new(),
    };

    // Ids: well formed, consistent with the file name, unique.
    let mut files_by_id: BTreeMap<&str, Vec<&WorkPackageEntry>> = BTreeMap::new();
    for entry in entries {
        let id = entry.id();
        if !is_work_package_id(id) {
            out.error(
                "WP_ID_INVALID",
                entry,
                Some("work_package_id"),
                format!("`{id}` is not a work package id; use `WP` and two or more digits"),
            );
        }
        if let (Some(declared), Some(from_name)) = (
            entry.front.work_package_id.as_deref().map(str::trim),
            work_package_id_from_file_name(entry.file_name()),
        ) && declared != from_name
        {
            out.error(
                "WP_ID_MISMATCH",
                entry,
                Some("work_package_id"),
                format!("declares {declared}, but the file name says {from_name}"),
            );
        }
        files_by_id.entry(id).or_default().push(entry);
    }
    for (id, files) in &files_by_id {
        if files.len() > 1 {
            let names: Vec<&str> = files.iter().map(|entry| entry.file.as_str()).collect();
            for entry in files {
                out.error(
                    "WP_ID_DUPLICATE",
                    entry,
                    Some("work_package_id"),
                    format!(
                        "{id} is defined by {} files: {}",
                        names.len(),
                        names.join(", ")
                    ),
                );
            }
        }
    }

    // Dependencies: well formed, known, not on itself; then cycles among the known ones.
    let known: BTreeSet<&str> = files_by_id.keys().copied().collect();
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for entry in entries {
        let id = entry.id();
        let mut seen = BTreeSet::new();
        for dep in &entry.front.dependencies {
            if !seen.insert(dep.as_str()) {
                continue;
            }
            if dep == id {
                out.error(
                    "DEPENDENCY_SELF",
                    entry,
                    Some("dependencies"),
                    format!("{id} depends on itself"),
                );
            } else if !is_work_package_id(dep) {
                out.error(
                    "DEPENDENCY_INVALID",
                    entry,
                    Some("dependencies"),
                    format!("`{dep}` is not a work package id"),
                );
            } else if !known.contains(dep.as_str()) {
                out.error(
                    "DEPENDENCY_UNKNOWN",
                    entry,
                    Some("dependencies"),
                    format!("{id} depends on {dep}, which is not a work package of this mission"),
                );
            } else {
                graph.entry(id).or_default().push(dep.as_str());
            }
        }
        graph.entry(id).or_default();
    }
    for cycle in find_cycles(&graph) {
        if let Some(entry) = cycle
            .first()
            .and_then(|first| files_by_id.get(first.as_str()))
            .and_then(|files| files.first())
        {
            let mut path = cycle.clone();
            path.push(cycle[0].clone());
            out.error(
                "DEPENDENCY_CYCLE",
                entry,
                Some("dependencies"),
                format!("dependency cycle: {}", path.join(" → ")),
            );
        }
    }

    // Subtasks: well formed and unique across the mission (annotations name them by id).
    let mut subtask_owner: BTreeMap<&str, &str> = BTreeMap::new();
    for entry in entries {
        let mut seen = BTreeSet::new();
        for subtask in &entry.front.subtasks {
            if !is_subtask_id(subtask) {
                out.error(
                    "SUBTASK_INVALID",
                    entry,
                    Some("subtasks"),
                    format!("`{subtask}` is not a subtask id; use `T` and digits, such as `T001`"),
                );
                continue;
            }
            if !seen.insert(subtask.as_str()) {
                out.error(
                    "SUBTASK_DUPLICATE",
                    entry,
                    Some("subtasks"),
                    format!("{subtask} is listed twice"),
                );
                continue;
            }
            match subtask_owner.get(subtask.as_str()) {
                Some(owner) if *owner != entry.id() => out.error(
                    "SUBTASK_DUPLICATE",
                    entry,
                    Some("subtasks"),
                    format!("{subtask} is also a subtask of {owner}"),
                ),
                _ => {
                    subtask_owner.insert(subtask.as_str(), entry.id());
                }
            }
        }
    }

    // Execution mode and owned files.
    for entry in entries {
        if let Err(value) = entry.front.mode() {
            out.error(
                "EXECUTION_MODE_INVALID",
                entry,
                Some("execution_mode"),
                format!(
                    "`{value}` is not an execution mode; use `code_change` or `planning_artifact`"
                ),
            );
        }
        for glob in entry.front.owned_files() {
            if glob.trim().is_empty() {
                out.error(
                    "OWNED_FILE_INVALID",
                    entry,
                    Some("owned_files"),
                    "an owned-file glob is empty".to_owned(),
                );
            } else if glob_escapes_repository(glob) {
                out.error(
                    "OWNED_FILE_ESCAPES_REPO",
                    entry,
                    Some("owned_files"),
                    format!(
                        "`{glob}` points outside the repository; use a path relative to its root"
                    ),
                );
            }
        }
        if entry
            .front
            .title
            .as_deref()
            .is_none_or(|title| title.trim().is_empty())
        {
            out.push(
                Severity::Warning,
                "TITLE_MISSING",
                Some(entry),
                Some("title"),
                format!("{} has no title", entry.id()),
            );
        }
        if entry.front.mode() == Ok(ExecutionMode::CodeChange)
            && entry.front.owned_files().is_empty()
        {
            out.push(
                Severity::Warning,
                "OWNED_FILES_MISSING",
                Some(entry),
                Some("owned_files"),
                format!(
                    "{} owns no files, so nothing stops another work package from editing the same code in parallel",
                    entry.id()
                ),
            );
        }
    }

    // Overlaps between code work packages that no dependency path orders.
    let code: Vec<&WorkPackageEntry> = entries
        .iter()
        .filter(|entry| entry.front.mode() == Ok(ExecutionMode::CodeChange))
        .collect();
    let owned: Vec<&[String]> = code.iter().map(|entry| entry.front.owned_files()).collect();
    let candidates = overlap_candidates(&owned);
    if !candidates.is_empty() {
        let reach = Reachability::of(&graph);
        for (a, b) in candidates {
            let (a, b) = (code[a], code[b]);
            let (id_a, id_b) = (a.id(), b.id());
            if id_a == id_b || reach.ordered(id_a, id_b) {
                continue;
            }
            let pairs = overlapping_globs(a.front.owned_files(), b.front.owned_files());
            if let Some((glob_a, glob_b)) = pairs.first() {
                out.error(
                    "OWNED_FILES_OVERLAP",
                    b,
                    Some("owned_files"),
                    format!(
                        "`{glob_b}` of {id_b} overlaps `{glob_a}` of {id_a}, and neither depends on the other"
                    ),
                );
            }
        }
    }

    let mut findings = out.errors;
    findings.extend(out.warnings);
    PlanReport { findings }
}

/// Which work packages depend on which, directly or not (cycles tolerated), as one bit set
/// per work package.
struct Reachability<'a> {
    index: BTreeMap<&'a str, usize>,
    words: usize,
    bits: Vec<u64>,
}

impl<'a> Reachability<'a> {
    fn of(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Reachability<'a> {
        let index: BTreeMap<&str, usize> = graph
            .keys()
            .enumerate()
            .map(|(position, id)| (*id, position))
            .collect();
        let edges: Vec<Vec<usize>> = graph
            .values()
            .map(|deps| {
                deps.iter()
                    .filter_map(|dep| index.get(dep).copied())
                    .collect()
            })
            .collect();
        let words = index.len().div_ceil(64);
        let mut bits = vec![0u64; words * index.len()];
        let mut stack = Vec::new();
        for start in 0..edges.len() {
            let row = start * words;
            stack.extend(edges[start].iter().copied());
            while let Some(node) = stack.pop() {
                let (word, bit) = (row + node / 64, 1u64 << (node % 64));
                if bits[word] & bit == 0 {
                    bits[word] |= bit;
                    stack.extend(edges[node].iter().copied());
                }
            }
        }
        Reachability { index, words, bits }
    }

    /// Returns true when `a` depends on `b` or `b` on `a`, directly or not.
    fn ordered(&self, a: &str, b: &str) -> bool {
        let (Some(&a), Some(&b)) = (self.index.get(a), self.index.get(b)) else {
            return false;
        };
        let depends = |from: usize, to: usize| {
            self.bits[from * self.words + to / 64] & (1u64 << (to % 64)) != 0
        };
        depends(a, b) || depends(b, a)
    }
}

/// Returns the dependency cycles of a graph (id → dependencies), each once, rotated to start
/// at its smallest id, sorted.
pub fn find_cycles(graph: &BTreeMap<&str, Vec<&str>>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Gray,
        Black,
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        color: &mut BTreeMap<&'a str, Color>,
        path: &mut Vec<&'a str>,
        cycles: &mut BTreeSet<Vec<String>>,
    ) {
        color.insert(node, Color::Gray);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            match color.get(next).copied().unwrap_or(Color::White) {
                Color::Gray => {
                    if let Some(start) = path.iter().position(|id| id == next) {
                        let cycle = &path[start..];
                        let smallest = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, id)| **id)
                            .map_or(0, |(index, _)| index);
                        let rotated: Vec<String> = cycle[smallest..]
                            .iter()
                            .chain(cycle[..smallest].iter())
                            .map(|id| (*id).to_owned())
                            .collect();
                        cycles.insert(rotated);
                    }
                }
                Color::White if graph.contains_key(next) => {
                    visit(next, graph, color, path, cycles);
                }
                _ => {}
            }
        }
        path.pop();
        color.insert(node, Color::Black);
    }
    let mut color: BTreeMap<&str, Color> = graph.keys().map(|id| (*id, Color::White)).collect();
    let mut cycles = BTreeSet::new();
    for node in graph.keys() {
        if color.get(node) == Some(&Color::White) {
            visit(node, graph, &mut color, &mut Vec::new(), &mut cycles);
        }
    }
    cycles.into_iter().collect()
}

/// A dependency that is not `done` yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsatisfiedDependency {
    /// The dependency.
    pub wp_id: String,
    /// Its lane (`uninitialized` when it has no transition, or is unknown).
    #[serde(serialize_with = "serialize_lane")]
    pub lane: Lane,
}

fn serialize_lane<S: serde::Serializer>(lane: &Lane, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(lane.as_str())
}

/// Returns the dependencies of a work package that are not `done`, in the order given.
///
/// `lane_of` gives each work package's current lane (`None`: no transition yet). Only `done`
/// satisfies a dependency; see the [module](self) docs for why `approved` does not.
pub fn dependency_readiness<'a>(
    dependencies: impl IntoIterator<Item = &'a str>,
    lane_of: impl Fn(&str) -> Option<Lane>,
) -> Vec<UnsatisfiedDependency> {
    let mut seen = BTreeSet::new();
    dependencies
        .into_iter()
        .filter(|dep| seen.insert(*dep))
        .filter_map(|dep| {
            let lane = lane_of(dep).unwrap_or(Lane::Uninitialized);
            (lane != Lane::Done).then(|| UnsatisfiedDependency {
                wp_id: dep.to_owned(),
                lane,
            })
        })
        .collect()
}

/// Orders work package ids naturally: by the number after `WP`, then as text (`WP9` < `WP10`,
/// `WP1a` < `WP9`); ids without such a number come after every id with one, as text.
///
/// It is a total order, as `sort_by` requires (a comparison that is not may make the sort
/// panic): the ids are untrusted text, from front matter and from the log.
pub fn natural_id_order(a: &str, b: &str) -> std::cmp::Ordering {
    /// Whether the id lacks a number, then the number's digits without leading zeros,
    /// compared by length first (so any length compares as a number).
    fn key(id: &str) -> (bool, usize, &str) {
        let digits = id.strip_prefix("WP").map_or("", |rest| {
            &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()]
        });
        let significant = digits.trim_start_matches('0');
        (digits.is_empty(), significant.len(), significant)
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// Returns the ready work packages: in `planned`, every dependency `done`; in natural id
/// order. `work_packages` gives each id with its dependencies.
pub fn ready_work<'a>(
    work_packages: impl IntoIterator<Item = (&'a str, &'a [String])>,
    lane_of: impl Fn(&str) -> Option<Lane>,
) -> Vec<&'a str> {
    let mut ready: Vec<&str> = work_packages
        .into_iter()
        .filter(|(id, _)| lane_of(id) == Some(Lane::Planned))
        .filter(|(_, deps)| {
            dependency_readiness(deps.iter().map(String::as_str), &lane_of).is_empty()
        })
        .map(|(id, _)| id)
        .collect();
    ready.sort_by(|a, b| natural_id_order(a, b));
    ready.dedup();
    ready
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: &str, yaml: &str) -> WorkPackageEntry {
        WorkPackageEntry {
            file: format!("tasks/{file}"),
            line_offset: 1,
            front: FrontMatter::parse(yaml).expect("valid YAML"),
            body: String::new(),
        }
    }

    fn codes(report: &PlanReport) -> Vec<&'static str> {
        report.errors().map(|finding| finding.code).collect()
    }

    #[test]
    fn a_good_plan_has_no_errors() {
        let report = validate_plan(&[
            entry(
                "WP01-a.md",
                "work_package_id: WP01\ntitle: A\nsubtasks: [T001]\nowned_files: [src/a/**]\n",
            ),
            entry(
                "WP02-b.md",
                "work_package_id: WP02\ntitle: B\ndependencies: [WP01]\nsubtasks: [T002]\nowned_files: [src/a/x.py]\n",
            ),
        ]);
        assert!(report.is_valid(), "{report:#?}");
        assert_eq!(report.warnings().count(), 0);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let report = validate_plan(&[
            entry(
                "WP01-a.md",
                "work_package_id: WP01\ntitle: A\ndependencies: [WP03, WP09]\nowned_files: [src/**]\n",
            ),
            entry(
                "WP02-b.md",
                "work_package_id: WP02\ntitle: B\nsubtasks: [T001, x, T001]\nowned_files: [../etc/**, src/b.py]\n",
            ),
            entry(
                "WP03-c.md",
                "work_package_id: WP03\ntitle: C\ndependencies: [WP01]\nexecution_mode: review\n",
            ),
            entry("WP03-d.md", "work_package_id: WP03\ntitle: D\n"),
            entry(
                "WP05-e.md",
                "work_package_id: WP06\ntitle: E\nowned_files: [docs/e.md]\n",
            ),
        ]);
        assert_eq!(
            codes(&report),
            [
                "WP_ID_MISMATCH",
                "WP_ID_DUPLICATE",
                "WP_ID_DUPLICATE",
                "DEPENDENCY_UNKNOWN",
                "DEPENDENCY_CYCLE",
                "SUBTASK_INVALID",
                "SUBTASK_DUPLICATE",
                "OWNED_FILE_ESCAPES_REPO",
                "EXECUTION_MODE_INVALID",
                "OWNED_FILES_OVERLAP",
            ]
        );
        let unknown = report
            .errors()
            .find(|finding| finding.code == "DEPENDENCY_UNKNOWN")
            .expect("reported");
        assert_eq!(
            unknown.to_string(),
            "tasks/WP01-a.md:4: `dependencies`: WP01 depends on WP09, which is not a work package of this mission"
        );
        let cycle = report
            .errors()
            .find(|finding| finding.code == "DEPENDENCY_CYCLE")
            .expect("reported");
        assert_eq!(cycle.message, "dependency cycle: WP01 → WP03 → WP01");
    }

    #[test]
    fn escaping_globs() {
        for glob in [
            "/etc/**",
            "../x",
            "src/../../x",
            "~/x",
            "C:/x",
            "\\\\server\\x",
        ] {
            assert!(glob_escapes_repository(glob), "{glob}");
        }
        for glob in ["src/**", "src/../docs/x.md", "./a", "**/*.py"] {
            assert!(!glob_escapes_repository(glob), "{glob}");
        }
    }

    #[test]
    fn only_done_satisfies_a_dependency() {
        let lanes: BTreeMap<&str, Lane> = [
            ("WP01", Lane::Done),
            ("WP02", Lane::Approved),
            ("WP03", Lane::Planned),
            ("WP04", Lane::Planned),
            ("WP10", Lane::Planned),
            ("WP05", Lane::Claimed),
        ]
        .into_iter()
        .collect();
        let lane_of = |id: &str| lanes.get(id).copied();
        let deps: BTreeMap<&str, Vec<String>> = [
            ("WP03", vec!["WP01".to_owned()]),
            ("WP04", vec!["WP02".to_owned()]),
            ("WP10", vec![]),
            ("WP05", vec![]),
            ("WP01", vec![]),
        ]
        .into_iter()
        .collect();
        let ready = ready_work(deps.iter().map(|(id, d)| (*id, d.as_slice())), lane_of);
        assert_eq!(ready, ["WP03", "WP10"]);
        let blocked = dependency_readiness(["WP02", "WP99", "WP02"], lane_of);
        assert_eq!(
            blocked,
            [
                UnsatisfiedDependency {
                    wp_id: "WP02".to_owned(),
                    lane: Lane::Approved
                },
                UnsatisfiedDependency {
                    wp_id: "WP99".to_owned(),
                    lane: Lane::Uninitialized
                },
            ]
        );
        assert_eq!(natural_id_order("WP9", "WP10"), std::cmp::Ordering::Less);
    }

    /// `WP1a`, `WP9` and `WP10` compared in a cycle (text, number, text), so sorting 21 or
    /// more ready work packages could panic ("user-provided comparison function does not
    /// correctly implement a total order"). Found while writing the `task_plan` fuzz target.
    #[test]
    fn ids_sort_in_a_total_order() {
        use std::cmp::Ordering::{Equal, Less};
        let ids = [
            "WP20", "WP20", "WP2", "WP2", "WP3b", "WP9", "WP9", "WP20", "WP20", "WP1a", "WP3b",
            "WP3b", "WP1a", "WP1a", "WP20", "WP9", "WP10", "WP1a", "WP9", "WP9", "WP9",
        ];
        let mut sorted = ids.to_vec();
        sorted.sort_by(|a, b| natural_id_order(a, b));
        sorted.dedup();
        assert_eq!(sorted, ["WP1a", "WP2", "WP3b", "WP9", "WP10", "WP20"]);
        let no_deps: Vec<String> = Vec::new();
        let ready = ready_work(ids.iter().map(|id| (*id, no_deps.as_slice())), |_| {
            Some(Lane::Planned)
        });
        assert_eq!(ready, sorted);
        for (a, b, order) in [
            ("WP01", "WP1", Less),
            ("WP99999999999999999999", "WP100000000000000000000", Less),
            ("WP1", "WPx", Less),
            ("WP", "other", Less),
            ("WP7", "WP7", Equal),
        ] {
            assert_eq!(natural_id_order(a, b), order, "{a} {b}");
            assert_eq!(natural_id_order(b, a), order.reverse(), "{b} {a}");
        }
    }
}
