//! The broadcast of events to streams and the check of each for one reader.

use std::sync::Arc;

use tokio::sync::broadcast;
use types::events::{CommentFacts, Envelope, EventType, NotificationAdded, ReactionChanged, StoryUpdated};
use types::{LiveEvent, MediaId, StoryId, SubjectKind, UserId};

use crate::db::Db;
use crate::error::{Context, Result};
use crate::events::{outbox, Consumer, OnEvent};
use crate::identity::{self, Role, User};
use crate::media::Media;
use crate::stories::permissions::{self, Reader};
use crate::stories::service::story_facts;
use crate::stories::Stories;

/// Its name: the key of its progress records (one set per replica).
pub const CONSUMER: &str = "live";

/// How many events a stream may fall behind before it is dropped.
pub const BUFFER: usize = 256;

/// What pages show live: the conversation, a story's text, and the reader's bell.
const EVENTS: &[EventType] = &[
    EventType::CommentAdded,
    EventType::CommentEdited,
    EventType::CommentDeleted,
    EventType::ReactionChanged,
    EventType::StoryUpdated,
    EventType::NotificationAdded,
];

pub struct Live {
    db: Db,
    stories: Arc<Stories>,
    media: Arc<Media>,
    sender: broadcast::Sender<Arc<Envelope>>,
}

/// Where an event happened.
struct Place {
    legacy_id: types::LegacyId,
    story_id: Option<StoryId>,
    media_id: Option<MediaId>,
    comment_id: Option<types::CommentId>,
}

impl Live {
    pub fn new(db: Db, stories: Arc<Stories>, media: Arc<Media>) -> Live {
        Live { db, stories, media, sender: broadcast::channel(BUFFER).0 }
    }

    /// A new stream's receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.sender.subscribe()
    }

    /// How many streams are open in this process.
    pub fn streams(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Hands the event to this process's streams (none listening is fine).
    pub fn publish(&self, event: &Envelope) {
        if EVENTS.contains(&event.event_type) {
            let _ = self.sender.send(Arc::new(event.clone()));
        }
    }

    /// The event as `user` is told it, when they may see it now: a member of its legacy
    /// who may read its story (or item).
    pub async fn visible(&self, user: &User, event: &Envelope) -> Result<Option<LiveEvent>> {
        if event.event_type == EventType::NotificationAdded {
            return self.own_notification(user, event);
        }
        let Some(place) = self.place_of(event).await? else {
            return Ok(None);
        };
        let Some(role) = self.stories.role_in(&place.legacy_id, user).await? else {
            return Ok(None);
        };
        let reader = Reader { user_id: Some(user.id.as_str()), is_admin: user.role() == Role::Admin, role: Some(role) };
        let readable = match (&place.story_id, &place.media_id) {
            (Some(story_id), _) => match self.stories.story_row(story_id).await? {
                Some(story) => permissions::can_read(reader, story_facts(&story)),
                None => false,
            },
            (None, Some(media_id)) => self.media.media(Some(user), media_id).await.is_ok(),
            (None, None) => true,
        };
        if !readable {
            return Ok(None);
        }
        let actor_id = event.actor.clone().map(UserId::from);
        let actor_name = match &actor_id {
            Some(id) => identity::repo::find_by_id(&self.db, id).await?.map(|u| u.display_name).unwrap_or_default(),
            None => String::new(),
        };
        Ok(Some(LiveEvent {
            id: event.message_id.clone(),
            event_type: event.event_type.to_string(),
            legacy_id: place.legacy_id,
            story_id: place.story_id,
            media_id: place.media_id,
            comment_id: place.comment_id,
            actor_id,
            actor_name,
        }))
    }

    /// A notification, told to the member it is for and no one else.
    fn own_notification(&self, user: &User, event: &Envelope) -> Result<Option<LiveEvent>> {
        let added: NotificationAdded = event.payload_as().context("decoding an event for the live stream")?;
        Ok((added.user_id == user.id).then(|| LiveEvent {
            id: event.message_id.clone(),
            event_type: event.event_type.to_string(),
            legacy_id: added.legacy_id,
            story_id: None,
            media_id: None,
            comment_id: None,
            actor_id: None,
            actor_name: String::new(),
        }))
    }

    /// What `user` may see of the events after `after` (a reconnecting stream's
    /// `Last-Event-ID`), oldest first, at most `limit` of them.
    pub async fn missed(&self, user: &User, after: &str, limit: i64) -> Result<Vec<LiveEvent>> {
        let mut seen = Vec::new();
        for event in outbox::after_of_types(&self.db, after, EVENTS, limit).await? {
            if let Some(live) = self.visible(user, &event).await? {
                seen.push(live);
            }
        }
        Ok(seen)
    }

    async fn place_of(&self, event: &Envelope) -> Result<Option<Place>> {
        let decode = "decoding an event for the live stream";
        let place = match &event.event_type {
            EventType::CommentAdded | EventType::CommentEdited | EventType::CommentDeleted => {
                let facts: CommentFacts = event.payload_as().context(decode)?;
                let story_id = match (&facts.story_id, &facts.media_id) {
                    (None, Some(media_id)) => self.story_of_media(media_id).await?,
                    (story_id, _) => story_id.clone(),
                };
                Place {
                    legacy_id: facts.legacy_id,
                    story_id,
                    media_id: facts.media_id,
                    comment_id: Some(facts.comment_id),
                }
            }
            EventType::ReactionChanged => {
                let changed: ReactionChanged = event.payload_as().context(decode)?;
                let mut place =
                    Place { legacy_id: changed.legacy_id, story_id: None, media_id: None, comment_id: None };
                match changed.subject {
                    SubjectKind::Story => place.story_id = Some(changed.subject_id.into()),
                    SubjectKind::Media => place.media_id = Some(changed.subject_id.into()),
                    SubjectKind::Comment => {
                        let comment_id: types::CommentId = changed.subject_id.into();
                        let Some(comment) = crate::conversation::repo::find(&self.db, &comment_id).await? else {
                            return Ok(None);
                        };
                        place.story_id = comment.story_id;
                        place.media_id = comment.media_id;
                        place.comment_id = Some(comment_id);
                    }
                }
                if let (None, Some(media_id)) = (&place.story_id, &place.media_id) {
                    place.story_id = self.story_of_media(media_id).await?;
                }
                place
            }
            EventType::StoryUpdated => {
                let updated: StoryUpdated = event.payload_as().context(decode)?;
                let story = updated.story;
                Place { legacy_id: story.legacy_id, story_id: Some(story.story_id), media_id: None, comment_id: None }
            }
            _ => return Ok(None),
        };
        Ok(Some(place))
    }

    async fn story_of_media(&self, media_id: &MediaId) -> Result<Option<StoryId>> {
        Ok(crate::media::repo::find(&self.db, media_id).await?.and_then(|row| row.story_id))
    }
}

/// The consumer that hands this replica's streams every event (each replica its own).
pub fn consumer(live: Arc<Live>) -> impl Consumer {
    let publish = |live: Arc<Live>, event: Envelope| async move {
        live.publish(&event);
        Ok(())
    };
    OnEvent::whole(CONSUMER, EVENTS, live, publish).in_every_replica()
}
