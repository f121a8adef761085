//! A reader for the plain block-style YAML of work-package front matter, about twenty times
//! faster than a full YAML parser, that declines everything it is not certain about.
//!
//! Spec Kitty and missionctl write front matter as a mapping of top-level keys to one-line
//! scalars, one-line flow lists, or block lists whose items are scalars or small mappings of
//! scalars. [`parse_block_mapping`] reads exactly that subset and returns `None` for anything
//! else — anchors, tags, block scalars, multi-line or escaped strings, comments after values,
//! tabs, nested structures, repeated keys, and plain scalars YAML would read as a number,
//! boolean, null or date — so the caller falls back to the full parser. What it accepts, it
//! reads as the full parser does (a test compares the two over every front matter of the
//! conformance corpus); every scalar it accepts is a string.

use serde_json::{Map, Value};

/// Reads a front matter in the block subset; `None` means "use the full parser".
pub fn parse_block_mapping(yaml: &str) -> Option<Map<String, Value>> {
    if !is_plain_text(yaml) {
        return None;
    }
    let lines: Vec<&str> = yaml.lines().collect();
    let mut map = Map::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        if is_blank_or_comment(line) {
            index += 1;
            continue;
        }
        if line.starts_with([' ', '-']) || line.contains('\t') {
            return None;
        }
        let (key, rest) = split_key(line)?;
        if map.contains_key(key) {
            return None;
        }
        index += 1;
        let value = if rest.is_empty() {
            let (value, next) = block_value(&lines, index)?;
            index = next;
            value
        } else {
            inline_value(rest)?
        };
        map.insert(key.to_owned(), value);
    }
    Some(map)
}

/// Returns the text of one top-level entry of a YAML mapping document — its `key:` line at
/// column 0 and every following line up to the next line that starts another top-level entry
/// — when the key is written exactly once that way; `None` otherwise (absent, quoted, repeated,
/// or the document has markers), and the caller parses the whole document instead.
///
/// Parsing the entry alone gives the same value as parsing the document when the entry is
/// found this way: a top-level entry ends where the next one starts.
pub fn top_level_entry<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    let mut found: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in yaml.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
            return None;
        }
        let opens_entry = !line.starts_with([' ', '\t', '#', '-', '\n', '\r']);
        if let Some((_, end)) = &mut found
            && *end == usize::MAX
            && opens_entry
        {
            *end = start;
        }
        if line
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
        {
            if found.is_some() {
                return None;
            }
            found = Some((start, usize::MAX));
        }
    }
    found.map(|(start, end)| &yaml[start..end.min(yaml.len())])
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start_matches(' ');
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// Splits `key: rest` (or `key:`); the key must be a plain identifier.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    let plain_key = !key.is_empty()
        && key
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
        && key.as_bytes()[0].is_ascii_alphabetic();
    if !plain_key {
        return None;
    }
    if rest.is_empty() {
        return Some((key, ""));
    }
    let rest = rest.strip_prefix(' ')?;
    Some((key, rest.trim_end_matches(' ')))
}

/// Reads the value of a key written on the same line: a scalar or a one-line flow list.
fn inline_value(text: &str) -> Option<Value> {
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        if inner.trim().is_empty() {
            return Some(Value::Array(Vec::new()));
        }
        let mut items = Vec::new();
        for item in inner.split(',') {
            let item = item.trim_matches(' ');
            if item.is_empty() {
                return None;
            }
            items.push(Value::String(scalar(item, true)?));
        }
        return Some(Value::Array(items));
    }
    if text == "{}" {
        return Some(Value::Object(Map::new()));
    }
    scalar(text, false).map(Value::String)
}

