//! The embedded dispatcher on SQLite and PostgreSQL: order, exactly-once effect per
//! consumer across redelivery, retries with backoff, dead letters.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backend::db::{with_pool, Db};
use backend::db_test;
use backend::events::{self, consumer, Consumer, Dispatcher, Event, RetryPolicy};
use types::events::{Envelope, EventType};

/// Records what it handled; fails the first `failures` attempts of every event (all of
/// them when `failures` is `u32::MAX`).
struct Recorder {
    name: &'static str,
    handled: Mutex<Vec<(String, i64)>>,
    failures: u32,
    attempts: AtomicU32,
}

impl Recorder {
    fn new(name: &'static str, failures: u32) -> Arc<Recorder> {
        Arc::new(Recorder { name, handled: Mutex::new(Vec::new()), failures, attempts: AtomicU32::new(0) })
    }

    fn handled(&self) -> Vec<(String, i64)> {
        self.handled.lock().unwrap().clone()
    }
}

#[async_trait]
impl Consumer for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str().starts_with("Test")
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if self.failures == u32::MAX || attempt <= self.failures {
            return Err(backend::Error::Unavailable(format!("attempt {attempt} failed")));
        }
        self.handled.lock().unwrap().push((event.aggregate_id.clone(), event.aggregate_seq));
        Ok(())
    }
}

async fn write(db: &Db, aggregate: &str, event_type: &str) {
    let mut tx = db.begin().await.unwrap();
    let event = Event {
        aggregate_type: "test",
        aggregate_id: aggregate,
        // Test types stand for any type: this version does not know them, as it would not
        // know one a newer version wrote.
        event_type: EventType::parse(event_type),
        actor: None,
        payload: serde_json::json!({}),
    };
    events::append(&mut tx, event).await.unwrap();
    tx.commit().await.unwrap();
}

fn quick() -> RetryPolicy {
    RetryPolicy { attempts: 5, first_backoff: Duration::from_millis(1) }
}

db_test!(events_reach_each_consumer_in_order_once, |db| {
    for (aggregate, kind) in [("a", "TestCreated"), ("b", "TestCreated"), ("a", "TestUpdated"), ("a", "Other")] {
        write(db, aggregate, kind).await;
    }
    let index = Recorder::new("index", 0);
    let notify = Recorder::new("notify", 0);
    let dispatcher = Dispatcher::new(db.clone(), vec![index.clone(), notify.clone()], quick());
    assert_eq!(dispatcher.drain().await.unwrap(), 4);
    let expected = vec![("a".to_string(), 1), ("b".to_string(), 1), ("a".to_string(), 2)];
    assert_eq!(index.handled(), expected);
    assert_eq!(notify.handled(), expected);
    assert_eq!(dispatcher.drain().await.unwrap(), 0, "nothing left to publish");
    assert!(events::outbox::unpublished(db, 10).await.unwrap().is_empty());
});

db_test!(redelivery_after_a_crash_has_no_second_effect, |db| {
    write(db, "a", "TestCreated").await;
    write(db, "a", "TestUpdated").await;
    let index = Recorder::new("index", 0);
    let dispatcher = Dispatcher::new(db.clone(), vec![index.clone()], quick());
    dispatcher.drain().await.unwrap();
    // As if the process died after the consumer ran but before the rows were marked.
    with_pool!(db, |pool| sqlx::query("UPDATE outbox SET published_at = NULL").execute(pool).await.map(|_| ()))
        .unwrap();
    let restarted = Dispatcher::new(db.clone(), vec![index.clone()], quick());
    assert_eq!(restarted.drain().await.unwrap(), 2, "the events are published again");
    assert_eq!(index.handled().len(), 2, "but the consumer saw each once");
});

db_test!(a_consumer_that_fails_three_times_then_succeeds_handles_the_event_once, |db| {
    write(db, "a", "TestCreated").await;
    let flaky = Recorder::new("flaky", 3);
    let dispatcher = Dispatcher::new(db.clone(), vec![flaky.clone()], quick());
    dispatcher.drain().await.unwrap();
    assert_eq!(flaky.attempts.load(Ordering::SeqCst), 4);
    assert_eq!(flaky.handled().len(), 1);
    assert!(consumer::dead_letters(db).await.unwrap().is_empty());
});

