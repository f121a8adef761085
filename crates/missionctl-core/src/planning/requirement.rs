//! Requirement ids (`FR-001`, `NFR-002`, `C-003`): the ids a mission's `spec.md` declares,
//! the `requirement_refs` of its work packages, and how the two cover each other.
//!
//! `map-requirements` and `tasks finalize` read both through this module, from the same
//! planning surface, so they always agree on which refs are known and which functional
//! requirements no work package implements.
//!
//! A requirement is *declared* when its id opens a line in one of the four shapes Spec
//! Kitty recognizes: the id cell of a table row (`| FR-001 | … |`, optionally bold or struck
//! through), a heading (`### FR-001: …`), a list item (`- FR-001: …`, `- **FR-001**: …`,
//! `1. FR-001 …`), or a bold-led paragraph (`**FR-001 — Title.** …`). An id merely cited in
//! a sentence is not declared.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::planning::task_plan::WorkPackageEntry;

/// The three id prefixes, in the order refs are sorted (alphabetical, as Spec Kitty's
/// `sorted()` leaves them).
const PREFIXES: [&str; 3] = ["C", "FR", "NFR"];

/// A requirement id: `FR-`, `NFR-` or `C-` and one or more digits, upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequirementId {
    prefix: &'static str,
    digits: String,
}

impl RequirementId {
    /// Parses an id, ignoring surrounding whitespace and the letters' case (`fr-001` is
    /// `FR-001`); `None` for anything else (`FR-3a`, `FR-`, `REQ-001`).
    pub fn parse(text: &str) -> Option<RequirementId> {
        let (id, rest) = RequirementId::at_start(text.trim())?;
        rest.is_empty().then_some(id)
    }

    /// Reads an id at the start of `text` that is not followed by a letter, digit or `_`;
    /// returns it and the text after it.
    fn at_start(text: &str) -> Option<(RequirementId, &str)> {
        let (prefix, rest) = PREFIXES.into_iter().find_map(|prefix| {
            let head = text.get(..prefix.len() + 1)?;
            head.eq_ignore_ascii_case(&format!("{prefix}-"))
                .then(|| (prefix, &text[prefix.len() + 1..]))
        })?;
        let count = rest.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return None;
        }
        let after = &rest[count..];
        if after
            .chars()
            .next()
            .is_some_and(|ch| ch.is_alphanumeric() || ch == '_')
        {
            return None;
        }
        Some((
            RequirementId {
                prefix,
                digits: rest[..count].to_owned(),
            },
            after,
        ))
    }

    /// Returns true for a functional requirement (`FR-`).
    pub fn is_functional(&self) -> bool {
        self.prefix == "FR"
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.prefix, self.digits)
    }
}

impl Serialize for RequirementId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Prefix alphabetically (`C` < `FR` < `NFR`), then by number (`FR-9` < `FR-10`), then by
/// the digits as written (`FR-01` < `FR-001`).
impl Ord for RequirementId {
    fn cmp(&self, other: &RequirementId) -> Ordering {
        let significant = |digits: &str| digits.trim_start_matches('0').len();
        self.prefix
            .cmp(other.prefix)
            .then_with(|| significant(&self.digits).cmp(&significant(&other.digits)))
            .then_with(|| {
                self.digits
                    .trim_start_matches('0')
                    .cmp(other.digits.trim_start_matches('0'))
            })
            .then_with(|| self.digits.len().cmp(&other.digits.len()))
    }
}

impl PartialOrd for RequirementId {
    fn partial_cmp(&self, other: &RequirementId) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One requirement `spec.md` declares, and the line (1-based) of its first declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredRequirement {
    /// The id.
    pub id: RequirementId,
    /// The line of `spec.md`.
    pub line: usize,
}

/// The requirements a `spec.md` declares, in the order of their first declaration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DeclaredRequirements {
    /// Each id once.
    pub requirements: Vec<DeclaredRequirement>,
}

impl DeclaredRequirements {
    /// Reads the requirements `spec.md` declares (see the [module](self) docs).
    pub fn parse(spec: &str) -> DeclaredRequirements {
        let mut seen = BTreeSet::new();
        let mut requirements = Vec::new();
        for (index, line) in crate::text::pytext::splitlines(spec, false)
            .into_iter()
            .enumerate()
        {
            if let Some(id) = declared_id_on_line(line).and_then(|id| RequirementId::parse(&id))
                && seen.insert(id.clone())
            {
                requirements.push(DeclaredRequirement {
                    id,
                    line: index + 1,
                });
            }
        }
        DeclaredRequirements { requirements }
    }

