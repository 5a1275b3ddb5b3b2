//! Catching up at start from the outbox's tail (ADR 0017).
//!
//! With JetStream, the events a replica held when it was killed (pulled, not yet acked)
//! come back only after the ack wait, so a restarted replica would serve the old text of
//! what they changed until then. Instead, opening the index re-reads the outbox from a
//! little before the newest event the index recorded and refreshes every document those
//! events name, before the server answers. The margin matters: message ids are UUIDv7
//! made when the writer's transaction appended the event, and transactions commit in
//! another order than their ids, so an event older than the mark may have been committed
//! (and delivered) after it. Refreshing is idempotent: the events themselves arrive again
//! later and change nothing more.

use std::collections::HashSet;
use std::time::Duration;

use crate::db::Db;
use crate::error::Result;
use crate::events::outbox;
use crate::search::index::{SearchIndex, Target};
use crate::search::indexer;

/// How far before the index's mark the tail is re-read: longer than any write
/// transaction stays open between appending its event and committing.
pub const MARGIN: Duration = Duration::from_secs(120);
/// Outbox rows read per query.
const PAGE: i64 = 500;
/// Documents refreshed per index commit.
const CHUNK: usize = 200;

/// What a catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaughtUp {
    pub events: usize,
    pub documents: usize,
}

/// Refreshes every document named by an indexed event from [`MARGIN`] before the index's
/// mark on, and moves the mark to the newest of them. Nothing to do for an index that has
/// no mark (a new one is built from the rows themselves).
pub async fn catch_up(index: &SearchIndex, db: &Db) -> Result<CaughtUp> {
    let mark = index.current().last_message_id();
    let Some(made) = outbox::id_millis(&mark) else { return Ok(CaughtUp::default()) };
    let mut after = outbox::id_floor(made - MARGIN.as_millis() as i64);
    let (mut targets, mut seen) = (Vec::new(), HashSet::new());
    let mut events = 0;
    loop {
        let page = outbox::after_of_types(db, &after, indexer::EVENTS, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.message_id.clone();
        events += page.len();
        for event in &page {
            for target in indexer::targets(event) {
                if seen.insert(target.clone()) {
                    targets.push(target);
                }
            }
        }
    }
    let documents = targets.len();
    let chunks: Vec<&[Target]> = targets.chunks(CHUNK).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        // The mark moves only with the last chunk: a crash half-way re-reads it all.
        let newest = if i + 1 == chunks.len() { after.as_str() } else { "" };
        index.refresh(db, chunk, newest).await?;
    }
    Ok(CaughtUp { events, documents })
}
