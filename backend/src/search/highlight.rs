//! Snippets: a passage of a hit's text around what matched, HTML-escaped, with the
//! matches in `<mark>`. tantivy's own snippet generator only knows exact terms, so a
//! typeahead prefix or a typo-tolerant match would show nothing marked; this module
//! re-tokenizes the passage with the index's analyzers and marks every token the query
//! could have matched (stem, prefix or one-edit word), so what is marked is what was
//! found.

use crate::text::escape_html_into;
use std::collections::HashSet;

use tantivy::tokenizer::TokenStream;

use crate::search::tokenize;

/// Only this much of a text is scanned for matches, so a huge story cannot make one
/// results page slow; past it the snippet falls back to the text's beginning.
const SCAN_BYTES: usize = 256 * 1024;

/// What one query looks for, token by token.
#[derive(Debug, Clone, Default)]
pub struct Highlighter {
    /// Stemmed tokens (words, phrase words, CJK bigrams).
    pub stems: HashSet<String>,
    /// Plain tokens matched as prefixes (the word being typed).
    pub prefixes: Vec<String>,
    /// Plain tokens matched with one typo.
    pub fuzzy: Vec<String>,
}

impl Highlighter {
    /// At most about `max_chars` characters of `text` (plus "…" where cut), preferring
    /// the stretch with the most matches.
    pub fn snippet(&self, text: &str, max_chars: usize) -> String {
        let matches = self.matches(text);
        let budget = max_chars.max(1);
        let start = match best_window(&matches, budget) {
            Some(first) => lead_in(text, first, budget / 4),
            None => 0,
        };
        let end = cut(text, start, budget);
        let mut html = String::with_capacity(end - start + 32);
        if start > 0 {
            html.push('…');
        }
        let mut at = start;
        for &(from, to) in &matches {
            let (from, to) = (from.max(start), to.min(end));
            if from >= to || from < at {
                continue;
            }
            escape_html_into(&mut html, &text[at..from]);
            html.push_str("<mark>");
            escape_html_into(&mut html, &text[from..to]);
            html.push_str("</mark>");
            at = to;
        }
        escape_html_into(&mut html, &text[at..end]);
        if end < text.len() {
            html.push('…');
        }
        html
    }

    /// Byte ranges of matching tokens, in order, overlapping ones (CJK bigrams) merged.
    fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        if self.stems.is_empty() && self.prefixes.is_empty() && self.fuzzy.is_empty() {
            return Vec::new();
        }
        let scanned = &text[..floor_boundary(text, SCAN_BYTES)];
        let (mut plain, mut stemmed) = (tokenize::plain(), tokenize::stemmed());
        let mut plain_tokens = plain.token_stream(scanned);
        // Both analyzers share the tokenizer and every filter but the stemmer, so their
        // streams advance in step.
        let mut stem_tokens = stemmed.token_stream(scanned);
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        while plain_tokens.advance() {
            let stem = if stem_tokens.advance() { Some(stem_tokens.token().text.as_str()) } else { None };
            let token = plain_tokens.token();
            let word = token.text.as_str();
            let hit = stem.is_some_and(|s| self.stems.contains(s))
                || self.prefixes.iter().any(|p| word.starts_with(p.as_str()))
                || self.fuzzy.iter().any(|f| within_one_edit(word, f));
            if !hit {
                continue;
            }
            match ranges.last_mut() {
                Some(last) if token.offset_from <= last.1 => last.1 = last.1.max(token.offset_to),
                _ => ranges.push((token.offset_from, token.offset_to)),
            }
        }
        ranges
    }
}

/// The start of the match that begins the densest `budget`-byte stretch.
fn best_window(matches: &[(usize, usize)], budget: usize) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, &(from, _)) in matches.iter().enumerate() {
        let count = matches[i..].iter().take_while(|&&(_, to)| to <= from + budget).count();
        if best.is_none_or(|(_, n)| count > n) {
            best = Some((from, count));
        }
    }
    best.map(|(from, _)| from)
}

/// Where a passage starting near `at` begins: up to `chars` characters earlier, at a
/// word start when there is one, so the match is read in context.
fn lead_in(text: &str, at: usize, chars: usize) -> usize {
    let before = &text[..at];
    let start = before.char_indices().rev().take(chars).last().map_or(at, |(i, _)| i);
    if start == 0 {
        return 0;
    }
    match text[start..at].find(char::is_whitespace) {
        Some(space) => {
            let after = start + space;
            after + text[after..].chars().next().map_or(0, char::len_utf8)
        }
        None => start,
    }
}

/// The end of a passage of at most `chars` characters from `start`, backed up to a
/// space when that does not lose more than a third of it.
fn cut(text: &str, start: usize, chars: usize) -> usize {
    let rest = &text[start..];
    let Some((end, _)) = rest.char_indices().nth(chars) else { return text.len() };
    match rest[..end].rfind(char::is_whitespace) {
        Some(space) if space > end * 2 / 3 => start + space,
        _ => start + end,
    }
}

fn floor_boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

/// True when `a` becomes `b` with at most one insertion, deletion, substitution or
/// swap of neighbours (how the fuzzy query counts).
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (0, 0) => true,
        (x, y) if x == y => ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..]),
        (x, y) if x > y => ra[1..] == *rb,
        _ => *ra == rb[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(words: &[&str]) -> Highlighter {
        Highlighter { stems: words.iter().map(|w| w.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn marks_stemmed_matches_and_escapes_the_rest() {
        let html = stems(&["run"]).snippet("She <b>ran</b> & kept running.", 100);
        assert_eq!(html, "She &lt;b&gt;ran&lt;/b&gt; &amp; kept <mark>running</mark>.");
    }

    #[test]
    fn marks_prefixes_and_typos() {
        let h = Highlighter { prefixes: vec!["gra".into()], fuzzy: vec!["grandmotehr".into()], ..Default::default() };
        assert_eq!(h.snippet("Grandma and grandmother", 100), "<mark>Grandma</mark> and <mark>grandmother</mark>");
    }

    #[test]
    fn cjk_bigrams_merge_into_one_mark() {
        let h = stems(&["日本", "本語"]);
        assert_eq!(h.snippet("私は日本語を話す", 100), "私は<mark>日本語</mark>を話す");
    }

    #[test]
    fn long_texts_are_cut_around_the_match() {
        let text = format!("{} the bees were calm {}", "word ".repeat(200), "tail ".repeat(200));
        let html = stems(&["bee"]).snippet(&text, 60);
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<mark>bees</mark>"), "{html}");
        assert!(html.chars().count() < 60 + 30, "{html}");
    }

    #[test]
    fn without_a_match_the_beginning_is_shown() {
        assert_eq!(stems(&["zebra"]).snippet("One two three four", 9), "One two…");
    }

    #[test]
    fn one_edit_means_one() {
        assert!(within_one_edit("grandmotehr", "grandmother"));
        assert!(within_one_edit("grandmothr", "grandmother"));
        assert!(within_one_edit("grandmotherr", "grandmother"));
        assert!(within_one_edit("grandmuther", "grandmother"));
        assert!(!within_one_edit("grandmthre", "grandmother"));
        assert!(!within_one_edit("mother", "grandmother"));
    }
}
