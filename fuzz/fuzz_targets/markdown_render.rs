//! Fuzzes the only place user Markdown becomes HTML: whatever the input, rendering must
//! not panic and the output must hold no executable markup.

#![no_main]

use libfuzzer_sys::fuzz_target;

// The renderer is self-contained (pulldown-cmark + ammonia), so it is compiled here
// directly rather than through the whole backend crate.
#[path = "../../backend/src/stories/render.rs"]
#[allow(dead_code)]
mod render;

const FORBIDDEN_TAGS: [&str; 12] =
    ["<script", "<iframe", "<object", "<embed", "<svg", "<math", "<style", "<base", "<meta", "<form", "<link", "<input"];
const FORBIDDEN_SCHEMES: [&str; 3] = ["javascript:", "data:", "vbscript:"];

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else { return };
    let html = render::markdown_to_html(markdown);
    let lower = html.to_lowercase();
    for tag in FORBIDDEN_TAGS {
        assert!(!lower.contains(tag), "{tag} in output for {markdown:?}: {html}");
    }
    for (name, value) in attributes(&lower) {
        assert!(!name.starts_with("on"), "event handler {name} in {html}");
        if name == "href" || name == "src" {
            let value: String = decode_entities(&value).chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
            for scheme in FORBIDDEN_SCHEMES {
                assert!(!value.starts_with(scheme), "{scheme} URL in {html}");
            }
        }
    }
    let _ = render::markdown_to_text(markdown);
    let _ = render::excerpt(markdown, 120);
});

/// Every `(name, value)` attribute of every tag in `html`, honouring quotes, so text
/// inside an attribute value is never mistaken for another attribute.
fn attributes(html: &str) -> Vec<(String, String)> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        i += 1;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
            i += 1; // the tag name
        }
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                break;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
                i += 1;
            }
            let name = html[start..i].to_string();
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let quote = bytes[i];
                    let from = i + 1;
                    i = from;
                    while i < bytes.len() && bytes[i] != quote {
                        i += 1;
                    }
                    value = html[from..i.min(bytes.len())].to_string();
                    i += 1;
                } else {
                    let from = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = html[from..i].to_string();
                }
            }
            if name.is_empty() {
                i += 1;
            } else {
                found.push((name, value));
            }
        }
    }
    found
}

/// Decodes the character references a browser would before reading a URL.
fn decode_entities(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').unwrap_or(0);
        let entity = &rest[1..end.max(1)];
        let decoded = match entity {
            "colon" => Some(':'),
            "tab" => Some('\t'),
            "newline" => Some('\n'),
            "amp" => Some('&'),
            _ if entity.starts_with("#x") => u32::from_str_radix(&entity[2..], 16).ok().and_then(char::from_u32),
            _ if entity.starts_with('#') => entity[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) if end > 0 => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