db_test!(a_consumer_that_always_fails_parks_the_event_and_others_go_on, |db| {
    write(db, "a", "TestCreated").await;
    write(db, "b", "TestCreated").await;
    let broken = Recorder::new("broken", u32::MAX);
    let healthy = Recorder::new("healthy", 0);
    let dispatcher = Dispatcher::new(
        db.clone(),
        vec![broken.clone(), healthy.clone()],
        RetryPolicy { attempts: 3, first_backoff: Duration::from_millis(1) },
    );
    assert_eq!(dispatcher.drain().await.unwrap(), 2);
    assert_eq!(broken.attempts.load(Ordering::SeqCst), 6, "3 attempts per event");
    assert_eq!(healthy.handled().len(), 2);
    let parked = consumer::dead_letters(db).await.unwrap();
    assert_eq!(parked.len(), 2);
    let mut errors: Vec<&str> = parked.iter().map(|dead| dead.last_error.as_str()).collect();
    errors.sort();
    assert_eq!(errors, ["attempt 3 failed", "attempt 6 failed"], "the last error of each event is kept");
    assert!(parked
        .iter()
        .all(|dead| dead.consumer == "broken" && dead.attempts == 3 && dead.event_type == "TestCreated"));

    // Discarding keeps the event processed (never redelivered); retrying hands it over again.
    let (first, second) = (&parked[0], &parked[1]);
    consumer::remove_dead_letter(db, "broken", &first.message_id).await.unwrap();
    assert!(consumer::remove_dead_letter(db, "broken", &first.message_id).await.is_err(), "already gone");
    let fixed = Recorder::new("broken", 0);
    let event = consumer::take_dead_letter(db, "broken", &second.message_id).await.unwrap();
    let delivered = consumer::deliver(db, fixed.as_ref(), &event, quick()).await.unwrap();
    assert_eq!(delivered, events::Delivered::Handled);
    assert_eq!(fixed.handled().len(), 1);
    assert!(consumer::dead_letters(db).await.unwrap().is_empty());
    assert_eq!(dispatcher.drain().await.unwrap(), 0, "nothing is redelivered");
    let checkpoints = consumer::checkpoints(db).await.unwrap();
    let broken_checkpoint = checkpoints.iter().find(|c| c.0 == "broken").expect("checkpoint recorded");
    assert_eq!(broken_checkpoint.1, second.message_id, "the checkpoint names the last handled event");
});

