//! Work-package ownership as Spec Kitty's `finalize-tasks` checks it: the manifest each work
//! package declares (`execution_mode`, `owned_files`, `authoritative_surface`, `scope`),
//! what it infers for a work package that declares none, and the checks on the set — owned
//! paths under `kitty-specs/`, overlaps between work packages no dependency orders, an
//! `authoritative_surface` that prefixes no owned path, and literal owned paths that match
//! nothing in the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use crate::planning::lanes_manifest::{globs_overlap, overlap_candidates};
use crate::planning::task_plan::tasks_md::OrderedMap;
use crate::planning::task_plan::wp_metadata::WpMetadata;
use crate::planning::work_package::{ExecutionMode, PLANNING_ARTIFACT};
use crate::text::pytext;

/// The `scope` value that exempts a work package from the overlap and surface checks.
pub const SCOPE_CODEBASE_WIDE: &str = "codebase-wide";

/// The warning of an inferred `owned_files` that found no path in the body.
pub const SRC_FALLBACK_WARNING: &str = "No file paths found in WP body text; using broad fallback 'src/**'. Consider adding explicit owned_files to WP frontmatter.";

/// The prefixes of planning paths.
pub const PLANNING_PREFIXES: [&str; 2] = ["kitty-specs/", "docs/"];

use crate::text::pytext::{constant_regex as compile, constant_regex_set as compile_set};

/// Signals of a planning-artifact work package (one pattern each, counted by how many match).
static PLANNING_SIGNALS: LazyLock<RegexSet> = LazyLock::new(|| {
    compile_set(&[
        r"\bkitty-specs/",
        r"\bspec\.md\b",
        r"\bplan\.md\b",
        r"\btasks\.md\b",
        r"\bdata-model\.md\b",
        r"\bquickstart\.md\b",
    ])
});
/// Signals of a code work package.
static CODE_SIGNALS: LazyLock<RegexSet> =
    LazyLock::new(|| compile_set(&[r"\bsrc/", r"\btests?/", r"\.py\b", r"\.ts\b", r"\.js\b"]));
static PATH_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"(?:src|tests?|kitty-specs|docs)/[^\s`'")\]>]+"#));
/// Spec Kitty's eight post-integration markers, as one alternation: no two of the phrases can
/// overlap, so the matches are the ones the eight patterns find one by one.
static POST_INTEGRATION_MARKERS: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?i)\bpost[-\s]?merge\b|\bafter (?:the )?merge\b|\bonce merged\b",
        r"|\bpost[-\s]?integration\b|\bafter integration\b|\bonce integrated\b",
        r"|\bafter (?:the )?deploy(?:ment)?\b|\bonce deployed\b",
    ))
});
static ACCEPTANCE_HEADING: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)(?:acceptance|success\s+crit|review\s+guidance)"));
static HEADING_LINE: LazyLock<Regex> = LazyLock::new(|| compile(r"\A#{1,6}\s"));

/// A work package's ownership (`OwnershipManifest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipManifest {
    /// Code or planning artifact.
    pub execution_mode: ExecutionMode,
    /// The owned-file globs.
    pub owned_files: Vec<String>,
    /// The path prefix it is the authority for (`""` when unset).
    pub authoritative_surface: String,
    /// `codebase-wide`, or nothing.
    pub scope: Option<String>,
}

impl OwnershipManifest {
    /// Returns true for a `codebase-wide` work package.
    pub fn is_codebase_wide(&self) -> bool {
        self.scope.as_deref() == Some(SCOPE_CODEBASE_WIDE)
    }

    /// Builds the manifest of a work package's front matter
    /// (`OwnershipManifest.from_frontmatter`); the error is Python's for an unknown mode.
    pub fn from_metadata(meta: &WpMetadata) -> Result<OwnershipManifest, String> {
        let mode = meta.execution_mode.as_deref().unwrap_or_default();
        let execution_mode = ExecutionMode::from_wire(mode)
            .ok_or_else(|| format!("{} is not a valid WorkProductKind", pytext::repr(mode)))?;
        Ok(OwnershipManifest {
            execution_mode,
            owned_files: meta.owned_files.clone(),
            authoritative_surface: meta.authoritative_surface.clone().unwrap_or_default(),
            scope: meta.scope.clone().filter(|scope| !scope.is_empty()),
        })
    }
}

