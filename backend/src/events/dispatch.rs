//! The embedded dispatcher (one machine, no NATS): drains the outbox in the order it
//! was written and hands each event to every consumer that wants it. The bookkeeping
//! (processed records, checkpoints, published marks) of a batch is written in one
//! transaction after the batch is handled, one commit per batch instead of two per
//! event; a crash before that commit redelivers the batch, which consumers must (and
//! do) take calmly: they are idempotent.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;
use types::events::Envelope;

use crate::db::Db;
use crate::error::Result;
use crate::events::consumer::{handle_all_with_retries, processed_among, record_batch, Consumer, RetryPolicy};
use crate::events::{lag, outbox, run_batches, until_empty};

pub struct Dispatcher {
    db: Db,
    consumers: Vec<Arc<dyn Consumer>>,
    retry: RetryPolicy,
    batch: i64,
}

impl Dispatcher {
    /// The shared lane: every consumer without a lane of its own ([`Consumer::own_lane`]).
    pub fn new(db: Db, consumers: Vec<Arc<dyn Consumer>>, retry: RetryPolicy) -> Dispatcher {
        let consumers = consumers.into_iter().filter(|c| c.own_lane().is_none()).collect();
        Dispatcher { db, consumers, retry, batch: 100 }
    }

    /// Delivers every unpublished event, oldest first, then marks each published.
    /// Returns how many events were published.
    pub async fn drain(&self) -> Result<usize> {
        until_empty(|| self.publish_batch()).await
    }

    /// Delivers the oldest batch of unpublished events and marks them published; returns
    /// how many there were (0: nothing is waiting).
    async fn publish_batch(&self) -> Result<usize> {
        let events = outbox::unpublished(&self.db, self.batch).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = events.iter().map(|e| e.message_id.as_str()).collect();
        let mut handled: Vec<Vec<&str>> = Vec::with_capacity(self.consumers.len());
        for consumer in &self.consumers {
            let done = processed_among(&self.db, consumer.name(), &ids).await?;
            let wanted: Vec<&Envelope> =
                events.iter().filter(|e| consumer.wants(&e.event_type) && !done.contains(&e.message_id)).collect();
            handle_all_with_retries(&self.db, consumer.as_ref(), &wanted, self.retry).await?;
            handled.push(wanted.iter().map(|e| e.message_id.as_str()).collect());
        }
        let mut tx = self.db.begin().await?;
        for (consumer, ids) in self.consumers.iter().zip(&handled) {
            record_batch(&mut tx, consumer.name(), ids).await?;
        }
        outbox::mark_batch_published(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(events.len())
    }

    /// Publishes batch after batch until `stop` (see [`run_batches`]), recording the
    /// consumers' lag after each. (Lanes of their own are started with [`Lane::run`].)
    pub async fn run(self: Arc<Self>, every: Duration, stop: impl std::future::Future<Output = ()>) {
        run_batches("events.publish", every, stop, || async {
            let published = self.publish_batch().instrument(tracing::info_span!("events.publish")).await;
            match outbox::unpublished_count(&self.db).await {
                Ok(waiting) => self.consumers.iter().for_each(|c| lag::record(c.name(), waiting as f64)),
                Err(err) => tracing::warn!(error = %err, "cannot measure consumer lag"),
            }
            published
        })
        .await
    }
}

/// A lane of its own for one slow consumer: it finds the events of its types that it
/// has not processed (its processed records, not the shared lane's "published" mark,
/// are its progress), oldest first, and handles them one at a time, so a transcode that
/// takes ten minutes delays only other media, never search or webhooks.
pub struct Lane {
    db: Db,
    consumer: Arc<dyn Consumer>,
    retry: RetryPolicy,
}

/// How far back a lane looks behind its newest processed event: a transaction that
/// committed late (it began before, committed after) is still found. Requests time out
/// long before this.
const LATE_COMMIT_WINDOW_MS: i64 = 10 * 60 * 1000;

impl Lane {
    pub fn new(db: Db, consumer: Arc<dyn Consumer>, retry: RetryPolicy) -> Lane {
        Lane { db, consumer, retry }
    }

    /// Handles every waiting event of the lane's types; returns how many.
    pub async fn drain(&self) -> Result<usize> {
        until_empty(|| self.handle_batch()).await
    }

    /// Handles the oldest few waiting events; returns how many (0: none is waiting).
    async fn handle_batch(&self) -> Result<usize> {
        let types = self.consumer.own_lane().unwrap_or_default();
        let waiting =
            outbox::unprocessed_of_types(&self.db, self.consumer.name(), types, LATE_COMMIT_WINDOW_MS, 20).await?;
        for event in &waiting {
            crate::events::consumer::deliver(&self.db, self.consumer.as_ref(), event, self.retry).await?;
        }
        Ok(waiting.len())
    }

    pub async fn run(self: Arc<Self>, every: Duration, stop: impl std::future::Future<Output = ()>) {
        let span = tracing::info_span!("events.lane", consumer = self.consumer.name());
        run_batches("events.lane", every, stop, || self.handle_batch().instrument(span.clone())).await
    }
}
