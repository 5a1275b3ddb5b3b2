//! What comments and reactions hang from, and their rows.

use crate::error::{Error, Result};
use types::{CommentId, LegacyId, MediaId, ReactionKind, StoryId, SubjectKind, UserId};

/// What comments are on: a story or a media item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thread {
    Story(StoryId),
    Media(MediaId),
}

impl Thread {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Thread::Story(_) => SubjectKind::Story,
            Thread::Media(_) => SubjectKind::Media,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Thread::Story(id) => id.as_str(),
            Thread::Media(id) => id.as_str(),
        }
    }

    pub fn story_id(&self) -> Option<&StoryId> {
        match self {
            Thread::Story(id) => Some(id),
            Thread::Media(_) => None,
        }
    }

    pub fn media_id(&self) -> Option<&MediaId> {
        match self {
            Thread::Media(id) => Some(id),
            Thread::Story(_) => None,
        }
    }
}

/// What reactions are on: a story, a media item, or a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Thread(Thread),
    Comment(CommentId),
}

/// A comment as stored, with its author's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: CommentId,
    pub legacy_id: LegacyId,
    pub story_id: Option<StoryId>,
    pub media_id: Option<MediaId>,
    pub parent_id: Option<CommentId>,
    pub author_id: UserId,
    pub author_name: String,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub version: i64,
}

impl CommentRow {
    /// The story or item it is on (the table's check keeps exactly one of the two).
    pub fn thread(&self) -> Result<Thread> {
        match (&self.story_id, &self.media_id) {
            (Some(story_id), _) => Ok(Thread::Story(story_id.clone())),
            (None, Some(media_id)) => Ok(Thread::Media(media_id.clone())),
            (None, None) => Err(Error::internal("reading a comment", format!("comment {} is on nothing", self.id))),
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// One person's reaction, with their name, on the thing `subject_id` names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReactionRow {
    pub subject_id: String,
    pub user_id: UserId,
    pub display_name: String,
    pub reaction: ReactionKind,
}

/// A comment is a conversation's line, not an essay.
pub const COMMENT_MAX_CHARS: usize = 5_000;
