//! The one escaping path for text inside HTML's raw-text elements, `<title>` and
//! `<textarea>`. Leptos 0.8 writes both unescaped in server rendering (leptos_meta 0.8.7
//! pastes the title string into the head; tachys 0.2.19 marks `<textarea>` children as
//! not to be escaped), so a title or body containing `</title>` or `</textarea>` would
//! close the element and inject markup (docs/adr/0015). Every `<Title>` text passes
//! through [`page_title`] (the formatter set once in `App`), and every `<textarea>` child
//! is [`textarea_text`]; a test below keeps it so.

/// The document title for a page's `<Title text=…>`: "Page · Heirloom", escaped for the
/// server-rendered `<title>` element.
pub fn page_title(page: String) -> String {
    let title = if page.is_empty() { "Heirloom".to_string() } else { format!("{page} · Heirloom") };
    escape_for_server(title)
}

/// A `<textarea>`'s initial text. The server escapes it; in the browser, tachys neither
/// hydrates nor escapes textarea children, and the text stays as it is.
pub fn textarea_text(value: String) -> String {
    escape_for_server(value)
}

#[cfg(feature = "ssr")]
fn escape_for_server(text: String) -> String {
    match html_escape::encode_text(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

#[cfg(not(feature = "ssr"))]
fn escape_for_server(text: String) -> String {
    text
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn titles_and_textareas_cannot_close_their_element() {
        assert_eq!(page_title(String::new()), "Heirloom");
        assert_eq!(page_title("Rosa & Tom".into()), "Rosa &amp; Tom · Heirloom");
        let hostile = "</title><meta http-equiv=refresh content=0>".to_string();
        assert!(!page_title(hostile).contains('<'));
        let body = "</textarea><button formaction=/x>".to_string();
        assert_eq!(textarea_text(body), "&lt;/textarea&gt;&lt;button formaction=/x&gt;");
    }

    /// Every current and future use goes through this module: no page sets a title
    /// formatter of its own, and every `<textarea>` child is `textarea_text(…)`.
    #[test]
    fn every_title_and_textarea_in_the_app_uses_the_escaping_path() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root];
        let mut problems = Vec::new();
        let mut textareas = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("raw_text.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            let formatters = source.matches("formatter=").count();
            if formatters > 0 && !(path.ends_with("lib.rs") && source.contains("formatter=raw_text::page_title")) {
                problems.push(format!("{}: a <Title> formatter other than raw_text::page_title", path.display()));
            }
            for (at, _) in source.match_indices("<textarea") {
                textareas += 1;
                let element = &source[at..];
                let child = element[opening_tag_len(element)..].trim_start();
                if !child.starts_with("{textarea_text(") && !child.starts_with("{raw_text::textarea_text(") {
                    problems.push(format!("{}: a <textarea> whose text is not textarea_text(…)", path.display()));
                }
            }
        }
        assert!(textareas >= 3, "the scan found the app's textareas ({textareas})");
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The length of the `<textarea …>` opening tag in view! source: up to the first `>`
    /// outside braces (attribute values may be closures holding `>`).
    fn opening_tag_len(element: &str) -> usize {
        let mut depth = 0usize;
        for (i, c) in element.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                '>' if depth == 0 => return i + 1,
                _ => {}
            }
        }
        element.len()
    }
}