    /// Returns true when `id` is declared.
    pub fn contains(&self, id: &RequirementId) -> bool {
        self.requirements
            .iter()
            .any(|requirement| &requirement.id == id)
    }

    /// Returns every declared id, sorted.
    pub fn ids(&self) -> Vec<RequirementId> {
        let mut ids: Vec<RequirementId> = self
            .requirements
            .iter()
            .map(|requirement| requirement.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Returns the declared functional requirements, in declaration order.
    pub fn functional(&self) -> impl Iterator<Item = &DeclaredRequirement> {
        self.requirements
            .iter()
            .filter(|requirement| requirement.id.is_functional())
    }
}

/// How a work package's `requirement_refs` read against `spec.md`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RefCheck {
    /// The refs declared in `spec.md`, normalized, sorted, each once.
    pub known: Vec<RequirementId>,
    /// Well-formed refs `spec.md` does not declare, normalized, sorted, each once.
    pub unknown: Vec<RequirementId>,
    /// Refs that are not requirement ids at all, as written.
    pub malformed: Vec<String>,
}

impl RefCheck {
    /// Checks refs against the declared requirements.
    pub fn of<'a>(
        refs: impl IntoIterator<Item = &'a str>,
        declared: &DeclaredRequirements,
    ) -> RefCheck {
        let mut known = BTreeSet::new();
        let mut unknown = BTreeSet::new();
        let mut malformed = Vec::new();
        for written in refs {
            match RequirementId::parse(written) {
                Some(id) if declared.contains(&id) => {
                    known.insert(id);
                }
                Some(id) => {
                    unknown.insert(id);
                }
                None => {
                    if !malformed.iter().any(|seen| seen == written) {
                        malformed.push(written.to_owned());
                    }
                }
            }
        }
        RefCheck {
            known: known.into_iter().collect(),
            unknown: unknown.into_iter().collect(),
            malformed,
        }
    }
}

/// Which functional requirements the work packages reference.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RequirementCoverage {
    /// How many functional requirements `spec.md` declares.
    pub total_functional: usize,
    /// How many of them some work package references.
    pub mapped_functional: usize,
    /// The ones no work package references, sorted.
    pub unmapped_functional: Vec<RequirementId>,
}

impl RequirementCoverage {
    /// Computes the coverage of the declared functional requirements by the work packages'
    /// refs (written refs; malformed ones cover nothing).
    pub fn of(
        declared: &DeclaredRequirements,
        entries: &[WorkPackageEntry],
    ) -> RequirementCoverage {
        let referenced: BTreeSet<RequirementId> = entries
            .iter()
            .flat_map(|entry| entry.front.requirement_refs.iter())
            .filter_map(|written| RequirementId::parse(written))
            .collect();
        let functional: BTreeSet<RequirementId> = declared
            .functional()
            .map(|requirement| requirement.id.clone())
            .collect();
        let unmapped: Vec<RequirementId> = functional.difference(&referenced).cloned().collect();
        RequirementCoverage {
            total_functional: functional.len(),
            mapped_functional: functional.len() - unmapped.len(),
            unmapped_functional: unmapped,
        }
    }
}

/// Spec Kitty's requirement patterns (`requirement_mapping.py`, Python `re`: Unicode classes,
/// case-insensitive), compiled once.
mod patterns {
    use std::sync::LazyLock;

    use regex::Regex;

    use crate::text::pytext::constant_regex as compile;

    /// The four shapes that declare an id, each anchored at the start of a line.
    pub(super) static DECLARED: LazyLock<[Regex; 4]> = LazyLock::new(|| {
        [
            compile(r"(?i)\A\s*\|\s*(?:\*\*|~~){0,2}((?:FR|NFR|C)-[0-9]+)(?:\*\*|~~){0,2}\s*\|"),
            compile(r"(?i)\A#{1,6}\s*((?:FR|NFR|C)-[0-9]+)\b"),
            compile(r"(?i)\A\s*(?:[-*]|[0-9]+\.)\s*\*{0,2}((?:FR|NFR|C)-[0-9]+)\b"),
            compile(r"(?i)\A\s*\*\*((?:FR|NFR|C)-[0-9]+)\b"),
        ]
    });
    /// Any requirement-shaped token.
    pub(super) static REF: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?i)\b(?:FR|NFR|C)-[0-9]+\b"));
    /// A success-criteria token, matched against a whole token.
    pub(super) static SC_TOKEN: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?i)\A(?:\bSC-[0-9]+\b)\z"));
    /// The separators of raw `requirement_refs` tokens.
    pub(super) static TOKEN_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| compile(r"[,\s]+"));
}

