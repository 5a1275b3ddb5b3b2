//! Event throughput through the outbox: `bench/run.py` runs this in release mode.
//!
//!     cargo run --release -p backend --example events_bench -- <database-url> [events] [nats-url]
//!
//! 1. append: `events` outbox appends, one transaction each (as writers do), from 8 tasks;
//! 2. drain: the embedded dispatcher delivers the backlog to a no-op consumer;
//! 3. live: writers append at a steady pace while the dispatcher runs, and the time from
//!    commit to handling is recorded per event (p50/p95);
//! 4. with a NATS URL, the same backlog through JetStream (publish, then a durable consumer).
//!
//! Prints one JSON object.

// A benchmark tool: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use backend::db::Db;
use backend::events::{self, Consumer, Dispatcher, Event, RetryPolicy};
use backend::time::now_millis;
use secrecy::SecretString;
use types::events::{Envelope, EventType};

/// Does nothing but count and note how late each event arrived.
struct NoOp {
    name: String,
    handled: AtomicUsize,
    delays_ms: Mutex<Vec<i64>>,
}

#[async_trait]
impl Consumer for NoOp {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, _: &EventType) -> bool {
        true
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        self.handled.fetch_add(1, Ordering::Relaxed);
        self.delays_ms.lock().unwrap().push(now_millis() - event.occurred_at);
        Ok(())
    }
}

fn noop(name: &str) -> Arc<NoOp> {
    Arc::new(NoOp { name: name.into(), handled: AtomicUsize::new(0), delays_ms: Mutex::new(Vec::new()) })
}

async fn append(db: &Db, aggregate: &str) {
    let mut tx = db.begin().await.unwrap();
    let event = Event {
        aggregate_type: "bench",
        aggregate_id: aggregate,
        event_type: EventType::parse("BenchHappened"),
        actor: None,
        payload: serde_json::json!({ "n": 1 }),
    };
    events::append(&mut tx, event).await.unwrap();
    tx.commit().await.unwrap();
}

/// Appends `n` events from 8 concurrent writers; returns events/s.
async fn append_many(db: &Db, n: usize, prefix: &str) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let db = db.clone();
            let prefix = prefix.to_string();
            tokio::spawn(async move {
                for i in (w..n).step_by(8) {
                    append(&db, &format!("{prefix}-{}", i % 500)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// 200 outbound calls to a local no-op HTTP server, 20 per second, with the timer
/// worker running: submit → succeeded latency p50/p95 (ms).
async fn calls_latency(db: &Db) -> (i64, i64) {
    use backend::calls::{CallPolicy, CallTimer, Calls};
    let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let policy = CallPolicy {
        allow_private_networks: true,
        timeout: Duration::from_secs(10),
        max_body_bytes: 1 << 20,
        max_attempts: 5,
        first_backoff: Duration::from_secs(1),
    };
    let calls = Arc::new(Calls::new(db.clone(), Arc::new(backend::vault::Vault::with_key([3; 32])), policy));
    let timers = Arc::new(backend::events::TimerWorker::new(db.clone(), vec![Arc::new(CallTimer(calls.clone()))]));
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(timers.run(Duration::from_secs(1), async move {
        let _ = stop_rx.await;
    }));
    let mut ids = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for i in 0..200 {
        tick.tick().await;
        let input = types::CallInput {
            method: "POST".into(),
            url: url.clone(),
            body: "{}".into(),
            idempotency_key: format!("bench-{i}-{}", uuid::Uuid::new_v4()),
            ..Default::default()
        };
        ids.push(calls.submit(None, "bench", &input).await.unwrap().call.id);
    }
    let mut latencies = Vec::new();
    for id in &ids {
        loop {
            let call = calls.detail(id).await.unwrap().call;
            if let Some(done) = call.completed_at {
                latencies.push(done - call.created_at);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    stop.send(()).unwrap();
    worker.await.unwrap();
    (percentile(&mut latencies.clone(), 0.5), percentile(&mut latencies, 0.95))
}

fn percentile(values: &mut [i64], p: f64) -> i64 {
    values.sort_unstable();
    values.get(((values.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("usage: events_bench <database-url> [events] [nats-url]");
    let n: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(20_000);
    let nats = args.get(3).filter(|s| !s.is_empty());
    let db = Db::connect(&SecretString::from(url.clone()), 16).await.unwrap();
    db.migrate().await.unwrap();

    let append_rate = append_many(&db, n, "backlog").await;
    let consumer = noop("bench-noop");
    let dispatcher = Dispatcher::new(db.clone(), vec![consumer.clone()], RetryPolicy::default());
    let started = Instant::now();
    let drained = dispatcher.drain().await.unwrap();
    let drain_rate = drained as f64 / started.elapsed().as_secs_f64();
    assert_eq!(consumer.handled.load(Ordering::Relaxed), n);

    // Live: 500 events/s offered for a few seconds while the dispatcher runs.
    let live = noop("bench-live");
    let dispatcher = Arc::new(Dispatcher::new(db.clone(), vec![live.clone()], RetryPolicy::default()));
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(dispatcher.run(Duration::from_millis(500), async move {
        let _ = stop_rx.await;
    }));
    let live_events = 1500;
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    for i in 0..live_events {
        tick.tick().await;
        append(&db, &format!("live-{}", i % 50)).await;
    }
    while live.handled.load(Ordering::Relaxed) < live_events {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    runner.await.unwrap();
    let mut delays = live.delays_ms.lock().unwrap().clone();
    let (p50, p95) = (percentile(&mut delays, 0.5), percentile(&mut delays, 0.95));

    let mut result = serde_json::json!({
        "events": n,
        "append_per_s": append_rate.round(),
        "embedded_drain_per_s": drain_rate.round(),
        "embedded_live_commit_to_handled_p50_ms": p50,
        "embedded_live_commit_to_handled_p95_ms": p95,
    });

    let (submit_p50, submit_p95) = calls_latency(&db).await;
    result["call_submit_to_succeeded_p50_ms"] = submit_p50.into();
    result["call_submit_to_succeeded_p95_ms"] = submit_p95.into();

    if let Some(nats) = nats {
        let stream = format!("BENCH{}", uuid::Uuid::new_v4().simple());
        let bus = events::jetstream::JetStream::connect(nats, &stream).await.unwrap();
        append_many(&db, n, "js").await;
        let started = Instant::now();
        let published = bus.publish_pending(&db).await.unwrap();
        let publish_rate = published as f64 / started.elapsed().as_secs_f64();
        let js_consumer = noop(&format!("bench-js-{stream}"));
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let started = Instant::now();
        let task = tokio::spawn(bus.clone().run_consumer(
            db.clone(),
            js_consumer.clone(),
            RetryPolicy::default(),
            async move {
                let _ = stop_rx.await;
            },
        ));
        // The stream holds this round's events plus the embedded rounds' (published above too).
        while js_consumer.handled.load(Ordering::Relaxed) < published {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let consume_rate = published as f64 / started.elapsed().as_secs_f64();
        stop.send(()).unwrap();
        task.await.unwrap();
        bus.delete_stream().await.unwrap();
        result["jetstream_publish_per_s"] = publish_rate.round().into();
        result["jetstream_consume_per_s"] = consume_rate.round().into();
        result["jetstream_events"] = published.into();
    }
    db.close().await;
    println!("{result}");
}
