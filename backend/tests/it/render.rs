//! Story rendering: the Markdown rendering table, the XSS corpus (tests/data/xss.txt) in several
//! Markdown contexts, and the plain-text helpers (text, word count, excerpt).

use backend::stories::render::{comment_to_html, excerpt, markdown_to_html, markdown_to_text, word_count};

const REL: &str = "rel=\"noopener nofollow ugc\"";

enum Expect {
    Exact(&'static str),
    Contains(&'static [&'static str]),
}
use Expect::{Contains, Exact};

/// (what the row covers, Markdown, expected HTML)
const TABLE: &[(&str, &str, Expect)] = &[
    ("empty", "", Exact("")),
    ("paragraph", "Hello **big** _world_", Exact("<p>Hello <strong>big</strong> <em>world</em></p>\n")),
    ("h1", "# Title", Exact("<h1>Title</h1>\n")),
    ("h2 and h3", "## Sub\n### Third", Exact("<h2>Sub</h2>\n<h3>Third</h3>\n")),
    ("setext h1", "Title\n=====", Exact("<h1>Title</h1>\n")),
    ("bold", "**bold**", Exact("<p><strong>bold</strong></p>\n")),
    ("italic", "*italic* and _also_", Exact("<p><em>italic</em> and <em>also</em></p>\n")),
    ("bold italic", "***both***", Exact("<p><em><strong>both</strong></em></p>\n")),
    (
        "nested list",
        "- a\n  - b\n  - c\n- d",
        Exact("<ul>\n<li>a\n<ul>\n<li>b</li>\n<li>c</li>\n</ul>\n</li>\n<li>d</li>\n</ul>\n"),
    ),
    ("ordered list", "1. one\n2. two", Exact("<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n")),
    (
        "ordered list keeps its start",
        "3. three\n4. four",
        Exact("<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>\n"),
    ),
    (
        "ordered list nested in unordered",
        "- a\n  1. x\n  2. y",
        Exact("<ul>\n<li>a\n<ol>\n<li>x</li>\n<li>y</li>\n</ol>\n</li>\n</ul>\n"),
    ),
    (
        "link with title",
        "[Heirloom](https://example.org/a?b=1&c=2 \"Home\")",
        Exact(concat!(
            "<p><a href=\"https://example.org/a?b=1&amp;c=2\" title=\"Home\" ",
            "rel=\"noopener nofollow ugc\">Heirloom</a></p>\n",
        )),
    ),
    (
        "relative link",
        "[the photo](/media/abc/original)",
        Exact("<p><a href=\"/media/abc/original\" rel=\"noopener nofollow ugc\">the photo</a></p>\n"),
    ),
    (
        "mailto link",
        "[write](mailto:ana@example.org)",
        Exact("<p><a href=\"mailto:ana@example.org\" rel=\"noopener nofollow ugc\">write</a></p>\n"),
    ),
    (
        "autolink",
        "<https://example.org>",
        Exact("<p><a href=\"https://example.org\" rel=\"noopener nofollow ugc\">https://example.org</a></p>\n"),
    ),
    (
        "reference link",
        "[home][h]\n\n[h]: https://example.org/",
        Exact("<p><a href=\"https://example.org/\" rel=\"noopener nofollow ugc\">home</a></p>\n"),
    ),
    (
        "javascript link keeps its text, loses its href",
        "[x](javascript:alert(1))",
        Exact("<p><a rel=\"noopener nofollow ugc\">x</a></p>\n"),
    ),
    ("block quote", "> quoted\n> more", Exact("<blockquote>\n<p>quoted\nmore</p>\n</blockquote>\n")),
    (
        "nested block quote",
        "> outer\n>\n> > inner",
        Exact("<blockquote>\n<p>outer</p>\n<blockquote>\n<p>inner</p>\n</blockquote>\n</blockquote>\n"),
    ),
    ("inline code", "Use `a < b` here", Exact("<p>Use <code>a &lt; b</code> here</p>\n")),
    // The language class is dropped on purpose: no class attribute survives the sanitizer.
    (
        "fenced code drops the language",
        "```js\nif (a < b) {}\n```",
        Exact("<pre><code>if (a &lt; b) {}\n</code></pre>\n"),
    ),
    ("indented code", "    let x = 1;", Exact("<pre><code>let x = 1;</code></pre>\n")),
    (
        "image with title",
        "![Grandma](/media/abc/original \"1952\")",
        Exact("<p><img src=\"/media/abc/original\" alt=\"Grandma\" title=\"1952\"></p>\n"),
    ),
    (
        "https image",
        "![a](https://example.org/a.png)",
        Exact("<p><img src=\"https://example.org/a.png\" alt=\"a\"></p>\n"),
    ),
    ("javascript image loses its src", "![a](javascript:alert(1))", Exact("<p><img alt=\"a\"></p>\n")),
    ("mailto image loses its src", "![a](mailto:a@b.c)", Exact("<p><img alt=\"a\"></p>\n")),
    ("data image loses its src", "![a](data:image/png;base64,AAAA)", Exact("<p><img alt=\"a\"></p>\n")),
    ("hard breaks", "line one  \nline two\\\nline three", Exact("<p>line one<br>\nline two<br>\nline three</p>\n")),
    ("inline <br> is a hard break", "one<br/>two", Exact("<p>one<br>\ntwo</p>\n")),
    ("<br> in any case is a hard break", "a<br>b<BR />c", Exact("<p>a<br>\nb<br>\nc</p>\n")),
    ("horizontal rule", "a\n\n---\n\nb", Exact("<p>a</p>\n<hr>\n<p>b</p>\n")),
    // Alignment is dropped: pulldown-cmark expresses it with style, which never survives.
    (
        "table",
        "| a | b |\n|:--|--:|\n| 1 | **2** |",
        Exact(concat!(
            "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n",
            "<tr><td>1</td><td><strong>2</strong></td></tr>\n</tbody></table>\n",
        )),
    ),
    ("strikethrough", "~~gone~~ and ~also~", Exact("<p><del>gone</del> and <del>also</del></p>\n")),
    (
        "escaped characters",
        "\\*not em\\* \\# \\[x\\](y) 1 &lt; 2 & 3 &copy;",
        Exact("<p>*not em* # [x](y) 1 &lt; 2 &amp; 3 ©</p>\n"),
    ),
    (
        "CJK paragraph",
        "我们的故事从这里开始。**祖母**说：「好」。",
        Exact("<p>我们的故事从这里开始。<strong>祖母</strong>说：「好」。</p>\n"),
    ),
    ("task list markers are text", "- [x] done\n- [ ] todo", Exact("<ul>\n<li>☑ done</li>\n<li>☐ todo</li>\n</ul>\n")),
    ("raw inline HTML is shown as text", "a <b class=x>b</b>", Exact("<p>a &lt;b class=x&gt;b&lt;/b&gt;</p>\n")),
    ("a script is shown as text", "<script>alert(1)</script>", Exact("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n")),
    (
        "raw HTML block is shown as text",
        "<div onclick=\"x\">\nhi\n</div>",
        Contains(&["&lt;div onclick=\"x\"&gt;", "hi", "&lt;/div&gt;"]),
    ),
    ("HTML comment is shown as text", "a <!-- secret --> b", Exact("<p>a &lt;!-- secret --&gt; b</p>\n")),
    // Without the footnote extension `[^1]: note` is a plain link reference definition.
    (
        "footnotes are not enabled",
        "a[^1]\n\n[^1]: note",
        Exact("<p>a<a href=\"note\" rel=\"noopener nofollow ugc\">^1</a></p>\n"),
    ),
    (
        "a paragraph with everything inline",
        "**b** _i_ `c` ~~s~~ [l](/x) ![p](/y)",
        Contains(&[
            "<strong>b</strong>",
            "<em>i</em>",
            "<code>c</code>",
            "<del>s</del>",
            "<a href=\"/x\" rel=\"noopener nofollow ugc\">l</a>",
            "<img src=\"/y\" alt=\"p\">",
        ]),
    ),
];

