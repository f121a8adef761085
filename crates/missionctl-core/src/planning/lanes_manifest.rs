//! Execution lanes: `compute_lanes` over a mission's work packages, and `lanes.json` read and
//! written byte for byte as Spec Kitty writes it.
//!
//! A lane groups the work packages that must share one worktree and branch. Two code work
//! packages share a lane when their `owned_files` globs overlap (rule `write_scope_overlap`);
//! dependencies alone never merge lanes, they become lane-level dependencies, so disjoint
//! workstreams run in parallel and fan-in work packages become the synchronization points.
//! Planning-artifact work packages all go to the one lane `lane-planning`, which is the
//! primary checkout on the target branch, never a worktree.
//!
//! `lanes.json` is `json.dumps(manifest, indent=2)` plus a newline: keys in the declared order
//! (never sorted), every non-ASCII character escaped, each array element on its own line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::mission::meta::{MISSION_BRANCH_PREFIX, MissionId, coordination_branch_name};
use crate::planning::work_package::ExecutionMode;
use crate::text::pyjson::{self, Style};

/// The lane every planning-artifact work package goes to: the primary checkout.
pub const PLANNING_LANE_ID: &str = "lane-planning";

/// The `computed_from` value.
pub const COMPUTED_FROM: &str = "dependency_graph+ownership";

/// The `version` value.
pub const LANES_VERSION: i64 = 1;

/// The predicted surface of the planning lane.
const PLANNING_SURFACE: &str = "planning";

/// The surface taxonomy and the keywords (case-insensitive substrings of a work package's
/// body) that predict each surface, in Spec Kitty's order.
pub const SURFACE_KEYWORDS: [(&str, &[&str]); 8] = [
    ("dashboard", &["dashboard", "landing page", "landing-page"]),
    ("workspace", &["workspace", "mission workspace"]),
    (
        "app-shell",
        &["app shell", "app-shell", "navigation", "sidebar", "layout"],
    ),
    (
        "legacy-cleanup",
        &["legacy", "cleanup", "deprecat", "remov"],
    ),
    (
        "tests",
        &[
            "test suite",
            "test infrastructure",
            "e2e test",
            "integration test",
        ],
    ),
    ("tracker-integration", &["tracker", "saas", "sync"]),
    ("artifact-rendering", &["artifact", "render", "template"]),
    ("api", &["api", "endpoint", "route", "view"]),
];

/// Returns the surfaces a work package's body predicts, in taxonomy order.
pub fn infer_surfaces(body: &str) -> Vec<&'static str> {
    let lower = body.to_lowercase();
    SURFACE_KEYWORDS
        .iter()
        .filter(|(_, keywords)| keywords.iter().any(|keyword| lower.contains(keyword)))
        .map(|(surface, _)| *surface)
        .collect()
}

/// Returns the mission integration branch: `kitty/mission-<human-slug>-<mid8>`, or the legacy
/// `kitty/mission-<dir>` without a mission id. It is also the coordination branch's name.
pub fn mission_branch_name(mission_dir: &str, mission_id: Option<&MissionId>) -> String {
    match mission_id {
        Some(id) => coordination_branch_name(mission_dir, id),
        None => format!("{MISSION_BRANCH_PREFIX}{mission_dir}"),
    }
}

/// Returns a lane's branch: `<mission branch>-<lane_id>`, or the target branch for
/// `lane-planning`.
pub fn lane_branch_name(mission_branch: &str, lane_id: &str, target_branch: &str) -> String {
    if lane_id == PLANNING_LANE_ID {
        target_branch.to_owned()
    } else {
        format!("{mission_branch}-{lane_id}")
    }
}

/// Returns a lane worktree's directory name under `.worktrees/`: `<mission dir>-<lane_id>`.
pub fn lane_worktree_dir_name(mission_dir: &str, lane_id: &str) -> String {
    format!("{mission_dir}-{lane_id}")
}

/// Python's `fnmatch.fnmatch` on POSIX: `*` matches any run of characters (`/` included),
/// `?` any one character, `[seq]` / `[!seq]` a character class (an unclosed `[` is literal).
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    // The literal text before the first wildcard must begin the name: a cheap rejection of
    // most pairs of owned-file globs, which share no directory.
    let head = pattern
        .bytes()
        .position(|byte| matches!(byte, b'*' | b'?' | b'['))
        .map_or(pattern, |wildcard| &pattern[..wildcard]);
    if head.len() == pattern.len() {
        return name == pattern;
    }
    if !name.starts_with(head) {
        return false;
    }
    if name.is_ascii() && pattern.is_ascii() {
        return fnmatch_units(name.as_bytes(), pattern.as_bytes());
    }
    let name: Vec<char> = name.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    fnmatch_units(&name, &pattern)
}

/// A character of a name or pattern: a byte for ASCII text, a `char` otherwise.
trait Unit: Copy + PartialEq + PartialOrd {
    fn is(self, ascii: u8) -> bool;
}

impl Unit for u8 {
    fn is(self, ascii: u8) -> bool {
        self == ascii
    }
}

impl Unit for char {
    fn is(self, ascii: u8) -> bool {
        self == char::from(ascii)
    }
}

