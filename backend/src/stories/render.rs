//! Turns the Markdown a story is stored as into what the rest of the app shows or indexes:
//! sanitized HTML for pages, plain text for search, word counts and excerpts.
//!
//! This module is the only place user Markdown becomes HTML, so it is also the only place
//! that has to be right about XSS. It defends in two layers:
//!
//! 1. Markdown parsing (pulldown-cmark: CommonMark plus tables, strikethrough, task lists)
//!    never lets raw HTML through: HTML blocks and inline HTML are turned into text, so a
//!    story that says `<script>` shows those characters instead of running them. The single
//!    exception is `<br>`, which editors emit inside table cells; it becomes a hard break.
//! 2. The generated HTML goes through an ammonia allowlist anyway, so a parser bug or a
//!    future option cannot smuggle a tag, attribute or URL scheme onto a page.
//!
//! Decisions worth knowing:
//! - Fenced code blocks render as bare `<pre><code>`: the `language-*` class is dropped
//!   (no `class` attribute is allowed at all), so highlighting would have to come from
//!   elsewhere.
//! - Task list items render their marker as text (`☐ ` / `☑ `) rather than as
//!   `<input type="checkbox">`, so no form control is ever allowed through the sanitizer.
//! - Table column alignment is dropped, because pulldown-cmark expresses it with `style`,
//!   which is never allowed.
//! - Links keep `href` and `title` and get `rel="noopener nofollow ugc"`; link URLs may be
//!   http, https, mailto or relative. Image sources may only be http, https or relative.
//! - `<ol start>` is kept so a list that starts at 3 still reads 3, 4, 5.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, Url, UrlRelative};
use pulldown_cmark::{Alignment, CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Renders user Markdown to sanitized HTML safe to embed in a page.
pub fn markdown_to_html(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, options()).map(neutralize);
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut unsafe_html, events);
    SANITIZER.clean(&unsafe_html).to_string()
}

/// Renders a comment's Markdown-lite to sanitized HTML: paragraphs, emphasis, links,
/// lists, quotes and code, with every line break kept as typed. A heading reads as a
/// plain paragraph and an image as its description; the parser's neutralizing and the
/// sanitizer are the stories' own.
pub fn comment_to_html(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH).map(neutralize).filter_map(|event| {
        Some(match event {
            Event::Start(Tag::Heading { .. }) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::Heading(_)) => Event::End(TagEnd::Paragraph),
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => return None,
            Event::SoftBreak => Event::HardBreak,
            other => other,
        })
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut unsafe_html, events);
    SANITIZER.clean(&unsafe_html).to_string()
}

/// The plain text of the Markdown (for search indexing, word counts and excerpts): no markup,
/// whitespace collapsed to single spaces, trimmed.
///
/// It is the text a reader sees on the page, minus image alt texts (an excerpt should not
/// read "photo of grandma" out of nowhere; media captions are indexed with the media) and
/// minus task-list markers. Raw HTML tags are left out so they do not pollute search, but the
/// text between them is kept.
pub fn markdown_to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    let mut image_depth = 0usize;
    let mut html_block: Option<String> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            _ if image_depth > 0 => {}
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(html) = html_block.take() {
                    // Tags are stripped only once the block is whole, because one tag may span lines.
                    push_spaced(&mut text, &strip_tags(&html));
                }
            }
            Event::Html(html) => match html_block.as_mut() {
                Some(block) => block.push_str(&html),
                None => push_spaced(&mut text, &strip_tags(&html)),
            },
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::InlineHtml(html) if is_br(&html) => text.push(' '),
            Event::InlineHtml(_) => {}
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            Event::Start(tag) if !is_inline(&tag) => text.push(' '),
            Event::End(tag) if !is_inline_end(tag) => text.push(' '),
            _ => {}
        }
    }
    collapse_whitespace(&text)
}

