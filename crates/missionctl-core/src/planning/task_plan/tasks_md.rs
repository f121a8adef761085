//! What `tasks.md` declares per work package, read as Spec Kitty's `finalize-tasks` reads it:
//! the dependencies (its `dependency_parser`) and the requirement refs (the legacy
//! `Requirement Refs:` lines of each section).
//!
//! Dependencies come from three shapes inside a work package's section — `Depends on WP01,
//! WP02`, a `**Dependencies**: WP01` line (also as a table cell), and a bullet list under a
//! `### Dependencies` heading — deduplicated in declaration order. A section runs from its
//! `## WP01` / `### Work Package 1 — …` heading to the next work-package heading; the last one
//! stops at the next other `## ` heading.
//!
//! Spec Kitty's patterns read ids of exactly two digits (`WP\d{2}`); these read two or more,
//! as missionctl's ids are (`WP100`), which changes nothing for two-digit ids.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::pytext;

use crate::text::pytext::constant_regex as pattern;

static WP_ID_TITLE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(?:Work Package\s+)?(WP[0-9]{2,})(?:\b|:)"));
static ANY_H2: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?m)^## "));
static DEPENDS_ON: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?im)^\s*(?:[-*]\s*)?Depends?\s+on\s+(WP[0-9]{2,}(?:\s*,\s*WP[0-9]{2,})*)\b")
});
static DEPENDS_ON_AT_START: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)\A\s*(?:[-*]\s*)?Depends?\s+on\s+(WP[0-9]{2,}(?:\s*,\s*WP[0-9]{2,})*)\b")
});
static DEPS_COLON_LINE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?im)^\s*(?:[-*]\s*)?\*?\*?Dependencies\*?\*?\s*:\s*([^|\n]*)"));
static DEPS_COLON_PIPE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\|\s*\*?\*?Dependencies\*?\*?\s*:\s*([^|\n]*)"));
static DEPS_HEADING: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?im)^#{1,4}\s*\*?\*?Dependencies\*?\*?\s*$"));
static DEPS_HEADING_AT_START: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?im)\A#{1,4}\s*\*?\*?Dependencies\*?\*?\s*$"));
static BULLET_WP: LazyLock<Regex> = LazyLock::new(|| pattern(r"\A\s*[-*]\s*(WP[0-9]{2,})"));
static WP_ID: LazyLock<Regex> = LazyLock::new(|| pattern(r"WP[0-9]{2,}"));
static LIST_AT_START: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\AWP[0-9]{2,}(?:\s*,\s*WP[0-9]{2,})*"));
/// `mission_parsing`'s section heading (RE2: ASCII classes).
static SECTION_HEADING: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?m-u)^#{2,4}\s+(?:Work Package\s+)?(WP[0-9]{2,})(?:\b|:)"));
static REQUIREMENT_REFS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)\*?\*?Requirements?(?-u:\s)*(?:Refs)?\*?\*?(?-u:\s)*:(?-u:\s)*(.+)")
});
static REQUIREMENT_REF: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i-u)\b(?:FR|NFR|C)-[0-9]+\b"));

/// An insertion-ordered map keyed by work-package id, as a Python `dict` keeps it: replacing
/// a value keeps the key's first position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<V> {
    entries: Vec<(String, V)>,
    index: std::collections::HashMap<String, usize>,
}

/// An [`OrderedMap`] of lists (`dependencies_parsed`, `requirement_refs_parsed`).
pub type OrderedLists = OrderedMap<Vec<String>>;

impl<V> Default for OrderedMap<V> {
    fn default() -> OrderedMap<V> {
        OrderedMap {
            entries: Vec::new(),
            index: std::collections::HashMap::new(),
        }
    }
}

impl<V> OrderedMap<V> {
    /// Inserts or replaces a value.
    pub fn insert(&mut self, key: &str, value: V) {
        match self.index.get(key) {
            Some(&position) => self.entries[position].1 = value,
            None => {
                self.index.insert(key.to_owned(), self.entries.len());
                self.entries.push((key.to_owned(), value));
            }
        }
    }

    /// Returns the value of a key.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.index
            .get(key)
            .map(|&position| &self.entries[position].1)
    }

    /// Returns the entries in insertion order.
    pub fn entries(&self) -> &[(String, V)] {
        &self.entries
    }

    /// Returns true when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<V> FromIterator<(String, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> OrderedMap<V> {
        let mut map = OrderedMap::default();
        for (key, value) in iter {
            map.insert(&key, value);
        }
        map
    }
}

