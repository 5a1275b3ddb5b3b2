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

/// A whole number given as a number (JSON) or as its digits (a page's form). Needed
/// beside a `#[serde(flatten)]` part: such a struct is read from buffered values, and a
/// form's values then stay text that a plain `i64` refuses. For `#[serde(deserialize_with)]`.
pub fn integer_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct IntegerOrText;

    impl serde::de::Visitor<'_> for IntegerOrText {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<i64, E> {
            Ok(n)
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<i64, E> {
            i64::try_from(n).map_err(|_| E::custom("a whole number too large"))
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<i64, E> {
            text.trim().parse().map_err(|_| E::invalid_value(serde::de::Unexpected::Str(text), &self))
        }
    }

    deserializer.deserialize_any(IntegerOrText)
}

#[cfg(test)]
mod integer_tests {
    #[derive(serde::Deserialize)]
    struct Versioned {
        #[serde(deserialize_with = "super::integer_or_text")]
        version: i64,
        #[serde(flatten)]
        _rest: std::collections::HashMap<String, String>,
    }

    #[test]
    fn a_whole_number_reads_from_a_number_or_its_digits_beside_a_flattened_part() {
        let read = |json: &str| serde_json::from_str::<Versioned>(json).map(|v| v.version);
        assert_eq!(read(r#"{"version": 3, "name": "x"}"#).ok(), Some(3));
        assert_eq!(read(r#"{"version": " 4 ", "name": "x"}"#).ok(), Some(4));
        for bad in [r#"{"version": "four"}"#, r#"{"version": 1.5}"#, r#"{"version": 18446744073709551615}"#] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
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