fn fnmatch_units<U: Unit>(name: &[U], pattern: &[U]) -> bool {
    // Iterative matcher with single-star backtracking: `*` is the only variable-length token.
    let (mut n, mut p) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(&unit) if unit.is(b'*') => {
                backtrack = Some((p, n));
                p += 1;
                continue;
            }
            Some(&unit) if unit.is(b'?') => {
                n += 1;
                p += 1;
                continue;
            }
            Some(&unit) if unit.is(b'[') => {
                if let Some((matched, next)) = match_class(pattern, p, name[n]) {
                    if matched {
                        n += 1;
                        p = next;
                        continue;
                    }
                } else if name[n].is(b'[') {
                    n += 1;
                    p += 1;
                    continue;
                }
            }
            Some(&literal) if literal == name[n] => {
                n += 1;
                p += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star, start)) => {
                p = star + 1;
                n = start + 1;
                backtrack = Some((star, start + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|unit| unit.is(b'*'))
}

/// Matches `ch` against the class opening at `pattern[open]`; `None` when the bracket is not
/// closed (then it is a literal `[`). Returns whether it matched and the index after `]`.
fn match_class<U: Unit>(pattern: &[U], open: usize, ch: U) -> Option<(bool, usize)> {
    let mut index = open + 1;
    let negated = pattern.get(index).is_some_and(|unit| unit.is(b'!'));
    if negated {
        index += 1;
    }
    let first = index;
    if pattern.get(index).is_some_and(|unit| unit.is(b']')) {
        index += 1;
    }
    while pattern.get(index).is_some_and(|unit| !unit.is(b']')) {
        index += 1;
    }
    pattern.get(index)?;
    let members = &pattern[first..index];
    let mut matched = false;
    let mut i = 0;
    while i < members.len() {
        if i + 2 < members.len() && members[i + 1].is(b'-') {
            if members[i] <= ch && ch <= members[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if members[i] == ch {
                matched = true;
            }
            i += 1;
        }
    }
    Some((matched != negated, index + 1))
}

/// Returns the path prefix of a glob: one trailing `/**`, `/*`, `**` or `*` removed.
fn glob_prefix(pattern: &str) -> &str {
    ["/**", "/*", "**", "*"]
        .iter()
        .find_map(|suffix| pattern.strip_suffix(suffix))
        .unwrap_or(pattern)
}

/// Returns true when two owned-file globs may claim a common path, by Spec Kitty's rule:
/// equal; or one prefix (a trailing wildcard removed) is a string prefix of the other; or one
/// glob matches the other's prefix.
pub fn globs_overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (prefix_a, prefix_b) = (glob_prefix(a), glob_prefix(b));
    if !prefix_a.is_empty()
        && !prefix_b.is_empty()
        && (prefix_b.starts_with(prefix_a) || prefix_a.starts_with(prefix_b))
    {
        return true;
    }
    fnmatch(prefix_b, a) || fnmatch(prefix_a, b)
}

/// Returns the pairs of overlapping globs of two work packages, in order.
pub fn overlapping_globs<'a>(a: &'a [String], b: &'a [String]) -> Vec<(&'a str, &'a str)> {
    a.iter()
        .flat_map(|glob_a| {
            b.iter()
                .map(move |glob_b| (glob_a.as_str(), glob_b.as_str()))
        })
        .filter(|(glob_a, glob_b)| globs_overlap(glob_a, glob_b))
        .collect()
}

/// Returns the shorter of a glob's literal text before its first wildcard and its stem (the
/// glob without one trailing wildcard): both are prefixes of the glob, so this one is a
/// prefix of both.
fn overlap_key(glob: &str) -> &str {
    let head = glob
        .bytes()
        .position(|byte| matches!(byte, b'*' | b'?' | b'['))
        .map_or(glob, |wildcard| &glob[..wildcard]);
    let stem = glob_prefix(glob);
    if head.len() <= stem.len() { head } else { stem }
}

/// Returns the pairs `(i, j)`, `i < j`, of work packages (given by their owned-file globs)
/// whose globs *may* overlap, sorted; every pair [`globs_overlap`] accepts is among them.
///
/// Each glob gets a key: the shorter of its literal text before the first wildcard and its
/// stem. Two globs can only overlap when one key is a prefix of the other: equal globs share
/// it; when one stem is a prefix of the other, both keys are prefixes of the longer stem; and
/// `fnmatch` of one glob against the other's stem needs that stem to begin with the glob's
/// literal text, so again both keys are prefixes of that stem. Sorting the keys makes the work
/// packages that share no directory cost nothing, instead of comparing every pair.
pub fn overlap_candidates(globs: &[&[String]]) -> Vec<(usize, usize)> {
    let mut heads: Vec<(&str, usize)> = globs
        .iter()
        .enumerate()
        .flat_map(|(wp, list)| list.iter().map(move |glob| (overlap_key(glob), wp)))
        .collect();
    heads.sort_unstable();
    let mut pairs = std::collections::BTreeSet::new();
    for (position, (head, wp)) in heads.iter().enumerate() {
        // Every head that starts with this one follows it in sorted order, contiguously.
        for (other_head, other) in &heads[position + 1..] {
            if !other_head.starts_with(head) {
                break;
            }
            if other != wp {
                pairs.insert(((*wp).min(*other), (*wp).max(*other)));
            }
        }
    }
    pairs.into_iter().collect()
}

/// One lane of `lanes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionLane {
    /// `lane-a`, `lane-b`, …, or `lane-planning`.
    pub lane_id: String,
    /// The work packages, in execution order.
    pub wp_ids: Vec<String>,
    /// The sorted union of their owned-file globs.
    pub write_scope: Vec<String>,
    /// The sorted surfaces their bodies predict.
    pub predicted_surfaces: Vec<String>,
    /// The lanes that must complete first, sorted.
    pub depends_on_lanes: Vec<String>,
    /// The lane's depth in the lane graph: lanes with the same value may run in parallel.
    pub parallel_group: i64,
}

/// Why two work packages were put in one lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollapseEvent {
    /// The first work package of the pair.
    pub wp_a: String,
    /// The second.
    pub wp_b: String,
    /// `write_scope_overlap` or `surface_heuristic` (older files also have `dependency`).
    pub rule: String,
    /// What overlapped.
    pub evidence: String,
}

/// The lane merges of a computation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollapseReport {
    /// The merges, in the order they happened.
    pub events: Vec<CollapseEvent>,
    /// The number of merges.
    pub total_merges: i64,
    /// The merges of two work packages with no dependency path between them.
    pub independent_wps_collapsed: i64,
    /// The number of merges per rule, in order of first appearance.
    pub by_rule: Vec<(String, i64)>,
}

