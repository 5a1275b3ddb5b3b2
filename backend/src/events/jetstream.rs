//! Scale-out event bus on NATS JetStream. Every replica runs a publisher that moves the
//! outbox into the stream, with the message id as JetStream's dedup id, so two replicas
//! publishing the same row store it once. Each consumer is a durable pull consumer
//! shared by all replicas: JetStream hands each message to one of them, and the
//! processed-event records make a redelivery (a replica died before acking) harmless.
//! A handler still at work tells JetStream so every third of the ack wait, so a long one
//! (a video transcode) is not handed to a second replica meanwhile.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, stream};
use futures::StreamExt;
use tracing::Instrument;
use types::events::Envelope;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::consumer::{deliver, Consumer, RetryPolicy};
use crate::events::{lag, outbox, run_batches, until_empty};

/// How long JetStream waits for an ack (or a progress report) before redelivering.
const ACK_WAIT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct JetStream {
    context: jetstream::Context,
    stream: String,
    ack_wait: Duration,
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
        Ok(JetStream { context, stream: stream_name.to_string(), ack_wait: ACK_WAIT })
    }

    /// The ack wait of the durable consumers this bus creates (tests shorten it; an
    /// existing durable consumer keeps the wait it was created with).
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> JetStream {
        self.ack_wait = ack_wait;
        self
    }

    /// How many messages the stream holds.
    pub async fn stream_messages(&self) -> Result<u64> {
        let mut stream = self.context.get_stream(&self.stream).await.map_err(|e| unavailable("stream", e))?;
        Ok(stream.info().await.map_err(|e| unavailable("stream info", e))?.state.messages)
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
        stream.get_or_create_consumer(name, config).await.map_err(|e| unavailable("consumer", e))
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
            let name = format!("{}-{}", consumer.name(), replica_name());
            Arc::new(ReplicaLocal { name, inner: consumer })
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
        let mut messages = durable.messages().await.map_err(|e| unavailable("fetch", e))?;
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

/// This replica's name for its own consumers: the host name (a pod's name on
/// Kubernetes), reduced to what JetStream allows in a consumer name.
pub fn replica_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_else(|| "replica".into());
    let clean: String =
        host.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if clean.is_empty() {
        "replica".into()
    } else {
        clean
    }
}

/// A per-replica consumer under its replica's name, so its processed-event records and
/// its durable consumer are its own.
struct ReplicaLocal {
    name: String,
    inner: Arc<dyn Consumer>,
}

#[async_trait::async_trait]
impl Consumer for ReplicaLocal {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, event_type: &str) -> bool {
        self.inner.wants(event_type)
    }

    async fn handle(&self, event: &Envelope) -> std::result::Result<(), String> {
        self.inner.handle(event).await
    }

    fn per_replica(&self) -> bool {
        true
    }
}
