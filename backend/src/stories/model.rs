//! Rows of the stories tables and the validation of what people type.

use types::{
    CommentId, FlagId, LegacyId, LegacyRole, MediaId, PersonId, StoryId, StoryStatus, SubjectKind, UserId, Visibility,
};

use crate::validate::{has_control, Problems};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LegacyRow {
    pub id: LegacyId,
    pub name: String,
    pub born: String,
    pub died: String,
    pub summary: String,
    pub cover_url: String,
    pub created_by: UserId,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A legacy's name, dates and summary, checked and trimmed.
pub struct LegacyText {
    pub name: String,
    pub born: String,
    pub died: String,
    pub summary: String,
}

/// A story with the names the pages show beside it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoryRow {
    pub id: StoryId,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub body: String,
    pub visibility: Visibility,
    pub status: StoryStatus,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: UserId,
    pub updated_by_name: String,
    pub published_at: Option<i64>,
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
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: LegacyRole,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FlagRow {
    pub id: FlagId,
    pub subject: SubjectKind,
    pub story_id: Option<StoryId>,
    pub comment_id: Option<CommentId>,
    pub media_id: Option<MediaId>,
    /// The story's title, empty when the report is not about a story or comment on one.
    pub title: String,
    /// The reported comment's Markdown, empty for a story.
    pub comment_body: String,
    pub legacy_id: LegacyId,
    pub flagged_by_name: String,
    pub reason: String,
    pub created_at: i64,
}

/// An open report: where it is, and what it is about.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenFlag {
    pub legacy_id: LegacyId,
    pub subject: SubjectKind,
    pub story_id: Option<StoryId>,
    pub comment_id: Option<CommentId>,
    pub media_id: Option<MediaId>,
}

pub const TITLE_MAX_CHARS: usize = 200;
/// Stories are text; a megabyte is several novels. Media goes through uploads.
pub const BODY_MAX_BYTES: usize = 1024 * 1024;
pub const TAG_MAX_CHARS: usize = 40;
pub const TAGS_MAX: usize = 20;

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

/// The people a story's Markdown links to (`[Rose](/people/<id>)`, as the editor writes an
/// `@` mention), each once, in the order first linked.
pub fn mentioned_people(body: &str) -> Vec<PersonId> {
    const TARGET: &str = "](/people/";
    let mut found: Vec<PersonId> = Vec::new();
    for (at, _) in body.match_indices(TARGET) {
        let rest = &body[at + TARGET.len()..];
        let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        // Only a link to the person page itself: `/people/<id>)` or with a title.
        let ends_link = matches!(rest[id.len()..].chars().next(), Some(')' | ' '));
        if !id.is_empty() && id.len() <= 64 && ends_link && !found.iter().any(|p| p.as_str() == id) {
            found.push(PersonId::new(id));
        }
    }
    found
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{line, multiline};

    #[test]
    fn links_to_person_pages_are_mentions() {
        let body = "[Rose](/people/abc-1) met [Tom](/people/def \"Tom\") and [Rose again](/people/abc-1); \
                    not [the tree](/people/abc-1/tree), [elsewhere](https://x.org/people/zzz) or /people/qqq.";
        let ids: Vec<String> = mentioned_people(body).iter().map(|p| p.to_string()).collect();
        assert_eq!(ids, vec!["abc-1", "def"]);
    }

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