db_test!(the_run_loop_delivers_new_events_until_stopped, |db| {
    let index = Recorder::new("index", 0);
    let dispatcher = Arc::new(Dispatcher::new(db.clone(), vec![index.clone()], quick()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(dispatcher.run(Duration::from_millis(20), async move {
        let _ = stop_rx.await;
    }));
    write(db, "late", "TestCreated").await;
    for _ in 0..200 {
        if !index.handled().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(index.handled(), vec![("late".to_string(), 1)]);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
});

/// Takes a little while over each event and tells when it has handled one.
struct Unhurried {
    handled: Mutex<Vec<String>>,
    first: tokio::sync::Notify,
}

#[async_trait]
impl Consumer for Unhurried {
    fn name(&self) -> &str {
        "slow"
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str().starts_with("Test")
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.handled.lock().unwrap().push(event.message_id.clone());
        self.first.notify_one();
        Ok(())
    }
}

db_test!(stopping_waits_for_the_batch_in_hand_not_the_whole_backlog, |db| {
    for n in 0..250 {
        write(db, &format!("backlog-{n}"), "TestCreated").await;
    }
    let slow = Arc::new(Unhurried { handled: Mutex::new(Vec::new()), first: tokio::sync::Notify::new() });
    let dispatcher = Arc::new(Dispatcher::new(db.clone(), vec![slow.clone()], quick()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(dispatcher.clone().run(Duration::from_secs(60), async move {
        let _ = stop_rx.await;
    }));
    slow.first.notified().await;
    stop_tx.send(()).unwrap();
    task.await.unwrap();
    let handled_before_stop = slow.handled.lock().unwrap().len();
    assert_eq!(handled_before_stop, 100, "the batch in hand (100 events) is finished, and no more");
    assert_eq!(events::outbox::unpublished_count(db).await.unwrap(), 150, "the outbox keeps the rest");
    assert_eq!(dispatcher.drain().await.unwrap(), 150, "the next run delivers the rest");
    let mut handled = slow.handled.lock().unwrap().clone();
    handled.sort();
    handled.dedup();
    assert_eq!(handled.len(), 250, "each event handled once");
});

/// Counts how often each event was handled, across every instance sharing `counts`.
struct Counter {
    name: String,
    counts: Arc<Mutex<std::collections::HashMap<String, u32>>>,
}

#[async_trait]
impl Consumer for Counter {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str().starts_with("Test")
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        *self.counts.lock().unwrap().entry(event.message_id.clone()).or_default() += 1;
        Ok(())
    }
}

/// A JetStream publisher and consumer instances (as replicas run them) until `stop`.
struct JetStreamWorkers {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl JetStreamWorkers {
    fn start(bus: &events::jetstream::JetStream, db: &Db, instances: Vec<Arc<dyn Consumer>>) -> JetStreamWorkers {
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let mut tasks = vec![tokio::spawn(bus.clone().run_publisher(
            db.clone(),
            Duration::from_millis(50),
            stopped(stop_rx.clone()),
        ))];
        for instance in instances {
            tasks.push(tokio::spawn(bus.clone().run_consumer(db.clone(), instance, quick(), stopped(stop_rx.clone()))));
        }
        JetStreamWorkers { stop, tasks }
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("worker stops").unwrap();
        }
    }
}

// Events written while no publisher ran (the process died between append and publish)
// reach JetStream once one starts; two replicas' instances of one durable consumer
// share the stream so every event is handled exactly once overall.
db_test!(jetstream_delivers_backlog_once_across_two_consumer_instances, |db| {
    let Some(url) = backend::testing::nats_url() else { return };
    let stream = format!("T{}", uuid::Uuid::new_v4().simple());
    let bus = events::jetstream::JetStream::connect(&url, &stream).await.expect("JetStream reachable");
    for i in 0..30 {
        write(db, &format!("agg-{}", i % 3), "TestCreated").await;
    }
    write(db, "other", "OtherThing").await;
    let counts = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let instance =
        || -> Arc<dyn Consumer> { Arc::new(Counter { name: format!("shared-{stream}"), counts: counts.clone() }) };
    let workers = JetStreamWorkers::start(&bus, db, vec![instance(), instance()]);
    for _ in 0..300 {
        if counts.lock().unwrap().len() == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Give a would-be duplicate time to show up before judging.
    tokio::time::sleep(Duration::from_millis(300)).await;
    workers.stop().await;
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.len(), 30, "every TestCreated event handled");
    assert!(counts.values().all(|n| *n == 1), "each event handled once: {counts:?}");
    assert_eq!(events::outbox::unpublished_count(db).await.unwrap(), 0, "the whole outbox was published");
    // Publishing again (another replica, or a restart) stores nothing twice.
    let with_pool_count =
        with_pool!(db, |pool| sqlx::query("UPDATE outbox SET published_at = NULL").execute(pool).await.map(|_| ()));
    with_pool_count.unwrap();
    assert_eq!(bus.stream_messages().await.unwrap(), 31);
    assert_eq!(bus.publish_pending(db).await.unwrap(), 31);
    assert_eq!(bus.stream_messages().await.unwrap(), 31, "JetStream dropped the duplicates by message id");
    bus.delete_stream().await.unwrap();
});

/// A consumer whose every handling takes `takes` (a transcode), counting the handlings.
struct Lengthy {
    name: String,
    takes: Duration,
    handlings: Arc<Mutex<usize>>,
}

#[async_trait]
impl Consumer for Lengthy {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str() == "TestTranscode"
    }

    async fn handle(&self, _event: &Envelope) -> backend::Result<()> {
        *self.handlings.lock().unwrap() += 1;
        tokio::time::sleep(self.takes).await;
        Ok(())
    }
}

// A handler working longer than the ack wait reports progress, so JetStream does not
// hand the event to the second instance meanwhile: it is handled once.
db_test!(jetstream_does_not_redeliver_an_event_still_being_handled, |db| {
    let Some(url) = backend::testing::nats_url() else { return };
    let stream = format!("T{}", uuid::Uuid::new_v4().simple());
    let ack_wait = Duration::from_secs(2);
    let bus = events::jetstream::JetStream::connect(&url, &stream)
        .await
        .expect("JetStream reachable")
        .with_ack_wait(ack_wait);
    write(db, "video", "TestTranscode").await;
    let handlings = Arc::new(Mutex::new(0));
    let instance = || -> Arc<dyn Consumer> {
        Arc::new(Lengthy { name: format!("lengthy-{stream}"), takes: ack_wait * 3, handlings: handlings.clone() })
    };
    let workers = JetStreamWorkers::start(&bus, db, vec![instance(), instance()]);
    // The handling takes 6 s; a redelivery would come 2 s after each unreported stretch.
    tokio::time::sleep(ack_wait * 5).await;
    workers.stop().await;
    assert_eq!(*handlings.lock().unwrap(), 1, "handled once, not redelivered while at work");
    bus.delete_stream().await.unwrap();
});

/// A consumer that takes as long as it is told to (a media transcode).
struct Slow {
    release: tokio::sync::Semaphore,
    handled: Mutex<Vec<String>>,
}

#[async_trait]
impl Consumer for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str() == "TestUploaded"
    }

    fn own_lane(&self) -> Option<&'static [EventType]> {
        static LANE: std::sync::OnceLock<[EventType; 1]> = std::sync::OnceLock::new();
        Some(LANE.get_or_init(|| [EventType::parse("TestUploaded")]))
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        self.release.acquire().await.map_err(|e| backend::Error::Unavailable(e.to_string()))?.forget();
        self.handled.lock().unwrap().push(event.message_id.clone());
        Ok(())
    }
}

