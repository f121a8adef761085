//! JSON text exactly as Python's `json.dumps(..., sort_keys=True)` writes it.
//!
//! Spec Kitty writes two JSON dialects that missionctl must reproduce byte for byte:
//!
//! - event-log rows: [`Style::Compact`], i.e. `json.dumps(obj, sort_keys=True)` with the
//!   default separators `", "` and `": "` and `ensure_ascii=True`;
//! - `status.json`: [`Style::Indented`], i.e. `json.dumps(obj, sort_keys=True, indent=2,
//!   ensure_ascii=False)` with separators `","` and `": "`;
//! - the runtime's `state.json` and `feature-runs.json`: [`Style::IndentedAscii`], i.e.
//!   `json.dumps(obj, sort_keys=True, indent=2)` with the default `ensure_ascii=True`.
//!
//! Keys are always sorted by code point, whatever order the value's map keeps.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// How deeply JSON values may nest when read: Python's default recursion limit, past which
/// Spec Kitty's `json.dumps` cannot write (and `json.loads` cannot read) a value.
pub const MAX_DEPTH: usize = 1000;

/// Parses JSON text as Python's `json.loads` would accept it: nesting up to [`MAX_DEPTH`]
/// levels (serde_json alone stops at 128), deeper text refused before it is parsed so it
/// cannot exhaust the stack.
pub fn from_str_deep<'a, T: serde::Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    if nesting_depth(text) > MAX_DEPTH {
        return Err(serde::de::Error::custom(format_args!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Returns the deepest nesting of arrays and objects in JSON text (strings skipped).
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The two output dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One line, `", "` and `": "` separators, every non-ASCII character escaped.
    Compact,
    /// Two-space indentation, `","` and `": "` separators, raw UTF-8.
    Indented,
    /// Two-space indentation, `","` and `": "` separators, every non-ASCII character escaped.
    IndentedAscii,
}

/// Returns the JSON text of `value` in the given style (no trailing newline).
pub fn to_string(value: &Value, style: Style) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value, style, 0);
    out
}

/// Appends the JSON text of `value` to `out`.
pub fn write_value(out: &mut String, value: &Value, style: Style, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text, style),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                separator(out, style, index == 0, depth + 1);
                write_value(out, item, style, depth + 1);
            }
            close(out, style, depth);
            out.push(']');
        }
        Value::Object(map) => write_map(out, map, style, depth),
    }
}

fn write_map(out: &mut String, map: &Map<String, Value>, style: Style, depth: usize) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push('{');
    // `Map` iterates in key order unless serde_json's `preserve_order` feature is on
    // somewhere in the build; sort only then. Byte order of UTF-8 is code point order.
    if map.keys().is_sorted() {
        write_entries(out, map.iter(), style, depth);
    } else {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        write_entries(out, entries.into_iter(), style, depth);
    }
    close(out, style, depth);
    out.push('}');
}

fn write_entries<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    style: Style,
    depth: usize,
) {
    for (index, (key, item)) in entries.enumerate() {
        separator(out, style, index == 0, depth + 1);
        write_str(out, key, style);
        out.push_str(": ");
        write_value(out, item, style, depth + 1);
    }
}

/// Writes one JSON object entry by entry, with keys in the order the caller gives them.
///
/// The caller writes keys in sorted order; this is how `status.json` is written without
/// building a [`Value`] tree first.
#[derive(Debug)]
pub struct ObjectWriter<'a> {
    out: &'a mut String,
    style: Style,
    depth: usize,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Opens an object at nesting `depth` (0 for the top level).
    pub fn new(out: &'a mut String, style: Style, depth: usize) -> ObjectWriter<'a> {
        out.push('{');
        ObjectWriter {
            out,
            style,
            depth,
            empty: true,
        }
    }

    /// Writes the separator and `key`, and returns the buffer for the entry's value.
    pub fn key(&mut self, key: &str) -> &mut String {
        separator(self.out, self.style, self.empty, self.depth + 1);
        self.empty = false;
        write_str(self.out, key, self.style);
        self.out.push_str(": ");
        self.out
    }

    /// Writes `key` and a string value.
    pub fn string(&mut self, key: &str, value: &str) {
        let style = self.style;
        write_str(self.key(key), value, style);
    }

    /// Writes `key` and a value.
    pub fn value(&mut self, key: &str, value: &Value) {
        let (style, depth) = (self.style, self.depth + 1);
        write_value(self.key(key), value, style, depth);
    }

    /// Returns the depth a nested value of this object is written at.
    pub fn inner_depth(&self) -> usize {
        self.depth + 1
    }

    /// Closes the object.
    pub fn finish(self) {
        if !self.empty {
            close(self.out, self.style, self.depth);
        }
        self.out.push('}');
    }
}

fn separator(out: &mut String, style: Style, first: bool, depth: usize) {
    match style {
        Style::Compact => {
            if !first {
                out.push_str(", ");
            }
        }
        Style::Indented | Style::IndentedAscii => {
            if !first {
                out.push(',');
            }
            newline_indent(out, depth);
        }
    }
}

fn close(out: &mut String, style: Style, depth: usize) {
    if style != Style::Compact {
        newline_indent(out, depth);
    }
}