/// Number of words in the plain text (split on Unicode whitespace; a CJK run may count each
/// CJK character as a word).
///
/// Each Han ideograph or kana counts as one word, since those scripts do not separate words
/// with spaces. A whitespace-separated token counts only if it has a letter or digit in it,
/// so a lone "—" or "…" is not a word.
pub fn word_count(markdown: &str) -> usize {
    let text = markdown_to_text(markdown);
    let mut count = 0;
    let mut run_has_alnum = false;
    for c in text.chars() {
        if is_cjk_word_char(c) {
            count += usize::from(run_has_alnum) + 1;
            run_has_alnum = false;
        } else if c.is_whitespace() || is_cjk_punctuation(c) {
            count += usize::from(run_has_alnum);
            run_has_alnum = false;
        } else if c.is_alphanumeric() {
            run_has_alnum = true;
        }
    }
    count + usize::from(run_has_alnum)
}

/// A plain-text excerpt of at most `max_chars` characters, cut at a word boundary with "…"
/// appended when cut.
///
/// The "…" counts towards `max_chars`. Between two CJK characters is a word boundary. When
/// not even the first word fits, the excerpt is just "…", because splitting the word or
/// exceeding the limit would both break the contract callers lay out pages by.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    // Lists show many excerpts of long stories: convert only the leading blocks when
    // they hold enough text, not the whole story.
    let text = match leading_blocks(markdown, max_chars.saturating_mul(4)) {
        Some(head) => match markdown_to_text(head) {
            text if text.chars().count() > max_chars => text,
            _ => markdown_to_text(markdown),
        },
        None => markdown_to_text(markdown),
    };
    cut(text, max_chars)
}

/// The Markdown up to the first blank line at or after `min_bytes`, when cutting there
/// cannot change how the part before reads: a blank line ends every block but a fenced
/// code block (an unclosed fence only runs on to the cut), and a reference link's
/// definition may come later, so a text with one is always converted whole.
fn leading_blocks(markdown: &str, min_bytes: usize) -> Option<&str> {
    if markdown.len() <= min_bytes || markdown.contains("]:") {
        return None;
    }
    let from = (min_bytes..=markdown.len()).find(|&i| markdown.is_char_boundary(i))?;
    markdown[from..].find("\n\n").map(|at| &markdown[..from + at])
}

fn cut(text: String, max_chars: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max_chars {
        return text;
    }
    if max_chars == 0 {
        return String::new();
    }
    let budget = max_chars - 1;
    let cut = (1..=budget).rev().find(|&i| is_word_boundary(chars[i - 1], chars[i])).unwrap_or(0);
    let kept: String = chars[..cut].iter().collect();
    let mut out = kept.trim_end_matches(is_dangling).to_string();
    out.push('…');
    out
}

/// Where the parser's extensions are decided, so HTML and text always agree on the syntax.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Rewrites parser events so the HTML writer can never emit user-supplied HTML or the
/// attributes the sanitizer would strip anyway (keeping the output tidy, not just safe).
fn neutralize(event: Event<'_>) -> Event<'_> {
    match event {
        Event::InlineHtml(html) if is_br(&html) => Event::HardBreak,
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        // The escaped block needs a block container, or its text would float between blocks.
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(CowStr::Borrowed(""))))
        }
        Event::Start(Tag::Table(alignments)) => Event::Start(Tag::Table(vec![Alignment::None; alignments.len()])),
        Event::TaskListMarker(done) => Event::Text(CowStr::Borrowed(if done { "☑ " } else { "☐ " })),
        other => other,
    }
}

fn is_br(html: &str) -> bool {
    let inner = html.trim().trim_start_matches('<').trim_end_matches('>').trim_end_matches('/').trim();
    inner.eq_ignore_ascii_case("br")
}

