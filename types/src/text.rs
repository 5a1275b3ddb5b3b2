//! Checks on text people type that both the server and the browser may want.

/// Characters that change how the text around them is shown without being visible
/// themselves: the Unicode bidirectional controls (embeddings, overrides, isolates and
/// marks: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) and the zero-width
/// characters (U+200B–U+200D, U+2060, U+FEFF). In a file name, `\u{202E}gnp.exe` reads
/// as `exe.png`; a zero-width space makes two names look the same.
pub fn is_bidi_control_or_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_bidi_control_and_zero_width_character() {
        let hidden = [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
        ];
        for c in hidden {
            assert!(is_bidi_control_or_invisible(c), "U+{:04X}", c as u32);
        }
        // Letters of right-to-left scripts and ordinary punctuation are fine.
        for c in "photo-1962 ×.jpg שלום مرحبا 写真".chars() {
            assert!(!is_bidi_control_or_invisible(c), "U+{:04X}", c as u32);
        }
    }
}

/// A list field that is either a list (JSON) or one text field of comma-separated items
/// (a page's form): `"a, b,"` and `["a", "b"]` both read as `a`, `b`. For `#[serde(deserialize_with)]`.
pub fn list_or_commas<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct ListOrCommas;

    impl<'de> serde::de::Visitor<'de> for ListOrCommas {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of strings, or one string of comma-separated items")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<String>, E> {
            Ok(crate::stories::split_tags(text))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                items.push(item);
            }
            Ok(items)
        }
    }

    deserializer.deserialize_any(ListOrCommas)
}

#[cfg(test)]
mod list_tests {
    #[derive(serde::Deserialize)]
    struct Listed {
        #[serde(deserialize_with = "super::list_or_commas")]
        items: Vec<String>,
    }

    #[test]
    fn a_list_reads_from_json_or_one_comma_separated_text() {
        let from_json: Listed = serde_json::from_str(r#"{"items": ["a", " b "]}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_json.items, ["a", " b "]);
        let from_text: Listed = serde_json::from_str(r#"{"items": "a, b,,"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_text.items, ["a", "b"]);
        assert!(serde_json::from_str::<Listed>(r#"{"items": 3}"#).is_err());
    }
}
