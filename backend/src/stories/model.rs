//! Rows of the stories tables and the validation of what people type.

use types::{FieldError, StoryStatus, Visibility};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LegacyRow {
    pub id: String,
    pub name: String,
    pub born: String,
    pub died: String,
    pub summary: String,
    pub cover_url: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A story with the names the pages show beside it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoryRow {
    pub id: String,
    pub legacy_id: String,
    pub legacy_name: String,
    pub author_id: String,
    pub author_name: String,
    pub title: String,
    pub body: String,
    pub visibility: String,
    pub status: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
    pub updated_by_name: String,
    pub published_at: Option<i64>,
}

impl StoryRow {
    pub fn visibility(&self) -> Visibility {
        Visibility::parse(&self.visibility).unwrap_or(Visibility::Private)
    }

    pub fn status(&self) -> StoryStatus {
        StoryStatus::parse(&self.status).unwrap_or(StoryStatus::Draft)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RevisionRow {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub author_name: String,
    pub created_at: i64,
    pub restored_from: Option<i64>,
    pub autosave: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FlagRow {
    pub id: String,
    pub story_id: String,
    pub story_title: String,
    pub legacy_id: String,
    pub flagged_by_name: String,
    pub reason: String,
    pub created_at: i64,
}

pub const TITLE_MAX_CHARS: usize = 200;
/// Stories are text; a megabyte is several novels. Media goes through uploads.
pub const BODY_MAX_BYTES: usize = 1024 * 1024;
pub const TAG_MAX_CHARS: usize = 40;
pub const TAGS_MAX: usize = 20;

/// Accumulates field problems so one response can name all of them.
#[derive(Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn into_result(self) -> crate::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(self.0))
        }
    }
}

/// The `(time, id)` position a keyset cursor (`"<time>:<id>"`, from [`keyset_page`])
/// names; a cursor that is not one is a problem on field `cursor`.
pub fn parse_cursor(problems: &mut Problems, cursor: Option<&str>) -> Option<(i64, String)> {
    let cursor = cursor.filter(|c| !c.is_empty())?;
    let parsed = cursor.split_once(':').and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_string())));
    if parsed.is_none() {
        problems.add("cursor", "is not a cursor from a previous page");
    }
    parsed
}

/// Trims `rows` (fetched with `limit + 1`) to `limit` and returns the cursor of the next
/// page, if there is one; `key` gives a row's `(time, id)`.
pub fn keyset_page<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> (i64, &str)) -> Option<String> {
    if rows.len() as i64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|row| {
        let (time, id) = key(row);
        format!("{time}:{id}")
    })
}

fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

/// A single-line text field: normalized ([`crate::text::normalize`]), trimmed, required
/// or not, bounded, no control characters.
pub fn line(problems: &mut Problems, field: &str, value: &str, required: bool, max_chars: usize) -> String {
    let value = crate::text::normalize(value);
    let value = value.trim();
    if required && value.is_empty() {
        problems.add(field, "is required");
    } else if value.chars().count() > max_chars {
        problems.add(field, format!("must be at most {max_chars} characters"));
    } else if value.chars().any(char::is_control) {
        problems.add(field, "must not contain control characters");
    }
    value.to_string()
}

/// A text of several lines (a summary, a caption): normalized, trimmed, bounded, no
/// control characters but line breaks and tabs.
pub fn multiline(problems: &mut Problems, field: &str, value: &str, max_chars: usize) -> String {
    let value = crate::text::normalize(value);
    let value = value.trim();
    if value.chars().count() > max_chars {
        problems.add(field, format!("must be at most {max_chars} characters"));
    } else if has_control(value) {
        problems.add(field, "must not contain control characters");
    }
    value.to_string()
}

/// A story's Markdown, normalized (not trimmed: leading indentation can be Markdown).
pub fn body(problems: &mut Problems, value: &str) -> String {
    let value = crate::text::normalize(value);
    if value.len() > BODY_MAX_BYTES {
        problems.add("body", format!("must be at most {} KB (it is {} KB)", BODY_MAX_BYTES / 1024, value.len() / 1024));
    } else if has_control(&value) {
        problems.add("body", "must not contain control characters");
    }
    value.into_owned()
}

/// Tags are trimmed, lower-cased and de-duplicated.
pub fn tags(problems: &mut Problems, values: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for raw in values {
        let tag = crate::text::normalize(raw).trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().any(char::is_control) {
            problems
                .add("tags", format!("tag {:?} must not contain control characters", raw.escape_debug().to_string()));
        } else if tag.chars().count() > TAG_MAX_CHARS {
            problems.add("tags", format!("each tag must be at most {TAG_MAX_CHARS} characters"));
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        problems.add("tags", format!("at most {TAGS_MAX} tags"));
    }
    tags
}

pub fn choice<T: Copy>(
    problems: &mut Problems,
    field: &str,
    value: Option<&str>,
    default: T,
    parse: fn(&str) -> Option<T>,
    choices: &str,
) -> T {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => parse(v).unwrap_or_else(|| {
            problems.add(field, format!("must be one of {choices} (got {v:?})"));
            default
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_checked() {
        let mut problems = Problems::default();
        let tags = tags(&mut problems, &[" Family ".into(), "family".into(), "".into(), "war\u{7}time".into()]);
        assert_eq!(tags, ["family"]);
        assert_eq!(problems.0.len(), 1);
        assert_eq!(problems.0[0].field, "tags");
    }

    #[test]
    fn every_kind_of_field_is_normalized() {
        let mut problems = Problems::default();
        assert_eq!(body(&mut problems, "a\r\nCafe\u{301}\r\n"), "a\nCaf\u{e9}\n");
        assert_eq!(line(&mut problems, "title", " Cafe\u{301} ", true, 10), "Caf\u{e9}");
        assert_eq!(multiline(&mut problems, "summary", "one\r\ntwo\r", 10), "one\ntwo");
        assert_eq!(tags(&mut problems, &["Cafe\u{301}".into(), "caf\u{e9}".into()]), ["caf\u{e9}"]);
        assert!(problems.0.is_empty(), "{:?}", problems.0);
        multiline(&mut problems, "caption", "a\u{7}b", 10);
        assert_eq!(problems.0[0].field, "caption");
    }

    #[test]
    fn a_huge_body_is_refused_with_its_size() {
        let mut problems = Problems::default();
        body(&mut problems, &"x".repeat(5 * 1024 * 1024));
        assert!(problems.0[0].message.contains("at most 1024 KB"), "{:?}", problems.0);
    }
}
