//! Consumers and delivery: the part shared by the embedded dispatcher and JetStream.
//! A consumer's handled events are recorded, so an event seen twice (a restart between
//! handling and acknowledging, a JetStream redelivery) is skipped; a consumer that keeps
//! failing on an event is retried with exponential backoff and then parks the event in
//! `dead_letters`, so one bad event never stalls the others. Each delivery runs with the
//! event as its cause ([`crate::events::cause`]): what the consumer writes is caused by it.

use std::time::Duration;

use async_trait::async_trait;
use types::events::{Envelope, EventType};
use types::DeadLetterView;

use crate::db::{with_pool, Db};
use crate::error::{Context, Error, Result};
use crate::events::cause::{self, Cause};
use crate::events::outbox;
use crate::time::now_millis;

/// Something that reacts to events: the search indexer, media processing, webhooks…
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Stable name: the key of its progress records and its JetStream durable consumer.
    fn name(&self) -> &str;
    /// Whether it wants events of this type. An [`EventType::Unknown`] one (written by a
    /// newer version) is offered too: a consumer that matches known types passes it by.
    fn wants(&self, event_type: &EventType) -> bool;
    /// Handles one event. Must be idempotent: it may see an event again after a crash.
    /// An error is retried and then parks the event with the error's text.
    async fn handle(&self, event: &Envelope) -> Result<()>;
    /// Handles several events (all wanted, in outbox order) at once, for a consumer
    /// whose cost is mostly per call rather than per event (the search index commits
    /// once for all of them). `Ok(false)`, the default: not supported. After `Ok(false)`
    /// or an error the caller hands the events over one at a time with
    /// [`Consumer::handle`], so a failing event is retried and parked on its own.
    async fn handle_many(&self, events: &[&Envelope]) -> Result<bool> {
        let _ = events;
        Ok(false)
    }
    /// True when every replica must see every event because the effect is local to the
    /// replica (its own search index). With JetStream such a consumer gets a durable
    /// consumer and processed-event records per replica; otherwise one replica handles
    /// each event for all.
    fn per_replica(&self) -> bool {
        false
    }
    /// For a consumer whose handling may take minutes (media transcodes): the event
    /// types it wants, listed, so the embedded dispatcher can give it a lane of its own
    /// and a slow event never holds up the other consumers. `None` (the default) keeps
    /// it in the shared lane.
    fn own_lane(&self) -> Option<&'static [EventType]> {
        None
    }
}

/// A consumer under another name: its processed records and dead letters are kept
/// under that name (a per-replica consumer, see `events::jetstream`).
pub struct Named {
    name: String,
    inner: std::sync::Arc<dyn Consumer>,
}

impl Named {
    pub fn new(name: String, inner: std::sync::Arc<dyn Consumer>) -> Named {
        Named { name, inner }
    }
}

#[async_trait]
impl Consumer for Named {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, event_type: &EventType) -> bool {
        self.inner.wants(event_type)
    }

    async fn handle(&self, event: &Envelope) -> Result<()> {
        self.inner.handle(event).await
    }

    async fn handle_many(&self, events: &[&Envelope]) -> Result<bool> {
        self.inner.handle_many(events).await
    }

    fn per_replica(&self) -> bool {
        self.inner.per_replica()
    }

    fn own_lane(&self) -> Option<&'static [EventType]> {
        self.inner.own_lane()
    }
}

/// A consumer of one event type (or a few with one payload) that decodes each payload
/// and hands it, with its `state`, to `handler`: what the tips, media files, GEDCOM
/// imports and email consumers are. [`OnEvent::whole`] hands the whole envelope instead
/// (its id, time and actor too): what the activity feed and the live streams are.
pub struct OnEvent<S, P, F> {
    name: &'static str,
    events: &'static [EventType],
    own_lane: bool,
    per_replica: bool,
    state: S,
    handler: F,
    decode: fn(&Envelope) -> Result<P>,
}

impl<S, P: serde::de::DeserializeOwned, F> OnEvent<S, P, F> {
    pub fn new(name: &'static str, events: &'static [EventType], state: S, handler: F) -> OnEvent<S, P, F> {
        let decode =
            |event: &Envelope| event.payload_as().with_context(|| format!("decoding a {} payload", event.event_type));
        OnEvent { name, events, own_lane: false, per_replica: false, state, handler, decode }
    }
}

impl<S, F> OnEvent<S, Envelope, F> {
    pub fn whole(name: &'static str, events: &'static [EventType], state: S, handler: F) -> OnEvent<S, Envelope, F> {
        let decode = |event: &Envelope| Ok(event.clone());
        OnEvent { name, events, own_lane: false, per_replica: false, state, handler, decode }
    }
}

impl<S, P, F> OnEvent<S, P, F> {
    /// Handled in a lane of its own, for handling that may take minutes ([`Consumer::own_lane`]).
    pub fn in_own_lane(self) -> OnEvent<S, P, F> {
        OnEvent { own_lane: true, ..self }
    }