/// Returns the id a line declares, upper-cased, as Spec Kitty's `_declared_ids` reads it: the
/// first of the four shapes that matches at the start of the line.
pub fn declared_id_on_line(line: &str) -> Option<String> {
    patterns::DECLARED
        .iter()
        .find_map(|regex| regex.captures(line))
        .map(|captures| captures[1].to_uppercase())
}

/// Returns every id `spec.md` declares (`_declared_ids`), upper-cased, each once, sorted by
/// code point.
pub fn declared_ids(spec: &str) -> BTreeSet<String> {
    crate::text::pytext::splitlines(spec, false)
        .into_iter()
        .filter_map(declared_id_on_line)
        .collect()
}

/// Returns every requirement-shaped token of a text, upper-cased, each once, sorted.
fn raw_ref_tokens(text: &str) -> BTreeSet<String> {
    patterns::REF
        .find_iter(text)
        .map(|found| found.as_str().to_uppercase())
        .collect()
}

/// Returns `(heading text, body)` of every Markdown section whose heading mentions
/// "requirement" (`_requirement_named_sections`).
fn requirement_named_sections(spec: &str) -> Vec<(String, String)> {
    let lines = crate::text::pytext::splitlines(spec, false);
    let headings: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| crate::text::pytext::lstrip(line).starts_with('#'))
        .map(|(index, _)| index)
        .collect();
    let mut sections = Vec::new();
    for (position, &index) in headings.iter().enumerate() {
        let heading = lines[index];
        let stripped = crate::text::pytext::lstrip(heading);
        if !(stripped.starts_with('#') && stripped.to_lowercase().contains("requirement")) {
            continue;
        }
        let end = headings.get(position + 1).copied().unwrap_or(lines.len());
        let text = crate::text::pytext::strip(heading.trim_start_matches('#')).to_owned();
        sections.push((text, lines[index + 1..end].join("\n")));
    }
    sections
}

fn undeclared_citation_warning(tokens: &BTreeSet<String>, scope: &str) -> String {
    let joined = tokens.iter().cloned().collect::<Vec<_>>().join(", ");
    format!(
        "{scope} mentions requirement-shaped token(s) ({joined}) that matched none of the \
         recognized declared shapes (table row / id-naming heading / bulleted item / bold-led \
         paragraph) -- none of them count toward FR coverage. If these ARE this spec's own \
         requirements, rewrite them in one of the recognized shapes; if they are citations of \
         another mission's requirement, no action is needed."
    )
}

/// Returns Spec Kitty's non-blocking warnings for requirement-shaped tokens that no declared
/// shape covers (`find_undeclared_requirement_citations`): one for the whole document when it
/// declares nothing at all, else one per "requirement" section that declares nothing.
pub fn undeclared_requirement_citations(spec: &str) -> Vec<String> {
    let declared = declared_ids(spec);
    let tokens = raw_ref_tokens(spec);
    if !tokens.is_empty() && declared.is_empty() {
        return vec![undeclared_citation_warning(&tokens, "spec.md")];
    }
    requirement_named_sections(spec)
        .into_iter()
        .filter_map(|(heading, body)| {
            let tokens = raw_ref_tokens(&body);
            (!tokens.is_empty() && declared_ids(&body).is_empty()).then(|| {
                undeclared_citation_warning(
                    &tokens,
                    &format!("The {} section", crate::text::pytext::repr(&heading)),
                )
            })
        })
        .collect()
}

/// Returns the ids written as bare prose in a "requirement" section and declared nowhere in
/// the document (`find_bare_prose_requirement_ids`, flattened), sorted, each once.
pub fn bare_prose_requirement_ids(spec: &str) -> Vec<String> {
    let declared = declared_ids(spec);
    let mut ids = BTreeSet::new();
    for (_, body) in requirement_named_sections(spec) {
        for line in crate::text::pytext::splitlines(&body, false) {
            if patterns::DECLARED.iter().any(|regex| regex.is_match(line)) {
                continue;
            }
            for token in patterns::REF.find_iter(line) {
                let upper = token.as_str().to_uppercase();
                if !declared.contains(&upper) {
                    ids.insert(upper);
                }
            }
        }
    }
    ids.into_iter().collect()
}

/// Returns a work package's `requirement_refs` as Spec Kitty normalizes them
/// (`normalize_requirement_refs_value`): every requirement-shaped token of each string item,
/// upper-cased, each once, in order.
pub fn normalize_requirement_refs(items: &[String]) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for item in items {
        for token in patterns::REF.find_iter(item) {
            let upper = token.as_str().to_uppercase();
            if !refs.contains(&upper) {
                refs.push(upper);
            }
        }
    }
    refs
}

