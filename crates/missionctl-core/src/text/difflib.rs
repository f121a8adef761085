//! Python's `difflib.get_close_matches`, which Spec Kitty uses for its "Did you mean …?"
//! suggestions, so missionctl suggests the same path.
//!
//! [`SequenceMatcher::ratio`] follows `difflib.SequenceMatcher` exactly: no junk function,
//! the "popular element" heuristic on for sequences of 200 or more characters, the longest
//! matching block found the same way, and `2.0 * matches / total` as a float.

use std::collections::BTreeMap;

/// A map from characters, with a table for ASCII (paths are mostly ASCII).
struct CharMap<T> {
    ascii: Vec<T>,
    other: BTreeMap<char, T>,
}

impl<T: Default + Clone> CharMap<T> {
    fn new() -> CharMap<T> {
        CharMap {
            ascii: vec![T::default(); 128],
            other: BTreeMap::new(),
        }
    }

    fn get(&self, ch: char) -> Option<&T> {
        match usize::try_from(u32::from(ch)) {
            Ok(code) if code < 128 => self.ascii.get(code),
            _ => self.other.get(&ch),
        }
    }

    fn get_mut(&mut self, ch: char) -> &mut T {
        match usize::try_from(u32::from(ch)) {
            Ok(code) if code < 128 => &mut self.ascii[code],
            _ => self.other.entry(ch).or_default(),
        }
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.ascii.iter_mut().chain(self.other.values_mut())
    }
}

/// Compares sequences of characters as `difflib.SequenceMatcher(None, a, b)` does, `b` fixed.
struct SequenceMatcher<'b> {
    b: &'b [char],
    /// Where each non-popular character of `b` occurs, ascending (empty when it does not).
    b2j: CharMap<Vec<usize>>,
    /// How often each character occurs in `b` (for `quick_ratio`).
    counts: CharMap<usize>,
}

/// The lengths of the matches ending at each `j` of `b`, for the previous and the current
/// element of `a` (`find_longest_match`'s `j2len` dictionaries, as arrays reset after use).
struct Rows {
    previous: Vec<usize>,
    current: Vec<usize>,
    set_previous: Vec<usize>,
    set_current: Vec<usize>,
}

