//! The line grammar (`level [@xref@] TAG [value]`) and the record tree built from it, with
//! `CONT`/`CONC` continuation lines joined into the value they continue and the `@@` escapes
//! undone. Every structural error is collected with its line number; nothing here knows what
//! a tag means beyond HEAD, TRLR, CONT and CONC.

use super::{error, skipped, ParseError, Skipped, MAX_ERRORS};

/// One structure: a line and the lines nested under it.
#[derive(Debug)]
pub(super) struct Node {
    pub line: usize,
    /// The cross-reference id without its `@`s, on records.
    pub xref: Option<String>,
    /// Upper-cased: a few old programs write tags in lower case.
    pub tag: String,
    /// The text, continuation lines joined, escapes undone; empty for a pointer.
    pub value: String,
    /// The xref a pointer value points to, without its `@`s ("VOID" is GEDCOM 7's null).
    pub pointer: Option<String>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, tag: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.tag == tag)
    }

    /// The trimmed value of the first child with this tag, or "".
    pub fn child_value(&self, tag: &str) -> &str {
        self.child(tag).map_or("", |c| c.value.trim())
    }

    pub fn tagged<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.tag == tag)
    }
}

pub(super) struct Tree {
    /// The level-0 records, HEAD first and TRLR last.
    pub records: Vec<Node>,
    pub warnings: Vec<Skipped>,
}

/// One line, split but not interpreted.
struct Line<'a> {
    no: usize,
    level: usize,
    xref: Option<&'a str>,
    tag: &'a str,
    value: Option<&'a str>,
}

/// Splits on CRLF, CR or LF: GEDCOM allows all three, and old Mac programs wrote CR alone.
fn physical_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(at) => {
                let after = if current[at..].starts_with("\r\n") { at + 2 } else { at + 1 };
                rest = Some(&current[after..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
    .enumerate()
    .map(|(index, line)| (index + 1, line))
}

fn is_blank(line: &str) -> bool {
    // ^Z is the DOS end-of-file mark some programs still append.
    line.chars().all(|c| c.is_whitespace() || c == '\u{1a}')
}

/// Splits one non-blank line. GEDCOM 5.5 allows whitespace before the level and several
/// spaces between fields, and programs write trailing spaces; all are tolerated.
fn split(no: usize, raw: &str) -> Result<Line<'_>, String> {
    let rest = raw.trim_start();
    let (level_text, rest) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    if level_text.is_empty() || !level_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a level number, found \"{}\"", shorten(level_text)));
    }
    let level: usize = level_text.parse().map_err(|_| format!("level {} is too deep", shorten(level_text)))?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let mut xref = None;
    let mut rest = rest;
    if rest.starts_with('@') {
        let (token, after) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        let inner = token.strip_prefix('@').and_then(|t| t.strip_suffix('@')).unwrap_or("");
        if inner.is_empty() || inner.contains('@') {
            return Err(format!("malformed cross-reference id \"{}\"", shorten(token)));
        }
        xref = Some(inner);
        rest = after.trim_start_matches([' ', '\t']);
    }
    let (tag, value) = match rest.split_once([' ', '\t']) {
        Some((tag, value)) => (tag, Some(value)),
        None => (rest.trim_end(), None),
    };
    if tag.is_empty() {
        return Err(match xref {
            Some(xref) => format!("missing tag after @{}@", shorten(xref)),
            None => format!("missing tag after level {level}"),
        });
    }
    let starts_well = tag.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("invalid tag \"{}\"", shorten(tag)));
    }
    // A value of only spaces ("1 DIV ") is no value.
    let value = value.filter(|v| !v.trim().is_empty());
    Ok(Line { no, level, xref, tag, value })
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// `@X@` as a whole value is a pointer; `@#DJULIAN@ 1700` (a calendar escape) and `@@` are not.
fn pointer(value: &str) -> Option<&str> {
    let inner = value.trim().strip_prefix('@')?.strip_suffix('@')?;
    let valid = !inner.is_empty() && !inner.starts_with('#') && !inner.contains(['@', ' ']);
    valid.then_some(inner)
}

