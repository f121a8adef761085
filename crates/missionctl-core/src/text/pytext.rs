//! Python's text primitives, where Spec Kitty's answers depend on them: how `read_text()`
//! translates newlines, what `str.splitlines()` splits on, what `str.strip()` strips, and
//! how `repr()` quotes a string or a list of strings; and the one way Spec Kitty's constant
//! `re` patterns are compiled.
//!
//! missionctl reproduces Spec Kitty's messages byte for byte (`Overlap: WP01 ('src/**') and
//! …`), so the same value must be rendered the same way.

use std::borrow::Cow;
use std::fmt::Write as _;

use regex::{Regex, RegexSet};

/// Compiles one of Spec Kitty's constant patterns (valid by construction; each module's tests
/// compile its patterns).
pub(crate) fn constant_regex(source: &str) -> Regex {
    #[expect(
        clippy::expect_used,
        reason = "the patterns are constants, checked by tests"
    )]
    Regex::new(source).expect("valid pattern")
}

/// Compiles a set of Spec Kitty's constant patterns, as [`constant_regex`] does one.
pub(crate) fn constant_regex_set(sources: &[&str]) -> RegexSet {
    #[expect(
        clippy::expect_used,
        reason = "the patterns are constants, checked by tests"
    )]
    RegexSet::new(sources).expect("valid patterns")
}

/// Returns the text as Python's `Path.read_text()` returns it: every `\r\n` and lone `\r`
/// becomes `\n` (universal newlines).
pub fn universal_newlines(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Returns true for a character `str.splitlines()` ends a line at.
fn is_line_break(ch: char) -> bool {
    matches!(
        ch,
        '\n' | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Returns the lines of `text` as Python's `str.splitlines(keepends)` does: `\r\n` is one
/// break, and so are `\v`, `\f`, the file/group/record separators, NEL and the Unicode line
/// and paragraph separators; no empty last line after a final break.
pub fn splitlines(text: &str, keepends: bool) -> Vec<&str> {
    // Most text breaks lines with `\n` alone: no `\r`, `\v`, `\f`, separators, or the lead
    // bytes of NEL (`C2 85`) and U+2028/U+2029 (`E2 80 A8/A9`).
    if !text
        .bytes()
        .any(|byte| matches!(byte, b'\r' | 0x0b | 0x0c | 0x1c..=0x1e | 0xc2 | 0xe2))
    {
        let mut lines: Vec<&str> = if keepends {
            text.split_inclusive('\n').collect()
        } else {
            text.split('\n').collect()
        };
        if !keepends && text.ends_with('\n') {
            lines.pop();
        }
        if text.is_empty() {
            lines.clear();
        }
        return lines;
    }
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((index, ch)) = chars.next() {
        if !is_line_break(ch) {
            continue;
        }
        let mut end = index + ch.len_utf8();
        if ch == '\r' && chars.peek().is_some_and(|(_, next)| *next == '\n') {
            chars.next();
            end += 1;
        }
        lines.push(if keepends {
            &text[start..end]
        } else {
            &text[start..index]
        });
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Returns true for a character Python's `str.isspace()` accepts.
pub fn is_space(ch: char) -> bool {
    ch.is_whitespace() || matches!(ch, '\u{1c}'..='\u{1f}')
}

/// Returns `text` without leading and trailing whitespace, as `str.strip()` does.
pub fn strip(text: &str) -> &str {
    text.trim_matches(is_space)
}

/// Returns `text` without leading whitespace, as `str.lstrip()` does.
pub fn lstrip(text: &str) -> &str {
    text.trim_start_matches(is_space)
}

/// Returns `text` without trailing whitespace, as `str.rstrip()` does.
pub fn rstrip(text: &str) -> &str {
    text.trim_end_matches(is_space)
}

/// Returns true for a character Python's `repr()` of a string shows as is.
fn is_printable(ch: char) -> bool {
    let code = ch as u32;
    if code < 0x20 || code == 0x7f {
        return false;
    }
    if code < 0x7f {
        return true;
    }
    // Python escapes the C1 controls, the separators other than the ASCII space, and the
    // format characters; the common ones are listed here.
    !(matches!(code, 0x80..=0xa0 | 0xad | 0x2028 | 0x2029 | 0x200b..=0x200f | 0xfeff)
        || matches!(code, 0x2000..=0x200a | 0x202a..=0x202f | 0x205f..=0x2064 | 0x3000))
}

/// Appends Python's `repr()` of a string.
pub fn write_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = c as u32;
                let _ = if code <= 0xff {
                    write!(out, "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Returns Python's `repr()` of a string: `'text'`, or `"it's"` when it holds a `'` and no
/// `"`.
pub fn repr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_repr(&mut out, text);
    out
}

/// Returns Python's `repr()` of a list of strings: `['a', 'b']`.
pub fn list_repr<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::from("[");
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_repr(&mut out, item.as_ref());
    }
    out.push(']');
    out
}

/// Returns Python's `repr()` of a decoded JSON or YAML value (`None`, `True`, `1.5`,
/// `'text'`, `[1, 'a']`, `{'k': 'v'}`).
pub fn value_repr(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => {
            let mut out = String::new();
            match number.as_f64() {
                Some(float) if number.is_f64() => crate::text::pyjson::write_float(&mut out, float),
                _ => out.push_str(&number.to_string()),
            }
            out
        }
        Value::String(text) => repr(text),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(value_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(key, item)| format!("{}: {}", repr(key), value_repr(item)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Returns Python's `str()` of a decoded value: a string is itself, anything else its
/// `repr()`.
pub fn value_str(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => value_repr(other),
    }
}

/// Returns the Python type name of a decoded value (`NoneType`, `bool`, `int`, `float`,
/// `str`, `list`, `dict`).
pub fn type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Orders two strings as Python compares `str` values: by code point (UTF-8 byte order is the
/// same order).
pub fn code_point_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_is_pythons() {
        assert_eq!(splitlines("a\nb\r\nc\rd", false), ["a", "b", "c", "d"]);
        assert_eq!(splitlines("a\n\nb\n", false), ["a", "", "b"]);
        assert_eq!(splitlines("a\u{2028}b\u{0c}c", false), ["a", "b", "c"]);
        assert_eq!(splitlines("a\r\nb", true), ["a\r\n", "b"]);
        assert!(splitlines("", false).is_empty());
        assert!(splitlines("", true).is_empty());
        assert_eq!(splitlines("a\n", true), ["a\n"]);
        assert_eq!(splitlines("a\nb", true), ["a\n", "b"]);
        assert_eq!(splitlines("\n", false), [""]);
        assert_eq!(splitlines("é\nb\u{85}c\n", false), ["é", "b", "c"]);
    }

    #[test]
    fn repr_is_pythons() {
        assert_eq!(repr("src/**"), "'src/**'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr("tab\there\u{85}"), "'tab\\there\\x85'");
        assert_eq!(list_repr(&["a", "b"]), "['a', 'b']");
        assert_eq!(list_repr::<&str>(&[]), "[]");
    }

    #[test]
    fn newlines_and_spaces() {
        assert_eq!(universal_newlines("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(strip("\u{1c} a \n"), "a");
        assert_eq!(lstrip("  a "), "a ");
        assert_eq!(rstrip("  a \t"), "  a");
    }
}