/// Returns true for a character the block subset reads within a line: YAML's `c-printable`
/// set less its line breaks, the C1 controls (`NEL` included), the byte-order mark and the
/// Unicode line and paragraph separators. The YAML parser rejects a document holding any
/// other character, or reads it as a line break, so a text with one is left to it.
pub(crate) fn is_yaml_printable(ch: char) -> bool {
    matches!(ch, '\t' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && !matches!(ch, '\u{2028}' | '\u{2029}' | '\u{feff}')
        || ch >= '\u{10000}'
}

/// Returns true when every line of the text holds only [printable](is_yaml_printable)
/// characters and ends in `\n` or `\r\n`: comments too, which the reader skips but the YAML
/// parser reads.
fn is_plain_text(yaml: &str) -> bool {
    let mut chars = yaml.chars().peekable();
    while let Some(ch) = chars.next() {
        let ok = match ch {
            '\n' => true,
            '\r' => chars.peek() == Some(&'\n'),
            other => is_yaml_printable(other),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Reads a one-line scalar that is certainly a string; `None` for anything else.
fn scalar(text: &str, in_flow: bool) -> Option<String> {
    if let Some(inner) = text
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return (!inner.contains('\'')).then(|| inner.to_owned());
    }
    if let Some(inner) = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return (!inner.contains(['"', '\\'])).then(|| inner.to_owned());
    }
    let first = text.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return None;
    }
    let forbidden = text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || text.ends_with(' ')
        || (in_flow && text.contains(['[', ']', '{', '}', ',']));
    if forbidden {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let keyword = matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "null"
            | "inf"
            | "infinity"
            | "nan"
    );
    (!keyword).then(|| text.to_owned())
}

/// Returns the indentation (leading spaces) of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Reads the block value under a key (`key:` then indented or `- ` lines): a list of scalars
/// or of small mappings, a mapping of scalars, or nothing (null). Returns the value and the
/// index of the first line after it.
fn block_value(lines: &[&str], start: usize) -> Option<(Value, usize)> {
    let mut index = start;
    while index < lines.len() && is_blank_or_comment(lines[index]) {
        index += 1;
    }
    let Some(first) = lines.get(index) else {
        return Some((Value::Null, start));
    };
    let column = indent(first);
    let body = &first[column..];
    if body == "-" || body.starts_with("- ") {
        block_list(lines, index, column)
    } else if column > 0 {
        block_map(lines, index, column)
    } else {
        Some((Value::Null, start))
    }
}

/// Reads `- item` lines at `column`; an item is a scalar, or `- key: value` opening a mapping
/// continued by `key: value` lines at `column + 2`.
fn block_list(lines: &[&str], start: usize, column: usize) -> Option<(Value, usize)> {
    let mut items = Vec::new();
    let mut index = start;
    while let Some(line) = lines.get(index) {
        if line.is_empty() || (is_blank_or_comment(line) && indent(line) > 0) {
            index += 1;
            continue;
        }
        if indent(line) != column {
            if indent(line) < column || column == 0 && !line.starts_with("- ") {
                break;
            }
            return None;
        }
        let Some(item) = line[column..].strip_prefix("- ") else {
            if line[column..] == *"-" {
                return None;
            }
            break;
        };
        index += 1;
        let item = item.trim_end_matches(' ');
        if item.starts_with(['[', '{', '-', '&', '*', '!', '|', '>', '?']) {
            return None;
        }
        match split_key(item) {
            Some((key, value)) if !item.starts_with(['\'', '"']) && looks_like_mapping(item) => {
                let mut map = Map::new();
                map.insert(key.to_owned(), Value::String(scalar(value, false)?));
                while let Some(next) = lines.get(index) {
                    if next.is_empty() || indent(next) <= column {
                        break;
                    }
                    if indent(next) != column + 2 {
                        return None;
                    }
                    let (key, value) = split_key(&next[column + 2..])?;
                    if value.is_empty() || map.contains_key(key) {
                        return None;
                    }
                    map.insert(key.to_owned(), Value::String(scalar(value, false)?));
                    index += 1;
                }
                items.push(Value::Object(map));
            }
            _ => {
                items.push(Value::String(scalar(item, false)?));
                if let Some(next) = lines.get(index)
                    && !next.is_empty()
                    && indent(next) > column
                    && !is_blank_or_comment(next)
                {
                    // A continuation line of a multi-line scalar.
                    return None;
                }
            }
        }
    }
    Some((Value::Array(items), index))
}

/// Returns true when a list item is `key: value` (a mapping), not a scalar.
fn looks_like_mapping(item: &str) -> bool {
    item.split_once(':')
        .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with(' '))
        && split_key(item).is_some()
}

