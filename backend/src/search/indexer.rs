//! The search indexer: an event consumer that keeps the index in line with the
//! database. It never trusts an event's payload for content: it reloads the current
//! rows the event is about, so a redelivered, late or reordered event still leaves the
//! index matching the database. Each event is committed (and made searchable) before
//! `handle` returns, so a write is findable as soon as the dispatcher has delivered it;
//! a batch of events is committed once, before `handle_many` returns.
//!
//! Membership events are not wanted: who may see a document is decided by the reader's
//! memberships at query time (`search::access`), so nothing in the index depends on
//! them.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::Instrument;
use types::events::{Envelope, EventType};

use crate::db::Db;
use crate::events::Consumer;
use crate::search::index::{SearchIndex, Target};

/// The consumer name, the key of its progress records.
pub const CONSUMER: &str = "search";

/// Events that change what a story or legacy document holds (a renamed legacy changes
/// its stories' documents too). `LegacyDeleted` is not emitted yet; it is handled so the
/// day it is, the index follows.
pub const EVENTS: &[EventType] = &[
    EventType::StoryCreated,
    EventType::StoryUpdated,
    EventType::StoryDeleted,
    EventType::LegacyCreated,
    EventType::LegacyUpdated,
    EventType::LegacyDeleted,
    EventType::MediaProcessed,
    EventType::MediaCaptioned,
    EventType::MediaDeleted,
    EventType::MediaPeopleTagged,
    EventType::PersonCreated,
    EventType::PersonUpdated,
    EventType::PersonDeleted,
];

pub struct Indexer {
    db: Db,
    index: Arc<SearchIndex>,
}

impl Indexer {
    pub fn new(db: Db, index: Arc<SearchIndex>) -> Indexer {
        Indexer { db, index }
    }
}

#[async_trait]
impl Consumer for Indexer {
    fn name(&self) -> &str {
        CONSUMER
    }

    fn wants(&self, event_type: &EventType) -> bool {
        EVENTS.contains(event_type)
    }

    /// Each replica keeps its own index, so each must see every event.
    fn per_replica(&self) -> bool {
        true
    }

    async fn handle(&self, event: &Envelope) -> crate::error::Result<()> {
        let targets = targets(event);
        if targets.is_empty() {
            return Ok(());
        }
        let span = tracing::info_span!("search.index", documents = targets.len());
        self.index.refresh(&self.db, &targets, &event.message_id).instrument(span).await
    }

    /// One commit for the documents of all the events (each once), which is what makes
    /// a 100,000-person import searchable in minutes rather than hours.
    async fn handle_many(&self, events: &[&Envelope]) -> crate::error::Result<bool> {
        let mut seen = std::collections::HashSet::new();
        let targets: Vec<Target> =
            events.iter().flat_map(|event| targets(event)).filter(|target| seen.insert(target.clone())).collect();
        let Some(newest) = events.iter().map(|event| event.message_id.as_str()).max() else { return Ok(true) };
        if !targets.is_empty() {
            let span = tracing::info_span!("search.index", documents = targets.len(), events = events.len());
            self.index.refresh(&self.db, &targets, newest).instrument(span).await?;
        }
        Ok(true)
    }
}

/// The documents an event may have changed.
pub(crate) fn targets(event: &Envelope) -> Vec<Target> {
    let id = event.aggregate_id.clone();
    let legacy_of_story = event.payload.get("legacy_id").and_then(|v| v.as_str()).map(|l| Target::Legacy(l.into()));
    match event.event_type {
        // A story's visibility decides whether its legacy has a public story, which
        // decides who may find the legacy.
        EventType::StoryCreated | EventType::StoryUpdated | EventType::StoryDeleted => {
            std::iter::once(Target::Story(id)).chain(legacy_of_story).collect()
        }
        EventType::LegacyCreated => vec![Target::Legacy(id)],
        // Stories carry their legacy's name.
        EventType::LegacyUpdated | EventType::LegacyDeleted => vec![Target::LegacyWithStories(id)],
        EventType::MediaProcessed
        | EventType::MediaCaptioned
        | EventType::MediaDeleted
        | EventType::MediaPeopleTagged => vec![Target::Media(id)],
        EventType::PersonCreated | EventType::PersonUpdated | EventType::PersonDeleted => vec![Target::Person(id)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(event_type: &str, id: &str, payload: serde_json::Value) -> Envelope {
        Envelope {
            message_id: "m".into(),
            aggregate_type: "story".into(),
            aggregate_id: id.into(),
            aggregate_seq: 1,
            event_type: EventType::parse(event_type),
            schema_version: 1,
            occurred_at: 0,
            correlation_id: "m".into(),
            causation_id: None,
            actor: None,
            payload,
            trace_parent: None,
        }
    }

    #[test]
    fn story_events_refresh_the_story_and_its_legacy() {
        let targets = targets(&event("StoryUpdated", "s1", json!({ "legacy_id": "l1" })));
        assert_eq!(targets, [Target::Story("s1".into()), Target::Legacy("l1".into())]);
        assert_eq!(targets_of("LegacyUpdated"), [Target::LegacyWithStories("x".into())]);
        assert!(targets_of("MemberAdded").is_empty());
        assert_eq!(targets_of("MediaCaptioned"), [Target::Media("x".into())]);
    }

    fn targets_of(event_type: &str) -> Vec<Target> {
        targets(&event(event_type, "x", json!({})))
    }
}