    /// Every replica handles every event ([`Consumer::per_replica`]).
    pub fn in_every_replica(self) -> OnEvent<S, P, F> {
        OnEvent { per_replica: true, ..self }
    }
}

#[async_trait]
impl<S, P, F, Fut> Consumer for OnEvent<S, P, F>
where
    S: Clone + Send + Sync + 'static,
    P: Send + 'static,
    F: Fn(S, P) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    fn name(&self) -> &str {
        self.name
    }

    fn wants(&self, event_type: &EventType) -> bool {
        self.events.contains(event_type)
    }

    async fn handle(&self, event: &Envelope) -> Result<()> {
        let payload = (self.decode)(event)?;
        (self.handler)(self.state.clone(), payload).await
    }

    fn per_replica(&self) -> bool {
        self.per_replica
    }

    fn own_lane(&self) -> Option<&'static [EventType]> {
        self.own_lane.then_some(self.events)
    }
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

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Handled,
    /// Handled before (a redelivery); the consumer was not called.
    AlreadyProcessed,
    /// Failed every attempt; now in `dead_letters`.
    Parked,
}

/// Hands `event` to `consumer` once: skipped if already processed, retried with backoff,
/// parked after the last failed attempt. Errors are the database's, never the consumer's.
pub async fn deliver(db: &Db, consumer: &dyn Consumer, event: &Envelope, retry: RetryPolicy) -> Result<Delivered> {
    if is_processed(db, consumer.name(), &event.message_id).await? {
        return Ok(Delivered::AlreadyProcessed);
    }
    let delivered = handle_with_retries(db, consumer, event, retry).await?;
    record_processed(db, consumer.name(), &event.message_id).await?;
    Ok(delivered)
}