/// Returns the manifests of the work packages that declare ownership (an `execution_mode`
/// and at least one owned file), in the order given (`build_wp_manifests`).
pub fn build_wp_manifests<'a>(
    metadata: impl IntoIterator<Item = (&'a str, &'a WpMetadata)>,
) -> Result<OrderedMap<OwnershipManifest>, String> {
    let mut manifests: OrderedMap<OwnershipManifest> = OrderedMap::default();
    for (wp_id, meta) in metadata {
        if meta
            .execution_mode
            .as_deref()
            .is_some_and(|mode| !mode.is_empty())
            && !meta.owned_files.is_empty()
        {
            manifests.insert(wp_id, OwnershipManifest::from_metadata(meta)?);
        }
    }
    Ok(manifests)
}

/// Returns `(planning_score, code_score)`: how many planning and code signals a work
/// package's text and files show.
fn execution_mode_scores(content: &str, files: &[String]) -> (usize, usize) {
    let combined = format!("{content}\n{}", files.join("\n"));
    let planning = PLANNING_SIGNALS.matches(&combined).iter().count();
    let code = CODE_SIGNALS.matches(&combined).iter().count();
    (planning, code)
}

/// Infers the execution mode of a work package from its whole file text: planning artifact
/// when it shows planning signals and no code signal (`infer_execution_mode`).
pub fn infer_execution_mode(content: &str, files: &[String]) -> ExecutionMode {
    let (planning, code) = execution_mode_scores(content, files);
    if planning > 0 && code == 0 {
        ExecutionMode::PlanningArtifact
    } else {
        ExecutionMode::CodeChange
    }
}

/// Infers owned-file globs from the paths a work package's text mentions
/// (`infer_owned_files`), with the fallback warning when it mentions none.
pub fn infer_owned_files(content: &str, mission_slug: &str) -> (Vec<String>, Vec<String>) {
    if infer_execution_mode(content, &[]) == ExecutionMode::PlanningArtifact {
        return (vec![format!("kitty-specs/{mission_slug}/**")], Vec::new());
    }
    let found: BTreeSet<&str> = PATH_PATTERN
        .find_iter(content)
        .map(|found| found.as_str())
        .collect();
    let mut globs: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for path in found {
        let glob = if path.ends_with('/') {
            format!("{path}**")
        } else if !path.rsplit('/').next().unwrap_or(path).contains('.') {
            format!("{}/**", path.trim_end_matches('/'))
        } else {
            path.to_owned()
        };
        let parts: Vec<&str> = glob.split('/').collect();
        let covered =
            (1..parts.len()).any(|end| seen.contains(&format!("{}/**", parts[..end].join("/"))));
        if !covered {
            seen.insert(glob.clone());
            globs.push(glob);
        }
    }
    if globs.is_empty() {
        return (
            vec!["src/**".to_owned()],
            vec![SRC_FALLBACK_WARNING.to_owned()],
        );
    }
    (globs, Vec::new())
}

/// Infers the authoritative surface of owned-file globs: their longest common directory
/// prefix, with a final `/` (`infer_authoritative_surface`).
pub fn infer_authoritative_surface(owned_files: &[String]) -> String {
    if owned_files.is_empty() {
        return String::new();
    }
    let stripped: Vec<&str> = owned_files
        .iter()
        .map(|pattern| {
            let (head, tail) = pattern.rsplit_once('/').unwrap_or(("", pattern));
            if tail.contains(['*', '?', '[']) {
                head
            } else {
                pattern.trim_end_matches('/')
            }
        })
        .collect();
    if let [only] = stripped.as_slice() {
        return format!("{}/", only.trim_end_matches('/'));
    }
    let split: Vec<Vec<&str>> = stripped
        .iter()
        .map(|path| path.split('/').collect())
        .collect();
    let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
    let mut common: Vec<&str> = Vec::new();
    for index in 0..shortest {
        let segment = split[0][index];
        if split.iter().all(|parts| parts[index] == segment) {
            common.push(segment);
        } else {
            break;
        }
    }
    if common.is_empty() {
        String::new()
    } else {
        format!("{}/", common.join("/"))
    }
}