fn newline_indent(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// The bytes [`write_str`] must escape: control characters, `"` and `\\`, and with
/// `ensure_ascii` every byte above `~` (the first byte of a character is escaped whole; the
/// others are skipped with it).
const fn special_bytes(ascii_only: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = byte < 0x20
            || byte == b'"' as usize
            || byte == b'\\' as usize
            || (ascii_only && byte > b'~' as usize);
        byte += 1;
    }
    table
}

static SPECIAL_ASCII: [bool; 256] = special_bytes(true);
static SPECIAL_UNICODE: [bool; 256] = special_bytes(false);

/// Appends a JSON string literal, escaped as Python escapes it in the given style.
pub fn write_str(out: &mut String, text: &str, style: Style) {
    out.push('"');
    let special = if style == Style::Indented {
        &SPECIAL_UNICODE
    } else {
        &SPECIAL_ASCII
    };
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut index = 0;
    // Scans bytes rather than chars: only ASCII bytes and, in the compact style, the first
    // byte of a non-ASCII character need attention, so every slice below is on a char
    // boundary.
    while let Some(&byte) = bytes.get(index) {
        if !special[usize::from(byte)] {
            index += 1;
            continue;
        }
        out.push_str(&text[start..index]);
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
        if !escape.is_empty() {
            out.push_str(escape);
            index += 1;
        } else {
            let ch = text[index..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{unit:04x}");
            }
            index += ch.len_utf8();
        }
        start = index;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

fn write_number(out: &mut String, number: &Number) {
    if let Some(int) = number.as_i64() {
        let _ = write!(out, "{int}");
    } else if let Some(int) = number.as_u64() {
        let _ = write!(out, "{int}");
    } else if let Some(float) = number.as_f64() {
        write_float(out, float);
    } else {
        out.push_str(&number.to_string());
    }
}

/// Appends a float the way Python's `repr(float)` renders it.
///
/// Python uses the shortest round-tripping digits, fixed notation for decimal exponents in
/// `-4..16` (always with a fractional part) and `d.ddde+XX` otherwise.
pub fn write_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if digits.len() <= point {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    }
}

/// Python's truthiness of a decoded JSON value (`bool(value)`): `null`, `false`, zero and
/// empty strings, lists and objects are false.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|float| float != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// [`is_truthy`] of an optional value (`dict.get(key)`): a missing one is false.
pub fn truthy(value: Option<&Value>) -> bool {
    value.is_some_and(is_truthy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(value: f64) -> String {
        let mut out = String::new();
        write_float(&mut out, value);
        out
    }

    #[test]
    fn floats_match_python_repr() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(0.5), "0.5");
        assert_eq!(float(-2.25), "-2.25");
        assert_eq!(float(1e16), "1e+16");
        assert_eq!(float(1.5e-7), "1.5e-07");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(123456789012345.6), "123456789012345.6");
        assert_eq!(float(1784987482.57), "1784987482.57");
        assert_eq!(float(1.2345e20), "1.2345e+20");
        assert_eq!(float(0.0), "0.0");
    }

    #[test]
    fn compact_style_matches_python_defaults() {
        let value = json!({"b": [1, 2, {}], "a": "é/\u{7f}\u{1f600}\n", "c": null, "d": []});
        assert_eq!(
            to_string(&value, Style::Compact),
            r#"{"a": "\u00e9/\u007f\ud83d\ude00\n", "b": [1, 2, {}], "c": null, "d": []}"#
        );
    }

    #[test]
    fn indented_style_matches_python_indent_two() {
        let value = json!({"z": {"y": [true, false]}, "a": "é\u{1}", "e": {}});
        assert_eq!(
            to_string(&value, Style::Indented),
            "{\n  \"a\": \"é\\u0001\",\n  \"e\": {},\n  \"z\": {\n    \"y\": [\n      true,\n      false\n    ]\n  }\n}"
        );
    }

    /// The char-by-char escaper `write_str` replaced, kept as the oracle.
    fn reference_write_str(text: &str, style: Style) -> String {
        let mut out = String::from('"');
        for ch in text.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if c < ' ' || (style != Style::Indented && c > '~') => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    proptest::proptest! {
        #[test]
        fn string_escaping_matches_the_reference(text in "(?s).{0,24}|[\\x00-\\x7f\"\\\\é\u{1f600}]{0,24}") {
            for style in [Style::Compact, Style::Indented, Style::IndentedAscii] {
                let mut out = String::new();
                write_str(&mut out, &text, style);
                proptest::prop_assert_eq!(&out, &reference_write_str(&text, style));
                let back: String = serde_json::from_str(&out).expect("valid JSON");
                proptest::prop_assert_eq!(&back, &text);
            }
        }
    }

    #[test]
    fn indented_ascii_style_escapes_like_python_defaults() {
        let value = json!({"b": ["é"], "a": {}});
        assert_eq!(
            to_string(&value, Style::IndentedAscii),
            "{\n  \"a\": {},\n  \"b\": [\n    \"\\u00e9\"\n  ]\n}"
        );
    }

    #[test]
    fn keys_sort_by_code_point() {
        let value = json!({"b": 1, "B": 2, "é": 3, "a": 4});
        assert_eq!(
            to_string(&value, Style::Compact),
            r#"{"B": 2, "a": 4, "b": 1, "\u00e9": 3}"#
        );
    }
}