db_test!(a_slow_consumer_in_its_own_lane_does_not_hold_up_the_others, |db| {
    let index = Recorder::new("index", 0);
    let slow = Arc::new(Slow { release: tokio::sync::Semaphore::new(0), handled: Mutex::new(Vec::new()) });
    let config = backend::testing::config(std::path::Path::new("/tmp"), "sqlite::memory:", "http://127.0.0.1:1", "");
    let consumers: Vec<Arc<dyn Consumer>> = vec![index.clone(), slow.clone()];
    let workers = events::runtime::Workers::start(db.clone(), &config, consumers, Vec::new(), quick()).await.unwrap();
    write(db, "video", "TestUploaded").await;
    write(db, "story", "TestCreated").await;
    // The slow consumer is stuck on the upload; the story still reaches the index.
    let mut seen = false;
    for _ in 0..500 {
        if index.handled().len() == 2 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen, "the shared lane went on: {:?}", index.handled());
    assert!(slow.handled.lock().unwrap().is_empty(), "the slow consumer has not finished");
    slow.release.add_permits(1);
    for _ in 0..500 {
        if slow.handled.lock().unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slow.handled.lock().unwrap().len(), 1, "the lane delivers once released");
    workers.shutdown().await;
});

/// A replica-local consumer counting what it handles (a search index of its own).
struct Local(Counter);

#[async_trait]
impl Consumer for Local {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn wants(&self, event_type: &EventType) -> bool {
        self.0.wants(event_type)
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        self.0.handle(event).await
    }

    fn per_replica(&self) -> bool {
        true
    }
}

