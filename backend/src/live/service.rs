//! The broadcast of events to streams and the check of each for one reader. Each event
//! is prepared once for every stream of this replica ([`Prepared`]: the rows that decide
//! who may read it, and the message itself, its JSON written once); a stream then needs
//! only its reader's role in the legacy, which it keeps until a membership event of that
//! legacy passes by. So an event costs a few queries and one encoding, not a few per
//! open stream.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::broadcast;
use types::events::{
    CommentFacts, Envelope, EventType, MediaUploaded, MemberAdded, MemberRemoved, MemberRoleChanged, NotificationAdded,
    PersonCreated, ReactionChanged, StoryCreated, StoryUpdated,
};
use types::{CommentId, LegacyId, LegacyRole, LiveEvent, MediaId, StoryId, StoryStatus, SubjectKind, UserId};

use crate::db::Db;
use crate::error::{Context, Result};
use crate::events::{outbox, Consumer, OnEvent};
use crate::identity::{self, Role, User};
use crate::media::model::MediaRow;
use crate::stories::model::StoryRow;
use crate::stories::permissions::{self, Reader};
use crate::stories::service::story_facts;
use crate::stories::Stories;

/// Its name: the key of its progress records (one set per replica).
pub const CONSUMER: &str = "live";

/// How many events a stream may fall behind before it is dropped.
pub const BUFFER: usize = 256;

/// What pages show live (the conversation, a story's text, the reader's bell, what is
/// new in the feed), and the membership changes that make a stream look its reader's role up again.
const EVENTS: &[EventType] = &[
    EventType::StoryCreated,
    EventType::MediaUploaded,
    EventType::PersonCreated,
    EventType::CommentAdded,
    EventType::CommentEdited,
    EventType::CommentDeleted,
    EventType::ReactionChanged,
    EventType::StoryUpdated,
    EventType::NotificationAdded,
    EventType::MemberAdded,
    EventType::MemberRoleChanged,
    EventType::MemberRemoved,
];

pub struct Live {
    db: Db,
    stories: Arc<Stories>,
    sender: broadcast::Sender<Arc<Prepared>>,
}

/// One event as every stream of this replica checks it.
#[derive(Debug)]
pub struct Prepared {
    /// The outbox message id: the stream's SSE id.
    pub id: String,
    audience: Audience,
}

/// What a stream sends: the change, and its server-sent-events frame (`id:` its event
/// id, `data:` its JSON), written once for every stream that may see it; a stream only
/// copies the frame's bytes into its next write.
#[derive(Debug)]
pub struct Message {
    pub change: LiveEvent,
    pub frame: Bytes,
}

impl Message {
    fn of(change: LiveEvent) -> Result<Arc<Message>> {
        // Compact JSON has no line breaks, and event ids are outbox message ids (no line
        // breaks either), so each is one SSE field line.
        let json = serde_json::to_string(&change).context("encoding a live event")?;
        let frame = Bytes::from(format!("id: {}\ndata: {json}\n\n", change.id));
        Ok(Arc::new(Message { change, frame }))
    }
}

#[derive(Debug)]
enum Audience {
    /// Readers of a story or item: members of its legacy its read rule lets in.
    Readers { legacy_id: LegacyId, story: Option<Box<StoryRow>>, media: Option<Box<MediaRow>>, message: Arc<Message> },
    /// One member (their notification).
    Member { user_id: UserId, message: Arc<Message> },
    /// Not sent: someone's membership of the legacy changed, so streams look roles up again.
    Membership { legacy_id: LegacyId },
    /// Not sent: what it names is gone.
    Nobody,
}

/// Where an event happened.
#[derive(Debug)]
struct Place {
    event_type: EventType,
    /// It adds to the activity feed (as `activity` projects it).
    in_feed: bool,
    actor_id: Option<UserId>,
    legacy_id: LegacyId,
    story_id: Option<StoryId>,
    media_id: Option<MediaId>,
    comment_id: Option<CommentId>,
}

/// One stream's reader: who, and their role in each legacy seen so far.
pub struct Watcher {
    user: User,
    roles: HashMap<LegacyId, Option<LegacyRole>>,
}

impl Watcher {
    pub fn new(user: User) -> Watcher {
        Watcher { user, roles: HashMap::new() }
    }
}

