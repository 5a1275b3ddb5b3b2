//! The embedded dispatcher (one machine, no NATS): drains the outbox in the order it
//! was written and hands each event to every consumer that wants it, then marks it
//! published. A crash between handling and marking redelivers, which the consumers'
//! processed records make harmless.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::db::Db;
use crate::error::Result;
use crate::events::consumer::{deliver, Consumer, RetryPolicy};
use crate::events::{lag, outbox};

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
                        deliver(&self.db, consumer.as_ref(), event, self.retry).await?;
                    }
                }
                outbox::mark_published(&self.db, &event.message_id).await?;
                published += 1;
            }
        }
    }

    /// Drains after every commit in this process and at least every `every` (writes by
    /// other processes), until `stop` resolves; a failed drain is retried next round.
    pub async fn run(self: Arc<Self>, every: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut commits = crate::db::commits();
        loop {
            commits.mark_unchanged();
            if let Err(err) = self.drain().instrument(tracing::info_span!("events.publish")).await {
                tracing::error!(error = %err, "event dispatch failed; retrying");
            }
            match outbox::unpublished_count(&self.db).await {
                Ok(waiting) => self.consumers.iter().for_each(|c| lag::record(c.name(), waiting as f64)),
                Err(err) => tracing::warn!(error = %err, "cannot measure consumer lag"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = commits.changed() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}