#[test]
fn markdown_rendering_table() {
    assert!(TABLE.len() >= 15);
    let mut failures = Vec::new();
    for (name, markdown, expect) in TABLE {
        let html = markdown_to_html(markdown);
        let ok = match expect {
            Exact(expected) => html == *expected,
            Contains(parts) => parts.iter().all(|part| html.contains(part)),
        };
        if !ok {
            let wanted = match expect {
                Exact(expected) => format!("{expected:?}"),
                Contains(parts) => format!("substrings {parts:?}"),
            };
            failures.push(format!("{name}: {markdown:?}\n   got {html:?}\n  want {wanted}"));
        }
        // Every row must also pass the XSS checks: rendering never produces what they forbid.
        if let Err(why) = check_safe(&html) {
            failures.push(format!("{name}: {markdown:?} rendered unsafe HTML ({why}): {html:?}"));
        }
    }
    assert!(failures.is_empty(), "{} rendering rows failed:\n{}", failures.len(), failures.join("\n"));
}

/// A comment keeps what a short answer needs, and reads headings and images as text.
#[test]
fn comments_render_a_lighter_markdown() {
    let html = comment_to_html(
        "# Hello\nfirst line\nsecond *line* ~~x~~\n\n![Rosa at 20](/media/x) [link](https://a.example)\n\n| a |\n|---|",
    );
    assert_eq!(
        html,
        format!(
            "<p>Hello</p>\n<p>first line<br>\nsecond <em>line</em> <del>x</del></p>\n<p>Rosa at 20 \
             <a href=\"https://a.example\" {REL}>link</a></p>\n<p>| a |<br>\n|---|</p>\n"
        )
    );
}