impl Live {
    pub fn new(db: Db, stories: Arc<Stories>) -> Live {
        Live { db, stories, sender: broadcast::channel(BUFFER).0 }
    }

    /// A new stream's receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Prepared>> {
        self.sender.subscribe()
    }

    /// How many streams are open in this process.
    pub fn streams(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Prepares the event once and hands it to this process's streams (none listening is fine).
    pub async fn publish(&self, event: &Envelope) -> Result<()> {
        if EVENTS.contains(&event.event_type) && self.sender.receiver_count() > 0 {
            let prepared = self.prepare(event).await?;
            let _ = self.sender.send(Arc::new(prepared));
        }
        Ok(())
    }

    /// The event as the watcher's reader is told it, when they may see it now: a member
    /// of its legacy who may read its story (or item), or the member it is for.
    pub async fn visible(&self, watcher: &mut Watcher, prepared: &Prepared) -> Result<Option<Arc<Message>>> {
        let (legacy_id, story, media, message) = match &prepared.audience {
            Audience::Nobody => return Ok(None),
            Audience::Membership { legacy_id } => {
                watcher.roles.remove(legacy_id);
                return Ok(None);
            }
            Audience::Member { user_id, message } => return Ok((*user_id == watcher.user.id).then(|| message.clone())),
            Audience::Readers { legacy_id, story, media, message } => (legacy_id, story, media, message),
        };
        let role = match watcher.roles.get(legacy_id) {
            Some(role) => *role,
            None => {
                let role = self.stories.role_in(legacy_id, &watcher.user).await?;
                watcher.roles.insert(legacy_id.clone(), role);
                role
            }
        };
        let Some(role) = role else { return Ok(None) };
        let user = &watcher.user;
        let reader = Reader { user_id: Some(user.id.as_str()), is_admin: user.role() == Role::Admin, role: Some(role) };
        let readable = match (media, story) {
            (Some(media), story) => crate::media::service::can_read_media(user, media, Some(role), story.as_deref()),
            (None, Some(story)) => permissions::can_read(reader, story_facts(story)),
            (None, None) => true,
        };
        Ok(readable.then(|| message.clone()))
    }

    /// What the watcher's reader may see of the events after `after` (a reconnecting
    /// stream's `Last-Event-ID`), oldest first, at most `limit` of them.
    pub async fn missed(&self, watcher: &mut Watcher, after: &str, limit: i64) -> Result<Vec<Arc<Message>>> {
        let mut seen = Vec::new();
        for event in outbox::after_of_types(&self.db, after, EVENTS, limit).await? {
            let prepared = self.prepare(&event).await?;
            if let Some(live) = self.visible(watcher, &prepared).await? {
                seen.push(live);
            }
        }
        Ok(seen)
    }

    /// Reads once what every stream needs to check the event.
    async fn prepare(&self, event: &Envelope) -> Result<Prepared> {
        let audience = match self.place_of(event).await? {
            Some(Ok(mut place)) => {
                let media = match &place.media_id {
                    Some(media_id) => crate::media::repo::find(&self.db, media_id).await?,
                    None => None,
                };
                let story_id = place.story_id.clone().or_else(|| media.as_ref().and_then(|m| m.story_id.clone()));
                let story = match &story_id {
                    Some(story_id) => self.stories.story_row(story_id).await?,
                    None => None,
                };
                // An item's change is its story's too (the story page shows the item).
                place.story_id = place.story_id.or(story_id);
                let gone =
                    (place.media_id.is_some() && media.is_none()) || (place.story_id.is_some() && story.is_none());
                if gone {
                    Audience::Nobody
                } else {
                    let actor_name = match &place.actor_id {
                        Some(id) => {
                            identity::repo::find_by_id(&self.db, id).await?.map(|u| u.display_name).unwrap_or_default()
                        }
                        None => String::new(),
                    };
                    let message = Message::of(LiveEvent {
                        id: event.message_id.clone(),
                        event_type: place.event_type.to_string(),
                        legacy_id: place.legacy_id.clone(),
                        story_id: place.story_id,
                        media_id: place.media_id,
                        comment_id: place.comment_id,
                        actor_id: place.actor_id,
                        actor_name,
                        in_feed: place.in_feed,
                    })?;
                    let (story, media) = (story.map(Box::new), media.map(Box::new));
                    Audience::Readers { legacy_id: place.legacy_id, story, media, message }
                }
            }
            Some(Err(audience)) => audience,
            None => Audience::Nobody,
        };
        Ok(Prepared { id: event.message_id.clone(), audience })
    }

    /// Where the event happened (`Err`: an audience other than a place's readers).
    async fn place_of(&self, event: &Envelope) -> Result<Option<std::result::Result<Place, Audience>>> {
        let decode = "decoding an event for the live stream";
        let at = |legacy_id| Place {
            event_type: event.event_type.clone(),
            in_feed: false,
            actor_id: event.actor.clone().map(UserId::from),
            legacy_id,
            story_id: None,
            media_id: None,
            comment_id: None,
        };
        let place = match &event.event_type {
            EventType::CommentAdded | EventType::CommentEdited | EventType::CommentDeleted => {
                let facts: CommentFacts = event.payload_as().context(decode)?;
                let mut place = at(facts.legacy_id);
                place.in_feed = event.event_type == EventType::CommentAdded;
                place.story_id = facts.story_id;
                place.media_id = facts.media_id;
                place.comment_id = Some(facts.comment_id);
                place
            }
            EventType::ReactionChanged => {
                let changed: ReactionChanged = event.payload_as().context(decode)?;
                let mut place = at(changed.legacy_id);
                place.in_feed = changed.on;
                match changed.subject {
                    SubjectKind::Story => place.story_id = Some(changed.subject_id.into()),
                    SubjectKind::Media => place.media_id = Some(changed.subject_id.into()),
                    SubjectKind::Comment => {
                        let comment_id: CommentId = changed.subject_id.into();
                        let Some(comment) = crate::conversation::repo::find(&self.db, &comment_id).await? else {
                            return Ok(None);
                        };
                        place.story_id = comment.story_id;
                        place.media_id = comment.media_id;
                        place.comment_id = Some(comment_id);
                    }
                }
                place
            }
            EventType::StoryUpdated => {
                let updated = event.payload_as::<StoryUpdated>().context(decode)?;
                let mut place = at(updated.story.legacy_id);
                place.in_feed = updated.story.status == StoryStatus::Published && !updated.autosave;
                place.story_id = Some(updated.story.story_id);
                place
            }
            EventType::StoryCreated => {
                let story = event.payload_as::<StoryCreated>().context(decode)?.story;
                let mut place = at(story.legacy_id);
                place.in_feed = story.status == StoryStatus::Published;
                place.story_id = Some(story.story_id);
                place
            }
            EventType::MediaUploaded => {
                let uploaded = event.payload_as::<MediaUploaded>().context(decode)?;
                let mut place = at(uploaded.legacy_id);
                place.in_feed = true;
                place.media_id = Some(uploaded.media_id);
                place
            }
            EventType::PersonCreated => {
                let created = event.payload_as::<PersonCreated>().context(decode)?;
                let mut place = at(created.legacy_id);
                place.in_feed = true;
                place
            }
            EventType::NotificationAdded => {
                let added: NotificationAdded = event.payload_as().context(decode)?;
                let message = Message::of(LiveEvent {
                    id: event.message_id.clone(),
                    event_type: EventType::NotificationAdded.to_string(),
                    legacy_id: added.legacy_id,
                    story_id: None,
                    media_id: None,
                    comment_id: None,
                    actor_id: None,
                    actor_name: String::new(),
                    in_feed: false,
                })?;
                return Ok(Some(Err(Audience::Member { user_id: added.user_id, message })));
            }
            EventType::MemberAdded | EventType::MemberRoleChanged | EventType::MemberRemoved => {
                let legacy_id = match &event.event_type {
                    EventType::MemberAdded => event.payload_as::<MemberAdded>().context(decode)?.legacy_id,
                    EventType::MemberRoleChanged => event.payload_as::<MemberRoleChanged>().context(decode)?.legacy_id,
                    _ => event.payload_as::<MemberRemoved>().context(decode)?.legacy_id,
                };
                return Ok(Some(Err(Audience::Membership { legacy_id })));
            }
            _ => return Ok(None),
        };
        Ok(Some(Ok(place)))
    }
}

/// The consumer that hands this replica's streams every event (each replica its own).
pub fn consumer(live: Arc<Live>) -> impl Consumer {
    let publish = |live: Arc<Live>, event: Envelope| async move { live.publish(&event).await };
    OnEvent::whole(CONSUMER, EVENTS, live, publish).in_every_replica()
}