/// Undoes the `@@` escape: GEDCOM 7 escapes only a leading `@`, 5.5.x doubles every `@` in text.
fn unescape(value: &str, v7: bool) -> String {
    if v7 {
        match value.strip_prefix("@@") {
            Some(rest) => format!("@{rest}"),
            None => value.to_string(),
        }
    } else {
        value.replace("@@", "@")
    }
}

/// Whether the header declares GEDCOM 7 (`0 HEAD` / `1 GEDC` / `2 VERS 7.x`), which decides
/// how `@` is escaped in every value after it.
fn declares_v7(lines: &[Line<'_>]) -> bool {
    let mut in_gedc = false;
    for line in lines.iter().skip(1).take_while(|l| l.level > 0) {
        match line.level {
            1 => in_gedc = line.tag.eq_ignore_ascii_case("GEDC"),
            2 if in_gedc && line.tag.eq_ignore_ascii_case("VERS") => {
                return line.value.is_some_and(|v| v.trim().starts_with('7'));
            }
            _ => {}
        }
    }
    false
}

/// Keeps one error more than are shown, so that `parse` knows to say more follow.
fn push_error(errors: &mut Vec<ParseError>, line: usize, message: impl Into<String>) {
    if errors.len() <= MAX_ERRORS {
        errors.push(error(line, message));
    }
}

/// Attaches `node` to its parent: the top of `stack`, or the records when the stack is empty.
fn attach(stack: &mut [Node], records: &mut Vec<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => records.push(node),
    }
}