#[test]
fn every_link_gets_the_rel_attribute() {
    let html =
        markdown_to_html("[a](https://a.example) <https://b.example> [c](/c) [d][d]\n\n[d]: mailto:d@example.org");
    let links: Vec<_> = scan(&html).into_iter().filter(|t| t.name == "a").collect();
    assert_eq!(links.len(), 4, "{html}");
    for link in links {
        assert!(link.attrs.iter().any(|(k, v)| k == "rel" && v == "noopener nofollow ugc"), "{html}");
    }
    assert!(html.contains(REL));
}

// --- XSS corpus ---

fn corpus() -> Vec<String> {
    let raw = include_str!("../data/xss.txt");
    raw.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\0", "\0"))
        .collect()
}

/// The payload as a whole document and embedded in a paragraph, a list item and a block quote.
fn contexts(payload: &str) -> Vec<(&'static str, String)> {
    let indented = |prefix: &str, rest: &str| {
        let mut lines = payload.lines();
        let first = lines.next().unwrap_or_default();
        let mut out = format!("{prefix}{first}");
        for line in lines {
            out.push('\n');
            out.push_str(rest);
            out.push_str(line);
        }
        out
    };
    vec![
        ("document", payload.to_string()),
        ("paragraph", format!("Before the payload {payload} after the payload.")),
        ("list item", format!("- first item\n{}\n- last item", indented("- ", "  "))),
        ("block quote", format!("> Quoted\n>\n{}", indented("> ", "> "))),
    ]
}

/// Not a check: `cargo test -p backend --test it render::dump -- --ignored --nocapture` shows
/// what every payload renders to, for a human to eyeball.
#[test]
#[ignore]
fn dump_xss_renderings() {
    for payload in corpus() {
        println!("{payload:?}\n  => {:?}", markdown_to_html(&payload));
    }
}

#[test]
fn xss_corpus_is_big_and_distinct() {
    let payloads = corpus();
    let distinct: std::collections::HashSet<_> = payloads.iter().collect();
    assert_eq!(distinct.len(), payloads.len(), "the corpus has duplicate payloads");
    assert!(payloads.len() >= 60, "only {} payloads", payloads.len());
}

type Renderer = fn(&str) -> String;