/// Returns the raw tokens of a `requirement_refs` value as written (`_extract_raw_tokens`):
/// each string split on commas and whitespace; a non-string item as `<NON_STRING:…>`.
pub fn raw_requirement_ref_tokens(value: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    let split = |text: &str| -> Vec<String> {
        patterns::TOKEN_SEPARATOR
            .split(text)
            .filter(|token| !crate::text::pytext::strip(token).is_empty())
            .map(str::to_owned)
            .collect()
    };
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .flat_map(|item| match item {
                Value::String(text) => split(text),
                other => vec![format!(
                    "<NON_STRING:{}>",
                    crate::text::pytext::value_str(other)
                )],
            })
            .collect(),
        Some(Value::String(text)) => split(text),
        _ => Vec::new(),
    }
}

/// Returns Spec Kitty's warning for a work package whose raw `requirement_refs` hold
/// success-criteria tokens (`SC-001`), which its ref graph drops; `None` when there are none.
pub fn discarded_success_criteria_warning(wp_id: &str, raw_tokens: &[String]) -> Option<String> {
    let tokens: BTreeSet<String> = raw_tokens
        .iter()
        .filter(|token| patterns::SC_TOKEN.is_match(token))
        .map(|token| token.to_uppercase())
        .collect();
    if tokens.is_empty() {
        return None;
    }
    let joined = tokens.into_iter().collect::<Vec<_>>().join(", ");
    Some(format!(
        "{wp_id} declares Success-Criteria token(s) ({joined}) in requirement_refs that the \
         FR/NFR/C ref graph does not admit -- they are DROPPED, not traced. Success-Criteria \
         ids are not first-class requirement refs; move the coverage claim to the WP's \
         success-criteria surface, or restate it as an FR/NFR/C requirement if it must be \
         traced."
    ))
}