/// Returns the authoritative surface a new work package declares for its owned files: their
/// common directory ([`infer_authoritative_surface`]) when it prefixes one of them, else the
/// directory of the first (or the first itself, at the top level), so that Spec Kitty's
/// surface check always passes; `None` without owned files.
pub fn default_authoritative_surface(owned_files: &[String]) -> Option<String> {
    let first = owned_files.first()?;
    let common = infer_authoritative_surface(owned_files);
    if !common.is_empty() && owned_files.iter().any(|path| path.starts_with(&common)) {
        return Some(common);
    }
    Some(match first.rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => format!("{parent}/"),
        _ => first.clone(),
    })
}

/// What Spec Kitty infers for a work package that declares no ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferredOwnership {
    /// The execution mode.
    pub execution_mode: ExecutionMode,
    /// The owned-file globs.
    pub owned_files: Vec<String>,
    /// The authoritative surface.
    pub authoritative_surface: String,
    /// The warnings (the `src/**` fallback).
    pub warnings: Vec<String>,
}

/// Infers a work package's ownership from its whole file text (`infer_ownership`).
pub fn infer_ownership(content: &str, mission_slug: &str) -> InferredOwnership {
    let execution_mode = infer_execution_mode(content, &[]);
    let (owned_files, warnings) = infer_owned_files(content, mission_slug);
    let authoritative_surface = infer_authoritative_surface(&owned_files);
    InferredOwnership {
        execution_mode,
        owned_files,
        authoritative_surface,
        warnings,
    }
}