#[test]
fn xss_corpus_renders_safely_in_every_context() {
    let payloads = corpus();
    let mut failures = Vec::new();
    // Stories and comments: the comment renderer rewrites events after the neutralizing.
    let renderers: [(&str, Renderer); 2] = [("story", markdown_to_html), ("comment", comment_to_html)];
    for payload in &payloads {
        for (context, markdown) in contexts(payload) {
            for (renderer, render) in renderers {
                let html = render(&markdown);
                if let Err(why) = check_safe(&html) {
                    failures.push(format!("{renderer} payload {payload:?} in {context}: {why}\n  html: {html:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} renderings are unsafe:\n{}",
        failures.len(),
        payloads.len() * 8,
        failures.join("\n")
    );
}

/// The checker itself must catch what it claims to, or the corpus test proves nothing.
#[test]
fn the_safety_checker_catches_unsafe_html() {
    let unsafe_html = [
        "<script>alert(1)</script>",
        "<p><SCRIPT>x</SCRIPT></p>",
        "<iframe src=x></iframe>",
        "<object data=x>",
        "<embed src=x>",
        "<svg></svg>",
        "<math></math>",
        "<style>x</style>",
        "<base href=/>",
        "<meta http-equiv=refresh>",
        "<form></form>",
        "<img src=x onerror=alert(1)>",
        "<img src=x ONERROR='alert(1)'>",
        "<a href=\"x\"\tonclick=\"y\">",
        "<a href=\"javascript:alert(1)\">",
        "<a href=\"  JaVaScRiPt:alert(1)\">",
        "<a href=\"&#106;avascript:alert(1)\">",
        "<a href=\"&#x6A;avascript&colon;alert(1)\">",
        "<a href=\"java&#x09;script:alert(1)\">",
        "<a href=\"java\tscript:alert(1)\">",
        "<img src=\"data:image/png;base64,AAAA\">",
        "<img src='vbscript:x'>",
        "<p style=\"color:red\">",
        "<p class=x>",
        "<div>",
        "<!-- comment -->",
    ];
    for html in unsafe_html {
        assert!(check_safe(html).is_err(), "the checker let through {html:?}");
    }
    let safe =
        "<p>a &lt;script&gt; <a href=\"https://x.org/on\" title=\"onload\" rel=\"noopener nofollow ugc\">on</a> \
                <img src=\"/media/a\" alt=\"javascript:\"></p>";
    assert_eq!(check_safe(safe), Ok(()));
}

const FORBIDDEN_SUBSTRINGS: &[&str] =
    &["<script", "<iframe", "<object", "<embed", "<svg", "<math", "<style", "<base", "<meta", "<form", "<link"];

#[rustfmt::skip]
const ALLOWED_TAGS: &[&str] = &[
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "blockquote", "ul", "ol", "li",
    "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
];

fn allowed_attribute(tag: &str, attribute: &str) -> bool {
    matches!((tag, attribute), ("a", "href" | "title" | "rel") | ("img", "src" | "alt" | "title") | ("ol", "start"))
}

/// Everything the page must never contain, checked on the rendered HTML.
fn check_safe(html: &str) -> Result<(), String> {
    let lower = html.to_lowercase();
    for bad in FORBIDDEN_SUBSTRINGS {
        if lower.contains(bad) {
            return Err(format!("contains {bad}"));
        }
    }
    if lower.contains("<!--") {
        return Err("contains a comment".into());
    }
    for tag in scan(html) {
        if !ALLOWED_TAGS.contains(&tag.name.as_str()) {
            return Err(format!("tag <{}> is not allowed", tag.name));
        }
        for (name, value) in &tag.attrs {
            if name.starts_with("on") {
                return Err(format!("event handler {name} on <{}>", tag.name));
            }
            if !allowed_attribute(&tag.name, name) {
                return Err(format!("attribute {name} on <{}> is not allowed", tag.name));
            }
            if name == "href" || name == "src" {
                let url: String = decode_entities(value)
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_lowercase();
                for scheme in ["javascript:", "data:", "vbscript:"] {
                    if url.starts_with(scheme) {
                        return Err(format!("{name}={value:?} on <{}> is a {scheme} URL", tag.name));
                    }
                }
            }
        }
    }
    Ok(())
}

#[derive(Debug)]
struct ScannedTag {
    name: String,
    attrs: Vec<(String, String)>,
}

/// A tiny HTML tag scanner: enough to list start tags and their attributes (names lowercased,
/// values raw) in sanitizer output, where every `<` in text is escaped.
fn scan(html: &str) -> Vec<ScannedTag> {
    let chars: Vec<char> = html.chars().collect();
    let mut tags = Vec::new();
    let mut i = 0;
    let is_space = |c: char| c.is_whitespace() || c == '\0';
    while i < chars.len() {
        if chars[i] != '<' || i + 1 >= chars.len() || !chars[i + 1].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        i += 1;
        let start = i;
        while i < chars.len() && !is_space(chars[i]) && chars[i] != '>' && chars[i] != '/' {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect::<String>().to_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < chars.len() && (is_space(chars[i]) || chars[i] == '/') {
                i += 1;
            }
            if i >= chars.len() || chars[i] == '>' {
                break;
            }
            let start = i;
            while i < chars.len() && !is_space(chars[i]) && !matches!(chars[i], '=' | '>' | '/') {
                i += 1;
            }
            let attr: String = chars[start..i].iter().collect::<String>().to_lowercase();
            while i < chars.len() && is_space(chars[i]) {
                i += 1;
            }
            let mut value = String::new();
            if i < chars.len() && chars[i] == '=' {
                i += 1;
                while i < chars.len() && is_space(chars[i]) {
                    i += 1;
                }
                if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                    let quote = chars[i];
                    i += 1;
                    while i < chars.len() && chars[i] != quote {
                        value.push(chars[i]);
                        i += 1;
                    }
                    i += 1;
                } else {
                    while i < chars.len() && !is_space(chars[i]) && chars[i] != '>' {
                        value.push(chars[i]);
                        i += 1;
                    }
                }
            }
            attrs.push((attr, value));
        }
        tags.push(ScannedTag { name, attrs });
    }
    tags
}

/// Decodes numeric character references and the named ones that matter for URL schemes,
/// with or without the closing `;` (browsers accept both in attributes).
fn decode_entities(value: &str) -> String {
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("colon", ':'),
        ("tab", '\t'),
        ("newline", '\n'),
        ("nbsp", '\u{a0}'),
    ];
    let mut out = String::new();
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        if let Some(num) = rest.strip_prefix('#') {
            let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
                Some(hex) => (hex.chars().take_while(char::is_ascii_hexdigit).collect::<String>(), 16, 2),
                None => (num.chars().take_while(char::is_ascii_digit).collect::<String>(), 10, 1),
            };
            if let Some(c) = u32::from_str_radix(&digits, radix).ok().and_then(char::from_u32) {
                out.push(c);
                rest = &rest[skip + digits.len()..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
                continue;
            }
        } else if let Some((name, c)) = NAMED.iter().find(|(name, _)| rest.to_lowercase().starts_with(name)) {
            out.push(*c);
            rest = &rest[name.len()..];
            rest = rest.strip_prefix(';').unwrap_or(rest);
            continue;
        }
        out.push('&');
    }
    out.push_str(rest);
    out
}

// --- plain text, word count, excerpt ---

const RICH: &str = "# A summer in Lyon\n\n\
    Grandma **Ana** _always_ said: `be kind`.\n\n\
    - first ~~thing~~\n  - nested [link](https://example.org \"t\")\n1. ordered\n\n\
    > quoted  \n> line\n\n\
    ```rust\nlet x = 1;\n```\n\n\
    | col | umn |\n|-----|-----|\n| a   | b   |\n\n\
    ---\n\n\
    ![a photo of her](/media/abc/original)\n\n\
    - [x] done task\n\n\
    The end.";

#[test]
fn text_is_the_words_without_markup() {
    let text = markdown_to_text(RICH);
    assert_eq!(
        text,
        "A summer in Lyon Grandma Ana always said: be kind. first thing nested link ordered quoted line \
         let x = 1; col umn a b done task The end."
    );
    for markup in ["#", "*", "_", "`", "[", "]", "(", ")", ">", "<", "~", "|", "---", "![", "https://", "☑", "☐"] {
        assert!(!text.contains(markup), "{markup:?} leaked into {text:?}");
    }
    assert!(!text.contains("  ") && !text.contains('\n') && !text.contains('\t'));
    assert_eq!(text, text.trim());
}

/// (Markdown, its plain text): markup and raw HTML tags go, their words stay, white space
/// is collapsed and trimmed.
const TEXTS: &[(&str, &str)] = &[
    ("", ""),
    ("   \n\n", ""),
    ("---\n\n***", ""),
    ("# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n![alt](x.png)", "Title Some bold and code. one two"),
    ("Hello <b>bold</b> world", "Hello bold world"),
    ("in<i>line</i> tags join, <br>breaks<br/>split", "inline tags join, breaks split"),
    ("<div class=\"x\">\n<p>inside</p>\n</div>\n\nafter", "inside after"),
    ("a <!-- hidden --> b", "a b"),
    ("escaped \\<b> stays", "escaped <b> stays"),
    ("1 &lt; 2 &amp; 3", "1 < 2 & 3"),
    ("  one\u{3000}two\t\tthree  \n\n\n  four  ", "one two three four"),
    ("word\u{a0}\u{a0}next", "word next"),
    ("# 故事\n\n我们的**故事**。", "故事 我们的故事。"),
];

#[test]
fn texts() {
    for (markdown, text) in TEXTS {
        assert_eq!(markdown_to_text(markdown), *text, "markdown_to_text({markdown:?})");
    }
}

#[test]
fn word_counts() {
    let cases: &[(&str, usize)] = &[
        ("", 0),
        ("one", 1),
        ("one two  three", 3),
        ("Hello, **world**! — ok", 3),
        ("**bold** _italic_ `code`", 3),
        ("Hello, world! — it's 3.5 o'clock…", 5),
        ("# Title\n\n- a\n- b", 3),
        ("[a link](https://example.org/long/url)", 2),
        ("![alt text is not counted](/x)", 0),
        ("<b>tags</b> are not words", 4),
        ("我爱你。", 3),
        ("Hello世界", 3),
        ("東京タワーへ行く", 8),
        ("안녕하세요 세계", 2),
        ("Ünïcödé naïve café", 3),
    ];
    for (markdown, words) in cases {
        assert_eq!(word_count(markdown), *words, "word_count({markdown:?})");
    }
    assert_eq!(word_count(RICH), 28);
}

#[test]
fn excerpts() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 10, ""),
        ("Short story.", 100, "Short story."),
        ("Short story.", 12, "Short story."),
        ("Short story.", 11, "Short…"),
        ("The **quick** brown fox", 12, "The quick…"),
        // Cuts happen at whitespace, and the punctuation left before the "…" is trimmed.
        ("one, two, three", 10, "one, two…"),
        ("one, two, three", 9, "one…"),
        ("one two three", 13, "one two three"),
        ("one two three", 12, "one two…"),
        ("supercalifragilistic", 10, "…"),
        ("anything", 0, ""),
        ("我们的故事从这里开始", 5, "我们的故…"),
        ("我爱你们大家", 4, "我爱你…"),
        ("# Heading\n\nBody text here", 14, "Heading Body…"),
    ];
    for (markdown, max, cut) in cases {
        assert_eq!(excerpt(markdown, *max), *cut, "excerpt({markdown:?}, {max})");
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x323AF)
}

