//! What one event adds to the feed.

use types::{ActivityKind, CommentId, LegacyId, MediaId, PersonId, StoryId, UserId};

/// Like events by the same person in the same place within this long make one row.
pub const GROUP_WINDOW_MS: i64 = 60 * 60 * 1000;

/// What one event contributes: its kind, where, by whom, and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub legacy_id: LegacyId,
    pub actor_id: Option<UserId>,
    pub story_id: Option<StoryId>,
    pub media_id: Option<MediaId>,
    pub comment_id: Option<CommentId>,
    pub person_id: Option<PersonId>,
    /// What, beside kind and actor, makes events alike (a story, an item; "" for the
    /// legacy as a whole); `None`: never grouped.
    pub place: Option<String>,
}

impl NewActivity {
    pub fn new(kind: ActivityKind, legacy_id: LegacyId, actor_id: Option<UserId>) -> NewActivity {
        NewActivity {
            kind,
            legacy_id,
            actor_id,
            story_id: None,
            media_id: None,
            comment_id: None,
            person_id: None,
            place: Some(String::new()),
        }
    }

    /// The key rows of like events share; an ungrouped one's is its event's.
    pub fn group_key(&self, event_id: &str) -> String {
        let actor = self.actor_id.as_deref().unwrap_or_default();
        match &self.place {
            Some(place) => format!("{}:{actor}:{place}", self.kind),
            None => format!("{}:{event_id}", self.kind),
        }
    }
}