/// `lanes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanesManifest {
    /// The schema version, 1.
    pub version: i64,
    /// The mission directory name.
    pub mission_slug: String,
    /// The mission ULID (never the slug); `None` for a legacy mission.
    pub mission_id: Option<String>,
    /// The mission integration branch.
    pub mission_branch: String,
    /// The branch the mission merges into.
    pub target_branch: String,
    /// The lanes, sorted by `(parallel_group, lane_id)`.
    pub lanes: Vec<ExecutionLane>,
    /// When the lanes were computed (ISO UTC).
    pub computed_at: String,
    /// `dependency_graph+ownership`.
    pub computed_from: String,
    /// The planning-artifact work packages (a view of `lane-planning`).
    pub planning_artifact_wps: Vec<String>,
    /// The commit the planning artifacts were finalized on; `None` is written as `null`.
    pub planning_commit_sha: Option<String>,
    /// The merges; written only when there was at least one.
    pub collapse_report: Option<CollapseReport>,
    /// Whether the file carries `planning_commit_sha` (files from before Spec Kitty added it do
    /// not, and are written back without it).
    #[serde(skip)]
    has_planning_commit_sha: bool,
}

/// A work package as the lane computation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneWorkPackage {
    /// The id.
    pub wp_id: String,
    /// The ids it depends on.
    pub dependencies: Vec<String>,
    /// Its owned-file globs.
    pub owned_files: Vec<String>,
    /// Code or planning artifact.
    pub execution_mode: ExecutionMode,
    /// Its Markdown body, for surface prediction; `None` when unknown.
    pub body: Option<String>,
}

/// What the lanes are computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanesInput {
    /// The mission directory name.
    pub mission_slug: String,
    /// The mission id.
    pub mission_id: Option<MissionId>,
    /// The target branch.
    pub target_branch: String,
    /// The computation time, ISO UTC.
    pub computed_at: String,
    /// The commit the planning artifacts were finalized on.
    pub planning_commit_sha: Option<String>,
    /// The work packages.
    pub work_packages: Vec<LaneWorkPackage>,
}

/// Why lanes cannot be computed. No `lanes.json` is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LaneComputationError {
    /// The dependencies inside one lane form a cycle, so the lane has no execution order.
    #[error("The work packages of {lane_id} depend on each other in a cycle: {}", wp_ids.join(", "))]
    Cycle {
        /// The lane.
        lane_id: String,
        /// The work packages left unordered.
        wp_ids: Vec<String>,
    },
    /// A work package id appears twice.
    #[error("Work package {0} appears more than once")]
    DuplicateWorkPackage(String),
}

impl LaneComputationError {
    /// Returns the stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            LaneComputationError::Cycle { .. } => "LANE_COMPUTATION_CYCLE",
            LaneComputationError::DuplicateWorkPackage(_) => "WP_ID_DUPLICATE",
        }
    }
}

/// Kahn's topological sort, dependencies first, always taking the smallest ready id (Spec
/// Kitty's `topological_sort`). `graph` maps an id to its dependencies, restricted to the
/// graph's own ids by the caller. Returns the ids left over by a cycle as `Err`.
pub fn topological_sort(graph: &BTreeMap<&str, Vec<&str>>) -> Result<Vec<String>, Vec<String>> {
    let mut in_degree: BTreeMap<&str, usize> =
        graph.iter().map(|(id, deps)| (*id, deps.len())).collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, deps) in graph {
        for dep in deps {
            if graph.contains_key(dep) {
                dependents.entry(*dep).or_default().push(*id);
            }
        }
    }
    let mut ready: BTreeSet<&str> = in_degree
        .iter()
        .filter(|(_, degree)| **degree == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order = Vec::with_capacity(graph.len());
    while let Some(id) = ready.pop_first() {
        order.push(id.to_owned());
        if let Some(list) = dependents.get(id) {
            for dependent in list {
                if let Some(degree) = in_degree.get_mut(dependent) {
                    *degree = degree.saturating_sub(1);
                    if *degree == 0 {
                        ready.insert(dependent);
                    }
                }
            }
        }
    }
    if order.len() == graph.len() {
        Ok(order)
    } else {
        let placed: BTreeSet<&str> = order.iter().map(String::as_str).collect();
        Err(graph
            .keys()
            .filter(|id| !placed.contains(*id))
            .map(|id| (*id).to_owned())
            .collect())
    }
}

struct UnionFind {
    parent: Vec<usize>,
    rank: Vec<u8>,
}

impl UnionFind {
    fn new(size: usize) -> UnionFind {
        UnionFind {
            parent: (0..size).collect(),
            rank: vec![0; size],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.rank[ra] < self.rank[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        if self.rank[ra] == self.rank[rb] {
            self.rank[ra] += 1;
        }
    }
}

/// Returns, for each work package, every work package it depends on directly or not.
fn transitive_dependencies<'a>(
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    fn reach<'a>(
        id: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        cache: &mut BTreeMap<&'a str, BTreeSet<&'a str>>,
        visiting: &mut BTreeSet<&'a str>,
    ) -> BTreeSet<&'a str> {
        if let Some(found) = cache.get(id) {
            return found.clone();
        }
        if !visiting.insert(id) {
            return BTreeSet::new();
        }
        let mut result = BTreeSet::new();
        for dep in graph.get(id).into_iter().flatten() {
            result.insert(*dep);
            result.extend(reach(dep, graph, cache, visiting));
        }
        visiting.remove(id);
        cache.insert(id, result.clone());
        result
    }
    let mut cache = BTreeMap::new();
    let mut visiting = BTreeSet::new();
    for id in graph.keys() {
        reach(id, graph, &mut cache, &mut visiting);
    }
    cache
}