/// The tree and the errors found building it. With errors the tree is incomplete (lines that
/// could not be placed are missing) and only good for finding more errors.
pub(super) fn read(text: &str) -> (Tree, Vec<ParseError>) {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut last_line_no = 1;
    for (no, raw) in physical_lines(text) {
        if is_blank(raw) {
            continue;
        }
        last_line_no = no;
        match split(no, raw) {
            Ok(line) => lines.push(line),
            Err(message) => push_error(&mut errors, no, message),
        }
    }
    let Some(first) = lines.first() else {
        if errors.is_empty() {
            push_error(&mut errors, 1, "the file is empty; a GEDCOM file starts with 0 HEAD");
        }
        return (Tree { records: Vec::new(), warnings: Vec::new() }, errors);
    };
    if first.level != 0 {
        push_error(&mut errors, first.no, "the first line must have level 0 (0 HEAD)");
    } else if !first.tag.eq_ignore_ascii_case("HEAD") {
        push_error(&mut errors, first.no, format!("the file does not start with 0 HEAD (found {})", first.tag));
    }
    let v7 = declares_v7(&lines);

    let mut records: Vec<Node> = Vec::new();
    let mut warnings = Vec::new();
    // The open structures, one per level: stack[n] is the node at level n.
    let mut stack: Vec<Node> = Vec::new();
    let mut previous_level = 0;
    let mut after_trailer = None;
    for line in &lines {
        if after_trailer.is_some() {
            continue;
        }
        if line.level > previous_level + 1 {
            push_error(
                &mut errors,
                line.no,
                format!("level {} follows level {previous_level} (levels rise one at a time)", line.level),
            );
        }
        previous_level = line.level;
        let tag = line.tag.to_ascii_uppercase();
        let is_continuation = tag == "CONT" || tag == "CONC";
        if is_continuation && line.level == 0 {
            push_error(&mut errors, line.no, format!("{tag} at level 0 continues nothing"));
            continue;
        }
        // Close the structures at this level or deeper; with a level jump (already an error)
        // the stack is shallower and nothing closes.
        while stack.len() > line.level {
            if let Some(node) = stack.pop() {
                attach(&mut stack, &mut records, node);
            }
        }
        if is_continuation {
            if let Some(parent) = stack.last_mut() {
                if parent.pointer.is_none() {
                    if tag == "CONT" {
                        parent.value.push('\n');
                    }
                    parent.value.push_str(&unescape(line.value.unwrap_or(""), v7));
                }
            }
            continue;
        }
        let raw = line.value.unwrap_or("");
        let pointer = pointer(raw).map(str::to_string);
        let value = if pointer.is_some() { String::new() } else { unescape(raw, v7) };
        let node =
            Node { line: line.no, xref: line.xref.map(str::to_string), tag, value, pointer, children: Vec::new() };
        if line.level == 0 && node.tag == "TRLR" {
            after_trailer = Some(line.no);
        }
        if stack.len() == line.level {
            stack.push(node);
        }
    }
    while let Some(node) = stack.pop() {
        attach(&mut stack, &mut records, node);
    }
    match after_trailer {
        None => push_error(&mut errors, last_line_no, "the file does not end with 0 TRLR (cut short?)"),
        Some(trailer) => {
            if let Some(extra) = lines.iter().find(|l| l.no > trailer) {
                warnings.push(skipped(extra.no, "lines after 0 TRLR ignored"));
            }
        }
    }
    (Tree { records, warnings }, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Tree {
        let (tree, errors) = read(text);
        assert_eq!(errors, [], "{text}");
        tree
    }

    #[test]
    fn splits_lines_and_nests_structures() {
        let t = tree("0 HEAD\n0 @I1@ INDI\n1 NAME Ann /Lee/\n2 GIVN Ann\n1 FAMS @F1@\n0 TRLR");
        assert_eq!(t.records.len(), 3);
        let indi = &t.records[1];
        assert_eq!((indi.line, indi.xref.as_deref(), indi.tag.as_str()), (2, Some("I1"), "INDI"));
        assert_eq!(indi.child_value("NAME"), "Ann /Lee/");
        assert_eq!(indi.child("NAME").map(|n| n.child_value("GIVN")), Some("Ann"));
        let fams = indi.child("FAMS").map(|n| (n.pointer.as_deref(), n.value.as_str()));
        assert_eq!(fams, Some((Some("F1"), "")));
    }

    #[test]
    fn joins_continuations_and_undoes_escapes_per_version() {
        let v5 = tree("0 HEAD\n1 GEDC\n2 VERS 5.5.1\n0 @N1@ NOTE a@@b\n1 CONC c @@\n1 CONT\n1 CONT @@d\n0 TRLR\n");
        assert_eq!(v5.records[1].value, "a@bc @\n\n@d");
        let v7 = tree("0 HEAD\n1 GEDC\n2 VERS 7.0\n0 @N1@ SNOTE a@@b\n1 CONT @@@@x\n0 TRLR\n");
        assert_eq!(v7.records[1].value, "a@@b\n@@@x");
    }

    #[test]
    fn pointers_and_calendar_escapes() {
        assert_eq!(pointer("@I1@"), Some("I1"));
        assert_eq!(pointer("@VOID@ "), Some("VOID"));
        assert_eq!(pointer("@#DJULIAN@ 1700"), None);
        assert_eq!(pointer("@@"), None);
        assert_eq!(pointer("@a b@"), None);
        assert_eq!(pointer("me@example.com"), None);
    }

    #[test]
    fn lines_after_the_trailer_are_a_warning() {
        let t = tree("0 HEAD\n0 TRLR\n0 @I1@ INDI\n");
        assert_eq!(t.records.len(), 2);
        assert_eq!(t.warnings.len(), 1);
        assert_eq!(t.warnings[0].line, 3);
    }

    #[test]
    fn cr_only_and_mixed_line_ends_count_lines() {
        let lines: Vec<(usize, &str)> = physical_lines("a\r\nb\rc\n\nd").collect();
        assert_eq!(lines, [(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]);
    }

    #[test]
    fn split_errors_name_the_problem() {
        assert_eq!(split(1, "1 @@ INDI").err().as_deref(), Some("malformed cross-reference id \"@@\""));
        assert_eq!(split(1, "x").err().as_deref(), Some("expected a level number, found \"x\""));
        assert_eq!(split(1, "1 ").err().as_deref(), Some("missing tag after level 1"));
        let long = format!("1 {}", "Y".repeat(100));
        assert!(split(1, &long).is_ok());
        let bad = format!("1 {}-", "Y".repeat(100));
        assert!(split(1, &bad).err().is_some_and(|e| e.ends_with("…\"")));
    }
}