/// Returns Spec Kitty's warning for a code work package whose acceptance criteria can only
/// be observed after it is merged (`detect_post_integration_acceptance`); empty otherwise.
pub fn post_integration_acceptance_warnings(content: &str, owned_files: &[String]) -> Vec<String> {
    // The acceptance sections first: most work packages have no marker there, and then the
    // execution mode need not be inferred.
    let mut scope: Vec<&str> = Vec::new();
    let mut capturing = false;
    for line in pytext::splitlines(content, false) {
        if line.starts_with('#') && HEADING_LINE.is_match(line) {
            capturing = ACCEPTANCE_HEADING.is_match(line);
            continue;
        }
        if capturing {
            scope.push(line);
        }
    }
    let scope = scope.join("\n");
    if scope.is_empty() {
        return Vec::new();
    }
    let matched: BTreeSet<String> = POST_INTEGRATION_MARKERS
        .find_iter(&scope)
        .map(|found| pytext::strip(found.as_str()).to_lowercase())
        .collect();
    if matched.is_empty() || infer_execution_mode(content, owned_files) != ExecutionMode::CodeChange
    {
        return Vec::new();
    }
    let phrases = matched
        .iter()
        .map(|phrase| format!("'{phrase}'"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![format!(
        "acceptance criteria appear observable only post-integration ({phrases}) — an action, \
         not a diff. The work package cannot be honestly reviewed while its lane is open; \
         re-home this observation at planning time (e.g. a mission-level acceptance check) so \
         the WP can terminate on a diff-inspectable criterion."
    )]
}

/// Returns the normalized form of an owned-file entry: trimmed, leading `./` removed.
fn normalize_owned_path(path: &str) -> &str {
    let mut normalized = pytext::strip(path);
    while let Some(rest) = normalized.strip_prefix("./") {
        normalized = rest;
    }
    normalized
}

/// Returns the owned-file entries under `kitty-specs/` that Spec Kitty refuses, as
/// `(wp_id, path)` in work-package order (`_invalid_mission_specs_owned_files`); a planning
/// artifact whose every entry is under `kitty-specs/` or `docs/` is exempt.
pub fn invalid_kitty_specs_owned_files<'a>(
    metadata: impl IntoIterator<Item = (&'a str, &'a WpMetadata)>,
) -> Vec<(String, String)> {
    let mut sorted: Vec<(&str, &WpMetadata)> = metadata.into_iter().collect();
    sorted.sort_by(|a, b| pytext::code_point_order(a.0, b.0));
    let mut invalid = Vec::new();
    for (wp_id, meta) in sorted {
        let confined = meta.execution_mode.as_deref() == Some(PLANNING_ARTIFACT)
            && meta.owned_files.iter().all(|path| {
                let normalized = normalize_owned_path(path);
                PLANNING_PREFIXES
                    .iter()
                    .any(|prefix| normalized.starts_with(prefix))
            });
        if confined {
            continue;
        }
        for path in &meta.owned_files {
            let normalized = normalize_owned_path(path);
            if normalized == "kitty-specs" || normalized.starts_with("kitty-specs/") {
                invalid.push((wp_id.to_owned(), path.clone()));
            }
        }
    }
    invalid
}

/// Returns, for each work package, every work package it depends on directly or not
/// (`_dependency_reachability`).
fn reachability(dependencies: &[(String, Vec<String>)]) -> BTreeMap<&str, BTreeSet<&str>> {
    let graph: BTreeMap<&str, &Vec<String>> = dependencies
        .iter()
        .map(|(id, deps)| (id.as_str(), deps))
        .collect();
    let mut reach: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (id, _) in dependencies {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = vec![id.as_str()];
        while let Some(node) = stack.pop() {
            for dep in graph.get(node).into_iter().flat_map(|deps| deps.iter()) {
                if dep != id && seen.insert(dep.as_str()) {
                    stack.push(dep.as_str());
                }
            }
        }
        reach.insert(id.as_str(), seen);
    }
    reach
}

/// Returns the ownership errors of a set of manifests, in Spec Kitty's order and words
/// (`validate_all`): overlaps between work packages no dependency path orders, then each
/// work package's authoritative surface. `dependencies` holds the work packages with
/// dependencies.
pub fn ownership_errors(
    manifests: &[(String, OwnershipManifest)],
    dependencies: &[(String, Vec<String>)],
) -> Vec<String> {
    let mut errors = Vec::new();
    let narrow: Vec<&(String, OwnershipManifest)> = manifests
        .iter()
        .filter(|(_, manifest)| !manifest.is_codebase_wide())
        .collect();
    // The transitive dependencies are needed only for pairs whose globs overlap.
    let reach: std::cell::OnceCell<BTreeMap<&str, BTreeSet<&str>>> = std::cell::OnceCell::new();
    let ordered = |a: &str, b: &str| {
        let reach = reach.get_or_init(|| reachability(dependencies));
        reach.get(a).is_some_and(|set| set.contains(b))
            || reach.get(b).is_some_and(|set| set.contains(a))
    };
    let globs: Vec<&[String]> = narrow
        .iter()
        .map(|(_, manifest)| manifest.owned_files.as_slice())
        .collect();
    for (a, b) in overlap_candidates(&globs) {
        let ((id_a, manifest_a), (id_b, manifest_b)) = (narrow[a], narrow[b]);
        let overlaps: Vec<(&String, &String)> = manifest_a
            .owned_files
            .iter()
            .flat_map(|glob_a| {
                manifest_b
                    .owned_files
                    .iter()
                    .map(move |glob_b| (glob_a, glob_b))
            })
            .filter(|(glob_a, glob_b)| globs_overlap(glob_a, glob_b))
            .collect();
        if overlaps.is_empty() || ordered(id_a, id_b) {
            continue;
        }
        for (glob_a, glob_b) in overlaps {
            errors.push(format!(
                "Overlap: {id_a} ({}) and {id_b} ({}) claim overlapping paths.",
                pytext::repr(glob_a),
                pytext::repr(glob_b)
            ));
        }
    }
    for (wp_id, manifest) in manifests {
        if manifest.is_codebase_wide() {
            continue;
        }
        let surface = &manifest.authoritative_surface;
        if surface.is_empty() {
            errors.push(format!("{wp_id}: authoritative_surface is empty."));
            continue;
        }
        if !manifest
            .owned_files
            .iter()
            .any(|pattern| pattern.starts_with(surface.as_str()))
        {
            errors.push(format!(
                "{wp_id}: authoritative_surface {} is not a prefix of any owned_files entry: {}",
                pytext::repr(surface),
                pytext::list_repr(&manifest.owned_files)
            ));
        }
    }
    errors
}

/// Returns the execution-mode consistency warnings (`validate_execution_mode_consistency`),
/// which Spec Kitty shows only in human output.
pub fn ownership_mode_warnings(manifests: &[(String, OwnershipManifest)]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (wp_id, manifest) in manifests {
        if manifest.is_codebase_wide() {
            continue;
        }
        match manifest.execution_mode {
            ExecutionMode::PlanningArtifact => {
                let bad: Vec<&String> = manifest
                    .owned_files
                    .iter()
                    .filter(|path| {
                        !PLANNING_PREFIXES
                            .iter()
                            .any(|prefix| path.starts_with(prefix))
                    })
                    .collect();
                if !bad.is_empty() {
                    warnings.push(format!(
                        "{wp_id}: planning_artifact WP owns files outside planning paths (kitty-specs/, docs/): {}",
                        pytext::list_repr(&bad)
                    ));
                }
            }
            ExecutionMode::CodeChange => {
                let has_code = manifest
                    .owned_files
                    .iter()
                    .any(|path| path.starts_with("src/") || path.starts_with("tests/"));
                if !manifest.owned_files.is_empty() && !has_code {
                    warnings.push(format!(
                        "{wp_id}: code_change WP does not own any files under src/ or tests/. owned_files: {}",
                        pytext::list_repr(&manifest.owned_files)
                    ));
                }
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn inference_is_spec_kittys() {
        let body =
            "Edit `src/specify_cli/core/x.py` and tests/unit/ plus src/specify_cli/core/y.py.";
        let inferred = infer_ownership(body, "m-01ABCDEF");
        assert_eq!(inferred.execution_mode, ExecutionMode::CodeChange);
        assert_eq!(
            inferred.owned_files,
            strings(&[
                "src/specify_cli/core/x.py",
                "src/specify_cli/core/y.py.",
                "tests/unit/**"
            ])
        );
        assert_eq!(inferred.authoritative_surface, "");
        let planning = infer_ownership("Update spec.md and plan.md", "m-01ABCDEF");
        assert_eq!(planning.execution_mode, ExecutionMode::PlanningArtifact);
        assert_eq!(
            planning.owned_files,
            strings(&["kitty-specs/m-01ABCDEF/**"])
        );
        assert_eq!(planning.authoritative_surface, "kitty-specs/m-01ABCDEF/");
        let nothing = infer_ownership("Nothing here", "m");
        assert_eq!(nothing.owned_files, strings(&["src/**"]));
        assert_eq!(nothing.warnings, strings(&[SRC_FALLBACK_WARNING]));
        assert_eq!(
            infer_authoritative_surface(&strings(&["src/a/**", "src/a/b.py"])),
            "src/a/"
        );
        assert_eq!(
            infer_authoritative_surface(&strings(&["src/a.py"])),
            "src/a.py/"
        );
        for (files, surface) in [
            (&["src/a.py"][..], "src/"),
            (&["src/a/**", "docs/x.md"][..], "src/a/"),
            (&["README.md"][..], "README.md"),
            (&["src/a/**"][..], "src/a/"),
        ] {
            assert_eq!(
                default_authoritative_surface(&strings(files)).as_deref(),
                Some(surface),
                "{files:?}"
            );
        }
    }

    #[test]
    fn post_integration_markers() {
        let text = "# WP\n## Acceptance Criteria\n- Works Post-merge in CI\n- once deployed\n## Notes\nafter merge\n";
        let warnings = post_integration_acceptance_warnings(text, &[]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("('once deployed', 'post-merge')"));
        assert!(post_integration_acceptance_warnings("## Notes\npost-merge\n", &[]).is_empty());
    }

    #[test]
    fn overlap_and_surface_errors() {
        let manifest = |files: &[&str], surface: &str| OwnershipManifest {
            execution_mode: ExecutionMode::CodeChange,
            owned_files: strings(files),
            authoritative_surface: surface.to_owned(),
            scope: None,
        };
        let manifests = vec![
            ("WP01".to_owned(), manifest(&["src/a/**"], "src/a/")),
            ("WP02".to_owned(), manifest(&["src/a/x.py"], "")),
            ("WP03".to_owned(), manifest(&["src/a/y.py"], "lib/")),
        ];
        let deps = vec![("WP03".to_owned(), strings(&["WP01"]))];
        assert_eq!(
            ownership_errors(&manifests, &deps),
            strings(&[
                "Overlap: WP01 ('src/a/**') and WP02 ('src/a/x.py') claim overlapping paths.",
                "WP02: authoritative_surface is empty.",
                "WP03: authoritative_surface 'lib/' is not a prefix of any owned_files entry: ['src/a/y.py']",
            ])
        );
    }
}