impl<'b> SequenceMatcher<'b> {
    fn new(b: &'b [char]) -> SequenceMatcher<'b> {
        let mut b2j: CharMap<Vec<usize>> = CharMap::new();
        let mut counts: CharMap<usize> = CharMap::new();
        for (index, ch) in b.iter().enumerate() {
            b2j.get_mut(*ch).push(index);
            *counts.get_mut(*ch) += 1;
        }
        // autojunk: in a sequence of 200 or more, an element occurring more than 1% of the
        // time (plus one) is "popular" and does not seed matches.
        let n = b.len();
        if n >= 200 {
            let ntest = n / 100 + 1;
            for indices in b2j.values_mut() {
                if indices.len() > ntest {
                    indices.clear();
                }
            }
        }
        SequenceMatcher { b, b2j, counts }
    }

    /// Returns `(i, j, size)` of the longest block `a[i..i+size] == b[j..j+size]` in the
    /// given ranges, earliest in `a`, then earliest in `b`.
    fn find_longest_match(
        &self,
        a: &[char],
        (alo, ahi): (usize, usize),
        (blo, bhi): (usize, usize),
        rows: &mut Rows,
    ) -> (usize, usize, usize) {
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0);
        for (i, ch) in a.iter().enumerate().take(ahi).skip(alo) {
            if let Some(indices) = self.b2j.get(*ch) {
                for &j in indices {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let k = j
                        .checked_sub(1)
                        .map_or(0, |previous| rows.previous[previous])
                        + 1;
                    rows.current[j] = k;
                    rows.set_current.push(j);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            for j in rows.set_previous.drain(..) {
                rows.previous[j] = 0;
            }
            std::mem::swap(&mut rows.previous, &mut rows.current);
            std::mem::swap(&mut rows.set_previous, &mut rows.set_current);
        }
        for j in rows.set_previous.drain(..) {
            rows.previous[j] = 0;
        }
        // Popular elements are not junk: the match extends over equal neighbours of any kind.
        while besti > alo && bestj > blo && a[besti - 1] == self.b[bestj - 1] {
            besti -= 1;
            bestj -= 1;
            bestsize += 1;
        }
        while besti + bestsize < ahi
            && bestj + bestsize < bhi
            && a[besti + bestsize] == self.b[bestj + bestsize]
        {
            bestsize += 1;
        }
        (besti, bestj, bestsize)
    }

    /// Returns the number of characters in the matching blocks of `a` against `b`.
    fn matches(&self, a: &[char]) -> usize {
        let mut rows = Rows {
            previous: vec![0; self.b.len() + 1],
            current: vec![0; self.b.len() + 1],
            set_previous: Vec::new(),
            set_current: Vec::new(),
        };
        let mut queue = vec![((0, a.len()), (0, self.b.len()))];
        let mut total = 0;
        while let Some(((alo, ahi), (blo, bhi))) = queue.pop() {
            let (i, j, k) = self.find_longest_match(a, (alo, ahi), (blo, bhi), &mut rows);
            if k == 0 {
                continue;
            }
            total += k;
            if alo < i && blo < j {
                queue.push(((alo, i), (blo, j)));
            }
            if i + k < ahi && j + k < bhi {
                queue.push(((i + k, ahi), (j + k, bhi)));
            }
        }
        total
    }

    /// Returns `2.0 * matches / length`, Python's `_calculate_ratio`.
    fn ratio_of(matches: usize, length: usize) -> f64 {
        if length == 0 {
            1.0
        } else {
            2.0 * matches as f64 / length as f64
        }
    }

    /// Returns `ratio()` when it is at least `cutoff` (checking the cheap upper bounds
    /// `real_quick_ratio()` and `quick_ratio()` first, as `get_close_matches` does).
    fn ratio_at_least(&self, a: &[char], cutoff: f64) -> Option<f64> {
        let length = a.len() + self.b.len();
        if Self::ratio_of(a.len().min(self.b.len()), length) < cutoff {
            return None;
        }
        // quick_ratio: the characters `a` and `b` have in common, as multisets.
        let mut used: CharMap<usize> = CharMap::new();
        let mut common = 0;
        for ch in a {
            let taken = used.get_mut(*ch);
            if *taken < self.counts.get(*ch).copied().unwrap_or(0) {
                *taken += 1;
                common += 1;
            }
        }
        if Self::ratio_of(common, length) < cutoff {
            return None;
        }
        let ratio = Self::ratio_of(self.matches(a), length);
        (ratio >= cutoff).then_some(ratio)
    }
}

/// Returns `difflib.get_close_matches(word, possibilities, n, cutoff)`: the `n` best
/// possibilities whose similarity ratio to `word` is at least `cutoff`, best first (ties:
/// the greater string first).
pub fn get_close_matches<'p>(
    word: &str,
    possibilities: &'p [String],
    n: usize,
    cutoff: f64,
) -> Vec<&'p str> {
    let b: Vec<char> = word.chars().collect();
    let matcher = SequenceMatcher::new(&b);
    let mut scored: Vec<(f64, &str)> = possibilities
        .iter()
        .filter_map(|candidate| {
            let a: Vec<char> = candidate.chars().collect();
            matcher
                .ratio_at_least(&a, cutoff)
                .map(|ratio| (ratio, candidate.as_str()))
        })
        .collect();
    scored.sort_by(|(ra, a), (rb, b)| rb.total_cmp(ra).then_with(|| b.cmp(a)));
    scored.truncate(n);
    scored.into_iter().map(|(_, candidate)| candidate).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(a: &str, b: &str) -> f64 {
        let b: Vec<char> = b.chars().collect();
        let a: Vec<char> = a.chars().collect();
        SequenceMatcher::ratio_of(SequenceMatcher::new(&b).matches(&a), a.len() + b.len())
    }

    /// Values from CPython 3.11's `difflib.SequenceMatcher(None, a, b).ratio()`.
    #[test]
    fn ratios_are_pythons() {
        assert_eq!(ratio("abcd", "bcde"), 0.75);
        assert_eq!(ratio("", ""), 1.0);
        assert_eq!(
            ratio(
                "src/specify_cli/core/secret_redaction.py",
                "src/specify_cli/core/feature_creation.py"
            ),
            0.825
        );
        assert_eq!(ratio("ape", "apple"), 0.75);
        assert_eq!(
            ratio(
                "tests/unit/test_alpha_beta.py",
                "tests/unit/test_beta_alpha.py"
            ),
            0.8275862068965517
        );
        // 200 characters or more: the popular-element heuristic applies.
        let long_a = format!("src/specify_cli/{}/x.py", "ab".repeat(120));
        let long_b = format!(
            "src/specify_cli/{}{}/y.py",
            "ab".repeat(110),
            "c".repeat(20)
        );
        assert_eq!(ratio(&long_a, &long_b), 0.9195402298850575);
    }

    #[test]
    fn close_matches_are_pythons() {
        let words: Vec<String> = ["ape", "apple", "peach", "puppy"]
            .iter()
            .map(|word| (*word).to_owned())
            .collect();
        assert_eq!(get_close_matches("appel", &words, 3, 0.6), ["apple", "ape"]);
        assert!(get_close_matches("zzz", &words, 1, 0.5).is_empty());
        let files: Vec<String> = [
            "src/a/test.py",
            "src/a/tests.py",
            "src/a/set.py",
            "src/a/zzz.txt",
        ]
        .iter()
        .map(|file| (*file).to_owned())
        .collect();
        assert_eq!(
            get_close_matches("src/a/tset.py", &files, 1, 0.5),
            ["src/a/set.py"]
        );
    }
}
