//! A notification as stored and as one event yields it.

use types::{CommentId, InvitationId, LegacyId, MediaId, NotificationId, NotificationKind, StoryId, UserId};

/// One stored notification with the names its reader sees.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    pub actor_name: String,
    pub story_id: Option<StoryId>,
    pub story_title: String,
    pub media_id: Option<MediaId>,
    pub comment_id: Option<CommentId>,
    pub invitation_id: Option<InvitationId>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Where an event happened: what a notification of it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub legacy_id: LegacyId,
    pub story_id: Option<StoryId>,
    pub media_id: Option<MediaId>,
    pub comment_id: Option<CommentId>,
    /// An invitation to the legacy (its recipient is not a member yet).
    pub invitation_id: Option<InvitationId>,
}

impl Place {
    /// The legacy itself, nothing in it yet.
    pub fn legacy(legacy_id: LegacyId) -> Place {
        Place { legacy_id, story_id: None, media_id: None, comment_id: None, invitation_id: None }
    }

    /// The page that shows it, at the comment when there is one.
    pub fn link(&self) -> String {
        if let Some(invitation_id) = &self.invitation_id {
            return types::routes::INVITATION.to(&[invitation_id]);
        }
        let page = match (&self.story_id, &self.media_id) {
            (_, Some(media_id)) => types::routes::MEDIA_PAGE.to(&[&self.legacy_id, media_id]),
            (Some(story_id), None) => types::routes::STORY.to(&[story_id]),
            (None, None) => types::routes::LEGACY.to(&[&self.legacy_id]),
        };
        match &self.comment_id {
            Some(comment_id) => format!("{page}#comment-{comment_id}"),
            None => page,
        }
    }
}

/// Who is told of one event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: UserId,
    pub kind: NotificationKind,
}

impl NotificationRow {
    pub fn place(&self) -> Place {
        Place {
            legacy_id: self.legacy_id.clone(),
            story_id: self.story_id.clone(),
            media_id: self.media_id.clone(),
            comment_id: self.comment_id.clone(),
            invitation_id: self.invitation_id.clone(),
        }
    }

    /// "Ann commented on The bees", in words.
    pub fn text(&self) -> String {
        let who = if self.actor_name.is_empty() { "Someone" } else { self.actor_name.as_str() };
        let what = match (&self.story_id, &self.media_id) {
            (_, Some(_)) if self.story_title.is_empty() => "a photo".to_string(),
            (_, Some(_)) => format!("a photo in {}", self.story_title),
            (Some(_), None) => self.story_title.clone(),
            (None, None) => self.legacy_name.clone(),
        };
        match self.kind {
            NotificationKind::Comment => format!("{who} commented on {what}"),
            NotificationKind::Reply => format!("{who} replied to your comment on {what}"),
            NotificationKind::Mention if self.comment_id.is_some() => format!("{who} mentioned you on {what}"),
            NotificationKind::Mention => format!("{who} mentioned you in {what}"),
            NotificationKind::Reaction if self.comment_id.is_some() => {
                format!("{who} reacted to your comment on {what}")
            }
            NotificationKind::Reaction => format!("{who} reacted to {what}"),
            NotificationKind::NewStory => format!("{who} published {what} in {}", self.legacy_name),
            NotificationKind::Invitation => format!("{who} invited you to join {}", self.legacy_name),
        }
    }

    pub fn view(&self) -> types::NotificationView {
        types::NotificationView {
            id: self.id.clone(),
            kind: self.kind,
            legacy_id: self.legacy_id.clone(),
            legacy_name: self.legacy_name.clone(),
            actor_name: self.actor_name.clone(),
            text: self.text(),
            link: self.place().link(),
            created_at: self.created_at,
            read: self.read_at.is_some(),
        }
    }
}