#[test]
fn excerpt_never_exceeds_the_limit_nor_splits_a_word() {
    let documents = [
        RICH,
        "The quick brown fox jumps over the lazy dog, then — exhausted — naps; zzz.",
        "Ünïcödé wörds with àccents and emoji 🎉🎉 in between!",
        "我们的故事从这里开始。祖母说：「好」。然后 we switched to English mid-sentence.",
        "antidisestablishmentarianism is long",
        "a b c d e f g h i j k l m n o p",
    ];
    for markdown in documents {
        let text = markdown_to_text(markdown);
        let length = text.chars().count();
        for max in 0..=length + 2 {
            let cut = excerpt(markdown, max);
            let where_ = format!("excerpt({markdown:?}, {max}) = {cut:?}");
            assert!(cut.chars().count() <= max, "{where_} exceeds the limit");
            if length <= max {
                assert_eq!(cut, text, "{where_} cut a text that fits");
                continue;
            }
            if max == 0 {
                assert_eq!(cut, "", "{where_}");
                continue;
            }
            let kept = cut.strip_suffix('…').unwrap_or_else(|| panic!("{where_} has no ellipsis"));
            assert!(text.starts_with(kept), "{where_} is not a prefix of the text");
            assert_eq!(kept, kept.trim(), "{where_} has dangling whitespace");
            if let (Some(last), Some(next)) = (kept.chars().last(), text[kept.len()..].chars().next()) {
                assert!(!next.is_alphanumeric() || is_cjk(last) || is_cjk(next), "{where_} splits a word");
            }
        }
    }
}
