//! The activity feed as pages and API clients see it: what happened in the legacies a
//! reader belongs to, grouped ("Ann added 12 photos"), newest first, a page at a time.

use serde::{Deserialize, Serialize};

use crate::ids::{CommentId, LegacyId, MediaId, PersonId, StoryId};

string_enum!(
    /// What an activity is.
    ActivityKind {
        StoryPublished => "story_published",
        StoryEdited => "story_edited",
        MediaAdded => "media_added",
        Commented => "commented",
        Reacted => "reacted",
        PersonAdded => "person_added",
        MemberJoined => "member_joined",
    }
);

/// One line of the feed: who did what where, `count` times within the hour it groups.
// The feed's query reads it straight from its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ActivityItem {
    pub id: String,
    pub kind: ActivityKind,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    /// Who did it ("" when the account is gone).
    pub actor_name: String,
    pub count: i64,
    /// The story it happened in or to, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    pub story_title: String,
    /// The (latest) media item, comment or person it names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<MediaId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<CommentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// When it (last) happened.
    pub updated_at: i64,
}

/// A page of the feed; `next_cursor` fetches the older items after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedPage {
    pub items: Vec<ActivityItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
