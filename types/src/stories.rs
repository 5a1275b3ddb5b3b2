//! Legacies and stories as pages, islands and API clients see them, and the inputs
//! to create and change them.

use serde::{Deserialize, Serialize};

use crate::conversation::SubjectKind;
use crate::ids::{CommentId, FlagId, LegacyId, MediaId, StoryId, UserId};

string_enum!(
    /// A member's role in one legacy.
    LegacyRole { Owner => "owner", Editor => "editor", Contributor => "contributor", Viewer => "viewer" }
);

string_enum!(
    /// Who may read a story: its author only, the legacy's members, or anyone.
    Visibility { Private => "private", Members => "members", Public => "public" }
);

string_enum!(
    StoryStatus { Draft => "draft", Published => "published" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegacyView {
    pub id: LegacyId,
    pub name: String,
    pub born: String,
    pub died: String,
    pub summary: String,
    pub cover_url: String,
    pub created_at: i64,
    pub version: i64,
    /// The reader's role, `None` when they are not a member.
    pub my_role: Option<LegacyRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoryView {
    pub id: StoryId,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    /// The stored Markdown.
    pub body: String,
    /// The Markdown rendered to sanitized HTML.
    pub body_html: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub status: StoryStatus,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by_name: String,
    pub published_at: Option<i64>,
    pub word_count: usize,
    /// What the reader may do with it.
    pub can_edit: bool,
    pub can_delete: bool,
}

/// A story in a list: no body, an excerpt instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorySummary {
    pub id: StoryId,
    pub legacy_id: LegacyId,
    pub title: String,
    pub excerpt: String,
    pub author_name: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub status: StoryStatus,
    pub updated_at: i64,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoryPage {
    pub items: Vec<StorySummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisionView {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub author_name: String,
    pub created_at: i64,
    pub restored_from: Option<i64>,
    /// Saved by the editor's autosave: its author's working copy, which their next
    /// autosave rewrites in place (until someone else saves, or they save themselves).
    #[serde(default)]
    pub autosave: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: LegacyRole,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagView {
    pub id: FlagId,
    /// What was reported: a story, a photo or recording, or a comment.
    pub subject: SubjectKind,
    /// The story reported, or the story the reported comment or item is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<CommentId>,
    /// The photo or recording reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<MediaId>,
    /// The story's title (for a comment, the title of the story it is on).
    pub title: String,
    /// The reported comment's text, shortened; empty for a story.
    pub excerpt: String,
    pub legacy_id: LegacyId,
    pub flagged_by_name: String,
    pub reason: String,
    pub created_at: i64,
}

/// Input to create a legacy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegacyInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub born: String,
    #[serde(default)]
    pub died: String,
    #[serde(default)]
    pub summary: String,
}

/// Input to change a legacy's name, dates and summary: the version the editor started
/// from (a newer change by someone else is a conflict) and the new values, all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegacyUpdate {
    #[serde(deserialize_with = "crate::text::integer_or_text")]
    pub version: i64,
    #[serde(flatten)]
    pub details: LegacyInput,
}

/// Input to create a story. `visibility` and `status` are strings so that a wrong
/// value gets a field error naming the choices rather than a parse failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoryInput {
    #[serde(default)]
    pub legacy_id: LegacyId,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// A list, or (from a page's form) one text of comma-separated tags.
    #[serde(default, deserialize_with = "crate::text::list_or_commas")]
    pub tags: Vec<String>,
    /// `private`, `members` (default) or `public`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// `draft` (default) or `published`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Input to change a story: the version the editor started from, and the new content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoryUpdate {
    pub version: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// A list, or (from a page's form) one text of comma-separated tags.
    #[serde(default, deserialize_with = "crate::text::list_or_commas")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Sent by the editor's autosave rather than by the person saving. Autosaves by the
    /// same author keep rewriting one working revision instead of adding one per pause;
    /// the next ordinary save (Publish, Save draft) completes it.
    #[serde(default)]
    pub autosave: bool,
}

/// One line of a diff between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// `same`, `added` or `removed`.
    pub kind: String,
    pub text: String,
}

/// The legacy page: the legacy, the stories the reader may see, what the reader may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyPage {
    pub legacy: LegacyView,
    pub stories: StoryPage,
    pub can_write: bool,
    pub can_manage: bool,
    /// Whether the reader follows the legacy's new stories; `None` for a non-member.
    pub following: Option<bool>,
}

/// The history page: all revisions, and a diff when two were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub story: StoryView,
    pub revisions: Vec<RevisionView>,
    pub diff: Option<(i64, i64, Vec<DiffLine>)>,
}

/// Tags as typed into one form field: separated by commas. Validation happens in the
/// backend; this only splits.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}
