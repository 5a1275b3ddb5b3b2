//! Projecting events into the feed and reading it. The projection runs as the `activity`
//! consumer: an event already projected (by id) changes nothing, like events within
//! [`GROUP_WINDOW_MS`] of a row's last change join it, and [`Activity::rebuild`] replays
//! the outbox into empty tables. The feed is read through one query that applies the
//! stories' read rule and membership at read time, so leaving a legacy, or a story
//! turning private, takes its rows out at once.

use std::sync::Arc;

use types::events::{
    CommentAdded, Envelope, EventType, MediaUploaded, MemberAdded, PersonCreated, ReactionChanged, StoryCreated,
    StoryUpdated,
};
use types::{ActivityKind, FeedPage, LegacyId, LegacyRole, StoryStatus, SubjectKind, UserId};

use crate::activity::model::{NewActivity, GROUP_WINDOW_MS};
use crate::activity::repo;
use crate::db::Db;
use crate::error::{Context, Result};
use crate::events::{outbox, Consumer, OnEvent};
use crate::identity::User;
use crate::paging;
use crate::validate::{self, Problems};

/// Its name: the key of its progress records.
pub const CONSUMER: &str = "activity";

/// The events that become activity.
const EVENTS: &[EventType] = &[
    EventType::StoryCreated,
    EventType::StoryUpdated,
    EventType::MediaUploaded,
    EventType::CommentAdded,
    EventType::ReactionChanged,
    EventType::PersonCreated,
    EventType::MemberAdded,
];

const PAGE_DEFAULT: i64 = 20;
const PAGE_MAX: i64 = 100;

pub struct Activity {
    db: Db,
}

