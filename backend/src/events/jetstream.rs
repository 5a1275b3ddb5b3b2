//! Scale-out event bus on NATS JetStream. Every replica runs a publisher that moves the
//! outbox into the stream, with the message id as JetStream's dedup id, so two replicas
//! publishing the same row store it once. Each consumer is a durable pull consumer
//! shared by all replicas: JetStream hands each message to one of them, and the
//! processed-event records make a redelivery (a replica died before acking) harmless.
//! A handler still at work tells JetStream so every third of the ack wait, so a long one
//! (a video transcode) is not handed to a second replica meanwhile. That lets the ack wait
//! be short: what a killed replica was holding goes to another replica (or back to it,
//! restarted) after [`ACK_WAIT`], not after minutes.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, stream};
use futures::StreamExt;
use tracing::Instrument;
use types::events::Envelope;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::consumer::{deliver, Consumer, Named, RetryPolicy};
use crate::events::{lag, outbox, run_batches, until_empty};

/// How long JetStream waits for an ack (or a progress report) before redelivering. Long
/// handlings report progress every third of it, so this bounds only how long the events a
/// killed replica held wait for another replica (ADR 0017).
pub const ACK_WAIT: Duration = Duration::from_secs(15);
/// Messages a consumer pulls ahead of the one in hand: all of them wait out the ack wait
/// when the replica is killed, so few (the handling, not the pull, is the slow part).
const PULL_BATCH: usize = 16;

#[derive(Clone)]
pub struct JetStream {
    context: jetstream::Context,
    stream: String,
    ack_wait: Duration,
    /// This replica's id, which names its replica-local consumers (`search-<id>`).
    replica: String,
}

fn unavailable(what: &str, err: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("NATS {what}: {err}"))
}