/// What a story may contain: text structure, links, images and tables. Nothing that runs,
/// embeds, styles or submits.
#[rustfmt::skip]
const STORY_TAGS: [&str; 27] = [
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "blockquote", "ul", "ol", "li",
    "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
];

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let tags = HashSet::from(STORY_TAGS);
    let tag_attributes = HashMap::from([
        ("a", HashSet::from(["href", "title"])),
        ("img", HashSet::from(["src", "alt", "title"])),
        ("ol", HashSet::from(["start"])),
    ]);
    let mut builder = Builder::empty();
    builder
        .tags(tags)
        .tag_attributes(tag_attributes)
        .generic_attributes(HashSet::new())
        .clean_content_tags(HashSet::from(["script", "style", "template", "noscript", "xmp", "noembed", "noframes"]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener nofollow ugc"))
        .strip_comments(true)
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("img", "src") if !is_image_url(value) => None,
            _ => Some(Cow::Borrowed(value)),
        });
    builder
});

/// Images load without a click, so a `mailto:` source (fine for a link) is refused too.
/// Parsing mirrors ammonia's own URL check, which still runs after this one.
fn is_image_url(value: &str) -> bool {
    match Url::parse(value) {
        Ok(url) => matches!(url.scheme(), "http" | "https"),
        Err(e) => e == ammonia::url::ParseError::RelativeUrlWithoutBase,
    }
}

/// Inline tags do not separate words (`**bo**ld` is one word); block tags do.
fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. } | Tag::Superscript | Tag::Subscript
    )
}

fn is_inline_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link
            | TagEnd::Superscript
            | TagEnd::Subscript
    )
}

fn push_spaced(text: &mut String, piece: &str) {
    text.push(' ');
    text.push_str(piece);
    text.push(' ');
}

/// Drops tags, comments and declarations from raw HTML, keeping the text between them.
/// A `<` that cannot start a tag (as in `a < b`) is text, as it is for a browser.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let starts_tag = after.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !starts_tag {
            out.push('<');
            rest = after;
            continue;
        }
        let end =
            if after.starts_with("!--") { after.find("-->").map(|i| i + 3) } else { after.find('>').map(|i| i + 1) };
        // A tag separates words as often as not (`<p>a</p><p>b</p>`), so it leaves a space.
        out.push(' ');
        match end {
            Some(end) => rest = &after[end..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_word_boundary(before: char, after: char) -> bool {
    before.is_whitespace() || after.is_whitespace() || is_cjk(before) || is_cjk(after)
}

/// Characters that would look broken right before the "…" of a cut excerpt.
fn is_dangling(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '(' | '[' | '{' | '、' | '，' | '；' | '：' | '（')
}

fn is_cjk(c: char) -> bool {
    is_cjk_word_char(c) || is_cjk_punctuation(c)
}

/// Han ideographs and kana: scripts written without spaces, where one character is the
/// nearest thing to a word. Hangul is left out because Korean separates words with spaces.
fn is_cjk_word_char(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309F       // Hiragana
        | 0x30A0..=0x30FA     // Katakana (up to, not including, the middle dot)
        | 0x30FC..=0x30FF
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // Halfwidth katakana
        | 0x20000..=0x2FA1F   // CJK extensions B–F and compatibility supplement
        | 0x30000..=0x323AF) // CJK extensions G–H
}