/// Returns a work package's new refs: `existing` (as written, each parsed) and `added`
/// merged, each once, sorted; with `replace`, `added` alone. Refs of `existing` that are not
/// requirement ids are returned in `Err`.
pub fn merge_refs(
    existing: &[String],
    added: &[RequirementId],
    replace: bool,
) -> Result<Vec<RequirementId>, Vec<String>> {
    let mut merged: BTreeSet<RequirementId> = added.iter().cloned().collect();
    if !replace {
        let mut malformed = Vec::new();
        for written in existing {
            match RequirementId::parse(written) {
                Some(id) => {
                    merged.insert(id);
                }
                None => malformed.push(written.clone()),
            }
        }
        if !malformed.is_empty() {
            return Err(malformed);
        }
    }
    Ok(merged.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::work_package::FrontMatter;

    fn id(text: &str) -> RequirementId {
        RequirementId::parse(text).expect("a requirement id")
    }

    fn entry(file: &str, refs: &[&str]) -> WorkPackageEntry {
        let mut front = FrontMatter::default();
        front.work_package_id = file.get(..4).map(str::to_owned);
        front.requirement_refs = refs.iter().map(|item| (*item).to_owned()).collect();
        WorkPackageEntry {
            file: format!("tasks/{file}"),
            line_offset: 1,
            front,
            body: String::new(),
        }
    }

    #[test]
    fn ids_parse_strictly_and_normalize_the_case() {
        for (written, normal) in [
            ("FR-001", "FR-001"),
            ("fr-001", "FR-001"),
            (" NFR-12 ", "NFR-12"),
            ("C-1", "C-1"),
            ("c-007", "C-007"),
        ] {
            assert_eq!(id(written).to_string(), normal);
        }
        for bad in [
            "",
            "FR",
            "FR-",
            "FR-3a",
            "FR-001:",
            "FR 001",
            "REQ-001",
            "SC-001",
            "F-001",
            "<FR-XXX>",
            "Constitution terminology canon",
            "FR-001, FR-002",
        ] {
            assert_eq!(RequirementId::parse(bad), None, "{bad:?}");
        }
        assert!(id("FR-001").is_functional());
        assert!(!id("NFR-001").is_functional());
    }

    #[test]
    fn ids_sort_by_prefix_then_number() {
        let mut ids = [
            id("NFR-001"),
            id("FR-010"),
            id("FR-9"),
            id("C-002"),
            id("FR-002"),
            id("FR-1000"),
            id("FR-02"),
        ];
        ids.sort();
        let text: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "C-002", "FR-02", "FR-002", "FR-9", "FR-010", "FR-1000", "NFR-001"
            ]
        );
    }

    #[test]
    fn the_four_declaration_shapes_and_nothing_else() {
        let spec = "\
# Spec

FR-100 is only mentioned here, as is NFR-100.
See FR-101 in another mission.

| ID | Title |
|----|-------|
| FR-001 | Add task |
|  **FR-002**  | Bold |
| ~~FR-003~~ | Retired |
| FR-004a | Not an id |
| NFR-001 | Fast |
| C-001 | Stdlib only |

### FR-005: A heading
## FR-006
####### FR-107 too deep

- FR-007: a bullet
- **FR-008**: a bold bullet
* FR-009 star
1. FR-010 numbered
  - fr-011: nested, lower case
**FR-012 — Title.** body
**SC-001**: a success criterion
- FR-001: declared twice
- **FR-013a**: not an id
";
        let declared = DeclaredRequirements::parse(spec);
        let ids: Vec<String> = declared
            .requirements
            .iter()
            .map(|requirement| requirement.id.to_string())
            .collect();
        assert_eq!(
            ids,
            [
                "FR-001", "FR-002", "FR-003", "NFR-001", "C-001", "FR-005", "FR-006", "FR-007",
                "FR-008", "FR-009", "FR-010", "FR-011", "FR-012"
            ]
        );
        assert_eq!(declared.requirements[0].line, 8);
        assert_eq!(declared.functional().count(), 11);
        assert!(declared.contains(&id("fr-001")));
        assert!(!declared.contains(&id("FR-100")));
    }

    #[test]
    fn the_peer_runs_spec_declares_its_table() {
        let spec = "### Functional Requirements\n\n| ID | Title | User Story | Priority | Status |\n\
                    |----|-------|------------|----------|--------|\n\
                    | FR-001 | Add task | As a user, I want to add a task. | High | Open |\n\
                    | FR-002 | Complete task | x | Medium | Open |\n\n\
                    | ID | Title | Requirement |\n|----|----|----|\n| NFR-001 | Fast | 200 ms |\n\
                    | C-001 | Stdlib only | x |\n\n- **SC-001**: A user can add a task.\n";
        let declared = DeclaredRequirements::parse(spec);
        let ids: Vec<String> = declared.ids().iter().map(ToString::to_string).collect();
        assert_eq!(ids, ["C-001", "FR-001", "FR-002", "NFR-001"]);
    }

    #[test]
    fn refs_are_known_unknown_or_malformed() {
        let declared = DeclaredRequirements::parse("| FR-001 | a |\n| NFR-001 | b |\n");
        let check = RefCheck::of(
            ["fr-001", "FR-001", "FR-009", "FR-3a", "FR-009", "FR-3a"],
            &declared,
        );
        assert_eq!(check.known, [id("FR-001")]);
        assert_eq!(check.unknown, [id("FR-009")]);
        assert_eq!(check.malformed, ["FR-3a"]);
    }

    #[test]
    fn coverage_counts_the_mapped_functional_requirements() {
        let declared = DeclaredRequirements::parse(
            "| FR-001 | a |\n| FR-002 | b |\n| FR-003 | c |\n| NFR-001 | d |\n",
        );
        let entries = [
            entry("WP01-a.md", &["FR-001", "NFR-001"]),
            entry("WP02-b.md", &["fr-003", "FR-004", "nonsense"]),
        ];
        let coverage = RequirementCoverage::of(&declared, &entries);
        assert_eq!(coverage.total_functional, 3);
        assert_eq!(coverage.mapped_functional, 2);
        assert_eq!(coverage.unmapped_functional, [id("FR-002")]);

        let full = [entry("WP01-a.md", &["FR-001", "FR-002", "FR-003"])];
        assert!(
            RequirementCoverage::of(&declared, &full)
                .unmapped_functional
                .is_empty()
        );
    }

    #[test]
    fn merging_keeps_existing_refs_unless_replacing() {
        let existing = vec!["FR-002".to_owned(), "nfr-001".to_owned()];
        let added = [id("FR-001"), id("FR-002")];
        let merged = merge_refs(&existing, &added, false).expect("well formed");
        assert_eq!(merged, [id("FR-001"), id("FR-002"), id("NFR-001")]);
        assert_eq!(
            merge_refs(&existing, &added, true).expect("replaced"),
            [id("FR-001"), id("FR-002")]
        );
        let stale = vec!["FR-1a".to_owned()];
        assert_eq!(
            merge_refs(&stale, &added, false),
            Err(vec!["FR-1a".to_owned()])
        );
        assert!(merge_refs(&stale, &added, true).is_ok());
    }
}