// Durable consumers made by an older version (60 s ack wait) get the bus's shorter wait,
// so what a killed replica held comes back after 15 s; and a replica-local consumer is
// named after the replica's id, whatever the host is called (ADR 0017).
db_test!(jetstream_updates_an_old_ack_wait_and_names_local_consumers_after_the_replica, |db| {
    let Some(url) = backend::testing::nats_url() else { return };
    let stream = format!("T{}", uuid::Uuid::new_v4().simple());
    let counts = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let shared = || -> Arc<dyn Consumer> { Arc::new(Counter { name: "shared".into(), counts: counts.clone() }) };
    let local = || -> Arc<dyn Consumer> { Arc::new(Local(Counter { name: "local".into(), counts: counts.clone() })) };
    let handled = |n: usize| {
        let counts = counts.clone();
        async move {
            for _ in 0..500 {
                if counts.lock().unwrap().values().sum::<u32>() as usize >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("{n} handlings expected");
        }
    };
    let old = events::jetstream::JetStream::connect(&url, &stream)
        .await
        .expect("JetStream reachable")
        .with_ack_wait(Duration::from_secs(60));
    write(db, "a", "TestCreated").await;
    let workers = JetStreamWorkers::start(&old, db, vec![shared()]);
    handled(1).await;
    workers.stop().await;
    assert_eq!(old.consumer_ack_wait("shared").await.unwrap(), Duration::from_secs(60));

    let bus = events::jetstream::JetStream::connect(&url, &stream).await.unwrap().with_replica("web-7");
    write(db, "b", "TestCreated").await;
    let workers = JetStreamWorkers::start(&bus, db, vec![shared(), local()]);
    handled(4).await;
    // A delivery is recorded just after the consumer has handled it, and stopping may cut
    // in between (the event is then delivered again): wait for the records first.
    let mut recorded = 0;
    for _ in 0..250 {
        recorded = with_pool!(db, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM processed_events WHERE consumer = 'local-web-7'")
                .fetch_one(pool)
                .await
        })
        .unwrap();
        if recorded >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded, 2, "the local consumer's records are the replica's");
    workers.stop().await;
    assert_eq!(bus.consumer_ack_wait("shared").await.unwrap(), events::jetstream::ACK_WAIT, "updated");
    assert_eq!(bus.consumer_ack_wait("local-web-7").await.unwrap(), events::jetstream::ACK_WAIT);
    bus.delete_stream().await.unwrap();
});

/// Writes a `TestFollowed` event for every `TestCreated` it handles (a consumer whose
/// effect is another event, as the webhooks' calls are).
struct Follower {
    db: Db,
}

#[async_trait]
impl Consumer for Follower {
    fn name(&self) -> &str {
        "follower"
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str() == "TestCreated"
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        let mut tx = self.db.begin().await?;
        let followed = format!("{}-followed", event.aggregate_id);
        let follow = Event {
            aggregate_type: "test",
            aggregate_id: &followed,
            event_type: EventType::parse("TestFollowed"),
            actor: None,
            payload: serde_json::json!({}),
        };
        events::append(&mut tx, follow).await?;
        tx.commit().await
    }
}

db_test!(events_carry_the_correlation_and_cause_of_what_set_them_off, |db| {
    // A request's events: its id is their correlation, and nothing caused them but it.
    let request = events::Cause::request("req-chain-1").unwrap();
    events::cause::within(request, write(db, "a", "TestCreated")).await;
    // Nothing in scope (a timer, a worker): the event begins a correlation of its own.
    write(db, "b", "Other").await;
    let dispatcher = Dispatcher::new(db.clone(), vec![Arc::new(Follower { db: db.clone() })], quick());
    dispatcher.drain().await.unwrap();

    let created = events::outbox::events_for(db, "test", "a").await.unwrap().remove(0);
    assert_eq!((created.correlation_id.as_str(), created.causation_id.as_deref()), ("req-chain-1", None));
    let other = events::outbox::events_for(db, "test", "b").await.unwrap().remove(0);
    assert_eq!(other.correlation_id, other.message_id);
    assert_eq!(other.causation_id, None);
    // What a consumer writes is caused by the event it handled, in that event's correlation.
    let followed = events::outbox::events_for(db, "test", "a-followed").await.unwrap().remove(0);
    assert_eq!(followed.causation_id.as_deref(), Some(created.message_id.as_str()));
    assert_eq!(followed.correlation_id, "req-chain-1");

    let chain = events::chain(db, "req-chain-1").await.unwrap();
    assert_eq!(chain.request_id.as_deref(), Some("req-chain-1"));
    let steps: Vec<(String, u32)> = chain.events.iter().map(|e| (e.event_type.to_string(), e.depth)).collect();
    assert_eq!(steps, [("TestCreated".to_string(), 0), ("TestFollowed".to_string(), 1)]);
    assert_eq!(chain.events[1].causation_id.as_deref(), Some(chain.events[0].message_id.as_str()));
    let own = events::chain(db, &other.message_id).await.unwrap();
    assert_eq!(own.request_id, None, "a chain no request began names none");
    assert_eq!(own.events.len(), 1);
});

/// A recorder that wants what `wants` says: one known type, as the search indexer or
/// the media pipeline do, or everything, as a webhook for `*` does.
struct Choosy(Arc<Recorder>, fn(&EventType) -> bool);

