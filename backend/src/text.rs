//! What all text people type goes through on its way in, before it is checked and
//! stored: line endings become LF (a plain form posts CRLF, the editor's autosave posts
//! LF; stored as they came, every line of a story differed between two saves) and
//! Unicode becomes NFC (an "é" typed as one character and one pasted as "e" plus an
//! accent are the same letter, and now the same bytes, for diffs, tags and search).
//!
//! The field validators (`validate::{line, multiline}`, `stories::model::{body, tags}`, the display
//! name in `identity::model::NewUser::new`) call [`normalize`], so every service that
//! checks a field stores it normalized; existing rows were rewritten once by the data
//! migration in `db::data`.
//!
//! Text going out into HTML Heirloom writes by hand (search highlights, emails) is
//! escaped by [`escape_html_into`].

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// `text` with CRLF and lone CR turned into LF, in Unicode NFC. Borrowed when it already is.
pub fn normalize(text: &str) -> Cow<'_, str> {
    let lf = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    match is_nfc_quick(lf.chars()) {
        IsNormalized::Yes => lf,
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(lf.nfc().collect()),
    }
}

/// Escapes text for an HTML element body or a quoted attribute.
pub fn escape_html_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_become_lf() {
        assert_eq!(normalize("a\r\nb\rc\n\r\nd"), "a\nb\nc\n\nd");
        assert!(matches!(normalize("plain\ntext"), Cow::Borrowed(_)));
    }

    #[test]
    fn unicode_becomes_nfc() {
        // "é" as e + combining acute, and "Å" as A + ring: one character each afterwards.
        assert_eq!(normalize("Cafe\u{301} \u{41}\u{30a}"), "Caf\u{e9} \u{c5}");
        assert_eq!(normalize("Caf\u{e9}"), "Caf\u{e9}");
        // Hangul jamo compose too.
        assert_eq!(normalize("\u{1100}\u{1161}"), "\u{ac00}");
    }
}