/// Computes the lanes of a mission (see the [module](self) docs): Spec Kitty's
/// `compute_lanes`, deterministic for given inputs.
pub fn compute_lanes(input: &LanesInput) -> Result<LanesManifest, LaneComputationError> {
    let mut by_id: BTreeMap<&str, &LaneWorkPackage> = BTreeMap::new();
    for wp in &input.work_packages {
        if by_id.insert(wp.wp_id.as_str(), wp).is_some() {
            return Err(LaneComputationError::DuplicateWorkPackage(wp.wp_id.clone()));
        }
    }
    let graph: BTreeMap<&str, Vec<&str>> = by_id
        .iter()
        .map(|(id, wp)| (*id, wp.dependencies.iter().map(String::as_str).collect()))
        .collect();
    let mission_branch = mission_branch_name(&input.mission_slug, input.mission_id.as_ref());
    let mut manifest = LanesManifest {
        version: LANES_VERSION,
        mission_slug: input.mission_slug.clone(),
        mission_id: input.mission_id.as_ref().map(|id| id.as_str().to_owned()),
        mission_branch,
        target_branch: input.target_branch.clone(),
        lanes: Vec::new(),
        computed_at: input.computed_at.clone(),
        computed_from: COMPUTED_FROM.to_owned(),
        planning_artifact_wps: Vec::new(),
        planning_commit_sha: input.planning_commit_sha.clone(),
        collapse_report: None,
        has_planning_commit_sha: true,
    };
    let (planning, code): (Vec<&LaneWorkPackage>, Vec<&LaneWorkPackage>) = by_id
        .values()
        .partition(|wp| wp.execution_mode == ExecutionMode::PlanningArtifact);
    let planning_ids: Vec<String> = planning.iter().map(|wp| wp.wp_id.clone()).collect();
    if code.is_empty() {
        if !planning.is_empty() {
            manifest.lanes.push(planning_lane(&planning, Vec::new(), 0));
            manifest.planning_artifact_wps = planning_ids;
        }
        return Ok(manifest);
    }

    // Rule 1: overlapping write scopes share a lane.
    let mut sets = UnionFind::new(code.len());
    let mut events = Vec::new();
    let owned: Vec<&[String]> = code.iter().map(|wp| wp.owned_files.as_slice()).collect();
    for (a, b) in overlap_candidates(&owned) {
        {
            let pairs = overlapping_globs(&code[a].owned_files, &code[b].owned_files);
            if pairs.is_empty() {
                continue;
            }
            if sets.find(a) != sets.find(b) {
                let overlap = format!(
                    "overlapping globs: {}",
                    pairs
                        .iter()
                        .map(|(x, y)| format!(
                            "{} vs {}",
                            crate::text::pytext::repr(x),
                            crate::text::pytext::repr(y)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let (id_a, id_b) = (code[a].wp_id.as_str(), code[b].wp_id.as_str());
                let relation = if code[a].dependencies.iter().any(|dep| dep == id_b) {
                    Some(format!("{id_a} depends on {id_b}"))
                } else if code[b].dependencies.iter().any(|dep| dep == id_a) {
                    Some(format!("{id_b} depends on {id_a}"))
                } else {
                    None
                };
                events.push(CollapseEvent {
                    wp_a: id_a.to_owned(),
                    wp_b: id_b.to_owned(),
                    rule: "write_scope_overlap".to_owned(),
                    evidence: match relation {
                        Some(relation) => format!("{overlap}; {relation}"),
                        None => overlap,
                    },
                });
            }
            sets.union(a, b);
        }
    }
    // Rule 2 (shared predicted surfaces) merges only work packages whose ownership is not
    // provably disjoint; every work package here has an ownership manifest, so disjoint
    // owned files always make it a no-op, and overlapping ones were merged by rule 1.

    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..code.len() {
        let root = sets.find(index);
        groups.entry(root).or_default().push(index);
    }
    // Members are in id order, so the first member is the group's smallest id.
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by(|a, b| code[a[0]].wp_id.cmp(&code[b[0]].wp_id));

    let mut lanes = Vec::with_capacity(groups.len());
    let mut wp_lane: BTreeMap<&str, String> = BTreeMap::new();
    for (number, group) in groups.iter().enumerate() {
        let lane_id = lane_letter_id(number);
        let members: BTreeSet<&str> = group.iter().map(|&i| code[i].wp_id.as_str()).collect();
        let sub_graph: BTreeMap<&str, Vec<&str>> = members
            .iter()
            .map(|id| {
                let deps = graph
                    .get(id)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|dep| members.contains(dep))
                    .collect();
                (*id, deps)
            })
            .collect();
        let wp_ids =
            topological_sort(&sub_graph).map_err(|wp_ids| LaneComputationError::Cycle {
                lane_id: lane_id.clone(),
                wp_ids,
            })?;
        let mut write_scope = BTreeSet::new();
        let mut surfaces = BTreeSet::new();
        for &index in group {
            write_scope.extend(code[index].owned_files.iter().cloned());
            if let Some(body) = &code[index].body {
                surfaces.extend(infer_surfaces(body).into_iter().map(str::to_owned));
            }
        }
        for id in &members {
            wp_lane.insert(id, lane_id.clone());
        }
        lanes.push(ExecutionLane {
            lane_id,
            wp_ids,
            write_scope: write_scope.into_iter().collect(),
            predicted_surfaces: surfaces.into_iter().collect(),
            depends_on_lanes: Vec::new(),
            parallel_group: 0,
        });
    }
    for wp in &planning {
        wp_lane.insert(wp.wp_id.as_str(), PLANNING_LANE_ID.to_owned());
    }

    let mut lane_deps: BTreeMap<String, BTreeSet<String>> = lanes
        .iter()
        .map(|lane| (lane.lane_id.clone(), BTreeSet::new()))
        .collect();
    if !planning.is_empty() {
        lane_deps.insert(PLANNING_LANE_ID.to_owned(), BTreeSet::new());
    }
    for wp in code.iter().chain(planning.iter()) {
        let Some(mine) = wp_lane.get(wp.wp_id.as_str()) else {
            continue;
        };
        for dep in &wp.dependencies {
            if let Some(theirs) = wp_lane.get(dep.as_str())
                && theirs != mine
                && let Some(set) = lane_deps.get_mut(mine)
            {
                set.insert(theirs.clone());
            }
        }
    }
    let depths = lane_depths(&lane_deps);
    for lane in &mut lanes {
        lane.depends_on_lanes = lane_deps
            .get(&lane.lane_id)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        lane.parallel_group = depths.get(&lane.lane_id).copied().unwrap_or(0);
    }
    if !planning.is_empty() {
        let depends = lane_deps
            .get(PLANNING_LANE_ID)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        let depth = depths.get(PLANNING_LANE_ID).copied().unwrap_or(0);
        lanes.push(planning_lane(&planning, depends, depth));
    }
    lanes.sort_by(|a, b| (a.parallel_group, &a.lane_id).cmp(&(b.parallel_group, &b.lane_id)));
    manifest.lanes = lanes;
    manifest.planning_artifact_wps = planning_ids;
    if !events.is_empty() {
        let transitive = transitive_dependencies(&graph);
        let independent = events
            .iter()
            .filter(|event| event.rule != "dependency")
            .filter(|event| {
                let a_needs_b = transitive
                    .get(event.wp_a.as_str())
                    .is_some_and(|set| set.contains(event.wp_b.as_str()));
                let b_needs_a = transitive
                    .get(event.wp_b.as_str())
                    .is_some_and(|set| set.contains(event.wp_a.as_str()));
                !a_needs_b && !b_needs_a
            })
            .count();
        let mut by_rule: Vec<(String, i64)> = Vec::new();
        for event in &events {
            match by_rule.iter_mut().find(|(rule, _)| *rule == event.rule) {
                Some((_, count)) => *count += 1,
                None => by_rule.push((event.rule.clone(), 1)),
            }
        }
        manifest.collapse_report = Some(CollapseReport {
            total_merges: i64::try_from(events.len()).unwrap_or(i64::MAX),
            independent_wps_collapsed: i64::try_from(independent).unwrap_or(i64::MAX),
            events,
            by_rule,
        });
    }
    Ok(manifest)
}

/// Returns the first cycle of a lane graph (lane → the lanes it depends on), closed
/// (`[a, b, a]`) and rotated to start at its smallest lane; roots and dependencies are
/// visited in sorted order (Spec Kitty's `_find_lane_dependency_cycle`).
pub fn find_lane_dependency_cycle(
    lane_deps: &BTreeMap<String, BTreeSet<String>>,
) -> Option<Vec<String>> {
    let mut nodes: BTreeSet<&str> = lane_deps.keys().map(String::as_str).collect();
    nodes.extend(lane_deps.values().flatten().map(String::as_str));
    let mut state: BTreeMap<&str, u8> = nodes.iter().map(|node| (*node, 0)).collect();
    let deps_of = |node: &str| -> Vec<&str> {
        lane_deps
            .get(node)
            .map(|deps| deps.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    for root in &nodes {
        if state.get(root).copied() != Some(0) {
            continue;
        }
        let mut path: Vec<&str> = vec![root];
        let mut traversal: Vec<(&str, Vec<&str>, usize)> = vec![(root, deps_of(root), 0)];
        state.insert(root, 1);
        while let Some((node, deps, next)) = traversal.last_mut() {
            if *next >= deps.len() {
                let node = *node;
                traversal.pop();
                path.pop();
                state.insert(node, 2);
                continue;
            }
            let dependency = deps[*next];
            *next += 1;
            match state.get(dependency).copied() {
                Some(0) => {
                    state.insert(dependency, 1);
                    path.push(dependency);
                    traversal.push((dependency, deps_of(dependency), 0));
                }
                Some(1) => {
                    let start = path.iter().position(|lane| *lane == dependency)?;
                    let cycle = &path[start..];
                    let smallest = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, lane)| **lane)
                        .map_or(0, |(index, _)| index);
                    let mut closed: Vec<String> = cycle[smallest..]
                        .iter()
                        .chain(&cycle[..smallest])
                        .map(|lane| (*lane).to_owned())
                        .collect();
                    closed.push(closed[0].clone());
                    return Some(closed);
                }
                _ => {}
            }
        }
    }
    None
}

/// Returns `lane-a` … `lane-z` for 0 … 25, then `lane-aa`, `lane-ab`, … (Spec Kitty counts
/// letters past `z` into punctuation; missionctl keeps lane ids lower-case letters).
fn lane_letter_id(number: usize) -> String {
    const LETTERS: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    let mut suffix = Vec::new();
    let mut value = number;
    loop {
        suffix.push(LETTERS[value % 26]);
        if value < 26 {
            break;
        }
        value = value / 26 - 1;
    }
    suffix.reverse();
    format!("lane-{}", String::from_utf8_lossy(&suffix))
}

fn planning_lane(
    planning: &[&LaneWorkPackage],
    depends_on_lanes: Vec<String>,
    parallel_group: i64,
) -> ExecutionLane {
    let write_scope: BTreeSet<String> = planning
        .iter()
        .flat_map(|wp| wp.owned_files.iter().cloned())
        .collect();
    ExecutionLane {
        lane_id: PLANNING_LANE_ID.to_owned(),
        wp_ids: planning.iter().map(|wp| wp.wp_id.clone()).collect(),
        write_scope: write_scope.into_iter().collect(),
        predicted_surfaces: vec![PLANNING_SURFACE.to_owned()],
        depends_on_lanes,
        parallel_group,
    }
}

/// Returns each lane's depth in the lane graph: 0 without dependencies, else one more than
/// its deepest dependency; a cycle counts as depth 0 where it is entered.
fn lane_depths(deps: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, i64> {
    fn depth(
        lane: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        depths: &mut BTreeMap<String, i64>,
        in_progress: &mut BTreeSet<String>,
    ) -> i64 {
        if let Some(found) = depths.get(lane) {
            return *found;
        }
        if !in_progress.insert(lane.to_owned()) {
            return 0;
        }
        let mut deepest: Option<i64> = None;
        for dep in deps.get(lane).into_iter().flatten() {
            if dep != lane {
                let value = depth(dep, deps, depths, in_progress);
                deepest = Some(deepest.map_or(value, |current| current.max(value)));
            }
        }
        in_progress.remove(lane);
        let value = deepest.map_or(0, |deepest| deepest + 1);
        depths.insert(lane.to_owned(), value);
        value
    }
    let mut depths = BTreeMap::new();
    let mut in_progress = BTreeSet::new();
    for lane in deps.keys() {
        depth(lane, deps, &mut depths, &mut in_progress);
    }
    depths
}

/// Why `lanes.json` cannot be read (Spec Kitty's `CorruptLanesError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Corrupt lanes.json: {0}")]
pub struct CorruptLanes(pub String);

impl LanesManifest {
    /// Parses `lanes.json`, failing closed on anything unusable. Missing optional lane fields
    /// default to `[]` and `0`; the legacy `feature_slug` stands in for `mission_slug`.
    pub fn parse(bytes: &[u8]) -> Result<LanesManifest, CorruptLanes> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| CorruptLanes(format!("not JSON: {error}")))?;
        let Value::Object(map) = value else {
            return Err(CorruptLanes("not a JSON object".to_owned()));
        };
        let text = |key: &str| -> Result<String, CorruptLanes> {
            map.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| CorruptLanes(format!("`{key}` is missing or not a string")))
        };
        let strings = |value: Option<&Value>, key: &str| -> Result<Vec<String>, CorruptLanes> {
            match value {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| CorruptLanes(format!("`{key}` holds a non-string")))
                    })
                    .collect(),
                Some(_) => Err(CorruptLanes(format!("`{key}` is not a list"))),
            }
        };
        let Some(Value::Array(raw_lanes)) = map.get("lanes") else {
            return Err(CorruptLanes("`lanes` is missing or not a list".to_owned()));
        };
        let mut lanes = Vec::with_capacity(raw_lanes.len());
        for raw in raw_lanes {
            let Value::Object(lane) = raw else {
                return Err(CorruptLanes("a lane is not an object".to_owned()));
            };
            let lane_id = lane
                .get("lane_id")
                .and_then(Value::as_str)
                .ok_or_else(|| CorruptLanes("a lane has no `lane_id`".to_owned()))?
                .to_owned();
            if !lane.get("wp_ids").is_some_and(Value::is_array) {
                return Err(CorruptLanes(format!("{lane_id} has no `wp_ids` list")));
            }
            lanes.push(ExecutionLane {
                wp_ids: strings(lane.get("wp_ids"), "wp_ids")?,
                write_scope: strings(lane.get("write_scope"), "write_scope")?,
                predicted_surfaces: strings(lane.get("predicted_surfaces"), "predicted_surfaces")?,
                depends_on_lanes: strings(lane.get("depends_on_lanes"), "depends_on_lanes")?,
                parallel_group: lane
                    .get("parallel_group")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                lane_id,
            });
        }
        let collapse_report = match map.get("collapse_report") {
            None | Some(Value::Null) => None,
            Some(raw) => Some(parse_collapse_report(raw)?),
        };
        Ok(LanesManifest {
            version: map
                .get("version")
                .and_then(Value::as_i64)
                .ok_or_else(|| CorruptLanes("`version` is missing".to_owned()))?,
            mission_slug: text("mission_slug").or_else(|_| text("feature_slug"))?,
            mission_id: map
                .get("mission_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            mission_branch: text("mission_branch")?,
            target_branch: text("target_branch")?,
            lanes,
            computed_at: text("computed_at").unwrap_or_default(),
            computed_from: text("computed_from").unwrap_or_default(),
            planning_artifact_wps: strings(
                map.get("planning_artifact_wps"),
                "planning_artifact_wps",
            )?,
            planning_commit_sha: map
                .get("planning_commit_sha")
                .and_then(Value::as_str)
                .map(str::to_owned),
            has_planning_commit_sha: map.contains_key("planning_commit_sha"),
            collapse_report,
        })
    }

    /// Parses `lanes.json` as Spec Kitty 3.2.7 reads it: like [`LanesManifest::parse`], but the
    /// legacy `feature_slug` does not stand in for a missing `mission_slug` (Spec Kitty then
    /// fails with the `KeyError` text `'mission_slug'`).
    pub fn parse_as_spec_kitty(bytes: &[u8]) -> Result<LanesManifest, CorruptLanes> {
        let has_slug = serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|value| {
                value
                    .as_object()
                    .map(|map| map.contains_key("mission_slug"))
            });
        if has_slug == Some(false) {
            return Err(CorruptLanes("'mission_slug'".to_owned()));
        }
        LanesManifest::parse(bytes)
    }

    /// Returns the lane holding a work package.
    pub fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecutionLane> {
        self.lanes
            .iter()
            .find(|lane| lane.wp_ids.iter().any(|id| id == wp_id))
    }

    /// Returns a lane by id.
    pub fn lane(&self, lane_id: &str) -> Option<&ExecutionLane> {
        self.lanes.iter().find(|lane| lane.lane_id == lane_id)
    }

    /// Returns true when both describe the same plan: everything but `computed_at` and
    /// `planning_commit_sha` is equal.
    pub fn same_plan(&self, other: &LanesManifest) -> bool {
        self.version == other.version
            && self.mission_slug == other.mission_slug
            && self.mission_id == other.mission_id
            && self.mission_branch == other.mission_branch
            && self.target_branch == other.target_branch
            && self.lanes == other.lanes
            && self.computed_from == other.computed_from
            && self.planning_artifact_wps == other.planning_artifact_wps
            && self.collapse_report == other.collapse_report
    }

    /// Returns the bytes of `lanes.json`: `json.dumps(manifest, indent=2)` and a newline.
    pub fn to_json(&self) -> String {
        let mut text = String::with_capacity(1024);
        let mut object = Object::open(&mut text, 0);
        object.int("version", self.version);
        object.string("mission_slug", &self.mission_slug);
        object.optional_string("mission_id", self.mission_id.as_deref());
        object.string("mission_branch", &self.mission_branch);
        object.string("target_branch", &self.target_branch);
        let depth = object.depth + 1;
        let out = object.key("lanes");
        if self.lanes.is_empty() {
            out.push_str("[]");
        } else {
            out.push('[');
            for (index, lane) in self.lanes.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                let mut inner = Object::open(out, depth + 1);
                inner.string("lane_id", &lane.lane_id);
                inner.strings("wp_ids", &lane.wp_ids);
                inner.strings("write_scope", &lane.write_scope);
                inner.strings("predicted_surfaces", &lane.predicted_surfaces);
                inner.strings("depends_on_lanes", &lane.depends_on_lanes);
                inner.int("parallel_group", lane.parallel_group);
                inner.close();
            }
            newline(out, depth);
            out.push(']');
        }
        object.string("computed_at", &self.computed_at);
        object.string("computed_from", &self.computed_from);
        object.strings("planning_artifact_wps", &self.planning_artifact_wps);
        if self.has_planning_commit_sha {
            object.optional_string("planning_commit_sha", self.planning_commit_sha.as_deref());
        }
        if let Some(report) = &self.collapse_report {
            let depth = object.depth + 1;
            let out = object.key("collapse_report");
            let mut inner = Object::open(out, depth);
            let events_depth = inner.depth + 1;
            let out = inner.key("events");
            if report.events.is_empty() {
                out.push_str("[]");
            } else {
                out.push('[');
                for (index, event) in report.events.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    newline(out, events_depth + 1);
                    let mut item = Object::open(out, events_depth + 1);
                    item.string("wp_a", &event.wp_a);
                    item.string("wp_b", &event.wp_b);
                    item.string("rule", &event.rule);
                    item.string("evidence", &event.evidence);
                    item.close();
                }
                newline(out, events_depth);
                out.push(']');
            }
            inner.int("total_merges", report.total_merges);
            inner.int(
                "independent_wps_collapsed",
                report.independent_wps_collapsed,
            );
            let rules_depth = inner.depth + 1;
            let out = inner.key("by_rule");
            let mut rules = Object::open(out, rules_depth);
            for (rule, count) in &report.by_rule {
                rules.int(rule, *count);
            }
            rules.close();
            inner.close();
        }
        object.close();
        text.push('\n');
        text
    }
}

