//! The outbound-call executor against a real local HTTP server, on SQLite and
//! PostgreSQL: exactly-once execution, scheduling across a restart, idempotent submits,
//! retries, the delivery log's filters and pages, the SSRF guard and bad input.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use axum::Router;
use backend::calls::{CallFilter, CallPolicy, CallTimer, Calls};
use backend::db::{with_pool, Db};
use backend::db_test;
use backend::events::{outbox, TimerWorker};
use backend::time::now_millis;
use backend::vault::Vault;
use types::events::EventType;
use types::{CallId, CallInput, CallStatus};

/// Requests the target received, by path, with the headers of the last one.
#[derive(Clone, Default)]
struct Target {
    hits: Arc<Mutex<HashMap<String, u32>>>,
    last_headers: Arc<Mutex<HashMap<String, String>>>,
}

impl Target {
    fn hits(&self, path: &str) -> u32 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn respond(State(target): State<Target>, Path(path): Path<String>, headers: HeaderMap) -> (StatusCode, String) {
    let hit = {
        let mut hits = target.hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    *target.last_headers.lock().unwrap() =
        headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    match path.as_str() {
        "missing" => (StatusCode::NOT_FOUND, "no such thing".into()),
        "down-once" if hit == 1 => (StatusCode::SERVICE_UNAVAILABLE, "try later".into()),
        "always-down" => (StatusCode::BAD_GATEWAY, "bad gateway".into()),
        "big" => (StatusCode::OK, "x".repeat(100_000)),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            (StatusCode::OK, "late".into())
        }
        _ => (StatusCode::OK, format!("ok {path}")),
    }
}

/// Starts the target on a free loopback port; returns its base URL.
async fn start_target() -> (Target, String) {
    let target = Target::default();
    let app = Router::new().route("/{*path}", any(respond)).with_state(target.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (target, base)
}

fn policy() -> CallPolicy {
    CallPolicy {
        allow_private_networks: true,
        timeout: Duration::from_secs(1),
        max_body_bytes: 1024,
        max_attempts: 3,
        first_backoff: Duration::from_millis(50),
    }
}

fn executor(db: &Db, policy: CallPolicy) -> (Arc<Calls>, Arc<TimerWorker>) {
    let calls = Arc::new(Calls::new(db.clone(), Arc::new(Vault::with_key([9; 32])), policy));
    let timers = Arc::new(TimerWorker::new(db.clone(), vec![Arc::new(CallTimer(calls.clone()))]));
    (calls, timers)
}

fn post(url: String, key: &str) -> CallInput {
    CallInput {
        method: "POST".into(),
        url,
        body: "{\"hello\":1}".into(),
        idempotency_key: key.into(),
        ..Default::default()
    }
}

/// Runs the timer worker until `done` or ten seconds pass (a bound for a hung worker,
/// not a speed claim: latency is measured in bench/).
async fn run_until(timers: &Arc<TimerWorker>, mut done: impl AsyncFnMut() -> bool) {
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(timers.clone().run(Duration::from_millis(20), async move {
        let _ = rx.await;
    }));
    for _ in 0..1000 {
        if done().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    task.await.unwrap();
}

async fn status(calls: &Calls, id: &CallId) -> CallStatus {
    calls.detail(id).await.unwrap().call.status
}

async fn call_events(db: &Db, id: &str) -> Vec<String> {
    outbox::events_for(db, "call", id).await.unwrap().into_iter().map(|e| e.event_type.to_string()).collect()
}

async fn stored_calls(db: &Db) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM calls").fetch_one(pool).await).unwrap()
}

db_test!(a_call_submitted_now_runs_exactly_once_and_is_logged, |db| {
    let (target, base) = start_target().await;
    let (calls, timers) = executor(db, policy());
    let mut input = post(format!("{base}/hook"), "once");
    input.headers.insert("Authorization".into(), "Bearer s3cret-token".into());
    input.headers.insert("content-type".into(), "application/json".into());
    let submitted = calls.submit(Some("admin"), "api", &input).await.unwrap();
    assert!(submitted.created);
    let id = submitted.call.id.clone();
    assert_eq!(submitted.call.headers["authorization"], "[redacted]", "credentials never shown");
    run_until(&timers, async || status(&calls, &id).await == CallStatus::Succeeded).await;
    // Firing the timers again (at-least-once) must not call twice.
    timers.fire_due().await.unwrap();
    calls.attempt(&id).await.unwrap();
    assert_eq!(target.hits("hook"), 1);
    let sent = target.last_headers.lock().unwrap().clone();
    assert_eq!(sent["authorization"], "Bearer s3cret-token", "the sealed credential is sent");
    assert_eq!(sent["idempotency-key"], id, "the receiver can deduplicate by call id");
    let detail = calls.detail(&id).await.unwrap();
    assert_eq!(detail.call.status, CallStatus::Succeeded);
    assert_eq!(detail.call.last_status_code, Some(200));
    assert_eq!(detail.attempts.len(), 1);
    assert_eq!(detail.attempts[0].response_snippet, "ok hook");
    assert!(detail.attempts[0].latency_ms >= 0);
    assert_eq!(call_events(db, &id).await, ["CallSubmitted", "CallAttempted", "CallSucceeded"]);
    let text_of = |sql: &'static str| async move {
        with_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql).fetch_one(pool).await).unwrap()
    };
    let stored = text_of("SELECT headers || COALESCE(sealed_headers, '') FROM calls").await;
    assert!(!stored.contains("s3cret-token"), "the credential is not stored in clear: {stored}");
    let logged = text_of("SELECT payload FROM outbox WHERE event_type = 'CallSubmitted'").await;
    assert!(!logged.contains("s3cret-token"), "nor in the event");
});