/// A feed page as asked for: a legacy to keep to, where the last page ended, how many.
#[derive(Debug, Clone, Default)]
pub struct FeedRequest {
    pub legacy_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl Activity {
    pub fn new(db: Db) -> Activity {
        Activity { db }
    }

    /// What happened in the user's legacies, newest first, a page at a time.
    pub async fn feed(&self, user: &User, request: &FeedRequest) -> Result<FeedPage> {
        let mut problems = Problems::default();
        let limit = validate::limit(&mut problems, request.limit, PAGE_DEFAULT, PAGE_MAX);
        let after = paging::parse_cursor(&mut problems, request.cursor.as_deref());
        problems.into_result()?;
        let legacy_id = request.legacy_id.as_deref().map(str::trim).filter(|id| !id.is_empty()).map(LegacyId::from);
        let mut rows = repo::feed(&self.db, &user.id, legacy_id.as_ref(), after, limit + 1).await?;
        let next_cursor = paging::keyset_page(&mut rows, limit, |r| (r.updated_at, r.id.as_str()));
        Ok(FeedPage { items: rows, next_cursor })
    }

    /// Adds one event to the feed, once however often it is delivered.
    pub async fn project(&self, event: &Envelope) -> Result<()> {
        let Some(new) = self.activity_of(event).await? else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        if repo::is_projected_tx(&mut tx, &event.message_id).await? {
            return Ok(());
        }
        let group_key = new.group_key(&event.message_id);
        let at = event.occurred_at;
        let activity_id = match repo::open_group_tx(&mut tx, &new.legacy_id, &group_key, at - GROUP_WINDOW_MS).await? {
            Some(id) => {
                repo::grow_tx(&mut tx, &id, &new, at).await?;
                id
            }
            None => {
                repo::insert_tx(&mut tx, &event.message_id, &new, &group_key, at).await?;
                event.message_id.clone()
            }
        };
        repo::mark_projected_tx(&mut tx, &event.message_id, &activity_id).await?;
        tx.commit().await
    }

    /// Empties the feed and projects the outbox's events into it again, in order.
    pub async fn rebuild(&self) -> Result<u64> {
        repo::clear(&self.db).await?;
        let mut after = String::new();
        let mut projected = 0;
        loop {
            let events = outbox::after_of_types(&self.db, &after, EVENTS, 500).await?;
            let Some(last) = events.last() else { break };
            after = last.message_id.clone();
            for event in &events {
                self.project(event).await?;
                projected += 1;
            }
        }
        Ok(projected)
    }

    /// What `event` adds to the feed, if anything: drafts, autosaves, reactions taken
    /// away and the owner a new legacy starts with add nothing.
    async fn activity_of(&self, event: &Envelope) -> Result<Option<NewActivity>> {
        let actor = event.actor.clone().map(UserId::from);
        let decode = "decoding an event for the activity feed";
        let new = match &event.event_type {
            EventType::StoryCreated => {
                let created: StoryCreated = event.payload_as().context(decode)?;
                let story = created.story;
                (story.status == StoryStatus::Published).then(|| NewActivity {
                    story_id: Some(story.story_id.clone()),
                    place: None,
                    ..NewActivity::new(ActivityKind::StoryPublished, story.legacy_id, actor)
                })
            }
            EventType::StoryUpdated => {
                let updated: StoryUpdated = event.payload_as().context(decode)?;
                let story = updated.story;
                if story.status != StoryStatus::Published || updated.autosave {
                    None
                } else if repo::was_published(&self.db, &story.story_id).await? {
                    Some(NewActivity {
                        story_id: Some(story.story_id.clone()),
                        place: Some(story.story_id.to_string()),
                        ..NewActivity::new(ActivityKind::StoryEdited, story.legacy_id, actor)
                    })
                } else {
                    Some(NewActivity {
                        story_id: Some(story.story_id.clone()),
                        place: None,
                        ..NewActivity::new(ActivityKind::StoryPublished, story.legacy_id, actor)
                    })
                }
            }
            EventType::MediaUploaded => {
                let uploaded: MediaUploaded = event.payload_as().context(decode)?;
                Some(NewActivity {
                    place: Some(uploaded.story_id.as_deref().unwrap_or_default().to_string()),
                    story_id: uploaded.story_id,
                    media_id: Some(uploaded.media_id),
                    ..NewActivity::new(ActivityKind::MediaAdded, uploaded.legacy_id, actor)
                })
            }
            EventType::CommentAdded => {
                let added: CommentAdded = event.payload_as().context(decode)?;
                let facts = added.comment;
                let story_id = match (&facts.story_id, &facts.media_id) {
                    (Some(story_id), _) => Some(story_id.clone()),
                    (None, Some(media_id)) => self.story_of_media(media_id).await?,
                    (None, None) => None,
                };
                let place = facts.story_id.as_deref().or(facts.media_id.as_deref()).unwrap_or_default().to_string();
                Some(NewActivity {
                    story_id,
                    media_id: facts.media_id,
                    comment_id: Some(facts.comment_id),
                    place: Some(place),
                    ..NewActivity::new(ActivityKind::Commented, facts.legacy_id, actor)
                })
            }
            EventType::ReactionChanged => {
                let changed: ReactionChanged = event.payload_as().context(decode)?;
                if !changed.on {
                    return Ok(None);
                }
                let mut new = NewActivity {
                    place: Some(changed.subject_id.clone()),
                    ..NewActivity::new(ActivityKind::Reacted, changed.legacy_id, actor)
                };
                match changed.subject {
                    SubjectKind::Story => new.story_id = Some(changed.subject_id.into()),
                    SubjectKind::Media => {
                        let media_id = changed.subject_id.into();
                        new.story_id = self.story_of_media(&media_id).await?;
                        new.media_id = Some(media_id);
                    }
                    SubjectKind::Comment => {
                        let comment_id = changed.subject_id.into();
                        let Some(comment) = crate::conversation::repo::find(&self.db, &comment_id).await? else {
                            return Ok(None);
                        };
                        new.story_id = match (&comment.story_id, &comment.media_id) {
                            (Some(story_id), _) => Some(story_id.clone()),
                            (None, Some(media_id)) => self.story_of_media(media_id).await?,
                            (None, None) => None,
                        };
                        new.comment_id = Some(comment_id);
                    }
                }
                Some(new)
            }
            EventType::PersonCreated => {
                let created: PersonCreated = event.payload_as().context(decode)?;
                Some(NewActivity {
                    person_id: Some(created.person_id),
                    ..NewActivity::new(ActivityKind::PersonAdded, created.legacy_id, actor)
                })
            }
            EventType::MemberAdded => {
                let added: MemberAdded = event.payload_as().context(decode)?;
                (added.role != LegacyRole::Owner).then(|| NewActivity {
                    place: None,
                    ..NewActivity::new(ActivityKind::MemberJoined, added.legacy_id, Some(added.user_id))
                })
            }
            _ => None,
        };
        Ok(new)
    }

    /// The story a media item belongs to (an item gone since: none).
    async fn story_of_media(&self, media_id: &types::MediaId) -> Result<Option<types::StoryId>> {
        Ok(crate::media::repo::find(&self.db, media_id).await?.and_then(|row| row.story_id))
    }
}

/// The consumer that keeps the feed.
pub fn consumer(activity: Arc<Activity>) -> impl Consumer {
    OnEvent::whole(CONSUMER, EVENTS, activity, |activity: Arc<Activity>, event: Envelope| async move {
        activity.project(&event).await
    })
}
