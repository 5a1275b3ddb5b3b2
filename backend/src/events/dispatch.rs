//! The embedded event dispatcher: drains the outbox in order and hands each event to
//! every consumer that wants it. A consumer's handled events are recorded, so an event
//! seen twice (a restart between handling and marking) is skipped; a consumer that keeps
//! failing on an event is retried with exponential backoff and then parks the event in
//! `dead_letters`, so one bad event never stalls the others.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use types::events::Envelope;

use crate::db::{with_pool, Db};
use crate::error::Result;
use crate::events::outbox;
use crate::time::now_millis;

/// Something that reacts to events: the search indexer, media processing, webhooks…
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Stable name: the key of its progress records.
    fn name(&self) -> &str;
    /// Whether it wants events of this type.
    fn wants(&self, event_type: &str) -> bool;
    /// Handles one event. Must be idempotent: it may see an event again after a crash.
    async fn handle(&self, event: &Envelope) -> std::result::Result<(), String>;
}

/// How hard to try before parking an event.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 5, first_backoff: Duration::from_millis(100) }
    }
}

pub struct Dispatcher {
    db: Db,
    consumers: Vec<Arc<dyn Consumer>>,
    retry: RetryPolicy,
    batch: i64,
}

impl Dispatcher {
    pub fn new(db: Db, consumers: Vec<Arc<dyn Consumer>>, retry: RetryPolicy) -> Dispatcher {
        Dispatcher { db, consumers, retry, batch: 100 }
    }

    /// Delivers every unpublished event, oldest first, then marks each published.
    /// Returns how many events were published.
    pub async fn drain(&self) -> Result<usize> {
        let mut published = 0;
        loop {
            let events = outbox::unpublished(&self.db, self.batch).await?;
            if events.is_empty() {
                return Ok(published);
            }
            for event in &events {
                for consumer in &self.consumers {
                    if consumer.wants(&event.event_type) {
                        self.deliver(consumer.as_ref(), event).await?;
                    }
                }
                outbox::mark_published(&self.db, &event.message_id).await?;
                published += 1;
            }
        }
    }

    async fn deliver(&self, consumer: &dyn Consumer, event: &Envelope) -> Result<()> {
        if is_processed(&self.db, consumer.name(), &event.message_id).await? {
            return Ok(());
        }
        let mut backoff = self.retry.first_backoff;
        let mut last_error = String::new();
        for attempt in 1..=self.retry.attempts {
            match consumer.handle(event).await {
                Ok(()) => return record_processed(&self.db, consumer.name(), &event.message_id).await,
                Err(err) => {
                    tracing::warn!(consumer = consumer.name(), message_id = %event.message_id, attempt, error = %err,
                        "consumer failed");
                    last_error = err;
                    if attempt < self.retry.attempts {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                    }
                }
            }
        }
        tracing::error!(consumer = consumer.name(), message_id = %event.message_id, "event parked in dead_letters");
        park(&self.db, consumer.name(), &event.message_id, self.retry.attempts, &last_error).await?;
        record_processed(&self.db, consumer.name(), &event.message_id).await
    }

    /// Drains now and then every `every`, until `stop` resolves; a failed drain is
    /// logged and retried on the next tick.
    pub async fn run(self: Arc<Self>, every: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tick.tick() => {
                    if let Err(err) = self.drain().await {
                        tracing::error!(error = %err, "event dispatch failed; retrying");
                    }
                }
            }
        }
    }
}

async fn is_processed(db: &Db, consumer: &str, message_id: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM processed_events WHERE consumer = $1 AND message_id = $2";
    let n =
        with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(consumer).bind(message_id).fetch_one(pool).await)?;
    Ok(n > 0)
}

async fn record_processed(db: &Db, consumer: &str, message_id: &str) -> Result<()> {
    let sql = "INSERT INTO processed_events (consumer, message_id, processed_at) VALUES ($1, $2, $3) \
               ON CONFLICT (consumer, message_id) DO NOTHING";
    with_pool!(db, |pool| {
        sqlx::query(sql).bind(consumer).bind(message_id).bind(now_millis()).execute(pool).await.map(|_| ())
    })?;
    Ok(())
}

async fn park(db: &Db, consumer: &str, message_id: &str, attempts: u32, error: &str) -> Result<()> {
    let sql =
        "INSERT INTO dead_letters (consumer, message_id, attempts, last_error, failed_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (consumer, message_id) DO UPDATE SET attempts = excluded.attempts, \
               last_error = excluded.last_error, failed_at = excluded.failed_at";
    let error: String = error.chars().take(2000).collect();
    with_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(consumer)
            .bind(message_id)
            .bind(i64::from(attempts))
            .bind(&error)
            .bind(now_millis())
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// `(consumer, message_id, attempts, last_error)` of parked events.
pub async fn dead_letters(db: &Db) -> Result<Vec<(String, String, i64, String)>> {
    let sql = "SELECT consumer, message_id, attempts, last_error FROM dead_letters ORDER BY failed_at";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, (String, String, i64, String)>(sql).fetch_all(pool).await)?)
}