/// Returns the `WP##` id of a work-package heading's title, or `None`.
fn match_wp_section_id(title: &str) -> Option<String> {
    if let Some(captures) = WP_ID_TITLE.captures(title) {
        return Some(captures[1].to_owned());
    }
    let suffix = title.strip_prefix("Work Package ")?;
    let digits: Vec<char> = suffix
        .chars()
        .take_while(|ch| ch.is_numeric())
        .take(2)
        .collect();
    if digits.is_empty() {
        return None;
    }
    let mut rest = suffix.chars().skip(digits.len());
    let after = rest.next();
    if after.is_some_and(char::is_numeric) {
        return None;
    }
    if let Some(first) = after
        && !(pytext::is_space(first) || matches!(first, '—' | ':' | '-'))
    {
        return None;
    }
    let number: u32 = digits
        .iter()
        .map(|ch| ch.to_digit(10).unwrap_or(0))
        .fold(0, |acc, digit| acc * 10 + digit);
    Some(format!("WP{number:02}"))
}

/// Splits `tasks.md` into work-package sections (`dependency_parser._split_wp_sections`).
fn split_wp_sections(text: &str) -> Vec<(String, &str)> {
    let mut headings: Vec<(String, usize, usize)> = Vec::new();
    let mut offset = 0;
    for raw in pytext::splitlines(text, true) {
        let line = raw.trim_end_matches(['\r', '\n']);
        let title = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "));
        if let Some(title) = title
            && let Some(id) = match_wp_section_id(pytext::strip(title))
        {
            headings.push((id, offset, offset + raw.len()));
        }
        offset += raw.len();
    }
    let mut sections: Vec<(String, &str)> = Vec::new();
    for (index, (id, _, body_start)) in headings.iter().enumerate() {
        let end = match headings.get(index + 1) {
            Some((_, next_start, _)) => *next_start,
            None => last_section_end(text, *body_start),
        };
        let body = &text[*body_start..end.max(*body_start)];
        match sections.iter_mut().find(|(existing, _)| existing == id) {
            Some((_, slot)) => *slot = body,
            None => sections.push((id.clone(), body)),
        }
    }
    sections
}

/// The end of the last section: the next `## ` heading that is neither a work package nor a
/// `Dependencies` heading.
fn last_section_end(text: &str, body_start: usize) -> usize {
    for found in ANY_H2.find_iter(text) {
        if found.start() < body_start {
            continue;
        }
        let line_end = text[found.start()..]
            .find('\n')
            .map_or(text.len(), |at| found.start() + at);
        let heading = &text[found.start()..line_end];
        if match_wp_section_id(pytext::strip(&heading[3..])).is_some() {
            continue;
        }
        if DEPS_HEADING_AT_START.is_match(pytext::strip(heading)) {
            continue;
        }
        return found.start();
    }
    text.len()
}

/// The work packages a `Dependencies:` value names (`_parse_colon_dependency_value`).
fn colon_dependency_value(value: &str) -> Vec<String> {
    let stripped = pytext::strip(value);
    let lower = stripped.to_lowercase();
    if stripped.is_empty()
        || lower == "[]"
        || lower.starts_with("none")
        || lower.starts_with("no deps")
        || lower.starts_with("no dependencies")
    {
        return Vec::new();
    }
    if let Some(captures) = DEPENDS_ON_AT_START.captures(stripped) {
        return ids_in(&captures[1]);
    }
    // `^(WP\d{2}(?:\s*,\s*WP\d{2})*)\b(?=\s*(?:$|[.;(#]))`: the longest list followed by the
    // end or one of `.;(#` (a shorter one is always followed by a comma).
    let Some(list) = LIST_AT_START.find(stripped) else {
        return Vec::new();
    };
    let rest = pytext::lstrip(&stripped[list.end()..]);
    let boundary = stripped[list.end()..]
        .chars()
        .next()
        .is_none_or(|ch| !(ch.is_alphanumeric() || ch == '_'));
    if boundary && (rest.is_empty() || rest.starts_with(['.', ';', '(', '#'])) {
        ids_in(list.as_str())
    } else {
        Vec::new()
    }
}

fn ids_in(text: &str) -> Vec<String> {
    WP_ID
        .find_iter(text)
        .map(|found| found.as_str().to_owned())
        .collect()
}