/// Calls the consumer, retrying with backoff, and parks the event after the last failed
/// attempt. The caller records the event as processed (one by one, or a batch at once).
pub async fn handle_with_retries(
    db: &Db,
    consumer: &dyn Consumer,
    event: &Envelope,
    retry: RetryPolicy,
) -> Result<Delivered> {
    let mut backoff = retry.first_backoff;
    let mut last_error = String::new();
    // A span per delivery, in the trace of the request that wrote the event.
    let span = tracing::info_span!("events.consume", consumer = consumer.name(), event_type = %event.event_type,
        message_id = %event.message_id, correlation_id = %event.correlation_id,
        causation_id = event.causation_id.as_deref());
    crate::telemetry::continue_trace(&span, event.trace_parent.as_deref());
    for attempt in 1..=retry.attempts {
        let handled = cause::within(Cause::handling(event), consumer.handle(event));
        match tracing::Instrument::instrument(handled, span.clone()).await {
            Ok(()) => return Ok(Delivered::Handled),
            Err(err) => {
                tracing::warn!(consumer = consumer.name(), message_id = %event.message_id,
                    correlation_id = %event.correlation_id, attempt, error = %err, "consumer failed");
                last_error = err.to_string();
                if attempt < retry.attempts {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
    tracing::error!(consumer = consumer.name(), message_id = %event.message_id,
        correlation_id = %event.correlation_id, "event parked in dead_letters");
    park(db, consumer.name(), &event.message_id, retry.attempts, &last_error).await?;
    Ok(Delivered::Parked)
}

/// Hands `events` (all wanted by `consumer`, none processed by it yet) over at once
/// when the consumer takes several together and more than one is waiting, else (or when
/// that fails) one at a time with retries. The caller records them as processed.
pub async fn handle_all_with_retries(
    db: &Db,
    consumer: &dyn Consumer,
    events: &[&Envelope],
    retry: RetryPolicy,
) -> Result<()> {
    if events.len() > 1 {
        let span = tracing::info_span!("events.consume_many", consumer = consumer.name(), events = events.len());
        match tracing::Instrument::instrument(consumer.handle_many(events), span).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => tracing::warn!(consumer = consumer.name(), events = events.len(), error = %err,
                "consumer failed on a batch; handing the events over one at a time"),
        }
    }
    for event in events {
        handle_with_retries(db, consumer, event, retry).await?;
    }
    Ok(())
}

/// Which of `message_ids` `consumer` has already processed.
pub async fn processed_among(
    db: &Db,
    consumer: &str,
    message_ids: &[&str],
) -> Result<std::collections::HashSet<String>> {
    if message_ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT message_id FROM processed_events WHERE consumer = $1 AND message_id IN ({})",
        crate::db::placeholders(2, message_ids.len())
    );
    let found: Vec<String> = with_pool!(db, |pool| {
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(consumer);
        for id in message_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?;
    Ok(found.into_iter().collect())
}

/// Records a batch of handled events for `consumer` and moves its checkpoint to the
/// last of them, inside the caller's transaction.
pub async fn record_batch(tx: &mut crate::db::Tx, consumer: &str, message_ids: &[&str]) -> Result<()> {
    let Some(last) = message_ids.last() else { return Ok(()) };
    let now = now_millis();
    let rows: Vec<String> = (0..message_ids.len()).map(|i| format!("($1, ${}, $2)", i + 3)).collect();
    let processed = format!(
        "INSERT INTO processed_events (consumer, message_id, processed_at) VALUES {} \
         ON CONFLICT (consumer, message_id) DO NOTHING",
        rows.join(", ")
    );
    let checkpoint = "INSERT INTO consumer_checkpoints (consumer, last_message_id, handled, updated_at) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (consumer) DO UPDATE SET \
                      last_message_id = excluded.last_message_id, \
                      handled = consumer_checkpoints.handled + excluded.handled, updated_at = excluded.updated_at";
    let count = message_ids.len() as i64;
    crate::with_tx!(tx, |conn| {
        let mut query = sqlx::query(&processed).bind(consumer).bind(now);
        for id in message_ids {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
        sqlx::query(checkpoint).bind(consumer).bind(*last).bind(count).bind(now).execute(&mut *conn).await.map(|_| ())
    })?;
    Ok(())
}

async fn is_processed(db: &Db, consumer: &str, message_id: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM processed_events WHERE consumer = $1 AND message_id = $2";
    let n =
        with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(consumer).bind(message_id).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// Records the event as handled and moves the consumer's checkpoint, in one transaction.
async fn record_processed(db: &Db, consumer: &str, message_id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    record_batch(&mut tx, consumer, &[message_id]).await?;
    tx.commit().await
}

async fn park(db: &Db, consumer: &str, message_id: &str, attempts: u32, error: &str) -> Result<()> {
    let sql =
        "INSERT INTO dead_letters (consumer, message_id, attempts, last_error, failed_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (consumer, message_id) DO UPDATE SET attempts = excluded.attempts, \
               last_error = excluded.last_error, failed_at = excluded.failed_at";
    let error: String = error.chars().take(2000).collect();
    metrics::counter!(crate::events::lag::PARKED, "consumer" => consumer.to_string()).increment(1);
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

/// Parked events, newest first.
pub async fn dead_letters(db: &Db) -> Result<Vec<DeadLetterView>> {
    type Row = (String, String, String, String, String, i64, String, i64);
    let sql = "SELECT d.consumer, d.message_id, o.event_type, o.aggregate_type, o.aggregate_id, d.attempts, \
               d.last_error, d.failed_at FROM dead_letters d JOIN outbox o ON o.message_id = d.message_id \
               ORDER BY d.failed_at DESC, d.message_id DESC";
    let rows = with_pool!(db, |pool| sqlx::query_as::<_, Row>(sql).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(consumer, message_id, event_type, aggregate_type, aggregate_id, attempts, last_error, failed_at)| {
            let event_type = EventType::parse(&event_type);
            DeadLetterView {
                consumer,
                message_id,
                event_type,
                aggregate_type,
                aggregate_id,
                attempts,
                last_error,
                failed_at,
            }
        })
        .collect())
}

/// The message ids `consumer` parked, oldest first.
pub async fn dead_letters_of(db: &Db, consumer: &str) -> Result<Vec<String>> {
    let sql = "SELECT message_id FROM dead_letters WHERE consumer = $1 ORDER BY message_id";
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql).bind(consumer).fetch_all(pool).await)?)
}

/// Takes a parked event out of `dead_letters` and forgets that `consumer` processed it,
/// returning the event so the caller can deliver it again.
pub async fn take_dead_letter(db: &Db, consumer: &str, message_id: &str) -> Result<Envelope> {
    remove_dead_letter(db, consumer, message_id).await?;
    let forget = "DELETE FROM processed_events WHERE consumer = $1 AND message_id = $2";
    with_pool!(db, |pool| sqlx::query(forget).bind(consumer).bind(message_id).execute(pool).await.map(|_| ()))?;
    outbox::event(db, message_id).await
}

/// Drops a parked event for good; it stays recorded as processed, so it is not redelivered.
pub async fn remove_dead_letter(db: &Db, consumer: &str, message_id: &str) -> Result<()> {
    let sql = "DELETE FROM dead_letters WHERE consumer = $1 AND message_id = $2";
    let removed = with_pool!(db, |pool| {
        sqlx::query(sql).bind(consumer).bind(message_id).execute(pool).await.map(|done| done.rows_affected())
    })?;
    if removed == 0 {
        return Err(Error::NotFound { what: "dead letter" });
    }
    Ok(())
}

/// `(consumer, last message id, events handled, updated_at)` for every consumer that has run.
pub async fn checkpoints(db: &Db) -> Result<Vec<(String, String, i64, i64)>> {
    let sql = "SELECT consumer, last_message_id, handled, updated_at FROM consumer_checkpoints ORDER BY consumer";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, (String, String, i64, i64)>(sql).fetch_all(pool).await)?)
}
