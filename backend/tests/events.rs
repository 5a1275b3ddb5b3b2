//! The embedded dispatcher on SQLite and PostgreSQL: order, exactly-once effect per
//! consumer across redelivery, retries with backoff, dead letters.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backend::db::{with_pool, Db};
use backend::db_test;
use backend::events::{self, dispatch, Consumer, Dispatcher, Event, RetryPolicy};
use types::events::Envelope;

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

    fn wants(&self, event_type: &str) -> bool {
        event_type.starts_with("Test")
    }

    async fn handle(&self, event: &Envelope) -> Result<(), String> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if self.failures == u32::MAX || attempt <= self.failures {
            return Err(format!("attempt {attempt} failed"));
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
        event_type,
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
    assert!(dispatch::dead_letters(db).await.unwrap().is_empty());
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
    let parked = dispatch::dead_letters(db).await.unwrap();
    assert_eq!(parked.len(), 2);
    let errors: Vec<&str> = parked.iter().map(|(_, _, _, error)| error.as_str()).collect();
    assert_eq!(errors, ["attempt 3 failed", "attempt 6 failed"], "the last error of each event is kept");
    assert!(parked.iter().all(|(consumer, _, attempts, _)| consumer == "broken" && *attempts == 3));
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