db_test!(failures_are_final_for_4xx_and_retried_for_5xx, |db| {
    let (target, base) = start_target().await;
    let (calls, timers) = executor(db, policy());
    let missing = calls.submit(None, "api", &post(format!("{base}/missing"), "m")).await.unwrap().call.id;
    let flaky = calls.submit(None, "api", &post(format!("{base}/down-once"), "d")).await.unwrap().call.id;
    let down = calls.submit(None, "api", &post(format!("{base}/always-down"), "a")).await.unwrap().call.id;
    let big = calls.submit(None, "api", &post(format!("{base}/big"), "b")).await.unwrap().call.id;
    let slow = calls.submit(None, "api", &post(format!("{base}/slow"), "s")).await.unwrap().call.id;
    let finished = async || {
        let mut all = true;
        for id in [&missing, &flaky, &down, &big, &slow] {
            all &= matches!(status(&calls, id).await, CallStatus::Succeeded | CallStatus::Failed);
        }
        all
    };
    run_until(&timers, finished).await;
    let missing = calls.detail(&missing).await.unwrap();
    assert_eq!((missing.call.status, missing.call.attempts), (CallStatus::Failed, 1), "4xx is not retried");
    assert_eq!(missing.attempts[0].response_snippet, "no such thing");
    assert_eq!(call_events(db, &missing.call.id).await, ["CallSubmitted", "CallAttempted", "CallFailed"]);
    let flaky = calls.detail(&flaky).await.unwrap();
    assert_eq!((flaky.call.status, flaky.call.attempts), (CallStatus::Succeeded, 2), "503 then 200");
    assert_eq!(flaky.attempts[0].status_code, Some(503));
    assert_eq!(target.hits("down-once"), 2);
    let down = calls.detail(&down).await.unwrap();
    assert_eq!((down.call.status, down.call.attempts), (CallStatus::Failed, 3), "5xx retried up to the limit");
    assert_eq!(target.hits("always-down"), 3);
    let big = calls.detail(&big).await.unwrap();
    assert_eq!(big.attempts[0].response_snippet.len(), 8 * 1024, "the snippet keeps 8 KB");
    let slow = calls.detail(&slow).await.unwrap();
    assert_eq!(slow.call.status, CallStatus::Failed);
    assert_eq!(slow.call.attempts, 3, "timeouts are retried");
    assert!(slow.attempts.iter().all(|a| a.status_code.is_none() && a.error.is_some()));
});

