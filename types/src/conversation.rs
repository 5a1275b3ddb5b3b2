//! The conversation around stories and media items as pages and API clients see it:
//! comments (one level of replies) and reactions, and the inputs that write them.

use serde::{Deserialize, Serialize};

use crate::ids::{CommentId, MediaId, StoryId, UserId};

string_enum!(
    /// What a comment, a reaction or a report is about.
    SubjectKind { Story => "story", Media => "media", Comment => "comment" }
);

string_enum!(
    /// The reactions on offer: a small fixed set, each toggled by a member.
    ReactionKind { Heart => "heart", Smile => "smile", Tears => "tears", Hug => "hug", Candle => "candle" }
);

impl ReactionKind {
    /// What a button shows.
    pub fn emoji(self) -> &'static str {
        match self {
            ReactionKind::Heart => "❤️",
            ReactionKind::Smile => "😊",
            ReactionKind::Tears => "😢",
            ReactionKind::Hug => "🤗",
            ReactionKind::Candle => "🕯️",
        }
    }

    /// What a screen reader says for it.
    pub fn label(self) -> &'static str {
        match self {
            ReactionKind::Heart => "Love",
            ReactionKind::Smile => "Smile",
            ReactionKind::Tears => "Tears",
            ReactionKind::Hug => "Hug",
            ReactionKind::Candle => "Remember",
        }
    }
}

/// One reaction's tally on a story, item or comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionCount {
    pub reaction: ReactionKind,
    pub count: i64,
    /// The reader is one of them.
    pub mine: bool,
    /// Who reacted, oldest first.
    pub names: Vec<String>,
}

/// A comment as readers see it: sanitized HTML, its replies (top-level comments only),
/// and what the reader may do with it. A deleted comment with replies stays as a
/// placeholder (no author, no text) so its replies keep their place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentView {
    pub id: CommentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<CommentId>,
    pub author_id: UserId,
    pub author_name: String,
    /// The Markdown as written (what an edit starts from); empty once deleted.
    pub body: String,
    pub body_html: String,
    pub created_at: i64,
    /// When it was last edited, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub version: i64,
    pub can_edit: bool,
    pub can_delete: bool,
    pub reactions: Vec<ReactionCount>,
    // A reply has no replies: the schema names itself rather than recursing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub replies: Vec<CommentView>,
}

/// The conversation on one story or media item: its reactions and its comments, oldest
/// first, each top-level comment with its replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationView {
    pub subject: SubjectKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<MediaId>,
    pub reactions: Vec<ReactionCount>,
    pub comments: Vec<CommentView>,
    /// Comments not deleted, replies included.
    pub count: i64,
    /// The reader may comment and react (a member of the legacy who can read it).
    pub can_take_part: bool,
}

/// A new comment, or a reply to one (`parent_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentInput {
    #[serde(default)]
    pub body: String,
    /// The comment this answers; a reply to a reply answers its top-level comment.
    #[serde(default)]
    pub parent_id: Option<CommentId>,
}

/// A changed comment; `version` (from the comment) refuses to overwrite another edit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentUpdate {
    #[serde(default)]
    pub body: String,
    pub version: i64,
}

/// A reaction to set: `on` true adds it, false takes it away, absent toggles it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionInput {
    #[serde(default)]
    pub reaction: String,
    #[serde(default)]
    pub on: Option<bool>,
}