/// The dependencies one section declares, deduplicated in declaration order.
fn section_dependencies(section: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for captures in DEPENDS_ON.captures_iter(section) {
        found.extend(ids_in(&captures[1]));
    }
    let mut colon: Vec<(usize, usize, String, String)> = Vec::new();
    for (rank, regex) in [&*DEPS_COLON_LINE, &*DEPS_COLON_PIPE]
        .into_iter()
        .enumerate()
    {
        for captures in regex.captures_iter(section) {
            if let Some(whole) = captures.get(0) {
                colon.push((
                    whole.start(),
                    rank,
                    whole.as_str().to_owned(),
                    captures[1].to_owned(),
                ));
            }
        }
    }
    colon.sort_by_key(|(start, rank, _, _)| (*start, *rank));
    for (_, _, line, value) in colon {
        if DEPS_HEADING_AT_START.is_match(pytext::strip(&line)) {
            continue;
        }
        found.extend(colon_dependency_value(&value));
    }
    for heading in DEPS_HEADING.find_iter(section) {
        for line in section[heading.end()..].split('\n') {
            let stripped = pytext::strip(line);
            if stripped.is_empty() {
                continue;
            }
            if stripped.starts_with('#') {
                break;
            }
            match BULLET_WP.captures(line) {
                Some(captures) => found.push(captures[1].to_owned()),
                None => break,
            }
        }
    }
    let mut unique: Vec<String> = Vec::with_capacity(found.len());
    for id in found {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    unique
}

/// Returns the dependencies `tasks.md` declares for each work-package section, in section
/// order (`parse_dependencies_from_tasks_md`).
pub fn tasks_md_dependencies(text: &str) -> OrderedLists {
    split_wp_sections(text)
        .into_iter()
        .map(|(id, section)| (id, section_dependencies(section)))
        .collect()
}

/// Returns the requirement refs each `tasks.md` section names on `Requirement Refs:` lines,
/// upper-cased and deduplicated, in section order (`_parse_requirement_refs_from_tasks_md`).
pub fn tasks_md_requirement_refs(text: &str) -> OrderedLists {
    let headings: Vec<(String, usize, usize)> = SECTION_HEADING
        .captures_iter(text)
        .filter_map(|captures| {
            let whole = captures.get(0)?;
            Some((captures[1].to_owned(), whole.start(), whole.end()))
        })
        .collect();
    let mut refs = OrderedLists::default();
    for (index, (id, _, start)) in headings.iter().enumerate() {
        let end = headings
            .get(index + 1)
            .map_or(text.len(), |(_, next, _)| *next);
        let section = &text[*start..end];
        let mut found: Vec<String> = Vec::new();
        for line in REQUIREMENT_REFS_LINE.captures_iter(section) {
            for reference in REQUIREMENT_REF.find_iter(&line[1]) {
                let upper = reference.as_str().to_uppercase();
                if !found.contains(&upper) {
                    found.push(upper);
                }
            }
        }
        refs.insert(id, found);
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(text: &str) -> Vec<(String, Vec<String>)> {
        tasks_md_dependencies(text).entries().to_vec()
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn the_three_shapes() {
        let text = "# Tasks\n\n## WP01 — Setup\n\nNo deps.\n\n## Work Package WP02: Core\n\n**Dependencies**: WP01\n\n### Work Package 3 — Docs\n\nDepends on WP01, WP02\n\n## WP04\n\n### Dependencies\n\n- WP03 (docs first)\n- WP01\n\n## Appendix\n\nDepends on WP02\n";
        assert_eq!(
            deps(text),
            vec![
                ("WP01".to_owned(), list(&[])),
                ("WP02".to_owned(), list(&["WP01"])),
                ("WP03".to_owned(), list(&["WP01", "WP02"])),
                ("WP04".to_owned(), list(&["WP03", "WP01"])),
            ]
        );
    }

    #[test]
    fn colon_values() {
        assert_eq!(colon_dependency_value("None"), list(&[]));
        assert_eq!(
            colon_dependency_value("WP01, WP02."),
            list(&["WP01", "WP02"])
        );
        assert_eq!(colon_dependency_value("WP01 (setup)"), list(&["WP01"]));
        assert_eq!(colon_dependency_value("WP01 and WP02"), list(&[]));
        assert_eq!(colon_dependency_value("Depends on WP03"), list(&["WP03"]));
        assert_eq!(colon_dependency_value("WP011"), list(&["WP011"]));
        assert_eq!(colon_dependency_value("WP01x"), list(&[]));
    }

    #[test]
    fn requirement_refs_lines() {
        let text = "## WP01\n**Requirement Refs**: FR-001, fr-002, FR-001\n## WP02 x\nRequirements: NFR-1\n";
        assert_eq!(
            tasks_md_requirement_refs(text).entries(),
            vec![
                ("WP01".to_owned(), list(&["FR-001", "FR-002"])),
                ("WP02".to_owned(), list(&["NFR-1"])),
            ]
        );
    }
}
