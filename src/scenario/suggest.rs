//! "Did you mean" suggestions for misspelt keys and names.

/// The candidate closest to `word`, if one is close enough to be a
/// plausible typo: at most a third of the word's length in edits, and at
/// least one edit allowed so short keys still get a suggestion.
pub(crate) fn nearest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    closest(word, candidates).into_iter().next()
}

/// Every candidate at the smallest plausible distance from `word`.
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Vec<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    let word = word.to_lowercase();
    let scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (edit_distance(&word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .collect();

    let best = scored.iter().map(|(d, _)| *d).min();
    scored
        .into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, c)| c)
        .collect()
}

/// `; did you mean "x"?` (or `"x" or "y"` on a tie), or the full list of
/// choices when nothing is close, ready to append to a message.
pub(crate) fn hint(word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates).as_slice() {
        [] => format!("; expected one of {}", list(candidates)),
        near => format!("; did you mean {}?", list(near)),
    }
}

/// `"a", "b" or "c"`, for messages naming the valid choices.
pub(crate) fn list(candidates: &[&str]) -> String {
    let quoted: Vec<String> = candidates.iter().map(|c| format!("\"{c}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Optimal string alignment distance: Levenshtein plus the swap of two
/// neighbouring characters, the most common typing slip.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;

    for i in 0..=a.len() {
        d[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        d[at(0, j)] = j;
    }

    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[at(i - 1, j)] + 1)
                .min(d[at(i, j - 1)] + 1)
                .min(d[at(i - 1, j - 1)] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[at(i - 2, j - 2)] + 1);
            }
            d[at(i, j)] = best;
        }
    }
    d[at(a.len(), b.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(edit_distance("stage", "stages"), 1);
        assert_eq!(edit_distance("laod", "load"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_the_closest_candidate() {
        assert_eq!(
            nearest("stage", &["stages", "grace", "model"]),
            Some("stages")
        );
        assert_eq!(nearest("agnets", &["agents", "idle_end"]), Some("agents"));
    }

    #[test]
    fn suggests_nothing_for_unrelated_words() {
        assert_eq!(nearest("banana", &["stages", "grace"]), None);
        assert!(hint("banana", &["a", "b"]).contains("one of \"a\" or \"b\""));
    }

    #[test]
    fn offers_every_candidate_on_a_tie() {
        assert_eq!(
            hint("v3", &["v1", "v2"]),
            "; did you mean \"v1\" or \"v2\"?"
        );
    }

    #[test]
    fn lists_choices_readably() {
        assert_eq!(list(&["v1"]), "\"v1\"");
        assert_eq!(list(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
    }
}