impl JetStream {
    /// Connects and makes sure the stream exists (file storage, two-minute dedup window).
    pub async fn connect(url: &str, stream_name: &str) -> Result<JetStream> {
        let client = async_nats::ConnectOptions::new()
            .name("heirloom")
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| unavailable("connect", e))?;
        let context = jetstream::new(client);
        context
            .get_or_create_stream(stream::Config {
                name: stream_name.to_string(),
                subjects: vec![format!("{stream_name}.>")],
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable("stream", e))?;
        // Until told its replica's id, a bus names replica-local consumers after itself
        // alone, never after something another process could share (a host name).
        let replica = format!("process-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        Ok(JetStream { context, stream: stream_name.to_string(), ack_wait: ACK_WAIT, replica })
    }

    /// The replica this bus runs in (`backend::replica`): its replica-local consumers are
    /// named after it, so they survive its restarts and no other replica shares them.
    pub fn with_replica(mut self, replica: &str) -> JetStream {
        self.replica = replica.to_string();
        self
    }

    /// The ack wait of the durable consumers this bus uses (tests shorten it); an existing
    /// durable consumer with another wait is updated to it.
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> JetStream {
        self.ack_wait = ack_wait;
        self
    }

    /// How many messages the stream holds.
    pub async fn stream_messages(&self) -> Result<u64> {
        let mut stream = self.context.get_stream(&self.stream).await.map_err(|e| unavailable("stream", e))?;
        Ok(stream.info().await.map_err(|e| unavailable("stream info", e))?.state.messages)
    }

    /// The ack wait of the durable consumer `name` (tests: an old consumer is updated).
    pub async fn consumer_ack_wait(&self, name: &str) -> Result<Duration> {
        let stream = self.context.get_stream(&self.stream).await.map_err(|e| unavailable("stream", e))?;
        let info = stream.consumer_info(name).await.map_err(|e| unavailable("consumer info", e))?;
        Ok(info.config.ack_wait)
    }

    /// Removes the stream and everything in it (tests use a stream each).
    pub async fn delete_stream(&self) -> Result<()> {
        self.context.delete_stream(&self.stream).await.map_err(|e| unavailable("delete stream", e))?;
        Ok(())
    }

    fn subject(&self, event: &Envelope) -> String {
        format!("{}.{}.{}", self.stream, event.aggregate_type, event.event_type)
    }

    /// Publishes every unpublished outbox row in order, each acknowledged by JetStream
    /// before it is marked published. Returns how many were published.
    pub async fn publish_pending(&self, db: &Db) -> Result<usize> {
        until_empty(|| self.publish_batch(db)).await
    }

    /// Publishes the oldest batch of unpublished rows; returns how many (0: none waits).
    async fn publish_batch(&self, db: &Db) -> Result<usize> {
        let events = outbox::unpublished(db, 100).await?;
        for event in &events {
            let payload = serde_json::to_vec(event).map_err(|e| unavailable("encode", e))?;
            let publish =
                jetstream::context::Publish::build().message_id(event.message_id.as_str()).payload(payload.into());
            let ack =
                self.context.send_publish(self.subject(event), publish).await.map_err(|e| unavailable("publish", e))?;
            ack.await.map_err(|e| unavailable("publish ack", e))?;
            outbox::mark_published(db, &event.message_id).await?;
        }
        Ok(events.len())
    }

    /// Publishes after each local commit and at least every `every`, until `stop`
    /// (see [`run_batches`]).
    pub async fn run_publisher(self, db: Db, every: Duration, stop: impl std::future::Future<Output = ()>) {
        run_batches("events.jetstream.publish", every, stop, || {
            self.publish_batch(&db).instrument(tracing::info_span!("events.publish"))
        })
        .await
    }

    async fn durable(&self, name: &str, per_replica: bool) -> Result<jetstream::consumer::Consumer<pull::Config>> {
        let stream = self.context.get_stream(&self.stream).await.map_err(|e| unavailable("stream", e))?;
        let mut config = pull::Config {
            durable_name: Some(name.to_string()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            ..Default::default()
        };
        if per_replica {
            // A replica-local consumer (a search index) catches up from the database on
            // start, so a new replica needs only recent events; a replica that is gone for
            // a week leaves no consumer behind.
            let recent = time::OffsetDateTime::now_utc() - time::Duration::minutes(15);
            config.deliver_policy = jetstream::consumer::DeliverPolicy::ByStartTime { start_time: recent };
            config.inactive_threshold = Duration::from_secs(7 * 24 * 3600);
        }
        let durable = stream.get_or_create_consumer(name, config).await.map_err(|e| unavailable("consumer", e))?;
        if durable.cached_info().config.ack_wait == self.ack_wait {
            return Ok(durable);
        }
        // Made by an older version with a longer wait: only the wait changes (a start time
        // or any other setting cannot be updated, so the consumer's own are sent back).
        let mut updated = durable.cached_info().config.clone();
        updated.ack_wait = self.ack_wait;
        match stream.create_consumer(updated).await {
            Ok(_) => {
                tracing::info!(consumer = name, ack_wait = ?self.ack_wait, "JetStream consumer's ack wait updated");
                stream.get_consumer(name).await.map_err(|e| unavailable("consumer", e))
            }
            Err(err) => {
                tracing::warn!(consumer = name, error = %err, "could not update the JetStream consumer's ack wait");
                Ok(durable)
            }
        }
    }

    /// Feeds `consumer` from its durable JetStream consumer until `stop`. Several
    /// replicas running this for the same consumer share the work, unless the consumer
    /// is per replica: then each replica has its own durable consumer and records.
    pub async fn run_consumer(
        self,
        db: Db,
        consumer: Arc<dyn Consumer>,
        retry: RetryPolicy,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let consumer: Arc<dyn Consumer> = if consumer.per_replica() {
            let name = replica_consumer_name(consumer.name(), &self.replica);
            Arc::new(Named::new(name, consumer))
        } else {
            consumer
        };
        tokio::pin!(stop);
        loop {
            let attempt = self.consume(&db, consumer.as_ref(), retry);
            tokio::select! {
                _ = &mut stop => return,
                result = attempt => {
                    if let Err(err) = result {
                        tracing::error!(consumer = consumer.name(), error = %err, "JetStream consumer stopped; restarting");
                    }
                    tokio::select! {
                        _ = &mut stop => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }

    async fn consume(&self, db: &Db, consumer: &dyn Consumer, retry: RetryPolicy) -> Result<()> {
        let mut durable = self.durable(consumer.name(), consumer.per_replica()).await?;
        let mut messages = durable
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            // As `messages()` would: a pull that hears nothing for this long fails and is redone.
            .expires(Duration::from_secs(30))
            .heartbeat(Duration::from_secs(15))
            .messages()
            .await
            .map_err(|e| unavailable("fetch", e))?;
        let mut lag_measured = tokio::time::Instant::now() - Duration::from_secs(60);
        loop {
            if lag_measured.elapsed() > Duration::from_secs(5) {
                lag_measured = tokio::time::Instant::now();
                if let Ok(info) = durable.info().await {
                    let unpublished = outbox::unpublished_count(db).await.unwrap_or(0);
                    lag::record(
                        consumer.name(),
                        (info.num_pending + info.num_ack_pending as u64) as f64 + unpublished as f64,
                    );
                }
            }
            let next = tokio::time::timeout(Duration::from_secs(5), messages.next()).await;
            let message = match next {
                Err(_) => continue,
                Ok(None) => return Err(unavailable("fetch", "message stream ended")),
                Ok(Some(message)) => message.map_err(|e| unavailable("fetch", e))?,
            };
            let event: Envelope = match serde_json::from_slice(&message.payload) {
                Ok(event) => event,
                Err(err) => {
                    // Not ours to understand; acking keeps it from blocking everything after it.
                    tracing::error!(subject = %message.subject, error = %err, "undecodable event on the stream");
                    message.ack().await.map_err(|e| unavailable("ack", e))?;
                    continue;
                }
            };
            if consumer.wants(&event.event_type) {
                let delivered =
                    while_reporting_progress(&message, self.ack_wait / 3, deliver(db, consumer, &event, retry));
                if let Err(err) = delivered.await {
                    let _ = message.ack_with(jetstream::AckKind::Nak(Some(Duration::from_secs(1)))).await;
                    return Err(err);
                }
            }
            message.ack().await.map_err(|e| unavailable("ack", e))?;
        }
    }
}

/// Runs `work`, telling JetStream every `every` that `message` is still being worked on,
/// which restarts its ack wait.
async fn while_reporting_progress<T>(
    message: &jetstream::Message,
    every: Duration,
    work: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = ticks.tick() => {
                if let Err(err) = message.ack_with(jetstream::AckKind::Progress).await {
                    tracing::warn!(error = %err, "could not report progress to JetStream");
                }
            }
        }
    }
}

/// The name under which `replica` keeps a replica-local consumer: its JetStream durable
/// consumer and its processed-event records (`search-<replica id>`).
pub fn replica_consumer_name(consumer: &str, replica: &str) -> String {
    format!("{consumer}-{replica}")
}