#[async_trait]
impl Consumer for Choosy {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn wants(&self, event_type: &EventType) -> bool {
        (self.1)(event_type)
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        self.0.handle(event).await
    }
}

// An event of a type a newer version wrote (a rolling upgrade) neither stops the bus nor
// is lost: it keeps its name, a consumer of known types passes it by, one that wants
// everything gets it, and nothing is parked.
db_test!(an_event_of_a_type_this_version_does_not_know_flows_through, |db| {
    write(db, "n", "StoryArchived").await;
    let particular = Recorder::new("particular", 0);
    let everything = Recorder::new("everything", 0);
    let consumers: Vec<Arc<dyn Consumer>> = vec![
        Arc::new(Choosy(particular.clone(), |t| *t == EventType::StoryCreated)),
        Arc::new(Choosy(everything.clone(), |_| true)),
    ];
    let dispatcher = Dispatcher::new(db.clone(), consumers, quick());
    assert_eq!(dispatcher.drain().await.unwrap(), 1);
    assert!(particular.handled().is_empty());
    assert_eq!(everything.handled(), [("n".to_string(), 1)]);
    assert!(consumer::dead_letters(db).await.unwrap().is_empty());
    let read_back = events::outbox::events_for(db, "test", "n").await.unwrap().remove(0);
    assert_eq!(read_back.event_type, EventType::Unknown("StoryArchived".into()));
    let sent = serde_json::to_value(&read_back).unwrap();
    assert_eq!(sent["type"], "StoryArchived", "sent on under the name it was written with");
});

/// Takes events a batch at a time, like the search index; an event of the aggregate
/// `poison` fails both in a batch and alone.
#[derive(Default)]
struct Batcher {
    batches: Mutex<Vec<Vec<String>>>,
    singles: Mutex<Vec<String>>,
}

#[async_trait]
impl Consumer for Batcher {
    fn name(&self) -> &str {
        "batcher"
    }

    fn wants(&self, event_type: &EventType) -> bool {
        event_type.as_str().starts_with("Test")
    }

    async fn handle(&self, event: &Envelope) -> backend::Result<()> {
        if event.aggregate_id == "poison" {
            return Err(backend::Error::Unavailable("poison".into()));
        }
        self.singles.lock().unwrap().push(event.aggregate_id.clone());
        Ok(())
    }

    async fn handle_many(&self, events: &[&Envelope]) -> backend::Result<bool> {
        if events.iter().any(|e| e.aggregate_id == "poison") {
            return Err(backend::Error::Unavailable("poison in the batch".into()));
        }
        self.batches.lock().unwrap().push(events.iter().map(|e| e.aggregate_id.clone()).collect());
        Ok(true)
    }
}

db_test!(a_batching_consumer_gets_the_batch_at_once_and_a_failing_batch_one_event_at_a_time, |db| {
    for n in 0..5 {
        write(db, &format!("calm-{n}"), "TestCreated").await;
    }
    write(db, "skipped", "Other").await;
    let batcher = Arc::new(Batcher::default());
    let dispatcher = Dispatcher::new(db.clone(), vec![batcher.clone()], quick());
    assert_eq!(dispatcher.drain().await.unwrap(), 6);
    let calm: Vec<String> = (0..5).map(|n| format!("calm-{n}")).collect();
    assert_eq!(*batcher.batches.lock().unwrap(), vec![calm], "one call for the wanted events, in order");
    assert!(batcher.singles.lock().unwrap().is_empty());

    write(db, "before", "TestCreated").await;
    write(db, "poison", "TestCreated").await;
    write(db, "after", "TestCreated").await;
    assert_eq!(dispatcher.drain().await.unwrap(), 3);
    assert_eq!(batcher.batches.lock().unwrap().len(), 1, "the failed batch recorded nothing");
    assert_eq!(*batcher.singles.lock().unwrap(), ["before", "after"], "the others handled one by one");
    let parked = consumer::dead_letters(db).await.unwrap();
    assert_eq!(parked.len(), 1, "only the poison event is parked");
    assert_eq!(parked[0].last_error, "poison");
    assert_eq!(dispatcher.drain().await.unwrap(), 0, "every event is published");
});
