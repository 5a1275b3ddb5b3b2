//! How text becomes index terms, for documents and queries alike.
//!
//! One tokenizer splits text into two kinds of tokens:
//! - words of letters and digits in any script that separates words with spaces or
//!   punctuation (Latin, Cyrillic, Greek, …);
//! - runs of CJK characters (Han, Hiragana, Katakana, Hangul), which have no spaces
//!   between words, emitted as overlapping bigrams (`日本語` → `日本`, `本語`) at
//!   consecutive positions, or as one unigram for a single-character run. Bigrams need
//!   no dictionary and find any word of two or more characters; the phrase of a query's
//!   bigrams pins them together again.
//!
//! Two analyzers are built on it, registered under the names the schema uses:
//! [`STEMMED`] (lowercase, ASCII folding, English stemming: "running" finds "run") for
//! ranked matching, and [`PLAIN`] (no stemming) for prefix and typo-tolerant matching,
//! where a stem would get in the way ("grandmotehr" is one transposition from
//! "grandmother" but two edits from its stem "grandmoth").

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
    TokenizerManager,
};

/// Analyzer with stemming, for the ranked full-text fields.
pub const STEMMED: &str = "heirloom_stemmed";
/// Analyzer without stemming, for prefix (typeahead) and fuzzy (typo) matching.
pub const PLAIN: &str = "heirloom_plain";

/// Tokens longer than this (in bytes) are dropped: they are pasted hashes or URLs, not
/// words anyone types, and they would bloat the term dictionary.
const MAX_TOKEN_BYTES: usize = 64;

/// Registers both analyzers on an index's tokenizer manager (tokenizers are not stored
/// in the index, so every open must register them again).
pub fn register(manager: &TokenizerManager) {
    manager.register(STEMMED, stemmed());
    manager.register(PLAIN, plain());
}

pub fn stemmed() -> TextAnalyzer {
    TextAnalyzer::builder(MixedScriptTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

pub fn plain() -> TextAnalyzer {
    TextAnalyzer::builder(MixedScriptTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Every token `analyzer` makes of `text`.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    analyzer.token_stream(text).process(&mut |token| out.push(token.clone()));
    out
}

/// Han ideographs (with extensions and compatibility forms), kana and Hangul: the
/// scripts written without spaces between words (Korean has spaces, but between
/// phrases, so bigrams serve it too).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3005..=0x3007      // 々 〆 〇
        | 0x3040..=0x30FF    // Hiragana, Katakana (with ー)
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // Han extension A
        | 0x4E00..=0x9FFF    // Han
        | 0xF900..=0xFAFF    // Han compatibility
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x1100..=0x11FF    // Hangul Jamo
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0x20000..=0x2FA1F  // Han extensions B and later, compatibility supplement
    )
}

/// Splits text into words and CJK bigrams (see the module comment).
#[derive(Clone, Default)]
pub struct MixedScriptTokenizer {
    token: Token,
}

pub struct MixedScriptTokenStream<'a> {
    text: &'a str,
    /// Byte offset where scanning resumes.
    cursor: usize,
    /// The CJK run being emitted: its characters' byte offsets, plus its end offset.
    run: Vec<usize>,
    /// Index in `run` of the next bigram's first character.
    run_next: usize,
    token: &'a mut Token,
}

impl Tokenizer for MixedScriptTokenizer {
    type TokenStream<'a> = MixedScriptTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MixedScriptTokenStream<'a> {
        self.token.reset();
        MixedScriptTokenStream { text, cursor: 0, run: Vec::new(), run_next: 0, token: &mut self.token }
    }
}

impl MixedScriptTokenStream<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..to]);
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }

    /// The next bigram (or lone unigram) of the current CJK run, if any is left.
    fn next_in_run(&mut self) -> bool {
        // `run` holds n character starts followed by the run's end offset.
        let chars = self.run.len().saturating_sub(1);
        if chars == 1 && self.run_next == 0 {
            self.run_next = 1;
            let (from, to) = (self.run[0], self.run[1]);
            return self.emit(from, to);
        }
        if chars >= 2 && self.run_next + 1 < chars {
            let (from, to) = (self.run[self.run_next], self.run[self.run_next + 2]);
            self.run_next += 1;
            return self.emit(from, to);
        }
        false
    }
}

impl TokenStream for MixedScriptTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next_in_run() {
            return true;
        }
        self.run.clear();
        self.run_next = 0;
        let rest = &self.text[self.cursor..];
        let mut chars = rest.char_indices().map(|(i, c)| (self.cursor + i, c)).peekable();
        // Skip what is neither a word character nor CJK.
        while let Some(&(_, c)) = chars.peek() {
            if c.is_alphanumeric() || is_cjk(c) {
                break;
            }
            chars.next();
        }
        let Some(&(start, first)) = chars.peek() else {
            self.cursor = self.text.len();
            return false;
        };
        if is_cjk(first) {
            while let Some(&(i, c)) = chars.peek() {
                if !is_cjk(c) {
                    break;
                }
                self.run.push(i);
                chars.next();
            }
            let end = chars.peek().map_or(self.text.len(), |&(i, _)| i);
            self.run.push(end);
            self.cursor = end;
            self.next_in_run()
        } else {
            let mut end = self.text.len();
            for (i, c) in chars {
                if !c.is_alphanumeric() || is_cjk(c) {
                    end = i;
                    break;
                }
            }
            self.cursor = end;
            self.emit(start, end)
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        tokens(analyzer, text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn latin_words_are_lowercased_folded_and_stemmed() {
        assert_eq!(texts(&mut stemmed(), "Running to the Café, she RAN!"), ["run", "to", "the", "cafe", "she", "ran"]);
        assert_eq!(texts(&mut plain(), "Running to the Café"), ["running", "to", "the", "cafe"]);
    }

    #[test]
    fn cjk_runs_become_overlapping_bigrams_at_consecutive_positions() {
        let tokens = tokens(&mut stemmed(), "日本語の本 Tokyo東京 猫");
        let got: Vec<(&str, usize)> = tokens.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(got, [("日本", 0), ("本語", 1), ("語の", 2), ("の本", 3), ("tokyo", 4), ("東京", 5), ("猫", 6)]);
        // Offsets point at the original characters (highlighting relies on them).
        let text = "日本語の本 Tokyo東京 猫";
        assert_eq!(&text[tokens[1].offset_from..tokens[1].offset_to], "本語");
        assert_eq!(&text[tokens[6].offset_from..tokens[6].offset_to], "猫");
    }

    #[test]
    fn hangul_and_kana_are_cjk_too() {
        assert_eq!(texts(&mut plain(), "한국어 カタカナ"), ["한국", "국어", "カタ", "タカ", "カナ"]);
    }

    #[test]
    fn both_analyzers_make_the_same_number_of_tokens() {
        let text = "Grandma's 1931 recipe — 日本語 and a verylongtoken".to_string() + &"x".repeat(100);
        assert_eq!(tokens(&mut stemmed(), &text).len(), tokens(&mut plain(), &text).len());
    }

    #[test]
    fn punctuation_and_empty_text_make_no_tokens() {
        assert!(texts(&mut stemmed(), "").is_empty());
        assert!(texts(&mut stemmed(), " — !? \"(*)\" ").is_empty());
    }
}