fn parse_collapse_report(raw: &Value) -> Result<CollapseReport, CorruptLanes> {
    let corrupt = || CorruptLanes("`collapse_report` is malformed".to_owned());
    let Value::Object(map) = raw else {
        return Err(corrupt());
    };
    let mut events = Vec::new();
    for event in map
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(corrupt)?
    {
        let field = |key: &str| {
            event
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(corrupt)
        };
        events.push(CollapseEvent {
            wp_a: field("wp_a")?,
            wp_b: field("wp_b")?,
            rule: field("rule")?,
            evidence: field("evidence")?,
        });
    }
    let by_rule = match map.get("by_rule") {
        Some(Value::Object(rules)) => rules
            .iter()
            .map(|(rule, count)| Ok((rule.clone(), count.as_i64().ok_or_else(corrupt)?)))
            .collect::<Result<Vec<_>, CorruptLanes>>()?,
        _ => Vec::new(),
    };
    Ok(CollapseReport {
        total_merges: map
            .get("total_merges")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        independent_wps_collapsed: map
            .get("independent_wps_collapsed")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        events,
        by_rule,
    })
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Writes one object of `json.dumps(indent=2)` output, keys in call order.
struct Object<'a> {
    out: &'a mut String,
    depth: usize,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String, depth: usize) -> Object<'a> {
        out.push('{');
        Object {
            out,
            depth,
            empty: true,
        }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        newline(self.out, self.depth + 1);
        pyjson::write_str(self.out, key, Style::Compact);
        self.out.push_str(": ");
        self.out
    }

    fn int(&mut self, key: &str, value: i64) {
        let _ = write!(self.key(key), "{value}");
    }

    fn string(&mut self, key: &str, value: &str) {
        pyjson::write_str(self.key(key), value, Style::Compact);
    }

    fn optional_string(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.string(key, value),
            None => self.key(key).push_str("null"),
        }
    }

    fn strings(&mut self, key: &str, values: &[String]) {
        let depth = self.depth + 1;
        let out = self.key(key);
        if values.is_empty() {
            out.push_str("[]");
            return;
        }
        out.push('[');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            newline(out, depth + 1);
            pyjson::write_str(out, value, Style::Compact);
        }
        newline(out, depth);
        out.push(']');
    }

    fn close(self) {
        if self.empty {
            self.out.push('}');
        } else {
            newline(self.out, self.depth);
            self.out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wp(id: &str, deps: &[&str], owned: &[&str]) -> LaneWorkPackage {
        LaneWorkPackage {
            wp_id: id.to_owned(),
            dependencies: deps.iter().map(|dep| (*dep).to_owned()).collect(),
            owned_files: owned.iter().map(|glob| (*glob).to_owned()).collect(),
            execution_mode: ExecutionMode::CodeChange,
            body: None,
        }
    }

    fn input(work_packages: Vec<LaneWorkPackage>) -> LanesInput {
        LanesInput {
            mission_slug: "invoice-export-01M0M9D8".to_owned(),
            mission_id: MissionId::parse("01M0M9D8R83DDKSZ62QKGV3YW0").ok(),
            target_branch: "main".to_owned(),
            computed_at: "2026-08-22T09:00:00.000000+00:00".to_owned(),
            planning_commit_sha: None,
            work_packages,
        }
    }

    #[test]
    fn fnmatch_is_pythons() {
        assert!(fnmatch("src/a/b.py", "src/*"));
        assert!(fnmatch("src/a/b.py", "src/*.py"));
        assert!(fnmatch("abc", "a?c"));
        assert!(!fnmatch("abc", "a?d"));
        assert!(fnmatch("a1", "a[0-9]"));
        assert!(!fnmatch("a1", "a[!0-9]"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("", "*"));
        assert!(!fnmatch("", "?"));
        assert!(fnmatch("src/x", "**"));
        assert!(fnmatch("é/ü.py", "é/*.py"));
        assert!(!fnmatch("x", "[é-ü]") && fnmatch("ö", "[é-ü]"));
        assert!(fnmatch("src/a.py", "src/a.py") && !fnmatch("src/a.py", "src/b.py"));
    }

    #[test]
    fn candidates_cover_every_overlap() {
        let globs: Vec<Vec<String>> = [
            vec!["src/a/**", "docs/x.md"],
            vec!["src/a/b.py"],
            vec!["src/ab.py"],
            vec!["tests/**"],
            vec!["**/*.md"],
            vec!["src/*.py"],
        ]
        .iter()
        .map(|list| list.iter().map(|glob| (*glob).to_owned()).collect())
        .collect();
        let slices: Vec<&[String]> = globs.iter().map(Vec::as_slice).collect();
        let candidates = overlap_candidates(&slices);
        for a in 0..globs.len() {
            for b in a + 1..globs.len() {
                if !overlapping_globs(&globs[a], &globs[b]).is_empty() {
                    assert!(candidates.contains(&(a, b)), "({a}, {b}) missed");
                }
            }
        }
        assert!(!candidates.contains(&(0, 3)));
    }

    proptest::proptest! {
        #[test]
        fn candidates_never_miss_an_overlap(
            globs in proptest::collection::vec(
                proptest::collection::vec("[ab/.*?\\[\\]]{0,6}", 1..3),
                2..6,
            )
        ) {
            let slices: Vec<&[String]> = globs.iter().map(Vec::as_slice).collect();
            let candidates = overlap_candidates(&slices);
            for a in 0..globs.len() {
                for b in a + 1..globs.len() {
                    if !overlapping_globs(&globs[a], &globs[b]).is_empty() {
                        proptest::prop_assert!(candidates.contains(&(a, b)), "({}, {}) missed: {:?}", a, b, globs);
                    }
                }
            }
        }
    }

    #[test]
    fn overlap_rule() {
        assert!(globs_overlap("src/**", "src/context/**"));
        assert!(globs_overlap("src/a.py", "src/a.py"));
        assert!(globs_overlap("src/a", "src/ab.py"));
        assert!(globs_overlap("src/*.py", "src/x.py"));
        assert!(!globs_overlap("src/a.py", "tests/a.py"));
        assert!(!globs_overlap("src/ui/**", "src/export/**"));
    }

    #[test]
    fn the_reference_example() -> Result<(), LaneComputationError> {
        let mut planning = wp("WP02", &[], &["docs/export.md"]);
        planning.execution_mode = ExecutionMode::PlanningArtifact;
        let manifest = compute_lanes(&input(vec![
            wp("WP01", &[], &["src/export/**"]),
            planning,
            wp("WP03", &["WP01"], &["src/export/**"]),
            wp("WP04", &["WP03"], &["src/ui/**"]),
        ]))?;
        let lanes: Vec<(&str, Vec<&str>, Vec<&str>, i64)> = manifest
            .lanes
            .iter()
            .map(|lane| {
                (
                    lane.lane_id.as_str(),
                    lane.wp_ids.iter().map(String::as_str).collect(),
                    lane.depends_on_lanes.iter().map(String::as_str).collect(),
                    lane.parallel_group,
                )
            })
            .collect();
        assert_eq!(
            lanes,
            [
                ("lane-a", vec!["WP01", "WP03"], vec![], 0),
                ("lane-planning", vec!["WP02"], vec![], 0),
                ("lane-b", vec!["WP04"], vec!["lane-a"], 1),
            ]
        );
        assert_eq!(manifest.planning_artifact_wps, ["WP02"]);
        assert_eq!(
            manifest.mission_branch,
            "kitty/mission-invoice-export-01M0M9D8"
        );
        let report = manifest.collapse_report.as_ref().expect("one merge");
        assert_eq!(
            report.events[0].evidence,
            "overlapping globs: 'src/export/**' vs 'src/export/**'; WP03 depends on WP01"
        );
        assert_eq!(report.independent_wps_collapsed, 0);
        let json = manifest.to_json();
        assert!(json.starts_with("{\n  \"version\": 1,\n  \"mission_slug\": "));
        assert!(json.contains("\"wp_ids\": [\n        \"WP01\",\n        \"WP03\"\n      ],"));
        assert!(json.contains("\"by_rule\": {\n      \"write_scope_overlap\": 1\n    }\n  }\n}\n"));
        let parsed = LanesManifest::parse(json.as_bytes())
            .map_err(|_| LaneComputationError::DuplicateWorkPackage("parse".to_owned()))?;
        assert_eq!(parsed, manifest);
        assert_eq!(parsed.to_json(), json);
        Ok(())
    }

    #[test]
    fn dependencies_alone_never_merge_and_order_inside_a_lane_is_topological()
    -> Result<(), LaneComputationError> {
        let manifest = compute_lanes(&input(vec![
            wp("WP01", &["WP03"], &["a/**"]),
            wp("WP02", &[], &["b/**"]),
            wp("WP03", &[], &["a/x.py"]),
        ]))?;
        assert_eq!(manifest.lanes.len(), 2);
        assert_eq!(manifest.lanes[0].wp_ids, ["WP03", "WP01"]);
        assert_eq!(manifest.lanes[1].wp_ids, ["WP02"]);
        Ok(())
    }

    #[test]
    fn empty_and_planning_only() -> Result<(), LaneComputationError> {
        let manifest = compute_lanes(&input(Vec::new()))?;
        assert!(manifest.lanes.is_empty());
        assert!(manifest.to_json().contains("\"lanes\": [],"));
        let mut planning = wp("WP01", &[], &["kitty-specs/x/plan.md"]);
        planning.execution_mode = ExecutionMode::PlanningArtifact;
        let manifest = compute_lanes(&input(vec![planning]))?;
        assert_eq!(manifest.lanes[0].lane_id, PLANNING_LANE_ID);
        assert!(manifest.collapse_report.is_none());
        Ok(())
    }

    #[test]
    fn ascii_escaping_and_names() {
        let mut manifest = LanesManifest {
            version: 1,
            mission_slug: "é".to_owned(),
            mission_id: None,
            mission_branch: mission_branch_name("064-x", None),
            target_branch: "main".to_owned(),
            lanes: Vec::new(),
            computed_at: String::new(),
            computed_from: COMPUTED_FROM.to_owned(),
            planning_artifact_wps: Vec::new(),
            planning_commit_sha: None,
            collapse_report: None,
            has_planning_commit_sha: false,
        };
        assert!(
            manifest
                .to_json()
                .contains("\"mission_slug\": \"\\u00e9\",")
        );
        assert!(!manifest.to_json().contains("planning_commit_sha"));
        manifest.has_planning_commit_sha = true;
        assert!(
            manifest
                .to_json()
                .contains("\"planning_commit_sha\": null\n}")
        );
        assert_eq!(manifest.mission_branch, "kitty/mission-064-x");
        assert_eq!(
            lane_branch_name("kitty/mission-x-01M0M9D8", "lane-b", "main"),
            "kitty/mission-x-01M0M9D8-lane-b"
        );
        assert_eq!(lane_branch_name("b", PLANNING_LANE_ID, "dev"), "dev");
        assert_eq!(lane_letter_id(0), "lane-a");
        assert_eq!(lane_letter_id(25), "lane-z");
        assert_eq!(lane_letter_id(26), "lane-aa");
        assert_eq!(crate::text::pytext::repr("it's"), "\"it's\"");
    }

    #[test]
    fn surfaces() {
        assert_eq!(
            infer_surfaces("Add an E2E test for the API"),
            ["tests", "api"]
        );
        assert!(infer_surfaces("Storage layer").is_empty());
    }
}
