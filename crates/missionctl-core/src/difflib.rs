//! Python's `difflib.get_close_matches`, which Spec Kitty uses for its "Did you mean …?"
//! suggestions, so missionctl suggests the same path.
//!
//! [`SequenceMatcher::ratio`] follows `difflib.SequenceMatcher` exactly: no junk function,
//! the "popular element" heuristic on for sequences of 200 or more characters, the longest
//! matching block found the same way, and `2.0 * matches / total` as a float.

use std::collections::HashMap;

/// Compares sequences of characters as `difflib.SequenceMatcher(None, a, b)` does.
struct SequenceMatcher<'b> {
    b: &'b [char],
    /// Where each non-popular character of `b` occurs, ascending.
    b2j: HashMap<char, Vec<usize>>,
}

impl<'b> SequenceMatcher<'b> {
    fn new(b: &'b [char]) -> SequenceMatcher<'b> {
        let mut b2j: HashMap<char, Vec<usize>> = HashMap::new();
        for (index, ch) in b.iter().enumerate() {
            b2j.entry(*ch).or_default().push(index);
        }
        // autojunk: in a sequence of 200 or more, an element occurring more than 1% of the
        // time (plus one) is "popular" and does not seed matches.
        let n = b.len();
        if n >= 200 {
            let ntest = n / 100 + 1;
            b2j.retain(|_, indices| indices.len() <= ntest);
        }
        SequenceMatcher { b, b2j }
    }

    /// Returns `(i, j, size)` of the longest block `a[i..i+size] == b[j..j+size]` in the
    /// given ranges, earliest in `a`, then earliest in `b`.
    fn find_longest_match(
        &self,
        a: &[char],
        (alo, ahi): (usize, usize),
        (blo, bhi): (usize, usize),
    ) -> (usize, usize, usize) {
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0);
        let mut j2len: HashMap<usize, usize> = HashMap::new();
        for (i, ch) in a.iter().enumerate().take(ahi).skip(alo) {
            let mut next: HashMap<usize, usize> = HashMap::new();
            if let Some(indices) = self.b2j.get(ch) {
                for &j in indices {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let k = j
                        .checked_sub(1)
                        .and_then(|previous| j2len.get(&previous))
                        .copied()
                        .unwrap_or(0)
                        + 1;
                    next.insert(j, k);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            j2len = next;
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
        let mut queue = vec![((0, a.len()), (0, self.b.len()))];
        let mut total = 0;
        while let Some(((alo, ahi), (blo, bhi))) = queue.pop() {
            let (i, j, k) = self.find_longest_match(a, (alo, ahi), (blo, bhi));
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

    /// Returns `SequenceMatcher(None, a, b).ratio()`.
    fn ratio(&self, a: &[char]) -> f64 {
        let length = a.len() + self.b.len();
        if length == 0 {
            return 1.0;
        }
        2.0 * self.matches(a) as f64 / length as f64
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
            let ratio = matcher.ratio(&a);
            (ratio >= cutoff).then_some((ratio, candidate.as_str()))
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
        SequenceMatcher::new(&b).ratio(&a)
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
    }

    #[test]
    fn close_matches_are_pythons() {
        let words: Vec<String> = ["ape", "apple", "peach", "puppy"]
            .iter()
            .map(|word| (*word).to_owned())
            .collect();
        assert_eq!(get_close_matches("appel", &words, 3, 0.6), ["apple", "ape"]);
        assert!(get_close_matches("zzz", &words, 1, 0.5).is_empty());
    }
}