/// Reads `key: value` lines at `column` (a mapping of scalars).
fn block_map(lines: &[&str], start: usize, column: usize) -> Option<(Value, usize)> {
    let mut map = Map::new();
    let mut index = start;
    while let Some(line) = lines.get(index) {
        if line.is_empty() {
            index += 1;
            continue;
        }
        if indent(line) < column {
            break;
        }
        if indent(line) != column {
            return None;
        }
        let (key, value) = split_key(&line[column..])?;
        if value.is_empty() || map.contains_key(key) {
            return None;
        }
        map.insert(key.to_owned(), inline_value(value)?);
        index += 1;
    }
    Some((Value::Object(map), index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(yaml: &str) -> Map<String, Value> {
        match serde_saphyr::from_str::<Value>(yaml) {
            Ok(Value::Object(map)) => map,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    #[test]
    fn reads_the_block_subset_as_the_full_parser_does() {
        let yaml = "work_package_id: WP01\ntitle: Storage layer (v2), with care\n\
                    dependencies: []\nrequirement_refs:\n- C-001\n- NFR-001\n\
                    planning_base_branch: feature/task-list\ncreated_at: '2026-11-21T22:30:54+00:00'\n\
                    subtasks:\n  - T001\n  - T002\nhistory:\n- at: '2026-11-21T22:30:00Z'\n  actor: system\n  \
                    action: Prompt generated via /spec-kitty.tasks\n- at: \"x\"\n  actor: yves\n\
                    tags: [a, 'b c']\nempty:\nmeta:\n  tool: claude\n  model: opus\n\
                    # a comment\nauthoritative_surface: src/tasklist/\n";
        let quick = parse_block_mapping(yaml).expect("in the subset");
        assert_eq!(quick, full(yaml));
    }

    /// Found by the `front_matter` fuzz target (`fuzz/README.md`): the block reader read a
    /// double-quoted value holding U+001C as a string, and skipped a comment holding NUL,
    /// where the YAML parser rejects the document, so a work-package file read as valid or not
    /// depending on the reader.
    #[test]
    fn a_text_with_a_character_yaml_forbids_is_left_to_the_yaml_parser() {
        for yaml in [
            "agent: \"claude:opus:reviewer-renat\u{1c}reviewer\"\n",
            "agent: 'a\u{7f}b'\n",
            "tags: [a, \"b\u{1}\"]\n",
            "history:\n- at: \"\u{fffe}\"\n",
            "agent: a\u{9f}b\n",
            "owned_files:\n- src/a.py\n# src/b.py\u{0}\u{0}\nrole: implementer\n",
        ] {
            assert_eq!(parse_block_mapping(yaml), None, "{yaml:?}");
            assert!(serde_saphyr::from_str::<Value>(yaml).is_err(), "{yaml:?}");
        }
        // A lone carriage return breaks the line for the YAML parser: the key after it counts.
        let yaml = "title: x\n# note\rrole: y\n";
        assert_eq!(parse_block_mapping(yaml), None);
        assert!(full(yaml).contains_key("role"));
    }

    #[test]
    fn declines_what_it_is_not_sure_of() {
        for yaml in [
            "a: yes\n",
            "a: 12\n",
            "a: 2026-01-01\n",
            "a: x # comment\n",
            "a: &anchor x\n",
            "a: |\n  block\n",
            "a: x\n  continued\n",
            "a: 'it''s'\n",
            "a: \"esc\\n\"\n",
            "a: 1\na: 2\n",
            "a:\n- - nested\n",
            "a:\n- k: v\n  m:\n    deep: 1\n",
            "a:\n\t- x\n",
            "- a\n",
            "a: [x, [y]]\n",
            "a:\n  - x\n   - y\n",
            "\"quoted key\": x\n",
            "a: .inf\n",
            "a: NaN\n",
        ] {
            assert_eq!(parse_block_mapping(yaml), None, "{yaml:?}");
        }
    }

    #[test]
    fn a_top_level_entry_is_found_alone() {
        let yaml = "a: 1\nlist:\n- x\n- y\n  # note\nb:\n  c: [list]\nlist2: []\n";
        assert_eq!(
            top_level_entry(yaml, "list"),
            Some("list:\n- x\n- y\n  # note\n")
        );
        assert_eq!(top_level_entry(yaml, "list2"), Some("list2: []\n"));
        assert_eq!(top_level_entry(yaml, "c"), None);
        assert_eq!(top_level_entry("list: 1\nlist: 2\n", "list"), None);
        assert_eq!(top_level_entry("---\nlist: 1\n", "list"), None);
    }
}