db_test!(a_scheduled_call_fires_after_its_due_time_across_a_restart_and_never_twice, |db| {
    let (target, base) = start_target().await;
    let (calls, timers) = executor(db, policy());
    let mut input = post(format!("{base}/later"), "later");
    input.due_at = Some(now_millis() + 1500);
    let id = calls.submit(None, "api", &input).await.unwrap().call.id;
    assert_eq!(timers.fire_due().await.unwrap(), 0, "not due yet");
    assert_eq!(status(&calls, &id).await, CallStatus::Scheduled);
    drop((calls, timers)); // the process stops before the call is due

    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (calls, timers) = executor(db, policy()); // and starts again after it
    run_until(&timers, async || status(&calls, &id).await == CallStatus::Succeeded).await;
    let detail = calls.detail(&id).await.unwrap();
    assert!(detail.attempts[0].started_at >= input.due_at.unwrap(), "not before its due time");
    // A second replica's worker scanning afterwards finds nothing to do.
    let (_, other_replica) = executor(db, policy());
    assert_eq!(other_replica.fire_due().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(target.hits("later"), 1);
});

db_test!(replaying_a_submit_returns_the_same_call_and_adds_nothing, |db| {
    let (calls, _) = executor(db, policy());
    let input = post("http://127.0.0.1:9/x".into(), "same-key");
    let first = calls.submit(None, "api", &input).await.unwrap();
    let events_before = outbox::count(db).await.unwrap();
    let again = calls.submit(None, "api", &input).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.call.id, again.call.id);
    assert_eq!(outbox::count(db).await.unwrap(), events_before, "no second CallSubmitted");
    assert_eq!(stored_calls(db).await, 1);
    let mut different = input.clone();
    different.body = "other".into();
    let err = calls.submit(None, "api", &different).await.unwrap_err();
    assert!(matches!(err, backend::Error::Conflict(_)), "{err:?}");
    // Concurrent replays race to one call.
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let calls = calls.clone();
            tokio::spawn(async move {
                calls.submit(None, "api", &post("http://127.0.0.1:9/y".into(), "raced")).await.unwrap().call.id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for racer in racers {
        ids.push(racer.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one call for one key");
    assert_eq!(stored_calls(db).await, 2);
});

db_test!(the_delivery_log_filters_by_status_target_and_date_with_keyset_pages, |db| {
    let (_, base) = start_target().await;
    let (calls, timers) = executor(db, policy());
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(calls.submit(None, "api", &post(format!("{base}/ok{i}"), &format!("k{i}"))).await.unwrap().call.id);
    }
    let failing = calls.submit(None, "api", &post(format!("{base}/missing"), "f")).await.unwrap().call.id;
    let elsewhere = calls.submit(None, "api", &post("http://127.0.0.2:9/x".into(), "e")).await.unwrap().call.id;
    run_until(&timers, async || {
        status(&calls, &failing).await == CallStatus::Failed && status(&calls, &ids[4]).await == CallStatus::Succeeded
    })
    .await;

    let by_status = |status: &str| CallFilter { status: Some(status.into()), ..Default::default() };
    let failed: Vec<CallId> = calls.list(&by_status("failed")).await.unwrap().items.into_iter().map(|c| c.id).collect();
    assert!(failed.contains(&failing) && !failed.contains(&ids[0]));
    let target = base.trim_start_matches("http://").to_string();
    let here = calls.list(&CallFilter { target: Some(target.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(here.items.len(), 6);
    assert!(here.items.iter().all(|c| c.target == target) && !here.items.iter().any(|c| c.id == elsewhere));

    // Pages of two, newest first, cover all seven exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            calls.list(&CallFilter { limit: Some(2), cursor: cursor.clone(), ..Default::default() }).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|c| (c.created_at, c.id.clone())));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");

    let first = calls.detail(&ids[0]).await.unwrap().call.created_at;
    let none_before = CallFilter { to: Some(first), ..Default::default() };
    assert!(calls.list(&none_before).await.unwrap().items.is_empty());
    let from_first = CallFilter { from: Some(first), ..Default::default() };
    assert_eq!(calls.list(&from_first).await.unwrap().items.len(), 7);
    let future = CallFilter { from: Some(now_millis() + 60_000), ..Default::default() };
    assert!(calls.list(&future).await.unwrap().items.is_empty());

    for bad in [
        CallFilter { status: Some("done".into()), ..Default::default() },
        CallFilter { limit: Some(0), ..Default::default() },
        CallFilter { cursor: Some("garbage".into()), ..Default::default() },
        CallFilter { from: Some(10), to: Some(5), ..Default::default() },
    ] {
        assert!(matches!(calls.list(&bad).await, Err(backend::Error::Invalid(_))), "{bad:?}");
    }
});

db_test!(bad_calls_are_refused_with_a_reason_and_store_nothing, |db| {
    let strict = CallPolicy { allow_private_networks: false, ..policy() };
    let (calls, _) = executor(db, strict);
    let field_of = |err: backend::Error| match err {
        backend::Error::Invalid(fields) => {
            fields.into_iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>()
        }
        other => panic!("expected invalid input, got {other:?}"),
    };
    let cases: Vec<(CallInput, &str)> = vec![
        (post("not a url".into(), "1"), "url: is not a valid URL"),
        (post("ftp://example.com/x".into(), "2"), "url: must start with http"),
        (post("http://user:pw@example.com/".into(), "3"), "url: must not contain credentials"),
        (post("http://127.0.0.1:8080/admin".into(), "4"), "url: 127.0.0.1 is a loopback"),
        (post("http://169.254.169.254/latest/meta-data".into(), "5"), "url: 169.254.169.254 is a loopback"),
        (post("http://localhost/".into(), "6"), "url: `localhost` is this machine"),
        (post("http://[::1]/".into(), "7"), "url: ::1 is a loopback"),
        (
            CallInput { body: "x".repeat(1025), ..post("https://example.com/".into(), "8") },
            "body: is 1025 bytes; the limit is 1024 bytes",
        ),
        (CallInput { method: "TRACE".into(), ..post("https://example.com/".into(), "9") }, "method: must be one of"),
        (post("https://example.com/".into(), "  "), "idempotency_key: is required"),
        (
            CallInput {
                due_at: Some(now_millis() + 400 * 24 * 3600 * 1000),
                ..post("https://example.com/".into(), "10")
            },
            "due_at: must be within a year",
        ),
    ];
    for (input, expected) in cases {
        let problems = field_of(calls.submit(None, "api", &input).await.unwrap_err());
        assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected:?} not in {problems:?}");
    }
    let mut cookie = post("https://example.com/".into(), "11");
    cookie.headers.insert("Cookie".into(), "session=abc".into());
    let problems = field_of(calls.submit(None, "api", &cookie).await.unwrap_err());
    assert!(problems[0].contains("`cookie` is not an allowed header"), "{problems:?}");
    assert_eq!(stored_calls(db).await, 0, "nothing stored");
    assert_eq!(outbox::count(db).await.unwrap(), 0, "no event");

    // A due time in the past is not an error: the call runs now.
    let mut late = post("https://example.com/".into(), "late");
    late.due_at = Some(now_millis() - 60_000);
    let submitted = calls.submit(None, "api", &late).await.unwrap();
    assert!(submitted.call.due_at >= now_millis() - 1000);
});

db_test!(the_resolver_refuses_names_that_lead_to_private_addresses_at_connect_time, |db| {
    // `127.0.0.1.nip.io`-style names need DNS; /etc/hosts gives `localhost` a loopback
    // address that must be refused by the resolver too, had the URL check missed it.
    let (target, base) = start_target().await;
    let port = base.rsplit(':').next().unwrap();
    let strict = CallPolicy { allow_private_networks: false, ..policy() };
    let (calls, timers) = executor(db, strict);
    // Submitted under the permissive policy (as if the name resolved publicly then)…
    let (permissive, _) = executor(db, policy());
    let id =
        permissive.submit(None, "api", &post(format!("http://localhost:{port}/sneaky"), "dns")).await.unwrap().call.id;
    // …and attempted by a strict worker.
    let _ = timers;
    calls.attempt(&id).await.unwrap();
    let detail = calls.detail(&id).await.unwrap();
    assert_eq!(detail.call.status, CallStatus::Failed);
    assert_eq!(detail.call.attempts, 1, "a refused address is not retried");
    assert!(detail.call.last_error.unwrap().contains("private or reserved"));
    assert_eq!(target.hits("sneaky"), 0);
});

db_test!(webhooks_receive_matching_events_signed_once_each, |db| {
    use backend::calls::webhooks::{signature, WebhookConsumer, Webhooks};
    use backend::events::{Dispatcher, RetryPolicy};
    let (target, base) = start_target().await;
    let (calls, timers) = executor(db, policy());
    let vault = Arc::new(Vault::with_key([9; 32]));
    let webhooks = Arc::new(Webhooks::new(db.clone(), vault, calls.clone()));
    use backend::identity::{NewUser, Role};
    let admin = backend::identity::repo::insert(db, &NewUser::new("admin@example.org", "Admin", Role::Admin).unwrap())
        .await
        .unwrap()
        .id;
    let input = types::WebhookInput {
        url: format!("{base}/hook"),
        event_types: vec!["LegacyCreated".into()],
        description: "test".into(),
    };
    let created = webhooks.create(&admin, &input).await.unwrap();
    assert!(created.secret.starts_with("whsec_"));
    for bad in [
        types::WebhookInput { event_types: vec![], ..input.clone() },
        types::WebhookInput { event_types: vec!["no spaces".into()], ..input.clone() },
        types::WebhookInput { url: "gopher://x".into(), ..input.clone() },
    ] {
        assert!(matches!(webhooks.create(&admin, &bad).await, Err(backend::Error::Invalid(_))), "{bad:?}");
    }
    // A type this version does not know is refused by name, with the ones it knows.
    let unknown = types::WebhookInput { event_types: vec!["TestHappened".into(), "*".into()], ..input.clone() };
    match webhooks.create(&admin, &unknown).await {
        Err(backend::Error::Invalid(fields)) => {
            assert_eq!(fields.len(), 1, "{fields:?}");
            assert_eq!(fields[0].field, "event_types");
            assert!(fields[0].message.starts_with("`TestHappened` is not an event type"), "{}", fields[0].message);
            assert!(fields[0].message.contains("LegacyCreated, LegacyUpdated"), "{}", fields[0].message);
        }
        other => panic!("an unknown event type was accepted: {other:?}"),
    }
    assert_eq!(webhooks.list().await.unwrap().len(), 1);

    for event_type in [EventType::LegacyCreated, EventType::MemberAdded] {
        let mut tx = db.begin().await.unwrap();
        let event = backend::events::Event {
            aggregate_type: "test",
            aggregate_id: "t1",
            event_type,
            actor: None,
            payload: serde_json::json!({ "n": 1 }),
        };
        backend::events::append(&mut tx, event).await.unwrap();
        tx.commit().await.unwrap();
    }
    let consumer = Arc::new(WebhookConsumer(webhooks.clone()));
    let dispatcher = Dispatcher::new(db.clone(), vec![consumer.clone()], RetryPolicy::default());
    dispatcher.drain().await.unwrap();
    let sent = calls.list(&CallFilter::default()).await.unwrap().items;
    assert_eq!(sent.len(), 1, "only the subscribed type");
    run_until(&timers, async || target.hits("hook") == 1).await;
    let headers = target.last_headers.lock().unwrap().clone();
    assert_eq!(headers["x-heirloom-event"], "LegacyCreated");
    let delivery = calls.detail(&sent[0].id).await.unwrap();
    let timestamp: i64 = headers["x-heirloom-signature"].split(',').next().unwrap()[2..].parse().unwrap();
    assert_eq!(headers["x-heirloom-signature"], signature(&created.secret, timestamp, &delivery.body));
    assert_ne!(headers["x-heirloom-signature"], signature("whsec_wrong", timestamp, &delivery.body));

    // The delivery records what set it off (the event, outside any request, began its own
    // correlation), and its chain runs from that event through the call's own events.
    let cause = outbox::events_for(db, "test", "t1").await.unwrap().remove(0);
    assert_eq!(delivery.call.causation_id.as_deref(), Some(cause.message_id.as_str()));
    assert_eq!(delivery.call.correlation_id.as_deref(), Some(cause.message_id.as_str()));
    let chain = delivery.chain.expect("a recorded chain");
    assert_eq!(chain.request_id, None, "no request began it");
    let steps: Vec<(String, u32)> = chain.events.iter().take(2).map(|e| (e.event_type.to_string(), e.depth)).collect();
    assert_eq!(steps, [("LegacyCreated".to_string(), 0), ("CallSubmitted".to_string(), 1)]);

    // A redelivered event makes no second delivery.
    let event = outbox::events_for(db, "test", "t1").await.unwrap().remove(0);
    use backend::events::Consumer;
    consumer.handle(&event).await.unwrap();
    assert_eq!(calls.list(&CallFilter::default()).await.unwrap().items.len(), 1);

    webhooks.delete(&created.webhook.id).await.unwrap();
    assert!(webhooks.delete(&created.webhook.id).await.is_err());
});