/// CJK punctuation separates words like whitespace does but is not a word itself.
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F       // CJK symbols and punctuation
        | 0x30FB              // Katakana middle dot
        | 0xFE30..=0xFE4F     // CJK compatibility forms
        | 0xFF01..=0xFF0F     // Fullwidth punctuation
        | 0xFF1A..=0xFF20
        | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF65)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escaping layer already stops raw HTML, so the XSS corpus in tests/it/render.rs barely
    /// reaches the sanitizer. This feeds the same payloads straight to it, so the second layer
    /// is proven on its own.
    #[test]
    fn sanitizer_alone_neutralizes_the_xss_corpus() {
        let corpus = include_str!("../../tests/data/xss.txt");
        let payloads = corpus.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        #[rustfmt::skip]
        const ALLOWED: &[&str] = &[
            "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "blockquote", "ul", "ol",
            "li", "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
        ];
        // The scanner must see what it is meant to catch.
        assert_eq!(
            start_tags("<p>a &lt;b&gt;</p><img src=\"x>y\" onerror=\"z\"><br>"),
            [
                ("p".into(), vec![]),
                ("img".into(), vec![("src".into(), "x>y".into()), ("onerror".into(), "z".into())]),
                ("br".into(), vec![])
            ]
        );
        let mut checked = 0;
        for payload in payloads {
            let payload = payload.replace("\\n", "\n").replace("\\t", "\t").replace("\\0", "\0");
            let html = SANITIZER.clean(&payload).to_string();
            for (tag, attrs) in start_tags(&html) {
                assert!(ALLOWED.contains(&tag.as_str()), "<{tag}> survived {payload:?}: {html}");
                for (name, value) in attrs {
                    assert!(
                        ["href", "title", "rel", "src", "alt", "start"].contains(&name.as_str()),
                        "{name} survived {payload:?}: {html}"
                    );
                    let url: String = value
                        .replace("&amp;", "&")
                        .chars()
                        .filter(|c| !c.is_whitespace() && !c.is_control())
                        .collect::<String>()
                        .to_lowercase();
                    let bad = ["javascript:", "data:", "vbscript:"].iter().any(|s| url.starts_with(s));
                    assert!(!bad, "{name}={value:?} survived {payload:?}: {html}");
                }
            }
            checked += 1;
        }
        assert!(checked >= 60);
    }

    /// Start tags of serializer output, quote-aware because `>` is not escaped in attribute
    /// values. Only ever fed ammonia's well-formed output.
    fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut tags = Vec::new();
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            rest = &rest[lt + 1..];
            if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            let name_end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
            let name = rest[..name_end].to_lowercase();
            rest = &rest[name_end..];
            let mut attrs = Vec::new();
            loop {
                rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
                if rest.is_empty() || rest.starts_with('>') {
                    break;
                }
                let attr_end = rest.find(|c: char| c.is_whitespace() || c == '=' || c == '>').unwrap_or(rest.len());
                let attr = rest[..attr_end].to_lowercase();
                rest = &rest[attr_end..];
                let mut value = String::new();
                if let Some(quoted) = rest.strip_prefix("=\"") {
                    let close = quoted.find('"').unwrap_or(quoted.len());
                    value = quoted[..close].to_string();
                    rest = quoted.get(close + 1..).unwrap_or("");
                }
                attrs.push((attr, value));
            }
            tags.push((name, attrs));
        }
        tags
    }

    #[test]
    fn strip_tags_keeps_lone_less_than() {
        assert_eq!(collapse_whitespace(&strip_tags("a < b <i>c</i><!-- x > y -->d")), "a < b c d");
    }

    #[test]
    fn a_long_story_s_excerpt_is_the_same_as_from_its_whole_text() {
        let paragraph = "Grandma kept *bees* by the river, and [her notes](https://example.org) were careful.";
        let mut long = String::from("# The orchard\n\n");
        for n in 0..40 {
            long.push_str(&format!("{paragraph} Year {n}.\n\n"));
            if n == 1 {
                long.push_str("```\nfenced\n\nstill fenced\n```\n\n");
            }
        }
        for max in [10, 80, 240, 1000] {
            assert_eq!(excerpt(&long, max), cut(markdown_to_text(&long), max), "max {max}");
        }
        assert!(leading_blocks(&long, 960).is_some_and(|head| head.len() < long.len()), "only a part is converted");
        let with_reference = format!("{long}[her notes]: https://example.org\n");
        assert!(leading_blocks(&with_reference, 960).is_none());
        assert_eq!(excerpt(&with_reference, 240), cut(markdown_to_text(&with_reference), 240));
    }
}
